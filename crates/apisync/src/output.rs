//! Printing: JSON for programs, short lines for people, secrets masked.

use model::{Document, Kind};
use serde::Serialize;
use serde_json::Value;

/// What a secret value shows as.
pub use model::document::SECRET_MASK as MASK;

/// Prints a value as pretty JSON on stdout.
pub fn json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Asks the person to type `expected` before something is deleted for good.
/// Without a terminal to ask on it refuses at once with `refusal` (which
/// should say to pass --yes): a script never waits on a prompt.
pub fn confirm_by_typing(refusal: String, prompt: &str, expected: &str) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(crate::exit::usage(refusal));
    }
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    if line.trim() != expected.trim() {
        return Err(crate::exit::usage("not confirmed; nothing was deleted"));
    }
    Ok(())
}

/// Whether a variable or global is a secret.
pub fn is_secret(d: &Document) -> bool {
    d.is_secret()
}

/// A document as JSON, its secret value masked unless `reveal`.
pub fn doc_json(d: &Document, reveal: bool) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    // Masked in place rather than through `Document::masked`, sparing a
    // copy of every document of a listing.
    if !reveal
        && d.is_secret()
        && let Some(value) = v.get_mut("fields").and_then(|f| f.get_mut("value"))
    {
        *value = MASK.into();
    }
    v
}

/// A one-line description of a value for text output.
pub fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 { format!("{}…", s.chars().take(59).collect::<String>()) } else { s }
}

/// The text name of a kind.
pub fn kind(k: Kind) -> &'static str {
    k.as_str()
}
