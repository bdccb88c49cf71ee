//! The three-way field merge the server runs for every mutation.
//!
//! Decisions rest on versions (which change, by which device, came after the
//! version the device edited from), never on reading field contents; equal
//! values are only a shortcut. So end-to-end encrypted fields can use the
//! same engine unchanged.

use crate::{Document, Fields};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// When and by whom something last changed: the workspace sequence number
/// and the server's short number for the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// Sequence number of the change.
    pub seq: u64,
    /// Server-side number of the device that made it.
    pub device: u64,
}

/// A document as the server keeps it: the document plus, per field, the
/// clock of that field's last change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// The current document.
    pub doc: Document,
    /// The last change of each field.
    pub clocks: BTreeMap<String, Clock>,
    /// The delete, while the document is deleted.
    pub deleted_at: Option<Clock>,
}

/// One field both sides changed: the device's value was not applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    /// The field's name.
    pub field: String,
    /// The value on the server now (`null` when the field is absent).
    pub theirs: Value,
    /// The sequence number of the change that set `theirs`.
    pub version: u64,
}

/// The outcome of merging a set of fields.
#[derive(Clone, Debug, PartialEq)]
pub enum SetMerge {
    /// Apply `fields` (maybe fewer than asked); `conflicts` were held back.
    Apply { fields: Fields, conflicts: Vec<FieldConflict> },
    /// Somebody else deleted the document after the device's base version.
    DeletedSince { version: u64 },
}

/// The outcome of merging a delete.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteMerge {
    /// Nothing the device has not seen changed: delete.
    Apply,
    /// Somebody else edited these fields after the device's base version.
    EditedSince(Vec<FieldConflict>),
}

impl Stored {
    /// Wraps a newly created document, every field stamped with `clock`.
    pub fn created(mut doc: Document, clock: Clock) -> Stored {
        doc.version = clock.seq;
        let clocks = doc.fields.keys().map(|k| (k.clone(), clock)).collect();
        Stored { doc, clocks, deleted_at: None }
    }

    /// Whether a change stamped `clock` is news to a device that edited from
    /// `base`: made after it, by somebody else. A device always knows its own
    /// changes, so they never conflict with its later edits.
    fn unseen(clock: &Clock, base: u64, device: u64) -> bool {
        clock.seq > base && clock.device != device
    }

    fn conflict(&self, field: &str) -> FieldConflict {
        FieldConflict {
            field: field.to_string(),
            theirs: self.doc.fields.get(field).cloned().unwrap_or(Value::Null),
            version: self.clocks.get(field).map_or(0, |c| c.seq),
        }
    }

    /// Merges the device's `mine` fields, edited from `base`, into this document.
    pub fn merge_set(&self, base: u64, device: u64, mine: &Fields) -> SetMerge {
        if let Some(del) = self.deleted_at {
            return SetMerge::DeletedSince { version: del.seq };
        }
        let (fields, conflicts) = self.merge_fields(base, device, mine);
        SetMerge::Apply { fields, conflicts }
    }

    /// The field merge alone, whether or not the document is deleted: the
    /// fields to apply and those held back (a restore merges like an edit).
    pub fn merge_fields(&self, base: u64, device: u64, mine: &Fields) -> (Fields, Vec<FieldConflict>) {
        let mut fields = Fields::new();
        let mut conflicts = Vec::new();
        for (name, value) in mine {
            match self.clocks.get(name) {
                Some(c) if Self::unseen(c, base, device) => {
                    // Equal values are no conflict: both sides agree already.
                    if self.doc.fields.get(name) != Some(value) {
                        conflicts.push(self.conflict(name));
                    }
                }
                _ => {
                    fields.insert(name.clone(), value.clone());
                }
            }
        }
        (fields, conflicts)
    }

    /// Merges a delete made from `base`.
    pub fn merge_delete(&self, base: u64, device: u64) -> DeleteMerge {
        let edited: Vec<FieldConflict> =
            self.clocks.iter().filter(|(_, c)| Self::unseen(c, base, device)).map(|(name, _)| self.conflict(name)).collect();
        if edited.is_empty() { DeleteMerge::Apply } else { DeleteMerge::EditedSince(edited) }
    }

    /// Records accepted field values, stamped with `clock`.
    pub fn set(&mut self, fields: &Fields, clock: Clock) {
        for (name, value) in fields {
            self.doc.fields.insert(name.clone(), value.clone());
            self.clocks.insert(name.clone(), clock);
        }
        self.doc.version = clock.seq;
    }

    /// Records a delete stamped with `clock`.
    pub fn delete(&mut self, clock: Clock) {
        self.doc.deleted = true;
        self.deleted_at = Some(clock);
        self.doc.version = clock.seq;
    }

    /// Brings the document back with `fields`, stamped with `clock`.
    pub fn restore(&mut self, fields: &Fields, clock: Clock) {
        self.doc.deleted = false;
        self.deleted_at = None;
        self.set(fields, clock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Id, Kind};
    use proptest::prelude::*;
    use serde_json::json;

    const ME: u64 = 1;
    const OTHER: u64 = 2;

    fn doc(fields: Value) -> Document {
        Document {
            id: Id::nil(),
            kind: Kind::Request,
            workspace_id: Id::nil(),
            parent_id: None,
            order_key: None,
            fields: fields.as_object().unwrap().clone(),
            deleted: false,
            version: 0,
        }
    }

    fn obj(v: Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    fn base_doc() -> Stored {
        Stored::created(doc(json!({"name": "a", "url": "u", "method": "GET"})), Clock { seq: 1, device: OTHER })
    }

    #[test]
    fn unchanged_field_applies() {
        let s = base_doc();
        let m = s.merge_set(1, ME, &obj(json!({"name": "b"})));
        assert_eq!(m, SetMerge::Apply { fields: obj(json!({"name": "b"})), conflicts: vec![] });
    }

    #[test]
    fn different_fields_merge_without_conflict() {
        let mut s = base_doc();
        s.set(&obj(json!({"url": "v"})), Clock { seq: 2, device: OTHER });
        let m = s.merge_set(1, ME, &obj(json!({"name": "b"})));
        assert_eq!(m, SetMerge::Apply { fields: obj(json!({"name": "b"})), conflicts: vec![] });
    }

    #[test]
    fn same_field_both_changed_is_a_conflict_with_theirs() {
        let mut s = base_doc();
        s.set(&obj(json!({"name": "theirs"})), Clock { seq: 2, device: OTHER });
        let m = s.merge_set(1, ME, &obj(json!({"name": "mine", "url": "w"})));
        assert_eq!(
            m,
            SetMerge::Apply {
                fields: obj(json!({"url": "w"})),
                conflicts: vec![FieldConflict { field: "name".into(), theirs: json!("theirs"), version: 2 }]
            }
        );
    }

    #[test]
    fn equal_values_are_not_a_conflict() {
        let mut s = base_doc();
        s.set(&obj(json!({"name": "same"})), Clock { seq: 2, device: OTHER });
        let m = s.merge_set(1, ME, &obj(json!({"name": "same"})));
        assert_eq!(m, SetMerge::Apply { fields: Fields::new(), conflicts: vec![] });
    }

    #[test]
    fn own_later_change_never_conflicts() {
        let mut s = base_doc();
        s.set(&obj(json!({"name": "first"})), Clock { seq: 2, device: ME });
        let m = s.merge_set(1, ME, &obj(json!({"name": "second"})));
        assert_eq!(m, SetMerge::Apply { fields: obj(json!({"name": "second"})), conflicts: vec![] });
    }

    #[test]
    fn edit_against_delete_conflicts_both_ways() {
        let mut s = base_doc();
        s.delete(Clock { seq: 2, device: OTHER });
        assert_eq!(s.merge_set(1, ME, &obj(json!({"name": "x"}))), SetMerge::DeletedSince { version: 2 });

        let mut s = base_doc();
        s.set(&obj(json!({"url": "edited"})), Clock { seq: 2, device: OTHER });
        match s.merge_delete(1, ME) {
            DeleteMerge::EditedSince(c) => assert_eq!(c[0].field, "url"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(s.merge_delete(2, ME), DeleteMerge::Apply);
    }

    proptest! {
        /// Whatever the history, a field is applied exactly when nobody else
        /// changed it after the base, and the result never loses the side
        /// that was not applied: it comes back as a conflict.
        #[test]
        fn every_field_is_applied_or_reported(
            history in proptest::collection::vec((0usize..3, 1u64..3, "[a-c]"), 0..12),
            base in 0u64..14,
            mine in proptest::collection::btree_map(0usize..3, "[a-c]", 1..3),
        ) {
            let names = ["name", "url", "method"];
            let mut s = base_doc();
            for (i, (field, device, value)) in history.iter().enumerate() {
                s.set(&obj(json!({ names[*field]: value })), Clock { seq: 2 + i as u64, device: *device });
            }
            let mine: Fields = mine.iter().map(|(f, v)| (names[*f].to_string(), json!(v))).collect();
            let SetMerge::Apply { fields, conflicts } = s.merge_set(base, ME, &mine) else { unreachable!() };
            for (name, value) in &mine {
                let clock = s.clocks[name];
                let unseen = clock.seq > base && clock.device != ME;
                let applied = fields.contains_key(name);
                let conflicted = conflicts.iter().any(|c| &c.field == name);
                prop_assert!(!(applied && conflicted));
                if !unseen { prop_assert!(applied); }
                if unseen && s.doc.fields[name] != *value { prop_assert!(conflicted); }
                if unseen && s.doc.fields[name] == *value { prop_assert!(!applied && !conflicted); }
            }
        }
    }
}
