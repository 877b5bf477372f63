//! PT collateral feeds (linear discount and TWAP), pool depth measured against the fair price of
//! an exchange-rate coin, and the ETH/USD paths (jump-diffusion, CSV replay) through the world.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::markets::MarketAction;
use stake_engine::runner::{prepare, prepare_with_data};
use stake_engine::world::World;
use stake_markets::oracle::{Denom, FeedKey};
use stake_math::{u, U256, WAD};
use std::collections::BTreeMap;

const DAY: u64 = 86_400;

fn pendle_world(feed: &str) -> World {
    let text = format!(
        r#"
[clock]
start = "2025-01-01"
horizon = "120d"
step = "1d"

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.stETH]
model = "lido"
initial_pooled = "500_000 ETH"
operators = [{{ name = "op-1" }}]

[market.ETH_USD]
start = "3000"

[[pendle]]
name = "PT-wst"
underlying = "wstETH"
expiry = "day 73"
scalar_root = "20"
initial_anchor = "1.05"
liquidity = "10_000 wstETH"

[lending.aave]
reserves = [
  {{ asset = "WETH", initial_supply = "10_000 WETH" }},
  {{ asset = "wstETH" }},
  {{ asset = "PT-wst", ltv = "80%", liquidation_threshold = "85%" }},
]

[[oracles]]
asset = "PT-wst"
kind = "pt"
{feed}

[[accounts]]
name = "alice"
balances = ["5_000 ETH"]
"#
    );
    prepare(&text, None).expect("scenario builds").world().clone()
}

fn tx(sender: &str, action: Action) -> Tx {
    Tx {
        sender: sender.into(),
        action,
    }
}

fn ok(w: &mut World, t: Tx) {
    match w.apply(&t) {
        Outcome::Applied { .. } => {}
        Outcome::Rejected(r) => panic!("{} rejected: [{}] {}", t.action.describe(), r.code, r.message),
    }
    w.check_invariants().unwrap();
}

fn advance_to(w: &mut World, to: u64) {
    ok(w, tx(SYSTEM, Action::AdvanceTime { to }));
}

fn pt_usd(w: &World) -> U256 {
    let pt = w.markets.pendle.as_ref().unwrap().yield_contracts[0].pt;
    let key = FeedKey {
        asset: pt,
        denom: Denom::Usd,
    };
    w.markets.oracles.price_unchecked(key, w.now).unwrap().value
}

fn stake_and_wrap(w: &mut World, who: &str, eth: u128) -> U256 {
    ok(
        w,
        tx(
            who,
            Action::Stake {
                lst: "stETH".into(),
                amount: u(eth) * WAD,
            },
        ),
    );
    let acct = w.ledger.find_account(who).unwrap();
    let st = match &w.lsts[0].model {
        stake_engine::lst::LstModel::Lido(l) => l.balance_of(&w.ledger, acct).unwrap(),
        _ => unreachable!(),
    };
    ok(
        w,
        tx(
            who,
            Action::Wrap {
                lst: "stETH".into(),
                amount: st,
            },
        ),
    );
    w.ledger.balance(acct, w.ledger.asset("wstETH").unwrap())
}

#[test]
fn a_linear_discount_pt_feed_is_exact_and_reaches_the_underlying_at_expiry() {
    let mut w = pendle_world("max_rate = \"20%\"");
    let start = w.now;
    // 73 days = 0.2 year: 1 − 20 % × 0.2 = 0.96 → 0.96 × $3,000 = $2,880 (8 decimals).
    assert_eq!(pt_usd(&w), U256::from(288_000_000_000u64));
    // Half way: 1 − 0.2 × 36.5/365 = 0.98.
    advance_to(&mut w, start + 73 * DAY / 2);
    assert_eq!(pt_usd(&w), U256::from(294_000_000_000u64));
    advance_to(&mut w, start + 73 * DAY);
    assert_eq!(pt_usd(&w), U256::from(300_000_000_000u64));
    advance_to(&mut w, start + 90 * DAY);
    assert_eq!(pt_usd(&w), U256::from(300_000_000_000u64));
}

#[test]
fn pt_is_aave_collateral_priced_by_its_feed() {
    let mut w = pendle_world("max_rate = \"20%\"");
    let wst = stake_and_wrap(&mut w, "alice", 1_000);
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::BuyPt {
                market: "PT-wst".into(),
                amount: wst,
                min_out: U256::ZERO,
            }),
        ),
    );
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::Supply {
                token: "PT-wst".into(),
                amount: U256::MAX,
            }),
        ),
    );
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::Borrow {
                token: "WETH".into(),
                amount: u(500) * WAD,
            }),
        ),
    );
    // ~1,040 PT at 0.96 ≈ 1,000 ETH of collateral, LT 85 %, debt 500: HF ≈ 1.7.
    let s = stake_engine::markets::summary(&w).0;
    let hf = s["aave"]["min_health_factor"].as_f64().unwrap();
    assert!(hf > 1.5 && hf < 1.9, "{hf}");
    // Beyond the LTV (80 %): Aave's own rejection, nothing changes.
    let before = w.state_hash();
    let out = w.apply(&tx(
        "alice",
        Action::Market(MarketAction::Borrow {
            token: "WETH".into(),
            amount: u(400) * WAD,
        }),
    ));
    assert_eq!(before, w.state_hash());
    assert!((6200..6300).contains(&out.rejection().unwrap().code));
}

#[test]
fn a_twap_pt_feed_lags_a_manipulated_spot_and_ends_at_the_underlying() {
    let mut w = pendle_world("twap = \"1d\"");
    let start = w.now;
    let wst = stake_and_wrap(&mut w, "alice", 3_000);
    advance_to(&mut w, start + DAY - 3_600);
    let p0 = pt_usd(&w).as_f64();
    let spot0 = stake_engine::markets::summary(&w).0["pendle"][0]["pt_price"]
        .as_f64()
        .unwrap();
    // One hour before the next frame, a whale buys PT with 3,000 wstETH: the spot PT price jumps.
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::BuyPt {
                market: "PT-wst".into(),
                amount: wst,
                min_out: U256::ZERO,
            }),
        ),
    );
    let spot1 = stake_engine::markets::summary(&w).0["pendle"][0]["pt_price"]
        .as_f64()
        .unwrap();
    assert!(spot1 - spot0 > 0.005, "spot PT {spot0} → {spot1}");
    advance_to(&mut w, start + DAY);
    let p1 = pt_usd(&w).as_f64();
    // The 1-day TWAP saw the new rate for 1 hour out of 24: it moved by about 1/24 of the spot.
    let spot_move = (spot1 - spot0) * 3_000.0 * 1e8;
    assert!(p1 > p0, "{p0} → {p1}");
    assert!(p1 - p0 < spot_move / 8.0, "TWAP moved {} vs spot {spot_move}", p1 - p0);
    // At expiry the PT is worth the underlying.
    advance_to(&mut w, start + 74 * DAY);
    assert_eq!(pt_usd(&w), U256::from(300_000_000_000u64));
}

#[test]
fn pt_feed_configuration_errors_point_at_the_key() {
    let text = |feed: &str| {
        format!(
            r#"
[clock]
start = "2025-01-01"
horizon = "10d"
step = "1d"
[chains.ethereum]
staked = "1_000_000 ETH"
[lst.stETH]
model = "lido"
initial_pooled = "500_000 ETH"
operators = [{{ name = "op-1" }}]
[market.ETH_USD]
start = "3000"
[[pendle]]
name = "PT-wst"
underlying = "wstETH"
expiry = "day 73"
scalar_root = "20"
initial_anchor = "1.05"
liquidity = "1_000 wstETH"
[lending.aave]
reserves = [{{ asset = "WETH" }}, {{ asset = "PT-wst" }}]
[[oracles]]
asset = "PT-wst"
kind = "pt"
{feed}
"#
        )
    };
    let e = prepare(&text("max_rate = \"20%\"\ntwap = \"1d\""), None).unwrap_err();
    assert_eq!(e.path, "oracles[0]");
    let e = prepare(&text(""), None).unwrap_err();
    assert_eq!(e.path, "oracles[0]");
    let e = prepare(&text("twap = \"0s\""), None).unwrap_err();
    assert_eq!(e.path, "oracles[0].twap");
    let e = prepare(&text("max_rate = \"150%\""), None).unwrap_err();
    assert_eq!(e.path, "oracles[0].max_rate");
    let e = prepare(&text("max_rate = \"20%\"\nmarket = \"PT-x\""), None).unwrap_err();
    assert_eq!(e.path, "oracles[0].market");
    // Without a PT feed a PT reserve cannot be priced.
    let no_feed = text("max_rate = \"20%\"").replace("kind = \"pt\"\nmax_rate = \"20%\"", "kind = \"exchange_rate\"");
    let e = prepare(&no_feed, None).unwrap_err();
    assert!(e.message.contains("is a PT"), "{}", e.message);
}

const RATED: &str = r#"
[clock]
start = "2025-01-01"
horizon = "10d"
step = "1d"

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.cbETH]
model = "exchange_rate"

[[pools]]
name = "cbeth-eth"
coins = ["ETH", "cbETH"]
a = 50
fee = "0.04%"
liquidity = ["1_000 ETH", "1_000 cbETH"]

[[accounts]]
name = "alice"
balances = ["5_000 ETH"]
"#;

#[test]
fn an_exchange_rate_coin_trades_at_its_rate_and_depth_is_measured_against_it() {
    let mut w = prepare(RATED, None).unwrap().world().clone();
    // cbETH accrues 10 % (the LST's own backing rule is not the point here: only the markets'
    // invariants are checked below).
    match &mut w.lsts[0].model {
        stake_engine::lst::LstModel::ExchangeRate(x) => x.rate_wad = WAD * u(11) / u(10),
        _ => unreachable!(),
    }
    let apply = |w: &mut World, t: Tx| {
        match w.apply(&t) {
            Outcome::Applied { .. } => {}
            Outcome::Rejected(r) => panic!("{} rejected: [{}] {}", t.action.describe(), r.code, r.message),
        }
        w.markets.check_invariants(&w.ledger).unwrap();
    };
    // The pool's 1,000 cbETH are now worth 1,100 ETH: 100 ETH rebalance it in value.
    apply(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::AddLiquidity {
                pool: "cbeth-eth".into(),
                token: "ETH".into(),
                amount: u(100) * WAD,
            }),
        ),
    );
    let s = stake_engine::markets::summary(&w).0;
    let p = &s["pools"][0];
    // Balances are reported in tokens (LP part: the admin's share of fees is not counted).
    assert!((p["balances"][1].as_f64().unwrap() - 1_000.0).abs() < 0.01, "{p}");
    assert!((p["balances"][0].as_f64().unwrap() - 1_100.0).abs() < 0.01, "{p}");
    // Selling 1 % of the cbETH costs about the 0.04 % fee plus a little price impact — not the
    // 10 % gap between the rate and a 1:1 peg; the price is quoted against the fair value
    // (1 = at the protocol rate).
    let d1 = p["discount_1pct"].as_f64().unwrap();
    assert!(d1 > 0.0004 && d1 < 0.0007, "1% depth discount {d1}");
    let price = p["price"].as_f64().unwrap();
    assert!((price - 0.9996).abs() < 0.0002, "price vs fair {price}");
    // A real swap: 10 cbETH buy ~11 ETH less the fee.
    apply(
        &mut w,
        tx(
            "alice",
            Action::Stake {
                lst: "cbETH".into(),
                amount: u(110) * WAD,
            },
        ),
    );
    let cb = w.ledger.asset("cbETH").unwrap();
    let alice = w.ledger.find_account("alice").unwrap();
    assert_eq!(w.ledger.balance(alice, cb), u(100) * WAD);
    let eth_before = w.ledger.balance(alice, w.eth_asset);
    apply(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::Swap {
                pool: "cbeth-eth".into(),
                token_in: "cbETH".into(),
                amount: u(10) * WAD,
                min_out: u(10) * WAD,
            }),
        ),
    );
    let got = (w.ledger.balance(alice, w.eth_asset) - eth_before).as_f64() / 1e18;
    assert!(got > 10.98 && got < 11.0, "10 cbETH → {got} ETH");
    let left = w.ledger.balance(alice, cb);
    assert!(u(90) * WAD - left <= U256::ONE, "{left}");
    // min_out is in tokens of the coin received: 11 ETH is not reachable.
    let before = w.state_hash();
    let out = w.apply(&tx(
        "alice",
        Action::Market(MarketAction::Swap {
            pool: "cbeth-eth".into(),
            token_in: "cbETH".into(),
            amount: u(10) * WAD,
            min_out: u(11) * WAD,
        }),
    ));
    assert_eq!(before, w.state_hash());
    assert!((6100..6200).contains(&out.rejection().unwrap().code));
}

const PATHS: &str = r#"
[clock]
start = "2025-01-01"
horizon = "60d"
step = "1d"
seed = 11

[chains.ethereum]
staked = "1_000_000 ETH"

[market.ETH_USD]
MODEL
"#;

fn final_price(text: &str, seed: Option<u64>, data: &BTreeMap<String, String>) -> f64 {
    let p = prepare_with_data(text, seed, data).unwrap();
    let r = p.run(&mut |_, _| {}).unwrap();
    r.summary.markets["eth_usd"].as_f64().unwrap()
}

#[test]
fn a_jump_diffusion_path_is_reproducible_from_its_seed() {
    let text = PATHS.replace(
        "MODEL",
        "model = \"jump_diffusion\"\nstart = \"3300\"\nvol = \"65%\"\njumps = { per_year = 3, mean = \"-12%\", stdev = \"8%\" }",
    );
    let none = BTreeMap::new();
    let a = final_price(&text, None, &none);
    assert_eq!(a, final_price(&text, None, &none));
    assert_ne!(a, final_price(&text.replace("seed = 11", "seed = 12"), None, &none));
    assert!(a > 0.0);
    // Bad jump parameters point at their key.
    let bad = text.replace("stdev = \"8%\"", "stdev = \"x\"");
    assert_eq!(prepare(&bad, None).unwrap_err().path, "market.ETH_USD.jumps.stdev");
    let bad = text.replace("jumps = { per_year = 3, mean = \"-12%\", stdev = \"8%\" }", "");
    assert_eq!(prepare(&bad, None).unwrap_err().path, "market.ETH_USD.jumps");
}

#[test]
fn a_replayed_csv_series_holds_each_price_and_reports_bad_lines() {
    let text = PATHS.replace("MODEL", "model = \"replay\"\npath = \"data/eth-usd-2025h1.csv\"");
    let mut data = BTreeMap::new();
    data.insert(
        "data/eth-usd-2025h1.csv".to_string(),
        include_str!("../../../scenarios/data/eth-usd-2025h1.csv").to_string(),
    );
    // The run ends on 2025-03-02 (day 60): the last row at or before it is 2025-02-26 → 2,500.
    assert_eq!(final_price(&text, None, &data), 2_500.0);
    // The file must be provided.
    let e = prepare(&text, None).unwrap_err();
    assert_eq!(e.path, "market.ETH_USD.path");
    assert!(e.message.contains("was not loaded"), "{}", e.message);
    // A bad row names its line.
    data.insert(
        "data/eth-usd-2025h1.csv".to_string(),
        "time,price\n2025-01-01,3300\n2025-01-02;3200\n".to_string(),
    );
    let e = prepare_with_data(&text, None, &data).unwrap_err();
    assert_eq!(e.path, "market.ETH_USD.path");
    assert!(
        e.message
            .starts_with("data/eth-usd-2025h1.csv: line 3: expected `time,price`"),
        "{}",
        e.message
    );
    // The runner lists the files a scenario needs.
    assert_eq!(
        stake_engine::runner::data_files(&text),
        vec!["data/eth-usd-2025h1.csv".to_string()]
    );
}
