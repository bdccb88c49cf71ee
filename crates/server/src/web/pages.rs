//! The web version's sidebar pages: a workspace's environments and globals,
//! its header presets, history and runs, in the shapes the desktop app
//! answers (`model::variables`, `model::records`: the same functions), so
//! the same pages show them. Each is one read of the workspace from `/v1`.
//!
//! What a browser has no place for is said plainly: no current values (they
//! are a device's, never synced: `current` is null and setting one is
//! refused) and no active environment (it belongs to a device's profile:
//! "none", and choosing one is refused). A secret's values are masked unless
//! the request asks `?reveal=true`; the signed-in account may read its own
//! secrets here, as any of its devices reads them with `apisync show
//! --reveal`, and such an answer is never stored by the browser's cache.

use super::{Ctx, WebState};
use crate::error::{Failure, PathArg};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use model::tree::tree_order;
use model::{Document, Id, Kind, records, variables};
use protocol::ErrorCode;
use serde_json::{Value, json};

/// Why the web version refuses to choose an active environment.
const NO_ACTIVE: &str = "the active environment belongs to a device's own profile, which the web version does not keep: \
                         choose it in the desktop app (`apisync app`) or with `apisync env use`";

/// The workspace's live documents in tree order, after checking it is one
/// of the account's (an unknown one is a 404, not an empty list).
async fn workspace_docs(web: &super::Web, ctx: &Ctx, ws: Id) -> Result<Vec<Document>, Failure> {
    ctx.signed_in()?;
    if !web.workspace_list(ctx).await?.iter().any(|w| w.id == ws) {
        return Err(Failure::new(ErrorCode::NotFound, format!("no workspace {ws} in your account")));
    }
    Ok(tree_order(web.all_docs(ctx, ws).await?))
}

/// An answer that may hold revealed secrets: never kept in a cache.
fn uncached(v: Value) -> Response {
    let mut res = Json(v).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /api/workspaces/{id}/environments[?reveal=true]`: `{active: null,
/// environments: [{id, name, variables}], globals}`, each variable's
/// `current` null (the web version has no current values).
pub(super) async fn environments(
    State(web): WebState,
    ctx: Ctx,
    PathArg(ws): PathArg<Id>,
    RawQuery(q): RawQuery,
) -> Result<Response, Failure> {
    let docs = workspace_docs(&web, &ctx, ws).await?;
    let reveal = variables::reveal_asked(q.as_deref());
    let (envs, globals) = variables::environments::<Failure>(&docs, reveal, |_| Ok(None))?;
    Ok(uncached(json!({ "active": null, "environments": envs, "globals": globals })))
}

/// `GET /api/variables/{id}[?reveal=true]`: one variable or global, for the
/// page's per-row Reveal.
pub(super) async fn variable(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>, RawQuery(q): RawQuery) -> Result<Response, Failure> {
    ctx.signed_in()?;
    let doc = web.find(&ctx, id).await?;
    if !doc.kind.is_variable() {
        return Err(Failure::new(ErrorCode::BadRequest, format!("{id} is a {}, not a variable or global", doc.kind)));
    }
    Ok(uncached(variables::variable(&doc, None, variables::reveal_asked(q.as_deref()))))
}

/// `GET /api/workspaces/{id}/active-environment`: `{environment: null}`
/// always; the web version keeps no device profile to hold one.
pub(super) async fn active(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    if !web.workspace_list(&ctx).await?.iter().any(|w| w.id == ws) {
        return Err(Failure::new(ErrorCode::NotFound, format!("no workspace {ws} in your account")));
    }
    Ok(Json(json!({ "environment": null })))
}

/// `PUT /api/workspaces/{id}/active-environment`: refused with a 400 that
/// says where an active environment can be chosen.
pub(super) async fn set_active(ctx: Ctx) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    Err(Failure::new(ErrorCode::BadRequest, NO_ACTIVE))
}

/// `GET /api/workspaces/{id}/header-presets`: the presets as documents, in order.
pub(super) async fn header_presets(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Json<Vec<Value>>, Failure> {
    let docs = workspace_docs(&web, &ctx, ws).await?;
    Ok(Json(
        docs.into_iter()
            .filter(|d| d.kind == Kind::HeaderPreset)
            .map(|d| serde_json::to_value(d.masked()).unwrap_or(Value::Null))
            .collect(),
    ))
}

/// `GET /api/workspaces/{id}/history`: as `model::records::history`, newest first.
pub(super) async fn history(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Json<Vec<Value>>, Failure> {
    Ok(Json(records::history(&workspace_docs(&web, &ctx, ws).await?)))
}

/// `GET /api/workspaces/{id}/runs`: as `model::records::runs`, newest first.
pub(super) async fn runs(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Json<Vec<Value>>, Failure> {
    Ok(Json(records::runs(&workspace_docs(&web, &ctx, ws).await?)))
}
