//! Postman auth (v2.1's `{type, <type>: [{key, value}]}`): which one applies
//! (a request's own, else the nearest ancestor's), and applying it to the
//! headers or the query. Digest needs the server's challenge, so it only
//! hands its credentials on to the sender (`digest.rs`).

use crate::url::add_query;
use crate::vars::{Substitution, stringify};
use base64::Engine;
use serde_json::Value;

/// The credentials of digest auth: signed at once when the auth names its
/// realm and nonce (as Postman does), else when the server's 401 challenge arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
    /// The realm, nonce and the rest the auth itself gives, if it gives a realm and a nonce.
    pub preset: Option<crate::digest::Challenge>,
}

/// What applying auth did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    /// The type applied or kept (`basic`, `hawk`, ...; `noauth` when none).
    pub kind: String,
    /// Digest credentials, for the sender.
    pub digest: Option<DigestCredentials>,
    /// OAuth 1.0's parameters: signed once the body is known (`prepare`).
    pub oauth1: Option<crate::oauth1::Params>,
    /// The type's name when apisync cannot apply it (hawk, ntlm, awsv4, ...).
    pub not_applied: Option<String>,
}

fn is_inherit(auth: Option<&Value>) -> bool {
    match auth {
        None | Some(Value::Null) => true,
        Some(a) => matches!(a.get("type").and_then(Value::as_str), None | Some("inherit")),
    }
}

/// The auth that applies: the request's own unless absent or `inherit`,
/// else the nearest ancestor's (`ancestors` nearest first: folders, then
/// the collection) that is not itself inheriting.
pub fn effective<'a>(own: Option<&'a Value>, ancestors: &'a [Value]) -> Option<&'a Value> {
    std::iter::once(own).chain(ancestors.iter().map(Some)).find(|a| !is_inherit(*a)).flatten()
}

/// One parameter of an auth block, in v2.1's list form or v2.0's object form.
fn param(auth: &Value, kind: &str, name: &str) -> Option<Value> {
    match auth.get(kind)? {
        Value::Array(items) => {
            items.iter().find(|i| i.get("key").and_then(Value::as_str) == Some(name)).and_then(|i| i.get("value")).cloned()
        }
        Value::Object(o) => o.get(name).cloned(),
        _ => None,
    }
}

/// Sets a header, replacing any the request sets itself of that name: the
/// auth helper wins, as Postman's helpers remove the header before adding theirs.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_string(), value));
}

/// Applies `auth` to the headers or URL, variables replaced by `s`.
pub fn apply(auth: Option<&Value>, s: &mut Substitution<'_>, headers: &mut Vec<(String, String)>, url: &mut String) -> Applied {
    let Some(auth) = auth else { return Applied { kind: "noauth".into(), ..Applied::default() } };
    let kind = auth.get("type").and_then(Value::as_str).unwrap_or("noauth").to_string();
    let mut p = |name: &str| -> Option<String> { param(auth, &kind, name).map(|v| s.field(Some(&v))) };
    let mut applied = Applied { kind: kind.clone(), ..Applied::default() };
    match kind.as_str() {
        "noauth" | "none" => {}
        "basic" => {
            let user = p("username").unwrap_or_default();
            let pass = p("password").unwrap_or_default();
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            set_header(headers, "Authorization", format!("Basic {token}"));
        }
        "bearer" => {
            let token = p("token").unwrap_or_default();
            set_header(headers, "Authorization", format!("Bearer {token}"));
        }
        "apikey" => {
            let key = p("key").unwrap_or_default();
            let value = p("value").unwrap_or_default();
            if p("in").as_deref() == Some("query") {
                *url = add_query(url, &key, &value);
            } else if !key.is_empty() {
                set_header(headers, &key, value);
            }
        }
        "oauth2" => {
            let token = p("accessToken").unwrap_or_default();
            if p("addTokenTo").as_deref() == Some("queryParams") {
                *url = add_query(url, "access_token", &token);
            } else {
                let prefix = param(auth, &kind, "headerPrefix").map(|v| stringify(&v)).unwrap_or_else(|| "Bearer".into());
                let prefix = s.text(&prefix);
                let value = if prefix.is_empty() { token } else { format!("{prefix} {token}") };
                set_header(headers, "Authorization", value);
            }
        }
        "digest" => {
            let (realm, nonce) = (p("realm").unwrap_or_default(), p("nonce").unwrap_or_default());
            let preset = (!realm.is_empty() && !nonce.is_empty()).then(|| crate::digest::Challenge {
                realm,
                nonce,
                opaque: p("opaque").filter(|o| !o.is_empty()),
                algorithm: p("algorithm").filter(|a| !a.is_empty()).unwrap_or_else(|| "MD5".into()),
                qop_auth: p("qop").is_some_and(|q| q.eq_ignore_ascii_case("auth")),
            });
            applied.digest = Some(DigestCredentials {
                username: p("username").unwrap_or_default(),
                password: p("password").unwrap_or_default(),
                preset,
            });
        }
        "oauth1" => {
            let mut text = |name: &str| p(name).unwrap_or_default();
            let on = |v: String| v.eq_ignore_ascii_case("true");
            applied.oauth1 = Some(crate::oauth1::Params {
                consumer_key: text("consumerKey"),
                consumer_secret: text("consumerSecret"),
                token: text("token"),
                token_secret: text("tokenSecret"),
                signature_method: text("signatureMethod"),
                timestamp: text("timestamp"),
                nonce: text("nonce"),
                version: param(auth, &kind, "version").map_or_else(|| "1.0".to_string(), |_| text("version")),
                realm: text("realm"),
                callback: text("callback"),
                verifier: text("verifier"),
                to_header: on(text("addParamsToHeader")),
                empty_params: on(text("addEmptyParamsToSign")),
            });
        }
        other => applied.not_applied = Some(other.to_string()),
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scopes;
    use serde_json::json;

    fn run(auth: Value, ancestors: &[Value]) -> (Vec<(String, String)>, String, Applied) {
        let mut sc = Scopes::default();
        sc.environment.insert("tok".into(), json!("t0k"));
        let mut s = Substitution::new(&sc);
        let mut headers = Vec::new();
        let mut url = "http://h/p".to_string();
        let a = apply(effective(Some(&auth), ancestors), &mut s, &mut headers, &mut url);
        (headers, url, a)
    }

    fn kv(pairs: &[(&str, &str)]) -> Value {
        Value::Array(pairs.iter().map(|(k, v)| json!({"key": k, "value": v, "type": "string"})).collect())
    }

    #[test]
    fn basic_bearer_apikey_and_oauth2_are_applied() {
        let (h, _, _) = run(json!({"type": "basic", "basic": kv(&[("username", "ann"), ("password", "{{tok}}")])}), &[]);
        assert_eq!(h, vec![("Authorization".into(), "Basic YW5uOnQwaw==".into())]);
        // v2.0's object form too.
        let (h, _, _) = run(json!({"type": "basic", "basic": {"username": "ann", "password": "t0k"}}), &[]);
        assert_eq!(h[0].1, "Basic YW5uOnQwaw==");
        let (h, _, _) = run(json!({"type": "bearer", "bearer": kv(&[("token", "{{tok}}")])}), &[]);
        assert_eq!(h, vec![("Authorization".into(), "Bearer t0k".into())]);
        let (h, u, _) = run(json!({"type": "apikey", "apikey": kv(&[("key", "X-Key"), ("value", "{{tok}}")])}), &[]);
        assert_eq!((h, u.as_str()), (vec![("X-Key".into(), "t0k".into())], "http://h/p"));
        let (h, u, _) = run(json!({"type": "apikey", "apikey": kv(&[("key", "k"), ("value", "v v"), ("in", "query")])}), &[]);
        assert_eq!((h.len(), u.as_str()), (0, "http://h/p?k=v+v"));
        let (h, _, _) = run(json!({"type": "oauth2", "oauth2": kv(&[("accessToken", "{{tok}}")])}), &[]);
        assert_eq!(h[0].1, "Bearer t0k");
        let (h, _, _) = run(json!({"type": "oauth2", "oauth2": kv(&[("accessToken", "a"), ("headerPrefix", "Token")])}), &[]);
        assert_eq!(h[0].1, "Token a");
        let (h, u, _) = run(json!({"type": "oauth2", "oauth2": kv(&[("accessToken", "a"), ("addTokenTo", "queryParams")])}), &[]);
        assert_eq!((h.len(), u.as_str()), (0, "http://h/p?access_token=a"));
    }

    #[test]
    fn inherit_takes_the_nearest_ancestor_that_does_not_inherit() {
        let folder = json!({"type": "inherit"});
        let collection = json!({"type": "bearer", "bearer": kv(&[("token", "col")])});
        let (h, _, a) = run(json!({"type": "inherit"}), &[folder.clone(), Value::Null, collection.clone()]);
        assert_eq!((h[0].1.as_str(), a.kind.as_str()), ("Bearer col", "bearer"));
        let near = json!({"type": "apikey", "apikey": kv(&[("key", "K"), ("value", "near")])});
        let (h, _, _) = run(Value::Null, &[near, collection.clone()]);
        assert_eq!(h[0], ("K".into(), "near".into()));
        let (h, _, a) = run(json!({"type": "noauth"}), &[collection]);
        assert!(h.is_empty());
        assert_eq!(a.kind, "noauth");
        let (h, _, a) = run(Value::Null, &[]);
        assert_eq!((h.len(), a.kind.as_str()), (0, "noauth"));
    }

    #[test]
    fn digest_is_handed_on_and_others_are_reported() {
        let (h, _, a) = run(json!({"type": "digest", "digest": kv(&[("username", "u"), ("password", "{{tok}}")])}), &[]);
        assert!(h.is_empty());
        assert_eq!(a.digest, Some(DigestCredentials { username: "u".into(), password: "t0k".into(), preset: None }));
        for kind in ["hawk", "ntlm", "awsv4", "edgegrid", "jwt", "asap", "akamai"] {
            let (h, _, a) = run(json!({"type": kind}), &[]);
            assert!(h.is_empty());
            assert_eq!(a.not_applied.as_deref(), Some(kind));
        }
    }

    #[test]
    fn the_auth_helper_replaces_a_header_the_request_sets() {
        let sc = Scopes::default();
        let mut s = Substitution::new(&sc);
        let mut headers = vec![("authorization".to_string(), "Custom x".to_string())];
        let mut url = String::from("http://h");
        apply(Some(&json!({"type": "bearer", "bearer": kv(&[("token", "t")])})), &mut s, &mut headers, &mut url);
        assert_eq!(headers, vec![("Authorization".to_string(), "Bearer t".to_string())]);
    }

    #[test]
    fn digest_with_a_realm_and_nonce_is_signed_at_once() {
        let sc = Scopes::default();
        let mut s = Substitution::new(&sc);
        let (mut headers, mut url) = (Vec::new(), String::from("http://h/x"));
        let auth =
            json!({"type": "digest", "digest": kv(&[("username", "u"), ("password", "p"), ("realm", "r"), ("nonce", "n"), ("qop", "")])});
        let a = apply(Some(&auth), &mut s, &mut headers, &mut url);
        let preset = a.digest.and_then(|d| d.preset).unwrap();
        assert_eq!((preset.realm.as_str(), preset.nonce.as_str(), preset.algorithm.as_str(), preset.qop_auth), ("r", "n", "MD5", false));
    }
}
