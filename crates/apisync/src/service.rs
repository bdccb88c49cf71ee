//! `apisync service install|uninstall`: background sync as a systemd user
//! service, so a profile stays in sync from login to logout, as Postman's
//! app does while it runs.

use crate::Globals;
use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `apisync service`
#[derive(Subcommand)]
pub enum ServiceCmd {
    /// Write a systemd user unit running `apisync sync --watch` for this
    /// profile, then enable and start it (unless --no-start).
    Install {
        /// Only write the unit; start it yourself with `systemctl --user enable --now apisync-sync`.
        #[arg(long)]
        no_start: bool,
    },
    /// Stop and disable the unit, then remove it.
    Uninstall,
}

const UNIT: &str = "apisync-sync.service";

/// Where systemd looks for the user's own units.
fn unit_path() -> anyhow::Result<PathBuf> {
    let dirs = directories::BaseDirs::new().context("cannot find a home directory for the unit: set HOME")?;
    Ok(dirs.config_dir().join("systemd/user").join(UNIT))
}

/// A systemd argument: quoted, with `\`, `"`, `%` and `$` escaped.
fn quoted(p: &Path) -> String {
    let s = p.display().to_string().replace('\\', "\\\\").replace('"', "\\\"").replace('%', "%%").replace('$', "$$");
    format!("\"{s}\"")
}

/// The unit's text: the watcher restarts after any exit, and waits out
/// sign-outs by itself.
pub fn unit(exe: &Path, profile: &Path) -> String {
    format!(
        "[Unit]\n\
         Description=apisync: keep this profile's workspaces in sync\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         ExecStart={} --profile {} sync --watch\n\
         Restart=always\n\
         RestartSec=5\n\
         Environment=NO_COLOR=1\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        quoted(exe),
        quoted(profile)
    )
}

fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .status()
        .context("cannot run systemctl; pass --no-start and start the unit your own way")?;
    anyhow::ensure!(status.success(), "`systemctl --user {}` failed ({status})", args.join(" "));
    Ok(())
}

pub fn service(g: &Globals, c: ServiceCmd) -> anyhow::Result<()> {
    let path = unit_path()?;
    match c {
        ServiceCmd::Install { no_start } => {
            let exe = std::env::current_exe().context("cannot find the apisync binary")?;
            let profile = match &g.profile {
                Some(p) => std::path::absolute(p)?,
                None => client::default_dir()?,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            std::fs::write(&path, unit(&exe, &profile)).with_context(|| format!("cannot write {}", path.display()))?;
            if !no_start {
                systemctl(&["daemon-reload"])?;
                systemctl(&["enable", "--now", UNIT])?;
            }
            report(g, &path, "installed", !no_start)
        }
        ServiceCmd::Uninstall => {
            if path.exists() {
                // A unit that never ran cannot be stopped; removing it is what counts.
                let _ = systemctl(&["disable", "--now", UNIT]);
                std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
                let _ = systemctl(&["daemon-reload"]);
            }
            report(g, &path, "uninstalled", false)
        }
    }
}

fn report(g: &Globals, path: &Path, what: &str, started: bool) -> anyhow::Result<()> {
    if g.json {
        return crate::output::json(&serde_json::json!({ "service": what, "unit": path, "started": started }));
    }
    println!("{what} {}", path.display());
    if what == "installed" {
        println!(
            "{}; `journalctl --user -u {UNIT}` shows what it does",
            if started { "running now and at every login" } else { "start it with `systemctl --user enable --now apisync-sync`" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_quotes_paths_and_restarts() {
        let u = unit(Path::new("/opt/api sync/apisync"), Path::new("/home/a/100%"));
        assert!(u.contains("ExecStart=\"/opt/api sync/apisync\" --profile \"/home/a/100%%\" sync --watch"), "{u}");
        assert!(u.contains("Restart=always"));
    }
}
