//! Reading one v3 file: bytes to an ordered [`Node`], refusing merge
//! conflicts first and naming the file, line and column of anything wrong.

use super::node::Node;
use crate::FormatError;
use serde_json::Number;
use serde_yaml_ng::Value as Yaml;

/// A file error at `line` (1-based), when known.
pub(crate) fn file_error(path: &str, line: Option<usize>, message: impl Into<String>) -> FormatError {
    FormatError::File { path: path.to_string(), line, column: None, message: message.into() }
}

/// Parses a v3 file's bytes; its top level must be a mapping.
pub(crate) fn parse(path: &str, bytes: &[u8]) -> Result<Node, FormatError> {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        file_error(path, Some(line), "is not valid UTF-8; save it as UTF-8")
    })?;
    refuse_conflicts(path, text)?;
    let value: Yaml = serde_yaml_ng::from_str(text).map_err(|e| {
        let message = e.to_string();
        // serde_yaml_ng appends " at line L column C"; the error carries them apart.
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        let (line, column) = e.location().map_or((None, None), |l| (Some(l.line()), Some(l.column())));
        FormatError::File { path: path.to_string(), line, column, message: format!("is not valid YAML: {message}") }
    })?;
    match node(value) {
        n @ Node::Map(_) => Ok(n),
        Node::Null => Err(file_error(path, None, "is empty; a v3 file is a YAML mapping that starts with `$kind:`")),
        _ => Err(file_error(path, Some(1), "is not a YAML mapping; a v3 file starts with `$kind:`")),
    }
}

/// Git's conflict markers at a line start: the file is mid-merge.
fn refuse_conflicts(path: &str, text: &str) -> Result<(), FormatError> {
    for (n, line) in text.lines().enumerate() {
        let marker = line.starts_with("<<<<<<< ")
            || line.starts_with(">>>>>>> ")
            || line == "<<<<<<<"
            || line == ">>>>>>>"
            || line.trim_end() == "=======";
        if marker {
            return Err(file_error(
                path,
                Some(n + 1),
                format!(
                    "has a git merge-conflict marker ('{}'); resolve the conflict (keep one side, remove the markers) and import again",
                    line.trim_end()
                ),
            ));
        }
    }
    Ok(())
}

fn node(v: Yaml) -> Node {
    match v {
        Yaml::Null => Node::Null,
        Yaml::Bool(b) => Node::Bool(b),
        Yaml::Number(n) => number(&n),
        Yaml::String(s) => Node::Str(s),
        Yaml::Sequence(items) => Node::Seq(items.into_iter().map(node).collect()),
        Yaml::Mapping(m) => Node::Map(m.into_iter().map(|(k, v)| (key(k), node(v))).collect()),
        Yaml::Tagged(t) => node(t.value),
    }
}

fn number(n: &serde_yaml_ng::Number) -> Node {
    if let Some(i) = n.as_i64() {
        Node::Num(i.into())
    } else if let Some(u) = n.as_u64() {
        Node::Num(u.into())
    } else {
        // JSON has no NaN or infinity: keep YAML's spelling as text.
        n.as_f64().and_then(Number::from_f64).map_or_else(|| Node::Str(n.to_string()), Node::Num)
    }
}

/// A mapping key as text (YAML allows numbers, booleans, even collections).
fn key(k: Yaml) -> String {
    match k {
        Yaml::String(s) => s,
        Yaml::Null => String::new(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        other => serde_yaml_ng::to_string(&other).map(|s| s.trim_end().to_string()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_names_lines() {
        let n = parse("a.yaml", b"$kind: http-request\nz: 1\na: x\n").unwrap();
        let Node::Map(pairs) = n else { panic!() };
        assert_eq!(pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["$kind", "z", "a"]);
        let err = parse("dir/b.yaml", b"$kind: x\nurl: [\n").unwrap_err();
        let FormatError::File { path, line, .. } = &err else { panic!("{err:?}") };
        assert_eq!(path, "dir/b.yaml");
        assert!(line.is_some_and(|l| l >= 2), "{err}");
        let err = parse("c.yaml", b"$kind: x\nurl: a\nname: 'b\n").unwrap_err();
        assert!(err.to_string().starts_with("c.yaml, line "), "{err}");
    }

    #[test]
    fn refuses_conflict_markers_with_their_line() {
        let text = b"$kind: http-request\n<<<<<<< HEAD\nurl: a\n=======\nurl: b\n>>>>>>> theirs\n";
        let err = parse("r.request.yaml", text).unwrap_err();
        assert_eq!(err.code(), "bad_file");
        let FormatError::File { line, .. } = &err else { panic!() };
        assert_eq!(*line, Some(2));
        assert!(err.to_string().contains("merge-conflict"), "{err}");
        // Inside a block scalar the same text is indented, so it is content.
        assert!(parse("ok.yaml", b"$kind: x\ndescription: |-\n  Title\n  =======\n").is_ok());
    }

    #[test]
    fn top_level_must_be_a_mapping() {
        assert!(parse("a.yaml", b"").is_err());
        assert!(parse("a.yaml", b"- 1\n").is_err());
        assert!(parse("a.yaml", b"\xff").unwrap_err().to_string().contains("UTF-8"));
    }
}
