//! Percentiles across paths.

use serde::Serialize;

/// The distribution of one figure across paths.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    /// 1st percentile.
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// The `q`-quantile (`0 ≤ q ≤ 1`) of sorted values by linear interpolation between the closest
/// ranks — the rule numpy and pandas use by default (`h = (n−1)·q`, `x⌊h⌋ + (h−⌊h⌋)·(x⌊h⌋+1 − x⌊h⌋)`),
/// so that a figure recomputed from `steps.parquet` in pandas agrees. `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor();
    // `lo` is in 0..n by construction (h ≤ n−1): the casts cannot lose anything.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let k = lo as usize;
    let a = sorted[k];
    match sorted.get(k + 1) {
        Some(b) => Some(a + (h - lo) * (b - a)),
        None => Some(a),
    }
}

impl Percentiles {
    /// The percentiles of `values` (any order; non-finite values are left out). `None` when no
    /// finite value remains.
    pub fn of(values: &[f64]) -> Option<Percentiles> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| percentile(&v, p).unwrap_or(f64::NAN);
        // Sum in sorted order: the mean does not depend on the order paths arrived in.
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        Some(Percentiles {
            p1: q(0.01),
            p5: q(0.05),
            p50: q(0.50),
            p95: q(0.95),
            p99: q(0.99),
            mean,
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}
