//! Rate limits, written once for every backend. Two kinds:
//!
//! - a **window** (at most `max` events per `window`): failed sign-ins per
//!   client address, sign-ups per address, reset mails per address and per
//!   account. Past it the request is refused (429) before any work is done.
//! - a **throttle** for guesses at one account: the first few failures
//!   cost nothing, then each further attempt must wait for its turn, twice
//!   as long after each failure, up to a ceiling. Nobody can lock the owner
//!   out for long (the wait is bounded, a success clears it, and devices the
//!   account has used before have a throttle of their own), while a guesser
//!   gets a handful of tries and then one per ceiling.
//!
//! Every attempt is counted before the password is checked, atomically, so
//! simultaneous guesses cannot slip past the count; a success takes its
//! count back. One SQLite server keeps the counts in memory; servers sharing
//! PostgreSQL keep them there, so the limits hold across processes.

use crate::store::{Store, StoreError, Tx, transact};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The state of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    /// Events counted in the current window.
    pub count: u32,
    /// When the window started (Unix ms).
    pub since: i64,
    /// A throttle's next free turn (Unix ms).
    pub next: i64,
    /// When the entry means nothing any more and may be forgotten.
    pub until: i64,
}

/// How a key is limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// At most `max` events in `window_ms`; 0 refuses every event.
    Window { max: u32, window_ms: i64 },
    /// `free` attempts at once, then turns spaced `base_ms`, doubling after
    /// each failure up to `max_delay_ms`; an attempt whose turn is more than
    /// `max_wait_ms` away is refused. Failures are forgotten `window_ms`
    /// after the first.
    Throttle { free: u32, base_ms: i64, max_delay_ms: i64, max_wait_ms: i64, window_ms: i64 },
}

/// What an attempt may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead, after waiting this long for the turn.
    Go { wait: Duration },
    /// Refused; try again after this long.
    Refused { retry: Duration },
}

fn ms(d: i64) -> Duration {
    Duration::from_millis(u64::try_from(d).unwrap_or(0))
}

/// Counts one attempt under `policy` at `now`: the entry afterwards and the
/// verdict. A refused attempt leaves the entry as it was, so refusals never
/// extend anyone's wait.
pub fn step(policy: Policy, entry: Option<Entry>, now: i64) -> (Option<Entry>, Verdict) {
    match policy {
        Policy::Window { max, window_ms } => {
            let mut e =
                entry.filter(|e| e.since + window_ms > now).unwrap_or(Entry { count: 0, since: now, next: now, until: now + window_ms });
            if e.count >= max {
                return (entry, Verdict::Refused { retry: ms((e.since + window_ms - now).max(1000)) });
            }
            e.count += 1;
            (Some(e), Verdict::Go { wait: Duration::ZERO })
        }
        Policy::Throttle { free, base_ms, max_delay_ms, max_wait_ms, window_ms } => {
            let mut e = entry.filter(|e| e.until > now).unwrap_or(Entry { count: 0, since: now, next: now, until: now + window_ms });
            let turn = e.next.max(now);
            if turn - now > max_wait_ms {
                return (entry, Verdict::Refused { retry: ms(turn - now - max_wait_ms).max(Duration::from_secs(1)) });
            }
            e.count += 1;
            let delay = match e.count.checked_sub(free) {
                None => 0,
                Some(over) => base_ms.saturating_mul(1i64 << over.min(30)).min(max_delay_ms),
            };
            e.next = turn + delay;
            // Remembered until every turn it handed out is past, and a window more.
            e.until = e.next.max(now) + window_ms;
            (Some(e), Verdict::Go { wait: ms(turn - now) })
        }
    }
}

/// Takes back an attempt that turned out well: a window forgets one event,
/// a throttle forgets everything (the owner is in).
pub fn settle(policy: Policy, entry: Option<Entry>) -> Option<Entry> {
    match policy {
        Policy::Window { .. } => entry.map(|e| Entry { count: e.count.saturating_sub(1), ..e }),
        Policy::Throttle { .. } => None,
    }
}

/// The policies a server enforces (see docs/PROTOCOL.md, "Limits").
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Failed sign-ins (and wrong current passwords) per client address.
    pub address_failures: Policy,
    /// Guesses at one account, or at one account from one of its devices.
    pub account_guesses: Policy,
    /// Sign-ups per client address.
    pub signups: Policy,
    /// Reset and recovery mails per client address, and per account.
    pub mails: Policy,
}

impl Default for Limits {
    fn default() -> Limits {
        use protocol::limits::{LOGIN_FAILURES, LOGIN_WINDOW_SECS, MAIL_REQUESTS_PER_HOUR, SIGNUPS_PER_HOUR};
        Limits {
            address_failures: Policy::Window { max: LOGIN_FAILURES as u32, window_ms: LOGIN_WINDOW_SECS as i64 * 1000 },
            account_guesses: Policy::Throttle {
                free: protocol::limits::ACCOUNT_FREE_GUESSES,
                base_ms: 1000,
                max_delay_ms: protocol::limits::ACCOUNT_MAX_DELAY_SECS as i64 * 1000,
                max_wait_ms: 10_000,
                window_ms: LOGIN_WINDOW_SECS as i64 * 1000,
            },
            signups: Policy::Window { max: SIGNUPS_PER_HOUR, window_ms: 3_600_000 },
            mails: Policy::Window { max: MAIL_REQUESTS_PER_HOUR as u32, window_ms: 3_600_000 },
        }
    }
}

/// Keys kept in memory at most; past it, the soonest to expire go first.
const MEMORY_KEYS: usize = 200_000;
/// Attempts between sweeps of expired keys out of PostgreSQL.
const SWEEP_EVERY: u64 = 1000;

/// Where counts live.
pub enum Counters {
    /// One server process: a map behind a lock.
    Memory(Mutex<HashMap<String, Entry>>),
    /// Several processes: the `rate_limits` table, one key at a time.
    Shared { store: Store, attempts: std::sync::atomic::AtomicU64 },
}

impl Counters {
    /// In memory for SQLite (one process), in the database for PostgreSQL.
    pub fn for_store(store: &Store) -> Counters {
        match store {
            Store::Sqlite(_) => Counters::Memory(Mutex::new(HashMap::new())),
            Store::Postgres(_) => Counters::Shared { store: store.clone(), attempts: Default::default() },
        }
    }

    /// Applies `f` to one key's entry, atomically.
    async fn update<R: Send + 'static>(
        &self,
        key: &str,
        now: i64,
        f: impl FnOnce(Option<Entry>) -> (Option<Entry>, R) + Send + 'static,
    ) -> Result<R, StoreError> {
        match self {
            Counters::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                let (entry, out) = f(map.get(key).copied());
                match entry {
                    Some(e) => {
                        if map.len() >= MEMORY_KEYS && !map.contains_key(key) {
                            forget_oldest(&mut map, now);
                        }
                        map.insert(key.to_string(), e);
                    }
                    None => {
                        map.remove(key);
                    }
                }
                Ok(out)
            }
            Counters::Shared { store, attempts } => {
                let key = key.to_string();
                let sweep = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SWEEP_EVERY == 0;
                transact!(store, |tx| async {
                    if sweep {
                        tx.sweep_counters(now).await?;
                    }
                    let (entry, out) = f(tx.counter(&key).await?);
                    tx.set_counter(&key, entry).await?;
                    Ok::<_, StoreError>(out)
                })
            }
        }
    }

    /// Counts an attempt against `key`.
    pub async fn attempt(&self, key: &str, policy: Policy, now: i64) -> Result<Verdict, StoreError> {
        self.update(key, now, move |e| step(policy, e, now)).await
    }

    /// Takes back an attempt that went well.
    pub async fn settle(&self, key: &str, policy: Policy, now: i64) -> Result<(), StoreError> {
        self.update(key, now, move |e| (settle(policy, e), ())).await
    }
}

/// Makes room in a full map: expired entries go, then the half that expires soonest.
fn forget_oldest(map: &mut HashMap<String, Entry>, now: i64) {
    map.retain(|_, e| e.until > now);
    if map.len() >= MEMORY_KEYS {
        let mut untils: Vec<i64> = map.values().map(|e| e.until).collect();
        untils.sort_unstable();
        let cut = untils[untils.len() / 2];
        map.retain(|_, e| e.until > cut);
    }
}

/// "in 12 minutes", "in 40 seconds".
pub fn readable(d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s >= 120 { format!("in {} minutes", s.div_ceil(60)) } else { format!("in {s} seconds") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Policy = Policy::Window { max: 2, window_ms: 60_000 };
    const THROTTLE: Policy = Policy::Throttle { free: 2, base_ms: 1000, max_delay_ms: 8000, max_wait_ms: 3000, window_ms: 60_000 };

    fn run(policy: Policy, e: &mut Option<Entry>, now: i64) -> Verdict {
        let (next, v) = step(policy, *e, now);
        *e = next;
        v
    }

    #[test]
    fn a_window_refuses_past_its_max_until_it_passes_and_refusals_do_not_extend_it() {
        let mut e = None;
        assert_eq!(run(WINDOW, &mut e, 0), Verdict::Go { wait: Duration::ZERO });
        assert_eq!(run(WINDOW, &mut e, 1000), Verdict::Go { wait: Duration::ZERO });
        assert_eq!(run(WINDOW, &mut e, 2000), Verdict::Refused { retry: Duration::from_secs(58) });
        assert_eq!(run(WINDOW, &mut e, 30_000), Verdict::Refused { retry: Duration::from_secs(30) });
        assert_eq!(run(WINDOW, &mut e, 60_001), Verdict::Go { wait: Duration::ZERO });
        // A success takes its count back.
        e = settle(WINDOW, e);
        assert_eq!(e.map(|e| e.count), Some(0));
    }

    #[test]
    fn a_throttle_spaces_guesses_ever_wider_but_never_locks_anyone_out_for_long() {
        let mut e = None;
        // Simultaneous guesses: two at once, then one per turn while turns are near.
        let verdicts: Vec<Verdict> = (0..6).map(|_| run(THROTTLE, &mut e, 0)).collect();
        assert_eq!(verdicts[0], Verdict::Go { wait: Duration::ZERO });
        assert_eq!(verdicts[1], Verdict::Go { wait: Duration::ZERO });
        assert_eq!(verdicts[2], Verdict::Go { wait: Duration::from_secs(1) });
        assert_eq!(verdicts[3], Verdict::Go { wait: Duration::from_secs(3) });
        assert!(matches!(verdicts[4], Verdict::Refused { .. }), "the next turn is 7 s away: {:?}", verdicts[4]);
        // The wait never exceeds the ceiling plus the queue, however many failed.
        for t in (10_000..200_000).step_by(500) {
            if let Verdict::Refused { retry } = run(THROTTLE, &mut e, t) {
                assert!(retry <= Duration::from_millis(8000), "retry {retry:?} at {t}");
            }
        }
        // A success clears it.
        assert_eq!(settle(THROTTLE, e), None);
    }

    #[test]
    fn a_full_memory_map_forgets_what_expires_soonest() {
        let mut map: HashMap<String, Entry> =
            (0..MEMORY_KEYS as i64).map(|i| (format!("k{i}"), Entry { until: i, ..Entry::default() })).collect();
        forget_oldest(&mut map, 0);
        assert!(map.len() < MEMORY_KEYS);
        assert!(map.contains_key(&format!("k{}", MEMORY_KEYS - 1)));
    }
}
