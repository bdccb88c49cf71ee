//! The web version's import: `POST /api/import` at the desktop app's path,
//! query, body (the file's bytes) and answer (`files_api.rs`). The Postman
//! importer lives with the binary (the `formats` crate, which this crate
//! does not depend on), so the binary hands it in as [`ImportFn`], the
//! conversion `apisync import` runs; the documents it makes are written
//! here as pushes of ordinary creates, as this browser's device, so roles,
//! validation and limits are the server's.

use super::{Ctx, WebState};
use crate::error::Failure;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use model::{Document, Id, Kind, Mutation, Op, ordering, schema};
use protocol::{ErrorCode, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The largest file the web version imports: a quarter of the desktop
/// app's and the CLI's 256 MiB. A server is shared: each import holds the
/// file and its converted documents (several times the file) in memory,
/// and [`IMPORTS_AT_ONCE`] of them may run, so a few browsers must not be
/// able to take a small server's memory. A larger file imports with
/// `apisync import` or the desktop app.
pub const WEB_IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Imports converted and written at once per process; more wait.
pub(super) const IMPORTS_AT_ONCE: usize = 2;

/// Room left in a push body for its framing (`{"mutations":[…]}`, commas).
const PUSH_FRAMING: usize = 64 * 1024;

/// What the importer made of one file.
pub struct Converted {
    /// The documents to create, parents before children, with their kinds,
    /// parents, order keys and fields (ids new, workspace the chosen one).
    pub documents: Vec<Document>,
    /// The file's entry of the report, as `apisync import --json` writes it.
    pub report: Value,
}

/// Converts a file (named for the report and the messages) into documents
/// for a workspace, or says why the file is not one the importer reads.
pub type ImportFn = fn(name: &str, bytes: &[u8], workspace: Id) -> Result<Converted, String>;

/// An error with one of the desktop app's own codes (`bad_file`,
/// `too_large`), in the usual error shape, so the page reads both alike.
fn app_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message.into() } }))).into_response()
}

fn too_large() -> Response {
    app_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "the file is larger than {} MiB, the most the web version imports; import it with the desktop app or `apisync import` \
             (up to 256 MiB), or export the collections from Postman one by one",
            WEB_IMPORT_LIMIT / (1024 * 1024)
        ),
    )
}

/// In front of `POST /api/import`: an upload whose declared length is over
/// [`WEB_IMPORT_LIMIT`] is refused before any of it is read.
pub(super) async fn declared_size(req: Request, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > WEB_IMPORT_LIMIT as u64) {
        return too_large();
    }
    next.run(req).await
}

/// The query of `POST /api/import`, the desktop app's.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImportQuery {
    /// The workspace (id or name); the personal one when absent.
    #[serde(default)]
    workspace: Option<String>,
    /// The file's name, for the report and the error message.
    #[serde(default)]
    name: Option<String>,
    /// Refused on the web (see [`import`]).
    #[serde(default)]
    replace: bool,
}

/// `POST /api/import?workspace=ID&name=FILE`, the body the file's bytes:
/// converted as `apisync import` converts it, then written as pushes of
/// creates, parents first (201 with the report). A file the importer
/// refuses is a 400 `bad_file` and writes nothing. `replace=true` is
/// refused: the writes are several pushes, not one transaction, so a
/// failure part way would leave the old items deleted and the new ones
/// half written.
pub(super) async fn import(
    State(web): WebState,
    ctx: Ctx,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match run(web, ctx, query, body).await {
        Ok(answer) => answer,
        Err(refusal) => refusal,
    }
}

async fn run(
    web: std::sync::Arc<super::Web>,
    ctx: Ctx,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let fail = |f: Failure| f.into_response();
    ctx.signed_in().map_err(fail)?;
    let convert = web.state.config.web_import.ok_or_else(|| {
        fail(Failure::new(
            ErrorCode::NotFound,
            "this server does not import files: use the desktop app (`apisync app`) or `apisync import`",
        ))
    })?;
    let Query(q) = query.map_err(|r| fail(Failure::new(ErrorCode::BadRequest, r.body_text())))?;
    let bytes = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE { too_large() } else { fail(Failure::new(ErrorCode::BadRequest, r.body_text())) }
    })?;
    if q.replace {
        return Err(fail(Failure::new(
            ErrorCode::BadRequest,
            "the web version does not replace an earlier import: it writes a file as several pushes, so a failure part way would \
             leave the old items deleted; delete them first, or import with the desktop app or `apisync import --replace`",
        )));
    }
    let name = q.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "the file".to_string());
    if bytes.is_empty() {
        return Err(fail(Failure::new(ErrorCode::BadRequest, format!("{name} is empty; nothing was imported"))));
    }
    let list = web.workspace_list(&ctx).await.map_err(fail)?;
    let ws = super::docs::pick_workspace(&list, q.workspace.as_deref()).map_err(fail)?;
    let info = list.iter().find(|w| w.id == ws).ok_or_else(|| fail(Failure::new(ErrorCode::NotFound, "no such workspace")))?;
    if info.role == Role::Viewer {
        return Err(fail(Failure::new(
            ErrorCode::Forbidden,
            format!("you may view workspace '{}' but not change it; ask its owner for the editor role", info.name),
        )));
    }
    let _turn = web.imports.acquire().await.map_err(|_| fail(Failure::new(ErrorCode::Unavailable, "the server is stopping")))?;
    // Converting a large file is seconds of work: off the async threads.
    let file = name.clone();
    let converted = tokio::task::spawn_blocking(move || convert(&file, &bytes, ws))
        .await
        .map_err(|e| fail(Failure::new(ErrorCode::Internal, format!("the importer stopped: {e}"))))?
        .map_err(|e| app_error(StatusCode::BAD_REQUEST, "bad_file", format!("{name}: {e}; nothing was imported")))?;
    let existing = web.all_docs(&ctx, ws).await.map_err(fail)?;
    let mutations = creates(&converted.documents, &existing)
        .map_err(|e| app_error(StatusCode::BAD_REQUEST, "bad_file", format!("{name}: {e}; nothing was imported")))?;
    let written = mutations.len();
    for batch in batches(mutations) {
        web.push(&ctx, ws, batch).await.map_err(fail)?;
    }
    let answer = json!({ "workspace": ws, "workspace_name": info.name, "written": written, "files": [converted.report] });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The creates that write `docs` (parents before children) into a
/// workspace holding `existing`, as a device's import writes them
/// (`client::import`): top-level documents after the workspace's own,
/// children with their order keys (or after their siblings when a key is
/// missing or bad). Every document is checked first, so a file the server
/// would refuse part way writes nothing.
fn creates(docs: &[Document], existing: &[Document]) -> Result<Vec<Mutation>, String> {
    // The greatest order key under each parent so far: an appended
    // document goes after it.
    let mut last: HashMap<Option<Id>, String> = HashMap::new();
    for d in existing.iter().filter(|d| d.parent_id.is_none() && d.kind != Kind::Workspace) {
        if let Some(k) = d.order_key.as_ref().filter(|k| ordering::validate(k).is_ok()) {
            bump(&mut last, None, k);
        }
    }
    let mut kinds: HashMap<Id, Kind> = HashMap::new();
    let mut out = Vec::with_capacity(docs.len());
    for d in docs.iter().filter(|d| d.kind != Kind::Workspace) {
        schema::check_document(d.kind, &d.fields).map_err(|e| format!("{} '{}': {e}", d.kind, d.title()))?;
        if let Some(p) = d.parent_id {
            match kinds.get(&p) {
                Some(pk) if d.kind.parents().contains(pk) => {}
                Some(pk) => return Err(format!("a {} cannot go inside a {pk}", d.kind)),
                None => return Err(format!("{} '{}' comes before its parent", d.kind, d.title())),
            }
        }
        let key = match (&d.order_key, d.parent_id) {
            (Some(k), Some(_)) if ordering::validate(k).is_ok() => k.clone(),
            _ => ordering::between(last.get(&d.parent_id).map(String::as_str), None).map_err(|e| e.to_string())?,
        };
        bump(&mut last, d.parent_id, &key);
        kinds.insert(d.id, d.kind);
        let op = Op::Create { kind: d.kind, parent_id: d.parent_id, order_key: Some(key), fields: d.fields.clone() };
        out.push(Mutation { mutation_id: Id::now_v7(), doc_id: d.id, base_version: 0, op });
    }
    Ok(out)
}

fn bump(last: &mut HashMap<Option<Id>, String>, parent: Option<Id>, key: &str) {
    let slot = last.entry(parent).or_default();
    if key > slot.as_str() {
        *slot = key.to_string();
    }
}

/// The mutations cut into pushes, in order: each at most
/// [`protocol::limits::MAX_BATCH`] mutations and within the push body
/// limit (a single larger mutation goes alone, for the server to refuse).
fn batches(mutations: Vec<Mutation>) -> Vec<Vec<Mutation>> {
    let budget = protocol::limits::MAX_BODY_BYTES - PUSH_FRAMING;
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut bytes = 0;
    for m in mutations {
        let size = serde_json::to_vec(&m).map_or(0, |v| v.len()) + 1;
        if !batch.is_empty() && (batch.len() == protocol::limits::MAX_BATCH || bytes + size > budget) {
            out.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push(m);
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Fields;
    use serde_json::Value;

    fn doc(kind: Kind, parent: Option<Id>, key: Option<&str>, name: &str) -> Document {
        Document {
            id: Id::now_v7(),
            workspace_id: Id::nil(),
            kind,
            parent_id: parent,
            order_key: key.map(str::to_string),
            fields: Fields::from_iter([("name".to_string(), Value::String(name.into()))]),
            version: 0,
            deleted: false,
        }
    }

    #[test]
    fn top_level_goes_after_the_workspace_and_children_keep_their_keys() {
        let old = doc(Kind::Collection, None, Some("m"), "old");
        let c = doc(Kind::Collection, None, Some("a"), "new");
        let f = doc(Kind::Folder, Some(c.id), Some("b"), "f");
        let g = doc(Kind::Folder, Some(c.id), None, "g");
        let m = creates(&[c.clone(), f, g], &[old]).expect("valid");
        let key = |i: usize| match &m[i].op {
            Op::Create { order_key, .. } => order_key.clone().unwrap_or_default(),
            _ => String::new(),
        };
        assert!(key(0).as_str() > "m", "after the existing collection: {}", key(0));
        assert_eq!(key(1), "b");
        assert!(key(2).as_str() > "b", "appended after its sibling: {}", key(2));
    }

    #[test]
    fn a_child_before_its_parent_or_in_a_wrong_parent_is_refused() {
        let c = doc(Kind::Collection, None, None, "c");
        let f = doc(Kind::Folder, Some(c.id), None, "f");
        assert!(creates(&[f.clone(), c.clone()], &[]).is_err());
        let e = doc(Kind::Environment, None, None, "e");
        let wrong = doc(Kind::Folder, Some(e.id), None, "f");
        assert!(creates(&[e, wrong], &[]).is_err());
    }

    #[test]
    fn batches_hold_at_most_max_batch_in_order() {
        let c = doc(Kind::Collection, None, None, "c");
        let docs: Vec<Document> = std::iter::once(c.clone())
            .chain((0..protocol::limits::MAX_BATCH + 10).map(|i| doc(Kind::Folder, Some(c.id), None, &format!("f{i}"))))
            .collect();
        let all = creates(&docs, &[]).expect("valid");
        let cut = batches(all.clone());
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[0].len(), protocol::limits::MAX_BATCH);
        let again: Vec<Id> = cut.into_iter().flatten().map(|m| m.doc_id).collect();
        assert_eq!(again, all.iter().map(|m| m.doc_id).collect::<Vec<_>>());
    }

    #[test]
    fn batches_stay_within_the_push_body_limit() {
        let big = "x".repeat(12 * 1024 * 1024);
        let mutations: Vec<Mutation> = (0..3)
            .map(|_| {
                let fields = Fields::from_iter([("name".to_string(), Value::String(big.clone()))]);
                let op = Op::Create { kind: Kind::Collection, parent_id: None, order_key: None, fields };
                Mutation { mutation_id: Id::now_v7(), doc_id: Id::now_v7(), base_version: 0, op }
            })
            .collect();
        let cut = batches(mutations);
        assert_eq!(cut.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1], "two of 12 MiB fit in 32 MiB, a third does not");
    }
}
