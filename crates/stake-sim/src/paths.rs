//! Running paths: seeds, parallelism, failures.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use stake_engine::report::RunResult;
use stake_engine::runner::{Prepared, RunError};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};

/// The seed of path `index` of a run seeded with `seed`: path 0 uses the scenario's seed as it
/// is (a one-path run and path 0 of a thousand are the same run); path `i > 0` takes the first
/// word of ChaCha20 keyed by `seed`, stream `i`. Independent of the thread count and of which
/// other paths run.
pub fn path_seed(seed: u64, index: u64) -> u64 {
    if index == 0 {
        return seed;
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng.next_u64()
}

/// One finished path.
#[derive(Clone, Debug)]
pub struct PathRun {
    /// Path index (0-based).
    pub index: u64,
    /// The seed its random processes ran with ([`path_seed`]).
    pub seed: u64,
    /// What it produced.
    pub result: RunResult,
}

/// A path that could not finish: it stalled, broke an invariant or panicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathFailure {
    /// Path index (0-based).
    pub index: u64,
    /// The scenario seed (with `index`, what reproduces the path alone).
    pub scenario_seed: u64,
    /// The path's own seed.
    pub seed: u64,
    /// The run's error; `None` when the path panicked (see `message`).
    pub error: Option<RunError>,
    /// What went wrong, in words.
    pub message: String,
}

impl std::fmt::Display for PathFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "path {} (seed {}) failed: {}", self.index, self.seed, self.message)
    }
}

impl std::error::Error for PathFailure {}

fn run_one(
    prepared: &Prepared,
    index: u64,
    done: &AtomicU64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<PathRun, PathFailure> {
    let seed = path_seed(prepared.seed(), index);
    let fail = |error: Option<RunError>, message: String| PathFailure {
        index,
        scenario_seed: prepared.seed(),
        seed,
        error,
        message,
    };
    let out = std::panic::catch_unwind(AssertUnwindSafe(|| {
        prepared.run_with_seed(seed, &mut |_, _| {
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
        })
    }));
    match out {
        Ok(Ok(result)) => Ok(PathRun { index, seed, result }),
        Ok(Err(e)) => Err(fail(Some(e.clone()), e.to_string())),
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(fail(None, format!("panicked: {what}")))
        }
    }
}

/// Runs paths `from..to` of `prepared` on rayon's pool and hands each finished path to `sink`
/// in path order, so that what `sink` builds is the same for any thread count. Paths run in
/// batches of a few per thread: at most a batch of results is held at once, whatever the number
/// of paths. `progress(steps_done)` counts steps over all paths (it is called from the worker
/// threads).
///
/// Stops at the first path (in path order) that fails, after `sink` has seen every path before
/// it; the error of `sink` stops the run too.
pub fn run_paths<E>(
    prepared: &Prepared,
    from: u64,
    to: u64,
    progress: &(dyn Fn(u64) + Sync),
    sink: &mut dyn FnMut(PathRun) -> Result<(), E>,
) -> Result<(), RunPathsError<E>> {
    let done = AtomicU64::new(0);
    let batch = u64::try_from(rayon::current_num_threads().max(1) * 4).unwrap_or(8);
    let mut start = from;
    while start < to {
        let end = start.saturating_add(batch).min(to);
        let results: Vec<Result<PathRun, PathFailure>> = (start..end)
            .into_par_iter()
            .map(|i| run_one(prepared, i, &done, progress))
            .collect();
        for r in results {
            sink(r.map_err(RunPathsError::Path)?).map_err(RunPathsError::Sink)?;
        }
        start = end;
    }
    Ok(())
}

/// Why [`run_paths`] stopped.
#[derive(Debug)]
pub enum RunPathsError<E> {
    /// A path failed.
    Path(PathFailure),
    /// The sink refused a path (e.g. an output file could not be written).
    Sink(E),
}
