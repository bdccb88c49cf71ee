//! The server's rules, written once above the storage backends: each
//! function runs inside one transaction on any [`crate::store::Tx`], so
//! SQLite and PostgreSQL only store and a rule cannot drift between them.
//!
//! | rule | where |
//! |---|---|
//! | the device limit, sign-up, sign-in and out, passwords, deleting an account | [`accounts`] |
//! | creating a workspace, who may push, claiming a new workspace id, sequencing | [`workspaces`] |
//! | team membership, roles, sharing, and the access they give | [`teams`] |
//! | what a valid name, email or username is | [`crate::validate`] |
//! | the merge, the tree, cascades, what a mutation may do | [`crate::push`] |

pub(crate) mod accounts;
pub(crate) mod teams;
pub(crate) mod workspaces;
