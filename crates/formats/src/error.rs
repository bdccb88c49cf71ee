//! What can go wrong reading or writing a Postman file.

use model::{FieldError, Kind};

/// Why a Postman file could not be imported or a document exported.
///
/// Every message says what went wrong, where, and what to do about it;
/// [`FormatError::code`] gives a stable name a program can match.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    /// The bytes are not valid UTF-8 (and carry no UTF-16 byte-order mark).
    #[error(
        "the file is not valid UTF-8: bad byte at line {line}, column {column} (byte {offset}); \
         save it as UTF-8, or as UTF-16 with a byte-order mark, and import it again"
    )]
    NotUtf8 {
        /// 1-based line of the first bad byte.
        line: usize,
        /// 1-based column (in characters) of the first bad byte.
        column: usize,
        /// 0-based byte offset of the first bad byte.
        offset: usize,
    },
    /// The bytes start with a UTF-16 byte-order mark but are not valid UTF-16.
    #[error("the file starts with a UTF-16 byte-order mark but is not valid UTF-16 ({detail}); re-save it as UTF-8")]
    NotUtf16 {
        /// What is wrong with it.
        detail: String,
    },
    /// The text is not JSON.
    #[error("the file is not valid JSON: {message} at line {line}, column {column}; fix the file or export it from Postman again")]
    Json {
        /// serde_json's description of the problem.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON is valid but is no Postman file apisync knows.
    #[error(
        "this JSON is not a Postman file apisync can import ({found}); apisync imports collections \
         (v1, v2.0, v2.1), environments, globals, Postman data dumps and newman JSON reports"
    )]
    NotPostman {
        /// What the top level looked like.
        found: String,
    },
    /// Folders nest deeper than apisync accepts.
    #[error("{path}: folders nest deeper than {limit} levels; flatten the collection in Postman and export it again")]
    TooDeep {
        /// Where the limit was reached.
        path: String,
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// A part of the file has a shape apisync cannot accept, even leniently.
    #[error("{path}: {message}")]
    Invalid {
        /// Where in the file.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// An imported document breaks apisync's field rules (for example it is too large).
    #[error("{path}: cannot store this {kind}: {source}")]
    Document {
        /// Where in the file.
        path: String,
        /// The kind of document it would have become.
        kind: Kind,
        /// The rule it breaks.
        source: FieldError,
    },
    /// One file of a v3 directory cannot be read (bad YAML, a merge conflict,
    /// an unknown `$kind`, a path that leaves the directory, …).
    #[error("{path}{}: {message}", place(*line, *column))]
    File {
        /// The file's path inside the directory.
        path: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong and what to do.
        message: String,
    },
    /// Export was asked for a document of the wrong kind.
    #[error("cannot export document {id} as a {expected}: it is a {got}; pick a {expected} document")]
    WrongKind {
        /// The document's id.
        id: String,
        /// The kind the export needs.
        expected: Kind,
        /// The kind it has.
        got: Kind,
    },
}

impl FormatError {
    /// A stable, machine-matchable name for the error.
    pub fn code(&self) -> &'static str {
        match self {
            FormatError::NotUtf8 { .. } => "not_utf8",
            FormatError::NotUtf16 { .. } => "not_utf16",
            FormatError::Json { .. } => "bad_json",
            FormatError::NotPostman { .. } => "not_postman",
            FormatError::TooDeep { .. } => "too_deep",
            FormatError::Invalid { .. } => "invalid",
            FormatError::Document { .. } => "document",
            FormatError::WrongKind { .. } => "wrong_kind",
            FormatError::File { .. } => "bad_file",
        }
    }
}

/// ", line L, column C" for a file error, as far as known.
fn place(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(", line {l}, column {c}"),
        (Some(l), None) => format!(", line {l}"),
        _ => String::new(),
    }
}
