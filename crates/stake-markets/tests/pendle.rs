//! Pendle v2: SPEC §7.4 vector, yield tokenisation, market operations, rejections, invariants.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_ledger::{state_hash, AccountId, AssetKind, Ledger, LedgerError};
use stake_markets::pendle::approx::ApproxParams;
use stake_markets::pendle::math::{self, MarketStateArgs};
use stake_markets::pendle::{Pendle, PendleError, DEFAULT_INTEREST_FEE_RATE};
use stake_math::{I256, U256};

const E18: u128 = 1_000_000_000_000_000_000;
const DAY: u64 = 86_400;
const T0: u64 = 1_700_000_000;

fn w(v: u128) -> U256 {
    U256::new(v)
}

/// The SPEC §7.4 check vector. Its netSyFee/netSyToReserve reproduce exactly with
/// lnFeeRateRoot = 498754151103897 (the raw value the vector was generated with).
fn spec_args() -> MarketStateArgs {
    MarketStateArgs {
        total_pt: w(1_000_000 * E18),
        total_sy: w(1_000_000 * E18),
        total_lp: w(1_000_000 * E18),
        scalar_root: I256::new(20 * E18 as i128),
        ln_fee_rate_root: w(498_754_151_103_897),
        reserve_fee_percent: w(80),
        last_ln_implied_rate: w(48_790_164_169_432_003), // ln(1.05)
        py_index: w(1_150_000_000_000_000_000),
        time_to_expiry: 180 * DAY,
    }
}

#[test]
fn spec_vector_rate_scalar_and_anchor_match() {
    let pre = math::market_pre_compute(spec_args()).unwrap();
    assert_eq!(pre.rate_scalar, I256::new(40_555_555_555_555_555_555));
    assert_eq!(pre.rate_anchor, I256::new(1_027_798_886_899_117_064));
}

#[test]
fn spec_vector_swap_exact_pt_for_sy_matches_exactly() {
    let out = math::swap_exact_pt_for_sy(spec_args(), w(1000 * E18)).unwrap();
    assert_eq!(out.net_sy, w(848_645_436_124_259_901_251));
    assert_eq!(out.net_sy_fee, w(208_759_310_992_458_254));
    assert_eq!(out.net_sy_to_reserve, w(167_007_448_793_966_603));
    assert_eq!(out.ln_implied_rate, w(48_880_398_328_354_651));
}

#[test]
fn buying_pt_costs_more_sy_than_selling_the_same_pt_returns() {
    let sell = math::swap_exact_pt_for_sy(spec_args(), w(1000 * E18)).unwrap();
    let buy = math::swap_sy_for_exact_pt(spec_args(), w(1000 * E18)).unwrap();
    assert!(buy.net_sy > sell.net_sy);
    assert!(buy.ln_implied_rate < spec_args().last_ln_implied_rate);
}

#[test]
fn pure_swaps_reject_exactly_where_the_contract_reverts() {
    let mut a = spec_args();
    a.time_to_expiry = 0;
    assert_eq!(math::swap_exact_pt_for_sy(a, w(1)), Err(PendleError::MarketExpired));
    let a = spec_args();
    assert_eq!(
        math::swap_sy_for_exact_pt(a, a.total_pt),
        Err(PendleError::MarketInsufficientPtForTrade {
            total_pt: I256::new(1_000_000 * E18 as i128),
            net_pt_to_account: I256::new(1_000_000 * E18 as i128),
        })
    );
    // Selling 30M PT into 1M PT / 1.15M asset: proportion 31/32.15 > 0.96.
    match math::swap_exact_pt_for_sy(a, w(30_000_000 * E18)) {
        Err(PendleError::MarketProportionTooHigh { proportion, max }) => {
            assert!(proportion > max);
            assert_eq!(max, I256::new(960_000_000_000_000_000));
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut z = spec_args();
    z.total_sy = U256::ZERO;
    assert_eq!(
        math::swap_exact_pt_for_sy(z, w(E18)),
        Err(PendleError::MarketZeroTotalPtOrTotalAsset {
            total_pt: I256::new(1_000_000 * E18 as i128),
            total_asset: I256::ZERO
        })
    );
    let mut neg = spec_args();
    neg.scalar_root = I256::new(-1);
    assert_eq!(
        math::swap_exact_pt_for_sy(neg, w(E18)),
        Err(PendleError::MarketRateScalarBelowZero {
            rate_scalar: I256::new(-2)
        })
    );
}

#[test]
fn implied_apy_and_pt_price_follow_the_ln_rate() {
    // exp(ln 1.05) − 1 ≈ 0.05 (LogExpMath rounding: within a few wei).
    let apy = math::implied_apy(w(48_790_164_169_432_003)).unwrap();
    assert!((apy - I256::new(50_000_000_000_000_000)).abs() < I256::new(10));
    let price = math::pt_to_asset_rate(w(48_790_164_169_432_003), 365 * DAY).unwrap();
    // 1/1.05 = 0.952380952380952380…
    assert!(
        price >= w(952_380_952_380_952_370) && price <= w(952_380_952_380_952_390),
        "{price}"
    );
}

// ------------------------------------------------------------------------------------------------
// State machine
// ------------------------------------------------------------------------------------------------

struct World {
    ledger: Ledger,
    p: Pendle,
    alice: AccountId,
    bob: AccountId,
    expiry: u64,
}

fn world() -> World {
    let mut ledger = Ledger::new();
    let wsteth = ledger.register_asset("wstETH", 18, "lido", AssetKind::Plain).unwrap();
    let alice = ledger.account("alice");
    let bob = ledger.account("bob");
    ledger.mint(alice, wsteth, w(10_000_000 * E18)).unwrap();
    ledger.mint(bob, wsteth, w(1_000 * E18)).unwrap();
    let mut p = Pendle::new(&mut ledger, DEFAULT_INTEREST_FEE_RATE).unwrap();
    let sy = p
        .create_sy(&mut ledger, "SY-wstETH", wsteth, w(1_150_000_000_000_000_000))
        .unwrap();
    let expiry = T0 + 180 * DAY;
    p.create_yield_contract(&mut ledger, sy, expiry, T0).unwrap();
    World {
        ledger,
        p,
        alice,
        bob,
        expiry,
    }
}

fn snapshot(wd: &World) -> ([u8; 32], String) {
    (state_hash(&wd.ledger), serde_json::to_string(&wd.p).unwrap())
}

fn check(wd: &World) {
    wd.p.check_invariants(&wd.ledger).unwrap();
    wd.ledger.check_conservation().unwrap();
}

#[test]
fn mint_gives_sy_to_asset_pt_and_yt_and_redeem_before_expiry_needs_both() {
    let mut wd = world();
    let (a, now) = (wd.alice, T0);
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(100 * E18)).unwrap();
    wd.p.mint_py(&mut wd.ledger, a, 0, w(100 * E18), now).unwrap();
    let c = &wd.p.yield_contracts[0];
    // 100 SY × 1.15 = 115 PT + 115 YT.
    assert_eq!(wd.ledger.balance(a, c.pt), w(115 * E18));
    assert_eq!(wd.ledger.balance(a, c.yt), w(115 * E18));
    check(&wd);
    // Bob has no YT: redeeming before expiry is rejected, state unchanged.
    let (yt, bob) = (c.yt, wd.bob);
    wd.ledger.transfer(a, bob, c.pt, w(10 * E18)).unwrap();
    let before = snapshot(&wd);
    let err = wd.p.redeem_py(&mut wd.ledger, bob, 0, w(10 * E18), now).unwrap_err();
    assert_eq!(
        err,
        PendleError::Ledger(Box::new(LedgerError::InsufficientBalance {
            account: "bob".into(),
            asset: wd.ledger.symbol(yt).to_string(),
            balance: U256::ZERO,
            required: w(10 * E18),
            decimals: 18,
        }))
    );
    assert_eq!(snapshot(&wd), before);
    // Alice redeems 105 PT+YT: assetToSy(1.15, 105) = ⌊105e36/1.15e18⌋ = 91304347826086956521.
    wd.p.redeem_py(&mut wd.ledger, a, 0, w(105 * E18), now).unwrap();
    assert_eq!(
        wd.ledger.balance(a, wd.ledger.asset("SY-wstETH").unwrap()),
        w(91_304_347_826_086_956_521)
    );
    check(&wd);
}

#[test]
fn yt_interest_matches_hand_computation_and_fee_goes_to_treasury() {
    let mut wd = world();
    let a = wd.alice;
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(100 * E18)).unwrap();
    wd.p.mint_py(&mut wd.ledger, a, 0, w(100 * E18), T0).unwrap();
    wd.p.set_sy_exchange_rate(0, w(1_200_000_000_000_000_000)).unwrap();
    // 115e18·(1.2e18 − 1.15e18)·1e18 / (1.15e18·1.2e18) = 4.1666…e18 → 4166666666666666666.
    let pending = wd.p.pending_interest(&wd.ledger, a, 0, T0 + DAY).unwrap();
    assert_eq!(pending, w(4_166_666_666_666_666_666));
    let ev = wd.p.claim_interest(&mut wd.ledger, a, 0, T0 + DAY).unwrap();
    // fee = ⌊4166666666666666666 × 0.05⌋ = 208333333333333333.
    let treasury = wd.p.treasury;
    let sy = wd.ledger.asset("SY-wstETH").unwrap();
    assert_eq!(wd.ledger.balance(treasury, sy), w(208_333_333_333_333_333));
    assert_eq!(ev.len(), 1);
    check(&wd);
}

#[test]
fn py_index_never_decreases_after_a_slash_and_yt_earns_nothing_until_recovery() {
    let mut wd = world();
    let a = wd.alice;
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(100 * E18)).unwrap();
    wd.p.mint_py(&mut wd.ledger, a, 0, w(100 * E18), T0).unwrap();
    wd.p.set_sy_exchange_rate(0, w(1_100_000_000_000_000_000)).unwrap(); // slash: 1.15 → 1.10
    assert_eq!(wd.p.py_index(0, T0 + 1).unwrap(), w(1_150_000_000_000_000_000));
    assert_eq!(wd.p.pending_interest(&wd.ledger, a, 0, T0 + 1).unwrap(), U256::ZERO);
    wd.p.claim_interest(&mut wd.ledger, a, 0, T0 + 1).unwrap();
    assert_eq!(wd.p.yield_contracts[0].py_index_stored, w(1_150_000_000_000_000_000));
    wd.p.set_sy_exchange_rate(0, w(1_150_000_000_000_000_000)).unwrap(); // recovered to the old high
    assert_eq!(wd.p.pending_interest(&wd.ledger, a, 0, T0 + 2).unwrap(), U256::ZERO);
    check(&wd);
}

#[test]
fn after_expiry_pt_alone_redeems_and_later_interest_goes_to_the_treasury() {
    let mut wd = world();
    let (a, expiry) = (wd.alice, wd.expiry);
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(100 * E18)).unwrap();
    wd.p.mint_py(&mut wd.ledger, a, 0, w(100 * E18), T0).unwrap();
    // First touch after expiry fixes firstPYIndex = 1.15.
    wd.p.claim_interest(&mut wd.ledger, a, 0, expiry).unwrap();
    wd.p.set_sy_exchange_rate(0, w(1_250_000_000_000_000_000)).unwrap();
    let yt = wd.p.yield_contracts[0].yt;
    wd.ledger.transfer(a, wd.bob, yt, w(115 * E18)).unwrap(); // YT is irrelevant now
    wd.p.redeem_py(&mut wd.ledger, a, 0, w(115 * E18), expiry + DAY)
        .unwrap();
    // user: 115e36/1.25e18 = 92e18; treasury later: 100e18 − 92e18 = 8e18.
    let sy = wd.ledger.asset("SY-wstETH").unwrap();
    assert_eq!(wd.ledger.balance(a, sy), w(92 * E18));
    assert_eq!(wd.p.yield_contracts[0].total_sy_interest_for_treasury, w(8 * E18));
    wd.p.collect_treasury_interest(&mut wd.ledger, 0, expiry + DAY).unwrap();
    assert_eq!(wd.ledger.balance(wd.p.treasury, sy), w(8 * E18));
    check(&wd);
    // Minting after expiry is rejected with the state unchanged.
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(E18)).unwrap();
    let before = snapshot(&wd);
    assert_eq!(
        wd.p.mint_py(&mut wd.ledger, a, 0, w(E18), expiry),
        Err(PendleError::MarketExpired)
    );
    assert_eq!(snapshot(&wd), before);
}

#[test]
fn points_accrue_to_yt_holders_by_index_and_follow_transfers() {
    let mut wd = world();
    let (a, b) = (wd.alice, wd.bob);
    let stream = wd.p.add_reward_stream(0, "EL points", None).unwrap();
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(100 * E18)).unwrap();
    wd.p.mint_py(&mut wd.ledger, a, 0, w(100 * E18), T0).unwrap();
    wd.p.distribute_rewards(&mut wd.ledger, a, 0, stream, w(1000 * E18), T0 + 1)
        .unwrap();
    // Alice holds all 100 SY of shares → 1000 points; then half her YT goes to Bob.
    let yt = wd.p.yield_contracts[0].yt;
    wd.p.transfer_yt(&mut wd.ledger, a, b, 0, w(57_500_000_000_000_000_000), T0 + 2)
        .unwrap();
    wd.p.distribute_rewards(&mut wd.ledger, a, 0, stream, w(1000 * E18), T0 + 3)
        .unwrap();
    wd.p.claim_rewards(&mut wd.ledger, a, 0, T0 + 4).unwrap();
    wd.p.claim_rewards(&mut wd.ledger, b, 0, T0 + 4).unwrap();
    let s = &wd.p.yield_contracts[0].rewards[stream];
    assert_eq!(s.points_claimed[&a], w(1500 * E18));
    assert_eq!(s.points_claimed[&b], w(500 * E18));
    assert_eq!(wd.ledger.balance(b, yt), w(57_500_000_000_000_000_000));
    check(&wd);
}

fn with_market(wd: &mut World) -> usize {
    let a = wd.alice;
    wd.p.sy_deposit(&mut wd.ledger, a, 0, w(3_000_000 * E18)).unwrap();
    wd.p.mint_py(&mut wd.ledger, a, 0, w(1_000_000 * E18), T0).unwrap();
    let m =
        wd.p.create_market(
            &mut wd.ledger,
            0,
            I256::new(20 * E18 as i128),
            I256::new(1_050_000_000_000_000_000),
            w(498_754_151_103_897),
            80,
            T0,
        )
        .unwrap();
    wd.p.add_liquidity(&mut wd.ledger, a, m, w(1_000_000 * E18), w(1_000_000 * E18), T0)
        .unwrap();
    m
}

#[test]
fn first_liquidity_locks_minimum_liquidity_and_later_is_proportional() {
    let mut wd = world();
    let m = with_market(&mut wd);
    let mk = &wd.p.markets[m];
    // √(1e24·1e24) − 1000.
    assert_eq!(wd.ledger.balance(wd.alice, mk.lp), w(1_000_000 * E18 - 1000));
    assert_eq!(wd.ledger.balance(wd.p.locked_lp_holder, mk.lp), w(1000));
    assert!(mk.last_ln_implied_rate > U256::ZERO);
    // Later: 10 SY + 20 PT → LP by SY = 10e18 (smaller), PT used = ⌈1e24·10e18/1e24⌉ = 10e18.
    let a = wd.alice;
    wd.p.add_liquidity(&mut wd.ledger, a, m, w(10 * E18), w(20 * E18), T0 + 1)
        .unwrap();
    assert_eq!(wd.p.markets[m].total_pt, w(1_000_010 * E18));
    check(&wd);
    wd.p.remove_liquidity(&mut wd.ledger, a, m, w(10 * E18), T0 + 2)
        .unwrap();
    check(&wd);
}

#[test]
fn market_swaps_move_ledger_balances_and_keep_invariants() {
    let mut wd = world();
    let m = with_market(&mut wd);
    let a = wd.alice;
    wd.p.swap_exact_pt_for_sy(&mut wd.ledger, a, m, w(1000 * E18), U256::ZERO, T0 + 10)
        .unwrap();
    check(&wd);
    wd.p.swap_sy_for_exact_pt(&mut wd.ledger, a, m, w(500 * E18), U256::MAX, T0 + 20)
        .unwrap();
    check(&wd);
    wd.p.swap_exact_sy_for_pt(
        &mut wd.ledger,
        a,
        m,
        w(100 * E18),
        U256::ZERO,
        ApproxParams::default(),
        T0 + 30,
    )
    .unwrap();
    check(&wd);
    wd.p.swap_exact_sy_for_yt(
        &mut wd.ledger,
        a,
        m,
        w(10 * E18),
        U256::ZERO,
        ApproxParams::default(),
        T0 + 40,
    )
    .unwrap();
    check(&wd);
    wd.p.swap_exact_yt_for_sy(&mut wd.ledger, a, m, w(50 * E18), U256::ZERO, T0 + 50)
        .unwrap();
    check(&wd);
    assert!(wd.p.markets[m].observations.len() >= 5);
    let twap = wd.p.markets[m].ln_implied_rate_twap(T0 + 60, 50).unwrap();
    assert!(twap > U256::ZERO);
    let price = wd.p.pt_to_asset_rate(m, 50, T0 + 60).unwrap();
    assert!(price < w(E18));
}

#[test]
fn market_rejections_leave_state_and_ledger_unchanged() {
    let mut wd = world();
    let m = with_market(&mut wd);
    let (a, b) = (wd.alice, wd.bob);
    let before = snapshot(&wd);
    assert!(matches!(
        wd.p.swap_exact_pt_for_sy(&mut wd.ledger, a, m, w(30_000_000 * E18), U256::ZERO, T0 + 1),
        Err(PendleError::MarketProportionTooHigh { .. })
    ));
    assert_eq!(snapshot(&wd), before);
    let out = math::swap_exact_pt_for_sy(wd.p.market_args(m, T0 + 1).unwrap(), w(E18))
        .unwrap()
        .net_sy;
    assert_eq!(
        wd.p.swap_exact_pt_for_sy(&mut wd.ledger, a, m, w(E18), out + U256::ONE, T0 + 1),
        Err(PendleError::Slippage {
            min: out + U256::ONE,
            actual: out
        })
    );
    assert_eq!(snapshot(&wd), before);
    assert!(matches!(
        wd.p.swap_exact_pt_for_sy(&mut wd.ledger, b, m, w(E18), U256::ZERO, T0 + 1),
        Err(PendleError::Ledger(_))
    ));
    assert_eq!(snapshot(&wd), before);
    let expiry = wd.expiry;
    assert_eq!(
        wd.p.swap_exact_pt_for_sy(&mut wd.ledger, a, m, w(E18), U256::ZERO, expiry),
        Err(PendleError::MarketExpired)
    );
    assert_eq!(
        wd.p.add_liquidity(&mut wd.ledger, a, m, U256::ZERO, w(E18), T0 + 1),
        Err(PendleError::MarketZeroAmountsInput)
    );
    assert_eq!(
        wd.p.remove_liquidity(&mut wd.ledger, a, m, U256::ZERO, T0 + 1),
        Err(PendleError::MarketZeroAmountsInput)
    );
    assert_eq!(
        wd.p.swap_exact_sy_for_pt(
            &mut wd.ledger,
            a,
            m,
            w(E18),
            U256::ZERO,
            ApproxParams {
                guess_min: w(10),
                guess_max: w(5),
                ..ApproxParams::default()
            },
            T0 + 1
        ),
        Err(PendleError::InvalidApproxParams {
            guess_min: w(10),
            guess_max: w(5),
            eps: w(100_000_000_000_000)
        })
    );
    assert_eq!(
        wd.p.swap_exact_sy_for_pt(
            &mut wd.ledger,
            a,
            m,
            w(E18),
            U256::ZERO,
            ApproxParams {
                max_iteration: 1,
                eps: U256::ZERO,
                ..ApproxParams::default()
            },
            T0 + 1
        ),
        Err(PendleError::ApproxExhausted)
    );
    assert_eq!(snapshot(&wd), before);
    check(&wd);
}
