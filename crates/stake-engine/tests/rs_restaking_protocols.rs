//! Symbiotic, Jito and Babylon wired into the world from a scenario: genesis from TOML, rewards
//! from funded treasuries, faults slashed through each model (a vetoed Symbiotic slash changes
//! nothing; an unvetoed one executes after its window), user actions and their rejections through
//! `World::apply` (exact code, unchanged state hash), invariants after every transaction.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::restaking::RestakingAction;
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{mul_div_down, u, U256};

const DAY: u64 = 86_400;
const E18: u128 = 1_000_000_000_000_000_000;

const BASE: &str = r#"
name = "rs-protocols"
[clock]
start = "2025-01-01"
horizon = "60d"
step = "1d"
seed = 3

[[restaking.assets]]
symbol = "TKN"
decimals = 18
[[restaking.assets]]
symbol = "JitoSOL"
decimals = 9
[[restaking.assets]]
symbol = "BTC"
decimals = 8
[[restaking.assets]]
symbol = "BBN"
decimals = 6

[restaking.symbiotic]
[[restaking.symbiotic.vaults]]
name = "v-veto"
collateral = "TKN"
epoch = "7d"
slasher = "veto"
veto_duration = "2d"
resolver = "res"
limits = [{ network = "net", limit = "2_000 TKN" }]
operators = [{ network = "net", operator = "op1", shares = "3" }, { network = "net", operator = "op2", shares = "1" }]
depositors = [{ account = "alice", amount = "1_000 TKN" }, { account = "bob", amount = "3_000 TKN" }]

[[restaking.symbiotic.vaults]]
name = "v-inst"
collateral = "TKN"
epoch = "7d"
delegator = "full_restake"
limits = [{ network = "net2", limit = "800 TKN" }]
depositors = [{ account = "carol", amount = "1_000 TKN" }]

[restaking.jito]
epoch = "2d"
[[restaking.jito.vaults]]
name = "jv"
token = "JitoSOL"
deposit_fee = "100 bps"
withdrawal_fee = "100 bps"
reward_fee = "10%"
depositors = [{ account = "sol", amount = "1_000 JitoSOL" }]
delegations = [{ operator = "jop", amount = "600 JitoSOL" }]

[restaking.babylon]
reward_token = "BBN"
slashing_rate = "10%"
providers = [{ name = "fp1", commission = "10%" }, { name = "fp2" }]
stakers = [{ account = "h1", provider = "fp1", amount = "3 BTC" }, { account = "h2", provider = "fp2", amount = "1 BTC" }]

[[services]]
name = "net"
protocol = "symbiotic"
vaults = ["v-veto"]
operators = ["op1", "op2"]
profit_from_corruption = "1_000 ETH"
threshold = "1/3"
slash_on_fault = "10%"
reward_per_day = "10 TKN"
reward_budget = "25 TKN"

[[services]]
name = "net2"
protocol = "symbiotic"
vaults = ["v-inst"]
operators = ["op1"]
profit_from_corruption = "1_000 ETH"
threshold = "1/3"
slash_on_fault = "25%"

[[services]]
name = "ncn"
protocol = "jito"
vaults = ["jv"]
operators = ["jop"]
profit_from_corruption = "1_000 ETH"
threshold = "2/3"
slash_on_fault = "5%"
reward_apr = "3.65%"
reward_budget = "10 JitoSOL"

[[services]]
name = "chain"
protocol = "babylon"
operators = ["fp1", "fp2"]
profit_from_corruption = "$10M"
threshold = "1/3"
reward_per_day = "100 BBN"
reward_budget = "1_000 BBN"

[[accounts]]
name = "dave"
balances = ["100 TKN", "50 JitoSOL", "2 BTC"]
"#;

fn world() -> World {
    prepare(BASE, None).expect("scenario builds").world().clone()
}

fn tx(sender: &str, a: RestakingAction) -> Tx {
    Tx {
        sender: sender.into(),
        action: Action::Restaking(a),
    }
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

/// Advances to `start + day·DAY` (invariants checked after the transaction).
fn day(w: &mut World, d: u64) {
    let to = w.restaking.start + d * DAY;
    ok(
        w,
        Tx {
            sender: SYSTEM.into(),
            action: Action::AdvanceTime { to },
        },
    );
}

fn fault(service: &str, operator: &str) -> Tx {
    tx(
        SYSTEM,
        RestakingAction::ServiceFault {
            service: service.into(),
            operator: operator.into(),
            fraction_wad: None,
        },
    )
}

fn bal(w: &World, account: &str, asset: &str) -> U256 {
    let id = w.ledger.asset(asset).unwrap();
    w.ledger
        .find_account(account)
        .map(|a| w.ledger.balance(a, id))
        .unwrap_or(U256::ZERO)
}

fn tkn(n: u128) -> U256 {
    u(n) * u(E18)
}

#[test]
fn genesis_builds_every_vault_network_ncn_and_provider_from_toml() {
    let w = world();
    let v = &w.restaking.symbiotic["v-veto"];
    assert_eq!(v.active_stake(), tkn(4_000));
    // network restake: 3/4 and 1/4 of min(active 4,000, limit 2,000)
    assert_eq!(v.stake("net", "op1").unwrap(), tkn(1_500));
    assert_eq!(v.stake("net", "op2").unwrap(), tkn(500));
    // full restake: min(active 1,000, network limit 800, operator limit ∞)
    assert_eq!(w.restaking.symbiotic["v-inst"].stake("net2", "op1").unwrap(), tkn(800));
    // Jito: 1,000 JitoSOL into an empty vault mint 1,000 VRT, the 100 bp fee ⌈1000·100/1e4⌉ = 10
    let j = w.restaking.jito.as_ref().unwrap();
    assert_eq!(j.vaults["jv"].core.vrt_supply, u(1_000_000_000_000));
    assert_eq!(bal(&w, "sol", "vJitoSOL"), u(990_000_000_000));
    assert_eq!(bal(&w, "jito:jv:fees", "vJitoSOL"), u(10_000_000_000));
    // the tickets were warmed up before the start: the delegation secures the NCN at once
    let slot = (w.now - w.restaking.jito_genesis) * 1000 / 400;
    assert_eq!(j.stake_for("jv", "ncn", "jop", slot), u(600_000_000_000));
    let b = w.restaking.babylon.as_ref().unwrap();
    assert_eq!(b.voting_power("fp1").unwrap(), u(300_000_000));
    assert_eq!(b.voting_power("fp2").unwrap(), u(100_000_000));
    // treasuries funded once
    assert_eq!(bal(&w, "net:treasury", "TKN"), tkn(25));
    assert_eq!(bal(&w, "ncn:treasury", "JitoSOL"), u(10_000_000_000));
    assert_eq!(bal(&w, "chain:treasury", "BBN"), u(1_000_000_000));
    assert_eq!(bal(&w, "dave", "BTC"), u(200_000_000));
    w.check_invariants().unwrap();
}

#[test]
fn symbiotic_rewards_follow_stake_then_stop_when_the_treasury_runs_dry() {
    let mut w = world();
    day(&mut w, 2);
    // Per day 10 TKN: op1 ⌊10·1500/2000⌋ = 7.5, op2 2.5; each part pro rata to shares 1:3.
    // alice ⌊7.5/4⌋ + ⌊2.5/4⌋ = 2.5 TKN/day, bob 7.5 TKN/day.
    assert_eq!(bal(&w, "alice", "TKN"), tkn(5));
    assert_eq!(bal(&w, "bob", "TKN"), tkn(15));
    assert_eq!(bal(&w, "net:treasury", "TKN"), tkn(5));
    day(&mut w, 3);
    // 5 TKN left < 10 due: rewards stop, one hook rejection 9040
    assert_eq!(bal(&w, "net:treasury", "TKN"), tkn(5));
    let dry: Vec<_> = w.hook_rejections.iter().filter(|h| h.hook == "net rewards").collect();
    assert_eq!(dry.len(), 1);
    assert_eq!(dry[0].rejection.code, 9040);
    assert!(w.restaking.exhausted.contains("net"));
    day(&mut w, 5);
    assert_eq!(w.hook_rejections.iter().filter(|h| h.hook == "net rewards").count(), 1);
    assert_eq!(w.restaking.paid["net"], tkn(20));
    let op = |o: &str| {
        w.restaking.operator_rewards[&(
            stake_restaking::services::Protocol::Symbiotic,
            o.to_string(),
            "TKN".to_string(),
        )]
    };
    assert_eq!(op("op1"), tkn(15));
    assert_eq!(op("op2"), tkn(5));
}

/// The Symbiotic part that a slash would change: every vault's stake, shares, buckets, slashed
/// amount and the slasher's cumulative slashes (not its request log).
fn vault_core(w: &World, name: &str) -> String {
    let v = &w.restaking.symbiotic[name];
    let s = v.slasher.as_ref().unwrap();
    format!(
        "{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
        v.active_stake,
        v.active_shares,
        v.active_shares_of,
        v.withdrawals,
        v.slashed,
        s.cumulative_slash,
        s.latest_slashed_capture
    )
}

#[test]
fn a_vetoed_symbiotic_slash_changes_nothing() {
    // A: fault on day 4, the resolver vetoes on day 5. B: no fault. Both run to day 10.
    let mut a = world();
    let mut b = world();
    day(&mut a, 4);
    ok(&mut a, fault("net", "op1"));
    let req = &a.restaking.symbiotic["v-veto"].slasher.as_ref().unwrap().requests[0];
    // slashable = stake at capture 1,500 TKN; ⌊1500·10%⌋ = 150 TKN requested
    assert_eq!(req.amount, tkn(150));
    assert_eq!(req.veto_deadline, a.restaking.start + 6 * DAY);
    day(&mut a, 5);
    ok(
        &mut a,
        tx(
            "res",
            RestakingAction::SymbioticVeto {
                vault: "v-veto".into(),
                service: "net".into(),
                operator: "op1".into(),
            },
        ),
    );
    day(&mut a, 10);
    day(&mut b, 10);
    // Every balance of the world is the same…
    assert_eq!(stake_ledger::state_hash(&a.ledger), stake_ledger::state_hash(&b.ledger));
    // …and so is every vault's stake and slashing state; only the request log and the fault count
    // differ.
    for v in ["v-veto", "v-inst"] {
        assert_eq!(vault_core(&a, v), vault_core(&b, v));
    }
    assert!(a.restaking.symbiotic["v-veto"].slasher.as_ref().unwrap().requests[0].completed);
    assert!(a.restaking.sym_pending.is_empty());
    let book = a.restaking.services.book("net").unwrap();
    assert_eq!((book.faults, book.slashed), (1, U256::ZERO));
    let jito = |w: &World| stake_ledger::state_hash(w.restaking.jito.as_ref().unwrap());
    let babylon = |w: &World| stake_ledger::state_hash(w.restaking.babylon.as_ref().unwrap());
    assert_eq!(jito(&a), jito(&b));
    assert_eq!(babylon(&a), babylon(&b));
    assert_eq!(a.restaking.paid, b.restaking.paid);
    assert_eq!(a.hook_rejections, b.hook_rejections);
}

#[test]
fn an_unvetoed_symbiotic_slash_executes_after_its_veto_window() {
    let mut w = world();
    day(&mut w, 4);
    ok(&mut w, fault("net", "op1"));
    day(&mut w, 5);
    // inside the window nothing moved
    assert_eq!(w.restaking.symbiotic["v-veto"].slashed, U256::ZERO);
    assert_eq!(w.restaking.sym_pending.len(), 1);
    // a non-resolver cannot veto
    let veto = |who: &str| {
        tx(
            who,
            RestakingAction::SymbioticVeto {
                vault: "v-veto".into(),
                service: "net".into(),
                operator: "op1".into(),
            },
        )
    };
    assert_eq!(rejected(&mut w, veto("mallory")).0, 4223);
    day(&mut w, 6);
    // Executed at the day-6 frame (deadline day 6): capture epoch = current epoch 0, so
    // slashable = active 4,000 + next withdrawals 0; active slashed ⌊150·4000/4000⌋ = 150.
    let v = &w.restaking.symbiotic["v-veto"];
    assert_eq!(v.slashed, tkn(150));
    assert_eq!(v.active_stake(), tkn(3_850));
    assert_eq!(bal(&w, "symbiotic:v-veto:burner", "TKN"), tkn(150));
    let alice = w.ledger.find_account("alice").unwrap();
    // ⌊1000e18·(3850e18+1)/(4000e18+1)⌋
    assert_eq!(
        v.active_balance_of(alice).unwrap(),
        mul_div_down(tkn(1_000), tkn(3_850) + u(1), tkn(4_000) + u(1)).unwrap()
    );
    let book = w.restaking.services.book("net").unwrap();
    assert_eq!(book.slashed_by_operator["op1"], tkn(150));
    assert!(w.restaking.sym_pending.is_empty());
    // too late to veto: the request is gone
    assert_eq!(rejected(&mut w, veto("res")).0, 9034);
}

#[test]
fn an_instant_symbiotic_slash_hits_at_once() {
    let mut w = world();
    day(&mut w, 1);
    ok(&mut w, fault("net2", "op1"));
    // full restake stake min(1000, 800) = 800; ⌊800·25%⌋ = 200 from active stake
    let v = &w.restaking.symbiotic["v-inst"];
    assert_eq!(v.slashed, tkn(200));
    assert_eq!(v.active_stake(), tkn(800));
    assert_eq!(w.restaking.services.book("net2").unwrap().slashed, tkn(200));
}

#[test]
fn a_jito_fault_slashes_the_operators_delegation() {
    let mut w = world();
    day(&mut w, 1);
    // reward: ⌊600e9·365·86400/(1e4·31,536,000)⌋ = 60,000,000 (0.06 JitoSOL) into the vault
    assert_eq!(w.restaking.paid["ncn"], u(60_000_000));
    assert_eq!(bal(&w, "jito:jv", "JitoSOL"), u(1_000_060_000_000));
    // reward fee ⌈60e6·10%⌉ = 6e6 tokens → ⌊6e6·1000e9/(1000.06e9 − 6e6)⌋ = ⌊6e18/1,000,054,000,000⌋
    // = 5,999,676 VRT
    assert_eq!(bal(&w, "jito:jv:fees", "vJitoSOL"), u(10_000_000_000 + 5_999_676));
    ok(&mut w, fault("ncn", "jop"));
    // ⌊600e9·5%⌋ = 30e9 from staked
    let jv = &w.restaking.jito.as_ref().unwrap().vaults["jv"];
    assert_eq!(jv.operators["jop"].staked, u(570_000_000_000));
    assert_eq!(jv.core.tokens_deposited, u(1_000_060_000_000 - 30_000_000_000));
    assert_eq!(bal(&w, "jito:slashed", "JitoSOL"), u(30_000_000_000));
    assert_eq!(
        w.restaking.services.book("ncn").unwrap().slashed_by_operator["jop"],
        u(30_000_000_000)
    );
}

#[test]
fn a_babylon_fault_burns_part_of_the_providers_delegations_and_rewards_follow_voting_power() {
    let mut w = world();
    day(&mut w, 1);
    // 100 BBN: fp1 ¾ = 75 (10% commission 7.5), fp2 ¼ = 25
    assert_eq!(bal(&w, "fp1", "BBN"), u(7_500_000));
    let b = w.restaking.babylon.as_ref().unwrap();
    assert_eq!(b.pending_rewards(0).unwrap(), u(67_500_000));
    assert_eq!(b.pending_rewards(1).unwrap(), u(25_000_000));
    ok(&mut w, fault("chain", "fp2"));
    // ⌈1e8·10%⌉ = 1e7 sat burned; h2's delegation is worth 0.9 BTC
    let b = w.restaking.babylon.as_ref().unwrap();
    assert_eq!(b.delegation_value(1).unwrap(), u(90_000_000));
    assert_eq!(bal(&w, "babylon:burn", "BTC"), u(10_000_000));
    assert_eq!(w.restaking.services.book("chain").unwrap().slashed, u(10_000_000));
    // a jailed provider cannot be slashed again
    assert_eq!(rejected(&mut w, fault("chain", "fp2")).0, 4402);
    day(&mut w, 2);
    // day 2: everything to fp1 (fp2 has no voting power): 100 BBN, commission 10
    assert_eq!(bal(&w, "fp1", "BBN"), u(17_500_000));
    ok(&mut w, tx("h1", RestakingAction::BabylonClaimRewards));
    assert_eq!(bal(&w, "h1", "BBN"), u(67_500_000 + 90_000_000));
}

#[test]
fn user_actions_of_each_protocol_work_and_rejections_change_nothing() {
    let mut w = world();
    day(&mut w, 1);
    let dave = || "dave";
    // --- Symbiotic
    assert_eq!(
        rejected(
            &mut w,
            tx(
                dave(),
                RestakingAction::SymbioticDeposit {
                    vault: "v-veto".into(),
                    amount: Some(tkn(101))
                }
            )
        )
        .0,
        1004
    );
    assert_eq!(
        rejected(
            &mut w,
            tx(
                dave(),
                RestakingAction::SymbioticDeposit {
                    vault: "nope".into(),
                    amount: None
                }
            )
        )
        .0,
        9035
    );
    assert_eq!(
        rejected(
            &mut w,
            tx(dave(), RestakingAction::SymbioticClaim { vault: "v-veto".into() })
        )
        .0,
        9033
    );
    ok(
        &mut w,
        tx(
            dave(),
            RestakingAction::SymbioticDeposit {
                vault: "v-veto".into(),
                amount: None,
            },
        ),
    );
    assert_eq!(bal(&w, "dave", "TKN"), U256::ZERO);
    day(&mut w, 2);
    let before = bal(&w, "dave", "TKN");
    ok(
        &mut w,
        tx(
            dave(),
            RestakingAction::SymbioticWithdraw {
                vault: "v-veto".into(),
                amount: None,
            },
        ),
    );
    day(&mut w, 8);
    // the bucket is epoch 1 (days 7–14): not claimable yet
    assert_eq!(
        rejected(
            &mut w,
            tx(dave(), RestakingAction::SymbioticClaim { vault: "v-veto".into() })
        )
        .0,
        9033
    );
    day(&mut w, 15);
    ok(
        &mut w,
        tx(dave(), RestakingAction::SymbioticClaim { vault: "v-veto".into() }),
    );
    // 100 shares of 4,100 on 4,100 TKN redeem exactly 100 TKN
    assert_eq!(bal(&w, "dave", "TKN") - before, tkn(100));
    // --- Jito
    assert_eq!(
        rejected(
            &mut w,
            tx(
                dave(),
                RestakingAction::JitoMint {
                    vault: "jv".into(),
                    amount: None,
                    min_out: u(1) << 100
                }
            )
        )
        .0,
        4302
    );
    ok(
        &mut w,
        tx(
            dave(),
            RestakingAction::JitoMint {
                vault: "jv".into(),
                amount: None,
                min_out: U256::ZERO,
            },
        ),
    );
    assert_eq!(
        rejected(
            &mut w,
            tx(dave(), RestakingAction::JitoBurnTickets { vault: "jv".into() })
        )
        .0,
        9033
    );
    let vrt = bal(&w, "dave", "vJitoSOL");
    assert_eq!(
        rejected(
            &mut w,
            tx(
                dave(),
                RestakingAction::JitoEnqueueWithdrawal {
                    vault: "jv".into(),
                    amount: Some(vrt + u(1))
                }
            )
        )
        .0,
        1004
    );
    ok(
        &mut w,
        tx(
            dave(),
            RestakingAction::JitoEnqueueWithdrawal {
                vault: "jv".into(),
                amount: None,
            },
        ),
    );
    assert_eq!(
        rejected(
            &mut w,
            tx(dave(), RestakingAction::JitoBurnTickets { vault: "jv".into() })
        )
        .0,
        9033
    );
    day(&mut w, 21);
    // the crank of this day happened at the frame: the burn is priced on the vault as it is now
    let core = w.restaking.jito.as_ref().unwrap().vaults["jv"].core.clone();
    let s = core.calculate_burn_summary(vrt).unwrap();
    // program fee ⌈vrt·10/1e4⌉ first, vault fee ⌈vrt·100/1e4⌉, out ⌊burn·tokens/supply⌋
    assert_eq!(s.program_fee_amount, (vrt * u(10) + u(9_999)) / u(10_000));
    assert_eq!(s.vault_fee_amount, (vrt * u(100) + u(9_999)) / u(10_000));
    let burn = vrt - s.program_fee_amount - s.vault_fee_amount;
    let out = mul_div_down(burn, core.tokens_deposited, core.vrt_supply).unwrap();
    ok(
        &mut w,
        tx(dave(), RestakingAction::JitoBurnTickets { vault: "jv".into() }),
    );
    assert_eq!(bal(&w, "dave", "JitoSOL"), out);
    // --- Babylon
    assert_eq!(
        rejected(
            &mut w,
            tx(
                dave(),
                RestakingAction::BabylonStake {
                    provider: "fp1".into(),
                    amount: Some(u(1_000))
                }
            )
        )
        .0,
        4403
    );
    assert_eq!(
        rejected(&mut w, tx(dave(), RestakingAction::BabylonUnbond { provider: None })).0,
        9033
    );
    assert_eq!(rejected(&mut w, tx(dave(), RestakingAction::BabylonWithdraw)).0, 9033);
    ok(
        &mut w,
        tx(
            dave(),
            RestakingAction::BabylonStake {
                provider: "fp1".into(),
                amount: None,
            },
        ),
    );
    ok(
        &mut w,
        tx(
            dave(),
            RestakingAction::BabylonUnbond {
                provider: Some("fp1".into()),
            },
        ),
    );
    day(&mut w, 27);
    assert_eq!(rejected(&mut w, tx(dave(), RestakingAction::BabylonWithdraw)).0, 9033);
    day(&mut w, 29);
    ok(&mut w, tx(dave(), RestakingAction::BabylonWithdraw));
    assert_eq!(bal(&w, "dave", "BTC"), u(200_000_000));
    // --- system only
    assert_eq!(
        rejected(
            &mut w,
            Tx {
                sender: "dave".into(),
                action: fault("net", "op1").action
            }
        )
        .0,
        9000
    );
}

#[test]
fn scenario_errors_point_at_the_key() {
    let bad = |from: &str, to: &str| {
        assert!(BASE.contains(from), "{from}");
        prepare(&BASE.replace(from, to), None).err().unwrap()
    };
    let e = bad("delegator = \"full_restake\"", "delegator = \"half_restake\"");
    assert_eq!(e.path, "restaking.symbiotic.vaults[1].delegator");
    let e = bad("vaults = [\"jv\"]", "vaults = [\"jx\"]");
    assert_eq!(e.path, "services[2].vaults[0]");
    let e = bad("reward_budget = \"10 JitoSOL\"", "reward_budget = \"10 BBN\"");
    assert_eq!(e.path, "services[2].reward_budget");
    let e = bad("reward_budget = \"25 TKN\"\n", "");
    assert_eq!(e.path, "services[0].reward_budget");
    let e = bad("operators = [\"fp1\", \"fp2\"]", "operators = [\"fp1\", \"fp9\"]");
    assert_eq!(e.path, "services[3].operators[1]");
    let e = bad("protocol = \"babylon\"", "protocol = \"polkadot\"");
    assert_eq!(e.path, "services[3].protocol");
    let e = bad("slasher = \"veto\"", "slasher = \"veto\"\nsurprise = 1");
    assert!(e.message.contains("unknown field `surprise`"), "{}", e.message);
}

#[test]
fn the_shipped_markets_of_security_scenario_vetoes_one_slash_and_executes_the_others() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/restaking-markets-of-security.toml"
    ))
    .unwrap();
    let res = prepare(&text, None).unwrap().run(&mut |_, _| {}).unwrap();
    let s = &res.summary;
    // the only rejection is the Babylon chain's treasury running dry on day 13
    assert_eq!(s.rejected.len(), 1, "{:?}", s.rejected);
    assert_eq!(s.rejected[0].code, 9040);
    assert_eq!(s.rejected[0].date, "2025-01-14");
    let other = &s.restaking["other"];
    let op = |name: &str| {
        other["operators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["operator"] == name)
            .unwrap()
            .clone()
    };
    let n = |v: &serde_json::Value| v.as_str().unwrap().parse::<u128>().unwrap();
    assert_eq!(n(&op("op-s1")["slashed"]), 0, "the vetoed slash changed nothing");
    assert!(n(&op("op-s2")["slashed"]) > 0);
    // Jito: ⌊60,000·5%⌋ = 3,000 JitoSOL; Babylon: ⌈300·10%⌉ = 30 BTC
    assert_eq!(n(&op("op-j1")["slashed"]), 3_000_000_000_000);
    assert_eq!(n(&op("fp-2")["slashed"]), 3_000_000_000);
    let svc = |name: &str| {
        other["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["service"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(svc("oracle-s")["faults"], 2);
    assert_eq!(svc("bsn-chain")["rewards_stopped"], true);
    // 0.25 ETH a day for 60 days, less rounding dust
    assert!(n(&svc("oracle-s")["rewards_paid"]) <= 15 * E18 && n(&svc("oracle-s")["rewards_paid"]) > 14 * E18);
    for c in [
        "op-s1.symbiotic_stake",
        "ncn-relay.rewards_paid",
        "fp-1.babylon_rewards",
        "bsn-chain.treasury",
    ] {
        assert!(res.columns.iter().any(|x| x == c), "{c}");
    }
}
