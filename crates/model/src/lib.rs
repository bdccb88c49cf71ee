//! The sync model of apisync: what a document is, how it changes, how two
//! changes to one document merge, and how siblings are ordered.
//!
//! Everything here is pure: no I/O, no clock, no randomness. Ids are minted
//! by the caller (the device) and passed in.

pub mod document;
pub mod kind;
pub mod merge;
pub mod mutation;
pub mod ordering;
pub mod records;
pub mod schema;
pub mod tree;
pub mod variables;

pub use document::{Document, Fields};
pub use kind::{Kind, UnknownKind};
pub use merge::{Clock, FieldConflict, Stored};
pub use mutation::{Mutation, Op};
pub use schema::{FieldError, Limits};

/// Every id in apisync: a UUID (v7 when minted by apisync).
pub type Id = uuid::Uuid;
