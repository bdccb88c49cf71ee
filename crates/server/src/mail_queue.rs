//! Reset and recovery mail, off the request path. The handlers answer the
//! same, at once, whether or not an account exists; this queue's worker
//! looks the account up, counts the mail against it, stores the token and
//! sends the mail. Nothing about the account reaches the answer: not its
//! existence, not the time its database work takes, not a failing outbox.

use crate::auth::{new_token, token_hash};
use crate::error::Failure;
use crate::limit::{Counters, Policy, Verdict};
use crate::mail::Mailer;
use crate::store::{Store, StoreError, Tx, read, transact};
use protocol::ErrorCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Requests waiting for the worker at most; past it the server answers 503.
pub const QUEUE: usize = 256;

/// What single-use reset tokens are for.
pub const RESET: &str = "password_reset";

/// One mail to send, if an account answers to it.
#[derive(Debug)]
pub enum MailJob {
    /// A reset token for the account with this username or email.
    Reset { login: String },
    /// The username of the account with this email.
    Username { email: String },
}

/// The way into the worker.
#[derive(Clone)]
pub struct MailQueue {
    tx: mpsc::Sender<MailJob>,
}

/// What the worker needs.
pub struct Worker {
    pub store: Store,
    pub mailer: Arc<Mailer>,
    pub counters: Arc<Counters>,
    pub per_account: Policy,
    pub reset_ttl: Duration,
}

impl MailQueue {
    /// Starts the worker.
    pub fn start(worker: Worker) -> MailQueue {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                if let Err(e) = worker.handle(job).await {
                    tracing::error!(error = %e, "a reset or recovery mail failed");
                }
            }
        });
        MailQueue { tx }
    }

    /// Queues a job; 503 when the queue is full (whoever asked).
    pub fn submit(&self, job: MailJob) -> Result<(), Failure> {
        self.tx.try_send(job).map_err(|_| {
            tracing::warn!("the mail queue is full");
            Failure::new(ErrorCode::Unavailable, "the server has too much mail to send right now; try again in a few minutes")
        })
    }
}

impl Worker {
    async fn handle(&self, job: MailJob) -> Result<(), String> {
        let login = match &job {
            MailJob::Reset { login } => login.clone(),
            MailJob::Username { email } => email.clone(),
        };
        let l = login.clone();
        let found = read!(self.store, |tx| tx.user_by_login(&l)).map_err(|e: StoreError| e.to_string())?;
        let Some(found) = found else { return Ok(()) };
        if let MailJob::Username { email } = &job
            && !found.user.email.eq_ignore_ascii_case(email)
        {
            return Ok(());
        }
        // Counted per account, however it was spelled.
        let key = format!("mail:{}", found.user.id);
        if let Verdict::Refused { .. } = self.counters.attempt(&key, self.per_account, crate::now_ms()).await.map_err(|e| e.to_string())? {
            tracing::warn!(user = %found.user.username, "reset and recovery mail refused: too many for this account");
            return Ok(());
        }
        let (subject, body) = match job {
            MailJob::Reset { .. } => {
                let token = new_token().map_err(|f| f.error.message)?.replacen("aps_", "apr_", 1);
                let (th, uid) = (token_hash(&token), found.user.id);
                let expires = crate::now_ms() + i64::try_from(self.reset_ttl.as_millis()).unwrap_or(i64::MAX);
                transact!(self.store, |tx| tx.put_token(&th, uid, RESET, expires)).map_err(|e: StoreError| e.to_string())?;
                let minutes = self.reset_ttl.as_secs().div_ceil(60);
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
                ("Reset your apisync password", body)
            }
            MailJob::Username { .. } => {
                let body = format!(
                    "Hello,\n\nthe username of the apisync account with this\n\
                     email address is:\n\n\x20   {user}\n\n\
                     Sign in with\n\n\x20   apisync login --server SERVER_URL --user {user}\n",
                    user = found.user.username
                );
                ("Your apisync username", body)
            }
        };
        self.mailer.send(&found.user.email, subject, body).await.map_err(|e| e.to_string())?;
        tracing::info!(user = %found.user.username, subject, "mail sent");
        Ok(())
    }
}
