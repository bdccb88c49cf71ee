//! The app API: JSON over the same `client::Device` the CLI uses, so the
//! outbox, merge, conflicts and states behave as they do for `apisync ls`,
//! `create`, `set` and `rm`. The watcher in `live.rs` sends what is edited.

use super::AppState;
use super::error::AppError;
use crate::output;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use client::Device;
use model::{Fields, Id, Kind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Runs a device call off the async workers: SQLite may wait up to its busy
/// timeout while a CLI process of the same profile writes.
pub(super) async fn on_device<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Device) -> Result<T, client::ClientError> + Send + 'static,
) -> Result<T, AppError> {
    on_device_as(state, f).await
}

/// [`on_device`] for a call with an error of its own (a send, whose scripts
/// also run on a thread of their own).
pub(super) async fn on_device_as<T: Send + 'static, E: Into<AppError> + Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Device) -> Result<T, E> + Send + 'static,
) -> Result<T, AppError> {
    let device = Arc::clone(&state.device);
    match tokio::task::spawn_blocking(move || f(&device)).await {
        Ok(r) => r.map_err(Into::into),
        Err(e) => Err(AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: e.to_string() }),
    }
}

/// An id from a path or a body, or a refusal naming it.
pub(super) fn parse_id(s: &str) -> Result<Id, AppError> {
    s.trim().parse::<Id>().map_err(|_| AppError::invalid(format!("'{s}' is not an id (a UUID)")))
}

/// `GET /api/status`: what `apisync status --cached --json` prints, the
/// mirrors included; the app's watcher keeps it current, so this never
/// waits for the network.
pub async fn status(State(state): State<Arc<AppState>>) -> Result<Json<Value>, AppError> {
    let mirrors = Arc::clone(&state.mirrors);
    let (status, views) = on_device(&state, move |d| Ok((d.local_status()?, mirrors.views()))).await?;
    Ok(Json(super::mirrors::status_json(&status, &views)))
}

/// `GET /api/workspaces`: every workspace on the device. Signed out, the
/// scratch pad is the person's place, so it is made on first use, as the
/// CLI's `create` does.
pub async fn workspaces(State(state): State<Arc<AppState>>) -> Result<Json<Vec<client::Workspace>>, AppError> {
    let list = on_device(&state, |d| {
        if !d.is_signed_in()? && !d.workspaces()?.iter().any(|w| w.local_only) {
            d.resolve_workspace(None)?;
        }
        d.workspaces()
    })
    .await?;
    Ok(Json(list))
}

/// `GET /api/workspaces/{id}/docs`: the workspace's documents in tree order
/// (each after its parent), secrets masked as `apisync ls --json` does.
pub async fn docs(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Json<Vec<Value>>, AppError> {
    let ws = parse_id(&ws)?.to_string();
    let docs = on_device(&state, move |d| d.list(Some(&ws), None)).await?;
    Ok(Json(docs.iter().map(|d| output::doc_json(d, false)).collect()))
}

/// `GET /api/docs/{id}`: one document, secrets masked.
pub async fn doc(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let d = on_device(&state, move |d| d.get(id)).await?;
    Ok(Json(output::doc_json(&d, false)))
}

/// The body of `POST /api/docs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDoc {
    kind: String,
    #[serde(default)]
    parent: Option<Id>,
    /// A workspace id or name; none: the parent's, else the default one.
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    fields: Fields,
}

/// `POST /api/docs`: creates a document; answers 201 with its id.
pub async fn create(
    State(state): State<Arc<AppState>>,
    body: Result<Json<NewDoc>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let Json(new) = body?;
    let kind: Kind = new.kind.parse().map_err(|e: model::UnknownKind| AppError::invalid(e.to_string()))?;
    let id = on_device(&state, move |d| d.create(kind, new.parent, new.workspace.as_deref(), new.fields)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// The body of `PATCH /api/docs/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFields {
    fields: Fields,
}

/// `PATCH /api/docs/{id}`: sets fields (one edit, as `apisync set`).
pub async fn set(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<SetFields>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let Json(body) = body?;
    if body.fields.is_empty() {
        return Err(AppError::invalid("no fields to set; send {\"fields\": {\"name\": \"…\"}}"));
    }
    on_device(&state, move |d| d.set(id, body.fields)).await?;
    Ok(Json(json!({ "id": id })))
}

/// `DELETE /api/docs/{id}`: deletes the document and everything under it.
pub async fn delete(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    on_device(&state, move |d| d.delete(id)).await?;
    Ok(Json(json!({ "id": id, "deleted": true })))
}

/// Any other `/api/…` path: a JSON 404, not the page.
pub async fn not_found() -> AppError {
    AppError { status: StatusCode::NOT_FOUND, code: "not_found", message: "no such app API endpoint".into() }
}
