//! L5 — products built on the staking stack (SPEC §8): pure state machines over [`U256`] base
//! units with the reference contracts' rounding, one module per product.
//!
//! | module | product | reference (exact) or model (our own design, after) |
//! |---|---|---|
//! | [`vault`] | ERC-4626 tokenised vault | `OpenZeppelin/openzeppelin-contracts` v5 `token/ERC20/extensions/ERC4626.sol` |
//! | [`aggregator`] | yield aggregator / auto-allocation over the vault | model: Yearn-style allocator; policies, costs and queue are this crate's design |
//! | [`tranche`] | senior / junior yield tranches | model: the seeds' tranching (a BarnBridge / Saffron-style waterfall) |
//! | [`insurance`] | cover fund with premiums, capacity and cool-down | model: Lido's cover fund, Nexus-style underwriting pools |
//! | [`points`] | points programmes with inheritance and YT pass-through | model: EigenLayer / LRT points as programmes publish them, Pendle YT points |
//! | [`looping`] | leverage-loop planner, unwind plans and yield decomposition | Aave v3 units (`ltv` in bps, flash premium `percentMul`); the planner is ours |
//!
//! The models hold *totals* (supply, assets, tranche values, an accumulator index), not the
//! ledger's balances: an entry returns what to mint, an exit takes the holder's balance as an
//! argument and returns what to pay. The engine keeps the holders in the ledger (SPEC §1.4–1.5)
//! and supplies external values (strategy assets, token rates, prices) as inputs.
//!
//! Time is an input in seconds (SPEC §1.1). Every operation either applies entirely or returns
//! an error and leaves the state as it was (SPEC §1.3).
//!
//! Rejection codes (SPEC §1.3, the L5 range 7000–7999 of `stake_ledger::Reject`): vault
//! 7000–7099, aggregator 7100–7199, tranche 7200–7299, insurance 7300–7399, points 7400–7499,
//! looping 7500–7599.
//!
//! Architecture Invariant: nothing here reads a clock, iterates a hash map, scans holders on an
//! accrual, or touches another protocol's state; every division names its rounding.

// Errors carry the offending values (SPEC §1.3); rejections are the cold path.
#![allow(clippy::result_large_err)]

pub mod aggregator;
pub mod insurance;
pub mod looping;
pub mod points;
pub mod tranche;
pub mod vault;

use serde::{Deserialize, Serialize};
use stake_math::{mul_div_down, mul_div_up, MathResult, U256};

/// Rounding of a conversion (`Math.Rounding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rounding {
    /// `Math.Rounding.Floor`.
    Floor,
    /// `Math.Rounding.Ceil`.
    Ceil,
}

/// `a·b/d` with a 512-bit intermediate (`Math.mulDiv`) and the named rounding.
pub fn mul_div(a: U256, b: U256, d: U256, r: Rounding) -> MathResult<U256> {
    match r {
        Rounding::Floor => mul_div_down(a, b, d),
        Rounding::Ceil => mul_div_up(a, b, d),
    }
}

pub(crate) fn ensure(cond: bool, rule: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(rule())
    }
}

/// `From<MathError>` (into the `Math` variant) and `std::error::Error` for a module's error enum.
macro_rules! math_error {
    ($t:ident) => {
        impl From<stake_math::MathError> for $t {
            fn from(e: stake_math::MathError) -> Self {
                $t::Math(e)
            }
        }
        impl std::error::Error for $t {}
    };
}
pub(crate) use math_error;

#[cfg(test)]
mod tests {
    use super::*;
    use stake_ledger::Reject;
    use stake_math::MathError;

    #[test]
    fn mul_div_names_its_rounding() {
        let (a, b, d) = (U256::from(10u8), U256::from(111u8), U256::from(101u8));
        assert_eq!(mul_div(a, b, d, Rounding::Floor), Ok(U256::from(10u8)));
        assert_eq!(mul_div(a, b, d, Rounding::Ceil), Ok(U256::from(11u8)));
        assert_eq!(mul_div(a, a, U256::from(5u8), Rounding::Ceil), Ok(U256::from(20u8)));
        assert_eq!(
            mul_div(a, b, U256::ZERO, Rounding::Floor),
            Err(MathError::DivisionByZero)
        );
        // 512-bit intermediate: MAX·MAX/MAX.
        assert_eq!(mul_div(U256::MAX, U256::MAX, U256::MAX, Rounding::Ceil), Ok(U256::MAX));
    }

    #[test]
    fn rejection_codes_sit_in_each_module_s_slice_of_the_l5_range() {
        let z = U256::ZERO;
        let samples: Vec<(u32, u32)> = vec![
            (vault::VaultError::ExceededMaxDeposit { assets: z, max: z }.code(), 7000),
            (
                vault::VaultError::InsufficientAssets {
                    amount: z,
                    available: z,
                }
                .code(),
                7000,
            ),
            (aggregator::AggregatorError::InvalidBps { bps: 0 }.code(), 7100),
            (
                aggregator::AggregatorError::CostExceedsAmount { cost: z, amount: z }.code(),
                7100,
            ),
            (tranche::TrancheError::ZeroRate.code(), 7200),
            (insurance::InsuranceError::PremiumUnpaid { owed: z }.code(), 7300),
            (
                points::PointsError::SourceWentBackwards { points: z, synced: z }.code(),
                7400,
            ),
            (looping::LoopError::ZeroPrice.code(), 7500),
        ];
        for (code, base) in samples {
            assert!(
                (base..base + 100).contains(&code),
                "{code} outside {base}..{}",
                base + 100
            );
        }
        // Arithmetic failures keep the math codes; vault rejections keep theirs in the aggregator.
        assert_eq!(tranche::TrancheError::Math(MathError::Overflow).code(), 100);
        let wrapped: aggregator::AggregatorError = vault::VaultError::InvalidDecimalsOffset { offset: 30 }.into();
        assert_eq!(wrapped.code(), 7004);
        let math: aggregator::AggregatorError = vault::VaultError::Math(MathError::Underflow).into();
        assert_eq!(math, aggregator::AggregatorError::Math(MathError::Underflow));
    }
}
