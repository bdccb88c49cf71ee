//! HTTPS in the server itself: the certificate chain and private key come
//! from PEM files, and are loaded again when the files change (a renewal),
//! so new connections get the new pair without a restart.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// How often the files are read again to notice a renewal. Reading two
/// small files this often costs nothing, and unlike a modification time it
/// also notices a same-size replacement within the same second.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// Where the server's certificate and key are.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, PEM, the server's own certificate first.
    pub cert: PathBuf,
    /// The private key, PEM: PKCS#8, RSA (PKCS#1) or SEC1 (EC).
    pub key: PathBuf,
}

/// Why a certificate and key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {file}: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{file} holds no certificate: expected a PEM certificate chain ('-----BEGIN CERTIFICATE-----'), the server's own first")]
    NoCertificate { file: PathBuf },
    #[error("{file} holds no private key: expected a PEM key ('-----BEGIN PRIVATE KEY-----', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')")]
    NoKey { file: PathBuf },
    #[error("{file} is not valid PEM: {reason}")]
    BadPem { file: PathBuf, reason: String },
    #[error("the private key in {key} cannot be used: {reason}")]
    BadKey { key: PathBuf, reason: String },
    #[error("the key in {key} does not belong to the first certificate in {cert} ({reason}); give the key the certificate was issued for")]
    Mismatch { cert: PathBuf, key: PathBuf, reason: String },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

/// The files' bytes as last read, to tell whether they changed.
type Contents = (Vec<u8>, Vec<u8>);

fn read(file: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(file).map_err(|source| TlsError::Read { file: file.to_path_buf(), source })
}

fn bad_pem(file: &Path, e: rustls::pki_types::pem::Error) -> TlsError {
    TlsError::BadPem { file: file.to_path_buf(), reason: e.to_string() }
}

/// The pair in `contents`, checked: a chain, a key the provider can use,
/// and the key belonging to the chain's first certificate.
fn parse(files: &TlsFiles, contents: &Contents, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(&contents.0).collect::<Result<Vec<_>, _>>().map_err(|e| bad_pem(&files.cert, e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { file: files.cert.clone() });
    }
    let key = match PrivateKeyDer::from_pem_slice(&contents.1) {
        Ok(key) => key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => return Err(TlsError::NoKey { file: files.key.clone() }),
        Err(e) => return Err(bad_pem(&files.key, e)),
    };
    let signing =
        provider.key_provider.load_private_key(key).map_err(|e| TlsError::BadKey { key: files.key.clone(), reason: e.to_string() })?;
    let pair = CertifiedKey::new(chain, signing);
    match pair.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(pair),
        Err(e) => Err(TlsError::Mismatch { cert: files.cert.clone(), key: files.key.clone(), reason: e.to_string() }),
    }
}

/// Reads and checks the pair the files hold now.
fn load(files: &TlsFiles, provider: &CryptoProvider) -> Result<(Contents, CertifiedKey), TlsError> {
    let contents = (read(&files.cert)?, read(&files.key)?);
    let pair = parse(files, &contents, provider)?;
    Ok((contents, pair))
}

/// Hands every handshake the pair loaded last.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl Current {
    fn get(&self) -> Arc<CertifiedKey> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, pair: CertifiedKey) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(pair);
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// The listener's TLS acceptor, its certificate following the files: loads
/// the pair (an error names the file and what is wrong with it) and watches
/// the files until `stop` turns true. A changed pair that checks out serves
/// new connections; a broken one is logged and the old one kept.
pub(crate) fn start(files: TlsFiles, stop: watch::Receiver<bool>) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (contents, pair) = load(&files, &provider)?;
    let current = Arc::new(Current(RwLock::new(Arc::new(pair))));
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(current.clone());
    // Devices and browsers speak HTTP/1.1 (and the live channel's WebSocket over it).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio::spawn(reload(files, contents, current, provider, stop));
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Reads the files every [`RELOAD_EVERY`] and takes up a changed pair.
async fn reload(
    files: TlsFiles,
    mut seen: Contents,
    current: Arc<Current>,
    provider: Arc<CryptoProvider>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(RELOAD_EVERY) => {}
        }
        let now = match (tokio::fs::read(&files.cert).await, tokio::fs::read(&files.key).await) {
            (Ok(cert), Ok(key)) => (cert, key),
            // Mid-replacement, or gone for good: keep serving the pair in hand.
            _ => continue,
        };
        if now == seen {
            continue;
        }
        match parse(&files, &now, &provider) {
            Ok(pair) => {
                current.set(pair);
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded; new connections use it");
            }
            // Told once per change of the files, not every poll.
            Err(e) => tracing::warn!(error = %e, "the changed TLS certificate or key cannot be used; still serving the previous one"),
        }
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap().self_signed(&key).unwrap();
        (pem("CERTIFICATE", cert.der()), pem("PRIVATE KEY", &key.serialize_der()))
    }

    fn pem(label: &str, der: &[u8]) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    fn files(dir: &Path, cert: &str, key: &str) -> TlsFiles {
        let files = TlsFiles { cert: dir.join("cert.pem"), key: dir.join("key.pem") };
        std::fs::write(&files.cert, cert).unwrap();
        std::fs::write(&files.key, key).unwrap();
        files
    }

    fn error(files: &TlsFiles) -> String {
        load(files, &rustls::crypto::ring::default_provider()).err().unwrap().to_string()
    }

    #[test]
    fn a_good_pair_loads_and_each_bad_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = pair(&["localhost"]);
        let good = files(dir.path(), &cert, &key);
        let (_, loaded) = load(&good, &rustls::crypto::ring::default_provider()).unwrap();
        assert_eq!(loaded.cert.len(), 1);

        let missing = TlsFiles { cert: dir.path().join("nope.pem"), key: good.key.clone() };
        assert!(error(&missing).starts_with(&format!("cannot read {}", missing.cert.display())), "{}", error(&missing));

        let no_cert = files(dir.path(), &key, &key);
        assert!(error(&no_cert).contains("cert.pem holds no certificate"), "{}", error(&no_cert));

        let no_key = files(dir.path(), &cert, &cert);
        assert!(error(&no_key).contains("key.pem holds no private key"), "{}", error(&no_key));

        let torn = files(dir.path(), &cert[..cert.len() / 2], &key);
        assert!(error(&torn).contains("cert.pem is not valid PEM"), "{}", error(&torn));

        let (_, other_key) = pair(&["localhost"]);
        let mismatch = files(dir.path(), &cert, &other_key);
        assert!(error(&mismatch).contains("does not belong to the first certificate"), "{}", error(&mismatch));

        // One file holding both, as some tools write them, serves as either.
        let both = files(dir.path(), &format!("{cert}{key}"), &format!("{cert}{key}"));
        assert!(load(&both, &rustls::crypto::ring::default_provider()).is_ok());
    }
}
