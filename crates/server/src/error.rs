//! Turning failures into `{ "error": { "code", "message" } }` answers.

use crate::store::{Fault, StorageFault, StoreError};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::{ApiError, ErrorBody, ErrorCode};

/// An error answer.
#[derive(Debug)]
pub struct Failure {
    /// What the client is told.
    pub error: ApiError,
    /// The storage fault behind it, which the store remembers (see [`StorageFault`]).
    fault: Option<Fault>,
}

impl Failure {
    /// A failure with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure::from(ApiError::new(code, message))
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Failure {
        Failure { error, fault: None }
    }
}

impl StorageFault for Failure {
    fn storage_fault(&self) -> Option<Fault> {
        self.fault.clone()
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorBody { error: self.error })).into_response()
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        let fault = e.storage_fault();
        Failure { fault, ..answer(e) }
    }
}

/// What the client is told of a storage failure.
fn answer(e: StoreError) -> Failure {
    match e {
        StoreError::EmailTaken => {
            Failure::new(ErrorCode::EmailTaken, "that email is already registered; sign in with `apisync login`, or use another email")
        }
        StoreError::UsernameTaken => Failure::new(ErrorCode::UsernameTaken, "that username is taken; choose another"),
        StoreError::Limit(message) => Failure::new(ErrorCode::PayloadTooLarge, message),
        StoreError::Unavailable(ref reason) => {
            tracing::error!(%reason, "storage unavailable");
            Failure::new(ErrorCode::Unavailable, "the server's storage is unavailable right now; nothing was changed, retry shortly")
        }
        StoreError::ReadOnly(ref reason) => {
            tracing::error!(%reason, "storage is read-only");
            Failure::new(
                ErrorCode::Unavailable,
                "the server cannot write its storage (it is read-only); nothing was changed. Retry later: its operator must make it writable",
            )
        }
        StoreError::Corrupt(ref reason) => {
            tracing::error!(%reason, "the database is damaged; writes are refused until it is restored");
            Failure::new(
                ErrorCode::Unavailable,
                "the server's database is damaged, so it refuses changes until its operator restores a backup; nothing was changed",
            )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_faults_answer_503_and_bugs_500() {
        let code = |e: StoreError| Failure::from(e).error.code;
        assert_eq!(code(StoreError::Unavailable("busy".into())), ErrorCode::Unavailable);
        assert_eq!(code(StoreError::ReadOnly("read-only file system".into())), ErrorCode::Unavailable);
        assert_eq!(code(StoreError::Corrupt("malformed".into())), ErrorCode::Unavailable);
        assert_eq!(code(StoreError::Backend("syntax error".into())), ErrorCode::Internal);
        assert_eq!(code(StoreError::Unreadable("bad id".into())), ErrorCode::Internal);
        assert_eq!(code(StoreError::EmailTaken), ErrorCode::EmailTaken);
    }
}
