//! The server's HTTP API and live channel, driven over real sockets against
//! a server on a free port with its embedded SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use futures_util::StreamExt;
use model::{Document, Id, Kind, Mutation, Op};
use protocol::{Changes, ConflictReason, ErrorCode, LiveMessage, Outcome, PushResponse, Session, Workspaces};
use serde_json::{Value, json};
use std::time::Duration;

#[macro_use]
mod support;
use support::{Backend, TestServer, error_code, fields};

struct Harness(TestServer);

impl std::ops::Deref for Harness {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl Harness {
    async fn start(b: Backend) -> Harness {
        Self::with(b, |_| {}).await
    }

    async fn with(b: Backend, tweak: impl FnOnce(&mut server::Config)) -> Harness {
        Harness(TestServer::start(b, tweak).await)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body)).await
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None).await
    }

    async fn login(&self, user: &str, device: &str) -> (u16, Value) {
        self.post(
            "/v1/auth/login",
            None,
            json!({"user": user, "password": "correct horse", "device": {"id": Id::now_v7(), "name": device}}),
        )
        .await
    }

    async fn push(&self, token: &str, ws: Id, mutations: &[Mutation]) -> PushResponse {
        let (s, v) = self.post(&format!("/v1/workspaces/{ws}/push"), Some(token), json!({ "mutations": mutations })).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).unwrap()
    }

    async fn pull(&self, token: &str, ws: Id, after: u64) -> Changes {
        let (s, v) = self.get(&format!("/v1/workspaces/{ws}/changes?after={after}"), token).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).unwrap()
    }
}

fn create(kind: Kind, parent: Option<Id>, f: Value) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create { kind, parent_id: parent, order_key: Some("V".into()), fields: fields(f) },
    }
}

fn set(doc: Id, base: u64, f: Value) -> Mutation {
    Mutation { mutation_id: Id::now_v7(), doc_id: doc, base_version: base, op: Op::Set { fields: fields(f) } }
}

fn version(r: &PushResponse, i: usize) -> u64 {
    match &r.results[i].outcome {
        Outcome::Applied { version, .. } => *version,
        other => panic!("mutation {i} not applied: {other:?}"),
    }
}

async fn signup_gives_a_personal_workspace_and_health_answers(b: Backend) {
    let h = Harness::start(b).await;
    for probe in ["/healthz", "/readyz"] {
        let health: Value = h.http.get(format!("{}{probe}", h.base)).send().await.unwrap().json().await.unwrap();
        assert_eq!(health["status"], "ok", "{probe}");
    }
    let s = h.signup("ann").await;
    assert_eq!(s.workspaces.len(), 1);
    assert!(s.workspaces[0].personal);
    assert_eq!(s.workspaces[0].name, "My Workspace");
    let (status, v) = h.post("/v1/auth/signup", None, json!({"email": "ANN@example.com", "username": "other", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "x"}})).await;
    assert_eq!((status, error_code(&v)), (409, ErrorCode::EmailTaken));
    let (status, v) = h
        .post(
            "/v1/auth/signup",
            None,
            json!({"email": "b@example.com", "username": "bob", "password": "short", "device": {"id": Id::now_v7(), "name": "x"}}),
        )
        .await;
    assert_eq!((status, error_code(&v)), (400, ErrorCode::BadRequest));
    assert!(v["error"]["message"].as_str().unwrap().contains("at least 8"));
}

async fn login_by_email_or_username_and_wrong_password_is_refused(b: Backend) {
    let h = Harness::start(b).await;
    h.signup("ann").await;
    assert_eq!(h.login("ann", "d2").await.0, 200);
    assert_eq!(h.login("ann@example.com", "d3").await.0, 200);
    let (status, v) = h
        .post("/v1/auth/login", None, json!({"user": "ann", "password": "wrong password", "device": {"id": Id::now_v7(), "name": "x"}}))
        .await;
    assert_eq!((status, error_code(&v)), (401, ErrorCode::InvalidCredentials));
    let (status, v) = h.get("/v1/me", "aps_not_a_token").await;
    assert_eq!((status, error_code(&v)), (401, ErrorCode::Unauthorized));
}

async fn push_then_pull_on_another_device_and_retries_apply_once(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let ws = a.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "API"}));
    let req = create(Kind::Request, Some(col.doc_id), json!({"name": "Get", "method": "GET", "url": "https://x/y"}));
    let batch = vec![col.clone(), req.clone()];
    let first = h.push(&a.token, ws, &batch).await;
    assert_eq!(first.results.len(), 2);
    // The answer was lost: the device sends the very same batch again.
    let again = h.push(&a.token, ws, &batch).await;
    assert_eq!(again.results, first.results);
    assert_eq!(again.seq, first.seq);

    let (_, b) = h.login("ann", "ann-2").await;
    let b: Session = serde_json::from_value(b).unwrap();
    let snap = h.pull(&b.token, ws, 0).await;
    let ids: Vec<Id> = snap.docs.iter().map(|d| d.id).collect();
    assert!(ids.contains(&col.doc_id) && ids.contains(&req.doc_id));
    assert_eq!(snap.next, first.seq);
    assert!(!snap.more);
    let req_doc = snap.docs.iter().find(|d| d.id == req.doc_id).unwrap();
    assert_eq!(req_doc.parent_id, Some(col.doc_id));
    assert_eq!(req_doc.fields["url"], "https://x/y");
    assert!(h.pull(&b.token, ws, snap.next).await.docs.is_empty());
}

async fn pull_pages_in_version_order(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let ws = a.workspaces[0].id;
    let batch: Vec<Mutation> = (0..25).map(|i| create(Kind::Environment, None, json!({"name": format!("env {i}")}))).collect();
    let pushed = h.push(&a.token, ws, &batch).await;
    let mut after = 0;
    let mut seen = Vec::new();
    loop {
        let (_, v) = h.get(&format!("/v1/workspaces/{ws}/changes?after={after}&limit=7"), &a.token).await;
        let page: Changes = serde_json::from_value(v).unwrap();
        assert!(page.docs.len() <= 7);
        seen.extend(page.docs.iter().map(|d| d.version));
        after = page.next;
        if !page.more {
            break;
        }
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(seen.len(), 26, "25 environments and the workspace document");
    assert_eq!(after, pushed.seq);
}

async fn a_large_batch_and_its_cascading_delete_are_written_whole(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let ws = a.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "Big"}));
    let folder = create(Kind::Folder, Some(col.doc_id), json!({"name": "F"}));
    let mut batch = vec![col.clone(), folder.clone()];
    // More rows than one multi-row INSERT holds, so the writes span several.
    batch.extend(
        (0..450).map(|i| create(Kind::Request, Some(folder.doc_id), json!({"name": format!("R{i}"), "method": "GET", "url": "u"}))),
    );
    let pushed = h.push(&a.token, ws, &batch).await;
    assert!(pushed.results.iter().all(|r| matches!(r.outcome, Outcome::Applied { .. })));
    let mut after = 0;
    let mut live = 0;
    loop {
        let page = h.pull(&a.token, ws, after).await;
        live += page.docs.iter().filter(|d| d.kind == Kind::Request).count();
        after = page.next;
        if !page.more {
            break;
        }
    }
    assert_eq!(live, 450);

    let del = Mutation { mutation_id: Id::now_v7(), doc_id: folder.doc_id, base_version: version(&pushed, 1), op: Op::Delete };
    let deleted = h.push(&a.token, ws, &[del]).await;
    assert_eq!(deleted.seq, pushed.seq + 451, "the folder and each of its 450 requests got their own change");
    let tombstones = h.pull(&a.token, ws, pushed.seq).await;
    assert_eq!(tombstones.docs.iter().filter(|d| d.deleted && d.kind == Kind::Request).count(), 450);
}

async fn same_field_from_same_base_conflicts_and_different_fields_merge(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let (_, b) = h.login("ann", "ann-2").await;
    let b: Session = serde_json::from_value(b).unwrap();
    let ws = a.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "API", "description": "d"}));
    let base = version(&h.push(&a.token, ws, std::slice::from_ref(&col)).await, 0);

    let first = h.push(&a.token, ws, &[set(col.doc_id, base, json!({"name": "From A"}))]).await;
    version(&first, 0);
    let second = h.push(&b.token, ws, &[set(col.doc_id, base, json!({"name": "From B", "description": "B's"}))]).await;
    match &second.results[0].outcome {
        Outcome::Applied { conflicts, .. } => {
            assert_eq!(conflicts.len(), 1);
            assert_eq!(conflicts[0].field, "name");
            assert_eq!(conflicts[0].theirs, "From A");
        }
        other => panic!("expected a field conflict, got {other:?}"),
    }
    let doc = h.pull(&b.token, ws, 0).await.docs.into_iter().find(|d| d.id == col.doc_id).unwrap();
    assert_eq!(doc.fields["name"], "From A", "the first change wins on the server");
    assert_eq!(doc.fields["description"], "B's", "the other field merged");
}

async fn delete_cascades_and_edit_against_delete_conflicts(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let (_, b) = h.login("ann", "ann-2").await;
    let b: Session = serde_json::from_value(b).unwrap();
    let ws = a.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "API"}));
    let folder = create(Kind::Folder, Some(col.doc_id), json!({"name": "F"}));
    let req = create(Kind::Request, Some(folder.doc_id), json!({"name": "R", "method": "GET", "url": "u"}));
    let r = h.push(&a.token, ws, &[col.clone(), folder.clone(), req.clone()]).await;
    let req_base = version(&r, 2);
    let del = Mutation { mutation_id: Id::now_v7(), doc_id: folder.doc_id, base_version: version(&r, 1), op: Op::Delete };
    h.push(&a.token, ws, &[del]).await;
    let changes = h.pull(&a.token, ws, r.seq).await;
    assert!(changes.docs.iter().any(|d| d.id == req.doc_id && d.deleted), "the request under the folder is deleted too");

    let edit = h.push(&b.token, ws, &[set(req.doc_id, req_base, json!({"name": "edited"}))]).await;
    assert!(matches!(edit.results[0].outcome, Outcome::Conflict { reason: ConflictReason::Deleted, .. }));
    let snap = h.pull(&b.token, ws, 0).await;
    assert!(snap.docs.iter().all(|d| !d.deleted), "a snapshot leaves tombstones out");
}

async fn bad_mutations_are_rejected_one_by_one_with_reasons(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let ws = a.workspaces[0].id;
    let env = create(Kind::Environment, None, json!({"name": "E"}));
    let bad_field = create(Kind::Collection, None, json!({"name": "C", "nmae": "typo"}));
    let wrong_parent = create(Kind::Request, Some(env.doc_id), json!({"name": "R"}));
    let no_parent = create(Kind::Folder, None, json!({"name": "F"}));
    let missing = set(Id::now_v7(), 1, json!({"name": "x"}));
    let r = h.push(&a.token, ws, &[env, bad_field, wrong_parent, no_parent, missing]).await;
    version(&r, 0);
    let messages: Vec<String> = r.results[1..]
        .iter()
        .map(|x| match &x.outcome {
            Outcome::Rejected { message, .. } => message.clone(),
            other => panic!("expected a rejection, got {other:?}"),
        })
        .collect();
    assert!(messages[0].contains("'nmae'"), "{}", messages[0]);
    assert!(messages[1].contains("cannot go in a environment"), "{}", messages[1]);
    assert!(messages[2].contains("needs a parent"), "{}", messages[2]);
    assert!(messages[3].contains("no document"), "{}", messages[3]);

    let (status, v) =
        h.post(&format!("/v1/workspaces/{ws}/push"), Some(&a.token), json!({"mutations": [{"op": "create", "kind": "spaceship"}]})).await;
    assert_eq!((status, error_code(&v)), (400, ErrorCode::InvalidJson));
    let resp = h
        .http
        .post(format!("{}/v1/workspaces/{ws}/push", h.base))
        .bearer_auth(&a.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(error_code(&resp.json().await.unwrap()), ErrorCode::InvalidJson);
    let huge = "x".repeat(protocol::limits::MAX_BODY_BYTES + 10);
    let resp = h
        .http
        .post(format!("{}/v1/workspaces/{ws}/push", h.base))
        .bearer_auth(&a.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    assert_eq!(error_code(&resp.json().await.unwrap()), ErrorCode::PayloadTooLarge);
}

async fn strangers_get_404_for_workspaces_that_are_not_theirs(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let b = h.signup("bob").await;
    let ws = a.workspaces[0].id;
    let (status, v) = h.get(&format!("/v1/workspaces/{ws}/changes?after=0"), &b.token).await;
    assert_eq!((status, error_code(&v)), (404, ErrorCode::NotFound));
    let (status, _) =
        h.post(&format!("/v1/workspaces/{ws}/push"), Some(&b.token), json!({"mutations": [set(ws, 1, json!({"name": "mine now"}))]})).await;
    assert_eq!(status, 404);
    let (_, list) = h.get("/v1/workspaces", &b.token).await;
    let list: Workspaces = serde_json::from_value(list).unwrap();
    assert!(list.workspaces.iter().all(|w| w.id != ws));
}

async fn a_workspace_is_created_by_pushing_its_document(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let ws = Id::now_v7();
    let m = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: ws,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({"name": "Team API"})) },
    };
    h.push(&a.token, ws, &[m]).await;
    let (_, list) = h.get("/v1/workspaces", &a.token).await;
    let list: Workspaces = serde_json::from_value(list).unwrap();
    assert!(list.workspaces.iter().any(|w| w.id == ws && w.name == "Team API"));
}

async fn a_fourth_device_is_refused_until_one_is_replaced(b: Backend) {
    let h = Harness::start(b).await;
    let first = h.signup("ann").await;
    assert_eq!(h.login("ann", "two").await.0, 200);
    assert_eq!(h.login("ann", "three").await.0, 200);
    let (status, v) = h.login("ann", "four").await;
    assert_eq!((status, error_code(&v)), (409, ErrorCode::DeviceLimit));
    let devices = v["error"]["details"]["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    assert!(v["error"]["message"].as_str().unwrap().contains("apisync devices sign-out"));

    let (status, v) = h
        .post("/v1/auth/login", None, json!({"user": "ann", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "four"}, "replace_device": first.device.id}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = h.get("/v1/me", &first.token).await;
    assert_eq!((status, error_code(&v)), (401, ErrorCode::SessionRevoked));
    assert!(v["error"]["message"].as_str().unwrap().contains("replaced"));
}

async fn idle_sessions_expire(b: Backend) {
    let h = Harness::with(b, |c| c.session_idle_timeout = Duration::from_millis(300)).await;
    let a = h.signup("ann").await;
    assert_eq!(h.get("/v1/me", &a.token).await.0, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, v) = h.get("/v1/me", &a.token).await;
    assert_eq!((status, error_code(&v)), (401, ErrorCode::SessionExpired));
}

async fn next_message(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> LiveMessage {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a live frame within 5 s").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn live_channel_delivers_changes_and_sign_out(b: Backend) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let (_, b) = h.login("ann", "ann-2").await;
    let b: Session = serde_json::from_value(b).unwrap();
    let ws = a.workspaces[0].id;
    let mut req = format!("{}/v1/live", h.base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", b.token).parse().unwrap());
    let (mut sock, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(next_message(&mut sock).await, LiveMessage::Hello { .. }));

    let col = create(Kind::Collection, None, json!({"name": "Live"}));
    let r = h.push(&a.token, ws, std::slice::from_ref(&col)).await;
    match next_message(&mut sock).await {
        LiveMessage::Changes { workspace_id, seq, docs, .. } => {
            assert_eq!(workspace_id, ws);
            assert_eq!(seq, r.seq);
            let d: &Document = &docs[0];
            assert_eq!(d.id, col.doc_id);
        }
        other => panic!("expected changes, got {other:?}"),
    }
    let status = h.http.delete(format!("{}/v1/devices/{}", h.base, b.device.id)).bearer_auth(&a.token).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 204);
    assert!(matches!(next_message(&mut sock).await, LiveMessage::SignedOut { .. }));

    let bad = format!("{}/v1/live", h.base.replace("http", "ws")).into_client_request().unwrap();
    assert!(tokio_tungstenite::connect_async(bad).await.is_err(), "no token, no channel");
}

/// A device that says it has stored the answers to every mutation before
/// a given one lets the server forget those results; until then a retry
/// gets the stored result, and other devices' results stay.
async fn results_a_device_has_stored_are_forgotten(b: Backend) {
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let (_, other) = h.login("ann", "ann-2").await;
    let other: Session = serde_json::from_value(other).unwrap();
    let ws = a.workspaces[0].id;
    let push = |token: String, m: Mutation, answered: Option<Id>| {
        let h = &h;
        async move {
            let (s, v) =
                h.post(&format!("/v1/workspaces/{ws}/push"), Some(&token), json!({ "mutations": [m], "answered_before": answered })).await;
            assert_eq!(s, 200, "{v}");
            serde_json::from_value::<PushResponse>(v).unwrap().results.remove(0).outcome
        }
    };
    let first = create(Kind::Collection, None, json!({"name": "First"}));
    let theirs = create(Kind::Collection, None, json!({"name": "Theirs"}));
    let stored = push(a.token.clone(), first.clone(), None).await;
    assert!(matches!(stored, Outcome::Applied { .. }), "{stored:?}");
    let their_result = push(other.token.clone(), theirs.clone(), None).await;
    // Not yet said to be stored: a retry gets the stored result.
    assert_eq!(push(a.token.clone(), first.clone(), Some(first.mutation_id)).await, stored);
    // A later push says everything before it is stored: the result goes,
    // and the same mutation sent again is a new (refused) create.
    let second = create(Kind::Collection, None, json!({"name": "Second"}));
    push(a.token.clone(), second.clone(), Some(second.mutation_id)).await;
    let replayed = push(a.token.clone(), first.clone(), None).await;
    assert!(matches!(replayed, Outcome::Rejected { .. }), "the stored result was forgotten: {replayed:?}");
    // The other device's result is its own.
    assert_eq!(push(other.token.clone(), theirs, None).await, their_result);
}

/// The push answer is the pusher's frame: it says where the push began and
/// ended, and the live connection the push names is not told again; every
/// other connection is, the same device's included (another process of
/// it, another browser tab).
async fn a_pusher_is_answered_not_echoed(b: Backend) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let h = Harness::start(b).await;
    let a = h.signup("ann").await;
    let (_, other) = h.login("ann", "ann-2").await;
    let other: Session = serde_json::from_value(other).unwrap();
    let ws = a.workspaces[0].id;
    let listen = |token: String| {
        let url = format!("{}/v1/live", h.base.replace("http", "ws"));
        async move {
            let mut req = url.into_client_request().unwrap();
            req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
            let (mut sock, _) = tokio_tungstenite::connect_async(req).await.unwrap();
            match next_message(&mut sock).await {
                LiveMessage::Hello { connection: Some(c), .. } => (sock, c),
                other => panic!("expected a hello naming the connection, got {other:?}"),
            }
        }
    };
    let push = |token: String, m: Mutation, connection: Option<Id>| {
        let h = &h;
        async move {
            let body = json!({ "mutations": [m], "connection": connection });
            let (s, v) = h.post(&format!("/v1/workspaces/{ws}/push"), Some(&token), body).await;
            assert_eq!(s, 200, "{v}");
            serde_json::from_value::<PushResponse>(v).unwrap()
        }
    };
    let (mut mine, my_conn) = listen(a.token.clone()).await;
    let (mut same_device, _) = listen(a.token.clone()).await;
    let (mut theirs, _) = listen(other.token.clone()).await;

    let head = a.workspaces[0].seq;
    let col = create(Kind::Collection, None, json!({"name": "Mine"}));
    let r = push(a.token.clone(), col.clone(), Some(my_conn)).await;
    assert_eq!((r.after, r.seq), (Some(head), head + 1), "the answer spans exactly the push");
    for sock in [&mut theirs, &mut same_device] {
        match next_message(sock).await {
            LiveMessage::Changes { after, seq, .. } => assert_eq!((after, seq), (head, head + 1)),
            other => panic!("every other connection hears the push: {other:?}"),
        }
    }
    // The other device pushes next; the first frame the pusher's connection
    // hears is that one, not an echo of its own.
    let r2 = push(other.token.clone(), set(col.doc_id, r.seq, json!({"name": "Theirs"})), None).await;
    assert_eq!(r2.after, Some(r.seq));
    match next_message(&mut mine).await {
        LiveMessage::Changes { after, seq, docs, .. } => {
            assert_eq!((after, seq), (r.seq, r2.seq));
            assert_eq!(docs[0].title(), "Theirs");
        }
        other => panic!("expected the other device's changes, got {other:?}"),
    }
}

/// Tombstones older than the keep period go, and the workspace's horizon
/// rises to them: a pull from a cursor below it is told to restore, a pull
/// from 0 (and the later pages of one) or from the horizon is served.
async fn old_tombstones_go_and_a_cursor_before_them_restores(b: Backend) {
    let h = Harness::with(b, |c| c.keep_tombstones = Duration::ZERO).await;
    let a = h.signup("ann").await;
    let ws = a.workspaces[0].id;
    let gone = create(Kind::Collection, None, json!({"name": "Gone"}));
    let kept = create(Kind::Collection, None, json!({"name": "Kept"}));
    let r = h.push_ok(&a.token, ws, &[gone.clone(), kept.clone()]).await;
    let before = r.seq;
    let del = Mutation { mutation_id: Id::now_v7(), doc_id: gone.doc_id, base_version: before, op: Op::Delete };
    let deleted = h.push_ok(&a.token, ws, &[del]).await.seq;

    let changes = |after: u64, restoring: bool| {
        let h = &h;
        let token = a.token.clone();
        async move { h.get(&format!("/v1/workspaces/{ws}/changes?after={after}&restoring={restoring}"), &token).await }
    };
    let mut refused = None;
    for _ in 0..100 {
        let (s, v) = changes(before, false).await;
        if s == 410 {
            refused = Some(v);
            break;
        }
        assert_eq!(s, 200, "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = refused.expect("the tombstone was not removed within 10 s");
    assert_eq!(error_code(&refused), ErrorCode::RestoreRequired);
    assert!(refused["error"]["message"].as_str().unwrap().contains("after=0"), "{refused}");

    let (s, v) = changes(0, false).await;
    assert_eq!(s, 200, "{v}");
    let snapshot: Changes = serde_json::from_value(v).unwrap();
    assert!(snapshot.docs.iter().all(|d| d.id != gone.doc_id), "a snapshot never carries tombstones");
    assert!(snapshot.docs.iter().any(|d| d.id == kept.doc_id));
    let (s, v) = changes(before, true).await;
    assert_eq!(s, 200, "the later pages of a restore are served: {v}");
    let page: Changes = serde_json::from_value(v).unwrap();
    assert!(page.docs.iter().all(|d| d.id != gone.doc_id), "the tombstone's row is gone");
    let (s, v) = changes(deleted, false).await;
    assert_eq!(s, 200, "a cursor at the horizon saw every removed deletion: {v}");

    // An edit of the removed document from a base before its deletion is
    // refused with the reason (nothing is left to restore); a delete of it
    // has nothing left to do; an id from past the horizon is unknown.
    let edit = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: gone.doc_id,
        base_version: before,
        op: Op::Set { fields: fields(json!({"name": "Edited"})) },
    };
    let again = Mutation { mutation_id: Id::now_v7(), doc_id: gone.doc_id, base_version: before, op: Op::Delete };
    let stranger = Mutation { mutation_id: Id::now_v7(), doc_id: Id::now_v7(), base_version: deleted + 1, op: Op::Delete };
    let r = h.push_ok(&a.token, ws, &[edit, again, stranger]).await;
    let refusal = |i: usize| match &r.results[i].outcome {
        Outcome::Rejected { message, .. } => message.clone(),
        other => panic!("mutation {i} was not refused: {other:?}"),
    };
    assert!(refusal(0).contains("no longer keeps"), "{}", refusal(0));
    assert!(matches!(r.results[1].outcome, Outcome::Applied { .. }), "{:?}", r.results[1]);
    assert!(refusal(2).contains("no document") && !refusal(2).contains("no longer keeps"), "{}", refusal(2));
}

on_both_backends!(
    old_tombstones_go_and_a_cursor_before_them_restores,
    a_pusher_is_answered_not_echoed,
    results_a_device_has_stored_are_forgotten,
    a_large_batch_and_its_cascading_delete_are_written_whole,
    signup_gives_a_personal_workspace_and_health_answers,
    login_by_email_or_username_and_wrong_password_is_refused,
    push_then_pull_on_another_device_and_retries_apply_once,
    pull_pages_in_version_order,
    same_field_from_same_base_conflicts_and_different_fields_merge,
    delete_cascades_and_edit_against_delete_conflicts,
    bad_mutations_are_rejected_one_by_one_with_reasons,
    strangers_get_404_for_workspaces_that_are_not_theirs,
    a_workspace_is_created_by_pushing_its_document,
    a_fourth_device_is_refused_until_one_is_replaced,
    idle_sessions_expire,
    live_channel_delivers_changes_and_sign_out
);
