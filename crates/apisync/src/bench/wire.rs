//! A loopback TCP relay in front of a server that counts what a device
//! really sends and receives: bytes each way (TCP payload, headers
//! included, compressed as sent) and HTTP/1.1 requests. A device signed in
//! through it keeps using it, so every request it makes is counted, by
//! nothing the device or the server knows of.

use anyhow::Context;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct Counts {
    up: AtomicU64,
    down: AtomicU64,
    requests: AtomicU64,
    /// A request whose body length could not be told (chunked): counting stopped on its connection.
    lost: AtomicBool,
}

/// What went through since the last [`Relay::reset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    pub requests: u64,
    /// Device to server.
    pub up: u64,
    /// Server to device.
    pub down: u64,
    /// Whether some requests may not have been counted.
    pub lost: bool,
}

/// The relay; stops when dropped.
pub(super) struct Relay {
    /// Its URL, for the device to sign in to.
    pub base: String,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// A relay to the server at `target` (`http://HOST:PORT`).
    pub async fn start(target: &str) -> anyhow::Result<Relay> {
        let addr = target.strip_prefix("http://").context("the relay needs an http:// server")?.trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let (addr, c) = (addr.clone(), c.clone());
                tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(&addr).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        relay(inbound, outbound, c).await;
                    }
                });
            }
        });
        Ok(Relay { base, counts, task })
    }

    /// Starts counting afresh.
    pub fn reset(&self) {
        for c in [&self.counts.up, &self.counts.down, &self.counts.requests] {
            c.store(0, Relaxed);
        }
        self.counts.lost.store(false, Relaxed);
    }

    pub fn seen(&self) -> Seen {
        Seen {
            requests: self.counts.requests.load(Relaxed),
            up: self.counts.up.load(Relaxed),
            down: self.counts.down.load(Relaxed),
            lost: self.counts.lost.load(Relaxed),
        }
    }
}

async fn relay(inbound: TcpStream, outbound: TcpStream, counts: Arc<Counts>) {
    let (mut from_device, mut to_device) = inbound.into_split();
    let (mut from_server, mut to_server) = outbound.into_split();
    let c = counts.clone();
    let up = async move {
        let mut heads = Heads::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from_device.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            c.up.fetch_add(n as u64, Relaxed);
            c.requests.fetch_add(heads.feed(&buf[..n]), Relaxed);
            if heads.lost {
                c.lost.store(true, Relaxed);
            }
            if to_server.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_server.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            counts.down.fetch_add(n as u64, Relaxed);
            if to_device.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to_device.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Finds the request heads in a device's byte stream: a head ends at a
/// blank line, and its `Content-Length` body follows. After an upgrade
/// (the live channel) the rest is not HTTP and is not looked at.
#[derive(Default)]
struct Heads {
    head: Vec<u8>,
    body_left: u64,
    tunnel: bool,
    lost: bool,
}

impl Heads {
    /// Takes the next bytes; returns how many requests began in them.
    fn feed(&mut self, mut data: &[u8]) -> u64 {
        let mut found = 0;
        loop {
            if self.tunnel {
                return found;
            }
            if self.body_left > 0 {
                let n = (self.body_left as usize).min(data.len());
                self.body_left -= n as u64;
                data = &data[n..];
            }
            if data.is_empty() {
                return found;
            }
            let had = self.head.len();
            self.head.extend_from_slice(data);
            // The blank line may straddle two reads.
            let from = had.saturating_sub(3);
            let Some(end) = self.head[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|p| from + p + 4) else {
                return found;
            };
            found += 1;
            let text = String::from_utf8_lossy(&self.head[..end]).to_ascii_lowercase();
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("content-length:") {
                    self.body_left = v.trim().parse().unwrap_or(0);
                } else if line.starts_with("upgrade:") {
                    self.tunnel = true;
                } else if line.starts_with("transfer-encoding:") && line.contains("chunked") {
                    self.tunnel = true;
                    self.lost = true;
                }
            }
            // What followed the head in this read: its body, then maybe the next request.
            let consumed_now = end - had;
            data = &data[consumed_now..];
            self.head.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_counted_across_reads_and_bodies_skipped() {
        let mut h = Heads::default();
        let body = "{\"a\":\"\r\n\r\n\"}";
        let two = format!("POST /p HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}GET /g HTTP/1.1\r\nhost: x\r\n\r\n", body.len());
        let bytes = two.as_bytes();
        // Split at every point: always two requests, never the blank line inside the body.
        for cut in 0..bytes.len() {
            let mut h2 = Heads::default();
            assert_eq!(h2.feed(&bytes[..cut]) + h2.feed(&bytes[cut..]), 2, "cut at {cut}");
        }
        assert_eq!(h.feed(bytes), 2);
        assert_eq!(h.feed(b"GET /live HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 1);
        assert!(!h.lost);
    }

    #[tokio::test]
    async fn the_relay_counts_requests_and_bytes() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = format!("http://{}", server.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = server.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let mut got = Vec::new();
            while !got.ends_with(b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await.unwrap();
        });
        let relay = Relay::start(&target).await.unwrap();
        let mut c = TcpStream::connect(relay.base.trim_start_matches("http://")).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut answer = vec![0u8; 27];
        c.read_exact(&mut answer).await.unwrap();
        let seen = relay.seen();
        assert_eq!((seen.requests, seen.up, seen.down), (1, 18, 27));
        relay.reset();
        assert_eq!(relay.seen().requests, 0);
    }
}
