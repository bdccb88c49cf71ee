//! Running a collection or folder from this device, for the CLI and the
//! app: its scopes gathered, the run driven by `runner` on a thread of its
//! own, what the scripts set kept, and the result kept as a run document
//! (secrets masked).

use super::{keep, mask, plan_scopes};
use anyhow::Context as _;
use client::Device;
use model::{Id, Kind};
use runner::report::{self, Heading};
use runner::run::{Execution, RunOptions, RunResult};

/// A run to make.
pub struct RunRequest {
    /// The collection or folder.
    pub target: Id,
    /// An environment (name or id) instead of the workspace's active one.
    pub environment: Option<String>,
    /// Iterations, data, delay, bail, limits.
    pub options: RunOptions,
    /// Keep the result as a run document.
    pub save: bool,
}

/// A finished run.
pub struct RunDone {
    /// Whose run it was.
    pub heading: Heading,
    /// Every request's outcome.
    pub result: RunResult,
    /// The run document kept, if asked.
    pub run_id: Option<Id>,
    /// What could not be kept of what scripts set.
    pub notes: Vec<String>,
    /// Secret values, to mask in whatever is shown or stored.
    pub secrets: Vec<String>,
}

impl RunDone {
    /// The run as one JSON object, secrets masked (`--reporter json`, the app's Runner).
    pub fn json(&self) -> serde_json::Value {
        let mut v = report::json_report(&self.heading, &self.result, self.run_id.map(|r| r.to_string()).as_deref());
        mask::value(&mut v, &self.secrets);
        v
    }
}

/// Runs `req.target`; `each` hears every request as it ends, with the
/// secret values to mask in whatever it shows. Blocking.
pub fn run_collection(device: &Device, req: RunRequest, each: &mut (dyn FnMut(&Execution, &[String]) + Send)) -> anyhow::Result<RunDone> {
    let target = device.get(req.target)?;
    let ws = target.workspace_id;
    let docs = device.list(Some(&ws.to_string()), None).context("cannot read the workspace")?;
    let plan = runner::plan::plan(&docs, req.target).map_err(|e| crate::exit::usage(e.to_string()))?;
    let shared = plan_scopes(device, &docs, ws, req.environment.as_deref(), &plan)?;
    let sender = super::sender(device)?;
    let name = if plan.collection.id == req.target {
        plan.collection.name.clone()
    } else {
        format!("{} / {}", plan.collection.name, target.title())
    };
    let started = runner::dynamic::now_iso();
    let opts = &req.options;
    // The script engine cannot move between threads and the loop blocks on
    // its own runtime: it gets a thread of its own.
    let secrets = &shared.secrets;
    let mut heard = |e: &Execution| each(e, secrets);
    let result = std::thread::scope(|s| s.spawn(|| runner::run::run(&plan, shared.scopes.clone(), &sender, opts, &mut heard)).join())
        .map_err(|_| anyhow::anyhow!("the run stopped on an internal error"))??;
    let heading = Heading {
        collection_id: plan.collection.id.to_string(),
        name,
        environment: shared.environment.as_ref().map(|e| (e.id.to_string(), e.title().to_string())),
        iterations: opts.iterations,
        started_at: started,
        finished_at: runner::dynamic::now_iso(),
    };
    let notes = keep::keep(device, &docs, ws, shared.environment.as_ref(), &result.changed, &result.scopes)?;
    let run_id = if req.save {
        let fields = report::run_fields(&heading, &result, &|t: &str| mask::text(t, &shared.secrets));
        Some(device.create(Kind::Run, None, Some(&ws.to_string()), fields).context("cannot keep the run document")?)
    } else {
        None
    };
    Ok(RunDone { heading, result, run_id, notes, secrets: shared.secrets })
}
