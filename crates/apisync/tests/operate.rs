//! Operating `apisync serve` through the real binary: a JSON log a
//! collector can read line by line (no colour codes, the request id on each
//! request's lines), and a config file that sits below the environment and
//! the command line, whose secrets never reach the log.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::bin;

/// The variables these tests set, cleared first so the caller's cannot leak in.
const VARS: &[&str] =
    &["APISYNC_CONFIG", "APISYNC_LOG", "APISYNC_LOG_FORMAT", "APISYNC_MAX_CONNECTIONS_PER_ADDRESS", "APISYNC_METRICS_TOKEN"];

/// `apisync serve ARGS` with `env`, its stderr in `log`: the process and
/// the address it listens on.
fn serve(args: &[&str], env: &[(&str, &str)], log: &Path) -> (Child, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("serve").args(args);
    for var in VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(std::fs::File::create(log).unwrap()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split_whitespace().find_map(|w| w.strip_prefix("http://")).unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no address in {line:?}; log: {}", std::fs::read_to_string(log).unwrap_or_default())
    });
    (child, addr.to_string())
}

/// Stops the server with SIGTERM; whether it exited successfully within 30 s.
fn stop(mut child: Child) -> bool {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    false
}

/// A GET over a fresh connection: the status and the whole answer.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, answer)
}

/// The log: every line must be one JSON object, and none may carry ESC.
fn json_lines(log: &Path) -> Vec<Value> {
    let bytes = std::fs::read(log).unwrap();
    assert!(!bytes.contains(&0x1b), "colour codes in a JSON log:\n{}", String::from_utf8_lossy(&bytes));
    let text = String::from_utf8(bytes).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {l}"));
            assert!(v["timestamp"].is_string() && v["level"].is_string(), "{l}");
            v
        })
        .collect()
}

#[test]
fn a_json_log_is_one_object_per_line_and_carries_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let data = dir.path().join("data");
    let args = ["--addr", "127.0.0.1:0", "--data-dir", data.to_str().unwrap(), "--log-format", "json"];
    let (child, addr) = serve(&args, &[("APISYNC_LOG", "info")], &log);
    let (status, answer) = get(&addr, "/v1/me", &[("X-Request-Id", "log-test-42")]);
    assert_eq!(status, 401, "{answer}");
    assert!(answer.to_ascii_lowercase().contains("x-request-id: log-test-42"), "{answer}");
    assert!(stop(child), "serve did not stop cleanly on SIGTERM");

    let lines = json_lines(&log);
    let answered = lines
        .iter()
        .find(|v| v["span"]["id"] == "log-test-42" && v["fields"]["message"] == "answered")
        .unwrap_or_else(|| panic!("no line of request log-test-42 in {lines:#?}"));
    assert_eq!(answered["span"]["method"], "GET", "{answered}");
    assert_eq!(answered["span"]["route"], "/v1/me", "{answered}");
    assert_eq!(answered["fields"]["message"], "answered", "{answered}");
    assert_eq!(answered["span"]["status"], 401, "{answered}");
    assert!(answered["span"]["latency_ms"].is_number(), "{answered}");
    assert!(lines.iter().any(|v| v["fields"]["message"] == "shutting down"), "{lines:#?}");
}

#[test]
fn the_config_file_sits_below_the_environment_and_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("apisync.toml");
    std::fs::write(
        &config,
        format!(
            "# as an operator would write it\naddr = \"127.0.0.1:0\"\ndata-dir = {:?}\nlog-format = \"json\"\n\
             max-connections-per-address = 7\nsmtp-url = \"smtps://mailer:smtp-s3cret@127.0.0.1:1\"\nmetrics-token = \"token-s3cret\"\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let path = config.to_str().unwrap();
    // Options, variables, and the per-address cap the server then has.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], u64);
    let cases: [Case; 4] = [
        (&["--config", path], &[], 7),
        (&[], &[("APISYNC_CONFIG", path)], 7),
        (&["--config", path], &[("APISYNC_MAX_CONNECTIONS_PER_ADDRESS", "8")], 8),
        (&["--config", path, "--max-connections-per-address", "9"], &[("APISYNC_MAX_CONNECTIONS_PER_ADDRESS", "8")], 9),
    ];
    for (n, (args, env, per_address)) in cases.into_iter().enumerate() {
        let log = dir.path().join(format!("log-{n}"));
        let env: Vec<_> = env.iter().copied().chain([("APISYNC_LOG", "debug")]).collect();
        let (child, addr) = serve(args, &env, &log);
        // The token from the file guards /metrics.
        assert_eq!(get(&addr, "/metrics", &[]).0, 401, "case {n}");
        let (status, scrape) = get(&addr, "/metrics", &[("Authorization", "Bearer token-s3cret")]);
        assert_eq!(status, 200, "case {n}: {scrape}");
        assert!(stop(child), "case {n}: serve did not stop cleanly");

        let text = std::fs::read_to_string(&log).unwrap();
        assert!(!text.contains("s3cret"), "case {n}: a secret in the log:\n{text}");
        let lines = json_lines(&log);
        let listening = lines.iter().find(|v| v["fields"]["message"] == "apisync server listening").expect("the listening line");
        assert_eq!(listening["fields"]["per_address"], per_address, "case {n}: {listening}");
        let shown = lines.iter().find(|v| v["fields"]["message"] == "configuration").expect("the configuration at debug level");
        assert!(shown.to_string().contains("smtps://mailer:***@127.0.0.1:1"), "case {n}: {shown}");
    }
}

#[test]
fn a_config_file_with_a_mistake_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("apisync.toml");
    for (text, says) in [
        ("adress = \"127.0.0.1:0\"\n", vec!["unknown setting `adress`", "addr, data-dir", "apisync.toml"]),
        ("idle-timeout = \"soon\"\n", vec!["`idle-timeout`", "soon"]),
        ("addr = \"127.0.0.1:0\n", vec!["not valid TOML"]),
    ] {
        std::fs::write(&config, text).unwrap();
        let out = Command::new(bin()).args(["serve", "--config"]).arg(&config).env_remove("APISYNC_CONFIG").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}: started anyway");
        for s in says {
            assert!(err.contains(s), "{text}: the error should say {s:?}: {err}");
        }
    }
    let out = Command::new(bin()).args(["serve", "--config"]).arg(dir.path().join("missing.toml")).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("cannot read the config file"));
}
