//! The team verbs: `team create|list|invite|members|remove|leave` and
//! `workspace share WORKSPACE --team TEAM`.

use crate::{Globals, Json, output};
use clap::Subcommand;
use protocol::{TeamInfo, TeamMembers};
use serde_json::json;

/// `apisync team ...`
#[derive(Subcommand)]
pub enum TeamCmd {
    /// Create a team; you become its admin.
    Create {
        /// The team's name.
        name: String,
        #[command(flatten)]
        json: Json,
    },
    /// List your teams and your role in each.
    List(Json),
    /// Add a person by username or email (or change their role).
    Invite {
        /// The team's name or id.
        team: String,
        /// Their username or email.
        user: String,
        /// What they may do in the team's workspaces.
        #[arg(long, value_parser = ["admin", "editor", "viewer"], default_value = "editor")]
        role: String,
        #[command(flatten)]
        json: Json,
    },
    /// List the people in a team.
    Members {
        /// The team's name or id.
        team: String,
        #[command(flatten)]
        json: Json,
    },
    /// Take a person out of a team; their devices drop its workspaces at their next sync.
    Remove {
        /// The team's name or id.
        team: String,
        /// Their username, email or user id.
        user: String,
        #[command(flatten)]
        json: Json,
    },
    /// Leave a team; its workspaces leave your devices.
    Leave {
        /// The team's name or id.
        team: String,
        #[command(flatten)]
        json: Json,
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
}

pub async fn team(g: &Globals, c: TeamCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    match c {
        TeamCmd::Create { name, json } => {
            let t = device.create_team(&name).await?;
            if json.json {
                return output::json(&t);
            }
            println!("created team '{}' ({}); invite people with `apisync team invite '{}' USER --role editor`", t.name, t.id, t.name);
        }
        TeamCmd::List(json) => {
            let teams = device.teams().await?;
            if json.json {
                return output::json(&teams);
            }
            if teams.is_empty() {
                println!("you are in no team; create one with `apisync team create NAME`");
            }
            teams.iter().for_each(print_team);
        }
        TeamCmd::Invite { team, user, role, json } => {
            let m = device.invite(&team, &user, client::parse_team_role(&role)?).await?;
            if json.json {
                return output::json(&m);
            }
            println!("{user} is now {role} in team '{}'", m.team.name);
        }
        TeamCmd::Members { team, json } => {
            let m = device.team_members(&team).await?;
            if json.json {
                return output::json(&m);
            }
            print_members(&m);
        }
        TeamCmd::Remove { team, user, json } => {
            device.remove_member(&team, &user).await?;
            if json.json {
                return output::json(&json!({ "team": team, "removed": user }));
            }
            println!("removed {user} from team '{team}'");
        }
        TeamCmd::Leave { team, json } => {
            device.leave_team(&team).await?;
            if json.json {
                return output::json(&json!({ "team": team, "left": true }));
            }
            println!("you left team '{team}'; its workspaces are gone from this device");
        }
    }
    Ok(())
}

/// `apisync workspace share WORKSPACE --team TEAM`.
pub async fn share(g: &Globals, workspace: &str, team: &str, j: Json) -> anyhow::Result<()> {
    let device = g.open()?;
    let (t, w) = device.share_workspace(workspace, team).await?;
    if j.json {
        return output::json(&json!({ "workspace": w, "team": t }));
    }
    println!("shared workspace '{}' with team '{}' ({} members)", w.name, t.name, t.members);
    Ok(())
}
