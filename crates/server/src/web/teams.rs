//! The web version's team pages, with the desktop app's endpoints and
//! shapes (`crates/apisync/src/app/teams_api.rs`): the account's teams and
//! the invitations waiting for it, creating a team, its members, inviting,
//! roles, removing someone, withdrawing an invitation, leaving, answering
//! an invitation, sharing a workspace with a team, listing whom it is shared
//! with and unsharing it. Each is `/v1` calls
//! as this browser's device, so the server's refusals (not an admin, already
//! a member, a stranger's team is a 404) keep their status, code and message.

use super::{Ctx, WebState};
use crate::error::{Body, Failure, PathArg};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use model::Id;
use protocol::{Accepted, CreateTeam, ErrorCode, Invitations, Invite, Role, Share, Shares, TeamInfo, TeamMembers, Teams, WorkspaceInfo};
use serde::Deserialize;
use serde_json::{Value, json};

fn required(what: &str, value: &str) -> Result<(), Failure> {
    if value.trim().is_empty() { Err(Failure::new(ErrorCode::BadRequest, format!("{what} is required"))) } else { Ok(()) }
}

/// `admin`, `editor` or `viewer`, as the desktop app and the CLI accept them
/// (a team has no owner).
fn team_role(s: &str) -> Result<Role, Failure> {
    Role::parse_team_role(s)
        .ok_or_else(|| Failure::new(ErrorCode::BadRequest, format!("'{}' is not a team role; use admin, editor or viewer", s.trim())))
}

/// `GET /api/teams`: `{teams, invitations}`, the account's teams and the
/// invitations waiting for it.
pub(super) async fn list(State(web): WebState, ctx: Ctx) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let teams = web.get::<Teams>(&ctx, "/v1/teams").await?.teams;
    let invitations = web.get::<Invitations>(&ctx, "/v1/invitations").await?.invitations;
    Ok(Json(json!({ "teams": teams, "invitations": invitations })))
}

/// The body of `POST /api/teams`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBody {
    name: String,
}

/// `POST /api/teams {name}`: creates a team; this account is its admin (201).
pub(super) async fn create(State(web): WebState, ctx: Ctx, Body(b): Body<CreateBody>) -> Result<(StatusCode, Json<TeamInfo>), Failure> {
    ctx.signed_in()?;
    required("a team name", &b.name)?;
    let team: TeamInfo = web.send(&ctx, Method::POST, "/v1/teams", &CreateTeam { name: b.name.trim().to_string() }).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// `GET /api/teams/{id}/members`: the team, its members with their roles,
/// and (for its admins) the invitations not yet answered.
pub(super) async fn members(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<TeamMembers>, Failure> {
    ctx.signed_in()?;
    Ok(Json(web.get(&ctx, &format!("/v1/teams/{id}/members")).await?))
}

/// The body of `POST /api/teams/{id}/invite` and `/role`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PersonBody {
    /// Username or email.
    user: String,
    /// `admin`, `editor` or `viewer`.
    role: String,
}

/// The team as the caller is in it (a 404 for a stranger, as the server says).
async fn team(web: &super::Web, ctx: &Ctx, id: Id) -> Result<TeamInfo, Failure> {
    Ok(web.get::<TeamMembers>(ctx, &format!("/v1/teams/{id}/members")).await?.team)
}

/// `POST /api/teams/{id}/invite {user, role}`: `{team, message}`; they join
/// when they accept. The server's message is the same whether or not the
/// account exists.
pub(super) async fn invite(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(b): Body<PersonBody>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    required("a username or email", &b.user)?;
    let role = team_role(&b.role)?;
    let info = team(&web, &ctx, id).await?;
    let sent: Accepted =
        web.send(&ctx, Method::POST, &format!("/v1/teams/{id}/invitations"), &Invite { user: b.user.trim().to_string(), role }).await?;
    Ok(Json(json!({ "team": info, "message": sent.message })))
}

/// `POST /api/teams/{id}/role {user, role}`: changes a member's role; answers
/// the members as they are now.
pub(super) async fn set_role(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(b): Body<PersonBody>,
) -> Result<Json<TeamMembers>, Failure> {
    ctx.signed_in()?;
    required("a username or email", &b.user)?;
    let role = team_role(&b.role)?;
    let body = Invite { user: b.user.trim().to_string(), role };
    Ok(Json(web.send(&ctx, Method::POST, &format!("/v1/teams/{id}/members"), &body).await?))
}

/// The body of `POST /api/teams/{id}/remove` and `/cancel-invitation`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WhoBody {
    /// Username, email or id.
    user: String,
}

/// `POST /api/teams/{id}/remove {user}`: takes someone (username, email or
/// user id) out of the team.
pub(super) async fn remove(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(b): Body<WhoBody>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    required("a username or email", &b.user)?;
    let members: TeamMembers = web.get(&ctx, &format!("/v1/teams/{id}/members")).await?;
    let who = b.user.trim();
    let found =
        members.member(who).ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("'{who}' is not in team '{}'", members.team.name)))?;
    web.call(&ctx, Method::DELETE, &format!("/v1/teams/{id}/members/{}", found.user.id), None).await?;
    Ok(Json(json!({ "removed": true })))
}

/// `POST /api/teams/{id}/cancel-invitation {user}`: withdraws an invitation
/// (by id, or by the username or email it went to); answers it.
pub(super) async fn cancel_invitation(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(b): Body<WhoBody>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    required("the invitation", &b.user)?;
    let members: TeamMembers = web.get(&ctx, &format!("/v1/teams/{id}/members")).await?;
    let who = b.user.trim();
    let found = members
        .invitation(who)
        .cloned()
        .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no invitation '{who}' waits in team '{}'", members.team.name)))?;
    web.call(&ctx, Method::DELETE, &format!("/v1/teams/{id}/invitations/{}", found.id), None).await?;
    Ok(Json(json!({ "cancelled": found })))
}

/// `POST /api/teams/{id}/leave`: leaves the team; its shared workspaces
/// leave the sidebar with the next `changed`.
pub(super) async fn leave(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    web.call(&ctx, Method::POST, &format!("/v1/teams/{id}/leave"), None).await?;
    Ok(Json(json!({ "left": true })))
}

/// `POST /api/invitations/{id}/accept`: joins the team; `{team}`.
pub(super) async fn accept(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let bytes = web.call(&ctx, Method::POST, &format!("/v1/invitations/{id}/accept"), None).await?;
    let team: TeamInfo = serde_json::from_slice(&bytes)
        .map_err(|_| Failure::new(ErrorCode::Internal, "the server's answer to accepting an invitation was not a team"))?;
    Ok(Json(json!({ "team": team })))
}

/// `POST /api/invitations/{id}/decline`: `{declined: invitation}`.
pub(super) async fn decline(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let mine = web.get::<Invitations>(&ctx, "/v1/invitations").await?.invitations;
    let inv = mine
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no invitation {id} waits for you")))?;
    web.call(&ctx, Method::POST, &format!("/v1/invitations/{id}/decline"), None).await?;
    Ok(Json(json!({ "declined": inv })))
}

/// The body of `POST /api/workspaces/{id}/share` and `/unshare`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShareBody {
    /// The team's id.
    team: String,
}

/// `POST /api/workspaces/{id}/share {team}`: shares the workspace with a
/// team; `{team, workspace}`. The owner only, as the server says.
pub(super) async fn share(
    State(web): WebState,
    ctx: Ctx,
    PathArg(ws): PathArg<Id>,
    Body(b): Body<ShareBody>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let team_id: Id =
        b.team.trim().parse().map_err(|_| Failure::new(ErrorCode::BadRequest, format!("'{}' is not a team id", b.team.trim())))?;
    let info = team(&web, &ctx, team_id).await?;
    let shared: WorkspaceInfo = web.send(&ctx, Method::POST, &format!("/v1/workspaces/{ws}/share"), &Share { team_id }).await?;
    Ok(Json(json!({ "team": info, "workspace": shared })))
}

/// The workspace as the account has it, and the teams it is shared with
/// (the server answers the owner only).
async fn workspace_shares(web: &super::Web, ctx: &Ctx, ws: Id) -> Result<(WorkspaceInfo, Shares), Failure> {
    let info = web
        .workspace_list(ctx)
        .await?
        .into_iter()
        .find(|w| w.id == ws)
        .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no workspace {ws} in this account")))?;
    let shares: Shares = web.get(ctx, &format!("/v1/workspaces/{ws}/shares")).await?;
    Ok((info, shares))
}

/// `GET /api/workspaces/{id}/shares`: `{workspace, shares: [{team_id, name,
/// members}]}`, as the desktop app answers it.
pub(super) async fn shares(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let (info, list) = workspace_shares(&web, &ctx, ws).await?;
    Ok(Json(json!({ "workspace": info, "shares": list.shares })))
}

/// `POST /api/workspaces/{id}/unshare {team}`: stops sharing the workspace
/// with a team it is shared with; `{workspace, unshared}`.
pub(super) async fn unshare(
    State(web): WebState,
    ctx: Ctx,
    PathArg(ws): PathArg<Id>,
    Body(b): Body<ShareBody>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let team_id: Id =
        b.team.trim().parse().map_err(|_| Failure::new(ErrorCode::BadRequest, format!("'{}' is not a team id", b.team.trim())))?;
    let (info, list) = workspace_shares(&web, &ctx, ws).await?;
    let gone = list
        .shares
        .into_iter()
        .find(|s| s.team_id == team_id)
        .ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("workspace '{}' is not shared with team {team_id}", info.name)))?;
    web.call(&ctx, Method::DELETE, &format!("/v1/workspaces/{ws}/shares/{team_id}"), None).await?;
    Ok(Json(json!({ "workspace": info, "unshared": gone })))
}
