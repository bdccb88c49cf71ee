//! The peer: a benchmark of another sync system over the same workloads
//! (e.g. `tests/peers/pouchdb`: PouchDB replicating through
//! express-pouchdb). Its folder may be read-only, so it runs on a copy in a
//! temporary directory: `./run.sh --out FILE` when there is one (it
//! installs its npm packages), else `node bench.js --out FILE`. What it
//! writes is JSON; the figures compared are read from it by name, and any
//! it lacks are shown as not measured.

use anyhow::{Context, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest the peer may run (its own watchdog stops it sooner).
const LIMIT: Duration = Duration::from_secs(45 * 60);

/// The peer's figures the comparison uses, and everything it wrote.
#[derive(Debug, Default)]
pub(super) struct Peer {
    pub w1_p50_ms: Option<f64>,
    pub w1_p90_ms: Option<f64>,
    pub w1_p99_ms: Option<f64>,
    pub w1_min_ms: Option<f64>,
    pub w1_max_ms: Option<f64>,
    pub w2_e2e_per_s: Option<f64>,
    pub w2_local_per_s: Option<f64>,
    pub w2_server_cpu_us_per_doc: Option<f64>,
    pub w3_docs: Option<f64>,
    pub w3_seconds: Option<f64>,
    pub w3_bytes_down: Option<f64>,
    /// Live clients at the peer's largest W4 step.
    pub w4_clients: Option<f64>,
    pub w4_kb_per_client: Option<f64>,
    pub w4_fan_out_ms: Option<f64>,
    pub raw: Value,
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

impl Peer {
    /// Reads the peer's JSON (the shape of pouchdb's bench.js `--out`).
    pub fn parse(raw: Value) -> Peer {
        let w2_docs = num(&raw, &["options", "w2Docs"]).or_else(|| num(&raw["w2"]["runs"][0], &["docs"]));
        let w2_local_ms = num(&raw, &["w2", "median", "local_write_ms"]);
        let cpu = raw["w2"]["runs"]
            .as_array()
            .map(|runs| runs.iter().filter_map(|r| Some(num(r, &["server_cpu_ms"])? * 1000.0 / num(r, &["docs"])?)).collect::<Vec<_>>());
        let last = raw["w4"]["shared"]["points"].as_array().and_then(|p| p.last()).cloned().unwrap_or(Value::Null);
        Peer {
            w1_p50_ms: num(&raw, &["w1", "p50_ms"]),
            w1_p90_ms: num(&raw, &["w1", "p90_ms"]),
            w1_p99_ms: num(&raw, &["w1", "p99_ms"]),
            w1_min_ms: num(&raw, &["w1", "min_ms"]),
            w1_max_ms: num(&raw, &["w1", "max_ms"]),
            w2_e2e_per_s: num(&raw, &["w2", "median", "e2e_mut_per_s"]),
            w2_local_per_s: w2_docs.zip(w2_local_ms).map(|(d, ms)| d * 1000.0 / ms.max(1e-9)),
            w2_server_cpu_us_per_doc: cpu.and_then(median),
            w3_docs: num(&raw["w3"]["runs"][0], &["docs"]),
            w3_seconds: num(&raw, &["w3", "median_seconds"]),
            w3_bytes_down: num(&raw, &["w3", "median_bytes_down"]),
            w4_clients: num(&last, &["clients"]),
            w4_kb_per_client: num(&last, &["kb_per_client_vs_base"]),
            w4_fan_out_ms: num(&raw, &["w4", "shared", "fanout", "last_ms"]),
            raw,
        }
    }
}

/// Where `program` is on PATH, if anywhere.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Copies `from` into `to` (made), files writable whatever they were.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e.file_type()?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)?;
            let mut perm = std::fs::metadata(&dst)?.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dst, perm)?;
        }
    }
    Ok(())
}

/// Runs the peer in a copy of `dir` on workloads `only` (w1..w4); `None`
/// when it cannot run here (no node), said on stdout.
pub(super) fn run(dir: &Path, only: &[&str], quick: bool) -> anyhow::Result<Option<Peer>> {
    if !dir.is_dir() {
        bail!("--peer {}: no such directory", dir.display());
    }
    if on_path("node").is_none() {
        println!("peer: not run (node is not on PATH); apisync's figures stand alone");
        return Ok(None);
    }
    let work = tempfile::tempdir()?;
    let copy = work.path().join("peer");
    copy_dir(dir, &copy).with_context(|| format!("cannot copy {} to a temporary directory", dir.display()))?;
    let out = copy.join("apisync-peer-results.json");
    let mut cmd = if copy.join("run.sh").is_file() {
        let mut c = Command::new("bash");
        c.arg("run.sh");
        c
    } else if copy.join("bench.js").is_file() {
        let mut c = Command::new("node");
        c.arg("bench.js");
        c
    } else {
        bail!("--peer {}: neither run.sh nor bench.js there", dir.display());
    };
    cmd.current_dir(&copy).arg("--out").arg(&out).arg("--only").arg(only.join(","));
    if quick {
        cmd.args(["--w1-samples", "100", "--w2-runs", "1", "--w3-runs", "1", "--w4-clients", "100,200"]);
    }
    println!(
        "peer: running {} in a copy of {} (its progress follows on stderr) ...",
        if copy.join("run.sh").is_file() { "./run.sh" } else { "node bench.js" },
        dir.display()
    );
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().context("cannot start the peer")?;
    let mut stdout = child.stdout.take().context("no stdout from the peer")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the peer ran longer than {} minutes and was stopped", LIMIT.as_secs() / 60);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let table = reader.join().unwrap_or_default();
    if !status.success() {
        println!("peer: it failed ({status}); apisync's figures stand alone. Its output:\n{table}");
        return Ok(None);
    }
    println!("peer: its own table ({:.0} s):\n{table}", started.elapsed().as_secs_f64());
    let raw: Value = serde_json::from_slice(&std::fs::read(&out).with_context(|| format!("the peer wrote no {}", out.display()))?)
        .context("the peer's results are not JSON")?;
    Ok(Some(Peer::parse(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_peers_figures_are_read_by_name() {
        let raw = json!({
            "options": {"w2Docs": 10000},
            "w1": {"p50_ms": 32.2, "p90_ms": 40.0, "p99_ms": 56.1, "min_ms": 20.0, "max_ms": 70.0},
            "w2": {"median": {"e2e_mut_per_s": 2629, "local_write_ms": 500.0}, "runs": [{"docs": 10000, "server_cpu_ms": 3000.0}, {"docs": 10000, "server_cpu_ms": 5000.0}]},
            "w3": {"median_seconds": 3.64, "median_bytes_down": 1610000, "runs": [{"docs": 10000}]},
            "w4": {"shared": {"points": [{"clients": 0}, {"clients": 500, "kb_per_client_vs_base": 265.0}], "fanout": {"last_ms": 16800.0}}}
        });
        let p = Peer::parse(raw);
        assert_eq!((p.w1_p50_ms, p.w1_p99_ms), (Some(32.2), Some(56.1)));
        assert_eq!(p.w2_e2e_per_s, Some(2629.0));
        assert_eq!(p.w2_local_per_s, Some(20_000.0));
        assert_eq!(p.w2_server_cpu_us_per_doc, Some(400.0));
        assert_eq!((p.w3_docs, p.w3_seconds), (Some(10000.0), Some(3.64)));
        assert_eq!((p.w4_clients, p.w4_kb_per_client, p.w4_fan_out_ms), (Some(500.0), Some(265.0), Some(16800.0)));
        let none = Peer::parse(json!({}));
        assert!(none.w1_p50_ms.is_none() && none.w4_fan_out_ms.is_none());
    }

    #[test]
    fn a_read_only_folder_is_copied_writable() {
        let from = tempfile::tempdir().unwrap();
        std::fs::create_dir(from.path().join("sub")).unwrap();
        std::fs::write(from.path().join("sub/a.js"), "x").unwrap();
        let mut p = std::fs::metadata(from.path().join("sub/a.js")).unwrap().permissions();
        p.set_readonly(true);
        std::fs::set_permissions(from.path().join("sub/a.js"), p).unwrap();
        let to = tempfile::tempdir().unwrap();
        copy_dir(from.path(), &to.path().join("c")).unwrap();
        assert!(!std::fs::metadata(to.path().join("c/sub/a.js")).unwrap().permissions().readonly());
        assert_eq!(std::fs::read_to_string(to.path().join("c/sub/a.js")).unwrap(), "x");
    }
}
