//! Router-level binary searches (`router/math/MarketApproxLibV2.sol`): exact SY in → PT, and
//! exact SY in → YT through a flash swap of PT. Deterministic: the same state, input and
//! [`ApproxParams`] always give the same answer.

use super::math::{calc_trade, pre_compute, Core, PreCompute, MAX_MARKET_PROPORTION};
use super::PendleError;
use serde::{Deserialize, Serialize};
use stake_math::logexp::{exp, ln};
use stake_math::signed::{div_wad_trunc, mul_wad_trunc, to_signed, to_unsigned, IONE};
use stake_math::{Checked, I256, U256};

use super::math::{asset_to_sy_up, sy_to_asset, ONE};

/// Iterations that use `scaleClamp` before switching to plain bisection (`CUT_OFF_SCALE_CLAMP`).
const CUT_OFF_SCALE_CLAMP: u64 = 2;

/// Search parameters (`ApproxParams`): guess range, optional off-chain first guess, iteration
/// limit and relative tolerance `eps` (wad; 1e15 = 0.1 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproxParams {
    /// Smallest acceptable answer.
    pub guess_min: U256,
    /// Largest acceptable answer.
    pub guess_max: U256,
    /// First guess computed off-chain (0 = none; then the range is also clamped on-chain).
    pub guess_offchain: U256,
    /// Iteration limit.
    pub max_iteration: u64,
    /// Relative tolerance, wad (≤ 1e18).
    pub eps: U256,
}

impl Default for ApproxParams {
    /// The router SDK's usual defaults: full range, 256 iterations, eps = 0.01 % (1e14).
    fn default() -> Self {
        ApproxParams {
            guess_min: U256::ZERO,
            guess_max: U256::MAX,
            guess_offchain: U256::ZERO,
            max_iteration: 256,
            eps: U256::new(100_000_000_000_000),
        }
    }
}

fn mul_down(a: U256, b: U256) -> Result<U256, PendleError> {
    Ok(a.mul_c(b)?.div_c(ONE)?)
}

/// `PMath.isASmallerApproxB`: `a ≤ b ∧ a ≥ b·(1 − eps)`.
fn is_a_smaller_approx_b(a: U256, b: U256, eps: U256) -> Result<bool, PendleError> {
    Ok(a <= b && a >= mul_down(b, ONE.sub_c(eps)?)?)
}

fn validate(approx: &ApproxParams) -> Result<(), PendleError> {
    if approx.guess_min > approx.guess_max || approx.eps > ONE {
        return Err(PendleError::InvalidApproxParams {
            guess_min: approx.guess_min,
            guess_max: approx.guess_max,
            eps: approx.eps,
        });
    }
    Ok(())
}

/// `(guessMin + guessMax + 1)/2`, computed without overflowing at `U256::MAX`.
fn midpoint(approx: &ApproxParams) -> U256 {
    let (a, b) = (approx.guess_min, approx.guess_max);
    // (a + b + 1) / 2 == a/2 + b/2 + ((a%2 + b%2 + 1) / 2)
    (a >> 1u32) + (b >> 1u32) + (((a & U256::ONE) + (b & U256::ONE) + U256::ONE) >> 1u32)
}

fn first_guess(approx: &ApproxParams) -> U256 {
    if approx.guess_offchain != U256::ZERO {
        approx.guess_offchain
    } else {
        midpoint(approx)
    }
}

fn scale_clamp(original: U256, target: U256, current: U256, approx: &ApproxParams) -> Result<U256, PendleError> {
    let scaled = original.mul_c(target)?.div_c(current)?;
    if scaled >= approx.guess_max || scaled <= approx.guess_min {
        return Ok(midpoint(approx));
    }
    Ok(scaled)
}

/// `calcMaxPtOut`: 99.9 % of the PT that can leave before the post-fee rate reaches 1.
fn calc_max_pt_out(comp: &PreCompute, total_pt: I256) -> Result<U256, PendleError> {
    let logit_p = exp(mul_wad_trunc(comp.fee_rate.sub_c(comp.rate_anchor)?, comp.rate_scalar)?)?;
    let proportion = div_wad_trunc(logit_p, logit_p.add_c(IONE)?)?;
    let numerator = mul_wad_trunc(proportion, total_pt.add_c(comp.total_asset)?)?;
    let max_pt_out = to_unsigned(total_pt.sub_c(numerator)?)?;
    Ok(max_pt_out.mul_c(U256::new(999))?.div_c(U256::new(1000))?)
}

/// `calcSlope` of the PT-in curve (used by [`calc_max_pt_in`]).
fn calc_slope(comp: &PreCompute, total_pt: I256, pt_to_market: I256) -> Result<I256, PendleError> {
    let diff_asset_pt_to_market = comp.total_asset.sub_c(pt_to_market)?;
    let sum_pt = pt_to_market.add_c(total_pt)?;
    if diff_asset_pt_to_market <= 0 || sum_pt <= 0 {
        return Err(PendleError::InvalidParams {
            reason: "invalid ptToMarket".into(),
        });
    }
    let part1 = div_wad_trunc(
        pt_to_market.mul_c(total_pt.add_c(comp.total_asset)?)?,
        sum_pt.mul_c(diff_asset_pt_to_market)?,
    )?;
    let part2 = ln(div_wad_trunc(sum_pt, diff_asset_pt_to_market)?)?;
    let part3 = div_wad_trunc(IONE, comp.rate_scalar)?;
    Ok(comp.rate_anchor.sub_c(mul_wad_trunc(part1.sub_c(part2)?, part3)?)?)
}

/// `calcMaxPtIn`: the largest PT sale with a non-negative marginal rate, capped at p = 0.96.
fn calc_max_pt_in(m: &Core, comp: &PreCompute) -> Result<U256, PendleError> {
    let mut low = U256::ZERO;
    let mut hi = to_unsigned(comp.total_asset)?.sub_c(U256::ONE)?;
    while low != hi {
        let mid = (low + hi + U256::ONE) >> 1u32;
        if calc_slope(comp, m.total_pt, to_signed(mid)?)? < 0 {
            hi = mid - U256::ONE;
        } else {
            low = mid;
        }
    }
    let cap =
        to_unsigned(mul_wad_trunc(MAX_MARKET_PROPORTION, m.total_pt.add_c(comp.total_asset)?)?.sub_c(m.total_pt)?)?;
    Ok(low.min(cap))
}

/// `calcSyIn`: SY the account pays for exactly `net_pt_out` PT, with fee and reserve.
fn calc_sy_in(m: &Core, comp: &PreCompute, index: U256, net_pt_out: U256) -> Result<(U256, U256, U256), PendleError> {
    let (sy, fee, reserve) = calc_trade(m, comp, index, to_signed(net_pt_out)?)?;
    Ok((to_unsigned(-sy)?, to_unsigned(fee)?, to_unsigned(reserve)?))
}

/// `calcSyOut`: SY the account receives for exactly `net_pt_in` PT.
fn calc_sy_out(m: &Core, comp: &PreCompute, index: U256, net_pt_in: U256) -> Result<(U256, U256, U256), PendleError> {
    let (sy, fee, reserve) = calc_trade(m, comp, index, -to_signed(net_pt_in)?)?;
    Ok((to_unsigned(sy)?, to_unsigned(fee)?, to_unsigned(reserve)?))
}

/// `approxSwapExactSyForPtV2`: the PT out (and its SY fee) such that buying it costs at most
/// `exact_sy_in` and at least `exact_sy_in·(1 − eps)`.
///
/// Specification:
/// - fails with `InvalidApproxParams` if `guess_min > guess_max` or `eps > 1e18` (no off-chain guess);
/// - fails with `ApproxExhausted` if no answer is found within `max_iteration`;
/// - fails as the market pre-computation (expired, zero reserves, rate below one, …).
pub(crate) fn approx_swap_exact_sy_for_pt(
    m: &Core,
    index: U256,
    exact_sy_in: U256,
    time_to_expiry: u64,
    mut approx: ApproxParams,
) -> Result<(U256, U256), PendleError> {
    let comp = pre_compute(m, index, time_to_expiry)?;
    if approx.guess_offchain == U256::ZERO {
        approx.guess_max = approx.guess_max.min(calc_max_pt_out(&comp, m.total_pt)?);
        validate(&approx)?;
    }
    let mut guess = first_guess(&approx);
    for iter in 0..approx.max_iteration {
        let (net_sy_in, net_sy_fee, _) = calc_sy_in(m, &comp, index, guess)?;
        if net_sy_in <= exact_sy_in {
            if is_a_smaller_approx_b(net_sy_in, exact_sy_in, approx.eps)? {
                return Ok((guess, net_sy_fee));
            }
            if guess == approx.guess_min {
                break;
            }
            approx.guess_min = guess;
        } else {
            approx.guess_max = guess.sub_c(U256::ONE)?;
        }
        guess = if iter <= CUT_OFF_SCALE_CLAMP {
            scale_clamp(guess, exact_sy_in, net_sy_in, &approx)?
        } else {
            midpoint(&approx)
        };
    }
    Err(PendleError::ApproxExhausted)
}

/// `approxSwapExactSyForYtV2`: the PT to flash-sell (= YT out) such that the SY still needed to
/// tokenize it, `assetToSyUp(guess) − syOut(guess)`, is at most `exact_sy_in` and within `eps`.
///
/// Specification:
/// - fails with `InvalidApproxParams`, `ApproxExhausted` or a market error as
///   [`approx_swap_exact_sy_for_pt`].
pub(crate) fn approx_swap_exact_sy_for_yt(
    m: &Core,
    index: U256,
    exact_sy_in: U256,
    time_to_expiry: u64,
    mut approx: ApproxParams,
) -> Result<(U256, U256), PendleError> {
    let comp = pre_compute(m, index, time_to_expiry)?;
    if approx.guess_offchain == U256::ZERO {
        approx.guess_min = approx.guess_min.max(sy_to_asset(index, exact_sy_in)?);
        approx.guess_max = approx.guess_max.min(calc_max_pt_in(m, &comp)?);
        validate(&approx)?;
    }
    let mut guess = first_guess(&approx);
    for iter in 0..approx.max_iteration {
        let (net_sy_out, net_sy_fee, _) = calc_sy_out(m, &comp, index, guess)?;
        let net_sy_to_tokenize_pt = asset_to_sy_up(index, guess)?;
        let net_sy_to_pull = net_sy_to_tokenize_pt.sub_c(net_sy_out)?;
        if net_sy_to_pull <= exact_sy_in {
            if is_a_smaller_approx_b(net_sy_to_pull, exact_sy_in, approx.eps)? {
                return Ok((guess, net_sy_fee));
            }
            if approx.guess_min == guess {
                break;
            }
            approx.guess_min = guess;
        } else {
            approx.guess_max = guess.sub_c(U256::ONE)?;
        }
        guess = if iter <= CUT_OFF_SCALE_CLAMP {
            scale_clamp(guess, exact_sy_in, net_sy_to_pull, &approx)?
        } else {
            midpoint(&approx)
        };
    }
    Err(PendleError::ApproxExhausted)
}
