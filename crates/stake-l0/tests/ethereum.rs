//! Ethereum L0 model: SPEC §14 vectors, hand-computed cases, rejections, conservation.
#![allow(clippy::unwrap_used)] // test helpers: a failed setup step should abort the test

use stake_l0::spec::{self, GWEI_PER_ETH};
use stake_l0::*;
use stake_ledger::{state_hash, AccountId, AssetKind, Ledger};
use stake_math::{u, U256};

const E: u64 = GWEI_PER_ETH;
const EPOCH: u64 = spec::EPOCH_SECONDS;

fn wei(gwei: u128) -> U256 {
    u(gwei) * u(1_000_000_000)
}

struct World {
    ledger: Ledger,
    eth: Ethereum,
}

impl World {
    fn new(params: EthParams) -> Self {
        let mut ledger = Ledger::new();
        ledger.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
        let eth = Ethereum::new(params, &mut ledger, 0).unwrap();
        World { ledger, eth }
    }
    fn with_background(params: EthParams, validators: u64) -> Self {
        let mut w = Self::new(params);
        let others = w.ledger.account("others");
        w.eth
            .add_genesis_validators(&mut w.ledger, validators, "others", others, others, 1_000_000)
            .unwrap();
        w
    }
    fn acct(&mut self, name: &str) -> AccountId {
        self.ledger.account(name)
    }
    fn fund(&mut self, name: &str, eth: u64) -> AccountId {
        let a = self.ledger.account(name);
        let id = self.ledger.asset("ETH").unwrap();
        self.ledger.mint(a, id, wei(eth as u128 * E as u128)).unwrap();
        a
    }
    fn advance_epochs(&mut self, n: u64) -> Vec<L0Event> {
        let to = (self.eth.current_epoch() + n) * EPOCH;
        let ev = self.eth.advance_to(&mut self.ledger, to).unwrap();
        self.check();
        ev
    }
    fn now(&self) -> u64 {
        self.eth.current_epoch() * EPOCH
    }
    fn check(&self) {
        self.eth.check_invariants(&self.ledger).unwrap();
        self.ledger.check_conservation().unwrap();
    }
    fn snapshot(&self) -> ([u8; 32], [u8; 32]) {
        (state_hash(&self.ledger), state_hash(&self.eth))
    }
}

fn no_shard_period() -> EthParams {
    EthParams {
        shard_committee_period: 0,
        el_reward_apr_ppm: 0,
        ..EthParams::default()
    }
}

// ----- pure spec functions (SPEC §14) -----

#[test]
fn base_reward_per_increment_is_357_at_32m_eth() {
    assert_eq!(spec::base_reward_per_increment(32_000_000 * E), 357);
    // isqrt(3.4e16) = 184,390,889; 64e9 // 184,390,889 = 347.
    assert_eq!(spec::base_reward_per_increment(34_000_000 * E), 347);
    assert_eq!(spec::base_reward(32 * E, 32_000_000 * E).unwrap(), 32 * 357);
}

#[test]
fn electra_initial_slashing_of_32_eth_is_7_812_500_gwei() {
    assert_eq!(spec::initial_slashing_penalty(32 * E), 7_812_500);
    assert_eq!(spec::initial_slashing_penalty_pre_electra(32 * E), 1_000_000_000);
    // whistleblower 32e9 // 4096 = 7,812,500; proposer share ·8 // 64 = 976,562.
    assert_eq!(spec::whistleblower_reward(32 * E), (7_812_500, 976_562));
    assert_eq!(spec::initial_slashing_penalty(2048 * E), 500_000_000);
}

#[test]
fn churn_is_256_eth_at_large_stake_and_128_eth_at_small() {
    // 3.4e16 // 65536 = 518,798,828,125 → 518 ETH after rounding to whole ETH.
    assert_eq!(spec::balance_churn_limit(34_000_000 * E), 518 * E);
    assert_eq!(spec::activation_exit_churn_limit(34_000_000 * E), 256 * E);
    // 1e15 // 65536 = 15.26 ETH < 128 ETH floor.
    assert_eq!(spec::balance_churn_limit(1_000_000 * E), 128 * E);
    assert_eq!(spec::activation_exit_churn_limit(1_000_000 * E), 128 * E);
    // 10 M ETH: 152.58 → 152 ETH.
    assert_eq!(spec::activation_exit_churn_limit(10_000_000 * E), 152 * E);
}

#[test]
fn ideal_issuance_apr_is_2_93_percent_at_32m_and_2_85_at_34m() {
    // 357 · 82,125 · 1e6 // 1e9 = 29,318 ppm; 347 · 82,125 // 1000 = 28,497 ppm.
    assert_eq!(spec::ideal_issuance_apr_ppm(32_000_000 * E), 29_318);
    assert_eq!(spec::ideal_issuance_apr_ppm(34_000_000 * E), 28_497);
}

#[test]
fn flag_rewards_at_full_participation_sum_to_the_base_reward() {
    let br = spec::base_reward(32 * E, 32_000_000 * E).unwrap(); // 11,424
    let a = 32_000_000;
    let s = spec::flag_reward(br, 14, a, a).unwrap();
    let t = spec::flag_reward(br, 26, a, a).unwrap();
    let h = spec::flag_reward(br, 14, a, a).unwrap();
    assert_eq!((s, t, h), (2_499, 4_641, 2_499));
    // sync 11,424·2//64 = 357, proposer 11,424·8//64 = 1,428: 9,639 + 357 + 1,428 = 11,424.
    assert_eq!(
        s + t + h + spec::flag_penalty(br, 2).unwrap() + spec::flag_penalty(br, 8).unwrap(),
        br
    );
    // Missed source + target: 2,499 + 4,641.
    assert_eq!(
        spec::flag_penalty(br, 14).unwrap() + spec::flag_penalty(br, 26).unwrap(),
        7_140
    );
}

#[test]
fn correlation_penalty_uses_the_electra_per_increment_form() {
    // 1,000 validators × 32 ETH slashed at TAB 32 M ETH: adjusted = min(3 · 3.2e13, 3.2e16) = 9.6e13;
    // per increment = 9.6e13 // 32,000,000 = 3,000,000; penalty = 3e6 · 32 = 96,000,000 gwei.
    assert_eq!(
        spec::correlation_penalty(32 * E, 32_000 * E, 32_000_000 * E).unwrap(),
        96_000_000
    );
    // One 32 ETH slashing at 34 M ETH: 9.6e10 // 34,000,000 = 2,823 → · 32 = 90,336 gwei
    // (the pre-Electra order, eb·adjusted//TAB rounded to whole ETH, would give 0).
    assert_eq!(
        spec::correlation_penalty(32 * E, 32 * E, 34_000_000 * E).unwrap(),
        90_336
    );
    // A third of the stake slashed: the whole effective balance.
    assert_eq!(
        spec::correlation_penalty(32 * E, 12_000_000 * E, 34_000_000 * E).unwrap(),
        32 * E
    );
}

#[test]
fn inactivity_scores_and_penalties_follow_altair() {
    assert_eq!(spec::next_inactivity_score(0, false, true).unwrap(), 4);
    assert_eq!(spec::next_inactivity_score(4, false, false).unwrap(), 0);
    assert_eq!(spec::next_inactivity_score(40, false, false).unwrap(), 28);
    assert_eq!(spec::next_inactivity_score(40, true, true).unwrap(), 39);
    assert_eq!(spec::next_inactivity_score(40, true, false).unwrap(), 23);
    // 32e9 · 4 // (4 · 2^24) = 1,907; at score 340: 32e9 · 340 // 67,108,864 = 162,124.
    assert_eq!(spec::inactivity_penalty(32 * E, 4).unwrap(), 1_907);
    assert_eq!(spec::inactivity_penalty(32 * E, 340).unwrap(), 162_124);
}

#[test]
fn effective_balance_moves_only_past_the_hysteresis_band() {
    let max = 32 * E;
    assert_eq!(spec::updated_effective_balance(31_750_000_000, 32 * E, max), 32 * E);
    assert_eq!(spec::updated_effective_balance(31_749_999_999, 32 * E, max), 31 * E);
    assert_eq!(spec::updated_effective_balance(33_300_000_000, 32 * E, max), 32 * E);
    let max2 = 2048 * E;
    assert_eq!(spec::updated_effective_balance(33_250_000_000, 32 * E, max2), 32 * E);
    assert_eq!(spec::updated_effective_balance(33_250_000_001, 32 * E, max2), 33 * E);
}

#[test]
fn el_reward_per_epoch_is_exact_in_wei() {
    // 32e18 · 6,000 · 384 // (1e6 · 31,536,000) = 2,337,899,543,378 wei (≈ 0.6 % · 32 ETH / 82,125).
    assert_eq!(spec::el_reward_per_epoch_wei(32 * E, 6_000), 2_337_899_543_378);
}

// ----- queues -----

#[test]
fn exit_epoch_is_at_least_five_ahead_and_withdrawable_256_later() {
    let mut w = World::with_background(no_shard_period(), 1_000);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 10, "op", me, me, 1_000_000)
        .unwrap();
    w.advance_epochs(3);
    let ev = w.eth.request_exits(me, Some("op"), 1, w.now()).unwrap();
    assert_eq!(
        ev,
        vec![L0Event::ExitInitiated {
            cohort: 1,
            count: 1,
            exit_epoch: 8,
            withdrawable_epoch: 264,
            reason: ExitReason::Voluntary
        }]
    );
    let s = w.eth.summary_by_credentials(me);
    assert_eq!((s.active, s.exiting), (9, 1));
    // Exits are paid by the sweep once withdrawable: the full 32 ETH + rewards.
    w.advance_epochs(270);
    let s = w.eth.summary_by_credentials(me);
    assert_eq!((s.active, s.exiting, s.exited_unwithdrawn, s.withdrawn), (9, 0, 0, 1));
    w.check();
}

#[test]
fn an_exit_surge_of_one_million_eth_waits_about_17_4_days_at_34m_eth() {
    let w = World::with_background(EthParams::default(), 1_062_500); // 34 M ETH
    assert_eq!(w.eth.total_active_balance_gwei(), 34_000_000 * E);
    // earliest = 0 + 5 with 256 ETH to consume; the other 999,744 ETH need
    // (999,744 − 1) // 256 + 1 = 3,906 more epochs → exit epoch 3,911;
    // 3,911 · 384 = 1,501,824 s = 17.382 days.
    let q = w.eth.exit_surge_wait_days(1_000_000);
    assert_eq!(
        q,
        QueueWait {
            epochs: 3_911,
            seconds: 1_501_824,
            days_milli: 17_382
        }
    );
    assert_eq!(w.eth.exit_queue_wait().epochs, 5);
    assert_eq!(w.eth.exit_queue_wait_seconds(), 5 * 384);
}

#[test]
fn deposits_wait_in_the_queue_under_the_activation_churn() {
    let mut w = World::with_background(EthParams::default(), 1_062_500);
    let me = w.fund("me", 3_200);
    w.eth.deposit(&mut w.ledger, me, 100, "op", me, me, 0).unwrap();
    w.check();
    // 3,200 ETH / 256 ETH per epoch = 12.5 → 13 epochs.
    assert_eq!(w.eth.activation_queue_wait().epochs, 13);
    assert_eq!(w.eth.activation_queue_wait_seconds(), 13 * 384);
    let ev = w.advance_epochs(1);
    // Epoch 0: 8 deposits of 32 ETH fit in 256 ETH.
    assert!(ev.contains(&L0Event::DepositsApplied {
        cohort: 1,
        count: 8,
        epoch: 0
    }));
    let ev = w.advance_epochs(12);
    let applied: u64 = ev
        .iter()
        .map(|e| match e {
            L0Event::DepositsApplied { count, .. } => *count,
            _ => 0,
        })
        .sum();
    assert_eq!(applied, 92);
    assert!(w.eth.pending_deposits().is_empty());
    // Deposit applied at 0 → eligible at 2 → activation scheduled at epoch 3 for epoch 8.
    let s = w.eth.summary_by_credentials(me);
    assert_eq!(s.active, 8 * 6); // applied at epochs 0..=5 → active from 8..=13; now epoch 13.
    assert_eq!(s.pending, 52);
    assert!(s.balance_wei > wei(3_200 * E as u128));
}

// ----- slashing -----

#[test]
fn slashing_3_of_100_splits_the_cohort_into_97_and_3() {
    let mut w = World::with_background(no_shard_period(), 1_000);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 100, "op", me, me, 1_000_000)
        .unwrap();
    let ev = w.eth.slash(&mut w.ledger, "op", 3, 0).unwrap();
    w.check();
    let counts: Vec<(u64, bool)> = w
        .eth
        .groups()
        .iter()
        .filter(|g| g.cohort == 1)
        .map(|g| (g.count, g.slashed))
        .collect();
    assert_eq!(counts, vec![(97, false), (3, true)]);
    let slashed = w.eth.groups().iter().find(|g| g.slashed).unwrap().clone();
    assert_eq!(slashed.balance_gwei, 32 * E - 7_812_500);
    assert_eq!(slashed.exit_epoch, 5);
    // withdrawable = max(5 + 256, 0 + 8192).
    assert_eq!(slashed.withdrawable_epoch, 8_192);
    assert!(ev.contains(&L0Event::Slashed {
        cohort: 1,
        count: 3,
        initial_penalty_gwei: 7_812_500,
        whistleblower_reward_gwei: 7_812_500,
        correlation_epoch: 4_096,
    }));
    let s = w.eth.summary_by_operator("op");
    assert_eq!((s.active, s.exiting, s.slashed), (97, 3, 3));
    assert_eq!(w.eth.total_slashings_gwei(), 96 * E);
}

#[test]
fn the_correlation_penalty_applies_at_withdrawable_minus_4096() {
    let mut w = World::with_background(no_shard_period(), 1_000);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 100, "op", me, me, 1_000_000)
        .unwrap();
    w.eth.slash(&mut w.ledger, "op", 10, 0).unwrap();
    w.advance_epochs(4_096);
    let before = w.eth.groups().iter().find(|g| g.slashed).unwrap().balance_gwei;
    assert_eq!(
        w.eth
            .groups()
            .iter()
            .find(|g| g.slashed)
            .unwrap()
            .effective_balance_gwei,
        31 * E
    );
    let ev = w.advance_epochs(1);
    // TAB = 1,090 active × 32 ETH = 34,880 ETH (the 10 slashed exited at epochs 5–7, 4 per epoch
    // under the 128 ETH churn). Σ slashings = 320 ETH → adjusted 960 ETH;
    // 960e9 // 34,880 = 27,522,935 per increment. The slashed validators paid source + target
    // penalties for 4,096 epochs, so their effective balance is now 31 ETH: 27,522,935 · 31.
    let penalties: Vec<(u64, u64)> = ev
        .iter()
        .filter_map(|e| match e {
            L0Event::CorrelationPenalty {
                count, penalty_gwei, ..
            } => Some((*count, *penalty_gwei)),
            _ => None,
        })
        .collect();
    assert_eq!(penalties, vec![(4, 853_210_985), (4, 853_210_985), (2, 853_210_985)]);
    let after = w.eth.groups().iter().find(|g| g.slashed).unwrap().balance_gwei;
    assert!(before - after >= 853_210_985);
    // The slashing leaves the window 8,192 epochs after it happened.
    w.advance_epochs(4_100);
    assert_eq!(w.eth.total_slashings_gwei(), 0);
    assert_eq!(w.eth.summary_by_operator("op").withdrawn, 10);
}

// ----- inactivity leak -----

#[test]
fn losing_finality_leaks_offline_validators_with_growing_scores() {
    let params = EthParams {
        finality_lost: vec![FinalityLoss {
            from_epoch: 10,
            to_epoch: 100,
        }],
        el_reward_apr_ppm: 0,
        ..EthParams::default()
    };
    let mut w = World::with_background(params, 1_000);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 10, "offline", me, me, 0)
        .unwrap();
    let ev = w.advance_epochs(15);
    // Finalized stays at 9 from epoch 10; leak when (cur − 1) − 9 > 4, i.e. from epoch 15.
    assert!(ev.iter().all(|e| !matches!(
        e,
        L0Event::EpochProcessed {
            inactivity_leak: true,
            ..
        }
    )));
    let score = |w: &World| w.eth.groups().iter().find(|g| !g.online).unwrap().inactivity_score;
    assert_eq!(score(&w), 0);
    let ev = w.advance_epochs(85);
    let leaks: Vec<bool> = ev
        .iter()
        .filter_map(|e| match e {
            L0Event::EpochProcessed { inactivity_leak, .. } => Some(*inactivity_leak),
            _ => None,
        })
        .collect();
    assert_eq!(leaks, vec![true; 85]);
    // +4 in each of the 85 leaking epochs 15..=99.
    assert_eq!(score(&w), 340);
    // Online validators earn no attestation rewards in a leak, only the block-level stream.
    let ev = w.advance_epochs(1);
    assert!(ev.iter().any(|e| matches!(
        e,
        L0Event::EpochProcessed {
            inactivity_leak: false,
            ..
        }
    )));
    // Out of the leak: +4 − 16.
    assert_eq!(score(&w), 328);
}

#[test]
fn inactivity_penalty_in_a_leak_is_exact_for_an_offline_group() {
    let params = EthParams {
        finality_lost: vec![FinalityLoss {
            from_epoch: 1,
            to_epoch: 1_000,
        }],
        el_reward_apr_ppm: 0,
        ..EthParams::default()
    };
    let mut w = World::with_background(params, 1_000);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 1, "offline", me, me, 0)
        .unwrap();
    // Leak from epoch 6 ((6 − 1) − 0 > 4). Run to the end of epoch 6.
    w.advance_epochs(6);
    let b0 = w.eth.groups().iter().find(|g| !g.online).unwrap().balance_gwei;
    w.advance_epochs(1); // epoch 6
    let g = w.eth.groups().iter().find(|g| !g.online).unwrap().clone();
    assert_eq!(g.inactivity_score, 4);
    // TAB = 1,001 × 32 ETH = 32,032 ETH; isqrt(3.2032e13) = 5,659,681; brpi = 64e9 // that = 11,308;
    // br = 361,856. Per epoch: sync 11,308 + source 79,156 + target 147,004 + inactivity 1,907.
    assert_eq!(spec::base_reward(32 * E, 32_032 * E).unwrap(), 361_856);
    assert_eq!(b0 - g.balance_gwei, 11_308 + 79_156 + 147_004 + 1_907);
}

// ----- sweep -----

#[test]
fn the_sweep_pays_at_most_512_validators_per_epoch() {
    let mut w = World::new(no_shard_period());
    let a = w.acct("a");
    let b = w.acct("b");
    w.eth
        .add_genesis_validators(&mut w.ledger, 300, "opa", a, a, 1_000_000)
        .unwrap();
    w.eth
        .add_genesis_validators(&mut w.ledger, 700, "opb", b, b, 1_000_000)
        .unwrap();
    let ev = w.advance_epochs(1);
    // TAB 32,000 ETH: brpi = 64e9 // 5,656,854 = 11,313; br = 362,016; block stream per validator =
    // sync 11,313 + proposer 45,252 = 56,565 gwei, swept in epoch 0 for A (300 ≤ 512);
    // the sweep reaches validator 212 of B.
    let withdrawals: Vec<&L0Event> = ev.iter().filter(|e| matches!(e, L0Event::Withdrawal { .. })).collect();
    assert_eq!(
        withdrawals,
        vec![&L0Event::Withdrawal {
            cohort: 0,
            to: a,
            count: 300,
            amount_wei: wei(300 * 56_565),
            full: false
        }]
    );
    let ev = w.advance_epochs(1);
    let paid: Vec<(u32, u64)> = ev
        .iter()
        .filter_map(|e| match e {
            L0Event::Withdrawal { cohort, count, .. } => Some((*cohort, *count)),
            _ => None,
        })
        .collect();
    // Epoch 1: B's remaining 488 validators, then A again (24 more fit, but A is not finished).
    assert_eq!(paid, vec![(1, 700)]);
    assert_eq!(w.ledger.balance(a, w.ledger.asset("ETH").unwrap()), wei(300 * 56_565));
}

// ----- execution-layer rewards -----

#[test]
fn el_rewards_are_paid_per_epoch_to_the_fee_recipient() {
    let params = EthParams {
        el_reward_apr_ppm: 6_000,
        ..EthParams::default()
    };
    let mut w = World::with_background(params, 1_000);
    let me = w.acct("me");
    let fees = w.acct("fees");
    w.eth
        .add_genesis_validators(&mut w.ledger, 10, "op", me, fees, 1_000_000)
        .unwrap();
    w.advance_epochs(10);
    let id = w.ledger.asset("ETH").unwrap();
    assert_eq!(w.ledger.balance(fees, id), u(10 * 10 * 2_337_899_543_378));
    assert_eq!(
        w.eth.summary_by_credentials(me).el_rewards_wei,
        u(10 * 10 * 2_337_899_543_378)
    );
}

// ----- a year at 32 M ETH -----

#[test]
fn a_year_of_rewards_at_32m_eth_matches_the_ideal_2_93_percent() {
    let mut w = World::with_background(
        EthParams {
            el_reward_apr_ppm: 0,
            ..EthParams::default()
        },
        999_900,
    );
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 100, "op", me, me, 1_000_000)
        .unwrap();
    assert_eq!(w.eth.total_active_balance_gwei(), 32_000_000 * E);
    w.advance_epochs(spec::EPOCHS_PER_YEAR);
    assert_eq!(w.eth.total_active_balance_gwei(), 32_000_000 * E);
    let s = w.eth.summary_by_credentials(me);
    let earned = s.balance_wei + s.withdrawn_wei - wei(100 * 32 * E as u128);
    // Epoch 0 pays only the block stream (357 + 1,428); epochs 1..=82,124 pay the full base reward
    // 11,424: 1,785 + 82,124 · 11,424 = 938,186,361 gwei per validator.
    assert_eq!(earned, wei(100 * 938_186_361));
    // 938,186,361 / 32e9 = 2.93183 %: within 0.001 % of the ideal 357 · 82,125 / 1e9.
    let apr_ppm = 938_186_361u64 * 1_000_000 / (32 * E);
    assert_eq!(apr_ppm, 29_318);
}

// ----- conservation over a year with every kind of event -----

#[test]
fn conservation_holds_after_every_epoch_of_a_busy_year() {
    let params = EthParams {
        finality_lost: vec![FinalityLoss {
            from_epoch: 20_000,
            to_epoch: 20_100,
        }],
        shard_committee_period: 256,
        ..EthParams::default()
    };
    let mut w = World::with_background(params, 100_000);
    let me = w.fund("me", 32 * 200);
    let lsd = w.acct("lsd:withdrawals");
    let vault = w.acct("lsd:el_vault");
    w.eth
        .deposit_with(&mut w.ledger, me, 100, "opA", lsd, vault, 990_000, false, 0)
        .unwrap();
    w.eth
        .deposit_with(&mut w.ledger, me, 50, "opB", lsd, vault, 950_000, true, 0)
        .unwrap();
    let mut epoch = 0;
    while epoch < spec::EPOCHS_PER_YEAR {
        w.advance_epochs(1);
        epoch += 1;
        let now = w.now();
        match epoch {
            1_000 => {
                w.eth.slash(&mut w.ledger, "opA", 5, now).unwrap();
            }
            2_000 => {
                w.eth.request_exits(lsd, Some("opB"), 20, now).unwrap();
            }
            3_000 => {
                w.eth.deposit(&mut w.ledger, me, 50, "opA", lsd, vault, now).unwrap();
            }
            _ => {}
        }
        w.check();
    }
    let s = w.eth.summary_by_credentials(lsd);
    assert_eq!(s.slashed, 5);
    assert_eq!(s.withdrawn, 25);
    assert_eq!(s.active + s.pending + s.exiting + s.exited_unwithdrawn, 175);
    // Cohorts stay compact: 0x01 groups re-merge once their activation is long past and the sweep
    // has equalised balances; 0x02 groups keep distinct (compounding) balances.
    assert!(w.eth.groups().len() < 20, "groups: {:#?}", w.eth.groups());
}

// ----- rejections: exact error, unchanged state -----

#[test]
fn slashing_an_unknown_operator_is_rejected_without_change() {
    let mut w = World::with_background(no_shard_period(), 100);
    let before = w.snapshot();
    let err = w.eth.slash(&mut w.ledger, "nobody", 1, 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::UnknownOperator {
            operator: "nobody".to_string()
        }
    );
    assert_eq!(stake_ledger::Reject::code(&err), 2000);
    assert_eq!(w.snapshot(), before);
}

#[test]
fn slashing_more_validators_than_exist_is_rejected_without_change() {
    let mut w = World::with_background(no_shard_period(), 100);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 100, "op", me, me, 1_000_000)
        .unwrap();
    let before = w.snapshot();
    let err = w.eth.slash(&mut w.ledger, "op", 101, 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::SlashExceedsValidators {
            operator: "op".to_string(),
            requested: 101,
            available: 100
        }
    );
    assert_eq!(stake_ledger::Reject::code(&err), 2001);
    assert_eq!(w.snapshot(), before);
}

#[test]
fn exiting_more_validators_than_are_active_is_rejected_without_change() {
    let mut w = World::with_background(no_shard_period(), 100);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 10, "op", me, me, 1_000_000)
        .unwrap();
    w.eth.slash(&mut w.ledger, "op", 2, 0).unwrap();
    let before = w.snapshot();
    let err = w.eth.request_exits(me, None, 9, 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::ExitsExceedActive {
            credentials: me,
            operator: None,
            requested: 9,
            available: 8
        }
    );
    assert_eq!(stake_ledger::Reject::code(&err), 2002);
    assert_eq!(w.snapshot(), before);
}

#[test]
fn exits_before_the_shard_committee_period_are_rejected() {
    let mut w = World::with_background(EthParams::default(), 100);
    let me = w.acct("me");
    w.eth
        .add_genesis_validators(&mut w.ledger, 10, "op", me, me, 1_000_000)
        .unwrap();
    let before = w.snapshot();
    let err = w.eth.request_exits(me, Some("op"), 1, 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::ExitsExceedActive {
            credentials: me,
            operator: Some("op".to_string()),
            requested: 1,
            available: 0
        }
    );
    assert_eq!(w.snapshot(), before);
    w.advance_epochs(256);
    assert!(w.eth.request_exits(me, Some("op"), 1, w.now()).is_ok());
}

#[test]
fn depositing_without_funds_is_rejected_without_change() {
    let mut w = World::with_background(no_shard_period(), 100);
    let me = w.fund("me", 63);
    let before = w.snapshot();
    let err = w.eth.deposit(&mut w.ledger, me, 2, "op", me, me, 0).unwrap_err();
    assert_eq!(
        err,
        L0Error::InsufficientFunds {
            account: "me".to_string(),
            balance: wei(63 * E as u128),
            required: wei(64 * E as u128)
        }
    );
    assert_eq!(stake_ledger::Reject::code(&err), 2003);
    assert_eq!(w.snapshot(), before);
}

#[test]
fn operations_at_a_time_not_yet_advanced_to_are_rejected() {
    let mut w = World::with_background(no_shard_period(), 100);
    let me = w.fund("me", 64);
    let before = w.snapshot();
    let err = w.eth.deposit(&mut w.ledger, me, 1, "op", me, me, 400).unwrap_err();
    assert_eq!(
        err,
        L0Error::NotAdvanced {
            now: 400,
            epoch_at_now: 1,
            current_epoch: 0
        }
    );
    let err = w.eth.slash(&mut w.ledger, "others", 0, 0).unwrap_err();
    assert_eq!(err, L0Error::ZeroAmount { what: "count" });
    assert_eq!(w.snapshot(), before);
    w.advance_epochs(2);
    let before = w.snapshot();
    let err = w.eth.advance_to(&mut w.ledger, 10).unwrap_err();
    assert_eq!(
        err,
        L0Error::TimeInPast {
            now: 10,
            current_time: 768
        }
    );
    assert_eq!(w.snapshot(), before);
}

#[test]
fn the_chain_trait_stakes_whole_validators_only() {
    let mut w = World::with_background(no_shard_period(), 100);
    let me = w.fund("me", 64);
    let before = w.snapshot();
    let chain: &mut dyn Chain = &mut w.eth;
    let err = chain
        .stake(&mut w.ledger, me, wei(33 * E as u128), "op", me, 0)
        .unwrap_err();
    assert_eq!(
        err,
        L0Error::NotWholeValidators {
            amount: wei(33 * E as u128),
            unit: wei(32 * E as u128)
        }
    );
    assert_eq!(w.snapshot(), before);
    let chain: &mut dyn Chain = &mut w.eth;
    chain
        .stake(&mut w.ledger, me, wei(64 * E as u128), "op", me, 0)
        .unwrap();
    assert_eq!(chain.summary_by_credentials(me).pending, 2);
    assert_eq!(chain.native_symbol(), "ETH");
    assert_eq!(chain.unbonding_seconds(), 261 * 384);
    w.check();
}

#[test]
fn advancing_twice_gives_the_same_state_as_advancing_once() {
    let mk = || {
        let mut w = World::with_background(no_shard_period(), 5_000);
        let me = w.fund("me", 320);
        w.eth.deposit(&mut w.ledger, me, 10, "op", me, me, 0).unwrap();
        w
    };
    let mut a = mk();
    let mut b = mk();
    a.eth.advance_to(&mut a.ledger, 500 * EPOCH).unwrap();
    b.eth.advance_to(&mut b.ledger, 200 * EPOCH + 5).unwrap();
    b.eth.advance_to(&mut b.ledger, 500 * EPOCH).unwrap();
    assert_eq!(a.snapshot(), b.snapshot());
}

/// A deposit or genesis batch that would take the chain's stake past uint64 gwei (the beacon
/// state's balance type) is refused whole, before any ETH moves, and the state is unchanged.
#[test]
fn stake_past_uint64_gwei_is_refused_and_changes_nothing() {
    let mut w = World::with_background(no_shard_period(), 100);
    let alice = w.fund("alice", 64);
    let before = w.snapshot();
    // ⌊(2⁶⁴ − 1)/32e9⌋ = 576,460,752 validators fit in uint64 gwei; one more does not.
    let count = 576_460_753;
    let expected = |count: u64| L0Error::InvalidParameter {
        name: "count",
        value: format!("{count} validators: the total stake would exceed uint64 gwei (about 18.4 billion ETH)"),
    };
    let now = w.now();
    let r = w.eth.deposit(&mut w.ledger, alice, count, "alice", alice, alice, now);
    assert_eq!(r.unwrap_err(), expected(count));
    assert_eq!(w.snapshot(), before);
    let r = w
        .eth
        .add_genesis_validators(&mut w.ledger, count - 100, "others", alice, alice, 1_000_000);
    assert_eq!(r.unwrap_err(), expected(count - 100));
    assert_eq!(w.snapshot(), before);
    w.check();
    // What fits is accepted: two validators from alice's 64 ETH.
    w.eth
        .deposit(&mut w.ledger, alice, 2, "alice", alice, alice, now)
        .unwrap();
    w.check();
}

#[test]
fn exitable_counts_only_validators_past_the_shard_committee_period() {
    let mut w = World::with_background(EthParams::default(), 100);
    let me = w.fund("me", 5 * 32);
    w.eth
        .add_genesis_validators(&mut w.ledger, 10, "op", me, me, 1_000_000)
        .unwrap();
    w.advance_epochs(256);
    // Five more, activated after the first ten passed their 256 epochs: active but young.
    let now = w.now();
    w.eth.deposit(&mut w.ledger, me, 5, "op", me, me, now).unwrap();
    w.advance_epochs(20);
    let s = w.eth.summary_by_credentials(me);
    assert_eq!(s.active, 15, "{s:?}");
    assert_eq!(w.eth.exitable(me, Some("op")), 10);
    assert_eq!(w.eth.exitable(me, Some("other")), 0);
    // Asking for every active validator fails whole; asking for the exitable ones does not.
    let before = w.snapshot();
    let now = w.now();
    let err = w.eth.request_exits(me, Some("op"), 15, now).unwrap_err();
    assert_eq!(
        err,
        L0Error::ExitsExceedActive {
            credentials: me,
            operator: Some("op".to_string()),
            requested: 15,
            available: 10
        }
    );
    assert_eq!(w.snapshot(), before);
    w.eth.request_exits(me, Some("op"), 10, now).unwrap();
    assert_eq!(w.eth.exitable(me, Some("op")), 0);
}
