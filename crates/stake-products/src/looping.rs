//! `looping` — the pure planner of a leverage loop (SPEC §8 "loops"): supply an LST / LRT as
//! collateral on Aave v3 (e-mode), borrow the debt asset, convert it to collateral, supply it
//! again, to a target leverage or health factor; unwind it step by step or with a flash loan;
//! decompose its yield.
//!
//! Units: collateral amounts in collateral base units, debt amounts in debt base units, `price_wad`
//! = debt units per collateral unit (wad), LTV and liquidation threshold in bps as Aave's reserve
//! configuration stores them. Values (`C·p`) are in debt units, floored.
//!
//! * Leverage `L = C·p/(C·p − D)`; health factor `HF = C·p·LT/(1e4·D)` (wad).
//! * `max_leverage(ltv) = 1/(1 − ltv) = 1e4/(1e4 − ltv_bps)`: the limit of the geometric series
//!   `1 + ltv + ltv² + …` that looping builds; it is approached, never reached.
//! * Each loop step borrows `min(⌊C·p·ltv/1e4⌋ − D, D* − D)` (the available borrows, floored,
//!   against the target debt `D*`) and supplies `⌊borrow·1e18/p⌋` of collateral.
//! * Unwinding withdraws the most collateral that keeps the position within its LTV (the safe
//!   bound; Aave itself would allow a withdrawal down to HF 1), sells it for the debt asset at `p`
//!   and repays, until the debt is 0; the flash plan borrows the whole debt, repays, withdraws all
//!   the collateral and sells `⌈(D + premium)·1e18/p⌉` of it, the premium being Aave's
//!   `percentMul(D, premium_bps)` (half up).

use crate::math_error;
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::signed::to_signed;
use stake_math::{mul_div_down, mul_div_up, percent_mul_half_up, Checked, MathError, I256, U256, WAD};
use std::fmt;

/// Basis-point denominator (Aave's `PERCENTAGE_FACTOR`).
pub const BPS_SCALE: u32 = 10_000;

/// Rejections of the loop planner (codes 7500–7599).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopError {
    /// An LTV of 100 % or more.
    InvalidLtv {
        /// The LTV, bps.
        ltv_bps: u32,
    },
    /// A liquidation threshold below the LTV or above 100 %.
    InvalidThreshold {
        /// The threshold, bps.
        liquidation_threshold_bps: u32,
        /// The LTV, bps.
        ltv_bps: u32,
    },
    /// A price of zero.
    ZeroPrice,
    /// A leverage below 1.
    LeverageBelowOne {
        /// The leverage, wad.
        leverage_wad: U256,
    },
    /// A target leverage above `max_leverage(ltv)`.
    TargetAboveMax {
        /// Target, wad.
        target_wad: U256,
        /// Maximum, wad.
        max_wad: U256,
    },
    /// A target health factor at or below `LT/1e4` (no finite debt reaches it).
    InvalidHealthFactor {
        /// Target, wad.
        health_factor_wad: U256,
        /// Its exclusive lower bound, wad.
        min_wad: U256,
    },
    /// The position is outside its LTV: no collateral can be withdrawn to start unwinding.
    CannotUnwind {
        /// Debt.
        debt: U256,
        /// What the collateral may back at the LTV.
        borrowable: U256,
    },
    /// The collateral does not cover the flash loan and its premium.
    Insolvent {
        /// Collateral to sell.
        needed: U256,
        /// Collateral held.
        collateral: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

math_error!(LoopError);

impl fmt::Display for LoopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LoopError::*;
        match self {
            InvalidLtv { ltv_bps } => write!(f, "loop: LTV {ltv_bps} bps must be below 10000"),
            InvalidThreshold {
                liquidation_threshold_bps,
                ltv_bps,
            } => write!(
                f,
                "loop: liquidation threshold {liquidation_threshold_bps} bps outside [{ltv_bps}, 10000]"
            ),
            ZeroPrice => write!(f, "loop: price 0"),
            LeverageBelowOne { leverage_wad } => write!(f, "loop: leverage {leverage_wad} below 1e18"),
            TargetAboveMax { target_wad, max_wad } => {
                write!(f, "loop: target leverage {target_wad} above the maximum {max_wad}")
            }
            InvalidHealthFactor {
                health_factor_wad,
                min_wad,
            } => write!(f, "loop: target health factor {health_factor_wad} not above {min_wad}"),
            CannotUnwind { debt, borrowable } => {
                write!(
                    f,
                    "loop: debt {debt} above the {borrowable} the collateral backs at its LTV"
                )
            }
            Insolvent { needed, collateral } => {
                write!(
                    f,
                    "loop: {needed} collateral needed to repay the flash loan, {collateral} held"
                )
            }
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl Reject for LoopError {
    fn code(&self) -> u32 {
        use LoopError::*;
        match self {
            InvalidLtv { .. } => 7500,
            InvalidThreshold { .. } => 7501,
            ZeroPrice => 7502,
            LeverageBelowOne { .. } => 7503,
            TargetAboveMax { .. } => 7504,
            InvalidHealthFactor { .. } => 7505,
            CannotUnwind { .. } => 7506,
            Insolvent { .. } => 7507,
            Math(e) => e.code(),
        }
    }
}

/// Result of a planner call.
pub type LoopResult<T> = Result<T, LoopError>;

/// An exact fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    /// Numerator.
    pub num: U256,
    /// Denominator (> 0).
    pub den: U256,
}

/// `max_leverage(ltv) = 1/(1 − ltv)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxLeverage {
    /// Exact, in lowest terms: `1e4/(1e4 − ltv_bps)` reduced.
    pub exact: Ratio,
    /// `⌊1e4·1e18/(1e4 − ltv_bps)⌋`.
    pub wad: U256,
}

fn gcd(mut a: U256, mut b: U256) -> U256 {
    while b != U256::ZERO {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

/// The maximum leverage a loop approaches at `ltv_bps`.
///
/// Specification: fails with `InvalidLtv` at or above 10,000 bps.
pub fn max_leverage(ltv_bps: u32) -> LoopResult<MaxLeverage> {
    let den = BPS_SCALE
        .checked_sub(ltv_bps)
        .filter(|&d| d > 0)
        .ok_or(LoopError::InvalidLtv { ltv_bps })?;
    let (num, den) = (U256::from(BPS_SCALE), U256::from(den));
    let g = gcd(num, den);
    Ok(MaxLeverage {
        exact: Ratio {
            num: num / g,
            den: den / g,
        },
        wad: mul_div_down(num, WAD, den)?,
    })
}

/// The market a loop runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopMarket {
    /// LTV, bps.
    pub ltv_bps: u32,
    /// Liquidation threshold, bps.
    pub liquidation_threshold_bps: u32,
    /// Debt units per collateral unit, wad.
    pub price_wad: U256,
}

impl LoopMarket {
    fn validate(&self) -> LoopResult<MaxLeverage> {
        let max = max_leverage(self.ltv_bps)?;
        if self.liquidation_threshold_bps < self.ltv_bps || self.liquidation_threshold_bps > BPS_SCALE {
            return Err(LoopError::InvalidThreshold {
                liquidation_threshold_bps: self.liquidation_threshold_bps,
                ltv_bps: self.ltv_bps,
            });
        }
        if self.price_wad == U256::ZERO {
            return Err(LoopError::ZeroPrice);
        }
        Ok(max)
    }

    /// `⌊C·p/1e18⌋`, debt units.
    pub fn value(&self, collateral: U256) -> LoopResult<U256> {
        Ok(mul_div_down(collateral, self.price_wad, WAD)?)
    }

    fn of_bps(&self, v: U256, bps: u32) -> LoopResult<U256> {
        Ok(mul_div_down(v, U256::from(bps), U256::from(BPS_SCALE))?)
    }

    /// Leverage `C·p/(C·p − D)`, wad (1e18 without debt).
    ///
    /// Specification: fails with `Math(DivisionByZero)` when the debt equals the collateral value.
    pub fn leverage_wad(&self, collateral: U256, debt: U256) -> LoopResult<U256> {
        let v = self.value(collateral)?;
        Ok(mul_div_down(v, WAD, v.sub_c(debt)?)?)
    }

    /// Health factor `C·p·LT/(1e4·D)`, wad (`U256::MAX` without debt).
    pub fn health_factor_wad(&self, collateral: U256, debt: U256) -> LoopResult<U256> {
        if debt == U256::ZERO {
            return Ok(U256::MAX);
        }
        let v = self.of_bps(self.value(collateral)?, self.liquidation_threshold_bps)?;
        Ok(mul_div_down(v, WAD, debt)?)
    }
}

/// What the loop aims at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoopTarget {
    /// A leverage, wad (1e18 ≤ L ≤ max).
    Leverage(U256),
    /// A health factor, wad (> LT/1e4).
    HealthFactor(U256),
}

/// One loop iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopStep {
    /// Debt borrowed.
    pub borrow: U256,
    /// Collateral supplied (the borrow converted at the price).
    pub supply: U256,
    /// Collateral after.
    pub collateral: U256,
    /// Debt after.
    pub debt: U256,
}

/// A loop plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopPlan {
    /// Initial supply.
    pub initial_supply: U256,
    /// Target debt `D*`.
    pub target_debt: U256,
    /// Iterations.
    pub steps: Vec<LoopStep>,
    /// Collateral at the end.
    pub collateral: U256,
    /// Debt at the end.
    pub debt: U256,
    /// Leverage at the end, wad.
    pub leverage_wad: U256,
    /// Health factor at the end, wad.
    pub health_factor_wad: U256,
    /// Whether the debt reached `D*` within the iterations.
    pub reached: bool,
}

/// Plans a loop from `collateral` to `target` in at most `max_iterations` steps.
///
/// The target debt is `D* = ⌊E·(L − 1e18)/1e18⌋` for a leverage target and
/// `D* = ⌊E·LT·1e18/(HF·1e4 − LT·1e18)⌋` for a health-factor target (solving
/// `HF = (E + D)·LT/(1e4·D)`), with equity `E = ⌊C·p/1e18⌋`.
///
/// Specification: fails with `InvalidLtv`, `InvalidThreshold`, `ZeroPrice` for a bad market,
/// `LeverageBelowOne` / `TargetAboveMax` for a leverage outside `[1, max_leverage]`, and
/// `InvalidHealthFactor` for a health factor at or below `LT/1e4` or `TargetAboveMax` if it
/// needs more than the maximum leverage.
pub fn plan_loop(
    market: LoopMarket,
    collateral: U256,
    target: LoopTarget,
    max_iterations: u32,
) -> LoopResult<LoopPlan> {
    let max = market.validate()?;
    let equity = market.value(collateral)?;
    let target_leverage = match target {
        LoopTarget::Leverage(l) => l,
        LoopTarget::HealthFactor(hf) => {
            let lt = U256::from(market.liquidation_threshold_bps).mul_c(WAD)?;
            let hf_bps = hf.mul_c(U256::from(BPS_SCALE))?;
            if hf_bps <= lt {
                return Err(LoopError::InvalidHealthFactor {
                    health_factor_wad: hf,
                    min_wad: lt / U256::from(BPS_SCALE),
                });
            }
            // L = HF·1e4/(HF·1e4 − LT), wad.
            mul_div_down(hf_bps, WAD, hf_bps.sub_c(lt)?)?
        }
    };
    if target_leverage < WAD {
        return Err(LoopError::LeverageBelowOne {
            leverage_wad: target_leverage,
        });
    }
    if target_leverage > max.wad {
        return Err(LoopError::TargetAboveMax {
            target_wad: target_leverage,
            max_wad: max.wad,
        });
    }
    let target_debt = match target {
        LoopTarget::Leverage(l) => mul_div_down(equity, l.sub_c(WAD)?, WAD)?,
        LoopTarget::HealthFactor(hf) => {
            let lt = U256::from(market.liquidation_threshold_bps).mul_c(WAD)?;
            mul_div_down(equity, lt, hf.mul_c(U256::from(BPS_SCALE))?.sub_c(lt)?)?
        }
    };
    let (mut c, mut d) = (collateral, U256::ZERO);
    let mut steps = Vec::new();
    for _ in 0..max_iterations {
        let borrowable = market.of_bps(market.value(c)?, market.ltv_bps)?;
        let borrow = borrowable.saturating_sub(d).min(target_debt.saturating_sub(d));
        if borrow == U256::ZERO {
            break;
        }
        let supply = mul_div_down(borrow, WAD, market.price_wad)?;
        c = c.add_c(supply)?;
        d = d.add_c(borrow)?;
        steps.push(LoopStep {
            borrow,
            supply,
            collateral: c,
            debt: d,
        });
    }
    Ok(LoopPlan {
        initial_supply: collateral,
        target_debt,
        steps,
        collateral: c,
        debt: d,
        leverage_wad: market.leverage_wad(c, d)?,
        health_factor_wad: market.health_factor_wad(c, d)?,
        reached: d >= target_debt,
    })
}

/// One unwind iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwindStep {
    /// Collateral withdrawn.
    pub withdraw: U256,
    /// Debt repaid (the withdrawal sold at the price, up to the debt).
    pub repay: U256,
    /// Collateral after.
    pub collateral: U256,
    /// Debt after.
    pub debt: U256,
}

/// A step-by-step unwind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnwindPlan {
    /// Iterations (the last withdraws what is left once the debt is 0).
    pub steps: Vec<UnwindStep>,
    /// Collateral still supplied at the end.
    pub collateral: U256,
    /// Debt left at the end.
    pub debt: U256,
    /// Collateral returned to the owner (the final withdrawal, once the debt is 0).
    pub returned: U256,
    /// Whether the debt reached 0 within the iterations.
    pub complete: bool,
}

/// Plans an unwind of (`collateral`, `debt`) in at most `max_iterations` steps.
///
/// Specification: fails with `InvalidLtv`, `InvalidThreshold`, `ZeroPrice` for a bad market and
/// `CannotUnwind` if the debt is above what the collateral backs at the LTV.
pub fn plan_unwind(market: LoopMarket, collateral: U256, debt: U256, max_iterations: u32) -> LoopResult<UnwindPlan> {
    market.validate()?;
    let borrowable = market.of_bps(market.value(collateral)?, market.ltv_bps)?;
    if debt > U256::ZERO && debt >= borrowable {
        return Err(LoopError::CannotUnwind { debt, borrowable });
    }
    let (mut c, mut d) = (collateral, debt);
    let mut steps = Vec::new();
    let mut returned = U256::ZERO;
    for _ in 0..max_iterations {
        if d == U256::ZERO {
            if c > U256::ZERO {
                returned = returned.add_c(c)?;
                steps.push(UnwindStep {
                    withdraw: c,
                    repay: U256::ZERO,
                    collateral: U256::ZERO,
                    debt: U256::ZERO,
                });
                c = U256::ZERO;
            }
            break;
        }
        // Collateral that must stay: ⌈D·1e4·1e18/(p·ltv)⌉.
        let keep = mul_div_up(
            d.mul_c(U256::from(BPS_SCALE))?,
            WAD,
            market.price_wad.mul_c(U256::from(market.ltv_bps))?,
        )?;
        let free = c.saturating_sub(keep);
        // Only what repays the debt is sold: ⌈D·1e18/p⌉ at most.
        let to_clear = mul_div_up(d, WAD, market.price_wad)?;
        let withdraw = free.min(to_clear);
        if withdraw == U256::ZERO {
            break;
        }
        let repay = market.value(withdraw)?.min(d);
        c = c.sub_c(withdraw)?;
        d = d.sub_c(repay)?;
        steps.push(UnwindStep {
            withdraw,
            repay,
            collateral: c,
            debt: d,
        });
    }
    Ok(UnwindPlan {
        steps,
        collateral: c,
        debt: d,
        returned,
        complete: d == U256::ZERO,
    })
}

/// A one-shot unwind through a flash loan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashUnwind {
    /// Debt asset flash-borrowed (= the debt).
    pub flash_borrow: U256,
    /// Debt repaid with it.
    pub repay: U256,
    /// Flash-loan premium, `percentMul(D, premium_bps)` (half up).
    pub premium: U256,
    /// Collateral withdrawn (all of it).
    pub withdraw: U256,
    /// Collateral sold to return the flash loan, `⌈(D + premium)·1e18/p⌉`.
    pub sell: U256,
    /// Collateral returned to the owner.
    pub returned: U256,
}

/// Plans a flash-loan unwind of (`collateral`, `debt`).
///
/// Specification: fails with `ZeroPrice` and with `Insolvent` if the collateral does not cover
/// the loan and its premium.
pub fn plan_flash_unwind(price_wad: U256, collateral: U256, debt: U256, premium_bps: u32) -> LoopResult<FlashUnwind> {
    if price_wad == U256::ZERO {
        return Err(LoopError::ZeroPrice);
    }
    let premium = percent_mul_half_up(debt, U256::from(premium_bps))?;
    let sell = mul_div_up(debt.add_c(premium)?, WAD, price_wad)?;
    if sell > collateral {
        return Err(LoopError::Insolvent {
            needed: sell,
            collateral,
        });
    }
    Ok(FlashUnwind {
        flash_borrow: debt,
        repay: debt,
        premium,
        withdraw: collateral,
        sell,
        returned: collateral.sub_c(sell)?,
    })
}

/// One named part of a loop's yield, APR wad (negative for a cost).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YieldPart {
    /// Name ("staking", "restaking", "borrow").
    pub name: String,
    /// Contribution to the APR on equity, wad.
    pub apr_wad: I256,
}

/// A loop's yield on equity, decomposed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopYield {
    /// Each collateral yield × leverage, then the borrow cost × (leverage − 1) as "borrow".
    pub parts: Vec<YieldPart>,
    /// Σ parts.
    pub net_apr_wad: I256,
}

/// `Σ collateral_apr_i·L − borrow_apr·(L − 1)`: each collateral yield (staking, restaking, …)
/// scaled by the leverage (floored), the borrow cost by the leverage minus one (rounded up).
///
/// Specification: fails with `LeverageBelowOne` below 1e18.
pub fn decompose_yield(
    collateral_aprs_wad: &[(&str, U256)],
    borrow_apr_wad: U256,
    leverage_wad: U256,
) -> LoopResult<LoopYield> {
    if leverage_wad < WAD {
        return Err(LoopError::LeverageBelowOne { leverage_wad });
    }
    let mut parts = Vec::with_capacity(collateral_aprs_wad.len() + 1);
    let mut net = I256::ZERO;
    for &(name, apr) in collateral_aprs_wad {
        let v = to_signed(mul_div_down(apr, leverage_wad, WAD)?)?;
        net = net.add_c(v)?;
        parts.push(YieldPart {
            name: name.into(),
            apr_wad: v,
        });
    }
    let cost = to_signed(mul_div_up(borrow_apr_wad, leverage_wad.sub_c(WAD)?, WAD)?)?;
    let v = I256::ZERO.sub_c(cost)?;
    net = net.add_c(v)?;
    parts.push(YieldPart {
        name: "borrow".into(),
        apr_wad: v,
    });
    Ok(LoopYield {
        parts,
        net_apr_wad: net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_reduces_the_max_leverage_fraction() {
        assert_eq!(gcd(U256::from(10_000u32), U256::from(700u32)), U256::from(100u32));
        assert_eq!(gcd(U256::from(10_000u32), U256::from(1u32)), U256::ONE);
        let l = max_leverage(9_000).unwrap();
        assert_eq!(
            (l.exact.num, l.exact.den, l.wad),
            (U256::from(10u8), U256::ONE, WAD * U256::from(10u8))
        );
    }

    #[test]
    fn health_factor_and_leverage_of_a_position() {
        let mk = LoopMarket {
            ltv_bps: 8_000,
            liquidation_threshold_bps: 8_300,
            price_wad: WAD,
        };
        assert_eq!(mk.health_factor_wad(WAD, U256::ZERO), Ok(U256::MAX));
        assert_eq!(mk.leverage_wad(WAD, U256::ZERO), Ok(WAD));
        assert_eq!(
            mk.leverage_wad(WAD, WAD),
            Err(LoopError::Math(MathError::DivisionByZero))
        );
    }
}
