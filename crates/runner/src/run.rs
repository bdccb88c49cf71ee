//! The run loop, as newman runs a collection: each iteration goes through
//! the plan's requests in order (or where `setNextRequest` sends it), running
//! the pre-request scripts (collection, folders, request), sending, then the
//! test scripts, with variables flowing between them through the scopes.
//!
//! The loop is synchronous and keeps one script [`Sandbox`] for the whole run
//! (the engine cannot move between threads); run it on a thread of its own.
//! Each exchange is driven to its end on the loop's own small runtime.

use crate::plan::{Plan, Step};
use crate::prepare::{Settings, prepare};
use crate::script::{ConsoleLine, Host, Info, NextRequest, Phase, Sandbox, ScriptJob, ScriptLimits, TestResult};
use crate::types::{Received, Scope, Scopes, Vars};
use crate::{Outgoing, PrepareError, Report, SendError, Sender};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The most requests one run sends, whatever `setNextRequest` does: a
/// script that sends the run back to itself ends here with a clear error
/// instead of running until someone notices.
pub const MAX_EXECUTIONS: usize = 1_000_000;

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// How many times the collection runs (at least 1).
    pub iterations: usize,
    /// Data rows, one per iteration (the last repeats when iterations outnumber rows).
    pub data: Vec<Vars>,
    /// A pause between two requests.
    pub delay: Duration,
    /// Stop at the first failed request or test.
    pub bail: bool,
    /// Where file bodies are read from.
    pub base_dir: PathBuf,
    /// Send without verifying TLS certificates (as each request's `strictSSL: false` would).
    pub insecure: bool,
    /// A limit on each exchange; `None`: the request's own settings.
    pub timeout: Option<Duration>,
    /// Show redirects instead of following them, whatever the requests say.
    pub no_follow_redirects: bool,
    /// Set from elsewhere to stop the run before its next request (a person pressed Stop).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Limits on every script.
    pub script_limits: ScriptLimits,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            iterations: 1,
            data: Vec::new(),
            delay: Duration::ZERO,
            bail: false,
            base_dir: PathBuf::from("."),
            insecure: false,
            timeout: None,
            no_follow_redirects: false,
            cancel: None,
            script_limits: ScriptLimits::default(),
        }
    }
}

/// What a response was, as a run keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The status code.
    pub code: u16,
    /// The reason phrase.
    pub status: String,
    /// Milliseconds the exchange took.
    pub time_ms: f64,
    /// Body bytes received.
    pub size: usize,
}

/// One request of one iteration: what was sent, what came back, what the scripts said.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    /// The iteration, from 0.
    pub iteration: usize,
    /// The request document's id.
    pub id: model::Id,
    /// Its name.
    pub name: String,
    /// Its folders, outermost first.
    pub path: Vec<String>,
    /// The request as sent (Postman v2.1 JSON); `None` when it could not be prepared.
    pub request: Option<Value>,
    /// The answer, when one came.
    pub response: Option<Answer>,
    /// Why the request failed (could not be prepared or sent).
    pub error: Option<String>,
    /// Test results, every test script's in order.
    pub tests: Vec<TestResult>,
    /// What the scripts logged.
    pub console: Vec<ConsoleLine>,
    /// Errors the scripts threw or limits they hit, each with the script's place.
    pub script_errors: Vec<String>,
    /// Variables nothing defines, auth not applied.
    pub warnings: Vec<String>,
    /// Postman features the scripts used that apisync does not support.
    pub unsupported: Vec<String>,
}

impl Execution {
    /// Whether the request and all its tests and scripts passed.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.script_errors.is_empty() && self.tests.iter().all(|t| t.passed)
    }
}

/// A whole run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// Every request sent, in order.
    pub executions: Vec<Execution>,
    /// The scopes at the end.
    pub scopes: Scopes,
    /// Variables the scripts set or unset, for the device to keep.
    pub changed: BTreeSet<(Scope, String)>,
    /// How long the run took.
    pub duration: Duration,
    /// Why the run ended early (`--bail`, the execution bound), if it did.
    pub stopped: Option<String>,
}

impl RunResult {
    /// Unsupported features any script used, once each, sorted.
    pub fn unsupported(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.executions.iter().flat_map(|e| &e.unsupported).collect();
        set.into_iter().cloned().collect()
    }

    /// Whether every request and test passed (and the run was not cut short).
    pub fn passed(&self) -> bool {
        self.stopped.is_none() && self.executions.iter().all(Execution::passed)
    }
}

/// `pm.sendRequest`: a request from a script, sent through the run's sender.
struct ScriptHost<'a> {
    sender: &'a Sender,
    rt: &'a tokio::runtime::Runtime,
    opts: &'a RunOptions,
}

impl Host for ScriptHost<'_> {
    fn send_request(&mut self, request: Value) -> Result<Received, String> {
        // Its variables are already substituted by the sandbox.
        let prepared = prepare(&request, &[], &Scopes::default(), &self.opts.base_dir).map_err(|e| e.to_string())?;
        let mut out = prepared.outgoing;
        adjust(&mut out.settings, self.opts);
        self.rt.block_on(self.sender.send(&mut out)).map_err(|e| e.to_string())
    }
}

impl RunOptions {
    /// Whether someone asked the run to stop.
    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
    }
}

/// What a run drives its exchanges and scripts with: a small runtime of its
/// own and one script engine.
fn engine(opts: &RunOptions) -> Result<(tokio::runtime::Runtime, Sandbox), RunError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| RunError::Runtime(e.to_string()))?;
    let sandbox = Sandbox::new(opts.script_limits).map_err(|e| RunError::Runtime(e.to_string()))?;
    Ok((rt, sandbox))
}

fn adjust(settings: &mut Settings, opts: &RunOptions) {
    if opts.insecure {
        settings.verify_tls = false;
    }
    if opts.timeout.is_some() {
        settings.timeout = opts.timeout;
    }
    if opts.no_follow_redirects {
        settings.follow_redirects = false;
    }
}

/// Why the one request of a send got no answer.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// It could not be prepared (a file body that cannot be read, ...).
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// It could not be sent, or no answer came.
    #[error(transparent)]
    Send(#[from] SendError),
}

/// One request sent on its own (the app's Send, `apisync send`), its scripts run.
#[derive(Debug)]
pub struct Single {
    /// What the scripts and the exchange did.
    pub execution: Execution,
    /// The whole answer, when one came.
    pub received: Option<Received>,
    /// The request as sent, when it could be prepared.
    pub sent: Option<Outgoing>,
    /// What preparing it could not resolve or apply.
    pub report: Option<Report>,
    /// Why no answer came, if none did.
    pub failure: Option<Failure>,
    /// The scopes after the scripts.
    pub scopes: Scopes,
    /// Variables the scripts set or unset.
    pub changed: BTreeSet<(Scope, String)>,
}

/// Sends the plan's first request with its pre-request and test scripts.
pub fn run_one(plan: &Plan, mut scopes: Scopes, sender: &Sender, opts: &RunOptions) -> Result<Single, RunError> {
    let step = plan.steps.first().ok_or_else(|| RunError::Runtime("nothing to send".into()))?;
    let (rt, mut sandbox) = engine(opts)?;
    let mut changed = BTreeSet::new();
    let mut host = ScriptHost { sender, rt: &rt, opts };
    let done = execute(step, (0, 1), &mut scopes, &mut changed, &mut sandbox, &mut host);
    Ok(Single {
        execution: done.execution,
        received: done.received,
        sent: done.sent,
        report: done.report,
        failure: done.failure,
        scopes,
        changed,
    })
}

/// Runs `plan` with `scopes` (globals, environment and collection variables
/// filled in by the caller); `each` hears every execution as it ends.
pub fn run(
    plan: &Plan,
    mut scopes: Scopes,
    sender: &Sender,
    opts: &RunOptions,
    each: &mut dyn FnMut(&Execution),
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let (rt, mut sandbox) = engine(opts)?;
    let iterations = opts.iterations.max(1);
    let mut executions = Vec::new();
    let mut changed = BTreeSet::new();
    let mut stopped = None;
    'run: for iteration in 0..iterations {
        scopes.data = opts.data.get(iteration).or(opts.data.last()).cloned().unwrap_or_default();
        let mut at = 0;
        while at < plan.steps.len() {
            if opts.cancelled() {
                stopped = Some("stopped before the end, as asked".into());
                break 'run;
            }
            if executions.len() >= MAX_EXECUTIONS {
                stopped = Some(format!("the run sent {MAX_EXECUTIONS} requests, its bound; does a script's setNextRequest loop forever?"));
                break 'run;
            }
            if !executions.is_empty() && !opts.delay.is_zero() {
                pause(opts);
            }
            let step = &plan.steps[at];
            let mut host = ScriptHost { sender, rt: &rt, opts };
            let Done { execution: e, next, .. } =
                execute(step, (iteration, iterations), &mut scopes, &mut changed, &mut sandbox, &mut host);
            each(&e);
            let failed = !e.passed();
            executions.push(e);
            if opts.bail && failed {
                stopped = Some(format!("--bail: '{}' failed", step.name));
                break 'run;
            }
            at = match next {
                None => at + 1,
                Some(NextRequest::Stop) => break,
                // The first request of that name (or id); an unknown name ends the iteration, as in Postman.
                Some(NextRequest::Name(n)) => match plan.steps.iter().position(|s| s.name == n || s.id.to_string() == n) {
                    Some(i) => i,
                    None => break,
                },
            };
        }
    }
    Ok(RunResult { executions, scopes, changed, duration: started.elapsed(), stopped })
}

/// What one request did, with what only a single send keeps.
struct Done {
    execution: Execution,
    next: Option<NextRequest>,
    received: Option<Received>,
    sent: Option<Outgoing>,
    report: Option<Report>,
    failure: Option<Failure>,
}

/// The pause between two requests, cut short when the run is stopped.
fn pause(opts: &RunOptions) {
    let end = Instant::now() + opts.delay;
    while let Some(left) = end.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        if opts.cancelled() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// One request of iteration `iteration.0` (of `iteration.1`): pre-request
/// scripts, the exchange, test scripts.
fn execute(
    step: &Step,
    (iteration, iteration_count): (usize, usize),
    scopes: &mut Scopes,
    changed: &mut BTreeSet<(Scope, String)>,
    sandbox: &mut Sandbox,
    host: &mut ScriptHost<'_>,
) -> Done {
    let mut info =
        Info { event_name: String::new(), iteration, iteration_count, request_name: step.name.clone(), request_id: step.id.to_string() };
    let mut e = Execution {
        iteration,
        id: step.id,
        name: step.name.clone(),
        path: step.path().into_iter().map(String::from).collect(),
        request: None,
        response: None,
        error: None,
        tests: Vec::new(),
        console: Vec::new(),
        script_errors: Vec::new(),
        warnings: Vec::new(),
        unsupported: Vec::new(),
    };
    let mut next = None;
    let mut request = step.request.clone();
    if let Some(b) = &step.behavior {
        request["protocolProfileBehavior"] = b.clone();
    }
    info.event_name = "prerequest".into();
    for source in step.scripts("prerequest") {
        let job = ScriptJob {
            phase: Phase::PreRequest,
            source: &source,
            request,
            response: None,
            scopes: std::mem::take(scopes),
            info: info.clone(),
        };
        let o = sandbox.run(job, host);
        request = o.request.clone();
        absorb(o, scopes, changed, &mut e, &mut next, "pre-request");
    }
    let inherited: Vec<Value> = step.inherited_auth().into_iter().cloned().collect();
    let mut sent_request = request.clone();
    let (mut sent, mut report) = (None, None);
    let received: Result<Received, Failure> = match prepare(&request, &inherited, scopes, &host.opts.base_dir) {
        Err(err) => Err(err.into()),
        Ok(p) => {
            e.warnings.extend(p.report.unresolved.iter().map(|n| format!("{{{{{n}}}}} is not defined in any scope; sent as written")));
            e.warnings.extend(p.report.warnings.iter().cloned());
            if let Some(t) = &p.report.auth_not_applied {
                e.warnings.push(format!("{t} auth is not supported by apisync; sent without it"));
                e.unsupported.push(format!("{t} auth"));
            }
            let mut out = p.outgoing;
            adjust(&mut out.settings, host.opts);
            let got = host.rt.block_on(host.sender.send(&mut out)).map_err(Failure::from);
            sent_request = out.to_postman();
            e.request = Some(sent_request.clone());
            sent = Some(out);
            report = Some(p.report);
            got
        }
    };
    let (response, failure) = match received {
        Ok(r) => {
            e.response = Some(Answer { code: r.code, status: r.status.clone(), time_ms: r.time_ms, size: r.body.len() });
            (Some(r), None)
        }
        Err(err) => {
            e.error = Some(err.to_string());
            (None, Some(err))
        }
    };
    info.event_name = "test".into();
    for source in step.scripts("test") {
        let job = ScriptJob {
            phase: Phase::Test,
            source: &source,
            request: sent_request.clone(),
            response: response.as_ref(),
            scopes: std::mem::take(scopes),
            info: info.clone(),
        };
        let o = sandbox.run(job, host);
        absorb(o, scopes, changed, &mut e, &mut next, "test");
    }
    Done { execution: e, next, received: response, sent, report, failure }
}

fn absorb(
    o: crate::script::ScriptOutcome,
    scopes: &mut Scopes,
    changed: &mut BTreeSet<(Scope, String)>,
    e: &mut Execution,
    next: &mut Option<NextRequest>,
    phase: &str,
) {
    *scopes = o.scopes;
    changed.extend(o.changed);
    e.tests.extend(o.tests);
    e.console.extend(o.console);
    for u in o.unsupported {
        if !e.unsupported.contains(&u) {
            e.unsupported.push(u);
        }
    }
    if let Some(err) = o.error {
        e.script_errors.push(format!("{phase} script: {err}"));
    }
    if o.next_request.is_some() {
        *next = o.next_request;
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The runtime or the script engine could not start.
    #[error("the run could not start: {0}")]
    Runtime(String),
}
