//! The account's life cycle: password reset and username recovery by mail,
//! password change, and deleting the account.

use crate::auth::{Caller, hash_password, token_hash, verify_password};
use crate::client_addr::ClientAddr;
use crate::error::{Body, Failure};
use crate::guard::{self, Target};
use crate::limit::{Verdict, readable};
use crate::mail_queue::{self, MailJob};
use crate::notify::Notice;
use crate::rules::accounts::{self, AccountDeletion};
use crate::store::{Tx, read, transact};
use crate::{AppState, now_ms, validate};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::limits::MAX_PASSWORD_CHARS;
use protocol::{Accepted, ChangePassword, ErrorCode, ForgotPassword, RecoverUsername, ResetPassword};

fn accepted(message: &str) -> (StatusCode, Json<Accepted>) {
    (StatusCode::ACCEPTED, Json(Accepted { message: message.into() }))
}

/// Counts a reset or recovery request against the client address (the
/// worker counts it against the account too); refuses past the limit.
async fn mail_limit(state: &AppState, addr: ClientAddr) -> Result<(), Failure> {
    let policy = state.config.limits.mails;
    if let Verdict::Refused { retry } = state.counters.attempt(&guard::address_key("mail", addr.ip()), policy, now_ms()).await? {
        tracing::warn!(address = %addr.ip(), "reset or recovery refused: too many from this address");
        return Err(Failure::new(ErrorCode::RateLimited, format!("too many reset or recovery requests; try again {}", readable(retry)))
            .retry_after(retry));
    }
    Ok(())
}

/// `POST /v1/auth/password/forgot`: the same answer, at once, whether or
/// not the account exists; the mail goes out from the queue.
pub async fn forgot_password(
    State(state): State<AppState>,
    addr: ClientAddr,
    Body(req): Body<ForgotPassword>,
) -> Result<(StatusCode, Json<Accepted>), Failure> {
    let login = validate::login(&req.user)?.to_string();
    mail_limit(&state, addr).await?;
    state.mail_queue.submit(MailJob::Reset { login })?;
    Ok(accepted("if that account exists, a reset token is on its way to its email address"))
}

/// `POST /v1/auth/password/reset`: a new password with a mailed token;
/// every device of the account signs in again.
pub async fn reset_password(State(state): State<AppState>, Body(req): Body<ResetPassword>) -> Result<StatusCode, Failure> {
    validate::password(&req.password)?;
    let (th, now) = (token_hash(req.token.trim()), now_ms());
    let Some(user) = transact!(state.store, |tx| tx.take_token(&th, mail_queue::RESET, now))? else {
        return Err(Failure::new(
            ErrorCode::InvalidToken,
            "this reset token is unknown, already used or expired; ask for a new one with `apisync password forgot`",
        ));
    };
    let password = req.password.clone();
    let hash = guard::hashing(&state, move || hash_password(&password)).await??;
    let reason = "the password was reset".to_string();
    let r = reason.clone();
    for num in transact!(state.store, |tx| accounts::set_password(tx, user, &hash, None, &r, now))? {
        state.notifier.publish(Notice::signed_out(user, num, reason.clone()));
    }
    tracing::info!(%user, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/auth/username/recover`: like `forgot`, the same answer for everyone.
pub async fn recover_username(
    State(state): State<AppState>,
    addr: ClientAddr,
    Body(req): Body<RecoverUsername>,
) -> Result<(StatusCode, Json<Accepted>), Failure> {
    let email = validate::login(&req.email)?.to_string();
    mail_limit(&state, addr).await?;
    state.mail_queue.submit(MailJob::Username { email })?;
    Ok(accepted("if an account has that email, its username is on its way there"))
}

/// `POST /v1/account/password`: this device stays signed in, the others sign in again.
/// A wrong current password counts like a failed sign-in.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    addr: ClientAddr,
    Body(req): Body<ChangePassword>,
) -> Result<StatusCode, Failure> {
    validate::password(&req.new)?;
    let uid = caller.user.id;
    let found =
        read!(state.store, |tx| tx.user(uid))?.ok_or_else(|| Failure::new(ErrorCode::AccountDeleted, "this account no longer exists"))?;
    let attempt = guard::begin(&state, addr.ip(), Target::Device(uid, caller.device.id)).await?;
    let (current, phc) = (req.current.clone(), found.password_hash.clone());
    if req.current.chars().count() > MAX_PASSWORD_CHARS || !guard::hashing(&state, move || verify_password(&current, &phc)).await? {
        return Err(Failure::new(ErrorCode::InvalidCredentials, "the current password is wrong; nothing was changed"));
    }
    attempt.succeeded(&state).await?;
    let new = req.new.clone();
    let hash = guard::hashing(&state, move || hash_password(&new)).await??;
    let reason = format!("the password was changed on '{}'", caller.device.name);
    let (r, keep, now) = (reason.clone(), caller.device.num, now_ms());
    for num in transact!(state.store, |tx| accounts::set_password(tx, uid, &hash, Some(keep), &r, now))? {
        state.notifier.publish(Notice::signed_out(caller.user.id, num, reason.clone()));
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
                state.notifier.publish(Notice::signed_out(caller.user.id, num, "the account was deleted"));
            }
            if !others.is_empty() {
                state.notifier.publish(Notice::Workspaces { users: others });
            }
            tracing::info!(user = %caller.user.username, "account deleted");
            Ok(StatusCode::NO_CONTENT)
        }
    }
}
