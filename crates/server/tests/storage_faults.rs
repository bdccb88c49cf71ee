//! SQLite storage faults say what they are: a damaged database is refused
//! at start and, met while running, answered 503 with writes refused and
//! `/readyz` saying why (while `/healthz`, the process, stays 200); a
//! database file deleted under the server is not ready either; the WAL stays bounded under pushes and readers;
//! a graceful stop leaves `apisync.db` complete on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use model::{Id, Kind};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

#[macro_use]
mod support;
use support::{Backend, TestServer, create, error_code};

/// Pushes `n` small documents, one of them named `marker`; their ids.
async fn push_docs(s: &TestServer, token: &str, ws: Id, n: usize, marker: &str) -> Vec<Id> {
    let mut ids = Vec::new();
    let mut batch = vec![create(Kind::Environment, None, json!({"name": marker}))];
    for i in 0..n {
        batch.push(create(Kind::Environment, None, json!({"name": format!("filler {i} {}", "f".repeat(300))})));
        if batch.len() == 100 || i + 1 == n {
            s.push_ok(token, ws, &batch).await;
            ids.extend(batch.iter().map(|m| m.doc_id));
            batch.clear();
        }
    }
    ids
}

/// Overwrites the b-tree header of every page of `db` that holds `marker`;
/// how many pages it damaged.
fn damage_pages_holding(db: &Path, marker: &str) -> usize {
    let mut bytes = std::fs::read(db).unwrap();
    // The page size is in the file header (bytes 16-17, big-endian; 1 means 65536).
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => n as usize,
    };
    let pages: Vec<usize> =
        bytes.windows(marker.len()).enumerate().filter(|(_, w)| *w == marker.as_bytes()).map(|(at, _)| at / page_size).collect();
    let mut damaged = 0;
    for page in pages.iter().copied().collect::<std::collections::BTreeSet<_>>() {
        // Page 1 starts with the file header; its b-tree header follows it.
        let at = if page == 0 { 100 } else { page * page_size };
        bytes[at..at + 12].fill(0xEE);
        damaged += 1;
    }
    std::fs::write(db, bytes).unwrap();
    damaged
}

async fn ready(s: &TestServer) -> (u16, serde_json::Value) {
    s.call(reqwest::Method::GET, "/readyz", None, None).await
}

async fn alive(s: &TestServer) -> u16 {
    s.call(reqwest::Method::GET, "/healthz", None, None).await.0
}

/// A server on `dir` (SQLite), on a free port.
async fn start_on(dir: &Path) -> Result<server::RunningServer, server::StartError> {
    let mut config = server::Config::new(dir.to_path_buf());
    config.addr = "127.0.0.1:0".parse().unwrap();
    server::start(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_refused_at_start() {
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    let ann = s.signup("ann").await;
    let marker = format!("marker-{}", Id::now_v7().simple());
    push_docs(&s, &ann.token, ann.workspaces[0].id, 50, &marker).await;
    let dir = s.shutdown().await;
    let db = dir.path().join("apisync.db");
    assert!(damage_pages_holding(&db, &marker) > 0, "the marker was not in {} after a clean stop", db.display());

    let refused = start_on(dir.path()).await;
    let message = refused.err().expect("a damaged database must not start").to_string();
    assert!(message.contains(&db.display().to_string()), "the message names the file: {message}");
    assert!(message.contains("apisync backup") && message.contains("restore"), "the message says what to do: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_met_while_running_refuses_writes_and_fails_readiness() {
    let marker = format!("marker-{}", Id::now_v7().simple());
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    let ann = s.signup("ann").await;
    let (token, ws) = (ann.token, ann.workspaces[0].id);
    push_docs(&s, &token, ws, 400, &marker).await;
    // A fresh start: no reader has the marker's page cached.
    let s = s.restart().await;
    assert_eq!(ready(&s).await.0, 200);
    assert!(damage_pages_holding(&s.dir.path().join("apisync.db"), &marker) > 0);

    let (status, v) = s.call(reqwest::Method::GET, &format!("/v1/workspaces/{ws}/changes?after=0&limit=10000"), Some(&token), None).await;
    assert_eq!((status, error_code(&v)), (503, protocol::ErrorCode::Unavailable), "a pull over a damaged page: {v}");
    // The push touches no damaged page; it is refused all the same.
    let (status, v) = s.push(&token, ws, &[create(Kind::Environment, None, json!({"name": "after the damage"}))]).await;
    assert_eq!((status, error_code(&v)), (503, protocol::ErrorCode::Unavailable), "a push after the damage: {v}");
    let (status, v) = ready(&s).await;
    assert_eq!(status, 503, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("damaged") || message.contains("corrupt"), "/readyz says why: {message}");
    assert_eq!(alive(&s).await, 200, "the process itself is alive");
    let (status, _) = s.push(&token, ws, &[create(Kind::Environment, None, json!({"name": "still refused"}))]).await;
    assert_eq!(status, 503, "writes stay refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_file_deleted_under_the_server_is_not_ready() {
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    s.signup("ann").await;
    assert_eq!(ready(&s).await.0, 200);
    let db = s.dir.path().join("apisync.db");
    std::fs::rename(&db, s.dir.path().join("moved-away.db")).unwrap();
    let (status, v) = ready(&s).await;
    assert_eq!((status, error_code(&v)), (503, protocol::ErrorCode::Unavailable), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&db.display().to_string()) && message.contains("gone"), "/readyz names the file and says why: {message}");
    assert_eq!(alive(&s).await, 200);
}

/// Bytes of the WAL beside `db`, 0 when there is none.
fn wal_bytes(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("apisync.db-wal")).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_pushes_and_busy_readers() {
    const LIMIT: u64 = 1024 * 1024;
    // What the pushes committed while a checkpoint waits for readers may add past the limit.
    const SLACK: u64 = 3 * 1024 * 1024;
    let s = TestServer::start(Backend::Sqlite, |c| c.wal_limit = LIMIT).await;
    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    push_docs(&s, &ann.token, ws, 200, "seed").await;
    // Two readers that take turns holding a snapshot, so that at every
    // moment one of them is reading: the WAL can never wrap by itself.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..2u64)
        .map(|n| {
            let (db, stop) = (s.dir.path().join("apisync.db"), stop.clone());
            std::thread::spawn(move || {
                let conn = rusqlite::Connection::open(db).unwrap();
                std::thread::sleep(Duration::from_millis(100 * n));
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                    conn.execute_batch("BEGIN").unwrap();
                    let _: i64 = conn.query_row("SELECT COUNT(*) FROM docs", [], |r| r.get(0)).unwrap();
                    std::thread::sleep(Duration::from_millis(200));
                    conn.execute_batch("COMMIT").unwrap();
                }
            })
        })
        .collect();
    let (mut written, mut largest) = (0u64, 0u64);
    let started = Instant::now();
    for round in 0..200 {
        let batch: Vec<_> =
            (0..50).map(|i| create(Kind::Environment, None, json!({"name": format!("{round}-{i} {}", "w".repeat(2000))}))).collect();
        s.push_ok(&ann.token, ws, &batch).await;
        written += 50 * 2000;
        largest = largest.max(wal_bytes(s.dir.path()));
        if started.elapsed() > Duration::from_secs(90) {
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    eprintln!("{written} bytes of documents pushed in {:?}; the WAL reached {largest} bytes", started.elapsed());
    assert!(written > 2 * (LIMIT + SLACK), "the test wrote too little to mean anything: {written} bytes");
    assert!(largest <= LIMIT + SLACK, "the WAL reached {largest} bytes with a limit of {LIMIT} ({written} bytes of documents pushed)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_leaves_a_complete_database_file() {
    for run in 0..3 {
        let s = TestServer::start(Backend::Sqlite, |_| {}).await;
        let ann = s.signup("ann").await;
        let ws = ann.workspaces[0].id;
        let acked = push_docs(&s, &ann.token, ws, 300 + run * 50, &format!("run {run}")).await;
        let dir = s.shutdown().await;

        // Only the database file, as a backup script copying it would.
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(dir.path().join("apisync.db"), copy.path().join("apisync.db")).unwrap();
        let conn = rusqlite::Connection::open(copy.path().join("apisync.db")).unwrap();
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "run {run}");
        for id in &acked {
            let found: i64 = conn.query_row("SELECT COUNT(*) FROM docs WHERE id = ?1", [id.to_string()], |r| r.get(0)).unwrap();
            assert_eq!(found, 1, "run {run}: acknowledged document {id} is missing from the copied apisync.db");
        }
    }
}
