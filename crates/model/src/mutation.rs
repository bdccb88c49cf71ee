//! Mutations: the only way a document changes, on a device or on the server.

use crate::{Document, Fields, Id, Kind};
use serde::{Deserialize, Serialize};

/// One change a device made, as it travels in the outbox and on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireMutation")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// Minted by the device; the server applies a mutation id at most once.
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub mutation_id: Id,
    /// The document it changes (for a create: the new document's id).
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub doc_id: Id,
    /// The document version the device edited from (0 for a create).
    #[serde(default)]
    pub base_version: u64,
    /// What it does.
    #[serde(flatten)]
    pub op: Op,
}

/// What a mutation does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Op {
    /// Make a new document.
    Create {
        kind: Kind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
        parent_id: Option<Id>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order_key: Option<String>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        fields: Fields,
    },
    /// Set some fields; fields not named are untouched.
    Set {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        fields: Fields,
    },
    /// Delete the document (and, on the server, everything under it).
    Delete,
    /// Put the document under another parent or at another place among its
    /// siblings. Moves never conflict: the last one the server receives wins.
    Move {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
        parent_id: Option<Id>,
        order_key: String,
    },
    /// Bring a deleted document back with these fields: how a person keeps
    /// their edit when it conflicted with a delete.
    Restore {
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        fields: Fields,
    },
}

/// The flat wire shape of a [`Mutation`]. Reading it directly, rather than
/// through `flatten` and a tagged enum, spares serde buffering every
/// mutation of a push into an intermediate tree first.
#[derive(Deserialize)]
struct WireMutation {
    mutation_id: Id,
    doc_id: Id,
    #[serde(default)]
    base_version: u64,
    op: OpName,
    #[serde(default)]
    kind: Option<Kind>,
    #[serde(default)]
    parent_id: Option<Id>,
    #[serde(default)]
    order_key: Option<String>,
    #[serde(default)]
    fields: Option<Fields>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OpName {
    Create,
    Set,
    Delete,
    Move,
    Restore,
}

impl TryFrom<WireMutation> for Mutation {
    type Error = String;

    fn try_from(w: WireMutation) -> Result<Mutation, String> {
        let op = match w.op {
            OpName::Create => Op::Create {
                kind: w.kind.ok_or("a create needs a `kind`")?,
                parent_id: w.parent_id,
                order_key: w.order_key,
                fields: w.fields.unwrap_or_default(),
            },
            OpName::Set => Op::Set { fields: w.fields.ok_or("a set needs `fields`")? },
            OpName::Delete => Op::Delete,
            OpName::Move => Op::Move { parent_id: w.parent_id, order_key: w.order_key.ok_or("a move needs an `order_key`")? },
            OpName::Restore => Op::Restore { fields: w.fields.unwrap_or_default() },
        };
        Ok(Mutation { mutation_id: w.mutation_id, doc_id: w.doc_id, base_version: w.base_version, op })
    }
}

impl Op {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create { .. } => "create",
            Op::Set { .. } => "set",
            Op::Delete => "delete",
            Op::Move { .. } => "move",
            Op::Restore { .. } => "restore",
        }
    }
}

impl Mutation {
    /// Applies this mutation to a device's view of a document without any
    /// merge: what the person sees while the change waits in the outbox.
    /// `doc` is `None` when the document does not exist locally.
    pub fn apply_locally(&self, doc: Option<Document>, workspace_id: Id) -> Option<Document> {
        match (&self.op, doc) {
            (Op::Create { kind, parent_id, order_key, fields }, existing) => Some(existing.unwrap_or(Document {
                id: self.doc_id,
                kind: *kind,
                workspace_id,
                parent_id: *parent_id,
                order_key: order_key.clone(),
                fields: fields.clone(),
                deleted: false,
                version: 0,
            })),
            (Op::Set { fields }, Some(mut d)) => {
                d.fields.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                Some(d)
            }
            (Op::Delete, Some(mut d)) => {
                d.deleted = true;
                Some(d)
            }
            (Op::Move { parent_id, order_key }, Some(mut d)) => {
                d.parent_id = *parent_id;
                d.order_key = Some(order_key.clone());
                Some(d)
            }
            (Op::Restore { fields }, Some(mut d)) => {
                d.deleted = false;
                d.fields.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                Some(d)
            }
            (_, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shape_is_flat_and_tagged() {
        let m = Mutation {
            mutation_id: Id::nil(),
            doc_id: Id::nil(),
            base_version: 7,
            op: Op::Set { fields: json!({"name": "x"}).as_object().unwrap().clone() },
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["op"], "set");
        assert_eq!(v["fields"]["name"], "x");
        assert_eq!(serde_json::from_value::<Mutation>(v).unwrap(), m);
        let del: Mutation = serde_json::from_value(json!({"mutation_id": Id::nil(), "doc_id": Id::nil(), "op": "delete"})).unwrap();
        assert_eq!(del.op, Op::Delete);
        assert_eq!(del.base_version, 0);
        for op in [
            Op::Create { kind: Kind::Folder, parent_id: Some(Id::nil()), order_key: Some("V".into()), fields: Fields::new() },
            Op::Move { parent_id: None, order_key: "a".into() },
            Op::Restore { fields: Fields::new() },
        ] {
            let m = Mutation { mutation_id: Id::nil(), doc_id: Id::nil(), base_version: 2, op };
            assert_eq!(serde_json::from_str::<Mutation>(&serde_json::to_string(&m).unwrap()).unwrap(), m);
        }
        let err = serde_json::from_value::<Mutation>(json!({"mutation_id": Id::nil(), "doc_id": Id::nil(), "op": "create"})).unwrap_err();
        assert!(err.to_string().contains("needs a `kind`"), "{err}");
        assert!(serde_json::from_value::<Mutation>(json!({"mutation_id": Id::nil(), "doc_id": Id::nil(), "op": "launch"})).is_err());
    }
}
