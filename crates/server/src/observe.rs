//! Every request: a request id (the caller's `X-Request-Id` when it is
//! sane, else a new one) echoed in the answer's `X-Request-Id`; a `request`
//! span with the id, method and route template that every log line of the
//! request carries, and its status and latency once answered; one line then;
//! and the request metrics (latency by route, 429s, pull bytes).

use crate::metrics::Metrics;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::Instrument;

/// The header that carries the request id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Longest request id taken from a caller.
const MAX_ID_LEN: usize = 128;

/// The caller's id when it is short and made only of characters that are
/// safe in a log line and a header: letters, digits and `-_.:/+=`.
fn sane(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty() && bytes.len() <= MAX_ID_LEN && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b))
}

/// Routes whose answers are pulls, counted in bytes.
fn is_pull(route: &str) -> bool {
    matches!(route, "/v1/workspaces/{id}/changes" | "/v1/workspaces/{id}/docs")
}

/// Probes come every few seconds; their lines only at debug level.
fn is_probe(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics")
}

/// The middleware (see the module's doc).
pub(crate) async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = match req.headers().get(&REQUEST_ID) {
        Some(id) if sane(id) => id.clone(),
        _ => HeaderValue::from_str(&model::Id::now_v7().simple().to_string()).unwrap_or(HeaderValue::from_static("-")),
    };
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    // A path no route matched is logged as it came (its query left out: a
    // token may ride there), but never made a metric label.
    let shown = route.clone().unwrap_or_else(|| req.uri().path().chars().take(200).collect());
    let span = tracing::info_span!(
        "request",
        id = %id.to_str().unwrap_or("-"),
        method = %method,
        route = %shown,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty
    );
    let mut response = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    metrics.answered(&method, route.as_deref(), status, took);
    span.record("status", status);
    // Microseconds are all a person reads; the float's noise is not.
    span.record("latency_ms", (took.as_secs_f64() * 1e6).round() / 1e3);
    match status {
        500.. => tracing::warn!(parent: &span, "answered"),
        _ if route.as_deref().is_some_and(is_probe) => tracing::debug!(parent: &span, "answered"),
        _ => tracing::info!(parent: &span, "answered"),
    }
    response.headers_mut().insert(REQUEST_ID, id);
    if route.as_deref().is_some_and(is_pull) {
        let (parts, body) = response.into_parts();
        response = Response::from_parts(parts, Body::new(Counted { inner: body, metrics }));
    }
    response
}

/// An answer's body that counts its bytes as pull bytes as they go out
/// (after compression), keeping the inner body's size hint, so an
/// uncompressed answer keeps its `Content-Length`.
struct Counted {
    inner: Body,
    metrics: Arc<Metrics>,
}

impl http_body::Body for Counted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.metrics.pulled(data.len());
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_callers_are_bounded_and_plain() {
        let ok = |s: &str| sane(&HeaderValue::from_str(s).unwrap());
        assert!(ok("0190c5c2-aa51-7d40-8a5e-1a2b3c4d5e6f"));
        assert!(ok("Root=1-67891233-abcdef012345678912345678"));
        assert!(ok(&"a".repeat(MAX_ID_LEN)));
        assert!(!ok(&"a".repeat(MAX_ID_LEN + 1)));
        assert!(!ok(""));
        assert!(!ok("two words"));
        assert!(!ok("line\tbreak"));
        assert!(!ok("quote\"d"));
        assert!(!sane(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()));
    }
}
