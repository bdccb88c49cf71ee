//! Pushes on PostgreSQL: the documents a batch needs, loaded in bulk
//! before it runs (and again on a miss), and the rows it writes, gathered
//! column by column for one `UNNEST` statement per table.

use crate::push::{BatchOutput, DocSource, apply_batch};
use crate::store::{Page, PageDoc, StoreError, raw_fields};
use model::{Clock, Document, Id, Kind, Mutation, Op, Stored};
use protocol::MutationResult;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

const DOC_COLUMNS: &str = "id, workspace_id, kind, parent_id, order_key, fields, clocks, deleted_seq, deleted_dev, version";

fn stored(row: &PgRow) -> Result<Stored, StoreError> {
    let kind: String = row.try_get("kind")?;
    let kind: Kind = kind.parse().map_err(|e: model::UnknownKind| StoreError::Corrupt(e.to_string()))?;
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
}

impl DocColumns {
    fn push(&mut self, s: &Stored, workspace: Id) -> Result<(), StoreError> {
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
        Ok(())
    }
}

/// Documents for [`apply_batch`], loaded in bulk; a miss stops the batch,
/// which is then run again with the missing rows loaded.
#[derive(Default)]
struct MemSource {
    docs: HashMap<Id, Option<Stored>>,
    children: HashMap<Id, Vec<Id>>,
    priors: HashMap<Id, MutationResult>,
    missing_docs: HashSet<Id>,
    missing_children: HashSet<Id>,
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

    fn children(&mut self, id: Id) -> Result<Vec<Id>, StoreError> {
        match self.children.get(&id) {
            Some(c) => Ok(c.clone()),
            None => {
                self.missing_children.insert(id);
                Err(StoreError::Miss)
            }
        }
    }

    fn prior(&mut self, mutation_id: Id) -> Result<Option<MutationResult>, StoreError> {
        Ok(self.priors.get(&mutation_id).cloned())
    }
}

impl MemSource {
    /// Loads these documents and all their ancestors.
    async fn load_up(&mut self, conn: &mut PgConnection, ids: Vec<Id>) -> Result<(), StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "WITH RECURSIVE up(id) AS (SELECT unnest($1::uuid[]) UNION SELECT d.parent_id FROM docs d JOIN up ON d.id = up.id WHERE d.parent_id IS NOT NULL)
             SELECT {DOC_COLUMNS} FROM docs WHERE id IN (SELECT id FROM up)"
        )))
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        for id in ids {
            self.docs.entry(id).or_insert(None);
        }
        for row in rows {
            let s = stored(&row)?;
            self.docs.insert(s.doc.id, Some(s));
        }
        Ok(())
    }

    /// Loads the live subtrees under these documents.
    async fn load_down(&mut self, conn: &mut PgConnection, roots: Vec<Id>) -> Result<(), StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "WITH RECURSIVE down(id) AS (SELECT unnest($1::uuid[]) UNION SELECT d.id FROM docs d JOIN down ON d.parent_id = down.id WHERE d.deleted_seq IS NULL)
             SELECT {DOC_COLUMNS} FROM docs WHERE id IN (SELECT id FROM down)"
        )))
        .bind(&roots)
        .fetch_all(&mut *conn)
        .await?;
        // The query returns exactly the live subtree, so each row's parent
        // is either in it or outside the subtree: one pass builds the lists.
        let mut loaded = Vec::with_capacity(rows.len());
        for row in rows {
            loaded.push(stored(&row)?);
        }
        let mut fresh: HashMap<Id, Vec<Id>> = roots.iter().map(|r| (*r, Vec::new())).collect();
        for s in &loaded {
            fresh.entry(s.doc.id).or_default();
        }
        for s in loaded.iter().filter(|s| !s.doc.deleted) {
            if let Some(parent) = s.doc.parent_id
                && let Some(list) = fresh.get_mut(&parent)
            {
                list.push(s.doc.id);
            }
        }
        for (parent, kids) in fresh {
            let list = self.children.entry(parent).or_default();
            if list.is_empty() {
                *list = kids;
            } else {
                let known: HashSet<Id> = list.iter().copied().collect();
                list.extend(kids.into_iter().filter(|k| !known.contains(k)));
            }
        }
        for s in loaded {
            self.docs.insert(s.doc.id, Some(s));
        }
        Ok(())
    }

    async fn preload(&mut self, conn: &mut PgConnection, mutations: &[Mutation]) -> Result<(), StoreError> {
        let mut ids: Vec<Id> = mutations.iter().map(|m| m.doc_id).collect();
        ids.extend(mutations.iter().filter_map(|m| match &m.op {
            Op::Create { parent_id, .. } | Op::Move { parent_id, .. } => *parent_id,
            _ => None,
        }));
        ids.sort();
        ids.dedup();
        self.load_up(conn, ids).await?;
        let deletes: Vec<Id> = mutations.iter().filter(|m| matches!(m.op, Op::Delete)).map(|m| m.doc_id).collect();
        if !deletes.is_empty() {
            self.load_down(conn, deletes).await?;
        }
        let mids: Vec<Id> = mutations.iter().map(|m| m.mutation_id).collect();
        for row in
            sqlx::query("SELECT mutation_id, result FROM mutations WHERE mutation_id = ANY($1)").bind(&mids).fetch_all(&mut *conn).await?
        {
            let result: String = row.try_get("result")?;
            self.priors.insert(row.try_get("mutation_id")?, serde_json::from_str(&result)?);
        }
        Ok(())
    }

    async fn fill_misses(&mut self, conn: &mut PgConnection) -> Result<(), StoreError> {
        let docs: Vec<Id> = self.missing_docs.drain().collect();
        if !docs.is_empty() {
            self.load_up(conn, docs).await?;
        }
        let kids: Vec<Id> = self.missing_children.drain().collect();
        if !kids.is_empty() {
            self.load_down(conn, kids).await?;
        }
        Ok(())
    }
}

/// Runs a batch from a source preloaded in bulk; a miss loads what was
/// missing and runs the (pure, deterministic) batch again.
pub(super) async fn run(
    conn: &mut PgConnection,
    ws: Id,
    head: u64,
    device: u64,
    mutations: &[Mutation],
) -> Result<BatchOutput, StoreError> {
    let mut source = MemSource::default();
    source.preload(conn, mutations).await?;
    let mut rounds = 0;
    loop {
        match apply_batch(&mut source, ws, head, device, mutations) {
            Err(StoreError::Miss) if rounds < 256 => {
                rounds += 1;
                source.fill_misses(conn).await?;
            }
            other => return other,
        }
    }
}

/// Writes a batch's documents, change log and results: one `UNNEST` statement per table.
pub(super) async fn write(conn: &mut PgConnection, ws: Id, device: u64, out: &BatchOutput, now: i64) -> Result<(), StoreError> {
    if !out.writes.is_empty() {
        let mut cols = DocColumns::default();
        for s in &out.writes {
            cols.push(s, ws)?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO docs ({DOC_COLUMNS}) SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[])
             ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id, order_key = excluded.order_key, fields = excluded.fields, clocks = excluded.clocks,
             deleted_seq = excluded.deleted_seq, deleted_dev = excluded.deleted_dev, version = excluded.version"
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
        .execute(&mut *conn)
        .await?;
    }
    if !out.log.is_empty() {
        let seqs: Vec<i64> = out.log.iter().map(|e| e.seq as i64).collect();
        let docs: Vec<Id> = out.log.iter().map(|e| e.doc_id).collect();
        let mids: Vec<Id> = out.log.iter().map(|e| e.mutation_id).collect();
        let ops: Vec<String> = out.log.iter().map(|e| e.op.to_string()).collect();
        let payloads: Vec<Option<String>> =
            out.log.iter().map(|e| e.payload.as_ref().map(serde_json::to_string).transpose()).collect::<Result<_, _>>()?;
        sqlx::query(
            "INSERT INTO change_log (workspace_id, seq, doc_id, mutation_id, device_num, op, payload, at)
             SELECT $1, t.seq, t.doc_id, t.mutation_id, $2, t.op, t.payload, $3
             FROM UNNEST($4::int8[], $5::uuid[], $6::uuid[], $7::text[], $8::text[]) AS t(seq, doc_id, mutation_id, op, payload)",
        )
        .bind(ws)
        .bind(device as i64)
        .bind(now)
        .bind(&seqs)
        .bind(&docs)
        .bind(&mids)
        .bind(&ops)
        .bind(&payloads)
        .execute(&mut *conn)
        .await?;
    }
    if !out.new_results.is_empty() {
        let mids: Vec<Id> = out.new_results.iter().map(|r| r.mutation_id).collect();
        let results: Vec<String> = out.new_results.iter().map(serde_json::to_string).collect::<Result<_, _>>()?;
        sqlx::query(
            "INSERT INTO mutations (mutation_id, workspace_id, result) SELECT t.mid, $1, t.result FROM UNNEST($2::uuid[], $3::text[]) AS t(mid, result)",
        )
        .bind(ws)
        .bind(&mids)
        .bind(&results)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One page of documents changed after `after`, from one snapshot.
pub(super) async fn changes(conn: &mut PgConnection, ws: Id, after: u64, limit: usize) -> Result<Page, StoreError> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM workspaces WHERE id = $1").bind(ws).fetch_one(&mut *tx).await?;
    let snapshot = if after == 0 { " AND deleted_seq IS NULL" } else { "" };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {DOC_COLUMNS} FROM docs WHERE workspace_id = $1 AND version > $2{snapshot} ORDER BY version LIMIT $3"
    )))
    .bind(ws)
    .bind(after as i64)
    .bind((limit + 1) as i64)
    .fetch_all(&mut *tx)
    .await?;
    let docs = rows
        .iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(PageDoc {
                id: r.try_get("id")?,
                kind: kind.parse().map_err(|e: model::UnknownKind| StoreError::Corrupt(e.to_string()))?,
                workspace_id: ws,
                parent_id: r.try_get("parent_id")?,
                order_key: r.try_get("order_key")?,
                fields: raw_fields(r.try_get("fields")?)?,
                deleted: r.try_get::<Option<i64>, _>("deleted_seq")?.is_some(),
                version: r.try_get::<i64, _>("version")? as u64,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let total = if after == 0 {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM docs WHERE workspace_id = $1{snapshot}")))
            .bind(ws)
            .fetch_one(&mut *tx)
            .await?;
        Some(n as u64)
    } else {
        None
    };
    tx.commit().await?;
    Ok(Page::new(docs, after, limit, seq as u64, total))
}
