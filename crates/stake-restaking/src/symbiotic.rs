//! `symbiotic` model — vault-centric restaking (SPEC §5.2, reference `symbioticfi/core`:
//! `Vault.sol`, `VaultStorage.sol`, `ERC4626Math.sol`, the four delegators, `Slasher.sol`,
//! `VetoSlasher.sol`, `BaseSlasher.sol`).
//!
//! One [`SymbioticVault`] per collateral. Time is in seconds; `epoch = (now − init) / epochDuration`.
//!
//! * Active stake is share-accounted (ERC-4626 with a virtual share and asset of 1):
//!   deposit mints `⌊a·(S+1)/(A+1)⌋`, `withdraw(a)` burns `⌈a·(S+1)/(A+1)⌉`, `redeem(s)` pays
//!   `⌊s·(A+1)/(S+1)⌋`. Active stake, active shares and every holder's shares are checkpointed
//!   ([`Trace`]) so that `activeStakeAt(t)` and `stakeAt(network, operator, t)` can be answered for
//!   any past `t`.
//! * A withdrawal leaves active stake and joins the bucket `withdrawals[current + 1]` (itself
//!   share-accounted); it is claimable once that epoch has ended. Total stake =
//!   active + `w[e]` + `w[e+1]`.
//! * Delegators decide how much of the active stake each (network, operator) pair gets;
//!   slashers take stake captured at a past timestamp (within the last epoch), and the vault
//!   takes the slashed collateral pro rata from active stake and the withdrawal buckets exactly as
//!   `Vault.onSlash`, sending it to the burner account.
//!
//! Ledger: the collateral of a vault sits in its module account `symbiotic:<name>`; slashed
//! collateral goes to the burner account. Invariant: `balance + claimed + slashed == deposited`.

// Errors carry the offending values (SPEC §1.3) and the ledger's error by value; rejections are
// the cold path, so the larger `Err` is accepted rather than boxing every variant.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};
use stake_ledger::{blake3, hash_serde, AccountId, AssetId, Ledger, LedgerError, Reject, StateHash};
use stake_math::{mul_div_down, mul_div_up, Checked, MathError, U256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------------------------

/// A checkpointed value history (OpenZeppelin `Checkpoints.Trace*`): `(timestamp, value)` points
/// with non-decreasing timestamps; a push at the latest timestamp overwrites it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace<T> {
    points: Vec<(u64, T)>,
}

impl<T: Clone + Default> Trace<T> {
    /// The latest value (default if never set).
    pub fn latest(&self) -> T {
        self.points.last().map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// Timestamp of the latest checkpoint, if any.
    pub fn latest_time(&self) -> Option<u64> {
        self.points.last().map(|(t, _)| *t)
    }

    /// `upperLookupRecent(t)`: the value of the last checkpoint with timestamp ≤ `t` (default if none).
    pub fn at(&self, t: u64) -> T {
        let i = self.points.partition_point(|(k, _)| *k <= t);
        if i == 0 {
            T::default()
        } else {
            self.points[i - 1].1.clone()
        }
    }

    /// Records `v` from time `t` on. Callers keep timestamps non-decreasing (the vault rejects
    /// operations that go back in time); a push at the latest timestamp overwrites it.
    pub fn push(&mut self, t: u64, v: T) {
        match self.points.last_mut() {
            Some((k, old)) if *k == t => *old = v,
            _ => self.points.push((t, v)),
        }
    }

    /// Removes the latest checkpoint (used for not-yet-effective scheduled values).
    pub fn pop(&mut self) {
        self.points.pop();
    }

    /// Number of checkpoints.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True if nothing was ever recorded.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// ERC4626Math (decimals offset 0: one virtual share, one virtual asset)
// ---------------------------------------------------------------------------------------------

/// `previewDeposit`: shares for `assets`, `⌊assets·(S+1)/(A+1)⌋`.
pub fn preview_deposit(assets: U256, total_shares: U256, total_assets: U256) -> Result<U256, MathError> {
    mul_div_down(assets, total_shares.add_c(U256::ONE)?, total_assets.add_c(U256::ONE)?)
}

/// `previewWithdraw`: shares burned to take out `assets`, `⌈assets·(S+1)/(A+1)⌉`.
pub fn preview_withdraw(assets: U256, total_shares: U256, total_assets: U256) -> Result<U256, MathError> {
    mul_div_up(assets, total_shares.add_c(U256::ONE)?, total_assets.add_c(U256::ONE)?)
}

/// `previewRedeem`: assets paid for `shares`, `⌊shares·(A+1)/(S+1)⌋`.
pub fn preview_redeem(shares: U256, total_assets: U256, total_shares: U256) -> Result<U256, MathError> {
    mul_div_down(shares, total_assets.add_c(U256::ONE)?, total_shares.add_c(U256::ONE)?)
}

/// `BaseSlasher.slashableStake` for a valid capture: the stake at the capture minus what was
/// slashed since (`cumulative − cumulative_at_capture`), floored at zero.
pub fn slashable_after_slashes(
    stake_at_capture: U256,
    cumulative_slash: U256,
    cumulative_slash_at_capture: U256,
) -> Result<U256, MathError> {
    let since = cumulative_slash.sub_c(cumulative_slash_at_capture)?;
    stake_at_capture.sub_c(since.min(stake_at_capture))
}

// ---------------------------------------------------------------------------------------------
// Errors and events
// ---------------------------------------------------------------------------------------------

/// Rejections of the Symbiotic model (codes 4200–4299).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbioticError {
    /// The deposit whitelist is on and the depositor is not on it.
    NotWhitelistedDepositor {
        /// Depositor account.
        account: String,
    },
    /// Deposit of zero.
    InsufficientDeposit,
    /// `activeStake + amount > depositLimit` with the limit on.
    DepositLimitReached {
        /// Active stake before the deposit.
        active_stake: U256,
        /// Deposit amount.
        amount: U256,
        /// The limit.
        limit: U256,
    },
    /// Withdrawal of zero.
    InsufficientWithdrawal,
    /// `withdraw` would burn more active shares than the holder has.
    TooMuchWithdraw {
        /// Shares the withdrawal burns (rounded up).
        shares_needed: U256,
        /// Shares held.
        shares_held: U256,
    },
    /// `redeem` of more shares than held.
    TooMuchRedeem {
        /// Shares asked for.
        shares: U256,
        /// Shares held.
        shares_held: U256,
    },
    /// `redeem` would pay zero assets.
    InsufficientRedemption,
    /// Claim of an epoch that has not ended.
    InvalidEpoch {
        /// Epoch asked for.
        epoch: u64,
        /// Current epoch.
        current: u64,
    },
    /// This claimer already claimed that epoch.
    AlreadyClaimed {
        /// Epoch.
        epoch: u64,
    },
    /// Nothing to claim for that epoch.
    InsufficientClaim {
        /// Epoch.
        epoch: u64,
    },
    /// A slash capture timestamp outside `[now − epochDuration, now)` (veto slasher:
    /// `[now + vetoDuration − epochDuration, now)`).
    InvalidCaptureTimestamp {
        /// Capture timestamp.
        capture: u64,
        /// Current time.
        now: u64,
    },
    /// Slash of zero (nothing slashable).
    InsufficientSlash,
    /// `Vault.onSlash`: the capture epoch is neither the current nor the previous one.
    InvalidCaptureEpoch {
        /// Epoch of the capture timestamp.
        capture_epoch: u64,
        /// Current epoch.
        current: u64,
    },
    /// A network limit above the network's maximum.
    ExceedsMaxNetworkLimit {
        /// Requested limit.
        amount: U256,
        /// The network's maximum.
        max: U256,
    },
    /// The value is already set.
    AlreadySet,
    /// The operation does not exist for this delegator (or slasher) type.
    NotSupported {
        /// Operation name.
        operation: &'static str,
    },
    /// An operator/network-specific delegator was asked about another operator or network.
    NotDesignated {
        /// The entity given.
        entity: String,
    },
    /// The vault has no slasher of the needed type.
    NoSlasher,
    /// No slash request with this index.
    SlashRequestNotExist {
        /// Index.
        index: u64,
    },
    /// The veto window of the request is still open.
    VetoPeriodNotEnded {
        /// Veto deadline.
        deadline: u64,
        /// Current time.
        now: u64,
    },
    /// More than an epoch passed since the capture timestamp.
    SlashPeriodEnded {
        /// Capture timestamp.
        capture: u64,
        /// Current time.
        now: u64,
    },
    /// The request was already executed or vetoed.
    SlashRequestCompleted {
        /// Index.
        index: u64,
    },
    /// The network has no resolver (nothing to veto with).
    NoResolver,
    /// The caller is not the request's resolver.
    NotResolver {
        /// Caller.
        caller: String,
    },
    /// The veto window of the request has closed.
    VetoPeriodEnded {
        /// Veto deadline.
        deadline: u64,
        /// Current time.
        now: u64,
    },
    /// `epochDuration` must be positive.
    InvalidEpochDuration,
    /// `vetoDuration` must be below `epochDuration`.
    InvalidVetoDuration {
        /// Veto duration.
        veto_duration: u64,
        /// Epoch duration.
        epoch_duration: u64,
    },
    /// `resolverSetEpochsDelay` must be at least 3.
    InvalidResolverSetEpochsDelay {
        /// Given delay.
        epochs: u64,
    },
    /// A time before the vault's initialisation or before its last operation.
    InvalidTime {
        /// Given time.
        now: u64,
        /// Earliest allowed time.
        earliest: u64,
    },
    /// Ledger failure.
    Ledger(LedgerError),
    /// Arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for SymbioticError {
    fn from(e: LedgerError) -> Self {
        SymbioticError::Ledger(e)
    }
}

impl From<MathError> for SymbioticError {
    fn from(e: MathError) -> Self {
        SymbioticError::Math(e)
    }
}

impl fmt::Display for SymbioticError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SymbioticError::*;
        match self {
            NotWhitelistedDepositor { account } => {
                write!(f, "depositor {account} is not whitelisted")
            }
            InsufficientDeposit => write!(f, "deposit amount is zero"),
            DepositLimitReached {
                active_stake,
                amount,
                limit,
            } => {
                write!(
                    f,
                    "deposit limit reached: active {active_stake} + {amount} > limit {limit}"
                )
            }
            InsufficientWithdrawal => write!(f, "withdrawal amount is zero"),
            TooMuchWithdraw {
                shares_needed,
                shares_held,
            } => {
                write!(f, "withdrawal needs {shares_needed} shares, holder has {shares_held}")
            }
            TooMuchRedeem { shares, shares_held } => write!(f, "redeem of {shares} shares, holder has {shares_held}"),
            InsufficientRedemption => write!(f, "redemption pays zero assets"),
            InvalidEpoch { epoch, current } => {
                write!(f, "epoch {epoch} is not claimable in epoch {current}")
            }
            AlreadyClaimed { epoch } => write!(f, "epoch {epoch} already claimed"),
            InsufficientClaim { epoch } => write!(f, "nothing to claim for epoch {epoch}"),
            InvalidCaptureTimestamp { capture, now } => {
                write!(f, "capture timestamp {capture} is outside the slashing window at {now}")
            }
            InsufficientSlash => write!(f, "nothing to slash"),
            InvalidCaptureEpoch { capture_epoch, current } => {
                write!(f, "capture epoch {capture_epoch} is not slashable in epoch {current}")
            }
            ExceedsMaxNetworkLimit { amount, max } => {
                write!(f, "network limit {amount} exceeds the maximum {max}")
            }
            AlreadySet => write!(f, "already set"),
            NotSupported { operation } => {
                write!(f, "{operation} is not supported by this vault's modules")
            }
            NotDesignated { entity } => {
                write!(f, "{entity} is not the delegator's designated entity")
            }
            NoSlasher => write!(f, "the vault has no slasher of this type"),
            SlashRequestNotExist { index } => write!(f, "slash request {index} does not exist"),
            VetoPeriodNotEnded { deadline, now } => {
                write!(f, "veto period ends at {deadline}, now {now}")
            }
            SlashPeriodEnded { capture, now } => {
                write!(f, "slash period for capture {capture} ended (now {now})")
            }
            SlashRequestCompleted { index } => write!(f, "slash request {index} is completed"),
            NoResolver => write!(f, "no resolver"),
            NotResolver { caller } => write!(f, "{caller} is not the resolver"),
            VetoPeriodEnded { deadline, now } => {
                write!(f, "veto period ended at {deadline}, now {now}")
            }
            InvalidEpochDuration => write!(f, "epoch duration must be positive"),
            InvalidVetoDuration {
                veto_duration,
                epoch_duration,
            } => {
                write!(
                    f,
                    "veto duration {veto_duration} must be below epoch duration {epoch_duration}"
                )
            }
            InvalidResolverSetEpochsDelay { epochs } => {
                write!(f, "resolver set delay {epochs} epochs < 3")
            }
            InvalidTime { now, earliest } => write!(f, "time {now} is before {earliest}"),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SymbioticError {}

impl Reject for SymbioticError {
    fn code(&self) -> u32 {
        use SymbioticError::*;
        match self {
            NotWhitelistedDepositor { .. } => 4200,
            InsufficientDeposit => 4201,
            DepositLimitReached { .. } => 4202,
            InsufficientWithdrawal => 4203,
            TooMuchWithdraw { .. } => 4204,
            TooMuchRedeem { .. } => 4205,
            InsufficientRedemption => 4206,
            InvalidEpoch { .. } => 4207,
            AlreadyClaimed { .. } => 4208,
            InsufficientClaim { .. } => 4209,
            InvalidCaptureTimestamp { .. } => 4210,
            InsufficientSlash => 4211,
            InvalidCaptureEpoch { .. } => 4212,
            ExceedsMaxNetworkLimit { .. } => 4213,
            AlreadySet => 4214,
            NotSupported { .. } => 4215,
            NotDesignated { .. } => 4216,
            NoSlasher => 4217,
            SlashRequestNotExist { .. } => 4218,
            VetoPeriodNotEnded { .. } => 4219,
            SlashPeriodEnded { .. } => 4220,
            SlashRequestCompleted { .. } => 4221,
            NoResolver => 4222,
            NotResolver { .. } => 4223,
            VetoPeriodEnded { .. } => 4224,
            InvalidEpochDuration => 4225,
            InvalidVetoDuration { .. } => 4226,
            InvalidResolverSetEpochsDelay { .. } => 4227,
            InvalidTime { .. } => 4228,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}

/// Result of a Symbiotic operation.
pub type SymbioticResult<T> = Result<T, SymbioticError>;

/// Events of the Symbiotic model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SymbioticEvent {
    /// Collateral deposited into active stake.
    Deposit {
        /// Depositor.
        depositor: AccountId,
        /// Holder of the minted shares.
        on_behalf_of: AccountId,
        /// Amount deposited.
        amount: U256,
        /// Active shares minted.
        shares: U256,
    },
    /// Active stake moved to the next epoch's withdrawal bucket.
    Withdraw {
        /// Holder whose shares were burned.
        account: AccountId,
        /// Who may claim.
        claimer: AccountId,
        /// Assets withdrawn.
        amount: U256,
        /// Active shares burned.
        burned_shares: U256,
        /// Withdrawal shares minted in the bucket.
        minted_shares: U256,
        /// Bucket epoch (claimable once it has ended).
        epoch: u64,
    },
    /// A withdrawal bucket share was paid out.
    Claim {
        /// Claimer.
        claimer: AccountId,
        /// Recipient of the collateral.
        recipient: AccountId,
        /// Epoch claimed.
        epoch: u64,
        /// Amount paid.
        amount: U256,
    },
    /// A slash request was recorded by the veto slasher.
    RequestSlash {
        /// Request index.
        index: u64,
        /// Network.
        network: String,
        /// Operator.
        operator: String,
        /// Amount requested (capped at the slashable stake).
        amount: U256,
        /// Capture timestamp.
        capture: u64,
        /// Veto deadline.
        veto_deadline: u64,
    },
    /// A veto slash request was vetoed by its resolver.
    VetoSlash {
        /// Request index.
        index: u64,
        /// Resolver.
        resolver: String,
    },
    /// Collateral was slashed and sent to the burner.
    Slash {
        /// Network.
        network: String,
        /// Operator.
        operator: String,
        /// Amount requested by the slasher (after its slashable-stake cap).
        requested: U256,
        /// Amount the vault actually slashed.
        slashed: U256,
        /// Capture timestamp.
        capture: u64,
        /// Taken from active stake.
        active_slashed: U256,
        /// Taken from the current epoch's withdrawals.
        withdrawals_slashed: U256,
        /// Taken from the next epoch's withdrawals.
        next_withdrawals_slashed: U256,
    },
    /// A delegator or vault parameter changed.
    ParamSet {
        /// What changed (`networkLimit`, `maxNetworkLimit`, …).
        what: String,
        /// Network, operator or account concerned (empty if none).
        key: String,
        /// New value.
        value: U256,
    },
}

// ---------------------------------------------------------------------------------------------
// Delegators
// ---------------------------------------------------------------------------------------------

/// Delegator type of a vault (how active stake is allocated to (network, operator) pairs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DelegatorKind {
    /// `NetworkRestakeDelegator`: per network a limit; operators share it by shares:
    /// `stake = opShares·min(active, netLimit)/totalOpShares` (down).
    NetworkRestake,
    /// `FullRestakeDelegator`: `stake = min(active, netLimit, opNetLimit)`; the same stake may back
    /// several operators of one network.
    FullRestake,
    /// `OperatorSpecificDelegator`: one operator; `stake = min(active, netLimit)` for it.
    OperatorSpecific {
        /// The operator.
        operator: String,
    },
    /// `OperatorNetworkSpecificDelegator`: one operator and one network;
    /// `stake = min(active, maxNetworkLimit)`.
    OperatorNetworkSpecific {
        /// The operator.
        operator: String,
        /// The network.
        network: String,
    },
}

/// Delegator state (limits, shares and opt-ins, all checkpointed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatorState {
    /// Maximum network limit, set by each network.
    pub max_network_limit: BTreeMap<String, Trace<U256>>,
    /// Network limit, set by the curator (≤ max).
    pub network_limit: BTreeMap<String, Trace<U256>>,
    /// NetworkRestake: operator shares per network → operator.
    pub operator_network_shares: BTreeMap<String, BTreeMap<String, Trace<U256>>>,
    /// NetworkRestake: total operator shares per network.
    pub total_operator_network_shares: BTreeMap<String, Trace<U256>>,
    /// FullRestake: operator limits per network → operator.
    pub operator_network_limit: BTreeMap<String, BTreeMap<String, Trace<U256>>>,
    /// Operator opted into this vault (1) or not (0), by operator.
    pub operator_vault_opt_in: BTreeMap<String, Trace<bool>>,
    /// Operator opted into a network, by operator → network.
    pub operator_network_opt_in: BTreeMap<String, BTreeMap<String, Trace<bool>>>,
}

fn trace_at<T: Clone + Default>(m: &BTreeMap<String, Trace<T>>, k: &str, t: Option<u64>) -> T {
    match m.get(k) {
        Some(tr) => match t {
            Some(t) => tr.at(t),
            None => tr.latest(),
        },
        None => T::default(),
    }
}

fn trace2_at<T: Clone + Default>(
    m: &BTreeMap<String, BTreeMap<String, Trace<T>>>,
    a: &str,
    b: &str,
    t: Option<u64>,
) -> T {
    match m.get(a) {
        Some(inner) => trace_at(inner, b, t),
        None => T::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// Slashers
// ---------------------------------------------------------------------------------------------

/// Slasher type of a vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlasherKind {
    /// `Slasher`: a network's middleware slashes instantly.
    Instant,
    /// `VetoSlasher`: request, resolver veto window, execute.
    Veto {
        /// Veto window in seconds (< epoch duration).
        veto_duration: u64,
        /// Epochs before a resolver change takes effect (≥ 3).
        resolver_set_epochs_delay: u64,
    },
}

/// A veto-slasher request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashRequest {
    /// Network (subnetwork) that requested.
    pub network: String,
    /// Operator to slash.
    pub operator: String,
    /// Requested amount (capped at the slashable stake at request time).
    pub amount: U256,
    /// Capture timestamp.
    pub capture: u64,
    /// End of the veto window.
    pub veto_deadline: u64,
    /// Executed or vetoed.
    pub completed: bool,
}

/// Slasher state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlasherState {
    /// Type and parameters.
    pub kind: SlasherKind,
    /// Latest capture timestamp slashed, per network → operator.
    pub latest_slashed_capture: BTreeMap<String, BTreeMap<String, u64>>,
    /// Cumulative slashed amount (checkpointed), per network → operator.
    pub cumulative_slash: BTreeMap<String, BTreeMap<String, Trace<U256>>>,
    /// Veto slasher: requests by index.
    pub requests: Vec<SlashRequest>,
    /// Veto slasher: resolver per network (checkpointed; changes are scheduled).
    pub resolver: BTreeMap<String, Trace<Option<String>>>,
}

// ---------------------------------------------------------------------------------------------
// The vault
// ---------------------------------------------------------------------------------------------

/// Construction parameters of a [`SymbioticVault`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultParams {
    /// Vault name (module account `symbiotic:<name>`).
    pub name: String,
    /// Collateral asset.
    pub collateral: AssetId,
    /// Epoch duration in seconds.
    pub epoch_duration: u64,
    /// Deposit whitelist on.
    pub deposit_whitelist: bool,
    /// Deposit limit (`None` = off).
    pub deposit_limit: Option<U256>,
    /// Delegator type.
    pub delegator: DelegatorKind,
    /// Slasher type (`None` = no slashing).
    pub slasher: Option<SlasherKind>,
    /// Burner account name.
    pub burner: String,
}

/// A Symbiotic vault with its delegator and slasher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbioticVault {
    /// Vault name.
    pub name: String,
    /// Collateral asset.
    pub collateral: AssetId,
    /// Module account holding the collateral.
    pub account: AccountId,
    /// Account receiving slashed collateral.
    pub burner: AccountId,
    /// `epochDurationInit`.
    pub epoch_duration_init: u64,
    /// `epochDuration` in seconds.
    pub epoch_duration: u64,
    /// Deposit whitelist on.
    pub deposit_whitelist: bool,
    /// Whitelisted depositors.
    pub whitelisted: BTreeSet<AccountId>,
    /// Deposit limit (`None` = off).
    pub deposit_limit: Option<U256>,
    /// Active stake history.
    pub active_stake: Trace<U256>,
    /// Active shares history.
    pub active_shares: Trace<U256>,
    /// Active shares per holder.
    pub active_shares_of: BTreeMap<AccountId, Trace<U256>>,
    /// Withdrawal bucket assets by epoch.
    pub withdrawals: BTreeMap<u64, U256>,
    /// Withdrawal bucket shares by epoch.
    pub withdrawal_shares: BTreeMap<u64, U256>,
    /// Withdrawal shares by epoch → claimer.
    pub withdrawal_shares_of: BTreeMap<u64, BTreeMap<AccountId, U256>>,
    /// Claimed flags by epoch → claimer.
    pub claimed_of: BTreeMap<u64, BTreeSet<AccountId>>,
    /// Assets paid out of each epoch's bucket.
    pub claimed_by_epoch: BTreeMap<u64, U256>,
    /// Delegator type.
    pub delegator_kind: DelegatorKind,
    /// Delegator state.
    pub delegator: DelegatorState,
    /// Slasher (`None` = no slashing).
    pub slasher: Option<SlasherState>,
    /// Σ deposits.
    pub deposited: U256,
    /// Σ claims.
    pub claimed: U256,
    /// Σ slashed.
    pub slashed: U256,
    /// Time of the latest operation (operations may not go back in time).
    pub last_time: u64,
}

impl StateHash for SymbioticVault {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

struct SlashSplit {
    slashed: U256,
    active: U256,
    cur: U256,
    next: U256,
}

impl SymbioticVault {
    /// Creates a vault at time `now` (`epochDurationInit = now`).
    ///
    /// Specification:
    /// - fails with `InvalidEpochDuration` if `epoch_duration == 0`;
    /// - fails with `InvalidVetoDuration` if a veto slasher's `veto_duration ≥ epoch_duration`;
    /// - fails with `InvalidResolverSetEpochsDelay` if its resolver delay is below 3 epochs.
    pub fn new(ledger: &mut Ledger, params: VaultParams, now: u64) -> SymbioticResult<Self> {
        if params.epoch_duration == 0 {
            return Err(SymbioticError::InvalidEpochDuration);
        }
        if let Some(SlasherKind::Veto {
            veto_duration,
            resolver_set_epochs_delay,
        }) = &params.slasher
        {
            if *veto_duration >= params.epoch_duration {
                return Err(SymbioticError::InvalidVetoDuration {
                    veto_duration: *veto_duration,
                    epoch_duration: params.epoch_duration,
                });
            }
            if *resolver_set_epochs_delay < 3 {
                return Err(SymbioticError::InvalidResolverSetEpochsDelay {
                    epochs: *resolver_set_epochs_delay,
                });
            }
        }
        ledger.asset_info(params.collateral)?;
        let account = ledger.account(&format!("symbiotic:{}", params.name));
        let burner = ledger.account(&params.burner);
        Ok(Self {
            name: params.name,
            collateral: params.collateral,
            account,
            burner,
            epoch_duration_init: now,
            epoch_duration: params.epoch_duration,
            deposit_whitelist: params.deposit_whitelist,
            whitelisted: BTreeSet::new(),
            deposit_limit: params.deposit_limit,
            active_stake: Trace::default(),
            active_shares: Trace::default(),
            active_shares_of: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
            withdrawal_shares: BTreeMap::new(),
            withdrawal_shares_of: BTreeMap::new(),
            claimed_of: BTreeMap::new(),
            claimed_by_epoch: BTreeMap::new(),
            delegator_kind: params.delegator,
            delegator: DelegatorState::default(),
            slasher: params.slasher.map(|kind| SlasherState {
                kind,
                latest_slashed_capture: BTreeMap::new(),
                cumulative_slash: BTreeMap::new(),
                requests: Vec::new(),
                resolver: BTreeMap::new(),
            }),
            deposited: U256::ZERO,
            claimed: U256::ZERO,
            slashed: U256::ZERO,
            last_time: now,
        })
    }

    // ----- time -----

    fn check_time(&self, now: u64) -> SymbioticResult<()> {
        if now < self.last_time {
            return Err(SymbioticError::InvalidTime {
                now,
                earliest: self.last_time,
            });
        }
        Ok(())
    }

    /// `epochAt(t) = (t − init) / epochDuration`; fails with `InvalidTime` before init.
    pub fn epoch_at(&self, t: u64) -> SymbioticResult<u64> {
        if t < self.epoch_duration_init {
            return Err(SymbioticError::InvalidTime {
                now: t,
                earliest: self.epoch_duration_init,
            });
        }
        Ok((t - self.epoch_duration_init) / self.epoch_duration)
    }

    /// Current epoch at `now`.
    pub fn current_epoch(&self, now: u64) -> SymbioticResult<u64> {
        self.epoch_at(now)
    }

    /// Start time of the current epoch.
    pub fn current_epoch_start(&self, now: u64) -> SymbioticResult<u64> {
        let e = self.epoch_at(now)?;
        Ok(self.epoch_duration_init + e * self.epoch_duration)
    }

    // ----- views -----

    /// Active stake now.
    pub fn active_stake(&self) -> U256 {
        self.active_stake.latest()
    }

    /// Active stake at time `t` (`activeStakeAt`).
    pub fn active_stake_at(&self, t: u64) -> U256 {
        self.active_stake.at(t)
    }

    /// Active shares now.
    pub fn active_shares(&self) -> U256 {
        self.active_shares.latest()
    }

    /// Active shares of a holder now.
    pub fn active_shares_of(&self, account: AccountId) -> U256 {
        self.active_shares_of
            .get(&account)
            .map(Trace::latest)
            .unwrap_or(U256::ZERO)
    }

    /// Active shares of a holder at `t`.
    pub fn active_shares_of_at(&self, account: AccountId, t: u64) -> U256 {
        self.active_shares_of
            .get(&account)
            .map(|tr| tr.at(t))
            .unwrap_or(U256::ZERO)
    }

    /// `activeBalanceOf`: `previewRedeem(shares, activeStake, activeShares)`.
    pub fn active_balance_of(&self, account: AccountId) -> SymbioticResult<U256> {
        Ok(preview_redeem(
            self.active_shares_of(account),
            self.active_stake(),
            self.active_shares(),
        )?)
    }

    /// `activeBalanceOfAt(account, t)`.
    pub fn active_balance_of_at(&self, account: AccountId, t: u64) -> SymbioticResult<U256> {
        Ok(preview_redeem(
            self.active_shares_of_at(account, t),
            self.active_stake_at(t),
            self.active_shares.at(t),
        )?)
    }

    /// Withdrawal bucket of an epoch.
    pub fn withdrawals(&self, epoch: u64) -> U256 {
        self.withdrawals.get(&epoch).copied().unwrap_or(U256::ZERO)
    }

    fn withdrawal_shares(&self, epoch: u64) -> U256 {
        self.withdrawal_shares.get(&epoch).copied().unwrap_or(U256::ZERO)
    }

    fn withdrawal_shares_of(&self, epoch: u64, account: AccountId) -> U256 {
        self.withdrawal_shares_of
            .get(&epoch)
            .and_then(|m| m.get(&account))
            .copied()
            .unwrap_or(U256::ZERO)
    }

    /// `withdrawalsOf(epoch, account)`: the claimer's part of a bucket (down).
    pub fn withdrawals_of(&self, epoch: u64, account: AccountId) -> SymbioticResult<U256> {
        Ok(preview_redeem(
            self.withdrawal_shares_of(epoch, account),
            self.withdrawals(epoch),
            self.withdrawal_shares(epoch),
        )?)
    }

    /// `totalStake = activeStake + withdrawals[e] + withdrawals[e+1]`.
    pub fn total_stake(&self, now: u64) -> SymbioticResult<U256> {
        let e = self.epoch_at(now)?;
        Ok(self
            .active_stake()
            .add_c(self.withdrawals(e))?
            .add_c(self.withdrawals(e + 1))?)
    }

    /// `slashableBalanceOf`: active balance + own withdrawals of the current and next epoch.
    pub fn slashable_balance_of(&self, account: AccountId, now: u64) -> SymbioticResult<U256> {
        let e = self.epoch_at(now)?;
        Ok(self
            .active_balance_of(account)?
            .add_c(self.withdrawals_of(e, account)?)?
            .add_c(self.withdrawals_of(e + 1, account)?)?)
    }

    // ----- staking -----

    /// Deposits `amount` of collateral from `depositor`, minting active shares to `on_behalf_of`.
    ///
    /// Specification:
    /// - fails with `NotWhitelistedDepositor` if the whitelist is on and `depositor` is not on it;
    /// - fails with `InsufficientDeposit` if `amount == 0`;
    /// - fails with `DepositLimitReached` if the limit is on and `active + amount > limit`;
    /// - fails with `Ledger(InsufficientBalance)` if the depositor lacks the collateral;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn deposit(
        &mut self,
        ledger: &mut Ledger,
        depositor: AccountId,
        on_behalf_of: AccountId,
        amount: U256,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if self.deposit_whitelist && !self.whitelisted.contains(&depositor) {
            return Err(SymbioticError::NotWhitelistedDepositor {
                account: ledger.account_name(depositor).to_string(),
            });
        }
        if amount == U256::ZERO {
            return Err(SymbioticError::InsufficientDeposit);
        }
        let active = self.active_stake();
        let new_active = active.add_c(amount)?;
        if let Some(limit) = self.deposit_limit {
            if new_active > limit {
                return Err(SymbioticError::DepositLimitReached {
                    active_stake: active,
                    amount,
                    limit,
                });
            }
        }
        let shares_total = self.active_shares();
        let shares = preview_deposit(amount, shares_total, active)?;
        let new_total_shares = shares_total.add_c(shares)?;
        let new_own = self.active_shares_of(on_behalf_of).add_c(shares)?;
        let new_deposited = self.deposited.add_c(amount)?;
        ledger.transfer(depositor, self.account, self.collateral, amount)?;
        self.active_stake.push(now, new_active);
        self.active_shares.push(now, new_total_shares);
        self.active_shares_of
            .entry(on_behalf_of)
            .or_default()
            .push(now, new_own);
        self.deposited = new_deposited;
        self.last_time = now;
        Ok(vec![SymbioticEvent::Deposit {
            depositor,
            on_behalf_of,
            amount,
            shares,
        }])
    }

    fn do_withdraw(
        &mut self,
        account: AccountId,
        claimer: AccountId,
        assets: U256,
        burned: U256,
        now: u64,
    ) -> SymbioticResult<SymbioticEvent> {
        let own = self.active_shares_of(account).sub_c(burned)?;
        let total_shares = self.active_shares().sub_c(burned)?;
        let active = self.active_stake().sub_c(assets)?;
        let epoch = self.epoch_at(now)? + 1;
        let w = self.withdrawals(epoch);
        let ws = self.withdrawal_shares(epoch);
        let minted = preview_deposit(assets, ws, w)?;
        let new_w = w.add_c(assets)?;
        let new_ws = ws.add_c(minted)?;
        let new_own_w = self.withdrawal_shares_of(epoch, claimer).add_c(minted)?;
        // All checks done: mutate.
        self.active_shares_of.entry(account).or_default().push(now, own);
        self.active_shares.push(now, total_shares);
        self.active_stake.push(now, active);
        self.withdrawals.insert(epoch, new_w);
        self.withdrawal_shares.insert(epoch, new_ws);
        self.withdrawal_shares_of
            .entry(epoch)
            .or_default()
            .insert(claimer, new_own_w);
        self.last_time = now;
        Ok(SymbioticEvent::Withdraw {
            account,
            claimer,
            amount: assets,
            burned_shares: burned,
            minted_shares: minted,
            epoch,
        })
    }

    /// Withdraws `amount` of active stake of `account` into the next epoch's bucket for `claimer`;
    /// burns `⌈amount·(S+1)/(A+1)⌉` active shares.
    ///
    /// Specification:
    /// - fails with `InsufficientWithdrawal` if `amount == 0`;
    /// - fails with `TooMuchWithdraw` if the shares to burn exceed the holder's;
    /// - fails with `Math(Underflow)` if `amount` exceeds the active stake;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn withdraw(
        &mut self,
        account: AccountId,
        claimer: AccountId,
        amount: U256,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if amount == U256::ZERO {
            return Err(SymbioticError::InsufficientWithdrawal);
        }
        let burned = preview_withdraw(amount, self.active_shares(), self.active_stake())?;
        let held = self.active_shares_of(account);
        if burned > held {
            return Err(SymbioticError::TooMuchWithdraw {
                shares_needed: burned,
                shares_held: held,
            });
        }
        Ok(vec![self.do_withdraw(account, claimer, amount, burned, now)?])
    }

    /// Redeems `shares` active shares of `account`, paying `⌊shares·(A+1)/(S+1)⌋` into the next
    /// epoch's bucket for `claimer`.
    ///
    /// Specification:
    /// - fails with `TooMuchRedeem` if `shares` exceeds the holder's;
    /// - fails with `InsufficientRedemption` if the assets come to zero;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn redeem(
        &mut self,
        account: AccountId,
        claimer: AccountId,
        shares: U256,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        let held = self.active_shares_of(account);
        if shares > held {
            return Err(SymbioticError::TooMuchRedeem {
                shares,
                shares_held: held,
            });
        }
        let assets = preview_redeem(shares, self.active_stake(), self.active_shares())?;
        if assets == U256::ZERO {
            return Err(SymbioticError::InsufficientRedemption);
        }
        Ok(vec![self.do_withdraw(account, claimer, assets, shares, now)?])
    }

    /// Pays `claimer`'s part of the bucket of `epoch` (which must have ended) to `recipient`.
    ///
    /// Specification:
    /// - fails with `InvalidEpoch` if `epoch ≥ currentEpoch`;
    /// - fails with `AlreadyClaimed` if already claimed;
    /// - fails with `InsufficientClaim` if the claimable amount is zero;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn claim(
        &mut self,
        ledger: &mut Ledger,
        claimer: AccountId,
        recipient: AccountId,
        epoch: u64,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        let current = self.epoch_at(now)?;
        if epoch >= current {
            return Err(SymbioticError::InvalidEpoch { epoch, current });
        }
        if self.claimed_of.get(&epoch).is_some_and(|s| s.contains(&claimer)) {
            return Err(SymbioticError::AlreadyClaimed { epoch });
        }
        let amount = self.withdrawals_of(epoch, claimer)?;
        if amount == U256::ZERO {
            return Err(SymbioticError::InsufficientClaim { epoch });
        }
        let new_claimed = self.claimed.add_c(amount)?;
        let new_epoch_claimed = self
            .claimed_by_epoch
            .get(&epoch)
            .copied()
            .unwrap_or(U256::ZERO)
            .add_c(amount)?;
        ledger.transfer(self.account, recipient, self.collateral, amount)?;
        self.claimed_of.entry(epoch).or_default().insert(claimer);
        self.claimed_by_epoch.insert(epoch, new_epoch_claimed);
        self.claimed = new_claimed;
        self.last_time = now;
        Ok(vec![SymbioticEvent::Claim {
            claimer,
            recipient,
            epoch,
            amount,
        }])
    }

    // ----- vault admin -----

    /// Turns the deposit whitelist on or off. Fails with `AlreadySet` if unchanged.
    ///
    /// Specification:
    /// - fails with `AlreadySet` if the status is unchanged.
    pub fn set_deposit_whitelist(&mut self, status: bool) -> SymbioticResult<Vec<SymbioticEvent>> {
        if self.deposit_whitelist == status {
            return Err(SymbioticError::AlreadySet);
        }
        self.deposit_whitelist = status;
        Ok(vec![SymbioticEvent::ParamSet {
            what: "depositWhitelist".into(),
            key: String::new(),
            value: U256::from(u8::from(status)),
        }])
    }

    /// Adds or removes a whitelisted depositor.
    ///
    /// Specification:
    /// - fails with `AlreadySet` if the status is unchanged.
    pub fn set_depositor_whitelist_status(
        &mut self,
        account: AccountId,
        status: bool,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        if self.whitelisted.contains(&account) == status {
            return Err(SymbioticError::AlreadySet);
        }
        if status {
            self.whitelisted.insert(account);
        } else {
            self.whitelisted.remove(&account);
        }
        Ok(vec![SymbioticEvent::ParamSet {
            what: "depositorWhitelistStatus".into(),
            key: format!("#{}", account.0),
            value: U256::from(u8::from(status)),
        }])
    }

    /// Sets the deposit limit (`None` = off).
    ///
    /// Specification:
    /// - fails with `AlreadySet` if unchanged.
    pub fn set_deposit_limit(&mut self, limit: Option<U256>) -> SymbioticResult<Vec<SymbioticEvent>> {
        if self.deposit_limit == limit {
            return Err(SymbioticError::AlreadySet);
        }
        self.deposit_limit = limit;
        Ok(vec![SymbioticEvent::ParamSet {
            what: "depositLimit".into(),
            key: String::new(),
            value: limit.unwrap_or(U256::MAX),
        }])
    }

    // ----- delegator -----

    fn param_event(what: &str, key: String, value: U256) -> Vec<SymbioticEvent> {
        vec![SymbioticEvent::ParamSet {
            what: what.into(),
            key,
            value,
        }]
    }

    /// A network sets its maximum network limit; a network limit above it is lowered to it.
    ///
    /// Specification:
    /// - fails with `NotDesignated` for an operator-network-specific delegator and another network;
    /// - fails with `AlreadySet` if unchanged;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_max_network_limit(
        &mut self,
        network: &str,
        amount: U256,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if let DelegatorKind::OperatorNetworkSpecific { network: n, .. } = &self.delegator_kind {
            if n != network {
                return Err(SymbioticError::NotDesignated {
                    entity: network.to_string(),
                });
            }
        }
        let d = &mut self.delegator;
        if trace_at(&d.max_network_limit, network, None) == amount {
            return Err(SymbioticError::AlreadySet);
        }
        d.max_network_limit
            .entry(network.to_string())
            .or_default()
            .push(now, amount);
        if let Some(tr) = d.network_limit.get_mut(network) {
            if !tr.is_empty() && tr.latest() > amount {
                tr.push(now, amount);
            }
        }
        self.last_time = now;
        Ok(Self::param_event("maxNetworkLimit", network.to_string(), amount))
    }

    /// The curator sets a network limit (`≤ maxNetworkLimit`).
    ///
    /// Specification:
    /// - fails with `NotSupported` for an operator-network-specific delegator;
    /// - fails with `ExceedsMaxNetworkLimit` if `amount > maxNetworkLimit`;
    /// - fails with `AlreadySet` if unchanged;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_network_limit(&mut self, network: &str, amount: U256, now: u64) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if matches!(self.delegator_kind, DelegatorKind::OperatorNetworkSpecific { .. }) {
            return Err(SymbioticError::NotSupported {
                operation: "setNetworkLimit",
            });
        }
        let d = &mut self.delegator;
        let max = trace_at(&d.max_network_limit, network, None);
        if amount > max {
            return Err(SymbioticError::ExceedsMaxNetworkLimit { amount, max });
        }
        if trace_at(&d.network_limit, network, None) == amount {
            return Err(SymbioticError::AlreadySet);
        }
        d.network_limit
            .entry(network.to_string())
            .or_default()
            .push(now, amount);
        self.last_time = now;
        Ok(Self::param_event("networkLimit", network.to_string(), amount))
    }

    /// NetworkRestake: the curator sets an operator's shares of a network's limit.
    ///
    /// Specification:
    /// - fails with `NotSupported` unless the delegator is NetworkRestake;
    /// - fails with `AlreadySet` if unchanged;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_operator_network_shares(
        &mut self,
        network: &str,
        operator: &str,
        shares: U256,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if self.delegator_kind != DelegatorKind::NetworkRestake {
            return Err(SymbioticError::NotSupported {
                operation: "setOperatorNetworkShares",
            });
        }
        let d = &mut self.delegator;
        let old = trace2_at(&d.operator_network_shares, network, operator, None);
        if old == shares {
            return Err(SymbioticError::AlreadySet);
        }
        let total = trace_at(&d.total_operator_network_shares, network, None)
            .sub_c(old)?
            .add_c(shares)?;
        d.total_operator_network_shares
            .entry(network.to_string())
            .or_default()
            .push(now, total);
        d.operator_network_shares
            .entry(network.to_string())
            .or_default()
            .entry(operator.to_string())
            .or_default()
            .push(now, shares);
        self.last_time = now;
        Ok(Self::param_event(
            "operatorNetworkShares",
            format!("{network}/{operator}"),
            shares,
        ))
    }

    /// FullRestake: the curator sets an operator's limit in a network.
    ///
    /// Specification:
    /// - fails with `NotSupported` unless the delegator is FullRestake;
    /// - fails with `AlreadySet` if unchanged;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_operator_network_limit(
        &mut self,
        network: &str,
        operator: &str,
        amount: U256,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if self.delegator_kind != DelegatorKind::FullRestake {
            return Err(SymbioticError::NotSupported {
                operation: "setOperatorNetworkLimit",
            });
        }
        let d = &mut self.delegator;
        if trace2_at(&d.operator_network_limit, network, operator, None) == amount {
            return Err(SymbioticError::AlreadySet);
        }
        d.operator_network_limit
            .entry(network.to_string())
            .or_default()
            .entry(operator.to_string())
            .or_default()
            .push(now, amount);
        self.last_time = now;
        Ok(Self::param_event(
            "operatorNetworkLimit",
            format!("{network}/{operator}"),
            amount,
        ))
    }

    /// An operator opts into (or out of) this vault (`OperatorVaultOptInService`).
    ///
    /// Specification:
    /// - fails with `AlreadySet` if unchanged;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_operator_vault_opt_in(
        &mut self,
        operator: &str,
        opted_in: bool,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        let d = &mut self.delegator;
        if trace_at(&d.operator_vault_opt_in, operator, None) == opted_in {
            return Err(SymbioticError::AlreadySet);
        }
        d.operator_vault_opt_in
            .entry(operator.to_string())
            .or_default()
            .push(now, opted_in);
        self.last_time = now;
        Ok(Self::param_event(
            "operatorVaultOptIn",
            operator.to_string(),
            U256::from(u8::from(opted_in)),
        ))
    }

    /// An operator opts into (or out of) a network (`OperatorNetworkOptInService`).
    ///
    /// Specification:
    /// - fails with `AlreadySet` if unchanged;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_operator_network_opt_in(
        &mut self,
        operator: &str,
        network: &str,
        opted_in: bool,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        let d = &mut self.delegator;
        if trace2_at(&d.operator_network_opt_in, operator, network, None) == opted_in {
            return Err(SymbioticError::AlreadySet);
        }
        d.operator_network_opt_in
            .entry(operator.to_string())
            .or_default()
            .entry(network.to_string())
            .or_default()
            .push(now, opted_in);
        self.last_time = now;
        Ok(Self::param_event(
            "operatorNetworkOptIn",
            format!("{operator}/{network}"),
            U256::from(u8::from(opted_in)),
        ))
    }

    /// Network limit now (0 if unset).
    pub fn network_limit(&self, network: &str) -> U256 {
        trace_at(&self.delegator.network_limit, network, None)
    }

    /// Maximum network limit now (0 if unset).
    pub fn max_network_limit(&self, network: &str) -> U256 {
        trace_at(&self.delegator.max_network_limit, network, None)
    }

    fn stake_inner(&self, network: &str, operator: &str, t: Option<u64>) -> SymbioticResult<U256> {
        let d = &self.delegator;
        let opted = trace_at(&d.operator_vault_opt_in, operator, t)
            && trace2_at(&d.operator_network_opt_in, operator, network, t);
        if !opted {
            return Ok(U256::ZERO);
        }
        let active = match t {
            Some(t) => self.active_stake_at(t),
            None => self.active_stake(),
        };
        let net_limit = trace_at(&d.network_limit, network, t);
        Ok(match &self.delegator_kind {
            DelegatorKind::NetworkRestake => {
                let total = trace_at(&d.total_operator_network_shares, network, t);
                if total == U256::ZERO {
                    U256::ZERO
                } else {
                    let sh = trace2_at(&d.operator_network_shares, network, operator, t);
                    mul_div_down(sh, active.min(net_limit), total)?
                }
            }
            DelegatorKind::FullRestake => {
                let op_limit = trace2_at(&d.operator_network_limit, network, operator, t);
                active.min(net_limit).min(op_limit)
            }
            DelegatorKind::OperatorSpecific { operator: op } => {
                if op == operator {
                    active.min(net_limit)
                } else {
                    U256::ZERO
                }
            }
            DelegatorKind::OperatorNetworkSpecific {
                operator: op,
                network: net,
            } => {
                if op == operator && net == network {
                    active.min(trace_at(&d.max_network_limit, network, t))
                } else {
                    U256::ZERO
                }
            }
        })
    }

    /// `stake(network, operator)` with the latest values, per delegator type (0 unless the
    /// operator is opted into the vault and the network).
    pub fn stake(&self, network: &str, operator: &str) -> SymbioticResult<U256> {
        self.stake_inner(network, operator, None)
    }

    /// `stakeAt(network, operator, t)` with the values checkpointed at `t`.
    pub fn stake_at(&self, network: &str, operator: &str, t: u64) -> SymbioticResult<U256> {
        self.stake_inner(network, operator, Some(t))
    }

    // ----- slashing -----

    /// `BaseSlasher.slashableStake`: stake at capture minus what was slashed since the capture; zero
    /// if the capture is outside `[now − epochDuration, now)` or older than the latest slashed capture.
    pub fn slashable_stake(&self, network: &str, operator: &str, capture: u64, now: u64) -> SymbioticResult<U256> {
        Ok(self.slashable_stake_inner(network, operator, capture, now)?.0)
    }

    fn slashable_stake_inner(
        &self,
        network: &str,
        operator: &str,
        capture: u64,
        now: u64,
    ) -> SymbioticResult<(U256, U256)> {
        let Some(s) = &self.slasher else {
            return Err(SymbioticError::NoSlasher);
        };
        let latest = s
            .latest_slashed_capture
            .get(network)
            .and_then(|m| m.get(operator))
            .copied()
            .unwrap_or(0);
        if capture < now.saturating_sub(self.epoch_duration) || capture >= now || capture < latest {
            return Ok((U256::ZERO, U256::ZERO));
        }
        let stake = self.stake_at(network, operator, capture)?;
        let cum = trace2_at(&s.cumulative_slash, network, operator, None);
        let cum_at = trace2_at(&s.cumulative_slash, network, operator, Some(capture));
        Ok((slashable_after_slashes(stake, cum, cum_at)?, stake))
    }

    /// `Vault.onSlash` split (no mutation): how much is slashed and the new active stake and
    /// withdrawal buckets.
    fn on_slash_split(&self, amount: U256, capture: u64, now: u64) -> SymbioticResult<SlashSplit> {
        let current = self.epoch_at(now)?;
        let capture_epoch = self.epoch_at(capture)?;
        if (current > 0 && capture_epoch < current - 1) || capture_epoch > current {
            return Err(SymbioticError::InvalidCaptureEpoch { capture_epoch, current });
        }
        let active = self.active_stake();
        let next = self.withdrawals(current + 1);
        let cur = self.withdrawals(current);
        if capture_epoch == current {
            let slashable = active.add_c(next)?;
            let slashed = amount.min(slashable);
            if slashed == U256::ZERO {
                return Ok(SlashSplit {
                    slashed,
                    active,
                    cur,
                    next,
                });
            }
            let active_slashed = mul_div_down(slashed, active, slashable)?;
            let next_slashed = slashed.sub_c(active_slashed)?;
            Ok(SlashSplit {
                slashed,
                active: active.sub_c(active_slashed)?,
                cur,
                next: next.sub_c(next_slashed)?,
            })
        } else {
            let slashable = active.add_c(cur)?.add_c(next)?;
            let slashed = amount.min(slashable);
            if slashed == U256::ZERO {
                return Ok(SlashSplit {
                    slashed,
                    active,
                    cur,
                    next,
                });
            }
            let active_slashed = mul_div_down(slashed, active, slashable)?;
            let mut next_slashed = mul_div_down(slashed, next, slashable)?;
            let mut cur_slashed = slashed.sub_c(active_slashed)?.sub_c(next_slashed)?;
            if cur < cur_slashed {
                next_slashed = next_slashed.add_c(cur_slashed - cur)?;
                cur_slashed = cur;
            }
            Ok(SlashSplit {
                slashed,
                active: active.sub_c(active_slashed)?,
                cur: cur.sub_c(cur_slashed)?,
                next: next.sub_c(next_slashed)?,
            })
        }
    }

    /// Applies a slash of `requested` (already capped by the slasher) for (network, operator):
    /// updates the slasher's bookkeeping, runs `Vault.onSlash` and pays the burner.
    #[allow(clippy::too_many_arguments)]
    fn apply_slash(
        &mut self,
        ledger: &mut Ledger,
        network: &str,
        operator: &str,
        requested: U256,
        capture: u64,
        now: u64,
        complete_request: Option<usize>,
    ) -> SymbioticResult<SymbioticEvent> {
        let split = self.on_slash_split(requested, capture, now)?;
        let current = self.epoch_at(now)?;
        let (old_active, old_cur, old_next) = (
            self.active_stake(),
            self.withdrawals(current),
            self.withdrawals(current + 1),
        );
        let new_slashed = self.slashed.add_c(split.slashed)?;
        let Some(s) = &self.slasher else {
            return Err(SymbioticError::NoSlasher);
        };
        let cum = trace2_at(&s.cumulative_slash, network, operator, None).add_c(requested)?;
        if split.slashed > U256::ZERO {
            ledger.transfer(self.account, self.burner, self.collateral, split.slashed)?;
        }
        // Mutate (nothing below can fail).
        if let Some(s) = &mut self.slasher {
            if let Some(i) = complete_request {
                if let Some(r) = s.requests.get_mut(i) {
                    r.completed = true;
                }
            }
            let latest = s
                .latest_slashed_capture
                .entry(network.to_string())
                .or_default()
                .entry(operator.to_string())
                .or_insert(0);
            if *latest < capture {
                *latest = capture;
            }
            s.cumulative_slash
                .entry(network.to_string())
                .or_default()
                .entry(operator.to_string())
                .or_default()
                .push(now, cum);
        }
        if split.slashed > U256::ZERO {
            self.active_stake.push(now, split.active);
            self.withdrawals.insert(current, split.cur);
            self.withdrawals.insert(current + 1, split.next);
        }
        self.slashed = new_slashed;
        self.last_time = now;
        Ok(SymbioticEvent::Slash {
            network: network.to_string(),
            operator: operator.to_string(),
            requested,
            slashed: split.slashed,
            capture,
            active_slashed: old_active - split.active,
            withdrawals_slashed: old_cur - split.cur,
            next_withdrawals_slashed: old_next - split.next,
        })
    }

    /// Instant `Slasher.slash`: the network slashes `amount` of `operator`'s stake captured at
    /// `capture`.
    ///
    /// Specification:
    /// - fails with `NoSlasher` unless the vault has an instant slasher;
    /// - fails with `InvalidCaptureTimestamp` unless `now − epochDuration ≤ capture < now`;
    /// - fails with `InsufficientSlash` if `min(amount, slashableStake)` is zero;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn slash(
        &mut self,
        ledger: &mut Ledger,
        network: &str,
        operator: &str,
        amount: U256,
        capture: u64,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        if !matches!(self.slasher.as_ref().map(|s| &s.kind), Some(SlasherKind::Instant)) {
            return Err(SymbioticError::NoSlasher);
        }
        if capture < now.saturating_sub(self.epoch_duration) || capture >= now {
            return Err(SymbioticError::InvalidCaptureTimestamp { capture, now });
        }
        let (slashable, _) = self.slashable_stake_inner(network, operator, capture, now)?;
        let requested = amount.min(slashable);
        if requested == U256::ZERO {
            return Err(SymbioticError::InsufficientSlash);
        }
        Ok(vec![self.apply_slash(
            ledger, network, operator, requested, capture, now, None,
        )?])
    }

    fn veto_params(&self) -> SymbioticResult<(u64, u64)> {
        match self.slasher.as_ref().map(|s| &s.kind) {
            Some(SlasherKind::Veto {
                veto_duration,
                resolver_set_epochs_delay,
            }) => Ok((*veto_duration, *resolver_set_epochs_delay)),
            _ => Err(SymbioticError::NoSlasher),
        }
    }

    fn resolver_at(&self, network: &str, t: u64) -> Option<String> {
        self.slasher
            .as_ref()
            .and_then(|s| trace_at(&s.resolver, network, Some(t)))
    }

    /// `VetoSlasher.setResolver`: a network sets (or clears, `None`) its resolver. The first
    /// resolver takes effect at once; later changes at `currentEpochStart + delay·epochDuration`
    /// (a pending change is replaced).
    ///
    /// Specification:
    /// - fails with `NoSlasher` unless the vault has a veto slasher;
    /// - fails with `AlreadySet` if the resolver is unchanged (or cleared when never set);
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn set_resolver(
        &mut self,
        network: &str,
        resolver: Option<String>,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        let (_, delay) = self.veto_params()?;
        let effective = self
            .current_epoch_start(now)?
            .checked_add(delay.checked_mul(self.epoch_duration).ok_or(MathError::Overflow)?)
            .ok_or(MathError::Overflow)?;
        let Some(s) = &self.slasher else {
            return Err(SymbioticError::NoSlasher);
        };
        let mut tr = s.resolver.get(network).cloned().unwrap_or_default();
        if let Some(latest_t) = tr.latest_time() {
            if latest_t > now {
                tr.pop();
            } else if resolver == tr.latest() {
                return Err(SymbioticError::AlreadySet);
            }
            if resolver != tr.latest() {
                tr.push(effective, resolver.clone());
            }
        } else {
            if resolver.is_none() {
                return Err(SymbioticError::AlreadySet);
            }
            tr.push(now, resolver.clone());
        }
        if let Some(s) = &mut self.slasher {
            s.resolver.insert(network.to_string(), tr);
        }
        self.last_time = now;
        Ok(Self::param_event(
            "resolver",
            format!("{network}={}", resolver.unwrap_or_default()),
            U256::ZERO,
        ))
    }

    /// `VetoSlasher.requestSlash`.
    ///
    /// Specification:
    /// - fails with `NoSlasher` unless the vault has a veto slasher;
    /// - fails with `InvalidCaptureTimestamp` unless `now + vetoDuration − epochDuration ≤ capture < now`;
    /// - fails with `InsufficientSlash` if `min(amount, slashableStake)` is zero;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn request_slash(
        &mut self,
        network: &str,
        operator: &str,
        amount: U256,
        capture: u64,
        now: u64,
    ) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        let (veto, _) = self.veto_params()?;
        if capture.saturating_add(self.epoch_duration) < now.saturating_add(veto) || capture >= now {
            return Err(SymbioticError::InvalidCaptureTimestamp { capture, now });
        }
        let (slashable, _) = self.slashable_stake_inner(network, operator, capture, now)?;
        let amount = amount.min(slashable);
        if amount == U256::ZERO {
            return Err(SymbioticError::InsufficientSlash);
        }
        let veto_deadline = now.checked_add(veto).ok_or(MathError::Overflow)?;
        let Some(s) = &mut self.slasher else {
            return Err(SymbioticError::NoSlasher);
        };
        let index = s.requests.len() as u64;
        s.requests.push(SlashRequest {
            network: network.to_string(),
            operator: operator.to_string(),
            amount,
            capture,
            veto_deadline,
            completed: false,
        });
        self.last_time = now;
        Ok(vec![SymbioticEvent::RequestSlash {
            index,
            network: network.to_string(),
            operator: operator.to_string(),
            amount,
            capture,
            veto_deadline,
        }])
    }

    fn request(&self, index: u64) -> SymbioticResult<SlashRequest> {
        self.slasher
            .as_ref()
            .and_then(|s| s.requests.get(stake_math::index(index)))
            .cloned()
            .ok_or(SymbioticError::SlashRequestNotExist { index })
    }

    /// `VetoSlasher.vetoSlash`: the resolver (at the capture time) cancels a pending request.
    ///
    /// Specification:
    /// - fails with `NoSlasher` unless the vault has a veto slasher;
    /// - fails with `SlashRequestNotExist` for an unknown index;
    /// - fails with `NoResolver` if the network had no resolver at capture or has none now;
    /// - fails with `NotResolver` if `caller` is not the capture-time resolver;
    /// - fails with `VetoPeriodEnded` if `vetoDeadline ≤ now`;
    /// - fails with `SlashRequestCompleted` if already executed or vetoed;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn veto_slash(&mut self, index: u64, caller: &str, now: u64) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        self.veto_params()?;
        let r = self.request(index)?;
        let capture_resolver = self.resolver_at(&r.network, r.capture);
        let current_resolver = self.resolver_at(&r.network, now.saturating_sub(1));
        let Some(capture_resolver) = capture_resolver else {
            return Err(SymbioticError::NoResolver);
        };
        if current_resolver.is_none() {
            return Err(SymbioticError::NoResolver);
        }
        if caller != capture_resolver {
            return Err(SymbioticError::NotResolver {
                caller: caller.to_string(),
            });
        }
        if r.veto_deadline <= now {
            return Err(SymbioticError::VetoPeriodEnded {
                deadline: r.veto_deadline,
                now,
            });
        }
        if r.completed {
            return Err(SymbioticError::SlashRequestCompleted { index });
        }
        if let Some(s) = &mut self.slasher {
            if let Some(req) = s.requests.get_mut(stake_math::index(index)) {
                req.completed = true;
            }
        }
        self.last_time = now;
        Ok(vec![SymbioticEvent::VetoSlash {
            index,
            resolver: caller.to_string(),
        }])
    }

    /// `VetoSlasher.executeSlash`: executes a request once its veto window has passed (at once if
    /// the network has no resolver).
    ///
    /// Specification:
    /// - fails with `NoSlasher` unless the vault has a veto slasher;
    /// - fails with `SlashRequestNotExist` for an unknown index;
    /// - fails with `VetoPeriodNotEnded` if a resolver exists and `vetoDeadline > now`;
    /// - fails with `SlashPeriodEnded` if `now − capture > epochDuration`;
    /// - fails with `InsufficientSlash` if nothing is slashable any more;
    /// - fails with `SlashRequestCompleted` if already executed or vetoed;
    /// - fails with `InvalidTime` if `now` is before the previous operation.
    pub fn execute_slash(&mut self, ledger: &mut Ledger, index: u64, now: u64) -> SymbioticResult<Vec<SymbioticEvent>> {
        self.check_time(now)?;
        self.veto_params()?;
        let r = self.request(index)?;
        if self.resolver_at(&r.network, r.capture).is_some()
            && self.resolver_at(&r.network, now.saturating_sub(1)).is_some()
            && r.veto_deadline > now
        {
            return Err(SymbioticError::VetoPeriodNotEnded {
                deadline: r.veto_deadline,
                now,
            });
        }
        if now.saturating_sub(r.capture) > self.epoch_duration {
            return Err(SymbioticError::SlashPeriodEnded {
                capture: r.capture,
                now,
            });
        }
        let (slashable, _) = self.slashable_stake_inner(&r.network, &r.operator, r.capture, now)?;
        let requested = r.amount.min(slashable);
        if requested == U256::ZERO {
            return Err(SymbioticError::InsufficientSlash);
        }
        if r.completed {
            return Err(SymbioticError::SlashRequestCompleted { index });
        }
        Ok(vec![self.apply_slash(
            ledger,
            &r.network,
            &r.operator,
            requested,
            r.capture,
            now,
            Some(stake_math::index(index)),
        )?])
    }

    // ----- invariants -----

    /// Backing rules (SPEC §5.2):
    /// - `balance + claimed + slashed == deposited`;
    /// - `balance == active + Σ_e (withdrawals[e] − claimedByEpoch[e])`;
    /// - Σ holders' active shares == active shares; Σ claimers' withdrawal shares == bucket shares;
    /// - every bucket's claims ≤ the bucket.
    ///
    /// The vault's backing: balance + claimed + slashed = deposited; balance = active stake +
    /// unclaimed withdrawal buckets. Costs the number of epochs with withdrawals, not depositors.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        let bal = ledger.balance(self.account, self.collateral);
        let lhs = bal
            .checked_add(self.claimed)
            .and_then(|x| x.checked_add(self.slashed))
            .ok_or("overflow in balance + claimed + slashed")?;
        if lhs != self.deposited {
            return Err(format!(
                "vault {}: balance {bal} + claimed {} + slashed {} != deposited {}",
                self.name, self.claimed, self.slashed, self.deposited
            ));
        }
        let mut backing = self.active_stake();
        for (e, w) in &self.withdrawals {
            let c = self.claimed_by_epoch.get(e).copied().unwrap_or(U256::ZERO);
            if c > *w {
                return Err(format!("vault {}: epoch {e} claimed {c} > bucket {w}", self.name));
            }
            backing = backing.checked_add(*w - c).ok_or("overflow in backing")?;
        }
        if backing != bal {
            return Err(format!(
                "vault {}: balance {bal} != active + unclaimed withdrawals {backing}",
                self.name
            ));
        }
        Ok(())
    }

    /// Every rule: [`Self::check_backing`] and the share sums over every depositor.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_backing(ledger)?;
        let mut sum = U256::ZERO;
        for tr in self.active_shares_of.values() {
            sum = sum.checked_add(tr.latest()).ok_or("overflow in shares")?;
        }
        if sum != self.active_shares() {
            return Err(format!(
                "vault {}: Σ active shares {sum} != {}",
                self.name,
                self.active_shares()
            ));
        }
        for (e, m) in &self.withdrawal_shares_of {
            let mut s = U256::ZERO;
            for v in m.values() {
                s = s.checked_add(*v).ok_or("overflow in withdrawal shares")?;
            }
            if s != self.withdrawal_shares(*e) {
                return Err(format!(
                    "vault {}: epoch {e} Σ withdrawal shares {s} != {}",
                    self.name,
                    self.withdrawal_shares(*e)
                ));
            }
        }
        Ok(())
    }
}
