//! The app's tree and workspace editing: duplicate and move documents,
//! create, rename and delete workspaces. Each is made of the device
//! library's ordinary edits (`create`, `move_doc`, `create_workspace`,
//! `rename_workspace`, `delete_workspace`), the same ones `apisync create`,
//! `mv` and `workspace …` make, so they queue in the outbox and sync (or
//! conflict) like any other edit.

use super::AppState;
use super::account_api::{Refusal, on_device_async};
use super::api::{on_device, parse_id};
use super::error::AppError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use client::{Device, Position};
use model::{Document, Id};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The name a duplicate gets, as Postman names its copies, so the person
/// can tell the copy from the original in the tree.
fn copy_name(fields: &mut model::Fields) {
    if let Some(Value::String(name)) = fields.get_mut("name") {
        name.push_str(" Copy");
    }
}

/// Copies `id` and its whole subtree; the copy lands just after the
/// original among its siblings. Returns the new ids, the top one first.
fn duplicate_tree(d: &Device, id: Id) -> Result<Vec<Id>, client::ClientError> {
    let top = d.get(id)?;
    let ws = top.workspace_id.to_string();
    // The workspace's documents in tree order: each after its parent and
    // siblings in their order, so copying in this order keeps the order.
    let all = d.list(Some(&ws), None)?;
    let mut under: HashMap<Id, Id> = HashMap::new();
    let mut fields = top.fields.clone();
    copy_name(&mut fields);
    let new_top = d.create(top.kind, top.parent_id, Some(&ws), fields)?;
    d.move_doc(new_top, top.parent_id, Position::After(id))?;
    under.insert(id, new_top);
    let mut made = vec![new_top];
    for doc in all.iter().filter(|x: &&Document| x.id != id) {
        // Only documents whose parent was copied belong to the subtree; the
        // list's order guarantees a parent is met before its children.
        let Some(new_parent) = doc.parent_id.and_then(|p| under.get(&p).copied()) else { continue };
        let new_id = d.create(doc.kind, Some(new_parent), Some(&ws), doc.fields.clone())?;
        under.insert(doc.id, new_id);
        made.push(new_id);
    }
    Ok(made)
}

/// `POST /api/docs/{id}/duplicate`: copies a document and everything under
/// it, placed just after it; answers 201 `{id, ids}` (`id` the copy of the
/// document itself, `ids` every new id).
pub async fn duplicate(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<(StatusCode, Json<Value>), AppError> {
    let id = parse_id(&id)?;
    let made = on_device(&state, move |d| duplicate_tree(d, id)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": made.first(), "ids": made }))))
}

/// The body of `POST /api/docs/{id}/move`: the new parent (none: keep the
/// current one) and at most one of `before`/`after`, a sibling under it
/// (neither: the end).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    #[serde(default)]
    parent: Option<Id>,
    #[serde(default)]
    before: Option<Id>,
    #[serde(default)]
    after: Option<Id>,
}

/// `POST /api/docs/{id}/move`: moves or reorders a document, as `apisync mv`.
pub async fn move_doc(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let Json(m) = body?;
    let pos = match (m.before, m.after) {
        (Some(_), Some(_)) => return Err(AppError::invalid("give `before` or `after`, not both")),
        (Some(b), None) => Position::Before(b),
        (None, Some(a)) => Position::After(a),
        (None, None) => Position::End,
    };
    if matches!(pos, Position::Before(x) | Position::After(x) if x == id) {
        return Err(AppError::invalid("a document cannot be placed next to itself"));
    }
    on_device(&state, move |d| d.move_doc(id, m.parent, pos)).await?;
    Ok(Json(json!({ "id": id })))
}

/// The body of `POST /api/workspaces` and `PATCH /api/workspaces/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceName {
    name: String,
}

/// `POST /api/workspaces` `{name}`: creates a workspace (signed in only);
/// answers 201 `{id}`. It reaches the server with the background sync.
pub async fn create_workspace(
    State(state): State<Arc<AppState>>,
    body: Result<Json<WorkspaceName>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let Json(b) = body?;
    let name = b.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::invalid("a workspace needs a name"));
    }
    let id = on_device(&state, move |d| d.create_workspace(&name, false)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `PATCH /api/workspaces/{id}` `{name}`: renames a workspace.
pub async fn rename_workspace(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<WorkspaceName>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let Json(b) = body?;
    let which = id.to_string();
    on_device(&state, move |d| {
        // The role is checked here because a rename is a local edit that the
        // server would only refuse at the next push, long after the dialog.
        let ws = d.resolve_workspace(Some(&which))?;
        if ws.role.as_deref() == Some("viewer") {
            return Err(client::ClientError::Invalid(format!(
                "you may view workspace '{}' but not change it; ask its owner for the editor role",
                ws.name
            )));
        }
        d.rename_workspace(&which, &b.name, false)
    })
    .await?;
    Ok(Json(json!({ "id": id })))
}

/// `DELETE /api/workspaces/{id}`: deletes a workspace on the server, for
/// everyone. Only its owner may: the server refuses others, and that
/// refusal (status, code, message) is passed on for the page to show.
pub async fn delete_workspace(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, Refusal> {
    let id = parse_id(&id)?;
    let which = id.to_string();
    let gone = on_device_async(&state, move |d| async move { d.delete_workspace(&which).await }).await?;
    Ok(Json(json!({ "id": gone.id, "name": gone.name, "deleted": true })))
}
