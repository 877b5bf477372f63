//! EigenLayer model: SPEC §14 vectors, rejections, and end-to-end flows within the crate.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use stake_ledger::{state_hash, AssetKind, Ledger, Reject};
use stake_math::{u, U256, WAD};
use stake_restaking::eigenlayer::{
    calc_slashed_amount, pod_account_name, slash_magnitude, EigenLayer, ElError, BEACON_STRATEGY, BURN_ACCOUNT,
    MIN_WITHDRAWAL_DELAY,
};

const E18: u128 = 1_000_000_000_000_000_000;
const AVS: &str = "avs";
const OP: &str = "op";
const B0: u64 = 1_000_000;

fn e18(n: u128) -> U256 {
    u(n * E18)
}

fn world() -> (Ledger, EigenLayer) {
    let mut l = Ledger::new();
    let eth = l.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
    let st = l.register_asset("stETH", 18, "lido", AssetKind::Plain).unwrap();
    let rw = l.register_asset("RWD", 18, "avs", AssetKind::Plain).unwrap();
    for name in ["alice", "bob", OP, AVS] {
        let a = l.account(name);
        l.mint(a, st, e18(1_000)).unwrap();
        l.mint(a, eth, e18(1_000)).unwrap();
    }
    let avs = l.account(AVS);
    l.mint(avs, rw, e18(1_000_000)).unwrap();
    let mut el = EigenLayer::new("ETH");
    el.add_strategy(&l, "stETH", true).unwrap();
    (l, el)
}

fn check(l: &Ledger, el: &EigenLayer) {
    el.check_invariants(l).unwrap();
    l.check_conservation().unwrap();
}

/// Operator with `alice` delegated (`deposit` stETH), an operator set `avs#1` over `strategies`,
/// registered, with `magnitude` allocated to each strategy and effective.
fn allocated(deposit: U256, strategies: &[&str], magnitude: u64) -> (Ledger, EigenLayer, u64) {
    let (mut l, mut el) = world();
    let b = B0;
    el.register_operator(&l, OP, 1, b).unwrap();
    if deposit > U256::ZERO {
        el.deposit(&mut l, "alice", "stETH", deposit, b).unwrap();
    }
    el.delegate(&l, "alice", OP, b).unwrap();
    let strategies: Vec<String> = strategies.iter().map(|s| s.to_string()).collect();
    el.create_operator_set(AVS, 1, &strategies, AVS, None).unwrap();
    el.register_for_operator_sets(OP, AVS, &[1], b).unwrap();
    for s in &strategies {
        el.modify_allocation(OP, AVS, 1, s, magnitude, b).unwrap();
    }
    check(&l, &el);
    (l, el, b + 1)
}

fn hashes(l: &Ledger, el: &EigenLayer) -> ([u8; 32], [u8; 32]) {
    (state_hash(l), state_hash(el))
}

/// Runs `f` expecting exactly `expected`, and checks nothing changed.
fn rejects<T: std::fmt::Debug>(
    l: &mut Ledger,
    el: &mut EigenLayer,
    expected: ElError,
    code: u32,
    f: impl FnOnce(&mut Ledger, &mut EigenLayer) -> Result<T, ElError>,
) {
    let before = hashes(l, el);
    let err = f(l, el).unwrap_err();
    assert_eq!(err, expected);
    assert_eq!(err.code(), code);
    assert_eq!(hashes(l, el), before, "state changed on rejection {err}");
}

fn slash(
    el: &mut EigenLayer,
    l: &mut Ledger,
    strategies: &[(&str, U256)],
    block: u64,
) -> Result<Vec<stake_restaking::eigenlayer::ElEvent>, ElError> {
    let s: Vec<(String, U256)> = strategies.iter().map(|(s, w)| (s.to_string(), *w)).collect();
    el.slash_operator(l, AVS, OP, AVS, 1, &s, block)
}

#[test]
fn pure_helpers_match_slashing_lib() {
    assert_eq!(
        slash_magnitude(1_000_000_000_000_000_000, u(250_000_000_000_000_000)).unwrap(),
        250_000_000_000_000_000
    );
    // 10·(2/3) = 6.67 → kept ⌈6.67⌉ = 7, slashed 3.
    assert_eq!(calc_slashed_amount(u(10), 3, 2).unwrap(), u(3));
}

#[test]
fn slashing_a_quarter_of_a_full_allocation_leaves_three_quarters() {
    // AllocationManagerUnit: allocation WAD, operator shares 1e18, slash 25e16.
    let (mut l, mut el, b) = allocated(e18(1), &["stETH"], 1_000_000_000_000_000_000);
    assert_eq!(el.operator_shares(OP, "stETH"), e18(1));
    assert_eq!(el.allocated_stake(OP, AVS, 1, "stETH", b).unwrap(), e18(1));
    slash(&mut el, &mut l, &[("stETH", u(250_000_000_000_000_000))], b).unwrap();
    let a = el.allocation(OP, AVS, 1, "stETH", b).unwrap();
    assert_eq!(a.current, 750_000_000_000_000_000);
    assert_eq!(el.max_magnitude(OP, "stETH"), 750_000_000_000_000_000);
    assert_eq!(el.encumbered_magnitude(OP, "stETH"), 750_000_000_000_000_000);
    assert_eq!(el.operator_shares(OP, "stETH"), u(750_000_000_000_000_000));
    // 25e16 shares burned: ⌊(1e18+1e3)·25e16/(1e18+1e3)⌋ = 25e16 tokens to the burn account.
    let burn = l.find_account(BURN_ACCOUNT).unwrap();
    assert_eq!(l.balance(burn, l.asset("stETH").unwrap()), u(250_000_000_000_000_000));
    assert_eq!(
        el.withdrawable_shares("alice", "stETH").unwrap(),
        u(750_000_000_000_000_000)
    );
    assert_eq!(el.strategy("stETH").unwrap().total_shares, u(750_000_000_000_000_000));
    check(&l, &el);
}

#[test]
fn repeated_slashing_drives_magnitude_to_zero_exactly() {
    // WAD →(99e16)→ 1e16 →(9999e14)→ 1e12 →(WAD − 1e3)→ 0.
    let (mut l, mut el, b) = allocated(e18(1), &["stETH"], 1_000_000_000_000_000_000);
    let steps: [(u128, u64, u128); 3] = [
        (990_000_000_000_000_000, 10_000_000_000_000_000, 10_000_000_000_000_000),
        (999_900_000_000_000_000, 1_000_000_000_000, 1_000_000_000_000),
        (E18 - 1_000, 0, 0),
    ];
    for (i, (wad, mag, shares)) in steps.iter().enumerate() {
        slash(&mut el, &mut l, &[("stETH", u(*wad))], b + i as u64).unwrap();
        assert_eq!(el.allocation(OP, AVS, 1, "stETH", b + 10).unwrap().current, *mag);
        assert_eq!(el.max_magnitude(OP, "stETH"), *mag);
        assert_eq!(el.operator_shares(OP, "stETH"), u(*shares));
        check(&l, &el);
    }
    // Fully slashed: new deposits are refused with FullySlashed.
    rejects(
        &mut l,
        &mut el,
        ElError::FullySlashed {
            staker: "alice".into(),
            strategy: "stETH".into(),
        },
        4024,
        |l, el| el.deposit(l, "alice", "stETH", e18(1), b + 5),
    );
}

/// Alice verifies a 32 ETH validator, delegates to an operator slashed 75 % in beacon ETH.
fn dual_slashing_start() -> (Ledger, EigenLayer, u64) {
    let (mut l, mut el, b) = allocated(U256::ZERO, &[BEACON_STRATEGY], 1_000_000_000_000_000_000);
    el.create_pod("alice").unwrap();
    el.verify_withdrawal_credentials(&l, "alice", 1, 32_000_000_000, b)
        .unwrap();
    assert_eq!(el.operator_shares(OP, BEACON_STRATEGY), e18(32));
    slash(&mut el, &mut l, &[(BEACON_STRATEGY, u(750_000_000_000_000_000))], b).unwrap();
    assert_eq!(el.max_magnitude(OP, BEACON_STRATEGY), 250_000_000_000_000_000);
    assert_eq!(el.withdrawable_shares("alice", BEACON_STRATEGY).unwrap(), e18(8));
    check(&l, &el);
    (l, el, b + 1)
}

#[test]
fn dual_slashing_scenario_a_verify_then_checkpoint_gives_30_eth() {
    let (l, mut el, b) = dual_slashing_start();
    el.verify_withdrawal_credentials(&l, "alice", 2, 32_000_000_000, b)
        .unwrap();
    let dsf = el.stakers["alice"].positions[BEACON_STRATEGY].dsf;
    assert_eq!(dsf, u(2_500_000_000_000_000_000)); // 40 / 64 / 0.25
    assert_eq!(el.withdrawable_shares("alice", BEACON_STRATEGY).unwrap(), e18(40));
    // Validator 1 was slashed to 16 ETH: beacon total 48 ETH.
    el.checkpoint(&l, "alice", e18(48), b + 1).unwrap();
    assert_eq!(el.beacon_chain_slashing_factor("alice"), 750_000_000_000_000_000); // 48/64
    assert_eq!(el.withdrawable_shares("alice", BEACON_STRATEGY).unwrap(), e18(30));
    assert_eq!(el.operator_shares(OP, BEACON_STRATEGY), e18(30));
    check(&l, &el);
}

#[test]
fn dual_slashing_scenario_b_checkpoint_then_verify_gives_36_eth() {
    let (l, mut el, b) = dual_slashing_start();
    el.checkpoint(&l, "alice", e18(16), b).unwrap();
    assert_eq!(el.beacon_chain_slashing_factor("alice"), 500_000_000_000_000_000); // 16/32
    assert_eq!(el.withdrawable_shares("alice", BEACON_STRATEGY).unwrap(), e18(4));
    el.verify_withdrawal_credentials(&l, "alice", 2, 32_000_000_000, b + 1)
        .unwrap();
    let dsf = el.stakers["alice"].positions[BEACON_STRATEGY].dsf;
    assert_eq!(dsf, u(4_500_000_000_000_000_000)); // 36 / 64 / 0.125
    assert_eq!(el.withdrawable_shares("alice", BEACON_STRATEGY).unwrap(), e18(36));
    assert_eq!(el.operator_shares(OP, BEACON_STRATEGY), e18(36));
    check(&l, &el);
}

#[test]
fn an_eigenpod_checkpoint_after_an_l0_balance_drop_reduces_withdrawable_shares_and_swept_eth_exits_through_the_queue() {
    let (mut l, mut el) = world();
    let b = B0;
    el.register_operator(&l, OP, 1, b).unwrap();
    el.create_pod("bob").unwrap();
    // The engine deposits 2 validators with credentials = the pod account.
    el.verify_withdrawal_credentials(&l, "bob", 7, 32_000_000_000, b)
        .unwrap();
    el.verify_withdrawal_credentials(&l, "bob", 8, 32_000_000_000, b)
        .unwrap();
    el.delegate(&l, "bob", OP, b).unwrap();
    assert_eq!(el.withdrawable_shares("bob", BEACON_STRATEGY).unwrap(), e18(64));
    // L0: validator 8 is slashed by 1 ETH (63 ETH in total).
    el.checkpoint(&l, "bob", e18(63), b + 10).unwrap();
    // BCSF = ⌊1e18·63/64⌋ = 984375e12; withdrawable = 64e18·0.984375 = 63e18.
    assert_eq!(el.beacon_chain_slashing_factor("bob"), 984_375_000_000_000_000);
    assert_eq!(el.withdrawable_shares("bob", BEACON_STRATEGY).unwrap(), e18(63));
    assert_eq!(el.operator_shares(OP, BEACON_STRATEGY), e18(63));
    // Validator 8 exits: 31 ETH swept to the pod account, beacon total 32 ETH.
    let eth = l.asset("ETH").unwrap();
    let pod = l.account(&pod_account_name("bob"));
    l.mint(pod, eth, e18(31)).unwrap();
    el.checkpoint(&l, "bob", e18(32), b + 20).unwrap();
    assert_eq!(el.withdrawable_shares("bob", BEACON_STRATEGY).unwrap(), e18(63));
    // Withdraw 31 ETH worth: deposit shares = 31 / 0.984375 = 31.492063... → use all-but.
    let dep = el.stakers["bob"].positions[BEACON_STRATEGY].deposit_shares;
    assert_eq!(dep, e18(64));
    // 31.5e18 deposit shares withdraw 31.5·0.984375 = 31.0078125 ETH > 31 swept: rejected at completion.
    let (id, _) = el
        .queue_withdrawal(
            &l,
            "bob",
            &[(BEACON_STRATEGY.into(), u(31_492_063_492_063_492_064))],
            b + 30,
        )
        .unwrap();
    let done = b + 30 + MIN_WITHDRAWAL_DELAY + 1;
    let before = l.balance(l.find_account("bob").unwrap(), eth);
    el.complete_withdrawal(&mut l, "bob", id, true, done).unwrap();
    let got = l.balance(l.find_account("bob").unwrap(), eth) - before;
    // scaled = 31.492…e18 (DSF 1), × 0.984375 = 31.000000000000000000 (floored to whole gwei).
    assert_eq!(got, e18(31));
    assert_eq!(el.pods["bob"].restaked_el_gwei, U256::ZERO);
    check(&l, &el);
}

#[test]
fn an_avs_slash_during_a_queued_withdrawal_reduces_what_is_paid_out() {
    let (mut l, mut el, b) = allocated(e18(100), &["stETH"], 1_000_000_000_000_000_000);
    let (id, _) = el
        .queue_withdrawal(&l, "alice", &[("stETH".into(), e18(100))], b)
        .unwrap();
    assert_eq!(el.operator_shares(OP, "stETH"), U256::ZERO);
    // Half-way through the delay the AVS slashes 50 %.
    let ev = slash(&mut el, &mut l, &[("stETH", u(500_000_000_000_000_000))], b + 50_000).unwrap();
    let burn = l.find_account(BURN_ACCOUNT).unwrap();
    let steth = l.asset("stETH").unwrap();
    // Queue window: mulWad(100e18 scaled, 1e18 − 5e17) = 50e18 shares burned.
    assert_eq!(l.balance(burn, steth), e18(50));
    assert!(
        matches!(ev.last(), Some(stake_restaking::eigenlayer::ElEvent::OperatorSlashed { shares_burned, .. }) if shares_burned[0] == e18(50))
    );
    // A slash after the window (startBlock + delay) no longer reaches it.
    slash(
        &mut el,
        &mut l,
        &[("stETH", u(500_000_000_000_000_000))],
        b + MIN_WITHDRAWAL_DELAY + 1,
    )
    .unwrap();
    assert_eq!(l.balance(burn, steth), e18(50));
    let alice = l.find_account("alice").unwrap();
    let before = l.balance(alice, steth);
    el.complete_withdrawal(&mut l, "alice", id, true, b + MIN_WITHDRAWAL_DELAY + 1)
        .unwrap();
    // Paid at max magnitude of block start+delay = 0.5: 50e18 shares → 50e18 tokens.
    assert_eq!(l.balance(alice, steth) - before, e18(50));
    check(&l, &el);
}

#[test]
fn completing_a_withdrawal_as_shares_redeposits_with_the_current_operator() {
    let (mut l, mut el, b) = allocated(e18(10), &["stETH"], 1_000_000_000_000_000_000);
    let (id, _) = el
        .queue_withdrawal(&l, "alice", &[("stETH".into(), e18(4))], b)
        .unwrap();
    assert_eq!(el.operator_shares(OP, "stETH"), e18(6));
    el.complete_withdrawal(&mut l, "alice", id, false, b + MIN_WITHDRAWAL_DELAY + 1)
        .unwrap();
    assert_eq!(el.operator_shares(OP, "stETH"), e18(10));
    assert_eq!(el.withdrawable_shares("alice", "stETH").unwrap(), e18(10));
    check(&l, &el);
}

#[test]
fn undelegating_queues_everything_and_redelegating_moves_nothing_until_completion() {
    let (mut l, mut el, b) = allocated(e18(10), &["stETH"], 500_000_000_000_000_000);
    el.register_operator(&l, "bob", 1, b).unwrap();
    let (ids, _) = el.redelegate(&l, "alice", "bob", b).unwrap();
    assert_eq!(ids.len(), 1);
    assert_eq!(el.stakers["alice"].delegated_to.as_deref(), Some("bob"));
    assert_eq!(el.operator_shares(OP, "stETH"), U256::ZERO);
    el.complete_withdrawal(&mut l, "alice", ids[0], false, b + MIN_WITHDRAWAL_DELAY + 1)
        .unwrap();
    assert_eq!(el.operator_shares("bob", "stETH"), e18(10));
    check(&l, &el);
}

/// `modifyAllocations` sets a slashable deallocation's `effectBlock` to `block +
/// DEALLOCATION_DELAY + 1` ("the block right after the slashable window"): at `block + delay`
/// the deallocated magnitude is still allocated and slashable, one block later it is freed.
#[test]
fn deallocations_wait_for_the_delay_and_stay_slashable() {
    let (mut l, mut el, b) = allocated(e18(1), &["stETH"], 1_000_000_000_000_000_000);
    let ev = el
        .modify_allocation(OP, AVS, 1, "stETH", 400_000_000_000_000_000, b)
        .unwrap();
    let delay = el.params.deallocation_delay;
    assert!(
        matches!(&ev[0], stake_restaking::eigenlayer::ElEvent::AllocationUpdated { effect_block, .. } if *effect_block == b + delay + 1)
    );
    let a = el.allocation(OP, AVS, 1, "stETH", b).unwrap();
    assert_eq!(
        (a.current, a.pending_diff),
        (1_000_000_000_000_000_000, -600_000_000_000_000_000)
    );
    // Slash 50 % meanwhile: current 5e17, pending −(6e17 − ⌈6e17·0.5⌉) = −3e17.
    slash(&mut el, &mut l, &[("stETH", u(500_000_000_000_000_000))], b + 1).unwrap();
    let a = el.allocation(OP, AVS, 1, "stETH", b + 1).unwrap();
    assert_eq!(
        (a.current, a.pending_diff),
        (500_000_000_000_000_000, -300_000_000_000_000_000)
    );
    check(&l, &el);
    // Last block of the window: nothing is freed, and a slash still reaches the whole 5e17.
    let last = b + delay;
    el.clear_deallocation_queue(OP, "stETH", 10, last).unwrap();
    let a = el.allocation(OP, AVS, 1, "stETH", last).unwrap();
    assert_eq!(
        (a.current, a.pending_diff),
        (500_000_000_000_000_000, -300_000_000_000_000_000)
    );
    assert_eq!(el.encumbered_magnitude(OP, "stETH"), 500_000_000_000_000_000);
    let ev = slash(&mut el, &mut l, &[("stETH", u(200_000_000_000_000_000))], last).unwrap();
    assert!(
        matches!(ev.last(), Some(stake_restaking::eigenlayer::ElEvent::OperatorSlashed { magnitudes_slashed, .. }) if magnitudes_slashed[0] == 100_000_000_000_000_000)
    );
    // current 4e17, pending −(3e17 − ⌈3e17·0.2⌉) = −2.4e17; freed at `b + delay + 1`.
    el.clear_deallocation_queue(OP, "stETH", 10, last + 1).unwrap();
    assert_eq!(
        el.allocation(OP, AVS, 1, "stETH", last + 1).unwrap().current,
        160_000_000_000_000_000
    );
    assert_eq!(el.encumbered_magnitude(OP, "stETH"), 160_000_000_000_000_000);
    check(&l, &el);
}

/// `AlreadyMemberOfSet` for `OP` in `avs#1`.
fn already_member() -> ElError {
    ElError::AlreadyMemberOfSet {
        operator: OP.into(),
        avs: AVS.into(),
        id: 1,
    }
}

/// `deregisterFromOperatorSets` records `slashableUntil = block + DEALLOCATION_DELAY`, "the last
/// block the operator is slashable in": `isOperatorSlashable` is `block <= slashableUntil`, so a
/// slash at exactly `block + delay` lands and one a block later is refused; re-registering is
/// refused until then too.
#[test]
fn deregistered_operators_stay_slashable_for_the_deallocation_delay() {
    let (mut l, mut el, b) = allocated(e18(1), &["stETH"], 1_000_000_000_000_000_000);
    let ev = el.deregister_from_operator_sets(OP, OP, AVS, &[1], b).unwrap();
    let until = b + el.params.deallocation_delay;
    assert!(
        matches!(&ev[0], stake_restaking::eigenlayer::ElEvent::OperatorRemovedFromOperatorSet { slashable_until, .. } if *slashable_until == until)
    );
    slash(&mut el, &mut l, &[("stETH", u(100_000_000_000_000_000))], b + 10).unwrap();
    slash(&mut el, &mut l, &[("stETH", u(100_000_000_000_000_000))], until).unwrap();
    rejects(&mut l, &mut el, already_member(), 4052, |_, el| {
        el.register_for_operator_sets(OP, AVS, &[1], until)
    });
    rejects(
        &mut l,
        &mut el,
        ElError::NotMemberOfSet {
            operator: OP.into(),
            avs: AVS.into(),
            id: 1,
        },
        4053,
        |l, el| slash(el, l, &[("stETH", u(100_000_000_000_000_000))], until + 1),
    );
    el.register_for_operator_sets(OP, AVS, &[1], until + 1).unwrap();
    check(&l, &el);
}

#[test]
fn rejections_leave_state_unchanged_with_exact_errors() {
    let (mut l, mut el, b) = allocated(e18(10), &["stETH"], 600_000_000_000_000_000);
    let wad = u(100_000_000_000_000_000);
    rejects(
        &mut l,
        &mut el,
        ElError::NotSlasher {
            caller: "mallory".into(),
            slasher: AVS.into(),
        },
        4054,
        |l, el| el.slash_operator(l, "mallory", OP, AVS, 1, &[("stETH".into(), wad)], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::InvalidWadToSlash { wad: WAD + 1 },
        4055,
        |l, el| slash(el, l, &[("stETH", WAD + 1)], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::InvalidWadToSlash { wad: U256::ZERO },
        4055,
        |l, el| slash(el, l, &[("stETH", U256::ZERO)], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::StrategyNotInOperatorSet {
            strategy: BEACON_STRATEGY.into(),
        },
        4057,
        |l, el| slash(el, l, &[(BEACON_STRATEGY, wad)], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::StrategiesNotAscending {
            strategy: "stETH".into(),
        },
        4056,
        |l, el| slash(el, l, &[("stETH", wad), ("stETH", wad)], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::OperatorSetNotFound { avs: AVS.into(), id: 9 },
        4050,
        |l, el| el.slash_operator(l, AVS, OP, AVS, 9, &[("stETH".into(), wad)], b),
    );
    // Allocation above max magnitude: 6e17 allocated + 5e17 more in a second set.
    el.create_operator_set(AVS, 2, &["stETH".into()], AVS, None).unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::InsufficientMagnitude {
            encumbered: 1_100_000_000_000_000_000,
            max: 1_000_000_000_000_000_000,
        },
        4062,
        |_, el| el.modify_allocation(OP, AVS, 2, "stETH", 500_000_000_000_000_000, b),
    );
    // Second pending modification.
    el.modify_allocation(OP, AVS, 2, "stETH", 100_000_000_000_000_000, b)
        .unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::ModificationAlreadyPending {
            operator: OP.into(),
            strategy: "stETH".into(),
        },
        4060,
        |_, el| el.modify_allocation(OP, AVS, 2, "stETH", 200_000_000_000_000_000, b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::SameMagnitude {
            magnitude: 600_000_000_000_000_000,
        },
        4061,
        |_, el| el.modify_allocation(OP, AVS, 1, "stETH", 600_000_000_000_000_000, b),
    );
    // Delegating while delegated.
    el.register_operator(&l, "bob", 1, b).unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::ActivelyDelegated {
            staker: "alice".into(),
            operator: OP.into(),
        },
        4021,
        |l, el| el.delegate(l, "alice", "bob", b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::ActivelyDelegated {
            staker: "bob".into(),
            operator: "bob".into(),
        },
        4021,
        |l, el| el.register_operator(l, "bob", 1, b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::NotOperator {
            account: "carol".into(),
        },
        4020,
        |l, el| el.delegate(l, AVS, "carol", b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::OperatorsCannotUndelegate { operator: OP.into() },
        4023,
        |l, el| el.undelegate(l, OP, OP, b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::NotDelegated { staker: AVS.into() },
        4022,
        |l, el| el.undelegate(l, AVS, AVS, b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::InvalidCaller { caller: "bob".into() },
        4064,
        |l, el| el.undelegate(l, "bob", "alice", b),
    );
    // Withdrawals.
    rejects(
        &mut l,
        &mut el,
        ElError::SharesAmountTooHigh {
            strategy: "stETH".into(),
            requested: e18(11),
            available: e18(10),
        },
        4007,
        |l, el| el.queue_withdrawal(l, "alice", &[("stETH".into(), e18(11))], b),
    );
    rejects(&mut l, &mut el, ElError::ZeroAmount, 4006, |l, el| {
        el.queue_withdrawal(l, "alice", &[("stETH".into(), U256::ZERO)], b)
    });
    rejects(&mut l, &mut el, ElError::EmptyWithdrawal, 4028, |l, el| {
        el.queue_withdrawal(l, "alice", &[], b)
    });
    let (id, _) = el
        .queue_withdrawal(&l, "alice", &[("stETH".into(), e18(1))], b)
        .unwrap();
    let early = b + MIN_WITHDRAWAL_DELAY;
    rejects(
        &mut l,
        &mut el,
        ElError::WithdrawalDelayNotElapsed {
            id,
            block: early,
            completable_at: early + 1,
        },
        4026,
        |l, el| el.complete_withdrawal(l, "alice", id, true, early),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::WithdrawerNotCaller {
            id,
            caller: "bob".into(),
            withdrawer: "alice".into(),
        },
        4027,
        |l, el| el.complete_withdrawal(l, "bob", id, true, early + 1),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::WithdrawalNotFound { id: 99 },
        4025,
        |l, el| el.complete_withdrawal(l, "alice", 99, true, early + 1),
    );
    // Deposits.
    rejects(
        &mut l,
        &mut el,
        ElError::ZeroNewShares { amount: U256::ZERO },
        4003,
        |l, el| el.deposit(l, "bob", "stETH", U256::ZERO, b),
    );
    rejects(&mut l, &mut el, ElError::BeaconStrategyNotDepositable, 4009, |l, el| {
        el.deposit(l, "bob", BEACON_STRATEGY, e18(1), b)
    });
    rejects(
        &mut l,
        &mut el,
        ElError::StrategyNotFound { strategy: "RWD".into() },
        4000,
        |l, el| el.deposit(l, "bob", "RWD", e18(1), b),
    );
    el.add_strategy(&l, "RWD", false).unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::StrategyNotWhitelisted { strategy: "RWD".into() },
        4002,
        |l, el| el.deposit(l, AVS, "RWD", e18(1), b),
    );
    let steth_bal = u(1_000 * E18);
    rejects(
        &mut l,
        &mut el,
        ElError::Ledger(Box::new(stake_ledger::LedgerError::InsufficientBalance {
            account: "bob".into(),
            asset: "stETH".into(),
            balance: steth_bal,
            required: steth_bal + 1,
            decimals: 18,
        })),
        1004,
        |l, el| el.deposit(l, "bob", "stETH", steth_bal + 1, b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::StrategyExists {
            strategy: "stETH".into(),
        },
        4001,
        |l, el| el.add_strategy(l, "stETH", true),
    );
    // Sets and registration.
    rejects(
        &mut l,
        &mut el,
        ElError::OperatorSetExists { avs: AVS.into(), id: 1 },
        4051,
        |_, el| el.create_operator_set(AVS, 1, &[], AVS, None),
    );
    rejects(&mut l, &mut el, already_member(), 4052, |_, el| {
        el.register_for_operator_sets(OP, AVS, &[1], b)
    });
    rejects(
        &mut l,
        &mut el,
        ElError::NotMemberOfSet {
            operator: OP.into(),
            avs: AVS.into(),
            id: 2,
        },
        4053,
        |_, el| el.deregister_from_operator_sets(OP, OP, AVS, &[2], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::InvalidCaller { caller: "bob".into() },
        4064,
        |_, el| el.deregister_from_operator_sets("bob", OP, AVS, &[1], b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::StrategyAlreadyInOperatorSet {
            strategy: "stETH".into(),
        },
        4058,
        |_, el| el.add_strategies_to_operator_set(AVS, 1, &["stETH".into()]),
    );
    // Pods.
    rejects(
        &mut l,
        &mut el,
        ElError::PodNotFound { owner: "bob".into() },
        4100,
        |l, el| el.checkpoint(l, "bob", U256::ZERO, b),
    );
    el.create_pod("bob").unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::PodExists { owner: "bob".into() },
        4105,
        |_, el| el.create_pod("bob"),
    );
    el.verify_withdrawal_credentials(&l, "bob", 1, 32_000_000_000, b)
        .unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::ValidatorAlreadyVerified { index: 1 },
        4101,
        |l, el| el.verify_withdrawal_credentials(l, "bob", 1, 32_000_000_000, b),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::InvalidEffectiveBalance { gwei: 0 },
        4102,
        |l, el| el.verify_withdrawal_credentials(l, "bob", 2, 0, b),
    );
    check(&l, &el);
}

#[test]
fn a_donation_can_make_a_tiny_deposit_mint_zero_shares() {
    let (mut l, mut el) = world();
    el.deposit(&mut l, "alice", "stETH", u(1_000), B0).unwrap();
    // Donate 1e18 stETH straight to the strategy account: 1 wei now mints ⌊1·2000/(1e18+2000)⌋ = 0.
    let st = l.asset("stETH").unwrap();
    let (a, s) = (l.find_account("alice").unwrap(), l.account("eigenlayer:strategy:stETH"));
    l.transfer(a, s, st, e18(1)).unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::ZeroNewShares { amount: u(1) },
        4003,
        |l, el| el.deposit(l, "bob", "stETH", u(1), B0),
    );
}

#[test]
fn a_staker_cannot_hold_more_than_32_strategies() {
    let (mut l, mut el) = world();
    for i in 0..33 {
        let sym = format!("T{i:02}");
        let id = l.register_asset(&sym, 18, "x", AssetKind::Plain).unwrap();
        let a = l.account("alice");
        l.mint(a, id, e18(1)).unwrap();
        el.add_strategy(&l, &sym, true).unwrap();
        if i < 32 {
            el.deposit(&mut l, "alice", &sym, e18(1), B0).unwrap();
        }
    }
    rejects(
        &mut l,
        &mut el,
        ElError::MaxStrategiesExceeded {
            staker: "alice".into(),
            max: 32,
        },
        4005,
        |l, el| el.deposit(l, "alice", "T32", e18(1), B0),
    );
    // Topping up an existing strategy is fine.
    rejects(
        &mut l,
        &mut el,
        ElError::MaxStrategiesExceeded {
            staker: "alice".into(),
            max: 32,
        },
        4005,
        |l, el| el.deposit(l, "alice", "stETH", e18(1), B0),
    );
    let t5 = l.asset("T05").unwrap();
    let a = l.find_account("alice").unwrap();
    l.mint(a, t5, e18(1)).unwrap();
    el.deposit(&mut l, "alice", "T05", e18(1), B0).unwrap();
    check(&l, &el);
}

const T0: u64 = 1_710_979_200 + 52 * 604_800; // genesis + 52 weeks, 7-day aligned

#[test]
fn rewards_submissions_are_validated_like_the_coordinator() {
    let (mut l, mut el, _) = allocated(e18(10), &["stETH"], 600_000_000_000_000_000);
    let strat = vec![("stETH".to_string(), WAD)];
    let week = 604_800;
    let now = T0 + 3 * week;
    type Case = (u64, u64, U256, Vec<(String, U256)>, ElError, u32);
    let cases: Vec<Case> = vec![
        (T0, week, e18(1), vec![], ElError::EmptyStrategies, 4130),
        (T0, week, U256::ZERO, strat.clone(), ElError::AmountIsZero, 4131),
        (
            T0,
            week,
            u(100_000_000_000_000_000_000_000_000_000_000_000_000),
            strat.clone(),
            ElError::AmountExceedsMax {
                amount: u(100_000_000_000_000_000_000_000_000_000_000_000_000),
            },
            4132,
        ),
        (
            T0,
            11 * week,
            e18(1),
            strat.clone(),
            ElError::DurationExceedsMax {
                duration: 11 * week,
                max: 10 * week,
            },
            4133,
        ),
        (
            T0,
            week + 1,
            e18(1),
            strat.clone(),
            ElError::InvalidDurationRemainder { duration: week + 1 },
            4134,
        ),
        (T0, 0, e18(1), strat.clone(), ElError::DurationIsZero, 4135),
        (
            T0 + 86_400,
            week,
            e18(1),
            strat.clone(),
            ElError::InvalidStartTimestampRemainder { start: T0 + 86_400 },
            4136,
        ),
        (
            now - 14 * week,
            week,
            e18(1),
            strat.clone(),
            ElError::StartTimestampTooFarInPast { start: now - 14 * week },
            4137,
        ),
        (
            now + 5 * week,
            week,
            e18(1),
            strat.clone(),
            ElError::StartTimestampTooFarInFuture { start: now + 5 * week },
            4138,
        ),
        (
            T0,
            week,
            e18(1),
            vec![("RWD".to_string(), WAD)],
            ElError::InvalidStrategy { strategy: "RWD".into() },
            4139,
        ),
    ];
    for (start, duration, amount, strategies, err, code) in cases {
        rejects(&mut l, &mut el, err, code, |l, el| {
            el.create_avs_rewards_submission(l, AVS, "RWD", amount, &strategies, start, duration, now)
        });
    }
    rejects(
        &mut l,
        &mut el,
        ElError::NothingToClaim {
            earner: "alice".into(),
            token: "RWD".into(),
        },
        4142,
        |l, el| el.claim(l, "alice", "RWD", now),
    );
    rejects(
        &mut l,
        &mut el,
        ElError::SplitExceedsMax { split_bps: 10_001 },
        4140,
        |_, el| el.set_operator_avs_split(OP, AVS, 10_001, now),
    );
    el.set_operator_avs_split(OP, AVS, 500, now).unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::PreviousSplitPending {
            activated_at: now + week,
        },
        4141,
        |_, el| el.set_operator_avs_split(OP, AVS, 700, now + 1),
    );
}

/// Rewards are credited daily pro rata with the operator split and reach claimers through
/// distribution roots: `submitRoot` sets `activatedAt = now + activationDelay` (7 days) and
/// `_checkClaim` requires `block.timestamp >= activatedAt`, so earnings computed on day 2 are
/// claimable from day 9, not before; claims are cumulative per root.
#[test]
fn rewards_are_distributed_daily_pro_rata_and_claimable_once_their_root_is_active() {
    let (mut l, mut el, b) = allocated(e18(30), &["stETH"], 600_000_000_000_000_000);
    el.deposit(&mut l, OP, "stETH", e18(10), b).unwrap();
    // 700 RWD over 7 days from T0: 100 RWD per day; alice weight 30, operator 10.
    el.create_avs_rewards_submission(&mut l, AVS, "RWD", e18(700), &[("stETH".into(), WAD)], T0, 604_800, T0)
        .unwrap();
    let day = 86_400;
    let week = 604_800;
    let ev = el.distribute(T0 + 2 * day).unwrap();
    assert!(
        ev.contains(&stake_restaking::eigenlayer::ElEvent::DistributionRootSubmitted {
            rewards_calculation_end: T0 + 2 * day,
            activated_at: T0 + 2 * day + week,
        })
    );
    // Per day: alice gross 75, operator cut ⌊75·1000/1e4⌋ = 7.5 → alice 67.5; operator 25 + 7.5.
    assert_eq!(el.earned_unclaimed("alice", "RWD"), u(135 * E18));
    assert_eq!(el.claimable("alice", "RWD", T0 + 2 * day), U256::ZERO);
    let active = T0 + 2 * day + week;
    rejects(
        &mut l,
        &mut el,
        ElError::RootNotActivated {
            earner: "alice".into(),
            token: "RWD".into(),
            activated_at: active,
            now: active - 1,
        },
        4143,
        |l, el| el.claim(l, "alice", "RWD", active - 1),
    );
    assert_eq!(el.claimable("alice", "RWD", active), u(135 * E18));
    assert_eq!(el.claimable(OP, "RWD", active), u(65 * E18));
    el.claim(&mut l, "alice", "RWD", active).unwrap();
    assert_eq!(el.claimable("alice", "RWD", active), U256::ZERO);
    // Days 2–6 go into a root submitted on day 10, active on day 17.
    el.distribute(T0 + 10 * day).unwrap();
    assert_eq!(el.claimable("alice", "RWD", T0 + 17 * day - 1), U256::ZERO);
    assert_eq!(el.claimable("alice", "RWD", T0 + 17 * day), u(5 * 675 * E18 / 10));
    el.claim(&mut l, "alice", "RWD", T0 + 17 * day).unwrap();
    let rwd = l.asset("RWD").unwrap();
    assert_eq!(l.balance(l.find_account("alice").unwrap(), rwd), u(4725 * E18 / 10));
    check(&l, &el);
}

/// Since v1.9 a slash reaches queued withdrawals as `calcSlashedAmount(mulWad(scaled, prevMax),
/// prevMax, newMax)` — the same rounding as operator shares — rather than
/// `mulWad(scaled, prevMax − newMax)`. After a 10 % slash, 10e18 + 2 queued shares and a 70 %
/// slash: `mulWad` gives 9e18 + 1 at the old magnitude, of which ⌈·0.27/0.9⌉ = 2.7e18 + 1 is kept,
/// so 6.3e18 is burned (the pre-1.9 formula burned 6.3e18 + 1).
#[test]
fn a_slash_reaches_queued_withdrawals_through_calc_slashed_amount() {
    let (mut l, mut el, b) = allocated(u(10 * E18 + 2), &["stETH"], 1_000_000_000_000_000_000);
    slash(&mut el, &mut l, &[("stETH", u(100_000_000_000_000_000))], b).unwrap();
    let (id, _) = el
        .queue_withdrawal(&l, "alice", &[("stETH".into(), u(10 * E18 + 2))], b + 1)
        .unwrap();
    let ev = slash(&mut el, &mut l, &[("stETH", u(700_000_000_000_000_000))], b + 2).unwrap();
    assert!(
        matches!(ev.last(), Some(stake_restaking::eigenlayer::ElEvent::OperatorSlashed { magnitudes_slashed, shares_burned, .. })
            if magnitudes_slashed[0] == 630_000_000_000_000_000 && shares_burned[0] == u(6_300_000_000_000_000_000)),
        "{ev:?}"
    );
    let alice = l.find_account("alice").unwrap();
    let steth = l.asset("stETH").unwrap();
    let before = l.balance(alice, steth);
    el.complete_withdrawal(&mut l, "alice", id, true, b + 1 + MIN_WITHDRAWAL_DELAY + 1)
        .unwrap();
    // Paid mulWad(10e18 + 2, 0.27e18) = 2.7e18.
    assert_eq!(l.balance(alice, steth) - before, u(2_700_000_000_000_000_000));
    check(&l, &el);
}

#[test]
fn an_opted_in_avs_pays_the_protocol_fee_up_front() {
    let (mut l, mut el, _) = allocated(e18(30), &["stETH"], 600_000_000_000_000_000);
    el.set_protocol_fee_opt_in(AVS, true);
    el.create_avs_rewards_submission(&mut l, AVS, "RWD", e18(700), &[("stETH".into(), WAD)], T0, 604_800, T0)
        .unwrap();
    let rwd = l.asset("RWD").unwrap();
    assert_eq!(
        l.balance(l.find_account("eigenlayer:protocol_fee").unwrap(), rwd),
        e18(140)
    );
    assert_eq!(el.rewards.submissions[0].amount, e18(560));
    check(&l, &el);
}

#[test]
fn restaking_points_accrue_per_eth_hour_through_an_index() {
    let (mut l, mut el) = world();
    el.deposit(&mut l, "alice", "stETH", e18(2), B0).unwrap();
    // 300 blocks = 1 hour; 2 stETH at price 1 ⇒ 2 ETH·hours. (1 share = (2e18+1e3)/(2e18+1e3) tokens.)
    assert_eq!(el.points_of(&l, "alice", B0 + 300).unwrap(), e18(2));
    el.set_strategy_price(&l, "stETH", u(2 * E18), B0 + 300).unwrap();
    assert_eq!(el.points_of(&l, "alice", B0 + 600).unwrap(), e18(6));
    check(&l, &el);
}

#[test]
fn an_allocation_delay_change_takes_effect_after_the_configuration_delay() {
    let (mut l, mut el, b) = allocated(e18(1), &["stETH"], 100_000_000_000_000_000);
    let ev = el.set_allocation_delay(OP, 50, b).unwrap();
    assert!(
        matches!(&ev[0], stake_restaking::eigenlayer::ElEvent::AllocationDelaySet { effect_block, .. } if *effect_block == b + stake_restaking::eigenlayer::ALLOCATION_CONFIGURATION_DELAY + 1)
    );
    el.create_operator_set(AVS, 2, &["stETH".into()], AVS, None).unwrap();
    // Still the old delay (1 block) before ALLOCATION_CONFIGURATION_DELAY passes.
    let ev = el
        .modify_allocation(OP, AVS, 2, "stETH", 100_000_000_000_000_000, b)
        .unwrap();
    assert!(
        matches!(&ev[0], stake_restaking::eigenlayer::ElEvent::AllocationUpdated { effect_block, .. } if *effect_block == b + 1)
    );
    // `_setAllocationDelay`: `effectBlock = block + ALLOCATION_CONFIGURATION_DELAY + 1`, so the
    // last block of the configuration delay still uses the old delay.
    let last = b + stake_restaking::eigenlayer::ALLOCATION_CONFIGURATION_DELAY;
    let ev = el
        .modify_allocation(OP, AVS, 2, "stETH", 150_000_000_000_000_000, last)
        .unwrap();
    assert!(
        matches!(&ev[0], stake_restaking::eigenlayer::ElEvent::AllocationUpdated { effect_block, .. } if *effect_block == last + 1)
    );
    let later = last + 1;
    let ev = el
        .modify_allocation(OP, AVS, 2, "stETH", 200_000_000_000_000_000, later)
        .unwrap();
    assert!(
        matches!(&ev[0], stake_restaking::eigenlayer::ElEvent::AllocationUpdated { effect_block, .. } if *effect_block == later + 50)
    );
    rejects(
        &mut l,
        &mut el,
        ElError::NotOperator {
            account: "alice".into(),
        },
        4020,
        |_, el| el.set_allocation_delay("alice", 5, later),
    );
    check(&l, &el);
}

/// `AllocationManager._addStrategyToOperatorSet`: "We do not currently support redistributing
/// beaconchain ETH or EIGEN" — a redistributing set refuses both, at creation and when adding
/// strategies later, and nothing changes; a burning set takes them.
#[test]
fn a_redistributing_set_cannot_hold_beacon_eth_or_eigen() {
    let (mut l, mut el) = world();
    l.register_asset("EIGEN", 18, "eigen", AssetKind::Plain).unwrap();
    el.add_strategy(&l, "EIGEN", true).unwrap();
    let not = |s: &str| ElError::StrategyNotRedistributable { strategy: s.into() };
    for s in [stake_restaking::eigenlayer::BEACON_STRATEGY, "EIGEN"] {
        let strategies = vec!["stETH".to_string(), s.to_string()];
        rejects(&mut l, &mut el, not(s), 4144, |_, el| {
            el.create_operator_set(AVS, 1, &strategies, AVS, Some("treasury"))
        });
    }
    el.create_operator_set(AVS, 1, &["stETH".into()], AVS, Some("treasury"))
        .unwrap();
    rejects(&mut l, &mut el, not("EIGEN"), 4144, |_, el| {
        el.add_strategies_to_operator_set(AVS, 1, &["EIGEN".into()])
    });
    let both = vec![
        stake_restaking::eigenlayer::BEACON_STRATEGY.to_string(),
        "EIGEN".to_string(),
    ];
    el.create_operator_set(AVS, 2, &both, AVS, None).unwrap();
    check(&l, &el);
}

/// `updateSlasher`: only the AVS may propose a slasher; the old one keeps slashing through
/// `block + ALLOCATION_CONFIGURATION_DELAY` (`SLASHER_CONFIGURATION_DELAY`) and the new one
/// takes over one block later (`effectBlock = block + delay + 1`, read by `getSlasher`).
#[test]
fn a_new_slasher_takes_over_after_the_configuration_delay() {
    let (mut l, mut el, b) = allocated(e18(1), &["stETH"], 1_000_000_000_000_000_000);
    rejects(
        &mut l,
        &mut el,
        ElError::InvalidCaller { caller: OP.into() },
        ElError::InvalidCaller { caller: OP.into() }.code(),
        |_, el| el.update_slasher(OP, AVS, 1, "guardian", b),
    );
    rejects(&mut l, &mut el, ElError::SlasherEmpty, 4145, |_, el| {
        el.update_slasher(AVS, AVS, 1, "", b)
    });
    let ev = el.update_slasher(AVS, AVS, 1, "guardian", b).unwrap();
    let last = b + stake_restaking::eigenlayer::ALLOCATION_CONFIGURATION_DELAY;
    assert_eq!(
        ev,
        vec![stake_restaking::eigenlayer::ElEvent::SlasherUpdated {
            set: stake_restaking::eigenlayer::set_key(AVS, 1),
            slasher: "guardian".into(),
            effect_block: last + 1,
        }]
    );
    // Proposing it again before it takes effect changes nothing.
    assert!(el.update_slasher(AVS, AVS, 1, "guardian", b + 5).unwrap().is_empty());
    let wad = u(100_000_000_000_000_000);
    let s: Vec<(String, U256)> = vec![("stETH".into(), wad)];
    rejects(
        &mut l,
        &mut el,
        ElError::NotSlasher {
            caller: "guardian".into(),
            slasher: AVS.into(),
        },
        4054,
        |l, el| el.slash_operator(l, "guardian", OP, AVS, 1, &s, last),
    );
    el.slash_operator(&mut l, AVS, OP, AVS, 1, &s, last).unwrap();
    rejects(
        &mut l,
        &mut el,
        ElError::NotSlasher {
            caller: AVS.into(),
            slasher: "guardian".into(),
        },
        4054,
        |l, el| el.slash_operator(l, AVS, OP, AVS, 1, &s, last + 1),
    );
    el.slash_operator(&mut l, "guardian", OP, AVS, 1, &s, last + 1).unwrap();
    check(&l, &el);
}
