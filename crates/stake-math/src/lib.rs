//! Exact integer math for stakestack.
//!
//! Every amount is a [`U256`] in the asset's smallest unit; every ratio uses the scale of the
//! reference contract (wad = 1e18, ray = 1e27, bps = 1e4, Lido's 1e20). Every dividing helper
//! names its rounding (`_down`, `_up`, `half_up`). Overflow, underflow and division by zero are
//! [`MathError`] values — never a wrap, never a panic (SPEC §1.2).

pub mod fixed;
pub mod logexp;
pub mod parse;
pub mod signed;
mod wide;

pub use wide::{mul_then_div, mul_then_div_trunc};

pub use ethnum::{I256, U256};
pub use fixed::*;

use std::fmt;

/// An arithmetic failure. Stable numeric codes 100–199 (see [`MathError::code`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MathError {
    /// A result does not fit its type.
    Overflow,
    /// A subtraction went below zero.
    Underflow,
    /// A division or modulo by zero.
    DivisionByZero,
    /// An input outside the function's domain (e.g. `ln` of a non-positive number).
    OutOfDomain {
        /// Which function.
        func: &'static str,
        /// The offending input, printed in decimal.
        value: String,
    },
}

impl MathError {
    /// Stable numeric code of this error.
    pub fn code(&self) -> u32 {
        match self {
            MathError::Overflow => 100,
            MathError::Underflow => 101,
            MathError::DivisionByZero => 102,
            MathError::OutOfDomain { .. } => 103,
        }
    }
}

impl fmt::Display for MathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MathError::Overflow => write!(f, "arithmetic overflow"),
            MathError::Underflow => write!(f, "arithmetic underflow"),
            MathError::DivisionByZero => write!(f, "division by zero"),
            MathError::OutOfDomain { func, value } => {
                write!(f, "{func}: input {value} is outside the domain")
            }
        }
    }
}

impl std::error::Error for MathError {}

/// Result of a math operation.
pub type MathResult<T> = Result<T, MathError>;

/// Checked arithmetic on [`U256`] returning [`MathError`] instead of `Option`.
pub trait Checked: Sized {
    /// `self + rhs`, or [`MathError::Overflow`].
    fn add_c(self, rhs: Self) -> MathResult<Self>;
    /// `self - rhs`, or [`MathError::Underflow`].
    fn sub_c(self, rhs: Self) -> MathResult<Self>;
    /// `self * rhs`, or [`MathError::Overflow`].
    fn mul_c(self, rhs: Self) -> MathResult<Self>;
    /// `self / rhs` rounded down, or [`MathError::DivisionByZero`].
    fn div_c(self, rhs: Self) -> MathResult<Self>;
    /// `⌈self / rhs⌉`, or [`MathError::DivisionByZero`].
    fn div_up_c(self, rhs: Self) -> MathResult<Self>;
}

impl Checked for U256 {
    #[inline]
    fn add_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_add(rhs).ok_or(MathError::Overflow)
    }
    #[inline]
    fn sub_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_sub(rhs).ok_or(MathError::Underflow)
    }
    #[inline]
    fn mul_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_mul(rhs).ok_or(MathError::Overflow)
    }
    #[inline]
    fn div_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_div(rhs).ok_or(MathError::DivisionByZero)
    }
    #[inline]
    fn div_up_c(self, rhs: Self) -> MathResult<Self> {
        if rhs == U256::ZERO {
            return Err(MathError::DivisionByZero);
        }
        let q = self / rhs;
        Ok(if self % rhs == U256::ZERO { q } else { q + 1 })
    }
}

impl Checked for I256 {
    #[inline]
    fn add_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_add(rhs).ok_or(MathError::Overflow)
    }
    #[inline]
    fn sub_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_sub(rhs).ok_or(MathError::Overflow)
    }
    #[inline]
    fn mul_c(self, rhs: Self) -> MathResult<Self> {
        self.checked_mul(rhs).ok_or(MathError::Overflow)
    }
    /// Truncating (toward zero) division, as Solidity's `int256 /`.
    #[inline]
    fn div_c(self, rhs: Self) -> MathResult<Self> {
        if rhs == I256::ZERO {
            return Err(MathError::DivisionByZero);
        }
        self.checked_div(rhs).ok_or(MathError::Overflow)
    }
    /// Rounds away from zero when inexact.
    #[inline]
    fn div_up_c(self, rhs: Self) -> MathResult<Self> {
        let q = self.div_c(rhs)?;
        let exact = q.checked_mul(rhs) == Some(self);
        if exact {
            Ok(q)
        } else if (self < 0) == (rhs < 0) {
            q.add_c(I256::ONE)
        } else {
            q.sub_c(I256::ONE)
        }
    }
}

/// Builds a [`U256`] from a `u128`.
#[inline]
pub const fn u(v: u128) -> U256 {
    U256::from_words(0, v)
}

/// `10^exp` as a [`U256`] (exp ≤ 77), or [`MathError::Overflow`].
pub fn pow10(exp: u32) -> MathResult<U256> {
    U256::from(10u8).checked_pow(exp).ok_or(MathError::Overflow)
}

/// A `u64` id or index as a `usize` position: an index that does not fit (on a 32-bit target)
/// is past every vector's end, so lookups answer "not found" rather than a truncated position.
pub fn index(i: u64) -> usize {
    usize::try_from(i).unwrap_or(usize::MAX)
}

/// Formats base units as a decimal with `decimals` places, trimmed, e.g. `1.5`.
pub fn format_units(v: U256, decimals: u8) -> String {
    let s = v.to_string();
    let d = decimals as usize;
    let (int, frac) = if s.len() > d {
        (s[..s.len() - d].to_string(), s[s.len() - d..].to_string())
    } else {
        ("0".to_string(), format!("{s:0>d$}"))
    };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int
    } else {
        format!("{int}.{frac}")
    }
}

/// An amount for people: `12.5 stETH (12500000000000000000 base units)`.
pub fn human(v: U256, decimals: u8, symbol: &str) -> String {
    if decimals == 0 {
        return format!("{v} {symbol}");
    }
    format!("{} {symbol} ({v} base units)", format_units(v, decimals))
}

/// How many characters of an offending input an error repeats.
pub const CLIP: usize = 64;

/// At most [`CLIP`] characters of `s`, cut at a character boundary with the full length named,
/// so that an error never echoes a huge input back in full.
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(CLIP) {
        None => s.to_string(),
        Some((i, _)) => format!("{}… ({} bytes)", &s[..i], s.len()),
    }
}

/// Parses a decimal string (digits only, `_` allowed as separator) into a [`U256`].
pub fn parse_u256(s: &str) -> MathResult<U256> {
    let clean: String = s.trim().chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MathError::OutOfDomain {
            func: "parse_u256",
            value: clip(s),
        });
    }
    U256::from_str_radix(&clean, 10).map_err(|_| MathError::Overflow)
}

/// Parses a decimal string with optional leading `-` into an [`I256`].
pub fn parse_i256(s: &str) -> MathResult<I256> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let mag = parse_u256(digits)?;
    let max = U256::from_words(i128::MAX as u128, u128::MAX);
    if neg {
        if mag > max + 1 {
            return Err(MathError::Overflow);
        }
        if mag == max + 1 {
            return Ok(I256::MIN);
        }
        Ok(-mag.as_i256())
    } else {
        if mag > max {
            return Err(MathError::Overflow);
        }
        Ok(mag.as_i256())
    }
}

/// Serde helpers for decimal-string [`U256`] fields in user-facing JSON
/// (`#[serde(with = "stake_math::dec")]`). The default serde form of [`U256`] is a `0x` hex string.
pub use ethnum::serde::decimal as dec;
