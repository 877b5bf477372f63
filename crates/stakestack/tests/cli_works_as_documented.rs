//! The binary as a person uses it: `calc` answers a stream, `check` points at lines, `new`
//! scaffolds a scenario that `check` accepts.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::{bin, calc};

#[test]
fn calc_answers_every_line_and_survives_bad_ones() {
    let input = r#"{"fn":"eth.base_reward_per_increment","args":{"total_active_balance_gwei":"32000000000000000"}}
{"fn":"eth.initial_slashing_penalty","args":{"effective_balance_gwei":"32000000000"}}
not json
{"fn":"eth.activation_exit_churn","args":{"total_active_balance_gwei":"34000000000000000"}}
{"fn":"eth.activation_exit_churn","args":{"total_active_balance_gwei":"1000000000000000"}}
{"fn":"lido.fee_shares","args":{"total_pooled_ether":"1000000000000000000000","total_shares":"1000000000000000000000","rewards":"1000000000000000000","total_fee_bp_1e20":"10000000000000000000"}}
{"fn":"lido.shares_by_pooled_eth","args":{"total_pooled_ether":"3","total_shares":"2","amount":"2"}}
{"fn":"lido.pooled_eth_by_shares","args":{"total_pooled_ether":"3","total_shares":"2","shares":"1"}}
{"fn":"math.ln_wad","args":{"x":"1050000000000000000"}}
{"fn":"math.ln_wad","args":{"x":"0"}}
{"fn":"no.such"}
"#;
    let out = calc(input);
    assert_eq!(out.len(), 11);
    assert_eq!(out[0]["ok"]["value"], "357");
    assert_eq!(out[1]["ok"]["value"], "7812500");
    assert_eq!(out[2]["err"]["code"], 9100);
    assert_eq!(out[3]["ok"]["value"], "256000000000");
    assert_eq!(out[4]["ok"]["value"], "128000000000");
    assert_eq!(out[5]["ok"]["shares"], "99910080927165551");
    assert_eq!(out[6]["ok"]["shares"], "1");
    assert_eq!(out[7]["ok"]["amount"], "1");
    assert_eq!(out[8]["ok"]["y"], "48790164169432003");
    assert_eq!(out[9]["err"]["code"], 103);
    assert_eq!(out[10]["err"]["code"], 9101);
}

#[test]
fn check_points_at_the_offending_line_and_key() {
    let dir = std::env::temp_dir().join(format!("stakestack-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/eth-staking-basics.toml"
    ))
    .unwrap();
    let bad = good.replace("fee            = \"10%\"", "fee            = \"ten percent\"");
    let path = dir.join("bad.toml");
    std::fs::write(&path, &bad).unwrap();
    let out = bin().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = bad.lines().position(|l| l.contains("ten percent")).unwrap() + 1;
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    assert!(err.contains("key: lst.stETH.fee"), "{err}");
    let typo = good.replace("horizon = \"365d\"", "horizon = \"365d\"\nhorizn = 3");
    std::fs::write(&path, &typo).unwrap();
    let out = bin().arg("check").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `horizn`"), "{err}");
    let ok = bin()
        .arg("check")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scenarios/eth-staking-basics.toml"
        ))
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let new_path = dir.join("mine.toml");
    let _ = std::fs::remove_file(&new_path);
    assert!(bin()
        .args(["new", "mine", "--path"])
        .arg(&new_path)
        .status()
        .unwrap()
        .success());
    assert!(bin().arg("check").arg(&new_path).status().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_prints_both_levels_and_the_steps() {
    // A smoke run of the macro benchmark on a tiny world (the figures themselves are not
    // asserted: benchmarks measure, tests don't time).
    let out = bin()
        .args(["bench", "--quick", "--sizes", "30"])
        .output()
        .expect("bench runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "transfer (simple)",
        "aave borrow with HF check (complex)",
        "pendle swap PT→SY (complex)",
        "full-stack daily step",
        "full invariant check",
        "ethereum daily step",
    ] {
        assert!(text.contains(line), "missing {line}:\n{text}");
    }
}
