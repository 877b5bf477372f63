//! Symbiotic vault model (SPEC §5.2): hand-computed worked cases, every rejection path with its
//! exact error and an unchanged state hash, and the backing invariant as a proptest property.

// Test helpers outside #[test] functions unwrap set-up steps that cannot fail.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use stake_ledger::{state_hash, AccountId, AssetKind, Ledger};
use stake_math::{u, U256};
use stake_restaking::symbiotic::*;

const INIT: u64 = 1_000;
const EPOCH: u64 = 100;

struct World {
    l: Ledger,
    v: SymbioticVault,
    alice: AccountId,
    bob: AccountId,
    carol: AccountId,
}

fn world(delegator: DelegatorKind, slasher: Option<SlasherKind>) -> World {
    let mut l = Ledger::new();
    let a = l.register_asset("wstETH", 18, "native", AssetKind::Plain).unwrap();
    let alice = l.account("alice");
    let bob = l.account("bob");
    let carol = l.account("carol");
    for who in [alice, bob, carol] {
        l.mint(who, a, u(1_000_000)).unwrap();
    }
    let v = SymbioticVault::new(
        &mut l,
        VaultParams {
            name: "v".into(),
            collateral: a,
            epoch_duration: EPOCH,
            deposit_whitelist: false,
            deposit_limit: None,
            delegator,
            slasher,
            burner: "burner".into(),
        },
        INIT,
    )
    .unwrap();
    World {
        l,
        v,
        alice,
        bob,
        carol,
    }
}

/// A NetworkRestake vault with one network `net`, one operator `op` holding all shares,
/// a limit of 1e6, both opt-ins done at INIT.
fn restake_world(slasher: SlasherKind) -> World {
    let mut w = world(DelegatorKind::NetworkRestake, Some(slasher));
    w.v.set_max_network_limit("net", u(1_000_000), INIT).unwrap();
    w.v.set_network_limit("net", u(1_000_000), INIT).unwrap();
    w.v.set_operator_network_shares("net", "op", u(1), INIT).unwrap();
    w.v.set_operator_vault_opt_in("op", true, INIT).unwrap();
    w.v.set_operator_network_opt_in("op", "net", true, INIT).unwrap();
    w
}

fn ok(w: &World) {
    w.v.check_invariants(&w.l).unwrap();
    w.l.check_conservation().unwrap();
}

fn snap(w: &World) -> ([u8; 32], [u8; 32]) {
    (state_hash(&w.l), state_hash(&w.v))
}

fn rejects(
    w: &mut World,
    expected: SymbioticError,
    f: impl FnOnce(&mut SymbioticVault, &mut Ledger) -> SymbioticResult<Vec<SymbioticEvent>>,
) {
    let before = snap(w);
    let err = f(&mut w.v, &mut w.l).unwrap_err();
    assert_eq!(err, expected);
    assert_eq!(snap(w), before, "state changed on rejection {err}");
}

#[test]
fn erc4626_math_rounds_as_the_reference() {
    // previewDeposit(10, S=1010, A=1009) = ⌊10·1011/1010⌋ = 10
    assert_eq!(preview_deposit(u(10), u(1010), u(1009)).unwrap(), u(10));
    // previewWithdraw(100, 1010, 1009) = ⌈100·1011/1010⌉ = ⌈100.099⌉ = 101
    assert_eq!(preview_withdraw(u(100), u(1010), u(1009)).unwrap(), u(101));
    // previewRedeem(150, A=285, S=300) = ⌊150·286/301⌋ = ⌊142.52⌋ = 142
    assert_eq!(preview_redeem(u(150), u(285), u(300)).unwrap(), u(142));
}

#[test]
fn deposit_withdraw_and_claim_across_epochs_round_in_the_vaults_favour() {
    let mut w = restake_world(SlasherKind::Instant);
    let (alice, bob) = (w.alice, w.bob);
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    ok(&w);
    assert_eq!(w.v.active_shares_of(alice), u(1000));
    // Slash 1 captured in epoch 0: stake(net, op) at 1040 = 1·min(1000, 1e6)/1 = 1000;
    // capture epoch == current: slashable = active 1000 + w[1] 0, all from active → 999.
    let ev = w.v.slash(&mut w.l, "net", "op", u(1), 1040, 1050).unwrap();
    assert!(
        matches!(&ev[0], SymbioticEvent::Slash { slashed, active_slashed, .. } if *slashed == u(1) && *active_slashed == u(1))
    );
    ok(&w);
    // Bob: ⌊10·(1000+1)/(999+1)⌋ = ⌊10.01⌋ = 10 shares.
    let ev = w.v.deposit(&mut w.l, bob, bob, u(10), 1060).unwrap();
    assert_eq!(
        ev,
        vec![SymbioticEvent::Deposit {
            depositor: bob,
            on_behalf_of: bob,
            amount: u(10),
            shares: u(10)
        }]
    );
    ok(&w);
    // A = 1009, S = 1010. Alice withdraws 100: burns ⌈100·1011/1010⌉ = 101, mints 100 in w[1].
    let ev = w.v.withdraw(alice, alice, u(100), 1070).unwrap();
    assert_eq!(
        ev,
        vec![SymbioticEvent::Withdraw {
            account: alice,
            claimer: alice,
            amount: u(100),
            burned_shares: u(101),
            minted_shares: u(100),
            epoch: 1
        }]
    );
    ok(&w);
    assert_eq!(w.v.active_stake(), u(909));
    assert_eq!(w.v.active_shares(), u(909));
    assert_eq!(w.v.active_shares_of(alice), u(899));
    assert_eq!(w.v.withdrawals(1), u(100));
    // totalStake = active + w[0] + w[1] = 909 + 0 + 100.
    assert_eq!(w.v.total_stake(1070).unwrap(), u(1009));
    // Epoch 1 is running at 1150: not claimable yet.
    rejects(&mut w, SymbioticError::InvalidEpoch { epoch: 1, current: 1 }, |v, l| {
        v.claim(l, alice, alice, 1, 1150)
    });
    // Epoch 2 from 1200: ⌊100·101/101⌋ = 100.
    let before = w.l.balance(alice, w.v.collateral);
    w.v.claim(&mut w.l, alice, alice, 1, 1200).unwrap();
    ok(&w);
    assert_eq!(w.l.balance(alice, w.v.collateral) - before, u(100));
    // Bob redeems his 10 shares: ⌊10·(909+1)/(909+1)⌋ = 10 into w[3] (current epoch 2).
    let ev = w.v.redeem(bob, bob, u(10), 1210).unwrap();
    assert!(matches!(&ev[0], SymbioticEvent::Withdraw { amount, epoch: 3, .. } if *amount == u(10)));
    ok(&w);
    // activeStakeAt history: before Bob's deposit, after the slash.
    assert_eq!(w.v.active_stake_at(1055), u(999));
    assert_eq!(w.v.active_stake_at(999), U256::ZERO);
    assert_eq!(w.v.active_stake_at(1065), u(1009));
    assert_eq!(w.v.active_balance_of_at(alice, 1065).unwrap(), u(999)); // ⌊1000·1010/1011⌋
}

#[test]
fn slash_of_a_previous_epoch_capture_takes_active_and_both_withdrawal_buckets_pro_rata() {
    let mut w = restake_world(SlasherKind::Instant);
    let (alice, bob, carol) = (w.alice, w.bob, w.carol);
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    w.v.deposit(&mut w.l, bob, bob, u(1000), INIT).unwrap();
    w.v.withdraw(alice, alice, u(150), 1010).unwrap();
    w.v.withdraw(alice, carol, u(150), 1020).unwrap();
    w.v.withdraw(bob, bob, u(200), 1110).unwrap();
    ok(&w);
    // Epoch 1: active 1500, w[1] = 300 (current), w[2] = 200 (next).
    assert_eq!(
        (w.v.active_stake(), w.v.withdrawals(1), w.v.withdrawals(2)),
        (u(1500), u(300), u(200))
    );
    // Capture 1090 (epoch 0): stake then = 1700 → slash 100 of slashable 1700.
    assert_eq!(w.v.slashable_stake("net", "op", 1090, 1120).unwrap(), u(1700));
    let ev = w.v.slash(&mut w.l, "net", "op", u(100), 1090, 1120).unwrap();
    // slashable in the vault = 1500 + 300 + 200 = 2000:
    // active ⌊100·1500/2000⌋ = 75, next ⌊100·200/2000⌋ = 10, current 100 − 75 − 10 = 15.
    assert_eq!(
        ev,
        vec![SymbioticEvent::Slash {
            network: "net".into(),
            operator: "op".into(),
            requested: u(100),
            slashed: u(100),
            capture: 1090,
            active_slashed: u(75),
            withdrawals_slashed: u(15),
            next_withdrawals_slashed: u(10),
        }]
    );
    ok(&w);
    assert_eq!(
        (w.v.active_stake(), w.v.withdrawals(1), w.v.withdrawals(2)),
        (u(1425), u(285), u(190))
    );
    assert_eq!(w.l.balance(w.v.burner, w.v.collateral), u(100));
    // The slasher remembers: at capture 1090 the stake was 1700, 100 slashed since.
    assert_eq!(w.v.slashable_stake("net", "op", 1090, 1130).unwrap(), u(1600));
    // Claims from the slashed bucket: ⌊150·(285+1)/(300+1)⌋ = ⌊142.52⌋ = 142 each; 1 wei of dust stays.
    w.v.claim(&mut w.l, alice, alice, 1, 1200).unwrap();
    w.v.claim(&mut w.l, carol, carol, 1, 1200).unwrap();
    ok(&w);
    assert_eq!(w.v.claimed, u(284));
    // Balance = deposited 2000 − claimed 284 − slashed 100 = 1616 = 1425 + (285 − 284) + 190.
    assert_eq!(w.l.balance(w.v.account, w.v.collateral), u(1616));
    // Active balances: ⌊700·1426/1501⌋ = 665, ⌊800·1426/1501⌋ = 760.
    assert_eq!(w.v.active_balance_of(alice).unwrap(), u(665));
    assert_eq!(w.v.active_balance_of(bob).unwrap(), u(760));
    rejects(&mut w, SymbioticError::AlreadyClaimed { epoch: 1 }, |v, l| {
        v.claim(l, alice, alice, 1, 1200)
    });
}

#[test]
fn stake_follows_each_delegator_type() {
    // NetworkRestake: active 1000, limit 600, shares 1 and 2 → ⌊1·600/3⌋ = 200 and 400.
    let mut w = world(DelegatorKind::NetworkRestake, None);
    let alice = w.alice;
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    w.v.set_max_network_limit("net", u(800), 1001).unwrap();
    w.v.set_network_limit("net", u(600), 1001).unwrap();
    w.v.set_operator_network_shares("net", "op1", u(1), 1001).unwrap();
    w.v.set_operator_network_shares("net", "op2", u(2), 1001).unwrap();
    for op in ["op1", "op2"] {
        w.v.set_operator_vault_opt_in(op, true, 1001).unwrap();
        w.v.set_operator_network_opt_in(op, "net", true, 1001).unwrap();
    }
    assert_eq!(w.v.stake("net", "op1").unwrap(), u(200));
    assert_eq!(w.v.stake("net", "op2").unwrap(), u(400));
    assert_eq!(w.v.stake_at("net", "op2", 1000).unwrap(), U256::ZERO); // nothing set yet
                                                                       // Lowering the max below the limit lowers the limit: min(1000, 300)·2/3 = 200.
    w.v.set_max_network_limit("net", u(300), 1002).unwrap();
    assert_eq!(w.v.network_limit("net"), u(300));
    assert_eq!(w.v.stake("net", "op2").unwrap(), u(200));
    assert_eq!(w.v.stake_at("net", "op2", 1001).unwrap(), u(400));
    // Opting out of the network zeroes the stake from then on.
    w.v.set_operator_network_opt_in("op2", "net", false, 1003).unwrap();
    assert_eq!(w.v.stake("net", "op2").unwrap(), U256::ZERO);
    assert_eq!(w.v.stake_at("net", "op2", 1002).unwrap(), u(200));
    ok(&w);

    // FullRestake: min(active 1000, net 600, op limit) → 500 and 600: the same stake counted twice.
    let mut w = world(DelegatorKind::FullRestake, None);
    let alice = w.alice;
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    w.v.set_max_network_limit("net", u(600), INIT).unwrap();
    w.v.set_network_limit("net", u(600), INIT).unwrap();
    w.v.set_operator_network_limit("net", "op1", u(500), INIT).unwrap();
    w.v.set_operator_network_limit("net", "op2", u(800), INIT).unwrap();
    for op in ["op1", "op2"] {
        w.v.set_operator_vault_opt_in(op, true, INIT).unwrap();
        w.v.set_operator_network_opt_in(op, "net", true, INIT).unwrap();
    }
    assert_eq!(w.v.stake("net", "op1").unwrap(), u(500));
    assert_eq!(w.v.stake("net", "op2").unwrap(), u(600));

    // OperatorSpecific: min(active, netLimit) for its operator only.
    let mut w = world(DelegatorKind::OperatorSpecific { operator: "op1".into() }, None);
    let alice = w.alice;
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    w.v.set_max_network_limit("net", u(2000), INIT).unwrap();
    w.v.set_network_limit("net", u(1500), INIT).unwrap();
    for op in ["op1", "op2"] {
        w.v.set_operator_vault_opt_in(op, true, INIT).unwrap();
        w.v.set_operator_network_opt_in(op, "net", true, INIT).unwrap();
    }
    assert_eq!(w.v.stake("net", "op1").unwrap(), u(1000));
    assert_eq!(w.v.stake("net", "op2").unwrap(), U256::ZERO);

    // OperatorNetworkSpecific: min(active, maxNetworkLimit) for its pair only.
    let mut w = world(
        DelegatorKind::OperatorNetworkSpecific {
            operator: "op1".into(),
            network: "net".into(),
        },
        None,
    );
    let alice = w.alice;
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    w.v.set_max_network_limit("net", u(700), INIT).unwrap();
    w.v.set_operator_vault_opt_in("op1", true, INIT).unwrap();
    w.v.set_operator_network_opt_in("op1", "net", true, INIT).unwrap();
    w.v.set_operator_network_opt_in("op1", "other", true, INIT).unwrap();
    assert_eq!(w.v.stake("net", "op1").unwrap(), u(700));
    assert_eq!(w.v.stake("other", "op1").unwrap(), U256::ZERO);
    rejects(
        &mut w,
        SymbioticError::NotDesignated { entity: "other".into() },
        |v, _| v.set_max_network_limit("other", u(1), INIT),
    );
    rejects(
        &mut w,
        SymbioticError::NotSupported {
            operation: "setNetworkLimit",
        },
        |v, _| v.set_network_limit("net", u(1), INIT),
    );
}

fn veto_world() -> World {
    let mut w = restake_world(SlasherKind::Veto {
        veto_duration: 20,
        resolver_set_epochs_delay: 3,
    });
    let alice = w.alice;
    w.v.set_resolver("net", Some("judge".into()), INIT).unwrap();
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    w
}

#[test]
fn a_vetoed_slash_changes_no_stake_and_no_balance() {
    let mut w = veto_world();
    let before_ledger = state_hash(&w.l);
    let before_vault = w.v.clone();
    // Capture must be ≥ now + veto − epoch = 1050 + 20 − 100 = 970 and < 1050.
    let ev = w.v.request_slash("net", "op", u(400), 1040, 1050).unwrap();
    assert_eq!(
        ev,
        vec![SymbioticEvent::RequestSlash {
            index: 0,
            network: "net".into(),
            operator: "op".into(),
            amount: u(400),
            capture: 1040,
            veto_deadline: 1070
        }]
    );
    rejects(
        &mut w,
        SymbioticError::VetoPeriodNotEnded {
            deadline: 1070,
            now: 1060,
        },
        |v, l| v.execute_slash(l, 0, 1060),
    );
    rejects(
        &mut w,
        SymbioticError::NotResolver {
            caller: "mallory".into(),
        },
        |v, _| v.veto_slash(0, "mallory", 1060),
    );
    w.v.veto_slash(0, "judge", 1065).unwrap();
    ok(&w);
    // Nothing but the request record changed: same ledger hash, and the vault equals its
    // pre-request self once the (completed) request record is removed.
    assert_eq!(state_hash(&w.l), before_ledger);
    let mut stripped = w.v.clone();
    if let Some(s) = &mut stripped.slasher {
        s.requests.clear();
    }
    stripped.last_time = before_vault.last_time;
    assert_eq!(state_hash(&stripped), state_hash(&before_vault));
    rejects(&mut w, SymbioticError::SlashRequestCompleted { index: 0 }, |v, l| {
        v.execute_slash(l, 0, 1075)
    });
    rejects(
        &mut w,
        SymbioticError::VetoPeriodEnded {
            deadline: 1070,
            now: 1075,
        },
        |v, _| v.veto_slash(0, "judge", 1075),
    );
}

#[test]
fn an_unvetoed_slash_executes_after_the_window() {
    let mut w = veto_world();
    w.v.request_slash("net", "op", u(400), 1040, 1050).unwrap();
    let ev = w.v.execute_slash(&mut w.l, 0, 1070).unwrap();
    assert!(matches!(&ev[0], SymbioticEvent::Slash { slashed, .. } if *slashed == u(400)));
    ok(&w);
    assert_eq!(w.v.active_stake(), u(600));
    assert_eq!(w.v.slashed, u(400));
}

#[test]
fn slash_requests_outside_the_capture_window_are_rejected() {
    let mut w = veto_world();
    // Veto slasher: capture 969 < 1050 + 20 − 100 = 970.
    rejects(
        &mut w,
        SymbioticError::InvalidCaptureTimestamp {
            capture: 969,
            now: 1050,
        },
        |v, _| v.request_slash("net", "op", u(1), 969, 1050),
    );
    // Capture not in the past.
    rejects(
        &mut w,
        SymbioticError::InvalidCaptureTimestamp {
            capture: 1050,
            now: 1050,
        },
        |v, _| v.request_slash("net", "op", u(1), 1050, 1050),
    );
    // Instant slasher: capture older than one epoch.
    let mut w = restake_world(SlasherKind::Instant);
    let alice = w.alice;
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    rejects(
        &mut w,
        SymbioticError::InvalidCaptureTimestamp {
            capture: 1099,
            now: 1200,
        },
        |v, l| v.slash(l, "net", "op", u(1), 1099, 1200),
    );
    // Execution more than an epoch after the capture.
    let mut w = veto_world();
    w.v.request_slash("net", "op", u(1), 1040, 1050).unwrap();
    rejects(
        &mut w,
        SymbioticError::SlashPeriodEnded {
            capture: 1040,
            now: 1141,
        },
        |v, l| v.execute_slash(l, 0, 1141),
    );
}

#[test]
fn every_rejection_leaves_the_state_unchanged() {
    let mut w = restake_world(SlasherKind::Instant);
    let (alice, bob) = (w.alice, w.bob);
    w.v.deposit(&mut w.l, alice, alice, u(1000), INIT).unwrap();
    rejects(&mut w, SymbioticError::InsufficientDeposit, |v, l| {
        v.deposit(l, alice, alice, U256::ZERO, 1001)
    });
    rejects(
        &mut w,
        SymbioticError::InvalidTime {
            now: 999,
            earliest: 1000,
        },
        |v, l| v.deposit(l, alice, alice, u(1), 999),
    );
    let poor = w.l.account("poor");
    let before = snap(&w);
    let err = w.v.deposit(&mut w.l, poor, poor, u(5), 1001).unwrap_err();
    assert!(matches!(
        err,
        SymbioticError::Ledger(stake_ledger::LedgerError::InsufficientBalance { .. })
    ));
    assert_eq!(snap(&w), before);
    w.v.set_deposit_limit(Some(u(1500))).unwrap();
    rejects(
        &mut w,
        SymbioticError::DepositLimitReached {
            active_stake: u(1000),
            amount: u(501),
            limit: u(1500),
        },
        |v, l| v.deposit(l, bob, bob, u(501), 1001),
    );
    rejects(&mut w, SymbioticError::AlreadySet, |v, _| {
        v.set_deposit_limit(Some(u(1500)))
    });
    w.v.set_deposit_whitelist(true).unwrap();
    rejects(
        &mut w,
        SymbioticError::NotWhitelistedDepositor { account: "bob".into() },
        |v, l| v.deposit(l, bob, bob, u(1), 1001),
    );
    w.v.set_depositor_whitelist_status(bob, true).unwrap();
    w.v.deposit(&mut w.l, bob, bob, u(1), 1001).unwrap();
    rejects(&mut w, SymbioticError::AlreadySet, |v, _| {
        v.set_depositor_whitelist_status(bob, true)
    });
    rejects(&mut w, SymbioticError::InsufficientWithdrawal, |v, _| {
        v.withdraw(alice, alice, U256::ZERO, 1002)
    });
    // ⌈1001·1002/1002⌉ = 1001 shares > 1000 held.
    rejects(
        &mut w,
        SymbioticError::TooMuchWithdraw {
            shares_needed: u(1001),
            shares_held: u(1000),
        },
        |v, _| v.withdraw(alice, alice, u(1001), 1002),
    );
    rejects(
        &mut w,
        SymbioticError::TooMuchRedeem {
            shares: u(1001),
            shares_held: u(1000),
        },
        |v, _| v.redeem(alice, alice, u(1001), 1002),
    );
    rejects(&mut w, SymbioticError::InsufficientRedemption, |v, _| {
        v.redeem(alice, alice, U256::ZERO, 1002)
    });
    rejects(&mut w, SymbioticError::InsufficientClaim { epoch: 0 }, |v, l| {
        v.claim(l, alice, alice, 0, 1100)
    });
    rejects(
        &mut w,
        SymbioticError::ExceedsMaxNetworkLimit {
            amount: u(1_000_001),
            max: u(1_000_000),
        },
        |v, _| v.set_network_limit("net", u(1_000_001), 1002),
    );
    rejects(&mut w, SymbioticError::AlreadySet, |v, _| {
        v.set_network_limit("net", u(1_000_000), 1002)
    });
    rejects(&mut w, SymbioticError::AlreadySet, |v, _| {
        v.set_operator_network_shares("net", "op", u(1), 1002)
    });
    rejects(
        &mut w,
        SymbioticError::NotSupported {
            operation: "setOperatorNetworkLimit",
        },
        |v, _| v.set_operator_network_limit("net", "op", u(1), 1002),
    );
    // Nothing slashable for an operator without shares.
    rejects(&mut w, SymbioticError::InsufficientSlash, |v, l| {
        v.slash(l, "net", "nobody", u(1), 1001, 1002)
    });
    rejects(&mut w, SymbioticError::NoSlasher, |v, _| {
        v.request_slash("net", "op", u(1), 1001, 1002)
    });
    rejects(&mut w, SymbioticError::NoSlasher, |v, _| {
        v.set_resolver("net", Some("x".into()), 1002)
    });

    let mut w = veto_world();
    rejects(&mut w, SymbioticError::NoSlasher, |v, l| {
        v.slash(l, "net", "op", u(1), 1001, 1002)
    });
    rejects(&mut w, SymbioticError::SlashRequestNotExist { index: 7 }, |v, l| {
        v.execute_slash(l, 7, 1002)
    });
    rejects(&mut w, SymbioticError::SlashRequestNotExist { index: 7 }, |v, _| {
        v.veto_slash(7, "judge", 1002)
    });
    rejects(&mut w, SymbioticError::AlreadySet, |v, _| {
        v.set_resolver("net", Some("judge".into()), 1002)
    });
    rejects(&mut w, SymbioticError::AlreadySet, |v, _| {
        v.set_resolver("other", None, 1002)
    });
    // A network without a resolver: no veto possible, execution at once.
    w.v.set_max_network_limit("free", u(10), 1002).unwrap();
    w.v.set_network_limit("free", u(10), 1002).unwrap();
    w.v.set_operator_network_shares("free", "op", u(1), 1002).unwrap();
    w.v.set_operator_network_opt_in("op", "free", true, 1002).unwrap();
    w.v.request_slash("free", "op", u(5), 1002, 1003).unwrap();
    rejects(&mut w, SymbioticError::NoResolver, |v, _| {
        v.veto_slash(0, "judge", 1004)
    });
    w.v.execute_slash(&mut w.l, 0, 1004).unwrap();
    ok(&w);
    // Resolver change takes effect after 3 epochs: at 1004 (epoch 0) → 1000 + 300.
    w.v.set_resolver("net", Some("judge2".into()), 1004).unwrap();
    let tr = &w.v.slasher.as_ref().unwrap().resolver["net"];
    assert_eq!(tr.latest_time(), Some(1300));
    assert_eq!(tr.at(1299), Some("judge".to_string()));

    // Construction errors.
    let mut l = Ledger::new();
    let a = l.register_asset("X", 18, "native", AssetKind::Plain).unwrap();
    let params = |epoch, slasher| VaultParams {
        name: "bad".into(),
        collateral: a,
        epoch_duration: epoch,
        deposit_whitelist: false,
        deposit_limit: None,
        delegator: DelegatorKind::FullRestake,
        slasher,
        burner: "b".into(),
    };
    assert_eq!(
        SymbioticVault::new(&mut l, params(0, None), 0).unwrap_err(),
        SymbioticError::InvalidEpochDuration
    );
    assert_eq!(
        SymbioticVault::new(
            &mut l,
            params(
                10,
                Some(SlasherKind::Veto {
                    veto_duration: 10,
                    resolver_set_epochs_delay: 3
                })
            ),
            0
        )
        .unwrap_err(),
        SymbioticError::InvalidVetoDuration {
            veto_duration: 10,
            epoch_duration: 10
        }
    );
    assert_eq!(
        SymbioticVault::new(
            &mut l,
            params(
                10,
                Some(SlasherKind::Veto {
                    veto_duration: 5,
                    resolver_set_epochs_delay: 2
                })
            ),
            0
        )
        .unwrap_err(),
        SymbioticError::InvalidResolverSetEpochsDelay { epochs: 2 }
    );
}

#[test]
fn error_codes_are_stable_and_in_range() {
    use stake_ledger::Reject;
    assert_eq!(
        SymbioticError::NotWhitelistedDepositor { account: "a".into() }.code(),
        4200
    );
    assert_eq!(SymbioticError::InvalidTime { now: 0, earliest: 1 }.code(), 4228);
    assert_eq!(
        SymbioticError::InvalidCaptureTimestamp { capture: 1, now: 2 }
            .rejection()
            .code,
        4210
    );
}

#[derive(Clone, Debug)]
enum Op {
    Deposit(usize, u64),
    Withdraw(usize, u64),
    Redeem(usize, u8),
    Claim(usize, u64),
    Advance(u64),
    Slash(u64, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 1..5_000u64).prop_map(|(a, x)| Op::Deposit(a, x)),
        (0..3usize, 1..3_000u64).prop_map(|(a, x)| Op::Withdraw(a, x)),
        (0..3usize, 1..=100u8).prop_map(|(a, p)| Op::Redeem(a, p)),
        (0..3usize, 0..3u64).prop_map(|(a, e)| Op::Claim(a, e)),
        (1..150u64).prop_map(Op::Advance),
        (1..2_000u64, 1..120u64).prop_map(|(x, back)| Op::Slash(x, back)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn balance_plus_claimed_plus_slashed_equals_deposited_after_every_action(ops in prop::collection::vec(op(), 1..60)) {
        let mut w = restake_world(SlasherKind::Instant);
        let who = [w.alice, w.bob, w.carol];
        let mut now = INIT;
        for o in ops {
            let before = snap(&w);
            let r = match o {
                Op::Deposit(a, x) => w.v.deposit(&mut w.l, who[a], who[a], u(x as u128), now),
                Op::Withdraw(a, x) => w.v.withdraw(who[a], who[a], u(x as u128), now),
                Op::Redeem(a, p) => {
                    let s = w.v.active_shares_of(who[a]) * U256::from(p) / U256::from(100u8);
                    w.v.redeem(who[a], who[a], s, now)
                }
                Op::Claim(a, back) => {
                    let e = w.v.current_epoch(now).unwrap().saturating_sub(back + 1);
                    w.v.claim(&mut w.l, who[a], who[a], e, now)
                }
                Op::Advance(dt) => { now += dt; Ok(Vec::new()) }
                Op::Slash(x, back) => w.v.slash(&mut w.l, "net", "op", u(x as u128), now.saturating_sub(back), now),
            };
            if r.is_err() {
                prop_assert_eq!(snap(&w), before);
            }
            prop_assert_eq!(w.v.check_invariants(&w.l), Ok(()));
            prop_assert!(w.l.check_conservation().is_ok());
        }
    }
}
