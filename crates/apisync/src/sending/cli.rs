//! `apisync send`, `apisync cookies` and `apisync body`: the sending verbs.

use super::record::BodyPlace;
use super::{Outcome, SendOptions, mask, pretty};
use crate::Globals;
use crate::device::{autosync, refresh};
use crate::output;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// `apisync send`
#[derive(Args)]
pub struct SendArgs {
    /// The request: its id, or its path of titles ("Orders API/List orders").
    request: String,
    /// Workspace name or id to find the path in [default: every workspace on this device].
    #[arg(long, short)]
    workspace: Option<String>,
    /// The environment to use (name or id) [default: the workspace's active environment].
    #[arg(long, short)]
    environment: Option<String>,
    /// Give up after this many milliseconds [default: no limit, as Postman's 0].
    #[arg(long, value_name = "MS")]
    timeout: Option<u64>,
    /// Do not follow redirects (show the 3xx answer).
    #[arg(long)]
    no_follow_redirects: bool,
    /// Do not verify the server's TLS certificate (only for a server you trust).
    #[arg(long)]
    insecure: bool,
    /// Also save the response as an example named NAME under the request.
    #[arg(long, value_name = "NAME")]
    save_response: Option<String>,
}

/// `apisync cookies`
#[derive(Args)]
pub struct CookiesArgs {
    #[command(subcommand)]
    cmd: Option<CookiesCmd>,
}

#[derive(Subcommand)]
enum CookiesCmd {
    /// List the cookies servers have set (the default).
    List,
    /// Remove every cookie, or those of DOMAIN and its subdomains.
    Clear {
        /// Only this domain.
        domain: Option<String>,
    },
}

/// `apisync body`
#[derive(Args)]
pub struct BodyArgs {
    /// The history entry's id.
    history: String,
}

fn size(n: usize) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
    }
}

fn warnings(o: &Outcome, json: bool) {
    if json {
        return;
    }
    if !o.report.unresolved.is_empty() {
        let names: Vec<String> = o.report.unresolved.iter().map(|n| format!("{{{{{n}}}}}")).collect();
        eprintln!(
            "warning: nothing defines {}; sent as written (set them in the environment, globals or collection variables)",
            names.join(", ")
        );
    }
    for w in o.report.warnings.iter().chain(&o.received.warnings) {
        eprintln!("warning: {w}");
    }
    if let Some(kind) = &o.report.auth_not_applied {
        eprintln!("warning: apisync does not apply {kind} auth; the request was sent without it");
    }
}

/// A send as one JSON object (`--json`), secrets masked; the body as it came.
fn json_outcome(o: &Outcome, example: Option<model::Id>) -> Value {
    let mut v = outcome_fields(o, example);
    // The body is the server's answer, shown as it came (as the text output does).
    v["response"]["body"] = json!(std::str::from_utf8(&o.received.body).ok());
    v
}

/// A send as JSON without the response body (each caller shows that its
/// own way: `--json` whole, the app bounded), secrets masked.
pub fn outcome_fields(o: &Outcome, example: Option<model::Id>) -> Value {
    let r = &o.received;
    let mut sent = o.sent.to_postman();
    mask::value(&mut sent, &o.secrets);
    let headers: Vec<Value> = r.headers.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect();
    let mut v = json!({
        "history_id": o.history,
        "example_id": example,
        "environment": o.environment.as_ref().map(|e| e.title()),
        "request": sent,
        "response": {
            "code": r.code,
            "status": r.status,
            "headers": headers,
            "time_ms": r.time_ms,
            "timings": r.timings,
            "size": r.body.len(),
            "http_version": r.http_version,
            "url": r.url,
        },
        "body_kept_on_device_only": o.body_place == BodyPlace::Local,
        "unresolved": o.report.unresolved,
        "auth": o.report.auth,
        "auth_not_applied": o.report.auth_not_applied,
        // The execution's warnings already hold the report's (unresolved names, auth not applied, files left out).
        "warnings": o.execution.warnings.iter().chain(&o.received.warnings).collect::<Vec<_>>(),
        "tests": o.execution.tests.iter().map(|t| json!({ "name": t.name, "passed": t.passed, "skipped": t.skipped, "error": t.error })).collect::<Vec<_>>(),
        "console": o.execution.console.iter().map(|c| json!({ "level": c.level, "text": c.text })).collect::<Vec<_>>(),
        "script_errors": o.execution.script_errors,
        "unsupported": o.execution.unsupported,
    });
    // Scripts may log a secret; what is shown is masked as what is stored.
    mask::value(&mut v, &o.secrets);
    v
}

fn print_human(o: &Outcome) -> anyhow::Result<()> {
    let r = &o.received;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {}  {:.0} ms  {}  {}", r.code, r.status, r.time_ms, size(r.body.len()), r.http_version)?;
    for (k, v) in &r.headers {
        writeln!(out, "{k}: {v}")?;
    }
    writeln!(out)?;
    match std::str::from_utf8(&r.body) {
        Ok(text) => writeln!(out, "{}", pretty::body(r.header("content-type").unwrap_or(""), text))?,
        Err(_) => writeln!(out, "({} of binary data; `apisync body {}` writes it out)", size(r.body.len()), o.history)?,
    }
    let e = &o.execution;
    if !(e.tests.is_empty() && e.console.is_empty() && e.script_errors.is_empty() && e.unsupported.is_empty()) {
        // The scripts' part, as the run's reporter prints it (request line and warnings aside: shown above).
        let scripts = runner::run::Execution { request: None, response: None, warnings: Vec::new(), ..e.clone() };
        let text = runner::report::cli_execution(&scripts);
        write!(out, "\n{}", mask::text(text.split_once('\n').map_or("", |(_, rest)| rest), &o.secrets))?;
    }
    Ok(())
}

/// `apisync send`: exits non-zero only when nothing came back (a 4xx or 5xx is an answer).
pub async fn send(g: &Globals, a: SendArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    refresh(&mut device, g).await;
    let id = device.find_of(a.workspace.as_deref(), &a.request, &[model::Kind::Request])?;
    let opts = SendOptions {
        environment: a.environment,
        timeout: a.timeout.filter(|t| *t > 0).map(Duration::from_millis),
        no_follow_redirects: a.no_follow_redirects,
        insecure: a.insecure,
        base_dir: std::env::current_dir()?,
    };
    let outcome = super::send(&device, id, &opts)?;
    warnings(&outcome, g.json);
    let example = match &a.save_response {
        Some(name) => Some(super::save_example(&device, &outcome, name)?),
        None => None,
    };
    if g.json {
        output::json(&json_outcome(&outcome, example))?;
    } else {
        print_human(&outcome)?;
        if let Some(e) = example {
            eprintln!("saved the response as example {e}");
        }
    }
    autosync(&mut device).await;
    Ok(())
}

/// `apisync cookies [list|clear [DOMAIN]]`
pub fn cookies(g: &Globals, a: CookiesArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    let jar = runner::CookieJar::open(&device.cookie_jar_path())?;
    match a.cmd.unwrap_or(CookiesCmd::List) {
        CookiesCmd::List => {
            let all = jar.list();
            if g.json {
                return output::json(&all);
            }
            if all.is_empty() {
                println!("no cookies");
            }
            for c in all {
                let expires = c.expires.as_deref().unwrap_or("session");
                println!("{}{}  {}={}  (expires {expires})", c.domain, c.path, c.name, output::short(&Value::String(c.value)));
            }
            Ok(())
        }
        CookiesCmd::Clear { domain } => {
            let n = jar.clear(domain.as_deref())?;
            if g.json {
                return output::json(&json!({ "removed": n }));
            }
            println!("removed {n} cookies");
            Ok(())
        }
    }
}

/// `apisync body HISTORY_ID`: the body a history entry keeps, synced or on this device only.
pub fn body(g: &Globals, a: BodyArgs) -> anyhow::Result<()> {
    let device = g.open()?;
    let id = crate::parse_id(&a.history).map_err(crate::exit::usage)?;
    let doc = device.get(id)?;
    if doc.kind != model::Kind::History {
        return Err(crate::exit::usage(format!("{id} is a {}, not a history entry", doc.kind)));
    }
    let bytes = match device.local_body(id)? {
        Some(b) => b,
        None => match doc.fields.get("response").and_then(|r| r.get("body")) {
            Some(Value::String(s)) => s.clone().into_bytes(),
            _ if doc.fields.get("response").and_then(|r| r.get("body_kept")).is_some() => {
                anyhow::bail!("this entry's body is kept only on the device that sent it")
            }
            _ => Vec::new(),
        },
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}
