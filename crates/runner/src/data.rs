//! Iteration data files, as newman reads them: a CSV file whose first row
//! names the variables, or a JSON array of objects; one row per iteration.

use crate::types::Vars;
use serde_json::Value;

/// Why a data file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    /// A JSON data file that is not an array of objects.
    #[error("the JSON data file must be an array of objects, one per iteration ({0})")]
    Json(String),
    /// A CSV file that cannot be read.
    #[error("the CSV data file cannot be read ({0}); its first row names the variables, each later row is one iteration")]
    Csv(String),
}

/// Rows of a data file: JSON when it starts with `[` (after a BOM and
/// blanks), else CSV.
pub fn parse(bytes: &[u8]) -> Result<Vec<Vars>, DataError> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') { json(text) } else { csv(text) }
}

fn json(text: &[u8]) -> Result<Vec<Vars>, DataError> {
    let v: Value = serde_json::from_slice(text).map_err(|e| DataError::Json(e.to_string()))?;
    let Value::Array(rows) = v else { return Err(DataError::Json("it is not an array".into())) };
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Value::Object(m) => Ok(m.into_iter().collect()),
            _ => Err(DataError::Json(format!("row {} is not an object", i + 1))),
        })
        .collect()
}

fn csv(text: &[u8]) -> Result<Vec<Vars>, DataError> {
    let mut reader = ::csv::ReaderBuilder::new().flexible(false).from_reader(text);
    let names: Vec<String> = reader.headers().map_err(|e| DataError::Csv(e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
    reader
        .records()
        .map(|r| {
            let r = r.map_err(|e| DataError::Csv(e.to_string()))?;
            Ok(names.iter().zip(r.iter()).map(|(k, v)| (k.clone(), Value::String(v.to_string()))).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_rows_become_string_variables() {
        let rows = parse(b"\xEF\xBB\xBFuser,note\nann,\"hello, world\"\nbob,\"say \"\"hi\"\"\"\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["user"], json!("ann"));
        assert_eq!(rows[0]["note"], json!("hello, world"));
        assert_eq!(rows[1]["note"], json!("say \"hi\""));
    }

    #[test]
    fn json_rows_keep_their_types() {
        let rows = parse(br#" [{"n": 1, "ok": true}, {"n": 2}] "#).unwrap();
        assert_eq!(rows[0]["n"], json!(1));
        assert_eq!(rows[1]["n"], json!(2));
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(matches!(parse(br#"[1, 2]"#), Err(DataError::Json(m)) if m.contains("row 1")));
        assert!(matches!(parse(b"a,b\n1,2,3\n"), Err(DataError::Csv(_))));
    }
}
