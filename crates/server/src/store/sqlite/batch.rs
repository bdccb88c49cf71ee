//! Pushes and pulls on SQLite: the documents a batch needs, read up front
//! with two queries; its writes as multi-row INSERTs; and pull pages.

use super::tx::id;
use crate::push::{BatchOutput, DocSource};
use crate::store::{Page, PageDoc, StoreError, cursor, page_cut, raw_fields};
use model::{Clock, Document, Fields, Id, Kind, Mutation, Stored};
use protocol::MutationResult;
use protocol::limits::BATCH_LOAD_BYTES;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashMap};

pub(super) const DOC_COLUMNS: &str = "id, workspace_id, kind, parent_id, order_key, fields, clocks, deleted_seq, deleted_dev, version";

fn stored_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Stored, StoreError>> {
    let del_seq: Option<i64> = row.get(7)?;
    let del_dev: Option<i64> = row.get(8)?;
    let version: i64 = row.get(9)?;
    let (doc_id, ws, kind): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let (parent, order_key): (Option<String>, Option<String>) = (row.get(3)?, row.get(4)?);
    let (fields, clocks): (String, String) = (row.get(5)?, row.get(6)?);
    Ok((|| {
        let kind: Kind = kind.parse().map_err(|e: model::UnknownKind| StoreError::Unreadable(e.to_string()))?;
        let fields: Fields = serde_json::from_str(&fields)?;
        let clocks: BTreeMap<String, (u64, u64)> = serde_json::from_str(&clocks)?;
        Ok(Stored {
            doc: Document {
                id: id(doc_id)?,
                kind,
                workspace_id: id(ws)?,
                parent_id: parent.map(id).transpose()?,
                order_key,
                fields,
                deleted: del_seq.is_some(),
                version: version as u64,
            },
            clocks: clocks.into_iter().map(|(k, (seq, device))| (k, Clock { seq, device })).collect(),
            deleted_at: del_seq.map(|seq| Clock { seq: seq as u64, device: del_dev.unwrap_or(0) as u64 }),
        })
    })())
}

/// Documents and earlier results for one batch, read up front with two
/// queries instead of two per mutation (documents only up to the batch's
/// byte budget); anything not preloaded is read on demand.
struct TxSource<'t> {
    conn: &'t Connection,
    docs: HashMap<Id, Option<Stored>>,
    priors: HashMap<Id, MutationResult>,
}

impl<'t> TxSource<'t> {
    fn preload(conn: &'t Connection, ws: Id, device: u64, mutations: &[Mutation]) -> Result<TxSource<'t>, StoreError> {
        let ids = crate::push::named_ids(mutations);
        // Every id asked for is known afterwards: found, or known absent;
        // past the budget they are left to be read (and refused) on demand.
        let mut docs: HashMap<Id, Option<Stored>> = HashMap::with_capacity(ids.len());
        {
            let mut stmt = conn.prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM docs WHERE id IN (SELECT value FROM json_each(?1))"))?;
            let mut rows = stmt.query([serde_json::to_string(&ids)?])?;
            let mut bytes = 0;
            while let Some(row) = rows.next()? {
                let s = stored_from_row(row)??;
                bytes += model::schema::fields_len(&s.doc.fields);
                docs.insert(s.doc.id, Some(s));
                if bytes > BATCH_LOAD_BYTES {
                    break;
                }
            }
            if bytes <= BATCH_LOAD_BYTES {
                for i in &ids {
                    docs.entry(*i).or_insert(None);
                }
            }
        }
        let mids: Vec<String> = mutations.iter().map(|m| m.mutation_id.to_string()).collect();
        let mut priors = HashMap::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT mutation_id, result FROM mutations WHERE workspace_id = ?1 AND device_num = ?2
                 AND mutation_id IN (SELECT value FROM json_each(?3))",
            )?;
            let mut rows = stmt.query(params![ws.to_string(), device as i64, serde_json::to_string(&mids)?])?;
            while let Some(row) = rows.next()? {
                let result: String = row.get(1)?;
                priors.insert(id(row.get(0)?)?, serde_json::from_str(&result)?);
            }
        }
        Ok(TxSource { conn, docs, priors })
    }
}

impl DocSource for TxSource<'_> {
    fn load(&mut self, doc: Id) -> Result<Option<Stored>, StoreError> {
        // The batch keeps what it loads, so each preloaded row is handed over once.
        if let Some(preloaded) = self.docs.remove(&doc) {
            return Ok(preloaded);
        }
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {DOC_COLUMNS} FROM docs WHERE id = ?1"))?;
        stmt.query_row([doc.to_string()], stored_from_row).optional()?.transpose()
    }

    fn children(&mut self, parent: Id) -> Result<Vec<(Id, Kind)>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id, kind FROM docs WHERE parent_id = ?1 AND deleted_seq IS NULL")?;
        let rows = stmt
            .query_map([parent.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(i, k)| Ok((id(i)?, k.parse().map_err(|e: model::UnknownKind| StoreError::Unreadable(e.to_string()))?)))
            .collect()
    }

    fn prior(&mut self, mutation_id: Id) -> Result<Option<MutationResult>, StoreError> {
        // Every mutation id of the batch was looked up in preload.
        Ok(self.priors.remove(&mutation_id))
    }
}

/// Runs a batch over the stored documents.
pub(super) fn run(
    conn: &Connection,
    ws: Id,
    head: crate::push::Head,
    device: u64,
    mutations: &[Mutation],
) -> Result<BatchOutput, StoreError> {
    crate::push::apply_batch(&mut TxSource::preload(conn, ws, device, mutations)?, ws, head, device, mutations)
}

/// Rows per multi-row INSERT (SQLite binds at most 32,766 parameters).
const ROWS_PER_INSERT: usize = 200;

/// Inserts rows with a few multi-row statements rather than one statement
/// per row: the per-statement cost dominated a push's transaction.
fn insert_rows(conn: &Connection, head: &str, rows: Vec<Vec<Sql>>) -> Result<(), StoreError> {
    let Some(width) = rows.first().map(Vec::len) else { return Ok(()) };
    let one = format!("({})", vec!["?"; width].join(", "));
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("{head} VALUES {}", vec![one.as_str(); chunk.len()].join(", "));
        conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(chunk.iter().flatten()))?;
    }
    Ok(())
}

/// Writes a batch's documents and results.
pub(super) fn write(conn: &Connection, ws: Id, device: u64, out: &BatchOutput, now: i64) -> Result<(), StoreError> {
    let mut doc_rows = Vec::with_capacity(out.writes.len());
    for s in &out.writes {
        let clocks: BTreeMap<&str, (u64, u64)> = s.clocks.iter().map(|(k, c)| (k.as_str(), (c.seq, c.device))).collect();
        doc_rows.push(vec![
            Sql::Text(s.doc.id.to_string()),
            Sql::Text(ws.to_string()),
            Sql::Text(s.doc.kind.as_str().to_string()),
            s.doc.parent_id.map_or(Sql::Null, |p| Sql::Text(p.to_string())),
            s.doc.order_key.clone().map_or(Sql::Null, Sql::Text),
            Sql::Text(serde_json::to_string(&s.doc.fields)?),
            Sql::Text(serde_json::to_string(&clocks)?),
            s.deleted_at.map_or(Sql::Null, |c| Sql::Integer(c.seq as i64)),
            s.deleted_at.map_or(Sql::Null, |c| Sql::Integer(c.device as i64)),
            Sql::Integer(s.doc.version as i64),
            s.deleted_at.map_or(Sql::Null, |_| Sql::Integer(now)),
        ]);
    }
    let result_rows = out
        .new_results
        .iter()
        .map(|r| {
            Ok(vec![
                Sql::Text(ws.to_string()),
                Sql::Integer(device as i64),
                Sql::Text(r.mutation_id.to_string()),
                Sql::Text(serde_json::to_string(r)?),
            ])
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    {
        // Tombstones first: a later full write of the same document wins.
        let mut stmt =
            conn.prepare_cached("UPDATE docs SET deleted_seq = ?2, deleted_dev = ?3, version = ?2, deleted_at = ?4 WHERE id = ?1")?;
        for (doc, clock) in &out.tombstones {
            stmt.execute(params![doc.to_string(), clock.seq as i64, clock.device as i64, now])?;
        }
    }
    insert_rows(conn, &format!("INSERT OR REPLACE INTO docs ({DOC_COLUMNS}, deleted_at)"), doc_rows)?;
    insert_rows(conn, "INSERT INTO mutations (workspace_id, device_num, mutation_id, result)", result_rows)?;
    Ok(())
}

fn page_doc(r: &rusqlite::Row<'_>, ws: Id) -> Result<PageDoc, StoreError> {
    let kind: String = r.get(1)?;
    Ok(PageDoc {
        id: id(r.get(0)?)?,
        kind: kind.parse().map_err(|e: model::UnknownKind| StoreError::Unreadable(e.to_string()))?,
        workspace_id: ws,
        parent_id: r.get::<_, Option<String>>(2)?.map(id).transpose()?,
        order_key: r.get(3)?,
        fields: raw_fields(r.get(4)?)?,
        deleted: r.get::<_, Option<i64>>(5)?.is_some(),
        version: r.get::<_, i64>(6)? as u64,
    })
}

const PAGE_COLUMNS: &str = "id, kind, parent_id, order_key, fields, deleted_seq, version";

/// Runs `f` in a read transaction unless one is open already (a reader
/// connection is in autocommit; the writer is inside its transaction).
fn snapshot<T>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    let tx = conn.transaction()?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// One page of documents changed after `after`, from one read snapshot:
/// sizes first, then whole rows only for those that fit.
pub(super) fn changes(conn: &mut Connection, ws: Id, after: u64, limit: usize, budget: usize) -> Result<Page, StoreError> {
    snapshot(conn, |tx| {
        let w = ws.to_string();
        let (seq, horizon): (i64, i64) =
            tx.query_row("SELECT seq, horizon FROM workspaces WHERE id = ?1", [&w], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let live = if after == 0 { " AND deleted_seq IS NULL" } else { "" };
        let sizes: Vec<(i64, usize)> = tx
            .prepare_cached(&format!(
                "SELECT version, octet_length(fields) FROM docs WHERE workspace_id = ?1 AND version > ?2{live} ORDER BY version LIMIT ?3"
            ))?
            .query_map(params![&w, cursor(after), (limit + 1) as i64], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
            .collect::<Result<_, _>>()?;
        let n = page_cut(sizes.iter().map(|s| s.1), limit, budget);
        let mut docs = Vec::with_capacity(n);
        if let Some(&(last, _)) = n.checked_sub(1).and_then(|i| sizes.get(i)) {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {PAGE_COLUMNS} FROM docs WHERE workspace_id = ?1 AND version > ?2 AND version <= ?3{live} ORDER BY version"
            ))?;
            let mut rows = stmt.query(params![&w, cursor(after), last])?;
            while let Some(r) = rows.next()? {
                docs.push(page_doc(r, ws)?);
            }
        }
        let total = if after == 0 {
            Some(tx.query_row(&format!("SELECT COUNT(*) FROM docs WHERE workspace_id = ?1{live}"), [&w], |r| r.get::<_, i64>(0))? as u64)
        } else {
            None
        };
        Ok(Page::new(docs, after, sizes.len() > n, seq as u64, total).with_horizon(horizon as u64))
    })
}

/// These documents of a workspace as they are now, cut by their sizes.
pub(super) fn fetch(conn: &mut Connection, ws: Id, ids: &[Id], budget: usize) -> Result<(Vec<PageDoc>, Vec<Id>), StoreError> {
    snapshot(conn, |tx| {
        let w = ws.to_string();
        let mut found: HashMap<Id, usize> = HashMap::new();
        {
            let mut stmt = tx.prepare_cached(
                "SELECT id, octet_length(fields) FROM docs WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
            )?;
            let mut rows = stmt.query(params![&w, serde_json::to_string(ids)?])?;
            while let Some(r) = rows.next()? {
                found.insert(id(r.get(0)?)?, r.get::<_, i64>(1)? as usize);
            }
        }
        let present: Vec<Id> = ids.iter().copied().filter(|i| found.contains_key(i)).collect();
        let n = page_cut(present.iter().map(|i| found[i]), present.len(), budget);
        let (take, rest) = present.split_at(n);
        let mut docs = Vec::with_capacity(n);
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {PAGE_COLUMNS} FROM docs WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))"
        ))?;
        let mut rows = stmt.query(params![&w, serde_json::to_string(take)?])?;
        while let Some(r) = rows.next()? {
            docs.push(page_doc(r, ws)?);
        }
        Ok((docs, rest.to_vec()))
    })
}
