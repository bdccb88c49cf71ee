//! The sync state the person sees, persisted so every process of a profile
//! (and `apisync status`) reports the same.

use crate::profile::keys;
use crate::{ClientError, store, time};
use model::Id;
use rusqlite::Connection;
use serde::Serialize;

/// The device's sync state, as Postman shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::EnumString, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
        self.into()
    }
}

/// Stores the state and its reason.
pub fn set(conn: &Connection, state: SyncState, reason: Option<&str>) -> Result<(), ClientError> {
    store::meta_set(conn, keys::STATE, state.as_str())?;
    match reason {
        Some(r) => store::meta_set(conn, keys::STATE_REASON, r)?,
        None => store::meta_delete(conn, keys::STATE_REASON)?,
    }
    let now = time::now_ms().to_string();
    if state == SyncState::InSync {
        store::meta_set(conn, keys::LAST_SYNC, &now)?;
    }
    store::meta_set(conn, keys::STATE_AT, &now)
}

/// The stored state and reason (signed out: offline).
pub fn get(conn: &Connection) -> Result<(SyncState, Option<String>), ClientError> {
    let state = store::meta_get(conn, keys::STATE)?.map_or(SyncState::Offline, |s| s.parse().unwrap_or(SyncState::Offline));
    Ok((state, store::meta_get(conn, keys::STATE_REASON)?))
}

/// The stored state, its reason, and when it was set (Unix ms; 0 if never).
pub fn get_with_time(conn: &Connection) -> Result<(SyncState, Option<String>, i64), ClientError> {
    let (state, reason) = get(conn)?;
    let at = store::meta_get(conn, keys::STATE_AT)?.and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((state, reason, at))
}

/// How long a `connecting` or `syncing` another process stored is believed
/// without a watcher: longer than any one sync's timeouts.
const ATTEMPT_MS: i64 = 60_000;

/// What the state shown is decided from.
pub struct Seen {
    /// The state last stored, by any process of the profile.
    pub stored: SyncState,
    /// Its reason.
    pub reason: Option<String>,
    /// How long ago it was stored.
    pub age_ms: i64,
    /// Changes waiting in the outbox.
    pub pending: u64,
    /// Whether the profile holds a session.
    pub signed_in: bool,
    /// `--offline`.
    pub offline: bool,
    /// Whether this process reached the server, or a watcher is running.
    pub fresh: bool,
    /// Whether an account's data is on the device (signed in, or its session
    /// ended with work kept).
    pub account_kept: bool,
}

/// The state a person is shown: `offline` whenever nothing talks to the
/// server, with the reason, and never `in_sync` while changes wait.
pub fn shown(s: Seen) -> (SyncState, Option<String>) {
    use SyncState::*;
    if s.offline {
        return (Offline, Some("offline mode (--offline or APISYNC_OFFLINE=1): changes wait in the outbox".into()));
    }
    if !s.signed_in {
        // An ended session keeps its error (why, and how to keep the work).
        return match (s.account_kept, s.stored) {
            (true, Error) => (Error, s.reason),
            _ => (Offline, Some("signed out; edits go to the scratch pad".into())),
        };
    }
    let attempt = matches!(s.stored, Connecting | Syncing) && s.age_ms < ATTEMPT_MS;
    match s.stored {
        Error | Offline => (s.stored, s.reason),
        _ if !(s.fresh || attempt) => {
            let waiting = if s.pending > 0 { format!("{} changes wait; ", s.pending) } else { String::new() };
            (Offline, Some(format!("not connected: {waiting}run `apisync sync`, or keep `apisync sync --watch` running")))
        }
        InSync if s.pending > 0 => (Syncing, None),
        st => (st, None),
    }
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
    /// When the device was last in sync (Unix ms); `None` if never.
    pub last_synced_at: Option<i64>,
}

/// When the device was last in sync (Unix ms).
pub fn last_synced_at(conn: &Connection) -> Result<Option<i64>, ClientError> {
    Ok(store::meta_get(conn, keys::LAST_SYNC)?.and_then(|s| s.parse().ok()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(stored: SyncState) -> Seen {
        Seen { stored, reason: None, age_ms: 0, pending: 0, signed_in: true, offline: false, fresh: true, account_kept: true }
    }

    #[test]
    fn offline_mode_and_signed_out_are_offline_with_a_reason() {
        let (st, why) = shown(Seen { offline: true, ..seen(SyncState::InSync) });
        assert_eq!(st, SyncState::Offline);
        assert!(why.unwrap().contains("--offline"));
        let (st, why) = shown(Seen { signed_in: false, account_kept: false, ..seen(SyncState::InSync) });
        assert_eq!(st, SyncState::Offline);
        assert!(why.unwrap().contains("signed out"));
    }

    #[test]
    fn never_in_sync_with_changes_waiting() {
        assert_eq!(shown(Seen { pending: 1, ..seen(SyncState::InSync) }).0, SyncState::Syncing);
        let (st, why) = shown(Seen { pending: 1, fresh: false, ..seen(SyncState::InSync) });
        assert_eq!(st, SyncState::Offline);
        assert!(why.unwrap().contains("1 changes wait"));
    }

    #[test]
    fn old_news_is_not_in_sync() {
        assert_eq!(shown(Seen { fresh: false, ..seen(SyncState::InSync) }).0, SyncState::Offline);
        // Another process's attempt under way is believed for a while, then not.
        assert_eq!(shown(Seen { fresh: false, age_ms: 1_000, ..seen(SyncState::Connecting) }).0, SyncState::Connecting);
        assert_eq!(shown(Seen { fresh: false, age_ms: ATTEMPT_MS, ..seen(SyncState::Connecting) }).0, SyncState::Offline);
    }

    #[test]
    fn an_ended_session_keeps_its_error() {
        let s = Seen { signed_in: false, reason: Some("deleted".into()), ..seen(SyncState::Error) };
        assert_eq!(shown(s), (SyncState::Error, Some("deleted".into())));
    }
}
