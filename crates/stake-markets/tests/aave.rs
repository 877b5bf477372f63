#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] fns may unwrap.
//! Aave v3 model: SPEC §7.3 vectors, hand-worked borrows and liquidations, e-mode looping, caps,
//! every rejection path with its exact error and an unchanged state, invariants after every op.
//!
//! Hand computations are checked against a few lines of Python integer arithmetic that mirror
//! the Solidity formulas (`percentMul` half up, `mulDivCeil`, `wadDiv` half up).

use stake_ledger::{state_hash, AccountId, AssetId, AssetKind, Ledger, LedgerError, Reject};
use stake_markets::aave::*;
use stake_math::{percent_mul_half_up, ray_div_down, ray_mul_down, u, RAY, SECONDS_PER_YEAR, U256};

const E18: u128 = 1_000_000_000_000_000_000;
const E6: u128 = 1_000_000;
const E8: u128 = 100_000_000;

struct World {
    ledger: Ledger,
    pool: AaveV3,
    prices: StaticPrices,
    weth: AssetId,
    wsteth: AssetId,
    weeth: AssetId,
    usdc: AssetId,
    alice: AccountId,
    bob: AccountId,
    carol: AccountId,
}

pub(crate) fn usdc_config() -> ReserveConfig {
    ReserveConfig {
        ltv_bps: 7_500,
        liquidation_threshold_bps: 7_800,
        liquidation_bonus_bps: 10_450,
        reserve_factor_bps: 1_000,
        liquidation_protocol_fee_bps: 1_000,
        supply_cap: u(2_000_000),
        borrow_cap: u(1_000_000),
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
    }
}

fn world() -> World {
    let mut ledger = Ledger::new();
    let weth = ledger.register_asset("WETH", 18, "native", AssetKind::Plain).unwrap();
    let wsteth = ledger.register_asset("wstETH", 18, "lido", AssetKind::Plain).unwrap();
    let weeth = ledger.register_asset("weETH", 18, "etherfi", AssetKind::Plain).unwrap();
    let usdc = ledger.register_asset("USDC", 6, "native", AssetKind::Plain).unwrap();
    let mut pool = AaveV3::mainnet_like(&mut ledger, weth, wsteth, weeth, 0).unwrap();
    pool.init_reserve(
        &mut ledger,
        ReserveInit {
            symbol: "USDC".into(),
            underlying: usdc,
            price_asset: usdc,
            config: usdc_config(),
        },
        0,
    )
    .unwrap();
    let mut prices = StaticPrices::new();
    prices.set(weth, u(2_000 * E8));
    prices.set(wsteth, u(2_400 * E8));
    prices.set(weeth, u(2_100 * E8));
    prices.set(usdc, u(E8));
    let alice = ledger.account("alice");
    let bob = ledger.account("bob");
    let carol = ledger.account("carol");
    for (who, asset, amount) in [
        (alice, weth, 1_000 * E18),
        (alice, wsteth, 1_000 * E18),
        (alice, usdc, 100_000 * E6),
        (bob, weth, 100_000 * E18),
        (bob, usdc, 3_000_000 * E6),
        (carol, usdc, 1_000_000 * E6),
        (carol, weth, 1_000 * E18),
    ] {
        ledger.mint(who, asset, u(amount)).unwrap();
    }
    World {
        ledger,
        pool,
        prices,
        weth,
        wsteth,
        weeth,
        usdc,
        alice,
        bob,
        carol,
    }
}

impl World {
    fn ok(&self) {
        self.pool.check_invariants(&self.ledger).unwrap();
    }
    fn snapshot(&self) -> ([u8; 32], [u8; 32]) {
        (state_hash(&self.pool), state_hash(&self.ledger))
    }
    /// Asserts `r` is exactly `expected` and that nothing changed.
    fn rejects<T: std::fmt::Debug>(&self, before: &([u8; 32], [u8; 32]), r: AaveResult<T>, expected: AaveError) {
        let err = r.expect_err("must be rejected");
        assert_eq!(err, expected);
        assert!((6200..6400).contains(&err.code()) || matches!(err, AaveError::Ledger(_) | AaveError::Math(_)));
        assert_eq!(&self.snapshot(), before, "state changed by a rejected action");
        self.ok();
    }
    fn supply(&mut self, who: AccountId, asset: AssetId, amount: u128, now: u64) {
        self.pool.supply(&mut self.ledger, who, asset, u(amount), now).unwrap();
        self.ok();
    }
    fn borrow(&mut self, who: AccountId, asset: AssetId, amount: u128, now: u64) {
        self.pool
            .borrow(&mut self.ledger, &self.prices, who, asset, u(amount), now)
            .unwrap();
        self.ok();
    }
    /// Bob provides 100k USDC; Alice supplies `weth` WETH and borrows `usdc` USDC at t = 0.
    fn position(&mut self, weth: u128, usdc: u128) {
        let (bob, alice, w, c) = (self.bob, self.alice, self.weth, self.usdc);
        self.supply(bob, c, 100_000 * E6, 0);
        self.supply(alice, w, weth, 0);
        self.borrow(alice, c, usdc, 0);
    }
}

#[test]
fn supply_mints_scaled_atokens_and_enables_collateral() {
    let mut w = world();
    let events = w.pool.supply(&mut w.ledger, w.alice, w.weth, u(10 * E18), 0).unwrap();
    w.ok();
    assert_eq!(
        events[0],
        AaveEvent::Supply {
            asset: w.weth,
            user: w.alice,
            amount: u(10 * E18),
            scaled: u(10 * E18)
        }
    );
    assert_eq!(
        events[1],
        AaveEvent::CollateralEnabled {
            asset: w.weth,
            user: w.alice
        }
    );
    let r = w.pool.reserve(w.weth).unwrap();
    assert_eq!(w.ledger.balance(w.alice, r.a_token), u(10 * E18));
    assert_eq!(w.ledger.balance(r.account, w.weth), u(10 * E18));
    assert_eq!(r.virtual_balance, u(10 * E18));
    // weETH (LTV 72.5 %) is enabled too; a zero-LTV reserve would not be.
    assert!(w.pool.user_config(w.alice).collateral & 1 != 0);
}

#[test]
fn borrow_at_exactly_the_ltv_passes_and_one_more_unit_is_rejected() {
    let mut w = world();
    // 10 WETH at $2,000 = $20,000; LTV 80.5 % → $16,100.
    w.position(10 * E18, 16_100 * E6);
    let data = w.pool.account_data(&w.ledger, &w.prices, w.alice, 0).unwrap();
    assert_eq!(data.total_collateral_base, u(20_000 * E8));
    assert_eq!(data.total_debt_base, u(16_100 * E8));
    assert_eq!(data.avg_ltv_bps, u(8_050));
    // HF = wadDiv(20,000e8 · 8,300, 16,100e8) / 1e4 = 1.031055900621118012.
    assert_eq!(data.health_factor, u(1_031_055_900_621_118_012));
    assert_eq!(
        w.pool.debt_balance(&w.ledger, w.alice, w.usdc, 0).unwrap(),
        u(16_100 * E6)
    );

    let before = w.snapshot();
    let r = w.pool.borrow(&mut w.ledger, &w.prices, w.alice, w.usdc, u(1), 0);
    // debt 16,100.000001 USDC → mulDivCeil(16100000001, 1e8, 1e6) = 1,610,000,000,100;
    // required = ⌈1,610,000,000,100 · 1e4 / 8,050⌉ = 2,000,000,000,125 > 2,000,000,000,000.
    w.rejects(
        &before,
        r,
        AaveError::CollateralCannotCoverNewBorrow {
            collateral_base: u(20_000 * E8),
            required_base: u(2_000_000_000_125),
        },
    );
}

#[test]
fn rejections_leave_state_unchanged() {
    let mut w = world();
    w.position(10 * E18, 1_000 * E6);
    let (alice, bob, weth, usdc, weeth) = (w.alice, w.bob, w.weth, w.usdc, w.weeth);
    let before = w.snapshot();

    let r = w.pool.supply(&mut w.ledger, alice, weth, U256::ZERO, 0);
    w.rejects(&before, r, AaveError::InvalidAmount);
    let nobody = AssetId(999);
    let r = w.pool.supply(&mut w.ledger, alice, nobody, u(1), 0);
    w.rejects(&before, r, AaveError::UnknownReserve { asset: nobody });
    let r = w.pool.borrow(&mut w.ledger, &w.prices, alice, weeth, u(E18), 0);
    w.rejects(&before, r, AaveError::BorrowingNotEnabled { asset: weeth });
    let r = w.pool.borrow(&mut w.ledger, &w.prices, bob, weth, u(E18), 0);
    // Bob's USDC collateral: $100,000 · 75 % covers 1 WETH; fine — so use a user with no collateral.
    assert!(r.is_ok());
    w.ok();
    let before = w.snapshot();
    let carol = w.carol;
    let r = w.pool.borrow(&mut w.ledger, &w.prices, carol, weth, u(E18), 0);
    w.rejects(&before, r, AaveError::LtvValidationFailed);
    let r = w.pool.withdraw(&mut w.ledger, &w.prices, alice, weth, u(11 * E18), 0);
    w.rejects(
        &before,
        r,
        AaveError::NotEnoughAvailableUserBalance {
            requested_scaled: u(11 * E18),
            balance_scaled: u(10 * E18),
        },
    );
    let r = w.pool.repay(&mut w.ledger, &w.prices, carol, usdc, u(1), false, 0);
    w.rejects(&before, r, AaveError::NoDebtOfSelectedType { asset: usdc });
    let r = w
        .pool
        .repay(&mut w.ledger, &w.prices, alice, usdc, U256::ZERO, false, 0);
    w.rejects(&before, r, AaveError::InvalidAmount);
    let r = w
        .pool
        .liquidation_call(&mut w.ledger, &w.prices, carol, weth, usdc, alice, u(E6), false, 0);
    // HF = wadDiv(20,000e8·8,300, 1,000e8)/1e4 = 16.6.
    w.rejects(
        &before,
        r,
        AaveError::HealthFactorNotBelowThreshold {
            health_factor: u(16_600_000_000_000_000_000),
        },
    );
    let r = w
        .pool
        .liquidation_call(&mut w.ledger, &w.prices, alice, weth, usdc, alice, u(E6), false, 0);
    w.rejects(&before, r, AaveError::SelfLiquidation);
    let r = w.pool.supply(&mut w.ledger, carol, w.wsteth, u(E18), 0);
    w.rejects(
        &before,
        r,
        AaveError::Ledger(Box::new(LedgerError::InsufficientBalance {
            account: "carol".into(),
            asset: "wstETH".into(),
            balance: U256::ZERO,
            required: u(E18),
            decimals: 18,
        })),
    );
    let mut empty = StaticPrices::new();
    empty.set(usdc, u(E8));
    let r = w.pool.borrow(&mut w.ledger, &empty, alice, usdc, u(E6), 0);
    w.rejects(
        &before,
        r,
        AaveError::Price {
            asset: weth,
            message: format!("no price for asset #{}", weth.0),
        },
    );
    // Time going backwards after an update at t = 100.
    w.pool.accrue(&w.ledger, usdc, 100).unwrap();
    let before = w.snapshot();
    let r = w.pool.supply(&mut w.ledger, bob, usdc, u(E6), 50);
    w.rejects(
        &before,
        r,
        AaveError::TimeWentBackwards {
            last_update: 100,
            now: 50,
        },
    );
    // Withdrawing all USDC liquidity: Bob supplied 100k, Alice borrowed 1,000.
    let r = w.pool.withdraw(&mut w.ledger, &w.prices, bob, usdc, U256::MAX, 100);
    assert!(matches!(r, Err(AaveError::InsufficientLiquidity { .. })), "{r:?}");
    assert_eq!(w.snapshot(), before);
    // Enabling a zero balance as collateral.
    let r = w
        .pool
        .set_use_as_collateral(&mut w.ledger, &w.prices, carol, weeth, true, 100);
    w.rejects(&before, r, AaveError::UnderlyingBalanceZero);
}

#[test]
fn withdraw_that_breaks_the_health_factor_is_rejected_and_a_safe_one_passes() {
    let mut w = world();
    w.position(10 * E18, 16_000 * E6);
    let before = w.snapshot();
    // Withdrawing 1 WETH leaves $18,000: HF = wadDiv(18,000e8·8,300, 16,000e8)/1e4 = 0.93375.
    let r = w.pool.withdraw(&mut w.ledger, &w.prices, w.alice, w.weth, u(E18), 0);
    w.rejects(
        &before,
        r,
        AaveError::HealthFactorLowerThanLiquidationThreshold {
            health_factor: u(933_750_000_000_000_000),
        },
    );
    // Disabling the only collateral: HF = 0.
    let r = w
        .pool
        .set_use_as_collateral(&mut w.ledger, &w.prices, w.alice, w.weth, false, 0);
    w.rejects(
        &before,
        r,
        AaveError::HealthFactorLowerThanLiquidationThreshold {
            health_factor: U256::ZERO,
        },
    );
    // 0.3 WETH is fine: $19,400·0.83/16,000 = 1.006375.
    w.pool
        .withdraw(&mut w.ledger, &w.prices, w.alice, w.weth, u(3 * E18 / 10), 0)
        .unwrap();
    w.ok();
    let hf = w
        .pool
        .account_data(&w.ledger, &w.prices, w.alice, 0)
        .unwrap()
        .health_factor;
    assert_eq!(hf, u(1_006_375_000_000_000_000));
}

#[test]
fn supply_and_borrow_caps_reject_with_the_totals() {
    let mut w = world();
    let (alice, bob, usdc) = (w.alice, w.bob, w.usdc);
    w.supply(bob, usdc, 1_999_000 * E6, 0);
    let before = w.snapshot();
    let r = w.pool.supply(&mut w.ledger, bob, usdc, u(1_001 * E6), 0);
    w.rejects(
        &before,
        r,
        AaveError::SupplyCapExceeded {
            cap: u(2_000_000 * E6),
            total_after: u(2_000_001 * E6),
        },
    );
    w.supply(bob, usdc, 1_000 * E6, 0);
    // Borrow cap 1,000,000 USDC: Alice with 1,000 WETH ($2M, LTV 80.5 %) borrows 1,000,000, then 1 more.
    w.supply(alice, w.weth, 1_000 * E18, 0);
    w.borrow(alice, usdc, 1_000_000 * E6, 0);
    let before = w.snapshot();
    let r = w.pool.borrow(&mut w.ledger, &w.prices, alice, usdc, u(1), 0);
    w.rejects(
        &before,
        r,
        AaveError::BorrowCapExceeded {
            cap: u(1_000_000 * E6),
            total_after: u(1_000_000 * E6 + 1),
        },
    );
}

#[test]
fn a_year_of_interest_accrues_indices_and_treasury_exactly() {
    let mut w = world();
    w.position(10 * E18, 16_000 * E6);
    let (usdc, bob) = (w.usdc, w.bob);
    let r0 = w.pool.reserve(usdc).unwrap().clone();
    // U = 16,000/100,000 = 16 %: var = 5.5 %·0.16/0.92, liq = var·0.16·0.9.
    let (var, liq) = rates(9_200, 0, 550, 3_500, 1_000, u(16_000 * E6), u(84_000 * E6)).unwrap();
    assert_eq!(r0.current_variable_borrow_rate, var);
    assert_eq!(r0.current_liquidity_rate, liq);
    assert_eq!(var, U256::from_str_radix("9565217391304347826086957", 10).unwrap());
    let year = SECONDS_PER_YEAR;
    w.pool.accrue(&w.ledger, usdc, year).unwrap();
    w.ok();
    let r1 = w.pool.reserve(usdc).unwrap().clone();
    let borrow_index =
        stake_math::ray_mul_half_up(stake_markets::aave::compounded_interest(var, year).unwrap(), RAY).unwrap();
    let liq_index = stake_math::ray_mul_half_up(linear_interest(liq, year).unwrap(), RAY).unwrap();
    assert_eq!(r1.variable_borrow_index, borrow_index);
    assert_eq!(r1.liquidity_index, liq_index);
    // Treasury: ⌊scaledDebt·Δindex⌋ · 10 % (half up), scaled down by the new liquidity index.
    let accrued = ray_mul_down(u(16_000 * E6), borrow_index - RAY).unwrap();
    let expected = ray_div_down(percent_mul_half_up(accrued, u(1_000)).unwrap(), liq_index).unwrap();
    assert_eq!(r1.accrued_to_treasury, expected);
    // Same second again: nothing moves.
    w.pool.accrue(&w.ledger, usdc, year).unwrap();
    assert_eq!(w.pool.reserve(usdc).unwrap(), &r1);
    // Minting to the treasury moves the accrual into the ledger.
    w.pool.mint_to_treasury(&mut w.ledger, usdc, year).unwrap();
    w.ok();
    let treasury = w.ledger.find_account(TREASURY).unwrap();
    assert_eq!(w.ledger.balance(treasury, r1.a_token), expected);
    // Bob's deposit grew by the linear index.
    let bal = w.pool.a_token_balance(&w.ledger, bob, usdc, year).unwrap();
    assert_eq!(bal, ray_mul_down(u(100_000 * E6), liq_index).unwrap());
    let report = w.pool.reserve_report(&w.ledger, usdc).unwrap();
    assert!(report.borrow_apy > 0.0095 && report.borrow_apy < 0.0097, "{report:?}");
}

#[test]
fn full_repay_clears_debt_and_repay_with_atokens_burns_collateral() {
    let mut w = world();
    w.position(10 * E18, 1_000 * E6);
    let (alice, usdc, weth) = (w.alice, w.usdc, w.weth);
    w.pool
        .repay(&mut w.ledger, &w.prices, alice, usdc, U256::MAX, false, 3_600)
        .unwrap();
    w.ok();
    assert_eq!(w.pool.user_config(alice).borrowing, 0);
    assert_eq!(
        w.ledger.balance(alice, w.pool.reserve(usdc).unwrap().debt_token),
        U256::ZERO
    );
    // Borrow 1 WETH against WETH and repay it with aWETH.
    w.borrow(alice, weth, E18, 3_600);
    let a_before = w.ledger.balance(alice, w.pool.reserve(weth).unwrap().a_token);
    let ev = w
        .pool
        .repay(&mut w.ledger, &w.prices, alice, weth, U256::MAX, true, 3_600)
        .unwrap();
    w.ok();
    assert_eq!(
        ev[0],
        AaveEvent::Repay {
            asset: weth,
            user: alice,
            amount: u(E18),
            use_a_tokens: true
        }
    );
    let a_after = w.ledger.balance(alice, w.pool.reserve(weth).unwrap().a_token);
    assert!(a_before - a_after >= u(E18 * 99 / 100));
}

#[test]
fn small_position_is_fully_liquidatable_with_bonus_and_protocol_fee() {
    let mut w = world();
    // 1 WETH, 1,500 USDC; WETH falls to $1,700: HF = wadDiv(1,700e8·8,300, 1,500e8)/1e4 = 0.940666…
    w.position(E18, 1_500 * E6);
    w.prices.set(w.weth, u(1_700 * E8));
    let hf = w
        .pool
        .account_data(&w.ledger, &w.prices, w.alice, 0)
        .unwrap()
        .health_factor;
    assert_eq!(hf, u(940_666_666_666_666_666));
    let (carol, alice, weth, usdc) = (w.carol, w.alice, w.weth, w.usdc);
    let carol_weth = w.ledger.balance(carol, weth);
    let ev = w
        .pool
        .liquidation_call(&mut w.ledger, &w.prices, carol, weth, usdc, alice, U256::MAX, false, 0)
        .unwrap();
    w.ok();
    // Both sides < $2,000 → close factor 100 %: debt 1,500 USDC; base collateral
    // 1,500/1,700 = 0.882352941176470588 WETH; ×1.05 = 0.926470588235294117;
    // bonus = that − percentDiv(that, 10,500) = 0.044117647058823529…; fee 10 % = 0.004411764705882353.
    assert_eq!(
        ev.last().unwrap(),
        &AaveEvent::LiquidationCall {
            collateral_asset: weth,
            debt_asset: usdc,
            user: alice,
            liquidator: carol,
            debt_to_cover: u(1_500 * E6),
            liquidated_collateral: u(922_058_823_529_411_764),
            protocol_fee: u(4_411_764_705_882_353),
            receive_a_token: false,
        }
    );
    assert_eq!(w.ledger.balance(carol, weth) - carol_weth, u(922_058_823_529_411_764));
    let treasury = w.ledger.find_account(TREASURY).unwrap();
    assert_eq!(
        w.ledger.balance(treasury, w.pool.reserve(weth).unwrap().a_token),
        u(4_411_764_705_882_353)
    );
    assert_eq!(w.pool.debt_balance(&w.ledger, alice, usdc, 0).unwrap(), U256::ZERO);
    assert_eq!(w.pool.stats.liquidations, 1);
    assert_eq!(w.pool.reserve(usdc).unwrap().deficit, U256::ZERO);
}

#[test]
fn large_healthy_ish_position_is_liquidated_at_fifty_percent() {
    let mut w = world();
    // 10 WETH, 16,000 USDC; WETH at $1,900: HF = 0.985625 > 0.95 and both sides ≥ $2,000.
    w.position(10 * E18, 16_000 * E6);
    w.prices.set(w.weth, u(1_900 * E8));
    let (carol, alice, weth, usdc) = (w.carol, w.alice, w.weth, w.usdc);
    let ev = w
        .pool
        .liquidation_call(&mut w.ledger, &w.prices, carol, weth, usdc, alice, U256::MAX, true, 0)
        .unwrap();
    w.ok();
    // Close factor 50 %: 8,000 USDC; collateral 8,000/1,900·1.05 = 4.421052631578947368 WETH,
    // fee 0.021052631578947368 → 4.4 WETH to Carol as aWETH.
    assert_eq!(
        ev.last().unwrap(),
        &AaveEvent::LiquidationCall {
            collateral_asset: weth,
            debt_asset: usdc,
            user: alice,
            liquidator: carol,
            debt_to_cover: u(8_000 * E6),
            liquidated_collateral: u(4_400_000_000_000_000_000),
            protocol_fee: u(21_052_631_578_947_368),
            receive_a_token: true,
        }
    );
    let a_weth = w.pool.reserve(weth).unwrap().a_token;
    assert_eq!(w.ledger.balance(carol, a_weth), u(4_400_000_000_000_000_000));
    // v3.6 ("Liquidate aTokens"): the received aTokens are not enabled as the liquidator's collateral.
    assert!(!ev
        .iter()
        .any(|e| matches!(e, AaveEvent::CollateralEnabled { user, .. } if *user == carol)));
    assert_eq!(
        w.pool.user_config(carol).collateral & (1u128 << w.pool.reserve(weth).unwrap().id),
        0
    );
    assert_eq!(w.pool.debt_balance(&w.ledger, alice, usdc, 0).unwrap(), u(8_000 * E6));
}

#[test]
fn partial_liquidation_leaving_dust_is_rejected() {
    let mut w = world();
    w.position(E18, 1_500 * E6);
    w.prices.set(w.weth, u(1_700 * E8));
    let before = w.snapshot();
    let r = w.pool.liquidation_call(
        &mut w.ledger,
        &w.prices,
        w.carol,
        w.weth,
        w.usdc,
        w.alice,
        u(1_000 * E6),
        false,
        0,
    );
    // Debt left $500 < $1,000; collateral left (1 − 0.614705882352941176 − 0.002941176470588235)·1,700 = $650.
    w.rejects(
        &before,
        r,
        AaveError::MustNotLeaveDust {
            debt_left_base: u(500 * E8),
            collateral_left_base: u(650 * E8),
        },
    );
}

#[test]
fn collateral_exhausted_liquidation_caps_the_bonus_and_books_bad_debt_as_deficit() {
    let mut w = world();
    // 1 WETH, 1,500 USDC; WETH at $1,400: collateral $1,400 < debt·LB.
    w.position(E18, 1_500 * E6);
    w.prices.set(w.weth, u(1_400 * E8));
    let (carol, alice, weth, usdc) = (w.carol, w.alice, w.weth, w.usdc);
    let ev = w
        .pool
        .liquidation_call(&mut w.ledger, &w.prices, carol, weth, usdc, alice, U256::MAX, false, 0)
        .unwrap();
    w.ok();
    // All 1 WETH seized; debt needed = percentDivCeil(1,400 USDC, 10,500) = 1,333.333334 USDC;
    // the other 166.666666 USDC become the USDC reserve's deficit.
    assert!(ev.contains(&AaveEvent::DeficitCreated {
        user: alice,
        asset: usdc,
        amount: u(166_666_666)
    }));
    assert!(ev.contains(&AaveEvent::LiquidationCall {
        collateral_asset: weth,
        debt_asset: usdc,
        user: alice,
        liquidator: carol,
        debt_to_cover: u(1_333_333_334),
        liquidated_collateral: u(995_238_095_238_095_238),
        protocol_fee: u(4_761_904_761_904_762),
        receive_a_token: false,
    }));
    assert_eq!(w.pool.reserve(usdc).unwrap().deficit, u(166_666_666));
    assert_eq!(w.pool.user_config(alice), UserConfig::default());
    assert_eq!(w.pool.total_deficit_base(&w.prices, 0).unwrap(), u(16_666_666_600));
    assert_eq!(w.pool.stats.bad_debt_events, 1);
    assert!(w.pool.health_factors(&w.ledger, &w.prices, 0).unwrap().is_empty());
}

#[test]
fn emode_looping_reaches_about_one_over_one_minus_ltv() {
    let mut w = world();
    let (alice, bob, weth, wsteth) = (w.alice, w.bob, w.weth, w.wsteth);
    w.supply(bob, weth, 100_000 * E18, 0);
    w.supply(bob, w.usdc, 10_000 * E6, 0);
    w.pool.set_user_emode(&mut w.ledger, &w.prices, alice, 1, 0).unwrap();
    w.ok();
    let initial = 10 * E18;
    w.supply(alice, wsteth, initial, 0);
    let price_weth = 2_000 * E8;
    let price_wsteth = 2_400 * E8;
    for _ in 0..400 {
        let data = w.pool.account_data(&w.ledger, &w.prices, alice, 0).unwrap();
        let avail = data.available_borrows_base().unwrap();
        if avail <= u(10) {
            break;
        }
        // Two base units of margin for the ceil roundings of debt value and percentDivCeil.
        let amount = u128::try_from(avail - 2).unwrap() * E18 / price_weth;
        if amount == 0 {
            break;
        }
        w.borrow(alice, weth, amount, 0);
        // "Swap" WETH → wstETH at oracle prices, outside the pool.
        w.ledger.burn(alice, weth, u(amount)).unwrap();
        let out = amount * price_weth / price_wsteth;
        w.ledger.mint(alice, wsteth, u(out)).unwrap();
        w.supply(alice, wsteth, out, 0);
    }
    let data = w.pool.account_data(&w.ledger, &w.prices, alice, 0).unwrap();
    let leverage = data.total_collateral_base.as_f64() / (initial as f64 * 2_400.0 / 1e10);
    // 1/(1 − 0.935) = 15.3846…
    assert!(leverage > 15.2 && leverage < 15.385, "leverage {leverage}");
    assert!(data.health_factor >= u(E18));
    // Leaving e-mode with that leverage is refused (LT falls to 81 %).
    let before = w.snapshot();
    let r = w.pool.set_user_emode(&mut w.ledger, &w.prices, alice, 0, 0);
    let hf = w.pool.account_data(&w.ledger, &w.prices, alice, 0).unwrap();
    let expected_hf =
        stake_math::wad_div_half_up(data.total_collateral_base * u(8_100), hf.total_debt_base).unwrap() / u(10_000);
    w.rejects(
        &before,
        r,
        AaveError::HealthFactorLowerThanLiquidationThreshold {
            health_factor: expected_hf,
        },
    );
    let r = w.pool.set_user_emode(&mut w.ledger, &w.prices, alice, 9, 0);
    w.rejects(&before, r, AaveError::InconsistentEModeCategory { category: 9 });
    let r = w.pool.borrow(&mut w.ledger, &w.prices, alice, w.usdc, u(E6), 0);
    w.rejects(
        &before,
        r,
        AaveError::NotBorrowableInEMode {
            category: 1,
            asset: w.usdc,
        },
    );
}

#[test]
fn error_codes_are_in_the_aave_range_and_messages_name_values() {
    let e = AaveError::SupplyCapExceeded {
        cap: u(5),
        total_after: u(6),
    };
    assert_eq!(e.code(), 6207);
    assert!(e.to_string().contains('6') && e.to_string().contains('5'));
    assert_eq!(
        AaveError::MustNotLeaveDust {
            debt_left_base: u(1),
            collateral_left_base: u(2)
        }
        .code(),
        6222
    );
    assert_eq!(AaveError::Ledger(Box::new(LedgerError::TooManyAssets)).code(), 1003);
}

/// The configurator's collateral rules, as `configureReserveAsCollateral` and `setEModeCategory`
/// check them: a bonus of exactly 100 % is refused (the liquidator would get nothing for the
/// risk), `percentMul(lt, lb)` rounds half up before the comparison with 100 %, and a reserve
/// with no liquidation threshold may not carry a bonus. Each refusal leaves the pool unchanged.
#[test]
fn liquidation_bonus_must_be_strictly_above_one_hundred_percent() {
    let mut w = world();
    let usdc = w.usdc;
    let before = w.snapshot();
    let invalid = |reason: &str| AaveError::InvalidConfig { reason: reason.into() };
    let with = |lt: u32, lb: u32| ReserveConfig {
        ltv_bps: lt.min(7_500),
        liquidation_threshold_bps: lt,
        liquidation_bonus_bps: lb,
        ..usdc_config()
    };
    let r = w.pool.set_reserve_config(&w.ledger, usdc, with(7_800, 10_000), 0);
    w.rejects(&before, r, invalid("liquidation bonus must be above 100 %"));
    let r = w
        .pool
        .set_emode_category(9, "flat", 9_000, 9_300, 10_000, &[usdc], &[usdc]);
    w.rejects(&before, r, invalid("liquidation bonus must be above 100 %"));
    // 9,901 × 10,100 = 100,000,100 → percentMul = ⌊(100,000,100 + 5,000)/10⁴⌋ = 10,000: allowed
    // (a plain product test would refuse it); 9,901 × 10,101 = 100,010,001 → 10,001: refused.
    let r = w
        .pool
        .set_emode_category(9, "edge", 9_000, 9_901, 10_101, &[usdc], &[usdc]);
    w.rejects(&before, r, invalid("liquidation threshold × bonus above 100 %"));
    let r = w.pool.set_reserve_config(&w.ledger, usdc, with(0, 10_450), 0);
    w.rejects(
        &before,
        r,
        invalid("a liquidation bonus without a liquidation threshold"),
    );
    w.pool
        .set_emode_category(9, "edge", 9_000, 9_901, 10_100, &[usdc], &[usdc])
        .unwrap();
    w.pool.set_reserve_config(&w.ledger, usdc, with(0, 0), 0).unwrap();
    w.ok();
}

/// Makes `asset` an isolated collateral with `ceiling_usd` (2 decimals in the config) and USDC
/// borrowable in isolation; Bob provides 100k USDC.
fn isolated(w: &mut World, asset: AssetId, ceiling_usd: u128) {
    let cfg = ReserveConfig {
        debt_ceiling: u(ceiling_usd * 100),
        ..w.pool.reserve(asset).unwrap().config.clone()
    };
    w.pool.set_reserve_config(&w.ledger, asset, cfg, 0).unwrap();
    let usdc = ReserveConfig {
        borrowable_in_isolation: true,
        ..w.pool.reserve(w.usdc).unwrap().config.clone()
    };
    w.pool.set_reserve_config(&w.ledger, w.usdc, usdc, 0).unwrap();
    let (bob, c) = (w.bob, w.usdc);
    w.supply(bob, c, 100_000 * E6, 0);
}

/// Isolation mode as Aave v3.6 runs it (`ValidationLogic.validateUseAsCollateral` /
/// `validateAutomaticUseAsCollateral`, `IsolationModeLogic`): an isolated asset is never enabled
/// as collateral by a supply; enabled by hand as the only collateral it puts the user in
/// isolation, where no other collateral can be added, only `borrowableInIsolation` assets can be
/// borrowed, and `isolationModeTotalDebt` (USD, 2 decimals: `amount / 10^(decimals − 2)`,
/// floored) may not pass the ceiling; repaying lowers it by the floored units.
#[test]
fn isolation_mode_caps_debt_at_the_ceiling_and_allows_one_collateral() {
    let mut w = world();
    let (alice, wsteth, weth, usdc) = (w.alice, w.wsteth, w.weth, w.usdc);
    isolated(&mut w, wsteth, 10_000);
    let ev = w.pool.supply(&mut w.ledger, alice, wsteth, u(10 * E18), 0).unwrap();
    assert_eq!(ev.len(), 1, "an isolated asset is not enabled automatically: {ev:?}");
    assert_eq!(w.pool.user_config(alice).collateral, 0);
    w.pool
        .set_use_as_collateral(&mut w.ledger, &w.prices, alice, wsteth, true, 0)
        .unwrap();
    // A second supply is not enabled either, and cannot be enabled by hand.
    let ev = w.pool.supply(&mut w.ledger, alice, weth, u(E18), 0).unwrap();
    assert_eq!(ev.len(), 1, "{ev:?}");
    let before = w.snapshot();
    let r = w
        .pool
        .set_use_as_collateral(&mut w.ledger, &w.prices, alice, weth, true, 0);
    w.rejects(&before, r, AaveError::UserInIsolationModeOrLtvZero);
    let r = w.pool.borrow(&mut w.ledger, &w.prices, alice, weth, u(E18 / 10), 0);
    w.rejects(&before, r, AaveError::AssetNotBorrowableInIsolation { asset: weth });
    w.borrow(alice, usdc, 6_000 * E6, 0);
    assert_eq!(w.pool.reserve(wsteth).unwrap().isolation_mode_total_debt, u(600_000));
    // 4,000.01 more would make 1,000,001 cents against a 1,000,000 ceiling.
    let before = w.snapshot();
    let r = w
        .pool
        .borrow(&mut w.ledger, &w.prices, alice, usdc, u(4_000_010_000), 0);
    w.rejects(
        &before,
        r,
        AaveError::DebtCeilingExceeded {
            ceiling: u(1_000_000),
            total_after: u(1_000_001),
        },
    );
    // 4,000.009999 floors to 400,000 units: exactly at the ceiling, allowed.
    w.borrow(alice, usdc, 4_000_009_999, 0);
    assert_eq!(w.pool.reserve(wsteth).unwrap().isolation_mode_total_debt, u(1_000_000));
    // Repaying 2,500.009999 lowers it by ⌊2,500,009,999 / 10⁴⌋ = 250,000.
    w.pool
        .repay(&mut w.ledger, &w.prices, alice, usdc, u(2_500_009_999), false, 0)
        .unwrap();
    w.ok();
    assert_eq!(w.pool.reserve(wsteth).unwrap().isolation_mode_total_debt, u(750_000));
    // A user with another collateral first cannot add the isolated one.
    let carol = w.carol;
    w.supply(carol, weth, 10 * E18, 0);
    w.ledger.mint(carol, wsteth, u(E18)).unwrap();
    w.supply(carol, wsteth, E18, 0);
    let before = w.snapshot();
    let r = w
        .pool
        .set_use_as_collateral(&mut w.ledger, &w.prices, carol, wsteth, true, 0);
    w.rejects(&before, r, AaveError::UserInIsolationModeOrLtvZero);
    // A liquidation against the ceiled collateral lowers the isolated debt by the debt it
    // covers, floored: 1,000.005 USDC → 100,000 units (`LiquidationLogic`, `updateIsolatedDebt`).
    w.prices.set(wsteth, u(800 * E8));
    w.pool
        .liquidation_call(
            &mut w.ledger,
            &w.prices,
            carol,
            wsteth,
            usdc,
            alice,
            u(1_000_005_000),
            false,
            0,
        )
        .unwrap();
    w.ok();
    assert_eq!(w.pool.reserve(wsteth).unwrap().isolation_mode_total_debt, u(650_000));
}

/// Siloed borrowing (`ValidationLogic.validateBorrow`, v3.6): a user whose only debt is a
/// siloed asset may borrow only it, and a siloed asset may not be added to other debt.
#[test]
fn a_siloed_asset_is_borrowed_alone() {
    let mut w = world();
    let (alice, carol, bob, weth, usdc) = (w.alice, w.carol, w.bob, w.weth, w.usdc);
    let cfg = ReserveConfig {
        siloed_borrowing: true,
        ..w.pool.reserve(usdc).unwrap().config.clone()
    };
    w.pool.set_reserve_config(&w.ledger, usdc, cfg, 0).unwrap();
    w.supply(bob, usdc, 100_000 * E6, 0);
    w.supply(bob, weth, 100 * E18, 0);
    w.supply(alice, weth, 10 * E18, 0);
    w.borrow(alice, usdc, 1_000 * E6, 0);
    w.borrow(alice, usdc, 1_000 * E6, 0);
    let before = w.snapshot();
    let r = w.pool.borrow(&mut w.ledger, &w.prices, alice, weth, u(E18), 0);
    w.rejects(&before, r, AaveError::SiloedBorrowingViolation { asset: weth });
    w.supply(carol, weth, 10 * E18, 0);
    w.borrow(carol, weth, E18, 0);
    let before = w.snapshot();
    let r = w.pool.borrow(&mut w.ledger, &w.prices, carol, usdc, u(E6), 0);
    w.rejects(&before, r, AaveError::SiloedBorrowingViolation { asset: usdc });
    assert_eq!(AaveError::SiloedBorrowingViolation { asset: usdc }.code(), 6230);
    assert_eq!(
        AaveError::DebtCeilingExceeded {
            ceiling: U256::ZERO,
            total_after: U256::ZERO
        }
        .code(),
        6229
    );
    assert_eq!(AaveError::AssetNotBorrowableInIsolation { asset: usdc }.code(), 6228);
}
