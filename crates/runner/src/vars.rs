//! `{{name}}` substitution through the [`Scopes`], as Postman does it: the
//! strongest scope's value, non-string values JSON-stringified, values
//! that themselves hold `{{...}}` resolved in turn, `{{$name}}` dynamic
//! variables, and names nothing defines left in place and reported.

use crate::{Scopes, dynamic};
use serde_json::Value;
use std::collections::BTreeSet;

/// How many times a value holding `{{...}}` is resolved again before the
/// rest is left as is (Postman stops at a similar depth; a variable that
/// names itself would otherwise never end).
const MAX_DEPTH: usize = 20;

/// A variable's value as text: strings as they are, others as JSON.
pub fn stringify(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces every `{{name}}` in `text`; returns the text and the names
/// nothing defines (each once, in order of appearance), left in the text.
pub fn replace_in(text: &str, scopes: &Scopes) -> (String, Vec<String>) {
    let mut s = Substitution::new(scopes);
    let out = s.text(text);
    (out, s.into_unresolved())
}

/// Every string inside `value` with its variables replaced, recursively (a
/// request's URL, headers and body as `pm.sendRequest` got them).
pub fn replace_all(value: &mut Value, scopes: &Scopes) {
    fn walk(v: &mut Value, s: &mut Substitution<'_>) {
        match v {
            Value::String(text) if text.contains("{{") => *text = s.text(text),
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, s)),
            Value::Object(map) => map.values_mut().for_each(|v| walk(v, s)),
            _ => {}
        }
    }
    walk(value, &mut Substitution::new(scopes));
}

/// Substitution over many strings of one request, collecting the names
/// nothing defines.
#[derive(Debug)]
pub struct Substitution<'a> {
    scopes: &'a Scopes,
    unresolved: Vec<String>,
    seen: BTreeSet<String>,
}

impl<'a> Substitution<'a> {
    /// Substitution through `scopes`.
    pub fn new(scopes: &'a Scopes) -> Substitution<'a> {
        Substitution { scopes, unresolved: Vec::new(), seen: BTreeSet::new() }
    }

    /// `text` with its variables replaced.
    pub fn text(&mut self, text: &str) -> String {
        self.resolve(text, 0)
    }

    /// A JSON string field's value with its variables replaced ("" when absent or not text).
    pub fn field(&mut self, v: Option<&Value>) -> String {
        match v {
            Some(Value::String(s)) => self.text(s),
            Some(Value::Null) | None => String::new(),
            Some(other) => self.text(&stringify(other)),
        }
    }

    /// The names nothing defined, in order of first appearance.
    pub fn unresolved(&self) -> &[String] {
        &self.unresolved
    }

    /// The names nothing defined, taken.
    pub fn into_unresolved(self) -> Vec<String> {
        self.unresolved
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.scopes.get(name) {
            return Some(stringify(v));
        }
        name.strip_prefix('$').and_then(dynamic::value)
    }

    fn resolve(&mut self, text: &str, depth: usize) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            let name = &after[..end];
            out.push_str(&rest[..start]);
            // A name never holds braces: `{{{{x}}` keeps its first braces as text.
            if name.contains('{') || name.contains('}') || name.is_empty() {
                out.push_str("{{");
                rest = after;
                continue;
            }
            match self.lookup(name) {
                Some(v) if depth < MAX_DEPTH && v.contains("{{") => out.push_str(&self.resolve(&v, depth + 1)),
                Some(v) => out.push_str(&v),
                None => {
                    if self.seen.insert(name.to_string()) {
                        self.unresolved.push(name.to_string());
                    }
                    out.push_str(&rest[start..start + 2 + end + 2]);
                }
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scopes() -> Scopes {
        let mut s = Scopes::default();
        s.globals.insert("host".into(), json!("global.example"));
        s.globals.insert("only_global".into(), json!("g"));
        s.collection.insert("host".into(), json!("collection.example"));
        s.environment.insert("host".into(), json!("env.example"));
        s.environment.insert("port".into(), json!(8080));
        s.environment.insert("obj".into(), json!({"a": [1, true]}));
        s.environment.insert("base".into(), json!("https://{{host}}:{{port}}"));
        s.environment.insert("loop".into(), json!("{{loop}}"));
        s
    }

    #[test]
    fn the_strongest_scope_wins_and_others_are_stringified() {
        let mut s = scopes();
        let (t, u) = replace_in("{{host}}:{{port}} {{obj}} {{only_global}}", &s);
        assert_eq!(t, r#"env.example:8080 {"a":[1,true]} g"#);
        assert!(u.is_empty());
        s.data.insert("host".into(), json!("data.example"));
        assert_eq!(replace_in("{{host}}", &s).0, "data.example");
        s.local.insert("host".into(), json!("local.example"));
        assert_eq!(replace_in("{{host}}", &s).0, "local.example");
        s.local.insert("n".into(), json!(null));
        assert_eq!(replace_in("{{n}}", &s).0, "null");
    }

    #[test]
    fn values_holding_variables_are_resolved_in_turn() {
        let (t, u) = replace_in("{{base}}/x", &scopes());
        assert_eq!(t, "https://env.example:8080/x");
        assert!(u.is_empty());
        // A variable naming itself stops rather than running forever.
        assert_eq!(replace_in("{{loop}}", &scopes()).0, "{{loop}}");
    }

    #[test]
    fn unresolved_names_are_reported_once_and_left_in_place() {
        let (t, u) = replace_in("a{{missing}}b{{host}}c{{missing}}{{other}}{{$nope}}", &scopes());
        assert_eq!(t, "a{{missing}}benv.examplec{{missing}}{{other}}{{$nope}}");
        assert_eq!(u, vec!["missing".to_string(), "other".into(), "$nope".into()]);
    }

    #[test]
    fn text_that_only_looks_like_a_variable_is_kept() {
        let s = scopes();
        assert_eq!(replace_in("{{ unclosed", &s).0, "{{ unclosed");
        assert_eq!(replace_in("{{}} {x}}", &s), ("{{}} {x}}".to_string(), vec![]));
        assert_eq!(replace_in("{{{{host}}}}", &s).0, "{{env.example}}");
        assert_eq!(replace_in("ünï{{host}}çødé", &s).0, "ünïenv.exampleçødé");
    }

    #[test]
    fn dynamic_variables_resolve_and_a_defined_name_wins() {
        let mut s = scopes();
        let (t, u) = replace_in("{{$guid}}", &s);
        assert!(uuid::Uuid::parse_str(&t).is_ok(), "{t}");
        assert!(u.is_empty());
        s.local.insert("$guid".into(), json!("mine"));
        assert_eq!(replace_in("{{$guid}}", &s).0, "mine");
    }
}
