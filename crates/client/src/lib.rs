//! The apisync device: a profile directory with a local SQLite store, the
//! outbox of changes not yet sent, the sync engine and its states, the
//! conflicts inbox, the scratch pad, and signing in and out.
//!
//! Everything goes through [`Device`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), client::ClientError> {
//! let device = client::Device::open("/tmp/profile")?;
//! let ws = device.resolve_workspace(None)?; // the scratch pad while signed out
//! let id = device.create(model::Kind::Collection, None, Some(&ws.id.to_string()), client::fields([("name", "Demo".into())]))?;
//! device.set(id, client::fields([("description", "hello".into())]))?;
//! # Ok(()) }
//! ```
//!
//! Local edits are synchronous and never touch the network; [`Device::sync`]
//! and the sign-in verbs are async.

#![warn(missing_docs)]

mod account;
mod active_env;
mod conflicts;
mod edit;
mod erase;
mod error;
mod external;
mod import;
mod lifecycle;
mod live;
mod local_files;
mod outbox;
mod paths;
mod profile;
mod scratchpad;
mod state;
mod store;
mod sync;
mod teams;
mod time;
mod transport;
mod trust;
mod workspaces;

pub use account::{Discarded, LoginOptions, SignupOptions};
pub use conflicts::{Conflict, ConflictField, Keep};
pub use edit::{CURRENT, Position};
pub use error::ClientError;
pub use external::External;
pub use live::{WatchEvent, WatchOptions};
pub use local_files::{BODIES, COOKIE_JAR};
pub use profile::{default_device_name, default_dir};
pub use state::{Status, SyncState};
pub use store::Workspace;
pub use sync::{PullProgress, SyncReport};
pub use teams::parse_team_role;
pub use time::readable as readable_time;
pub use transport::{Timeouts, Transport};
pub use trust::CaCert;

use model::{Document, Fields, Id, Kind};
use profile::keys;
use std::path::{Path, PathBuf};
use store::Store;

/// Builds a [`Fields`] map from pairs.
pub fn fields<'a>(pairs: impl IntoIterator<Item = (&'a str, serde_json::Value)>) -> Fields {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// What an HTTP client is built for: its timeouts and the private CA's PEM.
type HttpKey = (Timeouts, Option<String>);

/// One device profile. Cheap to open; safe to share between tasks.
pub struct Device {
    store: Store,
    dir: PathBuf,
    offline: bool,
    timeouts: Timeouts,
    /// The private CA this process was told to trust (`--ca-cert`); a
    /// sign-in stores it in the profile for later processes.
    ca: Option<CaCert>,
    /// Whether this process has reached the server: only then is the stored
    /// state this process's own news rather than an old one's.
    talked: std::sync::atomic::AtomicBool,
    /// Requests this process sent for this profile.
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// One HTTP client (its connections and TLS set-up) per set of timeouts.
    http: std::sync::Mutex<Option<(HttpKey, reqwest::Client)>>,
}

impl Device {
    /// Opens the profile in `dir` (created if needed) and its database.
    pub fn open(dir: impl AsRef<Path>) -> Result<Device, ClientError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| ClientError::Io(format!("cannot create the profile directory {}: {e}", dir.display())))?;
        let store = Store::open(&dir.join("apisync.db"))?;
        store.write(|tx| profile::device_id(tx).map(|_| ()))?;
        Ok(Device {
            store,
            dir,
            offline: false,
            timeouts: Timeouts::NORMAL,
            ca: None,
            talked: Default::default(),
            sent: Default::default(),
            http: Default::default(),
        })
    }

    /// HTTP requests this `Device` has sent to the server (the live
    /// channel's frames are not requests), for tests and `apisync bench`.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Never touch the network (edits stay in the outbox).
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    /// Whether the device was told to stay off the network.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Trusts `ca` for the server's certificate, besides the system's roots,
    /// in this process; the next sign-in keeps it in the profile for later
    /// syncs (until sign-out). Without it, the one kept in the profile is used.
    pub fn set_ca_cert(&mut self, ca: Option<CaCert>) {
        self.ca = ca;
    }

    /// Sets how long network calls may take.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// This device's id (minted once per profile, kept across sign-out).
    pub fn device_id(&self) -> Result<Id, ClientError> {
        self.store.write(|tx| profile::device_id(tx))
    }

    /// Whether a session is stored.
    pub fn is_signed_in(&self) -> Result<bool, ClientError> {
        Ok(self.store.read(|c| store::meta_get(c, keys::TOKEN))?.is_some())
    }

    /// Tells other processes of the profile a watcher is alive (also while
    /// it waits for a sign-in).
    pub fn heartbeat(&self) -> Result<(), ClientError> {
        self.store.write(|tx| state::heartbeat(tx))
    }

    /// A value that changes whenever the stored session does (never the
    /// token itself): a watcher whose session ended waits for a new one.
    pub fn session_fingerprint(&self) -> Result<Option<u64>, ClientError> {
        use std::hash::{Hash, Hasher};
        Ok(self.store.read(|c| store::meta_get(c, keys::TOKEN))?.map(|t| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        }))
    }

    /// The signed-in account.
    pub fn user(&self) -> Result<Option<protocol::User>, ClientError> {
        let raw = self.store.read(|c| store::meta_get(c, keys::USER))?;
        Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
    }

    // ---- documents (local, synchronous) ----

    /// Every workspace on this device.
    pub fn workspaces(&self) -> Result<Vec<Workspace>, ClientError> {
        self.store.read(store::workspaces)
    }

    /// A workspace by id or name; `None` picks the personal workspace when
    /// signed in, the scratch pad (created on first use) otherwise.
    pub fn resolve_workspace(&self, which: Option<&str>) -> Result<Workspace, ClientError> {
        let signed_in = self.is_signed_in()?;
        let all = self.workspaces()?;
        match which {
            None if signed_in => all
                .iter()
                .find(|w| w.personal)
                .or_else(|| all.iter().find(|w| !w.local_only))
                .cloned()
                .ok_or_else(|| ClientError::NotFound("no workspace on this device yet; run `apisync sync`".into())),
            None => self.store.write(|tx| scratchpad::ensure(tx)),
            Some(w) => {
                if let Some(ws) = all.iter().find(|ws| ws.id.to_string() == w.to_ascii_lowercase()) {
                    return Ok(ws.clone());
                }
                let named: Vec<&Workspace> = all.iter().filter(|ws| ws.name.eq_ignore_ascii_case(w)).collect();
                match named.as_slice() {
                    [one] => Ok((*one).clone()),
                    [] if w.eq_ignore_ascii_case(scratchpad::NAME) => self.store.write(|tx| scratchpad::ensure(tx)),
                    [] => Err(ClientError::NotFound(format!("no workspace named or with id '{w}'; `apisync workspaces` lists them"))),
                    many => Err(ClientError::Invalid(format!(
                        "several workspaces are named '{w}'; give an id: {}",
                        many.iter().map(|w| w.id.to_string()).collect::<Vec<_>>().join(", ")
                    ))),
                }
            }
        }
    }

    /// Creates a document; returns its id. The workspace is the parent's when
    /// `parent` is given, else `workspace` (see [`Device::resolve_workspace`]).
    pub fn create(&self, kind: Kind, parent: Option<Id>, workspace: Option<&str>, fields: Fields) -> Result<Id, ClientError> {
        let ws = match parent {
            Some(p) => {
                let pd = self.get(p)?;
                let ws = self
                    .store
                    .read(|c| store::workspace(c, pd.workspace_id))?
                    .ok_or_else(|| ClientError::NotFound(format!("the workspace of {p} is not on this device")))?;
                if let Some(w) = workspace {
                    let named = self.resolve_workspace(Some(w))?;
                    if named.id != ws.id {
                        return Err(ClientError::Invalid(format!("the parent {p} is in workspace '{}', not '{}'", ws.name, named.name)));
                    }
                }
                ws
            }
            None => self.resolve_workspace(workspace)?,
        };
        self.store.write(|tx| edit::create(tx, &ws, kind, parent, fields))
    }

    /// Writes documents made elsewhere (an import) into a workspace, parents
    /// before children, in one transaction; returns how many were written.
    /// With `replace`, same-named Postman items are deleted first.
    pub fn import_documents(&self, workspace: Option<&str>, docs: &[Document], replace: bool) -> Result<usize, ClientError> {
        let ws = self.resolve_workspace(workspace)?;
        self.store.write(|tx| import::insert_all(tx, &ws, docs, replace))
    }

    /// The scratch pad's documents, parents before children.
    pub fn scratchpad_documents(&self) -> Result<Vec<Document>, ClientError> {
        self.store.read(import::scratchpad_docs)
    }

    /// Moves everything in the scratch pad into a workspace of the account,
    /// from where it syncs; returns how many documents moved.
    pub fn move_scratchpad(&self, workspace: &str) -> Result<usize, ClientError> {
        if !self.is_signed_in()? {
            return Err(ClientError::Invalid("sign in first: the scratch pad moves into a workspace of your account".into()));
        }
        let ws = self.resolve_workspace(Some(workspace))?;
        if ws.local_only {
            return Err(ClientError::Invalid("choose a workspace of your account, not the scratch pad itself".into()));
        }
        self.store.write(|tx| {
            let docs = import::scratchpad_docs(tx)?;
            import::insert_all(tx, &ws, &docs, false)
        })
    }

    /// Writes changes made outside apisync (a mirrored directory) into
    /// workspace `ws` in one transaction, each merged by the server from the
    /// version it was made from; returns how many changed anything.
    pub fn apply_external(&self, ws: Id, changes: &[External]) -> Result<usize, ClientError> {
        self.store.write(|tx| {
            let ws = store::workspace(tx, ws)?.ok_or_else(|| ClientError::NotFound(format!("workspace {ws} is not on this device")))?;
            external::apply(tx, &ws, changes)
        })
    }

    /// Writes new documents (as [`Device::import_documents`]) and changes to
    /// existing ones (as [`Device::apply_external`]) into workspace `ws` in ONE
    /// transaction; returns how many of each were written.
    pub fn import_and_apply(&self, ws: Id, docs: &[Document], replace: bool, changes: &[External]) -> Result<(usize, usize), ClientError> {
        self.store.write(|tx| {
            let ws = store::workspace(tx, ws)?.ok_or_else(|| ClientError::NotFound(format!("workspace {ws} is not on this device")))?;
            let written = import::insert_all(tx, &ws, docs, replace)?;
            let applied = external::apply(tx, &ws, changes)?;
            Ok((written, applied))
        })
    }

    /// The live documents of workspace `ws` (by id), unordered.
    pub fn live_documents(&self, ws: Id) -> Result<Vec<Document>, ClientError> {
        self.store.read(|c| store::live_docs(c, ws))
    }

    /// Sets fields of a document (`current` on a variable: the device-local value).
    pub fn set(&self, id: Id, fields: Fields) -> Result<(), ClientError> {
        self.store.write(|tx| edit::set(tx, id, fields))
    }

    /// Deletes a document and everything under it.
    pub fn delete(&self, id: Id) -> Result<(), ClientError> {
        self.store.write(|tx| edit::delete(tx, id))
    }

    /// Moves a document under `parent` (`None`: its current parent) at `pos`.
    pub fn move_doc(&self, id: Id, parent: Option<Id>, pos: Position) -> Result<(), ClientError> {
        self.store.write(|tx| edit::move_doc(tx, id, parent, pos))
    }

    /// A live document of the view.
    pub fn get(&self, id: Id) -> Result<Document, ClientError> {
        self.store.read(|c| edit::live_doc(c, id))
    }

    /// The device-local current value of a variable or global.
    pub fn current_value(&self, id: Id) -> Result<Option<serde_json::Value>, ClientError> {
        self.store.read(|c| store::current_value(c, id))
    }

    /// The live documents of a workspace in tree order (each parent before
    /// its children, siblings in their order), or only those of `kind`.
    pub fn list(&self, workspace: Option<&str>, kind: Option<Kind>) -> Result<Vec<Document>, ClientError> {
        let ws = self.resolve_workspace(workspace)?;
        let docs = self.store.read(|c| store::live_docs(c, ws.id))?;
        let mut out = model::tree::tree_order(docs);
        if let Some(k) = kind {
            out.retain(|d| d.kind == k);
        }
        Ok(out)
    }

    /// The conflicts inbox.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, ClientError> {
        self.store.read(conflicts::list)
    }

    /// Resolves a conflict: [`Keep::Mine`] makes the change again (only the
    /// fields in `only`, when given); [`Keep::Theirs`] dismisses it.
    pub fn resolve_conflict(&self, id: i64, keep: Keep, only: &[String]) -> Result<(), ClientError> {
        self.store.write(|tx| conflicts::resolve(tx, id, keep, only))
    }

    /// A value that changes whenever a document, workspace or current value
    /// of the profile does, by this process or another (the app polls it to refresh pages).
    pub fn change_marker(&self) -> Result<u64, ClientError> {
        self.store.read(store::change_marker)
    }

    /// A receiver that changes after every write this process commits to
    /// the profile (an edit, a sync, a state change): in-process watchers
    /// wait on it instead of polling.
    pub fn local_writes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.store.writes()
    }

    /// SQLite's `PRAGMA data_version`: it moves when another process (the
    /// CLI, a `sync --watch`) commits to the profile, and costs no table
    /// read, so a watcher can poll it often and look further only when it moves.
    pub fn data_version(&self) -> Result<i64, ClientError> {
        self.store.read(|c| Ok(c.query_row("PRAGMA data_version", [], |r| r.get(0))?))
    }

    /// Changes waiting to be sent.
    pub fn pending(&self) -> Result<u64, ClientError> {
        self.store.read(outbox::count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Devices can be shared between tasks and their network futures spawned.
    #[test]
    fn device_and_its_futures_are_send_and_sync() {
        fn is_send_sync<T: Send + Sync>() {}
        fn is_send<T: Send>(_: &T) {}
        is_send_sync::<Device>();
        let dir = tempfile::tempdir().unwrap();
        let d = Device::open(dir.path()).unwrap();
        is_send(&d.sync());
        is_send(&d.status());
        is_send(&d.logout(false));
        is_send(&d.watch(WatchOptions::default(), std::future::pending::<()>(), |_| {}));
    }
}
