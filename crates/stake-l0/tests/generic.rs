//! The parameterised chain: exact rewards, unbonding, slashing, conservation, rejections.
#![allow(clippy::unwrap_used)] // test helpers: a failed setup step should abort the test

use stake_l0::{Chain, GenericChain, GenericParams, L0Error, L0Event};
use stake_ledger::{state_hash, AccountId, AssetKind, Ledger};
use stake_math::{u, U256};

const DOT: u128 = 10_000_000_000; // 10 decimals

struct W {
    ledger: Ledger,
    chain: GenericChain,
    alice: AccountId,
}

/// The fixed-APR chain of these tests: daily epochs, 15 % APR, 28-epoch unbonding, 1 % slash.
fn fixed_polkadot() -> GenericParams {
    GenericParams::fixed_apr("polkadot", "DOT", 10, 86_400, 1_500, 28, 10_000_000)
}

fn setup() -> W {
    let mut ledger = Ledger::new();
    let dot = ledger.register_asset("DOT", 10, "native", AssetKind::Plain).unwrap();
    let chain = GenericChain::new(fixed_polkadot(), &mut ledger, 0).unwrap();
    let alice = ledger.account("alice");
    ledger.mint(alice, dot, u(1_000 * DOT)).unwrap();
    W { ledger, chain, alice }
}

impl W {
    fn check(&self) {
        self.chain.check_invariants(&self.ledger).unwrap();
        self.ledger.check_conservation().unwrap();
    }
    fn snapshot(&self) -> ([u8; 32], [u8; 32]) {
        (state_hash(&self.ledger), state_hash(&self.chain))
    }
}

#[test]
fn a_day_of_polkadot_staking_earns_the_exact_epoch_reward() {
    let mut w = setup();
    w.chain
        .stake(&mut w.ledger, w.alice, u(1_000 * DOT), "v1", w.alice, 0)
        .unwrap();
    let ev = w.chain.advance_to(&mut w.ledger, 86_400).unwrap();
    // 1e13 · 1,500 · 86,400 // (1e4 · 31,536,000) = 4,109,589,041 planck.
    assert_eq!(
        ev,
        vec![L0Event::RewardsAccrued {
            epoch: 0,
            amount: u(4_109_589_041)
        }]
    );
    assert_eq!(
        w.chain.summary_by_credentials(w.alice).balance_wei,
        u(1_000 * DOT + 4_109_589_041)
    );
    w.check();
}

#[test]
fn unbonding_pays_out_after_28_days() {
    let mut w = setup();
    w.chain
        .stake(&mut w.ledger, w.alice, u(1_000 * DOT), "v1", w.alice, 0)
        .unwrap();
    w.chain.request_unstake(w.alice, Some("v1"), u(400 * DOT), 0).unwrap();
    let dot = w.ledger.asset("DOT").unwrap();
    w.chain.advance_to(&mut w.ledger, 27 * 86_400).unwrap();
    assert_eq!(w.ledger.balance(w.alice, dot), U256::ZERO);
    w.chain.advance_to(&mut w.ledger, 28 * 86_400).unwrap();
    assert_eq!(w.ledger.balance(w.alice, dot), u(400 * DOT));
    assert_eq!(w.chain.summary_by_credentials(w.alice).withdrawn_wei, u(400 * DOT));
    w.check();
}

#[test]
fn slashing_burns_the_fraction_of_bonded_and_unbonding_stake() {
    let mut w = setup();
    let mut chain = GenericChain::new(
        GenericParams::fixed_apr("cosmos", "DOT", 10, 86_400, 1_500, 21, 50_000_000),
        &mut w.ledger,
        0,
    )
    .unwrap();
    chain
        .stake(&mut w.ledger, w.alice, u(1_000 * DOT), "v1", w.alice, 0)
        .unwrap();
    chain.request_unstake(w.alice, None, u(200 * DOT), 0).unwrap();
    let ev = chain.slash_operator(&mut w.ledger, "v1", None, 0).unwrap();
    // 5 % of 800 + 5 % of 200 = 50 DOT.
    assert_eq!(
        ev,
        vec![L0Event::StakeSlashed {
            operator: "v1".to_string(),
            amount: u(50 * DOT)
        }]
    );
    assert_eq!(chain.total_staked_wei(), u(950 * DOT));
    chain.check_invariants(&w.ledger).unwrap();
}

#[test]
fn unbonding_more_than_bonded_is_rejected_without_change() {
    let mut w = setup();
    w.chain
        .stake(&mut w.ledger, w.alice, u(10 * DOT), "v1", w.alice, 0)
        .unwrap();
    let before = w.snapshot();
    let err = w.chain.request_unstake(w.alice, None, u(11 * DOT), 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::UnbondExceedsBonded {
            credentials: w.alice,
            operator: None,
            requested: u(11 * DOT),
            available: u(10 * DOT)
        }
    );
    let err = w.chain.slash_operator(&mut w.ledger, "nobody", None, 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::UnknownOperator {
            operator: "nobody".to_string()
        }
    );
    let err = w
        .chain
        .stake(&mut w.ledger, w.alice, u(991 * DOT), "v1", w.alice, 0)
        .unwrap_err();
    assert_eq!(
        err,
        L0Error::InsufficientFunds {
            account: "alice".to_string(),
            balance: u(990 * DOT),
            required: u(991 * DOT)
        }
    );
    assert_eq!(w.snapshot(), before);
}

#[test]
fn conservation_holds_over_a_year_of_daily_epochs() {
    let mut w = setup();
    w.chain
        .stake(&mut w.ledger, w.alice, u(500 * DOT), "v1", w.alice, 0)
        .unwrap();
    for day in 1..=365u64 {
        w.chain.advance_to(&mut w.ledger, day * 86_400).unwrap();
        if day == 100 {
            w.chain
                .request_unstake(w.alice, None, u(100 * DOT), day * 86_400)
                .unwrap();
        }
        if day == 200 {
            w.chain.slash_operator(&mut w.ledger, "v1", None, day * 86_400).unwrap();
        }
        w.check();
    }
}
