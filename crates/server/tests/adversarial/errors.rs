//! Requests the router or an extractor refuses before any handler runs: a
//! bad id in a path, a query string that does not parse, a method a route
//! does not take, the live channel without a WebSocket upgrade. Each gave
//! an empty body or axum's plain text; every one must carry the documented
//! `{"error":{"code","message"}}` with a message naming what was wrong.

use crate::support::{Backend, TestServer, error_code};
use protocol::ErrorCode;
use reqwest::Method;
use serde_json::{Value, json};

/// Every route with the methods it takes; `{id}`, `{user}` are path parameters.
const ROUTES: &[(&str, &[&str])] = &[
    ("/healthz", &["GET"]),
    ("/readyz", &["GET"]),
    ("/v1/auth/signup", &["POST"]),
    ("/v1/auth/login", &["POST"]),
    ("/v1/auth/logout", &["POST"]),
    ("/v1/auth/password/forgot", &["POST"]),
    ("/v1/auth/password/reset", &["POST"]),
    ("/v1/auth/username/recover", &["POST"]),
    ("/v1/account/password", &["POST"]),
    ("/v1/account", &["DELETE"]),
    ("/v1/me", &["GET"]),
    ("/v1/devices", &["GET"]),
    ("/v1/devices/{id}", &["DELETE"]),
    ("/v1/workspaces", &["GET"]),
    ("/v1/workspaces/{id}", &["DELETE"]),
    ("/v1/workspaces/{id}/push", &["POST"]),
    ("/v1/workspaces/{id}/changes", &["GET"]),
    ("/v1/workspaces/{id}/docs", &["POST"]),
    ("/v1/workspaces/{id}/share", &["POST"]),
    ("/v1/teams", &["GET", "POST"]),
    ("/v1/teams/{id}/members", &["GET", "POST"]),
    ("/v1/teams/{id}/members/{user}", &["DELETE"]),
    ("/v1/teams/{id}/leave", &["POST"]),
    ("/v1/live", &["GET"]),
];

/// Asserts the documented error body and returns its code and message.
fn error_body(status: u16, v: &Value, what: &str) -> (ErrorCode, String) {
    assert!(status >= 400, "{what}: {status} {v}");
    let message = v["error"]["message"].as_str().unwrap_or_else(|| panic!("{what}: {status} without an error body: {v}"));
    assert!(!message.is_empty(), "{what}: an empty message");
    let code = error_code(v);
    assert_eq!(code.status(), status, "{what}: the code {code} goes with another status than {status}");
    (code, message.to_string())
}

/// A raw request: the status, the content type and the body as JSON (or `Value::Null`).
async fn send(s: &TestServer, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, String, Value) {
    let (status, headers, v) = send_with_headers(s, method, path, token, body).await;
    let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, kind, v)
}

/// A request by method name: the status, the headers and the body as JSON (or `Value::Null`).
async fn send_with_headers(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    s.call_with_headers(Method::from_bytes(method.as_bytes()).unwrap(), path, token, body).await
}

async fn wrong_methods_get_405_with_the_error_body(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let some_id = model::Id::now_v7().to_string();
    for (route, allowed) in ROUTES {
        let path = route.replace("{id}", &some_id).replace("{user}", &some_id);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if allowed.contains(&method) {
                continue;
            }
            let what = format!("{method} {route}");
            let (status, headers, v) = send_with_headers(&s, method, &path, Some(&ann.token), None).await;
            assert_eq!(status, 405, "{what}: {v}");
            let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(kind.starts_with("application/json"), "{what}: content type {kind}");
            let (code, message) = error_body(status, &v, &what);
            assert_eq!(code, ErrorCode::MethodNotAllowed, "{what}");
            assert!(message.contains(method) && message.contains("Allow"), "{what}: {message}");
            let allow = headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default();
            assert!(allowed.iter().all(|m| allow.contains(m)), "{what}: Allow: {allow}");
        }
    }
}

async fn bad_ids_in_paths_name_the_parameter(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let team =
        s.call(Method::POST, "/v1/teams", Some(&ann.token), Some(json!({"name": "Core"}))).await.1["id"].as_str().unwrap().to_string();
    for (route, allowed) in ROUTES.iter().filter(|(r, _)| r.contains('{')) {
        for bad in ["not-a-uuid", "%FF%FE", "12345678-1234-1234-1234-12345678901z", ""] {
            // The team id is good where a later parameter is the bad one (an empty last segment is another path).
            let cases: Vec<(String, &str)> = if route.contains("{user}") && !bad.is_empty() {
                vec![
                    (route.replace("{id}", bad).replace("{user}", &team), "id"),
                    (route.replace("{id}", &team).replace("{user}", bad), "user"),
                ]
            } else {
                vec![(route.replace("{id}", bad).replace("{user}", &team), "id")]
            };
            for (path, param) in cases {
                let method = allowed[0];
                let what = format!("{method} {path}");
                let (status, kind, v) = send(&s, method, &path, Some(&ann.token), Some(json!({}))).await;
                assert!(kind.starts_with("application/json"), "{what}: content type {kind}");
                let (code, message) = error_body(status, &v, &what);
                if path.ends_with('/') {
                    // An empty last segment matches no route at all.
                    assert_eq!(code, ErrorCode::NotFound, "{what}: {v}");
                    continue;
                }
                assert_eq!(code, ErrorCode::BadRequest, "{what}: {v}");
                assert!(message.contains(&format!("`{param}`")), "{what}: the message should name `{param}`: {message}");
            }
        }
    }
}

async fn bad_query_strings_name_the_parameter(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    let changes = format!("/v1/workspaces/{ws}/changes");
    let cases = [
        (format!("{changes}?after=-1"), "after"),
        (format!("{changes}?after=1.5"), "after"),
        (format!("{changes}?after=18446744073709551616"), "after"),
        (format!("{changes}?limit=abc"), "limit"),
        (format!("{changes}?limit=-3"), "limit"),
        (format!("{changes}?after=1&after=2"), "after"),
        (format!("{changes}?limit=5&limit=6"), "limit"),
        ("/v1/live?token=a&token=b".to_string(), "token"),
    ];
    for (path, param) in cases {
        let (status, kind, v) = send(&s, "GET", &path, Some(&ann.token), None).await;
        assert!(kind.starts_with("application/json"), "{path}: content type {kind}");
        let (code, message) = error_body(status, &v, &path);
        assert_eq!(code, ErrorCode::BadRequest, "{path}: {v}");
        assert!(message.contains(&format!("`{param}`")), "{path}: the message should name `{param}`: {message}");
    }
    // A good query still works.
    let (status, _, v) = send(&s, "GET", &format!("{changes}?after=0&limit=5"), Some(&ann.token), None).await;
    assert_eq!(status, 200, "{v}");
}

async fn the_live_channel_without_an_upgrade_says_so(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    for token in [Some(ann.token.as_str()), None] {
        let (status, kind, v) = send(&s, "GET", "/v1/live", token, None).await;
        assert!(kind.starts_with("application/json"), "content type {kind}");
        let (code, message) = error_body(status, &v, "GET /v1/live");
        assert_eq!(code, ErrorCode::BadRequest, "{v}");
        assert!(message.contains("WebSocket"), "{message}");
    }
    // Unknown paths keep their documented body too.
    for path in ["/v2/anything", "/v1/nothing", "/v1/teams/x/y/z/w"] {
        let (status, _, v) = send(&s, "GET", path, Some(&ann.token), None).await;
        assert_eq!(error_body(status, &v, path).0, ErrorCode::NotFound, "{path}");
    }
}

on_both_backends!(
    wrong_methods_get_405_with_the_error_body,
    bad_ids_in_paths_name_the_parameter,
    bad_query_strings_name_the_parameter,
    the_live_channel_without_an_upgrade_says_so,
);
