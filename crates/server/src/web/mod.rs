//! The web version of the app, served by `apisync serve` at `/`: the app's
//! pages and the same app API the desktop app (`apisync app`) serves, for a
//! browser whose session is one of the account's devices.
//!
//! The host keeps no state of its own: the session cookie holds the
//! device's bearer token, and every app API call becomes calls of the
//! ordinary `/v1` API, made in process through the same router with the
//! browser's address, so sign-in limits, roles, validation and the change
//! log apply exactly as for any device, and any server process of a
//! PostgreSQL deployment can answer any request. Online only, as Postman's
//! web version is: an edit is a push, answered when the server applied it.

mod account;
mod docs;
mod events;
mod export;
mod import;
mod internal;
mod pages;
mod profile;
mod recovery;
mod teams;

use crate::AppState;
use crate::error::Failure;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use protocol::ErrorCode;
use std::net::SocketAddr;
use std::sync::Arc;

pub use export::{Download, ExportFn, ExportOf};
pub use import::{Converted, ImportFn, WEB_IMPORT_LIMIT};

/// Answers a path with one of the app's files, when it is one. The files
/// live with the app (`crates/apisync/app/`), so the binary hands this in.
pub type PagesFn = fn(&Uri) -> Option<Response>;

/// The session cookie: the device's bearer token, `HttpOnly` so no script
/// (an injected one included) can read it.
const COOKIE: &str = "apisync_session";

/// Workspace listings built at once; each holds a whole workspace in
/// memory, so a burst waits rather than multiplying that.
const LISTINGS_AT_ONCE: usize = 4;

/// What the web host's handlers share.
pub(crate) struct Web {
    pub(crate) state: AppState,
    /// The `/v1` API, called in process.
    v1: Router,
    listings: tokio::sync::Semaphore,
    /// Imports converted and written at once (each holds a file in memory).
    imports: tokio::sync::Semaphore,
}

/// The web version's routes (`/api/…`), in front of `v1`.
pub(crate) fn routes(state: AppState, v1: Router) -> Router {
    let web = Arc::new(Web {
        state,
        v1,
        listings: tokio::sync::Semaphore::new(LISTINGS_AT_ONCE),
        imports: tokio::sync::Semaphore::new(import::IMPORTS_AT_ONCE),
    });
    Router::new()
        .route("/api/status", get(account::status))
        .route("/api/account/signup", post(account::signup))
        .route("/api/account/login", post(account::login))
        .route("/api/account/logout", post(account::logout))
        .route("/api/workspaces", get(docs::workspaces).post(docs::create_workspace))
        .route("/api/workspaces/{id}", axum::routing::patch(docs::rename_workspace).delete(docs::delete_workspace))
        .route("/api/workspaces/{id}/docs", get(docs::list))
        .route("/api/docs", post(docs::create))
        .route("/api/docs/{id}", get(docs::get).patch(docs::set).delete(docs::delete))
        .route("/api/docs/{id}/duplicate", post(docs::duplicate))
        .route("/api/docs/{id}/move", post(docs::move_doc))
        .route("/api/conflicts", get(docs::conflicts))
        .route("/api/events", get(events::events))
        .route("/api/workspaces/{id}/environments", get(pages::environments))
        .route("/api/workspaces/{id}/active-environment", get(pages::active).put(pages::set_active))
        .route("/api/variables/{id}", get(pages::variable))
        .route("/api/workspaces/{id}/header-presets", get(pages::header_presets))
        .route("/api/workspaces/{id}/history", get(pages::history))
        .route("/api/workspaces/{id}/runs", get(pages::runs))
        .route("/api/account/devices", get(profile::devices))
        .route("/api/account/devices/{id}/sign-out", post(profile::sign_out_device))
        .route("/api/account/password", post(profile::change_password))
        .route("/api/account/delete", post(profile::delete_account))
        .route("/api/account/forgot-password", post(recovery::forgot_password))
        .route("/api/account/reset-password", post(recovery::reset_password))
        .route("/api/account/recover-username", post(recovery::recover_username))
        .route("/api/teams", get(teams::list).post(teams::create))
        .route("/api/teams/{id}/members", get(teams::members))
        .route("/api/teams/{id}/invite", post(teams::invite))
        .route("/api/teams/{id}/role", post(teams::set_role))
        .route("/api/teams/{id}/remove", post(teams::remove))
        .route("/api/teams/{id}/cancel-invitation", post(teams::cancel_invitation))
        .route("/api/teams/{id}/leave", post(teams::leave))
        .route("/api/invitations/{id}/accept", post(teams::accept))
        .route("/api/invitations/{id}/decline", post(teams::decline))
        .route("/api/workspaces/{id}/share", post(teams::share))
        .route("/api/workspaces/{id}/shares", get(teams::shares))
        .route("/api/workspaces/{id}/unshare", post(teams::unshare))
        .route("/api/export", get(export::export_everything))
        .route("/api/export/doc/{id}", get(export::export_doc))
        .route("/api/export/globals/{workspace}", get(export::export_globals))
        .route(
            "/api/import",
            // Its own body limit, and a declared oversize body refused
            // before it is read.
            post(import::import)
                .layer(axum::extract::DefaultBodyLimit::max(WEB_IMPORT_LIMIT))
                .layer(axum::middleware::from_fn(import::declared_size)),
        )
        .route(
            "/api/{*rest}",
            axum::routing::any(|| async {
                Failure::new(
                    ErrorCode::NotFound,
                    "the web version does not have this part of the app yet: use the desktop app (`apisync app`) for it",
                )
            }),
        )
        .layer(axum::middleware::from_fn(same_origin))
        .layer(crate::compression())
        .with_state(web)
}

/// Serves one of the app's files, or `None` for any other path.
pub(crate) fn page(pages: Option<PagesFn>, uri: &Uri) -> Option<Response> {
    pages.and_then(|f| f(uri))
}

/// Refuses what another site's page could make a browser send (CSRF): a
/// change without an `Origin` naming this host, and any request whose
/// `Origin` or `Sec-Fetch-Site` says it comes from elsewhere. The cookie is
/// `SameSite=Strict` too; this holds for browsers that ignore that.
async fn same_origin(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    let matches = |o: &str| o.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
    let cross_site = headers.get("sec-fetch-site").and_then(|h| h.to_str().ok()) == Some("cross-site");
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD);
    let refusal = match origin {
        Some(o) if !matches(o) => {
            Some(format!("this page was opened from {o}, not from this server ({host}); open the app from this server's own address"))
        }
        None if changes => Some("a change must come from the app's own page (the request had no Origin header)".to_string()),
        _ if cross_site => Some("refused a request another site's page made".to_string()),
        _ => None,
    };
    match refusal {
        Some(message) => Failure::new(ErrorCode::Forbidden, message).into_response(),
        None => next.run(req).await,
    }
}

/// Who a request comes from: the session, if any, and what the internal
/// `/v1` calls need to see the same client (its address, as the listener
/// and any trusted proxy gave it).
#[derive(Clone)]
pub(crate) struct Ctx {
    token: Option<String>,
    peer: Option<ConnectInfo<SocketAddr>>,
    forwarded: Vec<(HeaderName, HeaderValue)>,
    /// The page came over TLS: the cookie gets `Secure`.
    secure: bool,
    user_agent: String,
    host: String,
}

impl FromRequestParts<Arc<Web>> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<Web>) -> Result<Self, Self::Rejection> {
        let h = &parts.headers;
        let text = |name: HeaderName| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let forwarded = ["x-forwarded-for", "forwarded", "x-forwarded-proto"]
            .into_iter()
            .filter_map(|n| h.get(n).map(|v| (HeaderName::from_static(n), v.clone())))
            .collect();
        let secure = text(header::ORIGIN).starts_with("https://") || text(HeaderName::from_static("x-forwarded-proto")) == "https";
        Ok(Ctx {
            token: cookie(h, COOKIE),
            peer: parts.extensions.get::<ConnectInfo<SocketAddr>>().copied(),
            forwarded,
            secure,
            user_agent: text(header::USER_AGENT),
            host: text(header::HOST),
        })
    }
}

impl Ctx {
    /// The session's token, or the refusal a signed-out browser gets.
    fn signed_in(&self) -> Result<&str, Failure> {
        self.token.as_deref().ok_or_else(|| Failure::new(ErrorCode::Unauthorized, "signed out: sign in first"))
    }

    /// The `Set-Cookie` that starts a session with `token`, kept as long
    /// as the server keeps an unused session.
    fn start_session(&self, token: &str, idle: std::time::Duration) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let value = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", idle.as_secs());
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The `Set-Cookie` that ends the session in the browser.
    fn end_session(&self) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The value of cookie `name`, if the request carries it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The handlers' state.
pub(crate) type WebState = State<Arc<Web>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; apisync_session=tok; b=2"));
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("tok"));
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, HeaderValue::from_static("apisync_session="));
        assert_eq!(cookie(&empty, COOKIE), None);
    }
}
