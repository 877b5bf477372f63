//! Human amount parsing: `"32 ETH"`, `"1.5e6 ETH"`, `"1_000 stETH"`, `"250 gwei"`, `"10%"`,
//! `"25 bps"`, `"2/3"`, raw base units. Exact: a value that does not land on a base unit is an
//! error, never silently rounded.

use crate::{clip, pow10, Checked, MathError, MathResult, U256};

fn bad(what: &'static str, s: &str) -> MathError {
    MathError::OutOfDomain {
        func: what,
        value: clip(s),
    }
}

/// Parses a decimal number (`1_000`, `1.5`, `1.5e6`, `2E-3`) and scales it by `10^decimals`,
/// exactly. Rejects a result that is not a whole number of base units.
pub fn parse_scaled(num: &str, decimals: u32) -> MathResult<U256> {
    let s: String = num.trim().chars().filter(|c| *c != '_').collect();
    if s.is_empty() {
        return Err(bad("amount", num));
    }
    let (mantissa, exp10): (&str, i64) = match s.find(['e', 'E']) {
        Some(i) => {
            let e: i64 = s[i + 1..].parse().map_err(|_| bad("amount", num))?;
            (&s[..i], e)
        }
        None => (&s[..], 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
        None => (mantissa, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad("amount", num));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("amount", num));
    }
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let value = if digits.is_empty() {
        U256::ZERO
    } else {
        U256::from_str_radix(digits, 10).map_err(|_| MathError::Overflow)?
    };
    // value · 10^(decimals + exp10 − frac_len), in i128 so that no exponent can overflow it.
    let frac_len = i128::try_from(frac_part.len()).map_err(|_| MathError::Overflow)?;
    let shift = i128::from(decimals) + i128::from(exp10) - frac_len;
    if shift >= 0 {
        let shift = u32::try_from(shift).map_err(|_| MathError::Overflow)?;
        if value == U256::ZERO {
            return Ok(U256::ZERO);
        }
        value.mul_c(pow10(shift)?)
    } else {
        // 10^shift beyond 256 bits divides no nonzero value exactly.
        let d = u32::try_from(-shift)
            .ok()
            .and_then(|s| pow10(s).ok())
            .unwrap_or(U256::MAX);
        if value % d != U256::ZERO {
            return Err(MathError::OutOfDomain {
                func: "amount (finer than the smallest unit)",
                value: clip(num.trim()),
            });
        }
        Ok(value / d)
    }
}

/// Splits `"32 ETH"` into `("32", Some("ETH"))`, `"1000"` into `("1000", None)`.
pub fn split_unit(s: &str) -> (&str, Option<&str>) {
    let t = s.trim();
    match t.char_indices().rev().find(|(_, c)| c.is_whitespace()) {
        Some((i, c)) => (t[..i].trim(), Some(t[i + c.len_utf8()..].trim())),
        None => (t, None),
    }
}

/// Parses a fraction into `scale` units: `"10%"`, `"25 bps"`, `"2/3"` (floored), `"0.1"`.
/// `parse_fraction("10%", 10_000)` = 1000 bps; `parse_fraction("10%", WAD)` = 1e17.
pub fn parse_fraction(s: &str, scale: U256) -> MathResult<U256> {
    let t: String = s.trim().chars().filter(|c| *c != '_').collect();
    if let Some(p) = t.strip_suffix('%') {
        let v = parse_scaled(p.trim(), 18)?; // percent as wad
        return crate::mul_div_down(v, scale, pow10(20)?).and_then(|r| exact(r, v, scale, 20, s));
    }
    if let Some(p) = t.strip_suffix("bps").or_else(|| t.strip_suffix("bp")) {
        let v = parse_scaled(p.trim(), 18)?;
        return crate::mul_div_down(v, scale, pow10(22)?).and_then(|r| exact(r, v, scale, 22, s));
    }
    if let Some((n, d)) = t.split_once('/') {
        let n = parse_scaled(n.trim(), 0)?;
        let d = parse_scaled(d.trim(), 0)?;
        return crate::mul_div_down(n, scale, d);
    }
    let v = parse_scaled(&t, 18)?;
    crate::mul_div_down(v, scale, pow10(18)?).and_then(|r| exact(r, v, scale, 18, s))
}

fn exact(r: U256, v: U256, scale: U256, p: u32, s: &str) -> MathResult<U256> {
    if r.mul_c(pow10(p)?)? != v.mul_c(scale)? {
        return Err(MathError::OutOfDomain {
            func: "fraction (finer than the scale)",
            value: clip(s.trim()),
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{u, WAD};

    #[test]
    fn parses_human_amounts_exactly() {
        assert_eq!(parse_scaled("32", 18).unwrap(), u(32) * WAD);
        assert_eq!(parse_scaled("1.5e6", 18).unwrap(), u(1_500_000) * WAD);
        assert_eq!(parse_scaled("1_000", 18).unwrap(), u(1000) * WAD);
        assert_eq!(parse_scaled("250", 9).unwrap(), u(250_000_000_000));
        assert_eq!(parse_scaled("0.000000000000000001", 18).unwrap(), u(1));
        assert_eq!(parse_scaled("2E-3", 18).unwrap(), u(2_000_000_000_000_000));
        assert!(parse_scaled("0.0000000000000000001", 18).is_err());
        assert!(parse_scaled("-1", 18).is_err());
        assert!(parse_scaled("abc", 18).is_err());
        assert!(parse_scaled("1e80", 18).is_err());
        assert_eq!(split_unit("32 ETH"), ("32", Some("ETH")));
        assert_eq!(split_unit(" 1000 "), ("1000", None));
        // A non-breaking space separates like a space; exponents of any size are errors.
        assert_eq!(split_unit("1000\u{a0}ETH"), ("1000", Some("ETH")));
        assert_eq!(split_unit("1 στETH"), ("1", Some("στETH")));
        assert_eq!(parse_scaled("1e9223372036854775807", 18), Err(MathError::Overflow));
        assert_eq!(
            parse_scaled("1e-9223372036854775808", 18).map_err(|e| e.code()),
            Err(103)
        );
        assert!(parse_scaled("1e99999999999999999999", 18).is_err());
        assert!(parse_scaled("１２", 18).is_err());
    }

    #[test]
    fn parses_fractions() {
        assert_eq!(parse_fraction("10%", u(10_000)).unwrap(), u(1000));
        assert_eq!(parse_fraction("25 bps", u(10_000)).unwrap(), u(25));
        assert_eq!(parse_fraction("10%", WAD).unwrap(), u(100_000_000_000_000_000));
        assert_eq!(parse_fraction("2/3", WAD).unwrap(), u(666_666_666_666_666_666));
        assert_eq!(parse_fraction("0.5", u(10_000)).unwrap(), u(5000));
        assert!(parse_fraction("0.001 bps", u(10_000)).is_err());
    }
}
