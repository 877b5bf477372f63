//! `stakestack calc` answers the EigenLayer slashing formulas with the SPEC §14 vectors
//! (`AllocationManagerUnit.t.sol`), and `run` prints the restaking tables.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::{bin, calc};

#[test]
fn calc_answers_the_eigenlayer_slashing_vectors() {
    // Allocation WAD, operator shares 1e18, slash 25e16 → magnitude 75e16, shares slashed 25e16.
    // Repeated slashing from WAD: 99e16 → 1e16 left; 9999e14 of 1e16 → 1e12 left; WAD − 1e3 of
    // 1e12 rounds up to all of it → 0 left.
    let input = r#"{"fn":"eigenlayer.slash_magnitude","args":{"current":"1000000000000000000","wad":"250000000000000000"}}
{"fn":"eigenlayer.calc_slashed_amount","args":{"shares":"1000000000000000000","prev_max_magnitude":"1000000000000000000","new_max_magnitude":"750000000000000000"}}
{"fn":"eigenlayer.slash_magnitude","args":{"current":"1000000000000000000","wad":"990000000000000000"}}
{"fn":"eigenlayer.slash_magnitude","args":{"current":"10000000000000000","wad":"999900000000000000"}}
{"fn":"eigenlayer.slash_magnitude","args":{"current":"1000000000000","wad":"999999999999999000"}}
{"fn":"eigenlayer.calc_slashed_amount","args":{"shares":"100","prev_max_magnitude":"3","new_max_magnitude":"1"}}
{"fn":"eigenlayer.calc_slashed_amount","args":{"shares":"100","prev_max_magnitude":"3"}}
{"fn":"eigenlayer.slash_magnitude","args":{"current":"100000000000000000000","wad":"1"}}
"#;
    let out = calc(input);
    assert_eq!(out.len(), 8);
    assert_eq!(out[0]["ok"]["slashed"], "250000000000000000");
    assert_eq!(out[1]["ok"]["slashed"], "250000000000000000");
    assert_eq!(out[2]["ok"]["slashed"], "990000000000000000");
    assert_eq!(out[3]["ok"]["slashed"], "9999000000000000");
    assert_eq!(out[4]["ok"]["slashed"], "1000000000000");
    // 100 − ⌈100·1/3⌉ = 100 − 34 = 66 (the kept part rounds up).
    assert_eq!(out[5]["ok"]["slashed"], "66");
    assert_eq!(out[6]["err"]["code"], 9102);
    // `current` is a u64 magnitude.
    assert_eq!(out[7]["err"]["code"], 9102);
}

#[test]
fn calc_lists_the_eigenlayer_functions() {
    let out = bin().args(["calc", "--list"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("eigenlayer.calc_slashed_amount") && text.contains("eigenlayer.slash_magnitude"),
        "{text}"
    );
}

#[test]
fn run_prints_operators_and_services() {
    let dir = std::env::temp_dir().join(format!("stakestack-restaking-{}", std::process::id()));
    let scn = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/avs-slashing.toml");
    let out = bin().args(["run", scn, "--quiet", "--out"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("EigenLayer operators") && text.contains("Services"),
        "{text}"
    );
    let line = text.lines().find(|l| l.trim_start().starts_with("oracle-x")).unwrap();
    assert!(line.split_whitespace().nth(4) == Some("1"), "{line}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["restaking"]["services"].as_array().unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}
