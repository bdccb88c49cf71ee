//! The sync state the person sees, persisted so every process of a profile
//! (and `apisync status`) reports the same.

use crate::profile::keys;
use crate::{ClientError, store, time};
use model::Id;
use rusqlite::Connection;
use serde::Serialize;
use std::fmt;

/// The device's sync state, as Postman shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Signed out, or the server is unreachable.
    Offline,
    /// Reaching the server.
    Connecting,
    /// Exchanging changes.
    Syncing,
    /// Everything sent and received.
    InSync,
    /// Something needs the person (see the reason).
    Error,
}

impl SyncState {
    /// The name stored and printed.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Offline => "offline",
            SyncState::Connecting => "connecting",
            SyncState::Syncing => "syncing",
            SyncState::InSync => "in_sync",
            SyncState::Error => "error",
        }
    }

    fn parse(s: &str) -> SyncState {
        match s {
            "connecting" => SyncState::Connecting,
            "syncing" => SyncState::Syncing,
            "in_sync" => SyncState::InSync,
            "error" => SyncState::Error,
            _ => SyncState::Offline,
        }
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stores the state and its reason.
pub fn set(conn: &Connection, state: SyncState, reason: Option<&str>) -> Result<(), ClientError> {
    store::meta_set(conn, keys::STATE, state.as_str())?;
    match reason {
        Some(r) => store::meta_set(conn, keys::STATE_REASON, r)?,
        None => store::meta_delete(conn, keys::STATE_REASON)?,
    }
    store::meta_set(conn, keys::STATE_AT, &time::now_ms().to_string())
}

/// The stored state and reason (signed out: offline).
pub fn get(conn: &Connection) -> Result<(SyncState, Option<String>), ClientError> {
    let state = store::meta_get(conn, keys::STATE)?.map_or(SyncState::Offline, |s| SyncState::parse(&s));
    Ok((state, store::meta_get(conn, keys::STATE_REASON)?))
}

/// What `apisync status` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    /// The sync state.
    pub state: SyncState,
    /// Why the state is `error` or `offline`.
    pub reason: Option<String>,
    /// Mutations waiting in the outbox.
    pub pending: u64,
    /// Entries in the conflicts inbox.
    pub conflicts: u64,
    /// The signed-in username.
    pub user: Option<String>,
    /// This device's name.
    pub device: String,
    /// This device's id.
    pub device_id: Id,
    /// The server's URL when signed in.
    pub server: Option<String>,
    /// Whether edits go to the scratch pad (signed out).
    pub scratch_pad: bool,
    /// Whether a `sync --watch` of this profile is running.
    pub watching: bool,
}

/// Records that a watcher is alive.
pub fn heartbeat(conn: &Connection) -> Result<(), ClientError> {
    store::meta_set(conn, keys::HEARTBEAT, &time::now_ms().to_string())
}

/// Whether a watcher beat in the last five seconds.
pub fn watching(conn: &Connection) -> Result<bool, ClientError> {
    let beat = store::meta_get(conn, keys::HEARTBEAT)?.and_then(|s| s.parse::<i64>().ok());
    Ok(beat.is_some_and(|b| time::now_ms() - b < 5_000))
}
