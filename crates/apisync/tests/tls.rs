//! End to end over HTTPS: `apisync serve --tls-cert --tls-key` with a
//! certificate from a CA made in the test, devices that trust that CA
//! (`--ca-cert`, APISYNC_CA_CERT, then the profile) and devices that do not.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use std::process::Stdio;
use std::time::Duration;
use support::{Device, Server, certs, eventually, stderr, two_devices};

fn has(device: &Device, id: &str) -> bool {
    device.json(&["ls", "--offline"]).as_array().is_some_and(|l| l.iter().any(|d| d["id"] == id))
}

#[test]
fn devices_push_and_sync_live_over_https_trusting_a_private_ca() {
    let server = Server::start_tls();
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    // --ca-cert at sign-up and sign-in only: every later command uses the CA kept in the profile.
    let (a, b) = two_devices(&server);
    let col = a.create("collection", &["--set", "name=Over TLS"]);
    assert_eq!(a.status()["pending"], 0, "the push did not go through");
    b.run(&["sync"]);
    assert!(has(&b, &col), "the pushed collection did not reach the other device");

    // The live channel (wss://) trusts the same CA.
    let mut watcher = b.cmd(&["sync", "--watch", "--for", "60"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    assert!(eventually(Duration::from_secs(20), || b.json(&["status", "--cached"])["state"] == "in_sync"), "the watcher never connected");
    let live = a.create("collection", &["--set", "name=Live over TLS"]);
    let arrived = eventually(Duration::from_secs(10), || has(&b, &live));
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(arrived, "the change did not reach the watching device over wss://");

    // APISYNC_CA_CERT serves as the flag does.
    let c = Device::new("tablet");
    let ca = server.ca.as_ref().unwrap();
    let out =
        c.cmd(&["login", "--server", &server.url, "--user", "ann", "--device-name", "tablet"]).env("APISYNC_CA_CERT", ca).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(has(&c, &live));
}

#[test]
fn a_device_without_the_ca_is_refused_with_a_clear_error() {
    let server = Server::start_tls();
    let d = Device::new("stranger");
    let signup = ["signup", "--server", &server.url, "--email", "eve@example.com", "--username", "eve", "--json"];
    let out = d.try_run(&signup);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err: serde_json::Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert_eq!(err["error"]["code"], "untrusted_certificate", "{err}");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(msg.starts_with("the server's certificate is not trusted ("), "{msg}");
    assert!(msg.contains("if the server uses a private CA, pass --ca-cert"), "{msg}");

    // Another CA is no better.
    let dir = tempfile::tempdir().unwrap();
    let other = certs::Ca::new("someone else's CA").write(dir.path());
    let mut with_other = signup.to_vec();
    with_other.extend(["--ca-cert", other.ca.to_str().unwrap()]);
    let out = d.try_run(&with_other);
    assert!(stderr(&out).contains("the server's certificate is not trusted"), "{}", stderr(&out));

    // A file that is no certificate is named.
    let mut with_junk = signup.to_vec();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "hello").unwrap();
    with_junk.extend(["--ca-cert", junk.to_str().unwrap()]);
    let out = d.try_run(&with_junk);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("{} is not a usable CA certificate", junk.display())), "{}", stderr(&out));
}

#[test]
fn serve_refuses_half_a_tls_configuration_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = certs::Ca::new("apisync test CA").write(dir.path());
    let serve = |extra: &[&std::ffi::OsStr]| {
        std::process::Command::new(support::bin())
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(extra)
            .env_remove("APISYNC_TLS_CERT")
            .env_remove("APISYNC_TLS_KEY")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = serve(&["--tls-cert".as_ref(), files.cert.as_os_str()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--tls-cert and --tls-key go together"), "{}", stderr(&out));

    // The CA's certificate is not the server's key.
    let out = serve(&["--tls-cert".as_ref(), files.cert.as_os_str(), "--tls-key".as_ref(), files.ca.as_os_str()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&format!("{} holds no private key", files.ca.display())), "{}", stderr(&out));
}

#[test]
fn a_replaced_certificate_reaches_new_connections_and_a_new_sign_in_trusts_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (old_dir, new_dir) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir_all(&old_dir).unwrap();
    std::fs::create_dir_all(&new_dir).unwrap();
    let old = certs::Ca::new("old CA").write(&old_dir);
    let server = Server::start_with(&dir.path().join("data"), "127.0.0.1:0", &old);
    let a = Device::new("laptop");
    a.signup(&server, "ann");

    // The operator moves to a certificate from another CA, in place.
    let new = certs::Ca::new("new CA").write(&new_dir);
    std::fs::copy(&new.key, &old.key).unwrap();
    std::fs::copy(&new.cert, &old.cert).unwrap();
    let refused = eventually(Duration::from_secs(15), || {
        let out = a.try_run(&["sync"]);
        out.status.code() == Some(4) && stderr(&out).contains("the server's certificate is not trusted")
    });
    assert!(refused, "new connections still got the old certificate: {}", stderr(&a.try_run(&["sync"])));

    // The live channel says the same.
    let out = a.cmd(&["sync", "--watch", "--for", "2", "--json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("not trusted"), "{}", String::from_utf8_lossy(&out.stdout));

    // Signing in again with the new CA keeps it for later syncs.
    let out = a.try_run(&["login", "--server", &server.url, "--user", "ann", "--ca-cert", new.ca.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    a.run(&["sync"]);
}
