//! `apisync resolve CONFLICT_ID (--mine | --theirs | --field NAME=mine|theirs ...)`.

use crate::device::autosync;
use crate::{Globals, Json, output};
use anyhow::bail;
use clap::Args;
use serde_json::json;

/// `apisync resolve`
#[derive(Args)]
pub struct ResolveArgs {
    /// The conflict's number (see `apisync conflicts`).
    id: i64,
    /// Keep this device's values for every field.
    #[arg(long, conflicts_with_all = ["theirs", "field"])]
    mine: bool,
    /// Keep the server's values for every field.
    #[arg(long, conflicts_with = "field")]
    theirs: bool,
    /// Choose per field: NAME=mine or NAME=theirs (repeat for every field of the conflict).
    #[arg(long, value_name = "NAME=mine|theirs")]
    field: Vec<String>,
    #[command(flatten)]
    json: Json,
}

pub async fn resolve(g: &Globals, a: ResolveArgs) -> anyhow::Result<()> {
    let mut device = g.open()?;
    let Some(conflict) = device.conflicts()?.into_iter().find(|c| c.id == a.id) else {
        bail!("no conflict #{}; `apisync conflicts` lists them", a.id);
    };
    let (keep, only) = if a.mine {
        (client::Keep::Mine, vec![])
    } else if a.theirs {
        (client::Keep::Theirs, vec![])
    } else if a.field.is_empty() {
        bail!("say which side to keep: --mine, --theirs, or --field NAME=mine|theirs for each field");
    } else {
        let mut mine = Vec::new();
        let mut decided = Vec::new();
        for f in &a.field {
            let Some((name, side)) = f.split_once('=') else { bail!("'{f}' is not NAME=mine or NAME=theirs") };
            let name = name.trim();
            if !conflict.fields.iter().any(|cf| cf.field == name) {
                let names: Vec<&str> = conflict.fields.iter().map(|cf| cf.field.as_str()).collect();
                bail!("conflict #{} has no field '{name}'; its fields are: {}", a.id, names.join(", "));
            }
            match side.trim() {
                "mine" => mine.push(name.to_string()),
                "theirs" => {}
                other => bail!("'{other}' is not a side: use {name}=mine or {name}=theirs"),
            }
            decided.push(name.to_string());
        }
        if let Some(missing) = conflict.fields.iter().find(|cf| !decided.contains(&cf.field)) {
            bail!(
                "conflict #{} also has field '{}': add --field {}=mine or --field {}=theirs",
                a.id,
                missing.field,
                missing.field,
                missing.field
            );
        }
        if mine.is_empty() { (client::Keep::Theirs, vec![]) } else { (client::Keep::Mine, mine) }
    };
    device.resolve_conflict(a.id, keep, &only)?;
    let side = match keep {
        client::Keep::Mine if only.is_empty() => "mine".to_string(),
        client::Keep::Mine => format!("mine for {}, theirs for the rest", only.join(", ")),
        client::Keep::Theirs => "theirs".to_string(),
    };
    if a.json.json {
        output::json(&json!({ "resolved": a.id, "kept": side }))?;
    } else {
        println!("resolved conflict #{} (kept {side})", a.id);
    }
    autosync(&mut device).await;
    Ok(())
}
