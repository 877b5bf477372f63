//! Lido model: SPEC §14 vectors, hand-computed flows, every rejection path (state unchanged).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] fns

use stake_ledger::{state_hash, AccountId, Ledger, LedgerError, Reject};
use stake_lst::lido::math::{ether, min_first_allocate, RebaseLimiter, StakeLimit, E27};
use stake_lst::lido::queue::{WithdrawalQueue, WithdrawalRequest};
use stake_lst::lido::*;
use stake_math::{u, U256};

const E: u128 = 1_000_000_000_000_000_000;
const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

struct W {
    l: Ledger,
    lido: Lido,
    alice: AccountId,
    bob: AccountId,
    carol: AccountId,
    l0: AccountId,
}

fn world_with(params: LidoParams) -> W {
    let mut l = Ledger::new();
    let lido = Lido::new(&mut l, "lido", params).unwrap();
    let eth = lido.eth_asset();
    let alice = l.account("alice");
    let bob = l.account("bob");
    let carol = l.account("carol");
    let l0 = l.account("l0:deposit");
    for a in [alice, bob, carol] {
        l.mint(a, eth, ether(10_000)).unwrap();
    }
    W {
        l,
        lido,
        alice,
        bob,
        carol,
        l0,
    }
}

fn world() -> W {
    world_with(LidoParams::default())
}

/// (ledger hash, protocol serialisation): the "state hash" of (ledger, protocol).
fn snap(w: &W) -> ([u8; 32], [u8; 32]) {
    (state_hash(&w.l), state_hash(&w.lido))
}

fn inv(w: &W) {
    w.lido.check_invariants(&w.l).unwrap();
}

/// Engine deposit: Lido accounting, then the ETH leaves the buffer for L0.
fn deposit(w: &mut W) -> Vec<(String, u64)> {
    let plan = w.lido.deposit_plan();
    w.lido.on_deposited(&w.l, &plan).unwrap();
    let n: u64 = plan.iter().map(|(_, k)| k).sum();
    let (buf, eth) = (w.lido.accounts().buffer, w.lido.eth_asset());
    w.l.transfer(buf, w.l0, eth, u(n as u128 * 32 * E)).unwrap();
    inv(w);
    plan
}

fn report(ts: u64, cl_validators: u64, cl_balance: U256) -> LidoReport {
    LidoReport {
        timestamp: ts,
        cl_validators,
        cl_balance_wei: cl_balance,
        exited_validators: vec![],
        withdrawal_finalization_batches: vec![],
        simulated_share_rate: U256::ZERO,
        operator_losses: vec![],
        second_opinion: None,
    }
}

/// Alice stakes 64 ETH, two validators are deposited, the first report sees them with 0.01 ETH
/// of CL rewards one day later.
fn rebased_world() -> W {
    let mut w = world();
    w.lido.submit(&mut w.l, w.alice, ether(64), T0).unwrap();
    deposit(&mut w);
    w.lido
        .handle_oracle_report(
            &mut w.l,
            report(T0 + DAY, 2, u(64 * E + 10_000_000_000_000_000)),
            T0 + DAY,
        )
        .unwrap();
    inv(&w);
    w
}

fn expect_rejected<T: std::fmt::Debug>(
    w: &W,
    before: &([u8; 32], [u8; 32]),
    r: Result<T, LidoError>,
    expected: LidoError,
) {
    let err = r.unwrap_err();
    assert_eq!(err, expected);
    assert_eq!(&snap(w), before, "state changed by a rejected operation: {err}");
    assert!((3000..3100).contains(&err.code()) || matches!(err, LidoError::Ledger(_) | LidoError::Math(_)));
}

// ------------------------------------------------------------------ pure math

#[test]
fn fee_shares_match_the_spec_vector() {
    // TPE = shares = 1000e18, reward 1e18, fee 10 %: feeEther = 1e17,
    // shares = ⌊1e17 · 1000e18 / (1001e18 − 1e17)⌋ = 99,910,080,927,165,551.
    let f = fee_shares(ether(1000), ether(1000), ether(1), u(10 * E)).unwrap();
    assert_eq!(f, u(99_910_080_927_165_551));
    assert_eq!(
        fee_shares(ether(1000), ether(1000), U256::ZERO, u(10 * E)).unwrap(),
        U256::ZERO
    );
}

#[test]
fn share_conversions_round_down_and_up_as_steth() {
    // pooled 3, shares 2: 1 wei → ⌊1·2/3⌋ = 0 shares; 1 share → ⌊3/2⌋ = 1 wei, round-up 2.
    assert_eq!(shares_by_pooled_eth(u(3), u(2), u(1)).unwrap(), U256::ZERO);
    assert_eq!(pooled_eth_by_shares(u(3), u(2), u(1)).unwrap(), u(1));
    assert_eq!(pooled_eth_by_shares_up(u(3), u(2), u(1)).unwrap(), u(2));
    // Empty pool: 1:1 and 0.
    assert_eq!(shares_by_pooled_eth(U256::ZERO, U256::ZERO, u(5)).unwrap(), u(5));
    assert_eq!(pooled_eth_by_shares(U256::ZERO, U256::ZERO, u(5)).unwrap(), U256::ZERO);
}

#[test]
fn rebase_limiter_caps_positive_rebase_and_share_burning() {
    // pre 1000 ETH, L = 750,000 → max TPE = 1000 + 0.75 = 1000.75 ETH.
    let mut lim = RebaseLimiter::new(750_000, ether(1000), ether(1000)).unwrap();
    assert_eq!(lim.max_total_pooled_ether, u(1_000_750_000_000_000_000_000));
    assert_eq!(lim.increase_ether(u(E / 2)).unwrap(), u(E / 2));
    // Only 0.25 ETH of the next 1 ETH fits.
    assert_eq!(lim.increase_ether(ether(1)).unwrap(), u(E / 4));
    assert!(lim.is_limit_reached());
    assert_eq!(lim.shares_to_burn_limit().unwrap(), U256::ZERO);
    // Lock 10 ETH: rate = ⌊990.75/1000·1e9⌋ = 990,750,000; burn ≤ ⌊1000e18·(1,000,750,000 − 990,750,000)/1,000,750,000⌋.
    lim.decrease_ether(ether(10)).unwrap();
    let expect = U256::from(1000u64) * u(E) * U256::from(10_000_000u64) / U256::from(1_000_750_000u64);
    assert_eq!(lim.shares_to_burn_limit().unwrap(), expect);
    assert!(RebaseLimiter::new(0, ether(1), ether(1)).is_err());
    // Empty pool → unlimited.
    let mut free = RebaseLimiter::new(750_000, U256::ZERO, U256::ZERO).unwrap();
    assert_eq!(free.increase_ether(ether(5)).unwrap(), ether(5));
}

#[test]
fn stake_limit_regenerates_per_block_up_to_the_max() {
    let mut s = StakeLimit {
        enabled: true,
        prev_block: 100,
        prev_limit: U256::ZERO,
        max_limit: ether(150_000),
        growth_blocks: 6_400,
    };
    // 150,000 / 6,400 = 23.4375 ETH per block.
    assert_eq!(s.current(110).unwrap(), u(234_375 * E / 1000));
    assert_eq!(s.current(100 + 6_400).unwrap(), ether(150_000));
    assert_eq!(s.current(1_000_000).unwrap(), ether(150_000));
    s.enabled = false;
    assert_eq!(s.current(0).unwrap(), U256::MAX);
}

#[test]
fn min_first_allocation_fills_the_least_loaded_first() {
    let mut b = vec![0, 3, 1];
    // [0,3,1] → bucket 0 to 1 → buckets 0,2 tie at 1: ⌈4/2⌉ = 2 to bucket 0 (up to 3) → bucket 2 to
    // its cap 2 → buckets 0,1 tie at 3: ⌈1/2⌉ = 1 to bucket 0.
    assert_eq!(min_first_allocate(&mut b, &[10, 10, 2], 5), 5);
    assert_eq!(b, vec![4, 3, 2]);
    let mut full = vec![5];
    assert_eq!(min_first_allocate(&mut full, &[5], 3), 0);
}

// ------------------------------------------------------------------ withdrawal queue vector

fn vector_queue() -> WithdrawalQueue {
    let mut q = WithdrawalQueue::default();
    let mk = |s: u128, sh: u128| WithdrawalRequest {
        cumulative_steth: u(s),
        cumulative_shares: u(sh),
        owner: Some(AccountId(1)),
        timestamp: 0,
        claimed: false,
        report_timestamp: 0,
    };
    q.requests.push(mk(2 * E, E)); // 2 ETH for 1e18 shares
    q.requests.push(mk(3 * E, 2 * E)); // 1 ETH for 1e18 shares
    q
}

#[test]
fn withdrawal_queue_spec_vector_locks_two_ether_and_burns_two_e18_shares() {
    let q = vector_queue();
    // One batch: rate 3e18·1e27/2e18 = 1.5e27 > 1e27 → lock 2e18·1e27/1e27 = 2e18.
    assert_eq!(q.prefinalize(&[2], E27).unwrap(), (u(2 * E), u(2 * E)));
    // Two batches: (2 ETH at rate 2e27 → 1e18) + (1 ETH at rate 1e27 → 1 ETH) = 2e18.
    assert_eq!(q.prefinalize(&[1, 2], E27).unwrap(), (u(2 * E), u(2 * E)));
    assert_eq!(q.prefinalize(&[2, 1], E27).unwrap_err(), LidoError::BatchesAreNotSorted);
    assert_eq!(
        q.prefinalize(&[3], E27).unwrap_err(),
        LidoError::InvalidRequestId { request_id: 3 }
    );
    assert_eq!(q.prefinalize(&[2], U256::ZERO).unwrap_err(), LidoError::ZeroShareRate);
    // Budget 1.5 ETH: only request 1 (1 ETH) fits.
    let (b, locked) = q.calculate_finalization_batches(E27, u64::MAX, u(3 * E / 2)).unwrap();
    assert_eq!((b, locked), (vec![1], u(E)));
}

// ------------------------------------------------------------------ stETH flows

#[test]
fn submit_mints_shares_priced_before_the_buffer_grows() {
    let mut w = rebased_world();
    // P = 64.01e18 ETH, S = 64e18 + 999,859,394,772,610 shares.
    assert_eq!(w.lido.total_pooled_ether().unwrap(), u(64_010_000_000_000_000_000));
    assert_eq!(w.lido.total_shares(), u(64 * E + 999_859_394_772_610));
    assert_eq!(w.lido.rate_wad().unwrap(), u(1_000_140_625_000_000_000));
    let ev = w.lido.submit(&mut w.l, w.bob, ether(1), T0 + DAY).unwrap();
    // ⌊1e18 · S / P⌋ = 999,859,394,772,610,101.
    assert_eq!(
        ev,
        vec![LidoEvent::Submitted {
            sender: "bob".into(),
            amount: ether(1),
            shares: u(999_859_394_772_610_101)
        }]
    );
    inv(&w);
}

#[test]
fn fee_is_split_between_curated_operators_and_treasury() {
    let w = rebased_world();
    // fee shares 999,859,394,772,610: curated module (fee 5 % of 10 %) gets ⌊fs/2⌋ = 499,929,697,386,305,
    // each of its two active operators ⌊m/2⌋ = 249,964,848,693,152, 1 share of dust stays in the module.
    let steth = w.lido.steth_asset();
    let op1 = w.l.find_account("stETH:op:curated-1").unwrap();
    let op2 = w.l.find_account("stETH:op:curated-2").unwrap();
    let m = w.l.find_account("stETH:module:curated").unwrap();
    assert_eq!(w.l.balance(op1, steth), u(249_964_848_693_152));
    assert_eq!(w.l.balance(op2, steth), u(249_964_848_693_152));
    assert_eq!(w.l.balance(m, steth), u(1));
    assert_eq!(w.l.balance(w.lido.accounts().treasury, steth), u(499_929_697_386_305));
}

#[test]
fn transfer_leaves_lido_dust() {
    let mut w = rebased_world();
    w.lido.transfer(&mut w.l, w.alice, w.bob, ether(1)).unwrap();
    // shares ⌊1e18·S/P⌋ = 999,859,394,772,610,101 → bob sees ⌊shares·P/S⌋ = 1e18 − 1.
    assert_eq!(w.lido.balance_of(&w.l, w.bob).unwrap(), u(E - 1));
    assert_eq!(w.lido.balance_of(&w.l, w.alice).unwrap(), u(63_009_000_000_000_000_000));
    let bal = w.lido.balance_of(&w.l, w.alice).unwrap();
    // The whole balance can always be sent.
    w.lido.transfer(&mut w.l, w.alice, w.carol, bal).unwrap();
    assert!(w.lido.shares_of(&w.l, w.alice) <= u(1));
    w.lido.transfer_shares(&mut w.l, w.carol, w.bob, u(5)).unwrap();
    inv(&w);
}

#[test]
fn wrap_and_unwrap_follow_wsteth() {
    let mut w = rebased_world();
    let (wst, _) = w.lido.wrap(&mut w.l, w.alice, ether(10)).unwrap();
    assert_eq!(wst, w.lido.get_shares_by_pooled_eth(ether(10)).unwrap());
    assert_eq!(w.l.balance(w.alice, w.lido.wsteth_asset()), wst);
    assert_eq!(w.lido.st_eth_per_token().unwrap(), u(1_000_140_625_000_000_000));
    let (st, _) = w.lido.unwrap(&mut w.l, w.alice, wst).unwrap();
    // ⌊wst·P/S⌋ = 10e18 − 1 (one wei of rounding).
    assert_eq!(st, w.lido.get_pooled_eth_by_shares(wst).unwrap());
    assert!(st <= ether(10) && st + u(2) >= ether(10));
    inv(&w);
}

#[test]
fn deposit_plan_allocates_min_first_and_respects_the_bonded_share_limit() {
    let mut w = world();
    w.lido.submit(&mut w.l, w.alice, ether(320), T0).unwrap();
    // 10 validators; CSM target = ⌊500·10/1e4⌋ = 0 → all curated, min-first over 4 operators.
    let plan = deposit(&mut w);
    assert_eq!(
        plan,
        vec![
            ("curated-1".into(), 3),
            ("curated-2".into(), 3),
            ("curated-3".into(), 2),
            ("curated-4".into(), 2)
        ]
    );
    assert_eq!(w.lido.beacon_stat(), (10, 0, U256::ZERO));
    assert_eq!(w.lido.total_pooled_ether().unwrap(), ether(320));
}

#[test]
fn bonded_operator_bond_absorbs_its_losses_first() {
    let mut p = LidoParams::default();
    p.modules[1].stake_share_limit_bp = 10_000;
    p.modules[0].operators.clear();
    let mut w = world_with(p);
    w.lido.submit(&mut w.l, w.alice, ether(64), T0).unwrap();
    w.lido.submit(&mut w.l, w.bob, ether(4), T0).unwrap();
    // Bond 3.7 ETH = 2.4 + 1.3 → two validators.
    w.lido
        .post_bond(&mut w.l, "csm-1", w.bob, u(3_700_000_000_000_000_000))
        .unwrap();
    assert_eq!(w.lido.operator_capacity(1, 0).unwrap(), 2);
    let plan = deposit(&mut w);
    assert_eq!(plan, vec![("csm-1".into(), 2)]);
    w.lido
        .handle_oracle_report(&mut w.l, report(T0 + DAY, 2, ether(64)), T0 + DAY)
        .unwrap();
    let before_alice = w.lido.balance_of(&w.l, w.alice).unwrap();
    // A 1 ETH loss (within the 18-day allowance 8e15·2 + 101e15·2? no: 0.218 ETH → needs a second opinion).
    let mut r = report(T0 + 2 * DAY, 2, ether(63));
    r.operator_losses = vec![("csm-1".into(), ether(1))];
    let before = snap(&w);
    let err = w
        .lido
        .handle_oracle_report(&mut w.l, r.clone(), T0 + 2 * DAY)
        .unwrap_err();
    assert_eq!(
        err,
        LidoError::IncorrectCLBalanceDecrease {
            negative_cl_rebase_sum: ether(1),
            max_negative_cl_rebase_sum: u(2 * 8 * 1_000_000_000_000_000 + 2 * 101 * 1_000_000_000_000_000)
        }
    );
    assert_eq!(snap(&w), before);
    r.second_opinion = Some(SecondOpinion {
        cl_balance_gwei: u(63_000_000_000),
        withdrawal_vault_balance_wei: U256::ZERO,
    });
    let (sum, _) = w.lido.handle_oracle_report(&mut w.l, r, T0 + 2 * DAY).unwrap();
    // Bond shares worth 1 ETH burnt: the pool lost 1 ETH but also 1 ETH worth of shares.
    assert_eq!(sum.post_total_pooled_ether, ether(67));
    let after_alice = w.lido.balance_of(&w.l, w.alice).unwrap();
    assert!(
        after_alice + u(2) >= before_alice && after_alice <= before_alice,
        "{before_alice} → {after_alice}"
    );
    assert_eq!(
        w.lido.modules()[1].operators[0].bond_shares,
        u(2_700_000_000_000_000_000)
    );
    inv(&w);
}

#[test]
fn withdrawal_request_finalize_and_claim_through_a_report() {
    let mut w = rebased_world();
    let (id, _) = w
        .lido
        .request_withdrawal(&mut w.l, w.alice, ether(2), T0 + DAY + 10)
        .unwrap();
    assert_eq!(id, 1);
    w.lido.submit(&mut w.l, w.bob, ether(5), T0 + DAY + 20).unwrap();
    inv(&w);
    // Buffer 5 ETH covers the 2 ETH request: no exits needed, no deposits beyond 3 ETH.
    assert!(w.lido.validators_to_exit().is_empty());
    assert!(w.lido.deposit_plan().is_empty());
    let r = w
        .lido
        .build_report(
            &w.l,
            T0 + 2 * DAY,
            2,
            u(64 * E + 10_000_000_000_000_000),
            vec![],
            vec![],
        )
        .unwrap();
    assert_eq!(r.withdrawal_finalization_batches, vec![1]);
    let (sum, _) = w.lido.handle_oracle_report(&mut w.l, r, T0 + 2 * DAY).unwrap();
    assert_eq!(sum.ether_to_lock, ether(2) - u(1));
    inv(&w);
    let before = snap(&w);
    expect_rejected(
        &w,
        &before,
        w.lido.clone().claim(&mut w.l.clone(), w.bob, 1).map(|_| ()),
        LidoError::NotOwner {
            sender: "bob".into(),
            owner: "alice".into(),
        },
    );
    let eth = w.lido.eth_asset();
    let b0 = w.l.balance(w.alice, eth);
    let (paid, _) = w.lido.claim(&mut w.l, w.alice, 1).unwrap();
    assert_eq!(paid, sum.ether_to_lock);
    assert_eq!(w.l.balance(w.alice, eth), b0 + paid);
    inv(&w);
    let before = snap(&w);
    let r = w.lido.claim(&mut w.l, w.alice, 1);
    expect_rejected(&w, &before, r, LidoError::RequestAlreadyClaimed { request_id: 1 });
}

#[test]
fn validators_to_exit_cover_what_the_buffer_cannot() {
    let mut w = rebased_world();
    w.lido
        .request_withdrawal(&mut w.l, w.alice, ether(40), T0 + DAY)
        .unwrap();
    // Buffer 0 → ⌈40/32⌉ = 2 validators, one each from the two operators that have one.
    let exits = w.lido.validators_to_exit();
    assert_eq!(exits, vec![("curated-1".into(), 1), ("curated-2".into(), 1)]);
    w.lido.on_exits_requested(&exits).unwrap();
    assert!(w.lido.validators_to_exit().is_empty());
    assert_eq!(w.lido.queue_wait_estimate_seconds(5 * DAY), 6 * DAY);
    let before = snap(&w);
    let r = w.lido.on_exits_requested(&[("curated-1".into(), 1)]);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::ExitExceedsActiveValidators {
            operator: "curated-1".into(),
            requested: 1,
            available: 0,
        },
    );
    // The exits land in the withdrawal vault (engine), the report sees them and finalizes.
    let (wv, eth) = (w.lido.accounts().withdrawal_vault, w.lido.eth_asset());
    w.l.mint(wv, eth, u(64 * E + 10_000_000_000_000_000)).unwrap();
    let exited = vec![("curated-1".into(), 1), ("curated-2".into(), 1)];
    let r = w
        .lido
        .build_report(&w.l, T0 + 2 * DAY, 2, U256::ZERO, exited, vec![])
        .unwrap();
    let (sum, _) = w.lido.handle_oracle_report(&mut w.l, r, T0 + 2 * DAY).unwrap();
    // All of the vault is principal (no gain): withdrawals are not capped by the limiter.
    assert_eq!(sum.withdrawals, u(64 * E + 10_000_000_000_000_000));
    assert_eq!(sum.fee_shares, U256::ZERO);
    assert_eq!(w.lido.withdrawal_queue().last_finalized_request_id, 1);
    inv(&w);
}

#[test]
fn positive_rebase_limiter_caps_el_rewards_and_leaves_the_rest_in_the_vault() {
    let mut w = rebased_world();
    let (el, eth) = (w.lido.accounts().el_vault, w.lido.eth_asset());
    w.l.mint(el, eth, ether(1)).unwrap();
    // pre TPE 64.01 ETH → cap ⌊64.01e18·750000/1e9⌋ = 48,007,500,000,000,000; CL +0.001 ETH first.
    let (sum, _) = w
        .lido
        .handle_oracle_report(
            &mut w.l,
            report(T0 + 2 * DAY, 2, u(64_011_000_000_000_000_000)),
            T0 + 2 * DAY,
        )
        .unwrap();
    assert_eq!(sum.el_rewards, u(48_007_500_000_000_000 - 1_000_000_000_000_000));
    assert_eq!(w.l.balance(el, eth), ether(1) - sum.el_rewards);
    assert_eq!(
        sum.post_total_pooled_ether,
        u(64_010_000_000_000_000_000 + 48_007_500_000_000_000)
    );
    inv(&w);
}

#[test]
fn report_history_stays_bounded() {
    let mut w = rebased_world();
    let mut cl = 64 * E + 10_000_000_000_000_000;
    for d in 2..120u64 {
        cl += 1_000_000_000_000_000;
        w.lido
            .handle_oracle_report(&mut w.l, report(T0 + d * DAY, 2, u(cl)), T0 + d * DAY)
            .unwrap();
    }
    assert!(w.lido.report_history().len() <= 56, "{}", w.lido.report_history().len());
    inv(&w);
}

#[test]
fn share_of_staked_eth_is_a_wad_ratio() {
    let w = rebased_world();
    // (64.01 ETH) / (128.02 ETH) = 0.5.
    assert_eq!(
        w.lido.share_of_staked_eth(u(128_020_000_000_000_000_000)).unwrap(),
        u(E / 2)
    );
}

// ------------------------------------------------------------------ sanity checks

#[test]
fn annual_balance_increase_check_rejects_and_changes_nothing() {
    let mut w = rebased_world();
    let before = snap(&w);
    // +0.1 ETH in a day on 64.01 ETH: ⌊365·86400·1e4·1e17/64.01e18/86400⌋ = 5,702 bp.
    let r = w
        .lido
        .handle_oracle_report(&mut w.l, report(T0 + 2 * DAY, 2, u(64_110_000_000_000_000_000)), 0);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::IncorrectCLBalanceIncrease {
            annual_increase_bp: u(5_702),
            limit_bp: 1_000,
        },
    );
    assert_eq!(
        LidoError::IncorrectCLBalanceIncrease {
            annual_increase_bp: u(5_702),
            limit_bp: 1_000
        }
        .code(),
        3030
    );
}

#[test]
fn cl_decrease_check_accepts_small_losses_and_second_opinion_mismatches_are_rejected() {
    let mut w = rebased_world();
    let base = u(64 * E + 10_000_000_000_000_000);
    // Allowance for 2 validators: 2·8e15 + 2·101e15 = 218e15; a 0.2 ETH loss passes.
    let mut w2 = rebased_world();
    w2.lido
        .handle_oracle_report(&mut w2.l, report(T0 + 2 * DAY, 2, base - u(200_000_000_000_000_000)), 0)
        .unwrap();
    inv(&w2);
    let before = snap(&w);
    let mut r = report(T0 + 2 * DAY, 2, base - ether(1));
    let res = w.lido.handle_oracle_report(&mut w.l, r.clone(), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::IncorrectCLBalanceDecrease {
            negative_cl_rebase_sum: ether(1),
            max_negative_cl_rebase_sum: u(218_000_000_000_000_000),
        },
    );
    // Second opinion 1 % above the report: beyond 50 bp.
    let reported = base - ether(1);
    let proved_gwei = reported * u(101) / u(100) / u(1_000_000_000);
    r.second_opinion = Some(SecondOpinion {
        cl_balance_gwei: proved_gwei,
        withdrawal_vault_balance_wei: U256::ZERO,
    });
    let res = w.lido.handle_oracle_report(&mut w.l, r.clone(), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::NegativeRebaseFailedCLBalanceMismatch {
            reported,
            proved: proved_gwei * u(1_000_000_000),
            limit_bp: 50,
        },
    );
    r.second_opinion = Some(SecondOpinion {
        cl_balance_gwei: reported / u(1_000_000_000),
        withdrawal_vault_balance_wei: u(7),
    });
    let res = w.lido.handle_oracle_report(&mut w.l, r.clone(), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::NegativeRebaseFailedWithdrawalVaultBalanceMismatch {
            reported: U256::ZERO,
            proved: u(7),
        },
    );
    r.second_opinion = Some(SecondOpinion {
        cl_balance_gwei: reported / u(1_000_000_000),
        withdrawal_vault_balance_wei: U256::ZERO,
    });
    w.lido.handle_oracle_report(&mut w.l, r, 0).unwrap();
    inv(&w);
}

#[test]
fn appeared_validators_check_rejects_too_many_per_day() {
    let mut w = rebased_world();
    w.lido.submit(&mut w.l, w.bob, ether(64), T0 + DAY).unwrap();
    deposit(&mut w);
    let before = snap(&w);
    // 60 s elapsed: limit ⌊1800·60/86400⌋ = 1 < 2 appeared.
    let res = w.lido.handle_oracle_report(
        &mut w.l,
        report(T0 + DAY + 60, 4, u(128 * E + 10_000_000_000_000_000)),
        0,
    );
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::IncorrectAppearedValidators {
            appeared: 2,
            limit: u(1),
        },
    );
}

#[test]
fn exited_validators_check_rejects_too_many_per_day() {
    let mut w = rebased_world();
    let before = snap(&w);
    let mut r = report(T0 + DAY + 30, 2, u(64 * E + 10_000_000_000_000_000));
    r.exited_validators = vec![("curated-1".into(), 1), ("curated-2".into(), 1)];
    // 2 exits in 30 s = 5,760 per day > 3,600.
    let res = w.lido.handle_oracle_report(&mut w.l, r, 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::ExitedValidatorsLimitExceeded {
            limit_per_day: 3_600,
            exited_per_day: u(5_760),
        },
    );
}

#[test]
fn simulated_share_rate_and_request_margin_checks_reject() {
    let mut w = rebased_world();
    w.lido
        .request_withdrawal(&mut w.l, w.alice, ether(2), T0 + DAY + 10)
        .unwrap();
    w.lido.submit(&mut w.l, w.bob, ether(5), T0 + DAY + 20).unwrap();
    let good = w
        .lido
        .build_report(
            &w.l,
            T0 + 2 * DAY,
            2,
            u(64 * E + 10_000_000_000_000_000),
            vec![],
            vec![],
        )
        .unwrap();
    let before = snap(&w);
    let mut bad = good.clone();
    bad.simulated_share_rate = good.simulated_share_rate * u(101) / u(100);
    let actual = good.simulated_share_rate;
    let res = w.lido.handle_oracle_report(&mut w.l, bad, 0);
    match res {
        Err(LidoError::IncorrectSimulatedShareRate { simulated, actual: a }) => {
            assert_eq!(simulated, actual * u(101) / u(100));
            assert!(a.abs_diff(actual) * u(10_000) / a <= u(50));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(snap(&w), before);
    let mut early = good.clone();
    early.timestamp = T0 + DAY + 100;
    let res = w.lido.handle_oracle_report(&mut w.l, early, 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::IncorrectRequestFinalization {
            request_timestamp: T0 + DAY + 10,
            report_timestamp: T0 + DAY + 100,
        },
    );
    let mut beyond = good.clone();
    beyond.withdrawal_finalization_batches = vec![2];
    let res = w.lido.handle_oracle_report(&mut w.l, beyond, 0);
    expect_rejected(&w, &before, res, LidoError::InvalidRequestId { request_id: 2 });
    w.lido.handle_oracle_report(&mut w.l, good, 0).unwrap();
    inv(&w);
}

#[test]
fn finalization_beyond_the_buffer_is_rejected() {
    let mut w = rebased_world();
    w.lido
        .request_withdrawal(&mut w.l, w.alice, ether(2), T0 + DAY)
        .unwrap();
    let mut r = w
        .lido
        .build_report(
            &w.l,
            T0 + 2 * DAY,
            2,
            u(64 * E + 10_000_000_000_000_000),
            vec![],
            vec![],
        )
        .unwrap();
    assert!(r.withdrawal_finalization_batches.is_empty());
    r.withdrawal_finalization_batches = vec![1];
    let before = snap(&w);
    let res = w.lido.handle_oracle_report(&mut w.l, r, 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::InsufficientBufferForFinalization {
            required: ether(2) - u(1),
            available: U256::ZERO,
        },
    );
}

#[test]
fn malformed_reports_are_rejected_and_change_nothing() {
    let mut w = rebased_world();
    let before = snap(&w);
    let cl = u(64 * E + 10_000_000_000_000_000);
    let res = w.lido.handle_oracle_report(&mut w.l, report(T0 + DAY, 2, cl), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::StaleReport {
            timestamp: T0 + DAY,
            last: T0 + DAY,
        },
    );
    let res = w.lido.handle_oracle_report(&mut w.l, report(T0 + 2 * DAY, 3, cl), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::ReportedMoreDeposited {
            reported: 3,
            deposited: 2,
        },
    );
    let res = w.lido.handle_oracle_report(&mut w.l, report(T0 + 2 * DAY, 1, cl), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::ReportedLessValidators {
            reported: 1,
            previous: 2,
        },
    );
    let mut r = report(T0 + 2 * DAY, 2, cl);
    r.exited_validators = vec![("curated-1".into(), 2)];
    let res = w.lido.handle_oracle_report(&mut w.l, r.clone(), 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::ReportedExitedExceedsDeposited {
            operator: "curated-1".into(),
            reported: 2,
            deposited: 1,
        },
    );
    r.exited_validators = vec![("nobody".into(), 0)];
    let res = w.lido.handle_oracle_report(&mut w.l, r.clone(), 0);
    expect_rejected(&w, &before, res, LidoError::UnknownOperator { name: "nobody".into() });
    r.exited_validators = vec![("curated-1".into(), 1)];
    w.lido.handle_oracle_report(&mut w.l, r, 0).unwrap();
    let before = snap(&w);
    let mut r = report(T0 + 3 * DAY, 2, cl);
    r.exited_validators = vec![("curated-1".into(), 0)];
    let res = w.lido.handle_oracle_report(&mut w.l, r, 0);
    expect_rejected(
        &w,
        &before,
        res,
        LidoError::ExitedValidatorsCountCannotDecrease {
            operator: "curated-1".into(),
            reported: 0,
            previous: 1,
        },
    );
}

// ------------------------------------------------------------------ other rejections

#[test]
fn submit_rejections_change_nothing() {
    let mut w = world();
    let before = snap(&w);
    let r = w.lido.submit(&mut w.l, w.alice, U256::ZERO, T0);
    expect_rejected(&w, &before, r, LidoError::ZeroDeposit);
    let dave = w.l.account("dave");
    let before = snap(&w);
    let r = w.lido.submit(&mut w.l, dave, ether(1), T0);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::Ledger(Box::new(LedgerError::InsufficientBalance {
            account: "dave".into(),
            asset: "ETH".into(),
            balance: U256::ZERO,
            required: ether(1),
            decimals: 18,
        })),
    );
    // Staking limit: 150,000 ETH, then 10 blocks regenerate 234.375 ETH.
    let eth = w.lido.eth_asset();
    w.l.mint(dave, eth, ether(200_000)).unwrap();
    w.lido.submit(&mut w.l, dave, ether(150_000), T0).unwrap();
    let before = snap(&w);
    let r = w.lido.submit(&mut w.l, dave, ether(1), T0 + 3); // same 12 s block (T0 mod 12 = 8)
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::StakeLimitExceeded {
            requested: ether(1),
            limit: U256::ZERO,
        },
    );
    assert_eq!(w.lido.current_stake_limit(T0 + 120).unwrap(), u(234_375 * E / 1000));
    let r = w.lido.submit(&mut w.l, dave, ether(235), T0 + 120);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::StakeLimitExceeded {
            requested: ether(235),
            limit: u(234_375 * E / 1000),
        },
    );
    inv(&w);
}

#[test]
fn token_rejections_change_nothing() {
    let mut w = rebased_world();
    let before = snap(&w);
    let buf = w.lido.accounts().buffer;
    let r = w.lido.transfer(&mut w.l, w.alice, buf, ether(1));
    expect_rejected(&w, &before, r, LidoError::TransferToStEthContract);
    let r = w.lido.transfer_shares(&mut w.l, w.bob, w.alice, u(1));
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::InsufficientShares {
            account: "bob".into(),
            balance: U256::ZERO,
            required: u(1),
        },
    );
    let big = U256::ONE << 128u32;
    let r = w.lido.transfer(&mut w.l, w.alice, w.bob, big);
    expect_rejected(&w, &before, r, LidoError::InputTooLarge { value: big });
    let r = w.lido.wrap(&mut w.l, w.alice, U256::ZERO);
    expect_rejected(&w, &before, r, LidoError::ZeroAmount);
    let r = w.lido.unwrap(&mut w.l, w.alice, U256::ZERO);
    expect_rejected(&w, &before, r, LidoError::ZeroAmount);
    let r = w.lido.unwrap(&mut w.l, w.alice, u(5));
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::InsufficientWstEth {
            account: "alice".into(),
            balance: U256::ZERO,
            required: u(5),
        },
    );
    let r = w.lido.wrap(&mut w.l, w.bob, ether(1));
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::InsufficientShares {
            account: "bob".into(),
            balance: U256::ZERO,
            required: u(999_859_394_772_610_101),
        },
    );
}

#[test]
fn queue_and_operator_rejections_change_nothing() {
    let mut w = rebased_world();
    let before = snap(&w);
    let r = w.lido.request_withdrawal(&mut w.l, w.alice, u(99), T0);
    expect_rejected(&w, &before, r, LidoError::RequestAmountTooSmall { amount: u(99) });
    let r = w.lido.request_withdrawal(&mut w.l, w.alice, ether(1000) + u(1), T0);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::RequestAmountTooLarge {
            amount: ether(1000) + u(1),
        },
    );
    let r = w.lido.request_withdrawal(&mut w.l, w.bob, ether(1), T0);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::InsufficientShares {
            account: "bob".into(),
            balance: U256::ZERO,
            required: u(999_859_394_772_610_101),
        },
    );
    let r = w.lido.claim(&mut w.l, w.alice, 0);
    expect_rejected(&w, &before, r, LidoError::InvalidRequestId { request_id: 0 });
    let r = w.lido.claim(&mut w.l, w.alice, 1);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::RequestNotFoundOrNotFinalized { request_id: 1 },
    );
    let r = w.lido.post_bond(&mut w.l, "curated-1", w.alice, ether(1));
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::NotABondedOperator {
            operator: "curated-1".into(),
        },
    );
    let r = w.lido.post_bond(&mut w.l, "ghost", w.alice, ether(1));
    expect_rejected(&w, &before, r, LidoError::UnknownOperator { name: "ghost".into() });
    let r = w.lido.on_deposited(&w.l, &[("curated-1".into(), 1)]);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::DepositExceedsDepositableEther {
            requested: ether(32),
            depositable: U256::ZERO,
        },
    );
    let r = w.lido.on_deposited(&w.l, &[("csm-1".into(), 1)]);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::DepositExceedsOperatorCapacity {
            operator: "csm-1".into(),
            requested: 1,
            capacity: 0,
        },
    );
    let r = w.lido.on_exits_requested(&[("curated-1".into(), 601)]);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::IncorrectNumberOfExitRequestsPerReport {
            requested: 601,
            limit: 600,
        },
    );
    let r = w.lido.on_exits_requested(&[("curated-3".into(), 1)]);
    expect_rejected(
        &w,
        &before,
        r,
        LidoError::ExitExceedsActiveValidators {
            operator: "curated-3".into(),
            requested: 1,
            available: 0,
        },
    );
}

#[test]
fn invalid_params_and_duplicate_symbols_are_rejected() {
    let mut l = Ledger::new();
    let mut p = LidoParams::default();
    p.modules[0].module_fee_bp = 9_600;
    let before = state_hash(&l);
    let e = Lido::new(&mut l, "lido", p).unwrap_err();
    assert_eq!(e.code(), 3090);
    assert_eq!(state_hash(&l), before);
    Lido::new(&mut l, "lido", LidoParams::default()).unwrap();
    let before = state_hash(&l);
    let e = Lido::new(&mut l, "lido2", LidoParams::default()).unwrap_err();
    assert_eq!(
        e,
        LidoError::Ledger(Box::new(LedgerError::DuplicateAsset { symbol: "stETH".into() }))
    );
    assert_eq!(state_hash(&l), before);
}

#[test]
fn bootstrap_mints_dead_shares_against_buffered_ether() {
    let p = LidoParams {
        bootstrap_wei: u(1_000),
        ..Default::default()
    };
    let mut l = Ledger::new();
    let lido = Lido::new(&mut l, "lido", p).unwrap();
    assert_eq!(lido.total_shares(), u(1_000));
    assert_eq!(lido.total_pooled_ether().unwrap(), u(1_000));
    assert_eq!(lido.balance_of(&l, lido.accounts().initial_holder).unwrap(), u(1_000));
    lido.check_invariants(&l).unwrap();
}
