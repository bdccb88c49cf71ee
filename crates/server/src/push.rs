//! Applying one pushed batch to a workspace: validation, authorization of
//! the document tree, the field merge, cascading deletes, and the change log
//! entries it produces. Storage-agnostic: a backend supplies documents
//! through [`DocSource`] and writes back what [`apply_batch`] returns, all in
//! one transaction.

use crate::store::StoreError;
use model::merge::{DeleteMerge, SetMerge};
use model::{Clock, Document, Fields, Id, Kind, Mutation, Op, Stored};
use protocol::{ConflictReason, ErrorCode, MutationResult, Outcome};
use std::collections::{HashMap, HashSet};

/// Where [`apply_batch`] reads the current state from.
pub trait DocSource {
    /// A document by id, in any workspace.
    fn load(&mut self, id: Id) -> Result<Option<Stored>, StoreError>;
    /// The ids of a document's children that are not deleted.
    fn children(&mut self, id: Id) -> Result<Vec<Id>, StoreError>;
    /// The stored result of a mutation id seen before.
    fn prior(&mut self, mutation_id: Id) -> Result<Option<MutationResult>, StoreError>;
}

/// One change-log entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub seq: u64,
    pub doc_id: Id,
    pub mutation_id: Id,
    pub op: &'static str,
    /// The fields a set or restore changed (creates are logged without a copy).
    pub payload: Option<Fields>,
}

/// Everything a backend writes back for one batch.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// One result per pushed mutation, in order.
    pub results: Vec<MutationResult>,
    /// Results of mutations seen for the first time, to remember.
    pub new_results: Vec<MutationResult>,
    /// Final state of every document the batch changed.
    pub writes: Vec<Stored>,
    /// The change log entries, in sequence order.
    pub log: Vec<LogEntry>,
    /// The workspace's sequence number after the batch.
    pub head: u64,
}

/// Where a document goes: its parent and a note when that is not the one
/// asked for, or why it cannot go anywhere.
type Placement = Result<(Option<Id>, Option<String>), Outcome>;

/// What placing a child needs to know of a would-be parent.
struct Summary {
    kind: Kind,
    deleted: bool,
    parent_id: Option<Id>,
    title: String,
}

struct Batch<'s, S: DocSource> {
    source: &'s mut S,
    workspace: Id,
    device: u64,
    head: u64,
    working: HashMap<Id, Stored>,
    dirty: Vec<Id>,
    log: Vec<LogEntry>,
}

/// Applies `mutations` to workspace `workspace` whose sequence is at `head`,
/// on behalf of server device number `device`.
pub fn apply_batch<S: DocSource>(
    source: &mut S,
    workspace: Id,
    head: u64,
    device: u64,
    mutations: &[Mutation],
) -> Result<BatchOutput, StoreError> {
    let mut batch = Batch { source, workspace, device, head, working: HashMap::new(), dirty: Vec::new(), log: Vec::new() };
    let mut out = BatchOutput::default();
    let mut seen: HashMap<Id, MutationResult> = HashMap::new();
    for m in mutations {
        if let Some(r) = seen.get(&m.mutation_id) {
            out.results.push(r.clone());
            continue;
        }
        if let Some(r) = batch.source.prior(m.mutation_id)? {
            seen.insert(m.mutation_id, r.clone());
            out.results.push(r);
            continue;
        }
        let outcome = batch.apply(m)?;
        let result = MutationResult { mutation_id: m.mutation_id, outcome };
        seen.insert(m.mutation_id, result.clone());
        out.new_results.push(result.clone());
        out.results.push(result);
    }
    out.head = batch.head;
    out.log = batch.log;
    let mut written = HashSet::new();
    for id in batch.dirty {
        if written.insert(id)
            && let Some(s) = batch.working.remove(&id)
        {
            out.writes.push(s);
        }
    }
    Ok(out)
}

fn rejected(code: ErrorCode, message: impl Into<String>, doc: Option<&Stored>) -> Outcome {
    Outcome::Rejected { code, message: message.into(), doc: doc.map(|s| Box::new(s.doc.clone())) }
}

impl<S: DocSource> Batch<'_, S> {
    fn get(&mut self, id: Id) -> Result<Option<Stored>, StoreError> {
        if let Some(s) = self.working.get(&id) {
            return Ok(Some(s.clone()));
        }
        let s = self.source.load(id)?;
        if let Some(s) = &s {
            self.working.insert(id, s.clone());
        }
        Ok(s)
    }

    /// What placing a child needs to know of a document of this workspace,
    /// without cloning it: kind, whether deleted, its parent, its title.
    fn summary(&mut self, id: Id) -> Result<Option<Summary>, StoreError> {
        if !self.working.contains_key(&id) {
            match self.source.load(id)? {
                Some(s) => {
                    self.working.insert(id, s);
                }
                None => return Ok(None),
            }
        }
        Ok(self.working.get(&id).filter(|s| s.doc.workspace_id == self.workspace).map(|s| Summary {
            kind: s.doc.kind,
            deleted: s.doc.deleted,
            parent_id: s.doc.parent_id,
            title: s.doc.title().to_string(),
        }))
    }

    /// A document of this workspace, or `None` (other workspaces' documents
    /// are as good as absent: they are not this device's to touch here).
    fn get_here(&mut self, id: Id) -> Result<Option<Stored>, StoreError> {
        Ok(self.get(id)?.filter(|s| s.doc.workspace_id == self.workspace))
    }

    fn next_clock(&mut self) -> Clock {
        self.head += 1;
        Clock { seq: self.head, device: self.device }
    }

    fn put(&mut self, s: Stored, m: &Mutation, op: &'static str, payload: Option<Fields>) {
        let id = s.doc.id;
        self.log.push(LogEntry { seq: s.doc.version, doc_id: id, mutation_id: m.mutation_id, op, payload });
        self.working.insert(id, s);
        self.dirty.push(id);
    }

    fn apply(&mut self, m: &Mutation) -> Result<Outcome, StoreError> {
        match &m.op {
            Op::Create { kind, parent_id, order_key, fields } => self.create(m, *kind, *parent_id, order_key.as_deref(), fields),
            Op::Set { fields } => self.set(m, fields),
            Op::Delete => self.delete(m),
            Op::Move { parent_id, order_key } => self.move_to(m, *parent_id, order_key),
            Op::Restore { fields } => self.restore(m, fields),
        }
    }

    /// Checks a parent for a document of `kind`; a deleted parent gives way
    /// to its nearest live ancestor that can hold the document. Returns the
    /// parent to use and a note when it differs.
    fn place(&mut self, kind: Kind, parent: Option<Id>, moving: Option<Id>) -> Result<Placement, StoreError> {
        let allowed = kind.parents();
        let Some(mut pid) = parent else {
            if allowed.is_empty() {
                return Ok(Ok((None, None)));
            }
            let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            return Ok(Err(rejected(ErrorCode::BadRequest, format!("a {kind} needs a parent: a {}", names.join(" or ")), None)));
        };
        if allowed.is_empty() {
            return Ok(Err(rejected(ErrorCode::BadRequest, format!("a {kind} has no parent; leave the parent out"), None)));
        }
        let mut note = None;
        let mut hops = 0;
        loop {
            let Some(Summary { kind: p_kind, deleted: p_deleted, parent_id: p_parent, title }) = self.summary(pid)? else {
                return Ok(Err(rejected(ErrorCode::NotFound, format!("parent {pid} is not in this workspace"), None)));
            };
            if Some(pid) == moving {
                return Ok(Err(rejected(ErrorCode::BadRequest, "cannot move a folder into itself or one of its own folders", None)));
            }
            if !p_deleted {
                if !allowed.contains(&p_kind) {
                    let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
                    return Ok(Err(rejected(
                        ErrorCode::BadRequest,
                        format!("a {kind} cannot go in a {p_kind}; its parent must be a {}", names.join(" or ")),
                        None,
                    )));
                }
                // Walk on up to refuse cycles when moving.
                if let Some(mid) = moving {
                    let mut up = p_parent;
                    while let Some(a) = up {
                        if a == mid {
                            return Ok(Err(rejected(
                                ErrorCode::BadRequest,
                                "cannot move a folder into itself or one of its own folders",
                                None,
                            )));
                        }
                        up = self.summary(a)?.and_then(|s| s.parent_id);
                        hops += 1;
                        if hops > 10_000 {
                            break;
                        }
                    }
                }
                return Ok(Ok((Some(pid), note)));
            }
            match p_parent {
                Some(up) if hops < 10_000 => {
                    note = Some(format!("its {p_kind} '{title}' was deleted, so it was placed in the nearest one that was not"));
                    pid = up;
                    hops += 1;
                }
                _ => {
                    return Ok(Err(rejected(
                        ErrorCode::NotFound,
                        format!("its {p_kind} '{title}' was deleted; restore it or choose another parent"),
                        None,
                    )));
                }
            }
        }
    }

    fn create(
        &mut self,
        m: &Mutation,
        kind: Kind,
        parent: Option<Id>,
        order_key: Option<&str>,
        fields: &Fields,
    ) -> Result<Outcome, StoreError> {
        if let Some(existing) = self.get(m.doc_id)? {
            let here = existing.doc.workspace_id == self.workspace;
            return Ok(rejected(
                ErrorCode::BadRequest,
                format!("a document with id {} already exists; mint a new id", m.doc_id),
                here.then_some(&existing),
            ));
        }
        if (kind == Kind::Workspace) != (m.doc_id == self.workspace) {
            return Ok(rejected(ErrorCode::BadRequest, "a workspace document's id must be its workspace's id", None));
        }
        if let Err(e) = model::schema::check_document(kind, fields) {
            return Ok(rejected(ErrorCode::BadRequest, e.to_string(), None));
        }
        if let Some(k) = order_key
            && let Err(e) = model::ordering::validate(k)
        {
            return Ok(rejected(ErrorCode::BadRequest, e.to_string(), None));
        }
        let (parent_id, note) = match self.place(kind, parent, None)? {
            Ok(p) => p,
            Err(outcome) => return Ok(outcome),
        };
        let clock = self.next_clock();
        let doc = Document {
            id: m.doc_id,
            kind,
            workspace_id: self.workspace,
            parent_id,
            order_key: order_key.map(str::to_string),
            fields: fields.clone(),
            deleted: false,
            version: clock.seq,
        };
        let doc_back = note.as_ref().map(|_| doc.clone());
        // The log records who created what and when; the fields are the
        // document's own, not copied: the copy was a third of every push's bytes.
        self.put(Stored::created(doc, clock), m, "create", None);
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], doc: doc_back, note })
    }

    fn existing(&mut self, m: &Mutation) -> Result<Result<Stored, Outcome>, StoreError> {
        match self.get_here(m.doc_id)? {
            Some(s) => Ok(Ok(s)),
            None => Ok(Err(rejected(ErrorCode::NotFound, format!("no document {} in this workspace", m.doc_id), None))),
        }
    }

    /// The server's copy goes back to the device when the device cannot work
    /// it out itself: somebody changed the document after the base version.
    fn doc_back(before: &Stored, m: &Mutation, after: &Stored) -> Option<Document> {
        (before.doc.version > m.base_version).then(|| after.doc.clone())
    }

    fn set(&mut self, m: &Mutation, fields: &Fields) -> Result<Outcome, StoreError> {
        let s = match self.existing(m)? {
            Ok(s) => s,
            Err(o) => return Ok(o),
        };
        if s.doc.kind.append_only() {
            return Ok(rejected(
                ErrorCode::BadRequest,
                format!("a {} is append-only: it cannot be edited, only deleted", s.doc.kind),
                Some(&s),
            ));
        }
        if let Err(e) = model::schema::check_fields(s.doc.kind, fields) {
            return Ok(rejected(ErrorCode::BadRequest, e.to_string(), Some(&s)));
        }
        match s.merge_set(m.base_version, self.device, fields) {
            SetMerge::DeletedSince { .. } => Ok(Outcome::Conflict { reason: ConflictReason::Deleted, conflicts: vec![], doc: s.doc }),
            SetMerge::Apply { fields: applied, conflicts } => {
                let mut candidate = s.doc.fields.clone();
                candidate.extend(applied.iter().map(|(k, v)| (k.clone(), v.clone())));
                if let Err(e) = model::schema::check_document(s.doc.kind, &candidate) {
                    return Ok(rejected(ErrorCode::BadRequest, e.to_string(), Some(&s)));
                }
                let mut next = s.clone();
                let mut version = s.doc.version;
                if !applied.is_empty() {
                    let clock = self.next_clock();
                    next.set(&applied, clock);
                    version = clock.seq;
                    self.put(next.clone(), m, "set", Some(applied));
                }
                let doc = if conflicts.is_empty() { Self::doc_back(&s, m, &next) } else { Some(next.doc.clone()) };
                Ok(Outcome::Applied { version, conflicts, doc, note: None })
            }
        }
    }

    fn delete(&mut self, m: &Mutation) -> Result<Outcome, StoreError> {
        let s = match self.existing(m)? {
            Ok(s) => s,
            Err(o) => return Ok(o),
        };
        if s.doc.kind == Kind::Workspace {
            return Ok(rejected(
                ErrorCode::BadRequest,
                "deleting a whole workspace is not supported yet; delete its documents instead",
                Some(&s),
            ));
        }
        if s.doc.deleted {
            return Ok(Outcome::Applied { version: s.doc.version, conflicts: vec![], doc: None, note: None });
        }
        if !s.doc.kind.append_only()
            && let DeleteMerge::EditedSince(conflicts) = s.merge_delete(m.base_version, self.device)
        {
            return Ok(Outcome::Conflict { reason: ConflictReason::Edited, conflicts, doc: s.doc });
        }
        let mut next = s.clone();
        let clock = self.next_clock();
        next.delete(clock);
        let doc = Self::doc_back(&s, m, &next);
        self.put(next, m, "delete", None);
        self.cascade(m, m.doc_id)?;
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], doc, note: None })
    }

    /// Deletes everything under `root`, each child with its own change.
    fn cascade(&mut self, m: &Mutation, root: Id) -> Result<(), StoreError> {
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            let mut kids: Vec<Id> = self.source.children(id)?;
            kids.extend(self.working.values().filter(|s| s.doc.parent_id == Some(id) && !s.doc.deleted).map(|s| s.doc.id));
            kids.sort();
            kids.dedup();
            for kid in kids {
                if let Some(s) = self.get_here(kid)?
                    && !s.doc.deleted
                {
                    let mut next = s;
                    let clock = self.next_clock();
                    next.delete(clock);
                    self.put(next, m, "delete", None);
                    stack.push(kid);
                }
            }
        }
        Ok(())
    }

    fn move_to(&mut self, m: &Mutation, parent: Option<Id>, order_key: &str) -> Result<Outcome, StoreError> {
        let s = match self.existing(m)? {
            Ok(s) => s,
            Err(o) => return Ok(o),
        };
        if let Err(e) = model::ordering::validate(order_key) {
            return Ok(rejected(ErrorCode::BadRequest, e.to_string(), Some(&s)));
        }
        if s.doc.deleted {
            return Ok(Outcome::Conflict { reason: ConflictReason::Deleted, conflicts: vec![], doc: s.doc });
        }
        let (parent_id, note) = match self.place(s.doc.kind, parent, Some(s.doc.id))? {
            Ok(p) => p,
            Err(Outcome::Rejected { code, message, .. }) => return Ok(rejected(code, message, Some(&s))),
            Err(o) => return Ok(o),
        };
        let mut next = s.clone();
        let clock = self.next_clock();
        next.doc.parent_id = parent_id;
        next.doc.order_key = Some(order_key.to_string());
        next.doc.version = clock.seq;
        let doc = if note.is_some() { Some(next.doc.clone()) } else { Self::doc_back(&s, m, &next) };
        self.put(next, m, "move", None);
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], doc, note })
    }

    fn restore(&mut self, m: &Mutation, fields: &Fields) -> Result<Outcome, StoreError> {
        let s = match self.existing(m)? {
            Ok(s) => s,
            Err(o) => return Ok(o),
        };
        let mut next = s.clone();
        for (k, v) in fields {
            next.doc.fields.insert(k.clone(), v.clone());
        }
        if let Err(e) = model::schema::check_document(s.doc.kind, &next.doc.fields) {
            return Ok(rejected(ErrorCode::BadRequest, e.to_string(), Some(&s)));
        }
        let mut next = s.clone();
        let clock = self.next_clock();
        next.restore(fields, clock);
        // A restored document must be reachable: bring back deleted ancestors.
        let mut up = next.doc.parent_id;
        self.put(next.clone(), m, "restore", Some(fields.clone()));
        while let Some(pid) = up {
            let Some(p) = self.get_here(pid)? else { break };
            up = p.doc.parent_id;
            if p.doc.deleted {
                let mut back = p;
                let c = self.next_clock();
                back.restore(&Fields::new(), c);
                self.put(back, m, "restore", None);
            }
        }
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], doc: Some(next.doc), note: None })
    }
}
