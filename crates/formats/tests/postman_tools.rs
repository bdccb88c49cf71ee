//! What apisync exports is real Postman, by Postman's own tools.
//!
//! Every collection fixture under `tests/fixtures/postman` (and every
//! collection inside a Postman data dump) is imported and exported as v2.1,
//! and `tests/node/check.js` then checks each export against its original:
//! the draft-07 v2.1.0 JSON Schema (ajv), the same folders, requests and
//! request definitions when both are loaded with the `postman-collection`
//! SDK, and the same requests received by a local server (and the same test
//! results) when both are run with newman. See check.js for the details.
//!
//! v1 originals: newman 6 runs a v1 file by first converting it with
//! `postman-collection-transformer` (newman's lib/run/options.js). check.js
//! does exactly that and compares the export against the converted file, so
//! a v1 collection is held to what Postman's own converter makes of it, by
//! all three checks. v2.0 and unversioned v2 originals run in newman as they
//! are.
//!
//! Needs Node and the packages of tests/node (`scripts/install-test-deps.sh`).
//! Without them the test fails when `CI=true` and is skipped, loudly, otherwise.
//! Set `APISYNC_POSTMAN_TOOLS_DIR` to write the cases to that directory and keep
//! them (to rerun `node tests/node/check.js --schema … --manifest DIR/manifest.json`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::{Format, export_collection, export_dump, import};
use model::{Document, Id, Kind};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman");
    assert!(dir.is_dir(), "fixtures not found at {}", dir.display());
    dir
}

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/node")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { walk(&path, out) } else { out.push(path) }
    }
}

fn minter() -> impl FnMut() -> Id {
    let mut n = 0x1000u128;
    move || {
        n += 1;
        Id::from_u128(n)
    }
}

fn collection_of(docs: &[Document]) -> &Document {
    docs.iter().find(|d| d.kind == Kind::Collection).expect("no collection document")
}

/// One original and its export, written for check.js.
struct Case {
    name: String,
    original: Vec<u8>,
    exported: Value,
    environment: Option<PathBuf>,
    globals: Option<PathBuf>,
}

/// `dir/X.postman_collection.json` runs with `dir/X.postman_environment.json`
/// and `dir/X.postman_globals.json` when the fixtures have them (newman's own
/// integration tests pair them so).
fn companion(path: &Path, suffix: &str) -> Option<PathBuf> {
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".postman_collection.json")?;
    Some(path.with_file_name(format!("{stem}.{suffix}.json"))).filter(|p| p.is_file())
}

fn cases() -> Vec<Case> {
    let root = fixtures_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        if path.extension().is_none_or(|e| e != "json") || path.ends_with("schema/collection-v2.1.0.json") {
            continue;
        }
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let imp = import(&bytes, Id::nil(), &mut minter()).unwrap_or_else(|e| panic!("{name}: {e}"));
        match imp.format {
            Format::CollectionV21 | Format::CollectionV20 | Format::CollectionV2Unversioned | Format::CollectionV1 => {
                let exported = export_collection(collection_of(&imp.documents), &imp.documents).unwrap_or_else(|e| panic!("{name}: {e}"));
                let (environment, globals) = (companion(&path, "postman_environment"), companion(&path, "postman_globals"));
                cases.push(Case { name, original: bytes, exported, environment, globals });
            }
            // A dump's collections are collections too (v1, as Postman writes dumps).
            Format::Dump => {
                let original = formats::decode(&bytes).unwrap().0;
                let exported = export_dump(&imp.documents).value;
                let (orig, exp) = (original["collections"].as_array().unwrap(), exported["collections"].as_array().unwrap());
                assert_eq!(orig.len(), exp.len(), "{name}");
                for (i, (o, e)) in orig.iter().zip(exp).enumerate() {
                    let original = serde_json::to_vec(o).unwrap();
                    cases.push(Case {
                        name: format!("{name}#collections[{i}]"),
                        original,
                        exported: e.clone(),
                        environment: None,
                        globals: None,
                    });
                }
            }
            Format::Environment | Format::Globals | Format::NewmanReport | Format::V3Directory => {}
        }
    }
    cases
}

/// Node and the packages check.js needs, or why not.
fn tools() -> Result<String, String> {
    let modules = node_dir().join("node_modules");
    let version = Command::new("node").arg("--version").output().map_err(|e| format!("cannot run `node`: {e}"))?;
    if !version.status.success() {
        return Err("`node --version` failed".into());
    }
    for package in ["ajv", "postman-collection", "postman-collection-transformer", "newman"] {
        if !modules.join(package).join("package.json").is_file() {
            return Err(format!("{} has no {package}", modules.display()));
        }
    }
    Ok(String::from_utf8_lossy(&version.stdout).trim().to_string())
}

#[test]
fn exports_pass_postman_schema_sdk_and_newman() {
    let node = match tools() {
        Ok(v) => v,
        Err(why) => {
            let msg = format!("Postman tools check needs Node and tests/node/node_modules: {why}; run scripts/install-test-deps.sh");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg}");
            }
            // Straight to stderr, past the test harness's capture, so a skip is never silent.
            let bar = "!".repeat(72);
            let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
            return;
        }
    };

    let cases = cases();
    assert!(cases.len() >= 45, "only {} collections found", cases.len());

    let temp;
    let dir = match std::env::var_os("APISYNC_POSTMAN_TOOLS_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).unwrap();
            d
        }
        None => {
            temp = tempfile::tempdir().unwrap();
            temp.path().to_path_buf()
        }
    };
    let mut manifest = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let sub = dir.join(format!("{i:03}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("original.json"), &case.original).unwrap();
        std::fs::write(sub.join("exported.json"), serde_json::to_vec_pretty(&case.exported).unwrap()).unwrap();
        let mut entry = json!({"name": case.name, "original": sub.join("original.json"), "exported": sub.join("exported.json")});
        if let Some(e) = &case.environment {
            entry["environment"] = json!(e);
        }
        if let Some(g) = &case.globals {
            entry["globals"] = json!(g);
        }
        manifest.push(entry);
    }
    let manifest_path = dir.join("manifest.json");
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&json!({"cases": manifest})).unwrap()).unwrap();

    let started = Instant::now();
    let out = Command::new("node")
        .arg(node_dir().join("check.js"))
        .arg("--schema")
        .arg(fixtures_dir().join("schema/collection-v2.1.0.json"))
        .arg("--manifest")
        .arg(&manifest_path)
        .args(["--concurrency", "2"])
        .current_dir(&dir)
        .output()
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("node {node}, check.js took {:.1}s\n{stdout}", started.elapsed().as_secs_f64());
    if !stderr.trim().is_empty() {
        println!("check.js stderr:\n{stderr}");
    }
    assert!(out.status.success(), "check.js failed ({}): Postman's tools disagree with apisync's export; see the report above", out.status);
    assert!(stdout.contains(&format!("{} collections checked", cases.len())), "check.js did not report every collection");
}
