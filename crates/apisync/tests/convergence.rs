//! Convergence, proven by randomized runs: two people on three devices
//! (`client::Device`) share a workspace on one in-process server, and make
//! random edits, creates, moves and deletes while devices go offline, push
//! answers get lost and the server restarts (and, for half the seeds,
//! removes every tombstone at each start and every second, so devices must
//! restore the workspace). Then all come online, sync until
//! quiet, resolve every conflict one way or the other, and sync again.
//!
//! Checked: every device's view of the workspace equals the server's
//! snapshot; a field only one device wrote ends with that device's last
//! value and no created document goes missing unless somebody deleted it or
//! an ancestor (nothing acknowledged is lost); no mutation is ever refused,
//! which a push applied twice would cause (nothing is applied twice).
//!
//! Every case runs on the embedded SQLite server and again on PostgreSQL
//! (when `APISYNC_TEST_DATABASE_URL` is set; skipped loudly otherwise).
//!
//! Each case is one seed; a failure prints it. Replay one with
//! `APISYNC_CONVERGENCE_SEED=N cargo test -p apisync --test convergence`;
//! run more with `APISYNC_CONVERGENCE_CASES=N`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use client::{Device, Keep, LoginOptions, Position, SignupOptions, fields};
use model::{Document, Id, Kind};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

const PASSWORD: &str = "correct-horse-battery";
const STEPS: usize = 40;

/// SplitMix64: the whole run follows from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() { None } else { Some(&v[self.below(v.len())]) }
    }
}

struct World {
    data: PathBuf,
    /// The PostgreSQL database the server stores in, else the embedded SQLite.
    database_url: Option<String>,
    addr: SocketAddr,
    server: Option<server::RunningServer>,
    proxy: support::LossyProxy,
    devices: Vec<Device>,
    ws: String,
    /// (doc, field) → every (device, value) written, in order.
    writes: HashMap<(Id, String), Vec<(usize, Value)>>,
    /// Documents this run created, and every parent each ever had.
    created: HashMap<Id, HashSet<Id>>,
    /// Documents this run deleted.
    deleted: HashSet<Id>,
    /// What happened, for the log: restarts, lost answers, conflicts
    /// resolved, workspaces restored past the tombstone horizon.
    stats: [u32; 4],
    /// Whether the server removes tombstones at once.
    compact: bool,
}

async fn start(data: &std::path::Path, database_url: Option<&str>, addr: SocketAddr, compact: bool) -> server::RunningServer {
    let mut config = server::Config::new(data.to_path_buf());
    config.addr = addr;
    config.database_url = database_url.map(Into::into);
    if compact {
        // Tombstones go at every start and every second: devices that were
        // offline or missed an answer meanwhile must restore.
        config.keep_tombstones = std::time::Duration::ZERO;
    }
    // The old socket may linger for a moment after a restart.
    for _ in 0..50 {
        match server::start(config.clone()).await {
            Ok(s) => return s,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("the server did not restart on {addr}");
}

impl World {
    async fn new(dir: &tempfile::TempDir, database_url: Option<String>, compact: bool) -> World {
        let data = dir.path().join("server");
        let server = start(&data, database_url.as_deref(), "127.0.0.1:0".parse().unwrap(), compact).await;
        let addr = server.addr();
        let proxy = support::LossyProxy::start(&addr.to_string());
        let devices: Vec<Device> = (0..3).map(|i| Device::open(dir.path().join(format!("device-{i}"))).unwrap()).collect();
        let signup = |d: &Device, user: &str| SignupOptions {
            server: proxy.url.clone(),
            email: format!("{user}@example.com"),
            username: user.into(),
            password: PASSWORD.into(),
            device_name: Some(format!("{user}-{}", d.dir().display())),
            force: false,
        };
        devices[0].signup(signup(&devices[0], "ann"), None).await.unwrap();
        devices[2].signup(signup(&devices[2], "bob"), None).await.unwrap();
        let login = LoginOptions {
            server: proxy.url.clone(),
            user: "ann".into(),
            password: PASSWORD.into(),
            device_name: Some("ann-2".into()),
            ..LoginOptions::default()
        };
        devices[1].login(login, None).await.unwrap();
        // Ann's team shares a workspace with Bob, an editor.
        let ws = devices[0].create_workspace("Shared", false).unwrap().to_string();
        devices[0].create_team("Team").await.unwrap();
        devices[0].invite("Team", "bob", protocol::Role::Editor).await.unwrap();
        devices[2].accept_invitation("Team").await.unwrap();
        devices[0].share_workspace(&ws, "Team").await.unwrap();
        let mut w = World {
            data,
            database_url,
            addr,
            server: Some(server),
            proxy,
            devices,
            ws,
            writes: HashMap::new(),
            created: HashMap::new(),
            deleted: HashSet::new(),
            stats: [0; 4],
            compact,
        };
        for name in ["Orders", "Users"] {
            let id = w.devices[0].create(Kind::Collection, None, Some(&w.ws), fields([("name", json!(name))])).unwrap();
            w.created.insert(id, HashSet::new());
            w.writes.entry((id, "name".into())).or_default().push((0, json!(name)));
        }
        for d in &w.devices {
            d.sync().await.unwrap();
        }
        w
    }

    fn docs(&self, d: usize) -> Vec<Document> {
        self.devices[d].list(Some(&self.ws), None).unwrap_or_default()
    }

    async fn step(&mut self, rng: &mut Rng, n: usize) {
        let d = rng.below(3);
        let docs = self.docs(d);
        let containers: Vec<Id> = docs.iter().filter(|x| matches!(x.kind, Kind::Collection | Kind::Folder)).map(|x| x.id).collect();
        let items: Vec<Id> = docs.iter().filter(|x| matches!(x.kind, Kind::Folder | Kind::Request)).map(|x| x.id).collect();
        let requests: Vec<Id> = docs.iter().filter(|x| x.kind == Kind::Request).map(|x| x.id).collect();
        match rng.below(100) {
            0..=34 => {
                let Some(&id) = rng.pick(&docs.iter().map(|x| x.id).collect::<Vec<_>>()) else { return };
                let field = if rng.below(2) == 0 { "name" } else { "description" };
                let value = json!(format!("v{n}-d{d}"));
                if self.devices[d].set(id, fields([(field, value.clone())])).is_ok() {
                    self.writes.entry((id, field.into())).or_default().push((d, value));
                }
            }
            35..=49 => {
                let Some(&parent) = rng.pick(&containers) else { return };
                let kind = if rng.below(3) == 0 { Kind::Folder } else { Kind::Request };
                let name = json!(format!("new{n}-d{d}"));
                if let Ok(id) = self.devices[d].create(kind, Some(parent), None, fields([("name", name.clone())])) {
                    self.created.insert(id, HashSet::from([parent]));
                    self.writes.entry((id, "name".into())).or_default().push((d, name));
                }
            }
            50..=59 => {
                let (Some(&id), Some(&to)) = (rng.pick(&requests), rng.pick(&containers)) else { return };
                if self.devices[d].move_doc(id, Some(to), Position::End).is_ok() {
                    self.created.entry(id).or_default().insert(to);
                }
            }
            60..=66 => {
                let Some(&id) = rng.pick(&items) else { return };
                if self.devices[d].delete(id).is_ok() {
                    self.deleted.insert(id);
                }
            }
            67..=74 => {
                let off = !self.devices[d].is_offline();
                self.devices[d].set_offline(off);
            }
            75..=79 => {
                // Lose the answer to this device's next push.
                if !self.devices[d].is_offline() && self.devices[d].pending().unwrap_or(0) > 0 {
                    self.proxy.armed.store(true, Ordering::SeqCst);
                    let _ = self.devices[d].sync().await;
                    self.proxy.armed.store(false, Ordering::SeqCst);
                    if self.proxy.dropped.swap(false, Ordering::SeqCst) {
                        self.stats[1] += 1;
                    }
                }
            }
            80..=83 => {
                if let Some(s) = self.server.take() {
                    s.shutdown().await.unwrap();
                }
                self.server = Some(start(&self.data, self.database_url.as_deref(), self.addr, self.compact).await);
                self.stats[0] += 1;
            }
            _ => {
                if !self.devices[d].is_offline()
                    && let Ok(r) = self.devices[d].sync().await
                {
                    self.stats[3] += r.restored.len() as u32;
                }
            }
        }
    }

    /// Syncs every device until a whole round changes nothing.
    async fn settle(&mut self, seed: u64) {
        for _ in 0..20 {
            let mut quiet = true;
            for d in &self.devices {
                let r = d.sync().await.unwrap_or_else(|e| panic!("seed {seed}: sync failed: {e}"));
                self.stats[3] += r.restored.len() as u32;
                quiet &= r.pushed == 0 && r.pulled == 0 && r.conflicts == 0;
            }
            if quiet {
                return;
            }
        }
        panic!("seed {seed}: devices did not settle in 20 rounds");
    }

    /// The server's snapshot of the shared workspace, read as Ann on a fresh device id.
    async fn server_snapshot(&self) -> Vec<Document> {
        let http = reqwest::Client::new();
        let base = format!("http://{}", self.addr);
        let session: Value = http
            .post(format!("{base}/v1/auth/login"))
            .json(&json!({"user": "ann", "password": PASSWORD, "device": {"id": Id::now_v7(), "name": "checker"}, "replace_device": null}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = session["token"].as_str().unwrap_or_else(|| panic!("no session: {session}")).to_string();
        let mut after = 0;
        let mut docs = Vec::new();
        loop {
            let page: protocol::Changes = http
                .get(format!("{base}/v1/workspaces/{}/changes?after={after}&restoring=true", self.ws))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            docs.extend(page.docs.into_iter().filter(|d| !d.deleted));
            if !page.more {
                break;
            }
            after = page.next;
        }
        let _ = http.post(format!("{base}/v1/auth/logout")).bearer_auth(&token).send().await;
        docs
    }
}

/// What two copies of a document must agree on: kind, parent, order key, fields, version.
type Shape = (Kind, Option<Id>, Option<String>, Value, u64);

fn keyed(docs: Vec<Document>) -> BTreeMap<Id, Shape> {
    docs.into_iter()
        .filter(|d| d.kind != Kind::Workspace)
        .map(|d| (d.id, (d.kind, d.parent_id, d.order_key, Value::Object(d.fields), d.version)))
        .collect()
}

async fn run(seed: u64, database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    // Half the seeds remove tombstones at once (see `start`).
    let mut w = World::new(&dir, database_url, seed.is_multiple_of(2)).await;
    let mut rng = Rng(seed);
    for n in 0..STEPS {
        w.step(&mut rng, n).await;
    }
    // Everyone online, every conflict resolved one way or the other.
    for d in &mut w.devices {
        d.set_offline(false);
    }
    if w.server.is_none() {
        w.server = Some(start(&w.data, w.database_url.as_deref(), w.addr, w.compact).await);
    }
    w.settle(seed).await;
    for _ in 0..10 {
        let mut any = false;
        for d in &w.devices {
            for c in d.conflicts().unwrap() {
                // The one refusal a correct run may see: an edit of a
                // document deleted elsewhere whose tombstone is gone.
                let forgotten = c.reason.contains("no longer keeps deleted documents");
                assert!(!c.reason.starts_with("rejected") || forgotten, "seed {seed}: a mutation was refused (applied twice?): {c:?}");
                any = true;
                w.stats[2] += 1;
                let keep = if rng.below(2) == 0 { Keep::Mine } else { Keep::Theirs };
                if d.resolve_conflict(c.id, keep, &[]).is_err() {
                    d.resolve_conflict(c.id, Keep::Theirs, &[]).unwrap();
                }
            }
            d.sync().await.unwrap_or_else(|e| panic!("seed {seed}: sync failed: {e}"));
        }
        w.settle(seed).await;
        if !any {
            break;
        }
    }
    let server = keyed(w.server_snapshot().await);
    for (i, d) in w.devices.iter().enumerate() {
        assert_eq!(d.pending().unwrap(), 0, "seed {seed}: device {i} still has changes waiting");
        assert!(d.conflicts().unwrap().is_empty(), "seed {seed}: device {i} still has conflicts");
        let local = keyed(w.docs(i));
        assert_eq!(local, server, "seed {seed}: device {i} differs from the server");
    }
    // Nothing acknowledged is lost.
    let deleted_line = |id: Id| {
        let mut seen = HashSet::new();
        let mut todo = vec![id];
        while let Some(x) = todo.pop() {
            if w.deleted.contains(&x) {
                return true;
            }
            if seen.insert(x) {
                todo.extend(w.created.get(&x).into_iter().flatten().copied());
            }
        }
        false
    };
    for &id in w.created.keys() {
        if !deleted_line(id) {
            assert!(server.contains_key(&id), "seed {seed}: document {id} was created, never deleted, and is gone");
        }
    }
    for ((id, field), list) in &w.writes {
        let writers: HashSet<usize> = list.iter().map(|(d, _)| *d).collect();
        if writers.len() == 1 && !deleted_line(*id) {
            let last = &list.last().unwrap().1;
            let got = server.get(id).map(|s| &s.3[field]);
            assert_eq!(got, Some(last), "seed {seed}: {id}.{field}: the only writer's last value is lost");
        }
    }
    eprintln!(
        "seed {seed}: {} documents, {} restarts, {} lost answers, {} conflicts resolved, {} restores",
        server.len(),
        w.stats[0],
        w.stats[1],
        w.stats[2],
        w.stats[3]
    );
    if let Some(s) = w.server.take() {
        s.shutdown().await.unwrap();
    }
}

/// Where a run's server stores.
#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    /// A database of its own on `APISYNC_TEST_DATABASE_URL`'s server.
    Postgres,
}

fn run_blocking(seed: u64, backend: Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            match backend {
                Backend::Sqlite => run(seed, None).await,
                Backend::Postgres => {
                    let Some(admin) = postgres_url() else { return };
                    let db = scratchdb::TestDb::create(&admin).await.unwrap();
                    run(seed, Some(db.url.clone())).await;
                }
            }
        })
    }));
    if let Err(e) = outcome {
        let on = if matches!(backend, Backend::Postgres) { " on PostgreSQL" } else { "" };
        eprintln!("convergence{on} failed with seed {seed}; replay with APISYNC_CONVERGENCE_SEED={seed}");
        std::panic::resume_unwind(e);
    }
}

/// `APISYNC_TEST_DATABASE_URL`, or `None`, said loudly.
fn postgres_url() -> Option<String> {
    match std::env::var("APISYNC_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED: convergence on PostgreSQL — set APISYNC_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
            );
            None
        }
    }
}

fn cases() -> u32 {
    std::env::var("APISYNC_CONVERGENCE_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, max_shrink_iters: 0, ..ProptestConfig::default() })]

    #[test]
    fn devices_converge_whatever_happens(seed in any::<u64>()) {
        run_blocking(fixed_seed().unwrap_or(seed), Backend::Sqlite);
    }

    #[test]
    fn devices_converge_whatever_happens_on_postgres(seed in any::<u64>()) {
        run_blocking(fixed_seed().unwrap_or(seed), Backend::Postgres);
    }
}

fn fixed_seed() -> Option<u64> {
    std::env::var("APISYNC_CONVERGENCE_SEED").ok().and_then(|v| v.parse::<u64>().ok())
}

/// Seeds that once failed, replayed on every run. 17196409239523649388: two
/// devices both kept their edit over one delete; the second restore was
/// refused because the first had already brought the document back.
const ONCE_FAILED: &[u64] = &[17_196_409_239_523_649_388];

#[test]
fn seeds_that_once_failed_converge() {
    for &seed in ONCE_FAILED {
        run_blocking(seed, Backend::Sqlite);
        run_blocking(seed, Backend::Postgres);
    }
}
