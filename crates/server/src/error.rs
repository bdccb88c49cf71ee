//! Turning failures into `{ "error": { "code", "message" } }` answers:
//! storage failures, and the rejections of the extractors requests pass
//! through (a JSON body, path parameters, the query string), so that no
//! 4xx or 5xx leaves with axum's plain-text body.

use crate::store::{Fault, StorageFault, StoreError};
use axum::Json;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use protocol::{ApiError, ErrorBody, ErrorCode};

/// Characters of a rejected value quoted back in a message.
const QUOTED_CHARS: usize = 64;

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

impl Failure {
    /// Says when to try again: `details.retry_after_secs` in the body and
    /// a `Retry-After` header.
    pub fn retry_after(mut self, wait: std::time::Duration) -> Failure {
        self.error.details = Some(serde_json::json!({ "retry_after_secs": wait.as_secs().max(1) }));
        self
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
        let retry = self.error.details.as_ref().and_then(|d| d.get("retry_after_secs")).and_then(|v| v.as_u64());
        let mut response = (status, Json(ErrorBody { error: self.error })).into_response();
        if let Some(secs) = retry {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        response
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

/// Path parameters whose rejections are [`Failure`]s naming the parameter.
pub struct PathArg<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for PathArg<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PathArg(v)),
            Err(rejection) => {
                // Tuples report a position; the route's parameters give its name.
                let names: Vec<String> = match RawPathParams::from_request_parts(parts, state).await {
                    Ok(raw) => raw.iter().map(|(k, _)| k.to_string()).collect(),
                    Err(_) => Vec::new(),
                };
                Err(path_failure(rejection, &names))
            }
        }
    }
}

/// `value` quoted, cut to [`QUOTED_CHARS`] characters.
fn quoted(value: &str) -> String {
    let mut cut: String = value.chars().take(QUOTED_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

fn path_failure(r: PathRejection, names: &[String]) -> Failure {
    let PathRejection::FailedToDeserializePathParams(e) = r else {
        tracing::error!(rejection = %r.body_text(), "a route without the path parameters its handler reads");
        return Failure::new(ErrorCode::Internal, "the server could not read this path; the server log has the details");
    };
    let bad = |key: &str, value: &str, why: &str| {
        Failure::new(ErrorCode::BadRequest, format!("`{key}` in the path is not valid: {} {why}", quoted(value)))
    };
    let name = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("parameter {}", i + 1));
    match e.kind() {
        ErrorKind::DeserializeError { key, value, message } => bad(key, value, &format!("({message})")),
        ErrorKind::ParseErrorAtKey { key, value, expected_type } => bad(key, value, &format!("is not a {expected_type}")),
        ErrorKind::ParseErrorAtIndex { index, value, expected_type } => bad(&name(*index), value, &format!("is not a {expected_type}")),
        ErrorKind::ParseError { value, expected_type } => bad(&name(0), value, &format!("is not a {expected_type}")),
        ErrorKind::InvalidUtf8InPathParam { key } => {
            Failure::new(ErrorCode::BadRequest, format!("`{key}` in the path is not valid: it is not UTF-8 once percent-decoded"))
        }
        other => {
            tracing::error!(error = %other, "path parameters that do not fit their handler");
            Failure::new(ErrorCode::Internal, "the server could not read this path; the server log has the details")
        }
    }
}

/// A query string whose rejections are [`Failure`]s naming the parameter.
/// Parameters it does not know are ignored; one given twice is refused.
pub struct QueryArg<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for QueryArg<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default()).map(QueryArg)
    }
}

fn parse_query<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, Failure> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // The path is "." when the error is about the whole string (a parameter given twice names itself).
        let at = if path == "." { String::new() } else { format!("`{path}`: ") };
        Failure::new(ErrorCode::BadRequest, format!("the query string is not valid: {at}{} (see docs/PROTOCOL.md)", e.inner()))
    })
}

/// The answer to a method a path does not take; axum adds the `Allow` header.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Failure {
    Failure::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {}: the Allow header lists the methods it takes (see docs/PROTOCOL.md)", uri.path()),
    )
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
    fn query_strings_name_the_parameter_at_fault() {
        let message = |q: &str| parse_query::<protocol::ChangesQuery>(q).err().map(|f| f.error.message).unwrap_or_default();
        assert!(message("after=-1").contains("`after`: invalid digit"), "{}", message("after=-1"));
        assert!(message("limit=x").contains("`limit`"), "{}", message("limit=x"));
        assert!(message("after=1&after=2").contains("duplicate field `after`"), "{}", message("after=1&after=2"));
        let q: protocol::ChangesQuery = parse_query("after=7&unknown=1").unwrap();
        assert_eq!((q.after, q.limit), (7, None));
        assert!(quoted(&"x".repeat(500)).chars().count() < QUOTED_CHARS + 4);
    }

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
