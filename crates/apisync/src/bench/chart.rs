//! `--out`: the device figures drawn beside the peer's as one SVG: W1's
//! latency distribution (the share of edits that arrived within each
//! time, log scale), and bars for W2, W3, W4 and the server's CPU per mutation.

use super::figures::Figures;
use super::peer::Peer;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

const APISYNC: RGBColor = RGBColor(31, 119, 180);
const PEER: RGBColor = RGBColor(214, 39, 40);
const FLOOR: RGBColor = RGBColor(150, 150, 150);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A number as a bar's label: three significant digits at most.
fn short(v: f64) -> String {
    match v.abs() {
        x if x >= 10_000.0 => format!("{:.1}k", v / 1000.0),
        x if x >= 100.0 => format!("{v:.0}"),
        x if x >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

/// A count as a label: 10k, 1.5k, 200.
fn count(n: usize) -> String {
    match n {
        n if n >= 1000 && n % 1000 == 0 => format!("{}k", n / 1000),
        n if n >= 1000 => format!("{:.1}k", n as f64 / 1000.0),
        n => n.to_string(),
    }
}

/// Draws the chart into `path`.
pub(super) fn draw(path: &Path, f: &Figures, peer: Option<&Peer>) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (1400, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let title = match peer {
        Some(_) => format!("apisync (blue) beside the peer (red), {} cores{}", f.machine.cores, if f.quick { ", --quick" } else { "" }),
        None => format!("apisync, {} cores (the peer was not run){}", f.machine.cores, if f.quick { ", --quick" } else { "" }),
    };
    let root = root.titled(&title, ("sans-serif", 22))?;
    let (top, bottom) = root.split_vertically(440);
    w1(&top, f, peer)?;
    let panels = bottom.split_evenly((1, 5));
    let p = |get: fn(&Peer) -> Option<f64>| peer.and_then(get);
    let mut items: Vec<Vec<(String, f64, RGBColor)>> = vec![Vec::new(); 5];
    if let Some(w) = &f.w2 {
        items[0].push(("apisync".into(), w.e2e_per_s, APISYNC));
        items[1].push(("apisync".into(), w.server_cpu_us_per_mutation, APISYNC));
        items[1].push(("SQLite floor".into(), w.floor_cpu_us_per_mutation, FLOOR));
    }
    if let Some(v) = p(|p| p.w2_e2e_per_s) {
        items[0].push(("peer".into(), v, PEER));
    }
    if let Some(v) = p(|p| p.w2_server_cpu_us_per_doc) {
        items[1].push(("peer".into(), v, PEER));
    }
    for w in &f.w3 {
        items[2].push((count(w.requests), w.seconds, APISYNC));
    }
    if let (Some(n), Some(v)) = (p(|p| p.w3_docs), p(|p| p.w3_seconds)) {
        items[2].push((format!("peer {}", count(n as usize)), v, PEER));
    }
    if let Some(w) = &f.w4 {
        for pt in &w.points {
            if let Some(kb) = pt.kb_per_device {
                items[3].push((format!("{}", pt.devices), kb, APISYNC));
            }
            items[4].push((format!("{}", pt.devices), pt.fan_out_ms, APISYNC));
        }
    }
    let n = p(|p| p.w4_clients).map_or(String::new(), |n| format!("peer {n:.0}"));
    if let Some(v) = p(|p| p.w4_kb_per_client) {
        items[3].push((n.clone(), v, PEER));
    }
    if let Some(v) = p(|p| p.w4_fan_out_ms) {
        items[4].push((n, v, PEER));
    }
    let titles = [
        ("W2: edits/s, end to end", "edits per second"),
        ("Server CPU per mutation", "µs"),
        ("W3: sign-in restore", "seconds"),
        ("W4: memory per live device", "KB"),
        ("W4: one change to all", "ms"),
    ];
    for ((area, (title, unit)), items) in panels.iter().zip(titles).zip(&items) {
        bars(area, title, unit, items)?;
    }
    root.present()?;
    Ok(())
}

/// W1's distribution: for each time, the share of edits that had arrived.
fn w1(area: &Area<'_>, f: &Figures, peer: Option<&Peer>) -> anyhow::Result<()> {
    let mine: Vec<(f64, f64)> = f.w1.as_ref().map_or(Vec::new(), |w| {
        let n = w.sorted_ms.len().max(1) as f64;
        w.sorted_ms.iter().enumerate().map(|(i, ms)| (*ms, (i + 1) as f64 * 100.0 / n)).collect()
    });
    // The peer reports percentiles only.
    let theirs: Vec<(f64, f64)> = peer.map_or(Vec::new(), |p| {
        [(p.w1_min_ms, 0.0), (p.w1_p50_ms, 50.0), (p.w1_p90_ms, 90.0), (p.w1_p99_ms, 99.0), (p.w1_max_ms, 100.0)]
            .into_iter()
            .filter_map(|(v, pct)| Some((v?, pct)))
            .collect()
    });
    let all = mine.iter().chain(&theirs).map(|p| p.0).filter(|v| *v > 0.0);
    let (lo, hi) = all.fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if hi > 0.0 { (lo * 0.8, hi * 1.25) } else { (0.1, 10.0) };
    let mut c = ChartBuilder::on(area)
        .caption("W1: one ~1 KB edit on device A until it is in device B's store (B live)", ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..100f64)?;
    c.configure_mesh()
        .x_labels(12)
        .x_label_formatter(&|v| short(*v))
        .x_desc("milliseconds (log scale)")
        .y_desc("% of edits arrived")
        .draw()?;
    if !mine.is_empty() {
        c.draw_series(LineSeries::new(mine, APISYNC.stroke_width(2)))?
            .label("apisync (every sample)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], APISYNC.stroke_width(2)));
    }
    if !theirs.is_empty() {
        c.draw_series(LineSeries::new(theirs.clone(), PEER.stroke_width(2)))?
            .label("peer (min, p50, p90, p99, max)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PEER.stroke_width(2)));
        c.draw_series(theirs.into_iter().map(|p| Circle::new(p, 3, PEER.filled())))?;
    }
    if f.w1.is_some() || peer.is_some() {
        c.configure_series_labels().position(SeriesLabelPosition::LowerRight).border_style(BLACK).background_style(WHITE).draw()?;
    } else {
        area.draw(&Text::new("W1 not measured", (80, 200), ("sans-serif", 16)))?;
    }
    Ok(())
}

fn bars(area: &Area<'_>, title: &str, unit: &str, items: &[(String, f64, RGBColor)]) -> anyhow::Result<()> {
    let top = match items.iter().map(|i| i.1).fold(0.0, f64::max) {
        m if m > 0.0 => m * 1.25,
        _ => 1.0,
    };
    let labels: Vec<String> = items.iter().map(|i| i.0.clone()).collect();
    let mut c = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(55)
        // A segmented 0..n has n + 1 slots.
        .build_cartesian_2d((0..items.len().saturating_sub(1).max(1)).into_segmented(), 0f64..top)?;
    c.configure_mesh()
        .disable_x_mesh()
        .y_desc(unit)
        .y_label_formatter(&|v| short(*v))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    c.draw_series(items.iter().enumerate().map(|(i, (_, v, color))| {
        let mut bar = Rectangle::new([(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), *v)], color.filled());
        bar.set_margin(0, 0, 6, 6);
        bar
    }))?;
    c.draw_series(
        items
            .iter()
            .enumerate()
            .map(|(i, (_, v, _))| Text::new(short(*v), (SegmentValue::CenterOf(i), *v + top * 0.06), ("sans-serif", 13))),
    )?;
    if items.is_empty() {
        area.draw(&Text::new("not measured", (60, 120), ("sans-serif", 14)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_without_figures_or_peer_is_still_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.svg");
        draw(&path, &Figures::new(true), None).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("the peer was not run"), "{}", &svg[..200.min(svg.len())]);
    }
}
