//! The kinds of synced document and where each may live in the tree.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a document is. The serialized names are the CLI's KIND names.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Kind {
    /// A workspace's own name and description; its id is the workspace id.
    Workspace,
    /// A Postman collection.
    Collection,
    /// A folder inside a collection or another folder.
    Folder,
    /// A request inside a collection or folder.
    Request,
    /// A saved example response of a request.
    Response,
    /// A named set of headers.
    HeaderPreset,
    /// An environment; its variables are child documents.
    Environment,
    /// One variable of an environment.
    Variable,
    /// One global variable of a workspace.
    Global,
    /// The result of one collection run (append-only).
    Run,
    /// One sent request in the history (append-only).
    History,
}

/// A kind name that apisync does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind '{0}'; kinds are: {names}", names = Kind::NAMES.join(", "))]
pub struct UnknownKind(pub String);

impl Kind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: &'static [Kind] = <Kind as strum::VariantArray>::VARIANTS;

    /// The names of [`Kind::ALL`], as typed on the command line.
    pub const NAMES: &'static [&'static str] = <Kind as strum::VariantNames>::VARIANTS;

    /// The kind's name, as typed on the command line and sent on the wire.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Kinds a document of this kind may have as its parent; empty means it
    /// lives at the top of its workspace and has no parent.
    pub fn parents(self) -> &'static [Kind] {
        match self {
            Kind::Folder | Kind::Request => &[Kind::Collection, Kind::Folder],
            Kind::Response => &[Kind::Request],
            Kind::Variable => &[Kind::Environment],
            _ => &[],
        }
    }

    /// Whether documents of this kind are only ever created or deleted, never
    /// edited: they can never conflict.
    pub fn append_only(self) -> bool {
        matches!(self, Kind::Run | Kind::History)
    }

    /// Whether this kind is a Postman variable, whose `value` is the synced
    /// initial value while the current value stays on the device.
    pub fn is_variable(self) -> bool {
        matches!(self, Kind::Variable | Kind::Global)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        // Accept the plural and the snake_case spellings people type.
        let wanted = wanted.replace('_', "-");
        let singular = wanted.strip_suffix('s').unwrap_or(&wanted);
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == wanted || k.as_str() == singular || (wanted == "histories" && *k == Kind::History))
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!("requests".parse::<Kind>(), Ok(Kind::Request));
        assert_eq!("header_preset".parse::<Kind>(), Ok(Kind::HeaderPreset));
        let err = "reqest".parse::<Kind>().unwrap_err();
        assert!(err.to_string().contains("unknown kind 'reqest'"));
        assert!(err.to_string().contains("header-preset"));
    }
}
