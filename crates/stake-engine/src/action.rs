//! Transactions: a sender and a typed action (SPEC §2), and their outcomes.

use serde::{Deserialize, Serialize};
use stake_ledger::Rejection;
use stake_math::U256;

/// The sender allowed to submit system actions (time, slashing, parameter changes).
pub const SYSTEM: &str = "system";

/// Every operation the world understands. User operations name the protocol instance by its
/// token symbol (`lst = "stETH"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Move `amount` of `asset` to `to` (rebasing tokens move `⌊amount·shares/pooled⌋` shares).
    Transfer {
        /// Asset symbol.
        asset: String,
        /// Recipient account name.
        to: String,
        /// Amount in base units.
        amount: U256,
    },
    /// Deposit native ETH into an LST (Lido `submit`, Rocket Pool `deposit`, …).
    Stake {
        /// LST symbol.
        lst: String,
        /// ETH in wei.
        amount: U256,
    },
    /// Wrap a rebasing LST (stETH → wstETH).
    Wrap {
        /// LST symbol.
        lst: String,
        /// Amount of the rebasing token.
        amount: U256,
    },
    /// Unwrap (wstETH → stETH).
    Unwrap {
        /// LST symbol.
        lst: String,
        /// Amount of the wrapped token.
        amount: U256,
    },
    /// Queue a withdrawal (Lido splits amounts above 1000 stETH into several requests).
    RequestWithdrawal {
        /// LST symbol.
        lst: String,
        /// Amount of the LST.
        amount: U256,
    },
    /// Claim a finalised withdrawal; `None` claims every finalised request of the sender.
    Claim {
        /// LST symbol.
        lst: String,
        /// Request id.
        request_id: Option<u64>,
    },
    /// Redeem instantly against the protocol's liquidity (Rocket Pool `burn`).
    Burn {
        /// LST symbol.
        lst: String,
        /// Amount of the LST.
        amount: U256,
    },
    /// System: move time forward to `to`, running every periodic hook in time order.
    AdvanceTime {
        /// Target Unix time.
        to: u64,
    },
    /// System: slash `count` validators of `operator` on Ethereum.
    SlashValidators {
        /// Operator name.
        operator: String,
        /// Validators.
        count: u64,
    },
    /// System: set the execution-layer reward APR (ppm of staked ETH).
    SetElRewardApr {
        /// ppm (6,000 = 0.6 %).
        apr_ppm: u64,
    },
    /// System: finality is lost from now for `epochs` epochs (inactivity leak).
    FinalityLoss {
        /// Epochs without finality.
        epochs: u64,
    },
    /// An L2 restaking action.
    Restaking(crate::restaking::RestakingAction),
    /// An L4 market action.
    Market(crate::markets::MarketAction),
    /// A liquid restaking token action.
    Lrt(crate::lrt::LrtAction),
    /// A product action (insurance).
    Product(crate::products::ProductAction),
}

impl Action {
    /// Whether only [`SYSTEM`] may send it.
    pub fn is_system(&self) -> bool {
        if let Action::Restaking(a) = self {
            return a.is_system();
        }
        if let Action::Market(a) = self {
            return a.is_system();
        }
        matches!(
            self,
            Action::AdvanceTime { .. }
                | Action::SlashValidators { .. }
                | Action::SetElRewardApr { .. }
                | Action::FinalityLoss { .. }
        )
    }

    /// A short human description.
    pub fn describe(&self) -> String {
        match self {
            Action::Transfer { asset, to, amount } => format!("transfer {amount} {asset} to {to}"),
            Action::Stake { lst, amount } => format!("stake {amount} wei into {lst}"),
            Action::Wrap { lst, amount } => format!("wrap {amount} {lst}"),
            Action::Unwrap { lst, amount } => format!("unwrap {amount} wrapped {lst}"),
            Action::RequestWithdrawal { lst, amount } => {
                format!("request withdrawal of {amount} {lst}")
            }
            Action::Claim { lst, request_id } => match request_id {
                Some(id) => format!("claim {lst} request {id}"),
                None => format!("claim all finalised {lst} requests"),
            },
            Action::Burn { lst, amount } => format!("burn {amount} {lst}"),
            Action::AdvanceTime { to } => format!("advance time to {to}"),
            Action::SlashValidators { operator, count } => {
                format!("slash {count} validators of {operator}")
            }
            Action::SetElRewardApr { apr_ppm } => format!("set EL reward APR to {apr_ppm} ppm"),
            Action::FinalityLoss { epochs } => format!("lose finality for {epochs} epochs"),
            Action::Restaking(a) => a.describe(),
            Action::Market(a) => a.describe(),
            Action::Lrt(a) => a.describe(),
            Action::Product(a) => a.describe(),
        }
    }
}

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tx {
    /// Sender account name (or [`SYSTEM`]).
    pub sender: String,
    /// What to do.
    pub action: Action,
}

/// What applying a transaction did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Outcome {
    /// Applied: the events it produced.
    Applied {
        /// Events.
        events: Vec<crate::event::Event>,
    },
    /// Rejected: nothing changed.
    Rejected(Rejection),
}

impl Outcome {
    /// The rejection, if any.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Outcome::Rejected(r) => Some(r),
            Outcome::Applied { .. } => None,
        }
    }
}
