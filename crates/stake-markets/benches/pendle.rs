//! Pendle swap throughput (SPEC §13 target: ≥ 200,000 complex ops/s per core).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use stake_ledger::{AssetKind, Ledger};
use stake_markets::pendle::math::{swap_exact_pt_for_sy, MarketStateArgs};
use stake_markets::pendle::{Pendle, DEFAULT_INTEREST_FEE_RATE};
use stake_math::{I256, U256};
use std::time::Duration;

const E18: u128 = 1_000_000_000_000_000_000;

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
