//! In-memory rate limits: failed sign-ins per account and per client
//! address, and reset/recovery mails. Counts live in each server process
//! (several processes behind a load balancer each count on their own).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// A sliding-window counter per key.
pub struct Limiter {
    max: usize,
    window_ms: i64,
    hits: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Limiter {
    /// At most `max` events per key within `window`.
    pub fn new(max: usize, window: Duration) -> Limiter {
        Limiter { max, window_ms: window.as_millis() as i64, hits: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<i64>>> {
        self.hits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// When any of `keys` is at its limit: how long until it is not.
    pub fn blocked(&self, keys: &[String], now: i64) -> Option<Duration> {
        let mut hits = self.lock();
        let mut wait = None;
        for k in keys {
            if let Some(q) = hits.get_mut(k) {
                while q.front().is_some_and(|&t| t <= now - self.window_ms) {
                    q.pop_front();
                }
                if q.len() >= self.max {
                    let until = q.front().copied().unwrap_or(now) + self.window_ms;
                    let d = Duration::from_millis((until - now).max(1000) as u64);
                    wait = Some(wait.map_or(d, |w: Duration| w.max(d)));
                }
            }
        }
        wait
    }

    /// Counts one event against each key.
    pub fn hit(&self, keys: &[String], now: i64) {
        let mut hits = self.lock();
        // Keep memory bounded: forget keys whose window has passed.
        if hits.len() > 100_000 {
            hits.retain(|_, q| q.back().is_some_and(|&t| t > now - self.window_ms));
        }
        for k in keys {
            hits.entry(k.clone()).or_default().push_back(now);
        }
    }

    /// Forgets a key (a successful sign-in clears the account's failures).
    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// "in 12 minutes", "in 40 seconds".
pub fn readable(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 120 { format!("in {} minutes", s.div_ceil(60)) } else { format!("in {s} seconds") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_at_the_limit_and_frees_after_the_window() {
        let l = Limiter::new(2, Duration::from_secs(60));
        let k = vec!["user:ann".to_string()];
        assert!(l.blocked(&k, 0).is_none());
        l.hit(&k, 0);
        l.hit(&k, 1000);
        assert_eq!(l.blocked(&k, 2000), Some(Duration::from_secs(58)));
        assert!(l.blocked(&k, 60_001).is_none());
        l.clear("user:ann");
        assert!(l.blocked(&k, 2000).is_none());
    }
}
