//! Mirroring a workspace to a folder from `apisync app`: the API by hand
//! (refusals, the limit, the status, the list remembered across a restart,
//! Stop), and in Chromium (`tests/node/app_mirror.js`) the dialog, the
//! list, a file edited on disk reaching the editor, merge-conflict markers
//! stopping the mirror in the list and the status bar, the fix, and Stop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::app::App;
use support::{Device, Server, bin, eventually};

fn start(app: &App, cookie: &str, workspace: &str, dir: &Path) -> support::app::Reply {
    app.api(cookie, "POST", "/api/mirrors", Some(&json!({ "workspace": workspace, "dir": dir })))
}

fn mirrors(app: &App, cookie: &str) -> Vec<Value> {
    let r = app.api(cookie, "GET", "/api/mirrors", None);
    assert_eq!(r.status, 200, "{r:?}");
    r.json().as_array().cloned().unwrap_or_default()
}

fn running(app: &App, cookie: &str) -> usize {
    mirrors(app, cookie).iter().filter(|m| m["running"] == true).count()
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_mirror_api_refuses_clearly_runs_at_most_eight_remembers_them_and_stops() {
    let server = Server::start();
    let d = Device::new("laptop");
    d.signup(&server, "ann");
    let other = d.json(&["workspace", "create", "Other"])["id"].as_str().expect("an id").to_string();
    let col = d.create("collection", &["--set", "name=Shop"]);
    d.create("request", &["--parent", &col, "--set", "name=List orders", "--set", "url=https://api.example.com/orders"]);
    let mine = d.json(&["show", &col])["workspace_id"].as_str().expect("the collection's workspace").to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shop").join("postman");
    let app = App::start(&d);
    let cookie = app.cookie();

    // The same guard as every change: no Origin, no mirror.
    let r = app.send("POST", "/api/mirrors", &[("Cookie", &cookie)], Some(&json!({ "workspace": mine, "dir": dir })));
    assert_eq!(r.status, 403, "{r:?}");
    // Refusals, each saying what to do.
    let r = start(&app, &cookie, &mine, Path::new("shop/postman"));
    assert_eq!((r.status, r.error_code()), (400, "invalid".to_string()), "{r:?}");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("not an absolute path"), "{r:?}");
    let a_file = tmp.path().join("notes.txt");
    std::fs::write(&a_file, "not a folder").unwrap();
    let r = start(&app, &cookie, &mine, &a_file);
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("is a file"), "{r:?}");
    assert_eq!(start(&app, &cookie, "No such workspace", &dir).status, 404);
    assert!(mirrors(&app, &cookie).is_empty());

    // Started: the folder (made, with its parent) holds the workspace.
    let r = start(&app, &cookie, &mine, &dir);
    assert_eq!(r.status, 201, "{r:?}");
    let root = dir.canonicalize().unwrap();
    assert_eq!((r.json()["running"].clone(), r.json()["workspace"].clone()), (json!(true), json!(mine)), "{r:?}");
    assert_eq!(r.json()["dir"], json!(root), "{r:?}");
    assert!(
        eventually(Duration::from_secs(10), || files(&dir).iter().any(|f| f.ends_with("List orders.request.yaml"))),
        "{:?}",
        files(&dir)
    );
    assert!(
        eventually(Duration::from_secs(10), || mirrors(&app, &cookie)
            .first()
            .is_some_and(|m| m["last"].is_i64() && m["error"].is_null() && m["last_change"]["written"].as_u64().is_some_and(|n| n >= 2))),
        "{:?}",
        mirrors(&app, &cookie)
    );
    // Idle, it makes no passes (its own reads of the folder wake nothing),
    // once the one its own writes cause is done.
    std::thread::sleep(Duration::from_millis(500));
    let last = mirrors(&app, &cookie)[0]["last"].clone();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(mirrors(&app, &cookie)[0]["last"], last, "an idle mirror keeps passing");
    // The status has it, as `apisync status --json` does.
    let st = app.api(&cookie, "GET", "/api/status", None).json();
    assert_eq!(st["mirrors"][0]["dir"], json!(root), "{st}");
    assert_eq!(st["mirrors"][0]["running"], true, "{st}");
    // The folder already mirrored by this app, for another workspace: refused.
    let r = start(&app, &cookie, &other, &dir);
    assert_eq!((r.status, r.error_code()), (409, "already_mirrored".to_string()), "{r:?}");
    // Starting it again for the same workspace changes nothing.
    assert_eq!(start(&app, &cookie, &mine, &dir).status, 201);
    assert_eq!(running(&app, &cookie), 1);
    // The list of one workspace.
    let of_other = app.api(&cookie, "GET", &format!("/api/mirrors?workspace={other}"), None).json();
    assert_eq!(of_other, json!([]), "{of_other}");

    // At most eight.
    let extra: Vec<_> = (1..=7).map(|i| tmp.path().join(format!("m{i}"))).collect();
    for e in &extra {
        let r = start(&app, &cookie, &mine, e);
        assert_eq!(r.status, 201, "{r:?}");
    }
    let r = start(&app, &cookie, &mine, &tmp.path().join("m8"));
    assert_eq!((r.status, r.error_code()), (409, "too_many_mirrors".to_string()), "{r:?}");
    assert!(!tmp.path().join("m8").exists(), "a refused mirror made its folder");

    // Remembered: the next launch starts them again, except one whose folder is gone.
    drop(app);
    std::fs::remove_dir_all(&extra[6]).unwrap();
    let app = App::start(&d);
    let cookie = app.cookie();
    assert!(eventually(Duration::from_secs(20), || running(&app, &cookie) == 7), "{:?}", mirrors(&app, &cookie));
    let gone = extra[6].to_string_lossy().to_string();
    let listed = mirrors(&app, &cookie);
    let m7 = listed.iter().find(|m| m["dir"].as_str().is_some_and(|p| p.ends_with("/m7"))).expect("m7 listed");
    assert_eq!(m7["running"], false, "{m7}");
    assert!(m7["error"].as_str().is_some_and(|e| e.contains(&gone) && e.contains("no longer exists")), "{m7}");
    assert!(!extra[6].exists(), "a gone folder was made again");

    // Stopped: no longer running, nor started at the next launch.
    let r = app.api(&cookie, "POST", "/api/mirrors/stop", Some(&json!({ "dir": dir })));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["running"], false, "{r:?}");
    let r = app.api(&cookie, "POST", "/api/mirrors/stop", Some(&json!({ "dir": dir })));
    assert_eq!((r.status, r.error_code()), (404, "not_mirrored".to_string()), "{r:?}");
    // Stopped, the folder still belongs to its workspace: Mirror::open's refusal comes through.
    let r = start(&app, &cookie, &other, &dir);
    assert_eq!((r.status, r.error_code()), (409, "mirror_refused".to_string()), "{r:?}");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("already mirrors another workspace"), "{r:?}");
    drop(app);
    let app = App::start(&d);
    let cookie = app.cookie();
    assert!(eventually(Duration::from_secs(20), || running(&app, &cookie) == 6), "{:?}", mirrors(&app, &cookie));
    let main = mirrors(&app, &cookie).into_iter().find(|m| m["dir"] == json!(root)).expect("the stopped mirror is listed");
    assert_eq!(main["running"], false, "{main}");
}

#[test]
fn in_chromium_a_workspace_mirrors_to_a_folder_both_ways_and_says_what_stops_it() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's mirror browser test") else { return };
    let d = Device::new("solo");
    let col = d.create("collection", &["--set", "name=Shop"]);
    let req = d.create(
        "request",
        &["--parent", &col, "--set", "name=List orders", "--set", "method=GET", "--set", "url=https://api.example.com/orders"],
    );
    let app = App::start(&d);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap().join("shop-api").join("postman");
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let (url, profile, dir_arg, shots_arg) =
        (app.url(), d.dir.path().to_string_lossy().to_string(), dir.to_string_lossy().to_string(), shots.to_string_lossy().to_string());
    let out = support::app::run_check(
        &root.join("tests/node"),
        "app_mirror.js",
        ["--url", &url, "--bin", bin(), "--profile", &profile, "--id", &req, "--dir", &dir_arg, "--shots", &shots_arg],
    );
    eprintln!("mirror in Chromium: {}", out.trim());
    for name in ["mirror-dialog.png", "mirror-in-step.png", "mirror-error.png"] {
        assert!(shots.join(name).is_file(), "no {name}");
    }
    // What the files made, as the CLI reads it: the fix, not the edit made after Stop.
    let f = &d.json(&["--offline", "show", &req])["fields"];
    let url = f["url"].as_str().or_else(|| f["url"]["raw"].as_str());
    assert_eq!((f["name"].as_str(), url), (Some("List all orders"), Some("https://api.example.com/orders?page=3")), "{f}");
    // The CLI's status names no error any more.
    let st = d.json(&["--offline", "status", "--cached"]);
    assert!(st["mirrors"][0]["error"].is_null(), "{st}");
}
