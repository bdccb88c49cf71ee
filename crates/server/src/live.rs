//! The live channel: every connected device of a workspace's members hears
//! at once that the workspace moved on, with the changed documents inline
//! when they are small.

use crate::AppState;
use crate::auth::{authenticate, bearer, check_session};
use crate::error::{Failure, QueryArg};
use crate::notify::{ConnRef, Notice};
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::Response;
use model::Id;
use protocol::{ErrorCode, LiveMessage};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Largest live frame that carries documents inline; past it, devices pull.
const INLINE_BYTES: usize = 64 * 1024;
/// Frames queued per connection before a slow device is cut off (it
/// reconnects and pulls, so nothing is lost).
const QUEUE: usize = 64;
const PING_EVERY: Duration = Duration::from_secs(30);
/// A write to the socket that takes longer means the device stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Live connections of one device at once; a new one closes the device's
/// oldest, so a device reconnecting after a network change always gets in.
pub const MAX_LIVE_PER_DEVICE: usize = 4;
/// At shutdown, devices are told to come back after at least this many ms
/// (a restart takes about that long)…
const RECONNECT_MIN_MS: u64 = 1000;
/// …plus up to this many more, chosen at random per connection.
const RECONNECT_SPREAD_MS: u64 = 4000;
/// When storage cannot say whether a session still holds, ask again after this.
const RECHECK_RETRY: Duration = Duration::from_secs(60);

/// Why a connection ends; delivered beside the frame queue, so a full
/// queue cannot hold it up.
#[derive(Clone)]
pub(crate) enum Ending {
    Close,
    /// Send this `signed_out` frame, then close.
    SignedOut(Utf8Bytes),
    /// Send this `reconnect` frame, then close (the server is stopping).
    Reconnect(Utf8Bytes),
}

struct Conn {
    /// Names the connection to its device (`hello`), unique across processes.
    id: Id,
    device_num: u64,
    tx: mpsc::Sender<Utf8Bytes>,
    end: watch::Sender<Option<Ending>>,
}

impl Conn {
    /// Ends the connection; the first reason given wins.
    fn end(&self, ending: Ending) {
        self.end.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(ending);
            true
        });
    }
}

/// One connection's side of the hub.
pub(crate) struct Handle {
    pub(crate) id: Id,
    pub(crate) frames: mpsc::Receiver<Utf8Bytes>,
    pub(crate) end: watch::Receiver<Option<Ending>>,
}

fn signed_out(reason: String) -> Ending {
    Ending::SignedOut(Utf8Bytes::from(serde_json::to_string(&LiveMessage::SignedOut { reason }).unwrap_or_default()))
}

/// Who is connected, by user.
#[derive(Default)]
pub struct Hub {
    conns: Mutex<HashMap<Id, Vec<Conn>>>,
    /// Set by [`Hub::close_all`]: connections that arrive later end at once.
    closed: AtomicBool,
    /// Connections open and frames dropped, for `/metrics`.
    pub(crate) counts: crate::metrics::LiveCounts,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Vec<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn add(&self, user: Id, device_num: u64) -> Handle {
        let (tx, frames) = mpsc::channel(QUEUE);
        let (end_tx, end) = watch::channel(None);
        let id = Id::now_v7();
        let conn = Conn { id, device_num, tx, end: end_tx };
        self.counts.connections.inc();
        let mut conns = self.lock();
        if self.closed.load(Ordering::Relaxed) {
            conn.end(Ending::Close);
        }
        let list = conns.entry(user).or_default();
        // Oldest first: the device's oldest connections make room for this one.
        let mut open = list.iter().filter(|c| c.device_num == device_num).count();
        list.retain(|c| {
            if c.device_num != device_num || open < MAX_LIVE_PER_DEVICE {
                return true;
            }
            c.end(Ending::Close);
            open -= 1;
            false
        });
        list.push(conn);
        Handle { id, frames, end }
    }

    pub(crate) fn remove(&self, user: Id, conn: Id) {
        self.counts.connections.dec();
        let mut conns = self.lock();
        if let Some(list) = conns.get_mut(&user) {
            list.retain(|c| c.id != conn);
            if list.is_empty() {
                conns.remove(&user);
            }
        }
    }

    /// Tells this process's connections of `notice`.
    pub fn deliver(&self, notice: &Notice) {
        match notice {
            Notice::Pushed { workspace, after, seq, members, pusher, docs } => {
                // The frame is built only when somebody here will read it.
                let mut frame = None;
                let build = || Utf8Bytes::from(push_frame(*workspace, *after, *seq, docs.as_deref(), INLINE_BYTES));
                self.send(members, pusher.as_ref(), || frame.get_or_insert_with(build).clone());
            }
            Notice::Workspaces { users } => {
                let frame = Utf8Bytes::from(serde_json::to_string(&LiveMessage::Workspaces).unwrap_or_default());
                self.send(users, None, || frame.clone());
            }
            Notice::SignedOut { device, reason } => self.sign_out(device.user, device.num, reason.clone()),
        }
    }

    /// Sends a frame to every connection of these users but `skip`.
    fn send(&self, users: &[Id], skip: Option<&ConnRef>, mut frame: impl FnMut() -> Utf8Bytes) {
        let conns = self.lock();
        for user in users {
            for c in conns.get(user).into_iter().flatten() {
                if skip.is_some_and(|s| s.user == *user && s.connection == c.id) {
                    continue;
                }
                // A full queue means the device is not keeping up: close it;
                // it reconnects and pulls what it missed.
                if c.tx.try_send(frame()).is_err() {
                    self.counts.dropped.inc();
                    c.end(Ending::Close);
                }
            }
        }
    }

    /// Tells a device's connections it was signed out, and closes them.
    fn sign_out(&self, user: Id, device_num: u64, reason: String) {
        let ending = signed_out(reason);
        for c in self.lock().get(&user).into_iter().flatten().filter(|c| c.device_num == device_num) {
            c.end(ending.clone());
        }
    }

    /// Tells every connection to reconnect later and closes it, and closes
    /// any that arrive later (at shutdown). Each hears its own pause, spread
    /// over [`RECONNECT_SPREAD_MS`], so devices come back a few at a time.
    pub fn close_all(&self) {
        let conns = self.lock();
        self.closed.store(true, Ordering::Relaxed);
        for c in conns.values().flatten() {
            let after_ms = RECONNECT_MIN_MS + u64::from(getrandom::u32().unwrap_or(0)) % RECONNECT_SPREAD_MS;
            let frame = serde_json::to_string(&LiveMessage::Reconnect { after_ms }).unwrap_or_default();
            c.end(Ending::Reconnect(Utf8Bytes::from(frame)));
        }
    }
}

/// The frame announcing a push: its documents inline when there are
/// `docs` and the whole frame fits in `limit` bytes, else `moved` (devices pull).
pub fn push_frame(workspace_id: Id, after: u64, seq: u64, docs: Option<&[model::Document]>, limit: usize) -> String {
    let moved = || serde_json::to_string(&LiveMessage::Moved { workspace_id, seq }).unwrap_or_default();
    /// [`LiveMessage::Changes`] over borrowed documents.
    #[derive(serde::Serialize)]
    #[serde(tag = "type", rename = "changes")]
    struct Changes<'a> {
        workspace_id: Id,
        after: u64,
        seq: u64,
        docs: &'a [model::Document],
    }
    let Some(docs) = docs else { return moved() };
    let mut w = Bounded { buf: Vec::with_capacity(limit.min(4096)), limit };
    match serde_json::to_writer(&mut w, &Changes { workspace_id, after, seq, docs }) {
        Ok(()) => String::from_utf8(w.buf).unwrap_or_else(|_| moved()),
        Err(_) => moved(),
    }
}

/// A writer that refuses to grow past `limit` bytes, so a frame too big to
/// inline costs nothing more to turn down.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            return Err(std::io::Error::other("over the inline limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `?token=` for clients that cannot set headers on a WebSocket (browsers).
#[derive(serde::Deserialize)]
pub struct LiveQuery {
    token: Option<String>,
}

/// `GET /v1/live`: authenticates, then upgrades to a WebSocket.
pub async fn live(
    State(state): State<AppState>,
    parts: Parts,
    QueryArg(q): QueryArg<LiveQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Failure> {
    let ws = ws.map_err(|rejection| {
        Failure::new(
            ErrorCode::BadRequest,
            format!(
                "this is the live channel: open it as a WebSocket (GET with Connection: Upgrade, Upgrade: websocket, \
                 Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key): {}",
                rejection.body_text()
            ),
        )
    })?;
    let token = bearer(&parts).map(str::to_string).or(q.token);
    let caller = authenticate(&state, token.as_deref()).await?;
    // Kept to look at the session again when it would expire.
    let token = token.unwrap_or_default();
    // Devices only answer pings, so small buffers keep idle connections
    // cheap: 512 bytes hold a pong or a close (a longer message is read in
    // more steps). At 4 KiB each idle device cost 18.9 KB; at 512, 15.2 KB.
    Ok(ws.read_buffer_size(512).write_buffer_size(0).max_message_size(64 * 1024).on_upgrade(move |socket| async move {
        let handle = state.hub.add(caller.user.id, caller.device.num);
        let id = handle.id;
        let session = Session { state: state.clone(), token, last_seen_at: caller.device.last_seen_at };
        serve(socket, handle, caller.device.id, session).await;
        state.hub.remove(caller.user.id, id);
    }))
}

/// The session a connection lives on: it ends when the session would.
struct Session {
    state: AppState,
    token: String,
    last_seen_at: i64,
}

/// What a look at the session found.
enum Verdict {
    /// Still valid; look again after this long.
    Until(Duration),
    /// Over: tell the device why.
    Over(String),
}

impl Session {
    /// How long until the session would expire unused.
    fn remaining(&self) -> Duration {
        let idle = i64::try_from(self.state.config.session_idle_timeout.as_millis()).unwrap_or(i64::MAX);
        // One past the moment `authenticate` starts refusing.
        let expires = self.last_seen_at.saturating_add(idle).saturating_add(1);
        Duration::from_millis(u64::try_from(expires.saturating_sub(crate::now_ms())).unwrap_or(0))
    }

    /// Looks at the session again, without counting the live socket as use.
    async fn check(&mut self) -> Verdict {
        match check_session(&self.state, Some(&self.token)).await {
            Ok(caller) => {
                self.last_seen_at = caller.device.last_seen_at;
                Verdict::Until(self.remaining().max(Duration::from_secs(1)))
            }
            Err(Failure { error: e, .. })
                if matches!(
                    e.code,
                    ErrorCode::SessionExpired | ErrorCode::SessionRevoked | ErrorCode::Unauthorized | ErrorCode::AccountDeleted
                ) =>
            {
                Verdict::Over(e.message)
            }
            Err(Failure { error: e, .. }) => {
                tracing::warn!(error = %e.message, "could not check a live connection's session; checking again later");
                Verdict::Until(RECHECK_RETRY)
            }
        }
    }
}

/// Sends one message, giving up after [`WRITE_TIMEOUT`]; whether it went.
async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.send(msg)).await, Ok(Ok(())))
}

/// Says goodbye as `ending` asks, each write bounded.
async fn finish(socket: &mut WebSocket, ending: Option<Ending>) {
    if let Some(Ending::SignedOut(frame) | Ending::Reconnect(frame)) = ending
        && !send(socket, Message::Text(frame)).await
    {
        return;
    }
    send(socket, Message::Close(None)).await;
}

async fn serve(mut socket: WebSocket, handle: Handle, device_id: Id, mut session: Session) {
    let Handle { mut frames, mut end, id, .. } = handle;
    let hello = serde_json::to_string(&LiveMessage::Hello { device_id, connection: Some(id) }).unwrap_or_default();
    if !send(&mut socket, Message::Text(hello.into())).await {
        return;
    }
    // Pings are traffic, so they must come more often than the idle timeout cuts.
    let every = PING_EVERY.min(session.state.config.idle_timeout / 2).max(Duration::from_millis(100));
    let mut ping = tokio::time::interval(every);
    ping.tick().await;
    let expiry = tokio::time::sleep(session.remaining());
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            biased;
            _ = end.changed() => {
                let ending = end.borrow_and_update().clone();
                finish(&mut socket, ending).await;
                break;
            }
            // Boxed: a check reads the store, and its future inline would
            // more than double what every idle connection holds.
            _ = &mut expiry => match Box::pin(session.check()).await {
                Verdict::Until(wait) => expiry.as_mut().reset(tokio::time::Instant::now() + wait),
                Verdict::Over(reason) => {
                    finish(&mut socket, Some(signed_out(reason))).await;
                    break;
                }
            },
            frame = frames.recv() => match frame {
                Some(t) => {
                    if !send(&mut socket, Message::Text(t)).await {
                        break;
                    }
                }
                None => {
                    finish(&mut socket, None).await;
                    break;
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if !send(&mut socket, Message::Ping(Default::default())).await {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_frames_inline_what_fits_and_else_say_moved() {
        let doc = model::Document {
            id: Id::nil(),
            kind: model::Kind::Request,
            workspace_id: Id::nil(),
            parent_id: None,
            order_key: None,
            fields: model::Fields::new(),
            deleted: false,
            version: 7,
        };
        let full = LiveMessage::Changes { workspace_id: Id::nil(), after: 6, seq: 7, docs: vec![doc.clone()] };
        let full = serde_json::to_string(&full).unwrap();
        assert_eq!(push_frame(Id::nil(), 6, 7, Some(std::slice::from_ref(&doc)), full.len()), full);
        let moved = serde_json::to_string(&LiveMessage::Moved { workspace_id: Id::nil(), seq: 7 }).unwrap();
        assert_eq!(push_frame(Id::nil(), 6, 7, Some(&[doc]), full.len() - 1), moved);
        assert_eq!(push_frame(Id::nil(), 6, 7, None, 1 << 20), moved);
    }
}
