//! The device's cookie jar: what servers set with `Set-Cookie`, sent back
//! on later requests as a browser (and Postman) would, kept in a file of
//! the device profile (owner-only) so it lasts across sends.

use crate::CookieError;
use cookie_store::{Cookie, CookieStore};
use reqwest::header::HeaderValue;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// One cookie as a person sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CookieInfo {
    /// The domain it is sent to.
    pub domain: String,
    /// The path it is sent under.
    pub path: String,
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// When it expires (RFC 3339), `None` for a session cookie.
    pub expires: Option<String>,
    /// Sent over HTTPS only.
    pub secure: bool,
    /// Hidden from scripts in a browser.
    pub http_only: bool,
}

/// A cookie jar, in memory or kept in a file.
#[derive(Debug)]
pub struct CookieJar {
    store: Mutex<CookieStore>,
    path: Option<PathBuf>,
    changed: AtomicBool,
}

impl CookieJar {
    /// An empty jar kept only in memory.
    pub fn in_memory() -> CookieJar {
        CookieJar { store: Mutex::new(CookieStore::new()), path: None, changed: AtomicBool::new(false) }
    }

    /// The jar kept in `path` (empty when the file does not exist yet).
    pub fn open(path: &Path) -> Result<CookieJar, CookieError> {
        let io = |e: &dyn std::fmt::Display| CookieError::Io { path: path.to_path_buf(), detail: e.to_string() };
        let store = match std::fs::read(path) {
            Ok(bytes) => {
                let cookies: Vec<Cookie<'static>> = serde_json::from_slice(&bytes).map_err(|e| io(&e))?;
                CookieStore::from_cookies(cookies.into_iter().map(Ok::<_, std::convert::Infallible>), false).map_err(|e| io(&e))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CookieStore::new(),
            Err(e) => return Err(io(&e)),
        };
        Ok(CookieJar { store: Mutex::new(store), path: Some(path.to_path_buf()), changed: AtomicBool::new(false) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CookieStore> {
        // A panic while the lock was held leaves a usable store.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every unexpired cookie, by domain, path and name.
    pub fn list(&self) -> Vec<CookieInfo> {
        let mut out: Vec<CookieInfo> = self
            .lock()
            .iter_unexpired()
            .map(|c| CookieInfo {
                domain: String::from(&c.domain),
                path: String::from(&c.path),
                name: c.name().to_string(),
                value: c.value().to_string(),
                expires: match &c.expires {
                    cookie_store::CookieExpiration::AtUtc(t) => Some(crate::dynamic::iso_time(t.unix_timestamp().max(0) as u64 * 1000)),
                    cookie_store::CookieExpiration::SessionEnd => None,
                },
                secure: c.secure().unwrap_or(false),
                http_only: c.http_only().unwrap_or(false),
            })
            .collect();
        out.sort_by(|a, b| (&a.domain, &a.path, &a.name).cmp(&(&b.domain, &b.path, &b.name)));
        out
    }

    /// Removes every cookie, or those of `domain` (and its subdomains);
    /// returns how many went. Saved at once when the jar has a file.
    pub fn clear(&self, domain: Option<&str>) -> Result<usize, CookieError> {
        let removed = {
            let mut store = self.lock();
            let all: Vec<(String, String, String)> = store
                .iter_any()
                .map(|c| (String::from(&c.domain), String::from(&c.path), c.name().to_string()))
                .filter(|(d, _, _)| match domain {
                    None => true,
                    Some(want) => {
                        let want = want.trim_start_matches('.').to_ascii_lowercase();
                        let d = d.trim_start_matches('.').to_ascii_lowercase();
                        d == want || d.ends_with(&format!(".{want}"))
                    }
                })
                .collect();
            for (d, p, n) in &all {
                store.remove(d, p, n);
            }
            all.len()
        };
        self.changed.store(true, Ordering::SeqCst);
        self.save()?;
        Ok(removed)
    }

    /// Writes the jar to its file (owner-only), if it has one.
    pub fn save(&self) -> Result<(), CookieError> {
        let Some(path) = &self.path else { return Ok(()) };
        let io = |e: &dyn std::fmt::Display| CookieError::Io { path: path.clone(), detail: e.to_string() };
        let json = {
            let store = self.lock();
            // Session cookies too: the jar stands for one long browser session, as Postman's does.
            let cookies: Vec<&Cookie<'static>> = store.iter_unexpired().collect();
            serde_json::to_vec(&cookies).map_err(|e| io(&e))?
        };
        write_private(path, &json).map_err(|e| io(&e))?;
        self.changed.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Writes the jar if a response changed it since the last save.
    pub fn save_if_changed(&self) -> Result<(), CookieError> {
        if self.changed.load(Ordering::SeqCst) { self.save() } else { Ok(()) }
    }
}

/// Writes `bytes` to `path` through a temporary file readable by the owner only, then renames it into place.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl reqwest::cookie::CookieStore for CookieJar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &reqwest::Url) {
        let cookies = headers.filter_map(|v| v.to_str().ok()).filter_map(|s| cookie_store::RawCookie::parse(s.to_string()).ok());
        self.lock().store_response_cookies(cookies, url);
        self.changed.store(true, Ordering::SeqCst);
    }

    fn cookies(&self, url: &reqwest::Url) -> Option<HeaderValue> {
        let s = self.lock().get_request_values(url).map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
        if s.is_empty() { None } else { HeaderValue::from_str(&s).ok() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::cookie::CookieStore as _;

    fn set(jar: &CookieJar, url: &str, cookie: &str) {
        let v = HeaderValue::from_str(cookie).unwrap();
        jar.set_cookies(&mut std::iter::once(&v), &reqwest::Url::parse(url).unwrap());
    }

    #[test]
    fn a_jar_keeps_cookies_in_an_owner_only_file_and_clears_by_domain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cookies.json");
        let jar = CookieJar::open(&path).unwrap();
        set(&jar, "http://a.test/x", "sid=1; Path=/");
        set(&jar, "http://api.b.test/", "k=v; Max-Age=3600; HttpOnly");
        set(&jar, "http://a.test/", "gone=1; Max-Age=0");
        jar.save_if_changed().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }

        let jar = CookieJar::open(&path).unwrap();
        let names: Vec<String> = jar.list().iter().map(|c| format!("{}:{}", c.domain, c.name)).collect();
        assert_eq!(names, vec!["a.test:sid", "api.b.test:k"]);
        assert!(jar.list()[1].http_only && jar.list()[1].expires.is_some());
        assert_eq!(jar.cookies(&reqwest::Url::parse("http://a.test/y").unwrap()).unwrap(), "sid=1");
        assert_eq!(jar.cookies(&reqwest::Url::parse("http://c.test/").unwrap()), None);

        assert_eq!(jar.clear(Some("b.test")).unwrap(), 1);
        assert_eq!(CookieJar::open(&path).unwrap().list().len(), 1);
        assert_eq!(jar.clear(None).unwrap(), 1);
        assert!(CookieJar::open(&path).unwrap().list().is_empty());
    }

    #[test]
    fn a_damaged_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cookies.json");
        std::fs::write(&path, b"{not json").unwrap();
        let e = CookieJar::open(&path).unwrap_err().to_string();
        assert!(e.contains("cookies clear"), "{e}");
    }
}
