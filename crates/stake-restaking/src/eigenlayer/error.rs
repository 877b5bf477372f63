//! Rejections of the EigenLayer model (codes 4000–4199).

use stake_ledger::{LedgerError, Reject};
use stake_math::{MathError, U256};
use std::fmt;

/// Every way an EigenLayer operation can be rejected. Variants carry the offending values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElError {
    // ----- strategies (4000–4019) -----
    /// No strategy with this name.
    StrategyNotFound {
        /// Strategy name.
        strategy: String,
    },
    /// A strategy for this token already exists.
    StrategyExists {
        /// Strategy name.
        strategy: String,
    },
    /// The strategy is not whitelisted for deposits.
    StrategyNotWhitelisted {
        /// Strategy name.
        strategy: String,
    },
    /// The deposit would mint zero shares.
    ZeroNewShares {
        /// Deposited amount.
        amount: U256,
    },
    /// Total shares would exceed `1e38 − 1`.
    MaxTotalSharesExceeded {
        /// Total after the deposit.
        total: U256,
    },
    /// The staker already holds the maximum number of strategies.
    MaxStrategiesExceeded {
        /// Staker.
        staker: String,
        /// The limit (32).
        max: usize,
    },
    /// An amount or share count was zero.
    ZeroAmount,
    /// More deposit shares requested than held.
    SharesAmountTooHigh {
        /// Strategy.
        strategy: String,
        /// Requested deposit shares.
        requested: U256,
        /// Held deposit shares.
        available: U256,
    },
    /// More shares withdrawn from a strategy than it has.
    WithdrawalExceedsTotalShares {
        /// Strategy.
        strategy: String,
        /// Requested.
        requested: U256,
        /// Total shares.
        total: U256,
    },
    /// The beacon-chain ETH strategy cannot be used through the strategy manager.
    BeaconStrategyNotDepositable,

    // ----- delegation (4020–4049) -----
    /// The account is not a registered operator.
    NotOperator {
        /// Account.
        account: String,
    },
    /// The staker is already delegated.
    ActivelyDelegated {
        /// Staker.
        staker: String,
        /// Current operator.
        operator: String,
    },
    /// The staker is not delegated.
    NotDelegated {
        /// Staker.
        staker: String,
    },
    /// Operators are permanently self-delegated.
    OperatorsCannotUndelegate {
        /// Operator.
        operator: String,
    },
    /// The slashing factor is zero: the operator (or beacon chain) slashed everything.
    FullySlashed {
        /// Staker.
        staker: String,
        /// Strategy.
        strategy: String,
    },
    /// No queued withdrawal with this id.
    WithdrawalNotFound {
        /// Withdrawal id.
        id: u64,
    },
    /// The withdrawal is still slashable.
    WithdrawalDelayNotElapsed {
        /// Withdrawal id.
        id: u64,
        /// Current block.
        block: u64,
        /// First block at which it completes (`start + MIN_WITHDRAWAL_DELAY + 1`).
        completable_at: u64,
    },
    /// Only the withdrawer may complete.
    WithdrawerNotCaller {
        /// Withdrawal id.
        id: u64,
        /// Caller.
        caller: String,
        /// Withdrawer.
        withdrawer: String,
    },
    /// Nothing to withdraw (empty list).
    EmptyWithdrawal,
    /// A strategy appears twice in one request.
    DuplicateStrategy {
        /// Strategy.
        strategy: String,
    },

    // ----- allocation (4050–4099) -----
    /// No operator set with this key.
    OperatorSetNotFound {
        /// AVS.
        avs: String,
        /// Set id.
        id: u32,
    },
    /// The operator set already exists.
    OperatorSetExists {
        /// AVS.
        avs: String,
        /// Set id.
        id: u32,
    },
    /// Already registered for the set.
    AlreadyMemberOfSet {
        /// Operator.
        operator: String,
        /// AVS.
        avs: String,
        /// Set id.
        id: u32,
    },
    /// Not a member of (or no longer slashable for) the set.
    NotMemberOfSet {
        /// Operator.
        operator: String,
        /// AVS.
        avs: String,
        /// Set id.
        id: u32,
    },
    /// Only the set's slasher may slash.
    NotSlasher {
        /// Caller.
        caller: String,
        /// The set's slasher.
        slasher: String,
    },
    /// `updateSlasher` with an empty slasher (`InputAddressZero`).
    SlasherEmpty,
    /// `wadToSlash` outside `(0, WAD]`.
    InvalidWadToSlash {
        /// The value.
        wad: U256,
    },
    /// Strategies must be strictly ascending.
    StrategiesNotAscending {
        /// The offending strategy.
        strategy: String,
    },
    /// The strategy is not part of the set.
    StrategyNotInOperatorSet {
        /// Strategy.
        strategy: String,
    },
    /// A redistributing operator set may not hold beacon-chain ETH or EIGEN (`InvalidStrategy`
    /// in `_addStrategyToOperatorSet`).
    StrategyNotRedistributable {
        /// The strategy.
        strategy: String,
    },
    /// The strategy is already part of the set.
    StrategyAlreadyInOperatorSet {
        /// Strategy.
        strategy: String,
    },
    /// The operator has no effective allocation delay yet.
    UninitializedAllocationDelay {
        /// Operator.
        operator: String,
    },
    /// A modification for (operator, set, strategy) is already pending.
    ModificationAlreadyPending {
        /// Operator.
        operator: String,
        /// Strategy.
        strategy: String,
    },
    /// The new magnitude equals the current one.
    SameMagnitude {
        /// The magnitude.
        magnitude: u64,
    },
    /// `encumbered > maxMagnitude` after the allocation.
    InsufficientMagnitude {
        /// Encumbered magnitude after the change.
        encumbered: u64,
        /// Max magnitude.
        max: u64,
    },
    /// Input arrays differ in length.
    InputArrayLengthMismatch,
    /// The caller may not do this for that operator / AVS.
    InvalidCaller {
        /// Caller.
        caller: String,
    },

    // ----- EigenPods (4100–4129) -----
    /// The owner has no pod.
    PodNotFound {
        /// Owner.
        owner: String,
    },
    /// The owner already has a pod.
    PodExists {
        /// Owner.
        owner: String,
    },
    /// The validator's credentials were already verified.
    ValidatorAlreadyVerified {
        /// Validator index.
        index: u64,
    },
    /// Effective balance zero or not a whole number of gwei.
    InvalidEffectiveBalance {
        /// Effective balance (gwei).
        gwei: u64,
    },
    /// The pod holds less ETH than it already accounted for.
    PodBalanceBelowRestaked {
        /// Pod ETH balance (wei).
        balance: U256,
        /// Accounted restaked execution-layer ETH (wei).
        restaked: U256,
    },
    /// Withdrawal above the pod's withdrawable (restaked execution-layer) ETH.
    InsufficientWithdrawableBalance {
        /// Requested gwei.
        requested_gwei: U256,
        /// Available gwei.
        available_gwei: U256,
    },

    // ----- rewards (4130–4169) -----
    /// The submission lists no strategies.
    EmptyStrategies,
    /// Rewards amount is zero.
    AmountIsZero,
    /// Rewards amount above `1e38 − 1`.
    AmountExceedsMax {
        /// The amount.
        amount: U256,
    },
    /// Duration above `MAX_REWARDS_DURATION`.
    DurationExceedsMax {
        /// Duration (s).
        duration: u64,
        /// Max (s).
        max: u64,
    },
    /// Duration not a multiple of the calculation interval.
    InvalidDurationRemainder {
        /// Duration (s).
        duration: u64,
    },
    /// Duration zero.
    DurationIsZero,
    /// Start not aligned to the calculation interval.
    InvalidStartTimestampRemainder {
        /// Start (s).
        start: u64,
    },
    /// Start before `now − MAX_RETROACTIVE_LENGTH` or before genesis.
    StartTimestampTooFarInPast {
        /// Start (s).
        start: u64,
    },
    /// Start after `now + MAX_FUTURE_LENGTH`.
    StartTimestampTooFarInFuture {
        /// Start (s).
        start: u64,
    },
    /// The strategy is not whitelisted (for deposits, hence for rewards).
    InvalidStrategy {
        /// Strategy.
        strategy: String,
    },
    /// Split above 10,000 bps.
    SplitExceedsMax {
        /// The split.
        split_bps: u16,
    },
    /// A previous split change is still pending.
    PreviousSplitPending {
        /// When it activates (s).
        activated_at: u64,
    },
    /// Nothing to claim.
    NothingToClaim {
        /// Earner.
        earner: String,
        /// Token.
        token: String,
    },
    /// Earnings exist but the root holding them is still inside its activation delay
    /// (`RootNotActivated`).
    RootNotActivated {
        /// Earner.
        earner: String,
        /// Token.
        token: String,
        /// When the first root holding them activates (s).
        activated_at: u64,
        /// Time of the claim (s).
        now: u64,
    },

    /// Arithmetic failure.
    Math(MathError),
    /// Ledger failure (boxed: it carries account and asset names).
    Ledger(Box<LedgerError>),
}

impl From<MathError> for ElError {
    fn from(e: MathError) -> Self {
        ElError::Math(e)
    }
}

impl From<LedgerError> for ElError {
    fn from(e: LedgerError) -> Self {
        ElError::Ledger(Box::new(e))
    }
}

impl fmt::Display for ElError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ElError::*;
        match self {
            StrategyNotFound { strategy } => write!(f, "eigenlayer: no strategy {strategy}"),
            StrategyExists { strategy } => {
                write!(f, "eigenlayer: strategy {strategy} already exists")
            }
            StrategyNotWhitelisted { strategy } => {
                write!(f, "eigenlayer: strategy {strategy} is not whitelisted for deposit")
            }
            ZeroNewShares { amount } => {
                write!(f, "eigenlayer: deposit of {amount} would mint zero shares")
            }
            MaxTotalSharesExceeded { total } => {
                write!(f, "eigenlayer: total shares {total} would exceed 1e38-1")
            }
            MaxStrategiesExceeded { staker, max } => {
                write!(f, "eigenlayer: {staker} already holds {max} strategies")
            }
            ZeroAmount => write!(f, "eigenlayer: amount is zero"),
            SharesAmountTooHigh {
                strategy,
                requested,
                available,
            } => {
                write!(
                    f,
                    "eigenlayer: {requested} deposit shares of {strategy} requested, {available} held"
                )
            }
            WithdrawalExceedsTotalShares {
                strategy,
                requested,
                total,
            } => {
                write!(
                    f,
                    "eigenlayer: withdrawing {requested} shares of {strategy} but total is {total}"
                )
            }
            BeaconStrategyNotDepositable => write!(f, "eigenlayer: beacon-chain ETH is restaked through EigenPods"),
            NotOperator { account } => {
                write!(f, "eigenlayer: {account} is not a registered operator")
            }
            ActivelyDelegated { staker, operator } => {
                write!(f, "eigenlayer: {staker} is already delegated to {operator}")
            }
            NotDelegated { staker } => write!(f, "eigenlayer: {staker} is not delegated"),
            OperatorsCannotUndelegate { operator } => {
                write!(f, "eigenlayer: operator {operator} cannot undelegate")
            }
            FullySlashed { staker, strategy } => {
                write!(f, "eigenlayer: {staker} is fully slashed in {strategy}")
            }
            WithdrawalNotFound { id } => write!(f, "eigenlayer: no queued withdrawal {id}"),
            WithdrawalDelayNotElapsed {
                id,
                block,
                completable_at,
            } => {
                write!(
                    f,
                    "eigenlayer: withdrawal {id} completable at block {completable_at}, now {block}"
                )
            }
            WithdrawerNotCaller { id, caller, withdrawer } => {
                write!(f, "eigenlayer: withdrawal {id} belongs to {withdrawer}, not {caller}")
            }
            EmptyWithdrawal => write!(f, "eigenlayer: withdrawal lists no strategies"),
            DuplicateStrategy { strategy } => {
                write!(f, "eigenlayer: strategy {strategy} listed twice")
            }
            OperatorSetNotFound { avs, id } => write!(f, "eigenlayer: no operator set {avs}#{id}"),
            OperatorSetExists { avs, id } => {
                write!(f, "eigenlayer: operator set {avs}#{id} already exists")
            }
            AlreadyMemberOfSet { operator, avs, id } => {
                write!(f, "eigenlayer: {operator} is already in {avs}#{id}")
            }
            NotMemberOfSet { operator, avs, id } => {
                write!(f, "eigenlayer: {operator} is not slashable by {avs}#{id}")
            }
            NotSlasher { caller, slasher } => {
                write!(f, "eigenlayer: {caller} is not the slasher ({slasher})")
            }
            SlasherEmpty => write!(f, "eigenlayer: a slasher must be named"),
            InvalidWadToSlash { wad } => {
                write!(f, "eigenlayer: wadToSlash {wad} outside (0, 1e18]")
            }
            StrategiesNotAscending { strategy } => {
                write!(f, "eigenlayer: strategies not ascending at {strategy}")
            }
            StrategyNotInOperatorSet { strategy } => {
                write!(f, "eigenlayer: strategy {strategy} not in operator set")
            }
            StrategyNotRedistributable { strategy } => write!(
                f,
                "eigenlayer: a redistributing operator set cannot hold {strategy} (beacon-chain ETH and EIGEN are not redistributable)"
            ),
            StrategyAlreadyInOperatorSet { strategy } => {
                write!(f, "eigenlayer: strategy {strategy} already in operator set")
            }
            UninitializedAllocationDelay { operator } => {
                write!(f, "eigenlayer: {operator} has no allocation delay yet")
            }
            ModificationAlreadyPending { operator, strategy } => {
                write!(
                    f,
                    "eigenlayer: {operator} already has a pending modification for {strategy}"
                )
            }
            SameMagnitude { magnitude } => {
                write!(f, "eigenlayer: magnitude is already {magnitude}")
            }
            InsufficientMagnitude { encumbered, max } => {
                write!(
                    f,
                    "eigenlayer: encumbered magnitude {encumbered} would exceed max magnitude {max}"
                )
            }
            InputArrayLengthMismatch => write!(f, "eigenlayer: input array lengths differ"),
            InvalidCaller { caller } => write!(f, "eigenlayer: {caller} may not call this"),
            PodNotFound { owner } => write!(f, "eigenlayer: {owner} has no EigenPod"),
            PodExists { owner } => write!(f, "eigenlayer: {owner} already has an EigenPod"),
            ValidatorAlreadyVerified { index } => {
                write!(f, "eigenlayer: validator {index} already verified")
            }
            InvalidEffectiveBalance { gwei } => {
                write!(f, "eigenlayer: invalid effective balance {gwei} gwei")
            }
            PodBalanceBelowRestaked { balance, restaked } => {
                write!(f, "eigenlayer: pod holds {balance} wei but accounted {restaked} wei")
            }
            InsufficientWithdrawableBalance {
                requested_gwei,
                available_gwei,
            } => {
                write!(
                    f,
                    "eigenlayer: pod withdrawal of {requested_gwei} gwei exceeds {available_gwei} gwei"
                )
            }
            EmptyStrategies => write!(f, "eigenlayer: rewards submission lists no strategies"),
            AmountIsZero => write!(f, "eigenlayer: rewards amount is zero"),
            AmountExceedsMax { amount } => {
                write!(f, "eigenlayer: rewards amount {amount} exceeds 1e38-1")
            }
            DurationExceedsMax { duration, max } => {
                write!(f, "eigenlayer: duration {duration}s exceeds {max}s")
            }
            InvalidDurationRemainder { duration } => {
                write!(f, "eigenlayer: duration {duration}s not a multiple of the interval")
            }
            DurationIsZero => write!(f, "eigenlayer: duration is zero"),
            InvalidStartTimestampRemainder { start } => {
                write!(f, "eigenlayer: start {start} not aligned to the interval")
            }
            StartTimestampTooFarInPast { start } => {
                write!(f, "eigenlayer: start {start} too far in the past")
            }
            StartTimestampTooFarInFuture { start } => {
                write!(f, "eigenlayer: start {start} too far in the future")
            }
            InvalidStrategy { strategy } => write!(f, "eigenlayer: strategy {strategy} not whitelisted for rewards"),
            SplitExceedsMax { split_bps } => {
                write!(f, "eigenlayer: split {split_bps} bps exceeds 10000")
            }
            PreviousSplitPending { activated_at } => {
                write!(f, "eigenlayer: previous split activates at {activated_at}")
            }
            NothingToClaim { earner, token } => {
                write!(f, "eigenlayer: {earner} has nothing to claim in {token}")
            }
            RootNotActivated {
                earner,
                token,
                activated_at,
                now,
            } => write!(
                f,
                "eigenlayer: {earner}'s {token} rewards are in a root not activated until {activated_at} (now {now})"
            ),
            Math(e) => write!(f, "eigenlayer: {e}"),
            Ledger(e) => write!(f, "eigenlayer: {e}"),
        }
    }
}

impl std::error::Error for ElError {}

impl Reject for ElError {
    fn code(&self) -> u32 {
        use ElError::*;
        match self {
            StrategyNotFound { .. } => 4000,
            StrategyExists { .. } => 4001,
            StrategyNotWhitelisted { .. } => 4002,
            ZeroNewShares { .. } => 4003,
            MaxTotalSharesExceeded { .. } => 4004,
            MaxStrategiesExceeded { .. } => 4005,
            ZeroAmount => 4006,
            SharesAmountTooHigh { .. } => 4007,
            WithdrawalExceedsTotalShares { .. } => 4008,
            BeaconStrategyNotDepositable => 4009,
            NotOperator { .. } => 4020,
            ActivelyDelegated { .. } => 4021,
            NotDelegated { .. } => 4022,
            OperatorsCannotUndelegate { .. } => 4023,
            FullySlashed { .. } => 4024,
            WithdrawalNotFound { .. } => 4025,
            WithdrawalDelayNotElapsed { .. } => 4026,
            WithdrawerNotCaller { .. } => 4027,
            EmptyWithdrawal => 4028,
            DuplicateStrategy { .. } => 4029,
            OperatorSetNotFound { .. } => 4050,
            OperatorSetExists { .. } => 4051,
            AlreadyMemberOfSet { .. } => 4052,
            NotMemberOfSet { .. } => 4053,
            NotSlasher { .. } => 4054,
            SlasherEmpty => 4145,
            InvalidWadToSlash { .. } => 4055,
            StrategiesNotAscending { .. } => 4056,
            StrategyNotInOperatorSet { .. } => 4057,
            StrategyAlreadyInOperatorSet { .. } => 4058,
            StrategyNotRedistributable { .. } => 4144,
            UninitializedAllocationDelay { .. } => 4059,
            ModificationAlreadyPending { .. } => 4060,
            SameMagnitude { .. } => 4061,
            InsufficientMagnitude { .. } => 4062,
            InputArrayLengthMismatch => 4063,
            InvalidCaller { .. } => 4064,
            PodNotFound { .. } => 4100,
            ValidatorAlreadyVerified { .. } => 4101,
            InvalidEffectiveBalance { .. } => 4102,
            PodBalanceBelowRestaked { .. } => 4103,
            InsufficientWithdrawableBalance { .. } => 4104,
            PodExists { .. } => 4105,
            EmptyStrategies => 4130,
            AmountIsZero => 4131,
            AmountExceedsMax { .. } => 4132,
            DurationExceedsMax { .. } => 4133,
            InvalidDurationRemainder { .. } => 4134,
            DurationIsZero => 4135,
            InvalidStartTimestampRemainder { .. } => 4136,
            StartTimestampTooFarInPast { .. } => 4137,
            StartTimestampTooFarInFuture { .. } => 4138,
            InvalidStrategy { .. } => 4139,
            SplitExceedsMax { .. } => 4140,
            PreviousSplitPending { .. } => 4141,
            NothingToClaim { .. } => 4142,
            RootNotActivated { .. } => 4143,
            Math(e) => e.code(),
            Ledger(e) => e.code(),
        }
    }
}
