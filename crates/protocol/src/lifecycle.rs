//! Bodies of the account life cycle: password reset and username recovery
//! by email, password change, account deletion.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `POST /v1/auth/password/forgot` | [`ForgotPassword`] | 202 [`Accepted`] (the same whether or not the account exists) |
//! | `POST /v1/auth/password/reset` | [`ResetPassword`] | 204; 400 `invalid_token` |
//! | `POST /v1/auth/username/recover` | [`RecoverUsername`] | 202 [`Accepted`] |
//! | `POST /v1/account/password` | [`ChangePassword`] | 204; the account's other devices are signed out |
//! | `DELETE /v1/account` | | 204; 409 `team_member` while in a team |

use serde::{Deserialize, Serialize};

/// `POST /v1/auth/password/forgot`: mails a single-use reset token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotPassword {
    /// Username or email.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub user: String,
}

/// `POST /v1/auth/password/reset`: sets a new password with a mailed token
/// and signs every device of the account out.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetPassword {
    pub token: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 1024))]
    pub password: String,
}

/// `POST /v1/auth/username/recover`: mails the username of an email.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoverUsername {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub email: String,
}

/// `POST /v1/account/password`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePassword {
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub current: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 1024))]
    pub new: String,
}

/// The answer to requests whose outcome is sent by mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    pub message: String,
}

impl std::fmt::Debug for ResetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPassword").field("token", &"<redacted>").field("password", &"<redacted>").finish()
    }
}

impl std::fmt::Debug for ChangePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangePassword").field("current", &"<redacted>").field("new", &"<redacted>").finish()
    }
}
