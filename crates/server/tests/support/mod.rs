//! Runs the same test on every storage backend: SQLite always, PostgreSQL
//! when `APISYNC_TEST_DATABASE_URL` is set (each test in a database of its
//! own, dropped after).

// Each test file compiles this module anew and uses only some of it.
#![allow(dead_code, unused_macros)]

/// Which storage a test server runs on.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL backend, or `None` (said loudly) when no URL is set.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("APISYNC_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ => {
                eprintln!(
                    "SKIPPED: PostgreSQL test — set APISYNC_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
                );
                None
            }
        }
    }
}

pub use scratchdb::TestDb;

/// Declares each named `async fn(Backend)` as one test per backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::postgres() { super::$name(b).await } })*
        }
    };
}

/// Declares each named `async fn(Backend)` as a PostgreSQL-only test.
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { if let Some(b) = super::Backend::postgres() { super::$name(b).await } })*
        }
    };
}

/// An HTTP client. The workspace builds reqwest with rustls and no default
/// crypto provider (the device picks ring), so install it first.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A server on a free port, on the given backend, and an HTTP client for it.
pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    /// The server's data directory.
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database it runs on, if any.
    pub db_url: Option<String>,
    /// How it was started.
    pub config: server::Config,
    _server: server::RunningServer,
    _db: Option<TestDb>,
}

impl TestServer {
    /// Starts a server; `tweak` adjusts its configuration first.
    pub async fn start(b: Backend, tweak: impl FnOnce(&mut server::Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = server::Config::new(dir.path().to_path_buf());
        config.addr = "127.0.0.1:0".parse().unwrap();
        let db = match b {
            Backend::Sqlite => None,
            Backend::Postgres(url) => Some(TestDb::create(&url).await.unwrap()),
        };
        config.database_url = db.as_ref().map(|d| d.url.clone().into());
        tweak(&mut config);
        let server = server::start(config.clone()).await.unwrap();
        let db_url = db.as_ref().map(|d| d.url.clone());
        TestServer { base: format!("http://{}", server.addr()), http: http(), dir, db_url, config, _server: server, _db: db }
    }

    /// The running server itself.
    pub fn running(&self) -> &server::RunningServer {
        &self._server
    }

    /// Stops the server gracefully; its data directory lives until the
    /// returned value is dropped.
    pub async fn shutdown(self) -> tempfile::TempDir {
        self._server.shutdown().await.unwrap();
        self.dir
    }

    /// Stops the server gracefully and starts it again on the same data and configuration.
    pub async fn restart(self) -> TestServer {
        let TestServer { http, dir, db_url, config, _server, _db, .. } = self;
        _server.shutdown().await.unwrap();
        let server = server::start(config.clone()).await.unwrap();
        TestServer { base: format!("http://{}", server.addr()), http, dir, db_url, config, _server: server, _db }
    }

    /// Starts a server on an existing PostgreSQL database, which outlives it.
    pub async fn start_on(url: &str) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = server::Config::new(dir.path().to_path_buf());
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.database_url = Some(url.into());
        let server = server::start(config.clone()).await.unwrap();
        TestServer {
            base: format!("http://{}", server.addr()),
            http: http(),
            dir,
            db_url: Some(url.to_string()),
            config,
            _server: server,
            _db: None,
        }
    }

    /// One request; the status and the JSON body (`null` when there is none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, _, body) = self.call_with_headers(method, path, token, body).await;
        (status, body)
    }

    /// [`TestServer::call`], with the answer's headers too.
    pub async fn call_with_headers(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Signs `name` up (password "correct horse", device "NAME-1").
    pub async fn signup(&self, name: &str) -> protocol::Session {
        let body = serde_json::json!({"email": format!("{name}@example.com"), "username": name, "password": "correct horse", "device": {"id": model::Id::now_v7(), "name": format!("{name}-1")}});
        let (s, v) = self.call(reqwest::Method::POST, "/v1/auth/signup", None, Some(body)).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).unwrap()
    }
}

/// The error code of an error body.
pub fn error_code(v: &serde_json::Value) -> protocol::ErrorCode {
    serde_json::from_value::<protocol::ErrorBody>(v.clone()).unwrap_or_else(|_| panic!("not an error body: {v}")).error.code
}

/// A JSON object as document fields.
pub fn fields(v: serde_json::Value) -> model::Fields {
    v.as_object().unwrap().clone()
}

/// Starts a server with data in `dir`, on PostgreSQL at `url` when given,
/// on a free port.
pub async fn start_server(url: Option<&str>, dir: &std::path::Path) -> server::RunningServer {
    let mut config = server::Config::new(dir.to_path_buf());
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.database_url = url.map(Into::into);
    server::start(config).await.unwrap()
}

/// A POST to the server at `base`; the status and the JSON body.
pub async fn post_to(base: &str, path: &str, token: Option<&str>, body: serde_json::Value) -> (u16, serde_json::Value) {
    let mut req = http().post(format!("{base}{path}")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// Signs `name` up at the server at `base` (password "correct horse").
pub async fn signup_at(base: &str, name: &str) -> protocol::Session {
    let body = serde_json::json!({"email": format!("{name}@example.com"), "username": name, "password": "correct horse", "device": {"id": model::Id::now_v7(), "name": "first"}});
    let (s, v) = post_to(base, "/v1/auth/signup", None, body).await;
    assert_eq!(s, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

/// A create mutation of a fresh document.
pub fn create(kind: model::Kind, parent: Option<model::Id>, f: serde_json::Value) -> model::Mutation {
    model::Mutation {
        mutation_id: model::Id::now_v7(),
        doc_id: model::Id::now_v7(),
        base_version: 0,
        op: model::Op::Create { kind, parent_id: parent, order_key: Some("V".into()), fields: fields(f) },
    }
}

/// A set mutation.
pub fn set(doc: model::Id, base: u64, f: serde_json::Value) -> model::Mutation {
    model::Mutation { mutation_id: model::Id::now_v7(), doc_id: doc, base_version: base, op: model::Op::Set { fields: fields(f) } }
}

impl TestServer {
    /// Pushes a batch; the status and the raw body.
    pub async fn push(&self, token: &str, ws: model::Id, m: &[model::Mutation]) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::POST, &format!("/v1/workspaces/{ws}/push"), Some(token), Some(serde_json::json!({ "mutations": m })))
            .await
    }

    /// Pushes a batch that must be answered 200.
    pub async fn push_ok(&self, token: &str, ws: model::Id, m: &[model::Mutation]) -> protocol::PushResponse {
        let (s, v) = self.push(token, ws, m).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).unwrap()
    }

    /// Every document of a workspace changed after `after`, page by page.
    pub async fn pull_all(&self, token: &str, ws: model::Id, mut after: u64) -> Vec<model::Document> {
        let mut docs = Vec::new();
        for _ in 0..10_000 {
            let (s, v) = self.call(reqwest::Method::GET, &format!("/v1/workspaces/{ws}/changes?after={after}"), Some(token), None).await;
            assert_eq!(s, 200, "{v}");
            let page: protocol::Changes = serde_json::from_value(v).unwrap();
            docs.extend(page.docs);
            after = page.next;
            if !page.more {
                return docs;
            }
        }
        panic!("a pull never ended");
    }
}
