//! The Ethereum beacon chain in cohorts (SPEC §3.1, §1.7).
//!
//! # Model
//! A **cohort** is the user-facing set of validators sharing operator, withdrawal-credentials
//! account, fee-recipient account, performance and credential type. Internally a cohort is held as
//! one or more [`ValidatorGroup`]s: sets of *identical* validators (same balance, effective
//! balance, inactivity score, epochs, slashed flag) with a count. Every spec formula is evaluated
//! once per group for one validator and multiplied by the count, so the cost of an epoch grows
//! with groups, not validators. A group is split only when something happens to part of it
//! (slashing N, exiting N, a deposit partly processed under churn, exits landing in different
//! epochs); adjacent identical groups are merged again.
//!
//! **Performance** (participation rate) is modelled exactly as `⌊count · rate⌋` validators that
//! always attest correctly and on time (source, target and head) and the rest that never do: at
//! deposit time the cohort is split deterministically into an online and an offline group.
//!
//! **Per-epoch order** (epoch `e`, 32 slots × 12 s = 384 s): (1) block-level streams of the
//! epoch's blocks — sync-committee and proposer rewards as an expected value per validator
//! (`base_reward · 2 // 64` for sync, `base_reward · 8 · participating // (active · 64)` for
//! proposing; offline validators pay the sync penalty `base_reward · 2 // 64`), and the
//! execution-layer reward stream to fee recipients; (2) the withdrawal sweep; (3)
//! `process_epoch`: finality, inactivity updates, flag rewards and penalties, inactivity
//! penalties, registry updates, correlation slashing, pending deposits, effective-balance updates,
//! slashings reset.
//!
//! **Finality** is normal (finalized checkpoint = previous epoch) unless a [`FinalityLoss`] window
//! covers the epoch, in which case the finalized checkpoint stays at the epoch before the window;
//! the inactivity leak starts when `previous_epoch − finalized_epoch > 4`.
//!
//! **Withdrawal sweep**: at most 16 withdrawals per block (512 per epoch) and 16,384 validators
//! scanned per block, in group order, round-robin. A group is paid when the sweep has passed all
//! of its validators (so groups stay identical); a group larger than the per-epoch budget is thus
//! paid at the epoch the sweep finishes it, at most `count / 512` epochs later than per-block.

use crate::error::L0Error;
use crate::spec::{self, ExitChurn, FAR_FUTURE_EPOCH};
use crate::{Chain, CredentialsSummary, ExitReason, L0Event};
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Ledger};
use stake_math::{u, Checked, MathError, MathResult, U256};
use std::collections::{BTreeMap, VecDeque};

mod closed_form;

/// Name of the module account that holds all beacon-chain ETH.
pub const BEACON_ACCOUNT: &str = "beacon:validators";

const PPM: u64 = 1_000_000;

/// Finality is lost for epochs `from_epoch ≤ e < to_epoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalityLoss {
    /// First epoch without finality.
    pub from_epoch: u64,
    /// First epoch finalizing again.
    pub to_epoch: u64,
}

/// Parameters of the Ethereum model. `Default` is mainnet (Electra).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EthParams {
    /// Native asset symbol, registered in the ledger by the caller.
    pub asset_symbol: String,
    /// Execution-layer reward stream (priority fees + MEV) in ppm of effective balance per year
    /// (6,000 = 0.6 %).
    pub el_reward_apr_ppm: u64,
    /// Default participation rate of deposited cohorts, in ppm (1,000,000 = 100 %).
    pub performance_ppm: u64,
    /// Deposits use 0x02 compounding credentials (max effective balance 2048 ETH) by default.
    pub compounding: bool,
    /// Use the pre-Electra slashing quotients (`eb // 32` penalty, `eb // 512` whistleblower).
    pub pre_electra_slashing: bool,
    /// Windows without finality.
    pub finality_lost: Vec<FinalityLoss>,
    /// Epochs a validator must have been active before it may exit (mainnet 256).
    pub shard_committee_period: u64,
}

impl Default for EthParams {
    fn default() -> Self {
        EthParams {
            asset_symbol: "ETH".to_string(),
            el_reward_apr_ppm: 6_000,
            performance_ppm: PPM,
            compounding: false,
            pre_electra_slashing: false,
            finality_lost: Vec::new(),
            shard_committee_period: spec::SHARD_COMMITTEE_PERIOD,
        }
    }
}

/// A user-facing set of validators sharing operator, accounts, performance and credential type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cohort {
    /// Operator name.
    pub operator: String,
    /// Withdrawal-credentials account (receives withdrawals).
    pub credentials: AccountId,
    /// Fee-recipient account (receives execution-layer rewards).
    pub fee_recipient: AccountId,
    /// Participation rate in ppm.
    pub performance_ppm: u64,
    /// 0x02 compounding credentials.
    pub compounding: bool,
    /// Validators fully withdrawn.
    pub withdrawn: u64,
    /// Validators ever slashed.
    pub slashed: u64,
    /// Wei paid by the sweep so far.
    pub withdrawn_wei: U256,
    /// Execution-layer rewards paid so far (wei).
    pub el_rewards_wei: U256,
}

impl Cohort {
    fn max_effective_balance(&self) -> u64 {
        if self.compounding {
            spec::MAX_EFFECTIVE_BALANCE_ELECTRA
        } else {
            spec::MIN_ACTIVATION_BALANCE
        }
    }
}

/// A set of identical validators (gwei amounts are per validator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorGroup {
    /// Index of its cohort.
    pub cohort: u32,
    /// Attests (all flags, timely) every epoch, or never.
    pub online: bool,
    /// Number of validators.
    pub count: u64,
    /// Balance of each validator (gwei).
    pub balance_gwei: u64,
    /// Effective balance of each validator (gwei).
    pub effective_balance_gwei: u64,
    /// Inactivity score.
    pub inactivity_score: u64,
    /// `activation_eligibility_epoch`.
    pub activation_eligibility_epoch: u64,
    /// `activation_epoch`.
    pub activation_epoch: u64,
    /// `exit_epoch`.
    pub exit_epoch: u64,
    /// `withdrawable_epoch`.
    pub withdrawable_epoch: u64,
    /// Slashed.
    pub slashed: bool,
}

impl ValidatorGroup {
    fn is_active(&self, epoch: u64) -> bool {
        self.activation_epoch <= epoch && epoch < self.exit_epoch
    }
    /// Takes part in the previous epoch's attestation rewards and penalties
    /// (`get_eligible_validator_indices`).
    fn attestation_eligible(&self, prev: u64) -> bool {
        self.is_active(prev) || (self.slashed && prev + 1 < self.withdrawable_epoch)
    }
    /// Attested (all flags, timely) in epoch `prev`.
    fn participated(&self, prev: u64) -> bool {
        self.online && !self.slashed && self.is_active(prev)
    }
    fn same_validators(&self, o: &ValidatorGroup) -> bool {
        self.balance_gwei == o.balance_gwei && self.same_but_balance(o)
    }
    /// Identical but for the balance.
    fn same_but_balance(&self, o: &ValidatorGroup) -> bool {
        self.cohort == o.cohort
            && self.online == o.online
            && self.effective_balance_gwei == o.effective_balance_gwei
            && self.inactivity_score == o.inactivity_score
            && self.activation_eligibility_epoch == o.activation_eligibility_epoch
            && self.activation_epoch == o.activation_epoch
            && self.exit_epoch == o.exit_epoch
            && self.withdrawable_epoch == o.withdrawable_epoch
            && self.slashed == o.slashed
    }
}

/// Deposits of `count` validators of `amount_gwei` each waiting in the pending-deposit queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDeposit {
    /// Cohort index.
    pub cohort: u32,
    /// Whether these validators will be online.
    pub online: bool,
    /// Validators.
    pub count: u64,
    /// Amount per validator (gwei).
    pub amount_gwei: u64,
    /// Slot of the deposit request.
    pub slot: u64,
}

/// How [`Ethereum::advance_to_with`] advances epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stepping {
    /// Every epoch processed on its own (the reference).
    EpochByEpoch,
    /// Quiet stretches of epochs advanced in closed form, the others one by one (the default).
    ClosedForm,
}

/// A queue wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueWait {
    /// Epochs.
    pub epochs: u64,
    /// Seconds (`epochs · 384`).
    pub seconds: u64,
    /// Days × 1000, rounded down (`seconds · 1000 // 86400`).
    pub days_milli: u64,
}

impl QueueWait {
    fn from_epochs(epochs: u64) -> Self {
        let seconds = epochs.saturating_mul(spec::EPOCH_SECONDS);
        QueueWait {
            epochs,
            seconds,
            days_milli: seconds.saturating_mul(1000) / 86_400,
        }
    }
}

/// The Ethereum beacon chain (consensus economics, Electra) with validators in cohorts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ethereum {
    params: EthParams,
    genesis_time: u64,
    eth: AssetId,
    beacon: AccountId,
    /// Current epoch (the next epoch transition to process is the end of this epoch).
    epoch: u64,
    cohorts: Vec<Cohort>,
    groups: Vec<ValidatorGroup>,
    pending_deposits: VecDeque<PendingDeposit>,
    deposit_balance_to_consume: u64,
    exit_churn: ExitChurn,
    /// Slashed effective balance by epoch of slashing (sparse `state.slashings`).
    slashings: BTreeMap<u64, u64>,
    sweep_group: usize,
    sweep_offset: u64,
    total_rewards_gwei: u128,
    total_penalties_gwei: u128,
    total_el_rewards_wei: U256,
    /// Epochs advanced in closed form (a diagnostic: not part of the state).
    #[serde(skip)]
    closed_form_epochs: u64,
}

/// An epoch's reward rates (see [`Ethereum::rates`]).
#[derive(Clone, Copy, Debug)]
struct Rates {
    tab: u64,
    brpi: u64,
    part_incr: u64,
    active_incr: u64,
}

/// What one validator of a group gains and loses in a stage of an epoch, before the penalties are
/// capped at its balance (they apply in order).
#[derive(Clone, Copy, Debug, Default)]
struct Amounts {
    reward: u64,
    penalties: [u64; 3],
}

impl Amounts {
    fn penalty(&self) -> u64 {
        self.penalties.iter().fold(0u64, |a, p| a.saturating_add(*p))
    }
}

/// Block-level amounts of epoch `cur` (sync committee and proposer, as expected values), or
/// `None` for a group that is not active or is slashed.
fn block_amounts(g: &ValidatorGroup, cur: u64, r: &Rates) -> MathResult<Option<Amounts>> {
    if !g.is_active(cur) || g.slashed {
        return Ok(None);
    }
    let br = spec::base_reward_with(g.effective_balance_gwei, r.brpi)?;
    let sync = spec::flag_penalty(br, spec::SYNC_REWARD_WEIGHT)?;
    Ok(Some(if g.online {
        let proposer = spec::flag_reward(br, spec::PROPOSER_WEIGHT, r.part_incr, r.active_incr)?;
        Amounts {
            reward: ovf(sync.checked_add(proposer))?,
            penalties: [0; 3],
        }
    } else {
        Amounts {
            reward: 0,
            penalties: [sync, 0, 0],
        }
    }))
}

/// Attestation amounts (`process_rewards_and_penalties`) of an eligible group whose inactivity
/// score is already updated: flag rewards when it participated (none in a leak), else the source
/// and target penalties, then the inactivity penalty.
fn flag_amounts(g: &ValidatorGroup, participated: bool, r: &Rates, leak: bool) -> MathResult<Amounts> {
    let br = spec::base_reward_with(g.effective_balance_gwei, r.brpi)?;
    let mut a = Amounts::default();
    if participated {
        if !leak {
            for w in [
                spec::TIMELY_SOURCE_WEIGHT,
                spec::TIMELY_TARGET_WEIGHT,
                spec::TIMELY_HEAD_WEIGHT,
            ] {
                let x = spec::flag_reward(br, w, r.part_incr, r.active_incr)?;
                a.reward = ovf(a.reward.checked_add(x))?;
            }
        }
    } else {
        a.penalties = [
            spec::flag_penalty(br, spec::TIMELY_SOURCE_WEIGHT)?,
            spec::flag_penalty(br, spec::TIMELY_TARGET_WEIGHT)?,
            spec::inactivity_penalty(g.effective_balance_gwei, g.inactivity_score)?,
        ];
    }
    Ok(a)
}

fn ovf<T>(v: Option<T>) -> MathResult<T> {
    v.ok_or(MathError::Overflow)
}

fn gwei_to_wei(gwei: u128) -> MathResult<U256> {
    u(gwei).mul_c(u(spec::WEI_PER_GWEI as u128))
}

fn eth_wei(eth: u64) -> U256 {
    u(eth as u128) * u(1_000_000_000_000_000_000)
}

impl Ethereum {
    /// A chain at genesis. Looks up the asset `params.asset_symbol` (registered by the caller) and
    /// creates the module account [`BEACON_ACCOUNT`].
    ///
    /// Specification:
    /// - fails with [`L0Error::Ledger`] (`UnknownAsset`) if the asset is not registered;
    /// - fails with [`L0Error::InvalidParameter`] if `performance_ppm > 1e6`.
    pub fn new(params: EthParams, ledger: &mut Ledger, genesis_time: u64) -> Result<Self, L0Error> {
        if params.performance_ppm > PPM {
            return Err(L0Error::InvalidParameter {
                name: "performance_ppm",
                value: params.performance_ppm.to_string(),
            });
        }
        let eth = ledger.asset(&params.asset_symbol)?;
        let beacon = ledger.account(BEACON_ACCOUNT);
        Ok(Ethereum {
            params,
            genesis_time,
            eth,
            beacon,
            epoch: 0,
            cohorts: Vec::new(),
            groups: Vec::new(),
            pending_deposits: VecDeque::new(),
            deposit_balance_to_consume: 0,
            exit_churn: ExitChurn::default(),
            slashings: BTreeMap::new(),
            sweep_group: 0,
            sweep_offset: 0,
            total_rewards_gwei: 0,
            total_penalties_gwei: 0,
            total_el_rewards_wei: U256::ZERO,
            closed_form_epochs: 0,
        })
    }

    // ----- queries -----

    /// Parameters.
    pub fn params(&self) -> &EthParams {
        &self.params
    }

    /// Sets the windows without finality (takes effect from the next processed epoch).
    pub fn set_finality_lost(&mut self, windows: Vec<FinalityLoss>) {
        self.params.finality_lost = windows;
    }

    /// Sets the execution-layer reward APR (ppm of effective balance per year).
    pub fn set_el_reward_apr_ppm(&mut self, apr_ppm: u64) {
        self.params.el_reward_apr_ppm = apr_ppm;
    }

    /// The account holding the beacon chain's ETH ([`BEACON_ACCOUNT`]).
    pub fn beacon_account(&self) -> AccountId {
        self.beacon
    }

    /// The current epoch.
    pub fn current_epoch(&self) -> u64 {
        self.epoch
    }

    /// Genesis time (seconds).
    pub fn genesis_time(&self) -> u64 {
        self.genesis_time
    }

    /// The epoch containing time `now` (`None` before genesis).
    pub fn epoch_at(&self, now: u64) -> Option<u64> {
        now.checked_sub(self.genesis_time).map(|d| d / spec::EPOCH_SECONDS)
    }

    /// Cohorts, by index.
    pub fn cohorts(&self) -> &[Cohort] {
        &self.cohorts
    }

    /// Validator groups, in validator (sweep) order.
    pub fn groups(&self) -> &[ValidatorGroup] {
        &self.groups
    }

    /// The pending-deposit queue.
    pub fn pending_deposits(&self) -> &VecDeque<PendingDeposit> {
        &self.pending_deposits
    }

    /// The exit churn state.
    pub fn exit_churn(&self) -> ExitChurn {
        self.exit_churn
    }

    /// Σ of `state.slashings` (effective balance slashed in the last 8192 epochs, gwei).
    pub fn total_slashings_gwei(&self) -> u64 {
        self.slashings.values().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// Consensus rewards minted and penalties burned since genesis (gwei).
    pub fn total_rewards_and_penalties_gwei(&self) -> (u128, u128) {
        (self.total_rewards_gwei, self.total_penalties_gwei)
    }

    /// Epochs this value has advanced in closed form, as quiet stretches (a diagnostic, not state).
    pub fn closed_form_epochs(&self) -> u64 {
        self.closed_form_epochs
    }

    /// Execution-layer rewards paid since genesis (wei).
    pub fn total_el_rewards_wei(&self) -> U256 {
        self.total_el_rewards_wei
    }

    /// `get_total_active_balance` at the current epoch (gwei, at least one increment).
    pub fn total_active_balance_gwei(&self) -> u64 {
        self.total_active_balance_at(self.epoch).unwrap_or(u64::MAX)
    }

    fn total_active_balance_at(&self, epoch: u64) -> MathResult<u64> {
        let mut sum: u128 = 0;
        for g in &self.groups {
            if g.is_active(epoch) {
                sum = ovf(sum.checked_add(g.effective_balance_gwei as u128 * g.count as u128))?;
            }
        }
        Ok(u64::try_from(sum)
            .map_err(|_| MathError::Overflow)?
            .max(spec::EFFECTIVE_BALANCE_INCREMENT))
    }

    /// All ETH held by the beacon chain: validator balances plus pending deposits (wei).
    pub fn total_staked_wei(&self) -> U256 {
        self.staked_gwei()
            .ok()
            .and_then(|g| gwei_to_wei(g).ok())
            .unwrap_or(U256::MAX)
    }

    fn staked_gwei(&self) -> MathResult<u128> {
        let mut sum: u128 = 0;
        for g in &self.groups {
            sum = ovf(sum.checked_add(g.balance_gwei as u128 * g.count as u128))?;
        }
        for d in &self.pending_deposits {
            sum = ovf(sum.checked_add(d.amount_gwei as u128 * d.count as u128))?;
        }
        Ok(sum)
    }

    /// Specification: consensus-specs' `Gwei` is a uint64, and so is every sum of balances
    /// (`get_total_balance`): `count` more 32-ETH validators must keep the stake within it
    /// (about 18.4 billion ETH), or the deposit is refused.
    fn check_room(&self, count: u64) -> Result<(), L0Error> {
        let added = u128::from(count) * u128::from(spec::MIN_ACTIVATION_BALANCE);
        if self
            .staked_gwei()?
            .checked_add(added)
            .is_none_or(|t| t > u128::from(u64::MAX))
        {
            return Err(L0Error::InvalidParameter {
                name: "count",
                value: format!("{count} validators: the total stake would exceed uint64 gwei (about 18.4 billion ETH)"),
            });
        }
        Ok(())
    }

    /// Per-epoch activation/exit churn at the current epoch (gwei).
    pub fn activation_exit_churn_gwei(&self) -> u64 {
        spec::activation_exit_churn_limit(self.total_active_balance_gwei())
    }

    /// How long the pending-deposit queue takes to drain under the current churn:
    /// `⌈queued_gwei / churn⌉` epochs (activation follows ≈ 8 epochs after processing).
    pub fn activation_queue_wait(&self) -> QueueWait {
        let queued: u128 = self
            .pending_deposits
            .iter()
            .map(|d| d.amount_gwei as u128 * d.count as u128)
            .sum();
        let churn = self.activation_exit_churn_gwei().max(1) as u128;
        let epochs = queued.div_ceil(churn);
        QueueWait::from_epochs(u64::try_from(epochs).unwrap_or(u64::MAX))
    }

    /// [`Ethereum::activation_queue_wait`] in seconds.
    pub fn activation_queue_wait_seconds(&self) -> u64 {
        self.activation_queue_wait().seconds
    }

    /// Epochs until a 32 ETH exit requested now would exit (`exit_epoch − current_epoch`, ≥ 5).
    pub fn exit_queue_wait(&self) -> QueueWait {
        self.exit_wait_for_gwei(spec::MIN_ACTIVATION_BALANCE)
    }

    /// [`Ethereum::exit_queue_wait`] in seconds.
    pub fn exit_queue_wait_seconds(&self) -> u64 {
        self.exit_queue_wait().seconds
    }

    /// How long an exit surge of `eth_amount` whole ETH requested now would wait until its last
    /// validator exits, with `compute_exit_epoch_and_update_churn` semantics (1,000,000 ETH at
    /// 34 M ETH staked: 5 + 3,906 epochs ≈ 17.38 days).
    pub fn exit_surge_wait_days(&self, eth_amount: u64) -> QueueWait {
        self.exit_wait_for_gwei(eth_amount.saturating_mul(spec::GWEI_PER_ETH))
    }

    fn exit_wait_for_gwei(&self, gwei: u64) -> QueueWait {
        let mut churn = self.exit_churn;
        let per_epoch = self.activation_exit_churn_gwei();
        match churn.compute_exit_epoch(self.epoch, gwei, per_epoch) {
            Ok(e) => QueueWait::from_epochs(e - self.epoch),
            Err(_) => QueueWait::from_epochs(u64::MAX),
        }
    }

    /// What the validators of withdrawal-credentials account `credentials` hold.
    pub fn summary_by_credentials(&self, credentials: AccountId) -> CredentialsSummary {
        self.summary(|c| c.credentials == credentials)
    }

    /// What the validators of `operator` hold.
    pub fn summary_by_operator(&self, operator: &str) -> CredentialsSummary {
        self.summary(|c| c.operator == operator)
    }

    fn summary(&self, filter: impl Fn(&Cohort) -> bool) -> CredentialsSummary {
        let mut s = CredentialsSummary::default();
        let wei = |gwei: u64, count: u64| u(gwei as u128 * count as u128) * u(spec::WEI_PER_GWEI as u128);
        for c in self.cohorts.iter().filter(|c| filter(c)) {
            s.withdrawn += c.withdrawn;
            s.slashed += c.slashed;
            s.withdrawn_wei += c.withdrawn_wei;
            s.el_rewards_wei += c.el_rewards_wei;
        }
        for g in &self.groups {
            let Some(c) = self.cohorts.get(g.cohort as usize) else {
                continue;
            };
            if !filter(c) {
                continue;
            }
            let bal = wei(g.balance_gwei, g.count);
            s.balance_wei += bal;
            s.effective_balance_wei += wei(g.effective_balance_gwei, g.count);
            if g.activation_epoch > self.epoch {
                s.pending += g.count;
            } else if g.exit_epoch == FAR_FUTURE_EPOCH {
                s.active += g.count;
                s.active_balance_wei += bal;
            } else if self.epoch < g.exit_epoch {
                s.exiting += g.count;
                s.exiting_balance_wei += bal;
            } else {
                s.exited_unwithdrawn += g.count;
                s.exiting_balance_wei += bal;
            }
        }
        for d in &self.pending_deposits {
            let Some(c) = self.cohorts.get(d.cohort as usize) else {
                continue;
            };
            if filter(c) {
                s.pending += d.count;
                s.balance_wei += wei(d.amount_gwei, d.count);
            }
        }
        s
    }

    /// Backing rules: the ledger balance of [`BEACON_ACCOUNT`] equals Σ validator balances + pending
    /// deposits (gwei · 1e9); no empty groups; group cohorts exist; effective balances are whole ETH
    /// and within the cohort's maximum.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        let staked = self.staked_gwei().map_err(|e| e.to_string())?;
        let expected = gwei_to_wei(staked).map_err(|e| e.to_string())?;
        let held = ledger.balance(self.beacon, self.eth);
        if held != expected {
            return Err(format!(
                "beacon account holds {held} wei but validators and deposits sum to {expected} wei"
            ));
        }
        for (i, g) in self.groups.iter().enumerate() {
            let c = self
                .cohorts
                .get(g.cohort as usize)
                .ok_or_else(|| format!("group {i}: unknown cohort"))?;
            if g.count == 0 {
                return Err(format!("group {i} is empty"));
            }
            if g.effective_balance_gwei % spec::EFFECTIVE_BALANCE_INCREMENT != 0
                || g.effective_balance_gwei > c.max_effective_balance()
            {
                return Err(format!(
                    "group {i}: effective balance {} out of rule",
                    g.effective_balance_gwei
                ));
            }
        }
        if !self.groups.is_empty() && self.sweep_group >= self.groups.len() {
            return Err("sweep cursor out of range".to_string());
        }
        Ok(())
    }

    // ----- operations -----

    fn check_time(&self, now: u64) -> Result<(), L0Error> {
        let current_time = self.genesis_time + self.epoch * spec::EPOCH_SECONDS;
        let Some(e) = self.epoch_at(now) else {
            return Err(L0Error::TimeInPast { now, current_time });
        };
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

    fn cohort_id(
        &mut self,
        operator: &str,
        credentials: AccountId,
        fee_recipient: AccountId,
        performance_ppm: u64,
        compounding: bool,
    ) -> u32 {
        if let Some(i) = self.cohorts.iter().position(|c| {
            c.operator == operator
                && c.credentials == credentials
                && c.fee_recipient == fee_recipient
                && c.performance_ppm == performance_ppm
                && c.compounding == compounding
        }) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.cohorts.push(Cohort {
            operator: operator.to_string(),
            credentials,
            fee_recipient,
            performance_ppm,
            compounding,
            withdrawn: 0,
            slashed: 0,
            withdrawn_wei: U256::ZERO,
            el_rewards_wei: U256::ZERO,
        });
        // Cohorts are distinct (operator, credentials, fee recipient, participation) tuples of a
        // world held in memory: far fewer than 2^32.
        u32::try_from(self.cohorts.len() - 1).unwrap_or(u32::MAX)
    }

    /// `⌊count · ppm / 1e6⌋` online, the rest offline.
    fn split_online(count: u64, performance_ppm: u64) -> (u64, u64) {
        // performance_ppm ≤ 1e6, so the product over 1e6 is at most `count`.
        let online = u64::try_from(u128::from(count) * u128::from(performance_ppm) / u128::from(PPM)).unwrap_or(count);
        (online, count - online)
    }

    /// Creates `count` validators of 32 ETH, active from the current epoch, minting their ETH into
    /// the beacon account (the background stake of other stakers).
    ///
    /// Specification:
    /// - fails with [`L0Error::ZeroAmount`] if `count == 0`;
    /// - fails with [`L0Error::InvalidParameter`] if `performance_ppm > 1e6`;
    /// - fails with [`L0Error::Ledger`] if the mint overflows the supply.
    pub fn add_genesis_validators(
        &mut self,
        ledger: &mut Ledger,
        count: u64,
        operator: &str,
        credentials: AccountId,
        fee_recipient: AccountId,
        performance_ppm: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if count == 0 {
            return Err(L0Error::ZeroAmount { what: "count" });
        }
        if performance_ppm > PPM {
            return Err(L0Error::InvalidParameter {
                name: "performance_ppm",
                value: performance_ppm.to_string(),
            });
        }
        self.check_room(count)?;
        let amount = eth_wei(32).mul_c(u(u128::from(count)))?;
        ledger.mint(self.beacon, self.eth, amount)?;
        let cohort = self.cohort_id(
            operator,
            credentials,
            fee_recipient,
            performance_ppm,
            self.params.compounding,
        );
        let (on, off) = Self::split_online(count, performance_ppm);
        for (online, n) in [(true, on), (false, off)] {
            if n > 0 {
                self.groups.push(ValidatorGroup {
                    cohort,
                    online,
                    count: n,
                    balance_gwei: spec::MIN_ACTIVATION_BALANCE,
                    effective_balance_gwei: spec::MIN_ACTIVATION_BALANCE,
                    inactivity_score: 0,
                    activation_eligibility_epoch: self.epoch,
                    activation_epoch: self.epoch,
                    exit_epoch: FAR_FUTURE_EPOCH,
                    withdrawable_epoch: FAR_FUTURE_EPOCH,
                    slashed: false,
                });
            }
        }
        self.compact();
        Ok(vec![L0Event::GenesisValidators {
            cohort,
            count,
            epoch: self.epoch,
        }])
    }

    /// Deposits `count` validators of 32 ETH from `from` (cohort performance and credential type
    /// from the parameters' defaults). The ETH moves into [`BEACON_ACCOUNT`] and waits in the
    /// pending-deposit queue.
    ///
    /// Specification:
    /// - fails with [`L0Error::ZeroAmount`] if `count == 0`;
    /// - fails with [`L0Error::TimeInPast`] / [`L0Error::NotAdvanced`] unless `now` is in the
    ///   current epoch;
    /// - fails with [`L0Error::InsufficientFunds`] if `from` holds less than `count · 32 ETH`.
    #[allow(clippy::too_many_arguments)]
    pub fn deposit(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        count: u64,
        operator: &str,
        credentials: AccountId,
        fee_recipient: AccountId,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        let (perf, comp) = (self.params.performance_ppm, self.params.compounding);
        self.deposit_with(
            ledger,
            from,
            count,
            operator,
            credentials,
            fee_recipient,
            perf,
            comp,
            now,
        )
    }

    /// [`Ethereum::deposit`] with an explicit performance (ppm) and credential type.
    ///
    /// Specification: as [`Ethereum::deposit`], and fails with [`L0Error::InvalidParameter`] if
    /// `performance_ppm > 1e6`.
    #[allow(clippy::too_many_arguments)]
    pub fn deposit_with(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        count: u64,
        operator: &str,
        credentials: AccountId,
        fee_recipient: AccountId,
        performance_ppm: u64,
        compounding: bool,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if count == 0 {
            return Err(L0Error::ZeroAmount { what: "count" });
        }
        if performance_ppm > PPM {
            return Err(L0Error::InvalidParameter {
                name: "performance_ppm",
                value: performance_ppm.to_string(),
            });
        }
        self.check_time(now)?;
        self.check_room(count)?;
        let amount = eth_wei(32).mul_c(u(u128::from(count)))?;
        let balance = ledger.balance(from, self.eth);
        if balance < amount {
            return Err(L0Error::InsufficientFunds {
                account: ledger.account_name(from).to_string(),
                balance,
                required: amount,
            });
        }
        ledger.transfer(from, self.beacon, self.eth, amount)?;
        let cohort = self.cohort_id(operator, credentials, fee_recipient, performance_ppm, compounding);
        let slot = (now - self.genesis_time) / spec::SECONDS_PER_SLOT;
        let (on, off) = Self::split_online(count, performance_ppm);
        for (online, n) in [(true, on), (false, off)] {
            if n > 0 {
                self.pending_deposits.push_back(PendingDeposit {
                    cohort,
                    online,
                    count: n,
                    amount_gwei: spec::MIN_ACTIVATION_BALANCE,
                    slot,
                });
            }
        }
        Ok(vec![L0Event::DepositQueued {
            cohort,
            count,
            amount_wei: amount,
        }])
    }

    /// Requests the exit of `count` active validators of `credentials` (and `operator`, if given),
    /// in validator order, with `compute_exit_epoch_and_update_churn` (exit ≥ current + 5,
    /// withdrawable 256 epochs after exit).
    ///
    /// Specification:
    /// - fails with [`L0Error::ZeroAmount`] if `count == 0`;
    /// - fails with [`L0Error::TimeInPast`] / [`L0Error::NotAdvanced`] unless `now` is in the
    ///   current epoch;
    /// - fails with [`L0Error::UnknownOperator`] if `operator` runs no validator;
    /// - fails with [`L0Error::ExitsExceedActive`] if fewer than `count` validators are active,
    ///   not exiting, not slashed and active for at least `shard_committee_period` epochs.
    pub fn request_exits(
        &mut self,
        credentials: AccountId,
        operator: Option<&str>,
        count: u64,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if count == 0 {
            return Err(L0Error::ZeroAmount { what: "count" });
        }
        self.check_time(now)?;
        if let Some(op) = operator {
            if !self.cohorts.iter().any(|c| c.operator == op) {
                return Err(L0Error::UnknownOperator {
                    operator: op.to_string(),
                });
            }
        }
        let matches = |s: &Self, g: &ValidatorGroup| s.may_exit(g, credentials, operator);
        let available = self.exitable(credentials, operator);
        if count > available {
            return Err(L0Error::ExitsExceedActive {
                credentials,
                operator: operator.map(str::to_string),
                requested: count,
                available,
            });
        }
        let mut w = self.clone();
        let mut events = Vec::new();
        let mut remaining = count;
        let mut i = 0;
        while i < w.groups.len() && remaining > 0 {
            if !matches(&w, &w.groups[i]) {
                i += 1;
                continue;
            }
            let k = remaining.min(w.groups[i].count);
            let j = w.split_off(i, k);
            remaining -= k;
            let n = w.initiate_exits(j, ExitReason::Voluntary, &mut events)?;
            i = j + n;
        }
        w.compact();
        *self = w;
        Ok(events)
    }

    /// How many validators of `credentials` (and `operator`, if given) a voluntary exit may take
    /// now: active, not exiting, not slashed and active for at least `SHARD_COMMITTEE_PERIOD`
    /// epochs (`process_voluntary_exit`'s checks). Callers ask for at most this many, so that a
    /// request never fails whole because some validators are still young.
    pub fn exitable(&self, credentials: AccountId, operator: Option<&str>) -> u64 {
        self.groups
            .iter()
            .filter(|g| self.may_exit(g, credentials, operator))
            .map(|g| g.count)
            .sum()
    }

    fn may_exit(&self, g: &ValidatorGroup, credentials: AccountId, operator: Option<&str>) -> bool {
        let cur = self.epoch;
        let c = &self.cohorts[g.cohort as usize];
        c.credentials == credentials
            && operator.is_none_or(|op| c.operator == op)
            && g.is_active(cur)
            && g.exit_epoch == FAR_FUTURE_EPOCH
            && !g.slashed
            && g.activation_epoch.saturating_add(self.params.shard_committee_period) <= cur
    }

    /// Slashes `count` slashable validators of `operator` (in validator order): they are split out
    /// of their group, exited, `withdrawable = max(withdrawable, epoch + 8192)`, the initial penalty
    /// `eb // 4096` is burned, and their effective balance is recorded for the correlation penalty
    /// applied at `withdrawable − 4096`.
    ///
    /// Specification:
    /// - fails with [`L0Error::ZeroAmount`] if `count == 0`;
    /// - fails with [`L0Error::TimeInPast`] / [`L0Error::NotAdvanced`] unless `now` is in the
    ///   current epoch;
    /// - fails with [`L0Error::UnknownOperator`] if `operator` has no validator;
    /// - fails with [`L0Error::SlashExceedsValidators`] if fewer than `count` are slashable
    ///   (active or exited, not slashed, not yet withdrawable).
    pub fn slash(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        count: u64,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if count == 0 {
            return Err(L0Error::ZeroAmount { what: "count" });
        }
        self.check_time(now)?;
        if !self.cohorts.iter().any(|c| c.operator == operator) {
            return Err(L0Error::UnknownOperator {
                operator: operator.to_string(),
            });
        }
        let cur = self.epoch;
        let matches = |s: &Self, g: &ValidatorGroup| {
            s.cohorts[g.cohort as usize].operator == operator
                && !g.slashed
                && g.activation_epoch <= cur
                && cur < g.withdrawable_epoch
        };
        let available: u64 = self.groups.iter().filter(|g| matches(self, g)).map(|g| g.count).sum();
        if count > available {
            return Err(L0Error::SlashExceedsValidators {
                operator: operator.to_string(),
                requested: count,
                available,
            });
        }
        let mut w = self.clone();
        let mut events = Vec::new();
        let mut burned: u128 = 0;
        let mut remaining = count;
        let mut i = 0;
        while i < w.groups.len() && remaining > 0 {
            if !matches(&w, &w.groups[i]) {
                i += 1;
                continue;
            }
            let k = remaining.min(w.groups[i].count);
            let j = w.split_off(i, k);
            remaining -= k;
            let n = if w.groups[j].exit_epoch == FAR_FUTURE_EPOCH {
                w.initiate_exits(j, ExitReason::Slashed, &mut events)?
            } else {
                1
            };
            for g in w.groups[j..j + n].iter_mut() {
                g.slashed = true;
                g.withdrawable_epoch = g
                    .withdrawable_epoch
                    .max(ovf(cur.checked_add(spec::EPOCHS_PER_SLASHINGS_VECTOR))?);
                let eb = g.effective_balance_gwei;
                let slot = w.slashings.entry(cur).or_insert(0);
                *slot = ovf(slot.checked_add(ovf(eb.checked_mul(g.count))?))?;
                let (penalty, (whistle, _)) = if w.params.pre_electra_slashing {
                    (
                        spec::initial_slashing_penalty_pre_electra(eb),
                        spec::whistleblower_reward_pre_electra(eb),
                    )
                } else {
                    (spec::initial_slashing_penalty(eb), spec::whistleblower_reward(eb))
                };
                let actual = penalty.min(g.balance_gwei);
                g.balance_gwei -= actual;
                burned += actual as u128 * g.count as u128;
                events.push(L0Event::Slashed {
                    cohort: g.cohort,
                    count: g.count,
                    initial_penalty_gwei: actual,
                    whistleblower_reward_gwei: whistle,
                    correlation_epoch: g.withdrawable_epoch - spec::EPOCHS_PER_SLASHINGS_VECTOR / 2,
                });
                w.cohorts[g.cohort as usize].slashed += g.count;
            }
            i = j + n;
        }
        let burn_wei = gwei_to_wei(burned)?;
        ledger.burn(w.beacon, w.eth, burn_wei)?;
        w.total_penalties_gwei += burned;
        w.compact();
        *self = w;
        Ok(events)
    }

    /// Processes every epoch transition whose boundary is at or before `now`, in time order.
    /// Atomic: on error neither the chain nor the ledger changes.
    ///
    /// Specification:
    /// - fails with [`L0Error::TimeInPast`] if `now` is before the current epoch's start;
    /// - fails with [`L0Error::Ledger`] / [`L0Error::Math`] on an internal accounting failure.
    pub fn advance_to(&mut self, ledger: &mut Ledger, now: u64) -> Result<Vec<L0Event>, L0Error> {
        self.advance_to_with(ledger, now, Stepping::ClosedForm)
    }

    /// [`Ethereum::advance_to`] with a choice of [`Stepping`]; both give the same state and events.
    pub fn advance_to_with(
        &mut self,
        ledger: &mut Ledger,
        now: u64,
        stepping: Stepping,
    ) -> Result<Vec<L0Event>, L0Error> {
        let current_time = self.genesis_time + self.epoch * spec::EPOCH_SECONDS;
        let target = self.epoch_at(now).ok_or(L0Error::TimeInPast { now, current_time })?;
        if target < self.epoch {
            return Err(L0Error::TimeInPast { now, current_time });
        }
        if target == self.epoch {
            return Ok(Vec::new());
        }
        let mut w = self.clone();
        let events = ledger.atomic(|l| {
            let mut events = Vec::new();
            while w.epoch < target {
                let plan = match stepping {
                    Stepping::ClosedForm => w.plan_quiet(target - w.epoch)?,
                    Stepping::EpochByEpoch => None,
                };
                if let Some(plan) = plan {
                    w.advance_quiet(l, plan, &mut events)?;
                } else {
                    w.process_epoch(l, &mut events)?;
                    w.epoch += 1;
                }
            }
            Ok::<_, L0Error>(events)
        })?;
        *self = w;
        Ok(events)
    }

    // ----- internals -----

    /// Splits `k` validators off group `i` (the split part goes right after it unless `k` is the
    /// whole group); returns the index of the `k` validators.
    fn split_off(&mut self, i: usize, k: u64) -> usize {
        if k >= self.groups[i].count {
            return i;
        }
        let mut part = self.groups[i].clone();
        part.count = k;
        self.groups[i].count -= k;
        self.insert_group(i + 1, part);
        i + 1
    }

    /// Inserts a group at `at`, keeping the sweep cursor on the same validator (the validators of
    /// the new group are the last ones of the group before it).
    fn insert_group(&mut self, at: usize, g: ValidatorGroup) {
        self.groups.insert(at, g);
        if self.groups.len() == 1 {
            return;
        }
        if self.sweep_group >= at {
            self.sweep_group += 1;
        } else if self.sweep_group + 1 == at && self.sweep_offset >= self.groups[at - 1].count {
            self.sweep_offset -= self.groups[at - 1].count;
            self.sweep_group = at;
        }
    }

    /// Initiates the exit of every validator of group `j` (exit churn may put them in several
    /// epochs: the group is split into consecutive groups). Returns how many groups it became.
    fn initiate_exits(&mut self, j: usize, reason: ExitReason, events: &mut Vec<L0Event>) -> Result<usize, L0Error> {
        let tab = self.total_active_balance_at(self.epoch)?;
        let churn = spec::activation_exit_churn_limit(tab);
        let (eb, count) = (self.groups[j].effective_balance_gwei, self.groups[j].count);
        let runs = self.exit_churn.exit_epochs(self.epoch, eb, count, churn)?;
        let template = self.groups[j].clone();
        for (idx, (exit_epoch, n)) in runs.iter().enumerate() {
            let mut g = template.clone();
            g.count = *n;
            g.exit_epoch = *exit_epoch;
            g.withdrawable_epoch = ovf(exit_epoch.checked_add(spec::MIN_VALIDATOR_WITHDRAWABILITY_DELAY))?;
            events.push(L0Event::ExitInitiated {
                cohort: g.cohort,
                count: g.count,
                exit_epoch: g.exit_epoch,
                withdrawable_epoch: g.withdrawable_epoch,
                reason,
            });
            if idx == 0 {
                self.groups[j] = g;
            } else {
                self.insert_group(j + idx, g);
            }
        }
        Ok(runs.len().max(1))
    }

    /// Merges adjacent identical groups and drops empty ones, keeping the sweep cursor on the same
    /// validator.
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.groups);
        let (cursor, offset) = (self.sweep_group, self.sweep_offset);
        let mut new_cursor: Option<(usize, u64)> = None;
        let mut out: Vec<ValidatorGroup> = Vec::with_capacity(old.len());
        for (i, g) in old.into_iter().enumerate() {
            let last_index = out.len().saturating_sub(1);
            if g.count == 0 {
                if i == cursor {
                    new_cursor = Some((out.len(), 0));
                }
                continue;
            }
            if let Some(last) = out.last_mut() {
                if last.same_validators(&g) {
                    if i == cursor {
                        new_cursor = Some((last_index, last.count + offset));
                    }
                    last.count += g.count;
                    continue;
                }
            }
            if i == cursor {
                new_cursor = Some((out.len(), offset));
            }
            out.push(g);
        }
        let (mut c, mut o) = new_cursor.unwrap_or((0, 0));
        if c >= out.len() {
            c = 0;
            o = 0;
        }
        self.groups = out;
        self.sweep_group = c;
        self.sweep_offset = o;
    }

    fn finalized_epoch(&self, epoch: u64) -> u64 {
        for w in &self.params.finality_lost {
            if w.from_epoch <= epoch && epoch < w.to_epoch {
                return w.from_epoch.saturating_sub(1);
            }
        }
        epoch.saturating_sub(1)
    }

    fn settle(&mut self, ledger: &mut Ledger, rewards: u128, penalties: u128) -> Result<(), L0Error> {
        if rewards > 0 {
            ledger.mint(self.beacon, self.eth, gwei_to_wei(rewards)?)?;
        }
        if penalties > 0 {
            ledger.burn(self.beacon, self.eth, gwei_to_wei(penalties)?)?;
        }
        self.total_rewards_gwei += rewards;
        self.total_penalties_gwei += penalties;
        Ok(())
    }

    /// The epoch's reward rates: total active balance, base reward per increment and the
    /// participating / active increments of the previous epoch's attestations.
    fn rates(&self, cur: u64) -> MathResult<Rates> {
        let prev = cur.saturating_sub(1);
        let tab = self.total_active_balance_at(cur)?;
        let mut part_gwei: u128 = 0;
        for g in &self.groups {
            if g.online && !g.slashed && g.is_active(prev) {
                part_gwei += g.effective_balance_gwei as u128 * g.count as u128;
            }
        }
        let part_incr = u64::try_from(part_gwei.max(spec::EFFECTIVE_BALANCE_INCREMENT as u128))
            .map_err(|_| MathError::Overflow)?
            / spec::EFFECTIVE_BALANCE_INCREMENT;
        Ok(Rates {
            tab,
            brpi: spec::base_reward_per_increment(tab),
            part_incr,
            active_incr: tab / spec::EFFECTIVE_BALANCE_INCREMENT,
        })
    }

    /// One epoch: block-level streams, sweep, then `process_epoch`.
    fn process_epoch(&mut self, ledger: &mut Ledger, events: &mut Vec<L0Event>) -> Result<(), L0Error> {
        let cur = self.epoch;
        let prev = cur.saturating_sub(1);
        let rates = self.rates(cur)?;

        // (1) Block-level streams: sync committee + proposer (expected value) and EL rewards.
        let mut rewards: u128 = 0;
        let mut penalties: u128 = 0;
        let mut el: BTreeMap<AccountId, U256> = BTreeMap::new();
        let mut el_by_cohort: BTreeMap<u32, U256> = BTreeMap::new();
        for g in self.groups.iter_mut() {
            let Some(a) = block_amounts(g, cur, &rates)? else {
                continue;
            };
            if g.online {
                g.balance_gwei = ovf(g.balance_gwei.checked_add(a.reward))?;
                rewards += a.reward as u128 * g.count as u128;
                let per = spec::el_reward_per_epoch_wei(g.effective_balance_gwei, self.params.el_reward_apr_ppm);
                let amt = u(per).mul_c(u(g.count as u128))?;
                if amt > U256::ZERO {
                    let c = &self.cohorts[g.cohort as usize];
                    let e = el.entry(c.fee_recipient).or_insert(U256::ZERO);
                    *e = e.add_c(amt)?;
                    let ec = el_by_cohort.entry(g.cohort).or_insert(U256::ZERO);
                    *ec = ec.add_c(amt)?;
                }
            } else {
                let p = a.penalties[0].min(g.balance_gwei);
                g.balance_gwei -= p;
                penalties += p as u128 * g.count as u128;
            }
        }
        let mut el_total = U256::ZERO;
        for (acct, amt) in &el {
            ledger.mint(*acct, self.eth, *amt)?;
            el_total = el_total.add_c(*amt)?;
        }
        for (c, amt) in el_by_cohort {
            let co = &mut self.cohorts[c as usize];
            co.el_rewards_wei = co.el_rewards_wei.add_c(amt)?;
        }
        self.total_el_rewards_wei = self.total_el_rewards_wei.add_c(el_total)?;
        self.settle(ledger, rewards, penalties)?;
        let (mut total_r, mut total_p) = (rewards, penalties);

        // (2) Withdrawal sweep.
        if self.sweep(ledger, cur, events, None)? {
            self.compact();
        }

        // (3) process_epoch.
        let finalized = self.finalized_epoch(cur);
        let leak = cur > 0 && prev.saturating_sub(finalized) > spec::MIN_EPOCHS_TO_INACTIVITY_PENALTY;
        if cur > 0 {
            let (r, p) = self.rewards_and_penalties(prev, &rates, leak)?;
            self.settle(ledger, r, p)?;
            total_r += r;
            total_p += p;
        }
        self.registry_updates(cur, finalized, events)?;
        let p = self.correlation_penalties(cur, rates.tab, events)?;
        self.settle(ledger, 0, p)?;
        total_p += p;
        self.pending_deposits_step(cur, rates.tab, finalized, events)?;
        for g in self.groups.iter_mut() {
            let max_eb = self.cohorts[g.cohort as usize].max_effective_balance();
            g.effective_balance_gwei =
                spec::updated_effective_balance(g.balance_gwei, g.effective_balance_gwei, max_eb);
        }
        // Once activation is settled beyond the exit waiting period, activation epochs no longer
        // matter: normalise them so identical validators activated at different epochs merge.
        let settled = self.settled_epochs();
        for g in self.groups.iter_mut() {
            if g.activation_epoch != 0 && g.activation_epoch.saturating_add(settled) <= cur {
                g.activation_eligibility_epoch = 0;
                g.activation_epoch = 0;
            }
        }
        self.prune_slashings(cur);
        self.compact();
        if self.groups.is_empty() {
            // A chain without validators has nothing to report.
            return Ok(());
        }
        events.push(L0Event::EpochProcessed {
            epoch: cur,
            rewards_gwei: total_r,
            penalties_gwei: total_p,
            el_rewards_wei: el_total,
            inactivity_leak: leak,
        });
        Ok(())
    }

    /// Epochs after activation from which activation epochs are normalised to 0.
    fn settled_epochs(&self) -> u64 {
        self.params.shard_committee_period.saturating_add(1)
    }

    /// `process_slashings_reset`: forget slashings older than the slashings vector as of `cur`.
    fn prune_slashings(&mut self, cur: u64) {
        if let Some(cut) = (cur + 1).checked_sub(spec::EPOCHS_PER_SLASHINGS_VECTOR) {
            self.slashings = self.slashings.split_off(&(cut + 1));
        }
    }

    fn rewards_and_penalties(&mut self, prev: u64, rates: &Rates, leak: bool) -> Result<(u128, u128), L0Error> {
        let (mut rewards, mut penalties) = (0u128, 0u128);
        for g in self.groups.iter_mut() {
            if !g.attestation_eligible(prev) {
                continue;
            }
            let participated = g.participated(prev);
            // process_inactivity_updates (runs before rewards).
            g.inactivity_score = spec::next_inactivity_score(g.inactivity_score, participated, leak)?;
            let a = flag_amounts(g, participated, rates, leak)?;
            let n = g.count as u128;
            g.balance_gwei = ovf(g.balance_gwei.checked_add(a.reward))?;
            rewards += a.reward as u128 * n;
            for p in a.penalties {
                let p = p.min(g.balance_gwei);
                g.balance_gwei -= p;
                penalties += p as u128 * n;
            }
        }
        Ok((rewards, penalties))
    }

    fn registry_updates(&mut self, cur: u64, finalized: u64, events: &mut Vec<L0Event>) -> Result<(), L0Error> {
        let activation_epoch = spec::compute_activation_exit_epoch(cur)?;
        let mut i = 0;
        while i < self.groups.len() {
            let g = &self.groups[i];
            if g.activation_eligibility_epoch == FAR_FUTURE_EPOCH
                && g.effective_balance_gwei >= spec::MIN_ACTIVATION_BALANCE
            {
                self.groups[i].activation_eligibility_epoch = cur + 1;
            } else if g.is_active(cur)
                && g.effective_balance_gwei <= spec::EJECTION_BALANCE
                && g.exit_epoch == FAR_FUTURE_EPOCH
            {
                let n = self.initiate_exits(i, ExitReason::Ejected, events)?;
                i += n;
                continue;
            } else if g.activation_eligibility_epoch <= finalized && g.activation_epoch == FAR_FUTURE_EPOCH {
                let (cohort, count) = (g.cohort, g.count);
                self.groups[i].activation_epoch = activation_epoch;
                events.push(L0Event::ActivationScheduled {
                    cohort,
                    count,
                    activation_epoch,
                });
            }
            i += 1;
        }
        Ok(())
    }

    fn correlation_penalties(&mut self, cur: u64, tab: u64, events: &mut Vec<L0Event>) -> Result<u128, L0Error> {
        let total = self.total_slashings_gwei();
        let mut burned = 0u128;
        for g in self.groups.iter_mut() {
            if g.slashed && cur + spec::EPOCHS_PER_SLASHINGS_VECTOR / 2 == g.withdrawable_epoch {
                let p = spec::correlation_penalty(g.effective_balance_gwei, total, tab)?.min(g.balance_gwei);
                g.balance_gwei -= p;
                burned += p as u128 * g.count as u128;
                events.push(L0Event::CorrelationPenalty {
                    cohort: g.cohort,
                    count: g.count,
                    penalty_gwei: p,
                });
            }
        }
        Ok(burned)
    }

    fn pending_deposits_step(
        &mut self,
        cur: u64,
        tab: u64,
        finalized: u64,
        events: &mut Vec<L0Event>,
    ) -> Result<(), L0Error> {
        let available = ovf(self
            .deposit_balance_to_consume
            .checked_add(spec::activation_exit_churn_limit(tab)))?;
        let finalized_slot = ovf(finalized.checked_mul(spec::SLOTS_PER_EPOCH))?;
        let mut processed: u64 = 0;
        let mut index: u64 = 0;
        let mut churn_reached = false;
        while let Some(front) = self.pending_deposits.front_mut() {
            if front.slot > finalized_slot || index >= spec::MAX_PENDING_DEPOSITS_PER_EPOCH {
                break;
            }
            let room = spec::MAX_PENDING_DEPOSITS_PER_EPOCH - index;
            let by_churn = (available - processed)
                .checked_div(front.amount_gwei)
                .unwrap_or(u64::MAX);
            let k = front.count.min(room).min(by_churn);
            if k > 0 {
                processed += k * front.amount_gwei;
                index += k;
                front.count -= k;
                let amount = front.amount_gwei;
                let (cohort, online) = (front.cohort, front.online);
                let max_eb = self.cohorts[cohort as usize].max_effective_balance();
                self.groups.push(ValidatorGroup {
                    cohort,
                    online,
                    count: k,
                    balance_gwei: amount,
                    effective_balance_gwei: (amount - amount % spec::EFFECTIVE_BALANCE_INCREMENT).min(max_eb),
                    inactivity_score: 0,
                    activation_eligibility_epoch: FAR_FUTURE_EPOCH,
                    activation_epoch: FAR_FUTURE_EPOCH,
                    exit_epoch: FAR_FUTURE_EPOCH,
                    withdrawable_epoch: FAR_FUTURE_EPOCH,
                    slashed: false,
                });
                events.push(L0Event::DepositsApplied {
                    cohort,
                    count: k,
                    epoch: cur,
                });
            }
            let Some(front) = self.pending_deposits.front() else {
                break;
            };
            if front.count == 0 {
                self.pending_deposits.pop_front();
                continue;
            }
            // Stopped inside this entry: by the per-epoch count (checked first) or by churn.
            if k < room {
                churn_reached = true;
            }
            break;
        }
        self.deposit_balance_to_consume = if churn_reached { available - processed } else { 0 };
        Ok(())
    }

    /// The withdrawal sweep of the 32 blocks of epoch `cur`. Returns whether validators were fully
    /// withdrawn (their groups are left empty, for [`Ethereum::compact`]). With `lazy`, balances are
    /// read from and written back to a quiet stretch's balance lines.
    fn sweep(
        &mut self,
        ledger: &mut Ledger,
        cur: u64,
        events: &mut Vec<L0Event>,
        mut lazy: Option<&mut closed_form::Lazy>,
    ) -> Result<bool, L0Error> {
        if self.groups.is_empty() {
            return Ok(false);
        }
        let total_validators: u64 = match &lazy {
            Some(z) => z.total_validators(),
            None => self.groups.iter().map(|g| g.count).sum(),
        };
        let mut withdrawals_left = spec::MAX_WITHDRAWALS_PER_PAYLOAD * spec::SLOTS_PER_EPOCH;
        let mut scan_left = (spec::MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP * spec::SLOTS_PER_EPOCH).min(total_validators);
        let mut visits = 0usize;
        let mut removed = false;
        while withdrawals_left > 0 && scan_left > 0 && visits <= self.groups.len() + 1 {
            if self.sweep_group >= self.groups.len() {
                self.sweep_group = 0;
                self.sweep_offset = 0;
            }
            let gi = self.sweep_group;
            if let Some(z) = lazy.as_deref_mut() {
                self.groups[gi].balance_gwei = z.at_sweep(gi, cur)?;
            }
            let g = &self.groups[gi];
            let max_eb = self.cohorts[g.cohort as usize].max_effective_balance();
            let full = g.withdrawable_epoch <= cur && g.balance_gwei > 0;
            let partial = !full && g.effective_balance_gwei == max_eb && g.balance_gwei > max_eb;
            let eligible = full || partial;
            let remaining = g.count.saturating_sub(self.sweep_offset);
            let mut step = remaining.min(scan_left);
            if eligible {
                step = step.min(withdrawals_left);
                withdrawals_left -= step;
            }
            scan_left -= step;
            self.sweep_offset += step;
            if self.sweep_offset < g.count {
                break;
            }
            // The sweep has passed the whole group: pay it.
            if eligible {
                let per = if full { g.balance_gwei } else { g.balance_gwei - max_eb };
                let amount = gwei_to_wei(per as u128 * g.count as u128)?;
                let (cohort, count) = (g.cohort, g.count);
                let to = self.cohorts[cohort as usize].credentials;
                ledger.transfer(self.beacon, to, self.eth, amount)?;
                let c = &mut self.cohorts[cohort as usize];
                c.withdrawn_wei = c.withdrawn_wei.add_c(amount)?;
                let g = &mut self.groups[gi];
                g.balance_gwei -= per;
                if full {
                    c.withdrawn += count;
                    g.count = 0;
                    removed = true;
                }
                if let Some(z) = lazy.as_deref_mut() {
                    z.paid(gi, cur, g.balance_gwei);
                }
                events.push(L0Event::Withdrawal {
                    cohort,
                    to,
                    count,
                    amount_wei: amount,
                    full,
                });
            } else if g.withdrawable_epoch <= cur && g.balance_gwei == 0 {
                // Nothing left to withdraw: the validators are done.
                let count = g.count;
                self.cohorts[g.cohort as usize].withdrawn += count;
                self.groups[gi].count = 0;
                removed = true;
            }
            self.sweep_offset = 0;
            self.sweep_group = (gi + 1) % self.groups.len();
            visits += 1;
        }
        Ok(removed)
    }
}

impl Chain for Ethereum {
    fn native_symbol(&self) -> &str {
        &self.params.asset_symbol
    }
    fn epoch_seconds(&self) -> u64 {
        spec::EPOCH_SECONDS
    }
    fn unbonding_seconds(&self) -> u64 {
        (1 + spec::MAX_SEED_LOOKAHEAD + spec::MIN_VALIDATOR_WITHDRAWABILITY_DELAY) * spec::EPOCH_SECONDS
    }
    fn current_epoch(&self) -> u64 {
        self.epoch
    }
    fn advance_to(&mut self, ledger: &mut Ledger, now: u64) -> Result<Vec<L0Event>, L0Error> {
        Ethereum::advance_to(self, ledger, now)
    }
    fn stake(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        amount: U256,
        operator: &str,
        credentials: AccountId,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        let count = whole_validators(amount)?;
        self.deposit(ledger, from, count, operator, credentials, credentials, now)
    }
    fn request_unstake(
        &mut self,
        credentials: AccountId,
        operator: Option<&str>,
        amount: U256,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        let count = whole_validators(amount)?;
        self.request_exits(credentials, operator, count, now)
    }
    fn slash_operator(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        validators: Option<u64>,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        let count = match validators {
            Some(n) => n,
            None => {
                let cur = self.epoch;
                self.groups
                    .iter()
                    .filter(|g| {
                        self.cohorts[g.cohort as usize].operator == operator
                            && !g.slashed
                            && g.activation_epoch <= cur
                            && cur < g.withdrawable_epoch
                    })
                    .map(|g| g.count)
                    .sum()
            }
        };
        self.slash(ledger, operator, count, now)
    }
    fn summary_by_credentials(&self, credentials: AccountId) -> CredentialsSummary {
        Ethereum::summary_by_credentials(self, credentials)
    }
    fn summary_by_operator(&self, operator: &str) -> CredentialsSummary {
        Ethereum::summary_by_operator(self, operator)
    }
    fn total_staked_wei(&self) -> U256 {
        Ethereum::total_staked_wei(self)
    }
    fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        Ethereum::check_invariants(self, ledger)
    }
}

fn whole_validators(amount: U256) -> Result<u64, L0Error> {
    let unit = eth_wei(32);
    if amount == U256::ZERO || amount % unit != U256::ZERO {
        return Err(L0Error::NotWholeValidators { amount, unit });
    }
    u64::try_from(amount / unit).map_err(|_| L0Error::Math(MathError::Overflow))
}

impl stake_ledger::StateHash for Ethereum {
    fn hash_state(&self, h: &mut stake_ledger::blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}
