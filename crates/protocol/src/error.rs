//! The error body every 4xx and 5xx answer carries.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, for a program to match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a value is invalid.
    BadRequest,
    /// The body is not valid JSON of the expected shape.
    InvalidJson,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// No token, or a token the server does not know.
    Unauthorized,
    /// The session timed out; sign in again.
    SessionExpired,
    /// This device was signed out from another device.
    SessionRevoked,
    /// Wrong user name, email or password.
    InvalidCredentials,
    /// The email is already registered.
    EmailTaken,
    /// The username is already registered.
    UsernameTaken,
    /// The account already has the most devices signed in.
    DeviceLimit,
    /// No such thing, or not yours to see.
    NotFound,
    /// You may see it but not change it.
    Forbidden,
    /// The path exists but does not take this method.
    MethodNotAllowed,
    /// Too many attempts; wait and retry.
    RateLimited,
    /// The account this token belonged to was deleted: drop its local data.
    AccountDeleted,
    /// A password-reset token that is unknown, used or expired.
    InvalidToken,
    /// Refused while the account is in a team (leave it first).
    TeamMember,
    /// Somebody else changed the same thing first (the web version's edits).
    Conflict,
    /// The device's cursor is older than the deletions the server still
    /// keeps: pull the workspace again from 0 (its unsent edits stay).
    RestoreRequired,
    /// The server cannot serve right now (storage down); retry later.
    Unavailable,
    /// A bug on the server.
    Internal,
    /// A code this version does not know (a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::InvalidJson | ErrorCode::InvalidToken => 400,
            ErrorCode::Unauthorized
            | ErrorCode::SessionExpired
            | ErrorCode::SessionRevoked
            | ErrorCode::InvalidCredentials
            | ErrorCode::AccountDeleted => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::EmailTaken | ErrorCode::UsernameTaken | ErrorCode::DeviceLimit | ErrorCode::TeamMember | ErrorCode::Conflict => 409,
            ErrorCode::RestoreRequired => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }

    /// The code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error itself: a code and a message a person can act on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// For programs.
    pub code: ErrorCode,
    /// For people: what was wrong and what to do.
    pub message: String,
    /// Structured extras, e.g. the signed-in devices for `device_limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// The JSON body of every error answer: `{ "error": { "code", "message" } }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

impl ApiError {
    /// An error with no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), details: None }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}
