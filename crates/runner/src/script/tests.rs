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

fn scopes() -> Scopes {
    let mut s = Scopes::default();
    s.globals.insert("host".into(), json!("g.example"));
    s.globals.insert("only_global".into(), json!("g"));
    s.collection.insert("host".into(), json!("c.example"));
    s.environment.insert("host".into(), json!("e.example"));
    s.environment.insert("token".into(), json!("old"));
    s.data.insert("row".into(), json!(7));
    s
}

#[test]
fn variables_resolve_by_precedence_and_changes_are_listed() {
    let mut sb = sandbox();
    let o = pre(
        &mut sb,
        r#"
        pm.environment.set("token", "new");
        pm.globals.unset("only_global");
        pm.collectionVariables.set("count", 3);
        pm.variables.set("local_obj", {a: [1, 2]});
        console.log(pm.variables.get("host"), pm.globals.get("host"), pm.iterationData.get("row"));
        console.log(pm.variables.has("only_global"), pm.environment.has("token"), pm.iterationData.has("nope"));
        console.log(JSON.stringify(pm.environment.toObject()), pm.variables.replaceIn("https://{{host}}/{{row}}/{{missing}}"), pm.variables.replaceIn("{{$guid}}").length);
        pm.variables.set("host", "local.example");
        console.log(pm.variables.get("host"), typeof pm.collectionVariables.get("count"));
    "#,
        scopes(),
    );
    assert_eq!(o.error, None);
    let lines: Vec<&str> = o.console.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "e.example g.example 7",
            "false true false",
            r#"{"host":"e.example","token":"new"} https://e.example/7/{{missing}} 36"#,
            "local.example number",
        ]
    );
    assert_eq!(o.scopes.environment["token"], json!("new"));
    assert!(!o.scopes.globals.contains_key("only_global"));
    assert_eq!(o.scopes.collection["count"], json!(3));
    assert_eq!(o.scopes.local["local_obj"], json!({"a": [1, 2]}));
    let changed: Vec<(Scope, &str)> = o.changed.iter().map(|(s, n)| (*s, n.as_str())).collect();
    assert_eq!(
        changed,
        vec![
            (Scope::Globals, "only_global"),
            (Scope::Collection, "count"),
            (Scope::Environment, "token"),
            (Scope::Local, "host"),
            (Scope::Local, "local_obj"),
        ]
    );
}

#[test]
fn clear_empties_a_scope_and_lists_every_name() {
    let mut sb = sandbox();
    let o = pre(&mut sb, "pm.environment.clear();", scopes());
    assert!(o.scopes.environment.is_empty());
    assert!(o.changed.contains(&(Scope::Environment, "host".into())));
    assert!(o.changed.contains(&(Scope::Environment, "token".into())));
    assert_eq!(o.scopes.globals["host"], json!("g.example"));
}

#[test]
fn info_and_iteration_data_are_seen() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        console.log(pm.info.eventName, pm.info.iteration, pm.info.iterationCount, pm.info.requestName, pm.info.requestId);
    "#,
    );
    assert_eq!(o.console[0].text, "test 2 3 Get user r1");
}

#[test]
fn a_pre_request_script_changes_the_request_it_sends() {
    let mut sb = sandbox();
    let o = pre(
        &mut sb,
        r#"
        pm.request.headers.add({key: "X-Sig", value: "abc"});
        pm.request.headers.upsert({key: "accept", value: "text/plain"});
        pm.request.addHeader("X-Two: 2");
        pm.request.removeHeader("X-Two");
        pm.request.url.query.add({key: "y", value: "2"});
        pm.request.url.query.remove("x");
        pm.request.method = "post";
        pm.request.body = {mode: "raw", raw: JSON.stringify({n: 1})};
        console.log(pm.request.url.toString(), pm.request.headers.get("ACCEPT"), pm.request.headers.has("x-sig"));
        console.log(pm.request.url.getHost(), pm.request.url.getPath(), pm.request.url.query.toObject().y);
    "#,
        scopes(),
    );
    assert_eq!(o.error, None);
    assert_eq!(o.console[0].text, "{{base}}/users/:id?y=2 text/plain true");
    assert_eq!(o.console[1].text, "{{base}} /users/:id 2");
    assert_eq!(o.request["method"], json!("POST"));
    assert_eq!(o.request["header"], json!([{"key": "Accept", "value": "text/plain"}, {"key": "X-Sig", "value": "abc"}]));
    assert_eq!(o.request["url"]["raw"], json!("{{base}}/users/:id?y=2"));
    assert_eq!(o.request["url"]["query"], json!([{"key": "y", "value": "2"}]));
    assert_eq!(o.request["url"]["variable"], json!([{"key": "id", "value": "1"}]));
    assert_eq!(o.request["body"], json!({"mode": "raw", "raw": "{\"n\":1}"}));
}

#[test]
fn an_untouched_request_comes_back_as_it_was() {
    let mut sb = sandbox();
    let mut req = request();
    req["auth"] = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{t}}"}]});
    req["description"] = json!("kept");
    let job = ScriptJob {
        phase: Phase::PreRequest,
        source: "pm.request.headers.get('Accept'); pm.request.url.toString();",
        request: req.clone(),
        response: None,
        scopes: Scopes::default(),
        info: Info::default(),
    };
    let o = sb.run(job, &mut FakeHost::default());
    assert_eq!(o.request, req);
}

#[test]
fn a_url_given_as_a_string_can_be_replaced() {
    let mut sb = sandbox();
    let job = ScriptJob {
        phase: Phase::PreRequest,
        source: "pm.request.url = 'https://other.test:8443/a/b?q=1#top'; console.log(pm.request.url.port, pm.request.url.path.join('|'), pm.request.url.hash);",
        request: json!({"method": "GET", "url": "https://x.test/"}),
        response: None,
        scopes: Scopes::default(),
        info: Info::default(),
    };
    let o = sb.run(job, &mut FakeHost::default());
    assert_eq!(o.console[0].text, "8443 a|b top");
    assert_eq!(o.request, json!({"method": "GET", "url": "https://other.test:8443/a/b?q=1#top"}));
}

#[test]
fn response_assertions_pass_on_a_matching_response() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        pm.test("status", () => { pm.response.to.have.status(200); pm.response.to.have.status("OK"); });
        pm.test("header", () => { pm.response.to.have.header("x-trace"); pm.response.to.have.header("X-Trace", "t1"); });
        pm.test("json", () => { pm.response.to.be.json; pm.response.to.have.jsonBody(); pm.response.to.have.jsonBody("user.name"); pm.response.to.have.jsonBody("user.tags[1]", "y"); });
        pm.test("body", () => { pm.response.to.have.body(); pm.response.to.have.body('{"a":1,"user":{"name":"Ada","tags":["x","y"]}}'); });
        pm.test("classes", () => { pm.response.to.be.ok; pm.response.to.be.success; pm.response.to.not.be.error; pm.response.to.not.be.clientError; pm.response.to.not.be.serverError; });
        pm.test("fields", () => {
            pm.expect(pm.response.code).to.equal(200);
            pm.expect(pm.response.reason()).to.equal("OK");
            pm.expect(pm.response.responseTime).to.be.below(100);
            pm.expect(pm.response.headers.get("content-type")).to.include("application/json");
            pm.expect(pm.response.headers.toObject()["x-trace"]).to.equal("t1");
            pm.expect(pm.response.text()).to.include("Ada");
            pm.expect(pm.response.json().user.tags).to.have.lengthOf(2);
            pm.expect(true).to.be.ok;
        });
    "#,
    );
    assert_eq!(o.error, None);
    assert!(o.tests.iter().all(|t| t.passed), "{:?}", o.tests);
    assert_eq!(o.tests.len(), 6);
}

#[test]
fn response_assertions_fail_with_chai_postman_messages() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        pm.test("status", () => pm.response.to.have.status(404));
        pm.test("header", () => pm.response.to.have.header("X-Missing"));
        pm.test("header value", () => pm.response.to.have.header("X-Trace", "t2"));
        pm.test("json path", () => pm.response.to.have.jsonBody("user.name", "Bob"));
        pm.test("client error", () => pm.response.to.be.clientError);
        pm.test("deep", () => pm.expect(pm.response.json().user).to.eql({name: "Bob"}));
    "#,
    );
    let errors: Vec<&str> = o.tests.iter().map(|t| t.error.as_deref().unwrap_or("")).collect();
    assert_eq!(
        errors,
        vec![
            "AssertionError: expected response to have status code 404 but got 200",
            "AssertionError: expected response to have header with key 'X-Missing'",
            "AssertionError: expected 'X-Trace' response header to be 't2' but got 't1'",
            "AssertionError: expected response to have property 'user.name' of 'Bob', but got 'Ada'",
            "AssertionError: expected response code to be 4XX but found 200",
            "AssertionError: expected { name: 'Ada', tags: [ 'x', 'y' ] } to deeply equal { name: 'Bob' }",
        ]
    );
    assert!(o.tests.iter().all(|t| !t.passed));
}

#[test]
fn cookies_come_from_set_cookie() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        console.log(pm.cookies.get("session"), pm.cookies.has("session"), pm.cookies.has("nope"), JSON.stringify(pm.cookies.toObject()));
        console.log(postman.getResponseCookie("session").value, responseCookies.length);
    "#,
    );
    assert_eq!(o.console[0].text, r#"abc123 true false {"session":"abc123"}"#);
    assert_eq!(o.console[1].text, "abc123 1");
}

#[test]
fn legacy_tests_and_globals_work() {
    let mut sb = sandbox();
    let job = ScriptJob {
        phase: Phase::Test,
        source: r#"
            tests["status is 200"] = responseCode.code === 200;
            tests["body has Ada"] = responseBody.has("Ada");
            tests["is slow"] = responseTime > 1000;
            var body = JSON.parse(responseBody);
            postman.setEnvironmentVariable("user", body.user.name);
            postman.setGlobalVariable("n", 5);
            postman.clearEnvironmentVariable("token");
            console.log(responseCode.name, responseHeaders["X-Trace"], postman.getResponseHeader("x-trace"));
            console.log(environment.host, globals.host, data.row, iteration, request.method, request.url, request.headers.Accept);
            console.log(postman.getEnvironmentVariable("user"), postman.getGlobalVariable("n"));
        "#,
        request: request(),
        response: Some(&ok_response()),
        scopes: scopes(),
        info: Info { iteration: 1, ..Info::default() },
    };
    let o = sb.run(job, &mut FakeHost::default());
    assert_eq!(o.error, None);
    assert_eq!(passed(&o), vec![("status is 200", true), ("body has Ada", true), ("is slow", false)]);
    assert_eq!(o.tests[2].error.as_deref(), Some(r#"tests["is slow"] is false"#));
    assert_eq!(o.console[0].text, "OK t1 t1");
    assert_eq!(o.console[1].text, "e.example g.example 7 1 GET {{base}}/users/:id?x=1 application/json");
    assert_eq!(o.console[2].text, "Ada 5");
    assert_eq!(o.scopes.environment["user"], json!("Ada"));
    assert_eq!(o.scopes.globals["n"], json!("5"));
    assert!(!o.scopes.environment.contains_key("token"));
}

#[test]
fn set_next_request_is_reported() {
    let mut sb = sandbox();
    assert_eq!(test(&mut sb, "pm.test('x', () => {});").next_request, None);
    assert_eq!(test(&mut sb, "postman.setNextRequest('Login');").next_request, Some(NextRequest::Name("Login".into())));
    assert_eq!(test(&mut sb, "pm.execution.setNextRequest(null);").next_request, Some(NextRequest::Stop));
    assert_eq!(
        test(&mut sb, "postman.setNextRequest('A'); postman.setNextRequest('B');").next_request,
        Some(NextRequest::Name("B".into()))
    );
}

#[test]
fn send_request_goes_through_the_host_with_variables_substituted() {
    let mut sb = sandbox();
    let mut host = FakeHost::default();
    let job = ScriptJob {
        phase: Phase::PreRequest,
        source: r#"
            pm.sendRequest({url: "https://{{host}}/login", method: "POST", header: {"X-Row": "{{row}}"},
                            body: {mode: "raw", raw: "{\"u\":\"{{only_global}}\"}"}}, function (err, res) {
                pm.environment.set("token", res.json().token);
                pm.test("login", () => { pm.expect(err).to.equal(null); res.to.have.status(201); });
            });
            const res = await pm.sendRequest("https://{{host}}/ping");
            console.log("awaited", res.code, res.reason());
            pm.sendRequest("https://unreachable.test/", (err, res) => console.log("failed:", err.message, res === undefined));
            console.log("sync part done");
        "#,
        request: request(),
        response: None,
        scopes: scopes(),
        info: Info::default(),
    };
    let o = sb.run(job, &mut host);
    assert_eq!(o.error, None);
    assert_eq!(host.sent.len(), 3);
    assert_eq!(host.sent[0]["url"], json!("https://e.example/login"));
    assert_eq!(host.sent[0]["method"], json!("POST"));
    assert_eq!(host.sent[0]["header"], json!([{"key": "X-Row", "value": "7"}]));
    assert_eq!(host.sent[0]["body"], json!({"mode": "raw", "raw": "{\"u\":\"g\"}"}));
    assert_eq!(host.sent[1], json!({"url": "https://e.example/ping", "method": "GET"}));
    assert_eq!(o.scopes.environment["token"], json!("t-1"));
    assert_eq!(passed(&o), vec![("login", true)]);
    let lines: Vec<&str> = o.console.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(lines, vec!["awaited 201 Created", "sync part done", "failed: connect ECONNREFUSED true"]);
}

#[test]
fn console_lines_are_captured_by_level_and_formatted() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        console.log("plain", 1, true, null, undefined);
        console.info({a: 1, b: "two", c: [1, {d: null}]});
        console.warn("%s has %d items", "cart", 3);
        console.error(new TypeError("bad"));
        console.debug(function named() {});
    "#,
    );
    let got: Vec<(&str, &str)> = o.console.iter().map(|l| (l.level.as_str(), l.text.as_str())).collect();
    assert_eq!(got[0], ("log", "plain 1 true null undefined"));
    assert_eq!(got[1], ("info", r#"{ a: 1, b: "two", c: [ 1, { d: null } ] }"#));
    assert_eq!(got[2], ("warn", "cart has 3 items"));
    assert_eq!(got[3].0, "error");
    assert!(got[3].1.starts_with("TypeError: bad"), "{}", got[3].1);
    assert_eq!(got[4], ("log", "[Function: named]"));
}

#[test]
fn vendored_libraries_do_real_work() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        const CJ = require("crypto-js");
        console.log(CJ.HmacSHA256("what do ya want for nothing?", "Jefe").toString());
        console.log(CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse("hi")), CryptoJS.MD5("").toString());
        console.log(require("moment").utc("2024-01-02T03:04:05Z").format("YYYY-MM-DD HH:mm dddd"));
        console.log(require("lodash").get({a: {b: [10, 20]}}, "a.b[1]"), _.chunk([1, 2, 3], 2).length);
        const id = require("uuid").v4();
        console.log(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id === require("uuid").v4());
        console.log(btoa("hello"), atob("aGVsbG8="), require("btoa")("a"), require("atob")("YQ=="));
        require("chai").expect(1).to.equal(1);
        console.log(typeof CJ.lib.WordArray.random(16).toString());
    "#,
    );
    assert_eq!(o.error, None, "{:?}", o.console);
    let lines: Vec<&str> = o.console.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            "aGk= d41d8cd98f00b204e9800998ecf8427e",
            "2024-01-02 03:04 Tuesday",
            "20 2",
            "true false",
            "aGVsbG8= hello YQ== a",
            "string",
        ]
    );
    assert!(o.unsupported.is_empty(), "{:?}", o.unsupported);
}

#[test]
fn unsupported_features_are_named_once() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        pm.visualizer.set("<b>{{x}}</b>", {});
        pm.visualizer.set("again", {});
        try { require("xml2js"); } catch (e) { console.log(e.message); }
        try { pm.cookies.jar(); } catch (e) {}
        try { pm.vault.get("k"); } catch (e) {}
        try { xml2Json("<a/>"); } catch (e) {}
    "#,
    );
    assert_eq!(o.error, None);
    assert_eq!(o.unsupported, vec!["pm.visualizer.set", "require('xml2js')", "pm.cookies.jar", "pm.vault", "xml2Json"]);
    assert_eq!(
        o.console[0].text,
        "require('xml2js'): apisync's script sandbox does not offer this module; it offers atob, btoa, chai, crypto-js, lodash, moment, uuid"
    );
}

#[test]
fn an_uncaught_unsupported_call_is_the_scripts_error() {
    let mut sb = sandbox();
    let o = test(&mut sb, "pm.test('before', () => {}); const x = require('cheerio'); pm.test('after', () => {});");
    assert_eq!(
        o.error.as_deref(),
        Some(
            "Error: require('cheerio'): apisync's script sandbox does not offer this module; it offers atob, btoa, chai, crypto-js, lodash, moment, uuid"
        )
    );
    assert_eq!(passed(&o), vec![("before", true)]);
    assert_eq!(o.unsupported, vec!["require('cheerio')"]);
}

#[test]
fn an_endless_loop_meets_the_time_limit_and_the_sandbox_goes_on() {
    let mut sb = Sandbox::new(ScriptLimits { time: Duration::from_millis(100), ..small() }).expect("sandbox");
    let o = pre(&mut sb, "pm.environment.set('before', 1); while (true) {}", scopes());
    assert_eq!(o.error.as_deref(), Some("the script ran past its 100 ms limit"));
    assert_eq!(o.scopes.environment["before"], json!(1), "changes made before the limit are kept");
    let o = pre(&mut sb, "try { for (;;) {} } catch (e) { console.log('caught'); }", scopes());
    assert_eq!(o.error.as_deref(), Some("the script ran past its 100 ms limit"));
    assert!(o.console.is_empty(), "the limit cannot be caught");
    let o = pre(&mut sb, "(async () => { for (;;) await null; })();", scopes());
    assert_eq!(o.error.as_deref(), Some("the script ran past its 100 ms limit"));
    let o = test(&mut sb, "pm.test('next', () => pm.response.to.have.status(200));");
    assert_eq!(o.error, None);
    assert_eq!(passed(&o), vec![("next", true)]);
}

#[test]
fn unbounded_allocation_meets_the_memory_limit_and_the_sandbox_goes_on() {
    let mut sb = Sandbox::new(ScriptLimits { memory_bytes: 16 * 1024 * 1024, time: Duration::from_secs(10) }).expect("sandbox");
    let o = pre(&mut sb, "const a = []; for (;;) a.push('x'.repeat(1000) + a.length);", scopes());
    assert_eq!(o.error.as_deref(), Some("the script ran past its memory limit of 16 MiB"));
    let o = test(&mut sb, "pm.test('next', () => pm.expect(pm.response.json().a).to.eql(1));");
    assert_eq!(o.error, None);
    assert_eq!(passed(&o), vec![("next", true)]);
}

#[test]
fn scripts_have_no_file_or_network_access() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        console.log(typeof fetch, typeof XMLHttpRequest, typeof process, typeof std, typeof os, typeof WebSocket);
        try { require("fs"); } catch (e) { console.log("fs:", e.message.split(";")[0]); }
        try { require("child_process"); } catch (e) { console.log("cp refused"); }
        await import("os").then(() => console.log("os loaded"), (e) => console.log("os refused"));
    "#,
    );
    assert_eq!(o.error, None);
    let lines: Vec<&str> = o.console.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "undefined undefined undefined undefined undefined undefined",
            "fs: require('fs'): apisync's script sandbox does not offer this module",
            "cp refused",
            "os refused",
        ]
    );
    assert_eq!(o.unsupported, vec!["require('fs')", "require('child_process')"]);
}

#[test]
fn nothing_leaks_from_one_script_to_the_next() {
    let mut sb = sandbox();
    let o = pre(
        &mut sb,
        r#"
        leaked = 1; globalThis.alsoLeaked = 2; console = null; _ = "not lodash";
        pm.variables.set("kept", "yes");
        throw new Error("boom");
    "#,
        scopes(),
    );
    assert_eq!(o.error.as_deref(), Some("Error: boom"));
    let o = pre(
        &mut sb,
        r#"
        console.log(typeof leaked, typeof alsoLeaked, typeof _.get, pm.variables.get("kept"), typeof tests, typeof pm.response);
    "#,
        scopes(),
    );
    assert_eq!(o.error, None);
    assert_eq!(o.console[0].text, "undefined undefined function undefined object undefined");
}

#[test]
fn a_syntax_error_is_the_scripts_error() {
    let mut sb = sandbox();
    let o = pre(&mut sb, "pm.test('x', () => {", scopes());
    let e = o.error.expect("an error");
    assert!(e.starts_with("SyntaxError:"), "{e}");
    assert!(o.tests.is_empty());
}

#[test]
fn async_tests_timers_and_skips_are_ordered_by_call() {
    let mut sb = sandbox();
    let o = test(
        &mut sb,
        r#"
        pm.test("async", async () => { await null; pm.expect(1).to.equal(2); });
        pm.test.skip("skipped", () => { throw new Error("never"); });
        pm.test("done", (done) => setTimeout(() => { pm.expect(pm.response.code).to.equal(200); done(); }, 50));
        pm.test("pending");
        setTimeout(() => console.log("later"), 20);
        setTimeout(() => console.log("sooner"), 10);
        const id = setTimeout(() => console.log("cleared"), 5); clearTimeout(id);
        pm.test("never settles", () => new Promise(() => {}));
    "#,
    );
    assert_eq!(o.error, None);
    let got: Vec<(&str, bool, bool)> = o.tests.iter().map(|t| (t.name.as_str(), t.passed, t.skipped)).collect();
    assert_eq!(
        got,
        vec![
            ("async", false, false),
            ("skipped", true, true),
            ("done", true, false),
            ("pending", true, true),
            ("never settles", false, false),
        ]
    );
    assert_eq!(o.tests[0].error.as_deref(), Some("AssertionError: expected 1 to equal 2"));
    assert!(o.tests[4].error.as_deref().is_some_and(|e| e.contains("never settled")));
    let lines: Vec<&str> = o.console.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(lines, vec!["sooner", "later"]);
}

#[test]
fn console_output_past_the_memory_budget_is_dropped_with_a_note() {
    let mut sb = Sandbox::new(ScriptLimits { memory_bytes: 4 * 1024 * 1024, time: Duration::from_secs(10) }).expect("sandbox");
    let o = pre(&mut sb, "const line = 'x'.repeat(100000); for (let i = 0; i < 100; i++) console.log(line);", scopes());
    assert_eq!(o.error, None);
    assert!(o.console.len() < 60, "{} lines kept", o.console.len());
    let last = o.console.last().expect("a line");
    assert_eq!(last.level, "warn");
    assert!(last.text.contains("further console output dropped"), "{}", last.text);
}

#[test]
fn form_bodies_can_be_read_and_changed() {
    let mut sb = sandbox();
    let job = ScriptJob {
        phase: Phase::PreRequest,
        source: r#"
            console.log(pm.request.body.mode, pm.request.body.urlencoded.get("a"), JSON.stringify(request.data));
            pm.request.body.urlencoded.add({key: "b", value: "2"});
            pm.request.body.urlencoded.upsert({key: "a", value: "10"});
        "#,
        request: json!({"method": "POST", "url": "https://x.test/", "body": {"mode": "urlencoded", "urlencoded": [{"key": "a", "value": "1"}]}}),
        response: None,
        scopes: Scopes::default(),
        info: Info::default(),
    };
    let o = sb.run(job, &mut FakeHost::default());
    assert_eq!(o.error, None);
    assert_eq!(o.console[0].text, r#"urlencoded 1 {"a":"1"}"#);
    assert_eq!(o.request["body"], json!({"mode": "urlencoded", "urlencoded": [{"key": "a", "value": "10"}, {"key": "b", "value": "2"}]}));
    assert_eq!(o.request["url"], json!("https://x.test/"));
}
