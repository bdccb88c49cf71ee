//! What an operator sees: a request id on every answer, `/metrics` only
//! where the operator put it (behind a token, or on a listener of its own)
//! and moving with the traffic, and `/readyz` failing when storage cannot
//! take writes while `/healthz` (the process) still answers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use futures_util::StreamExt;
use model::{Id, Kind};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[macro_use]
mod support;
use support::{Backend, TestServer, create, error_code, set};

/// The value of the sample `line_start` (metric name and labels) in a scrape.
fn sample(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap_or_else(|_| panic!("`{line_start}` is not a number in {text}")))
}

/// A scrape of `url` with `token`: the status, content type and text.
async fn scrape(url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = support::http().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let kind = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (resp.status().as_u16(), kind, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_the_caller_may_choose() {
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    let id_of = |r: &reqwest::Response| r.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string());
    let mut seen = std::collections::HashSet::new();
    for path in ["/healthz", "/v1/me", "/no/such/path"] {
        let r = s.http.get(format!("{}{path}", s.base)).send().await.unwrap();
        let id = id_of(&r).unwrap_or_else(|| panic!("{path}: no X-Request-Id"));
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{path}: generated id {id:?}");
        assert!(seen.insert(id), "{path}: ids repeat");
    }
    let chosen = "lb-7f3a.9:req/42";
    let r = s.http.get(format!("{}/v1/me", s.base)).header("x-request-id", chosen).send().await.unwrap();
    assert_eq!((r.status().as_u16(), id_of(&r).as_deref()), (401, Some(chosen)), "a sane id is kept, on errors too");
    for insane in ["has space".to_string(), "x".repeat(129), "semi;colon".to_string()] {
        let r = s.http.get(format!("{}/healthz", s.base)).header("x-request-id", &insane).send().await.unwrap();
        let id = id_of(&r).unwrap();
        assert!(id != insane && id.len() == 32, "{insane:?} was replaced by a new id, got {id:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_do_not_exist_unless_the_operator_asks() {
    let s = TestServer::start(Backend::Sqlite, |_| {}).await;
    let (status, v) = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!((status, error_code(&v)), (404, protocol::ErrorCode::NotFound), "{v}");
    let (status, _, _) = scrape(&format!("{}/metrics", s.base), Some("anything")).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_listener_need_no_token_and_stay_off_the_public_one() {
    let s = TestServer::start(Backend::Sqlite, |c| c.metrics_addr = Some("127.0.0.1:0".parse().unwrap())).await;
    let private = s.running().metrics_addr().expect("a metrics listener");
    assert_ne!(format!("http://{private}"), s.base);
    let (status, kind, text) = scrape(&format!("http://{private}/metrics"), None).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(text.contains("# TYPE apisync_pushes counter") && text.trim_end().ends_with("# EOF"), "{text}");
    for probe in ["/healthz", "/readyz"] {
        assert_eq!(support::http().get(format!("http://{private}{probe}")).send().await.unwrap().status(), 200, "{probe}");
    }
    assert_eq!(s.call(Method::GET, "/metrics", None, None).await.0, 404, "not on the public listener");
}

/// Pushes with each outcome, a pull, a live connection and a refused
/// sign-up, on the token-guarded public `/metrics`: every counter moves by
/// what happened.
async fn metrics_behind_a_token_count_what_happens(b: Backend) {
    let token = "scrape-me-7d1e";
    let s = TestServer::start(b.clone(), |c| {
        c.metrics_token = Some(token.into());
        c.limits.signups = server::limit::Policy::Window { max: 1, window_ms: 3_600_000 };
    })
    .await;
    let url = format!("{}/metrics", s.base);
    for wrong in [None, Some("scrape-me"), Some("scrape-me-7d1e-and-more")] {
        let (status, _, text) = scrape(&url, wrong).await;
        assert_eq!(status, 401, "token {wrong:?}: {text}");
    }
    let before = scrape(&url, Some(token)).await.2;
    assert_eq!(sample(&before, "apisync_pushes_total"), 0.0, "{before}");

    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    let login = json!({"user": "ann", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "ann-2"}});
    let (status, other) = s.call(Method::POST, "/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, 200, "{other}");
    let other: protocol::Session = serde_json::from_value(other).unwrap();
    let (status, _) = s
        .call(Method::POST, "/v1/auth/signup", None, Some(json!({"email": "bob@example.com", "username": "bob", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "b"}})))
        .await;
    assert_eq!(status, 429, "the second sign-up is over the limit");

    let (doc, gone) = (create(Kind::Collection, None, json!({"name": "A"})), create(Kind::Collection, None, json!({"name": "B"})));
    let first = s.push_ok(&ann.token, ws, &[doc.clone(), gone.clone()]).await;
    // The other device renames one and deletes the other; ann, still at the
    // first version, renames both: one field conflict, one conflict.
    let delete = model::Mutation { mutation_id: Id::now_v7(), doc_id: gone.doc_id, base_version: first.seq, op: model::Op::Delete };
    s.push_ok(&other.token, ws, &[set(doc.doc_id, first.seq, json!({"name": "theirs"})), delete]).await;
    let late = [
        set(doc.doc_id, first.seq, json!({"name": "mine"})),
        set(gone.doc_id, first.seq, json!({"name": "mine"})),
        set(Id::now_v7(), 1, json!({"name": "nobody's"})),
    ];
    let answer = s.push_ok(&ann.token, ws, &late).await;
    assert!(matches!(answer.results[0].outcome, protocol::Outcome::Applied { ref conflicts, .. } if conflicts.len() == 1), "{answer:?}");
    assert!(matches!(answer.results[1].outcome, protocol::Outcome::Conflict { .. }), "{answer:?}");
    assert!(matches!(answer.results[2].outcome, protocol::Outcome::Rejected { .. }), "{answer:?}");

    // Uncompressed (whatever features the workspace's build gives reqwest),
    // so the bytes counted are the body's.
    let plain = reqwest::Client::builder().no_gzip().no_brotli().no_deflate().no_zstd().build().unwrap();
    let pulled = plain.get(format!("{}/v1/workspaces/{ws}/changes?after=0", s.base)).bearer_auth(&ann.token).send().await.unwrap();
    assert_eq!(pulled.status(), 200);
    let pulled = pulled.bytes().await.unwrap().len() as f64;

    let mut req = format!("{}/v1/live", s.base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", ann.token).parse().unwrap());
    let (mut live, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    live.next().await.unwrap().unwrap();

    let after = scrape(&url, Some(token)).await.2;
    let moved = |name: &str| sample(&after, name) - sample(&before, name);
    assert_eq!(moved("apisync_pushes_total"), 3.0, "{after}");
    assert_eq!(moved("apisync_mutations_total{outcome=\"applied\"}"), 4.0, "{after}");
    assert_eq!(moved("apisync_mutations_total{outcome=\"applied_with_conflicts\"}"), 1.0, "{after}");
    assert_eq!(moved("apisync_mutations_total{outcome=\"conflict\"}"), 1.0, "{after}");
    assert_eq!(moved("apisync_mutations_total{outcome=\"rejected\"}"), 1.0, "{after}");
    assert_eq!(moved("apisync_conflicts_total"), 2.0, "{after}");
    assert_eq!(moved("apisync_pull_bytes_total"), pulled, "{after}");
    assert_eq!(sample(&after, "apisync_live_connections"), 1.0, "{after}");
    assert_eq!(sample(&after, "apisync_rate_limited_total{route=\"/v1/auth/signup\"}"), 1.0, "{after}");
    let pushes = "apisync_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/workspaces/{id}/push\",status=\"2xx\"}";
    assert_eq!(sample(&after, pushes), 3.0, "{after}");
    let max = sample(&after, "apisync_db_connections_max");
    let open = sample(&after, "apisync_db_connections{state=\"busy\"}") + sample(&after, "apisync_db_connections{state=\"idle\"}");
    match b {
        Backend::Sqlite => assert_eq!((max, open), (5.0, 5.0), "the writer and four readers: {after}"),
        Backend::Postgres(_) => assert!(max == 16.0 && open >= 1.0 && open <= max, "{after}"),
    }

    drop(live);
    let deadline = Instant::now() + Duration::from_secs(10);
    while sample(&scrape(&url, Some(token)).await.2, "apisync_live_connections") != 0.0 {
        assert!(Instant::now() < deadline, "the live connection was never counted out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `sql`, then ends every other session on database `name`, so the
/// server's pool opens new ones that see the change.
async fn as_new_sessions(conn: &mut sqlx::PgConnection, name: &str, sql: String) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await.unwrap();
    let kill = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()");
    sqlx::raw_sql(sqlx::AssertSqlSafe(kill)).execute(&mut *conn).await.unwrap();
}

/// `ALTER DATABASE … SET default_transaction_read_only` and new sessions:
/// the database answers reads but refuses writes, which only a write
/// shows; then the database goes away altogether.
async fn readiness_tries_a_write_on_postgres(b: Backend) {
    use sqlx::Connection;
    let Backend::Postgres(admin) = &b else { unreachable!() };
    let s = TestServer::start(b.clone(), |_| {}).await;
    s.signup("ann").await;
    assert_eq!(s.call(Method::GET, "/readyz", None, None).await.0, 200);
    let name = s.db_url.as_deref().unwrap().rsplit('/').next().unwrap().to_string();
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    as_new_sessions(&mut conn, &name, format!("ALTER DATABASE {name} SET default_transaction_read_only = on")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, v) = loop {
        let (status, v) = s.call(Method::GET, "/readyz", None, None).await;
        if status != 200 || Instant::now() > deadline {
            break (status, v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 503, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("cannot write"), "{v}");
    assert_eq!(s.call(Method::GET, "/healthz", None, None).await.0, 200);

    as_new_sessions(&mut conn, &name, format!("ALTER DATABASE {name} RESET default_transaction_read_only")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.call(Method::GET, "/readyz", None, None).await.0 != 200 {
        assert!(Instant::now() < deadline, "never ready again once writable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&mut conn).await.unwrap();
    let (status, v) = s.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, 503, "without its database: {v}");
    assert_eq!(s.call(Method::GET, "/healthz", None, None).await.0, 200);
}

on_both_backends!(metrics_behind_a_token_count_what_happens);

mod pg_only {
    use super::*;
    on_postgres!(readiness_tries_a_write_on_postgres);
}
