//! `eigenlayer` model — operator-centric restaking, contract-exact (SPEC §5.1;
//! `Layr-Labs/eigenlayer-contracts`).
//!
//! * **Strategies** (`StrategyBase`): one per ledger token, virtual offsets 1e3, tokens held in
//!   `eigenlayer:strategy:<SYMBOL>`; plus the beacon-chain ETH strategy fed by EigenPods.
//! * **Share model** (`SlashingLib`): deposit shares `s`, deposit scaling factor `k`, operator max
//!   magnitude `m`, beacon-chain slashing factor `l`; withdrawable `mulWad(mulWad(s, k), sf)`.
//! * **DelegationManager**: operators, delegation, a withdrawal queue that stays slashable for
//!   `MIN_WITHDRAWAL_DELAY` blocks (cumulative scaled-share history, max-magnitude snapshots).
//! * **AllocationManager**: AVSs, operator sets, magnitudes with allocation / deallocation delays,
//!   `slashOperator`, burning or redistribution of slashed shares.
//! * **EigenPods**: credential verification and checkpoints; balance drops cut the beacon-chain
//!   slashing factor, so an L0 slash reaches every restaker above it.
//! * **RewardsCoordinator**: validated AVS rewards submissions, an engine-side daily distribution
//!   (as the off-chain sidecar computes it), operator splits, an opt-in protocol fee, cumulative
//!   claims; restaking points through O(1) per-(operator, strategy) indices.
//!
//! Time is in blocks (12 s); rewards use seconds, as the coordinator does.

mod allocation;
mod delegation;
mod error;
pub mod math;
mod pods;
mod queries;
mod rewards;
pub mod snapshots;
mod strategies;

pub use error::ElError;
pub use math::{calc_slashed_amount, slash_magnitude};
pub use queries::{OperatorReport, QueuedWithdrawalView, SetReport, StakerStrategyReport};
pub use rewards::{RewardsCoordinator, RewardsParams, RewardsSubmission, SplitInfo, DAY_SECONDS, REWARDS_ACCOUNT};

use serde::{Deserialize, Serialize};
use snapshots::History;
use stake_ledger::{hash_serde, StateHash};
use stake_math::U256;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// `DelegationManager.MIN_WITHDRAWAL_DELAY_BLOCKS` (14 days of 12 s blocks).
pub const MIN_WITHDRAWAL_DELAY: u64 = 100_800;
/// `AllocationManager.DEALLOCATION_DELAY` (blocks).
pub const DEALLOCATION_DELAY: u64 = 100_800;
/// `AllocationManager.ALLOCATION_CONFIGURATION_DELAY` (blocks).
pub const ALLOCATION_CONFIGURATION_DELAY: u64 = 126_000;
/// `StrategyManager.MAX_STAKER_STRATEGY_LIST_LENGTH`.
pub const MAX_STAKER_STRATEGY_LIST_LENGTH: usize = 32;
/// Name of the beacon-chain ETH strategy.
pub const BEACON_STRATEGY: &str = "beaconChainETH";
/// Name of the EIGEN strategy (mainnet's `eigenStrategy`, over bEIGEN; the model names the token EIGEN).
pub const EIGEN_STRATEGY: &str = "EIGEN";
/// Ledger account receiving burned slashed tokens.
pub const BURN_ACCOUNT: &str = "eigenlayer:burned";
/// 1 gwei in wei.
pub const GWEI: U256 = U256::new(1_000_000_000);
/// Seconds per block.
pub const SECONDS_PER_BLOCK: u64 = 12;

/// Ledger account holding a strategy's tokens.
pub fn strategy_account_name(symbol: &str) -> String {
    format!("eigenlayer:strategy:{symbol}")
}

/// Ledger account of an owner's EigenPod (its validators' withdrawal credentials).
pub fn pod_account_name(owner: &str) -> String {
    format!("eigenlayer:pod:{owner}")
}

/// Canonical key of an operator set: `<avs>#<id>`.
pub fn set_key(avs: &str, id: u32) -> String {
    format!("{avs}#{id}")
}

/// Delay parameters (blocks). Defaults are mainnet values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElParams {
    /// `MIN_WITHDRAWAL_DELAY_BLOCKS`.
    pub min_withdrawal_delay: u64,
    /// `DEALLOCATION_DELAY`.
    pub deallocation_delay: u64,
    /// `ALLOCATION_CONFIGURATION_DELAY`.
    pub allocation_configuration_delay: u64,
}

impl Default for ElParams {
    fn default() -> Self {
        Self {
            min_withdrawal_delay: MIN_WITHDRAWAL_DELAY,
            deallocation_delay: DEALLOCATION_DELAY,
            allocation_configuration_delay: ALLOCATION_CONFIGURATION_DELAY,
        }
    }
}

/// A `StrategyBase` instance for one token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// Underlying ledger token symbol.
    pub token: String,
    /// `totalShares`.
    pub total_shares: U256,
    /// `strategyIsWhitelistedForDeposit`.
    pub whitelisted: bool,
    /// Token price in ETH (wad) supplied by the caller, for reporting and points (default 1).
    pub price_eth_wad: U256,
    /// Shares burned or redistributed by slashing so far.
    pub slashed_shares: U256,
}

/// A staker's holding in one strategy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Deposit shares `s`.
    pub deposit_shares: U256,
    /// Stored deposit scaling factor `k` (0 reads as WAD).
    pub dsf: U256,
    /// Points index checkpoint.
    pub points_checkpoint: U256,
    /// Accrued restaked value × blocks (wei·blocks); points = this / 300 (ETH·hours, wad).
    pub value_blocks: U256,
}

/// A staker (every operator is also a staker, delegated to itself).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staker {
    /// Operator delegated to.
    pub delegated_to: Option<String>,
    /// ERC-20 strategies with deposit shares, in first-deposit order (≤ 32).
    pub strategy_list: Vec<String>,
    /// Positions per strategy (including [`BEACON_STRATEGY`]).
    pub positions: BTreeMap<String, Position>,
    /// Beacon-chain slashing factor (`None` = WAD, never set).
    pub bcsf: Option<u64>,
}

/// Allocation delay configuration of an operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationDelay {
    /// Effective delay.
    pub delay: u64,
    /// Whether a delay is effective.
    pub is_set: bool,
    /// Pending delay.
    pub pending: u64,
    /// Block from which `pending` is effective (0 = none).
    pub effect_block: u64,
}

/// An operator's allocation to one (set, strategy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Current (slashable) magnitude.
    pub current: u64,
    /// Pending change (≠ 0 while a modification is pending).
    pub pending_diff: i128,
    /// Block at which the pending change applies.
    pub effect_block: u64,
}

/// Registration status of an operator in a set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Currently registered.
    pub registered: bool,
    /// After deregistration: the last block the operator is still slashable in
    /// (`RegistrationStatus.slashableUntil` = deregistration block + `DEALLOCATION_DELAY`).
    pub slashable_until: u64,
}

/// Restaking-points index of one (operator, strategy): Σ Δblocks · slashingFactor · valuePerShare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsIndex {
    /// Index value (wad-scaled value-blocks per scaled share).
    pub value: U256,
    /// Last block accrued.
    pub last_block: u64,
}

/// A registered operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// Allocation delay.
    pub delay: AllocationDelay,
    /// `operatorShares` per strategy (Σ delegated withdrawable shares).
    pub shares: BTreeMap<String, U256>,
    /// Current max magnitude per strategy (default WAD; history in [`EigenLayer::magnitude_history`]).
    pub max_magnitude: BTreeMap<String, u64>,
    /// Encumbered magnitude per strategy.
    pub encumbered: BTreeMap<String, u64>,
    /// Allocations: strategy → set key → allocation.
    pub allocations: BTreeMap<String, BTreeMap<String, Allocation>>,
    /// Pending deallocations per strategy, in effect-block order.
    pub dealloc_queue: BTreeMap<String, VecDeque<String>>,
    /// Set registrations.
    pub registrations: BTreeMap<String, Registration>,
    /// Shares slashed per strategy (operator shares + queue).
    pub slashed_shares: BTreeMap<String, U256>,
    /// Points indices per strategy.
    pub points: BTreeMap<String, PointsIndex>,
}

/// An operator set of an AVS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSet {
    /// AVS.
    pub avs: String,
    /// Set id.
    pub id: u32,
    /// Strategies of the set.
    pub strategies: BTreeSet<String>,
    /// The only account allowed to slash (until `pending_slasher` takes over).
    pub slasher: String,
    /// Slasher proposed by `updateSlasher` (empty = none).
    #[serde(default)]
    pub pending_slasher: String,
    /// Block from which `pending_slasher` slashes (0 = none pending).
    #[serde(default)]
    pub slasher_effect_block: u64,
    /// Receives slashed tokens instead of the burn account, if set.
    pub redistribution_recipient: Option<String>,
    /// Registered operators.
    pub members: BTreeSet<String>,
    /// Shares slashed per strategy by this set.
    pub slashed_shares: BTreeMap<String, U256>,
    /// Tokens burned/redistributed per token symbol by this set.
    pub slashed_tokens: BTreeMap<String, U256>,
}

impl OperatorSet {
    /// `getSlasher`: the slasher at `block` — the pending one once its effect block is reached.
    pub fn slasher_at(&self, block: u64) -> &str {
        if self.slasher_effect_block != 0 && block >= self.slasher_effect_block {
            &self.pending_slasher
        } else {
            &self.slasher
        }
    }
}

/// A queued withdrawal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// Id (`cumulativeWithdrawalsQueued` order across stakers).
    pub id: u64,
    /// Staker (and withdrawer).
    pub staker: String,
    /// Operator at queue time.
    pub delegated_to: Option<String>,
    /// Block queued.
    pub start_block: u64,
    /// Strategies.
    pub strategies: Vec<String>,
    /// Scaled shares `mulWad(depositShares, k)`.
    pub scaled_shares: Vec<U256>,
}

/// An EigenPod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// Verified validators: index → effective balance credited at verification (gwei).
    pub validators: BTreeMap<u64, u64>,
    /// Σ beacon balances at the last checkpoint / verification (gwei).
    pub beacon_balance_gwei: U256,
    /// `restakedExecutionLayerGwei`: swept ETH in the pod accounted as restaked.
    pub restaked_el_gwei: U256,
    /// Last checkpoint block.
    pub last_checkpoint_block: u64,
}

/// Events of the EigenLayer model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElEvent {
    /// A strategy was added.
    StrategyAdded {
        /// Strategy.
        strategy: String,
        /// Whitelisted for deposit.
        whitelisted: bool,
    },
    /// Deposit into a strategy.
    Deposit {
        /// Staker.
        staker: String,
        /// Strategy.
        strategy: String,
        /// Tokens.
        amount: U256,
        /// Shares minted.
        shares: U256,
    },
    /// Operator registered.
    OperatorRegistered {
        /// Operator.
        operator: String,
        /// Allocation delay.
        allocation_delay: u64,
    },
    /// Staker delegated.
    Delegated {
        /// Staker.
        staker: String,
        /// Operator.
        operator: String,
    },
    /// Staker undelegated.
    Undelegated {
        /// Staker.
        staker: String,
        /// Operator.
        operator: String,
    },
    /// Withdrawal queued.
    WithdrawalQueued {
        /// Id.
        id: u64,
        /// Staker.
        staker: String,
        /// Strategies.
        strategies: Vec<String>,
        /// Scaled shares.
        scaled_shares: Vec<U256>,
        /// Withdrawable shares at queue time.
        withdrawable: Vec<U256>,
    },
    /// Withdrawal completed.
    WithdrawalCompleted {
        /// Id.
        id: u64,
        /// Received as tokens (else as shares).
        as_tokens: bool,
        /// Shares paid per strategy.
        shares: Vec<U256>,
        /// Tokens paid per strategy (0 when received as shares).
        amounts: Vec<U256>,
    },
    /// Operator set created.
    OperatorSetCreated {
        /// AVS.
        avs: String,
        /// Id.
        id: u32,
    },
    /// A new slasher was proposed for a set (`SlasherUpdated`).
    SlasherUpdated {
        /// Set key.
        set: String,
        /// The new slasher.
        slasher: String,
        /// Block from which it slashes.
        effect_block: u64,
    },
    /// Strategy added to a set.
    StrategyAddedToOperatorSet {
        /// Set key.
        set: String,
        /// Strategy.
        strategy: String,
    },
    /// Operator registered for a set.
    OperatorAddedToOperatorSet {
        /// Operator.
        operator: String,
        /// Set key.
        set: String,
    },
    /// Operator deregistered (slashable until `slashable_until`).
    OperatorRemovedFromOperatorSet {
        /// Operator.
        operator: String,
        /// Set key.
        set: String,
        /// Last slashable block (exclusive).
        slashable_until: u64,
    },
    /// Allocation delay set.
    AllocationDelaySet {
        /// Operator.
        operator: String,
        /// Delay.
        delay: u64,
        /// Effective from.
        effect_block: u64,
    },
    /// Allocation changed.
    AllocationUpdated {
        /// Operator.
        operator: String,
        /// Set key.
        set: String,
        /// Strategy.
        strategy: String,
        /// Current magnitude.
        current: u64,
        /// Pending diff.
        pending_diff: i128,
        /// Effect block of the pending diff.
        effect_block: u64,
    },
    /// Max magnitude changed.
    MaxMagnitudeUpdated {
        /// Operator.
        operator: String,
        /// Strategy.
        strategy: String,
        /// New max magnitude.
        max_magnitude: u64,
    },
    /// Operator slashed.
    OperatorSlashed {
        /// Operator.
        operator: String,
        /// Set key.
        set: String,
        /// Strategies.
        strategies: Vec<String>,
        /// Magnitude slashed per strategy.
        magnitudes_slashed: Vec<u64>,
        /// Operator shares slashed per strategy.
        operator_shares_slashed: Vec<U256>,
        /// Shares burned per strategy (operator + queue).
        shares_burned: Vec<U256>,
        /// Tokens burned/redistributed per strategy.
        tokens: Vec<U256>,
    },
    /// Pod created.
    PodDeployed {
        /// Owner.
        owner: String,
        /// Pod ledger account.
        account: String,
    },
    /// Validator verified.
    ValidatorRestaked {
        /// Owner.
        owner: String,
        /// Validator index.
        index: u64,
        /// Shares credited (wei).
        shares: U256,
    },
    /// Checkpoint finalized.
    CheckpointFinalized {
        /// Owner.
        owner: String,
        /// Shares added (balance increase, wei).
        shares_added: U256,
        /// Balance decrease (wei).
        decrease: U256,
        /// Beacon-chain slashing factor after.
        bcsf: u64,
    },
    /// Rewards submission created.
    RewardsSubmissionCreated {
        /// Index.
        index: u64,
        /// AVS.
        avs: String,
        /// Token.
        token: String,
        /// Amount net of protocol fee.
        amount: U256,
        /// Protocol fee.
        fee: U256,
    },
    /// Operator split set.
    OperatorAvsSplitSet {
        /// Operator.
        operator: String,
        /// AVS.
        avs: String,
        /// New split.
        split_bps: u16,
        /// Activation time (s).
        activated_at: u64,
    },
    /// A day of rewards distributed.
    RewardsDistributed {
        /// Day index (`ts / 86400`).
        day: u64,
        /// Total credited to earners.
        total: U256,
    },
    /// A distribution root was submitted for the days up to `rewards_calculation_end`
    /// (`DistributionRootSubmitted`).
    DistributionRootSubmitted {
        /// `rewardsCalculationEndTimestamp` (s).
        rewards_calculation_end: u64,
        /// Claimable from (s).
        activated_at: u64,
    },
    /// Rewards claimed.
    RewardsClaimed {
        /// Earner.
        earner: String,
        /// Token.
        token: String,
        /// Amount paid.
        amount: U256,
    },
}

/// The whole EigenLayer state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EigenLayer {
    /// Delays.
    pub params: ElParams,
    /// Native ETH ledger symbol (pods hold it).
    pub eth_symbol: String,
    /// Strategies by name (= token symbol).
    pub strategies: BTreeMap<String, Strategy>,
    /// Stakers by name.
    pub stakers: BTreeMap<String, Staker>,
    /// Operators by name.
    pub operators: BTreeMap<String, Operator>,
    /// Max magnitude history: operator → strategy → snapshots (default WAD). Kept outside
    /// [`Operator`] so per-operation working copies stay small.
    pub magnitude_history: BTreeMap<String, BTreeMap<String, History<u64>>>,
    /// Cumulative scaled shares queued for withdrawal: operator → strategy → snapshots (default 0).
    pub cumulative_scaled: BTreeMap<String, BTreeMap<String, History<U256>>>,
    /// Stakers delegated to each operator (kept outside [`Operator`] so slashing never touches it).
    pub delegators: BTreeMap<String, BTreeSet<String>>,
    /// Operator sets by key `<avs>#<id>`.
    pub operator_sets: BTreeMap<String, OperatorSet>,
    /// Queued withdrawals by id.
    pub withdrawals: BTreeMap<u64, Withdrawal>,
    /// Next withdrawal id.
    pub next_withdrawal_id: u64,
    /// EigenPods by owner.
    pub pods: BTreeMap<String, Pod>,
    /// Slashed beacon-chain shares (no burning mechanism for native ETH).
    pub burnable_eth_shares: U256,
    /// Points indices of undelegated stakers per strategy (slashing factor WAD).
    pub undelegated_points: BTreeMap<String, PointsIndex>,
    /// Rewards coordinator.
    pub rewards: RewardsCoordinator,
}

impl StateHash for EigenLayer {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

impl EigenLayer {
    /// Empty EigenLayer with mainnet delays; `eth_symbol` is the ledger symbol of native ETH.
    pub fn new(eth_symbol: &str) -> Self {
        Self {
            eth_symbol: eth_symbol.to_string(),
            ..Self::default()
        }
    }

    /// Empty EigenLayer with custom delays.
    pub fn with_params(eth_symbol: &str, params: ElParams) -> Self {
        Self {
            params,
            eth_symbol: eth_symbol.to_string(),
            ..Self::default()
        }
    }
}
