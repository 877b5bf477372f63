//! Pendle user actions through the world: YT bought, claimed and sold; liquidity added keeping
//! the YT and removed; PT+YT redeemed before expiry and PT alone after; PT as Aave collateral.
//! Every rejection carries its exact code and leaves the state hash unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::markets::{MarketAction, PendleOp};
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{u, U256, WAD};

const SMALL: &str = r#"
[clock]
start = "2025-01-01"
horizon = "120d"
step = "1d"

[chains.ethereum]
staked = "1_000_000 ETH"

[lst.stETH]
model = "lido"
initial_pooled = "500_000 ETH"
operators = [{ name = "op-1" }]

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
  { asset = "WETH", initial_supply = "10_000 WETH" },
  { asset = "wstETH" },
  { asset = "PT-wst", ltv = "80%", liquidation_threshold = "85%" },
]

[[oracles]]
asset = "PT-wst"
kind = "pt"
max_rate = "20%"

[[accounts]]
name = "alice"
balances = ["1_000 ETH"]

[[accounts]]
name = "bob"
balances = ["100 ETH"]
"#;

const DAY: u64 = 86_400;

fn world() -> World {
    prepare(SMALL, None).expect("scenario builds").world().clone()
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

fn rejected(w: &mut World, who: &str, op: PendleOp) -> u32 {
    let before = w.state_hash();
    let out = w.apply(&tx(who, Action::Market(MarketAction::Pendle(op))));
    assert_eq!(before, w.state_hash(), "a rejection changed the state");
    out.rejection().expect("rejected").code
}

fn pendle(w: &mut World, who: &str, op: PendleOp) {
    ok(w, tx(who, Action::Market(MarketAction::Pendle(op))));
}

fn advance(w: &mut World, secs: u64) {
    let to = w.now + secs;
    ok(w, tx(SYSTEM, Action::AdvanceTime { to }));
}

fn bal(w: &World, who: &str, sym: &str) -> U256 {
    let a = w.ledger.find_account(who).unwrap();
    w.ledger.balance(a, w.ledger.asset(sym).unwrap())
}

fn pt_yt_lp(w: &World) -> (String, String, String) {
    let p = w.markets.pendle.as_ref().unwrap();
    let c = &p.yield_contracts[0];
    let m = &p.markets[0];
    (
        w.ledger.symbol(c.pt).to_string(),
        w.ledger.symbol(c.yt).to_string(),
        w.ledger.symbol(m.lp).to_string(),
    )
}

/// `who` stakes `eth` and wraps it all into wstETH; returns the wstETH.
fn wsteth(w: &mut World, who: &str, eth: u128) -> U256 {
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
    bal(w, who, "wstETH")
}

fn f(v: U256) -> f64 {
    v.as_f64() / 1e18
}

#[test]
fn yt_is_bought_with_leverage_earns_interest_and_is_sold_back() {
    let mut w = world();
    let start = wsteth(&mut w, "alice", 100);
    let (_, yt, _) = pt_yt_lp(&w);
    pendle(
        &mut w,
        "alice",
        PendleOp::BuyYt {
            market: "PT-wst".into(),
            amount: u(10) * WAD,
            min_out: U256::ZERO,
        },
    );
    // 10 wstETH buys YT at ~(1 − PT price) each: the market starts at its anchor 1.05 (PT
    // ≈ 0.952, YT ≈ 0.048), so ~200 YT.
    let y = f(bal(&w, "alice", &yt));
    assert!(y > 150.0 && y < 250.0, "YT bought: {y}");
    assert_eq!(bal(&w, "alice", "wstETH"), start - u(10) * WAD);
    // Thirty days of Lido rebases: the YT accrues stETH interest, paid in wstETH minus 5 %.
    let prev = f(w.markets.pendle.as_ref().unwrap().py_index(0, w.now).unwrap());
    advance(&mut w, 30 * DAY);
    let cur = f(w.markets.pendle.as_ref().unwrap().py_index(0, w.now).unwrap());
    assert!(cur > prev, "the index rose with Lido's rate: {prev} → {cur}");
    let before = bal(&w, "alice", "wstETH");
    pendle(
        &mut w,
        "alice",
        PendleOp::ClaimYt {
            market: "PT-wst".into(),
        },
    );
    let interest = f(bal(&w, "alice", "wstETH") - before);
    // YT·(cur − prev)/(prev·cur) SY, minus the 5 % interest fee.
    let expect = y * (cur - prev) / (prev * cur) * 0.95;
    assert!(
        (interest / expect - 1.0).abs() < 1e-6,
        "interest {interest} on {y} YT, expected {expect}"
    );
    // Sell it all back for wstETH.
    let before = bal(&w, "alice", "wstETH");
    pendle(
        &mut w,
        "alice",
        PendleOp::SellYt {
            market: "PT-wst".into(),
            amount: U256::MAX,
            min_out: U256::ZERO,
        },
    );
    assert_eq!(bal(&w, "alice", &yt), U256::ZERO);
    let back = f(bal(&w, "alice", "wstETH") - before);
    assert!(back > 1.0 && back < 10.0, "YT sold for {back} wstETH");
    // No SY is left lying around.
    assert_eq!(bal(&w, "alice", "SY-PT-wst"), U256::ZERO);
}

#[test]
fn liquidity_is_added_keeping_the_yt_and_removed_for_underlying_and_pt() {
    let mut w = world();
    wsteth(&mut w, "alice", 200);
    let (pt, yt, lp) = pt_yt_lp(&w);
    let supply_before = w.markets.pendle.as_ref().unwrap().markets[0].total_lp;
    let tvl_before = stake_engine::markets::summary(&w).0["pendle"][0]["tvl"]
        .as_f64()
        .unwrap();
    pendle(
        &mut w,
        "alice",
        PendleOp::AddLiquidity {
            market: "PT-wst".into(),
            amount: u(100) * WAD,
        },
    );
    let m = &w.markets.pendle.as_ref().unwrap().markets[0];
    let minted = bal(&w, "alice", &lp);
    assert_eq!(m.total_lp, supply_before + minted);
    // The YT of the tokenised part stays with alice; the PT went into the market.
    let y = f(bal(&w, "alice", &yt));
    assert!((y - 50.0).abs() < 0.01, "YT kept: {y}");
    assert!(f(bal(&w, "alice", &pt)) < 0.01, "PT dust only");
    // Keep-YT zap on a 5,000 PT / 5,000 SY market at index 1: 50 SY are tokenised, 50 SY + 50 PT
    // go in, so the market grows by 50 + 50 × PT price and alice keeps 50 YT.
    let s = stake_engine::markets::summary(&w).0;
    let pt_price = s["pendle"][0]["pt_price"].as_f64().unwrap();
    let added = 50.0 + 50.0 * pt_price;
    let tvl = s["pendle"][0]["tvl"].as_f64().unwrap();
    assert!(
        (tvl - tvl_before - added).abs() < 0.1,
        "TVL {tvl_before} → {tvl}, {added}"
    );
    let lp_value = s["pendle"][0]["lp_value"].as_f64().unwrap();
    assert!(
        (lp_value * f(minted) - added).abs() < 0.1,
        "LP worth {lp_value} × {}",
        f(minted)
    );
    // Remove it all: wstETH (unwrapped SY) and PT come back.
    let wst_before = bal(&w, "alice", "wstETH");
    pendle(
        &mut w,
        "alice",
        PendleOp::RemoveLiquidity {
            market: "PT-wst".into(),
            amount: U256::MAX,
        },
    );
    assert_eq!(bal(&w, "alice", &lp), U256::ZERO);
    let got_pt = f(bal(&w, "alice", &pt));
    let got_wst = f(bal(&w, "alice", "wstETH") - wst_before);
    assert!((got_pt + got_wst - 100.0).abs() < 2.0, "{got_pt} PT + {got_wst} wstETH");
    assert!((got_pt - y).abs() < 1.0, "PT out ≈ the YT kept: {got_pt} vs {y}");
}

#[test]
fn pt_and_yt_redeem_together_before_expiry_and_pt_alone_after() {
    let mut w = world();
    wsteth(&mut w, "alice", 100);
    let (pt, yt, _) = pt_yt_lp(&w);
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::MintPy {
                market: "PT-wst".into(),
                amount: u(20) * WAD,
            }),
        ),
    );
    let before = bal(&w, "alice", "wstETH");
    pendle(
        &mut w,
        "alice",
        PendleOp::RedeemPy {
            market: "PT-wst".into(),
            amount: u(5) * WAD,
        },
    );
    // Same block, index 1.0: 5 PT + 5 YT = 5 SY = 5 wstETH exactly.
    assert_eq!(bal(&w, "alice", "wstETH") - before, u(5) * WAD);
    assert_eq!(bal(&w, "alice", &pt), u(15) * WAD);
    // Give the YT away: PT alone cannot be redeemed before expiry (ledger InsufficientBalance).
    let alice = w.ledger.find_account("alice").unwrap();
    let bob = w.ledger.account("bob");
    let yt_id = w.ledger.asset(&yt).unwrap();
    let c = w.markets.pendle.as_mut().unwrap();
    c.transfer_yt(&mut w.ledger, alice, bob, 0, u(15) * WAD, w.now).unwrap();
    assert_eq!(w.ledger.balance(alice, yt_id), U256::ZERO);
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::RedeemPy {
                market: "PT-wst".into(),
                amount: u(1) * WAD,
            }
        ),
        1004
    );
    // `all` before expiry means matched PT+YT pairs: none.
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::RedeemPy {
                market: "PT-wst".into(),
                amount: U256::MAX,
            }
        ),
        6907
    );
    // After expiry PT alone redeems at the index: 15 stETH of principal → 15/index wstETH.
    advance(&mut w, 80 * DAY);
    let before = bal(&w, "alice", "wstETH");
    pendle(
        &mut w,
        "alice",
        PendleOp::RedeemPy {
            market: "PT-wst".into(),
            amount: U256::MAX,
        },
    );
    assert_eq!(bal(&w, "alice", &pt), U256::ZERO);
    let got = f(bal(&w, "alice", "wstETH") - before);
    assert!(got < 15.0 && got > 14.5, "15 PT → {got} wstETH (the index grew)");
}

#[test]
fn pendle_rejections_carry_exact_codes_and_change_nothing() {
    let mut w = world();
    wsteth(&mut w, "alice", 100);
    let m = || "PT-wst".to_string();
    // Unknown market.
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::BuyYt {
                market: "nope".into(),
                amount: WAD,
                min_out: U256::ZERO
            }
        ),
        6903
    );
    assert_eq!(
        rejected(&mut w, "alice", PendleOp::ClaimYt { market: "nope".into() }),
        6903
    );
    // Zero amounts / empty balances.
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::BuyYt {
                market: m(),
                amount: U256::ZERO,
                min_out: U256::ZERO
            }
        ),
        6907
    );
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::SellYt {
                market: m(),
                amount: U256::MAX,
                min_out: U256::ZERO
            }
        ),
        6907
    );
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::AddLiquidity {
                market: m(),
                amount: U256::ZERO
            }
        ),
        6907
    );
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::RemoveLiquidity {
                market: m(),
                amount: U256::MAX
            }
        ),
        6907
    );
    assert_eq!(rejected(&mut w, "alice", PendleOp::ClaimYt { market: m() }), 6907);
    // Slippage: 1 wstETH cannot buy 1,000 YT; 1 YT does not sell for 1 wstETH.
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::BuyYt {
                market: m(),
                amount: WAD,
                min_out: u(1_000) * WAD
            }
        ),
        6519
    );
    pendle(
        &mut w,
        "alice",
        PendleOp::BuyYt {
            market: m(),
            amount: WAD,
            min_out: U256::ZERO,
        },
    );
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::SellYt {
                market: m(),
                amount: WAD,
                min_out: WAD
            }
        ),
        6519
    );
    // More YT than held.
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::SellYt {
                market: m(),
                amount: u(1_000_000) * WAD,
                min_out: U256::ZERO
            }
        ),
        1004
    );
    // After expiry: no YT swaps, no new liquidity.
    advance(&mut w, 80 * DAY);
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::BuyYt {
                market: m(),
                amount: WAD,
                min_out: U256::ZERO
            }
        ),
        6500
    );
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::SellYt {
                market: m(),
                amount: U256::MAX,
                min_out: U256::ZERO
            }
        ),
        6500
    );
    assert_eq!(
        rejected(
            &mut w,
            "alice",
            PendleOp::AddLiquidity {
                market: m(),
                amount: WAD
            }
        ),
        6500
    );
    let code = {
        let before = w.state_hash();
        let out = w.apply(&tx(
            "alice",
            Action::Market(MarketAction::BuyPt {
                market: m(),
                amount: WAD,
                min_out: U256::ZERO,
            }),
        ));
        assert_eq!(before, w.state_hash());
        out.rejection().unwrap().code
    };
    assert_eq!(code, 6500);
}

#[test]
fn pendle_actions_are_scenario_actions() {
    let text = format!(
        "{SMALL}\n{}",
        r#"
[[actions]]
at = "day 0"
account = "alice"
do = "stake"
lst = "stETH"
amount = "300 ETH"

[[actions]]
at = "day 1"
account = "alice"
do = "wrap"
lst = "stETH"
amount = "all"

[[actions]]
at = "day 2"
account = "alice"
do = "buy_yt"
market = "PT-wst"
amount = "10 wstETH"

[[actions]]
at = "day 2"
account = "alice"
do = "add_liquidity"
market = "PT-wst"
amount = "100 wstETH"

[[actions]]
at = "day 20"
account = "alice"
do = "claim_yt"
market = "PT-wst"

[[actions]]
at = "day 30"
account = "alice"
do = "sell_yt"
market = "PT-wst"
amount = "10 YT"
min_out = "0.01 wstETH"

[[actions]]
at = "day 40"
account = "alice"
do = "remove_liquidity"
market = "PT-wst"
amount = "all"

[[actions]]
at = "day 100"
account = "alice"
do = "redeem_py"
market = "PT-wst"
"#
    );
    let p = prepare(&text, None).expect("builds");
    let r = p.run(&mut |_, _| {}).expect("runs");
    assert!(r.summary.rejected.is_empty(), "{:?}", r.summary.rejected);
    let s = &r.summary.markets["pendle"][0];
    for k in ["implied_apy_pct", "pt_price", "yt_price", "tvl", "lp_value"] {
        assert!(s[k].as_f64().is_some(), "{k}");
    }
    // After expiry the PT is worth the underlying: price 1, YT 0.
    assert_eq!(s["pt_price"].as_f64().unwrap(), 1.0);
    assert_eq!(s["yt_price"].as_f64().unwrap(), 0.0);
    for c in ["PT-wst.yt_price", "PT-wst.tvl", "PT-wst.lp_value"] {
        assert!(r.columns.iter().any(|x| x == c), "{c}");
    }
    // Scenario errors point at the key.
    let bad = text.replace(
        "do = \"claim_yt\"\nmarket = \"PT-wst\"",
        "do = \"claim_yt\"\nmarket = \"PT-x\"",
    );
    let e = prepare(&bad, None).unwrap_err();
    assert!(e.path.ends_with(".market"), "{}", e.path);
    let bad = text.replace("amount = \"10 YT\"", "amount = \"ten YT\"");
    let e = prepare(&bad, None).unwrap_err();
    assert!(e.path.ends_with(".amount"), "{}", e.path);
}
