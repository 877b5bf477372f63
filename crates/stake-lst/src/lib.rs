//! L1 — liquid staking (SPEC §4): one module, several models.

pub mod exchange_rate;
pub mod lido;
pub mod rocketpool;
