//! The app's files: importing Postman files (the bytes of a picked or
//! dropped file, through the importer `apisync import` uses), exporting one
//! collection, environment or a workspace's globals as a download (as
//! `apisync export` writes them), and moving the Scratch Pad into a
//! workspace (`apisync scratchpad move`).

use super::AppState;
use super::api::{on_device, parse_id};
use super::error::AppError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use model::{Document, Id, Kind};
use serde::Deserialize;
use serde_json::{Value, json};
use server::web::{Converted, Download, ExportOf};
use std::sync::Arc;

/// The largest file `POST /api/import` reads: the CLI's limit, so a file
/// the CLI imports imports here too (the rest of the API keeps its 2 MiB).
pub const IMPORT_LIMIT: usize = crate::files::MAX_IMPORT_BYTES as usize;

fn internal(message: String) -> AppError {
    AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message }
}

fn too_large() -> AppError {
    AppError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "too_large",
        message: format!(
            "the file is larger than {} MiB, the most apisync imports; export the collections from Postman one by one",
            IMPORT_LIMIT / (1024 * 1024)
        ),
    }
}

/// In front of `POST /api/import`: an upload whose declared length is over
/// `IMPORT_LIMIT` is refused before any of it is read (the body limit alone
/// would only say so once the limit's worth had arrived).
pub async fn declared_size(req: Request, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > IMPORT_LIMIT as u64) {
        return too_large().into_response();
    }
    next.run(req).await
}

/// The query of `POST /api/import`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The workspace (id) to import into; the default one when absent.
    #[serde(default)]
    workspace: Option<String>,
    /// The file's name, for the report and the error message.
    #[serde(default)]
    name: Option<String>,
    /// Replace what an earlier import of the same items made (`--replace`).
    #[serde(default)]
    replace: bool,
}

/// `POST /api/import?workspace=ID&name=FILE[&replace=true]`, the body the
/// file's bytes: converts it as `apisync import` does and writes every
/// document in one transaction (201 with the report: format, counts, notes).
/// A file the importer refuses is a 400 `bad_file` and writes nothing.
pub async fn import(
    State(state): State<Arc<AppState>>,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let Query(q) = query.map_err(|r| AppError::invalid(r.body_text()))?;
    let bytes =
        body.map_err(|r| if r.status() == StatusCode::PAYLOAD_TOO_LARGE { too_large() } else { AppError::invalid(r.body_text()) })?;
    let name = q.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "the file".to_string());
    if bytes.is_empty() {
        return Err(AppError::invalid(format!("{name} is empty; nothing was imported")));
    }
    let workspace = q.workspace.as_deref().map(parse_id).transpose()?.map(|id| id.to_string());
    let replace = q.replace;
    let (ws, converted) = on_device(&state, move |d| {
        let ws = d.resolve_workspace(workspace.as_deref())?;
        // The importer's refusal is the file's fault, kept apart from the
        // device's so it gets its own code.
        Ok((ws.clone(), crate::files::convert(&name, &bytes, ws.id).map_err(|e| (name, e.to_string()))))
    })
    .await?;
    let (docs, entry) = converted.map_err(|(name, e)| AppError {
        status: StatusCode::BAD_REQUEST,
        code: "bad_file",
        message: format!("{name}: {e}; nothing was imported"),
    })?;
    let target = ws.id.to_string();
    let written = on_device(&state, move |d| d.import_documents(Some(&target), &docs, replace)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "workspace": ws.id, "workspace_name": ws.name, "written": written, "files": [entry] }))))
}

/// The web version's import (`server::Config::web_import`): the file
/// through `files::convert`, the conversion `apisync import` and
/// `POST /api/import` here run; the web host writes the documents.
pub fn web_import(name: &str, bytes: &[u8], workspace: Id) -> Result<Converted, String> {
    crate::files::convert(name, bytes, workspace).map(|(documents, report)| Converted { documents, report }).map_err(|e| e.to_string())
}

/// A JSON value as a file: pretty, with a final newline, as `apisync
/// export` writes it.
fn file_text(value: &Value) -> Result<String, AppError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| internal(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

/// A JSON value as a file download named `name`.
pub fn download(name: &str, value: &Value) -> Result<Response, AppError> {
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file_name(name))),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        file_text(value)?,
    )
        .into_response())
}

/// A collection (Postman Collection Format v2.1.0) or an environment, with
/// its workspace's documents, as `apisync export` writes it, and the name
/// its download gets; the desktop app and the web version both export
/// through this.
fn doc_file(doc: &Document, docs: &[Document]) -> Result<(String, Value), AppError> {
    let (value, suffix) = match doc.kind {
        Kind::Collection => (formats::export_collection(doc, docs), "postman_collection"),
        Kind::Environment => (formats::export_environment(doc, docs), "postman_environment"),
        k => return Err(AppError::invalid(format!("a {k} is exported with its collection; export a collection or an environment"))),
    };
    Ok((format!("{}.{suffix}.json", doc.title()), value.map_err(|e| internal(e.to_string()))?))
}

/// The globals' file name.
const GLOBALS_FILE: &str = "globals.postman_globals.json";

/// The web version's export (`server::Config::web_export`): the same files,
/// named the same, as the desktop app's downloads, the backup included.
pub fn web_export(what: ExportOf<'_>) -> Result<Download, String> {
    let (name, value) = match what {
        ExportOf::Doc(doc, docs) => doc_file(doc, docs).map_err(|e| e.message)?,
        ExportOf::Globals(docs) => (GLOBALS_FILE.to_string(), formats::export_globals(docs)),
        ExportOf::Everything(docs) => (super::account_api::backup_name(), crate::files::dump(docs).value),
    };
    Ok(Download { name: file_name(&name), bytes: file_text(&value).map_err(|e| e.message)?.into_bytes() })
}

/// A download name safe in a header and on any file system: letters,
/// digits, `.`, `-` and `_`; anything else becomes `_`.
fn file_name(name: &str) -> String {
    let cleaned: String =
        name.trim().chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).take(120).collect();
    if cleaned.trim_matches(['_', '.']).is_empty() { "export.json".to_string() } else { cleaned }
}

/// `GET /api/export/doc/{id}`: a collection (Postman Collection Format
/// v2.1.0) or an environment, as `apisync export --collection|--environment`
/// writes it, as a download. Reads only, so it works while conflicts wait.
pub async fn export_doc(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (doc, docs) = on_device(&state, move |d| {
        let doc = d.get(id)?;
        let docs = d.list(Some(&doc.workspace_id.to_string()), None)?;
        Ok((doc, docs))
    })
    .await?;
    let (name, value) = doc_file(&doc, &docs)?;
    download(&name, &value)
}

/// `GET /api/export/globals/{workspace}`: the workspace's globals, as
/// `apisync export --globals` writes them, as a download.
pub async fn export_globals(State(state): State<Arc<AppState>>, Path(ws): Path<String>) -> Result<Response, AppError> {
    let ws = parse_id(&ws)?.to_string();
    let docs = on_device(&state, move |d| d.list(Some(&ws), Some(Kind::Global))).await?;
    download(GLOBALS_FILE, &formats::export_globals(&docs))
}

/// The body of `POST /api/scratchpad/move`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The workspace (name or id) of the account to move into.
    workspace: String,
}

/// `POST /api/scratchpad/move {workspace}`: moves everything in the Scratch
/// Pad into a workspace of the account (`Device::move_scratchpad`, what
/// `apisync scratchpad move` calls), in one transaction; the background
/// sync sends it. Refused signed out and for the Scratch Pad itself.
pub async fn move_scratchpad(
    State(state): State<Arc<AppState>>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let Json(b) = body?;
    if b.workspace.trim().is_empty() {
        return Err(AppError::invalid("choose the workspace to move the Scratch Pad into"));
    }
    let which = b.workspace.clone();
    let (moved, ws) = on_device(&state, move |d| {
        let ws = d.resolve_workspace(Some(&which))?;
        Ok((d.move_scratchpad(&which)?, ws))
    })
    .await?;
    Ok(Json(json!({ "moved": moved, "workspace": ws.id, "workspace_name": ws.name })))
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn download_names_keep_only_safe_characters() {
        assert_eq!(file_name("My API.postman_collection.json"), "My_API.postman_collection.json");
        assert_eq!(file_name("a\"b\r\nc/../d"), "a_b__c_.._d");
        assert_eq!(file_name("\"\"\""), "export.json");
    }
}
