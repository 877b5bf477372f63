//! Rejections of the Lido model (codes 3000–3099).

use stake_ledger::{LedgerError, Reject};
use stake_math::{MathError, U256};
use std::fmt;

/// Every way a Lido operation can be rejected. Each variant carries the offending values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LidoError {
    /// `submit` of zero ether (`ZERO_DEPOSIT`).
    ZeroDeposit,
    /// `submit` above the current staking limit (`STAKE_LIMIT`).
    StakeLimitExceeded {
        /// Ether offered.
        requested: U256,
        /// Current limit.
        limit: U256,
    },
    /// A share conversion input ≥ 2^128.
    InputTooLarge {
        /// The input.
        value: U256,
    },
    /// The sender holds fewer shares than the operation moves (`BALANCE_EXCEEDED`).
    InsufficientShares {
        /// Account name.
        account: String,
        /// Shares held.
        balance: U256,
        /// Shares needed.
        required: U256,
    },
    /// Transfer to the stETH contract itself (`TRANSFER_TO_STETH_CONTRACT`).
    TransferToStEthContract,
    /// Wrap or unwrap of zero (`wstETH: can't wrap zero stETH` / `zero amount unwrap not allowed`).
    ZeroAmount,
    /// The wrapper account lacks wstETH.
    InsufficientWstEth {
        /// Account name.
        account: String,
        /// wstETH held.
        balance: U256,
        /// wstETH needed.
        required: U256,
    },
    /// Withdrawal request below 100 wei (`RequestAmountTooSmall`).
    RequestAmountTooSmall {
        /// Amount asked.
        amount: U256,
    },
    /// Withdrawal request above 1000 stETH (`RequestAmountTooLarge`).
    RequestAmountTooLarge {
        /// Amount asked.
        amount: U256,
    },
    /// No such request, or not finalized yet (`RequestNotFoundOrNotFinalized`).
    RequestNotFoundOrNotFinalized {
        /// Request id.
        request_id: u64,
    },
    /// The request was claimed already (`RequestAlreadyClaimed`).
    RequestAlreadyClaimed {
        /// Request id.
        request_id: u64,
    },
    /// The claimer does not own the request (`NotOwner`).
    NotOwner {
        /// Who tried.
        sender: String,
        /// Who owns it.
        owner: String,
    },
    /// Report not newer than the previous one.
    StaleReport {
        /// Report timestamp.
        timestamp: u64,
        /// Previous report timestamp.
        last: u64,
    },
    /// Fewer validators than before (`REPORTED_LESS_VALIDATORS`).
    ReportedLessValidators {
        /// Reported.
        reported: u64,
        /// Before.
        previous: u64,
    },
    /// More validators than deposited (`REPORTED_MORE_DEPOSITED`).
    ReportedMoreDeposited {
        /// Reported.
        reported: u64,
        /// Deposited.
        deposited: u64,
    },
    /// An operator's exited count went down (`ExitedValidatorsCountCannotDecrease`).
    ExitedValidatorsCountCannotDecrease {
        /// Operator.
        operator: String,
        /// Reported.
        reported: u64,
        /// Before.
        previous: u64,
    },
    /// An operator's exited count exceeds its deposited count.
    ReportedExitedExceedsDeposited {
        /// Operator.
        operator: String,
        /// Reported exited.
        reported: u64,
        /// Deposited.
        deposited: u64,
    },
    /// No operator by that name.
    UnknownOperator {
        /// The name.
        name: String,
    },
    /// Sanity check "annual balance increase": `365d·1e4·Δ/pre/elapsed` over the limit.
    IncorrectCLBalanceIncrease {
        /// Annualised increase, bp.
        annual_increase_bp: U256,
        /// Limit, bp.
        limit_bp: u64,
    },
    /// Sanity check "CL balance decrease": negative rebases over 18 days above the allowance.
    IncorrectCLBalanceDecrease {
        /// Sum of negative CL rebases in the window.
        negative_cl_rebase_sum: U256,
        /// Allowance.
        max_negative_cl_rebase_sum: U256,
    },
    /// Second opinion disagrees on the CL balance (beyond the error bound).
    NegativeRebaseFailedCLBalanceMismatch {
        /// Reported CL balance.
        reported: U256,
        /// Second-opinion CL balance.
        proved: U256,
        /// Allowed error, bp.
        limit_bp: u64,
    },
    /// Second opinion disagrees on the withdrawal vault balance.
    NegativeRebaseFailedWithdrawalVaultBalanceMismatch {
        /// Withdrawal vault balance.
        reported: U256,
        /// Second-opinion value.
        proved: U256,
    },
    /// Sanity check "appeared validators" per day.
    IncorrectAppearedValidators {
        /// Appeared in this report.
        appeared: u64,
        /// Allowed for the elapsed time.
        limit: U256,
    },
    /// Sanity check "exited validators" per day.
    ExitedValidatorsLimitExceeded {
        /// Limit per day.
        limit_per_day: u64,
        /// Rate in this report (per day).
        exited_per_day: U256,
    },
    /// Sanity check "simulated share rate" deviation.
    IncorrectSimulatedShareRate {
        /// Share rate provided by the report (ray).
        simulated: U256,
        /// Actual share rate (ray).
        actual: U256,
    },
    /// The actual share rate rounds to zero (`ActualShareRateIsZero`).
    ActualShareRateIsZero,
    /// Sanity check "request finalization": the last request is younger than the margin.
    IncorrectRequestFinalization {
        /// Creation time of the last request to finalize.
        request_timestamp: u64,
        /// Report timestamp.
        report_timestamp: u64,
    },
    /// Finalization batch id outside `(lastFinalized, lastRequest]` (`InvalidRequestId`).
    InvalidRequestId {
        /// The id.
        request_id: u64,
    },
    /// Finalization batches not strictly ascending (`BatchesAreNotSorted`).
    BatchesAreNotSorted,
    /// `maxShareRate` of zero (`ZeroShareRate`).
    ZeroShareRate,
    /// Ether to lock exceeds what the buffer holds after drawing the vaults.
    InsufficientBufferForFinalization {
        /// Ether to lock.
        required: U256,
        /// Buffer + drawn withdrawals + drawn EL rewards.
        available: U256,
    },
    /// Deposit plan asks for more than the depositable buffer.
    DepositExceedsDepositableEther {
        /// Wei the plan deposits.
        requested: U256,
        /// Depositable wei.
        depositable: U256,
    },
    /// Deposit plan gives an operator more validators than it can take.
    DepositExceedsOperatorCapacity {
        /// Operator.
        operator: String,
        /// Validators asked.
        requested: u64,
        /// Capacity.
        capacity: u64,
    },
    /// Exit request beyond an operator's active, not yet requested validators.
    ExitExceedsActiveValidators {
        /// Operator.
        operator: String,
        /// Asked.
        requested: u64,
        /// Available.
        available: u64,
    },
    /// More exit requests than allowed per report (`IncorrectNumberOfExitRequestsPerReport`).
    IncorrectNumberOfExitRequestsPerReport {
        /// Asked.
        requested: u64,
        /// Limit.
        limit: u64,
    },
    /// Bond operation on an operator of the curated module.
    NotABondedOperator {
        /// Operator.
        operator: String,
    },
    /// Invalid construction parameters.
    InvalidParams {
        /// What is wrong.
        reason: String,
    },
    /// A ledger failure (boxed: keeps `Result<_, LidoError>` small).
    Ledger(Box<LedgerError>),
    /// An arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for LidoError {
    fn from(e: LedgerError) -> Self {
        LidoError::Ledger(Box::new(e))
    }
}

impl From<MathError> for LidoError {
    fn from(e: MathError) -> Self {
        LidoError::Math(e)
    }
}

impl fmt::Display for LidoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LidoError::*;
        match self {
            ZeroDeposit => write!(f, "ZERO_DEPOSIT: submit of zero ether"),
            StakeLimitExceeded { requested, limit } => {
                write!(f, "STAKE_LIMIT: {requested} wei offered, current staking limit {limit} wei")
            }
            InputTooLarge { value } => write!(f, "share conversion input {value} is not below 2^128"),
            InsufficientShares { account, balance, required } => {
                write!(f, "BALANCE_EXCEEDED: {account} holds {balance} shares, {required} required")
            }
            TransferToStEthContract => write!(f, "TRANSFER_TO_STETH_CONTRACT"),
            ZeroAmount => write!(f, "wstETH: zero amount"),
            InsufficientWstEth { account, balance, required } => {
                write!(f, "wstETH: {account} holds {balance}, {required} required")
            }
            RequestAmountTooSmall { amount } => write!(f, "withdrawal request of {amount} wei is below 100 wei"),
            RequestAmountTooLarge { amount } => write!(f, "withdrawal request of {amount} wei is above 1000 stETH"),
            RequestNotFoundOrNotFinalized { request_id } => {
                write!(f, "withdrawal request {request_id} not found or not finalized")
            }
            RequestAlreadyClaimed { request_id } => write!(f, "withdrawal request {request_id} already claimed"),
            NotOwner { sender, owner } => write!(f, "{sender} is not the owner ({owner}) of the request"),
            StaleReport { timestamp, last } => {
                write!(f, "oracle report at {timestamp} is not after the previous report at {last}")
            }
            ReportedLessValidators { reported, previous } => {
                write!(f, "REPORTED_LESS_VALIDATORS: {reported} < {previous}")
            }
            ReportedMoreDeposited { reported, deposited } => {
                write!(f, "REPORTED_MORE_DEPOSITED: {reported} > {deposited}")
            }
            ExitedValidatorsCountCannotDecrease { operator, reported, previous } => {
                write!(f, "exited validators of {operator} cannot decrease: {reported} < {previous}")
            }
            ReportedExitedExceedsDeposited { operator, reported, deposited } => {
                write!(f, "exited validators of {operator} ({reported}) exceed deposited ({deposited})")
            }
            UnknownOperator { name } => write!(f, "unknown node operator {name}"),
            IncorrectCLBalanceIncrease { annual_increase_bp, limit_bp } => write!(
                f,
                "sanity check 'annual balance increase' failed: {annual_increase_bp} bp/year > {limit_bp} bp"
            ),
            IncorrectCLBalanceDecrease { negative_cl_rebase_sum, max_negative_cl_rebase_sum } => write!(
                f,
                "sanity check 'CL balance decrease' failed: {negative_cl_rebase_sum} wei over 18 days > allowed {max_negative_cl_rebase_sum} wei"
            ),
            NegativeRebaseFailedCLBalanceMismatch { reported, proved, limit_bp } => write!(
                f,
                "sanity check 'second opinion CL balance' failed: reported {reported}, proved {proved}, limit {limit_bp} bp"
            ),
            NegativeRebaseFailedWithdrawalVaultBalanceMismatch { reported, proved } => write!(
                f,
                "sanity check 'second opinion withdrawal vault' failed: reported {reported}, proved {proved}"
            ),
            IncorrectAppearedValidators { appeared, limit } => write!(
                f,
                "sanity check 'appeared validators' failed: {appeared} appeared, {limit} allowed"
            ),
            ExitedValidatorsLimitExceeded { limit_per_day, exited_per_day } => write!(
                f,
                "sanity check 'exited validators' failed: {exited_per_day}/day > {limit_per_day}/day"
            ),
            IncorrectSimulatedShareRate { simulated, actual } => write!(
                f,
                "sanity check 'simulated share rate' failed: simulated {simulated}, actual {actual} (ray)"
            ),
            ActualShareRateIsZero => write!(f, "sanity check 'simulated share rate' failed: actual share rate is zero"),
            IncorrectRequestFinalization { request_timestamp, report_timestamp } => write!(
                f,
                "sanity check 'request finalization' failed: request created at {request_timestamp} is too recent for a report at {report_timestamp}"
            ),
            InvalidRequestId { request_id } => write!(f, "invalid withdrawal request id {request_id} for finalization"),
            BatchesAreNotSorted => write!(f, "finalization batches are not sorted"),
            ZeroShareRate => write!(f, "max share rate is zero"),
            InsufficientBufferForFinalization { required, available } => write!(
                f,
                "finalization needs {required} wei but the buffer holds {available} wei"
            ),
            DepositExceedsDepositableEther { requested, depositable } => {
                write!(f, "deposit of {requested} wei exceeds depositable {depositable} wei")
            }
            DepositExceedsOperatorCapacity { operator, requested, capacity } => {
                write!(f, "deposit of {requested} validators to {operator} exceeds its capacity {capacity}")
            }
            ExitExceedsActiveValidators { operator, requested, available } => {
                write!(f, "exit of {requested} validators of {operator} exceeds {available} exitable")
            }
            IncorrectNumberOfExitRequestsPerReport { requested, limit } => {
                write!(f, "{requested} exit requests exceed the limit of {limit} per report")
            }
            NotABondedOperator { operator } => write!(f, "{operator} is not an operator of a bonded module"),
            InvalidParams { reason } => write!(f, "invalid Lido parameters: {reason}"),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LidoError {}

impl Reject for LidoError {
    fn code(&self) -> u32 {
        use LidoError::*;
        match self {
            ZeroDeposit => 3000,
            StakeLimitExceeded { .. } => 3001,
            InputTooLarge { .. } => 3002,
            InsufficientShares { .. } => 3003,
            TransferToStEthContract => 3004,
            ZeroAmount => 3005,
            InsufficientWstEth { .. } => 3006,
            RequestAmountTooSmall { .. } => 3010,
            RequestAmountTooLarge { .. } => 3011,
            RequestNotFoundOrNotFinalized { .. } => 3012,
            RequestAlreadyClaimed { .. } => 3013,
            NotOwner { .. } => 3014,
            StaleReport { .. } => 3020,
            ReportedLessValidators { .. } => 3021,
            ReportedMoreDeposited { .. } => 3022,
            ExitedValidatorsCountCannotDecrease { .. } => 3023,
            ReportedExitedExceedsDeposited { .. } => 3024,
            UnknownOperator { .. } => 3025,
            IncorrectCLBalanceIncrease { .. } => 3030,
            IncorrectCLBalanceDecrease { .. } => 3031,
            NegativeRebaseFailedCLBalanceMismatch { .. } => 3032,
            NegativeRebaseFailedWithdrawalVaultBalanceMismatch { .. } => 3033,
            IncorrectAppearedValidators { .. } => 3034,
            ExitedValidatorsLimitExceeded { .. } => 3035,
            IncorrectSimulatedShareRate { .. } => 3036,
            ActualShareRateIsZero => 3037,
            IncorrectRequestFinalization { .. } => 3038,
            InvalidRequestId { .. } => 3040,
            BatchesAreNotSorted => 3041,
            ZeroShareRate => 3042,
            InsufficientBufferForFinalization { .. } => 3043,
            DepositExceedsDepositableEther { .. } => 3050,
            DepositExceedsOperatorCapacity { .. } => 3051,
            ExitExceedsActiveValidators { .. } => 3052,
            IncorrectNumberOfExitRequestsPerReport { .. } => 3053,
            NotABondedOperator { .. } => 3054,
            InvalidParams { .. } => 3090,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}
