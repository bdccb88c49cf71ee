//! Graceful shutdown through the server's own accept loop: a request in
//! flight finishes, live connections close, nothing new is accepted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use futures_util::StreamExt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[macro_use]
mod support;
use support::{signup_at, start_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_and_closes_live_connections() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(None, dir.path()).await;
    let addr: SocketAddr = server.addr();
    let base = format!("http://{addr}");
    let ann = signup_at(&base, "ann").await;

    let mut req = format!("ws://{addr}/v1/live").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", ann.token).parse().unwrap());
    let (mut live, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(live.next().await, Some(Ok(Message::Text(_)))), "hello");

    // A request whose body is half sent when shutdown begins.
    let body = br#"{"user": "ann", "password": "not the password", "device": {"id": "01890000-0000-7000-8000-000000000000", "name": "d"}}"#;
    let mut inflight = TcpStream::connect(addr).await.unwrap();
    let head =
        format!("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
    inflight.write_all(head.as_bytes()).await.unwrap();
    inflight.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let stopping = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stopping.is_finished(), "shutdown did not wait for the request in flight");
    inflight.write_all(&body[10..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), inflight.read_to_end(&mut answer)).await.expect("the answer within 10 s").unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    tokio::time::timeout(Duration::from_secs(15), stopping).await.expect("shutdown returned within 15 s").unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(12), "shutdown took {:?}", started.elapsed());
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match live.next().await {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the live connection was closed");
    assert!(TcpStream::connect(addr).await.is_err(), "nothing is accepted after shutdown");
}

/// A push half sent when shutdown begins is applied and answered; a live
/// device hears `reconnect` (not a sign-out) with a pause of its own; the
/// push is in the database the next server opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_in_flight_is_answered_and_live_devices_are_told_to_reconnect() {
    use protocol::{LiveMessage, Outcome, PushResponse};
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(None, dir.path()).await;
    let addr: SocketAddr = server.addr();
    let ann = signup_at(&format!("http://{addr}"), "ann").await;
    let ws = ann.workspaces[0].id;

    let mut req = format!("ws://{addr}/v1/live").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", ann.token).parse().unwrap());
    let (mut live, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(live.next().await, Some(Ok(Message::Text(_)))), "hello");

    let doc = support::create(model::Kind::Collection, None, serde_json::json!({"name": "sent during shutdown"}));
    let body = serde_json::to_vec(&serde_json::json!({ "mutations": [doc] })).unwrap();
    let mut inflight = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/workspaces/{ws}/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        ann.token,
        body.len()
    );
    inflight.write_all(head.as_bytes()).await.unwrap();
    inflight.write_all(&body[..20]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn(server.shutdown());
    // Shutdown has begun once nothing new is accepted.
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting 5 s into shutdown");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let told = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match live.next().await {
                Some(Ok(Message::Text(t))) => return serde_json::from_str::<LiveMessage>(&t).unwrap(),
                Some(Ok(_)) => {}
                other => panic!("the live channel ended without a word: {other:?}"),
            }
        }
    })
    .await
    .expect("a frame within 5 s");
    match told {
        LiveMessage::Reconnect { after_ms } => assert!((1000..5000).contains(&after_ms), "after_ms {after_ms}"),
        other => panic!("expected reconnect, got {other:?}"),
    }
    assert!(!stopping.is_finished(), "shutdown did not wait for the push in flight");

    inflight.write_all(&body[20..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), inflight.read_to_end(&mut answer)).await.expect("the answer within 10 s").unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let pushed: PushResponse = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert!(matches!(pushed.results[0].outcome, Outcome::Applied { .. }), "{pushed:?}");
    tokio::time::timeout(Duration::from_secs(15), stopping).await.expect("shutdown returned within 15 s").unwrap().unwrap();

    let again = start_server(None, dir.path()).await;
    let (status, page) = support::post_to(
        &format!("http://{}", again.addr()),
        "/v1/auth/login",
        None,
        serde_json::json!({"user": "ann", "password": "correct horse", "device": {"id": model::Id::now_v7(), "name": "after"}}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let token = page["token"].as_str().unwrap().to_string();
    let changes: serde_json::Value = support::http()
        .get(format!("http://{}/v1/workspaces/{ws}/changes?after=0", again.addr()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(changes.to_string().contains("sent during shutdown"), "the push answered at shutdown was kept: {changes}");
    again.shutdown().await.unwrap();
}
