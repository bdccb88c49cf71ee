//! Export of documents made or edited in apisync, not only imported ones.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use formats::{SCHEMA_V21, export_collection, export_dump, export_environment, export_globals, import_value};
use model::{Document, Fields, Id, Kind};
use serde_json::{Value, json};

fn doc(n: u128, kind: Kind, parent: Option<u128>, key: &str, fields: Value) -> Document {
    Document {
        id: Id::from_u128(n),
        kind,
        workspace_id: Id::nil(),
        parent_id: parent.map(Id::from_u128),
        order_key: Some(key.to_string()),
        fields: fields.as_object().cloned().unwrap_or_else(Fields::new),
        deleted: false,
        version: 3,
    }
}

fn minter() -> impl FnMut() -> Id {
    let mut n = 1000u128;
    move || {
        n += 1;
        Id::from_u128(n)
    }
}

#[test]
fn made_in_apisync_exports_in_key_order_without_tombstones() {
    let mut gone = doc(5, Kind::Request, Some(1), "c", json!({"name": "gone"}));
    gone.deleted = true;
    let docs = vec![
        doc(1, Kind::Collection, None, "V", json!({"name": "API"})),
        doc(2, Kind::Request, Some(1), "b", json!({"name": "second", "method": "POST", "url": "http://b"})),
        doc(3, Kind::Folder, Some(1), "a", json!({"name": "first"})),
        doc(4, Kind::Response, Some(2), "V", json!({"name": "ok", "code": 200})),
        gone,
    ];
    let out = export_collection(&docs[0], &docs).unwrap();
    let id = |n: u128| Id::from_u128(n).to_string();
    assert_eq!(
        out,
        json!({
            "info": {"name": "API", "schema": SCHEMA_V21, "_postman_id": id(1)},
            "item": [
                {"name": "first", "id": id(3), "item": []},
                {"name": "second", "id": id(2), "request": {"method": "POST", "url": "http://b"},
                 "response": [{"name": "ok", "code": 200, "id": id(4)}]},
            ]
        })
    );
    let err = export_collection(&docs[1], &docs).unwrap_err();
    assert_eq!(err.code(), "wrong_kind");
    assert!(err.to_string().contains("pick a collection document"), "{err}");
}

#[test]
fn edits_win_over_what_import_kept() {
    let original = json!({
        "info": {"name": "C", "schema": SCHEMA_V21, "_postman_id": "c"},
        "item": [{"id": "r", "request": {"url": "http://a", "header": {}}, "response": []}]
    });
    let mut imp = import_value(&original, Id::nil(), &mut minter()).unwrap();
    let before = export_collection(&imp.documents[0], &imp.documents).unwrap();
    assert_eq!(before, original, "unedited: exactly the original");
    let req = imp.documents.iter_mut().find(|d| d.kind == Kind::Request).unwrap();
    assert_eq!(req.fields["name"], "http://a", "a nameless request is called by its URL");
    req.fields.insert("name".into(), json!("Renamed"));
    req.fields.insert("header".into(), json!([{"key": "A", "value": "1"}]));
    let after = export_collection(&imp.documents[0], &imp.documents).unwrap();
    assert_eq!(after["item"][0]["name"], "Renamed");
    assert_eq!(after["item"][0]["request"]["header"], json!([{"key": "A", "value": "1"}]));
}

#[test]
fn environments_globals_and_dumps_from_documents() {
    let docs = vec![
        doc(1, Kind::Environment, None, "V", json!({"name": "dev", "postman_id": "e1"})),
        doc(2, Kind::Variable, Some(1), "b", json!({"key": "b", "value": "2", "enabled": false})),
        doc(3, Kind::Variable, Some(1), "a", json!({"key": "a", "value": 1, "type": "default"})),
        doc(4, Kind::Global, None, "V", json!({"key": "g", "value": "x"})),
        doc(5, Kind::HeaderPreset, None, "V", json!({"name": "json", "headers": [{"key": "Accept", "value": "application/json"}]})),
        doc(6, Kind::Collection, None, "V", json!({"name": "API"})),
    ];
    let env = export_environment(&docs[0], &docs).unwrap();
    assert_eq!(
        env,
        json!({"name": "dev", "id": "e1", "values": [{"key": "a", "value": 1, "type": "default"}, {"key": "b", "value": "2", "enabled": false}]})
    );
    assert_eq!(export_globals(&docs)["values"], json!([{"key": "g", "value": "x"}]));
    let dump = export_dump(&docs).value;
    assert_eq!(dump["version"], 1);
    assert_eq!(dump["collections"][0]["info"]["name"], "API");
    assert_eq!(dump["environments"][0], env);
    assert_eq!(dump["headerPresets"][0]["name"], "json");
    assert_eq!(dump["globals"], json!([{"key": "g", "value": "x"}]));
    // And the dump reads back to the same dump.
    let again = import_value(&dump, Id::nil(), &mut minter()).unwrap();
    assert_eq!(export_dump(&again.documents).value, dump);
    let err = export_environment(&docs[1], &docs).unwrap_err();
    assert_eq!(err.code(), "wrong_kind");
}

#[test]
fn v20_auth_maps_become_v21_lists() {
    let v20 = json!({
        "info": {"name": "C", "schema": "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"},
        "auth": {"type": "basic", "basic": {"username": "u", "password": "p", "showPassword": false}},
        "item": [{"name": "r", "request": {"url": "http://a", "auth": {"type": "bearer", "bearer": {"token": "t"}}}}]
    });
    let imp = import_value(&v20, Id::nil(), &mut minter()).unwrap();
    let out = export_collection(&imp.documents[0], &imp.documents).unwrap();
    assert_eq!(out["info"]["schema"], SCHEMA_V21);
    let basic: Vec<Value> = out["auth"]["basic"].as_array().unwrap().clone();
    assert!(basic.contains(&json!({"key": "username", "value": "u", "type": "string"})));
    assert!(basic.contains(&json!({"key": "showPassword", "value": false, "type": "boolean"})));
    assert_eq!(out["item"][0]["request"]["auth"]["bearer"], json!([{"key": "token", "value": "t", "type": "string"}]));
    assert!(imp.notes.iter().any(|n| n.contains("2 auth block(s)")), "{:?}", imp.notes);
}

#[test]
fn v1_bodies_headers_and_scripts_convert() {
    let v1 = json!({
        "id": "c", "name": "C", "order": ["r1", "r2"], "folders": [],
        "requests": [
            {"id": "r1", "name": "raw", "method": "POST", "url": "http://a/:id", "headers": "A: 1\n// B: 2\n",
             "dataMode": "raw", "rawModeData": "{}", "pathVariables": {"id": "7"},
             "preRequestScript": "pre()", "tests": "t1()\nt2()", "owner": "9"},
            {"id": "r2", "name": "form", "method": "POST", "url": "http://b", "dataMode": "params",
             "data": [{"key": "f", "value": "x.png", "type": "file", "enabled": false}],
             "headerData": [{"key": "C", "value": "3", "enabled": true}],
             "responses": [{"id": "s1", "name": "ok", "responseCode": {"code": 200, "name": "OK"}, "text": "hi", "headers": [], "request": "r2"}]}
        ]
    });
    let imp = import_value(&v1, Id::nil(), &mut minter()).unwrap();
    let out = export_collection(&imp.documents[0], &imp.documents).unwrap();
    let r1 = &out["item"][0];
    assert_eq!(
        r1["request"]["url"],
        json!({"raw": "http://a/:id", "protocol": "http", "host": ["a"], "path": [":id"], "variable": [{"key": "id", "value": "7"}]})
    );
    assert_eq!(r1["request"]["header"], json!([{"key": "A", "value": "1"}, {"key": "B", "value": "2", "disabled": true}]));
    assert_eq!(r1["request"]["body"], json!({"mode": "raw", "raw": "{}"}));
    assert_eq!(r1["event"][1], json!({"listen": "test", "script": {"type": "text/javascript", "exec": ["t1()", "t2()"]}}));
    assert_eq!(r1["owner"], "9", "unknown v1 keys are kept");
    let r2 = &out["item"][1];
    assert_eq!(r2["request"]["body"]["formdata"], json!([{"key": "f", "src": "x.png", "type": "file", "disabled": true}]));
    assert_eq!(r2["request"]["header"], json!([{"key": "C", "value": "3"}]));
    let resp = &r2["response"][0];
    assert_eq!((&resp["code"], &resp["status"], &resp["body"]), (&json!(200), &json!("OK"), &json!("hi")));
    assert_eq!(resp["originalRequest"]["url"], "http://b");
}
