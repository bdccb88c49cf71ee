//! Accepting connections: at most `max_connections` open at once and
//! `max_connections_per_address` from one client address, each with a
//! header-read and an idle timeout, and over TLS a handshake bounded by the
//! header timeout; graceful shutdown with a bound.

use crate::client_addr::is_trusted;
use crate::conn_caps::{ConnCaps, Refused};
use crate::idle_stream::IdleStream;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Default `--header-timeout`: a request's head must arrive within this
/// (also how long a keep-alive connection may wait for its next request).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `--idle-timeout`: a connection on which no byte moves this long
/// is closed. Longer than the live channel's 30 s ping.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default `--max-connections-per-address`.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
/// In-flight requests get this long to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The pause after a failed accept (EMFILE, ENFILE, …): the pending
/// connection stays queued, so retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// At most one warning of a kind this often; the rest are counted.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The bounds the listener enforces.
pub(crate) struct Bounds {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub trusted_proxies: Arc<[IpNet]>,
    /// Serve HTTPS: each connection's handshake must finish within the header timeout.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

/// Logs a kind of warning at most once per [`WARN_EVERY`].
struct Throttle {
    next: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    fn new() -> Throttle {
        Throttle { next: None, suppressed: 0 }
    }

    /// `Some(warnings suppressed since the last one)` when one may be logged now.
    fn ready(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.next.is_some_and(|next| now < next) {
            self.suppressed += 1;
            return None;
        }
        self.next = Some(now + WARN_EVERY);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// Waits until `flag` is true, or its sender is gone.
async fn turned_true(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|f| *f).await;
}

/// Serves `app` on `listener` until `stop` turns true, then lets requests in
/// flight finish for up to [`SHUTDOWN_GRACE`] and drops what remains.
pub(crate) async fn serve(listener: TcpListener, app: Router, bounds: Bounds, mut stop: watch::Receiver<bool>) -> std::io::Result<()> {
    let caps = ConnCaps::new(bounds.max_connections, bounds.max_connections_per_address);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(bounds.header_timeout);
    let (drain, draining) = watch::channel(false);
    let mut conns = JoinSet::new();
    let (mut accept_warning, mut cap_warning) = (Throttle::new(), Throttle::new());
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = turned_true(&mut stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                if let Some(suppressed) = accept_warning.ready() {
                    tracing::warn!(error = %e, suppressed, open = caps.open(), "cannot accept connections; retrying shortly");
                }
                tokio::select! {
                    _ = turned_true(&mut stop) => break,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let slot = match caps.take(peer.ip(), is_trusted(peer.ip(), &bounds.trusted_proxies)) {
            Ok(slot) => slot,
            Err(refused) => {
                // Closing at once keeps descriptors bounded; the client may retry.
                drop(stream);
                if let Some(suppressed) = cap_warning.ready() {
                    match refused {
                        Refused::Total => tracing::warn!(
                            max = bounds.max_connections,
                            suppressed,
                            "connection refused: the server has --max-connections open"
                        ),
                        Refused::Address => tracing::warn!(
                            client = %peer.ip(),
                            max = bounds.max_connections_per_address,
                            suppressed,
                            "connection refused: this address has --max-connections-per-address open"
                        ),
                    }
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let idle = IdleStream::new(stream, bounds.idle_timeout, slot);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            tower_service::Service::call(&mut app.clone(), req)
        });
        let (http, mut draining) = (http.clone(), draining.clone());
        let Some(tls) = bounds.tls.clone() else {
            conns.spawn(serve_connection(http, idle, service, draining, peer));
            continue;
        };
        let handshake_timeout = bounds.header_timeout;
        conns.spawn(async move {
            // The slot is held from the accept: a stranger who never finishes
            // the handshake counts against the caps until the bound closes it.
            let shaken = tokio::select! {
                shaken = tokio::time::timeout(handshake_timeout, tls.accept(idle)) => shaken,
                _ = turned_true(&mut draining) => return,
            };
            match shaken {
                Ok(Ok(stream)) => serve_connection(http, stream, service, draining, peer).await,
                Ok(Err(e)) => tracing::debug!(error = %e, client = %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(client = %peer, "TLS handshake not finished within the header timeout; closed"),
            }
        });
    }
    drop(listener);
    let _ = drain.send(true);
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async { while conns.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!(left = conns.len(), "requests still running after {}s of shutdown were cut off", SHUTDOWN_GRACE.as_secs());
        conns.shutdown().await;
    }
    Ok(())
}

/// Serves HTTP/1.1 (with upgrades, for the live channel) on one connection
/// until it ends, or, once `draining`, until its request in flight is done.
async fn serve_connection<I, S>(
    http: hyper::server::conn::http1::Builder,
    io: I,
    service: S,
    mut draining: watch::Receiver<bool>,
    peer: SocketAddr,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming> + Send,
    S::Future: Send,
    S::ResBody: Send + 'static,
    <S::ResBody as hyper::body::Body>::Data: Send,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = http.serve_connection(TokioIo::new(io), service).with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = turned_true(&mut draining) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, client = %peer, "connection ended");
    }
}
