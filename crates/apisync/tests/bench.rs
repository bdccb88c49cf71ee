//! `apisync bench --device` in a tiny configuration, through the binary,
//! beside a stand-in peer: the device workloads, the side-by-side table,
//! the JSON and the chart keep working. No figure is judged here (a debug
//! build on a busy machine says nothing about speed).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A peer that answers at once with figures of the shape pouchdb's
/// bench.js writes, from a read-only folder (as a checkout may be).
fn stand_in_peer(dir: &Path) {
    let figures = r#"{"options":{"w2Docs":10000},
 "w1":{"p50_ms":32.2,"p90_ms":40.1,"p99_ms":56.1,"min_ms":20.5,"max_ms":70.2},
 "w2":{"median":{"e2e_mut_per_s":2629,"local_write_ms":500},"runs":[{"docs":10000,"server_cpu_ms":4000}]},
 "w3":{"median_seconds":3.64,"median_bytes_down":1610000,"runs":[{"docs":200}]},
 "w4":{"shared":{"points":[{"clients":0},{"clients":500,"kb_per_client_vs_base":265}],"fanout":{"last_ms":16800}}}}"#;
    let script = format!(
        "#!/usr/bin/env bash\nset -eu\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --out ]; then out=$2; fi; shift; done\ncat > \"$out\" <<'EOF'\n{figures}\nEOF\necho '| workload | metric | value |'\n"
    );
    std::fs::write(dir.join("run.sh"), script).unwrap();
    let mut p = std::fs::metadata(dir.join("run.sh")).unwrap().permissions();
    p.set_readonly(true);
    std::fs::set_permissions(dir.join("run.sh"), p).unwrap();
}

fn node_on_path() -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("node").is_file()))
}

#[test]
fn the_device_bench_runs_in_a_tiny_configuration_beside_a_peer() {
    let out = tempfile::tempdir().unwrap();
    let peer = tempfile::tempdir().unwrap();
    stand_in_peer(peer.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_apisync"))
        .args(["bench", "--device", "--w1-samples", "20", "--w2-edits", "200", "--w3-requests", "200", "--w4-devices", "6"])
        .args(["--push-documents", "300", "--push-samples", "20", "--peer"])
        .arg(peer.path())
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the tiny bench ran longer than 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (reader.join().unwrap(), errors.join().unwrap());
    assert!(status.success(), "{stdout}\n{stderr}");
    for row in [
        "requests per edit",
        "W1 edit A -> B's store, p50",
        "W2 200 edits, end to end",
        "/ raw SQLite insert of the same rows",
        "W3 restore 200 requests",
        "disk per document (200 requests)",
        "W4 server memory per live device, 6",
        "W4 one change to all 6 live devices",
        "push latency p50",
    ] {
        assert!(stdout.contains(row), "no '{row}' row in:\n{stdout}");
    }
    let json: Value = serde_json::from_slice(&std::fs::read(out.path().join("figures.json")).unwrap()).unwrap();
    let f = &json["apisync"];
    assert_eq!(f["w1"]["samples"], 20);
    assert_eq!(f["w1"]["sorted_ms"].as_array().unwrap().len(), 20);
    assert_eq!(f["w2"]["edits"], 200);
    assert!(f["w2"]["floor"]["rows"].as_u64().unwrap() >= 200);
    assert_eq!(f["w3"][0]["requests"], 200);
    assert!(f["w3"][0]["bytes_down"].as_u64().unwrap() > 0);
    assert_eq!(f["w4"]["points"][0]["devices"], 6);
    assert_eq!(f["requests"]["per_edit"].as_array().unwrap().len(), 5);
    assert!(f["push"]["big_documents"].as_u64().unwrap() >= 300);
    let svg = std::fs::read_to_string(out.path().join("bench.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("W1"), "not a chart: {}", &svg[..svg.len().min(300)]);
    if node_on_path() {
        // The peer's figures stand beside apisync's, and the W3 ratio
        // compares the same size only (the stand-in restored 200).
        assert_eq!(json["peer"]["w1"]["p50_ms"], 32.2);
        assert!(stdout.contains("32.2 ms"), "{stdout}");
        let w3: Vec<&Value> =
            json["comparison"].as_array().unwrap().iter().filter(|r| r["workload"] == "W3 restore 200 requests").collect();
        assert_eq!(w3[0]["peer"], "3.64 s");
        assert!(svg.contains("beside the peer"));
    } else {
        assert!(stdout.contains("peer: not run (node is not on PATH)"), "{stdout}");
        assert!(json["peer"].is_null());
    }
}
