//! `apisync bench`: starts a release server as a child process on a free
//! loopback port and prints the figures the README quotes: push
//! throughput, live propagation latency, sign-in restore time and bytes,
//! fan-out to many live devices, server memory per live device, and on
//! PostgreSQL throughput and push latency as the server fills
//! (`pg_latency`).

mod app;
mod mirror;
mod pg_latency;
mod run_vs_newman;

use anyhow::{Context, bail};
use clap::Args;
use futures_util::StreamExt;
use model::{Document, Fields, Id, Kind, Mutation, Op};
use protocol::{Changes, LiveMessage, PushResponse, Session};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Options of `apisync bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Small sizes for a quick smoke run (seconds, not minutes).
    #[arg(long)]
    quick: bool,
    /// Live devices for the fan-out and memory figures.
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// Requests in the workspace a sign-in restores.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Mutations pushed for the throughput figure.
    #[arg(long, default_value_t = 200_000)]
    mutations: usize,
    /// Round trips measured for the propagation latency.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Also measure PostgreSQL, one process and two, in a throwaway database
    /// created (and dropped) on this server, e.g. postgres://postgres@127.0.0.1/postgres.
    #[arg(long, env = "APISYNC_BENCH_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Documents on the PostgreSQL server for the second push-latency measurement.
    #[arg(long, default_value_t = 1_000_000)]
    pg_documents: u64,
    /// One-mutation pushes timed per push-latency measurement (a quarter as many folder deletes).
    #[arg(long, default_value_t = 2000)]
    latency_samples: usize,
    /// Measure only PostgreSQL push latency as the server fills (needs --database-url).
    #[arg(long, requires = "database_url")]
    pg_latency_only: bool,
    /// Measure only the app, in headless Chromium (tests/node/app_bench.js;
    /// needs scripts/install-test-deps.sh): the tree of --requests requests,
    /// filtering, a large saved response, an edit between two browsers.
    #[arg(long, conflicts_with = "pg_latency_only")]
    app: bool,
    /// Edits timed between the two browsers (--app).
    #[arg(long, default_value_t = 30)]
    app_edits: usize,
    /// Size in MiB of the body given to the response viewer (--app); a saved
    /// response holds at most 1 MiB, the limit of one field.
    #[arg(long, default_value_t = 10)]
    viewer_mib: usize,
    /// Measure only `apisync run` beside newman (tests/node's newman; needs
    /// scripts/install-test-deps.sh): a collection of --run-requests requests
    /// with test scripts against a local server, throughput and memory.
    #[arg(long, conflicts_with_all = ["pg_latency_only", "app"])]
    run: bool,
    /// Measure only `apisync mirror`: --requests requests into an empty v3 directory, a
    /// reconciliation with nothing changed, and an edit reaching another device's mirrored file.
    #[arg(long, conflicts_with_all = ["pg_latency_only", "app", "run"])]
    mirror: bool,
    /// Edits timed from one device to the other's mirrored file (--mirror).
    #[arg(long, default_value_t = 50)]
    mirror_edits: usize,
    /// Requests in the collection --run runs.
    #[arg(long, default_value_t = 1000)]
    run_requests: usize,
    /// Runs of each client (--run); the median is reported.
    #[arg(long, default_value_t = 3)]
    run_rounds: usize,
}

struct ChildServer {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl ChildServer {
    fn spawn() -> anyhow::Result<ChildServer> {
        Self::spawn_on(None)
    }

    fn spawn_on(database_url: Option<&str>) -> anyhow::Result<ChildServer> {
        let dir = tempfile::tempdir().context("cannot make a temporary data directory")?;
        let exe = std::env::current_exe().context("cannot find the apisync binary")?;
        let mut cmd = Command::new(exe);
        // The bench signs up hundreds of accounts and holds thousands of
        // live connections, all from one address.
        cmd.args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--signups-per-hour",
            "1000000",
            "--max-connections-per-address",
            "1000000",
            "--data-dir",
        ])
        .arg(dir.path());
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child =
            cmd.env("APISYNC_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().context("cannot start the server")?;
        let stdout = child.stdout.take().context("no stdout from the server")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let base =
            line.split_whitespace().find(|w| w.starts_with("http://")).context("the server did not say where it listens")?.to_string();
        Ok(ChildServer { child, base, _dir: dir })
    }

    fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .context("cannot read the server's memory (Linux /proc)")?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .context("no VmRSS in /proc status")
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn post<T: serde::de::DeserializeOwned>(&self, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<T> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        if !resp.status().is_success() {
            bail!("{path}: {} {}", resp.status(), resp.text().await.unwrap_or_default());
        }
        Ok(resp.json().await?)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> anyhow::Result<T> {
        let resp = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await?;
        if !resp.status().is_success() {
            bail!("{path}: {} {}", resp.status(), resp.text().await.unwrap_or_default());
        }
        Ok(resp.json().await?)
    }

    /// A POST whose answer body does not matter.
    async fn post_ok(&self, path: &str, token: &str, body: &Value) -> anyhow::Result<()> {
        let resp = self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().await?;
        if !resp.status().is_success() {
            bail!("{path}: {} {}", resp.status(), resp.text().await.unwrap_or_default());
        }
        Ok(())
    }

    async fn signup(&self, name: &str) -> anyhow::Result<Session> {
        let body = json!({"email": format!("{name}@bench.test"), "username": name, "password": "bench password", "device": {"id": Id::now_v7(), "name": format!("{name}-0")}});
        self.post("/v1/auth/signup", None, &body).await
    }

    async fn login(&self, name: &str, device: usize) -> anyhow::Result<Session> {
        let body = json!({"user": name, "password": "bench password", "device": {"id": Id::now_v7(), "name": format!("{name}-{device}")}});
        self.post("/v1/auth/login", None, &body).await
    }

    async fn push_raw(&self, token: &str, ws: Id, body: Vec<u8>) -> anyhow::Result<PushResponse> {
        let resp = self
            .http
            .post(format!("{}/v1/workspaces/{ws}/push", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("push: {} {}", resp.status(), resp.text().await.unwrap_or_default());
        }
        Ok(resp.json().await?)
    }

    async fn push(&self, token: &str, ws: Id, mutations: &[Mutation]) -> anyhow::Result<PushResponse> {
        self.push_raw(token, ws, serde_json::to_vec(&json!({ "mutations": mutations }))?).await
    }

    async fn live(&self, token: &str) -> anyhow::Result<LiveSocket> {
        let mut req = format!("{}/v1/live", self.base.replacen("http", "ws", 1)).into_client_request()?;
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
        let (mut sock, _) = tokio_tungstenite::connect_async(req).await?;
        match next_frame(&mut sock).await? {
            LiveMessage::Hello { .. } => Ok(sock),
            other => bail!("expected hello, got {other:?}"),
        }
    }
}

type LiveSocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(sock: &mut LiveSocket) -> anyhow::Result<LiveMessage> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), sock.next())
            .await
            .context("no live frame within 30 s")?
            .context("live channel closed")??;
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return Ok(serde_json::from_str(&t)?);
        }
    }
}

fn fields(v: Value) -> Fields {
    match v {
        Value::Object(m) => m,
        _ => Fields::new(),
    }
}

fn collection(name: &str) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create { kind: Kind::Collection, parent_id: None, order_key: Some("V".into()), fields: fields(json!({ "name": name })) },
    }
}

/// A request shaped like a typical one in a real collection.
fn request(parent: Id, i: usize, key: String) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create {
            kind: Kind::Request,
            parent_id: Some(parent),
            order_key: Some(key),
            fields: fields(json!({
                "name": format!("Get order {i}"),
                "method": "GET",
                "url": {"raw": format!("{{{{baseUrl}}}}/orders/{i}?expand=items"), "host": ["{{baseUrl}}"], "path": ["orders", i.to_string()], "query": [{"key": "expand", "value": "items"}]},
                "header": [{"key": "Accept", "value": "application/json"}, {"key": "Authorization", "value": "Bearer {{token}}"}],
                "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": ["pm.test(\"status is 200\", () => pm.response.to.have.status(200));"]}}],
            })),
        },
    }
}

fn requests(parent: Id, n: usize) -> anyhow::Result<Vec<Mutation>> {
    let keys = model::ordering::n_between(None, None, n)?;
    Ok(keys.into_iter().enumerate().map(|(i, k)| request(parent, i, k)).collect())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

struct Report {
    rows: Vec<(String, String, String, bool)>,
}

impl Report {
    fn row(&mut self, what: &str, figure: String, target: &str, met: bool) {
        println!("  {what:<44} {figure:>18}   target {target:<14} {}", if met { "met" } else { "MISSED" });
        self.rows.push((what.into(), figure, target.into(), met));
    }

    fn summary(&self) -> anyhow::Result<()> {
        let missed = self.rows.iter().filter(|r| !r.3).count();
        println!("{} of {} targets met", self.rows.len() - missed, self.rows.len());
        std::io::stdout().flush().ok();
        Ok(())
    }
}

/// Runs every benchmark and prints the figures.
pub fn run(mut args: BenchArgs) -> anyhow::Result<()> {
    if args.quick {
        args.devices = args.devices.min(60);
        args.requests = args.requests.min(2000);
        args.mutations = args.mutations.min(20_000);
        args.samples = args.samples.min(200);
        args.pg_documents = args.pg_documents.min(100_000);
        args.latency_samples = args.latency_samples.min(400);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; run `cargo run --release -- bench` for real figures");
    }
    if args.run {
        let opts = run_vs_newman::RunBench {
            requests: if args.quick { args.run_requests.min(200) } else { args.run_requests },
            rounds: if args.quick { 1 } else { args.run_rounds.max(1) },
        };
        let mut report = Report { rows: Vec::new() };
        run_vs_newman::run_vs_newman(&opts, &mut report)?;
        return report.summary();
    }
    if args.mirror {
        let opts =
            mirror::MirrorBench { requests: args.requests, edits: if args.quick { args.mirror_edits.min(10) } else { args.mirror_edits } };
        let mut report = Report { rows: Vec::new() };
        mirror::run_mirror(&opts, &mut report)?;
        return report.summary();
    }
    if args.app {
        let quick = args.quick;
        let opts = app::AppBench {
            requests: args.requests,
            viewer_mib: args.viewer_mib,
            edits: if quick { args.app_edits.min(10) } else { args.app_edits },
            loads: if quick { 2 } else { 5 },
        };
        let mut report = Report { rows: Vec::new() };
        app::run_app(&opts, &mut report)?;
        return report.summary();
    }
    // reqwest is built without a default crypto provider (the device picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(bench(args))
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    // No automatic decompression: the restore figure counts the bytes on the wire.
    let http = reqwest::Client::builder().no_gzip().no_brotli().build()?;
    if let (true, Some(url)) = (args.pg_latency_only, &args.database_url) {
        let mut report = Report { rows: Vec::new() };
        pg_latency::run(url, &http, args.pg_documents, args.latency_samples, &mut report).await?;
        return report.summary();
    }
    let server = ChildServer::spawn()?;
    let api = Api { base: server.base.clone(), http };
    println!(
        "apisync bench: server {} (embedded SQLite), {} cores",
        server.base,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut report = Report { rows: Vec::new() };

    let sqlite_rate = throughput(&api, &args, &mut report).await?;
    println!("server RSS after the throughput run: {} MiB", server.rss_kib()? / 1024);
    propagation(&api, &args, &mut report).await?;
    restore(&api, &args, &mut report).await?;
    // A fresh server, so earlier phases' memory does not hide the connections'.
    let fresh = ChildServer::spawn()?;
    let fresh_api = Api { base: fresh.base.clone(), http: api.http.clone() };
    fan_out(&fresh_api, &fresh, &args, &mut report).await?;
    drop(fresh);
    match &args.database_url {
        Some(url) => {
            postgres(url, &api.http, &args, sqlite_rate, &mut report).await?;
            pg_latency::run(url, &api.http, args.pg_documents, args.latency_samples, &mut report).await?;
        }
        None => println!("PostgreSQL: skipped (pass --database-url or APISYNC_BENCH_DATABASE_URL)"),
    }
    report.summary()
}

/// Mutations per second when one pusher per server in `apis` (each its own
/// account and workspace) pushes its share of `total` at once.
async fn push_load(apis: &[Api], tag: &str, total: usize) -> anyhow::Result<f64> {
    const BATCH: usize = 1000;
    let mut prepared = Vec::new();
    for (i, api) in apis.iter().enumerate() {
        let s = api.signup(&format!("bench-push-{tag}-{i}")).await?;
        let ws = s.workspaces[0].id;
        let col = collection("Throughput");
        api.push(&s.token, ws, std::slice::from_ref(&col)).await?;
        let all = requests(col.doc_id, total / apis.len())?;
        // Bodies are made up front: the figure is the server's, not the JSON encoder's.
        let bodies: Vec<Vec<u8>> = all.chunks(BATCH).map(|c| serde_json::to_vec(&json!({ "mutations": c }))).collect::<Result<_, _>>()?;
        prepared.push((api.clone(), s.token, ws, bodies));
    }
    let start = Instant::now();
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|(api, token, ws, bodies)| {
            tokio::spawn(async move {
                for body in bodies {
                    let r = api.push_raw(&token, ws, body).await?;
                    if r.results.iter().any(|x| !matches!(x.outcome, protocol::Outcome::Applied { .. })) {
                        bail!("a benchmark mutation was not applied");
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok((total / apis.len() * apis.len()) as f64 / start.elapsed().as_secs_f64())
}

async fn throughput(api: &Api, args: &BenchArgs, report: &mut Report) -> anyhow::Result<f64> {
    let one = push_load(std::slice::from_ref(api), "sqlite1", args.mutations).await?;
    println!("push throughput: {} mutations in batches of 1000: one device pushing {one:.0} mut/s", args.mutations);
    let rate = push_load(&[api.clone(), api.clone()], "sqlite2", args.mutations).await?;
    println!("push throughput: two devices pushing at once (to their own workspaces)");
    report.row("sustained push throughput", format!("{rate:.0} mut/s"), "> 50000/s", rate > 50_000.0);
    Ok(rate)
}

async fn postgres(url: &str, http: &reqwest::Client, args: &BenchArgs, sqlite_rate: f64, report: &mut Report) -> anyhow::Result<()> {
    let db = server::testing::TestDb::create(url).await;
    let (one, two) = (ChildServer::spawn_on(Some(&db.url))?, ChildServer::spawn_on(Some(&db.url))?);
    let api1 = Api { base: one.base.clone(), http: http.clone() };
    let api2 = Api { base: two.base.clone(), http: http.clone() };
    println!("PostgreSQL: two server processes on one throwaway database");
    // Two devices pushing at once, as for SQLite: first both through one
    // process, then one through each of two processes.
    let single = push_load(&[api1.clone(), api1.clone()], "pg1", args.mutations).await?;
    report.row("PostgreSQL push throughput, one process", format!("{single:.0} mut/s"), ">= SQLite / 2", single >= sqlite_rate / 2.0);
    let double = push_load(&[api1, api2], "pg2", args.mutations).await?;
    report.row("PostgreSQL push throughput, two processes", format!("{double:.0} mut/s"), "> one process", double > single);
    Ok(())
}

async fn propagation(api: &Api, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let a = api.signup("bench-live").await?;
    let b = api.login("bench-live", 1).await?;
    let ws = a.workspaces[0].id;
    let col = collection("Live");
    let mut version = match &api.push(&a.token, ws, std::slice::from_ref(&col)).await?.results[0].outcome {
        protocol::Outcome::Applied { version, .. } => *version,
        other => bail!("collection not created: {other:?}"),
    };
    let mut sock = api.live(&b.token).await?;
    let mut samples = Vec::with_capacity(args.samples);
    for i in 0..args.samples {
        let m = Mutation {
            mutation_id: Id::now_v7(),
            doc_id: col.doc_id,
            base_version: version,
            op: Op::Set { fields: fields(json!({ "name": format!("Live {i}") })) },
        };
        let start = Instant::now();
        let (pushed, frame) = tokio::join!(api.push(&a.token, ws, std::slice::from_ref(&m)), next_frame(&mut sock));
        let elapsed = start.elapsed();
        version = pushed?.seq;
        match frame? {
            LiveMessage::Changes { docs, .. }
                if docs.iter().any(|d: &Document| d.fields.get("name") == Some(&json!(format!("Live {i}")))) => {}
            other => bail!("device B got {other:?} instead of the change"),
        }
        samples.push(elapsed);
    }
    samples.sort();
    println!("propagation: device A pushes one change, device B receives it on its live channel ({} samples)", samples.len());
    report.row("propagation latency p50", ms(percentile(&samples, 0.50)), "< 2 ms", percentile(&samples, 0.50) < Duration::from_millis(2));
    report.row(
        "propagation latency p99",
        ms(percentile(&samples, 0.99)),
        "< 10 ms",
        percentile(&samples, 0.99) < Duration::from_millis(10),
    );
    Ok(())
}

async fn restore(api: &Api, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let s = api.signup("bench-restore").await?;
    let ws = s.workspaces[0].id;
    let col = collection("Restore");
    api.push(&s.token, ws, std::slice::from_ref(&col)).await?;
    let reqs = requests(col.doc_id, args.requests)?;
    for chunk in reqs.chunks(1000) {
        api.push(&s.token, ws, chunk).await?;
    }
    let fresh = api.login("bench-restore", 1).await?;
    // Wire bytes: what a sign-in pulls, compressed as the server sends it to a device.
    let start = Instant::now();
    let mut after = 0;
    let mut wire = 0usize;
    let mut docs: Vec<Document> = Vec::new();
    loop {
        let resp = api
            .http
            .get(format!("{}/v1/workspaces/{ws}/changes?after={after}&limit={}", api.base, protocol::limits::MAX_PAGE))
            .bearer_auth(&fresh.token)
            .header("accept-encoding", "br, gzip")
            .send()
            .await?;
        let body = resp.bytes().await?;
        wire += body.len();
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(&body[..], 64 * 1024), &mut json)
            .context("the pull was not brotli-compressed")?;
        let page: Changes = serde_json::from_slice(&json)?;
        docs.extend(page.docs);
        after = page.next;
        if !page.more {
            break;
        }
    }
    let pull_time = start.elapsed();
    // The figure itself: a real device signing in on a fresh profile and
    // restoring everything into its local store.
    let profile = tempfile::tempdir()?;
    let device = client::Device::open(profile.path())?;
    let start = Instant::now();
    device
        .login(
            client::LoginOptions {
                server: api.base.clone(),
                user: "bench-restore".into(),
                password: "bench password".into(),
                device_name: Some("bench-restore-device".into()),
                replace: None,
                force: false,
            },
            None,
        )
        .await?;
    let restore_time = start.elapsed();
    let restored = device.list(None, Some(Kind::Request))?.len();
    if restored != args.requests {
        bail!("the device restored {restored} requests, not {}", args.requests);
    }
    let collection_doc = docs.iter().find(|d| d.id == col.doc_id).context("the collection did not come back")?.clone();
    let export = formats::export_collection(&collection_doc, &docs).context("cannot export the collection")?;
    let export_gzip = gzip_len(&serde_json::to_vec(&export)?)?;
    let ratio = wire as f64 / export_gzip as f64;
    println!(
        "restore: {} requests; sign-in pull {} KiB on the wire (brotli) vs {} KiB gzip of their Postman export",
        args.requests,
        wire / 1024,
        export_gzip / 1024
    );
    println!("restore: the pull alone (server to parsed documents) takes {}", ms(pull_time));
    report.row("sign-in restore into a fresh device", ms(restore_time), "< 500 ms", restore_time < Duration::from_millis(500));
    report.row("restore bytes / gzip(export)", format!("{ratio:.2}x"), "<= 1.10x", ratio <= 1.10);
    Ok(())
}

fn gzip_len(data: &[u8]) -> anyhow::Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)?;
    Ok(enc.finish()?.len())
}

async fn fan_out(api: &Api, server: &ChildServer, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let accounts = args.devices.div_ceil(3);
    let gate = Arc::new(Semaphore::new(4));
    let mut tasks = Vec::new();
    for i in 0..accounts {
        let api = api.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let name = format!("bench-fan-{i}");
            let first = api.signup(&name).await?;
            let mut sessions = vec![first];
            for d in 1..3 {
                sessions.push(api.login(&name, d).await?);
            }
            anyhow::Ok(sessions)
        }));
    }
    let mut sessions = Vec::new();
    for t in tasks {
        sessions.push(t.await??);
    }
    // A team workspace every account is in.
    let owner = sessions[0][0].clone();
    let shared = Id::now_v7();
    let create = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: shared,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({ "name": "Fan-out" })) },
    };
    api.push(&owner.token, shared, &[create]).await?;
    let team: Value = api.post("/v1/teams", Some(&owner.token), &json!({ "name": "bench" })).await?;
    let team_id = team["id"].as_str().context("no team id")?.to_string();
    for (i, member) in sessions.iter().enumerate().skip(1) {
        api.post_ok(
            &format!("/v1/teams/{team_id}/invitations"),
            &owner.token,
            &json!({ "user": format!("bench-fan-{i}"), "role": "editor" }),
        )
        .await?;
        let list: protocol::Invitations = api.get("/v1/invitations", &member[0].token).await?;
        let invitation = list.invitations.first().context("the invitation did not arrive")?;
        api.post_ok(&format!("/v1/invitations/{}/accept", invitation.id), &member[0].token, &json!({})).await?;
    }
    api.post_ok(&format!("/v1/workspaces/{shared}/share"), &owner.token, &json!({ "team_id": team_id })).await?;

    // Sign-ins hash passwords (19 MiB each) on blocking threads, which exit
    // after 10 s idle and only then give their memory back: wait that out,
    // connect a tenth of the devices, and measure what the rest add.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let all: Vec<&Session> = sessions.iter().flatten().take(args.devices).collect();
    let warm = (all.len() / 10).max(1);
    let mut sockets = Vec::new();
    for s in &all[..warm] {
        sockets.push((s.workspaces[0].id, api.live(&s.token).await?));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = server.rss_kib()?;
    for s in &all[warm..] {
        sockets.push((s.workspaces[0].id, api.live(&s.token).await?));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_kib()?;
    let measured = all.len() - warm;
    let per_device = (after.saturating_sub(before) * 1024) as f64 / measured.max(1) as f64;
    println!("memory: server RSS {before} KiB with {warm} live devices, {after} KiB with {}", all.len());
    if after < before {
        println!("memory: RSS fell while devices connected (the allocator returned sign-in memory); the figure below is not meaningful");
    }
    report.row(
        "server memory per live device",
        format!("{:.1} KB", per_device / 1000.0),
        "< 20 KB",
        after >= before && per_device < 20_000.0,
    );

    // One change to a workspace every account shares through a team: the
    // server fans it out to every live device at once.
    let start = Instant::now();
    let receivers: Vec<_> = sockets
        .into_iter()
        .map(|(_, mut sock)| {
            tokio::spawn(async move {
                loop {
                    match next_frame(&mut sock).await? {
                        LiveMessage::Changes { workspace_id, .. } if workspace_id == shared => return anyhow::Ok(start.elapsed()),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    api.push(&owner.token, shared, &[collection("fan-out")]).await?;
    let mut latest = Duration::ZERO;
    for r in receivers {
        latest = latest.max(r.await??);
    }
    println!("fan-out: one change to a workspace shared by {accounts} accounts reaches all {} live devices", args.devices);
    report.row("one change reaches every live device", ms(latest), "< 250 ms", latest < Duration::from_millis(250));
    Ok(())
}
