//! Purging deleted workspaces off the request path. Deleting a workspace
//! (`rules::workspaces::delete`) only takes it out of use; this worker then
//! removes its rows in transactions of bounded size, so a workspace of a
//! million documents never holds the SQLite writer (or a PostgreSQL
//! transaction) for long, and pushes to other workspaces keep flowing
//! between the steps. What is still to purge is read from the database, so
//! a server that stops halfway finishes at its next start, and on
//! PostgreSQL any process may finish what another began.

use crate::store::{Store, StoreError, Tx, read, transact};
use model::Id;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Rows of each table one step deletes: a few milliseconds of writing.
const STEP_ROWS: usize = 1000;
/// The pause between steps, so that waiting writers get the store.
const STEP_PAUSE: Duration = Duration::from_millis(5);
/// How long the worker waits before trying again after a storage failure.
const RETRY: Duration = Duration::from_secs(30);

/// The way to wake the worker.
#[derive(Clone)]
pub(crate) struct Purger {
    wake: Arc<Notify>,
}

impl Purger {
    /// Starts the worker; it looks for unfinished purges at once.
    pub(crate) fn start(store: Store) -> Purger {
        let wake = Arc::new(Notify::new());
        let w = wake.clone();
        tokio::spawn(async move {
            loop {
                let retry = match purge_all(&store).await {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "purging deleted workspaces failed; trying again later");
                        Some(RETRY)
                    }
                };
                match retry {
                    Some(d) => {
                        tokio::select! { _ = w.notified() => {}, _ = tokio::time::sleep(d) => {} }
                    }
                    None => w.notified().await,
                }
            }
        });
        Purger { wake }
    }

    /// Tells the worker a workspace was deleted (the wake-up is kept if the
    /// worker is busy, so none is lost).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Purges every deleted workspace whose rows remain.
async fn purge_all(store: &Store) -> Result<(), StoreError> {
    let pending: Vec<Id> = read!(store, |tx| tx.purges_pending())?;
    for ws in pending {
        loop {
            let done: bool = transact!(store, |tx| tx.purge_workspace(ws, STEP_ROWS))?;
            if done {
                tracing::info!(workspace = %ws, "deleted workspace purged");
                break;
            }
            tokio::time::sleep(STEP_PAUSE).await;
        }
    }
    Ok(())
}
