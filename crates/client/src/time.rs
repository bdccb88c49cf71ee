//! Wall-clock helpers (the model is clock-free; the device is not).

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A person-readable age of a Unix-millisecond timestamp: "just now", "5 min ago", "3 days ago".
pub fn readable(ms: i64) -> String {
    let secs = (now_ms() - ms) / 1000;
    match secs {
        i64::MIN..=9 => "just now".into(),
        10..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}
