//! The sender against local servers bound to 127.0.0.1:0: digest auth's
//! challenge, redirects, the cookie jar, decoding, limits and failures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use runner::{CookieJar, Outgoing, Scopes, SendError, Sender, prepare};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A server that answers every connection with the same raw bytes.
async fn serve_raw(response: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(&response).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn outgoing(request: Value) -> Outgoing {
    prepare(&request, &[], &Scopes::default(), Path::new(".")).unwrap().outgoing
}

fn sender() -> Sender {
    Sender::new(Arc::new(CookieJar::in_memory()))
}

const NONCE: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";

fn md5_hex(s: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks an `Authorization: Digest` answer independently of the sender's code.
async fn digest_protected(headers: HeaderMap) -> impl IntoResponse {
    let challenge = format!("Digest realm=\"lab\", qop=\"auth\", nonce=\"{NONCE}\", opaque=\"op\"");
    let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)], "who are you").into_response();
    };
    let field = |name: &str| -> String {
        auth.split(", ")
            .find_map(|p| p.trim_start_matches("Digest ").strip_prefix(&format!("{name}=")))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let ha1 = md5_hex(&format!("{}:lab:s3cret", field("username")));
    let ha2 = md5_hex(&format!("GET:{}", field("uri")));
    let expected = md5_hex(&format!("{ha1}:{NONCE}:{}:{}:auth:{ha2}", field("nc"), field("cnonce")));
    if field("response") == expected && field("opaque") == "op" && field("uri") == "/secret?x=1" {
        (StatusCode::OK, "welcome").into_response()
    } else {
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, challenge)], "wrong").into_response()
    }
}

#[tokio::test]
async fn digest_auth_answers_the_servers_challenge() {
    let base = serve(Router::new().route("/secret", get(digest_protected))).await;
    let digest = |password: &str| {
        json!({"url": format!("{base}/secret?x=1"), "auth": {"type": "digest", "digest": [
            {"key": "username", "value": "ann"}, {"key": "password", "value": password}]}})
    };
    let mut out = outgoing(digest("s3cret"));
    let r = sender().send(&mut out).await.unwrap();
    assert_eq!((r.code, r.text().as_str()), (200, "welcome"));
    assert!(out.header("authorization").unwrap().starts_with("Digest username=\"ann\""), "the request as sent has the answer");

    let mut out = outgoing(digest("wrong"));
    let r = sender().send(&mut out).await.unwrap();
    assert_eq!((r.code, r.text().as_str()), (401, "wrong"));
}

#[tokio::test]
async fn redirects_are_followed_unless_turned_off() {
    let app = Router::new()
        .route("/from", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/to")]) }))
        .route("/to", get(|| async { "arrived" }));
    let base = serve(app).await;
    let mut out = outgoing(json!({"url": format!("{base}/from")}));
    let r = sender().send(&mut out).await.unwrap();
    assert_eq!((r.code, r.text().as_str(), r.url.as_str()), (200, "arrived", format!("{base}/to").as_str()));
    assert_eq!(r.http_version, "HTTP/1.1");
    for k in ["first_byte", "download", "total"] {
        assert!(r.timings.get(k).is_some_and(|t| *t >= 0.0), "{k} in {:?}", r.timings);
    }

    assert!(!r.timings.contains_key("dns"), "an IP address needs no lookup");
    let by_name = base.replace("127.0.0.1", "localhost");
    let r = sender().send(&mut outgoing(json!({"url": format!("{by_name}/to")}))).await.unwrap();
    assert!(r.timings.get("dns").is_some_and(|t| *t >= 0.0), "{:?}", r.timings);

    let mut out = outgoing(json!({"url": format!("{base}/from"), "protocolProfileBehavior": {"followRedirects": false}}));
    let r = sender().send(&mut out).await.unwrap();
    assert_eq!((r.code, r.header("location")), (302, Some("/to")));
}

#[tokio::test]
async fn the_jar_sends_back_what_a_server_set_and_lasts_in_its_file() {
    let app = Router::new()
        .route("/set", get(|| async { ([(header::SET_COOKIE, "sid=abc; Path=/")], "set") }))
        .route("/echo", get(|h: HeaderMap| async move { h.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string() }));
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cookies.json");
    let s = Sender::new(Arc::new(CookieJar::open(&path).unwrap()));
    s.send(&mut outgoing(json!({"url": format!("{base}/set")}))).await.unwrap();
    assert_eq!(s.send(&mut outgoing(json!({"url": format!("{base}/echo")}))).await.unwrap().text(), "sid=abc");

    let again = Sender::new(Arc::new(CookieJar::open(&path).unwrap()));
    assert_eq!(again.send(&mut outgoing(json!({"url": format!("{base}/echo")}))).await.unwrap().text(), "sid=abc");
    again.jar().clear(None).unwrap();
    assert_eq!(again.send(&mut outgoing(json!({"url": format!("{base}/echo")}))).await.unwrap().text(), "");
}

#[tokio::test]
async fn a_gzip_body_is_decoded() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"hello\":\"world\"}").unwrap();
    let gz = gz.finish().unwrap();
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    resp.extend_from_slice(&gz);
    let base = serve_raw(resp).await;
    let r = sender().send(&mut outgoing(json!({"url": base}))).await.unwrap();
    assert_eq!(r.text(), "{\"hello\":\"world\"}");
}

#[tokio::test]
async fn a_body_over_the_limit_fails_the_send_with_or_without_a_length() {
    let big = "x".repeat(5000);
    let base = serve(Router::new().route("/big", get(move || async move { big }))).await;
    let e = sender().with_max_body(1000).send(&mut outgoing(json!({"url": format!("{base}/big")}))).await.unwrap_err();
    assert!(matches!(e, SendError::BodyTooLarge { limit: 1000, .. }), "{e}");
    assert_eq!(sender().send(&mut outgoing(json!({"url": format!("{base}/big")}))).await.unwrap().body.len(), 5000);

    // Chunked: no length up front, so the limit is checked as bytes arrive.
    let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..10 {
        chunked.extend_from_slice(format!("1f4\r\n{}\r\n", "y".repeat(500)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let base = serve_raw(chunked).await;
    let e = sender().with_max_body(1000).send(&mut outgoing(json!({"url": base.clone()}))).await.unwrap_err();
    assert!(e.to_string().contains("larger than 1000 bytes"), "{e}");
    assert_eq!(sender().send(&mut outgoing(json!({"url": base}))).await.unwrap().body.len(), 5000);
}

#[tokio::test]
async fn failures_say_what_to_do() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let e = sender().send(&mut outgoing(json!({"url": format!("http://127.0.0.1:{port}/")}))).await.unwrap_err();
    assert!(matches!(e, SendError::ConnectionRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("is the server running"), "{e}");

    let base = serve(Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "late"
        }),
    ))
    .await;
    let mut out = outgoing(json!({"url": format!("{base}/slow")}));
    out.settings.timeout = Some(Duration::from_millis(200));
    let e = sender().send(&mut out).await.unwrap_err();
    assert!(matches!(e, SendError::Timeout { ms: 200, .. }), "{e:?}");

    let e = sender().send(&mut outgoing(json!({"url": "ftp://x.test/"}))).await.unwrap_err();
    assert!(matches!(e, SendError::InvalidUrl { .. }), "{e:?}");
}

#[tokio::test]
async fn a_jar_that_cannot_be_saved_warns_and_keeps_the_answer() {
    let app = Router::new().route("/set", get(|| async { ([(header::SET_COOKIE, "sid=abc; Path=/")], "set") }));
    let base = serve(app).await;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("profile");
    std::fs::create_dir(&sub).unwrap();
    let s = Sender::new(Arc::new(CookieJar::open(&sub.join("cookies.json")).unwrap()));
    // The profile directory is gone and a file stands in its place.
    std::fs::remove_dir(&sub).unwrap();
    std::fs::write(&sub, b"").unwrap();
    let r = s.send(&mut outgoing(json!({"url": format!("{base}/set")}))).await.unwrap();
    assert_eq!(r.text(), "set");
    assert!(r.warnings.len() == 1 && r.warnings[0].contains("cookie jar"), "{:?}", r.warnings);
}

/// A TLS server with a self-signed certificate for `localhost`, answering every request with `ok`.
/// A TLS acceptor with a fresh self-signed certificate for `localhost`, offering `alpn`.
fn acceptor(alpn: &[&[u8]]) -> tokio_rustls::TlsAcceptor {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der());
    let mut config =
        rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(vec![ck.cert.der().clone()], key.into()).unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

async fn serve_tls() -> String {
    let acceptor = acceptor(&[]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(sock).await else { return };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://localhost:{port}/")
}

/// A TLS server that offers only HTTP/2 (ALPN `h2`) and answers with the version it was asked in.
async fn serve_h2() -> String {
    let acceptor = acceptor(&[b"h2"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else { return };
                let service = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(format!("{:?}", req.version())))
                });
                let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    format!("https://localhost:{port}/")
}

#[tokio::test]
async fn http2_is_spoken_where_the_server_offers_it() {
    let url = serve_h2().await;
    let mut out = outgoing(json!({"url": url, "protocolProfileBehavior": {"strictSSL": false}}));
    let r = sender().send(&mut out).await.unwrap();
    assert_eq!((r.http_version.as_str(), r.text().as_str()), ("HTTP/2", "HTTP/2.0"));
    // Asked for HTTP/1.1 only, the same server (which speaks nothing else) cannot answer.
    let mut h1 = outgoing(json!({"url": url, "protocolProfileBehavior": {"strictSSL": false, "protocolVersion": "http1"}}));
    assert!(sender().send(&mut h1).await.is_err());
}

#[tokio::test]
async fn an_untrusted_certificate_fails_unless_verification_is_off() {
    let url = serve_tls().await;
    let e = sender().send(&mut outgoing(json!({"url": url}))).await.unwrap_err();
    assert!(matches!(e, SendError::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("not trusted") && e.to_string().contains("--insecure"), "{e}");

    let mut out = outgoing(json!({"url": url, "protocolProfileBehavior": {"strictSSL": false}}));
    let r = sender().send(&mut out).await.unwrap();
    assert_eq!((r.code, r.text().as_str()), (200, "ok"));
}
