//! ABDK 64.64 fixed point as `yieldspace-tv` uses it: `Math64x64` (signed 64.64 in an `int128`) and
//! `Exp64x64` (the normalised power `pow(x, y, z) = x^(y/z)·(2^127)^(1 − y/z)` on `uint128`, with its
//! own `log_2` and `pow_2`). Every function computes what the Solidity library computes, bit for bit,
//! including its `unchecked` wrap-arounds; every bare `require` of the library is an
//! [`AbdkRevert`] value naming the function, never a panic.
//!
//! Representation: an `int128` is an [`i128`], a `uint128` a [`u128`], a `uint256` a [`U256`]; the
//! contract's reinterpreting casts (`uint128(int128)`, `int128(uint128)`) are [`to_u128_bits`] and
//! [`to_i128_bits`], its truncating `uint128(uint256)` is [`low_u128`].

use stake_math::{I256, U256};
use std::fmt;

/// 1.0 in 64.64.
pub const ONE: i128 = 1 << 64;
/// Smallest 64.64 value (`MIN_64x64`).
pub const MIN_64X64: i128 = i128::MIN;
/// Largest 64.64 value (`MAX_64x64`).
pub const MAX_64X64: i128 = i128::MAX;

/// A bare `require` of `Math64x64` / `Exp64x64` failed (the Solidity call reverts with empty data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbdkRevert {
    /// The library function that reverted, e.g. `"Math64x64.divu"`.
    pub func: &'static str,
}

impl fmt::Display for AbdkRevert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} reverted", self.func)
    }
}

/// Result of a 64.64 operation.
pub type AbdkResult<T> = Result<T, AbdkRevert>;

fn require(cond: bool, func: &'static str) -> AbdkResult<()> {
    if cond {
        Ok(())
    } else {
        Err(AbdkRevert { func })
    }
}

/// `uint128(x)` of an `int128`: the same 128 bits read as unsigned (two's complement).
pub fn to_u128_bits(x: i128) -> u128 {
    u128::from_ne_bytes(x.to_ne_bytes())
}

/// `int128(x)` of a `uint128`: the same 128 bits read as signed (two's complement).
pub fn to_i128_bits(x: u128) -> i128 {
    i128::from_ne_bytes(x.to_ne_bytes())
}

/// `uint128(x)` of a `uint256`: the low 128 bits (Solidity's truncating cast).
pub fn low_u128(x: U256) -> u128 {
    *x.low()
}

/// A non-negative `int128` as a `uint256` (callers check `x ≥ 0` first, as the library does).
fn nonneg_u256(x: i128) -> U256 {
    U256::from(to_u128_bits(x))
}

/// An `int256` known to lie in the 64.64 range, as an `int128`.
fn i256_to_i128(x: I256, func: &'static str) -> AbdkResult<i128> {
    i128::try_from(x).map_err(|_| AbdkRevert { func })
}

/// `Math64x64.fromUInt`: `x << 64`, requires `x ≤ 2^63 − 1`.
pub fn from_uint(x: u128) -> AbdkResult<i128> {
    require(x <= 0x7FFF_FFFF_FFFF_FFFF, "Math64x64.fromUInt")?;
    i128::try_from(x << 64).map_err(|_| AbdkRevert {
        func: "Math64x64.fromUInt",
    })
}

/// `Math64x64.add`: `x + y`, reverts outside the 64.64 range.
pub fn add(x: i128, y: i128) -> AbdkResult<i128> {
    x.checked_add(y).ok_or(AbdkRevert { func: "Math64x64.add" })
}

/// `Math64x64.sub`: `x − y`, reverts outside the 64.64 range.
pub fn sub(x: i128, y: i128) -> AbdkResult<i128> {
    x.checked_sub(y).ok_or(AbdkRevert { func: "Math64x64.sub" })
}

/// `Math64x64.mul`: `(x·y) >> 64` (arithmetic shift, rounds toward −∞), reverts outside the range.
pub fn mul(x: i128, y: i128) -> AbdkResult<i128> {
    let product = I256::from(x) * I256::from(y);
    i256_to_i128(product >> 64, "Math64x64.mul")
}

/// `Math64x64.mulu`: `⌊x·y⌋` of a non-negative 64.64 `x` and an unsigned 256-bit `y`, as a `uint256`.
pub fn mulu(x: i128, y: U256) -> AbdkResult<U256> {
    const FUNC: &str = "Math64x64.mulu";
    if y == U256::ZERO {
        return Ok(U256::ZERO);
    }
    require(x >= 0, FUNC)?;
    let xu = nonneg_u256(x);
    let mask128 = U256::from(u128::MAX);
    // x < 2^127 and both halves of y < 2^128: neither product wraps.
    let lo = (xu * (y & mask128)) >> 64;
    let mut hi = xu * (y >> 128);
    require(hi <= (U256::ONE << 192) - U256::ONE, FUNC)?;
    hi <<= 64;
    require(hi <= U256::MAX - lo, FUNC)?;
    Ok(hi + lo)
}

/// `Math64x64.div`: `(x << 64) / y` truncated toward zero, reverts on `y = 0` or out of range.
pub fn div(x: i128, y: i128) -> AbdkResult<i128> {
    const FUNC: &str = "Math64x64.div";
    require(y != 0, FUNC)?;
    // |x << 64| < 2^191: the quotient never overflows an int256.
    let q = (I256::from(x) << 64) / I256::from(y);
    i256_to_i128(q, FUNC)
}

/// `Math64x64.divu`: `x / y` of two unsigned 256-bit integers as a 64.64 number (rounded down).
pub fn divu(x: U256, y: U256) -> AbdkResult<i128> {
    const FUNC: &str = "Math64x64.divu";
    require(y != U256::ZERO, FUNC)?;
    let result = divuu(x, y)?;
    require(result <= to_u128_bits(MAX_64X64), FUNC)?;
    Ok(to_i128_bits(result))
}

/// `Math64x64.divuu`: `⌊x·2^64 / y⌋` as a `uint128`, with ABDK's long division for `x ≥ 2^192`.
pub fn divuu(x: U256, y: U256) -> AbdkResult<u128> {
    const FUNC: &str = "Math64x64.divuu";
    require(y != U256::ZERO, FUNC)?;
    let mut result: U256;
    if x <= (U256::ONE << 192) - U256::ONE {
        result = (x << 64) / y;
    } else {
        // msb of x, searched from bit 192 up, as the library does.
        let mut msb: u32 = 192;
        let mut xc = x >> 192;
        for (limit, shift) in [
            (1u64 << 32, 32u32),
            (1 << 16, 16),
            (1 << 8, 8),
            (1 << 4, 4),
            (1 << 2, 2),
        ] {
            if xc >= U256::from(limit) {
                xc >>= shift;
                msb += shift;
            }
        }
        if xc >= U256::from(2u8) {
            msb += 1;
        }
        result = (x << (255 - msb)) / (((y - U256::ONE) >> (msb - 191)) + U256::ONE);
        require(result <= U256::from(u128::MAX), FUNC)?;
        let hi = result.wrapping_mul(y >> 128);
        let mut lo = result.wrapping_mul(y & U256::from(u128::MAX));
        let mut xh: U256 = x >> 192;
        let mut xl: U256 = x << 64;
        if xl < lo {
            xh = xh.wrapping_sub(U256::ONE);
        }
        xl = xl.wrapping_sub(lo);
        lo = hi << 128;
        if xl < lo {
            xh = xh.wrapping_sub(U256::ONE);
        }
        xl = xl.wrapping_sub(lo);
        result = result.wrapping_add(if xh == hi >> 128 { xl / y } else { U256::ONE });
    }
    u128::try_from(result).map_err(|_| AbdkRevert { func: FUNC })
}

/// `Math64x64.log_2`: binary logarithm of a positive 64.64 number.
pub fn log_2(x: i128) -> AbdkResult<i128> {
    require(x > 0, "Math64x64.log_2")?;
    let mut msb: i128 = 0;
    let mut xc = x;
    for shift in [64u32, 32, 16, 8, 4, 2] {
        if xc >= (1i128 << shift) {
            xc >>= shift;
            msb += i128::from(shift);
        }
    }
    if xc >= 2 {
        msb += 1;
    }
    let mut result: i128 = (msb - 64) << 64;
    // 0 ≤ msb ≤ 126, so the shift is in 1..=127.
    let shift = u32::try_from(127 - msb).map_err(|_| AbdkRevert {
        func: "Math64x64.log_2",
    })?;
    let mut ux = nonneg_u256(x) << shift;
    let mut bit: i128 = 0x8000_0000_0000_0000;
    while bit > 0 {
        ux = ux * ux; // ux < 2^128
        let b = ux >> 255;
        ux >>= 127 + u32::from(b == U256::ONE);
        if b == U256::ONE {
            result += bit;
        }
        bit >>= 1;
    }
    Ok(result)
}

/// `Math64x64.exp_2`: `2^x` of a 64.64 number (0 below −64, reverts at 64 and above).
pub fn exp_2(x: i128) -> AbdkResult<i128> {
    const FUNC: &str = "Math64x64.exp_2";
    require(x < 0x40_0000_0000_0000_0000, FUNC)?;
    if x < -0x40_0000_0000_0000_0000 {
        return Ok(0);
    }
    let mut result = U256::ONE << 127;
    for (k, (frac, below_floor)) in EXP_2_FACTORS.iter().enumerate() {
        // Factor for bit 63 − k of x: 2^(2^−(k+1)) in 128.128.
        if x & (1i128 << (63 - k)) != 0 {
            let factor = (U256::ONE << 128) + U256::from(*frac) - U256::from(*below_floor);
            result = (result * factor) >> 128;
        }
    }
    // 63 − (x >> 64) is in 0..=127 for the accepted range of x.
    let shift = u32::try_from(63 - (x >> 64)).map_err(|_| AbdkRevert { func: FUNC })?;
    result >>= shift;
    require(result <= nonneg_u256(MAX_64X64), FUNC)?;
    i128::try_from(result).map_err(|_| AbdkRevert { func: FUNC })
}

/// `Exp64x64.pow(int128 x, int128 y)`: `x^y = 2^(y·log₂ x)` in 64.64.
pub fn pow_64x64(x: i128, y: i128) -> AbdkResult<i128> {
    exp_2(mul(y, log_2(x)?)?)
}

/// `Exp64x64.pow(uint128 x, uint128 y, uint128 z)`: `x^(y/z)·(2^127)^(1 − y/z)`, the normalised
/// power that keeps `(a·x^α + b·y^α)^(1/α)` in range.
pub fn pow(x: u128, y: u128, z: u128) -> AbdkResult<u128> {
    const FUNC: &str = "Exp64x64.pow";
    require(z != 0, FUNC)?;
    if x == 0 {
        require(y != 0, FUNC)?;
        return Ok(0);
    }
    let l = U256::from(u128::MAX - log_2_u(x)?) * U256::from(y) / U256::from(z);
    match u128::try_from(l) {
        Ok(l) => Ok(pow_2(u128::MAX - l)),
        Err(_) => Ok(0),
    }
}

/// `Exp64x64.log_2(uint128)`: `log₂ x` of an unsigned integer, times 2^121.
pub fn log_2_u(x: u128) -> AbdkResult<u128> {
    require(x != 0, "Exp64x64.log_2")?;
    let mut b = U256::from(x);
    let mut l: u128 = 0xFE00_0000_0000_0000_0000_0000_0000_0000;
    // Normalise b into [2^127, 2^128), taking the shifted-out powers off l.
    for (limit_bit, shift, cost) in [
        (64u32, 64u32, 127u32),
        (96, 32, 126),
        (112, 16, 125),
        (120, 8, 124),
        (124, 4, 123),
        (126, 2, 122),
        (127, 1, 121),
    ] {
        if b < (U256::ONE << limit_bit) {
            l -= 1u128 << cost;
            b <<= shift;
        }
    }
    // Fractional bits 2^120 … 2^64 by repeated squaring.
    for bit in (64..=120u32).rev() {
        b = (b * b) >> 127;
        if b >= (U256::ONE << 128) {
            b >>= 1;
            l |= 1u128 << bit;
        }
    }
    Ok(l)
}

/// `Exp64x64.pow_2(uint128)`: `2^(x / 2^121)` scaled so that `x = 2^128 − 1` gives `2^128 − 1`-ish
/// (`r = 2^127·2^frac >> (127 − ⌊x / 2^121⌋)`).
pub fn pow_2(x: u128) -> u128 {
    let mut r = U256::ONE << 127;
    for (i, factor) in POW_2_FACTORS.iter().enumerate() {
        if x & (1u128 << (120 - i)) != 0 {
            r = (r * U256::from(*factor)) >> 127;
        }
    }
    // x >> 121 ≤ 127.
    let shift = 127 - u32::try_from(x >> 121).unwrap_or(127);
    r >>= shift;
    // r < 2^128 (a product of factors in [1, 2) times 2^127).
    low_u128(r)
}

/// Factors of `Exp64x64.pow_2`: entry `i` is `⌊2^(2^−(i+1))·2^127⌋` (equal to the library's table).
#[rustfmt::skip]
const POW_2_FACTORS: [u128; 57] = [
    0xb504f333f9de6484597d89b3754abe9f,
    0x9837f0518db8a96f46ad23182e42f6f6,
    0x8b95c1e3ea8bd6e6fbe4628758a53c90,
    0x85aac367cc487b14c5c95b8c2154c1b2,
    0x82cd8698ac2ba1d73e2a475b46520bff,
    0x8164d1f3bc0307737be56527bd14def4,
    0x80b1ed4fd999ab6c25335719b6e6fd20,
    0x8058d7d2d5e5f6b094d589f608ee4aa2,
    0x802c6436d0e04f50ff8ce94a6797b3ce,
    0x8016302f174676283690dfe44d11d008,
    0x800b179c82028fd0945e54e2ae18f2f0,
    0x80058baf7fee3b5d1c718b38e549cb93,
    0x8002c5d00fdcfcb6b6566a58c048be1f,
    0x800162e61bed4a48e84c2e1a463473d9,
    0x8000b17292f702a3aa22beacca949013,
    0x800058b92abbae02030c5fa5256f41fe,
    0x80002c5c8dade4d71776c0f4dbea67d6,
    0x8000162e44eaf636526be456600bdbe4,
    0x80000b1721fa7c188307016c1cd4e8b6,
    0x8000058b90de7e4cecfc487503488bb1,
    0x800002c5c8678f36cbfce50a6de60b14,
    0x80000162e431db9f80b2347b5d62e516,
    0x800000b1721872d0c7b08cf1e0114152,
    0x80000058b90c1aa8a5c3736cb77e8dff,
    0x8000002c5c8605a4635f2efc2362d978,
    0x800000162e4300e635cf4a109e3939bd,
    0x8000000b17217ff81bef9c551590cf83,
    0x800000058b90bfdd4e39cd52c0cfa27c,
    0x80000002c5c85fe6f72d669e0e76e411,
    0x8000000162e42ff18f9ad35186d0df28,
    0x80000000b17217f84cce71aa0dcfffe7,
    0x8000000058b90bfc07a77ad56ed22aaa,
    0x800000002c5c85fdfc23cdead40da8d6,
    0x80000000162e42fefc25eb1571853a66,
    0x800000000b17217f7d97f692baacded5,
    0x80000000058b90bfbead3b8b5dd254d7,
    0x8000000002c5c85fdf4eedd62f084e67,
    0x800000000162e42fefa58aef378bf586,
    0x8000000000b17217f7d24a78a3c7ef02,
    0x800000000058b90bfbe9067c93e474a6,
    0x80000000002c5c85fdf47b8e5a72599f,
    0x8000000000162e42fefa3bdb315934a2,
    0x80000000000b17217f7d1d7299b49c46,
    0x8000000000058b90bfbe8e9a8d1c4ea0,
    0x800000000002c5c85fdf4745969ea76f,
    0x80000000000162e42fefa3a0df5373bf,
    0x800000000000b17217f7d1cff4aac1e1,
    0x80000000000058b90bfbe8e7db95a2f1,
    0x8000000000002c5c85fdf473e61ae1f8,
    0x800000000000162e42fefa39f121751c,
    0x8000000000000b17217f7d1cf815bb96,
    0x800000000000058b90bfbe8e7bec1e0d,
    0x80000000000002c5c85fdf473dee5f17,
    0x8000000000000162e42fefa39ef5438f,
    0x80000000000000b17217f7d1cf7a26c8,
    0x8000000000000058b90bfbe8e7bcf4a4,
    0x800000000000002c5c85fdf473de72a2,
];
/// Factors of `Math64x64.exp_2`: entry `k` is `(frac, d)` with factor `2^128 + frac − d`, where
/// `2^128 + frac = ⌊2^(2^−(k+1))·2^128⌋` and `d ∈ {0, 1}` is the library's own rounding of that
/// entry (ABDK's table is one below the floor in 23 places; bit-exactness needs them).
#[rustfmt::skip]
const EXP_2_FACTORS: [(u128, u128); 64] = [
    (0x6a09e667f3bcc908b2fb1366ea957d3e, 0),
    (0x306fe0a31b7152de8d5a46305c85edec, 0),
    (0x172b83c7d517adcdf7c8c50eb14a7920, 1),
    (0xb5586cf9890f6298b92b71842a98364, 1),
    (0x59b0d31585743ae7c548eb68ca417fe, 1),
    (0x2c9a3e778060ee6f7caca4f7a29bde9, 1),
    (0x163da9fb33356d84a66ae336dcdfa40, 1),
    (0xb1afa5abcbed6129ab13ec11dc9544, 1),
    (0x58c86da1c09ea1ff19d294cf2f679c, 1),
    (0x2c605e2e8cec506d21bfc89a23a010, 1),
    (0x162f3904051fa128bca9c55c31e5e0, 1),
    (0xb175effdc76ba38e31671ca939726, 1),
    (0x58ba01fb9f96d6cacd4b180917c3e, 1),
    (0x2c5cc37da9491d0985c348c68e7b3, 0),
    (0x162e525ee054754457d5995292026, 0),
    (0xb17255775c040618bf4a4ade83fc, 0),
    (0x58b91b5bc9ae2eed81e9b7d4cfac, 1),
    (0x2c5c89d5ec6ca4d7c8acc017b7c9, 0),
    (0x162e43f4f831060e02d839a9d16d, 0),
    (0xb1721bcfc99d9f890ea06911763, 0),
    (0x58b90cf1e6d97f9ca14dbcc1628, 0),
    (0x2c5c863b73f016468f6bac5ca2c, 1),
    (0x162e430e5a18f6119e3c02282a5, 0),
    (0xb1721835514b86e6d96efd1bff, 1),
    (0x58b90c0b48c6be5df846c5b2f0, 1),
    (0x2c5c8601cc6b9e94213c72737a, 0),
    (0x162e42fff037df38aa2b219f06, 0),
    (0xb17217fba9c739aa5819f44f9, 0),
    (0x58b90bfcdee5acd3c1cedc823, 0),
    (0x2c5c85fe31f35a6a30da1be50, 0),
    (0x162e42ff0999ce3541b9fffcf, 0),
    (0xb17217f80f4ef5aadda45554, 0),
    (0x58b90bfbf8479bd5a81b51ad, 0),
    (0x2c5c85fdf84bd62ae30a74cc, 0),
    (0x162e42fefb2fed257559bdaa, 0),
    (0xb17217f7d5a7716bba4a9af, 1),
    (0x58b90bfbe9ddbac5e109ccf, 1),
    (0x2c5c85fdf4b15de6f17eb0d, 0),
    (0x162e42fefa494f1478fde05, 0),
    (0xb17217f7d20cf927c8e94c, 0),
    (0x58b90bfbe8f71cb4e4b33e, 1),
    (0x2c5c85fdf477b662b26945, 0),
    (0x162e42fefa3ae53369388c, 0),
    (0xb17217f7d1d351a389d40, 0),
    (0x58b90bfbe8e8b2d3d4ede, 0),
    (0x2c5c85fdf4741bea6e77f, 1),
    (0x162e42fefa39fe95583c3, 1),
    (0xb17217f7d1cfb72b45e2, 1),
    (0x58b90bfbe8e7cc35c3f1, 1),
    (0x2c5c85fdf473e242ea38, 0),
    (0x162e42fefa39f02b772c, 0),
    (0xb17217f7d1cf7d83c1a, 0),
    (0x58b90bfbe8e7bdcbe2e, 0),
    (0x2c5c85fdf473dea871f, 0),
    (0x162e42fefa39ef44d91, 0),
    (0xb17217f7d1cf79e949, 0),
    (0x58b90bfbe8e7bce544, 0),
    (0x2c5c85fdf473de6eca, 0),
    (0x162e42fefa39ef366f, 0),
    (0xb17217f7d1cf79afa, 0),
    (0x58b90bfbe8e7bcd6d, 0),
    (0x2c5c85fdf473de6b2, 0),
    (0x162e42fefa39ef358, 0),
    (0xb17217f7d1cf79ac, 1),
];
