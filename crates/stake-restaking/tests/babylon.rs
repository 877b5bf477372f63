//! Babylon BTC staking model (SPEC §5.4): unbonding timing, O(1) provider slashing, index
//! rewards with commission, and every rejection path.

// Test helpers outside #[test] functions unwrap set-up steps that cannot fail.
#![allow(clippy::unwrap_used)]

use stake_ledger::{state_hash, AccountId, AssetKind, Ledger};
use stake_math::{u, U256};
use stake_restaking::babylon::*;

const BTC: u128 = 100_000_000;
const DAY: u64 = 86_400;

struct W {
    l: Ledger,
    b: Babylon,
    alice: AccountId,
    bob: AccountId,
    chain: AccountId,
    btc: stake_ledger::AssetId,
    tok: stake_ledger::AssetId,
}

fn world() -> W {
    let mut l = Ledger::new();
    let btc = l
        .register_asset("BTC", BTC_DECIMALS, "native", AssetKind::Plain)
        .unwrap();
    let tok = l.register_asset("BABY", 6, "native", AssetKind::Plain).unwrap();
    let alice = l.account("alice");
    let bob = l.account("bob");
    let chain = l.account("chain:treasury");
    l.mint(alice, btc, u(10 * BTC)).unwrap();
    l.mint(bob, btc, u(10 * BTC)).unwrap();
    l.mint(chain, tok, u(1_000_000)).unwrap();
    let mut b = Babylon::new(
        &mut l,
        BabylonParams {
            btc,
            reward_asset: tok,
            unbonding_secs: DEFAULT_UNBONDING_SECS,
            min_staking_secs: 10 * DAY,
            max_staking_secs: 450 * DAY,
            slashing_rate_wad: u(100_000_000_000_000_000), // 10 %
            min_stake: u(50_000),
        },
    )
    .unwrap();
    b.register_provider(&mut l, "fp", 1000, "fp:commission").unwrap();
    W {
        l,
        b,
        alice,
        bob,
        chain,
        btc,
        tok,
    }
}

fn ok(w: &W) {
    w.b.check_invariants(&w.l).unwrap();
    w.l.check_conservation().unwrap();
}

fn rejects(
    w: &mut W,
    expected: BabylonError,
    f: impl FnOnce(&mut Babylon, &mut Ledger) -> BabylonResult<Vec<BabylonEvent>>,
) {
    let before = (state_hash(&w.l), state_hash(&w.b));
    assert_eq!(f(&mut w.b, &mut w.l).unwrap_err(), expected);
    assert_eq!((state_hash(&w.l), state_hash(&w.b)), before);
}

#[test]
fn unbonding_takes_seven_days_and_returns_the_btc() {
    let mut w = world();
    let alice = w.alice;
    w.b.delegate(&mut w.l, alice, "fp", u(BTC), 100 * DAY, 0).unwrap();
    ok(&w);
    assert_eq!(w.b.voting_power("fp").unwrap(), u(BTC));
    let ev = w.b.unbond(0, alice, DAY).unwrap();
    assert_eq!(ev, vec![BabylonEvent::Unbond { id: 0, until: 8 * DAY }]);
    ok(&w);
    assert_eq!(w.b.voting_power("fp").unwrap(), U256::ZERO);
    rejects(
        &mut w,
        BabylonError::StillLocked {
            id: 0,
            unlock: 8 * DAY,
            now: 8 * DAY - 1,
        },
        |b, l| b.withdraw(l, 0, alice, 8 * DAY - 1),
    );
    rejects(&mut w, BabylonError::NotActive { id: 0 }, |b, _| {
        b.unbond(0, alice, DAY)
    });
    w.b.withdraw(&mut w.l, 0, alice, 8 * DAY).unwrap();
    ok(&w);
    assert_eq!(w.l.balance(alice, w.btc), u(10 * BTC));
    rejects(&mut w, BabylonError::NotActive { id: 0 }, |b, l| {
        b.withdraw(l, 0, alice, 9 * DAY)
    });
}

#[test]
fn double_sign_slashing_burns_the_rate_from_every_delegation_at_once() {
    let mut w = world();
    let (alice, bob) = (w.alice, w.bob);
    w.b.delegate(&mut w.l, alice, "fp", u(BTC), 100 * DAY, 0).unwrap();
    w.b.delegate(&mut w.l, bob, "fp", u(3 * BTC), 100 * DAY, 0).unwrap();
    w.b.unbond(1, bob, DAY).unwrap(); // unbonding stake stays slashable
    let ev = w.b.slash_provider(&mut w.l, "fp").unwrap();
    // ⌈4e8 · 0.1⌉ = 4e7 sat burned; pool 3.6e8: alice 0.9 BTC, bob 2.7 BTC.
    assert_eq!(
        ev,
        vec![BabylonEvent::Slash {
            provider: "fp".into(),
            burned: u(40_000_000)
        }]
    );
    ok(&w);
    assert_eq!(w.b.delegation_value(0).unwrap(), u(90_000_000));
    assert_eq!(w.b.delegation_value(1).unwrap(), u(270_000_000));
    let burn = w.l.find_account("babylon:burn").unwrap();
    assert_eq!(w.l.balance(burn, w.btc), u(40_000_000));
    assert_eq!(w.b.voting_power("fp").unwrap(), U256::ZERO);
    rejects(&mut w, BabylonError::ProviderSlashed { name: "fp".into() }, |b, l| {
        b.slash_provider(l, "fp")
    });
    rejects(&mut w, BabylonError::ProviderSlashed { name: "fp".into() }, |b, l| {
        b.delegate(l, alice, "fp", u(BTC), 100 * DAY, DAY)
    });
    w.b.withdraw(&mut w.l, 1, bob, 8 * DAY).unwrap();
    ok(&w);
    assert_eq!(w.l.balance(bob, w.btc), u(7 * BTC + 270_000_000));
}

#[test]
fn rewards_pay_commission_then_pro_rata_by_index() {
    let mut w = world();
    let (alice, bob, chain) = (w.alice, w.bob, w.chain);
    w.b.delegate(&mut w.l, alice, "fp", u(BTC), 100 * DAY, 0).unwrap();
    w.b.delegate(&mut w.l, bob, "fp", u(3 * BTC), 100 * DAY, 0).unwrap();
    // 1000: commission ⌊1000·1000/1e4⌋ = 100; 900 over 4e8 shares → index 2.25e21 ray;
    // alice ⌊1e8·2.25e21/1e27⌋ = 225, bob 675.
    let ev = w.b.distribute_rewards(&mut w.l, chain, "fp", u(1000)).unwrap();
    assert_eq!(
        ev,
        vec![BabylonEvent::Rewards {
            provider: "fp".into(),
            commission: u(100),
            to_delegators: u(900)
        }]
    );
    ok(&w);
    assert_eq!(w.b.pending_rewards(0).unwrap(), u(225));
    assert_eq!(w.b.pending_rewards(1).unwrap(), u(675));
    // Unbonding stops earning; settled rewards stay claimable.
    w.b.unbond(1, bob, DAY).unwrap();
    w.b.distribute_rewards(&mut w.l, chain, "fp", u(1000)).unwrap();
    assert_eq!(w.b.pending_rewards(0).unwrap(), u(1125));
    assert_eq!(w.b.pending_rewards(1).unwrap(), u(675));
    w.b.claim_rewards(&mut w.l, 1, bob).unwrap();
    ok(&w);
    assert_eq!(w.l.balance(bob, w.tok), u(675));
    rejects(&mut w, BabylonError::ZeroAmount, |b, l| b.claim_rewards(l, 1, bob));
}

#[test]
fn expired_timelocks_leave_the_active_set_and_unlock() {
    let mut w = world();
    let alice = w.alice;
    w.b.delegate(&mut w.l, alice, "fp", u(BTC), 10 * DAY, 0).unwrap();
    rejects(
        &mut w,
        BabylonError::StillLocked {
            id: 0,
            unlock: 10 * DAY,
            now: 5 * DAY,
        },
        |b, l| b.withdraw(l, 0, alice, 5 * DAY),
    );
    assert_eq!(
        w.b.process_expirations(10 * DAY).unwrap(),
        vec![BabylonEvent::Expire { id: 0 }]
    );
    ok(&w);
    assert_eq!(w.b.voting_power("fp").unwrap(), U256::ZERO);
    w.b.withdraw(&mut w.l, 0, alice, 10 * DAY).unwrap();
    ok(&w);
}

#[test]
fn every_rejection_leaves_the_state_unchanged() {
    let mut w = world();
    let (alice, bob, chain) = (w.alice, w.bob, w.chain);
    rejects(&mut w, BabylonError::UnknownProvider { name: "x".into() }, |b, l| {
        b.delegate(l, alice, "x", u(BTC), 10 * DAY, 0)
    });
    rejects(
        &mut w,
        BabylonError::StakeTooSmall {
            amount: u(49_999),
            min: u(50_000),
        },
        |b, l| b.delegate(l, alice, "fp", u(49_999), 10 * DAY, 0),
    );
    rejects(
        &mut w,
        BabylonError::InvalidStakingTime {
            secs: DAY,
            min: 10 * DAY,
            max: 450 * DAY,
        },
        |b, l| b.delegate(l, alice, "fp", u(BTC), DAY, 0),
    );
    rejects(&mut w, BabylonError::NoActiveStake { name: "fp".into() }, |b, l| {
        b.distribute_rewards(l, chain, "fp", u(1))
    });
    rejects(&mut w, BabylonError::ZeroAmount, |b, l| {
        b.distribute_rewards(l, chain, "fp", U256::ZERO)
    });
    rejects(&mut w, BabylonError::UnknownDelegation { id: 0 }, |b, _| {
        b.unbond(0, alice, 0)
    });
    rejects(&mut w, BabylonError::DuplicateProvider { name: "fp".into() }, |b, l| {
        b.register_provider(l, "fp", 0, "c")
    });
    rejects(
        &mut w,
        BabylonError::InvalidParameter { what: "commission_bps" },
        |b, l| b.register_provider(l, "fp2", 10_001, "c"),
    );
    let before = (state_hash(&w.l), state_hash(&w.b));
    assert!(matches!(
        w.b.delegate(&mut w.l, alice, "fp", u(11 * BTC), 10 * DAY, 0),
        Err(BabylonError::Ledger(
            stake_ledger::LedgerError::InsufficientBalance { .. }
        ))
    ));
    assert_eq!((state_hash(&w.l), state_hash(&w.b)), before);
    w.b.delegate(&mut w.l, alice, "fp", u(BTC), 10 * DAY, 0).unwrap();
    rejects(&mut w, BabylonError::NotOwner { id: 0 }, |b, _| b.unbond(0, bob, 0));
    rejects(&mut w, BabylonError::NotOwner { id: 0 }, |b, l| {
        b.withdraw(l, 0, bob, 20 * DAY)
    });
    rejects(&mut w, BabylonError::NotOwner { id: 0 }, |b, l| {
        b.claim_rewards(l, 0, bob)
    });
    let bad = BabylonParams {
        btc: w.btc,
        reward_asset: w.tok,
        unbonding_secs: 1,
        min_staking_secs: 2,
        max_staking_secs: 1,
        slashing_rate_wad: U256::ZERO,
        min_stake: U256::ZERO,
    };
    assert_eq!(
        Babylon::new(&mut w.l, bad).unwrap_err(),
        BabylonError::InvalidParameter {
            what: "staking time bounds"
        }
    );
}
