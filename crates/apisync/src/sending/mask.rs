//! Keeping secret variables' values out of what is stored: every
//! occurrence of a secret, as text, form-encoded or percent-encoded, and
//! inside a Basic credential, becomes the mask.

use base64::Engine;
use model::document::SECRET_MASK;
use serde_json::Value;

/// The forms a secret takes in what was sent: as is, form-encoded, percent-encoded.
fn forms(secret: &str) -> Vec<String> {
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let percent = form.replace('+', "%20");
    let mut out = vec![secret.to_string(), form, percent];
    out.sort();
    out.dedup();
    // Longest first, so a longer form is not cut by a shorter one inside it.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// `text` with every secret masked.
pub fn text(text: &str, secrets: &[String]) -> String {
    if let Some(cred) = text.strip_prefix("Basic ")
        && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(cred.trim())
        && let Ok(decoded) = String::from_utf8(decoded)
        && secrets.iter().any(|s| decoded.contains(s.as_str()))
    {
        return format!("Basic {SECRET_MASK}");
    }
    let mut out = text.to_string();
    for s in secrets {
        for f in forms(s) {
            if out.contains(&f) {
                out = out.replace(&f, SECRET_MASK);
            }
        }
    }
    out
}

/// `v` with every secret masked in its strings (keys too).
pub fn value(v: &mut Value, secrets: &[String]) {
    if secrets.is_empty() {
        return;
    }
    match v {
        Value::String(s) => *s = text(s, secrets),
        Value::Array(a) => a.iter_mut().for_each(|x| value(x, secrets)),
        Value::Object(o) => {
            let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
            for (k, mut x) in entries {
                value(&mut x, secrets);
                o.insert(text(&k, secrets), x);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_form_of_a_secret_is_masked() {
        let secrets = vec!["s3cr&t v".to_string()];
        let mut v = json!({
            "url": "http://h/?k=s3cr%26t+v&p=s3cr%26t%20v",
            "header": [{"key": "X", "value": "Bearer s3cr&t v"}, {"key": "Authorization", "value": "Basic YW5uOnMzY3ImdCB2"}],
            "s3cr&t v": 1
        });
        value(&mut v, &secrets);
        let m = SECRET_MASK;
        assert_eq!(v["url"], format!("http://h/?k={m}&p={m}"));
        assert_eq!(v["header"][0]["value"], format!("Bearer {m}"));
        assert_eq!(v["header"][1]["value"], format!("Basic {m}"));
        assert!(v.get(m).is_some());
        assert!(!v.to_string().contains("s3cr"));
        assert_eq!(text("Basic YW5uOm90aGVy", &secrets), "Basic YW5uOm90aGVy", "a credential without the secret stays");
    }
}
