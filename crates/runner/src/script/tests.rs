use super::*;
use serde_json::json;

/// Records what pm.sendRequest asked for and answers with a canned response.
#[derive(Default)]
struct FakeHost {
    sent: Vec<Value>,
}

impl Host for FakeHost {
    fn send_request(&mut self, request: Value) -> Result<Received, String> {
        self.sent.push(request.clone());
        if request["url"].as_str().is_some_and(|u| u.contains("unreachable")) {
            return Err("connect ECONNREFUSED".into());
        }
        Ok(Received {
            code: 201,
            status: "Created".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"token":"t-1"}"#.to_vec(),
            ..Received::default()
        })
    }
}

fn small() -> ScriptLimits {
    ScriptLimits { time: Duration::from_millis(300), memory_bytes: 48 * 1024 * 1024 }
}

fn sandbox() -> Sandbox {
    Sandbox::new(small()).expect("sandbox starts")
}

fn ok_response() -> Received {
    Received {
        code: 200,
        status: "OK".into(),
        headers: vec![
            ("Content-Type".into(), "application/json; charset=utf-8".into()),
            ("Set-Cookie".into(), "session=abc123; Path=/; HttpOnly".into()),
            ("X-Trace".into(), "t1".into()),
        ],
        body: br#"{"a":1,"user":{"name":"Ada","tags":["x","y"]}}"#.to_vec(),
        time_ms: 12.5,
        url: "https://api.example.test/users/1".into(),
        http_version: "HTTP/1.1".into(),
        ..Received::default()
    }
}

fn request() -> Value {
    json!({
        "method": "GET",
        "header": [{"key": "Accept", "value": "application/json"}],
        "url": {"raw": "{{base}}/users/:id?x=1", "host": ["{{base}}"], "path": ["users", ":id"],
                "query": [{"key": "x", "value": "1"}], "variable": [{"key": "id", "value": "1"}]}
    })
}

fn pre(sb: &mut Sandbox, source: &str, scopes: Scopes) -> ScriptOutcome {
    let job = ScriptJob {
        phase: Phase::PreRequest,
        source,
        request: request(),
        response: None,
        scopes,
        info: Info { event_name: "prerequest".into(), request_name: "Get user".into(), ..Info::default() },
    };
    sb.run(job, &mut FakeHost::default())
}

fn test_with(sb: &mut Sandbox, source: &str, response: &Received, host: &mut FakeHost) -> ScriptOutcome {
    let job = ScriptJob {
        phase: Phase::Test,
        source,
        request: request(),
        response: Some(response),
        scopes: Scopes::default(),
        info: Info {
            event_name: "test".into(),
            iteration: 2,
            iteration_count: 3,
            request_name: "Get user".into(),
            request_id: "r1".into(),
        },
    };
    sb.run(job, host)
}

fn test(sb: &mut Sandbox, source: &str) -> ScriptOutcome {
    test_with(sb, source, &ok_response(), &mut FakeHost::default())
}

fn passed(o: &ScriptOutcome) -> Vec<(&str, bool)> {
    o.tests.iter().map(|t| (t.name.as_str(), t.passed)).collect()
}

#[test]
fn a_passing_and_a_failing_test_are_reported_in_order() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        pm.test("status is 200", () => pm.response.to.have.status(200));
        pm.test("a is 2", function () { pm.expect(pm.response.json().a).to.eql(2); });
    "#,
    );
    assert_eq!(o.error, None);
    assert_eq!(passed(&o), vec![("status is 200", true), ("a is 2", false)]);
    assert_eq!(o.tests[1].error.as_deref(), Some("AssertionError: expected 1 to deeply equal 2"));
}
