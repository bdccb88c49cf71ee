//! What a request document is sent with: the variable scopes (globals, the
//! active environment, the collection's variables), its ancestors' auth,
//! and the secret values that must never be stored in a synced document.

use anyhow::bail;
use client::Device;
use model::{Document, Id, Kind};
use runner::{Scopes, Vars};
use serde_json::Value;

fn text(v: &Value) -> String {
    runner::vars::stringify(v)
}

/// Adds the enabled variables among `docs` to `vars`: the device's current value over the synced initial one.
fn add_variables<'a>(
    device: &Device,
    docs: impl Iterator<Item = &'a Document>,
    vars: &mut Vars,
    secrets: &mut Vec<String>,
) -> anyhow::Result<()> {
    for d in docs {
        let f = &d.fields;
        if !d.is_enabled() {
            continue;
        }
        let Some(key) = f.get("key").and_then(Value::as_str) else { continue };
        let initial = f.get("value").cloned().unwrap_or(Value::Null);
        let current = device.current_value(d.id)?;
        if d.is_secret() {
            secrets.extend([&initial, current.as_ref().unwrap_or(&Value::Null)].into_iter().filter(|v| !v.is_null()).map(text));
        }
        vars.insert(key.to_string(), current.unwrap_or(initial));
    }
    Ok(())
}

/// The environment `which` names (an id or a name) among the workspace's, else the active one.
fn environment(device: &Device, docs: &[Document], ws: Id, which: Option<&str>) -> anyhow::Result<Option<Document>> {
    let envs: Vec<&Document> = docs.iter().filter(|d| d.kind == Kind::Environment).collect();
    let Some(which) = which else {
        let active = device.active_environment(ws)?;
        return Ok(active.and_then(|id| envs.iter().find(|e| e.id == id).map(|e| (*e).clone())));
    };
    let named: Vec<&&Document> =
        envs.iter().filter(|e| e.id.to_string() == which.trim().to_ascii_lowercase() || e.title() == which).collect();
    match named.as_slice() {
        [one] => Ok(Some((**one).clone())),
        [] => bail!(
            "no environment named or with id '{which}' in this workspace; its environments: {}",
            if envs.is_empty() {
                "none".to_string()
            } else {
                envs.iter().map(|e| format!("'{}'", e.title())).collect::<Vec<_>>().join(", ")
            }
        ),
        many => bail!(
            "several environments are named '{which}'; give an id: {}",
            many.iter().map(|e| e.id.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// What every request of a workspace is sent with: globals and the
/// environment (`env` names one, else the active one), and their secrets.
pub struct Shared {
    /// Globals and environment filled in.
    pub scopes: Scopes,
    /// The environment used, if any.
    pub environment: Option<Document>,
    /// Secret values found so far.
    pub secrets: Vec<String>,
}

/// Globals and the environment of workspace `ws` (its documents `docs`).
pub fn shared(device: &Device, docs: &[Document], ws: Id, env: Option<&str>) -> anyhow::Result<Shared> {
    let mut scopes = Scopes::default();
    let mut secrets = Vec::new();
    add_variables(device, docs.iter().filter(|d| d.kind == Kind::Global), &mut scopes.globals, &mut secrets)?;
    let environment = environment(device, docs, ws, env)?;
    if let Some(e) = &environment {
        let vars = docs.iter().filter(|d| d.kind == Kind::Variable && d.parent_id == Some(e.id));
        add_variables(device, vars, &mut scopes.environment, &mut secrets)?;
    }
    Ok(Shared { scopes, environment, secrets })
}

/// A collection document's enabled variables into `vars`, its secret values into `secrets`.
pub fn collection_variables(collection: &Document, vars: &mut Vars, secrets: &mut Vec<String>) {
    for v in collection.fields.get("variable").and_then(Value::as_array).into_iter().flatten() {
        if v.get("disabled").and_then(Value::as_bool).unwrap_or(false) {
            continue;
        }
        let Some(key) = v.get("key").and_then(Value::as_str) else { continue };
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if v.get("type").and_then(Value::as_str) == Some("secret") && !value.is_null() {
            secrets.push(text(&value));
        }
        vars.insert(key.to_string(), value);
    }
}

/// Secret values worth masking: no empty ones or masks, each once.
pub fn tidy(secrets: &mut Vec<String>) {
    secrets.retain(|s| !s.is_empty() && s != model::document::SECRET_MASK);
    secrets.sort();
    secrets.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use client::fields;
    use runner::plan::{Plan, plan_request};
    use serde_json::json;

    fn gather(d: &Device, id: Id, env: Option<&str>) -> anyhow::Result<(Shared, Plan)> {
        let ws = d.get(id)?.workspace_id;
        let docs = d.list(Some(&ws.to_string()), None)?;
        let plan = plan_request(&docs, id)?;
        Ok((crate::sending::plan_scopes(d, &docs, ws, env, &plan)?, plan))
    }

    #[test]
    fn scopes_take_current_over_initial_enabled_only_and_the_nearest_auth_first() {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::open(dir.path()).unwrap();
        let ws = d.resolve_workspace(None).unwrap().id;
        let var = |kind, parent, key: &str, value: &str, extra: &[(&str, Value)]| {
            let mut f = fields([("key", key.into()), ("value", value.into())]);
            f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
            d.create(kind, parent, None, f).unwrap()
        };
        let g = var(Kind::Global, None, "host", "initial.example", &[]);
        d.set(g, fields([("current", "current.example".into())])).unwrap();
        var(Kind::Global, None, "off", "x", &[("enabled", json!(false))]);
        let col_auth = json!({"type": "bearer", "bearer": [{"key": "token", "value": "c"}]});
        let col = d
            .create(
                Kind::Collection,
                None,
                None,
                fields([
                    ("name", "C".into()),
                    ("auth", col_auth.clone()),
                    ("variable", json!([{"key": "v", "value": 1}, {"key": "d", "value": 2, "disabled": true}])),
                ]),
            )
            .unwrap();
        let folder = d.create(Kind::Folder, Some(col), None, fields([("name", "F".into())])).unwrap();
        let req = d.create(Kind::Request, Some(folder), None, fields([("name", "R".into()), ("url", "{{host}}".into())])).unwrap();
        let dev = d.create(Kind::Environment, None, None, fields([("name", "Dev".into())])).unwrap();
        let prod = d.create(Kind::Environment, None, None, fields([("name", "Prod".into())])).unwrap();
        let secret = var(Kind::Variable, Some(dev), "token", "initial-secret", &[("type", json!("secret"))]);
        d.set(secret, fields([("current", "current-secret".into())])).unwrap();
        var(Kind::Variable, Some(prod), "host", "prod.example", &[]);

        let (c, plan) = gather(&d, req, None).unwrap();
        assert!(c.environment.is_none(), "no environment is active yet");
        assert_eq!(c.scopes.globals, Vars::from([("host".to_string(), json!("current.example"))]));
        assert_eq!(c.scopes.collection, Vars::from([("v".to_string(), json!(1))]));
        assert_eq!(plan.steps[0].inherited_auth(), vec![&col_auth]);
        assert_eq!(plan.collection.id, col);
        assert!(c.secrets.is_empty());

        d.set_active_environment(ws, Some(dev)).unwrap();
        let (c, _) = gather(&d, req, None).unwrap();
        assert_eq!(c.environment.map(|e| e.id), Some(dev));
        assert_eq!(c.scopes.environment.get("token"), Some(&json!("current-secret")));
        assert_eq!(c.secrets, vec!["current-secret".to_string(), "initial-secret".into()]);

        let (c, _) = gather(&d, req, Some("Prod")).unwrap();
        assert_eq!(c.scopes.get("host"), Some(&json!("prod.example")), "the environment outranks globals");
        assert!(gather(&d, req, Some("Nope")).err().map(|e| e.to_string()).unwrap_or_default().contains("'Dev', 'Prod'"));
        assert!(gather(&d, col, None).err().map(|e| e.to_string()).unwrap_or_default().contains("is a collection"));
    }
}
