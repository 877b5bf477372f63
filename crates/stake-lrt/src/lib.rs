//! L3 — liquid restaking tokens (SPEC §6): pure state machines over [`U256`] base units
//! (18-decimal ETH), one module per reference protocol, with the contracts' rounding and reverts.
//!
//! | module | token | reference |
//! |---|---|---|
//! | [`renzo`] | ezETH | `Renzo-Protocol/contracts-public` `RenzoOracle`, `RestakeManager`, `DepositQueue`, `WithdrawQueue` |
//! | [`etherfi`] | eETH / weETH | `etherfi-protocol/smart-contracts` `LiquidityPool`, `EETH`, `WeETH`, `WithdrawRequestNFT`, `EtherFiAdmin` |
//! | [`kelp`] | rsETH | `Kelp-DAO/LRT-rsETH` v5.1.0 `LRTOracle`, `LRTDepositPool`, `LRTWithdrawalManager` |
//! | [`puffer`] | pufETH | `PufferFinance/puffer-contracts` `PufferVaultV5` (OpenZeppelin ERC-4626) |
//! | [`swell`] | rswETH | `SwellNetwork/v3-core-public` `lrt/.../RswETH.sol` `reprice` |
//!
//! The models hold *totals* (supply, pooled value, queues), not per-holder balances: a deposit
//! returns what to mint, a withdrawal request takes tokens the caller already moved out of the
//! holder's balance. The engine keeps the holders in the ledger (SPEC §1.4–1.5) and supplies the
//! restaked value of each position from the restaking layer (SPEC §1.5 read interfaces).
//!
//! Time is an input (SPEC §1.1): seconds for Renzo and Puffer, block numbers for Kelp, slots
//! for ether.fi reports.
//!
//! Rejection codes (SPEC §1.3, the L3 range 5000–5999 of `stake_ledger::Reject`): Renzo
//! 5000–5099, ether.fi 5100–5199, Kelp 5200–5299, Puffer 5300–5399, Swell 5400–5499,
//! allocation 5500–5599.
//!
//! Architecture Invariant: nothing here reads a clock, iterates a hash map or touches another
//! protocol's state; every division names its rounding or is the contract's plain `/` (floor).

// Errors carry the offending values (SPEC §1.3); rejections are the cold path.
#![allow(clippy::result_large_err)]

pub mod allocation;
pub mod etherfi;
pub mod kelp;
pub mod puffer;
pub mod renzo;
pub mod swell;

pub use allocation::{target_allocations, AllocationCandidate, AllocationError, AllocationPolicy};

use stake_ledger::Reject;
use stake_math::{Checked, MathResult, U256, WAD};

/// The common interface of a liquid restaking token (SPEC §6).
///
/// `now` is the model's clock: seconds (Renzo, Puffer, Swell), block number (Kelp) or slot
/// (ether.fi). Amounts are base units of ETH (value) and of the LRT.
pub trait Lrt {
    /// The model's rejection type.
    type Error: Reject + std::fmt::Debug;

    /// Deposits `amount` of ETH (value) and returns the LRT minted to the depositor.
    fn deposit(&mut self, amount: U256, now: u64) -> Result<U256, Self::Error>;

    /// Queues a withdrawal of `lrt_amount` LRT owned by `owner` (already taken from the holder by
    /// the caller) and returns the request id.
    fn request_withdrawal(&mut self, owner: &str, lrt_amount: U256, now: u64) -> Result<u64, Self::Error>;

    /// Claims request `id` for `owner` and returns the ETH paid.
    fn claim(&mut self, owner: &str, id: u64, now: u64) -> Result<U256, Self::Error>;

    /// ETH value of one LRT (1e18 base units), 1e18 scale.
    fn rate(&self, now: u64) -> Result<U256, Self::Error>;

    /// Total value locked, in ETH base units.
    fn tvl(&self, now: u64) -> Result<U256, Self::Error>;

    /// LRT total supply (including tokens locked in the protocol's withdrawal queue).
    fn supply(&self) -> U256;

    /// The model's backing rules (SPEC §1.4); `Err` names the broken rule.
    fn check_invariants(&self) -> Result<(), String>;
}

/// `value · 1e18 / supply` rounded down, or 1e18 when the supply is zero (the first-mint rate).
pub fn rate_of(value: U256, supply: U256) -> MathResult<U256> {
    if supply == U256::ZERO {
        return Ok(WAD);
    }
    value.mul_c(WAD)?.div_c(supply)
}

/// `a · b / d` as Solidity 0.8 computes `(a * b) / d`: the product must fit 256 bits (checked
/// arithmetic reverts otherwise), then the division rounds down.
pub(crate) fn sol_mul_div(a: U256, b: U256, d: U256) -> MathResult<U256> {
    a.mul_c(b)?.div_c(d)
}

pub(crate) fn ensure(cond: bool, rule: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(rule())
    }
}
