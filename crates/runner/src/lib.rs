//! Sending requests and running collections, where the device is: Postman's
//! variable scopes and their precedence, auth, bodies, the HTTP exchange, the
//! script sandbox with its `pm` API, and the run loop. The documents it reads
//! and writes are `model`'s (Postman v2.1 shapes); storing them is the
//! device's job (`client`), so this crate knows nothing of sync.

pub mod plan;
pub mod script;
pub mod types;

pub use types::{Received, Scope, Scopes, Vars};
