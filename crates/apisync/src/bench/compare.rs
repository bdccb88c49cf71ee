//! The side-by-side table: each device figure beside the peer's, the
//! ratio, the target, and whether it was met and by how much.

use super::Report;
use super::figures::Figures;
use super::peer::Peer;
use serde::Serialize;

/// Which way a figure is better.
#[derive(Clone, Copy)]
enum Better {
    Lower,
    Higher,
}

/// One line of the table.
#[derive(Debug, Serialize)]
pub(super) struct Row {
    pub workload: String,
    pub apisync: String,
    pub peer: String,
    /// How many times better apisync is than the peer (above 1: better).
    pub times_better: Option<f64>,
    pub target: String,
    /// `None`: a figure without a target.
    pub met: Option<bool>,
    pub verdict: String,
}

/// A target on a figure: a bound, and optionally a factor over the peer.
struct Goal {
    limit: Option<f64>,
    over_peer: Option<f64>,
}

fn fmt(v: f64, unit: &str) -> String {
    let n = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    format!("{n}{unit}")
}

/// A ratio with enough digits to tell 0.04 from 0.
fn times(t: f64) -> String {
    if t < 1.0 { format!("{t:.3}x") } else { format!("{t:.1}x") }
}

/// How far `v` is from `limit`, as a factor: below 1 met (a margin), above 1 missed.
fn factor(v: f64, limit: f64, better: Better) -> f64 {
    match better {
        Better::Lower => v / limit,
        Better::Higher => limit / v.max(1e-12),
    }
}

fn line(workload: &str, v: f64, unit: &str, better: Better, peer: Option<f64>, goal: Goal) -> Row {
    let times_better = peer.filter(|p| *p > 0.0 && v > 0.0).map(|p| match better {
        Better::Lower => p / v,
        Better::Higher => v / p,
    });
    let sign = match better {
        Better::Lower => "≤",
        Better::Higher => "≥",
    };
    let mut target = Vec::new();
    let mut verdict = Vec::new();
    let mut met = None;
    if let Some(l) = goal.limit {
        target.push(format!("{sign} {}", fmt(l, unit)));
        let f = factor(v, l, better);
        let ok = f <= 1.0;
        met = Some(ok);
        verdict.push(if ok && f > 0.01 {
            format!("met ({:.2}x margin)", 1.0 / f)
        } else if ok {
            "met".into()
        } else {
            format!("MISSED by {f:.2}x ({} vs {sign} {})", fmt(v, unit), fmt(l, unit))
        });
    }
    if let Some(k) = goal.over_peer {
        target.push(format!("≥ {k}x better than the peer"));
        match times_better {
            Some(t) => {
                let ok = t >= k;
                met = Some(met.unwrap_or(true) && ok);
                verdict.push(if ok {
                    format!("{} the peer: met", times(t))
                } else {
                    format!("{} the peer: MISSED by {:.2}x", times(t), k / t)
                });
            }
            None => verdict.push("peer not run: ratio not judged".into()),
        }
    }
    Row {
        workload: workload.into(),
        apisync: fmt(v, unit),
        peer: peer.map_or("-".into(), |p| fmt(p, unit)),
        times_better,
        target: if target.is_empty() { "-".into() } else { target.join(", ") },
        met,
        verdict: if verdict.is_empty() { "(figure only)".into() } else { verdict.join("; ") },
    }
}

const NONE: Goal = Goal { limit: None, over_peer: None };

fn bound(l: f64) -> Goal {
    Goal { limit: Some(l), over_peer: None }
}

/// Every row the figures (and the peer's, if it ran) give.
pub(super) fn rows(f: &Figures, peer: Option<&Peer>) -> Vec<Row> {
    let p = |get: fn(&Peer) -> Option<f64>| peer.and_then(get);
    let mut out = Vec::new();
    if let Some(r) = &f.requests {
        let worst = r.per_edit.iter().copied().max().unwrap_or(0) as f64;
        out.push(line("requests per edit (set + its sync), most of 5", worst, "", Better::Lower, None, bound(1.0)));
        out.push(line("requests per sync with nothing changed", r.idle_sync as f64, "", Better::Lower, None, bound(1.0)));
    }
    if let Some(w) = &f.w1 {
        let g = |l| Goal { limit: Some(l), over_peer: Some(15.0) };
        out.push(line("W1 edit A -> B's store, p50", w.p50_ms, " ms", Better::Lower, p(|p| p.w1_p50_ms), g(2.0)));
        out.push(line("W1 p90", w.p90_ms, " ms", Better::Lower, p(|p| p.w1_p90_ms), NONE));
        out.push(line("W1 p99", w.p99_ms, " ms", Better::Lower, p(|p| p.w1_p99_ms), g(5.0)));
    }
    if let Some(w) = &f.w2 {
        out.push(line(
            &format!("W2 {} edits, end to end", w.edits),
            w.e2e_per_s,
            " /s",
            Better::Higher,
            p(|p| p.w2_e2e_per_s),
            Goal { limit: Some(40_000.0), over_peer: Some(20.0) },
        ));
        out.push(line("W2 the local writes alone", w.local_per_s, " /s", Better::Higher, p(|p| p.w2_local_per_s), NONE));
        out.push(line("W2 the sync alone, until the server has all", w.sync_part_per_s, " /s", Better::Higher, None, NONE));
        out.push(line(
            "server CPU per mutation (W2)",
            w.server_cpu_us_per_mutation,
            " µs",
            Better::Lower,
            p(|p| p.w2_server_cpu_us_per_doc),
            NONE,
        ));
        let ratio = w.server_cpu_us_per_mutation / w.floor_cpu_us_per_mutation.max(1e-9);
        let mut r = line("  / raw SQLite insert of the same rows", ratio, "x", Better::Lower, None, bound(2.0));
        r.apisync = format!("{:.2}x ({:.1} µs floor)", ratio, w.floor_cpu_us_per_mutation);
        out.push(r);
    }
    for w in &f.w3 {
        let limit = match w.requests {
            10_000 => Some(0.3),
            100_000 => Some(3.0),
            _ => None,
        };
        let same_size = p(|p| p.w3_docs).is_some_and(|d| d as usize == w.requests);
        let peer_s = if same_size { p(|p| p.w3_seconds) } else { None };
        out.push(line(
            &format!("W3 restore {} requests", w.requests),
            w.seconds,
            " s",
            Better::Lower,
            peer_s,
            Goal { limit, over_peer: None },
        ));
        let peer_bytes = if same_size { p(|p| p.w3_bytes_down).map(|b| b / 1e6) } else { None };
        out.push(line(&format!("W3 {} bytes down", w.requests), w.bytes_down as f64 / 1e6, " MB", Better::Lower, peer_bytes, NONE));
        out.push(line(&format!("W3 {} bytes / gzip(export)", w.requests), w.wire_over_gzip, "x", Better::Lower, None, bound(1.0)));
        out.push(line(
            &format!("disk per document ({} requests) / its JSON", w.requests),
            w.disk_over_json,
            "x",
            Better::Lower,
            None,
            bound(1.3),
        ));
    }
    if let Some(w) = &f.w4 {
        let peer_n = p(|p| p.w4_clients).map_or(String::new(), |n| format!(" (peer: {n:.0} clients)"));
        for pt in &w.points {
            let what = format!("W4 server memory per live device, {}{peer_n}", pt.devices);
            out.push(match pt.kb_per_device {
                Some(kb) => line(&what, kb, " KB", Better::Lower, p(|p| p.w4_kb_per_client), bound(8.0)),
                None => Row {
                    workload: what,
                    apisync: "RSS fell".into(),
                    peer: p(|p| p.w4_kb_per_client).map_or("-".into(), |v| fmt(v, " KB")),
                    times_better: None,
                    target: format!("≤ {}", fmt(8.0, " KB")),
                    met: Some(false),
                    verdict: "not measured: the server's RSS fell while devices connected".into(),
                },
            });
        }
        for pt in &w.points {
            let goal = if pt.devices >= 10_000 { bound(1000.0) } else { NONE };
            out.push(line(
                &format!("W4 one change to all {} live devices{peer_n}", pt.devices),
                pt.fan_out_ms,
                " ms",
                Better::Lower,
                p(|p| p.w4_fan_out_ms),
                goal,
            ));
        }
    }
    if let Some(x) = &f.push {
        for (name, small, big) in [("p50", x.small_p50_ms, x.big_p50_ms), ("p99", x.small_p99_ms, x.big_p99_ms)] {
            let ratio = big / small.max(1e-9);
            let mut r = line(
                &format!("push latency {name}, {} / {} documents", x.big_documents, x.small_documents),
                ratio,
                "x",
                Better::Lower,
                None,
                bound(1.5),
            );
            r.apisync = format!("{ratio:.2}x ({big:.2} / {small:.2} ms)");
            out.push(r);
        }
    }
    out
}

/// Prints the table and counts each target in `report`.
pub(super) fn print(rows: &[Row], report: &mut Report) {
    let w = rows.iter().map(|r| r.workload.chars().count()).max().unwrap_or(10);
    println!();
    println!("{:<w$}  {:>22}  {:>12}  {:>8}  {:<36}  verdict", "workload", "apisync", "peer", "ratio", "target");
    for r in rows {
        let ratio = r.times_better.map_or("-".into(), times);
        println!("{:<w$}  {:>22}  {:>12}  {:>8}  {:<36}  {}", r.workload, r.apisync, r.peer, ratio, r.target, r.verdict);
        if let Some(met) = r.met {
            report.record(&r.workload, r.apisync.clone(), &r.target, met);
        }
    }
    println!("(ratio: how many times better apisync is than the peer; a peer figure at a different size is not compared)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_target_says_by_how_much() {
        let r = line("x", 4.0, " ms", Better::Lower, Some(40.0), Goal { limit: Some(2.0), over_peer: Some(15.0) });
        assert_eq!(r.met, Some(false));
        assert!(r.verdict.contains("MISSED by 2.00x"), "{}", r.verdict);
        assert!(r.verdict.contains("10.0x the peer: MISSED by 1.50x"), "{}", r.verdict);
        let r = line("y", 50_000.0, " /s", Better::Higher, Some(2_000.0), Goal { limit: Some(40_000.0), over_peer: Some(20.0) });
        assert_eq!(r.met, Some(true));
        assert_eq!(r.times_better, Some(25.0));
        let r = line("z", 1.0, "", Better::Lower, None, Goal { limit: None, over_peer: Some(15.0) });
        assert_eq!(r.met, None);
        assert!(r.verdict.contains("peer not run"));
    }
}
