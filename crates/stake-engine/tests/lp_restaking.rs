//! Any valued token restakes into EigenLayer: a Curve LP token priced at its pool's virtual price,
//! an external asset at its `price_eth`; slashing burns LP shares and books their ETH value.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::markets::MarketAction;
use stake_engine::restaking::RestakingAction;
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{mul_div_down, u, U256, WAD};
use stake_restaking::eigenlayer::calc_slashed_amount;

const LP: &str = "steth-eth-LP";

const SCN: &str = r#"
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
[[pools]]
name = "steth-eth"
coins = ["ETH", "stETH"]
a = 50
liquidity = ["10_000 ETH", "10_000 stETH"]
[[restaking.assets]]
symbol = "EIGEN"
decimals = 18
price_eth = "0.0003"
[[restaking.assets]]
symbol = "XYZ"
decimals = 6
[restaking.eigenlayer]
[[operators]]
name = "op-a"
[[services]]
name = "avs1"
profit_from_corruption = "1_000 ETH"
threshold = "1/3"
reward_budget = "100 ETH"
operators = ["op-a"]
slash_on_fault = "10%"
allocation = "100%"
[[accounts]]
name = "alice"
balances = ["1_000 ETH"]
[[accounts]]
name = "bob"
balances = ["50_000 EIGEN", "10 XYZ"]
"#;

fn world() -> World {
    prepare(SCN, None).expect("scenario builds").world().clone()
}

fn tx(sender: &str, action: Action) -> Tx {
    Tx {
        sender: sender.into(),
        action,
    }
}

fn r(a: RestakingAction) -> Action {
    Action::Restaking(a)
}

fn ok(w: &mut World, t: Tx) {
    match w.apply(&t) {
        Outcome::Applied { .. } => {}
        Outcome::Rejected(r) => panic!("{t:?} rejected: {r:?}"),
    }
    w.check_invariants().unwrap();
}

fn rejected(w: &mut World, t: Tx) -> (u32, String) {
    let before = w.state_hash();
    let out = w.apply(&t);
    assert_eq!(w.state_hash(), before, "a rejected {t:?} changed the state");
    match out {
        Outcome::Rejected(r) => (r.code, r.message),
        Outcome::Applied { .. } => panic!("{t:?} was applied"),
    }
}

fn restake(token: &str, amount: Option<U256>) -> Action {
    r(RestakingAction::Restake {
        token: token.into(),
        amount,
    })
}

fn balance(w: &World, who: &str, sym: &str) -> U256 {
    let a = w.ledger.find_account(who).unwrap();
    w.ledger.balance(a, w.ledger.asset(sym).unwrap())
}

fn op_stake_wei(w: &World, op: &str) -> (u128, u128) {
    let (j, _) = stake_engine::restaking::summary(w);
    let o = j["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["operator"] == op)
        .unwrap()
        .clone();
    let n = |v: &serde_json::Value| v.as_str().unwrap().parse::<u128>().unwrap();
    (n(&o["stake_wei"]), n(&o["allocated_wei"]))
}

/// alice adds 100 ETH to the stETH/ETH pool, restakes every LP token and delegates to op-a.
fn lp_restaked() -> (World, U256) {
    let mut w = world();
    ok(
        &mut w,
        tx(
            "alice",
            Action::Market(MarketAction::AddLiquidity {
                pool: "steth-eth".into(),
                token: "ETH".into(),
                amount: u(100) * WAD,
            }),
        ),
    );
    let lp = balance(&w, "alice", LP);
    assert!(lp > U256::ZERO);
    ok(&mut w, tx("alice", restake(LP, None)));
    ok(
        &mut w,
        tx(
            "alice",
            r(RestakingAction::Delegate {
                operator: "op-a".into(),
            }),
        ),
    );
    (w, lp)
}

#[test]
fn lp_tokens_restake_into_a_strategy_priced_at_the_pools_virtual_price() {
    let (w, lp) = lp_restaked();
    let el = w.restaking.el.as_ref().unwrap();
    let st = el.strategy(LP).unwrap();
    assert!(st.whitelisted);
    // first deposit: shares = amount·(0+1e3)/(0+1e3) = amount
    assert_eq!(st.total_shares, lp);
    assert_eq!(el.operator_shares("op-a", LP), lp);
    // the pool's virtual price (≥ 1: fees stay in the pool), from the markets' own valuation
    let vp = st.price_eth_wad;
    assert!(vp >= WAD && vp < WAD + WAD / u(100), "{vp}");
    let (j, _) = stake_engine::markets::summary(&w);
    let vp_f = j["pools"][0]["virtual_price"].as_f64().unwrap();
    assert!(
        (u128::try_from(vp).unwrap() as f64 / 1e18 - vp_f).abs() < 1e-12,
        "{vp} vs {vp_f}"
    );
    // the strategy holds exactly the shares (virtual offsets cancel): value per share
    // = ⌊1e18·(lp+1e3)/(lp+1e3)⌋ · vp / 1e18 = vp, so stake = ⌊lp·vp / 1e18⌋
    assert_eq!(el.value_per_share(&w.ledger, LP).unwrap(), vp);
    let expect = mul_div_down(lp, vp, WAD).unwrap();
    let (stake, alloc) = op_stake_wei(&w, "op-a");
    assert_eq!(U256::from(stake), expect);
    // op-a allocates 100 % to avs1 on every strategy, the new one included
    assert_eq!(U256::from(alloc), expect);
    assert!(el.operator_sets.values().all(|s| s.strategies.contains(LP)));
    // each frame re-prices the strategy at the pool's virtual price
    let mut w = w;
    let to = w.now + 86_400;
    ok(&mut w, tx(SYSTEM, Action::AdvanceTime { to }));
    let vp2 = w.restaking.el.as_ref().unwrap().strategy(LP).unwrap().price_eth_wad;
    let (j, _) = stake_engine::markets::summary(&w);
    let vp2_f = j["pools"][0]["virtual_price"].as_f64().unwrap();
    assert!(
        (u128::try_from(vp2).unwrap() as f64 / 1e18 - vp2_f).abs() < 1e-12,
        "{vp2} vs {vp2_f}"
    );
}

#[test]
fn a_fault_burns_ten_percent_of_the_lp_shares_and_books_their_eth_value() {
    let (mut w, lp) = lp_restaked();
    let vp = w.restaking.el.as_ref().unwrap().strategy(LP).unwrap().price_eth_wad;
    ok(
        &mut w,
        tx(
            SYSTEM,
            r(RestakingAction::ServiceFault {
                service: "avs1".into(),
                operator: "op-a".into(),
                fraction_wad: None,
            }),
        ),
    );
    let el = w.restaking.el.as_ref().unwrap();
    // burned = S − ⌈S·0.9e18/1e18⌉
    let burned = calc_slashed_amount(lp, 1_000_000_000_000_000_000, 900_000_000_000_000_000).unwrap();
    assert_eq!(el.operator_shares("op-a", LP), lp - burned);
    // only the LP strategy holds stake: slashed ETH = ⌊burned·vp/1e18⌋ (value per share = vp before)
    let book = w.restaking.services.book("avs1").unwrap();
    assert_eq!(book.slashed, mul_div_down(burned, vp, WAD).unwrap());
}

#[test]
fn eigen_restakes_at_its_declared_eth_price_and_an_unpriced_asset_counts_zero() {
    let mut w = world();
    ok(&mut w, tx("bob", restake("EIGEN", Some(u(10_000) * WAD))));
    ok(&mut w, tx("bob", restake("XYZ", None)));
    ok(
        &mut w,
        tx(
            "bob",
            r(RestakingAction::Delegate {
                operator: "op-a".into(),
            }),
        ),
    );
    let el = w.restaking.el.as_ref().unwrap();
    assert_eq!(el.strategy("EIGEN").unwrap().price_eth_wad, u(300_000_000_000_000));
    assert_eq!(el.strategy("XYZ").unwrap().price_eth_wad, U256::ZERO);
    assert_eq!(el.operator_shares("op-a", "XYZ"), u(10_000_000));
    // 10_000 EIGEN · 0.0003 ETH = 3 ETH exactly; XYZ adds 0
    let (stake, _) = op_stake_wei(&w, "op-a");
    assert_eq!(stake, 3_000_000_000_000_000_000);
}

#[test]
fn restaking_what_the_world_cannot_take_is_rejected_without_a_trace() {
    let mut w = world();
    let (code, msg) = rejected(&mut w, tx("alice", restake("DOGE", Some(WAD))));
    assert_eq!(code, 9036, "{msg}");
    // ETH itself and the rebasing stETH cannot back a strategy
    let (code, msg) = rejected(&mut w, tx("alice", restake("ETH", Some(WAD))));
    assert_eq!(code, 9037, "{msg}");
    let (code, msg) = rejected(&mut w, tx("alice", restake("stETH", Some(WAD))));
    assert_eq!(code, 9037, "{msg}");
    assert!(msg.contains("wstETH"), "{msg}");
    // zero, and the whole of an empty balance
    let (code, _) = rejected(&mut w, tx("bob", restake("EIGEN", Some(U256::ZERO))));
    assert_eq!(code, 9005);
    let (code, _) = rejected(&mut w, tx("alice", restake(LP, None)));
    assert_eq!(code, 9005);
    // more than the balance: no strategy is left behind
    let (code, msg) = rejected(&mut w, tx("bob", restake("EIGEN", Some(u(50_001) * WAD))));
    assert_eq!(code, 1004, "{msg}");
    assert!(w.restaking.el.as_ref().unwrap().strategy("EIGEN").is_err());
}

#[test]
fn an_operator_stakes_eigen_from_the_scenario_and_scheduled_restakes_check_the_token() {
    let scn = SCN.replace(
        "[[operators]]\nname = \"op-a\"",
        "[[operators]]\nname = \"op-a\"\nstake_from = [{ token = \"EIGEN\", amount = \"1_000 EIGEN\" }]",
    );
    let w = prepare(&scn, None).expect("builds").world().clone();
    let (stake, alloc) = op_stake_wei(&w, "op-a");
    // 1_000 · 0.0003 = 0.3 ETH, allocated in full to avs1
    assert_eq!(stake, 300_000_000_000_000_000);
    assert_eq!(alloc, 300_000_000_000_000_000);
    let bad = format!("{SCN}\n[[actions]]\nat = \"day 1\"\ndo = \"restake\"\naccount = \"alice\"\ntoken = \"ETH\"\namount = \"1 ETH\"\n");
    let e = match prepare(&bad, None) {
        Ok(_) => panic!("a restake of ETH was scheduled"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("actions[0].token") && e.contains("cannot value"), "{e}");
}

#[test]
fn actions_of_a_restaking_protocol_the_scenario_does_not_have_are_rejected() {
    let mut w = world();
    // Symbiotic and Jito are looked up by vault: an unknown vault (9035).
    let deposit = RestakingAction::SymbioticDeposit {
        vault: "v".into(),
        amount: Some(U256::ONE),
    };
    let mint = RestakingAction::JitoMint {
        vault: "v".into(),
        amount: Some(U256::ONE),
        min_out: U256::ZERO,
    };
    let (code, msg) = rejected(&mut w, tx("alice", r(deposit)));
    assert_eq!((code, msg.as_str()), (9035, "unknown Symbiotic vault `v`"));
    let (code, msg) = rejected(&mut w, tx("alice", r(mint)));
    assert_eq!((code, msg.as_str()), (9035, "unknown Jito vault `v`"));
    // Babylon is one chain: the section is missing (9032).
    let stake = RestakingAction::BabylonStake {
        provider: "fp".into(),
        amount: Some(U256::ONE),
    };
    let (code, msg) = rejected(&mut w, tx("alice", r(stake)));
    assert_eq!((code, msg.as_str()), (9032, "the scenario has no [restaking.babylon]"));
}
