//! Writing a run's outputs: `summary.json`, `steps.csv`, `report.html` (SVG charts), and the
//! console summary table.

use anyhow::Result;
use stake_engine::report::RunResult;
use std::fmt::Write as _;
use std::path::Path;

/// Writes every output file into `dir`.
pub(crate) fn write_all(dir: &Path, r: &RunResult) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&r.summary)? + "\n",
    )?;
    let mut w = csv::Writer::from_path(dir.join("steps.csv"))?;
    let mut header = vec!["t".to_string(), "date".to_string()];
    header.extend(r.columns.iter().cloned());
    w.write_record(&header)?;
    for row in &r.rows {
        let mut rec = vec![row.t.to_string(), row.date.clone()];
        rec.extend(row.values.iter().map(|v| format!("{v}")));
        w.write_record(&rec)?;
    }
    w.flush()?;
    std::fs::write(dir.join("report.html"), html_report(r))?;
    Ok(())
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
fn html_report(r: &RunResult) -> String {
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

fn svg_chart(r: &RunResult, cols: &[usize]) -> String {
    let (w, h, pad) = (900.0, 260.0, 50.0);
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
    if (hi - lo).abs() < 1e-12 {
        hi = lo + 1.0;
    }
    let x = |i: usize| pad + (w - 2.0 * pad) * (i as f64) / ((n.max(2) - 1) as f64);
    let y = |v: f64| h - pad + (v - lo) / (hi - lo) * -(h - 2.0 * pad);
    let mut s =
        format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" style=\"background:#fafafa\">");
    s.push_str(&format!(
        "<text x=\"4\" y=\"{:.0}\" font-size=\"11\">{}</text><text x=\"4\" y=\"{:.0}\" font-size=\"11\">{}</text>",
        pad,
        fmt_num(hi),
        h - pad,
        fmt_num(lo)
    ));
    s.push_str(&format!(
        "<text x=\"{pad}\" y=\"{:.0}\" font-size=\"11\">{}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        h - 8.0,
        r.rows[0].date,
        w - pad,
        h - 8.0,
        r.rows[n - 1].date
    ));
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
            pad + 10.0 + 150.0 * k as f64,
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
