//! Tree and workspace editing in the app, through the real binary: duplicate
//! and move documents (`tree_api.rs`), create, rename and delete workspaces
//! (delete against a real server, where only the owner may), a viewer's
//! refusals; and in Chromium the tree itself (create, inline rename,
//! keyboard reorder, drag and drop, filter, delete; then `ls --json`), and a
//! workspace of 10,000 requests that opens with only the visible rows built.
//! The harness (`App`, `raw`) is the one of `app.rs`, repeated so the test
//! files can change independently.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use support::app::App;

use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;
use support::{Device, Server, eventually};

/// The ids of `parent`'s children in `docs` (`ls --json`, tree order), in order.
fn children(docs: &Value, parent: &str) -> Vec<String> {
    docs.as_array()
        .map(|a| a.iter().filter(|d| d["parent_id"] == parent).filter_map(|d| d["id"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn doc<'a>(docs: &'a Value, id: &str) -> &'a Value {
    docs.as_array().and_then(|a| a.iter().find(|d| d["id"] == id)).unwrap_or_else(|| panic!("no {id} in {docs}"))
}

#[test]
fn duplicate_copies_a_subtree_after_the_original_and_move_reorders_and_reparents() {
    // Signed out: the Scratch Pad, so no server is needed for local edits.
    let d = Device::new("solo");
    let col = d.create("collection", &["--set", "name=Users"]);
    let folder = d.create("folder", &["--parent", &col, "--set", "name=Admin"]);
    let r1 = d.create("request", &["--parent", &folder, "--set", "name=List", "--set", "url=https://api/users", "--set", "method=GET"]);
    let resp = d.create("response", &["--parent", &r1, "--set", "name=200 OK"]);
    let r2 = d.create("request", &["--parent", &col, "--set", "name=Create"]);
    let app = App::start(&d);
    let cookie = app.cookie();

    // Duplicate the folder: the folder, its request and that request's response.
    let r = app.api(&cookie, "POST", &format!("/api/docs/{folder}/duplicate"), None);
    assert_eq!(r.status, 201, "{r:?}");
    let copy = r.json()["id"].as_str().expect("id").to_string();
    assert_eq!(r.json()["ids"].as_array().map(Vec::len), Some(3), "{r:?}");
    let docs = d.json(&["ls"]);
    assert_eq!(children(&docs, &col), [folder.clone(), copy.clone(), r2.clone()], "the copy sits right after the original");
    assert_eq!(doc(&docs, &copy)["fields"]["name"], "Admin Copy");
    let copied_req = children(&docs, &copy);
    assert_eq!(copied_req.len(), 1);
    assert_ne!(copied_req[0], r1);
    assert_eq!(doc(&docs, &copied_req[0])["fields"]["url"], "https://api/users");
    assert_eq!(doc(&docs, &copied_req[0])["fields"]["name"], "List", "only the top copy is renamed");
    let copied_resp = children(&docs, &copied_req[0]);
    assert_eq!(copied_resp.len(), 1);
    assert_eq!(doc(&docs, &copied_resp[0])["fields"]["name"], "200 OK");
    assert_eq!(children(&docs, &r1), vec![resp.clone()], "the original is untouched");

    // Reorder among siblings (what Alt+Up does), then move under another parent.
    let mv = |id: &str, body: Value| app.api(&cookie, "POST", &format!("/api/docs/{id}/move"), Some(&body));
    let r = mv(&r2, json!({ "before": folder }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(children(&d.json(&["ls"]), &col), [r2.clone(), folder.clone(), copy.clone()]);
    let r = mv(&r1, json!({ "parent": col, "after": r2 }));
    assert_eq!(r.status, 200, "{r:?}");
    let docs = d.json(&["ls"]);
    assert_eq!(children(&docs, &col), [r2.clone(), r1.clone(), folder.clone(), copy.clone()]);
    assert_eq!(children(&docs, &r1), vec![resp.clone()], "a moved request keeps its response");
    let r = mv(&r1, json!({ "parent": copy }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(children(&d.json(&["ls"]), &copy), [copied_req[0].clone(), r1.clone()], "no position: the end");

    // Refusals, each a JSON error, nothing changed.
    let before = d.json(&["ls"]);
    let bad = [
        (mv(&r2, json!({ "before": folder, "after": copy })), 400),
        (mv(&folder, json!({ "parent": folder })), 400),
        (mv(&folder, json!({ "parent": r2 })), 400),
        (mv(&r2, json!({ "before": r2 })), 400),
        (mv(&r2, json!({ "before": resp })), 400),
        (mv(&r2, json!({ "sideways": true })), 422),
        (mv("not-an-id", json!({})), 400),
        (mv("0190b5d2-0000-7000-8000-000000000000", json!({})), 404),
        (app.api(&cookie, "POST", "/api/docs/0190b5d2-0000-7000-8000-000000000000/duplicate", None), 404),
    ];
    for (r, status) in &bad {
        assert_eq!(r.status, *status, "{r:?}");
        r.error_code();
    }
    assert_eq!(d.json(&["ls"]), before, "refused moves change nothing");
}

#[test]
fn workspaces_are_created_renamed_and_deleted_and_only_the_owner_may_delete() {
    let server = Server::start();
    let ann = Device::new("ann-laptop");
    let bob = Device::new("bob-laptop");
    ann.signup(&server, "ann");
    bob.signup(&server, "bob");
    let app = App::start(&ann);
    let cookie = app.cookie();

    let r = app.api(&cookie, "POST", "/api/workspaces", Some(&json!({ "name": "Team API" })));
    assert_eq!(r.status, 201, "{r:?}");
    let ws = r.json()["id"].as_str().expect("id").to_string();
    let again = app.api(&cookie, "POST", "/api/workspaces", Some(&json!({ "name": " team api " })));
    assert_eq!((again.status, again.error_code().as_str()), (400, "invalid"), "a name the account has");
    let empty = app.api(&cookie, "POST", "/api/workspaces", Some(&json!({ "name": "  " })));
    assert_eq!(empty.status, 400, "{empty:?}");
    let r = app.api(&cookie, "PATCH", &format!("/api/workspaces/{ws}"), Some(&json!({ "name": "Platform API" })));
    assert_eq!(r.status, 200, "{r:?}");
    let listed = app.api(&cookie, "GET", "/api/workspaces", None).json();
    let mine = listed.as_array().and_then(|a| a.iter().find(|w| w["id"] == ws.as_str())).cloned().expect("listed");
    assert_eq!((&mine["name"], &mine["role"]), (&json!("Platform API"), &json!("owner")));
    ann.create("collection", &["--workspace", "Platform API", "--set", "name=Users"]);
    ann.run(&["sync"]);

    // Bob sees it as a viewer of Ann's team.
    ann.json(&["team", "create", "Platform"]);
    ann.json(&["team", "invite", "Platform", "bob@example.com", "--role", "viewer"]);
    bob.json(&["team", "accept", "Platform"]);
    ann.json(&["workspace", "share", "Platform API", "--team", "Platform"]);
    bob.run(&["sync"]);
    let bob_app = App::start(&bob);
    let bob_cookie = bob_app.cookie();
    let listed = bob_app.api(&bob_cookie, "GET", "/api/workspaces", None).json();
    let theirs = listed.as_array().and_then(|a| a.iter().find(|w| w["id"] == ws.as_str())).cloned().expect("shared");
    assert_eq!(theirs["role"], "viewer", "{listed}");
    let listed = bob.json(&["ls", "--workspace", "Platform API"]);
    let col = listed.as_array().and_then(|a| a.iter().find(|d| d["kind"] == "collection")).and_then(|d| d["id"].as_str());
    let col = col.unwrap_or_else(|| panic!("bob has Ann's collection: {listed}")).to_string();

    // A viewer can change nothing; the server refuses a delete by anyone but the owner.
    let r = bob_app.api(&bob_cookie, "PATCH", &format!("/api/workspaces/{ws}"), Some(&json!({ "name": "Mine now" })));
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.json()["error"]["message"].as_str().unwrap_or_default().contains("view"), "{r:?}");
    let r = bob_app.api(&bob_cookie, "POST", &format!("/api/docs/{col}/duplicate"), None);
    assert_eq!(r.status, 400, "{r:?}");
    let r = bob_app.api(&bob_cookie, "DELETE", &format!("/api/workspaces/{ws}"), None);
    assert!(r.status == 403 || r.status == 404, "the server refuses: {r:?}");
    let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty() && r.error_code() != "internal", "the server's own refusal: {r:?}");
    assert!(bob.json(&["workspaces"]).to_string().contains(&ws), "still there for bob");

    // The owner deletes it; it leaves both devices.
    let r = app.api(&cookie, "DELETE", &format!("/api/workspaces/{ws}"), None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["deleted"], true);
    assert!(!app.api(&cookie, "GET", "/api/workspaces", None).body.contains(&ws));
    assert!(eventually(Duration::from_secs(20), || !bob_app.api(&bob_cookie, "GET", "/api/workspaces", None).body.contains(&ws)));
}

/// The repository root and tests/node, or `None` (said loudly) when the
/// browser cannot run; on CI that is a failure.
fn browser_dirs() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let root = support::app::browser_ready("the app's tree browser test")?;
    let node_dir = root.join("tests/node");
    Some((root, node_dir))
}

/// Runs `tests/node/app_tree.js` with `args`; returns its JSON line.
fn run_browser(node_dir: &std::path::Path, args: &[&str]) -> Value {
    let stdout = support::app::run_check(node_dir, "app_tree.js", args);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("no JSON from the script ({e}): {stdout}"))
}

#[test]
fn in_chromium_the_tree_creates_renames_reorders_moves_filters_and_deletes() {
    let _one = support::app::one_browser_at_a_time();
    let Some((root, node_dir)) = browser_dirs() else { return };
    let d = Device::new("solo");
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("tree.png");
    let url = app.url();
    let shot_s = shot.to_string_lossy().to_string();
    run_browser(&node_dir, &["--mode", "edit", "--url", &url, "--screenshot", &shot_s]);
    assert!(shot.is_file());

    // What the browser did is what the CLI sees.
    let docs = d.json(&["--offline", "ls"]);
    let find = |name: &str| docs.as_array().and_then(|a| a.iter().find(|x| x["fields"]["name"] == name)).cloned();
    let col = find("Orders API").unwrap_or_else(|| panic!("no collection: {docs}"));
    let archive = find("Archive").unwrap_or_else(|| panic!("no folder: {docs}"));
    let list = find("List all orders").unwrap_or_else(|| panic!("the rename was not saved: {docs}"));
    assert_eq!(col["kind"], "collection");
    assert_eq!((&archive["kind"], &archive["parent_id"]), (&json!("folder"), &col["id"]));
    assert_eq!((&list["kind"], &list["parent_id"]), (&json!("request"), &archive["id"]), "dropped into Archive");
    assert!(find("Create order").is_none(), "deleted: {docs}");
    assert!(find("List orders").is_none() && find("Nope").is_none(), "Escape saved nothing: {docs}");
    assert_eq!(docs.as_array().map(Vec::len), Some(3), "{docs}");
}

/// A Postman v2.1 collection of `folders` × `per` requests named
/// `Request 1` … `Request N`.
fn big_collection(folders: usize, per: usize) -> Value {
    let items: Vec<Value> = (0..folders)
        .map(|f| {
            let reqs: Vec<Value> = (1..=per)
                .map(|r| {
                    let n = f * per + r;
                    json!({ "name": format!("Request {n}"), "request": { "method": "GET", "url": format!("https://api.example.com/items/{n}") } })
                })
                .collect();
            json!({ "name": format!("Folder {}", f + 1), "item": reqs })
        })
        .collect();
    json!({
        "info": { "name": "Ten thousand", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" },
        "item": items
    })
}

#[test]
fn in_chromium_a_workspace_of_10000_requests_opens_with_only_the_visible_rows() {
    let _one = support::app::one_browser_at_a_time();
    let Some((root, node_dir)) = browser_dirs() else { return };
    let d = Device::new("solo");
    let file = d.dir.path().join("ten-thousand.postman_collection.json");
    std::fs::write(&file, big_collection(100, 100).to_string()).unwrap();
    d.run(&["--offline", "import", &file.to_string_lossy()]);
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("tree-10k.png");
    let url = app.url();
    let shot_s = shot.to_string_lossy().to_string();
    let figures = run_browser(&node_dir, &["--mode", "big", "--url", &url, "--expect", "10000", "--screenshot", &shot_s]);
    assert!(shot.is_file());
    // Figures, not timed assertions: a loaded machine must not fail the suite.
    let _ = writeln!(std::io::stderr(), "tree of 10,000 requests in Chromium: {figures}");
    assert!(figures["rows_in_dom"].as_u64().is_some_and(|n| n < 200), "{figures}");
}

#[test]
fn in_chromium_workspaces_are_created_renamed_and_deleted_and_a_viewer_reads_only() {
    let _one = support::app::one_browser_at_a_time();
    let Some((root, node_dir)) = browser_dirs() else { return };
    let server = Server::start();
    let ann = Device::new("ann-laptop");
    let bob = Device::new("bob-laptop");
    ann.signup(&server, "ann");
    bob.signup(&server, "bob");
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let app = App::start(&ann);
    let url = app.url();
    let shot = shots.join("workspace-delete.png").to_string_lossy().to_string();
    run_browser(&node_dir, &["--mode", "workspaces", "--url", &url, "--screenshot", &shot]);
    let names = ann.json(&["workspaces"]).to_string();
    assert!(!names.contains("Ops"), "deleted: {names}");

    // Bob is a viewer of Ann's shared workspace.
    ann.json(&["workspace", "create", "Shared API"]);
    ann.create("collection", &["--workspace", "Shared API", "--set", "name=Users"]);
    ann.json(&["team", "create", "Platform"]);
    ann.json(&["team", "invite", "Platform", "bob@example.com", "--role", "viewer"]);
    bob.json(&["team", "accept", "Platform"]);
    ann.json(&["workspace", "share", "Shared API", "--team", "Platform"]);
    ann.run(&["sync"]);
    bob.run(&["sync"]);
    let bob_app = App::start(&bob);
    let url = format!("http://127.0.0.1:{}/?secret={}", bob_app.port, bob_app.secret);
    let shot = shots.join("workspace-viewer.png").to_string_lossy().to_string();
    let seen = run_browser(&node_dir, &["--mode", "viewer", "--url", &url, "--workspace", "Shared API", "--screenshot", &shot]);
    assert!(seen["refusal"].as_str().is_some_and(|t| !t.is_empty()), "the server's refusal is shown: {seen}");
    assert!(bob.json(&["workspaces"]).to_string().contains("Shared API"), "a viewer's delete changed nothing");
}
