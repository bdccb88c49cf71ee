//! Sending from the app: `POST /api/docs/{id}/send` sends the saved request
//! as `apisync send` does (the device's scopes, its active environment, its
//! cookie jar, a history entry written) and answers what the response pane
//! shows; `POST /api/history/{id}/save-response` keeps a recent answer as an
//! example; `GET`/`DELETE /api/cookies` are `apisync cookies` and `cookies
//! clear`. Only the desktop app sends: the web version has none of these
//! routes, because a server that sends what a page asks for is an SSRF hole.

use super::AppState;
use super::api::{on_device_as, parse_id};
use super::error::AppError;
use crate::sending::{self, Outcome, SendOptions, mask, pretty, record};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use client::Device;
use model::{Id, Kind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most body text one answer puts in the page; the rest stays in the
/// history entry (and `apisync body`). The response viewer lays it out a
/// piece at a time, so this bounds memory, not layout.
pub const PAGE_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The longest one exchange may take (the page's timeout, or this when it
/// sets none): a send holds a thread of the app, so it must end even if the
/// server never answers.
pub const SEND_LIMIT: Duration = Duration::from_secs(300);

/// How many recent answers the app keeps for Save as example. Only answers
/// that can become an example (text up to `record::HISTORY_BODY_BYTES`) are
/// kept, so this holds at most 8 MiB of bodies.
const RECENT: usize = 16;

/// The last few answers, newest last, by their history entry's id.
#[derive(Default)]
pub struct Recent(Mutex<VecDeque<Arc<Outcome>>>);

impl Recent {
    fn keep(&self, o: Arc<Outcome>) {
        if o.received.body.len() > record::HISTORY_BODY_BYTES || std::str::from_utf8(&o.received.body).is_err() {
            return;
        }
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if list.len() == RECENT {
            list.pop_front();
        }
        list.push_back(o);
    }

    fn find(&self, history: Id) -> Option<Arc<Outcome>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|o| o.history == history).cloned()
    }
}

/// The body of `POST /api/docs/{id}/send`; every field is optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SendBody {
    /// An environment's name or id instead of the workspace's active one.
    #[serde(default)]
    environment: Option<String>,
    /// A limit on the exchange, in milliseconds (0: none beyond the app's own).
    #[serde(default)]
    timeout_ms: Option<u64>,
    /// False: show a 3xx instead of following it.
    #[serde(default)]
    follow_redirects: Option<bool>,
    /// False: do not verify the server's TLS certificate.
    #[serde(default)]
    verify_tls: Option<bool>,
}

/// A failed send as the page shows it: the device's refusals keep their
/// status, a request that cannot be prepared is the request's fault (400),
/// a server that could not be reached or answered is a 502 with the
/// sender's words (the cause and what to do).
fn send_error(e: anyhow::Error) -> AppError {
    let e = match e.downcast::<client::ClientError>() {
        Ok(c) => return AppError::from(c),
        Err(e) => e,
    };
    if let Some(crate::exit::CliError::Usage(m)) = e.downcast_ref::<crate::exit::CliError>() {
        return AppError::invalid(m.clone());
    }
    if e.chain().any(|c| c.downcast_ref::<runner::PrepareError>().is_some()) {
        return AppError { status: StatusCode::BAD_REQUEST, code: "cannot_prepare", message: format!("{e:#}") };
    }
    if e.chain().any(|c| c.downcast_ref::<runner::SendError>().is_some()) {
        return AppError { status: StatusCode::BAD_GATEWAY, code: "send_failed", message: format!("{e:#}") };
    }
    AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: format!("{e:#}") }
}

/// `POST /api/docs/{id}/send`: sends the request as saved, writes its
/// history entry, answers the outcome (`outcome_json`).
pub async fn send(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<SendBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let Json(b) = body?;
    let opts = SendOptions {
        environment: b.environment.filter(|e| !e.trim().is_empty()),
        // Never unbounded: a send holds a thread of the app until it ends.
        timeout: Some(b.timeout_ms.filter(|t| *t > 0).map_or(SEND_LIMIT, Duration::from_millis).min(SEND_LIMIT)),
        no_follow_redirects: b.follow_redirects == Some(false),
        insecure: b.verify_tls == Some(false),
        // Relative file paths of bodies start where the app was started, as the CLI's start in its directory.
        base_dir: std::env::current_dir().map_err(|e| AppError::invalid(format!("cannot read the app's directory: {e}")))?,
    };
    let outcome = on_device_as(&state, move |d: &Device| {
        let doc = d.get(id)?;
        if doc.kind != Kind::Request {
            return Err(AppError::invalid(format!("“{}” is a {}, not a request: only requests are sent", doc.title(), doc.kind)));
        }
        // One sender per send (`sending::send` makes it) reads the cookie jar
        // as the profile has it now, so cookies the CLI set or cleared
        // meanwhile are honoured.
        sending::send(d, id, &opts).map_err(send_error)
    })
    .await?;
    let outcome = Arc::new(outcome);
    let cookies = tokio::task::spawn_blocking({
        let device = Arc::clone(&state.device);
        let url = outcome.received.url.clone();
        move || cookies_for(&device, &url)
    })
    .await
    .unwrap_or_default();
    let v = outcome_json(&outcome, cookies);
    state.recent.keep(outcome);
    Ok(Json(v))
}

/// The jar's cookies a request to `url` would carry (its host and parents);
/// empty when the jar cannot be read (the answer itself came).
fn cookies_for(device: &Device, url: &str) -> Vec<runner::CookieInfo> {
    let Some(host) = reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase)) else { return Vec::new() };
    let Ok(jar) = runner::CookieJar::open(&device.cookie_jar_path()) else { return Vec::new() };
    jar.list()
        .into_iter()
        .filter(|c| {
            let d = c.domain.trim_start_matches('.').to_ascii_lowercase();
            host == d || host.ends_with(&format!(".{d}"))
        })
        .collect()
}

/// The largest prefix of `text` of at most `max` bytes that ends on a character.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What the response pane shows of one send: `apisync send --json`'s
/// fields (the request as sent and everything but the body masked; tests,
/// console, script errors, warnings), its body bounded to
/// `PAGE_BODY_BYTES` with a note when cut, the body's language and an
/// indented form for JSON and XML, and the cookies for its host.
pub fn outcome_json(o: &Outcome, cookies: Vec<runner::CookieInfo>) -> Value {
    let r = &o.received;
    let mut v = sending::cli::outcome_fields(o, None);
    let language = record::preview_language(r);
    let (text, pretty_text, note) = match std::str::from_utf8(&r.body) {
        Ok(all) => {
            let shown = cut(all, PAGE_BODY_BYTES);
            let note = (shown.len() < all.len()).then(|| {
                format!(
                    "The body is {} bytes; the first {} are shown. `apisync body {}` writes it all out.",
                    all.len(),
                    shown.len(),
                    o.history
                )
            });
            let ct = r.header("content-type").unwrap_or("");
            // Indenting half a document would mislead: only a whole body is reformatted.
            let pretty_text =
                (note.is_none() && matches!(language, "json" | "xml")).then(|| pretty::body(ct, shown)).filter(|p| p != shown);
            (Some(shown.to_string()), pretty_text, note)
        }
        Err(_) => (None, None, Some(format!("{} bytes of binary data; `apisync body {}` writes it out.", r.body.len(), o.history))),
    };
    let mut cookies = serde_json::to_value(cookies).unwrap_or_else(|_| json!([]));
    mask::value(&mut cookies, &o.secrets);
    if let Some(obj) = v.as_object_mut() {
        obj.insert("request_id".into(), json!(o.request.id));
        obj.insert("cookies".into(), cookies);
        obj.insert("can_save_example".into(), json!(r.body.len() <= record::HISTORY_BODY_BYTES && std::str::from_utf8(&r.body).is_ok()));
    }
    if let Some(resp) = v.get_mut("response").and_then(Value::as_object_mut) {
        // The body is the server's answer, shown as it came, as `apisync send` shows it.
        resp.insert("body".into(), json!(text));
        resp.insert("pretty".into(), json!(pretty_text));
        resp.insert("language".into(), json!(language));
        resp.insert("body_note".into(), json!(note));
    }
    v
}

/// The body of `POST /api/history/{id}/save-response`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// The example's name.
    name: String,
}

/// `POST /api/history/{id}/save-response {name}`: saves the answer of a
/// recent send (by its history entry) as an example under its request, as
/// `apisync send --save-response NAME` does; 201 `{id}`.
pub async fn save_response(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<SaveBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let history = parse_id(&id)?;
    let Json(b) = body?;
    let name = b.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::invalid("the example needs a name"));
    }
    let Some(outcome) = state.recent.find(history) else {
        return Err(AppError {
            status: StatusCode::NOT_FOUND,
            code: "not_recent",
            message: format!(
                "the app no longer holds the answer of {history} (it keeps the last {RECENT} answers of text up to {} KiB); send the request again, then save",
                record::HISTORY_BODY_BYTES / 1024
            ),
        });
    };
    let saved = on_device_as(&state, move |d: &Device| {
        sending::save_example(d, &outcome, &name).map_err(|e| match e.downcast::<client::ClientError>() {
            Ok(c) => AppError::from(c),
            Err(e) => AppError::invalid(format!("{e:#}")),
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": saved }))))
}

/// `GET /api/cookies`: every cookie of this device's jar (as `apisync cookies --json`).
pub async fn cookies(State(state): State<Arc<AppState>>) -> Result<Json<Value>, AppError> {
    let device = Arc::clone(&state.device);
    let list = tokio::task::spawn_blocking(move || runner::CookieJar::open(&device.cookie_jar_path()).map(|j| j.list()))
        .await
        .map_err(|e| AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: e.to_string() })?
        .map_err(|e| AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "cookie_jar", message: e.to_string() })?;
    Ok(Json(json!({ "cookies": list })))
}

/// The query of `DELETE /api/cookies`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearQuery {
    /// Only this domain and its subdomains.
    #[serde(default)]
    domain: Option<String>,
}

/// `DELETE /api/cookies[?domain=D]`: removes every cookie, or a domain's
/// (as `apisync cookies clear [D]`); answers how many went.
pub async fn clear_cookies(
    State(state): State<Arc<AppState>>,
    q: Result<Query<ClearQuery>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Query(q) = q.map_err(|r| AppError::invalid(format!("{}; the only parameter is ?domain=NAME", r.body_text())))?;
    let device = Arc::clone(&state.device);
    let domain = q.domain.filter(|d| !d.trim().is_empty());
    let removed =
        tokio::task::spawn_blocking(move || runner::CookieJar::open(&device.cookie_jar_path()).and_then(|j| j.clear(domain.as_deref())))
            .await
            .map_err(|e| AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: e.to_string() })?
            .map_err(|e| AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "cookie_jar", message: e.to_string() })?;
    Ok(Json(json!({ "removed": removed })))
}

/// The most iteration data the Runner takes (CSV or JSON text): it is held
/// in memory, and a data set larger than this belongs to `apisync run --data`.
pub const RUN_DATA_BYTES: usize = 1024 * 1024;

/// The most iterations one run from the page makes (the CLI allows more).
pub const RUN_ITERATIONS: usize = 1000;

/// The longest pause the Runner puts between two requests.
pub const RUN_DELAY: Duration = Duration::from_secs(60);

/// The body of `POST /api/run`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// The collection or folder.
    target: String,
    /// An environment's name or id instead of the workspace's active one.
    #[serde(default)]
    environment: Option<String>,
    /// How many times to run [default: the data's rows, else 1].
    #[serde(default)]
    iterations: Option<usize>,
    /// A pause between two requests, in milliseconds.
    #[serde(default)]
    delay_ms: Option<u64>,
    /// Stop at the first failed request or test.
    #[serde(default)]
    bail: bool,
    /// Iteration data: CSV (first row names the variables) or a JSON array of objects.
    #[serde(default)]
    data: Option<String>,
}

/// `POST /api/run`: runs a collection or folder as `apisync run` does (the
/// active environment, scripts, the cookie jar, what scripts set kept as
/// current values), keeps it as a run document, and answers the run's JSON
/// report (`apisync run --reporter json`), secrets masked.
pub async fn run(State(state): State<Arc<AppState>>, body: Result<Json<RunBody>, JsonRejection>) -> Result<Response, AppError> {
    let Json(b) = body?;
    let target = parse_id(&b.target)?;
    let data = match b.data.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) if d.len() > RUN_DATA_BYTES => {
            return Err(AppError::invalid(format!(
                "the data file is {} bytes, over the Runner's {} KiB; use `apisync run --data FILE`",
                d.len(),
                RUN_DATA_BYTES / 1024
            )));
        }
        Some(d) => runner::data::parse(d.as_bytes()).map_err(|e| AppError::invalid(format!("the data file: {e}")))?,
        None => Vec::new(),
    };
    let iterations = b.iterations.unwrap_or(data.len().max(1));
    if iterations == 0 || iterations > RUN_ITERATIONS {
        return Err(AppError::invalid(format!("iterations must be between 1 and {RUN_ITERATIONS}")));
    }
    let delay = Duration::from_millis(b.delay_ms.unwrap_or(0));
    if delay > RUN_DELAY {
        return Err(AppError::invalid(format!("the delay must be at most {} ms", RUN_DELAY.as_millis())));
    }
    let options = runner::run::RunOptions {
        iterations,
        data,
        delay,
        bail: b.bail,
        base_dir: std::env::current_dir().map_err(|e| AppError::invalid(format!("cannot read the app's directory: {e}")))?,
        timeout: Some(SEND_LIMIT),
        ..runner::run::RunOptions::default()
    };
    // What cannot be run is refused before the answer starts streaming.
    on_device_as(&state, move |d: &Device| {
        let doc = d.get(target)?;
        if !matches!(doc.kind, Kind::Collection | Kind::Folder) {
            return Err(AppError::invalid(format!("“{}” is a {}: only a collection or a folder is run", doc.title(), doc.kind)));
        }
        Ok(())
    })
    .await?;
    let cancel = Arc::new(AtomicBool::new(false));
    let cancel_on_drop = Arc::clone(&cancel);
    let options = runner::run::RunOptions { cancel: Some(Arc::clone(&cancel)), ..options };
    let req = sending::runs::RunRequest { target, environment: b.environment.filter(|e| !e.trim().is_empty()), options, save: true };
    // A few lines of slack: the run waits for the page rather than piling lines up.
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(16);
    let device = Arc::clone(&state.device);
    tokio::task::spawn_blocking(move || {
        let line = |v: Value| format!("{v}\n");
        let each_tx = tx.clone();
        let result = sending::runs::run_collection(&device, req, &mut |e, secrets| {
            let mut v = json!({ "execution": runner::report::execution_json(e) });
            mask::value(&mut v, secrets);
            // The page went away (Stop, or closed): the run ends before its next request.
            if each_tx.blocking_send(line(v)).is_err() {
                cancel.store(true, Ordering::Relaxed);
            }
        });
        let last = match result {
            Ok(done) => {
                let mut v = done.json();
                if let Some(o) = v.as_object_mut() {
                    o.insert("notes".into(), json!(done.notes));
                }
                json!({ "report": v })
            }
            Err(e) => {
                let e = send_error(e);
                json!({ "error": { "code": e.code, "message": e.message } })
            }
        };
        let _ = tx.blocking_send(line(last));
    });
    // The answer's body going away (Stop, a closed page) stops the run at once, not at its next line.
    let guard = StopOnDrop(cancel_on_drop);
    let lines = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|l| (Ok::<_, Infallible>(Bytes::from(l)), (rx, guard)))
    });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson"), (header::CACHE_CONTROL, "no-store")], Body::from_stream(lines)).into_response())
}

/// Sets the run's stop flag when the streamed answer is dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_body_ends_on_a_character() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("aé", 2), "a", "é is two bytes: the cut steps back before it");
        assert_eq!(cut("aéb", 3), "aé");
    }
}
