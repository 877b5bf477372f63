//! Pendle swap throughput (SPEC §13 target: ≥ 200,000 complex ops/s per core), plus the
//! LogExpMath calls of a swap, fast path vs the `I256` reference path.
//!
//! `PENDLE_CPU_TIME=1` also prints the thread CPU time per call (from `/proc/thread-self/schedstat`),
//! which, unlike criterion's wall clock, does not grow with the load of a shared machine.
#![allow(clippy::cast_possible_wrap)] // benchmark inputs: small constants
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use stake_ledger::{AssetKind, Ledger};
use stake_markets::pendle::math::{market_pre_compute, swap_exact_pt_for_sy, swap_sy_for_exact_pt, MarketStateArgs};
use stake_markets::pendle::{Pendle, DEFAULT_INTEREST_FEE_RATE};
use stake_math::logexp::{exp, exp_reference, ln, ln_reference};
use stake_math::{I256, U256};
use std::time::Duration;

const E18: u128 = 1_000_000_000_000_000_000;

/// On-CPU nanoseconds of this thread (`/proc/thread-self/schedstat`, Linux), if readable.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// CPU time per call (load-independent, unlike criterion's wall clock on a shared machine).
fn cpu_per_op(name: &str, iters: u32, mut f: impl FnMut()) {
    let Some(t0) = cpu_ns() else { return };
    for _ in 0..iters {
        f();
    }
    let Some(t1) = cpu_ns() else { return };
    println!("cpu-time {name}: {:.0} ns/op", (t1 - t0) as f64 / f64::from(iters));
}

fn bench(c: &mut Criterion) {
    let args = MarketStateArgs {
        total_pt: U256::new(1_000_000 * E18),
        total_sy: U256::new(1_000_000 * E18),
        total_lp: U256::new(1_000_000 * E18),
        scalar_root: I256::new(20 * E18 as i128),
        ln_fee_rate_root: U256::new(498_754_151_103_897),
        reserve_fee_percent: U256::new(80),
        last_ln_implied_rate: U256::new(48_790_164_169_432_003),
        py_index: U256::new(1_150_000_000_000_000_000),
        time_to_expiry: 180 * 86_400,
    };
    let mut g = c.benchmark_group("pendle");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    g.bench_function("pure swap_exact_pt_for_sy", |b| {
        b.iter(|| swap_exact_pt_for_sy(black_box(args), black_box(U256::new(1000 * E18))).unwrap())
    });
    g.bench_function("pure swap_sy_for_exact_pt", |b| {
        b.iter(|| swap_sy_for_exact_pt(black_box(args), black_box(U256::new(1000 * E18))).unwrap())
    });
    g.bench_function("pure market_pre_compute", |b| {
        b.iter(|| market_pre_compute(black_box(args)).unwrap())
    });

    // The LogExpMath calls of a swap, fast path and the I256 reference path (ratio = speed-up).
    // ln_36 band (the post-trade rate ≈ 1.02), general ln (logit 0.87), exp of lnRate·tte/YEAR.
    let ln36_arg = I256::new(1_024_000_000_000_000_000);
    let ln_arg = I256::new(869_565_217_391_304_347);
    let exp_arg = I256::new(24_061_726_056_213_334);
    g.bench_function("ln_36 band (1.024)", |b| b.iter(|| ln(black_box(ln36_arg)).unwrap()));
    g.bench_function("ln_36 band (1.024) reference", |b| {
        b.iter(|| ln_reference(black_box(ln36_arg)).unwrap())
    });
    g.bench_function("ln general (0.8696)", |b| b.iter(|| ln(black_box(ln_arg)).unwrap()));
    g.bench_function("ln general (0.8696) reference", |b| {
        b.iter(|| ln_reference(black_box(ln_arg)).unwrap())
    });
    g.bench_function("exp (0.024)", |b| b.iter(|| exp(black_box(exp_arg)).unwrap()));
    g.bench_function("exp (0.024) reference", |b| {
        b.iter(|| exp_reference(black_box(exp_arg)).unwrap())
    });

    if std::env::var("PENDLE_CPU_TIME").is_ok_and(|v| v == "1") {
        for _ in 0..3 {
            let pt = U256::new(1000 * E18);
            cpu_per_op("swap_exact_pt_for_sy", 200_000, || {
                black_box(swap_exact_pt_for_sy(black_box(args), black_box(pt)).unwrap());
            });
            cpu_per_op("swap_sy_for_exact_pt", 200_000, || {
                black_box(swap_sy_for_exact_pt(black_box(args), black_box(pt)).unwrap());
            });
            cpu_per_op("market_pre_compute", 200_000, || {
                black_box(market_pre_compute(black_box(args)).unwrap());
            });
            cpu_per_op("ln_36 band", 1_000_000, || {
                black_box(ln(black_box(ln36_arg)).unwrap());
            });
            cpu_per_op("ln_36 band reference", 200_000, || {
                black_box(ln_reference(black_box(ln36_arg)).unwrap());
            });
            cpu_per_op("ln general", 1_000_000, || {
                black_box(ln(black_box(ln_arg)).unwrap());
            });
            cpu_per_op("ln general reference", 200_000, || {
                black_box(ln_reference(black_box(ln_arg)).unwrap());
            });
            cpu_per_op("exp", 1_000_000, || {
                black_box(exp(black_box(exp_arg)).unwrap());
            });
            cpu_per_op("exp reference", 200_000, || {
                black_box(exp_reference(black_box(exp_arg)).unwrap());
            });
        }
    }

    // Full state-machine swaps on the ledger, alternating sell/buy so the market stays put.
    let mut ledger = Ledger::new();
    let wsteth = ledger.register_asset("wstETH", 18, "lido", AssetKind::Plain).unwrap();
    let alice = ledger.account("alice");
    ledger.mint(alice, wsteth, U256::new(10_000_000 * E18)).unwrap();
    let mut p = Pendle::new(&mut ledger, DEFAULT_INTEREST_FEE_RATE).unwrap();
    let sy = p
        .create_sy(&mut ledger, "SY-wstETH", wsteth, U256::new(1_150_000_000_000_000_000))
        .unwrap();
    let t0 = 1_700_000_000u64;
    let yc = p.create_yield_contract(&mut ledger, sy, t0 + 180 * 86_400, t0).unwrap();
    p.sy_deposit(&mut ledger, alice, sy, U256::new(3_000_000 * E18))
        .unwrap();
    p.mint_py(&mut ledger, alice, yc, U256::new(1_000_000 * E18), t0)
        .unwrap();
    let m = p
        .create_market(
            &mut ledger,
            yc,
            I256::new(20 * E18 as i128),
            I256::new(1_050_000_000_000_000_000),
            U256::new(498_754_151_103_897),
            80,
            t0,
        )
        .unwrap();
    p.add_liquidity(
        &mut ledger,
        alice,
        m,
        U256::new(1_000_000 * E18),
        U256::new(1_000_000 * E18),
        t0,
    )
    .unwrap();
    let mut now = t0 + 1;
    g.bench_function("ledger swap pair (sell PT + buy PT)", |b| {
        b.iter(|| {
            now += 1;
            p.swap_exact_pt_for_sy(&mut ledger, alice, m, U256::new(10 * E18), U256::ZERO, now)
                .unwrap();
            p.swap_sy_for_exact_pt(&mut ledger, alice, m, U256::new(10 * E18), U256::MAX, now)
                .unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
