//! `{{name}}` substitution for `pm.variables.replaceIn` and `pm.sendRequest`.
//!
//! A small private replacer so the sandbox need not wait for `runner::vars`;
//! the lead switches these calls to `runner::vars::replace_in` at integration.
//! Names not found, and dynamic variables (`{{$guid}}`), are left as written.

use serde_json::Value;

/// `text` with each `{{name}}` that `lookup` knows replaced by its value
/// (strings as they are, other JSON values as JSON).
pub(super) fn replace_in(text: &str, lookup: impl Fn(&str) -> Option<Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        let found = if name.starts_with('$') || name.contains("{{") { None } else { lookup(name) };
        match found {
            Some(Value::String(s)) => out.push_str(&s),
            Some(Value::Null) => {}
            Some(other) => out.push_str(&other.to_string()),
            None => {
                out.push_str("{{");
                out.push_str(name);
                out.push_str("}}");
            }
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// Every string inside `value` substituted, recursively (a request's URL,
/// headers and body as `pm.sendRequest` got them).
pub(super) fn replace_all(value: &mut Value, lookup: &impl Fn(&str) -> Option<Value>) {
    match value {
        Value::String(s) if s.contains("{{") => *s = replace_in(s, lookup),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_all(v, lookup)),
        Value::Object(map) => map.values_mut().for_each(|v| replace_all(v, lookup)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(name: &str) -> Option<Value> {
        match name {
            "host" => Some(json!("example.test")),
            "n" => Some(json!(3)),
            _ => None,
        }
    }

    #[test]
    fn known_names_are_replaced_and_others_kept() {
        assert_eq!(replace_in("https://{{host}}/a?n={{n}}", vars), "https://example.test/a?n=3");
        assert_eq!(replace_in("{{missing}} {{$guid}} {{host", vars), "{{missing}} {{$guid}} {{host");
    }

    #[test]
    fn every_string_in_a_request_is_replaced() {
        let mut req = json!({"url": "{{host}}/x", "header": [{"key": "H", "value": "{{n}}"}]});
        replace_all(&mut req, &vars);
        assert_eq!(req, json!({"url": "example.test/x", "header": [{"key": "H", "value": "3"}]}));
    }
}
