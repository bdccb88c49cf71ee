//! PostgreSQL only: a team change made on one server process reaches a
//! member's live channel held by another process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[macro_use]
mod support;

use futures_util::StreamExt;
use protocol::LiveMessage;
use serde_json::json;
use std::time::Duration;
use support::{Backend, TestDb, post_to as post, signup_at as signup, start_server as start};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn team_changes_reach_members_on_another_process(b: Backend) {
    let Backend::Postgres(url) = b else { return };
    let db = TestDb::create(&url).await.unwrap();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = start(Some(&db.url), d1.path()).await;
    let two = start(Some(&db.url), d2.path()).await;
    let (b1, b2) = (format!("http://{}", one.addr()), format!("http://{}", two.addr()));
    let ann = signup(&b1, "ann").await;
    let bob = signup(&b2, "bob").await;
    let mut req = format!("{}/v1/live", b2.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", bob.token).parse().unwrap());
    let (mut sock, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut next = async || loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), sock.next()).await.expect("a live frame within 5 s").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str::<LiveMessage>(&t).unwrap();
        }
    };
    assert!(matches!(next().await, LiveMessage::Hello { .. }));
    let (s, team) = post(&b1, "/v1/teams", Some(&ann.token), json!({"name": "T"})).await;
    assert_eq!(s, 200);
    let tid = team["id"].as_str().unwrap().to_string();
    let (s, v) = post(&b1, &format!("/v1/teams/{tid}/invitations"), Some(&ann.token), json!({"user": "bob", "role": "viewer"})).await;
    assert_eq!(s, 202, "{v}");
    // Bob accepts through the first process; his live channel is on the second.
    let list: protocol::Invitations =
        support::http().get(format!("{b1}/v1/invitations")).bearer_auth(&bob.token).send().await.unwrap().json().await.unwrap();
    let (s, v) = post(&b1, &format!("/v1/invitations/{}/accept", list.invitations[0].id), Some(&bob.token), json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(next().await, LiveMessage::Workspaces);
    let (s, v) = post(&b1, &format!("/v1/teams/{tid}/members"), Some(&ann.token), json!({"user": "bob", "role": "editor"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(next().await, LiveMessage::Workspaces);
}

on_postgres!(team_changes_reach_members_on_another_process);
