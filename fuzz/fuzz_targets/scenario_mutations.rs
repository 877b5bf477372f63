//! Structure-aware mutations of the shipped scenarios, checked as `stakestack check` checks them:
//! the input picks a scenario and a list of line edits (replace a value, delete, duplicate or
//! insert a line). Every outcome is a summary or an error that points at a line — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

const SCENARIOS: [&str; 4] = [
    include_str!("../../scenarios/eth-staking-basics.toml"),
    include_str!("../../scenarios/lst-markets.toml"),
    include_str!("../../scenarios/avs-slashing.toml"),
    include_str!("../../scenarios/restaking-markets-of-security.toml"),
];
const CSV: &str = include_str!("../../scenarios/data/eth-usd-2025h1.csv");

/// Values a person might type: numbers at the edges, units, non-ASCII, nothing.
const VALUES: [&str; 24] = [
    "\"0\"",
    "\"-1\"",
    "\"1e9223372036854775807 ETH\"",
    "\"1e-30 ETH\"",
    "\"590295810358705651744 ETH\"",
    "\"1000\u{a0}ETH\"",
    "\"στETH\"",
    "\"day 18446744073709551615\"",
    "\"+18446744073709551615s\"",
    "\"18446744073709551615s\"",
    "\"100%\"",
    "\"1000%\"",
    "\"2/0\"",
    "\"all\"",
    "\"\"",
    "18446744073709551615",
    "0",
    "-1",
    "1.5",
    "true",
    "[]",
    "{}",
    "\"alicee\"",
    "\"1 epoch\"",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let mut lines: Vec<String> = SCENARIOS[usize::from(pick) % SCENARIOS.len()]
        .lines()
        .map(str::to_string)
        .collect();
    while rest.len() >= 4 && !lines.is_empty() {
        let at = usize::from(u16::from_le_bytes([rest[0], rest[1]])) % lines.len();
        let (kind, arg) = (rest[2], rest[3]);
        rest = &rest[4..];
        match kind % 5 {
            0 | 1 => {
                // Replace the value of `key = value` with a typed edge value or fuzz text.
                if let Some((key, _)) = lines[at].split_once('=') {
                    let value = if kind % 5 == 0 {
                        VALUES[usize::from(arg) % VALUES.len()].to_string()
                    } else {
                        let n = usize::from(arg).min(rest.len());
                        let (text, tail) = rest.split_at(n);
                        rest = tail;
                        format!("\"{}\"", String::from_utf8_lossy(text).replace(['"', '\\', '\n'], ""))
                    };
                    lines[at] = format!("{key}= {value}");
                }
            }
            2 => {
                lines.remove(at);
            }
            3 => {
                let l = lines[at].clone();
                lines.insert(at, l);
            }
            _ => {
                let n = usize::from(arg).min(rest.len());
                let (text, tail) = rest.split_at(n);
                rest = tail;
                lines.insert(at, String::from_utf8_lossy(text).into_owned());
            }
        }
    }
    let text = lines.join("\n");
    let data: BTreeMap<String, String> = [("data/eth-usd-2025h1.csv".to_string(), CSV.to_string())].into();
    if let Err(e) = stake_engine::runner::validate_with_data(&text, &data) {
        let line = e.line.or_else(|| stake_engine::scenario::locate(&text, &e.path));
        assert!(
            line.is_some() || e.path.is_empty(),
            "an error at `{}` that points at no line: {}",
            e.path,
            e.message
        );
    }
});
