//! Teams from the device: create, invite (the invitee accepts or declines),
//! roles, members, remove, leave, and sharing a workspace (and ending a
//! share). A team is named by its name (among the caller's teams) or its
//! id. Every change is followed by a sync, so the workspace list on this
//! device is right when the call returns.

use crate::{ClientError, Device};
use model::Id;
use protocol::{Accepted, CreateTeam, Invitation, Invite, Role, Share, ShareInfo, TeamInfo, TeamMembers, WorkspaceInfo};

/// Parses `admin`, `editor` or `viewer`.
pub fn parse_team_role(s: &str) -> Result<Role, ClientError> {
    Role::parse_team_role(s).ok_or_else(|| ClientError::Invalid(format!("'{}' is not a team role; use admin, editor or viewer", s.trim())))
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

    /// Invites a person (username or email) to a team; they join when they accept.
    pub async fn invite(&self, team: &str, user: &str, role: Role) -> Result<(TeamInfo, Accepted), ClientError> {
        let info = self.find_team(team).await?;
        let sent = self.transport()?.invite(info.id, &Invite { user: user.to_string(), role }).await.map_err(|e| self.note_failure(e))?;
        Ok((info, sent))
    }

    /// Withdraws an invitation of a team (by id, or by the username or email it went to).
    pub async fn cancel_invitation(&self, team: &str, which: &str) -> Result<Invitation, ClientError> {
        let members = self.team_members(team).await?;
        let who = which.trim();
        let found = members.invitation(who).cloned().ok_or_else(|| {
            ClientError::NotFound(format!("no invitation '{who}' waits in team '{}'; `apisync team members` lists them", members.team.name))
        })?;
        self.transport()?.cancel_invitation(members.team.id, found.id).await.map_err(|e| self.note_failure(e))?;
        Ok(found)
    }

    /// Changes the role of someone in a team.
    pub async fn set_team_role(&self, team: &str, user: &str, role: Role) -> Result<TeamMembers, ClientError> {
        let info = self.find_team(team).await?;
        let m =
            self.transport()?.set_team_role(info.id, &Invite { user: user.to_string(), role }).await.map_err(|e| self.note_failure(e))?;
        self.sync_quietly().await;
        Ok(m)
    }

    /// The invitations waiting for this account.
    pub async fn invitations(&self) -> Result<Vec<Invitation>, ClientError> {
        let t = self.transport()?;
        t.invitations().await.map(|l| l.invitations).map_err(|e| self.note_failure(e))
    }

    /// Finds one of the invitations waiting for this account by its id or its team's name.
    async fn find_invitation(&self, which: &str) -> Result<Invitation, ClientError> {
        let mine = self.invitations().await?;
        let which = which.trim();
        let found: Vec<&Invitation> =
            mine.iter().filter(|i| i.id.to_string() == which.to_ascii_lowercase() || i.team_name.eq_ignore_ascii_case(which)).collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(ClientError::NotFound(format!("no invitation '{which}' waits for you; `apisync team invitations` lists them"))),
            many => Err(ClientError::Invalid(format!(
                "several invitations match '{which}'; give an id: {}",
                many.iter().map(|i| i.id.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Accepts an invitation (by id or team name): this account joins the team.
    pub async fn accept_invitation(&self, which: &str) -> Result<TeamInfo, ClientError> {
        let inv = self.find_invitation(which).await?;
        let info = self.transport()?.accept_invitation(inv.id).await.map_err(|e| self.note_failure(e))?;
        self.sync_quietly().await;
        Ok(info)
    }

    /// Declines an invitation (by id or team name).
    pub async fn decline_invitation(&self, which: &str) -> Result<Invitation, ClientError> {
        let inv = self.find_invitation(which).await?;
        self.transport()?.decline_invitation(inv.id).await.map_err(|e| self.note_failure(e))?;
        Ok(inv)
    }

    /// Takes a person (username, email or user id) out of a team.
    pub async fn remove_member(&self, team: &str, user: &str) -> Result<(), ClientError> {
        let members = self.team_members(team).await?;
        let who = user.trim();
        let found = members.member(who).ok_or_else(|| {
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

    /// The teams a workspace (name or id) is shared with (its owner only).
    pub async fn workspace_shares(&self, workspace: &str) -> Result<(WorkspaceInfo, Vec<ShareInfo>), ClientError> {
        let ws = self.server_workspace(workspace).await?;
        let shares = self.transport()?.shares(ws.id).await.map_err(|e| self.note_failure(e))?;
        Ok((ws, shares.shares))
    }

    /// Stops sharing a workspace with a team (named by name or id among the workspace's shares).
    pub async fn unshare_workspace(&self, workspace: &str, team: &str) -> Result<(WorkspaceInfo, ShareInfo), ClientError> {
        let (ws, shares) = self.workspace_shares(workspace).await?;
        let which = team.trim();
        let share = shares
            .into_iter()
            .find(|s| s.team_id.to_string() == which.to_ascii_lowercase() || s.name.eq_ignore_ascii_case(which))
            .ok_or_else(|| {
                ClientError::NotFound(format!(
                    "workspace '{}' is not shared with a team '{which}'; `apisync workspace shares` lists them",
                    ws.name
                ))
            })?;
        self.transport()?.unshare(ws.id, share.team_id).await.map_err(|e| self.note_failure(e))?;
        self.sync_quietly().await;
        Ok((ws, share))
    }

    /// A workspace as the server lists it to this account.
    async fn server_workspace(&self, workspace: &str) -> Result<WorkspaceInfo, ClientError> {
        let ws = self.resolve_workspace(Some(workspace))?;
        let id: Id = ws.id;
        let list = self.transport()?.workspaces().await.map_err(|e| self.note_failure(e))?;
        list.workspaces
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| ClientError::NotFound(format!("workspace '{}' is not on the server yet; `apisync sync` first", ws.name)))
    }

    async fn sync_quietly(&self) {
        if !self.is_offline() {
            let _ = self.sync().await;
        }
    }
}
