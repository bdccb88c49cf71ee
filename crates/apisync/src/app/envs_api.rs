//! The app's environments and globals: each environment with its variables,
//! the workspace's globals, one variable revealed on request, and the
//! device-local active environment. Variables show their synced initial
//! value (`value`) beside this device's current value, which never syncs;
//! secret values are masked unless the request asks `?reveal=true`, as
//! `apisync show --reveal` does. Edits go through the ordinary document
//! endpoints (`POST`/`PATCH`/`DELETE /api/docs…`, `current` for the current
//! value), so they queue and sync like the CLI's.

use super::AppState;
use super::api::{on_device, parse_id};
use super::error::AppError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use client::{ClientError, Device};
use model::{Document, Id, variables};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// A variable or global as the page shows it (`model::variables`), with
/// this device's current value.
fn variable_json(d: &Device, v: &Document, reveal: bool) -> Result<Value, ClientError> {
    Ok(variables::variable(v, d.current_value(v.id)?.as_ref(), reveal))
}

/// `GET /api/workspaces/{id}/environments[?reveal=true]`: `{active,
/// environments: [{id, name, variables}], globals}`, environments and
/// variables in their sidebar order.
pub async fn list(State(state): State<Arc<AppState>>, Path(ws): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>, AppError> {
    let ws = parse_id(&ws)?;
    let reveal = variables::reveal_asked(q.as_deref());
    let out = on_device(&state, move |d| {
        let docs = d.list(Some(&ws.to_string()), None)?;
        let (envs, globals) = variables::environments(&docs, reveal, |v| d.current_value(v.id))?;
        Ok(json!({ "active": d.active_environment(ws)?, "environments": envs, "globals": globals }))
    })
    .await?;
    Ok(Json(out))
}

/// `GET /api/variables/{id}[?reveal=true]`: one variable or global, for the
/// page's per-row reveal (the real values only when asked).
pub async fn variable(State(state): State<Arc<AppState>>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let reveal = variables::reveal_asked(q.as_deref());
    let v = on_device(&state, move |d| {
        let doc = d.get(id)?;
        if !doc.kind.is_variable() {
            return Err(ClientError::Invalid(format!("{id} is a {}, not a variable or global", doc.kind)));
        }
        variable_json(d, &doc, reveal)
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/workspaces/{id}/active-environment`: `{environment: ID|null}`,
/// this device's choice (never synced).
pub async fn active(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Json<Value>, AppError> {
    let ws = parse_id(&ws)?;
    let env = on_device(&state, move |d| {
        // An unknown workspace is a 404 here too, not an empty choice.
        d.resolve_workspace(Some(&ws.to_string()))?;
        d.active_environment(ws)
    })
    .await?;
    Ok(Json(json!({ "environment": env })))
}

/// The body of `PUT /api/workspaces/{id}/active-environment`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    /// The environment; null: none.
    environment: Option<Id>,
}

/// `PUT /api/workspaces/{id}/active-environment` `{environment: ID|null}`:
/// chooses this device's active environment of the workspace.
pub async fn set_active(
    State(state): State<Arc<AppState>>,
    Path(ws): Path<String>,
    body: Result<Json<ActiveBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let ws = parse_id(&ws)?;
    let Json(b) = body?;
    let env = on_device(&state, move |d| {
        d.set_active_environment(ws, b.environment)?;
        d.active_environment(ws)
    })
    .await?;
    Ok(Json(json!({ "environment": env })))
}
