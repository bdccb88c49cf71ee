//! Removing old tombstones, so that the server's disk grows with the data
//! and not with its history. A deleted document stays as a tombstone so
//! that every device learns of the deletion at its next pull; once the
//! tombstone is older than [`Config::keep_tombstones`](crate::Config) it is
//! removed and the workspace's horizon rises to its sequence. A pull from
//! a cursor below the horizon may have missed that deletion, so it is
//! answered `restore_required` and the device restores the workspace
//! (`sync.rs`), keeping its unsent edits.
//!
//! The rule lives here, once: the backends only find the oldest
//! tombstones, raise a horizon and delete rows. Work is done in steps of
//! [`STEP_ROWS`] rows, each its own transaction, so compaction never holds
//! the SQLite writer (or a PostgreSQL transaction) for long.

use crate::store::{Store, StoreError, Tx, transact};
use model::Id;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Tombstones are kept 90 days by default: a device away longer restores.
pub const DEFAULT_KEEP: Duration = Duration::from_secs(90 * 86_400);
/// Tombstones one step removes: a few milliseconds of writing.
const STEP_ROWS: usize = 1000;
/// The pause between steps, so that waiting writers get the store.
const STEP_PAUSE: Duration = Duration::from_millis(5);
/// The longest wait between two passes.
const MAX_EVERY: Duration = Duration::from_secs(3600);

/// The background task; it stops when the server's state is dropped.
#[derive(Clone)]
pub(crate) struct Compactor {
    _task: Arc<Task>,
}

struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often a pass runs: a small part of the keep period, so a
/// tombstone outlives it by at most that part (a pass that finds nothing
/// is one indexed query).
fn every(keep: Duration) -> Duration {
    (keep / 24).clamp(Duration::from_millis(100), MAX_EVERY)
}

/// Starts the task: a pass at once, then one every [`every`]`(keep)`.
pub(crate) fn start(store: Store, keep: Duration) -> Compactor {
    let task = tokio::spawn(async move {
        loop {
            match compact(&store, keep).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(tombstones = n, "old tombstones removed"),
                Err(e) => tracing::warn!(error = %e, "removing old tombstones failed; trying again later"),
            }
            tokio::time::sleep(every(keep)).await;
        }
    });
    Compactor { _task: Arc::new(Task(task)) }
}

/// Removes every tombstone older than `keep`, step by step; how many.
pub async fn compact(store: &Store, keep: Duration) -> Result<u64, StoreError> {
    let before = crate::now_ms().saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
    let mut removed = 0;
    loop {
        let n = transact!(store, |tx| async move {
            let old = tx.old_tombstones(before, STEP_ROWS).await?;
            for (ws, seq) in horizons(&old) {
                tx.raise_horizon(ws, seq).await?;
            }
            let ids: Vec<Id> = old.iter().map(|t| t.doc).collect();
            tx.delete_docs(&ids).await?;
            Ok::<_, StoreError>(old.len())
        })?;
        removed += n as u64;
        if n < STEP_ROWS {
            return Ok(removed);
        }
        tokio::time::sleep(STEP_PAUSE).await;
    }
}

/// A tombstone old enough to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OldTombstone {
    pub workspace: Id,
    pub doc: Id,
    /// The sequence of the deletion (the tombstone's version).
    pub version: u64,
}

/// Each workspace's new horizon: the highest sequence removed from it.
fn horizons(old: &[OldTombstone]) -> HashMap<Id, u64> {
    let mut out = HashMap::new();
    for t in old {
        let h = out.entry(t.workspace).or_insert(0);
        *h = t.version.max(*h);
    }
    out
}

/// Whether a pull from `after` may have missed a removed tombstone. A
/// pull from 0 is a snapshot (no tombstones needed), and the later pages of
/// one (`restoring`) continue it.
pub fn must_restore(after: u64, horizon: u64, restoring: bool) -> bool {
    after > 0 && after < horizon && !restoring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_is_the_highest_sequence_removed_per_workspace() {
        let (a, b) = (Id::now_v7(), Id::now_v7());
        let t = |workspace, version| OldTombstone { workspace, doc: Id::now_v7(), version };
        let h = horizons(&[t(a, 5), t(b, 2), t(a, 9), t(a, 7)]);
        assert_eq!(h.len(), 2);
        assert_eq!((h[&a], h[&b]), (9, 2));
    }

    #[test]
    fn only_a_cursor_below_the_horizon_restores() {
        assert!(!must_restore(0, 10, false), "a snapshot needs no tombstones");
        assert!(must_restore(3, 10, false));
        assert!(!must_restore(3, 10, true), "the later pages of a snapshot");
        assert!(!must_restore(10, 10, false), "the cursor saw the last removed deletion");
        assert!(!must_restore(3, 0, false), "nothing removed");
    }

    #[test]
    fn passes_run_often_for_a_short_keep_and_hourly_for_a_long_one() {
        assert_eq!(every(Duration::ZERO), Duration::from_millis(100));
        assert_eq!(every(Duration::from_secs(24 * 60)), Duration::from_secs(60));
        assert_eq!(every(DEFAULT_KEEP), MAX_EVERY);
    }
}
