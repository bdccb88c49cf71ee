//! The web version's export: a collection, an environment or a workspace's
//! globals as the Postman file `apisync export` writes, and the whole
//! account as the data dump `apisync export --all` writes (the backup),
//! downloaded, at the desktop app's paths (`files_api.rs`, `account_api.rs`). The Postman writers live with the
//! binary (the `formats` crate, which this crate does not depend on), so
//! the binary hands them in as [`ExportFn`], as it hands in the pages.

use super::{Ctx, WebState};
use crate::error::{Failure, PathArg};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use model::tree::tree_order;
use model::{Document, Id, Kind};
use protocol::ErrorCode;

/// What the web version asks to have written as a Postman file.
pub enum ExportOf<'a> {
    /// A collection or an environment, with its workspace's live documents.
    Doc(&'a Document, &'a [Document]),
    /// A workspace's globals.
    Globals(&'a [Document]),
    /// Every live document of the account's workspaces, each workspace's
    /// own document first, then the rest in tree order: the backup.
    Everything(&'a [Document]),
}

/// A file to download.
pub struct Download {
    /// The name the browser saves it under (safe in a header).
    pub name: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// Writes a Postman file, or says why this document is not exported on its
/// own (a request goes with its collection).
pub type ExportFn = fn(ExportOf<'_>) -> Result<Download, String>;

/// The writer the binary handed in; without one, export is the desktop app's.
fn writer(web: &super::Web) -> Result<ExportFn, Failure> {
    web.state.config.web_export.ok_or_else(|| {
        Failure::new(ErrorCode::NotFound, "this server does not export files: use the desktop app (`apisync app`) or `apisync export`")
    })
}

/// `GET /api/export/doc/{id}`: a collection (Postman Collection Format
/// v2.1.0) or an environment, as `apisync export` writes it, from the
/// workspace as the server has it now.
pub(super) async fn export_doc(State(web): WebState, ctx: Ctx, PathArg(id): PathArg<Id>) -> Result<Response, Failure> {
    ctx.signed_in()?;
    let write = writer(&web)?;
    let doc = web.find(&ctx, id).await?;
    let docs = web.all_docs(&ctx, doc.workspace_id).await?;
    download(write(ExportOf::Doc(&doc, &docs)))
}

/// `GET /api/export/globals/{workspace}`: the workspace's globals, as
/// `apisync export --globals` writes them.
pub(super) async fn export_globals(State(web): WebState, ctx: Ctx, PathArg(ws): PathArg<Id>) -> Result<Response, Failure> {
    ctx.signed_in()?;
    let write = writer(&web)?;
    let globals: Vec<Document> = web.all_docs(&ctx, ws).await?.into_iter().filter(|d| d.kind == Kind::Global).collect();
    download(write(ExportOf::Globals(&globals)))
}

/// `GET /api/export`: every workspace of the account, as the server has it
/// now, as one data dump, the file `apisync export --all` writes on a
/// device of the account (the browser keeps no Scratch Pad to add).
pub(super) async fn export_everything(State(web): WebState, ctx: Ctx) -> Result<Response, Failure> {
    ctx.signed_in()?;
    let write = writer(&web)?;
    let mut all = Vec::new();
    // One workspace read at a time: each read already waits its turn among
    // the process's listings, so a large account does not take them all.
    for ws in web.workspace_list(&ctx).await? {
        let docs = web.all_docs(&ctx, ws.id).await?;
        // As a device's backup: the workspace's own document (its name and
        // description) first, then its content in tree order.
        all.extend(docs.iter().filter(|d| d.kind == Kind::Workspace).cloned());
        all.extend(tree_order(docs));
    }
    download(write(ExportOf::Everything(&all)))
}

/// The file as a download; never cached (an environment's file holds the
/// account's secrets, as the CLI's does).
fn download(file: Result<Download, String>) -> Result<Response, Failure> {
    let file = file.map_err(|message| Failure::new(ErrorCode::BadRequest, message))?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name))
        .map_err(|_| Failure::new(ErrorCode::Internal, "the export's file name cannot go in a header"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        file.bytes,
    )
        .into_response())
}
