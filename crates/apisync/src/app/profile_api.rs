//! The app's account pages: the account's devices (and signing another one
//! out), password change, forgot password / reset with a mailed token,
//! username recovery, and deleting the account. Each calls the device
//! library as `apisync devices`, `password …`, `username recover` and
//! `account delete` do, on a blocking thread (`on_device_async`). Passwords
//! and tokens arrive only in POST bodies, whose types have no `Debug`, and
//! no answer repeats them.

use super::AppState;
use super::account_api::{Refusal, on_device_async};
use super::error::AppError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use model::Id;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

fn required(what: &str, value: &str) -> Result<(), AppError> {
    if value.trim().is_empty() { Err(AppError::invalid(format!("{what} is required"))) } else { Ok(()) }
}

/// `GET /api/account/devices`: the account's signed-in devices, this one
/// marked `current` (as `apisync devices --json`).
pub async fn devices(State(state): State<Arc<AppState>>) -> Result<Json<Value>, Refusal> {
    let list = on_device_async(&state, |d| async move { d.devices().await }).await?;
    Ok(Json(json!({ "devices": list })))
}

/// `POST /api/account/devices/{id}/sign-out`: signs another device of the
/// account out (`apisync devices sign-out ID`); it keeps its unsynced
/// changes until it signs in again. This device signs out with Sign out.
pub async fn sign_out_device(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let id: Id = id.trim().parse().map_err(|_| AppError::invalid(format!("'{id}' is not a device id")))?;
    let this = on_device_async(&state, |d| async move { d.device_id() }).await?;
    if id == this {
        return Err(AppError::invalid("that is this device: use Sign out in the header").into());
    }
    on_device_async(&state, move |d| async move { d.sign_out_device(id).await }).await?;
    Ok(Json(json!({ "signed_out": id })))
}

/// The body of `POST /api/account/password` (no `Debug`: it holds passwords).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    current: String,
    new: String,
}

/// `POST /api/account/password {current, new}`: changes the password; the
/// account's other devices are signed out (`apisync password change`).
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ChangeBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    required("the current password", &b.current)?;
    required("a new password", &b.new)?;
    on_device_async(&state, move |d| async move { d.change_password(&b.current, &b.new).await }).await?;
    Ok(Json(json!({ "changed": true })))
}

/// The body of `POST /api/account/forgot-password`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotBody {
    server: String,
    /// Email or username.
    user: String,
}

/// `POST /api/account/forgot-password {server, user}`: asks the server to
/// mail a reset token; answers the server's message (the same whether or
/// not the account exists). Needs no session.
pub async fn forgot_password(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ForgotBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    required("the server URL", &b.server)?;
    required("an email or username", &b.user)?;
    let message = on_device_async(&state, move |d| async move { d.forgot_password(&b.server, &b.user).await }).await?;
    Ok(Json(json!({ "message": message })))
}

/// The body of `POST /api/account/reset-password` (no `Debug`: it holds a
/// token and a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    server: String,
    token: String,
    password: String,
}

/// `POST /api/account/reset-password {server, token, password}`: sets a new
/// password with the mailed token; every device of the account signs in again.
pub async fn reset_password(
    State(state): State<Arc<AppState>>,
    body: Result<Json<ResetBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    required("the server URL", &b.server)?;
    required("the token from the mail", &b.token)?;
    required("a new password", &b.password)?;
    on_device_async(&state, move |d| async move { d.reset_password(&b.server, &b.token, &b.password).await }).await?;
    Ok(Json(json!({ "reset": true })))
}

/// The body of `POST /api/account/recover-username`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverBody {
    server: String,
    email: String,
}

/// `POST /api/account/recover-username {server, email}`: asks the server to
/// mail the username of an email address.
pub async fn recover_username(
    State(state): State<Arc<AppState>>,
    body: Result<Json<RecoverBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    required("the server URL", &b.server)?;
    required("an email", &b.email)?;
    let message = on_device_async(&state, move |d| async move { d.recover_username(&b.server, &b.email).await }).await?;
    Ok(Json(json!({ "message": message })))
}

/// The body of `POST /api/account/delete`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    /// The account's username, typed by the person as the CLI asks for it.
    confirm: String,
}

/// `POST /api/account/delete {confirm: USERNAME}`: deletes the account on
/// the server, then its data here (`apisync account delete`); the Scratch
/// Pad stays. The server refuses while the account is in a team (its
/// status, code and message are kept for the page to show).
pub async fn delete_account(
    State(state): State<Arc<AppState>>,
    body: Result<Json<DeleteBody>, JsonRejection>,
) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    let user = on_device_async(&state, |d| async move { d.user() }).await?.ok_or_else(|| AppError::invalid("no account is signed in"))?;
    if b.confirm.trim() != user.username {
        return Err(AppError::invalid(format!("type the username '{}' to confirm; nothing was deleted", user.username)).into());
    }
    on_device_async(&state, |d| async move { d.delete_account().await }).await?;
    let status = on_device_async(&state, |d| async move { d.local_status() }).await?;
    Ok(Json(json!({ "deleted": user.username, "status": status })))
}
