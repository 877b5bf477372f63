//! `YieldMath.sol` of `yieldprotocol/yieldspace-tv`: the YieldSpace trade formulas over
//! yield-bearing shares, in ABDK 64.64 ([`super::abdk`]), with the contract's `require` messages as
//! [`YieldSpaceError::YieldMath`] values and its `unchecked` wrap-arounds reproduced.
//!
//! Notation (SPEC §7, Yield Protocol): `z` shares reserves, `y` (virtual) fyToken reserves, `c`
//! current share price, `μ` share price at initialisation, `a = 1 − g·k·t` with `t` the seconds to
//! maturity, `k` the time stretch `ts` and `g` the fee coefficient (`g1 < 1` when selling shares
//! for fyToken, `g2 > 1` when selling fyToken). The invariant is
//! `c/μ·(μz)^a + y^a = const`; every power is Exp64x64's normalised `pow`.
//!
//! Amounts are `uint128` base units; `k`, `g`, `c`, `μ` are 64.64 numbers.

use super::abdk::{self, low_u128, to_i128_bits, to_u128_bits, ONE};
use super::YieldSpaceError;
use stake_math::U256;

/// `1e18`, the scale of `maxFYTokenOut`/`maxSharesIn`/`invariant`'s 64.64 conversions.
pub const WAD: u128 = 1_000_000_000_000_000_000;
/// `type(uint128).max` as a `uint256`: the contract's overflow bound `MAX`.
const MAX: U256 = U256::from_words(0, u128::MAX);
/// `ONE` (2^64) as the `uint128` exponent denominator of `pow`.
const ONE_U: u128 = 1 << 64;

/// A trade formula: `(shares_reserves, fy_token_reserves, amount, params) → amount`.
pub type TradeFn = fn(u128, u128, u128, &Params) -> Result<u128, YieldSpaceError>;
/// A maximum: `(shares_reserves, fy_token_reserves, params) → amount`.
pub type MaxFn = fn(u128, u128, &Params) -> Result<u128, YieldSpaceError>;

/// The common trade parameters of every YieldMath function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Seconds to maturity (`timeTillMaturity`).
    pub time_till_maturity: u128,
    /// Time stretch `k` (64.64), e.g. `1 / (25 years in seconds)`.
    pub k: i128,
    /// Fee coefficient `g` (64.64).
    pub g: i128,
    /// Current share price `c` (64.64).
    pub c: i128,
    /// Normalisation factor `μ` (64.64): `c` at initialisation.
    pub mu: i128,
}

fn req(cond: bool, reason: &'static str) -> Result<(), YieldSpaceError> {
    if cond {
        Ok(())
    } else {
        Err(YieldSpaceError::YieldMath { reason })
    }
}

fn positive(p: &Params) -> Result<(), YieldSpaceError> {
    req(p.c > 0 && p.mu > 0, "YieldMath: c and mu must be positive")
}

/// `Cast.u128(uint256)`: reverts with `"Cast overflow"` above `2^128 − 1`.
fn cast_u128(x: U256) -> Result<u128, YieldSpaceError> {
    u128::try_from(x).map_err(|_| YieldSpaceError::CastOverflow)
}

/// `_computeA`: `a = 1 − g·(k·t)` as a `uint128` 64.64 number in `(0, 1]`.
///
/// Specification: fails with "t must be positive" if `k·t < 0`, "Too far from maturity" if
/// `a ≤ 0`, "g must be positive" if `a > 1`, and with an ABDK revert if `t ≥ 2^63` or a product
/// leaves the 64.64 range.
pub fn compute_a(time_till_maturity: u128, k: i128, g: i128) -> Result<u128, YieldSpaceError> {
    let t = abdk::mul(k, abdk::from_uint(time_till_maturity)?)?;
    req(t >= 0, "YieldMath: t must be positive")?;
    let a = abdk::sub(ONE, abdk::mul(g, t)?)?;
    req(a > 0, "YieldMath: Too far from maturity")?;
    req(a <= ONE, "YieldMath: g must be positive")?;
    Ok(to_u128_bits(a))
}

/// `c/μ · (μ·z)^a` (normalised), with the contract's `nsr` and `za` checks; returns `(μz, za)`.
fn za_term(shares_reserves: u128, a: u128, p: &Params) -> Result<(U256, U256), YieldSpaceError> {
    let nsr = abdk::mulu(p.mu, U256::from(shares_reserves))?;
    req(nsr <= MAX, "YieldMath: Rate overflow (nsr)")?;
    let za = abdk::mulu(abdk::div(p.c, p.mu)?, U256::from(abdk::pow(low_u128(nsr), a, ONE_U)?))?;
    req(za <= MAX, "YieldMath: Rate overflow (za)")?;
    Ok((nsr, za))
}

/// The terms every reserve-side formula starts from, in the contract's order of checks.
struct Terms {
    /// `1 − g·k·t`.
    a: u128,
    /// `μ·z`.
    nsr: U256,
    /// `c/μ·(μz)^a` (normalised).
    za: U256,
    /// `y^a` (normalised).
    ya: U256,
}

/// "c and mu must be positive", `_computeA`, then `nsr`, `za` and `ya`.
fn terms(shares_reserves: u128, fy_token_reserves: u128, p: &Params) -> Result<Terms, YieldSpaceError> {
    positive(p)?;
    let a = compute_a(p.time_till_maturity, p.k, p.g)?;
    let (nsr, za) = za_term(shares_reserves, a, p)?;
    let ya = U256::from(abdk::pow(fy_token_reserves, a, ONE_U)?);
    Ok(Terms { a, nsr, za, ya })
}

/// `((za + ya − yxa) / (c/μ))^(1/a)` (normalised), shared by the two shares-side formulas; the
/// contract's `uint128(c.div(mu))` and `uint128(divu(…))` reinterpret the 128 bits.
fn root_over_c_mu(za_ya_yxa: U256, a: u128, p: &Params) -> Result<u128, YieldSpaceError> {
    let c_over_mu = abdk::div(p.c, p.mu)?;
    let quotient = abdk::divu(za_ya_yxa, U256::from(to_u128_bits(c_over_mu)))?;
    Ok(abdk::pow(to_u128_bits(quotient), ONE_U, a)?)
}

/// `fyTokenOutForSharesIn`: fyToken out for `shares_in` shares sold to the pool (use `g1`).
///
/// `Δy = y − (c/μ·(μz)^a + y^a − c/μ·(μz + μx)^a)^(1/a)`.
///
/// Specification: fails with the contract's message — "c and mu must be positive",
/// "Rate overflow (nsr)", "Rate overflow (za)", "Rate overflow (nsi)", "Too many shares in",
/// "Rate overflow (zxa)", "Sum underflow", "Rounding error", "> fyToken reserves" — or with
/// `Cast overflow` / an ABDK revert.
pub fn fy_token_out_for_shares_in(
    shares_reserves: u128,
    fy_token_reserves: u128,
    shares_in: u128,
    p: &Params,
) -> Result<u128, YieldSpaceError> {
    let Terms { a, nsr, za, ya } = terms(shares_reserves, fy_token_reserves, p)?;
    let nsi = abdk::mulu(p.mu, U256::from(shares_in))?;
    req(nsi <= MAX, "YieldMath: Rate overflow (nsi)")?;
    // Both ≤ 2^128 − 1: the uint256 sum does not wrap.
    let zx = nsr + nsi;
    req(zx <= MAX, "YieldMath: Too many shares in")?;
    let zxa = abdk::mulu(abdk::div(p.c, p.mu)?, U256::from(abdk::pow(low_u128(zx), a, ONE_U)?))?;
    req(zxa <= MAX, "YieldMath: Rate overflow (zxa)")?;
    let sum = (za + ya).wrapping_sub(zxa);
    req(sum <= za + ya, "YieldMath: Sum underflow")?;
    let root = abdk::pow(cast_u128(sum)?, ONE_U, a)?;
    let fy_token_out = U256::from(fy_token_reserves).wrapping_sub(U256::from(root));
    req(fy_token_out <= MAX, "YieldMath: Rounding error")?;
    req(
        fy_token_out <= U256::from(fy_token_reserves),
        "YieldMath: > fyToken reserves",
    )?;
    Ok(low_u128(fy_token_out))
}

/// `sharesOutForFYTokenIn`: shares out for `fy_token_in` fyToken sold to the pool (use `g2`).
///
/// `Δz = z − 1/μ·((c/μ·(μz)^a + y^a − (y + x)^a) / (c/μ))^(1/a)`.
///
/// Specification: fails with "c and mu must be positive", "Rate overflow (nsr)",
/// "Rate overflow (za)", "Rate overflow (yxa)", "Rate underflow", or an ABDK revert. As in the
/// contract, `y + x` wraps modulo 2^128 (`unchecked`).
pub fn shares_out_for_fy_token_in(
    shares_reserves: u128,
    fy_token_reserves: u128,
    fy_token_in: u128,
    p: &Params,
) -> Result<u128, YieldSpaceError> {
    let Terms { a, za, ya, .. } = terms(shares_reserves, fy_token_reserves, p)?;
    let yxa = U256::from(abdk::pow(fy_token_reserves.wrapping_add(fy_token_in), a, ONE_U)?);
    let za_ya_yxa = (za + ya).wrapping_sub(yxa);
    req(za_ya_yxa <= MAX, "YieldMath: Rate overflow (yxa)")?;
    let root = root_over_c_mu(za_ya_yxa, a, p)?;
    let right_term = to_u128_bits(abdk::div(to_i128_bits(root), p.mu)?);
    req(right_term <= shares_reserves, "YieldMath: Rate underflow")?;
    Ok(shares_reserves - right_term)
}

/// `fyTokenInForSharesOut`: fyToken a trader must sell to take `shares_out` shares (use `g2`).
///
/// `Δy = (c/μ·(μz)^a + y^a − c/μ·(μz − μx)^a)^(1/a) − y`.
///
/// Specification: fails with "c and mu must be positive", "Rate overflow (nsr)",
/// "Rate overflow (za)", "Rate overflow (nso)", "Too many shares in", "> fyToken reserves",
/// "Rounding error", `Cast`-free, or an ABDK revert.
pub fn fy_token_in_for_shares_out(
    shares_reserves: u128,
    fy_token_reserves: u128,
    shares_out: u128,
    p: &Params,
) -> Result<u128, YieldSpaceError> {
    let Terms { a, nsr, za, ya } = terms(shares_reserves, fy_token_reserves, p)?;
    let nso = abdk::mulu(p.mu, U256::from(shares_out))?;
    req(nso <= MAX, "YieldMath: Rate overflow (nso)")?;
    req(nsr >= nso, "YieldMath: Too many shares in")?;
    let zx = nsr - nso;
    let zxa = abdk::mulu(abdk::div(p.c, p.mu)?, U256::from(abdk::pow(low_u128(zx), a, ONE_U)?))?;
    let sum = (za + ya).wrapping_sub(zxa);
    req(sum <= MAX, "YieldMath: > fyToken reserves")?;
    let root = abdk::pow(low_u128(sum), ONE_U, a)?;
    let result = U256::from(root).wrapping_sub(U256::from(fy_token_reserves));
    req(result <= MAX, "YieldMath: Rounding error")?;
    Ok(low_u128(result))
}

/// `sharesInForFYTokenOut`: shares a trader must sell to take `fy_token_out` fyToken (use `g1`).
///
/// `Δz = 1/μ·((c/μ·(μz)^a + y^a − (y − x)^a) / (c/μ))^(1/a) − z`.
///
/// Specification: fails with "c and mu must be positive", "Rate overflow (nsr)",
/// "Rate overflow (za)", "Underflow (yxa)", "Rate overflow (zyy)", `Cast overflow`,
/// "Underflow error", or an ABDK revert.
pub fn shares_in_for_fy_token_out(
    shares_reserves: u128,
    fy_token_reserves: u128,
    fy_token_out: u128,
    p: &Params,
) -> Result<u128, YieldSpaceError> {
    let Terms { a, za, ya, .. } = terms(shares_reserves, fy_token_reserves, p)?;
    // The contract computes the power of the wrapped difference before it checks the order.
    let yxa = U256::from(abdk::pow(fy_token_reserves.wrapping_sub(fy_token_out), a, ONE_U)?);
    req(fy_token_out <= fy_token_reserves, "YieldMath: Underflow (yxa)")?;
    let za_ya_yxa = (za + ya).wrapping_sub(yxa);
    req(za_ya_yxa <= MAX, "YieldMath: Rate overflow (zyy)")?;
    let root = root_over_c_mu(za_ya_yxa, a, p)?;
    let root_i = i128::try_from(root).map_err(|_| YieldSpaceError::CastOverflow)?;
    let subtotal = to_u128_bits(abdk::mul(abdk::div(ONE, p.mu)?, root_i)?);
    let shares_in = subtotal.wrapping_sub(shares_reserves);
    req(shares_in <= subtotal, "YieldMath: Underflow error")?;
    Ok(shares_in)
}

/// The shared `(c/μ·(μ·z/1e18)^a + (y/1e18)^a) / (c/μ + 1)` of the max and invariant functions,
/// raised to `1/a` (true 64.64 powers, not the normalised ones).
fn balanced_root(shares_reserves: u128, fy_token_reserves: u128, a: i128, p: &Params) -> Result<i128, YieldSpaceError> {
    let c_over_mu = abdk::div(p.c, p.mu)?;
    let za = abdk::mul(
        c_over_mu,
        abdk::pow_64x64(
            abdk::mul(p.mu, abdk::divu(U256::from(shares_reserves), U256::from(WAD))?)?,
            a,
        )?,
    )?;
    let ya = abdk::pow_64x64(abdk::divu(U256::from(fy_token_reserves), U256::from(WAD))?, a)?;
    let numerator = abdk::add(za, ya)?;
    let denominator = abdk::add(c_over_mu, ONE)?;
    Ok(abdk::pow_64x64(abdk::div(numerator, denominator)?, abdk::div(ONE, a)?)?)
}

/// `maxFYTokenIn`: the most fyToken the pool can buy (its shares reserves run out), use `g2`.
///
/// Specification: fails with "c and mu must be positive", "Rate overflow (nsr)",
/// "Rate overflow (za)", "> fyToken reserves", "Rounding error", or an ABDK revert.
pub fn max_fy_token_in(shares_reserves: u128, fy_token_reserves: u128, p: &Params) -> Result<u128, YieldSpaceError> {
    let Terms { a, za, ya, .. } = terms(shares_reserves, fy_token_reserves, p)?;
    let sum = za + ya;
    req(sum <= MAX, "YieldMath: > fyToken reserves")?;
    let root = abdk::pow(low_u128(sum), ONE_U, a)?;
    let result = U256::from(root).wrapping_sub(U256::from(fy_token_reserves));
    req(result <= MAX, "YieldMath: Rounding error")?;
    Ok(low_u128(result))
}

/// `maxFYTokenOut`: the most fyToken the pool can sell before its rate turns negative, use `g1`.
///
/// `Δy = y − ((c/μ·(μz)^a + y^a) / (c/μ + 1))^(1/a)`, in 64.64 of `amount / 1e18`.
///
/// Specification: fails with "c and mu must be positive", "Underflow error", or an ABDK revert.
pub fn max_fy_token_out(shares_reserves: u128, fy_token_reserves: u128, p: &Params) -> Result<u128, YieldSpaceError> {
    positive(p)?;
    let a = to_i128_bits(compute_a(p.time_till_maturity, p.k, p.g)?);
    let right_term = balanced_root(shares_reserves, fy_token_reserves, a, p)?;
    let out = fy_token_reserves.wrapping_sub(low_u128(abdk::mulu(right_term, U256::from(WAD))?));
    req(out <= fy_token_reserves, "YieldMath: Underflow error")?;
    Ok(out)
}

/// `maxSharesIn`: the most shares the pool can take before its rate turns negative, use `g1`.
///
/// `Δz = 1/μ·((c/μ·(μz)^a + y^a) / (c/μ + 1))^(1/a) − z`, in 64.64 of `amount / 1e18`.
///
/// Specification: fails with "c and mu must be positive", "Underflow error", or an ABDK revert.
pub fn max_shares_in(shares_reserves: u128, fy_token_reserves: u128, p: &Params) -> Result<u128, YieldSpaceError> {
    positive(p)?;
    let a = to_i128_bits(compute_a(p.time_till_maturity, p.k, p.g)?);
    let root = balanced_root(shares_reserves, fy_token_reserves, a, p)?;
    let left_term = abdk::mul(abdk::div(ONE, p.mu)?, root)?;
    let left_wad = low_u128(abdk::mulu(left_term, U256::from(WAD))?);
    let shares_in = left_wad.wrapping_sub(shares_reserves);
    req(shares_in <= left_wad, "YieldMath: Underflow error")?;
    Ok(shares_in)
}

/// `invariant`: the pool value per LP token, `c/μ·((c/μ·(μz)^a + y^a) / (c/μ + 1))^(1/a) / s`
/// (wad), 0 when `total_supply = 0`. Use `g2`.
///
/// Specification: returns 0 for a zero supply before any check; otherwise fails with the
/// `_computeA` messages, "c and mu must be positive", or an ABDK revert. As in the contract the
/// final `topTerm·1e18·1e18` product wraps modulo 2^256 and the quotient is truncated to 128 bits.
pub fn invariant(
    shares_reserves: u128,
    fy_token_reserves: u128,
    total_supply: U256,
    p: &Params,
) -> Result<u128, YieldSpaceError> {
    if total_supply == U256::ZERO {
        return Ok(0);
    }
    let a = to_i128_bits(compute_a(p.time_till_maturity, p.k, p.g)?);
    positive(p)?;
    let root = balanced_root(shares_reserves, fy_token_reserves, a, p)?;
    let top_term = abdk::mul(abdk::div(p.c, p.mu)?, root)?;
    let scaled = abdk::mulu(top_term, U256::from(WAD))?.wrapping_mul(U256::from(WAD));
    Ok(low_u128(scaled / total_supply))
}
