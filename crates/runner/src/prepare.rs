//! A Postman v2.1 request, its ancestors' auth and the variable scopes made
//! into the one request to send ([`Outgoing`]), with what could not be
//! resolved or applied ([`Report`]); and back into v2.1 JSON, as sent.

use crate::auth::{self, DigestCredentials};
use crate::body;
use crate::url::{self, enabled_items};
use crate::vars::Substitution;
use crate::{PrepareError, Scopes};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Which HTTP version to ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    /// HTTP/2 when the server offers it through TLS ALPN, else HTTP/1.1.
    #[default]
    Auto,
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only (prior knowledge on plain HTTP).
    Http2,
}

/// How one request is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The limit on the whole exchange; `None`: no limit (Postman's 0).
    pub timeout: Option<Duration>,
    /// Whether to follow redirects (`protocolProfileBehavior.followRedirects`, on by default).
    pub follow_redirects: bool,
    /// How many redirects to follow at most (`protocolProfileBehavior.maxRedirects`).
    pub max_redirects: usize,
    /// Whether to verify the server's TLS certificate (off only by `strictSSL: false` or an explicit switch).
    pub verify_tls: bool,
    /// Which HTTP version to ask for.
    pub http_version: HttpVersion,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { timeout: None, follow_redirects: true, max_redirects: 10, verify_tls: true, http_version: HttpVersion::Auto }
    }
}

impl Settings {
    /// The settings a request's `protocolProfileBehavior` asks for.
    pub fn from_behavior(ppb: Option<&Value>) -> Settings {
        let mut s = Settings::default();
        let Some(p) = ppb else { return s };
        if let Some(f) = p.get("followRedirects").and_then(Value::as_bool) {
            s.follow_redirects = f;
        }
        if let Some(m) = p.get("maxRedirects").and_then(Value::as_u64) {
            s.max_redirects = m as usize;
        }
        if p.get("strictSSL").and_then(Value::as_bool) == Some(false) {
            s.verify_tls = false;
        }
        s.http_version = match p.get("protocolVersion").and_then(Value::as_str) {
            Some("http1") => HttpVersion::Http1,
            Some("http2") => HttpVersion::Http2,
            _ => HttpVersion::Auto,
        };
        s
    }
}

/// One request, ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The method (upper case).
    pub method: String,
    /// The full URL, variables replaced, enabled query parameters only.
    pub url: String,
    /// Enabled headers, then those auth and the body add.
    pub headers: Vec<(String, String)>,
    /// The body's bytes (empty: none).
    pub body: Vec<u8>,
    /// The body as Postman v2.1 JSON, as sent (`None`: no body).
    pub body_sent: Option<Value>,
    /// Digest auth's credentials: the sender answers the 401 challenge with them.
    pub digest: Option<DigestCredentials>,
    /// How to send it.
    pub settings: Settings,
}

/// What preparing a request could not do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Variable names nothing defines, left as `{{name}}`.
    pub unresolved: Vec<String>,
    /// The auth type in effect (`noauth` when none).
    pub auth: String,
    /// The auth type apisync does not apply (hawk, ntlm, awsv4, ...), sent without it.
    pub auth_not_applied: Option<String>,
    /// What else was left out, and why.
    pub warnings: Vec<String>,
}

/// A prepared request and its report.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// The request to send.
    pub outgoing: Outgoing,
    /// What could not be resolved or applied.
    pub report: Report,
}

/// The `User-Agent` sent when the request sets none.
pub const USER_AGENT: &str = concat!("apisync/", env!("CARGO_PKG_VERSION"));

/// The enabled headers of a v2.1 `header` field: a list of `{key, value,
/// disabled}` or the `Key: value` lines form.
fn headers(h: Option<&Value>, s: &mut Substitution<'_>) -> Vec<(String, String)> {
    match h {
        Some(Value::String(lines)) => lines
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (s.text(k.trim()), s.text(v.trim())))
            .filter(|(k, _)| !k.is_empty())
            .collect(),
        other => enabled_items(other).map(|i| (s.field(i.get("key")), s.field(i.get("value")))).filter(|(k, _)| !k.is_empty()).collect(),
    }
}

/// Prepares `request` (Postman v2.1 request JSON). `ancestors_auth` holds
/// the `auth` of its folders then its collection, nearest first (`null`
/// where one has none); file bodies are read relative to `base_dir`.
pub fn prepare(request: &Value, ancestors_auth: &[Value], scopes: &Scopes, base_dir: &Path) -> Result<Prepared, PrepareError> {
    let mut s = Substitution::new(scopes);
    let method = s.field(request.get("method")).trim().to_ascii_uppercase();
    let method = if method.is_empty() { "GET".to_string() } else { method };
    let mut url = url::build(request.get("url"), &mut s);
    if url.is_empty() {
        return Err(PrepareError::NoUrl);
    }
    let mut headers = headers(request.get("header"), &mut s);
    let auth = auth::effective(request.get("auth"), ancestors_auth);
    let applied = auth::apply(auth, &mut s, &mut headers, &mut url);
    let behavior = request.get("protocolProfileBehavior");
    // Postman leaves out the body of these methods unless told not to.
    let pruned = matches!(method.as_str(), "GET" | "HEAD" | "COPY" | "PURGE" | "UNLOCK")
        && behavior.and_then(|b| b.get("disableBodyPruning")).and_then(Value::as_bool) != Some(true);
    let built = if pruned { None } else { body::build(request.get("body"), &mut s, base_dir)? };
    let mut out_body = Vec::new();
    let mut body_sent = None;
    let mut warnings = Vec::new();
    if let Some(b) = built {
        warnings = b.warnings;
        if let Some(ct) = b.content_type {
            match headers.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
                // A form's parts are only readable with its boundary: Postman's multipart type wins.
                Some((_, v)) if ct.starts_with("multipart/form-data") => *v = ct,
                Some(_) => {}
                None => headers.push(("Content-Type".into(), ct)),
            }
        }
        out_body = b.bytes;
        body_sent = Some(b.sent);
    }
    if let Some(o) = &applied.oauth1 {
        let form_body =
            headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.starts_with("application/x-www-form-urlencoded"));
        let form = if form_body { crate::oauth1::pairs(&String::from_utf8_lossy(&out_body)) } else { Vec::new() };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let nonce: String = uuid::Uuid::new_v4().simple().to_string().chars().take(11).collect();
        match crate::oauth1::sign(o, &method, &url, &form, &now.to_string(), &nonce) {
            Ok(crate::oauth1::Placement::Header(h)) => {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                headers.push(("Authorization".into(), h));
            }
            Ok(crate::oauth1::Placement::Params(list)) if form_body => {
                let mut body = String::from_utf8_lossy(&out_body).into_owned();
                for (k, v) in list {
                    let pair: String = form_urlencoded::Serializer::new(String::new()).append_pair(&k, &v).finish();
                    body = if body.is_empty() { pair } else { format!("{body}&{pair}") };
                }
                out_body = body.into_bytes();
            }
            Ok(crate::oauth1::Placement::Params(list)) => {
                for (k, v) in list {
                    url = url::add_query(&url, &k, &v);
                }
            }
            Err(e) => warnings.push(e.to_string()),
        }
    }
    if let Some(host) = url::explicit_default_port(&url)
        && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host"))
    {
        headers.push(("Host".into(), host));
    }
    for (name, value) in [("User-Agent", USER_AGENT), ("Accept", "*/*")] {
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
            headers.push((name.into(), value.into()));
        }
    }
    Ok(Prepared {
        outgoing: Outgoing {
            method,
            url,
            headers,
            body: out_body,
            body_sent,
            digest: applied.digest,
            settings: Settings::from_behavior(behavior),
        },
        report: Report { unresolved: s.into_unresolved(), auth: applied.kind, auth_not_applied: applied.not_applied, warnings },
    })
}

impl Outgoing {
    /// The request as sent, as Postman v2.1 request JSON (what scripts see as
    /// `pm.request` and history keeps): method, url, header, body.
    pub fn to_postman(&self) -> Value {
        let header: Vec<Value> = self.headers.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect();
        let mut v = json!({ "method": self.method, "url": self.url, "header": header });
        if let Some(b) = &self.body_sent {
            v["body"] = b.clone();
        }
        v
    }

    /// The first header of that name, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes() -> Scopes {
        let mut s = Scopes::default();
        s.environment.insert("base".into(), json!("http://api.test"));
        s.environment.insert("tok".into(), json!("t0k"));
        s.collection.insert("ver".into(), json!("v1"));
        s
    }

    #[test]
    fn a_request_becomes_what_is_sent() {
        let req = json!({
            "method": "post",
            "url": "{{base}}/{{ver}}/items?q=1",
            "header": [
                {"key": "X-One", "value": "{{tok}}"},
                {"key": "X-Off", "value": "x", "disabled": true},
                {"key": "X-Missing", "value": "{{nope}}"}
            ],
            "body": {"mode": "raw", "raw": "{\"a\":1}", "options": {"raw": {"language": "json"}}},
            "auth": {"type": "inherit"},
            "protocolProfileBehavior": {"followRedirects": false, "strictSSL": false, "maxRedirects": 3}
        });
        let collection_auth = json!({"type": "bearer", "bearer": [{"key": "token", "value": "{{tok}}"}]});
        let p = prepare(&req, &[Value::Null, collection_auth], &scopes(), Path::new(".")).unwrap();
        let o = &p.outgoing;
        assert_eq!(o.method, "POST");
        assert_eq!(o.url, "http://api.test/v1/items?q=1");
        assert_eq!(o.header("x-one"), Some("t0k"));
        assert_eq!(o.header("X-Off"), None);
        assert_eq!(o.header("X-Missing"), Some("{{nope}}"));
        assert_eq!(o.header("Authorization"), Some("Bearer t0k"));
        assert_eq!(o.header("Content-Type"), Some("application/json"));
        assert_eq!(o.header("User-Agent"), Some(USER_AGENT));
        assert_eq!(o.body, br#"{"a":1}"#);
        assert_eq!(o.settings, Settings { follow_redirects: false, verify_tls: false, max_redirects: 3, ..Settings::default() });
        assert_eq!(
            p.report,
            Report { unresolved: vec!["nope".into()], auth: "bearer".into(), auth_not_applied: None, warnings: Vec::new() }
        );
        let sent = o.to_postman();
        assert_eq!(sent["url"], "http://api.test/v1/items?q=1");
        assert_eq!(sent["body"]["raw"], "{\"a\":1}");
        assert!(sent["header"].as_array().unwrap().iter().any(|h| h["key"] == "Authorization" && h["value"] == "Bearer t0k"));
    }

    #[test]
    fn a_content_type_header_wins_over_the_body_mode() {
        let req = json!({"url": "h.test", "header": "Content-Type: text/x-mine\nX-A: b",
            "body": {"mode": "raw", "raw": "x", "options": {"raw": {"language": "json"}}}});
        let o = prepare(&req, &[], &Scopes::default(), Path::new(".")).unwrap().outgoing;
        assert_eq!(o.method, "GET");
        assert_eq!(o.url, "http://h.test");
        assert_eq!(o.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("content-type")).count(), 1);
        assert_eq!(o.header("content-type"), Some("text/x-mine"));
        assert_eq!(o.header("X-A"), Some("b"));
        assert_eq!(o.settings, Settings::default());
    }

    #[test]
    fn unapplied_auth_is_reported_by_name_and_no_url_is_an_error() {
        let req = json!({"url": "http://h", "auth": {"type": "hawk", "hawk": []}});
        let p = prepare(&req, &[], &Scopes::default(), Path::new(".")).unwrap();
        assert_eq!(p.report.auth_not_applied.as_deref(), Some("hawk"));
        assert_eq!(p.outgoing.header("Authorization"), None);
        let e = prepare(&json!({"method": "GET"}), &[], &Scopes::default(), Path::new(".")).unwrap_err();
        assert!(matches!(e, PrepareError::NoUrl));
    }
}
