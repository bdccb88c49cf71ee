//! A run as its reporters show it: lines for a terminal as each request
//! ends, one JSON object, JUnit XML for CI, and the fields of the run
//! document that syncs (results in newman's execution shape, so the app's
//! Runs page and `model::records` read ours and newman's alike).

use crate::run::{Execution, RunResult};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// Whose run it was, for the reports' headings.
#[derive(Clone, Debug, Default)]
pub struct Heading {
    /// The collection's id.
    pub collection_id: String,
    /// The collection's name (a folder run: `Collection / Folder`).
    pub name: String,
    /// The environment's id and name, if one was used.
    pub environment: Option<(String, String)>,
    /// How many iterations were asked for.
    pub iterations: usize,
    /// When the run started, RFC 3339.
    pub started_at: String,
    /// When it ended, RFC 3339.
    pub finished_at: String,
}

/// The terminal's lines for one request as it ends.
pub fn cli_execution(e: &Execution) -> String {
    let mut s = String::new();
    let place = if e.path.is_empty() { e.name.clone() } else { format!("{} / {}", e.path.join(" / "), e.name) };
    let method = e.request.as_ref().and_then(|r| r["method"].as_str()).unwrap_or("");
    let url = e.request.as_ref().and_then(|r| r["url"].as_str()).unwrap_or("");
    let _ = writeln!(s, "→ {place}");
    match (&e.response, &e.error) {
        (Some(a), _) => {
            let _ = writeln!(s, "  {method} {url} [{} {}, {} B, {:.0} ms]", a.code, a.status, a.size, a.time_ms);
        }
        (None, Some(err)) => {
            let _ = writeln!(s, "  {method} {url} [error: {err}]");
        }
        (None, None) => {}
    }
    for w in &e.warnings {
        let _ = writeln!(s, "  ! {w}");
    }
    for c in &e.console {
        let _ = writeln!(s, "  {} {}", if c.level == "log" { "│" } else { c.level.as_str() }, c.text);
    }
    for t in &e.tests {
        let mark = if t.skipped {
            "-"
        } else if t.passed {
            "✓"
        } else {
            "✗"
        };
        let _ = write!(s, "  {mark} {}", t.name);
        if let Some(err) = &t.error {
            let _ = write!(s, ": {err}");
        }
        s.push('\n');
    }
    for err in &e.script_errors {
        let _ = writeln!(s, "  ✗ {err}");
    }
    for u in &e.unsupported {
        let _ = writeln!(s, "  ! not supported by apisync: {u}");
    }
    s
}

/// Counts for the summary: requests, failed requests, tests, failed tests, skipped tests.
pub fn counts(r: &RunResult) -> Value {
    let tests = r.executions.iter().flat_map(|e| &e.tests);
    json!({
        "iterations": r.executions.iter().map(|e| e.iteration + 1).max().unwrap_or(0),
        "requests": { "total": r.executions.len(), "failed": r.executions.iter().filter(|e| e.error.is_some()).count() },
        "tests": {
            "total": tests.clone().count(),
            "failed": tests.clone().filter(|t| !t.passed).count(),
            "skipped": tests.filter(|t| t.skipped).count(),
        },
        "scripts": { "failed": r.executions.iter().map(|e| e.script_errors.len()).sum::<usize>() },
    })
}

/// The terminal's summary after the run.
pub fn cli_summary(h: &Heading, r: &RunResult) -> String {
    let c = counts(r);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{}: {} requests ({} failed), {} tests ({} failed, {} skipped), {} script errors, in {:.2} s",
        h.name,
        c["requests"]["total"],
        c["requests"]["failed"],
        c["tests"]["total"],
        c["tests"]["failed"],
        c["tests"]["skipped"],
        c["scripts"]["failed"],
        r.duration.as_secs_f64()
    );
    let failed: Vec<&Execution> = r.executions.iter().filter(|e| !e.passed()).collect();
    for (i, e) in failed.iter().enumerate() {
        let why = e
            .error
            .clone()
            .or_else(|| e.tests.iter().find(|t| !t.passed).map(|t| format!("{}: {}", t.name, t.error.as_deref().unwrap_or("failed"))))
            .or_else(|| e.script_errors.first().cloned())
            .unwrap_or_default();
        let _ = writeln!(s, "  {}. {} (iteration {}): {why}", i + 1, e.name, e.iteration + 1);
    }
    let unsupported = r.unsupported();
    if !unsupported.is_empty() {
        let _ = writeln!(s, "  not supported by apisync, used by the scripts: {}", unsupported.join(", "));
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(s, "  the run stopped early: {why}");
    }
    s
}

/// One request of a run as the JSON report lists it (also streamed to the app's Runner as it ends).
pub fn execution_json(e: &Execution) -> Value {
    json!({
        "iteration": e.iteration,
        "item": { "id": e.id, "name": e.name, "path": e.path },
        "request": e.request,
        "response": e.response.as_ref().map(|a| json!({ "code": a.code, "status": a.status, "time_ms": a.time_ms, "size": a.size })),
        "error": e.error,
        "tests": e.tests.iter().map(|t| json!({ "name": t.name, "passed": t.passed, "skipped": t.skipped, "error": t.error })).collect::<Vec<_>>(),
        "console": e.console.iter().map(|c| json!({ "level": c.level, "text": c.text })).collect::<Vec<_>>(),
        "script_errors": e.script_errors,
        "warnings": e.warnings,
        "unsupported": e.unsupported,
    })
}

/// The whole run as one JSON object (`--reporter json`).
pub fn json_report(h: &Heading, r: &RunResult, run_id: Option<&str>) -> Value {
    json!({
        "run_id": run_id,
        "collection": { "id": h.collection_id, "name": h.name },
        "environment": h.environment.as_ref().map(|(id, name)| json!({ "id": id, "name": name })),
        "started_at": h.started_at,
        "finished_at": h.finished_at,
        "duration_ms": r.duration.as_secs_f64() * 1000.0,
        "stats": counts(r),
        "passed": r.passed(),
        "stopped": r.stopped,
        "unsupported": r.unsupported(),
        "executions": r.executions.iter().map(execution_json).collect::<Vec<_>>(),
    })
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no place for most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML (`--reporter junit`): a test suite per request and iteration, a
/// test case per test, the request's error as a failing case of its own.
pub fn junit(h: &Heading, r: &RunResult) -> String {
    let c = counts(r);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
        xml(&h.name),
        c["tests"]["total"],
        c["tests"]["failed"],
        r.duration.as_secs_f64()
    );
    for e in &r.executions {
        let place = if e.path.is_empty() { e.name.clone() } else { format!("{} / {}", e.path.join(" / "), e.name) };
        let cases = e.tests.len() + usize::from(e.error.is_some()) + e.script_errors.len();
        let failures = e.tests.iter().filter(|t| !t.passed).count() + usize::from(e.error.is_some()) + e.script_errors.len();
        let time = e.response.as_ref().map_or(0.0, |a| a.time_ms / 1000.0);
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" id=\"{}\" tests=\"{cases}\" failures=\"{failures}\" time=\"{time:.3}\">",
            xml(&place),
            e.id
        );
        let class = xml(&format!("{}.iteration-{}", place, e.iteration + 1));
        if let Some(err) = &e.error {
            let _ = writeln!(
                s,
                "    <testcase name=\"request\" classname=\"{class}\"><failure type=\"RequestError\" message=\"{}\"/></testcase>",
                xml(err)
            );
        }
        for err in &e.script_errors {
            let _ = writeln!(
                s,
                "    <testcase name=\"script\" classname=\"{class}\"><failure type=\"ScriptError\" message=\"{}\"/></testcase>",
                xml(err)
            );
        }
        for t in &e.tests {
            let _ = write!(s, "    <testcase name=\"{}\" classname=\"{class}\">", xml(&t.name));
            if t.skipped {
                s.push_str("<skipped/>");
            } else if !t.passed {
                let _ = write!(s, "<failure type=\"AssertionError\" message=\"{}\"/>", xml(t.error.as_deref().unwrap_or("failed")));
            }
            s.push_str("</testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// The run document's fields: results in newman's execution shape
/// (`item`, `method`, `url`, `code`, `status`, `responseTime`,
/// `responseSize`, `assertions`, `requestError`). `mask` hides secret values
/// in what the results quote (URLs, error messages).
pub fn run_fields(h: &Heading, r: &RunResult, mask: &dyn Fn(&str) -> String) -> Map<String, Value> {
    let results: Vec<Value> = r
        .executions
        .iter()
        .map(|e| {
            let mut v = json!({
                "item": { "id": e.id, "name": e.name },
                "iteration": e.iteration,
                "method": e.request.as_ref().and_then(|q| q["method"].as_str()),
                "url": e.request.as_ref().and_then(|q| q["url"].as_str()).map(mask),
                "assertions": e.tests.iter().map(|t| json!({
                    "assertion": mask(&t.name),
                    "skipped": t.skipped,
                    "error": t.error.as_ref().filter(|_| !t.passed).map(|m| json!({ "message": mask(m) })),
                })).collect::<Vec<_>>(),
            });
            if let Some(a) = &e.response {
                v["code"] = json!(a.code);
                v["status"] = json!(a.status);
                v["responseTime"] = json!(a.time_ms.round());
                v["responseSize"] = json!(a.size);
            }
            if let Some(err) = e.error.as_ref().or(e.script_errors.first()) {
                v["requestError"] = json!({ "message": mask(err) });
            }
            v
        })
        .collect();
    let failures: Vec<Value> = r
        .executions
        .iter()
        .filter(|e| !e.passed())
        .map(|e| json!({ "item": { "id": e.id, "name": e.name }, "iteration": e.iteration }))
        .collect();
    let mut f = Map::new();
    f.insert("name".into(), json!(h.name));
    f.insert("collection_id".into(), json!(h.collection_id));
    f.insert("environment_id".into(), json!(h.environment.as_ref().map(|(id, _)| id)));
    f.insert("started_at".into(), json!(h.started_at));
    f.insert("finished_at".into(), json!(h.finished_at));
    f.insert("stats".into(), counts(r));
    f.insert("timings".into(), json!({ "duration_ms": (r.duration.as_secs_f64() * 1000.0).round() }));
    f.insert("results".into(), Value::Array(results));
    f.insert("failures".into(), Value::Array(failures));
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Answer;
    use crate::script::TestResult;
    use std::time::Duration;

    fn result() -> RunResult {
        let e = |name: &str, passed: bool| Execution {
            iteration: 0,
            id: model::Id::from_u128(7),
            name: name.into(),
            path: vec!["F".into()],
            request: Some(json!({"method": "GET", "url": "https://x.test/?key=s3cret"})),
            response: Some(Answer { code: 200, status: "OK".into(), time_ms: 12.4, size: 10 }),
            error: None,
            tests: vec![TestResult {
                name: "t <&>".into(),
                passed,
                skipped: false,
                error: (!passed).then(|| "expected 1 to equal 2".into()),
            }],
            console: Vec::new(),
            script_errors: Vec::new(),
            warnings: Vec::new(),
            unsupported: Vec::new(),
        };
        RunResult {
            executions: vec![e("a", true), e("b", false)],
            scopes: Default::default(),
            changed: Default::default(),
            duration: Duration::from_millis(30),
            stopped: None,
        }
    }

    #[test]
    fn junit_escapes_and_counts_failures() {
        let x = junit(&Heading { name: "C".into(), ..Heading::default() }, &result());
        assert!(x.contains(r#"<testsuites name="C" tests="2" failures="1""#), "{x}");
        assert!(x.contains("t &lt;&amp;&gt;"));
        assert!(x.contains(r#"<failure type="AssertionError" message="expected 1 to equal 2"/>"#));
    }

    #[test]
    fn run_fields_are_read_back_by_the_records_listing() {
        let mask = |s: &str| s.replace("s3cret", model::document::SECRET_MASK);
        let f = run_fields(&Heading { name: "C".into(), ..Heading::default() }, &result(), &mask);
        let doc = model::Document {
            id: model::Id::from_u128(1),
            kind: model::Kind::Run,
            workspace_id: model::Id::from_u128(2),
            parent_id: None,
            order_key: None,
            fields: f,
            deleted: false,
            version: 0,
        };
        assert_eq!(model::schema::check_document(model::Kind::Run, &doc.fields).map(|_| ()), Ok(()));
        let listed = model::records::runs([&doc]);
        assert_eq!(listed[0]["requests"], 2);
        assert_eq!(listed[0]["tests_passed"], 1);
        assert_eq!(listed[0]["tests_failed"], 1);
        assert!(!Value::Object(doc.fields.clone()).to_string().contains("s3cret"));
    }
}
