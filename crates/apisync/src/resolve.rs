//! `apisync resolve N`: one way to settle a conflict, field by field, with
//! a default side for the fields not named.

use crate::device::autosync;
use crate::exit::{CliError, usage};
use crate::{Globals, output};
use clap::Args;
use serde_json::json;

/// `apisync resolve` (also `apisync conflicts resolve`)
#[derive(Args)]
pub struct ResolveArgs {
    /// The conflict's number (see `apisync conflicts`).
    id: i64,
    /// Keep this device's value for every field not named with --field.
    #[arg(long, conflicts_with = "theirs")]
    mine: bool,
    /// Keep the server's value for every field not named with --field.
    #[arg(long)]
    theirs: bool,
    /// Choose one field's side: NAME=mine or NAME=theirs (repeatable). Fields
    /// not named take --mine or --theirs; without either, every field must be named.
    #[arg(long, value_name = "NAME=mine|theirs")]
    field: Vec<String>,
}

/// Which side each field of a conflict keeps, and whether a default decided it.
struct Choice {
    mine: Vec<String>,
    theirs: Vec<String>,
    default: Option<&'static str>,
}

/// Decides every field's side from the named ones and the default; nothing is
/// taken that the person did not choose.
fn choose(a: &ResolveArgs, fields: &[String]) -> anyhow::Result<Choice> {
    let default = if a.mine {
        Some("mine")
    } else if a.theirs {
        Some("theirs")
    } else {
        None
    };
    let mut named: Vec<(String, bool)> = Vec::new();
    for f in &a.field {
        let Some((name, side)) = f.split_once('=') else {
            return Err(usage(format!("'{f}' is not NAME=mine or NAME=theirs")));
        };
        let name = name.trim();
        if !fields.iter().any(|cf| cf == name) {
            return Err(usage(format!("conflict #{} has no field '{name}'; its fields are: {}", a.id, fields.join(", "))));
        }
        let mine = match side.trim() {
            "mine" => true,
            "theirs" => false,
            other => return Err(usage(format!("'{other}' is not a side: use {name}=mine or {name}=theirs"))),
        };
        named.push((name.to_string(), mine));
    }
    let mut choice = Choice { mine: vec![], theirs: vec![], default };
    let mut unnamed = Vec::new();
    for f in fields {
        let side = match named.iter().rev().find(|(n, _)| n == f) {
            Some((_, mine)) => Some(*mine),
            None => default.map(|d| d == "mine"),
        };
        match side {
            Some(true) => choice.mine.push(f.clone()),
            Some(false) => choice.theirs.push(f.clone()),
            None => unnamed.push(f.as_str()),
        }
    }
    if !unnamed.is_empty() {
        return Err(usage(format!(
            "say which side to keep for {}: add --field NAME=mine|theirs for each, or --mine or --theirs for every field not named",
            unnamed.iter().map(|f| format!("'{f}'")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(choice)
}

pub async fn resolve(g: &Globals, a: ResolveArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let Some(conflict) = device.conflicts()?.into_iter().find(|c| c.id == a.id) else {
        return Err(CliError::NotFound(format!("no conflict #{}; `apisync conflicts` lists them", a.id)).into());
    };
    let fields: Vec<String> = conflict.fields.iter().map(|f| f.field.clone()).collect();
    let choice = choose(&a, &fields)?;
    let (keep, only) = match (choice.mine.is_empty(), choice.theirs.is_empty()) {
        (true, _) => (client::Keep::Theirs, vec![]),
        (false, true) => (client::Keep::Mine, vec![]),
        (false, false) => (client::Keep::Mine, choice.mine.clone()),
    };
    device.resolve_conflict(a.id, keep, &only)?;
    if g.json.json {
        output::json(&json!({ "resolved": a.id, "mine": choice.mine, "theirs": choice.theirs, "default": choice.default }))?;
    } else {
        let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        println!("resolved conflict #{}: kept mine for {}; theirs for {}", a.id, list(&choice.mine), list(&choice.theirs));
        if let Some(d) = choice.default {
            println!("fields not named with --field kept {d} (--{d})");
        }
    }
    autosync(&mut device).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(mine: bool, theirs: bool, field: &[&str]) -> ResolveArgs {
        ResolveArgs { id: 1, mine, theirs, field: field.iter().map(|s| s.to_string()).collect() }
    }

    fn fields() -> Vec<String> {
        ["name", "url", "method"].map(String::from).to_vec()
    }

    #[test]
    fn unnamed_fields_take_the_default_chosen() {
        let c = choose(&args(false, true, &["name=mine"]), &fields()).unwrap();
        assert_eq!((c.mine, c.theirs), (vec!["name".to_string()], vec!["url".to_string(), "method".to_string()]));
        let c = choose(&args(true, false, &["url=theirs"]), &fields()).unwrap();
        assert_eq!((c.mine, c.theirs), (vec!["name".to_string(), "method".to_string()], vec!["url".to_string()]));
    }

    #[test]
    fn without_a_default_every_field_must_be_named() {
        let e = choose(&args(false, false, &["name=mine"]), &fields()).err().unwrap().to_string();
        assert!(e.contains("'url'") && e.contains("'method'") && e.contains("--theirs"), "{e}");
        assert!(choose(&args(false, false, &["name=mine", "url=theirs", "method=mine"]), &fields()).is_ok());
    }

    #[test]
    fn unknown_fields_and_sides_are_refused() {
        assert!(choose(&args(true, false, &["body=mine"]), &fields()).is_err());
        assert!(choose(&args(true, false, &["name=ours"]), &fields()).is_err());
        assert!(choose(&args(true, false, &["name"]), &fields()).is_err());
    }
}
