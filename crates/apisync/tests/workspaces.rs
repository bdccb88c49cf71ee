//! Workspaces managed from the command line on the real server: renamed
//! (seen live by a watching device), deleted by their owner (members'
//! devices drop them), and names the account already has refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;
use serde_json::Value;
use std::time::Duration;
use support::{Device, Server, eventually, stderr};

/// The workspace of this id as the device lists it.
fn listed(d: &Device, id: &str) -> Option<Value> {
    d.json(&["--offline", "workspaces"]).as_array()?.iter().find(|w| w["id"] == id).cloned()
}

/// The JSON error a failed `--json` verb printed on stderr.
fn json_error(out: &std::process::Output) -> Value {
    serde_json::from_str(stderr(out).trim()).unwrap_or_else(|e| panic!("stderr is not a JSON error ({e}): {}", stderr(out)))
}

#[test]
fn a_rename_and_a_delete_reach_a_watching_device_live() {
    let server = Server::start();
    let a = Device::new("ann-laptop");
    let b = Device::new("ann-desktop");
    a.signup(&server, "ann");
    assert!(b.login(&server, "ann").status.success());
    let ws = a.json(&["workspace", "create", "Old name"])["id"].as_str().unwrap().to_string();
    b.run(&["sync"]);
    assert_eq!(listed(&b, &ws).expect("b has the workspace")["name"], "Old name");

    let mut watcher =
        b.cmd(&["sync", "--watch", "--for", "20"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let watching = eventually(Duration::from_secs(10), || b.status()["watching"] == true);
    let renamed = a.json(&["workspace", "rename", "Old name", "New name"]);
    let seen = watching && eventually(Duration::from_secs(10), || listed(&b, &ws).is_some_and(|w| w["name"] == "New name"));
    let deleted = a.json(&["workspace", "delete", &ws, "--yes"]);
    let dropped = seen && eventually(Duration::from_secs(10), || listed(&b, &ws).is_none());
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(watching, "the watcher never reported in");
    assert_eq!(
        (renamed["id"].as_str(), renamed["name"].as_str(), renamed["previous"].as_str()),
        (Some(ws.as_str()), Some("New name"), Some("Old name"))
    );
    assert!(seen, "the new name did not reach the watching device without a manual sync");
    assert_eq!((deleted["deleted"].as_str(), deleted["name"].as_str()), (Some(ws.as_str()), Some("New name")));
    assert!(listed(&a, &ws).is_none(), "the deleting device still lists it");
    assert!(dropped, "the deleted workspace stayed on the watching device");
}

#[test]
fn the_owner_deletes_a_workspace_and_a_members_device_drops_it() {
    let server = Server::start();
    let ann = Device::new("ann-laptop");
    let bob = Device::new("bob-laptop");
    ann.signup(&server, "ann");
    bob.signup(&server, "bob");
    let ws = ann.json(&["workspace", "create", "Doomed"])["id"].as_str().unwrap().to_string();
    let col = ann.create("collection", &["--workspace", "Doomed", "--set", "name=Users"]);
    ann.json(&["team", "create", "Platform"]);
    ann.json(&["team", "invite", "Platform", "bob", "--role", "editor"]);
    bob.json(&["team", "accept", "Platform"]);
    ann.json(&["workspace", "share", "Doomed", "--team", "Platform"]);
    bob.run(&["sync"]);
    assert_eq!(listed(&bob, &ws).expect("bob has the shared workspace")["role"], "editor");

    // A member is refused by the server, clearly, with its exit code.
    let out = bob.try_run(&["workspace", "delete", "Doomed", "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let e = json_error(&out);
    assert_eq!(e["error"]["code"], "forbidden", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("owner"), "{e}");

    // Without --yes and with no terminal to ask on, it refuses at once.
    let out = ann.try_run(&["workspace", "delete", "Doomed"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(listed(&ann, &ws).is_some(), "refused, yet deleted");

    let text = ann.run(&["workspace", "delete", "Doomed", "--yes"]);
    assert!(text.contains("Doomed") && text.contains("deleted"), "{text}");
    assert!(listed(&ann, &ws).is_none());
    assert!(!ann.try_run(&["--offline", "show", &col]).status.success());
    let out = ann.try_run(&["workspace", "delete", &ws, "--yes"]);
    assert_eq!(out.status.code(), Some(7), "a deleted workspace is not found: {}", stderr(&out));

    // The member's device drops it at its next sync.
    bob.run(&["sync"]);
    assert!(listed(&bob, &ws).is_none(), "bob still has the deleted workspace");
    assert!(!bob.try_run(&["--offline", "show", &col]).status.success());
}

#[test]
fn a_name_the_account_already_has_needs_allow_duplicate() {
    let server = Server::start();
    let ann = Device::new("ann-laptop");
    ann.signup(&server, "ann");
    ann.json(&["workspace", "create", "Team API"]);

    let out = ann.try_run(&["workspace", "create", "  team api ", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = json_error(&out);
    assert_eq!(e["error"]["code"], "usage", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("--allow-duplicate"), "{e}");
    let names = |d: &Device| -> Vec<String> {
        d.json(&["--offline", "workspaces"]).as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&ann).iter().filter(|n| n.eq_ignore_ascii_case("team api")).count(), 1, "a refused create created something");
    let copy = ann.json(&["workspace", "create", "Team API", "--allow-duplicate"])["id"].as_str().unwrap().to_string();

    // The same for a rename; renaming a workspace to its own name in another case is fine.
    let other = ann.json(&["workspace", "create", "Other"])["id"].as_str().unwrap().to_string();
    let out = ann.try_run(&["workspace", "rename", &other, "TEAM API"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--allow-duplicate"), "{}", stderr(&out));
    ann.json(&["workspace", "rename", &other, "other"]);
    ann.json(&["workspace", "rename", &copy, "Team API v2"]);
    ann.json(&["workspace", "rename", &other, "team api v2", "--allow-duplicate"]);
    let mut got = names(&ann);
    got.sort();
    assert_eq!(got, vec!["My Workspace", "Team API", "Team API v2", "team api v2"].into_iter().map(String::from).collect::<Vec<_>>());
}
