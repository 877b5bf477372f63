//! Arbitrary transaction sequences on small built worlds (the shipped scenarios' worlds, their
//! scheduled actions as templates with other senders and amounts, and time advancing in between).
//! Asserts: no panic; a rejected transaction leaves the state hash unchanged; after every applied
//! transaction the per-transaction check and the full invariant check both hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stake_engine::action::{Action, Outcome, Tx, SYSTEM};
use stake_engine::setup::Built;
use stake_math::U256;
use std::sync::OnceLock;

const SCENARIOS: [&str; 4] = [
    include_str!("../../scenarios/eth-staking-basics.toml"),
    include_str!("../../scenarios/lst-markets.toml"),
    include_str!("../../scenarios/avs-slashing.toml"),
    include_str!("../../scenarios/restaking-markets-of-security.toml"),
];

fn worlds() -> &'static Vec<(Built, Vec<String>)> {
    static W: OnceLock<Vec<(Built, Vec<String>)>> = OnceLock::new();
    W.get_or_init(|| {
        SCENARIOS
            .iter()
            .filter_map(|text| {
                let scn = stake_engine::scenario::Scenario::parse(text).ok()?;
                let built = Built::from_scenario(&scn).ok()?;
                let mut senders: Vec<String> = scn.accounts.iter().map(|a| a.name.clone()).collect();
                senders.push(SYSTEM.to_string());
                Some((built, senders))
            })
            .collect()
    })
}

/// Scales the amount of the plain user actions: ×k/16, a raw k wei, or the largest value.
fn scale(action: &mut Action, how: u8, k: u8) {
    let amount = match action {
        Action::Stake { amount, .. }
        | Action::Wrap { amount, .. }
        | Action::Unwrap { amount, .. }
        | Action::RequestWithdrawal { amount, .. }
        | Action::Burn { amount, .. }
        | Action::Transfer { amount, .. } => amount,
        _ => return,
    };
    *amount = match how % 4 {
        0 => *amount,
        1 => *amount / 16 * U256::from(k),
        2 => U256::from(k),
        _ => U256::MAX - U256::from(k),
    };
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let all = worlds();
    let Some((built, senders)) = all.get(usize::from(pick) % all.len().max(1)) else {
        return;
    };
    let mut world = built.world.clone();
    world.ledger.set_auditing(true);
    let mut advances = 0;
    for op in rest.chunks_exact(4).take(32) {
        let tx = if op[0] % 8 == 0 {
            // Advance time by up to 18 h (at most 3 times: a day runs 225 epochs and the frame
            // hooks, which is what a time step costs).
            advances += 1;
            if advances > 3 {
                continue;
            }
            let secs = u64::from(u16::from_le_bytes([op[1], op[2]]));
            Tx {
                sender: SYSTEM.into(),
                action: Action::AdvanceTime {
                    to: world.now.saturating_add(secs),
                },
            }
        } else {
            let Some(s) = built.schedule.get(usize::from(op[1]) % built.schedule.len().max(1)) else {
                continue;
            };
            let mut action = s.action.clone();
            scale(&mut action, op[2], op[3]);
            let sender = match op[0] % 4 {
                0 | 1 => s.sender.clone(),
                _ => senders[usize::from(op[3]) % senders.len()].clone(),
            };
            Tx { sender, action }
        };
        let before = world.state_hash();
        match world.apply(&tx) {
            Outcome::Rejected(r) => {
                assert_eq!(
                    world.state_hash(),
                    before,
                    "rejected {tx:?} ({}) changed the state",
                    r.message
                );
            }
            Outcome::Applied { .. } => {
                if let Err(e) = world.check_touched(tx.action.is_system()) {
                    panic!("after {tx:?}: {e}");
                }
                if let Err(e) = world.check_invariants() {
                    panic!("full check after {tx:?}: {e}");
                }
            }
        }
    }
});
