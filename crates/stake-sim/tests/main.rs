//! stake-sim: seeds, parallel paths, percentiles, fans.
#![allow(clippy::unwrap_used, clippy::panic)]

mod aggregate;
mod paths;
mod quantiles;
