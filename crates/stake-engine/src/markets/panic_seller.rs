//! The panic seller agent (`[[agents]] kind = "panic_seller"`): a holder that dumps an LST into a
//! pool once its discount passes a threshold, or from a given time, in tranches.
//!
//! Trigger: the first agent hook (every frame, and right after a `sell_off`, `price_shock` or
//! oracle event) at which the pool's probe price of selling the token is at most `1 − discount`
//! (in the pool's fair-value units: par is 1), or the time is at least `after` — whichever the
//! scenario gives; with both, the first that happens. At the trigger it records what it holds;
//! tranche `k` (0-based) is due at `trigger + delay + k·every` and sells `tranche` of that holding
//! (default `1/tranches`), scaled by a seeded `U[1 − jitter, 1 + jitter]` factor drawn per path,
//! tranche and agent, capped by what it still holds (the last tranche sells the rest). A tranche
//! due between two hooks is sold at the next one. Sales are plain swaps through [`World::apply`]
//! with no minimum output: the price it gets is whatever the pool's depth gives, so several
//! sellers and a thin pool deepen each other's losses, and an arbitrageur (run after the sellers in
//! the same hook) buys what they leave.

use super::morpho::AgentCfg;
use super::report::f18;
use super::MarketAction;
use crate::action::Action;
use crate::amount::parse_wad_fraction;
use crate::event::Event;
use crate::scenario::ScenarioError;
use crate::time::{parse_at, parse_duration};
use crate::world::World;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stake_ledger::{AccountId, AssetId};
use stake_math::{mul_div_down, U256, WAD};

/// Counters of one panic seller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanicStats {
    /// When it was triggered (Unix seconds).
    pub triggered_at: Option<u64>,
    /// Its holding of the token at the trigger (base units).
    pub holding: U256,
    /// Tranches sold.
    pub tranches_sold: u32,
    /// Tokens sold.
    pub tokens_sold: U256,
    /// ETH received.
    pub eth_received: U256,
    /// Redemption value of what it sold (ETH at the protocol rate of the moment).
    pub value_sold: U256,
    /// Sales the pool rejected (recorded as hook rejections).
    pub failed: u64,
}

/// One panic seller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanicSeller {
    /// Its account name.
    pub name: String,
    /// Its account.
    pub account: AccountId,
    /// Whether it acts.
    pub enabled: bool,
    /// The pool it sells into.
    pub pool: usize,
    /// Discount that triggers it (wad), if any.
    pub discount: Option<U256>,
    /// Time from which it sells, if any.
    pub after: Option<u64>,
    /// Reaction delay, seconds.
    pub delay: u64,
    /// Number of tranches.
    pub tranches: u32,
    /// Seconds between tranches.
    pub every: u64,
    /// Share of the holding per tranche (wad).
    pub tranche: U256,
    /// Size jitter (wad, ≤ 1).
    pub jitter: U256,
    /// Counters.
    pub stats: PanicStats,
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

fn fraction(v: &Option<String>, path: &str, key: &str, max: U256) -> Result<Option<U256>, ScenarioError> {
    let Some(s) = v else { return Ok(None) };
    let x = parse_wad_fraction(s).map_err(|e| err(format!("{path}.{key}"), e))?;
    if x > max {
        return Err(err(format!("{path}.{key}"), "at most 100%"));
    }
    Ok(Some(x))
}

fn duration(v: &Option<String>, path: &str, key: &str, default: u64) -> Result<u64, ScenarioError> {
    match v {
        None => Ok(default),
        Some(s) => parse_duration(s).map_err(|e| err(format!("{path}.{key}"), format!("`{s}`: {e}"))),
    }
}

/// Builds `[[agents]] kind = "panic_seller"`.
///
/// Specification: fails with the key's path on an unknown pool or one without ETH, neither
/// `discount` nor `after`, a fraction outside `(0, 100 %]` (`discount`, `tranche`; `jitter` may be
/// 0), `tranches` of 0 or above 1,000, a bad time or duration, or a key of another agent.
pub(crate) fn build(world: &mut World, a: &AgentCfg, path: &str) -> Result<(), ScenarioError> {
    let name = a.account.clone().unwrap_or_else(|| "panic_seller".into());
    if name.is_empty() || name.contains(':') {
        return Err(err(format!("{path}.account"), "not a valid account name"));
    }
    let pool_name = a
        .pool
        .as_deref()
        .ok_or_else(|| err(format!("{path}.pool"), "missing `pool` (the pool it sells into)"))?;
    let pool = world.markets.pool_index(pool_name).map_err(|e| {
        let names: Vec<&str> = world.markets.pools.iter().map(|p| p.pool.name.as_str()).collect();
        err(format!("{path}.pool"), format!("{e} (pools: {})", names.join(", ")))
    })?;
    if !world.markets.pools[pool].pool.coins.contains(&world.eth_asset) {
        return Err(err(format!("{path}.pool"), format!("{pool_name} has no ETH side")));
    }
    let discount = fraction(&a.discount, path, "discount", WAD)?;
    if discount == Some(U256::ZERO) {
        return Err(err(format!("{path}.discount"), "must be above 0"));
    }
    let after = match &a.after {
        None => None,
        Some(s) => Some(parse_at(s, world.now).map_err(|e| err(format!("{path}.after"), format!("`{s}`: {e}")))?),
    };
    if discount.is_none() && after.is_none() {
        return Err(err(
            path,
            "a panic seller needs `discount` (a trigger price) or `after` (a time), or both",
        ));
    }
    let tranches = a.tranches.unwrap_or(1);
    if tranches == 0 || tranches > 1_000 {
        return Err(err(format!("{path}.tranches"), "between 1 and 1,000"));
    }
    let tranche = match fraction(&a.tranche, path, "tranche", WAD)? {
        Some(x) if x == U256::ZERO => return Err(err(format!("{path}.tranche"), "must be above 0")),
        Some(x) => x,
        None => WAD / U256::from(tranches),
    };
    let jitter = fraction(&a.jitter, path, "jitter", WAD)?.unwrap_or(U256::ZERO);
    let delay = duration(&a.delay, path, "delay", 0)?;
    let every = duration(&a.every, path, "every", crate::time::DAY)?;
    let account = world.ledger.account(&name);
    super::morpho::fund_agent(world, account, &a.balances, path)?;
    world.markets.panic_sellers.push(PanicSeller {
        name,
        account,
        enabled: a.enabled.unwrap_or(true),
        pool,
        discount,
        after,
        delay,
        tranches,
        every,
        tranche,
        jitter,
        stats: PanicStats::default(),
    });
    Ok(())
}

/// A uniform draw in `[0, 1e18)` from the world seed, the agent and the tranche.
fn draw_wad(seed: u64, name: &str, tranche: u32) -> U256 {
    crate::draw::uniform_wad(&[
        b"panic_seller",
        &seed.to_le_bytes(),
        name.as_bytes(),
        &[0],
        &tranche.to_le_bytes(),
    ])
}

fn token_of(world: &World, pool: usize) -> AssetId {
    world.markets.pools[pool].sold_asset(world.eth_asset)
}

/// The pool's probe price of selling the token for ETH, wad (par 1).
fn price(world: &World, pool: usize) -> Option<U256> {
    let e = &world.markets.pools[pool];
    let coins = super::coins_of(world, e).ok()?;
    let i = e.sold_coin(world.eth_asset);
    e.pool.probe_price(&world.ledger, &coins, i, 1 - i, world.now).ok()
}

/// Runs every panic seller once (see the module documentation).
pub(crate) fn run(world: &mut World) -> Vec<Event> {
    let mut events = Vec::new();
    for k in 0..world.markets.panic_sellers.len() {
        if world.markets.panic_sellers[k].enabled {
            events.extend(run_one(world, k));
        }
    }
    events
}

fn run_one(world: &mut World, k: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let now = world.now;
    let a = world.markets.panic_sellers[k].clone();
    let token = token_of(world, a.pool);
    let trigger = match a.stats.triggered_at {
        Some(t) => t,
        None => {
            let by_time = a.after.is_some_and(|t| now >= t);
            let by_price = a
                .discount
                .is_some_and(|d| price(world, a.pool).is_some_and(|p| p.saturating_add(d) <= WAD));
            if !(by_time || by_price) {
                return events;
            }
            let holding = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
            let s = &mut world.markets.panic_sellers[k].stats;
            s.triggered_at = Some(now);
            s.holding = holding;
            now
        }
    };
    let seed = world.restaking.seed;
    loop {
        let s = world.markets.panic_sellers[k].stats.clone();
        if s.tranches_sold >= a.tranches {
            break;
        }
        let due = trigger
            .saturating_add(a.delay)
            .saturating_add(a.every.saturating_mul(u64::from(s.tranches_sold)));
        if due > now {
            break;
        }
        let held = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
        let last = s.tranches_sold + 1 == a.tranches;
        let base = mul_div_down(s.holding, a.tranche, WAD).unwrap_or(U256::ZERO);
        // × (1 − j + 2j·u), u uniform in [0, 1).
        let u = draw_wad(seed, &a.name, s.tranches_sold);
        let factor = crate::draw::jitter_factor(a.jitter, u);
        let size = mul_div_down(base, factor, WAD).unwrap_or(U256::ZERO);
        let amount = if last { held } else { size.min(held) };
        world.markets.panic_sellers[k].stats.tranches_sold += 1;
        if amount == U256::ZERO {
            continue;
        }
        let value = super::coins_of(world, &world.markets.pools[a.pool])
            .ok()
            .and_then(|c| c.to_pool(token, amount).ok())
            .unwrap_or(U256::ZERO);
        let sym = world
            .ledger
            .asset_info(token)
            .map(|i| i.symbol.clone())
            .unwrap_or_default();
        let before = world.ledger.balance(a.account, world.eth_asset);
        let swap = Action::Market(MarketAction::Swap {
            pool: world.markets.pools[a.pool].pool.name.clone(),
            token_in: sym,
            amount,
            min_out: U256::ZERO,
        });
        let hook = || format!("panic seller {} sale", a.name);
        match world.apply_in_hook(&a.name, swap, hook, None) {
            Ok(ev) => {
                let got = world.ledger.balance(a.account, world.eth_asset).saturating_sub(before);
                let s = &mut world.markets.panic_sellers[k].stats;
                s.tokens_sold = s.tokens_sold.saturating_add(amount);
                s.eth_received = s.eth_received.saturating_add(got);
                s.value_sold = s.value_sold.saturating_add(value);
                events.extend(ev);
            }
            Err(_) => world.markets.panic_sellers[k].stats.failed += 1,
        }
    }
    events
}

/// Metric columns: per seller the tokens sold so far.
pub(crate) fn columns(m: &super::MarketWorld) -> Vec<String> {
    m.panic_sellers
        .iter()
        .map(|a| format!("{}.tokens_sold", a.name))
        .collect()
}

/// One row of [`columns`].
pub(crate) fn sample(world: &World) -> Vec<f64> {
    world
        .markets
        .panic_sellers
        .iter()
        .map(|a| f18(a.stats.tokens_sold))
        .collect()
}

/// `summary.json` entries (`markets.panic_sellers`) and console lines.
pub(crate) fn summary(world: &World, j: &mut serde_json::Map<String, Value>, text: &mut String) {
    let m = &world.markets;
    if m.panic_sellers.is_empty() {
        return;
    }
    let mut list = Vec::new();
    for a in &m.panic_sellers {
        let s = &a.stats;
        let pool = &m.pools[a.pool].pool.name;
        let loss = f18(s.value_sold) - f18(s.eth_received);
        let when = s.triggered_at.map(crate::time::format_date);
        text.push_str(&format!(
            "  panic seller {}: {} on {pool}, {}/{} tranches, sold {:.4} tokens worth {:.4} ETH for {:.4} ETH (loss {:.4} ETH), failed {}\n",
            a.name,
            when.as_deref().map_or("not triggered".to_string(), |d| format!("triggered {d}")),
            s.tranches_sold,
            a.tranches,
            f18(s.tokens_sold),
            f18(s.value_sold),
            f18(s.eth_received),
            loss,
            s.failed,
        ));
        list.push(json!({
            "name": a.name,
            "pool": pool,
            "triggered": when,
            "tranches_sold": s.tranches_sold,
            "tokens_sold": f18(s.tokens_sold),
            "value_sold_eth": f18(s.value_sold),
            "eth_received": f18(s.eth_received),
            "loss_eth": loss,
            "failed": s.failed,
        }));
    }
    j.insert("panic_sellers".into(), Value::Array(list));
}
