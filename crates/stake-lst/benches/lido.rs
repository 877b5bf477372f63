//! Lido micro-benchmarks: submit, transfer, wrap (ops/s) and the oracle report with 10^3 vs 10^6
//! stETH holders (the report is O(1) in holders: both should cost the same).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use stake_ledger::Ledger;
use stake_lst::lido::math::ether;
use stake_lst::lido::{Lido, LidoParams, LidoReport};
use stake_math::{u, U256};
use std::time::Duration;

const T0: u64 = 1_700_000_000;

fn world(holders: usize) -> (Ledger, Lido) {
    let mut l = Ledger::new();
    let params = LidoParams {
        staking_limit_enabled: false,
        ..Default::default()
    };
    let mut lido = Lido::new(&mut l, "lido", params).unwrap();
    let eth = lido.eth_asset();
    for i in 0..holders {
        let a = l.account(&format!("h{i}"));
        l.mint(a, eth, ether(2)).unwrap();
        lido.submit(&mut l, a, ether(1), T0).unwrap();
    }
    let whale = l.account("whale");
    l.mint(whale, eth, ether(10_000_000)).unwrap();
    lido.submit(&mut l, whale, ether(3_200_000), T0).unwrap();
    let plan = lido.deposit_plan();
    lido.on_deposited(&l, &plan).unwrap();
    let n: u64 = plan.iter().map(|(_, k)| k).sum();
    let (buf, l0) = (lido.accounts().buffer, l.account("l0"));
    l.transfer(buf, l0, eth, u(n as u128 * 32_000_000_000_000_000_000))
        .unwrap();
    let r = report(T0 + 86_400, n, u(n as u128 * 32_000_000_000_000_000_000));
    lido.handle_oracle_report(&mut l, r, T0 + 86_400).unwrap();
    (l, lido)
}

fn report(ts: u64, v: u64, cl: U256) -> LidoReport {
    LidoReport {
        timestamp: ts,
        cl_validators: v,
        cl_balance_wei: cl,
        exited_validators: vec![],
        withdrawal_finalization_batches: vec![],
        simulated_share_rate: U256::ZERO,
        operator_losses: vec![],
        second_opinion: None,
    }
}

fn ops(c: &mut Criterion) {
    let (mut l, mut lido) = world(100);
    let (a, b) = (l.account("h1"), l.account("h2"));
    let whale = l.account("whale");
    let mut g = c.benchmark_group("lido_ops");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    g.bench_function("submit", |bch| {
        bch.iter(|| lido.submit(&mut l, whale, u(1_000), T0 + 90_000).unwrap())
    });
    g.bench_function("transfer", |bch| {
        bch.iter(|| {
            lido.transfer(&mut l, a, b, u(1_000)).unwrap();
            lido.transfer(&mut l, b, a, u(1_000)).unwrap();
        })
    });
    g.bench_function("wrap", |bch| {
        bch.iter(|| lido.wrap(&mut l, whale, u(1_000_000)).unwrap())
    });
    g.finish();
}

fn oracle_report(c: &mut Criterion) {
    let mut g = c.benchmark_group("lido_oracle_report");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    for holders in [1_000usize, 1_000_000] {
        let (l, lido) = world(holders);
        let (_, v, cl) = lido.beacon_stat();
        g.bench_function(format!("holders_{holders}"), |bch| {
            bch.iter_batched(
                || (l.clone(), lido.clone()),
                |(mut l, mut lido)| {
                    lido.handle_oracle_report(&mut l, report(T0 + 2 * 86_400, v, cl + ether(1)), 0)
                        .unwrap();
                    (l, lido)
                },
                BatchSize::LargeInput,
            )
        });
        // The same report stream applied to one warm world: one frame later each time, CL up
        // 100 ETH a day (≈ 1 % APR). No cold copy of the ledger in the measurement.
        g.bench_function(format!("holders_{holders}_warm"), |bch| {
            let (mut l, mut lido) = (l.clone(), lido.clone());
            let (mut t, mut bal) = (T0 + 86_400, cl);
            bch.iter(|| {
                t += 86_400;
                bal += ether(100);
                lido.handle_oracle_report(&mut l, report(t, v, bal), 0).unwrap();
            })
        });
    }
    g.finish();
}

criterion_group!(benches, ops, oracle_report);
criterion_main!(benches);
