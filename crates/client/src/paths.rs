//! Naming documents the way a person sees them: by id, or by the path of
//! titles from the top of a workspace ("Orders API/List orders").

use crate::{ClientError, Device};
use model::{Document, Id};

/// The documents `path` names among `docs` (one workspace's live documents):
/// titles separated by `/`, from a top-level document down.
pub fn matches<'d>(docs: &'d [Document], path: &str) -> Vec<&'d Document> {
    let mut level: Vec<&Document> = Vec::new();
    for (i, seg) in path.split('/').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
        level = if i == 0 {
            docs.iter().filter(|d| d.parent_id.is_none() && d.title() == seg).collect()
        } else {
            docs.iter().filter(|d| d.title() == seg && level.iter().any(|p| Some(p.id) == d.parent_id)).collect()
        };
        if level.is_empty() {
            break;
        }
    }
    level
}

impl Device {
    /// The document `reference` names: an id, or a path of titles searched
    /// in `workspace` (every workspace on the device when `None`).
    pub fn find(&self, workspace: Option<&str>, reference: &str) -> Result<Id, ClientError> {
        self.find_of(workspace, reference, &[])
    }

    /// As [`Device::find`], counting only documents of `kinds` (any kind when
    /// empty): a collection and an environment may share a name.
    pub fn find_of(&self, workspace: Option<&str>, reference: &str, kinds: &[model::Kind]) -> Result<Id, ClientError> {
        if let Ok(id) = reference.trim().parse::<Id>() {
            return Ok(id);
        }
        let spaces = match workspace {
            Some(w) => vec![self.resolve_workspace(Some(w))?],
            None => self.workspaces()?,
        };
        let mut found: Vec<(Id, String)> = Vec::new();
        for ws in spaces {
            let docs = self.list(Some(&ws.id.to_string()), None)?;
            let wanted = matches(&docs, reference).into_iter().filter(|d| kinds.is_empty() || kinds.contains(&d.kind));
            found.extend(wanted.map(|d| (d.id, format!("{} {} in '{}'", d.id, d.kind, ws.name))));
        }
        match found.len() {
            1 => Ok(found[0].0),
            0 => Err(ClientError::NotFound(format!(
                "no document has the id or path '{reference}'; a path is titles from the top, such as \"Orders API/List orders\" (`apisync ls` shows them)"
            ))),
            n => Err(ClientError::Invalid(format!(
                "'{reference}' names {n} documents: {}; use an id, or --workspace",
                found.into_iter().map(|(_, d)| d).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Fields, Kind};

    fn doc(title: &str, kind: Kind, parent: Option<Id>) -> Document {
        let mut fields = Fields::new();
        fields.insert("name".into(), title.into());
        Document { id: Id::now_v7(), kind, workspace_id: Id::nil(), parent_id: parent, order_key: None, fields, deleted: false, version: 1 }
    }

    #[test]
    fn a_path_walks_titles_down_from_the_top() {
        let api = doc("Orders API", Kind::Collection, None);
        let folder = doc("v2", Kind::Folder, Some(api.id));
        let list = doc("List orders", Kind::Request, Some(folder.id));
        let stray = doc("List orders", Kind::Request, None);
        let docs = vec![api.clone(), folder.clone(), list.clone(), stray.clone()];
        assert_eq!(matches(&docs, "Orders API/v2/List orders").iter().map(|d| d.id).collect::<Vec<_>>(), vec![list.id]);
        assert_eq!(matches(&docs, " Orders API / v2 ").iter().map(|d| d.id).collect::<Vec<_>>(), vec![folder.id]);
        assert_eq!(matches(&docs, "List orders").iter().map(|d| d.id).collect::<Vec<_>>(), vec![stray.id]);
        assert!(matches(&docs, "Orders API/List orders").is_empty());
        assert!(matches(&docs, "Nope/v2").is_empty());
    }
}
