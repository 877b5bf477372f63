//! Writing a run's outputs: `summary.json`, `steps.csv`, `report.html` (SVG charts), and the
//! console tables (one path's figures, or the key figures' percentiles across paths).

use anyhow::Result;
use serde_json::Value;
use stake_engine::report::{RunResult, StepRow};
use std::fmt::Write as _;
use std::path::Path;

/// `steps.csv` being written: one row per (path, step).
pub(crate) struct CsvSteps {
    w: csv::Writer<std::fs::File>,
}

impl CsvSteps {
    /// Creates the file and writes its header: `path, step, t, date`, then the metric columns.
    pub(crate) fn create(file: &Path, columns: &[String]) -> Result<Self> {
        let mut w = csv::Writer::from_path(file)?;
        let mut header = vec!["path".to_string(), "step".into(), "t".into(), "date".into()];
        header.extend(columns.iter().cloned());
        w.write_record(&header)?;
        Ok(CsvSteps { w })
    }

    /// Adds one path's rows.
    pub(crate) fn add_path(&mut self, index: u64, rows: &[StepRow]) -> Result<()> {
        for (k, row) in rows.iter().enumerate() {
            let mut rec = vec![index.to_string(), k.to_string(), row.t.to_string(), row.date.clone()];
            rec.extend(row.values.iter().map(|v| format!("{v}")));
            self.w.write_record(&rec)?;
        }
        Ok(())
    }

    /// Flushes the file.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.w.flush()?;
        Ok(())
    }
}

/// Writes `summary.json`.
pub(crate) fn write_summary(dir: &Path, summary: &Value) -> Result<()> {
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(summary)? + "\n")?;
    Ok(())
}

/// Names of the figures the console and the run store report (the last key of a leaf).
const KEY_FIGURES: [&str; 22] = [
    "staked_eth",
    "exit_queue_days",
    "slashed_validators",
    "rate",
    "realised_apr_pct",
    "tvl_eth",
    "queue_days",
    "eth_usd",
    "price",
    "price_min",
    "liquidations",
    "bad_debt_tokens",
    "bad_debt_events",
    "min_health_factor",
    "utilization_pct",
    "implied_apy_pct",
    "pt_price",
    "profit_usd",
    "bad_debt_usd",
    "slashed_wei",
    "faults",
    "transactions_applied",
];

/// The key figures of a summary (single-path values or percentile objects), labelled by the
/// names along their path: `lsts.stETH.rate`, `markets.pools.steth-eth.price_min`, …
pub(crate) fn key_metrics(summary: &Value) -> Vec<(String, Value)> {
    fn name_of(v: &Value) -> Option<String> {
        ["symbol", "name", "operator", "service", "account", "chain"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
    }
    fn walk(v: &Value, label: &mut Vec<String>, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) if !is_percentiles(v) => {
                for (k, x) in m {
                    if k == "rejected" || k == "health_factors" {
                        continue;
                    }
                    label.push(k.clone());
                    walk(x, label, out);
                    label.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    label.push(name_of(x).unwrap_or_else(|| i.to_string()));
                    walk(x, label, out);
                    label.pop();
                }
            }
            leaf => {
                let Some(last) = label.last() else { return };
                if KEY_FIGURES.contains(&last.as_str()) && !leaf.is_null() {
                    let mut l = label.join(".");
                    let mut val = leaf.clone();
                    // Exact wei strings read as ETH.
                    if let Some(stem) = last.strip_suffix("_wei") {
                        l = format!("{}{stem}_eth", l.strip_suffix(last.as_str()).unwrap_or(""));
                        val = scale(&val, 1e-18);
                    }
                    out.push((l, val));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(summary, &mut Vec::new(), &mut out);
    out
}

fn is_percentiles(v: &Value) -> bool {
    v.get("p50").is_some() && v.get("p5").is_some()
}

fn scale(v: &Value, k: f64) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(a, x)| (a.clone(), if a == "missing" { x.clone() } else { scale(x, k) }))
                .collect(),
        ),
        Value::String(s) => s.parse::<f64>().map_or(v.clone(), |x| serde_json::json!(x * k)),
        Value::Number(n) => n.as_f64().map_or(v.clone(), |x| serde_json::json!(x * k)),
        _ => v.clone(),
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        _ => v.as_f64().unwrap_or(f64::NAN),
    }
}

/// The console table of a multi-path run: the key figures across paths.
pub(crate) fn percentile_table(summary: &Value) -> String {
    let mut o = String::new();
    let g = |k: &str| {
        summary
            .get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let _ = writeln!(
        o,
        "\n{} — {} → {} ({} steps × {} paths, seed {})",
        g("scenario"),
        g("start"),
        g("end"),
        g("steps"),
        g("paths"),
        g("seed")
    );
    let rows = key_metrics(summary);
    let w = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 64);
    let _ = writeln!(
        o,
        "\n{:<w$} {:>14} {:>14} {:>14} {:>14} {:>14}",
        "figure", "p5", "p50", "p95", "min", "max"
    );
    let _ = writeln!(o, "{}", "-".repeat(w + 75));
    for (label, v) in &rows {
        let l: String = label.chars().take(w).collect();
        if is_percentiles(v) {
            let f = |k: &str| fmt_cell(num(v.get(k).unwrap_or(&Value::Null)));
            let missing = v
                .get("missing")
                .map(|m| format!("  ({m} paths without)"))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "{l:<w$} {:>14} {:>14} {:>14} {:>14} {:>14}{missing}",
                f("p5"),
                f("p50"),
                f("p95"),
                f("min"),
                f("max")
            );
        } else {
            let _ = writeln!(o, "{l:<w$} {:>14}", fmt_cell(num(v)));
        }
    }
    if let Some(r) = summary.get("rejected") {
        let c = r
            .get("count")
            .map(|c| num(c.get("p50").unwrap_or(&Value::Null)))
            .unwrap_or(f64::NAN);
        let _ = writeln!(o, "\nrejected transactions per path: median {}", fmt_cell(c));
    }
    if let Some(h) = summary.get("state_hashes").and_then(Value::as_array) {
        let first = h.first().and_then(Value::as_str).unwrap_or("");
        let _ = writeln!(o, "state hash of path 0: {}", &first[..16.min(first.len())]);
    }
    o
}

fn fmt_cell(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v != 0.0 && (v.abs() >= 1e9 || v.abs() < 1e-4) {
        format!("{v:.4e}")
    } else if v.abs() >= 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.6}")
    }
}

/// The console table.
pub(crate) fn summary_table(r: &RunResult) -> String {
    let s = &r.summary;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n{} — {} → {} ({} steps, seed {})",
        s.scenario, s.start, s.end, s.steps, s.seed
    );
    let c = &s.chain;
    let _ = writeln!(
        o,
        "{}: {:.0} ETH staked, {} active validators, ideal CL APR {:.2}%, exit queue {:.1} d, activation queue {:.1} d, {} slashed",
        c.chain, c.staked_eth, c.active_validators, c.ideal_cl_apr_pct, c.exit_queue_days, c.activation_queue_days, c.slashed_validators
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<10} {:<14} {:>14} {:>10} {:>16} {:>10} {:>10} {:>11}",
        "LST", "model", "rate (ETH)", "APR %", "TVL (ETH)", "share %", "queue d", "validators"
    );
    let _ = writeln!(o, "{}", "-".repeat(102));
    for l in &s.lsts {
        let _ = writeln!(
            o,
            "{:<10} {:<14} {:>14.10} {:>10.3} {:>16.2} {:>10.2} {:>10.2} {:>11}",
            l.symbol, l.model, l.rate, l.realised_apr_pct, l.tvl_eth, l.share_of_staked_pct, l.queue_days, l.validators
        );
    }
    for t in &s.extra_text {
        let _ = writeln!(o);
        o.push_str(t);
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "transactions: {} applied, {} rejected; {} events; final state hash {}",
        s.transactions_applied,
        s.rejected.len(),
        s.events,
        &s.final_state_hash[..16.min(s.final_state_hash.len())]
    );
    for rj in s.rejected.iter().take(5) {
        let _ = writeln!(
            o,
            "  rejected {} {} {}: [{}] {}",
            rj.date, rj.sender, rj.action, rj.code, rj.message
        );
    }
    if s.rejected.len() > 5 {
        let _ = writeln!(o, "  … {} more in summary.json", s.rejected.len() - 5);
    }
    o
}

/// Groups columns by the part before the first `.` (e.g. `stETH.rate`) → one chart per metric
/// suffix across entities (all `*.rate` together).
pub(crate) fn html_report(r: &RunResult) -> String {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, c) in r.columns.iter().enumerate() {
        let metric = c
            .split_once('.')
            .map(|(_, m)| m.to_string())
            .unwrap_or_else(|| c.clone());
        match groups.iter_mut().find(|(m, _)| *m == metric) {
            Some((_, v)) => v.push(i),
            None => groups.push((metric, vec![i])),
        }
    }
    let mut body = String::new();
    for (metric, cols) in &groups {
        body.push_str(&format!("<h2>{}</h2>\n", esc(metric)));
        body.push_str(&svg_chart(r, cols));
    }
    let s = &r.summary;
    let mut table = String::from("<table><tr><th>LST</th><th>model</th><th>rate</th><th>APR %</th><th>TVL ETH</th><th>share %</th><th>queue d</th></tr>");
    for l in &s.lsts {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{:.10}</td><td>{:.3}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            esc(&l.symbol),
            esc(&l.model),
            l.rate,
            l.realised_apr_pct,
            l.tvl_eth,
            l.share_of_staked_pct,
            l.queue_days
        ));
    }
    table.push_str("</table>");
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>stakestack — {name}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
h2{{font-size:1.05em;margin-top:1.6em}}</style></head><body>\
<h1>{name}</h1><p>{start} → {end}, {steps} steps, seed {seed}, state hash <code>{hash}</code></p>{table}{body}</body></html>\n",
        name = esc(&s.scenario),
        start = s.start,
        end = s.end,
        steps = s.steps,
        seed = s.seed,
        hash = s.final_state_hash,
    )
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A chart's plotting area: pixel positions of step indices and values.
struct Frame {
    n: usize,
    lo: f64,
    hi: f64,
}

impl Frame {
    const W: f64 = 900.0;
    const H: f64 = 260.0;
    const PAD: f64 = 50.0;

    fn new(n: usize, lo: f64, hi: f64) -> Self {
        let hi = if (hi - lo).abs() < 1e-12 { lo + 1.0 } else { hi };
        Frame { n, lo, hi }
    }
    fn x(&self, i: usize) -> f64 {
        Self::PAD + (Self::W - 2.0 * Self::PAD) * (i as f64) / ((self.n.max(2) - 1) as f64)
    }
    fn y(&self, v: f64) -> f64 {
        Self::H - Self::PAD + (v - self.lo) / (self.hi - self.lo) * -(Self::H - 2.0 * Self::PAD)
    }
    /// The opening `<svg>` with the value range and the first and last dates.
    fn open(&self, first: &str, last: &str) -> String {
        let (w, h, pad) = (Self::W, Self::H, Self::PAD);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" style=\"background:#fafafa\">"
        );
        s.push_str(&format!(
            "<text x=\"4\" y=\"{:.0}\" font-size=\"11\">{}</text><text x=\"4\" y=\"{:.0}\" font-size=\"11\">{}</text>",
            pad,
            fmt_num(self.hi),
            h - pad,
            fmt_num(self.lo)
        ));
        s.push_str(&format!(
            "<text x=\"{pad}\" y=\"{:.0}\" font-size=\"11\">{}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            h - 8.0,
            esc(first),
            w - pad,
            h - 8.0,
            esc(last)
        ));
        s
    }
}

fn svg_chart(r: &RunResult, cols: &[usize]) -> String {
    let n = r.rows.len();
    if n == 0 {
        return String::new();
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for row in &r.rows {
        for &c in cols {
            let v = row.values[c];
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        return String::new();
    }
    let f = Frame::new(n, lo, hi);
    let (x, y) = (|i| f.x(i), |v| f.y(v));
    let mut s = f.open(&r.rows[0].date, &r.rows[n - 1].date);
    for (k, &c) in cols.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let mut pts = String::new();
        for (i, row) in r.rows.iter().enumerate() {
            let v = row.values[c];
            if v.is_finite() {
                let _ = write!(pts, "{:.1},{:.1} ", x(i), y(v));
            }
        }
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\" points=\"{pts}\"/>"
        ));
        s.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" font-size=\"12\" fill=\"{color}\">{}</text>",
            Frame::PAD + 10.0 + 150.0 * k as f64,
            18.0,
            esc(&r.columns[c])
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{:.3e}", v)
    } else {
        format!("{:.6}", v)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The report of a multi-path run: per metric, the median across paths with its p5–p95 band,
/// and the key-figure table.
pub(crate) fn html_fan_report(summary: &Value, columns: &[String], fan: &stake_sim::Fan) -> String {
    let mut body = String::new();
    for (c, name) in columns.iter().enumerate() {
        let series = fan.series(c);
        let (lo, hi) = series
            .iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.p5), hi.max(p.p95))
            });
        // An empty or constant-zero series says nothing: left out.
        if !lo.is_finite() || (lo == 0.0 && hi == 0.0) {
            continue;
        }
        body.push_str(&format!("<h2>{}</h2>\n", esc(name)));
        body.push_str(&svg_fan(fan.dates(), &series, lo, hi));
    }
    let mut table =
        String::from("<table><tr><th>figure</th><th>p5</th><th>p50</th><th>p95</th><th>min</th><th>max</th></tr>");
    for (label, v) in key_metrics(summary) {
        if !is_percentiles(&v) {
            continue;
        }
        let f = |k: &str| fmt_cell(num(v.get(k).unwrap_or(&Value::Null)));
        table.push_str(&format!(
            "<tr><td style=\"text-align:left\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&label),
            f("p5"),
            f("p50"),
            f("p95"),
            f("min"),
            f("max")
        ));
    }
    table.push_str("</table>");
    let g = |k: &str| {
        summary
            .get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>stakestack — {name}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
h2{{font-size:1.05em;margin-top:1.6em}}</style></head><body>\
<h1>{name}</h1><p>{start} → {end}, {steps} steps × {paths} paths, seed {seed}. Bands: p5–p95 across paths; line: median.</p>{table}{body}</body></html>\n",
        name = esc(&g("scenario")),
        start = esc(&g("start")),
        end = esc(&g("end")),
        steps = g("steps"),
        paths = g("paths"),
        seed = g("seed"),
    )
}

fn svg_fan(dates: &[String], series: &[Option<stake_sim::FanPoint>], lo: f64, hi: f64) -> String {
    let n = series.len();
    let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
        return String::new();
    };
    let f = Frame::new(n, lo, hi);
    let (x, y) = (|i| f.x(i), |v| f.y(v));
    let mut s = f.open(first, last);
    let mut upper = String::new();
    let mut lower = Vec::new();
    let mut mid = String::new();
    for (i, p) in series.iter().enumerate() {
        if let Some(p) = p {
            let _ = write!(upper, "{:.1},{:.1} ", x(i), y(p.p95));
            lower.push(format!("{:.1},{:.1}", x(i), y(p.p5)));
            let _ = write!(mid, "{:.1},{:.1} ", x(i), y(p.p50));
        }
    }
    lower.reverse();
    s.push_str(&format!(
        "<polygon fill=\"#1f77b4\" fill-opacity=\"0.2\" stroke=\"none\" points=\"{upper}{}\"/>",
        lower.join(" ")
    ));
    s.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.6\" points=\"{mid}\"/>"
    ));
    s.push_str("</svg>\n");
    s
}
