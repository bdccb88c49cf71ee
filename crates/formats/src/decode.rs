//! Bytes to JSON: byte-order marks, UTF-16, and errors that name a line and column.

use crate::FormatError;
use serde_json::Value;

/// Decodes a file's bytes to JSON.
///
/// Strips a UTF-8 byte-order mark, decodes UTF-16 LE or BE when the file
/// starts with the matching byte-order mark, and otherwise requires UTF-8.
/// Returns the JSON and notes of what was normalised (a stripped mark, a
/// UTF-16 decode).
pub fn decode(bytes: &[u8]) -> Result<(Value, Vec<String>), FormatError> {
    let mut notes = Vec::new();
    let text: String = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        notes.push("the file started with a UTF-8 byte-order mark; it was ignored".to_string());
        utf8(rest)?.to_string()
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        notes.push("the file is UTF-16 (little-endian); it was decoded to UTF-8".to_string());
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        notes.push("the file is UTF-16 (big-endian); it was decoded to UTF-8".to_string());
        utf16(rest, u16::from_be_bytes)?
    } else {
        utf8(bytes)?.to_string()
    };
    let value = serde_json::from_str(&text).map_err(|e| json_error(&e))?;
    Ok((value, notes))
}

fn utf8(bytes: &[u8]) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        // The prefix is valid by definition, so this cannot fail.
        let good = std::str::from_utf8(&bytes[..offset]).unwrap_or("");
        let line = good.matches('\n').count() + 1;
        let column = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        FormatError::NotUtf8 { line, column, offset }
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, FormatError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(FormatError::NotUtf16 { detail: format!("odd length of {} bytes after the mark", bytes.len()) });
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    String::from_utf16(&units).map_err(|e| FormatError::NotUtf16 { detail: e.to_string() })
}

fn json_error(e: &serde_json::Error) -> FormatError {
    let text = e.to_string();
    // serde_json appends " at line L column C"; keep only the description.
    let message = text.split(" at line ").next().unwrap_or(&text).to_string();
    if message.contains("recursion limit") {
        return FormatError::TooDeep { path: format!("line {}, column {}", e.line(), e.column()), limit: crate::MAX_FOLDER_DEPTH };
    }
    FormatError::Json { message, line: e.line(), column: e.column() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bom_and_decodes_utf16() {
        let (v, notes) = decode(b"\xEF\xBB\xBF{\"a\":1}").unwrap();
        assert_eq!(v["a"], 1);
        assert_eq!(notes.len(), 1);
        let mut le = vec![0xFF, 0xFE];
        le.extend("{\"é\":2}".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&le).unwrap().0["é"], 2);
        let mut be = vec![0xFE, 0xFF];
        be.extend("[3]".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(&be).unwrap().0[0], 3);
    }

    #[test]
    fn names_line_and_column() {
        let err = decode(b"{\n  \"a\": \xFF}").unwrap_err();
        assert_eq!(err, FormatError::NotUtf8 { line: 2, column: 8, offset: 9 });
        assert!(err.to_string().contains("line 2, column 8"));
        let err = decode(b"{\n  \"a\": ,}").unwrap_err();
        assert!(matches!(err, FormatError::Json { line: 2, column: 8, .. }), "{err:?}");
        assert!(err.to_string().contains("line 2, column 8"), "{err}");
        assert_eq!(decode(b"\xFF\xFE{").unwrap_err().code(), "not_utf16");
    }
}
