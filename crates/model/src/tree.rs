//! The tree of a workspace's documents: the order a person sees them in, and
//! where a document goes among its siblings. Pure, so the device and the
//! server's web host order and place documents alike.

use crate::{Document, Id, Kind, ordering};
use std::collections::{HashMap, HashSet};

/// Where a document goes among its new siblings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// After the last sibling.
    End,
    /// Just before this sibling.
    Before(Id),
    /// Just after this sibling.
    After(Id),
}

/// Why a place among siblings could not be given a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlaceError {
    #[error("{0} is not among the documents of the new parent; before/after take a sibling")]
    NotASibling(Id),
    #[error("cannot place it there ({0}); move one of its neighbours first")]
    NoKey(ordering::OrderingError),
}

/// The ordering key for a document put at `pos` among `siblings` (in
/// sibling order, the document itself left out).
pub fn key_at(siblings: &[Document], pos: Position) -> Result<String, PlaceError> {
    let key_of = |d: &Document| d.order_key.clone().filter(|k| ordering::validate(k).is_ok());
    let find = |x: Id| siblings.iter().position(|d| d.id == x).ok_or(PlaceError::NotASibling(x));
    let (lo, hi) = match pos {
        Position::End => (siblings.last().and_then(key_of), None),
        Position::Before(x) => {
            let i = find(x)?;
            (i.checked_sub(1).and_then(|j| key_of(&siblings[j])), key_of(&siblings[i]))
        }
        Position::After(x) => {
            let i = find(x)?;
            (key_of(&siblings[i]), siblings.get(i + 1).and_then(key_of))
        }
    };
    ordering::between(lo.as_deref(), hi.as_deref()).map_err(PlaceError::NoKey)
}

/// Orders documents as a tree: top-level ones by kind then sibling order,
/// each followed by its children; documents whose parent is missing go
/// last; the workspace's own document is left out.
pub fn tree_order(docs: Vec<Document>) -> Vec<Document> {
    let mut by_parent: HashMap<Option<Id>, Vec<Document>> = HashMap::new();
    let ids: HashSet<Id> = docs.iter().map(|d| d.id).collect();
    let mut orphans = Vec::new();
    for d in docs {
        if d.kind == Kind::Workspace {
            continue;
        }
        match d.parent_id {
            Some(p) if !ids.contains(&p) => orphans.push(d),
            p => by_parent.entry(p).or_default().push(d),
        }
    }
    for v in by_parent.values_mut() {
        v.sort_by(|a, b| {
            (a.kind.parents().is_empty().then_some(a.kind), a.sibling_order())
                .cmp(&(b.kind.parents().is_empty().then_some(b.kind), b.sibling_order()))
        });
    }
    let mut out = Vec::new();
    let mut stack: Vec<Document> = by_parent.remove(&None).unwrap_or_default().into_iter().rev().collect();
    while let Some(d) = stack.pop() {
        if let Some(kids) = by_parent.remove(&Some(d.id)) {
            stack.extend(kids.into_iter().rev());
        }
        out.push(d);
    }
    out.extend(orphans);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fields;

    #[test]
    fn tree_order_puts_children_after_their_parent() {
        let ws = Id::now_v7();
        let mk = |kind, parent, key: &str| Document {
            id: Id::now_v7(),
            kind,
            workspace_id: ws,
            parent_id: parent,
            order_key: Some(key.into()),
            fields: Fields::new(),
            deleted: false,
            version: 0,
        };
        let env = mk(Kind::Environment, None, "F");
        let col = mk(Kind::Collection, None, "V");
        let r2 = mk(Kind::Request, Some(col.id), "W");
        let r1 = mk(Kind::Request, Some(col.id), "V");
        let var = mk(Kind::Variable, Some(env.id), "V");
        let out = tree_order(vec![var.clone(), r2.clone(), env.clone(), r1.clone(), col.clone()]);
        let ids: Vec<Id> = out.iter().map(|d| d.id).collect();
        assert_eq!(ids, vec![col.id, r1.id, r2.id, env.id, var.id]);
    }

    #[test]
    fn key_at_places_between_neighbours() {
        let ws = Id::now_v7();
        let mk = |key: &str| Document {
            id: Id::now_v7(),
            kind: Kind::Request,
            workspace_id: ws,
            parent_id: None,
            order_key: Some(key.into()),
            fields: Fields::new(),
            deleted: false,
            version: 0,
        };
        let (a, b) = (mk("V"), mk("W"));
        let sibs = vec![a.clone(), b.clone()];
        let mid = key_at(&sibs, Position::After(a.id)).unwrap();
        assert!(mid.as_str() > "V" && mid.as_str() < "W");
        assert!(key_at(&sibs, Position::Before(a.id)).unwrap().as_str() < "V");
        assert!(key_at(&sibs, Position::End).unwrap().as_str() > "W");
        let stranger = Id::now_v7();
        assert_eq!(key_at(&sibs, Position::Before(stranger)), Err(PlaceError::NotASibling(stranger)));
    }
}
