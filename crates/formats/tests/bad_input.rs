//! Broken and hostile input: clear errors, or lenient reading with notes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::{Format, Import, MAX_FOLDER_DEPTH, export_collection, import, import_value};
use model::{Id, Kind};
use serde_json::{Value, json};

fn minter() -> impl FnMut() -> Id {
    let mut n = 0u128;
    move || {
        n += 1;
        Id::from_u128(n)
    }
}

fn run(v: &Value) -> Import {
    import_value(v, Id::nil(), &mut minter()).unwrap()
}

fn v21(items: Value) -> Value {
    json!({"info": {"name": "C", "schema": formats::SCHEMA_V21, "_postman_id": "c1"}, "item": items})
}

fn export(imp: &Import) -> Value {
    let c = imp.documents.iter().find(|d| d.kind == Kind::Collection).unwrap();
    export_collection(c, &imp.documents).unwrap()
}

#[test]
fn malformed_json_names_line_and_column() {
    let err = import(b"{\n  \"info\": {\"name\": \"x\",}\n}", Id::nil(), &mut minter()).unwrap_err();
    assert_eq!(err.code(), "bad_json");
    let msg = err.to_string();
    assert!(msg.contains("line 2, column 24"), "{msg}");
    assert!(msg.contains("export it from Postman again"), "{msg}");
    let err = import(b"", Id::nil(), &mut minter()).unwrap_err();
    assert_eq!(err.code(), "bad_json");
}

#[test]
fn invalid_utf8_names_the_place() {
    let err = import(b"{\"name\": \"caf\xE9\"}", Id::nil(), &mut minter()).unwrap_err();
    assert_eq!(err.code(), "not_utf8");
    assert!(err.to_string().contains("line 1, column 14"), "{err}");
}

#[test]
fn other_json_is_not_postman() {
    for text in [&b"{\"openapi\": \"3.0.0\", \"paths\": {}}"[..], b"[1, 2]", b"\"hello\"", b"{}"] {
        let err = import(text, Id::nil(), &mut minter()).unwrap_err();
        assert_eq!(err.code(), "not_postman", "{err}");
        assert!(err.to_string().contains("apisync imports collections"), "{err}");
    }
}

fn nested(depth: usize) -> Value {
    let mut item = json!({"name": "leaf", "request": {"method": "GET", "url": "http://x"}});
    for i in 0..depth {
        item = json!({"name": format!("f{i}"), "item": [item]});
    }
    v21(json!([item]))
}

#[test]
fn deep_folders_are_refused_clearly() {
    let ok = run(&nested(MAX_FOLDER_DEPTH));
    assert_eq!(ok.documents.iter().filter(|d| d.kind == Kind::Folder).count(), MAX_FOLDER_DEPTH);
    // Export gives each item the apisync id it was imported with; otherwise equal.
    let mut out = export(&ok);
    strip_item_ids(&mut out["item"]);
    assert_eq!(out, nested(MAX_FOLDER_DEPTH));
    let err = import_value(&nested(MAX_FOLDER_DEPTH + 1), Id::nil(), &mut minter()).unwrap_err();
    assert_eq!(err.code(), "too_deep");
    assert!(err.to_string().contains("deeper than 48 levels"), "{err}");
    // From bytes, serde_json's own nesting limit may come first: same error.
    let bytes = serde_json::to_vec(&nested(200)).unwrap();
    let err = import(&bytes, Id::nil(), &mut minter()).unwrap_err();
    assert_eq!(err.code(), "too_deep", "{err}");
}

fn strip_item_ids(items: &mut Value) {
    for item in items.as_array_mut().into_iter().flatten() {
        let item = item.as_object_mut().unwrap();
        item.remove("id");
        if let Some(sub) = item.get_mut("item") {
            strip_item_ids(sub);
        }
    }
}

#[test]
fn v1_folder_cycles_do_not_hang() {
    let v1 = json!({"id": "c", "name": "C", "order": [], "folders_order": ["a"], "requests": [],
        "folders": [{"id": "a", "name": "A", "order": [], "folders_order": ["b"]}, {"id": "b", "name": "B", "order": [], "folders_order": ["a"]}]});
    let imp = run(&v1);
    assert_eq!(imp.format, Format::CollectionV1);
    assert_eq!(imp.documents.iter().filter(|d| d.kind == Kind::Folder).count(), 2);
    assert!(imp.notes.iter().any(|n| n.contains("listed twice")), "{:?}", imp.notes);
}

#[test]
fn duplicate_ids_get_fresh_ones_with_a_note() {
    let v = v21(json!([
        {"id": "same", "name": "one", "request": {"method": "GET", "url": "http://a"}, "response": []},
        {"id": "same", "name": "two", "request": {"method": "GET", "url": "http://b"}, "response": []},
    ]));
    let imp = run(&v);
    let reqs: Vec<_> = imp.documents.iter().filter(|d| d.kind == Kind::Request).collect();
    assert_eq!(reqs[0].fields["postman_id"], "same");
    assert_eq!(reqs[1].fields["postman_id"], reqs[1].id.to_string());
    assert!(imp.notes.iter().any(|n| n.contains("C/two: id 'same' is used twice")), "{:?}", imp.notes);
    let out = export(&imp);
    assert_eq!(out["item"][1]["id"], reqs[1].id.to_string());
}

#[test]
fn schema_breaking_values_are_read_leniently_and_written_back() {
    // `header: {}` where a list belongs, `event: null`, a numeric name.
    let v = v21(json!([
        {"id": "r", "name": 5, "event": null, "request": {"method": "GET", "url": "http://a", "header": {}, "proxy": {"host": "p"}}, "response": []}
    ]));
    let imp = run(&v);
    let req = imp.documents.iter().find(|d| d.kind == Kind::Request).unwrap();
    assert!(req.fields.get("header").is_none(), "read as no headers");
    assert_eq!(req.fields["name"], "http://a");
    assert!(imp.notes.iter().any(|n| n.contains("'header' is an empty object")), "{:?}", imp.notes);
    assert!(imp.notes.iter().any(|n| n.contains("'event' is null")), "{:?}", imp.notes);
    assert_eq!(req.fields["extra"]["request"]["proxy"]["host"], "p");
    assert_eq!(export(&imp), v);
}

#[test]
fn request_shapes_round_trip() {
    // A request given as a bare URL string, an item without `response`,
    // `_postman_id` instead of `id`, and unknown keys everywhere.
    let v = json!({
        "info": {"name": "C", "schema": formats::SCHEMA_V21, "_postman_id": "c1", "_exporter_id": "9"},
        "item": [
            {"id": "a", "name": "bare", "request": "http://bare"},
            {"_postman_id": "b", "name": "pid", "request": {"url": "http://x", "description": "d", "certificate": {}}, "x-custom": [1]},
            {"id": "f", "name": "folder", "item": [], "folder-extra": true},
        ],
        "x-top": {"k": "v"},
    });
    let imp = run(&v);
    assert_eq!(export(&imp), v);
}

/// A dump whose `_apisync` key is malformed fails as a whole, naming the
/// place and what is wrong: skipping a bad entry would lose a run or a
/// history entry without a word, so nothing of the file is imported.
#[test]
fn a_malformed_apisync_key_fails_the_whole_import_naming_the_place() {
    let good_run = json!({"id": "r1", "name": "Orders"});
    let history = |extra: Value| {
        let mut h = json!({"id": "h1", "method": "GET", "url": "http://a"});
        h.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        h
    };
    let cases: Vec<(Value, &str, &[&str])> = vec![
        (json!([]), "invalid", &["_apisync: is a list, not an object", "docs/FORMATS.md"]),
        (json!(null), "invalid", &["_apisync: is null, not an object"]),
        (json!({"runs": [good_run]}), "invalid", &["_apisync: has no 'version'"]),
        (json!({"version": 2, "runs": []}), "invalid", &["version 2 was written by a newer apisync", "upgrade apisync"]),
        (json!({"version": "1"}), "invalid", &["_apisync.version: is \"1\"; it must be 1"]),
        (json!({"version": 1, "runz": []}), "invalid", &["unknown section 'runz'", "workspaces, runs, history"]),
        (json!({"version": 1, "runs": {"name": "x"}}), "invalid", &["_apisync.runs: is an object, not a list of run documents"]),
        (json!({"version": 1, "runs": [good_run, "Orders"]}), "invalid", &["_apisync.runs[1]: is a string, not a run document"]),
        (json!({"version": 1, "runs": [{"id": 7, "name": "x"}]}), "invalid", &["_apisync.runs[0].id: is a number, not a string"]),
        (json!({"version": 1, "runs": [good_run], "history": [history(json!({"id": "r1"}))]}), "invalid", &["id 'r1' is used twice"]),
        (
            json!({"version": 1, "history": [history(json!({})), history(json!({"id": "h2", "nmae": "x"}))]}),
            "document",
            &["_apisync.history[1]: cannot store this history", "no field 'nmae'", "request_id"],
        ),
        (json!({"version": 1, "history": [{"method": "GET"}]}), "document", &["_apisync.history[0]", "needs the field 'url'"]),
        (json!({"version": 1, "runs": [{"name": 5}]}), "document", &["_apisync.runs[0]", "field 'name' of run must be string"]),
    ];
    for (ext, code, wanted) in cases {
        let dump = json!({"version": 1, "collections": [v21(json!([]))], "environments": [], "_apisync": ext.clone()});
        let err = import_value(&dump, Id::nil(), &mut minter()).expect_err(&ext.to_string());
        let msg = err.to_string();
        assert_eq!(err.code(), code, "{ext}: {msg}");
        for w in wanted {
            assert!(msg.contains(w), "{ext}: {msg:?} does not say {w:?}");
        }
    }
    // The same dump with a well-formed key imports, extension and all.
    let dump = json!({"version": 1, "collections": [v21(json!([]))], "_apisync": {"version": 1, "runs": [good_run], "history": [history(json!({"run_id": "r1"}))]}});
    let imp = run(&dump);
    let run_doc = imp.documents.iter().find(|d| d.kind == Kind::Run).unwrap();
    let h = imp.documents.iter().find(|d| d.kind == Kind::History).unwrap();
    assert_eq!(h.fields["run_id"], json!(run_doc.id.to_string()));
    assert!(imp.notes.iter().all(|n| !n.contains("_apisync")), "{:?}", imp.notes);
}
