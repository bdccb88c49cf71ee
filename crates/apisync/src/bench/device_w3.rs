//! W3: sign-in restore of a workspace of N requests into a fresh device,
//! timed straight to the server; then again through the counting relay for
//! the bytes on the wire, against the gzip of the collection's Postman
//! export. The server's data directory then also gives the bytes on disk
//! per document, beside a document's JSON: at rest, after a clean stop has
//! checkpointed the write-ahead log (whose size while running is bounded by
//! `serve --wal-limit-mib`, whatever the data).

use super::devices::TestDevice;
use super::figures::W3;
use super::wire::Relay;
use super::{Account, ChildServer, applied, collection, seed};
use anyhow::{Context, bail};
use model::{Document, Kind};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest the pushes filling the workspace may take.
const SEED_LIMIT: Duration = Duration::from_secs(600);

fn gzip_len(data: &[u8]) -> anyhow::Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    Ok(enc.finish()?.len())
}

/// Bytes of the files directly in `dir` (the server keeps its database flat there).
fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let m = e?.metadata()?;
        if m.is_file() {
            total += m.len();
        }
    }
    Ok(total)
}

fn requests_of(device: &client::Device) -> anyhow::Result<Vec<Document>> {
    Ok(device.list(None, Some(Kind::Request))?)
}

pub(super) async fn run(n: usize) -> anyhow::Result<W3> {
    let mut server = ChildServer::spawn()?;
    let name = "bench-w3";
    let owner = Account::signup(&server.base, name).await?;
    let ws = owner.personal()?;
    let col = collection("Restore");
    applied(&owner.push(ws, vec![col.clone()]).await?)?;
    let pushed = seed(&server.base, &owner.session.token, ws, col.doc_id, n, 2000, Instant::now() + SEED_LIMIT).await?;
    if pushed != n {
        bail!("W3: only {pushed} of {n} requests were pushed within {} s", SEED_LIMIT.as_secs());
    }
    let running = dir_bytes(server.data_dir())?;

    // The figure: a fresh device signing in straight to the server.
    let start = Instant::now();
    let timed = TestDevice::login(&server.base, name, "bench-w3-timed").await?;
    let seconds = start.elapsed().as_secs_f64();
    let docs = requests_of(&timed.device)?;
    if docs.len() != n {
        bail!("the device restored {} requests, not {n}", docs.len());
    }
    drop(timed);

    // The bytes: the same restore through the relay.
    let relay = Relay::start(&server.base).await?;
    let counted = TestDevice::login(&relay.base, name, "bench-w3-counted").await?;
    let wire = relay.seen();
    if requests_of(&counted.device)?.len() != n {
        bail!("the device signed in through the relay did not restore all {n} requests");
    }
    let all = counted.device.live_documents(ws)?;
    let col_doc = all.iter().find(|d| d.id == col.doc_id).context("the collection did not come back")?;
    let export = formats::export_collection(col_doc, &all).context("cannot export the collection")?;
    let export_gzip = gzip_len(&serde_json::to_vec(&export)?)?;
    server.stop()?;
    let disk = dir_bytes(server.data_dir())?;
    let json_total: usize = docs.iter().map(|d| serde_json::to_vec(d).map_or(0, |v| v.len())).sum();
    let doc_json = json_total as f64 / n as f64;
    let per_doc = disk as f64 / n as f64;
    let w3 = W3 {
        requests: n,
        seconds,
        bytes_down: wire.down,
        bytes_up: wire.up,
        export_gzip_bytes: export_gzip,
        wire_over_gzip: wire.down as f64 / export_gzip as f64,
        disk_bytes: disk,
        disk_bytes_per_doc: per_doc,
        doc_json_bytes: doc_json,
        disk_over_json: per_doc / doc_json,
    };
    println!(
        "W3: sign-in restore of {n} requests into a fresh device: {:.3} s; {} KiB down ({} requests, {} KiB up) vs {} KiB gzip of their Postman export ({:.2}x)",
        w3.seconds,
        w3.bytes_down / 1024,
        wire.requests,
        w3.bytes_up / 1024,
        export_gzip / 1024,
        w3.wire_over_gzip
    );
    println!(
        "W3: server data directory {:.1} MiB at rest for {n} requests ({:.1} MiB while running, with its write-ahead log): {:.0} bytes per document, a document's JSON {:.0} bytes ({:.2}x)",
        disk as f64 / 1048576.0,
        running as f64 / 1048576.0,
        per_doc,
        doc_json,
        w3.disk_over_json
    );
    Ok(w3)
}
