//! W1: one edit of about 1 KB on device A, made as `apisync set` makes it
//! (`Device::set`, then a sync), until it is in device B's local store. B
//! runs the live loop (`Device::watch`, as `sync --watch` and the app do);
//! the bench hears B's store commit through `Device::local_writes`.

use super::devices::{TestDevice, seen};
use super::figures::W1;
use super::{ChildServer, fields, request_fields};
use anyhow::Context;
use model::Kind;
use serde_json::json;
use std::time::{Duration, Instant};

/// Edits made first, not counted (connections, caches, the first WAL pages).
const WARM_UP: usize = 20;
/// Longest one sample may take.
const SAMPLE_LIMIT: Duration = Duration::from_secs(10);
/// Longest the whole workload may take; fewer samples are reported if it is reached.
const LIMIT: Duration = Duration::from_secs(300);

/// The new description for edit `i`: about 1 KB, different every time.
fn edit(i: usize) -> String {
    let line = format!("edit {i}: fetches the paginated order list for a customer; used by the checkout regression suite. ");
    line.repeat(1000 / line.len() + 1)[..1000].to_string()
}

pub(super) async fn run(samples: usize) -> anyhow::Result<W1> {
    let server = ChildServer::spawn()?;
    let device_a = TestDevice::signup(&server.base, "bench-w1").await?;
    let device_b = TestDevice::login(&server.base, "bench-w1", "bench-w1-b").await?;
    let (a, b) = (&device_a.device, &device_b.device);
    let col = a.create(Kind::Collection, None, None, fields(json!({"name": "W1"})))?;
    let req = a.create(Kind::Request, Some(col), None, request_fields(1, 0))?;
    a.sync().await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let b = b.clone();
        tokio::spawn(async move {
            b.watch(
                client::WatchOptions::default(),
                async {
                    let _ = stopped.await;
                },
                |_| {},
            )
            .await
        })
    };
    seen(b, req, Duration::from_secs(30), |_| true).await.context("device B never got the request")?;

    let mut took = Vec::with_capacity(samples);
    // Durable commits on each side per sample, the store's own count
    // (each one an fsync of the WAL at `synchronous=FULL`).
    let commits = |d: &client::Device| *d.local_writes().borrow();
    let (mut a_commits, mut b_commits) = (0u64, 0u64);
    let started = Instant::now();
    for i in 0..WARM_UP + samples {
        if started.elapsed() > LIMIT {
            println!("W1: stopped after {} samples ({} s limit)", took.len(), LIMIT.as_secs());
            break;
        }
        let text = edit(i);
        let (a0, b0) = (commits(a), commits(b));
        let start = Instant::now();
        a.set(req, fields(json!({ "description": text })))?;
        let want = json!(text);
        let arrived = async {
            let at = seen(b, req, SAMPLE_LIMIT, |d| d.fields.get("description") == Some(&want)).await?;
            anyhow::Ok((at, commits(b)))
        };
        let (synced, arrived) = tokio::join!(a.deliver(), arrived);
        synced?;
        let (at, b_at) = arrived.with_context(|| format!("W1 sample {i}"))?;
        if i >= WARM_UP {
            took.push(at.duration_since(start));
            // B's count when the document showed: what stood before it.
            b_commits += b_at - b0;
            a_commits += commits(a) - a0;
        }
    }
    let _ = stop.send(());
    watcher.await??;
    took.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    let sorted_ms: Vec<f64> = took.iter().map(ms).collect();
    let pct = |p| ms(&super::percentile(&took, p));
    let w1 = W1 {
        samples: took.len(),
        warmup: WARM_UP,
        edit_bytes: edit(0).len(),
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        min_ms: sorted_ms.first().copied().unwrap_or(0.0),
        max_ms: sorted_ms.last().copied().unwrap_or(0.0),
        mean_ms: sorted_ms.iter().sum::<f64>() / sorted_ms.len().max(1) as f64,
        a_commits_per_edit: a_commits as f64 / took.len().max(1) as f64,
        b_commits_until_seen: b_commits as f64 / took.len().max(1) as f64,
        sorted_ms,
    };
    println!(
        "W1: edit on A (set + deliver, as the CLI does) until in B's store (B live), {} samples: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        w1.samples, w1.p50_ms, w1.p90_ms, w1.p99_ms
    );
    println!(
        "W1: durable commits per edit: {:.1} on A (the edit and its sync), {:.1} on B up to and with the one that showed it",
        w1.a_commits_per_edit, w1.b_commits_until_seen
    );
    Ok(w1)
}
