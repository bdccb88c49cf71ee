//! `apisync`: the one command. `serve` runs the sync server; every other verb
//! acts on this device's profile (see `device.rs` and `account.rs`).

mod account;
mod app;
mod backup;
mod bench;
mod device;
mod exit;
mod files;
mod lifecycle;
mod migrate;
mod mirror;
mod output;
mod resolve;
mod sending;
mod serve;
mod serve_config;
mod service;
mod team;
mod v3dir;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

// The server's hot path allocates many small JSON values; glibc's malloc
// spent a fifth of push time in malloc/free and kept freed memory resident.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use uuid::Uuid;

/// Keep your API workspaces in sync through a server you host.
#[derive(Parser)]
#[command(name = "apisync", version, about, long_about = None)]
struct Cli {
    /// The device profile directory [default: $APISYNC_HOME, else
    /// $XDG_DATA_HOME/apisync, else ~/.local/share/apisync].
    #[arg(long, global = true, value_name = "DIR")]
    profile: Option<PathBuf>,

    /// Stay off the network: edits wait in the outbox (also APISYNC_OFFLINE=1).
    #[arg(long, global = true)]
    offline: bool,

    /// Print JSON instead of text; errors too, on stderr.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sync server (embedded SQLite in its data directory by default).
    Serve(serve::ServeArgs),
    /// Copy a server's embedded SQLite data into an empty PostgreSQL database.
    Migrate(migrate::MigrateArgs),
    /// Back up a server's embedded database to a file, safely while it runs (PostgreSQL: use pg_dump).
    Backup(backup::BackupArgs),
    /// Measure throughput, latency, restore and memory on this machine (use a release build).
    Bench(bench::BenchArgs),
    /// Create an account on a server and sign this device in.
    Signup(account::SignupArgs),
    /// Sign this device in (password from APISYNC_PASSWORD or a prompt).
    Login(account::LoginArgs),
    /// Sign this device out and delete the account's data from it.
    Logout(account::LogoutArgs),
    /// Sync once, then show the sync state (--cached: without the network).
    Status(account::StatusArgs),
    /// Sync now, or keep syncing with --watch.
    Sync(account::SyncArgs),
    /// List the account's signed-in devices, or sign one out.
    Devices(account::DevicesArgs),
    /// List the workspaces on this device.
    Workspaces,
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(device::WorkspaceCmd),
    /// List documents of a workspace as a tree.
    Ls(device::LsArgs),
    /// Show one document as JSON.
    Show(device::ShowArgs),
    /// Create a document; prints its id.
    Create(device::CreateArgs),
    /// Set fields of a document: FIELD=VALUE (VALUE is JSON when it parses, else text).
    Set(device::SetArgs),
    /// Edit a document's fields as JSON in $EDITOR; applied as one edit.
    Edit(device::EditArgs),
    /// Delete a document and everything under it.
    Rm(device::IdArgs),
    /// Move a document to another parent or position.
    Mv(device::MvArgs),
    /// List the conflicts inbox, or resolve an entry.
    Conflicts(device::ConflictsArgs),
    /// Resolve a conflict: keep --mine, --theirs, or choose per --field NAME=mine|theirs.
    Resolve(resolve::ResolveArgs),
    /// Teams: create, list, invite, members, remove, leave.
    #[command(subcommand)]
    Team(team::TeamCmd),
    /// Forgot, reset or change the password.
    #[command(subcommand)]
    Password(lifecycle::PasswordCmd),
    /// Recover a forgotten username by email.
    #[command(subcommand)]
    Username(lifecycle::UsernameCmd),
    /// Delete the account.
    #[command(subcommand)]
    Account(lifecycle::AccountCmd),
    /// Send a request (variables, auth, body) and show the response; a history entry is written.
    Send(sending::cli::SendArgs),
    /// Run a collection or folder as newman does (scripts, iterations, data); the result syncs as a run.
    Run(sending::run_cli::RunArgs),
    /// List or clear the cookies servers set on this device's requests.
    Cookies(sending::cli::CookiesArgs),
    /// Print the response body a history entry keeps.
    Body(sending::cli::BodyArgs),
    /// Import Postman files: collections, environments, globals, data dumps, newman reports, v3 directories.
    Import(files::ImportArgs),
    /// Export a collection, an environment, the globals, or everything, as Postman files.
    Export(files::ExportArgs),
    /// Keep a workspace and a v3 `postman/` folder (e.g. in a git repository) the same, both ways; --watch keeps at it.
    Mirror(mirror::MirrorArgs),
    /// The local-only scratch pad: save it to a file, or move it into a workspace.
    #[command(subcommand)]
    Scratchpad(files::ScratchpadCmd),
    /// Open the app in a browser: served on 127.0.0.1 over this profile, synced while it runs.
    App(app::AppArgs),
    /// Run `sync --watch` in the background as a systemd user service.
    #[command(subcommand)]
    Service(service::ServiceCmd),
    /// Print a shell completion script: `apisync completions bash > ~/.local/share/bash-completion/completions/apisync`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The global options every device verb needs.
pub struct Globals {
    pub profile: Option<PathBuf>,
    pub offline: bool,
    /// `--json`: print machine-readable JSON instead of text.
    pub json: bool,
}

impl Globals {
    /// Opens the device profile.
    pub fn open(&self) -> anyhow::Result<client::Device> {
        let dir = match &self.profile {
            Some(d) => d.clone(),
            None => client::default_dir()?,
        };
        let mut device = client::Device::open(dir)?;
        device.set_offline(self.offline);
        // Every verb that reaches the server (the app's sign-in too) trusts it.
        if let Some(file) = std::env::var_os("APISYNC_CA_CERT").filter(|f| !f.is_empty()) {
            device.set_ca_cert(Some(ca_cert(std::path::Path::new(&file))?));
        }
        Ok(device)
    }
}

/// The private CA in `file` (`--ca-cert`, APISYNC_CA_CERT); a file that
/// cannot be used is a usage error naming it.
pub fn ca_cert(file: &std::path::Path) -> anyhow::Result<client::CaCert> {
    client::CaCert::from_file(file).map_err(|e| exit::usage(e.to_string()))
}

/// Parses a document id with a helpful message.
pub fn parse_id(s: &str) -> Result<Uuid, String> {
    s.trim().parse::<Uuid>().map_err(|_| format!("'{s}' is not a document id (a UUID such as 0190c5c2-…)"))
}

fn env_offline() -> bool {
    std::env::var("APISYNC_OFFLINE").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"))
}

/// The command line, with the device's options (`--profile`, `--offline`,
/// `--json`) kept out of the help of the verbs that run servers and tools.
fn command() -> clap::Command {
    use clap::{Arg, ArgAction, value_parser};
    // clap does not copy a global option into a verb that has its own of the
    // same name; these hidden ones keep the device's out of the verb's help.
    let hidden = || {
        [
            Arg::new("profile").long("profile").value_parser(value_parser!(PathBuf)).hide(true),
            Arg::new("offline").long("offline").action(ArgAction::SetTrue).hide(true),
            Arg::new("json").long("json").action(ArgAction::SetTrue).hide(true),
        ]
    };
    ["serve", "migrate", "backup", "bench"].into_iter().fold(Cli::command(), |cmd, verb| cmd.mut_subcommand(verb, |s| s.args(hidden())))
}

/// Whether stderr may carry colour: a terminal, and no `NO_COLOR` (no-color.org).
pub fn colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Lets a closed pipe end a device verb quietly, as it ends `cat`: Rust
/// ignores SIGPIPE, so `apisync ls | head -1` would otherwise panic on the
/// next write. Network sockets are unaffected (they send with MSG_NOSIGNAL).
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: called before any thread starts; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> std::process::ExitCode {
    // Before parsing: a command line clap refuses still gets a JSON error.
    let json_asked = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = match command().try_get_matches_from(&argv) {
        Ok(m) => m,
        Err(e) => return exit::parse_failure(e, json_asked),
    };
    // `serve --config FILE`: the file's settings, below the command line and the environment.
    let matches = match serve_config::apply(matches, argv) {
        Ok(m) => m,
        Err(e) => return exit::report(&e, json_asked),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return exit::parse_failure(e, json_asked),
    };
    let g = Globals { profile: cli.profile, offline: cli.offline || env_offline(), json: cli.json };
    // For comparisons with newman (tests/node/oracle.js), which pins its own generators alike.
    if std::env::var_os("APISYNC_PIN_DYNAMIC_VARIABLES").is_some_and(|v| v == "1") {
        runner::dynamic::pin();
    }
    let result = match cli.command {
        // The server builds its own runtime.
        Command::Serve(args) => serve::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Backup(args) => backup::run(args),
        Command::Bench(args) => bench::run(args),
        // The app builds its own multi-threaded runtime.
        Command::App(args) => app::run(&g, args),
        Command::Completions { shell } => {
            default_sigpipe();
            clap_complete::generate(shell, &mut command(), "apisync", &mut std::io::stdout());
            Ok(())
        }
        cmd => {
            default_sigpipe();
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(run(&g, cmd)),
                Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
            }
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => exit::report(&err, g.json),
    }
}

async fn run(g: &Globals, cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Serve(_)
        | Command::Migrate(_)
        | Command::Backup(_)
        | Command::Bench(_)
        | Command::App(_)
        | Command::Completions { .. } => {
            unreachable!("handled in main")
        }
        Command::Signup(a) => account::signup(g, a).await,
        Command::Login(a) => account::login(g, a).await,
        Command::Logout(a) => account::logout(g, a).await,
        Command::Status(a) => account::status(g, a).await,
        Command::Sync(a) => account::sync(g, a).await,
        Command::Devices(a) => account::devices(g, a).await,
        Command::Workspaces => device::workspaces(g, g.json),
        Command::Workspace(c) => device::workspace(g, c).await,
        Command::Ls(a) => device::ls(g, a).await,
        Command::Show(a) => device::show(g, a).await,
        Command::Create(a) => device::create(g, a).await,
        Command::Set(a) => device::set(g, a).await,
        Command::Edit(a) => device::edit(g, a).await,
        Command::Rm(a) => device::rm(g, a).await,
        Command::Mv(a) => device::mv(g, a).await,
        Command::Conflicts(a) => device::conflicts(g, a).await,
        Command::Resolve(a) => resolve::resolve(g, a).await,
        Command::Team(c) => team::team(g, c).await,
        Command::Password(c) => lifecycle::password(g, c).await,
        Command::Username(c) => lifecycle::username(g, c).await,
        Command::Account(c) => lifecycle::account(g, c).await,
        Command::Service(c) => service::service(g, c),
        Command::Send(a) => sending::cli::send(g, a).await,
        Command::Run(a) => sending::run_cli::run(g, a).await,
        Command::Cookies(a) => sending::cli::cookies(g, a),
        Command::Body(a) => sending::cli::body(g, a),
        Command::Import(a) => files::import(g, a).await,
        Command::Export(a) => files::export(g, a),
        Command::Scratchpad(c) => files::scratchpad(g, c).await,
        Command::Mirror(a) => mirror::run(g, a).await,
    }
}
