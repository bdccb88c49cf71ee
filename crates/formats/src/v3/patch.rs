//! The `x-apisync` key: what a v3 file cannot say, kept beside it.
//!
//! The writer knows the v2.1 object it started from (the original) and,
//! by running the reader's own rebuild on the keys it wrote, what a reader
//! will get back (the rebuilt). `x-apisync` holds the difference, as JSON
//! Patch operations (RFC 6902 `add`, `replace`, `remove`, with JSON Pointer
//! paths), so it never repeats what a Postman key already says.
//!
//! Operations are grouped by the part of the object they depend on (a
//! top-level key, or one key of `request` / `info`), and each group records
//! a fingerprint of that part as rebuilt when written. A reader applies a
//! group only while the part is unchanged: if someone edited the file in
//! Postman since, the stale details are dropped (with a note) instead of
//! overriding the edit.
//!
//! The reader rebuilds a URL as the object Postman's SDK parses its text
//! into (as Postman's own exports write it); a URL that was text in v2.1 is
//! named by an entry `url-text: /request/url`, so the text is not repeated.
//!
//! ```yaml
//! x-apisync:
//!   version: 1
//!   changes:
//!     - url-text: /request/url
//!     - at: /request/header
//!       was: 5f1d3c0a9b8e7d62
//!       ops:
//!         - op: add
//!           path: /request/header/0/type
//!           value: text
//! ```

use super::node::Node;
use serde_json::{Map, Value};

/// The key in every v3 file apisync writes that holds what Postman's keys cannot.
pub const KEY: &str = "x-apisync";
/// The layout of [`KEY`] this apisync writes and reads.
const VERSION: u64 = 1;

/// An entry naming a URL that was text in v2.1: keep the text the reader
/// rebuilds an object from (then any group refines it), instead of keeping
/// a copy of it.
const URL_TEXT: &str = "url-text";
/// Where a v2.1 object a file rebuilds holds a URL.
const URL_PLACES: [[&str; 2]; 2] = [["request", "url"], ["originalRequest", "url"]];

/// One change from the rebuilt object to the original.
#[derive(Clone, Debug, PartialEq)]
struct Op {
    path: Vec<String>,
    /// `None` removes the key.
    value: Option<Value>,
    /// Whether the key exists in the rebuilt object (`replace`) or not (`add`).
    exists: bool,
}

fn diff_into(orig: &Value, rebuilt: &Value, path: &mut Vec<String>, out: &mut Vec<Op>) {
    match (orig, rebuilt) {
        (Value::Object(o), Value::Object(r)) => {
            for (k, ov) in o {
                path.push(k.clone());
                match r.get(k) {
                    Some(rv) => diff_into(ov, rv, path, out),
                    None => out.push(Op { path: path.clone(), value: Some(ov.clone()), exists: false }),
                }
                path.pop();
            }
            for k in r.keys().filter(|k| !o.contains_key(*k)) {
                let mut p = path.clone();
                p.push(k.clone());
                out.push(Op { path: p, value: None, exists: true });
            }
        }
        (Value::Array(o), Value::Array(r)) if o.len() == r.len() => {
            for (n, (ov, rv)) in o.iter().zip(r).enumerate() {
                path.push(n.to_string());
                diff_into(ov, rv, path, out);
                path.pop();
            }
        }
        _ if orig == rebuilt => {}
        _ => out.push(Op { path: path.clone(), value: Some(orig.clone()), exists: true }),
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1"))).collect()
}

fn unpointer(p: &str) -> Option<Vec<String>> {
    if p.is_empty() {
        return Some(Vec::new());
    }
    let rest = p.strip_prefix('/')?;
    Some(rest.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect())
}

/// The part of the object an operation depends on.
fn group_of(path: &[String]) -> Vec<String> {
    let n = if matches!(path.first().map(String::as_str), Some("request" | "info")) { 2 } else { 1 };
    path.iter().take(n).cloned().collect()
}

fn get<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, seg| match cur {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// FNV-1a over the canonical JSON text (serde_json's maps are sorted), as 16 hex digits.
fn fingerprint(v: Option<&Value>) -> String {
    let text = v.map_or_else(|| "\u{0}absent".to_string(), |v| serde_json::to_string(v).unwrap_or_default());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `x-apisync` for an object whose rebuild from the v3 keys is `rebuilt`;
/// `None` when the rebuild already equals the original.
pub(crate) fn make(original: &Value, rebuilt: &Value) -> Option<Node> {
    // A URL that was text, where the reader rebuilds an object: say so rather than repeat it.
    let mut rebuilt = rebuilt.clone();
    let mut entries = Vec::new();
    for at in URL_PLACES {
        let path: Vec<String> = at.iter().map(|s| s.to_string()).collect();
        if let (Some(Value::String(_)), Some(Value::Object(url))) = (get(original, &path), get(&rebuilt, &path))
            && let Some(raw) = url.get("raw").cloned()
        {
            set(&mut rebuilt, &path, raw);
            entries.push(Node::Map(vec![(URL_TEXT.to_string(), Node::Str(pointer(&path)))]));
        }
    }
    let rebuilt = &rebuilt;
    let mut ops = Vec::new();
    diff_into(original, rebuilt, &mut Vec::new(), &mut ops);
    if ops.is_empty() && entries.is_empty() {
        return None;
    }
    let mut groups: Vec<(Vec<String>, Vec<Op>)> = Vec::new();
    for op in ops {
        let g = group_of(&op.path);
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, list)) => list.push(op),
            None => groups.push((g, vec![op])),
        }
    }
    entries.extend(groups.into_iter().map(|(at, ops)| {
        let ops = ops
            .into_iter()
            .map(|op| {
                let name = match (&op.value, op.exists) {
                    (None, _) => "remove",
                    (Some(_), true) => "replace",
                    (Some(_), false) => "add",
                };
                let mut pairs = vec![("op".to_string(), Node::Str(name.into())), ("path".to_string(), Node::Str(pointer(&op.path)))];
                if let Some(v) = &op.value {
                    pairs.push(("value".to_string(), Node::from_json(v)));
                }
                Node::Map(pairs)
            })
            .collect();
        Node::Map(vec![
            ("at".to_string(), Node::Str(pointer(&at))),
            ("was".to_string(), Node::Str(fingerprint(get(rebuilt, &at)))),
            ("ops".to_string(), Node::Seq(ops)),
        ])
    }));
    Some(Node::Map(vec![("version".into(), Node::Num(VERSION.into())), ("changes".into(), Node::Seq(entries))]))
}

fn set(v: &mut Value, path: &[String], new: Value) {
    let Some((last, parents)) = path.split_last() else {
        *v = new;
        return;
    };
    let mut cur = v;
    for seg in parents {
        cur = match cur {
            Value::Object(m) => m.entry(seg.clone()).or_insert_with(|| Value::Object(Map::new())),
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), new);
        }
        Value::Array(a) => {
            if let Some(x) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *x = new;
            }
        }
        _ => {}
    }
}

fn remove(v: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut cur = v;
    for seg in parents {
        cur = match cur {
            Value::Object(m) => match m.get_mut(seg) {
                Some(x) => x,
                None => return,
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if let Value::Object(m) = cur {
        m.remove(last);
    }
}

/// Applies `x-apisync` to the object rebuilt from a file's Postman keys.
/// Returns notes for entries that were not applied (malformed, or written
/// for a part that has been edited since).
pub(crate) fn apply(ext: &Node, rebuilt: &mut Value) -> Vec<String> {
    let mut notes = Vec::new();
    match ext.get("version") {
        Some(Node::Num(v)) if v.as_u64() == Some(VERSION) => {}
        Some(Node::Num(v)) if v.as_u64().is_some_and(|v| v > VERSION) => {
            return vec![format!(
                "'{KEY}' was written by a newer apisync (version {v}); its details are ignored — upgrade apisync to read them"
            )];
        }
        _ => return vec![format!("'{KEY}' has no version {VERSION}; its details are ignored")],
    }
    let Some(Node::Seq(groups)) = ext.get("changes") else {
        return vec![format!("'{KEY}' has no list of changes; its details are ignored")];
    };
    for at in groups.iter().filter_map(|g| g.get(URL_TEXT)) {
        let path = at.as_str().and_then(unpointer).filter(|p| URL_PLACES.iter().any(|u| u.iter().eq(p.iter())));
        match path {
            Some(path) => {
                if let Some(raw) = get(rebuilt, &path).and_then(|u| u.get("raw")).cloned() {
                    set(rebuilt, &path, raw);
                }
            }
            None => notes.push(format!("'{KEY}' names no URL with its '{URL_TEXT}'; ignored")),
        }
    }
    // Fingerprints are checked against the rebuild before any group changes it.
    let base = rebuilt.clone();
    for g in groups.iter().filter(|g| g.get(URL_TEXT).is_none()) {
        let (Some(at), Some(was), Some(Node::Seq(ops))) =
            (g.get("at").and_then(Node::as_str).and_then(unpointer), g.get("was").and_then(Node::as_str), g.get("ops"))
        else {
            notes.push(format!("an entry of '{KEY}' lacks 'at', 'was' or 'ops'; ignored"));
            continue;
        };
        if fingerprint(get(&base, &at)) != was {
            notes.push(format!(
                "'{KEY}' details for {} were written for a different value (the file was edited outside apisync); \
                 they are dropped and the file's own keys are used",
                pointer(&at)
            ));
            continue;
        }
        for op in ops {
            let path = op.get("path").and_then(Node::as_str).and_then(unpointer);
            let Some(path) = path.filter(|p| p.starts_with(&at)) else {
                notes.push(format!("an operation of '{KEY}' at {} has a bad path; ignored", pointer(&at)));
                continue;
            };
            match (op.get("op").and_then(Node::as_str), op.get("value")) {
                (Some("add" | "replace"), Some(v)) => set(rebuilt, &path, v.to_json()),
                (Some("remove"), _) => remove(rebuilt, &path),
                _ => notes.push(format!("an operation of '{KEY}' at {} is not add, replace or remove; ignored", pointer(&path))),
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn only_differences_are_kept() {
        let orig = json!({"name": "a", "request": {"url": {"raw": "x", "host": ["h"]}, "header": []}, "keep": null});
        let rebuilt = json!({"name": "a", "request": {"url": "x", "header": [], "method": "GET"}});
        let ext = make(&orig, &rebuilt).unwrap();
        let text = super::super::yaml_out::document(&[(KEY.into(), ext.clone())]);
        assert!(!text.contains("name"), "{text}");
        let mut back = rebuilt.clone();
        assert!(apply(&ext, &mut back).is_empty());
        assert_eq!(back, orig);
        assert!(make(&orig, &orig).is_none());
    }

    #[test]
    fn edited_parts_drop_their_details() {
        let orig = json!({"request": {"url": {"raw": "x", "host": ["h"]}, "body": {"mode": "raw", "raw": "b", "disabled": true}}});
        let rebuilt = json!({"request": {"url": {"raw": "x", "host": ["x"]}, "body": {"mode": "raw", "raw": "b"}}});
        let ext = make(&orig, &rebuilt).unwrap();
        // Someone changed the URL in Postman; the body is as written.
        let mut edited = json!({"request": {"url": {"raw": "y", "host": ["y"]}, "body": {"mode": "raw", "raw": "b"}}});
        let notes = apply(&ext, &mut edited);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("/request/url"), "{notes:?}");
        let url = json!({"raw": "y", "host": ["y"]});
        assert_eq!(edited, json!({"request": {"url": url, "body": {"mode": "raw", "raw": "b", "disabled": true}}}));
    }

    #[test]
    fn a_newer_layout_is_left_alone_with_a_note() {
        let ext = Node::Map(vec![("version".into(), Node::Num(2.into())), ("changes".into(), Node::Seq(Vec::new()))]);
        let mut v = json!({"a": 1});
        let notes = apply(&ext, &mut v);
        assert!(notes[0].contains("newer apisync"), "{notes:?}");
        assert_eq!(v, json!({"a": 1}));
        assert!(apply(&Node::Seq(Vec::new()), &mut v)[0].contains("no version"));
    }

    #[test]
    fn a_url_that_was_text_is_named_not_repeated() {
        let orig = json!({"request": {"url": "http://example.com/a"}});
        let rebuilt =
            json!({"request": {"url": {"raw": "http://example.com/a", "protocol": "http", "host": ["example", "com"], "path": ["a"]}}});
        let ext = make(&orig, &rebuilt).unwrap();
        let text = super::super::yaml_out::document(&[(KEY.into(), ext.clone())]);
        assert_eq!(text, "x-apisync:\n  version: 1\n  changes:\n    - url-text: /request/url\n");
        let mut back = rebuilt.clone();
        assert!(apply(&ext, &mut back).is_empty());
        assert_eq!(back, orig);
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (0i64..4).prop_map(Value::from),
            "[ab/~]{0,3}".prop_map(Value::from)
        ];
        leaf.prop_recursive(3, 20, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[ab/~]{1,2}", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Applying what `make` keeps to the rebuilt object gives the original back.
        #[test]
        fn make_then_apply_restores(a in prop::collection::btree_map("[ab/~]{1,2}", value(), 0..4),
                                    b in prop::collection::btree_map("[ab/~]{1,2}", value(), 0..4)) {
            let (orig, rebuilt) = (Value::Object(a.into_iter().collect()), Value::Object(b.into_iter().collect()));
            let mut back = rebuilt.clone();
            if let Some(ext) = make(&orig, &rebuilt) {
                prop_assert!(apply(&ext, &mut back).is_empty());
            }
            prop_assert_eq!(back, orig);
        }
    }
}
