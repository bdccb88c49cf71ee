//! End to end: Postman files in and out through the real binary, the
//! scratch pad, and working without an account.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::{Device, Server, stderr};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman").join(rel)
}

fn read_json(p: &Path) -> Value {
    let bytes = std::fs::read(p).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

/// Items that had no id get apisync's on export (Postman does the same);
/// ids that were there are kept, which the formats tests check exactly.
fn without_item_ids(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        for list in ["item", "response"] {
            if let Some(items) = v.get_mut(list).and_then(Value::as_array_mut) {
                for item in items {
                    if let Some(o) = item.as_object_mut() {
                        o.remove("id");
                    }
                    walk(item);
                }
            }
        }
    }
    walk(&mut v);
    v
}

fn of_kind(docs: &Value, kind: &str) -> Vec<Value> {
    docs.as_array().unwrap().iter().filter(|d| d["kind"] == kind).cloned().collect()
}

fn import(device: &Device, files: &[&Path], extra: &[&str]) -> Value {
    let mut args: Vec<String> = vec!["import".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    device.json(&refs)
}

#[test]
fn a_collection_exported_after_import_equals_the_original() {
    let device = Device::new("solo");
    let out = device.dir.path().join("out.json");
    for rel in [
        "schemas/nestedEntities.json",
        "postman2openapi/github.postman.json",
        "newman/protocol-profile-behavior.postman_collection.json",
        "postman-collection-rs/graphql-query-v2.1.0.json",
        "schemas/formdata-body.json",
    ] {
        let original = fixture(rel);
        let report = import(&device, &[&original], &[]);
        let id = report["files"][0]["top_level"][0]["id"].as_str().unwrap().to_string();
        device.run(&["export", "--collection", &id, "-o", out.to_str().unwrap()]);
        let (back, original) = (without_item_ids(read_json(&out)), without_item_ids(read_json(&original)));
        assert!(back == original, "{rel} changed on its way through apisync");
    }
}

#[test]
fn everything_imports_and_a_full_backup_keeps_it() {
    let device = Device::new("solo");
    let files = [
        fixture("newman/globals-env-data-files.postman_collection.json"),
        fixture("newman/globals-env-data-files.postman_environment.json"),
        fixture("newman/globals-env-data-files.postman_globals.json"),
        fixture("newman/utf16-le-encoding-in-env.postman_environment.json"),
        fixture("newman/bom-in-collection-file.postman_collection.json"),
        fixture("newman/v1.postman_collection.json"),
        fixture("pm-scratchpad-to-bulk-export/Backup.postman_dump.json"),
        fixture("newman/sample-collection-report.json"),
    ];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let report = import(&device, &refs, &[]);
    assert_eq!(report["files"].as_array().unwrap().len(), files.len());
    let docs = device.docs();
    assert!(!of_kind(&docs, "run").is_empty(), "the newman report became a run result");
    assert!(!of_kind(&docs, "history").is_empty(), "and history entries");
    assert!(!of_kind(&docs, "global").is_empty());
    assert_eq!(of_kind(&docs, "environment").len(), 4, "the environments of the env files and the dump came in");

    let backup = device.dir.path().join("backup.json");
    device.run(&["export", "--all", "-o", backup.to_str().unwrap()]);
    let dump = read_json(&backup);
    assert_eq!(dump["collections"].as_array().unwrap().len(), of_kind(&docs, "collection").len());
    assert_eq!(dump["environments"].as_array().unwrap().len(), of_kind(&docs, "environment").len());

    // The backup restores everything into a fresh device.
    let other = Device::new("restored");
    import(&other, &[&backup], &[]);
    let restored = other.docs();
    for &kind in model::Kind::NAMES {
        assert_eq!(of_kind(&restored, kind).len(), of_kind(&docs, kind).len(), "{kind}s lost in the backup");
    }
}

/// Documents per kind name, as `ls` lists them.
fn per_kind(docs: &Value) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for d in docs.as_array().unwrap() {
        *by.entry(d["kind"].as_str().unwrap().to_string()).or_default() += 1;
    }
    by
}

/// The summary `export` prints: "2 collections, 1 run, 3 history entries", in kind order.
fn summary(by: &BTreeMap<String, usize>) -> String {
    model::Kind::NAMES
        .iter()
        .filter_map(|k| by.get(*k).map(|n| (*k, *n)))
        .map(|(k, n)| match (k, n) {
            ("history", 1) => "1 history entry".to_string(),
            ("history", n) => format!("{n} history entries"),
            (k, 1) => format!("1 {k}"),
            (k, n) => format!("{n} {k}s"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn a_backup_keeps_every_kind_run_results_and_history_too() {
    let device = Device::new("solo");
    let files = [
        fixture("newman/sample-collection-report.json"),
        fixture("newman/sample-collection.json"),
        fixture("postman2openapi/users.postman.json"),
        fixture("newman/globals-env-data-files.postman_environment.json"),
        fixture("newman/globals-env-data-files.postman_globals.json"),
    ];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    import(&device, &refs, &[]);
    device.create("header-preset", &["--set", "name=JSON", "--set", r#"headers=[{"key":"Accept","value":"application/json"}]"#]);
    let docs = device.docs();
    let want = per_kind(&docs);
    // `ls` leaves workspace documents out; every other kind is here.
    for kind in model::Kind::NAMES.iter().copied().filter(|k| *k != "workspace") {
        assert!(want.contains_key(kind), "the test device has no {kind}: {want:?}");
    }

    let backup = device.dir.path().join("backup.json");
    let out = device.try_run(&["export", "--all", "-o", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The summary counts what the file holds: everything, and the scratch
    // pad's own workspace document.
    let mut held = want.clone();
    held.insert("workspace".into(), 1);
    assert!(stderr(&out).contains(&format!("exported everything ({})", summary(&held))), "{}", stderr(&out));
    let dump = read_json(&backup);
    assert_eq!(dump["_apisync"]["workspaces"][0]["name"], "Scratch Pad");
    assert_eq!(dump["_apisync"]["runs"].as_array().unwrap().len(), want["run"]);
    assert_eq!(dump["_apisync"]["history"].as_array().unwrap().len(), want["history"]);

    let restored = Device::new("restored");
    import(&restored, &[&backup], &[]);
    let got = per_kind(&restored.docs());
    assert_eq!(got, want, "{} of {} documents came back", got.values().sum::<usize>(), want.values().sum::<usize>());
    let (run, history) = (of_kind(&restored.docs(), "run"), of_kind(&restored.docs(), "history"));
    assert!(history.iter().all(|h| h["fields"]["run_id"] == run[0]["id"]), "history names the restored run");

    // The scratch pad's own export keeps them too (the scratch pad is all
    // this signed-out device has; its workspace document is not content,
    // and not written).
    let pad = device.dir.path().join("pad.json");
    let out = device.try_run(&["scratchpad", "export", "-o", pad.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("exported the scratch pad ({})", summary(&want))), "{}", stderr(&out));
    let from_pad = Device::new("from-pad");
    import(&from_pad, &[&pad], &[]);
    assert_eq!(per_kind(&from_pad.docs()), want);
}

#[test]
fn a_backup_with_a_broken_apisync_key_is_refused_whole() {
    let device = Device::new("solo");
    let dir = device.dir.path();
    let good = fixture("postman2openapi/todo.postman.json");
    let broken = dir.join("backup.json");
    let dump = serde_json::json!({
        "version": 1,
        "collections": [read_json(&good)],
        "environments": [],
        "_apisync": {"version": 1, "runs": [{"id": "r1", "name": "ok"}], "history": [{"id": "h1", "method": "GET"}]},
    });
    std::fs::write(&broken, serde_json::to_vec(&dump).unwrap()).unwrap();
    let out = device.try_run(&["import", good.to_str().unwrap(), broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("backup.json") && msg.contains("_apisync.history[0]") && msg.contains("'url'"), "{msg}");
    assert!(msg.contains("nothing was imported"), "{msg}");
    assert!(device.docs().as_array().unwrap().iter().all(|d| d["kind"] == "workspace"), "something was written");
}

#[test]
fn importing_twice_copies_unless_replace() {
    let device = Device::new("solo");
    let f = fixture("postman2openapi/todo.postman.json");
    import(&device, &[&f], &[]);
    import(&device, &[&f], &[]);
    assert_eq!(of_kind(&device.docs(), "collection").len(), 2, "a second import makes a second copy, as in Postman");
    import(&device, &[&f], &["--replace"]);
    assert_eq!(of_kind(&device.docs(), "collection").len(), 1, "--replace replaces both earlier copies");
}

#[test]
fn bad_files_are_refused_by_name_and_place_and_nothing_is_half_imported() {
    let device = Device::new("solo");
    let dir = device.dir.path();
    let good = fixture("postman2openapi/todo.postman.json");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"info\": {\"name\": \"x\",\n  oops\n}").unwrap();
    let out = device.try_run(&["import", good.to_str().unwrap(), broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("broken.json") && msg.contains("line 3"), "{msg}");
    assert!(of_kind(&device.docs(), "collection").is_empty(), "the good file was imported although the batch failed");

    let not_postman = dir.join("package.json");
    std::fs::write(&not_postman, r#"{"name": "left-pad", "version": "1.0.0"}"#).unwrap();
    let out = device.try_run(&["import", not_postman.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("package.json"), "{}", stderr(&out));

    let huge = dir.join("huge.json");
    std::fs::File::create(&huge).unwrap().set_len(3 * 1024 * 1024 * 1024).unwrap();
    let out = device.try_run(&["import", huge.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("MiB"), "{}", stderr(&out));

    let not_utf8 = dir.join("latin1.json");
    std::fs::write(&not_utf8, b"{\"info\": {\"name\": \"caf\xe9\"}}").unwrap();
    let out = device.try_run(&["import", not_utf8.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("latin1.json"), "{}", stderr(&out));
    assert!(device.docs().as_array().unwrap().iter().all(|d| d["kind"] == "workspace"), "something was written");
}

#[test]
fn the_scratch_pad_works_signed_out_and_moves_into_a_workspace_after_sign_in() {
    let server = Server::start();
    let device = Device::new("laptop");
    let col = device.create("collection", &["--set", "name=Drafted offline"]);
    device.create("request", &["--parent", &col, "--set", "name=Draft", "--set", "method=GET", "--set", "url=https://x"]);
    let status = device.status();
    assert_eq!(status["state"], "offline");
    assert_eq!(status["scratch_pad"], true);
    let saved = device.dir.path().join("pad.json");
    device.run(&["scratchpad", "export", "-o", saved.to_str().unwrap()]);
    assert_eq!(read_json(&saved)["collections"].as_array().unwrap().len(), 1);

    device.signup(&server, "ann");
    assert!(of_kind(&device.json(&["ls", "--workspace", "Scratch Pad"]), "collection").len() == 1, "sign-in lost the scratch pad");
    device.run(&["scratchpad", "move", "--workspace", "My Workspace"]);
    assert_eq!(device.status()["pending"], 0);

    let other = Device::new("desktop");
    assert!(other.login(&server, "ann").status.success());
    let names: Vec<Value> = of_kind(&other.docs(), "request").iter().map(|d| d["fields"]["name"].clone()).collect();
    assert_eq!(names, vec![Value::from("Draft")], "the scratch pad's work did not reach the account");

    device.run(&["logout"]);
    let pad = device.docs();
    assert!(of_kind(&pad, "collection").is_empty(), "account data leaked into the scratch pad at sign-out");
}

#[test]
fn an_imported_collection_syncs_to_the_other_device() {
    let server = Server::start();
    let (a, b) = (Device::new("laptop"), Device::new("desktop"));
    a.signup(&server, "ann");
    assert!(b.login(&server, "ann").status.success());
    import(&a, &[&fixture("postman2openapi/users.postman.json")], &[]);
    b.run(&["sync"]);
    assert_eq!(of_kind(&a.docs(), "request").len(), of_kind(&b.docs(), "request").len());
    assert!(!of_kind(&b.docs(), "request").is_empty());
}

fn v3_fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman-v3").join(rel)
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(p.strip_prefix(base).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// (kind, name) of every document but workspaces, sorted.
fn names(docs: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = docs
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] != "workspace")
        .map(|d| {
            let f = &d["fields"];
            (d["kind"].as_str().unwrap_or_default().to_string(), f["name"].as_str().or(f["key"].as_str()).unwrap_or_default().to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_v3_collection_directory_imports_exports_and_updates_in_place() {
    let device = Device::new("solo");
    // Migrate left out `name:` because the directory is named after the collection.
    let report = import(&device, &[&v3_fixture("schemas/httpbin")], &[]);
    assert_eq!(report["files"][0]["format"], "Postman v3 directory (collections schema 3.0.0)");
    assert_eq!(report["files"][0]["top_level"][0]["name"], "httpbin");
    let id = report["files"][0]["top_level"][0]["id"].as_str().unwrap().to_string();
    let before = names(&device.docs());

    let out = device.dir.path().join("httpbin-v3");
    let o = out.to_str().unwrap();
    let wrote = device.json(&["export", "--collection", &id, "--format", "v3", "-o", o]);
    assert_eq!(wrote["removed"], 0);
    let files = tree(&out);
    assert!(files.contains_key(".resources/definition.yaml") && files.keys().any(|k| k.ends_with(".request.yaml")), "{:?}", files.keys());
    // Unchanged documents write nothing.
    let again = device.json(&["export", "--collection", &id, "--format", "v3", "-o", o]);
    assert_eq!((again["written"].as_u64(), again["removed"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(tree(&out), files);

    // A request deleted in apisync: its file goes, nothing else changes.
    let docs = device.docs();
    let gone = docs.as_array().unwrap().iter().find(|d| d["kind"] == "request").unwrap();
    device.run(&["rm", gone["id"].as_str().unwrap()]);
    let third = device.json(&["export", "--collection", &id, "--format", "v3", "-o", o]);
    assert!(third["removed"].as_u64().unwrap() >= 1, "{third}");
    assert_eq!(third["written"], 0, "{third}");

    // A request added in front of the others: one new file, the others keep their `order:`.
    let first_request =
        device.docs().as_array().unwrap().iter().find(|d| d["kind"] == "request" && d["parent_id"] == id.as_str()).cloned().unwrap();
    let new = device.create("request", &["--parent", &id, "--set", "name=Brand new", "--set", "method=GET", "--set", "url=http://x"]);
    device.run(&["mv", &new, "--before", first_request["id"].as_str().unwrap()]);
    let fourth = device.json(&["export", "--collection", &id, "--format", "v3", "-o", o]);
    assert_eq!((fourth["written"].as_u64(), fourth["removed"].as_u64()), (Some(1), Some(0)), "{fourth}");
    assert!(out.join("Brand new.request.yaml").is_file());
    device.run(&["rm", &new]);
    device.run(&["export", "--collection", &id, "--format", "v3", "-o", o]);

    // Read back into a second device: the same documents.
    let other = Device::new("other");
    import(&other, &[&out], &[]);
    let mut expected = before.clone();
    expected.retain(|n| {
        let gone_name = gone["fields"]["name"].as_str().unwrap();
        !(n.0 == "request" && n.1 == gone_name)
    });
    let got = names(&other.docs());
    assert_eq!(got.iter().filter(|n| n.0 == "request").count(), expected.iter().filter(|n| n.0 == "request").count());
    assert_eq!(got.iter().filter(|n| n.0 == "collection").collect::<Vec<_>>(), [&("collection".to_string(), "httpbin".to_string())]);

    // Importing again with --replace replaces instead of copying.
    import(&other, &[&out], &["--replace"]);
    assert_eq!(of_kind(&other.docs(), "collection").len(), 1);
}

/// The ids in a v3 directory make a later import an update: the same
/// documents change in place (their ids stay, so other devices see edits, not
/// a delete and a copy), a file removed is a document deleted, a new file a
/// new document, and a collection the workspace does not have is imported.
#[test]
fn importing_a_v3_directory_again_updates_the_same_documents() {
    let device = Device::new("solo");
    let report = import(&device, &[&v3_fixture("schemas/httpbin")], &[]);
    let id = report["files"][0]["top_level"][0]["id"].as_str().unwrap().to_string();
    let out = device.dir.path().join("httpbin-v3");
    device.run(&["export", "--collection", &id, "--format", "v3", "-o", out.to_str().unwrap()]);
    let before = device.docs();
    let requests: Vec<Value> = of_kind(&before, "request");
    assert!(requests.len() >= 3, "{before}");

    // Nothing changed: nothing written, nothing edited.
    let again = device.json(&["import", out.to_str().unwrap()]);
    assert_eq!((again["written"].as_u64(), again["updated"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["files"][0]["updated"], json!(["httpbin"]));

    // Edit one file, remove another, add a third by hand.
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with(".request.yaml")).collect();
    files.sort();
    let edited = std::fs::read_to_string(&files[0]).unwrap();
    let url_line = edited.lines().find(|l| l.starts_with("url: ")).unwrap().to_string();
    std::fs::write(&files[0], edited.replace(&url_line, "url: https://example.test/changed")).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    std::fs::write(out.join("Hand made.request.yaml"), "$kind: http-request\nurl: https://example.test/new\nmethod: GET\norder: 99000\n")
        .unwrap();
    let third = device.json(&["import", out.to_str().unwrap()]);
    assert_eq!(third["written"], 0, "{third}");
    assert_eq!(third["updated"], 3, "a set, a delete, a create: {third}");

    let after = device.docs();
    assert_eq!(of_kind(&after, "collection").len(), 1, "no copy: {after}");
    let by_url = |u: &str| of_kind(&after, "request").into_iter().find(|d| d["fields"]["url"].to_string().contains(u));
    let changed = by_url("example.test/changed").expect("the edited request");
    assert!(requests.iter().any(|r| r["id"] == changed["id"]), "edited in place, same id: {changed}");
    assert!(by_url("example.test/new").is_some(), "the hand-made file became a request");
    assert_eq!(of_kind(&after, "request").len(), requests.len(), "one removed, one added");
}

#[test]
fn a_workspace_round_trips_through_a_postman_folder() {
    let device = Device::new("solo");
    import(
        &device,
        &[
            &fixture("newman/globals-env-data-files.postman_collection.json"),
            &fixture("newman/globals-env-data-files.postman_environment.json"),
            &fixture("newman/globals-env-data-files.postman_globals.json"),
            &fixture("postman2openapi/todo.postman.json"),
        ],
        &[],
    );
    let repo = device.dir.path().join("repo");
    let postman = repo.join("postman");
    device.run(&["export", "--all", "--format", "v3", "-o", postman.to_str().unwrap()]);
    let files = tree(&postman);
    assert!(files.keys().any(|k| k.starts_with("collections/")), "{:?}", files.keys());
    assert!(files.keys().any(|k| k.starts_with("environments/") && k.ends_with(".environment.yaml")), "{:?}", files.keys());
    assert!(files.contains_key("globals/workspace.globals.yaml"), "{:?}", files.keys());
    // A repository with other things in it, and its git directory, is read as its postman/ folder.
    std::fs::write(repo.join("README.md"), "# api").unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/main").unwrap();
    let other = Device::new("other");
    import(&other, &[&repo], &[]);
    assert_eq!(names(&other.docs()), names(&device.docs()));
}

#[test]
fn v3_writing_and_reading_refuse_what_they_should() {
    let device = Device::new("solo");
    let report = import(&device, &[&fixture("postman2openapi/todo.postman.json")], &[]);
    let id = report["files"][0]["top_level"][0]["id"].as_str().unwrap().to_string();
    let dir = device.dir.path().join("notes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("todo.txt"), "mine").unwrap();
    let out = device.try_run(&["export", "--collection", &id, "--format", "v3", "-o", dir.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    device.run(&["export", "--collection", &id, "--format", "v3", "-o", dir.to_str().unwrap(), "--force"]);
    assert_eq!(std::fs::read_to_string(dir.join("todo.txt")).unwrap(), "mine");

    // One bad file fails the whole import, naming the file and line.
    let bad = device.dir.path().join("bad");
    for (rel, bytes) in tree(&v3_fixture("apisync/names")) {
        let p = bad.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::fs::write(bad.join("Dup.request.yaml"), "$kind: http-request\nurl: [oops\n").unwrap();
    let fresh = Device::new("fresh");
    let out = fresh.try_run(&["import", fixture("postman2openapi/todo.postman.json").to_str().unwrap(), bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("Dup.request.yaml, line ") && msg.contains("nothing was imported"), "{msg}");
    assert!(of_kind(&fresh.docs(), "collection").is_empty(), "something was imported");
}

#[test]
fn a_collection_through_v3_exports_as_the_original_json() {
    for rel in [
        "schemas/nestedEntities.json",
        "postman2openapi/postman-api.postman.json",
        "schemas/formdata-body.json",
        "postman-collection-rs/graphql-query-v2.1.0.json",
    ] {
        let (a, b) = (Device::new("a"), Device::new("b"));
        let original = fixture(rel);
        let report = import(&a, &[&original], &[]);
        let id = report["files"][0]["top_level"][0]["id"].as_str().unwrap().to_string();
        let dir = a.dir.path().join("v3");
        a.run(&["export", "--collection", &id, "--format", "v3", "-o", dir.to_str().unwrap()]);
        let report = import(&b, &[&dir], &[]);
        let id = report["files"][0]["top_level"][0]["id"].as_str().unwrap().to_string();
        let out = b.dir.path().join("back.json");
        b.run(&["export", "--collection", &id, "-o", out.to_str().unwrap()]);
        let (back, original) = (without_item_ids(read_json(&out)), without_item_ids(read_json(&original)));
        assert!(back == original, "{rel} changed on its way through v3:\n{back}\nvs\n{original}");
    }
}
