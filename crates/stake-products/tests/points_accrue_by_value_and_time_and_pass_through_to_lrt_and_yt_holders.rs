//! Points: accrual per value·time through an index, inheritance by LRT holders, pass-through to
//! Pendle YT holders on the full SY amount, rounding that never mints points, rejections.

use crate::common::{e, rejects, w};
use stake_math::U256;
use stake_products::points::{PassThrough, PointsError, PointsSource, Programme};

const T0: u64 = 1_700_000_000;
/// 0.001 point per ETH per second: 1 point per ETH per 1,000 s.
const RATE: u128 = 1_000_000_000_000_000;

#[test]
fn points_accrue_per_value_and_time_and_settle_when_a_balance_changes() {
    let mut el = Programme::new("eigenlayer", w(RATE), T0);
    el.set_balance("alice", e(10), T0).unwrap();
    el.set_balance("bob", e(30), T0 + 500).unwrap();
    assert_eq!(el.points_at("alice", T0 + 1_000).unwrap(), e(10));
    assert_eq!(el.points_at("bob", T0 + 1_000).unwrap(), e(15));
    // Alice leaves at 1,000 s: she keeps her 10 points and earns no more.
    el.set_balance("alice", U256::ZERO, T0 + 1_000).unwrap();
    assert_eq!(el.points_at("alice", T0 + 5_000).unwrap(), e(10));
    // A 2× boost from 2,000 s: Bob's 30 ETH earned 45 over 500–2,000 s, then 60 over 2,000–3,000 s.
    el.set_rate(w(2 * RATE), T0 + 2_000).unwrap();
    assert_eq!(el.points_at("bob", T0 + 3_000).unwrap(), e(45 + 60));
    el.accrue(T0 + 3_000).unwrap();
    el.check_invariants().unwrap();
    assert_eq!(el.acc.issued, e(10 + 45 + 60));
    assert_eq!(el.acc.total, e(30));
}

#[test]
fn lrt_holders_inherit_eigenlayer_points_and_yt_holders_take_the_full_sy_amount() {
    let mut el = Programme::new("eigenlayer", w(RATE), T0);
    // Renzo restakes 100 ETH in EigenLayer.
    el.set_balance("renzo", e(100), T0).unwrap();
    let mut ez = PassThrough::new("ezETH ← EigenLayer", "renzo", U256::ZERO);
    ez.set_balance("alice", e(60), &el, T0).unwrap();
    ez.set_balance("pendle:sy-ezETH", e(40), &el, T0).unwrap();
    // 40 YT minted from the SY's 40 ezETH: Bob holds 30, Carol 10 (the PT holders hold none).
    let mut yt = PassThrough::new("YT-ezETH ← ezETH", "pendle:sy-ezETH", U256::ZERO);
    yt.set_balance("bob", e(30), &ez, T0).unwrap();
    yt.set_balance("carol", e(10), &ez, T0).unwrap();

    // After 1,000 s Renzo has 100 EL points: 60 to Alice, 40 to the SY, which its YT holders
    // split 30 / 10.
    ez.sync(&el, T0 + 1_000).unwrap();
    yt.sync(&ez, T0 + 1_000).unwrap();
    assert_eq!(el.points_at("renzo", T0 + 1_000).unwrap(), e(100));
    assert_eq!(ez.points_at("alice", T0 + 1_000).unwrap(), e(60));
    assert_eq!(ez.points_at("pendle:sy-ezETH", T0 + 1_000).unwrap(), e(40));
    assert_eq!(yt.points_at("bob", T0 + 1_000).unwrap(), e(30));
    assert_eq!(yt.points_at("carol", T0 + 1_000).unwrap(), e(10));

    // Alice sends half to Dave; 1,000 s later the next 100 points split 30 / 30 / 40.
    ez.set_balance("alice", e(30), &el, T0 + 1_000).unwrap();
    ez.set_balance("dave", e(30), &el, T0 + 1_000).unwrap();
    ez.sync(&el, T0 + 2_000).unwrap();
    yt.sync(&ez, T0 + 2_000).unwrap();
    assert_eq!(ez.points_at("alice", T0 + 2_000).unwrap(), e(90));
    assert_eq!(ez.points_at("dave", T0 + 2_000).unwrap(), e(30));
    assert_eq!(yt.points_at("bob", T0 + 2_000).unwrap(), e(60));
    for s in [&ez, &yt] {
        s.check_invariants().unwrap();
        assert_eq!(s.carry, U256::ZERO);
    }
    el.check_invariants().unwrap();
}

#[test]
fn pass_through_rounding_never_hands_out_more_points_than_it_inherited() {
    let mut el = Programme::new("el", w(1), T0);
    el.set_balance("lrt", e(1), T0).unwrap();
    let mut p = PassThrough::new("lrt ← el", "lrt", U256::ZERO);
    for h in ["a", "b", "c"] {
        p.set_balance(h, w(1), &el, T0).unwrap();
    }
    // 10 points over 3 holders of 1 wei: index += ⌊10·1e18/3⌋, each gets 3, 1 is dust.
    el.set_balance("lrt", e(1), T0 + 10).unwrap();
    p.sync(&el, T0 + 10).unwrap();
    assert_eq!(p.acc.index, w(3_333_333_333_333_333_333));
    assert_eq!(p.points_at("a", T0 + 10).unwrap(), w(3));
    assert_eq!((p.acc.issued, p.carry, p.synced), (w(9), U256::ZERO, w(10)));
    p.check_invariants().unwrap();
    // Points earned while nobody holds the token wait in the carry for the first holder.
    let mut q = PassThrough::new("empty", "lrt", U256::ZERO);
    q.sync(&el, T0 + 10).unwrap();
    assert_eq!(q.carry, w(10));
    q.set_balance("z", w(5), &el, T0 + 10).unwrap();
    q.sync(&el, T0 + 10).unwrap();
    assert_eq!((q.points_at("z", T0 + 10).unwrap(), q.carry), (w(10), U256::ZERO));
    q.check_invariants().unwrap();
}

#[test]
fn every_points_rejection_leaves_the_state_unchanged() {
    let mut el = Programme::new("el", w(RATE), T0);
    el.set_balance("lrt", e(1), T0 + 10).unwrap();
    rejects(
        &mut el,
        PointsError::TimeWentBackwards { now: T0, last: T0 + 10 },
        |p| p.accrue(T0),
    );
    rejects(
        &mut el,
        PointsError::TimeWentBackwards { now: T0, last: T0 + 10 },
        |p| p.set_balance("x", e(1), T0),
    );
    rejects(
        &mut el,
        PointsError::TimeWentBackwards { now: T0, last: T0 + 10 },
        |p| p.set_rate(U256::ZERO, T0),
    );
    // A pass-through that believes the LRT already had 500 points, when it has 0.
    let mut p = PassThrough::new("lrt ← el", "lrt", w(500));
    rejects(
        &mut p,
        PointsError::SourceWentBackwards {
            points: U256::ZERO,
            synced: w(500),
        },
        |p| p.sync(&el, T0 + 10),
    );
    rejects(&mut p, PointsError::TimeWentBackwards { now: T0, last: T0 + 10 }, |p| {
        p.set_balance("a", e(1), &el, T0)
    });
}
