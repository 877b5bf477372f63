//! Bit-exact port of `LogExpMath` (Balancer v2, as used by Pendle v2): `ln` and `exp` on int256 wad.
//! (Implemented in the next commit.)

use crate::{MathError, MathResult, I256};

/// Natural logarithm of a positive wad.
pub fn ln(a: I256) -> MathResult<I256> {
    Err(MathError::OutOfDomain { func: "ln", value: a.to_string() })
}

/// `e^x` of a wad, −41e18 ≤ x ≤ 130e18.
pub fn exp(x: I256) -> MathResult<I256> {
    Err(MathError::OutOfDomain { func: "exp", value: x.to_string() })
}
