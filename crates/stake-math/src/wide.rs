//! 128 × 128 → 256-bit products and 256 / 128-bit divisions on `u128` words, and the
//! `a·b/d` helpers built on them that reproduce `a.mul_c(b)?.div_c(d)` exactly while skipping
//! `ethnum`'s general 256-bit multiplication and division whenever the operands fit 128 bits.

// Limb arithmetic: every `as u64` here keeps the low 64 bits of a word on purpose (the high bits
// are carried separately), which is what splitting a word into limbs means.
#![allow(clippy::cast_possible_truncation)]

use crate::{Checked, MathResult, I256, U256};

const M64: u128 = u64::MAX as u128;

/// Exact 256-bit product `a·b` as `(high, low)` 128-bit words (four 64-bit partial products).
#[inline]
pub(crate) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & M64);
    let (b1, b0) = (b >> 64, b & M64);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // < 3·2^64: cannot overflow.
    let mid = (p00 >> 64) + (p01 & M64) + (p10 & M64);
    let lo = (mid << 64) | (p00 & M64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `⌊(hi·2^128 + lo)/d⌋` for `d > 0` and `hi < d` (so the quotient fits 128 bits): Knuth's
/// algorithm D with 64-bit digits (Hacker's Delight `divlu`, words widened to 128 bits).
#[inline]
pub(crate) fn div_wide(hi: u128, lo: u128, d: u128) -> u128 {
    debug_assert!(d > 0 && hi < d);
    if hi == 0 {
        return lo / d;
    }
    // hi < d and hi > 0, so d > 1 and the normalising shift is < 127.
    let s = d.leading_zeros();
    let v = d << s;
    let (vn1, vn0) = (v >> 64, v & M64);
    let un32 = if s == 0 { hi } else { (hi << s) | (lo >> (128 - s)) };
    let un10 = lo << s;
    let (un1, un0) = (un10 >> 64, un10 & M64);

    let mut q1 = un32 / vn1;
    let mut rhat = un32 - q1 * vn1;
    while q1 > M64 || q1 * vn0 > ((rhat << 64) | un1) {
        q1 -= 1;
        rhat += vn1;
        if rhat > M64 {
            break;
        }
    }
    // The true value un32·2^64 + un1 − q1·v is < v < 2^128: compute it modulo 2^128.
    let un21 = ((un32 << 64) | un1).wrapping_sub(q1.wrapping_mul(v));

    let mut q0 = un21 / vn1;
    rhat = un21 - q0 * vn1;
    while q0 > M64 || q0 * vn0 > ((rhat << 64) | un0) {
        q0 -= 1;
        rhat += vn1;
        if rhat > M64 {
            break;
        }
    }
    (q1 << 64) | q0
}

/// A divisor `0 < d < 2^64` prepared for division without hardware division instructions:
/// Möller & Granlund, "Improved division by invariant integers" (2011), algorithm 4 (`div_2by1`
/// with the precomputed reciprocal `v = ⌊(2^128 − 1)/d'⌋ − 2^64` of the normalised `d' = d·2^s`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Div64 {
    d: u64,
    v: u64,
    s: u32,
}

impl Div64 {
    /// Prepares `d` (must be > 0; compile-time constants only).
    pub(crate) const fn new(d: u64) -> Self {
        let s = d.leading_zeros();
        let dn = d << s;
        let v = (u128::MAX / dn as u128 - (1u128 << 64)) as u64;
        Div64 { d: dn, v, s }
    }

    /// `(⌊(u1·2^64 + u0)/d'⌋, remainder)` for `u1 < d'`.
    #[inline(always)]
    fn div_2by1(self, u1: u64, u0: u64) -> (u64, u64) {
        let q = u128::from(self.v) * u128::from(u1);
        let q = q.wrapping_add((u128::from(u1) << 64) | u128::from(u0));
        let mut q1 = ((q >> 64) as u64).wrapping_add(1);
        let q0 = q as u64;
        let mut r = u0.wrapping_sub(q1.wrapping_mul(self.d));
        if r > q0 {
            q1 = q1.wrapping_sub(1);
            r = r.wrapping_add(self.d);
        }
        if r >= self.d {
            q1 = q1.wrapping_add(1);
            r = r.wrapping_sub(self.d);
        }
        (q1, r)
    }

    /// `⌊n/d⌋`.
    #[inline(always)]
    pub(crate) fn div_u128(self, n: u128) -> u128 {
        let (n2, n1, n0) = if self.s == 0 {
            (0, (n >> 64) as u64, n as u64)
        } else {
            let m = n << self.s;
            ((n >> (128 - self.s)) as u64, (m >> 64) as u64, m as u64)
        };
        // n2 < 2^s ≤ d' (d' ≥ 2^63). A dividend below d'·2^64 has a zero high quotient digit.
        let (q1, r) = if n2 == 0 && n1 < self.d {
            (0, n1)
        } else {
            self.div_2by1(n2, n1)
        };
        let (q0, _) = self.div_2by1(r, n0);
        (u128::from(q1) << 64) | u128::from(q0)
    }

    /// `⌊(hi·2^128 + lo)/d⌋` as `(high, low)` words.
    #[inline(always)]
    pub(crate) fn div_u256(self, hi: u128, lo: u128) -> (u128, u128) {
        let limbs = [(hi >> 64) as u64, hi as u64, (lo >> 64) as u64, lo as u64];
        let s = self.s;
        // Top digit of the normalised dividend (< 2^s ≤ d'), then the four shifted digits.
        let mut r = if s == 0 { 0 } else { limbs[0] >> (64 - s) };
        let mut q = [0u64; 4];
        for i in 0..4 {
            let next = if i + 1 < 4 && s != 0 {
                limbs[i + 1] >> (64 - s)
            } else {
                0
            };
            let digit = if s == 0 { limbs[i] } else { (limbs[i] << s) | next };
            if r == 0 && digit < self.d {
                // Leading zero quotient digit.
                r = digit;
                continue;
            }
            let (qi, ri) = self.div_2by1(r, digit);
            q[i] = qi;
            r = ri;
        }
        (
            (u128::from(q[0]) << 64) | u128::from(q[1]),
            (u128::from(q[2]) << 64) | u128::from(q[3]),
        )
    }
}

/// `(hi·2^128 + lo) >> k` for `0 < k < 128`.
#[inline(always)]
pub(crate) fn shr_wide(hi: u128, lo: u128, k: u32) -> (u128, u128) {
    (hi >> k, (lo >> k) | (hi << (128 - k)))
}

/// `⌊a·b/d⌋` on `u128` operands, `None` if `d == 0` or the quotient needs more than 128 bits.
#[inline]
pub(crate) fn mul_div_u128(a: u128, b: u128, d: u128) -> Option<u128> {
    let (hi, lo) = mul_wide(a, b);
    if d == 0 || hi >= d {
        return None;
    }
    Some(div_wide(hi, lo, d))
}

/// `a·b/d` with the product checked in 256 bits and the quotient floored: exactly
/// `a.mul_c(b)?.div_c(d)` (same value, same error), computed with 128-bit words when `a`, `b`
/// and `d` are below 2^128 (then the product cannot overflow).
///
/// Specification:
/// - fails with `Overflow` if `a·b ≥ 2^256`, with `DivisionByZero` if `d == 0`.
#[inline]
pub fn mul_then_div(a: U256, b: U256, d: U256) -> MathResult<U256> {
    let (ah, al) = a.into_words();
    let (bh, bl) = b.into_words();
    let (dh, dl) = d.into_words();
    if ah == 0 && bh == 0 && dh == 0 {
        if let Some(q) = mul_div_u128(al, bl, dl) {
            return Ok(U256::from_words(0, q));
        }
    }
    a.mul_c(b)?.div_c(d)
}

/// `|x|` when it is below 2^128.
#[inline]
fn small_abs(x: I256) -> Option<u128> {
    let (hi, lo) = x.unsigned_abs().into_words();
    if hi == 0 {
        Some(lo)
    } else {
        None
    }
}

/// Signed `a·b/d` truncating toward zero (Solidity `int256`): exactly `a.mul_c(b)?.div_c(d)`
/// (same value, same error), on 128-bit magnitudes when `|a|`, `|b|`, `|d|` are below 2^128.
///
/// Specification:
/// - fails with `Overflow` if `a·b` leaves the int256 range, with `DivisionByZero` if `d == 0`.
#[inline]
pub fn mul_then_div_trunc(a: I256, b: I256, d: I256) -> MathResult<I256> {
    if let (Some(am), Some(bm), Some(dm)) = (small_abs(a), small_abs(b), small_abs(d)) {
        let (hi, lo) = mul_wide(am, bm);
        // |a·b| < 2^255: no int256 overflow (else the reference reports it); the quotient must
        // fit 128 bits for the 256/128 division.
        if hi >> 127 == 0 && dm != 0 && hi < dm {
            let q = I256::from(div_wide(hi, lo, dm));
            let negative = (a < 0) ^ (b < 0) ^ (d < 0);
            // A zero product (a or b zero) gives q = 0, whose negation is 0 again.
            return Ok(if negative { -q } else { q });
        }
    }
    a.mul_c(b)?.div_c(d)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        fn log_uniform(&mut self) -> u128 {
            let shift = (self.next() % 128) as u32;
            self.u128() >> shift
        }
        fn below(&mut self, n: u128) -> u128 {
            self.u128() % n
        }
        /// A signed value of log-uniform magnitude up to 2^130 (so some leave the fast path).
        fn signed(&mut self) -> I256 {
            let m = I256::from(self.log_uniform()) << (self.next() % 3) as u32;
            if self.next() & 1 == 0 {
                m
            } else {
                -m
            }
        }
    }

    #[test]
    fn fast_256_by_128_arithmetic_matches_u256() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for i in 0..200_000u32 {
            let (a, b) = if i % 3 == 0 {
                (rng.u128(), rng.u128())
            } else {
                (rng.log_uniform(), rng.log_uniform())
            };
            let (hi, lo) = mul_wide(a, b);
            let p = U256::from(a) * U256::from(b);
            assert_eq!(U256::from_words(hi, lo), p, "{a} * {b}");
            let mut d = if i % 2 == 0 { rng.log_uniform() } else { rng.u128() };
            if d <= hi {
                d = hi.saturating_add(1 + rng.below(1_000));
                if d <= hi {
                    continue;
                }
            }
            let q = div_wide(hi, lo, d);
            assert_eq!(U256::from(q), p / U256::from(d), "{p} / {d}");
        }
        // Boundary divisors: powers of two, 2^k ± 1, and the maximal dividend for each.
        for k in 1..128u32 {
            for d in [(1u128 << k) - 1, 1u128 << k, (1u128 << k) + 1, u128::MAX] {
                let hi = d - 1;
                for lo in [0, 1, u128::MAX, u128::MAX - 1, 1u128 << 127] {
                    let q = div_wide(hi, lo, d);
                    let n = U256::from_words(hi, lo);
                    assert_eq!(U256::from(q), n / U256::from(d), "{n} / {d}");
                }
            }
        }
    }

    #[test]
    fn reciprocal_division_by_64_bit_constants_matches_u256_division() {
        let mut rng = Rng(0x5851_f42d_4c95_7f2d);
        let mut divisors: Vec<u64> = vec![1, 2, 3, 5, 7, 9, 11, 12, 13, 15, 100, 1 << 63, u64::MAX, u64::MAX - 1];
        divisors.push(5u64.pow(18));
        divisors.push(5u64.pow(20));
        divisors.push(1_000_000_000_000_000_000);
        for _ in 0..200 {
            divisors.push((rng.next() >> (rng.next() % 64)).max(1));
        }
        for &d in &divisors {
            let dv = Div64::new(d);
            let mut ns = vec![0u128, 1, u128::MAX, u128::from(d), u128::from(d) - 1, u128::MAX - 1];
            for _ in 0..500 {
                ns.push(rng.log_uniform());
            }
            for &n in &ns {
                assert_eq!(dv.div_u128(n), n / u128::from(d), "{n} / {d}");
                let hi = rng.log_uniform();
                let (qh, ql) = dv.div_u256(hi, n);
                assert_eq!(
                    U256::from_words(qh, ql),
                    U256::from_words(hi, n) / U256::from(d),
                    "{hi}:{n} / {d}"
                );
            }
        }
        for k in 1..128u32 {
            let (hi, lo) = (rng.u128(), rng.u128());
            let (h, l) = shr_wide(hi, lo, k);
            assert_eq!(U256::from_words(h, l), U256::from_words(hi, lo) >> k);
        }
    }

    #[test]
    fn mul_then_div_helpers_equal_checked_mul_then_div_on_600k_inputs() {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        let edges = [
            I256::ZERO,
            I256::ONE,
            I256::MINUS_ONE,
            I256::new(i128::MAX),
            I256::new(i128::MIN),
            I256::from(u128::MAX),
            -I256::from(u128::MAX),
            I256::from(u128::MAX) + I256::ONE,
            I256::ONE << 127,
            (I256::ONE << 127) - I256::ONE,
            I256::MAX,
            I256::MIN,
            I256::new(1_000_000_000_000_000_000),
        ];
        for &a in &edges {
            for &b in &edges {
                for &d in &edges {
                    assert_eq!(mul_then_div_trunc(a, b, d), a.mul_c(b).and_then(|p| p.div_c(d)));
                    let (au, bu, du) = (a.as_u256(), b.as_u256(), d.as_u256());
                    assert_eq!(mul_then_div(au, bu, du), au.mul_c(bu).and_then(|p| p.div_c(du)));
                }
            }
        }
        for i in 0..300_000u32 {
            let (a, b) = (rng.signed(), rng.signed());
            let d = match i % 5 {
                0 => I256::new(1_000_000_000_000_000_000),
                1 => I256::ZERO,
                _ => rng.signed(),
            };
            assert_eq!(
                mul_then_div_trunc(a, b, d),
                a.mul_c(b).and_then(|p| p.div_c(d)),
                "{a}*{b}/{d}"
            );
            let (au, bu, du) = (a.unsigned_abs(), b.unsigned_abs(), d.unsigned_abs());
            assert_eq!(
                mul_then_div(au, bu, du),
                au.mul_c(bu).and_then(|p| p.div_c(du)),
                "{au}*{bu}/{du}"
            );
        }
    }
}
