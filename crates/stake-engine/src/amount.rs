//! Human amounts with units (SPEC §2 "Amount input"): `"32 ETH"`, `"1.5e6 ETH"`, `"1_000 stETH"`,
//! `"250 gwei"`, raw base units (`"1000"`), and fractions `"10%"`, `"25 bps"`, `"2/3"`.

use stake_math::parse::{parse_fraction, parse_scaled, split_unit};
use stake_math::{u, U256, WAD};

/// A parsed amount: base units and the unit written (None for raw base units).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    /// Base units of `asset` (wei for ETH).
    pub base: U256,
    /// The asset symbol the unit names (`gwei`/`wei` name `ETH`); None for raw base units.
    pub asset: Option<String>,
}

/// Parses an amount. `decimals_of(symbol)` gives an asset's decimals (None if unknown).
pub fn parse_amount(s: &str, decimals_of: &dyn Fn(&str) -> Option<u8>) -> Result<Amount, String> {
    let (num, unit) = split_unit(s);
    let err = |e: stake_math::MathError| match e {
        stake_math::MathError::Overflow => format!("`{}`: too large (does not fit in 256 bits)", clip(s.trim())),
        e => format!("`{}`: {e}", clip(s.trim())),
    };
    match unit {
        None => Ok(Amount {
            base: parse_scaled(num, 0).map_err(err)?,
            asset: None,
        }),
        Some("wei") => Ok(Amount {
            base: parse_scaled(num, 0).map_err(err)?,
            asset: Some("ETH".into()),
        }),
        Some("gwei") => Ok(Amount {
            base: parse_scaled(num, 9).map_err(err)?,
            asset: Some("ETH".into()),
        }),
        Some(sym) => match decimals_of(sym) {
            Some(d) => Ok(Amount {
                base: parse_scaled(num, d as u32).map_err(err)?,
                asset: Some(sym.to_string()),
            }),
            None => Err(format!("`{}`: unknown unit or asset `{}`", clip(s.trim()), clip(sym))),
        },
    }
}

/// Parses an amount that must be of `asset` (or raw base units).
pub fn parse_amount_of(s: &str, asset: &str, decimals: u8) -> Result<U256, String> {
    let a = parse_amount(s, &|sym| if sym == asset { Some(decimals) } else { None })
        .map_err(|e| format!("{e} (expected an amount of {asset})"))?;
    Ok(a.base)
}

/// A fraction as basis points (`"10%"` → 1000).
pub fn parse_bps(s: &str) -> Result<U256, String> {
    parse_fraction(s, u(10_000)).map_err(|e| format!("`{}`: {e} (expected e.g. 10%, 25 bps)", clip(s.trim())))
}

/// A share of at most 100 % in basis points (`"60%"` → 6,000).
pub fn parse_share_bps(s: &str) -> Result<u32, String> {
    u32::try_from(parse_bps(s)?)
        .ok()
        .filter(|b| *b <= 10_000)
        .ok_or_else(|| format!("`{}`: must be at most 100%", clip(s.trim())))
}

/// A fraction as a wad (`"10%"` → 1e17).
pub fn parse_wad_fraction(s: &str) -> Result<U256, String> {
    parse_fraction(s, WAD).map_err(|e| format!("`{}`: {e} (expected e.g. 10%, 25 bps, 2/3)", clip(s.trim())))
}

pub use stake_math::{clip, format_units};

/// Formats base units with a fixed number of decimals (rounded down), with thousands separators.
pub fn format_fixed(v: U256, decimals: u8, places: usize) -> String {
    let full = format_units(v, decimals);
    let (int, frac) = full.split_once('.').unwrap_or((&full, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if places == 0 {
        return grouped;
    }
    let mut f: String = frac.chars().take(places).collect();
    while f.len() < places {
        f.push('0');
    }
    format!("{grouped}.{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(sym: &str) -> Option<u8> {
        match sym {
            "ETH" | "stETH" => Some(18),
            "BTC" => Some(8),
            _ => None,
        }
    }

    #[test]
    fn parses_amounts_with_units() {
        let e18 = WAD;
        assert_eq!(
            parse_amount("32 ETH", &dec).unwrap(),
            Amount {
                base: u(32) * e18,
                asset: Some("ETH".into())
            }
        );
        assert_eq!(parse_amount("250 gwei", &dec).unwrap().base, u(250_000_000_000));
        assert_eq!(parse_amount("1_000 stETH", &dec).unwrap().base, u(1000) * e18);
        assert_eq!(parse_amount("1.5e6 ETH", &dec).unwrap().base, u(1_500_000) * e18);
        assert_eq!(
            parse_amount("12345", &dec).unwrap(),
            Amount {
                base: u(12345),
                asset: None
            }
        );
        assert_eq!(parse_amount("0.5 BTC", &dec).unwrap().base, u(50_000_000));
        assert!(parse_amount("1 DOGE", &dec).unwrap_err().contains("unknown unit"));
        assert!(parse_amount_of("1 stETH", "ETH", 18).is_err());
        assert_eq!(parse_bps("10%").unwrap(), u(1000));
        assert_eq!(parse_bps("25 bps").unwrap(), u(25));
    }

    #[test]
    fn formats_units() {
        assert_eq!(format_units(u(1_500_000_000_000_000_000), 18), "1.5");
        assert_eq!(format_units(u(1), 18), "0.000000000000000001");
        assert_eq!(format_fixed(u(1_234_567) * WAD, 18, 2), "1,234,567.00");
    }
}
