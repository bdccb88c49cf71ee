//! `apisync bench`: starts release servers as child processes on free
//! loopback ports and prints the figures the README quotes. Two families:
//!
//! - the wire (this file): push throughput and live propagation with the
//!   client's transport and a bare live socket, and on PostgreSQL throughput
//!   and push latency as the server fills (`pg_latency`);
//! - the device level (`devices` and one file per workload): `client::Device`
//!   on both ends with durable stores, beside a peer (`peer`) when asked,
//!   written as JSON and an SVG chart (`chart`) with `--out`.
//!
//! Everything talks HTTP through `client::Transport`, the one way the
//! project speaks the protocol.

mod app;
mod chart;
mod compare;
mod device_w1;
mod device_w2;
mod device_w3;
mod device_w4;
mod devices;
mod figures;
mod mirror;
mod peer;
mod pg_latency;
mod push_latency;
mod requests_per_edit;
mod run_vs_newman;
mod server_cpu;
mod wire;

use anyhow::{Context, bail};
use clap::Args;
use client::{Timeouts, Transport};
use futures_util::StreamExt;
use model::{Document, Fields, Id, Kind, Mutation, Op};
use protocol::{DeviceInfo, LiveMessage, LoginRequest, PushRequest, PushResponse, Session, SignupRequest};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Options of `apisync bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Small sizes for a quick smoke run (seconds, not minutes); the device
    /// workloads then seed 100,000 documents for push latency, not 1,000,000,
    /// and stop at 1,000 live devices.
    #[arg(long)]
    quick: bool,
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
    /// Measure only the device-level workloads (W1–W4, server CPU per
    /// mutation, push latency as the workspace grows, requests per edit,
    /// bytes on disk per document): `client::Device` on both ends, durable stores.
    #[arg(long, conflicts_with_all = ["pg_latency_only", "app", "run", "mirror"])]
    device: bool,
    /// Only these device workloads (implies --device), comma-separated:
    /// w1, w2 (with server CPU per mutation), w3 (with bytes on disk), w4, push, requests.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST", conflicts_with_all = ["pg_latency_only", "app", "run", "mirror"])]
    only: Vec<devices::Workload>,
    /// Run the peer benchmark in DIR (e.g. tests/peers/pouchdb: its
    /// `./run.sh`, needs node and npm) on a copy, after apisync's device
    /// workloads, and print both side by side.
    #[arg(long, value_name = "DIR")]
    peer: Option<PathBuf>,
    /// Write the device figures (figures.json, with the peer's) and a chart
    /// (bench.svg) into DIR, created if needed.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// W1: edits timed from device A to device B's store.
    #[arg(long, default_value_t = 300)]
    w1_samples: usize,
    /// W2: local edits made on device A before it syncs.
    #[arg(long, default_value_t = 10_000)]
    w2_edits: usize,
    /// W3: requests restored into a fresh device, one restore per number.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000])]
    w3_requests: Vec<usize>,
    /// W4: live devices at each memory and fan-out measurement.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000, 10_000])]
    w4_devices: Vec<usize>,
    /// Documents in the big workspace of the push-latency figure (the small one holds 1,000).
    #[arg(long, default_value_t = 1_000_000)]
    push_documents: usize,
    /// One-mutation pushes timed into each workspace for the push-latency figure.
    #[arg(long, default_value_t = 500)]
    push_samples: usize,
    /// Measure only the app, in headless Chromium (tests/node/app_bench.js;
    /// needs scripts/install-test-deps.sh): the tree of --requests requests,
    /// filtering, a large saved response, an edit between two browsers.
    #[arg(long, conflicts_with = "pg_latency_only")]
    app: bool,
    /// Requests in the tree of --app and --mirror.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
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
    dir: tempfile::TempDir,
}

impl ChildServer {
    fn spawn() -> anyhow::Result<ChildServer> {
        Self::spawn_on(None)
    }

    fn spawn_on(database_url: Option<&str>) -> anyhow::Result<ChildServer> {
        let dir = tempfile::tempdir().context("cannot make a temporary data directory")?;
        let exe = std::env::current_exe().context("cannot find the apisync binary")?;
        let mut cmd = Command::new(exe);
        // The bench signs up thousands of accounts and holds thousands of
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
        Ok(ChildServer { child, base, dir })
    }

    /// The server's data directory (SQLite: `apisync.db` and its WAL).
    fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server as an operator would (SIGTERM), so that it
    /// checkpoints and empties its write-ahead log; waits up to 30 s.
    fn stop(&mut self) -> anyhow::Result<()> {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().context("cannot run kill")?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.child.id());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not stop within 30 s of SIGTERM")
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

    /// CPU time the server has used so far, all threads (also those that
    /// ended), user and system.
    fn cpu(&self) -> anyhow::Result<Duration> {
        server_cpu::process_cpu(self.child.id())
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PASSWORD: &str = "bench password";

/// A session of the bench on a server: its transport and what sign-in said.
struct Account {
    t: Transport,
    session: Session,
}

impl Account {
    async fn signup(base: &str, name: &str) -> anyhow::Result<Account> {
        let t = Transport::new(base, None, Timeouts::NORMAL, None)?;
        let session = t
            .signup(&SignupRequest {
                email: format!("{name}@bench.test"),
                username: name.into(),
                password: PASSWORD.into(),
                device: DeviceInfo { id: Id::now_v7(), name: format!("{name}-0") },
            })
            .await
            .with_context(|| format!("cannot sign up {name}"))?;
        Ok(Account { t: Transport::new(base, Some(session.token.clone()), Timeouts::NORMAL, None)?, session })
    }

    async fn login(base: &str, name: &str, device: usize) -> anyhow::Result<Account> {
        let t = Transport::new(base, None, Timeouts::NORMAL, None)?;
        let session = t
            .login(&LoginRequest {
                user: name.into(),
                password: PASSWORD.into(),
                device: DeviceInfo { id: Id::now_v7(), name: format!("{name}-{device}") },
                replace_device: None,
            })
            .await
            .with_context(|| format!("cannot sign in {name}"))?;
        Ok(Account { t: Transport::new(base, Some(session.token.clone()), Timeouts::NORMAL, None)?, session })
    }

    /// The account's own workspace.
    fn personal(&self) -> anyhow::Result<Id> {
        self.session.workspaces.iter().find(|w| w.personal).map(|w| w.id).context("the account has no personal workspace")
    }

    async fn push(&self, ws: Id, mutations: Vec<Mutation>) -> anyhow::Result<PushResponse> {
        // The bench never retries: every earlier result may go.
        let answered_before = mutations.first().map(|m| m.mutation_id);
        Ok(self.t.push(ws, &PushRequest { mutations, answered_before, connection: None }).await?)
    }

    /// A bare live channel: no device behind it, only the socket.
    async fn live(&self) -> anyhow::Result<LiveSocket> {
        live(&self.t.live_url(), &self.session.token).await
    }
}

/// The live channel at `url` of the session `token`.
async fn live(url: &str, token: &str) -> anyhow::Result<LiveSocket> {
    let mut req = url.into_client_request()?;
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse()?);
    let (mut sock, _) = tokio_tungstenite::connect_async(req).await?;
    match next_frame(&mut sock).await? {
        LiveMessage::Hello { .. } => Ok(sock),
        other => bail!("expected hello, got {other:?}"),
    }
}

/// The version each mutation of an answer was applied at; an error if one was not applied.
fn applied(r: &PushResponse) -> anyhow::Result<Vec<u64>> {
    r.results
        .iter()
        .map(|x| match &x.outcome {
            protocol::Outcome::Applied { version, .. } => Ok(*version),
            other => bail!("a benchmark mutation was not applied: {other:?}"),
        })
        .collect()
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

/// A workspace of the account's own, made by a push (its first mutation
/// creates the workspace document).
fn workspace(name: &str) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({ "name": name })) },
    }
}

/// Hex digits from a small deterministic generator, as the peer's bench
/// writes them (ids and cursors in real requests do not compress).
fn hex(state: &mut u32, n: usize) -> String {
    let mut out = String::with_capacity(n + 8);
    while out.len() < n {
        *state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        out.push_str(&format!("{:08x}", *state));
    }
    out.truncate(n);
    out
}

/// The fields of a request of about 1 KB, shaped like one in a real
/// collection and like the peer's documents (`requestDoc` in its bench.js):
/// a URL with a cursor, five headers, a JSON body, a description, a test.
fn request_fields(i: usize, edit: usize) -> Fields {
    const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let mut rnd = (i as u32).wrapping_mul(7919).wrapping_add((edit as u32).wrapping_mul(104_729)).wrapping_add(1);
    let method = METHODS[i % METHODS.len()];
    let cursor = hex(&mut rnd, 16);
    let body = json!({
        "customerId": 10_000 + i,
        "items": [{"sku": format!("SKU-{}", hex(&mut rnd, 8)), "qty": 1 + i % 5, "price": (i % 997) as f64 / 10.0},
                  {"sku": format!("SKU-{}", hex(&mut rnd, 8)), "qty": 2, "price": 19.99}],
        "note": format!("edit {edit}"),
        "shipping": {"method": "express", "address": {"line1": format!("{} Market St", i % 300), "city": "Springfield", "zip": (10_000 + i % 89_999).to_string()}},
    });
    fields(json!({
        "name": format!("{method} /v2/customers/{{id}}/orders #{i}"),
        "method": method,
        "url": {
            "raw": format!("https://api.example.com/v2/customers/{}/orders?limit=50&cursor={cursor}&expand=items,shipping", 10_000 + i),
            "host": ["api", "example", "com"],
            "path": ["v2", "customers", (10_000 + i).to_string(), "orders"],
            "query": [{"key": "limit", "value": "50"}, {"key": "cursor", "value": cursor}, {"key": "expand", "value": "items,shipping"}],
        },
        "header": [
            {"key": "Accept", "value": "application/json"},
            {"key": "Content-Type", "value": "application/json; charset=utf-8"},
            {"key": "Authorization", "value": "Bearer {{accessToken}}"},
            {"key": "X-Request-Id", "value": hex(&mut rnd, 32)},
            {"key": "X-Tenant", "value": format!("tenant-{}", i % 17), "disabled": i.is_multiple_of(3)},
        ],
        "body": {"mode": "raw", "raw": body.to_string(), "options": {"raw": {"language": "json"}}},
        "description": "Fetches the paginated order list for a customer; used by the checkout regression suite.",
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": ["pm.test(\"status is 200\", () => pm.response.to.have.status(200));"]}}],
    }))
}

/// `n` new requests under `parent`, numbered from `first`, with their order keys.
fn requests(parent: Id, first: usize, keys: impl IntoIterator<Item = String>) -> Vec<Mutation> {
    keys.into_iter()
        .enumerate()
        .map(|(k, key)| Mutation {
            mutation_id: Id::now_v7(),
            doc_id: Id::now_v7(),
            base_version: 0,
            op: Op::Create { kind: Kind::Request, parent_id: Some(parent), order_key: Some(key), fields: request_fields(first + k, 0) },
        })
        .collect()
}

/// Pushes `n` requests under `parent` into `ws` in batches of `batch`, two
/// pushes in flight (one is encoded while the server applies the other),
/// until done or `deadline`; returns how many were pushed.
async fn seed(base: &str, token: &str, ws: Id, parent: Id, n: usize, batch: usize, deadline: Instant) -> anyhow::Result<usize> {
    const PUSHERS: usize = 2;
    let keys = model::ordering::n_between(None, None, n)?;
    let keys = std::sync::Arc::new(keys);
    let mut tasks = Vec::new();
    for p in 0..PUSHERS {
        let t = Transport::new(base, Some(token.to_string()), Timeouts::NORMAL, None)?;
        let keys = keys.clone();
        tasks.push(tokio::spawn(async move {
            let mut pushed = 0usize;
            for start in (p * batch..keys.len()).step_by(batch * PUSHERS) {
                if Instant::now() > deadline {
                    break;
                }
                let end = (start + batch).min(keys.len());
                let mutations = requests(parent, start, keys[start..end].iter().cloned());
                let answered_before = mutations.first().map(|m| m.mutation_id);
                let r = t.push(ws, &PushRequest { mutations, answered_before, connection: None }).await?;
                applied(&r)?;
                pushed += end - start;
            }
            anyhow::Ok(pushed)
        }));
    }
    let mut pushed = 0;
    for t in tasks {
        pushed += t.await??;
    }
    Ok(pushed)
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
        self.record(what, figure, target, met);
    }

    /// Counts a target in the summary without printing it (the device
    /// workloads print their own side-by-side table).
    fn record(&mut self, what: &str, figure: String, target: &str, met: bool) {
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
        args.requests = args.requests.min(2000);
        args.mutations = args.mutations.min(20_000);
        args.samples = args.samples.min(200);
        args.pg_documents = args.pg_documents.min(100_000);
        args.latency_samples = args.latency_samples.min(400);
        args.push_documents = args.push_documents.min(100_000);
        args.w4_devices.retain(|&n| n <= 1000);
        if args.w4_devices.is_empty() {
            args.w4_devices.push(1000);
        }
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
    let device_only = args.device || !args.only.is_empty();
    // reqwest is built without a default crypto provider (the device picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut report = Report { rows: Vec::new() };
    if !device_only {
        runtime.block_on(wire(&args, &mut report))?;
    }
    if !args.pg_latency_only {
        devices::run(&runtime, &args, &mut report)?;
    }
    report.summary()
}

/// The wire figures: the server's own speed, measured with the transport and a bare live socket.
async fn wire(args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    if let (true, Some(url)) = (args.pg_latency_only, &args.database_url) {
        return pg_latency::run(url, args.pg_documents, args.latency_samples, report).await;
    }
    let server = ChildServer::spawn()?;
    println!(
        "apisync bench: server {} (embedded SQLite), {} cores",
        server.base,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let sqlite_rate = throughput(&server.base, args, report).await?;
    println!("server RSS after the throughput run: {} MiB", server.rss_kib()? / 1024);
    propagation(&server.base, args, report).await?;
    match &args.database_url {
        Some(url) => {
            postgres(url, args, sqlite_rate, report).await?;
            pg_latency::run(url, args.pg_documents, args.latency_samples, report).await?;
        }
        None => println!("PostgreSQL: skipped (pass --database-url or APISYNC_BENCH_DATABASE_URL)"),
    }
    Ok(())
}

/// Mutations per second when one pusher per server in `bases` (each its own
/// account and workspace) pushes its share of `total` at once.
async fn push_load(bases: &[&str], tag: &str, total: usize) -> anyhow::Result<f64> {
    const BATCH: usize = 1000;
    let mut prepared = Vec::new();
    for (i, base) in bases.iter().enumerate() {
        let a = Account::signup(base, &format!("bench-push-{tag}-{i}")).await?;
        let ws = a.personal()?;
        let col = collection("Throughput");
        a.push(ws, vec![col.clone()]).await?;
        let n = total / bases.len();
        let keys = model::ordering::n_between(None, None, n)?;
        // Batches are made up front: the figure is the server's, not the mutation builder's.
        let all = requests(col.doc_id, 0, keys);
        let batches: Vec<Vec<Mutation>> = all.chunks(BATCH).map(|c| c.to_vec()).collect();
        prepared.push((a, ws, batches));
    }
    let start = Instant::now();
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|(a, ws, batches)| {
            tokio::spawn(async move {
                for b in batches {
                    applied(&a.push(ws, b).await?)?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok((total / bases.len() * bases.len()) as f64 / start.elapsed().as_secs_f64())
}

async fn throughput(base: &str, args: &BenchArgs, report: &mut Report) -> anyhow::Result<f64> {
    let one = push_load(&[base], "sqlite1", args.mutations).await?;
    println!("push throughput: {} mutations in batches of 1000: one device pushing {one:.0} mut/s", args.mutations);
    let rate = push_load(&[base, base], "sqlite2", args.mutations).await?;
    println!("push throughput: two devices pushing at once (to their own workspaces)");
    report.row("sustained push throughput", format!("{rate:.0} mut/s"), "> 50000/s", rate > 50_000.0);
    Ok(rate)
}

async fn postgres(url: &str, args: &BenchArgs, sqlite_rate: f64, report: &mut Report) -> anyhow::Result<()> {
    let db = scratchdb::TestDb::create(url).await?;
    let (one, two) = (ChildServer::spawn_on(Some(&db.url))?, ChildServer::spawn_on(Some(&db.url))?);
    println!("PostgreSQL: two server processes on one throwaway database");
    // Two devices pushing at once, as for SQLite: first both through one
    // process, then one through each of two processes.
    let single = push_load(&[&one.base, &one.base], "pg1", args.mutations).await?;
    report.row("PostgreSQL push throughput, one process", format!("{single:.0} mut/s"), ">= SQLite / 2", single >= sqlite_rate / 2.0);
    let double = push_load(&[&one.base, &two.base], "pg2", args.mutations).await?;
    report.row("PostgreSQL push throughput, two processes", format!("{double:.0} mut/s"), "> one process", double > single);
    Ok(())
}

async fn propagation(base: &str, args: &BenchArgs, report: &mut Report) -> anyhow::Result<()> {
    let a = Account::signup(base, "bench-live").await?;
    let b = Account::login(base, "bench-live", 1).await?;
    let ws = a.personal()?;
    let col = collection("Live");
    let mut version = applied(&a.push(ws, vec![col.clone()]).await?)?[0];
    let mut sock = b.live().await?;
    let mut samples = Vec::with_capacity(args.samples);
    for i in 0..args.samples {
        let m = Mutation {
            mutation_id: Id::now_v7(),
            doc_id: col.doc_id,
            base_version: version,
            op: Op::Set { fields: fields(json!({ "name": format!("Live {i}") })) },
        };
        let start = Instant::now();
        let (pushed, frame) = tokio::join!(a.push(ws, vec![m]), next_frame(&mut sock));
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
