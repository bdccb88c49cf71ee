//! The team verbs: `team create|list|invite|uninvite|invitations|accept|
//! decline|role|members|remove|leave` and `workspace share|shares|unshare`.

use crate::{Globals, output};
use clap::Subcommand;
use protocol::{Invitation, TeamInfo, TeamMembers};
use serde_json::json;

/// `apisync team ...`
#[derive(Subcommand)]
pub enum TeamCmd {
    /// Create a team; you become its admin.
    Create {
        /// The team's name.
        name: String,
    },
    /// List your teams and your role in each.
    List,
    /// Invite a person by username or email; they join when they accept.
    Invite {
        /// The team's name or id.
        team: String,
        /// Their username or email.
        user: String,
        /// What they may do in the team's workspaces.
        #[arg(long, value_parser = ["admin", "editor", "viewer"], default_value = "editor")]
        role: String,
    },
    /// Withdraw an invitation nobody has answered yet.
    Uninvite {
        /// The team's name or id.
        team: String,
        /// The username or email invited, or the invitation's id.
        user: String,
    },
    /// List the invitations waiting for you.
    Invitations,
    /// Accept an invitation: you join the team and get its workspaces.
    Accept {
        /// The invitation's id, or the team's name.
        invitation: String,
    },
    /// Decline an invitation.
    Decline {
        /// The invitation's id, or the team's name.
        invitation: String,
    },
    /// Change the role of someone in the team.
    Role {
        /// The team's name or id.
        team: String,
        /// Their username or email.
        user: String,
        /// admin, editor or viewer.
        #[arg(value_parser = ["admin", "editor", "viewer"])]
        role: String,
    },
    /// List the people in a team.
    Members {
        /// The team's name or id.
        team: String,
    },
    /// Take a person out of a team; their devices drop its workspaces at their next sync.
    Remove {
        /// The team's name or id.
        team: String,
        /// Their username, email or user id.
        user: String,
    },
    /// Leave a team; its workspaces leave your devices.
    Leave {
        /// The team's name or id.
        team: String,
    },
}

fn print_team(t: &TeamInfo) {
    let shared = if t.workspaces.is_empty() { String::new() } else { format!(", {} shared workspaces", t.workspaces.len()) };
    println!("{}  {}  ({}, {} members{shared})", t.id, t.name, t.role.as_str(), t.members);
}

fn print_members(m: &TeamMembers) {
    println!("team {} ({})", m.team.name, m.team.id);
    for p in &m.members {
        println!("  {:<7} {}  <{}>", p.role.as_str(), p.user.username, p.user.email);
    }
    if !m.invitations.is_empty() {
        println!("invited, no answer yet:");
        for i in &m.invitations {
            println!("  {:<7} {}  (by {}, {})", i.role.as_str(), i.login.as_deref().unwrap_or("?"), i.invited_by, i.id);
        }
    }
}

fn print_invitation(i: &Invitation) {
    println!("{}  team '{}' as {}, from {}", i.id, i.team_name, i.role.as_str(), i.invited_by);
}

pub async fn team(g: &Globals, c: TeamCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    match c {
        TeamCmd::Create { name } => {
            let json = g.json;
            let t = device.create_team(&name).await?;
            if json {
                return output::json(&t);
            }
            println!("created team '{}' ({}); invite people with `apisync team invite '{}' USER --role editor`", t.name, t.id, t.name);
        }
        TeamCmd::List => {
            let json = g.json;
            let teams = device.teams().await?;
            if json {
                return output::json(&teams);
            }
            if teams.is_empty() {
                println!("you are in no team; create one with `apisync team create NAME`");
            }
            teams.iter().for_each(print_team);
        }
        TeamCmd::Invite { team, user, role } => {
            let json = g.json;
            let (t, sent) = device.invite(&team, &user, client::parse_team_role(&role)?).await?;
            if json {
                return output::json(&json!({ "team": t, "user": user, "role": role, "message": sent.message }));
            }
            println!("invited {user} to team '{}' as {role}: they join when they accept (`apisync team accept '{}'`)", t.name, t.name);
        }
        TeamCmd::Uninvite { team, user } => {
            let json = g.json;
            let inv = device.cancel_invitation(&team, &user).await?;
            if json {
                return output::json(&inv);
            }
            println!("withdrew the invitation of {user} to team '{}'", inv.team_name);
        }
        TeamCmd::Invitations => {
            let json = g.json;
            let list = device.invitations().await?;
            if json {
                return output::json(&list);
            }
            if list.is_empty() {
                println!("no invitations wait for you");
            }
            list.iter().for_each(print_invitation);
        }
        TeamCmd::Accept { invitation } => {
            let json = g.json;
            let t = device.accept_invitation(&invitation).await?;
            if json {
                return output::json(&t);
            }
            println!("you joined team '{}' as {}; its shared workspaces are on this device", t.name, t.role.as_str());
        }
        TeamCmd::Decline { invitation } => {
            let json = g.json;
            let inv = device.decline_invitation(&invitation).await?;
            if json {
                return output::json(&inv);
            }
            println!("declined the invitation to team '{}'", inv.team_name);
        }
        TeamCmd::Role { team, user, role } => {
            let json = g.json;
            let m = device.set_team_role(&team, &user, client::parse_team_role(&role)?).await?;
            if json {
                return output::json(&m);
            }
            println!("{user} is now {role} in team '{}'", m.team.name);
        }
        TeamCmd::Members { team } => {
            let json = g.json;
            let m = device.team_members(&team).await?;
            if json {
                return output::json(&m);
            }
            print_members(&m);
        }
        TeamCmd::Remove { team, user } => {
            let json = g.json;
            device.remove_member(&team, &user).await?;
            if json {
                return output::json(&json!({ "team": team, "removed": user }));
            }
            println!("removed {user} from team '{team}'");
        }
        TeamCmd::Leave { team } => {
            let json = g.json;
            device.leave_team(&team).await?;
            if json {
                return output::json(&json!({ "team": team, "left": true }));
            }
            println!("you left team '{team}'; its workspaces are gone from this device");
        }
    }
    Ok(())
}

/// `apisync workspace shares WORKSPACE`.
pub async fn shares(g: &Globals, workspace: &str, j: bool) -> anyhow::Result<()> {
    let device = g.open()?;
    let (w, list) = device.workspace_shares(workspace).await?;
    if j {
        return output::json(&json!({ "workspace": w, "shares": list }));
    }
    if list.is_empty() {
        println!("workspace '{}' is shared with no team", w.name);
    }
    for s in &list {
        println!("{}  {}  ({} members)", s.team_id, s.name, s.members);
    }
    Ok(())
}

/// `apisync workspace unshare WORKSPACE --team TEAM`.
pub async fn unshare(g: &Globals, workspace: &str, team: &str, j: bool) -> anyhow::Result<()> {
    let device = g.open()?;
    let (w, s) = device.unshare_workspace(workspace, team).await?;
    if j {
        return output::json(&json!({ "workspace": w, "unshared": s }));
    }
    println!("workspace '{}' is no longer shared with team '{}'; its members' devices drop it at their next sync", w.name, s.name);
    Ok(())
}

/// `apisync workspace share WORKSPACE --team TEAM`.
pub async fn share(g: &Globals, workspace: &str, team: &str, j: bool) -> anyhow::Result<()> {
    let device = g.open()?;
    let (t, w) = device.share_workspace(workspace, team).await?;
    if j {
        return output::json(&json!({ "workspace": w, "team": t }));
    }
    println!("shared workspace '{}' with team '{}' ({} members)", w.name, t.name, t.members);
    Ok(())
}
