//! newman as the oracle for `apisync run`: every collection fixture under
//! `tests/fixtures/postman` is run by newman and by the real binary against
//! the same local recording servers (tests/node/oracle.js); both must send
//! the same requests in the same order and reach the same test names with
//! the same pass or fail. Collections that use what apisync reports as
//! unsupported are listed with those features; the few known differences are
//! listed in oracle.js with their reasons.
//!
//! Needs Node, tests/node's packages and openssl (`scripts/install-test-deps.sh`).
//! Without them the test fails when `CI=true` and is skipped, loudly, otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Why the oracle cannot run here, if it cannot.
fn missing() -> Option<String> {
    let newman = root().join("tests/node/node_modules/newman/package.json");
    if !newman.is_file() {
        return Some(format!("{} is missing", newman.display()));
    }
    for tool in ["node", "openssl"] {
        if Command::new(tool).arg("--version").output().is_err() && Command::new(tool).arg("version").output().is_err() {
            return Some(format!("`{tool}` cannot run"));
        }
    }
    None
}

#[test]
fn apisync_run_sends_and_tests_as_newman_does() {
    if let Some(why) = missing() {
        let msg = format!("the newman oracle needs Node, openssl and tests/node's packages: {why}; run scripts/install-test-deps.sh");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        let bar = "!".repeat(72);
        let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("oracle.json");
    let started = Instant::now();
    let out = Command::new("node")
        .arg(root().join("tests/node/oracle.js"))
        .arg("--apisync")
        .arg(support::bin())
        .arg("--fixtures")
        .arg(root().join("tests/fixtures/postman"))
        .arg("--json")
        .arg(&report)
        .current_dir(dir.path())
        .output()
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("oracle.js took {:.1}s\n{stdout}", started.elapsed().as_secs_f64());
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.trim().is_empty() {
        println!("oracle.js stderr:\n{stderr}");
    }
    assert!(out.status.success(), "apisync run differs from newman (see the DIFF, ERR or NEW lines above)");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let results = v["results"].as_array().unwrap();
    let matching = results.iter().filter(|r| r["status"] == "matches").count();
    // The suite must keep comparing something real: most fixtures match in full.
    assert!(results.len() >= 50, "only {} collections compared", results.len());
    assert!(matching * 3 >= results.len() * 2, "only {matching} of {} collections match newman", results.len());
}
