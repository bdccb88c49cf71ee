//! Mirrors kept by the background sync: `apisync mirror WS DIR --background`
//! marks a mirror, and every `sync --watch` on the profile (the systemd
//! service `apisync service install` writes) runs the marked ones, as
//! `mirror --watch` would. A mirror whose lock another process holds (a
//! `mirror --watch` in a terminal, the app) is left to it and tried again later.

use super::{Mirror, state};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the marked mirrors are looked for again (one marked or unmarked since, one whose holder quit).
const LOOK: Duration = Duration::from_secs(5);

/// The most mirrors one profile runs in the background.
pub const MAX_BACKGROUND: usize = 16;

/// Runs every marked mirror of `profile` until `stop` turns true.
pub async fn supervise(profile: PathBuf, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut running: HashMap<PathBuf, (JoinHandle<()>, tokio::sync::watch::Sender<bool>)> = HashMap::new();
    loop {
        running.retain(|_, (task, _)| !task.is_finished());
        let marked: Vec<state::Mark> = state::marks(&profile).into_iter().take(MAX_BACKGROUND).collect();
        running.retain(|dir, (_, tx)| {
            let keep = marked.iter().any(|s| &s.dir == dir);
            if !keep {
                let _ = tx.send(true);
            }
            keep
        });
        for s in marked {
            if running.contains_key(&s.dir) {
                continue;
            }
            if let Some(started) = start(&profile, &s) {
                running.insert(s.dir.clone(), started);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LOOK) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    for (_, (task, tx)) in running {
        let _ = tx.send(true);
        let _ = task.await;
    }
}

fn start(profile: &Path, s: &state::Mark) -> Option<(JoinHandle<()>, tokio::sync::watch::Sender<bool>)> {
    let ws = s.workspace.to_string();
    let device = Arc::new(client::Device::open(profile).ok()?);
    // Held by another process: its business until it lets go.
    let mirror = Mirror::open(device, &ws, &s.dir).ok()?;
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let dir = s.dir.clone();
    let task = tokio::spawn(async move {
        eprintln!("mirroring {} in the background", dir.display());
        let mut last: Option<String> = None;
        let stop = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let result = super::watch::keep(mirror, stop, |pass| {
            if pass.error != last {
                if let Some(e) = &pass.error {
                    eprintln!("mirror {}: not applied, fix the file: {e}", dir.display());
                }
                last.clone_from(&pass.error);
            }
        })
        .await;
        if let Err(e) = result {
            eprintln!("mirror {} stopped: {e:#}", dir.display());
        }
    });
    Some((task, tx))
}
