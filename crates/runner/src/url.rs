//! A Postman v2.1 `url` (a string, or an object of raw/protocol/host/port/
//! path/query/hash/variable) made into the one URL to send: variables
//! replaced, enabled query parameters only, `:name` path variables filled.

use crate::vars::{Substitution, stringify};
use serde_json::Value;

/// Whether a list item (`{key, value, disabled}`) is switched on.
pub(crate) fn enabled(item: &Value) -> bool {
    !item.get("disabled").and_then(Value::as_bool).unwrap_or(false)
}

/// A list field's items that are switched on (none when not a list).
pub(crate) fn enabled_items(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten().filter(|i| i.is_object() && enabled(i))
}

fn joined(v: Option<&Value>, sep: &str) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .map(|p| match p {
                    // Path segments may be `{type, value}` objects.
                    Value::Object(o) => o.get("value").map(stringify).unwrap_or_default(),
                    other => stringify(other),
                })
                .collect::<Vec<_>>()
                .join(sep),
        ),
        _ => None,
    }
}

/// The URL `url` describes, with variables replaced by `s`.
pub fn build(url: Option<&Value>, s: &mut Substitution<'_>) -> String {
    let Some(Value::Object(o)) = url else {
        let raw = s.field(url);
        return with_scheme(raw.trim());
    };
    let host = joined(o.get("host"), ".");
    let Some(host) = host.filter(|h| !h.is_empty()) else {
        // Only `raw`: its query is already in the text.
        let raw = s.field(o.get("raw"));
        return with_scheme(raw.trim());
    };
    let mut out = String::new();
    if let Some(p) = o.get("protocol").and_then(Value::as_str).filter(|p| !p.is_empty()) {
        out.push_str(&s.text(p.trim_end_matches("://")));
        out.push_str("://");
    }
    out.push_str(&s.text(&host));
    if let Some(port) = o.get("port").map(stringify).filter(|p| !p.is_empty()) {
        out.push(':');
        out.push_str(&s.text(&port));
    }
    let vars: Vec<(&str, &Value)> = o
        .get("variable")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| enabled(v))
        .filter_map(|v| Some((v.get("key")?.as_str()?, v.get("value").unwrap_or(&Value::Null))))
        .collect();
    if let Some(path) = joined(o.get("path"), "/").filter(|p| !p.is_empty()) {
        let segments: Vec<String> = path
            .split('/')
            .map(|seg| match seg.strip_prefix(':').and_then(|name| vars.iter().find(|(k, _)| *k == name)) {
                Some((_, v)) => s.field(Some(v)),
                None => s.text(seg),
            })
            .collect();
        if !path.starts_with('/') {
            out.push('/');
        }
        out.push_str(&segments.join("/"));
    }
    let query: Vec<String> = enabled_items(o.get("query"))
        .map(|q| {
            let key = s.field(q.get("key"));
            match q.get("value") {
                None | Some(Value::Null) => key,
                v => format!("{key}={}", s.field(v)),
            }
        })
        .collect();
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    if let Some(h) = o.get("hash").and_then(Value::as_str).filter(|h| !h.is_empty()) {
        out.push('#');
        out.push_str(&s.text(h));
    }
    with_scheme(&out)
}

/// Postman sends a URL without a scheme over plain HTTP.
fn with_scheme(url: &str) -> String {
    if url.contains("://") || url.is_empty() { url.to_string() } else { format!("http://{url}") }
}

/// Appends `key=value` to the query of `url` (form-encoded).
pub fn add_query(url: &str, key: &str, value: &str) -> String {
    let pair: String = form_urlencoded::Serializer::new(String::new()).append_pair(key, value).finish();
    let (base, hash) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let sep = if base.contains('?') { if base.ends_with('?') || base.ends_with('&') { "" } else { "&" } } else { "?" };
    format!("{base}{sep}{pair}{hash}")
}

/// The `host:port` of a URL that names its scheme's default port outright
/// (`https://h:443/`): Postman sends that port in `Host`, where a URL parser
/// would drop it.
pub fn explicit_default_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    host_port.ends_with(default).then(|| host_port.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scopes;
    use serde_json::json;

    fn build_with(url: Value, scopes: &Scopes) -> (String, Vec<String>) {
        let mut s = Substitution::new(scopes);
        let u = build(Some(&url), &mut s);
        (u, s.into_unresolved())
    }

    #[test]
    fn an_object_url_keeps_enabled_query_and_fills_path_variables() {
        let mut sc = Scopes::default();
        sc.environment.insert("host".into(), json!("api.example.com"));
        sc.environment.insert("uid".into(), json!(42));
        let url = json!({
            "raw": "ignored",
            "protocol": "https",
            "host": ["{{host}}"],
            "port": "8443",
            "path": ["users", ":id", "orders"],
            "query": [
                {"key": "page", "value": "2"},
                {"key": "off", "value": "x", "disabled": true},
                {"key": "flag", "value": null},
                {"key": "who", "value": "{{uid}}"}
            ],
            "variable": [{"key": "id", "value": "{{uid}}"}],
            "hash": "top"
        });
        let (u, unresolved) = build_with(url, &sc);
        assert_eq!(u, "https://api.example.com:8443/users/42/orders?page=2&flag&who=42#top");
        assert!(unresolved.is_empty());
    }

    #[test]
    fn a_string_or_raw_only_url_gets_http_when_it_has_no_scheme() {
        let sc = Scopes::default();
        assert_eq!(build_with(json!("example.com/a?b=1"), &sc).0, "http://example.com/a?b=1");
        assert_eq!(build_with(json!({"raw": "https://x.test/{{p}}"}), &sc), ("https://x.test/{{p}}".into(), vec!["p".into()]));
        assert_eq!(build_with(json!({"host": "h.test", "path": "/a/b"}), &sc).0, "http://h.test/a/b");
    }

    #[test]
    fn query_parameters_are_appended_encoded() {
        assert_eq!(add_query("http://h/p", "k", "a b&c"), "http://h/p?k=a+b%26c");
        assert_eq!(add_query("http://h/p?x=1#f", "k", "v"), "http://h/p?x=1&k=v#f");
    }

    #[test]
    fn an_explicit_default_port_is_kept_for_the_host_header() {
        assert_eq!(explicit_default_port("https://u:p@h.test:443/x?y"), Some("h.test:443".into()));
        assert_eq!(explicit_default_port("http://h.test:80"), Some("h.test:80".into()));
        assert_eq!(explicit_default_port("https://h.test:8443/"), None);
        assert_eq!(explicit_default_port("https://h.test/"), None);
    }
}
