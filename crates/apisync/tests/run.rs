//! `apisync run` and script-running `apisync send` through the real binary,
//! against a local echo server on 127.0.0.1:0 and a real `apisync serve`:
//! a run and a send on one device show on the other with their outcomes,
//! reporters and exit codes, data files, scripts that loop or allocate
//! without end are stopped, scripts cannot reach files or the network, and
//! what a script sets becomes this device's current value, never synced.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Device, Server, eventually, stderr, two_devices};

/// A server on 127.0.0.1:0 answering `/n/{n}` with `{"n": n}` and anything else with `{"ok": true}`.
struct Echo {
    url: String,
    _rt: tokio::runtime::Runtime,
}

impl Echo {
    fn start() -> Echo {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let app = axum::Router::new()
            .route(
                "/n/{n}",
                axum::routing::any(|axum::extract::Path(n): axum::extract::Path<u64>| async move { axum::Json(json!({ "n": n })) }),
            )
            .fallback(|| async { axum::Json(json!({ "ok": true })) });
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Echo { url, _rt: rt }
    }
}

fn tests_event(lines: &[&str]) -> String {
    json!([{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]).to_string()
}

fn pre_event(lines: &[&str]) -> String {
    json!([{"listen": "prerequest", "script": {"type": "text/javascript", "exec": lines}}]).to_string()
}

fn collection(d: &Device, name: &str, base: &str) -> String {
    let vars = json!([{"key": "base", "value": base}]).to_string();
    d.create("collection", &["--set", &format!("name={name}"), "--set", &format!("variable={vars}")])
}

fn request(d: &Device, parent: &str, name: &str, url: &str, event: &str) -> String {
    d.create(
        "request",
        &[
            "--parent",
            parent,
            "--set",
            &format!("name={name}"),
            "--set",
            "method=GET",
            "--set",
            &format!("url={url}"),
            "--set",
            &format!("event={event}"),
        ],
    )
}

fn kinds(d: &Device, kind: &str) -> Vec<Value> {
    d.docs().as_array().unwrap().iter().filter(|v| v["kind"] == kind).cloned().collect()
}

#[test]
fn a_run_and_a_send_on_one_device_show_on_the_other_with_their_outcomes() {
    let server = Server::start();
    let echo = Echo::start();
    let (a, b) = two_devices(&server);
    let col = collection(&a, "Shop", &echo.url);
    request(&a, &col, "Item one", "{{base}}/n/1", &tests_event(&["pm.test('is one', () => pm.expect(pm.response.json().n).to.eql(1));"]));
    let two = request(
        &a,
        &col,
        "Item two",
        "{{base}}/n/2",
        &tests_event(&["pm.test('is three', () => pm.expect(pm.response.json().n).to.eql(3));"]),
    );

    let out = a.try_run(&["run", "Shop", "--reporter", "json"]);
    assert_eq!(out.status.code(), Some(1), "a failed test is exit 1: {}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["stats"]["tests"], json!({"total": 2, "failed": 1, "skipped": 0}));
    assert!(report["executions"][1]["tests"][0]["error"].as_str().unwrap().contains("expected 2 to deeply equal 3"), "{report}");

    let sent = a.json(&["send", &two]);
    assert_eq!(sent["response"]["code"], 200);
    assert_eq!(sent["tests"][0]["passed"], false, "Send runs the request's test script too: {sent}");

    b.run(&["sync"]);
    let runs = kinds(&b, "run");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let results = &runs[0]["fields"]["results"];
    assert_eq!(results[0]["item"]["name"], "Item one");
    assert_eq!(results[0]["code"], 200);
    assert_eq!(results[1]["assertions"][0]["assertion"], "is three");
    assert!(results[1]["assertions"][0]["error"]["message"].as_str().is_some());
    let history = kinds(&b, "history");
    assert!(history.iter().any(|h| h["fields"]["name"] == "Item two" && h["fields"]["code"] == 200), "{history:?}");
}

#[test]
fn reporters_data_files_and_bail_behave_as_newmans() {
    let echo = Echo::start();
    let d = Device::new("solo");
    let col = collection(&d, "Rows", &echo.url);
    request(
        &d,
        &col,
        "Row",
        "{{base}}/n/{{n}}",
        &tests_event(&["pm.test('n is small', () => pm.expect(Number(pm.iterationData.get('n'))).to.be.below(3));"]),
    );
    let data = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(data.path(), "n\n1\n2\n5\n").unwrap();
    let path = data.path().to_str().unwrap();

    let out = d.try_run(&["run", "Rows", "--data", path, "--reporter", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains(r#"<testsuites name="Rows" tests="3" failures="1""#), "{xml}");

    let out = d.try_run(&["run", "Rows", "--data", path, "--bail", "--reporter", "json", "--no-save"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["executions"].as_array().unwrap().len(), 3, "bail stops after the failing third row");
    assert!(report["stopped"].as_str().unwrap().contains("--bail"));
    assert_eq!(kinds(&d, "run").len(), 1, "--no-save keeps no run document");

    let out = d.try_run(&["run", "Rows", "--data", path, "--iterations", "2"]);
    assert!(out.status.success(), "two rows pass: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✓ n is small") && text.contains("2 requests (0 failed), 2 tests (0 failed"), "{text}");

    let bad = d.try_run(&["run", "Rows", "--iterations", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--iterations must be between 1"));
    let req = d.try_run(&["run", "Rows/Row"]);
    assert_eq!(req.status.code(), Some(7), "a request is not something to run: {}", stderr(&req));
}

#[test]
fn scripts_that_loop_or_allocate_without_end_are_stopped_and_cannot_reach_files_or_the_network() {
    let echo = Echo::start();
    let d = Device::new("solo");
    let col = collection(&d, "Hostile", &echo.url);
    request(&d, &col, "Loop", "{{base}}/a", &pre_event(&["while (true) {}"]));
    request(&d, &col, "Hog", "{{base}}/b", &pre_event(&["var keep = []; while (true) keep.push(new Array(1e6).fill(7));"]));
    request(
        &d,
        &col,
        "Reach",
        "{{base}}/c",
        &tests_event(&[
            "pm.test('no fetch', () => pm.expect(typeof fetch).to.eql('undefined'));",
            "pm.test('no XMLHttpRequest', () => pm.expect(typeof XMLHttpRequest).to.eql('undefined'));",
            "var fs = require('fs');",
        ]),
    );
    let out = d.try_run(&["run", "Hostile", "--reporter", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let errors = |i: usize| report["executions"][i]["script_errors"].to_string();
    assert!(errors(0).contains("5 s limit"), "{}", errors(0));
    assert!(errors(1).contains("memory limit"), "{}", errors(1));
    assert!(errors(2).contains("fs"), "{}", errors(2));
    assert_eq!(report["executions"][2]["tests"].as_array().unwrap().iter().filter(|t| t["passed"] == true).count(), 2);
    // Every request was still sent: a script's failure is reported, the run goes on.
    assert_eq!(report["executions"].as_array().unwrap().iter().filter(|e| e["response"]["code"] == 200).count(), 3);
    assert!(report["unsupported"].to_string().contains("fs"), "{report}");
}

#[test]
fn what_a_script_sets_is_this_devices_current_value_and_never_synced() {
    let server = Server::start();
    let echo = Echo::start();
    let (a, b) = two_devices(&server);
    let col = collection(&a, "Login", &echo.url);
    request(
        &a,
        &col,
        "Token",
        "{{base}}/n/42",
        &tests_event(&["pm.environment.set('token', 'tok-' + pm.response.json().n);", "pm.globals.set('seen', 'yes');"]),
    );
    let env = a.create("environment", &["--set", "name=Dev"]);
    let token = a.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=initial"]);
    a.run(&["sync"]);
    a.run(&["run", "Login", "--environment", "Dev"]);
    let var = a.json(&["show", &token]);
    assert_eq!(var["current"], "tok-42", "{var}");
    assert_eq!(var["fields"]["value"], "initial", "the synced initial value is unchanged");
    let global = kinds(&a, "global");
    assert_eq!(global.len(), 1, "a global the script named is created: {global:?}");
    assert_eq!(global[0]["fields"]["value"], "", "with an empty initial value");

    a.run(&["sync"]);
    assert!(eventually(Duration::from_secs(10), || {
        b.run(&["sync"]);
        kinds(&b, "global").len() == 1
    }));
    let on_b = b.json(&["show", &token]);
    assert_eq!(on_b["fields"]["value"], "initial");
    assert!(on_b["current"].is_null(), "the current value stays on the device that ran: {on_b}");
    assert!(!b.docs().to_string().contains("tok-42"));
}
