//! The app's conflicts inbox through the real binary and a real server: two
//! devices edit one request offline, the app on the second lists the
//! conflict, resolves it field by field (through the API, and in Chromium
//! through the dialog), and the server ends up with the chosen values.
//! The harness (`App`, `raw`) is the one of `app.rs`, repeated so the two
//! test files can change independently.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{Device, Server, bin, eventually, two_devices};

/// A running `apisync app --no-open` on a profile.
struct App {
    child: Child,
    /// Kept open so the app's later output never meets a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
    port: u16,
    secret: String,
}

impl App {
    fn start(device: &Device) -> App {
        let mut child = Command::new(bin())
            .args(["app", "--no-open", "--port", "0", "--profile"])
            .arg(device.dir.path())
            .env_remove("APISYNC_HOME")
            .env_remove("APISYNC_OFFLINE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start apisync app");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("read the address");
        let url = line.trim().strip_prefix("apisync app: ").unwrap_or_else(|| panic!("no address printed: {line}"));
        let rest = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| panic!("not a loopback address: {url}"));
        let (port, query) = rest.split_once("/?secret=").unwrap_or_else(|| panic!("no secret in {url}"));
        App { child, _stdout: stdout, port: port.parse().expect("port"), secret: query.to_string() }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Exchanges the secret for the session cookie (`name=value`).
    fn cookie(&self) -> String {
        let r = self.send("GET", &format!("/?secret={}", self.secret), &[], None);
        assert_eq!(r.status, 303, "{r:?}");
        let set = r.header("set-cookie").expect("a cookie");
        set.split(';').next().unwrap_or_default().to_string()
    }

    /// One request with the app's own Host and the given extra headers.
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
        let host = self.host();
        let mut all: Vec<(&str, &str)> = vec![("Host", &host)];
        all.extend_from_slice(headers);
        raw(self.port, method, path, &all, body.map(|b| b.to_string()).as_deref())
    }

    /// A request as the app's page sends it: cookie and own Origin.
    fn api(&self, cookie: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let origin = self.origin();
        let mut h = vec![("Cookie", cookie)];
        if method != "GET" {
            h.push(("Origin", &origin));
        }
        self.send(method, path, &h, body)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// The `error.code` of a refusal, checking the body has the JSON error shape.
    fn error_code(&self) -> String {
        let v = self.json();
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {v}");
        v["error"]["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Writes one HTTP/1.1 request and reads the whole answer.
fn raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    if let Some(b) = body {
        // A refused large body may be answered before it is all sent.
        let _ = s.write_all(b.as_bytes());
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Reply { status, headers, body: body.to_string() }
}

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

/// Why the browser test cannot run here, if it cannot: it needs Node, the
/// packages of tests/node and Debian's Chromium (scripts/install-test-deps.sh).
fn browser_missing(node_dir: &std::path::Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&chromium).is_file() {
        return Some(format!("no Chromium at {chromium}"));
    }
    if !node_dir.join("node_modules/playwright-core/package.json").is_file() {
        return Some("tests/node has no playwright-core".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("no `node`".into()),
    }
}

#[test]
fn in_chromium_the_conflicts_dialog_resolves_row_by_row() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let node_dir = root.join("tests/node");
    if let Some(why) = browser_missing(&node_dir) {
        let msg = format!("the app's conflicts browser test needs {why}; run scripts/install-test-deps.sh");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        // Straight to stderr, past the test harness's capture, so a skip is never silent.
        let bar = "!".repeat(72);
        let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
        return;
    }
    let server = Server::start();
    let (a, b) = two_devices(&server);
    // B's name is hostile: the dialog must show it as text.
    let hostile = "<img src=x onerror=alert(1)>";
    let req = conflict_on_name_and_url(&a, &b, hostile);
    let app = App::start(&b);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("conflict-dialog.png");
    let url = format!("http://127.0.0.1:{}/?secret={}", app.port, app.secret);
    let out = Command::new("node")
        .arg(node_dir.join("app_conflicts_browser.js"))
        .args(["--url", &url, "--expect-tab", "Shared", "--expect-mine", hostile, "--screenshot"])
        .arg(&shot)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "browser check failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shot.is_file());
    assert!(conflicts(&b).is_empty(), "resolved in the dialog");
    // The dialog kept Local for the name and Server for the URL.
    assert!(server_has(&a, &req, hostile, "https://laptop"), "server: {}", a.json(&["show", &req]));
}
