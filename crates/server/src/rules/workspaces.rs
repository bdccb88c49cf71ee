//! Workspaces: creating and deleting one, and the push around the batch
//! itself — who may write, claiming a new workspace id, sequencing. Written
//! once for every backend; who hears of it is the handler's (`crate::notify`).

use crate::push::{BatchOutput, DocSource, Head, apply_batch};
use crate::store::{StoreError, Tx, WorkspaceRecord};
use model::{Document, Id, Kind, Mutation, Op, Stored};
use protocol::{MutationResult, PushResponse, Role};

/// Stored results one push may forget (so the first push after an upgrade
/// does not delete a long history in one transaction).
const FORGET_PER_PUSH: usize = 10_000;

/// The outcome of a committed push.
#[derive(Debug)]
pub(crate) struct PushCommit {
    pub response: PushResponse,
    /// The workspace's sequence number before the batch.
    pub after: u64,
    /// Documents the batch changed, final state, in version order; `None`
    /// when a cascade deleted documents it did not read (devices pull).
    pub changed: Option<Vec<Document>>,
    /// The people who can read the workspace (who to tell).
    pub members: Vec<Id>,
}

/// What a push was refused for as a whole.
#[derive(Debug)]
pub(crate) enum PushRefused {
    /// The workspace does not exist or the person is not in it.
    NotFound,
    /// The person may read but not write the workspace.
    ReadOnly,
    /// The batch would create the workspace from an invalid document.
    Invalid(String),
}

/// A source with no documents: a brand-new workspace.
struct Nothing;

impl DocSource for Nothing {
    fn load(&mut self, _: Id) -> Result<Option<Stored>, StoreError> {
        Ok(None)
    }
    fn children(&mut self, _: Id) -> Result<Vec<(Id, Kind)>, StoreError> {
        Ok(Vec::new())
    }
    fn prior(&mut self, _: Id) -> Result<Option<MutationResult>, StoreError> {
        Ok(None)
    }
}

/// Creates a workspace with its owner. A personal workspace gets its own
/// `workspace` document at once (others get theirs from the push that
/// creates them), so every device shows its name.
pub(crate) async fn create<T: Tx>(tx: &mut T, w: &WorkspaceRecord, now: i64) -> Result<(), StoreError> {
    tx.insert_workspace(w, now).await?;
    tx.set_role(w.id, w.owner, Some(Role::Owner)).await?;
    if w.personal {
        let mut fields = model::Fields::new();
        fields.insert("name".into(), w.name.clone().into());
        let create = Mutation {
            mutation_id: Id::now_v7(),
            doc_id: w.id,
            base_version: 0,
            op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields },
        };
        let mut out: BatchOutput = apply_batch(&mut Nothing, w.id, Head::default(), 0, &[create])?;
        // No device sent it, so no device will ask for its result.
        out.new_results.clear();
        tx.write_batch(w.id, 0, &out, now).await?;
        tx.set_head(w.id, out.head).await?;
    }
    Ok(())
}

/// A push to a workspace the person is not in creates it when its first
/// mutation creates a valid `workspace` document with that very id, and
/// nobody has used the id before (a deleted workspace's id stays used).
/// Returns the person's role afterwards.
async fn claim<T: Tx>(tx: &mut T, ws: Id, user: Id, mutations: &[Mutation], now: i64) -> Result<Result<Role, PushRefused>, StoreError> {
    let Some(Mutation { doc_id, op: Op::Create { kind: Kind::Workspace, fields, .. }, .. }) = mutations.first() else {
        return Ok(Err(PushRefused::NotFound));
    };
    if *doc_id != ws || tx.id_taken(ws).await? {
        // The same device may be creating it in a push still in flight
        // elsewhere; by now that one has committed or failed.
        return Ok(tx.role(user, ws).await?.ok_or(PushRefused::NotFound));
    }
    // A refused create creates nothing.
    if let Err(why) = crate::push::check_new(Kind::Workspace, fields) {
        return Ok(Err(PushRefused::Invalid(format!("the workspace cannot be created: {why}"))));
    }
    let name = fields.get("name").and_then(|v| v.as_str()).map_or("Untitled workspace", str::trim);
    create(tx, &WorkspaceRecord { id: ws, name: name.to_string(), owner: user, personal: false }, now).await?;
    Ok(Ok(Role::Owner))
}

/// Applies a batch to a workspace on behalf of device `device` of `user`.
pub(crate) async fn push<T: Tx>(
    tx: &mut T,
    ws: Id,
    user: Id,
    device: u64,
    mutations: &[Mutation],
    answered_before: Option<Id>,
    now: i64,
) -> Result<Result<PushCommit, PushRefused>, StoreError> {
    let role = match tx.role(user, ws).await? {
        Some(r) => r,
        None => match claim(tx, ws, user, mutations, now).await? {
            Ok(r) => r,
            Err(refused) => return Ok(Err(refused)),
        },
    };
    if !role.can_write() {
        return Ok(Err(PushRefused::ReadOnly));
    }
    let head = tx.lock_workspace(ws).await?;
    let after = head.seq;
    // Under the lock again: a delete may have committed while this push
    // waited for it (on PostgreSQL), and nothing may land in a gone workspace.
    if tx.role(user, ws).await?.is_none() {
        return Ok(Err(PushRefused::NotFound));
    }
    let out = tx.run_batch(ws, head, device, mutations).await?;
    tx.write_batch(ws, device, &out, now).await?;
    if let Some(before) = answered_before {
        // Bounded per push; the device's next pushes forget the rest.
        tx.forget_results(ws, device, before, FORGET_PER_PUSH).await?;
    }
    tx.set_head(ws, out.head).await?;
    if let Some(name) = out.writes.iter().filter(|s| s.doc.kind == Kind::Workspace).find_map(|s| s.doc.fields.get("name")?.as_str()) {
        tx.rename_workspace(ws, name).await?;
    }
    let members = tx.members(ws).await?;
    let mut changed: Vec<Document> = out.writes.into_iter().map(|s| s.doc).collect();
    changed.sort_by_key(|d| d.version);
    // Tombstones were written without being read: the pusher cannot know
    // which documents they are, so it pulls, as devices told `moved` do.
    let whole = out.tombstones.is_empty();
    let changed = whole.then_some(changed);
    let response = PushResponse { after: whole.then_some(after), seq: out.head, results: out.results, docs: out.docs, stale: out.stale };
    Ok(Ok(PushCommit { response, after, changed, members }))
}

/// The workspaces a person is in: the personal one first, then by name.
pub(crate) async fn list<T: Tx>(tx: &mut T, user: Id) -> Result<Vec<protocol::WorkspaceInfo>, StoreError> {
    let mut list = tx.workspaces_of(user).await?;
    list.sort_by(|a, b| (!a.personal, &a.name, a.id).cmp(&(!b.personal, &b.name, b.id)));
    Ok(list)
}

/// Why a workspace was not deleted.
#[derive(Debug)]
pub(crate) enum DeleteRefused {
    /// The workspace does not exist or the person is not in it.
    NotFound,
    /// The person is in it but does not own it.
    NotOwner,
    /// It is the owner's personal workspace, which goes only with the account.
    Personal,
}

/// Deletes a workspace for its owner; returns the people who had it (who
/// to tell). Bounded work whatever its size: the workspace leaves every
/// list and refuses every call at once, its id is recorded as gone so it is
/// never claimed again, and its rows are purged later in small transactions
/// (`crate::purge`), so a big workspace never holds the SQLite writer long.
pub(crate) async fn delete<T: Tx>(tx: &mut T, ws: Id, user: Id, now: i64) -> Result<Result<Vec<Id>, DeleteRefused>, StoreError> {
    match tx.role(user, ws).await? {
        None => return Ok(Err(DeleteRefused::NotFound)),
        Some(Role::Owner) => {}
        Some(_) => return Ok(Err(DeleteRefused::NotOwner)),
    }
    if tx.workspace(ws).await?.is_none_or(|w| w.personal) {
        return Ok(Err(DeleteRefused::Personal));
    }
    // Pushes in flight finish first; later ones find no role (see `push`).
    tx.lock_workspace(ws).await?;
    let members = tx.members(ws).await?;
    tx.forget_workspace(ws, now).await?;
    Ok(Ok(members))
}
