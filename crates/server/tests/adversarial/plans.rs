//! Pushes and pulls whose cost grew with every other tenant's documents:
//! a recursive query for a batch's subtrees was planned as a hash join over
//! a sequential scan of all of `docs`, so a one-mutation push took 2.4 ms
//! on a server with 1,000 documents and 10–210 ms with 300,000. Here the
//! server holds 200,000 documents of 2,000 other accounts, and every
//! statement of a sign-in, a push (of each kind) and a pull must read by
//! index just the rows it needs: no sequential scan of a big table, no walk
//! of a whole index, at most 100 rows read and thrown away and at most 600
//! read in all (a pull page), the snapshot's count of the workspace
//! excepted. Ann's own workspace holds 2,000 requests her device wrote, so
//! a lookup that reads her workspace, or her device's history, in place of
//! the rows it names fails too. And the server keeps its statistics fresh.
//!
//! How the plans are seen: the server's own connections load `auto_explain`
//! (through startup options in the database URL), which sends the plan of
//! every statement they execute, nested ones such as foreign-key checks
//! included, to the client — the apisync server — as a NOTICE; sqlx turns
//! each notice into a `tracing` event, which this test collects. That is
//! the real plan of the real statement with its real parameters, not a copy
//! of the SQL explained by hand, so a statement added later is checked
//! without anybody listing it. The workload runs twice, once with
//! `plan_cache_mode = force_custom_plan` and once with `force_generic_plan`:
//! PostgreSQL runs a prepared statement with one or the other (a generic
//! plan after five executions if it looks no worse), and a generic plan,
//! knowing no workspace, takes every workspace for an average one. Plans
//! are taken with `log_analyze` (without timing), so what is checked is the
//! rows each scan really read.

use crate::support::{Backend, TestDb, TestServer, create, fields, set};
use model::{Id, Kind, Mutation, Op};
use protocol::{Changes, Session};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Documents of other accounts on the server.
const CROWD: u64 = 200_000;

/// Tables no statement on these paths may read in full.
const BIG_TABLES: [&str; 7] = ["users", "devices", "sessions", "workspaces", "members", "docs", "mutations"];

/// Rows a scan of a big table may read and throw away (tombstones of the
/// test's own workspace skipped by a snapshot page, signed-out devices).
const DISCARD_LIMIT: f64 = 100.0;

/// Rows a scan of a big table may read in all, however it uses them: a pull
/// page of 500 (and one to see whether more follow), with room to spare. A
/// hash join over a whole workspace discards nothing by filter, but reads it.
const READ_LIMIT: f64 = 600.0;

/// The one statement that reads a whole workspace by design: a sign-in
/// snapshot's first page counts the workspace's live documents (by index).
const READS_A_WORKSPACE: &str = "SELECT COUNT(*) FROM docs WHERE workspace_id = $1 AND deleted_seq IS NULL";

/// Statements the workload must have run, so the checks cannot pass by
/// seeing nothing: the sign-in, the workspace list, each step of a push,
/// a pull page and a fetch.
const MUST_SEE: &[&str] = &[
    "FROM sessions s JOIN devices d",
    "UPDATE sessions SET revoked_at",
    "FROM members m JOIN workspaces w",
    "SELECT role FROM members",
    "FROM workspaces WHERE id = $1 FOR UPDATE",
    "FROM gone_workspaces",
    "SELECT id, parent_id, octet_length(fields) AS n FROM docs WHERE id = ANY($1)",
    "FROM docs WHERE workspace_id = $1 AND parent_id = p.id AND deleted_seq IS NULL",
    "FROM mutations WHERE workspace_id = $1 AND device_num = $2 AND mutation_id = t.id",
    "UPDATE docs SET deleted_seq",
    "INSERT INTO docs",
    "INSERT INTO mutations",
    "ORDER BY version LIMIT",
    "SELECT COUNT(*) FROM docs",
    "SELECT id, workspace_id, octet_length(fields) FROM docs WHERE id = ANY($1)",
];

/// Plans the server's connections sent as notices, as JSON text.
fn plans() -> &'static Arc<Mutex<Vec<String>>> {
    static PLANS: OnceLock<Arc<Mutex<Vec<String>>>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let plans = Arc::new(Mutex::new(Vec::new()));
        // Nothing else in this test binary sets a global subscriber; if
        // something did, no plan would arrive and MUST_SEE says so.
        let _ = tracing::subscriber::set_global_default(Notices(plans.clone()));
        plans
    })
}

/// Collects the notices sqlx reports, and nothing else.
struct Notices(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for Notices {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        m.target() == "sqlx::postgres::notice"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut m = Message(String::new());
        e.record(&mut m);
        // auto_explain's notices read "duration: … ms  plan:" and the JSON.
        if let Some(i) = m.0.find("plan:\n").map(|i| i + "plan:\n".len()) {
            self.0.lock().unwrap().push(m.0[i..].to_string());
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        if f.name() == "message" {
            self.0 = v.to_string();
        }
    }
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        if f.name() == "message" && self.0.is_empty() {
            self.0 = format!("{v:?}");
        }
    }
}

/// The database URL with `auto_explain` on every connection, plans planned
/// in `mode`. Notices go to the client only: NOTICE is below the server
/// log's threshold, so PostgreSQL's own log stays clean.
fn explained(url: &str, mode: &str) -> String {
    let options = [
        ("session_preload_libraries", "auto_explain"),
        ("auto_explain.log_min_duration", "0"),
        ("auto_explain.log_analyze", "on"),
        ("auto_explain.log_timing", "off"),
        ("auto_explain.log_format", "json"),
        ("auto_explain.log_nested_statements", "on"),
        ("auto_explain.log_level", "notice"),
        ("plan_cache_mode", mode),
    ];
    let query: Vec<String> = options.iter().map(|(k, v)| format!("options[{k}]={v}")).collect();
    format!("{url}{}{}", if url.contains('?') { '&' } else { '?' }, query.join("&"))
}

/// What is wrong with one plan node and those under it.
fn check_node(node: &Value, query: &str, faults: &mut Vec<String>) {
    if let Some(table) = node["Relation Name"].as_str().filter(|t| BIG_TABLES.contains(t)) {
        let kind = node["Node Type"].as_str().unwrap_or("?");
        let loops = node["Actual Loops"].as_f64().unwrap_or(1.0);
        let discarded = (node["Rows Removed by Filter"].as_f64().unwrap_or(0.0)
            + node["Rows Removed by Index Recheck"].as_f64().unwrap_or(0.0))
            * loops;
        let read = node["Actual Rows"].as_f64().unwrap_or(0.0) * loops + discarded;
        let using = node["Index Name"].as_str().map(|i| format!(" using {i}")).unwrap_or_default();
        if kind == "Seq Scan" {
            faults.push(format!("a sequential scan of {table} in: {query}"));
        } else if matches!(kind, "Index Scan" | "Index Only Scan") && node.get("Index Cond").is_none() {
            faults.push(format!("{kind}{using} on {table} walks the whole index in: {query}"));
        } else if discarded > DISCARD_LIMIT {
            faults.push(format!("{kind}{using} on {table} read and threw away {discarded} rows in: {query}"));
        } else if read > READ_LIMIT && query != READS_A_WORKSPACE {
            faults.push(format!("{kind}{using} on {table} read {read} rows in: {query}"));
        }
    }
    // A bitmap's index scan names no table, but reads index entries all the same.
    if node["Node Type"] == "Bitmap Index Scan" && query != READS_A_WORKSPACE {
        let read = node["Actual Rows"].as_f64().unwrap_or(0.0) * node["Actual Loops"].as_f64().unwrap_or(1.0);
        if read > READ_LIMIT {
            faults.push(format!("Bitmap Index Scan using {} read {read} entries in: {query}", node["Index Name"].as_str().unwrap_or("?")));
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        check_node(child, query, faults);
    }
}

/// Every statement the server ran for these calls, by its plan: the
/// problems, and which of [`MUST_SEE`] never ran.
fn check(plans: &[String]) -> (Vec<String>, Vec<&'static str>) {
    let mut faults = Vec::new();
    let mut seen = Vec::new();
    for text in plans {
        let plan: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("auto_explain sent a plan that is not JSON ({e}): {text}"));
        let query = plan["Query Text"].as_str().unwrap_or("?").split_whitespace().collect::<Vec<_>>().join(" ");
        check_node(&plan["Plan"], &query, &mut faults);
        seen.push(query);
    }
    let missing = MUST_SEE.iter().copied().filter(|m| !seen.iter().any(|q| q.contains(m))).collect();
    faults.sort();
    faults.dedup();
    (faults, missing)
}

fn request(parent: Id, name: &str) -> Mutation {
    create(Kind::Request, Some(parent), json!({"name": name, "method": "GET", "url": "https://example.com/orders"}))
}

fn op(doc: Id, base: u64, op: Op) -> Mutation {
    Mutation { mutation_id: Id::now_v7(), doc_id: doc, base_version: base, op }
}

/// The version a push gave its `i`th mutation.
fn version(r: &protocol::PushResponse, i: usize) -> u64 {
    match &r.results[i].outcome {
        protocol::Outcome::Applied { version, .. } => *version,
        other => panic!("mutation {i} was not applied: {other:?}"),
    }
}

/// Ann's workspace before the crowd arrives: a small tree to work in, and
/// a collection of 2,000 requests, so that reading her whole workspace to
/// find a folder's children, or her device's every stored result to find
/// one, shows up as thousands of rows thrown away.
struct Setup {
    /// The session of the device that wrote it all.
    token: String,
    ws: Id,
    small: Id,
    folders: [Id; 2],
    request: (Id, u64),
}

async fn set_up(s: &TestServer, ann: &Session) -> Setup {
    let ws = ann.workspaces[0].id;
    let small = create(Kind::Collection, None, json!({"name": "Small"}));
    let f1 = create(Kind::Folder, Some(small.doc_id), json!({"name": "One"}));
    let f2 = create(Kind::Folder, Some(small.doc_id), json!({"name": "Two"}));
    let r = request(f1.doc_id, "Get an order");
    let mut batch = vec![small.clone(), f1.clone(), f2.clone(), r.clone()];
    for i in 0..3 {
        batch.push(request(f2.doc_id, &format!("Two {i}")));
    }
    let done = s.push_ok(&ann.token, ws, &batch).await;
    let request_version = version(&done, 3);
    let bulk = create(Kind::Collection, None, json!({"name": "Bulk"}));
    s.push_ok(&ann.token, ws, std::slice::from_ref(&bulk)).await;
    for chunk in 0..2 {
        let batch: Vec<Mutation> = (0..1000).map(|i| request(bulk.doc_id, &format!("Bulk {chunk}-{i}"))).collect();
        s.push_ok(&ann.token, ws, &batch).await;
    }
    Setup { token: ann.token.clone(), ws, small: small.doc_id, folders: [f1.doc_id, f2.doc_id], request: (r.doc_id, request_version) }
}

/// Signs a new device in and lists workspaces; then, from the device that
/// wrote the workspace, pushes every kind of mutation (and one again),
/// claims a new workspace, pulls a snapshot and a catch-up, and fetches:
/// everything a device does.
async fn workload(s: &TestServer, setup: &mut Setup) {
    let login = json!({"user": "ann", "password": "correct horse", "device": {"id": Id::now_v7(), "name": "ann-plans"}});
    let (status, v) = s.call(Method::POST, "/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, 200, "{v}");
    let fresh = serde_json::from_value::<Session>(v).unwrap().token;
    let (status, v) = s.call(Method::GET, "/v1/workspaces", Some(&fresh), None).await;
    assert_eq!(status, 200, "{v}");
    let token = setup.token.clone();
    let ws = setup.ws;
    let before = s.push_ok(&token, ws, &[]).await.seq;

    // A folder with requests and a response, edited, moved from, deleted, restored.
    let folder = create(Kind::Folder, Some(setup.small), json!({"name": "Doomed"}));
    let kept = request(folder.doc_id, "Kept");
    let doomed: Vec<Mutation> = (0..3).map(|i| request(folder.doc_id, &format!("Doomed {i}"))).collect();
    let mut batch = vec![folder.clone(), kept.clone(), create(Kind::Response, Some(kept.doc_id), json!({"name": "200"}))];
    batch.extend(doomed.iter().cloned());
    s.push_ok(&token, ws, &batch).await;
    let (doc, base) = setup.request;
    let edit = set(doc, base, json!({"name": "Get one order"}));
    let edited = s.push_ok(&token, ws, std::slice::from_ref(&edit)).await;
    setup.request = (doc, version(&edited, 0));
    s.push_ok(&token, ws, &[edit]).await;
    let moved = s.push_ok(&token, ws, &[op(kept.doc_id, 0, Op::Move { parent_id: Some(setup.folders[1]), order_key: "W".into() })]).await;
    version(&moved, 0);
    let gone = s.push_ok(&token, ws, &[op(folder.doc_id, 0, Op::Delete)]).await;
    // Restoring a request brings its deleted folder back too.
    let restore = op(doomed[0].doc_id, gone.seq, Op::Restore { fields: fields(json!({"name": "Saved"})) });
    version(&s.push_ok(&token, ws, &[restore]).await, 0);
    for _ in 0..3 {
        let (doc, base) = setup.request;
        let r = s.push_ok(&token, ws, &[set(doc, base, json!({"description": Id::now_v7().to_string()}))]).await;
        setup.request = (doc, version(&r, 0));
    }

    // A new workspace, claimed by its first push, then renamed.
    let new_ws = Id::now_v7();
    let claim =
        op(new_ws, 0, Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({"name": "Side"})) });
    let claimed = s.push_ok(&token, new_ws, &[claim]).await;
    s.push_ok(&token, new_ws, &[set(new_ws, version(&claimed, 0), json!({"name": "Side project"}))]).await;

    // A sign-in snapshot in pages, a catch-up pull, a fetch.
    let mut after = 0;
    for _ in 0..100 {
        let (status, v) = s.call(Method::GET, &format!("/v1/workspaces/{ws}/changes?after={after}&limit=500"), Some(&token), None).await;
        assert_eq!(status, 200, "{v}");
        let page: Changes = serde_json::from_value(v).unwrap();
        after = page.next;
        if !page.more {
            break;
        }
    }
    let (status, v) = s.call(Method::GET, &format!("/v1/workspaces/{ws}/changes?after={before}"), Some(&token), None).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) =
        s.call(Method::POST, &format!("/v1/workspaces/{ws}/docs"), Some(&token), Some(json!({"ids": [doc, Id::now_v7()]}))).await;
    assert_eq!(status, 200, "{v}");
}

async fn no_push_or_pull_scans_a_big_table(b: Backend) {
    let Backend::Postgres(admin) = b else { return };
    let db = TestDb::create(&admin).await.unwrap();
    let plain = TestServer::start_on(&db.url).await;
    let ann = plain.signup("ann").await;
    let mut setup = set_up(&plain, &ann).await;
    let crowd = scratchdb::crowd::fill(&db.url, CROWD).await.unwrap();
    assert_eq!(crowd.docs, CROWD);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
    sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
    let small: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_class WHERE relname::text = ANY($1) AND relkind = 'r' AND reltuples < 1000")
            .bind(&BIG_TABLES[..])
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(small, 0, "every big table holds thousands of rows, so no scan of one is excused as cheap");

    let collected = plans();
    let (mut faults, mut missing) = (Vec::new(), Vec::new());
    for mode in ["force_custom_plan", "force_generic_plan"] {
        let s = TestServer::start_on(&explained(&db.url, mode)).await;
        collected.lock().unwrap().clear();
        workload(&s, &mut setup).await;
        let seen = std::mem::take(&mut *collected.lock().unwrap());
        let (f, m) = check(&seen);
        faults.extend(f.into_iter().map(|f| format!("{mode}: {f}")));
        missing.extend(m.into_iter().map(|m| format!("{mode} ({} plans): {m}", seen.len())));
    }
    assert!(faults.is_empty(), "\n{}", faults.join("\n"));
    assert!(missing.is_empty(), "statements never seen:\n{}", missing.join("\n"));
}

/// `analyze_count` of the tables pushes write: how often each was analyzed
/// on request (autovacuum's runs are counted apart).
async fn analyzed(url: &str) -> Vec<(String, i64, Option<f64>)> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
    sqlx::query_as(
        "SELECT relname::text, analyze_count, extract(epoch FROM last_analyze)::float8 FROM pg_stat_user_tables
         WHERE relname IN ('docs', 'mutations') ORDER BY relname",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

/// Waits (at most a minute) until each table was analyzed `times` times.
async fn wait_for_analyze(url: &str, times: i64) -> Vec<(String, i64, Option<f64>)> {
    for _ in 0..600 {
        let now = analyzed(url).await;
        if now.len() == 2 && now.iter().all(|t| t.1 >= times) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("docs and mutations were not analyzed {times} times within a minute: {:?}", analyzed(url).await);
}

/// The server analyzes a new database at start (its tables have no
/// statistics), and again once its pushes have written enough rows.
async fn the_server_keeps_statistics_fresh(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let url = s.db_url.clone().unwrap();
    let at_start = wait_for_analyze(&url, 1).await;
    let ann = s.signup("ann").await;
    let ws = ann.workspaces[0].id;
    let col = create(Kind::Collection, None, json!({"name": "C"}));
    s.push_ok(&ann.token, ws, std::slice::from_ref(&col)).await;
    // 600 creates write 1,200 rows (document, result): past the 1,000 rows
    // plus a tenth of the (nearly empty) tables that make it due.
    let batch: Vec<Mutation> = (0..600).map(|i| request(col.doc_id, &format!("r{i}"))).collect();
    s.push_ok(&ann.token, ws, &batch).await;
    let after = wait_for_analyze(&url, 2).await;
    for (before, now) in at_start.iter().zip(&after) {
        assert!(now.2 > before.2, "{} was analyzed again later: {before:?} then {now:?}", now.0);
    }
}

on_postgres!(no_push_or_pull_scans_a_big_table, the_server_keeps_statistics_fresh);
