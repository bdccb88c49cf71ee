//! The run loop against a local server bound to 127.0.0.1:0: order, scripts
//! and variables flowing between requests, setNextRequest, iterations over
//! data, --bail, pm.sendRequest, and a request that cannot be sent.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::Uri;
use axum::routing::any;
use model::{Document, Id, Kind};
use runner::plan::plan;
use runner::run::{RunOptions, run};
use runner::{CookieJar, Scopes, Sender};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// A server answering `/n/{n}` with `{"n": n, "next": n + 1}`, recording each path it was asked.
fn serve() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let app = Router::new().route(
                "/n/{n}",
                any(move |UrlPath(n): UrlPath<u64>, uri: Uri| {
                    log.lock().unwrap().push(uri.to_string());
                    async move { axum::Json(json!({ "n": n, "next": n + 1 })) }
                }),
            );
            axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app).await.unwrap();
        });
    });
    (format!("http://{addr}"), seen)
}

fn doc(n: u128, kind: Kind, parent: Option<u128>, key: &str, fields: Value) -> Document {
    Document {
        id: Id::from_u128(n),
        kind,
        workspace_id: Id::from_u128(1),
        parent_id: parent.map(Id::from_u128),
        order_key: Some(key.into()),
        fields: fields.as_object().cloned().unwrap(),
        deleted: false,
        version: 1,
    }
}

fn events(pre: &str, test: &str) -> Value {
    json!([{"listen": "prerequest", "script": {"exec": [pre]}}, {"listen": "test", "script": {"exec": [test]}}])
}

fn request(n: u128, key: &str, name: &str, url: &str, pre: &str, test: &str) -> Document {
    doc(n, Kind::Request, Some(10), key, json!({"name": name, "method": "GET", "url": url, "event": events(pre, test)}))
}

fn collection(base: &str, requests: Vec<Document>) -> Vec<Document> {
    let mut docs = vec![doc(
        10,
        Kind::Collection,
        None,
        "a",
        json!({"name": "C", "variable": [{"key": "base", "value": base}], "event": events("pm.variables.set('from_collection', 'yes');", "")}),
    )];
    docs.extend(requests);
    docs
}

fn scopes_for(p: &runner::plan::Plan) -> Scopes {
    Scopes { collection: p.variables.iter().cloned().collect(), ..Scopes::default() }
}

fn sender() -> Sender {
    Sender::new(Arc::new(CookieJar::in_memory()))
}

#[test]
fn variables_flow_from_one_requests_tests_to_the_next_requests_url() {
    let (base, seen) = serve();
    let docs = collection(
        &base,
        vec![
            request(
                1,
                "a",
                "first",
                "{{base}}/n/1",
                "",
                "pm.environment.set('next', pm.response.json().next); pm.test('first ok', () => pm.response.to.have.status(200));",
            ),
            request(
                2,
                "b",
                "second",
                "{{base}}/n/{{next}}?c={{from_collection}}",
                "",
                "pm.test('got two', () => pm.expect(pm.response.json().n).to.eql(2));",
            ),
        ],
    );
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let mut heard = Vec::new();
    let r = run(&p, scopes_for(&p), &sender(), &RunOptions::default(), &mut |e| heard.push(e.name.clone())).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/n/1", "/n/2?c=yes"]);
    assert_eq!(heard, ["first", "second"]);
    assert!(r.passed(), "{:?}", r.executions);
    assert_eq!(r.executions[1].tests[0].name, "got two");
    assert!(r.changed.contains(&(runner::Scope::Environment, "next".to_string())));
    assert_eq!(r.scopes.environment["next"], json!(2));
}

#[test]
fn set_next_request_jumps_and_stops() {
    let (base, seen) = serve();
    let docs = collection(
        &base,
        vec![
            request(1, "a", "one", "{{base}}/n/1", "", "postman.setNextRequest('three');"),
            request(2, "b", "two", "{{base}}/n/2", "", ""),
            request(3, "c", "three", "{{base}}/n/3", "", "postman.setNextRequest(null);"),
            request(4, "d", "four", "{{base}}/n/4", "", ""),
        ],
    );
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let r = run(&p, scopes_for(&p), &sender(), &RunOptions { iterations: 2, ..RunOptions::default() }, &mut |_| {}).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/n/1", "/n/3", "/n/1", "/n/3"]);
    assert_eq!(r.executions.iter().map(|e| e.iteration).collect::<Vec<_>>(), [0, 0, 1, 1]);
}

#[test]
fn iterations_take_their_data_rows_and_bail_stops_at_the_first_failure() {
    let (base, seen) = serve();
    let docs = collection(
        &base,
        vec![request(
            1,
            "a",
            "row",
            "{{base}}/n/{{row}}",
            "",
            "pm.test('row under 3', () => pm.expect(pm.iterationData.get('row')).to.be.below(3));",
        )],
    );
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let data = (1..=4).map(|n| [("row".to_string(), json!(n))].into_iter().collect()).collect();
    let opts = RunOptions { iterations: 5, data, bail: true, ..RunOptions::default() };
    let r = run(&p, scopes_for(&p), &sender(), &opts, &mut |_| {}).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/n/1", "/n/2", "/n/3"]);
    assert!(!r.passed());
    assert!(r.stopped.as_deref().unwrap_or("").contains("--bail"));
    assert!(!r.executions[2].tests[0].passed);
}

#[test]
fn a_run_stops_before_its_next_request_when_asked() {
    let (base, seen) = serve();
    let docs = collection(&base, vec![request(1, "a", "one", "{{base}}/n/1", "", ""), request(2, "b", "two", "{{base}}/n/2", "", "")]);
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = RunOptions { iterations: 3, cancel: Some(Arc::clone(&cancel)), ..RunOptions::default() };
    let r = run(&p, scopes_for(&p), &sender(), &opts, &mut |_| cancel.store(true, std::sync::atomic::Ordering::Relaxed)).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/n/1"]);
    assert_eq!(r.stopped.as_deref(), Some("stopped before the end, as asked"));
    assert!(!r.passed());
}

#[test]
fn a_request_that_cannot_be_sent_fails_and_the_run_goes_on() {
    let (base, seen) = serve();
    // A port nothing listens on: bind one, then let it go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let docs = collection(
        &base,
        vec![
            request(1, "a", "nowhere", &format!("http://{closed}/x"), "", "pm.test('never', () => {});"),
            request(2, "b", "there", "{{base}}/n/5", "", ""),
        ],
    );
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let r = run(&p, scopes_for(&p), &sender(), &RunOptions::default(), &mut |_| {}).unwrap();
    assert!(r.executions[0].error.as_deref().unwrap_or("").contains("refused"), "{:?}", r.executions[0].error);
    assert!(r.executions[0].response.is_none());
    assert_eq!(*seen.lock().unwrap(), ["/n/5"]);
    assert!(!r.passed());
}

#[test]
fn a_script_sends_a_request_of_its_own_through_the_run() {
    let (base, seen) = serve();
    let docs = collection(
        &base,
        vec![request(
            1,
            "a",
            "outer",
            "{{base}}/n/1",
            "pm.sendRequest(pm.variables.get('base') + '/n/9', (err, res) => { pm.environment.set('side', res.json().n); });",
            "pm.test('side request seen', () => pm.expect(pm.environment.get('side')).to.eql(9));",
        )],
    );
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let r = run(&p, scopes_for(&p), &sender(), &RunOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/n/9", "/n/1"]);
    assert!(r.passed(), "{:?}", r.executions);
}

#[test]
fn unsupported_features_and_unresolved_variables_are_reported() {
    let (base, _) = serve();
    let docs = collection(&base, vec![request(1, "a", "r", "{{base}}/n/{{nope}}", "", "pm.visualizer.set('<b>x</b>');")]);
    let p = plan(&docs, Id::from_u128(10)).unwrap();
    let r = run(&p, scopes_for(&p), &sender(), &RunOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(r.unsupported(), ["pm.visualizer.set"]);
    assert!(r.executions[0].warnings.iter().any(|w| w.contains("{{nope}}")), "{:?}", r.executions[0].warnings);
}
