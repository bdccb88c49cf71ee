//! `sync --watch`: keep a live channel open, apply what it announces, push
//! the outbox whenever it grows, reconnect with backoff, and beat a heartbeat
//! so `apisync status` knows a watcher runs.

use crate::state::{self, SyncState};
use crate::store;
use crate::sync::{self, SyncReport};
use crate::{ClientError, Device};
use futures_util::StreamExt;
use protocol::{ErrorBody, ErrorCode, LiveMessage};
use serde::Serialize;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

/// Options of [`Device::watch`].
#[derive(Clone, Debug, Default)]
pub struct WatchOptions {
    /// Stop after this long (for tests); `None`: until stopped.
    pub duration: Option<Duration>,
}

/// A change of the sync state while watching.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchEvent {
    /// The new state.
    pub state: SyncState,
    /// Why, for `offline` and `error`.
    pub reason: Option<String>,
    /// Changes waiting to be sent.
    pub pending: u64,
    /// Entries in the conflicts inbox.
    pub conflicts: u64,
}

const POLL: Duration = Duration::from_millis(250);
const HEARTBEAT: Duration = Duration::from_secs(2);
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why a connected session ended.
enum Ended {
    Stopped,
    Lost(ClientError),
    /// The server is stopping and asked to be called back after this long.
    Reconnect(Duration),
}

struct Watcher<'a, F: FnMut(&WatchEvent)> {
    device: &'a Device,
    on_event: F,
    last: Option<(SyncState, Option<String>)>,
    last_beat: Option<Instant>,
}

impl<F: FnMut(&WatchEvent)> Watcher<'_, F> {
    /// Stores the state and tells the caller when it changed.
    fn state(&mut self, st: SyncState, reason: Option<String>) {
        let _ = self.device.set_state(st, reason.as_deref());
        self.emit(st, reason);
    }

    fn emit(&mut self, st: SyncState, reason: Option<String>) {
        if self.last.as_ref() == Some(&(st, reason.clone())) {
            return;
        }
        self.last = Some((st, reason.clone()));
        let s = self.device.local_status();
        let (pending, conflicts) = s.map_or((0, 0), |s| (s.pending, s.conflicts));
        (self.on_event)(&WatchEvent { state: st, reason, pending, conflicts });
    }

    /// Records a failure (the device stores the state) and reports it.
    fn failed(&mut self, e: ClientError) -> ClientError {
        let e = self.device.note_failure(e);
        if let Ok((st, reason)) = self.device.store().read(state::get) {
            self.emit(st, reason);
        }
        e
    }

    fn beat(&mut self) {
        if self.last_beat.is_none_or(|b| b.elapsed() >= HEARTBEAT) {
            let _ = self.device.store().write(|tx| state::heartbeat(tx));
            self.last_beat = Some(Instant::now());
        }
    }
}

fn jitter(d: Duration) -> Duration {
    let r = getrandom::u32().unwrap_or(0) % 1000;
    // ±25 %.
    d.mul_f64(0.75 + f64::from(r) / 2000.0)
}

impl Device {
    /// Watches the live channel until `stop` completes, `opts.duration`
    /// passes, or the session is revoked (an error). `on_event` hears every
    /// change of the sync state.
    pub async fn watch(
        &self,
        opts: WatchOptions,
        stop: impl Future<Output = ()>,
        on_event: impl FnMut(&WatchEvent),
    ) -> Result<(), ClientError> {
        self.transport()?;
        if self.offline {
            return Err(ClientError::Invalid("cannot watch in offline mode; drop --offline / APISYNC_OFFLINE".into()));
        }
        let deadline = opts.duration.map(|d| Instant::now() + d);
        let until = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let mut w = Watcher { device: self, on_event, last: None, last_beat: None };
        tokio::pin!(stop, until);
        let stopper = async {
            tokio::select! { _ = &mut stop => (), _ = &mut until => () }
        };
        let mut stopper = std::pin::pin!(stopper);
        let mut backoff = MIN_BACKOFF;
        loop {
            w.beat();
            let wait = match self.watch_once(&mut w, stopper.as_mut()).await {
                Ended::Stopped => return Ok(()),
                Ended::Lost(e) if e.ends_session() => return Err(e),
                Ended::Lost(_) => {
                    let wait = jitter(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
                // The server spread the pauses itself; if it is not back by
                // then, the usual backoff takes over.
                Ended::Reconnect(after) => {
                    backoff = MIN_BACKOFF;
                    after.min(MAX_BACKOFF)
                }
            };
            let until_retry = Instant::now() + wait;
            while Instant::now() < until_retry {
                w.beat();
                tokio::select! {
                    _ = stopper.as_mut() => return Ok(()),
                    _ = tokio::time::sleep(POLL.min(until_retry.saturating_duration_since(Instant::now()))) => {}
                }
            }
            if w.last.as_ref().is_some_and(|(s, _)| *s == SyncState::InSync) {
                backoff = MIN_BACKOFF;
            }
        }
    }

    async fn watch_once<F: FnMut(&WatchEvent)>(
        &self,
        w: &mut Watcher<'_, F>,
        mut stop: std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Ended {
        let t = match self.transport() {
            Ok(t) => t,
            Err(e) => return Ended::Lost(e),
        };
        w.state(SyncState::Connecting, None);
        let mut req = match t.live_url().into_client_request() {
            Ok(r) => r,
            Err(e) => return Ended::Lost(w.failed(ClientError::Invalid(format!("bad live URL: {e}")))),
        };
        if let Ok(v) = format!("Bearer {}", t.token().unwrap_or_default()).parse() {
            req.headers_mut().insert("authorization", v);
        }
        let connector = if t.live_url().starts_with("wss://") {
            match crate::trust::rustls_config(t.ca()) {
                Ok(c) => Some(tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(c))),
                Err(e) => return Ended::Lost(w.failed(e)),
            }
        } else {
            None
        };
        let connect =
            tokio::time::timeout(self.timeouts.connect * 2, tokio_tungstenite::connect_async_tls_with_config(req, None, false, connector));
        let mut ws = tokio::select! {
            _ = stop.as_mut() => return Ended::Stopped,
            r = connect => match r {
                Ok(Ok((ws, _))) => ws,
                Ok(Err(e)) => return Ended::Lost(w.failed(handshake_error(e))),
                Err(_) => return Ended::Lost(w.failed(ClientError::Unreachable("live channel: connect timed out".into()))),
            },
        };
        // The hello names this connection; pushes that give it are not sent back on it.
        let connection = match tokio::time::timeout(self.timeouts.connect * 2, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<LiveMessage>(t.as_str()) {
                Ok(LiveMessage::Hello { connection, .. }) => connection,
                _ => None,
            },
            Ok(Some(Err(e))) => return Ended::Lost(w.failed(ClientError::Unreachable(format!("live channel: {e}")))),
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                return Ended::Lost(w.failed(ClientError::Unreachable("live channel closed".into())));
            }
            _ => None,
        };
        // Catch up on whatever happened while disconnected.
        w.state(SyncState::Syncing, None);
        if let Err(e) = sync::cycle(self.store(), &t, connection, None, || Ok(())).await {
            return Ended::Lost(w.failed(e));
        }
        w.state(SyncState::InSync, None);
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // An edit made in this process (the app) is pushed at once; the tick
        // finds those of other processes (the CLI).
        let mut writes = self.local_writes();
        loop {
            tokio::select! {
                _ = stop.as_mut() => {
                    let _ = ws.close(None).await;
                    return Ended::Stopped;
                }
                _ = async { tokio::select! { _ = tick.tick() => {}, Ok(()) = writes.changed() => {} } } => {
                    w.beat();
                    if self.pending().unwrap_or(0) > 0 {
                        // Told, not stored: in sync with changes waiting already
                        // shows as syncing, and a durable write would delay the push.
                        w.emit(SyncState::Syncing, None);
                        let mut r = SyncReport::default();
                        if let Err(e) = sync::push_all(self.store(), &t, connection, &mut r).await {
                            return Ended::Lost(w.failed(e));
                        }
                        w.state(SyncState::InSync, None);
                    }
                }
                msg = ws.next() => {
                    let text = match msg {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Close(_))) | None => {
                            return Ended::Lost(w.failed(ClientError::Unreachable("live channel closed".into())));
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return Ended::Lost(w.failed(ClientError::Unreachable(format!("live channel: {e}")))),
                    };
                    let Ok(m) = serde_json::from_str::<LiveMessage>(text.as_str()) else { continue };
                    if let LiveMessage::Reconnect { after_ms } = m {
                        let _ = ws.close(None).await;
                        w.state(SyncState::Offline, Some("the server is restarting; reconnecting shortly".into()));
                        return Ended::Reconnect(Duration::from_millis(after_ms));
                    }
                    // Told, not stored: a durable write before the frame's own
                    // would delay the change on its way to the person.
                    w.emit(SyncState::Syncing, None);
                    match self.on_live(&t, m).await {
                        Ok(()) => w.state(SyncState::InSync, None),
                        Err(e) => return Ended::Lost(w.failed(e)),
                    }
                }
            }
        }
    }

    async fn on_live(&self, t: &crate::transport::Transport, m: LiveMessage) -> Result<(), ClientError> {
        let mut r = SyncReport::default();
        match m {
            LiveMessage::Hello { .. } => Ok(()),
            LiveMessage::Changes { workspace_id, after, seq, docs } => {
                let ws = self.store().read(|c| store::workspace(c, workspace_id))?;
                match ws {
                    Some(ws) if ws.cursor >= after => sync::write_for(self.store(), t, |tx| {
                        sync::store_docs(tx, workspace_id, &docs)?;
                        store::advance_cursor(tx, workspace_id, seq, seq)
                    }),
                    Some(ws) => sync::pull(self.store(), t, &ws, None, &mut r).await,
                    None => {
                        sync::refresh_workspaces(self.store(), t).await?;
                        sync::pull_all(self.store(), t, None, &mut r).await
                    }
                }
            }
            LiveMessage::Moved { workspace_id, .. } => match self.store().read(|c| store::workspace(c, workspace_id))? {
                Some(ws) => sync::pull(self.store(), t, &ws, None, &mut r).await,
                None => {
                    sync::refresh_workspaces(self.store(), t).await?;
                    sync::pull_all(self.store(), t, None, &mut r).await
                }
            },
            LiveMessage::Workspaces => {
                sync::refresh_workspaces(self.store(), t).await?;
                sync::pull_all(self.store(), t, None, &mut r).await
            }
            // Handled by the loop, which closes the connection.
            LiveMessage::Reconnect { .. } => Ok(()),
            LiveMessage::SignedOut { reason } => {
                Err(ClientError::Api(protocol::ApiError::new(ErrorCode::SessionRevoked, format!("this device was signed out ({reason})"))))
            }
        }
    }
}

fn handshake_error(e: tungstenite::Error) -> ClientError {
    match e {
        tungstenite::Error::Http(resp) => {
            let body = resp.body().as_deref().and_then(|b| serde_json::from_slice::<ErrorBody>(b).ok());
            match body {
                Some(b) => ClientError::Api(b.error),
                None => {
                    let code = match resp.status().as_u16() {
                        401 => ErrorCode::Unauthorized,
                        404 => ErrorCode::NotFound,
                        s if s >= 500 => ErrorCode::Unavailable,
                        _ => ErrorCode::BadRequest,
                    };
                    ClientError::Api(protocol::ApiError::new(code, format!("live channel refused: {}", resp.status())))
                }
            }
        }
        tungstenite::Error::Url(u) => ClientError::Invalid(format!("live channel: {u}")),
        other => match crate::trust::untrusted(&other) {
            Some(why) => ClientError::Untrusted(why),
            None => ClientError::Unreachable(format!("live channel: {other}")),
        },
    }
}
