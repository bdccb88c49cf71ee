//! `apisync app`: the desktop host of the app. It serves the pages and the
//! app API on 127.0.0.1 over this device's profile, keeps the profile synced
//! while it runs, and lets in only the browser that opened its address.

mod account_api;
mod api;
pub(crate) mod assets;
mod conflicts_api;
mod envs_api;
mod error;
pub(crate) mod files_api;
mod guard;
mod lists_api;
mod live;
mod mirror_api;
mod mirrors;
mod profile_api;
mod send_api;
mod teams_api;
mod tree_api;

use crate::Globals;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use clap::Args;
use client::Device;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::sync::watch;

/// The largest request body the app API reads: a document's fields, with
/// room for a large request body or script.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// `apisync app`
#[derive(Args)]
pub struct AppArgs {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0, value_name = "P")]
    port: u16,
    /// Only print the address; do not open a browser.
    #[arg(long)]
    no_open: bool,
}

/// What every handler shares.
pub struct AppState {
    /// The one device of the profile for this process (its store serialises
    /// access; other processes meet it through SQLite's WAL and locks).
    device: Arc<Device>,
    /// The latest look at the profile, for the live channel.
    snapshots: watch::Receiver<live::Snapshot>,
    /// The last few answers sent from the app, for Save as example.
    recent: send_api::Recent,
    /// The workspaces this app mirrors to folders.
    mirrors: Arc<mirrors::Mirrors>,
}

/// Runs the app until Ctrl-C, on its own multi-threaded runtime.
pub fn run(g: &Globals, a: AppArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(serve(g, a))
}

async fn serve(g: &Globals, a: AppArgs) -> anyhow::Result<()> {
    let device = Arc::new(g.open()?);
    // Loopback only: nothing beyond this machine can reach the app.
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, a.port)))
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}; pick another with --port, or --port 0", a.port))?;
    let port = listener.local_addr()?.port();
    let guard = Arc::new(guard::Guard::new(port)?);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mirrors = mirrors::Mirrors::new(Arc::clone(&device), stop_rx.clone());
    let snapshots = live::spawn_looker(Arc::clone(&device), Arc::clone(&mirrors), stop_rx.clone());
    let sync = (!device.is_offline()).then(|| live::spawn_sync(Arc::clone(&device), stop_rx.clone()));
    // The mirrors running when the app last stopped start again, beside the server.
    let resumed = Arc::clone(&mirrors);
    tokio::spawn(async move { resumed.resume().await });
    let state = Arc::new(AppState { device, snapshots, recent: send_api::Recent::default(), mirrors });
    let app = router(state, Arc::clone(&guard));

    let url = format!("http://127.0.0.1:{port}/?secret={}", guard.secret());
    // Written once and never fatal: an app started with its output closed
    // (a desktop launcher) keeps running, where `println!` would panic.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "apisync app: {url}\n(open it in a browser; Ctrl-C stops the app)").and_then(|()| out.flush());
    }
    if !a.no_open {
        open_browser(&url);
    }

    let server = axum::serve(listener, app);
    tokio::select! {
        r = server => r.map_err(|e| anyhow::anyhow!("the app's server failed: {e}"))?,
        _ = tokio::signal::ctrl_c() => {}
    }
    let _ = stop_tx.send(true);
    if let Some(sync) = sync {
        // Let the watcher store its last state; never hang the exit on it.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), sync).await;
    }
    Ok(())
}

fn router(state: Arc<AppState>, guard: Arc<guard::Guard>) -> Router {
    let api = Router::new()
        .route("/api/status", get(api::status))
        .route("/api/workspaces", get(api::workspaces).post(tree_api::create_workspace))
        .route("/api/workspaces/{id}", axum::routing::patch(tree_api::rename_workspace).delete(tree_api::delete_workspace))
        .route("/api/workspaces/{id}/docs", get(api::docs))
        .route("/api/docs", axum::routing::post(api::create))
        .route("/api/docs/{id}", get(api::doc).patch(api::set).delete(api::delete))
        .route("/api/docs/{id}/duplicate", axum::routing::post(tree_api::duplicate))
        .route("/api/docs/{id}/move", axum::routing::post(tree_api::move_doc))
        .route("/api/conflicts", get(conflicts_api::list))
        .route("/api/conflicts/{id}/resolve", axum::routing::post(conflicts_api::resolve))
        .route("/api/workspaces/{id}/environments", get(envs_api::list))
        .route("/api/workspaces/{id}/active-environment", get(envs_api::active).put(envs_api::set_active))
        .route("/api/variables/{id}", get(envs_api::variable))
        .route("/api/workspaces/{id}/header-presets", get(lists_api::header_presets))
        .route("/api/workspaces/{id}/history", get(lists_api::history))
        .route("/api/workspaces/{id}/runs", get(lists_api::runs))
        .route("/api/events", get(live::events))
        .route("/api/account/signup", axum::routing::post(account_api::signup))
        .route("/api/account/login", axum::routing::post(account_api::login))
        .route("/api/account/logout", axum::routing::post(account_api::logout))
        .route("/api/export", get(account_api::export))
        .merge(files_routes())
        .merge(send_routes())
        .merge(mirror_routes())
        .merge(account_pages_routes())
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        .with_state(state);
    api.fallback(assets::serve).layer(DefaultBodyLimit::max(BODY_LIMIT)).layer(axum::middleware::from_fn_with_state(guard, guard::check))
}

/// Import, export and the Scratch Pad's move (`files_api.rs`). The import
/// route reads files up to `files_api::IMPORT_LIMIT` (the CLI's limit),
/// not the 2 MiB of the rest of the API: its own limit is the inner layer,
/// so it wins for this route; a declared length over it is refused before
/// anything is read.
fn files_routes() -> Router<Arc<AppState>> {
    use axum::routing::post;
    Router::new()
        .route(
            "/api/import",
            post(files_api::import)
                .layer(DefaultBodyLimit::max(files_api::IMPORT_LIMIT))
                .layer(axum::middleware::from_fn(files_api::declared_size)),
        )
        .route("/api/export/doc/{id}", get(files_api::export_doc))
        .route("/api/export/globals/{workspace}", get(files_api::export_globals))
        .route("/api/scratchpad/move", post(files_api::move_scratchpad))
}

/// Sending (`send_api.rs`): only the desktop app has these routes; the web
/// version never sends from the server.
fn send_routes() -> Router<Arc<AppState>> {
    use axum::routing::post;
    Router::new()
        .route("/api/docs/{id}/send", post(send_api::send))
        .route("/api/history/{id}/save-response", post(send_api::save_response))
        .route("/api/cookies", get(send_api::cookies).delete(send_api::clear_cookies))
        .route("/api/run", post(send_api::run))
}

/// Mirroring workspaces to folders (`mirror_api.rs`): only the desktop app
/// has these routes; the web version's server never writes to a typed path.
fn mirror_routes() -> Router<Arc<AppState>> {
    use axum::routing::post;
    Router::new().route("/api/mirrors", get(mirror_api::list).post(mirror_api::start)).route("/api/mirrors/stop", post(mirror_api::stop))
}

/// The account pages: devices, password, recovery, deletion, teams
/// (`profile_api.rs`, `teams_api.rs`).
fn account_pages_routes() -> Router<Arc<AppState>> {
    use axum::routing::post;
    Router::new()
        .route("/api/account/devices", get(profile_api::devices))
        .route("/api/account/devices/{id}/sign-out", post(profile_api::sign_out_device))
        .route("/api/account/password", post(profile_api::change_password))
        .route("/api/account/forgot-password", post(profile_api::forgot_password))
        .route("/api/account/reset-password", post(profile_api::reset_password))
        .route("/api/account/recover-username", post(profile_api::recover_username))
        .route("/api/account/delete", post(profile_api::delete_account))
        .route("/api/teams", get(teams_api::list).post(teams_api::create))
        .route("/api/teams/{id}/members", get(teams_api::members))
        .route("/api/teams/{id}/invite", post(teams_api::invite))
        .route("/api/teams/{id}/role", post(teams_api::set_role))
        .route("/api/teams/{id}/remove", post(teams_api::remove))
        .route("/api/teams/{id}/cancel-invitation", post(teams_api::cancel_invitation))
        .route("/api/teams/{id}/leave", post(teams_api::leave))
        .route("/api/invitations/{id}/accept", post(teams_api::accept))
        .route("/api/invitations/{id}/decline", post(teams_api::decline))
        .route("/api/workspaces/{id}/share", post(teams_api::share))
        .route("/api/workspaces/{id}/shares", get(teams_api::shares))
        .route("/api/workspaces/{id}/unshare", post(teams_api::unshare))
}

/// Opens `url` in the default browser when an opener is installed; a
/// machine without one (a server, CI) just keeps the printed address.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reaped on a thread so no zombie is left while the app runs.
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(_) => eprintln!("(no `{opener}` here to open a browser: open the address above yourself)"),
    }
}
