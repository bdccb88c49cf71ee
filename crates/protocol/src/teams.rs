//! Bodies of the team endpoints: teams, their members, and workspaces shared
//! with a team. A stranger to a team gets 404 for all of them.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/teams` | | [`Teams`] |
//! | `POST /v1/teams` | [`CreateTeam`] | [`TeamInfo`] |
//! | `GET /v1/teams/{id}/members` | | [`TeamMembers`] (pending invitations for admins) |
//! | `POST /v1/teams/{id}/members` | [`Invite`] | [`TeamMembers`]: changes a member's role (admins only) |
//! | `DELETE /v1/teams/{id}/members/{user_id}` | | 204 (admins only) |
//! | `POST /v1/teams/{id}/invitations` | [`Invite`] | 202 [`crate::Accepted`], the same whether or not the account exists (admins only) |
//! | `DELETE /v1/teams/{id}/invitations/{invitation_id}` | | 204 (admins only) |
//! | `GET /v1/invitations` | | [`Invitations`]: those waiting for the caller |
//! | `POST /v1/invitations/{id}/accept` | | [`TeamInfo`] |
//! | `POST /v1/invitations/{id}/decline` | | 204 |
//! | `POST /v1/teams/{id}/leave` | | 204 |
//! | `POST /v1/workspaces/{id}/share` | [`Share`] | [`crate::WorkspaceInfo`] (the workspace's owner, an admin of the team) |
//! | `GET /v1/workspaces/{id}/shares` | | [`Shares`] (the workspace's owner) |
//! | `DELETE /v1/workspaces/{id}/shares/{team_id}` | | 204 (the workspace's owner, or an admin of that team) |

use crate::{Role, User};
use model::Id;
use serde::{Deserialize, Serialize};

/// A team the caller is in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamInfo {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    pub name: String,
    /// The caller's role: `admin`, `editor` or `viewer`.
    pub role: Role,
    /// How many people are in it.
    pub members: u64,
    /// The workspaces shared with it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Uuid>))]
    pub workspaces: Vec<Id>,
}

/// `GET /v1/teams`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Teams {
    pub teams: Vec<TeamInfo>,
}

/// `POST /v1/teams`: the caller becomes its first admin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTeam {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub name: String,
}

/// An invitation to join a team, which the invitee accepts or declines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub team_id: Id,
    pub team_name: String,
    /// The role they get on accepting.
    pub role: Role,
    /// The username of the admin who invited.
    pub invited_by: String,
    /// The username or email it was sent to, as the admin typed it (shown
    /// to the team's admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; unanswered, it lapses then.
    pub expires_at: i64,
}

/// `GET /v1/invitations`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitations {
    pub invitations: Vec<Invitation>,
}

/// A team a workspace is shared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareInfo {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub team_id: Id,
    pub name: String,
    pub members: u64,
}

/// `GET /v1/workspaces/{id}/shares`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shares {
    pub shares: Vec<ShareInfo>,
}

/// A person in a team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamMember {
    pub user: User,
    pub role: Role,
}

/// `GET /v1/teams/{id}/members`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamMembers {
    pub team: TeamInfo,
    pub members: Vec<TeamMember>,
    /// Invitations not yet answered (listed to the team's admins only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invitations: Vec<Invitation>,
}

impl TeamMembers {
    /// The member `who` names: a username or email (any case), or a user id.
    pub fn member(&self, who: &str) -> Option<&TeamMember> {
        let who = who.trim();
        self.members.iter().find(|m| {
            m.user.username.eq_ignore_ascii_case(who)
                || m.user.email.eq_ignore_ascii_case(who)
                || m.user.id.to_string() == who.to_ascii_lowercase()
        })
    }

    /// The waiting invitation `who` names: its id, or the username or email it went to.
    pub fn invitation(&self, who: &str) -> Option<&Invitation> {
        let who = who.trim();
        self.invitations
            .iter()
            .find(|i| i.id.to_string() == who.to_ascii_lowercase() || i.login.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(who)))
    }
}

/// `POST /v1/teams/{id}/invitations`: invites a person by username or
/// email; `POST /v1/teams/{id}/members`: changes a member's role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invite {
    /// Username or email.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub user: String,
    /// `admin`, `editor` or `viewer`.
    pub role: Role,
}

/// `POST /v1/workspaces/{id}/share`: every member of the team gets the
/// workspace with their team role (its owner stays owner).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Share {
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub team_id: Id,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_and_invitations_are_named_by_login_or_id_in_any_case() {
        let (ann, inv) = (Id::from_u128(1), Id::from_u128(2));
        let list: TeamMembers = serde_json::from_value(json!({
            "team": {"id": Id::from_u128(9), "name": "Core", "role": "owner", "members": 1},
            "members": [{"user": {"id": ann, "email": "ann@example.com", "username": "ann"}, "role": "owner"}],
            "invitations": [{"id": inv, "team_id": Id::from_u128(9), "team_name": "Core", "role": "editor",
                             "invited_by": "ann", "login": "bob@example.com", "created_at": 0, "expires_at": 1}],
        }))
        .unwrap();
        for who in ["ann", " ANN ", "Ann@Example.com", &ann.to_string(), &ann.to_string().to_uppercase()] {
            assert_eq!(list.member(who).map(|m| m.user.id), Some(ann), "{who}");
        }
        assert!(list.member("bob").is_none());
        for who in ["bob@example.com", "BOB@example.com", &inv.to_string().to_uppercase()] {
            assert_eq!(list.invitation(who).map(|i| i.id), Some(inv), "{who}");
        }
        assert!(list.invitation("ann").is_none());
    }
}
