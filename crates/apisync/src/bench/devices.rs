//! The device-level workloads: what a person would feel, with
//! `client::Device` on both ends and durable local stores (a profile on
//! disk, SQLite WAL with `synchronous=FULL`, as every device runs), against
//! a real `apisync serve` child process; then the peer, the side-by-side
//! table, and with `--out` the figures as JSON and a chart.

use super::figures::Figures;
use super::{BenchArgs, Report, compare, peer};
use anyhow::Context;
use client::{Device, LoginOptions, SignupOptions};
use model::{Document, Id};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A device workload `--only` can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// One edit on device A until it is in device B's store.
    W1,
    /// 10,000 local edits, then sync; with server CPU per mutation.
    W2,
    /// Sign-in restores into fresh devices; with bytes on disk per document.
    W3,
    /// Server memory per live device and one change reaching all.
    W4,
    /// Push latency with 1,000 and with 1,000,000 documents in the workspace.
    Push,
    /// HTTP requests one edit and its sync cost.
    Requests,
}

/// A signed-in device on a profile of its own, removed when dropped.
pub(super) struct TestDevice {
    pub device: Arc<Device>,
    _dir: tempfile::TempDir,
}

impl TestDevice {
    fn open() -> anyhow::Result<(Arc<Device>, tempfile::TempDir)> {
        let dir = tempfile::tempdir()?;
        Ok((Arc::new(Device::open(dir.path())?), dir))
    }

    /// A new account `name` on `server`, signed up on a new device.
    pub async fn signup(server: &str, name: &str) -> anyhow::Result<TestDevice> {
        let (device, dir) = Self::open()?;
        device
            .signup(
                SignupOptions {
                    server: server.into(),
                    email: format!("{name}@bench.test"),
                    username: name.into(),
                    password: super::PASSWORD.into(),
                    device_name: Some(format!("{name}-a")),
                    force: false,
                },
                None,
            )
            .await
            .with_context(|| format!("cannot sign up {name}"))?;
        Ok(TestDevice { device, _dir: dir })
    }

    /// Account `name` signed in on a new device (which restores it).
    pub async fn login(server: &str, name: &str, device_name: &str) -> anyhow::Result<TestDevice> {
        let (device, dir) = Self::open()?;
        device
            .login(
                LoginOptions {
                    server: server.into(),
                    user: name.into(),
                    password: super::PASSWORD.into(),
                    device_name: Some(device_name.into()),
                    replace: None,
                    force: false,
                },
                None,
            )
            .await
            .with_context(|| format!("cannot sign in {name}"))?;
        Ok(TestDevice { device, _dir: dir })
    }
}

/// Waits until document `id` in `device`'s store satisfies `done`, woken by
/// each write the device commits (`Device::local_writes`), for at most
/// `limit`; returns when it was seen.
pub(super) async fn seen(device: &Device, id: Id, limit: Duration, done: impl Fn(&Document) -> bool) -> anyhow::Result<Instant> {
    let mut writes = device.local_writes();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        writes.borrow_and_update();
        if device.get(id).ok().is_some_and(|d| done(&d)) {
            return Ok(Instant::now());
        }
        tokio::time::timeout_at(deadline, writes.changed())
            .await
            .with_context(|| format!("document {id} did not arrive within {} s", limit.as_secs()))??;
    }
}

/// Runs the device workloads `args` selects, then the peer, and reports.
pub(super) fn run(runtime: &tokio::runtime::Runtime, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let want = |w: Workload| args.only.is_empty() || args.only.contains(&w);
    let mut f = Figures::new(args.quick);
    println!("device workloads: client::Device on both ends, durable stores, a fresh `apisync serve` child per workload");
    runtime.block_on(async {
        if want(Workload::Requests) {
            f.requests = Some(super::requests_per_edit::run().await?);
        }
        if want(Workload::W1) {
            f.w1 = Some(super::device_w1::run(args.w1_samples).await?);
        }
        if want(Workload::W2) {
            f.w2 = Some(super::device_w2::run(args.w2_edits).await?);
        }
        if want(Workload::W3) {
            for &n in &args.w3_requests {
                f.w3.push(super::device_w3::run(n).await?);
            }
        }
        if want(Workload::Push) {
            f.push = Some(super::push_latency::run(args.push_documents, args.push_samples, args.quick).await?);
        }
        if want(Workload::W4) {
            f.w4 = Some(super::device_w4::run(&args.w4_devices).await?);
        }
        anyhow::Ok(())
    })?;
    let only: Vec<&str> = [(Workload::W1, "w1"), (Workload::W2, "w2"), (Workload::W3, "w3"), (Workload::W4, "w4")]
        .into_iter()
        .filter(|(w, _)| want(*w))
        .map(|(_, n)| n)
        .collect();
    let peer = match &args.peer {
        Some(dir) if !only.is_empty() => peer::run(dir, &only, args.quick)?,
        Some(_) => {
            println!("peer: not run (none of w1-w4 selected)");
            None
        }
        None => {
            println!("peer: not run (pass --peer DIR, e.g. --peer tests/peers/pouchdb)");
            None
        }
    };
    let rows = compare::rows(&f, peer.as_ref());
    compare::print(&rows, report);
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let json = serde_json::json!({ "apisync": f, "peer": peer.as_ref().map(|p| &p.raw), "comparison": rows });
        std::fs::write(out.join("figures.json"), serde_json::to_vec_pretty(&json)?)?;
        super::chart::draw(&out.join("bench.svg"), &f, peer.as_ref())?;
        println!("wrote {} and {}", out.join("figures.json").display(), out.join("bench.svg").display());
    }
    Ok(())
}
