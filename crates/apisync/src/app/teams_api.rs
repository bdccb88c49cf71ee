//! The app's team pages: the account's teams, creating one, its members and
//! invitations, inviting, roles, removing someone, leaving, the invitations
//! waiting for this account, and sharing a workspace with a team, listing
//! whom it is shared with and unsharing it. Each is
//! the device library call `apisync team …` / `workspace share` makes, on a
//! blocking thread (`on_device_async`); a team is named by its id. The
//! server's refusals (not an admin, already a member) keep their status,
//! code and message for the page to show.

use super::AppState;
use super::account_api::{Refusal, on_device_async};
use super::error::AppError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use client::parse_team_role;
use model::Id;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

fn parse_id(what: &str, s: &str) -> Result<String, AppError> {
    s.trim().parse::<Id>().map(|id| id.to_string()).map_err(|_| AppError::invalid(format!("'{s}' is not a {what} id")))
}

fn required(what: &str, value: &str) -> Result<(), AppError> {
    if value.trim().is_empty() { Err(AppError::invalid(format!("{what} is required"))) } else { Ok(()) }
}

/// `GET /api/teams`: the account's teams, and the invitations waiting for it.
pub async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Value>, Refusal> {
    let teams = on_device_async(&state, |d| async move { d.teams().await }).await?;
    let invitations = on_device_async(&state, |d| async move { d.invitations().await }).await?;
    Ok(Json(json!({ "teams": teams, "invitations": invitations })))
}

/// The body of `POST /api/teams`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
}

/// `POST /api/teams {name}`: creates a team; this account is its admin (201).
pub async fn create(
    State(state): State<Arc<AppState>>,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let Json(b) = body?;
    required("a team name", &b.name)?;
    let team = on_device_async(&state, move |d| async move { d.create_team(b.name.trim()).await }).await?;
    Ok((StatusCode::CREATED, Json(json!(team))))
}

/// `GET /api/teams/{id}/members`: the team, its members with their roles,
/// and (for its admins) the invitations not yet answered.
pub async fn members(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let team = parse_id("team", &id)?;
    let m = on_device_async(&state, move |d| async move { d.team_members(&team).await }).await?;
    Ok(Json(json!(m)))
}

/// The body of `POST /api/teams/{id}/invite` and `/role`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    /// Username or email.
    user: String,
    /// `admin`, `editor` or `viewer`.
    role: String,
}

/// `POST /api/teams/{id}/invite {user, role}`: invites a person; they join
/// when they accept.
pub async fn invite(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<PersonBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let team = parse_id("team", &id)?;
    let Json(b) = body?;
    required("a username or email", &b.user)?;
    let role = parse_team_role(&b.role).map_err(|e| AppError::invalid(e.to_string()))?;
    let (info, sent) = on_device_async(&state, move |d| async move { d.invite(&team, b.user.trim(), role).await }).await?;
    Ok(Json(json!({ "team": info, "message": sent.message })))
}

/// `POST /api/teams/{id}/role {user, role}`: changes a member's role.
pub async fn set_role(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<PersonBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let team = parse_id("team", &id)?;
    let Json(b) = body?;
    required("a username or email", &b.user)?;
    let role = parse_team_role(&b.role).map_err(|e| AppError::invalid(e.to_string()))?;
    let m = on_device_async(&state, move |d| async move { d.set_team_role(&team, b.user.trim(), role).await }).await?;
    Ok(Json(json!(m)))
}

/// The body of `POST /api/teams/{id}/remove` and `/cancel-invitation`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhoBody {
    /// Username, email or id.
    user: String,
}

/// `POST /api/teams/{id}/remove {user}`: takes someone out of the team.
pub async fn remove(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<WhoBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let team = parse_id("team", &id)?;
    let Json(b) = body?;
    required("a username or email", &b.user)?;
    on_device_async(&state, move |d| async move { d.remove_member(&team, &b.user).await }).await?;
    Ok(Json(json!({ "removed": true })))
}

/// `POST /api/teams/{id}/cancel-invitation {user}`: withdraws an invitation
/// (by id, or by the username or email it went to).
pub async fn cancel_invitation(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<WhoBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let team = parse_id("team", &id)?;
    let Json(b) = body?;
    required("the invitation", &b.user)?;
    let inv = on_device_async(&state, move |d| async move { d.cancel_invitation(&team, &b.user).await }).await?;
    Ok(Json(json!({ "cancelled": inv })))
}

/// `POST /api/teams/{id}/leave`: leaves the team; its shared workspaces
/// leave this device.
pub async fn leave(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let team = parse_id("team", &id)?;
    on_device_async(&state, move |d| async move { d.leave_team(&team).await }).await?;
    Ok(Json(json!({ "left": true })))
}

/// `POST /api/invitations/{id}/accept`: joins the team (then syncs, so its
/// shared workspaces are listed when this answers).
pub async fn accept(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let inv = parse_id("invitation", &id)?;
    let team = on_device_async(&state, move |d| async move { d.accept_invitation(&inv).await }).await?;
    Ok(Json(json!({ "team": team })))
}

/// `POST /api/invitations/{id}/decline`.
pub async fn decline(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let inv = parse_id("invitation", &id)?;
    let gone = on_device_async(&state, move |d| async move { d.decline_invitation(&inv).await }).await?;
    Ok(Json(json!({ "declined": gone })))
}

/// The body of `POST /api/workspaces/{id}/share` and `/unshare`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// The team's id.
    team: String,
}

/// `POST /api/workspaces/{id}/share {team}`: shares the workspace with a
/// team (`apisync workspace share`); the owner only, as the server says.
pub async fn share(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<ShareBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let ws = parse_id("workspace", &id)?;
    let Json(b) = body?;
    let team = parse_id("team", &b.team)?;
    let (info, shared) = on_device_async(&state, move |d| async move { d.share_workspace(&ws, &team).await }).await?;
    Ok(Json(json!({ "team": info, "workspace": shared })))
}

/// `GET /api/workspaces/{id}/shares`: `{workspace, shares: [{team_id, name,
/// members}]}`, the teams the workspace is shared with, as `apisync
/// workspace shares --json` prints them (its owner only, as the server says).
pub async fn shares(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let ws = parse_id("workspace", &id)?;
    let (info, list) = on_device_async(&state, move |d| async move { d.workspace_shares(&ws).await }).await?;
    Ok(Json(json!({ "workspace": info, "shares": list })))
}

/// `POST /api/workspaces/{id}/unshare {team}`: stops sharing the workspace
/// with a team (`apisync workspace unshare`); `{workspace, unshared}`. The
/// team's members lose it at their next sync.
pub async fn unshare(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<ShareBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let ws = parse_id("workspace", &id)?;
    let Json(b) = body?;
    let team = parse_id("team", &b.team)?;
    let (info, gone) = on_device_async(&state, move |d| async move { d.unshare_workspace(&ws, &team).await }).await?;
    Ok(Json(json!({ "workspace": info, "unshared": gone })))
}
