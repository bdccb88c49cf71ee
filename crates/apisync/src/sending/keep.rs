//! What scripts set, kept on this device as Postman keeps it: a variable of
//! the environment or the globals that a script set gets that value as its
//! current value (device-only, never synced); a name that did not exist
//! becomes a variable with an empty initial value. Unsets and collection
//! variables last for the run only, as do environment changes when no
//! environment is in use.

use client::{CURRENT, Device, fields};
use model::{Document, Id, Kind};
use runner::{Scope, Scopes};
use serde_json::Value;
use std::collections::BTreeSet;

/// Stores the values `changed` names from `scopes`; gives a note per change it could not keep.
pub fn keep(
    device: &Device,
    docs: &[Document],
    ws: Id,
    environment: Option<&Document>,
    changed: &BTreeSet<(Scope, String)>,
    scopes: &Scopes,
) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    for (scope, key) in changed {
        let (kind, parent) = match scope {
            Scope::Globals => (Kind::Global, None),
            Scope::Environment => match environment {
                Some(e) => (Kind::Variable, Some(e.id)),
                None => {
                    notes.push(format!("no environment was in use: {key} set by a script lasted for the run only"));
                    continue;
                }
            },
            _ => continue,
        };
        let Some(value) = scopes.scope(*scope).get(key) else { continue };
        let existing =
            docs.iter().find(|d| d.kind == kind && d.parent_id == parent && d.fields.get("key").and_then(Value::as_str) == Some(key));
        match existing {
            Some(d) => device.set(d.id, fields([(CURRENT, value.clone())]))?,
            None => {
                let f = fields([("key", Value::String(key.clone())), ("value", Value::String(String::new())), (CURRENT, value.clone())]);
                device.create(kind, parent, Some(&ws.to_string()), f)?;
            }
        }
    }
    Ok(notes)
}
