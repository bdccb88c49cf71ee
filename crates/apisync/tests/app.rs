//! `apisync app` through the real binary: the secret exchanged for a cookie,
//! the Host, Origin and cookie checks, the app API over the same profile the
//! CLI uses, the live channel, and bounded bodies. Requests are written by
//! hand so each test controls every header (Host, Origin, Cookie).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use support::app::{App, raw};

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{Device, PASSWORD, Server, eventually};

#[test]
fn the_secret_is_exchanged_for_a_strict_http_only_cookie_and_dropped_from_the_address() {
    let d = Device::new("desk");
    let app = App::start(&d);
    assert_eq!(app.secret.len(), 64, "a 32-byte secret in hex");
    let r = app.send("GET", &format!("/?secret={}", app.secret), &[], None);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"), "the redirect drops the secret from the address bar");
    let set = r.header("set-cookie").expect("cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    assert!(!set.contains(&app.secret), "the cookie is not the printed secret");
    let cookie = app.cookie();
    let page = app.send("GET", "/", &[("Cookie", &cookie)], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"sync\""), "the page: {}", page.body);
    assert!(page.header("content-security-policy").is_some_and(|c| c.contains("script-src 'self'")));
    let js = app.send("GET", "/app.js", &[("Cookie", &cookie)], None);
    assert_eq!(js.status, 200);
    assert!(js.header("content-type").is_some_and(|c| c.starts_with("text/javascript")));
}

#[test]
fn a_wrong_secret_or_no_cookie_is_refused_with_a_json_403() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let wrong = app.send("GET", "/?secret=0000", &[], None);
    assert_eq!(wrong.status, 403);
    assert!(wrong.header("set-cookie").is_none());
    assert_eq!(wrong.error_code(), "no_session");
    for path in ["/api/status", "/api/workspaces", "/api/events", "/", "/app.js"] {
        let r = app.send("GET", path, &[], None);
        assert_eq!(r.status, 403, "{path}: {r:?}");
        assert_eq!(r.error_code(), "no_session", "{path}");
    }
    let forged = app.send("GET", "/api/status", &[("Cookie", &format!("apisync_app_{}=forged", app.port))], None);
    assert_eq!(forged.status, 403);
}

#[test]
fn a_foreign_host_is_refused_against_dns_rebinding() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let cookie = app.cookie();
    for host in ["evil.example:80".to_string(), format!("evil.example:{}", app.port), "127.0.0.1:1".to_string()] {
        let r = raw(app.port, "GET", "/api/status", &[("Host", &host), ("Cookie", &cookie)], None);
        assert_eq!(r.status, 403, "{host}");
        assert_eq!(r.error_code(), "bad_host");
        // Nor can a rebinding page pick up the secret's cookie.
        let r = raw(app.port, "GET", &format!("/?secret={}", app.secret), &[("Host", &host)], None);
        assert_eq!(r.status, 403, "{host}");
    }
    let local = format!("localhost:{}", app.port);
    let r = raw(app.port, "GET", "/api/status", &[("Host", &local), ("Cookie", &cookie)], None);
    assert_eq!(r.status, 200, "localhost:PORT is the app's own name");
}

#[test]
fn a_cross_origin_change_is_refused_against_csrf() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let cookie = app.cookie();
    let body = json!({ "kind": "collection", "fields": { "name": "Forged" } });
    let evil = app.send("POST", "/api/docs", &[("Cookie", &cookie), ("Origin", "http://evil.example")], Some(&body));
    assert_eq!(evil.status, 403);
    assert_eq!(evil.error_code(), "bad_origin");
    let none = app.send("POST", "/api/docs", &[("Cookie", &cookie)], Some(&body));
    assert_eq!(none.status, 403, "a change without Origin did not come from the page");
    assert_eq!(none.error_code(), "missing_origin");
    let live = app.send("GET", "/api/events", &[("Cookie", &cookie), ("Origin", "http://evil.example")], None);
    assert_eq!(live.status, 403, "the live channel refuses other sites too");
    assert!(d.docs().as_array().is_some_and(|a| a.is_empty()), "nothing was created: {}", d.docs());
}

#[test]
fn a_document_created_in_the_app_is_listed_by_the_cli_on_the_same_profile_and_back() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let cookie = app.cookie();
    let hostile = "<img src=x onerror=alert(1)>";
    let r = app.api(&cookie, "POST", "/api/docs", Some(&json!({ "kind": "collection", "fields": { "name": hostile } })));
    assert_eq!(r.status, 201, "{r:?}");
    let col = r.json()["id"].as_str().expect("id").to_string();
    let r = app.api(
        &cookie,
        "POST",
        "/api/docs",
        Some(&json!({ "kind": "request", "parent": col, "fields": { "name": "Get", "method": "GET", "url": "https://example.com" } })),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let req = r.json()["id"].as_str().expect("id").to_string();

    let listed = d.docs();
    let names: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|doc| doc["fields"]["name"].as_str()).collect();
    assert_eq!(names, [hostile, "Get"], "the CLI sees the app's edits: {listed}");

    let r = app.api(&cookie, "PATCH", &format!("/api/docs/{req}"), Some(&json!({ "fields": { "url": "https://example.org" } })));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(d.json(&["show", &req])["fields"]["url"], "https://example.org");

    // And the other way: the CLI's edit is what the app reads.
    d.run(&["set", &req, "name=Renamed"]);
    let got = app.api(&cookie, "GET", &format!("/api/docs/{req}"), None).json();
    assert_eq!(got["fields"]["name"], "Renamed");

    let ws = app.api(&cookie, "GET", "/api/workspaces", None).json();
    let pad = ws.as_array().unwrap().iter().find(|w| w["local_only"] == true).expect("the scratch pad, signed out");
    let tree = app.api(&cookie, "GET", &format!("/api/workspaces/{}/docs", pad["id"].as_str().unwrap()), None).json();
    assert_eq!(tree.as_array().map(Vec::len), Some(2), "{tree}");

    let r = app.api(&cookie, "DELETE", &format!("/api/docs/{col}"), None);
    assert_eq!(r.status, 200);
    assert!(d.docs().as_array().is_some_and(|a| a.is_empty()), "deleted with its request");
    let gone = app.api(&cookie, "GET", &format!("/api/docs/{req}"), None);
    assert_eq!(gone.status, 404);
    assert_eq!(gone.error_code(), "not_found");
}

#[test]
fn the_status_is_the_one_the_cli_prints() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let cookie = app.cookie();
    let s = app.api(&cookie, "GET", "/api/status", None).json();
    let cli = d.json(&["status", "--cached"]);
    for key in ["state", "reason", "pending", "conflicts", "user", "device", "device_id", "server", "scratch_pad"] {
        assert_eq!(s[key], cli[key], "{key}: app {s} vs CLI {cli}");
    }
    assert_eq!(s["state"], "offline");
    assert_eq!(s["scratch_pad"], true);
    assert_eq!(s["watching"], true, "the app keeps the profile synced (it waits for a sign-in)");
}

#[test]
fn bad_input_gets_json_errors_and_bodies_are_bounded() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let cookie = app.cookie();
    let r = app.api(&cookie, "POST", "/api/docs", Some(&json!({ "kind": "spaceship" })));
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "invalid");
    let r = app.api(&cookie, "GET", "/api/docs/not-an-id", None);
    assert_eq!(r.status, 400);
    let r = app.api(&cookie, "GET", "/api/nothing-here", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "not_found");
    let huge = json!({ "kind": "collection", "fields": { "name": "x".repeat(3 * 1024 * 1024) } });
    let r = app.api(&cookie, "POST", "/api/docs", Some(&huge));
    assert_eq!(r.status, 413, "{:?}", r.status);
    assert_eq!(r.error_code(), "too_large");
}

#[test]
fn the_live_channel_sends_the_status_then_a_change_made_by_the_cli() {
    let d = Device::new("desk");
    let app = App::start(&d);
    let cookie = app.cookie();
    let mut s = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    write!(s, "GET /api/events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\r\n", app.host()).unwrap();
    let mut seen = String::new();
    let read_until = |s: &mut TcpStream, want: &str, seen: &mut String| {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        while !seen.contains(want) && Instant::now() < deadline {
            if let Ok(n) = s.read(&mut buf) {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        seen.contains(want)
    };
    assert!(read_until(&mut s, "event: status", &mut seen), "a status at once: {seen}");
    assert!(seen.contains("text/event-stream"), "{seen}");
    seen.clear();
    d.create("collection", &["--set", "name=From the CLI"]);
    assert!(read_until(&mut s, "event: changed", &mut seen), "the CLI's edit is announced: {seen}");
}

#[test]
fn in_chromium_the_sync_icon_has_a_label_and_a_hostile_title_is_text() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's browser test") else { return };
    let node_dir = root.join("tests/node");
    let d = Device::new("desk");
    let hostile = "<img src=x onerror=alert(1)>";
    let col = d.create("collection", &["--set", &format!("name={hostile}")]);
    d.create("request", &["--parent", &col, "--set", "name=List users", "--set", "method=GET", "--set", "url=https://example.com/users"]);
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("signed-out-offline.png");
    let url = app.url();
    let shot_arg = shot.to_string_lossy();
    let out = support::app::run_check(&node_dir, "app_browser.js", ["--url", &url, "--expect-title", hostile, "--screenshot", &shot_arg]);
    let seen: Value = serde_json::from_str(&out).expect("the check's JSON line");
    assert_eq!(seen["label"], "Offline", "signed out, the icon says Offline: {seen}");
    assert!(shot.is_file());
}

/// The live channel of an app, read as it arrives.
struct Events {
    stream: TcpStream,
    seen: String,
}

impl Events {
    fn open(app: &App, cookie: &str) -> Events {
        let mut stream = TcpStream::connect(("127.0.0.1", app.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        write!(stream, "GET /api/events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\n\r\n", app.host()).unwrap();
        Events { stream, seen: String::new() }
    }

    /// Reads until `want` arrives (true) or `limit` passes; what was read
    /// before it is dropped, so the next wait sees only newer events.
    fn wait_for(&mut self, want: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Some(at) = self.seen.find(want) {
                self.seen.drain(..at + want.len());
                return true;
            }
            if let Ok(n) = self.stream.read(&mut buf) {
                self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        false
    }
}

/// Waits up to `limit` for the app's status to satisfy `f`; the last one seen.
fn status_until(app: &App, cookie: &str, limit: Duration, f: impl Fn(&Value) -> bool) -> (bool, Value) {
    let mut last = Value::Null;
    let ok = eventually(limit, || {
        last = app.api(cookie, "GET", "/api/status", None).json();
        f(&last)
    });
    (ok, last)
}

fn names_in(app: &App, cookie: &str, ws: &str) -> Vec<String> {
    let docs = app.api(cookie, "GET", &format!("/api/workspaces/{ws}/docs"), None).json();
    docs.as_array().into_iter().flatten().filter_map(|d| d["fields"]["name"].as_str().map(str::to_string)).collect()
}

#[test]
fn signed_in_through_the_app_it_syncs_live_goes_offline_with_the_server_and_shows_a_revocation() {
    let mut server = Server::start();
    let desktop = Device::new("desktop");
    desktop.signup(&server, "ann");
    let d = Device::new("app");
    let app = App::start(&d);
    let cookie = app.cookie();

    let wrong = json!({ "server": server.url, "user": "ann", "password": "not the password" });
    let r = app.api(&cookie, "POST", "/api/account/login", Some(&wrong));
    assert_eq!(r.status, 401, "{r:?}");
    assert!(!r.body.contains("not the password"), "a password is never echoed: {}", r.body);

    let login = json!({ "server": server.url, "user": "ann", "password": PASSWORD });
    let r = app.api(&cookie, "POST", "/api/account/login", Some(&login));
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    assert_eq!(v["user"]["username"], "ann", "{v}");
    assert_eq!(v["status"]["state"], "in_sync", "{v}");
    assert!(!r.body.contains(PASSWORD));

    let ws = app.api(&cookie, "GET", "/api/workspaces", None).json();
    let personal = ws.as_array().unwrap().iter().find(|w| w["personal"] == true).unwrap_or_else(|| panic!("no personal workspace: {ws}"));
    let personal = personal["id"].as_str().unwrap().to_string();

    // Another device's document arrives through the background sync and is
    // announced on the live channel, with no reload and no manual sync.
    let mut events = Events::open(&app, &cookie);
    assert!(events.wait_for("event: status", Duration::from_secs(10)));
    let (ok, s) = status_until(&app, &cookie, Duration::from_secs(20), |s| s["watching"] == true && s["state"] == "in_sync");
    assert!(ok, "the app's background sync never went live: {s}");
    desktop.create("collection", &["--set", "name=From the desktop"]);
    assert!(events.wait_for("event: changed", Duration::from_secs(20)), "no `changed` event: {}", events.seen);
    assert!(
        eventually(Duration::from_secs(20), || names_in(&app, &cookie, &personal).contains(&"From the desktop".to_string())),
        "the desktop's document never reached the app: {:?}",
        names_in(&app, &cookie, &personal)
    );

    server.kill();
    let (ok, s) = status_until(&app, &cookie, Duration::from_secs(60), |s| {
        s["state"] == "offline" && s["reason"].as_str().is_some_and(|r| r.contains("unreachable"))
    });
    assert!(ok, "with the server gone the app is not offline/unreachable: {s}");
    assert!(events.wait_for("\"state\":\"offline\"", Duration::from_secs(10)), "the live channel did not say offline: {}", events.seen);

    server.restart();
    let (ok, s) = status_until(&app, &cookie, Duration::from_secs(60), |s| s["state"] == "in_sync");
    assert!(ok, "back in sync after the restart: {s}");

    let app_id = s["device_id"].as_str().expect("device id").to_string();
    desktop.run(&["devices", "sign-out", &app_id]);
    let (ok, s) = status_until(&app, &cookie, Duration::from_secs(60), |s| s["state"] == "error");
    assert!(ok, "a revoked app is not in error: {s}");
    assert!(s["reason"].as_str().is_some_and(|r| r.contains("signed out")), "the reason says why: {s}");
    assert!(events.wait_for("\"state\":\"error\"", Duration::from_secs(10)), "the live channel did not say error: {}", events.seen);

    // Signing in again from the app delivers and returns to in sync.
    let r = app.api(&cookie, "POST", "/api/account/login", Some(&login));
    assert_eq!(r.status, 200, "{r:?}");
    let (ok, s) = status_until(&app, &cookie, Duration::from_secs(30), |s| s["state"] == "in_sync");
    assert!(ok, "{s}");
}

#[test]
fn signing_out_in_the_app_is_refused_while_changes_wait_and_offers_the_export() {
    let mut server = Server::start();
    let d = Device::new("app");
    let app = App::start(&d);
    let cookie = app.cookie();
    let signup = json!({ "server": server.url, "email": "bea@example.com", "username": "bea", "password": PASSWORD });
    let r = app.api(&cookie, "POST", "/api/account/signup", Some(&signup));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["user"]["username"], "bea");
    let missing = app.api(
        &cookie,
        "POST",
        "/api/account/signup",
        Some(&json!({ "server": server.url, "email": "", "username": "x", "password": "" })),
    );
    assert_eq!(missing.status, 400);

    server.kill();
    let r = app.api(&cookie, "POST", "/api/docs", Some(&json!({ "kind": "collection", "fields": { "name": "Unsent" } })));
    assert_eq!(r.status, 201, "{r:?}");
    let r = app.api(&cookie, "POST", "/api/account/logout", Some(&json!({})));
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.error_code(), "unsynced_changes");
    let v = r.json();
    assert_eq!(v["error"]["pending"], 1, "{v}");
    assert_eq!(v["error"]["export"], "/api/export", "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("export")), "{v}");

    let dump = app.api(&cookie, "GET", "/api/export", None);
    assert_eq!(dump.status, 200, "{dump:?}");
    assert!(dump.header("content-disposition").is_some_and(|c| c.starts_with("attachment") && c.contains(".json")), "{dump:?}");
    let body = dump.json();
    assert!(body.to_string().contains("Unsent"), "the export holds the unsent work: {body}");
    assert!(body["collections"].is_array(), "the `export --all` dump: {body}");

    server.restart();
    let (ok, s) = status_until(&app, &cookie, Duration::from_secs(60), |s| s["pending"] == 0 && s["state"] == "in_sync");
    assert!(ok, "the outbox was delivered: {s}");
    let r = app.api(&cookie, "POST", "/api/account/logout", Some(&json!({})));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["status"]["scratch_pad"], true);
    let ws = app.api(&cookie, "GET", "/api/workspaces", None).json();
    assert!(ws.as_array().is_some_and(|l| l.iter().all(|w| w["local_only"] == true) && !l.is_empty()), "only the Scratch Pad: {ws}");
}

#[test]
fn a_sign_in_at_the_device_limit_lists_the_devices_and_frees_a_slot() {
    let server = Server::start();
    let (one, two, three) = (Device::new("one"), Device::new("two"), Device::new("three"));
    one.signup(&server, "cy");
    assert!(two.login(&server, "cy").status.success());
    assert!(three.login(&server, "cy").status.success());
    let d = Device::new("app");
    let app = App::start(&d);
    let cookie = app.cookie();
    let login = json!({ "server": server.url, "user": "cy", "password": PASSWORD });
    let r = app.api(&cookie, "POST", "/api/account/login", Some(&login));
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.error_code(), "device_limit");
    let v = r.json();
    let devices = v["error"]["devices"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = devices.iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!(names.len(), 3, "{v}");
    for n in ["one", "two", "three"] {
        assert!(names.contains(&n), "{n} is listed: {v}");
    }
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("sign-out")), "{v}");
    let two_id = devices.iter().find(|d| d["name"] == "two").and_then(|d| d["id"].as_str()).unwrap().to_string();
    let mut replace = login.clone();
    replace["replace"] = json!(two_id);
    let r = app.api(&cookie, "POST", "/api/account/login", Some(&replace));
    assert_eq!(r.status, 200, "the freed slot is the app's: {r:?}");
    assert_eq!(two.status()["state"], "error", "the replaced device learns it was signed out");
}

#[test]
fn in_chromium_the_sync_icon_follows_a_real_server_through_offline_in_sync_and_error() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's browser test") else { return };
    let node_dir = root.join("tests/node");
    let mut server = Server::start();
    let desktop = Device::new("desktop");
    desktop.signup(&server, "ann");
    // Two more devices fill the account, so the app meets the device limit.
    for name in ["laptop", "phone"] {
        assert!(Device::new(name).login(&server, "ann").status.success());
    }
    let d = Device::new("app");
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let url = app.url();
    let mut node = Command::new("node");
    node.arg(node_dir.join("app_states.js"))
        .args([
            "--url",
            &url,
            "--server",
            &server.url,
            "--user",
            "ann",
            "--password-env",
            "APP_TEST_PASSWORD",
            "--replace",
            "phone",
            "--shots",
        ])
        .arg(&shots)
        .env("APP_TEST_PASSWORD", PASSWORD);
    let (status, summary) = support::app::run_steps(node, |step| match step {
        "signed-in" => {
            desktop.create("collection", &["--set", "name=From the desktop"]);
        }
        "kill" => server.kill(),
        "restart" => server.restart(),
        "revoke" => {
            let id = d.json(&["status", "--cached"])["device_id"].as_str().expect("the app's device id").to_string();
            desktop.run(&["devices", "sign-out", &id]);
        }
        other => panic!("unknown step {other}"),
    });
    assert!(status.success(), "browser check failed: {summary:#}");
    let seen = &summary["seen"];
    let text = |state: &str, key: &str| seen[state][key].as_str().unwrap_or_default().to_string();
    for (state, label, says) in [
        ("signed_out", "Offline", "signed out"),
        ("in_sync", "In sync", "Signed in as ann"),
        ("offline", "Offline", "unreachable"),
        ("in_sync_again", "In sync", "Last synced"),
        ("error", "Error", "signed out"),
        ("signed_out_again", "Offline", "signed out"),
    ] {
        assert_eq!(text(state, "label"), label, "{state}: {seen:#}");
        assert!(text(state, "aria").contains(label), "{state}: the icon's name says {label}: {seen:#}");
        for how in ["hover", "focus"] {
            assert!(text(state, how).contains(says), "{state} on {how} says {says:?}: {seen:#}");
            assert!(text(state, how).contains("Last synced"), "{state} on {how}: {seen:#}");
        }
    }
    assert!(!text("in_sync", "hover").contains("Last synced: never"), "{seen:#}");
    assert!(seen["banner"].as_str().is_some_and(|b| b.contains("Scratch Pad")), "{seen:#}");
    assert!(seen["export_name"].as_str().is_some_and(|n| n.starts_with("apisync-export-") && n.ends_with(".json")), "{seen:#}");
    for name in [
        "sign-in.png",
        "device-limit.png",
        "in-sync.png",
        "offline-unreachable.png",
        "sign-out-refused.png",
        "error-revoked.png",
        "signed-out-scratch-pad.png",
    ] {
        assert!(shots.join(name).is_file(), "{name} was written");
    }
}
