//! Batches one backend took and the other did not. PostgreSQL loads a
//! batch's documents in bulk and ran out of rounds one document at a time:
//! an `--offline import` of a 300-request collection, an `--offline rm` of
//! it, then `sync` answered 500 "document not preloaded" forever, and only
//! `logout --force` (losing the work) got the device out. Any batch SQLite
//! accepts, PostgreSQL accepts.

use crate::support::{Backend, TestServer, create};
use model::{Id, Kind, Mutation, Op};
use protocol::Outcome;
use serde_json::json;

async fn delete_under_create(b: Backend, n: usize) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "Imported"}));
    let folder = create(Kind::Folder, Some(col.doc_id), json!({"name": "Folder"}));
    let mut batch = vec![col.clone(), folder.clone()];
    for i in 0..n {
        let parent = if i % 2 == 0 { col.doc_id } else { folder.doc_id };
        let r = create(Kind::Request, Some(parent), json!({"name": format!("r{i}"), "method": "GET", "url": "u"}));
        let resp = create(Kind::Response, Some(r.doc_id), json!({"name": "200"}));
        batch.extend([r, resp]);
    }
    batch.push(Mutation { mutation_id: Id::now_v7(), doc_id: col.doc_id, base_version: 0, op: Op::Delete });
    let r = s.push_ok(&ann.token, ws, &batch).await;
    assert!(r.results.iter().all(|r| matches!(r.outcome, Outcome::Applied { .. })), "every mutation applies");
    let docs = s.pull_all(&ann.token, ws, 1).await;
    assert_eq!(docs.iter().filter(|d| d.deleted).count(), 2 * n + 2, "everything created is deleted with the collection");
}

async fn delete_under_300_creates(b: Backend) {
    delete_under_create(b, 300).await
}

async fn delete_under_1000_creates(b: Backend) {
    delete_under_create(b, 1000).await
}

on_both_backends!(delete_under_300_creates, delete_under_1000_creates);
