//! The arbitrageur over an LRT: after a slash, Renzo's rate falls in the slashing transaction,
//! but a pool without a rate oracle (`rates = "none"`) still prices ezETH at the old rate. An
//! arbitrageur with `mint = true` mints ezETH at the new rate and sells it into the stale pool
//! in the same transaction; its profit is exactly its ETH gain, and it stops where one more
//! probe would no longer pay. Below the rate it buys in the pool and redeems through Renzo's
//! queue, priced by the queue time.

use super::lrt_wired_into_the_world::SMALL;
use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::lrt::LrtAction;
use stake_engine::markets::MarketAction;
use stake_engine::restaking::RestakingAction;
use stake_engine::runner::prepare;
use stake_engine::world::World;
use stake_math::{mul_div_down, u, U256, WAD};

const ETHER: u128 = 1_000_000_000_000_000_000;
const DAY: u64 = 86_400;

/// The LRT world of `lrt_wired_into_the_world` with a plain ezETH/ETH pool.
const POOL: &str = r#"
[[pools]]
name = "ez-eth"
coins = ["ETH", "ezETH"]
a = 100
fee = "0.04%"
rates = "none"
liquidity = ["500 ETH", "500 ezETH"]
"#;

fn base() -> String {
    format!("{SMALL}{POOL}")
}

fn agent(enabled: bool) -> String {
    format!(
        "{}\n[[agents]]\nkind = \"arbitrageur\"\naccount = \"arb\"\npool = \"ez-eth\"\nmint = true\ncost_of_capital = \"5%\"\nenabled = {enabled}\nbalances = [\"300 ETH\"]\n",
        base()
    )
}

fn eth(n: u128) -> U256 {
    U256::from(n * ETHER)
}

fn ok(w: &mut World, sender: &str, action: Action) {
    match w.apply(&Tx {
        sender: sender.into(),
        action: action.clone(),
    }) {
        Outcome::Applied { .. } => {}
        Outcome::Rejected(r) => panic!("{action:?} rejected: {r:?}"),
    }
    w.check_invariants().expect("invariants");
}

fn rate(w: &World) -> U256 {
    let ez = w.ledger.asset("ezETH").unwrap();
    stake_engine::lrt::rate_of(w, ez).unwrap().unwrap()
}

fn eth_of(w: &World, who: &str) -> U256 {
    let a = w.ledger.find_account(who).unwrap();
    w.ledger.balance(a, w.eth_asset)
}

fn ez_of(w: &World, who: &str) -> U256 {
    let a = w.ledger.find_account(who).unwrap();
    w.ledger.balance(a, w.ledger.asset("ezETH").unwrap())
}

/// ETH the pool pays for `tokens` ezETH now (alice's sale on a copy of the world, with ezETH she
/// mints there first).
fn sale(w: &World, tokens: U256) -> U256 {
    let mut c = w.clone();
    ok(
        &mut c,
        "alice",
        Action::Lrt(LrtAction::Deposit {
            lrt: "ezETH".into(),
            amount: eth(10),
        }),
    );
    let before = eth_of(&c, "alice");
    ok(
        &mut c,
        "alice",
        Action::Market(MarketAction::Swap {
            pool: "ez-eth".into(),
            token_in: "ezETH".into(),
            amount: tokens,
            min_out: U256::ZERO,
        }),
    );
    eth_of(&c, "alice") - before
}

fn slash() -> Action {
    Action::Restaking(RestakingAction::ServiceFault {
        service: "avs1".into(),
        operator: "op-b".into(),
        fraction_wad: Some(WAD / u(10)),
    })
}

fn staked_world(text: &str) -> World {
    let mut w = prepare(text, None).expect("scenario builds").world().clone();
    ok(
        &mut w,
        "alice",
        Action::Lrt(LrtAction::Deposit {
            lrt: "ezETH".into(),
            amount: eth(640),
        }),
    );
    for _ in 0..3 {
        let to = w.now + DAY;
        ok(&mut w, SYSTEM, Action::AdvanceTime { to });
    }
    w
}

#[test]
fn after_a_slash_the_arbitrageur_mints_at_the_new_rate_and_sells_into_the_stale_pool() {
    let idle = staked_world(&agent(false));
    let mut w = staked_world(&agent(true));
    // Before the slash the pool pays about the rate: nothing to do.
    assert_eq!(w.markets.arbitrageurs[0].stats.mint_sales, 0);
    assert_eq!(rate(&w), rate(&idle));
    let probe = U256::from(1_000_000_000_000_000u64);
    let pool_before = sale(&w, probe);
    let arb_eth = eth_of(&w, "arb");

    let mut idle = idle;
    ok(&mut idle, SYSTEM, slash());
    ok(&mut w, SYSTEM, slash());
    let new_rate = rate(&w);
    assert!(
        new_rate < WAD * u(97) / u(100),
        "the slash lowers ezETH's rate: {new_rate}"
    );
    // Without the agent the plain pool still pays the old price for ezETH.
    assert_eq!(sale(&idle, probe), pool_before);
    assert!(pool_before > mul_div_down(probe, new_rate, WAD).unwrap() + probe / u(50));

    // With it: minted and sold in the slashing transaction, for an exact profit.
    let s = w.markets.arbitrageurs[0].stats.clone();
    assert!(s.mint_sales >= 1, "{s:?}");
    assert!(s.eth_minted > eth(1) && s.eth_from_sales > s.eth_minted, "{s:?}");
    assert_eq!(eth_of(&w, "arb"), arb_eth + s.eth_from_sales - s.eth_minted);
    assert!(ez_of(&w, "arb") <= U256::ONE, "it sold what it minted");
    // It stopped (with ETH to spare: 2 rounds, the second smaller than its wallet) where one
    // more probe of ETH minted at the new rate sells for about the probe: within 10 ppm, what
    // the fees kept in the pool add to its depth over the trades.
    assert_eq!(s.mint_sales, 2, "{s:?}");
    let probe_tokens = mul_div_down(probe, WAD, new_rate).unwrap();
    let last = sale(&w, probe_tokens);
    assert!(last < probe + probe / u(100_000), "{last} for a {probe}-wei probe");
    assert!(last > probe - probe / u(1_000), "{last} for a {probe}-wei probe");
}

#[test]
fn below_the_rate_the_arbitrageur_buys_and_redeems_through_renzos_queue() {
    let mut w = staked_world(&agent(true));
    // A seller dumps 40 % of the pool's ezETH side: the pool now pays less than the rate.
    ok(
        &mut w,
        SYSTEM,
        Action::Market(MarketAction::SellOff {
            pool: "ez-eth".into(),
            fraction_bps: 4_000,
            seller: "whale".into(),
            acquire: true,
        }),
    );
    let s = w.markets.arbitrageurs[0].stats.clone();
    assert!(s.trades >= 1 && s.eth_spent > U256::ZERO, "{s:?}");
    // Everything it bought is locked in a Renzo request, valued at the rate.
    assert_eq!(ez_of(&w, "arb"), U256::ZERO);
    assert!(s.redeemed_value > s.eth_spent, "bought below redemption value: {s:?}");
    // Its hurdle priced the queue: more than Renzo's 7-day cool-down when the buffer is short.
    assert!(s.last_queue_seconds >= 7 * DAY, "{s:?}");
    // Its claims pay from the buffer after Renzo's 7-day cool-down, then as pod exits and
    // EigenLayer's delay bring ETH back; it recycles what comes back into the discount.
    let mut first_claim = None;
    for d in 1..=60u64 {
        let to = w.now + DAY;
        ok(&mut w, SYSTEM, Action::AdvanceTime { to });
        if first_claim.is_none() && w.markets.arbitrageurs[0].stats.eth_received > U256::ZERO {
            first_claim = Some(d);
        }
    }
    let first_claim = first_claim.expect("a claim paid");
    assert!((7..=12).contains(&first_claim), "first claim on day {first_claim}");
    let s = w.markets.arbitrageurs[0].stats.clone();
    assert!(s.eth_spent > eth(300), "capital recycled through claims: {s:?}");
    assert!(
        s.redeemed_value > s.eth_spent && s.eth_received <= s.redeemed_value,
        "{s:?}"
    );
    // The discount it leaves is about its hurdle over the queue plus the pool's fee.
    let r = rate(&w);
    let probe = U256::from(1_000_000_000_000_000u64);
    let paid = sale(&w, probe);
    let fair = mul_div_down(probe, r, WAD).unwrap();
    assert!(paid < fair && paid > fair * u(995) / u(1_000), "paid {paid} for {fair}");
}

#[test]
fn pool_rates_and_the_mint_key_are_checked_at_their_path() {
    let bad = base().replace("rates = \"none\"", "rates = \"twap\"");
    let Err(e) = prepare(&bad, None) else { panic!("refused") };
    let e = e.to_string();
    assert!(
        e.contains("pools[0].rates") && e.contains("unknown rates `twap` (oracle or none)"),
        "{e}"
    );
    // Lido's stETH is always counted through its shares: a plain pool of it is refused.
    let depeg =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/steth-depeg.toml")).unwrap();
    let plain = depeg.replacen(
        "coins     = [\"ETH\", \"stETH\"]",
        "coins     = [\"ETH\", \"stETH\"]\nrates = \"none\"",
        1,
    );
    assert_ne!(plain, depeg);
    let Err(e) = prepare(&plain, None) else {
        panic!("refused")
    };
    let e = e.to_string();
    assert!(
        e.contains("pools[0].rates") && e.contains("a rebasing coin is always counted by its issuer's shares"),
        "{e}"
    );
    let text = format!("{}\n[[agents]]\nkind = \"liquidator\"\nmint = true\n", base());
    let Err(e) = prepare(&text, None) else {
        panic!("refused")
    };
    let e = e.to_string();
    assert!(e.contains("agents[0].mint") && e.contains("does not apply"), "{e}");
}
