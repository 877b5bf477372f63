//! stake-sim: seeds, parallel paths, percentiles, fans.
#![allow(clippy::unwrap_used, clippy::panic)]

mod aggregate;
mod grid;
mod paths;
mod quantiles;
