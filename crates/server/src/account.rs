//! Sign-up, sign-in, sign-out and the account's devices: the HTTP side.
//! The rules (the device limit above all) are in `rules::accounts`.

use crate::auth::{Caller, hash_password, new_token, token_hash, verify_password};
use crate::client_addr::ClientAddr;
use crate::error::{Body, Failure, PathArg};
use crate::guard::{self, Target};
use crate::limit::{Policy, Verdict};
use crate::notify::Notice;
use crate::rules::accounts::{self, SignIn};
use crate::store::{Tx, read, transact};
use crate::{AppState, now_ms, validate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use model::Id;
use protocol::limits::{MAX_DEVICES, MAX_PASSWORD_CHARS};
use protocol::{ApiError, DeviceInfo, DeviceLimitDetails, Devices, ErrorCode, LoginRequest, Me, Session, SignupRequest, User};

fn bad(message: impl Into<String>) -> Failure {
    Failure::new(ErrorCode::BadRequest, message)
}

/// The device as it names itself, checked.
fn device(d: &DeviceInfo) -> Result<DeviceInfo, Failure> {
    Ok(DeviceInfo { id: d.id, name: validate::name("device name", &d.name)?.to_string() })
}

/// `POST /v1/auth/signup`: the account, its personal workspace, and this
/// device signed in, all in one transaction. Counted per client address
/// before any work (a server may close sign-up altogether).
pub async fn signup(State(state): State<AppState>, addr: ClientAddr, Body(req): Body<SignupRequest>) -> Result<Json<Session>, Failure> {
    let email = validate::email(&req.email)?.to_string();
    let username = validate::username(&req.username)?.to_string();
    validate::password(&req.password)?;
    let device = device(&req.device)?;
    let policy = state.config.limits.signups;
    if let Policy::Window { max: 0, .. } = policy {
        return Err(Failure::new(ErrorCode::Forbidden, "sign-up is closed on this server; ask its operator for an account"));
    }
    if let Verdict::Refused { retry } = state.counters.attempt(&guard::address_key("signups", addr.ip()), policy, now_ms()).await? {
        tracing::warn!(address = %addr.ip(), "sign-up refused: too many from this address");
        return Err(Failure::new(
            ErrorCode::RateLimited,
            format!("too many sign-ups from this address; try again {}", crate::limit::readable(retry)),
        )
        .retry_after(retry));
    }
    let password = req.password.clone();
    let hash = guard::hashing(&state, move || hash_password(&password)).await??;
    let user = User { id: Id::now_v7(), email, username };
    let token = new_token()?;
    let (th, now, u) = (token_hash(&token), now_ms(), user.clone());
    let signed: SignIn = transact!(state.store, |tx| accounts::sign_up(tx, &u, &hash, &device, &th, now))?;
    tracing::info!(user = %user.username, "account created");
    session(&state, user, token, signed).await
}

/// `POST /v1/auth/login`: the password is checked only once the attempt
/// is counted (see `guard`), and against a real hash even for unknown
/// logins, so neither the answer nor its timing tells who has an account.
pub async fn login(State(state): State<AppState>, addr: ClientAddr, Body(req): Body<LoginRequest>) -> Result<Json<Session>, Failure> {
    let login = validate::login(&req.user)?.to_string();
    let device = device(&req.device)?;
    let (l, device_id) = (login.clone(), device.id);
    let (found, known) = read!(state.store, |tx| async {
        let found = tx.user_by_login(&l).await?;
        let known = match &found {
            Some(u) => tx.device_known(u.user.id, device_id).await?,
            None => false,
        };
        Ok::<_, crate::store::StoreError>((found, known))
    })?;
    let target = match &found {
        Some(u) if known => Target::Device(u.user.id, device_id),
        Some(u) => Target::Account(u.user.id),
        None => Target::Unknown(login.clone()),
    };
    let attempt = guard::begin(&state, addr.ip(), target).await?;
    let wrong = || Failure::new(ErrorCode::InvalidCredentials, "wrong username, email or password; check them and try again");
    if req.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(wrong());
    }
    let password = req.password.clone();
    let phc = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| state.dummy_hash.to_string());
    let ok = guard::hashing(&state, move || verify_password(&password, &phc)).await?;
    let Some(found) = found.filter(|_| ok) else {
        tracing::info!(user = %login, address = %addr.ip(), "failed sign-in");
        return Err(wrong());
    };
    attempt.succeeded(&state).await?;
    let token = new_token()?;
    let (th, uid, replace, now) = (token_hash(&token), found.user.id, req.replace_device, now_ms());
    let signed = transact!(state.store, |tx| accounts::sign_in(tx, uid, &device, &th, replace, now))?;
    session(&state, found.user, token, signed).await
}

/// The answer to a sign-in: the session, or why not.
async fn session(state: &AppState, user: User, token: String, signed: SignIn) -> Result<Json<Session>, Failure> {
    match signed {
        SignIn::Done { device, replaced } => {
            if let Some(num) = replaced {
                state.notifier.publish(Notice::signed_out(user.id, num, format!("replaced by the sign-in of '{}'", device.name)));
            }
            tracing::info!(user = %user.username, device = %device.name, "signed in");
            let workspaces = crate::sync::workspaces_of(state, user.id).await?;
            Ok(Json(Session { token, user, device: device.view(true), workspaces }))
        }
        SignIn::NoSuchDevice => Err(bad("that device is not signed in to this account; `apisync devices` lists the ones that are")),
        SignIn::Limit(devices) => {
            let list: Vec<String> = devices.iter().map(|d| format!("{} ({})", d.name, d.id)).collect();
            let details = DeviceLimitDetails { devices: devices.iter().map(|d| d.view(false)).collect() };
            Err(Failure::from(ApiError {
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
    let (user, device, now) = (caller.user.id, caller.device.id, now_ms());
    transact!(state.store, |tx| accounts::sign_out(tx, user, device, "signed out", now))?;
    state.notifier.publish(Notice::signed_out(caller.user.id, caller.device.num, "signed out"));
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/me`.
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me { device: caller.device.view(true), user: caller.user })
}

/// `GET /v1/devices`.
pub async fn devices(State(state): State<AppState>, caller: Caller) -> Result<Json<Devices>, Failure> {
    let user = caller.user.id;
    let list = read!(state.store, |tx| accounts::devices(tx, user))?;
    Ok(Json(Devices { devices: list.iter().map(|d| d.view(d.num == caller.device.num)).collect() }))
}

/// `DELETE /v1/devices/{id}`: signs another (or this) device of the account out.
pub async fn sign_out_device(State(state): State<AppState>, caller: Caller, PathArg(device): PathArg<Id>) -> Result<StatusCode, Failure> {
    let reason = format!("signed out from '{}'", caller.device.name);
    let (user, r, now) = (caller.user.id, reason.clone(), now_ms());
    match transact!(state.store, |tx| accounts::sign_out(tx, user, device, &r, now))? {
        Some(num) => {
            state.notifier.publish(Notice::signed_out(caller.user.id, num, reason));
            Ok(StatusCode::NO_CONTENT)
        }
        None => {
            Err(Failure::new(ErrorCode::NotFound, format!("no signed-in device {device} on this account; `apisync devices` lists them")))
        }
    }
}
