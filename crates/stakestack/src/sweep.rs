//! `stakestack sweep`: the cartesian grid of scenario parameter values, each point run with its own
//! paths, one row of key figures per point.

use crate::output;
use crate::run::{now, point_latest, repro, rfc3339, run_id, writable, CommonOpts, Folded};
use crate::store::{self, RunRecord};
use crate::{read_data, read_scenario};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use stake_engine::runner::RunError;
use stake_sim::grid::{grid, parse_set, set, Chained};
use stake_sim::RunPathsError;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A point's row: its parameter values and its key figures.
type Row = (Vec<String>, Vec<(String, Value)>);

/// Most points one sweep runs.
const MAX_POINTS: usize = 10_000;

/// Figures shown in the console table (the rest are in `sweep.csv`).
const SHOWN: usize = 6;

/// The options of `stakestack sweep`.
#[derive(clap::Args)]
pub(crate) struct SweepOpts {
    /// A parameter and its values: `KEY=V1,V2,…`, KEY a path into the scenario such as
    /// `lending.morpho[0].lltv` or `events[2].fraction`. Repeat for a grid.
    #[arg(long = "set", value_name = "KEY=V1,V2,…", required = true)]
    pub sets: Vec<String>,
    /// Monte Carlo paths per point (overrides the scenario's `clock.paths`).
    #[arg(long, value_name = "N")]
    pub paths: Option<u64>,
    /// Every point runs with the same seed (common random numbers).
    #[command(flatten)]
    pub common: CommonOpts,
}

/// A figure's value in a row: the value of a one-path run, or the p5/p50/p95 of many.
fn cells(v: &Value, multi: bool) -> Vec<Value> {
    if multi {
        ["p5", "p50", "p95"]
            .iter()
            .map(|k| v.get(*k).cloned().unwrap_or(Value::Null))
            .collect()
    } else {
        vec![v.clone()]
    }
}

/// Runs the sweep.
pub(crate) fn sweep(path: &Path, o: &SweepOpts) -> Result<i32> {
    let text = read_scenario(path)?;
    let data = read_data(path, &text)?;
    let sets = match o
        .sets
        .iter()
        .map(|s| parse_set(s).map_err(Chained::from))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(1);
        }
    };
    let points = grid(&sets);
    if points.len() > MAX_POINTS {
        eprintln!("error: the grid has {} points (max {MAX_POINTS})", points.len());
        return Ok(1);
    }
    let base: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return Ok(1);
        }
    };
    // Build every point before running any: a bad value fails the sweep at once.
    let mut prepared = Vec::new();
    let mut texts = Vec::new();
    for (k, p) in points.iter().enumerate() {
        let mut doc = base.clone();
        let label = sets
            .iter()
            .zip(p)
            .map(|((key, _), v)| format!("{key}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        for ((key, _), v) in sets.iter().zip(p) {
            if let Err(e) = set(&mut doc, key, v) {
                eprintln!("error: --set {:#}", anyhow::Error::new(Chained::from(e)));
                return Ok(1);
            }
        }
        let t = toml::to_string(&doc).context("writing a point's scenario")?;
        let t = format!("# Point {k} of a sweep of {}: {label}\n{t}", path.display());
        match stake_engine::runner::prepare_with_data(&t, o.common.seed, &data) {
            Ok(pr) => {
                prepared.push(pr);
                texts.push(t);
            }
            Err(e) => {
                eprintln!("error: point {k} ({label}): {e}");
                if !e.path.is_empty() {
                    eprintln!("  key: {}", e.path);
                }
                return Ok(1);
            }
        }
    }
    let paths = match o.paths {
        Some(n) => {
            if let Err(m) = stake_engine::setup::check_paths(n) {
                eprintln!("error: --paths {n}: {m}");
                return Ok(1);
            }
            n
        }
        None => prepared.first().map_or(1, stake_engine::runner::Prepared::paths),
    };
    let multi = paths > 1;
    let name = prepared.first().map(|p| p.name().to_string()).unwrap_or_default();
    let (t0, nanos) = now();
    let id = run_id(t0, nanos, prepared.first().map_or("", |p| p.scenario_hash()));
    let sweep_id = format!("sweep-{id}");
    let out_dir = match &o.common.out {
        Some(d) => d.clone(),
        None => PathBuf::from("out").join(&name).join(&sweep_id),
    };
    if let Err(e) = writable(&out_dir) {
        eprintln!("error: {e:#}");
        return Ok(2);
    }
    // Each point's scenario beside its summary: the file a failing point is rerun from.
    for (k, t) in texts.iter().enumerate() {
        let d = out_dir.join("points").join(k.to_string());
        if let Err(e) = std::fs::create_dir_all(&d).and_then(|()| std::fs::write(d.join("scenario.toml"), t)) {
            eprintln!("error: writing outputs to {}: {e}", d.display());
            return Ok(2);
        }
    }
    let store_file = o.common.store_file();
    let steps = prepared.first().map_or(0, stake_engine::runner::Prepared::total_steps);
    let total = (points.len() as u64).saturating_mul(paths).saturating_mul(steps);
    let bar = o.common.progress_bar(
        total,
        &format!("steps over {} points × {paths} paths", points.len()),
        &name,
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut done_before = 0u64;
    for (k, (pr, p)) in prepared.iter().zip(&points).enumerate() {
        #[allow(clippy::disallowed_methods)]
        let started = std::time::Instant::now();
        let mut folded = Folded::new(multi);
        let base_done = done_before;
        let r = stake_sim::run_paths(pr, 0, paths, &|n| bar.set_position(base_done + n), &mut |x| {
            folded.add(x)
        });
        done_before += paths.saturating_mul(steps);
        match r {
            Ok(()) => {}
            Err(RunPathsError::Path(f)) => {
                bar.finish_and_clear();
                eprintln!("error: point {k}: {f}");
                let scn = out_dir.join("points").join(k.to_string()).join("scenario.toml");
                eprintln!("  reproduce this path alone: {}", repro(&scn, &f));
                return Ok(match f.error {
                    Some(RunError::Stalled(_)) => 2,
                    _ => 3,
                });
            }
            Err(RunPathsError::Sink(e)) => {
                bar.finish_and_clear();
                eprintln!("error: point {k}: {e:#}");
                return Ok(2);
            }
        }
        let summary = folded.summary(false)?;
        let point_dir = out_dir.join("points").join(k.to_string());
        let metrics = output::key_metrics(&summary);
        let record = (|| -> Result<()> {
            std::fs::create_dir_all(&point_dir)?;
            let mut s = summary.clone();
            if let Some(m) = s.as_object_mut() {
                let set: serde_json::Map<String, Value> = sets
                    .iter()
                    .zip(p)
                    .map(|((key, _), v)| (key.clone(), json!(v)))
                    .collect();
                m.insert("sweep_point".into(), json!({ "index": k, "set": set }));
            }
            output::write_summary(&point_dir, &s)?;
            store::record(
                &store_file,
                &RunRecord {
                    id: format!("{sweep_id}-p{k}"),
                    started: rfc3339(t0),
                    scenario: name.clone(),
                    scenario_hash: pr.scenario_hash().to_string(),
                    seed: pr.seed(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    paths,
                    path: None,
                    wall_seconds: started.elapsed().as_secs_f64(),
                    out_dir: point_dir.display().to_string(),
                    state_hash: summary["state_hashes"][0].as_str().unwrap_or("").to_string(),
                    metrics: Value::Object(metrics.iter().cloned().collect()),
                },
            )
        })();
        if let Err(e) = record {
            bar.finish_and_clear();
            eprintln!("error: writing outputs to {}: {e:#}", point_dir.display());
            return Ok(2);
        }
        rows.push((p.clone(), metrics));
    }
    bar.finish_and_clear();
    // Columns: the parameters, then every key figure of any point (in first-seen order).
    let mut figures: Vec<String> = Vec::new();
    for (_, m) in &rows {
        for (l, _) in m {
            if !figures.contains(l) {
                figures.push(l.clone());
            }
        }
    }
    let written = (|| -> Result<Value> {
        let mut w = csv::Writer::from_path(out_dir.join("sweep.csv"))?;
        let mut header = vec!["point".to_string()];
        header.extend(sets.iter().map(|(k, _)| k.clone()));
        for f in &figures {
            if multi {
                header.extend(["p5", "p50", "p95"].iter().map(|q| format!("{f}.{q}")));
            } else {
                header.push(f.clone());
            }
        }
        w.write_record(&header)?;
        let mut json_rows = Vec::new();
        for (k, (p, m)) in rows.iter().enumerate() {
            let mut rec = vec![k.to_string()];
            rec.extend(p.iter().cloned());
            let mut obj = serde_json::Map::new();
            for f in &figures {
                let v = m
                    .iter()
                    .find(|(l, _)| l == f)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null);
                for c in cells(&v, multi) {
                    rec.push(match &c {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        x => x.to_string(),
                    });
                }
                obj.insert(f.clone(), v);
            }
            w.write_record(&rec)?;
            let set: serde_json::Map<String, Value> = sets
                .iter()
                .zip(p)
                .map(|((key, _), v)| (key.clone(), json!(v)))
                .collect();
            json_rows.push(json!({ "point": k, "set": set, "figures": obj }));
        }
        w.flush()?;
        let doc = json!({
            "scenario": name,
            "seed": prepared.first().map(stake_engine::runner::Prepared::seed),
            "paths": paths,
            "parameters": sets.iter().map(|(k, v)| json!({ "key": k, "values": v })).collect::<Vec<_>>(),
            "points": json_rows,
        });
        std::fs::write(out_dir.join("sweep.json"), serde_json::to_string_pretty(&doc)? + "\n")?;
        if o.common.out.is_none() {
            if let Some(parent) = out_dir.parent() {
                point_latest(parent, &sweep_id)?;
            }
        }
        Ok(doc)
    })();
    let doc = match written {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: writing outputs to {}: {e:#}", out_dir.display());
            return Ok(2);
        }
    };
    if o.common.json {
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(0);
    }
    out!("{}", table(&name, &sets, &rows, &figures, paths));
    outln!(
        "outputs: {}/{{sweep.csv, sweep.json, points/<k>/{{scenario.toml, summary.json}}}}  ({sweep_id})",
        out_dir.display()
    );
    Ok(0)
}

fn median(v: &Value) -> f64 {
    let x = v.get("p50").unwrap_or(v);
    match x {
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        _ => x.as_f64().unwrap_or(f64::NAN),
    }
}

/// The console table: the parameters and the figures whose (median) value differs between points
/// — what the grid moved — at most [`SHOWN`] of them.
fn table(name: &str, sets: &[(String, Vec<String>)], rows: &[Row], figures: &[String], paths: u64) -> String {
    let value = |m: &[(String, Value)], f: &str| m.iter().find(|(l, _)| l == f).map_or(f64::NAN, |(_, v)| median(v));
    // The figures that moved, the most moved first (spread relative to the mean magnitude).
    let mut moved: Vec<(f64, &String)> = figures
        .iter()
        .filter_map(|f| {
            let vals: Vec<f64> = rows
                .iter()
                .map(|(_, m)| value(m, f))
                .filter(|v| v.is_finite())
                .collect();
            let (lo, hi) = vals
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
            let scale = vals.iter().map(|v| v.abs()).sum::<f64>() / vals.len().max(1) as f64;
            (hi > lo).then(|| ((hi - lo) / if scale > 0.0 { scale } else { 1.0 }, f))
        })
        .collect();
    moved.sort_by(|a, b| b.0.total_cmp(&a.0));
    let moved: Vec<&String> = moved.into_iter().map(|(_, f)| f).collect();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n{name} — sweep of {} points × {paths} path(s){}",
        rows.len(),
        if paths > 1 {
            " (figures: medians across paths)"
        } else {
            ""
        }
    );
    let mut header: Vec<String> = sets.iter().map(|(k, _)| k.clone()).collect();
    header.extend(moved.iter().take(SHOWN).map(|f| (*f).clone()));
    let widths: Vec<usize> = header.iter().map(|h| h.chars().count().max(10)).collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(o, "{}", line(&header));
    for (p, m) in rows {
        let mut cells = p.clone();
        cells.extend(moved.iter().take(SHOWN).map(|f| {
            let v = value(m, f);
            if v.is_finite() {
                format!("{v:.6}")
            } else {
                "—".into()
            }
        }));
        let _ = writeln!(o, "{}", line(&cells));
    }
    if moved.is_empty() {
        let _ = writeln!(o, "(no key figure differs between the points)");
    } else if moved.len() > SHOWN {
        let _ = writeln!(o, "… {} more figures moved; all are in sweep.csv", moved.len() - SHOWN);
    }
    o
}
