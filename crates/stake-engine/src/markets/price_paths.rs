//! Exogenous ETH/USD paths (SPEC §9): constant, seeded GBM, seeded Merton jump-diffusion, and
//! a replayed `time,price` series.
//!
//! Determinism: every draw comes from the process's own splitmix64 stream (seeded from the
//! scenario seed) and every step is integer wad math with the bit-exact `LogExpMath` port — no
//! floats — so the same seed gives the same path on every machine.
//!
//! Jump-diffusion (Merton): per step of `dt` years,
//! `ln S' = ln S + (μ − σ²/2)·dt + σ·√dt·Z` (the GBM step) `+ Σ_{i=1..N} J_i − λ·k·dt` with
//! `N ~ Poisson(λ·dt)` (inversion of one uniform), `J_i = m + s·Z_i` (log-normal jump sizes)
//! and the compensator `k = exp(m + s²/2) − 1`, so `μ` stays the expected return.
//! Normal draws are Irwin–Hall (sum of 12 uniforms − 6), as the GBM step.
//!
//! Replay: the price is the last row at or before the frame time (step-hold); before the first
//! row the first price holds. A price shock moves a replayed price only until the next frame.

use super::setup::PriceProcessCfg;
use super::PriceProcess;
use crate::amount::parse_wad_fraction;
use crate::error::{proto, EngineError};
use crate::scenario::ScenarioError;
use crate::time::parse_at;
use serde::{Deserialize, Serialize};
use stake_markets::oracle::ONE_YEAR;
use stake_math::signed::{to_signed, to_unsigned};
use stake_math::{logexp, mul_div_down, parse::parse_scaled, u, I256, U256, WAD};
use std::collections::BTreeMap;

/// How the ETH/USD price moves each frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathModel {
    /// Constant (vol = drift = 0) or geometric Brownian motion.
    #[default]
    Gbm,
    /// GBM plus Poisson jumps with normal log sizes.
    JumpDiffusion {
        /// Expected jumps per year, wad.
        per_year: U256,
        /// Mean log jump size, signed wad (`-12%` → −0.12e18).
        mean: I256,
        /// Standard deviation of the log jump size, wad.
        stdev: U256,
    },
    /// A replayed series: `(time, price wad)`, strictly increasing times.
    Replay {
        /// The rows.
        points: Vec<(u64, U256)>,
    },
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

const IWAD: I256 = I256::new(1_000_000_000_000_000_000);

fn next_u64(rng: &mut u64) -> u64 {
    *rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut x = *rng;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform draw in `[0, 1)`, wad: `⌊x·1e18/2⁶⁴⌋` of a 64-bit draw `x`, so every wad value is
/// equally likely to within one part in 2⁴⁶ (`x mod 1e18` would favour the low 45 % of the unit
/// interval: a mean of 0.4933 that, summed twelve times, biased the normal draw by −0.08σ).
fn uniform(rng: &mut u64) -> I256 {
    let scaled = (u128::from(next_u64(rng)) * 1_000_000_000_000_000_000u128) >> 64;
    I256::from(scaled)
}

/// A standard normal draw (Irwin–Hall: twelve uniforms less 6), signed wad.
pub(crate) fn normal(rng: &mut u64) -> I256 {
    let mut z = I256::ZERO;
    for _ in 0..12 {
        z += uniform(rng);
    }
    z - I256::from(6_000_000_000_000_000_000u64)
}

fn wmul(a: I256, b: I256) -> I256 {
    a * b / IWAD
}

/// `exp(x)` of a signed wad, unsigned wad.
fn exp_w(x: I256) -> Result<U256, EngineError> {
    to_unsigned(logexp::exp(x).map_err(proto)?).map_err(proto)
}

/// A Poisson(`l_dt`) count from one uniform draw `u` (both signed wads), by inversion in
/// integer math: P(0) = e^{−λdt}, P(n) = P(n−1)·λdt/n; at most 32.
pub(crate) fn poisson(u: I256, l_dt: I256) -> Result<u32, EngineError> {
    let mut term = to_signed(exp_w(-l_dt)?).map_err(proto)?;
    let mut cum = term;
    let mut n = 0u32;
    while u >= cum && n < 32 {
        n += 1;
        term = term * l_dt / IWAD / I256::from(n);
        cum += term;
        if term == I256::ZERO {
            break;
        }
    }
    Ok(n)
}

/// One jump-diffusion step's jump factor over `dt` seconds (wad): `exp(Σ J_i − λ·k·dt)`.
fn jump_factor(rng: &mut u64, per_year: U256, mean: I256, stdev: U256, dt: u64) -> Result<U256, EngineError> {
    let dt_wad = to_signed(mul_div_down(U256::from(dt), WAD, U256::from(ONE_YEAR)).map_err(proto)?).map_err(proto)?;
    let lambda = to_signed(per_year).map_err(proto)?;
    let s = to_signed(stdev).map_err(proto)?;
    let l_dt = wmul(lambda, dt_wad);
    let n = poisson(uniform(rng), l_dt)?;
    let mut sum = I256::ZERO;
    for _ in 0..n {
        sum += mean + wmul(s, normal(rng));
    }
    // k = exp(m + s²/2) − 1.
    let k = to_signed(exp_w(mean + wmul(s, s) / 2)?).map_err(proto)? - IWAD;
    exp_w(sum - wmul(wmul(lambda, k), dt_wad))
}

/// The replayed price at `t` (step-hold; the first price before the first row).
pub(crate) fn replay_at(points: &[(u64, U256)], t: u64) -> Option<U256> {
    let pos = points.partition_point(|(at, _)| *at <= t);
    points.get(pos.saturating_sub(1)).map(|x| x.1)
}

/// Moves the process to frame time `t`, `dt` seconds after the previous frame.
///
/// Specification: fails only with a math error (a price or exponent out of range).
pub(crate) fn step(p: &mut PriceProcess, t: u64, dt: u64) -> Result<(), EngineError> {
    match p.path.clone() {
        PathModel::Gbm => super::ops::step_price(p, dt),
        PathModel::JumpDiffusion { per_year, mean, stdev } => {
            super::ops::step_price(p, dt)?;
            let f = jump_factor(&mut p.rng, per_year, mean, stdev, dt)?;
            p.price_wad = mul_div_down(p.price_wad, f, WAD).map_err(proto)?;
            Ok(())
        }
        PathModel::Replay { points } => {
            if let Some(v) = replay_at(&points, t) {
                p.price_wad = v;
            }
            Ok(())
        }
    }
}

/// Parses a `time,price` CSV (an optional `time,price` header, `#` comments and blank lines
/// allowed). Times are scenario times (`2025-01-01`, `2025-01-01T12:00`, `day 3`, `start`),
/// prices are decimal USD. Errors name the 1-based line.
///
/// Specification: fails on a row without exactly two fields, an unreadable time or price, a
/// price of zero, a time not after the previous row's, or a file without rows.
pub fn parse_price_csv(text: &str, start: u64) -> Result<Vec<(u64, U256)>, String> {
    let mut points: Vec<(u64, U256)> = Vec::new();
    let mut seen_row = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        if !seen_row && fields.len() == 2 && fields[0].eq_ignore_ascii_case("time") {
            seen_row = true;
            continue;
        }
        seen_row = true;
        if fields.len() != 2 {
            return Err(format!(
                "line {line}: expected `time,price`, found {} field(s): `{l}`",
                fields.len()
            ));
        }
        let t = parse_at(fields[0], start).map_err(|e| format!("line {line}: time `{}`: {e}", fields[0]))?;
        let v = parse_scaled(fields[1], 18).map_err(|e| format!("line {line}: price `{}`: {e}", fields[1]))?;
        if v == U256::ZERO {
            return Err(format!("line {line}: price must be positive"));
        }
        if let Some((prev, _)) = points.last() {
            if t <= *prev {
                return Err(format!(
                    "line {line}: time `{}` is not after the previous row's",
                    fields[0]
                ));
            }
        }
        points.push((t, v));
    }
    if points.is_empty() {
        return Err("no `time,price` rows".into());
    }
    Ok(points)
}

fn signed_fraction(s: &str, path: &str) -> Result<I256, ScenarioError> {
    let t = s.trim();
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = parse_wad_fraction(rest).map_err(|e| err(path, e))?;
    let v = to_signed(v).map_err(|e| err(path, e.to_string()))?;
    Ok(if neg { -v } else { v })
}

/// `jumps = { per_year = 3, mean = "-12%", stdev = "8%" }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JumpsCfg {
    /// Expected jumps per year, e.g. `3` or `"0.5"`.
    pub per_year: toml::Value,
    /// Mean log jump size, e.g. `"-12%"`.
    pub mean: String,
    /// Standard deviation of the log jump size, e.g. `"8%"`.
    pub stdev: String,
}

/// The state of a price process's generator for a run seed.
pub(crate) fn rng_seed(seed: u64) -> u64 {
    seed ^ 0x5EED_E7B0_5D00_0001
}

/// Builds `[market.NAME]` into a process (`model` = `constant`, `gbm`, `jump_diffusion` or
/// `replay`). `data` holds the contents of the files the scenario names (the engine does no I/O).
///
/// Specification: every malformed key fails with its path (`market.ETH_USD.vol`, …); a CSV
/// error names the file and line.
pub(crate) fn build_process(
    name: &str,
    cfg: &PriceProcessCfg,
    seed: u64,
    start: u64,
    data: &BTreeMap<String, String>,
) -> Result<PriceProcess, ScenarioError> {
    let path = format!("market.{name}");
    let model = cfg.model.as_deref().unwrap_or("constant");
    let start_price = |required: bool| -> Result<U256, ScenarioError> {
        match &cfg.start {
            Some(s) => {
                let v = parse_scaled(s, 18).map_err(|e| err(format!("{path}.start"), format!("`{s}`: {e}")))?;
                if v == U256::ZERO {
                    return Err(err(format!("{path}.start"), "must be positive"));
                }
                Ok(v)
            }
            None if required => Err(err(format!("{path}.start"), "missing `start` (the first price)")),
            None => Ok(U256::ZERO),
        }
    };
    let vol_drift = || -> Result<(U256, I256), ScenarioError> {
        let v = match &cfg.vol {
            Some(s) => parse_wad_fraction(s).map_err(|e| err(format!("{path}.vol"), e))?,
            None => U256::ZERO,
        };
        if v > u(5) * WAD {
            return Err(err(format!("{path}.vol"), "at most 500%"));
        }
        let d = match &cfg.drift {
            Some(s) => signed_fraction(s, &format!("{path}.drift"))?,
            None => I256::ZERO,
        };
        Ok((v, d))
    };
    let only = |keys: &[(&str, bool)]| -> Result<(), ScenarioError> {
        for (k, present) in keys {
            if *present {
                return Err(err(
                    format!("{path}.{k}"),
                    format!("`{k}` does not apply to model = \"{model}\""),
                ));
            }
        }
        Ok(())
    };
    let mut proc = PriceProcess {
        name: name.to_string(),
        rng: rng_seed(seed),
        ..PriceProcess::default()
    };
    match model {
        "constant" => {
            only(&[
                ("vol", cfg.vol.is_some()),
                ("drift", cfg.drift.is_some()),
                ("jumps", cfg.jumps.is_some()),
                ("path", cfg.path.is_some()),
            ])?;
            proc.price_wad = start_price(true)?;
        }
        "gbm" => {
            only(&[("jumps", cfg.jumps.is_some()), ("path", cfg.path.is_some())])?;
            proc.price_wad = start_price(true)?;
            (proc.vol_wad, proc.drift_wad) = vol_drift()?;
        }
        "jump_diffusion" => {
            only(&[("path", cfg.path.is_some())])?;
            proc.price_wad = start_price(true)?;
            (proc.vol_wad, proc.drift_wad) = vol_drift()?;
            let j = cfg
                .jumps
                .as_ref()
                .ok_or_else(|| err(format!("{path}.jumps"), "missing `jumps = { per_year, mean, stdev }`"))?;
            let jp = format!("{path}.jumps");
            let per_year_s = match &j.per_year {
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::String(s) => s.clone(),
                _ => return Err(err(format!("{jp}.per_year"), "expected a number of jumps per year")),
            };
            let per_year = parse_scaled(&per_year_s, 18)
                .map_err(|e| err(format!("{jp}.per_year"), format!("`{per_year_s}`: {e}")))?;
            if per_year > u(365) * WAD {
                return Err(err(format!("{jp}.per_year"), "at most 365 jumps per year"));
            }
            let mean = signed_fraction(&j.mean, &format!("{jp}.mean"))?;
            if mean.abs() > IWAD {
                return Err(err(format!("{jp}.mean"), "a mean log jump within ±100%"));
            }
            let stdev = parse_wad_fraction(&j.stdev).map_err(|e| err(format!("{jp}.stdev"), e))?;
            if stdev > WAD {
                return Err(err(format!("{jp}.stdev"), "at most 100%"));
            }
            proc.path = PathModel::JumpDiffusion { per_year, mean, stdev };
        }
        "replay" => {
            only(&[
                ("vol", cfg.vol.is_some()),
                ("drift", cfg.drift.is_some()),
                ("jumps", cfg.jumps.is_some()),
                ("start", cfg.start.is_some()),
            ])?;
            let file = cfg
                .path
                .as_deref()
                .ok_or_else(|| err(format!("{path}.path"), "missing `path` (a `time,price` CSV file)"))?;
            let text = data.get(file).ok_or_else(|| {
                err(
                    format!("{path}.path"),
                    format!("data file `{file}` was not loaded (the runner reads it next to the scenario file)"),
                )
            })?;
            let points =
                parse_price_csv(text, start).map_err(|e| err(format!("{path}.path"), format!("{file}: {e}")))?;
            proc.price_wad = replay_at(&points, start).unwrap_or(U256::ZERO);
            proc.path = PathModel::Replay { points };
        }
        m => {
            return Err(err(
                format!("{path}.model"),
                format!("unknown price model `{m}` (constant, gbm, jump_diffusion or replay)"),
            ))
        }
    }
    Ok(proc)
}

/// Data files a scenario text names (`[market.X] path = "…"`), as written.
///
/// Specification: never fails; an unparsable text names no files (the build reports it).
pub fn data_files(text: &str) -> Vec<String> {
    let Ok(v) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(toml::Value::Table(m)) = v.get("market") {
        for p in m.values() {
            if let Some(toml::Value::String(s)) = p.get("path") {
                out.push(s.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jd(seed: u64) -> PriceProcess {
        PriceProcess {
            name: "ETH_USD".into(),
            price_wad: u(3_300) * WAD,
            vol_wad: WAD * u(65) / u(100),
            drift_wad: I256::ZERO,
            rng: seed,
            path: PathModel::JumpDiffusion {
                per_year: u(3) * WAD,
                mean: -I256::new(120_000_000_000_000_000),
                stdev: U256::new(80_000_000_000_000_000),
            },
        }
    }

    fn path_of(seed: u64, days: u64) -> Vec<U256> {
        let mut p = jd(seed);
        (0..days)
            .map(|d| {
                step(&mut p, d * 86_400, 86_400).unwrap();
                p.price_wad
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_jump_diffusion_path_and_another_seed_another() {
        let a = path_of(42, 365);
        assert_eq!(a, path_of(42, 365));
        assert_ne!(a, path_of(43, 365));
        assert!(a.iter().all(|p| *p > U256::ZERO));
    }

    #[test]
    fn jumps_arrive_about_as_often_as_asked() {
        // 10 jumps a year of −20 % ± 0 with no diffusion: each jump day shows a factor ≈ 0.82
        // (× the compensator), other days only the small compensator drift.
        let mut jumps = 0;
        for seed in 0..20u64 {
            let mut p = PriceProcess {
                price_wad: u(1_000) * WAD,
                rng: seed,
                path: PathModel::JumpDiffusion {
                    per_year: u(10) * WAD,
                    mean: -I256::new(200_000_000_000_000_000),
                    stdev: U256::ZERO,
                },
                ..PriceProcess::default()
            };
            for d in 0..365 {
                let before = p.price_wad;
                step(&mut p, d * 86_400, 86_400).unwrap();
                if p.price_wad < before * u(9) / u(10) {
                    jumps += 1;
                }
            }
        }
        // 20 years × 10 a year = 200 expected; Poisson sd ≈ 14.
        assert!((150..250).contains(&jumps), "{jumps}");
    }

    #[test]
    fn a_replayed_series_holds_each_price_until_the_next_row() {
        let pts = vec![(100, u(1)), (200, u(2)), (300, u(3))];
        assert_eq!(replay_at(&pts, 50), Some(u(1)));
        assert_eq!(replay_at(&pts, 100), Some(u(1)));
        assert_eq!(replay_at(&pts, 199), Some(u(1)));
        assert_eq!(replay_at(&pts, 200), Some(u(2)));
        assert_eq!(replay_at(&pts, 10_000), Some(u(3)));
    }

    #[test]
    fn a_price_csv_parses_with_header_comments_and_scenario_times() {
        let start = 1_735_689_600; // 2025-01-01
        let pts = parse_price_csv(
            "time,price\n# a comment\n2025-01-01,3300.5\n\nday 2,3100\n2025-01-05T12:00,2999.99\n",
            start,
        )
        .unwrap();
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0], (start, U256::new(3_300_500_000_000_000_000_000)));
        assert_eq!(pts[1].0, start + 2 * 86_400);
        assert_eq!(pts[2].0, start + 4 * 86_400 + 12 * 3_600);
    }

    #[test]
    fn price_csv_errors_name_the_line() {
        let start = 1_735_689_600;
        let e = |t: &str| parse_price_csv(t, start).unwrap_err();
        assert!(e("time,price\n2025-01-01,3300\n2025-01-02\n").starts_with("line 3: expected `time,price`"));
        assert!(e("2025-01-01,abc\n").starts_with("line 1: price `abc`"));
        assert!(e("time,price\nsoon,3\n").starts_with("line 2: time `soon`"));
        assert!(e("2025-01-02,3\n2025-01-01,3\n").starts_with("line 2: time `2025-01-01` is not after"));
        assert!(e("2025-01-01,0\n").starts_with("line 1: price must be positive"));
        assert_eq!(e("time,price\n"), "no `time,price` rows");
    }

    #[test]
    fn data_files_lists_the_paths_a_scenario_names() {
        let t = "[market.ETH_USD]\nmodel = \"replay\"\npath = \"data/eth.csv\"\n";
        assert_eq!(data_files(t), vec!["data/eth.csv".to_string()]);
        assert!(data_files("not toml [").is_empty());
    }

    #[test]
    fn normal_draws_are_centred_with_unit_variance() {
        // 200,000 draws: the standard error of the mean is 0.0022 and of the variance 0.0032.
        // Drawing uniforms as `x mod 1e18` put the mean at −0.08.
        let mut rng = rng_seed(7);
        let n = 200_000u32;
        let (mut sum, mut sq) = (0f64, 0f64);
        for _ in 0..n {
            let z = normal(&mut rng).as_f64() / 1e18;
            sum += z;
            sq += z * z;
        }
        let mean = sum / f64::from(n);
        let var = sq / f64::from(n) - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.015, "variance {var}");
    }

    #[test]
    fn gbm_log_returns_have_the_drift_and_volatility_asked_for() {
        // μ = 5 %, σ = 60 %: daily log returns average (μ − σ²/2)/365 with σ/√365 spread.
        let mut p = PriceProcess {
            name: "ETH_USD".into(),
            price_wad: u(3_300) * WAD,
            vol_wad: WAD * u(60) / u(100),
            drift_wad: I256::new(50_000_000_000_000_000),
            rng: rng_seed(11),
            path: PathModel::Gbm,
        };
        let days = 100_000u32;
        let mut rs = Vec::new();
        for d in 0..days {
            // Re-anchor so the price never drifts out of range over 270 years.
            p.price_wad = u(3_300) * WAD;
            step(&mut p, u64::from(d) * 86_400, 86_400).unwrap();
            rs.push((p.price_wad.as_f64() / 3.3e21).ln());
        }
        let mean = rs.iter().sum::<f64>() / f64::from(days);
        let sd = (rs.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / f64::from(days)).sqrt();
        let se = 0.6 / 365f64.sqrt() / f64::from(days).sqrt();
        let want = (0.05 - 0.18) / 365.0;
        assert!((mean - want).abs() < 4.0 * se, "mean {mean} want {want} (se {se})");
        assert!(
            (sd * 365f64.sqrt() - 0.6).abs() < 0.01,
            "annual vol {}",
            sd * 365f64.sqrt()
        );
    }
}
