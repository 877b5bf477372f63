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

pub(crate) use stake_sim::metrics::{is_percentiles, key_metrics, num_of};

/// A top-level summary field as text (strings without their quotes; empty when absent).
pub(crate) fn field(summary: &Value, k: &str) -> String {
    summary
        .get(k)
        .map(|v| v.to_string().trim_matches('"').to_string())
        .unwrap_or_default()
}

/// The console table of a multi-path run: the key figures across paths.
pub(crate) fn percentile_table(summary: &Value) -> String {
    let mut o = String::new();
    let g = |k: &str| field(summary, k);
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
            let f = |k: &str| fmt_cell(num_of(v.get(k).unwrap_or(&Value::Null)));
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
            let _ = writeln!(o, "{l:<w$} {:>14}", fmt_cell(num_of(v)));
        }
    }
    if let Some(r) = summary.get("rejected") {
        let c = r
            .get("count")
            .map(|c| num_of(c.get("p50").unwrap_or(&Value::Null)))
            .unwrap_or(f64::NAN);
        let _ = writeln!(o, "\nrejected transactions per path: median {}", fmt_cell(c));
    }
    if let Some(h) = summary.get("state_hashes").and_then(Value::as_array) {
        let first = h.first().and_then(Value::as_str).unwrap_or("");
        let _ = writeln!(o, "state hash of path 0: {}", &first[..16.min(first.len())]);
    }
    o
}

pub(crate) fn fmt_cell(v: f64) -> String {
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
