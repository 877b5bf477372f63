//! Senior / junior tranches: the senior coupon paid first, junior's residual and first loss, a
//! loss larger than junior, the senior cap, every rejection, and a property test.

use crate::common::{e, m, rejects, w};
use proptest::prelude::*;
use stake_math::{mul_div_down, U256, WAD};
use stake_products::tranche::{Tranche, TrancheError, TranchePool};

const T0: u64 = 1_700_000_000;
const YEAR: u64 = 31_536_000;
/// 5 % a year per second, `⌊0.05e18/31,536,000⌋`.
const SENIOR_RATE: u128 = 1_585_489_599;

/// Junior 20 and senior 80 tokens at rate 1.0; senior capped at 80 % of the pool.
fn pool() -> TranchePool {
    let mut p = TranchePool::new(w(SENIOR_RATE), 8_000, WAD, T0).unwrap();
    assert_eq!(p.deposit(Tranche::Junior, e(20), T0, WAD).unwrap(), e(20));
    assert_eq!(p.deposit(Tranche::Senior, e(80), T0, WAD).unwrap(), e(80));
    p.check_invariants().unwrap();
    p
}

/// 80 + ⌊80e18·(1,585,489,599·31,536,000)/1e18⌋ = 83.999999999525120000.
const SENIOR_AFTER_A_YEAR: u128 = 83_999_999_999_525_120_000;

#[test]
fn a_year_of_ten_percent_yield_pays_the_senior_coupon_first_and_the_rest_to_junior() {
    let mut p = pool();
    p.accrue(T0 + YEAR, m(1_100)).unwrap();
    p.check_invariants().unwrap();
    assert_eq!(p.pool_value().unwrap(), e(110));
    assert_eq!(p.senior_value, w(SENIOR_AFTER_A_YEAR));
    assert_eq!(p.junior_value().unwrap(), w(26_000_000_000_474_880_000));
}

#[test]
fn a_year_without_yield_pays_the_senior_coupon_out_of_junior() {
    let mut p = pool();
    p.accrue(T0 + YEAR, WAD).unwrap();
    assert_eq!(p.senior_value, w(SENIOR_AFTER_A_YEAR));
    assert_eq!(p.junior_value().unwrap(), w(16_000_000_000_474_880_000));
    p.check_invariants().unwrap();
}

#[test]
fn a_loss_larger_than_the_junior_tranche_wipes_it_and_the_senior_takes_the_rest() {
    let mut p = pool();
    p.accrue(T0 + YEAR, m(1_100)).unwrap();
    // The token falls to 0.7: the pool is worth 70, below senior's 83.9999… target.
    p.accrue(T0 + YEAR, m(700)).unwrap();
    p.check_invariants().unwrap();
    assert_eq!(p.pool_value().unwrap(), e(70));
    assert_eq!(p.junior_value().unwrap(), U256::ZERO);
    assert_eq!(p.senior_value, e(70));
    // Junior lost all of its 26.00…; senior lost 13.999999999525120000 of its value.
    assert_eq!(w(SENIOR_AFTER_A_YEAR) - p.senior_value, w(13_999_999_999_525_120_000));
    // Junior's 20 shares redeem nothing; senior's 80 redeem ⌊80e18·(70e18 + 1)/(80e18 + 1)⌋ = 70
    // ETH, paid as ⌊70e18·1e18/0.7e18⌋ = 100 tokens: the whole pool.
    assert_eq!(
        p.redeem(Tranche::Junior, e(20), e(20), T0 + YEAR, m(700)).unwrap(),
        U256::ZERO
    );
    assert_eq!(
        p.redeem(Tranche::Senior, e(80), e(80), T0 + YEAR, m(700)).unwrap(),
        e(100)
    );
    assert_eq!(
        (p.tokens, p.senior_value, p.senior_shares, p.junior_shares),
        (U256::ZERO, U256::ZERO, U256::ZERO, U256::ZERO)
    );
    p.check_invariants().unwrap();
}

#[test]
fn every_tranche_rejection_names_its_values_and_leaves_the_state_unchanged() {
    let mut empty = TranchePool::new(w(SENIOR_RATE), 8_000, WAD, T0).unwrap();
    rejects(
        &mut empty,
        TrancheError::SeniorCapExceeded {
            senior: e(10),
            max: e(8),
        },
        |p| p.deposit(Tranche::Senior, e(10), T0, WAD),
    );
    let mut p = pool();
    // Junior redeeming 1 of its 20 would leave senior 80 above 80 % of 99.
    rejects(
        &mut p,
        TrancheError::SeniorCapExceeded {
            senior: e(80),
            max: m(79_200),
        },
        |p| p.redeem(Tranche::Junior, e(1), e(20), T0, WAD),
    );
    rejects(
        &mut p,
        TrancheError::SeniorCapExceeded {
            senior: e(81),
            max: m(80_800),
        },
        |p| p.deposit(Tranche::Senior, e(1), T0, WAD),
    );
    rejects(&mut p, TrancheError::TimeWentBackwards { now: T0 - 1, last: T0 }, |p| {
        p.accrue(T0 - 1, WAD)
    });
    rejects(&mut p, TrancheError::ZeroRate, |p| p.accrue(T0 + 1, U256::ZERO));
    rejects(
        &mut p,
        TrancheError::InsufficientShares {
            shares: e(81),
            balance: e(80),
        },
        |p| p.redeem(Tranche::Senior, e(81), e(80), T0, WAD),
    );
    // A failing deposit does not keep the accrual it ran first.
    rejects(
        &mut p,
        TrancheError::SeniorCapExceeded {
            senior: w(SENIOR_AFTER_A_YEAR) + e(10),
            max: m(88_000),
        },
        |p| p.deposit(Tranche::Senior, e(10), T0 + YEAR, WAD),
    );
    assert_eq!(
        TranchePool::new(U256::ZERO, 10_001, WAD, T0),
        Err(TrancheError::InvalidBps { bps: 10_001 })
    );
    assert_eq!(
        TranchePool::new(U256::ZERO, 8_000, U256::ZERO, T0),
        Err(TrancheError::ZeroRate)
    );
}

#[derive(Clone, Debug)]
enum Op {
    Deposit(bool, u64),
    Redeem(bool, u8),
    Accrue(u32, i16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), 1..1_000_000u64).prop_map(|(s, a)| Op::Deposit(s, a)),
        (any::<bool>(), 0..=100u8).prop_map(|(s, p)| Op::Redeem(s, p)),
        (0..(30 * 86_400u32), -300..300i16).prop_map(|(dt, bps)| Op::Accrue(dt, bps)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After every operation: the invariants hold, a rejection changed nothing, tokens are
    /// conserved, and junior holds value only when senior has its full target.
    #[test]
    fn tranche_invariants_and_priority_hold_after_every_operation(ops in proptest::collection::vec(op(), 1..40)) {
        let mut p = TranchePool::new(w(SENIOR_RATE), 9_000, WAD, T0).unwrap();
        let (mut bal_s, mut bal_j) = (U256::ZERO, U256::ZERO);
        let (mut tokens_in, mut tokens_out) = (U256::ZERO, U256::ZERO);
        let mut now = T0;
        let mut rate = WAD;
        for o in ops {
            let before = p.clone();
            let r = match o {
                Op::Deposit(senior, a) => {
                    let amt = U256::from(a) * U256::from(1_000_000_000_000u64);
                    let t = if senior { Tranche::Senior } else { Tranche::Junior };
                    p.deposit(t, amt, now, rate).map(|s| {
                        if senior { bal_s += s } else { bal_j += s }
                        tokens_in += amt;
                    })
                }
                Op::Redeem(senior, pct) => {
                    let (t, b) = if senior { (Tranche::Senior, bal_s) } else { (Tranche::Junior, bal_j) };
                    let s = b * U256::from(pct) / 100;
                    p.redeem(t, s, b, now, rate).map(|out| {
                        if senior { bal_s -= s } else { bal_j -= s }
                        tokens_out += out;
                    })
                }
                Op::Accrue(dt, bps) => {
                    let next_rate = if bps >= 0 {
                        rate + rate * U256::from(bps.unsigned_abs()) / 10_000
                    } else {
                        rate - rate * U256::from(bps.unsigned_abs()) / 10_000
                    };
                    let coupon = mul_div_down(p.senior_value, U256::from(SENIOR_RATE) * U256::from(dt), WAD).unwrap();
                    let target = p.senior_value + coupon;
                    let r = p.accrue(now + u64::from(dt), next_rate);
                    if r.is_ok() {
                        now += u64::from(dt);
                        rate = next_rate;
                        if p.junior_value().unwrap() > U256::ZERO {
                            prop_assert_eq!(p.senior_value, target);
                        }
                    }
                    r
                }
            };
            if r.is_err() {
                prop_assert_eq!(&p, &before);
            }
            p.check_invariants().unwrap();
            prop_assert_eq!(p.senior_shares, bal_s);
            prop_assert_eq!(p.junior_shares, bal_j);
            prop_assert_eq!(tokens_in - tokens_out, p.tokens);
        }
    }
}
