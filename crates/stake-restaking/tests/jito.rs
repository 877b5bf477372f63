//! Jito vault model (SPEC §5.3): the unit vectors of `vault_core/src/vault.rs`, the opt-in ticket
//! life cycle, withdrawal tickets across epochs, slashing order, and every rejection path.

// Test helpers outside #[test] functions unwrap set-up steps that cannot fail.
#![allow(clippy::unwrap_used)]

use stake_ledger::{state_hash, AccountId, AssetKind, Ledger};
use stake_math::{u, U256};
use stake_restaking::jito::*;

fn core(deposit_fee: u16, withdrawal_fee: u16, program_fee: u16, tokens: u128, supply: u128) -> JitoVault {
    JitoVault {
        capacity: U256::MAX,
        deposit_fee_bps: deposit_fee,
        withdrawal_fee_bps: withdrawal_fee,
        program_fee_bps: program_fee,
        tokens_deposited: u(tokens),
        vrt_supply: u(supply),
        ..JitoVault::default()
    }
}

#[test]
fn mint_into_an_empty_vault_with_a_100_bp_fee_gives_99_and_1() {
    let mut v = core(100, 0, 0, 0, 0);
    let s = v.mint_with_fee(u(100), u(99)).unwrap();
    assert_eq!(
        s,
        MintSummary {
            vrt_to_depositor: u(99),
            vrt_to_fee_wallet: u(1)
        }
    );
    assert_eq!((v.tokens_deposited, v.vrt_supply), (u(100), u(100)));
}

#[test]
fn mint_at_90_tokens_for_100_vrt_gives_111() {
    // ⌊100·100/90⌋ = 111
    let mut v = core(0, 0, 0, 90, 100);
    let s = v.mint_with_fee(u(100), U256::ZERO).unwrap();
    assert_eq!(s.vrt_to_depositor, u(111));
    assert_eq!((v.tokens_deposited, v.vrt_supply), (u(190), u(211)));
}

#[test]
fn burn_with_100_bp_vault_fee_and_200_bp_program_fee_pays_97() {
    let mut v = core(0, 100, 200, 100, 100);
    let s = v.burn_with_fee(u(100)).unwrap();
    assert_eq!(
        s,
        BurnSummary {
            program_fee_amount: u(2),
            vault_fee_amount: u(1),
            burn_amount: u(97),
            out_amount: u(97)
        }
    );
    assert_eq!((v.tokens_deposited, v.vrt_supply), (u(3), u(3)));
}

#[test]
fn program_fee_has_priority_when_fees_exceed_the_amount() {
    // 1 VRT: program ⌈1·0.6⌉ = 1, vault ⌈1·0.6⌉ = 1 → capped at 1 − 1 = 0.
    let v = core(0, 6000, 6000, 100, 100);
    let s = v.calculate_burn_summary(u(1)).unwrap();
    assert_eq!(
        (s.program_fee_amount, s.vault_fee_amount, s.burn_amount),
        (u(1), U256::ZERO, U256::ZERO)
    );
}

#[test]
fn rewards_of_1000_on_1000_at_10_percent_mint_a_vrt_fee_of_52() {
    // stFee = ⌈1000·1000/1e4⌉ = 100; vrtFee = ⌊100·1000/(2000 − 100)⌋ = ⌊52.63⌋ = 52.
    let mut v = core(0, 0, 0, 1000, 1000);
    v.reward_fee_bps = 1000;
    assert_eq!(v.update_vault_balance(u(2000)).unwrap(), (u(100), u(52)));
    assert_eq!((v.tokens_deposited, v.vrt_supply), (u(2000), u(1052)));
}

#[test]
fn core_rejections_carry_their_values() {
    let mut v = core(100, 0, 0, 0, 0);
    assert_eq!(v.mint_with_fee(U256::ZERO, U256::ZERO), Err(JitoError::MintZero));
    assert_eq!(
        v.mint_with_fee(u(100), u(100)),
        Err(JitoError::Slippage {
            out: u(99),
            min_out: u(100)
        })
    );
    v.capacity = u(50);
    assert_eq!(
        v.mint_with_fee(u(51), U256::ZERO),
        Err(JitoError::CapacityExceeded {
            after: u(51),
            capacity: u(50)
        })
    );
    let mut v = core(0, 0, 0, 100, 100);
    assert_eq!(v.burn_with_fee(U256::ZERO), Err(JitoError::BurnZero));
    assert_eq!(
        v.burn_with_fee(u(101)),
        Err(JitoError::InsufficientVrtSupply {
            amount: u(101),
            supply: u(100)
        })
    );
    v.delegation_state.staked = u(60);
    assert_eq!(
        v.burn_with_fee(u(50)),
        Err(JitoError::InsufficientUnstaked {
            out: u(50),
            available: u(40)
        })
    );
}

#[test]
fn delegation_state_slashes_staked_then_enqueued_then_cooling() {
    let mut d = DelegationState {
        staked: u(10),
        enqueued_for_cooldown: u(20),
        cooling_down: u(30),
    };
    d.slash(u(25)).unwrap();
    assert_eq!(
        d,
        DelegationState {
            staked: U256::ZERO,
            enqueued_for_cooldown: u(5),
            cooling_down: u(30)
        }
    );
    d.slash(u(10)).unwrap();
    assert_eq!(
        d,
        DelegationState {
            staked: U256::ZERO,
            enqueued_for_cooldown: U256::ZERO,
            cooling_down: u(25)
        }
    );
    assert_eq!(
        d.slash(u(26)),
        Err(JitoError::SlashExceedsSecurity {
            amount: u(26),
            security: u(25)
        })
    );
    let mut d = DelegationState::default();
    d.delegate(u(100)).unwrap();
    d.cooldown(u(50)).unwrap();
    d.update();
    assert_eq!(
        (d.staked, d.enqueued_for_cooldown, d.cooling_down),
        (u(50), U256::ZERO, u(50))
    );
    d.update();
    assert_eq!(d.total_security().unwrap(), u(50));
}

#[test]
fn slot_toggles_warm_up_for_a_full_epoch_and_cool_down_until_the_epoch_ends() {
    // The reference's cycle with epoch length 150, created at slot 100.
    let el = 150;
    let mut t = SlotToggle::new(100);
    assert!(!t.activate(100, el));
    assert!(t.activate(101, el));
    assert_eq!(t.state(101 + el, el), ToggleState::WarmUp);
    assert_eq!(t.state(101 + 2 * el, el), ToggleState::Active);
    assert!(t.deactivate(101 + 2 * el, el));
    assert_eq!(t.state(101 + 2 * el, el), ToggleState::Cooldown);
    assert_eq!(t.state(101 + 4 * el, el), ToggleState::Inactive);
}

const EL: u64 = 150;

struct W {
    l: Ledger,
    j: Jito,
    alice: AccountId,
    sol: stake_ledger::AssetId,
}

fn snap(w: &W) -> ([u8; 32], [u8; 32]) {
    (state_hash(&w.l), state_hash(&w.j))
}

fn rejects(w: &mut W, expected: JitoError, f: impl FnOnce(&mut Jito, &mut Ledger) -> JitoResult<Vec<JitoEvent>>) {
    let before = snap(w);
    assert_eq!(f(&mut w.j, &mut w.l).unwrap_err(), expected);
    assert_eq!(snap(w), before);
}

fn ok(w: &W) {
    w.j.check_invariants(&w.l).unwrap();
    w.l.check_conservation().unwrap();
}

/// Vault `v` (deposit fee 0, withdrawal fee 100 bp, program fee 200 bp), NCN `n`, operator `o`,
/// all six tickets warmed up at slot 1 → Active from epoch 2 (slot 300).
fn world() -> W {
    let mut l = Ledger::new();
    let sol = l.register_asset("JitoSOL", 9, "native", AssetKind::Plain).unwrap();
    let alice = l.account("alice");
    l.mint(alice, sol, u(1_000_000)).unwrap();
    let mut j = Jito::new(&mut l, EL, 200, "jito:program-fees").unwrap();
    j.initialize_vault(
        &mut l,
        JitoVaultParams {
            name: "v".into(),
            supported: sol,
            vrt_symbol: "vJitoSOL".into(),
            fee_wallet: "fees".into(),
            capacity: u(10_000_000),
            deposit_fee_bps: 0,
            withdrawal_fee_bps: 100,
            reward_fee_bps: 1000,
        },
        0,
    )
    .unwrap();
    j.initialize_ncn("n").unwrap();
    j.initialize_operator("o").unwrap();
    for (k, a, b) in [
        (TicketKind::NcnOperator, "n", "o"),
        (TicketKind::OperatorNcn, "o", "n"),
        (TicketKind::NcnVault, "n", "v"),
        (TicketKind::VaultNcn, "v", "n"),
        (TicketKind::OperatorVault, "o", "v"),
        (TicketKind::VaultOperator, "v", "o"),
    ] {
        j.toggle_ticket(k, a, b, true, 1).unwrap();
    }
    W { l, j, alice, sol }
}

#[test]
fn tickets_gate_delegation_until_active() {
    let mut w = world();
    let alice = w.alice;
    w.j.mint_to(&mut w.l, "v", alice, u(1000), U256::ZERO, 1).unwrap();
    w.j.update_vault("v", 160).unwrap();
    // Warm-up: warmed in epoch 0, active only from epoch 2.
    rejects(
        &mut w,
        JitoError::NotConnected {
            ticket: "VaultOperator:v->o".into(),
        },
        |j, _| j.add_delegation("v", "o", u(1), 160),
    );
    rejects(
        &mut w,
        JitoError::UpdateNeeded {
            last_epoch: 1,
            current: 2,
        },
        |j, _| j.add_delegation("v", "o", u(1), 300),
    );
    w.j.update_vault("v", 300).unwrap();
    assert_eq!(w.j.stake_for("v", "n", "o", 300), U256::ZERO);
    w.j.add_delegation("v", "o", u(600), 300).unwrap();
    assert_eq!(w.j.stake_for("v", "n", "o", 300), u(600));
    ok(&w);
    rejects(
        &mut w,
        JitoError::InsufficientDelegatable {
            amount: u(401),
            available: u(400),
        },
        |j, _| j.add_delegation("v", "o", u(401), 300),
    );
    rejects(&mut w, JitoError::DelegationZero, |j, _| {
        j.add_delegation("v", "o", U256::ZERO, 300)
    });
    rejects(
        &mut w,
        JitoError::TicketState {
            ticket: "NcnVault:n->v".into(),
            state: ToggleState::Active,
        },
        |j, _| j.toggle_ticket(TicketKind::NcnVault, "n", "v", true, 300),
    );
    rejects(
        &mut w,
        JitoError::Unknown {
            name: "operator x".into(),
        },
        |j, _| j.toggle_ticket(TicketKind::NcnOperator, "n", "x", true, 300),
    );
}

#[test]
fn withdrawal_ticket_pays_after_two_epoch_boundaries_with_both_fees() {
    let mut w = world();
    let alice = w.alice;
    let ev = w.j.mint_to(&mut w.l, "v", alice, u(1000), u(1000), 1).unwrap();
    assert!(matches!(&ev[0], JitoEvent::Mint { vrt_to_depositor, .. } if *vrt_to_depositor == u(1000)));
    ok(&w);
    let vrt = w.j.vaults["v"].vrt;
    w.j.enqueue_withdrawal(&mut w.l, "v", alice, u(100), 10).unwrap();
    ok(&w);
    // Unstaked in epoch 0: withdrawable once epoch > 1.
    w.j.update_vault("v", 150).unwrap();
    rejects(
        &mut w,
        JitoError::TicketNotWithdrawable {
            id: 0,
            epoch: 1,
            unstake_epoch: 0,
        },
        |j, l| j.burn_withdrawal_ticket(l, "v", alice, 0, 150),
    );
    w.j.update_vault("v", 300).unwrap();
    assert_eq!(w.j.vaults["v"].core.vrt_ready_to_claim, u(100));
    let bob = w.l.account("bob");
    rejects(&mut w, JitoError::NotTicketOwner { id: 0 }, |j, l| {
        j.burn_withdrawal_ticket(l, "v", bob, 0, 300)
    });
    let before = w.l.balance(alice, w.sol);
    let ev = w.j.burn_withdrawal_ticket(&mut w.l, "v", alice, 0, 300).unwrap();
    // program ⌈100·200/1e4⌉ = 2, vault ⌈100·100/1e4⌉ = 1, burn 97, out ⌊97·1000/1000⌋ = 97.
    assert_eq!(
        ev,
        vec![JitoEvent::BurnWithdrawalTicket {
            vault: "v".into(),
            ticket: 0,
            program_fee: u(2),
            vault_fee: u(1),
            burned: u(97),
            out: u(97)
        }]
    );
    ok(&w);
    assert_eq!(w.l.balance(alice, w.sol) - before, u(97));
    let pw = w.l.find_account("jito:program-fees").unwrap();
    let fw = w.l.find_account("fees").unwrap();
    assert_eq!((w.l.balance(pw, vrt), w.l.balance(fw, vrt)), (u(2), u(1)));
    rejects(&mut w, JitoError::UnknownTicket { id: 0 }, |j, l| {
        j.burn_withdrawal_ticket(l, "v", alice, 0, 300)
    });
}

#[test]
fn the_crank_cools_down_operator_stake_to_cover_queued_withdrawals() {
    let mut w = world();
    let alice = w.alice;
    w.j.mint_to(&mut w.l, "v", alice, u(1000), U256::ZERO, 1).unwrap();
    w.j.update_vault("v", 300).unwrap();
    w.j.add_delegation("v", "o", u(1000), 300).unwrap();
    w.j.enqueue_withdrawal(&mut w.l, "v", alice, u(500), 301).unwrap();
    // Epoch 3: reserve = burn output of 500 VRT = ⌊(500 − 10 − 5)·1000/1000⌋ = 485 → cool down 485.
    let ev = w.j.update_vault("v", 450).unwrap();
    assert_eq!(
        ev,
        vec![JitoEvent::UpdateVault {
            vault: "v".into(),
            epoch: 3,
            cooled_down: u(485)
        }]
    );
    ok(&w);
    let d = w.j.vaults["v"].operators["o"];
    assert_eq!((d.staked, d.enqueued_for_cooldown), (u(515), u(485)));
    w.j.update_vault("v", 600).unwrap();
    w.j.update_vault("v", 750).unwrap();
    let ev = w.j.burn_withdrawal_ticket(&mut w.l, "v", alice, 0, 750).unwrap();
    assert!(matches!(&ev[0], JitoEvent::BurnWithdrawalTicket { out, .. } if *out == u(485)));
    ok(&w);
}

#[test]
fn rewards_are_charged_the_reward_fee_in_vrt() {
    let mut w = world();
    let alice = w.alice;
    w.j.mint_to(&mut w.l, "v", alice, u(1000), U256::ZERO, 1).unwrap();
    let acct = w.j.vaults["v"].account;
    w.l.transfer(alice, acct, w.sol, u(1000)).unwrap();
    let ev = w.j.update_vault_balance(&mut w.l, "v", 2).unwrap();
    assert_eq!(
        ev,
        vec![JitoEvent::UpdateBalance {
            vault: "v".into(),
            new_balance: u(2000),
            st_fee: u(100),
            vrt_fee: u(52)
        }]
    );
    ok(&w);
}

#[test]
fn slashing_takes_staked_first_and_sends_tokens_to_the_destination() {
    let mut w = world();
    let alice = w.alice;
    w.j.mint_to(&mut w.l, "v", alice, u(1000), U256::ZERO, 1).unwrap();
    w.j.update_vault("v", 300).unwrap();
    w.j.add_delegation("v", "o", u(800), 300).unwrap();
    w.j.cooldown_delegation("v", "o", u(300), 300).unwrap();
    let dest = w.l.account("ncn:burn");
    w.j.slash(&mut w.l, "v", "n", "o", u(600), dest, 301).unwrap();
    ok(&w);
    let d = w.j.vaults["v"].operators["o"];
    assert_eq!((d.staked, d.enqueued_for_cooldown), (U256::ZERO, u(200)));
    assert_eq!(w.l.balance(dest, w.sol), u(600));
    assert_eq!(w.j.vaults["v"].core.tokens_deposited, u(400));
    rejects(
        &mut w,
        JitoError::SlashExceedsSecurity {
            amount: u(201),
            security: u(200),
        },
        |j, l| j.slash(l, "v", "n", "o", u(201), dest, 301),
    );
    rejects(
        &mut w,
        JitoError::InsufficientStaked {
            operator: "o".into(),
            staked: U256::ZERO,
            amount: u(1),
        },
        |j, _| j.cooldown_delegation("v", "o", u(1), 301),
    );
    rejects(&mut w, JitoError::CooldownZero, |j, _| {
        j.cooldown_delegation("v", "o", U256::ZERO, 301)
    });
    rejects(
        &mut w,
        JitoError::Unknown {
            name: "vault nope".into(),
        },
        |j, l| j.mint_to(l, "nope", alice, u(1), U256::ZERO, 301),
    );
    rejects(&mut w, JitoError::BurnZero, |j, l| {
        j.enqueue_withdrawal(l, "v", alice, U256::ZERO, 301)
    });
    rejects(
        &mut w,
        JitoError::Slippage {
            out: u(1000),
            min_out: u(1001),
        },
        |j, l| j.mint_to(l, "v", alice, u(400), u(1001), 301),
    );
    let poor = w.l.account("poor");
    let before = snap(&w);
    assert!(matches!(
        w.j.mint_to(&mut w.l, "v", poor, u(1), U256::ZERO, 301),
        Err(JitoError::Ledger(stake_ledger::LedgerError::InsufficientBalance { .. }))
    ));
    assert_eq!(snap(&w), before);
    rejects(&mut w, JitoError::Duplicate { name: "ncn n".into() }, |j, _| {
        j.initialize_ncn("n")
    });
    rejects(
        &mut w,
        JitoError::Duplicate {
            name: "operator o".into(),
        },
        |j, _| j.initialize_operator("o"),
    );
}

#[test]
fn slashing_requires_every_ticket_active_or_cooling_down() {
    let mut w = world();
    let alice = w.alice;
    w.j.mint_to(&mut w.l, "v", alice, u(1000), U256::ZERO, 1).unwrap();
    w.j.update_vault("v", 300).unwrap();
    w.j.add_delegation("v", "o", u(800), 300).unwrap();
    w.j.toggle_ticket(TicketKind::NcnVault, "n", "v", false, 300).unwrap();
    let dest = w.l.account("ncn:burn");
    // Cooling down during epoch 2: still slashable.
    w.j.slash(&mut w.l, "v", "n", "o", u(1), dest, 449).unwrap();
    w.j.update_vault("v", 450).unwrap();
    rejects(
        &mut w,
        JitoError::NotConnected {
            ticket: "NcnVault:n->v".into(),
        },
        |j, l| j.slash(l, "v", "n", "o", u(1), dest, 450),
    );
}

#[test]
fn world_construction_rejects_bad_parameters() {
    let mut l = Ledger::new();
    assert_eq!(Jito::new(&mut l, 0, 0, "p").unwrap_err(), JitoError::InvalidEpochLength);
    assert_eq!(
        Jito::new(&mut l, 10, 10_001, "p").unwrap_err(),
        JitoError::InvalidFee { bps: 10_001 }
    );
    assert_eq!(slot_at(1_000, 0, DEFAULT_SLOT_MS), 2_500);
}
