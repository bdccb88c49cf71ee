//! Fan-out, owned in one place: handlers say what happened after their
//! transaction commits, and a [`Notifier`] makes every connected device of
//! the people concerned hear it, in this process and (on PostgreSQL) in
//! every other process sharing the database. Storage never hears of it;
//! frames are built by the live channel ([`crate::live::Hub::deliver`]).

mod postgres;

use crate::live::Hub;
use model::{Document, Id};
pub use postgres::PgNotifier;
use std::sync::Arc;

/// Something devices must hear.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A push moved a workspace from `after` to `seq`.
    Pushed {
        workspace: Id,
        after: u64,
        seq: u64,
        /// The workspace's members: who hears it.
        members: Vec<Id>,
        /// The pusher's live connection, named in its push: it has the
        /// answer already, so it is not told again.
        pusher: Option<ConnRef>,
        /// The documents the push changed, when it deleted none (a
        /// deletion's tombstones make devices pull); `None` makes devices pull.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        docs: Option<Vec<Document>>,
    },
    /// These people's lists of workspaces changed (shared, unshared, deleted, joined).
    Workspaces { users: Vec<Id> },
    /// One device was signed out.
    SignedOut { device: DeviceRef, reason: String },
}

impl Notice {
    /// Device `num` of `user` was signed out, for `reason`.
    pub fn signed_out(user: Id, num: u64, reason: impl Into<String>) -> Notice {
        Notice::SignedOut { device: DeviceRef { user, num }, reason: reason.into() }
    }
}

/// One live connection of one account (its id is unique across processes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConnRef {
    pub user: Id,
    pub connection: Id,
}

/// One signed-in device of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceRef {
    pub user: Id,
    pub num: u64,
}

/// Delivers notices to every process's connected devices.
pub trait Notifier: Send + Sync {
    /// Tells every device concerned; never fails the request (a device that
    /// misses a notice catches up at its next pull).
    fn publish(&self, notice: Notice);
}

/// One process with nobody else to tell: the embedded SQLite server.
pub struct InProcess {
    hub: Arc<Hub>,
}

impl InProcess {
    /// Delivers to `hub`'s connections.
    pub fn new(hub: Arc<Hub>) -> InProcess {
        InProcess { hub }
    }
}

impl Notifier for InProcess {
    fn publish(&self, notice: Notice) {
        self.hub.deliver(&notice);
    }
}
