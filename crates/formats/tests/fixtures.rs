//! Every Postman file under `tests/fixtures/postman` imports, passes the
//! schema, and exports back: exactly for v2.1 collections and environments,
//! as a fixed point for older formats.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::{Format, Import, export_collection, export_dump, export_environment, export_globals, import};
use model::schema::check_document;
use model::{Document, Id, Kind};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman");
    assert!(dir.is_dir(), "fixtures not found at {}", dir.display());
    dir
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { walk(&path, out) } else { out.push(path) }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(&fixtures_dir(), &mut files);
    files.sort();
    assert!(files.len() > 60, "only {} fixtures found", files.len());
    files
}

fn ws() -> Id {
    Id::from_u128(0xAB)
}

fn minter() -> impl FnMut() -> Id {
    let mut n = 0x1000u128;
    move || {
        n += 1;
        Id::from_u128(n)
    }
}

fn import_bytes(bytes: &[u8]) -> Import {
    import(bytes, ws(), &mut minter()).unwrap()
}

fn import_json(v: &Value) -> Import {
    import_bytes(&serde_json::to_vec(v).unwrap())
}

/// The fixtures apisync imports. `SOURCES.md` says where they come from;
/// `schema/collection-v2.1.0.json` is the JSON Schema of the format, not a
/// Postman file: it must be refused as such (checked in `non_postman_fixtures_are_refused`).
fn postman_files() -> Vec<(PathBuf, Vec<u8>)> {
    all_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("schema/collection-v2.1.0.json"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn original(bytes: &[u8]) -> Value {
    formats::decode(bytes).unwrap().0
}

fn check_docs(name: &str, docs: &[Document]) {
    let by_id: HashMap<Id, &Document> = docs.iter().map(|d| (d.id, d)).collect();
    assert_eq!(by_id.len(), docs.len(), "{name}: duplicate document ids");
    for d in docs {
        check_document(d.kind, &d.fields).unwrap_or_else(|e| panic!("{name}: {} {}: {e}", d.kind, d.title()));
        assert_eq!(d.workspace_id, ws());
        assert_eq!(d.version, 0);
        assert!(!d.deleted);
        let key = d.order_key.as_deref().unwrap_or_else(|| panic!("{name}: {} '{}' has no order key", d.kind, d.title()));
        model::ordering::validate(key).unwrap();
        match d.parent_id {
            Some(p) => {
                let parent = by_id.get(&p).unwrap_or_else(|| panic!("{name}: parent of '{}' missing", d.title()));
                assert!(d.kind.parents().contains(&parent.kind), "{name}: {} under {}", d.kind, parent.kind);
            }
            None => assert!(d.kind.parents().is_empty(), "{name}: {} '{}' has no parent", d.kind, d.title()),
        }
    }
}

/// `exported` equals `orig` as JSON, key order aside, except that objects
/// may gain an `id` / `_postman_id` holding an apisync id where the
/// original had none.
fn same(orig: &Value, exported: &Value, at: &str) -> Result<(), String> {
    match (orig, exported) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let w = b.get(k).ok_or_else(|| format!("{at}.{k}: missing from export"))?;
                same(v, w, &format!("{at}.{k}"))?;
            }
            for (k, v) in b {
                if !a.contains_key(k) {
                    let minted = matches!(k.as_str(), "id" | "_postman_id") && v.as_str().is_some_and(|s| s.parse::<Id>().is_ok());
                    if !minted {
                        return Err(format!("{at}.{k}: added by export: {v}"));
                    }
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("{at}: {} entries, exported {}", a.len(), b.len()));
            }
            a.iter().zip(b).enumerate().try_for_each(|(i, (x, y))| same(x, y, &format!("{at}[{i}]")))
        }
        _ if orig == exported => Ok(()),
        _ => Err(format!("{at}: {orig} became {exported}")),
    }
}

fn only(docs: &[Document], kind: Kind) -> &Document {
    let mut it = docs.iter().filter(|d| d.kind == kind);
    let d = it.next().unwrap_or_else(|| panic!("no {kind}"));
    assert!(it.next().is_none(), "more than one {kind}");
    d
}

fn name(p: &Path) -> String {
    p.strip_prefix(fixtures_dir()).unwrap().display().to_string()
}

#[test]
fn every_fixture_imports_and_passes_the_schema() {
    let mut formats = HashMap::new();
    for (path, bytes) in postman_files() {
        let name = name(&path);
        let imp = import(&bytes, ws(), &mut minter()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!imp.documents.is_empty() || imp.format == Format::Globals, "{name}: no documents");
        check_docs(&name, &imp.documents);
        *formats.entry(format!("{:?}", imp.format)).or_insert(0) += 1;
    }
    // Every format is exercised by some fixture.
    for f in ["CollectionV21", "CollectionV20", "CollectionV2Unversioned", "CollectionV1", "Environment", "Globals", "Dump", "NewmanReport"]
    {
        assert!(formats.contains_key(f), "no fixture is {f}: {formats:?}");
    }
}

#[test]
fn non_postman_fixtures_are_refused() {
    for path in
        all_files().into_iter().filter(|p| p.extension().is_none_or(|e| e != "json") || p.ends_with("schema/collection-v2.1.0.json"))
    {
        let err = import(&std::fs::read(&path).unwrap(), ws(), &mut minter()).unwrap_err();
        assert!(matches!(err.code(), "not_postman" | "bad_json"), "{}: {err}", name(&path));
    }
}

#[test]
fn v21_collections_export_exactly() {
    let mut n = 0;
    for (path, bytes) in postman_files() {
        let imp = import_bytes(&bytes);
        if imp.format != Format::CollectionV21 {
            continue;
        }
        n += 1;
        let exported = export_collection(only(&imp.documents, Kind::Collection), &imp.documents).unwrap();
        same(&original(&bytes), &exported, "$").unwrap_or_else(|e| panic!("{}: {e}", name(&path)));
    }
    assert!(n >= 30, "only {n} v2.1 collections");
}

fn count_v2(items: &Value, folders: &mut Vec<String>, requests: &mut usize, prefix: &str) {
    for item in items.as_array().into_iter().flatten() {
        let name = item.get("name").and_then(Value::as_str).unwrap_or("?");
        if let Some(sub) = item.get("item") {
            let path = format!("{prefix}/{name}");
            folders.push(path.clone());
            count_v2(sub, folders, requests, &path);
        } else {
            *requests += 1;
        }
    }
}

fn count_v1(c: &Value) -> (Vec<String>, usize) {
    let folders: HashMap<&str, &Value> = c["folders"].as_array().into_iter().flatten().map(|f| (f["id"].as_str().unwrap(), f)).collect();
    fn walk(ids: &Value, folders: &HashMap<&str, &Value>, prefix: &str, out: &mut Vec<String>) {
        for id in ids.as_array().into_iter().flatten() {
            let f = folders[id.as_str().unwrap()];
            let path = format!("{prefix}/{}", f["name"].as_str().unwrap());
            out.push(path.clone());
            walk(&f["folders_order"], folders, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&c["folders_order"], &folders, "", &mut out);
    (out, c["requests"].as_array().map_or(0, Vec::len))
}

/// For v2.0, unversioned v2 and v1 collections the export is v2.1, so it
/// cannot equal the original. Instead: export → import → export is a fixed
/// point, and no request, folder, body, header or script is lost.
#[test]
fn older_collections_convert_without_loss() {
    let mut n = 0;
    for (path, bytes) in postman_files() {
        let name = name(&path);
        let imp = import_bytes(&bytes);
        if !matches!(imp.format, Format::CollectionV20 | Format::CollectionV2Unversioned | Format::CollectionV1) {
            continue;
        }
        n += 1;
        let first = export_collection(only(&imp.documents, Kind::Collection), &imp.documents).unwrap();
        assert_eq!(first["info"]["schema"], formats::SCHEMA_V21, "{name}");
        let again = import_json(&first);
        assert_eq!(again.format, Format::CollectionV21, "{name}");
        let second = export_collection(only(&again.documents, Kind::Collection), &again.documents).unwrap();
        assert_eq!(first, second, "{name}: not a fixed point");

        let orig = original(&bytes);
        let (mut folders, mut requests) = (Vec::new(), 0);
        count_v2(&first["item"], &mut folders, &mut requests, "");
        if imp.format == Format::CollectionV1 {
            let (want_folders, want_requests) = count_v1(&orig);
            assert_eq!(requests, want_requests, "{name}: requests");
            if orig["folders_order"].is_array() {
                assert_eq!(folders, want_folders, "{name}: folders");
            }
            check_v1_requests(&name, &orig, &first);
        } else {
            // v2.0 → v2.1 changes only auth (maps become lists) and `info`;
            // every item, body, header and script is as it was.
            let mut o = orig.clone();
            let mut e = first.clone();
            strip(&mut o, &["auth", "info"]);
            strip(&mut e, &["auth", "info"]);
            // An `info`-less collection's top-level name moved into `info`.
            if let Value::Object(m) = &mut o {
                m.remove("name");
            }
            same(&o, &e, "$").unwrap_or_else(|err| panic!("{name}: {err}"));
        }
    }
    assert!(n >= 10, "only {n} older collections");
}

fn strip(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(m) => {
            keys.iter().for_each(|k| {
                m.remove(*k);
            });
            m.values_mut().for_each(|v| strip(v, keys));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| strip(v, keys)),
        _ => {}
    }
}

fn find_items<'a>(items: &'a Value, out: &mut HashMap<String, &'a Value>) {
    for item in items.as_array().into_iter().flatten() {
        if let Some(sub) = item.get("item") {
            find_items(sub, out);
        } else {
            out.insert(item["id"].as_str().unwrap().to_string(), item);
        }
    }
}

/// Each v1 request's method, url, body text, header count and scripts survive.
fn check_v1_requests(name: &str, orig: &Value, exported: &Value) {
    let mut items = HashMap::new();
    find_items(&exported["item"], &mut items);
    for r in orig["requests"].as_array().into_iter().flatten() {
        let id = r["id"].as_str().unwrap();
        let item = items.get(id).unwrap_or_else(|| panic!("{name}: request {id} lost"));
        let req = &item["request"];
        assert_eq!(item["name"], r["name"], "{name}");
        assert_eq!(req["method"], r["method"], "{name}");
        let url = req["url"].get("raw").unwrap_or(&req["url"]);
        assert_eq!(url, &r["url"], "{name}");
        if let Some(raw) = r["rawModeData"].as_str().filter(|s| !s.is_empty()) {
            assert_eq!(req["body"]["raw"], raw, "{name}: body of {id}");
        }
        if let Some(data) = r["data"].as_array().filter(|d| !d.is_empty()) {
            let mode = req["body"]["mode"].as_str().unwrap();
            assert_eq!(req["body"][mode].as_array().unwrap().len(), data.len(), "{name}: form of {id}");
        }
        let want_headers = match r["headerData"].as_array() {
            Some(h) => h.len(),
            None => r["headers"].as_str().unwrap_or("").lines().filter(|l| !l.trim().is_empty()).count(),
        };
        assert_eq!(req["header"].as_array().unwrap().len(), want_headers, "{name}: headers of {id}");
        let scripts: String = item["event"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["script"]["exec"].as_array().unwrap())
            .map(|l| l.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        for key in ["tests", "preRequestScript"] {
            if let Some(text) = r[key].as_str() {
                assert!(scripts.contains(text), "{name}: {key} of {id} lost");
            }
        }
    }
}

#[test]
fn environments_export_exactly() {
    let mut n = 0;
    for (path, bytes) in postman_files() {
        let imp = import_bytes(&bytes);
        if imp.format != Format::Environment {
            continue;
        }
        n += 1;
        let env = only(&imp.documents, Kind::Environment);
        let exported = export_environment(env, &imp.documents).unwrap();
        same(&original(&bytes), &exported, "$").unwrap_or_else(|e| panic!("{}: {e}", name(&path)));
    }
    assert!(n >= 6, "only {n} environments");
}

/// Globals are stored as separate variables, so the file's own keys (its
/// id, export time) are not kept; the variables themselves export exactly.
#[test]
fn globals_keep_every_variable() {
    for (path, bytes) in postman_files() {
        let imp = import_bytes(&bytes);
        if imp.format != Format::Globals {
            continue;
        }
        let orig = original(&bytes);
        let values = orig.get("values").unwrap_or(&orig);
        let exported = export_globals(&imp.documents);
        same(values, &exported["values"], "$").unwrap_or_else(|e| panic!("{}: {e}", name(&path)));
        let again = import_json(&exported);
        assert_eq!(export_globals(&again.documents), exported);
    }
}

/// A dump's collections are v1 (Postman's own dumps), so the exported dump
/// carries them as v2.1: a fixed point, with environments exact.
#[test]
fn dumps_are_a_fixed_point() {
    for (path, bytes) in postman_files() {
        let imp = import_bytes(&bytes);
        if imp.format != Format::Dump {
            continue;
        }
        let name = name(&path);
        let orig = original(&bytes);
        let first = export_dump(&imp.documents).value;
        let second = export_dump(&import_json(&first).documents).value;
        assert_eq!(first, second, "{name}");
        assert_eq!(first["collections"].as_array().unwrap().len(), orig["collections"].as_array().unwrap().len());
        for (c, e) in orig["collections"].as_array().unwrap().iter().zip(first["collections"].as_array().unwrap()) {
            let (want_folders, want_requests) = count_v1(c);
            let (mut folders, mut requests) = (Vec::new(), 0);
            count_v2(&e["item"], &mut folders, &mut requests, "");
            assert_eq!((folders, requests), (want_folders, want_requests), "{name}");
            check_v1_requests(&name, c, e);
        }
        same(&orig["environments"], &first["environments"], "$.environments").unwrap();
        same(&orig["headerPresets"], &first["headerPresets"], "$.headerPresets").unwrap();
        same(&orig["globals"], &first["globals"], "$.globals").unwrap();
    }
}

#[test]
fn newman_report_becomes_a_run_and_history() {
    let bytes = std::fs::read(fixtures_dir().join("newman/sample-collection-report.json")).unwrap();
    let imp = import_bytes(&bytes);
    assert_eq!(imp.format, Format::NewmanReport);
    let run = only(&imp.documents, Kind::Run);
    assert_eq!(run.fields["name"], "Sample Postman Collection");
    assert_eq!(run.fields["started_at"], 1472134919325u64);
    assert_eq!(run.fields["results"].as_array().unwrap().len(), 3);
    let history: Vec<&Document> = imp.documents.iter().filter(|d| d.kind == Kind::History).collect();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].fields["url"], "https://postman-echo.com/get?source=newman-sample-github-collection");
    assert_eq!(history[0].fields["code"], 200);
    assert!(history.iter().all(|h| h.fields["run_id"] == run.id.to_string()));
}

#[test]
fn encodings_are_normalised_with_notes() {
    let dir = fixtures_dir();
    let utf16 = import_bytes(&std::fs::read(dir.join("newman/utf16-le-encoding-in-env.postman_environment.json")).unwrap());
    assert!(utf16.notes.iter().any(|n| n.contains("UTF-16")), "{:?}", utf16.notes);
    let bom = import_bytes(&std::fs::read(dir.join("newman/bom-in-collection-file.postman_collection.json")).unwrap());
    assert!(bom.notes.iter().any(|n| n.contains("byte-order mark")), "{:?}", bom.notes);
}

#[test]
fn empty_header_object_is_accepted_and_kept() {
    let bytes = std::fs::read(fixtures_dir().join("postman2openapi/empty-header-object.postman.json")).unwrap();
    let imp = import_bytes(&bytes);
    assert!(imp.notes.iter().any(|n| n.contains("1 header entry without a key")), "{:?}", imp.notes);
}
