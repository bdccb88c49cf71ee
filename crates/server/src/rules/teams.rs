//! Teams: who may change a team, and what a change does to everyone's
//! access. Access through a team is kept as an ordinary `members` row of
//! each shared workspace, recomputed here whenever a team changes, so push,
//! pull and the workspace list need no knowledge of teams.

use crate::error::Failure;
use crate::store::{Notice, StoreError, Tx};
use model::Id;
use protocol::{ErrorCode, LiveMessage, Role, TeamInfo, TeamMembers, User, WorkspaceInfo};

fn team_not_found(team: Id) -> Failure {
    Failure::new(ErrorCode::NotFound, format!("no team {team} that you are a member of; `apisync team list` shows yours"))
}

fn last_admin(team: &str) -> Failure {
    Failure::new(
        ErrorCode::BadRequest,
        format!(
            "you are the last admin of team '{team}': make another member admin first (`apisync team invite '{team}' USER --role admin`)"
        ),
    )
}

/// Sets a person's role in a workspace to what ownership and teams give:
/// owner for the owner, else the highest role among the teams sharing it.
pub(crate) async fn recompute<T: Tx>(tx: &mut T, user: Id, ws: Id) -> Result<(), StoreError> {
    let Some(w) = tx.workspace(ws).await? else { return Ok(()) };
    let role = if w.owner == user { Some(Role::Owner) } else { tx.team_roles_in(ws, user).await?.into_iter().max_by_key(|r| r.rank()) };
    tx.set_role(ws, user, role).await
}

/// Tells these people's devices, in every process, that their workspace list changed.
pub(crate) async fn announce<T: Tx>(tx: &mut T, users: &[Id]) -> Result<(), StoreError> {
    if tx.fans_out() && !users.is_empty() {
        let frame = serde_json::to_string(&LiveMessage::Workspaces)?;
        tx.notify(&Notice::Frame { users: users.to_vec(), frame }).await?;
    }
    Ok(())
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

/// A team and its people, for one of its members.
pub(crate) async fn members<T: Tx>(tx: &mut T, caller: Id, team: Id) -> Result<TeamMembers, Failure> {
    let info = view(tx, caller, team).await?.ok_or_else(|| team_not_found(team))?;
    let mut members = tx.team_members(team).await?;
    members.sort_by(|a, b| a.user.username.cmp(&b.user.username));
    Ok(TeamMembers { team: info, members })
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

/// Gives `user` `role` in a team (admins only); their access to the
/// team's workspaces follows. Returns who to tell.
pub(crate) async fn set_member<T: Tx>(tx: &mut T, caller: Id, team: Id, user: &User, role: Role) -> Result<Vec<Id>, Failure> {
    let info = require_admin(tx, caller, team).await?;
    if role == Role::Owner {
        return Err(Failure::new(ErrorCode::BadRequest, "a team role is admin, editor or viewer"));
    }
    if user.id == caller && role != Role::Admin && admins(tx, team).await? <= 1 {
        return Err(last_admin(&info.name));
    }
    tx.set_team_role(team, user.id, Some(role)).await?;
    for ws in tx.shared_workspaces(team).await? {
        recompute(tx, user.id, ws).await?;
    }
    announce(tx, &[user.id]).await?;
    Ok(vec![user.id])
}

/// Takes a person out of a team (an admin removing someone, or anyone
/// leaving); the last one out deletes the team. Returns who to tell.
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
    announce(tx, &[user]).await?;
    Ok(vec![user])
}

/// Shares a workspace with a team: every member gets it with their team
/// role. Returns the workspace and who to tell.
pub(crate) async fn share<T: Tx>(tx: &mut T, caller: Id, ws: Id, team: Id) -> Result<(WorkspaceInfo, Vec<Id>), Failure> {
    let Some(w) = tx.workspaces_of(caller).await?.into_iter().find(|w| w.id == ws) else {
        return Err(Failure::new(ErrorCode::NotFound, format!("no workspace {ws} that you are a member of")));
    };
    if !w.role.can_admin() {
        return Err(Failure::new(ErrorCode::Forbidden, format!("only the owner or an admin of workspace '{}' can share it", w.name)));
    }
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
    announce(tx, &users).await?;
    Ok((w, users))
}
