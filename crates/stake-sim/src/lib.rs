//! Monte Carlo over the stakestack engine (SPEC §9): a scenario's world, built once, run along
//! many independent paths, each with its own seeded stream, in parallel; the results folded
//! across paths into percentiles.
//!
//! Sans-IO: the binary writes the files. Determinism is a property of the design, not of the
//! thread count: path `i`'s seed depends only on the scenario seed and `i` ([`path_seed`]), each
//! path runs alone on its own clone of the built world, and results are consumed in path order
//! ([`run_paths`]), so every figure is the same with one thread or many.

mod aggregate;
mod fan;
pub mod grid;
pub mod metrics;
mod paths;
mod percentile;

pub use aggregate::SummaryAggregate;
pub use fan::{Fan, FanPoint, P2Quantile};
pub use paths::{path_seed, run_paths, PathFailure, PathRun, RunPathsError};
pub use percentile::{percentile, Percentiles};
