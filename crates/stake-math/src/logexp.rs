//! Bit-exact port of `LogExpMath` (Balancer v2, as used by Pendle v2 in
//! `pendle-finance/pendle-core-v2-public:contracts/core/libraries/math/LogExpMath.sol`):
//! `ln`, `exp` and `pow` on int256 wad (18-decimal) fixed point.
//!
//! The reference computes in `unchecked` blocks; inside the documented domain no intermediate
//! overflows, and here every step is checked anyway (an overflow would be a [`MathError`], never a
//! wrap). Every division is Solidity's signed division, truncating toward zero.
//!
//! * `exp(x)`: −41e18 ≤ x ≤ 130e18. Negative x is `1e36 / exp(−x)`. Positive x is decomposed into
//!   the powers of two `x_n = 2^(7−n)` whose exponentials `a_n` are tabulated (a0, a1 as plain
//!   integers, a2..a9 with 20 decimals), then a 12-term Taylor series on the remainder (20 decimals).
//! * `ln(a)`: a > 0. For 0.9 < a < 1.1 the 36-decimal series `2·Σ z^(2k+1)/(2k+1)`,
//!   `z = (a−1)/(a+1)`, with 8 terms; otherwise divide out the tabulated `a_n` (a < 1 via
//!   `−ln(1e36/a)`) and finish with the same series at 20 decimals and 6 terms.
//!
//! Speed: the public [`ln`] and [`exp`] first try the `u128` fast path of the private `fast`
//! module (the same algorithm on sign + 128-bit magnitudes, with exact 256-bit intermediates for
//! the products above 2^128), which covers `exp` for |x| < 42e18 and `ln` for a ≤ 2^128/100 —
//! everything the markets use; other inputs run the checked `I256` reference
//! ([`ln_reference`], [`exp_reference`]). Unit tests compare both paths on > 500,000 inputs,
//! including every branch boundary.

use crate::{Checked, MathError, MathResult, I256, U256};

mod fast;

const ONE_18: I256 = I256::new(1_000_000_000_000_000_000);
const ONE_20: I256 = I256::new(100_000_000_000_000_000_000);
const ONE_36: I256 = I256::new(1_000_000_000_000_000_000_000_000_000_000_000_000);

/// Largest argument of [`exp`]: 130e18.
pub const MAX_NATURAL_EXPONENT: I256 = I256::new(130_000_000_000_000_000_000);
/// Smallest argument of [`exp`]: −41e18.
pub const MIN_NATURAL_EXPONENT: I256 = I256::new(-41_000_000_000_000_000_000);

const LN_36_LOWER_BOUND: I256 = I256::new(900_000_000_000_000_000);
const LN_36_UPPER_BOUND: I256 = I256::new(1_100_000_000_000_000_000);

// 18-decimal exponents; a0 and a1 are e^x0, e^x1 as plain integers (no decimals).
const X0: I256 = I256::new(128_000_000_000_000_000_000); // 2^7
const X1: I256 = I256::new(64_000_000_000_000_000_000); // 2^6

/// e^128 with no decimals: 38877084059945950922200000000000000000000000000000000000.
fn a0() -> I256 {
    // 388770840599459509222 × 10^35 (the tabulated constant has 21 significant digits).
    I256::new(388_770_840_599_459_509_222) * I256::new(100_000_000_000_000_000_000_000_000_000_000_000)
}
const A1: I256 = I256::new(6_235_149_080_811_616_882_910_000_000); // e^64, no decimals

// 20-decimal constants: (x_n, a_n = e^x_n), n = 2..=11.
const X_A_20: [(I256, I256); 10] = [
    (
        I256::new(3_200_000_000_000_000_000_000),
        I256::new(7_896_296_018_268_069_516_100_000_000_000_000),
    ), // 2^5
    (
        I256::new(1_600_000_000_000_000_000_000),
        I256::new(888_611_052_050_787_263_676_000_000),
    ), // 2^4
    (
        I256::new(800_000_000_000_000_000_000),
        I256::new(298_095_798_704_172_827_474_000),
    ), // 2^3
    (
        I256::new(400_000_000_000_000_000_000),
        I256::new(5_459_815_003_314_423_907_810),
    ), // 2^2
    (
        I256::new(200_000_000_000_000_000_000),
        I256::new(738_905_609_893_065_022_723),
    ), // 2^1
    (
        I256::new(100_000_000_000_000_000_000),
        I256::new(271_828_182_845_904_523_536),
    ), // 2^0
    (
        I256::new(50_000_000_000_000_000_000),
        I256::new(164_872_127_070_012_814_685),
    ), // 2^-1
    (
        I256::new(25_000_000_000_000_000_000),
        I256::new(128_402_541_668_774_148_407),
    ), // 2^-2
    (
        I256::new(12_500_000_000_000_000_000),
        I256::new(113_314_845_306_682_631_683),
    ), // 2^-3
    (
        I256::new(6_250_000_000_000_000_000),
        I256::new(106_449_445_891_785_942_956),
    ), // 2^-4
];

/// `x` as an `i128` when it fits (the high word is the sign extension of the low word).
#[inline]
fn fit_i128(x: I256) -> Option<i128> {
    let (hi, lo) = x.into_words();
    if hi == (lo >> 127) {
        Some(lo)
    } else {
        None
    }
}

/// `a·b`; native `i128` when both operands fit and the product cannot overflow, else checked
/// `I256` (identical result, identical overflow error).
#[inline]
fn mul(a: I256, b: I256) -> MathResult<I256> {
    if let (Some(x), Some(y)) = (fit_i128(a), fit_i128(b)) {
        if let Some(p) = x.checked_mul(y) {
            return Ok(I256::new(p));
        }
    }
    a.mul_c(b)
}

/// Magnitude `n / d` truncated, by schoolbook long division over four 64-bit limbs.
#[inline]
fn udiv_u64(n: U256, d: u64) -> U256 {
    let (hi, lo) = n.into_words();
    let d128 = u128::from(d);
    let mut rem: u128 = 0;
    let mut q = [0u128; 4];
    let limbs = [hi >> 64, hi & u128::from(u64::MAX), lo >> 64, lo & u128::from(u64::MAX)];
    for (i, &limb) in limbs.iter().enumerate() {
        let cur = (rem << 64) | limb;
        q[i] = cur / d128;
        rem = cur % d128;
    }
    U256::from_words((q[0] << 64) | q[1], (q[2] << 64) | q[3])
}

/// Truncating signed `a / b` for `b ≠ 0`, `a ≠ I256::MIN`, with `|b|` split into 64-bit factors
/// (truncation of magnitudes composes: `⌊⌊n/p⌋/q⌋ = ⌊n/(p·q)⌋`).
#[inline]
fn div_by_factors(a: I256, b: I256, factors: &[u64]) -> I256 {
    let mut m = a.unsigned_abs();
    for &f in factors {
        m = udiv_u64(m, f);
    }
    let q = m.as_i256();
    if (a < 0) != (b < 0) {
        -q
    } else {
        q
    }
}

const E10: u64 = 10_000_000_000;
const E18: u64 = 1_000_000_000_000_000_000;

/// Truncating `a / b` (Solidity semantics): native `i128` when both fit, 64-bit limb division for
/// small or power-of-ten divisors, else checked `I256` (which also reports every error exactly).
#[inline]
fn div(a: I256, b: I256) -> MathResult<I256> {
    if b != I256::ZERO {
        if let (Some(x), Some(y)) = (fit_i128(a), fit_i128(b)) {
            if let Some(q) = x.checked_div(y) {
                return Ok(I256::new(q));
            }
        }
        if a != I256::MIN {
            if let Some(bm) = fit_i128(b).map(i128::unsigned_abs) {
                if let Ok(d) = u64::try_from(bm) {
                    return Ok(div_by_factors(a, b, &[d]));
                }
                if bm == u128::from(E10) * u128::from(E10) {
                    return Ok(div_by_factors(a, b, &[E10, E10]));
                }
                if bm == u128::from(E18) * u128::from(E18) {
                    return Ok(div_by_factors(a, b, &[E18, E18]));
                }
            }
        }
    }
    a.div_c(b)
}

/// `e^x` of a signed wad, −41e18 ≤ x ≤ 130e18 (else [`MathError::OutOfDomain`]).
///
/// Specification:
/// - fails with `OutOfDomain { func: "exp" }` if `x < -41e18` or `x > 130e18`.
pub fn exp(x: I256) -> MathResult<I256> {
    check_exp_domain(x)?;
    if let Some(v) = fit_i128(x).and_then(fast::exp) {
        return Ok(I256::new(v));
    }
    exp_ref_in_domain(x)
}

fn check_exp_domain(x: I256) -> MathResult<()> {
    if x < MIN_NATURAL_EXPONENT || x > MAX_NATURAL_EXPONENT {
        return Err(MathError::OutOfDomain {
            func: "exp",
            value: x.to_string(),
        });
    }
    Ok(())
}

/// [`exp`] computed only on the checked `I256` reference path (no `u128` fast path): identical
/// results and errors, slower; for differential tests and benchmark comparisons.
///
/// Specification:
/// - fails exactly as [`exp`].
pub fn exp_reference(x: I256) -> MathResult<I256> {
    check_exp_domain(x)?;
    exp_ref_in_domain(x)
}

/// The `I256` reference body of `exp` for an in-domain `x`.
fn exp_ref_in_domain(x: I256) -> MathResult<I256> {
    if x < 0 {
        // e^(−x) = 1 / e^x, as a wad: 1e36 / exp(−x).
        return div(mul(ONE_18, ONE_18)?, exp_ref_in_domain(-x)?);
    }
    exp_non_negative(x)
}

fn exp_non_negative(mut x: I256) -> MathResult<I256> {
    let first_an = if x >= X0 {
        x -= X0;
        a0()
    } else if x >= X1 {
        x -= X1;
        A1
    } else {
        I256::ONE
    };

    // To 20 decimals.
    x = mul(x, I256::new(100))?;

    // Only x2..x9 are used here (x10, x11 are not needed for 18-decimal precision).
    let mut product = ONE_20;
    for &(xn, an) in &X_A_20[..8] {
        if x >= xn {
            x -= xn;
            product = div(mul(product, an)?, ONE_20)?;
        }
    }

    // Taylor series 1 + x + x²/2! + … + x¹²/12!, each term = previous·x/1e20/n.
    let mut series_sum = ONE_20;
    let mut term = x;
    series_sum = series_sum.add_c(term)?;
    for n in 2..=12i128 {
        term = div(div(mul(term, x)?, ONE_20)?, I256::new(n))?;
        series_sum = series_sum.add_c(term)?;
    }

    div(mul(div(mul(product, series_sum)?, ONE_20)?, first_an)?, I256::new(100))
}

/// Natural logarithm of a positive signed wad (`ln(a)` with 18 decimals).
///
/// Specification:
/// - fails with `OutOfDomain { func: "ln" }` if `a ≤ 0`.
pub fn ln(a: I256) -> MathResult<I256> {
    check_ln_domain(a)?;
    if let Some(v) = fit_i128(a).and_then(|v| fast::ln(v.unsigned_abs())) {
        return Ok(I256::new(v));
    }
    ln_ref_in_domain(a)
}

fn check_ln_domain(a: I256) -> MathResult<()> {
    if a <= 0 {
        return Err(MathError::OutOfDomain {
            func: "ln",
            value: a.to_string(),
        });
    }
    Ok(())
}

/// [`ln`] computed only on the checked `I256` reference path (no `u128` fast path): identical
/// results and errors, slower; for differential tests and benchmark comparisons.
///
/// Specification:
/// - fails exactly as [`ln`].
pub fn ln_reference(a: I256) -> MathResult<I256> {
    check_ln_domain(a)?;
    ln_ref_in_domain(a)
}

/// The `I256` reference body of `ln` for `a > 0`.
fn ln_ref_in_domain(a: I256) -> MathResult<I256> {
    if LN_36_LOWER_BOUND < a && a < LN_36_UPPER_BOUND {
        div(ln_36(a)?, ONE_18)
    } else {
        ln_general(a)
    }
}

/// `x^y` for unsigned wads as `exp(y·ln(x))` (`LogExpMath.pow`), with `0^0 = 1`, `0^y = 0`.
/// (Pendle's market math does not call it; provided for completeness of the port.)
///
/// Specification:
/// - fails with `OutOfDomain { func: "pow" }` if `x ≥ 2^255`, `y ≥ 2^254 / 1e20`, or
///   `y·ln(x)` falls outside `[−41e18, 130e18]`.
pub fn pow(x: crate::U256, y: crate::U256) -> MathResult<crate::U256> {
    use crate::U256;
    if y == U256::ZERO {
        return Ok(U256::from(1_000_000_000_000_000_000u128));
    }
    if x == U256::ZERO {
        return Ok(U256::ZERO);
    }
    let x_max = U256::ONE << 255;
    if x >= x_max {
        return Err(MathError::OutOfDomain {
            func: "pow",
            value: x.to_string(),
        });
    }
    let mild_bound = (U256::ONE << 254) / U256::from(100_000_000_000_000_000_000u128);
    if y >= mild_bound {
        return Err(MathError::OutOfDomain {
            func: "pow",
            value: y.to_string(),
        });
    }
    let xi = x.as_i256();
    let yi = y.as_i256();
    let mut logx_times_y = if LN_36_LOWER_BOUND < xi && xi < LN_36_UPPER_BOUND {
        let l36 = ln_36(xi)?;
        // Two 18-decimal multiplications: the integer part and the (downscaled) fractional part.
        let hi = mul(div(l36, ONE_18)?, yi)?;
        let lo = div(mul(l36 % ONE_18, yi)?, ONE_18)?;
        hi.add_c(lo)?
    } else {
        mul(ln_general(xi)?, yi)?
    };
    logx_times_y = div(logx_times_y, ONE_18)?;
    if logx_times_y < MIN_NATURAL_EXPONENT || logx_times_y > MAX_NATURAL_EXPONENT {
        return Err(MathError::OutOfDomain {
            func: "pow",
            value: logx_times_y.to_string(),
        });
    }
    Ok(exp(logx_times_y)?.as_u256())
}

/// `_ln`: 18-decimal logarithm through the tabulated `a_n`, for any `a > 0`.
fn ln_general(mut a: I256) -> MathResult<I256> {
    if a < ONE_18 {
        // ln(a) = −ln(1/a), with 1/a = 1e36 / a.
        return Ok(-ln_general(div(mul(ONE_18, ONE_18)?, a)?)?);
    }

    let mut sum = I256::ZERO;
    let a0 = a0();
    if a >= mul(a0, ONE_18)? {
        a = div(a, a0)?; // integer, not fixed-point, division
        sum += X0;
    }
    if a >= mul(A1, ONE_18)? {
        a = div(a, A1)?;
        sum += X1;
    }

    // To 20 decimals.
    sum = mul(sum, I256::new(100))?;
    a = mul(a, I256::new(100))?;

    for &(xn, an) in &X_A_20 {
        if a >= an {
            a = div(mul(a, ONE_20)?, an)?;
            sum = sum.add_c(xn)?;
        }
    }

    // a < a11 ≈ 1.06: z = (a − 1)/(a + 1), ln(a) = 2·(z + z³/3 + z⁵/5 + … + z¹¹/11).
    let z = div(mul(a.sub_c(ONE_20)?, ONE_20)?, a.add_c(ONE_20)?)?;
    let z_squared = div(mul(z, z)?, ONE_20)?;
    let mut num = z;
    let mut series_sum = num;
    for d in [3i128, 5, 7, 9, 11] {
        num = div(mul(num, z_squared)?, ONE_20)?;
        series_sum = series_sum.add_c(div(num, I256::new(d))?)?;
    }
    series_sum = mul(series_sum, I256::new(2))?;

    div(sum.add_c(series_sum)?, I256::new(100))
}

/// `_ln_36`: 36-decimal logarithm for 0.9 < x < 1.1 (returns 36 decimals).
fn ln_36(x: I256) -> MathResult<I256> {
    let x = mul(x, ONE_18)?;
    let z = div(mul(x.sub_c(ONE_36)?, ONE_36)?, x.add_c(ONE_36)?)?;
    let z_squared = div(mul(z, z)?, ONE_36)?;
    let mut num = z;
    let mut series_sum = num;
    for d in [3i128, 5, 7, 9, 11, 13, 15] {
        num = div(mul(num, z_squared)?, ONE_36)?;
        series_sum = series_sum.add_c(div(num, I256::new(d))?)?;
    }
    mul(series_sum, I256::new(2))
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]
mod tests {
    use super::*;

    fn w(v: i128) -> I256 {
        I256::new(v)
    }

    #[test]
    fn ln_of_one_point_zero_five_matches_the_spec_vector() {
        assert_eq!(ln(w(1_050_000_000_000_000_000)).unwrap(), w(48_790_164_169_432_003));
    }

    #[test]
    fn ln_of_one_is_zero_and_exp_of_zero_is_one() {
        assert_eq!(ln(ONE_18).unwrap(), I256::ZERO);
        assert_eq!(exp(I256::ZERO).unwrap(), ONE_18);
    }

    #[test]
    fn domain_limits_are_enforced_exactly() {
        assert!(exp(MAX_NATURAL_EXPONENT).is_ok());
        assert!(exp(MIN_NATURAL_EXPONENT).is_ok());
        assert_eq!(
            exp(MAX_NATURAL_EXPONENT + 1),
            Err(MathError::OutOfDomain {
                func: "exp",
                value: "130000000000000000001".into()
            })
        );
        assert_eq!(
            exp(MIN_NATURAL_EXPONENT - 1),
            Err(MathError::OutOfDomain {
                func: "exp",
                value: "-41000000000000000001".into()
            })
        );
        assert_eq!(
            ln(I256::ZERO),
            Err(MathError::OutOfDomain {
                func: "ln",
                value: "0".into()
            })
        );
        assert_eq!(
            ln(w(-5)),
            Err(MathError::OutOfDomain {
                func: "ln",
                value: "-5".into()
            })
        );
        assert!(ln(I256::MAX).is_ok());
        assert!(ln(I256::ONE).is_ok());
    }

    #[test]
    fn fast_mul_div_match_checked_i256_exactly() {
        let mut vals = vec![
            I256::ZERO,
            I256::ONE,
            I256::MINUS_ONE,
            I256::MAX,
            I256::MIN,
            I256::MIN + 1,
            I256::new(i128::MAX),
            I256::new(i128::MIN),
            I256::new(i128::MAX) + 1,
            I256::new(i128::MIN) - 1,
            I256::new(u64::MAX as i128),
            I256::new(u64::MAX as i128 + 1),
            ONE_18,
            ONE_20,
            ONE_36,
            a0(),
            A1,
            I256::new(7),
            I256::new(100),
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..400 {
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let hi = (u128::from(next()) << 64) | u128::from(next());
            let lo = (u128::from(next()) << 64) | u128::from(next());
            let shift = (next() % 256) as u32;
            let v = I256::from_words(hi as i128, lo as i128) >> shift;
            vals.push(v);
        }
        let extra: Vec<I256> = vals.iter().filter(|v| **v != I256::MIN).map(|v| -*v).collect();
        vals.extend(extra);
        for &a in &vals {
            for &b in &vals {
                assert_eq!(mul(a, b), a.mul_c(b), "{a} * {b}");
                assert_eq!(div(a, b), a.div_c(b), "{a} / {b}");
            }
        }
    }

    /// xorshift64: seeded, no crates needed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn u128(&mut self) -> u128 {
            (u128::from(self.next()) << 64) | u128::from(self.next())
        }
        /// Log-uniform in `[0, 2^128)`.
        fn log_uniform(&mut self) -> u128 {
            let shift = (self.next() % 128) as u32;
            self.u128() >> shift
        }
        fn below(&mut self, n: u128) -> u128 {
            self.u128() % n
        }
    }

    /// Every `b + k` for `|k| ≤ 1000` and `b·(1 ± ε)` for a few ε (clamped at 0).
    fn around(b: I256, out: &mut Vec<I256>) {
        for k in -1000i128..=1000 {
            out.push(b + I256::new(k));
        }
        for shift in [20u32, 30, 40, 50, 60] {
            let d = b >> shift;
            out.push(b + d);
            out.push(b - d);
        }
    }

    #[test]
    fn fast_ln_matches_the_i256_reference_on_300k_inputs_and_the_branch_bounds() {
        let mut inputs: Vec<I256> = Vec::new();
        let e18 = 1_000_000_000_000_000_000i128;
        let e36 = ONE_36;
        let mut bounds = vec![
            I256::ONE,
            I256::new(1000),
            LN_36_LOWER_BOUND,
            LN_36_UPPER_BOUND,
            ONE_18,
            e36,
            I256::from(fast::LN_FAST_MAX),
            I256::from(u128::MAX),
            I256::new(i128::MAX),
        ];
        // ln_general branches: a·100 ≥ a_n, directly and through the reciprocal 1e36/a.
        for &(_, an) in &X_A_20 {
            bounds.push(an / 100);
            bounds.push(ONE_20 * ONE_18 / an);
        }
        for b in bounds {
            around(b, &mut inputs);
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..300_000u32 {
            let a = match i % 4 {
                0 | 1 => I256::from(rng.log_uniform()),
                // The 36-decimal band and just outside it.
                2 => I256::new(850_000_000_000_000_000 + rng.below(3 * e18 as u128 / 10) as i128),
                // Beyond the fast path (reference on both sides).
                _ => I256::from_words(rng.below(1 << 100) as i128, rng.u128() as i128),
            };
            inputs.push(a);
        }
        assert!(inputs.len() > 300_000);
        for a in inputs {
            assert_eq!(ln(a), ln_reference(a), "ln({a})");
        }
    }

    #[test]
    fn fast_exp_matches_the_i256_reference_on_250k_inputs_and_the_branch_bounds() {
        let mut inputs: Vec<I256> = Vec::new();
        let mut bounds = vec![
            I256::ZERO,
            MIN_NATURAL_EXPONENT,
            MAX_NATURAL_EXPONENT,
            I256::from(fast::EXP_FAST_BOUND),
            -I256::from(fast::EXP_FAST_BOUND),
            X1,
            X0,
            ONE_18,
            -ONE_18,
        ];
        // x ≥ x_n branches (20 decimals): every partial sum of x2..x9, as 18-decimal inputs.
        for mask in 0u32..256 {
            let mut s = I256::ZERO;
            for (n, &(xn, _)) in X_A_20[..8].iter().enumerate() {
                if mask & (1 << n) != 0 {
                    s += xn;
                }
            }
            bounds.push(s / 100);
            bounds.push(-(s / 100));
        }
        for b in bounds {
            around(b, &mut inputs);
        }
        let mut rng = Rng(0xd1b5_4a32_d192_ed03);
        let span = (MAX_NATURAL_EXPONENT - MIN_NATURAL_EXPONENT).as_u128();
        for i in 0..250_000u32 {
            let x = if i % 2 == 0 {
                MIN_NATURAL_EXPONENT + I256::from(rng.below(span + 1))
            } else {
                let m = I256::from(rng.log_uniform() >> 60);
                if i % 4 == 1 {
                    m
                } else {
                    -m
                }
            };
            inputs.push(x);
        }
        assert!(inputs.len() > 250_000);
        for x in inputs {
            assert_eq!(exp(x), exp_reference(x), "exp({x})");
        }
    }

    #[test]
    fn a0_constant_is_e_to_the_128_as_tabulated() {
        assert_eq!(
            a0().to_string(),
            "38877084059945950922200000000000000000000000000000000000"
        );
    }

    #[test]
    fn pow_handles_zero_cases_and_square() {
        use crate::U256;
        let one = U256::from(1_000_000_000_000_000_000u128);
        assert_eq!(pow(U256::ZERO, U256::ZERO).unwrap(), one);
        assert_eq!(pow(U256::ZERO, one).unwrap(), U256::ZERO);
        // 2^2 ≈ 4 within a few wei of rounding.
        let four = pow(
            U256::from(2_000_000_000_000_000_000u128),
            U256::from(2_000_000_000_000_000_000u128),
        )
        .unwrap();
        let target = U256::from(4_000_000_000_000_000_000u128);
        let diff = if four > target { four - target } else { target - four };
        assert!(diff < U256::from(1_000u32), "{four}");
    }
}
