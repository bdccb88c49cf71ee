//! Documents to v3 files: the v2.1 JSON that `export_collection` and
//! `export_environment` write, laid out as Postman's v3 directories, with
//! `x-apisync` beside whatever the v3 keys cannot hold.

use super::names::Siblings;
use super::node::Node;
use super::{Files, WriteOptions, Written, from_v3, order, patch, to_v3, yaml_out};
use crate::FormatError;
use crate::export::{Tree, collection_value, environment_value, globals_list};
use model::{Document, Id, Kind};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The name a collection gets when its file has none and its directory cannot say.
pub(crate) const UNNAMED_COLLECTION: &str = "Untitled collection";
/// The names Postman's migrate gives items that have none.
pub(crate) const UNNAMED_FOLDER: &str = "New Folder";
pub(crate) const UNNAMED_REQUEST: &str = "New Request";
pub(crate) const UNNAMED_EXAMPLE: &str = "New Example";

pub(crate) struct Writer<'a> {
    pub(crate) out: Written,
    opts: &'a WriteOptions,
}

fn obj(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

impl<'a> Writer<'a> {
    pub(crate) fn new(opts: &'a WriteOptions) -> Self {
        Writer { out: Written { files: Files::new(), paths: HashMap::new(), orders: HashMap::new() }, opts }
    }

    /// Writes one file: its keys, then `x-apisync` for what the rebuild from them misses.
    fn emit(&mut self, path: String, mut pairs: Vec<(String, Node)>, original: &Value, rebuilt: &Value, ids: &[Id]) {
        if let Some(ext) = patch::make(original, rebuilt) {
            pairs.push((patch::KEY.to_string(), ext));
        }
        self.out.files.insert(path.clone(), yaml_out::document(&pairs).into_bytes());
        for id in ids {
            self.out.paths.insert(*id, path.clone());
        }
    }

    fn orders(&mut self, docs: &[&Document]) -> Vec<i64> {
        let hints: Vec<Option<i64>> = docs.iter().map(|d| self.opts.order_hints.get(&d.id).copied()).collect();
        let numbers = order::assign(&hints);
        for (d, n) in docs.iter().zip(&numbers) {
            self.out.orders.insert(d.id, *n);
        }
        numbers
    }

    /// One collection under `prefix` (`""` or `collections/<dir>/`); `dir_name`
    /// is that directory's name, if it has one the reader will see.
    pub(crate) fn collection(
        &mut self,
        doc: &Document,
        docs: &[Document],
        prefix: &str,
        dir_name: Option<&str>,
    ) -> Result<(), FormatError> {
        let tree = Tree::new(docs);
        let value = collection_value(doc, &tree);
        let mut original = obj(&value);
        let items = original.remove("item").and_then(|i| i.as_array().cloned()).unwrap_or_default();
        let name = original.get("info").and_then(|i| i.get("name")).and_then(Value::as_str).map(str::to_string);
        let seed = format!("{}/auth", crate::export::postman_id(doc));
        // In a workspace the directory is named after the collection; `name:` only when they differ.
        let written = name.as_deref().filter(|n| dir_name != Some(*n));
        let pairs = to_v3::definition(&original, true, written, None, &seed);
        let resolved = name.clone().or_else(|| dir_name.map(str::to_string)).unwrap_or_else(|| UNNAMED_COLLECTION.into());
        let rebuilt = Value::Object(from_v3::collection(&Node::Map(pairs.clone()), &resolved));
        self.emit(format!("{prefix}.resources/definition.yaml"), pairs, &Value::Object(original), &rebuilt, &[doc.id]);
        self.items(prefix, doc.id, &items, &tree, 0)
    }

    fn items(&mut self, prefix: &str, parent: Id, items: &[Value], tree: &Tree, depth: usize) -> Result<(), FormatError> {
        if depth > crate::MAX_FOLDER_DEPTH {
            return Err(FormatError::TooDeep { path: prefix.to_string(), limit: crate::MAX_FOLDER_DEPTH });
        }
        let docs: Vec<&Document> = tree.children(parent, &[Kind::Folder, Kind::Request]).collect();
        let numbers = self.orders(&docs);
        let (mut folders, mut requests) = (Siblings::default(), Siblings::default());
        for ((item, doc), number) in items.iter().zip(&docs).zip(numbers) {
            let mut original = obj(item);
            let given = original.get("name").and_then(Value::as_str).map(str::to_string);
            if doc.kind == Kind::Folder {
                let children = original.remove("item").and_then(|i| i.as_array().cloned()).unwrap_or_default();
                let name = given.unwrap_or_else(|| UNNAMED_FOLDER.into());
                let dir = folders.claim(&name);
                let written = (name != dir).then_some(name.as_str());
                let seed = format!("{}/auth", crate::export::postman_id(doc));
                let pairs = to_v3::definition(&original, false, written, Some(number), &seed);
                let rebuilt = Value::Object(from_v3::folder(&Node::Map(pairs.clone()), written.unwrap_or(&dir)));
                self.emit(format!("{prefix}{dir}/.resources/definition.yaml"), pairs, &Value::Object(original), &rebuilt, &[doc.id]);
                self.items(&format!("{prefix}{dir}/"), doc.id, &children, tree, depth + 1)?;
            } else {
                self.request(prefix, &mut requests, original, given, doc, number, tree);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        prefix: &str,
        siblings: &mut Siblings,
        mut original: Map<String, Value>,
        given: Option<String>,
        doc: &Document,
        number: i64,
        tree: &Tree,
    ) {
        let url = original.get("request").and_then(|r| r.get("url")).and_then(Value::as_str).filter(|u| !u.is_empty());
        let name = given.or_else(|| url.map(str::to_string)).unwrap_or_else(|| UNNAMED_REQUEST.into());
        let stem = siblings.claim(&name);
        let written = (name != stem).then_some(name.as_str());
        let responses = match original.get_mut("response") {
            // Saved responses are files of their own; the request keeps an empty list.
            Some(Value::Array(list)) => std::mem::take(list),
            _ => Vec::new(),
        };
        let examples = (!responses.is_empty()).then(|| format!("./.resources/{stem}.resources/examples"));
        let pairs = to_v3::request(&original, written, examples.as_deref(), number);
        let graphql = to_v3::is_graphql(&original);
        let rebuilt = Value::Object(from_v3::request(&Node::Map(pairs.clone()), written.unwrap_or(&stem), graphql));
        self.emit(format!("{prefix}{stem}.request.yaml"), pairs, &Value::Object(original), &rebuilt, &[doc.id]);
        let docs: Vec<&Document> = tree.children(doc.id, &[Kind::Response]).collect();
        let numbers = self.orders(&docs);
        let mut names = Siblings::default();
        for ((resp, d), number) in responses.iter().zip(&docs).zip(numbers) {
            let original = obj(resp);
            let name = original.get("name").and_then(Value::as_str).map_or_else(|| UNNAMED_EXAMPLE.to_string(), str::to_string);
            let ex = names.claim(&name);
            let written = (name != ex).then_some(name.as_str());
            let pairs = to_v3::example(&original, written, number);
            let rebuilt = Value::Object(from_v3::example(&Node::Map(pairs.clone()), written.unwrap_or(&ex)));
            let path = format!("{prefix}.resources/{stem}.resources/examples/{ex}.example.yaml");
            self.emit(path, pairs, &Value::Object(original), &rebuilt, &[d.id]);
        }
    }

    /// `environments/<name>.environment.yaml` for each environment.
    pub(crate) fn environments(&mut self, docs: &[Document]) {
        let tree = Tree::new(docs);
        let mut names = Siblings::default();
        for env in crate::export::top_level(docs, Kind::Environment) {
            let mut original = obj(&environment_value(env, &tree));
            blank_secrets(original.get_mut("values"));
            let name = original.get("name").and_then(Value::as_str).map_or_else(|| "Environment".to_string(), str::to_string);
            let stem = names.claim(&name);
            let pairs = to_v3::environment(&original);
            let resolved = original.get("name").and_then(Value::as_str).unwrap_or(&stem).to_string();
            let rebuilt = Value::Object(from_v3::environment(&Node::Map(pairs.clone()), &resolved));
            let mut ids = vec![env.id];
            ids.extend(tree.children(env.id, &[Kind::Variable]).map(|v| v.id));
            self.emit(format!("environments/{stem}.environment.yaml"), pairs, &Value::Object(original), &rebuilt, &ids);
        }
    }

    /// `globals/workspace.globals.yaml`, when there are globals.
    pub(crate) fn globals(&mut self, docs: &[Document]) {
        let globals = crate::export::top_level(docs, Kind::Global);
        if globals.is_empty() {
            return;
        }
        let mut list = Value::Array(globals_list(docs));
        blank_secrets(Some(&mut list));
        let pairs = to_v3::globals(&list);
        let node = Node::Map(pairs.clone());
        let rebuilt = serde_json::json!({"values": from_v3::variables(node.get("values"))});
        let original = serde_json::json!({"values": list});
        let ids: Vec<Id> = globals.iter().map(|g| g.id).collect();
        self.emit(super::GLOBALS_FILE.to_string(), pairs, &original, &rebuilt, &ids);
    }
}

/// Secret values are written empty, as Postman writes them, and never kept beside.
fn blank_secrets(values: Option<&mut Value>) {
    for v in values.and_then(Value::as_array_mut).into_iter().flatten() {
        if v.get("type").and_then(Value::as_str) == Some("secret")
            && let Some(value) = v.get_mut("value")
        {
            *value = Value::String(String::new());
        }
    }
}
