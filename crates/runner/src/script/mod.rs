//! The script sandbox: Postman's pre-request and test scripts run in an
//! embedded QuickJS engine with Postman's `pm` API, its legacy globals and
//! the pure-JS libraries Postman offers to `require`.
//!
//! One [`Sandbox`] serves a whole run: the engine, the `pm` API and any
//! library a script loaded stay, while each script's own state goes when it
//! ends; variables flow between scripts only through [`Scopes`]. Scripts get
//! no file or network access (QuickJS has none unless a host adds it, and
//! this one adds only [`Host::send_request`]), a time limit and a memory limit.

mod memory;
mod native;
mod vendor;

use crate::types::{Received, Scope, Scopes};
use crate::vars;
use native::{RunState, Shared};
use rquickjs::{CatchResultExt, Context, Ctx, Function, Object, Persistent, Runtime};
use serde_json::{Value, json};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long one script may run (its promise jobs and timers included; time
/// spent waiting for `pm.sendRequest`'s host is not counted).
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(5);

/// How much memory the engine may hold (libraries a script loaded included),
/// and as much again for what scripts store on the Rust side.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// The engine's stack: deep enough for chai's deep-equal of real payloads,
/// well inside a default 2 MiB thread stack.
const STACK_LIMIT: usize = 1024 * 1024;

/// Promise jobs run between two checks of the clock and of `pm.sendRequest`'s
/// queue; a bound so a script that queues jobs forever still meets its limit.
const JOB_BATCH: usize = 100_000;

/// The time `finish` and `cleanup` (our own code) get after a script.
const WRAP_UP_TIME: Duration = Duration::from_secs(1);

/// Limits for every script a [`Sandbox`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Wall-clock time one script may take.
    pub time: Duration,
    /// Bytes the engine may allocate.
    pub memory_bytes: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits { time: DEFAULT_TIME_LIMIT, memory_bytes: DEFAULT_MEMORY_LIMIT }
    }
}

/// Which of a request's events a script belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before the request is sent (`prerequest`).
    PreRequest,
    /// After the response arrived (`test`).
    Test,
}

/// What `pm.info` tells a script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// `prerequest` or `test`.
    pub event_name: String,
    /// The iteration, from 0.
    pub iteration: usize,
    /// How many iterations the run has.
    pub iteration_count: usize,
    /// The request's name.
    pub request_name: String,
    /// The request's id.
    pub request_id: String,
}

/// One script to run.
#[derive(Debug)]
pub struct ScriptJob<'a> {
    /// Pre-request or test.
    pub phase: Phase,
    /// The script's source (`exec` lines joined with `\n`).
    pub source: &'a str,
    /// `pm.request` as Postman v2.1 request JSON: unresolved before sending, as sent in the test phase.
    pub request: Value,
    /// The response, in the test phase.
    pub response: Option<&'a Received>,
    /// Every scope's variables; the outcome returns them changed.
    pub scopes: Scopes,
    /// What `pm.info` says.
    pub info: Info,
}

/// One `pm.test` (or legacy `tests[...]`) result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Whether it passed (a skipped test counts as passed, as in Postman).
    pub passed: bool,
    /// `pm.test.skip`, or `pm.test` without a function.
    pub skipped: bool,
    /// Why it failed (`AssertionError: expected ...`).
    pub error: Option<String>,
}

/// A line a script wrote with `console`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleLine {
    /// `log`, `info`, `warn` or `error` (`debug` and `trace` count as `log`).
    pub level: String,
    /// The arguments formatted roughly as Node's `console` does.
    pub text: String,
}

/// Where `setNextRequest` sends the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextRequest {
    /// `setNextRequest(null)`: stop after this request.
    Stop,
    /// Jump to the request of this name (or id).
    Name(String),
}

/// What one script did.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptOutcome {
    /// The scopes after the script.
    pub scopes: Scopes,
    /// `pm.request` after the script, as v2.1 JSON (fields the script didn't change kept as they were).
    pub request: Value,
    /// Test results in the order `pm.test` ran, legacy `tests[...]` after them.
    pub tests: Vec<TestResult>,
    /// What the script logged.
    pub console: Vec<ConsoleLine>,
    /// `None` when `setNextRequest` wasn't called.
    pub next_request: Option<NextRequest>,
    /// Postman features the script used that the sandbox doesn't support, by name, once each.
    pub unsupported: Vec<String>,
    /// Variables set or unset, so the device can store current values.
    pub changed: BTreeSet<(Scope, String)>,
    /// A thrown error, or which limit the script hit.
    pub error: Option<String>,
}

/// What `pm.sendRequest` goes through.
pub trait Host {
    /// Sends a Postman v2.1 request (a URL string already turned into one, variables substituted).
    fn send_request(&mut self, request: Value) -> Result<Received, String>;
}

/// Why a sandbox could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The engine could not start or its bootstrap failed: a bug or no memory.
    #[error("the script engine could not start: {0}")]
    Engine(String),
}

/// When the running script must stop, read by the engine's interrupt handler.
#[derive(Default)]
struct Clock {
    deadline: Cell<Option<Instant>>,
    hit: Cell<bool>,
}

/// One engine for a whole run (see the module docs).
pub struct Sandbox {
    // Dropped before the context and runtime it lives in.
    entry: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    shared: Shared,
    clock: Rc<Clock>,
    meter: Rc<memory::Meter>,
    limits: ScriptLimits,
}

impl Sandbox {
    /// Starts the engine and installs the `pm` API; libraries load later, on first use.
    pub fn new(limits: ScriptLimits) -> Result<Sandbox, ScriptError> {
        let engine = |e: rquickjs::Error| ScriptError::Engine(e.to_string());
        let meter = memory::Meter::new();
        let runtime = Runtime::new_with_alloc(memory::Metered(meter.clone())).map_err(engine)?;
        runtime.set_max_stack_size(STACK_LIMIT);
        let clock = Rc::new(Clock::default());
        let watch = clock.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let late = watch.deadline.get().is_some_and(|d| Instant::now() >= d);
            if late {
                watch.hit.set(true);
            }
            late
        })));
        let context = Context::full(&runtime).map_err(engine)?;
        let shared: Shared = Rc::new(RefCell::new(RunState::default()));
        let entry = context.with(|ctx| -> Result<_, ScriptError> {
            let api = Object::new(ctx.clone()).map_err(engine)?;
            let native = native::install(&ctx, &shared).map_err(engine)?;
            let boot = |name: &str, source: &str| -> Result<Function<'_>, ScriptError> {
                ctx.eval::<Function, _>(source).catch(&ctx).map_err(|e| ScriptError::Engine(format!("{name}: {e}")))
            };
            boot("sdk.js", include_str!("../../js/sdk.js"))?
                .call::<_, ()>((api.clone(),))
                .catch(&ctx)
                .map_err(|e| ScriptError::Engine(format!("sdk.js: {e}")))?;
            boot("assertions.js", include_str!("../../js/assertions.js"))?
                .call::<_, ()>((api.clone(),))
                .catch(&ctx)
                .map_err(|e| ScriptError::Engine(format!("assertions.js: {e}")))?;
            let entry: Object = boot("pm.js", include_str!("../../js/pm.js"))?
                .call((api, native))
                .catch(&ctx)
                .map_err(|e| ScriptError::Engine(format!("pm.js: {e}")))?;
            Ok(Persistent::save(&ctx, entry))
        })?;
        // Set after the bootstrap: the limit is for what scripts make (libraries they load included).
        meter.limit.set(limits.memory_bytes);
        Ok(Sandbox { entry, context, runtime, shared, clock, meter, limits })
    }

    /// The limits every script gets.
    pub fn limits(&self) -> ScriptLimits {
        self.limits
    }

    /// Runs one script to its end (its promise jobs, `pm.sendRequest`
    /// callbacks and timers included) or to a limit, and says what it did.
    pub fn run(&mut self, job: ScriptJob<'_>, host: &mut dyn Host) -> ScriptOutcome {
        let ScriptJob { phase, source, request, response, scopes, info } = job;
        *self.shared.borrow_mut() = RunState { scopes, budget: self.limits.memory_bytes, ..RunState::default() };
        let input = json!({
            "phase": match phase { Phase::PreRequest => "prerequest", Phase::Test => "test" },
            "request": &request,
            "response": response.map(response_json),
            "info": {
                "event_name": info.event_name,
                "iteration": info.iteration,
                "iteration_count": info.iteration_count,
                "request_name": info.request_name,
                "request_id": info.request_id,
            },
        })
        .to_string();

        self.clock.hit.set(false);
        self.meter.hit.set(false);
        self.clock.deadline.set(Some(Instant::now() + self.limits.time));
        let entry = self.entry.clone();
        let (changes, engine_error) = self.context.with(|ctx| {
            let entry = match entry.restore(&ctx) {
                Ok(e) => e,
                Err(e) => return (None, Some(e.to_string())),
            };
            let mut engine_error = call::<()>(&ctx, &entry, "begin", (input, source)).err();
            if engine_error.is_none() {
                engine_error = self.settle(&ctx, &entry, host).err();
            }
            // The script's limit is spent or over; our own wrap-up gets a fresh one.
            self.clock.deadline.set(Some(Instant::now() + WRAP_UP_TIME));
            let changes = call::<String>(&ctx, &entry, "finish", ()).ok();
            let _ = call::<()>(&ctx, &entry, "cleanup", ());
            (changes, engine_error)
        });
        self.clock.deadline.set(None);

        let mut state = std::mem::take(&mut *self.shared.borrow_mut());
        let thrown = state.error.take().or(engine_error);
        let error = if self.clock.hit.get() {
            Some(format!("the script ran past its {} limit", duration_text(self.limits.time)))
        } else if self.meter.hit.get() && thrown.is_some() {
            Some(format!("the script ran past its memory limit of {}", size_text(self.limits.memory_bytes)))
        } else {
            thrown
        };
        if error.is_some() {
            // A script stopped midway may leave cycles only the collector frees.
            self.runtime.run_gc();
        }
        ScriptOutcome {
            scopes: state.scopes,
            request: merge_request(request, changes.as_deref()),
            tests: state.tests.into_iter().flatten().collect(),
            console: state.console,
            next_request: state.next_request,
            unsupported: state.unsupported,
            changed: state.changed,
            error,
        }
    }

    /// Runs promise jobs, hands queued `pm.sendRequest`s to the host and
    /// fires timers until nothing is left or the time is up.
    fn settle<'js>(&self, ctx: &Ctx<'js>, entry: &Object<'js>, host: &mut dyn Host) -> Result<(), String> {
        loop {
            for _ in 0..JOB_BATCH {
                if self.clock.hit.get() || !ctx.execute_pending_job() {
                    break;
                }
            }
            if self.clock.hit.get() {
                // Jobs still queued belong to this script: run them out with the
                // deadline passed (each stops at its first check) so none reaches the next.
                for _ in 0..JOB_BATCH {
                    if !ctx.execute_pending_job() {
                        break;
                    }
                }
                return Ok(());
            }
            if ctx.execute_pending_job() {
                continue;
            }
            let outbox = std::mem::take(&mut self.shared.borrow_mut().outbox);
            if !outbox.is_empty() {
                for (id, request) in outbox {
                    let result = self.send(host, &request);
                    call::<()>(ctx, entry, "deliver", (id, result))?;
                }
                continue;
            }
            if !call::<bool>(ctx, entry, "tick", ())? {
                return Ok(());
            }
        }
    }

    /// One `pm.sendRequest` through the host; the host's time doesn't count against the script's.
    fn send(&self, host: &mut dyn Host, request: &str) -> String {
        let mut request: Value = match serde_json::from_str(request) {
            Ok(Value::String(url)) => json!({ "url": url, "method": "GET" }),
            Ok(v) => v,
            Err(e) => return json!({ "error": format!("pm.sendRequest: the request is not valid JSON ({e})") }).to_string(),
        };
        {
            let state = self.shared.borrow();
            vars::replace_all(&mut request, &state.scopes);
        }
        let started = Instant::now();
        let result = host.send_request(request);
        if let Some(d) = self.clock.deadline.get() {
            self.clock.deadline.set(Some(d + started.elapsed()));
        }
        match result {
            Ok(r) => json!({ "response": response_json(&r) }).to_string(),
            Err(e) => json!({ "error": e }).to_string(),
        }
    }
}

/// Calls one of pm.js's lifecycle functions; a thrown error comes back as text.
fn call<'js, R: rquickjs::FromJs<'js>>(
    ctx: &Ctx<'js>,
    entry: &Object<'js>,
    name: &str,
    args: impl rquickjs::function::IntoArgs<'js>,
) -> Result<R, String> {
    let f: Function = entry.get(name).map_err(|e| e.to_string())?;
    f.call(args).catch(ctx).map_err(|e| e.to_string())
}

/// A response as pm.js builds `pm.response` from it.
fn response_json(r: &Received) -> Value {
    json!({
        "code": r.code,
        "status": r.status,
        "headers": r.headers.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
        "body": r.text(),
        "time": r.time_ms,
        "size": r.body.len(),
        "url": r.url,
        "http_version": r.http_version,
        "timings": r.timings,
    })
}

/// The original request with the fields the script changed laid over it.
fn merge_request(mut request: Value, changes: Option<&str>) -> Value {
    let Some(Ok(Value::Object(changes))) = changes.map(serde_json::from_str::<Value>) else {
        return request;
    };
    if changes.is_empty() {
        return request;
    }
    if !request.is_object() {
        request = json!({ "url": request });
    }
    if let Some(map) = request.as_object_mut() {
        for (k, v) in changes {
            if v.is_null() {
                map.remove(&k);
            } else {
                map.insert(k, v);
            }
        }
    }
    request
}

fn duration_text(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{} s", d.as_secs()) } else { format!("{} ms", d.as_millis()) }
}

/// Bytes as people read a limit: MiB when whole, else KiB.
pub(crate) fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MIB) { format!("{} MiB", bytes / MIB) } else { format!("{} KiB", bytes.div_ceil(1024)) }
}

#[cfg(test)]
mod tests;
