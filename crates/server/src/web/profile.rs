//! The web version's account pages: the account's devices (and signing
//! another one out), the password change and deleting the account, in the
//! desktop app's shapes, each `/v1` calls as this browser's device (teams
//! are `teams.rs`). Passwords arrive only in POST bodies, whose type has no
//! `Debug`, and no answer repeats them.

use super::{Ctx, WebState};
use crate::error::{Body, Failure, PathArg};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use model::Id;
use protocol::{ChangePassword, Devices, ErrorCode, Me};
use serde::Deserialize;
use serde_json::{Value, json};

/// `GET /api/account/devices`: `{devices: [{id, name, signed_in_at,
/// last_seen_at, current}]}`, this browser marked `current`.
pub(super) async fn devices(State(web): WebState, ctx: Ctx) -> Result<Json<Devices>, Failure> {
    ctx.signed_in()?;
    Ok(Json(web.get::<Devices>(&ctx, "/v1/devices").await?))
}

/// `POST /api/account/devices/{id}/sign-out`: signs another device of the
/// account out; this browser signs out with Sign out in the header.
pub(super) async fn sign_out_device(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let list = web.get::<Devices>(&ctx, "/v1/devices").await?;
    if list.devices.iter().any(|d| d.id == id && d.current) {
        return Err(Failure::new(ErrorCode::BadRequest, "that is this browser: use Sign out in the header"));
    }
    web.call(&ctx, Method::DELETE, &format!("/v1/devices/{id}"), None).await?;
    Ok(Json(json!({ "signed_out": id })))
}

/// The body of `POST /api/account/password` (no `Debug`: it holds passwords).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChangeBody {
    current: String,
    new: String,
}

/// `POST /api/account/password {current, new}`: changes the password. The
/// server signs the account's other devices out and keeps the session that
/// asked, so this browser stays signed in.
pub(super) async fn change_password(State(web): WebState, ctx: Ctx, Body(b): Body<ChangeBody>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    for (what, value) in [("the current password", &b.current), ("a new password", &b.new)] {
        if value.trim().is_empty() {
            return Err(Failure::new(ErrorCode::BadRequest, format!("{what} is required")));
        }
    }
    let body = serde_json::to_vec(&ChangePassword { current: b.current, new: b.new })
        .map_err(|_| Failure::new(ErrorCode::Internal, "could not encode the password change"))?;
    web.call(&ctx, Method::POST, "/v1/account/password", Some(body)).await?;
    Ok(Json(json!({ "changed": true })))
}

/// The body of `POST /api/account/delete`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteBody {
    /// The account's username, typed by the person as the CLI asks for it.
    confirm: String,
}

/// `POST /api/account/delete {confirm: USERNAME}`: deletes the account on
/// the server (`DELETE /v1/account`) and ends the session in the browser;
/// answers `{deleted, status}` as the desktop app does. The server refuses
/// while the account is in a team (409 `team_member`, passed on as it is).
pub(super) async fn delete_account(State(web): WebState, ctx: Ctx, Body(b): Body<DeleteBody>) -> Result<Response, Failure> {
    ctx.signed_in()?;
    let me: Me = web.get(&ctx, "/v1/me").await?;
    if b.confirm.trim() != me.user.username {
        return Err(Failure::new(
            ErrorCode::BadRequest,
            format!("type the username '{}' to confirm; nothing was deleted", me.user.username),
        ));
    }
    web.call(&ctx, Method::DELETE, "/v1/account", None).await?;
    let signed_out = Ctx { token: None, ..ctx.clone() };
    let status = super::account::status_of(&web, &signed_out).await;
    let mut res = Json(json!({ "deleted": me.user.username, "status": status })).into_response();
    res.headers_mut().insert(header::SET_COOKIE, ctx.end_session());
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
