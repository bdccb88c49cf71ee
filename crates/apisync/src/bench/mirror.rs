//! `apisync bench --mirror`: a workspace mirrored into a v3 directory.
//! Mirroring --requests requests into an empty directory, a reconciliation
//! with nothing changed, one with one file edited, and the time from an
//! edit on one device to its file in another device's `mirror --watch`.
//! No peer keeps a workspace in files, so these figures stand alone.

use super::{ChildServer, Report};
use crate::mirror::Mirror;
use anyhow::{Context, bail};
use model::{Id, Kind};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the mirror benchmark measures.
pub struct MirrorBench {
    /// Requests in the mirrored workspace.
    pub requests: usize,
    /// Edits timed from one device to the other's file.
    pub edits: usize,
}

/// A collection of `requests` requests in folders of 100, each with a header, a body and a test.
fn collection(requests: usize) -> Value {
    let folders: Vec<Value> = (0..requests.div_ceil(100))
        .map(|f| {
            let items: Vec<Value> = (f * 100..((f + 1) * 100).min(requests))
                .map(|i| {
                    json!({
                        "name": format!("Request {i}"),
                        "event": [{ "listen": "test", "script": { "type": "text/javascript", "exec": ["pm.test(\"ok\", function () { pm.response.to.have.status(200); });"] } }],
                        "request": {
                            "method": "POST",
                            "header": [{ "key": "Content-Type", "value": "application/json" }],
                            "body": { "mode": "raw", "raw": format!("{{\"item\":{i}}}"), "options": { "raw": { "language": "json" } } },
                            "url": format!("{{{{base}}}}/items/{i}?page=1")
                        }
                    })
                })
                .collect();
            json!({ "name": format!("Folder {f}"), "item": items })
        })
        .collect();
    json!({
        "info": { "name": "Bench mirror", "schema": formats::SCHEMA_V21 },
        "variable": [{ "key": "base", "value": "http://127.0.0.1:9" }],
        "item": folders
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the mirror benchmark and adds its rows to `report`.
pub fn run_mirror(opts: &MirrorBench, report: &mut Report) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    println!("mirror: {} requests into an empty v3 directory, then reconciliations", opts.requests);
    let profile = tempfile::tempdir()?;
    let device = Arc::new(client::Device::open(profile.path())?);
    let ws = device.resolve_workspace(None)?;
    let bytes = serde_json::to_vec(&collection(opts.requests))?;
    let imported = formats::import(&bytes, ws.id, &mut Id::now_v7).context("cannot build the bench collection")?;
    device.import_documents(Some(&ws.id.to_string()), &imported.documents, false)?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("postman");

    let mut mirror = Mirror::open(device.clone(), &ws.id.to_string(), &root)?;
    let start = Instant::now();
    let first = mirror.pass()?;
    let full = start.elapsed();
    if first.wrote.written.len() < opts.requests {
        bail!("the first pass wrote {} files for {} requests", first.wrote.written.len(), opts.requests);
    }
    report.row(
        &format!("mirror {} requests into an empty dir", opts.requests),
        format!("{:.0} ms", ms(full)),
        "< 2 s",
        full < Duration::from_secs(2),
    );

    let mut noop = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let pass = mirror.pass()?;
        noop.push(start.elapsed());
        if pass.did_something() {
            bail!("a reconciliation with nothing changed did something: {pass:?}");
        }
    }
    noop.sort();
    let median = noop[noop.len() / 2];
    report.row(
        "reconcile with nothing changed, median of 5",
        format!("{:.0} ms", ms(median)),
        "< 0.3 s",
        median < Duration::from_millis(300),
    );

    // One file edited by hand: found, read, applied, written back.
    let request = device.list(Some(&ws.id.to_string()), Some(Kind::Request))?.into_iter().next().context("no request")?;
    let path = find_file(&root, &format!("{}.request.yaml", request.title()))?;
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, text.replace("/items/0?", "/items/edited?"))?;
    let start = Instant::now();
    let pass = mirror.pass()?;
    let one = start.elapsed();
    if pass.taken.applied != 1 {
        bail!("the edited file gave {} edits, not 1", pass.taken.applied);
    }
    report.row("reconcile with one file edited", format!("{:.0} ms", ms(one)), "(none)", true);
    drop(mirror);

    rt.block_on(latency(opts, report))
}

fn find_file(root: &Path, name: &str) -> anyhow::Result<std::path::PathBuf> {
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d)?.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                return Ok(p);
            }
        }
    }
    bail!("no {name} under {}", root.display())
}

/// An edit on device A until its file in device B's `mirror --watch` says so.
async fn latency(opts: &MirrorBench, report: &mut Report) -> anyhow::Result<()> {
    let server = ChildServer::spawn()?;
    let (pa, pb) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = client::Device::open(pa.path())?;
    a.signup(
        client::SignupOptions {
            server: server.base.clone(),
            email: "bench-mirror@example.com".into(),
            username: "bench-mirror".into(),
            password: "bench password".into(),
            device_name: Some("bench-a".into()),
            force: false,
        },
        None,
    )
    .await?;
    let b = client::Device::open(pb.path())?;
    b.login(
        client::LoginOptions {
            server: server.base.clone(),
            user: "bench-mirror".into(),
            password: "bench password".into(),
            device_name: Some("bench-b".into()),
            replace: None,
            force: false,
        },
        None,
    )
    .await?;
    let ws = a.resolve_workspace(None)?;
    let col = a.create(Kind::Collection, None, None, client::fields([("name", "Latency".into())]))?;
    let req =
        a.create(Kind::Request, Some(col), None, client::fields([("name", "Timed".into()), ("url", "http://127.0.0.1:9/0".into())]))?;
    a.sync().await?;
    b.sync().await?;
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("postman");
    let exe = std::env::current_exe().context("cannot find the apisync binary")?;
    let mut child = Command::new(exe)
        .arg("--profile")
        .arg(pb.path())
        .args(["mirror", &ws.id.to_string()])
        .arg(&root)
        .args(["--watch", "--for", "600"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .context("cannot start `apisync mirror --watch`")?;
    let file = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(p) = find_file(&root, "Timed.request.yaml") {
                break p;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("the watching mirror never wrote the request's file");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // Let the watcher settle into its live connection.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut samples = Vec::new();
    for i in 0..opts.edits {
        let url = format!("http://127.0.0.1:9/edit-{i}");
        let start = Instant::now();
        a.set(req, client::fields([("url", url.clone().into())]))?;
        a.sync().await?;
        let deadline = start + Duration::from_secs(5);
        loop {
            if std::fs::read_to_string(&file).is_ok_and(|t| t.contains(&url)) {
                samples.push(start.elapsed());
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("edit {i} did not reach the file within 5 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    report.row(
        &format!("edit on a device to the other's file, p50 of {}", samples.len()),
        format!("{:.1} ms (p95 {:.1})", ms(p(0.5)), ms(p(0.95))),
        "< 100 ms",
        p(0.5) < Duration::from_millis(100),
    );
    Ok(())
}
