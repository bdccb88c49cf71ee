//! OAuth 1.0 (RFC 5849) as Postman signs it: HMAC-SHA1, HMAC-SHA256,
//! HMAC-SHA512 or PLAINTEXT over the method, the URL and every parameter
//! (the query's, a form body's, the `oauth_*` ones), the signed parameters
//! sent in an `Authorization: OAuth` header, or else in the query (or the
//! form body, when there is one).

use base64::Engine;
use hmac::{Hmac, Mac};

/// What the auth block says, variables already replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// `oauth_consumer_key`.
    pub consumer_key: String,
    /// The consumer secret (signs; never sent).
    pub consumer_secret: String,
    /// `oauth_token`, if any.
    pub token: String,
    /// The token secret (signs; never sent).
    pub token_secret: String,
    /// `HMAC-SHA1` (Postman's default), `HMAC-SHA256`, `HMAC-SHA512` or `PLAINTEXT`.
    pub signature_method: String,
    /// A fixed `oauth_timestamp`; empty: now.
    pub timestamp: String,
    /// A fixed `oauth_nonce`; empty: a random one.
    pub nonce: String,
    /// `oauth_version` (`1.0` unless empty on purpose).
    pub version: String,
    /// The header's `realm`, if any.
    pub realm: String,
    /// `oauth_callback`, `oauth_verifier`, when given.
    pub callback: String,
    /// See [`Params::callback`].
    pub verifier: String,
    /// Send in the `Authorization` header (else in the query or the form body).
    pub to_header: bool,
    /// Sign (and send) empty parameters too.
    pub empty_params: bool,
}

/// Why a request cannot be signed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OAuth1Error {
    /// A signature method apisync does not make.
    #[error(
        "OAuth 1.0 signature method {0} is not supported (HMAC-SHA1, HMAC-SHA256, HMAC-SHA512 and PLAINTEXT are); the request was not signed"
    )]
    Method(String),
}

/// HMAC of `data` under `key` with digest `$d` (any key length is valid for HMAC).
macro_rules! hmac_of {
    ($d:ty, $key:expr, $data:expr) => {
        match Hmac::<$d>::new_from_slice($key) {
            Ok(mut m) => {
                m.update($data);
                m.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    };
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `oauth_*` parameters to sign (all but the signature), in Postman's order.
fn protocol_params(p: &Params, timestamp: &str, nonce: &str) -> Vec<(String, String)> {
    let method = if p.signature_method.is_empty() { "HMAC-SHA1" } else { &p.signature_method };
    let all = [
        ("oauth_consumer_key", p.consumer_key.as_str()),
        ("oauth_token", p.token.as_str()),
        ("oauth_signature_method", method),
        ("oauth_timestamp", timestamp),
        ("oauth_nonce", nonce),
        ("oauth_version", p.version.as_str()),
        ("oauth_callback", p.callback.as_str()),
        ("oauth_verifier", p.verifier.as_str()),
    ];
    all.into_iter().filter(|(_, v)| p.empty_params || !v.is_empty()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The signature base string's URL: scheme and host in lower case, no default port, no query or fragment.
fn base_url(url: &str) -> String {
    let no_fragment = url.split('#').next().unwrap_or(url);
    let no_query = no_fragment.split('?').next().unwrap_or(no_fragment);
    match reqwest::Url::parse(no_query) {
        Ok(u) => {
            let mut s = format!("{}://{}", u.scheme(), u.host_str().unwrap_or("").to_ascii_lowercase());
            if let Some(port) = u.port() {
                s.push_str(&format!(":{port}"));
            }
            s.push_str(u.path());
            s
        }
        Err(_) => no_query.to_string(),
    }
}

/// Decoded `k=v` pairs of a query or a form body.
pub fn pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The signature over `method`, `url` (its query included) and the form
/// body's pairs, with the protocol parameters given.
pub fn signature(
    p: &Params,
    method: &str,
    url: &str,
    form: &[(String, String)],
    oauth: &[(String, String)],
) -> Result<String, OAuth1Error> {
    let key = format!("{}&{}", encode(&p.consumer_secret), encode(&p.token_secret));
    let method_name = if p.signature_method.is_empty() { "HMAC-SHA1" } else { p.signature_method.as_str() };
    if method_name.eq_ignore_ascii_case("PLAINTEXT") {
        return Ok(key);
    }
    let query = url.split('#').next().unwrap_or(url).split_once('?').map(|(_, q)| q).unwrap_or("");
    let mut all: Vec<(String, String)> =
        pairs(query).into_iter().chain(form.iter().cloned()).chain(oauth.iter().cloned()).map(|(k, v)| (encode(&k), encode(&v))).collect();
    all.sort();
    let normalized = all.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let base = format!("{}&{}&{}", method.to_ascii_uppercase(), encode(&base_url(url)), encode(&normalized));
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let (k, data) = (key.as_bytes(), base.as_bytes());
    match method_name.to_ascii_uppercase().as_str() {
        "HMAC-SHA1" => Ok(b64(&hmac_of!(sha1::Sha1, k, data))),
        "HMAC-SHA256" => Ok(b64(&hmac_of!(sha2::Sha256, k, data))),
        "HMAC-SHA512" => Ok(b64(&hmac_of!(sha2::Sha512, k, data))),
        other => Err(OAuth1Error::Method(other.to_string())),
    }
}

/// Where the signed parameters go.
#[derive(Debug, PartialEq, Eq)]
pub enum Placement {
    /// `Authorization: OAuth ...`.
    Header(String),
    /// Appended to the query (or the form body, when the request has one), in this order.
    Params(Vec<(String, String)>),
}

/// Signs a request: `timestamp` and `nonce` are used where the auth block fixes none.
pub fn sign(
    p: &Params,
    method: &str,
    url: &str,
    form: &[(String, String)],
    timestamp: &str,
    nonce: &str,
) -> Result<Placement, OAuth1Error> {
    let ts = if p.timestamp.is_empty() { timestamp } else { &p.timestamp };
    let nonce = if p.nonce.is_empty() { nonce } else { &p.nonce };
    // Empty parameters are signed when asked, but never sent (as Postman does).
    let mut oauth = protocol_params(p, ts, nonce);
    let sig = signature(p, method, url, form, &oauth)?;
    oauth.retain(|(_, v)| !v.is_empty());
    oauth.push(("oauth_signature".into(), sig));
    if !p.to_header {
        return Ok(Placement::Params(oauth));
    }
    let mut parts = Vec::new();
    if !p.realm.is_empty() {
        parts.push(format!("realm=\"{}\"", encode(&p.realm)));
    }
    parts.extend(oauth.iter().map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v))));
    Ok(Placement::Header(format!("OAuth {}", parts.join(","))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Twitter's documented example of a signed request ("Creating a signature": its base string and key give hCtSmYh+iHYCEqBWrE7C7hYmtUk=).
    fn twitter() -> Params {
        Params {
            consumer_key: "xvz1evFS4wEEPTGEFPHBog".into(),
            consumer_secret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw".into(),
            token: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb".into(),
            token_secret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE".into(),
            signature_method: "HMAC-SHA1".into(),
            timestamp: "1318622958".into(),
            nonce: "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg".into(),
            version: "1.0".into(),
            to_header: true,
            ..Params::default()
        }
    }

    #[test]
    fn the_documented_hmac_sha1_example_is_signed_alike() {
        let form = vec![("status".to_string(), "Hello Ladies + Gentlemen, a signed OAuth request!".to_string())];
        let url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true";
        let Placement::Header(h) = sign(&twitter(), "POST", url, &form, "x", "y").unwrap() else { panic!("header expected") };
        assert!(h.contains("oauth_signature=\"hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D\""), "{h}");
        assert!(h.starts_with("OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\",oauth_token="), "{h}");
    }

    #[test]
    fn params_go_to_the_query_when_not_in_the_header_and_empty_ones_are_left_out() {
        let p = Params { consumer_key: "ck".into(), consumer_secret: "cs".into(), version: "1.0".into(), ..Params::default() };
        let Placement::Params(list) = sign(&p, "GET", "http://h/x", &[], "100", "n1").unwrap() else { panic!("params expected") };
        let keys: Vec<&str> = list.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["oauth_consumer_key", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_version", "oauth_signature"]
        );
        let plain = Params { signature_method: "PLAINTEXT".into(), token_secret: "t s".into(), ..p };
        assert_eq!(signature(&plain, "GET", "http://h/", &[], &[]).unwrap(), "cs&t%20s");
        let odd = Params { signature_method: "RSA-SHA1".into(), ..plain };
        assert!(matches!(signature(&odd, "GET", "http://h/", &[], &[]), Err(OAuth1Error::Method(_))));
    }
}
