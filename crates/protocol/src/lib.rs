//! The wire between an apisync device and server: request and response
//! bodies of the HTTP API (`/v1/...`) and the frames of the live channel.
//! The server and the client share nothing else. See docs/PROTOCOL.md.

pub mod api;
pub mod error;
pub mod live;

pub use api::*;
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use live::LiveMessage;

/// The protocol version; it is the `/v1` in every path.
pub const VERSION: u32 = 1;

/// Explicit limits the server enforces (documented in docs/PROTOCOL.md).
pub mod limits {
    /// Largest request body the server reads.
    pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
    /// Most mutations in one push.
    pub const MAX_BATCH: usize = 5000;
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
    /// Longest email, username, device or workspace name.
    pub const MAX_NAME_CHARS: usize = 254;
}
