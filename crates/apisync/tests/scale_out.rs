//! Two `apisync serve` processes on one PostgreSQL database, devices on
//! each, behave as one server. Needs APISYNC_TEST_DATABASE_URL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::time::Duration;
use support::{Device, Server, eventually};

fn database() -> Option<(tokio::runtime::Runtime, scratchdb::TestDb)> {
    let Ok(url) = std::env::var("APISYNC_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED: two-process test — set APISYNC_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it");
        return None;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(scratchdb::TestDb::create(&url)).unwrap();
    Some((rt, db))
}

#[test]
fn two_server_processes_on_one_database_act_as_one() {
    let Some((_rt, db)) = database() else { return };
    let one = Server::start_on_postgres(&db.url);
    let two = Server::start_on_postgres(&db.url);

    let laptop = Device::new("laptop");
    let desktop = Device::new("desktop");
    laptop.signup(&one, "ann");
    assert!(desktop.login(&two, "ann").status.success());

    // The desktop watches through process two; the laptop writes through process one.
    let mut watcher = desktop
        .cmd(&["sync", "--watch", "--for", "60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(20), || desktop.status()["watching"] == true));
    let col = laptop.create("collection", &["--set", "name=Across processes"]);
    let arrived = eventually(Duration::from_secs(10), || {
        desktop.json(&["ls", "--offline"]).as_array().unwrap().iter().any(|d| d["id"] == col.as_str())
    });
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(arrived, "a change pushed through one process did not reach a device live on the other");

    // Edits through both processes end the same on both devices.
    for i in 0..5 {
        laptop.create("request", &["--parent", &col, "--set", &format!("name=from laptop {i}")]);
        desktop.create("request", &["--parent", &col, "--set", &format!("name=from desktop {i}")]);
    }
    laptop.run(&["sync"]);
    desktop.run(&["sync"]);
    let (a, b) = (laptop.docs(), desktop.docs());
    assert_eq!(a.as_array().unwrap().len(), b.as_array().unwrap().len());
    assert_eq!(a.as_array().unwrap().iter().filter(|d| d["kind"] == "request").count(), 10);

    // The device limit counts devices on every process.
    let third = Device::new("third");
    assert!(third.login(&one, "ann").status.success());
    let fourth = Device::new("fourth");
    let out = fourth.login(&two, "ann");
    assert!(!out.status.success(), "a fourth device signed in through the other process");
    assert!(support::stderr(&out).contains("devices sign-out"));
}

#[test]
fn an_sqlite_installation_migrates_to_postgres_and_devices_carry_on() {
    let Some((_rt, db)) = database() else { return };
    let mut lite = Server::start();
    let laptop = Device::new("laptop");
    laptop.signup(&lite, "ann");
    let col = laptop.create("collection", &["--set", "name=Before the move"]);
    laptop.create("request", &["--parent", &col, "--set", "name=Kept", "--set", "method=GET", "--set", "url=https://x"]);
    let before = laptop.docs();
    lite.kill();

    let out = laptop.cmd(&["migrate", "--from", &format!("sqlite://{}", lite.data.display()), "--to", &db.url]).output().unwrap();
    assert!(out.status.success(), "migrate failed: {}", support::stderr(&out));
    assert!(support::stdout(&out).contains("docs"));
    let again = laptop.cmd(&["migrate", "--from", lite.data.to_str().unwrap(), "--to", &db.url]).output().unwrap();
    assert!(!again.status.success(), "a second migration into a full database must be refused");

    // The same address, now on PostgreSQL: the device carries on with its session.
    let _pg = Server::start_on_postgres_at(&db.url, &lite.addr);
    laptop.run(&["set", &col, "name=After the move"]);
    assert_eq!(laptop.status()["state"], "in_sync");
    let desktop = Device::new("desktop");
    assert!(desktop.login(&_pg, "ann").status.success());
    let docs = desktop.docs();
    assert_eq!(docs.as_array().unwrap().len(), before.as_array().unwrap().len());
    assert!(docs.as_array().unwrap().iter().any(|d| d["fields"]["name"] == "After the move"));
}
