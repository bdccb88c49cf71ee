//! Two people and three devices on the real server: a team, a shared
//! workspace, conflicts a person resolves, and a member removed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;
use serde_json::Value;
use support::{Device, Server};

fn conflicts(d: &Device) -> Vec<Value> {
    d.json(&["conflicts"]).as_array().cloned().unwrap_or_default()
}

fn name_of(d: &Device, id: &str) -> Value {
    d.json(&["show", id])["fields"]["name"].clone()
}

#[test]
fn a_team_shares_a_workspace_and_people_resolve_conflicts() {
    let server = Server::start();
    let ann = Device::new("ann-laptop");
    let ann2 = Device::new("ann-desktop");
    let bob = Device::new("bob-laptop");
    ann.signup(&server, "ann");
    bob.signup(&server, "bob");
    assert_eq!(ann2.login(&server, "ann").status.code(), Some(0));

    // Ann's team and a workspace shared with it.
    let ws = ann.json(&["workspace", "create", "Team API"])["id"].as_str().unwrap().to_string();
    let col = ann.create("collection", &["--workspace", "Team API", "--set", "name=Users", "--set", "description=first"]);
    let team = ann.json(&["team", "create", "Platform"]);
    assert_eq!(team["role"], "admin");
    ann.json(&["team", "invite", "Platform", "bob@example.com", "--role", "editor"]);
    // Nobody joins without saying yes.
    assert_eq!(ann.json(&["team", "members", "Platform"])["members"].as_array().unwrap().len(), 1);
    let waiting = bob.json(&["team", "invitations"]);
    assert_eq!(waiting[0]["team_name"], "Platform", "{waiting}");
    let joined = bob.json(&["team", "accept", "Platform"]);
    assert_eq!(joined["role"], "editor");
    let shared = ann.json(&["workspace", "share", "Team API", "--team", "Platform"]);
    assert_eq!(shared["workspace"]["id"], ws.as_str());
    let listed = bob.json(&["team", "members", "Platform"]);
    let roles: Vec<(String, String)> = listed["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["username"].as_str().unwrap().into(), m["role"].as_str().unwrap().into()))
        .collect();
    assert_eq!(roles, vec![("ann".into(), "admin".into()), ("bob".into(), "editor".into())]);
    assert_eq!(bob.json(&["team", "list"])[0]["name"], "Platform");

    bob.run(&["sync"]);
    ann2.run(&["sync"]);
    let role = |d: &Device| {
        d.json(&["workspaces"]).as_array().unwrap().iter().find(|w| w["id"] == ws.as_str()).map(|w| w["role"].as_str().unwrap().to_string())
    };
    assert_eq!(role(&bob).as_deref(), Some("editor"));
    assert_eq!(role(&ann2).as_deref(), Some("owner"));
    assert_eq!(name_of(&bob, &col), "Users");

    // Same field from the same version: the first wins, the second gets a conflict.
    bob.run(&["--offline", "set", &col, "name=Bob's users"]);
    ann.run(&["set", &col, "name=Ann's users"]);
    bob.run(&["sync"]);
    let list = conflicts(&bob);
    assert_eq!(list.len(), 1, "{list:?}");
    let f = &list[0]["fields"][0];
    assert_eq!(
        (f["field"].as_str(), f["base"].as_str(), f["mine"].as_str(), f["theirs"].as_str()),
        (Some("name"), Some("Users"), Some("Bob's users"), Some("Ann's users"))
    );
    assert_eq!(bob.status()["conflicts"], 1);
    let text = bob.run(&["conflicts"]);
    assert!(text.contains("mine") && text.contains("theirs") && text.contains("Bob's users") && text.contains("Ann's users"), "{text}");
    // Resolving names every field; a wrong field is refused with its list.
    let id = list[0]["id"].as_i64().unwrap().to_string();
    let wrong = bob.try_run(&["resolve", &id, "--field", "url=mine"]);
    assert!(!wrong.status.success() && support::stderr(&wrong).contains("its fields are: name"), "{}", support::stderr(&wrong));
    bob.json(&["resolve", &id, "--mine"]);
    assert!(conflicts(&bob).is_empty());
    ann.run(&["sync"]);
    ann2.run(&["sync"]);
    for d in [&ann, &ann2, &bob] {
        assert_eq!(name_of(d, &col), "Bob's users", "{}", d.name);
    }

    // Different fields merge with no conflict.
    bob.run(&["--offline", "set", &col, "description=from bob"]);
    ann.run(&["set", &col, "name=Renamed by ann"]);
    bob.run(&["sync"]);
    assert!(conflicts(&bob).is_empty());
    ann2.run(&["sync"]);
    for d in [&ann2, &bob] {
        let doc = d.json(&["show", &col]);
        assert_eq!((doc["fields"]["name"].as_str(), doc["fields"]["description"].as_str()), (Some("Renamed by ann"), Some("from bob")));
    }

    // Edit against delete, kept the edit: the document comes back for everyone.
    let req = ann.create("request", &["--parent", &col, "--set", "name=List", "--set", "url=https://api.example.com/users"]);
    bob.run(&["sync"]);
    ann.run(&["--offline", "set", &req, "url=https://api.example.com/v2/users"]);
    bob.run(&["rm", &req]);
    ann.run(&["sync"]);
    let list = conflicts(&ann);
    assert_eq!(list.len(), 1, "{list:?}");
    ann.json(&["resolve", &list[0]["id"].as_i64().unwrap().to_string(), "--mine"]);
    bob.run(&["sync"]);
    ann2.run(&["sync"]);
    for d in [&ann, &ann2, &bob] {
        assert_eq!(d.json(&["show", &req])["fields"]["url"], "https://api.example.com/v2/users", "{}", d.name);
    }

    // Edit against delete, kept the delete: it is gone for everyone.
    bob.run(&["--offline", "set", &req, "name=Bob's list"]);
    ann.run(&["rm", &req]);
    bob.run(&["sync"]);
    let list = conflicts(&bob);
    assert_eq!(list.len(), 1, "{list:?}");
    bob.json(&["resolve", &list[0]["id"].as_i64().unwrap().to_string(), "--theirs"]);
    ann2.run(&["sync"]);
    for d in [&ann, &ann2, &bob] {
        assert!(!d.try_run(&["show", &req]).status.success(), "{} still has the deleted request", d.name);
    }

    // Removed from the team: bob's device drops the workspace at its next sync.
    ann.run(&["team", "remove", "Platform", "bob"]);
    bob.run(&["sync"]);
    assert_eq!(role(&bob), None);
    assert!(!bob.try_run(&["show", &col]).status.success());
    let out = bob.try_run(&["ls", "--workspace", "Team API"]);
    assert!(!out.status.success());
    assert!(bob.json(&["team", "list"]).as_array().unwrap().is_empty());
    // Ann's devices keep everything.
    assert_eq!(name_of(&ann2, &col), "Renamed by ann");
}
