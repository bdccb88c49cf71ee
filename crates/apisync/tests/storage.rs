//! The embedded database through the real binary: `apisync serve` refuses a
//! data directory it cannot write, a stopped server leaves a complete
//! `apisync.db`, and `apisync backup` copies a running server's data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Server, bin};

/// Just enough of the HTTP API to make acknowledged changes.
struct Api {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Api { rt, http: reqwest::Client::new(), base: base.to_string() }
    }

    fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.rt.block_on(async {
            let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// Signs `name` up; the session token and the personal workspace.
    fn signup(&self, name: &str) -> (String, String) {
        let body = json!({"email": format!("{name}@example.com"), "username": name, "password": "correct horse",
            "device": {"id": uuid::Uuid::now_v7(), "name": "test"}});
        let (status, v) = self.post("/v1/auth/signup", None, body);
        assert_eq!(status, 200, "{v}");
        (v["token"].as_str().unwrap().to_string(), v["workspaces"][0]["id"].as_str().unwrap().to_string())
    }

    /// Pushes `n` environments in one batch; the ids the server acknowledged.
    fn push(&self, token: &str, ws: &str, n: usize, label: &str) -> Vec<String> {
        let mutations: Vec<Value> = (0..n)
            .map(|i| {
                json!({"mutation_id": uuid::Uuid::now_v7(), "doc_id": uuid::Uuid::now_v7(), "base_version": 0, "op": "create",
                    "kind": "environment", "order_key": "V", "fields": {"name": format!("{label} {i} {}", "p".repeat(400))}})
            })
            .collect();
        let ids = mutations.iter().map(|m| m["doc_id"].as_str().unwrap().to_string()).collect();
        let (status, v) = self.post(&format!("/v1/workspaces/{ws}/push"), Some(token), json!({ "mutations": mutations }));
        assert_eq!(status, 200, "{v}");
        ids
    }
}

/// The ids of the documents in a database file, after checking it is intact.
fn docs_in(db: &Path) -> std::collections::HashSet<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok", "{}", db.display());
    let mut stmt = conn.prepare("SELECT id FROM docs").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn a_server_stopped_by_sigterm_leaves_a_complete_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let mut server = Server::start_at(&data, "127.0.0.1:0");
    let api = Api::new(&server.url);
    let (token, ws) = api.signup("ann");
    let mut acked = Vec::new();
    for round in 0..10 {
        acked.extend(api.push(&token, &ws, 100, &format!("round {round}")));
    }
    assert!(server.stop(), "apisync serve did not exit cleanly on SIGTERM");
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(data.join("apisync.db"), copy.path().join("apisync.db")).unwrap();
    let found = docs_in(&copy.path().join("apisync.db"));
    let missing = acked.iter().filter(|id| !found.contains(*id)).count();
    assert_eq!(missing, 0, "{missing} of {} acknowledged documents are not in the copied apisync.db", acked.len());
}

/// `setpriv` runs a command as the unprivileged user 65534; `None` (said
/// loudly) where it is missing or not permitted.
fn as_nobody() -> Option<Command> {
    let probe = Command::new("setpriv").args(["--reuid=65534", "--regid=65534", "--clear-groups", bin(), "--version"]).output();
    match probe {
        Ok(out) if out.status.success() => {
            let mut cmd = Command::new("setpriv");
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()]);
            Some(cmd)
        }
        Ok(out) => {
            eprintln!("SKIPPED: cannot run apisync as user 65534 with setpriv: {}", String::from_utf8_lossy(&out.stderr).trim());
            None
        }
        Err(e) => {
            eprintln!("SKIPPED: setpriv (util-linux) is not available: {e}");
            None
        }
    }
}

/// Runs `apisync serve` as user 65534 on `data`: its exit status and stderr,
/// or a failure if it was still running after 30 s.
fn serve_as_nobody(mut cmd: Command, data: &Path) -> (bool, String) {
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("APISYNC_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return (status.success(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("apisync serve started on {}, a data directory it cannot write", data.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Today a read-only data directory started, answered every write with 500
/// "a bug" and said ok on /healthz.
#[test]
fn serve_refuses_a_data_directory_it_cannot_write() {
    use std::os::unix::fs::PermissionsExt;
    let Some(_) = as_nobody() else { return };
    let dir = tempfile::tempdir().unwrap();
    // User 65534 may enter and read everything here, and write nothing.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let with_data = dir.path().join("with-data");
    let mut server = Server::start_at(&with_data, "127.0.0.1:0");
    let api = Api::new(&server.url);
    let (token, ws) = api.signup("ann");
    api.push(&token, &ws, 10, "kept");
    assert!(server.stop());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    // The user owns the database file but not the directory SQLite must create its -wal and -shm in.
    let file_owned = dir.path().join("file-owned");
    std::fs::create_dir(&file_owned).unwrap();
    std::fs::copy(with_data.join("apisync.db"), file_owned.join("apisync.db")).unwrap();
    std::os::unix::fs::chown(file_owned.join("apisync.db"), Some(65534), Some(65534)).unwrap();
    for data in [&with_data, &empty, &file_owned] {
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (ok, err) = serve_as_nobody(as_nobody().unwrap(), data);
        assert!(!ok, "{err}");
        assert!(err.contains(&data.display().to_string()), "the message names the directory: {err}");
        assert!(err.contains("not writable by this user"), "the message says why: {err}");
        assert!(err.contains("chown") && err.contains("--data-dir"), "the message says what to do: {err}");
    }
}

#[test]
fn backup_copies_a_running_server_while_it_takes_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let mut server = Server::start_at(&data, "127.0.0.1:0");
    let api = Api::new(&server.url);
    let (token, ws) = api.signup("ann");
    let mut before = Vec::new();
    for round in 0..5 {
        before.extend(api.push(&token, &ws, 100, &format!("before {round}")));
    }
    // Pushes go on while the backups run.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pusher = {
        let (url, token, ws, stop) = (server.url.clone(), token.clone(), ws.clone(), stop.clone());
        std::thread::spawn(move || {
            let api = Api::new(&url);
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut rounds = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline && rounds < 500 {
                api.push(&token, &ws, 50, &format!("during {rounds}"));
                rounds += 1;
            }
            rounds
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("apisync-backup.db");
    let backup = |force: bool| {
        let mut cmd = Command::new(bin());
        cmd.args(["backup", "--data-dir"]).arg(&data).arg("-o").arg(&out);
        if force {
            cmd.arg("--force");
        }
        cmd.env_remove("APISYNC_DATA_DIR").output().unwrap()
    };
    let first = backup(false);
    assert!(first.status.success(), "{}", support::stderr(&first));
    let said = support::stdout(&first);
    assert!(said.contains(&out.display().to_string()) && said.contains("quick_check ok"), "{said}");
    let copied = docs_in(&out);
    assert!(before.iter().all(|id| copied.contains(id)), "a document acknowledged before the backup is missing from it");

    let refused = backup(false);
    assert!(!refused.status.success());
    assert!(support::stderr(&refused).contains("--force"), "{}", support::stderr(&refused));
    assert_eq!(docs_in(&out), copied, "a refused backup leaves the earlier one alone");
    let again = backup(true);
    assert!(again.status.success(), "{}", support::stderr(&again));
    assert!(docs_in(&out).len() >= copied.len());

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(pusher.join().unwrap() > 0, "no push ran during the backups");
    let names: Vec<String> = std::fs::read_dir(out_dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into()).collect();
    assert_eq!(names, vec!["apisync-backup.db".to_string()], "only the backup is left beside it");

    // The backup restores: a server starts on it and serves what it holds.
    assert!(server.stop());
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&out, restored.join("apisync.db")).unwrap();
    let server = Server::start_at(&restored, "127.0.0.1:0");
    let api = Api::new(&server.url);
    let (status, v) = api.post(
        "/v1/auth/login",
        None,
        json!({"user": "ann", "password": "correct horse", "device": {"id": uuid::Uuid::now_v7(), "name": "restored"}}),
    );
    assert_eq!(status, 200, "{v}");

    let empty = tempfile::tempdir().unwrap();
    let none =
        Command::new(bin()).args(["backup", "--data-dir"]).arg(empty.path()).arg("-o").arg(empty.path().join("x.db")).output().unwrap();
    assert!(!none.status.success());
    assert!(support::stderr(&none).contains("pg_dump"), "{}", support::stderr(&none));
}
