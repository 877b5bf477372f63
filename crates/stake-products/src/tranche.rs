//! `tranche` — senior / junior tranches over a yield-bearing token (SPEC §8 "yield tranching").
//!
//! The pool holds `tokens` of a yield-bearing token (wstETH, weETH, a PT) whose rate (underlying
//! per token, wad) the caller supplies with every operation. Pool value =
//! `⌊tokens·rate/1e18⌋` in the underlying.
//!
//! * **Senior** accrues a fixed target rate per second (`senior_rate_per_s_wad`) as **simple
//!   interest between updates**, compounded at each update (Aave's linear-index convention):
//!   `target = senior + ⌊senior·rate·Δt/1e18⌋`. It is paid first: `senior = min(target, pool)`.
//! * **Junior** takes the residual, `junior = pool − senior`. A yield short of the coupon, and
//!   every loss, comes out of junior first; a loss larger than junior wipes it to 0 and the
//!   senior value falls to the pool value (written down, not carried as a claim).
//! * Each tranche has its own shares, converted as OpenZeppelin's ERC-4626 with offset 0:
//!   `shares = ⌊value·(supply + 1)/(trancheValue + 1)⌋` on deposit, `value =
//!   ⌊shares·(trancheValue + 1)/(supply + 1)⌋` on redemption, paid as `⌊value·1e18/rate⌋` tokens.
//! * Senior is capped at `max_senior_bps` of the pool value so junior's first-loss buffer exists:
//!   a senior deposit or a paying junior redemption that would leave it broken is rejected.

use crate::math_error;
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{mul_div_down, Checked, MathError, U256, WAD};
use std::fmt;

/// Basis-point denominator.
pub const BPS_SCALE: u32 = 10_000;

/// Which tranche.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tranche {
    /// Fixed target rate, paid first, loses last.
    Senior,
    /// Residual yield, first loss.
    Junior,
}

/// Rejections of the tranche pool (codes 7200–7299).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrancheError {
    /// `now` before the last update.
    TimeWentBackwards {
        /// Now.
        now: u64,
        /// Last update.
        last: u64,
    },
    /// A token rate of zero.
    ZeroRate,
    /// A bps value above 10,000.
    InvalidBps {
        /// The value.
        bps: u32,
    },
    /// Redeeming more shares than the holder has.
    InsufficientShares {
        /// Shares asked.
        shares: U256,
        /// Holder's balance.
        balance: U256,
    },
    /// Senior above `max_senior_bps` of the pool after the operation.
    SeniorCapExceeded {
        /// Senior value after.
        senior: U256,
        /// Its cap after.
        max: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

math_error!(TrancheError);

impl fmt::Display for TrancheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TrancheError::*;
        match self {
            TimeWentBackwards { now, last } => write!(f, "tranche: now {now} before the last update {last}"),
            ZeroRate => write!(f, "tranche: token rate 0"),
            InvalidBps { bps } => write!(f, "tranche: {bps} bps above 10000"),
            InsufficientShares { shares, balance } => write!(f, "tranche: {shares} shares, balance {balance}"),
            SeniorCapExceeded { senior, max } => write!(f, "tranche: senior {senior} above its cap {max}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl Reject for TrancheError {
    fn code(&self) -> u32 {
        use TrancheError::*;
        match self {
            TimeWentBackwards { .. } => 7200,
            ZeroRate => 7201,
            InvalidBps { .. } => 7202,
            InsufficientShares { .. } => 7203,
            SeniorCapExceeded { .. } => 7204,
            Math(e) => e.code(),
        }
    }
}

/// Result of a tranche operation.
pub type TrancheResult<T> = Result<T, TrancheError>;

/// The pool's totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranchePool {
    /// Yield-bearing tokens held.
    pub tokens: U256,
    /// Token rate at the last update, wad.
    pub rate_wad: U256,
    /// Senior value, underlying.
    pub senior_value: U256,
    /// Senior shares.
    pub senior_shares: U256,
    /// Junior shares.
    pub junior_shares: U256,
    /// Senior target rate per second, wad.
    pub senior_rate_per_s_wad: U256,
    /// Senior at most this share of the pool value, bps.
    pub max_senior_bps: u32,
    /// Second of the last update.
    pub last_update: u64,
}

impl TranchePool {
    /// An empty pool.
    ///
    /// Specification: fails with `ZeroRate` for a zero rate and `InvalidBps` above 10,000 bps.
    pub fn new(senior_rate_per_s_wad: U256, max_senior_bps: u32, rate_wad: U256, now: u64) -> TrancheResult<Self> {
        if rate_wad == U256::ZERO {
            return Err(TrancheError::ZeroRate);
        }
        if max_senior_bps > BPS_SCALE {
            return Err(TrancheError::InvalidBps { bps: max_senior_bps });
        }
        Ok(TranchePool {
            tokens: U256::ZERO,
            rate_wad,
            senior_value: U256::ZERO,
            senior_shares: U256::ZERO,
            junior_shares: U256::ZERO,
            senior_rate_per_s_wad,
            max_senior_bps,
            last_update: now,
        })
    }

    /// Pool value at the last rate, `⌊tokens·rate/1e18⌋`.
    pub fn pool_value(&self) -> TrancheResult<U256> {
        Ok(mul_div_down(self.tokens, self.rate_wad, WAD)?)
    }

    /// Junior value, `pool − senior`.
    pub fn junior_value(&self) -> TrancheResult<U256> {
        Ok(self.pool_value()?.sub_c(self.senior_value)?)
    }

    /// A tranche's (value, shares).
    pub fn tranche(&self, t: Tranche) -> TrancheResult<(U256, U256)> {
        Ok(match t {
            Tranche::Senior => (self.senior_value, self.senior_shares),
            Tranche::Junior => (self.junior_value()?, self.junior_shares),
        })
    }

    /// Runs the waterfall to `now` at token rate `rate_wad`.
    ///
    /// Specification: fails with `TimeWentBackwards` before the last update and `ZeroRate`.
    pub fn accrue(&mut self, now: u64, rate_wad: U256) -> TrancheResult<()> {
        let mut next = self.clone();
        next.accrue_in_place(now, rate_wad)?;
        *self = next;
        Ok(())
    }

    fn accrue_in_place(&mut self, now: u64, rate_wad: U256) -> TrancheResult<()> {
        if now < self.last_update {
            return Err(TrancheError::TimeWentBackwards {
                now,
                last: self.last_update,
            });
        }
        if rate_wad == U256::ZERO {
            return Err(TrancheError::ZeroRate);
        }
        let dt = U256::from(now - self.last_update);
        let coupon = mul_div_down(self.senior_value, self.senior_rate_per_s_wad.mul_c(dt)?, WAD)?;
        let target = self.senior_value.add_c(coupon)?;
        self.rate_wad = rate_wad;
        self.last_update = now;
        self.senior_value = target.min(self.pool_value()?);
        Ok(())
    }

    fn check_senior_cap(&self) -> TrancheResult<()> {
        let max = mul_div_down(
            self.pool_value()?,
            U256::from(self.max_senior_bps),
            U256::from(BPS_SCALE),
        )?;
        if self.senior_value > max {
            return Err(TrancheError::SeniorCapExceeded {
                senior: self.senior_value,
                max,
            });
        }
        Ok(())
    }

    /// Accrues, then deposits `tokens_in` into tranche `t`; returns the shares minted.
    ///
    /// Specification: fails as [`accrue`](Self::accrue) and, for a senior deposit, with
    /// `SeniorCapExceeded` if senior would exceed `max_senior_bps` of the pool.
    pub fn deposit(&mut self, t: Tranche, tokens_in: U256, now: u64, rate_wad: U256) -> TrancheResult<U256> {
        let mut next = self.clone();
        next.accrue_in_place(now, rate_wad)?;
        let value = mul_div_down(tokens_in, rate_wad, WAD)?;
        let (tv, ts) = next.tranche(t)?;
        let shares = mul_div_down(value, ts.add_c(U256::ONE)?, tv.add_c(U256::ONE)?)?;
        next.tokens = next.tokens.add_c(tokens_in)?;
        match t {
            Tranche::Senior => {
                next.senior_value = next.senior_value.add_c(value)?;
                next.senior_shares = next.senior_shares.add_c(shares)?;
                next.check_senior_cap()?;
            }
            Tranche::Junior => next.junior_shares = next.junior_shares.add_c(shares)?,
        }
        *self = next;
        Ok(shares)
    }

    /// Accrues, then redeems `shares` of tranche `t` held by a holder with `balance`; returns the
    /// tokens paid.
    ///
    /// Specification: fails as [`accrue`](Self::accrue), with `InsufficientShares` above
    /// `balance`, and, for a junior redemption that pays something, with `SeniorCapExceeded` if it
    /// would leave senior above its cap.
    pub fn redeem(&mut self, t: Tranche, shares: U256, balance: U256, now: u64, rate_wad: U256) -> TrancheResult<U256> {
        if shares > balance {
            return Err(TrancheError::InsufficientShares { shares, balance });
        }
        let mut next = self.clone();
        next.accrue_in_place(now, rate_wad)?;
        let (tv, ts) = next.tranche(t)?;
        let value = mul_div_down(shares, tv.add_c(U256::ONE)?, ts.add_c(U256::ONE)?)?;
        let tokens_out = mul_div_down(value, WAD, rate_wad)?;
        next.tokens = next.tokens.sub_c(tokens_out)?;
        match t {
            Tranche::Senior => {
                next.senior_value = next.senior_value.sub_c(value)?;
                next.senior_shares = next.senior_shares.sub_c(shares)?;
            }
            Tranche::Junior => {
                next.junior_shares = next.junior_shares.sub_c(shares)?;
                // A redemption that pays nothing (a wiped junior) changes no cover and may leave.
                if value > U256::ZERO && next.senior_value > U256::ZERO {
                    next.check_senior_cap()?;
                }
            }
        }
        *self = next;
        Ok(tokens_out)
    }

    /// Backing rules: senior ≤ pool; redeeming a whole tranche never pays more than its value.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check().map_err(|e| format!("tranche: {e}"))?
    }

    fn check(&self) -> TrancheResult<Result<(), String>> {
        let pool = self.pool_value()?;
        if self.senior_value > pool {
            return Ok(Err(format!("senior {} above the pool {pool}", self.senior_value)));
        }
        if self.rate_wad == U256::ZERO || self.max_senior_bps > BPS_SCALE {
            return Ok(Err("configuration out of range".into()));
        }
        for t in [Tranche::Senior, Tranche::Junior] {
            let (v, s) = self.tranche(t)?;
            let all = mul_div_down(s, v.add_c(U256::ONE)?, s.add_c(U256::ONE)?)?;
            if all > v {
                return Ok(Err(format!("{t:?} shares redeem {all} of {v}")));
            }
        }
        Ok(Ok(()))
    }
}
