//! Guessing passwords, and turning the limits against their owners.
//! Attempts were counted after the password was checked (300 simultaneous
//! guesses had 290 checked), per spelling of the account, never for a
//! password change; ten wrong passwords from anywhere locked the account
//! for 15 minutes, renewable forever; the address limit keyed on the TCP
//! peer, so behind a proxy everyone shared it; each process counted alone;
//! hashing and sign-up had no bound at all.

use crate::support::{Backend, TestDb, TestServer, error_code};
use model::Id;
use protocol::ErrorCode;
use serde_json::{Value, json};
use server::limit::Policy;

/// Guesses at one account: five at once, then a turn a minute away, so a
/// sixth guess is refused outright — deterministic, and still bounded.
const STRICT: Policy = Policy::Throttle { free: 5, base_ms: 60_000, max_delay_ms: 60_000, max_wait_ms: 0, window_ms: 900_000 };

fn behind_proxy(c: &mut server::Config) {
    c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    c.limits.account_guesses = STRICT;
}

/// A sign-in as forwarded for `client` by the (trusted) proxy.
async fn login(s: &TestServer, user: &str, password: &str, device: Id, client: &str) -> (u16, Value) {
    let body = json!({"user": user, "password": password, "device": {"id": device, "name": "d"}});
    let resp = s.http.post(format!("{}/v1/auth/login", s.base)).header("x-forwarded-for", client).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn count(results: &[(u16, Value)], status: u16) -> usize {
    results.iter().filter(|(s, _)| *s == status).count()
}

/// 300 simultaneous guesses from one address: at most the address limit
/// are checked; the rest are refused unchecked.
async fn simultaneous_guesses_are_counted_before_they_are_checked(b: Backend) {
    let s = TestServer::start(b, |c| {
        c.limits.account_guesses = STRICT;
        // All 300 at once from one address: past the connection cap otherwise.
        c.max_connections_per_address = 1000;
    })
    .await;
    s.signup("ann").await;
    let guesses = (0..300).map(|i| {
        let s = &s;
        async move { login(s, "ann", &format!("guess {i}"), Id::now_v7(), "x").await }
    });
    let results = futures_util::future::join_all(guesses).await;
    let checked = count(&results, 401);
    assert!(checked <= 5, "{checked} of 300 simultaneous guesses were checked");
    assert_eq!(checked + count(&results, 429), 300, "every other guess is refused unchecked");
}

/// The owner is never shut out: their own devices have a throttle of
/// their own, and anyone else waits a bounded time, told how long.
async fn a_strangers_guesses_never_lock_the_owner_out(b: Backend) {
    let s = TestServer::start(b, behind_proxy).await;
    let ann = s.signup("ann").await;
    // Guesses from all over the internet, each address within its own limit.
    for i in 0..20 {
        login(&s, "ann", "guess", Id::now_v7(), &format!("203.0.113.{i}")).await;
    }
    let (st, v) = login(&s, "ann", "correct horse", Id::now_v7(), "198.51.100.9").await;
    assert_eq!((st, error_code(&v)), (429, ErrorCode::RateLimited), "a new device waits: {v}");
    let wait = v["error"]["details"]["retry_after_secs"].as_u64().unwrap();
    assert!(wait <= 60, "the wait is bounded by the throttle's ceiling, not a lockout: {wait} s");
    // Ann's own laptop, at a new address, signs in at once.
    let (st, v) = login(&s, "ann", "correct horse", ann.device.id, "198.51.100.10").await;
    assert_eq!(st, 200, "the owner's own device was locked out: {v}");
}

/// `fred`, `FRED` and `fred@example.com` are one account.
async fn spellings_of_one_account_count_as_one(b: Backend) {
    let s = TestServer::start(b, behind_proxy).await;
    s.signup("fred").await;
    let spellings = ["fred", "fred@example.com", "FRED", "Fred@Example.com"];
    let mut results = Vec::new();
    for i in 0..20 {
        results.push(login(&s, spellings[i % 4], "guess", Id::now_v7(), &format!("203.0.113.{i}")).await);
    }
    assert_eq!(count(&results, 401), 5, "guesses across spellings were counted apart");
    assert_eq!(count(&results, 429), 15);
}

/// A wrong current password counts like a failed sign-in (25 guesses with
/// a session token were 25 × 401, never 429).
async fn a_wrong_current_password_counts_like_a_failed_sign_in(b: Backend) {
    let s = TestServer::start(b, behind_proxy).await;
    let ann = s.signup("ann").await;
    let mut statuses = Vec::new();
    for i in 0..25 {
        let body = json!({"current": format!("guess {i}"), "new": "a brand new one"});
        let resp = s
            .http
            .post(format!("{}/v1/account/password", s.base))
            .bearer_auth(&ann.token)
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20, "{statuses:?}");
}

/// Behind a proxy, one person's typos limit only their own address.
async fn one_persons_typos_behind_a_proxy_limit_only_them(b: Backend) {
    let s = TestServer::start(b, behind_proxy).await;
    s.signup("ann").await;
    s.signup("bob").await;
    for i in 0..protocol::limits::LOGIN_FAILURES {
        login(&s, &format!("nobody{i}"), "typo", Id::now_v7(), "203.0.113.1").await;
    }
    let (st, _) = login(&s, "ann", "correct horse", Id::now_v7(), "203.0.113.1").await;
    assert_eq!(st, 429, "the typing address is limited");
    let (st, v) = login(&s, "bob", "correct horse", Id::now_v7(), "203.0.113.2").await;
    assert_eq!(st, 200, "a colleague behind the same proxy was locked out: {v}");
}

/// Sign-up is counted per address before any work, and a server may close it.
async fn sign_ups_are_limited_per_address(b: Backend) {
    let s = TestServer::start(b.clone(), |c| c.limits.signups = Policy::Window { max: 3, window_ms: 3_600_000 }).await;
    let attempts = (0..12).map(|i| {
        let s = &s;
        async move {
            let body = json!({"email": format!("u{i}@example.com"), "username": format!("u{i}"), "password": "correct horse", "device": {"id": Id::now_v7(), "name": "d"}});
            s.call(reqwest::Method::POST, "/v1/auth/signup", None, Some(body)).await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    assert_eq!(count(&results, 200), 3, "simultaneous sign-ups slipped past the limit");
    assert_eq!(count(&results, 429), 9);

    let closed = TestServer::start(b, |c| c.limits.signups = Policy::Window { max: 0, window_ms: 3_600_000 }).await;
    let body = json!({"email": "a@example.com", "username": "a", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "d"}});
    let (st, v) = closed.call(reqwest::Method::POST, "/v1/auth/signup", None, Some(body)).await;
    assert_eq!((st, error_code(&v)), (403, ErrorCode::Forbidden), "{v}");
}

/// At most `max_concurrent_hashes` argon2 runs at once; the rest wait a
/// bounded time, then hear 503.
async fn password_hashing_runs_on_a_bounded_pool(b: Backend) {
    let s = TestServer::start(b, |c| {
        behind_proxy(c);
        c.max_concurrent_hashes = 1;
        c.hash_wait = std::time::Duration::from_millis(1);
    })
    .await;
    let guesses = (0..40).map(|i| {
        let s = &s;
        async move { login(s, &format!("nobody{i}"), "guess", Id::now_v7(), &format!("203.0.113.{i}")).await }
    });
    let results = futures_util::future::join_all(guesses).await;
    let busy = results.iter().filter(|(_, v)| v["error"]["code"] == "unavailable").count();
    assert!(busy > 0, "40 simultaneous checks all ran at once: {:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert_eq!(busy + count(&results, 401), 40);
}

/// Reset and recovery answer alike, at once, for real and unknown accounts,
/// even when mail cannot be sent (a failing outbox answered 503 only for
/// real accounts).
async fn reset_and_recovery_do_not_tell_who_has_an_account(b: Backend) {
    let broken = tempfile::NamedTempFile::new().unwrap();
    let path = broken.path().to_path_buf();
    let s = TestServer::start(b, |c| c.mail_outbox = Some(path)).await;
    s.signup("ann").await;
    let ask = |path: &'static str, body: Value| {
        let s = &s;
        async move { s.call(reqwest::Method::POST, path, None, Some(body)).await }
    };
    let real = ask("/v1/auth/password/forgot", json!({"user": "ann"})).await;
    let unknown = ask("/v1/auth/password/forgot", json!({"user": "nobody"})).await;
    assert_eq!(real, unknown, "forgot answered differently for a real account");
    assert_eq!(real.0, 202);
    let real = ask("/v1/auth/username/recover", json!({"email": "ann@example.com"})).await;
    let unknown = ask("/v1/auth/username/recover", json!({"email": "nobody@example.com"})).await;
    assert_eq!(real, unknown, "recover answered differently for a real account");
}

/// Several processes on one PostgreSQL database count together.
async fn limits_hold_across_processes(b: Backend) {
    let Backend::Postgres(admin) = b else { unreachable!("PostgreSQL only") };
    let db = TestDb::create(&admin).await.unwrap();
    let start = || async {
        let dir = tempfile::tempdir().unwrap();
        let mut config = server::Config::new(dir.path().to_path_buf());
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.database_url = Some(db.url.clone().into());
        behind_proxy(&mut config);
        (server::start(config).await.unwrap(), dir)
    };
    let (one, _d1) = start().await;
    let (two, _d2) = start().await;
    let base = |s: &server::RunningServer| format!("http://{}", s.addr());
    let signup =
        json!({"email": "ann@example.com", "username": "ann", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "d"}});
    assert_eq!(crate::support::post_to(&base(&one), "/v1/auth/signup", None, signup).await.0, 200);
    let mut statuses = Vec::new();
    for i in 0..8 {
        let target = if i % 2 == 0 { &one } else { &two };
        let body = json!({"user": "ann", "password": "guess", "device": {"id": Id::now_v7(), "name": "d"}});
        let resp = crate::support::http()
            .post(format!("{}/v1/auth/login", base(target)))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429], "each process counted on its own");
}

on_both_backends!(
    simultaneous_guesses_are_counted_before_they_are_checked,
    a_strangers_guesses_never_lock_the_owner_out,
    spellings_of_one_account_count_as_one,
    a_wrong_current_password_counts_like_a_failed_sign_in,
    one_persons_typos_behind_a_proxy_limit_only_them,
    sign_ups_are_limited_per_address,
    password_hashing_runs_on_a_bounded_pool,
    reset_and_recovery_do_not_tell_who_has_an_account,
);

mod across_processes {
    use super::*;
    on_postgres!(limits_hold_across_processes);
}
