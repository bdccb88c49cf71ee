//! A mirror that keeps at it: a pass on every change of either side — a
//! file event from the OS, a write this process commits to the profile (a
//! sync bringing another device's change), or another process's write.

use super::{Mirror, Pass};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long a burst of file events (a checkout writes many files) settles before a pass.
const SETTLE: Duration = Duration::from_millis(25);
/// How long a failed pass waits before the next (the files may be mid-checkout).
const RETRY: Duration = Duration::from_millis(500);
/// How often another process's writes to the profile are looked for.
const POLL: Duration = Duration::from_millis(100);

/// Runs passes until `stop` completes; `on_pass` hears each one. A pass
/// that fails (a file gone mid-checkout, the disk) is reported as the
/// pass's error and tried again after [`RETRY`].
pub async fn keep(mut mirror: Mirror, stop: impl Future<Output = ()>, mut on_pass: impl FnMut(&Pass)) -> anyhow::Result<()> {
    let device = mirror.device.clone();
    let wake = Arc::new(Notify::new());
    let _fs = fs_watcher(mirror.root(), wake.clone())?;
    let mut writes = device.local_writes();
    let mut data_version = device.data_version().unwrap_or(0);
    tokio::pin!(stop);
    loop {
        // A pass reads files and SQLite: off the async workers, so the app's
        // handlers (and its other mirrors) never wait behind a large workspace.
        let (back, result) = tokio::task::spawn_blocking(move || {
            let r = mirror.pass();
            (mirror, r)
        })
        .await
        .map_err(|e| anyhow::anyhow!("a mirror pass ended abnormally: {e}"))?;
        mirror = back;
        let pass = result.unwrap_or_else(|e| Pass { error: Some(format!("{e:#}")), ..Pass::default() });
        on_pass(&pass);
        // `biased`: once stopped, no further pass starts, whatever else is ready.
        if pass.error.is_some() {
            tokio::select! {
                biased;
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(RETRY) => {}
            }
        }
        tokio::select! {
            biased;
            _ = &mut stop => return Ok(()),
            _ = wake.notified() => tokio::time::sleep(SETTLE).await,
            Ok(()) = writes.changed() => {}
            _ = other_process(&device, &mut data_version) => {}
        }
    }
}

/// Returns once another process committed to the profile.
async fn other_process(device: &client::Device, seen: &mut i64) {
    loop {
        tokio::time::sleep(POLL).await;
        let now = device.data_version().unwrap_or(*seen);
        if now != *seen {
            *seen = now;
            return;
        }
    }
}

/// Watches the directory tree; every event but a read wakes the loop.
fn fs_watcher(root: &std::path::Path, wake: Arc<Notify>) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut w = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if !res.as_ref().is_ok_and(|e| is_read(&e.kind)) {
            wake.notify_one();
        }
    })?;
    w.watch(root, notify::RecursiveMode::Recursive)?;
    Ok(w)
}

/// Whether an event only says a file or directory was opened or read: a
/// pass's own scan causes those (inotify reports opens), and a pass woken
/// by them would wake the next one, for ever.
fn is_read(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    matches!(kind, EventKind::Access(AccessKind::Open(_) | AccessKind::Read | AccessKind::Close(AccessMode::Read)))
}

#[cfg(test)]
mod tests {
    use super::is_read;
    use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};

    #[test]
    fn opening_and_reading_wake_nothing_and_writing_does() {
        assert!(is_read(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(is_read(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(!is_read(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(!is_read(&EventKind::Modify(ModifyKind::Any)));
        assert!(!is_read(&EventKind::Create(CreateKind::File)));
    }
}
