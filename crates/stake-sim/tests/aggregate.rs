//! Folding path summaries: numbers become percentiles, agreed strings stay, records are counted.

use serde_json::json;
use stake_sim::SummaryAggregate;

fn path(rate: &str, price: f64, hash: &str, rejected: usize, hf: Option<f64>) -> serde_json::Value {
    json!({
        "scenario": "s", "seed": 7, "steps": 10, "version": "0.1.0",
        "final_state_hash": hash,
        "lsts": [{ "symbol": "stETH", "rate_wad": rate, "rate": 1.0 }],
        "markets": { "pools": [{ "name": "p", "price": price }], "min_health_factor": hf },
        "rejected": (0..rejected).map(|k| json!({ "code": 6225 + (k % 2), "message": "m" })).collect::<Vec<_>>(),
    })
}

#[test]
fn numbers_become_percentiles_and_the_run_keys_stay() {
    let mut a = SummaryAggregate::new();
    a.add(path("1000000000000000001", 0.99, "aa", 0, Some(1.2)), 7);
    a.add(path("1000000000000000003", 0.95, "bb", 3, None), 99);
    a.add(path("1000000000000000002", 0.97, "cc", 1, Some(1.0)), 123);
    let s = a.finish();
    assert_eq!(s["paths"], 3);
    assert_eq!(s["seed"], 7);
    assert_eq!(s["steps"], 10);
    assert_eq!(s["state_hashes"], json!(["aa", "bb", "cc"]));
    assert_eq!(s["path_seeds"], json!([7, 99, 123]));
    assert!(s.get("final_state_hash").is_none());
    assert_eq!(s["lsts"][0]["symbol"], "stETH");
    let p = &s["markets"]["pools"][0]["price"];
    assert_eq!(p["min"], 0.95);
    assert_eq!(p["max"], 0.99);
    assert!((p["p50"].as_f64().unwrap() - 0.97).abs() < 1e-12);
    assert!((s["lsts"][0]["rate_wad"]["p50"].as_f64().unwrap() / 1e18 - 1.0).abs() < 1e-12);
    let hf = &s["markets"]["min_health_factor"];
    assert_eq!(hf["missing"], 1);
    assert_eq!(hf["min"], 1.0);
    assert_eq!(s["rejected"]["count"]["max"], 3.0);
    assert_eq!(s["rejected"]["count"]["min"], 0.0);
    assert_eq!(s["rejected"]["by_code"]["6225"]["max"], 2.0);
    assert_eq!(s["rejected"]["by_code"]["6226"]["p50"], 0.0);
    assert_eq!(s["rejected"]["first_path"], json!([]));
}

#[test]
fn strings_that_differ_are_listed_and_an_empty_aggregate_is_null() {
    let mut a = SummaryAggregate::new();
    assert!(a.finish().is_null());
    a.add(json!({ "lsts": [{ "status": "ok" }], "x": "same" }), 1);
    a.add(json!({ "lsts": [{ "status": "paused" }], "x": "same" }), 2);
    let s = a.finish();
    assert_eq!(s["x"], "same");
    assert_eq!(s["lsts"][0]["status"], json!({ "distinct": ["ok", "paused"] }));
}
