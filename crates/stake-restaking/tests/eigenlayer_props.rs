//! Certora-style invariants of the EigenLayer model as proptest properties: random action
//! sequences; after every action the invariants hold, max magnitude / BCSF never rise, the DSF of
//! a live position never falls (beyond the contract's own rounding), and a rejected action
//! changes nothing.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use stake_ledger::{state_hash, AssetKind, Ledger};
use stake_math::{u, U256};
use stake_restaking::eigenlayer::{pod_account_name, EigenLayer, BEACON_STRATEGY};
use std::collections::BTreeMap;

const E18: u128 = 1_000_000_000_000_000_000;
const STAKERS: [&str; 4] = ["s0", "s1", "s2", "s3"];
const OPS: [&str; 2] = ["op0", "op1"];

#[derive(Clone, Debug)]
enum Act {
    Deposit(usize, u64),
    Delegate(usize, usize),
    Undelegate(usize),
    Queue(usize, u8, bool),
    Complete(usize, bool),
    Allocate(usize, u32, bool, u8),
    Slash(usize, u32, u16, bool),
    Advance(u32),
    Verify(usize),
    Checkpoint(usize, u8, u8),
    Deregister(usize, u32),
    Register(usize, u32),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        (0..4usize, 1..1_000u64).prop_map(|(s, a)| Act::Deposit(s, a)),
        (0..4usize, 0..2usize).prop_map(|(s, o)| Act::Delegate(s, o)),
        (0..4usize).prop_map(Act::Undelegate),
        (0..4usize, 1..=100u8, any::<bool>()).prop_map(|(s, p, b)| Act::Queue(s, p, b)),
        (0..8usize, any::<bool>()).prop_map(|(i, t)| Act::Complete(i, t)),
        (0..2usize, 1..=2u32, any::<bool>(), 0..=100u8).prop_map(|(o, s, b, m)| Act::Allocate(o, s, b, m)),
        (0..2usize, 1..=2u32, 1..=10_000u16, any::<bool>()).prop_map(|(o, s, w, b)| Act::Slash(o, s, w, b)),
        (1..60_000u32).prop_map(Act::Advance),
        (0..4usize).prop_map(Act::Verify),
        (0..4usize, 50..=110u8, 0..3u8).prop_map(|(s, p, sw)| Act::Checkpoint(s, p, sw)),
        (0..2usize, 1..=2u32).prop_map(|(o, s)| Act::Deregister(o, s)),
        (0..2usize, 1..=2u32).prop_map(|(o, s)| Act::Register(o, s)),
    ]
}

struct World {
    l: Ledger,
    el: EigenLayer,
    block: u64,
    /// Beacon balance (wei) of each staker's pod validators.
    beacon: BTreeMap<usize, U256>,
    next_validator: u64,
}

fn world() -> World {
    let mut l = Ledger::new();
    let eth = l.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
    let st = l.register_asset("stETH", 18, "lido", AssetKind::Plain).unwrap();
    for n in STAKERS.iter().chain(OPS.iter()) {
        let a = l.account(n);
        l.mint(a, st, u(1_000_000 * E18)).unwrap();
        l.mint(a, eth, u(1_000 * E18)).unwrap();
    }
    let mut el = EigenLayer::with_params("ETH", Default::default());
    el.add_strategy(&l, "stETH", true).unwrap();
    let both = vec![BEACON_STRATEGY.to_string(), "stETH".to_string()];
    el.create_operator_set("avs", 1, &both, "avs", None).unwrap();
    el.create_operator_set("avs", 2, &["stETH".to_string()], "avs", Some("treasury"))
        .unwrap();
    for o in OPS {
        el.register_operator(&l, o, 5, 1).unwrap();
        el.register_for_operator_sets(o, "avs", &[1, 2], 1).unwrap();
    }
    for s in STAKERS {
        el.create_pod(s).unwrap();
    }
    World {
        l,
        el,
        block: 2,
        beacon: BTreeMap::new(),
        next_validator: 0,
    }
}

fn apply(w: &mut World, a: &Act) -> Result<(), String> {
    let b = w.block;
    let r = match a {
        Act::Deposit(s, amt) => {
            w.el.deposit(&mut w.l, STAKERS[*s], "stETH", u(u128::from(*amt) * E18 / 7), b)
                .map(|_| ())
        }
        Act::Delegate(s, o) => w.el.delegate(&w.l, STAKERS[*s], OPS[*o], b).map(|_| ()),
        Act::Undelegate(s) => w.el.undelegate(&w.l, STAKERS[*s], STAKERS[*s], b).map(|_| ()),
        Act::Queue(s, pct, beacon) => {
            let strat = if *beacon { BEACON_STRATEGY } else { "stETH" };
            let held =
                w.el.stakers
                    .get(STAKERS[*s])
                    .and_then(|x| x.positions.get(strat))
                    .map(|p| p.deposit_shares)
                    .unwrap_or(U256::ZERO);
            let amt = held * U256::from(*pct) / U256::from(100u8);
            w.el.queue_withdrawal(&w.l, STAKERS[*s], &[(strat.to_string(), amt)], b)
                .map(|_| ())
        }
        Act::Complete(i, tokens) => {
            let Some((id, wd)) = w.el.withdrawals.iter().nth(*i).map(|(k, v)| (*k, v.clone())) else {
                return Ok(());
            };
            w.el.complete_withdrawal(&mut w.l, &wd.staker, id, *tokens, b)
                .map(|_| ())
        }
        Act::Allocate(o, set, beacon, pct) => {
            let strat = if *beacon { BEACON_STRATEGY } else { "stETH" };
            let mag = (E18 / 100 * u128::from(*pct)) as u64;
            w.el.modify_allocation(OPS[*o], "avs", *set, strat, mag, b).map(|_| ())
        }
        Act::Slash(o, set, bp, beacon) => {
            let wad = u(u128::from(*bp) * E18 / 10_000);
            let strategies: Vec<(String, U256)> = if *beacon && *set == 1 {
                vec![(BEACON_STRATEGY.to_string(), wad), ("stETH".to_string(), wad)]
            } else {
                vec![("stETH".to_string(), wad)]
            };
            w.el.slash_operator(&mut w.l, "avs", OPS[*o], "avs", *set, &strategies, b)
                .map(|_| ())
        }
        Act::Advance(n) => {
            w.block += u64::from(*n);
            Ok(())
        }
        Act::Verify(s) => {
            w.next_validator += 1;
            let r =
                w.el.verify_withdrawal_credentials(&w.l, STAKERS[*s], w.next_validator, 32_000_000_000, b);
            if r.is_ok() {
                *w.beacon.entry(*s).or_default() += u(32 * E18);
            }
            r.map(|_| ())
        }
        Act::Checkpoint(s, pct, sweep) => {
            // L0 moves the beacon balance by pct % and may sweep up to 2 ETH into the pod.
            let cur = w.beacon.get(s).copied().unwrap_or(U256::ZERO);
            let new = cur * U256::from(*pct) / U256::from(100u8);
            let swept = u(u128::from(*sweep) * E18).min(new);
            let eth = w.l.asset("ETH").unwrap();
            let pod = w.l.account(&pod_account_name(STAKERS[*s]));
            let before = (state_hash(&w.l), state_hash(&w.el));
            w.l.mint(pod, eth, swept).unwrap();
            let r = w.el.checkpoint(&w.l, STAKERS[*s], new - swept, b);
            match r {
                Ok(_) => {
                    w.beacon.insert(*s, new - swept);
                    Ok(())
                }
                Err(e) => {
                    w.l.burn(pod, eth, swept).unwrap();
                    let _ = before;
                    Err(e)
                }
            }
        }
        Act::Deregister(o, set) => {
            w.el.deregister_from_operator_sets(OPS[*o], OPS[*o], "avs", &[*set], b)
                .map(|_| ())
        }
        Act::Register(o, set) => w.el.register_for_operator_sets(OPS[*o], "avs", &[*set], b).map(|_| ()),
    };
    r.map_err(|e| e.to_string())
}

type Snapshot = (
    BTreeMap<(String, String), u64>,
    BTreeMap<String, u64>,
    BTreeMap<(String, String), (U256, U256)>,
);

fn snapshot(el: &EigenLayer) -> Snapshot {
    let mut mags = BTreeMap::new();
    for (o, op) in &el.operators {
        for s in ["stETH", BEACON_STRATEGY] {
            let _ = op;
            mags.insert((o.clone(), s.to_string()), el.max_magnitude(o, s));
        }
    }
    let bcsf = el
        .stakers
        .keys()
        .map(|s| (s.clone(), el.beacon_chain_slashing_factor(s)))
        .collect();
    let mut dsf = BTreeMap::new();
    for (n, st) in &el.stakers {
        for (s, p) in &st.positions {
            dsf.insert((n.clone(), s.clone()), (p.deposit_shares, p.dsf));
        }
    }
    (mags, bcsf, dsf)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_action_and_rejections_change_nothing(acts in proptest::collection::vec(act(), 1..40)) {
        let mut w = world();
        for a in &acts {
            let before = (state_hash(&w.l), state_hash(&w.el));
            let snap = snapshot(&w.el);
            match apply(&mut w, a) {
                Ok(()) => {}
                Err(e) => {
                    prop_assert_eq!(before, (state_hash(&w.l), state_hash(&w.el)), "rejected {:?} ({}) changed state", a, e);
                }
            }
            if let Err(e) = w.el.check_invariants(&w.l) {
                prop_assert!(false, "after {:?}: {}", a, e);
            }
            prop_assert!(w.l.check_conservation().is_ok());
            let after = snapshot(&w.el);
            for (k, m) in &after.0 {
                let prev = snap.0.get(k).copied().unwrap_or(1_000_000_000_000_000_000);
                prop_assert!(*m <= prev, "max magnitude {:?} rose {} -> {}", k, prev, m);
            }
            for (k, b) in &after.1 {
                let prev = snap.1.get(k).copied().unwrap_or(1_000_000_000_000_000_000);
                prop_assert!(*b <= prev, "BCSF {} rose {} -> {}", k, prev, b);
            }
            for (k, (s, d)) in &after.2 {
                if let Some((ps, pd)) = snap.2.get(k) {
                    let val = |x: U256| if x == U256::ZERO { u(E18) } else { x };
                    if *ps != U256::ZERO && *s != U256::ZERO {
                        // SlashingLib floors twice in `update`, so the DSF can dip by rounding
                        // (e.g. 1000001000001000001 → 1000001000000999996); never by more.
                        let (d, pd) = (val(*d), val(*pd));
                        prop_assert!(d >= pd || pd - d <= pd / u(1_000_000_000), "DSF {:?} fell {} -> {} after {:?}", k, pd, d, a);
                    }
                }
            }
        }
    }
}
