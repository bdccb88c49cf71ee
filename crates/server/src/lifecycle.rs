//! The account's life cycle: password reset and username recovery by mail,
//! password change, and deleting the account.

use crate::auth::{Caller, hash_password, new_token, token_hash, verify_password};
use crate::client_addr::ClientAddr;
use crate::error::{Body, Failure};
use crate::rules::accounts::{self, AccountDeletion};
use crate::store::{Tx, read, transact};
use crate::{AppState, now_ms, validate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::limits::MAX_PASSWORD_CHARS;
use protocol::{Accepted, ChangePassword, ErrorCode, ForgotPassword, LiveMessage, RecoverUsername, ResetPassword};

const RESET: &str = "password_reset";

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f).await.map_err(|_| Failure::new(ErrorCode::Internal, "the server failed to check the password"))
}

/// Counts a mail request against the account and the address; refuses past the limit.
fn mail_limit(state: &AppState, who: &str, addr: ClientAddr) -> Result<(), Failure> {
    let keys = [format!("mail-user:{}", who.trim().to_lowercase()), format!("mail-addr:{}", addr.ip())];
    let now = now_ms();
    if let Some(wait) = state.mails.blocked(&keys, now) {
        return Err(Failure::new(
            ErrorCode::RateLimited,
            format!(
                "too many reset or recovery requests; try again {} (at most {} an hour)",
                crate::limit::readable(wait),
                protocol::limits::MAIL_REQUESTS_PER_HOUR
            ),
        ));
    }
    state.mails.hit(&keys, now);
    Ok(())
}

fn accepted(message: &str) -> (StatusCode, Json<Accepted>) {
    (StatusCode::ACCEPTED, Json(Accepted { message: message.into() }))
}

/// `POST /v1/auth/password/forgot`: the same answer whether or not the
/// account exists, so nobody learns who has one.
pub async fn forgot_password(
    State(state): State<AppState>,
    addr: ClientAddr,
    Body(req): Body<ForgotPassword>,
) -> Result<(StatusCode, Json<Accepted>), Failure> {
    mail_limit(&state, &req.user, addr)?;
    let login = validate::login(&req.user)?.to_string();
    if let Some(found) = read!(state.store, |tx| tx.user_by_login(&login))? {
        let token = new_token()?.replacen("aps_", "apr_", 1);
        let ttl = state.config.reset_token_ttl;
        let (th, uid, expires) = (token_hash(&token), found.user.id, now_ms() + ttl.as_millis() as i64);
        transact!(state.store, |tx| tx.put_token(&th, uid, RESET, expires))?;
        let minutes = ttl.as_secs().div_ceil(60);
        // Lines stay short so the message needs no transfer encoding and
        // the token reads the same in a mail client and in an outbox file.
        let body = format!(
            "Hello {user},\n\nsomebody (hopefully you) asked to reset the password\n\
             of your apisync account. Within {minutes} minutes, run\n\n\
             \x20   apisync password reset --server SERVER_URL \\\n\
             \x20       --token {token}\n\n\
             where SERVER_URL is the address you sign in to. The token\n\
             works once. Every device of the account signs in again.\n\
             If you did not ask for this, ignore this message: your\n\
             password stays as it is.\n",
            user = found.user.username
        );
        if let Err(e) = state.mailer.send(&found.user.email, "Reset your apisync password", body).await {
            tracing::error!(error = %e, "could not send a password-reset mail");
            return Err(Failure::new(
                ErrorCode::Unavailable,
                "the server could not send mail right now; try again later or ask its operator",
            ));
        }
        tracing::info!(user = %found.user.username, "password-reset mail sent");
    }
    Ok(accepted("if that account exists, a reset token is on its way to its email address"))
}

/// `POST /v1/auth/password/reset`: a new password with a mailed token;
/// every device of the account signs in again.
pub async fn reset_password(State(state): State<AppState>, Body(req): Body<ResetPassword>) -> Result<StatusCode, Failure> {
    validate::password(&req.password)?;
    let (th, now) = (token_hash(req.token.trim()), now_ms());
    let Some(user) = transact!(state.store, |tx| tx.take_token(&th, RESET, now))? else {
        return Err(Failure::new(
            ErrorCode::InvalidToken,
            "this reset token is unknown, already used or expired; ask for a new one with `apisync password forgot`",
        ));
    };
    let password = req.password.clone();
    let hash = blocking(move || hash_password(&password)).await??;
    let reason = "the password was reset".to_string();
    let r = reason.clone();
    for num in transact!(state.store, |tx| accounts::set_password(tx, user, &hash, None, &r, now))? {
        state.hub.sign_out(user, num, reason.clone());
    }
    tracing::info!(%user, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/auth/username/recover`.
pub async fn recover_username(
    State(state): State<AppState>,
    addr: ClientAddr,
    Body(req): Body<RecoverUsername>,
) -> Result<(StatusCode, Json<Accepted>), Failure> {
    mail_limit(&state, &req.email, addr)?;
    let email = validate::login(&req.email)?.to_string();
    let e = email.clone();
    if let Some(found) = read!(state.store, |tx| tx.user_by_login(&e))?.filter(|u| u.user.email.eq_ignore_ascii_case(&email)) {
        let body = format!(
            "Hello,\n\nthe username of the apisync account with this\n\
             email address is:\n\n\x20   {user}\n\n\
             Sign in with\n\n\x20   apisync login --server SERVER_URL --user {user}\n",
            user = found.user.username
        );
        if let Err(e) = state.mailer.send(&found.user.email, "Your apisync username", body).await {
            tracing::error!(error = %e, "could not send a username-recovery mail");
            return Err(Failure::new(
                ErrorCode::Unavailable,
                "the server could not send mail right now; try again later or ask its operator",
            ));
        }
    }
    Ok(accepted("if an account has that email, its username is on its way there"))
}

/// `POST /v1/account/password`: this device stays signed in, the others sign in again.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<ChangePassword>,
) -> Result<StatusCode, Failure> {
    validate::password(&req.new)?;
    let uid = caller.user.id;
    let found =
        read!(state.store, |tx| tx.user(uid))?.ok_or_else(|| Failure::new(ErrorCode::AccountDeleted, "this account no longer exists"))?;
    let (current, phc) = (req.current.clone(), found.password_hash.clone());
    if req.current.chars().count() > MAX_PASSWORD_CHARS || !blocking(move || verify_password(&current, &phc)).await? {
        return Err(Failure::new(ErrorCode::InvalidCredentials, "the current password is wrong; nothing was changed"));
    }
    let new = req.new.clone();
    let hash = blocking(move || hash_password(&new)).await??;
    let reason = format!("the password was changed on '{}'", caller.device.name);
    let (r, keep, now) = (reason.clone(), caller.device.num, now_ms());
    for num in transact!(state.store, |tx| accounts::set_password(tx, uid, &hash, Some(keep), &r, now))? {
        state.hub.sign_out(caller.user.id, num, reason.clone());
    }
    tracing::info!(user = %caller.user.username, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/account`: refused while in a team; otherwise every piece of
/// the account's data goes, and its devices hear `account_deleted`.
pub async fn delete_account(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, Failure> {
    let (uid, now) = (caller.user.id, now_ms());
    match transact!(state.store, |tx| accounts::delete_account(tx, uid, now))? {
        AccountDeletion::InTeams(teams) => {
            let first = teams.first().cloned().unwrap_or_default();
            Err(Failure::new(
                ErrorCode::TeamMember,
                format!(
                    "you are in team(s) {}: leave them first (`apisync team leave '{first}'`), then delete the account",
                    teams.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ")
                ),
            ))
        }
        AccountDeletion::Deleted { devices, others } => {
            for num in devices {
                state.hub.sign_out(caller.user.id, num, "the account was deleted".into());
            }
            if !others.is_empty() {
                let frame = serde_json::to_string(&LiveMessage::Workspaces).unwrap_or_default();
                state.hub.publish(&others, frame);
            }
            tracing::info!(user = %caller.user.username, "account deleted");
            Ok(StatusCode::NO_CONTENT)
        }
    }
}
