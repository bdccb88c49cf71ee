//! Files and the account pages in the app, through the real binary and a
//! real server: import (the CLI's importer, its notes, a bad file refused
//! with nothing changed, a file over the API's 2 MiB), export downloads
//! (a collection validated against the Postman v2.1.0 schema with ajv, an
//! environment, the globals, also while a conflict waits), the Scratch Pad
//! moved after sign-in, the devices (signing another out), password change,
//! forgot / reset / username recovery, account deletion refused in a team,
//! teams (create, invite, accept, role, share, remove); and in Chromium the
//! same from the page (`tests/node/app_account.js`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::app::{App, Reply, browser_ready, one_browser_at_a_time, raw, run_check};
use support::{Device, PASSWORD, Server, eventually, mailed_token};

/// A collection the importer converts with notes: a byte-order mark, and an
/// item that is not an object (skipped).
fn noted_collection(name: &str) -> String {
    let c = json!({
        "info": { "_postman_id": "5c1d0b7e-0000-4000-8000-000000000001", "name": name,
                  "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" },
        "item": [
            { "name": "Users", "item": [
                { "name": "List users", "request": { "method": "GET", "url": "https://api.example.com/users",
                  "header": [{ "key": "Accept", "value": "application/json" }] } }
            ] },
            "not an item"
        ]
    });
    format!("\u{feff}{c}")
}

/// POSTs raw file bytes to the import endpoint, as the page does.
fn import(app: &App, cookie: &str, query: &str, bytes: &str) -> Reply {
    let host = app.host();
    let origin = app.origin();
    raw(app.port, "POST", &format!("/api/import?{query}"), &[("Host", &host), ("Cookie", cookie), ("Origin", &origin)], Some(bytes))
}

fn scratch_pad(app: &App, cookie: &str) -> String {
    let list = app.api(cookie, "GET", "/api/workspaces", None).json();
    list.as_array()
        .and_then(|l| l.iter().find(|w| w["local_only"] == true))
        .and_then(|w| w["id"].as_str())
        .unwrap_or_else(|| panic!("no Scratch Pad in {list}"))
        .to_string()
}

fn names(docs: &Value) -> Vec<String> {
    docs.as_array().into_iter().flatten().filter_map(|d| d["fields"]["name"].as_str().map(String::from)).collect()
}

/// Validates a collection against the v2.1.0 schema with ajv
/// (`tests/node/postman_schema.js`, which check.js uses too); `None` when
/// Node and its packages are not here (said loudly by `browser_ready`).
fn schema_errors(collection: &str) -> Option<String> {
    let root = browser_ready("the v2.1.0 schema check of an export")?;
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), collection).expect("write the export");
    let script = "const {schemaValidator, SCHEMA_V210} = require(process.argv[1]); \
                  const v = schemaValidator(SCHEMA_V210); \
                  const e = v(JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'))); \
                  console.log(e.join('\\n'));";
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(root.join("tests/node/postman_schema.js"))
        .arg(file.path())
        .output()
        .expect("run node");
    assert!(out.status.success(), "the schema check failed to run: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn import_shows_the_importers_notes_refuses_a_bad_file_and_export_downloads_postman_files() {
    // Signed out: the Scratch Pad, no server needed.
    let d = Device::new("solo");
    let app = App::start(&d);
    let cookie = app.cookie();
    let pad = scratch_pad(&app, &cookie);

    let r = import(&app, &cookie, &format!("workspace={pad}&name=users.postman_collection.json"), &noted_collection("Users API"));
    assert_eq!(r.status, 201, "{r:?}");
    let v = r.json();
    assert_eq!(v["written"], 3, "collection, folder, request: {v}");
    let file = &v["files"][0];
    assert_eq!(file["file"], "users.postman_collection.json");
    assert_eq!(file["format"], "Postman collection v2.1");
    let notes: Vec<&str> = file["notes"].as_array().expect("notes").iter().filter_map(Value::as_str).collect();
    assert!(notes.iter().any(|n| n.contains("byte-order mark")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("not an object; skipped")), "{notes:?}");
    let docs = d.json(&["ls"]);
    assert_eq!(names(&docs), ["Users API", "Users", "List users"], "{docs}");
    let col = docs[0]["id"].as_str().expect("id").to_string();

    // Bad files: each a 400 with the file's name and what to know, nothing written.
    for (bytes, code) in [("{ this is not json", "bad_file"), ("{\"hello\": 1}", "bad_file"), ("", "invalid")] {
        let r = import(&app, &cookie, &format!("workspace={pad}&name=broken.json"), bytes);
        assert_eq!(r.status, 400, "{bytes:?}: {r:?}");
        assert_eq!(r.error_code(), code, "{r:?}");
        if !bytes.is_empty() {
            let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
            assert!(message.starts_with("broken.json: ") && message.ends_with("nothing was imported"), "{message}");
        }
    }
    assert_eq!(d.json(&["ls"]), docs, "a refused file changes nothing");
    let r = import(&app, &cookie, "workspace=nope&name=x.json", &noted_collection("X"));
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{r:?}");

    // A file over the API's 2 MiB body limit imports: the route has its own.
    // (Four requests of 800 KB: one field may hold 1 MiB.)
    let part = "x".repeat(800 * 1024);
    let items: Vec<Value> = (0..4)
        .map(|n| json!({ "name": format!("Upload {n}"), "request": { "method": "POST", "url": "https://api.example.com/u", "body": { "mode": "raw", "raw": part } } }))
        .collect();
    let big = json!({ "info": { "name": "Big", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" }, "item": items }).to_string();
    assert!(big.len() > 3 * 1024 * 1024);
    let started = std::time::Instant::now();
    let r = import(&app, &cookie, &format!("workspace={pad}&name=big.json"), &big);
    println!("imported a {:.1} MiB file through the app in {:.2?}", big.len() as f64 / 1048576.0, started.elapsed());
    assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(300)]);
    assert_eq!(r.json()["written"], 5);
    // Over the import limit (256 MiB) by its declared length: refused at once, unread.
    let host = app.host();
    let origin = app.origin();
    let declared = (300u64 * 1024 * 1024).to_string();
    let headers =
        [("Host", host.as_str()), ("Cookie", cookie.as_str()), ("Origin", origin.as_str()), ("Content-Length", declared.as_str())];
    let r = raw(app.port, "POST", &format!("/api/import?workspace={pad}&name=huge.json"), &headers, None);
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_large"), "{r:?}");
    assert!(r.body.contains("256 MiB"), "{r:?}");
    let patch = json!({ "fields": { "description": "y".repeat(3 * 1024 * 1024) } });
    let r = app.api(&cookie, "PATCH", &format!("/api/docs/{col}"), Some(&patch));
    assert_eq!(r.status, 413, "the rest of the API keeps its 2 MiB");

    // Export: the collection as a Postman v2.1.0 download.
    let r = app.api(&cookie, "GET", &format!("/api/export/doc/{col}"), None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-disposition"), Some("attachment; filename=\"Users_API.postman_collection.json\""));
    let exported = r.json();
    assert_eq!(exported["info"]["schema"], "https://schema.getpostman.com/json/collection/v2.1.0/collection.json");
    assert_eq!(exported["item"][0]["item"][0]["request"]["url"], "https://api.example.com/users", "{exported}");
    if let Some(errors) = schema_errors(&r.body) {
        assert_eq!(errors, "", "the export fails the v2.1.0 schema");
    }
    // An environment and the globals.
    let env = d.create("environment", &["--set", "name=Staging"]);
    d.create("variable", &["--parent", &env, "--set", "key=base", "--set", "value=https://staging"]);
    d.create("global", &["--set", "key=token", "--set", "value=abc"]);
    let r = app.api(&cookie, "GET", &format!("/api/export/doc/{env}"), None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["name"], "Staging");
    assert_eq!(r.json()["values"][0]["key"], "base", "{}", r.body);
    let r = app.api(&cookie, "GET", &format!("/api/export/globals/{pad}"), None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["values"][0]["key"], "token", "{}", r.body);
    assert!(r.header("content-disposition").is_some_and(|h| h.contains("globals.postman_globals.json")));
    // A request is exported with its collection; an unknown id is a 404.
    let req = docs[2]["id"].as_str().expect("id");
    let r = app.api(&cookie, "GET", &format!("/api/export/doc/{req}"), None);
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{r:?}");
    let r = app.api(&cookie, "GET", "/api/export/doc/0190f000-0000-7000-8000-000000000000", None);
    assert_eq!(r.status, 404, "{r:?}");
}

#[test]
fn export_works_while_a_conflict_waits_and_the_scratch_pad_moves_after_sign_in() {
    let server = Server::start();
    let d = Device::new("laptop");
    // Signed out: work in the Scratch Pad.
    let col = d.create("collection", &["--set", "name=Drafts"]);
    d.create("request", &["--parent", &col, "--set", "name=Ping", "--set", "url=https://api/ping"]);
    let app = App::start(&d);
    let cookie = app.cookie();
    let pad = scratch_pad(&app, &cookie);
    let r = app.api(&cookie, "POST", "/api/scratchpad/move", Some(&json!({ "workspace": pad })));
    assert_eq!(r.status, 400, "signed out: refused {r:?}");
    assert!(r.json()["error"]["message"].as_str().unwrap_or_default().contains("sign in first"), "{r:?}");

    let r = app.api(
        &cookie,
        "POST",
        "/api/account/signup",
        Some(&json!({ "server": server.url, "email": "ann@example.com", "username": "ann", "password": PASSWORD })),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let list = app.api(&cookie, "GET", "/api/workspaces", None).json();
    let mine = list.as_array().and_then(|l| l.iter().find(|w| w["personal"] == true)).expect("the personal workspace");
    let ws = mine["id"].as_str().expect("id").to_string();
    let r = app.api(&cookie, "POST", "/api/scratchpad/move", Some(&json!({ "workspace": pad })));
    assert_eq!(r.status, 400, "into the Scratch Pad itself: refused {r:?}");
    let r = app.api(&cookie, "POST", "/api/scratchpad/move", Some(&json!({ "workspace": ws })));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["moved"], 2);
    assert_eq!(r.json()["workspace"], ws.as_str());
    let moved = d.json(&["ls", "--workspace", &ws]);
    assert_eq!(names(&moved), ["Drafts", "Ping"], "{moved}");
    let left = app.api(&cookie, "GET", &format!("/api/workspaces/{pad}/docs"), None).json();
    assert_eq!(left.as_array().map(|l| l.iter().filter(|d| d["kind"] != "workspace").count()), Some(0), "{left}");

    // A conflict: the desktop and the laptop edit the same name.
    let moved_col = moved[0]["id"].as_str().expect("id").to_string();
    assert!(eventually(Duration::from_secs(15), || d.status()["pending"] == 0), "the move reaches the server");
    // Stop the app (and its sync) first, so the laptop cannot pull the
    // desktop's edit before making its own.
    drop(app);
    let desk = Device::new("desktop");
    assert!(desk.login(&server, "ann").status.success());
    desk.run(&["set", &moved_col, "name=Theirs"]);
    desk.run(&["sync"]);
    d.run(&["--offline", "set", &moved_col, "name=Mine"]);
    let _ = d.try_run(&["sync"]);
    assert!(d.json(&["conflicts"]).as_array().is_some_and(|c| !c.is_empty()), "a conflict waits");
    let app = App::start(&d);
    let cookie = app.cookie();
    let r = app.api(&cookie, "GET", &format!("/api/export/doc/{moved_col}"), None);
    assert_eq!(r.status, 200, "export while a conflict waits: {r:?}");
    assert_eq!(r.json()["item"][0]["name"], "Ping");
    let r = app.api(&cookie, "GET", "/api/export", None);
    assert_eq!(r.status, 200, "everything while a conflict waits: {}", r.status);
}

#[test]
fn devices_password_recovery_teams_and_account_deletion() {
    let server = Server::start();
    let laptop = Device::new("laptop");
    laptop.signup(&server, "ann");
    let desktop = Device::new("desktop");
    assert!(desktop.login(&server, "ann").status.success());
    let bob = Device::new("bob-pc");
    bob.signup(&server, "bob");
    let app = App::start(&laptop);
    let cookie = app.cookie();
    let post = |path: &str, body: Value| app.api(&cookie, "POST", path, Some(&body));

    // Devices: both listed, this one marked; the desktop signed out from here.
    let r = app.api(&cookie, "GET", "/api/account/devices", None);
    assert_eq!(r.status, 200, "{r:?}");
    let devices = r.json()["devices"].clone();
    assert_eq!(devices.as_array().map(Vec::len), Some(2), "{devices}");
    let this = devices.as_array().and_then(|l| l.iter().find(|d| d["current"] == true)).expect("this device");
    let other = devices.as_array().and_then(|l| l.iter().find(|d| d["current"] == false)).expect("the desktop");
    assert_eq!(other["name"], "desktop");
    let r = post(&format!("/api/account/devices/{}/sign-out", this["id"].as_str().unwrap_or_default()), json!({}));
    assert_eq!(r.status, 400, "not this one: {r:?}");
    let r = post(&format!("/api/account/devices/{}/sign-out", other["id"].as_str().unwrap_or_default()), json!({}));
    assert_eq!(r.status, 200, "{r:?}");
    let after = app.api(&cookie, "GET", "/api/account/devices", None).json();
    assert_eq!(after["devices"].as_array().map(Vec::len), Some(1), "{after}");
    let out = desktop.try_run(&["sync"]);
    assert!(!out.status.success(), "the desktop is signed out");

    // Password change: a wrong current one is the server's 401; then the
    // new one signs in and the old one no longer does.
    let new = "a whole new password";
    let r = post("/api/account/password", json!({ "current": "not it", "new": new }));
    assert_eq!(r.status, 401, "{r:?}");
    let r = post("/api/account/password", json!({ "current": PASSWORD, "new": new }));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(!r.body.contains(new) && !r.body.contains(PASSWORD), "no password echoed");
    let login = |password: &str| {
        desktop
            .cmd(&["login", "--server", &server.url, "--user", "ann", "--device-name", "desktop"])
            .env("APISYNC_PASSWORD", password)
            .output()
            .expect("run apisync")
    };
    assert!(!login(PASSWORD).status.success(), "the old password is refused");
    let out = login(new);
    assert!(out.status.success(), "the new password signs in: {}", support::stderr(&out));

    // Forgot password and username recovery (no session needed), reset with the mailed token.
    let r = post("/api/account/forgot-password", json!({ "server": server.url, "user": "ann" }));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.json()["message"].as_str().is_some_and(|m| !m.is_empty()));
    let token = mailed_token(&server);
    let r = post("/api/account/reset-password", json!({ "server": server.url, "token": "apr_wrong", "password": "x y z w v" }));
    assert!(r.status >= 400, "a wrong token is refused: {r:?}");
    let reset = "the password after reset";
    let r = post("/api/account/reset-password", json!({ "server": server.url, "token": token, "password": reset }));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(login(reset).status.success(), "the reset password signs in");
    let r = post("/api/account/recover-username", json!({ "server": server.url, "email": "ann@example.com" }));
    assert_eq!(r.status, 200, "{r:?}");
    // The reset ended the laptop's session too: sign in again through the app.
    let r = post("/api/account/login", json!({ "server": server.url, "user": "ann", "password": reset }));
    assert_eq!(r.status, 200, "{r:?}");

    // Teams: create, invite bob, he accepts, his role changes, a workspace is shared.
    let r = post("/api/teams", json!({ "name": "Core" }));
    assert_eq!(r.status, 201, "{r:?}");
    let team = r.json()["id"].as_str().expect("team id").to_string();
    let r = post(&format!("/api/teams/{team}/invite"), json!({ "user": "bob", "role": "editor" }));
    assert_eq!(r.status, 200, "{r:?}");
    let r = post(&format!("/api/teams/{team}/invite"), json!({ "user": "bob", "role": "boss" }));
    assert_eq!(r.status, 400, "{r:?}");
    let m = app.api(&cookie, "GET", &format!("/api/teams/{team}/members"), None).json();
    assert_eq!(m["invitations"].as_array().map(Vec::len), Some(1), "{m}");
    // Bob accepts in his own app.
    let bob_app = App::start(&bob);
    let bob_cookie = bob_app.cookie();
    let waiting = bob_app.api(&bob_cookie, "GET", "/api/teams", None).json();
    let invitation = waiting["invitations"][0]["id"].as_str().unwrap_or_else(|| panic!("no invitation for bob: {waiting}")).to_string();
    let r = bob_app.api(&bob_cookie, "POST", &format!("/api/invitations/{invitation}/accept"), Some(&json!({})));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["team"]["name"], "Core");
    let r = post(&format!("/api/teams/{team}/role"), json!({ "user": "bob", "role": "viewer" }));
    assert_eq!(r.status, 200, "{r:?}");
    let m = app.api(&cookie, "GET", &format!("/api/teams/{team}/members"), None).json();
    let roles: Vec<(String, String)> = m["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["user"]["username"].as_str().unwrap_or_default().to_string(), p["role"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert!(roles.contains(&("bob".into(), "viewer".into())), "{roles:?}");
    let r = post("/api/workspaces", json!({ "name": "Shared API" }));
    assert_eq!(r.status, 201, "{r:?}");
    let ws = r.json()["id"].as_str().expect("id").to_string();
    let r = post(&format!("/api/workspaces/{ws}/share"), json!({ "team": team }));
    assert_eq!(r.status, 200, "{r:?}");
    bob.run(&["sync"]);
    let bobs = bob.json(&["workspaces"]);
    assert!(bobs.as_array().is_some_and(|l| l.iter().any(|w| w["id"] == ws.as_str() && w["role"] == "viewer")), "{bobs}");
    let teams = app.api(&cookie, "GET", "/api/teams", None).json();
    assert_eq!(teams["teams"][0]["workspaces"][0], ws.as_str(), "{teams}");

    // The owner lists whom it is shared with; bob (a viewer, not the owner)
    // may not; unsharing takes it off bob's device at his next sync.
    let shares = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/shares"), None).json();
    assert_eq!((&shares["workspace"]["name"], &shares["shares"][0]["name"]), (&json!("Shared API"), &json!("Core")), "{shares}");
    let r = bob_app.api(&bob_cookie, "GET", &format!("/api/workspaces/{ws}/shares"), None);
    assert_eq!(r.status, 403, "{r:?}");
    let r = post(&format!("/api/workspaces/{ws}/unshare"), json!({ "team": "not-an-id" }));
    assert_eq!(r.status, 400, "{r:?}");
    let stranger = model::Id::now_v7().to_string();
    let r = post(&format!("/api/workspaces/{ws}/unshare"), json!({ "team": stranger }));
    assert_eq!(r.status, 404, "a team it is not shared with: {r:?}");
    let r = post(&format!("/api/workspaces/{ws}/unshare"), json!({ "team": team }));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["unshared"]["name"], "Core", "{r:?}");
    let shares = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/shares"), None).json();
    assert_eq!(shares["shares"], json!([]), "{shares}");
    bob.run(&["sync"]);
    let bobs = bob.json(&["workspaces"]);
    assert!(!bobs.to_string().contains(ws.as_str()), "unshared, it left bob's device: {bobs}");
    let r = post(&format!("/api/workspaces/{ws}/share"), json!({ "team": team }));
    assert_eq!(r.status, 200, "shared again for what follows: {r:?}");

    // Account deletion: the username must be typed; refused in a team, with
    // the server's word, and nothing deleted.
    let r = post("/api/account/delete", json!({ "confirm": "bob" }));
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "{r:?}");
    let r = post("/api/account/delete", json!({ "confirm": "ann" }));
    assert_eq!(r.status, 409, "{r:?}");
    let msg = r.json()["error"]["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(msg.contains("team"), "{msg}");
    assert_eq!(laptop.status()["user"], "ann", "still signed in");

    // Bob is taken out; bob's own account (in no team now) deletes.
    let r = post(&format!("/api/teams/{team}/remove"), json!({ "user": "bob" }));
    assert_eq!(r.status, 200, "{r:?}");
    drop(app);
    let r = bob_app.api(&bob_cookie, "POST", "/api/account/delete", Some(&json!({ "confirm": "bob" })));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["status"]["scratch_pad"], true, "{r:?}");
}

#[test]
fn the_page_imports_exports_moves_the_scratch_pad_and_uses_the_account_pages() {
    let Some(root) = browser_ready("the account browser check") else { return };
    let _one = one_browser_at_a_time();
    let server = Server::start();
    // Ann's desktop is signed in already (the page signs its device out);
    // bob is there to be invited.
    let desktop = Device::new("desktop");
    desktop.signup(&server, "ann");
    desktop.run(&["workspace", "create", "Team API"]);
    desktop.run(&["sync"]);
    Device::new("bob-pc").signup(&server, "bob");
    let d = Device::new("laptop");
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let stdout = run_check(
        &root.join("tests/node"),
        "app_account.js",
        ["--url", &app.url(), "--server", &server.url, "--password", PASSWORD, "--shots", shots.to_str().expect("utf-8 path")],
    );
    println!("{stdout}");
    // What the page did, seen from the CLI and the server.
    let status = d.status();
    assert_eq!(status["user"], "ann", "{status}");
    let docs = d.json(&["ls"]);
    assert!(names(&docs).contains(&"Browser Import".to_string()), "the Scratch Pad moved into the personal workspace: {docs}");
    assert!(!desktop.try_run(&["sync"]).status.success(), "the desktop was signed out from the page");
    let teams = d.json(&["team", "list"]);
    assert!(teams.to_string().contains("Page Team"), "{teams}");
    let team_api = d.json(&["workspaces"]);
    let team_api = team_api.as_array().and_then(|l| l.iter().find(|w| w["name"] == "Team API")).expect("Team API here").clone();
    let shares = d.json(&["workspace", "shares", team_api["id"].as_str().unwrap_or_default()]);
    assert!(shares.to_string().contains("Page Team"), "shared from the page: {shares}");
    assert!(!shares.to_string().contains("Other Team"), "unshared from the page: {shares}");
    assert!(d.json(&["team", "list"]).to_string().contains("Other Team"), "the team itself stays");
    let out = desktop
        .cmd(&["login", "--server", &server.url, "--user", "ann", "--device-name", "desktop"])
        .env("APISYNC_PASSWORD", "the page's new password")
        .output()
        .expect("run apisync");
    assert!(out.status.success(), "the password set on the page signs in: {}", support::stderr(&out));
    for shot in ["import.png", "account-devices.png", "teams.png", "scratch-pad-move.png", "unshare-confirm.png", "unshared.png"] {
        assert!(Path::new(&shots.join(shot)).is_file(), "no {shot}");
    }
}
