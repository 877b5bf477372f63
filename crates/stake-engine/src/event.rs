//! Events of every module, wrapped for the world's log.

use serde::{Deserialize, Serialize};
use stake_l0::L0Event;
use stake_lst::lido::LidoEvent;
use stake_lst::rocketpool::RocketPoolEvent;
use stake_math::U256;

/// An event in the world's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A ledger transfer made by the engine itself.
    Transferred {
        /// Asset symbol.
        asset: String,
        /// From account.
        from: String,
        /// To account.
        to: String,
        /// Ledger units moved (shares for rebasing tokens).
        units: U256,
    },
    /// Ethereum L0.
    Ethereum(L0Event),
    /// A Lido instance.
    Lido {
        /// Token symbol.
        lst: String,
        /// Event.
        event: LidoEvent,
    },
    /// An exchange-rate LST instance.
    ExchangeRate {
        /// Token symbol.
        lst: String,
        /// Event.
        event: stake_lst::exchange_rate::ExchangeRateEvent,
    },
    /// A Rocket Pool instance.
    RocketPool {
        /// Token symbol.
        lst: String,
        /// Event.
        event: RocketPoolEvent,
    },
    /// L2 restaking.
    Restaking(crate::restaking::RestakingEvent),
    /// L4 markets.
    Market(crate::markets::MarketEvent),
    /// Time advanced.
    TimeAdvanced {
        /// From.
        from: u64,
        /// To.
        to: u64,
    },
}
