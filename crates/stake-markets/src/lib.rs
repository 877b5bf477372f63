//! L4 — markets (SPEC §7): oracles, StableSwap, Aave v3 lending, Morpho Blue, Pendle v2, Yield
//! Protocol's YieldSpace pool and fyToken.

pub mod aave;
pub mod aave_index;
pub mod morpho;
pub mod morpho_index;
pub mod oracle;
pub mod pendle;
pub mod stableswap;
pub mod yieldspace;
