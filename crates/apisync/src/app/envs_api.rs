//! The app's environments and globals: each environment with its variables,
//! the workspace's globals, one variable revealed on request, and the
//! device-local active environment. Variables show their synced initial
//! value (`value`) beside this device's current value, which never syncs;
//! secret values are masked unless the request asks `?reveal=true`, as
//! `apisync show --reveal` does. Edits go through the ordinary document
//! endpoints (`POST`/`PATCH`/`DELETE /api/docs…`, `current` for the current
//! value), so they queue and sync like the CLI's.

use super::AppState;
use super::api::on_device;
use super::error::AppError;
use crate::output::{self, MASK};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use client::{ClientError, Device};
use model::{Document, Id, Kind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn parse_id(s: &str) -> Result<Id, AppError> {
    s.trim().parse::<Id>().map_err(|_| AppError::invalid(format!("'{s}' is not an id (a UUID)")))
}

/// Whether `?reveal=true` (or `?reveal`, `?reveal=1`) is in the query.
fn reveal(query: Option<&str>) -> bool {
    query.unwrap_or("").split('&').any(|p| p == "reveal" || p == "reveal=true" || p == "reveal=1")
}

/// A variable or global as the page shows it: its synced fields, this
/// device's current value, and whether it is secret (then both values are
/// masked unless `reveal`; `masked` says they were).
fn variable_json(d: &Device, v: &Document, reveal: bool) -> Result<Value, ClientError> {
    let secret = output::is_secret(v);
    let hide = secret && !reveal;
    let current = d.current_value(v.id)?;
    let shown = |x: Option<&Value>| match x {
        Some(x) if hide && !x.is_null() => Value::String(MASK.into()),
        Some(x) => x.clone(),
        None => Value::Null,
    };
    let f = &v.fields;
    Ok(json!({
        "id": v.id,
        "key": f.get("key").cloned().unwrap_or(Value::Null),
        "value": shown(f.get("value")),
        "current": shown(current.as_ref()),
        "type": f.get("type").and_then(Value::as_str).unwrap_or("default"),
        "enabled": f.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        "description": f.get("description").cloned().unwrap_or(Value::Null),
        "secret": secret,
        "masked": hide,
    }))
}

/// `GET /api/workspaces/{id}/environments[?reveal=true]`: `{active,
/// environments: [{id, name, variables}], globals}`, environments and
/// variables in their sidebar order.
pub async fn list(State(state): State<Arc<AppState>>, Path(ws): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>, AppError> {
    let ws = parse_id(&ws)?;
    let reveal = reveal(q.as_deref());
    let out = on_device(&state, move |d| {
        let docs = d.list(Some(&ws.to_string()), None)?;
        let mut envs = Vec::new();
        let mut globals = Vec::new();
        for doc in &docs {
            match doc.kind {
                Kind::Environment => {
                    let vars = docs
                        .iter()
                        .filter(|v| v.kind == Kind::Variable && v.parent_id == Some(doc.id))
                        .map(|v| variable_json(d, v, reveal))
                        .collect::<Result<Vec<_>, _>>()?;
                    envs.push(json!({ "id": doc.id, "name": doc.title(), "variables": vars }));
                }
                Kind::Global => globals.push(variable_json(d, doc, reveal)?),
                _ => {}
            }
        }
        Ok(json!({ "active": d.active_environment(ws)?, "environments": envs, "globals": globals }))
    })
    .await?;
    Ok(Json(out))
}

/// `GET /api/variables/{id}[?reveal=true]`: one variable or global, for the
/// page's per-row reveal (the real values only when asked).
pub async fn variable(State(state): State<Arc<AppState>>, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let reveal = reveal(q.as_deref());
    let v = on_device(&state, move |d| {
        let doc = d.get(id)?;
        if !doc.kind.is_variable() {
            return Err(ClientError::Invalid(format!("{id} is a {}, not a variable or global", doc.kind)));
        }
        variable_json(d, &doc, reveal)
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/workspaces/{id}/active-environment`: `{environment: ID|null}`,
/// this device's choice (never synced).
pub async fn active(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Json<Value>, AppError> {
    let ws = parse_id(&ws)?;
    let env = on_device(&state, move |d| {
        // An unknown workspace is a 404 here too, not an empty choice.
        d.resolve_workspace(Some(&ws.to_string()))?;
        d.active_environment(ws)
    })
    .await?;
    Ok(Json(json!({ "environment": env })))
}

/// The body of `PUT /api/workspaces/{id}/active-environment`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    /// The environment; null: none.
    environment: Option<Id>,
}

/// `PUT /api/workspaces/{id}/active-environment` `{environment: ID|null}`:
/// chooses this device's active environment of the workspace.
pub async fn set_active(
    State(state): State<Arc<AppState>>,
    Path(ws): Path<String>,
    body: Result<Json<ActiveBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let ws = parse_id(&ws)?;
    let Json(b) = body?;
    let env = on_device(&state, move |d| {
        d.set_active_environment(ws, b.environment)?;
        d.active_environment(ws)
    })
    .await?;
    Ok(Json(json!({ "environment": env })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_is_read_from_the_query() {
        assert!(reveal(Some("reveal=true")));
        assert!(reveal(Some("x=1&reveal")));
        assert!(!reveal(Some("reveal=false")));
        assert!(!reveal(Some("revealed=true")));
        assert!(!reveal(None));
    }
}
