//! `report.html`: a self-contained report (the chart library, uPlot, is bundled into the file, so
//! it opens from disk with no network) — sections per layer, a chart per (protocol or market,
//! unit) with ticks, gridlines, axis titles with units, hover values, event markers and threshold
//! lines; for many paths, fan charts (p5–p95 band around the median) and distributions across paths.

use crate::output::{field, fmt_cell, is_percentiles, key_metrics, num_of};
use serde_json::{json, Value};
use stake_engine::report::{RunResult, StepRow};
use stake_sim::{Fan, FanPoint};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const UPLOT_JS: &str = include_str!("../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../assets/uplot/uPlot.min.css");

/// The layer sections, in report order.
const SECTIONS: [&str; 4] = ["Ethereum (L0)", "Liquid staking (L1)", "Restaking (L2)", "Markets (L4)"];

/// What a step column is: where it goes and how it reads.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnInfo {
    /// Index into the step columns.
    pub index: usize,
    /// Index into [`SECTIONS`].
    pub section: usize,
    /// Chart title (the protocol or market and the quantity), shared by the columns of one chart.
    pub chart: String,
    /// Axis unit.
    pub unit: String,
    /// Series label.
    pub label: String,
    /// A reference line: value and name (HF = 1, the peg).
    pub threshold: Option<(f64, String)>,
}

/// Names of the entities of a run (from its summary): which prefix is which protocol.
struct Names {
    lsts: Vec<String>,
    restaking: Vec<String>,
    pools: Vec<(String, String)>,
    pendle: Vec<String>,
    morpho: Vec<(String, String, String)>,
}

/// The entries of the summary array at `ptr` that `f` reads (none when the array is absent).
fn list<T>(v: &Value, ptr: &str, f: impl Fn(&Value) -> Option<T>) -> Vec<T> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(f).collect())
        .unwrap_or_default()
}

fn strs(v: &Value, ptr: &str, key: &str) -> Vec<String> {
    list(v, ptr, |x| x.get(key)?.as_str().map(str::to_string))
}

impl Names {
    fn of(summary: &Value) -> Self {
        let mut restaking = strs(summary, "/restaking/operators", "operator");
        restaking.extend(strs(summary, "/restaking/services", "service"));
        // A pool's chart names the coin sold against ETH.
        let pools = list(summary, "/markets/pools", |p| {
            let name = p.get("name")?.as_str()?.to_string();
            let coins = p.get("coins")?.as_array()?;
            let sold = coins
                .iter()
                .filter_map(Value::as_str)
                .find(|c| *c != "ETH")
                .unwrap_or("coin");
            Some((name, sold.to_string()))
        });
        let morpho = list(summary, "/markets/morpho", |m| {
            let s = |k: &str| m.get(k)?.as_str().map(str::to_string);
            Some((s("name")?, s("loan")?, s("collateral")?))
        });
        Names {
            lsts: strs(summary, "/lsts", "symbol"),
            restaking,
            pools,
            pendle: strs(summary, "/markets/pendle", "name"),
            morpho,
        }
    }
}

/// Classifies every step column (see [`ColumnInfo`]). A column of an unknown shape still gets a
/// chart of its own, titled by its name.
pub(crate) fn classify(columns: &[String], summary: &Value) -> Vec<ColumnInfo> {
    let n = Names::of(summary);
    let hf = || Some((1.0, "HF = 1 (liquidatable below)".to_string()));
    columns
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let (prefix, metric) = c.rsplit_once('.').unwrap_or(("", c.as_str()));
            let info = |section: usize, chart: String, unit: &str, label: &str| ColumnInfo {
                index,
                section,
                chart,
                unit: unit.to_string(),
                label: label.to_string(),
                threshold: None,
            };
            if prefix == "eth" {
                return match metric {
                    "staked_eth" => info(0, "Ethereum — ETH staked".into(), "ETH", "staked"),
                    "exit_queue_days" => info(0, "Ethereum — queue waits".into(), "days", "exit queue"),
                    "activation_queue_days" => info(0, "Ethereum — queue waits".into(), "days", "activation queue"),
                    "ideal_cl_apr_pct" => info(0, "Ethereum — ideal consensus-layer APR".into(), "%", "ideal CL APR"),
                    _ => info(0, format!("Ethereum — {metric}"), "", metric),
                };
            }
            if n.lsts.iter().any(|l| l == prefix) {
                let (title, unit) = match metric {
                    "rate" => ("exchange rate", "ETH per token"),
                    "apr_pct" => ("realised APR", "%"),
                    "tvl_eth" => ("TVL", "ETH"),
                    "share_pct" => ("share of staked ETH", "%"),
                    "queue_days" => ("withdrawal queue", "days"),
                    _ => (metric, ""),
                };
                return info(1, format!("Liquid staking tokens — {title}"), unit, prefix);
            }
            if n.restaking.iter().any(|r| r == prefix) {
                let (what, unit) = match metric.strip_suffix("_eth") {
                    Some(m) => (m.replace('_', " "), "ETH"),
                    None => (metric.replace('_', " "), "units"),
                };
                return info(2, format!("Restaking — {prefix}"), unit, &what);
            }
            if c == "eth_usd.price" {
                return info(3, "ETH/USD".into(), "USD", "ETH/USD");
            }
            if let Some((_, sold)) = n.pools.iter().find(|(p, _)| p == prefix) {
                let mut i = match metric {
                    "price" => info(
                        3,
                        format!("Pool {prefix} — price of {sold}"),
                        "ETH",
                        "price (probe, after fee)",
                    ),
                    "discount_5pct" => info(
                        3,
                        format!("Pool {prefix} — discount to sell 5 % of the {sold} side"),
                        "%",
                        "discount",
                    ),
                    "coin0" => info(3, format!("Pool {prefix} — balances"), "tokens", "coin 0"),
                    "coin1" => info(3, format!("Pool {prefix} — balances"), "tokens", "coin 1"),
                    "virtual_price" => info(
                        3,
                        format!("Pool {prefix} — LP virtual price"),
                        "ETH per LP",
                        "virtual price",
                    ),
                    _ => info(3, format!("Pool {prefix} — {metric}"), "", metric),
                };
                if metric == "price" {
                    i.threshold = Some((1.0, "peg (1.0)".into()));
                }
                return i;
            }
            if let Some(rest) = c.strip_prefix("aave.") {
                return match rest {
                    "min_hf" => ColumnInfo {
                        threshold: hf(),
                        ..info(3, "Aave v3 — lowest health factor".into(), "health factor", "lowest HF")
                    },
                    "liquidations" => info(3, "Aave v3 — liquidations (cumulative)".into(), "count", "liquidations"),
                    _ => {
                        let (reserve, m) = rest.rsplit_once('.').unwrap_or((rest, ""));
                        let label = match m {
                            "utilization_pct" => "utilisation",
                            "borrow_apy_pct" => "borrow APY",
                            "supply_apy_pct" => "supply APY",
                            x => x,
                        };
                        info(
                            3,
                            format!("Aave v3 — {reserve} reserve: utilisation and rates"),
                            "%",
                            label,
                        )
                    }
                };
            }
            if n.pendle.iter().any(|p| p == prefix) {
                let (title, unit, label) = match metric {
                    "implied_apy_pct" => ("implied APY", "%", "implied APY"),
                    "pt_price" => ("PT and YT prices", "SY", "PT"),
                    "yt_price" => ("PT and YT prices", "SY", "YT"),
                    "tvl" => ("TVL", "SY", "TVL"),
                    "lp_value" => ("LP token value", "SY per LP", "LP value"),
                    _ => (metric, "", metric),
                };
                return info(3, format!("Pendle {prefix} — {title}"), unit, label);
            }
            if let Some((_, loan, coll)) = n.morpho.iter().find(|(m, _, _)| m == prefix) {
                let t = |q: &str| format!("Morpho Blue {prefix} ({coll}/{loan}) — {q}");
                return match metric {
                    "supply" => info(3, t("supplied and borrowed"), loan, "supplied"),
                    "borrow" => info(3, t("supplied and borrowed"), loan, "borrowed"),
                    "utilization_pct" => info(3, t("utilisation"), "%", "utilisation"),
                    "borrow_apy_pct" => info(3, t("borrow rates"), "%", "borrow APY"),
                    "rate_at_target_pct" => info(3, t("borrow rates"), "%", "rate at target"),
                    "min_hf" => ColumnInfo {
                        threshold: hf(),
                        ..info(3, t("lowest health factor"), "health factor", "lowest HF")
                    },
                    "bad_debt" => info(3, t("bad debt (cumulative)"), loan, "bad debt"),
                    _ => info(3, t(metric), "", metric),
                };
            }
            if prefix == "liquidator" {
                return match metric {
                    "liquidations" => info(
                        3,
                        "Liquidator agent — liquidations (cumulative)".into(),
                        "count",
                        "liquidations",
                    ),
                    "profit_usd" => info(3, "Liquidator agent — profit (cumulative)".into(), "USD", "profit"),
                    _ => info(3, format!("Liquidator agent — {metric}"), "", metric),
                };
            }
            info(3, c.clone(), "", c)
        })
        .collect()
}

/// A column whose values are all zero or not numbers says nothing: left out.
fn empty(mut values: impl Iterator<Item = f64>) -> bool {
    values.all(|v| !v.is_finite() || v == 0.0)
}

fn num(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// The charts, grouped by section, as the JSON the page's script draws.
fn charts(infos: &[ColumnInfo], series: &dyn Fn(usize) -> Option<Value>) -> Vec<Vec<Value>> {
    let mut by_section: Vec<Vec<Value>> = vec![Vec::new(); SECTIONS.len()];
    // Charts in the order of their first column.
    let mut groups: Vec<(usize, &str, Vec<&ColumnInfo>)> = Vec::new();
    for i in infos {
        match groups.iter_mut().find(|(s, c, _)| *s == i.section && *c == i.chart) {
            Some((_, _, cols)) => cols.push(i),
            None => groups.push((i.section, &i.chart, vec![i])),
        }
    }
    for (section, title, cols) in groups {
        let s: Vec<Value> = cols
            .iter()
            .filter_map(|c| {
                series(c.index).map(|mut v| {
                    v["label"] = json!(c.label);
                    v
                })
            })
            .collect();
        if s.is_empty() {
            continue;
        }
        let thresholds: Vec<Value> = cols
            .iter()
            .filter_map(|c| c.threshold.as_ref().map(|(v, l)| json!({ "value": v, "label": l })))
            .collect();
        by_section[section].push(json!({
            "title": title,
            "unit": cols[0].unit,
            "series": s,
            "thresholds": thresholds,
        }));
    }
    by_section
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JSON inside a `<script>`: `</` cannot close the element.
fn script_json(v: &Value) -> String {
    v.to_string().replace("</", "<\\/")
}

/// The page around the data: header, tables, chart sections, the drawing script.
fn page(title: &str, subtitle: &str, tables: &str, data: &Value) -> String {
    let mut nav = String::new();
    for (k, s) in SECTIONS.iter().enumerate() {
        let _ = write!(nav, "<a href=\"#s{k}\">{}</a> ", esc(s));
    }
    format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>stakestack — {t}</title>
<style>{css}
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#1d2330}}
h1{{font-size:1.5em;margin-bottom:.2em}} h2{{font-size:1.2em;margin-top:2em;border-bottom:2px solid #dde3ea;padding-bottom:.2em}}
.sub{{color:#566;margin-top:0}} table{{border-collapse:collapse;font-size:.88em;margin:.6em 0}}
td,th{{border:1px solid #d5dbe2;padding:3px 8px;text-align:right}} th{{background:#f1f4f7}} td.l,th.l{{text-align:left}}
pre{{font-size:.8em;background:#f7f9fb;border:1px solid #e3e8ee;padding:.6em;overflow-x:auto}}
.chart{{margin:1.2em 0 1.6em}} .note{{color:#566;font-size:.85em}} nav a{{margin-right:1em}}
.events li{{font-size:.85em}}</style></head><body>
<h1>{t}</h1><p class="sub">{sub}</p><nav>{nav}<a href="#dist">Distributions</a></nav>
{tables}<div id="charts"></div>
<script>{js}</script>
<script id="data" type="application/json">{data}</script>
<script>{draw}</script></body></html>
"##,
        t = esc(title),
        sub = subtitle,
        css = UPLOT_CSS,
        js = UPLOT_JS,
        data = script_json(data),
        draw = DRAW,
    )
}

/// Draws every chart of the data blob with uPlot: time on x (UTC dates), one unit per y axis,
/// series colours, fan bands, dashed threshold lines, dotted event markers with their labels, and
/// histograms of figures across paths.
const DRAW: &str = r#"
(function () {
  const D = JSON.parse(document.getElementById('data').textContent);
  const root = document.getElementById('charts');
  const C = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  const fmt = v => {
    if (v == null) return '—';
    const a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toPrecision(5) + 'B';
    if (a >= 1e6) return +(v / 1e6).toPrecision(5) + 'M';
    if (a >= 1000) return v.toLocaleString('en-US', {maximumFractionDigits: 0});
    if (v !== 0 && a < 1e-3) return v.toExponential(2);
    return +v.toPrecision(6) + '';
  };
  const W = Math.min(960, root.clientWidth || 960);
  function marks(u, th) {
    const ctx = u.ctx; ctx.save();
    const top = u.bbox.top, h = u.bbox.height, left = u.bbox.left, w = u.bbox.width;
    (th || []).forEach(t => {
      const y = u.valToPos(t.value, 'y', true);
      if (y < top || y > top + h) return;
      ctx.strokeStyle = '#b00020'; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + w, y); ctx.stroke();
      ctx.setLineDash([]); ctx.fillStyle = '#b00020'; ctx.font = `${11 * devicePixelRatio}px system-ui`;
      ctx.fillText(t.label, left + 6, y - 4);
    });
    (D.events || []).forEach((e, k) => {
      const x = u.valToPos(e.t, 'x', true);
      if (x < left || x > left + w) return;
      ctx.strokeStyle = '#6a6a6a'; ctx.setLineDash([2, 3]); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
      ctx.setLineDash([]); ctx.fillStyle = '#444'; ctx.font = `${10 * devicePixelRatio}px system-ui`;
      ctx.fillText('E' + (k + 1), x + 3, top + 12 * devicePixelRatio);
    });
    ctx.restore();
  }
  function chart(where, c) {
    const div = document.createElement('div'); div.className = 'chart'; where.appendChild(div);
    const data = [D.t]; const series = [{label: 'date', value: (u, v) => v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)}];
    const bands = [];
    c.series.forEach((s, k) => {
      const col = C[k % C.length];
      if (s.p50) {
        data.push(s.p95, s.p50, s.p5);
        const n = data.length - 1;
        series.push({label: s.label + ' p95', stroke: col + '66', width: 1, value: (u, v) => fmt(v)});
        series.push({label: s.label + ' median', stroke: col, width: 2, value: (u, v) => fmt(v)});
        series.push({label: s.label + ' p5', stroke: col + '66', width: 1, value: (u, v) => fmt(v)});
        bands.push({series: [n - 2, n], fill: col + '22'});
      } else {
        data.push(s.values);
        series.push({label: s.label, stroke: col, width: 2, value: (u, v) => fmt(v)});
      }
    });
    const opts = {
      title: c.title, width: W, height: 300, series, bands,
      scales: {x: {time: true}},
      axes: [
        {label: 'date (UTC)', grid: {stroke: '#e6e9ee'}},
        {label: c.unit, size: 70, grid: {stroke: '#e6e9ee'}, values: (u, vs) => vs.map(fmt)},
      ],
      legend: {live: true},
      hooks: {draw: [u => marks(u, c.thresholds)]},
    };
    new uPlot(opts, data, div);
  }
  function histogram(where, h) {
    const div = document.createElement('div'); div.className = 'chart'; where.appendChild(div);
    const opts = {
      title: h.title, width: W, height: 240,
      scales: {x: {time: false}},
      series: [{label: h.axis, value: (u, v) => fmt(v)},
        {label: 'paths', stroke: '#1f77b4', fill: '#1f77b455', paths: uPlot.paths.bars({size: [0.95, 100]}), points: {show: false}}],
      axes: [{label: h.axis, grid: {stroke: '#e6e9ee'}, values: (u, vs) => vs.map(fmt)},
        {label: 'paths', grid: {stroke: '#e6e9ee'}}],
      legend: {live: true},
    };
    new uPlot(opts, [h.x, h.n], div);
  }
  D.sections.forEach((charts, k) => {
    if (!charts.length) return;
    const h = document.createElement('h2'); h.id = 's' + k; h.textContent = D.names[k]; root.appendChild(h);
    charts.forEach(c => chart(root, c));
  });
  if (D.events && D.events.length) {
    const ul = document.createElement('ul'); ul.className = 'events';
    D.events.forEach((e, k) => { const li = document.createElement('li');
      li.textContent = 'E' + (k + 1) + ' — ' + new Date(e.t * 1000).toISOString().slice(0, 10) + ': ' + e.label; ul.appendChild(li); });
    const p = document.createElement('p'); p.className = 'note'; p.textContent = 'Event markers (dotted lines on every chart):';
    root.insertBefore(ul, root.firstChild); root.insertBefore(p, ul);
  }
  if (D.histograms && D.histograms.length) {
    const h = document.createElement('h2'); h.id = 'dist'; h.textContent = 'Distributions across paths'; root.appendChild(h);
    D.histograms.forEach(x => histogram(root, x));
  }
})();
"#;

/// A histogram of `values` in at most 30 equal bins: (bin centres, counts).
pub(crate) fn bins(values: &[f64]) -> Option<(Vec<f64>, Vec<u64>)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(*x), b.max(*x)));
    if v.len() < 2 || hi <= lo {
        return None;
    }
    let k = (v.len() as f64).sqrt().ceil().clamp(5.0, 30.0);
    let w = (hi - lo) / k;
    // `k` is at most 30: the casts are exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let nb = k as usize;
    let mut n = vec![0u64; nb];
    for x in v {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let b = (((x - lo) / w) as usize).min(nb - 1);
        n[b] += 1;
    }
    Some(((0..nb).map(|b| lo + w * (b as f64 + 0.5)).collect(), n))
}

/// A count as read across paths (the median of counts can be a half).
fn fmt_count(v: f64) -> String {
    if v.is_finite() {
        format!("{}", (v * 2.0).round() / 2.0)
    } else {
        "—".into()
    }
}

fn events_json(events: &[(u64, String)]) -> Value {
    Value::Array(events.iter().map(|(t, l)| json!({ "t": t, "label": l })).collect())
}

/// The line under the title: span, steps (× paths), seed, state hash of one path, version.
fn subtitle(summary: &Value, multi: bool) -> String {
    let g = |k: &str| esc(&field(summary, k));
    if multi {
        format!(
            "{} → {}, {} steps × {} paths, seed {}, stakestack {}. Bands: p5–p95 across paths around the \
             median (streaming P² estimates beyond five paths).",
            g("start"),
            g("end"),
            g("steps"),
            g("paths"),
            g("seed"),
            g("version")
        )
    } else {
        format!(
            "{} → {}, {} steps, seed {}, state hash <code>{}</code>, stakestack {}",
            g("start"),
            g("end"),
            g("steps"),
            g("seed"),
            g("final_state_hash"),
            g("version")
        )
    }
}

/// The report of one path.
pub(crate) fn single(
    summary: &Value,
    columns: &[String],
    rows: &[StepRow],
    events: &[(u64, String)],
    tables: &str,
) -> String {
    let infos = classify(columns, summary);
    let sections = charts(&infos, &|c| {
        if empty(rows.iter().map(|r| r.values[c])) {
            return None;
        }
        Some(json!({ "values": rows.iter().map(|r| num(r.values[c])).collect::<Vec<_>>() }))
    });
    let data = json!({
        "t": rows.iter().map(|r| r.t).collect::<Vec<_>>(),
        "sections": sections,
        "names": SECTIONS,
        "events": events_json(events),
    });
    page(&field(summary, "scenario"), &subtitle(summary, false), tables, &data)
}

/// The report of many paths: fans per step column, distributions of the key figures.
pub(crate) fn multi(
    summary: &Value,
    columns: &[String],
    fan: &Fan,
    times: &[u64],
    events: &[(u64, String)],
    per_path: &BTreeMap<String, Vec<f64>>,
    tables: &str,
) -> String {
    let infos = classify(columns, summary);
    let sections = charts(&infos, &|c| {
        let s: Vec<Option<FanPoint>> = fan.series(c);
        if empty(s.iter().flatten().flat_map(|p| [p.min, p.max])) {
            return None;
        }
        let pick = |f: fn(&FanPoint) -> f64| {
            s.iter()
                .map(|p| p.as_ref().map_or(Value::Null, |p| num(f(p))))
                .collect::<Vec<_>>()
        };
        Some(json!({ "p5": pick(|p| p.p5), "p50": pick(|p| p.p50), "p95": pick(|p| p.p95) }))
    });
    let histograms: Vec<Value> = per_path
        .iter()
        .filter_map(|(label, v)| {
            let (x, n) = bins(v)?;
            Some(json!({ "title": format!("{label} — across {} paths", v.len()), "axis": label.rsplit('.').next().unwrap_or(""), "x": x, "n": n }))
        })
        .collect();
    let data = json!({
        "t": times,
        "sections": sections,
        "names": SECTIONS,
        "events": events_json(events),
        "histograms": histograms,
    });
    page(&field(summary, "scenario"), &subtitle(summary, true), tables, &data)
}

/// The tables above the charts: the key figures (with percentiles across paths), for one path the
/// LSTs, the restaking and markets tables, and the rejected transactions.
pub(crate) fn tables(summary: &Value, single: Option<&RunResult>) -> String {
    let mut o = String::new();
    let rows = key_metrics(summary);
    if !rows.is_empty() {
        o.push_str("<h2 id=\"figures\">Key figures</h2>");
        let multi = rows.iter().any(|(_, v)| is_percentiles(v));
        if multi {
            o.push_str("<table><tr><th class=\"l\">figure</th><th>p5</th><th>p50</th><th>p95</th><th>min</th><th>max</th><th>mean</th></tr>");
        } else {
            o.push_str("<table><tr><th class=\"l\">figure</th><th>value</th></tr>");
        }
        for (label, v) in &rows {
            let _ = write!(o, "<tr><td class=\"l\">{}</td>", esc(label));
            if is_percentiles(v) {
                for k in ["p5", "p50", "p95", "min", "max", "mean"] {
                    let _ = write!(
                        o,
                        "<td>{}</td>",
                        esc(&fmt_cell(num_of(v.get(k).unwrap_or(&Value::Null))))
                    );
                }
            } else if multi {
                let _ = write!(o, "<td colspan=\"6\">{}</td>", esc(&fmt_cell(num_of(v))));
            } else {
                let _ = write!(o, "<td>{}</td>", esc(&fmt_cell(num_of(v))));
            }
            o.push_str("</tr>");
        }
        o.push_str("</table>");
    }
    if let Some(r) = single {
        let s = &r.summary;
        if !s.lsts.is_empty() {
            o.push_str("<h2>Liquid staking tokens at the end</h2><table><tr><th class=\"l\">LST</th><th class=\"l\">model</th><th>rate (ETH)</th><th>APR %</th><th>TVL (ETH)</th><th>share %</th><th>queue (days)</th><th>validators</th></tr>");
            for l in &s.lsts {
                let _ = write!(
                    o,
                    "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.10}</td><td>{:.3}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr>",
                    esc(&l.symbol), esc(&l.model), l.rate, l.realised_apr_pct, l.tvl_eth, l.share_of_staked_pct, l.queue_days, l.validators
                );
            }
            o.push_str("</table>");
        }
        for t in &s.extra_text {
            let _ = write!(o, "<pre>{}</pre>", esc(t.trim_matches('\n')));
        }
        let _ = write!(
            o,
            "<p class=\"note\">{} transactions applied, {} rejected, {} scheduled events.</p>",
            s.transactions_applied,
            s.rejected.len(),
            s.events
        );
        if !s.rejected.is_empty() {
            o.push_str("<h2>Rejected transactions</h2><table><tr><th class=\"l\">date</th><th class=\"l\">sender</th><th class=\"l\">action</th><th class=\"l\">code</th><th class=\"l\">message</th></tr>");
            for rj in s.rejected.iter().take(50) {
                let _ = write!(
                    o,
                    "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
                    esc(&rj.date), esc(&rj.sender), esc(&rj.action), rj.code, esc(&rj.message)
                );
            }
            o.push_str("</table>");
            if s.rejected.len() > 50 {
                let _ = write!(
                    o,
                    "<p class=\"note\">… {} more in summary.json.</p>",
                    s.rejected.len() - 50
                );
            }
        }
    } else if let Some(by) = summary.pointer("/rejected/by_code").and_then(Value::as_object) {
        if !by.is_empty() {
            o.push_str("<h2>Rejected transactions across paths</h2><table><tr><th class=\"l\">code</th><th>median per path</th><th>min</th><th>max</th></tr>");
            for (code, n) in by {
                let f = |k: &str| fmt_count(num_of(n.get(k).unwrap_or(n)));
                let _ = write!(
                    o,
                    "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(code),
                    f("p50"),
                    f("min"),
                    f("max")
                );
            }
            o.push_str("</table>");
        }
    }
    o
}
