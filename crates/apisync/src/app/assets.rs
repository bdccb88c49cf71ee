//! The page and its files, shipped inside the binary as written (no build
//! step): `crates/apisync/app/`.

use axum::http::header;
use axum::response::IntoResponse;

/// One static file of the app.
struct Asset {
    path: &'static str,
    mime: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset { path: "/", mime: "text/html; charset=utf-8", body: include_str!("../../app/index.html") },
    Asset { path: "/app.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/app.js") },
    Asset { path: "/api.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/api.js") },
    Asset { path: "/sync_icon.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/sync_icon.js") },
    Asset { path: "/tree.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/tree.js") },
    Asset { path: "/workspaces.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/workspaces.js") },
    Asset { path: "/account.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/account.js") },
    Asset { path: "/account.css", mime: "text/css; charset=utf-8", body: include_str!("../../app/account.css") },
    Asset { path: "/conflicts.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/conflicts.js") },
    Asset { path: "/editor.js", mime: "text/javascript; charset=utf-8", body: include_str!("../../app/editor.js") },
    Asset { path: "/editor.css", mime: "text/css; charset=utf-8", body: include_str!("../../app/editor.css") },
    Asset { path: "/tree.css", mime: "text/css; charset=utf-8", body: include_str!("../../app/tree.css") },
    Asset { path: "/style.css", mime: "text/css; charset=utf-8", body: include_str!("../../app/style.css") },
];

/// The page's Content-Security-Policy: only the app's own files, no inline
/// script, so an injected title could not run even if it reached the markup.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Serves `path` when it is one of the app's files.
pub async fn serve(uri: axum::http::Uri) -> axum::response::Response {
    match ASSETS.iter().find(|a| a.path == uri.path()) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.mime),
                (header::CONTENT_SECURITY_POLICY, CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            a.body,
        )
            .into_response(),
        None => super::api::not_found().await.into_response(),
    }
}
