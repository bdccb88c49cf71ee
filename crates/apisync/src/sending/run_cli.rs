//! `apisync run`: a collection or folder run as newman runs it, reported as
//! it goes (or as JSON or JUnit at the end), its result kept as a run
//! document that syncs, and an exit code CI can use.

use super::{keep, mask, scopes};
use crate::Globals;
use crate::device::{autosync, refresh};
use crate::exit::usage;
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use model::Kind;
use runner::report::{self, Heading};
use runner::run::{RunOptions, RunResult};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

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

fn rfc3339(t: SystemTime) -> String {
    let ms = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    runner::dynamic::iso_time(ms)
}

/// Runs the collection; a failed request or test is an error (exit 1) after the report is written.
pub async fn run(g: &Globals, a: RunArgs) -> anyhow::Result<()> {
    let reporter = a.reporter.unwrap_or(if g.json { Reporter::Json } else { Reporter::Cli });
    let mut device = g.open()?;
    refresh(&mut device, g).await;
    let id = device.find_of(a.workspace.as_deref(), &a.target, &[Kind::Collection, Kind::Folder])?;
    let target = device.get(id)?;
    let ws = target.workspace_id;
    let docs = device.list(Some(&ws.to_string()), None).context("cannot read the workspace")?;
    let plan = runner::plan::plan(&docs, id).map_err(|e| usage(e.to_string()))?;
    let scopes::Shared { mut scopes, environment, mut secrets } = scopes::shared(&device, &docs, ws, a.environment.as_deref())?;
    if let Some(c) = docs.iter().find(|d| d.id == plan.collection.id) {
        scopes::collection_variables(c, &mut scopes.collection, &mut secrets);
    }
    scopes::tidy(&mut secrets);
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
    let opts = RunOptions {
        iterations,
        data,
        delay: Duration::from_millis(a.delay),
        bail: a.bail,
        base_dir: std::env::current_dir()?,
        insecure: a.insecure,
        timeout: a.timeout.filter(|t| *t > 0).map(Duration::from_millis),
        ..RunOptions::default()
    };
    let sender = super::sender(&device)?;
    let name =
        if plan.collection.id == id { plan.collection.name.clone() } else { format!("{} / {}", plan.collection.name, target.title()) };
    let started = SystemTime::now();
    if reporter == Reporter::Cli {
        println!("{name}: {} requests, {iterations} iteration(s)", plan.steps.len());
    }
    // The script engine cannot move between threads and the loop blocks: it
    // gets a thread of its own.
    let result: RunResult = std::thread::scope(|s| {
        s.spawn(|| {
            let mut stdout = std::io::stdout();
            runner::run::run(&plan, scopes, &sender, &opts, &mut |e| {
                if reporter == Reporter::Cli {
                    let _ = write!(stdout, "{}", report::cli_execution(e));
                }
            })
        })
        .join()
    })
    .map_err(|_| anyhow::anyhow!("the run stopped on an internal error"))??;
    let heading = Heading {
        collection_id: plan.collection.id.to_string(),
        name,
        environment: environment.as_ref().map(|e| (e.id.to_string(), e.title().to_string())),
        iterations,
        started_at: rfc3339(started),
        finished_at: rfc3339(SystemTime::now()),
    };
    let notes = keep::keep(&device, &docs, ws, environment.as_ref(), &result.changed, &result.scopes)?;
    let run_id = if a.no_save {
        None
    } else {
        let fields = report::run_fields(&heading, &result, &|t: &str| mask::text(t, &secrets));
        Some(device.create(Kind::Run, None, Some(&ws.to_string()), fields).context("cannot keep the run document")?)
    };
    match reporter {
        Reporter::Cli => {
            print!("{}", report::cli_summary(&heading, &result));
            if let Some(r) = run_id {
                println!("kept as run {r}");
            }
        }
        Reporter::Json => {
            let mut v = report::json_report(&heading, &result, run_id.map(|r| r.to_string()).as_deref());
            mask::value(&mut v, &secrets);
            crate::output::json(&v)?;
        }
        Reporter::Junit => print!("{}", report::junit(&heading, &result)),
    }
    for n in notes {
        eprintln!("note: {n}");
    }
    std::io::stdout().flush().ok();
    autosync(&mut device).await;
    if !result.passed() {
        anyhow::bail!(RunFailed);
    }
    Ok(())
}

/// A run whose requests or tests failed: exit 1, the report already written.
#[derive(Debug, thiserror::Error)]
#[error("the run failed: see the report above")]
pub struct RunFailed;
