//! L4 markets wired into the world: the shipped scenario runs end to end with real numbers,
//! composite actions (loops, sell-offs) compose L1 tokens with pools and Aave, and every
//! rejection leaves the state hash unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::markets::{LoopTarget, MarketAction};
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{u, U256, WAD};

const SCENARIO: &str = include_str!("../../../scenarios/lst-markets.toml");

const SMALL: &str = r#"
[clock]
start = "2025-01-01"
horizon = "10d"
step = "1d"

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.stETH]
model = "lido"
initial_pooled = "500_000 ETH"
operators = [{ name = "op-1" }]

[market.ETH_USD]
start = "3000"

[[pools]]
name = "steth-eth"
coins = ["ETH", "stETH"]
a = 50
liquidity = ["10_000 ETH", "10_000 stETH"]

[lending.aave]
reserves = [{ asset = "WETH", initial_supply = "WEITH_SUPPLY" }, { asset = "wstETH" }]

[[accounts]]
name = "alice"
balances = ["1_000 ETH"]
"#;

fn world(weth_supply: &str) -> World {
    prepare(&SMALL.replace("WEITH_SUPPLY", weth_supply), None)
        .expect("scenario builds")
        .world()
        .clone()
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

fn rejected(w: &mut World, t: Tx) -> u32 {
    let before = w.state_hash();
    let out = w.apply(&t);
    assert_eq!(before, w.state_hash(), "a rejection changed the state");
    out.rejection().expect("rejected").code
}

/// alice stakes 100 ETH and wraps it into wstETH.
fn with_wsteth(w: &mut World) -> U256 {
    ok(
        w,
        tx(
            "alice",
            Action::Stake {
                lst: "stETH".into(),
                amount: u(100) * WAD,
            },
        ),
    );
    let steth = w.ledger.asset("stETH").unwrap();
    let acct = w.ledger.find_account("alice").unwrap();
    let _ = steth;
    let bal = match &w.lsts[0].model {
        stake_engine::lst::LstModel::Lido(l) => l.balance_of(&w.ledger, acct).unwrap(),
        _ => unreachable!(),
    };
    ok(
        w,
        tx(
            "alice",
            Action::Wrap {
                lst: "stETH".into(),
                amount: bal,
            },
        ),
    );
    w.ledger.balance(acct, w.ledger.asset("wstETH").unwrap())
}

#[test]
fn the_shipped_scenario_runs_with_pools_loops_pendle_and_a_sell_off() {
    let p = prepare(SCENARIO, None).expect("scenario builds");
    let r = p.run(&mut |_, _| {}).expect("no invariant breaks");
    let m = &r.summary.markets;
    // Pools: the sell-off pushed stETH below peg; the stETH side grew with rebases and the dump.
    let pools = m["pools"].as_array().unwrap();
    assert_eq!(pools.len(), 2);
    let steth = &pools[0];
    assert_eq!(steth["name"], "steth-eth");
    assert!(steth["price"].as_f64().unwrap() < 1.0);
    assert!(steth["balances"][1].as_f64().unwrap() > 61_000.0);
    let d1 = steth["discount_1pct"].as_f64().unwrap();
    let d10 = steth["discount_10pct"].as_f64().unwrap();
    assert!(d1 > 0.0 && d10 > d1, "depth grows with size: {d1} {d10}");
    assert_eq!(m["sell_offs"], 1);
    // Aave: three loopers, a cautious borrower and a PT-collateral borrower, nobody liquidated.
    let aave = &m["aave"];
    assert_eq!(aave["borrowers"], 5);
    assert_eq!(aave["liquidations"], 0);
    let min_hf = aave["min_health_factor"].as_f64().unwrap();
    assert!(
        min_hf > 1.0 && min_hf < 1.05,
        "the HF-target looper sits just above 1: {min_hf}"
    );
    let weth = &aave["reserves"][0];
    assert_eq!(weth["symbol"], "WETH");
    let util = weth["utilization_pct"].as_f64().unwrap();
    assert!(util > 5.0 && util < 7.0, "{util}");
    // Pendle: the PT purchase moved the implied rate off the 5 % anchor.
    let pt = &m["pendle"][0];
    let apy = pt["implied_apy_pct"].as_f64().unwrap();
    assert!(apy > 3.0 && apy < 5.0, "{apy}");
    assert!(pt["pt_price"].as_f64().unwrap() < 1.0);
    // Day 122: the wstETH oracle has been frozen for two days; Aave reads its latest answer
    // whatever its age (as AaveOracle does), so the borrow goes through at the frozen price and
    // nothing is rejected.
    assert!(r.summary.rejected.is_empty(), "{:?}", r.summary.rejected);
    // Morpho: the pool-priced wstETH/WETH market liquidates its three tightest borrowers after
    // the day-60 sell-off; Aave's exchange-rate feed does not move.
    let mo = &m["morpho"][0];
    assert_eq!(mo["name"], "morpho-wsteth");
    assert_eq!(mo["liquidations"], 3);
    assert_eq!(mo["bad_debt"], "0");
    assert_eq!(m["liquidator"]["morpho"], 3);
    assert_eq!(m["liquidator"]["aave"], 0);
    assert!(r.columns.iter().any(|c| c == "steth-eth.discount_5pct"));
    // Deterministic.
    let p2 = prepare(SCENARIO, None).unwrap();
    let r2 = p2.run(&mut |_, _| {}).unwrap();
    assert_eq!(r.summary.final_state_hash, r2.summary.final_state_hash);
}

#[test]
fn a_loop_reaches_its_leverage_target_in_e_mode() {
    let mut w = world("50_000 WETH");
    let wst = with_wsteth(&mut w);
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::Loop {
                collateral: "wstETH".into(),
                debt: "WETH".into(),
                amount: wst,
                target: LoopTarget::Leverage(u(3) * WAD),
            }),
        ),
    );
    let acct = w.ledger.find_account("alice").unwrap();
    let aave = w.markets.aave.as_ref().unwrap();
    assert_eq!(aave.user_config(acct).emode, 1);
    let wsteth = w.ledger.asset("wstETH").unwrap();
    let weth = w.ledger.asset("WETH").unwrap();
    let coll = aave.a_token_balance(&w.ledger, acct, wsteth, w.now).unwrap();
    let debt = aave.debt_balance(&w.ledger, acct, weth, w.now).unwrap();
    // In ETH: collateral = wstETH × rate (1.0 at genesis), equity = collateral − debt ≈ 100.
    let c = coll.as_f64() / 1e18;
    let d = debt.as_f64() / 1e18;
    let lev = c / (c - d);
    assert!((lev - 3.0).abs() < 0.01, "leverage {lev} (collateral {c}, debt {d})");
    assert!((d - 200.0).abs() < 1.0, "debt {d}");
}

#[test]
fn a_loop_that_fails_half_way_changes_nothing() {
    // Only 10 WETH to borrow: the first borrow of ~93 WETH fails after the supply and e-mode steps.
    let mut w = world("10 WETH");
    let wst = with_wsteth(&mut w);
    let code = rejected(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::Loop {
                collateral: "wstETH".into(),
                debt: "WETH".into(),
                amount: wst,
                target: LoopTarget::Leverage(u(3) * WAD),
            }),
        ),
    );
    assert!((6000..7000).contains(&code), "{code}");
}

#[test]
fn market_rejections_carry_their_codes_and_leave_the_hash_unchanged() {
    let mut w = world("50_000 WETH");
    let wst = with_wsteth(&mut w);
    let m = |a| Action::Market(a);
    assert_eq!(
        rejected(
            &mut w,
            tx(
                "alice",
                m(MarketAction::Swap {
                    pool: "nope".into(),
                    token_in: "ETH".into(),
                    amount: WAD,
                    min_out: U256::ZERO
                })
            )
        ),
        6900
    );
    assert_eq!(
        rejected(
            &mut w,
            tx(
                "alice",
                m(MarketAction::Swap {
                    pool: "steth-eth".into(),
                    token_in: "wstETH".into(),
                    amount: WAD,
                    min_out: U256::ZERO
                })
            )
        ),
        6901
    );
    // Slippage bound: 1 ETH cannot buy 2 stETH.
    let code = rejected(
        &mut w,
        tx(
            "alice",
            m(MarketAction::Swap {
                pool: "steth-eth".into(),
                token_in: "ETH".into(),
                amount: WAD,
                min_out: u(2) * WAD,
            }),
        ),
    );
    assert!((6100..6200).contains(&code), "{code}");
    // A health-factor target at or below the e-mode liquidation threshold (95.5 %).
    assert_eq!(
        rejected(
            &mut w,
            tx(
                "alice",
                m(MarketAction::Loop {
                    collateral: "wstETH".into(),
                    debt: "WETH".into(),
                    amount: wst,
                    target: LoopTarget::HealthFactor(WAD * u(95) / u(100)),
                })
            )
        ),
        6906
    );
    // Borrowing without collateral: Aave's own rejection.
    let code = rejected(
        &mut w,
        tx(
            "alice",
            m(MarketAction::Borrow {
                token: "WETH".into(),
                amount: WAD,
            }),
        ),
    );
    assert!((6200..6300).contains(&code), "{code}");
    // System events from a user.
    assert_eq!(
        rejected(&mut w, tx("alice", m(MarketAction::PriceShock { factor_bps: 7_000 }))),
        9000
    );
}

#[test]
fn a_sell_off_sells_the_pools_lst_for_eth_and_depegs_it() {
    let mut w = world("50_000 WETH");
    let e = &w.markets.pools[0];
    let coins = stake_engine::markets::MarketWorld::default();
    let _ = coins;
    let before = e.pool.lp_supply;
    ok(
        &mut w,
        tx(
            SYSTEM,
            Action::Market(MarketAction::SellOff {
                pool: "steth-eth".into(),
                fraction_bps: 1_000,
                seller: "panic-seller".into(),
                acquire: true,
            }),
        ),
    );
    assert_eq!(w.markets.pools[0].pool.lp_supply, before);
    let eth = w.eth_asset;
    let seller = w.ledger.find_account("panic-seller").unwrap();
    let got = w.ledger.balance(seller, eth).as_f64() / 1e18;
    // Sold ~1,000 stETH (10 % of the pool's 10,000) into a balanced A = 50 pool: a little less ETH.
    assert!(got > 990.0 && got < 1_000.0, "{got}");
    assert_eq!(w.markets.sell_offs, 1);
}
