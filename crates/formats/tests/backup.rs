//! A full backup (the data dump `export --all` writes) keeps every kind of
//! document: exported and imported again, it is the same documents, in the
//! same tree, with the same fields.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::{EXTENSION_KEY, SCHEMA_V21, export_dump, import_value};
use model::{Document, Fields, Id, Kind};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

const WS: u128 = 0xA;

fn doc(n: u128, kind: Kind, parent: Option<u128>, key: &str, fields: Value) -> Document {
    Document {
        id: Id::from_u128(n),
        kind,
        workspace_id: Id::from_u128(WS),
        parent_id: parent.map(Id::from_u128),
        order_key: Some(key.to_string()),
        fields: fields.as_object().cloned().unwrap_or_else(Fields::new),
        deleted: false,
        version: 7,
    }
}

fn id(n: u128) -> String {
    Id::from_u128(n).to_string()
}

fn minter() -> impl FnMut() -> Id {
    let mut n = 1_000_000u128;
    move || {
        n += 1;
        Id::from_u128(n)
    }
}

/// A workspace as a person would have it: every kind, each under the
/// parent it really lives under, some made in apisync (no Postman id),
/// run results and history that name each other, and a tombstone.
fn workspace() -> Vec<Document> {
    let mut gone = doc(90, Kind::Request, Some(2), "z", json!({"name": "deleted", "method": "GET", "url": "http://gone"}));
    gone.deleted = true;
    vec![
        doc(WS, Kind::Workspace, None, "V", json!({"name": "Team API", "description": "what we call"})),
        doc(
            1,
            Kind::Collection,
            None,
            "V",
            json!({"name": "Orders", "postman_id": "c-orders", "description": "all of it",
            "variable": [{"key": "base", "value": "http://localhost"}], "auth": {"type": "noauth"}}),
        ),
        doc(2, Kind::Folder, Some(1), "a", json!({"name": "v1", "postman_id": "f-v1"})),
        doc(3, Kind::Folder, Some(2), "a", json!({"name": "admin"})),
        doc(
            4,
            Kind::Request,
            Some(3),
            "a",
            json!({"name": "List orders", "postman_id": "r-list", "method": "GET",
            "url": {"raw": "{{base}}/orders", "host": ["{{base}}"], "path": ["orders"]}, "header": [{"key": "Accept", "value": "*/*"}]}),
        ),
        doc(
            5,
            Kind::Request,
            Some(2),
            "b",
            json!({"name": "Create order", "method": "POST", "url": "http://x/orders",
            "body": {"mode": "raw", "raw": "{}"}}),
        ),
        doc(6, Kind::Request, Some(1), "b", json!({"name": "Health", "postman_id": "r-health", "method": "GET", "url": "http://x/health"})),
        doc(
            7,
            Kind::Response,
            Some(4),
            "a",
            json!({"name": "200", "postman_id": "s-200", "code": 200, "status": "OK", "body": "[]",
            "header": [{"key": "Content-Type", "value": "application/json"}]}),
        ),
        doc(8, Kind::Response, Some(4), "b", json!({"name": "500", "code": 500, "body": "oops"})),
        doc(20, Kind::Collection, None, "W", json!({"name": "Empty", "postman_id": "c-empty"})),
        doc(
            30,
            Kind::HeaderPreset,
            None,
            "V",
            json!({"name": "JSON", "postman_id": "h-json", "headers": [{"key": "Accept", "value": "application/json"}]}),
        ),
        doc(40, Kind::Environment, None, "V", json!({"name": "dev", "postman_id": "e-dev"})),
        doc(
            41,
            Kind::Variable,
            Some(40),
            "a",
            json!({"key": "base", "value": "http://localhost:8080", "type": "default", "enabled": true}),
        ),
        doc(42, Kind::Variable, Some(40), "b", json!({"key": "token", "value": "", "type": "secret"})),
        doc(50, Kind::Global, None, "V", json!({"key": "tenant", "value": "acme"})),
        doc(
            60,
            Kind::Run,
            None,
            "V",
            json!({"name": "Orders", "collection_id": id(1), "environment_id": id(40),
            "started_at": 1_700_000_000_000u64, "finished_at": 1_700_000_000_900u64,
            "stats": {"requests": {"total": 2, "failed": 0}}, "timings": {"started": 1_700_000_000_000u64},
            "results": [{"item": {"name": "List orders"}, "code": 200}, {"item": {"name": "Health"}, "code": 200}],
            "failures": [], "extra": {"keys": {"collection": {"info": {"name": "Orders"}}}}}),
        ),
        doc(61, Kind::Run, None, "W", json!({"name": "Nightly", "collection_id": null})),
        doc(
            70,
            Kind::History,
            None,
            "V",
            json!({"name": "List orders", "method": "GET", "url": "http://localhost/orders",
            "request": {"method": "GET", "url": "http://localhost/orders"}, "response": {"code": 200}, "code": 200,
            "response_time": 12, "at": 1_700_000_000_000u64, "collection_id": id(1), "request_id": id(4), "run_id": id(60)}),
        ),
        doc(
            71,
            Kind::History,
            None,
            "W",
            json!({"method": "GET", "url": "http://localhost/health", "run_id": id(60),
            "request_id": id(6), "response": null}),
        ),
        doc(
            72,
            Kind::History,
            None,
            "X",
            json!({"method": "DELETE", "url": "http://elsewhere/x", "collection_id": "not-in-this-file",
            "request_id": id(5)}),
        ),
        gone,
    ]
}

/// Where a document sits, by titles and positions rather than ids: each
/// step is `kind:title#n`, `n` its place among its siblings (at the top,
/// among the top-level documents of its kind, since import orders each
/// kind of the file on its own).
fn paths(docs: &[Document]) -> HashMap<Id, String> {
    let live: Vec<&Document> = docs.iter().filter(|d| !d.deleted).collect();
    let mut siblings: HashMap<(Option<Id>, Option<Kind>), Vec<&Document>> = HashMap::new();
    for d in &live {
        let group = if d.parent_id.is_some() { None } else { Some(d.kind) };
        siblings.entry((d.parent_id, group)).or_default().push(d);
    }
    let mut place: HashMap<Id, usize> = HashMap::new();
    for list in siblings.values_mut() {
        list.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
        for (n, d) in list.iter().enumerate() {
            place.insert(d.id, n);
        }
    }
    let by_id: HashMap<Id, &Document> = live.iter().map(|d| (d.id, *d)).collect();
    let mut out = HashMap::new();
    for d in &live {
        let mut steps = Vec::new();
        let mut at = Some(*d);
        while let Some(x) = at {
            steps.push(format!("{}:{}#{}", x.kind, x.title(), place[&x.id]));
            at = x.parent_id.and_then(|p| by_id.get(&p).copied());
        }
        steps.reverse();
        out.insert(d.id, steps.join("/"));
    }
    out
}

/// Every live document as (path, kind, fields), ids taken out: references
/// to documents of the set become the path of the document they name, and
/// a Postman id that is an apisync id of `origin` (what export writes for
/// a document made in apisync) becomes a marker, as does its absence; a
/// collection without a schema has v2.1's.
fn structure(docs: &[Document], origin: &[Document]) -> BTreeMap<String, (Kind, Fields)> {
    let paths = paths(docs);
    let origin_ids: HashSet<String> = origin.iter().map(|d| d.id.to_string()).collect();
    let mut out = BTreeMap::new();
    for d in docs.iter().filter(|d| !d.deleted) {
        let mut fields = d.fields.clone();
        for r in ["collection_id", "environment_id", "request_id", "run_id"] {
            let named = fields.get(r).and_then(Value::as_str).and_then(|s| s.parse::<Id>().ok()).and_then(|id| paths.get(&id));
            if let Some(path) = named {
                fields.insert(r.into(), json!(format!("-> {path}")));
            }
        }
        if d.kind == Kind::Collection {
            // Export names v2.1's schema for a collection made in apisync,
            // and import keeps the schema a file names.
            fields.entry("schema").or_insert_with(|| json!(SCHEMA_V21));
        }
        if d.kind.field("postman_id").is_some() {
            let made_here = match fields.get("postman_id") {
                None => true,
                Some(Value::String(s)) => origin_ids.contains(s),
                Some(_) => false,
            };
            if made_here {
                fields.insert("postman_id".into(), json!("(its apisync id)"));
            }
        }
        let before = out.insert(paths[&d.id].clone(), (d.kind, fields));
        assert!(before.is_none(), "two documents at {}", paths[&d.id]);
    }
    out
}

fn per_kind(docs: &[Document]) -> BTreeMap<Kind, usize> {
    let mut by = BTreeMap::new();
    for d in docs.iter().filter(|d| !d.deleted) {
        *by.entry(d.kind).or_default() += 1;
    }
    by
}

#[test]
fn the_test_workspace_has_every_kind() {
    // Guards the round trip below: a new kind must be added to it.
    let kinds: HashSet<Kind> = workspace().iter().map(|d| d.kind).collect();
    for &k in Kind::ALL {
        assert!(kinds.contains(&k), "workspace() has no {k}: add one so backups are tested with it");
    }
}

#[test]
fn a_full_backup_round_trips_every_kind_document_for_document() {
    let docs = workspace();
    let dump = export_dump(&docs);
    assert_eq!(dump.written, per_kind(&docs), "the dump says it holds every live document");
    assert!(dump.left_out.is_empty(), "{:?}", dump.left_out);

    // Through text, as a file travels.
    let text = serde_json::to_string_pretty(&dump.value).unwrap();
    let back = formats::import(text.as_bytes(), Id::from_u128(0xB), &mut minter()).unwrap();
    assert_eq!(back.format, formats::Format::Dump);
    assert_eq!(per_kind(&back.documents), per_kind(&docs), "every kind came back, as many of each");
    let (want, got) = (structure(&docs, &docs), structure(&back.documents, &docs));
    for (path, doc) in &want {
        assert_eq!(got.get(path), Some(doc), "{path} changed on its way through a backup");
    }
    assert_eq!(got.len(), want.len(), "the backup made documents that were not there");

    // The references were pointed at the new documents, not left naming the old ones.
    let run = back.documents.iter().find(|d| d.kind == Kind::Run && d.title() == "Orders").unwrap();
    let first = back.documents.iter().find(|d| d.kind == Kind::History && d.title() == "List orders").unwrap();
    assert_eq!(first.fields["run_id"], json!(run.id.to_string()));
    let elsewhere = back.documents.iter().find(|d| d.kind == Kind::History && d.fields["method"] == "DELETE").unwrap();
    assert_eq!(elsewhere.fields["collection_id"], "not-in-this-file", "a reference to nothing in the file is kept as it was");

    // And again: a backup of the restored documents holds the same.
    let again = export_dump(&back.documents);
    assert_eq!(again.written, dump.written);
    let twice = import_value(&again.value, Id::from_u128(0xC), &mut minter()).unwrap();
    assert_eq!(structure(&twice.documents, &back.documents), structure(&back.documents, &back.documents));
}

#[test]
fn the_extension_holds_exactly_what_postmans_dump_cannot() {
    let docs = workspace();
    let dump = export_dump(&docs).value;
    let ext = &dump[EXTENSION_KEY];
    assert_eq!(ext["version"], 1);
    assert_eq!(ext["workspaces"], json!([{"id": id(WS), "name": "Team API", "description": "what we call"}]));
    assert_eq!(ext["runs"].as_array().unwrap().len(), 2);
    assert_eq!(ext["history"].as_array().unwrap().len(), 3);
    // A reference to a document written in Postman's part names it by the
    // id the file gives it there.
    assert_eq!(ext["runs"][0]["collection_id"], "c-orders");
    assert_eq!(ext["runs"][0]["environment_id"], "e-dev");
    assert_eq!(ext["history"][0]["run_id"], json!(id(60)));
    assert_eq!(ext["history"][2]["request_id"], json!(id(5)), "a request made in apisync is written with its apisync id");

    // Postman's part is what it was without the extension's kinds, and a
    // dump with nothing for the extension is Postman's dump alone.
    let postman_only: Vec<Document> =
        docs.iter().filter(|d| !matches!(d.kind, Kind::Workspace | Kind::Run | Kind::History)).cloned().collect();
    let plain = export_dump(&postman_only).value;
    assert!(plain.get(EXTENSION_KEY).is_none());
    let mut without = dump.clone();
    without.as_object_mut().unwrap().remove(EXTENSION_KEY);
    assert_eq!(without, plain);
}

#[test]
fn a_document_whose_parent_is_gone_is_counted_as_left_out() {
    let mut docs = workspace();
    // A folder deleted on another device while this one still shows a request under it.
    docs.iter_mut().find(|d| d.id == Id::from_u128(3)).unwrap().deleted = true;
    let dump = export_dump(&docs);
    assert_eq!(dump.left_out, vec![Id::from_u128(4), Id::from_u128(7), Id::from_u128(8)]);
    let mut expected = per_kind(&docs);
    *expected.get_mut(&Kind::Request).unwrap() -= 1;
    expected.remove(&Kind::Response);
    assert_eq!(dump.written, expected, "the counts are what the file holds");
}

#[test]
fn a_reference_to_one_of_two_copies_never_lands_on_the_other() {
    // The same collection imported twice: two copies with one Postman id.
    let mut docs = workspace();
    docs.push(doc(80, Kind::Collection, None, "Y", json!({"name": "Orders", "postman_id": "c-orders"})));
    docs.push(doc(81, Kind::Request, Some(80), "a", json!({"name": "Health", "postman_id": "r-copy", "method": "GET", "url": "http://x"})));
    docs.push(doc(
        73,
        Kind::History,
        None,
        "Y",
        json!({"method": "GET", "url": "http://x", "collection_id": id(80), "request_id": id(81)}),
    ));
    let dump = export_dump(&docs);
    assert_eq!(dump.value[EXTENSION_KEY]["history"][3]["collection_id"], json!(id(80)), "not written as the shared 'c-orders'");
    assert_eq!(dump.value[EXTENSION_KEY]["history"][3]["request_id"], "r-copy", "an id only one document has still names it");
    let back = import_value(&dump.value, Id::nil(), &mut minter()).unwrap();
    let h = back.documents.iter().find(|d| d.kind == Kind::History && d.fields["url"] == "http://x").unwrap();
    let copy = back.documents.iter().find(|d| d.kind == Kind::Request && d.fields["postman_id"] == "r-copy").unwrap();
    assert_eq!(h.fields["request_id"], json!(copy.id.to_string()));
    let collections: Vec<String> = back.documents.iter().filter(|d| d.kind == Kind::Collection).map(|d| d.id.to_string()).collect();
    assert!(!collections.contains(&h.fields["collection_id"].as_str().unwrap().to_string()), "it names a copy it may not mean");
}
