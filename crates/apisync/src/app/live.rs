//! The app's live side: the background sync that keeps the profile synced
//! while the app is open, and the Server-Sent Events channel that tells the
//! page when the status or the documents change.

use super::AppState;
use crate::account;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use client::{Device, Status};
use futures_util::Stream;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the profile is looked at for changes. The CLI writes from
/// another process, which no in-process signal would hear; a look is two
/// small queries.
const LOOK: Duration = Duration::from_millis(250);

/// What the page is told about.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The status as `GET /api/status` gives it.
    pub status: Option<Status>,
    /// Moves whenever a document or workspace changes (`Device::change_marker`).
    pub marker: u64,
}

fn look(device: &Device) -> Snapshot {
    Snapshot { status: device.local_status().ok(), marker: device.change_marker().unwrap_or(0) }
}

/// Starts watching the profile; the receiver always holds the latest look.
pub fn spawn_looker(device: Arc<Device>, mut stop: watch::Receiver<bool>) -> watch::Receiver<Snapshot> {
    let (tx, rx) = watch::channel(look(&device));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(LOOK) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let d = Arc::clone(&device);
            // SQLite may wait on a CLI write: keep it off the async workers.
            let Ok(now) = tokio::task::spawn_blocking(move || look(&d)).await else { continue };
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
    Event::default().event("status").json_data(status).ok()
}

/// `GET /api/events`: a `status` event at once and whenever the status
/// changes; a `changed` event whenever documents or workspaces change.
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
            let status = if now.status != last.status { status_event(&now) } else { None };
            match (status, changed) {
                (Some(s), c) => return Some((Ok(s), (rx, now, c))),
                (None, Some(c)) => return Some((Ok(c), (rx, now, None))),
                (None, None) => continue,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
