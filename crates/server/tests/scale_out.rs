//! PostgreSQL only: two server instances on one database behave as one
//! server, a database outage answers 503 and heals by itself, and an SQLite
//! installation migrates with nothing lost.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod support;

use futures_util::StreamExt;
use model::{Fields, Id, Kind, Mutation, Op};
use protocol::{Changes, LiveMessage, PushResponse, Session};
use serde_json::{Value, json};
use std::time::Duration;
use support::{Backend, TestDb, post_to as post, signup_at as signup, start_server as start};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn base(s: &server::RunningServer) -> String {
    format!("http://{}", s.addr())
}

async fn login(base: &str, name: &str, device: &str) -> (u16, Value) {
    post(base, "/v1/auth/login", None, json!({"user": name, "password": "correct horse", "device": {"id": Id::now_v7(), "name": device}}))
        .await
}

fn create(kind: Kind, parent: Option<Id>, name: &str) -> Mutation {
    let mut fields = Fields::new();
    fields.insert("name".into(), name.into());
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create { kind, parent_id: parent, order_key: Some("V".into()), fields },
    }
}

async fn push(base: &str, token: &str, ws: Id, m: &[Mutation]) -> (u16, Value) {
    post(base, &format!("/v1/workspaces/{ws}/push"), Some(token), json!({ "mutations": m })).await
}

async fn pull_all(base: &str, token: &str, ws: Id, mut after: u64) -> Vec<model::Document> {
    let mut docs = Vec::new();
    loop {
        let v: Value = support::http()
            .get(format!("{base}/v1/workspaces/{ws}/changes?after={after}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page: Changes = serde_json::from_value(v).unwrap();
        docs.extend(page.docs);
        after = page.next;
        if !page.more {
            return docs;
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn live(base: &str, token: &str) -> Socket {
    let mut req = format!("{}/v1/live", base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut sock, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(frame(&mut sock).await, LiveMessage::Hello { .. }));
    sock
}

async fn frame(sock: &mut Socket) -> LiveMessage {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), sock.next()).await.expect("a live frame within 10 s").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn two_instances_behave_as_one(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!("PostgreSQL-only test") };
    let db = TestDb::create(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (start(Some(&db.url), dir.path()).await, start(Some(&db.url), dir.path()).await);
    let (a, b) = (base(&one), base(&two));

    // A device on instance one hears, live, a change pushed through instance two.
    let ann = signup(&a, "ann").await;
    let (_, other) = login(&b, "ann", "second").await;
    let other: Session = serde_json::from_value(other).unwrap();
    let ws = ann.workspaces[0].id;
    let mut sock = live(&a, &ann.token).await;
    let col = create(Kind::Collection, None, "Cross-process");
    assert_eq!(push(&b, &other.token, ws, std::slice::from_ref(&col)).await.0, 200);
    match frame(&mut sock).await {
        LiveMessage::Changes { docs, .. } => assert_eq!(docs[0].id, col.doc_id),
        other => panic!("expected changes, got {other:?}"),
    }

    // Concurrent pushes through both instances: sequences stay gapless.
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let base = if worker % 2 == 0 { a.clone() } else { b.clone() };
        let token = if worker % 2 == 0 { ann.token.clone() } else { other.token.clone() };
        let parent = col.doc_id;
        tasks.push(tokio::spawn(async move {
            for round in 0..10 {
                let batch: Vec<Mutation> =
                    (0..5).map(|i| create(Kind::Request, Some(parent), &format!("w{worker} r{round} {i}"))).collect();
                let (status, v) = push(&base, &token, ws, &batch).await;
                assert_eq!(status, 200, "{v}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let docs = pull_all(&a, &ann.token, ws, 0).await;
    let mut versions: Vec<u64> = docs.iter().map(|d| d.version).collect();
    versions.sort();
    let expected: Vec<u64> = (1..=versions.len() as u64).collect();
    assert_eq!(versions, expected, "every change got the next number, none skipped or shared");
    assert_eq!(docs.len(), 2 + 8 * 10 * 5);

    // The device limit holds across instances under concurrent sign-ins.
    let logins = futures_util::future::join_all((0..3).map(|i| {
        let base = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { login(&base, "ann", &format!("racer {i}")).await.0 }
    }))
    .await;
    assert_eq!(logins.iter().filter(|s| **s == 200).count(), 1, "{logins:?}");
    assert_eq!(logins.iter().filter(|s| **s == 409).count(), 2, "{logins:?}");

    // Signing a device out through one instance closes its channel on the other.
    let status =
        support::http().delete(format!("{b}/v1/devices/{}", ann.device.id)).bearer_auth(&other.token).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 204);
    loop {
        if let LiveMessage::SignedOut { .. } = frame(&mut sock).await {
            break;
        }
    }
    drop(sock);
    one.shutdown().await.unwrap();
    two.shutdown().await.unwrap();
}

/// A TCP relay to PostgreSQL that the test can cut and restore.
struct Relay {
    addr: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                if *watch.borrow() {
                    continue; // Down: refuse by closing at once.
                }
                let upstream = upstream.clone();
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Relay { addr, cut }
    }
}

fn host_port(url: &str) -> String {
    let after = url.split_once("://").map_or(url, |(_, r)| r);
    let after = after.rsplit_once('@').map_or(after, |(_, r)| r);
    after.split(['/', '?']).next().unwrap_or("127.0.0.1:5432").to_string()
}

async fn a_database_outage_answers_503_and_heals(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!("PostgreSQL-only test") };
    let db = TestDb::create(&admin).await.unwrap();
    let hp = host_port(&db.url);
    let relay = Relay::start(if hp.contains(':') { hp.clone() } else { format!("{hp}:5432") }).await;
    let via_relay = db.url.replacen(&hp, &relay.addr.to_string(), 1);
    let dir = tempfile::tempdir().unwrap();
    let srv = start(Some(&via_relay), dir.path()).await;
    let base = base(&srv);
    let ann = signup(&base, "ann").await;
    let ws = ann.workspaces[0].id;
    let acked = create(Kind::Collection, None, "Acknowledged");
    let (status, v) = push(&base, &ann.token, ws, std::slice::from_ref(&acked)).await;
    assert_eq!(status, 200);
    let acked_seq = serde_json::from_value::<PushResponse>(v).unwrap().seq;

    relay.cut.send(true).unwrap();
    let (status, v) = push(&base, &ann.token, ws, &[create(Kind::Collection, None, "During outage")]).await;
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["error"]["code"], "unavailable");
    assert!(v["error"]["message"].as_str().unwrap().contains("retry"));

    relay.cut.send(false).unwrap();
    let mut healed = false;
    for _ in 0..50 {
        if support::http().get(format!("{base}/healthz")).send().await.map(|r| r.status().is_success()).unwrap_or(false) {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(healed, "the server did not recover when the database came back");
    let docs = pull_all(&base, &ann.token, ws, 0).await;
    assert!(docs.iter().any(|d| d.id == acked.doc_id && d.version == acked_seq), "an acknowledged change was lost");
    assert_eq!(push(&base, &ann.token, ws, &[create(Kind::Collection, None, "After")]).await.0, 200);
    srv.shutdown().await.unwrap();
}

async fn sqlite_migrates_to_postgres_with_nothing_lost(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!("PostgreSQL-only test") };
    let dir = tempfile::tempdir().unwrap();
    let lite = start(None, dir.path()).await;
    let lb = base(&lite);
    let ann = signup(&lb, "ann").await;
    let (_, second) = login(&lb, "ann", "second").await;
    let second: Session = serde_json::from_value(second).unwrap();
    let bob = signup(&lb, "bob").await;
    let ws = ann.workspaces[0].id;
    let col = create(Kind::Collection, None, "Migrated");
    let folder = create(Kind::Folder, Some(col.doc_id), "Gone");
    push(&lb, &ann.token, ws, &[col.clone(), folder.clone(), create(Kind::Request, Some(col.doc_id), "Kept")]).await;
    push(&lb, &second.token, ws, &[Mutation { mutation_id: Id::now_v7(), doc_id: folder.doc_id, base_version: 3, op: Op::Delete }]).await;
    push(&lb, &bob.token, bob.workspaces[0].id, &[create(Kind::Environment, None, "Bob's")]).await;
    // A team bob joined, and an invitation nobody answered yet: both carry over.
    let (_, team) = post(&lb, "/v1/teams", Some(&ann.token), json!({"name": "Platform"})).await;
    let tid = team["id"].as_str().unwrap().to_string();
    for user in ["bob", "carol"] {
        let (s, _) = post(&lb, &format!("/v1/teams/{tid}/invitations"), Some(&ann.token), json!({"user": user, "role": "editor"})).await;
        assert_eq!(s, 202);
    }
    let list: protocol::Invitations =
        support::http().get(format!("{lb}/v1/invitations")).bearer_auth(&bob.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(post(&lb, &format!("/v1/invitations/{}/accept", list.invitations[0].id), Some(&bob.token), json!({})).await.0, 200);
    let before_ann = pull_all(&lb, &ann.token, ws, 1).await;
    let before_bob = pull_all(&lb, &bob.token, bob.workspaces[0].id, 0).await;
    lite.shutdown().await.unwrap();

    let db = TestDb::create(&admin).await.unwrap();
    let report = server::store::copy::sqlite_to_postgres(dir.path(), &db.url).await.unwrap();
    assert!(report.tables.iter().any(|(t, n)| *t == "docs" && *n >= 6), "{report:?}");
    let again = server::store::copy::sqlite_to_postgres(dir.path(), &db.url).await;
    assert!(again.is_err(), "a second copy into a full database must be refused");

    let pg = start(Some(&db.url), tempfile::tempdir().unwrap().path()).await;
    let pb = base(&pg);
    assert_eq!(pull_all(&pb, &ann.token, ws, 1).await, before_ann, "sessions and documents carried over");
    assert_eq!(pull_all(&pb, &bob.token, bob.workspaces[0].id, 0).await, before_bob);
    let (status, _) = login(&pb, "bob", "new laptop").await;
    assert_eq!(status, 200, "passwords carried over and new devices get fresh numbers");
    let teams: protocol::Teams =
        support::http().get(format!("{pb}/v1/teams")).bearer_auth(&bob.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(teams.teams.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Platform"], "teams carried over");
    let members: protocol::TeamMembers =
        support::http().get(format!("{pb}/v1/teams/{tid}/members")).bearer_auth(&ann.token).send().await.unwrap().json().await.unwrap();
    assert_eq!(members.invitations.len(), 1, "the unanswered invitation carried over");
    let (status, v) = push(&pb, &ann.token, ws, &[create(Kind::Collection, None, "After migration")]).await;
    assert_eq!(status, 200);
    let seq_after = serde_json::from_value::<PushResponse>(v).unwrap().seq;
    assert_eq!(seq_after, before_ann.iter().map(|d| d.version).max().unwrap() + 1, "the sequence continues where it was");
    pg.shutdown().await.unwrap();
}

on_postgres!(two_instances_behave_as_one, a_database_outage_answers_503_and_heals, sqlite_migrates_to_postgres_with_nothing_lost);
