//! Sending a request document from this device, for the CLI and the app:
//! its scopes and auth gathered, sent by `runner`, a history entry written
//! (secrets masked, a large body kept on the device only), and a response
//! saved as an example when asked.

pub mod cli;
pub mod keep;
pub mod mask;
pub mod pretty;
pub mod record;
pub mod run_cli;
pub mod runs;
pub mod scopes;

use anyhow::Context as _;
use client::Device;
use model::{Document, Id, Kind};
use record::BodyPlace;
use runner::plan::Plan;
use runner::run::{Execution, Failure, RunOptions};
use runner::{CookieJar, Outgoing, Received, Report, Sender};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to send, beyond what the request document says.
#[derive(Clone, Debug, Default)]
pub struct SendOptions {
    /// An environment (name or id) instead of the workspace's active one.
    pub environment: Option<String>,
    /// The limit on the whole exchange.
    pub timeout: Option<Duration>,
    /// Do not follow redirects, whatever the request says.
    pub no_follow_redirects: bool,
    /// Do not verify TLS certificates.
    pub insecure: bool,
    /// Where relative file paths of bodies start.
    pub base_dir: PathBuf,
}

/// One finished send.
pub struct Outcome {
    /// The request document sent.
    pub request: Document,
    /// The environment used, if any.
    pub environment: Option<Document>,
    /// The request as sent.
    pub sent: Outgoing,
    /// What could not be resolved or applied.
    pub report: Report,
    /// The answer.
    pub received: Received,
    /// The history entry written.
    pub history: Id,
    /// Where the history entry keeps the body.
    pub body_place: BodyPlace,
    /// Secret values, masked in whatever is stored.
    pub secrets: Vec<String>,
    /// What the request's scripts did (tests, console, errors) and the warnings.
    pub execution: Execution,
}

/// The sender of this device: its cookie jar from the profile. Make one per
/// send or run: its connections belong to the runtime that run drives them on.
pub fn sender(device: &Device) -> anyhow::Result<Sender> {
    let jar = CookieJar::open(&device.cookie_jar_path())?;
    Ok(Sender::new(Arc::new(jar)))
}

/// What every request of a plan is sent with: globals, the environment and
/// the collection's variables, and the secret values among them.
pub fn plan_scopes(device: &Device, docs: &[Document], ws: Id, env: Option<&str>, plan: &Plan) -> anyhow::Result<scopes::Shared> {
    let mut shared = scopes::shared(device, docs, ws, env)?;
    if let Some(c) = docs.iter().find(|d| d.id == plan.collection.id && d.kind == Kind::Collection) {
        scopes::collection_variables(c, &mut shared.scopes.collection, &mut shared.secrets);
    }
    scopes::tidy(&mut shared.secrets);
    Ok(shared)
}

/// Sends request `id` with its scripts, keeps what they set, and writes its
/// history entry. Blocking: the script engine runs on a thread of its own.
pub fn send(device: &Device, id: Id, o: &SendOptions) -> anyhow::Result<Outcome> {
    let request = device.get(id)?;
    let ws = request.workspace_id;
    let docs = device.list(Some(&ws.to_string()), None).context("cannot read the request's workspace")?;
    let plan = runner::plan::plan_request(&docs, id).map_err(|e| crate::exit::usage(e.to_string()))?;
    let shared = plan_scopes(device, &docs, ws, o.environment.as_deref(), &plan)?;
    let opts = RunOptions {
        insecure: o.insecure,
        timeout: o.timeout,
        no_follow_redirects: o.no_follow_redirects,
        base_dir: o.base_dir.clone(),
        ..RunOptions::default()
    };
    let sender = sender(device)?;
    let single = std::thread::scope(|s| s.spawn(|| runner::run::run_one(&plan, shared.scopes.clone(), &sender, &opts)).join())
        .map_err(|_| anyhow::anyhow!("the send stopped on an internal error"))??;
    keep::keep(device, &docs, ws, shared.environment.as_ref(), &single.changed, &single.scopes)?;
    match single.failure {
        Some(Failure::Prepare(e)) => return Err(e.into()),
        Some(Failure::Send(e)) => return Err(e.into()),
        None => {}
    }
    let (Some(sent), Some(received), Some(report)) = (single.sent, single.received, single.report) else {
        anyhow::bail!("the request got no answer");
    };
    let place = record::body_place(&received);
    let collection = Some(plan.collection.id.to_string()).filter(|_| plan.collection.id != id);
    let ids = (collection, Some(id.to_string()));
    let fields = record::history(request.title(), &sent, &received, &place, ids, &shared.secrets);
    let history = device.create(Kind::History, None, Some(&ws.to_string()), fields).context("cannot write the history entry")?;
    if place == BodyPlace::Local {
        device.keep_local_body(history, &received.body)?;
    }
    Ok(Outcome {
        request,
        environment: shared.environment,
        sent,
        report,
        received,
        history,
        body_place: place,
        secrets: shared.secrets,
        execution: single.execution,
    })
}

/// Saves the answer of `o` as an example (`response` document) named `name` under its request.
pub fn save_example(device: &Device, o: &Outcome, name: &str) -> anyhow::Result<Id> {
    let fields = record::example(name, &o.sent, &o.received, &o.secrets)?;
    Ok(device.create(Kind::Response, Some(o.request.id), None, fields)?)
}
