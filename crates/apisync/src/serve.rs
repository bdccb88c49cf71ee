//! `apisync serve`: runs the sync server until Ctrl-C or SIGTERM.

use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `apisync serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on. Use 0.0.0.0:PORT to accept other
    /// machines (put TLS in front: see the README), port 0 for any free port.
    #[arg(long, env = "APISYNC_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// Directory of the embedded database (created on first start).
    /// Default: $XDG_DATA_HOME/apisync-server, else ~/.local/share/apisync-server.
    #[arg(long, env = "APISYNC_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// Store everything in PostgreSQL instead of the embedded SQLite, e.g.
    /// postgres://apisync@db.internal/apisync. Any number of `apisync serve`
    /// processes may share one database behind a load balancer.
    #[arg(long, env = "APISYNC_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,

    /// Days a session may go unused before its device must sign in again.
    #[arg(long, env = "APISYNC_SESSION_IDLE_DAYS", default_value_t = 90.0)]
    session_idle_days: f64,

    /// Send password-reset and username mails through this SMTP server,
    /// e.g. smtps://user:password@mail.example.com or
    /// smtp://relay.internal:25. Without it, mail is written to --mail-outbox.
    #[arg(long, env = "APISYNC_SMTP_URL", value_name = "URL")]
    smtp_url: Option<String>,

    /// The sender of the server's mail.
    #[arg(long, env = "APISYNC_MAIL_FROM", default_value = "apisync <apisync@localhost>")]
    mail_from: String,

    /// Without --smtp-url, each mail is written here as one .eml file
    /// [default: <data-dir>/mail-outbox].
    #[arg(long, env = "APISYNC_MAIL_OUTBOX", value_name = "DIR")]
    mail_outbox: Option<PathBuf>,
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("apisync-server"));
    }
    let home =
        std::env::var_os("HOME").filter(|h| !h.is_empty()).context("cannot find a home directory for the data: pass --data-dir DIR")?;
    Ok(PathBuf::from(home).join(".local/share/apisync-server"))
}

/// Runs the server until interrupted.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("APISYNC_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    if !(args.session_idle_days > 0.0 && args.session_idle_days.is_finite()) {
        anyhow::bail!("--session-idle-days must be a positive number of days");
    }
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let mut config = server::Config::new(data_dir.clone());
    config.addr = args.addr;
    if let Some(url) = args.database_url.filter(|u| !u.is_empty()) {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("--database-url must be a postgres:// URL; leave it out to use the embedded SQLite store in --data-dir");
        }
        config.database_url = Some(url);
    }
    let storage = match &config.database_url {
        Some(url) => format!("PostgreSQL at {}", redact(url)),
        None => format!("data in {}", data_dir.display()),
    };
    config.session_idle_timeout = Duration::from_secs_f64(args.session_idle_days * 86_400.0);
    config.smtp_url = args.smtp_url.filter(|u| !u.is_empty());
    config.mail_from = args.mail_from;
    config.mail_outbox = args.mail_outbox;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = server::start(config).await?;
        // The first line of stdout says where to connect; scripts and tests read it.
        println!("apisync server listening on http://{} ({storage})", running.addr());
        std::io::stdout().flush().ok();
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await.context("server stopped with an error")
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The URL with any password replaced, for logs and messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(super::redact("postgres://app@db/x"), "postgres://app@db/x");
    }
}
