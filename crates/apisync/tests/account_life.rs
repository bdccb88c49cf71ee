//! The account's life cycle through the real binary: a password reset from
//! the mail outbox, username recovery, a password change, and deleting the
//! account, which its other device notices at its next sync.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;
use support::{Device, PASSWORD, Server};

fn with_passwords(d: &Device, args: &[&str], current: &str, new: &str) -> Output {
    d.cmd(args).env("APISYNC_PASSWORD", current).env("APISYNC_NEW_PASSWORD", new).output().unwrap()
}

/// The outbox once it holds `n` messages: the server answers before its
/// mail queue writes them.
fn outbox_of(server: &Server, n: usize) -> Vec<String> {
    assert!(support::eventually(Duration::from_secs(10), || outbox(server).len() >= n), "no mail {n} in the outbox");
    outbox(server)
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", support::stdout(o), support::stderr(o));
    support::stdout(o)
}

fn outbox(server: &Server) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(server.data.join("mail-outbox")) else { return Vec::new() };
    let mut files: Vec<_> = dir.flatten().map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "eml"));
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

#[test]
fn reset_change_and_delete_an_account() {
    let server = Server::start();
    let a = Device::new("laptop");
    let b = Device::new("desktop");
    a.signup(&server, "ann");
    assert!(b.login(&server, "ann").status.success());
    let col = a.create("collection", &["--set", "name=Mine"]);
    b.run(&["sync"]);

    // Forgot: the token arrives in the outbox; reset from a signed-out profile.
    let c = Device::new("phone");
    let msg = c.json(&["password", "forgot", "--server", &server.url, "--user", "ann@example.com"]);
    assert!(msg["message"].as_str().unwrap().contains("reset token"));
    let mail = outbox_of(&server, 1);
    assert_eq!(mail.len(), 1);
    let token = mail[0].split("--token ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let bad = with_passwords(&c, &["password", "reset", "--server", &server.url, "--token", "apr_wrong"], "", "a whole new password");
    assert!(!bad.status.success() && support::stderr(&bad).contains("apisync password forgot"), "{}", support::stderr(&bad));
    ok(&with_passwords(&c, &["password", "reset", "--server", &server.url, "--token", &token], "", "a whole new password"));
    // Both devices were signed out, keep their data, and sign in with the new password.
    let st = a.status();
    assert_eq!(st["state"], "error", "{st}");
    assert!(st["reason"].as_str().unwrap().contains("password was reset"), "{st}");
    for d in [&a, &b] {
        ok(&with_passwords(d, &["login", "--server", &server.url, "--user", "ann"], "a whole new password", ""));
    }

    // Username recovery.
    let out = ok(&c.cmd(&["username", "recover", "--server", &server.url, "--email", "ann@example.com"]).output().unwrap());
    assert!(out.contains("username"), "{out}");
    assert!(outbox_of(&server, 2)[1].contains("--user ann"));

    // Change: this device stays, the other signs in again.
    let wrong = with_passwords(&a, &["password", "change"], "not it at all", "third password!");
    assert!(!wrong.status.success() && support::stderr(&wrong).contains("current password is wrong"));
    ok(&with_passwords(&a, &["password", "change"], "a whole new password", "third password!"));
    a.run(&["sync"]);
    assert_eq!(b.status()["state"], "error");
    ok(&with_passwords(&b, &["login", "--server", &server.url, "--user", "ann"], "third password!", ""));
    assert_eq!(b.json(&["show", &col])["fields"]["name"], "Mine");

    // Delete: refused while in a team, and without --yes when nobody can be asked.
    a.json(&["team", "create", "Solo"]);
    let refused = a.try_run(&["account", "delete", "--yes"]);
    assert!(!refused.status.success() && support::stderr(&refused).contains("team leave 'Solo'"), "{}", support::stderr(&refused));
    a.run(&["team", "leave", "Solo"]);
    let unconfirmed = a.try_run(&["account", "delete"]);
    assert!(!unconfirmed.status.success() && support::stderr(&unconfirmed).contains("--yes"));
    let done = a.json(&["account", "delete", "--yes"]);
    assert_eq!(done["deleted"], "ann");
    assert!(a.json(&["workspaces"]).as_array().unwrap().iter().all(|w| w["local_only"] == true));
    // The other device learns at its next contact and drops its copy.
    let out = b.try_run(&["sync"]);
    assert!(!out.status.success() && support::stderr(&out).contains("account was deleted"), "{}", support::stderr(&out));
    assert!(b.json(&["workspaces"]).as_array().unwrap().is_empty());
    assert!(!b.try_run(&["show", &col]).status.success());
    // The name is free again.
    let d = Device::new("fresh");
    let o = d
        .cmd(&["signup", "--server", &server.url, "--email", "ann@example.com", "--username", "ann"])
        .env("APISYNC_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    ok(&o);
}

/// A string no test data contains by chance, to look for in raw bytes.
fn marker(what: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{what}-{}-{nanos:x}", std::process::id())
}

/// The files under `dir` (recursively) whose raw bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                todo.push(path);
            } else if std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    }
    found
}

fn assert_gone(dir: &Path, markers: &[&String], when: &str) {
    for m in markers {
        assert_eq!(files_holding(dir, m), Vec::<PathBuf>::new(), "{m} is still readable {when}");
    }
}

fn assert_pad_kept(d: &Device, name: &str, when: &str) {
    let docs = d.json(&["ls", "--workspace", "Scratch Pad"]);
    assert!(docs.as_array().unwrap().iter().any(|d| d["fields"]["name"] == name), "{when} lost the scratch pad: {docs}");
}

#[test]
fn sign_out_leaves_no_byte_of_the_account_on_disk_and_keeps_the_scratch_pad() {
    let server = Server::start();
    let a = Device::new("laptop");
    let dir = a.dir.path();
    let (request, secret, current, pad) = (marker("request"), marker("secret"), marker("current"), marker("pad"));

    // Signed out: work in the scratch pad; it must outlive every sign-out.
    a.create("collection", &["--set", &format!("name={pad}")]);
    a.signup(&server, "ann");
    let col = a.create("collection", &["--set", "name=Work"]);
    a.create("request", &["--parent", &col, "--set", &format!("name={request}"), "--set", "method=GET", "--set", "url=https://x"]);
    let env = a.create("environment", &["--set", "name=Prod"]);
    let var = a.create("variable", &["--parent", &env, "--set", "key=token", "--set", &format!("value={secret}"), "--set", "type=secret"]);
    a.run(&["set", &var, &format!("current={current}")]);
    a.run(&["sync"]);
    assert_eq!(a.status()["pending"], 0);
    // The search works: before sign-out every marker is on disk.
    for m in [&request, &secret, &current, &pad] {
        assert!(!files_holding(dir, m).is_empty(), "{m} was never written to the profile");
    }

    a.run(&["logout"]);
    assert_gone(dir, &[&request, &secret, &current], "after sign-out");
    assert_pad_kept(&a, &pad, "sign-out");

    // Another account on the same profile: still nothing of ann's.
    a.signup(&server, "bob");
    a.create("collection", &["--set", "name=Bob's"]);
    a.run(&["sync"]);
    assert_gone(dir, &[&request, &secret, &current], "after another account signed in");
    assert_pad_kept(&a, &pad, "sign-in");

    // Signing in as another account over a session, with no sign-out in
    // between, erases the same way, unsynced changes included.
    a.run(&["logout"]);
    assert!(a.login(&server, "ann").status.success());
    assert!(!files_holding(dir, &request).is_empty(), "sign-in did not restore ann's data");
    let unsynced = marker("unsynced");
    a.run(&["--offline", "create", "collection", "--set", &format!("name={unsynced}")]);
    a.run(&["login", "--server", &server.url, "--user", "bob", "--force"]);
    assert_gone(dir, &[&request, &secret, &unsynced], "after another account's forced sign-in");
    assert_pad_kept(&a, &pad, "a forced sign-in");
}

#[test]
fn sign_out_beside_a_running_watcher_leaves_nothing_either() {
    let server = Server::start();
    let (a, b) = (Device::new("laptop"), Device::new("desktop"));
    a.signup(&server, "ann");
    assert!(b.login(&server, "ann").status.success());
    let mut watcher = a.cmd(&["sync", "--watch", "--for", "60"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    assert!(support::eventually(Duration::from_secs(20), || a.status()["watching"] == true), "the watcher never reported in");
    let request = marker("request");
    b.create("collection", &["--set", &format!("name={request}")]);
    assert!(
        support::eventually(Duration::from_secs(20), || !files_holding(a.dir.path(), &request).is_empty()),
        "the watcher never stored the change"
    );

    // The other device keeps writing, so answers are on their way to the
    // watcher while this process signs out.
    let writing = std::thread::scope(|s| {
        let w = s.spawn(|| {
            for i in 0..6 {
                b.create("collection", &["--set", &format!("name={request}-{i}")]);
            }
        });
        std::thread::sleep(Duration::from_millis(300));
        a.run(&["logout"]);
        w.join()
    });
    assert!(writing.is_ok());
    // The watcher outlives the sign-out (it waits for the next sign-in) and
    // stores nothing more of the old session meanwhile.
    std::thread::sleep(Duration::from_secs(2));
    let waiting = watcher.try_wait().unwrap().is_none();
    assert_gone(a.dir.path(), &[&request], "after sign-out beside a watcher");
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(waiting, "the watcher ended at the sign-out instead of waiting for a sign-in");
}
