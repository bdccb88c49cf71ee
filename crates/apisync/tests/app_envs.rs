//! The app's environments, globals, header presets, history and runs,
//! through the real binary: variables with initial (synced) and current
//! (device-local) values, secrets masked unless revealed, the active
//! environment kept on the device across app restarts, history and runs
//! newest first with their per-request outcomes; and in Chromium
//! (`tests/node/app_envs.js`) every page used by keyboard and mouse.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::app::App;
use support::{Device, Server, eventually};

const MASK: &str = "••••••";

/// The id of the workspace the app shows first: the personal one, else the Scratch Pad.
fn first_workspace(app: &App, cookie: &str) -> String {
    let list = app.api(cookie, "GET", "/api/workspaces", None).json();
    let pick = |f: &dyn Fn(&Value) -> bool| list.as_array().and_then(|a| a.iter().find(|w| f(w))).and_then(|w| w["id"].as_str());
    pick(&|w| w["personal"] == true)
        .or_else(|| pick(&|w| w["local_only"] == true))
        .unwrap_or_else(|| panic!("no workspace in {list}"))
        .to_string()
}

fn created(r: &support::app::Reply) -> String {
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["id"].as_str().unwrap_or_else(|| panic!("no id: {r:?}")).to_string()
}

/// The variable `key` in an environments answer (an environment's or a global).
fn var<'a>(envs: &'a Value, key: &str) -> &'a Value {
    let in_envs = envs["environments"].as_array().into_iter().flatten().flat_map(|e| e["variables"].as_array().into_iter().flatten());
    in_envs
        .chain(envs["globals"].as_array().into_iter().flatten())
        .find(|v| v["key"] == key)
        .unwrap_or_else(|| panic!("no variable {key} in {envs}"))
}

#[test]
fn current_values_stay_on_the_device_and_secrets_show_only_when_revealed() {
    let server = Server::start();
    let (laptop, desktop) = support::two_devices(&server);
    let app = App::start(&laptop);
    let cookie = app.cookie();
    let ws = first_workspace(&app, &cookie);

    let env = created(&app.api(
        &cookie,
        "POST",
        "/api/docs",
        Some(&json!({ "kind": "environment", "workspace": ws, "fields": { "name": "Staging" } })),
    ));
    let host = created(&app.api(
        &cookie,
        "POST",
        "/api/docs",
        Some(&json!({ "kind": "variable", "parent": env, "fields": { "key": "host", "value": "https://staging.example.com", "current": "http://localhost:8080" } })),
    ));
    let token = created(&app.api(
        &cookie,
        "POST",
        "/api/docs",
        Some(&json!({ "kind": "variable", "parent": env, "fields": { "key": "token", "value": "initial-s3cret", "type": "secret", "current": "current-s3cret" } })),
    ));
    let global = created(&app.api(
        &cookie,
        "POST",
        "/api/docs",
        Some(&json!({ "kind": "global", "workspace": ws, "fields": { "key": "api_key", "value": "g-initial", "type": "secret" } })),
    ));

    // Masked by default, both values of a secret; the plain one shows both.
    let listed = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/environments"), None);
    assert_eq!(listed.status, 200, "{listed:?}");
    assert!(!listed.body.contains("s3cret") && !listed.body.contains("g-initial"), "a secret leaked: {}", listed.body);
    let envs = listed.json();
    assert_eq!(envs["environments"][0]["name"], "Staging");
    assert_eq!(envs["active"], Value::Null);
    let t = var(&envs, "token");
    assert_eq!((&t["value"], &t["current"], &t["secret"], &t["masked"]), (&json!(MASK), &json!(MASK), &json!(true), &json!(true)));
    let h = var(&envs, "host");
    assert_eq!(
        (&h["value"], &h["current"], &h["masked"]),
        (&json!("https://staging.example.com"), &json!("http://localhost:8080"), &json!(false))
    );
    assert_eq!((&var(&envs, "api_key")["value"], &var(&envs, "api_key")["current"]), (&json!(MASK), &Value::Null), "no current value yet");

    // One row revealed on request; the whole list only with ?reveal=true.
    let one = app.api(&cookie, "GET", &format!("/api/variables/{token}"), None).json();
    assert_eq!(one["value"], MASK);
    let one = app.api(&cookie, "GET", &format!("/api/variables/{token}?reveal=true"), None).json();
    assert_eq!((&one["value"], &one["current"], &one["masked"]), (&json!("initial-s3cret"), &json!("current-s3cret"), &json!(false)));
    let all = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/environments?reveal=true"), None).json();
    assert_eq!(var(&all, "api_key")["value"], "g-initial");
    let not_var = app.api(&cookie, "GET", &format!("/api/variables/{env}"), None);
    assert_eq!((not_var.status, not_var.error_code().as_str()), (400, "invalid"), "an environment is not a variable");

    // Setting only a current value queues nothing: it is no edit of the document.
    assert!(eventually(Duration::from_secs(20), || laptop.status()["pending"] == 0), "the app's sync pushed the creations");
    for (id, v) in [(&host, "http://127.0.0.1:9000"), (&token, "laptop-only-s3cret"), (&global, "laptop-global")] {
        let r = app.api(&cookie, "PATCH", &format!("/api/docs/{id}"), Some(&json!({ "fields": { "current": v } })));
        assert_eq!(r.status, 200, "{r:?}");
    }
    assert_eq!(laptop.status()["pending"], 0, "a current value is never queued to sync");
    let shown = laptop.json(&["show", &token, "--reveal"]);
    assert_eq!((&shown["fields"]["value"], &shown["current"]), (&json!("initial-s3cret"), &json!("laptop-only-s3cret")));
    // An initial value is an edit, and syncs.
    let r =
        app.api(&cookie, "PATCH", &format!("/api/docs/{host}"), Some(&json!({ "fields": { "value": "https://staging2.example.com" } })));
    assert_eq!(r.status, 200, "{r:?}");

    // The other device gets the variables and their initial values, never this device's current ones.
    let synced = eventually(Duration::from_secs(30), || {
        desktop.run(&["sync"]);
        desktop.try_run(&["show", &host]).status.success()
            && desktop.json(&["show", &host])["fields"]["value"] == "https://staging2.example.com"
    });
    assert!(synced, "the desktop never got the variables");
    for (id, initial) in [(&host, "https://staging2.example.com"), (&token, "initial-s3cret"), (&global, "g-initial")] {
        let there = desktop.json(&["show", id, "--reveal"]);
        assert_eq!(there["fields"]["value"], initial, "{there}");
        assert_eq!(there["current"], Value::Null, "a current value crossed to another device: {there}");
        assert!(
            !there.to_string().contains("laptop-")
                && !there.to_string().contains("current-s3cret")
                && !there.to_string().contains("127.0.0.1:9000")
        );
    }

    // The active environment is this device's too: the desktop's app has none.
    let r = app.api(&cookie, "PUT", &format!("/api/workspaces/{ws}/active-environment"), Some(&json!({ "environment": env })));
    assert_eq!((r.status, &r.json()["environment"]), (200, &json!(env)), "{r:?}");
    let desk_app = App::start(&desktop);
    let desk_cookie = desk_app.cookie();
    let there = desk_app.api(&desk_cookie, "GET", &format!("/api/workspaces/{ws}/active-environment"), None);
    assert_eq!((there.status, &there.json()["environment"]), (200, &Value::Null), "{there:?}");
}

#[test]
fn a_viewer_sets_current_values_and_the_active_environment_but_changes_nothing_synced() {
    let server = Server::start();
    let ann = Device::new("ann-laptop");
    let bob = Device::new("bob-laptop");
    ann.signup(&server, "ann");
    bob.signup(&server, "bob");
    ann.run(&["workspace", "create", "Shared API"]);
    let env = ann.create("environment", &["--workspace", "Shared API", "--set", "name=Staging"]);
    let host = ann.create("variable", &["--parent", &env, "--set", "key=host", "--set", "value=https://staging.example.com"]);
    ann.json(&["team", "create", "Platform"]);
    ann.json(&["team", "invite", "Platform", "bob@example.com", "--role", "viewer"]);
    bob.json(&["team", "accept", "Platform"]);
    ann.json(&["workspace", "share", "Shared API", "--team", "Platform"]);
    ann.run(&["sync"]);
    bob.run(&["sync"]);

    let app = App::start(&bob);
    let cookie = app.cookie();
    let list = app.api(&cookie, "GET", "/api/workspaces", None).json();
    let ws =
        list.as_array().and_then(|a| a.iter().find(|w| w["name"] == "Shared API")).cloned().unwrap_or_else(|| panic!("not shared: {list}"));
    assert_eq!(ws["role"], "viewer");
    let ws = ws["id"].as_str().expect("id").to_string();
    let r = app.api(&cookie, "PATCH", &format!("/api/docs/{host}"), Some(&json!({ "fields": { "current": "http://localhost:1" } })));
    assert_eq!(r.status, 200, "a current value is the viewer's own: {r:?}");
    let r = app.api(&cookie, "PATCH", &format!("/api/docs/{host}"), Some(&json!({ "fields": { "value": "https://mine" } })));
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"), "an initial value is the workspace's: {r:?}");
    let r = app.api(&cookie, "POST", "/api/docs", Some(&json!({ "kind": "variable", "parent": env, "fields": { "key": "x" } })));
    assert_eq!(r.status, 400, "{r:?}");
    let r = app.api(&cookie, "PUT", &format!("/api/workspaces/{ws}/active-environment"), Some(&json!({ "environment": env })));
    assert_eq!(r.status, 200, "choosing the active environment is the viewer's own: {r:?}");
    let envs = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/environments"), None).json();
    let h = var(&envs, "host");
    assert_eq!(
        (&h["value"], &h["current"], &envs["active"]),
        (&json!("https://staging.example.com"), &json!("http://localhost:1"), &json!(env))
    );
    assert_eq!(bob.status()["pending"], 0, "nothing of the viewer's waits to be sent");
}

#[test]
fn the_active_environment_is_kept_across_app_restarts_and_refusals_change_nothing() {
    let d = Device::new("solo");
    let staging = d.create("environment", &["--set", "name=Staging"]);
    let prod = d.create("environment", &["--set", "name=Production"]);
    let col = d.create("collection", &["--set", "name=Users"]);
    let ws = {
        let app = App::start(&d);
        let cookie = app.cookie();
        let ws = first_workspace(&app, &cookie);
        let path = format!("/api/workspaces/{ws}/active-environment");
        let r = app.api(&cookie, "GET", &path, None);
        assert_eq!((r.status, &r.json()["environment"]), (200, &Value::Null), "{r:?}");
        let r = app.api(&cookie, "PUT", &path, Some(&json!({ "environment": staging })));
        assert_eq!((r.status, &r.json()["environment"]), (200, &json!(staging)), "{r:?}");

        let refused = [
            (app.api(&cookie, "PUT", &path, Some(&json!({ "environment": col }))), 400),
            (app.api(&cookie, "PUT", &path, Some(&json!({ "environment": "0190b5d2-0000-7000-8000-000000000000" }))), 404),
            (app.api(&cookie, "PUT", &path, Some(&json!({ "env": prod }))), 422),
            (
                app.api(
                    &cookie,
                    "PUT",
                    "/api/workspaces/0190b5d2-0000-7000-8000-000000000000/active-environment",
                    Some(&json!({ "environment": prod })),
                ),
                404,
            ),
            (app.api(&cookie, "PUT", "/api/workspaces/nope/active-environment", Some(&json!({ "environment": prod }))), 400),
            // A change without the page's Origin is refused by the guard.
            (app.send("PUT", &path, &[("Cookie", &cookie)], Some(&json!({ "environment": prod }))), 403),
        ];
        for (r, status) in &refused {
            assert_eq!(r.status, *status, "{r:?}");
            r.error_code();
        }
        let envs = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/environments"), None).json();
        assert_eq!(envs["active"], json!(staging), "refusals changed the choice: {envs}");
        let names: Vec<&str> = envs["environments"].as_array().into_iter().flatten().filter_map(|e| e["name"].as_str()).collect();
        assert_eq!(names, ["Staging", "Production"]);
        ws
    };

    // A new app process on the same profile keeps the choice.
    let app = App::start(&d);
    let cookie = app.cookie();
    let path = format!("/api/workspaces/{ws}/active-environment");
    assert_eq!(app.api(&cookie, "GET", &path, None).json()["environment"], json!(staging), "lost across a restart");
    let r = app.api(&cookie, "PUT", &path, Some(&json!({ "environment": prod })));
    assert_eq!(r.json()["environment"], json!(prod));
    // Deleting the active environment leaves none active.
    let r = app.api(&cookie, "DELETE", &format!("/api/docs/{prod}"), None);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(app.api(&cookie, "GET", &path, None).json()["environment"], Value::Null);
    let r = app.api(&cookie, "PUT", &path, Some(&json!({ "environment": null })));
    assert_eq!((r.status, &r.json()["environment"]), (200, &Value::Null), "{r:?}");
}

/// A newman report of a run with one failing test, started at `started` (Unix ms).
fn failing_report(started: i64) -> Value {
    json!({
        "collection": { "info": { "name": "Orders smoke" } },
        "run": {
            "stats": { "requests": { "total": 2, "failed": 0 }, "assertions": { "total": 3, "failed": 1 } },
            "timings": { "started": started, "completed": started + 300 },
            "failures": [],
            "executions": [
                {
                    "item": { "id": "a", "name": "List orders" },
                    "request": { "method": "GET", "url": "https://api.example.com/orders" },
                    "response": { "code": 200, "status": "OK", "responseTime": 42 },
                    "assertions": [ { "assertion": "status is 200" }, { "assertion": "has 3 orders", "error": { "message": "expected 2 to equal 3" } } ]
                },
                {
                    "item": { "id": "b", "name": "Create order" },
                    "request": { "method": "POST", "url": "https://api.example.com/orders" },
                    "response": { "code": 201, "status": "Created", "responseTime": 80 },
                    "assertions": [ { "assertion": "status is 201" } ]
                }
            ]
        }
    })
}

/// Fills a signed-out profile with what the list and browser tests look at:
/// header presets, two newman runs (an old passing one and a newer failing
/// one) with their history, and history entries of their own times.
fn records(d: &Device) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman/newman/sample-collection-report.json");
    d.run(&["import", root.to_str().expect("path")]);
    let report = d.dir.path().join("orders-report.json");
    std::fs::write(&report, failing_report(1_767_225_600_000).to_string()).expect("write the report");
    d.run(&["import", report.to_str().expect("path")]);
    d.create(
        "history",
        &[
            "--set",
            "method=DELETE",
            "--set",
            "url=https://api.example.com/orders/7",
            "--set",
            "code=204",
            "--set",
            "at=2027-03-01T09:30:00Z",
        ],
    );
    d.create(
        "history",
        &[
            "--set",
            "method=PUT",
            "--set",
            "url=https://api.example.com/orders/7",
            "--set",
            "code=500",
            "--set",
            "at=2015-06-01T00:00:00+01:00",
        ],
    );
    d.create("header-preset", &["--set", "name=JSON", "--set", r#"headers=[{"key":"Accept","value":"application/json"},{"key":"Content-Type","value":"application/json","description":"kept"}]"#]);
}

#[test]
fn history_and_runs_are_listed_newest_first_with_each_requests_outcome() {
    let d = Device::new("solo");
    records(&d);
    let app = App::start(&d);
    let cookie = app.cookie();
    let ws = first_workspace(&app, &cookie);

    let history = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/history"), None).json();
    let list = history.as_array().expect("a list");
    assert_eq!(list.len(), 3 + 2 + 2, "{history}");
    let times: Vec<i64> = list.iter().map(|h| h["at_ms"].as_i64().expect("at_ms")).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first: {times:?}");
    assert_eq!((&list[0]["method"], &list[0]["code"]), (&json!("DELETE"), &json!(204)), "{}", list[0]);
    assert_eq!(list[0]["at_ms"], 1_803_893_400_000_i64);
    let last = &list[list.len() - 1];
    assert_eq!((&last["method"], &last["at_ms"]), (&json!("PUT"), &json!(1_433_113_200_000_i64)), "a zone offset counts: {last}");
    let create = list.iter().find(|h| h["name"] == "Create order").expect("the run's history");
    assert_eq!(
        (&create["status"], &create["response_time"], &create["url"]),
        (&json!("Created"), &json!(80), &json!("https://api.example.com/orders"))
    );

    let runs = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/runs"), None).json();
    let runs = runs.as_array().expect("a list");
    assert_eq!(runs.len(), 2);
    let (newer, older) = (&runs[0], &runs[1]);
    assert_eq!(newer["name"], "Orders smoke", "newest first");
    assert_eq!(
        (&newer["requests"], &newer["failed_requests"], &newer["tests_passed"], &newer["tests_failed"]),
        (&json!(2), &json!(1), &json!(2), &json!(1))
    );
    let first = &newer["results"][0];
    assert_eq!(
        (&first["name"], &first["code"], &first["status"], &first["passed"]),
        (&json!("List orders"), &json!(200), &json!("OK"), &json!(false))
    );
    assert_eq!(first["tests"][1], json!({ "name": "has 3 orders", "passed": false, "skipped": false, "error": "expected 2 to equal 3" }));
    assert_eq!(newer["results"][1]["passed"], true);
    assert_eq!((&older["requests"], &older["failed_requests"], &older["tests_failed"]), (&json!(3), &json!(0), &json!(0)), "{older}");
    assert_eq!(older["results"][0]["name"], "A simple GET request");

    let presets = app.api(&cookie, "GET", &format!("/api/workspaces/{ws}/header-presets"), None).json();
    assert_eq!(presets[0]["fields"]["name"], "JSON", "{presets}");
    assert_eq!(presets[0]["fields"]["headers"][1]["key"], "Content-Type");
    for path in ["history", "runs", "header-presets", "environments"] {
        let r = app.api(&cookie, "GET", &format!("/api/workspaces/not-an-id/{path}"), None);
        assert_eq!(r.status, 400, "{path}: {r:?}");
        let r = app.api(&cookie, "GET", &format!("/api/workspaces/0190b5d2-0000-7000-8000-000000000000/{path}"), None);
        assert_eq!(r.status, 404, "{path}: {r:?}");
    }
}

#[test]
fn every_page_in_chromium_by_keyboard_and_mouse() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's environments browser test") else { return };
    let node_dir = root.join("tests/node");
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");

    let d = Device::new("solo");
    records(&d);
    let staging = d.create("environment", &["--set", "name=Staging"]);
    d.create(
        "variable",
        &[
            "--parent",
            &staging,
            "--set",
            "key=host",
            "--set",
            "value=https://staging.example.com",
            "--set",
            "current=http://localhost:8080",
        ],
    );
    let token =
        d.create("variable", &["--parent", &staging, "--set", "key=token", "--set", "value=initial-s3cret", "--set", "type=secret"]);
    d.run(&["set", &token, "current=current-s3cret"]);
    d.create("variable", &["--parent", &staging, "--set", "key=old", "--set", "value=remove me"]);
    d.create("global", &["--set", "key=tenant", "--set", "value=acme"]);
    let app = App::start(&d);
    let out = support::app::run_check(&node_dir, "app_envs.js", ["--url", &app.url(), "--shots", shots.to_str().expect("path")]);
    eprintln!("{out}");

    // What the browser did is what the CLI sees on the same profile.
    let docs = d.docs();
    let of = |kind: &str| -> Vec<Value> { docs.as_array().into_iter().flatten().filter(|x| x["kind"] == kind).cloned().collect() };
    let env_names: Vec<Value> = of("environment").iter().map(|e| e["fields"]["name"].clone()).collect();
    assert_eq!(env_names, [json!("Staging")], "Production was made, renamed and deleted");
    let vars = of("variable");
    let by_key = |k: &str| vars.iter().find(|v| v["fields"]["key"] == k).cloned();
    assert!(by_key("old").is_none(), "the deleted variable is gone");
    let host = by_key("host").expect("host");
    assert_eq!(host["fields"]["value"], "https://staging.example.com", "the initial value is untouched");
    assert_eq!(host["fields"]["enabled"], false, "disabled with its checkbox");
    assert_eq!(host["fields"]["description"], "Where the API lives", "described in the app");
    let token_doc = vars.iter().find(|v| v["id"] == token.as_str()).expect("token");
    assert_eq!(token_doc["fields"]["enabled"], true, "disabled, then enabled again");
    let host_id = host["id"].as_str().expect("id");
    assert_eq!(d.json(&["show", host_id])["current"], "http://127.0.0.1:3000", "the current value typed in the app");
    let region = by_key("region").expect("the variable added in the app");
    assert_eq!(region["fields"]["value"], "eu-west-1");
    let region_id = region["id"].as_str().expect("id");
    assert_eq!(d.json(&["show", region_id])["current"], "eu-north-1", "typed as eu-central-1, then set by a request the page did not make");
    let shown = d.json(&["show", &token, "--reveal"]);
    assert_eq!(shown["current"], "edited-s3cret", "the revealed secret's current value was edited");
    let globals = of("global");
    let secret_global = globals.iter().find(|g| g["fields"]["key"] == "api_key").expect("the global added in the app");
    assert_eq!((&secret_global["fields"]["type"], &secret_global["fields"]["value"]), (&json!("secret"), &json!(MASK)), "ls masks it");
    assert_eq!(
        (&secret_global["fields"]["description"], &secret_global["fields"]["enabled"]),
        (&json!("The tenant's API key"), &json!(true)),
        "made with a description, enabled"
    );
    let presets = of("header-preset");
    let made = presets.iter().find(|p| p["fields"]["name"] == "Auth").expect("the preset made in the app");
    assert_eq!(made["fields"]["headers"], json!([{ "key": "Authorization", "value": "Bearer {{token}}" }]));
    let json_preset = presets.iter().find(|p| p["fields"]["name"] == "JSON").expect("JSON");
    assert_eq!(
        json_preset["fields"]["headers"],
        json!([{ "key": "Content-Type", "value": "application/json; charset=utf-8", "description": "kept" }]),
        "one header deleted, one edited with its other keys kept"
    );
    let app_ws = {
        let cookie = app.cookie();
        first_workspace(&app, &cookie)
    };
    let cookie = app.cookie();
    let active = app.api(&cookie, "GET", &format!("/api/workspaces/{app_ws}/active-environment"), None).json();
    assert_eq!(active["environment"], json!(staging), "chosen with the header's picker");
    for name in ["environments", "globals", "header-presets", "history", "runs"] {
        let p = shots.join(format!("{name}.png"));
        assert!(std::fs::metadata(&p).map(|m| m.len() > 10_000).unwrap_or(false), "no screenshot {}", p.display());
    }
}
