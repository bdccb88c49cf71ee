//! A Postman v2.1 `body` made into bytes and a content type, for each mode:
//! raw, urlencoded, formdata (multipart, text and file parts), file, graphql.

use crate::PrepareError;
use crate::url::enabled_items;
use crate::vars::Substitution;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// A body ready to send.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Built {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The content type the mode implies, if any (a header the request sets wins).
    pub content_type: Option<String>,
    /// The body as Postman v2.1 JSON with its variables replaced (file parts
    /// by path): the body as sent.
    pub sent: Value,
    /// What was left out, and why (a form file that cannot be read).
    pub warnings: Vec<String>,
}

/// The content type of a raw body in `language` (Postman's raw options).
fn raw_type(language: &str) -> Option<&'static str> {
    Some(match language {
        "json" => "application/json",
        "xml" => "application/xml",
        "html" => "text/html",
        "javascript" => "application/javascript",
        // Postman's raw body is text unless its language says otherwise.
        _ => "text/plain",
    })
}

/// A file part's type from its extension; Postman guesses the same way.
pub fn mime_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        Some("csv") => "text/csv",
        Some("html" | "htm") => "text/html",
        Some("xml") => "application/xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

fn read(base: &Path, src: &str) -> Result<(PathBuf, Vec<u8>), PrepareError> {
    let path = base.join(src);
    match std::fs::read(&path) {
        Ok(b) => Ok((path, b)),
        Err(e) => Err(PrepareError::File { path, base: base.to_path_buf(), error: e.to_string() }),
    }
}

/// The sources of a formdata file part or a file body (`src` is a path or a list of them).
fn sources(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Multipart parts' separator: random, so a part's bytes cannot hold it by chance.
fn boundary() -> String {
    format!("--------------------------{}", uuid::Uuid::new_v4().simple())
}

fn quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace(['\r', '\n'], " ")
}

/// Builds `body` (a Postman v2.1 body object), file paths relative to `base`.
pub fn build(body: Option<&Value>, s: &mut Substitution<'_>, base: &Path) -> Result<Option<Built>, PrepareError> {
    let Some(Value::Object(b)) = body else { return Ok(None) };
    if b.get("disabled").and_then(Value::as_bool).unwrap_or(false) {
        return Ok(None);
    }
    let mode = b.get("mode").and_then(Value::as_str).unwrap_or("raw");
    let built = match mode {
        "raw" => {
            let text = s.field(b.get("raw"));
            if text.is_empty() {
                return Ok(None);
            }
            let lang = b.get("options").and_then(|o| o.pointer("/raw/language")).and_then(Value::as_str).unwrap_or("");
            Built {
                content_type: raw_type(lang).map(str::to_string),
                sent: json!({ "mode": "raw", "raw": text, "options": b.get("options").cloned().unwrap_or(json!({})) }),
                bytes: text.into_bytes(),
                warnings: Vec::new(),
            }
        }
        "urlencoded" => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            let mut sent = Vec::new();
            for item in enabled_items(b.get("urlencoded")) {
                let (k, v) = (s.field(item.get("key")), s.field(item.get("value")));
                form.append_pair(&k, &v);
                sent.push(json!({ "key": k, "value": v }));
            }
            Built {
                bytes: form.finish().into_bytes(),
                content_type: Some("application/x-www-form-urlencoded".into()),
                sent: json!({ "mode": "urlencoded", "urlencoded": sent }),
                warnings: Vec::new(),
            }
        }
        "formdata" => match formdata(b, s, base) {
            Some(f) => f,
            None => return Ok(None),
        },
        "file" => {
            let src = sources(b.get("file").and_then(|f| f.get("src"))).into_iter().next().map(|p| s.text(&p));
            let Some(src) = src else { return Ok(None) };
            let (_, bytes) = read(base, &src)?;
            Built { bytes, content_type: None, sent: json!({ "mode": "file", "file": { "src": src } }), warnings: Vec::new() }
        }
        "graphql" => {
            let g = b.get("graphql").cloned().unwrap_or(json!({}));
            let query = s.field(g.get("query"));
            let vars_text = s.field(g.get("variables"));
            let variables = if vars_text.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str::<Value>(&vars_text).map_err(|e| PrepareError::GraphqlVariables(e.to_string()))?
            };
            // Written field by field: Postman's order (query, operationName, variables), which a JSON map would sort.
            let op = g.get("operationName").map(|v| s.field(Some(v))).filter(|o| !o.is_empty());
            let op = op.map(|o| format!(",\"operationName\":{}", Value::String(o))).unwrap_or_default();
            // The variables go as written (checked to be JSON), as Postman sends them.
            let written = if vars_text.trim().is_empty() { variables.to_string() } else { vars_text.clone() };
            let payload = format!("{{\"query\":{}{op},\"variables\":{written}}}", Value::String(query.clone()));
            Built {
                bytes: payload.into_bytes(),
                content_type: Some("application/json".into()),
                sent: json!({ "mode": "graphql", "graphql": { "query": query, "variables": vars_text } }),
                warnings: Vec::new(),
            }
        }
        other => return Err(PrepareError::BodyMode(other.to_string())),
    };
    Ok(Some(built))
}

/// A multipart body; `None` when no part is left to send. A file part that
/// names no file or one that cannot be read is left out with a warning, as
/// Postman does (the request still goes).
fn formdata(b: &Map<String, Value>, s: &mut Substitution<'_>, base: &Path) -> Option<Built> {
    let boundary = boundary();
    let mut bytes = Vec::new();
    let mut sent = Vec::new();
    let mut warnings = Vec::new();
    let mut parts = 0;
    for item in enabled_items(b.get("formdata")) {
        let key = s.field(item.get("key"));
        let explicit_type = item.get("contentType").and_then(Value::as_str).filter(|t| !t.is_empty()).map(|t| s.text(t));
        if item.get("type").and_then(Value::as_str) == Some("file") {
            let srcs: Vec<String> = sources(item.get("src")).iter().map(|p| s.text(p)).collect();
            if srcs.is_empty() {
                // No file chosen: Postman still sends the field, empty and without a file name.
                bytes.extend_from_slice(
                    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"\"\r\n\r\n\r\n", quoted(&key))
                        .as_bytes(),
                );
                parts += 1;
            }
            for src in &srcs {
                let (path, content) = match read(base, src) {
                    Ok(r) => r,
                    Err(e) => {
                        warnings.push(format!("form file '{key}' left out: {e}"));
                        continue;
                    }
                };
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let ctype = explicit_type.clone().unwrap_or_else(|| mime_for(&path).to_string());
                bytes.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {ctype}\r\n\r\n",
                        quoted(&key),
                        quoted(&name)
                    )
                    .as_bytes(),
                );
                bytes.extend_from_slice(&content);
                bytes.extend_from_slice(b"\r\n");
                parts += 1;
            }
            sent.push(json!({ "key": key, "type": "file", "src": srcs }));
        } else {
            let value = s.field(item.get("value"));
            let mut head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n", quoted(&key));
            if let Some(t) = &explicit_type {
                head.push_str(&format!("Content-Type: {t}\r\n"));
            }
            head.push_str("\r\n");
            bytes.extend_from_slice(head.as_bytes());
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
            sent.push(json!({ "key": key, "value": value, "type": "text" }));
            parts += 1;
        }
    }
    if parts == 0 {
        return None;
    }
    bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Some(Built {
        bytes,
        content_type: Some(format!("multipart/form-data; boundary={boundary}")),
        sent: json!({ "mode": "formdata", "formdata": sent }),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scopes;

    fn built(body: Value, base: &Path) -> (Option<Built>, Vec<String>) {
        let mut sc = Scopes::default();
        sc.environment.insert("name".into(), json!("Ada"));
        let mut s = Substitution::new(&sc);
        let b = build(Some(&body), &mut s, base).unwrap();
        (b, s.into_unresolved())
    }

    #[test]
    fn raw_takes_its_type_from_the_language() {
        let (b, _) = built(json!({"mode": "raw", "raw": "{\"n\":\"{{name}}\"}", "options": {"raw": {"language": "json"}}}), Path::new("."));
        let b = b.unwrap();
        assert_eq!(b.bytes, br#"{"n":"Ada"}"#);
        assert_eq!(b.content_type.as_deref(), Some("application/json"));
        for (lang, t) in
            [("xml", Some("application/xml")), ("html", Some("text/html")), ("text", Some("text/plain")), ("", Some("text/plain"))]
        {
            let (b, _) = built(json!({"mode": "raw", "raw": "x", "options": {"raw": {"language": lang}}}), Path::new("."));
            assert_eq!(b.unwrap().content_type.as_deref(), t, "{lang}");
        }
        assert_eq!(built(json!({"mode": "raw", "raw": ""}), Path::new(".")).0, None);
        assert_eq!(built(json!({"mode": "raw", "raw": "x", "disabled": true}), Path::new(".")).0, None);
    }

    #[test]
    fn urlencoded_skips_disabled_pairs() {
        let body = json!({"mode": "urlencoded", "urlencoded": [
            {"key": "who", "value": "{{name}} L"}, {"key": "off", "value": "x", "disabled": true}, {"key": "a&b", "value": "="}
        ]});
        let b = built(body, Path::new(".")).0.unwrap();
        assert_eq!(String::from_utf8(b.bytes).unwrap(), "who=Ada+L&a%26b=%3D");
        assert_eq!(b.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
    }

    #[test]
    fn formdata_has_text_and_file_parts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), b"{\"f\":1}").unwrap();
        let body = json!({"mode": "formdata", "formdata": [
            {"key": "t", "value": "{{name}}", "type": "text"},
            {"key": "gone", "value": "x", "type": "text", "disabled": true},
            {"key": "f", "type": "file", "src": "a.json"}
        ]});
        let b = built(body, dir.path()).0.unwrap();
        let ct = b.content_type.unwrap();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8(b.bytes).unwrap();
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nAda\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.json\"\r\nContent-Type: application/json\r\n\r\n{{\"f\":1}}\r\n--{boundary}--\r\n"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn file_and_graphql_bodies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blob.bin"), [0u8, 159, 146, 150]).unwrap();
        let b = built(json!({"mode": "file", "file": {"src": "blob.bin"}}), dir.path()).0.unwrap();
        assert_eq!(b.bytes, vec![0u8, 159, 146, 150]);
        let mut sc = Scopes::default();
        let mut s = Substitution::new(&sc);
        let e = build(Some(&json!({"mode": "file", "file": {"src": "nope.bin"}})), &mut s, dir.path()).unwrap_err();
        assert!(e.to_string().contains("nope.bin"), "{e}");

        sc.environment.insert("id".into(), json!(7));
        let mut s = Substitution::new(&sc);
        let g = json!({"mode": "graphql", "graphql": {"query": "query { user(id: {{id}}) { name } }", "variables": "{\"x\": {{id}}}"}});
        let b = build(Some(&g), &mut s, dir.path()).unwrap().unwrap();
        let v: Value = serde_json::from_slice(&b.bytes).unwrap();
        assert_eq!(v, json!({"query": "query { user(id: 7) { name } }", "variables": {"x": 7}}));
        assert_eq!(b.content_type.as_deref(), Some("application/json"));
        let bad = json!({"mode": "graphql", "graphql": {"query": "q", "variables": "{nope"}});
        assert!(build(Some(&bad), &mut s, dir.path()).unwrap_err().to_string().contains("GraphQL variables"));
    }
}
