//! What one stranger or one account can do to the server's connections:
//! half-sent heads and stalled bodies, many connections from one address,
//! one token opening many live connections, a live client that stops
//! reading, a live connection outliving its session, and a spoofed
//! X-Forwarded-For. Every loop is bounded in count and in time.

use futures_util::StreamExt;
use model::{Id, Kind, Mutation, Op};
use protocol::{LiveMessage, PushResponse};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::{Backend, TestServer, fields};

type Live = tokio_tungstenite::WebSocketStream<TcpStream>;

fn addr(h: &TestServer) -> SocketAddr {
    h.base.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to the server from `from` (any 127.x address is ours).
async fn connect_from(to: SocketAddr, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(to).await.unwrap()
}

/// Reads until the server closes the connection; how long that took, or
/// `None` if it was still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// `GET /healthz` over a fresh connection from `from`: the status line.
async fn health_from(to: SocketAddr, from: [u8; 4]) -> String {
    let mut stream = connect_from(to, from).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await.expect("an answer within 5 s").unwrap();
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
}

/// A live connection for `token` over `stream`; its hello is read.
async fn live_over(h: &TestServer, token: &str, stream: TcpStream) -> Live {
    let mut req = format!("{}/v1/live", h.base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(req, stream).await.unwrap();
    assert!(matches!(next_message(&mut ws, Duration::from_secs(5)).await, Some(LiveMessage::Hello { .. })));
    ws
}

async fn live(h: &TestServer, token: &str) -> Live {
    live_over(h, token, TcpStream::connect(addr(h)).await.unwrap()).await
}

/// The next text frame; `None` once the connection has ended (a Close
/// frame, the end of the stream or an error).
async fn next_message(ws: &mut Live, limit: Duration) -> Option<LiveMessage> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.expect("the live connection neither spoke nor closed in time") {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Whether the connection ends within `limit` (frames before the end are skipped).
async fn ends_within(ws: &mut Live, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Another device of the account `name` (a device is not told of its own pushes).
async fn other_device(h: &TestServer, name: &str) -> protocol::Session {
    let body = json!({"user": name, "password": "correct horse", "device": {"id": Id::now_v7(), "name": "pusher"}});
    let (s, v) = h.call(reqwest::Method::POST, "/v1/auth/login", None, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

async fn push(h: &TestServer, token: &str, ws: Id, mutations: &[Mutation]) -> PushResponse {
    let path = format!("/v1/workspaces/{ws}/push");
    let (s, v) = h.call(reqwest::Method::POST, &path, Some(token), Some(json!({ "mutations": mutations }))).await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

fn collection(description: String) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create {
            kind: Kind::Collection,
            parent_id: None,
            order_key: Some("V".into()),
            fields: fields(json!({"name": "C", "description": description})),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_is_cut_at_the_header_timeout() {
    let h = TestServer::start(Backend::Sqlite, |c| c.header_timeout = Duration::from_secs(1)).await;
    let mut stream = connect_from(addr(&h), [127, 0, 0, 1]).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let took = closed_within(&mut stream, Duration::from_secs(10)).await.expect("the half-sent request was closed within 10 s");
    assert!(took >= Duration::from_millis(800), "closed after {took:?}, before the header timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_after_its_headers_is_cut_at_the_idle_timeout() {
    let h = TestServer::start(Backend::Sqlite, |c| c.idle_timeout = Duration::from_secs(2)).await;
    let mut stream = connect_from(addr(&h), [127, 0, 0, 1]).await;
    stream
        .write_all(b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user\":")
        .await
        .unwrap();
    let took = closed_within(&mut stream, Duration::from_secs(15)).await.expect("the stalled request was closed within 15 s");
    assert!(took >= Duration::from_millis(1500), "closed after {took:?}, before the idle timeout");
    // The server is fine.
    assert!(health_from(addr(&h), [127, 0, 0, 1]).await.contains("200"));
}

// Other 127.x source addresses route without setup on Linux only.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_its_cap_of_connections_but_trusted_proxies_are_spared() {
    let h = TestServer::start(Backend::Sqlite, |c| c.max_connections_per_address = 5).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(addr(&h), [127, 0, 0, 1]).await);
    }
    // Both sides see the connections before the next one is counted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = connect_from(addr(&h), [127, 0, 0, 1]).await;
    let took = closed_within(&mut extra, Duration::from_secs(5)).await.expect("the sixth connection from one address was closed");
    assert!(took < Duration::from_secs(2), "closed after {took:?}: it should be closed at once");
    // Another address is served meanwhile.
    assert!(health_from(addr(&h), [127, 0, 0, 2]).await.contains("200"));
    drop(held);

    // A trusted proxy carries everybody's connections: no per-address cap.
    let h = TestServer::start(Backend::Sqlite, |c| {
        c.max_connections_per_address = 5;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect_from(addr(&h), [127, 0, 0, 1]).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(health_from(addr(&h), [127, 0, 0, 1]).await.contains("200"));
}

async fn one_token_keeps_at_most_the_cap_of_live_connections(b: Backend) {
    let h = TestServer::start(b, |_| {}).await;
    let ann = h.signup("ann").await;
    let mut conns = Vec::new();
    for _ in 0..20 {
        conns.push(live(&h, &ann.token).await);
    }
    // The oldest were closed to make room; the newest stay.
    let cap = 4;
    for (i, ws) in conns.iter_mut().enumerate().take(20 - cap) {
        assert!(ends_within(ws, Duration::from_secs(15)).await, "live connection {i} of 20 is still open");
    }
    let pusher = other_device(&h, "ann").await;
    let r = push(&h, &pusher.token, ann.workspaces[0].id, &[collection("d".into())]).await;
    for (i, ws) in conns.iter_mut().enumerate().skip(20 - cap) {
        match next_message(ws, Duration::from_secs(5)).await {
            Some(LiveMessage::Changes { seq, .. }) => assert_eq!(seq, r.seq),
            other => panic!("live connection {i} of 20 should be open and hear the push, got {other:?}"),
        }
    }
}

async fn a_live_client_that_stops_reading_is_disconnected(b: Backend) {
    const FRAMES: usize = 250;
    let h = TestServer::start(b, |_| {}).await;
    let ann = h.signup("ann").await;
    let ws_id = ann.workspaces[0].id;
    // A tiny receive window, so the server's writes block soon.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = live_over(&h, &ann.token, socket.connect(addr(&h)).await.unwrap()).await;
    let mut good = live(&h, &ann.token).await;
    let reader = tokio::spawn(async move {
        let mut heard = 0;
        while heard < FRAMES {
            match next_message(&mut good, Duration::from_secs(30)).await {
                Some(LiveMessage::Changes { .. }) => heard += 1,
                Some(_) => {}
                None => break,
            }
        }
        heard
    });
    // Each frame carries a ~60 KB document inline.
    let big = "x".repeat(60_000);
    let pusher = other_device(&h, "ann").await;
    for _ in 0..FRAMES {
        push(&h, &pusher.token, ws_id, &[collection(big.clone())]).await;
    }
    let heard = tokio::time::timeout(Duration::from_secs(60), reader).await.expect("the reading device kept up").unwrap();
    assert_eq!(heard, FRAMES, "the device that reads heard every change");
    let started = Instant::now();
    assert!(health_from(addr(&h), [127, 0, 0, 1]).await.contains("200"));
    assert!(started.elapsed() < Duration::from_secs(2), "the server stayed responsive");
    // Give the server its write timeout to give up on the stalled device,
    // then read what it managed to send: the stream must end.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let mut got = 0;
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match slow.next().await {
                Some(Ok(Message::Text(_))) => got += 1,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the device that stopped reading was still connected (it had {got} frames)");
    assert!(got < FRAMES, "the stalled device was cut off, yet heard all {got} frames");
}

async fn a_live_connection_ends_with_its_session(b: Backend) {
    let h = TestServer::start(b, |c| c.session_idle_timeout = Duration::from_secs(2)).await;
    let ann = h.signup("ann").await;
    let mut ws = live(&h, &ann.token).await;
    let started = Instant::now();
    match next_message(&mut ws, Duration::from_secs(15)).await {
        Some(LiveMessage::SignedOut { reason }) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected signed_out when the session expired, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "signed out after {:?}", started.elapsed());
    assert!(ends_within(&mut ws, Duration::from_secs(5)).await, "the channel closes after signed_out");
}

/// A failed sign-in of a made-up user `n`, as forwarded for `client`.
async fn fail_sign_in(h: &TestServer, n: usize, client: &str) -> u16 {
    let body = json!({"user": format!("nobody{n}"), "password": "wrong password", "device": {"id": Id::now_v7(), "name": "d"}});
    let resp = h.http.post(format!("{}/v1/auth/login", h.base)).header("x-forwarded-for", client).json(&body).send().await.unwrap();
    resp.status().as_u16()
}

async fn x_forwarded_for_counts_only_from_a_trusted_proxy(b: Backend) {
    let limit = protocol::limits::LOGIN_FAILURES;
    // From an untrusted peer the header is ignored: every failure counts
    // against 127.0.0.1, whatever address it claims.
    let h = TestServer::start(b.clone(), |_| {}).await;
    for n in 0..limit {
        assert_eq!(fail_sign_in(&h, n, "203.0.113.7").await, 401);
    }
    assert_eq!(fail_sign_in(&h, limit, "203.0.113.8").await, 429, "a spoofed header escaped the address limit");

    // Through a trusted proxy each forwarded address counts on its own.
    let h = TestServer::start(b, |c| c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    for n in 0..limit {
        assert_eq!(fail_sign_in(&h, n, "198.51.100.1, 203.0.113.7").await, 401);
    }
    assert_eq!(fail_sign_in(&h, limit, "203.0.113.8").await, 401, "another client behind the proxy was limited");
    assert_eq!(fail_sign_in(&h, limit + 1, "203.0.113.7").await, 429, "the forwarded address was not limited");
}

on_both_backends!(
    one_token_keeps_at_most_the_cap_of_live_connections,
    a_live_client_that_stops_reading_is_disconnected,
    a_live_connection_ends_with_its_session,
    x_forwarded_for_counts_only_from_a_trusted_proxy,
);
