//! L0 — proof-of-stake chains (SPEC §3).
//!
//! * [`spec`]: the pure Ethereum consensus-economics functions (base reward, flag rewards,
//!   inactivity, slashing, churn, hysteresis), in gwei, transcribed from `ethereum/consensus-specs`
//!   (Altair → Electra).
//! * [`Ethereum`]: the beacon chain with validators held in cohorts (SPEC §1.7): deposits through
//!   the Electra pending-deposit queue, per-epoch rewards and penalties, inactivity leak, slashing
//!   with correlation penalty, exit churn, withdrawal sweep, execution-layer reward stream.
//! * [`GenericChain`]: a parameterised chain (Solana, Sui, Polkadot, Cosmos-style; SPEC §3.2),
//!   whose reward, warm-up and slashing rules are the pure functions of [`chains`].
//! * [`Bitcoin`]: no native rewards; timelocked outputs for BTC staking (SPEC §5.4).
//! * [`Chain`]: the chain-generic interface the engine drives.
//!
//! Chains hold their staked native asset in a module account of the ledger; rewards are minted
//! into it, penalties burned from it, withdrawals transferred out of it, so the ledger balance of
//! that account always equals the stake the chain reports (checked by `check_invariants`).

pub mod bitcoin;
pub mod chains;
mod error;
pub mod ethereum;
pub mod generic;
pub mod spec;

pub use bitcoin::{Bitcoin, BitcoinError, BitcoinParams};
pub use error::L0Error;
pub use ethereum::{
    Cohort, EthParams, Ethereum, FinalityLoss, PendingDeposit, QueueWait, Stepping, ValidatorGroup, BEACON_ACCOUNT,
};
pub use generic::{GenericChain, GenericParams, Offence, OperatorParams, RewardModel, SlashingParams};

use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, Ledger};
use stake_math::U256;

/// Why a validator exit was initiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitReason {
    /// Voluntary / execution-layer-triggered exit.
    Voluntary,
    /// Slashed validators are exited.
    Slashed,
    /// Effective balance fell to the ejection balance (16 ETH).
    Ejected,
}

/// Events of L0 chains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum L0Event {
    /// Genesis validators were created, active at once.
    GenesisValidators {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// Epoch they are active from.
        epoch: u64,
    },
    /// A deposit entered the pending-deposit queue.
    DepositQueued {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// Wei moved into the beacon account.
        amount_wei: U256,
    },
    /// Pending deposits were applied (validators created, not yet active).
    DepositsApplied {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// Epoch of processing.
        epoch: u64,
    },
    /// Validators got an activation epoch.
    ActivationScheduled {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// First active epoch.
        activation_epoch: u64,
    },
    /// Validators' exit was initiated.
    ExitInitiated {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// Exit epoch.
        exit_epoch: u64,
        /// Withdrawable epoch.
        withdrawable_epoch: u64,
        /// Why.
        reason: ExitReason,
    },
    /// Validators were slashed.
    Slashed {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// Initial penalty per validator (gwei).
        initial_penalty_gwei: u64,
        /// Whistleblower reward per slashed validator (gwei); reported, not credited (the proposer
        /// is an anonymous validator outside the model).
        whistleblower_reward_gwei: u64,
        /// Epoch at which the correlation penalty applies.
        correlation_epoch: u64,
    },
    /// The correlation (proportional) slashing penalty was applied.
    CorrelationPenalty {
        /// Cohort id.
        cohort: u32,
        /// Validators.
        count: u64,
        /// Penalty per validator (gwei).
        penalty_gwei: u64,
    },
    /// The withdrawal sweep paid a cohort's credentials account.
    Withdrawal {
        /// Cohort id.
        cohort: u32,
        /// Recipient (withdrawal-credentials account).
        to: AccountId,
        /// Validators paid.
        count: u64,
        /// Total paid (wei).
        amount_wei: U256,
        /// Full withdrawal (validator done) or partial (excess over max effective balance).
        full: bool,
    },
    /// One epoch transition was processed (not reported while the chain has no validators).
    EpochProcessed {
        /// The epoch that ended.
        epoch: u64,
        /// Consensus rewards minted (gwei).
        rewards_gwei: u128,
        /// Consensus penalties burned (gwei).
        penalties_gwei: u128,
        /// Execution-layer rewards paid to fee recipients (wei).
        el_rewards_wei: U256,
        /// Whether the chain was in an inactivity leak.
        inactivity_leak: bool,
    },
    /// Generic chain: stake bonded.
    Bonded {
        /// Owner.
        credentials: AccountId,
        /// Operator.
        operator: String,
        /// Amount (base units).
        amount: U256,
    },
    /// Generic chain: unbonding started.
    UnbondingStarted {
        /// Owner.
        credentials: AccountId,
        /// Operator.
        operator: String,
        /// Amount (base units).
        amount: U256,
        /// Epoch at which it is paid out.
        release_epoch: u64,
    },
    /// Generic chain: unbonded stake paid out.
    Unbonded {
        /// Owner.
        credentials: AccountId,
        /// Amount (base units).
        amount: U256,
    },
    /// Generic chain: an operator's stake was slashed.
    StakeSlashed {
        /// Operator.
        operator: String,
        /// Amount burned (base units).
        amount: U256,
    },
    /// Generic chain: epoch rewards compounded into bonded stake.
    RewardsAccrued {
        /// Epoch.
        epoch: u64,
        /// Amount minted (base units).
        amount: U256,
    },
}

/// What a set of validators (by credentials or operator) holds. Counts are validators (0 for
/// chains without validator units); amounts are in the native asset's base units.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsSummary {
    /// Deposited but not yet active (pending-deposit queue, or waiting for activation).
    pub pending: u64,
    /// Active and not exiting.
    pub active: u64,
    /// Exit initiated, still active.
    pub exiting: u64,
    /// Exited, not yet fully withdrawn.
    pub exited_unwithdrawn: u64,
    /// Fully withdrawn.
    pub withdrawn: u64,
    /// Ever slashed.
    pub slashed: u64,
    /// Every non-withdrawn balance, including pending deposits (base units).
    pub balance_wei: U256,
    /// Balance of active, non-exiting stake (base units).
    pub active_balance_wei: U256,
    /// Balance of exiting or exited-unwithdrawn stake (base units).
    pub exiting_balance_wei: U256,
    /// Sum of effective balances of non-withdrawn validators (base units).
    pub effective_balance_wei: U256,
    /// Paid out so far by withdrawals (base units).
    pub withdrawn_wei: U256,
    /// Execution-layer rewards paid to the fee recipient so far (base units).
    pub el_rewards_wei: U256,
}

/// The chain-generic L0 interface (SPEC §3): what the engine needs from any proof-of-stake chain.
pub trait Chain {
    /// Symbol of the native asset (`ETH`, `SOL`, …), registered in the ledger by the caller.
    fn native_symbol(&self) -> &str;
    /// Length of an epoch in seconds.
    fn epoch_seconds(&self) -> u64;
    /// Typical time from an unstake request to funds in hand, in seconds (Ethereum: the minimum,
    /// 5 + 256 epochs, with an empty exit queue; the sweep adds up to a few days).
    fn unbonding_seconds(&self) -> u64;
    /// The chain's current epoch.
    fn current_epoch(&self) -> u64;
    /// Processes every epoch boundary up to `now`, in time order.
    fn advance_to(&mut self, ledger: &mut Ledger, now: u64) -> Result<Vec<L0Event>, L0Error>;
    /// Stakes `amount` from `from` with `operator`, owned by `credentials` (Ethereum: a whole
    /// number of 32 ETH validators, fee recipient = credentials).
    fn stake(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        amount: U256,
        operator: &str,
        credentials: AccountId,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error>;
    /// Requests that `amount` of `credentials`' stake (optionally only with `operator`) be
    /// unstaked (Ethereum: a whole number of validators exit).
    fn request_unstake(
        &mut self,
        credentials: AccountId,
        operator: Option<&str>,
        amount: U256,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error>;
    /// Slashes `operator` (Ethereum: `validators` of its validators, all slashable ones if
    /// `None`; generic chains: the operator's whole stake at the chain's slashing fraction).
    fn slash_operator(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        validators: Option<u64>,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error>;
    /// What `credentials` holds.
    fn summary_by_credentials(&self, credentials: AccountId) -> CredentialsSummary;
    /// What `operator` runs.
    fn summary_by_operator(&self, operator: &str) -> CredentialsSummary;
    /// Total stake held by the chain's module account (base units).
    fn total_staked_wei(&self) -> U256;
    /// Backing rules of the chain (SPEC §1.4).
    fn check_invariants(&self, ledger: &Ledger) -> Result<(), String>;
}
