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
        let pass = mirror.pass().unwrap_or_else(|e| Pass { error: Some(format!("{e:#}")), ..Pass::default() });
        on_pass(&pass);
        if pass.error.is_some() {
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(RETRY) => {}
            }
        }
        tokio::select! {
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

/// Watches the directory tree; every event wakes the loop.
fn fs_watcher(root: &std::path::Path, wake: Arc<Notify>) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut w = notify::recommended_watcher(move |_res: notify::Result<notify::Event>| wake.notify_one())?;
    w.watch(root, notify::RecursiveMode::Recursive)?;
    Ok(w)
}
