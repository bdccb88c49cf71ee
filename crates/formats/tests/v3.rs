//! v3 directories (Postman collections schema 3.0.0): read against what
//! Postman's own `collection migrate` wrote (`tests/fixtures/postman-v3`),
//! written back byte for byte where possible, and apisync's own round trip
//! lossless.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::v3::{Files, WriteOptions, export_v3_collection, export_v3_workspace, import_v3};
use formats::{Import, import};
use model::{Document, Id, Kind};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
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

/// Every file under `dir`, by '/'-separated path relative to it.
fn read_dir(dir: &Path) -> Files {
    fn walk(base: &Path, dir: &Path, out: &mut Files) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().components().map(|c| c.as_os_str().to_string_lossy().into_owned());
                out.insert(rel.collect::<Vec<_>>().join("/"), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = Files::new();
    walk(dir, dir, &mut out);
    out
}

/// The 33 migrated directories and their v2.1 sources, from `postman-v3/SOURCES.md`.
fn migrated() -> Vec<(String, Files, Vec<u8>)> {
    let v3 = root().join("postman-v3");
    let sources = std::fs::read_to_string(v3.join("SOURCES.md")).unwrap();
    let mut out = Vec::new();
    for line in sources.lines().filter(|l| l.starts_with("| ") && l.contains("/ |")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let (dir, source) = (cols[1].trim_end_matches('/'), cols[2]);
        let source_path = match source.strip_suffix(" (here)") {
            Some(here) => v3.join(here),
            None => root().join("../..").join(source),
        };
        out.push((dir.to_string(), read_dir(&v3.join(dir)), std::fs::read(&source_path).unwrap()));
    }
    // Every migrated directory on disk is listed (33 from the v2.1 fixtures, plus apisync/names).
    let on_disk = read_dir(&v3).keys().filter(|p| p.ends_with(".resources/definition.yaml") && p.matches('/').count() == 3).count();
    assert_eq!(out.len(), on_disk, "SOURCES.md lists {} directories, {on_disk} are on disk", out.len());
    out
}

/// A document as compared: its kind, its parent's index, its fields.
fn shape(docs: &[Document]) -> Vec<(Kind, Option<usize>, Map<String, Value>)> {
    docs.iter()
        .map(|d| {
            let parent = d.parent_id.and_then(|p| docs.iter().position(|x| x.id == p));
            (d.kind, parent, d.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        })
        .collect()
}

/// Every difference between two imports, compared by tree position (ids are minted anew).
fn differences(a: &[Document], b: &[Document]) -> Vec<String> {
    let (a, b) = (shape(a), shape(b));
    let mut out = Vec::new();
    if a.len() != b.len() {
        out.push(format!("{} documents vs {}", a.len(), b.len()));
    }
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        if (x.0, x.1) != (y.0, y.1) {
            out.push(format!("#{n}: {:?} under {:?} vs {:?} under {:?}", x.0, x.1, y.0, y.1));
            continue;
        }
        let title = x.2.get("name").or_else(|| x.2.get("key")).cloned().unwrap_or_default();
        for k in x.2.keys().chain(y.2.keys().filter(|k| !x.2.contains_key(*k))) {
            if x.2.get(k) != y.2.get(k) {
                out.push(format!("#{n} {:?} {title}: {k}: {} vs {}", x.0, show(x.2.get(k)), show(y.2.get(k))));
            }
        }
    }
    out
}

fn show(v: Option<&Value>) -> String {
    let s = v.map_or("(absent)".to_string(), |v| v.to_string());
    if s.len() > 300 { format!("{}…", &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)]) } else { s }
}

fn import_original(bytes: &[u8]) -> Import {
    import(bytes, ws(), &mut minter()).unwrap()
}

/// A collection directory as `apisync import DIR` passes it: under
/// `collections/<its name>/`, so that a definition without `name:` (migrate
/// leaves it out when the directory is named after the collection) takes
/// the directory's name, as Postman does.
fn as_named_dir(name: &str, files: &Files) -> Files {
    files.iter().map(|(p, b)| (format!("collections/{name}/{p}"), b.clone())).collect()
}

fn map_mut(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

/// What Postman's `collection migrate` drops or changes (docs/V3_FORMAT.md,
/// "Losses"), taken out of the original import before it is compared with
/// the import of the migrated directory.
fn migrate_losses(kind: Kind, f: &mut Map<String, Value>) {
    // `extra` holds what v2.1 has no field for (unknown keys, the original's
    // JSON shape, names import made up): migrate writes none of it.
    let synthesized_name = f.get("extra").and_then(|e| e.pointer("/synthesized/name")).is_some();
    let id_key = f.get("extra").and_then(|e| e.pointer("/shape/id_key")).and_then(Value::as_str).map(str::to_string);
    f.remove("extra");
    // An item without a name: migrate calls it after its URL or "New Request", import after its URL.
    if synthesized_name {
        f.remove("name");
    }
    // Ids written as `_postman_id` are not written at all.
    if id_key.as_deref() == Some("_postman_id") {
        f.remove("postman_id");
    }
    // v3 names no schema; the reader says v2.1.
    f.remove("schema");
    // Surrounding whitespace of names is trimmed.
    if let Some(Value::String(n)) = f.get_mut("name") {
        *n = n.trim().to_string();
    }
    // Folder variables, and settings of collections and folders, are not written.
    if matches!(kind, Kind::Folder | Kind::Collection) {
        f.remove("protocolProfileBehavior");
        if kind == Kind::Folder {
            f.remove("variable");
        }
    }
    // `disableBodyPruning` is not written among a request's settings.
    if let Some(p) = f.get_mut("protocolProfileBehavior").and_then(map_mut) {
        p.remove("disableBodyPruning");
        if p.is_empty() {
            f.remove("protocolProfileBehavior");
        }
    }
    // A request-level `variable` (v2.1 allows one) is not written.
    if kind == Kind::Request {
        f.remove("variable");
    }
    // Script ids, and scripts with no code, are not written.
    if let Some(Value::Array(events)) = f.get_mut("event") {
        events.retain(|e| e.pointer("/script/exec").is_some_and(|x| code_of(x).iter().any(|l| !l.trim().is_empty())));
        for e in events.iter_mut() {
            if let Some(script) = e.get_mut("script").and_then(map_mut) {
                script.remove("id");
            }
        }
        if events.is_empty() {
            f.remove("event");
        }
    }
    // A disabled body is not written.
    if f.get("body").and_then(|b| b.get("disabled")) == Some(&Value::Bool(true)) {
        f.remove("body");
    }
    if let Some(b) = f.get_mut("body").and_then(map_mut) {
        b.remove("disabled");
        // GraphQL: the operation name is not written.
        if let Some(g) = b.get_mut("graphql").and_then(map_mut) {
            g.remove("operationName");
        }
        // A raw body's options other than its language are not written.
        if b.get("mode") != Some(&json!("raw")) {
            b.remove("options");
        }
    }
    // Saved responses: response time, timings and cookies have no v3 key.
    for k in ["responseTime", "timings", "cookie"] {
        f.remove(k);
    }
    // Auth parameters keep their key and value only (the `type` is implied by the value).
    auth_keys_and_values(f.get_mut("auth"));
    auth_keys_and_values(f.get_mut("originalRequest").and_then(|r| r.get_mut("auth")));
}

fn auth_keys_and_values(auth: Option<&mut Value>) {
    {
        if let Some(a) = auth.and_then(map_mut) {
            let ty = a.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
            a.retain(|k, _| k == "type" || *k == ty);
            if ty == "noauth" {
                a.remove("noauth");
            }
            for p in a.values_mut().filter_map(Value::as_array_mut).flatten().filter_map(map_mut) {
                p.retain(|k, _| k == "key" || k == "value");
            }
        }
    }
}

/// A script's lines as Postman runs them: `exec` joined with line breaks, split again.
fn code_of(exec: &Value) -> Vec<String> {
    let text = match exec {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(|l| l.as_str().unwrap_or_default()).collect::<Vec<_>>().join("\n"),
        _ => return Vec::new(),
    };
    text.split('\n').map(str::to_string).collect()
}

/// Differences that mean the same to Postman, normalised on both sides
/// (each says why it is the same).
fn same_to_postman(kind: Kind, f: &mut Map<String, Value>) {
    // An empty description is no description.
    if f.get("description") == Some(&json!("")) {
        f.remove("description");
    }
    // `body: null` is no body.
    if f.get("body") == Some(&Value::Null) {
        f.remove("body");
    }
    // A body without a mode sends nothing, as an empty raw body does.
    if let Some(b) = f.get_mut("body").filter(|b| b.get("mode").is_none() && kind == Kind::Request) {
        *b = json!({"mode": "raw", "raw": ""});
    }
    // Raw body options without a language say nothing.
    if let Some(b) = f.get_mut("body").and_then(map_mut)
        && b.get("options").is_some_and(|o| o.pointer("/raw/language").is_none())
    {
        b.remove("options");
    }
    // A script is the text its lines make (v3 writes it as one string).
    if let Some(Value::Array(events)) = f.get_mut("event") {
        for e in events.iter_mut() {
            if let Some(exec) = e.pointer_mut("/script/exec") {
                *exec = json!(code_of(exec));
            }
        }
    }
    // A file part without a path: null and "" both send no file (migrate writes "").
    if let Some(Value::Array(parts)) = f.get_mut("body").and_then(|b| b.get_mut("formdata")) {
        for p in parts.iter_mut().filter_map(map_mut) {
            if p.get("src") == Some(&Value::Null) {
                p.insert("src".into(), json!(""));
            }
        }
    }
    if let Some(file) = f.get_mut("body").and_then(|b| b.get_mut("file")).and_then(map_mut) {
        file.retain(|_, v| !v.is_null());
    }
    if kind == Kind::Response {
        // An example without a request, status or body: Postman shows a GET
        // of "" answered 200 OK with an empty text body (migrate writes just that).
        let req = f.entry("originalRequest").or_insert_with(|| json!({"method": "GET", "url": ""}));
        req_parts(req);
        if f.get("code").is_none() {
            f.insert("code".into(), json!(200));
            f.entry("status").or_insert(json!("OK"));
        }
        if !f.get("body").is_some_and(Value::is_string) {
            f.insert("body".into(), json!(""));
            f.insert("_postman_previewlanguage".into(), json!("text"));
        }
        // Postman previews an example by its body type; migrate keeps the known ones.
        if let Some(l) = f.get_mut("_postman_previewlanguage")
            && !matches!(l.as_str(), Some("json" | "xml" | "html" | "javascript" | "text"))
        {
            *l = json!("text");
        }
        entries(f.get_mut("header"));
        f.entry("header").or_insert(json!([]));
    }
    if kind == Kind::Request {
        let mut req = Value::Object(std::mem::take(f));
        req_parts(&mut req);
        *f = req.as_object().cloned().unwrap_or_default();
    }
    if kind == Kind::Collection {
        entries(f.get_mut("variable"));
    }
}

/// A request's (or an example's original request's) url, headers and body entries.
fn req_parts(req: &mut Value) {
    let Some(r) = req.as_object_mut() else { return };
    // A URL given as text is read as Postman's SDK parses it; so is an object's `raw`.
    if let Some(url) = r.get_mut("url") {
        let mut parsed = match url {
            Value::String(s) => {
                let mut p = formats::url_parts(s);
                p.insert("raw".into(), Value::String(s.clone()));
                p
            }
            // v3 keeps an object's `raw` (with its query and path variables); Postman parses the rest from it.
            Value::Object(o) => {
                let raw = o.get("raw").and_then(Value::as_str).unwrap_or_default();
                let mut p = formats::url_parts(raw);
                p.insert("raw".into(), json!(raw));
                for k in ["query", "variable"] {
                    if let Some(v) = o.get(k) {
                        p.insert(k.into(), v.clone());
                    }
                }
                p
            }
            _ => Map::new(),
        };
        entries(parsed.get_mut("query"));
        entries(parsed.get_mut("variable"));
        *url = Value::Object(parsed);
    }
    // No headers and an empty list are the same.
    entries(r.get_mut("header"));
    r.entry("header").or_insert(json!([]));
    if let Some(b) = r.get_mut("body").and_then(map_mut) {
        for k in ["urlencoded", "formdata"] {
            entries(b.get_mut(k));
        }
    }
    if r.get("description") == Some(&json!("")) {
        r.remove("description");
    }
}

/// Key/value entries as Postman uses them: entries without a key are skipped
/// when sending; a missing value is ""; `disabled: false` is the default; an
/// empty description is none; ids, names and header/variable `type`s are not
/// read (and migrate does not write them).
fn entries(list: Option<&mut Value>) {
    let Some(Value::Array(list)) = list else { return };
    // Migrate writes an entry without a key as `undefined: ""`.
    list.retain(|e| {
        e.get("key").is_some_and(Value::is_string) && !(e.get("key") == Some(&json!("undefined")) && e.get("value") == Some(&json!("")))
    });
    for e in list.iter_mut().filter_map(map_mut) {
        let file_part = e.get("type") == Some(&json!("file"));
        let text_part = e.get("type") == Some(&json!("text")) && e.contains_key("contentType");
        e.retain(|k, v| match k.as_str() {
            "key" | "value" | "src" | "contentType" => true,
            "disabled" => v == &Value::Bool(true),
            "description" => v.as_str().is_some_and(|d| !d.is_empty()),
            "type" => file_part || text_part,
            _ => false,
        });
        if !file_part && !e.contains_key("value") {
            e.insert("value".into(), json!(""));
        }
        match e.get("value") {
            Some(Value::Null) => {
                e.insert("value".into(), json!(""));
            }
            // Values are sent as text (migrate writes numbers and booleans as strings).
            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                let text = v.to_string();
                e.insert("value".into(), Value::String(text));
            }
            _ => {}
        }
    }
}

fn normalised(docs: &[Document]) -> Vec<Document> {
    docs.iter()
        .cloned()
        .map(|mut d| {
            let mut f: Map<String, Value> = d.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            // What v3 does not carry is compared on neither side.
            migrate_losses(d.kind, &mut f);
            same_to_postman(d.kind, &mut f);
            d.fields = f.into_iter().collect();
            d
        })
        .collect()
}

/// Requirement 1: each directory Postman's migrate wrote reads as its v2.1 source
/// imports, but for migrate's own losses and what means the same to Postman.
#[test]
fn migrated_directories_read_as_their_sources() {
    let mut failures = Vec::new();
    for (dir, files, source) in migrated() {
        let name = dir.rsplit('/').next().unwrap_or(&dir);
        let read = import_v3(&as_named_dir(name, &files), ws(), &mut minter()).unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert_eq!(read.import.format, formats::Format::V3Directory);
        let original = import_original(&source);
        let mut theirs = normalised(&read.import.documents);
        // An item the source gave no name: migrate names it after its URL or
        // "New Request", import after its URL; neither is the source's.
        for (n, d) in original.documents.iter().enumerate() {
            if d.fields.get("extra").and_then(|e| e.pointer("/synthesized/name")).is_some()
                && let Some(t) = theirs.get_mut(n)
            {
                t.fields.remove("name");
            }
        }
        let diffs = differences(&normalised(&original.documents), &theirs);
        failures.extend(diffs.into_iter().map(|d| format!("{dir}: {d}")));
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

fn collection_of(docs: &[Document]) -> &Document {
    docs.iter().find(|d| d.kind == Kind::Collection).expect("a collection")
}

/// A v3 file without apisync's extension key: what Postman reads of it.
fn postman_part(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.find(&format!("\n{}:", formats::v3::EXTENSION_KEY)) {
        Some(i) => text[..=i].to_string(),
        None => text.into_owned(),
    }
}

/// Migrate gives a definition's auth block a random id, apisync one derived
/// from the collection's; and export gives an item the source gave no id
/// its apisync id (as `export_collection` does), where migrate writes none.
fn comparable(ours: &str, migrate: &str) -> (String, String) {
    let keep = |l: &&str| !l.starts_with("  - id: ");
    let has_id = migrate.lines().nth(1).is_some_and(|l| l.starts_with("id: "));
    let ours: Vec<&str> =
        ours.lines().enumerate().filter(|(n, l)| !(*n == 1 && !has_id && l.starts_with("id: "))).map(|(_, l)| l).collect();
    (ours.into_iter().filter(keep).collect::<Vec<_>>().join("\n"), migrate.lines().filter(keep).collect::<Vec<_>>().join("\n"))
}

/// Where apisync writes differently from migrate on purpose:
/// - a `name:` migrate leaves out: the collection's own (it cannot know the
///   directory it is written to) and names with surrounding whitespace
///   (migrate trims them, which loses the whitespace);
/// - `disableBodyPruning` among settings (migrate drops it; Postman's runtime reads it);
/// - a header entry without a key: migrate writes `undefined: ""`, a header
///   Postman would send; apisync keeps the entry as it was;
/// - settings in sorted key order: documents keep JSON objects sorted, so the
///   source's order of `protocolProfileBehavior` keys is not known.
fn explained(ours: &str, migrate: &str) -> bool {
    let (ours, migrate) = (settings_sorted(ours), settings_sorted(migrate));
    let (ours, migrate) = (ours.as_str(), migrate.as_str());
    if migrate.contains("undefined: \"\"") {
        return true;
    }
    let migrate_names = migrate.lines().any(|l| l.starts_with("name: "));
    let ours: Vec<&str> = ours
        .lines()
        .filter(|l| !l.starts_with("name: ") || migrate_names)
        .filter(|l| !l.trim_start().starts_with("disableBodyPruning: "))
        .collect();
    ours.join("\n") == migrate
}

fn settings_sorted(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if inside && l.starts_with("  ") {
            block.push(l.to_string());
            continue;
        }
        block.sort();
        out.append(&mut block);
        inside = l == "settings:";
        out.push(l.to_string());
    }
    block.sort();
    out.append(&mut block);
    out.join("\n")
}

/// Requirement 3: apisync writes the same file names as migrate, and the same bytes wherever it can.
#[test]
fn export_matches_what_migrate_wrote() {
    let (mut total, mut exact, mut postman_equal) = (0, 0, 0);
    let mut unequal = Vec::new();
    for (dir, files, source) in migrated() {
        let imported = import_original(&source);
        let written = export_v3_collection(collection_of(&imported.documents), &imported.documents, &WriteOptions::default()).unwrap();
        let ours: Vec<&String> = written.files.keys().collect();
        let theirs: Vec<&String> = files.keys().collect();
        assert_eq!(ours, theirs, "{dir}: file names differ");
        for (path, bytes) in &written.files {
            total += 1;
            let migrate = &files[path];
            if bytes == migrate {
                exact += 1;
            }
            let (a, b) = comparable(&postman_part(bytes), &String::from_utf8_lossy(migrate));
            if a == b {
                postman_equal += 1;
            } else if !explained(&a, &b) {
                unequal.push(format!("{dir}/{path}:\n--- apisync\n{a}\n--- migrate\n{b}"));
            }
        }
    }
    println!("{total} files: {exact} byte for byte as migrate wrote them; {postman_equal} equal but for x-apisync and auth ids");
    assert!(unequal.is_empty(), "{} files differ unexplained:\n{}", unequal.len(), unequal.join("\n"));
    assert!(total > 400, "{total}");
}

/// Every Postman file among the fixtures apisync imports.
fn postman_fixtures() -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { walk(&path, out) } else { out.push(path) }
        }
    }
    let base = root().join("postman");
    let mut files = Vec::new();
    walk(&base, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("schema/collection-v2.1.0.json"))
        .map(|p| (p.strip_prefix(&base).unwrap().display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The documents of each top-level tree, trees in a fixed order (a `postman/`
/// folder has no order among collections or environments).
fn trees(docs: &[Document]) -> Vec<Vec<Document>> {
    let mut out: Vec<Vec<Document>> = Vec::new();
    for d in docs {
        if d.parent_id.is_none() {
            out.push(vec![d.clone()]);
        } else if let Some(t) = out.iter_mut().find(|t| t.iter().any(|x| Some(x.id) == d.parent_id)) {
            t.push(d.clone());
        }
    }
    out.sort_by_key(|t| (t[0].kind, serde_json::to_string(&shape(t)).unwrap()));
    out
}

/// What apisync writes of a secret: nothing (Postman writes secrets empty too).
fn secrets_blanked(docs: &[Document]) -> Vec<Document> {
    docs.iter()
        .cloned()
        .map(|mut d| {
            if d.kind.is_variable() && d.fields.get("type") == Some(&json!("secret")) && d.fields.contains_key("value") {
                d.fields.insert("value".into(), json!(""));
            }
            d
        })
        .collect()
}

/// Requirement 2: apisync's own round trip loses nothing: import -> v3 files -> import_v3
/// gives the same documents, field for field (ids in `postman_id` included).
#[test]
fn apisync_round_trip_is_lossless() {
    let mut checked = 0;
    for (name, bytes) in postman_fixtures() {
        let imp = import_original(&bytes);
        let (written, expected) = match imp.format {
            formats::Format::Dump | formats::Format::Environment | formats::Format::Globals => {
                let kept: Vec<Document> = imp
                    .documents
                    .iter()
                    .filter(|d| !matches!(d.kind, Kind::HeaderPreset | Kind::Workspace | Kind::Run | Kind::History))
                    .cloned()
                    .collect();
                (export_v3_workspace(&imp.documents, &WriteOptions::default()).unwrap(), secrets_blanked(&kept))
            }
            formats::Format::NewmanReport => continue,
            _ => (
                export_v3_collection(collection_of(&imp.documents), &imp.documents, &WriteOptions::default()).unwrap(),
                imp.documents.clone(),
            ),
        };
        let read = import_v3(&written.files, ws(), &mut minter()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(expected.len(), read.import.documents.len(), "{name}: documents");
        assert_eq!(read.sources.len(), read.import.documents.len(), "{name}: sources");
        let (a, b) = (trees(&expected), trees(&read.import.documents));
        assert_eq!(a.len(), b.len(), "{name}: top-level documents");
        for (x, y) in a.iter().zip(&b) {
            // A document without a Postman id is written with its apisync id
            // (as every export writes it), which the read keeps as its Postman id.
            let mut y = y.clone();
            for (dx, dy) in x.iter().zip(y.iter_mut()) {
                if !dx.fields.contains_key("postman_id") && dy.fields.get("postman_id") == Some(&json!(dx.id.to_string())) {
                    dy.fields.remove("postman_id");
                }
            }
            let diffs = differences(x, &y);
            assert!(diffs.is_empty(), "{name}:\n{}", diffs.join("\n"));
        }
        // The same documents give the same bytes.
        let again = match imp.format {
            formats::Format::Dump | formats::Format::Environment | formats::Format::Globals => {
                export_v3_workspace(&imp.documents, &WriteOptions::default()).unwrap()
            }
            _ => export_v3_collection(collection_of(&imp.documents), &imp.documents, &WriteOptions::default()).unwrap(),
        };
        assert_eq!(again.files, written.files, "{name}: a second export differs");
        checked += 1;
    }
    assert!(checked > 60, "only {checked} fixtures");
}

fn files(list: &[(&str, &str)]) -> Files {
    list.iter().map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())).collect()
}

fn read_err(f: &Files) -> formats::FormatError {
    import_v3(f, ws(), &mut minter()).expect_err("should be refused")
}

const DEF: &str = "$kind: collection\nname: C\n";

/// Requirement 4: what cannot be read is refused, naming the file and what to do.
#[test]
fn bad_files_are_refused_with_their_place() {
    let err = read_err(&files(&[(".resources/definition.yaml", DEF), ("A.request.yaml", "$kind: http-request\nurl: [x\nmethod: GET\n")]));
    let text = err.to_string();
    assert!(text.starts_with("A.request.yaml, line "), "{text}");
    assert_eq!(err.code(), "bad_file");

    let conflict = "$kind: http-request\n<<<<<<< HEAD\nurl: a\n=======\nurl: b\n>>>>>>> main\n";
    let err = read_err(&files(&[(".resources/definition.yaml", DEF), ("A.request.yaml", conflict)]));
    assert!(err.to_string().starts_with("A.request.yaml, line 2: has a git merge-conflict marker"), "{err}");

    let err = read_err(&files(&[(".resources/definition.yaml", DEF), ("A.request.yaml", "$kind: websocket-request\nurl: ws://x\n")]));
    assert!(err.to_string().contains("unknown $kind 'websocket-request'"), "{err}");
    let err = read_err(&files(&[(".resources/definition.yaml", DEF), ("x.yaml", "$kind: flow\n")]));
    assert!(err.to_string().contains("unknown $kind 'flow'"), "{err}");
    let err = read_err(&files(&[(".resources/definition.yaml", DEF), ("A.request.yaml", "url: x\n")]));
    assert!(err.to_string().contains("has no '$kind'"), "{err}");

    let err = read_err(&files(&[("collections/C/.resources/definition.yaml", DEF), ("stray/A.request.yaml", "$kind: http-request\n")]));
    assert!(err.to_string().contains("outside any collection"), "{err}");
    let err = read_err(&files(&[
        (".resources/definition.yaml", DEF),
        (".resources/Gone.resources/examples/E.example.yaml", "$kind: http-example\n"),
    ]));
    assert!(err.to_string().contains("no Gone.request.yaml"), "{err}");

    for bad in ["../A.request.yaml", "/etc/A.request.yaml", "a/../../A.request.yaml", "a//b.request.yaml", "./A.request.yaml"] {
        let err = read_err(&files(&[(".resources/definition.yaml", DEF), (bad, "$kind: http-request\n")]));
        assert!(err.to_string().contains("not a plain relative path"), "{bad}: {err}");
    }
    let err = read_err(&files(&[("README.md", "hi")]));
    assert!(err.to_string().contains("neither a v3 collection directory"), "{err}");
}

#[test]
fn work_is_bounded() {
    let mut many = files(&[(".resources/definition.yaml", DEF)]);
    for n in 0..formats::v3::MAX_FILES {
        many.insert(format!("r{n}.txt"), Vec::new());
    }
    assert!(read_err(&many).to_string().contains("more than the"));
    // calloc'd: the pages are never touched.
    let big = files(&[(".resources/definition.yaml", DEF)])
        .into_iter()
        .chain([("big.txt".to_string(), vec![0u8; formats::v3::MAX_TOTAL_BYTES as usize + 1])])
        .collect();
    assert!(read_err(&big).to_string().contains("MiB"));
    let mut deep = files(&[(".resources/definition.yaml", DEF)]);
    let mut dir = String::new();
    for n in 0..=formats::MAX_FOLDER_DEPTH + 1 {
        dir.push_str(&format!("f{n}/"));
        deep.insert(format!("{dir}.resources/definition.yaml"), b"$kind: collection\norder: 1000\n".to_vec());
    }
    assert_eq!(read_err(&deep).code(), "too_deep");
}

#[test]
fn two_files_claiming_one_id_get_a_note_and_a_fresh_id() {
    let req = "$kind: http-request\nid: same\nurl: http://x\nmethod: GET\norder: 1000\n";
    let f = files(&[(".resources/definition.yaml", DEF), ("A.request.yaml", req), ("B.request.yaml", &req.replace("1000", "2000"))]);
    let read = import_v3(&f, ws(), &mut minter()).unwrap();
    let ids: Vec<&Value> =
        read.import.documents.iter().filter(|d| d.kind == Kind::Request).filter_map(|d| d.fields.get("postman_id")).collect();
    assert_eq!(ids[0], &json!("same"));
    assert_ne!(ids[1], &json!("same"));
    assert!(read.import.notes.iter().any(|n| n.contains("'same' is used twice")), "{:?}", read.import.notes);
    assert_eq!(
        read.sources.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        [".resources/definition.yaml", "A.request.yaml", "B.request.yaml"]
    );
    assert_eq!(read.sources[2].order, Some(2000));
}

fn collection_json(items: Value) -> Vec<u8> {
    let c = json!({"info": {"name": "C", "_postman_id": "c1", "schema": formats::SCHEMA_V21}, "item": items});
    serde_json::to_vec(&c).unwrap()
}

#[test]
fn unusable_and_long_names_are_made_safe_and_kept() {
    let long = "x".repeat(300);
    let items = json!([
        {"name": "..", "request": {"method": "GET", "url": "http://a"}},
        {"name": " .resources ", "item": []},
        {"name": long, "request": {"method": "GET", "url": "http://b"}},
        {"name": "a/b", "request": {"method": "GET", "url": "http://c"}},
    ]);
    let imp = import_original(&collection_json(items));
    let w = export_v3_collection(collection_of(&imp.documents), &imp.documents, &WriteOptions::default()).unwrap();
    for path in w.files.keys() {
        assert!(path.split('/').all(|s| !s.is_empty() && s != "." && s != ".." && s.len() <= 255), "{path}");
        assert!(!path.starts_with("..") && !path.starts_with('/'), "{path}");
    }
    assert!(
        w.files.contains_key("-...request.yaml") && w.files.contains_key("-.resources/.resources/definition.yaml"),
        "{:?}",
        w.files.keys()
    );
    let read = import_v3(&w.files, ws(), &mut minter()).unwrap();
    let names: Vec<&str> = read.import.documents.iter().map(|d| d.title()).collect();
    assert_eq!(names, ["C", "..", " .resources ", long.as_str(), "a/b"]);
}

#[test]
fn order_hints_keep_unchanged_files_unchanged() {
    let item = |n: &str| json!({"name": n, "id": n, "request": {"method": "GET", "url": format!("http://h/{n}")}});
    let imp = import_original(&collection_json(json!([item("a"), item("b"), item("c")])));
    let first = export_v3_collection(collection_of(&imp.documents), &imp.documents, &WriteOptions::default()).unwrap();
    // A new request between a and b, as a sync would add it.
    let mut docs = imp.documents.clone();
    let (a, b) = (&docs[1], &docs[2]);
    let key = model::ordering::between(a.order_key.as_deref(), b.order_key.as_deref()).unwrap();
    let mut new = a.clone();
    new.id = Id::from_u128(0xFEED);
    new.order_key = Some(key);
    new.fields.insert("name".into(), json!("new"));
    new.fields.insert("postman_id".into(), json!("new"));
    docs.push(new);
    let second = export_v3_collection(collection_of(&docs), &docs, &WriteOptions { order_hints: first.orders.clone() }).unwrap();
    let changed: Vec<&String> = second.files.iter().filter(|(p, b)| first.files.get(*p) != Some(*b)).map(|(p, _)| p).collect();
    assert_eq!(changed, ["new.request.yaml"]);
    assert_eq!(second.orders[&Id::from_u128(0xFEED)], 1500);
    // Without hints everything after the insert is renumbered.
    let plain = export_v3_collection(collection_of(&docs), &docs, &WriteOptions::default()).unwrap();
    assert_eq!(plain.files.iter().filter(|(p, b)| first.files.get(*p) != Some(*b)).count(), 3);
    // Paths and sources agree.
    let read = import_v3(&second.files, ws(), &mut minter()).unwrap();
    let titles: Vec<&str> = read.import.documents.iter().map(|d| d.title()).collect();
    assert_eq!(titles, ["C", "a", "new", "b", "c"]);
    assert_eq!(read.sources[2], formats::v3::Source { path: "new.request.yaml".into(), order: Some(1500) });
    assert_eq!(second.paths[&Id::from_u128(0xFEED)], "new.request.yaml");
}

#[test]
fn environments_and_globals_round_trip_without_secrets() {
    let dump = json!({
        "version": 1, "collections": [], "headerPresets": [],
        "environments": [{"id": "e1", "name": "Prod: EU", "values": [
            {"key": "host", "value": "api.example.com", "type": "default", "enabled": true},
            {"key": "token", "value": "s3cret-value", "type": "secret", "enabled": true},
            {"key": "off", "value": "x", "enabled": false, "description": "not used"}]}],
        "globals": [{"key": "g", "value": "1", "enabled": true}, {"key": "gs", "value": "hidden-global", "type": "secret", "enabled": true}]
    });
    let imp = import_original(&serde_json::to_vec(&dump).unwrap());
    let w = export_v3_workspace(&imp.documents, &WriteOptions::default()).unwrap();
    assert_eq!(w.files.keys().collect::<Vec<_>>(), ["environments/Prod- EU.environment.yaml", "globals/workspace.globals.yaml"]);
    let env = String::from_utf8(w.files["environments/Prod- EU.environment.yaml"].clone()).unwrap();
    assert!(env.starts_with("$kind: environment\nid: e1\nname: \"Prod: EU\"\nvalues:\n  - key: host\n"), "{env}");
    for bytes in w.files.values() {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("s3cret") && !text.contains("hidden-global"), "{text}");
    }
    let read = import_v3(&w.files, ws(), &mut minter()).unwrap();
    assert_eq!(differences(&secrets_blanked(&imp.documents), &read.import.documents), Vec::<String>::new());
    let env_doc = read.import.documents.iter().find(|d| d.kind == Kind::Environment).unwrap();
    assert_eq!(w.paths.values().filter(|p| p.starts_with("environments/")).count(), 4);
    assert_eq!(env_doc.title(), "Prod: EU");
}
