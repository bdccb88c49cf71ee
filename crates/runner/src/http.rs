//! The HTTP exchange (reqwest over rustls with ring): one [`Outgoing`] sent,
//! its answer captured as [`Received`] with timings, the cookie jar
//! consulted and filled, digest auth's challenge answered.

use crate::cookies::CookieJar;
use crate::digest;
use crate::prepare::{HttpVersion, Outgoing};
use crate::{Received, SendError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The most response body bytes held in memory; a larger body fails the send.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// What makes two requests need different clients (reqwest sets these per client).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ClientKey {
    verify_tls: bool,
    follow_redirects: bool,
    max_redirects: usize,
    version: HttpVersion,
}

/// How long the last lookup of each host name took, in milliseconds.
type Lookups = Arc<Mutex<HashMap<String, f64>>>;

/// The system resolver (through tokio), timed: a send reports its DNS time
/// when its connection needed a lookup (a reused connection needs none).
struct TimedResolver(Lookups);

impl reqwest::dns::Resolve for TimedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let lookups = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let started = Instant::now();
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            lookups.lock().unwrap_or_else(|p| p.into_inner()).insert(host, started.elapsed().as_secs_f64() * 1000.0);
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Sends requests for one device: one cookie jar, clients reused across sends.
pub struct Sender {
    jar: Arc<CookieJar>,
    clients: Mutex<HashMap<ClientKey, reqwest::Client>>,
    lookups: Lookups,
    max_body: usize,
}

impl Sender {
    /// A sender whose requests use `jar`.
    pub fn new(jar: Arc<CookieJar>) -> Sender {
        Sender { jar, clients: Mutex::new(HashMap::new()), lookups: Lookups::default(), max_body: MAX_RESPONSE_BYTES }
    }

    /// Sets the most body bytes held in memory (default [`MAX_RESPONSE_BYTES`]).
    pub fn with_max_body(mut self, bytes: usize) -> Sender {
        self.max_body = bytes;
        self
    }

    /// The cookie jar.
    pub fn jar(&self) -> &Arc<CookieJar> {
        &self.jar
    }

    fn client(&self, key: ClientKey, url: &str) -> Result<reqwest::Client, SendError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        // reqwest is built without a bundled crypto provider; use ring's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy =
            if key.follow_redirects { reqwest::redirect::Policy::limited(key.max_redirects) } else { reqwest::redirect::Policy::none() };
        let mut b = reqwest::Client::builder()
            .cookie_provider(self.jar.clone())
            .dns_resolver(Arc::new(TimedResolver(self.lookups.clone())))
            .redirect(policy)
            .tls_danger_accept_invalid_certs(!key.verify_tls);
        b = match key.version {
            HttpVersion::Auto => b,
            HttpVersion::Http1 => b.http1_only(),
            HttpVersion::Http2 => b.http2_prior_knowledge(),
        };
        let c = b.build().map_err(|e| SendError::Other { url: url.to_string(), detail: format!("cannot set up HTTP: {e}") })?;
        clients.insert(key, c.clone());
        Ok(c)
    }

    /// Sends `out` and receives the answer. Digest auth adds its
    /// `Authorization` header to `out` (the request as sent) when the
    /// server's challenge comes. The jar is saved when the answer changed it.
    pub async fn send(&self, out: &mut Outgoing) -> Result<Received, SendError> {
        let url = reqwest::Url::parse(&out.url).map_err(|e| SendError::InvalidUrl { url: out.url.clone(), detail: e.to_string() })?;
        if !matches!(url.scheme(), "http" | "https") {
            let detail = format!("the scheme is {}, not http or https", url.scheme());
            return Err(SendError::InvalidUrl { url: out.url.clone(), detail });
        }
        let s = &out.settings;
        let key = ClientKey {
            verify_tls: s.verify_tls,
            follow_redirects: s.follow_redirects,
            max_redirects: s.max_redirects,
            version: s.http_version,
        };
        let client = self.client(key, &out.url)?;
        let host = url.host_str().unwrap_or("").to_string();
        self.lookups.lock().unwrap_or_else(|p| p.into_inner()).remove(&host);
        if let Some(creds) = out.digest.clone()
            && let Some(c) = &creds.preset
        {
            let uri = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            let cnonce = uuid::Uuid::new_v4().simple().to_string();
            if let Some(h) = digest::answer(c, &creds, &out.method, &uri, &cnonce) {
                out.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                out.headers.push(("Authorization".into(), h));
            }
        }
        let mut received = self.exchange(&client, out, url.clone()).await?;
        if received.0.status() == reqwest::StatusCode::UNAUTHORIZED
            && let Some(creds) = out.digest.clone()
        {
            let challenges: Vec<String> = received
                .0
                .headers()
                .get_all(reqwest::header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_string))
                .collect();
            let answered = received.0.url().clone();
            if let Some(c) = digest::challenge(challenges.iter().map(String::as_str)) {
                let uri = match answered.query() {
                    Some(q) => format!("{}?{q}", answered.path()),
                    None => answered.path().to_string(),
                };
                let cnonce = uuid::Uuid::new_v4().simple().to_string();
                if let Some(h) = digest::answer(&c, &creds, &out.method, &uri, &cnonce) {
                    out.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                    out.headers.push(("Authorization".into(), h));
                    received = self.exchange(&client, out, url).await?;
                }
            }
        }
        let (resp, started) = received;
        let mut result = self.receive(resp, started, out).await;
        let dns = self.lookups.lock().unwrap_or_else(|p| p.into_inner()).get(&host).copied();
        if let (Ok(r), Some(ms)) = (&mut result, dns) {
            r.timings.insert("dns".into(), ms);
        }
        // The answer came: a jar that cannot be saved must not lose it.
        if let (Ok(r), Err(e)) = (&mut result, self.jar.save_if_changed()) {
            r.warnings.push(e.to_string());
        }
        result
    }

    async fn exchange(
        &self,
        client: &reqwest::Client,
        out: &Outgoing,
        url: reqwest::Url,
    ) -> Result<(reqwest::Response, Instant), SendError> {
        let method = reqwest::Method::from_bytes(out.method.as_bytes()).map_err(|e| SendError::InvalidUrl {
            url: out.url.clone(),
            detail: format!("the method '{}' is not valid: {e}", out.method),
        })?;
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &out.headers {
            let bad = |d: String| SendError::InvalidHeader { name: k.clone(), detail: d };
            let name = reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).map_err(|e| bad(e.to_string()))?;
            let value = reqwest::header::HeaderValue::from_str(v).map_err(|e| bad(e.to_string()))?;
            headers.append(name, value);
        }
        let mut req = client.request(method, url).headers(headers);
        if !out.body.is_empty() {
            req = req.body(out.body.clone());
        }
        if let Some(t) = out.settings.timeout {
            req = req.timeout(t);
        }
        let started = Instant::now();
        let resp = req.send().await.map_err(|e| classify(&e, out))?;
        Ok((resp, started))
    }

    async fn receive(&self, mut resp: reqwest::Response, started: Instant, out: &Outgoing) -> Result<Received, SendError> {
        let first_byte = started.elapsed();
        let too_large = || SendError::BodyTooLarge { url: out.url.clone(), limit: self.max_body };
        if resp.content_length().is_some_and(|n| n > self.max_body as u64) {
            return Err(too_large());
        }
        let status = resp.status();
        let headers: Vec<(String, String)> =
            resp.headers().iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect();
        let http_version = match resp.version() {
            reqwest::Version::HTTP_09 => "HTTP/0.9",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            reqwest::Version::HTTP_2 => "HTTP/2",
            reqwest::Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/1.1",
        };
        let final_url = resp.url().to_string();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, out))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let total = started.elapsed();
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let timings = BTreeMap::from([
            ("first_byte".to_string(), ms(first_byte)),
            ("download".to_string(), ms(total.saturating_sub(first_byte))),
            ("total".to_string(), ms(total)),
        ]);
        Ok(Received {
            code: status.as_u16(),
            status: status.canonical_reason().unwrap_or("").to_string(),
            headers,
            body,
            time_ms: ms(total),
            timings,
            url: final_url,
            http_version: http_version.to_string(),
            warnings: Vec::new(),
        })
    }
}

/// The failure's causes, outermost first.
fn chain<'a>(e: &'a (dyn std::error::Error + 'static)) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = vec![e];
    let mut cur = e.source();
    // Bounded: a cyclic source chain would otherwise never end.
    while let Some(c) = cur
        && out.len() < 32
    {
        out.push(c);
        cur = c.source();
    }
    out
}

/// A reqwest failure as a [`SendError`] that says what to do.
fn classify(e: &reqwest::Error, out: &Outgoing) -> SendError {
    let url = out.url.clone();
    if e.is_timeout() {
        return SendError::Timeout { url, ms: out.settings.timeout.map(|t| t.as_millis()).unwrap_or(0) };
    }
    if e.is_redirect() {
        return SendError::TooManyRedirects { url, max: out.settings.max_redirects };
    }
    let causes = chain(e);
    let text = causes.iter().skip(1).map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
    let lower = text.to_ascii_lowercase();
    if causes.iter().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)) {
        return SendError::ConnectionRefused { url };
    }
    if causes.iter().any(|c| c.downcast_ref::<rustls::Error>().is_some()) || lower.contains("certificate") {
        return SendError::Tls { url, detail: text };
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") || lower.contains("name or service not known") {
        return SendError::Dns { url, detail: text };
    }
    SendError::Other { url, detail: if text.is_empty() { e.to_string() } else { text } }
}
