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
pub mod scopes;

use anyhow::Context as _;
use client::Device;
use model::{Document, Id, Kind};
use record::BodyPlace;
use runner::{CookieJar, Outgoing, Received, Report, Sender};
use serde_json::Value;
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
}

/// The sender of this device: its cookie jar from the profile.
pub fn sender(device: &Device) -> anyhow::Result<Sender> {
    let jar = CookieJar::open(&device.cookie_jar_path())?;
    Ok(Sender::new(Arc::new(jar)))
}

/// Sends request `id` and writes its history entry.
pub async fn send(device: &Device, sender: &Sender, id: Id, o: &SendOptions) -> anyhow::Result<Outcome> {
    let ctx = scopes::gather(device, id, o.environment.as_deref())?;
    let request = Value::Object(ctx.request.fields.clone());
    let prepared = runner::prepare(&request, &ctx.ancestors_auth, &ctx.scopes, &o.base_dir)?;
    let mut sent = prepared.outgoing;
    if o.timeout.is_some() {
        sent.settings.timeout = o.timeout;
    }
    if o.no_follow_redirects {
        sent.settings.follow_redirects = false;
    }
    if o.insecure {
        sent.settings.verify_tls = false;
    }
    let received = sender.send(&mut sent).await?;
    let place = record::body_place(&received);
    let ids = (ctx.collection.map(|c| c.to_string()), Some(ctx.request.id.to_string()));
    let fields = record::history(ctx.request.title(), &sent, &received, &place, ids, &ctx.secrets);
    let history = device
        .create(Kind::History, None, Some(&ctx.request.workspace_id.to_string()), fields)
        .context("cannot write the history entry")?;
    if place == BodyPlace::Local {
        device.keep_local_body(history, &received.body)?;
    }
    Ok(Outcome {
        request: ctx.request,
        environment: ctx.environment,
        sent,
        report: prepared.report,
        received,
        history,
        body_place: place,
        secrets: ctx.secrets,
    })
}

/// Saves the answer of `o` as an example (`response` document) named `name` under its request.
pub fn save_example(device: &Device, o: &Outcome, name: &str) -> anyhow::Result<Id> {
    let fields = record::example(name, &o.sent, &o.received, &o.secrets)?;
    Ok(device.create(Kind::Response, Some(o.request.id), None, fields)?)
}
