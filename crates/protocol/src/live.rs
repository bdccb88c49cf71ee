//! Frames of the live channel, `GET /v1/live` upgraded to a WebSocket. The
//! server sends JSON text frames; the device only answers pings.

use model::{Document, Id};
use serde::{Deserialize, Serialize};

/// A frame from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LiveMessage {
    /// Sent once the channel is open. `connection` names this connection:
    /// a push that gives it (`PushRequest::connection`) is not sent back on it.
    Hello {
        #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
        device_id: Id,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
        connection: Option<Id>,
    },
    /// A workspace moved from `after` to `seq`, and these are the documents
    /// that changed. A device whose cursor is at least `after` applies them
    /// and moves its cursor to `seq`; otherwise it pulls.
    Changes {
        #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
        workspace_id: Id,
        after: u64,
        seq: u64,
        docs: Vec<Document>,
    },
    /// A workspace moved on to `seq` with too much to inline: pull.
    Moved {
        #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
        workspace_id: Id,
        seq: u64,
    },
    /// The workspaces the user is in changed: fetch `/v1/workspaces`.
    Workspaces,
    /// This device was signed out; the channel closes after this frame.
    SignedOut { reason: String },
    /// The server is stopping (a restart, a deploy): the channel closes
    /// after this frame. The device is still signed in; it reconnects after
    /// `after_ms` (spread by the server so that not every device comes back
    /// at once), then with its usual backoff while the server is down.
    Reconnect { after_ms: u64 },
}
