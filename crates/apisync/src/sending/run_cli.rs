//! `apisync run`: a collection or folder run as newman runs it, reported as
//! it goes (or as JSON or JUnit at the end), its result kept as a run
//! document that syncs, and an exit code CI can use.

use super::runs::{self, RunRequest};
use crate::Globals;
use crate::device::{autosync, refresh};
use crate::exit::usage;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use model::Kind;
use runner::report;
use runner::run::RunOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// How the run is reported on standard output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Reporter {
    /// Lines as each request ends, then a summary.
    Cli,
    /// One JSON object at the end.
    Json,
    /// JUnit XML at the end.
    Junit,
}

/// `apisync run`
#[derive(Args)]
pub struct RunArgs {
    /// The collection or folder: its id, or its path of titles ("Orders API" or "Orders API/Admin").
    target: String,
    /// Workspace name or id to find the path in [default: every workspace on this device].
    #[arg(long, short)]
    workspace: Option<String>,
    /// The environment to use (name or id) [default: the workspace's active environment].
    #[arg(long, short)]
    environment: Option<String>,
    /// How many times to run the collection [default: the data file's rows, else 1].
    #[arg(long, short = 'n')]
    iterations: Option<usize>,
    /// Iteration data: a CSV file (first row names the variables) or a JSON array of objects.
    #[arg(long, short)]
    data: Option<PathBuf>,
    /// Milliseconds to wait between two requests.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    delay: u64,
    /// Stop at the first failed request or test.
    #[arg(long)]
    bail: bool,
    /// Give each request up to this many milliseconds [default: no limit, as Postman's 0].
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Do not verify servers' TLS certificates (only for servers you trust).
    #[arg(long)]
    insecure: bool,
    /// How to report: cli, json or junit (--json means json).
    #[arg(long, short, value_enum)]
    reporter: Option<Reporter>,
    /// Do not keep the run as a run document.
    #[arg(long)]
    no_save: bool,
}

/// Iterations beyond which a run is refused: newman has no bound, but a
/// typo of a few zeros should not keep a machine busy for days.
const MAX_ITERATIONS: usize = 100_000;

/// Runs the collection; a failed request or test is an error (exit 1) after the report is written.
pub async fn run(g: &Globals, a: RunArgs) -> anyhow::Result<()> {
    let reporter = a.reporter.unwrap_or(if g.json { Reporter::Json } else { Reporter::Cli });
    let mut device = g.open()?;
    refresh(&mut device, g).await;
    let target = device.find_of(a.workspace.as_deref(), &a.target, &[Kind::Collection, Kind::Folder])?;
    let data = match &a.data {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read the data file {}", p.display()))?;
            runner::data::parse(&bytes).map_err(|e| usage(format!("{}: {e}", p.display())))?
        }
        None => Vec::new(),
    };
    let iterations = a.iterations.unwrap_or(data.len().max(1));
    if iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(usage(format!("--iterations must be between 1 and {MAX_ITERATIONS}")));
    }
    let options = RunOptions {
        iterations,
        data,
        delay: Duration::from_millis(a.delay),
        bail: a.bail,
        base_dir: std::env::current_dir()?,
        insecure: a.insecure,
        timeout: a.timeout.filter(|t| *t > 0).map(Duration::from_millis),
        ..RunOptions::default()
    };
    if reporter == Reporter::Cli {
        println!("{}: {iterations} iteration(s)", device.get(target)?.title());
    }
    let request = RunRequest { target, environment: a.environment, options, save: !a.no_save };
    let mut stdout = std::io::stdout();
    let done = runs::run_collection(&device, request, &mut |e, secrets| {
        if reporter == Reporter::Cli {
            let _ = write!(stdout, "{}", super::mask::text(&report::cli_execution(e), secrets));
        }
    })?;
    match reporter {
        Reporter::Cli => {
            print!("{}", report::cli_summary(&done.heading, &done.result));
            if let Some(r) = done.run_id {
                println!("kept as run {r}");
            }
        }
        Reporter::Json => crate::output::json(&done.json())?,
        Reporter::Junit => print!("{}", report::junit(&done.heading, &done.result)),
    }
    for n in &done.notes {
        eprintln!("note: {n}");
    }
    std::io::stdout().flush().ok();
    autosync(&mut device).await;
    if !done.result.passed() {
        anyhow::bail!(RunFailed);
    }
    Ok(())
}

/// A run whose requests or tests failed: exit 1, the report already written.
#[derive(Debug, thiserror::Error)]
#[error("the run failed: see the report above")]
pub struct RunFailed;
