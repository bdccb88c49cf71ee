//! The app's conflicts inbox through the real binary and a real server: two
//! devices edit one request offline, the app on the second lists the
//! conflict, resolves it field by field (through the API, and in Chromium
//! through the dialog), and the server ends up with the chosen values.
//! The harness (`App`, `raw`) is the one of `app.rs`, repeated so the two
//! test files can change independently.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use support::app::App;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Device, Server, eventually, two_devices};

/// The inbox of `d` as `apisync conflicts --json` prints it.
fn conflicts(d: &Device) -> Vec<Value> {
    d.json(&["conflicts"]).as_array().cloned().unwrap_or_default()
}

/// Ann's laptop (`a`) and desktop (`b`) both change the name and URL of one
/// request offline; `a` syncs first, so `b` gets one conflict on both fields,
/// with `b_name` as its own name. Returns the request's id.
fn conflict_on_name_and_url(a: &Device, b: &Device, b_name: &str) -> String {
    let col = a.create("collection", &["--set", "name=Shared"]);
    let req = a.create("request", &["--parent", &col, "--set", "name=Get", "--set", "url=https://a"]);
    b.run(&["sync"]);
    a.run(&["--offline", "set", &req, "name=From laptop", "url=https://laptop"]);
    b.run(&["--offline", "set", &req, &format!("name={b_name}"), "url=https://desktop"]);
    a.run(&["sync"]);
    b.run(&["sync"]);
    assert_eq!(conflicts(b).len(), 1, "{:?}", conflicts(b));
    req
}

/// Whether the server, as `a` sees it after a sync, has `name` and `url` on `req`.
fn server_has(a: &Device, req: &str, name: &str, url: &str) -> bool {
    eventually(Duration::from_secs(20), || {
        a.run(&["sync"]);
        let f = &a.json(&["show", req])["fields"];
        f["name"] == name && f["url"] == url
    })
}

#[test]
fn the_app_lists_a_conflict_and_resolves_it_field_by_field_onto_the_server() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let req = conflict_on_name_and_url(&a, &b, "From desktop");
    let app = App::start(&b);
    let cookie = app.cookie();

    let list = app.api(&cookie, "GET", "/api/conflicts", None).json();
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 1, "{list:?}");
    let c = &list[0];
    assert_eq!(c["doc_id"], req.as_str());
    assert_eq!(c["group"]["name"], "Shared", "grouped by its collection: {c}");
    let mut fields: Vec<&str> = c["fields"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["name", "url"]);
    let name = c["fields"].as_array().unwrap().iter().find(|f| f["field"] == "name").unwrap();
    assert_eq!((&name["base"], &name["mine"], &name["theirs"]), (&json!("Get"), &json!("From desktop"), &json!("From laptop")));
    let id = c["id"].as_i64().expect("id");
    let path = format!("/api/conflicts/{id}/resolve");

    // A choice that leaves a field out is refused, naming it; nothing changes.
    let r = app.api(&cookie, "POST", &path, Some(&json!({ "fields": { "name": "mine" } })));
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.error_code(), "missing_choice");
    assert!(r.json()["error"]["message"].as_str().unwrap_or_default().contains("'url'"), "{r:?}");
    let r = app.api(&cookie, "POST", &path, Some(&json!({ "fields": { "name": "ours", "url": "theirs" } })));
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_side"));
    let r = app.api(&cookie, "POST", &path, Some(&json!({ "fields": { "name": "mine", "url": "theirs", "body": "mine" } })));
    assert_eq!((r.status, r.error_code().as_str()), (400, "unknown_field"));
    assert_eq!(conflicts(&b).len(), 1, "a refused choice resolves nothing");

    let r = app.api(&cookie, "POST", &path, Some(&json!({ "fields": { "name": "mine", "url": "theirs" } })));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["mine"], json!(["name"]));
    assert_eq!(r.json()["theirs"], json!(["url"]));
    let left = app.api(&cookie, "GET", "/api/conflicts", None).json();
    assert_eq!(left, json!([]), "the inbox is empty");
    let again = app.api(&cookie, "POST", &path, Some(&json!({ "fields": { "name": "mine", "url": "theirs" } })));
    assert_eq!((again.status, again.error_code().as_str()), (404, "not_found"));

    // The app's background sync sends the kept name; the URL stays the laptop's.
    assert!(server_has(&a, &req, "From desktop", "https://laptop"), "server: {}", a.json(&["show", &req]));
}

#[test]
fn a_secret_variable_in_conflict_is_masked_unless_revealed() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let env = a.create("environment", &["--set", "name=Prod"]);
    let var = a.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=base-secret", "--set", "type=secret"]);
    b.run(&["sync"]);
    a.run(&["--offline", "set", &var, "value=laptop-secret"]);
    b.run(&["--offline", "set", &var, "value=desktop-secret"]);
    a.run(&["sync"]);
    b.run(&["sync"]);
    let app = App::start(&b);
    let cookie = app.cookie();
    let list = app.api(&cookie, "GET", "/api/conflicts", None);
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("desktop-secret") && !list.body.contains("laptop-secret"), "masked: {}", list.body);
    assert_eq!(list.json()[0]["group"]["key"], "environments", "{}", list.body);
    let shown = app.api(&cookie, "GET", "/api/conflicts?reveal=true", None);
    assert!(shown.body.contains("desktop-secret") && shown.body.contains("laptop-secret"), "{}", shown.body);
}

#[test]
fn in_chromium_the_conflicts_dialog_resolves_row_by_row() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's conflicts browser test") else { return };
    let node_dir = root.join("tests/node");
    let server = Server::start();
    let (a, b) = two_devices(&server);
    // B's name is hostile: the dialog must show it as text.
    let hostile = "<img src=x onerror=alert(1)>";
    let req = conflict_on_name_and_url(&a, &b, hostile);
    let app = App::start(&b);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("conflict-dialog.png");
    let url = app.url();
    let shot_arg = shot.to_string_lossy();
    support::app::run_check(
        &node_dir,
        "app_conflicts_browser.js",
        ["--url", &url, "--expect-tab", "Shared", "--expect-mine", hostile, "--screenshot", &shot_arg],
    );
    assert!(shot.is_file());
    assert!(conflicts(&b).is_empty(), "resolved in the dialog");
    // The dialog kept Local for the name and Server for the URL.
    assert!(server_has(&a, &req, hostile, "https://laptop"), "server: {}", a.json(&["show", &req]));
}
