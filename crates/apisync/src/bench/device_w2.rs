//! W2: local edits on device A (`Device::create` of a ~1 KB request, one
//! durable transaction each, as the CLI and the app make them), then one
//! sync, until the server has them all: the device holds the server's
//! answer to the last (its outbox is empty). The server's CPU time over
//! the same window, per mutation, beside the floor (`server_cpu`).

use super::devices::TestDevice;
use super::figures::W2;
use super::{ChildServer, fields, request_fields, server_cpu};
use anyhow::bail;
use model::Kind;
use serde_json::json;
use std::time::{Duration, Instant};

/// Longest the sync may take.
const LIMIT: Duration = Duration::from_secs(600);

pub(super) async fn run(edits: usize) -> anyhow::Result<W2> {
    let server = ChildServer::spawn()?;
    let a = TestDevice::signup(&server.base, "bench-w2").await?;
    let a = &a.device;
    let ws = a.resolve_workspace(None)?.id;
    let col = a.create(Kind::Collection, None, None, fields(json!({"name": "W2"})))?;
    a.sync().await?;

    let start = Instant::now();
    for i in 0..edits {
        a.create(Kind::Request, Some(col), None, request_fields(i, 0))?;
    }
    let local = start.elapsed();
    let cpu_before = server.cpu()?;
    let sync_start = Instant::now();
    // Watch the outbox empty while the sync runs: that is the moment the
    // server has everything (the sync goes on to pull).
    let all_in = async {
        let deadline = Instant::now() + LIMIT;
        loop {
            if a.pending()? == 0 {
                return anyhow::Ok((Instant::now(), server.cpu()?));
            }
            if Instant::now() > deadline {
                bail!("W2: the server did not have all {edits} edits within {} s", LIMIT.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let (synced, all_in) = tokio::join!(tokio::time::timeout(LIMIT, a.sync()), all_in);
    let sync_returned = start.elapsed();
    synced??;
    let (done, cpu_after) = all_in?;
    let e2e = done.duration_since(start);
    let cpu = cpu_after.saturating_sub(cpu_before);
    let floor = server_cpu::raw_insert(&server.data_dir().join("apisync.db"), ws)?;
    let floor_per = floor.cpu_ms * 1000.0 / floor.mutations.max(1) as f64;
    let w2 = W2 {
        edits,
        local_ms: local.as_secs_f64() * 1000.0,
        local_per_s: edits as f64 / local.as_secs_f64(),
        e2e_ms: e2e.as_secs_f64() * 1000.0,
        e2e_per_s: edits as f64 / e2e.as_secs_f64(),
        sync_returned_ms: sync_returned.as_secs_f64() * 1000.0,
        sync_part_per_s: edits as f64 / done.duration_since(sync_start).as_secs_f64(),
        server_cpu_ms: cpu.as_secs_f64() * 1000.0,
        server_cpu_us_per_mutation: cpu.as_secs_f64() * 1e6 / edits as f64,
        floor_cpu_us_per_mutation: floor_per,
        floor,
    };
    println!(
        "W2: {edits} edits on A, one durable transaction each: {:.0} ms ({:.0}/s); then sync until the server has all: {:.0} ms from the first edit ({:.0} edits/s end to end; the sync part alone {:.0}/s); sync returned at {:.0} ms",
        w2.local_ms, w2.local_per_s, w2.e2e_ms, w2.e2e_per_s, w2.sync_part_per_s, w2.sync_returned_ms
    );
    println!(
        "W2: server CPU {:.0} ms = {:.1} µs per mutation; raw rusqlite insert of the same rows ({} rows in {}; one transaction) {:.1} ms CPU = {:.1} µs per mutation",
        w2.server_cpu_ms,
        w2.server_cpu_us_per_mutation,
        w2.floor.rows,
        w2.floor.tables.join(", "),
        w2.floor.cpu_ms,
        w2.floor_cpu_us_per_mutation
    );
    Ok(w2)
}
