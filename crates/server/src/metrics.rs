//! The server's counters, in the Prometheus exposition format at
//! `/metrics` (OpenMetrics text, which Prometheus reads natively).
//!
//! One registry per server, not a process-wide one: tests, the bench and
//! the web version run several servers in one process, and each must count
//! its own. Labels only ever take values from fixed sets (route templates,
//! known methods, outcome names), so no client can grow the number of series.

use crate::store::{PoolStats, Store};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use protocol::{Outcome, PushResponse};
use std::time::Duration;

/// `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabel {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// The live hub's own counts: it is built before the registry, and counts
/// from places that see no server state.
#[derive(Default)]
pub(crate) struct LiveCounts {
    /// Live connections open (devices' WebSockets, the web version's event streams).
    pub connections: Gauge,
    /// Frames a slow connection's full queue refused (it was closed, and pulls).
    pub dropped: Counter,
}

/// Every counter of one server.
pub struct Metrics {
    registry: Registry,
    pushes: Counter,
    mutations: Family<OutcomeLabel, Counter>,
    conflicts: Counter,
    pull_bytes: Counter,
    rate_limited: Family<RouteLabel, Counter>,
    requests: Family<RequestLabels, Histogram>,
    db_connections: Family<StateLabel, Gauge>,
    db_max: Gauge,
    wal_bytes: Gauge,
}

/// Request latency buckets: 0.5 ms doubling to 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    /// A registry with every metric, the live hub's counts among them.
    pub(crate) fn new(live: &LiveCounts) -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("apisync"),
            pushes: Counter::default(),
            mutations: Family::default(),
            conflicts: Counter::default(),
            pull_bytes: Counter::default(),
            rate_limited: Family::default(),
            requests: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            db_connections: Family::default(),
            db_max: Gauge::default(),
            wal_bytes: Gauge::default(),
        };
        m.registry.register("pushes", "Pushes committed (each a batch of mutations)", m.pushes.clone());
        m.registry.register(
            "mutations",
            "Mutations pushed, by outcome: applied; applied_with_conflicts (applied, some fields held back); \
             conflict (nothing applied: edit against delete); rejected (invalid or not allowed)",
            m.mutations.clone(),
        );
        m.registry.register(
            "conflicts",
            "Conflicts pushes left for people to resolve: one per field held back, one per mutation refused as a conflict",
            m.conflicts.clone(),
        );
        m.registry.register_with_unit(
            "pull",
            "Bytes of pull answers (changes pages and document fetches) sent, after compression",
            Unit::Bytes,
            m.pull_bytes.clone(),
        );
        m.registry.register("live_connections", "Live connections open", live.connections.clone());
        m.registry.register(
            "live_frames_dropped",
            "Live frames a connection's full queue refused; that connection was closed and its device pulls",
            live.dropped.clone(),
        );
        m.registry.register("rate_limited", "Requests refused by a rate limit (429), by route", m.rate_limited.clone());
        m.registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request (to the answer's head), by method, route template and status class",
            Unit::Seconds,
            m.requests.clone(),
        );
        m.registry.register(
            "db_connections",
            "Database connections by state (PostgreSQL: the pool; SQLite: the writer and the readers)",
            m.db_connections.clone(),
        );
        m.registry.register("db_connections_max", "Database connections the server may hold", m.db_max.clone());
        m.registry.register_with_unit(
            "sqlite_wal",
            "Size of the SQLite write-ahead log (0 on PostgreSQL)",
            Unit::Bytes,
            m.wal_bytes.clone(),
        );
        m
    }

    /// Counts a committed push by its answer.
    pub(crate) fn pushed(&self, answer: &PushResponse) {
        self.pushes.inc();
        let mut conflicts = 0;
        for r in &answer.results {
            let outcome = match &r.outcome {
                Outcome::Applied { conflicts: held, .. } if held.is_empty() => "applied",
                Outcome::Applied { conflicts: held, .. } => {
                    conflicts += held.len() as u64;
                    "applied_with_conflicts"
                }
                Outcome::Conflict { .. } => {
                    conflicts += 1;
                    "conflict"
                }
                Outcome::Rejected { .. } => "rejected",
            };
            self.mutations.get_or_create(&OutcomeLabel { outcome }).inc();
        }
        self.conflicts.inc_by(conflicts);
    }

    /// Counts bytes of a pull answer as they are sent.
    pub(crate) fn pulled(&self, bytes: usize) {
        self.pull_bytes.inc_by(bytes as u64);
    }

    /// Records one answered request. `route` is the matched template, or
    /// `None` for a path no route matched.
    pub(crate) fn answered(&self, method: &axum::http::Method, route: Option<&str>, status: u16, took: Duration) {
        let route = route.unwrap_or("unmatched");
        if status == 429 {
            self.rate_limited.get_or_create(&RouteLabel { route: route.to_string() }).inc();
        }
        let labels = RequestLabels { method: method_label(method), route: route.to_string(), status: status_class(status) };
        self.requests.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// The text a scrape gets; database gauges are read now.
    pub(crate) fn render(&self, store: &Store) -> String {
        let PoolStats { busy, idle, max, wal_bytes } = store.pool_stats();
        self.db_connections.get_or_create(&StateLabel { state: "busy" }).set(busy as i64);
        self.db_connections.get_or_create(&StateLabel { state: "idle" }).set(idle as i64);
        self.db_max.set(max as i64);
        self.wal_bytes.set(i64::try_from(wal_bytes).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Methods outside the standard set are one label: any token is a valid method.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::FieldConflict;
    use model::Id;
    use protocol::{ConflictReason, ErrorCode, MutationResult};

    fn result(outcome: Outcome) -> MutationResult {
        MutationResult { mutation_id: Id::now_v7(), outcome }
    }

    #[test]
    fn a_push_counts_its_mutations_by_outcome_and_its_conflicts() {
        let live = LiveCounts::default();
        let m = Metrics::new(&live);
        let field = FieldConflict { field: "name".into(), theirs: serde_json::json!("b"), version: 8 };
        let answer = PushResponse {
            after: None,
            seq: 9,
            results: vec![
                result(Outcome::Applied { version: 9, conflicts: vec![], note: None }),
                result(Outcome::Applied { version: 9, conflicts: vec![field.clone(), field], note: None }),
                result(Outcome::Conflict { reason: ConflictReason::Deleted, conflicts: vec![] }),
                result(Outcome::Rejected { code: ErrorCode::BadRequest, message: "no".into() }),
            ],
            docs: vec![],
            stale: vec![],
        };
        m.pushed(&answer);
        m.answered(&axum::http::Method::from_bytes(b"BREW").unwrap(), None, 429, Duration::from_millis(3));
        live.dropped.inc();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &m.registry).unwrap();
        for line in [
            "apisync_pushes_total 1",
            "apisync_mutations_total{outcome=\"applied\"} 1",
            "apisync_mutations_total{outcome=\"applied_with_conflicts\"} 1",
            "apisync_mutations_total{outcome=\"conflict\"} 1",
            "apisync_mutations_total{outcome=\"rejected\"} 1",
            "apisync_conflicts_total 3",
            "apisync_rate_limited_total{route=\"unmatched\"} 1",
            "apisync_live_frames_dropped_total 1",
            "apisync_http_request_duration_seconds_count{method=\"other\",route=\"unmatched\",status=\"4xx\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
    }
}
