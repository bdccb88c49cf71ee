//! Mirroring a workspace to a folder from the app (`mirrors.rs` runs them):
//! list, start, stop. Only the desktop app has these routes: the web
//! version's server never writes to a path a person types.

use super::AppState;
use super::error::AppError;
use super::mirrors::{MirrorView, checked_dir};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// The query of `GET /api/mirrors`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this workspace's mirrors (an id).
    #[serde(default)]
    workspace: Option<String>,
}

/// `GET /api/mirrors[?workspace=ID]`: every mirror of the profile (or of one
/// workspace), running in this app or not, with its last pass and what stops it.
pub async fn list(
    State(state): State<Arc<AppState>>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<MirrorView>>, AppError> {
    let Query(q) = q.map_err(|r| AppError::invalid(r.body_text()))?;
    let ws = q.workspace.as_deref().map(super::api::parse_id).transpose()?;
    let mirrors = Arc::clone(&state.mirrors);
    // Reading the saved states touches the disk: off the async workers.
    let all = tokio::task::spawn_blocking(move || mirrors.views()).await.map_err(|e| AppError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "internal",
        message: e.to_string(),
    })?;
    Ok(Json(all.into_iter().filter(|m| ws.is_none() || m.workspace == ws).collect()))
}

/// The body of `POST /api/mirrors`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    /// The workspace, by id or name.
    workspace: String,
    /// The folder, an absolute path; created if missing.
    dir: String,
}

/// `POST /api/mirrors` `{workspace, dir}`: starts mirroring; 201 with the
/// mirror. Refused with the reason: a path that is not absolute or is a
/// file (400), a folder that mirrors another workspace or that another
/// process mirrors, or more than the limit running (409).
pub async fn start(
    State(state): State<Arc<AppState>>,
    body: Result<Json<Start>, JsonRejection>,
) -> Result<(StatusCode, Json<MirrorView>), AppError> {
    let Json(body) = body?;
    let dir = checked_dir(&body.dir)?;
    let view = state.mirrors.start(body.workspace, &dir).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The body of `POST /api/mirrors/stop`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    /// The folder, as typed or as the list shows it.
    dir: PathBuf,
}

/// `POST /api/mirrors/stop` `{dir}`: stops a mirror this app runs (404 when it runs none there).
pub async fn stop(State(state): State<Arc<AppState>>, body: Result<Json<Stop>, JsonRejection>) -> Result<Json<MirrorView>, AppError> {
    let Json(body) = body?;
    Ok(Json(state.mirrors.stop(&body.dir).await?))
}
