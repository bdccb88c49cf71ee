//! `apisync bench --app`: the app's figures in headless Chromium, measured
//! by `tests/node/app_bench.js` (Node, playwright-core and Debian's
//! Chromium: `scripts/install-test-deps.sh`). This side builds the profiles
//! and starts the processes: an app on a Scratch Pad of `--requests`
//! requests (tree open, filter keystrokes), an app on one request with a
//! saved response as large as a field may be (1 MiB, `model::Limits`; the
//! page's viewer is also given `--viewer-mib` MiB directly, more than a
//! document may hold), and two apps on two profiles of one account on a
//! release server (an edit reaching the other browser).

use super::{ChildServer, Report, ms, percentile};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// The password of the benchmark's throwaway account, passed to the CLI in
/// its environment as any script would.
const PASSWORD: &str = "bench-password-1";

/// What the app benchmark measures.
pub struct AppBench {
    /// Requests in the big workspace.
    pub requests: usize,
    /// Size in MiB of the body given to the response viewer directly.
    pub viewer_mib: usize,
    /// Edits timed between the two browsers.
    pub edits: usize,
    /// Page loads of the big workspace timed.
    pub loads: usize,
}

/// A running `apisync app --no-open` on a profile.
struct AppProcess {
    child: Child,
    /// Kept open so the app's later output never meets a closed pipe.
    _stdout: BufReader<ChildStdout>,
    url: String,
}

impl AppProcess {
    fn start(profile: &Path) -> anyhow::Result<AppProcess> {
        let mut child = cli(profile)
            .args(["app", "--no-open", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start `apisync app`")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout from the app")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let url = line.trim().strip_prefix("apisync app: ").context("the app did not print its address")?.to_string();
        Ok(AppProcess { child, _stdout: stdout, url })
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// This binary on `profile`, with the account's password in its environment.
fn cli(profile: &Path) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("apisync"));
    let mut c = Command::new(exe);
    c.arg("--profile").arg(profile).env("APISYNC_PASSWORD", PASSWORD).env_remove("APISYNC_OFFLINE").stdin(Stdio::null());
    c
}

/// Runs a CLI verb on `profile` that must succeed; gives its stdout.
fn run(profile: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = cli(profile).args(args).output().with_context(|| format!("cannot run `apisync {}`", args.join(" ")))?;
    if !out.status.success() {
        bail!("`apisync {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Imports a Postman collection into `profile`'s Scratch Pad.
fn import(profile: &Path, collection: &Value) -> anyhow::Result<()> {
    let file = profile.join("bench.postman_collection.json");
    std::fs::write(&file, collection.to_string()).context("cannot write the collection")?;
    run(profile, &["--offline", "import", &file.to_string_lossy()])?;
    Ok(())
}

fn collection(name: &str, items: Vec<Value>) -> Value {
    json!({ "info": { "name": name, "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" }, "item": items })
}

/// `requests` requests named `Request 1`…, in folders of 100.
fn big_tree(requests: usize) -> Value {
    let folders = requests.div_ceil(100);
    let items = (0..folders)
        .map(|f| {
            let reqs: Vec<Value> = (f * 100 + 1..=((f + 1) * 100).min(requests))
                .map(|n| json!({ "name": format!("Request {n}"), "request": { "method": "GET", "url": format!("https://api.example.com/items/{n}") } }))
                .collect();
            json!({ "name": format!("Folder {}", f + 1), "item": reqs })
        })
        .collect();
    collection("Bench tree", items)
}

/// One request with a saved response whose body is as large as a field may
/// be: CSV lines up to just under `Limits::FIELD_BYTES` once JSON-encoded.
fn big_response() -> Value {
    let line = "123456,a row of the saved response,true\n";
    // Each line is one byte longer in JSON (its newline becomes `\n`).
    let body = line.repeat((model::Limits::FIELD_BYTES - 1024) / (line.len() + 1));
    let response = json!({
        "name": "Big response", "code": 200, "status": "OK",
        "header": [{ "key": "Content-Type", "value": "text/csv" }],
        "body": body,
    });
    collection(
        "Bench response",
        vec![json!({ "name": "Big", "request": { "method": "GET", "url": "https://api.example.com/big" }, "response": [response] })],
    )
}

/// Where `tests/node` is: beside the sources this binary was built from, or
/// under the current directory.
fn node_dir() -> anyhow::Result<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node");
    let here = PathBuf::from("tests/node");
    let dir = [built, here].into_iter().find(|d| d.join("node_modules/playwright-core/package.json").is_file());
    let dir = dir.context("tests/node has no playwright-core: run scripts/install-test-deps.sh (Node 20+, npm, Debian's chromium)")?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).is_file() {
        bail!("no Chromium at {chromium}: run scripts/install-test-deps.sh, or set CHROMIUM");
    }
    Ok(dir)
}

fn numbers(v: &Value) -> Vec<Duration> {
    let mut out: Vec<Duration> =
        v.as_array().into_iter().flatten().filter_map(Value::as_f64).map(|x| Duration::from_secs_f64(x / 1000.0)).collect();
    out.sort();
    out
}

/// A figure printed as the report's rows are, with no target of its own.
fn figure(what: &str, value: String) {
    println!("  {what:<44} {value:>18}");
}

/// Builds the profiles, starts the apps and a server, runs the browser
/// script and reports its figures.
pub fn run_app(opts: &AppBench, report: &mut Report) -> anyhow::Result<()> {
    let node = node_dir()?;
    let tmp = tempfile::tempdir().context("cannot make a temporary directory")?;
    let (tree_p, resp_p, a_p, b_p) = (tmp.path().join("tree"), tmp.path().join("response"), tmp.path().join("a"), tmp.path().join("b"));
    for p in [&tree_p, &resp_p, &a_p, &b_p] {
        std::fs::create_dir_all(p)?;
    }
    println!("app: importing {} requests, and a response of 1 MiB", opts.requests);
    import(&tree_p, &big_tree(opts.requests))?;
    import(&resp_p, &big_response())?;

    let server = ChildServer::spawn()?;
    run(&a_p, &["signup", "--server", &server.base, "--email", "bench@example.com", "--username", "bench", "--device-name", "bench-a"])?;
    run(&b_p, &["login", "--server", &server.base, "--user", "bench", "--device-name", "bench-b"])?;
    let created: Value = serde_json::from_str(&run(&a_p, &["create", "collection", "--set", "name=Live", "--json"])?)?;
    let col = created["id"].as_str().context("no id from create")?.to_string();
    run(&a_p, &["create", "request", "--parent", &col, "--set", "name=Live edit", "--set", "url=https://api.example.com/live"])?;
    run(&a_p, &["sync"])?;
    run(&b_p, &["sync"])?;

    let (tree_app, resp_app, a_app, b_app) =
        (AppProcess::start(&tree_p)?, AppProcess::start(&resp_p)?, AppProcess::start(&a_p)?, AppProcess::start(&b_p)?);
    println!("app: measuring in headless Chromium (tests/node/app_bench.js)");
    let out = Command::new("node")
        .arg(node.join("app_bench.js"))
        .args(["--tree-url", &tree_app.url, "--requests", &opts.requests.to_string(), "--loads", &opts.loads.to_string()])
        .args(["--response-url", &resp_app.url, "--response", "Big response", "--viewer-mib", &opts.viewer_mib.to_string()])
        .args(["--live-a", &a_app.url, "--live-b", &b_app.url, "--live-request", "Live edit", "--edits", &opts.edits.to_string()])
        .args(["--web-url", &format!("{}/", server.base.trim_end_matches('/'))])
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `node` (Node 20+: scripts/install-test-deps.sh)")?;
    if !out.status.success() {
        bail!("tests/node/app_bench.js failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line).with_context(|| format!("app_bench.js printed no JSON: {stdout}"))?;

    let tree = numbers(&v["tree_ms"]);
    let open = percentile(&tree, 0.5);
    let what = format!("app: {} requests open to an interactive tree, median of {}", opts.requests, tree.len());
    report.row(&what, ms(open), "< 1 s", open < Duration::from_secs(1));
    let filter = numbers(&v["filter_ms"]);
    let (f50, fmax) = (percentile(&filter, 0.5), percentile(&filter, 1.0));
    report.row("app: filter keystroke, p50", ms(f50), "< 50 ms", f50 < Duration::from_millis(50));
    report.row("app: filter keystroke, slowest", ms(fmax), "< 50 ms", fmax < Duration::from_millis(50));
    let millis = |v: &Value| Duration::from_secs_f64(v.as_f64().unwrap_or(f64::MAX) / 1000.0);
    let stored = &v["response"]["stored"];
    figure("app: 1 MiB saved response selected to shown", ms(millis(&stored["shown_ms"])));
    let longest = millis(&stored["longest_task_ms"]);
    report.row("app: longest main-thread task meanwhile", ms(longest), "< 100 ms", longest < Duration::from_millis(100));
    let viewer = &v["response"]["viewer"];
    figure(&format!("app: {} MiB body given to the viewer, shown", opts.viewer_mib), ms(millis(&viewer["shown_ms"])));
    let longest = millis(&viewer["longest_task_ms"]);
    report.row("app: longest main-thread task meanwhile", ms(longest), "< 100 ms", longest < Duration::from_millis(100));
    println!("  (the viewer: {})", viewer["note"].as_str().unwrap_or_default());
    let live = numbers(&v["live_ms"]);
    let (l50, l95) = (percentile(&live, 0.5), percentile(&live, 0.95));
    report.row(
        &format!("app: edit reaching the other browser, p50 of {}", live.len()),
        ms(l50),
        "< 50 ms",
        l50 < Duration::from_millis(50),
    );
    figure("app: edit reaching the other browser, p95", ms(l95));
    let web = numbers(&v["web_live_ms"]);
    let (w50, w95) = (percentile(&web, 0.5), percentile(&web, 0.95));
    report.row(
        &format!("web version: edit reaching the other browser, p50 of {}", web.len()),
        ms(w50),
        "< 50 ms",
        w50 < Duration::from_millis(50),
    );
    figure("web version: edit reaching the other browser, p95", ms(w95));
    drop((tree_app, resp_app, a_app, b_app, server));
    Ok(())
}
