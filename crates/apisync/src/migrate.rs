//! `apisync migrate`: moves an installation from the embedded SQLite store
//! to PostgreSQL.

use anyhow::Context;
use clap::Args;
use server::Secret;
use std::path::PathBuf;

/// Options of `apisync migrate`.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The SQLite installation: `sqlite://DIR` or DIR, the server's --data-dir.
    #[arg(long, value_name = "sqlite://DIR")]
    from: String,
    /// The PostgreSQL database to fill; it must hold no apisync data yet.
    #[arg(long, value_name = "postgres://...")]
    to: Secret,
}

/// Copies everything and prints how much of each table moved.
pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let dir = PathBuf::from(args.from.strip_prefix("sqlite://").unwrap_or(&args.from));
    let url = args.to.expose();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        anyhow::bail!("--to must be a postgres:// URL");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime
        .block_on(server::store::copy::sqlite_to_postgres(&dir, url))
        .with_context(|| format!("migrating {} to {} failed; nothing was written to PostgreSQL", dir.display(), args.to))?;
    for (table, rows) in &report.tables {
        println!("{table:<12} {rows:>10} rows");
    }
    println!("done: start the server with --database-url {} (changes made to the SQLite store after this copy are not in it)", args.to);
    Ok(())
}
