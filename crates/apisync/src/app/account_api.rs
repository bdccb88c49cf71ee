//! The app's account endpoints: sign up, sign in, sign out and export
//! everything, over the same `client::Device` calls `apisync signup`,
//! `login`, `logout` and `export --all` make. Passwords come only in POST
//! bodies, are handed to the device library and never logged or echoed:
//! the body types have no `Debug`, and no answer repeats them.
//!
//! The background sync (`account::keep_synced`, started by `mod.rs`) needs
//! no signal: it sees a new session on the profile within its poll and goes
//! live, and sees a sign-out as an ended session and waits again.

use super::AppState;
use super::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use client::{ClientError, Device, LoginOptions, SignupOptions};
use model::Id;
use serde::Deserialize;
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

/// Where the page downloads everything from (offered when sign-out is refused).
const EXPORT_PATH: &str = "/api/export";

/// Runs an async device call on a blocking thread: its SQLite work may wait
/// up to the busy timeout behind a CLI process of the same profile, which
/// must not stall the app's two async workers. It also runs to the end if
/// the page goes away mid-call, so a sign-in is never left half restored.
pub(super) async fn on_device_async<T, F, Fut>(state: &AppState, f: F) -> Result<T, Refusal>
where
    T: Send + 'static,
    F: FnOnce(Arc<Device>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let device = Arc::clone(&state.device);
    let rt = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || rt.block_on(f(device))).await {
        Ok(r) => r.map_err(Refusal::Client),
        Err(e) => Err(Refusal::App(AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: e.to_string() })),
    }
}

/// Why an account call failed: the device's error (answered with what the
/// page needs to act on it, such as the devices holding the slots) or the
/// app's own.
pub enum Refusal {
    /// The device library's error.
    Client(ClientError),
    /// The app's own (bad input, an internal failure).
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        Refusal::App(e)
    }
}

impl From<JsonRejection> for Refusal {
    fn from(r: JsonRejection) -> Refusal {
        Refusal::App(r.into())
    }
}

fn error_body(status: StatusCode, code: &str, message: String, extra: Value) -> Response {
    let mut error = json!({ "code": code, "message": message });
    if let (Some(e), Value::Object(more)) = (error.as_object_mut(), extra) {
        e.extend(more);
    }
    (status, Json(json!({ "error": error }))).into_response()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let e = match self {
            Refusal::App(e) => return e.into_response(),
            Refusal::Client(e) => e,
        };
        let conflict = StatusCode::CONFLICT;
        match e {
            // The messages below name what to do in the app; the device
            // library's own name the CLI verbs.
            ClientError::DeviceLimit { devices } => error_body(
                conflict,
                "device_limit",
                format!(
                    "This account already has {} devices signed in, the most allowed. Free a slot: sign one of them out \
                     here (it keeps its unsynced changes until it signs in again), or run `apisync devices sign-out ID` \
                     on a signed-in device.",
                    devices.len()
                ),
                json!({ "devices": devices }),
            ),
            ClientError::UnsyncedChanges(pending) => error_body(
                conflict,
                "unsynced_changes",
                format!(
                    "{pending} change(s) have not reached the server yet, and signing out now would lose them. Wait \
                     until the icon says In sync (the server must be reachable), or export everything first."
                ),
                json!({ "pending": pending, "export": EXPORT_PATH }),
            ),
            ClientError::UnresolvedConflicts(list) => error_body(
                conflict,
                "unresolved_conflicts",
                format!(
                    "{} conflict(s) wait, and signing out now would lose their edits: {}. Settle them (`apisync \
                     conflicts`, `apisync resolve N`), or export everything first.",
                    list.len(),
                    list.join(", ")
                ),
                json!({ "conflicts": list, "export": EXPORT_PATH }),
            ),
            ClientError::OtherAccount { ref other, pending } => {
                error_body(conflict, "other_account", e.to_string(), json!({ "other": other, "pending": pending }))
            }
            // The server's refusal (wrong password, name taken, too many
            // tries) keeps its status and code, so the page can say it.
            ClientError::Api(a) => {
                let status = StatusCode::from_u16(a.code.status()).unwrap_or(StatusCode::BAD_GATEWAY);
                error_body(status, a.code.as_str(), a.message, Value::Null)
            }
            e => AppError::from(e).into_response(),
        }
    }
}

fn required(what: &str, value: &str) -> Result<(), AppError> {
    if value.trim().is_empty() { Err(AppError::invalid(format!("{what} is required"))) } else { Ok(()) }
}

/// The answer to a sign-up or sign-in: who, and the status to show.
async fn signed_in(state: &AppState, user: protocol::User) -> Result<Json<Value>, Refusal> {
    let status = on_device_async(state, |d| async move { d.local_status() }).await?;
    Ok(Json(json!({ "user": user, "status": status })))
}

/// The body of `POST /api/account/signup` (no `Debug`: it holds a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    server: String,
    email: String,
    username: String,
    password: String,
    #[serde(default)]
    device_name: Option<String>,
}

/// `POST /api/account/signup`: creates an account and signs this device in.
pub async fn signup(State(state): State<Arc<AppState>>, body: Result<Json<SignupBody>, JsonRejection>) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    required("the server URL", &b.server)?;
    required("an email", &b.email)?;
    required("a username", &b.username)?;
    required("a password", &b.password)?;
    let o = SignupOptions {
        server: b.server,
        email: b.email,
        username: b.username,
        password: b.password,
        device_name: b.device_name.filter(|n| !n.trim().is_empty()),
        force: false,
    };
    let user = on_device_async(&state, move |d| async move { d.signup(o, None).await }).await?;
    signed_in(&state, user).await
}

/// The body of `POST /api/account/login` (no `Debug`: it holds a password).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    server: String,
    /// Email or username.
    user: String,
    password: String,
    #[serde(default)]
    device_name: Option<String>,
    /// At the device limit: the device of the account to sign out for room.
    #[serde(default)]
    replace: Option<Id>,
}

/// `POST /api/account/login`: signs this device in and restores; at the
/// device limit answers 409 `device_limit` with the devices holding slots.
pub async fn login(State(state): State<Arc<AppState>>, body: Result<Json<LoginBody>, JsonRejection>) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    required("the server URL", &b.server)?;
    required("an email or username", &b.user)?;
    required("a password", &b.password)?;
    let o = LoginOptions {
        server: b.server,
        user: b.user,
        password: b.password,
        device_name: b.device_name.filter(|n| !n.trim().is_empty()),
        replace: b.replace,
        force: false,
    };
    let user = on_device_async(&state, move |d| async move { d.login(o, None).await }).await?;
    signed_in(&state, user).await
}

/// The body of `POST /api/account/logout`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LogoutBody {
    /// Sign out even though unsynced changes or conflicts would be lost.
    #[serde(default)]
    force: bool,
}

/// `POST /api/account/logout`: signs out, as `apisync logout` does; refused
/// (409 `unsynced_changes` / `unresolved_conflicts`, with the export path)
/// while work would be lost, unless `force`.
pub async fn logout(State(state): State<Arc<AppState>>, body: Result<Json<LogoutBody>, JsonRejection>) -> Result<Json<Value>, Refusal> {
    let Json(b) = body?;
    let discarded = on_device_async(&state, move |d| async move { d.logout(b.force).await }).await?;
    let status = on_device_async(&state, |d| async move { d.local_status() }).await?;
    Ok(Json(json!({ "signed_out": true, "discarded": discarded, "status": status })))
}

/// `GET /api/export`: everything on the device (every workspace, the
/// Scratch Pad included) as `apisync export --all` writes it, as a download.
pub async fn export(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    let device = Arc::clone(&state.device);
    let made = tokio::task::spawn_blocking(move || crate::files::export_everything(&device)).await;
    let (value, _) = match made {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: format!("{e:#}") }),
        Err(e) => return Err(AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: e.to_string() }),
    };
    let mut text = serde_json::to_string_pretty(&value).map_err(|e| AppError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "internal",
        message: e.to_string(),
    })?;
    text.push('\n');
    let name = backup_name();
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        text,
    )
        .into_response())
}

/// The backup's download name, dated: `apisync-export-YYYY-MM-DD.json`.
pub(super) fn backup_name() -> String {
    format!("apisync-export-{}.json", today_utc())
}

/// Today's date (UTC) as YYYY-MM-DD, for the download's name.
fn today_utc() -> String {
    runner::dynamic::now_iso()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_is_named_after_a_real_date() {
        let d = today_utc();
        assert_eq!(d.len(), 10, "{d}");
        assert!(d.starts_with("20"), "{d}");
    }
}
