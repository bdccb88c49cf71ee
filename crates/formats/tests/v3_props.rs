//! v3 directories at random: collections with awkward names and contents
//! round-trip through v3 files losslessly, and mangled v3 files never make
//! the reader panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::v3::{Files, WriteOptions, export_v3_collection, import_v3};
use model::{Document, Id, Kind};
use proptest::prelude::*;
use serde_json::{Value, json};

fn minter() -> impl FnMut() -> Id {
    let mut n = 0x1000u128;
    move || {
        n += 1;
        Id::from_u128(n)
    }
}

/// Text with what makes names and YAML hard: separators, quotes, line breaks, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        "[ a-z/:*?\"<>|\\\\.#'\\-\\n\\t{}\\[\\],&!%@`é日]{0,20}",
        Just(String::new()),
        Just("..".to_string()),
        Just(" .resources".to_string()),
        "[a-z ]{60,120}",
    ]
}

fn kv_list() -> impl Strategy<Value = Value> {
    prop::collection::vec((text(), text(), any::<bool>(), prop::option::of(text())), 0..4).prop_map(|entries| {
        Value::Array(
            entries
                .into_iter()
                .map(|(k, v, off, d)| {
                    let mut e = json!({"key": k, "value": v});
                    if off {
                        e["disabled"] = json!(true);
                    }
                    if let Some(d) = d {
                        e["description"] = json!(d);
                    }
                    e
                })
                .collect(),
        )
    })
}

fn body() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        (text(), prop::sample::select(vec!["json", "xml", "text", "html"]))
            .prop_map(|(raw, l)| Some(json!({"mode": "raw", "raw": raw, "options": {"raw": {"language": l}}}))),
        kv_list().prop_map(|l| Some(json!({"mode": "urlencoded", "urlencoded": l}))),
        (text(), text()).prop_map(|(q, v)| Some(json!({"mode": "graphql", "graphql": {"query": q, "variables": v}}))),
        Just(Some(json!({"mode": "file", "file": {"src": null}}))),
        Just(Some(json!({}))),
    ]
}

fn url() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        (text(), kv_list(), kv_list())
            .prop_map(|(raw, q, v)| json!({"raw": format!("http://h/{raw}"), "host": ["h"], "query": q, "variable": v})),
    ]
}

fn request() -> impl Strategy<Value = Value> {
    (
        prop::option::of(text()),
        url(),
        kv_list(),
        body(),
        prop::option::of(text()),
        prop::collection::vec((prop::option::of(text()), text(), any::<u16>()), 0..3),
        prop::option::of(text()),
    )
        .prop_map(|(name, url, header, body, script, responses, id)| {
            let mut req = json!({"method": "POST", "url": url, "header": header});
            if let Some(b) = body {
                req["body"] = b;
            }
            let mut item = json!({"request": req});
            if let Some(n) = name {
                item["name"] = json!(n);
            }
            if let Some(id) = id {
                item["id"] = json!(id);
            }
            if let Some(s) = script {
                item["event"] =
                    json!([{"listen": "test", "script": {"type": "text/javascript", "exec": s.split('\n').collect::<Vec<_>>()}}]);
            }
            let responses: Vec<Value> = responses
                .into_iter()
                .map(|(n, b, code)| {
                    let mut r = json!({"body": b, "code": code, "status": "S", "header": [], "cookie": []});
                    if let Some(n) = n {
                        r["name"] = json!(n);
                    }
                    r
                })
                .collect();
            item["response"] = Value::Array(responses);
            item
        })
}

fn items() -> impl Strategy<Value = Vec<Value>> {
    let leaf = prop::collection::vec(request(), 0..4);
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec(
            prop_oneof![
                request(),
                (prop::option::of(text()), inner, kv_list()).prop_map(|(n, items, vars)| {
                    let mut f = json!({"item": items, "variable": vars});
                    if let Some(n) = n {
                        f["name"] = json!(n);
                    }
                    f
                })
            ],
            0..4,
        )
    })
}

/// Documents compared by tree position (ids are minted anew); a document
/// exported without a Postman id gets its apisync id, which the read keeps.
fn same(a: &[Document], b: &[Document]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{} documents vs {}", a.len(), b.len()));
    }
    for (x, y) in a.iter().zip(b) {
        let parent = |docs: &[Document], d: &Document| d.parent_id.and_then(|p| docs.iter().position(|o| o.id == p));
        if x.kind != y.kind || parent(a, x) != parent(b, y) {
            return Err(format!("{:?} vs {:?}", x.kind, y.kind));
        }
        let mut yf = y.fields.clone();
        if !x.fields.contains_key("postman_id") && yf.get("postman_id") == Some(&json!(x.id.to_string())) {
            yf.remove("postman_id");
        }
        if x.fields != yf {
            return Err(format!("{:?}: {:?}\nvs\n{:?}", x.kind, x.fields, yf));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Requirement 2 at random: import -> v3 files -> import_v3 gives the same documents.
    #[test]
    fn random_collections_round_trip(items in items(), name in text(), vars in kv_list()) {
        let c = json!({"info": {"name": name, "schema": formats::SCHEMA_V21}, "item": items, "variable": vars});
        let imp = formats::import(&serde_json::to_vec(&c).unwrap(), Id::from_u128(1), &mut minter()).unwrap();
        let coll = imp.documents.iter().find(|d| d.kind == Kind::Collection).unwrap();
        let w = export_v3_collection(coll, &imp.documents, &WriteOptions::default()).unwrap();
        let read = import_v3(&w.files, Id::from_u128(1), &mut minter()).map_err(|e| TestCaseError::fail(format!("{e}\n{:#?}", w.files.keys())))?;
        if let Err(e) = same(&imp.documents, &read.import.documents) {
            return Err(TestCaseError::fail(e));
        }
        prop_assert_eq!(read.sources.len(), read.import.documents.len());
        for path in w.files.keys() {
            prop_assert!(path.split('/').all(|s| !s.is_empty() && s != "." && s != ".." && s.len() < 250), "{}", path);
        }
    }

    /// Mangled v3 files never make the reader panic; what it accepts is valid.
    #[test]
    fn mangled_v3_files_never_panic(items in items(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let c = json!({"info": {"name": "C", "schema": formats::SCHEMA_V21}, "item": items});
        let imp = formats::import(&serde_json::to_vec(&c).unwrap(), Id::from_u128(1), &mut minter()).unwrap();
        let coll = imp.documents.iter().find(|d| d.kind == Kind::Collection).unwrap();
        let w = export_v3_collection(coll, &imp.documents, &WriteOptions::default()).unwrap();
        let mut files: Files = w.files;
        let keys: Vec<String> = files.keys().cloned().collect();
        for (file, at, byte) in flips {
            let bytes = files.get_mut(file.get(&keys)).unwrap();
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
        }
        if let Ok(read) = import_v3(&files, Id::from_u128(1), &mut minter()) {
            for d in &read.import.documents {
                prop_assert!(model::schema::check_document(d.kind, &d.fields).is_ok());
            }
            prop_assert_eq!(read.sources.len(), read.import.documents.len());
        }
    }
}
