//! HTTPS in the server itself, with certificates made in the test: a CA of
//! its own and a leaf for 127.0.0.1 and localhost.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// A private certificate authority.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert: Vec<u8>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = params.self_signed(&key).unwrap();
        Ca { cert: cert.der().to_vec(), issuer: Issuer::new(params, key) }
    }

    /// A leaf for 127.0.0.1 and localhost: the chain's PEM and the key's.
    fn leaf(&self) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (pem("CERTIFICATE", cert.der()), pem("PRIVATE KEY", &key.serialize_der()))
    }

    fn reqwest(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_der(&self.cert).unwrap()
    }
}

fn write_pair(dir: &Path, (cert, key): &(String, String)) -> server::TlsFiles {
    let files = server::TlsFiles { cert: dir.join("cert.pem"), key: dir.join("key.pem") };
    // Written aside and renamed in, as certificate tools do: never half a file.
    for (path, text) in [(&files.cert, cert), (&files.key, key)] {
        let tmp = PathBuf::from(format!("{}.new", path.display()));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }
    files
}

async fn start(dir: &Path, files: server::TlsFiles, tweak: impl FnOnce(&mut server::Config)) -> server::RunningServer {
    let mut config = server::Config::new(dir.join("data"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(files);
    tweak(&mut config);
    server::start(config).await.unwrap()
}

/// A fresh client (so a fresh connection) trusting only `ca`, or the system's roots.
fn client(ca: Option<&Ca>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let b = reqwest::Client::builder().timeout(Duration::from_secs(10));
    match ca {
        Some(ca) => b.tls_certs_only([ca.reqwest()]),
        None => b,
    }
    .build()
    .unwrap()
}

async fn health(url: &str, ca: Option<&Ca>) -> Result<u16, String> {
    match client(ca).get(format!("{url}/healthz")).send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            Err(msg)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_answers_a_client_trusting_the_ca_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("apisync test CA");
    let files = write_pair(dir.path(), &ca.leaf());
    let running = start(dir.path(), files, |_| {}).await;
    let url = format!("https://{}", running.addr());
    assert_eq!(health(&url, Some(&ca)).await, Ok(200));
    // By name too: the leaf names localhost as well as the address.
    assert_eq!(health(&format!("https://localhost:{}", running.addr().port()), Some(&ca)).await, Ok(200));

    let refused = health(&url, None).await.unwrap_err();
    assert!(refused.contains("UnknownIssuer") || refused.contains("unknown issuer"), "{refused}");
    let other = Ca::new("someone else's CA");
    assert!(health(&url, Some(&other)).await.is_err());
    // Plain HTTP to the TLS port is not served.
    assert!(health(&format!("http://{}", running.addr()), None).await.is_err());
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_certificate_or_key_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("apisync test CA");
    let (cert, _) = ca.leaf();
    let files = write_pair(dir.path(), &(cert.clone(), "not a key\n".to_string()));
    let mut config = server::Config::new(dir.path().join("data"));
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(files.clone());
    let err = server::start(config.clone()).await.err().unwrap().to_string();
    assert!(err.contains(&format!("{} holds no private key", files.key.display())), "{err}");

    let (_, other_key) = ca.leaf();
    write_pair(dir.path(), &(cert, other_key));
    let err = server::start(config.clone()).await.err().unwrap().to_string();
    assert!(err.contains("does not belong to the first certificate"), "{err}");

    std::fs::remove_file(&files.cert).unwrap();
    let err = server::start(config).await.err().unwrap().to_string();
    assert!(err.contains(&format!("cannot read {}", files.cert.display())), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_serves_new_connections_and_a_broken_one_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (old_ca, new_ca) = (Ca::new("old CA"), Ca::new("new CA"));
    let (old_cert, old_key) = old_ca.leaf();
    let files = write_pair(dir.path(), &(old_cert.clone(), old_key.clone()));
    let running = start(dir.path(), files, |_| {}).await;
    let url = format!("https://{}", running.addr());
    assert_eq!(health(&url, Some(&old_ca)).await, Ok(200));

    // A certificate whose key has not arrived yet: the old pair stays.
    let (new_cert, new_key) = new_ca.leaf();
    write_pair(dir.path(), &(new_cert.clone(), old_key));
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(health(&url, Some(&old_ca)).await, Ok(200), "a broken pair replaced the working one");
    assert!(health(&url, Some(&new_ca)).await.is_err());

    // The key arrives: new connections get the new certificate.
    write_pair(dir.path(), &(new_cert, new_key));
    let deadline = Instant::now() + Duration::from_secs(15);
    while health(&url, Some(&new_ca)).await.is_err() {
        assert!(Instant::now() < deadline, "the renewed certificate was not taken up within 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(health(&url, Some(&old_ca)).await.is_err(), "new connections still see the old certificate");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_at_the_handshake_bound_and_holds_its_slot_until_then() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("apisync test CA");
    let files = write_pair(dir.path(), &ca.leaf());
    let running = start(dir.path(), files, |c| {
        c.header_timeout = Duration::from_secs(1);
        // Far longer than the test: only the handshake bound can close it.
        c.idle_timeout = Duration::from_secs(120);
        c.max_connections_per_address = 1;
    })
    .await;
    let url = format!("https://{}", running.addr());
    let started = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(running.addr()).await.unwrap();
    // The stranger holds this address's one place: a real client is turned away.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(health(&url, Some(&ca)).await.is_err(), "the silent connection was not counted against the cap");

    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await;
    let closed_after = started.elapsed();
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the connection was not closed: {read:?}");
    assert!(closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(5), "closed after {closed_after:?}");
    // Its place is free again.
    assert_eq!(health(&url, Some(&ca)).await, Ok(200));
    running.shutdown().await.unwrap();
}
