//! Percentiles as numpy computes them; the P² estimate close to the exact quantile.

use stake_sim::{percentile, Fan, P2Quantile, Percentiles};

#[test]
fn percentiles_interpolate_linearly_as_numpy() {
    // numpy.percentile([1, 2, 3, 4], [5, 50, 95]) = [1.15, 2.5, 3.85]
    let v = [1.0, 2.0, 3.0, 4.0];
    assert!((percentile(&v, 0.05).unwrap() - 1.15).abs() < 1e-12);
    assert!((percentile(&v, 0.5).unwrap() - 2.5).abs() < 1e-12);
    assert!((percentile(&v, 0.95).unwrap() - 3.85).abs() < 1e-12);
    assert_eq!(percentile(&[], 0.5), None);
    let p = Percentiles::of(&[4.0, f64::NAN, 1.0, 3.0, 2.0]).unwrap();
    assert_eq!((p.min, p.max, p.mean), (1.0, 4.0, 2.5));
    assert!((p.p99 - 3.97).abs() < 1e-12);
    assert_eq!(Percentiles::of(&[f64::NAN]), None);
}

/// A deterministic stand-in for random draws: a splitmix sequence mapped to a skewed law.
fn draws(n: usize) -> Vec<f64> {
    let mut s: u64 = 42;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let u = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
            -(1.0 - u).ln() // exponential(1)
        })
        .collect()
}

#[test]
fn p2_tracks_the_exact_quantiles_of_a_skewed_law() {
    let x = draws(20_000);
    let mut sorted = x.clone();
    sorted.sort_by(f64::total_cmp);
    for q in [0.05, 0.5, 0.95] {
        let mut e = P2Quantile::new(q);
        for v in &x {
            e.add(*v);
        }
        let exact = percentile(&sorted, q).unwrap();
        let est = e.value().unwrap();
        assert!((est - exact).abs() / exact < 0.02, "q {q}: {est} vs {exact}");
    }
    // Exact for five or fewer.
    let mut e = P2Quantile::new(0.5);
    for v in [5.0, 1.0, 3.0] {
        e.add(v);
    }
    assert_eq!(e.value(), Some(3.0));
}

#[test]
fn a_fan_folds_paths_step_by_step() {
    use stake_engine::report::StepRow;
    let row = |v: f64| StepRow {
        t: 0,
        date: "2025-01-01".into(),
        values: vec![v, 1.0],
    };
    let mut f = Fan::new();
    for k in 0..5 {
        f.add_path(&[row(f64::from(k)), row(10.0 + f64::from(k))]);
    }
    assert_eq!(f.paths(), 5);
    let s = f.series(0);
    let p = s[1].unwrap();
    assert_eq!((p.min, p.p50, p.max, p.mean), (10.0, 12.0, 14.0, 12.0));
    assert!((p.p5 - 10.2).abs() < 1e-12);
    assert_eq!(f.series(1)[0].unwrap().p95, 1.0);
}
