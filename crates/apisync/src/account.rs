//! The account verbs: signup, login, logout, status, sync, devices.

use crate::{Globals, Json, output, parse_id};
use anyhow::bail;
use clap::{Args, Subcommand};
use client::{LoginOptions, PullProgress, SignupOptions, Status, WatchEvent, WatchOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

/// `apisync signup`
#[derive(Args)]
pub struct SignupArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// Your email.
    #[arg(long)]
    email: String,
    /// Your username.
    #[arg(long)]
    username: String,
    /// A name for this device [default: the host name].
    #[arg(long)]
    device_name: Option<String>,
    /// Discard another account's unsynced changes kept in this profile.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    json: Json,
}

/// `apisync login`
#[derive(Args)]
pub struct LoginArgs {
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// Your email or username.
    #[arg(long)]
    user: String,
    /// A name for this device [default: the host name].
    #[arg(long)]
    device_name: Option<String>,
    /// At the device limit: sign this device of yours out to make room.
    #[arg(long, value_name = "DEVICE_ID", value_parser = parse_id)]
    replace: Option<Uuid>,
    /// Discard another account's unsynced changes kept in this profile.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    json: Json,
}

/// `apisync logout`
#[derive(Args)]
pub struct LogoutArgs {
    /// Sign out even though unsynced changes would be lost.
    #[arg(long)]
    force: bool,
}

/// `apisync sync`
#[derive(Args)]
pub struct SyncArgs {
    /// Keep syncing: hold a live channel open until Ctrl-C.
    #[arg(long)]
    watch: bool,
    /// With --watch: stop after this many seconds.
    #[arg(long = "for", value_name = "SECONDS", requires = "watch")]
    for_secs: Option<f64>,
    #[command(flatten)]
    json: Json,
}

/// `apisync devices`
#[derive(Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    action: Option<DevicesCmd>,
    #[command(flatten)]
    json: Json,
}

#[derive(Subcommand)]
enum DevicesCmd {
    /// Sign a device of your account out (it keeps its unsynced changes).
    SignOut {
        /// The device's id (see `apisync devices`).
        #[arg(value_parser = parse_id)]
        id: Uuid,
    },
}

fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("APISYNC_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password("Password: ")?);
    }
    bail!("no password: set the APISYNC_PASSWORD environment variable (apisync never takes a password as an argument)")
}

/// A progress bar on stderr per workspace while restoring, when stderr is a terminal.
struct Bars {
    on: bool,
    bar: Mutex<Option<(String, ProgressBar)>>,
}

impl Bars {
    fn new() -> Bars {
        Bars { on: std::io::stderr().is_terminal(), bar: Mutex::new(None) }
    }

    fn update(&self, p: &PullProgress) {
        if !self.on {
            return;
        }
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(|(w, _)| *w != p.workspace) {
            if let Some((_, b)) = slot.take() {
                b.finish();
            }
            let b = ProgressBar::new(p.total.unwrap_or(0));
            if let Ok(style) = ProgressStyle::with_template("{msg:24} [{bar:30}] {pos}/{len} documents") {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(p.workspace.clone());
            *slot = Some((p.workspace.clone(), b));
        }
        if let Some((_, b)) = slot.as_ref() {
            b.set_length(p.total.unwrap_or(p.done).max(p.done));
            b.set_position(p.done);
            if p.finished {
                b.finish();
            }
        }
    }
}

fn signed_in(user: &protocol::User, device: &client::Device, j: Json) -> anyhow::Result<()> {
    let ws = device.workspaces()?.into_iter().filter(|w| !w.local_only).count();
    let pending = device.pending()?;
    if j.json {
        return output::json(&json!({ "user": user, "workspaces": ws, "pending": pending, "device_id": device.device_id()? }));
    }
    println!("signed in as {} <{}>; {ws} workspace(s) on this device", user.username, user.email);
    if pending > 0 {
        println!("{pending} change(s) still wait to be sent");
    }
    Ok(())
}

pub async fn signup(g: &Globals, a: SignupArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    let password = password()?;
    let bars = Bars::new();
    let f = |p: &PullProgress| bars.update(p);
    let o = SignupOptions { server: a.server, email: a.email, username: a.username, password, device_name: a.device_name, force: a.force };
    let user = device.signup(o, Some(&f)).await?;
    signed_in(&user, &device, a.json)
}

pub async fn login(g: &Globals, a: LoginArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    let password = password()?;
    let bars = Bars::new();
    let f = |p: &PullProgress| bars.update(p);
    let o = LoginOptions { server: a.server, user: a.user, password, device_name: a.device_name, replace: a.replace, force: a.force };
    let user = device.login(o, Some(&f)).await?;
    signed_in(&user, &device, a.json)
}

pub async fn logout(g: &Globals, a: LogoutArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    device.logout(a.force).await?;
    println!("signed out; the account's data is erased from this device (the scratch pad is kept)");
    Ok(())
}

fn print_status(s: &Status) {
    println!("state: {}", s.state);
    if let Some(r) = &s.reason {
        println!("reason: {r}");
    }
    match (&s.user, &s.server) {
        (Some(u), Some(url)) => println!("signed in as {u} on {url}"),
        _ => println!("signed out: edits go to the scratch pad"),
    }
    println!("device: {} ({})", s.device, s.device_id);
    println!("pending changes: {}   conflicts: {}", s.pending, s.conflicts);
    if s.watching {
        println!("a `sync --watch` is running for this profile");
    }
}

pub async fn status(g: &Globals, j: Json) -> anyhow::Result<()> {
    let device = g.open()?;
    let s = device.status().await?;
    if j.json {
        output::json(&s)
    } else {
        print_status(&s);
        Ok(())
    }
}

pub async fn sync(g: &Globals, a: SyncArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    if !device.is_signed_in()? {
        bail!("this device is not signed in; run `apisync login --server URL --user NAME` first");
    }
    if a.watch {
        let duration = match a.for_secs {
            Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
            Some(_) => bail!("--for takes a number of seconds"),
            None => None,
        };
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let j = a.json;
        let on_event = move |e: &WatchEvent| {
            if j.json {
                if let Ok(line) = serde_json::to_string(e) {
                    println!("{line}");
                }
            } else {
                match &e.reason {
                    Some(r) => println!("{}: {r}", e.state),
                    None => println!("{} (pending {}, conflicts {})", e.state, e.pending, e.conflicts),
                }
            }
        };
        device.watch(WatchOptions { duration }, stop, on_event).await?;
        return Ok(());
    }
    let report = device.sync().await?;
    let s = device.local_status()?;
    if a.json.json {
        return output::json(&json!({ "state": s.state, "report": report, "pending": s.pending, "conflicts": s.conflicts }));
    }
    println!("{}: sent {} change(s), received {} document(s), {} new conflict(s)", s.state, report.pushed, report.pulled, report.conflicts);
    if s.conflicts > 0 {
        println!("{} conflict(s) wait in the inbox: `apisync conflicts`", s.conflicts);
    }
    Ok(())
}

pub async fn devices(g: &Globals, a: DevicesArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    match a.action {
        Some(DevicesCmd::SignOut { id }) => {
            device.sign_out_device(id).await?;
            if a.json.json {
                output::json(&json!({ "signed_out": id }))
            } else {
                println!("signed out device {id}; it keeps its unsynced changes until it signs in again");
                Ok(())
            }
        }
        None => {
            let list = device.devices().await?;
            if a.json.json {
                return output::json(&list);
            }
            for d in list {
                println!(
                    "{}  {}  last seen {}{}",
                    d.id,
                    d.name,
                    client::readable_time(d.last_seen_at),
                    if d.current { "  (this device)" } else { "" }
                );
            }
            Ok(())
        }
    }
}
