//! Yield Protocol's YieldSpace pool (SPEC §7.4: the fixed-rate fyToken beside Pendle's PT), as in
//! `yieldprotocol/yieldspace-tv` (`src/Pool/Pool.sol`, `src/YieldMath.sol`): a pool of
//! yield-bearing vault **shares** and **fyToken** (a zero-coupon token redeemable 1:1 for the
//! base at maturity), priced by the YieldSpace invariant `c/μ·(μz)^a + y^a` with
//! `a = 1 − g·ts·t`.
//!
//! * [`abdk`] — ABDK `Math64x64` / `Exp64x64`, bit-exact, reverts as values.
//! * [`math`] — `YieldMath`: the four trade formulas, the three maxima and the invariant.
//! * [`YieldSpacePool`] — the pool state machine (init, mint, mint with base, burn, burn for
//!   base, buy/sell base, buy/sell fyToken), with the pool's **virtual** fyToken reserves
//!   (`fy_token_cached` = real fyToken + LP supply), the `NegativeInterestRatesNotAllowed` guard
//!   and `FYTokenCachedBadState` check; trading stops at maturity.
//! * [`FyToken`] — the fyToken itself: minted against base, redeemed 1:1 from maturity.
//!
//! Units: amounts are base units as [`U256`] (the contract's `uint128`/`uint104`; larger values are
//! rejected with [`YieldSpaceError::CastOverflow`]); the share price is base per `10^decimals`
//! shares (`convertToAssets(10^decimals)`), `ts` is 64.64. Base ↔ shares conversions are an
//! ERC-4626 vault's `previewDeposit` / `previewRedeem` at that price (rounded down).
//!
//! Deviations (deliberate): the pool is self-contained (the trader's inputs are arguments rather
//! than tokens transferred in advance; a surplus is not taken, where the contract leaves it
//! retrievable); the TWAR oracle (`cumulativeRatioLast`) is not modelled; trades and mints
//! reject with `AfterMaturity` from maturity on, where the contract's `maturity − now` reverts by
//! underflow after maturity (and allows a trade in the maturity second itself).

pub mod abdk;
pub mod math;

use abdk::AbdkRevert;
use math::Params;
use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, Reject, StateHash};
use stake_math::{mul_div_down, Checked, MathError, U256};
use std::collections::BTreeMap;
use std::fmt;

/// Fee denominator of `g1Fee` (basis points): `g1 = g1Fee / 10000`, `g2 = 10000 / g1Fee`.
pub const FEE_BPS: u16 = 10_000;
/// `type(uint104).max`: the width of the pool's caches.
pub const MAX_U104: U256 = U256::from_words(0, (1u128 << 104) - 1);
/// `1e18`.
const WAD: U256 = U256::new(1_000_000_000_000_000_000);

// ================================================================================================
// Errors
// ================================================================================================

/// Every YieldSpace rejection (codes 6700–6749; math errors keep their own codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum YieldSpaceError {
    /// A bare `require` of ABDK `Math64x64` / `Exp64x64` reverted.
    Abdk {
        /// The library function.
        func: &'static str,
    },
    /// A `YieldMath` `require` failed; `reason` is the contract's message.
    YieldMath {
        /// The revert string, e.g. `"YieldMath: Rate overflow (nsr)"`.
        reason: &'static str,
    },
    /// A value does not fit the contract's integer type (`Cast overflow`).
    CastOverflow,
    /// The pool has matured (`AfterMaturity`).
    AfterMaturity {
        /// Maturity (unix seconds).
        maturity: u64,
        /// Now.
        now: u64,
    },
    /// The pool has no LP supply yet (`NotInitialized`).
    NotInitialized,
    /// `init` on a pool with LP supply (`Initialized`).
    Initialized,
    /// The trade would leave fyToken reserves below `μ·shares` (`NegativeInterestRatesNotAllowed`).
    NegativeInterestRatesNotAllowed {
        /// Virtual fyToken reserves after the trade.
        new_fy_token_balance: U256,
        /// `μ·shares` after the trade.
        new_shares_balance_times_mu: U256,
    },
    /// `g1Fee > 10000` (`InvalidFee`).
    InvalidFee {
        /// The proposed fee (bps).
        proposed_fee: u16,
    },
    /// The share price at creation gives `μ = 0` (`MuCannotBeZero`).
    MuCannotBeZero,
    /// Not enough base for the trade or mint (`NotEnoughBaseIn`).
    NotEnoughBaseIn {
        /// Base offered.
        base_available: U256,
        /// Base needed.
        base_needed: U256,
    },
    /// Not enough fyToken for the trade (`NotEnoughFYTokenIn`).
    NotEnoughFYTokenIn {
        /// fyToken offered.
        fy_tokens_available: U256,
        /// fyToken needed.
        fy_tokens_needed: U256,
    },
    /// Pool ratio outside the caller's bounds at burn (`SlippageDuringBurn`).
    SlippageDuringBurn {
        /// shares/real-fyToken ratio (wad).
        new_ratio: U256,
        /// Lower bound.
        min_ratio: U256,
        /// Upper bound.
        max_ratio: U256,
    },
    /// Pool ratio outside the caller's bounds at mint (`SlippageDuringMint`).
    SlippageDuringMint {
        /// shares/real-fyToken ratio (wad), `U256::MAX` for a pool without real fyToken.
        new_ratio: U256,
        /// Lower bound.
        min_ratio: U256,
        /// Upper bound.
        max_ratio: U256,
    },
    /// fyToken out below the minimum (`SlippageDuringSellBase`).
    SlippageDuringSellBase {
        /// fyToken the trade gives.
        fy_token_out: U256,
        /// The caller's minimum.
        min: U256,
    },
    /// Base out below the minimum (`SlippageDuringSellFYToken`).
    SlippageDuringSellFYToken {
        /// Base the trade gives.
        base_out: U256,
        /// The caller's minimum.
        min: U256,
    },
    /// Virtual fyToken reserves below the LP supply (`FYTokenCachedBadState`).
    FYTokenCachedBadState,
    /// A fyToken redemption before maturity.
    NotMature {
        /// Maturity.
        maturity: u64,
        /// Now.
        now: u64,
    },
    /// A holder burns or redeems more than it holds.
    InsufficientBalance {
        /// Held.
        available: U256,
        /// Asked for.
        needed: U256,
    },
    /// A zero amount where a positive one is required.
    ZeroAmount,
    /// Bad pool parameters (decimals above 18, maturity in the past, …).
    InvalidParams {
        /// What is wrong.
        reason: String,
    },
    /// Arithmetic failure (a Solidity checked-arithmetic panic).
    Math(MathError),
}

impl From<MathError> for YieldSpaceError {
    fn from(e: MathError) -> Self {
        YieldSpaceError::Math(e)
    }
}

impl From<AbdkRevert> for YieldSpaceError {
    fn from(e: AbdkRevert) -> Self {
        YieldSpaceError::Abdk { func: e.func }
    }
}

impl fmt::Display for YieldSpaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use YieldSpaceError::*;
        match self {
            Abdk { func } => write!(f, "yieldspace: {func} reverted"),
            YieldMath { reason } => write!(f, "yieldspace: {reason}"),
            CastOverflow => write!(f, "yieldspace: Cast overflow"),
            AfterMaturity { maturity, now } => {
                write!(f, "yieldspace: pool matured at {maturity}, now {now}")
            }
            NotInitialized => write!(f, "yieldspace: pool not initialized"),
            Initialized => write!(f, "yieldspace: pool already initialized"),
            NegativeInterestRatesNotAllowed {
                new_fy_token_balance,
                new_shares_balance_times_mu,
            } => write!(
                f,
                "yieldspace: negative interest rate: fyToken reserves {new_fy_token_balance} below μ·shares {new_shares_balance_times_mu}"
            ),
            InvalidFee { proposed_fee } => write!(f, "yieldspace: invalid fee {proposed_fee} bps (max 10000)"),
            MuCannotBeZero => write!(f, "yieldspace: mu cannot be zero"),
            NotEnoughBaseIn {
                base_available,
                base_needed,
            } => write!(f, "yieldspace: {base_available} base available, {base_needed} needed"),
            NotEnoughFYTokenIn {
                fy_tokens_available,
                fy_tokens_needed,
            } => write!(
                f,
                "yieldspace: {fy_tokens_available} fyToken available, {fy_tokens_needed} needed"
            ),
            SlippageDuringBurn {
                new_ratio,
                min_ratio,
                max_ratio,
            } => write!(f, "yieldspace: burn ratio {new_ratio} outside [{min_ratio}, {max_ratio}]"),
            SlippageDuringMint {
                new_ratio,
                min_ratio,
                max_ratio,
            } => write!(f, "yieldspace: mint ratio {new_ratio} outside [{min_ratio}, {max_ratio}]"),
            SlippageDuringSellBase { fy_token_out, min } => {
                write!(f, "yieldspace: fyToken out {fy_token_out} below minimum {min}")
            }
            SlippageDuringSellFYToken { base_out, min } => {
                write!(f, "yieldspace: base out {base_out} below minimum {min}")
            }
            FYTokenCachedBadState => write!(f, "yieldspace: virtual fyToken reserves below LP supply"),
            NotMature { maturity, now } => {
                write!(f, "yieldspace: fyToken matures at {maturity}, now {now}")
            }
            InsufficientBalance { available, needed } => {
                write!(f, "yieldspace: balance {available} below {needed}")
            }
            ZeroAmount => write!(f, "yieldspace: zero amount"),
            InvalidParams { reason } => write!(f, "yieldspace: invalid parameters: {reason}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for YieldSpaceError {}

impl Reject for YieldSpaceError {
    fn code(&self) -> u32 {
        use YieldSpaceError::*;
        match self {
            Abdk { .. } => 6700,
            YieldMath { .. } => 6701,
            CastOverflow => 6702,
            AfterMaturity { .. } => 6703,
            NotInitialized => 6704,
            Initialized => 6705,
            NegativeInterestRatesNotAllowed { .. } => 6706,
            InvalidFee { .. } => 6707,
            MuCannotBeZero => 6708,
            NotEnoughBaseIn { .. } => 6709,
            NotEnoughFYTokenIn { .. } => 6710,
            SlippageDuringBurn { .. } => 6711,
            SlippageDuringMint { .. } => 6712,
            SlippageDuringSellBase { .. } => 6713,
            SlippageDuringSellFYToken { .. } => 6714,
            FYTokenCachedBadState => 6715,
            NotMature { .. } => 6716,
            InsufficientBalance { .. } => 6717,
            ZeroAmount => 6718,
            InvalidParams { .. } => 6719,
            Math(e) => e.code(),
        }
    }
}

/// Result of a YieldSpace operation.
pub type YsResult<T> = Result<T, YieldSpaceError>;

/// A [`U256`] as the contract's `uint128`, or [`YieldSpaceError::CastOverflow`].
pub fn to_u128(x: U256) -> YsResult<u128> {
    u128::try_from(x).map_err(|_| YieldSpaceError::CastOverflow)
}

fn u104(x: U256) -> YsResult<U256> {
    if x > MAX_U104 {
        Err(YieldSpaceError::CastOverflow)
    } else {
        Ok(x)
    }
}

/// `g1 = g1Fee / 10000` in 64.64 (`_computeG1`).
pub fn compute_g1(g1_fee: u16) -> YsResult<i128> {
    Ok(abdk::divu(U256::from(g1_fee), U256::from(FEE_BPS))?)
}

/// `g2 = 10000 / g1Fee` in 64.64 (`_computeG2`); a zero fee reverts in `divu`.
pub fn compute_g2(g1_fee: u16) -> YsResult<i128> {
    Ok(abdk::divu(U256::from(FEE_BPS), U256::from(g1_fee))?)
}

/// `Math.wdiv`: `⌊x·1e18 / y⌋`.
fn wdiv(x: U256, y: U256) -> YsResult<U256> {
    Ok(mul_div_down(x, WAD, y)?)
}

// ================================================================================================
// Pool
// ================================================================================================

/// What a mint did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MintSummary {
    /// Shares added to the reserves.
    pub shares_in: U256,
    /// fyToken added to the reserves.
    pub fy_token_in: U256,
    /// LP tokens minted.
    pub lp_minted: U256,
    /// Base returned to the caller (shares beyond what the mint needed, redeemed).
    pub base_returned: U256,
}

/// What a burn did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnSummary {
    /// LP tokens burned.
    pub lp_burned: U256,
    /// Shares taken out of the reserves.
    pub shares_out: U256,
    /// Base paid out (the shares redeemed).
    pub base_out: U256,
    /// fyToken paid out (0 for a burn for base).
    pub fy_token_out: U256,
}

/// What a trade did: what went in and what came out, in base, shares and fyToken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeSummary {
    /// Base paid by the trader (0 when fyToken is sold).
    pub base_in: U256,
    /// Base received by the trader (0 when fyToken is bought).
    pub base_out: U256,
    /// Shares added to (+) the reserves; see `shares_out` for the other way.
    pub shares_in: U256,
    /// Shares taken from the reserves.
    pub shares_out: U256,
    /// fyToken paid by the trader.
    pub fy_token_in: U256,
    /// fyToken received by the trader.
    pub fy_token_out: U256,
}

/// A YieldSpace pool of vault shares and fyToken (`Pool.sol`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YieldSpacePool {
    /// Maturity of the fyToken (unix seconds).
    pub maturity: u64,
    /// Time stretch `ts` (64.64), e.g. `1 / (25·365·86400)` in 64.64.
    pub ts: i128,
    /// `μ`: the share price at creation (64.64).
    pub mu: i128,
    /// `g1Fee` in bps (`g1 = g1Fee/1e4` on share sells, `g2 = 1e4/g1Fee` on fyToken sells).
    pub g1_fee: u16,
    /// Base decimals (≤ 18).
    pub decimals: u8,
    /// `10^(18 − decimals)`.
    pub scale_factor: U256,
    /// Base per `10^decimals` shares (`convertToAssets(10^decimals)`), set by the vault.
    pub share_price: U256,
    /// Shares reserves (`sharesCached`).
    pub shares_cached: U256,
    /// Virtual fyToken reserves (`fyTokenCached` = real fyToken + LP supply).
    pub fy_token_cached: U256,
    /// LP supply.
    pub total_supply: U256,
    /// LP balances per holder.
    pub lp_balances: BTreeMap<String, U256>,
}

impl StateHash for YieldSpacePool {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

impl YieldSpacePool {
    /// A pool for a fyToken maturing at `maturity`, with time stretch `ts`, fee `g1_fee` (bps),
    /// base `decimals` and the vault's current `share_price`; `μ = c` now.
    ///
    /// Specification: fails with `InvalidFee` if `g1_fee > 10000`, `InvalidParams` if
    /// `decimals > 18` or `maturity ≤ now`, `MuCannotBeZero` if the price gives `c = 0`.
    pub fn new(maturity: u64, ts: i128, g1_fee: u16, decimals: u8, share_price: U256, now: u64) -> YsResult<Self> {
        if decimals > 18 {
            return Err(YieldSpaceError::InvalidParams {
                reason: format!("decimals {decimals} above 18"),
            });
        }
        if maturity <= now {
            return Err(YieldSpaceError::InvalidParams {
                reason: format!("maturity {maturity} not after now {now}"),
            });
        }
        let scale_factor = stake_math::pow10(u32::from(18 - decimals))?;
        let mut pool = YieldSpacePool {
            maturity,
            ts,
            mu: 0,
            g1_fee,
            decimals,
            scale_factor,
            share_price,
            shares_cached: U256::ZERO,
            fy_token_cached: U256::ZERO,
            total_supply: U256::ZERO,
            lp_balances: BTreeMap::new(),
        };
        let mu = pool.c()?;
        if mu == 0 {
            return Err(YieldSpaceError::MuCannotBeZero);
        }
        if g1_fee > FEE_BPS {
            return Err(YieldSpaceError::InvalidFee { proposed_fee: g1_fee });
        }
        pool.mu = mu;
        Ok(pool)
    }

    /// `c = sharePrice·scaleFactor / 1e18` in 64.64 (`_getC`).
    pub fn c(&self) -> YsResult<i128> {
        Ok(abdk::divu(self.share_price.mul_c(self.scale_factor)?, WAD)?)
    }

    /// The vault's new share price (yield accrues, or a loss).
    pub fn set_share_price(&mut self, share_price: U256) {
        self.share_price = share_price;
    }

    /// Sets `g1Fee` (`setFees`).
    ///
    /// Specification: fails with `InvalidFee` if `g1_fee > 10000`.
    pub fn set_fees(&mut self, g1_fee: u16) -> YsResult<()> {
        if g1_fee > FEE_BPS {
            return Err(YieldSpaceError::InvalidFee { proposed_fee: g1_fee });
        }
        self.g1_fee = g1_fee;
        Ok(())
    }

    /// `previewDeposit`: shares for `base` (rounded down).
    pub fn wrap_preview(&self, base: U256) -> YsResult<U256> {
        if base == U256::ZERO {
            return Ok(U256::ZERO);
        }
        Ok(mul_div_down(
            base,
            stake_math::pow10(u32::from(self.decimals))?,
            self.share_price,
        )?)
    }

    /// `previewRedeem`: base for `shares` (rounded down).
    pub fn unwrap_preview(&self, shares: U256) -> YsResult<U256> {
        if shares == U256::ZERO {
            return Ok(U256::ZERO);
        }
        Ok(mul_div_down(
            shares,
            self.share_price,
            stake_math::pow10(u32::from(self.decimals))?,
        )?)
    }

    /// Real fyToken in the pool: virtual reserves minus LP supply.
    pub fn real_fy_token(&self) -> YsResult<U256> {
        Ok(self.fy_token_cached.sub_c(self.total_supply)?)
    }

    fn before_maturity(&self, now: u64) -> YsResult<()> {
        if now >= self.maturity {
            return Err(YieldSpaceError::AfterMaturity {
                maturity: self.maturity,
                now,
            });
        }
        Ok(())
    }

    /// YieldMath parameters at `now` with fee coefficient `g`.
    fn params(&self, now: u64, g: i128) -> YsResult<Params> {
        let ttm = self.maturity.checked_sub(now).ok_or(MathError::Underflow)?;
        Ok(Params {
            time_till_maturity: u128::from(ttm),
            k: self.ts,
            g,
            c: self.c()?,
            mu: self.mu,
        })
    }

    fn scaled(&self, x: U256) -> YsResult<u128> {
        to_u128(x.mul_c(self.scale_factor)?)
    }

    fn unscale(&self, x: u128) -> YsResult<U256> {
        Ok(U256::from(x).div_c(self.scale_factor)?)
    }

    /// `_mulMu`: `μ·amount`.
    fn mul_mu(&self, amount: U256) -> YsResult<U256> {
        Ok(abdk::mulu(self.mu, amount)?)
    }

    /// A `YieldMath` trade formula on the pool's reserves (scaled to 18 decimals) at `now`.
    fn run_trade(&self, f: math::TradeFn, g: i128, amount: U256, now: u64) -> YsResult<U256> {
        self.before_maturity(now)?;
        let p = self.params(now, g)?;
        let z = self.scaled(self.shares_cached)?;
        let y = self.scaled(self.fy_token_cached)?;
        self.unscale(f(z, y, self.scaled(amount)?, &p)?)
    }

    /// A `YieldMath` maximum on the pool's reserves at `now`.
    fn run_max(&self, f: math::MaxFn, g: i128, now: u64) -> YsResult<U256> {
        self.before_maturity(now)?;
        let p = self.params(now, g)?;
        self.unscale(f(
            self.scaled(self.shares_cached)?,
            self.scaled(self.fy_token_cached)?,
            &p,
        )?)
    }

    /// fyToken out for `shares_in` shares (`_sellBasePreview`, in shares), with the negative-rate
    /// guard.
    pub fn sell_shares_preview(&self, shares_in: U256, now: u64) -> YsResult<U256> {
        let g1 = compute_g1(self.g1_fee)?;
        let fy_token_out = self.run_trade(math::fy_token_out_for_shares_in, g1, shares_in, now)?;
        self.negative_rate_guard(
            self.shares_cached.add_c(shares_in)?,
            self.fy_token_cached.sub_c(fy_token_out)?,
        )?;
        Ok(fy_token_out)
    }

    /// Shares out for `fy_token_in` fyToken (`_sellFYTokenPreview`).
    pub fn sell_fy_token_preview(&self, fy_token_in: U256, now: u64) -> YsResult<U256> {
        let g2 = compute_g2(self.g1_fee)?;
        self.run_trade(math::shares_out_for_fy_token_in, g2, fy_token_in, now)
    }

    /// fyToken in for `shares_out` shares (`_buyBasePreview`).
    pub fn buy_shares_preview(&self, shares_out: U256, now: u64) -> YsResult<U256> {
        let g2 = compute_g2(self.g1_fee)?;
        self.run_trade(math::fy_token_in_for_shares_out, g2, shares_out, now)
    }

    /// Shares in for `fy_token_out` fyToken (`_buyFYTokenPreview`), with the negative-rate guard.
    pub fn buy_fy_token_preview(&self, fy_token_out: U256, now: u64) -> YsResult<U256> {
        let g1 = compute_g1(self.g1_fee)?;
        let shares_in = self.run_trade(math::shares_in_for_fy_token_out, g1, fy_token_out, now)?;
        self.negative_rate_guard(
            self.shares_cached.add_c(shares_in)?,
            self.fy_token_cached.sub_c(fy_token_out)?,
        )?;
        Ok(shares_in)
    }

    fn negative_rate_guard(&self, new_shares: U256, new_fy: U256) -> YsResult<()> {
        let new_shares_mu = U256::from(to_u128(self.mul_mu(new_shares)?)?);
        if new_fy < new_shares_mu {
            return Err(YieldSpaceError::NegativeInterestRatesNotAllowed {
                new_fy_token_balance: new_fy,
                new_shares_balance_times_mu: new_shares_mu,
            });
        }
        Ok(())
    }

    /// `maxFYTokenIn` at `now`.
    pub fn max_fy_token_in(&self, now: u64) -> YsResult<U256> {
        self.run_max(math::max_fy_token_in, compute_g2(self.g1_fee)?, now)
    }

    /// `maxFYTokenOut` at `now`.
    pub fn max_fy_token_out(&self, now: u64) -> YsResult<U256> {
        self.run_max(math::max_fy_token_out, compute_g1(self.g1_fee)?, now)
    }

    /// `maxBaseIn` at `now`, in shares (`maxSharesIn`).
    pub fn max_shares_in(&self, now: u64) -> YsResult<U256> {
        self.run_max(math::max_shares_in, compute_g1(self.g1_fee)?, now)
    }

    /// `maxBaseIn` at `now`: `maxSharesIn` shaved to a multiple of 1e8 (the contract's guard
    /// against the 64.64 functions' precision), unscaled, redeemed to base.
    pub fn max_base_in(&self, now: u64) -> YsResult<U256> {
        self.before_maturity(now)?;
        let p = self.params(now, compute_g1(self.g1_fee)?)?;
        let raw = math::max_shares_in(self.scaled(self.shares_cached)?, self.scaled(self.fy_token_cached)?, &p)?;
        let shaved = U256::from(raw / 100_000_000 * 100_000_000);
        let shares = U256::from(to_u128(shaved.div_c(self.scale_factor)?)?);
        self.unwrap_preview(shares)
    }

    /// `maxBaseOut`: all the shares, redeemed to base.
    pub fn max_base_out(&self) -> YsResult<U256> {
        self.unwrap_preview(self.shares_cached)
    }

    /// `invariant()` at `now`: pool value per LP token (wad), with `g2` as the contract does.
    pub fn invariant(&self, now: u64) -> YsResult<U256> {
        let p = self.params(now, compute_g2(self.g1_fee)?)?;
        let v = math::invariant(
            self.scaled(self.shares_cached)?,
            self.scaled(self.fy_token_cached)?,
            self.total_supply,
            &p,
        )?;
        self.unscale(v)
    }

    fn credit_lp(&mut self, to: &str, amount: U256) -> YsResult<()> {
        let bal = self.lp_balances.get(to).copied().unwrap_or(U256::ZERO).add_c(amount)?;
        self.lp_balances.insert(to.to_string(), bal);
        Ok(())
    }

    /// `init`: the first deposit; `base_in` is wrapped into shares and `μ·shares` LP tokens are
    /// minted to `to` (each LP token also adds one virtual fyToken).
    ///
    /// Specification: fails with `Initialized` if the pool has LP supply, `AfterMaturity` from
    /// maturity on, `ZeroAmount` if the base wraps to no shares, `CastOverflow` if a cache would
    /// exceed 104 bits.
    pub fn init(&mut self, to: &str, base_in: U256, now: u64) -> YsResult<MintSummary> {
        if self.total_supply != U256::ZERO {
            return Err(YieldSpaceError::Initialized);
        }
        self.before_maturity(now)?;
        let shares_in = self.wrap_preview(base_in)?;
        if shares_in == U256::ZERO {
            return Err(YieldSpaceError::ZeroAmount);
        }
        let lp = self.mul_mu(shares_in)?;
        let new_shares = u104(self.shares_cached.add_c(shares_in)?)?;
        let new_fy = u104(self.fy_token_cached.add_c(lp)?)?;
        self.shares_cached = new_shares;
        self.fy_token_cached = new_fy;
        self.total_supply = lp;
        self.credit_lp(to, lp)?;
        Ok(MintSummary {
            shares_in,
            fy_token_in: U256::ZERO,
            lp_minted: lp,
            base_returned: U256::ZERO,
        })
    }

    /// `mint` / `mintWithBase`: add liquidity in proportion with `base_in` and `fy_token_in`;
    /// with `fy_token_to_buy > 0` part of the base first buys that much fyToken from the pool
    /// (virtually). Shares not needed are redeemed back to the caller as base. `min_ratio` /
    /// `max_ratio` bound the pool's shares/real-fyToken ratio (wad).
    ///
    /// Specification: fails with `NotInitialized` without LP supply, `AfterMaturity` from
    /// maturity on, `SlippageDuringMint` if the ratio is outside the bounds (or the pool holds
    /// no real fyToken and `max_ratio < U256::MAX`), `NotEnoughBaseIn` if the base does not cover
    /// the shares needed, `NegativeInterestRatesNotAllowed` from the virtual purchase, a
    /// `Math` underflow if `fy_token_to_buy ≥` the real fyToken, `CastOverflow`, or
    /// `FYTokenCachedBadState`.
    // The contract's `_mint(to, remainder, fyTokenToBuy, minRatio, maxRatio)` plus the amounts
    // the trader would have transferred in and the time.
    #[allow(clippy::too_many_arguments)]
    pub fn mint(
        &mut self,
        to: &str,
        base_in: U256,
        fy_token_in: U256,
        fy_token_to_buy: U256,
        min_ratio: U256,
        max_ratio: U256,
        now: u64,
    ) -> YsResult<MintSummary> {
        if self.total_supply == U256::ZERO {
            return Err(YieldSpaceError::NotInitialized);
        }
        self.before_maturity(now)?;
        let shares_available = self.wrap_preview(base_in)?;
        let supply = self.total_supply;
        let real_fy = self.real_fy_token()?;
        if real_fy != U256::ZERO {
            let ratio = wdiv(self.shares_cached, real_fy)?;
            if ratio < min_ratio || ratio > max_ratio {
                return Err(YieldSpaceError::SlippageDuringMint {
                    new_ratio: ratio,
                    min_ratio,
                    max_ratio,
                });
            }
        } else if max_ratio < U256::MAX {
            return Err(YieldSpaceError::SlippageDuringMint {
                new_ratio: U256::MAX,
                min_ratio,
                max_ratio,
            });
        }
        let (shares_in, fy_in, lp) = if real_fy == U256::ZERO {
            // Only shares count; fyToken sent along stays outside the reserves (not taken).
            let lp = mul_div_down(supply, shares_available, self.shares_cached)?;
            (shares_available, U256::ZERO, lp)
        } else {
            let shares_to_sell = if fy_token_to_buy != U256::ZERO {
                self.buy_fy_token_preview(fy_token_to_buy, now)?
            } else {
                U256::ZERO
            };
            let lp = mul_div_down(
                supply,
                fy_token_to_buy.add_c(fy_token_in)?,
                real_fy.sub_c(fy_token_to_buy)?,
            )?;
            let shares_in =
                shares_to_sell.add_c(mul_div_down(self.shares_cached.add_c(shares_to_sell)?, lp, supply)?)?;
            if shares_available < shares_in {
                return Err(YieldSpaceError::NotEnoughBaseIn {
                    base_available: self.unwrap_preview(shares_available)?,
                    base_needed: self.unwrap_preview(shares_in)?,
                });
            }
            (shares_in, fy_token_in, lp)
        };
        let new_shares = u104(self.shares_cached.add_c(shares_in)?)?;
        let new_fy = u104(self.fy_token_cached.add_c(fy_in)?.add_c(lp)?)?;
        let new_supply = supply.add_c(lp)?;
        if new_fy < new_supply {
            return Err(YieldSpaceError::FYTokenCachedBadState);
        }
        let base_returned = self.unwrap_preview(shares_available.sub_c(shares_in)?)?;
        self.credit_lp(to, lp)?;
        self.shares_cached = new_shares;
        self.fy_token_cached = new_fy;
        self.total_supply = new_supply;
        Ok(MintSummary {
            shares_in,
            fy_token_in: fy_in,
            lp_minted: lp,
            base_returned,
        })
    }

    /// `burn` / `burnForBase`: `holder` burns `lp` LP tokens for its share of the shares
    /// (redeemed to base) and of the real fyToken; with `for_base` the fyToken share is sold to
    /// the pool (virtually) for more shares.
    ///
    /// Specification: fails with `ZeroAmount` for `lp = 0`, `InsufficientBalance` if the holder
    /// has fewer LP tokens, `SlippageDuringBurn` if the ratio is outside the bounds,
    /// `AfterMaturity` for a burn for base from maturity on, YieldMath errors from the virtual
    /// sale, or `FYTokenCachedBadState`.
    pub fn burn(
        &mut self,
        holder: &str,
        lp: U256,
        for_base: bool,
        min_ratio: U256,
        max_ratio: U256,
        now: u64,
    ) -> YsResult<BurnSummary> {
        if lp == U256::ZERO {
            return Err(YieldSpaceError::ZeroAmount);
        }
        let held = self.lp_balances.get(holder).copied().unwrap_or(U256::ZERO);
        if held < lp {
            return Err(YieldSpaceError::InsufficientBalance {
                available: held,
                needed: lp,
            });
        }
        if for_base {
            self.before_maturity(now)?;
        }
        let supply = self.total_supply;
        let real_fy = self.real_fy_token()?;
        if real_fy != U256::ZERO {
            let ratio = wdiv(self.shares_cached, real_fy)?;
            if ratio < min_ratio || ratio > max_ratio {
                return Err(YieldSpaceError::SlippageDuringBurn {
                    new_ratio: ratio,
                    min_ratio,
                    max_ratio,
                });
            }
        }
        let mut shares_out = mul_div_down(lp, self.shares_cached, supply)?;
        let mut fy_out = mul_div_down(lp, real_fy, supply)?;
        if for_base {
            let p = self.params(now, compute_g2(self.g1_fee)?)?;
            let extra = math::shares_out_for_fy_token_in(
                self.scaled(self.shares_cached.sub_c(shares_out)?)?,
                self.scaled(self.fy_token_cached.sub_c(fy_out)?)?,
                self.scaled(fy_out)?,
                &p,
            )?;
            shares_out = shares_out.add_c(self.unscale(extra)?)?;
            fy_out = U256::ZERO;
        }
        let new_shares = self.shares_cached.sub_c(shares_out)?;
        let new_fy = self.fy_token_cached.sub_c(fy_out)?.sub_c(lp)?;
        let new_supply = supply.sub_c(lp)?;
        if new_fy < new_supply {
            return Err(YieldSpaceError::FYTokenCachedBadState);
        }
        let base_out = self.unwrap_preview(shares_out)?;
        self.shares_cached = new_shares;
        self.fy_token_cached = new_fy;
        self.total_supply = new_supply;
        let left = held.sub_c(lp)?;
        if left == U256::ZERO {
            self.lp_balances.remove(holder);
        } else {
            self.lp_balances.insert(holder.to_string(), left);
        }
        Ok(BurnSummary {
            lp_burned: lp,
            shares_out,
            base_out,
            fy_token_out: fy_out,
        })
    }

    fn apply_trade(&mut self, new_shares: U256, new_fy: U256) -> YsResult<()> {
        let new_shares = u104(new_shares)?;
        let new_fy = u104(new_fy)?;
        if new_fy < self.total_supply {
            return Err(YieldSpaceError::FYTokenCachedBadState);
        }
        self.shares_cached = new_shares;
        self.fy_token_cached = new_fy;
        Ok(())
    }

    fn require_initialized(&self) -> YsResult<()> {
        if self.total_supply == U256::ZERO {
            return Err(YieldSpaceError::NotInitialized);
        }
        Ok(())
    }

    /// `sellBase`: sell `base_in` (wrapped to shares) for at least `min` fyToken.
    ///
    /// Specification: fails with `NotInitialized`, `AfterMaturity`, YieldMath errors,
    /// `NegativeInterestRatesNotAllowed`, `SlippageDuringSellBase` if the fyToken out is below
    /// `min`, `CastOverflow`, or `FYTokenCachedBadState`.
    pub fn sell_base(&mut self, base_in: U256, min: U256, now: u64) -> YsResult<TradeSummary> {
        self.require_initialized()?;
        let shares_in = self.wrap_preview(base_in)?;
        let fy_out = self.sell_shares_preview(shares_in, now)?;
        if fy_out < min {
            return Err(YieldSpaceError::SlippageDuringSellBase {
                fy_token_out: fy_out,
                min,
            });
        }
        self.apply_trade(
            self.shares_cached.add_c(shares_in)?,
            self.fy_token_cached.sub_c(fy_out)?,
        )?;
        Ok(TradeSummary {
            base_in,
            base_out: U256::ZERO,
            shares_in,
            shares_out: U256::ZERO,
            fy_token_in: U256::ZERO,
            fy_token_out: fy_out,
        })
    }

    /// `sellFYToken`: sell `fy_token_in` fyToken for at least `min` base.
    ///
    /// Specification: fails with `NotInitialized`, `AfterMaturity`, YieldMath errors,
    /// `SlippageDuringSellFYToken` if the base out is below `min`, or `CastOverflow`.
    pub fn sell_fy_token(&mut self, fy_token_in: U256, min: U256, now: u64) -> YsResult<TradeSummary> {
        self.require_initialized()?;
        let shares_out = self.sell_fy_token_preview(fy_token_in, now)?;
        let base_out = self.unwrap_preview(shares_out)?;
        if base_out < min {
            return Err(YieldSpaceError::SlippageDuringSellFYToken { base_out, min });
        }
        self.apply_trade(
            self.shares_cached.sub_c(shares_out)?,
            self.fy_token_cached.add_c(fy_token_in)?,
        )?;
        Ok(TradeSummary {
            base_in: U256::ZERO,
            base_out,
            shares_in: U256::ZERO,
            shares_out,
            fy_token_in,
            fy_token_out: U256::ZERO,
        })
    }

    /// `buyBase`: buy `base_out` base (as shares) paying at most `max_fy_token_in` fyToken
    /// (the amount the trader sent).
    ///
    /// Specification: fails with `NotInitialized`, `AfterMaturity`, YieldMath errors,
    /// `NotEnoughFYTokenIn` if the fyToken needed exceeds `max_fy_token_in`, or `CastOverflow`.
    pub fn buy_base(&mut self, base_out: U256, max_fy_token_in: U256, now: u64) -> YsResult<TradeSummary> {
        self.require_initialized()?;
        let shares_out = U256::from(to_u128(self.wrap_preview(base_out)?)?);
        let fy_in = self.buy_shares_preview(shares_out, now)?;
        if max_fy_token_in < fy_in {
            return Err(YieldSpaceError::NotEnoughFYTokenIn {
                fy_tokens_available: max_fy_token_in,
                fy_tokens_needed: fy_in,
            });
        }
        let base_paid = self.unwrap_preview(shares_out)?;
        self.apply_trade(
            self.shares_cached.sub_c(shares_out)?,
            self.fy_token_cached.add_c(fy_in)?,
        )?;
        Ok(TradeSummary {
            base_in: U256::ZERO,
            base_out: base_paid,
            shares_in: U256::ZERO,
            shares_out,
            fy_token_in: fy_in,
            fy_token_out: U256::ZERO,
        })
    }

    /// `buyFYToken`: buy `fy_token_out` fyToken paying at most `max_base_in` base.
    ///
    /// Specification: fails with `NotInitialized`, `AfterMaturity`, YieldMath errors,
    /// `NegativeInterestRatesNotAllowed`, `NotEnoughBaseIn` if the shares needed exceed what
    /// `max_base_in` wraps to, `CastOverflow`, or `FYTokenCachedBadState`.
    pub fn buy_fy_token(&mut self, fy_token_out: U256, max_base_in: U256, now: u64) -> YsResult<TradeSummary> {
        self.require_initialized()?;
        let shares_in = self.buy_fy_token_preview(fy_token_out, now)?;
        let base_in = self.unwrap_preview(shares_in)?;
        let shares_available = self.wrap_preview(max_base_in)?;
        if shares_available < shares_in {
            return Err(YieldSpaceError::NotEnoughBaseIn {
                base_available: self.unwrap_preview(shares_available)?,
                base_needed: base_in,
            });
        }
        self.apply_trade(
            self.shares_cached.add_c(shares_in)?,
            self.fy_token_cached.sub_c(fy_token_out)?,
        )?;
        Ok(TradeSummary {
            base_in,
            base_out: U256::ZERO,
            shares_in,
            shares_out: U256::ZERO,
            fy_token_in: U256::ZERO,
            fy_token_out,
        })
    }

    /// The pool's backing rules: LP supply = Σ LP balances; virtual fyToken ≥ LP supply (the
    /// real fyToken is not negative); both caches fit 104 bits; an initialised pool holds shares.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut sum = U256::ZERO;
        for (holder, bal) in &self.lp_balances {
            if *bal == U256::ZERO {
                return Err(format!("yieldspace: zero LP balance kept for {holder}"));
            }
            sum = sum.checked_add(*bal).ok_or("yieldspace: LP balances overflow")?;
        }
        if sum != self.total_supply {
            return Err(format!("yieldspace: LP balances {sum} ≠ supply {}", self.total_supply));
        }
        if self.fy_token_cached < self.total_supply {
            return Err(format!(
                "yieldspace: virtual fyToken {} below LP supply {}",
                self.fy_token_cached, self.total_supply
            ));
        }
        if self.shares_cached > MAX_U104 || self.fy_token_cached > MAX_U104 {
            return Err("yieldspace: a cache exceeds 104 bits".to_string());
        }
        if self.total_supply > U256::ZERO && self.shares_cached == U256::ZERO {
            return Err("yieldspace: LP supply without shares".to_string());
        }
        Ok(())
    }
}

// ================================================================================================
// fyToken
// ================================================================================================

/// A fyToken: minted 1:1 against base held in its join, redeemable 1:1 for base from maturity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FyToken {
    /// Maturity (unix seconds).
    pub maturity: u64,
    /// Base held to back the supply.
    pub base_reserve: U256,
    /// Total supply.
    pub total_supply: U256,
    /// Balances per holder.
    pub balances: BTreeMap<String, U256>,
}

impl StateHash for FyToken {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

impl FyToken {
    /// A fyToken maturing at `maturity`, with no supply.
    pub fn new(maturity: u64) -> Self {
        FyToken {
            maturity,
            base_reserve: U256::ZERO,
            total_supply: U256::ZERO,
            balances: BTreeMap::new(),
        }
    }

    /// Balance of `holder`.
    pub fn balance(&self, holder: &str) -> U256 {
        self.balances.get(holder).copied().unwrap_or(U256::ZERO)
    }

    /// Mints `amount` fyToken to `to` against `amount` base deposited.
    ///
    /// Specification: fails with `ZeroAmount` for 0, `AfterMaturity` from maturity on, or a
    /// `Math` overflow.
    pub fn mint(&mut self, to: &str, amount: U256, now: u64) -> YsResult<()> {
        if amount == U256::ZERO {
            return Err(YieldSpaceError::ZeroAmount);
        }
        if now >= self.maturity {
            return Err(YieldSpaceError::AfterMaturity {
                maturity: self.maturity,
                now,
            });
        }
        let reserve = self.base_reserve.add_c(amount)?;
        let supply = self.total_supply.add_c(amount)?;
        let bal = self.balance(to).add_c(amount)?;
        self.base_reserve = reserve;
        self.total_supply = supply;
        self.balances.insert(to.to_string(), bal);
        Ok(())
    }

    /// Redeems `amount` fyToken of `holder` for the same amount of base.
    ///
    /// Specification: fails with `ZeroAmount` for 0, `NotMature` before maturity,
    /// `InsufficientBalance` if the holder has less.
    pub fn redeem(&mut self, holder: &str, amount: U256, now: u64) -> YsResult<U256> {
        if amount == U256::ZERO {
            return Err(YieldSpaceError::ZeroAmount);
        }
        if now < self.maturity {
            return Err(YieldSpaceError::NotMature {
                maturity: self.maturity,
                now,
            });
        }
        let held = self.balance(holder);
        if held < amount {
            return Err(YieldSpaceError::InsufficientBalance {
                available: held,
                needed: amount,
            });
        }
        let reserve = self.base_reserve.sub_c(amount)?;
        let supply = self.total_supply.sub_c(amount)?;
        let left = held - amount;
        self.base_reserve = reserve;
        self.total_supply = supply;
        if left == U256::ZERO {
            self.balances.remove(holder);
        } else {
            self.balances.insert(holder.to_string(), left);
        }
        Ok(amount)
    }

    /// Supply = Σ balances and the base reserve covers the supply 1:1.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut sum = U256::ZERO;
        for bal in self.balances.values() {
            sum = sum.checked_add(*bal).ok_or("fyToken: balances overflow")?;
        }
        if sum != self.total_supply {
            return Err(format!("fyToken: balances {sum} ≠ supply {}", self.total_supply));
        }
        if self.base_reserve < self.total_supply {
            return Err(format!(
                "fyToken: base reserve {} below supply {}",
                self.base_reserve, self.total_supply
            ));
        }
        Ok(())
    }
}
