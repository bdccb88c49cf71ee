//! Sending from the app through the real binary: `POST /api/docs/{id}/send`
//! against a local server that records what it receives, Save as example,
//! the cookie jar, the refusals; and in Chromium (`tests/node/app_send.js`)
//! the editor's Send by keyboard, the response pane's tabs, an example saved
//! into the tree, the Runner from a collection's actions and its run on the
//! Runs page, with axe-core on each new state.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::app::App;
use support::{Device, PASSWORD, Server, bin};

/// One request as the server received it.
#[derive(Clone, Debug)]
struct Recorded {
    uri: String,
    headers: HeaderMap,
}

/// A server on 127.0.0.1:0 that records each request and answers by path.
struct Target {
    url: String,
    seen: Arc<Mutex<Vec<Recorded>>>,
    _rt: tokio::runtime::Runtime,
}

/// The size of `/big`'s body: over the 10 MiB the page gets.
const BIG: usize = 11 * 1024 * 1024;

impl Target {
    fn start() -> Target {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let seen: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |_method: Method, uri: Uri, headers: HeaderMap, _body: Bytes| {
            let log = log.clone();
            async move {
                let path = uri.path().to_string();
                log.lock().unwrap().push(Recorded { uri: uri.to_string(), headers: headers.clone() });
                let r: Response = match path.as_str() {
                    "/item" => (
                        [(header::SET_COOKIE, "session=abc123; Path=/")],
                        axum::Json(json!({ "id": 1, "name": "Widget", "tags": ["a", "b"] })),
                    )
                        .into_response(),
                    "/page" => {
                        ([(header::CONTENT_TYPE, "text/html")], "<html><head><title>Hi</title></head><body><p>One<br>two</p></body></html>")
                            .into_response()
                    }
                    "/missing" => (StatusCode::NOT_FOUND, "no such thing").into_response(),
                    "/big" => "b".repeat(BIG).into_response(),
                    _ => {
                        let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                        axum::Json(json!({ "path": path, "you_sent": auth })).into_response()
                    }
                };
                r
            }
        });
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Target { url, seen, _rt: rt }
    }

    fn count(&self, path: &str) -> usize {
        self.seen.lock().unwrap().iter().filter(|r| r.uri.starts_with(path)).count()
    }

    fn last(&self) -> Recorded {
        self.seen.lock().unwrap().last().cloned().expect("the target received nothing")
    }
}

const SECRET: &str = "tok-5ecr3t-77";

/// The test script of "Get item": two tests that pass on `/item`, and a log line.
const ITEM_TESTS: &str = r#"["pm.test('status is 200', () => pm.response.to.have.status(200));", "pm.test('named Widget', () => pm.expect(pm.response.json().name).to.eql('Widget'));", "console.log('got', pm.response.code);"]"#;

/// A collection "Shop" whose variable `base` is the target, a bearer token
/// from a secret environment variable (the active environment), and
/// requests; returns (collection, environment, [Get item, Missing, Unresolved, Page, Big]).
fn setup(d: &Device, target: &Target) -> (String, String, Vec<String>) {
    let vars = json!([{ "key": "base", "value": target.url }]).to_string();
    let auth = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]}).to_string();
    let col = d.create("collection", &["--set", "name=Shop", "--set", &format!("variable={vars}"), "--set", &format!("auth={auth}")]);
    let env = d.create("environment", &["--set", "name=Dev"]);
    d.create("variable", &["--parent", &env, "--set", "key=token", "--set", &format!("value={SECRET}"), "--set", "type=secret"]);
    let request = |name: &str, url: &str, tests: Option<&str>| {
        let mut args = vec![
            "--parent".to_string(),
            col.clone(),
            "--set".into(),
            format!("name={name}"),
            "--set".into(),
            "method=GET".into(),
            "--set".into(),
            format!("url={url}"),
        ];
        if let Some(exec) = tests {
            args.push("--set".into());
            args.push(format!("event=[{{\"listen\":\"test\",\"script\":{{\"type\":\"text/javascript\",\"exec\":{exec}}}}}]"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        d.create("request", &args)
    };
    let ids = vec![
        request("Get item", "{{base}}/item", Some(ITEM_TESTS)),
        request("Missing", "{{base}}/missing", Some(r#"["pm.test('status is 200', () => pm.response.to.have.status(200));"]"#)),
        request("Unresolved", "{{base}}/echo?x={{nothing}}", None),
        request("Page", "{{base}}/page", None),
        request("Big", "{{base}}/big", None),
    ];
    (col, env, ids)
}

/// Makes `env` the active environment of its workspace, as the header's picker does.
fn activate(app: &App, cookie: &str, env: &str, d: &Device) {
    let doc = d.json(&["--offline", "show", env]);
    let ws = doc["workspace_id"].as_str().unwrap_or_else(|| panic!("no workspace in {doc}"));
    let r = app.api(cookie, "PUT", &format!("/api/workspaces/{ws}/active-environment"), Some(&json!({ "environment": env })));
    assert_eq!(r.status, 200, "{r:?}");
}

fn send(app: &App, cookie: &str, id: &str) -> support::app::Reply {
    app.api(cookie, "POST", &format!("/api/docs/{id}/send"), Some(&json!({})))
}

#[test]
fn the_app_sends_a_request_keeps_history_saves_an_example_and_manages_cookies() {
    let target = Target::start();
    let d = Device::new("laptop");
    let (col, env, ids) = setup(&d, &target);
    let app = App::start(&d);
    let cookie = app.cookie();
    activate(&app, &cookie, &env, &d);

    // The active environment's secret goes out; the page never sees it.
    let r = send(&app, &cookie, &ids[0]);
    assert_eq!(r.status, 200, "{r:?}");
    let o = r.json();
    assert_eq!(target.last().headers.get("authorization").and_then(|v| v.to_str().ok()), Some(format!("Bearer {SECRET}").as_str()));
    assert!(!r.body.contains(SECRET), "the secret reached the page: {}", r.body);
    assert_eq!(o["response"]["code"], 200, "{o}");
    assert_eq!(o["response"]["status"], "OK", "{o}");
    assert_eq!(o["response"]["language"], "json", "{o}");
    let body: Value = serde_json::from_str(o["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["name"], "Widget");
    assert!(o["response"]["pretty"].as_str().unwrap().contains("\n  \"name\": \"Widget\""), "{o}");
    assert!(o["response"]["time_ms"].as_f64().unwrap() > 0.0, "{o}");
    assert!(o["response"]["timings"].as_object().is_some_and(|t| !t.is_empty()), "{o}");
    assert_eq!(o["environment"], "Dev", "{o}");
    assert_eq!(o["cookies"][0]["name"], "session", "{o}");
    // The request's test script ran on Send, as in Postman.
    assert_eq!(
        o["tests"],
        json!([{"name": "status is 200", "passed": true, "skipped": false, "error": null}, {"name": "named Widget", "passed": true, "skipped": false, "error": null}]),
        "{o}"
    );
    assert_eq!(o["console"][0]["text"], "got 200", "{o}");
    assert_eq!(o["can_save_example"], true);
    assert_eq!(o["request"]["url"], format!("{}/item", target.url), "the request as sent: {o}");
    let history = o["history_id"].as_str().unwrap().to_string();
    let h = d.json(&["--offline", "show", &history]);
    assert_eq!(h["kind"], "history", "{h}");
    assert_eq!(h["fields"]["response"]["code"], 200, "{h}");

    // The cookie the server set goes back with the next send.
    send(&app, &cookie, &ids[2]);
    assert_eq!(target.last().headers.get("cookie").and_then(|v| v.to_str().ok()), Some("session=abc123"));

    // Unresolved variables are named, and a 404 is an answer, not an error.
    let o = send(&app, &cookie, &ids[2]).json();
    assert_eq!(o["unresolved"], json!(["nothing"]), "{o}");
    let o = send(&app, &cookie, &ids[1]).json();
    assert_eq!(o["response"]["code"], 404, "{o}");
    assert_eq!(o["tests"][0]["passed"], false, "a failing test is an answer too: {o}");
    assert_eq!(o["response"]["body"], "no such thing");
    let o = send(&app, &cookie, &ids[3]).json();
    assert_eq!(o["response"]["language"], "html", "{o}");

    // A body over the page's bound is cut with a note, and cannot be an example.
    let o = send(&app, &cookie, &ids[4]).json();
    assert_eq!(o["response"]["size"], BIG, "{}", o["response"]["size"]);
    assert_eq!(o["response"]["body"].as_str().unwrap().len(), 10 * 1024 * 1024);
    assert!(o["response"]["body_note"].as_str().unwrap().contains("apisync body"), "{}", o["response"]["body_note"]);
    assert_eq!(o["can_save_example"], false);
    assert_eq!(o["body_kept_on_device_only"], true);
    let big_history = o["history_id"].as_str().unwrap().to_string();
    let r = app.api(&cookie, "POST", &format!("/api/history/{big_history}/save-response"), Some(&json!({ "name": "Huge" })));
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_recent"), "{r:?}");

    // Save as example: a response document under the request, masked.
    let r = app.api(&cookie, "POST", &format!("/api/history/{history}/save-response"), Some(&json!({ "name": "Happy path" })));
    assert_eq!(r.status, 201, "{r:?}");
    let example = r.json()["id"].as_str().unwrap().to_string();
    let e = d.json(&["--offline", "show", &example]);
    assert_eq!(e["kind"], "response", "{e}");
    assert_eq!(e["parent_id"], ids[0].as_str(), "{e}");
    assert_eq!(e["fields"]["name"], "Happy path");
    assert_eq!(e["fields"]["code"], 200);
    assert!(!e.to_string().contains(SECRET), "the example holds the secret: {e}");
    let r = app.api(&cookie, "POST", &format!("/api/history/{history}/save-response"), Some(&json!({ "name": "  " })));
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{r:?}");

    // The jar: listed, cleared for one domain.
    let r = app.api(&cookie, "GET", "/api/cookies", None);
    assert_eq!(r.json()["cookies"][0]["value"], "abc123", "{r:?}");
    let r = app.api(&cookie, "DELETE", "/api/cookies?domain=example.com", None);
    assert_eq!(r.json()["removed"], 0, "{r:?}");
    let r = app.api(&cookie, "DELETE", "/api/cookies?domain=127.0.0.1", None);
    assert_eq!(r.json()["removed"], 1, "{r:?}");
    assert_eq!(d.json(&["cookies"]), json!([]), "the CLI sees the jar emptied");
    let r = app.api(&cookie, "DELETE", "/api/cookies?colour=red", None);
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{r:?}");

    // Refusals: not a request, unknown, no Origin, a server that is not there.
    let before = target.seen.lock().unwrap().len();
    let r = send(&app, &cookie, &col);
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{r:?}");
    let r = send(&app, &cookie, "0190e7a2-0000-7000-8000-000000000000");
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"), "{r:?}");
    let r = app.send("POST", &format!("/api/docs/{}/send", ids[0]), &[("Cookie", &cookie)], Some(&json!({})));
    assert_eq!(r.status, 403, "{r:?}");
    let r = app.api(&cookie, "POST", &format!("/api/docs/{}/send", ids[0]), Some(&json!({ "color": 1 })));
    assert_eq!(r.status, 422, "an unknown option is refused: {r:?}");
    assert_eq!(target.seen.lock().unwrap().len(), before, "a refused send sent nothing");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/x", closed.local_addr().unwrap());
    drop(closed);
    let gone = d.create("request", &["--parent", &col, "--set", "name=Gone", "--set", &format!("url={dead}")]);
    let r = send(&app, &cookie, &gone);
    assert_eq!((r.status, r.error_code().as_str()), (502, "send_failed"), "{r:?}");
    assert_eq!(target.count("/item"), 1);
}

#[test]
fn the_app_runs_a_collection_and_keeps_the_run() {
    let target = Target::start();
    let d = Device::new("laptop");
    let (col, env, ids) = setup(&d, &target);
    let app = App::start(&d);
    let cookie = app.cookie();
    activate(&app, &cookie, &env, &d);
    let ws = d.json(&["--offline", "show", &col])["workspace_id"].as_str().unwrap().to_string();

    // Refusals first: nothing is sent for any of them.
    for (body, why) in [
        (json!({ "target": ids[0] }), "a request is not run"),
        (json!({ "target": col, "iterations": 0 }), "no iterations"),
        (json!({ "target": col, "iterations": 1001 }), "too many iterations"),
        (json!({ "target": col, "delay_ms": 600_000 }), "a ten-minute pause"),
        (json!({ "target": col, "data": "[1, 2" }), "broken JSON data"),
        (json!({ "target": col, "data": "x".repeat(1024 * 1024 + 1) }), "data over the bound"),
    ] {
        let r = app.api(&cookie, "POST", "/api/run", Some(&body));
        assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{why}: {r:?}");
    }
    assert_eq!(target.seen.lock().unwrap().len(), 0, "a refused run sent nothing");

    // Two iterations from CSV data: every request twice, the failing test named.
    let r = app.api(&cookie, "POST", "/api/run", Some(&json!({ "target": col, "data": "row\n1\n2\n", "bail": false })));
    assert_eq!(r.status, 200, "{r:?}");
    // One line per request as it ends, then the report.
    let lines = r.lines();
    assert_eq!(lines.len(), 11, "{lines:?}");
    assert!(lines[..10].iter().all(|l| l["execution"]["item"]["name"].is_string()), "{lines:?}");
    let report = lines[10]["report"].clone();
    assert_eq!(report["stats"]["requests"]["total"], 10, "{}", report["stats"]);
    assert_eq!(report["stats"]["tests"]["total"], 6, "{}", report["stats"]);
    assert_eq!(report["stats"]["tests"]["failed"], 2, "{}", report["stats"]);
    assert_eq!(report["passed"], false);
    assert_eq!(report["environment"]["name"], "Dev");
    assert!(!r.body.contains(SECRET), "the secret reached the page");
    let missing = report["executions"].as_array().unwrap().iter().find(|e| e["item"]["name"] == "Missing").unwrap();
    assert_eq!(missing["response"]["code"], 404);
    assert_eq!(missing["tests"][0]["passed"], false);
    assert_eq!(target.count("/item"), 2);
    // Kept as a run, which the Runs page lists.
    let run_id = report["run_id"].as_str().unwrap().to_string();
    let runs = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/runs"), None).json();
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(runs[0]["id"], run_id.as_str(), "{runs}");

    // A folder-free bail: the run stops at the first failure.
    let r = app.api(&cookie, "POST", "/api/run", Some(&json!({ "target": col, "bail": true })));
    let report = r.lines().pop().map(|l| l["report"].clone()).unwrap_or_default();
    assert!(report["stopped"].is_string(), "{report}");
    assert_eq!(report["stats"]["requests"]["total"], 2, "{}", report["stats"]);
}

#[test]
fn in_chromium_send_shows_the_response_and_saves_an_example() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's send browser test") else { return };
    let target = Target::start();
    let d = Device::new("laptop");
    let (col, env, ids) = setup(&d, &target);
    let app = App::start(&d);
    activate(&app, &app.cookie(), &env, &d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let (profile, shots_arg) = (d.dir.path().to_string_lossy(), shots.to_string_lossy());
    support::app::run_check(
        &root.join("tests/node"),
        "app_send.js",
        [
            "--url",
            &app.url(),
            "--bin",
            bin(),
            "--profile",
            &profile,
            "--collection",
            &col,
            "--item",
            &ids[0],
            "--unresolved",
            &ids[2],
            "--page",
            &ids[3],
            "--shots",
            &shots_arg,
        ],
    );
    // Sent by the page: one /item with the keyboard (Ctrl+Enter), two in the
    // run, one in the run stopped after its first requests.
    assert_eq!(target.count("/item"), 4);
    let examples: Vec<Value> =
        d.json(&["--offline", "ls"]).as_array().unwrap().iter().filter(|v| v["kind"] == "response").cloned().collect();
    assert_eq!(examples.len(), 1, "{examples:?}");
    assert_eq!(examples[0]["fields"]["name"], "Happy path");
    let runs =
        || -> Vec<Value> { d.json(&["--offline", "ls"]).as_array().unwrap().iter().filter(|v| v["kind"] == "run").cloned().collect() };
    // The stopped run is written once the run notices the page went away.
    support::eventually(Duration::from_secs(10), || runs().len() == 2);
    let runs = runs();
    assert_eq!(runs.len(), 2, "the Runner's runs are kept, the stopped one too: {runs:?}");
    let sizes: Vec<usize> = runs.iter().map(|r| r["fields"]["results"].as_array().map_or(0, Vec::len)).collect();
    assert!(sizes.contains(&10) && sizes.iter().any(|n| (1..15).contains(n)), "a whole run and a stopped one: {sizes:?}");
    for name in [
        "runner.png",
        "runner-stopped.png",
        "runner-runs.png",
        "send-response.png",
        "send-tests.png",
        "send-headers.png",
        "send-warnings.png",
        "send-html.png",
        "send-cookies.png",
    ] {
        assert!(shots.join(name).is_file(), "no screenshot {name}");
    }
}

#[test]
fn in_the_web_version_send_and_run_are_shown_disabled_with_the_reason() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the web version's disabled Send") else { return };
    let server = Server::start();
    let d = Device::new("desktop");
    d.signup(&server, "ann");
    let col = d.create("collection", &["--set", "name=Shop"]);
    let req = d.create("request", &["--parent", &col, "--set", "name=Find", "--set", "url=http://127.0.0.1:9/never"]);
    d.run(&["sync"]);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let out = std::process::Command::new("node")
        .arg(root.join("tests/node/web_send.js"))
        .args(["--url", &format!("http://{}/", server.addr), "--user", "ann", "--password-env", "WEB_TEST_PASSWORD"])
        .args(["--request", &req, "--collection", &col, "--shots"])
        .arg(&shots)
        .env("WEB_TEST_PASSWORD", PASSWORD)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "web_send.js failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["web-send-disabled.png", "web-run-disabled.png"] {
        assert!(shots.join(name).is_file(), "no screenshot {name}");
    }
    // Nothing was sent on the account's behalf: no history entry reached the CLI device.
    d.run(&["sync"]);
    assert!(!d.docs().as_array().unwrap().iter().any(|v| v["kind"] == "history"), "a history entry appeared");
}
