//! The account verbs: signup, login, logout, status, sync, devices.

use crate::{Globals, output, parse_id};
use clap::{Args, Subcommand};
use client::{LoginOptions, PullProgress, SignupOptions, Status, WatchEvent, WatchOptions};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::path::PathBuf;
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
    /// The server's certificate comes from this private CA (PEM): trust it
    /// besides the system's, now and in later syncs of this profile.
    #[arg(long, env = "APISYNC_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
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
    /// The server's certificate comes from this private CA (PEM): trust it
    /// besides the system's, now and in later syncs of this profile.
    #[arg(long, env = "APISYNC_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
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
    /// Keep syncing: hold a live channel open until Ctrl-C. Reconnects by
    /// itself after network trouble, and after a sign-out it waits for the
    /// next sign-in on this profile (so it can run as a service).
    #[arg(long)]
    watch: bool,
    /// With --watch: stop after this many seconds (for scripts and tests).
    #[arg(long = "for", value_name = "SECONDS", requires = "watch")]
    for_secs: Option<f64>,
}

/// `apisync devices`
#[derive(Args)]
pub struct DevicesArgs {
    #[command(subcommand)]
    action: Option<DevicesCmd>,
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
    Err(crate::exit::usage("no password: set the APISYNC_PASSWORD environment variable (apisync never takes a password as an argument)"))
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

fn signed_in(user: &protocol::User, device: &client::Device, j: bool) -> anyhow::Result<()> {
    let ws = device.workspaces()?.into_iter().filter(|w| !w.local_only).count();
    let pending = device.pending()?;
    if j {
        return output::json(&json!({ "user": user, "workspaces": ws, "pending": pending, "device_id": device.device_id()? }));
    }
    println!("signed in as {} <{}>; {ws} workspace(s) on this device", user.username, user.email);
    if pending > 0 {
        println!("{pending} change(s) still wait to be sent");
    }
    Ok(())
}

/// Opens the profile, trusting the `--ca-cert` given (over APISYNC_CA_CERT).
fn open_trusting(g: &Globals, ca_cert: Option<PathBuf>) -> anyhow::Result<client::Device> {
    let mut device = g.open()?;
    if let Some(file) = ca_cert.filter(|f| !f.as_os_str().is_empty()) {
        device.set_ca_cert(Some(crate::ca_cert(&file)?));
    }
    Ok(device)
}

pub async fn signup(g: &Globals, a: SignupArgs) -> anyhow::Result<()> {
    let device = open_trusting(g, a.ca_cert)?;
    let password = password()?;
    let bars = Bars::new();
    let f = |p: &PullProgress| bars.update(p);
    let o = SignupOptions { server: a.server, email: a.email, username: a.username, password, device_name: a.device_name, force: a.force };
    let user = device.signup(o, Some(&f)).await?;
    signed_in(&user, &device, g.json)
}

pub async fn login(g: &Globals, a: LoginArgs) -> anyhow::Result<()> {
    let device = open_trusting(g, a.ca_cert)?;
    let password = password()?;
    let bars = Bars::new();
    let f = |p: &PullProgress| bars.update(p);
    let o = LoginOptions { server: a.server, user: a.user, password, device_name: a.device_name, replace: a.replace, force: a.force };
    let user = device.login(o, Some(&f)).await?;
    signed_in(&user, &device, g.json)
}

pub async fn logout(g: &Globals, a: LogoutArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    let discarded = device.logout(a.force).await?;
    if g.json {
        return output::json(&json!({ "signed_out": true, "discarded": discarded }));
    }
    if discarded.pending > 0 {
        println!("discarded {} unsynced change(s)", discarded.pending);
    }
    if !discarded.conflicts.is_empty() {
        println!("discarded {} unresolved conflict(s): {}", discarded.conflicts.len(), discarded.conflicts.join(", "));
    }
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

/// `apisync status`
#[derive(Args)]
pub struct StatusArgs {
    /// Answer at once from what this profile last learned, without the
    /// network (for a shell prompt or a status bar).
    #[arg(long)]
    cached: bool,
}

pub async fn status(g: &Globals, a: StatusArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    let s = if a.cached { device.local_status()? } else { device.status().await? };
    let mirrors = crate::mirror::mirrors(device.dir());
    if g.json {
        let mut v = serde_json::to_value(&s)?;
        v["mirrors"] = mirrors.iter().map(|(dir, last, error)| serde_json::json!({ "dir": dir, "last": last, "error": error })).collect();
        output::json(&v)
    } else {
        print_status(&s);
        for (dir, last, error) in &mirrors {
            let when = last.map_or_else(|| "never".to_string(), client::readable_time);
            match error {
                Some(e) => println!("mirror {}: stopped, fix the file: {e}", dir.display()),
                None => println!("mirror {}: in step ({when})", dir.display()),
            }
        }
        Ok(())
    }
}

/// How often a watcher without a session looks for a new sign-in.
const SIGN_IN_POLL: Duration = Duration::from_secs(2);

fn print_event(j: bool, e: &WatchEvent) {
    if j {
        if let Ok(line) = serde_json::to_string(e) {
            println!("{line}");
        }
    } else {
        match &e.reason {
            Some(r) => println!("{}: {r}", e.state),
            None => println!("{} (pending {}, conflicts {})", e.state, e.pending, e.conflicts),
        }
    }
}

/// `sync --watch`: live sync until Ctrl-C or `--for`; a session that ends
/// (sign-out, revocation, a deleted account) is waited out, not fatal.
async fn watch(g: &Globals, device: &client::Device, duration: Option<Duration>) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_tx = std::sync::Arc::new(stop_tx);
    let ctrl_c = stop_tx.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = ctrl_c.send(true);
    });
    // The mirrors marked `--background` run beside the sync.
    let mirrors = tokio::spawn(crate::mirror::background::supervise(device.dir().to_path_buf(), stop_rx.clone()));
    let j = g.json;
    let result = keep_synced(
        device,
        duration,
        stop_rx,
        |e| print_event(j, e),
        |e| {
            if !j {
                eprintln!("{e}");
            }
        },
    )
    .await;
    let _ = stop_tx.send(true);
    let _ = mirrors.await;
    result
}

/// Keeps `device` synced live until `stop` turns true or `duration` passes:
/// `sync --watch` and `apisync app` share it. While signed out, or after a
/// session ended (told to `on_ended`), it waits for a new sign-in on the
/// profile; `on_event` hears every state change.
pub async fn keep_synced(
    device: &client::Device,
    duration: Option<Duration>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
    mut on_event: impl FnMut(&WatchEvent),
    mut on_ended: impl FnMut(&client::ClientError),
) -> anyhow::Result<()> {
    let deadline = duration.map(|d| tokio::time::Instant::now() + d);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // The session that last failed for good: wait until it is replaced.
    let mut ended: Option<Option<u64>> = None;
    let mut announced: Option<Option<u64>> = None;
    loop {
        let now = tokio::time::Instant::now();
        if deadline.is_some_and(|d| d <= now) || *stop_rx.borrow() {
            return Ok(());
        }
        let session = device.session_fingerprint()?;
        if session.is_none() || ended == Some(session) {
            if announced != Some(session) {
                let why = if session.is_none() { "signed out" } else { "this session ended" };
                on_event(&WatchEvent {
                    state: client::SyncState::Offline,
                    reason: Some(format!("{why}; waiting for a sign-in on this profile (`apisync login`)")),
                    pending: device.pending()?,
                    conflicts: device.conflicts()?.len() as u64,
                });
                announced = Some(session);
            }
            device.heartbeat()?;
            let nap = deadline.map_or(SIGN_IN_POLL, |d| SIGN_IN_POLL.min(d.saturating_duration_since(now)));
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = stopped(stop_rx.clone()) => return Ok(()),
            }
            continue;
        }
        announced = None;
        let remaining = deadline.map(|d| d.saturating_duration_since(now));
        match device.watch(WatchOptions { duration: remaining }, stopped(stop_rx.clone()), &mut on_event).await {
            Ok(()) => return Ok(()),
            Err(e) if e.ends_session() => {
                on_ended(&e);
                ended = Some(device.session_fingerprint()?);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

pub async fn sync(g: &Globals, a: SyncArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    if a.watch {
        let duration = match a.for_secs {
            Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
            Some(_) => return Err(crate::exit::usage("--for takes a number of seconds, such as 30 or 0.5")),
            None => None,
        };
        return watch(g, &device, duration).await;
    }
    if !device.is_signed_in()? {
        return Err(client::ClientError::NotSignedIn.into());
    }
    let report = device.sync().await?;
    let s = device.local_status()?;
    if g.json {
        return output::json(&json!({ "state": s.state, "report": report, "pending": s.pending, "conflicts": s.conflicts }));
    }
    println!("{}: sent {} change(s), received {} document(s), {} new conflict(s)", s.state, report.pushed, report.pulled, report.conflicts);
    for name in &report.restored {
        println!(
            "workspace '{name}' was pulled whole again: this device was away longer than the server keeps deletions (unsent changes were kept)"
        );
    }
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
            if g.json {
                output::json(&json!({ "signed_out": id }))
            } else {
                println!("signed out device {id}; it keeps its unsynced changes until it signs in again");
                Ok(())
            }
        }
        None => {
            let list = device.devices().await?;
            if g.json {
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
