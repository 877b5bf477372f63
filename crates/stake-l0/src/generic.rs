//! A parameterised proof-of-stake chain (SPEC §3.2): Solana, Sui, Polkadot, Cosmos-style, or a
//! fixed APR.
//!
//! Stake is an amount per (operator, owner). Each epoch boundary, in this order:
//!
//! 1. **Rewards.** The chain's [`RewardModel`] gives the epoch's pool for the whole network
//!    (Solana's inflation of the capitalization, Sui's subsidy plus gas fees, Polkadot's era
//!    payout by staking ratio, Cosmos' per-block `x/mint` provisions less the community tax;
//!    see [`crate::chains`]). A position earns `⌊pool · points / network_points⌋` with
//!    `points = stake · performance_ppm` (vote credits; 0 while its operator is jailed) and
//!    `network_points` adding the stake outside the model (`external_stake`, at
//!    `external_performance_ppm`). The operator keeps `⌊r·commission/1e4⌋`, the staker gets
//!    `⌊r·(1e4 − commission)/1e4⌋` compounded into the stake (the dust of both floors is not
//!    minted, as Solana's `commission_split`). MEV tips (`mev_tips_per_epoch`) are shared by the
//!    same points with the operator's MEV commission. The `FixedApr` model instead pays each
//!    position `⌊bonded · apr_bps · epoch_seconds / (1e4 · 31,536,000)⌋`.
//! 2. **Warm-up.** Stake delegated in epoch `e` activates at the end of `e` when
//!    `activation_delay_epochs = 1` (Solana, Sui, Polkadot) or at once when 0 (Cosmos). With a
//!    `stake_activation_rate_ppm` (Solana: 9 % since 2024, 25 % before) at most that fraction of
//!    the effective stake activates per epoch, shared pro rata (down) among activating positions;
//!    the same limit holds cool-down.
//! 3. **Unbonding.** A request leaves the stake at once; with `unbond_earns_current_epoch` it
//!    still earns the epoch it was made in (Solana's deactivating stake, Polkadot's era
//!    exposure). It is paid after `unbonding_epochs` boundaries once fully cooled down.
//!
//! Slashing burns an offence-dependent fraction (ppb) of an operator's bonded, activating and
//! unbonding stake (down per position); double-signing can tombstone the operator and downtime
//! jails it for some epochs (Cosmos). Chains without stake slashing (Solana, Sui) reject it.
//! The module account always holds Σ bonded + Σ activating + Σ unbonding. Exact parity with those
//! chains' code is not a goal; their published parameters and formulas are.
//!
//! Model choices, stated: rewards compound at the epoch boundary (a Cosmos delegator, or an LST,
//! restaking daily); the activation limit counts the model's activating stake only; Polkadot's
//! era payout is shared by stake rather than by era points (equal points per validator).

use crate::chains::{
    cosmos_block_provision, cosmos_bonded_ratio, cosmos_next_inflation, npos_era_payout, solana_epoch_rewards,
    solana_inflation_rate, solana_years_wad, sui_subsidy_step, CosmosMint, NposCurve, SolanaInflation, SuiSubsidy,
    JULIAN_YEAR_SECONDS,
};
use crate::error::L0Error;
use crate::{Chain, CredentialsSummary, L0Event};
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Ledger};
use stake_math::{mul_div_down, u, Checked, SECONDS_PER_YEAR, U256, WAD};

const PPM: u64 = 1_000_000;
const PPB: u64 = 1_000_000_000;
const BPS_U: u64 = 10_000;
/// An upper bound on the blocks the Cosmos minter steps through in one epoch.
pub const MAX_BLOCKS_PER_EPOCH: u64 = 1_000_000;

/// How a chain pays its stakers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RewardModel {
    /// A fixed APR on each position's own stake (no network share).
    FixedApr {
        /// APR in basis points.
        apr_bps: u64,
    },
    /// Solana's inflation schedule over the capitalization.
    Solana(SolanaInflation),
    /// Sui's stake subsidy plus gas fees.
    Sui(SuiSubsidy),
    /// Polkadot's NPoS curve by staking ratio.
    Polkadot(NposCurve),
    /// Cosmos `x/mint`, block by block.
    Cosmos(CosmosMint),
    /// No native rewards.
    NoRewards,
}

/// One validator (operator) of a chain: its cut and its vote-credit performance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorParams {
    /// Operator name.
    pub name: String,
    /// Commission on inflation rewards (bps).
    pub commission_bps: u64,
    /// Commission on MEV tips (bps).
    pub mev_commission_bps: u64,
    /// Vote credits earned as a share of the maximum (ppm).
    pub performance_ppm: u64,
}

/// Stake slashing rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashingParams {
    /// Whether the chain slashes stake at all (Solana and Sui do not).
    pub enabled: bool,
    /// Fraction burned for double-signing / equivocation (ppb).
    pub double_sign_ppb: u64,
    /// Fraction burned for downtime (ppb).
    pub downtime_ppb: u64,
    /// Epochs a downtime offender stays jailed (earning nothing).
    pub downtime_jail_epochs: u64,
    /// Whether a double-signer is jailed for good (Cosmos' tombstone).
    pub tombstone_on_double_sign: bool,
}

impl SlashingParams {
    fn none() -> Self {
        SlashingParams {
            enabled: false,
            double_sign_ppb: 0,
            downtime_ppb: 0,
            downtime_jail_epochs: 0,
            tombstone_on_double_sign: false,
        }
    }
}

/// What an operator is slashed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Offence {
    /// Double-signing / equivocation: `double_sign_ppb`, tombstone if configured.
    DoubleSign,
    /// Downtime: `downtime_ppb`, jailed for `downtime_jail_epochs`.
    Downtime,
    /// An explicit fraction (ppb), e.g. Polkadot's `min(3k/n, 1)²`; no jailing.
    Fraction {
        /// Fraction burned (ppb).
        ppb: u64,
    },
}

/// Parameters of a generic chain; every field settable, presets carry mainnet values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericParams {
    /// Chain name; the module account is `<name>:staked`, commissions go to
    /// `<name>:commission:<operator>`.
    pub name: String,
    /// Native asset symbol (registered by the caller).
    pub asset_symbol: String,
    /// Decimals of the native asset (SOL 9, SUI 9, DOT 10, ATOM 6).
    pub decimals: u8,
    /// Epoch (era) length (seconds).
    pub epoch_seconds: u64,
    /// Reward model.
    pub reward: RewardModel,
    /// Unbonding period in epochs.
    pub unbonding_epochs: u64,
    /// Epoch boundaries before new stake is effective (0 or 1).
    pub activation_delay_epochs: u64,
    /// Largest fraction of the effective stake that may warm up (or cool down) per epoch (ppm;
    /// 0 = no limit).
    pub stake_activation_rate_ppm: u64,
    /// Whether stake still earns the epoch in which its unbonding was requested.
    pub unbond_earns_current_epoch: bool,
    /// Slashing rules.
    pub slashing: SlashingParams,
    /// Total supply (capitalization / issuance) at genesis (base units).
    pub supply: U256,
    /// Stake outside the model at genesis (base units); it shares the pool and compounds.
    pub external_stake: U256,
    /// Performance of the stake outside the model (ppm).
    pub external_performance_ppm: u64,
    /// Commission of operators not listed in `operators` (bps).
    pub default_commission_bps: u64,
    /// MEV tips paid to stake each epoch, network-wide (base units).
    pub mev_tips_per_epoch: U256,
    /// MEV commission of operators not listed (bps).
    pub default_mev_commission_bps: u64,
    /// Listed operators.
    pub operators: Vec<OperatorParams>,
}

fn units(n: u128, decimals: u32) -> U256 {
    u(n) * U256::from(10u8).pow(decimals)
}

impl GenericParams {
    /// A chain paying a fixed APR on each position, without commission, network or slashing
    /// fraction beyond `slash_ppb` (double-signing).
    pub fn fixed_apr(
        name: &str,
        symbol: &str,
        decimals: u8,
        epoch_seconds: u64,
        apr_bps: u64,
        unbonding_epochs: u64,
        slash_ppb: u64,
    ) -> Self {
        GenericParams {
            name: name.to_string(),
            asset_symbol: symbol.to_string(),
            decimals,
            epoch_seconds,
            reward: RewardModel::FixedApr { apr_bps },
            unbonding_epochs,
            activation_delay_epochs: 0,
            stake_activation_rate_ppm: 0,
            unbond_earns_current_epoch: false,
            slashing: SlashingParams {
                enabled: true,
                double_sign_ppb: slash_ppb,
                ..SlashingParams::none()
            },
            supply: U256::ZERO,
            external_stake: U256::ZERO,
            external_performance_ppm: PPM,
            default_commission_bps: 0,
            mev_tips_per_epoch: U256::ZERO,
            default_mev_commission_bps: 0,
            operators: Vec::new(),
        }
    }

    /// Solana mainnet: 432,000-slot epochs of 400 ms (172,800 s); inflation 8 % tapering 15 % a
    /// year to 1.5 %; 9 % warm-up/cool-down per epoch; one-epoch unbonding; no stake slashing;
    /// ~600 M SOL capitalization with ~400 M staked; 5 % commission; ~8,000 SOL of Jito tips per
    /// epoch at 8 % MEV commission.
    pub fn solana() -> Self {
        GenericParams {
            name: "solana".to_string(),
            asset_symbol: "SOL".to_string(),
            decimals: 9,
            epoch_seconds: 172_800,
            reward: RewardModel::Solana(SolanaInflation::default()),
            unbonding_epochs: 1,
            activation_delay_epochs: 1,
            stake_activation_rate_ppm: 90_000,
            unbond_earns_current_epoch: true,
            slashing: SlashingParams::none(),
            supply: units(600_000_000, 9),
            external_stake: units(400_000_000, 9),
            external_performance_ppm: PPM,
            default_commission_bps: 500,
            mev_tips_per_epoch: units(8_000, 9),
            default_mev_commission_bps: 800,
            operators: Vec::new(),
        }
    }

    /// Sui mainnet: daily epochs; the genesis subsidy schedule (1 M SUI per epoch, −10 % every
    /// 30 epochs; set `distribution_per_epoch` to today's amount) plus gas fees; stake active
    /// from the next epoch; withdrawals paid at the epoch's end; no stake slashing; 10 B SUI
    /// supply with ~8 B staked; 2 % commission.
    pub fn sui() -> Self {
        GenericParams {
            name: "sui".to_string(),
            asset_symbol: "SUI".to_string(),
            decimals: 9,
            epoch_seconds: 86_400,
            reward: RewardModel::Sui(SuiSubsidy::default()),
            unbonding_epochs: 1,
            activation_delay_epochs: 1,
            stake_activation_rate_ppm: 0,
            unbond_earns_current_epoch: false,
            slashing: SlashingParams::none(),
            supply: units(10_000_000_000, 9),
            external_stake: units(8_000_000_000, 9),
            external_performance_ppm: PPM,
            default_commission_bps: 200,
            mev_tips_per_epoch: U256::ZERO,
            default_mev_commission_bps: 0,
            operators: Vec::new(),
        }
    }

    /// Polkadot mainnet: 1-day eras; the NPoS curve (2.5 %–10 %, ideal 75 %, falloff 5 %);
    /// 28-era unbonding; nominations effective from the next era; equivocation slashes
    /// `min(3k/n, 1)²` (one offender of 297 validators: 102,030 ppb, the double-sign default);
    /// ~1.6 B DOT issuance with ~850 M staked; 3 % commission.
    pub fn polkadot() -> Self {
        GenericParams {
            name: "polkadot".to_string(),
            asset_symbol: "DOT".to_string(),
            decimals: 10,
            epoch_seconds: 86_400,
            reward: RewardModel::Polkadot(NposCurve::default()),
            unbonding_epochs: 28,
            activation_delay_epochs: 1,
            stake_activation_rate_ppm: 0,
            unbond_earns_current_epoch: true,
            slashing: SlashingParams {
                enabled: true,
                double_sign_ppb: 102_030,
                downtime_ppb: 0,
                downtime_jail_epochs: 0,
                tombstone_on_double_sign: false,
            },
            supply: units(1_600_000_000, 10),
            external_stake: units(850_000_000, 10),
            external_performance_ppm: PPM,
            default_commission_bps: 300,
            mev_tips_per_epoch: U256::ZERO,
            default_mev_commission_bps: 0,
            operators: Vec::new(),
        }
    }

    /// Cosmos-style (Cosmos Hub defaults, 6 decimals): daily accounting of 5-second blocks under
    /// `x/mint` (7 %–20 %, goal 67 % bonded, 13 % rate change, 2 % community tax); 21-day
    /// unbonding; 5 % double-sign slash with tombstone, 0.01 % downtime slash with a one-epoch
    /// jail; ~480 M supply with ~300 M bonded; 5 % commission.
    pub fn cosmos(symbol: &str) -> Self {
        GenericParams {
            name: "cosmos".to_string(),
            asset_symbol: symbol.to_string(),
            decimals: 6,
            epoch_seconds: 86_400,
            reward: RewardModel::Cosmos(CosmosMint::default()),
            unbonding_epochs: 21,
            activation_delay_epochs: 0,
            stake_activation_rate_ppm: 0,
            unbond_earns_current_epoch: false,
            slashing: SlashingParams {
                enabled: true,
                double_sign_ppb: 50_000_000,
                downtime_ppb: 100_000,
                downtime_jail_epochs: 1,
                tombstone_on_double_sign: true,
            },
            supply: units(480_000_000, 6),
            external_stake: units(300_000_000, 6),
            external_performance_ppm: PPM,
            default_commission_bps: 500,
            mev_tips_per_epoch: U256::ZERO,
            default_mev_commission_bps: 0,
            operators: Vec::new(),
        }
    }

    /// A preset by chain name (`solana`, `sui`, `polkadot`, `cosmos`), or `None`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "solana" => Some(Self::solana()),
            "sui" => Some(Self::sui()),
            "polkadot" => Some(Self::polkadot()),
            "cosmos" => Some(Self::cosmos("ATOM")),
            _ => None,
        }
    }

    fn operator(&self, name: &str) -> OperatorParams {
        self.operators
            .iter()
            .find(|o| o.name == name)
            .cloned()
            .unwrap_or(OperatorParams {
                name: name.to_string(),
                commission_bps: self.default_commission_bps,
                mev_commission_bps: self.default_mev_commission_bps,
                performance_ppm: PPM,
            })
    }

    /// Checks every parameter's domain.
    ///
    /// Specification: fails with [`L0Error::InvalidParameter`] naming the first of:
    /// `epoch_seconds == 0`, `activation_delay_epochs > 1`, a rate above 1e6 ppm, a fraction above
    /// 1e9 ppb, a commission above 1e4 bps, a performance above 1e6 ppm, a Cosmos minter whose
    /// epoch holds no block or more than [`MAX_BLOCKS_PER_EPOCH`], or a Sui period of 0.
    pub fn validate(&self) -> Result<(), L0Error> {
        let bad = |name: &'static str, v: &dyn ToString| {
            Err(L0Error::InvalidParameter {
                name,
                value: v.to_string(),
            })
        };
        if self.epoch_seconds == 0 {
            return bad("epoch_seconds", &0);
        }
        if self.activation_delay_epochs > 1 {
            return bad("activation_delay_epochs", &self.activation_delay_epochs);
        }
        if self.stake_activation_rate_ppm > PPM {
            return bad("stake_activation_rate_ppm", &self.stake_activation_rate_ppm);
        }
        if self.external_performance_ppm > PPM {
            return bad("external_performance_ppm", &self.external_performance_ppm);
        }
        if self.slashing.double_sign_ppb > PPB {
            return bad("double_sign_ppb", &self.slashing.double_sign_ppb);
        }
        if self.slashing.downtime_ppb > PPB {
            return bad("downtime_ppb", &self.slashing.downtime_ppb);
        }
        if self.default_commission_bps > BPS_U {
            return bad("default_commission_bps", &self.default_commission_bps);
        }
        if self.default_mev_commission_bps > BPS_U {
            return bad("default_mev_commission_bps", &self.default_mev_commission_bps);
        }
        for o in &self.operators {
            check_operator(o)?;
        }
        match &self.reward {
            RewardModel::Cosmos(m) => {
                let blocks = cosmos_blocks_per_epoch(m, self.epoch_seconds);
                if blocks == 0 || blocks > MAX_BLOCKS_PER_EPOCH {
                    return bad("blocks_per_year", &m.blocks_per_year);
                }
                if m.goal_bonded_wad == U256::ZERO || m.goal_bonded_wad > WAD {
                    return bad("goal_bonded", &m.goal_bonded_wad);
                }
                if m.community_tax_wad > WAD {
                    return bad("community_tax", &m.community_tax_wad);
                }
            }
            RewardModel::Sui(s) if s.period_epochs == 0 || s.decrease_rate_bps > BPS_U => {
                return bad("stake_subsidy_period_epochs", &s.period_epochs);
            }
            RewardModel::Solana(s) if s.taper_wad >= WAD => return bad("taper", &s.taper_wad),
            _ => {}
        }
        Ok(())
    }
}

fn check_operator(o: &OperatorParams) -> Result<(), L0Error> {
    if o.commission_bps > BPS_U {
        return Err(L0Error::InvalidParameter {
            name: "commission_bps",
            value: o.commission_bps.to_string(),
        });
    }
    if o.mev_commission_bps > BPS_U {
        return Err(L0Error::InvalidParameter {
            name: "mev_commission_bps",
            value: o.mev_commission_bps.to_string(),
        });
    }
    if o.performance_ppm > PPM {
        return Err(L0Error::InvalidParameter {
            name: "performance_ppm",
            value: o.performance_ppm.to_string(),
        });
    }
    Ok(())
}

/// Blocks of `x/mint` in one epoch: `⌊epoch_seconds · blocks_per_year / 31,557,600⌋`.
pub fn cosmos_blocks_per_epoch(m: &CosmosMint, epoch_seconds: u64) -> u64 {
    let b = u128::from(epoch_seconds) * u128::from(m.blocks_per_year) / u128::from(JULIAN_YEAR_SECONDS);
    u64::try_from(b).unwrap_or(u64::MAX)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    operator: String,
    credentials: AccountId,
    bonded: U256,
    activating: U256,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Unbonding {
    operator: String,
    credentials: AccountId,
    amount: U256,
    /// Part still cooling down under the activation limit.
    cooling: U256,
    release_epoch: u64,
    requested_epoch: u64,
}

/// A parameterised chain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenericChain {
    params: GenericParams,
    genesis_time: u64,
    asset: AssetId,
    account: AccountId,
    epoch: u64,
    positions: Vec<Position>,
    unbonding: Vec<Unbonding>,
    withdrawn: Vec<(AccountId, String, U256)>,
    supply: U256,
    external_stake: U256,
    /// Cosmos: the minter's inflation (wad); Sui: the subsidy per epoch.
    rate_state: U256,
    /// Sui: distributions made.
    counter: u64,
    /// Jailed operators and the first epoch they earn again (`u64::MAX`: tombstoned).
    jailed: Vec<(String, u64)>,
    commission_paid: U256,
    rewards_paid: U256,
    last_pool: U256,
}

/// Reward of one epoch for the whole network and how it was made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Pool {
    stakers: U256,
    minted_to_supply: U256,
}

impl GenericChain {
    /// A chain at genesis; looks up its native asset and creates `<name>:staked`.
    ///
    /// Specification:
    /// - fails with [`L0Error::Ledger`] if the asset is not registered;
    /// - fails as [`GenericParams::validate`].
    pub fn new(params: GenericParams, ledger: &mut Ledger, genesis_time: u64) -> Result<Self, L0Error> {
        params.validate()?;
        let asset = ledger.asset(&params.asset_symbol)?;
        let account = ledger.account(&format!("{}:staked", params.name));
        let rate_state = match &params.reward {
            RewardModel::Cosmos(m) => m.inflation_wad,
            RewardModel::Sui(s) => s.distribution_per_epoch,
            _ => U256::ZERO,
        };
        let counter = match &params.reward {
            RewardModel::Sui(s) => s.distribution_counter,
            _ => 0,
        };
        Ok(GenericChain {
            supply: params.supply,
            external_stake: params.external_stake,
            params,
            genesis_time,
            asset,
            account,
            epoch: 0,
            positions: Vec::new(),
            unbonding: Vec::new(),
            withdrawn: Vec::new(),
            rate_state,
            counter,
            jailed: Vec::new(),
            commission_paid: U256::ZERO,
            rewards_paid: U256::ZERO,
            last_pool: U256::ZERO,
        })
    }

    /// Parameters.
    pub fn params(&self) -> &GenericParams {
        &self.params
    }
    /// The network's supply (capitalization) as the model tracks it (base units).
    pub fn supply(&self) -> U256 {
        self.supply
    }
    /// Stake outside the model (base units).
    pub fn external_stake(&self) -> U256 {
        self.external_stake
    }
    /// Cosmos: the minter's current inflation (wad); Sui: the current subsidy per epoch.
    pub fn rate_state(&self) -> U256 {
        self.rate_state
    }
    /// The network's reward pool of the last processed epoch (base units).
    pub fn last_pool(&self) -> U256 {
        self.last_pool
    }
    /// Rewards paid to the model's stakers so far, and commissions paid to operators (base units).
    pub fn rewards_and_commission_paid(&self) -> (U256, U256) {
        (self.rewards_paid, self.commission_paid)
    }
    /// `(bonded, activating)` of `credentials` with `operator`.
    pub fn stake_of(&self, credentials: AccountId, operator: &str) -> (U256, U256) {
        self.positions
            .iter()
            .find(|p| p.credentials == credentials && p.operator == operator)
            .map_or((U256::ZERO, U256::ZERO), |p| (p.bonded, p.activating))
    }
    /// Whether `operator` is jailed (or tombstoned) now.
    pub fn is_jailed(&self, operator: &str) -> bool {
        self.jailed
            .iter()
            .any(|(o, until)| o == operator && *until > self.epoch)
    }
    /// The account that receives `operator`'s commission.
    pub fn commission_account(&self, ledger: &mut Ledger, operator: &str) -> AccountId {
        ledger.account(&format!("{}:commission:{operator}", self.params.name))
    }

    /// Sets (or adds) an operator's commission and performance, effective from the next reward.
    ///
    /// Specification: fails with [`L0Error::InvalidParameter`] for a commission above 1e4 bps
    /// or a performance above 1e6 ppm; nothing changes then.
    pub fn set_operator(&mut self, op: OperatorParams) -> Result<(), L0Error> {
        check_operator(&op)?;
        match self.params.operators.iter_mut().find(|o| o.name == op.name) {
            Some(o) => *o = op,
            None => self.params.operators.push(op),
        }
        Ok(())
    }

    fn check_time(&self, now: u64) -> Result<(), L0Error> {
        let current_time = self.genesis_time + self.epoch * self.params.epoch_seconds;
        let e = now
            .checked_sub(self.genesis_time)
            .map(|d| d / self.params.epoch_seconds)
            .ok_or(L0Error::TimeInPast { now, current_time })?;
        if e < self.epoch {
            return Err(L0Error::TimeInPast { now, current_time });
        }
        if e > self.epoch {
            return Err(L0Error::NotAdvanced {
                now,
                epoch_at_now: e,
                current_epoch: self.epoch,
            });
        }
        Ok(())
    }

    /// Fixed-APR reward of `bonded` for one epoch: `bonded · apr_bps · epoch_seconds // (1e4 ·
    /// year)`; zero under other reward models (their reward is a share of the network pool).
    pub fn epoch_reward(&self, bonded: U256) -> Result<U256, L0Error> {
        let RewardModel::FixedApr { apr_bps } = self.params.reward else {
            return Ok(U256::ZERO);
        };
        let num = u(u128::from(apr_bps) * u128::from(self.params.epoch_seconds));
        Ok(mul_div_down(bonded, num, u(10_000u128 * u128::from(SECONDS_PER_YEAR)))?)
    }

    fn network_bonded(&self) -> Result<U256, L0Error> {
        let mut s = self.external_stake;
        for p in &self.positions {
            s = s.add_c(p.bonded)?;
        }
        Ok(s)
    }

    /// The network pool of the epoch that ends now, and what it adds to the supply.
    fn pool(&mut self) -> Result<Pool, L0Error> {
        let end_seconds = (self.epoch + 1) * self.params.epoch_seconds;
        match &self.params.reward {
            RewardModel::FixedApr { .. } | RewardModel::NoRewards => Ok(Pool::default()),
            RewardModel::Solana(s) => {
                let year = s.years_at_genesis_wad.add_c(solana_years_wad(end_seconds)?)?;
                let rate = solana_inflation_rate(s, year)?;
                let r = solana_epoch_rewards(rate, self.supply, solana_years_wad(self.params.epoch_seconds)?)?;
                Ok(Pool {
                    stakers: r,
                    minted_to_supply: r,
                })
            }
            RewardModel::Sui(s) => {
                let (paid, next, counter) =
                    sui_subsidy_step(self.rate_state, self.counter, s.period_epochs, s.decrease_rate_bps)?;
                self.rate_state = next;
                self.counter = counter;
                Ok(Pool {
                    stakers: paid.add_c(s.gas_fees_per_epoch)?,
                    minted_to_supply: paid,
                })
            }
            RewardModel::Polkadot(c) => {
                let (stakers, treasury) =
                    npos_era_payout(c, self.network_bonded()?, self.supply, self.params.epoch_seconds)?;
                Ok(Pool {
                    stakers,
                    minted_to_supply: stakers.add_c(treasury)?,
                })
            }
            RewardModel::Cosmos(m) => {
                let blocks = cosmos_blocks_per_epoch(m, self.params.epoch_seconds);
                let bonded = self.network_bonded()?;
                let mut supply = self.supply;
                let mut infl = self.rate_state;
                let mut stakers = U256::ZERO;
                for _ in 0..blocks {
                    infl = cosmos_next_inflation(m, infl, cosmos_bonded_ratio(bonded, supply)?)?;
                    let provision = cosmos_block_provision(infl, supply, m.blocks_per_year)?;
                    supply = supply.add_c(provision)?;
                    let tax = mul_div_down(provision, m.community_tax_wad, WAD)?;
                    stakers = stakers.add_c(provision - tax)?;
                }
                let minted = supply - self.supply;
                self.rate_state = infl;
                Ok(Pool {
                    stakers,
                    minted_to_supply: minted,
                })
            }
        }
    }

    fn points(&self, operator: &str, stake: U256) -> Result<U256, L0Error> {
        if self.is_jailed(operator) {
            return Ok(U256::ZERO);
        }
        Ok(stake.mul_c(u(u128::from(self.params.operator(operator).performance_ppm)))?)
    }

    fn pay(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        reward: U256,
        tips: U256,
        minted: &mut U256,
    ) -> Result<U256, L0Error> {
        let op = self.params.operator(operator);
        let split = |r: U256, bps: u64| -> Result<(U256, U256), L0Error> {
            let c = mul_div_down(r, u(u128::from(bps)), u(10_000))?;
            let s = mul_div_down(r, u(u128::from(BPS_U - bps)), u(10_000))?;
            Ok((c, s))
        };
        let (c1, s1) = split(reward, op.commission_bps)?;
        let (c2, s2) = split(tips, op.mev_commission_bps)?;
        let commission = c1.add_c(c2)?;
        if commission > U256::ZERO {
            let acct = self.commission_account(ledger, operator);
            ledger.mint(acct, self.asset, commission)?;
            self.commission_paid = self.commission_paid.add_c(commission)?;
        }
        let staker = s1.add_c(s2)?;
        *minted = minted.add_c(staker)?;
        self.rewards_paid = self.rewards_paid.add_c(staker)?;
        Ok(staker)
    }

    fn rewards(&mut self, ledger: &mut Ledger, events: &mut Vec<L0Event>) -> Result<(), L0Error> {
        let mut minted = U256::ZERO;
        if let RewardModel::FixedApr { .. } = self.params.reward {
            for i in 0..self.positions.len() {
                let r = self.epoch_reward(self.positions[i].bonded)?;
                let op = self.positions[i].operator.clone();
                let s = if self.is_jailed(&op) {
                    U256::ZERO
                } else {
                    self.pay(ledger, &op, r, U256::ZERO, &mut minted)?
                };
                self.positions[i].bonded = self.positions[i].bonded.add_c(s)?;
            }
        } else {
            let pool = self.pool()?;
            self.last_pool = pool.stakers;
            self.supply = self.supply.add_c(pool.minted_to_supply)?;
            let tips = self.params.mev_tips_per_epoch;
            let ext_points = self
                .external_stake
                .mul_c(u(u128::from(self.params.external_performance_ppm)))?;
            let mut total = ext_points;
            let mut pos_points = Vec::with_capacity(self.positions.len());
            for p in &self.positions {
                let pts = self.points(&p.operator, p.bonded)?;
                total = total.add_c(pts)?;
                pos_points.push(pts);
            }
            let mut unb_points = Vec::with_capacity(self.unbonding.len());
            for q in &self.unbonding {
                let pts = if self.params.unbond_earns_current_epoch && q.requested_epoch == self.epoch {
                    self.points(&q.operator, q.amount)?
                } else {
                    U256::ZERO
                };
                total = total.add_c(pts)?;
                unb_points.push(pts);
            }
            if total > U256::ZERO {
                for (i, pts) in pos_points.into_iter().enumerate() {
                    if pts == U256::ZERO {
                        continue;
                    }
                    let r = mul_div_down(pool.stakers, pts, total)?;
                    let t = mul_div_down(tips, pts, total)?;
                    let op = self.positions[i].operator.clone();
                    let s = self.pay(ledger, &op, r, t, &mut minted)?;
                    self.positions[i].bonded = self.positions[i].bonded.add_c(s)?;
                }
                for (i, pts) in unb_points.into_iter().enumerate() {
                    if pts == U256::ZERO {
                        continue;
                    }
                    let r = mul_div_down(pool.stakers, pts, total)?;
                    let t = mul_div_down(tips, pts, total)?;
                    let op = self.unbonding[i].operator.clone();
                    let s = self.pay(ledger, &op, r, t, &mut minted)?;
                    self.unbonding[i].amount = self.unbonding[i].amount.add_c(s)?;
                }
                let ext = mul_div_down(pool.stakers.add_c(tips)?, ext_points, total)?;
                self.external_stake = self.external_stake.add_c(ext)?;
            }
        }
        if minted > U256::ZERO {
            ledger.mint(self.account, self.asset, minted)?;
            events.push(L0Event::RewardsAccrued {
                epoch: self.epoch,
                amount: minted,
            });
        }
        Ok(())
    }

    /// The warm-up (or cool-down) allowance of this boundary: `⌊effective · rate / 1e6⌋`, or
    /// `None` without a limit.
    fn allowance(&self) -> Result<Option<U256>, L0Error> {
        if self.params.stake_activation_rate_ppm == 0 {
            return Ok(None);
        }
        let eff = self.network_bonded()?;
        Ok(Some(mul_div_down(
            eff,
            u(u128::from(self.params.stake_activation_rate_ppm)),
            u(u128::from(PPM)),
        )?))
    }

    fn warm_up_and_cool_down(&mut self) -> Result<(), L0Error> {
        let allowance = self.allowance()?;
        let activating = self
            .positions
            .iter()
            .fold(U256::ZERO, |a, p| a.saturating_add(p.activating));
        let cooling = self
            .unbonding
            .iter()
            .fold(U256::ZERO, |a, q| a.saturating_add(q.cooling));
        for p in self.positions.iter_mut().filter(|p| p.activating > U256::ZERO) {
            let take = match allowance {
                Some(a) if activating > a => mul_div_down(p.activating, a, activating)?,
                _ => p.activating,
            };
            p.activating -= take;
            p.bonded = p.bonded.add_c(take)?;
        }
        for q in self.unbonding.iter_mut().filter(|q| q.cooling > U256::ZERO) {
            let take = match allowance {
                Some(a) if cooling > a => mul_div_down(q.cooling, a, cooling)?,
                _ => q.cooling,
            };
            q.cooling -= take;
        }
        Ok(())
    }

    fn process_epoch(&mut self, ledger: &mut Ledger, events: &mut Vec<L0Event>) -> Result<(), L0Error> {
        self.rewards(ledger, events)?;
        self.warm_up_and_cool_down()?;
        let next = self.epoch + 1;
        let (due, keep): (Vec<Unbonding>, Vec<Unbonding>) = std::mem::take(&mut self.unbonding)
            .into_iter()
            .partition(|q| q.release_epoch <= next && q.cooling == U256::ZERO);
        self.unbonding = keep;
        for q in due {
            ledger.transfer(self.account, q.credentials, self.asset, q.amount)?;
            match self
                .withdrawn
                .iter_mut()
                .find(|(c, op, _)| *c == q.credentials && *op == q.operator)
            {
                Some(w) => w.2 = w.2.add_c(q.amount)?,
                None => self.withdrawn.push((q.credentials, q.operator.clone(), q.amount)),
            }
            events.push(L0Event::Unbonded {
                credentials: q.credentials,
                amount: q.amount,
            });
        }
        self.positions
            .retain(|p| p.bonded > U256::ZERO || p.activating > U256::ZERO);
        self.jailed.retain(|(_, until)| *until > next);
        Ok(())
    }

    fn summary(&self, filter: impl Fn(&str, AccountId) -> bool) -> CredentialsSummary {
        let mut s = CredentialsSummary::default();
        for p in self.positions.iter().filter(|p| filter(&p.operator, p.credentials)) {
            s.balance_wei += p.bonded + p.activating;
            s.active_balance_wei += p.bonded;
            s.effective_balance_wei += p.bonded;
        }
        for q in self.unbonding.iter().filter(|q| filter(&q.operator, q.credentials)) {
            s.balance_wei += q.amount;
            s.exiting_balance_wei += q.amount;
        }
        for (c, op, amt) in &self.withdrawn {
            if filter(op, *c) {
                s.withdrawn_wei += *amt;
            }
        }
        s
    }

    /// Slashes `operator` for `offence`: burns the offence's fraction (ppb, down per position)
    /// of its bonded, activating and unbonding stake; jails a downtime offender for
    /// `downtime_jail_epochs`, tombstones a double-signer if configured.
    ///
    /// Specification: fails with [`L0Error::SlashingDisabled`] on a chain without stake
    /// slashing, [`L0Error::InvalidParameter`] for a fraction above 1e9 ppb,
    /// [`L0Error::NotAdvanced`]/[`L0Error::TimeInPast`], or [`L0Error::UnknownOperator`] if the
    /// operator has no stake; nothing changes then.
    pub fn slash(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        offence: Offence,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if !self.params.slashing.enabled {
            return Err(L0Error::SlashingDisabled {
                chain: self.params.name.clone(),
            });
        }
        let sl = &self.params.slashing;
        let (ppb, jail) = match offence {
            Offence::DoubleSign => (
                sl.double_sign_ppb,
                if sl.tombstone_on_double_sign {
                    Some(u64::MAX)
                } else {
                    None
                },
            ),
            Offence::Downtime => (
                sl.downtime_ppb,
                (sl.downtime_jail_epochs > 0).then(|| self.epoch.saturating_add(sl.downtime_jail_epochs)),
            ),
            Offence::Fraction { ppb } => (ppb, None),
        };
        if ppb > PPB {
            return Err(L0Error::InvalidParameter {
                name: "slash_ppb",
                value: ppb.to_string(),
            });
        }
        self.check_time(now)?;
        if !self.positions.iter().any(|p| p.operator == operator)
            && !self.unbonding.iter().any(|q| q.operator == operator)
        {
            return Err(L0Error::UnknownOperator {
                operator: operator.to_string(),
            });
        }
        let f = u(u128::from(ppb));
        let d = u(u128::from(PPB));
        let mut w = self.clone();
        let mut burned = U256::ZERO;
        for p in w.positions.iter_mut().filter(|p| p.operator == operator) {
            let cut = mul_div_down(p.bonded, f, d)?;
            let cut_a = mul_div_down(p.activating, f, d)?;
            p.bonded -= cut;
            p.activating -= cut_a;
            burned = burned.add_c(cut)?.add_c(cut_a)?;
        }
        for q in w.unbonding.iter_mut().filter(|q| q.operator == operator) {
            let cut = mul_div_down(q.amount, f, d)?;
            q.amount -= cut;
            q.cooling = q.cooling.min(q.amount);
            burned = burned.add_c(cut)?;
        }
        if let Some(until) = jail {
            match w.jailed.iter_mut().find(|(o, _)| o == operator) {
                Some(j) => j.1 = j.1.max(until),
                None => w.jailed.push((operator.to_string(), until)),
            }
        }
        ledger.burn(w.account, w.asset, burned)?;
        *self = w;
        Ok(vec![L0Event::StakeSlashed {
            operator: operator.to_string(),
            amount: burned,
        }])
    }
}

impl Chain for GenericChain {
    fn native_symbol(&self) -> &str {
        &self.params.asset_symbol
    }
    fn epoch_seconds(&self) -> u64 {
        self.params.epoch_seconds
    }
    fn unbonding_seconds(&self) -> u64 {
        self.params.unbonding_epochs.saturating_mul(self.params.epoch_seconds)
    }
    fn current_epoch(&self) -> u64 {
        self.epoch
    }

    /// Specification: fails with [`L0Error::TimeInPast`] if `now` is before the current epoch;
    /// an arithmetic failure in any epoch leaves the chain and the ledger unchanged.
    fn advance_to(&mut self, ledger: &mut Ledger, now: u64) -> Result<Vec<L0Event>, L0Error> {
        let current_time = self.genesis_time + self.epoch * self.params.epoch_seconds;
        let target = now
            .checked_sub(self.genesis_time)
            .map(|d| d / self.params.epoch_seconds)
            .ok_or(L0Error::TimeInPast { now, current_time })?;
        if target < self.epoch {
            return Err(L0Error::TimeInPast { now, current_time });
        }
        let mut w = self.clone();
        let events = ledger.atomic(|l| {
            let mut events = Vec::new();
            while w.epoch < target {
                w.process_epoch(l, &mut events)?;
                w.epoch += 1;
            }
            Ok::<_, L0Error>(events)
        })?;
        *self = w;
        Ok(events)
    }

    /// Bonds at once (`activation_delay_epochs = 0`) or activates at the end of the epoch,
    /// subject to the activation limit.
    ///
    /// Specification: fails with [`L0Error::ZeroAmount`] for a zero amount, with
    /// [`L0Error::NotAdvanced`]/[`L0Error::TimeInPast`] unless `now` is in the current epoch, and
    /// with [`L0Error::InsufficientFunds`] if `from` holds less than `amount`.
    fn stake(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        amount: U256,
        operator: &str,
        credentials: AccountId,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if amount == U256::ZERO {
            return Err(L0Error::ZeroAmount { what: "amount" });
        }
        self.check_time(now)?;
        let balance = ledger.balance(from, self.asset);
        if balance < amount {
            return Err(L0Error::InsufficientFunds {
                account: ledger.account_name(from).to_string(),
                balance,
                required: amount,
            });
        }
        let (bond, act) = if self.params.activation_delay_epochs == 0 {
            (amount, U256::ZERO)
        } else {
            (U256::ZERO, amount)
        };
        let idx = self
            .positions
            .iter()
            .position(|p| p.operator == operator && p.credentials == credentials);
        let (nb, na) = match idx {
            Some(i) => (
                self.positions[i].bonded.add_c(bond)?,
                self.positions[i].activating.add_c(act)?,
            ),
            None => (bond, act),
        };
        ledger.transfer(from, self.account, self.asset, amount)?;
        match idx {
            Some(i) => {
                self.positions[i].bonded = nb;
                self.positions[i].activating = na;
            }
            None => self.positions.push(Position {
                operator: operator.to_string(),
                credentials,
                bonded: nb,
                activating: na,
            }),
        }
        Ok(vec![L0Event::Bonded {
            credentials,
            operator: operator.to_string(),
            amount,
        }])
    }

    /// Unbonds effective stake (activating stake cannot be unbonded before it is effective).
    ///
    /// Specification: fails with [`L0Error::ZeroAmount`], [`L0Error::NotAdvanced`] /
    /// [`L0Error::TimeInPast`], [`L0Error::UnknownOperator`] (operator without stake), or
    /// [`L0Error::UnbondExceedsBonded`] if `amount` exceeds the matching bonded stake.
    fn request_unstake(
        &mut self,
        credentials: AccountId,
        operator: Option<&str>,
        amount: U256,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if amount == U256::ZERO {
            return Err(L0Error::ZeroAmount { what: "amount" });
        }
        self.check_time(now)?;
        if let Some(op) = operator {
            if !self.positions.iter().any(|p| p.operator == op) {
                return Err(L0Error::UnknownOperator {
                    operator: op.to_string(),
                });
            }
        }
        let matches = |p: &Position| p.credentials == credentials && operator.is_none_or(|op| p.operator == op);
        let mut available = U256::ZERO;
        for p in self.positions.iter().filter(|p| matches(p)) {
            available = available.add_c(p.bonded)?;
        }
        if amount > available {
            return Err(L0Error::UnbondExceedsBonded {
                credentials,
                operator: operator.map(str::to_string),
                requested: amount,
                available,
            });
        }
        let release_epoch = self.epoch.saturating_add(self.params.unbonding_epochs);
        let limited = self.params.stake_activation_rate_ppm > 0;
        let mut remaining = amount;
        let mut events = Vec::new();
        for p in self.positions.iter_mut() {
            if remaining == U256::ZERO {
                break;
            }
            if !matches(p) || p.bonded == U256::ZERO {
                continue;
            }
            let take = remaining.min(p.bonded);
            p.bonded -= take;
            remaining -= take;
            self.unbonding.push(Unbonding {
                operator: p.operator.clone(),
                credentials,
                amount: take,
                cooling: if limited { take } else { U256::ZERO },
                release_epoch,
                requested_epoch: self.epoch,
            });
            events.push(L0Event::UnbondingStarted {
                credentials,
                operator: p.operator.clone(),
                amount: take,
                release_epoch,
            });
        }
        self.positions
            .retain(|p| p.bonded > U256::ZERO || p.activating > U256::ZERO);
        Ok(events)
    }

    /// Slashes `operator` for double-signing ([`GenericChain::slash`] with
    /// [`Offence::DoubleSign`]; `validators` is ignored: the operator is one validator).
    ///
    /// Specification: fails as [`GenericChain::slash`].
    fn slash_operator(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        _validators: Option<u64>,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        self.slash(ledger, operator, Offence::DoubleSign, now)
    }

    fn summary_by_credentials(&self, credentials: AccountId) -> CredentialsSummary {
        self.summary(|_, c| c == credentials)
    }
    fn summary_by_operator(&self, operator: &str) -> CredentialsSummary {
        self.summary(|op, _| op == operator)
    }
    fn total_staked_wei(&self) -> U256 {
        let b = self.positions.iter().fold(U256::ZERO, |a, p| {
            a.saturating_add(p.bonded).saturating_add(p.activating)
        });
        self.unbonding.iter().fold(b, |a, q| a.saturating_add(q.amount))
    }

    /// The module account holds exactly Σ bonded + Σ activating + Σ unbonding; no unbonding
    /// entry cools more than it holds.
    fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        let held = ledger.balance(self.account, self.asset);
        let expected = self.total_staked_wei();
        if held != expected {
            return Err(format!(
                "{}:staked holds {held} but positions sum to {expected}",
                self.params.name
            ));
        }
        if let Some(q) = self.unbonding.iter().find(|q| q.cooling > q.amount) {
            return Err(format!(
                "{}: unbonding of {} cools {} > {}",
                self.params.name, q.operator, q.cooling, q.amount
            ));
        }
        Ok(())
    }
}

impl stake_ledger::StateHash for GenericChain {
    fn hash_state(&self, h: &mut stake_ledger::blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}
