//! Teams: create, list, members (invite, remove, leave) and sharing a
//! workspace with a team. Access to a shared workspace follows the team role;
//! the workspace's owner stays owner. A stranger to a team gets 404.

use crate::auth::Caller;
use crate::error::{Body, Failure};
use crate::{AppState, now_ms};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use model::Id;
use protocol::limits::MAX_NAME_CHARS;
use protocol::{CreateTeam, ErrorCode, Invite, LiveMessage, Role, Share, TeamInfo, TeamMembers, Teams, WorkspaceInfo};

fn team_not_found(team: Id) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no team {team} that you are a member of; `apisync team list` shows yours"))
}

/// Tells these users' devices, here and in other processes, that their
/// workspace list changed.
async fn announce(state: &AppState, users: Vec<Id>) {
    let frame = serde_json::to_string(&LiveMessage::Workspaces).unwrap_or_default();
    state.hub.publish(&users, frame.clone());
    if let Err(e) = state.store.announce(users, frame).await {
        tracing::warn!(error = %e, "could not tell other server processes about a team change");
    }
}

/// The caller's view of a team they are in, or 404.
async fn my_team(state: &AppState, caller: &Caller, team: Id) -> Result<TeamInfo, Failure> {
    state.store.team(caller.user.id, team).await?.ok_or_else(|| team_not_found(team))
}

async fn require_admin(state: &AppState, caller: &Caller, team: Id) -> Result<TeamInfo, Failure> {
    let info = my_team(state, caller, team).await?;
    if info.role != Role::Admin {
        return Err(Failure::new(
            ErrorCode::Forbidden,
            format!("only an admin of team '{}' can change its members or share with it; ask one of its admins", info.name),
        ));
    }
    Ok(info)
}

/// `GET /v1/teams`.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Teams>, Failure> {
    Ok(Json(Teams { teams: state.store.teams(caller.user.id).await? }))
}

/// `POST /v1/teams`.
pub async fn create(State(state): State<AppState>, caller: Caller, Body(req): Body<CreateTeam>) -> Result<Json<TeamInfo>, Failure> {
    let name = req.name.trim();
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(Failure::new(ErrorCode::BadRequest, format!("a team name is 1 to {MAX_NAME_CHARS} characters")));
    }
    if state.store.teams(caller.user.id).await?.iter().any(|t| t.name.eq_ignore_ascii_case(name)) {
        return Err(Failure::new(ErrorCode::BadRequest, format!("you are already in a team named '{name}'; choose another name")));
    }
    let info = state.store.create_team(caller.user.id, Id::now_v7(), name.to_string(), now_ms()).await?;
    tracing::info!(team = %info.name, by = %caller.user.username, "team created");
    Ok(Json(info))
}

async fn members_of(state: &AppState, caller: &Caller, team: Id) -> Result<TeamMembers, Failure> {
    let info = my_team(state, caller, team).await?;
    Ok(TeamMembers { team: info, members: state.store.team_members(team).await? })
}

/// `GET /v1/teams/{id}/members`.
pub async fn members(State(state): State<AppState>, caller: Caller, Path(team): Path<Id>) -> Result<Json<TeamMembers>, Failure> {
    Ok(Json(members_of(&state, &caller, team).await?))
}

/// `POST /v1/teams/{id}/members`: invite by username or email, or change a role.
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<Id>,
    Body(req): Body<Invite>,
) -> Result<Json<TeamMembers>, Failure> {
    let info = require_admin(&state, &caller, team).await?;
    if req.role == Role::Owner {
        return Err(Failure::new(ErrorCode::BadRequest, "a team role is admin, editor or viewer"));
    }
    let Some(found) = state.store.user_by_login(req.user.trim().to_string()).await? else {
        return Err(Failure::new(
            ErrorCode::NotFound,
            format!("no account with username or email '{}'; they must sign up first", req.user.trim()),
        ));
    };
    let user = found.user;
    if user.id == caller.user.id && req.role != Role::Admin && admins(&state, team).await? <= 1 {
        return Err(last_admin(&info.name));
    }
    state.store.set_team_member(team, user.id, req.role).await?;
    tracing::info!(team = %info.name, user = %user.username, role = req.role.as_str(), "team member set");
    announce(&state, vec![user.id]).await;
    Ok(Json(members_of(&state, &caller, team).await?))
}

async fn admins(state: &AppState, team: Id) -> Result<usize, Failure> {
    Ok(state.store.team_members(team).await?.iter().filter(|m| m.role == Role::Admin).count())
}

fn last_admin(team: &str) -> Failure {
    Failure::new(
        ErrorCode::BadRequest,
        format!(
            "you are the last admin of team '{team}': make another member admin first (`apisync team invite '{team}' USER --role admin`)"
        ),
    )
}

/// `DELETE /v1/teams/{id}/members/{user_id}` (admins; anyone for themselves).
pub async fn remove(State(state): State<AppState>, caller: Caller, Path((team, user)): Path<(Id, Id)>) -> Result<StatusCode, Failure> {
    if user == caller.user.id {
        return leave(State(state), caller, Path(team)).await;
    }
    let info = require_admin(&state, &caller, team).await?;
    if !state.store.remove_team_member(team, user).await? {
        return Err(Failure::new(ErrorCode::NotFound, format!("user {user} is not in team '{}'", info.name)));
    }
    tracing::info!(team = %info.name, %user, "team member removed");
    announce(&state, vec![user]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/teams/{id}/leave`.
pub async fn leave(State(state): State<AppState>, caller: Caller, Path(team): Path<Id>) -> Result<StatusCode, Failure> {
    let info = my_team(&state, &caller, team).await?;
    if info.role == Role::Admin && info.members > 1 && admins(&state, team).await? <= 1 {
        return Err(last_admin(&info.name));
    }
    state.store.remove_team_member(team, caller.user.id).await?;
    tracing::info!(team = %info.name, user = %caller.user.username, "left team");
    announce(&state, vec![caller.user.id]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/workspaces/{id}/share`.
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    Path(ws): Path<Id>,
    Body(req): Body<Share>,
) -> Result<Json<WorkspaceInfo>, Failure> {
    let mine = state.store.workspaces(caller.user.id).await?;
    let Some(w) = mine.into_iter().find(|w| w.id == ws) else {
        return Err(Failure::new(ErrorCode::NotFound, format!("no workspace {ws} that you are a member of")));
    };
    if !w.role.can_admin() {
        return Err(Failure::new(ErrorCode::Forbidden, format!("only the owner or an admin of workspace '{}' can share it", w.name)));
    }
    if w.personal {
        return Err(Failure::new(
            ErrorCode::BadRequest,
            "your personal workspace cannot be shared; create one for the team (`apisync workspace create NAME`) and share that",
        ));
    }
    let team = require_admin(&state, &caller, req.team_id).await?;
    let users = state.store.share_workspace(team.id, ws).await?;
    tracing::info!(team = %team.name, workspace = %w.name, "workspace shared");
    announce(&state, users).await;
    Ok(Json(w))
}
