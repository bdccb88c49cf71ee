//! A workspace's records as the app's pages list them: history entries and
//! collection runs, flattened into what the pages show (method, URL,
//! status and time for history; per request of a run its name, status and
//! each test's pass or fail), newest first. Both newman's report shape
//! (`assertions`) and Postman's runner export (`tests`, `responseCode`) are
//! read. Pure, so the desktop app and the server's web version list them
//! alike.

use crate::Document;
use serde_json::{Map, Value, json};

/// History entries as the History page lists them: `[{id, name, method,
/// url, code, status, response_time, at, at_ms, run_id, request_id}]`,
/// newest first. Documents of other kinds are skipped.
pub fn history<'a>(docs: impl IntoIterator<Item = &'a Document>) -> Vec<Value> {
    let mut out: Vec<(i64, Value)> = docs
        .into_iter()
        .filter(|d| d.kind == crate::Kind::History)
        .map(|d| {
            let f = &d.fields;
            let resp = f.get("response").and_then(Value::as_object);
            let code = f.get("code").filter(|c| !c.is_null()).or_else(|| resp.and_then(|r| r.get("code"))).cloned();
            let at_ms = when(d, f.get("at"));
            let v = json!({
                "id": d.id,
                "name": f.get("name"),
                "method": f.get("method"),
                "url": f.get("url"),
                "code": code,
                "status": resp.and_then(|r| r.get("status")).filter(|s| s.is_string()),
                "response_time": f.get("response_time").filter(|t| !t.is_null()).or_else(|| resp.and_then(|r| r.get("responseTime"))),
                "at": f.get("at"),
                "at_ms": at_ms,
                "run_id": f.get("run_id"),
                "request_id": f.get("request_id"),
            });
            (at_ms, v)
        })
        .collect();
    newest_first(&mut out);
    out.into_iter().map(|(_, v)| v).collect()
}

/// Runs as the Runs page lists them: `[{id, name, started_at, finished_at,
/// at_ms, collection_id, environment_id, requests, failed_requests,
/// tests_passed, tests_failed, results: [{name, method, url, code, status,
/// response_time, passed, error, tests: [{name, passed, skipped, error}]}]}]`,
/// newest first. Documents of other kinds are skipped.
pub fn runs<'a>(docs: impl IntoIterator<Item = &'a Document>) -> Vec<Value> {
    let mut out: Vec<(i64, Value)> = docs
        .into_iter()
        .filter(|d| d.kind == crate::Kind::Run)
        .map(|d| {
            let f = &d.fields;
            let results: Vec<Value> =
                f.get("results").and_then(Value::as_array).map(|a| a.iter().map(result).collect()).unwrap_or_default();
            let count = |p: &dyn Fn(&Value) -> bool| results.iter().filter(|r| p(r)).count();
            let tests = |want: bool| {
                results
                    .iter()
                    .flat_map(|r| r["tests"].as_array().into_iter().flatten())
                    .filter(|t| t["skipped"] != true && t["passed"] == want)
                    .count()
            };
            let at_ms = when(d, f.get("started_at"));
            let v = json!({
                "id": d.id,
                "name": d.title(),
                "started_at": f.get("started_at"),
                "finished_at": f.get("finished_at"),
                "at_ms": at_ms,
                "collection_id": f.get("collection_id"),
                "environment_id": f.get("environment_id"),
                "requests": results.len(),
                "failed_requests": count(&|r| r["passed"] == false),
                "tests_passed": tests(true),
                "tests_failed": tests(false),
                "results": results,
            });
            (at_ms, v)
        })
        .collect();
    newest_first(&mut out);
    out.into_iter().map(|(_, v)| v).collect()
}

/// Newest first; equal times keep their order.
fn newest_first(list: &mut [(i64, Value)]) {
    list.sort_by_key(|x| std::cmp::Reverse(x.0));
}

/// One request's outcome in a run, from newman's execution (`item.name`,
/// `code`, `status`, `responseTime`, `assertions`, `requestError`) or
/// Postman's runner export (`name`, `responseCode`, `time`, `tests`).
pub fn result(r: &Value) -> Value {
    let empty = Map::new();
    let o = r.as_object().unwrap_or(&empty);
    let get = |k: &str| o.get(k).filter(|v| !v.is_null());
    let rc = get("responseCode");
    let mut tests: Vec<Value> = Vec::new();
    if let Some(list) = get("assertions").and_then(Value::as_array) {
        for a in list {
            let error = a.get("error").filter(|e| !e.is_null());
            let skipped = a.get("skipped") == Some(&Value::Bool(true));
            tests.push(json!({
                "name": a.get("assertion").and_then(Value::as_str).unwrap_or("(unnamed test)"),
                "passed": !skipped && error.is_none(),
                "skipped": skipped,
                "error": error.and_then(|e| e.get("message").cloned().or_else(|| Some(e.clone()))),
            }));
        }
    } else if let Some(map) = get("tests").and_then(Value::as_object) {
        for (name, ok) in map {
            tests.push(json!({ "name": name, "passed": ok == &Value::Bool(true), "skipped": false, "error": null }));
        }
    }
    let error = get("requestError").map(|e| e.get("message").cloned().unwrap_or_else(|| e.clone()));
    let passed = error.is_none() && tests.iter().all(|t| t["passed"] == true || t["skipped"] == true);
    json!({
        "name": get("item").and_then(|i| i.get("name")).or_else(|| get("name")).and_then(Value::as_str).unwrap_or("(unnamed request)"),
        "method": get("method"),
        "url": get("url").filter(|u| u.is_string()),
        "code": get("code").or_else(|| rc.and_then(|c| c.get("code"))),
        "status": get("status").filter(|s| s.is_string()).or_else(|| rc.and_then(|c| c.get("name"))),
        "response_time": get("responseTime").or_else(|| get("time")),
        "passed": passed,
        "error": error,
        "tests": tests,
    })
}

/// A record's time in Unix ms: its own field (ms, or an RFC 3339 text),
/// else when the device minted its id (UUID v7).
pub fn when(d: &Document, field: Option<&Value>) -> i64 {
    let own = match field {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => rfc3339_ms(s),
        _ => None,
    };
    own.or_else(|| {
        d.id.get_timestamp().map(|t| {
            let (s, n) = t.to_unix();
            s as i64 * 1000 + i64::from(n / 1_000_000)
        })
    })
    .unwrap_or(0)
}

/// Unix ms of `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]` (a space may stand
/// for the `T`; no zone is UTC); `None` for anything else.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> {
        let t = s.get(a..b)?;
        if t.bytes().all(|c| c.is_ascii_digit()) { t.parse().ok() } else { None }
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(ms);
    }
    let time = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let mut parts = clock.splitn(3, ':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let secs: f64 = parts.next().map_or(Some(0.0), |x| x.parse().ok())?;
    if h > 23 || m > 59 || !(0.0..61.0).contains(&secs) {
        return None;
    }
    ms += (h * 3600 + m * 60) * 1000 + (secs * 1000.0).round() as i64;
    match zone {
        "" | "Z" | "z" => Some(ms),
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let off = digits[..2].parse::<i64>().ok()? * 60 + digits[2..].parse::<i64>().ok()?;
            Some(ms - sign * off * 60_000)
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_become_unix_ms() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("2024-02-29T12:30:15.250Z"), Some(1_709_209_815_250));
        assert_eq!(rfc3339_ms("2024-02-29 14:30:15.250+02:00"), Some(1_709_209_815_250));
        assert_eq!(rfc3339_ms("2024-02-29T07:30:15.25-05:00"), Some(1_709_209_815_250));
        assert_eq!(rfc3339_ms("2024-02-29"), Some(1_709_164_800_000));
        for bad in ["yesterday", "2024-13-01", "2024-02-29T25:00", "2024-02-29T10:00+2", ""] {
            assert_eq!(rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn newman_and_postman_results_read_alike() {
        let newman = json!({
            "item": {"id": "i", "name": "List"}, "code": 200, "status": "OK", "responseTime": 12,
            "assertions": [{"assertion": "is 200"}, {"assertion": "has body", "error": {"message": "expected body"}}, {"assertion": "s", "skipped": true}]
        });
        let r = result(&newman);
        assert_eq!((&r["name"], &r["code"], &r["status"], &r["passed"]), (&json!("List"), &json!(200), &json!("OK"), &json!(false)));
        assert_eq!(r["tests"][1], json!({"name": "has body", "passed": false, "skipped": false, "error": "expected body"}));
        let postman = json!({"name": "Create", "responseCode": {"code": 201, "name": "Created"}, "time": 40, "tests": {"is 201": true}});
        let r = result(&postman);
        assert_eq!(
            (&r["code"], &r["status"], &r["response_time"], &r["passed"]),
            (&json!(201), &json!("Created"), &json!(40), &json!(true))
        );
        let broken = json!({"item": {"name": "Down"}, "requestError": {"message": "ECONNREFUSED"}});
        assert_eq!((&result(&broken)["passed"], &result(&broken)["error"]), (&json!(false), &json!("ECONNREFUSED")));
        assert_eq!(result(&json!("junk"))["name"], "(unnamed request)");
    }

    #[test]
    fn records_list_newest_first_by_their_own_time() {
        let rec = |n: u128, kind: crate::Kind, fields: Value| Document {
            id: crate::Id::from_u128(n),
            kind,
            workspace_id: crate::Id::nil(),
            parent_id: None,
            order_key: None,
            fields: fields.as_object().cloned().unwrap_or_default(),
            deleted: false,
            version: 1,
        };
        let docs = [
            rec(1, crate::Kind::History, json!({"url": "old", "at": "2024-01-01T00:00:00Z", "response": {"code": 500, "status": "Error"}})),
            rec(2, crate::Kind::History, json!({"url": "new", "at": 1_800_000_000_000_i64, "code": 201})),
            rec(3, crate::Kind::Run, json!({"name": "Nightly", "results": [{"item": {"name": "A"}, "assertions": [{"assertion": "ok"}]}]})),
        ];
        let h = history(&docs);
        assert_eq!(h.iter().map(|e| e["url"].clone()).collect::<Vec<_>>(), [json!("new"), json!("old")]);
        assert_eq!((&h[0]["code"], &h[1]["code"], &h[1]["status"]), (&json!(201), &json!(500), &json!("Error")));
        let r = runs(&docs);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (&r[0]["name"], &r[0]["requests"], &r[0]["tests_passed"], &r[0]["failed_requests"]),
            (&json!("Nightly"), &json!(1), &json!(1), &json!(0))
        );
    }
}
