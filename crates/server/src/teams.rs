//! Teams: the HTTP side. Who may do what, and the access a team gives, are
//! in `rules::teams`. A stranger to a team gets 404.

use crate::auth::Caller;
use crate::error::{Body, Failure, PathArg};
use crate::rules::teams;
use crate::store::{Tx, read, transact};
use crate::{AppState, now_ms, validate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::Id;
use protocol::{CreateTeam, ErrorCode, Invite, LiveMessage, Share, TeamInfo, TeamMembers, Teams, WorkspaceInfo};

/// Tells these people's devices connected to this process that their
/// workspace list changed (the rules told the other processes).
fn announce(state: &AppState, users: &[Id]) {
    if let Ok(frame) = serde_json::to_string(&LiveMessage::Workspaces) {
        state.hub.publish(users, frame);
    }
}

/// `GET /v1/teams`.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Teams>, Failure> {
    let user = caller.user.id;
    Ok(Json(Teams { teams: read!(state.store, |tx| teams::list(tx, user))? }))
}

/// `POST /v1/teams`.
pub async fn create(State(state): State<AppState>, caller: Caller, Body(req): Body<CreateTeam>) -> Result<Json<TeamInfo>, Failure> {
    let name = validate::name("team name", &req.name)?.to_string();
    let (user, now) = (caller.user.id, now_ms());
    let info = transact!(state.store, |tx| teams::create(tx, user, &name, now))?;
    tracing::info!(team = %info.name, by = %caller.user.username, "team created");
    Ok(Json(info))
}

/// `GET /v1/teams/{id}/members`.
pub async fn members(State(state): State<AppState>, caller: Caller, PathArg(team): PathArg<Id>) -> Result<Json<TeamMembers>, Failure> {
    let user = caller.user.id;
    Ok(Json(read!(state.store, |tx| teams::members(tx, user, team))?))
}

/// `POST /v1/teams/{id}/members`: invite by username or email, or change a role.
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(team): PathArg<Id>,
    Body(req): Body<Invite>,
) -> Result<Json<TeamMembers>, Failure> {
    let login = validate::login(&req.user)?.to_string();
    let (me, role) = (caller.user.id, req.role);
    let told = transact!(state.store, |tx| async {
        let Some(found) = tx.user_by_login(&login).await? else {
            return Err(Failure::new(ErrorCode::NotFound, format!("no account with username or email '{login}'; they must sign up first")));
        };
        teams::set_member(tx, me, team, &found.user, role).await
    })?;
    tracing::info!(%team, role = req.role.as_str(), "team member set");
    announce(&state, &told);
    Ok(Json(read!(state.store, |tx| teams::members(tx, me, team))?))
}

/// `DELETE /v1/teams/{id}/members/{user_id}` (admins; anyone for themselves).
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathArg((team, user)): PathArg<(Id, Id)>,
) -> Result<StatusCode, Failure> {
    let me = caller.user.id;
    let told = transact!(state.store, |tx| teams::remove(tx, me, team, user))?;
    tracing::info!(%team, %user, "team member removed");
    announce(&state, &told);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/teams/{id}/leave`.
pub async fn leave(State(state): State<AppState>, caller: Caller, PathArg(team): PathArg<Id>) -> Result<StatusCode, Failure> {
    let me = caller.user.id;
    let told = transact!(state.store, |tx| teams::remove(tx, me, team, me))?;
    tracing::info!(%team, user = %caller.user.username, "left team");
    announce(&state, &told);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/workspaces/{id}/share`.
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(ws): PathArg<Id>,
    Body(req): Body<Share>,
) -> Result<Json<WorkspaceInfo>, Failure> {
    let me = caller.user.id;
    let (w, told) = transact!(state.store, |tx| teams::share(tx, me, ws, req.team_id))?;
    tracing::info!(team = %req.team_id, workspace = %w.name, "workspace shared");
    announce(&state, &told);
    Ok(Json(w))
}
