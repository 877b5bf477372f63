//! Exchange-rate LSTs (SPEC §4.3): cbETH-style commission and queue, frxETH/sfrxETH reward cycles.

#![allow(clippy::unwrap_used, clippy::result_large_err)] // test helpers unwrap; errors carry values

use stake_ledger::{state_hash, AccountId, Ledger, Reject};
use stake_lst::exchange_rate::*;
use stake_math::{u, U256};

const E: u128 = 1_000_000_000_000_000_000;
const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

fn eth(n: u128) -> U256 {
    u(n * E)
}

struct Cb {
    l: Ledger,
    x: ExchangeRateLst,
    alice: AccountId,
    bob: AccountId,
    beacon: AccountId,
}

impl Cb {
    fn new(params: ExchangeRateParams) -> Self {
        let mut l = Ledger::new();
        let x = ExchangeRateLst::new(&mut l, params).unwrap();
        let alice = l.account("alice");
        let bob = l.account("bob");
        let beacon = l.account("l0:beacon");
        l.mint(alice, x.eth, eth(1_000)).unwrap();
        l.mint(bob, x.eth, eth(1_000)).unwrap();
        Cb {
            l,
            x,
            alice,
            bob,
            beacon,
        }
    }
    fn check(&self) {
        self.x.check_invariants(&self.l).unwrap();
    }
    /// alice deposits 64 ETH; two validators funded and moved into L0 by the "engine".
    fn staked(params: ExchangeRateParams) -> Self {
        let mut c = Cb::new(params);
        let alice = c.alice;
        c.x.deposit(&mut c.l, alice, eth(64), T0).unwrap();
        let plan = c.x.deposit_plan();
        assert_eq!(plan, vec![(c.x.params.operator.clone(), 2)]);
        c.x.on_deposited(&mut c.l, &plan, T0).unwrap();
        let st = c.x.staging_account();
        c.l.transfer(st, c.beacon, c.x.eth, eth(64)).unwrap();
        c.check();
        c
    }
    fn rejected(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError>,
        want: ExchangeRateError,
    ) {
        let before = (state_hash(&self.l), state_hash(&self.x));
        let err = f(self).unwrap_err();
        assert_eq!(err, want);
        assert_eq!(err.code(), want.code());
        assert_eq!((state_hash(&self.l), state_hash(&self.x)), before);
        self.check();
    }
}

fn report(validators: u64, balance: U256, exited: u64) -> ExchangeRateReport {
    ExchangeRateReport {
        validators,
        balance_wei: balance,
        exited_validators: exited,
    }
}

#[test]
fn cbeth_takes_a_quarter_of_rewards_as_tokens_to_the_treasury() {
    let mut c = Cb::staked(ExchangeRateParams::cbeth());
    // 64 ETH staked earn 0.1 ETH: fee = 0.025 ETH; fee tokens = ⌊0.025e18·64e18/(64.1e18 − 0.025e18)⌋
    // = 24970737417089348; rate = ⌊64.1e18·1e18/(64e18 + fee tokens)⌋ = 1.001171875e18 (= 1 + 0.075/64).
    let ev =
        c.x.report(&mut c.l, &report(2, u(64_100_000_000_000_000_000), 0), T0)
            .unwrap();
    assert_eq!(
        ev,
        vec![ExchangeRateEvent::Reported {
            time: T0,
            rewards: u(100_000_000_000_000_000),
            fee_eth: u(25_000_000_000_000_000),
            fee_tokens: u(24_970_737_417_089_348),
            withdrawals: U256::ZERO,
            rate_wad: u(1_001_171_875_000_000_000),
        }]
    );
    assert_eq!(c.l.balance(c.x.accounts.treasury, c.x.token), u(24_970_737_417_089_348));
    // Deposits now mint at the new rate: ⌊1e18·1e18/1.001171875e18⌋.
    let bob = c.bob;
    c.x.deposit(&mut c.l, bob, eth(1), T0).unwrap();
    assert_eq!(c.l.balance(bob, c.x.token), u(998_829_496_683_573_936));
    c.check();
}

#[test]
fn presets_carry_their_published_commissions() {
    let pct = |p: ExchangeRateParams| (p.symbol, p.commission_wad / u(E / 100));
    assert_eq!(pct(ExchangeRateParams::cbeth()), ("cbETH".into(), u(25)));
    assert_eq!(pct(ExchangeRateParams::ankreth()), ("ankrETH".into(), u(10)));
    assert_eq!(pct(ExchangeRateParams::wbeth()), ("wBETH".into(), u(10)));
    assert_eq!(pct(ExchangeRateParams::stakewise()), ("osETH".into(), u(5)));
    assert_eq!(pct(ExchangeRateParams::unieth()), ("uniETH".into(), u(10)));
}

#[test]
fn rate_moves_beyond_the_limits_are_rejected() {
    let mut c = Cb::staked(ExchangeRateParams::cbeth());
    // 66 ETH: rewards 2, fee 0.5, rate = 65.5/64 ⇒ +2.34 % > 0.5 %.
    let r = report(2, eth(66), 0);
    c.rejected(
        |c| c.x.report(&mut c.l, &r, T0),
        ExchangeRateError::RateChangeTooLarge {
            old_rate: eth(1),
            new_rate: u(1_023_437_500_000_000_000),
            max_change: u(5_000_000_000_000_000),
        },
    );
    // 60 ETH: rate 60/64 = 0.9375 ⇒ −6.25 % > 5 %.
    let r = report(2, eth(60), 0);
    c.rejected(
        |c| c.x.report(&mut c.l, &r, T0),
        ExchangeRateError::RateChangeTooLarge {
            old_rate: eth(1),
            new_rate: u(937_500_000_000_000_000),
            max_change: u(50_000_000_000_000_000),
        },
    );
    // A 3 % loss passes and carries no fee.
    let ev =
        c.x.report(&mut c.l, &report(2, u(62_080_000_000_000_000_000), 0), T0)
            .unwrap();
    assert!(matches!(ev[0], ExchangeRateEvent::Reported { fee_tokens, .. } if fee_tokens == U256::ZERO));
    assert_eq!(c.x.rate_wad(), u(970_000_000_000_000_000));
    c.check();
}

#[test]
fn withdrawals_wait_for_exits_and_then_pay_at_the_request_rate() {
    let mut c = Cb::staked(ExchangeRateParams {
        unbonding_delay_s: DAY,
        ..ExchangeRateParams::cbeth()
    });
    let alice = c.alice;
    c.x.report(&mut c.l, &report(2, eth(64), 0), T0).unwrap();
    c.x.request_withdrawal(&mut c.l, alice, eth(16), T0).unwrap();
    assert_eq!(c.x.unfinalized_wei, eth(16));
    // Buffer is empty: nothing finalises, one exit is needed.
    assert!(c.x.process_withdrawals(&mut c.l, T0 + DAY).unwrap().is_empty());
    assert_eq!(c.x.validators_to_exit(), vec![("coinbase".to_string(), 1)]);
    assert_eq!(c.x.queue_length_seconds(5 * DAY), 5 * DAY);
    c.x.on_exits_requested(&[("coinbase".into(), 1)], T0).unwrap();
    assert!(c.x.validators_to_exit().is_empty());
    // L0 exits the validator: 32 ETH swept to the withdrawal vault; the report moves them to the buffer.
    let (beacon, vault) = (c.beacon, c.x.withdrawal_account());
    c.l.transfer(beacon, vault, c.x.eth, eth(32)).unwrap();
    c.x.report(&mut c.l, &report(2, eth(32), 1), T0 + DAY).unwrap();
    assert_eq!(c.x.buffered_wei, eth(32));
    assert_eq!(c.x.rate_wad(), eth(1));
    // Unbonding: not before T0 + 1 day.
    assert!(c.x.process_withdrawals(&mut c.l, T0 + DAY - 1).unwrap().is_empty());
    assert_eq!(
        c.x.process_withdrawals(&mut c.l, T0 + DAY).unwrap(),
        vec![ExchangeRateEvent::WithdrawalFinalized { id: 0, eth: eth(16) }]
    );
    c.check();
    let before = c.l.balance(alice, c.x.eth);
    c.x.claim(&mut c.l, alice, 0, T0 + DAY).unwrap();
    assert_eq!(c.l.balance(alice, c.x.eth), before + eth(16));
    // 16 ETH remain in the buffer for the next deposit plan... not enough for a validator.
    assert!(c.x.deposit_plan().is_empty());
    c.check();
}

#[test]
fn every_exchange_rate_rejection_names_its_values_and_changes_nothing() {
    let mut c = Cb::staked(ExchangeRateParams {
        min_deposit_wei: eth(1),
        ..ExchangeRateParams::cbeth()
    });
    let (alice, bob) = (c.alice, c.bob);
    c.rejected(
        |c| c.x.deposit(&mut c.l, alice, U256::ZERO, T0),
        ExchangeRateError::ZeroAmount,
    );
    c.rejected(
        |c| c.x.deposit(&mut c.l, alice, eth(1) - U256::ONE, T0),
        ExchangeRateError::BelowMinimumDeposit {
            amount: eth(1) - U256::ONE,
            minimum: eth(1),
        },
    );
    c.rejected(
        |c| c.x.request_withdrawal(&mut c.l, alice, U256::ZERO, T0),
        ExchangeRateError::ZeroAmount,
    );
    c.rejected(
        |c| c.x.request_withdrawal(&mut c.l, bob, eth(1), T0),
        ExchangeRateError::InsufficientTokens {
            balance: U256::ZERO,
            required: eth(1),
        },
    );
    c.x.request_withdrawal(&mut c.l, alice, eth(1), T0).unwrap();
    c.rejected(
        |c| c.x.claim(&mut c.l, alice, 7, T0),
        ExchangeRateError::UnknownRequest { id: 7 },
    );
    c.rejected(
        |c| c.x.claim(&mut c.l, bob, 0, T0),
        ExchangeRateError::NotRequestOwner { id: 0 },
    );
    c.rejected(
        |c| c.x.claim(&mut c.l, alice, 0, T0),
        ExchangeRateError::NotFinalized { id: 0 },
    );
    c.rejected(
        |c| c.x.on_deposited(&mut c.l, &[("coinbase".into(), 1)], T0),
        ExchangeRateError::PlanTooLarge {
            requested: 1,
            available: 0,
        },
    );
    c.rejected(
        |c| c.x.on_exits_requested(&[("coinbase".into(), 3)], T0),
        ExchangeRateError::ExitsTooLarge {
            requested: 3,
            active: 2,
        },
    );
    let r = report(3, eth(96), 0);
    c.rejected(
        |c| c.x.report(&mut c.l, &r, T0),
        ExchangeRateError::InvalidReport {
            reason: "validators 3 outside [0, 2]".into(),
        },
    );
    let r = report(2, eth(64), 3);
    c.rejected(
        |c| c.x.report(&mut c.l, &r, T0),
        ExchangeRateError::InvalidReport {
            reason: "exited validators 3 outside [0, 2]".into(),
        },
    );
    c.x.report(&mut c.l, &report(2, eth(64), 0), T0).unwrap();
    let r = report(2, eth(64), 0);
    c.rejected(
        |c| c.x.report(&mut c.l, &r, T0 + DAY - 1),
        ExchangeRateError::ReportTooEarly {
            now: T0 + DAY - 1,
            earliest: T0 + DAY,
        },
    );
    // Finalise from a deposit, claim, then a second claim.
    c.x.deposit(&mut c.l, bob, eth(2), T0).unwrap();
    c.x.process_withdrawals(&mut c.l, T0).unwrap();
    c.x.request_withdrawal(&mut c.l, alice, eth(1), T0).unwrap();
    c.x.process_withdrawals(&mut c.l, T0).unwrap();
    c.x.claim(&mut c.l, alice, 1, T0).unwrap();
    c.rejected(
        |c| c.x.claim(&mut c.l, alice, 1, T0),
        ExchangeRateError::AlreadyClaimed { id: 1 },
    );
    c.check();

    // Rounding to zero at extreme rates.
    let mut c = Cb::new(ExchangeRateParams {
        initial_rate_wad: u(E) * u(E),
        ..ExchangeRateParams::cbeth()
    });
    let alice = c.alice;
    c.rejected(
        |c| c.x.deposit(&mut c.l, alice, U256::ONE, T0),
        ExchangeRateError::ZeroMint { amount: U256::ONE },
    );
    let mut c = Cb::new(ExchangeRateParams {
        initial_rate_wad: U256::ONE,
        ..ExchangeRateParams::cbeth()
    });
    let alice = c.alice;
    c.x.deposit(&mut c.l, alice, U256::ONE, T0).unwrap();
    c.rejected(
        |c| c.x.request_withdrawal(&mut c.l, alice, u(E - 1), T0),
        ExchangeRateError::ZeroWithdrawal { tokens: u(E - 1) },
    );
}

// ----- frxETH / sfrxETH -----

const L: u64 = 604_800;
const T: u64 = 2_800 * L; // a cycle boundary

struct Fx {
    l: Ledger,
    f: FrxEth,
    alice: AccountId,
    bob: AccountId,
}

impl Fx {
    fn new() -> Self {
        let mut l = Ledger::new();
        let f = FrxEth::new(
            &mut l,
            FrxEthParams {
                start_time: T,
                ..Default::default()
            },
        )
        .unwrap();
        let alice = l.account("alice");
        let bob = l.account("bob");
        l.mint(alice, f.eth, eth(1_000)).unwrap();
        l.mint(bob, f.eth, eth(1_000)).unwrap();
        Fx { l, f, alice, bob }
    }
    fn check(&self) {
        self.f.check_invariants(&self.l).unwrap();
    }
    fn rejected(
        &mut self,
        op: impl FnOnce(&mut Self) -> Result<Vec<FrxEthEvent>, ExchangeRateError>,
        want: ExchangeRateError,
    ) {
        let before = (state_hash(&self.l), state_hash(&self.f));
        let err = op(self).unwrap_err();
        assert_eq!(err, want);
        assert_eq!(err.code(), want.code());
        assert_eq!((state_hash(&self.l), state_hash(&self.f)), before);
        self.check();
    }
}

#[test]
fn frxeth_is_minted_one_to_one_and_funds_validators_in_32_eth_chunks() {
    let mut x = Fx::new();
    let alice = x.alice;
    x.f.set_withhold_ratio(u(100_000), T).unwrap(); // 10 %
    x.f.submit(&mut x.l, alice, eth(70), T).unwrap();
    assert_eq!(x.l.balance(alice, x.f.frx), eth(70));
    assert_eq!(x.f.current_withheld_wei, eth(7));
    // (70 − 7)/32 = 1 validator.
    assert_eq!(x.f.deposit_plan(), vec![("frax".to_string(), 1)]);
    x.rejected(
        |x| x.f.on_deposited(&mut x.l, &[("frax".into(), 2)], T),
        ExchangeRateError::PlanTooLarge {
            requested: 2,
            available: 1,
        },
    );
    x.f.on_deposited(&mut x.l, &[("frax".into(), 1)], T).unwrap();
    assert_eq!(x.f.minter_wei, eth(38));
    assert_eq!(x.l.balance(x.f.staging_account(), x.f.eth), eth(32));
    x.check();
}

#[test]
fn sfrxeth_unlocks_a_cycle_reward_linearly_and_is_half_unlocked_at_mid_cycle() {
    let mut x = Fx::new();
    let alice = x.alice;
    // At T the first cycle has ended (end = T): deposit syncs (0 rewards, next end T + L), 100 shares.
    let ev = x.f.submit_and_deposit(&mut x.l, alice, eth(100), T).unwrap();
    assert!(ev.contains(&FrxEthEvent::NewRewardsCycle {
        end: (T + L) as u32,
        rewards: U256::ZERO
    }));
    assert_eq!(x.l.balance(alice, x.f.sfrx), eth(100));
    // 7 ETH of rewards arrive: 10 % fee ⇒ 0.7 frxETH to the treasury, 6.3 into the vault.
    let wv = x.f.withdrawal_account();
    x.l.mint(wv, x.f.eth, eth(7)).unwrap();
    let ev = x.f.distribute_rewards(&mut x.l, T + 10).unwrap();
    assert_eq!(
        ev,
        vec![FrxEthEvent::RewardsDistributed {
            amount: eth(7),
            fee: u(700_000_000_000_000_000),
            to_vault: u(6_300_000_000_000_000_000)
        }]
    );
    // Not yet part of totalAssets: the cycle has not been synced.
    assert_eq!(x.f.total_assets(T + L - 1).unwrap(), eth(100));
    x.rejected(
        |x| x.f.sync_rewards(&x.l, T + L - 1),
        ExchangeRateError::SyncTooEarly {
            now: T + L - 1,
            cycle_end: T + L,
        },
    );
    x.f.sync_rewards(&x.l, T + L).unwrap();
    assert_eq!(
        (x.f.last_reward_amount, x.f.rewards_cycle_end),
        (u(6_300_000_000_000_000_000), (T + 2 * L) as u32)
    );
    // Mid-cycle: 100 + ⌊6.3·(L/2)/L⌋ = 103.15; price per share 1.0315.
    let mid = T + L + L / 2;
    assert_eq!(x.f.total_assets(mid).unwrap(), u(103_150_000_000_000_000_000));
    assert_eq!(x.f.rate_wad(&x.l, mid).unwrap(), u(1_031_500_000_000_000_000));
    // One second later: +⌊6.3e18/604800⌋.
    assert_eq!(
        x.f.total_assets(mid + 1).unwrap(),
        u(103_150_000_000_000_000_000) + u(6_300_000_000_000_000_000 / 604_800)
    );
    // Rounding directions at mid-cycle (1.0315 frxETH per share).
    assert_eq!(x.f.convert_to_shares(&x.l, U256::ONE, mid).unwrap(), U256::ZERO);
    assert_eq!(x.f.preview_mint(&x.l, U256::ONE, mid).unwrap(), u(2));
    assert_eq!(x.f.preview_withdraw(&x.l, U256::ONE, mid).unwrap(), U256::ONE);
    assert_eq!(x.f.convert_to_assets(&x.l, U256::ONE, mid).unwrap(), U256::ONE);
    x.rejected(
        |x| x.f.vault_deposit(&mut x.l, alice, U256::ONE, mid),
        ExchangeRateError::ZeroShares,
    );
    x.rejected(
        |x| x.f.vault_redeem(&mut x.l, alice, U256::ZERO, mid),
        ExchangeRateError::ZeroAssets,
    );
    // Redeem 10 shares: ⌊10·103.15/100⌋ = 10.315 frxETH.
    let ev = x.f.vault_redeem(&mut x.l, alice, eth(10), mid).unwrap();
    assert_eq!(
        ev,
        vec![FrxEthEvent::VaultWithdraw {
            owner: alice,
            assets: u(10_315_000_000_000_000_000),
            shares: eth(10)
        }]
    );
    assert_eq!(x.f.stored_total_assets, u(89_685_000_000_000_000_000));
    x.check();
    // After the cycle everything is unlocked: 89.685 + 6.3 = 95.985 for 90 shares.
    assert_eq!(x.f.total_assets(T + 2 * L).unwrap(), u(95_985_000_000_000_000_000));
    // Mint rounds up, withdraw rounds up in shares.
    let bob = x.bob;
    x.f.submit(&mut x.l, bob, eth(10), mid).unwrap();
    x.f.vault_mint(&mut x.l, bob, U256::ONE, mid).unwrap();
    assert_eq!(x.l.balance(bob, x.f.frx), eth(10) - u(2));
    x.f.vault_withdraw(&mut x.l, alice, U256::ONE, mid).unwrap();
    x.check();
}

#[test]
fn every_frx_rejection_names_its_values_and_changes_nothing() {
    let mut x = Fx::new();
    let (alice, bob) = (x.alice, x.bob);
    x.rejected(
        |x| x.f.submit(&mut x.l, alice, U256::ZERO, T),
        ExchangeRateError::ZeroAmount,
    );
    x.rejected(
        |x| x.f.distribute_rewards(&mut x.l, T),
        ExchangeRateError::NothingToDistribute,
    );
    x.rejected(
        |x| x.f.set_withhold_ratio(u(1_000_001), T),
        ExchangeRateError::WithholdRatioTooHigh { ratio: u(1_000_001) },
    );
    x.rejected(
        |x| x.f.sync_rewards(&x.l, 1 << 32),
        ExchangeRateError::TimestampOverflow { now: 1 << 32 },
    );
    x.f.submit_and_deposit(&mut x.l, alice, eth(5), T).unwrap();
    x.rejected(
        |x| x.f.vault_redeem(&mut x.l, bob, eth(1), T),
        ExchangeRateError::InsufficientTokens {
            balance: U256::ZERO,
            required: eth(1),
        },
    );
    // submit_and_deposit is atomic: bob has no ETH beyond 1,000.
    let before = (state_hash(&x.l), state_hash(&x.f));
    assert_eq!(
        x.f.submit_and_deposit(&mut x.l, bob, eth(1_001), T).unwrap_err().code(),
        1004
    );
    assert_eq!((state_hash(&x.l), state_hash(&x.f)), before);
    x.check();
}

#[test]
fn exchange_rate_and_frx_states_round_trip_through_json_with_the_same_hash() {
    let c = Cb::staked(ExchangeRateParams::wbeth());
    let back: ExchangeRateLst = serde_json::from_str(&serde_json::to_string(&c.x).unwrap()).unwrap();
    assert_eq!(state_hash(&back), state_hash(&c.x));
    let x = Fx::new();
    let back: FrxEth = serde_json::from_str(&serde_json::to_string(&x.f).unwrap()).unwrap();
    assert_eq!(state_hash(&back), state_hash(&x.f));
}
