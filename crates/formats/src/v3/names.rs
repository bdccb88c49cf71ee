//! File and directory names for items, as Postman's `collection migrate`
//! makes them, made safe: a name never leaves its directory, never collides
//! with `.resources`, and fits in a file system's 255-byte name limit.

use std::collections::{HashMap, HashSet};

/// The longest stem (name without suffix) written, in bytes: with
/// `.example.yaml` or `.resources` added it stays under the usual 255-byte
/// limit on a file name.
pub(crate) const MAX_STEM_BYTES: usize = 200;

/// The characters Postman's migrate replaces: each run of them becomes one `-`.
fn replaced(c: char) -> bool {
    matches!(c, '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '\\') || c.is_control()
}

/// `name` as a file stem: runs of `/ : * ? " < > | \` (and control
/// characters) become one `-`; surrounding whitespace goes; a stem that is
/// empty, `.`, `..` or `.resources` gets a `-` in front; a long one is cut
/// at a character boundary.
pub(crate) fn stem(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if replaced(c) {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    let mut out = out.trim().to_string();
    if out.is_empty() || out == "." || out == ".." || out.eq_ignore_ascii_case(".resources") {
        out.insert(0, '-');
    }
    if out.len() > MAX_STEM_BYTES {
        let mut cut = MAX_STEM_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out = out.trim_end().to_string();
    }
    out
}

/// Unique stems among siblings, compared without case: the second `Dup` is
/// `Dup 1`, a later `dup` is `dup 2` (one counter per stem).
#[derive(Default)]
pub(crate) struct Siblings {
    taken: HashSet<String>,
    counters: HashMap<String, usize>,
}

impl Siblings {
    /// The stem for the next item called `name`.
    pub(crate) fn claim(&mut self, name: &str) -> String {
        let base = stem(name);
        let lower = base.to_lowercase();
        if self.taken.insert(lower.clone()) {
            return base;
        }
        let counter = self.counters.entry(lower).or_insert(0);
        loop {
            *counter += 1;
            let candidate = format!("{base} {counter}");
            if self.taken.insert(candidate.to_lowercase()) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_migrate_names_them() {
        assert_eq!(stem("a/b: c ünï 日本 *?\"<>|\\ end."), "a-b- c ünï 日本 - end.");
        assert_eq!(stem("Folder: x/y"), "Folder- x-y");
        assert_eq!(stem("https://postman-echo.com/get"), "https-postman-echo.com-get");
        assert_eq!(stem("/todos/:id"), "-todos-id");
        let mut s = Siblings::default();
        assert_eq!(["Dup", "Dup", "dup", "Other"].map(|n| s.claim(n)), ["Dup", "Dup 1", "dup 2", "Other"]);
    }

    #[test]
    fn unusable_names_are_made_safe() {
        for bad in ["", " ", ".", "..", ".resources", " .. "] {
            let s = stem(bad);
            assert!(s.starts_with('-'), "{bad:?} -> {s:?}");
        }
        assert_eq!(stem("../../etc/passwd"), "..-..-etc-passwd");
        assert_eq!(stem(" x "), "x");
        assert_eq!(stem("a\nb"), "a-b");
        let long = "é".repeat(300);
        let s = stem(&long);
        assert!(s.len() <= MAX_STEM_BYTES && s.chars().all(|c| c == 'é'));
        let mut sib = Siblings::default();
        assert_eq!(sib.claim(&long), s);
        assert_eq!(sib.claim(&long), format!("{s} 1"));
    }
}
