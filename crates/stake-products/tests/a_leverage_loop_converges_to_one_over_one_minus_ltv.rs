//! The loop planner: max leverage exact and in wad, plans to a leverage and a health factor,
//! convergence to 1/(1 − LTV), step and flash unwinds, the yield decomposition, rejections.

use crate::common::{e, m, w};
use stake_ledger::Reject;
use stake_math::{I256, U256, WAD};
use stake_products::looping::{
    decompose_yield, max_leverage, plan_flash_unwind, plan_loop, plan_unwind, LoopError, LoopMarket, LoopStep,
    LoopTarget, Ratio, UnwindStep,
};

fn market(ltv_bps: u32, liquidation_threshold_bps: u32, price_wad: U256) -> LoopMarket {
    LoopMarket {
        ltv_bps,
        liquidation_threshold_bps,
        price_wad,
    }
}

fn wi(x: i128) -> I256 {
    I256::new(x)
}

#[test]
fn max_leverage_is_one_over_one_minus_ltv_exactly_and_floored_in_wad() {
    // e-mode 93 %: 1e4/700 = 100/7.
    let l = max_leverage(9_300).unwrap();
    assert_eq!(l.exact, Ratio { num: w(100), den: w(7) });
    assert_eq!(l.wad, w(14_285_714_285_714_285_714));
    assert!(l.wad * w(7) <= e(100) && (l.wad + U256::ONE) * w(7) > e(100));
    let l = max_leverage(8_000).unwrap();
    assert_eq!((l.exact, l.wad), (Ratio { num: w(5), den: w(1) }, e(5)));
    assert_eq!(max_leverage(0).unwrap().wad, WAD);
    assert_eq!(max_leverage(10_000), Err(LoopError::InvalidLtv { ltv_bps: 10_000 }));
}

#[test]
fn a_three_times_loop_at_eighty_percent_ltv_takes_four_steps() {
    let p = plan_loop(market(8_000, 8_300, WAD), e(10), LoopTarget::Leverage(e(3)), 10).unwrap();
    assert_eq!(p.target_debt, e(20));
    let step = |borrow: U256, c: U256, d: U256| LoopStep {
        borrow,
        supply: borrow,
        collateral: c,
        debt: d,
    };
    assert_eq!(
        p.steps,
        vec![
            step(e(8), e(18), e(8)),
            step(m(6_400), m(24_400), m(14_400)),
            step(m(5_120), m(29_520), m(19_520)),
            step(m(480), e(30), e(20)),
        ]
    );
    assert!(p.reached);
    assert_eq!((p.leverage_wad, p.health_factor_wad), (e(3), m(1_245)));
}

#[test]
fn a_health_factor_target_solves_for_the_debt_and_converts_borrows_at_the_price() {
    // HF 1.1 at LT 83 %: D* = 10·0.83/(1.1 − 0.83), leverage 1.1/(1.1 − 0.83) = 4.074…
    let p = plan_loop(market(8_000, 8_300, WAD), e(10), LoopTarget::HealthFactor(m(1_100)), 50).unwrap();
    assert_eq!(p.target_debt, w(30_740_740_740_740_740_740));
    assert_eq!(p.steps.len(), 7);
    assert!(p.reached);
    assert_eq!(p.leverage_wad, w(4_074_074_074_074_074_074));
    assert_eq!(p.health_factor_wad, m(1_100));
    // wstETH at 1.2 ETH, e-mode 93 %, 3×: 12 ETH of equity, 24 ETH of debt; each borrow buys
    // ⌊borrow/1.2⌋ wstETH.
    let p = plan_loop(market(9_300, 9_500, m(1_200)), e(10), LoopTarget::Leverage(e(3)), 20).unwrap();
    assert_eq!(
        p.steps[0],
        LoopStep {
            borrow: m(11_160),
            supply: m(9_300),
            collateral: m(19_300),
            debt: m(11_160)
        }
    );
    assert_eq!(p.steps.len(), 3);
    assert_eq!(
        (p.collateral, p.debt, p.leverage_wad, p.health_factor_wad),
        (e(30), e(24), e(3), m(1_425))
    );
}

#[test]
fn iterating_the_loop_converges_to_the_maximum_leverage() {
    let mk = market(9_300, 9_500, WAD);
    let max = max_leverage(9_300).unwrap().wad;
    let gap = |n: u32| max - plan_loop(mk, e(10), LoopTarget::Leverage(max), n).unwrap().leverage_wad;
    // The gap is 0.93^(n+1)/0.07 (+ rounding): 6.43, 0.0094, 4.7e-9.
    assert_eq!(gap(10), w(6_430_050_652_524_895_139));
    assert_eq!(gap(100), w(9_368_709_309_056_623));
    assert_eq!(gap(300), w(4_658_750_741));
    let p = plan_loop(mk, e(10), LoopTarget::Leverage(max), 400).unwrap();
    assert!(max - p.leverage_wad < w(10_000_000));
    assert!(!p.reached, "the maximum is a limit, never reached");
    let mut last = WAD;
    for s in &p.steps {
        let l = mk.leverage_wad(s.collateral, s.debt).unwrap();
        assert!(l > last && l <= max);
        // Every step stays within the LTV.
        assert!(s.debt * w(10_000) <= s.collateral * w(9_300));
        last = l;
    }
}

#[test]
fn a_position_unwinds_step_by_step_within_its_ltv_or_at_once_with_a_flash_loan() {
    let mk = market(8_000, 8_300, WAD);
    let u = plan_unwind(mk, e(30), e(20), 10).unwrap();
    let step = |x: U256, c: U256, d: U256| UnwindStep {
        withdraw: x,
        repay: x,
        collateral: c,
        debt: d,
    };
    assert_eq!(
        u.steps,
        vec![
            step(e(5), e(25), e(15)),
            step(m(6_250), m(18_750), m(8_750)),
            step(
                w(7_812_500_000_000_000_000),
                w(10_937_500_000_000_000_000),
                w(937_500_000_000_000_000)
            ),
            step(w(937_500_000_000_000_000), e(10), U256::ZERO),
            UnwindStep {
                withdraw: e(10),
                repay: U256::ZERO,
                collateral: U256::ZERO,
                debt: U256::ZERO
            },
        ]
    );
    assert!(u.complete);
    assert_eq!(u.returned, e(10));
    // Two iterations are not enough.
    let short = plan_unwind(mk, e(30), e(20), 2).unwrap();
    assert_eq!((short.complete, short.debt), (false, m(8_750)));
    // Flash: borrow 20, repay, withdraw 30, sell (20 + 0.01 premium) / 1.0.
    let f = plan_flash_unwind(WAD, e(30), e(20), 5).unwrap();
    assert_eq!(
        (f.flash_borrow, f.repay, f.premium, f.withdraw, f.sell, f.returned),
        (e(20), e(20), m(10), e(30), m(20_010), m(9_990))
    );
}

#[test]
fn a_loop_yield_is_collateral_yield_times_leverage_minus_borrow_cost_times_leverage_less_one() {
    let y = decompose_yield(&[("staking", m(30)), ("restaking", m(15))], m(25), e(3)).unwrap();
    let parts: Vec<(&str, I256)> = y.parts.iter().map(|p| (p.name.as_str(), p.apr_wad)).collect();
    assert_eq!(
        parts,
        vec![
            ("staking", wi(90_000_000_000_000_000)),
            ("restaking", wi(45_000_000_000_000_000)),
            ("borrow", wi(-50_000_000_000_000_000))
        ]
    );
    assert_eq!(y.net_apr_wad, wi(85_000_000_000_000_000));
    // Borrowing above the collateral yield loses money at any leverage above one.
    let neg = decompose_yield(&[("staking", m(30))], m(40), e(5)).unwrap();
    assert_eq!(neg.net_apr_wad, wi(-10_000_000_000_000_000));
}

#[test]
fn every_planner_rejection_names_its_values() {
    let ok = market(8_000, 8_300, WAD);
    let cases: Vec<(Result<(), LoopError>, LoopError, u32)> = vec![
        (
            plan_loop(market(10_000, 10_000, WAD), e(1), LoopTarget::Leverage(e(2)), 1).map(|_| ()),
            LoopError::InvalidLtv { ltv_bps: 10_000 },
            7500,
        ),
        (
            plan_loop(market(8_000, 7_000, WAD), e(1), LoopTarget::Leverage(e(2)), 1).map(|_| ()),
            LoopError::InvalidThreshold {
                liquidation_threshold_bps: 7_000,
                ltv_bps: 8_000,
            },
            7501,
        ),
        (
            plan_loop(market(8_000, 8_300, U256::ZERO), e(1), LoopTarget::Leverage(e(2)), 1).map(|_| ()),
            LoopError::ZeroPrice,
            7502,
        ),
        (
            plan_loop(ok, e(1), LoopTarget::Leverage(m(999)), 1).map(|_| ()),
            LoopError::LeverageBelowOne { leverage_wad: m(999) },
            7503,
        ),
        (
            plan_loop(ok, e(1), LoopTarget::Leverage(m(5_001)), 1).map(|_| ()),
            LoopError::TargetAboveMax {
                target_wad: m(5_001),
                max_wad: e(5),
            },
            7504,
        ),
        (
            plan_loop(ok, e(1), LoopTarget::HealthFactor(m(830)), 1).map(|_| ()),
            LoopError::InvalidHealthFactor {
                health_factor_wad: m(830),
                min_wad: m(830),
            },
            7505,
        ),
        // HF 1.0 at LT 83 % needs 1/(1 − 0.83) = 5.88× > 5×.
        (
            plan_loop(ok, e(1), LoopTarget::HealthFactor(WAD), 1).map(|_| ()),
            LoopError::TargetAboveMax {
                target_wad: w(5_882_352_941_176_470_588),
                max_wad: e(5),
            },
            7504,
        ),
        (
            plan_unwind(ok, e(10), e(8), 5).map(|_| ()),
            LoopError::CannotUnwind {
                debt: e(8),
                borrowable: e(8),
            },
            7506,
        ),
        (
            plan_flash_unwind(WAD, e(20), e(20), 5).map(|_| ()),
            LoopError::Insolvent {
                needed: m(20_010),
                collateral: e(20),
            },
            7507,
        ),
        (
            decompose_yield(&[], U256::ZERO, U256::ZERO).map(|_| ()),
            LoopError::LeverageBelowOne {
                leverage_wad: U256::ZERO,
            },
            7503,
        ),
    ];
    for (got, want, code) in cases {
        let err = got.unwrap_err();
        assert_eq!(err, want);
        assert_eq!(err.code(), code);
    }
}
