//! EigenLayer micro-benchmarks: `slashOperator` with 10^2 vs 10^5 delegated stakers (must not
//! depend on the staker count), deposit and delegate throughput.
#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used)] // benchmark set-up: a failure should abort the run

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use stake_ledger::{AssetKind, Ledger};
use stake_math::{u, U256};
use stake_restaking::eigenlayer::EigenLayer;
use std::time::Duration;

const E18: u128 = 1_000_000_000_000_000_000;

fn world(stakers: usize) -> (Ledger, EigenLayer) {
    let mut l = Ledger::new();
    l.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
    let st = l.register_asset("stETH", 18, "lido", AssetKind::Plain).unwrap();
    let mut el = EigenLayer::new("ETH");
    el.add_strategy(&l, "stETH", true).unwrap();
    el.register_operator(&l, "op", 1, 1).unwrap();
    for i in 0..stakers {
        let name = format!("s{i}");
        let a = l.account(&name);
        l.mint(a, st, u(1_000 * E18)).unwrap();
        el.deposit(&mut l, &name, "stETH", u(E18), 1).unwrap();
        el.delegate(&l, &name, "op", 1).unwrap();
    }
    el.create_operator_set("avs", 1, &["stETH".into()], "avs", None)
        .unwrap();
    el.register_for_operator_sets("op", "avs", &[1], 1).unwrap();
    el.modify_allocation("op", "avs", 1, "stETH", u64::try_from(E18).unwrap(), 1)
        .unwrap();
    (l, el)
}

fn bench_slash(c: &mut Criterion) {
    let mut g = c.benchmark_group("eigenlayer_slash_operator");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    for n in [100usize, 100_000] {
        let (mut l, mut el) = world(n);
        let mut block = 10u64;
        let wad = u(1_000_000_000_000); // 1e-6 per slash
        let strategies = vec![("stETH".to_string(), wad)];
        g.bench_function(format!("stakers_{n}"), |b| {
            b.iter(|| {
                block += 1;
                black_box(
                    el.slash_operator(&mut l, "avs", "op", "avs", 1, &strategies, block)
                        .unwrap(),
                );
            })
        });
    }
    g.finish();
}

fn bench_deposit_delegate(c: &mut Criterion) {
    let mut g = c.benchmark_group("eigenlayer_ops");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    let (mut l, mut el) = world(10);
    g.bench_function("deposit", |b| {
        b.iter(|| black_box(el.deposit(&mut l, "s3", "stETH", U256::from(1_000u32), 5).unwrap()))
    });
    let (mut l2, mut el2) = world(10);
    let st = l2.asset("stETH").unwrap();
    let a = l2.account("fresh");
    l2.mint(a, st, u(E18)).unwrap();
    el2.deposit(&mut l2, "fresh", "stETH", u(E18), 5).unwrap();
    g.bench_function("delegate", |b| {
        b.iter_batched(
            || el2.clone(),
            |mut e| {
                e.delegate(&l2, "fresh", "op", 6).unwrap();
                e
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_slash, bench_deposit_delegate);
criterion_main!(benches);
