//! Test support: the real `apisync serve` on a free port, device profiles
//! driven through the real binary, and a proxy that loses answers.

#![allow(dead_code)]

pub mod app;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_apisync")
}

/// A running `apisync serve`.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub addr: String,
    pub data: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("server");
        let mut s = Server::start_at(&data, "127.0.0.1:0");
        s._dir = Some(dir);
        s
    }

    /// Starts a process on the PostgreSQL database at `url`.
    pub fn start_on_postgres(url: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Server::spawn(dir.path(), "127.0.0.1:0", Some(url));
        s._dir = Some(dir);
        s
    }

    /// Starts a process on the PostgreSQL database at `url`, on `addr`.
    pub fn start_on_postgres_at(url: &str, addr: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Server::spawn(dir.path(), addr, Some(url));
        s._dir = Some(dir);
        s
    }

    /// Starts on `addr` with data in `data` (to restart a stopped server).
    pub fn start_at(data: &Path, addr: &str) -> Server {
        Server::spawn(data, addr, None)
    }

    fn spawn(data: &Path, addr: &str, database_url: Option<&str>) -> Server {
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--addr", addr, "--data-dir"]).arg(data);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child =
            cmd.env("APISYNC_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start apisync serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no address in {line:?}")).to_string();
        let addr = url.trim_start_matches("http://").to_string();
        Server { child: Some(child), url, addr, data: data.to_path_buf(), _dir: None }
    }

    /// Kills the server (as a crash would) and keeps its data.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same address and data.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let next = std::panic::catch_unwind(|| Server::start_at(&self.data, &self.addr));
            match next {
                Ok(mut s) => {
                    self.child = s.child.take();
                    return;
                }
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it to
    /// exit, up to 30 s; whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return false };
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One device: a profile directory used through the real binary.
pub struct Device {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl Device {
    pub fn new(name: &str) -> Device {
        Device { dir: tempfile::tempdir().unwrap(), name: name.to_string() }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.arg("--profile")
            .arg(self.dir.path())
            .args(args)
            .env("APISYNC_PASSWORD", PASSWORD)
            .env_remove("APISYNC_HOME")
            .env_remove("APISYNC_OFFLINE")
            .stdin(Stdio::null());
        c
    }

    /// Runs a verb; returns its output whatever the exit code.
    pub fn try_run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run apisync")
    }

    /// Runs a verb that must succeed; returns stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.try_run(args);
        assert!(
            out.status.success(),
            "`apisync {}` on {} failed ({}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("`apisync {}` did not print JSON ({e}): {out}", all.join(" ")))
    }

    pub fn signup(&self, server: &Server, user: &str) {
        let email = format!("{user}@example.com");
        self.run(&["signup", "--server", &server.url, "--email", &email, "--username", user, "--device-name", &self.name]);
    }

    pub fn login(&self, server: &Server, user: &str) -> Output {
        self.try_run(&["login", "--server", &server.url, "--user", user, "--device-name", &self.name])
    }

    /// Creates a document and returns its id.
    pub fn create(&self, kind: &str, extra: &[&str]) -> String {
        let mut args = vec!["create", kind];
        args.extend_from_slice(extra);
        let v = self.json(&args);
        v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
    }

    pub fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// Every document in the default workspace, as `ls --json` prints them.
    pub fn docs(&self) -> Value {
        self.json(&["ls"])
    }
}

/// Ann's laptop (signed up) and desktop (signed in) on `server`.
pub fn two_devices(server: &Server) -> (Device, Device) {
    let a = Device::new("laptop");
    let b = Device::new("desktop");
    a.signup(server, "ann");
    let out = b.login(server, "ann");
    assert!(out.status.success(), "login failed: {}", stderr(&out));
    (a, b)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Waits until `f` is true, up to `limit`.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A TCP proxy in front of the server that, when armed, lets one push
/// reach the server and then drops the connection instead of returning the
/// answer: the device never learns its push was applied.
pub struct LossyProxy {
    pub url: String,
    pub armed: Arc<AtomicBool>,
    pub dropped: Arc<AtomicBool>,
}

impl LossyProxy {
    pub fn start(upstream: &str) -> LossyProxy {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let armed = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_string();
        let (a, d) = (armed.clone(), dropped.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let (a, d) = (a.clone(), d.clone());
                let kill = Arc::new(AtomicBool::new(false));
                let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let k = kill.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let text = String::from_utf8_lossy(&buf[..n]);
                        if text.contains("/push HTTP/1.1") && a.swap(false, Ordering::SeqCst) {
                            k.store(true, Ordering::SeqCst);
                        }
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    // Either side gone: the whole connection goes, as through
                    // any proxy (a device keeps connections open for reuse).
                    let _ = s_write.shutdown(std::net::Shutdown::Both);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = s_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        if kill.load(Ordering::SeqCst) {
                            // The server answered: it committed. Lose the answer.
                            d.store(true, Ordering::SeqCst);
                            let _ = c_write.shutdown(std::net::Shutdown::Both);
                            let _ = s_read.shutdown(std::net::Shutdown::Both);
                            break;
                        }
                        if c_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = c_write.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        LossyProxy { url, armed, dropped }
    }
}

/// The reset token of the latest mail in the server's outbox.
pub fn mailed_token(server: &Server) -> String {
    let dir = server.data.join("mail-outbox");
    let mut token = None;
    assert!(
        eventually(Duration::from_secs(10), || {
            let Ok(entries) = std::fs::read_dir(&dir) else { return false };
            token = entries
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .find_map(|m| m.split("--token ").nth(1).and_then(|t| t.split_whitespace().next()).map(String::from));
            token.is_some()
        }),
        "no reset mail in {}",
        dir.display()
    );
    token.unwrap_or_default()
}
