//! Fan-out across every server process that shares one PostgreSQL
//! database: each notice is delivered here at once and sent to the others
//! with `NOTIFY`; each process `LISTEN`s and delivers the others' notices.

use super::{Notice, Notifier};
use crate::live::Hub;
use model::Id;
use sqlx::postgres::{PgListener, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The channel every process listens on.
const CHANNEL: &str = "apisync_live";
/// PostgreSQL refuses a `NOTIFY` payload of 8000 bytes or more; a push's
/// documents that do not fit are left out (devices pull them).
const PAYLOAD_BYTES: usize = 7900;
/// Notices waiting to be sent; past this (the database is unreachable)
/// they are dropped, and other processes' devices catch up at their next pull.
const QUEUE: usize = 4096;

/// A notice on the wire between processes: who sent it, so a process skips its own.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<N> {
    origin: Id,
    #[serde(flatten)]
    notice: N,
}

/// [`Notifier`] over PostgreSQL's `LISTEN/NOTIFY`.
pub struct PgNotifier {
    hub: Arc<Hub>,
    origin: Id,
    outgoing: mpsc::Sender<String>,
}

impl PgNotifier {
    /// Starts listening on `pool`'s database and delivering to `hub`.
    pub async fn start(pool: PgPool, hub: Arc<Hub>) -> Result<PgNotifier, sqlx::Error> {
        let origin = Id::now_v7();
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let heard = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match serde_json::from_str::<Envelope<Notice>>(n.payload()) {
                        Ok(e) if e.origin == origin => {}
                        Ok(e) => match heard.upgrade() {
                            Some(hub) => hub.deliver(&e.notice),
                            None => return,
                        },
                        Err(e) => tracing::warn!(error = %e, "unreadable live notification"),
                    },
                    // The connection dropped and was re-established: notices
                    // in between are lost; devices catch up at their next pull.
                    Ok(None) => tracing::warn!("live notification connection to PostgreSQL was lost and re-established"),
                    Err(e) => {
                        tracing::warn!(error = %e, "live notifications from PostgreSQL unavailable; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                if heard.strong_count() == 0 {
                    return;
                }
            }
        });
        let (outgoing, mut queue) = mpsc::channel::<String>(QUEUE);
        // One sender keeps notices in the order they were published.
        tokio::spawn(async move {
            while let Some(payload) = queue.recv().await {
                if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&payload).execute(&pool).await {
                    tracing::warn!(error = %e, "cannot tell other server processes of a change; their devices catch up at their next pull");
                }
            }
        });
        Ok(PgNotifier { hub, origin, outgoing })
    }

    /// The notice as other processes read it, within PostgreSQL's payload
    /// limit: without the documents when they do not fit.
    fn payload(&self, mut notice: Notice) -> Option<String> {
        let text =
            |notice: &Notice| serde_json::to_string(&Envelope { origin: self.origin, notice }).ok().filter(|t| t.len() < PAYLOAD_BYTES);
        if let Some(t) = text(&notice) {
            return Some(t);
        }
        if let Notice::Pushed { docs, .. } = &mut notice
            && docs.take().is_some()
            && let Some(t) = text(&notice)
        {
            return Some(t);
        }
        tracing::warn!("a notice too large for NOTIFY was dropped; other processes' devices catch up at their next pull");
        None
    }
}

impl Notifier for PgNotifier {
    fn publish(&self, notice: Notice) {
        self.hub.deliver(&notice);
        if let Some(payload) = self.payload(notice)
            && self.outgoing.try_send(payload).is_err()
        {
            tracing::warn!(
                "too many notices waiting for PostgreSQL; one was dropped, other processes' devices catch up at their next pull"
            );
        }
    }
}
