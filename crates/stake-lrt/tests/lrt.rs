//! L3 models: hand-computed rates, fees, slashing, every rejection leaving the state unchanged,
//! and the SPEC §14 vectors.
#![allow(clippy::cast_possible_wrap)]
// test inputs: small constants

// Test helpers outside #[test] functions unwrap set-up steps and panic on a wrong outcome.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_ledger::Reject;
use stake_lrt::allocation::{target_allocations, AllocationCandidate, AllocationError, AllocationPolicy};
use stake_lrt::etherfi::{EtherFi, EtherFiError, EtherFiParams};
use stake_lrt::kelp::{Kelp, KelpError, KelpParams, ETH};
use stake_lrt::puffer::{Puffer, PufferError, Rounding};
use stake_lrt::renzo::{Renzo, RenzoError, RenzoParams, MAX_TIME_WINDOW_S};
use stake_lrt::swell::{Swell, SwellError, SwellOperator, SwellParams};
use stake_lrt::Lrt;
use stake_math::{I256, U256, WAD};

const WEI_PER_MILLI: u128 = 1_000_000_000_000_000;

/// `x` ETH.
fn e(x: u128) -> U256 {
    U256::from(x) * WAD
}

/// `x` thousandths of an ETH.
fn m(x: u128) -> U256 {
    U256::from(x * WEI_PER_MILLI)
}

/// Runs `f` on `state`; asserts it fails with `want` (and its code) and leaves `state` as it was.
fn rejects<S, T, E>(state: &mut S, want: E, f: impl FnOnce(&mut S) -> Result<T, E>)
where
    S: Clone + PartialEq + std::fmt::Debug + serde::Serialize,
    T: std::fmt::Debug,
    E: PartialEq + std::fmt::Debug + Reject,
{
    let before = state.clone();
    let json_before = serde_json::to_string(state).unwrap();
    let got = f(state);
    match got {
        Err(err) => {
            assert_eq!(err.code(), want.code(), "{err}");
            assert_eq!(err, want);
        }
        Ok(v) => panic!("expected {want:?}, got Ok({v:?})"),
    }
    assert_eq!(*state, before, "a rejection changed the state");
    assert_eq!(serde_json::to_string(state).unwrap(), json_before);
}

fn inv<L: Lrt>(l: &L) {
    l.check_invariants().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Renzo
// ---------------------------------------------------------------------------------------------

const T0: u64 = 1_700_000_000;
const WEEK: u64 = 7 * 86_400;

fn renzo() -> Renzo {
    let mut r = Renzo::new(RenzoParams::default(), T0);
    r.add_operator_delegator("od-a", 6_000).unwrap();
    r.add_operator_delegator("od-b", 4_000).unwrap();
    r
}

/// 100 to od-a (first mint 1:1, default delegator), 50 to od-b (below its 40 % target), 10 ETH
/// rewards with a 10 % fee, 10.6 ETH at 1.06.
fn renzo_funded() -> Renzo {
    let mut r = renzo();
    let d = r.deposit_collateral(e(100), T0).unwrap();
    assert_eq!((d.minted, d.delegator), (e(100), Some(0)));
    inv(&r);
    let d = r.deposit_collateral(e(50), T0).unwrap();
    assert_eq!((d.minted, d.delegator), (e(50), Some(1)));
    inv(&r);
    assert_eq!(r.receive_rewards(e(10)).unwrap(), e(1));
    inv(&r);
    assert_eq!(r.rate_at(T0).unwrap(), m(1060));
    let d = r.deposit_eth(m(10_600), T0).unwrap();
    assert_eq!((d.minted, d.delegator), (e(10), None));
    inv(&r);
    r
}

#[test]
fn renzo_rate_after_deposits_rewards_with_fee_and_a_ten_percent_slash_of_one_delegator() {
    let mut r = renzo_funded();
    assert_eq!(r.supply, e(160));
    assert_eq!(r.total_tvl(T0).unwrap(), m(169_600));
    assert_eq!(r.fees_paid, e(1));
    assert_eq!(r.deposit_queue, m(19_600));
    // od-b holds 50 ETH of the 169.6: slashing it by 10 % costs 5 ETH.
    r.report_delegator_tvl(1, e(45), T0).unwrap();
    inv(&r);
    assert_eq!(r.total_tvl(T0).unwrap(), m(164_600));
    // 164.6 / 160 = 1.02875
    assert_eq!(r.rate_at(T0).unwrap(), U256::from(1_028_750_000_000_000_000u128));
    // Next collateral deposit: od-a 100 < 60 % of 164.6? No (98.76 threshold) → od-b (45 < 65.84).
    let d = r.deposit_collateral(m(10_287), T0).unwrap();
    assert_eq!(d.delegator, Some(1));
    assert_eq!(d.minted, U256::from(9_999_513_973_268_529_769u128));
    inv(&r);
}

#[test]
fn renzo_first_mint_and_zero_rules() {
    let mut r = renzo();
    // First mint returns the value as is, even zero.
    assert_eq!(r.deposit_eth(U256::ZERO, T0).unwrap().minted, U256::ZERO);
    assert_eq!(r.deposit_eth(U256::from(7u8), T0).unwrap().minted, U256::from(7u8));
    inv(&r);
    // TVL 0 but supply > 0 (everything slashed) is also a "first mint".
    let mut s = renzo_funded();
    for i in 0..2 {
        s.report_delegator_tvl(i, U256::ZERO, T0).unwrap();
    }
    s.deposit_queue = U256::ZERO;
    assert_eq!(s.total_tvl(T0).unwrap(), U256::ZERO);
    assert_eq!(s.deposit_eth(e(1), T0).unwrap().minted, e(1));
    // A deposit worth less than one ezETH wei reverts.
    let mut f = renzo_funded();
    rejects(&mut f, RenzoError::InvalidTokenAmount, |f| f.deposit_eth(U256::ONE, T0));
    rejects(&mut f, RenzoError::InvalidZeroInput, |f| {
        f.withdraw("u", U256::ZERO, T0)
    });
}

#[test]
fn renzo_rejects_stale_prices_and_bad_admin_input_without_changing_state() {
    let mut r = renzo_funded();
    let late = T0 + MAX_TIME_WINDOW_S + 1;
    let stale = RenzoError::OraclePriceExpired {
        price_timestamp: T0,
        now: late,
    };
    rejects(&mut r, stale.clone(), |r| r.deposit_eth(e(1), late));
    rejects(&mut r, stale.clone(), |r| r.deposit_collateral(e(1), late));
    rejects(&mut r, stale, |r| r.withdraw("u", e(1), late));
    // Exactly at the window edge the price is still fresh.
    assert!(r.clone().deposit_eth(e(1), T0 + MAX_TIME_WINDOW_S).is_ok());
    rejects(&mut r, RenzoError::AlreadyAdded { name: "od-a".into() }, |r| {
        r.add_operator_delegator("od-a", 1)
    });
    rejects(&mut r, RenzoError::OverMaxBasisPoints { value: 10_001 }, |r| {
        r.set_allocation(0, 10_001)
    });
    rejects(&mut r, RenzoError::InvalidTvl { tvl: e(100) }, |r| {
        r.remove_operator_delegator(0)
    });
    rejects(&mut r, RenzoError::NotFound, |r| r.report_delegator_tvl(9, e(1), T0));
    rejects(
        &mut r,
        RenzoError::InsufficientDepositQueue {
            amount: e(32),
            balance: m(19_600),
        },
        |r| r.stake_from_deposit_queue(0, 1),
    );
    let mut empty = Renzo::new(RenzoParams::default(), T0);
    rejects(&mut empty, RenzoError::NotFound, |r| r.deposit_collateral(e(1), T0));
}

#[test]
fn renzo_withdrawal_queues_behind_the_buffer_and_pays_the_lower_of_request_and_claim_value() {
    let mut r = renzo_funded();
    r.report_delegator_tvl(1, e(45), T0).unwrap();
    // 16 ezETH at 1.02875 = 16.46 ETH; the buffer is empty so the request is queued.
    let id = r.withdraw("alice", e(16), T0).unwrap();
    inv(&r);
    let req = r.requests[&id].clone();
    assert_eq!(req.amount_to_redeem, m(16_460));
    assert!(req.queued);
    assert_eq!(r.supply, e(160), "locked ezETH stays in the supply until the claim");
    rejects(
        &mut r,
        RenzoError::EarlyClaim {
            created_at: T0,
            cooldown: WEEK,
            now: T0 + WEEK - 1,
        },
        |r| r.claim("alice", id, T0 + WEEK - 1),
    );
    rejects(&mut r, RenzoError::InvalidWithdrawIndex { id }, |r| {
        r.claim("bob", id, T0 + WEEK)
    });
    rejects(
        &mut r,
        RenzoError::QueuedWithdrawalNotFilled {
            fill_at: m(16_460),
            filled: U256::ZERO,
        },
        |r| r.claim("alice", id, T0 + WEEK),
    );
    // 20 ETH come back from od-a's EigenLayer withdrawal: 16.46 fill the queue.
    r.receive_withdrawn_eth(0, e(20)).unwrap();
    inv(&r);
    assert_eq!(r.queued_filled, m(16_460));
    assert_eq!(r.deposit_queue, m(19_600) + m(3_540));
    r.update_prices(T0 + WEEK);
    // A further 10 % slash of od-b after the request: the claim pays the lower value.
    r.report_delegator_tvl(1, m(40_500), T0 + WEEK).unwrap();
    let tvl = r.total_tvl(T0 + WEEK).unwrap();
    assert_eq!(tvl, m(160_100));
    let paid = r.claim("alice", id, T0 + WEEK).unwrap();
    // 160.1 · 16 / 160 = 16.01 < 16.46
    assert_eq!(paid, m(16_010));
    inv(&r);
    assert_eq!(r.supply, e(144));
    assert_eq!(r.claim_reserve, U256::ZERO);
    // The unpaid 0.45 ETH stays in the withdraw queue for the remaining holders.
    assert_eq!(r.withdraw_queue, m(450));
    assert_eq!(r.total_tvl(T0 + WEEK).unwrap(), m(144_090));
}

#[test]
fn renzo_buffer_serves_whitelisted_instant_withdrawals_at_the_request_value() {
    let params = RenzoParams {
        withdraw_buffer_target: e(5),
        ..RenzoParams::default()
    };
    let mut r = Renzo::new(params, T0);
    r.add_operator_delegator("od", 10_000).unwrap();
    let d = r.deposit_eth(e(100), T0).unwrap();
    assert_eq!((d.minted, d.to_buffer), (e(100), e(5)));
    assert_eq!(r.withdraw_queue, e(5));
    inv(&r);
    r.whitelisted.insert("mm".into());
    let id = r.withdraw("mm", e(2), T0).unwrap();
    assert!(!r.requests[&id].queued);
    inv(&r);
    // Rewards raise the value after the request; the claim still pays the value at request.
    r.receive_rewards(e(10)).unwrap();
    assert!(r.rate_at(T0).unwrap() > WAD);
    assert_eq!(r.claim("mm", id, T0).unwrap(), e(2));
    inv(&r);
    // The rewards had already refilled the buffer to its 5 ETH target: the next deposit waits
    // in the deposit queue.
    assert_eq!(r.available_to_withdraw().unwrap(), e(5));
    let d = r.deposit_eth(e(3), T0).unwrap();
    assert_eq!(d.to_buffer, U256::ZERO);
    inv(&r);
    // Paused instant withdrawals bring the cool-down back.
    r.instant_withdraw_paused = true;
    let id = r.withdraw("mm", e(1), T0).unwrap();
    rejects(
        &mut r,
        RenzoError::EarlyClaim {
            created_at: T0,
            cooldown: WEEK,
            now: T0,
        },
        |r| r.claim("mm", id, T0),
    );
}

#[test]
fn renzo_withdrawal_beyond_the_collateral_left_after_the_queue_is_rejected() {
    let mut r = renzo_funded();
    // 150 of 160 ezETH at 169.6 ETH: 159 ETH, queued (the buffer is empty).
    let id = r.withdraw("a", e(150), T0).unwrap();
    inv(&r);
    assert_eq!(r.requests[&id].amount_to_redeem, e(159));
    assert_eq!(r.queued_to_fill, e(159));
    // A 10 % slash of od-a (100 → 90). The last 10 ezETH are worth ⌊159.6·10/160⌋ = 9.975 ETH,
    // but the collateral left after the queue deficit is 19.6 + 140 − 159 = 0.6 ETH.
    r.report_delegator_tvl(0, e(90), T0).unwrap();
    inv(&r);
    rejects(
        &mut r,
        RenzoError::NotEnoughCollateralValue {
            amount: m(9_975),
            available: m(600),
        },
        |r| r.withdraw("b", e(10), T0),
    );
}

// ---------------------------------------------------------------------------------------------
// ether.fi
// ---------------------------------------------------------------------------------------------

fn etherfi() -> EtherFi {
    EtherFi::new(EtherFiParams {
        acceptable_rebase_apr_bps: 2_000,
        min_withdraw_amount: U256::from(1_000u32),
        ..EtherFiParams::default()
    })
    .unwrap()
}

const DAY_SLOTS: u64 = 7_200;

#[test]
fn etherfi_rebase_with_fee_then_deposit_at_the_new_rate() {
    let mut p = etherfi();
    assert_eq!(p.deposit_eth(e(100)).unwrap(), e(100));
    p.fund_validators(e(90)).unwrap();
    inv(&p);
    // 0.2 ETH net rewards + 0.05 fee over 7 days: APR ⌊1e4·0.2·365/(100·7)⌋ = 1042 bps ≤ 2000.
    let s = p
        .execute_report(I256::from(200_000_000_000_000_000i128), m(50), 7 * DAY_SLOTS)
        .unwrap();
    inv(&p);
    assert_eq!(s.fee_shares, U256::from(49_900_199_600_798_403u128));
    assert_eq!(s.total_pooled_ether, m(100_250));
    assert_eq!(p.total_shares, e(100) + s.fee_shares);
    // A 10.025 ETH deposit: shares = ⌊10.025·S/100.25⌋ (pool before the deposit).
    let shares = p.deposit_eth(m(10_025)).unwrap();
    assert_eq!(shares, U256::from(10_004_990_019_960_079_840u128));
    inv(&p);
    // weETH rate = ⌊1e18·P/S⌋.
    let rate = p.weeth_rate().unwrap();
    assert_eq!(
        rate,
        stake_math::mul_div_down(WAD, p.total_pooled_ether().unwrap(), p.total_shares).unwrap()
    );
}

#[test]
fn etherfi_report_bounds_reject_without_changing_state() {
    let mut p = etherfi();
    p.deposit_eth(e(100)).unwrap();
    p.fund_validators(e(100)).unwrap();
    let eth = |milli: i128| I256::from(milli * WEI_PER_MILLI as i128);
    rejects(&mut p, EtherFiError::ZeroElapsed, |p| {
        p.execute_report(eth(1), U256::ZERO, 0)
    });
    // 0.26 ETH > 25 bps of 100 over a year-long report (APR passes).
    rejects(
        &mut p,
        EtherFiError::RebaseExceedsPositiveCap {
            rewards: m(260),
            cap: m(250),
        },
        |p| p.execute_report(eth(260), U256::ZERO, 365 * DAY_SLOTS),
    );
    // −0.04 ETH is 4 bps of TVL, above the default 3 bps.
    rejects(
        &mut p,
        EtherFiError::NegativeRebaseExceedsCap {
            drop: m(40),
            cap_bps: 3,
        },
        |p| p.execute_report(eth(-40), U256::ZERO, 365 * DAY_SLOTS),
    );
    // Fees above 20 % of the total rewards.
    rejects(
        &mut p,
        EtherFiError::ProtocolFeesTooHigh {
            fees: m(51),
            rewards: eth(200),
        },
        |p| p.execute_report(eth(200), m(51), 365 * DAY_SLOTS),
    );
    // 0.2 ETH in one day is a 7300 bps APR.
    rejects(
        &mut p,
        EtherFiError::TvlChangedTooMuch {
            apr_bps: I256::from(7_300),
            acceptable_bps: 2_000,
        },
        |p| p.execute_report(eth(200), U256::ZERO, DAY_SLOTS),
    );
    // Within every bound: a 3 bps loss (a slashing) lowers the rate.
    let r0 = p.weeth_rate().unwrap();
    p.execute_report(eth(-30), U256::ZERO, 365 * DAY_SLOTS).unwrap();
    inv(&p);
    assert_eq!(p.weeth_rate().unwrap(), U256::from(999_700_000_000_000_000u128));
    assert!(p.weeth_rate().unwrap() < r0);
}

#[test]
fn etherfi_withdrawal_nft_request_finalize_claim() {
    let mut p = etherfi();
    p.deposit_eth(e(100)).unwrap();
    let (id, share) = p.request_withdraw("alice", e(10)).unwrap();
    assert_eq!((id, share), (1, e(10)));
    inv(&p);
    rejects(
        &mut p,
        EtherFiError::RequestNotFinalized {
            id: 1,
            last_finalized: 0,
        },
        |p| p.claim_withdraw("alice", 1),
    );
    rejects(
        &mut p,
        EtherFiError::CannotFinalizeFutureRequests { id: 2, next: 2 },
        |p| p.finalize_requests(2),
    );
    assert_eq!(p.finalize_requests(1).unwrap(), e(10));
    inv(&p);
    rejects(
        &mut p,
        EtherFiError::CannotUndoFinalization {
            id: 0,
            last_finalized: 1,
        },
        |p| p.finalize_requests(0),
    );
    // Rewards after finalisation do not raise the payout: min(amount, share·frozen rate).
    p.execute_report(I256::from(100_000_000_000_000_000i128), U256::ZERO, 365 * DAY_SLOTS)
        .unwrap();
    rejects(&mut p, EtherFiError::NotOwner { id: 1 }, |p| p.claim_withdraw("bob", 1));
    assert_eq!(p.claim_withdraw("alice", 1).unwrap(), e(10));
    inv(&p);
    assert_eq!(p.total_shares, e(90));
    assert_eq!(p.total_pooled_ether().unwrap(), m(90_100));
    rejects(&mut p, EtherFiError::RequestNotFound { id: 1 }, |p| {
        p.claim_withdraw("alice", 1)
    });
    // A loss between request and finalisation lowers the frozen rate: the claim pays less.
    let (id, share) = p.request_withdraw("bob", e(9)).unwrap();
    p.execute_report(I256::from(-27_000_000_000_000_000i128), U256::ZERO, 365 * DAY_SLOTS)
        .unwrap();
    p.finalize_requests(id).unwrap();
    inv(&p);
    let rate = p.frozen_rate_for(id);
    let paid = p.claim_withdraw("bob", id).unwrap();
    assert_eq!(paid, stake_math::mul_div_down(share, rate, WAD).unwrap());
    assert!(paid < e(9));
    inv(&p);
    // The surplus of the escrow went back to the pool.
    assert_eq!(p.nft_eth, U256::ZERO);
    assert_eq!(p.eth_locked_for_withdrawal, U256::ZERO);
    rejects(
        &mut p,
        EtherFiError::InvalidWithdrawalAmount {
            amount: U256::from(999u32),
        },
        |p| p.request_withdraw("c", U256::from(999u32)),
    );
}

#[test]
fn etherfi_deposit_wrap_withdraw_round_trips_never_create_value() {
    // A deterministic sweep over pool states and amounts (xorshift, seed fixed).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut cycles = 0;
    for _ in 0..300 {
        let mut p = etherfi();
        p.deposit_eth(U256::from(next() % 1_000_000 + 1) * U256::from(1_000_000_000_000u64))
            .unwrap();
        // Rewards and losses move the rate away from 1 (each within its bound).
        let tpe = p.total_pooled_ether().unwrap();
        p.fund_validators(tpe).unwrap();
        let bump = stake_math::mul_div_down(tpe, U256::from(next() % 25), U256::from(10_000u32)).unwrap();
        let bump = I256::from(u128::try_from(bump).unwrap() as i128);
        let _ = p.execute_report(bump, U256::ZERO, 365 * DAY_SLOTS);
        p.receive_eth(p.total_value_out_of_lp / U256::from(2u8)).unwrap();
        let amount = U256::from(next() % 10_000_000_000 + 1_000);
        let before = p.clone();
        let Ok(shares) = p.deposit_eth(amount) else {
            continue;
        };
        inv(&p);
        let value = p.amount_for_share(shares).unwrap();
        assert!(value <= amount, "deposit of {amount} is worth {value}");
        // Wrap the whole balance, unwrap it, withdraw what remains.
        let we = p.wrap(value).unwrap();
        assert!(we <= shares);
        let (back, credited) = p.unwrap(we).unwrap();
        assert!(back <= value && credited <= we);
        inv(&p);
        let held = shares - we + credited;
        let claimable = p.amount_for_share(held).unwrap();
        if claimable < U256::from(1_000u32) {
            continue;
        }
        let (id, moved) = p.request_withdraw("u", claimable).unwrap();
        assert!(moved <= held);
        p.finalize_requests(id).unwrap();
        let paid = p.claim_withdraw("u", id).unwrap();
        inv(&p);
        assert!(paid <= amount, "paid {paid} for a deposit of {amount}");
        // The other holders lost nothing: the rate did not fall.
        let r0 = stake_math::mul_div_down(WAD, before.total_pooled_ether().unwrap(), before.total_shares).unwrap();
        let _ = r0;
        // The other holders lose at most the 1 wei by which the frozen `amountPerShareCeil`
        // rate can round a claim up: (P1 + 1)·S0 ≥ P0·S1.
        let (p0, s0) = (before.total_pooled_ether().unwrap(), before.total_shares);
        let (p1, s1) = (p.total_pooled_ether().unwrap(), p.total_shares);
        assert!(
            (p1 + U256::ONE) * s0 >= p0 * s1,
            "holders lost value: {p0}/{s0} -> {p1}/{s1}"
        );
        cycles += 1;
    }
    assert!(cycles > 250, "only {cycles} full cycles ran");
}

#[test]
fn etherfi_weeth_rejections() {
    let mut p = etherfi();
    p.deposit_eth(e(1)).unwrap();
    rejects(&mut p, EtherFiError::ZeroAmount, |p| p.wrap(U256::ZERO));
    rejects(&mut p, EtherFiError::ZeroAmount, |p| p.unwrap(U256::ZERO));
    rejects(
        &mut p,
        EtherFiError::InsufficientWeEth {
            amount: U256::ONE,
            supply: U256::ZERO,
        },
        |p| p.unwrap(U256::ONE),
    );
    rejects(&mut p, EtherFiError::InvalidAmount, |p| p.deposit_eth(U256::ZERO));
}

// ---------------------------------------------------------------------------------------------
// Kelp
// ---------------------------------------------------------------------------------------------

fn kelp() -> Kelp {
    Kelp::new(
        KelpParams {
            protocol_fee_bps: 1_000,
            price_percentage_limit: 2,
            ..KelpParams::default()
        },
        e(1_000_000),
    )
    .unwrap()
}

#[test]
fn kelp_spec_vector_through_the_protocol_state() {
    let mut k = kelp();
    assert_eq!(k.deposit_asset(ETH, e(1000), U256::ZERO).unwrap(), e(1000));
    inv(&k);
    // Restaking rewards bring the ETH to 1010.
    k.report_asset_total(ETH, e(1010)).unwrap();
    let (price, fee) = k.update_rseth_price().unwrap();
    inv(&k);
    assert_eq!(price, U256::from(1_009_000_000_000_000_000u128));
    assert_eq!(fee, U256::from(991_080_277_502_477_700u128));
    assert_eq!(k.treasury_rseth, fee);
    assert_eq!(k.supply, e(1000) + fee);
    // The treasury's rsETH is worth the 1 ETH fee: ⌊fee·price/1e18⌋ = 1 ETH − 1 wei.
    assert_eq!(fee * price / WAD, e(1) - U256::ONE);
    // Minting at the new price: ⌊10.09·1e18/1.009⌋ = 10 rsETH.
    assert_eq!(k.deposit_asset(ETH, m(10_090), U256::ZERO).unwrap(), e(10));
    inv(&k);
    // An LST at 1.05 ETH: ⌊1.009·1.05/1.009⌋ = 1.05 rsETH.
    k.add_asset("stETH", U256::from(1_050_000_000_000_000_000u128), e(100))
        .unwrap();
    assert_eq!(k.deposit_asset("stETH", m(1_009), U256::ZERO).unwrap(), m(1_050));
    inv(&k);
}

#[test]
fn kelp_rejections_leave_state_unchanged() {
    let mut k = kelp();
    k.deposit_asset(ETH, e(1000), U256::ZERO).unwrap();
    // A 3 % jump breaks the 2 % limit (either direction).
    // 1040 ETH: +4 %, the 10 % fee on the 40 ETH gain leaves 1.036 (3 % after flooring).
    k.report_asset_total(ETH, e(1040)).unwrap();
    rejects(
        &mut k,
        KelpError::RsEthPriceExceedsLimit {
            old_price: WAD,
            new_price: U256::from(1_036_000_000_000_000_000u128),
            limit_percent: U256::from(2u8),
        },
        |k| k.update_rseth_price(),
    );
    k.report_asset_total(ETH, e(970)).unwrap();
    rejects(
        &mut k,
        KelpError::RsEthPriceExceedsLimit {
            old_price: WAD,
            new_price: U256::from(970_000_000_000_000_000u128),
            limit_percent: U256::from(2u8),
        },
        |k| k.update_rseth_price(),
    );
    k.report_asset_total(ETH, e(1000)).unwrap();
    rejects(&mut k, KelpError::InvalidAmountToDeposit { amount: U256::ZERO }, |k| {
        k.deposit_asset(ETH, U256::ZERO, U256::ZERO)
    });
    rejects(
        &mut k,
        KelpError::MinimumAmountToReceiveNotMet {
            minted: e(1),
            min_expected: e(2),
        },
        |k| k.deposit_asset(ETH, e(1), e(2)),
    );
    rejects(&mut k, KelpError::AssetNotSupported { asset: "x".into() }, |k| {
        k.deposit_asset("x", e(1), U256::ZERO)
    });
    k.add_asset("ETHx", WAD, e(10)).unwrap();
    rejects(
        &mut k,
        KelpError::MaximumDepositLimitReached {
            total: e(11),
            limit: e(10),
        },
        |k| k.deposit_asset("ETHx", e(11), U256::ZERO),
    );
    rejects(&mut k, KelpError::InvalidAmountToWithdraw { amount: U256::ZERO }, |k| {
        k.initiate_withdrawal("u", ETH, U256::ZERO, 1)
    });
    rejects(
        &mut k,
        KelpError::ExceedAmountToWithdraw {
            expected: e(1001),
            available: e(1000),
        },
        |k| k.initiate_withdrawal("u", ETH, e(1001), 1),
    );
    rejects(&mut k, KelpError::AmountMustBeGreaterThanZero, |k| {
        k.unlock_queue(ETH, 10, 1)
    });
}

#[test]
fn kelp_withdrawal_pays_min_of_expected_and_value_at_unlock_after_the_delay() {
    let mut k = kelp();
    k.params.price_percentage_limit = 0;
    let delay = k.params.withdrawal_delay_blocks;
    k.deposit_asset(ETH, e(1000), U256::ZERO).unwrap();
    k.report_asset_total(ETH, e(1010)).unwrap();
    k.update_rseth_price().unwrap();
    let b0 = 20_000_000;
    // 100 rsETH at 1.009 expect 100.9 ETH.
    let n0 = k.initiate_withdrawal("alice", ETH, e(100), b0).unwrap();
    let n1 = k.initiate_withdrawal("bob", ETH, e(100), b0 + 10).unwrap();
    inv(&k);
    assert_eq!(k.assets[ETH].committed, m(201_800));
    rejects(
        &mut k,
        KelpError::WithdrawalLocked {
            nonce: n0,
            next_locked: 0,
        },
        |k| k.complete_withdrawal("alice", ETH, b0 + delay),
    );
    k.move_to_unstaking_vault(ETH, e(150)).unwrap();
    inv(&k);
    // Inside the delay nothing unlocks (no error, as the contract's loop just stops).
    assert_eq!(
        k.unlock_queue(ETH, 10, b0 + delay - 1).unwrap(),
        (U256::ZERO, U256::ZERO)
    );
    // A 10 % slash of the part held by one node delegator (say 400 of the 1010): −40 ETH.
    k.report_asset_total(ETH, e(970)).unwrap();
    let (price, _) = k.update_rseth_price().unwrap();
    // ⌊970e36/1000.99108…e18⌋
    assert_eq!(price, e(970) * WAD / k.supply);
    inv(&k);
    // Alice unlocks at the lower value; Bob is still inside his delay.
    let (burned, unlocked) = k.unlock_queue(ETH, 10, b0 + delay).unwrap();
    let current = e(100) * price / WAD;
    assert!(current < m(100_900));
    assert_eq!((burned, unlocked), (e(100), current));
    inv(&k);
    assert_eq!(k.assets[ETH].total, e(970) - current);
    rejects(&mut k, KelpError::NoWithdrawalRequest { owner: "carol".into() }, |k| {
        k.complete_withdrawal("carol", ETH, b0 + delay)
    });
    assert_eq!(k.claim("alice", n0, b0 + delay).unwrap(), current);
    inv(&k);
    rejects(
        &mut k,
        KelpError::WithdrawalLocked {
            nonce: n1,
            next_locked: 1,
        },
        |k| k.complete_withdrawal("bob", ETH, b0 + delay + 10),
    );
    // Rewards before Bob's unlock: he still gets only what he expected at request.
    k.report_asset_total(ETH, e(1000)).unwrap();
    k.update_rseth_price().unwrap();
    k.move_to_unstaking_vault(ETH, e(60)).unwrap();
    assert!(k.price > m(1_009));
    let (_, unlocked) = k.unlock_queue(ETH, 10, b0 + delay + 10).unwrap();
    assert_eq!(unlocked, m(100_900));
    assert_eq!(Lrt::claim(&mut k, "bob", n1, b0 + delay + 10).unwrap(), m(100_900));
    inv(&k);
    rejects(&mut k, KelpError::NoPendingWithdrawals, |k| {
        k.unlock_queue(ETH, 10, b0 + delay + 10)
    });
}

// ---------------------------------------------------------------------------------------------
// Puffer
// ---------------------------------------------------------------------------------------------

#[test]
fn puffer_donation_attack_on_an_empty_vault_does_not_pay() {
    let mut v = Puffer::new(0, 0).unwrap();
    let attacker_in = U256::ONE + e(1);
    assert_eq!(v.deposit_assets(U256::ONE).unwrap(), U256::ONE);
    v.receive_eth(e(1)).unwrap(); // the donation
    inv(&v);
    // The victim's 1 ETH buys ⌊1e18·2/(1e18 + 2)⌋ = 1 share instead of 0.
    assert_eq!(v.deposit_assets(e(1)).unwrap(), U256::ONE);
    inv(&v);
    let out = v.redeem(U256::ONE, U256::ONE).unwrap();
    assert_eq!(out.assets, U256::from(666_666_666_666_666_667u128));
    assert!(out.assets < attacker_in, "the attacker must lose");
    inv(&v);
}

#[test]
fn puffer_erc4626_rounding_and_exit_fees() {
    let mut v = Puffer::new(100, 0).unwrap();
    v.deposit_assets(e(100)).unwrap();
    v.receive_eth(e(10)).unwrap(); // T = 110, S = 100
    assert_eq!(v.convert_to_shares(e(11), Rounding::Floor).unwrap(), e(10));
    assert_eq!(v.convert_to_assets(e(10), Rounding::Floor).unwrap(), e(11) - U256::ONE);
    assert_eq!(v.convert_to_assets(e(10), Rounding::Ceil).unwrap(), e(11));
    assert_eq!(v.preview_mint(e(10)).unwrap(), e(11));
    // Mint rounds assets up, deposit rounds shares down: neither path gets a free wei.
    assert_eq!(v.clone().mint(e(10)).unwrap(), e(11));
    assert_eq!(v.clone().deposit_assets(e(11) - U256::ONE).unwrap(), e(10) - U256::ONE);
    // Redeem 10 shares: a = 10.999…9, exit fee ⌈a·1 %⌉ stays in the vault.
    let a = e(11) - U256::ONE;
    let fee = (a + U256::from(99u8)) / U256::from(100u8);
    assert_eq!(v.preview_redeem(e(10)).unwrap(), a - fee);
    let mut w = v.clone();
    let x = w.redeem(e(10), e(50)).unwrap();
    assert_eq!(x.assets, a - fee);
    assert!(w.convert_to_assets(WAD, Rounding::Floor).unwrap() > v.convert_to_assets(WAD, Rounding::Floor).unwrap());
    inv(&w);
    // Withdraw 9.9 ETH burns convertToShares(⌊9.9·1e4/9900⌋ = 10, ceil) shares.
    let mut w = v.clone();
    let x = w.withdraw(m(9_900), e(50)).unwrap();
    assert_eq!(x.shares, v.convert_to_shares(e(10), Rounding::Ceil).unwrap());
    assert_eq!(x.shares, v.preview_withdraw(m(9_900)).unwrap());
    inv(&w);
    // Liquidity bounds the exits once ETH is provisioned to validators.
    v.provision(e(105)).unwrap();
    inv(&v);
    let max = v.max_redeem(e(100)).unwrap();
    rejects(&mut v, PufferError::ExceededMaxRedeem { shares: e(100), max }, |v| {
        v.redeem(e(100), e(100))
    });
    let max = v.max_withdraw(e(100)).unwrap();
    rejects(&mut v, PufferError::ExceededMaxWithdraw { assets: e(6), max }, |v| {
        v.withdraw(e(6), e(100))
    });
    rejects(
        &mut v,
        PufferError::InsufficientLiquidity {
            amount: e(6),
            liquid: e(5),
        },
        |v| v.provision(e(6)),
    );
    assert_eq!(
        Puffer::new(251, 0),
        Err(PufferError::InvalidExitFeeBasisPoints { bps: 251 })
    );
    // A 10 % slash of the validators' ETH.
    v.report_locked_eth(m(94_500));
    assert_eq!(v.total_assets().unwrap(), m(99_500));
    inv(&v);
}

// ---------------------------------------------------------------------------------------------
// Swell
// ---------------------------------------------------------------------------------------------

fn swell() -> Swell {
    let mut s = Swell::new(SwellParams {
        treasury_reward_pct: U256::from(50_000_000_000_000_000u128),
        node_operator_reward_pct: U256::from(50_000_000_000_000_000u128),
        minimum_reprice_time: 86_400,
        maximum_reprice_difference_pct: U256::from(10_000_000_000_000_000u128),
        maximum_reprice_supply_difference_pct: U256::from(10_000_000_000_000_000u128),
    })
    .unwrap();
    s.operators.push(SwellOperator {
        name: "op".into(),
        active_validators: 2,
        rewards: U256::ZERO,
    });
    s
}

#[test]
fn swell_reprice_mints_the_reward_fee_and_moves_the_rate() {
    let mut s = swell();
    assert_eq!(s.deposit_eth(e(100)).unwrap(), e(100));
    inv(&s);
    // 1 ETH of rewards at a 10 % fee: 0.1 ETH = ⌊100·0.1/100.9⌋ rswETH; rate 101/100.099… = 1.009.
    let r = s.reprice(e(100), e(1), e(100), T0).unwrap();
    inv(&s);
    assert_eq!(r.rate, U256::from(1_009_000_000_000_000_000u128));
    assert_eq!(r.node_operator_rswe, U256::from(49_554_013_875_123_885u128));
    assert_eq!(
        r.node_operator_rswe + r.treasury_rswe,
        U256::from(99_108_027_750_247_770u128)
    );
    assert_eq!(s.supply, e(100) + U256::from(99_108_027_750_247_770u128));
    // Deposit at the new rate: ⌊10.09/1.009⌋ = 10.
    assert_eq!(s.deposit_eth(m(10_090)).unwrap(), e(10));
    rejects(
        &mut s,
        SwellError::NotEnoughTimeElapsedForReprice { remaining: 1 },
        |s| s.reprice(e(111), U256::ZERO, s.supply, T0 + 86_399),
    );
    // A 2 % jump breaks the 1 % bound.
    let supply = s.supply;
    let err = s.clone().reprice(e(113), U256::ZERO, supply, T0 + 86_400).unwrap_err();
    assert_eq!(err.code(), 5404);
    rejects(&mut s, err, |s| s.reprice(e(113), U256::ZERO, supply, T0 + 86_400));
    // A supply snapshot 2 % off the live supply.
    let snap = supply * U256::from(98u8) / U256::from(100u8);
    let err = s
        .clone()
        .reprice(m(108_870), U256::ZERO, snap, T0 + 86_400)
        .unwrap_err();
    assert_eq!(err.code(), 5405);
    rejects(&mut s, err, |s| s.reprice(m(108_870), U256::ZERO, snap, T0 + 86_400));
    rejects(&mut s, SwellError::InvalidPreRewardEthReserves, |s| {
        s.reprice(U256::ZERO, U256::ZERO, supply, T0 + 86_400)
    });
    rejects(&mut s, SwellError::InvalidEthDeposit, |s| s.deposit_eth(U256::ZERO));
    rejects(&mut s, SwellError::WithdrawalsUnsupported, |s| {
        Lrt::request_withdrawal(s, "u", e(1), T0)
    });
}

// ---------------------------------------------------------------------------------------------
// Common interface and allocation
// ---------------------------------------------------------------------------------------------

/// Deposit, accrue nothing, withdraw everything through the trait: never more than put in.
fn deposit_and_exit<L: Lrt>(l: &mut L, amount: U256, now: u64, claim_at: u64) -> U256 {
    let minted = l.deposit(amount, now).unwrap();
    l.check_invariants().unwrap();
    assert!(l.tvl(now).unwrap() >= amount);
    assert!(l.rate(now).unwrap() > U256::ZERO);
    let id = l.request_withdrawal("u", minted, now).unwrap();
    l.check_invariants().unwrap();
    let paid = l.claim("u", id, claim_at).unwrap();
    l.check_invariants().unwrap();
    assert!(paid <= amount);
    paid
}

#[test]
fn every_model_round_trips_through_the_common_trait() {
    let mut r = Renzo::new(
        RenzoParams {
            withdraw_buffer_target: e(100),
            cooldown_s: 3_600,
            ..RenzoParams::default()
        },
        T0,
    );
    r.add_operator_delegator("od", 10_000).unwrap();
    r.deposit(e(50), T0).unwrap();
    r.update_prices(T0 + WEEK);
    assert_eq!(deposit_and_exit(&mut r, e(5), T0 + WEEK, T0 + WEEK + 3_600), e(5));

    let mut p = etherfi();
    p.deposit(e(50), 0).unwrap();
    let minted = Lrt::deposit(&mut p, e(5), 0).unwrap();
    let value = p.amount_for_share(minted).unwrap();
    let id = Lrt::request_withdrawal(&mut p, "u", value, 0).unwrap();
    p.finalize_requests(id).unwrap();
    assert_eq!(Lrt::claim(&mut p, "u", id, 0).unwrap(), e(5));
    inv(&p);

    let mut k = kelp();
    k.deposit(e(50), 0).unwrap();
    let minted = Lrt::deposit(&mut k, e(5), 0).unwrap();
    let id = Lrt::request_withdrawal(&mut k, "u", minted, 0).unwrap();
    k.move_to_unstaking_vault(ETH, e(5)).unwrap();
    let delay = k.params.withdrawal_delay_blocks;
    k.unlock_queue(ETH, u64::MAX, delay).unwrap();
    assert_eq!(Lrt::claim(&mut k, "u", id, delay).unwrap(), e(5));
    inv(&k);

    let mut v = Puffer::new(0, 0).unwrap();
    v.deposit(e(50), 0).unwrap();
    assert_eq!(deposit_and_exit(&mut v, e(5), 0, 0), e(5));
    rejects(&mut v, PufferError::UnknownTicket { id: 0 }, |v| {
        Lrt::claim(v, "u", 0, 0)
    });

    let mut s = swell();
    assert_eq!(Lrt::deposit(&mut s, e(5), 0).unwrap(), e(5));
    assert_eq!(Lrt::rate(&s, 0).unwrap(), WAD);
    inv(&s);
}

#[test]
fn allocation_policies_reject_bad_inputs() {
    let c = |n: &str| AllocationCandidate {
        name: n.into(),
        yield_ppm: 0,
        services: vec![],
    };
    let cs = [c("a"), c("b")];
    assert_eq!(
        target_allocations(
            &AllocationPolicy::MaxYield {
                max_per_candidate_bps: 1
            },
            &[],
            e(1)
        ),
        Err(AllocationError::NoCandidates)
    );
    assert_eq!(
        target_allocations(
            &AllocationPolicy::FixedWeights {
                weights_bps: vec![10_000]
            },
            &cs,
            e(1)
        ),
        Err(AllocationError::WeightCountMismatch {
            weights: 1,
            candidates: 2
        })
    );
    assert_eq!(
        target_allocations(
            &AllocationPolicy::FixedWeights {
                weights_bps: vec![5_000, 4_999]
            },
            &cs,
            e(1)
        ),
        Err(AllocationError::WeightsNotWhole { sum: 9_999 })
    );
    assert_eq!(
        target_allocations(
            &AllocationPolicy::MaxYield {
                max_per_candidate_bps: 4_000
            },
            &cs,
            e(10)
        ),
        Err(AllocationError::Infeasible { unallocated: e(2) })
    );
    assert_eq!(
        target_allocations(
            &AllocationPolicy::RiskBudgeted {
                max_service_exposure_bps: 10_001
            },
            &cs,
            e(10)
        ),
        Err(AllocationError::InvalidCap { bps: 10_001 })
    );
    let t = target_allocations(
        &AllocationPolicy::FixedWeights {
            weights_bps: vec![2_500, 7_500],
        },
        &cs,
        e(10),
    )
    .unwrap();
    assert_eq!(t, vec![m(2_500), m(7_500)]);
}
