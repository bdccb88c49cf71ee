//! Push latency on PostgreSQL as the server fills with other people's
//! documents: a push into a small workspace must cost the same whatever
//! the rest of the server holds. It once did not: a one-mutation push took
//! 2.4 ms with 1,000 documents on the server and 10–210 ms with 300,000.
//!
//! Two server processes, each on a throwaway database: one holding about
//! 1,000 documents, the other a million (other accounts' workspaces of 100
//! documents, written straight in SQL, then analyzed as the server's own
//! analyzer would have done had they come through pushes). In each, a small
//! workspace, and the latency of two kinds of push into it: a set of one
//! field, and the delete of a folder of five requests. The two are measured
//! in alternating rounds rather than one after the other, so whatever else
//! the machine is doing meanwhile slows both alike.

use super::{Account, ChildServer, Report, applied, collection, fields, ms, percentile};
use model::{Id, Kind, Mutation, Op};
use serde_json::json;
use std::time::{Duration, Instant};

/// Documents on the small server.
const SMALL_SERVER: u64 = 1_000;

/// Folders and requests per folder in each measured workspace.
const FOLDERS: usize = 4;
const REQUESTS: usize = 8;

/// Requests in each folder a measured push deletes.
const DOOMED: usize = 5;

/// Pushes of each kind sent before measuring, unmeasured.
const WARM_UP: usize = 50;

/// Rounds the measurements alternate in.
const ROUNDS: usize = 250;

fn create(kind: Kind, parent: Id, f: serde_json::Value) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create { kind, parent_id: Some(parent), order_key: Some("V".into()), fields: fields(f) },
    }
}

/// A new workspace with a collection of [`FOLDERS`] folders of [`REQUESTS`]
/// requests; the requests with their versions, and the collection.
async fn small_workspace(me: &Account) -> anyhow::Result<(Id, Id, Vec<(Id, u64)>)> {
    let ws = Id::now_v7();
    let mut batch = vec![Mutation {
        mutation_id: Id::now_v7(),
        doc_id: ws,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({"name": "Latency"})) },
    }];
    let col = collection("Latency");
    let col_id = col.doc_id;
    batch.push(col);
    let mut requests = Vec::new();
    for f in 0..FOLDERS {
        let folder = create(Kind::Folder, col_id, json!({"name": format!("Folder {f}")}));
        let folder_id = folder.doc_id;
        batch.push(folder);
        for r in 0..REQUESTS {
            let m = create(
                Kind::Request,
                folder_id,
                json!({"name": format!("Request {f}.{r}"), "method": "GET", "url": "https://example.com/orders"}),
            );
            requests.push(batch.len());
            batch.push(m);
        }
    }
    let versions = applied(&me.push(ws, batch.clone()).await?)?;
    Ok((ws, col_id, requests.into_iter().map(|i| (batch[i].doc_id, versions[i])).collect()))
}

/// One server and the small workspace measured in it.
struct Target {
    me: Account,
    ws: Id,
    collection: Id,
    /// Its requests and their versions.
    requests: Vec<(Id, u64)>,
    /// Documents on the server before measuring.
    documents: u64,
    set: Vec<Duration>,
    delete: Vec<Duration>,
    pushes: usize,
    _server: ChildServer,
    /// Dropped (and with it the database) after the server.
    _db: scratchdb::TestDb,
}

impl Target {
    /// A server on a new database at `url`'s server holding `documents`
    /// documents, with a small workspace to measure in.
    async fn new(url: &str, documents: u64) -> anyhow::Result<Target> {
        let db = scratchdb::TestDb::create(url).await?;
        let server = ChildServer::spawn_on(Some(&db.url))?;
        let me = Account::signup(&server.base, "bench-latency").await?;
        let (ws, collection, requests) = small_workspace(&me).await?;
        let have = scratchdb::crowd::documents(&db.url).await?;
        let start = Instant::now();
        let crowd = scratchdb::crowd::fill(&db.url, documents.saturating_sub(have)).await?;
        println!(
            "  {} documents in {} workspaces of other accounts written in {:.0} s",
            crowd.docs,
            crowd.workspaces,
            start.elapsed().as_secs_f64()
        );
        let documents = scratchdb::crowd::documents(&db.url).await?;
        // Statistics as the server's own analyzer keeps them; then a
        // checkpoint, so the rounds do not run while the fill is written back.
        if !scratchdb::crowd::settle(&db.url).await? {
            println!("  (not allowed to CHECKPOINT: the first rounds may run while the fill is written back)");
        }
        // A server started now finds fresh statistics, as one that had run
        // all along would have kept them, and sees no reason to analyze.
        drop(server);
        let server = ChildServer::spawn_on(Some(&db.url))?;
        // The same session, through the new process.
        let me = Account {
            t: client::Transport::new(&server.base, Some(me.session.token.clone()), client::Timeouts::NORMAL, None)?,
            session: me.session,
        };
        Ok(Target { me, ws, collection, requests, documents, set: Vec::new(), delete: Vec::new(), pushes: 0, _server: server, _db: db })
    }

    /// Times `sets` one-field sets and `deletes` folder deletes (each folder
    /// made by an unmeasured push just before); with `keep` false, only runs them.
    async fn measure(&mut self, sets: usize, deletes: usize, keep: bool) -> anyhow::Result<()> {
        for _ in 0..sets {
            let k = self.pushes % self.requests.len();
            self.pushes += 1;
            let (doc, base) = self.requests[k];
            let m = Mutation {
                mutation_id: Id::now_v7(),
                doc_id: doc,
                base_version: base,
                op: Op::Set { fields: fields(json!({"description": format!("edit {}", self.pushes)})) },
            };
            let start = Instant::now();
            let r = self.me.push(self.ws, vec![m]).await?;
            let took = start.elapsed();
            self.requests[k].1 = applied(&r)?[0];
            if keep {
                self.set.push(took);
            }
        }
        for i in 0..deletes {
            let folder = create(Kind::Folder, self.collection, json!({"name": format!("Doomed {i}")}));
            let mut batch = vec![folder.clone()];
            batch
                .extend((0..DOOMED).map(|r| {
                    create(Kind::Request, folder.doc_id, json!({"name": format!("Doomed {i}.{r}"), "method": "GET", "url": "u"}))
                }));
            let made = applied(&self.me.push(self.ws, batch).await?)?;
            let m = Mutation { mutation_id: Id::now_v7(), doc_id: folder.doc_id, base_version: made[0], op: Op::Delete };
            let start = Instant::now();
            let r = self.me.push(self.ws, vec![m]).await?;
            let took = start.elapsed();
            applied(&r)?;
            if keep {
                self.delete.push(took);
            }
        }
        Ok(())
    }
}

fn line(what: &str, docs: u64, l: &[Duration]) {
    println!("  {what} with {docs} documents on the server: p50 {}, p99 {}", ms(percentile(l, 0.50)), ms(percentile(l, 0.99)));
}

/// Measures on two throwaway databases at `url`'s server, the second
/// holding `documents` documents.
pub(super) async fn run(url: &str, documents: u64, samples: usize, report: &mut Report) -> anyhow::Result<()> {
    let (sets, deletes) = (samples, samples.div_ceil(4));
    println!(
        "PostgreSQL push latency into a small workspace: {sets} sets and {deletes} folder deletes on a server with {SMALL_SERVER} documents and on one with {documents}"
    );
    let mut small = Target::new(url, SMALL_SERVER).await?;
    let mut big = Target::new(url, documents).await?;
    for t in [&mut small, &mut big] {
        t.measure(WARM_UP, WARM_UP / 5, false).await?;
    }
    for round in 0..ROUNDS {
        let (s, d) = (sets * (round + 1) / ROUNDS - sets * round / ROUNDS, deletes * (round + 1) / ROUNDS - deletes * round / ROUNDS);
        // Each goes first every other round.
        let order = if round % 2 == 0 { [&mut small, &mut big] } else { [&mut big, &mut small] };
        for t in order {
            t.measure(s, d, true).await?;
        }
    }
    for t in [&mut small, &mut big] {
        t.set.sort();
        t.delete.sort();
    }
    for (what, a, b) in [("one-mutation push", &small.set, &big.set), ("folder-delete push", &small.delete, &big.delete)] {
        line(what, small.documents, a);
        line(what, big.documents, b);
        for (p, name) in [(0.50, "p50"), (0.99, "p99")] {
            let ratio = percentile(b, p).as_secs_f64() / percentile(a, p).as_secs_f64().max(1e-9);
            report.row(&format!("PostgreSQL {what} {name}, crowded / small"), format!("{ratio:.2}x"), "<= 1.5x", ratio <= 1.5);
        }
    }
    Ok(())
}
