//! Passwords, session tokens, and the extractor that authenticates a request.

use crate::AppState;
use crate::error::Failure;
use crate::store::{DeviceRecord, SessionRecord, Tx, read, transact};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use protocol::{ErrorCode, User};
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id and a random salt (a PHC string).
pub fn hash_password(password: &str) -> Result<String, Failure> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        Failure::new(ErrorCode::Internal, "could not hash the password")
    })
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A fresh opaque session token: 256 random bits.
pub fn new_token() -> Result<String, Failure> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        Failure::new(ErrorCode::Internal, "the server could not mint a token")
    })?;
    Ok(format!("aps_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// What the server stores of a token: its SHA-256, hex. Tokens carry 256
/// random bits, so a fast hash is enough; a leaked table gives no tokens.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The caller of an authenticated request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub device: DeviceRecord,
}

/// The bearer token of a request, from `Authorization: Bearer …`.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// Resolves a token to its caller, refusing revoked and expired sessions,
/// and records that the device was seen.
pub async fn authenticate(state: &AppState, token: Option<&str>) -> Result<Caller, Failure> {
    let mut caller = check_session(state, token).await?;
    let now = crate::now_ms();
    // Remember the device was seen, at most once a minute: no write per request.
    if now - caller.device.last_seen_at > 60_000 {
        let num = caller.device.num;
        transact!(state.store, |tx| tx.touch(num, now))?;
        caller.device.last_seen_at = now;
    }
    Ok(caller)
}

/// Resolves a token to its caller, refusing revoked and expired sessions,
/// without counting this as the device being seen.
pub async fn check_session(state: &AppState, token: Option<&str>) -> Result<Caller, Failure> {
    let Some(token) = token else {
        return Err(Failure::new(ErrorCode::Unauthorized, "sign in first: send Authorization: Bearer TOKEN (apisync login does this)"));
    };
    let hash = token_hash(token);
    let found = read!(state.store, |tx| async {
        match tx.session(&hash).await? {
            Some(s) => Ok::<_, crate::store::StoreError>(Ok(s)),
            None => Ok(Err(tx.session_gone(&hash).await?)),
        }
    })?;
    let SessionRecord { user, device, revoked } = match found {
        Ok(s) => s,
        Err(gone) => {
            if gone {
                return Err(Failure::new(
                    ErrorCode::AccountDeleted,
                    "this account was deleted; its data is gone from the server and this device drops its copy",
                ));
            }
            return Err(Failure::new(
                ErrorCode::Unauthorized,
                "this session is not known to the server; sign in again with `apisync login`",
            ));
        }
    };
    if let Some(reason) = revoked {
        return Err(Failure::new(
            ErrorCode::SessionRevoked,
            format!("this device was signed out ({reason}); sign in again with `apisync login`"),
        ));
    }
    let now = crate::now_ms();
    let idle = state.config.session_idle_timeout.as_millis() as i64;
    if now - device.last_seen_at > idle {
        return Err(Failure::new(
            ErrorCode::SessionExpired,
            "this session expired after a long time unused; sign in again with `apisync login`",
        ));
    }
    Ok(Caller { user, device })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(state, bearer(parts)).await
    }
}
