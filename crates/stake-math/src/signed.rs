//! Signed int256 wad arithmetic with Solidity's truncating division (Pendle `PMath`).

use crate::{MathError, MathResult, I256, U256};

/// 1e18 as a signed wad.
pub const IONE: I256 = I256::new(1_000_000_000_000_000_000);

/// `a·b/1e18`, truncating toward zero (Pendle `PMath.mulDown(int256,int256)`).
#[inline]
pub fn mul_wad_trunc(a: I256, b: I256) -> MathResult<I256> {
    crate::mul_then_div_trunc(a, b, IONE)
}

/// `a·1e18/b`, truncating toward zero (Pendle `PMath.divDown(int256,int256)`).
#[inline]
pub fn div_wad_trunc(a: I256, b: I256) -> MathResult<I256> {
    crate::mul_then_div_trunc(a, IONE, b)
}

/// Converts an unsigned value to signed, rejecting values ≥ 2^255 (Solidity `SafeCast.Int`).
#[inline]
pub fn to_signed(v: U256) -> MathResult<I256> {
    if v > U256::from_words(i128::MAX as u128, u128::MAX) {
        return Err(MathError::Overflow);
    }
    Ok(v.as_i256())
}

/// Converts a signed value to unsigned, rejecting negatives (Solidity `SafeCast.Uint`).
#[inline]
pub fn to_unsigned(v: I256) -> MathResult<U256> {
    if v < 0 {
        return Err(MathError::Underflow);
    }
    Ok(v.as_u256())
}

/// `|v|` as unsigned.
#[inline]
pub fn abs_u(v: I256) -> U256 {
    v.unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_toward_zero_like_solidity() {
        let a = I256::new(-3);
        assert_eq!(
            mul_wad_trunc(a, I256::new(500_000_000_000_000_000)).unwrap(),
            I256::new(-1)
        );
        assert_eq!(div_wad_trunc(I256::new(-1), I256::new(3) * IONE).unwrap(), I256::new(0));
        assert_eq!(div_wad_trunc(IONE, I256::ZERO), Err(MathError::DivisionByZero));
        assert_eq!(to_unsigned(I256::new(-1)), Err(MathError::Underflow));
        assert_eq!(to_signed(U256::MAX), Err(MathError::Overflow));
        assert_eq!(mul_wad_trunc(I256::MAX, I256::new(2)), Err(MathError::Overflow));
    }
}
