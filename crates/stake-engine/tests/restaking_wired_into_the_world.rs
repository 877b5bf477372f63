//! L2 restaking in the world: the shipped AVS-slashing scenario end to end, an AVS slash during a
//! queued withdrawal, an L0 slash behind an EigenPod, and atomic rejections.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::restaking::RestakingAction;
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{mul_div_down, u, U256, WAD};
use stake_restaking::eigenlayer::{calc_slashed_amount, BEACON_STRATEGY};

const DAY: u64 = 86_400;

fn avs_slashing() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/avs-slashing.toml"
    ))
    .expect("scenario file")
}

const SMALL: &str = r#"
name = "small-restaking"
[clock]
start = "2025-01-01"
horizon = "60d"
step = "1d"
seed = 7
[chains.ethereum]
staked = "1_000_000 ETH"
[lst.rETH]
model = "rocketpool"
operators = [{ name = "node-1", bond = "8 ETH", rpl = "100_000 RPL", validators = 10 }]
[restaking.eigenlayer]
withdrawal_delay = "14d"
[[operators]]
name = "op-a"
stake_from = [{ lst = "rETH", amount = "100 ETH" }]
[[operators]]
name = "op-b"
[[services]]
name = "avs1"
profit_from_corruption = "1_000 ETH"
threshold = "1/3"
reward_apr = "2%"
reward_budget = "1_000 ETH"
operators = ["op-a"]
slash_on_fault = "10%"
allocation = "100%"
[[accounts]]
name = "alice"
balances = ["1_000 ETH"]
[[accounts]]
name = "carol"
balances = ["100 ETH"]
"#;

fn small_world() -> World {
    prepare(SMALL, None).expect("scenario builds").world().clone()
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

fn advance(w: &mut World, by: u64) {
    let to = w.now + by;
    ok(w, tx(SYSTEM, Action::AdvanceTime { to }));
}

fn block(w: &World) -> u64 {
    (w.now - w.restaking.start) / 12
}

/// alice: 200 ETH → rETH → restaked → delegated to op-a.
fn alice_restakes(w: &mut World) {
    ok(
        w,
        tx(
            "alice",
            Action::Stake {
                lst: "rETH".into(),
                amount: u(200) * WAD,
            },
        ),
    );
    ok(
        w,
        tx(
            "alice",
            r(RestakingAction::Restake {
                token: "rETH".into(),
                amount: None,
            }),
        ),
    );
    ok(
        w,
        tx(
            "alice",
            r(RestakingAction::Delegate {
                operator: "op-a".into(),
            }),
        ),
    );
}

#[test]
fn the_avs_slashing_scenario_slashes_one_operator_and_pays_every_service() {
    let res = prepare(&avs_slashing(), None).unwrap().run(&mut |_, _| {}).unwrap();
    let s = &res.summary;
    assert!(s.rejected.is_empty(), "{:?}", s.rejected);
    let rs = &s.restaking;
    let svc = |name: &str| {
        rs["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["service"] == name)
            .unwrap()
            .clone()
    };
    let op = |name: &str| {
        rs["operators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["operator"] == name)
            .unwrap()
            .clone()
    };
    let n = |v: &serde_json::Value| v.as_str().unwrap().parse::<u128>().unwrap();
    // Only oracle-x faulted, once, against op-b; its books and op-b's agree.
    assert_eq!(svc("oracle-x")["faults"], 1);
    assert_eq!(svc("eigenda")["faults"], 0);
    assert_eq!(n(&svc("eigenda")["slashed_wei"]), 0);
    let slashed = n(&svc("oracle-x")["slashed_wei"]);
    assert_eq!(n(&op("op-b")["slashed_wei"]), slashed);
    assert_eq!(n(&op("op-a")["slashed_wei"]), 0);
    // op-b allocates half its magnitude to oracle-x, which slashes 10 % of it: 5 % of op-b's
    // ≈ 4,000 ETH (its own 1,000, bob's 2,000 and dave's 1,000 queued but still slashable).
    assert!(
        slashed > 195 * 10u128.pow(18) && slashed < 205 * 10u128.pow(18),
        "{slashed}"
    );
    // Every service paid rewards, and operators earned some.
    for name in ["eigenda", "oracle-x", "bridge-y"] {
        assert!(n(&svc(name)["rewards_paid_wei"]) > 0, "{name}");
    }
    for name in ["op-a", "op-b", "op-c"] {
        assert!(n(&op(name)["rewards_earned_wei"]) > 0, "{name}");
        assert!(n(&op(name)["stake_wei"]) > 0, "{name}");
    }
    // The allocated stake of the services adds up to that of the operators.
    let by_svc: u128 = ["eigenda", "oracle-x", "bridge-y"]
        .iter()
        .map(|x| n(&svc(x)["allocated_wei"]))
        .sum();
    let by_op: u128 = ["op-a", "op-b", "op-c"]
        .iter()
        .map(|x| n(&op(x)["allocated_wei"]))
        .sum();
    assert!(by_svc.abs_diff(by_op) < 1_000, "{by_svc} vs {by_op}");
    // Withdrawals completed; the restaking columns are sampled.
    assert_eq!(rs["queued_withdrawals"], 0);
    let col = res.columns.iter().position(|c| c == "oracle-x.slashed_eth").unwrap();
    assert_eq!(res.rows[0].values[col], 0.0);
    assert!((res.rows.last().unwrap().values[col] - slashed as f64 / 1e18).abs() < 1e-6);
    // Deterministic.
    let again = prepare(&avs_slashing(), None).unwrap().run(&mut |_, _| {}).unwrap();
    assert_eq!(again.summary.final_state_hash, s.final_state_hash);
}

#[test]
fn an_avs_slash_during_a_queued_withdrawal_reduces_what_is_paid_out() {
    let mut w = small_world();
    alice_restakes(&mut w);
    advance(&mut w, DAY);
    let el = w.restaking.el.as_ref().unwrap();
    let shares = el.withdrawable_shares("alice", "rETH").unwrap();
    assert!(shares > u(190) * WAD, "{shares}");
    ok(
        &mut w,
        tx(
            "alice",
            r(RestakingAction::QueueWithdrawal {
                strategy: "rETH".into(),
                shares: None,
            }),
        ),
    );
    let el = w.restaking.el.as_ref().unwrap();
    let id = *el.withdrawals.keys().last().unwrap();
    assert_eq!(el.queued_withdrawal_shares(id, block(&w)).unwrap(), vec![shares]);
    let op_before = el.operator_shares("op-a", "rETH");

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
    // Allocation WAD, slash 10 %: max magnitude WAD → 0.9·WAD.
    let el = w.restaking.el.as_ref().unwrap();
    assert_eq!(el.max_magnitude("op-a", "rETH"), 900_000_000_000_000_000);
    let queued = el.queued_withdrawal_shares(id, block(&w)).unwrap()[0];
    assert_eq!(queued, mul_div_down(shares, u(9), u(10)).unwrap());
    assert_eq!(
        el.operator_shares("op-a", "rETH"),
        op_before - calc_slashed_amount(op_before, 1_000_000_000_000_000_000, 900_000_000_000_000_000).unwrap()
    );
    let book = w.restaking.services.book("avs1").unwrap();
    assert_eq!(book.faults, 1);
    assert!(book.slashed > U256::ZERO);
    assert_eq!(book.slashed_by_operator["op-a"], book.slashed);

    // Not before the delay…
    let (code, _) = rejected(&mut w, tx("alice", r(RestakingAction::CompleteWithdrawals)));
    assert_eq!(code, 9031);
    advance(&mut w, 15 * DAY);
    let el = w.restaking.el.as_ref().unwrap();
    let expected = el.shares_to_underlying(&w.ledger, "rETH", queued).unwrap();
    let reth = w.ledger.asset("rETH").unwrap();
    let alice = w.ledger.find_account("alice").unwrap();
    let before = w.ledger.balance(alice, reth);
    ok(&mut w, tx("alice", r(RestakingAction::CompleteWithdrawals)));
    let paid = w.ledger.balance(alice, reth) - before;
    assert_eq!(paid, expected);
    assert!(paid < mul_div_down(shares, u(91), u(100)).unwrap());
}

#[test]
fn an_l0_slashing_behind_an_eigenpod_reduces_the_restakers_withdrawable_shares() {
    let mut w = small_world();
    ok(&mut w, tx("carol", r(RestakingAction::RestakeNative { validators: 2 })));
    ok(
        &mut w,
        tx(
            "carol",
            r(RestakingAction::Delegate {
                operator: "op-a".into(),
            }),
        ),
    );
    advance(&mut w, 5 * DAY);
    let el = w.restaking.el.as_ref().unwrap();
    assert_eq!(el.pods["carol"].validators.len(), 2);
    let before = el.withdrawable_shares("carol", BEACON_STRATEGY).unwrap();
    assert!(before >= u(64) * WAD, "{before}");
    let op_before = el.operator_shares("op-a", BEACON_STRATEGY);
    assert_eq!(el.beacon_chain_slashing_factor("carol"), 1_000_000_000_000_000_000);

    ok(
        &mut w,
        tx(
            SYSTEM,
            Action::SlashValidators {
                operator: "carol".into(),
                count: 1,
            },
        ),
    );
    advance(&mut w, DAY);
    let el = w.restaking.el.as_ref().unwrap();
    let bcsf = el.beacon_chain_slashing_factor("carol");
    assert!(bcsf < 1_000_000_000_000_000_000, "{bcsf}");
    let after = el.withdrawable_shares("carol", BEACON_STRATEGY).unwrap();
    assert!(after < before, "{after} !< {before}");
    assert!(el.operator_shares("op-a", BEACON_STRATEGY) < op_before);
    assert!(w.hook_rejections.is_empty(), "{:?}", w.hook_rejections);
}

#[test]
fn restaking_rejections_name_the_problem_and_change_nothing() {
    let mut w = small_world();
    alice_restakes(&mut w);
    let fault = |sender: &str, op: &str| {
        tx(
            sender,
            r(RestakingAction::ServiceFault {
                service: "avs1".into(),
                operator: op.into(),
                fraction_wad: None,
            }),
        )
    };
    assert_eq!(rejected(&mut w, fault("alice", "op-a")).0, 9000);
    assert_eq!(rejected(&mut w, fault(SYSTEM, "op-b")).0, 4504);
    let (code, msg) = rejected(
        &mut w,
        tx(
            "carol",
            r(RestakingAction::Delegate {
                operator: "nobody".into(),
            }),
        ),
    );
    assert_eq!(code, 4020, "{msg}");
    let (code, msg) = rejected(
        &mut w,
        tx(
            "carol",
            r(RestakingAction::Restake {
                token: "rETH".into(),
                amount: Some(u(5) * WAD),
            }),
        ),
    );
    assert_eq!(code, 1004, "{msg}");
    assert_eq!(
        rejected(&mut w, tx("carol", r(RestakingAction::CompleteWithdrawals))).0,
        9031
    );
    assert_eq!(
        rejected(&mut w, tx("carol", r(RestakingAction::RestakeNative { validators: 0 }))).0,
        9005
    );
    // 224 ETH is not there: the L0 deposit fails and no pod is created.
    let (code, msg) = rejected(&mut w, tx("carol", r(RestakingAction::RestakeNative { validators: 7 })));
    assert_eq!(code, 2003, "{msg}");
    assert!(!w.restaking.el.as_ref().unwrap().pods.contains_key("carol"));
    let (code, msg) = rejected(
        &mut w,
        tx(
            "alice",
            r(RestakingAction::Allocate {
                service: "avs1".into(),
                magnitude_wad: WAD,
            }),
        ),
    );
    assert_eq!(code, 4020, "{msg}");
    let (code, msg) = rejected(
        &mut w,
        tx(
            "alice",
            r(RestakingAction::QueueWithdrawal {
                strategy: "rETH".into(),
                shares: Some(u(10_000) * WAD),
            }),
        ),
    );
    assert_eq!(code, 4007, "{msg}");
    // A world without restaking.
    let mut plain = prepare(
        SMALL
            .replace("[restaking.eigenlayer]\nwithdrawal_delay = \"14d\"\n", "")
            .split("[[operators]]")
            .next()
            .unwrap(),
        None,
    )
    .unwrap()
    .world()
    .clone();
    assert_eq!(
        rejected(&mut plain, tx("carol", r(RestakingAction::ClaimRewards))).0,
        9030
    );
}

#[test]
fn scenario_mistakes_point_at_the_key() {
    let path = |text: &str| prepare(text, None).unwrap_err().path;
    assert_eq!(
        path(&SMALL.replace("threshold = \"1/3\"", "threshold = \"a third\"")),
        "services[0].threshold"
    );
    assert_eq!(
        path(&SMALL.replace("operators = [\"op-a\"]", "operators = [\"op-z\"]")),
        "services[0].operators[0]"
    );
    assert_eq!(
        path(&SMALL.replace("{ lst = \"rETH\", amount = \"100 ETH\" }", "{ native = \"33 ETH\" }")),
        "operators[0].stake_from[0].native"
    );
    assert_eq!(
        path(&SMALL.replace(
            "profit_from_corruption = \"1_000 ETH\"",
            "profit_from_corruption = \"lots\""
        )),
        "services[0].profit_from_corruption"
    );
    let with_event = |ev: &str| format!("{SMALL}\n[[events]]\nat = \"day 3\"\n{ev}\n");
    assert_eq!(
        path(&with_event(
            "kind = \"service_fault\"\nservice = \"nope\"\noperator = \"op-a\""
        )),
        "events[0].service"
    );
    assert_eq!(
        path(&with_event(
            "kind = \"service_fault\"\nservice = \"avs1\"\noperator = \"op-b\""
        )),
        "events[0].operator"
    );
    let with_action = |a: &str| format!("{SMALL}\n[[actions]]\nat = \"day 3\"\naccount = \"alice\"\n{a}\n");
    assert_eq!(
        path(&with_action(
            "do = \"restake\"\ntoken = \"stETH\"\namount = \"1 stETH\""
        )),
        "actions[0].token"
    );
    assert_eq!(
        path(&with_action("do = \"restake_native\"\namount = \"40 ETH\"")),
        "actions[0].amount"
    );
    assert_eq!(
        path(&with_action("do = \"delegate\"\noperator = \"alice\"")),
        "actions[0].operator"
    );
}
