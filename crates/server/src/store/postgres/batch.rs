//! Pushes on PostgreSQL: the documents a batch needs, loaded in bulk
//! before it runs (and again on a miss), and the rows it writes, gathered
//! column by column for one `UNNEST` statement per table.

use crate::push::{BatchOutput, DocSource, Head, apply_batch};
use crate::store::{Page, PageDoc, StoreError, cursor, page_cut, raw_fields};
use model::{Clock, Document, Id, Kind, Mutation, Op, Stored};
use protocol::MutationResult;
use protocol::limits::BATCH_LOAD_BYTES;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

const DOC_COLUMNS: &str = "id, workspace_id, kind, parent_id, order_key, fields, clocks, deleted_seq, deleted_dev, version";

fn stored(row: &PgRow) -> Result<Stored, StoreError> {
    let kind: String = row.try_get("kind")?;
    let kind: Kind = kind.parse().map_err(|e: model::UnknownKind| StoreError::Unreadable(e.to_string()))?;
    let fields: String = row.try_get("fields")?;
    let clocks: String = row.try_get("clocks")?;
    let clocks: BTreeMap<String, (u64, u64)> = serde_json::from_str(&clocks)?;
    let del_seq: Option<i64> = row.try_get("deleted_seq")?;
    let del_dev: Option<i64> = row.try_get("deleted_dev")?;
    Ok(Stored {
        doc: Document {
            id: row.try_get("id")?,
            kind,
            workspace_id: row.try_get("workspace_id")?,
            parent_id: row.try_get("parent_id")?,
            order_key: row.try_get("order_key")?,
            fields: serde_json::from_str(&fields)?,
            deleted: del_seq.is_some(),
            version: row.try_get::<i64, _>("version")? as u64,
        },
        clocks: clocks.into_iter().map(|(k, (seq, device))| (k, Clock { seq, device })).collect(),
        deleted_at: del_seq.map(|seq| Clock { seq: seq as u64, device: del_dev.unwrap_or(0) as u64 }),
    })
}

/// Documents to write, column by column, for one `UNNEST` upsert.
#[derive(Default)]
struct DocColumns {
    id: Vec<Id>,
    workspace: Vec<Id>,
    kind: Vec<String>,
    parent: Vec<Option<Id>>,
    order_key: Vec<Option<String>>,
    fields: Vec<String>,
    clocks: Vec<String>,
    deleted_seq: Vec<Option<i64>>,
    deleted_dev: Vec<Option<i64>>,
    version: Vec<i64>,
    deleted_at: Vec<Option<i64>>,
}

impl DocColumns {
    fn push(&mut self, s: &Stored, workspace: Id, now: i64) -> Result<(), StoreError> {
        let clocks: BTreeMap<&str, (u64, u64)> = s.clocks.iter().map(|(k, c)| (k.as_str(), (c.seq, c.device))).collect();
        self.id.push(s.doc.id);
        self.workspace.push(workspace);
        self.kind.push(s.doc.kind.as_str().to_string());
        self.parent.push(s.doc.parent_id);
        self.order_key.push(s.doc.order_key.clone());
        self.fields.push(serde_json::to_string(&s.doc.fields)?);
        self.clocks.push(serde_json::to_string(&clocks)?);
        self.deleted_seq.push(s.deleted_at.map(|c| c.seq as i64));
        self.deleted_dev.push(s.deleted_at.map(|c| c.device as i64));
        self.version.push(s.doc.version as i64);
        self.deleted_at.push(s.deleted_at.map(|_| now));
        Ok(())
    }
}

/// Documents for [`apply_batch`], loaded in bulk; a miss stops the batch,
/// which is then run again with the missing rows loaded. Every load walks
/// the tree level by level with indexed lookups (by primary key going up,
/// by the workspace's live-children index going down), so no push ever
/// scans the table, however many documents other workspaces hold.
#[derive(Default)]
struct MemSource {
    ws: Option<Id>,
    docs: HashMap<Id, Option<Stored>>,
    children: HashMap<Id, Vec<(Id, Kind)>>,
    priors: HashMap<Id, MutationResult>,
    missing_docs: HashSet<Id>,
    missing_children: HashSet<Id>,
    /// Bytes of fields loaded; preloading stops past the batch's budget.
    bytes: usize,
}

impl DocSource for MemSource {
    fn load(&mut self, id: Id) -> Result<Option<Stored>, StoreError> {
        match self.docs.get(&id) {
            Some(d) => Ok(d.clone()),
            None => {
                self.missing_docs.insert(id);
                Err(StoreError::Miss)
            }
        }
    }

    fn children(&mut self, id: Id) -> Result<Vec<(Id, Kind)>, StoreError> {
        match (self.children.get(&id), self.docs.get(&id)) {
            (Some(c), _) => Ok(c.clone()),
            // Not stored (created by this batch): nothing stored is under it.
            (None, Some(None)) => Ok(Vec::new()),
            (None, _) => {
                self.missing_children.insert(id);
                Err(StoreError::Miss)
            }
        }
    }

    fn prior(&mut self, mutation_id: Id) -> Result<Option<MutationResult>, StoreError> {
        Ok(self.priors.get(&mutation_id).cloned())
    }
}

// PROBE: a list of ids looked up in a later column of an index is one
// lateral subquery per id, not `col = ANY($n)` nor a join. Given
// `a = $1 AND b = ANY($2)`, or the same as a join, PostgreSQL may read every
// row with that `a` and match `b` as it goes (by filter, or by hashing)
// whenever its statistics say few rows have that `a`, which a generic plan,
// knowing no workspace, always believes: then each push read all of its
// device's stored results in the workspace, or every live document of it.
// A lateral subquery behind `LIMIT 1` (a unique key) or `OFFSET 0` is not
// merged into a join, so each id is a probe of the whole key.

/// Levels a preload walks at most (the tree is at most this deep, with room
/// for data written before the limit existed).
const LEVELS: usize = 4 * model::Limits::TREE_DEPTH;

impl MemSource {
    /// Loads these documents and their ancestors: one primary-key lookup
    /// per level, whole rows only while the batch's budget lasts.
    async fn load_up(&mut self, conn: &mut PgConnection, ids: Vec<Id>) -> Result<(), StoreError> {
        let mut level: Vec<Id> = ids.into_iter().filter(|i| !self.docs.contains_key(i)).collect();
        for _ in 0..LEVELS {
            if level.is_empty() {
                return Ok(());
            }
            let light = sqlx::query("SELECT id, parent_id, octet_length(fields) AS n FROM docs WHERE id = ANY($1)")
                .bind(&level)
                .fetch_all(&mut *conn)
                .await?;
            let mut whole = Vec::new();
            let mut parents = Vec::new();
            for r in &light {
                let id: Id = r.try_get("id")?;
                self.bytes += r.try_get::<i32, _>("n")? as usize;
                if self.bytes <= BATCH_LOAD_BYTES {
                    whole.push(id);
                }
                if let Some(p) = r.try_get::<Option<Id>, _>("parent_id")? {
                    parents.push(p);
                }
            }
            let found: HashSet<Id> = light.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
            for id in &level {
                if !found.contains(id) {
                    self.docs.insert(*id, None);
                }
            }
            if !whole.is_empty() {
                for row in sqlx::query(AssertSqlSafe(format!("SELECT {DOC_COLUMNS} FROM docs WHERE id = ANY($1)")))
                    .bind(&whole)
                    .fetch_all(&mut *conn)
                    .await?
                {
                    let s = stored(&row)?;
                    self.docs.insert(s.doc.id, Some(s));
                }
            }
            parents.sort();
            parents.dedup();
            level = parents.into_iter().filter(|p| !self.docs.contains_key(p)).collect();
        }
        Ok(())
    }

    /// Loads the live subtrees under these documents: ids and kinds only,
    /// one indexed lookup of the workspace's live children per level.
    async fn load_down(&mut self, conn: &mut PgConnection, roots: Vec<Id>) -> Result<(), StoreError> {
        let Some(ws) = self.ws else { return Ok(()) };
        let mut level: Vec<Id> = roots.into_iter().filter(|r| !self.children.contains_key(r)).collect();
        // Each parent once: the lookup returns its children once per mention.
        level.sort();
        level.dedup();
        for _ in 0..LEVELS {
            if level.is_empty() {
                return Ok(());
            }
            for id in &level {
                self.children.insert(*id, Vec::new());
            }
            // One index probe per parent (see `PROBE`).
            let rows = sqlx::query(
                "SELECT c.id, c.kind, c.parent_id FROM UNNEST($2::uuid[]) AS p(id), LATERAL (
                     SELECT id, kind, parent_id FROM docs WHERE workspace_id = $1 AND parent_id = p.id AND deleted_seq IS NULL OFFSET 0
                 ) c",
            )
            .bind(ws)
            .bind(&level)
            .fetch_all(&mut *conn)
            .await?;
            let mut next = Vec::with_capacity(rows.len());
            for r in rows {
                let (id, parent): (Id, Id) = (r.try_get("id")?, r.try_get("parent_id")?);
                let kind: String = r.try_get("kind")?;
                let kind: Kind = kind.parse().map_err(|e: model::UnknownKind| StoreError::Unreadable(e.to_string()))?;
                self.children.entry(parent).or_default().push((id, kind));
                if !self.children.contains_key(&id) {
                    next.push(id);
                }
            }
            level = next;
        }
        Ok(())
    }

    async fn preload(&mut self, conn: &mut PgConnection, ws: Id, device: u64, mutations: &[Mutation]) -> Result<(), StoreError> {
        self.ws = Some(ws);
        let ids = crate::push::named_ids(mutations);
        self.load_up(conn, ids).await?;
        // Deletes cascade down; moved folders are measured down.
        let down: Vec<Id> = mutations.iter().filter(|m| matches!(m.op, Op::Delete | Op::Move { .. })).map(|m| m.doc_id).collect();
        if !down.is_empty() {
            self.load_down(conn, down).await?;
        }
        let mids: Vec<Id> = mutations.iter().map(|m| m.mutation_id).collect();
        // One primary-key probe per mutation id (see `PROBE`).
        for row in sqlx::query(
            "SELECT m.mutation_id, m.result FROM UNNEST($3::uuid[]) AS t(id), LATERAL (
                 SELECT mutation_id, result FROM mutations WHERE workspace_id = $1 AND device_num = $2 AND mutation_id = t.id LIMIT 1
             ) m",
        )
        .bind(ws)
        .bind(device as i64)
        .bind(&mids)
        .fetch_all(&mut *conn)
        .await?
        {
            let result: String = row.try_get("result")?;
            self.priors.insert(row.try_get("mutation_id")?, serde_json::from_str(&result)?);
        }
        Ok(())
    }

    async fn fill_misses(&mut self, conn: &mut PgConnection) -> Result<(), StoreError> {
        let docs: Vec<Id> = self.missing_docs.drain().collect();
        if !docs.is_empty() {
            // Asked for by name now: past the budget too (the batch refuses it).
            self.bytes = 0;
            self.load_up(conn, docs).await?;
        }
        let kids: Vec<Id> = self.missing_children.drain().collect();
        if !kids.is_empty() {
            self.load_down(conn, kids).await?;
        }
        Ok(())
    }
}

/// Rounds of loading what a batch missed before giving up (each loads
/// everything the batch reached; a handful is the most seen).
const ROUNDS: usize = 64;

/// Runs a batch from a source preloaded in bulk; a miss loads what was
/// missing and runs the (pure, deterministic) batch again.
pub(super) async fn run(
    conn: &mut PgConnection,
    ws: Id,
    head: Head,
    device: u64,
    mutations: &[Mutation],
) -> Result<BatchOutput, StoreError> {
    let mut source = MemSource::default();
    source.preload(conn, ws, device, mutations).await?;
    for _ in 0..ROUNDS {
        match apply_batch(&mut source, ws, head, device, mutations) {
            Err(StoreError::Miss) => source.fill_misses(conn).await?,
            other => return other,
        }
    }
    Err(StoreError::Limit(format!("this push needed more than {ROUNDS} rounds of reading; send fewer mutations per push")))
}

/// Writes a batch's documents and results: one `UNNEST` statement per table.
pub(super) async fn write(conn: &mut PgConnection, ws: Id, device: u64, out: &BatchOutput, now: i64) -> Result<(), StoreError> {
    if !out.tombstones.is_empty() {
        // Tombstones first: a later full write of the same document wins.
        let ids: Vec<Id> = out.tombstones.iter().map(|(id, _)| *id).collect();
        let seqs: Vec<i64> = out.tombstones.iter().map(|(_, c)| c.seq as i64).collect();
        sqlx::query(
            "UPDATE docs SET deleted_seq = t.seq, deleted_dev = $3, version = t.seq, deleted_at = $4
             FROM UNNEST($1::uuid[], $2::int8[]) AS t(id, seq) WHERE docs.id = t.id",
        )
        .bind(&ids)
        .bind(&seqs)
        .bind(device as i64)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    if !out.writes.is_empty() {
        let mut cols = DocColumns::default();
        for s in &out.writes {
            cols.push(s, ws, now)?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO docs ({DOC_COLUMNS}, deleted_at) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
             ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, order_key = excluded.order_key, fields = excluded.fields, clocks = excluded.clocks,
             deleted_seq = excluded.deleted_seq, deleted_dev = excluded.deleted_dev, version = excluded.version, deleted_at = excluded.deleted_at"
        )))
        .bind(&cols.id)
        .bind(&cols.workspace)
        .bind(&cols.kind)
        .bind(&cols.parent)
        .bind(&cols.order_key)
        .bind(&cols.fields)
        .bind(&cols.clocks)
        .bind(&cols.deleted_seq)
        .bind(&cols.deleted_dev)
        .bind(&cols.version)
        .bind(&cols.deleted_at)
        .execute(&mut *conn)
        .await?;
    }
    if !out.new_results.is_empty() {
        let mids: Vec<Id> = out.new_results.iter().map(|r| r.mutation_id).collect();
        let results: Vec<String> = out.new_results.iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
        sqlx::query(
            "INSERT INTO mutations (workspace_id, device_num, mutation_id, result)
             SELECT $1, $2, t.mid, t.result FROM UNNEST($3::uuid[], $4::text[]) AS t(mid, result)",
        )
        .bind(ws)
        .bind(device as i64)
        .bind(&mids)
        .bind(&results)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn page_doc(r: &PgRow, ws: Id) -> Result<PageDoc, StoreError> {
    let kind: String = r.try_get("kind")?;
    Ok(PageDoc {
        id: r.try_get("id")?,
        kind: kind.parse().map_err(|e: model::UnknownKind| StoreError::Unreadable(e.to_string()))?,
        workspace_id: ws,
        parent_id: r.try_get("parent_id")?,
        order_key: r.try_get("order_key")?,
        fields: raw_fields(r.try_get("fields")?)?,
        deleted: r.try_get::<Option<i64>, _>("deleted_seq")?.is_some(),
        version: r.try_get::<i64, _>("version")? as u64,
    })
}

/// One page of documents changed after `after`, from one snapshot: sizes
/// first, then whole rows only for those that fit.
pub(super) async fn changes(conn: &mut PgConnection, ws: Id, after: u64, limit: usize, budget: usize) -> Result<Page, StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let (seq, horizon): (i64, i64) =
        sqlx::query_as("SELECT seq, horizon FROM workspaces WHERE id = $1").bind(ws).fetch_one(&mut *tx).await?;
    let live = if after == 0 { " AND deleted_seq IS NULL" } else { "" };
    let sizes: Vec<(i64, i32)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT version, octet_length(fields) FROM docs WHERE workspace_id = $1 AND version > $2{live} ORDER BY version LIMIT $3"
    )))
    .bind(ws)
    .bind(cursor(after))
    .bind((limit + 1) as i64)
    .fetch_all(&mut *tx)
    .await?;
    let n = page_cut(sizes.iter().map(|s| s.1 as usize), limit, budget);
    let mut docs = Vec::with_capacity(n);
    if n > 0 {
        // The same query cut at `n`, so the same snapshot gives the same
        // rows. Asked as a version range instead, the planner took the range
        // to cover the whole workspace (versions count per workspace; its
        // statistics do not know that) and read every live document of the
        // workspace to sort them; in version order with a limit it reads the page.
        for r in sqlx::query(AssertSqlSafe(format!(
            "SELECT {DOC_COLUMNS} FROM docs WHERE workspace_id = $1 AND version > $2{live} ORDER BY version LIMIT $3"
        )))
        .bind(ws)
        .bind(cursor(after))
        .bind(n as i64)
        .fetch_all(&mut *tx)
        .await?
        {
            docs.push(page_doc(&r, ws)?);
        }
    }
    let total = if after == 0 {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM docs WHERE workspace_id = $1{live}")))
            .bind(ws)
            .fetch_one(&mut *tx)
            .await?;
        Some(n as u64)
    } else {
        None
    };
    tx.commit().await?;
    Ok(Page::new(docs, after, sizes.len() > n, seq as u64, total).with_horizon(horizon as u64))
}

/// These documents of a workspace as they are now, cut by their sizes.
pub(super) async fn fetch(conn: &mut PgConnection, ws: Id, ids: &[Id], budget: usize) -> Result<(Vec<PageDoc>, Vec<Id>), StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    // By primary key alone, the workspace checked here: with
    // `workspace_id = $1` beside it, a generic plan ANDed the ids with the
    // workspace's whole range of docs_changes (see `PROBE`).
    let found: HashMap<Id, usize> =
        sqlx::query_as::<_, (Id, Id, i32)>("SELECT id, workspace_id, octet_length(fields) FROM docs WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .filter(|(_, w, _)| *w == ws)
            .map(|(i, _, n)| (i, n as usize))
            .collect();
    let present: Vec<Id> = ids.iter().copied().filter(|i| found.contains_key(i)).collect();
    let n = page_cut(present.iter().map(|i| found[i]), present.len(), budget);
    let (take, rest) = present.split_at(n);
    let mut docs = Vec::with_capacity(n);
    for r in sqlx::query(AssertSqlSafe(format!("SELECT {DOC_COLUMNS} FROM docs WHERE id = ANY($1)"))).bind(take).fetch_all(&mut *tx).await?
    {
        // The same snapshot: these are the workspace's documents found above.
        if r.try_get::<Id, _>("workspace_id")? == ws {
            docs.push(page_doc(&r, ws)?);
        }
    }
    tx.commit().await?;
    Ok((docs, rest.to_vec()))
}
