//! Where a device keeps its data, and who the device is.

use crate::{ClientError, store};
use model::Id;
use rusqlite::Connection;
use std::path::PathBuf;

/// `meta` keys.
pub(crate) mod keys {
    pub const DEVICE_ID: &str = "device_id";
    pub const DEVICE_NAME: &str = "device_name";
    pub const SERVER: &str = "server";
    pub const TOKEN: &str = "token";
    pub const USER: &str = "user";
    pub const STATE: &str = "state";
    pub const STATE_REASON: &str = "state_reason";
    pub const STATE_AT: &str = "state_updated_at";
    pub const HEARTBEAT: &str = "watcher_heartbeat";
    /// When the device was last in sync (Unix ms), for "last synced" hints.
    pub const LAST_SYNC: &str = "last_synced_at";
    /// Set while deleted account data may still have old copies in the files (`erase.rs`).
    // The second migration writes it by its literal name.
    pub const ERASE_PENDING: &str = "erase_pending";

    /// The key of a workspace's active environment on this device (`active_env.rs`).
    pub fn active_environment(ws: model::Id) -> String {
        format!("active_environment:{ws}")
    }
}

/// The profile directory when none is given: `$APISYNC_HOME`, else
/// `apisync` in the platform's data directory (`$XDG_DATA_HOME` or
/// `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
/// `%APPDATA%` on Windows).
pub fn default_dir() -> Result<PathBuf, ClientError> {
    if let Some(home) = std::env::var_os("APISYNC_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    match directories::BaseDirs::new() {
        Some(dirs) => Ok(dirs.data_dir().join("apisync")),
        None => Err(ClientError::Io("cannot tell where to keep apisync's data: set APISYNC_HOME or pass --profile DIR".into())),
    }
}

/// A default device name: the host's name, else "apisync device".
pub fn default_device_name() -> String {
    let from_file = std::fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string());
    from_file
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("COMPUTERNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "apisync device".to_string())
}

/// The device id, minted once per profile and kept across sign-out.
pub fn device_id(conn: &Connection) -> Result<Id, ClientError> {
    if let Some(id) = store::meta_get(conn, keys::DEVICE_ID)?.and_then(|s| s.parse().ok()) {
        return Ok(id);
    }
    let id = Id::now_v7();
    store::meta_set(conn, keys::DEVICE_ID, &id.to_string())?;
    Ok(id)
}

/// The device name: the one stored at sign-in, else the default.
pub fn device_name(conn: &Connection) -> Result<String, ClientError> {
    Ok(store::meta_get(conn, keys::DEVICE_NAME)?.unwrap_or_else(default_device_name))
}
