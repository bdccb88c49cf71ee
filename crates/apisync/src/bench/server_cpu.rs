//! Server CPU time per mutation beside its floor: the same rows the server
//! stored for a workspace, inserted by plain rusqlite into an empty
//! database of the same tables and indexes, in one transaction, with the
//! server's durability settings. No server does less than that.

use anyhow::{Context, bail};
use model::Id;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every
/// architecture apisync builds for.
const TICK: Duration = Duration::from_millis(10);

/// User plus system CPU time of process `pid`, all its threads, also those
/// that ended (`/proc/PID/stat`, fields 14 and 15).
pub(super) fn process_cpu(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("cannot read the server's CPU time (Linux /proc)")?;
    // The command name may hold spaces; the fields after it do not.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("unexpected /proc stat")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so fields 14 and 15 are at 11 and 12.
    let ticks: u64 = f
        .get(11)
        .and_then(|v| v.parse().ok())
        .zip(f.get(12).and_then(|v| v.parse().ok()))
        .map(|(u, s): (u64, u64)| u + s)
        .context("no CPU times in /proc stat")?;
    Ok(TICK * ticks as u32)
}

/// CPU time of the calling thread, to the nanosecond (`/proc/thread-self/schedstat`).
fn thread_cpu() -> anyhow::Result<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").context("cannot read this thread's CPU time (Linux /proc)")?;
    let ns: u64 = s.split_whitespace().next().and_then(|v| v.parse().ok()).context("unexpected schedstat")?;
    Ok(Duration::from_nanos(ns))
}

/// The floor: what inserting the rows took.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Floor {
    /// Mutations the rows stand for (the workspace's documents).
    pub mutations: usize,
    /// Rows inserted, over all tables.
    pub rows: usize,
    /// Tables copied.
    pub tables: Vec<String>,
    pub cpu_ms: f64,
    pub wall_ms: f64,
}

/// The tables whose rows a push writes for each mutation, those that exist.
const TABLES: [&str; 2] = ["docs", "mutations"];

/// Copies the rows of workspace `ws` from the server's database at `db`
/// (read-only; the server may keep running) into a fresh database of the
/// same schema, in one transaction, timed.
pub(super) fn raw_insert(db: &Path, ws: Id) -> anyhow::Result<Floor> {
    let src = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .with_context(|| format!("cannot open the server's database {}", db.display()))?;
    let mut copied = Vec::new();
    for table in TABLES {
        let ddl: Option<String> =
            src.query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0)).ok();
        let Some(ddl) = ddl else { continue };
        let mut q = src.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL")?;
        let indexes: Vec<String> = q.query_map([table], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut q = src.prepare(&format!("SELECT * FROM {table} WHERE workspace_id = ?1"))?;
        let width = q.column_count();
        let rows: Vec<Vec<Value>> =
            q.query_map([ws.to_string()], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())?.collect::<Result<_, _>>()?;
        copied.push((table, ddl, indexes, width, rows));
    }
    let mutations = copied.iter().find(|c| c.0 == "docs").map_or(0, |c| c.4.len());
    if mutations == 0 {
        bail!("the server's database holds no rows of workspace {ws}");
    }
    let dir = tempfile::tempdir()?;
    let mut dst = Connection::open(dir.path().join("floor.db"))?;
    // As durable as the server's database (store/sqlite: WAL, FULL); the
    // tables they reference are not copied, so no foreign-key checks (the
    // bundled SQLite turns them on by default).
    dst.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;")?;
    for (_, ddl, indexes, _, _) in &copied {
        dst.execute_batch(ddl)?;
        for i in indexes {
            dst.execute_batch(i)?;
        }
    }
    let cpu = thread_cpu()?;
    let start = Instant::now();
    let tx = dst.transaction()?;
    let mut rows = 0;
    for (table, _, _, width, data) in &copied {
        let marks = vec!["?"; *width].join(", ");
        let mut stmt = tx.prepare(&format!("INSERT INTO {table} VALUES ({marks})"))?;
        for row in data {
            stmt.execute(rusqlite::params_from_iter(row.iter()))?;
            rows += 1;
        }
    }
    tx.commit()?;
    let wall = start.elapsed();
    let cpu = thread_cpu()?.saturating_sub(cpu);
    Ok(Floor {
        mutations,
        rows,
        tables: copied.iter().map(|c| c.0.to_string()).collect(),
        cpu_ms: cpu.as_secs_f64() * 1000.0,
        wall_ms: wall.as_secs_f64() * 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_time_counts_what_this_thread_spent() {
        let (thread0, process0) = (thread_cpu().unwrap(), process_cpu(std::process::id()).unwrap());
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut x = 0u64;
        while thread_cpu().unwrap() - thread0 < Duration::from_millis(60) {
            assert!(Instant::now() < deadline, "this thread's CPU time did not reach 60 ms in 10 s");
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        // The process's figure counts in 10 ms ticks.
        let spent = process_cpu(std::process::id()).unwrap() - process0;
        assert!(spent >= Duration::from_millis(40), "the process's CPU time moved {spent:?} while this thread spent 60 ms");
    }

    #[test]
    fn the_floor_copies_a_workspace_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("apisync.db");
        let c = Connection::open(&db).unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys=OFF;
             CREATE TABLE workspaces (id TEXT PRIMARY KEY);
             CREATE TABLE docs (id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL REFERENCES workspaces(id), fields TEXT NOT NULL);
             CREATE INDEX docs_ws ON docs (workspace_id);
             CREATE TABLE mutations (workspace_id TEXT NOT NULL, mutation_id TEXT NOT NULL, PRIMARY KEY (workspace_id, mutation_id)) WITHOUT ROWID;",
        )
        .unwrap();
        let (ws, other) = (Id::now_v7(), Id::now_v7());
        for i in 0..5 {
            c.execute("INSERT INTO docs VALUES (?1, ?2, '{}')", (format!("d{i}"), ws.to_string())).unwrap();
            c.execute("INSERT INTO mutations VALUES (?1, ?2)", (ws.to_string(), format!("m{i}"))).unwrap();
        }
        c.execute("INSERT INTO docs VALUES ('x', ?1, '{}')", [other.to_string()]).unwrap();
        let f = raw_insert(&db, ws).unwrap();
        assert_eq!((f.mutations, f.rows), (5, 10));
        assert_eq!(f.tables, ["docs", "mutations"]);
        assert!(raw_insert(&db, Id::now_v7()).is_err());
    }
}
