//! Turning failures into `{ "error": { "code", "message" } }` answers.

use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::{ApiError, ErrorBody, ErrorCode};

/// An error answer.
#[derive(Debug)]
pub struct Failure(pub ApiError);

impl Failure {
    /// A failure with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure(ApiError::new(code, message))
    }

    /// Says when to try again: `details.retry_after_secs` in the body and
    /// a `Retry-After` header.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Failure {
        self.0.details = Some(serde_json::json!({ "retry_after_secs": wait.as_secs().max(1) }));
        self
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.0.details.as_ref().and_then(|d| d.get("retry_after_secs")).and_then(|v| v.as_u64());
        let mut response = (status, Json(ErrorBody { error: self.0 })).into_response();
        if let Some(secs) = retry {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::EmailTaken => {
                Failure::new(ErrorCode::EmailTaken, "that email is already registered; sign in with `apisync login`, or use another email")
            }
            StoreError::UsernameTaken => Failure::new(ErrorCode::UsernameTaken, "that username is taken; choose another"),
            StoreError::Limit(message) => Failure::new(ErrorCode::PayloadTooLarge, message),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy
                        | rusqlite::ErrorCode::DatabaseLocked
                        | rusqlite::ErrorCode::DiskFull
                        | rusqlite::ErrorCode::CannotOpen
                ) =>
            {
                tracing::error!(error = %e, "storage unavailable");
                Failure::new(ErrorCode::Unavailable, "the server's storage is unavailable right now; nothing was changed, retry shortly")
            }
            StoreError::Postgres(
                ref inner @ (sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)),
            ) => {
                tracing::error!(error = %inner, "PostgreSQL unavailable");
                Failure::new(ErrorCode::Unavailable, "the server's database is unreachable right now; nothing was changed, retry shortly")
            }
            StoreError::Postgres(sqlx::Error::Database(ref db))
                if db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")) =>
            {
                tracing::error!(error = %e, "PostgreSQL unavailable");
                Failure::new(ErrorCode::Unavailable, "the server's database is unreachable right now; nothing was changed, retry shortly")
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                Failure::new(
                    ErrorCode::Internal,
                    "the server failed to complete the request; nothing was changed. The server log has the details",
                )
            }
        }
    }
}

/// A JSON body whose rejections are [`Failure`]s with our error shape.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_failure(rejection)),
        }
    }
}

fn json_failure(r: JsonRejection) -> Failure {
    match r {
        JsonRejection::JsonDataError(e) => {
            Failure::new(ErrorCode::InvalidJson, format!("the body does not have the expected shape: {}", e.body_text()))
        }
        JsonRejection::JsonSyntaxError(e) => Failure::new(ErrorCode::InvalidJson, format!("the body is not valid JSON: {}", e.body_text())),
        JsonRejection::MissingJsonContentType(_) => {
            Failure::new(ErrorCode::BadRequest, "send the body as JSON with Content-Type: application/json")
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Failure::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the body is larger than this call accepts: a push takes up to {} MiB (send fewer mutations per push), any other call {} KiB",
                protocol::limits::MAX_BODY_BYTES / (1024 * 1024),
                protocol::limits::SMALL_BODY_BYTES / 1024
            ),
        ),
        other => Failure::new(ErrorCode::BadRequest, format!("could not read the body: {}", other.body_text())),
    }
}
