//! How a failed command ends: an exit code a script can branch on, and the
//! error on stderr (as `{"error":{"code","message"}}` under `--json`).
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | any other failure (a file, the local database, a bug) |
//! | 2 | usage: wrong arguments or an invalid value; nothing was changed |
//! | 3 | this device is not signed in, or its session ended |
//! | 4 | offline, or the server could not be reached (or its certificate is not trusted) |
//! | 5 | conflicts, unsynced changes or a mirrored file that cannot be read stand in the way |
//! | 6 | the server refused (wrong password, not allowed, a limit) |
//! | 7 | no such document, workspace, team or conflict |

use client::ClientError;
use protocol::ErrorCode;
use std::process::ExitCode;

/// A failure the CLI itself finds, before the device library is asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The arguments do not say what to do.
    #[error("{0}")]
    Usage(String),
    /// Nothing has the id or name given.
    #[error("{0}")]
    NotFound(String),
    /// A mirrored file cannot be read (invalid YAML, merge-conflict markers); nothing was applied.
    #[error("{0}")]
    Unreadable(String),
}

/// A usage error: `return Err(usage(...))`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    CliError::Usage(message.into()).into()
}

/// What the exit code and the JSON `code` say about one failure.
struct Verdict {
    exit: u8,
    code: &'static str,
}

fn verdict(err: &anyhow::Error) -> Verdict {
    let v = |exit, code| Verdict { exit, code };
    if let Some(e) = err.downcast_ref::<CliError>() {
        return match e {
            CliError::Usage(_) => v(2, "usage"),
            CliError::NotFound(_) => v(7, "not_found"),
            CliError::Unreadable(_) => v(5, "unreadable_file"),
        };
    }
    if err.downcast_ref::<crate::sending::run_cli::RunFailed>().is_some() {
        return v(1, "run_failed");
    }
    if err.downcast_ref::<runner::SendError>().is_some() {
        return v(1, "send_failed");
    }
    if err.downcast_ref::<runner::PrepareError>().is_some() {
        return v(2, "usage");
    }
    let Some(e) = err.downcast_ref::<ClientError>() else { return v(1, "error") };
    match e {
        ClientError::Invalid(_) | ClientError::Password(_) => v(2, "usage"),
        ClientError::NotFound(_) => v(7, "not_found"),
        ClientError::NotSignedIn => v(3, "not_signed_in"),
        ClientError::SessionRevoked { .. } => v(3, "session_revoked"),
        ClientError::AccountDeleted { .. } => v(3, "account_deleted"),
        ClientError::SessionEnded => v(3, "session_ended"),
        ClientError::EraseUnfinished => v(1, "erase_unfinished"),
        ClientError::Unreachable(_) => v(4, "unreachable"),
        ClientError::Untrusted(_) => v(4, "untrusted_certificate"),
        ClientError::UnsyncedChanges(_) | ClientError::OtherAccount { .. } => v(5, "unsynced_changes"),
        ClientError::UnresolvedConflicts(_) => v(5, "unresolved_conflicts"),
        ClientError::DeviceLimit { .. } => v(6, "device_limit"),
        ClientError::Api(a) => match a.code {
            ErrorCode::NotFound => v(7, "not_found"),
            ErrorCode::Unauthorized | ErrorCode::SessionExpired | ErrorCode::SessionRevoked | ErrorCode::AccountDeleted => {
                v(3, a.code.as_str())
            }
            ErrorCode::Unavailable => v(4, "unavailable"),
            ErrorCode::Internal | ErrorCode::Unknown => v(1, a.code.as_str()),
            code => v(6, code.as_str()),
        },
        ClientError::Protocol(_) => v(1, "protocol"),
        ClientError::Store(_) | ClientError::Io(_) => v(1, "local"),
        ClientError::SchemaTooNew { .. } => v(1, "schema_too_new"),
    }
}

/// Prints `err` on stderr (as JSON when `json`) and gives its exit code.
pub fn report(err: &anyhow::Error, json: bool) -> ExitCode {
    let Verdict { exit, code } = verdict(err);
    if json {
        let body = serde_json::json!({ "error": { "code": code, "message": format!("{err:#}") } });
        eprintln!("{body}");
    } else {
        eprintln!("error: {err:#}");
    }
    ExitCode::from(exit)
}

/// Ends a command line clap could not parse: JSON under `--json`, else clap's
/// own text; help and `--version` are not failures.
pub fn parse_failure(e: clap::Error, json: bool) -> ExitCode {
    use clap::error::ErrorKind;
    let quiet =
        matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand);
    if !json || quiet {
        // clap prints to stdout or stderr as fits, colouring only a terminal.
        let _ = e.print();
        return ExitCode::from(if quiet && e.kind() != ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand { 0 } else { 2 });
    }
    let message = e.render().to_string();
    // The first line names what is wrong; the rest is usage help for people.
    let first = message.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
    eprintln!("{}", serde_json::json!({ "error": { "code": "usage", "message": first } }));
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::ApiError;

    fn exit_of(e: impl Into<anyhow::Error>) -> (u8, &'static str) {
        let v = verdict(&e.into());
        (v.exit, v.code)
    }

    #[test]
    fn each_kind_of_failure_has_its_exit_code() {
        assert_eq!(exit_of(CliError::Usage("x".into())), (2, "usage"));
        assert_eq!(exit_of(ClientError::NotSignedIn), (3, "not_signed_in"));
        assert_eq!(exit_of(ClientError::Unreachable("x".into())), (4, "unreachable"));
        assert_eq!(exit_of(ClientError::UnsyncedChanges(2)), (5, "unsynced_changes"));
        assert_eq!(
            exit_of(ClientError::Api(ApiError { code: ErrorCode::Forbidden, message: "no".into(), details: None })),
            (6, "forbidden")
        );
        assert_eq!(exit_of(ClientError::NotFound("x".into())), (7, "not_found"));
        assert_eq!(exit_of(anyhow::anyhow!("disk full")), (1, "error"));
    }

    #[test]
    fn context_does_not_hide_the_kind() {
        let e = anyhow::Error::from(ClientError::NotSignedIn).context("while syncing");
        assert_eq!(verdict(&e).exit, 3);
    }
}
