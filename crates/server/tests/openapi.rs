//! `GET /openapi.json`: the document lists every route the router serves,
//! with exactly the methods it takes, and holds together as OpenAPI 3.1.
//! (Schemathesis checks the answers against it: tests/schemathesis.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[macro_use]
mod support;
use support::{Backend, TestServer};

/// The methods probed on every path.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn document(server: &TestServer) -> Value {
    let (status, doc) = server.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

/// Every string literal in the server's source that looks like a route
/// path: wherever a route is added, its path is written in one of them.
fn path_literals(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            path_literals(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split('"').skip(1).step_by(2) {
                let routish =
                    piece.len() > 1 && piece.starts_with('/') && piece.chars().all(|c| c.is_ascii_alphanumeric() || "/_-.{}".contains(c));
                if routish {
                    out.insert(piece.to_string());
                }
            }
        }
    }
}

/// Whether the concrete or template `path` is an instance of `template`.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || t.starts_with('{'))
}

/// How the router answers `method` on `path` (its parameters filled with
/// ids) from a caller with no token and no body: `None` when no route has
/// the path (the fallback's 404), `Some(false)` when the path's route does
/// not take the method (405), `Some(true)` when a handler answered.
async fn routed(server: &TestServer, method: &str, path: &str) -> Option<bool> {
    let concrete: Vec<String> =
        path.split('/').map(|s| if s.starts_with('{') { model::Id::now_v7().to_string() } else { s.to_string() }).collect();
    let (status, body) = server.call(Method::from_bytes(method.as_bytes()).unwrap(), &concrete.join("/"), None, None).await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    match status {
        404 if message.starts_with("no such endpoint") => None,
        405 => {
            assert_eq!(body["error"]["code"], "method_not_allowed", "{method} {path}: {body}");
            Some(false)
        }
        _ => Some(true),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_in_the_document_with_exactly_its_methods() {
    let server = TestServer::start(Backend::Sqlite, |_| {}).await;
    let doc = document(&server).await;
    let documented: BTreeMap<String, BTreeSet<String>> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| (path.clone(), item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect()))
        .collect();
    let mut literals = BTreeSet::new();
    path_literals(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut literals);
    // The scan reads the router's own paths.
    assert!(literals.contains("/v1/workspaces/{id}/push") && literals.contains("/healthz"), "{literals:?}");
    let candidates: BTreeSet<String> = literals.into_iter().chain(documented.keys().cloned()).collect();

    let mut problems = Vec::new();
    let mut served = 0;
    for path in &candidates {
        let template = documented.keys().find(|t| matches(t, path));
        for method in METHODS {
            let answered = routed(&server, method, path).await;
            let listed = template.is_some_and(|t| documented[t].contains(method));
            match (answered, listed) {
                (Some(true), true) => served += 1,
                (Some(true), false) => problems.push(format!("{method} {path} is served but not in /openapi.json")),
                (None | Some(false), true) => problems.push(format!("{method} {path} is in /openapi.json but not served")),
                (None | Some(false), false) => {}
            }
        }
    }
    assert!(problems.is_empty(), "the document and the router differ:\n{}", problems.join("\n"));
    // The probe itself works: it found the API's routes (34 when this was written).
    assert!(served >= 34, "only {served} routes answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    let server = TestServer::start(Backend::Sqlite, |_| {}).await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    // Every $ref names a component that exists.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "only {} references", found.len());
    for r in found {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("a reference outside the document: {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }

    // Every operation: a unique id, a success answer, and the error body for its errors.
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_string()), "operationId {id} twice");
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2') || s == "101"), "{method} {path} has no success answer");
            for (status, response) in responses {
                let response = match response["$ref"].as_str() {
                    Some(r) => doc.pointer(r.strip_prefix('#').unwrap()).unwrap(),
                    None => response,
                };
                if status.starts_with('4') || status.starts_with('5') {
                    let body = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(body, "#/components/schemas/ErrorBody", "{method} {path} {status}");
                }
                assert!(response["headers"]["X-Request-Id"].is_object(), "{method} {path} {status}: the request id header");
            }
            let params = op["parameters"].as_array().unwrap();
            assert!(params.iter().any(|p| p["name"] == "X-Request-Id" && p["in"] == "header"), "{method} {path} takes X-Request-Id");
            for security in op["security"].as_array().into_iter().flatten() {
                for scheme in security.as_object().unwrap().keys() {
                    assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{method} {path}: no scheme {scheme}");
                }
            }
            let public = ["/healthz", "/readyz", "/openapi.json"].contains(&path.as_str()) || path.starts_with("/v1/auth/");
            let logout = path == "/v1/auth/logout";
            assert_eq!(op["security"].is_array(), !public || logout, "{method} {path}: who may call it");
        }
    }

    // Every link names an operation that exists, and parameters that operation takes.
    let mut links = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"].as_object().unwrap().values() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    links += 1;
                    let target = link["operationId"].as_str().unwrap_or_else(|| panic!("link {name} names no operationId: {link}"));
                    let target = doc["paths"]
                        .as_object()
                        .unwrap()
                        .values()
                        .flat_map(|i| i.as_object().unwrap().values())
                        .find(|o| o["operationId"] == target)
                        .unwrap_or_else(|| panic!("link {name}: no operation {target}"));
                    for parameter in link["parameters"].as_object().unwrap().keys() {
                        let takes = target["parameters"].as_array().unwrap().iter().any(|p| p["name"] == parameter.as_str());
                        assert!(takes, "link {name}: {} takes no {parameter}", target["operationId"]);
                    }
                }
            }
        }
    }
    assert!(links >= 10, "only {links} links");

    // The shapes are the protocol types', field for field.
    let session = &doc["components"]["schemas"]["Session"];
    let fields: BTreeSet<&str> = session["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, BTreeSet::from(["token", "user", "device", "workspaces"]));
    let outcome = serde_json::to_string(&doc["components"]["schemas"]["MutationResult"]).unwrap();
    for status in ["applied", "conflict", "rejected"] {
        assert!(outcome.contains(status) || doc["components"]["schemas"]["Outcome"].to_string().contains(status), "{outcome}");
    }
}
