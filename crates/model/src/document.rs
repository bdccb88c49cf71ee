//! A synced document: one collection, request, variable, and so on.

use crate::{Id, Kind};
use serde::{Deserialize, Serialize};

/// A document's fields: a JSON object keyed by field name.
pub type Fields = serde_json::Map<String, serde_json::Value>;

/// One synced thing, as stored on the server and mirrored on every device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    /// UUID v7 minted by the device that created it.
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: Id,
    /// What it is.
    pub kind: Kind,
    /// The workspace it belongs to.
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub workspace_id: Id,
    /// Its parent (a collection, folder, request or environment), if its kind has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub parent_id: Option<Id>,
    /// Fractional ordering key among its siblings (see [`crate::ordering`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_key: Option<String>,
    /// The document's content.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: Fields,
    /// A tombstone: deleted documents are kept so that every device hears of the delete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The workspace sequence number of the document's last change (0: never synced).
    #[serde(default)]
    pub version: u64,
}

/// What a secret variable's value shows as wherever it is masked.
pub const SECRET_MASK: &str = "••••••";

impl Document {
    /// Whether this is a variable or global marked secret.
    pub fn is_secret(&self) -> bool {
        self.kind.is_variable() && self.fields.get("type").and_then(serde_json::Value::as_str) == Some("secret")
    }

    /// Whether a variable or global is in use: its `enabled` field when it has
    /// one, else not when the file it came from said `disabled: true` (kept
    /// under `extra`, as Postman's environment files write it).
    pub fn is_enabled(&self) -> bool {
        match self.fields.get("enabled").and_then(serde_json::Value::as_bool) {
            Some(on) => on,
            None => {
                self.fields.get("extra").and_then(|e| e.get("keys")).and_then(|k| k.get("disabled")) != Some(&serde_json::Value::Bool(true))
            }
        }
    }

    /// The document with a secret's value replaced by [`SECRET_MASK`].
    pub fn masked(mut self) -> Document {
        if self.is_secret()
            && let Some(v) = self.fields.get_mut("value")
        {
            *v = serde_json::Value::String(SECRET_MASK.into());
        }
        self
    }

    /// The document's display name: `name`, else `key` (variables), else `url` (history).
    pub fn title(&self) -> &str {
        ["name", "key", "url"].iter().find_map(|f| self.fields.get(*f).and_then(|v| v.as_str())).unwrap_or("")
    }

    /// Sort key among siblings: ordering key first, id to break ties between
    /// keys two devices happened to mint alike.
    pub fn sibling_order(&self) -> (&str, Id) {
        (self.order_key.as_deref().unwrap_or(""), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;
    use serde_json::json;

    fn var(fields: serde_json::Value) -> Document {
        Document {
            id: crate::Id::from_u128(1),
            kind: Kind::Variable,
            workspace_id: crate::Id::from_u128(2),
            parent_id: None,
            order_key: None,
            fields: fields.as_object().cloned().unwrap_or_default(),
            deleted: false,
            version: 0,
        }
    }

    #[test]
    fn enabled_comes_from_the_field_else_from_a_files_disabled() {
        assert!(var(json!({"key": "a"})).is_enabled());
        assert!(!var(json!({"key": "a", "enabled": false})).is_enabled());
        assert!(!var(json!({"key": "a", "extra": {"keys": {"disabled": true}}})).is_enabled());
        assert!(var(json!({"key": "a", "enabled": true, "extra": {"keys": {"disabled": true}}})).is_enabled());
    }
}
