//! Teams: the HTTP side. Who may do what, and the access a team gives, are
//! in `rules::teams`. A stranger to a team gets 404.

use crate::auth::Caller;
use crate::error::{Body, Failure, PathArg};
use crate::notify::Notice;
use crate::rules::teams;
use crate::store::{read, transact};
use crate::{AppState, now_ms, validate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::Id;
use protocol::{Accepted, CreateTeam, Invitations, Invite, Share, Shares, TeamInfo, TeamMembers, Teams, WorkspaceInfo};

/// Tells these people's devices that their workspace list changed.
fn announce(state: &AppState, users: &[Id]) {
    if !users.is_empty() {
        state.notifier.publish(Notice::Workspaces { users: users.to_vec() });
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
    let (user, now) = (caller.user.id, now_ms());
    Ok(Json(read!(state.store, |tx| teams::members(tx, user, team, now))?))
}

/// `POST /v1/teams/{id}/members`: changes the role of someone in the team.
pub async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(team): PathArg<Id>,
    Body(req): Body<Invite>,
) -> Result<Json<TeamMembers>, Failure> {
    let login = validate::login(&req.user)?.to_string();
    let (me, role, now) = (caller.user.id, req.role, now_ms());
    let told = transact!(state.store, |tx| teams::set_role(tx, me, team, &login, role))?;
    tracing::info!(%team, role = req.role.as_str(), "team role changed");
    announce(&state, &told);
    Ok(Json(read!(state.store, |tx| teams::members(tx, me, team, now))?))
}

/// `POST /v1/teams/{id}/invitations`: the same answer whether or not
/// anybody has that username or email.
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    PathArg(team): PathArg<Id>,
    Body(req): Body<Invite>,
) -> Result<(StatusCode, Json<Accepted>), Failure> {
    let login = validate::login(&req.user)?.to_string();
    let (me, role, now, l) = (caller.user.id, req.role, now_ms(), login.clone());
    transact!(state.store, |tx| teams::invite(tx, me, team, &l, role, now))?;
    tracing::info!(%team, by = %caller.user.username, "team invitation sent");
    let message = format!(
        "invited '{login}': if an account has that username or email, it sees the invitation (`apisync team invitations`) and joins when it accepts"
    );
    Ok((StatusCode::ACCEPTED, Json(Accepted { message })))
}

/// `DELETE /v1/teams/{id}/invitations/{invitation}`.
pub async fn cancel_invitation(
    State(state): State<AppState>,
    caller: Caller,
    PathArg((team, inv)): PathArg<(Id, Id)>,
) -> Result<StatusCode, Failure> {
    let me = caller.user.id;
    transact!(state.store, |tx| teams::cancel_invitation(tx, me, team, inv))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/invitations`: those waiting for the caller.
pub async fn invitations(State(state): State<AppState>, caller: Caller) -> Result<Json<Invitations>, Failure> {
    let (me, now) = (caller.user, now_ms());
    Ok(Json(Invitations { invitations: read!(state.store, |tx| teams::invitations(tx, &me, now))? }))
}

/// `POST /v1/invitations/{id}/accept`.
pub async fn accept(State(state): State<AppState>, caller: Caller, PathArg(inv): PathArg<Id>) -> Result<Json<TeamInfo>, Failure> {
    let (me, now) = (caller.user.clone(), now_ms());
    let info = transact!(state.store, |tx| teams::accept(tx, &me, inv, now))?;
    tracing::info!(team = %info.name, user = %caller.user.username, "joined team");
    announce(&state, &[caller.user.id]);
    Ok(Json(info))
}

/// `POST /v1/invitations/{id}/decline`.
pub async fn decline(State(state): State<AppState>, caller: Caller, PathArg(inv): PathArg<Id>) -> Result<StatusCode, Failure> {
    let (me, now) = (caller.user, now_ms());
    transact!(state.store, |tx| teams::decline(tx, &me, inv, now))?;
    Ok(StatusCode::NO_CONTENT)
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

/// `GET /v1/workspaces/{id}/shares`.
pub async fn shares(State(state): State<AppState>, caller: Caller, PathArg(ws): PathArg<Id>) -> Result<Json<Shares>, Failure> {
    let me = caller.user.id;
    Ok(Json(Shares { shares: read!(state.store, |tx| teams::shares(tx, me, ws))? }))
}

/// `DELETE /v1/workspaces/{id}/shares/{team}`.
pub async fn unshare(State(state): State<AppState>, caller: Caller, PathArg((ws, team)): PathArg<(Id, Id)>) -> Result<StatusCode, Failure> {
    let me = caller.user.id;
    let told = transact!(state.store, |tx| teams::unshare(tx, me, ws, team))?;
    tracing::info!(%team, %ws, "workspace no longer shared");
    announce(&state, &told);
    Ok(StatusCode::NO_CONTENT)
}
