//! The device figures of one run, as `--out` writes them (figures.json).

use super::server_cpu::Floor;
use serde::Serialize;

/// Everything the device workloads measured; a workload not run is absent.
#[derive(Debug, Default, Serialize)]
pub(super) struct Figures {
    pub machine: Machine,
    pub quick: bool,
    pub w1: Option<W1>,
    pub w2: Option<W2>,
    pub w3: Vec<W3>,
    pub w4: Option<W4>,
    pub push: Option<PushLatency>,
    pub requests: Option<RequestsPerEdit>,
}

#[derive(Debug, Default, Serialize)]
pub(super) struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub os: String,
}

impl Figures {
    pub fn new(quick: bool) -> Figures {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())))
            .unwrap_or_default();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Figures { machine: Machine { cores, cpu, os: std::env::consts::OS.into() }, quick, ..Figures::default() }
    }
}

/// W1: one edit on device A until it is in device B's store.
#[derive(Debug, Serialize)]
pub(super) struct W1 {
    pub samples: usize,
    pub warmup: usize,
    /// Bytes of the edited field's new value.
    pub edit_bytes: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Durable commits (each an fsync) device A made per edit: the edit and its whole sync.
    pub a_commits_per_edit: f64,
    /// Durable commits device B made per edit up to and with the one that showed it.
    pub b_commits_until_seen: f64,
    /// Every sample, sorted (the chart draws their distribution).
    pub sorted_ms: Vec<f64>,
}

/// W2: local edits on device A, then its sync, until the server has them all.
#[derive(Debug, Serialize)]
pub(super) struct W2 {
    pub edits: usize,
    /// The edits alone, one durable transaction each.
    pub local_ms: f64,
    pub local_per_s: f64,
    /// From the first edit until the device holds the server's answer to the last.
    pub e2e_ms: f64,
    pub e2e_per_s: f64,
    /// From the sync's start until the server had all: the wire and the server.
    pub sync_part_per_s: f64,
    /// Until the device's `sync` returned (it also pulls).
    pub sync_returned_ms: f64,
    /// The server's CPU time (all threads) while it took the pushes.
    pub server_cpu_ms: f64,
    pub server_cpu_us_per_mutation: f64,
    /// The same rows inserted by plain rusqlite in one transaction.
    pub floor: Floor,
    pub floor_cpu_us_per_mutation: f64,
}

/// W3: a sign-in restore into a fresh device.
#[derive(Debug, Serialize)]
pub(super) struct W3 {
    pub requests: usize,
    pub seconds: f64,
    /// TCP payload from the server to the device during the restore.
    pub bytes_down: u64,
    pub bytes_up: u64,
    /// Gzip of the restored collection's Postman export.
    pub export_gzip_bytes: usize,
    /// `bytes_down / export_gzip_bytes`.
    pub wire_over_gzip: f64,
    /// The server's data directory after the requests were pushed.
    pub disk_bytes: u64,
    pub disk_bytes_per_doc: f64,
    /// The mean size of a restored request as JSON (`model::Document`).
    pub doc_json_bytes: f64,
    pub disk_over_json: f64,
}

/// W4: live devices held by one server.
#[derive(Debug, Serialize)]
pub(super) struct W4 {
    /// What a live device is in this workload.
    pub devices_are: String,
    pub baseline_devices: usize,
    pub baseline_rss_kib: u64,
    pub points: Vec<W4Point>,
}

#[derive(Debug, Serialize)]
pub(super) struct W4Point {
    pub devices: usize,
    pub rss_kib: u64,
    /// RSS added per device over the baseline, in KB (1,000 bytes);
    /// `None` when RSS fell meanwhile (the allocator gave memory back).
    pub kb_per_device: Option<f64>,
    /// From the push until the last device has the change.
    pub fan_out_ms: f64,
}

/// Push latency into a small and into a big workspace of one server.
#[derive(Debug, Serialize)]
pub(super) struct PushLatency {
    pub small_documents: usize,
    pub big_documents: usize,
    /// How the big workspace was filled and how long it took.
    pub seeded: String,
    pub seed_seconds: f64,
    pub samples: usize,
    pub small_p50_ms: f64,
    pub small_p99_ms: f64,
    pub big_p50_ms: f64,
    pub big_p99_ms: f64,
}

/// HTTP requests a CLI-style edit (`apisync set`: the edit, then a sync) costs.
#[derive(Debug, Serialize)]
pub(super) struct RequestsPerEdit {
    /// One count per edit measured.
    pub per_edit: Vec<u64>,
    /// A sync with nothing changed anywhere.
    pub idle_sync: u64,
    /// Whether some request could not be counted (never expected).
    pub uncounted: bool,
}
