//! The yield aggregator: targets under each policy and cap, a costed rebalance that refuses
//! moves not paying for themselves, the share-price floor and cap, withdrawals queued behind
//! strategy delays, every rejection, and a property test with a conservation audit.

use crate::common::{e, m, rejects, w};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use stake_math::{U256, WAD};
use stake_products::aggregator::{
    Aggregator, AggregatorError, Cap, Move, Policy, RebalanceParams, Slot, Strategy, StrategyKind, WithdrawalOutcome,
};
use stake_products::vault::VaultError;

const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

/// `x` thousandths of 1 % (1e13 wad), for APRs and risk scores.
fn pct_milli(x: u128) -> U256 {
    U256::from(x) * U256::from(10_000_000_000_000u128)
}

/// stETH (3 %, risk 1 %, ≤ 50 % of assets), ezETH (5 %, risk 4 %, ≤ 30 ETH, 7-day exit),
/// PT (4 %, risk 0.5 %, uncapped, 1-day exit); a 10 % idle buffer; price cap 2.
fn aggregator(policy: Policy) -> Aggregator {
    let mut a = Aggregator::new(0, policy, 1_000, e(2)).unwrap();
    let s = [
        Strategy::new(
            "steth",
            StrategyKind::PlainLst,
            pct_milli(3_000),
            pct_milli(1_000),
            Cap::ShareBps(5_000),
        ),
        Strategy::new(
            "ezeth",
            StrategyKind::Lrt,
            pct_milli(5_000),
            pct_milli(4_000),
            Cap::Assets(e(30)),
        )
        .with_delay(7 * DAY),
        Strategy::new(
            "pt",
            StrategyKind::PendlePt,
            pct_milli(4_000),
            pct_milli(500),
            Cap::ShareBps(10_000),
        )
        .with_delay(DAY),
    ];
    for (i, x) in s.into_iter().enumerate() {
        assert_eq!(a.add_strategy(x).unwrap(), i);
    }
    assert_eq!(a.deposit(e(100)).unwrap(), e(100));
    a.check_invariants().unwrap();
    a
}

/// 5 bps of slippage into the PT (an AMM buy), none elsewhere.
fn pt_slippage(_from: Slot, to: Slot, amount: U256) -> U256 {
    if to == Slot::Strategy(2) {
        amount * U256::from(5u8) / U256::from(10_000u32)
    } else {
        U256::ZERO
    }
}

fn params(cadence_s: u64) -> RebalanceParams {
    RebalanceParams {
        move_cost: m(1),
        cadence_s,
    }
}

#[test]
fn max_yield_fills_the_best_strategies_to_their_caps_and_max_risk_adjusted_reorders_them() {
    let a = aggregator(Policy::MaxYield);
    // 90 to place: ezETH 5 % to its 30 cap, then the PT 4 % takes the other 60.
    assert_eq!(a.targets().unwrap(), vec![U256::ZERO, e(30), e(60)]);
    let r = aggregator(Policy::MaxRiskAdjusted { risk_aversion_wad: WAD });
    // Scores: stETH 2 %, ezETH 1 %, PT 3.5 %: all 90 to the PT.
    assert_eq!(r.targets().unwrap(), vec![U256::ZERO, U256::ZERO, e(90)]);
    // With aversion 2 ezETH scores −3 % and is never a destination.
    let r2 = aggregator(Policy::MaxRiskAdjusted {
        risk_aversion_wad: e(2),
    });
    assert!(r2.score(Slot::Strategy(1)).unwrap() < stake_math::I256::ZERO);
}

#[test]
fn a_rebalance_pays_a_fixed_cost_and_slippage_and_refuses_moves_that_do_not_pay_over_the_cadence() {
    let mut a = aggregator(Policy::MaxYield);
    // Over 7 days: 30 ETH × 5 % × 7/365 = 0.0287… ETH ≥ 0.001; 60 × 4 % × 7/365 = 0.0460… ≥
    // 0.001 + 0.03 slippage.
    let week = a.plan_rebalance(params(7 * DAY), &pt_slippage).unwrap();
    assert_eq!(
        week,
        vec![
            Move {
                from: Slot::Idle,
                to: Slot::Strategy(1),
                amount: e(30),
                cost: m(1),
                gain: w(28_767_123_287_671_232)
            },
            Move {
                from: Slot::Idle,
                to: Slot::Strategy(2),
                amount: e(60),
                cost: m(31),
                gain: w(46_027_397_260_273_972)
            },
        ]
    );
    // Over one day the PT move gains 0.00657… < 0.031 and is refused.
    let day = a.plan_rebalance(params(DAY), &pt_slippage).unwrap();
    assert_eq!(day.len(), 1);
    assert_eq!((day[0].to, day[0].gain), (Slot::Strategy(1), w(4_109_589_041_095_890)));

    a.apply_rebalance(&week).unwrap();
    a.check_invariants().unwrap();
    assert_eq!(a.vault.idle, e(10));
    assert_eq!(a.strategies[1].allocation, e(30) - m(1));
    assert_eq!(a.strategies[2].allocation, e(60) - m(31));
    assert_eq!(a.costs_paid, m(32));
    // The costs are a realised loss: (100 − 0.032)/100.
    assert_eq!(a.share_price_wad().unwrap(), w(999_680_000_000_000_000));
    // At the targets nothing is left to do.
    assert_eq!(a.plan_rebalance(params(7 * DAY), &pt_slippage).unwrap(), vec![]);
}

#[test]
fn withdrawals_beyond_the_idle_buffer_queue_behind_the_longest_delay_they_use() {
    let mut a = aggregator(Policy::MaxYield);
    let week = a.plan_rebalance(params(7 * DAY), &pt_slippage).unwrap();
    a.apply_rebalance(&week).unwrap();
    a.report_gain(1, e(1)).unwrap();
    assert_eq!(a.share_price_wad().unwrap(), w(1_009_679_999_999_999_999));
    // 5 shares redeem 5.0484 ETH, inside the 10 ETH idle buffer: paid at once.
    let paid = a.request_withdrawal("alice", e(5), e(100), T0).unwrap();
    assert_eq!(
        paid,
        WithdrawalOutcome::Paid {
            assets: w(5_048_399_999_999_999_999)
        }
    );
    a.check_invariants().unwrap();
    // 80 shares redeem 80.7744 ETH pro rata from every slot, so each keeps its share of the
    // 15.144… left: the idle 4.9516 of 95.9196 gives 4.169768…, ezETH (30.999) and the PT
    // (59.969) the rest in proportion (plus the wei of rounding); the longest delay used
    // (ezETH's 7 days) applies.
    let q = a.request_withdrawal("alice", e(80), e(95), T0).unwrap();
    let assets = w(80_774_400_000_000_000_000);
    assert_eq!(
        q,
        WithdrawalOutcome::Queued {
            id: 0,
            assets,
            ready_at: T0 + 7 * DAY
        }
    );
    assert_eq!(a.vault.idle, w(781_831_578_947_368_422));
    assert_eq!(a.strategies[2].allocation, w(9_468_789_473_684_210_527));
    assert_eq!(a.strategies[1].allocation, w(4_894_578_947_368_421_052));
    assert_eq!((a.vault.total_supply, a.queued_assets), (e(15), assets));
    assert_eq!(a.share_price_wad().unwrap(), w(1_009_680_000_000_000_000));
    a.check_invariants().unwrap();
    rejects(
        &mut a,
        AggregatorError::NotReady {
            id: 0,
            ready_at: T0 + 7 * DAY,
            now: T0 + 7 * DAY - 1,
        },
        |a| a.claim("alice", 0, T0 + 7 * DAY - 1),
    );
    rejects(&mut a, AggregatorError::UnknownRequest { id: 0 }, |a| {
        a.claim("bob", 0, T0 + 7 * DAY)
    });
    assert_eq!(a.claim("alice", 0, T0 + 7 * DAY).unwrap(), assets);
    assert_eq!(a.queued_assets, U256::ZERO);
    a.check_invariants().unwrap();
}

#[test]
fn the_share_price_falls_only_through_a_reported_loss_and_never_passes_its_cap() {
    let mut a = aggregator(Policy::MaxYield);
    let week = a.plan_rebalance(params(7 * DAY), &pt_slippage).unwrap();
    a.apply_rebalance(&week).unwrap();
    // 200 ETH of reported gain would price a share at 2.9996…: above the cap of 2.
    rejects(
        &mut a,
        AggregatorError::PriceAboveCap {
            price: w(2_999_679_999_999_999_999),
            cap: e(2),
        },
        |a| a.report_gain(2, e(200)),
    );
    // A 10 ETH slash of ezETH: (99.968 − 10)/100.
    a.report_loss(1, e(10)).unwrap();
    assert_eq!(a.share_price_wad().unwrap(), w(899_680_000_000_000_000));
    assert_eq!(a.losses, e(10));
    a.check_invariants().unwrap();
    rejects(
        &mut a,
        AggregatorError::LossExceedsAllocation {
            index: 0,
            loss: U256::ONE,
            allocation: U256::ZERO,
        },
        |a| a.report_loss(0, U256::ONE),
    );
    // Lowering the floor by hand is caught by the invariant check.
    let mut broken = a.clone();
    broken.vault.strategy_assets -= e(1);
    broken.strategies[1].allocation -= e(1);
    assert!(broken
        .check_invariants()
        .unwrap_err()
        .contains("without a reported loss"));
}

#[test]
fn every_aggregator_rejection_names_its_values_and_leaves_the_state_unchanged() {
    let mut a = aggregator(Policy::MaxYield);
    let dup = Strategy::new("steth", StrategyKind::Loop, U256::ZERO, U256::ZERO, Cap::Assets(e(1)));
    rejects(
        &mut a,
        AggregatorError::DuplicateStrategy { name: "steth".into() },
        |a| a.add_strategy(dup),
    );
    let wide = Strategy::new(
        "wide",
        StrategyKind::StableSwapLp,
        U256::ZERO,
        U256::ZERO,
        Cap::ShareBps(10_001),
    );
    rejects(&mut a, AggregatorError::InvalidBps { bps: 10_001 }, |a| {
        a.add_strategy(wide)
    });
    let mut full = Strategy::new("full", StrategyKind::Loop, U256::ZERO, U256::ZERO, Cap::Assets(e(1)));
    full.allocation = e(1);
    rejects(
        &mut a,
        AggregatorError::NonZeroInitialAllocation { allocation: e(1) },
        |a| a.add_strategy(full),
    );
    rejects(&mut a, AggregatorError::UnknownStrategy { index: 9 }, |a| {
        a.report_gain(9, e(1))
    });
    rejects(&mut a, AggregatorError::UnknownStrategy { index: 9 }, |a| {
        a.set_expectations(9, e(1), e(1))
    });
    rejects(
        &mut a,
        AggregatorError::InsufficientShares {
            shares: e(101),
            balance: e(100),
        },
        |a| a.request_withdrawal("alice", e(101), e(100), T0),
    );
    let bad = Move {
        from: Slot::Strategy(0),
        to: Slot::Idle,
        amount: e(1),
        cost: U256::ZERO,
        gain: U256::ZERO,
    };
    rejects(
        &mut a,
        AggregatorError::InvalidMove {
            from: Slot::Strategy(0),
            amount: e(1),
            available: U256::ZERO,
        },
        |a| a.apply_rebalance(&[bad]),
    );
    let dear = Move {
        from: Slot::Idle,
        to: Slot::Strategy(0),
        amount: e(1),
        cost: e(2),
        gain: U256::ZERO,
    };
    rejects(
        &mut a,
        AggregatorError::CostExceedsAmount {
            cost: e(2),
            amount: e(1),
        },
        |a| a.apply_rebalance(&[dear]),
    );
    // A move list that fails half-way applies nothing.
    let ok = Move {
        from: Slot::Idle,
        to: Slot::Strategy(0),
        amount: e(1),
        cost: U256::ZERO,
        gain: U256::ZERO,
    };
    let too_much = Move {
        from: Slot::Idle,
        to: Slot::Strategy(0),
        amount: e(100),
        cost: U256::ZERO,
        gain: U256::ZERO,
    };
    rejects(
        &mut a,
        AggregatorError::InvalidMove {
            from: Slot::Idle,
            amount: e(100),
            available: e(99),
        },
        |a| a.apply_rebalance(&[ok, too_much]),
    );
    a.vault.deposit_limit = e(150);
    rejects(
        &mut a,
        AggregatorError::Vault(VaultError::ExceededMaxDeposit {
            assets: e(51),
            max: e(50),
        }),
        |a| a.deposit(e(51)),
    );
    for _ in 3..stake_products::aggregator::MAX_STRATEGIES {
        let n = a.strategies.len();
        a.add_strategy(Strategy::new(
            &format!("s{n}"),
            StrategyKind::Loop,
            U256::ZERO,
            U256::ZERO,
            Cap::Assets(U256::ZERO),
        ))
        .unwrap();
    }
    let extra = Strategy::new(
        "extra",
        StrategyKind::Loop,
        U256::ZERO,
        U256::ZERO,
        Cap::Assets(U256::ZERO),
    );
    rejects(&mut a, AggregatorError::TooManyStrategies { max: 32 }, |a| {
        a.add_strategy(extra)
    });
    assert_eq!(
        Aggregator::new(0, Policy::MaxYield, 10_001, e(2)),
        Err(AggregatorError::InvalidBps { bps: 10_001 })
    );
    assert_eq!(
        Aggregator::new(0, Policy::MaxYield, 0, m(500)),
        Err(AggregatorError::InvalidPriceCap {
            cap: m(500),
            price: WAD
        })
    );
}

#[derive(Clone, Debug)]
enum Op {
    Deposit(u64),
    Withdraw(usize, u8),
    Claim,
    Gain(usize, u32),
    Loss(usize, u8),
    Rebalance(u64),
    Wait(u64),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    prop_oneof![
        (1..1_000_000u64).prop_map(Op::Deposit),
        (0..2usize, 0..=100u8).prop_map(|(u, p)| Op::Withdraw(u, p)),
        Just(Op::Claim),
        (0..3usize, 0..1_000u32).prop_map(|(i, x)| Op::Gain(i, x)),
        (0..3usize, 0..=100u8).prop_map(|(i, p)| Op::Loss(i, p)),
        (1..30u64).prop_map(Op::Rebalance),
        (0..10u64).prop_map(Op::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// After every operation: the invariants hold, a rejection changed nothing, and assets are
    /// conserved (deposits + gains − losses − costs − paid = totalAssets + queued), and a rebalance
    /// never fills a strategy past its target.
    #[test]
    fn aggregator_invariants_and_conservation_hold_after_every_operation(
        ops in proptest::collection::vec(op(), 1..40),
        risk in any::<bool>(),
    ) {
        let policy = if risk { Policy::MaxRiskAdjusted { risk_aversion_wad: WAD } } else { Policy::MaxYield };
        let mut a = aggregator(policy);
        let mut bal = [e(100), U256::ZERO];
        let (mut inflow, mut outflow) = (e(100), U256::ZERO);
        let mut now = T0;
        let mut open: Vec<(u64, String)> = Vec::new();
        for o in ops {
            let before = a.clone();
            let r: Result<(), AggregatorError> = match o {
                Op::Deposit(x) => {
                    let amt = U256::from(x) * U256::from(1_000_000_000_000u64);
                    a.deposit(amt).map(|s| { bal[1] += s; inflow += amt; })
                }
                Op::Withdraw(u, p) => {
                    let s = bal[u] * U256::from(p) / 100;
                    let owner = if u == 0 { "alice" } else { "bob" };
                    a.request_withdrawal(owner, s, bal[u], now).map(|out| {
                        bal[u] -= s;
                        match out {
                            WithdrawalOutcome::Paid { assets } => outflow += assets,
                            WithdrawalOutcome::Queued { id, .. } => open.push((id, owner.into())),
                        }
                    })
                }
                Op::Claim => match open.first().cloned() {
                    Some((id, owner)) => a.claim(&owner, id, now).map(|x| { outflow += x; open.remove(0); }),
                    None => Ok(()),
                },
                Op::Gain(i, x) => {
                    let amt = U256::from(x) * U256::from(1_000_000_000_000_000u64);
                    a.report_gain(i, amt).map(|()| inflow += amt)
                }
                Op::Loss(i, p) => {
                    let l = a.strategies[i].allocation * U256::from(p) / 100;
                    a.report_loss(i, l).map(|()| outflow += l)
                }
                Op::Rebalance(days) => {
                    let targets = a.targets().unwrap();
                    let held: Vec<U256> = a.strategies.iter().map(|s| s.allocation).collect();
                    let plan = a.plan_rebalance(params(days * DAY), &pt_slippage).unwrap();
                    let r = a.apply_rebalance(&plan);
                    // The planner never fills a strategy past its target (cap, policy).
                    for (i, s) in a.strategies.iter().enumerate() {
                        prop_assert!(s.allocation <= targets[i].max(held[i]));
                    }
                    r
                }
                Op::Wait(days) => { now += days * DAY; Ok(()) }
            };
            if r.is_err() {
                prop_assert_eq!(&a, &before);
            }
            a.check_invariants().unwrap();
            prop_assert_eq!(bal[0] + bal[1], a.vault.total_supply);
            let held = a.vault.total_assets().unwrap() + a.queued_assets;
            prop_assert_eq!(inflow - a.costs_paid, outflow + held);
        }
    }
}
