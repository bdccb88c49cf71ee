//! What valid input is — names, emails, usernames, passwords — written once
//! for every endpoint and both backends. Every refusal is a 400 that names
//! the field and says what would be accepted.

use crate::error::Failure;
use protocol::ErrorCode;
use protocol::limits::{MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS};

fn bad(message: String) -> Failure {
    Failure::new(ErrorCode::BadRequest, message)
}

/// No control characters: NUL and friends break storage (PostgreSQL text
/// refuses NUL) and terminals, and no person types them into a name.
fn printable(field: &str, value: &str) -> Result<(), Failure> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(bad(format!("the {field} contains the control character U+{:04X}; use printable characters only", c as u32))),
        None => Ok(()),
    }
}

/// A name a person gives (device, team, workspace): trimmed, 1 to
/// [`MAX_NAME_CHARS`] printable characters.
pub fn name<'a>(field: &str, value: &'a str) -> Result<&'a str, Failure> {
    let v = value.trim();
    let n = v.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(bad(format!("the {field} must be 1 to {MAX_NAME_CHARS} characters")));
    }
    printable(field, v)?;
    Ok(v)
}

/// An email address like name@example.com, trimmed.
pub fn email(value: &str) -> Result<&str, Failure> {
    let v = value.trim();
    printable("email", v)?;
    let valid = v.chars().count() <= MAX_NAME_CHARS
        && v.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.'))
        && !v.contains(char::is_whitespace);
    if !valid {
        return Err(bad(format!("'{v}' is not an email address like name@example.com")));
    }
    Ok(v)
}

/// A username: 1 to [`MAX_USERNAME_CHARS`] of letters, digits, `.`, `_` and `-`.
pub fn username(value: &str) -> Result<&str, Failure> {
    let u = value;
    if u.is_empty() || u.chars().count() > MAX_USERNAME_CHARS || !u.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        return Err(bad(format!("a username is 1 to {MAX_USERNAME_CHARS} characters of letters, digits, '.', '_' and '-'")));
    }
    Ok(u)
}

/// What a person signs in with (username or email), trimmed: printable and
/// no longer than an email may be.
pub fn login(value: &str) -> Result<&str, Failure> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_NAME_CHARS {
        return Err(bad(format!("the user must be a username or an email of 1 to {MAX_NAME_CHARS} characters")));
    }
    printable("user", v)?;
    Ok(v)
}

/// A new password: [`MIN_PASSWORD_CHARS`] to [`MAX_PASSWORD_CHARS`] characters.
pub fn password(value: &str) -> Result<(), Failure> {
    let n = value.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(bad(format!("the password is too short: use at least {MIN_PASSWORD_CHARS} characters")));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(bad(format!("the password is too long: use at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_by_name() {
        let e = name("device name", "lap\0top").unwrap_err();
        assert!(e.error.message.contains("device name") && e.error.message.contains("U+0000"), "{}", e.error.message);
        assert!(email("ann\u{7}@example.com").is_err());
        assert!(login("ann\u{1b}[31m").is_err());
        assert_eq!(name("team name", "  Core  ").unwrap(), "Core");
        assert!(name("team name", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(username("ann@x").is_err());
        assert!(username("ann.b_c-d").is_ok());
    }
}
