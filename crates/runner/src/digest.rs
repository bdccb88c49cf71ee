//! HTTP Digest auth (RFC 7616): reading a `WWW-Authenticate: Digest`
//! challenge and answering it, with MD5, MD5-sess, SHA-256 and
//! SHA-256-sess, `qop=auth` or none.

use crate::auth::DigestCredentials;
use md5::Digest as _;
use std::collections::HashMap;

/// A server's digest challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The realm.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Echoed back when present.
    pub opaque: Option<String>,
    /// `MD5` when absent.
    pub algorithm: String,
    /// Whether the server offers `qop=auth`.
    pub qop_auth: bool,
}

/// Splits `a="x, y", b=c` into pairs, honouring quotes.
fn params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = &q[end.min(q.len())..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        out.insert(key, value);
    }
    out
}

/// The digest challenge among a response's `WWW-Authenticate` values, if any.
pub fn challenge<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    values.into_iter().find_map(|v| {
        let v = v.trim();
        let rest = v.get(..7).filter(|s| s.eq_ignore_ascii_case("digest ")).map(|_| &v[7..])?;
        let p = params(rest);
        Some(Challenge {
            realm: p.get("realm").cloned().unwrap_or_default(),
            nonce: p.get("nonce").cloned()?,
            opaque: p.get("opaque").cloned(),
            algorithm: p.get("algorithm").cloned().unwrap_or_else(|| "MD5".into()),
            qop_auth: p.get("qop").is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth"))),
        })
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(algorithm: &str, data: &str) -> Option<String> {
    let base = algorithm.to_ascii_uppercase();
    Some(match base.trim_end_matches("-SESS") {
        "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
        "SHA-256" => {
            use sha2::Digest as _;
            hex(&sha2::Sha256::digest(data.as_bytes()))
        }
        _ => return None,
    })
}

/// The `Authorization` value answering `c` for `method` on `uri` (path and
/// query); `None` when the algorithm is one apisync does not have.
pub fn answer(c: &Challenge, creds: &DigestCredentials, method: &str, uri: &str, cnonce: &str) -> Option<String> {
    let alg = &c.algorithm;
    let mut ha1 = hash(alg, &format!("{}:{}:{}", creds.username, c.realm, creds.password))?;
    if alg.to_ascii_uppercase().ends_with("-SESS") {
        ha1 = hash(alg, &format!("{ha1}:{}:{cnonce}", c.nonce))?;
    }
    let ha2 = hash(alg, &format!("{method}:{uri}"))?;
    let nc = "00000001";
    let response = if c.qop_auth {
        hash(alg, &format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", c.nonce))?
    } else {
        hash(alg, &format!("{ha1}:{}:{ha2}", c.nonce))?
    };
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    // Postman's order and quoting (postman-runtime's digest helper), which servers accept alike.
    let mut h = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm=\"{alg}\"",
        q(&creds.username),
        q(&c.realm),
        q(&c.nonce),
        q(uri)
    );
    if c.qop_auth {
        h.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
    }
    h.push_str(&format!(", response=\"{response}\""));
    if let Some(o) = c.opaque.as_deref().filter(|o| !o.is_empty()) {
        h.push_str(&format!(", opaque=\"{}\"", q(o)));
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_2617_example_is_answered() {
        // RFC 2617 section 3.5.
        let c = challenge([
            "Basic realm=\"x\"",
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        ])
        .unwrap();
        assert_eq!(c.realm, "testrealm@host.com");
        assert!(c.qop_auth);
        let creds = DigestCredentials { username: "Mufasa".into(), password: "Circle Of Life".into(), preset: None };
        let h = answer(&c, &creds, "GET", "/dir/index.html", "0a4f113b").unwrap();
        assert!(h.contains("response=\"6629fae49393a05397450978507c4ef1\""), "{h}");
        assert!(h.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"") && h.contains("nc=00000001"), "{h}");
    }

    #[test]
    fn sha256_and_no_qop_and_unknown_algorithms() {
        // RFC 7616 section 3.9.1, SHA-256.
        let c = challenge([
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        ])
        .unwrap();
        let creds = DigestCredentials { username: "Mufasa".into(), password: "Circle of Life".into(), preset: None };
        let h = answer(&c, &creds, "GET", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ").unwrap();
        assert!(h.contains("response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""), "{h}");

        let plain = Challenge { realm: "r".into(), nonce: "n".into(), opaque: None, algorithm: "MD5".into(), qop_auth: false };
        let creds = DigestCredentials { username: "u".into(), password: "p".into(), preset: None };
        let h = answer(&plain, &creds, "GET", "/", "c").unwrap();
        assert!(!h.contains("qop") && !h.contains("cnonce"), "{h}");
        let odd = Challenge { algorithm: "SHA-512-256".into(), ..plain };
        assert_eq!(answer(&odd, &creds, "GET", "/", "c"), None);
        assert_eq!(challenge(["Basic realm=\"x\""]), None);
    }
}
