//! The web version `apisync serve` hosts at `/`: the app API over the
//! server for a browser whose session is one of the account's devices;
//! its cookie and CSRF rules; the account, team and export pages; import
//! (the CLI's importer, written as pushes); the device limit; two server
//! processes on PostgreSQL; and, in Chromium, two browsers of one account.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use support::app::{App, Reply, browser_ready, raw};
use support::{Device, PASSWORD, Server};

/// A browser's side of the web version: its cookie, sent with the
/// server's own Host and Origin, as the page's `fetch` sends it.
struct Browser {
    port: u16,
    cookie: Option<String>,
}

fn port_of(server: &Server) -> u16 {
    server.addr.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the server's port")
}

impl Browser {
    fn new(server: &Server) -> Browser {
        Browser { port: port_of(server), cookie: None }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn call(&mut self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let (host, origin) = (self.host(), format!("http://{}", self.host()));
        let mut h: Vec<(&str, &str)> = vec![("Host", &host)];
        if method != "GET" {
            h.push(("Origin", &origin));
        }
        let cookie = self.cookie.clone().unwrap_or_default();
        if self.cookie.is_some() {
            h.push(("Cookie", &cookie));
        }
        let r = raw(self.port, method, path, &h, body.map(|b| b.to_string()).as_deref());
        if let Some(set) = r.header("set-cookie") {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        r
    }

    fn ok(&mut self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let r = self.call(method, path, body);
        assert!((200..300).contains(&r.status), "{method} {path}: {r:?}");
        r.json()
    }

    fn login(&mut self, user: &str) -> Reply {
        self.call("POST", "/api/account/login", Some(&json!({ "user": user, "password": PASSWORD })))
    }

    fn docs(&mut self, ws: &str) -> Vec<Value> {
        self.ok("GET", &format!("/api/workspaces/{ws}/docs"), None).as_array().cloned().unwrap_or_default()
    }

    fn personal(&mut self) -> String {
        let list = self.ok("GET", "/api/workspaces", None);
        list.as_array()
            .and_then(|l| l.iter().find(|w| w["personal"] == true))
            .and_then(|w| w["id"].as_str())
            .expect("a personal workspace")
            .to_string()
    }
}

#[test]
fn the_web_version_is_the_app_api_over_the_server() {
    let server = Server::start();
    let mut web = Browser::new(&server);

    // The page itself, with the app's strict CSP.
    let page = web.call("GET", "/", None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>apisync</title>"), "{page:?}");
    assert!(page.header("content-security-policy").is_some_and(|c| c.contains("script-src 'self'")));

    // Signed out: the status says so; documents need a session.
    let st = web.ok("GET", "/api/status", None);
    assert_eq!((st["web"].as_bool(), st["state"].as_str(), st["scratch_pad"].as_bool()), (Some(true), Some("offline"), Some(true)));
    assert_eq!(web.call("GET", "/api/docs/00000000-0000-0000-0000-000000000000", None).status, 401);

    // Sign-up: the cookie holds the session, HttpOnly and SameSite=Strict;
    // no Secure over plain http.
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let set = r.header("set-cookie").expect("a session cookie").to_string();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Secure"), "{set}");
    assert!(!r.body.contains(set.split(';').next().unwrap().split('=').nth(1).unwrap()), "the token never reaches the page: {r:?}");
    assert_eq!(web.ok("GET", "/api/status", None)["state"], "in_sync");
    // Mirroring to a folder is the desktop app's: the server never writes to a typed path.
    assert_eq!(web.call("GET", "/api/mirrors", None).status, 404);
    assert_eq!(web.call("POST", "/api/mirrors", Some(&json!({"workspace": "My Workspace", "dir": "/tmp/x"}))).status, 404);
    assert_eq!(web.call("POST", "/api/mirrors/stop", Some(&json!({"dir": "/tmp/x"}))).status, 404);
    assert!(web.ok("GET", "/api/status", None).get("mirrors").is_none(), "the web status has no mirrors");

    // Edits are pushes: a CLI device of the account sees them, and the web
    // sees the CLI's, secrets masked.
    let ws = web.personal();
    let col = web.ok("POST", "/api/docs", Some(&json!({"kind": "collection", "fields": {"name": "From the web"}})))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let req = web.ok(
        "POST",
        "/api/docs",
        Some(&json!({"kind": "request", "parent": col, "fields": {"name": "Get", "method": "GET", "url": "https://example.com"}})),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    web.ok("PATCH", &format!("/api/docs/{req}"), Some(&json!({"fields": {"method": "POST"}})));
    let laptop = Device::new("laptop");
    assert!(laptop.login(&server, "ann").status.success());
    let seen = laptop.json(&["show", &req]);
    assert_eq!(seen["fields"]["method"], "POST", "{seen}");
    let env = laptop.create("environment", &["--set", "name=Prod"]);
    laptop.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=s3cret", "--set", "type=secret"]);
    laptop.run(&["sync"]);
    let docs = web.docs(&ws);
    let var = docs.iter().find(|d| d["fields"]["key"] == "token").expect("the laptop's variable");
    assert_ne!(var["fields"]["value"], "s3cret", "a secret is masked: {var}");
    assert!(!web.call("GET", &format!("/api/workspaces/{ws}/docs"), None).body.contains("s3cret"));

    // Duplicate, move, delete: the tree order the CLI shows.
    let copy = web.call("POST", &format!("/api/docs/{req}/duplicate"), Some(&json!({})));
    assert_eq!(copy.status, 201, "{copy:?}");
    let copy_id = copy.json()["id"].as_str().unwrap().to_string();
    web.ok("POST", &format!("/api/docs/{copy_id}/move"), Some(&json!({"before": req})));
    let names: Vec<String> = web
        .docs(&ws)
        .iter()
        .filter(|d| d["kind"] == "request")
        .map(|d| d["fields"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, ["Get Copy", "Get"]);
    assert_eq!(
        web.call("POST", &format!("/api/docs/{col}/move"), Some(&json!({"parent": req}))).status,
        400,
        "a collection under a request"
    );
    web.ok("DELETE", &format!("/api/docs/{copy_id}"), None);
    laptop.run(&["sync"]);
    let on_laptop: Vec<Value> = laptop.docs().as_array().cloned().unwrap_or_default();
    assert!(!on_laptop.iter().any(|d| d["id"] == copy_id.as_str()), "the delete reached the laptop");

    // Workspaces: create, a duplicate name refused, rename, delete.
    let team = web.call("POST", "/api/workspaces", Some(&json!({"name": "Team"})));
    assert_eq!(team.status, 201, "{team:?}");
    let team = team.json()["id"].as_str().unwrap().to_string();
    assert_eq!(web.call("POST", "/api/workspaces", Some(&json!({"name": " team "}))).status, 400);
    web.ok("PATCH", &format!("/api/workspaces/{team}"), Some(&json!({"name": "Renamed"})));
    assert!(web.ok("GET", "/api/workspaces", None).as_array().unwrap().iter().any(|w| w["name"] == "Renamed"));
    web.ok("DELETE", &format!("/api/workspaces/{team}"), None);
    assert!(!web.ok("GET", "/api/workspaces", None).as_array().unwrap().iter().any(|w| w["id"] == team.as_str()));

    // CSRF: a change without Origin, or from another site, is refused.
    let cookie = web.cookie.clone().unwrap();
    let host = web.host();
    let body = json!({"fields": {"method": "DELETE"}}).to_string();
    let path = format!("/api/docs/{req}");
    for headers in [
        vec![("Host", host.as_str()), ("Cookie", cookie.as_str())],
        vec![("Host", host.as_str()), ("Cookie", cookie.as_str()), ("Origin", "http://evil.example")],
    ] {
        let r = raw(web.port, "PATCH", &path, &headers, Some(&body));
        assert_eq!((r.status, r.error_code()), (403, "forbidden".to_string()), "{r:?}");
    }
    let r = raw(web.port, "GET", "/api/status", &[("Host", &host), ("Cookie", &cookie), ("Sec-Fetch-Site", "cross-site")], None);
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(laptop.json(&["show", &req])["fields"]["method"], "POST", "nothing changed");

    // Over TLS (the page's origin is https) the cookie is also Secure.
    let https = format!("https://{host}");
    let r = raw(
        web.port,
        "POST",
        "/api/account/login",
        &[("Host", &host), ("Origin", &https)],
        Some(&json!({"user": "ann", "password": PASSWORD}).to_string()),
    );
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("; Secure")), "{r:?}");
    let tls_cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let r = raw(web.port, "POST", "/api/account/logout", &[("Host", &host), ("Origin", &https), ("Cookie", &tls_cookie)], Some("{}"));
    assert_eq!(r.status, 200, "{r:?}");

    // Sign-out frees the device and clears the cookie.
    let r = web.call("POST", "/api/account/logout", Some(&json!({})));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")), "{r:?}");
    assert_eq!(web.ok("GET", "/api/status", None)["scratch_pad"], true);
    let devices = laptop.json(&["devices"]);
    let devices = devices.as_array().or_else(|| devices["devices"].as_array()).cloned().unwrap_or_default();
    assert_eq!(devices.len(), 1, "only the laptop is left: {devices:?}");
}

#[test]
fn a_browser_is_one_of_the_three_devices() {
    let server = Server::start();
    let (a, b) = (Device::new("a"), Device::new("b"));
    a.signup(&server, "ann");
    assert!(b.login(&server, "ann").status.success());
    let mut one = Browser::new(&server);
    assert_eq!(one.login("ann").status, 200);

    // A fourth device, another browser, is refused with the list of devices.
    let mut two = Browser::new(&server);
    let r = two.login("ann");
    assert_eq!((r.status, r.error_code()), (409, "device_limit".to_string()), "{r:?}");
    let listed = r.json()["error"]["details"]["devices"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 3, "{r:?}");
    assert!(listed.iter().any(|d| d["name"].as_str().is_some_and(|n| n.starts_with("Web"))), "{listed:?}");
    assert!(two.cookie.is_none());

    // `replace` signs one out to make room; the other browser hears it.
    let victim = listed.iter().find(|d| d["name"] == "a").and_then(|d| d["id"].as_str()).unwrap().to_string();
    let r = two.call("POST", "/api/account/login", Some(&json!({"user": "ann", "password": PASSWORD, "replace": victim})));
    assert_eq!(r.status, 200, "{r:?}");
    let st = a.try_run(&["sync"]);
    assert!(!st.status.success(), "the replaced device was signed out");

    // Signing the web device out from the CLI ends its session: the status says why.
    let devices = b.json(&["devices"]);
    let devices = devices.as_array().or_else(|| devices["devices"].as_array()).cloned().unwrap_or_default();
    let web_one = devices.iter().find(|d| d["name"].as_str().is_some_and(|n| n.starts_with("Web")) && d["current"] != true).unwrap();
    b.run(&["devices", "sign-out", web_one["id"].as_str().unwrap()]);
    let st = one.ok("GET", "/api/status", None);
    let st2 = two.ok("GET", "/api/status", None);
    let ended = [&st, &st2].into_iter().find(|s| s["state"] == "error").unwrap_or_else(|| panic!("one browser was signed out: {st} {st2}"));
    assert!(ended["reason"].as_str().is_some_and(|r| r.contains("signed out") && !r.contains("apisync login")), "{ended}");
}

/// The `id` of a 201 answer.
fn made(r: &Reply) -> String {
    assert_eq!(r.status, 201, "{r:?}");
    r.json()["id"].as_str().expect("an id").to_string()
}

#[test]
fn the_web_version_serves_the_environment_and_record_pages_as_the_desktop_app_does() {
    let server = Server::start();
    let mut web = Browser::new(&server);
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let ws = web.personal();

    // An environment with a secret and a plain variable, a secret global, a
    // header preset, two history entries and a run, all made on the web.
    let env = made(&web.call("POST", "/api/docs", Some(&json!({"kind": "environment", "fields": {"name": "Prod"}}))));
    let token = made(&web.call(
        "POST",
        "/api/docs",
        Some(&json!({"kind": "variable", "parent": env, "fields": {"key": "token", "value": "s3cret", "type": "secret"}})),
    ));
    made(&web.call(
        "POST",
        "/api/docs",
        Some(&json!({"kind": "variable", "parent": env, "fields": {"key": "host", "value": "example.com"}})),
    ));
    made(&web.call(
        "POST",
        "/api/docs",
        Some(&json!({"kind": "global", "fields": {"key": "api_key", "value": "g-s3cret", "type": "secret"}})),
    ));
    let preset = made(&web.call(
        "POST",
        "/api/docs",
        Some(&json!({"kind": "header_preset", "fields": {"name": "JSON", "headers": [{"key": "Accept", "value": "application/json"}]}})),
    ));
    for (url, at) in [("https://example.com/old", "2024-01-01T00:00:00Z"), ("https://example.com/new", "2024-06-01T12:00:00+02:00")] {
        made(&web.call(
            "POST",
            "/api/docs",
            Some(&json!({"kind": "history", "fields": {"method": "GET", "url": url, "at": at, "response": {"code": 200, "status": "OK"}}})),
        ));
    }
    let results = json!([
        {"item": {"name": "List"}, "code": 200, "status": "OK", "responseTime": 12, "assertions": [{"assertion": "is 200"}]},
        {"name": "Create", "responseCode": {"code": 500, "name": "Internal Server Error"}, "tests": {"is 201": false}}
    ]);
    made(&web.call(
        "POST",
        "/api/docs",
        Some(&json!({"kind": "run", "fields": {"name": "Nightly", "started_at": 1_700_000_000_000_i64, "results": results}})),
    ));

    // Environments: masked, no current values, no active environment.
    let envs = web.ok("GET", &format!("/api/workspaces/{ws}/environments"), None);
    let vars = envs["environments"][0]["variables"].as_array().cloned().unwrap_or_default();
    assert_eq!((envs["active"].clone(), envs["environments"][0]["name"].clone(), vars.len()), (Value::Null, json!("Prod"), 2), "{envs}");
    let secret = vars.iter().find(|v| v["key"] == "token").expect("the secret");
    assert_eq!((&secret["masked"], &secret["secret"], &secret["current"]), (&json!(true), &json!(true), &Value::Null), "{secret}");
    assert_eq!(envs["globals"][0]["masked"], true, "{envs}");
    for path in [format!("/api/workspaces/{ws}/environments"), format!("/api/variables/{token}"), format!("/api/workspaces/{ws}/docs")] {
        let body = web.call("GET", &path, None).body;
        assert!(!body.contains("s3cret"), "{path} never sends a secret unasked: {body}");
    }
    // Revealed only when asked, to the signed-in account, and never cached.
    let shown = web.call("GET", &format!("/api/variables/{token}?reveal=true"), None);
    assert_eq!(
        (shown.status, shown.json()["value"].clone(), shown.json()["masked"].clone()),
        (200, json!("s3cret"), json!(false)),
        "{shown:?}"
    );
    assert_eq!(shown.header("cache-control"), Some("no-store"));
    let all = web.ok("GET", &format!("/api/workspaces/{ws}/environments?reveal=true"), None);
    assert_eq!(all["globals"][0]["value"], "g-s3cret", "{all}");
    let mut stranger = Browser::new(&server);
    assert_eq!(stranger.call("GET", &format!("/api/variables/{token}?reveal=true"), None).status, 401);
    let r =
        stranger.call("POST", "/api/account/signup", Some(&json!({"email": "bob@example.com", "username": "bob", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let theirs = stranger.call("GET", &format!("/api/variables/{token}?reveal=true"), None);
    assert_eq!(theirs.status, 404, "another account's secret is not found: {theirs:?}");
    assert!(!theirs.body.contains("s3cret"));
    assert_eq!(stranger.call("GET", &format!("/api/workspaces/{ws}/environments"), None).status, 404);
    assert_eq!(web.call("GET", &format!("/api/variables/{preset}"), None).status, 400, "a preset is no variable");

    // A browser has no current values and no active environment: said plainly.
    let r = web.call("PATCH", &format!("/api/docs/{token}"), Some(&json!({"fields": {"current": "mine"}})));
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(web.ok("GET", &format!("/api/workspaces/{ws}/active-environment"), None), json!({"environment": null}));
    let r = web.call("PUT", &format!("/api/workspaces/{ws}/active-environment"), Some(&json!({"environment": env})));
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.json()["error"]["message"].as_str().is_some_and(|m| m.contains("desktop app")), "{r:?}");

    // Presets, history and runs, as the desktop app on a device of the same
    // account answers them (the same `model` functions build both).
    let laptop = Device::new("laptop");
    assert!(laptop.login(&server, "ann").status.success());
    laptop.run(&["sync"]);
    let app = App::start(&laptop);
    let cookie = app.cookie();
    for list in ["header-presets", "history", "runs", "environments", "environments?reveal=true"] {
        let path = format!("/api/workspaces/{ws}/{list}");
        let desktop = app.api(&cookie, "GET", &path, None);
        assert_eq!(desktop.status, 200, "{desktop:?}");
        assert_eq!(web.ok("GET", &path, None), desktop.json(), "{list}: the web answers as the desktop app");
    }
    let history = web.ok("GET", &format!("/api/workspaces/{ws}/history"), None);
    assert_eq!(history[0]["url"], "https://example.com/new", "newest first: {history}");
    let runs = web.ok("GET", &format!("/api/workspaces/{ws}/runs"), None);
    assert_eq!((&runs[0]["requests"], &runs[0]["failed_requests"], &runs[0]["tests_passed"]), (&json!(2), &json!(1), &json!(1)), "{runs}");
    assert_eq!(web.ok("GET", &format!("/api/workspaces/{ws}/header-presets"), None)[0]["id"], preset.as_str());
}

#[test]
fn the_web_version_has_the_devices_and_password_pages() {
    let server = Server::start();
    let mut web = Browser::new(&server);
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let (laptop, phone) = (Device::new("laptop"), Device::new("phone"));
    assert!(laptop.login(&server, "ann").status.success());
    assert!(phone.login(&server, "ann").status.success());

    // The devices, this browser marked current; it cannot sign itself out here.
    let list = web.ok("GET", "/api/account/devices", None)["devices"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 3, "{list:?}");
    let me = list.iter().find(|d| d["current"] == true).expect("this browser");
    assert!(me["name"].as_str().is_some_and(|n| n.starts_with("Web")) && me["last_seen_at"].as_i64().is_some(), "{me}");
    let r = web.call("POST", &format!("/api/account/devices/{}/sign-out", me["id"].as_str().unwrap()), Some(&json!({})));
    assert_eq!(r.status, 400, "{r:?}");
    let phone_id = list.iter().find(|d| d["name"] == "phone").and_then(|d| d["id"].as_str()).unwrap().to_string();
    assert_eq!(web.ok("POST", &format!("/api/account/devices/{phone_id}/sign-out"), Some(&json!({}))), json!({"signed_out": phone_id}));
    assert!(!phone.try_run(&["sync"]).status.success(), "the phone was signed out");
    assert_eq!(web.ok("GET", "/api/account/devices", None)["devices"].as_array().map(Vec::len), Some(2));
    assert_eq!(web.call("POST", "/api/account/devices/not-an-id/sign-out", Some(&json!({}))).status, 400);

    // The password: a wrong current one and an empty new one change nothing.
    let new = "another long passphrase 42";
    let r = web.call("POST", "/api/account/password", Some(&json!({"current": "wrong password!", "new": new})));
    assert_eq!((r.status, r.error_code()), (401, "invalid_credentials".to_string()), "{r:?}");
    assert_eq!(web.call("POST", "/api/account/password", Some(&json!({"current": PASSWORD, "new": " "}))).status, 400);
    assert!(laptop.try_run(&["sync"]).status.success(), "nothing changed yet");
    // Changed: the laptop is signed out, this browser stays signed in, and
    // the new password is the one that works.
    assert_eq!(web.ok("POST", "/api/account/password", Some(&json!({"current": PASSWORD, "new": new}))), json!({"changed": true}));
    assert_eq!(web.ok("GET", "/api/status", None)["state"], "in_sync");
    assert!(!laptop.try_run(&["sync"]).status.success(), "the other device signs in again");
    let mut other = Browser::new(&server);
    assert_eq!(other.login("ann").status, 401, "the old password no longer works");
    let r = other.call("POST", "/api/account/login", Some(&json!({"user": "ann", "password": new})));
    assert_eq!(r.status, 200, "{r:?}");

    // Signed out, none of it answers.
    let mut nobody = Browser::new(&server);
    assert_eq!(nobody.call("GET", "/api/account/devices", None).status, 401);
    assert_eq!(nobody.call("POST", "/api/account/password", Some(&json!({"current": new, "new": PASSWORD}))).status, 401);
}

#[test]
fn the_web_version_pages_in_a_browser() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = browser_ready("the web version's pages in a browser") else { return };
    let server = Server::start();
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    // A CLI device of the account makes the environment the page shows.
    let desktop = Device::new("desktop");
    desktop.signup(&server, "ann");
    let env = desktop.create("environment", &["--set", "name=Prod"]);
    desktop.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=s3cret", "--set", "type=secret"]);
    desktop.create("variable", &["--parent", &env, "--set", "key=host", "--set", "value=example.com"]);
    desktop.run(&["sync"]);
    // Bob is there to be invited to the team the page makes.
    let bob = Device::new("bob-pc");
    bob.signup(&server, "bob");
    let new_password = "a brand new passphrase 7";
    let out = Command::new("node")
        .arg(root.join("tests/node/web_pages.js"))
        .args(["--url", &format!("http://{}/", server.addr), "--user", "ann"])
        .args(["--password-env", "WEB_TEST_PASSWORD", "--new-password-env", "WEB_TEST_NEW_PASSWORD", "--shots"])
        .arg(&shots)
        .env("WEB_TEST_PASSWORD", PASSWORD)
        .env("WEB_TEST_NEW_PASSWORD", new_password)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "browser check failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("web pages: {}", stdout.trim());
    for name in
        ["web-environments.png", "web-environment-flags.png", "web-account.png", "web-teams.png", "web-export.png", "web-import.png"]
    {
        assert!(shots.join(name).is_file(), "{name} was written");
    }
    // The page changed the password: the CLI device must sign in again.
    assert!(!desktop.try_run(&["sync"]).status.success(), "the desktop was signed out by the change");
    // The team the page made, with bob invited.
    let waiting = bob.json(&["team", "invitations"]);
    assert!(waiting.as_array().is_some_and(|l| l.iter().any(|i| i["team_name"] == "Core")), "{waiting}");
    // Signed in again, the CLI device has host disabled and described.
    let out = desktop
        .cmd(&["login", "--server", &server.url, "--user", "ann", "--device-name", "desktop"])
        .env("APISYNC_PASSWORD", new_password)
        .output()
        .expect("run apisync");
    assert!(out.status.success(), "{}", support::stderr(&out));
    let docs = desktop.docs();
    let host = docs.as_array().into_iter().flatten().find(|d| d["fields"]["key"] == "host").expect("host").clone();
    assert_eq!((&host["fields"]["enabled"], &host["fields"]["description"]), (&json!(false), &json!("The API's host")), "{host}");
}

#[test]
fn a_signed_out_browser_recovers_the_password_and_the_username() {
    let server = Server::start();
    let mut ann = Browser::new(&server);
    let r = ann.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");

    // Signed out: a token by mail; the answer is the same for no such account.
    let mut web = Browser::new(&server);
    let known = web.ok("POST", "/api/account/forgot-password", Some(&json!({"user": "ann"})));
    let unknown = web.ok("POST", "/api/account/forgot-password", Some(&json!({"user": "nobody"})));
    assert_eq!(known, unknown, "nothing tells whether an account exists");
    assert!(known["message"].as_str().is_some_and(|m| !m.is_empty()), "{known}");
    assert_eq!(web.call("POST", "/api/account/forgot-password", Some(&json!({"user": " "}))).status, 400);
    let token = support::mailed_token(&server);

    // A wrong token changes nothing; the mailed one sets the password, and
    // every session of the account, this other browser's included, ends.
    let r = web.call("POST", "/api/account/reset-password", Some(&json!({"token": "apr_wrong", "password": "x y z w v u"})));
    assert!((400..500).contains(&r.status), "{r:?}");
    assert_eq!(ann.ok("GET", "/api/status", None)["state"], "in_sync");
    let reset = "the password after the reset";
    let r = web.call("POST", "/api/account/reset-password", Some(&json!({"token": token, "password": reset})));
    assert_eq!((r.status, r.json()), (200, json!({"reset": true})), "{r:?}");
    assert!(!r.body.contains(&token) && !r.body.contains(reset), "no answer repeats a token or password");
    assert_ne!(ann.ok("GET", "/api/status", None)["state"], "in_sync", "the reset ended the other session");
    let r = web.call("POST", "/api/account/login", Some(&json!({"user": "ann", "password": reset})));
    assert_eq!(r.status, 200, "the new password signs in: {r:?}");

    // The username by mail; the desktop app's `server` is accepted and not needed.
    let r =
        web.ok("POST", "/api/account/recover-username", Some(&json!({"server": "https://elsewhere.example", "email": "ann@example.com"})));
    assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
    assert_eq!(web.call("POST", "/api/account/recover-username", Some(&json!({"email": "ann@example.com", "extra": 1}))).status, 400);
}

/// Reads the live channel until a `changed` event naming `ws` arrives.
fn changed_within(port: u16, cookie: &str, ws: &str, act: impl FnOnce()) -> Duration {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    write!(s, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    // Past the greeting (`status`, then `changed` with no workspace).
    let mut line = String::new();
    let mut greeted = false;
    while !greeted {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "the live channel closed");
        greeted = line.starts_with("event: changed");
    }
    let start = Instant::now();
    act();
    loop {
        line.clear();
        assert!(r.read_line(&mut line).unwrap_or(0) > 0, "no change arrived on the live channel");
        if line.trim() == format!("data: {ws}") {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(15), "no change within 15 s");
    }
}

#[test]
fn the_web_version_works_behind_two_processes_on_postgres() {
    let Ok(url) = std::env::var("APISYNC_TEST_DATABASE_URL") else {
        eprintln!(
            "SKIPPED: the web version on two processes — set APISYNC_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(scratchdb::TestDb::create(&url)).unwrap();
    let (one, two) = (Server::start_on_postgres(&db.url), Server::start_on_postgres(&db.url));

    // Signed up through process one; the same cookie works on process two,
    // as it must behind a load balancer with no session affinity.
    let mut on_one = Browser::new(&one);
    let r = on_one.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let cookie = on_one.cookie.clone().unwrap();
    let mut on_two = Browser { port: port_of(&two), cookie: Some(cookie.clone()) };
    let ws = on_two.personal();

    // A change made through process two reaches a live channel on process one.
    let took = changed_within(port_of(&one), &cookie, &ws, || {
        on_two.ok("POST", "/api/docs", Some(&json!({"kind": "collection", "fields": {"name": "Across"}})));
    });
    assert!(on_one.docs(&ws).iter().any(|d| d["fields"]["name"] == "Across"));
    eprintln!("web: a change through process two reached process one's live channel in {took:?}");
    drop((one, two));
    drop(db);
}

#[test]
fn two_browsers_of_one_account_see_each_others_edits_live() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = browser_ready("the web version's browser test") else { return };
    let mut server = Server::start();
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    // Two of the account's three devices are the CLI's, so the browsers'
    // third and fourth sign-ins meet the limit.
    let desktop = Device::new("desktop");
    desktop.signup(&server, "ann");
    let mut node = Command::new("node");
    node.arg(root.join("tests/node/web_browser.js"))
        .args(["--url", &format!("http://{}/", server.addr), "--user", "ann", "--password-env", "WEB_TEST_PASSWORD", "--shots"])
        .arg(&shots)
        .env("WEB_TEST_PASSWORD", PASSWORD);
    let (status, summary) = support::app::run_steps(node, |step| match step {
        "kill" => server.kill(),
        "restart" => server.restart(),
        other => panic!("unknown step {other}"),
    });
    assert!(status.success(), "browser check failed: {summary:#}");
    eprintln!("web: {summary}");
    // The browsers' edits are the account's: the CLI device has them.
    desktop.run(&["sync"]);
    let names: Vec<String> =
        desktop.docs().as_array().unwrap().iter().filter_map(|d| d["fields"]["name"].as_str().map(String::from)).collect();
    assert!(names.iter().any(|n| n == "Made in browser one"), "{names:?}");
    for name in ["web-sign-in.png", "web-two-browsers.png", "web-device-limit.png", "web-lost-server.png"] {
        assert!(shots.join(name).is_file(), "{name} was written");
    }
}

/// The usernames and roles of a team's members, as `/api/teams/{id}/members` lists them.
fn roles(members: &Value) -> Vec<(String, String)> {
    members["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["user"]["username"].as_str().unwrap_or_default().to_string(), p["role"].as_str().unwrap_or_default().to_string()))
        .collect()
}

#[test]
fn the_web_version_has_the_team_pages() {
    let server = Server::start();
    let mut web = Browser::new(&server);
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let bob = Device::new("bob-pc");
    bob.signup(&server, "bob");
    let carol = Device::new("carol-pc");
    carol.signup(&server, "carol");

    // A team made in the web: ann is its admin.
    assert_eq!(web.ok("GET", "/api/teams", None), json!({"teams": [], "invitations": []}));
    assert_eq!(web.call("POST", "/api/teams", Some(&json!({"name": "  "}))).status, 400);
    let r = web.call("POST", "/api/teams", Some(&json!({"name": "Core"})));
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!((r.json()["name"].as_str(), r.json()["role"].as_str()), (Some("Core"), Some("admin")), "{r:?}");
    let team = made(&r);

    // Invitations: a bad role is refused; bob and carol are invited, the
    // admin sees both waiting, and carol's is withdrawn by her username.
    let r = web.call("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "bob", "role": "boss"})));
    assert_eq!(r.status, 400, "{r:?}");
    let sent = web.ok("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "bob", "role": "editor"})));
    assert!(sent["team"]["id"] == team.as_str() && sent["message"].as_str().is_some_and(|m| !m.is_empty()), "{sent}");
    web.ok("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "carol@example.com", "role": "viewer"})));
    let m = web.ok("GET", &format!("/api/teams/{team}/members"), None);
    assert_eq!(m["invitations"].as_array().map(Vec::len), Some(2), "{m}");
    assert_eq!(roles(&m), vec![("ann".to_string(), "admin".to_string())]);
    let gone = web.ok("POST", &format!("/api/teams/{team}/cancel-invitation"), Some(&json!({"user": "carol@example.com"})));
    assert_eq!(gone["cancelled"]["login"], "carol@example.com", "{gone}");
    let r = web.call("POST", &format!("/api/teams/{team}/cancel-invitation"), Some(&json!({"user": "carol@example.com"})));
    assert_eq!(r.status, 404, "{r:?}");
    let waiting = carol.json(&["team", "invitations"]);
    assert_eq!(waiting.as_array().map(Vec::len), Some(0), "carol's invitation was withdrawn: {waiting}");

    // Bob accepts with the CLI; a workspace made in the web is shared; bob
    // sees it with his role, and a role change reaches him.
    bob.json(&["team", "accept", "Core"]);
    let ws = made(&web.call("POST", "/api/workspaces", Some(&json!({"name": "Shared API"}))));
    let shared = web.ok("POST", &format!("/api/workspaces/{ws}/share"), Some(&json!({"team": team})));
    assert_eq!((shared["team"]["name"].as_str(), shared["workspace"]["id"].as_str()), (Some("Core"), Some(ws.as_str())), "{shared}");
    assert_eq!(web.call("POST", &format!("/api/workspaces/{ws}/share"), Some(&json!({"team": "nope"}))).status, 400);
    bob.run(&["sync"]);
    let bobs = bob.json(&["workspaces"]);
    assert!(bobs.as_array().is_some_and(|l| l.iter().any(|w| w["id"] == ws.as_str() && w["role"] == "editor")), "{bobs}");
    let m = web.ok("POST", &format!("/api/teams/{team}/role"), Some(&json!({"user": "bob", "role": "viewer"})));
    assert!(roles(&m).contains(&("bob".into(), "viewer".into())), "{m}");
    bob.run(&["sync"]);
    let bobs = bob.json(&["workspaces"]);
    assert!(bobs.as_array().is_some_and(|l| l.iter().any(|w| w["id"] == ws.as_str() && w["role"] == "viewer")), "{bobs}");
    let teams = web.ok("GET", "/api/teams", None);
    assert_eq!(teams["teams"][0]["workspaces"][0], ws.as_str(), "{teams}");

    // Bob, in the web, is not an admin: the server's refusal is passed on.
    let mut bobs_web = Browser::new(&server);
    assert_eq!(bobs_web.login("bob").status, 200);
    let r = bobs_web.call("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "carol", "role": "viewer"})));
    assert_eq!(r.status, 403, "{r:?}");
    // Unsharing: the owner lists the workspace's teams (a member may not),
    // stops sharing it, and bob's CLI loses it; then it is shared again.
    assert_eq!(bobs_web.call("GET", &format!("/api/workspaces/{ws}/shares"), None).status, 403);
    let shares = web.ok("GET", &format!("/api/workspaces/{ws}/shares"), None);
    assert_eq!((&shares["workspace"]["name"], &shares["shares"][0]["name"]), (&json!("Shared API"), &json!("Core")), "{shares}");
    let stranger = model::Id::now_v7();
    let r = web.call("POST", &format!("/api/workspaces/{ws}/unshare"), Some(&json!({"team": stranger})));
    assert_eq!(r.status, 404, "a team it is not shared with: {r:?}");
    assert_eq!(web.call("POST", &format!("/api/workspaces/{ws}/unshare"), Some(&json!({"team": "nope"}))).status, 400);
    let gone = web.ok("POST", &format!("/api/workspaces/{ws}/unshare"), Some(&json!({"team": team})));
    assert_eq!((&gone["unshared"]["name"], &gone["workspace"]["id"]), (&json!("Core"), &json!(ws)), "{gone}");
    assert_eq!(web.ok("GET", &format!("/api/workspaces/{ws}/shares"), None)["shares"], json!([]));
    bob.run(&["sync"]);
    assert!(!bob.json(&["workspaces"]).to_string().contains(ws.as_str()), "unshared, it left bob's device");
    web.ok("POST", &format!("/api/workspaces/{ws}/share"), Some(&json!({"team": team})));
    // Carol, invited again, declines in the web.
    web.ok("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "carol", "role": "viewer"})));
    let mut carols_web = Browser::new(&server);
    assert_eq!(carols_web.login("carol").status, 200);
    let inv = carols_web.ok("GET", "/api/teams", None)["invitations"][0]["id"].as_str().expect("carol's invitation").to_string();
    let declined = carols_web.ok("POST", &format!("/api/invitations/{inv}/decline"), Some(&json!({})));
    assert_eq!(declined["declined"]["team_name"], "Core", "{declined}");
    assert_eq!(carols_web.call("POST", &format!("/api/invitations/{inv}/accept"), Some(&json!({}))).status, 404);

    // Bob is taken out; a stranger's team is a 404; signed out, a 401.
    assert_eq!(web.ok("POST", &format!("/api/teams/{team}/remove"), Some(&json!({"user": "bob"}))), json!({"removed": true}));
    assert_eq!(roles(&web.ok("GET", &format!("/api/teams/{team}/members"), None)), vec![("ann".to_string(), "admin".to_string())]);
    assert_eq!(bobs_web.call("GET", &format!("/api/teams/{team}/members"), None).status, 404);
    assert_eq!(Browser::new(&server).call("GET", "/api/teams", None).status, 401);

    // Carol accepts an invitation in the web and leaves in the web.
    web.ok("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "carol", "role": "editor"})));
    let inv = carols_web.ok("GET", "/api/teams", None)["invitations"][0]["id"].as_str().expect("carol's invitation").to_string();
    let joined = carols_web.ok("POST", &format!("/api/invitations/{inv}/accept"), Some(&json!({})));
    assert_eq!((joined["team"]["name"].as_str(), joined["team"]["role"].as_str()), (Some("Core"), Some("editor")), "{joined}");
    assert!(carols_web.ok("GET", "/api/workspaces", None).as_array().is_some_and(|l| l.iter().any(|w| w["id"] == ws.as_str())));
    assert_eq!(carols_web.ok("POST", &format!("/api/teams/{team}/leave"), Some(&json!({}))), json!({"left": true}));
    assert_eq!(carols_web.ok("GET", "/api/teams", None)["teams"], json!([]));
    assert!(!carols_web.ok("GET", "/api/workspaces", None).as_array().is_some_and(|l| l.iter().any(|w| w["id"] == ws.as_str())));
}

#[test]
fn the_web_version_deletes_the_account() {
    let server = Server::start();
    let mut web = Browser::new(&server);
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let laptop = Device::new("laptop");
    assert!(laptop.login(&server, "ann").status.success());
    let team = made(&web.call("POST", "/api/teams", Some(&json!({"name": "Solo"}))));

    // The username must be typed; in a team the server refuses (409), and
    // nothing is deleted.
    let r = web.call("POST", "/api/account/delete", Some(&json!({"confirm": "bob"})));
    assert_eq!(r.status, 400, "{r:?}");
    let r = web.call("POST", "/api/account/delete", Some(&json!({"confirm": "ann"})));
    assert_eq!((r.status, r.error_code().as_str()), (409, "team_member"), "{r:?}");
    assert!(r.header("set-cookie").is_none(), "the session stays: {r:?}");
    assert_eq!(web.ok("GET", "/api/status", None)["state"], "in_sync");
    assert!(laptop.try_run(&["sync"]).status.success(), "nothing was deleted");

    // After leaving the team: deleted, the cookie cleared, the CLI refused.
    web.ok("POST", &format!("/api/teams/{team}/leave"), Some(&json!({})));
    let r = web.call("POST", "/api/account/delete", Some(&json!({"confirm": " ann "})));
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.json();
    assert_eq!((body["deleted"].as_str(), body["status"]["scratch_pad"].as_bool()), (Some("ann"), Some(true)), "{body}");
    let set = r.header("set-cookie").expect("the cookie is cleared").to_string();
    assert!(set.starts_with("apisync_session=;") && set.contains("Max-Age=0"), "{set}");
    assert!(web.cookie.is_none());
    assert_eq!(web.ok("GET", "/api/status", None)["state"], "offline");
    assert!(!laptop.try_run(&["sync"]).status.success(), "the account is gone");
    assert_eq!(Browser::new(&server).login("ann").status, 401);
    assert_eq!(Browser::new(&server).call("POST", "/api/account/delete", Some(&json!({"confirm": "ann"}))).status, 401);
}

#[test]
fn the_web_version_exports_what_the_cli_exports() {
    let server = Server::start();
    let mut web = Browser::new(&server);
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let laptop = Device::new("laptop");
    assert!(laptop.login(&server, "ann").status.success());
    let col = laptop.create("collection", &["--set", "name=Orders API"]);
    let req = laptop.create("request", &["--parent", &col, "--set", "name=List", "--set", "method=GET", "--set", "url={{host}}/orders"]);
    let env = laptop.create("environment", &["--set", "name=Prod"]);
    laptop.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=s3cret", "--set", "type=secret"]);
    laptop.create("global", &["--set", "key=region", "--set", "value=eu"]);
    laptop.run(&["sync"]);
    let ws = web.personal();

    // Each file is the one `apisync export` writes, as a download.
    let cli =
        |args: &[&str]| -> Value { serde_json::from_str(&laptop.run(&[&["export", "-o", "-"], args].concat())).expect("the CLI's file") };
    for (path, args, name) in [
        (format!("/api/export/doc/{col}"), vec!["--collection", col.as_str()], "Orders_API.postman_collection.json"),
        (format!("/api/export/doc/{env}"), vec!["--environment", env.as_str()], "Prod.postman_environment.json"),
        (format!("/api/export/globals/{ws}"), vec!["--globals"], "globals.postman_globals.json"),
    ] {
        let r = web.call("GET", &path, None);
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.header("content-disposition"), Some(format!("attachment; filename=\"{name}\"").as_str()), "{r:?}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.json(), cli(&args), "{path} is what the CLI exports");
    }
    // A change made in the web is in the next file (read from the server).
    web.ok("PATCH", &format!("/api/docs/{req}"), Some(&json!({"fields": {"method": "POST"}})));
    assert!(web.call("GET", &format!("/api/export/doc/{col}"), None).body.contains("\"POST\""));

    // The whole account, a second workspace made in the web included, is the
    // backup `apisync export --all` writes on a device of the account.
    let side = made(&web.call("POST", "/api/workspaces", Some(&json!({"name": "Side"}))));
    made(&web.call("POST", "/api/docs", Some(&json!({"kind": "collection", "workspace": side, "fields": {"name": "Side API"}}))));
    laptop.run(&["sync"]);
    let r = web.call("GET", "/api/export", None);
    assert_eq!(r.status, 200, "{r:?}");
    let name = r.header("content-disposition").unwrap_or_default().to_string();
    assert!(name.starts_with("attachment; filename=\"apisync-export-") && name.ends_with(".json\""), "{name}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let backup = r.json();
    let names = |v: &Value, key: &str| -> Vec<String> {
        let mut n: Vec<String> = v[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["info"]["name"].as_str().or(c["name"].as_str()).unwrap_or("").to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&backup, "collections"), ["Orders API", "Side API"], "{backup}");
    assert_eq!(names(&backup, "environments"), ["Prod"], "{backup}");
    assert!(backup.to_string().contains("s3cret"), "a backup keeps the secret, as the CLI's does");
    assert_eq!(backup, cli(&["--all"]), "the web's backup is what the CLI exports");

    // A request goes with its collection; another account's document and a
    // signed-out browser get nothing.
    let r = web.call("GET", &format!("/api/export/doc/{req}"), None);
    assert_eq!(r.status, 400, "{r:?}");
    let mut bob = Browser::new(&server);
    let r = bob.call("POST", "/api/account/signup", Some(&json!({"email": "bob@example.com", "username": "bob", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(bob.call("GET", &format!("/api/export/doc/{env}"), None).status, 404);
    assert_eq!(Browser::new(&server).call("GET", &format!("/api/export/doc/{col}"), None).status, 401);
}

/// Each document of an `ls --json` listing, in its order, as its kind and
/// its path of names from the top: what two imports of one file share
/// (their ids are new each time).
fn tree_shape(docs: &Value) -> Vec<(String, String)> {
    let all = docs.as_array().cloned().unwrap_or_default();
    let by_id: std::collections::HashMap<&str, &Value> = all.iter().filter_map(|d| d["id"].as_str().map(|id| (id, d))).collect();
    let name = |d: &Value| d["fields"]["name"].as_str().or(d["fields"]["key"].as_str()).unwrap_or("").to_string();
    all.iter()
        .map(|d| {
            let mut path = vec![name(d)];
            let mut at = d;
            while let Some(p) = at["parent_id"].as_str().and_then(|p| by_id.get(p)) {
                path.push(name(p));
                at = p;
            }
            path.reverse();
            (d["kind"].as_str().unwrap_or("").to_string(), path.join("/"))
        })
        .collect()
}

#[test]
fn the_web_version_imports_what_the_cli_imports() {
    let server = Server::start();
    let mut web = Browser::new(&server);
    let r = web.call("POST", "/api/account/signup", Some(&json!({"email": "ann@example.com", "username": "ann", "password": PASSWORD})));
    assert_eq!(r.status, 200, "{r:?}");
    let laptop = Device::new("laptop");
    assert!(laptop.login(&server, "ann").status.success());
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman/postman2openapi/postman-api.postman.json");
    let file = std::fs::read_to_string(&fixture).expect("the fixture");
    let upload = |web: &mut Browser, query: &str, bytes: &str| -> Reply {
        let (host, origin) = (web.host(), format!("http://{}", web.host()));
        let cookie = web.cookie.clone().unwrap_or_default();
        let h = [("Host", host.as_str()), ("Origin", origin.as_str()), ("Cookie", cookie.as_str())];
        raw(web.port, "POST", &format!("/api/import?{query}"), &h, Some(bytes))
    };

    // Imported through the web into the personal workspace (the default).
    let r = upload(&mut web, "name=postman-api.postman.json", &file);
    assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(500)]);
    let answer = r.json();
    let ws = web.personal();
    assert_eq!(answer["workspace"], ws.as_str(), "{answer}");

    // The same file through `apisync import` on another account's device.
    let other = Device::new("dan-pc");
    other.signup(&server, "dan");
    let cli = other.json(&["import", fixture.to_str().expect("a path")]);
    assert_eq!(answer["written"], cli["written"], "{answer}\n{cli}");
    assert!(answer["written"].as_u64().is_some_and(|n| n > 10), "{answer}");
    for key in ["format", "documents", "summary", "notes"] {
        assert_eq!(answer["files"][0][key], cli["files"][0][key], "the report's {key}");
    }
    assert_eq!(answer["files"][0]["file"], "postman-api.postman.json");

    // Ann's CLI device has the same documents, in the same tree order.
    laptop.run(&["sync"]);
    let on_laptop = tree_shape(&laptop.docs());
    assert_eq!(on_laptop, tree_shape(&other.docs()), "the web's import is the CLI's");
    assert_eq!(on_laptop.len() as u64, answer["written"].as_u64().unwrap_or(0));

    // A second import goes after the first (top level appended), as on a device.
    let small = json!({ "info": { "name": "Zeta", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" },
        "item": [ { "name": "Ping", "request": { "method": "GET", "url": "https://example.com/ping" } }, "not an item" ] })
    .to_string();
    let r = upload(&mut web, &format!("workspace={ws}&name=zeta.json"), &small);
    assert_eq!(r.status, 201, "{r:?}");
    let notes = r.json()["files"][0]["notes"].clone();
    assert!(notes.as_array().into_iter().flatten().any(|n| n.as_str().is_some_and(|n| n.contains("skipped"))), "{notes}");
    laptop.run(&["sync"]);
    let now = tree_shape(&laptop.docs());
    assert_eq!(now[..on_laptop.len()], on_laptop[..]);
    assert_eq!(now[on_laptop.len()..], [("collection".to_string(), "Zeta".to_string()), ("request".to_string(), "Zeta/Ping".to_string())]);

    // Bad files: 400 `bad_file` with the importer's message, nothing written.
    let before = web.docs(&ws).len();
    for bytes in ["{ this is not json", "{\"hello\": 1}"] {
        let r = upload(&mut web, "name=broken.json", bytes);
        assert_eq!((r.status, r.error_code().as_str()), (400, "bad_file"), "{r:?}");
        let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.starts_with("broken.json: ") && message.ends_with("nothing was imported"), "{message}");
    }
    assert_eq!(upload(&mut web, "name=empty.json", "").status, 400);
    let r = upload(&mut web, "name=zeta.json&replace=true", &small);
    assert_eq!(r.status, 400, "replace is the desktop app's: {r:?}");
    assert!(r.body.contains("--replace"), "{r:?}");
    assert_eq!(web.docs(&ws).len(), before, "a refused file writes nothing");
    // Over the web's limit by its declared length: refused at once, unread.
    let (host, origin) = (web.host(), format!("http://{}", web.host()));
    let cookie = web.cookie.clone().unwrap_or_default();
    let declared = (server::web::WEB_IMPORT_LIMIT + 1).to_string();
    let h = [("Host", host.as_str()), ("Origin", origin.as_str()), ("Cookie", cookie.as_str()), ("Content-Length", declared.as_str())];
    let r = raw(web.port, "POST", "/api/import?name=huge.json", &h, None);
    assert_eq!((r.status, r.error_code().as_str()), (413, "too_large"), "{r:?}");
    assert_eq!(Browser::new(&server).call("POST", "/api/import?name=x.json", Some(&json!({}))).status, 401);

    // A viewer of a shared workspace is refused, nothing written.
    let team = made(&web.call("POST", "/api/teams", Some(&json!({"name": "Core"}))));
    web.ok("POST", &format!("/api/teams/{team}/invite"), Some(&json!({"user": "dan", "role": "viewer"})));
    other.json(&["team", "accept", "Core"]);
    let shared = made(&web.call("POST", "/api/workspaces", Some(&json!({"name": "Shared API"}))));
    web.ok("POST", &format!("/api/workspaces/{shared}/share"), Some(&json!({"team": team})));
    let empty = web.docs(&shared).len();
    let mut dan = Browser::new(&server);
    assert_eq!(dan.login("dan").status, 200);
    let r = upload(&mut dan, &format!("workspace={shared}&name=zeta.json"), &small);
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"), "{r:?}");
    assert_eq!(web.docs(&shared).len(), empty, "a viewer's import writes nothing");
}
