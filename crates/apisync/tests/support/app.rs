//! `apisync app` driven by hand-written HTTP requests (so each test controls
//! every header: Host, Origin, Cookie), and the check that the browser tests
//! can run here.

use super::{Device, bin};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `apisync app --no-open` on a profile.
pub struct App {
    child: Child,
    /// Kept open so the app's later output never meets a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
    pub port: u16,
    pub secret: String,
}

impl App {
    pub fn start(device: &Device) -> App {
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

    /// The address `apisync app` printed: what a browser opens first.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/?secret={}", self.port, self.secret)
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Exchanges the secret for the session cookie (`name=value`).
    pub fn cookie(&self) -> String {
        let r = self.send("GET", &format!("/?secret={}", self.secret), &[], None);
        assert_eq!(r.status, 303, "{r:?}");
        let set = r.header("set-cookie").expect("a cookie");
        set.split(';').next().unwrap_or_default().to_string()
    }

    /// One request with the app's own Host and the given extra headers.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Reply {
        let host = self.host();
        let mut all: Vec<(&str, &str)> = vec![("Host", &host)];
        all.extend_from_slice(headers);
        raw(self.port, method, path, &all, body.map(|b| b.to_string()).as_deref())
    }

    /// A request as the app's page sends it: cookie and own Origin.
    pub fn api(&self, cookie: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let origin = self.origin();
        let mut h = vec![("Cookie", cookie)];
        if method != "GET" {
            h.push(("Origin", &origin));
        }
        self.send(method, path, &h, body)
    }
}

impl App {
    /// One GET with the app's own Host: the status, and the answer's head and body as text.
    pub fn get(&self, path: &str, cookie: Option<&str>) -> (u16, String) {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
        let r = self.send("GET", path, &headers, None);
        let head: String = r.headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
        (r.status, format!("{head}\r\n{}", r.body))
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A streamed answer's lines, each one JSON value.
    pub fn lines(&self) -> Vec<Value> {
        self.body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// The `error.code` of a refusal, checking the body has the JSON error shape.
    pub fn error_code(&self) -> String {
        let v = self.json();
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {v}");
        v["error"]["code"].as_str().unwrap_or_default().to_string()
    }
}

/// Writes one HTTP/1.1 request and reads the whole answer.
pub fn raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
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
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    Reply { status, headers, body }
}

/// A chunked body's content (a streamed answer, such as the Runner's lines).
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// Holds the browser tests of one test binary to one at a time: on two
/// cores, two Chromiums with an app each starve the pages' timing checks.
pub fn one_browser_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    // A test that failed holding it poisons nothing the next one needs.
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The repository's root when the browser tests can run here (Node, the
/// packages of tests/node, Debian's Chromium: scripts/install-test-deps.sh).
/// Under CI a missing piece fails the test; elsewhere the skip is said loudly.
pub fn browser_ready(what: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if !Path::new(&chromium).is_file() {
        Some(format!("no Chromium at {chromium}"))
    } else if !root.join("tests/node/node_modules/playwright-core/package.json").is_file() {
        Some("tests/node has no playwright-core".into())
    } else {
        match Command::new("node").arg("--version").output() {
            Ok(o) if o.status.success() => None,
            _ => Some("no `node`".into()),
        }
    };
    let Some(why) = missing else { return Some(root) };
    let msg = format!("{what} needs {why}; run scripts/install-test-deps.sh");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    // Straight to stderr, past the test harness's capture, so a skip is never silent.
    let bar = "!".repeat(72);
    let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
    None
}

/// Runs the browser check `script` of tests/node with `args`; fails the test
/// with its output unless it succeeds, else gives its stdout.
pub fn run_check<S: AsRef<std::ffi::OsStr>>(node_dir: &Path, script: &str, args: impl IntoIterator<Item = S>) -> String {
    let out = Command::new("node").arg(node_dir.join(script)).args(args).output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "browser check {script} failed:\nstdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Runs a browser check that stops at each `STEP name` line on its stdout:
/// `on_step(name)` does that step, then the check is told to go on. Gives
/// the check's exit status and the last JSON line it printed (its summary).
pub fn run_steps(mut cmd: Command, mut on_step: impl FnMut(&str)) -> (std::process::ExitStatus, Value) {
    let mut node = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("run node");
    let mut to_node = node.stdin.take().expect("stdin");
    let from_node = BufReader::new(node.stdout.take().expect("stdout"));
    let mut summary = Value::Null;
    for line in from_node.lines().map_while(Result::ok) {
        match line.strip_prefix("STEP ") {
            Some(step) => {
                on_step(step);
                writeln!(to_node, "done").expect("tell the browser the step is done");
            }
            None => {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    summary = v;
                }
            }
        }
    }
    (node.wait().expect("node"), summary)
}
