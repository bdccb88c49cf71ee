//! The app's conflicts inbox: the list the dialog shows (grouped by the
//! top-level collection of each document, with one group for environments
//! and globals) and the resolve endpoint. Resolving goes through the CLI's
//! own `resolve::choose` and `resolve::apply`, so a conflict settles the same
//! way from the app as from `apisync resolve`.

use super::AppState;
use super::api::on_device;
use super::error::AppError;
use crate::resolve::{self, ChoiceError};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use client::{Conflict, Device};
use model::Kind;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The group key of environments, their variables and the globals.
const ENVIRONMENTS: &str = "environments";
/// The group key of documents no longer on this device (an edit/delete
/// conflict whose document this device deleted), whose collection is unknown.
const OTHER: &str = "other";

/// How deep a parent chain is followed: more than any real tree, fewer than
/// a cycle would need to hang the request.
const MAX_DEPTH: usize = 64;

/// The dialog tab a conflict belongs to: `(key, name)`.
fn group(device: &Device, c: &Conflict) -> (String, String) {
    if matches!(c.kind, Kind::Environment | Kind::Variable | Kind::Global) {
        return (ENVIRONMENTS.into(), "Environments and globals".into());
    }
    let Ok(mut doc) = device.get(c.doc_id) else {
        return (OTHER.into(), "Other documents".into());
    };
    for _ in 0..MAX_DEPTH {
        if doc.kind == Kind::Collection {
            break;
        }
        match doc.parent_id.and_then(|p| device.get(p).ok()) {
            Some(parent) if parent.kind != Kind::Workspace => doc = parent,
            _ => break,
        }
    }
    let name = if doc.title().is_empty() { "(untitled)".to_string() } else { doc.title().to_string() };
    (doc.id.to_string(), name)
}

/// Whether `?reveal=true` (or `?reveal`) is in the query.
fn reveal(query: Option<&str>) -> bool {
    query.unwrap_or("").split('&').any(|p| p == "reveal" || p == "reveal=true" || p == "reveal=1")
}

/// `GET /api/conflicts[?reveal=true]`: the inbox as `apisync conflicts
/// --json` prints it (secret values masked unless revealed), each entry with
/// a `group` `{key, name}` naming its dialog tab.
pub async fn list(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<Vec<Value>>, AppError> {
    let reveal = reveal(query.as_deref());
    let list = on_device(&state, move |d| {
        let mut list = d.conflicts()?;
        if !reveal {
            crate::device::mask_conflicts(d, &mut list);
        }
        let mut out = Vec::with_capacity(list.len());
        for c in &list {
            let (key, name) = group(d, c);
            let mut v = serde_json::to_value(c)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("group".into(), json!({ "key": key, "name": name }));
            }
            out.push(v);
        }
        Ok(out)
    })
    .await?;
    Ok(Json(list))
}

/// The body of `POST /api/conflicts/{id}/resolve`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// Every field of the conflict: `"mine"` or `"theirs"`.
    fields: Map<String, Value>,
}

/// The app's wording of a choice that could not be made.
fn choice_error(id: i64, e: ChoiceError) -> AppError {
    let (code, message) = match e {
        ChoiceError::UnknownField { name, fields } => {
            ("unknown_field", format!("conflict #{id} has no field '{name}'; its fields are: {}", fields.join(", ")))
        }
        ChoiceError::BadSide { name, side } => ("bad_side", format!("'{side}' is not a side for '{name}': send \"mine\" or \"theirs\"")),
        ChoiceError::Unchosen(left) => (
            "missing_choice",
            format!(
                "say which side to keep for {} of conflict #{id}: send every field as \"mine\" or \"theirs\"",
                left.iter().map(|f| format!("'{f}'")).collect::<Vec<_>>().join(", ")
            ),
        ),
    };
    AppError { status: StatusCode::BAD_REQUEST, code, message }
}

/// `POST /api/conflicts/{id}/resolve` `{"fields": {"name": "mine", "url":
/// "theirs"}}`: every field must be chosen (no default side, so nothing is
/// taken that the person did not pick); the "mine" fields are made again as
/// one ordinary edit, which the background sync sends.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Json<ResolveBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let id: i64 = id.trim().parse().map_err(|_| AppError::invalid(format!("'{id}' is not a conflict number")))?;
    let Json(body) = body?;
    // A non-string side is passed on as its JSON text, so `choose` refuses it by name.
    let named: Vec<(String, String)> =
        body.fields.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect();
    let choice = on_device(&state, move |d| {
        let Some(c) = d.conflicts()?.into_iter().find(|c| c.id == id) else {
            return Err(client::ClientError::NotFound(format!("no conflict #{id}; it may be resolved already")));
        };
        let fields: Vec<String> = c.fields.iter().map(|f| f.field.clone()).collect();
        let choice = match resolve::choose(&fields, &named, None) {
            Ok(choice) => choice,
            Err(e) => return Ok(Err(e)),
        };
        resolve::apply(d, id, &choice)?;
        Ok(Ok(choice))
    })
    .await?
    .map_err(|e| choice_error(id, e))?;
    Ok(Json(json!({ "resolved": id, "mine": choice.mine, "theirs": choice.theirs })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_is_read_from_the_query() {
        assert!(reveal(Some("reveal=true")));
        assert!(reveal(Some("a=1&reveal")));
        assert!(!reveal(Some("reveal=false")));
        assert!(!reveal(None));
    }

    #[test]
    fn an_unchosen_field_is_named_in_a_400() {
        let e = choice_error(3, ChoiceError::Unchosen(vec!["url".into()]));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "missing_choice");
        assert!(e.message.contains("'url'"), "{}", e.message);
    }
}
