//! Engine-level rejections (codes 9000–9099) and the conversion of protocol errors.

use stake_ledger::{Reject, Rejection};
use std::fmt;

/// Why the engine itself refused a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// A system action sent by someone else.
    NotSystem {
        /// Who sent it.
        sender: String,
    },
    /// No LST with this symbol.
    UnknownLst {
        /// Symbol asked for.
        lst: String,
    },
    /// The LST's model has no such operation.
    Unsupported {
        /// LST symbol.
        lst: String,
        /// Its model.
        model: String,
        /// Operation.
        op: String,
    },
    /// Time cannot go backwards.
    TimeInPast {
        /// Now.
        now: u64,
        /// Requested time.
        to: u64,
    },
    /// Nothing to claim.
    NothingToClaim {
        /// LST symbol.
        lst: String,
        /// Account.
        account: String,
    },
    /// A zero amount where a positive one is needed.
    ZeroAmount {
        /// What.
        what: String,
    },
    /// A protocol rejected it (its own code and message).
    Protocol(Rejection),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::NotSystem { sender } => {
                write!(f, "only `system` may send this action, not `{sender}`")
            }
            EngineError::UnknownLst { lst } => write!(f, "unknown LST `{lst}`"),
            EngineError::Unsupported { lst, model, op } => {
                write!(f, "{lst} ({model} model) has no `{op}` operation")
            }
            EngineError::TimeInPast { now, to } => {
                write!(
                    f,
                    "cannot advance time to {} ({to}): it is already {} ({now})",
                    crate::time::format_date(*to),
                    crate::time::format_date(*now)
                )
            }
            EngineError::NothingToClaim { lst, account } => {
                write!(f, "{account} has no finalised {lst} withdrawal to claim")
            }
            EngineError::ZeroAmount { what } => write!(f, "{what} must be positive"),
            EngineError::Protocol(r) => write!(f, "{}", r.message),
        }
    }
}

impl Reject for EngineError {
    fn code(&self) -> u32 {
        match self {
            EngineError::NotSystem { .. } => 9000,
            EngineError::UnknownLst { .. } => 9001,
            EngineError::Unsupported { .. } => 9002,
            EngineError::TimeInPast { .. } => 9003,
            EngineError::NothingToClaim { .. } => 9004,
            EngineError::ZeroAmount { .. } => 9005,
            EngineError::Protocol(r) => r.code,
        }
    }
}

/// Converts any protocol error into an engine rejection keeping its code.
pub(crate) fn proto<E: Reject>(e: E) -> EngineError {
    EngineError::Protocol(e.rejection())
}
