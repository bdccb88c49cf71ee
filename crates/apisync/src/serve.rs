//! `apisync serve`: runs the sync server until Ctrl-C or SIGTERM, then
//! stops gracefully (the embedded database is left complete in apisync.db).
//! Every option may also come from an `APISYNC_*` variable or a config file
//! (`serve_config.rs`).

use anyhow::Context;
use clap::Args;
use server::Secret;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Options of `apisync serve`. Secrets (`--database-url`, `--smtp-url`,
/// `--metrics-token`) print redacted, here and in `--help`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Read options from this TOML file: keys are the long option names,
    /// e.g. `addr = "0.0.0.0:8080"` (see docs/apisync.example.toml). The
    /// command line and APISYNC_* variables win over the file.
    #[arg(long, env = "APISYNC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address and port to listen on. Use 0.0.0.0:PORT to accept other
    /// machines (with --tls-cert and --tls-key, or TLS in front: see the
    /// README), port 0 for any free port.
    #[arg(long, env = "APISYNC_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// Directory of the embedded database (created on first start).
    /// Default: $XDG_DATA_HOME/apisync-server, else ~/.local/share/apisync-server.
    #[arg(long, env = "APISYNC_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// Store everything in PostgreSQL instead of the embedded SQLite, e.g.
    /// postgres://apisync@db.internal/apisync. Any number of `apisync serve`
    /// processes may share one database behind a load balancer.
    #[arg(long, env = "APISYNC_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<Secret>,

    /// Days a session may go unused before its device must sign in again.
    #[arg(long, env = "APISYNC_SESSION_IDLE_DAYS", default_value_t = 90.0)]
    session_idle_days: f64,

    /// Send password-reset and username mails through this SMTP server,
    /// e.g. smtps://user:password@mail.example.com or
    /// smtp://relay.internal:25. Without it, mail is written to --mail-outbox.
    #[arg(long, env = "APISYNC_SMTP_URL", value_name = "URL", hide_env_values = true)]
    smtp_url: Option<Secret>,

    /// The sender of the server's mail.
    #[arg(long, env = "APISYNC_MAIL_FROM", default_value = "apisync <apisync@localhost>")]
    mail_from: String,

    /// Without --smtp-url, each mail is written here as one .eml file
    /// [default: <data-dir>/mail-outbox].
    #[arg(long, env = "APISYNC_MAIL_OUTBOX", value_name = "DIR")]
    mail_outbox: Option<PathBuf>,

    /// Seconds a client has to send a request's headers; also how long an
    /// idle keep-alive connection waits for its next request.
    #[arg(long, env = "APISYNC_HEADER_TIMEOUT", value_name = "SECS", default_value_t = server::DEFAULT_HEADER_TIMEOUT.as_secs())]
    header_timeout: u64,

    /// Seconds a connection may go without a byte moving either way before
    /// it is closed: a stalled upload, a client that stopped reading.
    #[arg(long, env = "APISYNC_IDLE_TIMEOUT", value_name = "SECS", default_value_t = server::DEFAULT_IDLE_TIMEOUT.as_secs())]
    idle_timeout: u64,

    /// Connections open at once; more are closed as they arrive
    /// [default: the open-file limit, raised to its maximum, less 128; at least 64].
    #[arg(long, env = "APISYNC_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,

    /// Connections open at once from one client address (an IPv6 /64
    /// counts as one); --trusted-proxy addresses are exempt.
    #[arg(
        long,
        env = "APISYNC_MAX_CONNECTIONS_PER_ADDRESS",
        value_name = "N",
        default_value_t = server::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
    )]
    max_connections_per_address: usize,

    /// A reverse proxy in front of the server, as an address or a CIDR range
    /// (e.g. 10.0.0.0/8); repeat for more (the variable takes a comma-separated
    /// list). Requests from these name the client in X-Forwarded-For (or
    /// Forwarded); from anywhere else those headers are ignored.
    #[arg(long = "trusted-proxy", env = "APISYNC_TRUSTED_PROXIES", value_name = "CIDR", value_delimiter = ',')]
    trusted_proxies: Vec<String>,

    /// Sign-ups allowed per client address per hour; 0 closes sign-up (the
    /// operator creates accounts some other way, e.g. opening it briefly).
    #[arg(long, env = "APISYNC_SIGNUPS_PER_HOUR", value_name = "N", default_value_t = protocol::limits::SIGNUPS_PER_HOUR)]
    signups_per_hour: u32,

    /// Pushes read and applied at once (each may hold a 32 MiB body); more
    /// wait their turn for up to 30 s, then hear 503.
    #[arg(long, env = "APISYNC_MAX_CONCURRENT_PUSHES", value_name = "N", default_value_t = 4)]
    max_concurrent_pushes: usize,

    /// Password hashes computed at once (argon2id, about 19 MiB each) [default: the number of cores, at least 2].
    #[arg(long, env = "APISYNC_MAX_CONCURRENT_HASHES", value_name = "N")]
    max_concurrent_hashes: Option<usize>,

    /// MiB the embedded database's write-ahead log (apisync.db-wal) may
    /// reach before it is checkpointed and truncated; if readers keep it
    /// busy, writes wait (up to 2 s) while it completes.
    #[arg(long, env = "APISYNC_WAL_LIMIT_MIB", value_name = "MIB", default_value_t = server::DEFAULT_WAL_LIMIT / (1024 * 1024))]
    wal_limit_mib: u64,

    /// Days a deleted document's tombstone is kept, so that every device
    /// learns of the deletion; a device that stays away longer restores
    /// the workspace from the server at its next sync (keeping its unsent
    /// edits).
    #[arg(long, env = "APISYNC_KEEP_DELETED_DAYS", value_name = "DAYS", default_value_t = server::compact::DEFAULT_KEEP.as_secs() / 86_400)]
    keep_deleted_days: u64,

    /// Serve only the API, not the web version of the app at `/`.
    #[arg(long, env = "APISYNC_NO_WEB")]
    no_web: bool,

    /// The log on stderr: `text` for people, `json` (one object per line)
    /// for a log collector. Which lines: APISYNC_LOG (e.g. `info`, `debug`,
    /// `server=debug`).
    #[arg(long, env = "APISYNC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// Serve Prometheus metrics at http://ADDR/metrics (with /healthz and
    /// /readyz), apart from the public listener, e.g. 127.0.0.1:9090.
    #[arg(long, env = "APISYNC_METRICS_ADDR", value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,

    /// Serve /metrics on the public listener to requests that carry
    /// `Authorization: Bearer TOKEN`. Without this or --metrics-addr there
    /// is no /metrics.
    #[arg(long, env = "APISYNC_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    metrics_token: Option<Secret>,

    /// Serve HTTPS with this certificate chain (PEM, the server's own
    /// certificate first) and --tls-key. Both files are read again when they
    /// change: a renewed certificate needs no restart.
    #[arg(long, env = "APISYNC_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, RSA or EC).
    #[arg(long, env = "APISYNC_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people; coloured only on a terminal (and without NO_COLOR).
    Text,
    /// One JSON object per line, never coloured.
    Json,
}

/// Logs to stderr in `format`, lines chosen by APISYNC_LOG (default `info`).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("APISYNC_LOG").unwrap_or_else(|_| "info".into());
    let log = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => log.with_ansi(crate::colour()).init(),
        LogFormat::Json => log.json().with_ansi(false).with_current_span(true).with_span_list(false).init(),
    }
}

/// The certificate and key files, given both or neither.
fn tls_files(cert: Option<PathBuf>, key: Option<PathBuf>) -> anyhow::Result<Option<server::TlsFiles>> {
    // An empty variable names no file.
    let given = |p: Option<PathBuf>| p.filter(|p| !p.as_os_str().is_empty());
    match (given(cert), given(key)) {
        (Some(cert), Some(key)) => Ok(Some(server::TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (cert, _) => anyhow::bail!(
            "--tls-cert and --tls-key go together, and only --tls-{} was given: pass the certificate chain and its private key \
             (PEM files), or neither to serve plain HTTP",
            if cert.is_some() { "cert" } else { "key" }
        ),
    }
}

/// An address or CIDR range: `10.0.0.5`, `10.0.0.0/8`, `fd00::/8`.
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{text}' is not an address or CIDR range like 10.0.0.0/8"))
}

/// Where `serve` keeps its data without --data-dir: `apisync-server` in the
/// platform's data directory (`$XDG_DATA_HOME` or `~/.local/share` on Linux).
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    let dirs = directories::BaseDirs::new().context("cannot find a home directory for the data: pass --data-dir DIR")?;
    Ok(dirs.data_dir().join("apisync-server"))
}

/// Runs the server until interrupted.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
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
        if !(url.expose().starts_with("postgres://") || url.expose().starts_with("postgresql://")) {
            anyhow::bail!("--database-url must be a postgres:// URL; leave it out to use the embedded SQLite store in --data-dir");
        }
        config.database_url = Some(url);
    }
    let storage = match &config.database_url {
        Some(url) => format!("PostgreSQL at {url}"),
        None => format!("data in {}", data_dir.display()),
    };
    config.session_idle_timeout = Duration::from_secs_f64(args.session_idle_days * 86_400.0);
    config.smtp_url = args.smtp_url.filter(|u| !u.is_empty());
    config.mail_from = args.mail_from;
    config.mail_outbox = args.mail_outbox;
    if args.header_timeout == 0 || args.idle_timeout == 0 {
        anyhow::bail!("--header-timeout and --idle-timeout must be at least 1 second");
    }
    if args.max_connections == Some(0) || args.max_connections_per_address == 0 {
        anyhow::bail!("--max-connections and --max-connections-per-address must be at least 1");
    }
    config.limits.signups = server::limit::Policy::Window { max: args.signups_per_hour, window_ms: 3_600_000 };
    if args.max_concurrent_pushes == 0 {
        anyhow::bail!("--max-concurrent-pushes must be at least 1");
    }
    config.max_concurrent_pushes = args.max_concurrent_pushes;
    if let Some(n) = args.max_concurrent_hashes {
        if n == 0 {
            anyhow::bail!("--max-concurrent-hashes must be at least 1");
        }
        config.max_concurrent_hashes = n;
    }
    if args.wal_limit_mib == 0 {
        anyhow::bail!("--wal-limit-mib must be at least 1");
    }
    config.wal_limit = args.wal_limit_mib.saturating_mul(1024 * 1024);
    config.keep_tombstones = Duration::from_secs(args.keep_deleted_days.saturating_mul(86_400));
    config.header_timeout = Duration::from_secs(args.header_timeout);
    config.idle_timeout = Duration::from_secs(args.idle_timeout);
    config.max_connections_per_address = args.max_connections_per_address;
    // Empty entries (an empty variable, a trailing comma) name nothing.
    config.trusted_proxies = args
        .trusted_proxies
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| parse_proxy(p).map_err(|e| anyhow::anyhow!("--trusted-proxy: {e}")))
        .collect::<anyhow::Result<_>>()?;
    if let Some(max) = args.max_connections {
        // Without --max-connections the server derives the cap from the raised limit itself.
        let fits = server::descriptors::raise_limit().map(server::descriptors::max_connections_for);
        if let Some(fits) = fits.filter(|&fits| max > fits) {
            tracing::warn!(max, fits, "--max-connections is above what the open-file limit allows; accepts will fail before the cap");
        }
        config.max_connections = Some(max);
    }
    config.tls = tls_files(args.tls_cert, args.tls_key)?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    config.metrics_addr = args.metrics_addr;
    config.metrics_token = args.metrics_token.filter(|t| !t.is_empty());
    if !args.no_web {
        config.web_pages = Some(crate::app::assets::page);
        config.web_export = Some(crate::app::files_api::web_export);
        config.web_import = Some(crate::app::files_api::web_import);
    }
    tracing::debug!(?config, "configuration");
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let stop = shutdown_signal();
        let running = server::start(config).await?;
        // The first line of stdout says where to connect; scripts and tests read it.
        println!("apisync server listening on {scheme}://{} ({storage})", running.addr());
        if !args.no_web {
            // On stderr: scripts read only the first line of stdout, and may close it.
            tracing::info!("the web version of the app is at {scheme}://{}/", running.addr());
        }
        std::io::stdout().flush().ok();
        stop.await;
        tracing::info!("shutting down");
        running.shutdown().await.context("server stopped with an error")
    })
}

/// Ctrl-C or SIGTERM, listened for from the call on (not from the first
/// poll): a signal sent as soon as the address is printed must stop the
/// server gracefully, not kill it. Call inside the runtime.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let (term, int) = (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok());
        let heard = |s: Option<Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        async move {
            tokio::select! { _ = heard(term) => {}, _ = heard(int) => {} }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        assert_eq!(super::parse_proxy("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(super::parse_proxy(" 192.0.2.7 ").unwrap().to_string(), "192.0.2.7/32");
        assert_eq!(super::parse_proxy("fd00::/8").unwrap().to_string(), "fd00::/8");
        assert_eq!(super::parse_proxy("::1").unwrap().to_string(), "::1/128");
        assert!(super::parse_proxy("nginx").unwrap_err().contains("CIDR"));
        assert!(super::parse_proxy("10.0.0.0/33").is_err());
    }

    #[test]
    fn connection_flags_parse_with_their_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: super::ServeArgs,
        }
        let cli = Cli::try_parse_from(["serve", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1"]).unwrap();
        assert_eq!(cli.serve.trusted_proxies.len(), 2);
        assert_eq!(cli.serve.header_timeout, 30);
        assert_eq!(cli.serve.idle_timeout, 60);
        assert_eq!(cli.serve.max_connections, None);
        assert_eq!(cli.serve.max_connections_per_address, 256);
        assert_eq!(cli.serve.wal_limit_mib, 64);
        let cli = Cli::try_parse_from(["serve", "--max-connections", "100", "--idle-timeout", "90"]).unwrap();
        assert_eq!((cli.serve.max_connections, cli.serve.idle_timeout), (Some(100), 90));
    }

    #[test]
    fn tls_files_come_both_or_neither() {
        use std::path::PathBuf;
        let p = |s: &str| Some(PathBuf::from(s));
        assert!(super::tls_files(None, None).unwrap().is_none());
        assert!(super::tls_files(p(""), p("")).unwrap().is_none());
        let both = super::tls_files(p("c.pem"), p("k.pem")).unwrap().unwrap();
        assert_eq!((both.cert, both.key), (PathBuf::from("c.pem"), PathBuf::from("k.pem")));
        let err = super::tls_files(p("c.pem"), None).unwrap_err().to_string();
        assert!(err.contains("only --tls-cert was given"), "{err}");
        let err = super::tls_files(p(""), p("k.pem")).unwrap_err().to_string();
        assert!(err.contains("only --tls-key was given"), "{err}");
    }

    #[test]
    fn secrets_print_redacted() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: super::ServeArgs,
        }
        let cli = Cli::try_parse_from([
            "serve",
            "--database-url",
            "postgres://app:db-s3cret@db/x",
            "--smtp-url",
            "smtps://mailer:smtp-s3cret@mail.example.com",
            "--metrics-token",
            "token-s3cret",
        ])
        .unwrap();
        let shown = format!("{:?}", cli.serve);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://app:***@db/x") && shown.contains("smtps://mailer:***@mail.example.com"), "{shown}");
        assert_eq!(cli.serve.metrics_token.as_ref().map(|t| t.expose()), Some("token-s3cret"));
        let mut config = server::Config::new("/srv".into());
        config.database_url = cli.serve.database_url;
        config.smtp_url = cli.serve.smtp_url;
        config.metrics_token = cli.serve.metrics_token;
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && shown.contains("postgres://app:***@db/x"), "{shown}");
    }
}
