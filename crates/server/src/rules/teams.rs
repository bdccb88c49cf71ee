//! Teams: who may change a team, and what a change does to everyone's
//! access. Access through a team is kept as an ordinary `members` row of
//! each shared workspace, recomputed here whenever a team changes, so push,
//! pull and the workspace list need no knowledge of teams.
//!
//! Nobody joins, keeps or gains access without the owner's consent: a
//! person joins a team only by accepting an invitation (inviting tells the
//! admin nothing about whether the account exists); a workspace is shared
//! onward only by its owner, who sees and can end every share; leaving or
//! being removed from a team ends every access it gave.

use crate::error::Failure;
use crate::store::{InvitationRecord, StoreError, Tx};
use model::Id;
use protocol::limits::{INVITATION_SECS, MAX_PENDING_INVITATIONS};
use protocol::{ErrorCode, Invitation, Role, ShareInfo, TeamInfo, TeamMembers, User, WorkspaceInfo};

fn team_not_found(team: Id) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no team {team} that you are a member of; `apisync team list` shows yours"))
}

fn workspace_not_found(ws: Id) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no workspace {ws} that you are a member of"))
}

fn last_admin(team: &str) -> Failure {
    Failure::new(
        ErrorCode::BadRequest,
        format!("you are the last admin of team '{team}': make another member admin first (`apisync team role '{team}' USER admin`)"),
    )
}

/// Sets a person's role in a workspace to what ownership and teams give:
/// owner for the owner, else the highest role among the teams sharing it.
pub(crate) async fn recompute<T: Tx>(tx: &mut T, user: Id, ws: Id) -> Result<(), StoreError> {
    let Some(w) = tx.workspace(ws).await? else { return Ok(()) };
    let role = if w.owner == user { Some(Role::Owner) } else { tx.team_roles_in(ws, user).await?.into_iter().max_by_key(|r| r.rank()) };
    tx.set_role(ws, user, role).await
}

/// A team as `user` sees it, or `None` when `user` is not in it.
pub(crate) async fn view<T: Tx>(tx: &mut T, user: Id, team: Id) -> Result<Option<TeamInfo>, StoreError> {
    let Some(role) = tx.team_role(team, user).await? else { return Ok(None) };
    let Some(name) = tx.team_name(team).await? else { return Ok(None) };
    let members = tx.team_members(team).await?.len() as u64;
    let mut workspaces = tx.shared_workspaces(team).await?;
    workspaces.sort();
    Ok(Some(TeamInfo { id: team, name, role, members, workspaces }))
}

/// The teams a person is in, by name.
pub(crate) async fn list<T: Tx>(tx: &mut T, user: Id) -> Result<Vec<TeamInfo>, StoreError> {
    let mut mine = tx.teams_of(user).await?;
    mine.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    let mut out = Vec::with_capacity(mine.len());
    for (team, _, _) in mine {
        out.extend(view(tx, user, team).await?);
    }
    Ok(out)
}

/// An invitation as the wire shows it; `login` only for the team's admins.
async fn invitation_view<T: Tx>(tx: &mut T, inv: &InvitationRecord, for_admin: bool) -> Result<Invitation, StoreError> {
    let team_name = tx.team_name(inv.team).await?.unwrap_or_default();
    let invited_by = tx.user(inv.invited_by).await?.map(|u| u.user.username).unwrap_or_else(|| "a former member".into());
    Ok(Invitation {
        id: inv.id,
        team_id: inv.team,
        team_name,
        role: inv.role,
        invited_by,
        login: for_admin.then(|| inv.shown.clone()),
        created_at: inv.created_at,
        expires_at: inv.expires_at,
    })
}

/// A team and its people, for one of its members; admins also see the
/// invitations waiting for an answer.
pub(crate) async fn members<T: Tx>(tx: &mut T, caller: Id, team: Id, now: i64) -> Result<TeamMembers, Failure> {
    let info = view(tx, caller, team).await?.ok_or_else(|| team_not_found(team))?;
    let mut members = tx.team_members(team).await?;
    members.sort_by(|a, b| a.user.username.cmp(&b.user.username));
    let mut invitations = Vec::new();
    if info.role == Role::Admin {
        let mut pending = tx.team_invitations(team, now).await?;
        pending.sort_by_key(|i| i.created_at);
        for inv in &pending {
            invitations.push(invitation_view(tx, inv, true).await?);
        }
    }
    Ok(TeamMembers { team: info, members, invitations })
}

async fn require_admin<T: Tx>(tx: &mut T, caller: Id, team: Id) -> Result<TeamInfo, Failure> {
    tx.lock_team(team).await?;
    let info = view(tx, caller, team).await?.ok_or_else(|| team_not_found(team))?;
    if info.role != Role::Admin {
        return Err(Failure::new(
            ErrorCode::Forbidden,
            format!("only an admin of team '{}' can change its members or share with it; ask one of its admins", info.name),
        ));
    }
    Ok(info)
}

async fn admins<T: Tx>(tx: &mut T, team: Id) -> Result<usize, StoreError> {
    Ok(tx.team_members(team).await?.iter().filter(|m| m.role == Role::Admin).count())
}

/// Gives `user` `role` in a team and follows it through every shared workspace.
async fn join<T: Tx>(tx: &mut T, team: Id, user: Id, role: Role) -> Result<(), StoreError> {
    tx.set_team_role(team, user, Some(role)).await?;
    for ws in tx.shared_workspaces(team).await? {
        recompute(tx, user, ws).await?;
    }
    Ok(())
}

/// Creates a team with `caller` as its first admin.
pub(crate) async fn create<T: Tx>(tx: &mut T, caller: Id, name: &str, now: i64) -> Result<TeamInfo, Failure> {
    if tx.teams_of(caller).await?.iter().any(|(_, n, _)| n.eq_ignore_ascii_case(name)) {
        return Err(Failure::new(ErrorCode::BadRequest, format!("you are already in a team named '{name}'; choose another name")));
    }
    let team = Id::now_v7();
    tx.insert_team(team, name, caller, now).await?;
    tx.set_team_role(team, caller, Some(Role::Admin)).await?;
    view(tx, caller, team).await?.ok_or_else(|| Failure::from(StoreError::Unreadable("a new team vanished".into())))
}

fn team_role(role: Role) -> Result<Role, Failure> {
    match role {
        Role::Owner => Err(Failure::new(ErrorCode::BadRequest, "a team role is admin, editor or viewer")),
        r => Ok(r),
    }
}

/// Invites whoever has `login` (a username or an email) to a team. The
/// same happens whether or not such an account exists: the invitation is
/// matched to an account when somebody lists theirs.
pub(crate) async fn invite<T: Tx>(tx: &mut T, caller: Id, team: Id, login: &str, role: Role, now: i64) -> Result<(), Failure> {
    let role = team_role(role)?;
    let info = require_admin(tx, caller, team).await?;
    let pending = tx.team_invitations(team, now).await?;
    let key = login.to_lowercase();
    if pending.len() >= MAX_PENDING_INVITATIONS && !pending.iter().any(|i| i.login == key) {
        return Err(Failure::new(
            ErrorCode::BadRequest,
            format!(
                "team '{}' already has {MAX_PENDING_INVITATIONS} invitations waiting; cancel some (`apisync team members`) or wait for answers",
                info.name
            ),
        ));
    }
    let expires_at = now.saturating_add(INVITATION_SECS as i64 * 1000);
    let inv = InvitationRecord {
        id: Id::now_v7(),
        team,
        login: key,
        shown: login.to_string(),
        role,
        invited_by: caller,
        created_at: now,
        expires_at,
    };
    tx.put_invitation(&inv).await?;
    Ok(())
}

/// Withdraws an invitation (the team's admins).
pub(crate) async fn cancel_invitation<T: Tx>(tx: &mut T, caller: Id, team: Id, inv: Id) -> Result<(), Failure> {
    let info = require_admin(tx, caller, team).await?;
    match tx.invitation(inv).await? {
        Some(i) if i.team == team => {
            tx.delete_invitation(inv).await?;
            Ok(())
        }
        _ => Err(Failure::new(ErrorCode::NotFound, format!("no invitation {inv} waiting in team '{}'", info.name))),
    }
}

/// The logins an account answers to, as invitations store them.
fn logins(me: &User) -> Vec<String> {
    vec![me.username.to_lowercase(), me.email.to_lowercase()]
}

/// The invitations waiting for `me`.
pub(crate) async fn invitations<T: Tx>(tx: &mut T, me: &User, now: i64) -> Result<Vec<Invitation>, StoreError> {
    let mut mine = tx.invitations_for(&logins(me), now).await?;
    mine.sort_by_key(|i| i.created_at);
    let mut out = Vec::with_capacity(mine.len());
    for inv in &mine {
        out.push(invitation_view(tx, inv, false).await?);
    }
    Ok(out)
}

/// An invitation waiting for `me`, or 404 (another person's invitation
/// looks like none at all).
async fn my_invitation<T: Tx>(tx: &mut T, me: &User, inv: Id, now: i64) -> Result<InvitationRecord, Failure> {
    match tx.invitation(inv).await? {
        Some(i) if i.expires_at > now && logins(me).contains(&i.login) => Ok(i),
        _ => Err(Failure::new(ErrorCode::NotFound, format!("no invitation {inv} waiting for you; `apisync team invitations` lists yours"))),
    }
}

/// Accepts an invitation: `me` joins the team with its role.
pub(crate) async fn accept<T: Tx>(tx: &mut T, me: &User, inv: Id, now: i64) -> Result<TeamInfo, Failure> {
    let i = my_invitation(tx, me, inv, now).await?;
    tx.lock_team(i.team).await?;
    tx.delete_invitation(inv).await?;
    join(tx, i.team, me.id, i.role).await?;
    view(tx, me.id, i.team).await?.ok_or_else(|| team_not_found(i.team))
}

/// Declines an invitation.
pub(crate) async fn decline<T: Tx>(tx: &mut T, me: &User, inv: Id, now: i64) -> Result<(), Failure> {
    my_invitation(tx, me, inv, now).await?;
    tx.delete_invitation(inv).await?;
    Ok(())
}

/// Changes the role of someone already in the team (admins only).
pub(crate) async fn set_role<T: Tx>(tx: &mut T, caller: Id, team: Id, login: &str, role: Role) -> Result<Vec<Id>, Failure> {
    let role = team_role(role)?;
    let info = require_admin(tx, caller, team).await?;
    let key = login.to_lowercase();
    let member = tx
        .team_members(team)
        .await?
        .into_iter()
        .find(|m| m.user.username.to_lowercase() == key || m.user.email.to_lowercase() == key)
        .ok_or_else(|| {
            Failure::new(
                ErrorCode::NotFound,
                format!("nobody called '{login}' is in team '{}'; invite them with `apisync team invite`", info.name),
            )
        })?;
    if member.user.id == caller && role != Role::Admin && admins(tx, team).await? <= 1 {
        return Err(last_admin(&info.name));
    }
    join(tx, team, member.user.id, role).await?;
    Ok(vec![member.user.id])
}

/// Takes a person out of a team (an admin removing someone, or anyone
/// leaving); the last one out deletes the team. Every access the team gave
/// them ends. Returns who to tell.
pub(crate) async fn remove<T: Tx>(tx: &mut T, caller: Id, team: Id, user: Id) -> Result<Vec<Id>, Failure> {
    let info = if user == caller {
        tx.lock_team(team).await?;
        let info = view(tx, caller, team).await?.ok_or_else(|| team_not_found(team))?;
        if info.role == Role::Admin && info.members > 1 && admins(tx, team).await? <= 1 {
            return Err(last_admin(&info.name));
        }
        info
    } else {
        require_admin(tx, caller, team).await?
    };
    if !tx.set_team_role(team, user, None).await? {
        return Err(Failure::new(ErrorCode::NotFound, format!("user {user} is not in team '{}'", info.name)));
    }
    let shared = tx.shared_workspaces(team).await?;
    if tx.team_members(team).await?.is_empty() {
        // The last one out: the team goes, and with it its shares.
        tx.delete_team(team).await?;
    }
    for ws in shared {
        recompute(tx, user, ws).await?;
    }
    Ok(vec![user])
}

/// The workspace as `caller` sees it, required to be theirs (its owner).
async fn owned<T: Tx>(tx: &mut T, caller: Id, ws: Id) -> Result<WorkspaceInfo, Failure> {
    let w = tx.workspaces_of(caller).await?.into_iter().find(|w| w.id == ws).ok_or_else(|| workspace_not_found(ws))?;
    if w.role != Role::Owner {
        return Err(Failure::new(
            ErrorCode::Forbidden,
            format!("only the owner of workspace '{}' can share it or see its shares; ask them", w.name),
        ));
    }
    Ok(w)
}

/// Shares a workspace with a team: every member gets it with their team
/// role. Only the workspace's owner shares, into a team they administer.
/// Returns the workspace and who to tell.
pub(crate) async fn share<T: Tx>(tx: &mut T, caller: Id, ws: Id, team: Id) -> Result<(WorkspaceInfo, Vec<Id>), Failure> {
    let w = owned(tx, caller, ws).await?;
    if w.personal {
        return Err(Failure::new(
            ErrorCode::BadRequest,
            "your personal workspace cannot be shared; create one for the team (`apisync workspace create NAME`) and share that",
        ));
    }
    require_admin(tx, caller, team).await?;
    tx.set_shared(team, ws, true).await?;
    let users: Vec<Id> = tx.team_members(team).await?.into_iter().map(|m| m.user.id).collect();
    for u in &users {
        recompute(tx, *u, ws).await?;
    }
    Ok((w, users))
}

/// Every team a workspace is shared with (its owner).
pub(crate) async fn shares<T: Tx>(tx: &mut T, caller: Id, ws: Id) -> Result<Vec<ShareInfo>, Failure> {
    owned(tx, caller, ws).await?;
    let mut out = Vec::new();
    for team in tx.workspace_teams(ws).await? {
        let name = tx.team_name(team).await?.unwrap_or_default();
        let members = tx.team_members(team).await?.len() as u64;
        out.push(ShareInfo { team_id: team, name, members });
    }
    out.sort_by(|a, b| (&a.name, a.team_id).cmp(&(&b.name, b.team_id)));
    Ok(out)
}

/// Stops sharing a workspace with a team: its owner may, and so may an
/// admin of that team. Everyone who had it only through that team loses it.
pub(crate) async fn unshare<T: Tx>(tx: &mut T, caller: Id, ws: Id, team: Id) -> Result<Vec<Id>, Failure> {
    // A stranger to the workspace learns nothing of it.
    let (Some(w), Some(role)) = (tx.workspace(ws).await?, tx.role(caller, ws).await?) else { return Err(workspace_not_found(ws)) };
    let team_admin = tx.team_role(team, caller).await? == Some(Role::Admin);
    if role != Role::Owner && !team_admin {
        return Err(Failure::new(
            ErrorCode::Forbidden,
            format!("only the owner of workspace '{}' or an admin of the team can stop sharing it", w.name),
        ));
    }
    tx.lock_team(team).await?;
    if !tx.set_shared(team, ws, false).await? {
        return Err(Failure::new(ErrorCode::NotFound, format!("workspace '{}' is not shared with team {team}", w.name)));
    }
    let users: Vec<Id> = tx.team_members(team).await?.into_iter().map(|m| m.user.id).collect();
    for u in &users {
        recompute(tx, *u, ws).await?;
    }
    Ok(users)
}
