//! The account's life cycle on both backends: password reset and username
//! recovery through the mail outbox, password change, account deletion, and
//! the reset-mail limit. Sign-in limits are in the adversarial suite.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use model::Id;
use protocol::ErrorCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

#[macro_use]
mod support;
use support::{Backend, TestServer, error_code as code};

struct Harness {
    srv: TestServer,
    outbox: PathBuf,
}

impl std::ops::Deref for Harness {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.srv
    }
}

impl Harness {
    async fn start(b: Backend, ttl: Duration) -> Harness {
        let srv = TestServer::start(b, |c| c.reset_token_ttl = ttl).await;
        let outbox = srv.dir.path().join("mail-outbox");
        Harness { srv, outbox }
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, None, Some(body)).await
    }

    async fn login(&self, user: &str, password: &str) -> (u16, Value) {
        self.post("/v1/auth/login", json!({"user": user, "password": password, "device": {"id": Id::now_v7(), "name": "another"}})).await
    }

    /// The outbox once it holds `n` messages (mail goes out from a queue).
    async fn mail_count(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let mail = self.mail();
            if mail.len() >= n {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox never held {n} messages: {:?}", self.mail());
    }

    /// The messages in the outbox, oldest first.
    fn mail(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.outbox)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

fn token_in(mail: &str) -> String {
    let at = mail.find("--token ").expect("a token in the mail") + "--token ".len();
    mail[at..].split_whitespace().next().unwrap().to_string()
}

async fn password_reset_by_mail_is_single_use(b: Backend) {
    let h = Harness::start(b, Duration::from_secs(3600)).await;
    let ann = h.signup("ann").await;
    // Unknown accounts get the same answer and no mail (the queue keeps
    // order, so once ann's mail is there, nobody's was handled before it).
    let (s, unknown) = h.post("/v1/auth/password/forgot", json!({"user": "nobody"})).await;
    assert_eq!(s, 202);
    let (s, v) = h.post("/v1/auth/password/forgot", json!({"user": "ann@example.com"})).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v, unknown, "the same answer whether or not the account exists");
    let mail = h.mail_count(1).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: ann@example.com") && mail[0].contains("apisync password reset"), "{}", mail[0]);
    let token = token_in(&mail[0]);

    let (s, v) = h.post("/v1/auth/password/reset", json!({"token": token, "password": "short"})).await;
    assert_eq!((s, code(&v)), (400, ErrorCode::BadRequest), "a too-short password does not use the token up");
    let (s, v) = h.post("/v1/auth/password/reset", json!({"token": token, "password": "a new password"})).await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = h.post("/v1/auth/password/reset", json!({"token": token, "password": "another one!"})).await;
    assert_eq!((s, code(&v)), (400, ErrorCode::InvalidToken), "single use");
    // The old session is over; the old password no longer works, the new one does.
    let (s, v) = h.call(reqwest::Method::GET, "/v1/me", Some(&ann.token), None).await;
    assert_eq!((s, code(&v)), (401, ErrorCode::SessionRevoked));
    assert_eq!(h.login("ann", "correct horse").await.0, 401);
    assert_eq!(h.login("ann", "a new password").await.0, 200);

    // Username recovery mails the username to the address.
    let (s, _) = h.post("/v1/auth/username/recover", json!({"email": "ANN@example.com"})).await;
    assert_eq!(s, 202);
    let mail = h.mail_count(2).await;
    assert_eq!(mail.len(), 2);
    assert!(mail[1].contains("--user ann"), "{}", mail[1]);
}

async fn reset_tokens_expire(b: Backend) {
    let h = Harness::start(b, Duration::ZERO).await;
    h.signup("ann").await;
    assert_eq!(h.post("/v1/auth/password/forgot", json!({"user": "ann"})).await.0, 202);
    let token = token_in(&h.mail_count(1).await[0]);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (s, v) = h.post("/v1/auth/password/reset", json!({"token": token, "password": "a new password"})).await;
    assert_eq!((s, code(&v)), (400, ErrorCode::InvalidToken));
    assert!(v["error"]["message"].as_str().unwrap().contains("apisync password forgot"));
}

async fn changing_the_password_signs_out_the_other_devices(b: Backend) {
    let h = Harness::start(b, Duration::from_secs(3600)).await;
    let ann = h.signup("ann").await;
    let (_, other) = h.login("ann", "correct horse").await;
    let other = other["token"].as_str().unwrap().to_string();
    let path = "/v1/account/password";
    let (s, v) =
        h.call(reqwest::Method::POST, path, Some(&ann.token), Some(json!({"current": "wrong one!", "new": "brand new pass"}))).await;
    assert_eq!((s, code(&v)), (401, ErrorCode::InvalidCredentials));
    let (s, v) =
        h.call(reqwest::Method::POST, path, Some(&ann.token), Some(json!({"current": "correct horse", "new": "brand new pass"}))).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(h.call(reqwest::Method::GET, "/v1/me", Some(&ann.token), None).await.0, 200, "this device stays signed in");
    let (s, v) = h.call(reqwest::Method::GET, "/v1/me", Some(&other), None).await;
    assert_eq!((s, code(&v)), (401, ErrorCode::SessionRevoked));
    assert!(v["error"]["message"].as_str().unwrap().contains("password was changed"), "{v}");
    assert_eq!(h.login("ann", "brand new pass").await.0, 200);
}

async fn deleting_an_account_is_refused_in_a_team_and_then_removes_everything(b: Backend) {
    let h = Harness::start(b, Duration::from_secs(3600)).await;
    let ann = h.signup("ann").await;
    let (_, other) = h.login("ann", "correct horse").await;
    let other = other["token"].as_str().unwrap().to_string();
    let (s, team) = h.call(reqwest::Method::POST, "/v1/teams", Some(&ann.token), Some(json!({"name": "Platform"}))).await;
    assert_eq!(s, 200);
    let (s, v) = h.call(reqwest::Method::DELETE, "/v1/account", Some(&ann.token), None).await;
    assert_eq!((s, code(&v)), (409, ErrorCode::TeamMember));
    assert!(v["error"]["message"].as_str().unwrap().contains("team leave 'Platform'"), "{v}");
    let tid = team["id"].as_str().unwrap();
    assert_eq!(h.call(reqwest::Method::POST, &format!("/v1/teams/{tid}/leave"), Some(&ann.token), Some(json!({}))).await.0, 204);
    let (s, v) = h.call(reqwest::Method::DELETE, "/v1/account", Some(&ann.token), None).await;
    assert_eq!(s, 204, "{v}");
    // Every device of the account hears it is gone; the name is free again.
    for t in [&ann.token, &other] {
        let (s, v) = h.call(reqwest::Method::GET, "/v1/workspaces", Some(t), None).await;
        assert_eq!((s, code(&v)), (401, ErrorCode::AccountDeleted));
    }
    assert_eq!(h.login("ann", "correct horse").await.0, 401);
    let again = h.signup("ann").await;
    assert_eq!(again.workspaces.len(), 1);
    assert_ne!(again.workspaces[0].id, ann.workspaces[0].id);
}

async fn reset_mails_are_limited_per_address(b: Backend) {
    let h = Harness::start(b, Duration::from_secs(3600)).await;
    h.signup("bob").await;
    for _ in 0..protocol::limits::MAIL_REQUESTS_PER_HOUR {
        assert_eq!(h.post("/v1/auth/password/forgot", json!({"user": "bob"})).await.0, 202);
    }
    let (s, v) = h.post("/v1/auth/password/forgot", json!({"user": "bob"})).await;
    assert_eq!((s, code(&v)), (429, ErrorCode::RateLimited));
    assert!(v["error"]["details"]["retry_after_secs"].as_u64().is_some(), "{v}");
}

/// The outbox holds live reset tokens: it was created with the umask's
/// modes (0755 and 0644 under the usual umask, any local user could read
/// them) and kept every message forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_outbox_is_private_and_forgets_expired_tokens() {
    use std::os::unix::fs::PermissionsExt;
    const TTL: Duration = Duration::from_secs(2);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let place = tempfile::tempdir().unwrap();
    let outbox = place.path().join("outbox");
    std::fs::create_dir(&outbox).unwrap();
    std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o777)).unwrap();
    let stale = outbox.join("1-stale.eml");
    std::fs::write(&stale, "an old token").unwrap();
    std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&stale).unwrap().set_modified(long_ago).unwrap();

    let srv = TestServer::start(Backend::Sqlite, |c| {
        c.reset_token_ttl = TTL;
        c.mail_outbox = Some(outbox.clone());
    })
    .await;
    let h = Harness { srv, outbox: outbox.clone() };
    assert_eq!(mode(&outbox), 0o700, "the outbox is the server user's only");
    assert!(!stale.exists(), "a message older than a token's life is removed at start");

    h.signup("ann").await;
    assert_eq!(h.post("/v1/auth/password/forgot", json!({"user": "ann"})).await.0, 202);
    // Mail goes out from a queue.
    h.mail_count(1).await;
    let first: Vec<PathBuf> = std::fs::read_dir(&outbox).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(mode(&first[0]), 0o600, "a message is readable by the server's user only");

    tokio::time::sleep(TTL + Duration::from_millis(500)).await;
    assert_eq!(h.post("/v1/auth/password/forgot", json!({"user": "ann"})).await.0, 202);
    for _ in 0..100 {
        if !first[0].exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!first[0].exists(), "an expired token's message is removed when the next one is written");
    h.mail_count(1).await;
    let mail = h.mail();
    assert_eq!(mail.len(), 1, "only the live token's message is left");
    let left: Vec<PathBuf> = std::fs::read_dir(&outbox).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.iter().all(|p| mode(p) == 0o600), "{left:?}");
}

on_both_backends!(
    password_reset_by_mail_is_single_use,
    reset_tokens_expire,
    changing_the_password_signs_out_the_other_devices,
    deleting_an_account_is_refused_in_a_team_and_then_removes_everything,
    reset_mails_are_limited_per_address,
);
