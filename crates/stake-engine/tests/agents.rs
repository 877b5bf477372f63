//! The market agents. The arbitrageur buys an LST's discount in the pool and redeems through the
//! protocol's queue, so the depeg a sell-off leaves depends on its capital, its cost of capital
//! and the length of the withdrawal queue — not on a price the scenario sets. Panic sellers dump
//! into the pool once its discount passes their threshold, so one seller's loss can set off the
//! next.

use stake_engine::runner::prepare;

const WORLD: &str = r#"
name = "arb"
[clock]
start   = "2025-01-01"
horizon = "16d"
step    = "1d"
seed    = 3

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.stETH]
model          = "lido"
initial_pooled = "200_000 ETH"
operators      = [{ name = "lido-1" }]

[[pools]]
name      = "steth-eth"
coins     = ["ETH", "stETH"]
a         = 50
fee       = "0.04%"
liquidity = ["20_000 ETH", "20_000 stETH"]

[[accounts]]
name     = "whale"
balances = ["100_000 ETH"]

[[actions]]
at      = "start"
account = "whale"
do      = "stake"
lst     = "stETH"
amount  = "100_000 ETH"

# SURGE

[[events]]
at       = "day 5"
kind     = "sell_off"
pool     = "steth-eth"
fraction = "40%"
"#;

const SURGE: &str = r#"[[events]]
at      = "day 4"
kind    = "withdrawal_surge"
lst     = "stETH"
account = "whale"
amount  = "all""#;

fn agent(cost: &str, capital: &str) -> String {
    format!(
        "\n[[agents]]\nkind = \"arbitrageur\"\npool = \"steth-eth\"\ncost_of_capital = \"{cost}\"\nbalances = [\"{capital}\"]\n"
    )
}

/// Pool price of stETH (ETH) at each step, and the summary.
fn run(text: &str) -> (Vec<f64>, serde_json::Value) {
    let p = prepare(text, None).expect("scenario builds");
    let r = p.run(&mut |_, _| {}).expect("no invariant breaks");
    let c = r
        .columns
        .iter()
        .position(|c| c == "steth-eth.price")
        .expect("price column");
    (r.rows.iter().map(|row| row.values[c]).collect(), r.summary.markets)
}

#[test]
fn an_arbitrageur_closes_the_discount_a_sell_off_opens() {
    let (alone, m0) = run(WORLD);
    let (with, m) = run(&format!("{WORLD}{}", agent("5%", "5_000 ETH")));
    // Without it the 40 % sell-off leaves stETH 2.2 % under par for good.
    assert!(alone[6] < 0.979 && alone[15] < 0.979, "{alone:?}");
    assert!(m0.get("arbitrageurs").is_none());
    // With it the price is back within 10 bps of par the next day: the 4-bp fee, its 1.4-bp
    // hurdle (5 % a year over a one-day queue) and the curvature of a 0.001-ETH probe.
    assert!(with[6] > 0.998 && with[15] > 0.998, "{with:?}");
    let a = &m["arbitrageurs"][0];
    assert_eq!(a["name"], "arbitrageur");
    assert!(a["trades"].as_u64().unwrap() >= 2, "{a}");
    let (spent, value, back) = (
        a["eth_spent"].as_f64().unwrap(),
        a["redeemed_value_eth"].as_f64().unwrap(),
        a["eth_received"].as_f64().unwrap(),
    );
    // It bought more than its wallet (capital recycled through claims) below redemption value,
    // and never received more than it redeemed.
    assert!(spent > 5_000.0 && value > spent && back <= value, "{a}");
    assert_eq!(a["failed"], 0, "{a}");
}

#[test]
fn a_longer_queue_leaves_a_deeper_discount() {
    // The whale's 100k-stETH request the day before makes the queue a week long: at 50 % a year
    // the hurdle is ~94 bps and the arbitrageur leaves about that much of the discount; with the
    // one-day queue it leaves ~20 bps.
    let (short, _) = run(&format!("{WORLD}{}", agent("50%", "5_000 ETH")));
    let (long, m) = run(&format!(
        "{}{}",
        WORLD.replace("# SURGE", SURGE),
        agent("50%", "5_000 ETH")
    ));
    let (d_short, d_long) = (1.0 - short[6], 1.0 - long[6]);
    assert!(d_short < 0.003, "short queue: {short:?}");
    assert!(d_long > 0.008 && d_long < 0.0125, "long queue: {long:?}");
    // As the queue drains the hurdle falls and the price comes back.
    assert!(long[15] > 0.997, "{long:?}");
    assert!(m["arbitrageurs"][0]["below_hurdle"].as_u64().unwrap() > 0);
}

#[test]
fn a_smaller_wallet_absorbs_less_of_the_sell_off() {
    let (big, _) = run(&format!("{WORLD}{}", agent("5%", "5_000 ETH")));
    let (small, _) = run(&format!("{WORLD}{}", agent("5%", "500 ETH")));
    assert!(1.0 - small[6] > 5.0 * (1.0 - big[6]), "small {small:?} big {big:?}");
    // Recycled through the one-day queue, the small wallet closes the gap day by day.
    assert!(small[15] > small[6], "{small:?}");
}

fn scn_err(text: &str) -> String {
    match prepare(text, None) {
        Ok(_) => panic!("the scenario should be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn arbitrageur_keys_are_checked_at_their_path() {
    let with = |extra: &str| format!("{WORLD}\n[[agents]]\nkind = \"arbitrageur\"\n{extra}\n");
    let e = scn_err(&with("pool = \"nope\""));
    assert!(
        e.contains("agents[0].pool") && e.contains("nope") && e.contains("pools: steth-eth"),
        "{e}"
    );
    let e = scn_err(&with(""));
    assert!(e.contains("agents[0].pool") && e.contains("missing `pool`"), "{e}");
    let e = scn_err(&with("pool = \"steth-eth\"\ncost_of_capital = \"150%\""));
    assert!(
        e.contains("agents[0].cost_of_capital") && e.contains("at most 100%"),
        "{e}"
    );
    let e = scn_err(&with("pool = \"steth-eth\"\nmin_profit = \"1 ETH\""));
    assert!(
        e.contains("agents[0].min_profit") && e.contains("does not apply to kind = \"arbitrageur\""),
        "{e}"
    );
    let e = scn_err(&format!(
        "{WORLD}\n[[agents]]\nkind = \"liquidator\"\npool = \"steth-eth\"\n"
    ));
    assert!(
        e.contains("agents[0].pool") && e.contains("does not apply to kind = \"liquidator\""),
        "{e}"
    );
    let e = scn_err(&with(
        "pool = \"steth-eth\"\n[[agents]]\nkind = \"arbitrageur\"\npool = \"steth-eth\"",
    ));
    assert!(
        e.contains("agents[1].account") && e.contains("second arbitrageur"),
        "{e}"
    );
    let e = scn_err(&format!("{WORLD}\n[[agents]]\nkind = \"arbitrage\"\n"));
    assert!(
        e.contains("agents[0].kind") && e.contains("liquidator, arbitrageur, panic_seller"),
        "{e}"
    );
}

/// Holders of 8,000 stETH each, one panicking at a 0.5 % discount, one at 1.5 %; the sell-off
/// alone opens 2.2 %.
fn sellers(first: &str, second: &str) -> String {
    let mut t = String::new();
    for (name, d) in [("nervous", first), ("steady", second)] {
        t.push_str(&format!(
            "\n[[accounts]]\nname = \"{name}\"\nbalances = [\"8_000 ETH\"]\n\n[[actions]]\nat = \"start\"\naccount = \"{name}\"\ndo = \"stake\"\nlst = \"stETH\"\namount = \"8_000 ETH\"\n\n[[agents]]\nkind = \"panic_seller\"\naccount = \"{name}\"\npool = \"steth-eth\"\ndiscount = \"{d}\"\ntranches = 4\nevery = \"1d\"\njitter = \"50%\"\n"
        ));
    }
    t
}

#[test]
fn panic_sellers_deepen_a_depeg_in_tranches_at_their_thresholds() {
    let (alone, _) = run(WORLD);
    let (panicked, m) = run(&format!("{WORLD}{}", sellers("0.5%", "1.5%")));
    // Both thresholds are crossed by the sell-off; their 16,000 stETH in tranches take the pool
    // far below the sell-off's 2.2 %.
    assert!(panicked[8] < alone[8] - 0.02, "alone {alone:?} panicked {panicked:?}");
    let list = m["panic_sellers"].as_array().unwrap();
    for s in list {
        assert_eq!(s["triggered"], "2025-01-06", "{s}");
        assert_eq!(s["tranches_sold"], 4, "{s}");
        let (sold, value, got) = (
            s["tokens_sold"].as_f64().unwrap(),
            s["value_sold_eth"].as_f64().unwrap(),
            s["eth_received"].as_f64().unwrap(),
        );
        // 8,000 stETH staked at the start plus five days of rebases: the last tranche sells the rest.
        assert!(sold > 8_000.0 && sold < 8_050.0, "{s}");
        assert!(got < value && s["loss_eth"].as_f64().unwrap() > 0.0, "{s}");
    }
    // A threshold the sell-off does not reach leaves that holder alone.
    let (_, m) = run(&format!("{WORLD}{}", sellers("0.5%", "30%")));
    assert!(
        m["panic_sellers"][1]["triggered"].is_null(),
        "{}",
        m["panic_sellers"][1]
    );
    assert_eq!(m["panic_sellers"][1]["tranches_sold"], 0);
}

#[test]
fn an_arbitrageur_buys_what_panic_sellers_dump() {
    let (panicked, _) = run(&format!("{WORLD}{}", sellers("0.5%", "1.5%")));
    let (met, m) = run(&format!(
        "{WORLD}{}{}",
        sellers("0.5%", "1.5%"),
        agent("5%", "20_000 ETH")
    ));
    assert!(met[8] > panicked[8] + 0.02, "met {met:?} panicked {panicked:?}");
    assert!(m["arbitrageurs"][0]["spread_eth"].as_f64().unwrap() > 0.0);
}

#[test]
fn panic_seller_sizes_are_seeded_per_path() {
    let text = format!("{WORLD}{}", sellers("0.5%", "1.5%"));
    let hash = |seed: u64| {
        let p = prepare(&text, Some(seed)).expect("builds");
        p.run(&mut |_, _| {}).expect("runs").summary.final_state_hash
    };
    assert_eq!(hash(1), hash(1));
    assert_ne!(hash(1), hash(2), "jittered tranche sizes differ between seeds");
}

#[test]
fn panic_seller_keys_are_checked_at_their_path() {
    let with = |extra: &str| format!("{WORLD}\n[[agents]]\nkind = \"panic_seller\"\npool = \"steth-eth\"\n{extra}\n");
    let e = scn_err(&with(""));
    assert!(e.contains("agents[0]") && e.contains("needs `discount`"), "{e}");
    let e = scn_err(&with("discount = \"0%\""));
    assert!(e.contains("agents[0].discount") && e.contains("above 0"), "{e}");
    let e = scn_err(&with("after = \"day 3\"\ntranches = 0"));
    assert!(
        e.contains("agents[0].tranches") && e.contains("between 1 and 1,000"),
        "{e}"
    );
    let e = scn_err(&with("after = \"someday\""));
    assert!(e.contains("agents[0].after") && e.contains("someday"), "{e}");
    let e = scn_err(&with("after = \"day 3\"\njitter = \"120%\""));
    assert!(e.contains("agents[0].jitter") && e.contains("at most 100%"), "{e}");
    let e = scn_err(&with("after = \"day 3\"\ncost_of_capital = \"5%\""));
    assert!(
        e.contains("agents[0].cost_of_capital") && e.contains("panic_seller"),
        "{e}"
    );
}

const PULL: &str = r#"
[[events]]
at       = "day 4"
kind     = "liquidity_withdrawal"
pool     = "steth-eth"
fraction = "60%"
token    = "ETH"
"#;

#[test]
fn liquidity_pulled_in_eth_before_a_sell_off_deepens_the_depeg() {
    let (full, _) = run(WORLD);
    let (thin, _) = run(&format!("{WORLD}{PULL}"));
    // The one-coin ETH withdrawal alone tilts the pool; the same sell-off (40 % of a smaller
    // stETH side) then meets less ETH and leaves a deeper discount.
    assert!(thin[4] < full[4], "{thin:?} {full:?}");
    assert!(thin[6] < full[6] - 0.01, "thin {thin:?} full {full:?}");
}

#[test]
fn a_liquidity_withdrawal_without_lp_tokens_is_rejected_and_changes_nothing() {
    use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
    use stake_engine::markets::MarketAction;
    let mut w = prepare(WORLD, None).expect("builds").world().clone();
    let before = w.state_hash();
    let out = w.apply(&Tx {
        sender: SYSTEM.into(),
        action: Action::Market(MarketAction::LiquidityWithdrawal {
            pool: "steth-eth".into(),
            fraction_bps: 5_000,
            token: None,
            provider: "whale".into(),
        }),
    });
    let Outcome::Rejected(r) = out else { panic!("accepted") };
    assert!(r.message.contains("whale's LP in steth-eth"), "{}", r.message);
    assert_eq!(w.state_hash(), before);
    // A random sell-off process on an unknown pool is refused and starts nothing.
    let out = w.apply(&Tx {
        sender: SYSTEM.into(),
        action: Action::Market(MarketAction::StartSellOffs {
            pool: "nope".into(),
            per_year: stake_math::u(6) * stake_math::WAD,
            fraction_bps: 500,
            jitter: stake_math::U256::ZERO,
            duration: 0,
        }),
    });
    let Outcome::Rejected(r) = out else { panic!("accepted") };
    assert!(r.message.contains("nope"), "{}", r.message);
    assert_eq!(w.state_hash(), before);
    assert!(w.markets.sell_off_processes.is_empty());
    let e = scn_err(&format!("{WORLD}{}", PULL.replace("60%", "0%")));
    assert!(
        e.contains("events") && e.contains("fraction") && e.contains("between 0 and 100%"),
        "{e}"
    );
    let e = scn_err(&format!("{WORLD}{}", PULL.replace("\"ETH\"", "\"rETH\"")));
    assert!(e.contains("token") && e.contains("not a coin of steth-eth"), "{e}");
}

#[test]
fn the_shipped_depeg_comes_from_its_mechanism_and_heals_as_the_queue_drains() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/steth-depeg.toml"))
        .expect("scenario file");
    let (price, m) = run(&text);
    // Before the events the pool sits at par; the LP's ETH withdrawal, the dump and the panic
    // open a discount of more than 2 %; the arbitrageur's capital is locked in a queue of weeks,
    // so it lasts; once the queue has drained the price is back within 0.2 % of par.
    assert!(price[9] > 0.999, "{price:?}");
    let min = price.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(min < 0.98, "{price:?}");
    assert!(price[25] < 0.98, "the depeg lasts while the queue is long: {price:?}");
    assert!(price[59] > 0.998, "{price:?}");
    assert_eq!(m["panic_sellers"][0]["triggered"], "2025-03-12");
    assert!(m["arbitrageurs"][0]["spread_eth"].as_f64().unwrap() > 0.0);
}

const RANDOM: &str = r#"
[[events]]
at       = "day 1"
kind     = "random_sell_offs"
pool     = "steth-eth"
per_year = "36"
fraction = "3%"
jitter   = "100%"
duration = "14d"
"#;

#[test]
fn random_sell_offs_are_drawn_per_seed_and_stop_after_their_duration() {
    let text = format!("{WORLD}{RANDOM}");
    let run_seed = |seed: u64| {
        let p = prepare(&text, Some(seed)).expect("builds");
        let r = p.run(&mut |_, _| {}).expect("runs");
        let c = r.columns.iter().position(|c| c == "steth-eth.price").unwrap();
        let prices: Vec<f64> = r.rows.iter().map(|row| row.values[c]).collect();
        (
            r.summary.markets["sell_offs"].as_u64().unwrap_or(0),
            prices,
            r.summary.final_state_hash,
        )
    };
    let runs: Vec<_> = (1..=12).map(run_seed).collect();
    // 36 a year over 14 days is 1.4 expected; the scripted day-5 sell-off adds one.
    let counts: Vec<u64> = runs.iter().map(|r| r.0).collect();
    assert!(counts.iter().all(|c| *c >= 1), "{counts:?}");
    let mean = counts.iter().sum::<u64>() as f64 / counts.len() as f64 - 1.0;
    assert!(mean > 0.3 && mean < 3.5, "random sell-offs per path {counts:?}");
    assert!(counts.iter().any(|c| *c != counts[0]), "paths differ: {counts:?}");
    // Nothing random after day 15: the last day moves the price by rebases only.
    for (_, p, _) in &runs {
        assert!((p[15] - p[16]).abs() < 1e-4, "{p:?}");
    }
    assert_eq!(run_seed(3).2, runs[2].2, "the same seed, the same sell-offs");
    let e = scn_err(&format!("{WORLD}{}", RANDOM.replace("\"36\"", "\"0\"")));
    assert!(e.contains("per_year") && e.contains("between 0 and 365"), "{e}");
    let e = scn_err(&format!("{WORLD}{}", RANDOM.replace("\"100%\"", "\"150%\"")));
    assert!(e.contains("jitter") && e.contains("at most 100%"), "{e}");
}
