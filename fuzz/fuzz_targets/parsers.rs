//! The amount, fraction, date, duration and "at" parsers on arbitrary text: an answer or an
//! error, never a panic; an accepted amount round-trips through its formatting.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stake_engine::amount::{format_units, parse_amount, parse_bps, parse_wad_fraction};
use stake_engine::time::{parse_at, parse_date, parse_duration};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let decimals = |sym: &str| match sym {
        "ETH" | "stETH" | "στETH" => Some(18),
        "BTC" => Some(8),
        "USDC" => Some(6),
        _ => None,
    };
    if let Ok(a) = parse_amount(s, &decimals) {
        // The amount, written back with its unit, parses to the same base units.
        let written = match a.asset.as_deref() {
            Some(sym) => format!("{} {sym}", format_units(a.base, decimals(sym).unwrap_or(0))),
            None => a.base.to_string(),
        };
        let again = parse_amount(&written, &decimals);
        assert_eq!(again.map(|b| b.base), Ok(a.base), "round trip of {s:?} as {written:?}");
    }
    let _ = parse_bps(s);
    let _ = parse_wad_fraction(s);
    let _ = parse_date(s);
    let _ = parse_duration(s);
    let _ = parse_at(s, 1_735_689_600);
    let _ = parse_at(s, u64::MAX - 1);
    let _ = stake_math::parse_u256(s);
    let _ = stake_math::parse_i256(s);
});
