//! A flood of half-sent requests from one address cannot take the server's
//! descriptors: the per-address cap keeps it to its share, another address
//! is served promptly, the header timeout closes the flood, and when accept()
//! itself runs out of descriptors the server waits and recovers.
//!
//! Its own test binary because it lowers this process's RLIMIT_NOFILE. The
//! flood comes from a child process (this binary again, running the ignored
//! `attacker` test), so its sockets do not count against the server's limit.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[macro_use]
mod support;
use support::{Backend, TestServer};

/// The server's soft descriptor limit in this test.
const LIMIT: u64 = 512;
/// Half-sent requests in one flood.
const FLOOD: usize = 1100;
/// The head every flood connection sends, and never finishes.
const HALF: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: x\r\n";
/// The child learns its target from this variable.
const TARGET: &str = "APISYNC_DESCRIPTORS_ATTACK";
/// How long the child waits for the server to close its connections.
const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// What the attacker saw.
#[derive(Debug, Default)]
struct Report {
    opened: usize,
    /// Closed by the server within `HOLD_LIMIT` of READY.
    closed: usize,
    /// Still open one second after READY: the ones the server held.
    held: usize,
    /// The most descriptors the server's process had open, sampled by the
    /// attacker (from outside, so sampling needs none of the server's).
    peak: usize,
}

fn open_descriptors(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

fn field(line: &str, name: &str) -> usize {
    line.split_whitespace().find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok()).unwrap_or(0)
}

/// The attacker process, stopped if the test fails before it is done.
struct Attacker(Child);

impl Drop for Attacker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the child attacker against `target`; returns once it has opened
/// its connections, with a reader for its final report.
fn flood(target: SocketAddr) -> (Attacker, std::thread::JoinHandle<Report>, usize) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["attacker", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(TARGET, target.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Attacker(child);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut report = Report::default();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // The test harness may print on the same line first.
            let Some(at) = line.find("ATTACK ") else {
                continue;
            };
            let line = &line[at..];
            if line.starts_with("ATTACK ready") {
                report.opened = field(line, "opened");
                let _ = ready_tx.send(report.opened);
            } else if line.starts_with("ATTACK done") {
                report.closed = field(line, "closed");
                report.held = field(line, "held");
                report.peak = field(line, "peak");
            }
        }
        report
    });
    let opened = ready_rx.recv_timeout(Duration::from_secs(60)).expect("the attacker opened its connections within 60 s");
    (child, reader, opened)
}

/// `GET /healthz` from 127.0.0.2 over a fresh connection: the status line.
async fn health_from_another_address(to: SocketAddr) -> std::io::Result<String> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 0, 0, 2], 0)))?;
    let mut stream = socket.connect(to).await?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string())
}

fn addr(h: &TestServer) -> SocketAddr {
    h.base.trim_start_matches("http://").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_cannot_exhaust_descriptors() {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    rlimit::setrlimit(rlimit::Resource::NOFILE, LIMIT, hard).unwrap();

    // 1. The caps keep the flood to its share, well below the limit.
    let header_timeout = Duration::from_secs(5);
    let h = TestServer::start(Backend::Sqlite, |c| {
        c.header_timeout = header_timeout;
        c.max_connections = Some(200);
        c.max_connections_per_address = 100;
    })
    .await;
    let before = open_descriptors("self");
    let (child, reader, opened) = flood(addr(&h));
    let ready = Instant::now();
    let started = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(2), health_from_another_address(addr(&h)))
        .await
        .expect("another address was served within 2 s during the flood")
        .unwrap();
    assert!(status.contains("200"), "{status}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(ready.elapsed() < header_timeout, "the check ran after the flood's header timeout; it proves nothing");
    assert!(opened >= FLOOD - 50, "the attacker opened only {opened} connections");
    let report = tokio::task::spawn_blocking(move || reader.join().unwrap()).await.unwrap();
    drop(child);
    assert_eq!(report.closed, report.opened, "the server closed every half-sent request: {report:?}");
    assert!(report.held > 0 && report.held <= 100, "the server held {} of one address's connections (cap 100)", report.held);
    assert!(report.peak <= before + 100 + 16, "the server had {} descriptors open under the flood (before it: {before})", report.peak);
    drop(h);

    // 2. With caps above the limit, accept() runs out of descriptors: the
    // server backs off, the header timeout frees descriptors, and it serves
    // again.
    let h = TestServer::start(Backend::Sqlite, |c| {
        c.header_timeout = Duration::from_secs(2);
        c.max_connections = Some(100_000);
        c.max_connections_per_address = 100_000;
    })
    .await;
    let (child, reader, _) = flood(addr(&h));
    let started = Instant::now();
    let served = loop {
        assert!(started.elapsed() < Duration::from_secs(60), "the server never served again after running out of descriptors");
        // This process shares the server's limit: creating the socket may fail too.
        match tokio::time::timeout(Duration::from_secs(30), health_from_another_address(addr(&h))).await {
            Ok(Ok(status)) if status.contains("200") => break status,
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    assert!(served.contains("200"));
    let report = tokio::task::spawn_blocking(move || reader.join().unwrap()).await.unwrap();
    drop(child);
    assert_eq!(report.closed, report.opened, "every half-sent request was closed in the end: {report:?}");
    assert!(report.peak as u64 >= LIMIT - 4, "the flood never ran the server out of descriptors ({report:?}); this proves nothing");
}

/// The flood: run by the test above as a child process.
#[test]
#[ignore = "the attacker process of half_sent_requests_cannot_exhaust_descriptors"]
fn attacker() {
    let Ok(target) = std::env::var(TARGET) else {
        return;
    };
    let target: SocketAddr = target.parse().unwrap();
    // The parent lowered the limit this process inherited.
    rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let server_pid = std::os::unix::process::parent_id().to_string();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(open_descriptors(&server_pid));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (closed, held) = rt.block_on(async move {
        let mut streams = Vec::new();
        for _ in 0..FLOOD / 100 {
            let mut batch = tokio::task::JoinSet::new();
            for _ in 0..100 {
                batch.spawn(async move {
                    let mut stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(target)).await.ok()?.ok()?;
                    // The server may already have closed it (over the cap).
                    let _ = stream.write_all(HALF).await;
                    Some(stream)
                });
            }
            while let Some(done) = batch.join_next().await {
                streams.extend(done.ok().flatten());
            }
        }
        println!("ATTACK ready opened={}", streams.len());
        let ready = tokio::time::Instant::now();
        let mut waits = tokio::task::JoinSet::new();
        for mut stream in streams {
            waits.spawn(async move {
                let mut buf = [0u8; 256];
                let until_closed = async {
                    loop {
                        if matches!(stream.read(&mut buf).await, Ok(0) | Err(_)) {
                            return ready.elapsed();
                        }
                    }
                };
                tokio::time::timeout(HOLD_LIMIT, until_closed).await.ok()
            });
        }
        let (mut closed, mut held) = (0, 0);
        while let Some(done) = waits.join_next().await {
            if let Ok(Some(after)) = done {
                closed += 1;
                if after > Duration::from_secs(1) {
                    held += 1;
                }
            }
        }
        (closed, held)
    });
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    println!("ATTACK done closed={closed} held={held} peak={peak}");
}
