//! The CLI's promises to scripts and people, through the real binary: global
//! options anywhere, JSON errors with documented exit codes, a quiet end on
//! a closed pipe, honest states, fresh reads, paths, `edit`, one way to
//! resolve, sign-out that keeps no conflict silently, ended sessions that say
//! why and keep the work, and background sync that waits out a sign-out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Device, Server, bin, eventually, stderr, stdout, two_devices};

/// The JSON error a failed `--json` command printed, and its exit code.
fn failure(d: &Device, args: &[&str]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = d.try_run(&all);
    let err = stderr(&out);
    let line = err.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("`{}` printed no JSON error ({e}): {err}", all.join(" ")));
    (out.status.code().unwrap_or(-1), v)
}

fn conflicts(d: &Device) -> Vec<Value> {
    d.json(&["conflicts"]).as_array().cloned().unwrap_or_default()
}

/// One request both devices edited, on `name` and `url`: a conflict on `b`.
fn conflict_on_two_fields(a: &Device, b: &Device) -> (String, i64) {
    let col = a.create("collection", &["--set", "name=Shared"]);
    let req = a.create("request", &["--parent", &col, "--set", "name=Get", "--set", "url=https://a"]);
    b.run(&["sync"]);
    a.run(&["--offline", "set", &req, "name=From laptop", "url=https://laptop"]);
    b.run(&["--offline", "set", &req, "name=From desktop", "url=https://desktop"]);
    a.run(&["sync"]);
    b.run(&["sync"]);
    let list = conflicts(b);
    assert_eq!(list.len(), 1, "{list:?}");
    (req, list[0]["id"].as_i64().unwrap())
}

#[test]
fn global_options_go_before_or_after_the_verb() {
    let d = Device::new("laptop");
    let dir = d.dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(bin()).args(args).stdin(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e})"))
    };
    let before = run(&["--json", "--profile", dir, "--offline", "workspaces"]);
    let after = run(&["workspaces", "--json", "--profile", dir, "--offline"]);
    assert_eq!(before, after);
    assert!(before.is_array(), "{before}");
    // Every verb that prints takes --json, logout and device sign-out included.
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let b_id = b.status()["device_id"].as_str().unwrap().to_string();
    assert_eq!(a.json(&["devices", "sign-out", &b_id])["signed_out"], b_id.as_str());
    assert_eq!(a.json(&["logout"])["signed_out"], true);
}

#[test]
fn errors_are_json_on_stderr_with_documented_exit_codes() {
    let mut server = Server::start();
    let d = Device::new("laptop");
    let (code, v) = failure(&d, &["ls", "--no-such-flag"]);
    assert_eq!((code, v["error"]["code"].as_str()), (2, Some("usage")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("--no-such-flag"), "{v}");
    let (code, v) = failure(&d, &["sync"]);
    assert_eq!((code, v["error"]["code"].as_str()), (3, Some("not_signed_in")), "{v}");
    let (code, v) = failure(&d, &["login", "--server", &server.url, "--user", "nobody"]);
    assert_eq!(code, 6, "a refusal by the server: {v}");
    d.signup(&server, "ann");
    let (code, v) = failure(&d, &["show", "No such/path"]);
    assert_eq!((code, v["error"]["code"].as_str()), (7, Some("not_found")), "{v}");
    d.create("collection", &["--offline", "--set", "name=Waiting"]);
    server.kill();
    let (code, v) = failure(&d, &["sync"]);
    assert_eq!((code, v["error"]["code"].as_str()), (4, Some("unreachable")), "{v}");
    let (code, v) = failure(&d, &["logout"]);
    assert_eq!((code, v["error"]["code"].as_str()), (5, Some("unsynced_changes")), "{v}");
    // Without --json the same failure is text, with the same code.
    let out = d.try_run(&["sync"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let d = Device::new("laptop");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/postman/postman2openapi/postman-api.postman.json");
    d.run(&["--offline", "import", fixture.to_str().unwrap()]);
    for args in [vec!["ls", "--json"], vec!["completions", "zsh"]] {
        let mut child = d.cmd(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader goes away after 16 bytes, as `head -c 16` does.
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "`{}` complained: {err}", args.join(" "));
        assert_ne!(out.status.code(), Some(101), "`{}` panicked", args.join(" "));
    }
}

#[test]
fn status_is_offline_when_nothing_talks_to_the_server_and_never_in_sync_with_changes_waiting() {
    let mut server = Server::start();
    let d = Device::new("laptop");
    d.signup(&server, "ann");
    d.create("collection", &["--offline", "--set", "name=Later"]);
    let s = d.json(&["--offline", "status"]);
    assert_eq!((s["state"].as_str(), s["pending"].as_u64()), (Some("offline"), Some(1)), "{s}");
    assert!(s["reason"].as_str().unwrap().contains("--offline"), "{s}");
    let s = d.json(&["status", "--cached"]);
    assert_eq!(s["state"], "offline", "nothing is connected, and a change waits: {s}");
    assert!(s["reason"].as_str().unwrap().contains("1 changes wait"), "{s}");
    let s = d.status();
    assert_eq!((s["state"].as_str(), s["pending"].as_u64()), (Some("in_sync"), Some(0)), "{s}");
    server.kill();
    let started = Instant::now();
    let s = d.json(&["status", "--cached"]);
    // Generous: the point is that it does not wait on the dead server.
    assert!(started.elapsed() < Duration::from_secs(5), "status --cached waited {:?}", started.elapsed());
    assert_eq!(s["state"], "offline", "{s}");
    let s = d.status();
    assert_eq!(s["state"], "offline", "{s}");
    assert!(s["reason"].as_str().unwrap().contains("unreachable"), "{s}");
}

#[test]
fn reads_pull_first_and_say_when_they_could_not() {
    let mut server = Server::start();
    let (a, b) = two_devices(&server);
    let col = a.create("collection", &["--set", "name=Orders API"]);
    // b never ran `sync`: the collection exists only on the server.
    let req = b.create("request", &["--parent", &col, "--set", "name=List orders"]);
    assert!(b.docs().as_array().unwrap().iter().any(|d| d["id"] == req.as_str()));
    a.create("request", &["--parent", &col, "--set", "name=Create order"]);
    let shown = b.run(&["ls"]);
    assert!(shown.contains("Create order"), "ls did not pull first: {shown}");
    server.kill();
    let out = b.try_run(&["ls"]);
    assert!(out.status.success());
    assert!(stderr(&out).contains("may be stale"), "{}", stderr(&out));
}

#[test]
fn documents_are_named_by_path_and_edited_in_an_editor() {
    let d = Device::new("laptop");
    d.run(&["--offline", "create", "collection", "--set", "name=Orders API"]);
    d.run(&["--offline", "create", "folder", "--parent", "Orders API", "--set", "name=v2"]);
    let id = d.create("request", &["--offline", "--parent", "Orders API/v2", "--set", "name=List orders", "--set", "method=GET"]);
    let shown = d.json(&["--offline", "show", "Orders API/v2/List orders"]);
    assert_eq!(shown["id"], id.as_str());
    // The editor is any command taking the file: here, sed renames the request.
    let out = d.cmd(&["--offline", "edit", "Orders API/v2/List orders"]).env("EDITOR", "sed -i s/List/Fetch/").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("changed name"), "{}", stdout(&out));
    assert_eq!(d.json(&["--offline", "show", &id])["fields"]["name"], "Fetch orders");
    // Text that is not JSON changes nothing and is kept.
    let out = d.cmd(&["--offline", "edit", &id]).env("EDITOR", "sed -i s/^{/oops/").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let kept = err.split("kept in ").nth(1).map(str::trim).unwrap_or_else(|| panic!("no kept file named: {err}"));
    assert!(std::fs::read_to_string(kept).unwrap().starts_with("oops"));
    let _ = std::fs::remove_file(kept);
    assert_eq!(d.json(&["--offline", "show", &id])["fields"]["name"], "Fetch orders");
}

#[test]
fn json_typed_into_a_text_field_is_kept_as_text() {
    let d = Device::new("laptop");
    let col = d.create("collection", &["--offline", "--set", "name=C"]);
    let req = d.create("request", &["--offline", "--parent", &col, "--set", "name=R"]);
    let res = d.create("response", &["--offline", "--parent", &req, "--set", "name=OK", "--set", r#"body={"id":1}"#]);
    assert_eq!(d.json(&["--offline", "show", &res])["fields"]["body"], r#"{"id":1}"#);
}

#[test]
fn resolving_names_what_each_field_kept_and_takes_nothing_silently() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let (req, n) = conflict_on_two_fields(&a, &b);
    let n = n.to_string();
    // Naming one field without a default is refused, naming the other.
    let out = b.try_run(&["resolve", &n, "--field", "name=mine"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("'url'") && stderr(&out).contains("--theirs"), "{}", stderr(&out));
    // `conflicts resolve` is the same verb: a default for the rest, stated.
    let out = b.json(&["conflicts", "resolve", &n, "--theirs", "--field", "name=mine"]);
    assert_eq!(out["mine"], serde_json::json!(["name"]));
    assert_eq!(out["theirs"], serde_json::json!(["url"]));
    assert_eq!(out["default"], "theirs");
    b.run(&["sync"]);
    let doc = b.json(&["show", &req]);
    assert_eq!((doc["fields"]["name"].as_str(), doc["fields"]["url"].as_str()), (Some("From desktop"), Some("https://laptop")));
}

#[test]
fn logout_refuses_while_conflicts_wait_and_force_says_what_it_discards() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    conflict_on_two_fields(&a, &b);
    let out = b.try_run(&["logout"]);
    assert_eq!(out.status.code(), Some(5));
    let err = stderr(&out);
    assert!(err.contains("conflict") && err.contains("'From desktop'") && err.contains("export --all"), "{err}");
    assert_eq!(conflicts(&b).len(), 1, "the refused logout kept the conflict");
    let done = b.json(&["logout", "--force"]);
    assert_eq!(done["discarded"]["conflicts"].as_array().map(Vec::len), Some(1), "{done}");
}

#[test]
fn a_deleted_account_says_so_and_keeps_unsynced_work_exportable() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let col = a.create("collection", &["--set", "name=Kept"]);
    b.run(&["sync"]);
    b.run(&["--offline", "set", &col, "name=Unsynced on desktop"]);
    a.run(&["account", "delete", "--yes"]);
    let (code, v) = failure(&b, &["sync"]);
    assert_eq!((code, v["error"]["code"].as_str()), (3, Some("account_deleted")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("deleted"), "{v}");
    let s = b.status();
    assert_eq!(s["state"], "error", "{s}");
    assert!(s["reason"].as_str().unwrap().contains("deleted"), "{s}");
    let file = b.dir.path().join("backup.json");
    b.run(&["export", "--all", "-o", file.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&file).unwrap().contains("Unsynced on desktop"));
    b.run(&["logout", "--force"]);
    assert_eq!(b.status()["user"], Value::Null);
}

#[test]
fn a_password_change_elsewhere_says_so() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let out = a.cmd(&["password", "change"]).env("APISYNC_NEW_PASSWORD", "a new horse battery staple").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, v) = failure(&b, &["sync"]);
    assert_eq!(code, 3, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("password was changed") && !msg.contains("from another device"), "{msg}");
}

#[test]
fn a_watcher_waits_out_a_sign_out_and_resumes_after_sign_in() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let mut watcher = b.cmd(&["sync", "--watch", "--for", "60", "--json"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    assert!(eventually(Duration::from_secs(20), || b.json(&["status", "--cached"])["watching"] == true));
    b.run(&["logout"]);
    assert!(b.login(&server, "ann").status.success());
    let col = a.create("collection", &["--set", "name=After sign-in"]);
    let arrived = eventually(Duration::from_secs(20), || {
        b.json(&["--offline", "ls"]).as_array().is_some_and(|l| l.iter().any(|d| d["id"] == col.as_str()))
    });
    let still_running = watcher.try_wait().unwrap().is_none();
    let _ = watcher.kill();
    let out = watcher.wait_with_output().unwrap();
    assert!(still_running, "the watcher ended at the sign-out");
    assert!(arrived, "the watcher did not resume after sign-in: {}", stdout(&out));
    assert!(stdout(&out).contains("waiting for a sign-in"), "{}", stdout(&out));
}

#[test]
fn service_install_writes_a_unit_that_watches_this_profile() {
    let d = Device::new("laptop");
    let config = tempfile::tempdir().unwrap();
    let run = |verb: &str| {
        let mut args = vec!["service", verb];
        if verb == "install" {
            args.push("--no-start");
        }
        let out = d.cmd(&args).env("XDG_CONFIG_HOME", config.path()).env("PATH", "/nonexistent").output().unwrap();
        assert!(out.status.success(), "{verb}: {}", stderr(&out));
    };
    run("install");
    let unit = config.path().join("systemd/user/apisync-sync.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains(&format!("--profile \"{}\" sync --watch", d.dir.path().display())), "{text}");
    assert!(text.contains("Restart=always"));
    run("uninstall");
    assert!(!unit.exists());
}

#[test]
fn help_version_completions_and_no_colour_when_redirected() {
    let out = Command::new(bin()).args(["serve", "--help"]).output().unwrap();
    let help = stdout(&out);
    assert!(help.contains("--addr") && !help.contains("--profile") && !help.contains("--offline"), "{help}");
    let out = Command::new(bin()).arg("--version").output().unwrap();
    assert!(stdout(&out).starts_with("apisync "), "{}", stdout(&out));
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(bin()).args(["completions", shell]).output().unwrap();
        assert!(out.status.success() && stdout(&out).contains("apisync"), "{shell}");
    }
    // The server's log, sent to a file, carries no colour codes.
    let dir = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut server = Command::new(bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let logged =
        eventually(Duration::from_secs(20), || std::fs::read_to_string(dir.path().join("log")).is_ok_and(|l| l.contains("listening")));
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(dir.path().join("log")).unwrap();
    assert!(logged, "{text}");
    assert!(!text.contains('\u{1b}'), "colour codes in a redirected log: {text}");
}
