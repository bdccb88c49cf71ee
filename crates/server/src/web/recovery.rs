//! The web version's recovery, for a signed-out browser: forgot password
//! (a reset token by mail), reset with that token, and username recovery,
//! in the desktop app's shapes, each one `/v1/auth/…` call with the
//! browser's address (so the server's per-address limits apply). The
//! desktop app's bodies name the server; here the server is this one, so a
//! `server` given is not used. Tokens and passwords arrive only in POST
//! bodies, whose types have no `Debug`, and no answer repeats them.

use super::{Ctx, WebState};
use crate::error::{Body, Failure};
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use protocol::{Accepted, ErrorCode, ForgotPassword, RecoverUsername, ResetPassword};
use serde::Deserialize;
use serde_json::{Value, json};

fn required(what: &str, value: &str) -> Result<(), Failure> {
    if value.trim().is_empty() { Err(Failure::new(ErrorCode::BadRequest, format!("{what} is required"))) } else { Ok(()) }
}

/// The body of `POST /api/account/forgot-password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ForgotBody {
    /// The desktop app's server URL; the web version is the server.
    #[serde(default, rename = "server")]
    _server: Option<String>,
    /// Email or username.
    user: String,
}

/// `POST /api/account/forgot-password {user}`: `{message}`, the server's
/// answer (the same whether or not the account exists).
pub(super) async fn forgot_password(State(web): WebState, ctx: Ctx, Body(b): Body<ForgotBody>) -> Result<Json<Value>, Failure> {
    required("an email or username", &b.user)?;
    let a: Accepted = web.send(&ctx, Method::POST, "/v1/auth/password/forgot", &ForgotPassword { user: b.user }).await?;
    Ok(Json(json!({ "message": a.message })))
}

/// The body of `POST /api/account/reset-password` (no `Debug`: it holds a
/// token and a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResetBody {
    #[serde(default, rename = "server")]
    _server: Option<String>,
    token: String,
    password: String,
}

/// `POST /api/account/reset-password {token, password}`: `{reset: true}`;
/// every device of the account signs in again.
pub(super) async fn reset_password(State(web): WebState, ctx: Ctx, Body(b): Body<ResetBody>) -> Result<Json<Value>, Failure> {
    required("the token from the mail", &b.token)?;
    required("a new password", &b.password)?;
    let body = serde_json::to_vec(&ResetPassword { token: b.token, password: b.password })
        .map_err(|_| Failure::new(ErrorCode::Internal, "could not encode the reset"))?;
    web.call(&ctx, Method::POST, "/v1/auth/password/reset", Some(body)).await?;
    Ok(Json(json!({ "reset": true })))
}

/// The body of `POST /api/account/recover-username`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecoverBody {
    #[serde(default, rename = "server")]
    _server: Option<String>,
    email: String,
}

/// `POST /api/account/recover-username {email}`: `{message}`, the server's answer.
pub(super) async fn recover_username(State(web): WebState, ctx: Ctx, Body(b): Body<RecoverBody>) -> Result<Json<Value>, Failure> {
    required("an email", &b.email)?;
    let a: Accepted = web.send(&ctx, Method::POST, "/v1/auth/username/recover", &RecoverUsername { email: b.email }).await?;
    Ok(Json(json!({ "message": a.message })))
}
