//! Workspaces, push and pull: the HTTP side. The rules around a push are in
//! `rules::workspaces`, the batch itself in `push`.

use crate::auth::Caller;
use crate::error::{Body, Failure};
use crate::rules::workspaces::{self, PushRefused};
use crate::store::{Tx, read, transact};
use crate::{AppState, now_ms};
use axum::Json;
use axum::extract::{Path, Query, State};
use model::Id;
use protocol::limits::{DEFAULT_PAGE, MAX_BATCH, MAX_PAGE};
use protocol::{ChangesQuery, ErrorCode, PushRequest, PushResponse, WorkspaceInfo, Workspaces};

fn not_found(ws: Id) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no workspace {ws} that you are a member of"))
}

/// The workspaces a person is in, as listed to them.
pub(crate) async fn workspaces_of(state: &AppState, user: Id) -> Result<Vec<WorkspaceInfo>, Failure> {
    Ok(read!(state.store, |tx| workspaces::list(tx, user))?)
}

/// `GET /v1/workspaces`.
pub async fn workspaces(State(state): State<AppState>, caller: Caller) -> Result<Json<Workspaces>, Failure> {
    Ok(Json(Workspaces { workspaces: workspaces_of(&state, caller.user.id).await? }))
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
    let (user, device, now) = (caller.user.id, caller.device.num, now_ms());
    let mutations = req.mutations;
    let commit = match transact!(state.store, |tx| workspaces::push(tx, ws, user, device, &mutations, now))? {
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
        let frame = crate::live::changes_frame(ws, commit.after, commit.response.seq, &commit.changed, INLINE_BYTES);
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
    let user = caller.user.id;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let page = read!(state.store, |tx| async {
        match tx.role(user, ws).await? {
            None => Ok(None),
            Some(_) => Ok::<_, crate::store::StoreError>(Some(tx.changes(ws, q.after, limit).await?)),
        }
    })?;
    page.map(Json).ok_or_else(|| not_found(ws))
}
