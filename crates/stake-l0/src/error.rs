use stake_ledger::{AccountId, LedgerError, Reject};
use stake_math::{MathError, U256};
use std::fmt;

/// Errors of L0 chain operations. Stable numeric codes 2000–2999 (ledger and math errors keep
/// their own codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum L0Error {
    /// No validator (or stake) is registered under this operator.
    UnknownOperator {
        /// The operator asked for.
        operator: String,
    },
    /// More validators to slash than the operator has slashable.
    SlashExceedsValidators {
        /// Operator.
        operator: String,
        /// Validators asked for.
        requested: u64,
        /// Slashable validators the operator has.
        available: u64,
    },
    /// More exits requested than there are active, exit-eligible validators.
    ExitsExceedActive {
        /// Withdrawal-credentials account.
        credentials: AccountId,
        /// Operator filter, if any.
        operator: Option<String>,
        /// Validators asked for.
        requested: u64,
        /// Validators that may exit now.
        available: u64,
    },
    /// The depositor does not hold the deposit.
    InsufficientFunds {
        /// Account name.
        account: String,
        /// What it holds (wei).
        balance: U256,
        /// What the deposit needs (wei).
        required: U256,
    },
    /// A count or amount of zero where a positive one is required.
    ZeroAmount {
        /// Which argument.
        what: &'static str,
    },
    /// `now` lies in an epoch whose start has not been processed yet: call `advance_to(now)` first.
    NotAdvanced {
        /// Time given.
        now: u64,
        /// Epoch containing `now`.
        epoch_at_now: u64,
        /// The chain's current epoch.
        current_epoch: u64,
    },
    /// `now` is before genesis or before the chain's current epoch.
    TimeInPast {
        /// Time given.
        now: u64,
        /// The chain's current time (start of its current epoch).
        current_time: u64,
    },
    /// A parameter outside its domain.
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Offending value, printed.
        value: String,
    },
    /// An amount that must be a whole number of validators (32 ETH each) is not.
    NotWholeValidators {
        /// Amount given (wei).
        amount: U256,
        /// Unit (wei per validator).
        unit: U256,
    },
    /// More stake to unbond than is bonded.
    UnbondExceedsBonded {
        /// Credentials (owner) account.
        credentials: AccountId,
        /// Operator filter.
        operator: Option<String>,
        /// Amount asked for (base units).
        requested: U256,
        /// Bonded amount available (base units).
        available: U256,
    },
    /// The chain does not slash stake (Solana, Sui).
    SlashingDisabled {
        /// Chain name.
        chain: String,
    },
    /// A ledger failure (keeps the ledger's code; boxed to keep `Result`s small).
    Ledger(Box<LedgerError>),
    /// An arithmetic failure (keeps the math code).
    Math(MathError),
}

impl From<LedgerError> for L0Error {
    fn from(e: LedgerError) -> Self {
        L0Error::Ledger(Box::new(e))
    }
}

impl From<MathError> for L0Error {
    fn from(e: MathError) -> Self {
        L0Error::Math(e)
    }
}

impl fmt::Display for L0Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            L0Error::UnknownOperator { operator } => write!(f, "unknown operator {operator}"),
            L0Error::SlashExceedsValidators {
                operator,
                requested,
                available,
            } => write!(
                f,
                "cannot slash {requested} validators of operator {operator}: only {available} are slashable"
            ),
            L0Error::ExitsExceedActive {
                credentials,
                operator,
                requested,
                available,
            } => write!(
                f,
                "cannot exit {requested} validators of credentials #{} (operator {}): only {available} may exit",
                credentials.0,
                operator.as_deref().unwrap_or("any")
            ),
            L0Error::InsufficientFunds {
                account,
                balance,
                required,
            } => write!(
                f,
                "insufficient funds for deposit: {account} holds {balance} wei, {required} wei required"
            ),
            L0Error::ZeroAmount { what } => write!(f, "{what} must be positive"),
            L0Error::NotAdvanced {
                now,
                epoch_at_now,
                current_epoch,
            } => write!(
                f,
                "time {now} is in epoch {epoch_at_now} but the chain is at epoch {current_epoch}: advance first"
            ),
            L0Error::TimeInPast { now, current_time } => {
                write!(f, "time {now} is before the chain's current time {current_time}")
            }
            L0Error::InvalidParameter { name, value } => write!(f, "invalid parameter {name} = {value}"),
            L0Error::NotWholeValidators { amount, unit } => {
                write!(f, "amount {amount} wei is not a positive multiple of {unit} wei")
            }
            L0Error::UnbondExceedsBonded {
                credentials,
                operator,
                requested,
                available,
            } => write!(
                f,
                "cannot unbond {requested} of credentials #{} (operator {}): only {available} bonded",
                credentials.0,
                operator.as_deref().unwrap_or("any")
            ),
            L0Error::SlashingDisabled { chain } => write!(f, "{chain} does not slash stake"),
            L0Error::Ledger(e) => write!(f, "{e}"),
            L0Error::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for L0Error {}

impl Reject for L0Error {
    fn code(&self) -> u32 {
        match self {
            L0Error::UnknownOperator { .. } => 2000,
            L0Error::SlashExceedsValidators { .. } => 2001,
            L0Error::ExitsExceedActive { .. } => 2002,
            L0Error::InsufficientFunds { .. } => 2003,
            L0Error::ZeroAmount { .. } => 2004,
            L0Error::NotAdvanced { .. } => 2005,
            L0Error::TimeInPast { .. } => 2006,
            L0Error::InvalidParameter { .. } => 2007,
            L0Error::NotWholeValidators { .. } => 2008,
            L0Error::UnbondExceedsBonded { .. } => 2009,
            L0Error::SlashingDisabled { .. } => 2010,
            L0Error::Ledger(e) => e.code(),
            L0Error::Math(e) => e.code(),
        }
    }
}
