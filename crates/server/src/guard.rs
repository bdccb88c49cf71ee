//! Every check of a password goes through here: counted against the client
//! address and the account before it is made, waiting for the account's
//! turn, and run on one of a bounded number of hashing threads.
//!
//! An account's guesses are keyed by the account, not by how it was
//! spelled (username or email, any case); guesses at an unknown login are
//! keyed by the login, and treated exactly alike, so the answers tell
//! nobody which accounts exist. A device that has signed in to the account
//! before has its own throttle, so a stranger's guesses never slow the
//! owner's own devices.

use crate::AppState;
use crate::error::Failure;
use crate::limit::Verdict;
use model::Id;
use protocol::ErrorCode;
use std::net::IpAddr;
use std::time::Duration;

/// Where a limit counts an address: IPv6 clients commonly hold a whole /64,
/// so that is one address here.
pub fn address_key(prefix: &str, ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("{prefix}:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{prefix}:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The throttle key of guesses at an account: of the account, of the
/// account from one of its devices, or of a login no account has.
pub enum Target {
    /// An account, from a device it has never seen.
    Account(Id),
    /// An account, from one of its own devices.
    Device(Id, Id),
    /// A login no account answers to.
    Unknown(String),
}

impl Target {
    fn key(&self) -> String {
        match self {
            Target::Account(user) => format!("account:{user}"),
            Target::Device(user, device) => format!("account:{user}:device:{device}"),
            Target::Unknown(login) => format!("login:{}", login.to_lowercase()),
        }
    }
}

/// A password check under way, counted as a failure until it succeeds.
pub struct Attempt {
    keys: Vec<(String, crate::limit::Policy)>,
}

fn refused(what: &str, retry: Duration) -> Failure {
    Failure::new(ErrorCode::RateLimited, format!("too many failed sign-ins {what}; try again {}", crate::limit::readable(retry)))
        .retry_after(retry)
}

/// Counts a password attempt from `addr` at `target`, and waits for its turn.
pub async fn begin(state: &AppState, addr: IpAddr, target: Target) -> Result<Attempt, Failure> {
    let limits = state.config.limits;
    let now = crate::now_ms();
    let addr_key = address_key("failures", addr);
    if let Verdict::Refused { retry } = state.counters.attempt(&addr_key, limits.address_failures, now).await? {
        tracing::warn!(address = %addr, "sign-in refused: too many failures from this address");
        return Err(refused("from this address", retry));
    }
    let key = target.key();
    match state.counters.attempt(&key, limits.account_guesses, now).await? {
        Verdict::Refused { retry } => {
            // Not checked, so not a failure of this address.
            state.counters.settle(&addr_key, limits.address_failures, now).await?;
            tracing::warn!(address = %addr, key = %key, "sign-in refused: guesses at this account are throttled");
            Err(refused("for this account", retry))
        }
        Verdict::Go { wait } => {
            if !wait.is_zero() {
                tracing::info!(key = %key, wait_ms = wait.as_millis() as u64, "sign-in waits for its turn");
                tokio::time::sleep(wait).await;
            }
            Ok(Attempt { keys: vec![(addr_key, limits.address_failures), (key, limits.account_guesses)] })
        }
    }
}

impl Attempt {
    /// The password was right: the attempt was no failure.
    pub async fn succeeded(self, state: &AppState) -> Result<(), Failure> {
        let now = crate::now_ms();
        for (key, policy) in self.keys {
            state.counters.settle(&key, policy, now).await?;
        }
        Ok(())
    }
}

/// Runs password hashing on a bounded pool: each argon2 run takes ~19 MiB
/// and a core, so at most `max_concurrent_hashes` run at once; a request
/// that cannot get a turn within `hash_wait` is answered 503.
pub async fn hashing<T: Send + 'static>(state: &AppState, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Failure> {
    let busy = || Failure::new(ErrorCode::Unavailable, "the server is busy checking passwords; try again in a moment");
    let Ok(Ok(turn)) = tokio::time::timeout(state.config.hash_wait, state.hashing.clone().acquire_owned()).await else {
        return Err(busy());
    };
    let out = tokio::task::spawn_blocking(move || {
        let out = f();
        drop(turn);
        out
    })
    .await;
    out.map_err(|_| Failure::new(ErrorCode::Internal, "the server failed to check the password"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key("f", a), address_key("f", b));
        let c: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key("f", c), "f:192.0.2.7");
    }
}
