//! The app's read lists of a workspace's other documents: header presets,
//! history entries and collection runs. History and runs are append-only
//! records (a newman report imports as one run and a history entry per
//! request), listed newest first and flattened by `model::records`, which
//! the server's web version lists them with too.

use super::AppState;
use super::api::on_device;
use super::api::parse_id;
use super::error::AppError;
use crate::output;
use axum::Json;
use axum::extract::{Path, State};
use model::{Document, Kind, records};
use serde_json::Value;
use std::sync::Arc;

/// The live documents of one kind in workspace `ws`, in tree order.
async fn of_kind(state: &AppState, ws: &str, kind: Kind) -> Result<Vec<Document>, AppError> {
    let ws = parse_id(ws)?.to_string();
    on_device(state, move |d| d.list(Some(&ws), Some(kind))).await
}

/// `GET /api/workspaces/{id}/header-presets`: the presets as documents
/// (`fields.name`, `fields.headers` as `[{key, value, …}]`), in order.
pub async fn header_presets(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Json<Vec<Value>>, AppError> {
    let docs = of_kind(&state, &ws, Kind::HeaderPreset).await?;
    Ok(Json(docs.iter().map(|d| output::doc_json(d, false)).collect()))
}

/// `GET /api/workspaces/{id}/history`: the entries as [`model::records::history`]
/// lists them, newest first.
pub async fn history(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Json<Vec<Value>>, AppError> {
    Ok(Json(records::history(&of_kind(&state, &ws, Kind::History).await?)))
}

/// `GET /api/workspaces/{id}/runs`: the runs as [`model::records::runs`]
/// lists them, newest first.
pub async fn runs(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Json<Vec<Value>>, AppError> {
    Ok(Json(records::runs(&of_kind(&state, &ws, Kind::Run).await?)))
}
