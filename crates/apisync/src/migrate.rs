//! `apisync migrate`: moves an installation from the embedded SQLite store
//! to PostgreSQL.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// Options of `apisync migrate`.
#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The SQLite installation: `sqlite://DIR` or DIR, the server's --data-dir.
    #[arg(long, value_name = "sqlite://DIR")]
    from: String,
    /// The PostgreSQL database to fill; it must hold no apisync data yet.
    #[arg(long, value_name = "postgres://...")]
    to: String,
}

/// Copies everything and prints how much of each table moved.
pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let dir = PathBuf::from(args.from.strip_prefix("sqlite://").unwrap_or(&args.from));
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        anyhow::bail!("--to must be a postgres:// URL");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(server::store::copy::sqlite_to_postgres(&dir, &args.to)).with_context(|| {
        format!("migrating {} to {} failed; nothing was written to PostgreSQL", dir.display(), crate::serve::redact(&args.to))
    })?;
    for (table, rows) in &report.tables {
        println!("{table:<12} {rows:>10} rows");
    }
    println!(
        "done: start the server with --database-url {} (changes made to the SQLite store after this copy are not in it)",
        crate::serve::redact(&args.to)
    );
    Ok(())
}
