//! Sending requests and running collections, where the device is: Postman's
//! variable scopes and their precedence, auth, bodies, the HTTP exchange, the
//! script sandbox with its `pm` API, and the run loop. The documents it reads
//! and writes are `model`'s (Postman v2.1 shapes); storing them is the
//! device's job (`client`), so this crate knows nothing of sync.
//!
//! Sending one request: [`prepare::prepare`] turns a request document's
//! fields into an [`Outgoing`], [`Sender::send`] sends it and returns a
//! [`Received`].

pub mod auth;
pub mod body;
pub mod cookies;
pub mod data;
pub mod digest;
pub mod dynamic;
mod error;
pub mod http;
pub mod oauth1;
pub mod plan;
pub mod prepare;
pub mod report;
pub mod run;
pub mod script;
pub mod types;
pub mod url;
pub mod vars;

pub use cookies::{CookieInfo, CookieJar};
pub use error::{CookieError, PrepareError, SendError};
pub use http::{MAX_RESPONSE_BYTES, Sender};
pub use prepare::{HttpVersion, Outgoing, Prepared, Report, Settings, prepare};
pub use types::{Received, Scope, Scopes, Vars};
pub use vars::replace_in;
