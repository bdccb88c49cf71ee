//! Workspaces, push and pull.

use crate::auth::Caller;
use crate::error::{Body, Failure};
use crate::store::PushRefused;
use crate::{AppState, now_ms};
use axum::Json;
use axum::extract::{Path, Query, State};
use model::Id;
use protocol::limits::{DEFAULT_PAGE, MAX_BATCH, MAX_PAGE};
use protocol::{ChangesQuery, ErrorCode, LiveMessage, PushRequest, PushResponse, Workspaces};

fn not_found(ws: Id) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no workspace {ws} that you are a member of"))
}

/// `GET /v1/workspaces`.
pub async fn workspaces(State(state): State<AppState>, caller: Caller) -> Result<Json<Workspaces>, Failure> {
    Ok(Json(Workspaces { workspaces: state.store.workspaces(caller.user.id).await? }))
}

/// Largest live frame that carries documents inline; past it, devices pull.
const INLINE_BYTES: usize = 64 * 1024;

/// `POST /v1/workspaces/{id}/push`.
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Id>,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, Failure> {
    if req.mutations.len() > MAX_BATCH {
        return Err(Failure::new(
            ErrorCode::PayloadTooLarge,
            format!("{} mutations in one push; the limit is {MAX_BATCH}: send them in several pushes", req.mutations.len()),
        ));
    }
    let commit = match state.store.push(ws, caller.user.id, caller.device.num, req.mutations, now_ms()).await? {
        Ok(c) => c,
        Err(PushRefused::NotFound) => return Err(not_found(ws)),
        Err(PushRefused::ReadOnly) => {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                "you can read this workspace but not change it: ask an admin for the editor role",
            ));
        }
    };
    if !commit.changed.is_empty() {
        let seq = commit.response.seq;
        let inline = LiveMessage::Changes { workspace_id: ws, after: commit.after, seq, docs: commit.changed };
        let frame = crate::live::frame_within(&inline, INLINE_BYTES)
            .unwrap_or_else(|| serde_json::to_string(&LiveMessage::Moved { workspace_id: ws, seq }).unwrap_or_default());
        state.hub.publish(&commit.members, frame);
    }
    Ok(Json(commit.response))
}

/// `GET /v1/workspaces/{id}/changes?after=N&limit=L`.
pub async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Id>,
    Query(q): Query<ChangesQuery>,
) -> Result<Json<crate::store::Page>, Failure> {
    if state.store.role(caller.user.id, ws).await?.is_none() {
        return Err(not_found(ws));
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    Ok(Json(state.store.changes(ws, q.after, limit).await?))
}
