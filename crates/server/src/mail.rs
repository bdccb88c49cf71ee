//! Outgoing mail (password reset, username recovery): through SMTP when the
//! server is configured with `--smtp-url`, otherwise written as one `.eml`
//! file per message to the outbox directory (see `mail_outbox`), so a
//! self-hoster without mail can still hand a reset token over.

use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad address {0}: {1}")]
    Address(String, String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP failed: {0}")]
    Smtp(String),
    #[error("cannot write to the mail outbox {0}: {1}")]
    Outbox(PathBuf, std::io::Error),
    #[error("bad --smtp-url: {0} (use smtps://user:password@host or smtp://host:25?tls=required)")]
    Url(String),
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP relay.
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    /// A directory: one `.eml` file per message, each kept for `keep`.
    Outbox { dir: PathBuf, from: Mailbox, keep: Duration },
}

fn mailbox(s: &str) -> Result<Mailbox, MailError> {
    s.parse().map_err(|e: lettre::address::AddressError| MailError::Address(s.to_string(), e.to_string()))
}

impl Mailer {
    /// SMTP when `smtp_url` is given, else the outbox directory, whose
    /// messages are removed once older than `keep` (a reset token's life).
    /// Narrows the outbox's modes and expires old messages at once.
    pub fn new(smtp_url: Option<&str>, from: &str, outbox: PathBuf, keep: Duration) -> Result<Mailer, MailError> {
        let from = mailbox(from)?;
        match smtp_url {
            Some(url) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| MailError::Url(e.to_string()))?.build();
                Ok(Mailer::Smtp { transport, from })
            }
            None => {
                // Not fatal: the outbox may become writable before the first mail, which reports its own error.
                match crate::mail_outbox::prepare(&outbox).and_then(|()| crate::mail_outbox::expire(&outbox, keep)) {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, dir = %outbox.display(), "expired messages removed from the mail outbox"),
                    Err(e) => tracing::warn!(error = %e, dir = %outbox.display(), "cannot prepare the mail outbox"),
                }
                Ok(Mailer::Outbox { dir: outbox, from, keep })
            }
        }
    }

    /// Where messages go, for the log.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { .. } => "SMTP".into(),
            Mailer::Outbox { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    /// Sends one plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from.clone(),
        };
        let msg = Message::builder()
            .from(from)
            .to(mailbox(to)?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => transport.send(msg).await.map(|_| ()).map_err(|e| MailError::Smtp(e.to_string())),
            Mailer::Outbox { dir, keep, .. } => {
                let bytes = msg.formatted();
                let (dir, keep) = (dir.clone(), *keep);
                let name = format!("{}-{}.eml", crate::now_ms(), model::Id::now_v7().simple());
                tokio::task::spawn_blocking(move || {
                    crate::mail_outbox::write(&dir, &name, &bytes, keep).map_err(|e| MailError::Outbox(dir.clone(), e))
                })
                .await
                .map_err(|e| MailError::Build(e.to_string()))?
            }
        }
    }
}
