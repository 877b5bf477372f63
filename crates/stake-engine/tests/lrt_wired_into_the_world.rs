//! L3 in the world: Renzo's ezETH and Kelp's rsETH over their own EigenPods — hand-computed
//! mints, deposits spread by target allocation, a 10 % slash of one operator reaching the rate
//! in the same transaction, Kelp's fee minted on the price increase, a withdrawal through pod
//! exits paying the value at request, and every rejection with its exact error and an
//! unchanged state hash.

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::lrt::{delegator_value, LrtAction, LrtModel};
use stake_engine::restaking::RestakingAction;
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{mul_div_down, u, U256, WAD};

const DAY: u64 = 86_400;
const ETHER: u128 = 1_000_000_000_000_000_000;

/// Two operators, one service, ezETH and rsETH over both, alice and bob with 1,000 ETH each.
pub(crate) const SMALL: &str = r#"
name = "small-lrt"
[clock]
start = "2025-01-01"
horizon = "120d"
step = "1d"
seed = 7
[chains.ethereum]
staked = "1_000_000 ETH"
[restaking.eigenlayer]
withdrawal_delay = "7d"
[[operators]]
name = "op-a"
[[operators]]
name = "op-b"
[[services]]
name = "avs1"
profit_from_corruption = "1_000 ETH"
threshold = "1/3"
reward_apr = "2%"
reward_budget = "1_000 ETH"
operators = ["op-a", "op-b"]
slash_on_fault = "10%"
allocation = "100%"
[lrt.ezETH]
model = "renzo"
operators = [{ operator = "op-a", allocation = "50%" }, { operator = "op-b", allocation = "50%" }]
withdrawal_delay = "7d"
buffer = "10 ETH"
[lrt.rsETH]
model = "kelp"
operators = [{ operator = "op-a" }, { operator = "op-b" }]
withdrawal_delay = "8d"
[[accounts]]
name = "alice"
balances = ["1_000 ETH"]
[[accounts]]
name = "bob"
balances = ["1_000 ETH"]
"#;

fn world() -> World {
    prepare(SMALL, None).expect("scenario builds").world().clone()
}

fn eth(n: u128) -> U256 {
    U256::from(n * ETHER)
}

fn tx(w: &mut World, sender: &str, action: Action) -> Outcome {
    w.apply(&Tx {
        sender: sender.into(),
        action,
    })
}

fn ok(w: &mut World, sender: &str, action: Action) {
    match tx(w, sender, action.clone()) {
        Outcome::Applied { .. } => {}
        Outcome::Rejected(r) => panic!("{action:?} rejected: {r:?}"),
    }
    w.check_invariants().expect("invariants");
}

fn deposit(lrt: &str, amount: U256) -> Action {
    Action::Lrt(LrtAction::Deposit {
        lrt: lrt.into(),
        amount,
    })
}

fn advance(w: &mut World, days: u64) {
    let to = w.now + days * DAY;
    ok(w, SYSTEM, Action::AdvanceTime { to });
}

fn balance(w: &World, who: &str, sym: &str) -> U256 {
    let a = w.ledger.asset(sym).unwrap();
    w.ledger
        .find_account(who)
        .map(|x| w.ledger.balance(x, a))
        .unwrap_or(U256::ZERO)
}

fn renzo(w: &World) -> &stake_lrt::renzo::Renzo {
    match &w.lrt.lrts[w.lrt.index("ezETH").unwrap()].model {
        LrtModel::Renzo(r) => r,
        LrtModel::Kelp(_) => panic!("ezETH is renzo"),
    }
}

fn kelp(w: &World) -> &stake_lrt::kelp::Kelp {
    match &w.lrt.lrts[w.lrt.index("rsETH").unwrap()].model {
        LrtModel::Kelp(k) => k,
        LrtModel::Renzo(_) => panic!("rsETH is kelp"),
    }
}

fn rate(w: &World, sym: &str) -> U256 {
    let asset = w.ledger.asset(sym).unwrap();
    let e = w.lrt.of_asset(asset).unwrap();
    match &e.model {
        LrtModel::Renzo(r) => r.rate_at(w.now).unwrap(),
        LrtModel::Kelp(k) => k.price,
    }
}

#[test]
fn a_first_deposit_mints_one_for_one_and_the_next_at_the_tvl() {
    let mut w = world();
    ok(&mut w, "alice", deposit("ezETH", eth(100)));
    assert_eq!(balance(&w, "alice", "ezETH"), eth(100), "first mint: value unchanged");
    // The first 10 ETH refill the instant-withdrawal buffer; the rest waits for validators.
    assert_eq!(balance(&w, "ezETH:withdraw_queue", "ETH"), eth(10));
    assert_eq!(balance(&w, "ezETH:deposit_queue", "ETH"), eth(90));
    assert_eq!(balance(&w, "alice", "ETH"), eth(900));
    // Same TVL and supply: the second deposit mints ⌊supply·value/tvl⌋ = 50.
    ok(&mut w, "bob", deposit("ezETH", eth(50)));
    assert_eq!(balance(&w, "bob", "ezETH"), eth(50));
    assert_eq!(renzo(&w).supply, eth(150));
    // Kelp mints ⌊amount·1e18/1e18⌋ at the stored price.
    ok(&mut w, "bob", deposit("rsETH", eth(64)));
    assert_eq!(balance(&w, "bob", "rsETH"), eth(64));
    assert_eq!(balance(&w, "rsETH:deposit_queue", "ETH"), eth(64));
}

#[test]
fn the_deposit_queue_is_staked_in_whole_validators_by_target_allocation() {
    let mut w = world();
    ok(&mut w, "alice", deposit("ezETH", eth(650)));
    ok(&mut w, "bob", deposit("rsETH", eth(640)));
    advance(&mut w, 1);
    let e = &w.lrt.lrts[w.lrt.index("ezETH").unwrap()];
    // 640 ETH after the 10 ETH buffer: 20 validators. chooseOperatorDelegatorForDeposit takes
    // the first delegator below ⌊50 % · 650⌋ = 325 ETH: op-a still is at 320, so it takes an
    // 11th validator and op-b the other 9 — the contract's rule counts the queues in the TVL.
    let counts: Vec<u64> = e.delegators.iter().map(|d| d.deposited).collect();
    assert_eq!(counts, vec![11, 9]);
    assert_eq!(balance(&w, "ezETH:deposit_queue", "ETH"), U256::ZERO);
    let k = &w.lrt.lrts[w.lrt.index("rsETH").unwrap()];
    assert_eq!(
        k.delegators.iter().map(|d| d.deposited).collect::<Vec<_>>(),
        vec![10, 10]
    );
    // Not yet verified: each delegator is worth its validators × 32 ETH, so the rates stay at 1.
    for d in &e.delegators {
        assert_eq!(delegator_value(&w, d).unwrap(), eth(32 * u128::from(d.deposited)));
    }
    assert_eq!(rate(&w, "ezETH"), WAD);
    assert_eq!(renzo(&w).total_tvl(w.now).unwrap(), eth(650));
}

#[test]
fn a_ten_percent_slash_of_one_operator_reaches_both_rates_in_the_same_transaction() {
    let mut w = world();
    ok(&mut w, "alice", deposit("ezETH", eth(650)));
    ok(&mut w, "bob", deposit("rsETH", eth(640)));
    advance(&mut w, 3);
    let ez_before = renzo(&w).total_tvl(w.now).unwrap();
    let i = w.lrt.index("ezETH").unwrap();
    let b_before = delegator_value(&w, &w.lrt.lrts[i].delegators[1]).unwrap();
    let supply = renzo(&w).supply;
    let hash = w.state_hash();
    // Only `system` may slash.
    let fault = Action::Restaking(RestakingAction::ServiceFault {
        service: "avs1".into(),
        operator: "op-b".into(),
        fraction_wad: Some(WAD / u(10)),
    });
    let Outcome::Rejected(r) = tx(&mut w, "alice", fault.clone()) else {
        panic!("a user cannot slash")
    };
    assert_eq!(r.code, 9000);
    assert_eq!(w.state_hash(), hash);
    ok(&mut w, SYSTEM, fault);
    let b_after = delegator_value(&w, &w.lrt.lrts[i].delegators[1]).unwrap();
    // op-b allocated all of its magnitude to avs1: its stakers lose 10 % of their shares
    // (rounded in EigenLayer's favour).
    let lost = b_before - b_after;
    assert!(
        lost >= b_before / u(10) && lost <= b_before / u(10) + u(2),
        "lost {lost} of {b_before}"
    );
    let tvl = renzo(&w).total_tvl(w.now).unwrap();
    assert_eq!(
        tvl,
        ez_before - lost,
        "Renzo's TVL is revalued in the slashing transaction"
    );
    assert_eq!(rate(&w, "ezETH"), mul_div_down(tvl, WAD, supply).unwrap());
    // op-b holds 9 of the 20 validators: about −4.4 %.
    assert!(
        rate(&w, "ezETH") < u(960_000_000_000_000_000),
        "{} lost {lost} of {b_before}",
        rate(&w, "ezETH")
    );
    // Kelp repriced too: total ETH / supply, a fall (no fee is taken on a drop).
    let k = kelp(&w);
    let total = k.assets["ETH"].total;
    assert_eq!(k.price, mul_div_down(total, WAD, k.supply).unwrap());
    assert!(k.price < u(960_000_000_000_000_000), "{}", k.price);
    assert_eq!(k.treasury_rseth, w.lrt.lrts[w.lrt.index("rsETH").unwrap()].fees);
}

#[test]
fn kelp_mints_its_fee_on_the_price_increase_as_update_rseth_price_computes_it() {
    let mut w = world();
    ok(&mut w, "bob", deposit("rsETH", eth(640)));
    advance(&mut w, 30);
    let k = kelp(&w);
    assert!(k.price > WAD, "rewards raised the price: {}", k.price);
    // Recompute the last update from its inputs: the fee the engine minted is the contract's.
    let treasury = balance(&w, "rsETH:treasury", "rsETH");
    assert!(treasury > U256::ZERO);
    assert_eq!(treasury, k.treasury_rseth);
    assert_eq!(w.ledger.supply(w.ledger.asset("rsETH").unwrap()), k.supply);
    let before = k.clone();
    let mut again = before.clone();
    // A second update with no new value changes nothing (no increase, no fee).
    let (p, fee) = again.update_rseth_price().unwrap();
    assert_eq!(fee, U256::ZERO);
    assert_eq!(p, before.price);
}

#[test]
fn a_withdrawal_beyond_the_buffer_exits_validators_and_pays_the_value_at_request() {
    let mut w = world();
    ok(&mut w, "alice", deposit("ezETH", eth(650)));
    ok(&mut w, "bob", deposit("rsETH", eth(640)));
    // Validators must be active for 256 epochs before they may exit.
    advance(&mut w, 3);
    let ask = eth(100);
    let hash = w.state_hash();
    let early = Action::Lrt(LrtAction::Claim { lrt: "ezETH".into() });
    let Outcome::Rejected(r) = tx(&mut w, "alice", early.clone()) else {
        panic!("nothing to claim yet")
    };
    assert_eq!(
        (r.code, r.message.as_str()),
        (9301, "alice has no ezETH withdrawal that can be claimed now")
    );
    assert_eq!(w.state_hash(), hash);
    ok(
        &mut w,
        "alice",
        Action::Lrt(LrtAction::RequestWithdrawal {
            lrt: "ezETH".into(),
            amount: ask,
        }),
    );
    let req = renzo(&w).requests.values().next().unwrap().clone();
    assert!(req.queued, "100 ETH exceed the 10 ETH buffer");
    assert_eq!(balance(&w, "ezETH:locked", "ezETH"), ask);
    // Too early: the cool-down's exact error, nothing changes.
    let hash = w.state_hash();
    let Outcome::Rejected(r) = tx(&mut w, "alice", early.clone()) else {
        panic!("cool-down")
    };
    assert_eq!(r.code, 5009, "{}", r.message);
    assert_eq!(w.state_hash(), hash);
    advance(&mut w, 1);
    let e = &w.lrt.lrts[w.lrt.index("ezETH").unwrap()];
    let exits: u64 = e.delegators.iter().map(|d| d.exit_requested).sum();
    // Deficit: the request's value less the buffer, plus refilling the buffer — ⌈100/32⌉ = 4.
    assert_eq!(exits, 4);
    // Exit queue, sweep, 7-day EigenLayer delay: all done within 30 days.
    advance(&mut w, 30);
    let before = balance(&w, "alice", "ETH");
    ok(&mut w, "alice", early);
    assert_eq!(
        balance(&w, "alice", "ETH") - before,
        req.amount_to_redeem,
        "min(at request, at claim)"
    );
    assert_eq!(balance(&w, "ezETH:locked", "ezETH"), U256::ZERO);
    assert_eq!(renzo(&w).supply, eth(550));
}

#[test]
fn lrt_rejections_have_exact_errors_and_change_nothing() {
    let mut w = world();
    ok(&mut w, "alice", deposit("ezETH", eth(100)));
    let cases: Vec<(&str, Action, u32, &str)> = vec![
        ("alice", deposit("xyzETH", eth(1)), 9300, "unknown LRT `xyzETH`"),
        ("alice", deposit("ezETH", U256::ZERO), 9005, "amount must be positive"),
        (
            "alice",
            Action::Lrt(LrtAction::RequestWithdrawal {
                lrt: "ezETH".into(),
                amount: U256::ZERO,
            }),
            9005,
            "amount must be positive",
        ),
        (
            "alice",
            Action::Lrt(LrtAction::Claim { lrt: "rsETH".into() }),
            9301,
            "alice has no rsETH withdrawal that can be claimed now",
        ),
    ];
    for (who, a, code, msg) in cases {
        let hash = w.state_hash();
        let Outcome::Rejected(r) = tx(&mut w, who, a.clone()) else {
            panic!("{a:?} must be rejected")
        };
        assert_eq!((r.code, r.message.as_str()), (code, msg), "{a:?}");
        assert_eq!(w.state_hash(), hash, "{a:?}");
    }
    // Amounts beyond the sender's balance: the ledger's refusal, nothing changes.
    for a in [
        deposit("ezETH", eth(5_000)),
        Action::Lrt(LrtAction::RequestWithdrawal {
            lrt: "ezETH".into(),
            amount: eth(101),
        }),
    ] {
        let hash = w.state_hash();
        let Outcome::Rejected(r) = tx(&mut w, "alice", a.clone()) else {
            panic!("{a:?} must be rejected")
        };
        assert_eq!(r.code, 1004, "{a:?}: {}", r.message);
        assert_eq!(w.state_hash(), hash);
    }
    // Kelp's minimum: a request above the available assets is the contract's error.
    ok(&mut w, "bob", deposit("rsETH", eth(10)));
    let hash = w.state_hash();
    let Outcome::Rejected(r) = tx(
        &mut w,
        "bob",
        Action::Lrt(LrtAction::RequestWithdrawal {
            lrt: "rsETH".into(),
            amount: eth(10) + U256::ONE,
        }),
    ) else {
        panic!("more than bob holds")
    };
    assert_eq!(r.code, 1004, "{}", r.message);
    assert_eq!(w.state_hash(), hash);
}

#[test]
fn bad_lrt_tables_name_their_key() {
    let check = |from: &str, to: &str, path: &str, msg: &str| {
        let text = SMALL.replacen(from, to, 1);
        assert_ne!(text, SMALL, "{from}");
        let Err(e) = prepare(&text, None) else {
            panic!("{to} must fail")
        };
        assert_eq!((e.path.as_str(), e.message.as_str()), (path, msg), "{to}");
    };
    check(
        "model = \"renzo\"",
        "model = \"lido\"",
        "lrt.ezETH.model",
        "unknown LRT model `lido` (available: renzo, kelp)",
    );
    check(
        "{ operator = \"op-a\", allocation = \"50%\" }",
        "{ operator = \"op-z\", allocation = \"50%\" }",
        "lrt.ezETH.operators[0].operator",
        "`op-z` is not an operator of `[[operators]]`",
    );
    check(
        "allocation = \"50%\" }, { operator = \"op-b\", allocation = \"50%\" }",
        "allocation = \"60%\" }, { operator = \"op-b\", allocation = \"50%\" }",
        "lrt.ezETH.operators",
        "allocations add up to more than 100%",
    );
    check(
        "withdrawal_delay = \"8d\"",
        "withdrawal_delay = \"8d\"\nprice_limit = \"2.5%\"",
        "lrt.rsETH.price_limit",
        "Kelp's limit is a whole percent",
    );
    check(
        "withdrawal_delay = \"8d\"",
        "withdrawal_delay = \"11d\"",
        "lrt.rsETH.withdrawal_delay",
        "ExceedWithdrawalDelay: 79200 blocks",
    );
}

#[test]
fn the_shipped_lrt_loop_scenario_runs_with_every_invariant_after_every_transaction() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/lrt-loop.toml")).unwrap();
    let p = prepare(&text, None).unwrap();
    let a = p.run(&mut |_, _| {}).unwrap();
    let b = prepare(&text, None).unwrap().run(&mut |_, _| {}).unwrap();
    assert_eq!(a.summary.final_state_hash, b.summary.final_state_hash, "deterministic");
    assert!(a.summary.rejected.is_empty(), "{:?}", a.summary.rejected);
    let lrts = a.summary.lrts.as_array().unwrap();
    assert_eq!(lrts.len(), 2);
    let col = |name: &str| a.columns.iter().position(|c| c == name).unwrap();
    let (ez, rs) = (col("ezETH.rate"), col("rsETH.rate"));
    // The day-90 slash shows in that day's row for both tokens.
    let day = |d: usize| &a.rows[d].values;
    assert!(day(90)[ez] < day(89)[ez] * 0.98 && day(90)[rs] < day(89)[rs] * 0.98);
    // The aggregator's share price falls only with the slash (day 90) and by its weekly moves'
    // 0.01 ETH costs; never otherwise.
    let sp = col("lrt-max.share_price");
    for d in 1..a.rows.len() {
        let (prev, now) = (day(d - 1)[sp], day(d)[sp]);
        if d != 90 {
            assert!(now >= prev * (1.0 - 1e-5), "day {d}: {prev} → {now}");
        }
    }
    assert!(day(90)[sp] < day(89)[sp] * 0.99);
    // The decomposition: Renzo's fee is 10 % of the restaking rewards that entered its deposit
    // queue (one floor per daily claim), and the slash shows as a loss.
    let ez = &lrts[0]["decomposition"];
    let v = |k: &str| ez[k].as_str().unwrap().parse::<u128>().unwrap();
    let (rewards, fee) = (v("restaking_rewards_wei"), v("lrt_fee_wei"));
    assert!(
        rewards > 0 && fee <= rewards / 10 && rewards / 10 - fee <= 180,
        "{rewards} {fee}"
    );
    assert!(v("slashing_wei") > 100 * ETHER);
    let _ = DAY;
}

#[test]
fn an_insurance_fund_pays_its_share_of_a_covered_holders_slashing_loss_in_the_same_transaction() {
    let text = SMALL.replacen(
        "[[accounts]]",
        "[[insurance]]\nname = \"cover\"\npremium = \"2%\"\npayout = \"50%\"\nleverage = \"2\"\n\n[[accounts]]\nname = \"uw\"\nbalances = [\"100 ETH\"]\n\n[[accounts]]",
        1,
    );
    let mut w = prepare(&text, None).unwrap().world().clone();
    let product = |a: stake_engine::products::ProductAction| Action::Product(a);
    use stake_engine::products::ProductAction::{BuyCover, Underwrite};
    ok(&mut w, "alice", deposit("ezETH", eth(650)));
    ok(
        &mut w,
        "uw",
        product(Underwrite {
            fund: "cover".into(),
            amount: eth(100),
        }),
    );
    // Rejections: exact errors, nothing changes.
    let cases = vec![
        (
            product(Underwrite {
                fund: "nope".into(),
                amount: eth(1),
            }),
            9320,
            "unknown insurance fund `nope`".to_string(),
        ),
        (
            product(BuyCover {
                fund: "cover".into(),
                token: "ETH".into(),
                amount: eth(1),
            }),
            9321,
            "ETH is not a liquid restaking token: no cover is sold for it".to_string(),
        ),
        (
            product(BuyCover {
                fund: "cover".into(),
                token: "ezETH".into(),
                amount: eth(201),
            }),
            7306,
            String::new(),
        ),
    ];
    for (a, code, msg) in cases {
        let hash = w.state_hash();
        let Outcome::Rejected(r) = tx(&mut w, "alice", a.clone()) else {
            panic!("{a:?} must be rejected")
        };
        assert_eq!(r.code, code, "{a:?}: {}", r.message);
        if !msg.is_empty() {
            assert_eq!(r.message, msg);
        }
        assert_eq!(w.state_hash(), hash);
    }
    // Capacity = 2 × 100 ETH.
    ok(
        &mut w,
        "alice",
        product(BuyCover {
            fund: "cover".into(),
            token: "ezETH".into(),
            amount: eth(200),
        }),
    );
    advance(&mut w, 3);
    let premiums = w.products.funds[0].fund.premiums_collected;
    assert!(premiums > U256::ZERO, "premiums are collected every frame");
    let old = rate(&w, "ezETH");
    let before = balance(&w, "alice", "ETH");
    ok(
        &mut w,
        SYSTEM,
        Action::Restaking(RestakingAction::ServiceFault {
            service: "avs1".into(),
            operator: "op-b".into(),
            fraction_wad: Some(WAD / u(10)),
        }),
    );
    let new = rate(&w, "ezETH");
    let loss = mul_div_down(eth(650), old - new, WAD).unwrap();
    let paid = balance(&w, "alice", "ETH") - before;
    assert_eq!(
        paid,
        (loss / u(2)).min(eth(200)),
        "50 % of 650 ezETH × the fall of the rate"
    );
    assert_eq!(w.products.funds[0].fund.claims_paid, paid);
    assert_eq!(balance(&w, "cover:fund", "ETH"), eth(100) + premiums - paid);
}

#[test]
fn an_aggregator_vault_buys_lrts_by_policy_under_caps_and_marks_a_slash_as_a_loss() {
    let text = SMALL.replacen(
        "[[accounts]]",
        "[[vaults]]\nname = \"agg\"\nidle_buffer = \"5%\"\ncadence = \"7d\"\nmove_cost = \"0.01 ETH\"\nstrategies = [\n  { token = \"ezETH\", apr = \"5%\", cap = \"60%\" },\n  { token = \"rsETH\", apr = \"4%\", cap = \"60%\" },\n]\n\n[[accounts]]",
        1,
    );
    let mut w = prepare(&text, None).unwrap().world().clone();
    use stake_engine::products::ProductAction::{VaultClaim, VaultDeposit, VaultWithdraw};
    let p = |a| Action::Product(a);
    ok(
        &mut w,
        "alice",
        p(VaultDeposit {
            vault: "agg".into(),
            amount: eth(100),
        }),
    );
    // The first deposit: 100 · (0 + 1) / (0 + 1) shares.
    assert_eq!(balance(&w, "alice", "agg"), eth(100));
    for (a, code) in [
        (
            p(VaultDeposit {
                vault: "nope".into(),
                amount: eth(1),
            }),
            9322,
        ),
        (p(VaultClaim { vault: "agg".into() }), 9324),
        (
            p(VaultWithdraw {
                vault: "agg".into(),
                shares: eth(101),
            }),
            7109,
        ),
    ] {
        let hash = w.state_hash();
        let Outcome::Rejected(r) = tx(&mut w, "alice", a.clone()) else {
            panic!("{a:?} must be rejected")
        };
        assert_eq!(r.code, code, "{a:?}: {}", r.message);
        assert_eq!(w.state_hash(), hash);
    }
    advance(&mut w, 1);
    let v = &w.products.vaults[0];
    // Max yield under caps: ezETH to its 60 % cap of the 99.98 ETH left after the two moves'
    // 0.01 ETH costs (59.988), rsETH the rest but the 5 % buffer (35 less its cost); the LRTs
    // mint at rate 1, and the idle keeps 100 − 59.998 − 35.
    assert_eq!(v.agg.vault.idle, eth(5) + eth(2) / u(1000));
    assert_eq!(balance(&w, "agg:vault", "ezETH"), eth(60) - eth(12) / u(1000));
    assert_eq!(balance(&w, "agg:vault", "rsETH"), eth(35) - eth(1) / u(100));
    assert_eq!(balance(&w, "agg:gas", "ETH"), eth(2) / u(100));
    let total = v.agg.vault.total_assets().unwrap();
    for s in &v.agg.strategies {
        assert!(
            s.allocation <= total * u(6) / u(10),
            "{} over its cap: {} of {total}",
            s.name,
            s.allocation
        );
    }
    // The LRTs stake the vault's ETH at the next frame (one validator each, both with op-a: the
    // first delegators below target); once verified it is slashable.
    advance(&mut w, 4);
    let before = w.products.vaults[0].agg.share_price_wad().unwrap();
    ok(
        &mut w,
        SYSTEM,
        Action::Restaking(RestakingAction::ServiceFault {
            service: "avs1".into(),
            operator: "op-a".into(),
            fraction_wad: Some(WAD / u(10)),
        }),
    );
    let v = &w.products.vaults[0];
    // Marked in the slashing transaction: the loss is reported, the share price falls.
    assert!(v.agg.losses > U256::ZERO);
    assert!(v.agg.share_price_wad().unwrap() < before);
    // A redemption beyond the idle buffer is queued and redeemed through the LRTs' queues.
    ok(
        &mut w,
        "alice",
        p(VaultWithdraw {
            vault: "agg".into(),
            shares: eth(50),
        }),
    );
    assert_eq!(w.products.vaults[0].requests.len(), 1);
    let hash = w.state_hash();
    let Outcome::Rejected(r) = tx(&mut w, "alice", p(VaultClaim { vault: "agg".into() })) else {
        panic!("not back yet")
    };
    assert_eq!(r.code, 9323, "{}", r.message);
    assert_eq!(w.state_hash(), hash);
    advance(&mut w, 45);
    let before = balance(&w, "alice", "ETH");
    ok(&mut w, "alice", p(VaultClaim { vault: "agg".into() }));
    assert!(balance(&w, "alice", "ETH") > before);
    assert!(w.products.vaults[0].requests.is_empty());
}
