//! The binary reads a replayed price CSV next to the scenario file: `check` accepts it and
//! points at a bad row's line, `run` follows the series.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::bin;

const SCENARIO: &str = r#"name = "replay"
[clock]
start = "2025-01-01"
horizon = "10d"
step = "1d"

[chains.ethereum]
staked = "1_000_000 ETH"

[market.ETH_USD]
model = "replay"
path = "data/prices.csv"
"#;

fn setup(csv: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("stakestack-replay-{}-{}", std::process::id(), csv.len()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("s.toml"), SCENARIO).unwrap();
    std::fs::write(dir.join("data/prices.csv"), csv).unwrap();
    dir
}

#[test]
fn a_replayed_series_is_read_relative_to_the_scenario_and_followed() {
    let dir = setup("time,price\n2025-01-01,3300\n2025-01-05,2900\n");
    let out = bin().arg("check").arg(dir.join("s.toml")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bin()
        .arg("run")
        .arg(dir.join("s.toml"))
        .arg("--json")
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["markets"]["eth_usd"].as_f64().unwrap(), 2_900.0);
}

#[test]
fn a_bad_csv_row_is_reported_with_its_line_and_a_missing_file_clearly() {
    let dir = setup("time,price\n2025-01-01,3300\n2025-01-02,-5\n");
    let out = bin().arg("check").arg(dir.join("s.toml")).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("data/prices.csv: line 3: price `-5`"), "{err}");
    assert!(err.contains("market.ETH_USD.path"), "{err}");
    std::fs::remove_file(dir.join("data/prices.csv")).unwrap();
    let out = bin().arg("check").arg(dir.join("s.toml")).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read data file"), "{err}");
}
