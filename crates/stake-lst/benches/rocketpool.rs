//! Rocket Pool micro-benchmarks: deposit and burn ops/s (SPEC §13: simple operations).

#![allow(missing_docs)] // criterion_group! expands to an undocumented pub fn

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use stake_ledger::Ledger;
use stake_lst::rocketpool::{RocketPool, RocketPoolParams};
use stake_math::{u, U256};
use std::time::Duration;

const E: u128 = 1_000_000_000_000_000_000;
const T0: u64 = 1_700_000_000;

fn world() -> (Ledger, RocketPool, stake_ledger::AccountId) {
    let mut l = Ledger::new();
    let params = RocketPoolParams {
        max_deposit_pool_wei: U256::MAX / u(2),
        ..Default::default()
    };
    let mut rp = RocketPool::new(&mut l, params).expect("fresh ledger");
    let alice = l.account("alice");
    l.mint(alice, rp.eth, u(1_000_000_000 * E)).expect("mint");
    rp.deposit(&mut l, alice, u(1_000_000 * E), T0).expect("seed deposit");
    let supply = l.supply(rp.reth);
    rp.submit_balances(u(1_050_000 * E), U256::ZERO, supply, T0)
        .expect("first report");
    (l, rp, alice)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("rocketpool");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    g.throughput(Throughput::Elements(1));
    g.bench_function("deposit", |b| {
        b.iter_batched_ref(
            world,
            |(l, rp, alice)| rp.deposit(l, *alice, u(E), T0).expect("deposit"),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("burn", |b| {
        b.iter_batched_ref(
            world,
            |(l, rp, alice)| rp.burn(l, *alice, u(E / 100), T0).expect("burn"),
            BatchSize::LargeInput,
        )
    });
    // Steady state: many ops on one world (no setup in the loop).
    let (mut l, mut rp, alice) = world();
    g.bench_function("deposit_then_burn_pair", |b| {
        b.iter(|| {
            rp.deposit(&mut l, alice, u(E), T0).expect("deposit");
            rp.burn(&mut l, alice, u(E / 2), T0).expect("burn");
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
