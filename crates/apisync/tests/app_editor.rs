//! The app's request editor through the real binary: the editor's files are
//! served behind the session cookie, and in Chromium
//! (`tests/node/app_editor_browser.js`) a request on an offline profile is
//! edited (URL and params in step, a header, a raw JSON body), saved with
//! Ctrl+S as one PATCH, checked through the CLI in Postman v2.1 shape, and a
//! change made by the CLI on the same profile meets an unsaved edit without
//! overwriting it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use support::app::App;

use support::{Device, bin};

/// A signed-out profile (the Scratch Pad) with one request in a collection:
/// `GET https://api.example.com/items`, no headers, no body. Returns its id.
fn offline_request(d: &Device) -> String {
    let col = d.create("collection", &["--set", "name=Shop"]);
    d.create(
        "request",
        &["--parent", &col, "--set", "name=Find items", "--set", "method=GET", "--set", "url=https://api.example.com/items"],
    )
}

#[test]
fn the_editor_files_are_served_behind_the_session() {
    let d = Device::new("laptop");
    let app = App::start(&d);
    let (status, _) = app.get("/editor.js", None);
    assert_eq!(status, 403, "no cookie, no file");
    let cookie = app.cookie();
    let (status, js) = app.get("/editor.js", Some(&cookie));
    assert_eq!(status, 200, "{js}");
    assert!(js.contains("text/javascript") && js.contains("export function openEditor"), "{js}");
    // The page renders values as text only: the editor never assigns markup.
    assert!(!js.contains("innerHTML") && !js.contains("insertAdjacentHTML"), "editor.js assigns markup");
    let (status, css) = app.get("/editor.css", Some(&cookie));
    assert_eq!(status, 200);
    assert!(css.contains("text/css"), "{css}");
    let (_, page) = app.get("/", Some(&cookie));
    assert!(page.contains("/editor.css"), "index.html links the editor's styles");
}

#[test]
fn in_chromium_the_request_editor_saves_one_patch_and_never_overwrites_an_edit() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's request editor browser test") else { return };
    let node_dir = root.join("tests/node");
    let d = Device::new("laptop");
    let req = offline_request(&d);
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let shot = shots.join("request-editor.png");
    let url = app.url();
    let (profile, shot_arg) = (d.dir.path().to_string_lossy(), shot.to_string_lossy());
    support::app::run_check(
        &node_dir,
        "app_editor_browser.js",
        ["--url", &url, "--bin", bin(), "--id", &req, "--profile", &profile, "--screenshot", &shot_arg],
    );
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    assert!(shots.join("path-variables.png").is_file(), "no path variables screenshot");

    // What the browser saved, as the CLI reads it: the last URL (kept over the
    // other device's, then given path variables), the method that device set,
    // the header and the body.
    let f = &d.json(&["--offline", "show", &req])["fields"];
    assert_eq!(f["url"]["raw"], "https://mine.example.com/users/:userId/orders/:order?page=3&sort=asc", "{f}");
    assert_eq!(f["url"]["variable"][0]["key"], "userId", "{f}");
    assert_eq!(f["url"]["variable"][0]["value"], "42", "{f}");
    assert_eq!(f["url"]["variable"][1]["key"], "order", "{f}");
    assert_eq!(f["url"]["variable"][1]["value"], "7", "{f}");
    assert_eq!(f["url"]["query"][0]["key"], "page", "{f}");
    assert_eq!(f["method"], "PUT", "{f}");
    assert_eq!(f["header"][0]["key"], "Content-Type", "{f}");
    assert_eq!(f["body"]["mode"], "raw", "{f}");
    assert_eq!(f["body"]["options"]["raw"]["language"], "json", "{f}");
    assert_eq!(f["description"], "theirs", "{f}");
}
