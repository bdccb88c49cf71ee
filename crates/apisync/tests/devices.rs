//! End to end: the real `apisync serve` on a free port and several device
//! profiles driven through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use std::time::Duration;
use support::{Device, LossyProxy, Server, eventually, stderr, stdout, two_devices};

/// The documents of a device, keyed and cleaned for comparing two devices.
fn comparable(docs: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = docs
        .as_array()
        .unwrap_or_else(|| panic!("ls --json is not an array: {docs}"))
        .iter()
        .map(|d| serde_json::json!({"id": d["id"], "kind": d["kind"], "parent_id": d["parent_id"], "order_key": d["order_key"], "fields": d["fields"], "deleted": d["deleted"]}))
        .collect();
    out.sort_by_key(|d| d["id"].as_str().unwrap_or_default().to_string());
    out
}

fn find<'a>(docs: &'a Value, id: &str) -> Option<&'a Value> {
    docs.as_array()?.iter().find(|d| d["id"] == id)
}

fn names(docs: &Value, kind: &str) -> Vec<String> {
    docs.as_array().unwrap().iter().filter(|d| d["kind"] == kind).filter_map(|d| d["fields"]["name"].as_str().map(str::to_string)).collect()
}

#[test]
fn create_on_one_device_appears_on_the_other_after_sync() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let col = a.create("collection", &["--set", "name=Orders API"]);
    let req = a.create(
        "request",
        &["--parent", &col, "--set", "name=List orders", "--set", "method=GET", "--set", "url=https://api.example.com/orders"],
    );
    b.run(&["sync"]);
    let docs = b.docs();
    assert_eq!(find(&docs, &req).unwrap()["fields"]["url"], "https://api.example.com/orders");
    assert_eq!(find(&docs, &req).unwrap()["parent_id"], col.as_str());
    assert_eq!(comparable(&a.docs()), comparable(&docs));
}

#[test]
fn a_change_reaches_a_watching_device_live() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let mut watcher =
        b.cmd(&["sync", "--watch", "--for", "60"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    assert!(eventually(Duration::from_secs(20), || b.status()["watching"] == true), "the watcher never reported in");
    let col = a.create("collection", &["--set", "name=Live"]);
    let arrived = eventually(Duration::from_secs(10), || find(&b.json(&["ls", "--offline"]), &col).is_some());
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(arrived, "the change did not reach the watching device without a manual sync");
}

#[test]
fn edits_made_while_the_server_is_down_are_kept_and_delivered() {
    let mut server = Server::start();
    let (a, b) = two_devices(&server);
    server.kill();
    let col = a.create("collection", &["--set", "name=Written offline"]);
    a.run(&["set", &col, "description=still offline"]);
    let status = a.status();
    assert_eq!(status["state"], "offline", "{status}");
    assert_eq!(status["pending"], 2, "{status}");

    server.restart();
    a.run(&["sync"]);
    assert_eq!(a.status()["pending"], 0);
    b.run(&["sync"]);
    let d = find(&b.docs(), &col).cloned().expect("the offline edit reached the other device");
    assert_eq!(d["fields"]["description"], "still offline");
}

#[test]
fn a_fourth_device_is_refused_with_the_devices_and_the_way_out() {
    let server = Server::start();
    let devices: Vec<Device> = ["one", "two", "three", "four"].iter().map(|n| Device::new(n)).collect();
    devices[0].signup(&server, "ann");
    for d in &devices[1..3] {
        assert!(d.login(&server, "ann").status.success());
    }
    let out = devices[3].login(&server, "ann");
    assert!(!out.status.success(), "a fourth device signed in");
    let msg = stderr(&out);
    for name in ["one", "two", "three", "devices sign-out", "--replace"] {
        assert!(msg.contains(name), "the refusal does not mention {name:?}: {msg}");
    }
    let listed = devices[0].json(&["devices"]);
    let listed = listed.as_array().or_else(|| listed["devices"].as_array()).cloned().unwrap();
    assert_eq!(listed.len(), 3);
    let two = listed.iter().find(|d| d["name"] == "two").unwrap()["id"].as_str().unwrap().to_string();
    devices[0].run(&["devices", "sign-out", &two]);
    assert!(devices[3].login(&server, "ann").status.success(), "the freed slot was not usable");
}

#[test]
fn sign_out_wipes_the_device_and_sign_in_restores_identical_data() {
    let server = Server::start();
    let a = Device::new("laptop");
    a.signup(&server, "ann");
    let col = a.create("collection", &["--set", "name=Kept"]);
    let folder = a.create("folder", &["--parent", &col, "--set", "name=Inner"]);
    a.create("request", &["--parent", &folder, "--set", "name=R1", "--set", "method=POST", "--set", r#"body={"mode":"raw","raw":"{}"}"#]);
    let env = a.create("environment", &["--set", "name=Prod"]);
    a.create("variable", &["--parent", &env, "--set", "key=token", "--set", "value=abc", "--set", "type=secret"]);
    let before = comparable(&a.docs());

    a.run(&["logout"]);
    let after_logout = a.docs();
    assert!(find(&after_logout, &col).is_none(), "account data survived sign-out");
    assert_eq!(a.status()["state"], "offline");

    assert!(a.login(&server, "ann").status.success());
    assert_eq!(comparable(&a.docs()), before, "sign-in did not restore the same data");
}

#[test]
fn a_device_killed_between_edit_and_sync_loses_nothing() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    // Freeze the server so the edit's sync hangs, then kill the device mid-sync.
    let pid = server.pid().to_string();
    assert!(std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    let mut child = a
        .cmd(&["create", "collection", "--set", "name=Survivor"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let saved =
        eventually(Duration::from_secs(20), || names(&a.json(&["ls", "--offline"]), "collection").contains(&"Survivor".to_string()));
    let _ = child.kill();
    let _ = child.wait();
    assert!(std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap().success());
    assert!(saved, "the edit was not written locally before the sync");
    a.run(&["sync"]);
    b.run(&["sync"]);
    assert_eq!(names(&b.docs(), "collection"), vec!["Survivor".to_string()]);
}

#[test]
fn a_push_whose_answer_was_lost_is_applied_once() {
    let server = Server::start();
    let proxy = LossyProxy::start(&server.addr);
    let a = Device::new("laptop");
    let b = Device::new("desktop");
    let email = "ann@example.com";
    a.run(&["signup", "--server", &proxy.url, "--email", email, "--username", "ann", "--device-name", "laptop"]);
    assert!(b.login(&server, "ann").status.success());

    proxy.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    let col = a.create("collection", &["--set", "name=Once"]);
    assert!(proxy.dropped.load(std::sync::atomic::Ordering::SeqCst), "the proxy never lost an answer");
    assert_eq!(a.status()["pending"], 0, "the retry did not complete");
    a.run(&["sync"]);
    b.run(&["sync"]);
    let docs = b.docs();
    assert_eq!(names(&docs, "collection"), vec!["Once".to_string()], "applied more or less than once");
    assert!(find(&docs, &col).is_some());
    let conflicts = a.json(&["conflicts"]);
    assert_eq!(conflicts.as_array().map(Vec::len), Some(0), "the retry was refused: {conflicts}");
}

#[test]
fn two_devices_editing_one_field_make_one_conflict() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let col = a.create("collection", &["--set", "name=Shared"]);
    b.run(&["sync"]);
    a.run(&["--offline", "set", &col, "name=From laptop"]);
    b.run(&["--offline", "set", &col, "name=From desktop", "description=desktop's note"]);
    a.run(&["sync"]);
    b.run(&["sync"]);
    let conflicts = b.json(&["conflicts"]);
    let list = conflicts.as_array().unwrap();
    assert_eq!(list.len(), 1, "{conflicts}");
    let text = list[0].to_string();
    assert!(text.contains("From laptop") && text.contains("From desktop"), "mine and theirs are both kept: {text}");
    assert_eq!(b.status()["conflicts"], 1);
    let doc = find(&b.docs(), &col).cloned().unwrap();
    assert_eq!(doc["fields"]["description"], "desktop's note", "the other field merged");
}

#[test]
fn status_reports_exactly_one_of_the_five_states() {
    let mut server = Server::start();
    let a = Device::new("laptop");
    let s = a.status();
    assert_eq!(s["state"], "offline");
    assert_eq!(s["scratch_pad"], true);
    a.signup(&server, "ann");
    let s = a.status();
    assert_eq!(s["state"], "in_sync", "{s}");
    assert_eq!(s["user"], "ann");
    server.kill();
    let s = a.status();
    assert_eq!(s["state"], "offline", "{s}");
    assert!(s["reason"].as_str().is_some_and(|r| !r.is_empty()), "{s}");
    server.restart();
    assert_eq!(a.status()["state"], "in_sync");
}

#[test]
fn a_device_signed_out_from_elsewhere_keeps_its_unsynced_changes() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let b_id = b.status()["device_id"].as_str().unwrap().to_string();
    let col = b.create("collection", &["--set", "name=Before"]);
    b.run(&["--offline", "set", &col, "name=Unsynced on desktop"]);
    a.run(&["devices", "sign-out", &b_id]);
    let s = b.status();
    assert_eq!(s["state"], "error", "{s}");
    assert!(s["reason"].as_str().unwrap().contains("signed out"), "{s}");
    assert_eq!(s["pending"], 1);
    assert!(b.login(&server, "ann").status.success());
    assert_eq!(b.status()["pending"], 0);
    a.run(&["sync"]);
    assert_eq!(find(&a.docs(), &col).unwrap()["fields"]["name"], "Unsynced on desktop");
}

#[test]
fn bad_input_is_refused_clearly_and_writes_nothing() {
    let server = Server::start();
    let a = Device::new("laptop");
    a.signup(&server, "ann");
    let col = a.create("collection", &["--set", "name=C"]);
    let env = a.create("environment", &["--set", "name=E"]);
    let before = a.docs();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["create", "spaceship"], "unknown kind"),
        (vec!["create", "collection", "--set", "nmae=typo"], "nmae"),
        (vec!["create", "request", "--parent", &env, "--set", "name=R"], "environment"),
        (vec!["create", "folder", "--set", "name=F"], "parent"),
        (vec!["set", "0190b5a0-0000-7000-8000-000000000000", "name=x"], "0190b5a0-0000-7000-8000-000000000000"),
        (vec!["set", &col, "event=3"], "array"),
    ];
    for (args, hint) in cases {
        let out = a.try_run(&args);
        assert!(!out.status.success(), "`{}` succeeded", args.join(" "));
        let msg = stderr(&out);
        assert!(msg.to_lowercase().contains(&hint.to_lowercase()), "`{}` said: {msg}", args.join(" "));
        assert!(stdout(&out).is_empty() || !stdout(&out).contains("\"id\""), "{}", stdout(&out));
    }
    assert_eq!(comparable(&a.docs()), comparable(&before), "a refused command changed something");
    let bad_login = a.try_run(&["login", "--server", "http://127.0.0.1:9", "--user", "ann"]);
    assert!(!bad_login.status.success());
}
