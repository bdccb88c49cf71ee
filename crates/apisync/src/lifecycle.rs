//! The account's life cycle: `password forgot|reset|change`,
//! `username recover`, `account delete`.

use crate::{Globals, output};
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::IsTerminal;

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
    },
    /// Change the password (current from APISYNC_PASSWORD, new from
    /// APISYNC_NEW_PASSWORD, or prompts); your other devices are signed out.
    Change,
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
}

fn secret(var: &str, prompt: &str, confirm: bool) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(crate::exit::usage(format!(
            "no password: set the {var} environment variable (apisync never takes a password as an argument)"
        )));
    }
    let p = rpassword::prompt_password(prompt)?;
    if confirm && rpassword::prompt_password("Repeat it: ")? != p {
        return Err(crate::exit::usage("the two passwords differ; nothing was changed"));
    }
    Ok(p)
}

fn done(j: bool, v: serde_json::Value, text: &str) -> anyhow::Result<()> {
    if j {
        output::json(&v)
    } else {
        println!("{text}");
        Ok(())
    }
}

pub async fn password(g: &Globals, c: PasswordCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    match c {
        PasswordCmd::Forgot { server, user } => {
            let json = g.json;
            let msg = device.forgot_password(&server, &user).await?;
            done(json, json!({ "message": msg }), &format!("{msg}; then run `apisync password reset --server {server} --token TOKEN`"))
        }
        PasswordCmd::Reset { server, token } => {
            let json = g.json;
            let new = secret("APISYNC_NEW_PASSWORD", "New password: ", true)?;
            device.reset_password(&server, &token, &new).await?;
            done(json, json!({ "reset": true }), "password reset; sign in with `apisync login` on each of your devices")
        }
        PasswordCmd::Change => {
            let json = g.json;
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
        UsernameCmd::Recover { server, email } => {
            let json = g.json;
            let msg = device.recover_username(&server, &email).await?;
            done(json, json!({ "message": msg }), &msg)
        }
    }
}

pub async fn account(g: &Globals, c: AccountCmd) -> anyhow::Result<()> {
    let device = g.open()?;
    let AccountCmd::Delete(a) = c;
    let Some(user) = device.user()? else { return Err(client::ClientError::NotSignedIn.into()) };
    if !a.yes {
        output::confirm_by_typing(
            format!("deleting account '{}' removes all its data for good; pass --yes to confirm", user.username),
            &format!("Delete account '{}' and all its data on the server and every device? Type its username to confirm: ", user.username),
            &user.username,
        )?;
    }
    device.delete_account().await?;
    done(
        g.json,
        json!({ "deleted": user.username }),
        &format!("account '{}' deleted; its other devices drop their copy at their next sync", user.username),
    )
}
