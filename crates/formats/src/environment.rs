//! Environments and globals to documents.

use crate::FormatError;
use crate::build::{Builder, KEYS, child_path, type_name};
use model::{Id, Kind};
use serde_json::{Map, Value};

/// Imports an environment export (or a dump's environment); returns its index.
pub(crate) fn import_environment(b: &mut Builder, env: &Map<String, Value>, path: &str) -> Result<usize, FormatError> {
    let path = child_path(path, env.get("name"), "environment");
    let mut d = b.draft(Kind::Environment, None, path.clone());
    b.set_required(&mut d, "name", env.get("name"), "Imported environment");
    for (k, v) in env {
        match k.as_str() {
            "name" | "values" => {}
            "id" => b.set_postman_id(&mut d, v),
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    let id = d.id;
    let index = b.finish(d)?;
    variables(b, env.get("values"), Kind::Variable, Some(id), &path)?;
    Ok(index)
}

/// Imports a globals export: the `{values, …}` object or a bare list.
pub(crate) fn import_globals(b: &mut Builder, globals: &Value, path: &str) -> Result<(), FormatError> {
    match globals {
        Value::Object(obj) => {
            let kept: Vec<&str> = obj.keys().map(String::as_str).filter(|k| *k != "values").collect();
            if !kept.is_empty() {
                b.note(
                    path,
                    format!("the globals file's own keys ({}) are not kept: apisync stores globals as separate variables", kept.join(", ")),
                );
            }
            variables(b, obj.get("values"), Kind::Global, None, path)
        }
        list => variables(b, Some(list), Kind::Global, None, path),
    }
}

fn variables(b: &mut Builder, list: Option<&Value>, kind: Kind, parent: Option<Id>, path: &str) -> Result<(), FormatError> {
    let list = match list {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => return Ok(()),
        Some(other) => {
            b.note(path, format!("'values' is {}, not a list; read as no variables", type_name(other)));
            return Ok(());
        }
    };
    let mut indices = Vec::with_capacity(list.len());
    for (n, var) in list.iter().enumerate() {
        let Value::Object(var) = var else {
            b.note(path, format!("variable {} is {}, not an object; skipped", n + 1, type_name(var)));
            continue;
        };
        indices.push(variable(b, var, kind, parent, path)?);
    }
    b.order(&indices)
}

/// Imports one variable (of an environment, or a global).
pub(crate) fn variable(
    b: &mut Builder,
    var: &Map<String, Value>,
    kind: Kind,
    parent: Option<Id>,
    path: &str,
) -> Result<usize, FormatError> {
    let mut d = b.draft(kind, parent, child_path(path, var.get("key"), "variable"));
    b.set_required(&mut d, "key", var.get("key"), "");
    for (k, v) in var {
        match k.as_str() {
            "key" => {}
            "value" | "type" | "enabled" | "description" => b.set(&mut d, k, v),
            _ => d.keep(KEYS, k, v.clone()),
        }
    }
    b.finish(d)
}
