//! What one storage transaction can do. Both backends implement these
//! primitives and nothing more; the rules in `crate::rules` are built on
//! them, once, for both.
//!
//! Methods are `async` so that PostgreSQL can await its connection; SQLite
//! runs them synchronously on a blocking thread (see [`super::ready`]).

use super::{DeviceRecord, InvitationRecord, Page, PageDoc, SessionRecord, StoreError, UserRecord, WorkspaceRecord};
use crate::push::BatchOutput;
use model::{Id, Mutation};
use protocol::{DeviceInfo, Role, TeamMember, User, WorkspaceInfo};

/// One transaction (or, for reads, one connection) of a backend.
pub(crate) trait Tx: Send {
    // Accounts.

    /// Inserts an account: `EmailTaken` or `UsernameTaken` when either is
    /// registered already, compared case-insensitively.
    async fn insert_user(&mut self, user: &User, password_hash: &str, now: i64) -> Result<(), StoreError>;
    /// The account whose email or username is `login`, case-insensitively.
    async fn user_by_login(&mut self, login: &str) -> Result<Option<UserRecord>, StoreError>;
    /// The account with this id.
    async fn user(&mut self, id: Id) -> Result<Option<UserRecord>, StoreError>;
    /// Holds changes to this account back until the transaction ends (a row
    /// lock across processes on PostgreSQL; SQLite has one writer anyway).
    async fn lock_user(&mut self, id: Id) -> Result<(), StoreError>;
    /// Stores a new password hash.
    async fn set_password_hash(&mut self, user: Id, hash: &str) -> Result<(), StoreError>;
    /// Deletes the account with its devices, sessions and tokens; the hashes
    /// of its session tokens are kept as gone, so its devices learn why.
    async fn delete_user(&mut self, user: Id, now: i64) -> Result<(), StoreError>;

    // Devices and sessions.

    /// The signed-in devices of an account, in no particular order.
    async fn devices(&mut self, user: Id) -> Result<Vec<DeviceRecord>, StoreError>;
    /// Marks a device signed in (creating its row the first time); returns its number.
    async fn upsert_device(&mut self, user: Id, device: &DeviceInfo, now: i64) -> Result<u64, StoreError>;
    /// Marks a device signed out and ends its sessions with `reason`.
    async fn sign_out_device(&mut self, num: u64, reason: &str, now: i64) -> Result<(), StoreError>;
    /// Ends the open sessions of a device with `reason`.
    async fn revoke_sessions(&mut self, num: u64, reason: &str, now: i64) -> Result<(), StoreError>;
    /// Stores a new session of a device.
    async fn insert_session(&mut self, token_hash: &str, num: u64, now: i64) -> Result<(), StoreError>;
    /// A session by the hash of its token.
    async fn session(&mut self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    /// Whether this token hash belonged to an account since deleted.
    async fn session_gone(&mut self, token_hash: &str) -> Result<bool, StoreError>;
    /// Whether this device has ever signed in to this account.
    async fn device_known(&mut self, user: Id, device: Id) -> Result<bool, StoreError>;
    /// Records that a device was seen at `now` (never moves back).
    async fn touch(&mut self, num: u64, now: i64) -> Result<(), StoreError>;

    // Single-use tokens (password reset).

    /// Stores the hash of a token.
    async fn put_token(&mut self, token_hash: &str, user: Id, purpose: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Uses a token up: its account, if it exists with this purpose and has
    /// not expired. Expired tokens of every account go too.
    async fn take_token(&mut self, token_hash: &str, purpose: &str, now: i64) -> Result<Option<Id>, StoreError>;
    /// Voids every token of an account.
    async fn delete_tokens(&mut self, user: Id) -> Result<(), StoreError>;

    // Workspaces and who is in them.

    /// A workspace by id.
    async fn workspace(&mut self, id: Id) -> Result<Option<WorkspaceRecord>, StoreError>;
    /// Whether an id is in use: by a workspace, a deleted workspace, or a document.
    async fn id_taken(&mut self, id: Id) -> Result<bool, StoreError>;
    /// Inserts a workspace at sequence 0.
    async fn insert_workspace(&mut self, w: &WorkspaceRecord, now: i64) -> Result<(), StoreError>;
    /// The workspace's sequence, holding other pushes to it back until the
    /// transaction ends.
    async fn lock_workspace(&mut self, id: Id) -> Result<crate::push::Head, StoreError>;
    /// Moves the workspace's sequence to `seq`.
    async fn set_head(&mut self, id: Id, seq: u64) -> Result<(), StoreError>;
    /// Renames a workspace.
    async fn rename_workspace(&mut self, id: Id, name: &str) -> Result<(), StoreError>;
    /// Deletes a workspace and everything in it; its id stays taken.
    async fn delete_workspace(&mut self, id: Id, now: i64) -> Result<(), StoreError>;
    /// Takes a workspace out of use at once, in a few statements whatever
    /// its size: its members and shares go and its id is recorded as gone;
    /// its documents and stored results stay for
    /// [`Tx::purge_workspace`].
    async fn forget_workspace(&mut self, id: Id, now: i64) -> Result<(), StoreError>;
    /// Deletes up to `limit` rows of each of a forgotten workspace's stored
    /// results and documents, and its own row once none are left; whether
    /// it is all gone.
    async fn purge_workspace(&mut self, id: Id, limit: usize) -> Result<bool, StoreError>;
    /// Forgotten workspaces whose rows are still to purge.
    async fn purges_pending(&mut self) -> Result<Vec<Id>, StoreError>;
    /// Up to `limit` tombstones written before `before` (ms), by index.
    async fn old_tombstones(&mut self, before: i64, limit: usize) -> Result<Vec<crate::compact::OldTombstone>, StoreError>;
    /// Raises a workspace's horizon to `seq` (never lowers it).
    async fn raise_horizon(&mut self, ws: Id, seq: u64) -> Result<(), StoreError>;
    /// Deletes these document rows.
    async fn delete_docs(&mut self, ids: &[Id]) -> Result<(), StoreError>;
    /// The workspaces a person is in, with their role, in no particular order.
    async fn workspaces_of(&mut self, user: Id) -> Result<Vec<WorkspaceInfo>, StoreError>;
    /// The workspaces a person owns.
    async fn owned_workspaces(&mut self, user: Id) -> Result<Vec<Id>, StoreError>;
    /// A person's role in a workspace.
    async fn role(&mut self, user: Id, ws: Id) -> Result<Option<Role>, StoreError>;
    /// Sets (or, with `None`, removes) a person's role in a workspace.
    async fn set_role(&mut self, ws: Id, user: Id, role: Option<Role>) -> Result<(), StoreError>;
    /// Everybody with a role in a workspace.
    async fn members(&mut self, ws: Id) -> Result<Vec<Id>, StoreError>;

    // Documents.

    /// Runs [`crate::push::apply_batch`] over this workspace's stored documents.
    async fn run_batch(&mut self, ws: Id, head: crate::push::Head, device: u64, mutations: &[Mutation]) -> Result<BatchOutput, StoreError>;
    /// Forgets up to `limit` stored results of `device`'s mutations in `ws`
    /// minted before `before` (the device will never send them again).
    async fn forget_results(&mut self, ws: Id, device: u64, before: Id, limit: usize) -> Result<(), StoreError>;
    /// Writes what a batch produced: documents and results.
    async fn write_batch(&mut self, ws: Id, device: u64, out: &BatchOutput, now: i64) -> Result<(), StoreError>;
    /// One page of the documents changed after `after`, read from one
    /// snapshot, cut by [`super::page_cut`].
    async fn changes(&mut self, ws: Id, after: u64, limit: usize, budget: usize) -> Result<Page, StoreError>;
    /// The current state of these documents of the workspace (unknown ids
    /// left out), cut by [`super::page_cut`] in the order given; the ids
    /// left for another call.
    async fn fetch(&mut self, ws: Id, ids: &[Id], budget: usize) -> Result<(Vec<PageDoc>, Vec<Id>), StoreError>;

    // Teams.

    /// Inserts a team.
    async fn insert_team(&mut self, id: Id, name: &str, by: Id, now: i64) -> Result<(), StoreError>;
    /// Deletes a team with its memberships and shares.
    async fn delete_team(&mut self, id: Id) -> Result<(), StoreError>;
    /// Holds changes to this team back until the transaction ends.
    async fn lock_team(&mut self, id: Id) -> Result<(), StoreError>;
    /// A team's name, if it exists.
    async fn team_name(&mut self, id: Id) -> Result<Option<String>, StoreError>;
    /// The teams a person is in: id, name and their role.
    async fn teams_of(&mut self, user: Id) -> Result<Vec<(Id, String, Role)>, StoreError>;
    /// A person's role in a team.
    async fn team_role(&mut self, team: Id, user: Id) -> Result<Option<Role>, StoreError>;
    /// The people in a team, in no particular order.
    async fn team_members(&mut self, team: Id) -> Result<Vec<TeamMember>, StoreError>;
    /// Sets (or, with `None`, removes) a person's role in a team; whether
    /// anything changed.
    async fn set_team_role(&mut self, team: Id, user: Id, role: Option<Role>) -> Result<bool, StoreError>;
    /// The workspaces shared with a team.
    async fn shared_workspaces(&mut self, team: Id) -> Result<Vec<Id>, StoreError>;
    /// Shares a workspace with a team, or stops sharing it; whether anything changed.
    async fn set_shared(&mut self, team: Id, ws: Id, shared: bool) -> Result<bool, StoreError>;
    /// The teams a workspace is shared with.
    async fn workspace_teams(&mut self, ws: Id) -> Result<Vec<Id>, StoreError>;
    /// Stores an invitation, replacing one for the same login and team;
    /// drops the team's lapsed ones.
    async fn put_invitation(&mut self, inv: &InvitationRecord) -> Result<(), StoreError>;
    /// A team's invitations that have not lapsed by `now`.
    async fn team_invitations(&mut self, team: Id, now: i64) -> Result<Vec<InvitationRecord>, StoreError>;
    /// The invitations for any of these (lowercased) logins that have not lapsed by `now`.
    async fn invitations_for(&mut self, logins: &[String], now: i64) -> Result<Vec<InvitationRecord>, StoreError>;
    /// An invitation by id.
    async fn invitation(&mut self, id: Id) -> Result<Option<InvitationRecord>, StoreError>;
    /// Deletes an invitation; whether it existed.
    async fn delete_invitation(&mut self, id: Id) -> Result<bool, StoreError>;
    /// The roles a person has in the teams a workspace is shared with.
    async fn team_roles_in(&mut self, ws: Id, user: Id) -> Result<Vec<Role>, StoreError>;

    // Rate-limit counters (see `crate::limit`).

    /// A counter, held against other writers of the same key until the
    /// transaction ends.
    async fn counter(&mut self, key: &str) -> Result<Option<crate::limit::Entry>, StoreError>;
    /// Stores a counter, or forgets it.
    async fn set_counter(&mut self, key: &str, entry: Option<crate::limit::Entry>) -> Result<(), StoreError>;
    /// Forgets counters that expired before `now`.
    async fn sweep_counters(&mut self, now: i64) -> Result<(), StoreError>;
}
