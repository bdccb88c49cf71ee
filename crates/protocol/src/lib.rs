//! The wire between an apisync device and server: request and response
//! bodies of the HTTP API (`/v1/...`) and the frames of the live channel.
//! The server and the client share nothing else. See docs/PROTOCOL.md.
//!
//! With the `openapi` feature (the server's) every wire type also derives
//! `utoipa::ToSchema`, which the server's `/openapi.json` is made of: a new
//! type needs `#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]`,
//! and a field of type `Id` needs
//! `#[cfg_attr(feature = "openapi", schema(value_type = Uuid))]` (utoipa
//! knows a UUID by its type's name, not through the alias).

pub mod api;
pub mod error;
pub mod lifecycle;
pub mod live;
pub mod teams;

pub use api::*;
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use lifecycle::{Accepted, ChangePassword, ForgotPassword, RecoverUsername, ResetPassword};
pub use live::LiveMessage;
pub use teams::{CreateTeam, Invitation, Invitations, Invite, Share, ShareInfo, Shares, TeamInfo, TeamMember, TeamMembers, Teams};

/// Explicit limits the server enforces (documented in docs/PROTOCOL.md).
pub mod limits {
    /// Largest push body the server reads.
    pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
    /// Largest body of every other call.
    pub const SMALL_BODY_BYTES: usize = 64 * 1024;
    /// Most mutations in one push.
    pub const MAX_BATCH: usize = 5000;
    /// Bytes of documents (their fields) in one pull page or fetch: a page
    /// ends before it would pass this, but always holds one document.
    pub const PAGE_BYTES: usize = 16 * 1024 * 1024;
    /// Bytes of documents a push answer carries; the rest are listed as stale.
    pub const ANSWER_DOC_BYTES: usize = 8 * 1024 * 1024;
    /// Bytes of stored documents one push may read; past it (after its first
    /// mutation) the push is refused with 413 and the device sends fewer.
    pub const BATCH_LOAD_BYTES: usize = 64 * 1024 * 1024;
    /// Ids in one `POST /v1/workspaces/{id}/docs`.
    pub const MAX_FETCH_IDS: usize = 1000;
    /// Documents in one pull page when the device does not say.
    pub const DEFAULT_PAGE: usize = 2000;
    /// Most documents in one pull page.
    pub const MAX_PAGE: usize = 10_000;
    /// Devices of one account signed in at once.
    pub const MAX_DEVICES: usize = 3;
    /// Shortest password accepted at sign-up.
    pub const MIN_PASSWORD_CHARS: usize = 8;
    /// Longest password accepted (argon2 input is bounded).
    pub const MAX_PASSWORD_CHARS: usize = 1024;
    /// Longest email, device, team or workspace name.
    pub const MAX_NAME_CHARS: usize = 254;
    /// Longest username.
    pub const MAX_USERNAME_CHARS: usize = 64;
    /// Failed sign-ins per client address in one window (then 429).
    pub const LOGIN_FAILURES: usize = 10;
    /// Guesses at one account answered at once; after them each waits for
    /// its turn, twice as long after each failure.
    pub const ACCOUNT_FREE_GUESSES: u32 = 5;
    /// The longest wait between turns for guesses at one account, in seconds.
    pub const ACCOUNT_MAX_DELAY_SECS: u64 = 300;
    /// Sign-ups per client address per hour (a server may set 0: sign-up closed).
    pub const SIGNUPS_PER_HOUR: u32 = 10;
    /// The window of [`LOGIN_FAILURES`], in seconds (15 minutes).
    pub const LOGIN_WINDOW_SECS: u64 = 15 * 60;
    /// Reset and recovery mails per account, and per client address, per hour.
    pub const MAIL_REQUESTS_PER_HOUR: usize = 5;
    /// Invitations waiting in one team at most.
    pub const MAX_PENDING_INVITATIONS: usize = 100;
    /// How long an invitation waits for an answer, in seconds (14 days).
    pub const INVITATION_SECS: u64 = 14 * 24 * 3600;
    /// How long a password-reset token is valid, in seconds (1 hour).
    pub const RESET_TOKEN_SECS: u64 = 3600;
}
