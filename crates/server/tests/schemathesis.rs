//! Schemathesis against a live server: every operation of `/openapi.json`
//! is called with data generated from the document (valid and not), with an
//! account of the run's own, and every answer must be no 5xx, a status the
//! document lists for it, and a body of the shape and type the document
//! says. openapi-spec-validator first checks the document is OpenAPI 3.1.
//!
//! Needs tests/python/.venv (`scripts/install-test-deps.sh`). Set
//! `APISYNC_SCHEMATHESIS_SEED` to replay a run; a failure prints its seed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use model::{Id, Kind, Mutation, Op};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[macro_use]
mod support;
use support::{Backend, TestServer, fields};

/// The checks every answer must pass.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// The venv's bin directory when it holds what `tests/python/requirements.txt`
/// pins; otherwise fails the test under CI and skips loudly elsewhere.
fn tools() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python");
    let bin = python.join(".venv/bin");
    let want = format!("{:x}", Sha256::digest(std::fs::read(python.join("requirements.txt")).unwrap()));
    let stamp = std::fs::read_to_string(python.join(".venv/.apisync-requirements.sha256")).unwrap_or_default();
    let missing = if !bin.join("schemathesis").is_file() || !bin.join("openapi-spec-validator").is_file() {
        Some("tests/python/.venv has no schemathesis and openapi-spec-validator")
    } else if stamp.trim() != want {
        Some("tests/python/.venv was installed from another tests/python/requirements.txt")
    } else {
        None
    };
    let Some(why) = missing else { return Some(bin) };
    let msg = format!("the Schemathesis test needs Python tools: {why}; run scripts/install-test-deps.sh");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    // Straight to stderr, past the test harness's capture, so a skip is never silent.
    let bar = "!".repeat(72);
    let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
    None
}

/// Runs `cmd` to its end or until `limit`, then kills it: its exit code
/// (`None` when killed) and its output, stdout then stderr.
fn run(mut cmd: Command, limit: Duration) -> (Option<i32>, String) {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start the tool");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = r.read_to_string(&mut text);
            text
        })
    };
    let (out, err) = (drain(Box::new(child.stdout.take().unwrap())), drain(Box::new(child.stderr.take().unwrap())));
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (code, format!("{}{}", out.join().unwrap(), err.join().unwrap()))
}

/// A server whose rate limits let a fuzzer sign up and fail sign-ins freely.
async fn server() -> TestServer {
    use server::limit::Policy;
    TestServer::start(Backend::Sqlite, |c| {
        let free = Policy::Window { max: 1_000_000, window_ms: 1000 };
        c.limits.signups = free;
        c.limits.address_failures = free;
        c.limits.mails = free;
        c.limits.account_guesses = Policy::Throttle { free: 1_000_000, base_ms: 1, max_delay_ms: 1, max_wait_ms: 1, window_ms: 1000 };
    })
    .await
}

/// Gives `name`'s account something in every list the document's links
/// follow: documents, a team, a workspace shared with it, an invitation.
async fn furnish(server: &TestServer, name: &str) -> String {
    let me = server.signup(name).await;
    let token = me.token.as_str();
    let call = |method: Method, path: String, token: &str, body: Value| {
        let token = token.to_string();
        async move {
            let (status, answer) = server.call(method, &path, Some(&token), Some(body)).await;
            assert!(status < 300, "{path}: {status} {answer}");
            answer
        }
    };
    let personal = me.workspaces[0].id;
    let collection = support::create(Kind::Collection, None, json!({"name": "Orders"}));
    let request =
        support::create(Kind::Request, Some(collection.doc_id), json!({"name": "List", "method": "GET", "url": "https://example.com"}));
    server.push_ok(token, personal, &[collection, request]).await;

    let team = call(Method::POST, "/v1/teams".into(), token, json!({"name": "Core"})).await;
    let shared = Id::now_v7();
    let workspace = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: shared,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({"name": "Shared"})) },
    };
    server.push_ok(token, shared, &[workspace]).await;
    call(Method::POST, format!("/v1/workspaces/{shared}/share"), token, json!({"team_id": team["id"]})).await;

    let other = server.signup(&format!("{name}-friend")).await;
    let theirs = call(Method::POST, "/v1/teams".into(), &other.token, json!({"name": "Friends"})).await;
    let invite = json!({"user": name, "role": "editor"});
    call(Method::POST, format!("/v1/teams/{}/invitations", theirs["id"].as_str().unwrap()), &other.token, invite).await;
    me.token
}

/// Runs Schemathesis over the document with `token`; fails with its report
/// unless every check passed on every operation it selected.
fn schemathesis(bin: &Path, base: &str, token: &str, seed: u64, filter: &[&str], examples: u32, limit: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin.join("schemathesis"));
    cmd.current_dir(dir.path()).env("NO_COLOR", "1").arg("run").arg(format!("{base}/openapi.json"));
    cmd.args(["--checks", CHECKS, "--max-examples", &examples.to_string(), "--seed", &seed.to_string()]);
    // One worker: Python 3.11's parser is not safe across the threads of several.
    cmd.args(["--workers", "1", "--no-color", "--generation-database", "none", "--request-timeout", "20"]);
    cmd.args(["-H", &format!("Authorization: Bearer {token}")]).args(filter);
    let (code, report) = run(cmd, limit);
    let replay = format!("(APISYNC_SCHEMATHESIS_SEED={seed} replays this run)");
    match code {
        Some(0) => {}
        Some(_) => panic!("Schemathesis found answers that break /openapi.json {replay}:\n{report}"),
        None => panic!("Schemathesis did not finish within {limit:?} {replay}:\n{report}"),
    }
    let count = |label: &str| {
        let line = report.lines().find_map(|l| l.trim().strip_prefix(label)).unwrap_or_else(|| panic!("no '{label}' in:\n{report}"));
        line.trim().split('/').next().unwrap().parse::<u32>().unwrap()
    };
    let (selected, tested) = (count("Selected:"), count("Tested:"));
    assert!(selected > 0 && tested == selected, "Schemathesis tested {tested} of {selected} operations:\n{report}");
    eprintln!("{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_matches_the_document() {
    let Some(bin) = tools() else { return };
    let server = server().await;
    let seed = std::env::var("APISYNC_SCHEMATHESIS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| (Id::now_v7().as_u128() & 0xffff_ffff) as u64);

    let doc = tempfile::NamedTempFile::new().unwrap();
    let (status, document) = server.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    std::fs::write(doc.path(), document.to_string()).unwrap();
    let mut validate = Command::new(bin.join("openapi-spec-validator"));
    validate.arg(doc.path());
    let (code, report) = run(validate, Duration::from_secs(60));
    assert_eq!(code, Some(0), "/openapi.json is not valid OpenAPI 3.1:\n{report}");

    // Everything but what ends the session, as a signed-in person with data.
    let token = furnish(&server, "ann").await;
    let base = server.base.clone();
    let session_enders = ["logout", "sign_out_device", "delete_account"];
    let skip: Vec<&str> = session_enders.iter().flat_map(|id| ["--exclude-operation-id", *id]).collect();
    let (b, t) = (bin.clone(), token.clone());
    tokio::task::spawn_blocking(move || schemathesis(&b, &base, &t, seed, &skip, 20, Duration::from_secs(120)))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    // The session lived through it: the signed-in operations were tried signed in.
    let (status, me) = server.call(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(status, 200, "{me}");

    // Then each of those, with an account of its own.
    for (i, group) in [&["devices", "sign_out_device"][..], &["logout"], &["delete_account"]].into_iter().enumerate() {
        let token = server.signup(&format!("bea{i}")).await.token;
        let (b, base) = (bin.clone(), server.base.clone());
        // No links join these operations, so there is nothing stateful to try.
        let mut only = vec!["--phases", "examples,coverage,fuzzing"];
        only.extend(group.iter().flat_map(|id| ["--include-operation-id", *id]));
        tokio::task::spawn_blocking(move || schemathesis(&b, &base, &token, seed, &only, 5, Duration::from_secs(40)))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    }
}
