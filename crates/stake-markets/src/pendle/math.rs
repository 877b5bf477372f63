//! Pure Pendle v2 market math: a bit-exact port of `MarketMathCore.sol` and `PYIndex.sol`
//! (`pendle-finance/pendle-core-v2-public`), int256 wad with Solidity's truncating division.
//!
//! Everything here is a pure function of its inputs: the `calc` surface of the engine and the
//! building block of [`super::Pendle`]'s market operations.

use super::PendleError;
use serde::{Deserialize, Serialize};
use stake_math::logexp::{exp, ln};
use stake_math::signed::{div_wad_trunc, mul_wad_trunc, to_signed, to_unsigned, IONE};
use stake_math::{mul_then_div, mul_then_div_trunc, Checked, I256, U256};

/// `IMPLIED_RATE_TIME` = 365 days in seconds (rates are annualised over it).
pub const YEAR: u64 = 31_536_000;
/// LP permanently locked by the first liquidity provision.
pub const MINIMUM_LIQUIDITY: u128 = 1_000;
/// Denominator of `reserveFeePercent`.
pub const PERCENTAGE_DECIMALS: i128 = 100;
/// Largest PT proportion of a market after a trade: 0.96 as a wad.
pub const MAX_MARKET_PROPORTION: I256 = I256::new(960_000_000_000_000_000);
/// 1e18 as an unsigned wad.
pub const ONE: U256 = U256::new(1_000_000_000_000_000_000);

// ----------------------------------------------------------------------------------------------
// SYUtils / PYIndex
// ----------------------------------------------------------------------------------------------

/// `⌊sy·rate/1e18⌋` (`SYUtils.syToAsset`).
pub fn sy_to_asset(rate: U256, sy: U256) -> Result<U256, PendleError> {
    Ok(mul_then_div(sy, rate, ONE)?)
}

/// `⌈sy·rate/1e18⌉` (`SYUtils.syToAssetUp`).
pub fn sy_to_asset_up(rate: U256, sy: U256) -> Result<U256, PendleError> {
    Ok(sy.mul_c(rate)?.add_c(ONE - U256::ONE)?.div_c(ONE)?)
}

/// `⌊asset·1e18/rate⌋` (`SYUtils.assetToSy`).
pub fn asset_to_sy(rate: U256, asset: U256) -> Result<U256, PendleError> {
    Ok(mul_then_div(asset, ONE, rate)?)
}

/// `⌈asset·1e18/rate⌉` (`SYUtils.assetToSyUp`, computed as `(a·1e18 + rate − 1)/rate`).
pub fn asset_to_sy_up(rate: U256, asset: U256) -> Result<U256, PendleError> {
    if rate == U256::ZERO {
        return Err(stake_math::MathError::DivisionByZero.into());
    }
    if asset.into_words().0 == 0 && rate.into_words().0 == 0 {
        // Below 2^128 nothing can overflow, and ⌊(n + rate − 1)/rate⌋ = ⌈n/rate⌉.
        let q = mul_then_div(asset, ONE, rate)?;
        let exact = q * rate == asset * ONE;
        return Ok(if exact { q } else { q + U256::ONE });
    }
    Ok(asset.mul_c(ONE)?.add_c(rate - U256::ONE)?.div_c(rate)?)
}

fn signed_apply(x: I256, rate: U256, f: fn(U256, U256) -> Result<U256, PendleError>) -> Result<I256, PendleError> {
    let mag = to_signed(f(rate, x.unsigned_abs())?)?;
    Ok(if x < 0 { -mag } else { mag })
}

/// Signed `syToAsset`: `sign(x)·⌊|x|·index/1e18⌋` (`PYIndexLib.syToAsset(int)`).
pub fn sy_to_asset_i(index: U256, sy: I256) -> Result<I256, PendleError> {
    signed_apply(sy, index, sy_to_asset)
}

/// Signed `assetToSy`: `sign(x)·⌊|x|·1e18/index⌋`.
pub fn asset_to_sy_i(index: U256, asset: I256) -> Result<I256, PendleError> {
    signed_apply(asset, index, asset_to_sy)
}

/// Signed `assetToSyUp`: `sign(x)·⌈|x|·1e18/index⌉` (rounds magnitudes up).
pub fn asset_to_sy_up_i(index: U256, asset: I256) -> Result<I256, PendleError> {
    signed_apply(asset, index, asset_to_sy_up)
}

// ----------------------------------------------------------------------------------------------
// Market state and pre-computation
// ----------------------------------------------------------------------------------------------

/// The market numbers the math needs (`MarketState` of `MarketMathCore.sol`, minus the treasury
/// and with the time to expiry instead of the expiry), plus the PY index of the trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketStateArgs {
    /// PT held by the market.
    pub total_pt: U256,
    /// SY held by the market.
    pub total_sy: U256,
    /// LP supply (including the locked `MINIMUM_LIQUIDITY`).
    pub total_lp: U256,
    /// Scalar root (wad), > 0.
    pub scalar_root: I256,
    /// ln of the annual fee rate root (wad).
    pub ln_fee_rate_root: U256,
    /// Share of fees to the treasury, base 100.
    pub reserve_fee_percent: U256,
    /// ln of the last implied rate (wad, annualised).
    pub last_ln_implied_rate: U256,
    /// PY index of the trade (`max(SY exchange rate, stored index)`), wad.
    pub py_index: U256,
    /// Seconds to expiry (0 = expired).
    pub time_to_expiry: u64,
}

/// Result of a pure swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapOutcome {
    /// SY paid to the account (`swapExactPtForSy`) or taken from it (`swapSyForExactPt`).
    pub net_sy: U256,
    /// Total fee, in SY.
    pub net_sy_fee: U256,
    /// Part of the fee sent to the treasury, in SY.
    pub net_sy_to_reserve: U256,
    /// The market's `lastLnImpliedRate` after the trade.
    pub ln_implied_rate: U256,
    /// PT of the market after the trade.
    pub new_total_pt: U256,
    /// SY of the market after the trade.
    pub new_total_sy: U256,
}

/// Expensive per-block quantities (`MarketPreCompute`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreCompute {
    /// `scalarRoot·YEAR/tte`.
    pub rate_scalar: I256,
    /// `syToAsset(index, totalSy)`.
    pub total_asset: I256,
    /// Anchor keeping the exchange rate continuous with `lastLnImpliedRate`.
    pub rate_anchor: I256,
    /// `exp(lnFeeRateRoot·tte/YEAR)`.
    pub fee_rate: I256,
}

/// Signed working copy of the market (`MarketState` in int256).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Core {
    pub(crate) total_pt: I256,
    pub(crate) total_sy: I256,
    pub(crate) scalar_root: I256,
    pub(crate) ln_fee_rate_root: U256,
    pub(crate) reserve_fee_percent: U256,
    pub(crate) last_ln_implied_rate: U256,
}

impl Core {
    pub(crate) fn from_args(a: &MarketStateArgs) -> Result<Self, PendleError> {
        Ok(Core {
            total_pt: to_signed(a.total_pt)?,
            total_sy: to_signed(a.total_sy)?,
            scalar_root: a.scalar_root,
            ln_fee_rate_root: a.ln_fee_rate_root,
            reserve_fee_percent: a.reserve_fee_percent,
            last_ln_implied_rate: a.last_ln_implied_rate,
        })
    }
}

fn sub_no_neg(a: I256, b: I256) -> Result<I256, PendleError> {
    if a < b {
        return Err(PendleError::NegativeResult { a, b });
    }
    Ok(a.sub_c(b)?)
}

/// `rateScalar = scalarRoot·YEAR/tte` (truncating), rejected unless > 0.
pub fn rate_scalar(scalar_root: I256, time_to_expiry: u64) -> Result<I256, PendleError> {
    let rs = mul_then_div_trunc(scalar_root, I256::from(YEAR), I256::from(time_to_expiry))?;
    if rs <= 0 {
        return Err(PendleError::MarketRateScalarBelowZero { rate_scalar: rs });
    }
    Ok(rs)
}

/// `E = exp(lnRate·tte/YEAR)` with the product in uint256 (`_getExchangeRateFromImpliedRate`).
pub fn exchange_rate_from_ln_implied_rate(ln_rate: U256, time_to_expiry: u64) -> Result<I256, PendleError> {
    let rt = mul_then_div(ln_rate, U256::from(time_to_expiry), U256::from(YEAR))?;
    Ok(exp(to_signed(rt)?)?)
}

fn log_proportion(proportion: I256) -> Result<I256, PendleError> {
    if proportion == IONE {
        return Err(PendleError::MarketProportionMustNotEqualOne);
    }
    let logit = div_wad_trunc(proportion, IONE.sub_c(proportion)?)?;
    Ok(ln(logit)?)
}

/// `_getExchangeRate`: the PT/asset exchange rate after `net_pt_to_account` leaves the market.
pub fn exchange_rate(
    total_pt: I256,
    total_asset: I256,
    rate_scalar: I256,
    rate_anchor: I256,
    net_pt_to_account: I256,
) -> Result<I256, PendleError> {
    let numerator = sub_no_neg(total_pt, net_pt_to_account)?;
    let proportion = div_wad_trunc(numerator, total_pt.add_c(total_asset)?)?;
    if proportion > MAX_MARKET_PROPORTION {
        return Err(PendleError::MarketProportionTooHigh {
            proportion,
            max: MAX_MARKET_PROPORTION,
        });
    }
    let ln_p = log_proportion(proportion)?;
    let rate = div_wad_trunc(ln_p, rate_scalar)?.add_c(rate_anchor)?;
    if rate < IONE {
        return Err(PendleError::MarketExchangeRateBelowOne { exchange_rate: rate });
    }
    Ok(rate)
}

/// `_getRateAnchor`.
pub fn rate_anchor(
    total_pt: I256,
    last_ln_implied_rate: U256,
    total_asset: I256,
    rate_scalar: I256,
    time_to_expiry: u64,
) -> Result<I256, PendleError> {
    let new_rate = exchange_rate_from_ln_implied_rate(last_ln_implied_rate, time_to_expiry)?;
    if new_rate < IONE {
        return Err(PendleError::MarketExchangeRateBelowOne {
            exchange_rate: new_rate,
        });
    }
    let proportion = div_wad_trunc(total_pt, total_pt.add_c(total_asset)?)?;
    let ln_p = log_proportion(proportion)?;
    Ok(new_rate.sub_c(div_wad_trunc(ln_p, rate_scalar)?)?)
}

/// `_getLnImpliedRate`: `ln(E(state))·YEAR/tte` in uint256.
pub fn ln_implied_rate(
    total_pt: I256,
    total_asset: I256,
    rate_scalar: I256,
    rate_anchor: I256,
    time_to_expiry: u64,
) -> Result<U256, PendleError> {
    let rate = exchange_rate(total_pt, total_asset, rate_scalar, rate_anchor, I256::ZERO)?;
    let ln_rate = to_unsigned(ln(rate)?)?;
    Ok(mul_then_div(ln_rate, U256::from(YEAR), U256::from(time_to_expiry))?)
}

/// `getMarketPreCompute`.
pub(crate) fn pre_compute(m: &Core, index: U256, time_to_expiry: u64) -> Result<PreCompute, PendleError> {
    if time_to_expiry == 0 {
        return Err(PendleError::MarketExpired);
    }
    let rs = rate_scalar(m.scalar_root, time_to_expiry)?;
    let total_asset = sy_to_asset_i(index, m.total_sy)?;
    if m.total_pt == 0 || total_asset == 0 {
        return Err(PendleError::MarketZeroTotalPtOrTotalAsset {
            total_pt: m.total_pt,
            total_asset,
        });
    }
    let anchor = rate_anchor(m.total_pt, m.last_ln_implied_rate, total_asset, rs, time_to_expiry)?;
    let fee_rate = exchange_rate_from_ln_implied_rate(m.ln_fee_rate_root, time_to_expiry)?;
    Ok(PreCompute {
        rate_scalar: rs,
        total_asset,
        rate_anchor: anchor,
        fee_rate,
    })
}

/// `calcTrade`: (netSyToAccount, netSyFee, netSyToReserve), all signed.
pub(crate) fn calc_trade(
    m: &Core,
    comp: &PreCompute,
    index: U256,
    net_pt_to_account: I256,
) -> Result<(I256, I256, I256), PendleError> {
    let pre_fee_rate = exchange_rate(
        m.total_pt,
        comp.total_asset,
        comp.rate_scalar,
        comp.rate_anchor,
        net_pt_to_account,
    )?;
    let pre_fee_asset_to_account = -div_wad_trunc(net_pt_to_account, pre_fee_rate)?;
    let fee = if net_pt_to_account > 0 {
        let post_fee_rate = div_wad_trunc(pre_fee_rate, comp.fee_rate)?;
        if post_fee_rate < IONE {
            return Err(PendleError::MarketExchangeRateBelowOne {
                exchange_rate: post_fee_rate,
            });
        }
        mul_wad_trunc(pre_fee_asset_to_account, IONE.sub_c(comp.fee_rate)?)?
    } else {
        -mul_then_div_trunc(pre_fee_asset_to_account, IONE.sub_c(comp.fee_rate)?, comp.fee_rate)?
    };
    let net_asset_to_reserve =
        mul_then_div_trunc(fee, to_signed(m.reserve_fee_percent)?, I256::new(PERCENTAGE_DECIMALS))?;
    let net_asset_to_account = pre_fee_asset_to_account.sub_c(fee)?;
    let net_sy_to_account = if net_asset_to_account < 0 {
        asset_to_sy_up_i(index, net_asset_to_account)?
    } else {
        asset_to_sy_i(index, net_asset_to_account)?
    };
    let net_sy_fee = asset_to_sy_i(index, fee)?;
    let net_sy_to_reserve = asset_to_sy_i(index, net_asset_to_reserve)?;
    Ok((net_sy_to_account, net_sy_fee, net_sy_to_reserve))
}

/// `executeTradeCore`: checks, trade and the state update (including the new implied rate).
pub(crate) fn execute_trade(
    m: &mut Core,
    index: U256,
    net_pt_to_account: I256,
    time_to_expiry: u64,
) -> Result<(I256, I256, I256), PendleError> {
    if time_to_expiry == 0 {
        return Err(PendleError::MarketExpired);
    }
    if m.total_pt <= net_pt_to_account {
        return Err(PendleError::MarketInsufficientPtForTrade {
            total_pt: m.total_pt,
            net_pt_to_account,
        });
    }
    let comp = pre_compute(m, index, time_to_expiry)?;
    let (net_sy_to_account, net_sy_fee, net_sy_to_reserve) = calc_trade(m, &comp, index, net_pt_to_account)?;
    set_new_state_after_trade(
        m,
        &comp,
        index,
        net_pt_to_account,
        net_sy_to_account,
        net_sy_to_reserve,
        time_to_expiry,
    )?;
    Ok((net_sy_to_account, net_sy_fee, net_sy_to_reserve))
}

fn set_new_state_after_trade(
    m: &mut Core,
    comp: &PreCompute,
    index: U256,
    net_pt_to_account: I256,
    net_sy_to_account: I256,
    net_sy_to_reserve: I256,
    time_to_expiry: u64,
) -> Result<(), PendleError> {
    m.total_pt = sub_no_neg(m.total_pt, net_pt_to_account)?;
    m.total_sy = sub_no_neg(m.total_sy, net_sy_to_account.add_c(net_sy_to_reserve)?)?;
    let total_asset = sy_to_asset_i(index, m.total_sy)?;
    m.last_ln_implied_rate = ln_implied_rate(
        m.total_pt,
        total_asset,
        comp.rate_scalar,
        comp.rate_anchor,
        time_to_expiry,
    )?;
    if m.last_ln_implied_rate == U256::ZERO {
        return Err(PendleError::MarketZeroLnImpliedRate);
    }
    Ok(())
}

fn outcome(m: &Core, net_sy: I256, fee: I256, reserve: I256) -> Result<SwapOutcome, PendleError> {
    Ok(SwapOutcome {
        net_sy: to_unsigned(net_sy)?,
        net_sy_fee: to_unsigned(fee)?,
        net_sy_to_reserve: to_unsigned(reserve)?,
        ln_implied_rate: m.last_ln_implied_rate,
        new_total_pt: to_unsigned(m.total_pt)?,
        new_total_sy: to_unsigned(m.total_sy)?,
    })
}

/// `MarketMathCore.swapExactPtForSy`: sell exactly `exact_pt_to_market` PT.
///
/// Specification:
/// - fails with `MarketExpired` if `time_to_expiry == 0`;
/// - fails with `MarketZeroTotalPtOrTotalAsset`, `MarketRateScalarBelowZero`,
///   `MarketProportionTooHigh` (p > 0.96), `MarketProportionMustNotEqualOne`,
///   `MarketExchangeRateBelowOne` (pre-trade anchor rate or the trade's rate < 1),
///   `MarketZeroLnImpliedRate`, `NegativeResult` (the market would pay more SY than it holds),
///   or a math error (overflow, `ln`/`exp` domain), exactly where the contract reverts.
pub fn swap_exact_pt_for_sy(args: MarketStateArgs, exact_pt_to_market: U256) -> Result<SwapOutcome, PendleError> {
    let mut m = Core::from_args(&args)?;
    let net_pt = -to_signed(exact_pt_to_market)?;
    let (sy, fee, reserve) = execute_trade(&mut m, args.py_index, net_pt, args.time_to_expiry)?;
    outcome(&m, sy, fee, reserve)
}

/// `MarketMathCore.swapSyForExactPt`: buy exactly `exact_pt_to_account` PT; `net_sy` is the SY
/// the account pays (`netSyToMarket`).
///
/// Specification:
/// - fails with `MarketInsufficientPtForTrade` if `exact_pt_to_account ≥ total_pt`;
/// - fails with `MarketExchangeRateBelowOne` if the post-fee rate `E/feeRate < 1`;
/// - otherwise fails exactly as [`swap_exact_pt_for_sy`].
pub fn swap_sy_for_exact_pt(args: MarketStateArgs, exact_pt_to_account: U256) -> Result<SwapOutcome, PendleError> {
    let mut m = Core::from_args(&args)?;
    let net_pt = to_signed(exact_pt_to_account)?;
    let (sy, fee, reserve) = execute_trade(&mut m, args.py_index, net_pt, args.time_to_expiry)?;
    outcome(&m, -sy, fee, reserve)
}

/// `getMarketPreCompute` for the pure `calc` surface.
///
/// Specification:
/// - fails as the pre-computation of [`swap_exact_pt_for_sy`].
pub fn market_pre_compute(args: MarketStateArgs) -> Result<PreCompute, PendleError> {
    let m = Core::from_args(&args)?;
    pre_compute(&m, args.py_index, args.time_to_expiry)
}

/// Result of [`add_liquidity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddLiquidityOutcome {
    /// LP locked forever (first provision only).
    pub lp_to_reserve: U256,
    /// LP minted to the provider.
    pub lp_to_account: U256,
    /// SY taken.
    pub sy_used: U256,
    /// PT taken.
    pub pt_used: U256,
}

/// `addLiquidityCore`: first provision `√(sy·pt) − 1000` (1000 locked), later proportional to the
/// scarcer side, the other side rounded up (`rawDivUp`).
///
/// Specification:
/// - fails with `MarketZeroAmountsInput` if either desired amount is 0;
/// - fails with `MarketExpired` if `time_to_expiry == 0`;
/// - fails with `MarketZeroAmountsOutput` if LP out, SY used or PT used is ≤ 0;
/// - fails with a math error on overflow (or `√(sy·pt) < 1000`).
pub fn add_liquidity(
    total_pt: U256,
    total_sy: U256,
    total_lp: U256,
    sy_desired: U256,
    pt_desired: U256,
    time_to_expiry: u64,
) -> Result<AddLiquidityOutcome, PendleError> {
    let (sy_d, pt_d) = (to_signed(sy_desired)?, to_signed(pt_desired)?);
    if sy_d == 0 || pt_d == 0 {
        return Err(PendleError::MarketZeroAmountsInput);
    }
    if time_to_expiry == 0 {
        return Err(PendleError::MarketExpired);
    }
    let (tpt, tsy, tlp) = (to_signed(total_pt)?, to_signed(total_sy)?, to_signed(total_lp)?);
    let min_liq = I256::from(MINIMUM_LIQUIDITY);
    let (lp_to_reserve, lp_to_account, sy_used, pt_used);
    if tlp == 0 {
        let root = to_signed(stake_math::isqrt(to_unsigned(sy_d.mul_c(pt_d)?)?))?;
        lp_to_account = root.sub_c(min_liq)?;
        lp_to_reserve = min_liq;
        sy_used = sy_d;
        pt_used = pt_d;
    } else {
        let by_pt = pt_d.mul_c(tlp)?.div_c(tpt)?;
        let by_sy = sy_d.mul_c(tlp)?.div_c(tsy)?;
        lp_to_reserve = I256::ZERO;
        if by_pt < by_sy {
            lp_to_account = by_pt;
            pt_used = pt_d;
            sy_used = raw_div_up(tsy.mul_c(lp_to_account)?, tlp)?;
        } else {
            lp_to_account = by_sy;
            sy_used = sy_d;
            pt_used = raw_div_up(tpt.mul_c(lp_to_account)?, tlp)?;
        }
    }
    if lp_to_account <= 0 || sy_used <= 0 || pt_used <= 0 {
        return Err(PendleError::MarketZeroAmountsOutput);
    }
    Ok(AddLiquidityOutcome {
        lp_to_reserve: to_unsigned(lp_to_reserve)?,
        lp_to_account: to_unsigned(lp_to_account)?,
        sy_used: to_unsigned(sy_used)?,
        pt_used: to_unsigned(pt_used)?,
    })
}

/// `(a + b − 1)/b` (`PMath.rawDivUp(int)`).
fn raw_div_up(a: I256, b: I256) -> Result<I256, PendleError> {
    Ok(a.add_c(b)?.sub_c(I256::ONE)?.div_c(b)?)
}

/// `removeLiquidityCore`: `(lp·totalSy/totalLp, lp·totalPt/totalLp)`, floor.
///
/// Specification:
/// - fails with `MarketZeroAmountsInput` if `lp == 0`;
/// - fails with `MarketZeroAmountsOutput` if both outputs are 0;
/// - fails with `NegativeResult` if `lp > total_lp`.
pub fn remove_liquidity(total_pt: U256, total_sy: U256, total_lp: U256, lp: U256) -> Result<(U256, U256), PendleError> {
    let lp_i = to_signed(lp)?;
    if lp_i == 0 {
        return Err(PendleError::MarketZeroAmountsInput);
    }
    let (tpt, tsy, tlp) = (to_signed(total_pt)?, to_signed(total_sy)?, to_signed(total_lp)?);
    let sy_out = lp_i.mul_c(tsy)?.div_c(tlp)?;
    let pt_out = lp_i.mul_c(tpt)?.div_c(tlp)?;
    if sy_out == 0 && pt_out == 0 {
        return Err(PendleError::MarketZeroAmountsOutput);
    }
    sub_no_neg(tlp, lp_i)?;
    sub_no_neg(tpt, pt_out)?;
    sub_no_neg(tsy, sy_out)?;
    Ok((to_unsigned(sy_out)?, to_unsigned(pt_out)?))
}

/// `setInitialLnImpliedRate`: the first implied rate from `initialAnchor`.
///
/// Specification:
/// - fails with `MarketExpired` if `time_to_expiry == 0`, else as [`ln_implied_rate`].
pub fn initial_ln_implied_rate(
    total_pt: U256,
    total_sy: U256,
    scalar_root: I256,
    initial_anchor: I256,
    py_index: U256,
    time_to_expiry: u64,
) -> Result<U256, PendleError> {
    if time_to_expiry == 0 {
        return Err(PendleError::MarketExpired);
    }
    let total_asset = sy_to_asset_i(py_index, to_signed(total_sy)?)?;
    let rs = rate_scalar(scalar_root, time_to_expiry)?;
    ln_implied_rate(to_signed(total_pt)?, total_asset, rs, initial_anchor, time_to_expiry)
}

/// Implied APY = `exp(lnImpliedRate) − 1` (wad).
///
/// Specification:
/// - fails with a math error if `ln_implied_rate > 130e18`.
pub fn implied_apy(ln_implied_rate: U256) -> Result<I256, PendleError> {
    Ok(exp(to_signed(ln_implied_rate)?)?.sub_c(IONE)?)
}

/// PT price in asset `1/E` with `E = exp(lnRate·tte/YEAR)` (wad, floor; `1e18` at expiry).
///
/// Specification:
/// - fails with a math error if the exponent leaves the `exp` domain.
pub fn pt_to_asset_rate(ln_implied_rate: U256, time_to_expiry: u64) -> Result<U256, PendleError> {
    let e = exchange_rate_from_ln_implied_rate(ln_implied_rate, time_to_expiry)?;
    Ok(to_unsigned(div_wad_trunc(IONE, e)?)?)
}
