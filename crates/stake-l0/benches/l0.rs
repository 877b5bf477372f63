//! L0 benchmarks: epoch cost with 10 vs 1,000 cohorts (cost grows with cohorts, not validators),
//! and one year of epochs for a mainnet-like setup.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use stake_l0::spec::EPOCH_SECONDS;
use stake_l0::{EthParams, Ethereum};
use stake_ledger::{AssetKind, Ledger};
use std::time::Duration;

/// A chain with 1,000,000 background validators plus `cohorts` user cohorts of 100 validators
/// at 99 % performance (each cohort: an online and an offline group).
fn world(cohorts: usize) -> (Ledger, Ethereum) {
    let mut ledger = Ledger::new();
    ledger
        .register_asset("ETH", 18, "native", AssetKind::Plain)
        .expect("fresh ledger");
    let mut eth = Ethereum::new(EthParams::default(), &mut ledger, 0).expect("ETH registered");
    let bg = ledger.account("others");
    eth.add_genesis_validators(&mut ledger, 1_000_000, "others", bg, bg, 1_000_000)
        .expect("genesis");
    for i in 0..cohorts {
        let a = ledger.account(&format!("user{i}"));
        eth.add_genesis_validators(&mut ledger, 100, &format!("op{i}"), a, a, 990_000)
            .expect("genesis");
    }
    (ledger, eth)
}

fn epoch_processing(c: &mut Criterion) {
    let mut g = c.benchmark_group("l0_epoch");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    for n in [10usize, 1_000] {
        let (ledger, eth) = world(n);
        g.bench_function(format!("one_epoch_{n}_cohorts"), |b| {
            b.iter_batched(
                || (ledger.clone(), eth.clone()),
                |(mut l, mut e)| {
                    let to = (e.current_epoch() + 1) * EPOCH_SECONDS;
                    e.advance_to(&mut l, to).expect("epoch")
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn one_year(c: &mut Criterion) {
    let mut g = c.benchmark_group("l0_year");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let (ledger, eth) = world(10);
    g.bench_function("mainnet_like_year_82125_epochs", |b| {
        b.iter_batched(
            || (ledger.clone(), eth.clone()),
            |(mut l, mut e)| e.advance_to(&mut l, 82_125 * EPOCH_SECONDS).expect("year"),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, epoch_processing, one_year);
}
criterion_main!(harness::benches);
