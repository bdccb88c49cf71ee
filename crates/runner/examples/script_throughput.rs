//! How long 1,000 small test scripts take on one Sandbox (the figure the
//! README's Scripts section quotes): `cargo run --release -p runner --example script_throughput`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use runner::script::{Host, Info, Phase, Sandbox, ScriptJob, ScriptLimits};
use runner::{Received, Scopes};
use std::time::Instant;

struct NoNetwork;

impl Host for NoNetwork {
    fn send_request(&mut self, _: serde_json::Value) -> Result<Received, String> {
        Err("this measurement sends nothing".into())
    }
}

fn main() {
    const SCRIPTS: usize = 1000;
    let source = r#"pm.test("ok", () => pm.response.to.have.status(200)); pm.expect(pm.response.json().a).to.eql(1)"#;
    let response = Received { code: 200, status: "OK".into(), body: br#"{"a":1}"#.to_vec(), ..Received::default() };
    let started = Instant::now();
    let mut sandbox = match Sandbox::new(ScriptLimits::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let created = started.elapsed();
    let mut failed = 0;
    for i in 0..SCRIPTS {
        let job = ScriptJob {
            phase: Phase::Test,
            source,
            request: serde_json::json!({"method": "GET", "url": "https://example.test/a"}),
            response: Some(&response),
            scopes: Scopes::default(),
            info: Info { event_name: "test".into(), iteration: i, iteration_count: SCRIPTS, ..Info::default() },
        };
        let outcome = sandbox.run(job, &mut NoNetwork);
        if outcome.error.is_some() || outcome.tests.iter().any(|t| !t.passed) {
            failed += 1;
        }
    }
    let total = started.elapsed();
    println!(
        "sandbox created in {:.1} ms; {SCRIPTS} scripts in {:.1} ms ({:.3} ms each, first one loading chai included); {failed} failed",
        created.as_secs_f64() * 1e3,
        (total - created).as_secs_f64() * 1e3,
        (total - created).as_secs_f64() * 1e3 / SCRIPTS as f64
    );
}
