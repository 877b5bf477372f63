//! Unsigned 128-bit fast paths of [`super::ln`] and [`super::exp`].
//!
//! Same algorithm, same constants, same operation order as the `I256` reference in the parent
//! module, so every intermediate value is identical; only the representation differs:
//!
//! * Every value of the reference is tracked as a sign and a `u128` magnitude. Solidity's signed
//!   division truncates toward zero, which is exactly `sign·⌊|n|/d⌋` on magnitudes, and within one
//!   `ln_36` series every term has the sign of `z` (odd powers), so the signs never mix.
//! * Products that exceed 128 bits (`num·z²` in `ln_36`, `product·a_n` in `exp`, `a·1e20` in `ln`)
//!   are formed as exact 256-bit values ([`mul_wide`]) and divided exactly: by the constants
//!   1e18/1e20/1e36/100/n with reciprocal multiplication ([`Div64`], after shifting out the power
//!   of two), by the other divisors with a schoolbook 256/128 division ([`div_wide`]); every
//!   quotient provably fits 128 bits (and the Taylor/series terms below 2^64 use `u64` division by
//!   literal constants).
//! * Inputs whose intermediates could leave `u128` (`exp` of x ≥ 42e18, `ln` of a > 2^121) are not
//!   handled here: the callers fall back to the reference.
//!
//! The magnitude bounds that make each step fit are written next to it; the unit tests of the
//! parent module compare these paths with the reference on ≥ 500,000 inputs.

// Limb and magnitude arithmetic: the casts keep low words on purpose, and every signed value is
// a magnitude below 2^127 by the bounds stated at each function (checked by the differential
// tests against the I256 reference on every input class).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]

use crate::wide::{div_wide, mul_wide, shr_wide, Div64};

const E18: u128 = 1_000_000_000_000_000_000;
const E20: u128 = 100_000_000_000_000_000_000;
const E36: u128 = 1_000_000_000_000_000_000_000_000_000_000_000_000;

/// Exclusive upper bound of [`exp_non_negative`]: 42e18 (then `e^x·1e20 < 1.8e38 < 2^128`).
pub(super) const EXP_FAST_BOUND: u128 = 42 * E18;
/// Inclusive upper bound of [`ln`]'s argument (then `a·100 < 2^128`).
pub(super) const LN_FAST_MAX: u128 = u128::MAX / 100;

const LN_36_LOWER: u128 = 900_000_000_000_000_000;
const LN_36_UPPER: u128 = 1_100_000_000_000_000_000;

// Constant divisors by reciprocal multiplication (no division instructions). 1e20 = 2^20·5^20 and
// 1e36 = 2^36·5^18·5^18: for non-negative integers ⌊⌊n/p⌋/q⌋ = ⌊n/(p·q)⌋, so shifting out the
// power of two and dividing by the odd factors in turn gives exactly ⌊n/1e20⌋, ⌊n/1e36⌋.
const D5_18: Div64 = Div64::new(3_814_697_265_625);
const D5_20: Div64 = Div64::new(95_367_431_640_625);
const D_E18: Div64 = Div64::new(1_000_000_000_000_000_000);
const D100: Div64 = Div64::new(100);
/// `n` for n = 0..=15 (entry 0 unused).
const D_SMALL: [Div64; 16] = {
    let mut t = [Div64::new(1); 16];
    let mut n = 1;
    while n < 16 {
        t[n] = Div64::new(n as u64);
        n += 1;
    }
    t
};

/// `⌊n/1e20⌋`.
#[inline(always)]
fn div_e20(n: u128) -> u128 {
    D5_20.div_u128(n >> 20)
}

/// `⌊(hi·2^128 + lo)/1e20⌋` when the quotient fits 128 bits.
#[inline(always)]
fn div_e20_wide(hi: u128, lo: u128) -> u128 {
    if hi == 0 {
        return div_e20(lo);
    }
    let (h, l) = shr_wide(hi, lo, 20);
    D5_20.div_u256(h, l).1
}

/// `⌊(hi·2^128 + lo)/1e36⌋` when the quotient fits 128 bits.
#[inline(always)]
fn div_e36_wide(hi: u128, lo: u128) -> u128 {
    let (h, l) = if hi == 0 { (0, lo >> 36) } else { shr_wide(hi, lo, 36) };
    let (h, l) = if h == 0 {
        (0, D5_18.div_u128(l))
    } else {
        D5_18.div_u256(h, l)
    };
    if h == 0 {
        D5_18.div_u128(l)
    } else {
        D5_18.div_u256(h, l).1
    }
}

/// `(x_n, a_n)` with 20 decimals, n = 2..=11 (the parent's `X_A_20`).
const X_A_20: [(u128, u128); 10] = [
    (
        3_200_000_000_000_000_000_000,
        7_896_296_018_268_069_516_100_000_000_000_000,
    ),
    (1_600_000_000_000_000_000_000, 888_611_052_050_787_263_676_000_000),
    (800_000_000_000_000_000_000, 298_095_798_704_172_827_474_000),
    (400_000_000_000_000_000_000, 5_459_815_003_314_423_907_810),
    (200_000_000_000_000_000_000, 738_905_609_893_065_022_723),
    (100_000_000_000_000_000_000, 271_828_182_845_904_523_536),
    (50_000_000_000_000_000_000, 164_872_127_070_012_814_685),
    (25_000_000_000_000_000_000, 128_402_541_668_774_148_407),
    (12_500_000_000_000_000_000, 113_314_845_306_682_631_683),
    (6_250_000_000_000_000_000, 106_449_445_891_785_942_956),
];

/// `⌊a·b/d⌋` when the quotient is known to fit 128 bits.
#[inline]
fn mul_div(a: u128, b: u128, d: u128) -> u128 {
    let (hi, lo) = mul_wide(a, b);
    div_wide(hi, lo, d)
}

/// `e^x` (wad) for `0 ≤ x < EXP_FAST_BOUND`; the reference's `exp_non_negative` with
/// `first_an = 1` (x < 64e18).
#[inline]
pub(super) fn exp_non_negative(x: u128) -> u128 {
    debug_assert!(x < EXP_FAST_BOUND);
    // To 20 decimals: < 4.2e21.
    let mut x = x * 100;
    // product ≤ e^42·1e20 < 1.8e38 throughout; product·a_n is a 256-bit intermediate.
    let mut product = E20;
    for &(xn, an) in &X_A_20[..8] {
        if x >= xn {
            x -= xn;
            let (hi, lo) = mul_wide(product, an);
            product = div_e20_wide(hi, lo);
        }
    }
    // x < x9 = 2.5e19 now: x² < 6.25e38 may exceed 2^128 (256-bit), later term·x < 7.9e37.
    let (hi, lo) = mul_wide(x, x);
    let mut term = D_SMALL[2].div_u128(div_e20_wide(hi, lo));
    let mut series_sum = E20 + x + term;
    // From n = 3 on, term·x/1e20 < 3.2e18·2.5e19/1e20 < 2^64: divide by the literal n in u64
    // (a multiply-shift), unrolled so every divisor is a compile-time constant.
    macro_rules! taylor_terms {
        ($($n:literal),*) => {$(
            term = u128::from((div_e20(term * x) as u64) / $n);
            series_sum += term;
        )*};
    }
    taylor_terms!(3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    // product·series_sum/1e20 ≈ e^x·1e20 < 1.8e38: the quotient stays < 2^128.
    let (hi, lo) = mul_wide(product, series_sum);
    D100.div_u128(div_e20_wide(hi, lo))
}

/// `e^x` (wad) for a signed `|x| < EXP_FAST_BOUND` (negative x: `1e36 / e^(−x)`).
#[inline]
pub(super) fn exp(x: i128) -> Option<i128> {
    let m = x.unsigned_abs();
    if m >= EXP_FAST_BOUND {
        return None;
    }
    let e = exp_non_negative(m);
    // e ≥ 1e18 and e < 1.8e36 (x < 42e18): both results fit i128.
    let r = if x < 0 { E36 / e } else { e };
    i128::try_from(r).ok()
}

/// `_ln_36` magnitude: returns `(negative, |ln_36(x)|)` (36 decimals) for 0.9e18 < x < 1.1e18.
#[inline]
fn ln_36(x: u128) -> (bool, u128) {
    let x = x * E18; // (0.9e36, 1.1e36)
    let (neg, diff) = if x >= E36 { (false, x - E36) } else { (true, E36 - x) };
    // |z| < 1e35/1.9 < 5.3e34; z² < 2.8e69 and num·z² < 1.5e68 are 256-bit intermediates.
    let z = mul_div(diff, E36, x + E36);
    let (hi, lo) = mul_wide(z, z);
    let z_squared = div_e36_wide(hi, lo);
    let mut num = z;
    let mut series_sum = num;
    for d in [3usize, 5, 7, 9, 11, 13, 15] {
        let (hi, lo) = mul_wide(num, z_squared);
        num = div_e36_wide(hi, lo);
        series_sum += D_SMALL[d].div_u128(num);
    }
    (neg, series_sum * 2)
}

/// `_ln` for `1e18 ≤ a ≤ LN_FAST_MAX` (never reaches the `a0`/`a1` steps: `a < 2^128 < a1·1e18`).
#[inline]
fn ln_general(a: u128) -> u128 {
    debug_assert!((E18..=LN_FAST_MAX).contains(&a));
    let mut a = a * 100;
    let mut sum = 0u128;
    for &(xn, an) in &X_A_20 {
        if a >= an {
            // a·1e20 is 256-bit; the quotient is < a.
            a = mul_div(a, E20, an);
            sum += xn;
        }
    }
    // 1e20 ≤ a < a11 ≈ 1.0645e20: (a − 1e20)·1e20 < 6.5e38 may exceed 2^128, z < 3.2e18.
    let z = mul_div(a - E20, E20, a + E20);
    let z_squared = div_e20(z * z);
    let mut num = z;
    let mut series_sum = num;
    // num ≤ z < 3.2e18 < 2^64: divide by the literal d in u64.
    macro_rules! series_terms {
        ($($d:literal),*) => {$(
            num = div_e20(num * z_squared);
            series_sum += u128::from((num as u64) / $d);
        )*};
    }
    series_terms!(3, 5, 7, 9, 11);
    D100.div_u128(sum + series_sum * 2)
}

/// `ln(a)` (wad) for `0 < a ≤ LN_FAST_MAX`, else `None`.
#[inline]
pub(super) fn ln(a: u128) -> Option<i128> {
    if a == 0 || a > LN_FAST_MAX {
        return None;
    }
    let r = if LN_36_LOWER < a && a < LN_36_UPPER {
        let (neg, m) = ln_36(a);
        let q = D_E18.div_u128(m) as i128; // |ln| < 0.11e18
        if neg {
            -q
        } else {
            q
        }
    } else if a < E18 {
        // 1e36/a ∈ (1e18, 1e36]; ln(a) = −ln(1e36/a) (< 83e18 in magnitude).
        -(ln_general(E36 / a) as i128)
    } else {
        // < ln(2^121)·1e18 < 84e18.
        ln_general(a) as i128
    };
    Some(r)
}
