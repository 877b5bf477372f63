//! Symbiotic deposit and Jito mint throughput (SPEC §13: simple operations).

// Test helpers outside #[test] functions unwrap set-up steps that cannot fail.
#![allow(clippy::unwrap_used)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use stake_ledger::{AssetKind, Ledger};
use stake_math::{u, U256};
use stake_restaking::jito::{Jito, JitoVaultParams};
use stake_restaking::symbiotic::{DelegatorKind, SymbioticVault, VaultParams};
use std::time::Duration;

fn symbiotic_deposit(c: &mut Criterion) {
    let mut l = Ledger::new();
    let a = l.register_asset("wstETH", 18, "native", AssetKind::Plain).unwrap();
    let alice = l.account("alice");
    l.mint(alice, a, U256::MAX / U256::from(2u8)).unwrap();
    let mut v = SymbioticVault::new(
        &mut l,
        VaultParams {
            name: "v".into(),
            collateral: a,
            epoch_duration: 604_800,
            deposit_whitelist: false,
            deposit_limit: None,
            delegator: DelegatorKind::NetworkRestake,
            slasher: None,
            burner: "burner".into(),
        },
        0,
    )
    .unwrap();
    let mut g = c.benchmark_group("vaults");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    let mut now = 0u64;
    g.bench_function("symbiotic_deposit", |b| {
        b.iter(|| {
            now += 1;
            black_box(
                v.deposit(&mut l, alice, alice, u(1_000_000_000_000_000_000), now)
                    .unwrap(),
            );
        })
    });
    g.finish();
}

fn jito_mint(c: &mut Criterion) {
    let mut l = Ledger::new();
    let sol = l.register_asset("JitoSOL", 9, "native", AssetKind::Plain).unwrap();
    let alice = l.account("alice");
    l.mint(alice, sol, U256::MAX / U256::from(2u8)).unwrap();
    let mut j = Jito::new(&mut l, 432_000, 10, "program").unwrap();
    j.initialize_vault(
        &mut l,
        JitoVaultParams {
            name: "v".into(),
            supported: sol,
            vrt_symbol: "vSOL".into(),
            fee_wallet: "fees".into(),
            capacity: U256::MAX,
            deposit_fee_bps: 10,
            withdrawal_fee_bps: 10,
            reward_fee_bps: 1000,
        },
        0,
    )
    .unwrap();
    let mut g = c.benchmark_group("vaults");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    g.bench_function("jito_mint", |b| {
        b.iter(|| black_box(j.mint_to(&mut l, "v", alice, u(1_000_000_000), U256::ZERO, 1).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, symbiotic_deposit, jito_mint);
criterion_main!(benches);
