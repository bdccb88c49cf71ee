//! `serve --config FILE` (or APISYNC_CONFIG): a TOML file whose keys are
//! `serve`'s long option names (`addr = "0.0.0.0:8080"`,
//! `trusted-proxy = ["10.0.0.0/8"]`, `no-web = true`). The command line wins
//! over an APISYNC_* variable, which wins over the file, which wins over the
//! default: each key of the file that neither of the first two gave becomes
//! `--key=value` on the command line, which clap then parses and checks as
//! if typed. Every option of [`ServeArgs`], present and future, is settable
//! so, with no list to keep.

use crate::serve::ServeArgs;
use anyhow::{Context, bail};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args};
use std::ffi::OsString;
use std::path::Path;

/// `serve`'s own options, as the file may name them.
fn serve_command() -> clap::Command {
    ServeArgs::augment_args(clap::Command::new("serve"))
}

/// The keys a file may hold: every long option but `--config` itself.
pub fn keys() -> Vec<String> {
    serve_command()
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|long| *long != "config" && *long != "help")
        .map(str::to_string)
        .collect()
}

/// With a `serve --config FILE`, `matches` parsed again with the file's
/// settings added; otherwise `matches` as they are. `argv` is the command
/// line `matches` came from.
pub fn apply(matches: ArgMatches, argv: Vec<OsString>) -> anyhow::Result<ArgMatches> {
    let Some(("serve", given)) = matches.subcommand() else { return Ok(matches) };
    let Some(file) = given.get_one::<std::path::PathBuf>("config").filter(|f| !f.as_os_str().is_empty()) else {
        return Ok(matches);
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read the config file {}", file.display()))?;
    let extra = from_file(&text, file, given)?;
    if extra.is_empty() {
        return Ok(matches);
    }
    // Appended, they land in `serve`, the last verb on the line.
    let argv: Vec<OsString> = argv.into_iter().chain(extra).collect();
    crate::command().try_get_matches_from(argv).map_err(|e| anyhow::anyhow!("{}: {}", file.display(), first_line(&e)))
}

/// clap's message without its `error: ` prefix, usage and tip.
fn first_line(e: &clap::Error) -> String {
    let text = e.to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// The options `text` (the file at `file`) adds to a command line that
/// gave `given`: `--key=value` for each key neither the command line nor
/// the environment set.
fn from_file(text: &str, file: &Path, given: &ArgMatches) -> anyhow::Result<Vec<OsString>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| anyhow::anyhow!("{} is not valid TOML: {e}", file.display()))?;
    let command = serve_command();
    let mut extra = Vec::new();
    for (key, value) in &table {
        let Some(arg) = command.get_arguments().find(|a| a.get_long() == Some(key.as_str()) && key != "config") else {
            bail!("{}: unknown setting `{key}`; the settings are serve's long option names: {}", file.display(), keys().join(", "));
        };
        let id = arg.get_id().as_str();
        if matches!(given.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable)) {
            continue;
        }
        let args = as_args(key, arg.get_action(), value).map_err(|why| anyhow::anyhow!("{}: `{key}`: {why}", file.display()))?;
        // Checked alone first, so a bad value is blamed on its key.
        let alone = std::iter::once(OsString::from("serve")).chain(args.iter().cloned());
        if let Err(e) = serve_command().try_get_matches_from(alone) {
            bail!("{}: `{key}`: {}", file.display(), first_line(&e));
        }
        extra.extend(args);
    }
    Ok(extra)
}

/// One setting as command-line options.
fn as_args(key: &str, action: &ArgAction, value: &toml::Value) -> Result<Vec<OsString>, String> {
    use toml::Value;
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(n) => Ok(n.to_string()),
        Value::Float(x) => Ok(x.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!("takes a string, a number or true/false, not {}", v.type_str())),
    };
    match (action, value) {
        (ArgAction::SetTrue, Value::Boolean(true)) => Ok(vec![format!("--{key}").into()]),
        (ArgAction::SetTrue, Value::Boolean(false)) => Ok(vec![]),
        (ArgAction::SetTrue, other) => Err(format!("is a switch: write true or false, not {}", other.type_str())),
        (ArgAction::Append, Value::Array(items)) => items.iter().map(|v| one(v).map(|v| format!("--{key}={v}").into())).collect(),
        (_, Value::Array(_)) => Err("takes one value, not a list".into()),
        (_, v) => Ok(vec![format!("--{key}={}", one(v)?).into()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../docs/apisync.example.toml");

    /// The keys of `key = value` lines, commented out or not.
    fn example_keys() -> Vec<String> {
        EXAMPLE
            .lines()
            .filter_map(|l| l.trim_start_matches('#').trim().split_once(" = "))
            .map(|(k, _)| k.trim().to_string())
            .filter(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .collect()
    }

    #[test]
    fn the_example_lists_every_option_with_its_variable_and_parses() {
        let mut want = keys();
        let mut have = example_keys();
        want.sort();
        have.sort();
        assert_eq!(have, want, "docs/apisync.example.toml must list exactly serve's options (besides --config), each once");
        for arg in serve_command().get_arguments().filter(|a| a.get_long().is_some_and(|l| l != "help")) {
            let var = arg.get_env().and_then(|v| v.to_str()).unwrap_or_else(|| panic!("--{:?} has no APISYNC_* variable", arg.get_long()));
            assert!(EXAMPLE.contains(var), "docs/apisync.example.toml does not name {var}");
        }
        // Every example value, uncommented, is one serve accepts.
        let uncommented: String = EXAMPLE
            .lines()
            .map(|l| match l.strip_prefix("# ").filter(|rest| rest.split_once(" = ").is_some_and(|(k, _)| want.contains(&k.to_string()))) {
                Some(setting) => setting,
                None => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let nothing = serve_command().get_matches_from(["serve"]);
        let extra = from_file(&uncommented, Path::new("example.toml"), &nothing).unwrap();
        assert!(extra.len() >= want.len() - 1, "{extra:?}");
        serve_command().try_get_matches_from(std::iter::once(OsString::from("serve")).chain(extra)).unwrap();
    }

    #[test]
    fn settings_become_options_and_mistakes_name_their_key() {
        let nothing = serve_command().get_matches_from(["serve"]);
        let file = Path::new("apisync.toml");
        let args = |text: &str| from_file(text, file, &nothing);
        let got = args("addr = \"0.0.0.0:9\"\nno-web = true\ntrusted-proxy = [\"10.0.0.0/8\", \"::1\"]\nmax-connections = 7\n").unwrap();
        let got: Vec<_> = got.iter().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(
            got,
            ["--addr=0.0.0.0:9", "--max-connections=7", "--no-web", "--trusted-proxy=10.0.0.0/8", "--trusted-proxy=::1"],
            "one option per value, by key"
        );
        assert!(args("no-web = false\n").unwrap().is_empty());
        let e = args("adr = \"0.0.0.0:9\"\n").unwrap_err().to_string();
        assert!(e.contains("`adr`") && e.contains("addr, data-dir") && e.contains("apisync.toml"), "{e}");
        let e = args("config = \"other.toml\"\n").unwrap_err().to_string();
        assert!(e.contains("unknown setting `config`"), "{e}");
        let e = args("addr = \"nowhere\"\n").unwrap_err().to_string();
        assert!(e.contains("`addr`") && e.contains("nowhere"), "{e}");
        let e = args("addr = [\"a\", \"b\"]\n").unwrap_err().to_string();
        assert!(e.contains("not a list"), "{e}");
        let e = args("no-web = \"yes\"\n").unwrap_err().to_string();
        assert!(e.contains("true or false"), "{e}");
        let e = args("addr = \n").unwrap_err().to_string();
        assert!(e.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn the_command_line_and_the_environment_win_over_the_file() {
        let given = serve_command().get_matches_from(["serve", "--addr", "127.0.0.1:1"]);
        let got = from_file("addr = \"0.0.0.0:9\"\nidle-timeout = 5\n", Path::new("f"), &given).unwrap();
        assert_eq!(got, [OsString::from("--idle-timeout=5")]);
    }
}
