//! Random event processes drawn per path: random sell-offs (`[[events]] kind = "random_sell_offs"`).
//!
//! From the event's time until `duration` has passed (for ever without one), each frame draws
//! the number of sell-offs `N ~ Poisson(per_year · dt / 1 y)` and, for each, a size
//! `fraction · U[1 − jitter, 1 + jitter]` of the pool's LST side (capped at 100 %). Each is an
//! ordinary `sell_off` by an outside seller, applied through [`World::apply`] with the agents
//! reacting after it. Every draw is a BLAKE3 hash of the world seed, the process, the frame
//! time and the draw's index, read as `⌊x·1e18/2⁶⁴⌋`, and the Poisson count is inverted in
//! integer math — so the same seed gives the same sell-offs on every machine, and each Monte
//! Carlo path (reseeded) its own.

use super::MarketAction;
use crate::action::{Action, SYSTEM};
use crate::event::Event;
use crate::world::World;
use serde::{Deserialize, Serialize};
use stake_markets::oracle::ONE_YEAR;
use stake_math::signed::to_signed;
use stake_math::{mul_div_down, U256, WAD};

/// A running random sell-off process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellOffProcess {
    /// Pool name.
    pub pool: String,
    /// Expected sell-offs per year, wad.
    pub per_year: U256,
    /// Mean size, bps of the pool's LST side.
    pub fraction_bps: u64,
    /// Size jitter, wad (≤ 1).
    pub jitter: U256,
    /// First frame time it draws at.
    pub from: u64,
    /// Last time it draws at (`u64::MAX`: for ever).
    pub until: u64,
    /// Sell-offs it has made.
    pub fired: u64,
}

/// A uniform draw in `[0, 1e18)` named by the world seed, the process, the frame and the draw.
fn draw(seed: u64, k: usize, t: u64, j: u32) -> U256 {
    crate::draw::uniform_wad(&[
        b"random_sell_offs",
        &seed.to_le_bytes(),
        &(k as u64).to_le_bytes(),
        &t.to_le_bytes(),
        &j.to_le_bytes(),
    ])
}

/// This frame's sell-offs of every process (see the module documentation).
pub(crate) fn on_frame(world: &mut World, t: u64) -> Vec<Event> {
    let mut events = Vec::new();
    let dt = world.frame_seconds;
    let seed = world.restaking.seed;
    for k in 0..world.markets.sell_off_processes.len() {
        let p = world.markets.sell_off_processes[k].clone();
        if t < p.from || t > p.until {
            continue;
        }
        let l_dt = mul_div_down(p.per_year, U256::from(dt), U256::from(ONE_YEAR)).unwrap_or(U256::ZERO);
        let n = match (to_signed(draw(seed, k, t, 0)), to_signed(l_dt)) {
            (Ok(u), Ok(l)) => super::price_paths::poisson(u, l).unwrap_or(0),
            _ => 0,
        };
        for j in 1..=n {
            let u = draw(seed, k, t, j);
            let factor = crate::draw::jitter_factor(p.jitter, u);
            let size = mul_div_down(U256::from(p.fraction_bps), factor, WAD).unwrap_or(U256::ZERO);
            let bps = u64::try_from(size).unwrap_or(10_000).clamp(1, 10_000);
            let action = Action::Market(MarketAction::SellOff {
                pool: p.pool.clone(),
                fraction_bps: bps,
                seller: "panic-seller".into(),
                acquire: true,
            });
            let hook = || format!("random sell-off on {}", p.pool);
            if let Ok(ev) = world.apply_in_hook(SYSTEM, action, hook, None) {
                world.markets.sell_off_processes[k].fired += 1;
                events.extend(ev);
            }
        }
    }
    events
}
