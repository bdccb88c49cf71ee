//! The one error type of the device library. Every message says what went
//! wrong and, where there is one, what to do next.

use protocol::{ApiError, DeviceView, ErrorCode};

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The input is wrong (unknown kind, bad field, wrong parent, …); nothing was written.
    #[error("{0}")]
    Invalid(String),
    /// No document, workspace or conflict with that id or name.
    #[error("{0}")]
    NotFound(String),
    /// The operation needs a signed-in device.
    #[error("this device is not signed in; run `apisync login --server URL --user NAME` (or `apisync signup ...`) first")]
    NotSignedIn,
    /// The server could not be reached (network, DNS, timeout).
    #[error("server unreachable ({0})")]
    Unreachable(String),
    /// The server's TLS certificate is not trusted: a private CA not given, another name, expired.
    #[error("the server's certificate is not trusted ({0}); if the server uses a private CA, pass --ca-cert FILE (or set APISYNC_CA_CERT)")]
    Untrusted(String),
    /// This device's session was ended: signed out from another device, or
    /// a password reset or change.
    #[error("{}", revoked_message(reason, *.pending))]
    SessionRevoked {
        /// Unsynced changes still in the outbox.
        pending: u64,
        /// What the server said ended the session.
        reason: String,
    },
    /// The account was deleted (from another device); this device keeps
    /// its unsynced changes until the person saves or discards them.
    #[error(
        "the account was deleted from another device; this device still holds its {pending} unsynced changes: save them with `apisync export --all -o backup.json`, then `apisync logout --force` removes the account's data from this device"
    )]
    AccountDeleted {
        /// Unsynced changes kept.
        pending: u64,
    },
    /// The account already has the most devices signed in.
    #[error("{}", device_limit_message(.devices))]
    DeviceLimit {
        /// The devices holding the slots.
        devices: Vec<DeviceView>,
    },
    /// Signing out would throw away unsynced changes.
    #[error(
        "{0} unsynced changes would be lost; run `apisync sync` when the server is reachable, or `apisync logout --force` to discard them"
    )]
    UnsyncedChanges(u64),
    /// Signing out would throw away the losing edits of unresolved conflicts.
    #[error(
        "{} unresolved conflict(s) would be lost: {}; settle them with `apisync conflicts` and `apisync resolve N`, or save everything first with `apisync export --all -o backup.json`; `apisync logout --force` discards them",
        .0.len(), .0.join(", ")
    )]
    UnresolvedConflicts(Vec<String>),
    /// The profile holds another account's unsynced changes.
    #[error(
        "this profile holds {pending} unsynced changes of another account ({other}); sign in as that account to deliver them, or pass --force to discard them"
    )]
    OtherAccount {
        /// The other account's username.
        other: String,
        /// Its unsynced changes.
        pending: u64,
    },
    /// The account's data was deleted, but old copies of it could not yet be erased from the profile's files.
    #[error(
        "the account's data was deleted, but another apisync process of this profile (a `sync --watch`?) kept its files busy, so old copies of it may remain in the profile's files; they are erased the next time apisync opens this profile (stop the other process, then run `apisync status`)"
    )]
    EraseUnfinished,
    /// Another process of this profile signed out, or in as another account, while this one was syncing.
    #[error(
        "another apisync process of this profile signed out (or signed in as another account) while this one was syncing; nothing more of the old session was stored"
    )]
    SessionEnded,
    /// No password could be read.
    #[error("{0}")]
    Password(String),
    /// The server refused the request.
    #[error("{}", .0.message)]
    Api(ApiError),
    /// The server answered something this device does not understand.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The local database failed.
    #[error("local database error: {0}")]
    Store(#[from] rusqlite::Error),
    /// A file or directory of the profile could not be used.
    #[error("{0}")]
    Io(String),
    /// The profile's schema is newer than this build knows: a newer apisync wrote it.
    #[error("this profile was written by a newer apisync (schema {found}, this build knows {known}); upgrade apisync or restore a backup")]
    SchemaTooNew {
        /// The profile's schema version.
        found: usize,
        /// The newest this build knows.
        known: usize,
    },
}

fn revoked_message(reason: &str, pending: u64) -> String {
    match pending {
        0 => format!("{reason}; sign in again to keep syncing (`apisync login`)"),
        n => format!(
            "{reason}; your {n} unsynced changes are kept — sign in again to deliver them (`apisync login`), or save them with `apisync export --all -o backup.json`"
        ),
    }
}

fn device_limit_message(devices: &[DeviceView]) -> String {
    let mut msg = format!("this account already has {} devices signed in, the most allowed:\n", devices.len());
    for d in devices {
        msg.push_str(&format!("  {}  {}  last seen {}\n", d.id, d.name, crate::time::readable(d.last_seen_at)));
    }
    msg.push_str(
        "free a slot with `apisync devices sign-out DEVICE_ID` on a signed-in device, \
         or sign in here with `apisync login ... --replace DEVICE_ID`",
    );
    msg
}

impl ClientError {
    /// The protocol error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api(e) => Some(e.code),
            ClientError::SessionRevoked { .. } => Some(ErrorCode::SessionRevoked),
            ClientError::AccountDeleted { .. } => Some(ErrorCode::AccountDeleted),
            ClientError::DeviceLimit { .. } => Some(ErrorCode::DeviceLimit),
            _ => None,
        }
    }

    /// Whether the failure ends this device's session for good: only a new
    /// sign-in helps.
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            ClientError::SessionRevoked { .. } | ClientError::NotSignedIn | ClientError::AccountDeleted { .. } | ClientError::SessionEnded
        ) || matches!(self.code(), Some(ErrorCode::Unauthorized | ErrorCode::SessionExpired | ErrorCode::AccountDeleted))
    }

    /// Whether the failure is the network's, not the request's: worth retrying later.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ClientError::Unreachable(_))
            || matches!(self, ClientError::Api(e) if e.code == ErrorCode::Unavailable || e.code == ErrorCode::Internal)
    }
}

impl From<model::FieldError> for ClientError {
    fn from(e: model::FieldError) -> Self {
        ClientError::Invalid(e.to_string())
    }
}

impl From<model::UnknownKind> for ClientError {
    fn from(e: model::UnknownKind) -> Self {
        ClientError::Invalid(e.to_string())
    }
}

impl From<serde_json::Error> for ClientError {
    fn from(e: serde_json::Error) -> Self {
        ClientError::Protocol(format!("bad JSON: {e}"))
    }
}
