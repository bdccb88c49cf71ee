//! Pushes on PostgreSQL: the documents a batch needs, loaded in bulk
//! before it runs (and again on a miss), and the rows it writes, gathered
//! column by column for one `UNNEST` statement per table.

use super::{DOC_COLUMNS, stored};
use crate::push::DocSource;
use crate::store::StoreError;
use model::{Id, Mutation, Op, Stored};
use protocol::MutationResult;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Documents to write, column by column, for one `UNNEST` upsert.
#[derive(Default)]
pub(super) struct DocColumns {
    pub(super) id: Vec<Id>,
    pub(super) workspace: Vec<Id>,
    pub(super) kind: Vec<String>,
    pub(super) parent: Vec<Option<Id>>,
    pub(super) order_key: Vec<Option<String>>,
    pub(super) fields: Vec<String>,
    pub(super) clocks: Vec<String>,
    pub(super) deleted_seq: Vec<Option<i64>>,
    pub(super) deleted_dev: Vec<Option<i64>>,
    pub(super) version: Vec<i64>,
}

impl DocColumns {
    pub(super) fn push(&mut self, s: &Stored, workspace: Id) -> Result<(), StoreError> {
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
pub(super) struct MemSource {
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

    pub(super) async fn preload(&mut self, conn: &mut PgConnection, mutations: &[Mutation]) -> Result<(), StoreError> {
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

    pub(super) async fn fill_misses(&mut self, conn: &mut PgConnection) -> Result<(), StoreError> {
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
