//! The apisync server: accounts and devices, the per-workspace sequence,
//! push with field-level merge, paged pull, and the live channel.
//!
//! Start one with [`start`]; it binds, migrates its storage and serves until
//! [`RunningServer::shutdown`].

mod account;
mod auth;
mod client_addr;
pub mod compact;
mod conn_caps;
pub mod descriptors;
mod error;
mod guard;
mod idle_stream;
mod lifecycle;
pub mod limit;
mod listener;
mod live;
pub mod mail;
mod mail_outbox;
mod mail_queue;
pub mod metrics;
pub mod notify;
mod observe;
mod openapi;
mod operator;
mod purge;
pub mod push;
mod rules;
mod secret;
pub mod store;
mod sync;
mod teams;
mod tls;
mod validate;
pub mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
pub use listener::{DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS};
pub use observe::REQUEST_ID;
pub use secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
pub use store::sqlite::DEFAULT_WAL_LIMIT;
pub use tls::{TlsError, TlsFiles};
use tower_http::compression::CompressionLayer;

/// How a server runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Where the embedded database lives.
    pub data_dir: PathBuf,
    /// A `postgres://` URL: store everything there instead.
    pub database_url: Option<Secret>,
    /// A session unused this long must sign in again.
    pub session_idle_timeout: Duration,
    /// An `smtp://` or `smtps://` URL to send mail through; without one,
    /// mail is written to `mail_outbox`.
    pub smtp_url: Option<Secret>,
    /// The sender of the server's mail.
    pub mail_from: String,
    /// Where mail goes without SMTP [default: `<data_dir>/mail-outbox`].
    pub mail_outbox: Option<PathBuf>,
    /// How long a password-reset token is valid.
    pub reset_token_ttl: Duration,
    /// Pushes read and applied at once; more wait (up to
    /// [`PUSH_QUEUE_WAIT`], then 503). Each may hold a 32 MiB body in memory.
    pub max_concurrent_pushes: usize,
    /// The rate limits (failed sign-ins, guesses at an account, sign-ups, mails).
    pub limits: limit::Limits,
    /// Password hashes computed at once (each argon2 run takes ~19 MiB).
    pub max_concurrent_hashes: usize,
    /// How long a password check waits for a hashing turn before 503.
    pub hash_wait: Duration,
    /// A request's head must arrive within this, and a keep-alive
    /// connection may wait this long for its next request.
    pub header_timeout: Duration,
    /// A connection on which no byte moves this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once [default: the raised RLIMIT_NOFILE less headroom].
    pub max_connections: Option<usize>,
    /// Connections open at once from one client address (an IPv6 /64);
    /// trusted proxies are exempt.
    pub max_connections_per_address: usize,
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` headers name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Serve HTTPS with this certificate and key (reloaded when the files
    /// change); without, plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Bytes the SQLite write-ahead log may reach before it is checkpointed
    /// and truncated, holding writers back if readers keep it busy.
    pub wal_limit: u64,
    /// How long a deleted document's tombstone is kept so that devices
    /// learn of the deletion; a device away longer restores the workspace
    /// (see [`compact`]).
    pub keep_tombstones: Duration,
    /// The app's pages: with them the server also serves the web version
    /// at `/` (see [`web`]); without, only the API.
    pub web_pages: Option<web::PagesFn>,
    /// Writes the Postman files the web version's export downloads; the
    /// writers live with the binary, as the pages do. Without it, export
    /// is the desktop app's.
    pub web_export: Option<web::ExportFn>,
    /// Converts the Postman files the web version imports (the importer
    /// lives with the binary, as the writers do). Without it, import is
    /// the desktop app's.
    pub web_import: Option<web::ImportFn>,
    /// Serve `/metrics` (and the probes) on a listener of their own here.
    pub metrics_addr: Option<SocketAddr>,
    /// Serve `/metrics` on the public listener to requests that carry
    /// `Authorization: Bearer` with this token. With neither this nor
    /// `metrics_addr`, `/metrics` does not exist.
    pub metrics_token: Option<Secret>,
}

/// How long a push waits for its turn before the server answers 503.
pub const PUSH_QUEUE_WAIT: Duration = Duration::from_secs(30);

impl Config {
    /// Defaults for a data directory: loopback port 8080, 90-day sessions.
    pub fn new(data_dir: PathBuf) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir,
            database_url: None,
            session_idle_timeout: Duration::from_secs(90 * 24 * 3600),
            smtp_url: None,
            mail_from: "apisync <apisync@localhost>".into(),
            mail_outbox: None,
            reset_token_ttl: Duration::from_secs(protocol::limits::RESET_TOKEN_SECS),
            max_concurrent_pushes: 4,
            limits: limit::Limits::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()).max(2),
            hash_wait: Duration::from_secs(10),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: None,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            trusted_proxies: Vec::new(),
            tls: None,
            wal_limit: store::sqlite::DEFAULT_WAL_LIMIT,
            keep_tombstones: compact::DEFAULT_KEEP,
            web_pages: None,
            web_export: None,
            web_import: None,
            metrics_addr: None,
            metrics_token: None,
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database in {dir}: {source}")]
    Storage { dir: PathBuf, source: store::StoreError },
    #[error(
        "the data directory {dir} is not writable by this user, {user}: {reason}. Make it writable for that user \
         (e.g. `chown -R {owner} {dir}`), run the server as the directory's owner, or choose another directory with --data-dir"
    )]
    NotWritable { dir: PathBuf, user: String, owner: String, reason: String },
    #[error(
        "the database {file} is damaged ({reason}); the server will not start on it. To restore your last backup, keep the \
         damaged file aside, copy the file `apisync backup` wrote to {file}, delete {file}-wal and {file}-shm if they \
         exist, and start again (see \"Backing up\" in the README)"
    )]
    Corrupt { file: PathBuf, reason: String },
    #[error("cannot connect to PostgreSQL: {0} (check the URL, that the server runs, and that the database exists)")]
    Postgres(store::StoreError),
    /// A newer apisync's schema: this build must not touch it.
    // `refusal`, not `source`: the message is whole, and a chain printed with `{:#}` would repeat it.
    #[error("{database}: {refusal}")]
    SchemaTooNew { database: String, refusal: store::StoreError },
    #[error("cannot listen on {addr}: {source} (is another server running there? choose another with --addr)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot listen for /metrics on {addr}: {source} (is something else there? choose another with --metrics-addr)")]
    MetricsBind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot set up mail: {0}")]
    Mail(mail::MailError),
    #[error("cannot serve HTTPS: {0}")]
    Tls(TlsError),
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    store: Store,
    hub: Arc<live::Hub>,
    /// Every notice devices must hear goes through here.
    notifier: Arc<dyn notify::Notifier>,
    config: Arc<Config>,
    /// Verified against for unknown users so timing hides who exists.
    dummy_hash: Arc<str>,
    /// Password resets and username recovery, sent off the request path.
    mail_queue: mail_queue::MailQueue,
    /// Every rate limit's counts.
    counters: Arc<limit::Counters>,
    /// Turns to hash a password.
    hashing: Arc<tokio::sync::Semaphore>,
    /// Turns to read and apply a push.
    pushes: Arc<tokio::sync::Semaphore>,
    /// Removes deleted workspaces' rows in the background.
    purger: purge::Purger,
    /// Held so the tombstone compactor lives as long as the server.
    _compactor: compact::Compactor,
    /// What `/metrics` shows.
    metrics: Arc<metrics::Metrics>,
}

/// A server that is running.
pub struct RunningServer {
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The `--metrics-addr` listener, if any: its address and task.
    metrics: Option<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)>,
    hub: Arc<live::Hub>,
    store: Store,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` is served apart (`metrics_addr`), if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(addr, _)| *addr)
    }

    /// Stops accepting, tells live devices to reconnect later (each after a
    /// pause of its own, so they do not all return at once), lets requests
    /// in flight finish (for 10 s at most; a push half sent completes and
    /// is answered), then closes storage: on SQLite every committed change
    /// is checkpointed into `apisync.db` and the WAL truncated, so that
    /// file alone is complete.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        // Live connections never end by themselves.
        self.hub.close_all();
        self.wait().await
    }

    /// Serves until the process is interrupted.
    pub async fn wait(self) -> std::io::Result<()> {
        let served = self.task.await.unwrap_or(Ok(()));
        if let Some((_, task)) = self.metrics {
            let _ = task.await;
        }
        let closed = self.store.close().await.map_err(std::io::Error::other);
        served.and(closed)
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The `/v1` API and, when the app's pages were handed in, the web version
/// in front of it.
fn router(state: AppState) -> Router {
    let mut v1 = api(state.clone());
    if state.config.metrics_token.as_ref().is_some_and(|t| !t.is_empty()) {
        v1 = v1.merge(Router::new().route("/metrics", get(operator::metrics_with_token)).with_state(state.clone()));
    }
    let Some(pages) = state.config.web_pages else {
        return v1;
    };
    // The web version calls the API in process, through its own copy.
    let web = web::routes(state, v1.clone());
    v1.merge(web).fallback(move |uri: axum::http::Uri| async move {
        match web::page(Some(pages), &uri) {
            Some(page) => page,
            None => axum::response::IntoResponse::into_response(not_found()),
        }
    })
}

fn not_found() -> error::Failure {
    error::Failure::new(protocol::ErrorCode::NotFound, "no such endpoint; see docs/PROTOCOL.md")
}

/// Brotli at quality 5 makes a sign-in snapshot smaller than the gzip of
/// the same data as a Postman export, in about the time gzip takes.
pub(crate) fn compression() -> CompressionLayer {
    CompressionLayer::new().br(true).gzip(true).quality(tower_http::compression::CompressionLevel::Precise(5))
}

/// The `/v1` API devices speak.
fn api(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(operator::health))
        .route("/readyz", get(operator::ready))
        .route("/v1/auth/signup", post(account::signup))
        .route("/v1/auth/login", post(account::login))
        .route("/v1/auth/logout", post(account::logout))
        .route("/v1/auth/password/forgot", post(lifecycle::forgot_password))
        .route("/v1/auth/password/reset", post(lifecycle::reset_password))
        .route("/v1/auth/username/recover", post(lifecycle::recover_username))
        .route("/v1/account/password", post(lifecycle::change_password))
        .route("/v1/account", delete(lifecycle::delete_account))
        .route("/v1/me", get(account::me))
        .route("/v1/devices", get(account::devices))
        .route("/v1/devices/{id}", delete(account::sign_out_device))
        .route("/v1/workspaces", get(sync::workspaces))
        .route("/v1/workspaces/{id}", delete(sync::delete_workspace))
        .route(
            "/v1/workspaces/{id}/push",
            // The limit goes on outside the turn middleware: reading the
            // body is what waits for a turn.
            post(sync::push)
                .layer::<_, std::convert::Infallible>(axum::middleware::from_fn_with_state(state.clone(), sync::push_turn))
                .layer(DefaultBodyLimit::max(protocol::limits::MAX_BODY_BYTES)),
        )
        .route("/v1/workspaces/{id}/changes", get(sync::changes))
        .route("/v1/workspaces/{id}/docs", post(sync::fetch))
        .route("/v1/workspaces/{id}/share", post(teams::share))
        .route("/v1/workspaces/{id}/shares", get(teams::shares))
        .route("/v1/workspaces/{id}/shares/{team}", delete(teams::unshare))
        .route("/v1/teams", get(teams::list).post(teams::create))
        .route("/v1/teams/{id}/members", get(teams::members).post(teams::set_role))
        .route("/v1/teams/{id}/members/{user}", delete(teams::remove))
        .route("/v1/teams/{id}/invitations", post(teams::invite))
        .route("/v1/teams/{id}/invitations/{invitation}", delete(teams::cancel_invitation))
        .route("/v1/invitations", get(teams::invitations))
        .route("/v1/invitations/{id}/accept", post(teams::accept))
        .route("/v1/invitations/{id}/decline", post(teams::decline))
        .route("/v1/teams/{id}/leave", post(teams::leave))
        .route("/v1/live", get(live::live))
        .route("/openapi.json", get(openapi::serve))
        .fallback(|| async { not_found() })
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(protocol::limits::SMALL_BODY_BYTES))
        .layer(compression())
        .with_state(state)
}

async fn open_store(config: &Config, hub: &Arc<live::Hub>) -> Result<(Store, Arc<dyn notify::Notifier>), StartError> {
    if let Some(url) = &config.database_url {
        let pg = store::postgres::PgStore::open(url.expose()).await.map_err(|e| match e {
            e @ store::StoreError::SchemaTooNew { .. } => {
                StartError::SchemaTooNew { database: "the PostgreSQL database".into(), refusal: e }
            }
            e => StartError::Postgres(e),
        })?;
        // Other processes' pushes and sign-outs reach this process's devices.
        let notifier = notify::PgNotifier::start(pg.pool().clone(), hub.clone())
            .await
            .map_err(|e| StartError::Postgres(store::StoreError::from(e)))?;
        return Ok((Store::Postgres(Arc::new(pg)), Arc::new(notifier)));
    }
    let dir = config.data_dir.clone();
    let options = store::sqlite::SqliteOptions { wal_limit: config.wal_limit };
    let opened = tokio::task::spawn_blocking(move || store::sqlite::SqliteStore::open_with(&dir, options))
        .await
        .unwrap_or_else(|e| Err(store::StoreError::Task(e.to_string())));
    let dir = config.data_dir.clone();
    match opened {
        Ok(sqlite) => Ok((Store::Sqlite(Arc::new(sqlite)), Arc::new(notify::InProcess::new(hub.clone())))),
        Err(store::StoreError::ReadOnly(reason)) => {
            let user = store::sqlite::current_user();
            let owner = user.split(' ').next().unwrap_or("USER").to_string();
            Err(StartError::NotWritable { dir, user, owner, reason })
        }
        Err(store::StoreError::Corrupt(reason)) => Err(StartError::Corrupt { file: dir.join("apisync.db"), reason }),
        Err(refusal @ store::StoreError::SchemaTooNew { .. }) => {
            Err(StartError::SchemaTooNew { database: dir.join("apisync.db").display().to_string(), refusal })
        }
        Err(source) => Err(StartError::Storage { dir, source }),
    }
}

/// Opens storage, binds, and starts serving in the background.
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Before storage: a bad certificate should not wait for a migration.
    let tls = config.tls.clone().map(|files| tls::start(files, stopped.clone())).transpose().map_err(StartError::Tls)?;
    let hub = Arc::new(live::Hub::default());
    let (store, notifier) = open_store(&config, &hub).await?;
    let keep_tombstones = config.keep_tombstones;
    let listener = tokio::net::TcpListener::bind(config.addr).await.map_err(|source| StartError::Bind { addr: config.addr, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.addr, source })?;
    let dummy_hash: Arc<str> = tokio::task::spawn_blocking(|| auth::hash_password("not a real password").map_err(|f| f.error.message))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default()
        .into();
    let outbox = config.mail_outbox.clone().unwrap_or_else(|| config.data_dir.join("mail-outbox"));
    let mailer = mail::Mailer::new(config.smtp_url.as_ref().map(Secret::expose), &config.mail_from, outbox, config.reset_token_ttl)
        .map_err(StartError::Mail)?;
    tracing::info!(mail = %mailer.describe(), "password-reset mail");
    let counters = Arc::new(limit::Counters::for_store(&store));
    let mail_queue = mail_queue::MailQueue::start(mail_queue::Worker {
        store: store.clone(),
        mailer: Arc::new(mailer),
        counters: counters.clone(),
        per_account: config.limits.mails,
        reset_ttl: config.reset_token_ttl,
    });
    let (pushes, hashes) = (config.max_concurrent_pushes.max(1), config.max_concurrent_hashes.max(1));
    let metrics_listener = match config.metrics_addr {
        Some(at) => Some(tokio::net::TcpListener::bind(at).await.map_err(|source| StartError::MetricsBind { addr: at, source })?),
        None => None,
    };
    let state = AppState {
        store: store.clone(),
        hub: hub.clone(),
        notifier,
        config: Arc::new(config),
        dummy_hash,
        mail_queue,
        counters,
        hashing: Arc::new(tokio::sync::Semaphore::new(hashes)),
        pushes: Arc::new(tokio::sync::Semaphore::new(pushes)),
        purger: purge::Purger::start(store.clone()),
        _compactor: compact::start(store.clone(), keep_tombstones),
        metrics: Arc::new(metrics::Metrics::new(&hub.counts)),
    };
    let bounds = listener::Bounds {
        header_timeout: state.config.header_timeout,
        idle_timeout: state.config.idle_timeout,
        max_connections: state.config.max_connections.unwrap_or_else(descriptors::default_max_connections),
        max_connections_per_address: state.config.max_connections_per_address,
        trusted_proxies: state.config.trusted_proxies.clone().into(),
        tls,
    };
    tracing::info!(
        %addr,
        max_connections = bounds.max_connections,
        per_address = bounds.max_connections_per_address,
        tls = bounds.tls.is_some(),
        "apisync server listening"
    );
    let metrics = match metrics_listener {
        Some(listener) => Some(serve_metrics(listener, state.clone(), stopped.clone())?),
        None => None,
    };
    let observed = axum::middleware::from_fn_with_state(state.metrics.clone(), observe::observe);
    let task = tokio::spawn(listener::serve(listener, router(state).layer(observed), bounds, stopped));
    Ok(RunningServer { addr, stop, task, metrics, hub, store })
}

/// Serves `/metrics` and the probes on their own listener until `stop`.
fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>), StartError> {
    let asked = state.config.metrics_addr.unwrap_or(state.config.addr);
    let addr = listener.local_addr().map_err(|source| StartError::MetricsBind { addr: asked, source })?;
    tracing::info!(%addr, "metrics at http://{addr}/metrics");
    let app = operator::private_routes(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
    });
    Ok((addr, task))
}
