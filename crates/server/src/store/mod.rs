//! Storage behind one interface. `sqlite` is the embedded default; the
//! records here are what every backend returns.

pub mod copy;
pub mod postgres;
pub mod sqlite;

use model::{Document, Id};
use protocol::{DeviceInfo, PushResponse, Role, TeamInfo, TeamMember, User, WorkspaceInfo};

/// A document as a pull page sends it: the same JSON as [`model::Document`],
/// but its fields stay the stored JSON text, passed through without being
/// parsed into values and serialized again.
#[derive(Debug, serde::Serialize)]
pub struct PageDoc {
    pub id: Id,
    pub kind: model::Kind,
    pub workspace_id: Id,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_key: Option<String>,
    pub fields: Box<serde_json::value::RawValue>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    pub version: u64,
}

/// One pull page, serialized exactly as [`protocol::Changes`].
#[derive(Debug, serde::Serialize)]
pub struct Page {
    pub docs: Vec<PageDoc>,
    pub next: u64,
    pub more: bool,
    pub seq: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl Page {
    /// Finishes a page read with one row more than `limit` (to learn whether more follow).
    pub fn new(mut docs: Vec<PageDoc>, after: u64, limit: usize, seq: u64, total: Option<u64>) -> Page {
        let more = docs.len() > limit;
        docs.truncate(limit);
        let next = if more { docs.last().map_or(after, |d| d.version) } else { seq };
        Page { docs, next, more, seq, total }
    }
}

/// Stored fields text as a raw JSON value.
pub fn raw_fields(text: String) -> Result<Box<serde_json::value::RawValue>, StoreError> {
    serde_json::value::RawValue::from_string(text).map_err(|e| StoreError::Corrupt(format!("stored fields are not JSON: {e}")))
}

/// An account as stored, with its password hash.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// A device of an account.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRecord {
    /// Short server-side number, stamped on every change the device makes.
    pub num: u64,
    pub user_id: Id,
    pub id: Id,
    pub name: String,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
}

impl DeviceRecord {
    /// The wire view of this device.
    pub fn view(&self, current: bool) -> protocol::DeviceView {
        protocol::DeviceView {
            id: self.id,
            name: self.name.clone(),
            signed_in_at: self.signed_in_at,
            last_seen_at: self.last_seen_at,
            current,
        }
    }
}

/// A session found by its token hash.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: User,
    pub device: DeviceRecord,
    /// Why the session ended, if it did.
    pub revoked: Option<String>,
}

/// The outcome of a sign-in attempt.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Done(DeviceRecord),
    /// The account is at its device limit; these hold the slots.
    Limit(Vec<DeviceRecord>),
    /// `replace_device` named no signed-in device of this account.
    NoSuchDevice,
}

/// The outcome of a committed push.
#[derive(Debug)]
pub struct PushCommit {
    pub response: PushResponse,
    /// The workspace's sequence number before the batch.
    pub after: u64,
    /// Documents the batch changed, final state, in version order.
    pub changed: Vec<Document>,
    /// The users who can read the workspace (who to tell).
    pub members: Vec<Id>,
}

/// What a push was refused for as a whole.
#[derive(Debug)]
pub enum PushRefused {
    /// The workspace does not exist or the user is not in it.
    NotFound,
    /// The user may read but not write the workspace.
    ReadOnly,
}

/// The outcome of deleting an account.
#[derive(Debug)]
pub enum AccountDeletion {
    /// Refused: the account is in these teams.
    InTeams(Vec<String>),
    /// Deleted: these were its signed-in devices, and these other people
    /// lost workspaces it owned.
    Deleted { devices: Vec<u64>, others: Vec<Id> },
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("that email is already registered")]
    EmailTaken,
    #[error("that username is already taken")]
    UsernameTaken,
    #[error("database error: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("storage task failed: {0}")]
    Task(String),
    /// A document the batch needs is not loaded yet (PostgreSQL loads in
    /// bulk and runs the batch again).
    #[error("internal: document not preloaded")]
    Miss,
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// The storage a server runs on.
#[derive(Clone)]
pub enum Store {
    /// Embedded SQLite in the data directory.
    Sqlite(std::sync::Arc<sqlite::SqliteStore>),
    /// PostgreSQL, shared by any number of server processes.
    Postgres(std::sync::Arc<postgres::PgStore>),
}

/// Runs a call on whichever backend: SQLite's blocking calls on a blocking
/// thread, PostgreSQL's directly.
macro_rules! dispatch {
    ($self:ident, |$s:ident| $sqlite:expr, |$p:ident| $pg:expr) => {
        match $self {
            Store::Sqlite(s) => {
                let $s = s.clone();
                tokio::task::spawn_blocking(move || $sqlite).await.map_err(|e| StoreError::Task(e.to_string()))?
            }
            Store::Postgres($p) => $pg.await,
        }
    };
}

impl Store {
    /// Whether storage answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, |s| s.ping(), |p| p.ping())
    }

    /// Creates an account with its personal workspace.
    pub async fn create_account(&self, user: User, password_hash: String, workspace: Id, now: i64) -> Result<(), StoreError> {
        dispatch!(self, |s| s.create_account(&user, &password_hash, workspace, now), |p| p.create_account(
            &user,
            &password_hash,
            workspace,
            now
        ))
    }

    /// Finds an account by email or username.
    pub async fn user_by_login(&self, login: String) -> Result<Option<UserRecord>, StoreError> {
        dispatch!(self, |s| s.user_by_login(&login), |p| p.user_by_login(&login))
    }

    /// Signs a device in, honouring the device limit.
    pub async fn sign_in(
        &self,
        user_id: Id,
        device: DeviceInfo,
        token_hash: String,
        replace: Option<Id>,
        max: usize,
        now: i64,
    ) -> Result<SignIn, StoreError> {
        dispatch!(self, |s| s.sign_in(user_id, &device, &token_hash, replace, max, now), |p| p.sign_in(
            user_id,
            &device,
            &token_hash,
            replace,
            max,
            now
        ))
    }

    /// Looks a session up by token hash.
    pub async fn session(&self, token_hash: String) -> Result<Option<SessionRecord>, StoreError> {
        dispatch!(self, |s| s.session(&token_hash), |p| p.session(&token_hash))
    }

    /// Records that a device was just seen.
    pub async fn touch(&self, device_num: u64, now: i64) -> Result<(), StoreError> {
        dispatch!(self, |s| s.touch(device_num, now), |p| p.touch(device_num, now))
    }

    /// The signed-in devices of an account.
    pub async fn devices(&self, user_id: Id) -> Result<Vec<DeviceRecord>, StoreError> {
        dispatch!(self, |s| s.devices(user_id), |p| p.devices(user_id))
    }

    /// Signs a device out; returns its number if it was signed in.
    pub async fn sign_out(&self, user_id: Id, device_id: Id, reason: String, now: i64) -> Result<Option<u64>, StoreError> {
        dispatch!(self, |s| s.sign_out(user_id, device_id, &reason, now), |p| p.sign_out(user_id, device_id, &reason, now))
    }

    /// The workspaces a user is in.
    pub async fn workspaces(&self, user_id: Id) -> Result<Vec<WorkspaceInfo>, StoreError> {
        dispatch!(self, |s| s.workspaces(user_id), |p| p.workspaces(user_id))
    }

    /// The user's role in a workspace, if any.
    pub async fn role(&self, user_id: Id, workspace: Id) -> Result<Option<Role>, StoreError> {
        dispatch!(self, |s| s.role(user_id, workspace), |p| p.role(user_id, workspace))
    }

    /// Applies a batch in one transaction.
    pub async fn push(
        &self,
        workspace: Id,
        user_id: Id,
        device_num: u64,
        mutations: Vec<model::Mutation>,
        now: i64,
    ) -> Result<Result<PushCommit, PushRefused>, StoreError> {
        dispatch!(self, |s| s.push(workspace, user_id, device_num, &mutations, now), |p| p
            .push(workspace, user_id, device_num, &mutations, now))
    }

    /// One page of documents changed after `after`.
    pub async fn changes(&self, workspace: Id, after: u64, limit: usize) -> Result<Page, StoreError> {
        dispatch!(self, |s| s.changes(workspace, after, limit), |p| p.changes(workspace, after, limit))
    }

    /// Creates a team with `user` as its first admin.
    pub async fn create_team(&self, user: Id, team: Id, name: String, now: i64) -> Result<TeamInfo, StoreError> {
        dispatch!(self, |s| s.create_team(user, team, &name, now), |p| p.create_team(user, team, &name, now))
    }

    /// The teams a user is in.
    pub async fn teams(&self, user: Id) -> Result<Vec<TeamInfo>, StoreError> {
        dispatch!(self, |s| s.teams(user), |p| p.teams(user))
    }

    /// A team as `user` sees it; `None` when `user` is not in it.
    pub async fn team(&self, user: Id, team: Id) -> Result<Option<TeamInfo>, StoreError> {
        dispatch!(self, |s| s.team(user, team), |p| p.team(user, team))
    }

    /// The people in a team.
    pub async fn team_members(&self, team: Id) -> Result<Vec<TeamMember>, StoreError> {
        dispatch!(self, |s| s.team_members(team), |p| p.team_members(team))
    }

    /// Adds a person to a team, or changes their role; their access to the
    /// team's workspaces follows.
    pub async fn set_team_member(&self, team: Id, user: Id, role: Role) -> Result<(), StoreError> {
        dispatch!(self, |s| s.set_team_member(team, user, role), |p| p.set_team_member(team, user, role))
    }

    /// Takes a person out of a team (false: they were not in it); the last
    /// one out deletes the team.
    pub async fn remove_team_member(&self, team: Id, user: Id) -> Result<bool, StoreError> {
        dispatch!(self, |s| s.remove_team_member(team, user), |p| p.remove_team_member(team, user))
    }

    /// Shares a workspace with a team; returns the team's members.
    pub async fn share_workspace(&self, team: Id, workspace: Id) -> Result<Vec<Id>, StoreError> {
        dispatch!(self, |s| s.share_workspace(team, workspace), |p| p.share_workspace(team, workspace))
    }

    /// Sends a live frame to these users' devices connected to other server
    /// processes (PostgreSQL); this process's hub is the caller's job.
    pub async fn announce(&self, users: Vec<Id>, frame: String) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(_) => Ok(()),
            Store::Postgres(p) => p.announce(&users, &frame).await,
        }
    }

    /// Stores a single-use token (its hash) for `user`.
    pub async fn put_token(&self, token_hash: String, user: Id, purpose: &'static str, expires_at: i64) -> Result<(), StoreError> {
        dispatch!(self, |s| s.put_token(&token_hash, user, purpose, expires_at), |p| p.put_token(&token_hash, user, purpose, expires_at))
    }

    /// Uses up a token: its user, if it exists, has this purpose and has not expired.
    pub async fn take_token(&self, token_hash: String, purpose: &'static str, now: i64) -> Result<Option<Id>, StoreError> {
        dispatch!(self, |s| s.take_token(&token_hash, purpose, now), |p| p.take_token(&token_hash, purpose, now))
    }

    /// Sets a new password hash and signs out every device of the account
    /// but `keep`; returns the numbers of the devices signed out.
    pub async fn set_password(&self, user: Id, hash: String, keep: Option<u64>, reason: String, now: i64) -> Result<Vec<u64>, StoreError> {
        dispatch!(self, |s| s.set_password(user, &hash, keep, &reason, now), |p| p.set_password(user, &hash, keep, &reason, now))
    }

    /// Deletes an account and everything it owns, unless it is in a team.
    pub async fn delete_account(&self, user: Id, now: i64) -> Result<AccountDeletion, StoreError> {
        dispatch!(self, |s| s.delete_account(user, now), |p| p.delete_account(user, now))
    }

    /// Whether a token hash belonged to a session of a deleted account.
    pub async fn session_gone(&self, token_hash: String) -> Result<bool, StoreError> {
        dispatch!(self, |s| s.session_gone(&token_hash), |p| p.session_gone(&token_hash))
    }
}
