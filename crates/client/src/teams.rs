//! Teams from the device: create, invite, list members, remove, leave, and
//! share a workspace. A team is named by its name (among the caller's teams)
//! or its id. Every change is followed by a sync, so the workspace list on
//! this device is right when the call returns.

use crate::{ClientError, Device};
use protocol::{CreateTeam, Invite, Role, Share, TeamInfo, TeamMembers, WorkspaceInfo};

/// Parses `admin`, `editor` or `viewer`.
pub fn parse_team_role(s: &str) -> Result<Role, ClientError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "admin" => Ok(Role::Admin),
        "editor" => Ok(Role::Editor),
        "viewer" => Ok(Role::Viewer),
        other => Err(ClientError::Invalid(format!("'{other}' is not a team role; use admin, editor or viewer"))),
    }
}

impl Device {
    /// The teams the account is in.
    pub async fn teams(&self) -> Result<Vec<TeamInfo>, ClientError> {
        let t = self.transport()?;
        t.teams().await.map(|l| l.teams).map_err(|e| self.note_failure(e))
    }

    /// Finds one of the account's teams by id or (case-insensitive) name.
    pub async fn find_team(&self, which: &str) -> Result<TeamInfo, ClientError> {
        let teams = self.teams().await?;
        if let Some(t) = teams.iter().find(|t| t.id.to_string() == which.trim().to_ascii_lowercase()) {
            return Ok(t.clone());
        }
        let named: Vec<&TeamInfo> = teams.iter().filter(|t| t.name.eq_ignore_ascii_case(which.trim())).collect();
        match named.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ClientError::NotFound(format!("you are in no team named or with id '{which}'; `apisync team list` shows yours"))),
            many => Err(ClientError::Invalid(format!(
                "several of your teams are named '{which}'; give an id: {}",
                many.iter().map(|t| t.id.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Creates a team; this account becomes its admin.
    pub async fn create_team(&self, name: &str) -> Result<TeamInfo, ClientError> {
        let t = self.transport()?;
        t.create_team(&CreateTeam { name: name.to_string() }).await.map_err(|e| self.note_failure(e))
    }

    /// The people in a team.
    pub async fn team_members(&self, team: &str) -> Result<TeamMembers, ClientError> {
        let info = self.find_team(team).await?;
        self.transport()?.team_members(info.id).await.map_err(|e| self.note_failure(e))
    }

    /// Adds a person (username or email) to a team, or changes their role.
    pub async fn invite(&self, team: &str, user: &str, role: Role) -> Result<TeamMembers, ClientError> {
        let info = self.find_team(team).await?;
        self.transport()?.invite(info.id, &Invite { user: user.to_string(), role }).await.map_err(|e| self.note_failure(e))
    }

    /// Takes a person (username, email or user id) out of a team.
    pub async fn remove_member(&self, team: &str, user: &str) -> Result<(), ClientError> {
        let members = self.team_members(team).await?;
        let who = user.trim();
        let found = members
            .members
            .iter()
            .find(|m| m.user.username.eq_ignore_ascii_case(who) || m.user.email.eq_ignore_ascii_case(who) || m.user.id.to_string() == who)
            .ok_or_else(|| {
                ClientError::NotFound(format!("'{who}' is not in team '{}'; `apisync team members` lists them", members.team.name))
            })?;
        let t = self.transport()?;
        t.remove_member(members.team.id, found.user.id).await.map_err(|e| self.note_failure(e))?;
        self.sync_quietly().await;
        Ok(())
    }

    /// Leaves a team; its shared workspaces leave this device (and the
    /// account's other devices at their next sync).
    pub async fn leave_team(&self, team: &str) -> Result<(), ClientError> {
        let info = self.find_team(team).await?;
        self.transport()?.leave_team(info.id).await.map_err(|e| self.note_failure(e))?;
        self.sync_quietly().await;
        Ok(())
    }

    /// Shares a workspace (name or id) with a team.
    pub async fn share_workspace(&self, workspace: &str, team: &str) -> Result<(TeamInfo, WorkspaceInfo), ClientError> {
        let ws = self.resolve_workspace(Some(workspace))?;
        if ws.local_only {
            return Err(ClientError::Invalid(format!("'{}' is the local scratch pad; it cannot be shared", ws.name)));
        }
        // A workspace created on this device reaches the server first.
        self.sync().await?;
        let info = self.find_team(team).await?;
        let shared = self.transport()?.share(ws.id, &Share { team_id: info.id }).await.map_err(|e| self.note_failure(e))?;
        Ok((info, shared))
    }

    async fn sync_quietly(&self) {
        if !self.is_offline() {
            let _ = self.sync().await;
        }
    }
}
