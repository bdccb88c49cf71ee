//! Applying one pushed batch to a workspace: validation, placement in the
//! document tree (bounded in depth), the field merge and cascading deletes.
//! Storage-agnostic: a backend supplies
//! documents through [`DocSource`] and writes back what [`apply_batch`]
//! returns, all in one transaction.
//!
//! Every batch does bounded work: it reads at most [`BATCH_LOAD_BYTES`] of
//! stored documents (a cascade marks descendants deleted without reading
//! their fields), walks at most [`Limits::TREE_DEPTH`] levels up the tree per
//! placement and [`MOVE_WALK`] folders down per batch, and returns at most
//! [`ANSWER_DOC_BYTES`] of documents.

use crate::store::StoreError;
use crate::validate;
use model::merge::{DeleteMerge, SetMerge};
use model::schema::fields_len;
use model::{Clock, Document, Fields, Id, Kind, Limits, Mutation, Op, Stored};
use protocol::limits::{ANSWER_DOC_BYTES, BATCH_LOAD_BYTES};
use protocol::{ConflictReason, ErrorCode, MutationResult, Outcome};
use std::collections::{HashMap, HashSet};

/// Folders a batch may walk down through to learn how deep moved folders
/// reach (so a move cannot push anything past [`Limits::TREE_DEPTH`]).
pub const MOVE_WALK: usize = 10_000;

/// Where [`apply_batch`] reads the current state from.
pub trait DocSource {
    /// A document by id, in any workspace.
    fn load(&mut self, id: Id) -> Result<Option<Stored>, StoreError>;
    /// The id and kind of each child of a document that is not deleted
    /// (without reading their fields).
    fn children(&mut self, id: Id) -> Result<Vec<(Id, Kind)>, StoreError>;
    /// The stored result of a mutation id this device sent before.
    fn prior(&mut self, mutation_id: Id) -> Result<Option<MutationResult>, StoreError>;
}

/// Everything a backend writes back for one batch, and the answer's documents.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// One result per pushed mutation, in order.
    pub results: Vec<MutationResult>,
    /// Results of mutations seen for the first time, to remember.
    pub new_results: Vec<MutationResult>,
    /// Final state of every document the batch changed and read whole.
    pub writes: Vec<Stored>,
    /// Descendants a cascade deleted without reading them: set their
    /// tombstone (`deleted_seq`, `deleted_dev`, `version`) and nothing else.
    /// Written before `writes`, which may hold a later state of one of them.
    pub tombstones: Vec<(Id, Clock)>,
    /// The workspace's sequence number after the batch.
    pub head: u64,
    /// The server's state of documents the device cannot work out alone.
    pub docs: Vec<Document>,
    /// Such documents that did not fit in [`ANSWER_DOC_BYTES`].
    pub stale: Vec<Id>,
}

/// Where a document goes: its parent and a note when that is not the one
/// asked for, or why it cannot go anywhere.
type Placement = Result<(Option<Id>, Option<String>), Outcome>;

/// What placing a child needs to know of a document.
struct Summary {
    kind: Kind,
    deleted: bool,
    parent_id: Option<Id>,
}

struct Batch<'s, S: DocSource> {
    source: &'s mut S,
    workspace: Id,
    device: u64,
    head: u64,
    /// Documents deleted at or below this sequence may be gone altogether.
    horizon: u64,
    working: HashMap<Id, Stored>,
    /// Deleted by a cascade without being read.
    tombstoned: HashMap<Id, Clock>,
    dirty: Vec<Id>,
    /// Bytes of fields read from the source so far.
    loaded: usize,
    /// The size of each held document's fields, kept up to date, so no
    /// edit re-measures a whole document.
    sizes: HashMap<Id, usize>,
    /// The first mutation may read past the budget: a batch of one always runs.
    first: bool,
    /// Folders walked to measure moved folders.
    walked: usize,
    /// Documents the answer must carry, in order.
    needed: Vec<Id>,
    needed_set: HashSet<Id>,
}

/// Where a workspace is: its sequence, and the highest sequence of a
/// tombstone since removed ([`crate::compact`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub horizon: u64,
}

/// Applies `mutations` to workspace `workspace` at `head`, on behalf of
/// server device number `device`.
pub fn apply_batch<S: DocSource>(
    source: &mut S,
    workspace: Id,
    head: Head,
    device: u64,
    mutations: &[Mutation],
) -> Result<BatchOutput, StoreError> {
    let mut batch = Batch {
        source,
        workspace,
        device,
        head: head.seq,
        horizon: head.horizon,
        working: HashMap::new(),
        tombstoned: HashMap::new(),
        dirty: Vec::new(),
        loaded: 0,
        sizes: HashMap::new(),
        first: true,
        walked: 0,
        needed: Vec::new(),
        needed_set: HashSet::new(),
    };
    let mut out = BatchOutput::default();
    let mut seen: HashMap<Id, MutationResult> = HashMap::new();
    for (i, m) in mutations.iter().enumerate() {
        batch.first = i == 0;
        if let Some(r) = seen.get(&m.mutation_id) {
            out.results.push(r.clone());
            continue;
        }
        let result = match batch.source.prior(m.mutation_id)? {
            Some(r) => {
                // A resent mutation: the device still needs the documents of
                // its conflicts and rejections, as they are now.
                if matches!(r.outcome, Outcome::Conflict { .. } | Outcome::Rejected { .. }) {
                    batch.need(m.doc_id);
                }
                r
            }
            None => {
                let result = MutationResult { mutation_id: m.mutation_id, outcome: batch.apply(m)? };
                out.new_results.push(result.clone());
                result
            }
        };
        seen.insert(m.mutation_id, result.clone());
        out.results.push(result);
    }
    batch.answer_docs(&mut out)?;
    out.head = batch.head;
    out.tombstones = batch.tombstoned.into_iter().collect();
    out.tombstones.sort_by_key(|(_, c)| c.seq);
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

/// The documents a batch names (its targets and the parents it creates or
/// moves them under), sorted and once each: what a backend preloads.
pub fn named_ids(mutations: &[Mutation]) -> Vec<Id> {
    let mut ids: Vec<Id> = mutations.iter().map(|m| m.doc_id).collect();
    ids.extend(mutations.iter().filter_map(|m| match &m.op {
        Op::Create { parent_id, .. } | Op::Move { parent_id, .. } => *parent_id,
        _ => None,
    }));
    ids.sort();
    ids.dedup();
    ids
}

/// The rules a workspace's own document adds to its schema: its name is a
/// name like any other (it is listed to every member).
fn check_workspace_fields(kind: Kind, fields: &Fields) -> Result<(), String> {
    if kind != Kind::Workspace {
        return Ok(());
    }
    match fields.get("name") {
        None => Ok(()),
        Some(serde_json::Value::String(n)) => validate::name("workspace name", n).map(|_| ()).map_err(|f| f.error.message),
        Some(_) => Err("the workspace name must be a string".into()),
    }
}

/// Whether a new document of `kind` is acceptable on its own, before it is
/// placed in the tree: its size, or the reason it is not.
pub fn check_new(kind: Kind, fields: &Fields) -> Result<usize, String> {
    let size = model::schema::check_document(kind, fields).map_err(|e| e.to_string())?;
    check_workspace_fields(kind, fields)?;
    Ok(size)
}

fn rejected(code: ErrorCode, message: impl Into<String>) -> Outcome {
    Outcome::Rejected { code, message: message.into() }
}

fn too_deep() -> Outcome {
    rejected(
        ErrorCode::BadRequest,
        format!("that would nest documents more than {} levels deep; choose a parent higher up", Limits::TREE_DEPTH),
    )
}

/// How many levels a moved document takes up with what is under it, at most:
/// a request may hold saved responses, a response nothing.
fn own_height(kind: Kind) -> usize {
    match kind {
        Kind::Response => 1,
        Kind::Request => 2,
        _ => 1,
    }
}

impl<S: DocSource> Batch<'_, S> {
    /// Reads a document from the source, keeping it for the rest of the batch.
    fn load(&mut self, id: Id) -> Result<Option<&Stored>, StoreError> {
        if !self.working.contains_key(&id) {
            let Some(mut s) = self.source.load(id)? else { return Ok(None) };
            let n = fields_len(&s.doc.fields);
            self.sizes.insert(id, n);
            self.loaded += n;
            if self.loaded > BATCH_LOAD_BYTES && !self.first {
                return Err(StoreError::Limit(format!(
                    "this push touches more than {} MiB of stored documents; send fewer mutations per push",
                    BATCH_LOAD_BYTES / (1024 * 1024)
                )));
            }
            if let Some(c) = self.tombstoned.get(&id) {
                // A cascade of this batch deleted it already.
                s.delete(*c);
            }
            self.working.insert(id, s);
        }
        Ok(self.working.get(&id))
    }

    /// A document of this workspace, or `None` (other workspaces' documents
    /// are as good as absent: they are not this device's to touch here).
    /// Borrowed: a batch never copies a document it only reads.
    fn here(&mut self, id: Id) -> Result<Option<&Stored>, StoreError> {
        let ws = self.workspace;
        Ok(self.load(id)?.filter(|s| s.doc.workspace_id == ws))
    }

    /// What placing a child needs to know of a document of this workspace.
    fn summary(&mut self, id: Id) -> Result<Option<Summary>, StoreError> {
        Ok(self.here(id)?.map(|s| Summary { kind: s.doc.kind, deleted: s.doc.deleted, parent_id: s.doc.parent_id }))
    }

    /// The title of a document the batch holds (for a note).
    fn title(&self, id: Id) -> String {
        self.working.get(&id).map(|s| s.doc.title().to_string()).unwrap_or_default()
    }

    fn next_clock(&mut self) -> Clock {
        self.head += 1;
        Clock { seq: self.head, device: self.device }
    }

    /// Records the change just made to `id` in place, to be written.
    fn changed(&mut self, id: Id, m: &Mutation) {
        self.dirty.push(id);
        // The pusher works out what its own mutation did to its target;
        // what it did to others (a cascade, restored ancestors) it is told.
        if id != m.doc_id {
            self.need(id);
        }
    }

    /// Changes a document the batch holds, in place.
    fn edit(&mut self, id: Id, f: impl FnOnce(&mut Stored)) {
        if let Some(s) = self.working.get_mut(&id) {
            f(s);
        }
    }

    /// The answer will carry this document's state.
    fn need(&mut self, id: Id) {
        if self.needed_set.insert(id) {
            self.needed.push(id);
        }
    }

    /// Fills the answer's documents, each once, up to the byte budget.
    fn answer_docs(&mut self, out: &mut BatchOutput) -> Result<(), StoreError> {
        let mut room = ANSWER_DOC_BYTES;
        // Reading them must not count against the batch's own budget.
        self.first = true;
        for id in std::mem::take(&mut self.needed) {
            if self.here(id)?.is_none() {
                continue;
            }
            let n = self.sizes.get(&id).copied().unwrap_or(0);
            if n > room && !out.docs.is_empty() {
                out.stale.push(id);
            } else if let Some(s) = self.working.get(&id) {
                room = room.saturating_sub(n);
                out.docs.push(s.doc.clone());
            }
        }
        Ok(())
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

    /// How deep `id` sits (1 for a document at the top of the workspace),
    /// walking at most [`Limits::TREE_DEPTH`] levels up; `None` past that
    /// or when the walk meets `moving` (a folder moved into itself).
    fn depth(&mut self, id: Id, moving: Option<Id>) -> Result<Result<usize, Outcome>, StoreError> {
        let mut depth = 1;
        let mut up = self.summary(id)?.and_then(|s| s.parent_id);
        while let Some(a) = up {
            if Some(a) == moving {
                return Ok(Err(rejected(ErrorCode::BadRequest, "cannot move a folder into itself or one of its own folders")));
            }
            depth += 1;
            if depth > Limits::TREE_DEPTH {
                return Ok(Err(too_deep()));
            }
            up = self.summary(a)?.and_then(|s| s.parent_id);
        }
        Ok(Ok(depth))
    }

    /// How many levels a moved document spans with everything under it.
    /// Folders are walked level by level ([`MOVE_WALK`] per batch).
    fn height(&mut self, id: Id, kind: Kind) -> Result<Result<usize, Outcome>, StoreError> {
        if kind != Kind::Folder {
            return Ok(Ok(own_height(kind)));
        }
        let mut level = vec![id];
        let mut height = 0;
        while !level.is_empty() {
            height += 1;
            if height + 2 > Limits::TREE_DEPTH {
                return Ok(Err(too_deep()));
            }
            let mut next = Vec::new();
            for parent in level {
                let mut kids: Vec<Id> = Vec::new();
                for (kid, k) in self.source.children(parent)? {
                    // Documents this batch moved keep their new place.
                    let here = self.working.get(&kid).is_none_or(|s| s.doc.parent_id == Some(parent) && !s.doc.deleted);
                    if k == Kind::Folder && here && !self.tombstoned.contains_key(&kid) {
                        kids.push(kid);
                    }
                }
                kids.extend(
                    self.working
                        .values()
                        .filter(|s| s.doc.parent_id == Some(parent) && s.doc.kind == Kind::Folder && !s.doc.deleted)
                        .map(|s| s.doc.id),
                );
                kids.sort();
                kids.dedup();
                self.walked += kids.len();
                if self.walked > MOVE_WALK {
                    return Ok(Err(rejected(
                        ErrorCode::PayloadTooLarge,
                        format!("moving these folders means walking more than {MOVE_WALK} folders; move fewer at a time"),
                    )));
                }
                next.extend(kids);
            }
            level = next;
        }
        // Requests and their responses may hang under the deepest folder.
        Ok(Ok(height + 2))
    }

    /// Checks a parent for a document of `kind`; a deleted parent gives way
    /// to its nearest live ancestor that can hold the document. Returns the
    /// parent to use and a note when it differs. `height` is how many
    /// levels the placed document spans (1 for a new one).
    fn place(&mut self, kind: Kind, parent: Option<Id>, moving: Option<Id>, height: usize) -> Result<Placement, StoreError> {
        let allowed = kind.parents();
        let Some(mut pid) = parent else {
            if allowed.is_empty() {
                return Ok(Ok((None, None)));
            }
            let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
            return Ok(Err(rejected(ErrorCode::BadRequest, format!("a {kind} needs a parent: a {}", names.join(" or ")))));
        };
        if allowed.is_empty() {
            return Ok(Err(rejected(ErrorCode::BadRequest, format!("a {kind} has no parent; leave the parent out"))));
        }
        let mut note = None;
        for _ in 0..=Limits::TREE_DEPTH {
            let Some(Summary { kind: p_kind, deleted: p_deleted, parent_id: p_parent }) = self.summary(pid)? else {
                return Ok(Err(rejected(ErrorCode::NotFound, format!("parent {pid} is not in this workspace"))));
            };
            if Some(pid) == moving {
                return Ok(Err(rejected(ErrorCode::BadRequest, "cannot move a folder into itself or one of its own folders")));
            }
            if !p_deleted {
                if !allowed.contains(&p_kind) {
                    let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
                    return Ok(Err(rejected(
                        ErrorCode::BadRequest,
                        format!("a {kind} cannot go in a {p_kind}; its parent must be a {}", names.join(" or ")),
                    )));
                }
                return match self.depth(pid, moving)? {
                    Ok(d) if d + height > Limits::TREE_DEPTH => Ok(Err(too_deep())),
                    Ok(_) => Ok(Ok((Some(pid), note))),
                    Err(o) => Ok(Err(o)),
                };
            }
            match p_parent {
                Some(up) => {
                    let title = self.title(pid);
                    note = Some(format!("its {p_kind} '{title}' was deleted, so it was placed in the nearest one that was not"));
                    pid = up;
                }
                None => {
                    let title = self.title(pid);
                    return Ok(Err(rejected(
                        ErrorCode::NotFound,
                        format!("its {p_kind} '{title}' was deleted; restore it or choose another parent"),
                    )));
                }
            }
        }
        Ok(Err(too_deep()))
    }

    fn check_workspace_fields(kind: Kind, fields: &Fields) -> Result<(), Outcome> {
        check_workspace_fields(kind, fields).map_err(|m| rejected(ErrorCode::BadRequest, m))
    }

    fn create(
        &mut self,
        m: &Mutation,
        kind: Kind,
        parent: Option<Id>,
        order_key: Option<&str>,
        fields: &Fields,
    ) -> Result<Outcome, StoreError> {
        if self.load(m.doc_id)?.is_some() {
            // The same answer wherever the id is in use: whether a document
            // exists in a workspace you cannot see is not yours to learn.
            return Ok(rejected(ErrorCode::BadRequest, format!("the id {} cannot be used for a new document; mint a new one", m.doc_id)));
        }
        if (kind == Kind::Workspace) != (m.doc_id == self.workspace) {
            return Ok(rejected(ErrorCode::BadRequest, "a workspace document's id must be its workspace's id"));
        }
        let size = match check_new(kind, fields) {
            Ok(n) => n,
            Err(e) => return Ok(rejected(ErrorCode::BadRequest, e)),
        };
        if let Some(k) = order_key
            && let Err(e) = model::ordering::validate(k)
        {
            return Ok(rejected(ErrorCode::BadRequest, e.to_string()));
        }
        let (parent_id, note) = match self.place(kind, parent, None, 1)? {
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
        if note.is_some() {
            self.need(m.doc_id);
        }
        self.sizes.insert(m.doc_id, size);
        self.working.insert(m.doc_id, Stored::created(doc, clock));
        self.changed(m.doc_id, m);
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], note })
    }

    /// The answer for a document this workspace does not have. A base at
    /// or below the horizon (0 included: an edit sent behind the device's
    /// own create) may mean it was deleted since and its tombstone removed:
    /// a delete then has nothing left to do, and an edit cannot bring it back
    /// (nothing is left to restore), which the refusal says.
    fn not_here(&self, m: &Mutation) -> Outcome {
        if self.horizon > 0 && m.base_version <= self.horizon {
            return match m.op {
                Op::Delete => Outcome::Applied { version: self.horizon, conflicts: vec![], note: None },
                _ => rejected(
                    ErrorCode::NotFound,
                    format!(
                        "no document {} in this workspace: if it was deleted, the server no longer keeps deleted documents that old; create it anew if it is still wanted",
                        m.doc_id
                    ),
                ),
            };
        }
        rejected(ErrorCode::NotFound, format!("no document {} in this workspace", m.doc_id))
    }

    /// A refusal of an existing document sends the device its state, to undo the edit.
    fn refuse(&mut self, m: &Mutation, outcome: Outcome) -> Outcome {
        self.need(m.doc_id);
        outcome
    }

    fn set(&mut self, m: &Mutation, fields: &Fields) -> Result<Outcome, StoreError> {
        let (base, device) = (m.base_version, self.device);
        // Decided on the borrowed document; copied only if it changes.
        let size = self.sizes.get(&m.doc_id).copied();
        let decided = match self.here(m.doc_id)? {
            None => return Ok(self.not_here(m)),
            Some(s) => Self::decide_set(s, size.unwrap_or_else(|| fields_len(&s.doc.fields)), base, device, fields),
        };
        match decided {
            Err(outcome) => Ok(self.refuse(m, outcome)),
            Ok((applied, conflicts, version)) => Ok(self.apply_fields(m, applied, conflicts, version, false)),
        }
    }

    /// What a set does to `s`: the fields to apply, those held back and the
    /// version now; or its refusal.
    fn decide_set(
        s: &Stored,
        size: usize,
        base: u64,
        device: u64,
        fields: &Fields,
    ) -> Result<(Fields, Vec<model::FieldConflict>, u64), Outcome> {
        let kind = s.doc.kind;
        if kind.append_only() {
            return Err(rejected(ErrorCode::BadRequest, format!("a {kind} is append-only: it cannot be edited, only deleted")));
        }
        model::schema::check_fields(kind, fields).map_err(|e| rejected(ErrorCode::BadRequest, e.to_string()))?;
        Self::check_workspace_fields(kind, fields)?;
        match s.merge_set(base, device, fields) {
            SetMerge::DeletedSince { .. } => Err(Outcome::Conflict { reason: ConflictReason::Deleted, conflicts: vec![] }),
            SetMerge::Apply { fields: applied, conflicts } => {
                model::schema::check_merged(kind, &s.doc.fields, size, &applied)
                    .map_err(|e| rejected(ErrorCode::BadRequest, e.to_string()))?;
                Ok((applied, conflicts, s.doc.version))
            }
        }
    }

    /// Writes merged fields (a set, or a restore's). Nothing to apply is no
    /// change at all, and writes nothing.
    fn apply_fields(
        &mut self,
        m: &Mutation,
        applied: Fields,
        conflicts: Vec<model::FieldConflict>,
        version: u64,
        restore: bool,
    ) -> Outcome {
        if applied.is_empty() && !restore {
            return Outcome::Applied { version, conflicts, note: None };
        }
        let clock = self.next_clock();
        if let (Some(s), Some(n)) = (self.working.get(&m.doc_id), self.sizes.get_mut(&m.doc_id)) {
            *n = model::schema::merged_len(&s.doc.fields, *n, &applied);
        }
        self.edit(m.doc_id, |s| if restore { s.restore(&applied, clock) } else { s.set(&applied, clock) });
        self.changed(m.doc_id, m);
        Outcome::Applied { version: clock.seq, conflicts, note: None }
    }

    fn delete(&mut self, m: &Mutation) -> Result<Outcome, StoreError> {
        let (base, device) = (m.base_version, self.device);
        let decided = match self.here(m.doc_id)? {
            None => return Ok(self.not_here(m)),
            Some(s) if s.doc.kind == Kind::Workspace => {
                Err(rejected(ErrorCode::BadRequest, "deleting a whole workspace is not supported yet; delete its documents instead"))
            }
            Some(s) if s.doc.deleted => return Ok(Outcome::Applied { version: s.doc.version, conflicts: vec![], note: None }),
            Some(s) => match s.doc.kind.append_only() {
                true => Ok(()),
                false => match s.merge_delete(base, device) {
                    DeleteMerge::EditedSince(conflicts) => Err(Outcome::Conflict { reason: ConflictReason::Edited, conflicts }),
                    DeleteMerge::Apply => Ok(()),
                },
            },
        };
        if let Err(outcome) = decided {
            return Ok(self.refuse(m, outcome));
        }
        let clock = self.next_clock();
        self.edit(m.doc_id, |s| s.delete(clock));
        self.changed(m.doc_id, m);
        self.cascade(m, m.doc_id)?;
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], note: None })
    }

    /// Deletes everything under `root`, each with its own change. Documents
    /// this batch holds are deleted in place; the rest get a tombstone
    /// without being read, so deleting a large subtree costs no memory.
    fn cascade(&mut self, m: &Mutation, root: Id) -> Result<(), StoreError> {
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            let mut kids: Vec<Id> = self.source.children(id)?.into_iter().map(|(k, _)| k).collect();
            kids.extend(self.working.values().filter(|s| s.doc.parent_id == Some(id) && !s.doc.deleted).map(|s| s.doc.id));
            kids.sort();
            kids.dedup();
            for kid in kids {
                if let Some(s) = self.working.get(&kid) {
                    // Moved elsewhere by this batch, or deleted already.
                    if s.doc.parent_id != Some(id) || s.doc.deleted {
                        continue;
                    }
                    let clock = self.next_clock();
                    self.edit(kid, |s| s.delete(clock));
                    self.changed(kid, m);
                    stack.push(kid);
                } else if !self.tombstoned.contains_key(&kid) {
                    let clock = self.next_clock();
                    self.tombstoned.insert(kid, clock);
                    stack.push(kid);
                }
            }
        }
        Ok(())
    }

    fn move_to(&mut self, m: &Mutation, parent: Option<Id>, order_key: &str) -> Result<Outcome, StoreError> {
        let (id, kind) = match self.here(m.doc_id)? {
            None => return Ok(self.not_here(m)),
            Some(s) if s.doc.deleted => {
                return Ok(self.refuse(m, Outcome::Conflict { reason: ConflictReason::Deleted, conflicts: vec![] }));
            }
            Some(s) => (s.doc.id, s.doc.kind),
        };
        if let Err(e) = model::ordering::validate(order_key) {
            return Ok(self.refuse(m, rejected(ErrorCode::BadRequest, e.to_string())));
        }
        let height = match parent {
            Some(_) => match self.height(id, kind)? {
                Ok(h) => h,
                Err(o) => return Ok(self.refuse(m, o)),
            },
            None => 1,
        };
        let (parent_id, note) = match self.place(kind, parent, Some(id), height)? {
            Ok(p) => p,
            Err(o) => return Ok(self.refuse(m, o)),
        };
        let clock = self.next_clock();
        self.edit(id, |s| {
            s.doc.parent_id = parent_id;
            s.doc.order_key = Some(order_key.to_string());
            s.doc.version = clock.seq;
        });
        if note.is_some() {
            self.need(id);
        }
        self.changed(id, m);
        Ok(Outcome::Applied { version: clock.seq, conflicts: vec![], note })
    }

    /// Brings a deleted document back ("keep mine" after an edit met a
    /// delete), with the device's fields merged like any edit: fields others
    /// changed after its base version are held back as conflicts. A document
    /// already back (another device kept its edit over the same delete) is
    /// merged into the same way: two devices keeping their edits over one
    /// delete is a race, and neither answer should be refused.
    fn restore(&mut self, m: &Mutation, fields: &Fields) -> Result<Outcome, StoreError> {
        let (base, device) = (m.base_version, self.device);
        let size = self.sizes.get(&m.doc_id).copied();
        let decided = match self.here(m.doc_id)? {
            None => return Ok(self.not_here(m)),
            Some(s) => {
                let kind = s.doc.kind;
                let size = size.unwrap_or_else(|| fields_len(&s.doc.fields));
                if kind.append_only() {
                    Err(rejected(ErrorCode::BadRequest, format!("a {kind} is append-only: it cannot be restored")))
                } else {
                    let checked = model::schema::check_fields(kind, fields)
                        .map_err(|e| rejected(ErrorCode::BadRequest, e.to_string()))
                        .and_then(|_| Self::check_workspace_fields(kind, fields));
                    checked.and_then(|()| {
                        let (applied, conflicts) = s.merge_fields(base, device, fields);
                        model::schema::check_merged(kind, &s.doc.fields, size, &applied)
                            .map_err(|e| rejected(ErrorCode::BadRequest, e.to_string()))
                            .map(|()| (applied, conflicts, s.doc.version, s.doc.parent_id))
                    })
                }
            }
        };
        match decided {
            Err(outcome) => Ok(self.refuse(m, outcome)),
            Ok((applied, conflicts, version, up)) => {
                let outcome = self.apply_fields(m, applied, conflicts, version, true);
                self.restore_ancestors(m, up)?;
                self.need(m.doc_id);
                Ok(outcome)
            }
        }
    }

    /// A restored document must be reachable: deleted ancestors come back too.
    fn restore_ancestors(&mut self, m: &Mutation, mut up: Option<Id>) -> Result<(), StoreError> {
        for _ in 0..Limits::TREE_DEPTH {
            let Some(pid) = up else { return Ok(()) };
            let Some((parent, deleted)) = self.here(pid)?.map(|p| (p.doc.parent_id, p.doc.deleted)) else { return Ok(()) };
            up = parent;
            if deleted {
                let c = self.next_clock();
                self.edit(pid, |p| p.restore(&Fields::new(), c));
                self.changed(pid, m);
            }
        }
        Ok(())
    }
}
