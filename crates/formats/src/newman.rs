//! newman's JSON run report (`newman run -r json`): one `run` document and
//! one `history` document per request it sent.

use crate::FormatError;
use crate::build::{Builder, KEYS, type_name};
use model::Kind;
use serde_json::{Map, Value, json};

/// Imports a newman JSON report.
pub(crate) fn import_report(b: &mut Builder, report: &Map<String, Value>) -> Result<(), FormatError> {
    let empty = Map::new();
    let run = report.get("run").and_then(Value::as_object).unwrap_or(&empty);
    let collection = report.get("collection");
    let name = collection
        .and_then(|c| c.get("info").and_then(|i| i.get("name")).or_else(|| c.get("name")))
        .and_then(Value::as_str)
        .unwrap_or("newman run")
        .to_string();
    let path = format!("run of '{name}'");
    let mut d = b.draft(Kind::Run, None, path.clone());
    d.put("name", Value::String(name));
    let timings = run.get("timings");
    if let Some(t) = timings.filter(|t| t.is_object()) {
        b.set(&mut d, "timings", t);
        if let Some(s) = t.get("started") {
            b.set(&mut d, "started_at", s);
        }
        if let Some(c) = t.get("completed") {
            b.set(&mut d, "finished_at", c);
        }
    }
    for key in ["stats", "failures"] {
        if let Some(v) = run.get(key) {
            b.set(&mut d, key, v);
        }
    }
    let executions: Vec<&Map<String, Value>> =
        run.get("executions").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_object).collect()).unwrap_or_default();
    let results: Vec<Value> = executions
        .iter()
        .map(|e| {
            let mut r: Map<String, Value> = e
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "item" | "request" | "response"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Some(item) = e.get("item") {
                r.insert("item".into(), json!({"id": item.get("id"), "name": item.get("name")}));
            }
            if let Some(resp) = e.get("response").and_then(Value::as_object) {
                for k in ["code", "status", "responseTime", "responseSize"] {
                    if let Some(v) = resp.get(k) {
                        r.insert(k.into(), v.clone());
                    }
                }
            }
            Value::Object(r)
        })
        .collect();
    d.put("results", Value::Array(results));
    for (k, v) in run {
        if !matches!(k.as_str(), "timings" | "stats" | "failures" | "executions") {
            d.keep(KEYS, k, v.clone());
        }
    }
    for (k, v) in report {
        if k != "run" {
            d.keep(KEYS, k, v.clone());
        }
    }
    let run_id = d.id.to_string();
    let started = timings.and_then(|t| t.get("started")).cloned();
    let mut indices = vec![b.finish(d)?];
    b.order(&indices)?;
    indices.clear();
    for (n, e) in executions.iter().enumerate() {
        let Some(request) = e.get("request").and_then(Value::as_object) else {
            b.note(&path, format!("execution {} sent no request; no history entry", n + 1));
            continue;
        };
        let item_name = e.get("item").and_then(|i| i.get("name")).cloned();
        let mut h = b.draft(Kind::History, None, crate::build::child_path(&path, item_name.as_ref(), "request"));
        if let Some(name) = item_name {
            b.set(&mut h, "name", &name);
        }
        h.put("method", request.get("method").and_then(Value::as_str).map_or(json!("GET"), |m| json!(m)));
        h.put("url", Value::String(url_text(request.get("url"))));
        h.put("request", Value::Object(request.clone()));
        match e.get("response") {
            Some(resp) => {
                b.set(&mut h, "response", resp);
                if let Some(code) = resp.get("code") {
                    b.set(&mut h, "code", code);
                }
                if let Some(t) = resp.get("responseTime") {
                    b.set(&mut h, "response_time", t);
                }
            }
            None => h.put("response", Value::Null),
        }
        if let Some(at) = &started {
            b.set(&mut h, "at", at);
        }
        h.put("run_id", Value::String(run_id.clone()));
        let mut execution = Map::new();
        for key in ["id", "cursor", "assertions"] {
            if let Some(v) = e.get(key) {
                execution.insert(key.into(), v.clone());
            }
        }
        if let Some(item_id) = e.get("item").and_then(|i| i.get("id")) {
            execution.insert("item_id".into(), item_id.clone());
        }
        h.keep(KEYS, "execution", Value::Object(execution));
        indices.push(b.finish(h)?);
    }
    b.order(&indices)
}

/// A request's URL as text: itself when a string, else `raw`, else rebuilt
/// from protocol, host, port, path and query.
fn url_text(url: Option<&Value>) -> String {
    let Some(url) = url else { return String::new() };
    match url {
        Value::String(s) => s.clone(),
        Value::Object(u) => {
            if let Some(raw) = u.get("raw").and_then(Value::as_str) {
                return raw.to_string();
            }
            let join = |v: Option<&Value>, sep: &str| match v {
                Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(sep),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            let mut out = String::new();
            if let Some(p) = u.get("protocol").and_then(Value::as_str) {
                out.push_str(p);
                out.push_str("://");
            }
            out.push_str(&join(u.get("host"), "."));
            if let Some(port) = u.get("port").and_then(Value::as_str) {
                out.push(':');
                out.push_str(port);
            }
            let path = join(u.get("path"), "/");
            if !path.is_empty() {
                out.push('/');
                out.push_str(&path);
            }
            let query: Vec<String> = u
                .get("query")
                .and_then(Value::as_array)
                .map(|q| {
                    q.iter()
                        .filter(|p| p.get("disabled") != Some(&Value::Bool(true)))
                        .filter_map(|p| {
                            let k = p.get("key")?.as_str()?;
                            Some(match p.get("value").and_then(Value::as_str) {
                                Some(v) => format!("{k}={v}"),
                                None => k.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !query.is_empty() {
                out.push('?');
                out.push_str(&query.join("&"));
            }
            out
        }
        other => format!("({})", type_name(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_text_rebuilds_objects() {
        assert_eq!(url_text(Some(&json!("http://a/b"))), "http://a/b");
        let u = json!({"protocol": "https", "host": ["echo", "com"], "port": "8080", "path": ["get", "x"], "query": [{"key": "a", "value": "1"}, {"key": "b", "value": "2", "disabled": true}]});
        assert_eq!(url_text(Some(&u)), "https://echo.com:8080/get/x?a=1");
        assert_eq!(url_text(Some(&json!({"raw": "r"}))), "r");
    }
}
