//! Workspaces, push and pull: the HTTP side. The rules around a push are in
//! `rules::workspaces`, the batch itself in `push`.

use crate::auth::Caller;
use crate::error::{Body, Failure, PathArg, QueryArg};
use crate::notify::{ConnRef, Notice};
use crate::rules::workspaces::{self, DeleteRefused, PushRefused};
use crate::store::{Tx, read, transact};
use crate::{AppState, now_ms};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::Id;
use protocol::limits::{DEFAULT_PAGE, MAX_BATCH, MAX_FETCH_IDS, MAX_PAGE, PAGE_BYTES};
use protocol::{ChangesQuery, DocsRequest, ErrorCode, PushRequest, PushResponse, WorkspaceInfo, Workspaces};

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

/// `DELETE /v1/workspaces/{id}`: the owner deletes a workspace; everyone who
/// had it hears `workspaces` on the live channel and drops it. Its rows go
/// in the background (`purge`).
pub async fn delete_workspace(State(state): State<AppState>, caller: Caller, PathArg(ws): PathArg<Id>) -> Result<StatusCode, Failure> {
    let (user, now) = (caller.user.id, now_ms());
    let members = match transact!(state.store, |tx| workspaces::delete(tx, ws, user, now))? {
        Ok(members) => members,
        Err(DeleteRefused::NotFound) => return Err(not_found(ws)),
        Err(DeleteRefused::NotOwner) => {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                "only the workspace's owner can delete it; ask them, or leave the team that shares it with you",
            ));
        }
        Err(DeleteRefused::Personal) => {
            return Err(Failure::new(
                ErrorCode::BadRequest,
                "your personal workspace cannot be deleted; it goes only with the account (`apisync account delete`)",
            ));
        }
    };
    state.purger.wake();
    state.notifier.publish(Notice::Workspaces { users: members });
    tracing::info!(workspace = %ws, user = %caller.user.username, "workspace deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Middleware of the push route: a push reads its (up to 32 MiB) body only
/// when one of the server's turns is free, so concurrent pushes cannot
/// exhaust memory; a push that waits too long is answered 503.
pub async fn push_turn(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(crate::PUSH_QUEUE_WAIT, state.pushes.clone().acquire_owned()).await {
        Ok(Ok(_turn)) => next.run(req).await,
        _ => Failure::new(ErrorCode::Unavailable, "the server is busy applying other pushes; nothing was changed, retry shortly")
            .into_response(),
    }
}

/// `POST /v1/workspaces/{id}/push`.
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(ws): PathArg<Id>,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, Failure> {
    if req.mutations.len() > MAX_BATCH {
        return Err(Failure::new(
            ErrorCode::PayloadTooLarge,
            format!("{} mutations in one push; the limit is {MAX_BATCH}: send them in several pushes", req.mutations.len()),
        ));
    }
    let (user, device, now) = (caller.user.id, caller.device.num, now_ms());
    let (mutations, answered, connection) = (req.mutations, req.answered_before, req.connection);
    let commit = match transact!(state.store, |tx| workspaces::push(tx, ws, user, device, &mutations, answered, now))? {
        Ok(c) => c,
        Err(PushRefused::NotFound) => return Err(not_found(ws)),
        Err(PushRefused::Invalid(why)) => return Err(Failure::new(ErrorCode::BadRequest, why)),
        Err(PushRefused::ReadOnly) => {
            return Err(Failure::new(
                ErrorCode::Forbidden,
                "you can read this workspace but not change it: ask an admin for the editor role",
            ));
        }
    };
    state.metrics.pushed(&commit.response);
    let (after, seq) = (commit.after, commit.response.seq);
    if seq > after {
        // The pusher's connection has the answer; every other one hears the change.
        let pusher = connection.map(|connection| ConnRef { user, connection });
        let docs = commit.changed;
        state.notifier.publish(Notice::Pushed { workspace: ws, after, seq, members: commit.members, pusher, docs });
    }
    Ok(Json(commit.response))
}

/// `GET /v1/workspaces/{id}/changes?after=N&limit=L`.
pub async fn changes(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(ws): PathArg<Id>,
    QueryArg(q): QueryArg<ChangesQuery>,
) -> Result<Json<crate::store::Page>, Failure> {
    let user = caller.user.id;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let page = read!(state.store, |tx| async {
        match tx.role(user, ws).await? {
            None => Ok(None),
            Some(_) => Ok::<_, crate::store::StoreError>(Some(tx.changes(ws, q.after, limit, PAGE_BYTES).await?)),
        }
    })?;
    let page = page.ok_or_else(|| not_found(ws))?;
    if crate::compact::must_restore(q.after, page.horizon, q.restoring) {
        return Err(Failure::new(
            ErrorCode::RestoreRequired,
            format!(
                "this device last synced workspace {ws} at {} and deletions up to {} are no longer kept: pull it again from after=0",
                q.after, page.horizon
            ),
        ));
    }
    Ok(Json(page))
}

/// `POST /v1/workspaces/{id}/docs`: documents by id, as they are now.
pub async fn fetch(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(ws): PathArg<Id>,
    Body(req): Body<DocsRequest>,
) -> Result<Json<FetchAnswer>, Failure> {
    if req.ids.len() > MAX_FETCH_IDS {
        return Err(Failure::new(
            ErrorCode::PayloadTooLarge,
            format!("{} ids in one fetch; the limit is {MAX_FETCH_IDS}: ask in several calls", req.ids.len()),
        ));
    }
    let user = caller.user.id;
    let found = read!(state.store, |tx| async {
        match tx.role(user, ws).await? {
            None => Ok(None),
            Some(_) => Ok::<_, crate::store::StoreError>(Some(tx.fetch(ws, &req.ids, PAGE_BYTES).await?)),
        }
    })?;
    let (docs, more) = found.ok_or_else(|| not_found(ws))?;
    Ok(Json(FetchAnswer { docs, more }))
}

/// [`protocol::DocsAnswer`] with the stored fields passed through.
#[derive(serde::Serialize)]
pub struct FetchAnswer {
    docs: Vec<crate::store::PageDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    more: Vec<Id>,
}
