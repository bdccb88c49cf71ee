//! `apisync resolve N`: one way to settle a conflict, field by field, with
//! a default side for the fields not named. The app's resolve endpoint
//! (`app/conflicts_api.rs`) uses the same [`choose`] and [`apply`], so a
//! conflict settles the same way from either.

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

/// Which side each field of a conflict keeps.
#[derive(Debug, PartialEq)]
pub struct Choice {
    /// Fields that keep this device's value.
    pub mine: Vec<String>,
    /// Fields that keep the server's value.
    pub theirs: Vec<String>,
}

/// Why a choice could not be made; each caller words it for its own input
/// (CLI flags or the app's JSON).
#[derive(Debug, PartialEq)]
pub enum ChoiceError {
    /// A field the conflict does not have.
    UnknownField { name: String, fields: Vec<String> },
    /// A side other than `mine` or `theirs`.
    BadSide { name: String, side: String },
    /// Fields no choice and no default covers.
    Unchosen(Vec<String>),
}

/// Decides every field's side from the named ones (`(field, side)`, later
/// ones winning) and the default (`Some(true)`: mine); nothing is taken that
/// the person did not choose.
pub fn choose(fields: &[String], named: &[(String, String)], default: Option<bool>) -> Result<Choice, ChoiceError> {
    let mut sides: Vec<(&str, bool)> = Vec::new();
    for (name, side) in named {
        let name = name.trim();
        if !fields.iter().any(|cf| cf == name) {
            return Err(ChoiceError::UnknownField { name: name.to_string(), fields: fields.to_vec() });
        }
        let mine = match side.trim() {
            "mine" => true,
            "theirs" => false,
            other => return Err(ChoiceError::BadSide { name: name.to_string(), side: other.to_string() }),
        };
        sides.push((name, mine));
    }
    let mut choice = Choice { mine: vec![], theirs: vec![] };
    let mut unchosen = Vec::new();
    for f in fields {
        match sides.iter().rev().find(|(n, _)| n == f).map(|(_, m)| *m).or(default) {
            Some(true) => choice.mine.push(f.clone()),
            Some(false) => choice.theirs.push(f.clone()),
            None => unchosen.push(f.clone()),
        }
    }
    if !unchosen.is_empty() {
        return Err(ChoiceError::Unchosen(unchosen));
    }
    Ok(choice)
}

/// Applies a choice as ordinary edits: the fields kept "mine" are made again
/// (one new edit), the others keep the server's value; the entry is removed.
pub fn apply(device: &client::Device, id: i64, choice: &Choice) -> Result<(), client::ClientError> {
    let (keep, only) = match (choice.mine.is_empty(), choice.theirs.is_empty()) {
        (true, _) => (client::Keep::Theirs, vec![]),
        (false, true) => (client::Keep::Mine, vec![]),
        (false, false) => (client::Keep::Mine, choice.mine.clone()),
    };
    device.resolve_conflict(id, keep, &only)
}

/// The CLI's wording of a choice that could not be made.
fn cli_error(id: i64, e: ChoiceError) -> anyhow::Error {
    match e {
        ChoiceError::UnknownField { name, fields } => {
            usage(format!("conflict #{id} has no field '{name}'; its fields are: {}", fields.join(", ")))
        }
        ChoiceError::BadSide { name, side } => usage(format!("'{side}' is not a side: use {name}=mine or {name}=theirs")),
        ChoiceError::Unchosen(left) => usage(format!(
            "say which side to keep for {}: add --field NAME=mine|theirs for each, or --mine or --theirs for every field not named",
            left.iter().map(|f| format!("'{f}'")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The CLI's flags as a choice over `fields`.
fn choose_from_args(a: &ResolveArgs, fields: &[String]) -> anyhow::Result<Choice> {
    let default = if a.mine {
        Some(true)
    } else if a.theirs {
        Some(false)
    } else {
        None
    };
    let mut named = Vec::new();
    for f in &a.field {
        let Some((name, side)) = f.split_once('=') else {
            return Err(usage(format!("'{f}' is not NAME=mine or NAME=theirs")));
        };
        named.push((name.to_string(), side.to_string()));
    }
    choose(fields, &named, default).map_err(|e| cli_error(a.id, e))
}

pub async fn resolve(g: &Globals, a: ResolveArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let Some(conflict) = device.conflicts()?.into_iter().find(|c| c.id == a.id) else {
        return Err(CliError::NotFound(format!("no conflict #{}; `apisync conflicts` lists them", a.id)).into());
    };
    let fields: Vec<String> = conflict.fields.iter().map(|f| f.field.clone()).collect();
    let choice = choose_from_args(&a, &fields)?;
    let default = if a.mine {
        Some("mine")
    } else if a.theirs {
        Some("theirs")
    } else {
        None
    };
    apply(&device, a.id, &choice)?;
    if g.json {
        output::json(&json!({ "resolved": a.id, "mine": choice.mine, "theirs": choice.theirs, "default": default }))?;
    } else {
        let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        println!("resolved conflict #{}: kept mine for {}; theirs for {}", a.id, list(&choice.mine), list(&choice.theirs));
        if let Some(d) = default {
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
        let c = choose_from_args(&args(false, true, &["name=mine"]), &fields()).unwrap();
        assert_eq!((c.mine, c.theirs), (vec!["name".to_string()], vec!["url".to_string(), "method".to_string()]));
        let c = choose_from_args(&args(true, false, &["url=theirs"]), &fields()).unwrap();
        assert_eq!((c.mine, c.theirs), (vec!["name".to_string(), "method".to_string()], vec!["url".to_string()]));
    }

    #[test]
    fn without_a_default_every_field_must_be_named() {
        let e = choose_from_args(&args(false, false, &["name=mine"]), &fields()).err().unwrap().to_string();
        assert!(e.contains("'url'") && e.contains("'method'") && e.contains("--theirs"), "{e}");
        assert!(choose_from_args(&args(false, false, &["name=mine", "url=theirs", "method=mine"]), &fields()).is_ok());
    }

    #[test]
    fn unknown_fields_and_sides_are_refused() {
        assert!(choose_from_args(&args(true, false, &["body=mine"]), &fields()).is_err());
        assert!(choose_from_args(&args(true, false, &["name=ours"]), &fields()).is_err());
        assert!(choose_from_args(&args(true, false, &["name"]), &fields()).is_err());
    }

    #[test]
    fn the_pure_choice_names_what_is_left_unchosen() {
        let named = [("name".to_string(), "mine".to_string())];
        assert_eq!(choose(&fields(), &named, None), Err(ChoiceError::Unchosen(vec!["url".into(), "method".into()])));
        let bad = [("name".to_string(), "ours".to_string())];
        assert!(matches!(choose(&fields(), &bad, None), Err(ChoiceError::BadSide { .. })));
    }
}
