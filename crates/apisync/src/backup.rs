//! `apisync backup`: copies a server's embedded database to a file, safely
//! while the server runs.

use clap::Args;
use std::path::PathBuf;

/// Options of `apisync backup`.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The server's data directory, as given to `serve --data-dir`
    /// [default: the same as serve's].
    #[arg(long, env = "APISYNC_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// The file to write: a complete SQLite database, checked before it is
    /// put in place.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,

    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

/// Writes the backup and says what it wrote.
pub fn run(args: BackupArgs) -> anyhow::Result<()> {
    let dir = match args.data_dir {
        Some(d) => d,
        None => crate::serve::default_data_dir()?,
    };
    let r = server::store::backup::sqlite_backup(&dir, &args.output, args.force)?;
    println!(
        "backed up {} to {}: {:.1} MiB ({} pages; {} documents in {} workspaces of {} accounts), quick_check ok, in {:.1} s",
        r.source.display(),
        r.output.display(),
        r.bytes as f64 / (1024.0 * 1024.0),
        r.pages,
        r.documents,
        r.workspaces,
        r.users,
        r.elapsed.as_secs_f64()
    );
    Ok(())
}
