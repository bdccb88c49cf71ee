//! Sign-up, sign-in, sign-out and the account's devices.

use crate::auth::{Caller, hash_password, new_token, token_hash, verify_password};
use crate::client_addr::ClientAddr;
use crate::error::{Body, Failure};
use crate::store::SignIn;
use crate::{AppState, now_ms};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use model::Id;
use protocol::limits::{MAX_DEVICES, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
use protocol::{ApiError, DeviceInfo, DeviceLimitDetails, Devices, ErrorCode, LoginRequest, Me, Session, SignupRequest, User};

fn bad(message: impl Into<String>) -> Failure {
    Failure::new(ErrorCode::BadRequest, message)
}

fn check_device(d: &DeviceInfo) -> Result<(), Failure> {
    let n = d.name.trim().chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(bad(format!("the device name must be 1 to {MAX_NAME_CHARS} characters")));
    }
    Ok(())
}

fn check_signup(r: &SignupRequest) -> Result<(), Failure> {
    let email = r.email.trim();
    let valid_email = email.len() <= MAX_NAME_CHARS
        && email.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.'))
        && !email.contains(char::is_whitespace);
    if !valid_email {
        return Err(bad(format!("'{}' is not an email address like name@example.com", r.email)));
    }
    let u = &r.username;
    if u.is_empty() || u.chars().count() > 64 || !u.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) || u.contains('@') {
        return Err(bad("a username is 1 to 64 characters of letters, digits, '.', '_' and '-'"));
    }
    let p = r.password.chars().count();
    if p < MIN_PASSWORD_CHARS {
        return Err(bad(format!("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")));
    }
    if p > MAX_PASSWORD_CHARS {
        return Err(bad(format!("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")));
    }
    check_device(&r.device)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f).await.map_err(|_| Failure::new(ErrorCode::Internal, "the server failed to check the password"))
}

/// `POST /v1/auth/signup`: the account, its personal workspace, and this device signed in.
pub async fn signup(State(state): State<AppState>, Body(req): Body<SignupRequest>) -> Result<Json<Session>, Failure> {
    check_signup(&req)?;
    let password = req.password.clone();
    let hash = blocking(move || hash_password(&password)).await??;
    let user = User { id: Id::now_v7(), email: req.email.trim().to_string(), username: req.username.clone() };
    state.store.create_account(user.clone(), hash, Id::now_v7(), now_ms()).await?;
    tracing::info!(user = %user.username, "account created");
    open_session(&state, user, req.device, None).await
}

/// `POST /v1/auth/login`.
pub async fn login(State(state): State<AppState>, addr: ClientAddr, Body(req): Body<LoginRequest>) -> Result<Json<Session>, Failure> {
    check_device(&req.device)?;
    // Failures count against the account and the client address alike.
    let limits = [format!("login:{}", req.user.trim().to_lowercase()), format!("addr:{}", addr.ip())];
    let now = now_ms();
    if let Some(wait) = state.logins.blocked(&limits, now) {
        return Err(Failure::new(
            ErrorCode::RateLimited,
            format!(
                "too many failed sign-ins for this account or from this address; try again {} (at most {} failures in {} minutes)",
                crate::limit::readable(wait),
                protocol::limits::LOGIN_FAILURES,
                protocol::limits::LOGIN_WINDOW_SECS / 60
            ),
        ));
    }
    let wrong = || Failure::new(ErrorCode::InvalidCredentials, "wrong username, email or password; check them and try again");
    if req.password.chars().count() > MAX_PASSWORD_CHARS {
        state.logins.hit(&limits, now);
        return Err(wrong());
    }
    let found = state.store.user_by_login(req.user.trim().to_string()).await?;
    let password = req.password.clone();
    // Verify against a real hash even for unknown users, so timing does not
    // tell which accounts exist.
    let phc = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| state.dummy_hash.to_string());
    let ok = blocking(move || verify_password(&password, &phc)).await?;
    let Some(found) = found.filter(|_| ok) else {
        tracing::info!(user = %req.user, "failed sign-in");
        state.logins.hit(&limits, now);
        return Err(wrong());
    };
    state.logins.clear(&limits[0]);
    open_session(&state, found.user, req.device, req.replace_device).await
}

async fn open_session(state: &AppState, user: User, device: DeviceInfo, replace: Option<Id>) -> Result<Json<Session>, Failure> {
    let token = new_token()?;
    let replaced = match replace {
        Some(r) => state.store.devices(user.id).await?.into_iter().find(|d| d.id == r).map(|d| d.num),
        None => None,
    };
    match state.store.sign_in(user.id, device.clone(), token_hash(&token), replace, MAX_DEVICES, now_ms()).await? {
        SignIn::Done(d) => {
            if let Some(num) = replaced {
                state.hub.sign_out(user.id, num, format!("replaced by the sign-in of '{}'", device.name));
            }
            tracing::info!(user = %user.username, device = %d.name, "signed in");
            let workspaces = state.store.workspaces(user.id).await?;
            Ok(Json(Session { token, user, device: d.view(true), workspaces }))
        }
        SignIn::NoSuchDevice => Err(bad(format!(
            "device {} is not signed in to this account; `apisync devices` lists the ones that are",
            replace.unwrap_or_default()
        ))),
        SignIn::Limit(devices) => {
            let list: Vec<String> = devices.iter().map(|d| format!("{} ({})", d.name, d.id)).collect();
            let details = DeviceLimitDetails { devices: devices.iter().map(|d| d.view(false)).collect() };
            Err(Failure(ApiError {
                code: ErrorCode::DeviceLimit,
                message: format!(
                    "this account already has {MAX_DEVICES} devices signed in: {}. Sign one out with `apisync devices sign-out DEVICE_ID` from a signed-in device, or sign in here with `--replace DEVICE_ID`",
                    list.join(", ")
                ),
                details: serde_json::to_value(details).ok(),
            }))
        }
    }
}

/// `POST /v1/auth/logout`: signs this device out.
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, Failure> {
    state.store.sign_out(caller.user.id, caller.device.id, "signed out".into(), now_ms()).await?;
    state.hub.sign_out(caller.user.id, caller.device.num, "signed out".into());
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/me`.
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me { device: caller.device.view(true), user: caller.user })
}

/// `GET /v1/devices`.
pub async fn devices(State(state): State<AppState>, caller: Caller) -> Result<Json<Devices>, Failure> {
    let devices = state.store.devices(caller.user.id).await?.iter().map(|d| d.view(d.num == caller.device.num)).collect();
    Ok(Json(Devices { devices }))
}

/// `DELETE /v1/devices/{id}`: signs another (or this) device of the account out.
pub async fn sign_out_device(State(state): State<AppState>, caller: Caller, Path(device): Path<Id>) -> Result<StatusCode, Failure> {
    let reason = format!("signed out from '{}'", caller.device.name);
    match state.store.sign_out(caller.user.id, device, reason.clone(), now_ms()).await? {
        Some(num) => {
            state.hub.sign_out(caller.user.id, num, reason);
            Ok(StatusCode::NO_CONTENT)
        }
        None => {
            Err(Failure::new(ErrorCode::NotFound, format!("no signed-in device {device} on this account; `apisync devices` lists them")))
        }
    }
}
