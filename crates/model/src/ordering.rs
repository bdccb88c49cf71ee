//! Fractional ordering keys: siblings sort by a string key, and a new key can
//! always be made between any two, so concurrent inserts and moves never
//! conflict. Two devices may mint the same key; ties break by document id.
//!
//! A key is a non-empty string of base-62 digits (`0-9A-Za-z`, in ASCII
//! order) read as a fraction `0.d1d2d3…`; it never ends in `0`, so there is
//! always room below it.

use thiserror::Error;

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: usize = 62;

/// Why an ordering key is unusable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrderingError {
    /// The key has a character outside `0-9A-Za-z`, is empty, ends in `0` or is too long.
    #[error("invalid ordering key '{0}': use 1 to 256 characters of 0-9A-Za-z, not ending in 0")]
    Invalid(String),
    /// The lower bound is not below the upper bound.
    #[error("ordering key '{0}' is not below '{1}'")]
    NotOrdered(String, String),
}

fn digit(c: u8) -> usize {
    DIGITS.iter().position(|d| *d == c).unwrap_or(0)
}

/// Checks that `key` is a well-formed ordering key.
pub fn validate(key: &str) -> Result<(), OrderingError> {
    let ok = !key.is_empty()
        && key.len() <= crate::Limits::ORDER_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_alphanumeric())
        && !key.ends_with('0');
    if ok { Ok(()) } else { Err(OrderingError::Invalid(key.to_string())) }
}

/// The digits strictly between fractions `a` (may be empty: zero) and `b`
/// (`None`: one). Requires `a < b` and neither ending in `0`.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> Vec<u8> {
    if let Some(b) = b {
        // Skip the common prefix, reading a missing digit of `a` as 0.
        let n = b.iter().enumerate().take_while(|(i, d)| a.get(*i).copied().unwrap_or(b'0') == **d).count();
        if n > 0 {
            let mut out = b[..n].to_vec();
            out.extend(midpoint(a.get(n..).unwrap_or(&[]), Some(&b[n..])));
            return out;
        }
    }
    let da = a.first().map_or(0, |c| digit(*c));
    let db = b.map_or(BASE, |b| digit(b[0]));
    if db - da > 1 {
        vec![DIGITS[(da + db) / 2]]
    } else if let Some(b) = b.filter(|b| b.len() > 1) {
        // b's first digit alone is above a and below b.
        vec![b[0]]
    } else {
        let mut out = vec![DIGITS[da]];
        out.extend(midpoint(a.get(1..).unwrap_or(&[]), None));
        out
    }
}

fn string(bytes: Vec<u8>) -> String {
    // Only DIGITS ever go in, all ASCII.
    bytes.into_iter().map(char::from).collect()
}

/// A key strictly between `before` and `after` (either may be open).
pub fn between(before: Option<&str>, after: Option<&str>) -> Result<String, OrderingError> {
    for k in [before, after].into_iter().flatten() {
        validate(k)?;
    }
    if let (Some(a), Some(b)) = (before, after)
        && a >= b
    {
        return Err(OrderingError::NotOrdered(a.to_string(), b.to_string()));
    }
    match (before, after) {
        // Appending is the common case: step the first digit that has room,
        // so keys grow one character per 61 appends, not one per five.
        (Some(a), None) => Ok(string(after_key(a.as_bytes()))),
        _ => Ok(string(midpoint(before.unwrap_or("").as_bytes(), after.map(str::as_bytes)))),
    }
}

fn after_key(a: &[u8]) -> Vec<u8> {
    match a.first() {
        Some(&c) if digit(c) + 1 < BASE => vec![DIGITS[digit(c) + 1]],
        Some(&c) => {
            let mut out = vec![c];
            out.extend(after_key(&a[1..]));
            out
        }
        // A fresh position starts low, leaving 60 steps before it fills.
        None => vec![DIGITS[1]],
    }
}

/// `n` ascending keys strictly between `before` and `after`, kept short by
/// bisection: how an import orders ten thousand siblings.
pub fn n_between(before: Option<&str>, after: Option<&str>, n: usize) -> Result<Vec<String>, OrderingError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let mid = between(before, after)?;
    let left = n_between(before, Some(&mid), n / 2)?;
    let right = n_between(Some(&mid), after, n - n / 2 - 1)?;
    let mut out = left;
    out.push(mid);
    out.extend(right);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basics() {
        assert_eq!(between(None, None).unwrap(), "V");
        assert_eq!(between(Some("V"), None).unwrap(), "W");
        assert_eq!(between(None, Some("V")).unwrap(), "F");
        assert_eq!(between(Some("a"), Some("b")).unwrap(), "aV");
        assert_eq!(between(Some("a"), Some("a1")).unwrap(), "a0V");
        assert!(between(Some("b"), Some("a")).is_err());
        assert!(validate("a0").is_err());
        assert!(validate("a-b").is_err());
        assert!(validate("").is_err());
    }

    #[test]
    fn many_appends_stay_short() {
        let mut key = between(None, None).unwrap();
        for _ in 0..1000 {
            let next = between(Some(&key), None).unwrap();
            assert!(next > key);
            key = next;
        }
        assert!(key.len() <= 20, "{} chars", key.len());
    }

    #[test]
    fn bulk_keys_are_short_and_sorted() {
        let keys = n_between(None, None, 10_000).unwrap();
        assert_eq!(keys.len(), 10_000);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert!(keys.iter().all(|k| validate(k).is_ok() && k.len() <= 4));
    }

    proptest! {
        /// Inserting anywhere, any number of times, keeps keys valid and
        /// strictly ordered: the list order is exactly the key order.
        #[test]
        fn inserts_keep_order(positions in proptest::collection::vec(0usize..1000, 1..300)) {
            let mut keys: Vec<String> = Vec::new();
            for p in positions {
                let i = p % (keys.len() + 1);
                let before = if i == 0 { None } else { Some(keys[i - 1].as_str()) };
                let after = keys.get(i).map(String::as_str);
                let k = between(before, after).unwrap();
                prop_assert!(validate(&k).is_ok(), "{k}");
                if let Some(b) = before { prop_assert!(b < k.as_str()); }
                if let Some(a) = after { prop_assert!(k.as_str() < a); }
                keys.insert(i, k);
            }
            prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
