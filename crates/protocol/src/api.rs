//! Bodies of the HTTP API. Every path is under `/v1`; every call but
//! sign-up, sign-in and the probes carries `Authorization: Bearer TOKEN`.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /healthz` (the process answers) | | [`Health`] |
//! | `GET /readyz` (storage takes writes; else 503) | | [`Health`] |
//! | `POST /v1/auth/signup` | [`SignupRequest`] | [`Session`] |
//! | `POST /v1/auth/login` | [`LoginRequest`] | [`Session`] (409 `device_limit` with [`DeviceLimitDetails`]) |
//! | `POST /v1/auth/logout` | | 204 |
//! | `GET /v1/me` | | [`Me`] |
//! | `GET /v1/devices` | | [`Devices`] |
//! | `DELETE /v1/devices/{id}` | | 204 |
//! | `GET /v1/workspaces` | | [`Workspaces`] |
//! | `POST /v1/workspaces/{id}/push` | [`PushRequest`] | [`PushResponse`] |
//! | `GET /v1/workspaces/{id}/changes?after=N&limit=L` | | [`Changes`] |
//! | `GET /v1/live` (WebSocket) | | [`crate::LiveMessage`] frames |

use model::{Document, FieldConflict, Id, Mutation};
use serde::{Deserialize, Serialize};

/// `GET /healthz` and `GET /readyz`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// "ok": the process answers (`/healthz`), and storage too (`/readyz`).
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// The device a session belongs to, as the device names itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceInfo {
    /// Minted once by the device and kept in its profile.
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    /// A name the person recognises ("work laptop").
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub name: String,
}

/// `POST /v1/auth/signup`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    #[cfg_attr(feature = "openapi", schema(format = Email, max_length = 254))]
    pub email: String,
    /// Letters, digits, `.`, `_` and `-`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 1024))]
    pub password: String,
    pub device: DeviceInfo,
}

/// `POST /v1/auth/login`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Email or username.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub user: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub password: String,
    pub device: DeviceInfo,
    /// Sign this device of the account out to make room, when at the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub replace_device: Option<Id>,
}

impl std::fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupRequest")
            .field("email", &self.email)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}

/// An account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    pub email: String,
    pub username: String,
}

/// What a person may do in a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Editor,
    Viewer,
}

impl Role {
    /// Whether the role may change documents.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    /// Whether the role may manage members and sharing (owner or admin).
    pub fn can_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Higher is more: viewer 0, editor 1, admin 2, owner 3.
    pub fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Editor => 1,
            Role::Admin => 2,
            Role::Owner => 3,
        }
    }

    /// A role from its wire name.
    pub fn parse(s: &str) -> Option<Role> {
        s.parse().ok()
    }

    /// The role as sent on the wire.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A role someone may hold in a team (`admin`, `editor` or `viewer`,
    /// any case): a team has no owner.
    pub fn parse_team_role(s: &str) -> Option<Role> {
        Role::parse(&s.trim().to_ascii_lowercase()).filter(|r| *r != Role::Owner)
    }
}

/// A workspace the user is in, with its head sequence number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkspaceInfo {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    pub name: String,
    pub role: Role,
    /// The workspace's latest sequence number.
    pub seq: u64,
    /// The account's own "My Workspace".
    #[serde(default)]
    pub personal: bool,
}

/// A signed-in device of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    pub name: String,
    /// Unix milliseconds.
    pub signed_in_at: i64,
    /// Unix milliseconds of the device's last request.
    pub last_seen_at: i64,
    /// Whether this is the device asking.
    #[serde(default)]
    pub current: bool,
}

/// The answer to sign-up and sign-in.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Opaque bearer token; the server keeps only its hash.
    pub token: String,
    pub user: User,
    pub device: DeviceView,
    pub workspaces: Vec<WorkspaceInfo>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("token", &"<redacted>").field("user", &self.user).field("device", &self.device).finish()
    }
}

/// `details` of a 409 `device_limit`: who holds the slots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceLimitDetails {
    pub devices: Vec<DeviceView>,
}

/// `GET /v1/me`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: User,
    pub device: DeviceView,
}

/// `GET /v1/devices`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Devices {
    pub devices: Vec<DeviceView>,
}

/// `GET /v1/workspaces`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workspaces {
    pub workspaces: Vec<WorkspaceInfo>,
}

/// `POST /v1/workspaces/{id}/push`: mutations applied in order, in one
/// transaction. A workspace that does not exist yet is created by a batch
/// whose first mutation creates the `workspace` document with that id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    #[cfg_attr(feature = "openapi", schema(max_items = 5000))]
    pub mutations: Vec<Mutation>,
    /// Every mutation this device minted before this id (ids are UUID v7,
    /// so they sort by time) has its answer stored on the device, which
    /// will never send it again: the server forgets those results. The
    /// oldest mutation still waiting in the workspace's outbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub answered_before: Option<Id>,
    /// The pusher's own live connection (its `hello`), which has the answer
    /// and is not sent the push again; the device's other connections (another
    /// process of it, another browser tab) are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub connection: Option<Id>,
}

/// The answer to a push: one result per mutation, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// The workspace's sequence number before the push's changes: a device
    /// whose cursor is here has, with this answer, everything up to `seq`
    /// and moves its cursor there, as for a live `changes` frame. (Absent
    /// from servers older than this field: the device then pulls.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// The workspace's sequence number after the push.
    pub seq: u64,
    pub results: Vec<MutationResult>,
    /// The server's state of the documents the device cannot work out
    /// alone (those of conflicts, of rejections, and of changes the server
    /// placed elsewhere), each once, up to [`crate::limits::ANSWER_DOC_BYTES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<Document>,
    /// More such documents that did not fit: fetch them with
    /// `POST /v1/workspaces/{id}/docs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Uuid>))]
    pub stale: Vec<Id>,
}

/// What became of one mutation. Sending the same mutation id again returns
/// the same result and changes nothing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub mutation_id: Id,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Why a mutation conflicted as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConflictReason {
    /// The device edited a document somebody else deleted.
    Deleted,
    /// The device deleted a document somebody else edited.
    Edited,
}

/// The outcome of one mutation. It never carries a document: the server's
/// state of the documents the device needs travels once per push, in
/// [`PushResponse::docs`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    /// Applied at `version` (the document's version afterwards). `conflicts`
    /// lists fields held back because somebody else changed them first,
    /// with the server's value.
    Applied {
        version: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        conflicts: Vec<FieldConflict>,
        /// Something the server did that the device did not ask for, e.g.
        /// "placed in the collection because its folder was deleted".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Nothing applied: edit against delete, either way round.
    Conflict {
        reason: ConflictReason,
        /// The fields somebody else changed (for `edited`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        conflicts: Vec<FieldConflict>,
    },
    /// Refused: invalid or not allowed. Nothing applied.
    Rejected { code: crate::ErrorCode, message: String },
}

/// `POST /v1/workspaces/{id}/docs`: the current state of these documents
/// (at most [`crate::limits::MAX_FETCH_IDS`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocsRequest {
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Uuid>))]
    pub ids: Vec<Id>,
}

/// The answer to [`DocsRequest`]: the documents of the workspace among the
/// ids (tombstones too; unknown ids are left out), up to
/// [`crate::limits::PAGE_BYTES`]; `more` are the ids left for another call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocsAnswer {
    pub docs: Vec<Document>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Uuid>))]
    pub more: Vec<Id>,
}

/// `GET /v1/workspaces/{id}/changes?after=N&limit=L`: the current state of
/// every document changed after sequence `after`, in version order. With
/// `after=0` tombstones are left out: that is the sign-in snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Changes {
    pub docs: Vec<Document>,
    /// Pass as `after` for the next page.
    pub next: u64,
    /// Whether more pages follow.
    pub more: bool,
    /// The workspace's sequence number when the page was read.
    pub seq: u64,
    /// Documents in the workspace after `after` (first page only; for progress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Query of `GET /v1/workspaces/{id}/changes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct ChangesQuery {
    /// The sequence number the device has seen (0: everything, the sign-in snapshot).
    #[serde(default)]
    pub after: u64,
    /// Most documents in the page [default and ceiling in docs/PROTOCOL.md].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// This page continues a pull that began at 0 (a restore): the server
    /// does not answer `restore_required` to it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restoring: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcome_is_tagged_by_status() {
        let r = MutationResult { mutation_id: Id::nil(), outcome: Outcome::Applied { version: 3, conflicts: vec![], note: None } };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, json!({"mutation_id": Id::nil(), "status": "applied", "version": 3}));
        assert_eq!(serde_json::from_value::<MutationResult>(v).unwrap(), r);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let req = LoginRequest {
            user: "ann".into(),
            password: "hunter22".into(),
            device: DeviceInfo { id: Id::nil(), name: "x".into() },
            replace_device: None,
        };
        assert!(!format!("{req:?}").contains("hunter22"));
    }
}
