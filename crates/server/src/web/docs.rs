//! The web version's workspaces and documents: the app API the pages call,
//! each answer read from `/v1` and each edit one push of ordinary
//! mutations as this browser's device. The order, the placing among
//! siblings and the masking of secrets are the model's, as on a device.

use super::{Ctx, WebState};
use crate::error::{Body, Failure, PathArg};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use model::tree::{Position, key_at, tree_order};
use model::{Document, Fields, Id, Kind, Mutation, Op, schema};
use protocol::{ErrorCode, Role, WorkspaceInfo};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(ErrorCode::BadRequest, message)
}

/// A document as the pages read it, its secret value masked (only the
/// environments pages reveal one, when asked: `pages.rs`).
fn shown(d: Document) -> Value {
    serde_json::to_value(d.masked()).unwrap_or(Value::Null)
}

fn mutation(doc_id: Id, base_version: u64, op: Op) -> Mutation {
    Mutation { mutation_id: Id::now_v7(), doc_id, base_version, op }
}

/// `GET /api/workspaces`: the account's workspaces as the desktop app lists
/// them (signed out: none).
pub(super) async fn workspaces(State(web): WebState, ctx: Ctx) -> Result<Json<Vec<Value>>, Failure> {
    if ctx.token.is_none() {
        return Ok(Json(Vec::new()));
    }
    let list = web.workspace_list(&ctx).await?;
    Ok(Json(
        list.into_iter()
            .map(|w| json!({ "id": w.id, "name": w.name, "role": w.role.as_str(), "personal": w.personal, "local_only": false }))
            .collect(),
    ))
}

/// `GET /api/workspaces/{id}/docs`: every document of the workspace in tree order.
pub(super) async fn list(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Json<Vec<Value>>, Failure> {
    ctx.signed_in()?;
    let docs = web.all_docs(&ctx, ws).await?;
    Ok(Json(tree_order(docs).into_iter().map(shown).collect()))
}

/// `GET /api/docs/{id}`.
pub(super) async fn get(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    Ok(Json(shown(web.find(&ctx, id).await?)))
}

/// `GET /api/conflicts`: always empty. Each web edit is applied (or
/// refused) when it is made, so none waits to be resolved.
pub(super) async fn conflicts() -> Json<Vec<Value>> {
    Json(Vec::new())
}

/// The body of `POST /api/docs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewDoc {
    kind: String,
    #[serde(default)]
    parent: Option<Id>,
    /// A workspace id or name; none: the parent's, else the personal one.
    #[serde(default)]
    workspace: Option<String>,
    #[serde(default)]
    fields: Fields,
}

/// The workspace `which` names (an id or a name), else the personal one.
pub(super) fn pick_workspace(list: &[WorkspaceInfo], which: Option<&str>) -> Result<Id, Failure> {
    let found = match which.map(str::trim) {
        Some(w) => list.iter().find(|x| x.id.to_string() == w || x.name.trim().eq_ignore_ascii_case(w)),
        None => list.iter().find(|x| x.personal).or(list.first()),
    };
    found.map(|w| w.id).ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no workspace '{}' in your account", which.unwrap_or(""))))
}

/// The siblings a document placed under `parent` goes among, in order.
fn siblings(docs: &[Document], parent: Option<Id>, except: Id) -> Vec<Document> {
    let mut out: Vec<Document> =
        docs.iter().filter(|d| d.parent_id == parent && d.id != except && d.kind != Kind::Workspace).cloned().collect();
    out.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
    out
}

/// `POST /api/docs`: creates a document at the end of its parent; 201 `{id}`.
pub(super) async fn create(State(web): WebState, ctx: Ctx, Body(new): Body<NewDoc>) -> Result<(StatusCode, Json<Value>), Failure> {
    ctx.signed_in()?;
    let kind: Kind = new.kind.parse().map_err(|e: model::UnknownKind| invalid(e.to_string()))?;
    if kind == Kind::Workspace {
        return Err(invalid("create workspaces with POST /api/workspaces"));
    }
    schema::check_document(kind, &new.fields).map_err(|e| invalid(e.to_string()))?;
    let ws = match new.parent {
        Some(p) => web.find(&ctx, p).await?.workspace_id,
        None => pick_workspace(&web.workspace_list(&ctx).await?, new.workspace.as_deref())?,
    };
    let id = Id::now_v7();
    let docs = web.all_docs(&ctx, ws).await?;
    let key = key_at(&siblings(&docs, new.parent, id), Position::End).map_err(|e| invalid(e.to_string()))?;
    let op = Op::Create { kind, parent_id: new.parent, order_key: Some(key), fields: new.fields };
    web.push(&ctx, ws, vec![mutation(id, 0, op)]).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// The body of `PATCH /api/docs/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SetFields {
    fields: Fields,
}

/// `PATCH /api/docs/{id}`: sets the named fields over the document as the
/// server has it now; a field another device changed in between is
/// refused with 409 `conflict`, never overwritten unseen.
pub(super) async fn set(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(b): Body<SetFields>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    if b.fields.is_empty() {
        return Err(invalid("no fields to set; send {\"fields\": {\"name\": \"…\"}}"));
    }
    if b.fields.contains_key("current") {
        return Err(invalid("current values belong to a device; the web version keeps none (use the desktop app)"));
    }
    let doc = web.find(&ctx, id).await?;
    if doc.kind.append_only() {
        return Err(invalid(format!("a {} is append-only: it can be created or deleted, never changed", doc.kind)));
    }
    schema::check_fields(doc.kind, &b.fields).map_err(|e| invalid(e.to_string()))?;
    web.push(&ctx, doc.workspace_id, vec![mutation(id, doc.version, Op::Set { fields: b.fields })]).await?;
    Ok(Json(json!({ "id": id })))
}

/// `DELETE /api/docs/{id}`: deletes the document and everything under it.
pub(super) async fn delete(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let doc = web.find(&ctx, id).await?;
    if doc.kind == Kind::Workspace {
        return Err(invalid("delete a workspace with DELETE /api/workspaces/{id}"));
    }
    web.push(&ctx, doc.workspace_id, vec![mutation(id, doc.version, Op::Delete)]).await?;
    Ok(Json(json!({ "id": id, "deleted": true })))
}

/// Every document under `id` in `docs`.
fn descendants(docs: &[Document], id: Id) -> HashSet<Id> {
    let mut out = HashSet::new();
    let mut todo = vec![id];
    while let Some(p) = todo.pop() {
        for d in docs.iter().filter(|d| d.parent_id == Some(p)) {
            if out.insert(d.id) {
                todo.push(d.id);
            }
        }
    }
    out
}

/// `POST /api/docs/{id}/duplicate`: the document and its subtree copied in
/// one push, the copy named "… Copy" just after the original; 201 `{id, ids}`.
pub(super) async fn duplicate(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<(StatusCode, Json<Value>), Failure> {
    ctx.signed_in()?;
    let top = web.find(&ctx, id).await?;
    if top.kind.append_only() || top.kind == Kind::Workspace {
        return Err(invalid(format!("a {} cannot be duplicated", top.kind)));
    }
    let docs = web.all_docs(&ctx, top.workspace_id).await?;
    let under = descendants(&docs, id);
    let subtree: Vec<Document> = tree_order(docs.clone()).into_iter().filter(|d| d.id == id || under.contains(&d.id)).collect();
    let new_ids: std::collections::HashMap<Id, Id> = subtree.iter().map(|d| (d.id, Id::now_v7())).collect();
    let key = key_at(&siblings(&docs, top.parent_id, Id::nil()), Position::After(id)).map_err(|e| invalid(e.to_string()))?;
    let mut mutations = Vec::with_capacity(subtree.len());
    for d in subtree {
        let mut fields = d.fields;
        let (parent_id, order_key) = if d.id == id {
            let name = format!("{} Copy", fields.get("name").and_then(Value::as_str).unwrap_or("").trim());
            fields.insert("name".into(), Value::String(name.trim().to_string()));
            (d.parent_id, Some(key.clone()))
        } else {
            (d.parent_id.map(|p| new_ids.get(&p).copied().unwrap_or(p)), d.order_key)
        };
        mutations.push(mutation(new_ids[&d.id], 0, Op::Create { kind: d.kind, parent_id, order_key, fields }));
    }
    let ids: Vec<Id> = mutations.iter().map(|m| m.doc_id).collect();
    web.push(&ctx, top.workspace_id, mutations).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": ids.first(), "ids": ids }))))
}

/// The body of `POST /api/docs/{id}/move`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MoveBody {
    #[serde(default)]
    parent: Option<Id>,
    #[serde(default)]
    before: Option<Id>,
    #[serde(default)]
    after: Option<Id>,
}

/// `POST /api/docs/{id}/move`: moves or reorders a document (no parent:
/// keep the current one; neither `before` nor `after`: the end).
pub(super) async fn move_doc(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(m): Body<MoveBody>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let pos = match (m.before, m.after) {
        (Some(_), Some(_)) => return Err(invalid("give `before` or `after`, not both")),
        (Some(b), None) => Position::Before(b),
        (None, Some(a)) => Position::After(a),
        (None, None) => Position::End,
    };
    if matches!(pos, Position::Before(x) | Position::After(x) if x == id) {
        return Err(invalid("a document cannot be placed next to itself"));
    }
    let doc = web.find(&ctx, id).await?;
    let docs = web.all_docs(&ctx, doc.workspace_id).await?;
    let parent = m.parent.or(doc.parent_id);
    if let Some(p) = parent {
        if p == id || descendants(&docs, id).contains(&p) {
            return Err(invalid("a document cannot move inside itself"));
        }
        let pk = docs.iter().find(|d| d.id == p).map(|d| d.kind).ok_or_else(|| invalid(format!("no document {p} in this workspace")))?;
        if !doc.kind.parents().contains(&pk) {
            return Err(invalid(format!("a {} cannot go inside a {pk}", doc.kind)));
        }
    }
    let key = key_at(&siblings(&docs, parent, id), pos).map_err(|e| invalid(e.to_string()))?;
    web.push(&ctx, doc.workspace_id, vec![mutation(id, doc.version, Op::Move { parent_id: parent, order_key: key })]).await?;
    Ok(Json(json!({ "id": id })))
}

/// The body of `POST /api/workspaces` and `PATCH /api/workspaces/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkspaceName {
    name: String,
}

/// Refuses a name the account already has (trimmed, any case), as the
/// device does: two workspaces of one name cannot be told apart.
fn check_name(list: &[WorkspaceInfo], name: &str, except: Option<Id>) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("a workspace needs a name"));
    }
    match list.iter().find(|w| Some(w.id) != except && w.name.trim().eq_ignore_ascii_case(name)) {
        Some(w) => Err(invalid(format!("you already have a workspace named '{}'; choose a different name", w.name))),
        None => Ok(name.to_string()),
    }
}

/// `POST /api/workspaces` `{name}`: 201 `{id}`.
pub(super) async fn create_workspace(
    State(web): WebState,
    ctx: Ctx,
    Body(b): Body<WorkspaceName>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    ctx.signed_in()?;
    let name = check_name(&web.workspace_list(&ctx).await?, &b.name, None)?;
    let id = Id::now_v7();
    let fields = Fields::from_iter([("name".to_string(), Value::String(name))]);
    web.push(&ctx, id, vec![mutation(id, 0, Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields })]).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `PATCH /api/workspaces/{id}` `{name}`.
pub(super) async fn rename_workspace(
    State(web): WebState,
    ctx: Ctx,
    PathArg(id): PathArg<Id>,
    Body(b): Body<WorkspaceName>,
) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let list = web.workspace_list(&ctx).await?;
    let ws =
        list.iter().find(|w| w.id == id).ok_or_else(|| Failure::new(ErrorCode::NotFound, format!("no workspace {id} in your account")))?;
    if ws.role == Role::Viewer {
        return Err(Failure::new(
            ErrorCode::Forbidden,
            format!("you may view workspace '{}' but not change it; ask its owner for the editor role", ws.name),
        ));
    }
    let name = check_name(&list, &b.name, Some(id))?;
    let doc = web.find(&ctx, id).await?;
    let fields = Fields::from_iter([("name".to_string(), Value::String(name))]);
    web.push(&ctx, id, vec![mutation(id, doc.version, Op::Set { fields })]).await?;
    Ok(Json(json!({ "id": id })))
}

/// `DELETE /api/workspaces/{id}`: for everyone; only its owner may (the
/// server's refusal is passed on).
pub(super) async fn delete_workspace(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Json<Value>, Failure> {
    ctx.signed_in()?;
    let name = web.workspace_list(&ctx).await?.into_iter().find(|w| w.id == id).map(|w| w.name);
    web.call(&ctx, Method::DELETE, &format!("/v1/workspaces/{id}"), None).await?;
    Ok(Json(json!({ "id": id, "name": name, "deleted": true })))
}
