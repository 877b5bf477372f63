//! End-to-end tests of the world: determinism, atomic rejections, stake flowing into L0.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{u, U256, WAD};

fn basics() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/eth-staking-basics.toml"
    ))
    .expect("scenario file")
}

const SMALL: &str = r#"
name = "small"
[clock]
start = "2025-01-01"
horizon = "20d"
step = "1d"
seed = 7
[chains.ethereum]
staked = "1_000_000 ETH"
[lst.stETH]
model = "lido"
initial_pooled = "64_000 ETH"
operators = [{ name = "op-a" }, { name = "op-b" }]
[lst.rETH]
model = "rocketpool"
operators = [{ name = "node-1", bond = "8 ETH", rpl = "100_000 RPL", validators = 10 }]
[[accounts]]
name = "alice"
balances = ["1_000 ETH"]
[[actions]]
at = "day 0"
account = "alice"
do = "stake"
lst = "stETH"
amount = "640 ETH"
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

fn rejected(w: &mut World, t: Tx) -> (u32, String) {
    let before = w.state_hash();
    let out = w.apply(&t);
    assert_eq!(w.state_hash(), before, "a rejected {t:?} changed the state");
    match out {
        Outcome::Rejected(r) => (r.code, r.message),
        Outcome::Applied { .. } => panic!("{t:?} was applied"),
    }
}

#[test]
fn the_same_scenario_twice_gives_the_same_final_state_hash() {
    // The shipped scenario up to day 330 (its last action is on day 320): the slashing, its
    // correlation penalty, the exit surge and the claims; the full year runs in CI as the main job.
    let text = basics().replace("horizon = \"365d\"", "horizon = \"330d\"");
    let a = prepare(&text, None).unwrap().run(&mut |_, _| {}).unwrap();
    let b = prepare(&text, None).unwrap().run(&mut |_, _| {}).unwrap();
    assert_eq!(a.summary.final_state_hash, b.summary.final_state_hash);
    assert_eq!(a.rows.len(), 331);
    // The run did something: rates rose, the slashing and the surge happened.
    let steth = a.summary.lsts.iter().find(|l| l.symbol == "stETH").unwrap();
    assert!(
        steth.rate > 1.0 && steth.realised_apr_pct > 2.0 && steth.realised_apr_pct < 4.0,
        "{steth:?}"
    );
    assert_eq!(a.summary.chain.slashed_validators, 40);
}

#[test]
fn engine_rejections_name_the_problem_and_change_nothing() {
    let mut w = small_world();
    let soon = w.now + 1;
    assert_eq!(rejected(&mut w, tx("alice", Action::AdvanceTime { to: soon })).0, 9000);
    assert_eq!(
        rejected(
            &mut w,
            tx(
                "alice",
                Action::SlashValidators {
                    operator: "op-a".into(),
                    count: 1
                }
            )
        )
        .0,
        9000
    );
    let (code, msg) = rejected(
        &mut w,
        tx(
            "alice",
            Action::Stake {
                lst: "cbETH".into(),
                amount: WAD,
            },
        ),
    );
    assert_eq!((code, msg.as_str()), (9001, "unknown LST `cbETH`"));
    let (code, msg) = rejected(
        &mut w,
        tx(
            "alice",
            Action::Wrap {
                lst: "rETH".into(),
                amount: WAD,
            },
        ),
    );
    assert_eq!(
        (code, msg.as_str()),
        (9002, "rETH (rocketpool model) has no `wrap` operation")
    );
    let past = w.now - 1;
    let (code, msg) = rejected(&mut w, tx(SYSTEM, Action::AdvanceTime { to: past }));
    assert_eq!(code, 9003, "{msg}");
    let (code, msg) = rejected(
        &mut w,
        tx(
            "alice",
            Action::Claim {
                lst: "stETH".into(),
                request_id: None,
            },
        ),
    );
    assert_eq!(
        (code, msg.as_str()),
        (9004, "alice has no finalised stETH withdrawal to claim")
    );
    assert_eq!(
        rejected(
            &mut w,
            tx(
                "alice",
                Action::Stake {
                    lst: "stETH".into(),
                    amount: U256::ZERO
                }
            )
        )
        .0,
        9005
    );
    // Protocol and ledger rejections keep their own codes.
    let (code, msg) = rejected(
        &mut w,
        tx(
            "alice",
            Action::Transfer {
                asset: "ETH".into(),
                to: "bob".into(),
                amount: u(2_000) * WAD,
            },
        ),
    );
    assert_eq!(code, 1004, "{msg}");
    let (code, _) = rejected(
        &mut w,
        tx(
            "alice",
            Action::Transfer {
                asset: "DOGE".into(),
                to: "bob".into(),
                amount: WAD,
            },
        ),
    );
    assert_eq!(code, 1000);
    let (code, _) = rejected(
        &mut w,
        tx(
            SYSTEM,
            Action::SlashValidators {
                operator: "nobody".into(),
                count: 1,
            },
        ),
    );
    assert!((2000..3000).contains(&code), "L0 code, got {code}");
    // A split withdrawal request that fails half-way (more than the balance) leaves nothing behind.
    let (code, _) = rejected(
        &mut w,
        tx(
            "alice",
            Action::RequestWithdrawal {
                lst: "stETH".into(),
                amount: u(5_000) * WAD,
            },
        ),
    );
    assert!((3000..3100).contains(&code), "lido code, got {code}");
}

#[test]
fn staked_eth_waits_in_the_activation_queue_then_earns() {
    let mut w = small_world();
    let alice = w.ledger.find_account("alice").unwrap();
    let out = w.apply(&tx(
        "alice",
        Action::Stake {
            lst: "stETH".into(),
            amount: u(320) * WAD,
        },
    ));
    assert!(matches!(out, Outcome::Applied { .. }), "{out:?}");
    let vault = match &w.lst("stETH").unwrap().model {
        stake_engine::lst::LstModel::Lido(l) => l.accounts().withdrawal_vault,
        _ => unreachable!(),
    };
    let before = w.eth.summary_by_credentials(vault);
    // One frame later the buffer is deposited: 10 validators pending, then active.
    let t = w.now + 86_400;
    assert!(matches!(
        w.apply(&tx(SYSTEM, Action::AdvanceTime { to: t })),
        Outcome::Applied { .. }
    ));
    let after = w.eth.summary_by_credentials(vault);
    assert_eq!(
        after.pending + after.active,
        before.pending + before.active + 10,
        "{before:?} → {after:?}"
    );
    let t = w.now + 3 * 86_400;
    assert!(matches!(
        w.apply(&tx(SYSTEM, Action::AdvanceTime { to: t })),
        Outcome::Applied { .. }
    ));
    let later = w.eth.summary_by_credentials(vault);
    // All ten are active (the buffer keeps filling from rewards, so a new deposit may be pending).
    assert!(
        later.active >= before.active + before.pending + 10,
        "{before:?} → {later:?}"
    );
    w.check_invariants().unwrap();
    let _ = alice;
}

#[test]
fn a_paranoid_run_checks_everything_after_every_transaction_and_ends_where_a_normal_run_does() {
    use stake_engine::runner::Checks;
    let run = |checks: Checks| {
        let mut p = prepare(SMALL, None).unwrap();
        p.set_checks(checks);
        assert_eq!(p.checks(), checks);
        p.run(&mut |_, _| {}).unwrap().summary.final_state_hash
    };
    let normal = run(Checks::default());
    assert_eq!(
        run(Checks {
            full_every: 0,
            paranoid: true
        }),
        normal
    );
    assert_eq!(
        run(Checks {
            full_every: 1,
            paranoid: false
        }),
        normal
    );
}

#[test]
fn the_check_after_a_transaction_narrows_only_where_nothing_else_can_break() {
    let mut w = small_world();
    w.ledger.set_auditing(true);
    let eth_to = |to: &str| {
        tx(
            "alice",
            Action::Transfer {
                asset: "ETH".into(),
                to: to.into(),
                amount: u(1) * WAD,
            },
        )
    };
    // ETH between two users: conservation only, and it holds.
    let t = eth_to("bob");
    assert!(matches!(w.apply(&t), Outcome::Applied { .. }));
    w.check_after(&t).unwrap();
    // A user operation of one LST: that LST's backing rules, which hold.
    let t = tx(
        "alice",
        Action::Stake {
            lst: "stETH".into(),
            amount: u(2) * WAD,
        },
    );
    assert!(matches!(w.apply(&t), Outcome::Applied { .. }));
    w.check_after(&t).unwrap();
    // ETH sent straight into Lido's buffer breaks Lido's accounting: a custody account gets the
    // whole check, which catches it.
    let t = eth_to("stETH:buffer");
    assert!(matches!(w.apply(&t), Outcome::Applied { .. }));
    let e = w.check_after(&t).unwrap_err();
    assert!(e.contains("stETH") && e.contains("buffer account holds"), "{e}");
}
