//! Scenario controls of oracle feeds (SPEC §7.1): freeze (tested with the markets), lag, and
//! manipulate with automatic restore, through `World::apply` and from scenario files.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::markets::{MarketAction, PriceSet};
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_markets::oracle::FeedKey;
use stake_math::{I256, U256, WAD};

const DAY: u64 = 86_400;

const BASE: &str = r#"
[clock]
start = "2025-01-01"
horizon = "20d"
step = "1d"

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.stETH]
model = "lido"
initial_pooled = "500_000 ETH"
operators = [{ name = "op-1" }]

[market.ETH_USD]
start = "3000"

[lending.aave]
reserves = [{ asset = "WETH", initial_supply = "10_000 WETH" }, { asset = "wstETH" }]
"#;

fn world() -> World {
    prepare(BASE, None).expect("scenario builds").world().clone()
}

fn sys(w: &mut World, action: MarketAction) {
    let t = Tx {
        sender: SYSTEM.into(),
        action: Action::Market(action),
    };
    match w.apply(&t) {
        Outcome::Applied { .. } => {}
        Outcome::Rejected(r) => panic!("{} rejected: [{}] {}", t.action.describe(), r.code, r.message),
    }
    w.check_invariants().unwrap();
}

fn advance(w: &mut World, to: u64) {
    match w.apply(&Tx {
        sender: SYSTEM.into(),
        action: Action::AdvanceTime { to },
    }) {
        Outcome::Applied { .. } => {}
        Outcome::Rejected(r) => panic!("advance rejected: [{}] {}", r.code, r.message),
    }
    w.check_invariants().unwrap();
}

fn key(w: &World, sym: &str) -> FeedKey {
    if sym == "ETH" {
        return w.markets.eth_usd_key.unwrap();
    }
    let id = w.ledger.asset(sym).unwrap();
    w.markets.feeds.iter().find(|f| f.asset == id).unwrap().key
}

fn served(w: &World, sym: &str) -> U256 {
    w.markets.oracles.price_unchecked(key(w, sym), w.now).unwrap().value
}

fn latest(w: &World, sym: &str) -> U256 {
    w.markets.oracles.feed(key(w, sym)).unwrap().latest().unwrap().value
}

#[test]
fn a_manipulated_feed_serves_the_set_price_until_its_duration_ends() {
    let mut w = world();
    let start = w.now;
    advance(&mut w, start + DAY);
    let p0 = served(&w, "wstETH");
    // −20 % of the served price, floored in the feed's 8 decimals.
    sys(
        &mut w,
        MarketAction::OracleManipulate {
            asset: "wstETH".into(),
            price: PriceSet::Relative(I256::new(-200_000_000_000_000_000)),
            duration: 2 * DAY,
        },
    );
    assert_eq!(served(&w, "wstETH"), p0 * U256::from(8u8) / U256::from(10u8));
    // Still manipulated a day later, although the live feed published again.
    advance(&mut w, start + 2 * DAY);
    assert_eq!(served(&w, "wstETH"), p0 * U256::from(8u8) / U256::from(10u8));
    // At the first frame after the two days the override is gone: the live answer is served.
    advance(&mut w, start + 4 * DAY);
    assert!(w.markets.restore.is_empty());
    // Live: the wstETH/ETH rate (wad) × ETH/USD (8 decimals), floored.
    assert_eq!(served(&w, "wstETH"), latest(&w, "wstETH") * served(&w, "ETH") / WAD);
    assert_ne!(served(&w, "wstETH"), p0 * U256::from(8u8) / U256::from(10u8));

    // An absolute USD price is scaled to the feed's 8 decimals; restore removes it at once.
    sys(
        &mut w,
        MarketAction::OracleManipulate {
            asset: "ETH".into(),
            price: PriceSet::UsdWad(U256::from(2_500u32) * WAD),
            duration: 0,
        },
    );
    assert_eq!(served(&w, "ETH"), U256::from(250_000_000_000u64));
    sys(&mut w, MarketAction::OracleRestore { asset: "ETH".into() });
    assert_eq!(served(&w, "ETH"), U256::from(300_000_000_000u64));
}

#[test]
fn a_lagged_feed_serves_the_answer_of_lag_seconds_ago() {
    let mut w = world();
    let start = w.now;
    advance(&mut w, start + 5 * DAY);
    let before = served(&w, "ETH");
    assert_eq!(before, U256::from(300_000_000_000u64));
    sys(
        &mut w,
        MarketAction::OracleLag {
            asset: "ETH".into(),
            lag: 2 * DAY,
        },
    );
    // ETH/USD −30 %: the live feed publishes 2,100 at once, the lagged read still says 3,000.
    sys(&mut w, MarketAction::PriceShock { factor_bps: 7_000 });
    assert_eq!(latest(&w, "ETH"), U256::from(210_000_000_000u64));
    assert_eq!(served(&w, "ETH"), before);
    advance(&mut w, start + 8 * DAY);
    assert_eq!(served(&w, "ETH"), U256::from(210_000_000_000u64));
    // Lag 0 (or restore) serves the live answer.
    sys(
        &mut w,
        MarketAction::OracleLag {
            asset: "ETH".into(),
            lag: 0,
        },
    );
    assert_eq!(served(&w, "ETH"), latest(&w, "ETH"));
}

#[test]
fn oracle_controls_of_a_token_without_a_feed_or_from_a_user_change_nothing() {
    let mut w = world();
    let cases = [
        (
            SYSTEM,
            MarketAction::OracleManipulate {
                asset: "stETH".into(),
                price: PriceSet::Relative(I256::new(-1)),
                duration: 0,
            },
            6908,
        ),
        (
            SYSTEM,
            MarketAction::OracleLag {
                asset: "stETH".into(),
                lag: 60,
            },
            6908,
        ),
        (SYSTEM, MarketAction::OracleRestore { asset: "stETH".into() }, 6908),
        (
            "mallory",
            MarketAction::OracleManipulate {
                asset: "ETH".into(),
                price: PriceSet::UsdWad(WAD),
                duration: 0,
            },
            9000,
        ),
    ];
    for (sender, action, code) in cases {
        let before = w.state_hash();
        let t = Tx {
            sender: sender.into(),
            action: Action::Market(action),
        };
        let out = w.apply(&t);
        let r = out.rejection().expect("rejected");
        assert_eq!(r.code, code, "{}: {}", t.action.describe(), r.message);
        assert_eq!(before, w.state_hash(), "a rejection changed the state");
    }
}

#[test]
fn oracle_controls_run_from_scenario_files_and_bad_values_point_at_the_key() {
    let text = format!(
        "{BASE}\n[[events]]\nat = \"day 3\"\nkind = \"oracle_manipulate\"\ntoken = \"wstETH\"\nvalue = \"-50%\"\nduration = \"2d\"\n\
         [[events]]\nat = \"day 8\"\nkind = \"oracle_lag\"\ntoken = \"ETH\"\nduration = \"1d\"\n\
         [[events]]\nat = \"day 9\"\nkind = \"oracle_restore\"\ntoken = \"ETH\"\n"
    );
    let p = prepare(&text, None).expect("builds");
    let r = p.run(&mut |_, _| {}).expect("runs");
    assert_eq!(r.summary.rejected.len(), 0, "{:?}", r.summary.rejected);

    for (value, needle) in [
        ("abc", "expected a USD price"),
        ("-100%", "cannot fall"),
        ("0", "positive"),
    ] {
        let bad = format!(
            "{BASE}\n[[events]]\nat = \"day 3\"\nkind = \"oracle_manipulate\"\ntoken = \"ETH\"\nvalue = \"{value}\"\n"
        );
        let e = prepare(&bad, None).unwrap_err();
        assert_eq!(e.path, "events[0].value");
        assert!(e.message.contains(needle), "{value}: {}", e.message);
    }
    let bad = format!("{BASE}\n[[events]]\nat = \"day 3\"\nkind = \"oracle_lag\"\ntoken = \"ETH\"\n");
    assert_eq!(prepare(&bad, None).unwrap_err().path, "events[0].duration");
}
