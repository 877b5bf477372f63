//! `stakestack run`: one path or a Monte Carlo run, its output folder, its record in the store.

use crate::output::{self, CsvSteps};
use crate::parquet_steps::ParquetSteps;
use crate::report;
use crate::store::{self, RunRecord};
use crate::{read_data, read_scenario, report_scenario_error};
use anyhow::{Context, Result};
use serde_json::Value;
use stake_engine::runner::{Checks, RunError};
use stake_sim::{Fan, PathFailure, PathRun, RunPathsError, SummaryAggregate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Options `run` and `sweep` share: where outputs go, the seed, the display.
#[derive(clap::Args)]
pub(crate) struct CommonOpts {
    /// Write the outputs exactly into this folder (default: a new folder under
    /// out/<scenario name>/, with out/<scenario name>/latest pointing at it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The run store (SQLite) to record the run in (default: runs.sqlite in the output root —
    /// out/, or the folder that holds --out DIR).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl CommonOpts {
    /// The run store's file.
    pub(crate) fn store_file(&self) -> PathBuf {
        match (&self.store, &self.out) {
            (Some(f), _) => f.clone(),
            (None, Some(d)) => d.parent().unwrap_or_else(|| Path::new(".")).join(store::FILE_NAME),
            (None, None) => PathBuf::from(store::DEFAULT),
        }
    }

    /// A progress bar over `total` steps (hidden under `--quiet` or `--json`).
    pub(crate) fn progress_bar(&self, total: u64, unit: &str, name: &str) -> indicatif::ProgressBar {
        if self.quiet || self.json {
            return indicatif::ProgressBar::hidden();
        }
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{eta}})"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message(name.to_string());
        b
    }
}

/// The options of `stakestack run`.
#[derive(clap::Args)]
pub(crate) struct RunOpts {
    #[command(flatten)]
    pub common: CommonOpts,
    /// Monte Carlo paths (overrides the scenario's `clock.paths`).
    #[arg(long, value_name = "N")]
    pub paths: Option<u64>,
    /// Run only path I of the Monte Carlo run (0-based), as a failing path's message says.
    #[arg(long, value_name = "I", conflicts_with = "paths")]
    pub path: Option<u64>,
    /// Check every invariant in full (every account, every position) after every
    /// transaction, not only what the transaction touched.
    #[arg(long)]
    pub paranoid: bool,
    /// Steps between full invariant checks (0: only at the end of the run).
    #[arg(long, default_value_t = 30, value_name = "STEPS")]
    pub full_check_every: u64,
}

impl RunOpts {
    fn checks(&self) -> Checks {
        Checks {
            full_every: self.full_check_every,
            paranoid: self.paranoid,
        }
    }
}

/// Now, as Unix seconds and nanoseconds (the run's id and record; never the simulation's time).
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> (u64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(secs: u64) -> String {
    let day = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        stake_engine::time::format_date(secs),
        day / 3600,
        day / 60 % 60,
        day % 60
    )
}

/// A run id: the UTC start time, then four bytes of BLAKE3 over the time to the nanosecond, the
/// process and the scenario, so that two runs in the same second do not collide.
pub(crate) fn run_id(secs: u64, nanos: u32, scenario_hash: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&secs.to_le_bytes());
    h.update(&nanos.to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(scenario_hash.as_bytes());
    let tag = h.finalize().to_hex();
    let t = rfc3339(secs).replace(['-', ':'], "");
    format!("{}-{}", t.trim_end_matches('Z'), &tag[..8])
}

/// Creates `dir` and proves it writable, before any simulation time is spent.
pub(crate) fn writable(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output folder {}", dir.display()))?;
    let probe = dir.join(".stakestack-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("cannot write into the output folder {}", dir.display()))?;
    std::fs::remove_file(&probe).with_context(|| format!("cannot write into the output folder {}", dir.display()))?;
    Ok(())
}

/// Points `<parent>/latest` at the run folder `id` (a relative symbolic link; where links are not
/// available, a file holding the id).
pub(crate) fn point_latest(parent: &Path, id: &str) -> Result<()> {
    let link = parent.join("latest");
    if link.symlink_metadata().is_ok() {
        std::fs::remove_file(&link).with_context(|| format!("cannot replace {}", link.display()))?;
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(id, &link).with_context(|| format!("cannot create {}", link.display()))?;
    #[cfg(not(unix))]
    std::fs::write(&link, id).with_context(|| format!("cannot create {}", link.display()))?;
    Ok(())
}

/// Paths folded into one summary as they arrive: a single path kept whole (its table and report
/// need its rows), many paths folded into percentiles and fan bands.
pub(crate) struct Folded {
    multi: bool,
    agg: SummaryAggregate,
    fan: Fan,
    single: Option<PathRun>,
    /// The first path's step times (the x axis of the fans).
    times: Vec<u64>,
    /// Each key figure's value on every path, in path order (the report's distributions).
    per_path: BTreeMap<String, Vec<f64>>,
}

impl Folded {
    pub(crate) fn new(multi: bool) -> Self {
        Folded {
            multi,
            agg: SummaryAggregate::new(),
            fan: Fan::new(),
            single: None,
            times: Vec::new(),
            per_path: BTreeMap::new(),
        }
    }

    pub(crate) fn add(&mut self, p: PathRun) -> Result<()> {
        if self.multi {
            self.fan.add_path(&p.result.rows);
            if self.times.is_empty() {
                self.times = p.result.rows.iter().map(|r| r.t).collect();
            }
            let v = serde_json::to_value(&p.result.summary)?;
            for (label, x) in output::key_metrics(&v) {
                self.per_path.entry(label).or_default().push(output::num_of(&x));
            }
            self.agg.add(v, p.seed);
        } else {
            self.single = Some(p);
        }
        Ok(())
    }

    /// `summary.json`: one path's summary with `paths` and `state_hashes` (and, for a path run
    /// alone, `path` and `path_seed`), or the aggregate across paths.
    pub(crate) fn summary(&self, alone: bool) -> Result<Value> {
        match &self.single {
            None => Ok(self.agg.finish()),
            Some(p) => Ok(stake_sim::metrics::single_summary(p, alone)?),
        }
    }
}

/// The command that reruns one path alone.
pub(crate) fn repro(path: &Path, f: &PathFailure) -> String {
    format!(
        "stakestack run {} --seed {} --path {}",
        path.display(),
        f.scenario_seed,
        f.index
    )
}

/// Runs a scenario: `paths` (or `--path I` alone), writing into the output folder and the store.
pub(crate) fn run(path: &Path, o: &RunOpts) -> Result<i32> {
    let text = read_scenario(path)?;
    let data = read_data(path, &text)?;
    let mut prepared = match stake_engine::runner::prepare_with_data(&text, o.common.seed, &data) {
        Ok(p) => p,
        Err(e) => {
            report_scenario_error(path, &text, &e);
            return Ok(1);
        }
    };
    prepared.set_checks(o.checks());
    let (from, to) = match (o.path, o.paths) {
        (Some(i), _) => {
            if i >= stake_engine::setup::MAX_PATHS {
                eprintln!(
                    "error: --path {i}: paths are numbered 0 to {}",
                    stake_engine::setup::MAX_PATHS - 1
                );
                return Ok(1);
            }
            (i, i + 1)
        }
        (None, Some(n)) => {
            if let Err(m) = stake_engine::setup::check_paths(n) {
                eprintln!("error: --paths {n}: {m}");
                return Ok(1);
            }
            (0, n)
        }
        (None, None) => (0, prepared.paths()),
    };
    let multi = o.path.is_none() && to > 1;
    let name = prepared.name().to_string();
    let (t0, nanos) = now();
    let id = run_id(t0, nanos, prepared.scenario_hash());
    let out_dir = match &o.common.out {
        Some(d) => d.clone(),
        None => PathBuf::from("out").join(&name).join(&id),
    };
    if let Err(e) = writable(&out_dir) {
        eprintln!("error: {e:#}");
        return Ok(2);
    }
    let steps = prepared.total_steps();
    let total = (to - from).saturating_mul(steps);
    let unit = if multi {
        format!("steps over {} paths", to - from)
    } else {
        "steps".into()
    };
    let bar = o.common.progress_bar(total, &unit, &name);
    // The wall time of the run, for its record (the simulation never reads the clock).
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let columns = prepared.step_columns();
    let mut csv = CsvSteps::create(&out_dir.join("steps.csv"), &columns)?;
    let mut pq = ParquetSteps::create(&out_dir.join("steps.parquet"), &columns)?;
    let mut folded = Folded::new(multi);
    let outcome = stake_sim::run_paths(&prepared, from, to, &|n| bar.set_position(n), &mut |p| -> Result<()> {
        csv.add_path(p.index, &p.result.rows)?;
        pq.add_path(p.index, &p.result.rows)?;
        folded.add(p)
    });
    bar.finish_and_clear();
    match outcome {
        Ok(()) => {}
        Err(RunPathsError::Path(f)) => {
            eprintln!("error: {f}");
            eprintln!("  reproduce this path alone: {}", repro(path, &f));
            return Ok(match f.error {
                Some(RunError::Stalled(_)) => 2,
                _ => 3,
            });
        }
        Err(RunPathsError::Sink(e)) => {
            eprintln!("error: writing outputs to {}: {e:#}", out_dir.display());
            return Ok(2);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let written = (|| -> Result<(Value, String)> {
        csv.finish()?;
        pq.finish()?;
        let summary = folded.summary(o.path.is_some())?;
        let state_hash = summary["state_hashes"][0].as_str().unwrap_or("").to_string();
        let events = prepared.event_marks();
        let html = match &folded.single {
            Some(p) => report::single(
                &summary,
                &columns,
                &p.result.rows,
                &events,
                &report::tables(&summary, Some(&p.result)),
            ),
            None => report::multi(
                &summary,
                &columns,
                &folded.fan,
                &folded.times,
                &events,
                &folded.per_path,
                &report::tables(&summary, None),
            ),
        };
        std::fs::write(out_dir.join("report.html"), html)?;
        output::write_summary(&out_dir, &summary)?;
        if o.common.out.is_none() {
            if let Some(parent) = out_dir.parent() {
                point_latest(parent, &id)?;
            }
        }
        Ok((summary, state_hash))
    })();
    let (summary, state_hash) = match written {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: writing outputs to {}: {e:#}", out_dir.display());
            return Ok(2);
        }
    };
    let record = RunRecord {
        id: id.clone(),
        started: rfc3339(t0),
        scenario: name,
        scenario_hash: prepared.scenario_hash().to_string(),
        seed: prepared.seed(),
        version: env!("CARGO_PKG_VERSION").into(),
        paths: to - from,
        path: o.path,
        wall_seconds: wall,
        out_dir: out_dir.display().to_string(),
        state_hash,
        metrics: Value::Object(output::key_metrics(&summary).into_iter().collect()),
    };
    let store_file = o.common.store_file();
    if let Err(e) = store::record(&store_file, &record) {
        eprintln!("error: {e:#}");
        return Ok(2);
    }
    if o.common.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        match &folded.single {
            Some(p) => out!("{}", output::summary_table(&p.result)),
            None => out!("{}", output::percentile_table(&summary)),
        }
        outln!(
            "outputs: {}/{{summary.json, steps.csv, steps.parquet, report.html}}  (run {id}, {wall:.2} s)",
            out_dir.display()
        );
    }
    Ok(0)
}
