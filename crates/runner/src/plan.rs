//! A collection, or one folder of it, flattened into the requests a run
//! sends, in the tree's order, each with what it inherits from the folders
//! and the collection above it (auth, scripts, variables).

use model::{Document, Id, Kind};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Why a run cannot be planned.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// The document to run is not among the documents given.
    #[error("no collection or folder with id {0} here; `apisync ls` lists them")]
    NotFound(Id),
    /// The document to run is a request, environment or the like.
    #[error("{name:?} is a {kind}: `apisync run` runs a collection or a folder, `apisync send` sends a request")]
    NotRunnable {
        /// Its name.
        name: String,
        /// What it is.
        kind: Kind,
    },
}

/// A collection or folder above a request: what its requests inherit.
#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    /// Its id.
    pub id: Id,
    /// Its name.
    pub name: String,
    /// Its `auth` (absent or `null`: inherit from above).
    pub auth: Option<Value>,
    /// Its `event` list (pre-request and test scripts).
    pub events: Value,
    /// Its `protocolProfileBehavior` (redirects, TLS checks, body pruning), if any.
    pub behavior: Option<Value>,
}

/// One request of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The request document's id.
    pub id: Id,
    /// Its name.
    pub name: String,
    /// The Postman v2.1 request (`method`, `url`, `header`, `body`, `auth`, `description`).
    pub request: Value,
    /// Its own `event` list.
    pub events: Value,
    /// Its `protocolProfileBehavior` over those of the levels above it (nearest wins, key by key), if any says anything.
    pub behavior: Option<Value>,
    /// The collection and folders above it, outermost first.
    pub ancestors: Vec<Arc<Level>>,
}

impl Step {
    /// The auth it inherits: ancestors' `auth`, nearest first.
    pub fn inherited_auth(&self) -> Vec<&Value> {
        self.ancestors.iter().rev().filter_map(|l| l.auth.as_ref()).collect()
    }

    /// Its folders' names, outermost first (the collection's left out).
    pub fn path(&self) -> Vec<&str> {
        self.ancestors.iter().skip(1).map(|l| l.name.as_str()).collect()
    }

    /// The scripts that run for `listen` (`prerequest` or `test`), in
    /// Postman's order: the collection's, each folder's, then the request's.
    pub fn scripts(&self, listen: &str) -> Vec<String> {
        self.ancestors.iter().map(|l| &l.events).chain([&self.events]).filter_map(|e| script(e, listen)).collect()
    }
}

/// What a run goes through.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The collection the run belongs to (also when a folder is run).
    pub collection: Arc<Level>,
    /// The collection's variables (`variable`: `[{key, value, disabled}]`), enabled ones.
    pub variables: Vec<(String, Value)>,
    /// The requests, in the tree's order.
    pub steps: Vec<Step>,
}

/// Plans a run of `root` (a collection or a folder) over its workspace's
/// documents (any order; deleted ones are skipped).
pub fn plan(docs: &[Document], root: Id) -> Result<Plan, PlanError> {
    let live: Vec<&Document> = docs.iter().filter(|d| !d.deleted).collect();
    let by_id: HashMap<Id, &Document> = live.iter().map(|d| (d.id, *d)).collect();
    let mut children: HashMap<Id, Vec<&Document>> = HashMap::new();
    for d in &live {
        if let Some(p) = d.parent_id {
            children.entry(p).or_default().push(d);
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.sibling_order().cmp(&b.sibling_order()));
    }
    let start = by_id.get(&root).ok_or(PlanError::NotFound(root))?;
    if !matches!(start.kind, Kind::Collection | Kind::Folder) {
        return Err(PlanError::NotRunnable { name: start.title().to_string(), kind: start.kind });
    }
    let mut chain = levels_above(&by_id, start);
    chain.push(Arc::new(level(start)));
    let collection = Arc::clone(&chain[0]);
    let collection_doc = by_id.get(&collection.id).copied().unwrap_or(start);
    let mut steps = Vec::new();
    walk(start.id, &children, &mut chain, &mut steps);
    Ok(Plan { collection, variables: enabled_variables(collection_doc.fields.get("variable")), steps })
}

/// Plans a send of one request: the request as its only step, with the
/// collection and folders above it.
pub fn plan_request(docs: &[Document], request: Id) -> Result<Plan, PlanError> {
    let by_id: HashMap<Id, &Document> = docs.iter().filter(|d| !d.deleted).map(|d| (d.id, d)).collect();
    let doc = by_id.get(&request).ok_or(PlanError::NotFound(request))?;
    if doc.kind != Kind::Request {
        return Err(PlanError::NotRunnable { name: doc.title().to_string(), kind: doc.kind });
    }
    let chain = levels_above(&by_id, doc);
    let collection = chain.first().cloned().unwrap_or_else(|| {
        Arc::new(Level { id: doc.id, name: String::new(), auth: None, events: Value::Array(Vec::new()), behavior: None })
    });
    let variables = by_id
        .get(&collection.id)
        .filter(|c| c.kind == Kind::Collection)
        .map(|c| enabled_variables(c.fields.get("variable")))
        .unwrap_or_default();
    Ok(Plan { collection, variables, steps: vec![step(doc, &chain)] })
}

/// The collection and folders above `doc`, outermost first; bounded by the
/// model's tree depth, so a damaged tree cannot loop forever.
fn levels_above(by_id: &HashMap<Id, &Document>, doc: &Document) -> Vec<Arc<Level>> {
    let mut chain = Vec::new();
    let mut at = doc.parent_id.and_then(|p| by_id.get(&p).copied());
    for _ in 0..model::Limits::TREE_DEPTH {
        let Some(d) = at else { break };
        chain.push(Arc::new(level(d)));
        at = d.parent_id.and_then(|p| by_id.get(&p).copied());
    }
    chain.reverse();
    chain
}

fn walk(parent: Id, children: &HashMap<Id, Vec<&Document>>, chain: &mut Vec<Arc<Level>>, steps: &mut Vec<Step>) {
    // As deep as the model lets a tree go, and no deeper: a damaged tree cannot recurse forever.
    if chain.len() > model::Limits::TREE_DEPTH {
        return;
    }
    for d in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
        match d.kind {
            Kind::Folder => {
                chain.push(Arc::new(level(d)));
                walk(d.id, children, chain, steps);
                chain.pop();
            }
            Kind::Request => steps.push(step(d, chain)),
            _ => {}
        }
    }
}

fn level(d: &Document) -> Level {
    Level {
        id: d.id,
        name: d.title().to_string(),
        auth: d.fields.get("auth").filter(|a| !a.is_null()).cloned(),
        events: events(d),
        behavior: d.fields.get("protocolProfileBehavior").filter(|b| b.is_object()).cloned(),
    }
}

fn events(d: &Document) -> Value {
    d.fields.get("event").cloned().unwrap_or(Value::Array(Vec::new()))
}

fn step(d: &Document, chain: &[Arc<Level>]) -> Step {
    let mut request = Map::new();
    for key in ["method", "url", "header", "body", "auth", "description"] {
        if let Some(v) = d.fields.get(key).filter(|v| !v.is_null()) {
            request.insert(key.into(), v.clone());
        }
    }
    Step {
        id: d.id,
        name: d.title().to_string(),
        request: Value::Object(request),
        events: events(d),
        behavior: behavior(chain, d.fields.get("protocolProfileBehavior")),
        ancestors: chain.to_vec(),
    }
}

/// `protocolProfileBehavior` as Postman applies it: the collection's, then
/// each folder's, then the request's own, a nearer level's key winning.
fn behavior(chain: &[Arc<Level>], own: Option<&Value>) -> Option<Value> {
    let mut merged = Map::new();
    for b in chain.iter().filter_map(|l| l.behavior.as_ref()).chain(own).filter_map(Value::as_object) {
        merged.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    (!merged.is_empty()).then_some(Value::Object(merged))
}

/// The source of an `event` list's enabled script for `listen`: `exec` as
/// lines or as one text. Postman keeps one script per event kind.
pub fn script(events: &Value, listen: &str) -> Option<String> {
    let list = events.as_array()?;
    let e =
        list.iter().find(|e| e.get("listen").and_then(Value::as_str) == Some(listen) && e.get("disabled") != Some(&Value::Bool(true)))?;
    let exec = e.get("script")?.get("exec")?;
    let text = match exec {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"),
        _ => return None,
    };
    (!text.trim().is_empty()).then_some(text)
}

/// A `variable` list's enabled entries, as key and value.
pub fn enabled_variables(list: Option<&Value>) -> Vec<(String, Value)> {
    let Some(list) = list.and_then(Value::as_array) else { return Vec::new() };
    list.iter()
        .filter(|v| v.get("disabled") != Some(&Value::Bool(true)) && v.get("enabled") != Some(&Value::Bool(false)))
        .filter_map(|v| {
            let key = v.get("key").or_else(|| v.get("id")).and_then(Value::as_str)?;
            Some((key.to_string(), v.get("value").cloned().unwrap_or(Value::String(String::new()))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(n: u128, kind: Kind, parent: Option<u128>, key: &str, fields: Value) -> Document {
        Document {
            id: Id::from_u128(n),
            kind,
            workspace_id: Id::from_u128(1),
            parent_id: parent.map(Id::from_u128),
            order_key: Some(key.into()),
            fields: fields.as_object().cloned().unwrap_or_default(),
            deleted: false,
            version: 1,
        }
    }

    fn tree() -> Vec<Document> {
        let test = |src: &str| json!([{"listen": "test", "script": {"exec": [src]}}]);
        vec![
            doc(
                10,
                Kind::Collection,
                None,
                "a",
                json!({"name": "C", "auth": {"type": "bearer"}, "event": test("c"), "variable": [{"key": "host", "value": "h"}, {"key": "off", "value": "x", "disabled": true}]}),
            ),
            doc(
                20,
                Kind::Folder,
                Some(10),
                "b",
                json!({"name": "F", "event": test("f"), "protocolProfileBehavior": {"followRedirects": false, "strictSSL": false}}),
            ),
            doc(
                21,
                Kind::Request,
                Some(20),
                "b",
                json!({"name": "second", "method": "POST", "url": "u2", "event": test("r2"), "protocolProfileBehavior": {"strictSSL": true}}),
            ),
            doc(22, Kind::Request, Some(20), "a", json!({"name": "first", "method": "GET", "url": "u1", "auth": {"type": "basic"}})),
            doc(30, Kind::Request, Some(10), "a", json!({"name": "top", "url": "u0"})),
            doc(31, Kind::Response, Some(30), "a", json!({"name": "example"})),
            {
                let mut d = doc(32, Kind::Request, Some(10), "c", json!({"name": "gone"}));
                d.deleted = true;
                d
            },
        ]
    }

    #[test]
    fn requests_come_in_tree_order_with_what_they_inherit() {
        let p = plan(&tree(), Id::from_u128(10)).unwrap();
        let names: Vec<&str> = p.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["top", "first", "second"]);
        assert_eq!(p.variables, vec![("host".to_string(), json!("h"))]);
        let second = &p.steps[2];
        assert_eq!(second.path(), ["F"]);
        assert_eq!(second.scripts("test"), ["c", "f", "r2"]);
        assert_eq!(second.inherited_auth(), vec![&json!({"type": "bearer"})]);
        assert_eq!(second.request["method"], "POST");
        assert_eq!(
            second.behavior,
            Some(json!({"followRedirects": false, "strictSSL": true})),
            "the folder's, the request's own key winning"
        );
        assert_eq!(p.steps[0].behavior, None);
    }

    #[test]
    fn a_folder_runs_with_the_collection_above_it() {
        let p = plan(&tree(), Id::from_u128(20)).unwrap();
        assert_eq!(p.collection.name, "C");
        assert_eq!(p.steps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["first", "second"]);
        assert_eq!(p.steps[0].scripts("test"), ["c", "f"]);
    }

    #[test]
    fn one_request_is_planned_with_what_is_above_it() {
        let p = plan_request(&tree(), Id::from_u128(21)).unwrap();
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].scripts("test"), ["c", "f", "r2"]);
        assert_eq!(p.variables, vec![("host".to_string(), json!("h"))]);
        assert!(matches!(plan_request(&tree(), Id::from_u128(20)), Err(PlanError::NotRunnable { kind: Kind::Folder, .. })));
    }

    #[test]
    fn a_tree_whose_parents_loop_is_planned_without_end() {
        let mut docs = tree();
        // The collection made a child of its own folder: nothing above it ever ends.
        docs[0].parent_id = Some(Id::from_u128(20));
        let p = plan(&docs, Id::from_u128(20)).unwrap();
        assert!(p.steps.len() <= 64 * 3, "{} steps", p.steps.len());
        assert!(plan_request(&docs, Id::from_u128(21)).is_ok());
    }

    #[test]
    fn only_collections_and_folders_run() {
        assert_eq!(plan(&tree(), Id::from_u128(99)), Err(PlanError::NotFound(Id::from_u128(99))));
        assert!(matches!(plan(&tree(), Id::from_u128(30)), Err(PlanError::NotRunnable { kind: Kind::Request, .. })));
    }

    #[test]
    fn disabled_and_empty_scripts_do_not_run() {
        let events =
            json!([{"listen": "test", "disabled": true, "script": {"exec": ["x"]}}, {"listen": "prerequest", "script": {"exec": "  "}}]);
        assert_eq!(script(&events, "test"), None);
        assert_eq!(script(&events, "prerequest"), None);
    }
}
