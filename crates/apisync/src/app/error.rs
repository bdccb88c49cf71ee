//! The app API's one error shape: a status and `{"error":{"code","message"}}`,
//! the body every apisync HTTP error has.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An app API failure: what went wrong and what to do, for the page to show.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A code a program can match.
    pub code: &'static str,
    /// A message a person can act on.
    pub message: String,
}

impl AppError {
    /// A refusal by the app's guard (secret, Host, Origin).
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> AppError {
        AppError { status: StatusCode::FORBIDDEN, code, message: message.into() }
    }

    /// Input the app cannot use.
    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError { status: StatusCode::BAD_REQUEST, code: "invalid", message: message.into() }
    }
}

impl From<client::ClientError> for AppError {
    fn from(e: client::ClientError) -> AppError {
        use client::ClientError as E;
        let (status, code) = match &e {
            E::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            E::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            E::NotSignedIn => (StatusCode::CONFLICT, "not_signed_in"),
            E::Unreachable(_) => (StatusCode::BAD_GATEWAY, "unreachable"),
            E::Untrusted(_) => (StatusCode::BAD_GATEWAY, "untrusted_certificate"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        AppError { status, code, message: e.to_string() }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> AppError {
        // Keeps the extractor's status (400, 413 for a body over the limit,
        // 415 without a JSON content type) but gives it the JSON error body.
        let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "invalid" };
        AppError { status: r.status(), code, message: r.body_text() }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": { "code": self.code, "message": self.message } }))).into_response()
    }
}
