//! `--seed` (the `seed` argument of `prepare`) reseeds every random process of a scenario: the same
//! scenario and seed give the same final state hash, another seed another path.
#![allow(clippy::unwrap_used)]

use stake_engine::runner::prepare;

const GBM: &str = r#"
[clock]
start = "2025-01-01"
horizon = "20d"
step = "1d"
seed = 5

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.stETH]
model = "lido"
initial_pooled = "500_000 ETH"
operators = [{ name = "op-1" }]

[market.ETH_USD]
model = "gbm"
start = "3000"
vol = "60%"
"#;

fn run(seed: Option<u64>) -> (String, String, u64) {
    let p = prepare(GBM, seed).unwrap();
    let r = p.run(&mut |_, _| {}).unwrap();
    let price = r.summary.markets["eth_usd"].to_string();
    (r.summary.final_state_hash, price, r.summary.seed)
}

#[test]
fn a_seed_override_reseeds_the_price_path_and_is_reproducible() {
    let scenario_seed = run(None);
    assert_eq!(
        scenario_seed,
        run(Some(5)),
        "the override equal to the scenario's seed changes nothing"
    );
    let other = run(Some(6));
    assert_eq!(other, run(Some(6)), "same seed, same run");
    assert_eq!(other.2, 6);
    assert_ne!(other.0, scenario_seed.0);
    assert_ne!(other.1, scenario_seed.1, "another seed, another ETH/USD path");
}
