//! StableSwap throughput (SPEC §13: complex operation ≥ 200,000 ops/s per core).

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use stake_ledger::{AssetKind, Ledger};
use stake_markets::stableswap::{calc, PlainCoins, PoolConfig, StableSwapPool, Variant};
use stake_math::{u, U256};
use std::time::{Duration, Instant};

/// Wall clock for the fallback: a benchmark measures time; no protocol state reads it.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

/// On-CPU time of this thread (Linux `se.sum_exec_runtime`, ms with µs precision), so the figure
/// is per core even when the shared machine is oversubscribed; `None` elsewhere.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
    let line = text.lines().find(|l| l.starts_with("se.sum_exec_runtime"))?;
    let ms: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
    Some(Duration::from_secs_f64(ms / 1e3))
}

const E18: u128 = 1_000_000_000_000_000_000;

fn setup(variant: Variant) -> (Ledger, StableSwapPool, stake_ledger::AccountId) {
    let mut ledger = Ledger::new();
    let eth = ledger
        .register_asset("ETH", 18, "native", AssetKind::Plain)
        .expect("fresh ledger");
    let steth = ledger
        .register_asset("stETH", 18, "lido", AssetKind::Plain)
        .expect("fresh ledger");
    let lp = ledger.account("lp");
    let trader = ledger.account("trader");
    for who in [lp, trader] {
        ledger.mint(who, eth, u(1_000_000_000 * E18)).expect("mint");
        ledger.mint(who, steth, u(1_000_000_000 * E18)).expect("mint");
    }
    let cfg = PoolConfig {
        name: "curve".into(),
        coins: [eth, steth],
        lp_symbol: "LP".into(),
        a: u(50),
        fee: u(4_000_000),
        admin_fee: u(5_000_000_000),
        variant,
    };
    let mut pool = StableSwapPool::new(&mut ledger, cfg).expect("valid config");
    pool.add_liquidity(
        &mut ledger,
        &PlainCoins,
        lp,
        [u(100_000 * E18), u(120_000 * E18)],
        U256::ZERO,
        0,
    )
    .expect("seed");
    (ledger, pool, trader)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stableswap");
    g.measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1));

    let balances = [u(100_000 * E18), u(120_000 * E18)];
    g.bench_function("get_dy (pure)", |b| {
        b.iter(|| {
            calc::get_dy(
                black_box(balances),
                u(5000),
                u(4_000_000),
                1,
                0,
                black_box(u(1000 * E18)),
            )
        })
    });

    for (name, variant) in [
        ("exchange legacy", Variant::Legacy),
        (
            "exchange ng",
            Variant::Ng {
                offpeg_fee_multiplier: u(20_000_000_000),
            },
        ),
    ] {
        let (mut ledger, mut pool, trader) = setup(variant);
        let mut dir = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                // Alternate directions so the pool stays near its seeded state.
                dir ^= 1;
                pool.exchange(
                    &mut ledger,
                    &PlainCoins,
                    trader,
                    dir,
                    1 - dir,
                    u(1000 * E18),
                    U256::ZERO,
                    0,
                )
            })
        });
    }

    // The same legacy exchange, timed by this thread's CPU time instead of the wall clock.
    let (mut ledger, mut pool, trader) = setup(Variant::Legacy);
    let mut dir = 0usize;
    g.bench_function("exchange legacy (thread CPU time)", |b| {
        b.iter_custom(|iters| {
            let (cpu0, wall0) = (thread_cpu_time(), wall_now());
            for _ in 0..iters {
                dir ^= 1;
                let r = pool.exchange(
                    &mut ledger,
                    &PlainCoins,
                    trader,
                    dir,
                    1 - dir,
                    u(1000 * E18),
                    U256::ZERO,
                    0,
                );
                black_box(r).ok();
            }
            match (cpu0, thread_cpu_time()) {
                (Some(a), Some(b)) => b.saturating_sub(a),
                _ => wall0.elapsed(),
            }
        })
    });

    let (mut ledger, mut pool, trader) = setup(Variant::Legacy);
    g.bench_function("add_liquidity imbalanced", |b| {
        b.iter(|| {
            pool.add_liquidity(
                &mut ledger,
                &PlainCoins,
                trader,
                [u(10 * E18), U256::ZERO],
                U256::ZERO,
                0,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
