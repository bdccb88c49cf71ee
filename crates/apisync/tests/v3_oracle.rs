//! Postman's own CLI (postman-cli 1.34.0, tests/node/v3_oracle.js) as the
//! oracle for the v3 directory format, over every v2.1 collection fixture
//! that `postman collection migrate` accepts (tests/fixtures/postman-v3
//! holds its migrations, SOURCES.md says which):
//!
//! - the oracle itself: `migrate` still accepts exactly those fixtures and
//!   writes what is kept, and Postman's runner on Postman's migration sends
//!   what newman sends on the original;
//! - `apisync import` + `apisync export --collection ID --format v3` lints
//!   clean and, run by Postman's runner, sends what newman sends on the
//!   original;
//! - `apisync export --all --format v3` of a workspace: every collection
//!   directory lints clean, and Postman's runner given the exported v3
//!   environment and globals sends what newman sends with the originals.
//!
//! Known differences are listed below with their reasons; a listed one that
//! stops differing fails, as does any other. Needs Node, openssl, tests/node's
//! packages (`scripts/install-test-deps.sh`) and a network namespace to run
//! the binary in; on linux x64 a missing piece fails the test when `CI=true`
//! and skips it, loudly, otherwise. Elsewhere there is no binary: skipped, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::Device;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn postman_fixtures() -> PathBuf {
    root().join("tests/fixtures/postman")
}

fn v3_fixtures() -> PathBuf {
    root().join("tests/fixtures/postman-v3")
}

// ---------------------------------------------------------------------------------------------
// The oracle

/// Why the oracle cannot run here, if it cannot: a missing tool or package, or
/// no network namespace (the script's exit code 3).
fn missing() -> Option<String> {
    for (what, path) in [
        ("newman", "tests/node/node_modules/newman/package.json"),
        ("the Postman CLI", "tests/node/node_modules/@postman/pm-bin-linux-x64/bin/postman"),
    ] {
        if !root().join(path).is_file() {
            return Some(format!("{what} ({path}) is missing"));
        }
    }
    for tool in ["node", "openssl", "unshare"] {
        if Command::new(tool).arg("--version").output().is_err() && Command::new(tool).arg("version").output().is_err() {
            return Some(format!("`{tool}` cannot run"));
        }
    }
    // A migrated fixture as kept must lint clean: this also proves the binary runs, confined.
    let probe = run_oracle(&["lint".into(), v3_fixtures().join("schemas/helpers").into()]);
    match probe.code {
        Some(0) => None,
        Some(3) => Some(probe.stderr.trim().to_string()),
        _ => panic!("the oracle's probe (lint schemas/helpers) failed: {probe:?}"),
    }
}

/// Whether the test can go on; if not, says so loudly (or fails, under `CI=true` on linux x64).
fn oracle_ready() -> bool {
    let skip = |msg: String| {
        let bar = "!".repeat(72);
        let _ = writeln!(std::io::stderr(), "\n{bar}\nSKIPPED: {msg}\n{bar}\n");
        false
    };
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return skip("the v3 oracle is Postman's CLI binary, published for npm only for linux x64 here".into());
    }
    let Some(why) = missing() else { return true };
    let msg =
        format!("the v3 oracle needs Node, openssl, tests/node's packages and `unshare --net`: {why}; run scripts/install-test-deps.sh");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    skip(msg)
}

/// One call of tests/node/v3_oracle.js.
#[derive(Debug)]
struct Call {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Call {
    /// Its JSON report (lint, compare-run).
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("v3_oracle.js printed no JSON ({e}): {self:?}"))
    }
}

/// Runs tests/node/v3_oracle.js, whatever it answers.
fn run_oracle(args: &[OsString]) -> Call {
    let out = Command::new("node").arg(root().join("tests/node/v3_oracle.js")).args(args).output().expect("cannot run node");
    Call {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs tests/node/v3_oracle.js once the oracle is known to run here: it must answer yes or no.
fn oracle(args: &[OsString]) -> Call {
    let call = run_oracle(args);
    assert_ne!(call.code, Some(2), "v3_oracle.js failed: {call:?}");
    assert_ne!(call.code, Some(3), "the oracle stopped being able to run: {call:?}");
    call
}

/// `lint DIR`: None when clean, else what Postman reported.
fn lint(dir: &Path) -> Option<String> {
    let call = oracle(&["lint".into(), dir.into()]);
    let report = call.json();
    let clean = report["clean"] == true;
    assert_eq!(clean, call.code == Some(0), "lint's exit code and report disagree: {call:?}");
    (!clean).then(|| {
        let diagnostics: Vec<String> = report["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| format!("{} [{}] {}: {}", d["severity"], d["ruleId"], d["filePath"], d["message"]))
            .collect();
        format!(
            "{} errors, {} warnings, {} files scanned{}: {}",
            report["errorCount"],
            report["warningCount"],
            report["filesScanned"],
            report["error"].as_str().map(|e| format!(" ({e})")).unwrap_or_default(),
            diagnostics.join("; ")
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A v2.1 collection that `migrate` accepts, with its migration as kept.
struct Fixture {
    /// Its directory under tests/fixtures/postman-v3, e.g. `schemas/helpers`.
    name: String,
    source: PathBuf,
    migrated: PathBuf,
    environment: Option<PathBuf>,
    globals: Option<PathBuf>,
}

/// Every migrated directory under tests/fixtures/postman-v3 (`GROUP/NAME`) with its source:
/// tests/fixtures/postman/GROUP/NAME.json, or GROUP/NAME.postman_collection.json beside it.
fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    for group in sorted_dir(&v3_fixtures()) {
        if !group.is_dir() {
            continue;
        }
        for migrated in sorted_dir(&group).into_iter().filter(|p| p.is_dir()) {
            let name = migrated.strip_prefix(v3_fixtures()).unwrap().to_string_lossy().into_owned();
            let source = [postman_fixtures().join(format!("{name}.json")), v3_fixtures().join(format!("{name}.postman_collection.json"))]
                .into_iter()
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("no source collection for tests/fixtures/postman-v3/{name}"));
            let companion = |suffix: &str| {
                let file = source.file_name()?.to_str()?.strip_suffix(".postman_collection.json")?;
                Some(source.with_file_name(format!("{file}.{suffix}.json"))).filter(|p| p.is_file())
            };
            let (environment, globals) = (companion("postman_environment"), companion("postman_globals"));
            out.push(Fixture { name, source, migrated, environment, globals });
        }
    }
    // SOURCES.md lists 34: the suite must keep comparing them all.
    assert!(out.len() >= 34, "only {} migrated fixtures under {}", out.len(), v3_fixtures().display());
    out
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

/// Values for the variables some fixtures name their host with and never define: without them
/// only newman's local agents (which ignore the host) reach a server, so nothing would be compared.
const HOST_VARIABLES: &[(&str, &str)] = &[
    ("schemas/github", "url=https://api.github.test"),
    ("postman2openapi/duplicate-query-params.postman", "v2 API domain=api.example.test"),
    ("schemas/proper-url-parsing", "hellohost=example.test"),
];

/// `compare-run` of the fixture's source against `dir`: the verdict.
fn compare_run(f: &Fixture, dir: &Path) -> Value {
    let mut args: Vec<OsString> = vec!["compare-run".into(), f.source.clone().into(), dir.into()];
    if let Some(e) = &f.environment {
        args.extend(["--environment".into(), e.into()]);
    }
    if let Some(g) = &f.globals {
        args.extend(["--globals".into(), g.into()]);
    }
    for (_, kv) in HOST_VARIABLES.iter().filter(|(name, _)| *name == f.name) {
        args.extend(["--env-var".into(), (*kv).into()]);
    }
    verdict(&args)
}

/// A `compare-run`'s verdict.
fn verdict(args: &[OsString]) -> Value {
    let call = oracle(args);
    let verdict = call.json();
    assert_eq!(verdict["same"] == true, call.code == Some(0), "compare-run's exit code and verdict disagree: {call:?}");
    verdict
}

// ---------------------------------------------------------------------------------------------
// Known differences

/// Where a compared run knowingly differs from newman's, and why.
struct Known {
    fixture: &'static str,
    /// The reasons, one for each kind of difference.
    why: &'static [&'static str],
    /// Every difference the verdict lists contains one of these.
    marks: &'static [&'static str],
    /// Text the runner's output must hold, when its output is the point.
    output: Option<&'static str>,
}

const EMPTY_TEXT_BODY: &str = "an empty raw body without a language becomes `body: {type: text, content: \"\"}`, for which the v3 \
     runner sends `content-type: text/plain`; a v2.1 run sends none";
const TEXT_PLAIN: &str = "headers.content-type: only in postman: [\"text/plain\"]";
const OWN_MULTIPART_HEADER: &str = "a formdata body under the request's own Content-Type header: the v3 runner sends that header as \
     written (no boundary) and a body of its own making (undici's boundary); a v2.1 run sends a header naming its boundary";
const UNDEFINED_VARIABLE: &str = "a test script sets a variable to undefined (`pm.environment.set(\"apiId\", jsonData.data.id)` on an \
     echo): a v2.1 run then writes {{apiId}} as `null`, the v3 runner leaves it unresolved";
const GRAPHQL_NEEDS_LOGIN: &str = "graphql requests: postman-cli 1.34.0 refuses to run them without a login, which the oracle never has";
const UNREADABLE_FILE: &str = "a formdata file that cannot be read (outside the working directory, or missing): the v3 runner \
     fails the request (ENOENT) and sends nothing; a v2.1 run sends it without the file";

/// Where Postman's v3 runner sends other requests than newman on the v2.1 original, with the
/// collection written as `migrate` writes it. apisync's export writes what migrate writes, so
/// both its run and Postman's own migration's are held to this one list; should apisync's
/// export come to run like newman where Postman's migration does not, the list must split.
const V3_RUN_KNOWN: &[Known] = &[
    Known { fixture: "newman/protocol-profile-behavior.postman_collection", why: &[EMPTY_TEXT_BODY], marks: &[TEXT_PLAIN], output: None },
    Known { fixture: "postman2openapi/only-root-path.postman", why: &[EMPTY_TEXT_BODY], marks: &[TEXT_PLAIN], output: None },
    Known { fixture: "schemas/nestedEntities", why: &[EMPTY_TEXT_BODY], marks: &[TEXT_PLAIN], output: None },
    Known {
        fixture: "postman-collection-rs/swagger-petstore-v2.1.0",
        why: &[EMPTY_TEXT_BODY, OWN_MULTIPART_HEADER],
        marks: &[
            TEXT_PLAIN,
            "headers.content-type[0]: \"multipart/form-data; boundary=<boundary>\" ≠ \"multipart/form-data\"",
            "formdata-undici-",
        ],
        output: None,
    },
    Known {
        fixture: "postman2openapi/postman-api.postman",
        why: &[EMPTY_TEXT_BODY, OWN_MULTIPART_HEADER, UNDEFINED_VARIABLE],
        marks: &[
            TEXT_PLAIN,
            "requests[29].headers.content-type[0]: \"multipart/form-data; boundary=<boundary>\" ≠ \"application/json\"",
            "requests[29].body: ",
            ".url: \"/apis/null\" ≠ \"/apis/%7B%7BapiId%7D%7D\"",
        ],
        output: None,
    },
    Known {
        fixture: "postman2openapi/graphql.postman",
        why: &[GRAPHQL_NEEDS_LOGIN],
        marks: &["≠ undefined"],
        output: Some(GRAPHQL_REFUSAL),
    },
    Known { fixture: "schemas/reqBodyGraphQL", why: &[GRAPHQL_NEEDS_LOGIN], marks: &["≠ undefined"], output: Some(GRAPHQL_REFUSAL) },
    Known {
        fixture: "schemas/ntlmAuthTest",
        why: &["ntlm auth beside the request's own Authorization header: the v3 runner sends that header, a v2.1 run does not"],
        marks: &["headers.authorization: only in postman: "],
        output: None,
    },
    Known {
        fixture: "schemas/reqBodyContentType",
        why: &[UNREADABLE_FILE],
        marks: &["requests[2]: {\"method\":\"POST\""],
        output: Some("ENOENT: no such file or directory, open 'path/to/file.json'"),
    },
    Known {
        fixture: "schemas/formdata-body",
        why: &["a formdata file's `src: null` is written `src: \"\"`, which the v3 runner then fails to open (ENOENT) and sends \
              nothing; a v2.1 run sends the form without that file"],
        marks: &["requests[0]: {\"method\":\"POST\""],
        output: Some("ENOENT: no such file or directory, open ''"),
    },
    Known {
        fixture: "schemas/httpbin",
        why: &["scheme-relative URLs (`//httpbin.org/post`): a v2.1 run loses their host and does not send them; the v3 runner \
              sends them to httpbin.org, so it sends 4 requests to newman's 1"],
        marks: &[
            "requests[0].method: \"GET\" ≠ \"POST\"",
            "requests[0].url: \"/status/:code\" ≠ \"/post?random=yeah\"",
            "requests[0].headers.content-type: only in postman: [\"application/json\"]",
            ": undefined ≠ {\"method\":\"POST\",\"scheme\":\"http\",\"host\":\"httpbin.org\"",
            ": undefined ≠ {\"method\":\"GET\",\"scheme\":\"http\",\"host\":\"httpbin.org\"",
        ],
        output: None,
    },
];

const GRAPHQL_REFUSAL: &str = "This collection contains GraphQL requests. Please log in to run this collection.";

/// How one compared run came out.
enum Outcome {
    Same,
    Known(&'static [&'static str]),
    /// Listed as known, but the same: the list must shrink.
    NoLongerDiffers(&'static [&'static str]),
    Differs(Vec<String>),
}

impl Outcome {
    fn passed(&self) -> bool {
        matches!(self, Outcome::Same | Outcome::Known(_))
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Same => "same".into(),
            Outcome::Known(why) => format!("known: {}", why.join("; ")),
            Outcome::NoLongerDiffers(why) => format!("NO LONGER DIFFERS (remove it from the list): {}", why.join("; ")),
            Outcome::Differs(d) => format!("DIFFERS:\n        {}", d.join("\n        ")),
        }
    }
}

fn judge(name: &str, verdict: &Value, known: &[Known]) -> Outcome {
    let differences: Vec<String> =
        verdict["differences"].as_array().into_iter().flatten().map(|d| d.as_str().unwrap_or_default().to_string()).collect();
    let listed = known.iter().find(|k| k.fixture == name);
    match listed {
        None if verdict["same"] == true => Outcome::Same,
        Some(k) if verdict["same"] == true => Outcome::NoLongerDiffers(k.why),
        Some(k) => {
            let output = verdict["postman"]["output"].as_str().unwrap_or_default();
            let mut unexplained: Vec<String> = differences.iter().filter(|d| !k.marks.iter().any(|m| d.contains(m))).cloned().collect();
            if verdict["moreDifferences"].as_u64() != Some(0) {
                unexplained.push(format!("{} more differences than the verdict lists", verdict["moreDifferences"]));
            }
            if let Some(text) = k.output.filter(|t| !output.contains(t)) {
                unexplained.push(format!("the runner's output lacks {text:?}: {output}"));
            }
            if unexplained.is_empty() { Outcome::Known(k.why) } else { Outcome::Differs(unexplained) }
        }
        None => {
            let mut d = differences;
            d.push(format!("runner output: {}", verdict["postman"]["output"].as_str().unwrap_or_default()));
            Outcome::Differs(d)
        }
    }
}

/// One fixture's checks: its name, then each check's name and result (what was seen, or why it failed).
type Row = (String, Vec<(&'static str, Result<String, String>)>);

/// Prints each fixture's checks and fails listing every fixture that did not pass.
fn conclude(what: &str, started: Instant, rows: &[Row]) {
    let mut failed = Vec::new();
    for (name, checks) in rows {
        let cells: Vec<String> = checks
            .iter()
            .map(|(check, r)| match r {
                Ok(s) => format!("{check}: {s}"),
                Err(s) => format!("{check}: FAIL {s}"),
            })
            .collect();
        println!("{name}\n    {}", cells.join("\n    "));
        if checks.iter().any(|(_, r)| r.is_err()) {
            failed.push(name.as_str());
        }
    }
    let total = rows.len();
    println!("{what}: {} of {total} fixtures pass, in {:.1}s", total - failed.len(), started.elapsed().as_secs_f64());
    assert!(failed.is_empty(), "{what}: {} of {total} fixtures fail: {}", failed.len(), failed.join(", "));
}

fn outcome_cell(o: Outcome) -> Result<String, String> {
    if o.passed() { Ok(o.describe()) } else { Err(o.describe()) }
}

fn lint_cell(dir: &Path) -> Result<String, String> {
    match lint(dir) {
        None => Ok("clean".into()),
        Some(why) => Err(why),
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle itself

/// v2.1 collection fixtures that `migrate` refuses, with its reason (SOURCES.md).
const REFUSED_BY_MIGRATE: &[(&str, &str)] = &[
    ("postman-collection-rs/apikey-v2.1.0.json", "`event` and `variable` are null"),
    ("postman-collection-rs/edgegrid-v2.1.0.json", "`event` and `variable` are null"),
    ("postman-collection-rs/graphql-query-v2.1.0.json", "`variable` is null"),
    ("postman-collection-rs/tests__fixtures__collection__coverage__v2.1.0-item-group.json", "item.0: Invalid input"),
    ("schemas/request.json", "item.0: Invalid input"),
    ("postman2openapi/github.postman.json", "ENAMETOOLONG: an example's long name becomes a file name"),
];

/// Every v2.1 collection under tests/fixtures/postman (and the one kept beside the migrations),
/// by its path there.
fn v21_collections() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for p in sorted_dir(dir) {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&postman_fixtures(), &mut files);
    let mut out: Vec<(String, PathBuf)> = files
        .into_iter()
        .filter(|p| {
            let Ok(bytes) = std::fs::read(p) else { return false };
            let text = String::from_utf8_lossy(&bytes);
            let Ok(v) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) else { return false };
            v["item"].is_array() && v["info"]["schema"].as_str().is_some_and(|s| s.contains("v2.1.0"))
        })
        .map(|p| (p.strip_prefix(postman_fixtures()).unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.push(("apisync/names.postman_collection.json".into(), v3_fixtures().join("apisync/names.postman_collection.json")));
    out
}

/// Every file under `dir`, by relative path, with the random id migrate gives an auth block
/// without one (the line after `auth:` in a definition) masked.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for p in sorted_dir(dir) {
            if p.is_dir() {
                walk(base, &p, out);
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
            let mut masked = Vec::new();
            let mut after_auth = false;
            for line in text.lines() {
                let is_id = line.trim_start().starts_with("- id: ");
                masked.push(if after_auth && is_id { "  - id: <random>".to_string() } else { line.to_string() });
                after_auth = line.trim() == "auth:";
            }
            out.push((p.strip_prefix(base).unwrap().to_string_lossy().into_owned(), masked.join("\n")));
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The files that two trees do not hold alike.
fn tree_differences(ours: &[(String, String)], kept: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<&String> = ours.iter().chain(kept).map(|(n, _)| n).collect();
    names.sort();
    names.dedup();
    let find = |t: &[(String, String)], n: &String| t.iter().find(|(m, _)| m == n).map(|(_, text)| text.clone());
    names.into_iter().filter(|n| find(ours, n) != find(kept, n)).cloned().collect()
}

#[test]
fn migrate_accepts_exactly_the_fixtures_kept_and_writes_what_is_kept() {
    if !oracle_ready() {
        return;
    }
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let kept: Vec<Fixture> = fixtures();
    let mut rows = Vec::new();
    for (i, (name, file)) in v21_collections().into_iter().enumerate() {
        let stem = name.trim_end_matches(".json").to_string();
        let keeper = kept.iter().find(|f| f.source == file);
        // migrate writes a `name:` only where the directory is named otherwise: name it as kept.
        let dir_name = keeper.and_then(|f| f.migrated.file_name()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(&stem));
        let out = work.path().join(i.to_string()).join(dir_name);
        let call = oracle(&["migrate".into(), file.clone().into(), out.clone().into()]);
        let refused = REFUSED_BY_MIGRATE.iter().find(|(n, _)| *n == name);
        let cell = match (call.code == Some(0), keeper, refused) {
            (true, Some(f), _) => {
                let changed = tree_differences(&tree(&out), &tree(&f.migrated));
                if changed.is_empty() {
                    Ok(format!("as kept in postman-v3/{}", f.name))
                } else {
                    Err(format!("differs from postman-v3/{} in {changed:?}", f.name))
                }
            }
            (true, None, _) => Err(format!("migrated, but no postman-v3/{stem} is kept")),
            (false, None, Some((_, why))) => Ok(format!("refused, as listed: {why}")),
            (false, Some(f), _) => Err(format!("refused, but postman-v3/{} is kept: {}{}", f.name, call.stdout, call.stderr)),
            (false, None, None) => Err(format!("refused and not listed: {}{}", call.stdout, call.stderr)),
        };
        rows.push((name, vec![("migrate", cell)]));
    }
    assert!(kept.iter().all(|f| rows.iter().any(|(n, _)| f.source.ends_with(n))), "a kept migration has no v2.1 source among the fixtures");
    conclude("migrate", started, &rows);
}

#[test]
fn postmans_runner_on_postmans_migration_sends_what_newman_sends() {
    if !oracle_ready() {
        return;
    }
    let started = Instant::now();
    let rows: Vec<_> = fixtures()
        .into_iter()
        .map(|f| {
            let verdict = compare_run(&f, &f.migrated);
            let requests = verdict["newman"]["requests"].clone();
            let cell = outcome_cell(judge(&f.name, &verdict, V3_RUN_KNOWN));
            (format!("{} ({requests} requests)", f.name), vec![("run", cell)])
        })
        .collect();
    conclude("Postman's runner on Postman's migration vs newman", started, &rows);
}

// ---------------------------------------------------------------------------------------------
// apisync's export

/// Imports `files` into the device; the ids of the collections among what they held.
fn import(device: &Device, files: &[&Path]) -> Vec<String> {
    let mut args = vec!["import".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = device.json(&refs);
    report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["top_level"].as_array().cloned().unwrap_or_default())
        .filter(|d| d["kind"] == "collection")
        .map(|d| d["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn apisync_v3_export_lints_clean_and_sends_what_newman_sends() {
    if !oracle_ready() {
        return;
    }
    let started = Instant::now();
    let rows: Vec<_> = fixtures()
        .into_iter()
        .map(|f| {
            let device = Device::new(&f.name);
            let ids = import(&device, &[&f.source]);
            assert_eq!(ids.len(), 1, "{}: import made {} collections", f.name, ids.len());
            let dir = device.dir.path().join("export-v3");
            device.run(&["export", "--collection", &ids[0], "--format", "v3", "-o", dir.to_str().unwrap()]);
            let lint = lint_cell(&dir);
            let run = outcome_cell(judge(&f.name, &compare_run(&f, &dir), V3_RUN_KNOWN));
            (f.name, vec![("lint", lint), ("run", run)])
        })
        .collect();
    conclude("apisync's v3 export: lint, and Postman's runner vs newman", started, &rows);
}

/// Where the v2.1 export of an import of Postman's own migration knowingly sends other requests
/// than the original under newman: what `migrate` dropped is not in the directory to import.
const V3_IMPORT_KNOWN: &[Known] = &[
    Known {
        fixture: "schemas/reqBodyGraphQL",
        why: &["migrate drops a GraphQL body's `operationName`, so the body newman sends lacks it"],
        marks: &["operationName"],
        output: None,
    },
    Known {
        fixture: "schemas/httpMethods",
        why: &["migrate drops `protocolProfileBehavior.disableBodyPruning` (it keeps strictSSL and followRedirects), so newman \
              prunes the GET's form body again"],
        marks: &["requests[1].headers.content-type: only in newman", "requests[1].body:"],
        output: None,
    },
    Known {
        fixture: "schemas/formdata-body",
        why: &["the original's URL object has `raw: https://…` but no `protocol`, so newman sends it over http; v3 keeps only the \
              text, which says https"],
        marks: &["requests[0].scheme: \"http\" ≠ \"https\""],
        output: None,
    },
];

/// The third round trip: `apisync import` of the directory `postman collection migrate`
/// made, exported as v2.1, sends under newman the same requests as the original.
#[test]
fn the_v21_export_of_an_import_of_postmans_migration_sends_what_the_original_sends() {
    if !oracle_ready() {
        return;
    }
    let started = Instant::now();
    let rows: Vec<_> = fixtures()
        .into_iter()
        .map(|f| {
            let device = Device::new(&f.name);
            // Postman names the collection after its directory; keep that name in the path.
            let ids = import(&device, &[&f.migrated]);
            assert_eq!(ids.len(), 1, "{}: import made {} collections", f.name, ids.len());
            let out = device.dir.path().join("export.postman_collection.json");
            device.run(&["export", "--collection", &ids[0], "-o", out.to_str().unwrap()]);
            let run = outcome_cell(judge(&f.name, &compare_run(&f, &out), V3_IMPORT_KNOWN));
            (f.name, vec![("newman on the v2.1 export", run)])
        })
        .collect();
    conclude("apisync's v2.1 export of Postman's migration vs the original, both under newman", started, &rows);
}

/// The entry of `dir` (a file, or a directory with a `.resources/definition.yaml`) whose YAML
/// has the top-level line `id: ID`.
fn find_by_id(dir: &Path, id: &str) -> Option<PathBuf> {
    let line = format!("id: {id}");
    sorted_dir(dir).into_iter().find(|p| {
        let file = if p.is_dir() { p.join(".resources/definition.yaml") } else { p.clone() };
        std::fs::read_to_string(file).is_ok_and(|text| text.lines().any(|l| l == line))
    })
}

/// A fixture's id as written in v3: a collection's `info._postman_id`, an environment's `id`.
fn fixture_id(file: &Path) -> String {
    let v: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let id = if v["info"].is_object() { &v["info"]["_postman_id"] } else { &v["id"] };
    id.as_str().unwrap_or_else(|| panic!("{} has no id", file.display())).to_string()
}

#[test]
fn apisync_v3_export_all_lints_clean_and_runs_with_its_environment_and_globals() {
    if !oracle_ready() {
        return;
    }
    let started = Instant::now();
    let device = Device::new("workspace");
    let fixture = |rel: &str| postman_fixtures().join(rel);
    // Collections from every source format (v2.1, v2.0, v1), environments and globals.
    let files: Vec<PathBuf> = [
        "newman/globals-env-data-files.postman_collection.json",
        "newman/globals-env-data-files.postman_environment.json",
        "newman/globals-env-data-files.postman_globals.json",
        "newman/disabled-and-duplicates.postman_collection.json",
        "newman/disabled-and-duplicates.postman_environment.json",
        "postman-collection-rs/swagger-petstore-v1.0.0.json",
        "postman-collection-rs/swagger-petstore-v2.0.0.json",
        "schemas/nestedEntities.json",
    ]
    .iter()
    .map(|rel| fixture(rel))
    .chain([v3_fixtures().join("apisync/names.postman_collection.json")])
    .collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let ids = import(&device, &refs);
    assert_eq!(ids.len(), 6, "six collections imported");
    let out = device.dir.path().join("postman");
    device.run(&["export", "--all", "--format", "v3", "-o", out.to_str().unwrap()]);
    let collections: Vec<PathBuf> = sorted_dir(&out.join("collections")).into_iter().filter(|p| p.is_dir()).collect();
    assert_eq!(collections.len(), ids.len(), "one directory per collection under {}: {collections:?}", out.display());
    let mut rows: Vec<Row> =
        collections.iter().map(|dir| (dir.file_name().unwrap().to_string_lossy().into_owned(), vec![("lint", lint_cell(dir))])).collect();

    // Postman's linter has no environment or globals command, but its runner reads the v3 files:
    // the collection whose URL is made of environment and global variables is run with the
    // exported environment and globals, newman with the originals. (disabled-and-duplicates reads
    // its environment only in test scripts, whose outcomes the oracle cannot compare.)
    let name = "globals-env-data-files";
    let source = fixture(&format!("newman/{name}.postman_collection.json"));
    let (environment, globals) =
        (fixture(&format!("newman/{name}.postman_environment.json")), fixture(&format!("newman/{name}.postman_globals.json")));
    let exported_globals = out.join("globals/workspace.globals.yaml");
    let dir = find_by_id(&out.join("collections"), &fixture_id(&source));
    let exported_env = find_by_id(&out.join("environments"), &fixture_id(&environment));
    let (Some(dir), Some(exported_env), true) = (dir, exported_env, exported_globals.is_file()) else {
        panic!("{name}: its collection, environment or globals is not among the exported files under {}", out.display());
    };
    let args: Vec<OsString> = vec![
        "compare-run".into(),
        source.into(),
        dir.into(),
        "--environment".into(),
        environment.into(),
        "--globals".into(),
        globals.into(),
        "--runner-environment".into(),
        exported_env.into(),
        "--runner-globals".into(),
        exported_globals.into(),
    ];
    let cell = outcome_cell(judge(name, &verdict(&args), &[]));
    rows.push((format!("{name}, run with the exported environment and globals"), vec![("run", cell)]));
    conclude("apisync export --all --format v3: collections lint, and runs with the exported environments and globals", started, &rows);
}
