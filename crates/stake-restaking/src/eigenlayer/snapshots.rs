//! Block-keyed value history, as `libraries/Snapshots.sol` (`DefaultWadHistory` /
//! `DefaultZeroHistory`): push overwrites within the same block; `upper_lookup(k)` returns the
//! latest value recorded at a block ≤ `k`, or the default.

use serde::{Deserialize, Serialize};

/// A value history keyed by block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History<T> {
    /// `(block, value)` in strictly increasing block order.
    pub points: Vec<(u64, T)>,
}

impl<T: Copy> History<T> {
    /// An empty history.
    pub fn new() -> Self {
        Self { points: Vec::new() }
    }

    /// Latest value, or `default` when nothing was recorded.
    pub fn latest(&self, default: T) -> T {
        self.points.last().map(|p| p.1).unwrap_or(default)
    }

    /// Value at the latest block ≤ `block`, or `default`.
    pub fn upper_lookup(&self, block: u64, default: T) -> T {
        let idx = self.points.partition_point(|p| p.0 <= block);
        if idx == 0 {
            default
        } else {
            self.points[idx - 1].1
        }
    }

    /// Records `value` at `block` (overwrites a same-block entry). Blocks never go backwards in
    /// the engine; an older block is recorded at the latest key instead of reordering history.
    pub fn push(&mut self, block: u64, value: T) {
        match self.points.last_mut() {
            Some(last) if last.0 >= block => last.1 = value,
            _ => self.points.push((block, value)),
        }
    }

    /// Drops entries that can no longer be the answer of `upper_lookup(k)` for any `k ≥ keep_from`
    /// (keeps the last entry at or before `keep_from`). Bounds the history size.
    pub fn prune_before(&mut self, keep_from: u64) {
        let idx = self.points.partition_point(|p| p.0 <= keep_from);
        if idx > 1 {
            self.points.drain(..idx - 1);
        }
    }
}
