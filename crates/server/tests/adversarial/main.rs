//! The adversarial suite: the server attacked as a stranger on the internet
//! (or one hostile account) would attack a self-hosted team server with open
//! sign-up. Each module is one family of attack; each test was written to
//! fail on the code before the fix and runs on both storage backends where
//! storage is involved. Extend it: a new hole gets a test here first.
//!
//! | module | what it attacks |
//! |---|---|
//! | `amplification` | small requests that make the server do, store or send a lot |
//! | `inputs` | values that break storage or cross tenants: control characters, cursors, ids |
//! | `batches` | batches that wedge one backend and not the other |
//! | `signin` | guessing passwords, and turning the limits against the people they protect |
//! | `teams` | joining, keeping or granting access without the owner's consent |
//! | `errors` | requests refused before a handler runs: bad path ids, bad query strings, wrong methods, the live channel without an upgrade |
//! | `connections` | half-sent requests, stalled bodies, connection floods, live sockets that never read or outlive their session, spoofed client addresses |
//! | `plans` | a server full of other tenants' documents: every statement of a sign-in, push and pull reads by index (PostgreSQL), with statistics the server keeps fresh itself |
//!
//! Descriptor exhaustion under a lowered `RLIMIT_NOFILE` is its own test
//! binary (`tests/descriptors.rs`): the limit is the whole process's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[path = "../support/mod.rs"]
#[macro_use]
mod support;

mod amplification;
mod batches;
mod connections;
mod errors;
mod inputs;
mod plans;
mod signin;
mod teams;
