//! Calls of the `/v1` API made in process for a browser: the same router,
//! extractors and rules a device's request meets, with the browser's
//! session token and address.

use super::{Ctx, Web};
use crate::error::Failure;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use model::{Document, Id, Mutation};
use protocol::{ApiError, Changes, DocsAnswer, DocsRequest, ErrorBody, ErrorCode, Outcome, PushRequest, PushResponse, WorkspaceInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use tower_service::Service;

/// The largest answer read back: a page of changes is at most
/// [`protocol::limits::PAGE_BYTES`] of documents, with room for framing.
const ANSWER_LIMIT: usize = protocol::limits::PAGE_BYTES * 2;

/// Pages of changes one listing reads at most (each up to
/// [`protocol::limits::MAX_PAGE`] documents).
const MAX_PAGES: usize = 1000;

fn internal(what: impl std::fmt::Display) -> Failure {
    tracing::error!(%what, "web host: an internal call failed");
    Failure::new(ErrorCode::Internal, "the web version could not reach the server's API inside this process")
}

impl Web {
    /// Calls `/v1` for the browser; a non-2xx answer becomes its error.
    pub(super) async fn call(&self, ctx: &Ctx, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<axum::body::Bytes, Failure> {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = &ctx.token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in &ctx.forwarded {
            b = b.header(k, v);
        }
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let mut req = b.body(Body::from(body.unwrap_or_default())).map_err(internal)?;
        if let Some(peer) = ctx.peer {
            req.extensions_mut().insert(peer);
        }
        let mut v1 = self.v1.clone();
        std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut v1, cx)).await.map_err(internal)?;
        let res = v1.call(req).await.map_err(internal)?;
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), ANSWER_LIMIT).await.map_err(internal)?;
        if status.is_success() {
            return Ok(bytes);
        }
        let error = serde_json::from_slice::<ErrorBody>(&bytes).map(|b| b.error).unwrap_or_else(|_| {
            let code = if status == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::PayloadTooLarge } else { ErrorCode::Internal };
            ApiError::new(code, format!("the server answered {status}"))
        });
        Err(Failure::from(error))
    }

    /// A GET of `/v1`, its answer as `T`.
    pub(super) async fn get<T: DeserializeOwned>(&self, ctx: &Ctx, path: &str) -> Result<T, Failure> {
        let bytes = self.call(ctx, Method::GET, path, None).await?;
        serde_json::from_slice(&bytes).map_err(internal)
    }

    /// A call of `/v1` with a JSON body, its answer as `T`.
    pub(super) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        ctx: &Ctx,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, Failure> {
        let body = serde_json::to_vec(body).map_err(internal)?;
        let bytes = self.call(ctx, method, path, Some(body)).await?;
        serde_json::from_slice(&bytes).map_err(internal)
    }

    /// The workspaces the session's account is in.
    pub(super) async fn workspace_list(&self, ctx: &Ctx) -> Result<Vec<WorkspaceInfo>, Failure> {
        Ok(self.get::<protocol::Workspaces>(ctx, "/v1/workspaces").await?.workspaces)
    }

    /// Every live document of a workspace, read page by page; a document
    /// changed while the pages are read is kept at its latest version.
    pub(super) async fn all_docs(&self, ctx: &Ctx, ws: Id) -> Result<Vec<Document>, Failure> {
        let _turn = self.listings.acquire().await.map_err(internal)?;
        let mut by_id: HashMap<Id, Document> = HashMap::new();
        let mut after = 0;
        for _ in 0..MAX_PAGES {
            let page: Changes =
                self.get(ctx, &format!("/v1/workspaces/{ws}/changes?after={after}&limit={}", protocol::limits::MAX_PAGE)).await?;
            for d in page.docs {
                match by_id.get(&d.id) {
                    Some(old) if old.version >= d.version => {}
                    _ => {
                        by_id.insert(d.id, d);
                    }
                }
            }
            if !page.more {
                return Ok(by_id.into_values().filter(|d| !d.deleted).collect());
            }
            after = page.next;
        }
        Err(Failure::new(ErrorCode::PayloadTooLarge, "this workspace is too large for the web version to list; use the desktop app"))
    }

    /// A live document of any of the account's workspaces.
    pub(super) async fn find(&self, ctx: &Ctx, id: Id) -> Result<Document, Failure> {
        for ws in self.workspace_list(ctx).await? {
            let answer: DocsAnswer =
                self.send(ctx, Method::POST, &format!("/v1/workspaces/{}/docs", ws.id), &DocsRequest { ids: vec![id] }).await?;
            if let Some(d) = answer.docs.into_iter().find(|d| d.id == id) {
                if d.deleted {
                    break;
                }
                return Ok(d);
            }
        }
        Err(Failure::new(ErrorCode::NotFound, format!("no document {id} in your workspaces (it may have been deleted)")))
    }

    /// Pushes `mutations` to `ws` as this browser's device; any mutation the
    /// server did not apply in full becomes the error.
    pub(super) async fn push(&self, ctx: &Ctx, ws: Id, mutations: Vec<Mutation>) -> Result<(), Failure> {
        let answer: PushResponse = self
            .send(
                ctx,
                Method::POST,
                &format!("/v1/workspaces/{ws}/push"),
                &PushRequest { answered_before: mutations.first().map(|m| m.mutation_id), connection: None, mutations },
            )
            .await?;
        for r in answer.results {
            match r.outcome {
                Outcome::Applied { conflicts, .. } if conflicts.is_empty() => {}
                Outcome::Applied { conflicts, .. } => {
                    let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
                    return Err(Failure::new(
                        ErrorCode::Conflict,
                        format!(
                            "another device changed {} at the same moment; its value is kept: look again and save once more",
                            fields.join(", ")
                        ),
                    ));
                }
                Outcome::Conflict { .. } => {
                    return Err(Failure::new(
                        ErrorCode::Conflict,
                        "another device changed or deleted this document at the same moment; look again",
                    ));
                }
                Outcome::Rejected { code, message } => return Err(Failure::new(code, message)),
            }
        }
        Ok(())
    }
}
