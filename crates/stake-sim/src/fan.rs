//! Per-step bands across paths (the fan charts), in constant memory per (step, column).

use crate::percentile::percentile;
use serde::Serialize;
use stake_engine::report::StepRow;

/// A streaming estimate of one quantile: the P² algorithm (Jain & Chlamtac, "The P² algorithm
/// for dynamic calculation of quantiles and histograms without storing observations", CACM
/// 1985). Five markers — the minimum, the maximum, the quantile and two between — whose heights
/// move by piecewise-parabolic interpolation as observations arrive. Exact for five
/// observations or fewer; afterwards an estimate whose error shrinks with the number of paths
/// (a test bounds it). Deterministic: the same observations in the same order give the same
/// estimate.
#[derive(Clone, Debug)]
pub struct P2Quantile {
    p: f64,
    count: u64,
    q: [f64; 5],
    n: [f64; 5],
    want: [f64; 5],
    dn: [f64; 5],
}

impl P2Quantile {
    /// An estimator of the `p`-quantile (`0 < p < 1`).
    pub fn new(p: f64) -> Self {
        let p = p.clamp(0.0, 1.0);
        P2Quantile {
            p,
            count: 0,
            q: [0.0; 5],
            n: [1.0, 2.0, 3.0, 4.0, 5.0],
            want: [1.0, 1.0 + 2.0 * p, 1.0 + 4.0 * p, 3.0 + 2.0 * p, 5.0],
            dn: [0.0, p / 2.0, p, (1.0 + p) / 2.0, 1.0],
        }
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds an observation (non-finite ones are ignored).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        if self.count < 5 {
            // `count < 5`: the index fits.
            #[allow(clippy::cast_possible_truncation)]
            let c = self.count as usize;
            self.q[c] = x;
            self.count += 1;
            if self.count == 5 {
                self.q.sort_by(f64::total_cmp);
            }
            return;
        }
        self.count += 1;
        let q = &mut self.q;
        let k = if x < q[0] {
            q[0] = x;
            0
        } else if x >= q[4] {
            q[4] = q[4].max(x);
            3
        } else {
            (0..4).find(|&i| q[i] <= x && x < q[i + 1]).unwrap_or(3)
        };
        for i in (k + 1)..5 {
            self.n[i] += 1.0;
        }
        for i in 0..5 {
            self.want[i] += self.dn[i];
        }
        for i in 1..4 {
            let d = self.want[i] - self.n[i];
            let n = &self.n;
            if (d >= 1.0 && n[i + 1] - n[i] > 1.0) || (d <= -1.0 && n[i - 1] - n[i] < -1.0) {
                let s = d.signum();
                let par = q[i]
                    + s / (n[i + 1] - n[i - 1])
                        * ((n[i] - n[i - 1] + s) * (q[i + 1] - q[i]) / (n[i + 1] - n[i])
                            + (n[i + 1] - n[i] - s) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]));
                q[i] = if q[i - 1] < par && par < q[i + 1] {
                    par
                } else {
                    // Linear towards the neighbour in the direction of the move.
                    let j = if s > 0.0 { i + 1 } else { i - 1 };
                    q[i] + s * (q[j] - q[i]) / (n[j] - n[i])
                };
                self.n[i] += s;
            }
        }
    }

    /// The estimate (`None` before any observation). With five observations or fewer, the exact
    /// quantile by the rule of [`percentile`].
    pub fn value(&self) -> Option<f64> {
        match self.count {
            0 => None,
            c if c < 5 => {
                #[allow(clippy::cast_possible_truncation)]
                let mut v = self.q[..c as usize].to_vec();
                v.sort_by(f64::total_cmp);
                percentile(&v, self.p)
            }
            5 => percentile(&self.q, self.p),
            _ => Some(self.q[2]),
        }
    }
}

/// One step of one column across paths.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FanPoint {
    /// 5th percentile (P² estimate beyond five paths).
    pub p5: f64,
    /// Median (P² estimate beyond five paths).
    pub p50: f64,
    /// 95th percentile (P² estimate beyond five paths).
    pub p95: f64,
    /// Mean (exact).
    pub mean: f64,
    /// Smallest (exact).
    pub min: f64,
    /// Largest (exact).
    pub max: f64,
}

#[derive(Clone, Debug)]
struct Cell {
    q: [P2Quantile; 3],
    sum: f64,
    min: f64,
    max: f64,
    n: u64,
}

impl Cell {
    fn new() -> Self {
        Cell {
            q: [P2Quantile::new(0.05), P2Quantile::new(0.5), P2Quantile::new(0.95)],
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            n: 0,
        }
    }
    fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        for q in &mut self.q {
            q.add(x);
        }
        self.sum += x;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.n += 1;
    }
    fn point(&self) -> Option<FanPoint> {
        if self.n == 0 {
            return None;
        }
        Some(FanPoint {
            p5: self.q[0].value()?,
            p50: self.q[1].value()?,
            p95: self.q[2].value()?,
            mean: self.sum / self.n as f64,
            min: self.min,
            max: self.max,
        })
    }
}

/// The per-step distribution of every column across paths, folded one path at a time: memory is
/// a fixed handful of floats per (step, column), however many paths run.
#[derive(Clone, Debug, Default)]
pub struct Fan {
    columns: usize,
    dates: Vec<String>,
    cells: Vec<Cell>,
    paths: u64,
}

impl Fan {
    /// An empty fan.
    pub fn new() -> Self {
        Self::default()
    }

    /// Paths folded in.
    pub fn paths(&self) -> u64 {
        self.paths
    }

    /// Folds in one path's step rows (the first path fixes the steps and columns; later rows
    /// beyond them are ignored).
    pub fn add_path(&mut self, rows: &[StepRow]) {
        if self.paths == 0 {
            self.columns = rows.first().map_or(0, |r| r.values.len());
            self.dates = rows.iter().map(|r| r.date.clone()).collect();
            self.cells = vec![Cell::new(); self.dates.len() * self.columns];
        }
        self.paths += 1;
        for (s, row) in rows.iter().enumerate().take(self.dates.len()) {
            for (c, v) in row.values.iter().enumerate().take(self.columns) {
                self.cells[s * self.columns + c].add(*v);
            }
        }
    }

    /// The dates of the steps.
    pub fn dates(&self) -> &[String] {
        &self.dates
    }

    /// Column `c` across the steps (`None` where no path had a finite value).
    pub fn series(&self, c: usize) -> Vec<Option<FanPoint>> {
        (0..self.dates.len())
            .map(|s| self.cells.get(s * self.columns + c).and_then(Cell::point))
            .collect()
    }
}
