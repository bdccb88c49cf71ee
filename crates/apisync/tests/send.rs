//! `apisync send`, `cookies` and `body` driven through the real binary
//! against a local server that records every request it receives.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::{Device, Server, stderr};

/// One request as the server received it.
#[derive(Clone, Debug)]
struct Recorded {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The size of `/big`'s body: over what a synced history entry carries.
const BIG: usize = 700 * 1024;

/// A server on 127.0.0.1:0 that records each request and answers by path.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<Recorded>>>,
    _rt: tokio::runtime::Runtime,
}

impl Recorder {
    fn start() -> Recorder {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let seen: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let path = uri.path().to_string();
                let cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                log.lock().unwrap().push(Recorded { method: method.to_string(), uri: uri.to_string(), headers, body: body.to_vec() });
                let r: Response = match path.as_str() {
                    "/cookie/set" => ([(header::SET_COOKIE, "session=xyz789; Path=/")], "set").into_response(),
                    "/cookie/echo" => cookie.into_response(),
                    "/big" => "b".repeat(BIG).into_response(),
                    "/missing" => (axum::http::StatusCode::NOT_FOUND, "no such thing").into_response(),
                    // Echoes the credential back, as some APIs do: the response must be masked too.
                    _ => axum::Json(json!({ "ok": true, "you_sent": auth })).into_response(),
                };
                r
            }
        });
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Recorder { url, seen, _rt: rt }
    }

    fn last(&self) -> Recorded {
        self.seen.lock().unwrap().last().cloned().expect("the server received no request")
    }
}

const SECRET: &str = "tok-5ecr3t-91";

/// A device with a collection (bearer auth from a secret variable) and a
/// "Dev" environment pointing at `server`; returns the collection's id.
fn setup(d: &Device, server: &Recorder) -> String {
    let auth = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]}).to_string();
    let vars = json!([{"key": "version", "value": "v2"}, {"key": "off", "value": "x", "disabled": true}]).to_string();
    let col = d.create("collection", &["--set", "name=Shop", "--set", &format!("auth={auth}"), "--set", &format!("variable={vars}")]);
    let env = d.create("environment", &["--set", "name=Dev"]);
    d.create("variable", &["--parent", &env, "--set", "key=base", "--set", &format!("value={}", server.url)]);
    d.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=initial-unused", "--set", "type=secret"]);
    let token =
        d.json(&["ls"]).as_array().unwrap().iter().find(|v| v["fields"]["key"] == "token").unwrap()["id"].as_str().unwrap().to_string();
    // The current value, kept on this device, is what is sent.
    d.run(&["set", &token, &format!("current={SECRET}")]);
    col
}

fn request(d: &Device, parent: &str, name: &str, fields: Value) -> String {
    let mut args = vec!["--parent".to_string(), parent.to_string(), "--set".into(), format!("name={name}")];
    for (k, v) in fields.as_object().unwrap() {
        args.push("--set".into());
        args.push(format!("{k}={v}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    d.create("request", &args)
}

fn send(d: &Device, id: &str, extra: &[&str]) -> Value {
    let mut args = vec!["send", id, "--environment", "Dev"];
    args.extend_from_slice(extra);
    d.json(&args)
}

#[test]
fn each_body_mode_is_sent_exactly_with_variables_auth_and_params() {
    let server = Recorder::start();
    let d = Device::new("laptop");
    let col = setup(&d, &server);
    let dir = tempfile::tempdir().unwrap();
    let upload = dir.path().join("photo.png");
    std::fs::write(&upload, [0x89u8, b'P', b'N', b'G', 0, 1, 2]).unwrap();

    let raw = request(
        &d,
        &col,
        "Raw",
        json!({
            "method": "POST",
            "url": {"raw": "ignored", "host": ["{{base}}"], "path": ["{{version}}", "items", ":id"],
                "query": [{"key": "q", "value": "a b"}, {"key": "skip", "value": "1", "disabled": true}],
                "variable": [{"key": "id", "value": "42"}]},
            "header": [{"key": "X-Trace", "value": "{{$guid}}"}, {"key": "X-Off", "value": "1", "disabled": true}],
            "body": {"mode": "raw", "raw": "{\"v\":\"{{version}}\"}", "options": {"raw": {"language": "json"}}}
        }),
    );
    let out = send(&d, &raw, &[]);
    assert_eq!(out["response"]["code"], 200);
    let r = server.last();
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/v2/items/42?q=a%20b"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some(format!("Bearer {SECRET}").as_str()), "the collection's auth is inherited");
    assert!(uuid::Uuid::parse_str(r.header("x-trace").unwrap()).is_ok());
    assert_eq!(r.header("x-off"), None);
    assert_eq!(r.body, br#"{"v":"v2"}"#);

    let form = request(
        &d,
        &col,
        "Form",
        json!({"method": "PUT", "url": "{{base}}/form",
        "body": {"mode": "urlencoded", "urlencoded": [{"key": "name", "value": "Ada L"}, {"key": "no", "value": "x", "disabled": true}]}}),
    );
    send(&d, &form, &[]);
    let r = server.last();
    assert_eq!((r.method.as_str(), r.header("content-type")), ("PUT", Some("application/x-www-form-urlencoded")));
    assert_eq!(r.body, b"name=Ada+L");

    let multi = request(
        &d,
        &col,
        "Multi",
        json!({"method": "POST", "url": "{{base}}/upload",
        "body": {"mode": "formdata", "formdata": [{"key": "title", "value": "{{version}}", "type": "text"},
            {"key": "photo", "type": "file", "src": upload.to_str().unwrap()}]}}),
    );
    send(&d, &multi, &[]);
    let r = server.last();
    let boundary = r.header("content-type").unwrap().strip_prefix("multipart/form-data; boundary=").unwrap().to_string();
    let mut expected = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nv2\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    expected.extend_from_slice(&[0x89, b'P', b'N', b'G', 0, 1, 2]);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(r.body, expected);

    let file = request(
        &d,
        &col,
        "File",
        json!({"method": "POST", "url": "{{base}}/file",
        "body": {"mode": "file", "file": {"src": upload.to_str().unwrap()}}}),
    );
    send(&d, &file, &[]);
    assert_eq!(server.last().body, vec![0x89, b'P', b'N', b'G', 0, 1, 2]);

    let gql = request(
        &d,
        &col,
        "Query",
        json!({"method": "POST", "url": "{{base}}/graphql",
        "body": {"mode": "graphql", "graphql": {"query": "{ item(v: \"{{version}}\") { id } }", "variables": "{\"n\": 1}"}}}),
    );
    send(&d, &gql, &[]);
    let r = server.last();
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body, json!({"query": "{ item(v: \"v2\") { id } }", "variables": {"n": 1}}));

    // A request's own auth wins over the collection's; unknown names are reported, not dropped.
    let own = request(
        &d,
        &col,
        "Own",
        json!({"url": "{{base}}/own?who={{nobody}}",
        "auth": {"type": "apikey", "apikey": [{"key": "key", "value": "X-Api-Key"}, {"key": "value", "value": "k1"}]}}),
    );
    let out = d.try_run(&["send", &own, "--environment", "Dev"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("{{nobody}}"), "{}", stderr(&out));
    let r = server.last();
    assert_eq!((r.uri.as_str(), r.header("x-api-key"), r.header("authorization")), ("/own?who={{nobody}}", Some("k1"), None));
}

#[test]
fn history_and_examples_never_hold_a_secret_and_a_large_body_stays_local() {
    let server = Recorder::start();
    let d = Device::new("laptop");
    let col = setup(&d, &server);
    let req = request(&d, &col, "Echo", json!({"method": "GET", "url": "{{base}}/echo?t={{token}}"}));
    let out = send(&d, &req, &["--save-response", "Happy path"]);
    assert_eq!(server.last().uri, format!("/echo?t={SECRET}"), "the secret itself was sent");

    let history = d.json(&["show", out["history_id"].as_str().unwrap()]);
    assert_eq!(history["kind"], "history");
    let text = history.to_string();
    assert!(!text.contains(SECRET), "the history entry holds the secret: {text}");
    assert!(text.contains(model::document::SECRET_MASK));
    assert_eq!(history["fields"]["code"], 200);
    assert_eq!(history["fields"]["request_id"], req.as_str());
    assert_eq!(history["fields"]["collection_id"], col.as_str());
    assert!(history["fields"]["response"]["body"].as_str().unwrap().contains("you_sent"));

    let example = d.json(&["show", out["example_id"].as_str().unwrap()]);
    assert_eq!((example["kind"].as_str(), example["parent_id"].as_str()), (Some("response"), Some(req.as_str())));
    assert_eq!((example["fields"]["name"].as_str(), example["fields"]["code"].as_i64()), (Some("Happy path"), Some(200)));
    assert!(!example.to_string().contains(SECRET), "{example}");
    // No document of the workspace holds it (the current value lives outside documents, on this device).
    let all = d.json(&["ls"]).to_string();
    assert!(!all.contains(SECRET), "{all}");

    let big = request(&d, &col, "Big", json!({"url": "{{base}}/big"}));
    let out = send(&d, &big, &[]);
    assert_eq!(out["body_kept_on_device_only"], true);
    let hid = out["history_id"].as_str().unwrap();
    let history = d.json(&["show", hid]);
    assert!(history["fields"]["response"]["body"].is_null());
    assert_eq!(history["fields"]["response"]["size"], BIG);
    assert!(history.to_string().len() < 64 * 1024, "the synced entry does not carry the body");
    let body = d.run(&["body", hid]);
    assert_eq!(body.len(), BIG);
    assert!(body.bytes().all(|b| b == b'b'));
    let e = d.try_run(&["send", &big, "--environment", "Dev", "--save-response", "too big"]);
    assert!(!e.status.success() && stderr(&e).contains("cannot be saved as an example"), "{}", stderr(&e));
}

fn files_hold(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() { files_hold(&p, needle) } else { std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) }
    })
}

#[test]
fn the_cookie_jar_keeps_a_cookie_across_sends_until_cleared() {
    let server = Recorder::start();
    let d = Device::new("laptop");
    let col = setup(&d, &server);
    let set = request(&d, &col, "Set", json!({"url": "{{base}}/cookie/set"}));
    let echo = request(&d, &col, "Echo", json!({"url": "{{base}}/cookie/echo"}));
    send(&d, &set, &[]);
    send(&d, &echo, &[]);
    assert_eq!(server.last().header("cookie"), Some("session=xyz789"));
    let jar = d.json(&["cookies"]);
    assert_eq!(
        (jar[0]["name"].as_str(), jar[0]["value"].as_str(), jar[0]["domain"].as_str()),
        (Some("session"), Some("xyz789"), Some("127.0.0.1"))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.dir.path().join("cookies.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(d.json(&["cookies", "clear"])["removed"], 1);
    send(&d, &echo, &[]);
    assert_eq!(server.last().header("cookie"), None);
    assert_eq!(d.json(&["cookies", "list"]), json!([]));
}

#[test]
fn a_failed_send_exits_non_zero_and_an_error_status_does_not() {
    let server = Recorder::start();
    let d = Device::new("laptop");
    let col = setup(&d, &server);
    let missing = request(&d, &col, "Missing", json!({"url": "{{base}}/missing"}));
    let out = d.try_run(&["send", &missing, "--environment", "Dev"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(support::stdout(&out).starts_with("404 Not Found"), "{}", support::stdout(&out));

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let down = request(&d, &col, "Down", json!({"url": format!("http://127.0.0.1:{port}/")}));
    let out = d.try_run(&["send", &down]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is the server running"), "{}", stderr(&out));
    let e = d.try_run(&["send", &missing, "--environment", "Nope"]);
    assert!(!e.status.success() && stderr(&e).contains("'Dev'"), "{}", stderr(&e));
}

#[test]
fn sign_out_erases_the_cookie_jar_and_local_bodies() {
    let sync = Server::start();
    let api = Recorder::start();
    let d = Device::new("laptop");
    d.signup(&sync, "ann");
    let col = setup(&d, &api);
    let set = request(&d, &col, "Set", json!({"url": "{{base}}/cookie/set"}));
    let big = request(&d, &col, "Big", json!({"url": "{{base}}/big"}));
    send(&d, &set, &[]);
    send(&d, &big, &[]);
    assert!(d.dir.path().join("cookies.json").exists());
    assert_eq!(std::fs::read_dir(d.dir.path().join("bodies")).unwrap().count(), 1);
    d.run(&["logout"]);
    assert!(!d.dir.path().join("cookies.json").exists());
    assert_eq!(std::fs::read_dir(d.dir.path().join("bodies")).unwrap().count(), 0);
    assert!(!files_hold(d.dir.path(), b"xyz789"), "the cookie's value is still in a file");
}

#[test]
fn the_proxy_from_the_environment_is_used() {
    let proxy = Recorder::start();
    let d = Device::new("laptop");
    let col = setup(&d, &proxy);
    let req = request(&d, &col, "Far", json!({"url": "http://api.example.invalid/thing?x=1"}));
    let out = d.cmd(&["send", &req]).env("HTTP_PROXY", &proxy.url).env_remove("NO_PROXY").env_remove("no_proxy").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = proxy.last();
    assert_eq!(r.uri, "http://api.example.invalid/thing?x=1", "the request went to the proxy in absolute form");
}

#[test]
fn each_warning_is_listed_once() {
    let server = Recorder::start();
    let d = Device::new("laptop");
    let col = setup(&d, &server);
    let body =
        json!({"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": "no-such-file.bin"}, {"key": "t", "value": "x"}]});
    let id = request(&d, &col, "Odd", json!({"method": "POST", "url": "{{base}}/odd?x={{nothing}}", "body": body}));
    let out = send(&d, &id, &[]);
    let warnings: Vec<&str> = out["warnings"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(warnings.iter().filter(|w| w.contains("{{nothing}}")).count(), 1, "{warnings:?}");
    assert_eq!(warnings.iter().filter(|w| w.contains("no-such-file.bin")).count(), 1, "{warnings:?}");
    assert_eq!(out["unresolved"], json!(["nothing"]));
}
