//! The binary as a careless user meets it: inputs that used to panic or run something else get
//! a clear error at their line and exit 1; a run that cannot advance time exits 2; a closed
//! standard output ends the process quietly with 141; `calc` answers every line, whatever it is.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::{bin, calc, calc_bytes};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const BASICS: &str = include_str!("../../../scenarios/eth-staking-basics.toml");

/// A cheap stable file name for a text (FNV-1a).
fn blake3_like(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn check(text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("stakestack-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{:x}.toml", blake3_like(text)));
    std::fs::write(&file, text).unwrap();
    let out = bin().arg("check").arg(&file).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stderr).unwrap())
}

/// Each edit of the shipped scenario is refused by `check` (exit 1, never a panic) with this
/// message at this line.
#[test]
fn edge_inputs_are_refused_at_their_line() {
    // Found by the `scenario_mutations` fuzz target: computing the next repetition overflowed.
    // An action repeated every 2^64 − 1 s simply happens once.
    let once = BASICS.replacen(r#"every = "30d""#, r#"every = "18446744073709551615s""#, 1);
    assert_eq!(check(&once).0, 0);
    let cases: [(&str, &str, &str, &str); 13] = [
        (
            r#"every = "30d""#,
            r#"every = "1s""#,
            "96: repeats 31536001 times (max 1000000; set `times` or a longer `every`)",
            "actions[4].every",
        ),
        (
            r#"at = "day 30""#,
            r#"at = "day 18446744073709551615""#,
            "112: `day 18446744073709551615` is too far in the future",
            "events[0].at",
        ),
        (
            r#"at = "day 30""#,
            r#"at = "+18446744073709551615s""#,
            "112: `+18446744073709551615s` is too far in the future",
            "events[0].at",
        ),
        (
            r#"horizon = "365d""#,
            r#"horizon = "18446744073709551615s""#,
            "9: 213503982334601 steps is too many (max 1,000,000)",
            "clock.step",
        ),
        (
            r#"step    = "1d""#,
            r#"step    = "18446744073709551615s""#,
            "9: `18446744073709551615s` is longer than the horizon `365d`",
            "clock.step",
        ),
        (
            r#""24_000_000 ETH""#,
            r#""1e9223372036854775807 ETH""#,
            "13: `1e9223372036854775807 ETH`: too large (does not fit in 256 bits)",
            "chains.ethereum.staked",
        ),
        (
            r#""24_000_000 ETH""#,
            r#""1e-9223372036854775808 ETH""#,
            "13: `1e-9223372036854775808 ETH`: amount (finer than the smallest unit)",
            "chains.ethereum.staked",
        ),
        (
            r#""24_000_000 ETH""#,
            r#""590295810358705651744 ETH""#,
            "13: validators: 18446744073709551617 is too large (at most 18446744073709551615)",
            "chains.ethereum.staked",
        ),
        (
            r#""24_000_000 ETH""#,
            r#""1e30 ETH""#,
            "13: validators: 31250000000000000000000000000 is too large",
            "chains.ethereum.staked",
        ),
        (
            r#""24_000_000 ETH""#,
            r#""1e18 ETH""#,
            "the total stake would exceed uint64 gwei (about 18.4 billion ETH)",
            "chains.ethereum.staked",
        ),
        (
            r#""24_000_000 ETH""#,
            "\"24_000_000 \u{3b5}TH\"",
            "13: `24_000_000 \u{3b5}TH`: unknown unit or asset `\u{3b5}TH`",
            "chains.ethereum.staked",
        ),
        (
            r#"account = "alice""#,
            r#"account = "alicee""#,
            "63: unknown account `alicee` (did you mean `alice`?)",
            "actions[0].account",
        ),
        (
            r#"operator = "lido-curated-3""#,
            r#"operator = "lido-curated-33""#,
            "114: unknown operator `lido-curated-33` (did you mean `lido-curated-3`?)",
            "events[0].operator",
        ),
    ];
    for (from, to, message, key) in cases {
        assert!(BASICS.contains(from), "{from}");
        let text = BASICS.replacen(from, to, 1);
        let (code, err) = check(&text);
        assert_eq!(code, 1, "{to}: {err}");
        assert!(err.contains(message), "{to}: expected `{message}` in\n{err}");
        assert!(err.contains(&format!("key: {key}")), "{to}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A non-breaking space separates an amount from its unit, and symbols may be non-ASCII: the
/// scenario runs (no byte-index slicing of text anywhere).
#[test]
fn non_ascii_text_runs() {
    let text = BASICS
        .replace("\"24_000_000 ETH\"", "\"24_000_000\u{a0}ETH\"")
        .replace("[lst.cbETH]", "[lst.\"\u{3c3}\u{3c4}ETH\"]")
        .replace("\"cbETH\"", "\"\u{3c3}\u{3c4}ETH\"")
        .replace(" cbETH\"", " \u{3c3}\u{3c4}ETH\"");
    let (code, err) = check(&text);
    assert_eq!(code, 0, "{err}");
    // The markets' reports cut symbols to fit their columns: by characters, not bytes.
    let markets = include_str!("../../../scenarios/lst-markets.toml")
        .replace("stETH", "\u{3c3}\u{3c4}ETH")
        .replace("[lst.\u{3c3}\u{3c4}ETH]", "[lst.\"\u{3c3}\u{3c4}ETH\"]");
    let dir = std::env::temp_dir().join(format!("stakestack-greek-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("greek.toml"), markets).unwrap();
    let out = bin()
        .args(["run", "--quiet", "--out"])
        .arg(dir.join("out"))
        .arg(dir.join("greek.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("w\u{3c3}\u{3c4}ETH"), "{stdout}");
}

#[test]
fn a_closed_stdout_ends_quietly_with_141() {
    for args in [vec!["calc", "--list"], vec!["new", "--help"]] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(matches!(out.status.code(), Some(0 | 141)), "{args:?}: {:?}", out.status);
    }
    // `run` writes its table after the run: by then nobody reads.
    let mut child = bin()
        .args(["run", "--quiet", "--out"])
        .arg(std::env::temp_dir().join(format!("stakestack-pipe-{}", std::process::id())))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scenarios/avs-slashing.toml"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn calc_answers_every_line_whatever_it_holds() {
    let mut input = b"{\"fn\":\"math.mul_div_down\",\"args\":{\"a\":\"6\",\"b\":\"7\",\"d\":\"2\"}}\n".to_vec();
    input.extend_from_slice(b"\xff\xfe not text\n");
    input.extend_from_slice(b"{\"fn\":\"math.mul_div_up\",\"args\":{\"a\":\"7\",\"b\":\"3\",\"d\":\"2\"}}\n");
    let huge = "9".repeat(10_000_000);
    input.extend_from_slice(format!("{{\"fn\":\"math.ln_wad\",\"args\":{{\"x\":\"{huge}\"}}}}\n").as_bytes());
    input.extend_from_slice(format!("{{\"fn\":\"{}\"}}\n", "x".repeat(1_000_000)).as_bytes());
    let out = calc_bytes(&input);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["ok"]["value"], "21");
    assert_eq!(lines[1]["err"]["code"], 9100);
    assert!(lines[1]["err"]["message"]
        .as_str()
        .unwrap()
        .starts_with("the line is not UTF-8 text"));
    assert_eq!(lines[2]["ok"]["value"], "11");
    for l in &lines[3..] {
        let m = l["err"]["message"].as_str().unwrap();
        assert!(m.len() < 1_000, "an error message of {} bytes", m.len());
    }
    assert_eq!(
        lines[3]["err"]["message"],
        format!(
            "argument `x`: `{}… (10000000 bytes)` does not fit in 256 bits",
            "9".repeat(64)
        )
    );
}

#[test]
fn calc_refuses_what_the_contracts_refuse() {
    let out = calc(
        r#"{"fn":"eigenlayer.slash_magnitude","args":{"current":"1000","wad":"1000000000000000001"}}
{"fn":"eigenlayer.slash_magnitude","args":{"current":"1000","wad":"0"}}
{"fn":"lido.shares_by_pooled_eth","args":{"total_pooled_ether":"0","total_shares":"0","amount":"5"}}
{"fn":"lido.pooled_eth_by_shares","args":{"total_pooled_ether":"5","total_shares":"0","shares":"5"}}
{"fn":"lido.shares_by_pooled_eth","args":{"total_pooled_ether":"5","total_shares":"0","amount":"5"}}
{"fn":"eth.activation_exit_churn","args":{"total_active_balance_gwei":"0"}}
{"fn":"eth.balance_churn","args":{"total_active_balance_gwei":"0"}}
"#,
    );
    for answer in &out[..2] {
        assert_eq!(answer["err"]["code"], 103, "{answer}");
        let message = answer["err"]["message"].as_str().unwrap();
        assert!(message.contains("wad must be in (0, 1e18]"), "{message}");
    }
    assert_eq!(out[2]["err"]["code"], 102, "{}", out[2]);
    assert_eq!(out[3]["err"]["code"], 102, "{}", out[3]);
    // No share yet and ether pooled: the contract's formula answers 0, not the input.
    assert_eq!(out[4]["ok"]["shares"], "0");
    // consensus-specs' churn is defined for every uint64: the minimum churn.
    assert_eq!(out[5]["ok"]["value"], "128000000000");
    assert_eq!(out[6]["ok"]["value"], "128000000000");
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let out = bin().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = bin()
        .args(["run", "--full-check-every", "many", "x.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = bin().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = bin().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn monte_carlo_paths_out_of_range_are_refused_with_their_key() {
    let text = BASICS.replacen("seed    = 42", "seed    = 42\npaths   = 100", 1);
    assert!(text.contains("paths   = 100"));
    assert_eq!(check(&text).0, 0);
    let text = BASICS.replacen("seed    = 42", "seed    = 42\npaths   = 1_000_001", 1);
    let (code, err) = check(&text);
    assert_eq!(code, 1);
    assert!(
        err.contains("key: clock.paths") && err.contains("1000001 paths is too many (max 1000000)"),
        "{err}"
    );
}
