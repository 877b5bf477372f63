use stake_math::{MathError, U256};
use std::fmt;

/// A rejected action as seen from outside: a stable numeric code and a message naming the
/// offending values (SPEC §1.3).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    /// Stable numeric code.
    pub code: u32,
    /// Human-readable message with the offending values.
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// Every protocol error enum implements this: a stable code per variant and a message.
///
/// Code ranges: math 100–199, ledger 1000–1099, L0 2000–2999, L1 3000–3999, L2 4000–4999,
/// L3 5000–5999, L4 6000–6999, L5 7000–7999, engine/scenario 9000–9999.
pub trait Reject: fmt::Display {
    /// Stable numeric code of this rejection.
    fn code(&self) -> u32;
    /// The rejection as a value.
    fn rejection(&self) -> Rejection {
        Rejection {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl Reject for MathError {
    fn code(&self) -> u32 {
        MathError::code(self)
    }
}

/// Errors of ledger operations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerError {
    /// No asset with this symbol.
    UnknownAsset {
        /// The symbol asked for.
        symbol: String,
    },
    /// No account with this name.
    UnknownAccount {
        /// The name asked for.
        name: String,
    },
    /// The symbol is already registered.
    DuplicateAsset {
        /// The symbol.
        symbol: String,
    },
    /// More than 65,535 assets.
    TooManyAssets,
    /// The account holds less than required.
    InsufficientBalance {
        /// Account name.
        account: String,
        /// Asset symbol.
        asset: String,
        /// What it holds.
        balance: U256,
        /// What was needed.
        required: U256,
        /// The asset's decimals (for the message).
        decimals: u8,
    },
    /// Minting would push the supply past 2^256 − 1.
    SupplyOverflow {
        /// Asset symbol.
        asset: String,
    },
    /// Supply ≠ Σ holdings.
    ConservationBroken {
        /// Asset symbol.
        asset: String,
        /// Recorded supply.
        supply: U256,
        /// Sum of holdings.
        held: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

impl From<MathError> for LedgerError {
    fn from(e: MathError) -> Self {
        LedgerError::Math(e)
    }
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::UnknownAsset { symbol } => write!(f, "unknown asset {symbol}"),
            LedgerError::UnknownAccount { name } => write!(f, "unknown account {name}"),
            LedgerError::DuplicateAsset { symbol } => write!(f, "asset {symbol} is already registered"),
            LedgerError::TooManyAssets => write!(f, "too many assets (max 65535)"),
            LedgerError::InsufficientBalance {
                account,
                asset,
                balance,
                required,
                decimals,
            } => write!(
                f,
                "insufficient balance: {account} holds {}, {} required",
                stake_math::human(*balance, *decimals, asset),
                stake_math::human(*required, *decimals, asset)
            ),
            LedgerError::SupplyOverflow { asset } => write!(f, "supply of {asset} would overflow"),
            LedgerError::ConservationBroken { asset, supply, held } => {
                write!(
                    f,
                    "conservation broken for {asset}: supply {supply} but holdings sum to {held}"
                )
            }
            LedgerError::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LedgerError {}

impl Reject for LedgerError {
    fn code(&self) -> u32 {
        match self {
            LedgerError::UnknownAsset { .. } => 1000,
            LedgerError::UnknownAccount { .. } => 1001,
            LedgerError::DuplicateAsset { .. } => 1002,
            LedgerError::TooManyAssets => 1003,
            LedgerError::InsufficientBalance { .. } => 1004,
            LedgerError::SupplyOverflow { .. } => 1005,
            LedgerError::ConservationBroken { .. } => 1006,
            LedgerError::Math(e) => e.code(),
        }
    }
}
