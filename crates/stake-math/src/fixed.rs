//! Unsigned fixed point: `mul_div` with a 512-bit intermediate, wad (1e18), ray (1e27), bps (1e4).
//!
//! Rounding is always named: `_down` floors, `_up` ceils, `half_up` rounds half away from zero
//! (Aave's `WadRayMath`/`PercentageMath`).

use crate::{Checked, MathError, MathResult, U256};

/// 1e18.
pub const WAD: U256 = U256::new(1_000_000_000_000_000_000);
/// 1e27.
pub const RAY: U256 = U256::new(1_000_000_000_000_000_000_000_000_000);
/// 1e9: ray / wad.
pub const WAD_RAY_RATIO: U256 = U256::new(1_000_000_000);
/// 1e4: basis points denominator (Aave's `PERCENTAGE_FACTOR`).
pub const BPS: U256 = U256::new(10_000);
/// Seconds in a 365-day year.
pub const SECONDS_PER_YEAR: u64 = 31_536_000;

/// Full 512-bit product `a·b` as `(hi, lo)`.
#[inline]
pub fn full_mul(a: U256, b: U256) -> (U256, U256) {
    let (a1, a0) = a.into_words();
    let (b1, b0) = b.into_words();
    if a1 == 0 && b1 == 0 {
        return (U256::ZERO, U256::from(a0) * U256::from(b0));
    }
    let p00 = U256::from(a0) * U256::from(b0);
    let p01 = U256::from(a0) * U256::from(b1);
    let p10 = U256::from(a1) * U256::from(b0);
    let p11 = U256::from(a1) * U256::from(b1);
    // middle = p01 + p10 (may carry into bit 256)
    let (mid, mid_carry) = p01.overflowing_add(p10);
    let (mid_hi, mid_lo) = mid.into_words();
    // lo = p00 + (mid_lo << 128)
    let (lo, c1) = p00.overflowing_add(U256::from_words(mid_lo, 0));
    let mut hi = p11 + U256::from(mid_hi);
    if mid_carry {
        hi += U256::from_words(1, 0);
    }
    if c1 {
        hi += U256::ONE;
    }
    (hi, lo)
}

/// Divides the 512-bit `(hi, lo)` by `d`; returns `(quotient, remainder)` or overflow if the
/// quotient does not fit 256 bits.
fn div_512(hi: U256, lo: U256, d: U256) -> MathResult<(U256, U256)> {
    if d == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    if hi == U256::ZERO {
        return Ok((lo / d, lo % d));
    }
    if hi >= d {
        return Err(MathError::Overflow);
    }
    let mut rem = hi;
    let mut q = U256::ZERO;
    for i in (0..256u32).rev() {
        let top = rem >> 255u32;
        rem = (rem << 1u32) | ((lo >> i) & U256::ONE);
        q <<= 1u32;
        if top != U256::ZERO || rem >= d {
            rem = rem.wrapping_sub(d);
            q |= U256::ONE;
        }
    }
    Ok((q, rem))
}

/// `⌊a·b/d⌋` with a 512-bit intermediate.
#[inline]
pub fn mul_div_down(a: U256, b: U256, d: U256) -> MathResult<U256> {
    if d == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    if let Some(p) = a.checked_mul(b) {
        return Ok(p / d);
    }
    let (hi, lo) = full_mul(a, b);
    div_512(hi, lo, d).map(|(q, _)| q)
}

/// `⌈a·b/d⌉` with a 512-bit intermediate.
#[inline]
pub fn mul_div_up(a: U256, b: U256, d: U256) -> MathResult<U256> {
    if d == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    let (q, r) = if let Some(p) = a.checked_mul(b) {
        (p / d, p % d)
    } else {
        let (hi, lo) = full_mul(a, b);
        div_512(hi, lo, d)?
    };
    if r == U256::ZERO {
        Ok(q)
    } else {
        q.add_c(U256::ONE)
    }
}

/// `⌊a·b/1e18⌋` (Solidity `mulWad`, OpenZeppelin `mulDiv(a, b, WAD)`).
#[inline]
pub fn mul_wad_down(a: U256, b: U256) -> MathResult<U256> {
    mul_div_down(a, b, WAD)
}
/// `⌈a·b/1e18⌉`.
#[inline]
pub fn mul_wad_up(a: U256, b: U256) -> MathResult<U256> {
    mul_div_up(a, b, WAD)
}
/// `⌊a·1e18/b⌋`.
#[inline]
pub fn div_wad_down(a: U256, b: U256) -> MathResult<U256> {
    mul_div_down(a, WAD, b)
}
/// `⌈a·1e18/b⌉`.
#[inline]
pub fn div_wad_up(a: U256, b: U256) -> MathResult<U256> {
    mul_div_up(a, WAD, b)
}

/// Aave `WadRayMath.wadMul`: `(a·b + WAD/2)/WAD`, overflow-checked as the contract.
#[inline]
pub fn wad_mul_half_up(a: U256, b: U256) -> MathResult<U256> {
    a.mul_c(b)?.add_c(WAD / 2)?.div_c(WAD)
}
/// Aave `WadRayMath.wadDiv`: `(a·WAD + b/2)/b`.
#[inline]
pub fn wad_div_half_up(a: U256, b: U256) -> MathResult<U256> {
    if b == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    a.mul_c(WAD)?.add_c(b / 2)?.div_c(b)
}
/// Aave `WadRayMath.rayMul`: `(a·b + RAY/2)/RAY`.
#[inline]
pub fn ray_mul_half_up(a: U256, b: U256) -> MathResult<U256> {
    a.mul_c(b)?.add_c(RAY / 2)?.div_c(RAY)
}
/// Aave `WadRayMath.rayDiv`: `(a·RAY + b/2)/b`.
#[inline]
pub fn ray_div_half_up(a: U256, b: U256) -> MathResult<U256> {
    if b == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    a.mul_c(RAY)?.add_c(b / 2)?.div_c(b)
}
/// `⌊a·b/RAY⌋` (Aave v3.5 `rayMulFloor`).
#[inline]
pub fn ray_mul_down(a: U256, b: U256) -> MathResult<U256> {
    a.mul_c(b)?.div_c(RAY)
}
/// `⌈a·b/RAY⌉` (Aave v3.5 `rayMulCeil`).
#[inline]
pub fn ray_mul_up(a: U256, b: U256) -> MathResult<U256> {
    a.mul_c(b)?.div_up_c(RAY)
}
/// `⌊a·RAY/b⌋` (Aave v3.5 `rayDivFloor`).
#[inline]
pub fn ray_div_down(a: U256, b: U256) -> MathResult<U256> {
    a.mul_c(RAY)?.div_c(b)
}
/// `⌈a·RAY/b⌉` (Aave v3.5 `rayDivCeil`).
#[inline]
pub fn ray_div_up(a: U256, b: U256) -> MathResult<U256> {
    a.mul_c(RAY)?.div_up_c(b)
}
/// Aave `WadRayMath.rayToWad`: `(a + 1e9/2)/1e9` (half up).
#[inline]
pub fn ray_to_wad_half_up(a: U256) -> MathResult<U256> {
    a.add_c(WAD_RAY_RATIO / 2)?.div_c(WAD_RAY_RATIO)
}
/// Aave `WadRayMath.wadToRay`: `a·1e9`.
#[inline]
pub fn wad_to_ray(a: U256) -> MathResult<U256> {
    a.mul_c(WAD_RAY_RATIO)
}
/// Aave `PercentageMath.percentMul`: `(v·p + 5000)/1e4` (half up), `p` in bps.
#[inline]
pub fn percent_mul_half_up(v: U256, p_bps: U256) -> MathResult<U256> {
    v.mul_c(p_bps)?.add_c(BPS / 2)?.div_c(BPS)
}
/// Aave `PercentageMath.percentDiv`: `(v·1e4 + p/2)/p` (half up), `p` in bps.
#[inline]
pub fn percent_div_half_up(v: U256, p_bps: U256) -> MathResult<U256> {
    if p_bps == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    v.mul_c(BPS)?.add_c(p_bps / 2)?.div_c(p_bps)
}
/// `⌊v·p/1e4⌋`, `p` in bps.
#[inline]
pub fn bps_mul_down(v: U256, p_bps: U256) -> MathResult<U256> {
    mul_div_down(v, p_bps, BPS)
}
/// `⌈v·p/1e4⌉`, `p` in bps (fees charged in the protocol's favour).
#[inline]
pub fn bps_mul_up(v: U256, p_bps: U256) -> MathResult<U256> {
    mul_div_up(v, p_bps, BPS)
}

/// Integer square root `⌊√x⌋` (Newton's method; the consensus-spec `integer_squareroot`).
pub fn isqrt(x: U256) -> U256 {
    if x < U256::new(2) {
        return x;
    }
    let (hi, lo) = x.into_words();
    if hi == 0 {
        return U256::from(isqrt_u128(lo));
    }
    // Initial guess: 2^(ceil(bits/2)) ≥ √x.
    let bits = 256 - x.leading_zeros();
    let mut y = U256::ONE << bits.div_ceil(2);
    loop {
        let z = (y + x / y) >> 1u32;
        if z >= y {
            return y;
        }
        y = z;
    }
}

/// Integer square root of a `u128`: Newton's method from a power-of-two guess ≥ √x.
pub fn isqrt_u128(x: u128) -> u128 {
    if x < 2 {
        return x;
    }
    let bits = 128 - x.leading_zeros();
    let mut y: u128 = 1 << bits.div_ceil(2);
    loop {
        let z = (y + x / y) >> 1;
        if z >= y {
            return y;
        }
        y = z;
    }
}

/// Integer square root of a `u64` (consensus-spec `integer_squareroot`).
pub fn isqrt_u64(x: u64) -> u64 {
    // √(2^64 − 1) < 2^32, so the root always fits.
    u64::try_from(isqrt_u128(u128::from(x))).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn big(s: &str) -> U256 {
        crate::parse_u256(s).unwrap()
    }

    #[test]
    fn mul_div_handles_512_bit_intermediates() {
        let max = U256::MAX;
        assert_eq!(mul_div_down(max, max, max).unwrap(), max);
        assert_eq!(mul_div_up(max, max, max).unwrap(), max);
        assert_eq!(mul_div_down(max, U256::new(2), U256::new(4)).unwrap(), max / 2);
        assert_eq!(mul_div_up(max, U256::new(2), U256::new(4)).unwrap(), max / 2 + 1);
        assert_eq!(mul_div_down(max, max, U256::ONE), Err(MathError::Overflow));
        assert_eq!(
            mul_div_down(U256::ONE, U256::ONE, U256::ZERO),
            Err(MathError::DivisionByZero)
        );
        // 2^200 * 3^100-ish vs hand value: (2^255)·6/(2^254) = 12
        let a = U256::ONE << 255u32;
        assert_eq!(
            mul_div_down(a, U256::new(6), U256::ONE << 254u32).unwrap(),
            U256::new(12)
        );
    }

    #[test]
    fn aave_half_up_rounding() {
        // rayMul(1.5 ray-wei…) : 1 * RAY/2 rounds half up to 1 (0.5 → 1)
        assert_eq!(ray_mul_half_up(U256::ONE, RAY / 2).unwrap(), U256::ONE);
        assert_eq!(ray_mul_down(U256::ONE, RAY / 2).unwrap(), U256::ZERO);
        assert_eq!(ray_mul_up(U256::ONE, RAY / 2 - 1).unwrap(), U256::ONE);
        assert_eq!(
            percent_mul_half_up(U256::new(10_001), U256::new(5_000)).unwrap(),
            U256::new(5_001)
        );
        assert_eq!(
            percent_mul_half_up(U256::new(10_000), U256::new(5_000)).unwrap(),
            U256::new(5_000)
        );
        assert_eq!(ray_to_wad_half_up(U256::new(1_500_000_000)).unwrap(), U256::new(2));
        assert_eq!(ray_div_half_up(U256::ONE, U256::ZERO), Err(MathError::DivisionByZero));
        assert_eq!(ray_mul_half_up(U256::MAX, RAY), Err(MathError::Overflow));
    }

    #[test]
    fn isqrt_matches_hand_values() {
        assert_eq!(isqrt(U256::ZERO), U256::ZERO);
        assert_eq!(isqrt(U256::new(15)), U256::new(3));
        assert_eq!(isqrt(U256::new(16)), U256::new(4));
        // √(32e6 ETH in gwei = 3.2e16) = 178885438.19...
        assert_eq!(isqrt_u64(32_000_000_000_000_000), 178_885_438);
        assert_eq!(isqrt(U256::MAX), big("340282366920938463463374607431768211455"));
    }

    proptest! {
        #[test]
        fn mul_div_agrees_with_u128_reference(a in any::<u64>(), b in any::<u64>(), d in 1u64..) {
            let exact = (a as u128) * (b as u128);
            let down = exact / d as u128;
            let up = exact.div_ceil(d as u128);
            prop_assert_eq!(mul_div_down(U256::from(a), U256::from(b), U256::from(d)).unwrap(), U256::from(down));
            prop_assert_eq!(mul_div_up(U256::from(a), U256::from(b), U256::from(d)).unwrap(), U256::from(up));
        }

        #[test]
        fn mul_div_512_is_consistent(a in any::<u128>(), a_hi in any::<u128>(), b in any::<u128>(), d in any::<u128>()) {
            // (a·2^128+a_hi)·b / d·2^128+... : check q·d + r == a·b via full_mul
            let x = U256::from_words(a_hi, a);
            let y = U256::from_words(b, a);
            let dd = U256::from_words(d | 1, a_hi | 1);
            if let Ok(q) = mul_div_down(x, y, dd) {
                let (h1, l1) = full_mul(q, dd);
                let (h2, l2) = full_mul(x, y);
                // q·d ≤ x·y < (q+1)·d
                prop_assert!((h1, l1) <= (h2, l2));
                let (l3, c) = l1.overflowing_add(dd);
                let h3 = h1 + U256::from(c as u8);
                prop_assert!((h3, l3) > (h2, l2));
            }
        }

        #[test]
        fn isqrt_u64_is_floor_root(x in any::<u64>()) {
            let r = isqrt_u64(x) as u128;
            prop_assert!(r * r <= x as u128 && (r + 1) * (r + 1) > x as u128);
        }

        #[test]
        fn isqrt_is_floor_root(x in any::<u128>(), hi in any::<u64>()) {
            let v = U256::from_words(hi as u128, x);
            let r = isqrt(v);
            prop_assert!(r * r <= v);
            let r1 = r + 1;
            prop_assert!(r1.checked_mul(r1).map(|s| s > v).unwrap_or(true));
        }
    }
}
