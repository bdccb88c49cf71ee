//! Bodies of the team endpoints: teams, their members, and workspaces shared
//! with a team. A stranger to a team gets 404 for all of them.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/teams` | | [`Teams`] |
//! | `POST /v1/teams` | [`CreateTeam`] | [`TeamInfo`] |
//! | `GET /v1/teams/{id}/members` | | [`TeamMembers`] |
//! | `POST /v1/teams/{id}/members` | [`Invite`] | [`TeamMembers`] (admins only) |
//! | `DELETE /v1/teams/{id}/members/{user_id}` | | 204 (admins only) |
//! | `POST /v1/teams/{id}/leave` | | 204 |
//! | `POST /v1/workspaces/{id}/share` | [`Share`] | [`crate::WorkspaceInfo`] |

use crate::{Role, User};
use model::Id;
use serde::{Deserialize, Serialize};

/// A team the caller is in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamInfo {
    pub id: Id,
    pub name: String,
    /// The caller's role: `admin`, `editor` or `viewer`.
    pub role: Role,
    /// How many people are in it.
    pub members: u64,
    /// The workspaces shared with it.
    #[serde(default)]
    pub workspaces: Vec<Id>,
}

/// `GET /v1/teams`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Teams {
    pub teams: Vec<TeamInfo>,
}

/// `POST /v1/teams`: the caller becomes its first admin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateTeam {
    pub name: String,
}

/// A person in a team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub user: User,
    pub role: Role,
}

/// `GET /v1/teams/{id}/members`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamMembers {
    pub team: TeamInfo,
    pub members: Vec<TeamMember>,
}

/// `POST /v1/teams/{id}/members`: adds a person by username or email, or
/// changes the role of one already in the team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    /// Username or email.
    pub user: String,
    /// `admin`, `editor` or `viewer`.
    pub role: Role,
}

/// `POST /v1/workspaces/{id}/share`: every member of the team gets the
/// workspace with their team role (its owner stays owner).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub team_id: Id,
}
