//! The sync engine: push the outbox, store what the server made of each
//! mutation, learn the workspace list, pull what others changed.
//!
//! Every answer is stored in one transaction with the removal of the outbox
//! rows it answers, so a lost answer only means the rows are sent again (the
//! server recognises mutation ids and returns its earlier results).

use crate::outbox::{self, Pending};
use crate::profile::keys;
use crate::store::{self, Store, Workspace};
use crate::transport::Transport;
use crate::{ClientError, conflicts};
use model::{Document, Id};
use protocol::{ConflictReason, DocsRequest, ErrorCode, MutationResult, Outcome, PushRequest, PushResponse, WorkspaceInfo};
use std::collections::{HashMap, HashSet};

/// Most mutations sent in one push.
pub const PUSH_BATCH: usize = 1000;
/// Documents asked for in one pull page.
pub const PULL_PAGE: usize = 2000;

/// What one sync cycle did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Mutations the server answered.
    pub pushed: u64,
    /// Documents received.
    pub pulled: u64,
    /// New entries in the conflicts inbox.
    pub conflicts: u64,
    /// Workspaces pulled whole again because the server no longer keeps
    /// the deletions since this device last synced them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<String>,
}

/// Progress of a pull, for a progress bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullProgress {
    /// The workspace being pulled.
    pub workspace: String,
    /// Documents received so far in this workspace.
    pub done: u64,
    /// Documents to receive, when the server said.
    pub total: Option<u64>,
    /// Whether this workspace is finished.
    pub finished: bool,
}

/// A callback that hears pull progress.
pub type ProgressFn<'a> = &'a (dyn Fn(&PullProgress) + Send + Sync);

/// Runs `f` in one write transaction if the session `t` speaks for is still
/// this profile's. Another process may have signed out, or in as another
/// account, while an answer was on its way; storing it then would put back
/// what sign-out erased.
pub(crate) fn write_for<R>(
    store: &Store,
    t: &Transport,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R, ClientError>,
) -> Result<R, ClientError> {
    store.write(|tx| {
        if store::meta_get(tx, keys::TOKEN)?.as_deref() != t.token() {
            return Err(ClientError::SessionEnded);
        }
        f(tx)
    })
}

/// The documents a push answer names, with those that did not fit in it
/// fetched (bounded: each call returns at least one, and there are at most
/// as many as the batch had mutations).
async fn answer_docs(t: &Transport, ws: Id, resp: &PushResponse) -> Result<HashMap<Id, Document>, ClientError> {
    let mut docs: HashMap<Id, Document> = resp.docs.iter().map(|d| (d.id, d.clone())).collect();
    let mut wanted: Vec<Id> = resp.stale.clone();
    for _ in 0..=resp.results.len() {
        if wanted.is_empty() {
            break;
        }
        let take: Vec<Id> = wanted.drain(..wanted.len().min(protocol::limits::MAX_FETCH_IDS)).collect();
        let answer = t.fetch(ws, &DocsRequest { ids: take }).await?;
        wanted.splice(0..0, answer.more);
        docs.extend(answer.docs.into_iter().map(|d| (d.id, d)));
    }
    Ok(docs)
}

/// Pushes every workspace's outbox, in outbox order, in batches. A batch
/// the server finds too large to take at once is sent in halves.
///
/// Each answer is the pusher's own frame: a device whose cursor was where
/// the push began moves it to where the push ended, so it never downloads
/// back what it sent. Returns the workspaces whose answers showed changes
/// by others that this device has not pulled yet.
/// `connection` is this process's live connection, which is then not sent
/// these pushes back.
pub(crate) async fn push_all(
    store: &Store,
    t: &Transport,
    connection: Option<Id>,
    report: &mut SyncReport,
) -> Result<Vec<Id>, ClientError> {
    let mut behind = Vec::new();
    for ws in store.read(outbox::workspaces_with_pending)? {
        // Read once: rows only leave the outbox as their answers are stored,
        // so this stays true for every batch below.
        let answered_before = store.read(|c| outbox::oldest_id(c, ws))?;
        let mut size = PUSH_BATCH;
        loop {
            let batch = store.read(|c| outbox::for_workspace(c, ws, size))?;
            if batch.is_empty() {
                break;
            }
            let req = PushRequest { mutations: batch.iter().map(|p| p.mutation.clone()).collect(), answered_before, connection };
            match t.push(ws, &req).await {
                Ok(resp) => {
                    let docs = answer_docs(t, ws, &resp).await?;
                    let current = write_for(store, t, |tx| {
                        apply_push(tx, &batch, &resp, &docs, report)?;
                        caught_up(tx, ws, &resp)
                    })?;
                    if !current && !behind.contains(&ws) {
                        behind.push(ws);
                    }
                    size = PUSH_BATCH;
                }
                Err(ClientError::Api(e)) if e.code == ErrorCode::PayloadTooLarge && size > 1 => size = (batch.len() / 2).max(1),
                Err(ClientError::Api(e)) if matches!(e.code, ErrorCode::NotFound | ErrorCode::Forbidden) => {
                    // The workspace is gone or closed to us: keep every change
                    // in the conflicts inbox rather than lose it silently.
                    let reason = format!("rejected: {}", e.message);
                    write_for(store, t, |tx| {
                        for p in &batch {
                            conflicts::record(tx, p, &reason, None, &[])?;
                            outbox::remove(tx, p.seq)?;
                            report.conflicts += 1;
                        }
                        if e.code == ErrorCode::NotFound {
                            drop_keeping_conflicts(tx, ws)?;
                        }
                        Ok(())
                    })?;
                    if e.code == ErrorCode::NotFound {
                        break;
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(behind)
}

/// Moves the cursor over a push's own changes when the device had
/// everything before them (the live frame's rule); whether the device is
/// now at the server's head.
fn caught_up(conn: &rusqlite::Connection, ws: Id, resp: &PushResponse) -> Result<bool, ClientError> {
    let Some(cursor) = store::workspace(conn, ws)?.map(|w| w.cursor) else { return Ok(true) };
    match resp.after {
        Some(after) if cursor >= after => {
            store::advance_cursor(conn, ws, resp.seq, resp.seq)?;
            Ok(true)
        }
        _ => {
            store::advance_cursor(conn, ws, cursor, resp.seq)?;
            Ok(cursor >= resp.seq)
        }
    }
}

fn drop_keeping_conflicts(conn: &rusqlite::Connection, ws: Id) -> Result<(), ClientError> {
    let id = ws.to_string();
    conn.execute("DELETE FROM current_values WHERE doc_id IN (SELECT id FROM docs WHERE workspace_id = ?1)", [&id])?;
    conn.execute("DELETE FROM docs WHERE workspace_id = ?1", [&id])?;
    conn.execute("DELETE FROM outbox WHERE workspace_id = ?1", [&id])?;
    conn.execute("DELETE FROM workspaces WHERE id = ?1", [&id])?;
    Ok(())
}

/// Stores the answers to one pushed batch (inside one transaction).
pub(crate) fn apply_push(
    conn: &rusqlite::Connection,
    batch: &[Pending],
    resp: &PushResponse,
    docs: &HashMap<Id, Document>,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    if resp.results.len() != batch.len() {
        return Err(ClientError::Protocol(format!("sent {} mutations, got {} results", batch.len(), resp.results.len())));
    }
    for (p, r) in batch.iter().zip(&resp.results) {
        if r.mutation_id != p.mutation.mutation_id {
            return Err(ClientError::Protocol(format!(
                "result for mutation {} where {} was expected",
                r.mutation_id, p.mutation.mutation_id
            )));
        }
        // Another process of this profile may have stored this answer already.
        if outbox::get(conn, p.seq)?.is_none() {
            continue;
        }
        apply_result(conn, p, r, docs.get(&p.mutation.doc_id), report)?;
    }
    Ok(())
}

/// Stores what the server made of one mutation. `doc` is the server's
/// state of its document when the answer carried it.
fn apply_result(
    conn: &rusqlite::Connection,
    p: &Pending,
    r: &MutationResult,
    doc: Option<&Document>,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    let id = p.mutation.doc_id;
    let ws = p.workspace_id;
    outbox::remove(conn, p.seq)?;
    report.pushed += 1;
    match &r.outcome {
        Outcome::Applied { version, conflicts: held, .. } => {
            if !held.is_empty() {
                conflicts::record(conn, p, "both changed", doc, held)?;
                report.conflicts += 1;
            }
            match doc {
                Some(d) => outbox::install(conn, Some(d.clone()), id, ws)?,
                None => {
                    if let Some(mut v) = store::doc(conn, id)? {
                        // The server kept its value of each field held back.
                        for c in held {
                            match &c.theirs {
                                serde_json::Value::Null => v.fields.remove(&c.field),
                                theirs => v.fields.insert(c.field.clone(), theirs.clone()),
                            };
                        }
                        v.version = v.version.max(*version);
                        store::put_doc(conn, &v)?;
                    }
                }
            }
        }
        Outcome::Conflict { reason, conflicts: held } => {
            let why = match reason {
                ConflictReason::Deleted => "edited a document somebody else deleted",
                ConflictReason::Edited => "deleted a document somebody else edited",
            };
            conflicts::record(conn, p, why, doc, held)?;
            report.conflicts += 1;
            if let Some(d) = doc {
                outbox::install(conn, Some(d.clone()), id, ws)?;
            }
        }
        Outcome::Rejected { code, message } => {
            conflicts::record(conn, p, &format!("rejected: {message}"), doc, &[])?;
            report.conflicts += 1;
            match doc {
                Some(d) => outbox::install(conn, Some(d.clone()), id, ws)?,
                None => {
                    // A document the server never had, or no longer has (deleted
                    // and its tombstone since removed), leaves the view (unless
                    // a later waiting mutation creates it again).
                    if *code == ErrorCode::NotFound || store::doc(conn, id)?.is_none_or(|v| v.version == 0) {
                        outbox::install(conn, None, id, ws)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Stores the workspace list the server sent; drops the local data of
/// workspaces it no longer lists (unless changes for them still wait).
pub(crate) fn store_workspaces(conn: &rusqlite::Connection, list: &[WorkspaceInfo]) -> Result<(), ClientError> {
    for w in list {
        store::upsert_workspace(
            conn,
            &Workspace {
                id: w.id,
                name: w.name.clone(),
                role: Some(w.role.as_str().to_string()),
                cursor: 0,
                head: w.seq,
                personal: w.personal,
                local_only: false,
            },
        )?;
    }
    let pending = outbox::workspaces_with_pending(conn)?;
    for ws in store::workspaces(conn)? {
        if !ws.local_only && !list.iter().any(|w| w.id == ws.id) && !pending.contains(&ws.id) {
            store::drop_workspace(conn, ws.id)?;
        }
    }
    Ok(())
}

/// Fetches the workspace list and stores it.
pub(crate) async fn refresh_workspaces(store: &Store, t: &Transport) -> Result<(), ClientError> {
    let list = t.workspaces().await?;
    write_for(store, t, |tx| store_workspaces(tx, &list.workspaces))
}

/// A pulled document: [`protocol::Changes`]' documents, with the fields
/// kept as the server's JSON text, which is what the store holds. A
/// restore of thousands neither builds them as values nor writes them out
/// again; only documents that need more (a replay, a workspace's name)
/// are parsed.
#[derive(serde::Deserialize)]
pub(crate) struct PulledDoc {
    id: Id,
    kind: model::Kind,
    workspace_id: Id,
    #[serde(default)]
    parent_id: Option<Id>,
    #[serde(default)]
    order_key: Option<String>,
    fields: Box<serde_json::value::RawValue>,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    version: u64,
}

impl PulledDoc {
    /// The document, its fields parsed.
    fn document(&self) -> Result<Document, ClientError> {
        Ok(Document { fields: serde_json::from_str(self.fields.get())?, ..self.head() })
    }

    /// The document without its fields.
    fn head(&self) -> Document {
        Document {
            id: self.id,
            kind: self.kind,
            workspace_id: self.workspace_id,
            parent_id: self.parent_id,
            order_key: self.order_key.clone(),
            fields: model::Fields::new(),
            deleted: self.deleted,
            version: self.version,
        }
    }
}

/// One page of a pull, as [`protocol::Changes`] with [`PulledDoc`]s.
#[derive(serde::Deserialize)]
pub(crate) struct PulledPage {
    docs: Vec<PulledDoc>,
    next: u64,
    more: bool,
    seq: u64,
    #[serde(default)]
    total: Option<u64>,
}

/// Stores a pulled page's documents as [`store_docs`] does, writing the
/// fields' text as it came when nothing waits to be replayed over them.
fn store_pulled(conn: &rusqlite::Connection, ws: Id, docs: &[PulledDoc]) -> Result<u64, ClientError> {
    let pending = outbox::workspaces_with_pending(conn)?.contains(&ws);
    let mut n = 0;
    for d in docs {
        if d.workspace_id != ws || !newer(conn, d.id, d.version)? {
            continue;
        }
        if pending {
            outbox::install(conn, Some(d.document()?), d.id, ws)?;
        } else if d.kind == model::Kind::Workspace {
            store::put_doc(conn, &d.document()?)?;
        } else {
            store::put_doc_text(conn, &d.head(), d.fields.get())?;
        }
        n += 1;
    }
    Ok(n)
}

/// Stores pulled documents: each replaces the view (with waiting mutations
/// replayed) unless the view is already based on a newer version.
pub(crate) fn store_docs(conn: &rusqlite::Connection, ws: Id, docs: &[Document]) -> Result<u64, ClientError> {
    // Nothing waits in this workspace (a restore, mostly): nothing to replay.
    let pending = outbox::workspaces_with_pending(conn)?.contains(&ws);
    let mut n = 0;
    for d in docs {
        if d.workspace_id != ws || !newer(conn, d.id, d.version)? {
            continue;
        }
        if pending {
            outbox::install(conn, Some(d.clone()), d.id, ws)?;
        } else {
            store::put_doc(conn, d)?;
        }
        n += 1;
    }
    Ok(n)
}

/// Whether a pulled `version` of a document may replace the view's: the
/// view never goes back.
fn newer(conn: &rusqlite::Connection, id: Id, version: u64) -> Result<bool, ClientError> {
    Ok(store::doc_version(conn, id)?.is_none_or(|v| version >= v))
}

/// Pulls one workspace from its cursor until the server has nothing more.
/// When the server no longer keeps the deletions since the cursor
/// (`restore_required`: the device was away longer than the server keeps
/// tombstones), pulls it again from 0 and drops what the server no longer
/// has, keeping documents with unsent edits and every current value of
/// the documents that remain.
pub(crate) async fn pull(
    store: &Store,
    t: &Transport,
    ws: &Workspace,
    progress: Option<ProgressFn<'_>>,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    let cursor = store.read(|c| store::workspace(c, ws.id))?.map_or(0, |w| w.cursor);
    match pull_from(store, t, ws, cursor, None, progress, report).await {
        Err(ClientError::Api(e)) if e.code == ErrorCode::RestoreRequired => {
            let mut seen = HashSet::new();
            pull_from(store, t, ws, 0, Some(&mut seen), progress, report).await?;
            write_for(store, t, |tx| store::drop_docs_except(tx, ws.id, &seen))?;
            report.restored.push(ws.name.clone());
            Ok(())
        }
        r => r,
    }
}

/// Pulls one workspace from `after`, noting the ids it receives in `seen`.
/// The next page is asked for before this one is written, so the server
/// prepares it while the device writes (a restore is bound by the slower
/// of the two, not their sum).
async fn pull_from(
    store: &Store,
    t: &Transport,
    ws: &Workspace,
    after: u64,
    mut seen: Option<&mut HashSet<Id>>,
    progress: Option<ProgressFn<'_>>,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    let mut done = 0;
    let mut total = None;
    let restoring = after == 0;
    let mut next = Prefetch::start(t, ws.id, after, false).await;
    loop {
        let page = match next.page().await {
            Ok(p) => p,
            Err(ClientError::Api(e)) if e.code == ErrorCode::NotFound => {
                // No longer ours: drop it, unless changes for it still wait.
                write_for(store, t, |tx| {
                    if !outbox::workspaces_with_pending(tx)?.contains(&ws.id) {
                        store::drop_workspace(tx, ws.id)?;
                    }
                    Ok(())
                })?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if page.more {
            next = Prefetch::start(t, ws.id, page.next, restoring).await;
        }
        if let Some(seen) = seen.as_deref_mut() {
            seen.extend(page.docs.iter().map(|d| d.id));
        }
        total = total.or(page.total);
        let n = write_for(store, t, |tx| {
            let n = store_pulled(tx, ws.id, &page.docs)?;
            store::advance_cursor(tx, ws.id, page.next, page.seq)?;
            Ok(n)
        })?;
        report.pulled += n;
        done += page.docs.len() as u64;
        if let Some(f) = progress {
            f(&PullProgress { workspace: ws.name.clone(), done, total, finished: !page.more });
        }
        if !page.more {
            return Ok(());
        }
    }
}

/// A page of changes asked for and on its way; dropped, it is abandoned.
struct Prefetch(tokio::task::JoinHandle<Result<PulledPage, ClientError>>);

impl Prefetch {
    async fn start(t: &Transport, ws: Id, after: u64, restoring: bool) -> Prefetch {
        let t = t.clone();
        let task = tokio::spawn(async move { t.page(ws, after, PULL_PAGE, restoring).await });
        // Let the request go out before the caller's synchronous write.
        tokio::task::yield_now().await;
        Prefetch(task)
    }

    async fn page(&mut self) -> Result<PulledPage, ClientError> {
        (&mut self.0).await.unwrap_or_else(|e| Err(ClientError::Io(format!("the pull stopped: {e}"))))
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Pulls every synced workspace the server's list showed to be past this
/// device's cursor.
pub(crate) async fn pull_all(
    store: &Store,
    t: &Transport,
    progress: Option<ProgressFn<'_>>,
    report: &mut SyncReport,
) -> Result<(), ClientError> {
    for ws in store.read(store::workspaces)? {
        if !ws.local_only && ws.head > ws.cursor {
            pull(store, t, &ws, progress, report).await?;
        }
    }
    Ok(())
}

/// One full cycle: push, one workspace list, and a pull of each workspace
/// that moved on. Nothing to push and nothing new costs one request.
/// `answered` runs once the server has answered, before the pull.
pub(crate) async fn cycle(
    store: &Store,
    t: &Transport,
    connection: Option<Id>,
    progress: Option<ProgressFn<'_>>,
    answered: impl FnOnce() -> Result<(), ClientError>,
) -> Result<SyncReport, ClientError> {
    let mut report = SyncReport::default();
    push_all(store, t, connection, &mut report).await?;
    refresh_workspaces(store, t).await?;
    answered()?;
    pull_all(store, t, progress, &mut report).await?;
    Ok(report)
}

/// Delivers what waits, and pulls only the workspaces whose push answers
/// showed changes by others: an edit made while nothing else changed costs
/// one request.
pub(crate) async fn deliver(store: &Store, t: &Transport) -> Result<SyncReport, ClientError> {
    let mut report = SyncReport::default();
    for ws in push_all(store, t, None, &mut report).await? {
        if let Some(w) = store.read(|c| store::workspace(c, ws))? {
            pull(store, t, &w, None, &mut report).await?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit;
    use model::{FieldConflict, Fields, Kind};
    use protocol::MutationResult;
    use serde_json::json;

    fn f(v: serde_json::Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn setup() -> (tempfile::TempDir, Store, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("apisync.db")).unwrap();
        let ws = store::test_workspace(&s);
        (dir, s, ws)
    }

    fn answer(s: &Store, ws: Id, outcomes: Vec<Outcome>) -> SyncReport {
        answer_with(s, ws, outcomes, vec![])
    }

    fn answer_with(s: &Store, ws: Id, outcomes: Vec<Outcome>, docs: Vec<Document>) -> SyncReport {
        let batch = s.read(|c| outbox::for_workspace(c, ws, PUSH_BATCH)).unwrap();
        let results =
            batch.iter().zip(outcomes).map(|(p, outcome)| MutationResult { mutation_id: p.mutation.mutation_id, outcome }).collect();
        let mut report = SyncReport::default();
        let by_id = docs.iter().map(|d| (d.id, d.clone())).collect();
        let resp = PushResponse { after: None, seq: 9, results, docs, stale: vec![] };
        s.write(|tx| apply_push(tx, &batch, &resp, &by_id, &mut report)).unwrap();
        report
    }

    #[test]
    fn answers_to_a_session_that_ended_are_not_stored() {
        let (_dir, s, ws) = setup();
        s.write(|tx| store::meta_set(tx, keys::TOKEN, "aps_now")).unwrap();
        let old = Transport::new("http://127.0.0.1:1", Some("aps_before".into()), crate::Timeouts::NORMAL, None).unwrap();
        let doc = Document {
            id: Id::now_v7(),
            kind: Kind::Collection,
            workspace_id: ws.id,
            parent_id: None,
            order_key: Some("V".into()),
            fields: f(json!({"name": "late"})),
            deleted: false,
            version: 1,
        };
        let e = write_for(&s, &old, |tx| store_docs(tx, ws.id, std::slice::from_ref(&doc))).unwrap_err();
        assert!(matches!(e, ClientError::SessionEnded), "{e}");
        assert!(s.read(|c| store::doc(c, doc.id)).unwrap().is_none());
        let now = Transport::new("http://127.0.0.1:1", Some("aps_now".into()), crate::Timeouts::NORMAL, None).unwrap();
        write_for(&s, &now, |tx| store_docs(tx, ws.id, std::slice::from_ref(&doc))).unwrap();
        assert!(s.read(|c| store::doc(c, doc.id)).unwrap().is_some());
    }

    #[test]
    fn applied_results_empty_the_outbox_and_raise_versions() {
        let (_d, s, ws) = setup();
        let c = s.write(|tx| edit::create(tx, &ws, Kind::Collection, None, f(json!({"name": "C"})))).unwrap();
        s.write(|tx| edit::set(tx, c, f(json!({"name": "C2"})))).unwrap();
        let applied = |v| Outcome::Applied { version: v, conflicts: vec![], note: None };
        let r = answer(&s, ws.id, vec![applied(1), applied(2)]);
        assert_eq!(r.pushed, 2);
        assert_eq!(s.read(outbox::count).unwrap(), 0);
        let view = s.read(|c2| store::doc(c2, c)).unwrap().unwrap();
        assert_eq!((view.version, view.title()), (2, "C2"));
        // The same answers again (another process got there first) change nothing.
        let again = answer(&s, ws.id, vec![]);
        assert_eq!(again, SyncReport::default());
    }

    #[test]
    fn field_conflicts_go_to_the_inbox_with_base_mine_and_theirs() {
        let (_d, s, ws) = setup();
        let c = s.write(|tx| edit::create(tx, &ws, Kind::Collection, None, f(json!({"name": "base"})))).unwrap();
        answer(&s, ws.id, vec![Outcome::Applied { version: 1, conflicts: vec![], note: None }]);
        s.write(|tx| edit::set(tx, c, f(json!({"name": "mine", "description": "d"})))).unwrap();
        // The answer carries no document: the held field's value is in the conflict.
        let held = vec![FieldConflict { field: "name".into(), theirs: json!("theirs"), version: 2 }];
        let r = answer(&s, ws.id, vec![Outcome::Applied { version: 3, conflicts: held, note: None }]);
        assert_eq!(r.conflicts, 1);
        let list = s.read(conflicts::list).unwrap();
        assert_eq!(list.len(), 1);
        let cf = &list[0].fields[0];
        assert_eq!((&cf.base, &cf.mine, &cf.theirs, cf.theirs_version), (&json!("base"), &json!("mine"), &json!("theirs"), 2));
        let view = s.read(|c2| store::doc(c2, c)).unwrap().unwrap();
        assert_eq!((view.title(), view.version), ("theirs", 3));
        assert_eq!(view.fields.get("description"), Some(&json!("d")), "the applied field stays");
    }

    #[test]
    fn a_rejected_edit_puts_back_the_servers_document_from_the_answer() {
        let (_d, s, ws) = setup();
        let c = s.write(|tx| edit::create(tx, &ws, Kind::Collection, None, f(json!({"name": "server"})))).unwrap();
        answer(&s, ws.id, vec![Outcome::Applied { version: 1, conflicts: vec![], note: None }]);
        let server = s.read(|c2| store::doc(c2, c)).unwrap().unwrap();
        s.write(|tx| edit::set(tx, c, f(json!({"name": "refused"})))).unwrap();
        let r = answer_with(
            &s,
            ws.id,
            vec![Outcome::Rejected { code: protocol::ErrorCode::BadRequest, message: "no".into() }],
            vec![server.clone()],
        );
        assert_eq!(r.conflicts, 1);
        assert_eq!(s.read(|c2| store::doc(c2, c)).unwrap().unwrap(), server);
    }

    #[test]
    fn a_rejected_create_leaves_the_view_but_not_the_inbox() {
        let (_d, s, ws) = setup();
        let c = s.write(|tx| edit::create(tx, &ws, Kind::Collection, None, f(json!({"name": "C"})))).unwrap();
        let r = answer(&s, ws.id, vec![Outcome::Rejected { code: protocol::ErrorCode::Forbidden, message: "viewers cannot edit".into() }]);
        assert_eq!(r.conflicts, 1);
        assert!(s.read(|c2| store::doc(c2, c)).unwrap().is_none());
        let list = s.read(conflicts::list).unwrap();
        assert_eq!(list[0].reason, "rejected: viewers cannot edit");
        assert_eq!(list[0].fields[0].mine, json!("C"));
    }

    #[test]
    fn pulled_docs_keep_pending_edits_on_top_and_never_go_back() {
        let (_d, s, ws) = setup();
        let c = s.write(|tx| edit::create(tx, &ws, Kind::Collection, None, f(json!({"name": "C"})))).unwrap();
        answer(&s, ws.id, vec![Outcome::Applied { version: 1, conflicts: vec![], note: None }]);
        s.write(|tx| edit::set(tx, c, f(json!({"description": "mine"})))).unwrap();
        let mut server = s.read(|c2| store::doc(c2, c)).unwrap().unwrap();
        server.fields = f(json!({"name": "renamed"}));
        server.version = 5;
        s.write(|tx| store_docs(tx, ws.id, std::slice::from_ref(&server))).unwrap();
        let view = s.read(|c2| store::doc(c2, c)).unwrap().unwrap();
        assert_eq!(view.fields, f(json!({"name": "renamed", "description": "mine"})));
        let mut old = server.clone();
        old.version = 4;
        old.fields = f(json!({"name": "older"}));
        s.write(|tx| store_docs(tx, ws.id, &[old])).unwrap();
        assert_eq!(s.read(|c2| store::doc(c2, c)).unwrap().unwrap().title(), "renamed");
    }

    /// A page read with the fields kept as text stores exactly what the
    /// parsed page stores, a workspace's name included.
    #[test]
    fn a_pulled_page_stores_as_the_parsed_page_does() {
        let (_d1, typed, ws) = setup();
        let (_d2, raw, _) = setup();
        raw.write(|tx| store::upsert_workspace(tx, &ws)).unwrap();
        let doc = |kind: Kind, id: Id, parent: Option<Id>, fields: serde_json::Value, deleted: bool| Document {
            id,
            kind,
            workspace_id: ws.id,
            parent_id: parent,
            order_key: Some("V".into()),
            fields: f(fields),
            deleted,
            version: 3,
        };
        let col = Id::now_v7();
        let docs = vec![
            doc(Kind::Workspace, ws.id, None, json!({"name": "Renamed ✓"}), false),
            doc(Kind::Collection, col, None, json!({"name": "C", "description": "a \"quoted\" line\n"}), false),
            doc(
                Kind::Request,
                Id::now_v7(),
                Some(col),
                json!({"name": "R", "url": "https://x/?a=1", "header": [{"key": "k", "value": 1.5}]}),
                false,
            ),
            doc(Kind::Request, Id::now_v7(), Some(col), json!({"name": "gone"}), true),
        ];
        let wire = serde_json::to_string(&protocol::Changes { docs: docs.clone(), next: 3, more: false, seq: 3, total: Some(4) }).unwrap();
        let page: PulledPage = serde_json::from_str(&wire).unwrap();
        assert_eq!((page.next, page.more, page.seq, page.total), (3, false, 3, Some(4)));
        typed.write(|tx| store_docs(tx, ws.id, &docs)).unwrap();
        raw.write(|tx| store_pulled(tx, ws.id, &page.docs)).unwrap();
        let rows = |s: &Store| {
            s.read(|c| {
                let mut st = c.prepare("SELECT id, kind, parent_id, order_key, fields, deleted, version FROM docs ORDER BY id")?;
                let rows = st
                    .query_map([], |r| {
                        Ok(format!(
                            "{}|{}|{:?}|{:?}|{}|{}|{}",
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, bool>(5)?,
                            r.get::<_, i64>(6)?
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .unwrap()
        };
        assert_eq!(rows(&raw), rows(&typed));
        let name = |s: &Store| s.read(store::workspaces).unwrap().into_iter().find(|w| w.id == ws.id).unwrap().name;
        assert_eq!(name(&raw), "Renamed ✓");
        assert_eq!(name(&raw), name(&typed));
    }
}
