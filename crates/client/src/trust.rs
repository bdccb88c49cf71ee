//! Which server certificates the device trusts: the system's roots (through
//! the platform's verifier) and, for a server whose certificate comes from a
//! private CA, that CA; and the error that says so when a server's
//! certificate is not trusted.

use crate::ClientError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;

/// A private certificate authority the device trusts besides the system's
/// roots (`--ca-cert`): one or more PEM certificates.
#[derive(Clone, Debug)]
pub struct CaCert {
    pem: Arc<str>,
    certs: Arc<[CertificateDer<'static>]>,
}

impl CaCert {
    /// Reads a PEM file of CA certificates.
    pub fn from_file(path: &Path) -> Result<CaCert, ClientError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| ClientError::Invalid(format!("cannot read the CA certificate {}: {e}", path.display())))?;
        CaCert::from_pem(&pem, &path.display().to_string())
    }

    /// Parses PEM text of CA certificates; `source` names it in errors.
    pub fn from_pem(pem: &str, source: &str) -> Result<CaCert, ClientError> {
        let bad = |why: String| ClientError::Invalid(format!("{source} is not a usable CA certificate: {why}"));
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("it holds no PEM certificate ('-----BEGIN CERTIFICATE-----')".into()));
        }
        // What the verifier would refuse later, refused now while the file is named.
        let mut roots = rustls::RootCertStore::empty();
        for cert in &certs {
            roots.add(cert.clone()).map_err(|e| bad(e.to_string()))?;
        }
        Ok(CaCert { pem: pem.into(), certs: certs.into() })
    }

    /// The certificates as PEM text, as given.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The certificates for reqwest (HTTP).
    pub(crate) fn for_reqwest(&self) -> Result<Vec<reqwest::Certificate>, ClientError> {
        self.certs
            .iter()
            .map(|c| reqwest::Certificate::from_der(c).map_err(|e| ClientError::Io(format!("cannot use the CA certificate: {e}"))))
            .collect()
    }
}

/// TLS for the live channel (wss://): ring, and the platform's verifier with
/// `ca` besides the system's roots, as reqwest has for HTTPS.
pub(crate) fn rustls_config(ca: Option<&CaCert>) -> Result<rustls::ClientConfig, ClientError> {
    let setup = |e: rustls::Error| ClientError::Io(format!("cannot set up TLS: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra = ca.map(|c| c.certs.to_vec()).unwrap_or_default();
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone()).map_err(setup)?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// When `e` (or what caused it) is a refused server certificate: why, in words.
pub(crate) fn untrusted(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::CertificateError as C;
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(rustls::Error::InvalidCertificate(cert)) = err.downcast_ref::<rustls::Error>() {
            return Some(match cert {
                C::UnknownIssuer => "it is signed by an authority this device does not trust".to_string(),
                C::Expired | C::ExpiredContext { .. } => "it has expired".to_string(),
                C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet".to_string(),
                C::NotValidForName | C::NotValidForNameContext { .. } => format!("it is for another name: {cert}"),
                other => other.to_string(),
            });
        }
        // An io::Error's `source` skips the error it wraps (itself often an io::Error); step into it.
        next = match err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_usable_certificate_is_named() {
        let none = CaCert::from_pem("hello", "ca.pem").unwrap_err().to_string();
        assert!(none.starts_with("ca.pem is not a usable CA certificate: it holds no PEM certificate"), "{none}");
        let junk = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let bad = CaCert::from_pem(junk, "ca.pem").unwrap_err().to_string();
        assert!(bad.starts_with("ca.pem is not a usable CA certificate: "), "{bad}");
        let missing = CaCert::from_file(Path::new("/nonexistent/ca.pem")).unwrap_err().to_string();
        assert!(missing.starts_with("cannot read the CA certificate /nonexistent/ca.pem"), "{missing}");
    }

    #[test]
    fn a_refused_certificate_is_found_inside_nested_io_errors() {
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, refused));
        assert_eq!(untrusted(&wrapped).as_deref(), Some("it is signed by an authority this device does not trust"));
        let expired = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
        assert_eq!(untrusted(&expired).as_deref(), Some("it has expired"));
        let refused_connection = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(untrusted(&refused_connection), None);
        assert_eq!(untrusted(&std::io::Error::other(rustls::Error::HandshakeNotComplete)), None);
    }
}
