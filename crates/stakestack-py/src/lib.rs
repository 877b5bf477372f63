//! `stakestack._native`: the engine behind the Python package `stakestack`.
//!
//! The Python layer (`python/stakestack`) reads files, builds DataFrames and talks to Ray; this
//! module runs the engine exactly as the command line does — the same `runner::prepare_with_data`,
//! `stake_sim::run_paths` on rayon, `stake_sim::grid` for overrides and sweep points and
//! `stake_sim::metrics` for a sweep's figures — with the GIL released while it runs. Results cross
//! as JSON text (parsed by Python's `json`, so integers stay exact) and per-column little-endian
//! buffers (wrapped by pyarrow without a copy). Errors become the exception classes of
//! `stakestack._errors`, carrying the code, message and, for scenarios, the line and key.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::{json, Value};
use stake_engine::report::StepRow;
use stake_engine::runner::{Checks, Prepared, RunError};
use stake_engine::scenario::ScenarioError;
use stake_sim::{PathFailure, PathRun, RunPathsError, SummaryAggregate};
use std::collections::BTreeMap;
use std::path::Path;

/// Exit code (and exception code) of bad input, as the command line's.
const BAD_INPUT: u32 = 1;
/// Exit code of a run that stopped (time could not advance).
const RUN_FAILED: u32 = 2;
/// Exit code of a run that broke an invariant.
const INVARIANT: u32 = 3;

/// A failure on its way to Python: which exception class of `stakestack._errors`, and its
/// keyword arguments.
struct Failure {
    class: &'static str,
    fields: Value,
}

impl Failure {
    fn input(message: String, key: Option<&str>, line: Option<usize>, file: Option<&str>) -> Self {
        Failure {
            class: "ScenarioError",
            fields: json!({ "code": BAD_INPUT, "message": message, "key": key, "line": line, "file": file }),
        }
    }

    fn grid(message: String, key: &str) -> Self {
        Failure {
            class: "GridError",
            fields: json!({ "code": BAD_INPUT, "message": message, "key": key }),
        }
    }

    fn scenario(e: &ScenarioError, text: &str, file: Option<&str>, point: Option<&str>) -> Self {
        let line = e.line.or_else(|| stake_engine::scenario::locate(text, &e.path));
        let message = match point {
            Some(p) => format!("{p}: {}", e.message),
            None => e.message.clone(),
        };
        Failure {
            class: "ScenarioError",
            fields: json!({
                "code": BAD_INPUT,
                "message": message,
                "key": (!e.path.is_empty()).then_some(e.path.as_str()),
                "line": line,
                "column": e.column,
                "file": file,
            }),
        }
    }

    fn path(f: &PathFailure, point: Option<usize>) -> Self {
        let (class, code) = match f.error {
            Some(RunError::Stalled(_)) => ("RunError", RUN_FAILED),
            _ => ("InvariantError", INVARIANT),
        };
        let message = match point {
            Some(k) => format!("point {k}: {f}"),
            None => f.to_string(),
        };
        Failure {
            class,
            fields: json!({
                "code": code, "message": message, "path": f.index, "seed": f.seed,
                "scenario_seed": f.scenario_seed, "point": point,
            }),
        }
    }

    fn internal(message: String) -> Self {
        Failure {
            class: "StakestackError",
            fields: json!({ "code": RUN_FAILED, "message": message }),
        }
    }

    fn into_py(self, py: Python<'_>) -> PyErr {
        let made = (|| -> PyResult<PyErr> {
            let class = py.import("stakestack._errors")?.getattr(self.class)?;
            let kwargs = py.import("json")?.call_method1("loads", (self.fields.to_string(),))?;
            let obj = class.call((), Some(&kwargs.cast_into()?))?;
            Ok(PyErr::from_value(obj))
        })();
        made.unwrap_or_else(|e| e)
    }
}

type Res<T> = Result<T, Failure>;

/// Reads the data files a scenario names, next to its file (or the working directory).
fn read_data(text: &str, file: Option<&str>) -> Res<BTreeMap<String, String>> {
    let dir = file
        .and_then(|f| Path::new(f).parent())
        .unwrap_or_else(|| Path::new("."));
    let mut data = BTreeMap::new();
    for f in stake_engine::runner::data_files(text) {
        let p = dir.join(&f);
        let body = std::fs::read_to_string(&p)
            .map_err(|e| Failure::input(format!("cannot read data file {} ({e})", p.display()), None, None, file))?;
        data.insert(f, body);
    }
    Ok(data)
}

/// The scenario text with `overrides` applied (dotted keys, as `stakestack sweep --set`).
fn with_overrides(text: &str, file: Option<&str>, overrides: &[(String, String)]) -> Res<String> {
    if overrides.is_empty() {
        return Ok(text.to_string());
    }
    let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Failure::input(
            e.message().to_string(),
            None,
            e.span().map(|s| line_of(text, s.start)),
            file,
        )
    })?;
    for (k, v) in overrides {
        stake_sim::grid::set(&mut doc, k, v).map_err(|e| Failure::grid(format!("{e:#}"), k))?;
    }
    toml::to_string(&doc).map_err(|e| Failure::internal(format!("writing the scenario: {e}")))
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(1, |s| s.matches('\n').count() + 1)
}

/// Parses and builds: errors located in the text as written (before any override).
fn prepare(
    text: &str,
    file: Option<&str>,
    seed: Option<u64>,
    overrides: &[(String, String)],
    checks: Checks,
) -> Res<Prepared> {
    let data = read_data(text, file)?;
    let t = with_overrides(text, file, overrides)?;
    let mut p = stake_engine::runner::prepare_with_data(&t, seed, &data).map_err(|e| {
        // A line in the rewritten text means nothing to the caller: locate the key in theirs.
        let e = if overrides.is_empty() {
            e
        } else {
            ScenarioError {
                line: None,
                column: None,
                ..e
            }
        };
        Failure::scenario(&e, text, file, None)
    })?;
    p.set_checks(checks);
    Ok(p)
}

fn check_paths(n: u64) -> Res<u64> {
    stake_engine::setup::check_paths(n)
        .map(|()| n)
        .map_err(|m| Failure::input(format!("paths = {n}: {m}"), Some("paths"), None, None))
}

/// Runs paths `from..to`, handing each to `sink` in path order.
fn run_range(
    p: &Prepared,
    from: u64,
    to: u64,
    sink: &mut dyn FnMut(PathRun) -> Res<()>,
    point: Option<usize>,
) -> Res<()> {
    stake_sim::run_paths(p, from, to, &|_| {}, sink).map_err(|e| match e {
        RunPathsError::Path(f) => Failure::path(&f, point),
        RunPathsError::Sink(f) => f,
    })
}

/// The steps of every path as columns: path, step, t (i64), date (text), then one f64 column per
/// metric.
#[derive(Default)]
struct Columns {
    path: Vec<u8>,
    step: Vec<u8>,
    t: Vec<u8>,
    date: Vec<String>,
    values: Vec<Vec<u8>>,
    rows: usize,
}

impl Columns {
    fn add(&mut self, index: u64, rows: &[StepRow]) -> Res<()> {
        let int = |x: u64| i64::try_from(x).map_err(|_| Failure::internal(format!("{x} does not fit in int64")));
        for (k, r) in rows.iter().enumerate() {
            self.path.extend_from_slice(&int(index)?.to_le_bytes());
            self.step
                .extend_from_slice(&int(u64::try_from(k).unwrap_or(u64::MAX))?.to_le_bytes());
            self.t.extend_from_slice(&int(r.t)?.to_le_bytes());
            self.date.push(r.date.clone());
            if self.values.len() < r.values.len() {
                self.values.resize(r.values.len(), Vec::new());
            }
            for (c, v) in self.values.iter_mut().zip(&r.values) {
                c.extend_from_slice(&v.to_le_bytes());
            }
            self.rows += 1;
        }
        Ok(())
    }
}

/// What `run` hands to Python.
struct RunOut {
    summary: String,
    columns: Vec<String>,
    steps: Columns,
}

fn run_impl(
    text: &str,
    file: Option<&str>,
    seed: Option<u64>,
    paths: Option<u64>,
    path: Option<u64>,
    overrides: &[(String, String)],
    checks: Checks,
) -> Res<RunOut> {
    let p = prepare(text, file, seed, overrides, checks)?;
    let (from, to) = match (path, paths) {
        (Some(i), _) if i >= stake_engine::setup::MAX_PATHS => {
            return Err(Failure::input(
                format!(
                    "path {i}: paths are numbered 0 to {}",
                    stake_engine::setup::MAX_PATHS - 1
                ),
                Some("path"),
                None,
                file,
            ))
        }
        (Some(i), _) => (i, i + 1),
        (None, Some(n)) => (0, check_paths(n)?),
        (None, None) => (0, p.paths()),
    };
    let multi = path.is_none() && to > 1;
    let mut steps = Columns::default();
    let mut agg = SummaryAggregate::new();
    let mut single = None;
    run_range(
        &p,
        from,
        to,
        &mut |r| {
            steps.add(r.index, &r.result.rows)?;
            if multi {
                let v = serde_json::to_value(&r.result.summary).map_err(|e| Failure::internal(e.to_string()))?;
                agg.add(v, r.seed);
            } else {
                single = Some(r);
            }
            Ok(())
        },
        None,
    )?;
    let summary = match single {
        Some(r) => {
            stake_sim::metrics::single_summary(&r, path.is_some()).map_err(|e| Failure::internal(e.to_string()))?
        }
        None => agg.finish(),
    };
    Ok(RunOut {
        summary: summary.to_string(),
        columns: p.step_columns(),
        steps,
    })
}

/// Runs a scenario. Returns `(summary_json, columns, rows, path, step, t, dates, values)`: the
/// summary as `summary.json` holds it, the metric column names, the number of step rows, the
/// int64 columns and the float64 metric columns as little-endian bytes, the dates as text.
#[pyfunction]
#[pyo3(signature = (text, file=None, seed=None, paths=None, path=None, overrides=Vec::new(), full_check_every=30, paranoid=false))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn run<'py>(
    py: Python<'py>,
    text: String,
    file: Option<String>,
    seed: Option<u64>,
    paths: Option<u64>,
    path: Option<u64>,
    overrides: Vec<(String, String)>,
    full_check_every: u64,
    paranoid: bool,
) -> PyResult<(
    String,
    Vec<String>,
    usize,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Vec<String>,
    Vec<Bound<'py, PyBytes>>,
)> {
    let checks = Checks {
        full_every: full_check_every,
        paranoid,
    };
    let out = py
        .detach(|| run_impl(&text, file.as_deref(), seed, paths, path, &overrides, checks))
        .map_err(|f| f.into_py(py))?;
    let s = out.steps;
    let values = s.values.iter().map(|b| PyBytes::new(py, b)).collect();
    Ok((
        out.summary,
        out.columns,
        s.rows,
        PyBytes::new(py, &s.path),
        PyBytes::new(py, &s.step),
        PyBytes::new(py, &s.t),
        s.date,
        values,
    ))
}

/// Validates a scenario as `stakestack check` does; returns its one-line description.
#[pyfunction]
#[pyo3(signature = (text, file=None, overrides=Vec::new()))]
fn check(py: Python<'_>, text: String, file: Option<String>, overrides: Vec<(String, String)>) -> PyResult<String> {
    py.detach(|| -> Res<String> {
        let data = read_data(&text, file.as_deref())?;
        let t = with_overrides(&text, file.as_deref(), &overrides)?;
        stake_engine::runner::validate_with_data(&t, &data).map_err(|e| {
            let e = if overrides.is_empty() {
                e
            } else {
                ScenarioError {
                    line: None,
                    column: None,
                    ..e
                }
            };
            Failure::scenario(&e, &text, file.as_deref(), None)
        })
    })
    .map_err(|f| f.into_py(py))
}

/// Evaluates one calc request (the engine's functions and the risk functions, as `stakestack
/// calc`): `args_json` is the JSON object of arguments; returns the answer's JSON object.
#[pyfunction]
fn calc(py: Python<'_>, name: String, args_json: String) -> PyResult<String> {
    let answer = py.detach(|| {
        let args: Value = serde_json::from_str(&args_json).unwrap_or(Value::Null);
        let line = json!({ "fn": name, "args": args }).to_string();
        stake_engine::calc::answer_with(&line, &stake_risk::calc::functions())
    });
    if let Some(ok) = answer.get("ok") {
        return Ok(ok.to_string());
    }
    let err = &answer["err"];
    Err(Failure {
        class: "CalcError",
        fields: json!({ "code": err["code"], "message": err["message"], "function": name }),
    }
    .into_py(py))
}

/// Every calc function: `(name, signature)`.
#[pyfunction]
fn calc_functions() -> Vec<(String, String)> {
    stake_engine::calc::functions()
        .into_iter()
        .chain(stake_risk::calc::functions())
        .map(|(n, s, _)| (n.to_string(), s.to_string()))
        .collect()
}

/// Builds every point of a grid (a bad key, value or point fails before any runs).
fn sweep_prepare(
    text: &str,
    file: Option<&str>,
    keys: &[String],
    points: &[(usize, Vec<String>)],
    seed: Option<u64>,
) -> Res<Vec<Prepared>> {
    let data = read_data(text, file)?;
    let base: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Failure::input(
            e.message().to_string(),
            None,
            e.span().map(|s| line_of(text, s.start)),
            file,
        )
    })?;
    let origin = file.unwrap_or("a scenario text");
    points
        .iter()
        .map(|(k, values)| {
            let t = stake_sim::grid::point_text(&base, keys, values, *k, origin).map_err(|e| {
                let key = keys
                    .iter()
                    .find(|key| e.message.contains(&format!("`{key}`")))
                    .map_or("", String::as_str);
                Failure::grid(format!("{e:#}"), key)
            })?;
            let label = stake_sim::grid::label(keys, values);
            stake_engine::runner::prepare_with_data(&t, seed, &data).map_err(|e| {
                let e = ScenarioError {
                    line: None,
                    column: None,
                    ..e
                };
                Failure::scenario(&e, text, file, Some(&format!("point {k} ({label})")))
            })
        })
        .collect()
}

/// One point's row: its figures (as a sweep's `sweep.json` holds them), its state hash (the
/// path's, or BLAKE3 over the per-path hashes joined by newlines) and every path's hash.
fn point_row(p: &Prepared, k: usize, values: &[String], paths: u64) -> Res<Value> {
    let multi = paths > 1;
    let mut agg = SummaryAggregate::new();
    let mut single = None;
    let mut hashes = Vec::new();
    run_range(
        p,
        0,
        paths,
        &mut |r| {
            hashes.push(r.result.summary.final_state_hash.clone());
            if multi {
                let v = serde_json::to_value(&r.result.summary).map_err(|e| Failure::internal(e.to_string()))?;
                agg.add(v, r.seed);
            } else {
                single = Some(r);
            }
            Ok(())
        },
        Some(k),
    )?;
    let summary = match single {
        Some(r) => stake_sim::metrics::single_summary(&r, false).map_err(|e| Failure::internal(e.to_string()))?,
        None => agg.finish(),
    };
    let figures: serde_json::Map<String, Value> = stake_sim::metrics::key_metrics(&summary).into_iter().collect();
    let state_hash = match hashes.as_slice() {
        [one] => one.clone(),
        many => blake3::hash(many.join("\n").as_bytes()).to_hex().to_string(),
    };
    Ok(json!({
        "point": k,
        "values": values,
        "paths": paths,
        "seed": p.seed(),
        "figures": figures,
        "state_hash": state_hash,
        "state_hashes": hashes,
    }))
}

/// Checks a sweep: every point builds. Returns the number of points.
#[pyfunction]
#[pyo3(signature = (text, keys, points, file=None, seed=None, paths=None))]
fn sweep_check(
    py: Python<'_>,
    text: String,
    keys: Vec<String>,
    points: Vec<(usize, Vec<String>)>,
    file: Option<String>,
    seed: Option<u64>,
    paths: Option<u64>,
) -> PyResult<usize> {
    py.detach(|| -> Res<usize> {
        if let Some(n) = paths {
            check_paths(n)?;
        }
        Ok(sweep_prepare(&text, file.as_deref(), &keys, &points, seed)?.len())
    })
    .map_err(|f| f.into_py(py))
}

/// Runs the given points of a sweep, each with `paths` paths (default: the scenario's) on the
/// engine's rayon pool, one after another; returns one JSON row per point, in order.
#[pyfunction]
#[pyo3(signature = (text, keys, points, file=None, seed=None, paths=None))]
fn sweep(
    py: Python<'_>,
    text: String,
    keys: Vec<String>,
    points: Vec<(usize, Vec<String>)>,
    file: Option<String>,
    seed: Option<u64>,
    paths: Option<u64>,
) -> PyResult<Vec<String>> {
    py.detach(|| -> Res<Vec<String>> {
        if let Some(n) = paths {
            check_paths(n)?;
        }
        let prepared = sweep_prepare(&text, file.as_deref(), &keys, &points, seed)?;
        prepared
            .iter()
            .zip(&points)
            .map(|(p, (k, values))| {
                let n = paths.unwrap_or_else(|| p.paths());
                point_row(p, *k, values, n).map(|v| v.to_string())
            })
            .collect()
    })
    .map_err(|f| f.into_py(py))
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(calc, m)?)?;
    m.add_function(wrap_pyfunction!(calc_functions, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_check, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
