//! The operator's endpoints: `/healthz` (the process answers), `/readyz`
//! (storage answers and takes writes) and `/metrics` (Prometheus), the
//! last either on the public listener behind a bearer token or on a
//! listener of its own (`--metrics-addr`), as the operator chooses.

use crate::error::Failure;
use crate::{AppState, metrics};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use protocol::ErrorCode;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// A readiness check that takes longer fails: a probe must not hang.
pub const READY_TIMEOUT: Duration = Duration::from_secs(5);

fn ok() -> axum::Json<protocol::Health> {
    axum::Json(protocol::Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// `GET /healthz`: 200 while the process serves at all; touches nothing.
pub(crate) async fn health() -> axum::Json<protocol::Health> {
    ok()
}

/// `GET /readyz`: 200 when storage answers and takes a write (tried and
/// rolled back) within [`READY_TIMEOUT`], else 503 saying why.
pub(crate) async fn ready(State(state): State<AppState>) -> Result<axum::Json<protocol::Health>, Failure> {
    use crate::store::StoreError;
    let why = match tokio::time::timeout(READY_TIMEOUT, state.store.ready()).await {
        Ok(Ok(())) => return Ok(ok()),
        Err(_) => format!("storage did not answer within {} s", READY_TIMEOUT.as_secs()),
        Ok(Err(StoreError::Corrupt(reason))) => format!(
            "the database is damaged ({reason}); the server refuses changes until it is restored from a backup (see `apisync backup` in the README)"
        ),
        Ok(Err(StoreError::ReadOnly(reason))) => {
            format!("the server cannot write its storage ({reason}); make the data directory (or the database) writable for the server")
        }
        Ok(Err(StoreError::Unavailable(reason))) => format!("storage is unavailable ({reason})"),
        Ok(Err(other)) => format!("storage failed a test write ({other})"),
    };
    tracing::warn!(reason = %why, "not ready");
    Err(Failure::new(ErrorCode::Unavailable, format!("not ready: {why}")))
}

fn scrape(state: &AppState) -> Response {
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], state.metrics.render(&state.store)).into_response()
}

/// Whether the headers carry `Authorization: Bearer <token>`, compared in
/// constant time (digests of equal length, so the length leaks nothing either).
fn holds_token(headers: &HeaderMap, token: &str) -> bool {
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let Some(given) = given else { return false };
    Sha256::digest(given.trim().as_bytes()).ct_eq(&Sha256::digest(token.as_bytes())).into()
}

/// `GET /metrics` on the public listener: only with the operator's token.
pub(crate) async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = state.config.metrics_token.as_ref().map(|t| t.expose()).unwrap_or_default();
    if token.is_empty() || !holds_token(&headers, token) {
        return Failure::new(ErrorCode::Unauthorized, "/metrics needs `Authorization: Bearer` with the server's --metrics-token")
            .into_response();
    }
    scrape(&state)
}

/// The routes of the `--metrics-addr` listener: `/metrics` without a token
/// (the address itself is the guard), and the probes.
pub(crate) fn private_routes(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(|State(state): State<AppState>| async move { scrape(&state) }))
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .fallback(|| async { Failure::new(ErrorCode::NotFound, "this listener serves /metrics, /healthz and /readyz only") })
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_must_be_given_exactly_as_a_bearer() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            h
        };
        assert!(holds_token(&with("Bearer s3cret"), "s3cret"));
        assert!(!holds_token(&with("Bearer s3cre"), "s3cret"));
        assert!(!holds_token(&with("Bearer s3cret2"), "s3cret"));
        assert!(!holds_token(&with("Basic s3cret"), "s3cret"));
        assert!(!holds_token(&HeaderMap::new(), "s3cret"));
    }
}
