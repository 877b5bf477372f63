#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! generates undocumented functions; setup may unwrap.
//! Aave borrow with the full HF/LTV check, and Morpho Blue borrow (SPEC §13: complex operation
//! ≥ 200,000 ops/s per core). Each iteration is one complete, atomic borrow at a fixed time.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stake_ledger::{AssetKind, Ledger};
use stake_markets::aave::{AaveV3, RateStrategy, ReserveConfig, ReserveInit, StaticPrices};
use stake_markets::morpho::{Irm, MarketParams, MorphoBlue};
use stake_math::{u, U256};
use std::time::Duration;

const E18: u128 = 1_000_000_000_000_000_000;

fn aave_borrow(c: &mut Criterion) {
    let mut ledger = Ledger::new();
    let weth = ledger.register_asset("WETH", 18, "native", AssetKind::Plain).unwrap();
    let wsteth = ledger.register_asset("wstETH", 18, "lido", AssetKind::Plain).unwrap();
    let weeth = ledger.register_asset("weETH", 18, "etherfi", AssetKind::Plain).unwrap();
    let usdc = ledger.register_asset("USDC", 6, "native", AssetKind::Plain).unwrap();
    let mut pool = AaveV3::mainnet_like(&mut ledger, weth, wsteth, weeth, 0).unwrap();
    let config = ReserveConfig {
        ltv_bps: 7_500,
        liquidation_threshold_bps: 7_800,
        liquidation_bonus_bps: 10_450,
        reserve_factor_bps: 1_000,
        liquidation_protocol_fee_bps: 1_000,
        supply_cap: U256::ZERO,
        borrow_cap: U256::ZERO,
        borrowing_enabled: true,
        active: true,
        frozen: false,
        paused: false,
        debt_ceiling: U256::ZERO,
        borrowable_in_isolation: false,
        siloed_borrowing: false,
        rate: RateStrategy {
            optimal_usage_bps: 9_200,
            base_bps: 0,
            slope1_bps: 550,
            slope2_bps: 3_500,
        },
    };
    pool.init_reserve(
        &mut ledger,
        ReserveInit {
            symbol: "USDC".into(),
            underlying: usdc,
            price_asset: usdc,
            config,
        },
        0,
    )
    .unwrap();
    let mut prices = StaticPrices::new();
    prices.set(weth, u(200_000_000_000));
    prices.set(wsteth, u(240_000_000_000));
    prices.set(weeth, u(210_000_000_000));
    prices.set(usdc, u(100_000_000));
    let alice = ledger.account("alice");
    let bob = ledger.account("bob");
    ledger.mint(bob, usdc, u(1_000_000_000_000_000)).unwrap();
    ledger.mint(alice, weth, u(1_000 * E18)).unwrap();
    ledger.mint(alice, wsteth, u(1_000 * E18)).unwrap();
    pool.supply(&mut ledger, bob, usdc, u(1_000_000_000_000_000), 0)
        .unwrap();
    pool.supply(&mut ledger, alice, weth, u(1_000 * E18), 0).unwrap();
    pool.supply(&mut ledger, alice, wsteth, u(1_000 * E18), 0).unwrap();
    pool.borrow(&mut ledger, &prices, alice, usdc, u(1_000_000), 0).unwrap();

    let mut g = c.benchmark_group("aave");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(1));
    g.bench_function("borrow_with_hf_check", |b| {
        b.iter(|| pool.borrow(&mut ledger, &prices, alice, usdc, u(1), 0).unwrap())
    });
    g.finish();
}

fn morpho_borrow(c: &mut Criterion) {
    let mut ledger = Ledger::new();
    let weth = ledger.register_asset("WETH", 18, "native", AssetKind::Plain).unwrap();
    let ezeth = ledger.register_asset("ezETH", 18, "renzo", AssetKind::Plain).unwrap();
    let sup = ledger.account("supplier");
    let bor = ledger.account("borrower");
    ledger.mint(sup, weth, u(1_000_000 * E18)).unwrap();
    ledger.mint(bor, ezeth, u(1_000_000 * E18)).unwrap();
    let mut mb = MorphoBlue::new();
    let params = MarketParams {
        loan_token: weth,
        collateral_token: ezeth,
        irm: Irm::AdaptiveCurve,
        lltv: u(860_000_000_000_000_000),
    };
    let (id, _) = mb.create_market(&mut ledger, params, 0).unwrap();
    mb.supply(&mut ledger, id, sup, u(1_000_000 * E18), U256::ZERO, 0)
        .unwrap();
    mb.supply_collateral(&mut ledger, id, bor, u(1_000_000 * E18)).unwrap();
    let price = u(E18 * E18);
    let mut g = c.benchmark_group("morpho");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(1));
    g.bench_function("borrow_with_health_check", |b| {
        b.iter(|| {
            mb.borrow(&mut ledger, &price, id, bor, u(1_000), U256::ZERO, 0)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, aave_borrow, morpho_borrow);
criterion_main!(benches);
