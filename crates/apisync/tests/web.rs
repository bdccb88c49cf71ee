//! The web version `apisync serve` hosts at `/`: the app API over the
//! server for a browser whose session is one of the account's devices;
//! its cookie and CSRF rules; the device limit; two server processes on
//! PostgreSQL; and, in Chromium, two browsers of one account.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::app::{Reply, browser_ready, raw};
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
    let db = rt.block_on(server::testing::TestDb::create(&url));
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
    let mut node = Command::new("node")
        .arg(root.join("tests/node/web_browser.js"))
        .args(["--url", &format!("http://{}/", server.addr), "--user", "ann", "--password-env", "WEB_TEST_PASSWORD", "--shots"])
        .arg(&shots)
        .env("WEB_TEST_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run node");
    let mut to_node = node.stdin.take().expect("stdin");
    let from_node = BufReader::new(node.stdout.take().expect("stdout"));
    let mut summary = Value::Null;
    for line in from_node.lines().map_while(Result::ok) {
        match line.strip_prefix("STEP ") {
            Some("kill") => server.kill(),
            Some("restart") => server.restart(),
            Some(other) => panic!("unknown step {other}"),
            None => {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    summary = v;
                }
                continue;
            }
        }
        writeln!(to_node, "done").expect("tell the browser the step is done");
    }
    let status = node.wait().expect("node");
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
