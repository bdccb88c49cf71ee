//! The device library (`client::Device`) against a real in-process server on
//! a free loopback port: sign-in and restore, two-way sync, the live channel,
//! revoked sessions and sign-out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use client::{ClientError, Device, LoginOptions, SignupOptions, SyncState, WatchOptions, fields};
use model::Kind;
use serde_json::json;
use std::time::Duration;

const PASSWORD: &str = "correct-horse-battery";

async fn server() -> (tempfile::TempDir, server::RunningServer, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config::new(dir.path().join("server"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    let running = server::start(config).await.unwrap();
    let url = format!("http://{}", running.addr());
    (dir, running, url)
}

fn device(dir: &tempfile::TempDir, name: &str) -> Device {
    Device::open(dir.path().join(name)).unwrap()
}

async fn signup(d: &Device, url: &str, user: &str) {
    let o = SignupOptions {
        server: url.into(),
        email: format!("{user}@example.com"),
        username: user.into(),
        password: PASSWORD.into(),
        device_name: Some("first".into()),
        force: false,
    };
    d.signup(o, None).await.unwrap();
}

async fn login(d: &Device, url: &str, user: &str) -> Result<protocol::User, ClientError> {
    let o = LoginOptions {
        server: url.into(),
        user: user.into(),
        password: PASSWORD.into(),
        device_name: Some("second".into()),
        ..LoginOptions::default()
    };
    d.login(o, None).await
}

/// A server and two signed-in devices of "ann": A made a collection named
/// `name` and synced it; B signed in after, so it has it.
async fn ann_on_two_devices(name: &str) -> (tempfile::TempDir, server::RunningServer, Device, Device, model::Id) {
    let (dir, srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let col = a.create(Kind::Collection, None, None, fields([("name", json!(name))])).unwrap();
    a.sync().await.unwrap();
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();
    (dir, srv, a, b, col)
}

#[tokio::test]
async fn edits_travel_both_ways_and_sign_in_restores() {
    let (dir, _srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let col = a.create(Kind::Collection, None, None, fields([("name", json!("Orders"))])).unwrap();
    let req = a.create(Kind::Request, Some(col), None, fields([("name", json!("List")), ("url", json!("u"))])).unwrap();
    assert_eq!(a.pending().unwrap(), 2);
    a.sync().await.unwrap();
    assert_eq!(a.pending().unwrap(), 0);

    let b = device(&dir, "b");
    login(&b, &url, "ann@example.com").await.unwrap();
    assert_eq!(b.get(req).unwrap().fields["url"], "u");
    assert_eq!(b.list(None, None).unwrap().iter().map(|d| d.id).collect::<Vec<_>>(), vec![col, req]);

    b.set(req, fields([("url", json!("v"))])).unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(a.get(req).unwrap().fields["url"], "v");
    assert_eq!(a.local_status().unwrap().state, SyncState::InSync);
}

/// A device away longer than the server keeps tombstones restores the
/// workspace at its next sync: what was deleted meanwhile goes, its own
/// unsent edit reaches the server, and the current values of what remains
/// stay on the device.
#[tokio::test]
async fn a_device_away_past_the_tombstone_horizon_restores_and_keeps_its_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config::new(dir.path().join("server"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.keep_tombstones = Duration::ZERO;
    let srv = server::start(config).await.unwrap();
    let url = format!("http://{}", srv.addr());
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let gone = a.create(Kind::Collection, None, None, fields([("name", json!("Gone"))])).unwrap();
    let kept = a.create(Kind::Collection, None, None, fields([("name", json!("Kept"))])).unwrap();
    let env = a.create(Kind::Environment, None, None, fields([("name", json!("Prod"))])).unwrap();
    let var = a.create(Kind::Variable, Some(env), None, fields([("key", json!("token")), ("value", json!("v"))])).unwrap();
    a.sync().await.unwrap();
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();
    b.set(var, fields([("current", json!("only-on-b"))])).unwrap();
    b.set(kept, fields([("name", json!("Kept, renamed on B"))])).unwrap();

    // While B is away, A deletes; the server soon forgets the tombstone.
    a.delete(gone).unwrap();
    a.sync().await.unwrap();
    let ws = a.workspaces().unwrap()[0].id;
    let cursor = b.workspaces().unwrap().iter().find(|w| w.id == ws).unwrap().cursor;
    // A third session of ann watches for the server to forget it.
    let t = reqwest::Client::new();
    let device = json!({"id": model::Id::now_v7(), "name": "probe"});
    let login =
        t.post(format!("{url}/v1/auth/login")).json(&json!({"user": "ann", "password": PASSWORD, "device": device})).send().await.unwrap();
    let token = login.json::<protocol::Session>().await.unwrap().token;
    let mut refused = false;
    for _ in 0..100 {
        let r = t.get(format!("{url}/v1/workspaces/{ws}/changes?after={cursor}")).bearer_auth(&token).send().await.unwrap();
        if r.status() == 410 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the server did not forget the tombstone within 10 s");

    let report = b.sync().await.unwrap();
    let name = b.workspaces().unwrap().into_iter().find(|w| w.id == ws).unwrap().name;
    assert_eq!(report.restored, vec![name], "the sync says which workspace it restored");
    assert!(b.get(gone).is_err(), "the deletion B missed reached it by the restore");
    assert_eq!(b.current_value(var).unwrap(), Some(json!("only-on-b")));
    assert_eq!(b.pending().unwrap(), 0);
    a.sync().await.unwrap();
    assert_eq!(a.get(kept).unwrap().title(), "Kept, renamed on B");
    let head = b.workspaces().unwrap().iter().find(|w| w.id == ws).unwrap().clone();
    assert_eq!(head.cursor, head.head, "B is at the head after the restore");
    assert_eq!(b.local_status().unwrap().state, SyncState::InSync);
}

#[tokio::test]
async fn a_workspace_made_on_the_device_reaches_the_server() {
    let (dir, _srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let ws = a.create_workspace("Team", false).unwrap();
    let c = a.create(Kind::Collection, None, Some("Team"), fields([("name", json!("C"))])).unwrap();
    a.sync().await.unwrap();
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();
    assert!(b.workspaces().unwrap().iter().any(|w| w.id == ws && w.name == "Team"));
    assert_eq!(b.get(c).unwrap().workspace_id, ws);
}

#[tokio::test]
async fn a_watching_device_hears_changes_live() {
    let (_dir, _srv, a, b, col) = ann_on_two_devices("C").await;

    let watch = async {
        let mut states = Vec::new();
        a.watch(WatchOptions { duration: Some(Duration::from_secs(3)) }, std::future::pending(), |e| states.push(e.state)).await.unwrap();
        states
    };
    let edit = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.set(col, fields([("name", json!("renamed"))])).unwrap();
        b.sync().await.unwrap();
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if a.get(col).unwrap().title() == "renamed" {
                return true;
            }
        }
        false
    };
    let (states, seen) = tokio::join!(watch, edit);
    assert!(seen, "the watcher did not apply the change within 2 s");
    assert!(states.contains(&SyncState::InSync), "{states:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watching_device_rides_out_a_server_restart() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config::new(dir.path().join("server"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    let srv = server::start(config.clone()).await.unwrap();
    config.addr = srv.addr();
    let url = format!("http://{}", srv.addr());
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let col = a.create(Kind::Collection, None, None, fields([("name", json!("C"))])).unwrap();
    a.sync().await.unwrap();
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();

    let events = Arc::new(Mutex::new(Vec::new()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watch = {
        let events = events.clone();
        a.watch(WatchOptions { duration: Some(Duration::from_secs(30)) }, async { drop(stopped.await) }, move |e| {
            events.lock().unwrap().push((e.state, e.reason.clone()))
        })
    };
    let restart = async {
        let in_sync = || events.lock().unwrap().iter().any(|(s, _)| *s == SyncState::InSync);
        for _ in 0..200 {
            if in_sync() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(in_sync(), "the watcher never got in sync");
        srv.shutdown().await.unwrap();
        let again = server::start(config).await.unwrap();
        b.set(col, fields([("name", json!("after the restart"))])).unwrap();
        b.sync().await.unwrap();
        let mut seen = false;
        for _ in 0..200 {
            if a.get(col).unwrap().title() == "after the restart" {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(());
        (seen, again)
    };
    let (watched, (seen, _again)) = tokio::join!(watch, restart);
    watched.expect("a restart is no sign-out: the watch ends only when stopped");
    assert!(seen, "the watcher did not come back and apply a change made after the restart within 10 s");
    let events = events.lock().unwrap();
    assert!(
        events.iter().any(|(s, why)| *s == SyncState::Offline && why.as_deref().is_some_and(|w| w.contains("restarting"))),
        "the device said why it went offline: {events:?}"
    );
}

#[tokio::test]
async fn a_revoked_device_keeps_its_changes_and_delivers_them_at_next_sign_in() {
    let (dir, _srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();
    let col = b.create(Kind::Collection, None, None, fields([("name", json!("kept"))])).unwrap();
    a.sign_out_device(b.device_id().unwrap()).await.unwrap();

    let err = b.sync().await.unwrap_err();
    assert!(matches!(err, ClientError::SessionRevoked { pending: 1, .. }), "{err}");
    let st = b.local_status().unwrap();
    assert_eq!(st.state, SyncState::Error);
    assert!(st.reason.unwrap().contains("1 unsynced changes are kept"));

    login(&b, &url, "ann").await.unwrap();
    assert_eq!(b.pending().unwrap(), 0);
    a.sync().await.unwrap();
    assert_eq!(a.get(col).unwrap().title(), "kept");
}

#[tokio::test]
async fn logout_refuses_to_lose_changes_unless_forced_and_keeps_the_scratch_pad() {
    let (dir, srv, url) = server().await;
    let a = device(&dir, "a");
    let note = a.create(Kind::Collection, None, None, fields([("name", json!("scratch"))])).unwrap();
    signup(&a, &url, "ann").await;
    a.create(Kind::Collection, None, None, fields([("name", json!("synced"))])).unwrap();
    srv.shutdown().await.unwrap();

    let err = a.logout(false).await.unwrap_err();
    assert!(matches!(err, ClientError::UnsyncedChanges(1)), "{err}");
    assert!(a.is_signed_in().unwrap());
    a.logout(true).await.unwrap();
    let st = a.local_status().unwrap();
    assert_eq!((st.state, st.scratch_pad, st.pending), (SyncState::Offline, true, 0));
    assert_eq!(a.get(note).unwrap().title(), "scratch");
    assert_eq!(a.workspaces().unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_server_means_offline_and_nothing_lost() {
    let (dir, srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    srv.shutdown().await.unwrap();
    let c = a.create(Kind::Collection, None, None, fields([("name", json!("later"))])).unwrap();
    let err = a.sync().await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    let st = a.status().await.unwrap();
    assert_eq!((st.state, st.pending), (SyncState::Offline, 1));
    assert!(st.reason.unwrap().contains("unreachable"));
    assert_eq!(a.get(c).unwrap().title(), "later");
}

#[tokio::test]
async fn another_accounts_unsynced_changes_block_sign_in_unless_forced() {
    let (dir, srv, url) = server().await;
    let other = device(&dir, "other");
    signup(&other, &url, "bob").await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    // Ann's change cannot be sent: the device was signed out elsewhere.
    let c = a.create(Kind::Collection, None, None, fields([("name", json!("ann's"))])).unwrap();
    let ann_device = a.device_id().unwrap();
    let ann2 = device(&dir, "ann2");
    login(&ann2, &url, "ann").await.unwrap();
    ann2.sign_out_device(ann_device).await.unwrap();

    let err = login(&a, &url, "bob").await.unwrap_err();
    assert!(matches!(err, ClientError::OtherAccount { pending: 1, .. }), "{err}");
    assert_eq!(a.get(c).unwrap().title(), "ann's");

    let o = LoginOptions { server: url.clone(), user: "bob".into(), password: PASSWORD.into(), force: true, ..Default::default() };
    a.login(o, None).await.unwrap();
    assert_eq!(a.user().unwrap().unwrap().username, "bob");
    assert_eq!(a.pending().unwrap(), 0);
    assert!(a.get(c).is_err());
    drop(srv);
}

#[tokio::test]
async fn many_documents_push_in_batches_and_restore_in_pages() {
    let (dir, _srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let col = a.create(Kind::Collection, None, None, fields([("name", json!("Big"))])).unwrap();
    let n = 2_300;
    for i in 0..n {
        a.create(Kind::Request, Some(col), None, fields([("name", json!(format!("r{i}")))])).unwrap();
    }
    let started = std::time::Instant::now();
    let report = a.sync().await.unwrap();
    assert_eq!(report.pushed, n + 1);
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();
    let docs = b.list(None, Some(Kind::Request)).unwrap();
    assert_eq!(docs.len() as u64, n);
    // Sibling order survives the round trip.
    let names: Vec<String> = docs.iter().map(|d| d.title().to_string()).collect();
    assert_eq!(names.first().map(String::as_str), Some("r0"));
    assert_eq!(names.last().map(String::as_str), Some(format!("r{}", n - 1).as_str()));
    eprintln!("push + restore of {n} documents: {:?}", started.elapsed());
}

/// Pushes the server finds too large — a body over 32 MiB, or edits that
/// would read more than 64 MiB of stored documents — are split by the device
/// until they fit, and nothing is lost.
#[tokio::test]
async fn a_push_too_large_for_the_server_is_sent_in_smaller_batches() {
    let (dir, _srv, url) = server().await;
    let mut a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    a.set_offline(true);
    let col = a.create(Kind::Collection, None, None, fields([("name", json!("Big"))])).unwrap();
    let big = "x".repeat(1_000_000);
    let ids: Vec<model::Id> = (0..70)
        .map(|i| a.create(Kind::Request, Some(col), None, fields([("name", json!(format!("r{i}"))), ("description", json!(big))])).unwrap())
        .collect();
    a.set_offline(false);
    // 70 MB of creates: more than one push body may hold.
    a.sync().await.unwrap();
    assert_eq!(a.pending().unwrap(), 0);
    // 70 edits of 1 MB documents: more stored documents than one push may read.
    for id in &ids {
        a.set(*id, fields([("name", json!("renamed"))])).unwrap();
    }
    a.sync().await.unwrap();
    assert_eq!(a.pending().unwrap(), 0);
    assert!(a.conflicts().unwrap().is_empty(), "{:?}", a.conflicts().unwrap());
    let b = device(&dir, "b");
    login(&b, &url, "ann").await.unwrap();
    assert!(ids.iter().all(|id| b.get(*id).unwrap().fields["name"] == "renamed"));
}

/// The push answer moves the pusher's cursor over its own changes: the
/// next sync downloads nothing, an idle sync is one request, and an edit
/// made while nothing else changed is delivered in one request.
#[tokio::test]
async fn a_device_never_downloads_back_what_it_pushed() {
    let (dir, _srv, url) = server().await;
    let a = device(&dir, "a");
    signup(&a, &url, "ann").await;
    let col = a.create(Kind::Collection, None, None, fields([("name", json!("Big"))])).unwrap();
    // More than one push batch.
    for i in 0..1_200 {
        a.create(Kind::Request, Some(col), None, fields([("name", json!(format!("r{i}")))])).unwrap();
    }
    let report = a.sync().await.unwrap();
    assert_eq!(report.pushed, 1_201, "more than one push batch (1,000)");
    assert_eq!(report.pulled, 0, "its own pushes do not come back");
    let personal = a.workspaces().unwrap().into_iter().find(|w| w.personal).unwrap();
    assert_eq!(personal.cursor, personal.head, "the cursor is at the pushed sequence");

    let before = a.requests_sent();
    let idle = a.sync().await.unwrap();
    assert_eq!((idle.pushed, idle.pulled), (0, 0));
    assert_eq!(a.requests_sent() - before, 1, "an idle sync is one request: the workspace list");

    let before = a.requests_sent();
    a.set(col, fields([("description", json!("one edit"))])).unwrap();
    let r = a.deliver().await.unwrap();
    assert_eq!((r.pushed, r.pulled), (1, 0));
    assert_eq!(a.requests_sent() - before, 1, "an edit while nothing else changed is one request");
    let before = a.requests_sent();
    assert_eq!(a.sync().await.unwrap().pulled, 0);
    assert_eq!(a.requests_sent() - before, 1);
}

/// When somebody else changed the workspace first, delivering an edit
/// notices from the answer and pulls that workspace (and only it).
#[tokio::test]
async fn delivering_an_edit_catches_up_with_others_changes() {
    let (_dir, _srv, a, b, col) = ann_on_two_devices("Shared").await;
    b.set(col, fields([("description", json!("from b"))])).unwrap();
    b.deliver().await.unwrap();

    let before = a.requests_sent();
    a.set(col, fields([("name", json!("Renamed by a"))])).unwrap();
    let r = a.deliver().await.unwrap();
    assert_eq!(r.pushed, 1);
    assert_eq!(a.requests_sent() - before, 2, "the push, then one pull of the workspace that moved");
    let doc = a.get(col).unwrap();
    assert_eq!((doc.fields["name"].as_str(), doc.fields["description"].as_str()), (Some("Renamed by a"), Some("from b")));
    let w = a.workspaces().unwrap().into_iter().find(|w| w.personal).unwrap();
    assert_eq!(w.cursor, w.head);
    // B hears A's edit on its next sync, and A's next sync brings nothing.
    b.sync().await.unwrap();
    assert_eq!(b.get(col).unwrap().fields["name"], "Renamed by a");
    assert_eq!(a.sync().await.unwrap().pulled, 0);
}

/// A watching device pushes its own edits and is not sent them back; the
/// other device's watcher hears them.
#[tokio::test]
async fn a_watching_device_is_not_sent_its_own_edits() {
    let (_dir, _srv, a, b, col) = ann_on_two_devices("Live").await;
    let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
    let watch = |d: std::sync::Arc<Device>| {
        tokio::spawn(async move { d.watch(WatchOptions { duration: Some(Duration::from_secs(20)) }, std::future::pending(), |_| {}).await })
    };
    let (wa, wb) = (watch(a.clone()), watch(b.clone()));
    let in_sync = |d: &Device| d.local_status().is_ok_and(|s| s.state == SyncState::InSync);
    let started = std::time::Instant::now();
    while !(in_sync(&a) && in_sync(&b)) && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = a.requests_sent();
    for i in 0..5 {
        a.set(col, fields([("description", json!(format!("edit {i}")))])).unwrap();
        let started = std::time::Instant::now();
        while b.get(col).unwrap().fields.get("description") != Some(&json!(format!("edit {i}"))) {
            assert!(started.elapsed() < Duration::from_secs(10), "B never heard edit {i}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // Let any echo arrive, then count: five pushes and nothing else.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a.requests_sent() - before, 5, "one request per edit, no pull after an echo");
    let w = a.workspaces().unwrap().into_iter().find(|w| w.personal).unwrap();
    assert_eq!(w.cursor, w.head);
    wa.abort();
    wb.abort();
}
