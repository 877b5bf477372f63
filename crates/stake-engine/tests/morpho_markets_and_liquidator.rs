//! Morpho Blue markets from scenario files and the liquidator agent: exact liquidation amounts
//! (LIF and its rounding), bad debt socialised to suppliers, and every rejection leaving the state
//! hash unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::event::Event;
use stake_engine::markets::{MarketAction, MarketEvent, MorphoAction};
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_markets::morpho::{liquidation_incentive_factor, to_assets_up, MarketId, MorphoEvent};
use stake_markets::oracle::{Denom, FeedKey};
use stake_math::{u, U256, WAD};

const BASE: &str = r#"
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
a = 20
liquidity = ["10_000 ETH", "10_000 stETH"]

[[oracles]]
asset = "wstETH"
kind = "market"
pool = "steth-eth"

[[lending.morpho]]
name = "wsteth-weth"
loan = "WETH"
collateral = "wstETH"
lltv = "94.5%"
oracle = "market"
IRM
initial_supply = "1_000 WETH"
borrowers = [{ account = "bob", collateral = "100 wstETH", ltv = "94%" }]

[[agents]]
kind = "liquidator"
balances = ["1_000 WETH"]
min_profit = "0 ETH"

[[accounts]]
name = "alice"
balances = ["1_000 ETH"]

[[accounts]]
name = "whale"
balances = ["20_000 ETH"]
"#;

fn world_with(irm: &str) -> World {
    prepare(&BASE.replace("IRM", irm), None)
        .expect("scenario builds")
        .world()
        .clone()
}

fn world() -> World {
    world_with("irm = \"fixed\"\nrate = \"0%\"")
}

fn tx(sender: &str, action: Action) -> Tx {
    Tx {
        sender: sender.into(),
        action,
    }
}

fn ok(w: &mut World, t: Tx) -> Vec<Event> {
    let out = w.apply(&t);
    w.check_invariants().unwrap();
    match out {
        Outcome::Applied { events } => events,
        Outcome::Rejected(r) => panic!("{} rejected: [{}] {}", t.action.describe(), r.code, r.message),
    }
}

fn rejected(w: &mut World, t: Tx) -> u32 {
    let before = w.state_hash();
    let out = w.apply(&t);
    assert_eq!(before, w.state_hash(), "a rejection changed the state");
    out.rejection().expect("rejected").code
}

fn morpho(a: MorphoAction) -> Action {
    Action::Market(MarketAction::Morpho(a))
}

fn m() -> String {
    "wsteth-weth".into()
}

const ID: MarketId = MarketId(0);

/// The Morpho oracle price by hand: 1e36 · p_wstETH / p_WETH (both 8-decimal USD feeds, 18-decimal tokens).
fn price_by_hand(w: &World) -> U256 {
    let f = |sym: &str| {
        let key = FeedKey {
            asset: w.ledger.asset(sym).unwrap(),
            denom: Denom::Usd,
        };
        w.markets.oracles.price_unchecked(key, w.now).unwrap().value
    };
    let e36 = u(1_000_000_000_000_000_000) * u(1_000_000_000_000_000_000);
    e36 * f("wstETH") / f("WETH")
}

/// The whale sells `amount` stETH into the pool, then a day passes: prices are published and the
/// liquidator acts at the frame.
fn depeg(w: &mut World, amount: u128) -> Vec<Event> {
    ok(
        w,
        tx(
            "whale",
            Action::Stake {
                lst: "stETH".into(),
                amount: u(amount) * WAD,
            },
        ),
    );
    ok(
        w,
        tx(
            "whale",
            Action::Market(MarketAction::Swap {
                pool: "steth-eth".into(),
                token_in: "stETH".into(),
                amount: U256::MAX,
                min_out: U256::ZERO,
            }),
        ),
    );
    let to = w.now + 86_400;
    ok(w, tx(SYSTEM, Action::AdvanceTime { to }))
}

fn liquidations(ev: &[Event]) -> Vec<MorphoEvent> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Market(MarketEvent::Morpho {
                event: x @ MorphoEvent::Liquidate { .. },
                ..
            }) => Some(x.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_liquidation_incentive_of_a_94_5_percent_market_is_hand_computed() {
    // 1 / (1 − 0.3 · 0.055) = 1 / 0.9835 = 1.016776817488561261… (floor at wad).
    let lif = liquidation_incentive_factor(u(945_000_000_000_000_000)).unwrap();
    assert_eq!(lif, u(1_016_776_817_488_561_260));
}

#[test]
fn a_genesis_borrower_sits_at_the_requested_ltv_and_is_healthy() {
    let w = world();
    let blue = &w.markets.morpho.blue;
    let bob = w.ledger.find_account("bob").unwrap();
    let p = blue.position(ID, bob);
    assert_eq!(p.collateral, u(100) * WAD);
    let price = price_by_hand(&w);
    let (borrowed, max_borrow) = blue.health(ID, bob, price).unwrap();
    // borrow = wMulDown(100 wstETH · P / 1e36, 94 %); max = wMulDown(…, 94.5 %).
    let value = u(100) * WAD * price / (u(1_000_000_000_000_000_000) * WAD);
    assert_eq!(borrowed, value * u(94) / u(100));
    assert_eq!(max_borrow, value * u(945) / u(1000));
    assert_eq!(blue.markets[0].market.total_supply_assets, u(1_000) * WAD);
    let weth = w.ledger.asset("WETH").unwrap();
    assert_eq!(w.ledger.balance(bob, weth), borrowed);
}

#[test]
fn a_depeg_makes_the_borrower_liquidatable_and_the_liquidator_repays_all_the_debt() {
    let mut w = world();
    let bob = w.ledger.find_account("bob").unwrap();
    let liq = w.ledger.find_account("liquidator").unwrap();
    let (c0, s0) = {
        let p = w.markets.morpho.blue.position(ID, bob);
        (p.collateral, p.borrow_shares)
    };
    let m0 = w.markets.morpho.blue.markets[0].market.clone();
    // Fixed 0 % rate: the debt is exactly toAssetsUp(shares) at genesis totals.
    let debt = to_assets_up(s0, m0.total_borrow_assets, m0.total_borrow_shares).unwrap();
    let ev = depeg(&mut w, 2_000);
    let price = price_by_hand(&w);
    let liqs = liquidations(&ev);
    assert_eq!(liqs.len(), 1, "one liquidation at the frame");
    let MorphoEvent::Liquidate {
        repaid_assets,
        repaid_shares,
        seized_assets,
        bad_debt_assets,
        ..
    } = liqs[0].clone()
    else {
        unreachable!()
    };
    // The collateral covers debt × LIF: repay every share; seized = ⌊⌊debt·LIF/1e18⌋·1e36/P⌋.
    let lif = u(1_016_776_817_488_561_260);
    let e36 = u(1_000_000_000_000_000_000) * WAD;
    let seized_by_hand = (debt * lif / WAD) * e36 / price;
    assert_eq!(repaid_shares, s0);
    assert_eq!(repaid_assets, debt);
    assert_eq!(seized_assets, seized_by_hand);
    assert_eq!(bad_debt_assets, U256::ZERO);
    let p = w.markets.morpho.blue.position(ID, bob);
    assert_eq!(p.borrow_shares, U256::ZERO);
    assert_eq!(p.collateral, c0 - seized_by_hand);
    let wsteth = w.ledger.asset("wstETH").unwrap();
    let weth = w.ledger.asset("WETH").unwrap();
    assert_eq!(w.ledger.balance(liq, wsteth), seized_by_hand);
    assert_eq!(w.ledger.balance(liq, weth), u(1_000) * WAD - debt);
    let l = w.markets.liquidator.as_ref().unwrap();
    assert_eq!(l.stats.morpho, 1);
    assert!(l.stats.profit_usd > U256::ZERO);
    assert_eq!(w.markets.morpho.markets[0].liquidations, 1);
    // Suppliers lose nothing.
    assert_eq!(
        w.markets.morpho.blue.markets[0].market.total_supply_assets,
        u(1_000) * WAD
    );
}

#[test]
fn a_deep_depeg_seizes_all_collateral_and_socialises_the_bad_debt() {
    let mut w = world();
    let bob = w.ledger.find_account("bob").unwrap();
    let supplier = w.ledger.find_account("wsteth-weth-supplier").unwrap();
    let c0 = w.markets.morpho.blue.position(ID, bob).collateral;
    let s0 = w.markets.morpho.blue.position(ID, bob).borrow_shares;
    let m0 = w.markets.morpho.blue.markets[0].market.clone();
    let supplied0 = w.markets.morpho.blue.supply_assets(ID, supplier).unwrap();
    let ev = depeg(&mut w, 9_000);
    let price = price_by_hand(&w);
    let liqs = liquidations(&ev);
    assert_eq!(liqs.len(), 1);
    let MorphoEvent::Liquidate {
        repaid_assets,
        repaid_shares,
        seized_assets,
        bad_debt_assets,
        bad_debt_shares,
        ..
    } = liqs[0].clone()
    else {
        unreachable!()
    };
    let lif = u(1_016_776_817_488_561_260);
    let e36 = u(1_000_000_000_000_000_000) * WAD;
    // All collateral seized: repaid = ⌈⌈C·P/1e36⌉·1e18/LIF⌉, shares = ⌊repaid·(S+1e6)/(A+1)⌋.
    let up = |x: U256, d: U256| (x + d - u(1)) / d;
    let repaid_by_hand = up(up(c0 * price, e36) * WAD, lif);
    let shares_by_hand = repaid_by_hand * (m0.total_borrow_shares + u(1_000_000)) / (m0.total_borrow_assets + u(1));
    assert_eq!(seized_assets, c0);
    assert_eq!(repaid_assets, repaid_by_hand);
    assert_eq!(repaid_shares, shares_by_hand);
    // The rest of the debt is bad debt: ⌈(S − s)·(A' + 1)/(S' + 1e6)⌉ with A', S' after the repayment.
    let (a1, s1) = (
        m0.total_borrow_assets - repaid_by_hand,
        m0.total_borrow_shares - shares_by_hand,
    );
    assert_eq!(bad_debt_shares, s0 - shares_by_hand);
    let bad_by_hand = up(bad_debt_shares * (a1 + u(1)), s1 + u(1_000_000)).min(a1);
    assert_eq!(bad_debt_assets, bad_by_hand);
    assert!(bad_debt_assets > U256::ZERO);
    // Socialised: total supply assets drop by exactly the bad debt (0 % rate: no interest).
    let m1 = &w.markets.morpho.blue.markets[0].market;
    assert_eq!(m1.total_supply_assets, m0.total_supply_assets - bad_debt_assets);
    assert_eq!(m1.total_supply_shares, m0.total_supply_shares);
    assert_eq!(m1.total_borrow_assets, U256::ZERO);
    let supplied1 = w.markets.morpho.blue.supply_assets(ID, supplier).unwrap();
    assert!(supplied0 - supplied1 <= bad_debt_assets && supplied0 - supplied1 + u(1) >= bad_debt_assets);
    assert_eq!(w.markets.morpho.markets[0].bad_debt, bad_debt_assets);
    let p = w.markets.morpho.blue.position(ID, bob);
    assert_eq!((p.collateral, p.borrow_shares), (U256::ZERO, U256::ZERO));
    assert!(w.markets.liquidator.as_ref().unwrap().stats.bad_debt_usd > U256::ZERO);
}

#[test]
fn the_adaptive_curve_irm_accrues_every_frame() {
    let mut w = world_with("");
    let to = w.now + 86_400;
    let ev = ok(&mut w, tx(SYSTEM, Action::AdvanceTime { to }));
    let accruals: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Market(MarketEvent::Morpho {
                event: MorphoEvent::AccrueInterest {
                    borrow_rate, interest, ..
                },
                ..
            }) => Some((*borrow_rate, *interest)),
            _ => None,
        })
        .collect();
    assert_eq!(accruals.len(), 1);
    let (rate, interest) = accruals[0];
    // First interaction: rate at target = 4 %/yr; utilisation ≈ 9.4 % < 90 % → err = u/0.9 − 1,
    // rate = (1 − 1/4)·err + 1)·4 % ≈ 1.3 %/yr.
    let apr = rate.as_f64() * 31_536_000.0 / 1e18;
    assert!((apr - 0.0131).abs() < 0.001, "{apr}");
    assert!(interest > U256::ZERO);
    let m = &w.markets.morpho.blue.markets[0].market;
    assert_eq!(m.last_update, w.markets.morpho.blue.markets[0].market.last_update);
    assert!(m.rate_at_target > stake_math::I256::ZERO);
}

/// A market nobody borrows from still runs its AdaptiveCurveIrm: Morpho Blue initialises it at
/// `createMarket` and calls `borrowRate` on every `_accrueInterest` with time elapsed, and the
/// engine accrues every frame, so at 0 % utilisation (err = −1) the rate at target falls from
/// 4 % by e^(−50/365) a day — 1,106,540,235 per second after the first day, as the Python
/// transcription of the IRM gives — and after 30 idle days sits on `MIN_RATE_AT_TARGET` (0.1 %),
/// where the first borrower starts, not at 4 % (40× more).
#[test]
fn an_idle_morpho_market_decays_to_the_rate_floor_in_thirty_days() {
    let idle = BASE.replace("IRM", "").replace(
        "borrowers = [{ account = \"bob\", collateral = \"100 wstETH\", ltv = \"94%\" }]\n",
        "",
    );
    assert!(!idle.contains("borrowers"));
    let mut w = prepare(&idle.replace("horizon = \"10d\"", "horizon = \"40d\""), None)
        .expect("scenario builds")
        .world()
        .clone();
    let rate_at_target = |w: &World| w.markets.morpho.blue.markets[0].market.rate_at_target;
    assert_eq!(rate_at_target(&w), stake_markets::morpho::INITIAL_RATE_AT_TARGET);
    for day in 1..=30 {
        let to = w.now + 86_400;
        ok(&mut w, tx(SYSTEM, Action::AdvanceTime { to }));
        if day == 1 {
            assert_eq!(rate_at_target(&w), stake_math::I256::new(1_106_540_235));
        }
    }
    assert_eq!(w.markets.morpho.blue.markets[0].market.total_borrow_assets, U256::ZERO);
    assert_eq!(rate_at_target(&w), stake_markets::morpho::MIN_RATE_AT_TARGET);
}

#[test]
fn borrowing_above_the_lltv_is_rejected_and_changes_nothing() {
    let mut w = world();
    ok(
        &mut w,
        tx(
            "alice",
            Action::Stake {
                lst: "stETH".into(),
                amount: u(100) * WAD,
            },
        ),
    );
    let alice = w.ledger.find_account("alice").unwrap();
    let steth_bal = match &w.lsts[0].model {
        stake_engine::lst::LstModel::Lido(l) => l.balance_of(&w.ledger, alice).unwrap(),
        _ => unreachable!(),
    };
    ok(
        &mut w,
        tx(
            "alice",
            Action::Wrap {
                lst: "stETH".into(),
                amount: steth_bal,
            },
        ),
    );
    ok(
        &mut w,
        tx(
            "alice",
            morpho(MorphoAction::SupplyCollateral {
                market: m(),
                amount: U256::MAX,
            }),
        ),
    );
    let code = rejected(
        &mut w,
        tx(
            "alice",
            morpho(MorphoAction::Borrow {
                market: m(),
                amount: u(99) * WAD,
            }),
        ),
    );
    assert_eq!(code, 6404);
    ok(
        &mut w,
        tx(
            "alice",
            morpho(MorphoAction::Borrow {
                market: m(),
                amount: u(50) * WAD,
            }),
        ),
    );
}

#[test]
fn withdrawing_collateral_that_leaves_the_position_unhealthy_is_rejected() {
    let mut w = world();
    let code = rejected(
        &mut w,
        tx(
            "bob",
            morpho(MorphoAction::WithdrawCollateral {
                market: m(),
                amount: u(1) * WAD,
            }),
        ),
    );
    assert_eq!(code, 6404);
}

#[test]
fn an_unknown_morpho_market_is_rejected() {
    let mut w = world();
    let code = rejected(
        &mut w,
        tx(
            "alice",
            morpho(MorphoAction::Supply {
                market: "nope".into(),
                amount: u(1) * WAD,
            }),
        ),
    );
    assert_eq!(code, 6950);
}

#[test]
fn liquidating_a_healthy_position_is_rejected() {
    let mut w = world();
    let code = rejected(
        &mut w,
        tx(
            "liquidator",
            morpho(MorphoAction::Liquidate {
                market: m(),
                borrower: "bob".into(),
                amount: U256::MAX,
            }),
        ),
    );
    assert_eq!(code, 6406);
    let code = rejected(
        &mut w,
        tx(
            "liquidator",
            morpho(MorphoAction::Liquidate {
                market: m(),
                borrower: "nobody".into(),
                amount: U256::MAX,
            }),
        ),
    );
    assert_eq!(code, 6951);
}

/// Freezes the wstETH feed, moves two days on and has bob borrow 1 WETH more (he is at 94 % of
/// a 94.5 % LLTV): the code of the rejection.
fn borrow_after_a_freeze(w: &mut World) -> u32 {
    ok(
        w,
        tx(
            SYSTEM,
            Action::Market(MarketAction::OracleFreeze {
                asset: "wstETH".into(),
                frozen: true,
                duration: 0,
            }),
        ),
    );
    let to = w.now + 2 * 86_400;
    ok(w, tx(SYSTEM, Action::AdvanceTime { to }));
    rejected(
        w,
        tx(
            "bob",
            morpho(MorphoAction::Borrow {
                market: m(),
                amount: u(1) * WAD,
            }),
        ),
    )
}

#[test]
fn a_frozen_oracle_keeps_morpho_running_at_its_last_price() {
    // MorphoChainlinkOracleV2.price() reads latestRoundData's answer and never its age: a frozen
    // feed leaves the market open at the old price. Bob's borrow is refused for his health, at
    // the frozen price — not for staleness — and the liquidator keeps working.
    let mut w = world();
    assert_eq!(
        borrow_after_a_freeze(&mut w),
        6404,
        "InsufficientCollateral, priced at the frozen answer"
    );
    assert!(
        !w.hook_rejections.iter().any(|h| h.hook.starts_with("liquidator")),
        "{:?}",
        w.hook_rejections
    );
}

#[test]
fn an_optional_staleness_bound_rejects_borrows_and_blocks_the_liquidator() {
    // `lending.aave.max_price_age` models a stricter integration: past it, prices are refused.
    let text = format!(
        "{}{AAVE}max_price_age = \"25h\"\n",
        BASE.replace("IRM", "irm = \"fixed\"\nrate = \"0%\"")
    );
    let mut w = prepare(&text, None).expect("scenario builds").world().clone();
    assert_eq!(borrow_after_a_freeze(&mut w), 6413);
    assert!(w.hook_rejections.iter().any(|h| h.hook == "liquidator wsteth-weth"));
}

#[test]
fn supply_withdraw_repay_and_collateral_round_trip() {
    let mut w = world();
    let bob = w.ledger.find_account("bob").unwrap();
    let weth = w.ledger.asset("WETH").unwrap();
    // Bob holds exactly what he borrowed (0 % rate): repaying all clears the debt.
    ok(
        &mut w,
        tx(
            "bob",
            morpho(MorphoAction::Repay {
                market: m(),
                amount: U256::MAX,
            }),
        ),
    );
    assert_eq!(w.markets.morpho.blue.position(ID, bob).borrow_shares, U256::ZERO);
    assert_eq!(w.ledger.balance(bob, weth), U256::ZERO);
    ok(
        &mut w,
        tx(
            "bob",
            morpho(MorphoAction::WithdrawCollateral {
                market: m(),
                amount: U256::MAX,
            }),
        ),
    );
    ok(
        &mut w,
        tx(
            "wsteth-weth-supplier",
            morpho(MorphoAction::Withdraw {
                market: m(),
                amount: U256::MAX,
            }),
        ),
    );
    let mk = &w.markets.morpho.blue.markets[0].market;
    assert_eq!(mk.total_supply_shares, U256::ZERO);
    assert_eq!(mk.total_borrow_shares, U256::ZERO);
}

const ACTIONS: &str = r#"
[[actions]]
at = "day 0"
account = "alice"
do = "stake"
lst = "stETH"
amount = "100 ETH"

[[actions]]
at = "day 0"
account = "alice"
do = "wrap"
lst = "stETH"
amount = "all"

[[actions]]
at = "day 1"
account = "alice"
do = "supply_collateral"
market = "wsteth-weth"
amount = "all"

[[actions]]
at = "day 1"
account = "alice"
do = "borrow"
market = "wsteth-weth"
token = "WETH"
amount = "50 WETH"

[[actions]]
at = "day 2"
account = "alice"
do = "wrap_eth"
amount = "1 ETH"

[[actions]]
at = "day 2"
account = "alice"
do = "repay"
market = "wsteth-weth"
amount = "all"
"#;

#[test]
fn scripted_morpho_actions_run_from_the_scenario_file() {
    let text = format!("{}{ACTIONS}", BASE.replace("IRM", ""));
    let p = prepare(&text, None).expect("scenario builds");
    let r = p.run(&mut |_, _| {}).expect("no invariant breaks");
    assert!(r.summary.rejected.is_empty(), "{:?}", r.summary.rejected);
    let mk = &r.summary.markets["morpho"][0];
    assert_eq!(mk["name"], "wsteth-weth");
    assert_eq!(mk["borrowers"], 1, "alice repaid, bob still borrows");
    let util = mk["utilization_pct"].as_f64().unwrap();
    assert!(util > 9.0 && util < 10.0, "{util}");
    // Utilisation far below the 90 % target: the rate at target decays from 4 %/yr
    // (× e^(−50·0.9·Δt/yr)) and the borrow rate sits below it.
    let at_target = mk["rate_at_target_apr_pct"].as_f64().unwrap();
    let borrow = mk["borrow_apy_pct"].as_f64().unwrap();
    assert!(at_target > 0.1 && at_target < 4.0, "{at_target}");
    assert!(borrow > 0.0 && borrow < at_target, "{borrow}");
    assert!(r.columns.iter().any(|c| c == "wsteth-weth.utilization_pct"));
    assert!(r.columns.iter().any(|c| c == "liquidator.liquidations"));
    assert_eq!(r.summary.markets["liquidator"]["liquidations"], 0);
}

fn scn_err(text: &str) -> stake_engine::scenario::ScenarioError {
    match prepare(text, None) {
        Ok(_) => panic!("the scenario should be rejected"),
        Err(e) => e,
    }
}

#[test]
fn scenario_errors_name_the_morpho_key() {
    let bad = format!(
        "{}{}",
        BASE.replace("IRM", ""),
        "\n[[actions]]\nat = \"day 1\"\naccount = \"alice\"\ndo = \"supply\"\nmarket = \"nope\"\namount = \"1 WETH\"\n"
    );
    let e = scn_err(&bad);
    assert_eq!(e.path, "actions[0].market");
    assert!(e.message.contains("available: aave, wsteth-weth"), "{}", e.message);
    let e = scn_err(&BASE.replace("IRM", "").replace("94.5%", "100%"));
    assert_eq!(e.path, "lending.morpho[0].lltv");
    let e = scn_err(&BASE.replace("IRM", "irm = \"fixed\""));
    assert_eq!(e.path, "lending.morpho[0].rate");
    let e = scn_err(
        &BASE
            .replace("IRM", "")
            .replace("kind = \"liquidator\"", "kind = \"looper\""),
    );
    assert_eq!(e.path, "agents[0].kind");
}

const AAVE: &str = r#"
[lending.aave]
reserves = [{ asset = "WETH", initial_supply = "10_000 WETH" }, { asset = "wstETH" }]
"#;

/// The markets world with Aave: alice stakes 100 ETH, wraps it, supplies the wstETH to Aave and
/// borrows `weth` WETH against it.
fn alice_borrows_weth_on_wsteth(weth: u128) -> (World, stake_ledger::AccountId) {
    let mut w = prepare(&format!("{}{AAVE}", BASE.replace("IRM", "")), None)
        .expect("scenario builds")
        .world()
        .clone();
    ok(
        &mut w,
        tx(
            "alice",
            Action::Stake {
                lst: "stETH".into(),
                amount: u(100) * WAD,
            },
        ),
    );
    let alice = w.ledger.find_account("alice").unwrap();
    let bal = match &w.lsts[0].model {
        stake_engine::lst::LstModel::Lido(l) => l.balance_of(&w.ledger, alice).unwrap(),
        _ => unreachable!(),
    };
    ok(
        &mut w,
        tx(
            "alice",
            Action::Wrap {
                lst: "stETH".into(),
                amount: bal,
            },
        ),
    );
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::Supply {
                token: "wstETH".into(),
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
                amount: u(weth) * WAD,
            }),
        ),
    );
    (w, alice)
}

#[test]
fn the_liquidator_also_liquidates_aave_borrowers_with_the_close_factor() {
    // 78 WETH against ~100 wstETH: LTV 78 % < 78.5 %, HF = 81 % / 78 % ≈ 1.04.
    let (mut w, alice) = alice_borrows_weth_on_wsteth(78);
    let weth = w.ledger.asset("WETH").unwrap();
    let debt0 = w
        .markets
        .aave
        .as_ref()
        .unwrap()
        .debt_balance(&w.ledger, alice, weth, w.now)
        .unwrap();
    let ev = depeg(&mut w, 9_000);
    let calls: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Market(MarketEvent::Aave(stake_markets::aave::AaveEvent::LiquidationCall {
                debt_to_cover,
                user,
                ..
            })) => Some((*debt_to_cover, *user)),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, alice);
    let debt1 = w
        .markets
        .aave
        .as_ref()
        .unwrap()
        .debt_balance(&w.ledger, alice, weth, w.now)
        .unwrap();
    // One day of interest at most a few wei per ETH; the liquidator covered debt_to_cover.
    assert!(debt1 < debt0);
    assert!(calls[0].0 >= debt0 / u(2) && calls[0].0 <= debt0 + WAD / u(100));
    let l = w.markets.liquidator.as_ref().unwrap();
    assert_eq!(l.stats.aave, 1);
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Market(MarketEvent::Liquidation { protocol, .. }) if protocol == "aave")));
}

#[test]
fn a_curve_lp_token_is_collateral_valued_at_its_virtual_price() {
    let lp_market = r#"
[[lending.morpho]]
name = "lp-weth"
loan = "WETH"
collateral = "steth-eth-LP"
lltv = "86%"
initial_supply = "1_000 WETH"
"#;
    let mut w = prepare(&format!("{}{lp_market}", BASE.replace("IRM", "")), None)
        .expect("scenario builds")
        .world()
        .clone();
    let lp = |a| Action::Market(MarketAction::Morpho(a));
    ok(
        &mut w,
        tx(
            "steth-eth-lp",
            lp(MorphoAction::SupplyCollateral {
                market: "lp-weth".into(),
                amount: u(1_000) * WAD,
            }),
        ),
    );
    // 1,000 LP at a virtual price of ~1 ETH, 86 % LLTV: 900 WETH is too much, 850 is fine.
    let code = rejected(
        &mut w,
        tx(
            "steth-eth-lp",
            lp(MorphoAction::Borrow {
                market: "lp-weth".into(),
                amount: u(900) * WAD,
            }),
        ),
    );
    assert_eq!(code, 6404);
    ok(
        &mut w,
        tx(
            "steth-eth-lp",
            lp(MorphoAction::Borrow {
                market: "lp-weth".into(),
                amount: u(850) * WAD,
            }),
        ),
    );
    // An LP token is not an LST the loop can stake borrowed WETH into.
    let code = rejected(
        &mut w,
        tx(
            "steth-eth-lp",
            lp(MorphoAction::Loop {
                market: "lp-weth".into(),
                amount: U256::ZERO,
                target: stake_engine::markets::LoopTarget::Leverage(3 * WAD),
            }),
        ),
    );
    assert_eq!(code, 6952);
}

#[test]
fn a_liquidation_below_the_minimum_profit_is_undone_and_counted_as_skipped() {
    // The same depeg as above, with a minimum profit no liquidation can reach.
    let text = BASE
        .replace("IRM", "irm = \"fixed\"\nrate = \"0%\"")
        .replace("min_profit = \"0 ETH\"", "min_profit = \"1_000_000 ETH\"");
    let mut w = prepare(&text, None).expect("scenario builds").world().clone();
    let bob = w.ledger.find_account("bob").unwrap();
    let liq = w.ledger.find_account("liquidator").unwrap();
    let before = w.markets.morpho.blue.position(ID, bob);
    let weth = w.ledger.asset("WETH").unwrap();
    let liq_weth = w.ledger.balance(liq, weth);
    let ev = depeg(&mut w, 2_000);
    assert!(liquidations(&ev).is_empty());
    let stats = &w.markets.liquidator.as_ref().unwrap().stats;
    assert_eq!((stats.morpho, stats.skipped, stats.failed), (0, 1, 0));
    assert_eq!(w.markets.morpho.blue.position(ID, bob), before);
    assert_eq!(w.ledger.balance(liq, weth), liq_weth);
    assert_eq!(w.markets.morpho.markets[0].liquidations, 0);
}

#[test]
fn an_invariant_broken_on_purpose_is_caught_by_the_incremental_check() {
    let mut w = world();
    w.ledger.set_auditing(true);
    let pay = |w: &mut World| {
        let t = tx(
            "alice",
            Action::Transfer {
                asset: "ETH".into(),
                to: "whale".into(),
                amount: U256::ONE,
            },
        );
        assert!(matches!(w.apply(&t), Outcome::Applied { .. }));
    };
    pay(&mut w);
    w.check_touched(false).unwrap();
    // Morpho's books now claim 1 WETH more supply than the market holds in cash.
    w.markets.morpho.blue.markets[0].market.total_supply_assets += WAD;
    pay(&mut w);
    let e = w.check_touched(false).unwrap_err();
    assert!(e.contains("morpho 0: loan cash"), "{e}");
    // The full check agrees.
    assert!(w.check_invariants().is_err());
}

#[test]
fn the_liquidation_index_follows_every_position_change() {
    let w = world();
    // The full check compares the index with a scan of every position; the `ok` helper runs it
    // after every borrow, repay and liquidation in this file. Here: after genesis.
    w.check_invariants().unwrap();
    let ix = w.markets.morpho.blue.liquidation_index(ID).expect("index");
    let borrowers = w.markets.morpho.blue.positions[0]
        .values()
        .filter(|p| p.borrow_shares > U256::ZERO)
        .count();
    assert_eq!(ix.len(), borrowers);
    assert!(borrowers > 0);
}

/// Every Aave borrower with health factor < 1 by a scan of all of them (the liquidator's rule
/// before the liquidation index), at the prices the feeds hold now.
fn aave_unhealthy_by_scan(w: &World) -> Vec<stake_ledger::AccountId> {
    let mut px = stake_markets::aave::StaticPrices::new();
    for f in &w.markets.feeds {
        px.set(f.asset, w.markets.oracles.price_unchecked(f.key, w.now).unwrap().value);
    }
    let a = w.markets.aave.as_ref().unwrap();
    let all = a.health_factors(&w.ledger, &px, w.now).unwrap();
    let unhealthy: Vec<_> = all.iter().filter(|(_, h)| *h < WAD).map(|(u, _)| *u).collect();
    // The index answers the same, from the candidates the prices can have crossed.
    let found: Vec<_> = a
        .liquidatable(&w.ledger, &px, w.now)
        .unwrap()
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(found, unhealthy, "liquidatable differs from the scan");
    a.check_index(&w.ledger).unwrap();
    unhealthy
}

fn aave_liquidated(ev: &[Event]) -> Vec<stake_ledger::AccountId> {
    let mut v: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Market(MarketEvent::Aave(stake_markets::aave::AaveEvent::LiquidationCall { user, .. })) => {
                Some(*user)
            }
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_aave_liquidation_cascade_among_400_borrowers_liquidates_exactly_whom_a_full_scan_finds() {
    let mut w = prepare(&format!("{}{AAVE}", BASE.replace("IRM", "")), None)
        .expect("scenario builds")
        .world()
        .clone();
    ok(
        &mut w,
        tx(
            "alice",
            Action::Stake {
                lst: "stETH".into(),
                amount: u(900) * WAD,
            },
        ),
    );
    let alice = w.ledger.find_account("alice").unwrap();
    let bal = match &w.lsts[0].model {
        stake_engine::lst::LstModel::Lido(l) => l.balance_of(&w.ledger, alice).unwrap(),
        _ => unreachable!(),
    };
    ok(
        &mut w,
        tx(
            "alice",
            Action::Wrap {
                lst: "stETH".into(),
                amount: bal,
            },
        ),
    );
    let borrowers = stake_engine::bench::open_aave_borrowers(&mut w, "alice", 400, u(2) * WAD).unwrap();
    assert_eq!(borrowers.len(), 400);
    w.check_invariants().unwrap();
    assert_eq!(w.markets.aave.as_ref().unwrap().index.len(), 400);
    let mut total = 0usize;
    // Days of selling into the stETH pool (wstETH's market oracle falls) and quiet days: 0, 8,
    // 48, 0, 160 and 144 borrowers cross HF = 1 (small positions are liquidated in full).
    for sold in [2_000u128, 2_000, 2_000, 0, 2_000, 1_000, 0] {
        if sold > 0 {
            ok(
                &mut w,
                tx(
                    "whale",
                    Action::Stake {
                        lst: "stETH".into(),
                        amount: u(sold) * WAD,
                    },
                ),
            );
            ok(
                &mut w,
                tx(
                    "whale",
                    Action::Market(MarketAction::Swap {
                        pool: "steth-eth".into(),
                        token_in: "stETH".into(),
                        amount: U256::MAX,
                        min_out: U256::ZERO,
                    }),
                ),
            );
        }
        let to = w.now + 86_400;
        // The same frame without the liquidator: whom the scan finds unhealthy there.
        let mut reference = w.clone();
        reference.markets.liquidator.as_mut().unwrap().enabled = false;
        ok(&mut reference, tx(SYSTEM, Action::AdvanceTime { to }));
        let want = aave_unhealthy_by_scan(&reference);
        let before = w.markets.liquidator.as_ref().unwrap().stats.clone();
        let ev = ok(&mut w, tx(SYSTEM, Action::AdvanceTime { to }));
        let after = &w.markets.liquidator.as_ref().unwrap().stats;
        assert_eq!((after.skipped, after.failed), (before.skipped, before.failed));
        assert_eq!(aave_liquidated(&ev), want, "day ending {to}");
        total += want.len();
        aave_unhealthy_by_scan(&w);
    }
    // A real cascade: many liquidations, some borrowers left standing.
    let left = w.markets.aave.as_ref().unwrap().index.len();
    assert!(total >= 300, "only {total} liquidations");
    assert!(left > 0 && left < 400, "{left} borrowers left");
}

#[test]
fn a_scenario_transfer_of_atokens_re_keys_both_accounts_in_the_aave_index() {
    let (mut w, alice) = alice_borrows_weth_on_wsteth(50);
    let key_before = w.markets.aave.as_ref().unwrap().index.entry(alice).unwrap().1.key;
    // A plain ledger transfer of aTokens, as a scenario may script it; the per-transaction check
    // (which compares the touched accounts' index entries) must pass.
    w.ledger.set_auditing(true);
    w.ledger.audit().unwrap();
    ok(
        &mut w,
        tx(
            "alice",
            Action::Transfer {
                asset: "aEthwstETH".into(),
                to: "whale".into(),
                amount: u(10) * WAD,
            },
        ),
    );
    w.check_touched(false).unwrap();
    let a = w.markets.aave.as_ref().unwrap();
    let key_after = a.index.entry(alice).unwrap().1.key;
    assert!(key_after < key_before, "alice's key follows her smaller collateral");
    a.check_index(&w.ledger).unwrap();
    aave_unhealthy_by_scan(&w);
}

#[test]
fn a_governance_cut_of_the_liquidation_threshold_is_liquidated_at_once() {
    use stake_engine::markets::AaveParam;
    let (mut w, _) = alice_borrows_weth_on_wsteth(78);
    let change = |param: AaveParam| {
        tx(
            SYSTEM,
            Action::Market(MarketAction::AaveParameter {
                token: "wstETH".into(),
                param,
            }),
        )
    };
    // The configurator's rules: a threshold below the LTV is refused and changes nothing.
    assert_eq!(
        rejected(&mut w, change(AaveParam::LiquidationThreshold(6_000))),
        6226,
        "InvalidConfig"
    );
    // A bonus of exactly 100 % is refused too; so is a token Aave does not list (UnknownReserve).
    assert_eq!(rejected(&mut w, change(AaveParam::LiquidationBonus(10_000))), 6226);
    let unlisted = tx(
        SYSTEM,
        Action::Market(MarketAction::AaveParameter {
            token: "stETH".into(),
            param: AaveParam::Frozen(true),
        }),
    );
    assert_eq!(rejected(&mut w, unlisted), 6200);
    // LTV 70 %, threshold 75 %: alice (78 % of her collateral borrowed) is under HF 1 and the
    // liquidator takes her in the same transaction.
    ok(&mut w, change(AaveParam::Ltv(7_000)));
    let ev = ok(&mut w, change(AaveParam::LiquidationThreshold(7_500)));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Market(MarketEvent::Liquidation { protocol, .. }) if protocol == "aave")),
        "{ev:?}"
    );
    assert_eq!(w.markets.liquidator.as_ref().unwrap().stats.aave, 1);
    // Only the system may change parameters.
    let e = rejected(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::AaveParameter {
                token: "wstETH".into(),
                param: AaveParam::Frozen(true),
            }),
        ),
    );
    assert_eq!(e, 9000);
    // Scenario errors point at the key.
    let with = |extra: &str| {
        format!(
            "{}{AAVE}\n[[events]]\nat = \"day 1\"\nkind = \"parameter_change\"\n{extra}\n",
            BASE.replace("IRM", "")
        )
    };
    let e = scn_err(&with("token = \"rETH\"\nparameter = \"ltv\"\nvalue = \"50%\"")).to_string();
    assert!(
        e.contains("events[0].token") && e.contains("not an Aave reserve"),
        "{e}"
    );
    let e = scn_err(&with("token = \"wstETH\"\nparameter = \"lltv\"\nvalue = \"50%\"")).to_string();
    assert!(
        e.contains("events[0].parameter") && e.contains("unknown Aave reserve parameter `lltv`"),
        "{e}"
    );
    let e = scn_err(&with("token = \"wstETH\"\nparameter = \"frozen\"\nvalue = \"maybe\"")).to_string();
    assert!(e.contains("events[0].value") && e.contains("true or false"), "{e}");
}
