//! Who may use the app: the browser that opened the printed address, and no
//! other local user or web page. Every request passes [`check`]:
//!
//! - `Host` must be `127.0.0.1:PORT` or `localhost:PORT`, so a DNS-rebinding
//!   page (its own name resolving to 127.0.0.1) is refused;
//! - the per-launch secret in the printed URL is exchanged once per browser
//!   for an `HttpOnly; SameSite=Strict` cookie; everything else needs it;
//! - a state-changing request (and the live channel) with a foreign `Origin`
//!   is refused (CSRF); a state-changing one without `Origin` too.

use super::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The per-launch secrets and the origins the app answers on.
pub struct Guard {
    /// The secret printed in the URL.
    secret: String,
    /// The cookie value a browser gets in exchange for the secret.
    session: String,
    /// The cookie's name: cookies are not kept apart by port, so two apps on
    /// one machine must not overwrite each other's.
    cookie_name: String,
    /// The `Host` values accepted.
    hosts: [String; 2],
    /// The `Origin` values accepted.
    origins: [String; 2],
}

/// 32 random bytes as hex, from the operating system's generator.
fn token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot get random bytes for the app's secret: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares without stopping at the first difference, so response timing
/// does not reveal how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Guard {
    /// New secrets for an app listening on `port`.
    pub fn new(port: u16) -> anyhow::Result<Guard> {
        Ok(Guard {
            secret: token()?,
            session: token()?,
            cookie_name: format!("apisync_app_{port}"),
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            origins: [format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")],
        })
    }

    /// The secret to print in the address.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// `None`: no `Origin` header; `Some(ok)`: whether it is the app's own.
    fn origin_ok(&self, headers: &HeaderMap) -> Option<bool> {
        let origin = headers.get(header::ORIGIN)?;
        Some(origin.to_str().is_ok_and(|o| self.origins.iter().any(|own| own.eq_ignore_ascii_case(o))))
    }

    fn has_cookie(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == self.cookie_name && same(value, &self.session))
    }

    /// The secret from `?secret=…`, when it is the right one.
    fn secret_in(&self, query: Option<&str>) -> bool {
        query.unwrap_or("").split('&').filter_map(|p| p.split_once('=')).any(|(k, v)| k == "secret" && same(v, &self.secret))
    }

    /// The answer to a page load carrying the right secret: the cookie, and
    /// a redirect to the same page without the secret in the address bar.
    fn exchange(&self) -> Response {
        let cookie = format!("{}={}; HttpOnly; SameSite=Strict; Path=/", self.cookie_name, self.session);
        let mut res = Redirect::to("/").into_response();
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
        res
    }
}

/// The middleware every request of the app passes.
pub async fn check(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    if !guard.host_ok(headers) {
        return AppError::forbidden(
            "bad_host",
            "this app answers only on 127.0.0.1 or localhost with its own port; open the address `apisync app` printed",
        )
        .into_response();
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // A foreign `Origin` is refused on every request, the live channel's too.
    match guard.origin_ok(headers) {
        Some(false) => {
            return AppError::forbidden("bad_origin", "requests from other sites are refused (cross-site request forgery)").into_response();
        }
        // Browsers send `Origin` on every POST, PATCH and DELETE: one
        // without it did not come from the app's page.
        None if changes_state => {
            return AppError::forbidden("missing_origin", "a change must come from the app's page (no Origin header)").into_response();
        }
        _ => {}
    }
    if req.method() == Method::GET && req.uri().path() == "/" && guard.secret_in(req.uri().query()) {
        return guard.exchange();
    }
    if !guard.has_cookie(req.headers()) {
        return AppError::forbidden(
            "no_session",
            "this browser has no app session; open the address with the secret that `apisync app` printed",
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }

    #[test]
    fn secret_is_read_from_the_query_only_when_right() {
        let g = Guard::new(1234).unwrap();
        let right = format!("a=1&secret={}", g.secret());
        assert!(g.secret_in(Some(&right)));
        assert!(!g.secret_in(Some("secret=nope")));
        assert!(!g.secret_in(None));
    }
}
