//! Values that broke storage or crossed tenants: control characters in
//! names, oversized workspace names, cursors past 2^63, foreign mutation
//! ids and document ids, deleted workspace ids, and restores of what is
//! not deleted. Every refusal is a 4xx with the documented body.

use crate::support::{Backend, TestServer, create, error_code, set};
use model::{Id, Kind, Mutation, Op};
use protocol::{Changes, ErrorCode, Outcome};
use serde_json::{Value, json};

fn signup_body(email: &str, username: &str, device: &str) -> Value {
    json!({"email": email, "username": username, "password": "correct horse", "device": {"id": Id::now_v7(), "name": device}})
}

fn create_workspace(ws: Id, name: &str) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: ws,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: crate::support::fields(json!({"name": name})) },
    }
}

/// Asserts a 400 whose message names `field`.
fn refused(status: u16, v: &Value, field: &str) {
    assert_eq!((status, error_code(v)), (400, ErrorCode::BadRequest), "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains(field), "the message should name the {field}: {msg}");
}

/// On PostgreSQL a NUL gave 500 on seven endpoints, including the
/// unauthenticated sign-in, and a NUL in the device name created the
/// account while answering 500.
async fn control_characters_are_refused_naming_the_field(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let post = |path: &'static str, token: Option<String>, body: Value| {
        let s = &s;
        async move { s.call(reqwest::Method::POST, path, token.as_deref(), Some(body)).await }
    };
    let (st, v) = post("/v1/auth/signup", None, signup_body("ann@example.com", "ann", "lap\0top")).await;
    refused(st, &v, "device name");
    let (st, v) = post("/v1/auth/signup", None, signup_body("a\0nn@example.com", "ann", "laptop")).await;
    refused(st, &v, "email");
    let (st, v) = post("/v1/auth/signup", None, signup_body("ann@example.com", "an\0n", "laptop")).await;
    refused(st, &v, "username");
    // Nothing was created by the refusals: the same account signs up now.
    let ann = s.signup("ann").await;
    let (st, v) =
        post("/v1/auth/login", None, json!({"user": "an\0n", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "x"}}))
            .await;
    refused(st, &v, "user");
    let (st, v) = post(
        "/v1/auth/login",
        None,
        json!({"user": "ann", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "\u{1b}[2J"}}),
    )
    .await;
    refused(st, &v, "device name");
    let (st, v) = post("/v1/teams", Some(ann.token.clone()), json!({"name": "Core\0"})).await;
    refused(st, &v, "team name");
    let (st, v) = post("/v1/auth/password/forgot", None, json!({"user": "ann\0"})).await;
    refused(st, &v, "user");
    let (st, v) = s.push(&ann.token, Id::now_v7(), &[create_workspace(Id::nil(), "x")]).await;
    assert_eq!(st, 404, "{v}");
    let ws = Id::now_v7();
    let (st, v) = s.push(&ann.token, ws, &[create_workspace(ws, "Team\0space")]).await;
    refused(st, &v, "workspace name");
}

/// A rejected 2 MB-name create still created the workspace, and the
/// workspace list was 2 MB for every member. Names obey 254 characters on
/// create and on rename, and a refused create creates nothing.
async fn workspace_names_are_bounded_and_a_refused_create_creates_nothing(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let ws = Id::now_v7();
    let (st, v) = s.push(&ann.token, ws, &[create_workspace(ws, &"n".repeat(2_000_000))]).await;
    assert!(st == 400 || st == 413, "{st} {v}");
    let (_, list) = s.call(reqwest::Method::GET, "/v1/workspaces", Some(&ann.token), None).await;
    assert_eq!(list["workspaces"].as_array().unwrap().len(), 1, "only the personal workspace: {list}");
    let (st, v) = s.push(&ann.token, ws, &[create_workspace(ws, &"n".repeat(255))]).await;
    refused(st, &v, "workspace name");

    let r = s.push_ok(&ann.token, ws, &[create_workspace(ws, "Team")]).await;
    let rename = s.push_ok(&ann.token, ws, &[set(ws, r.seq, json!({"name": "n".repeat(300)}))]).await;
    match &rename.results[0].outcome {
        Outcome::Rejected { message, .. } => assert!(message.contains("workspace name"), "{message}"),
        other => panic!("a 300-character rename was {other:?}"),
    }
    let (_, list) = s.call(reqwest::Method::GET, "/v1/workspaces", Some(&ann.token), None).await;
    assert!(list["workspaces"].as_array().unwrap().iter().any(|w| w["name"] == "Team"), "{list}");
}

/// `after` was cast from u64 to i64: 2^63 and up read every document,
/// tombstones included.
async fn a_cursor_past_every_version_reads_nothing(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "C"}));
    s.push_ok(&ann.token, ws, &[col]).await;
    for after in ["9223372036854775807", "9223372036854775808", "18446744073709551615"] {
        let (st, v) = s.call(reqwest::Method::GET, &format!("/v1/workspaces/{ws}/changes?after={after}"), Some(&ann.token), None).await;
        assert_eq!(st, 200, "{v}");
        let page: Changes = serde_json::from_value(v).unwrap();
        assert!(page.docs.is_empty() && !page.more, "after={after} returned {} documents", page.docs.len());
    }
}

/// `restore` brought back live and append-only documents, and skipped the
/// conflict checks every edit goes through.
async fn restore_merges_like_an_edit_also_into_a_document_already_back(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let (_, second) = s
        .call(
            reqwest::Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"user": "ann", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "second"}})),
        )
        .await;
    let second: protocol::Session = serde_json::from_value(second).unwrap();
    let ws = ann.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "C", "description": "base"}));
    let hist = create(Kind::History, None, json!({"name": "GET /x", "method": "GET", "url": "https://x"}));
    let r = s.push_ok(&ann.token, ws, &[col.clone(), hist.clone()]).await;
    let restore = |doc: Id, base: u64, f: Value| Mutation {
        mutation_id: Id::now_v7(),
        doc_id: doc,
        base_version: base,
        op: Op::Restore { fields: crate::support::fields(f) },
    };
    // Another device kept its edit over the same delete first: this restore merges like an edit.
    let live = s.push_ok(&ann.token, ws, &[restore(col.doc_id, r.seq, json!({"name": "X"}))]).await;
    assert!(
        matches!(&live.results[0].outcome, Outcome::Applied { conflicts, .. } if conflicts.is_empty()),
        "restoring a live document: {:?}",
        live.results[0]
    );
    let named = live.docs.iter().find(|d| d.id == col.doc_id).expect("the document comes back");
    assert!(!named.deleted && named.fields["name"] == "X");
    let del = |doc: Id, base: u64| Mutation { mutation_id: Id::now_v7(), doc_id: doc, base_version: base, op: Op::Delete };
    let gone = s.push_ok(&ann.token, ws, &[del(hist.doc_id, r.seq)]).await;
    let again = s.push_ok(&ann.token, ws, &[restore(hist.doc_id, gone.seq, json!({}))]).await;
    assert!(matches!(again.results[0].outcome, Outcome::Rejected { .. }), "restoring history: {:?}", again.results[0]);

    // The second device changes the description, then ann deletes the
    // collection; ann's "keep mine" restore from before the change must not
    // overwrite it silently.
    let changed = s.push_ok(&second.token, ws, &[set(col.doc_id, r.seq, json!({"description": "theirs"}))]).await;
    let deleted = s.push_ok(&ann.token, ws, &[del(col.doc_id, changed.seq)]).await;
    assert!(matches!(deleted.results[0].outcome, Outcome::Applied { .. }));
    let back = s.push_ok(&ann.token, ws, &[restore(col.doc_id, r.seq, json!({"description": "mine"}))]).await;
    match &back.results[0].outcome {
        Outcome::Applied { conflicts, .. } => {
            assert_eq!(conflicts.len(), 1, "{conflicts:?}");
            assert_eq!(conflicts[0].field, "description");
        }
        other => panic!("restore: {other:?}"),
    }
    let doc = back.docs.iter().find(|d| d.id == col.doc_id).expect("the restored document comes back");
    assert!(!doc.deleted);
    assert_eq!(doc.fields["description"], "theirs");
}

/// Stored results were found by mutation id alone: another account sending
/// the same id got the first account's result, and nothing of its own.
async fn mutation_ids_are_scoped_to_the_device_and_workspace(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let eve = s.signup("eve").await;
    let mine = create(Kind::Collection, None, json!({"name": "Ann's"}));
    s.push_ok(&ann.token, ann.workspaces[0].id, std::slice::from_ref(&mine)).await;
    let mut theirs = create(Kind::Collection, None, json!({"name": "Eve's"}));
    theirs.mutation_id = mine.mutation_id;
    let r = s.push_ok(&eve.token, eve.workspaces[0].id, std::slice::from_ref(&theirs)).await;
    assert!(matches!(r.results[0].outcome, Outcome::Applied { .. }));
    let docs = s.pull_all(&eve.token, eve.workspaces[0].id, 0).await;
    assert!(docs.iter().any(|d| d.id == theirs.doc_id), "eve's own create was applied, not answered with ann's result");
}

/// "already exists" told a stranger that an id was in use in a workspace
/// they cannot see; a deleted workspace's id could be claimed by anyone.
async fn ids_in_use_elsewhere_look_like_any_refusal_and_gone_workspaces_stay_gone(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let eve = s.signup("eve").await;
    let secret = create(Kind::Collection, None, json!({"name": "Secret"}));
    let own = create(Kind::Collection, None, json!({"name": "Own"}));
    s.push_ok(&ann.token, ann.workspaces[0].id, std::slice::from_ref(&secret)).await;
    s.push_ok(&eve.token, eve.workspaces[0].id, std::slice::from_ref(&own)).await;
    let probe = |id: Id| {
        let mut m = create(Kind::Collection, None, json!({"name": "probe"}));
        m.doc_id = id;
        m
    };
    let elsewhere = s.push_ok(&eve.token, eve.workspaces[0].id, &[probe(secret.doc_id)]).await;
    let here = s.push_ok(&eve.token, eve.workspaces[0].id, &[probe(own.doc_id)]).await;
    let message = |r: &protocol::PushResponse| match &r.results[0].outcome {
        Outcome::Rejected { code, message } => {
            (*code, message.replace(&secret.doc_id.to_string(), "ID").replace(&own.doc_id.to_string(), "ID"))
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(message(&elsewhere), message(&here), "a foreign id is refused exactly like one's own");
    assert!(!message(&elsewhere).1.contains("exists"));
    assert!(elsewhere.docs.is_empty(), "nothing of another workspace comes back");

    let ws = Id::now_v7();
    s.push_ok(&ann.token, ws, &[create_workspace(ws, "Ann's team")]).await;
    let (st, _) = s.call(reqwest::Method::DELETE, "/v1/account", Some(&ann.token), None).await;
    assert_eq!(st, 204);
    let (st, v) = s.push(&eve.token, ws, &[create_workspace(ws, "Claimed")]).await;
    assert_eq!((st, error_code(&v)), (404, ErrorCode::NotFound), "{v}");
}

/// A 10,000-deep chain of folders plus 5,000 moves into its bottom held the
/// writer for seconds: depth is limited, and each placement walks at most
/// that many levels.
async fn folder_depth_is_limited(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "C"}));
    let mut chain = vec![col.clone()];
    let mut parent = col.doc_id;
    for i in 0..200 {
        let f = create(Kind::Folder, Some(parent), json!({"name": format!("f{i}")}));
        parent = f.doc_id;
        chain.push(f);
    }
    let r = s.push_ok(&ann.token, ws, &chain).await;
    let limit = model::Limits::TREE_DEPTH;
    // The collection is at depth 1, folder i at depth i + 2.
    for (i, res) in r.results.iter().enumerate() {
        let applied = matches!(res.outcome, Outcome::Applied { .. });
        assert_eq!(applied, i < limit, "document {i} of the chain: {:?}", res.outcome);
    }
    if let Outcome::Rejected { message, .. } = &r.results[limit].outcome {
        assert!(message.contains(&format!("{limit} levels")), "{message}");
    }
    // Moves into the deepest folder are refused one by one, never walked further.
    let deepest = chain[limit - 1].doc_id;
    let side = create(Kind::Folder, Some(col.doc_id), json!({"name": "side"}));
    let sub = create(Kind::Folder, Some(side.doc_id), json!({"name": "sub"}));
    s.push_ok(&ann.token, ws, &[side.clone(), sub]).await;
    let moves: Vec<Mutation> = (0..5000)
        .map(|_| Mutation {
            mutation_id: Id::now_v7(),
            doc_id: side.doc_id,
            base_version: 0,
            op: Op::Move { parent_id: Some(deepest), order_key: "V".into() },
        })
        .collect();
    let m = s.push_ok(&ann.token, ws, &moves).await;
    assert!(m.results.iter().all(|r| matches!(r.outcome, Outcome::Rejected { .. })), "no move may put a folder past the limit");
}

on_both_backends!(
    control_characters_are_refused_naming_the_field,
    workspace_names_are_bounded_and_a_refused_create_creates_nothing,
    a_cursor_past_every_version_reads_nothing,
    restore_merges_like_an_edit_also_into_a_document_already_back,
    mutation_ids_are_scoped_to_the_device_and_workspace,
    ids_in_use_elsewhere_look_like_any_refusal_and_gone_workspaces_stay_gone,
    folder_depth_is_limited,
);
