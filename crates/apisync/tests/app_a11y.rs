//! Accessibility of the app in Chromium (`tests/node/app_a11y.js`): axe-core
//! finds no serious or critical violation on any page or dialog, signed out
//! (the Scratch Pad, the tree, the request editor, a saved response, the
//! tree's menu and dialogs, sign-in) and signed in (the conflicts dialog and
//! the workspace dialogs); and the keyboard alone creates a collection and a
//! request, opens it, edits its URL and saves it, focus always visible and
//! never trapped.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use support::app::App;
use support::{Device, Server, two_devices};

#[test]
fn in_chromium_the_signed_out_pages_pass_axe_and_work_by_keyboard_alone() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's accessibility test") else { return };
    let d = Device::new("solo");
    let col = d.create("collection", &["--set", "name=Orders API"]);
    d.create("folder", &["--parent", &col, "--set", "name=Archive"]);
    let req = d.create(
        "request",
        &["--parent", &col, "--set", "name=List orders", "--set", "method=GET", "--set", "url=https://api.example.com/orders?page=1"],
    );
    d.create(
        "response",
        &["--parent", &req, "--set", "name=200 OK", "--set", "code=200", "--set", "status=OK", "--set", r#"body={"orders": []}"#],
    );
    let app = App::start(&d);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let url = app.url();
    let dir = shots.to_string_lossy();
    support::app::run_check(&root.join("tests/node"), "app_a11y.js", ["--mode", "local", "--url", &url, "--shots", &dir]);
    // What the keyboard made is in the profile, as the CLI lists it.
    let docs = d.docs().to_string();
    assert!(
        docs.contains("Keyboard API") && docs.contains("Keyboard request") && docs.contains("https://example.com/keyboard?x=1"),
        "{docs}"
    );
}

#[test]
fn in_chromium_the_signed_in_pages_and_dialogs_pass_axe() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's accessibility test") else { return };
    let server = Server::start();
    let (a, b) = two_devices(&server);
    // One conflict waiting on b: both devices change one request's name offline.
    let col = a.create("collection", &["--set", "name=Shared"]);
    let req = a.create("request", &["--parent", &col, "--set", "name=Get", "--set", "url=https://a"]);
    b.run(&["sync"]);
    a.run(&["--offline", "set", &req, "name=From laptop"]);
    b.run(&["--offline", "set", &req, "name=From desktop"]);
    a.run(&["sync"]);
    b.run(&["sync"]);
    let app = App::start(&b);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let url = app.url();
    let dir = shots.to_string_lossy();
    support::app::run_check(&root.join("tests/node"), "app_a11y.js", ["--mode", "signed-in", "--url", &url, "--shots", &dir]);
}
