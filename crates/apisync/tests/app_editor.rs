//! The app's request editor through the real binary: the editor's files are
//! served behind the session cookie, and in Chromium
//! (`tests/node/app_editor_browser.js`) a request on an offline profile is
//! edited (URL and params in step, a header, a raw JSON body), saved with
//! Ctrl+S as one PATCH, checked through the CLI in Postman v2.1 shape, and a
//! change made by the CLI on the same profile meets an unsaved edit without
//! overwriting it. The `App` harness is a trimmed copy of `app.rs`'s, so the
//! test files can change independently.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{Device, bin};

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

    /// One GET with the app's own Host; answers (status, headers and body as text).
    fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the app");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", self.port);
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, text)
    }

    /// Exchanges the secret for the session cookie (`name=value`).
    fn cookie(&self) -> String {
        let (status, text) = self.get(&format!("/?secret={}", self.secret), None);
        assert_eq!(status, 303, "{text}");
        let line = text.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).expect("a cookie");
        line.split_once(':').map(|(_, v)| v).unwrap_or_default().trim().split(';').next().unwrap_or_default().to_string()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed-out profile (the Scratch Pad) with one request in a collection:
/// `GET https://api.example.com/items`, no headers, no body. Returns its id.
fn offline_request(d: &Device) -> String {
    let col = d.create("collection", &["--set", "name=Shop"]);
    d.create(
        "request",
        &["--parent", &col, "--set", "name=Find items", "--set", "method=GET", "--set", "url=https://api.example.com/items"],
    )
}

#[test]
fn the_editor_files_are_served_behind_the_session() {
    let d = Device::new("laptop");
    let app = App::start(&d);
    let (status, _) = app.get("/editor.js", None);
    assert_eq!(status, 403, "no cookie, no file");
    let cookie = app.cookie();
    let (status, js) = app.get("/editor.js", Some(&cookie));
    assert_eq!(status, 200, "{js}");
    assert!(js.contains("text/javascript") && js.contains("export function openEditor"), "{js}");
    // The page renders values as text only: the editor never assigns markup.
    assert!(!js.contains("innerHTML") && !js.contains("insertAdjacentHTML"), "editor.js assigns markup");
    let (status, css) = app.get("/editor.css", Some(&cookie));
    assert_eq!(status, 200);
    assert!(css.contains("text/css"), "{css}");
    let (_, page) = app.get("/", Some(&cookie));
    assert!(page.contains("/editor.css"), "index.html links the editor's styles");
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
fn in_chromium_the_request_editor_saves_one_patch_and_never_overwrites_an_edit() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let node_dir = root.join("tests/node");
    if let Some(why) = browser_missing(&node_dir) {
        let msg = format!("the app's request editor browser test needs {why}; run scripts/install-test-deps.sh");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        // Straight to stderr, past the test harness's capture, so a skip is never silent.
        let bar = "!".repeat(72);
        let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
        return;
    }
    let d = Device::new("laptop");
    let req = offline_request(&d);
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let shot = shots.join("request-editor.png");
    let url = format!("http://127.0.0.1:{}/?secret={}", app.port, app.secret);
    let out = Command::new("node")
        .arg(node_dir.join("app_editor_browser.js"))
        .args(["--url", &url, "--bin", bin(), "--id", &req, "--profile"])
        .arg(d.dir.path())
        .arg("--screenshot")
        .arg(&shot)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the editor browser test failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shot.is_file(), "no screenshot at {}", shot.display());

    // What the browser saved, as the CLI reads it: the last URL kept over the
    // other device's, the method that device set, the header and the body.
    let f = &d.json(&["--offline", "show", &req])["fields"];
    assert_eq!(f["url"]["raw"], "https://mine.example.com/x?page=3&sort=asc", "{f}");
    assert_eq!(f["method"], "PUT", "{f}");
    assert_eq!(f["header"][0]["key"], "Content-Type", "{f}");
    assert_eq!(f["body"]["mode"], "raw", "{f}");
    assert_eq!(f["body"]["options"]["raw"]["language"], "json", "{f}");
    assert_eq!(f["description"], "theirs", "{f}");
}
