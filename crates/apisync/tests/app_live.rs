//! Two devices live: two `apisync app` processes on two profiles signed in
//! to one account on a real server, one headless Chromium with a context per
//! app (`tests/node/app_live.js`). An edit saved in one shows in the other's
//! open editor and tree without a reload, both ways; then the CLI on each
//! profile agrees.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::io::Write;
use support::app::App;
use support::{Server, eventually, two_devices};

#[test]
fn in_chromium_an_edit_saved_in_one_app_appears_in_the_other_without_a_reload() {
    let _one = support::app::one_browser_at_a_time();
    let Some(root) = support::app::browser_ready("the app's two-device live test") else { return };
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let col = a.create("collection", &["--set", "name=Shared"]);
    let req = a.create(
        "request",
        &["--parent", &col, "--set", "name=Get user", "--set", "method=GET", "--set", "url=https://api.example.com/users/1"],
    );
    a.run(&["sync"]);
    b.run(&["sync"]);
    let app_a = App::start(&a);
    let app_b = App::start(&b);
    let shots = root.join("target/app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let (url_a, url_b) = (app_a.url(), app_b.url());
    let dir = shots.to_string_lossy();
    let new_url = "https://api.example.com/users/2?fields=name";
    let out = support::app::run_check(
        &root.join("tests/node"),
        "app_live.js",
        [
            "--url-a",
            &url_a,
            "--url-b",
            &url_b,
            "--request",
            "Get user",
            "--url-value",
            new_url,
            "--name-value",
            "Get user two",
            "--shots",
            &dir,
        ],
    );
    let _ = writeln!(std::io::stderr(), "two devices live in Chromium: {out}");
    assert!(shots.join("live-two-devices-a.png").is_file() && shots.join("live-two-devices-b.png").is_file());
    for d in [&a, &b] {
        let agreed = eventually(std::time::Duration::from_secs(20), || {
            let f = &d.json(&["show", &req])["fields"];
            f["name"] == "Get user two" && f["url"].to_string().contains("users/2?fields=name")
        });
        assert!(agreed, "{}: {}", d.name, d.json(&["show", &req]));
    }
}
