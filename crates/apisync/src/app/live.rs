//! The app's live side: the background sync that keeps the profile synced
//! while the app is open, and the Server-Sent Events channel that tells the
//! page when the status or the documents change (heard at once for this
//! process's writes, by a cheap poll for other processes').

use super::AppState;
use super::mirrors::{MirrorView, Mirrors, status_json};
use crate::account;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use client::{Device, Status};
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the profile is checked for a write by another process (the
/// CLI, a `sync --watch`): `PRAGMA data_version`, which reads no table. Writes
/// of this process (the page's edits, the background sync) are heard at once.
const CROSS_PROCESS: Duration = Duration::from_millis(100);

/// The longest time between two full looks whatever the signals say.
const FULL_LOOK: Duration = Duration::from_secs(2);

/// What the page is told about.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The status as `GET /api/status` gives it.
    pub status: Option<Status>,
    /// Moves whenever a document or workspace changes (`Device::change_marker`).
    pub marker: u64,
    /// The profile's mirrors, sent with the status (as `apisync status` prints them).
    pub mirrors: Vec<MirrorView>,
}

fn look(device: &Device, mirrors: &Mirrors) -> Snapshot {
    Snapshot { status: device.local_status().ok(), marker: device.change_marker().unwrap_or(0), mirrors: mirrors.views() }
}

/// Starts watching the profile; the receiver always holds the latest look.
/// A look (two small queries) runs at once after a write of this process,
/// within [`CROSS_PROCESS`] of one by another process, and at least every
/// [`FULL_LOOK`]; and at once when one of the app's mirrors starts, stops or passes.
pub fn spawn_looker(device: Arc<Device>, mirrors: Arc<Mirrors>, mut stop: watch::Receiver<bool>) -> watch::Receiver<Snapshot> {
    let (tx, rx) = watch::channel(look(&device, &mirrors));
    let mut writes = device.local_writes();
    tokio::spawn(async move {
        let mut version = device.data_version().ok();
        let mut last_full = tokio::time::Instant::now();
        loop {
            let ours = tokio::select! {
                _ = tokio::time::sleep(CROSS_PROCESS) => false,
                Ok(()) = writes.changed() => true,
                _ = mirrors.changed() => true,
                _ = stop.wait_for(|s| *s) => return,
            };
            let d = Arc::clone(&device);
            let m = Arc::clone(&mirrors);
            let due = last_full.elapsed() >= FULL_LOOK;
            // SQLite may wait on a CLI write: keep it off the async workers.
            let Ok((now, seen)) = tokio::task::spawn_blocking(move || {
                let seen = d.data_version().ok();
                let theirs = seen.is_none() || seen != version;
                ((ours || theirs || due).then(|| look(&d, &m)), seen)
            })
            .await
            else {
                continue;
            };
            version = seen;
            let Some(now) = now else { continue };
            last_full = tokio::time::Instant::now();
            tx.send_if_modified(|old| {
                let changed = *old != now;
                *old = now;
                changed
            });
        }
    });
    rx
}

/// Keeps the profile synced while the app runs (as `sync --watch` does),
/// waiting out a signed-out profile; not started with `--offline`.
pub fn spawn_sync(device: Arc<Device>, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let ended = |e: &client::ClientError| eprintln!("the session ended: {e}");
        if let Err(e) = account::keep_synced(&device, None, stop, |_| {}, ended).await {
            // The page shows the state the device stored; the terminal hears why.
            eprintln!("background sync stopped: {e:#}");
        }
    })
}

fn status_event(s: &Snapshot) -> Option<Event> {
    let status = s.status.as_ref()?;
    Event::default().event("status").json_data(status_json(status, &s.mirrors)).ok()
}

/// `GET /api/events`: a `status` event (with the mirrors) at once and
/// whenever the status or a mirror changes; a `changed` event whenever documents or workspaces change.
pub async fn events(State(state): State<Arc<AppState>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut rx = state.snapshots.clone();
    let first = rx.borrow_and_update().clone();
    let initial = status_event(&first);
    let stream = futures_util::stream::unfold((rx, first, initial), |(mut rx, last, pending)| async move {
        if let Some(ev) = pending {
            return Some((Ok(ev), (rx, last, None)));
        }
        loop {
            rx.changed().await.ok()?;
            let now = rx.borrow_and_update().clone();
            // A status change and a document change in one look: send the
            // status now and the `changed` on the next turn.
            let changed = (now.marker != last.marker).then(|| Event::default().event("changed").data(now.marker.to_string()));
            let status = if now.status != last.status || now.mirrors != last.mirrors { status_event(&now) } else { None };
            match (status, changed) {
                (Some(s), c) => return Some((Ok(s), (rx, now, c))),
                (None, Some(c)) => return Some((Ok(c), (rx, now, None))),
                (None, None) => continue,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
