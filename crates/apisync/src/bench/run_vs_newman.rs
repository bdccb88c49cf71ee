//! `apisync bench --run`: `apisync run` of a collection of `--run-requests`
//! requests, each with test scripts, against a local HTTP server, beside
//! newman on the same collection and server in the same run: throughput
//! (requests a second, wall clock from start to exit) and peak memory of
//! each process.

use super::Report;
use anyhow::{Context, bail};
use axum::Router;
use axum::routing::any;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the run benchmark measures.
pub struct RunBench {
    /// Requests in the collection.
    pub requests: usize,
    /// Runs of each client; the median is reported.
    pub rounds: usize,
}

/// The collection: `requests` GETs of `{{base}}/items/N`, each with two tests
/// (status, a JSON field) and the collection's pre-request script.
fn collection(requests: usize, base: &str) -> Value {
    let test = json!([{ "listen": "test", "script": { "type": "text/javascript", "exec": [
        "pm.test(\"status is 200\", function () { pm.response.to.have.status(200); });",
        "pm.test(\"the item is ok\", function () { pm.expect(pm.response.json().ok).to.eql(true); });"
    ] } }]);
    let items: Vec<Value> = (0..requests)
        .map(|i| {
            json!({
                "name": format!("Item {i}"),
                "event": test,
                "request": { "method": "GET", "header": [{ "key": "Accept", "value": "application/json" }], "url": format!("{{{{base}}}}/items/{i}") }
            })
        })
        .collect();
    json!({
        "info": { "name": "Bench run", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json" },
        "event": [{ "listen": "prerequest", "script": { "type": "text/javascript", "exec": ["pm.variables.set(\"sent\", Date.now());"] } }],
        "variable": [{ "key": "base", "value": base }],
        "item": items
    })
}

/// A local server answering every request with a small JSON body, on a thread of its own.
fn serve() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind the bench's HTTP server")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() else { return };
        rt.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let app = Router::new().fallback(any(|| async { axum::Json(json!({ "ok": true, "items": [1, 2, 3] })) }));
            let _ = axum::serve(listener, app).await;
        });
    });
    Ok(format!("http://{addr}"))
}

/// Where newman's command is: beside the sources this binary was built from, or under the current directory.
fn newman() -> anyhow::Result<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node");
    [built, PathBuf::from("tests/node")]
        .into_iter()
        .map(|d| d.join("node_modules/newman/bin/newman.js"))
        .find(|p| p.is_file())
        .context("tests/node has no newman: run scripts/install-test-deps.sh (Node 20+, npm)")
}

/// Runs `cmd` to its end: wall time and the process's peak resident memory (KiB).
#[allow(unsafe_code)] // wait4: the one way to read a child's own peak memory
fn measure(mut cmd: Command) -> anyhow::Result<(Duration, u64)> {
    let start = Instant::now();
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().context("cannot start the client")?;
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.context("no stderr")?;
    let drain = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // wait4, not Child::wait: it gives this one child's peak memory.
    // SAFETY: `pid` is our child, not yet waited for; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let took = start.elapsed();
    let err = drain.join().unwrap_or_default();
    if waited != pid {
        bail!("cannot wait for the client: {}", std::io::Error::last_os_error());
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("the client failed: {}", err.trim());
    }
    Ok((took, usage.ru_maxrss as u64))
}

fn median(mut v: Vec<(Duration, u64)>) -> (Duration, u64) {
    v.sort();
    v[v.len() / 2]
}

/// Measures both clients and reports the figures and the ratio.
pub fn run_vs_newman(opts: &RunBench, report: &mut Report) -> anyhow::Result<()> {
    let newman = newman()?;
    let base = serve()?;
    let tmp = tempfile::tempdir().context("cannot make a temporary directory")?;
    let file = tmp.path().join("bench.postman_collection.json");
    std::fs::write(&file, collection(opts.requests, &base).to_string()).context("cannot write the collection")?;
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let profile = tmp.path().join("profile");
    let out = Command::new(&exe).arg("--profile").arg(&profile).arg("import").arg(&file).stdin(Stdio::null()).output()?;
    if !out.status.success() {
        bail!("cannot import the bench collection: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    println!("run: {} requests with two tests each, against {base}; {} rounds of each client", opts.requests, opts.rounds);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    // Alternating, so a slow spell of the machine falls on both.
    for _ in 0..opts.rounds {
        let mut a = Command::new(&exe);
        a.arg("--profile").arg(&profile).args(["run", "Bench run", "--reporter", "json"]);
        ours.push(measure(a)?);
        let mut n = Command::new("node");
        n.arg(&newman).arg("run").arg(&file).args(["--reporters", "json", "--reporter-json-export"]).arg(tmp.path().join("newman.json"));
        theirs.push(measure(n)?);
    }
    let ((a_time, a_rss), (n_time, n_rss)) = (median(ours), median(theirs));
    let rate = |t: Duration| opts.requests as f64 / t.as_secs_f64();
    let (a_rate, n_rate) = (rate(a_time), rate(n_time));
    let figure = |what: &str, value: String| println!("  {what:<44} {value:>18}");
    figure("run: apisync run, requests/s", format!("{a_rate:.0}"));
    figure("run: newman run, requests/s", format!("{n_rate:.0}"));
    figure("run: apisync run, peak memory", format!("{:.1} MiB", a_rss as f64 / 1024.0));
    figure("run: newman run, peak memory", format!("{:.1} MiB", n_rss as f64 / 1024.0));
    let ratio = a_rate / n_rate;
    report.row("run: apisync's throughput over newman's", format!("{ratio:.1}x"), ">= 5x", ratio >= 5.0);
    Ok(())
}
