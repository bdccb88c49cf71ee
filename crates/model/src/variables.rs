//! A workspace's environments and globals as the app's pages show them:
//! each variable's synced fields beside a current value, its secret values
//! masked unless revealed. Pure, so the desktop app (which has a device's
//! current values) and the server's web version (which has none) answer
//! alike.

use crate::document::SECRET_MASK;
use crate::{Document, Kind};
use serde_json::{Value, json};

/// Whether a query string asks for secrets revealed: `reveal`,
/// `reveal=true` or `reveal=1` among its parameters.
pub fn reveal_asked(query: Option<&str>) -> bool {
    query.unwrap_or("").split('&').any(|p| p == "reveal" || p == "reveal=true" || p == "reveal=1")
}

/// A variable or global as the pages show it: `{id, key, value, current,
/// type, enabled, description, secret, masked}`. `current` is the device's
/// current value (none: null); a secret's values are masked unless
/// `reveal`, and `masked` says whether they were.
pub fn variable(v: &Document, current: Option<&Value>, reveal: bool) -> Value {
    let secret = v.is_secret();
    let hide = secret && !reveal;
    let shown = |x: Option<&Value>| match x {
        Some(x) if hide && !x.is_null() => Value::String(SECRET_MASK.into()),
        Some(x) => x.clone(),
        None => Value::Null,
    };
    let f = &v.fields;
    json!({
        "id": v.id,
        "key": f.get("key").cloned().unwrap_or(Value::Null),
        "value": shown(f.get("value")),
        "current": shown(current),
        "type": f.get("type").and_then(Value::as_str).unwrap_or("default"),
        "enabled": v.is_enabled(),
        "description": f.get("description").cloned().unwrap_or(Value::Null),
        "secret": secret,
        "masked": hide,
    })
}

/// The environments (`[{id, name, variables}]`) and globals of `docs`, a
/// workspace's documents in tree order, each variable shown by
/// [`variable`] with the current value `current` gives it.
pub fn environments<E>(
    docs: &[Document],
    reveal: bool,
    mut current: impl FnMut(&Document) -> Result<Option<Value>, E>,
) -> Result<(Vec<Value>, Vec<Value>), E> {
    let mut envs = Vec::new();
    let mut globals = Vec::new();
    for doc in docs {
        match doc.kind {
            Kind::Environment => {
                let mut vars = Vec::new();
                for v in docs.iter().filter(|v| v.kind == Kind::Variable && v.parent_id == Some(doc.id)) {
                    vars.push(variable(v, current(v)?.as_ref(), reveal));
                }
                envs.push(json!({ "id": doc.id, "name": doc.title(), "variables": vars }));
            }
            Kind::Global => globals.push(variable(doc, current(doc)?.as_ref(), reveal)),
            _ => {}
        }
    }
    Ok((envs, globals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fields, Id};

    fn doc(kind: Kind, parent: Option<Id>, fields: Value) -> Document {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = Id::from_u128(u128::from(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
        let fields: Fields = fields.as_object().cloned().unwrap_or_default();
        Document { id, kind, workspace_id: Id::nil(), parent_id: parent, order_key: None, fields, deleted: false, version: 1 }
    }

    #[test]
    fn reveal_is_read_from_the_query() {
        assert!(reveal_asked(Some("reveal=true")));
        assert!(reveal_asked(Some("x=1&reveal")));
        assert!(!reveal_asked(Some("reveal=false")));
        assert!(!reveal_asked(Some("revealed=true")));
        assert!(!reveal_asked(None));
    }

    #[test]
    fn secrets_are_masked_unless_revealed() {
        let v = doc(Kind::Variable, None, json!({"key": "token", "value": "s3cret", "type": "secret"}));
        let cur = json!("mine");
        let masked = variable(&v, Some(&cur), false);
        assert_eq!((&masked["value"], &masked["current"], &masked["masked"]), (&json!(SECRET_MASK), &json!(SECRET_MASK), &json!(true)));
        let shown = variable(&v, Some(&cur), true);
        assert_eq!((&shown["value"], &shown["current"], &shown["masked"]), (&json!("s3cret"), &json!("mine"), &json!(false)));
        let plain = doc(Kind::Global, None, json!({"key": "host", "value": "example.com"}));
        let g = variable(&plain, None, false);
        assert_eq!(
            (&g["value"], &g["current"], &g["type"], &g["enabled"]),
            (&json!("example.com"), &Value::Null, &json!("default"), &json!(true))
        );
    }

    #[test]
    fn environments_hold_their_own_variables() {
        let prod = doc(Kind::Environment, None, json!({"name": "Prod"}));
        let dev = doc(Kind::Environment, None, json!({"name": "Dev"}));
        let a = doc(Kind::Variable, Some(prod.id), json!({"key": "a", "value": "1"}));
        let g = doc(Kind::Global, None, json!({"key": "g", "value": "2"}));
        let docs = vec![prod, a, dev, g];
        let (envs, globals) = environments::<()>(&docs, false, |_| Ok(None)).unwrap_or_default();
        assert_eq!(envs.len(), 2);
        assert_eq!((&envs[0]["name"], envs[0]["variables"].as_array().map(Vec::len)), (&json!("Prod"), Some(1)));
        assert_eq!(envs[1]["variables"], json!([]));
        assert_eq!(globals.len(), 1);
        assert_eq!(environments::<&str>(&docs, false, |_| Err("no device")), Err("no device"));
    }
}
