//! A setting that must not reach a log: a database or SMTP URL (its
//! password) or a token. `Debug` and `Display` show it redacted, so a
//! `Config` printed whole, or a URL put in a message, gives nothing away.

use std::fmt;

/// A secret string; [`Secret::expose`] is the only way to the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (an unset variable).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What may be shown: a URL keeps its scheme, user, host and path, with
    /// the password and any query (`?password=` is valid there) hidden;
    /// anything else is hidden whole.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// `scheme://user:***@host/path?***`; `***` for what is not a URL.
pub fn redact(value: &str) -> String {
    let Some(scheme_end) = value.find("://") else {
        return "***".into();
    };
    let (scheme, rest) = (&value[..scheme_end], &value[scheme_end + 3..]);
    // The last '@' ends the user part: a password may hold '/' or '?' unescaped.
    let (user, host_on) = match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            (format!("{user}:***@"), &rest[at + 1..])
        }
        None => (String::new(), rest),
    };
    let shown = match host_on.find(['?', '#']) {
        Some(q) => format!("{}?***", &host_on[..q]),
        None => host_on.to_string(),
    };
    format!("{scheme}://{user}{shown}")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret::new(s))
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_what_locates_them_and_lose_what_opens_them() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact("postgres://app:pa/ss?w@rd@db/x"), "postgres://app:***@db/x");
        assert_eq!(redact("postgres://app@db/x"), "postgres://app:***@db/x");
        assert_eq!(redact("postgres://db/x?user=app&password=s3cret"), "postgres://db/x?***");
        assert_eq!(redact("smtps://mailer:hunter2@mail.example.com"), "smtps://mailer:***@mail.example.com");
        assert_eq!(redact("smtp://relay.internal:25"), "smtp://relay.internal:25");
        assert_eq!(redact("a-metrics-token"), "***");
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let token = Secret::new("tok-123");
        let url = Secret::new("postgres://app:s3cret@db/x");
        for shown in [format!("{token:?}"), format!("{token}"), format!("{url:?}"), format!("{url}"), format!("{:?}", Some(&url))] {
            assert!(!shown.contains("tok-123") && !shown.contains("s3cret"), "{shown}");
        }
        assert_eq!(url.expose(), "postgres://app:s3cret@db/x");
    }
}
