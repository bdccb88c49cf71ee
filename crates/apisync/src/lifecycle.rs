//! The account's life cycle: `password forgot|reset|change`,
//! `username recover`, `account delete`.

use crate::{Globals, Json, output};
use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::{IsTerminal, Write};

/// `apisync password ...`
#[derive(Subcommand)]
pub enum PasswordCmd {
    /// Ask the server to mail a reset token to the account's email.
    Forgot {
        /// The server's URL.
        #[arg(long)]
        server: String,
        /// Your username or email.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        json: Json,
    },
    /// Set a new password with a mailed token (new password from
    /// APISYNC_NEW_PASSWORD or a prompt); every device signs in again.
    Reset {
        /// The server's URL.
        #[arg(long)]
        server: String,
        /// The token from the mail.
        #[arg(long)]
        token: String,
        #[command(flatten)]
        json: Json,
    },
    /// Change the password (current from APISYNC_PASSWORD, new from
    /// APISYNC_NEW_PASSWORD, or prompts); your other devices are signed out.
    Change(Json),
}

/// `apisync username ...`
#[derive(Subcommand)]
pub enum UsernameCmd {
    /// Ask the server to mail the username of an email address.
    Recover {
        /// The server's URL.
        #[arg(long)]
        server: String,
        /// The account's email.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        json: Json,
    },
}

/// `apisync account ...`
#[derive(Subcommand)]
pub enum AccountCmd {
    /// Delete the account and all its data on the server and on this device
    /// (refused while you are in a team: leave it first).
    Delete(DeleteArgs),
}

/// `apisync account delete`
#[derive(Args)]
pub struct DeleteArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    json: Json,
}

fn secret(var: &str, prompt: &str, confirm: bool) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set the {var} environment variable (apisync never takes a password as an argument)");
    }
    let p = rpassword::prompt_password(prompt)?;
    if confirm && rpassword::prompt_password("Repeat it: ")? != p {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(p)
}

fn done(j: Json, v: serde_json::Value, text: &str) -> anyhow::Result<()> {
    if j.json {
        output::json(&v)
    } else {
        println!("{text}");
        Ok(())
    }
}

pub async fn password(g: &Globals, c: PasswordCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    match c {
        PasswordCmd::Forgot { server, user, json } => {
            let msg = device.forgot_password(&server, &user).await?;
            done(json, json!({ "message": msg }), &format!("{msg}; then run `apisync password reset --server {server} --token TOKEN`"))
        }
        PasswordCmd::Reset { server, token, json } => {
            let new = secret("APISYNC_NEW_PASSWORD", "New password: ", true)?;
            device.reset_password(&server, &token, &new).await?;
            done(json, json!({ "reset": true }), "password reset; sign in with `apisync login` on each of your devices")
        }
        PasswordCmd::Change(json) => {
            let current = secret("APISYNC_PASSWORD", "Current password: ", false)?;
            let new = secret("APISYNC_NEW_PASSWORD", "New password: ", true)?;
            device.change_password(&current, &new).await?;
            done(json, json!({ "changed": true }), "password changed; your other devices must sign in again")
        }
    }
}

pub async fn username(g: &Globals, c: UsernameCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    match c {
        UsernameCmd::Recover { server, email, json } => {
            let msg = device.recover_username(&server, &email).await?;
            done(json, json!({ "message": msg }), &msg)
        }
    }
}

pub async fn account(g: &Globals, c: AccountCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    let AccountCmd::Delete(a) = c;
    let Some(user) = device.user()? else { bail!("this device is not signed in; sign in to the account to delete it") };
    if !a.yes {
        if !std::io::stdin().is_terminal() {
            bail!("deleting account '{}' removes all its data for good; pass --yes to confirm", user.username);
        }
        print!("Delete account '{}' and all its data on the server and every device? Type its username to confirm: ", user.username);
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        if line.trim() != user.username {
            bail!("not confirmed; nothing was deleted");
        }
    }
    device.delete_account().await?;
    done(
        a.json,
        json!({ "deleted": user.username }),
        &format!("account '{}' deleted; its other devices drop their copy at their next sync", user.username),
    )
}
