//! The page and its files, shipped inside the binary as written (no build
//! step): `crates/apisync/app/`.

use axum::http::header;
use axum::response::IntoResponse;

/// One static file of the app.
struct Asset {
    path: &'static str,
    body: &'static str,
}

/// A file of `crates/apisync/app/`, served at `/NAME`.
macro_rules! asset {
    ($file:literal) => {
        Asset { path: concat!("/", $file), body: include_str!(concat!("../../app/", $file)) }
    };
}

const ASSETS: &[Asset] = &[
    Asset { path: "/", body: include_str!("../../app/index.html") },
    asset!("app.js"),
    asset!("api.js"),
    asset!("sync_icon.js"),
    asset!("tree.js"),
    asset!("workspaces.js"),
    asset!("account.js"),
    asset!("account.css"),
    asset!("conflicts.js"),
    asset!("editor.js"),
    asset!("editor.css"),
    asset!("tree.css"),
    asset!("style.css"),
    asset!("pages.js"),
    asset!("page_dom.js"),
    asset!("environments.js"),
    asset!("presets.js"),
    asset!("records.js"),
    asset!("pages.css"),
    asset!("transfer.js"),
    asset!("scratchpad.js"),
    asset!("account_pages.js"),
    asset!("account_pages.css"),
    asset!("response_view.js"),
    asset!("response.css"),
    asset!("send_pane.js"),
    asset!("runner_panel.js"),
    asset!("mirrors.js"),
];

/// A file's type, from its name.
fn mime(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/html; charset=utf-8",
    }
}

/// The page's Content-Security-Policy: only the app's own files, no inline
/// script, so an injected title could not run even if it reached the markup.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The app's file at `uri`, if it is one; `apisync serve` serves the web
/// version's pages through this.
pub fn page(uri: &axum::http::Uri) -> Option<axum::response::Response> {
    let a = ASSETS.iter().find(|a| a.path == uri.path())?;
    Some(
        (
            [
                (header::CONTENT_TYPE, mime(a.path)),
                (header::CONTENT_SECURITY_POLICY, CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            a.body,
        )
            .into_response(),
    )
}

/// Serves `path` when it is one of the app's files.
pub async fn serve(uri: axum::http::Uri) -> axum::response::Response {
    match page(&uri) {
        Some(r) => r,
        None => super::api::not_found().await.into_response(),
    }
}
