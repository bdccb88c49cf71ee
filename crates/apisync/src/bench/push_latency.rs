//! Push latency as a workspace grows: one server, two workspaces of one
//! account, one holding 1,000 requests and the other 1,000,000 (100,000
//! with `--quick`), filled by big pushes (2,000 mutations each, two in
//! flight). Then one-mutation pushes (a set of one field of a request, as a
//! device sends an edit) into each, in alternating rounds so whatever else
//! the machine does slows both alike. The cost must not grow with the
//! workspace.

use super::figures::PushLatency;
use super::{Account, ChildServer, applied, collection, fields, percentile, seed, workspace};
use model::{Id, Mutation, Op};
use serde_json::json;
use std::time::{Duration, Instant};

const SMALL: usize = 1_000;
/// Mutations per seeding push.
const BATCH: usize = 2_000;
/// Longest the filling may take; the figure then says how far it got.
const SEED_LIMIT: Duration = Duration::from_secs(900);
const WARM_UP: usize = 50;
const ROUNDS: usize = 50;

struct Target {
    ws: Id,
    doc: Id,
    version: u64,
    took: Vec<Duration>,
}

impl Target {
    async fn new(me: &Account, base: &str, name: &str, n: usize) -> anyhow::Result<(Target, usize)> {
        let ws = workspace(name);
        let col = collection(name);
        let ws_id = ws.doc_id;
        applied(&me.push(ws_id, vec![ws, col.clone()]).await?)?;
        let pushed = seed(base, &me.session.token, ws_id, col.doc_id, n, BATCH, Instant::now() + SEED_LIMIT).await?;
        // The first request the workspace took.
        let first = me.t.changes(ws_id, 0, 3, false).await?;
        let doc = first.docs.iter().find(|d| d.kind == model::Kind::Request);
        let doc = doc.ok_or_else(|| anyhow::anyhow!("no request in workspace {name}"))?;
        Ok((Target { ws: ws_id, doc: doc.id, version: doc.version, took: Vec::new() }, pushed + 2))
    }

    async fn measure(&mut self, me: &Account, n: usize, keep: bool) -> anyhow::Result<()> {
        for i in 0..n {
            let m = Mutation {
                mutation_id: Id::now_v7(),
                doc_id: self.doc,
                base_version: self.version,
                op: Op::Set { fields: fields(json!({ "description": format!("edit {i} at {:?}", Instant::now()) })) },
            };
            let start = Instant::now();
            let r = me.push(self.ws, vec![m]).await?;
            let took = start.elapsed();
            self.version = applied(&r)?[0];
            if keep {
                self.took.push(took);
            }
        }
        Ok(())
    }
}

pub(super) async fn run(big: usize, samples: usize, quick: bool) -> anyhow::Result<PushLatency> {
    let server = ChildServer::spawn()?;
    let me = Account::signup(&server.base, "bench-push-latency").await?;
    let (mut small, small_docs) = Target::new(&me, &server.base, "Small", SMALL).await?;
    let start = Instant::now();
    let (mut large, big_docs) = Target::new(&me, &server.base, "Big", big).await?;
    let seed_seconds = start.elapsed().as_secs_f64();
    let seeded = format!(
        "{big_docs} documents pushed in batches of {BATCH} (two pushes in flight) in {seed_seconds:.0} s{}{}",
        if big_docs < big { " — the fill stopped at its time limit" } else { "" },
        if quick { " (--quick: 100,000, not 1,000,000)" } else { "" }
    );
    println!("push latency: {seeded}");
    for t in [&mut small, &mut large] {
        t.measure(&me, WARM_UP, false).await?;
    }
    for round in 0..ROUNDS {
        let k = samples * (round + 1) / ROUNDS - samples * round / ROUNDS;
        let order = if round % 2 == 0 { [&mut small, &mut large] } else { [&mut large, &mut small] };
        for t in order {
            t.measure(&me, k, true).await?;
        }
    }
    small.took.sort();
    large.took.sort();
    let ms = |l: &[Duration], p| percentile(l, p).as_secs_f64() * 1000.0;
    let p = PushLatency {
        small_documents: small_docs,
        big_documents: big_docs,
        seeded,
        seed_seconds,
        samples: small.took.len(),
        small_p50_ms: ms(&small.took, 0.50),
        small_p99_ms: ms(&small.took, 0.99),
        big_p50_ms: ms(&large.took, 0.50),
        big_p99_ms: ms(&large.took, 0.99),
    };
    println!(
        "push latency, one-mutation push ({} samples each): {} documents p50 {:.2} ms p99 {:.2} ms; {} documents p50 {:.2} ms p99 {:.2} ms",
        p.samples, p.small_documents, p.small_p50_ms, p.small_p99_ms, p.big_documents, p.big_p50_ms, p.big_p99_ms
    );
    Ok(p)
}
