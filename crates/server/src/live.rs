//! The live channel: every connected device of a workspace's members hears
//! at once that the workspace moved on, with the changed documents inline
//! when they are small.

use crate::AppState;
use crate::auth::{authenticate, bearer};
use crate::error::Failure;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::response::Response;
use model::Id;
use protocol::LiveMessage;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Frames queued per connection before a slow device is cut off (it
/// reconnects and pulls, so nothing is lost).
const QUEUE: usize = 64;
const PING_EVERY: Duration = Duration::from_secs(30);

enum Frame {
    Text(Utf8Bytes),
    Close,
}

struct Conn {
    id: u64,
    device_num: u64,
    tx: mpsc::Sender<Frame>,
}

/// Who is connected, by user.
#[derive(Default)]
pub struct Hub {
    conns: Mutex<HashMap<Id, Vec<Conn>>>,
    next: AtomicU64,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Vec<Conn>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, user: Id, device_num: u64) -> (u64, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().entry(user).or_default().push(Conn { id, device_num, tx });
        (id, rx)
    }

    fn remove(&self, user: Id, conn: u64) {
        let mut conns = self.lock();
        if let Some(list) = conns.get_mut(&user) {
            list.retain(|c| c.id != conn);
            if list.is_empty() {
                conns.remove(&user);
            }
        }
    }

    /// Sends one frame to every connection of these users.
    pub fn publish(&self, users: &[Id], frame: String) {
        let frame = Utf8Bytes::from(frame);
        let conns = self.lock();
        for user in users {
            for c in conns.get(user).into_iter().flatten() {
                // A full queue means the device is not keeping up: close it;
                // it reconnects and pulls what it missed.
                if c.tx.try_send(Frame::Text(frame.clone())).is_err() {
                    let _ = c.tx.try_send(Frame::Close);
                }
            }
        }
    }

    /// Tells a device's connections it was signed out, and closes them.
    pub fn sign_out(&self, user: Id, device_num: u64, reason: String) {
        let frame = serde_json::to_string(&LiveMessage::SignedOut { reason }).unwrap_or_default();
        let frame = Utf8Bytes::from(frame);
        for c in self.lock().get(&user).into_iter().flatten().filter(|c| c.device_num == device_num) {
            let _ = c.tx.try_send(Frame::Text(frame.clone()));
            let _ = c.tx.try_send(Frame::Close);
        }
    }

    /// Closes every connection (at shutdown).
    pub fn close_all(&self) {
        for c in self.lock().values().flatten() {
            let _ = c.tx.try_send(Frame::Close);
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
    Query(q): Query<LiveQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, Failure> {
    let token = bearer(&parts).map(str::to_string).or(q.token);
    let caller = authenticate(&state, token.as_deref()).await?;
    // Devices only answer pings, so small buffers keep idle connections cheap.
    Ok(ws.read_buffer_size(4 * 1024).write_buffer_size(0).max_message_size(64 * 1024).on_upgrade(move |socket| async move {
        let (conn, rx) = state.hub.add(caller.user.id, caller.device.num);
        serve(socket, rx, caller.device.id).await;
        state.hub.remove(caller.user.id, conn);
    }))
}

async fn serve(mut socket: WebSocket, mut rx: mpsc::Receiver<Frame>, device_id: Id) {
    let hello = serde_json::to_string(&LiveMessage::Hello { device_id }).unwrap_or_default();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Some(Frame::Text(t)) => {
                    if socket.send(Message::Text(t)).await.is_err() {
                        break;
                    }
                }
                Some(Frame::Close) | None => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
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
