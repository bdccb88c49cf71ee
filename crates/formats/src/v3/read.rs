//! v3 files to the v2.1 JSON the importer reads: a collection directory
//! becomes one v2.1 collection; a `postman/` folder becomes a data dump of
//! its collections, environments and globals. Every file is checked before
//! anything is built, so a bad file fails the whole read.

use super::node::Node;
use super::yaml_in::{file_error, parse};
use super::{Files, Source, from_v3, patch};
use crate::{FormatError, MAX_FOLDER_DEPTH};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const DEFINITION: &str = ".resources/definition.yaml";
const REQUEST_SUFFIX: &str = ".request.yaml";
const EXAMPLE_SUFFIX: &str = ".example.yaml";
const ENVIRONMENT_SUFFIX: &str = ".environment.yaml";
const GLOBALS_SUFFIX: &str = ".globals.yaml";
/// The `$kind`s apisync reads, for messages.
const KINDS: &str = "collection, http-request, graphql-request, http-example, environment, globals";

/// The v2.1 JSON of a whole read, the sources of its documents in import order, and notes.
pub(crate) struct Built {
    pub(crate) value: Value,
    pub(crate) sources: Vec<Source>,
    pub(crate) notes: Vec<String>,
}

/// A parsed file with its `$kind`.
struct File {
    path: String,
    node: Node,
    kind: String,
}

fn load(files: &Files, path: &str) -> Result<File, FormatError> {
    let bytes = files.get(path).map(Vec::as_slice).unwrap_or_default();
    let node = parse(path, bytes)?;
    let kind = match node.get("$kind") {
        Some(Node::Str(k)) => k.clone(),
        Some(other) => {
            return Err(file_error(
                path,
                None,
                format!("'$kind' is {}, not a string; it names what the file holds ({KINDS})", other.type_name()),
            ));
        }
        None => {
            return Err(file_error(path, None, format!("has no '$kind'; a v3 file starts with `$kind:` naming what it holds ({KINDS})")));
        }
    };
    Ok(File { path: path.to_string(), node, kind })
}

fn expect_kind(f: &File, allowed: &[&str], what: &str) -> Result<(), FormatError> {
    if allowed.contains(&f.kind.as_str()) {
        return Ok(());
    }
    let known = KINDS.split(", ").any(|k| k == f.kind);
    let message = if known {
        format!("is a '{}' file where {what} belongs ($kind {}); move it or fix its $kind", f.kind, allowed.join(" or "))
    } else {
        format!("has an unknown $kind '{}'; apisync reads {KINDS} — remove the file or fix its $kind", f.kind)
    };
    Err(file_error(&f.path, None, message))
}

fn order_of(n: &Node) -> Option<i64> {
    match n.get("order") {
        Some(Node::Num(x)) => x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

/// The file's `name:`, else the name its path gives it.
fn name_of(n: &Node, from_path: &str) -> String {
    n.get("name").and_then(Node::as_str).map_or_else(|| from_path.to_string(), str::to_string)
}

/// Applies the file's `x-apisync` to what its keys rebuilt.
fn finish(f: &File, rebuilt: Map<String, Value>, notes: &mut Vec<String>) -> Value {
    let mut v = Value::Object(rebuilt);
    if let Some(ext) = f.node.get(patch::KEY) {
        notes.extend(patch::apply(ext, &mut v).into_iter().map(|n| format!("{}: {n}", f.path)));
    }
    v
}

/// A directory of a collection: its definition, requests and subfolders.
#[derive(Default)]
struct Dir {
    definition: Option<String>,
    requests: Vec<String>,
    /// Request stem -> example files.
    examples: BTreeMap<String, Vec<String>>,
    dirs: BTreeMap<String, Dir>,
}

impl Dir {
    fn at(&mut self, segments: &[&str]) -> &mut Dir {
        segments.iter().fold(self, |d, s| d.dirs.entry((*s).to_string()).or_default())
    }
}

/// Reads the collection directory whose files are those under `prefix`.
/// `name` is the directory's own name when the reader can see it.
fn collection(files: &Files, prefix: &str, dir_name: Option<&str>, out: &mut Built) -> Result<Value, FormatError> {
    let mut root = Dir::default();
    for path in files.keys().filter(|p| p.starts_with(prefix)) {
        let rel = &path[prefix.len()..];
        let segments: Vec<&str> = rel.split('/').collect();
        let (file, dirs) = segments.split_last().map_or(("", &[][..]), |(f, d)| (*f, d));
        if let Some(i) = dirs.iter().position(|s| *s == ".resources") {
            let owner = &dirs[..i];
            match &dirs[i + 1..] {
                [] if file == "definition.yaml" => root.at(owner).definition = Some(path.clone()),
                [stem_dir, examples] if *examples == "examples" && stem_dir.ends_with(".resources") && file.ends_with(EXAMPLE_SUFFIX) => {
                    let stem = &stem_dir[..stem_dir.len() - ".resources".len()];
                    root.at(owner).examples.entry(stem.to_string()).or_default().push(path.clone());
                }
                _ => stray(files, path, out)?,
            }
        } else if file.ends_with(REQUEST_SUFFIX) {
            root.at(dirs).requests.push(path.clone());
        } else {
            stray(files, path, out)?;
        }
    }
    let Some(def_path) = root.definition.clone() else {
        return Err(file_error(prefix, None, format!("has no {DEFINITION}; a v3 collection directory holds the collection there")));
    };
    let def = load(files, &def_path)?;
    expect_kind(&def, &["collection"], "a collection definition")?;
    let name = def.node.get("name").and_then(Node::as_str).map(str::to_string);
    let name = name.or_else(|| dir_name.map(str::to_string)).unwrap_or_else(|| super::write::UNNAMED_COLLECTION.to_string());
    out.sources.push(Source { path: def_path.clone(), order: None });
    let rebuilt = from_v3::collection(&def.node, &name);
    let mut value = finish(&def, rebuilt, &mut out.notes);
    let items = dir_items(files, &root, prefix, out, 0)?;
    if let Value::Object(m) = &mut value {
        m.insert("item".into(), Value::Array(items));
    }
    Ok(value)
}

/// A file in a collection directory that is no definition, request or example.
fn stray(files: &Files, path: &str, out: &mut Built) -> Result<(), FormatError> {
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        let f = load(files, path)?;
        return Err(file_error(
            path,
            None,
            match f.kind.as_str() {
                "http-example" => {
                    "is an example outside any request's `.resources/<request>.resources/examples/`; move it there".to_string()
                }
                "collection" => "is a definition outside a `.resources/definition.yaml`; move it there".to_string(),
                k if KINDS.split(", ").any(|known| known == k) => {
                    format!("is a '{k}' file in the wrong place (requests end in {REQUEST_SUFFIX}); rename or move it")
                }
                k => format!("has an unknown $kind '{k}'; apisync reads {KINDS} — remove the file or fix its $kind"),
            },
        ));
    }
    out.notes.push(format!("{path}: not a v3 file; skipped"));
    Ok(())
}

/// The folders and requests of `dir`, in `order:` order, as v2.1 items.
fn dir_items(files: &Files, dir: &Dir, prefix: &str, out: &mut Built, depth: usize) -> Result<Vec<Value>, FormatError> {
    if depth > MAX_FOLDER_DEPTH {
        return Err(FormatError::TooDeep { path: prefix.to_string(), limit: MAX_FOLDER_DEPTH });
    }
    enum Child<'d> {
        Folder(&'d str, &'d Dir, Option<File>),
        Request(File),
    }
    let mut children: Vec<(Option<i64>, String, Child)> = Vec::new();
    for (name, sub) in &dir.dirs {
        let def = match &sub.definition {
            Some(p) => {
                let f = load(files, p)?;
                expect_kind(&f, &["collection"], "a folder definition")?;
                Some(f)
            }
            None => {
                out.notes.push(format!("{prefix}{name}/: a folder without {DEFINITION}; read as an empty folder named '{name}'"));
                None
            }
        };
        children.push((def.as_ref().and_then(|d| order_of(&d.node)), name.clone(), Child::Folder(name, sub, def)));
    }
    for path in &dir.requests {
        let f = load(files, path)?;
        expect_kind(&f, &["http-request", "graphql-request"], "a request")?;
        let file = path.rsplit('/').next().unwrap_or(path);
        children.push((order_of(&f.node), file.to_string(), Child::Request(f)));
    }
    let known: std::collections::HashSet<String> =
        dir.requests.iter().map(|p| p.rsplit('/').next().unwrap_or(p).trim_end_matches(REQUEST_SUFFIX).to_string()).collect();
    if let Some((stem, paths)) = dir.examples.iter().find(|(stem, _)| !known.contains(*stem)) {
        return Err(file_error(
            &paths[0],
            None,
            format!(
                "is an example of request '{stem}', but there is no {prefix}{stem}{REQUEST_SUFFIX}; restore the request or remove its examples"
            ),
        ));
    }
    // Postman orders siblings by `order`; items without one come last, by name.
    children.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
    let mut items = Vec::with_capacity(children.len());
    for (order, _, child) in children {
        match child {
            Child::Folder(name, sub, def) => {
                let node = def.as_ref().map_or(Node::Map(Vec::new()), |d| d.node.clone());
                let path = def.as_ref().map_or_else(|| format!("{prefix}{name}/"), |d| d.path.clone());
                out.sources.push(Source { path, order });
                let rebuilt = from_v3::folder(&node, &name_of(&node, name));
                let mut value = match &def {
                    Some(d) => finish(d, rebuilt, &mut out.notes),
                    None => Value::Object(rebuilt),
                };
                let sub_items = dir_items(files, sub, &format!("{prefix}{name}/"), out, depth + 1)?;
                if let Value::Object(m) = &mut value {
                    m.insert("item".into(), Value::Array(sub_items));
                }
                items.push(value);
            }
            Child::Request(f) => {
                let file = f.path.rsplit('/').next().unwrap_or(&f.path);
                let stem = &file[..file.len() - REQUEST_SUFFIX.len()];
                out.sources.push(Source { path: f.path.clone(), order });
                let rebuilt = from_v3::request(&f.node, &name_of(&f.node, stem), f.kind == "graphql-request");
                let mut value = finish(&f, rebuilt, &mut out.notes);
                let examples = examples(files, dir.examples.get(stem).map(Vec::as_slice).unwrap_or_default(), out)?;
                match value.get_mut("response") {
                    Some(Value::Array(list)) => *list = examples,
                    _ if !examples.is_empty() => {
                        // x-apisync replaced the list; the example files cannot be placed.
                        for _ in &examples {
                            out.sources.pop();
                        }
                        out.notes.push(format!("{}: its examples are ignored: apisync kept a non-list 'response' for it", f.path));
                    }
                    _ => {}
                }
                items.push(value);
            }
        }
    }
    Ok(items)
}

fn examples(files: &Files, paths: &[String], out: &mut Built) -> Result<Vec<Value>, FormatError> {
    let mut loaded = Vec::with_capacity(paths.len());
    for p in paths {
        let f = load(files, p)?;
        expect_kind(&f, &["http-example"], "an example")?;
        loaded.push((order_of(&f.node), p.clone(), f));
    }
    loaded.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
    let mut list = Vec::with_capacity(loaded.len());
    for (order, path, f) in loaded {
        let file = path.rsplit('/').next().unwrap_or(&path);
        let stem = &file[..file.len() - EXAMPLE_SUFFIX.len()];
        out.sources.push(Source { path: path.clone(), order });
        let rebuilt = from_v3::example(&f.node, &name_of(&f.node, stem));
        list.push(finish(&f, rebuilt, &mut out.notes));
    }
    Ok(list)
}

/// A v3 collection directory (its files' paths relative to it).
pub(crate) fn read_collection(files: &Files) -> Result<Built, FormatError> {
    let mut out = Built { value: Value::Null, sources: Vec::new(), notes: Vec::new() };
    out.value = collection(files, "", None, &mut out)?;
    Ok(out)
}

/// A `postman/` folder: `collections/<dir>/…`, `environments/*.environment.yaml`, `globals/*.globals.yaml`.
pub(crate) fn read_workspace(files: &Files) -> Result<Built, FormatError> {
    let mut out = Built { value: Value::Null, sources: Vec::new(), notes: Vec::new() };
    let mut collection_dirs: Vec<String> = Vec::new();
    let (mut envs, mut globals) = (Vec::new(), Vec::new());
    for path in files.keys() {
        let segments: Vec<&str> = path.split('/').collect();
        match segments.as_slice() {
            ["collections", dir, ..] if segments.len() > 2 => {
                if !collection_dirs.iter().any(|d| d == dir) {
                    collection_dirs.push((*dir).to_string());
                }
            }
            ["environments", file] if file.ends_with(ENVIRONMENT_SUFFIX) => envs.push(path.clone()),
            ["globals", file] if file.ends_with(GLOBALS_SUFFIX) => globals.push(path.clone()),
            _ if path.ends_with(REQUEST_SUFFIX) || path.ends_with(EXAMPLE_SUFFIX) => {
                return Err(file_error(
                    path,
                    None,
                    "is a request or example outside any collection; a collection is a directory under collections/ \
                     with .resources/definition.yaml — move the file into one",
                ));
            }
            _ => out
                .notes
                .push(format!("{path}: skipped; apisync reads collections/, environments/*.environment.yaml and globals/*.globals.yaml")),
        }
    }
    let mut collections = Vec::new();
    for dir in &collection_dirs {
        collections.push(collection(files, &format!("collections/{dir}/"), Some(dir), &mut out)?);
    }
    let mut environments = Vec::new();
    for path in &envs {
        let f = load(files, path)?;
        expect_kind(&f, &["environment"], "an environment")?;
        let file = path.rsplit('/').next().unwrap_or(path);
        let stem = &file[..file.len() - ENVIRONMENT_SUFFIX.len()];
        let rebuilt = from_v3::environment(&f.node, &name_of(&f.node, stem));
        let value = finish(&f, rebuilt, &mut out.notes);
        out.sources.push(Source { path: path.clone(), order: None });
        let count = value.get("values").and_then(Value::as_array).map_or(0, |v| v.iter().filter(|x| x.is_object()).count());
        out.sources.extend((0..count).map(|_| Source { path: path.clone(), order: None }));
        environments.push(value);
    }
    let mut global_values = Vec::new();
    for path in &globals {
        let f = load(files, path)?;
        expect_kind(&f, &["globals"], "globals")?;
        let rebuilt = json!({"values": from_v3::variables(f.node.get("values"))});
        let mut v = rebuilt;
        if let Some(ext) = f.node.get(patch::KEY) {
            out.notes.extend(patch::apply(ext, &mut v).into_iter().map(|n| format!("{path}: {n}")));
        }
        let list = v.get("values").and_then(Value::as_array).cloned().unwrap_or_default();
        out.sources.extend(list.iter().filter(|x| x.is_object()).map(|_| Source { path: path.clone(), order: None }));
        global_values.extend(list);
    }
    out.value = json!({"version": 1, "collections": collections, "environments": environments, "globals": global_values});
    Ok(out)
}
