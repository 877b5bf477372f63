//! `stakestack bench`: the macro benchmark. The engine measures (`stake_engine::bench`); this
//! module supplies the clock and prints the figures side by side.

use anyhow::{anyhow, Result};
use stake_engine::bench::{self, Figure, Options};

/// Runs the benchmark and prints it. `quick`: small batches and sizes 10³–10⁴ (a smoke run).
pub(crate) fn run(quick: bool, sizes: Option<Vec<u64>>, scenario: &str) -> Result<i32> {
    // A benchmark measures wall time by definition; the engine itself never reads a clock.
    #[allow(clippy::disallowed_methods)]
    let origin = std::time::Instant::now();
    let clock = move || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let mut o = Options::default();
    if quick {
        o = Options {
            sizes: vec![1_000, 10_000],
            batch: 200,
            batches: 3,
            steps: 3,
        };
    }
    if let Some(s) = sizes {
        o.sizes = s;
    }
    outln!(
        "stakestack bench — {} build, {} logical CPU(s); medians of {} batches of {} operations, {} daily steps",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        o.batches,
        o.batch,
        o.steps
    );
    outln!();
    outln!(
        "{:<44} {:>8} {:>13} {:>13} {:>9} {:>14}",
        "operation",
        "accounts",
        "protocol ns",
        "engine ns",
        "engine/p",
        "engine ops/s"
    );
    outln!("{}", "-".repeat(106));
    for &n in &o.sizes {
        let figs = bench::operation_figures(&clock, &o, n).map_err(|e| anyhow!(e))?;
        for pair in figs.chunks(2) {
            if let [p, e] = pair {
                outln!(
                    "{:<44} {:>8} {:>13.0} {:>13.0} {:>8.1}× {:>14.0}",
                    p.what,
                    n,
                    p.ns,
                    e.ns,
                    e.ns / p.ns.max(1.0),
                    e.per_second()
                );
            }
        }
    }
    outln!();
    outln!("{:<44} {:>8} {:>13} {:>13}", "step", "positions", "ms", "steps/s");
    outln!("{}", "-".repeat(81));
    let mut steps: Vec<Figure> = Vec::new();
    for &n in &o.sizes {
        steps.extend(bench::step_figures(&clock, &o, n).map_err(|e| anyhow!(e))?);
    }
    for &n in &o.sizes {
        steps.extend(bench::aave_step_figures(&clock, &o, n).map_err(|e| anyhow!(e))?);
    }
    steps.push(bench::ethereum_step(&clock, &o, scenario).map_err(|e| anyhow!(e))?);
    for f in &steps {
        outln!(
            "{:<44} {:>8} {:>13.3} {:>13.0}",
            f.what,
            f.size,
            f.ns / 1e6,
            f.per_second()
        );
    }
    outln!();
    let (paths, per_path, ns) = trivial_drift(&clock, if quick { 1 } else { 3 })?;
    let total = paths * per_path;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    outln!(
        "trivial-drift ({per_path} steps × {paths} paths, {threads} thread(s)): {:.1} ms, {:.0} steps/s ({:.0} per thread)",
        ns / 1e6,
        total as f64 / (ns / 1e9),
        total as f64 / (ns / 1e9) / threads as f64
    );
    Ok(0)
}

/// The shipped `trivial-drift` scenario run as `stakestack run` runs it — every path, every
/// step's transaction, check and metric row kept — without writing outputs: `(paths, steps per
/// path, median wall ns over `runs` runs)`.
fn trivial_drift(clock: &dyn Fn() -> u64, runs: usize) -> Result<(u64, u64, f64)> {
    let text = include_str!("../../../scenarios/trivial-drift.toml");
    let prepared = stake_engine::runner::prepare(text, None).map_err(|e| anyhow!("trivial-drift: {e}"))?;
    let paths = prepared.paths();
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let mut rows = 0u64;
        let t0 = clock();
        stake_sim::run_paths(&prepared, 0, paths, &|_| {}, &mut |run: stake_sim::PathRun| {
            rows += run.result.rows.len() as u64;
            Ok::<(), anyhow::Error>(())
        })
        .map_err(|e| match e {
            stake_sim::RunPathsError::Path(p) => anyhow!("trivial-drift: {p}"),
            stake_sim::RunPathsError::Sink(e) => e,
        })?;
        times.push(clock().saturating_sub(t0) as f64);
        std::hint::black_box(rows);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    Ok((paths, prepared.total_steps(), median))
}
