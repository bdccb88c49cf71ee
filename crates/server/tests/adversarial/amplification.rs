//! Small requests that made the server do, keep or send a great deal: every
//! answer, page and stored result now stays small whatever the batch holds.

use crate::support::{Backend, TestServer, create, error_code, set};
use model::{Id, Kind, Mutation, Op};
use protocol::limits::{ANSWER_DOC_BYTES, PAGE_BYTES};
use protocol::{Changes, DocsAnswer, ErrorCode, Outcome};
use serde_json::json;

/// A description of about `n` bytes (a field may hold 1 MiB).
fn text(n: usize) -> String {
    "x".repeat(n)
}

fn request(parent: Id, name: &str, description_bytes: usize) -> Mutation {
    create(Kind::Request, Some(parent), json!({"name": name, "method": "GET", "url": "u", "description": text(description_bytes)}))
}

/// Ann's workspace with a collection holding `n` requests of ~1 MB each,
/// pushed nine at a time (under the 32 MiB body limit): the server, ann's
/// token, the workspace, the collection's id and version, and the requests' ids.
async fn big_collection(b: Backend, n: usize) -> (TestServer, String, Id, (Id, u64), Vec<Id>) {
    let s = TestServer::start(b, |_| {}).await;
    let a = s.signup("ann").await;
    let ws = a.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "C"}));
    let made = s.push_ok(&a.token, ws, std::slice::from_ref(&col)).await;
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(9) {
        let batch: Vec<Mutation> = (start..n.min(start + 9)).map(|i| request(col.doc_id, &format!("r{i}"), 1_000_000)).collect();
        ids.extend(batch.iter().map(|m| m.doc_id));
        s.push_ok(&a.token, ws, &batch).await;
    }
    (s, a.token, ws, (col.doc_id, made.seq), ids)
}

/// Bytes of the data directory (SQLite) or of the whole database (PostgreSQL).
async fn stored_bytes(s: &TestServer) -> u64 {
    match &s.db_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut conn).await.unwrap();
            n as u64
        }
        None => std::fs::read_dir(s.dir.path()).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum(),
    }
}

/// 400 empty sets on a document with a 1 MB description made a 61 KB
/// request whose answer was ~400 MB (each result carried the document), and
/// 100 such pushes grew the database by 181 MiB (each stored result did).
async fn empty_sets_on_a_big_document_answer_and_store_little(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let a = s.signup("ann").await;
    let ws = a.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "C"}));
    let big = request(col.doc_id, "big", 1_000_000);
    s.push_ok(&a.token, ws, &[col, big.clone()]).await;
    let empties = |n| -> Vec<Mutation> { (0..n).map(|_| set(big.doc_id, 0, json!({}))).collect() };

    let (status, v) = s.push(&a.token, ws, &empties(400)).await;
    assert_eq!(status, 200, "{v}");
    let bytes = serde_json::to_vec(&v).unwrap().len();
    assert!(bytes < 64 * 1024, "a push of 400 no-ops answered {bytes} bytes");
    assert!(v.get("docs").is_none(), "a no-op sends no document back");

    let before = stored_bytes(&s).await;
    for _ in 0..100 {
        s.push_ok(&a.token, ws, &empties(400)).await;
    }
    let grown = stored_bytes(&s).await.saturating_sub(before);
    assert!(grown < 24 * 1024 * 1024, "100 pushes of 400 no-ops grew storage by {} MiB", grown / (1024 * 1024));
}

/// Results that need the server's copy (conflicts, rejections) carry it
/// once per batch, within the answer's budget; the rest are listed as stale
/// and fetched page by page.
async fn documents_come_back_once_and_within_the_answers_budget(b: Backend) {
    let (s, token, ws, _, ids) = big_collection(b, 20).await;
    // Each document refused twice: an unknown field is rejected with the
    // server's copy, so the device can undo its edit.
    let refused: Vec<Mutation> = ids.iter().chain(&ids).map(|id| set(*id, 0, json!({"nmae": "typo"}))).collect();
    let (status, v) = s.push(&token, ws, &refused).await;
    assert_eq!(status, 200, "{v}");
    let bytes = serde_json::to_vec(&v).unwrap().len();
    assert!(bytes < ANSWER_DOC_BYTES + 256 * 1024, "the answer was {bytes} bytes");
    let answer: protocol::PushResponse = serde_json::from_value(v).unwrap();
    assert!(answer.results.iter().all(|r| matches!(r.outcome, Outcome::Rejected { .. })));
    let mut sent: Vec<Id> = answer.docs.iter().map(|d| d.id).collect();
    let n = sent.len();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), n, "a document came back twice in one answer");
    assert!(!answer.stale.is_empty(), "20 MB of documents cannot all fit in the answer");
    let mut all: Vec<Id> = answer.docs.iter().map(|d| d.id).chain(answer.stale.iter().copied()).collect();
    all.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(all, want, "every refused document is sent or listed, once");

    // The stale ones come by fetch, bounded by the page budget.
    let mut wanted = answer.stale.clone();
    let mut fetched = 0;
    for _ in 0..20 {
        if wanted.is_empty() {
            break;
        }
        let (status, v) =
            s.call(reqwest::Method::POST, &format!("/v1/workspaces/{ws}/docs"), Some(&token), Some(json!({"ids": wanted}))).await;
        assert_eq!(status, 200, "{v}");
        assert!(serde_json::to_vec(&v).unwrap().len() < PAGE_BYTES + 256 * 1024);
        let page: DocsAnswer = serde_json::from_value(v).unwrap();
        assert!(!page.docs.is_empty());
        fetched += page.docs.len();
        wanted = page.more;
    }
    assert_eq!(fetched, answer.stale.len());
}

/// 500 saved responses of 1 MB in one `?limit=2000` page took a 1.5 GiB
/// server down: pages are bounded by bytes as well as by count.
async fn pull_pages_are_bounded_by_bytes(b: Backend) {
    let (s, token, ws, _, _) = big_collection(b, 40).await;
    let (status, v) = s.call(reqwest::Method::GET, &format!("/v1/workspaces/{ws}/changes?after=0&limit=2000"), Some(&token), None).await;
    assert_eq!(status, 200);
    let page: Changes = serde_json::from_value(v).unwrap();
    assert!(page.more, "40 MB do not fit in one page");
    let bytes: usize = page.docs.iter().map(|d| serde_json::to_vec(&d.fields).unwrap().len()).sum();
    assert!(bytes <= PAGE_BYTES, "a page held {bytes} bytes of documents");
    assert_eq!(s.pull_all(&token, ws, 0).await.len(), 42, "paging still reaches every document");
}

/// A push that would read more stored documents than a push may is refused
/// as too large (the device sends fewer at a time); a batch of one always runs.
async fn a_push_reads_at_most_its_budget_of_stored_documents(b: Backend) {
    let (s, token, ws, _, ids) = big_collection(b, 72).await;
    // 72 documents of 1 MB: past the 64 MiB a push may read.
    let touch_all: Vec<Mutation> = ids.iter().map(|id| set(*id, 0, json!({"name": "renamed"}))).collect();
    let (status, v) = s.push(&token, ws, &touch_all).await;
    assert_eq!((status, error_code(&v)), (413, ErrorCode::PayloadTooLarge), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("fewer mutations"));
    // Nothing of it was applied, and a smaller batch goes through.
    let r = s.push_ok(&token, ws, &touch_all[..10]).await;
    assert!(r.results.iter().all(|r| matches!(r.outcome, Outcome::Applied { .. })));
}

/// A delete of a large subtree marks its descendants deleted without
/// reading them: a single small mutation cannot make the server load them.
async fn deleting_a_large_subtree_reads_none_of_it(b: Backend) {
    let (s, token, ws, (col, made), _) = big_collection(b, 72).await;
    // 72 MB under the collection, past what one push may read: the cascade still runs.
    let del = Mutation { mutation_id: Id::now_v7(), doc_id: col, base_version: made, op: Op::Delete };
    let out = s.push_ok(&token, ws, &[del]).await;
    assert!(matches!(out.results[0].outcome, Outcome::Applied { .. }), "{:?}", out.results[0]);
    let after = s.pull_all(&token, ws, made).await;
    assert_eq!(after.iter().filter(|d| d.deleted && d.kind == Kind::Request).count(), 72);
    assert!(s.pull_all(&token, ws, 0).await.iter().all(|d| d.kind == Kind::Workspace), "the snapshot holds nothing of it");
}

/// Calls other than a push take small bodies: a 1 MB sign-in is refused
/// before anything reads it.
async fn small_calls_take_small_bodies(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let (status, v) = s
        .call(
            reqwest::Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"user": "ann", "password": text(1_000_000), "device": {"id": Id::now_v7(), "name": "x"}})),
        )
        .await;
    assert_eq!((status, error_code(&v)), (413, ErrorCode::PayloadTooLarge), "{v}");
}

on_both_backends!(
    empty_sets_on_a_big_document_answer_and_store_little,
    documents_come_back_once_and_within_the_answers_budget,
    pull_pages_are_bounded_by_bytes,
    a_push_reads_at_most_its_budget_of_stored_documents,
    deleting_a_large_subtree_reads_none_of_it,
    small_calls_take_small_bodies,
);
