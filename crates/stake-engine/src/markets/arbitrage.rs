//! The arbitrageur agent (`[[agents]] kind = "arbitrageur"`): keeps an LST's pool price near its
//! redemption value, limited by its capital and by the protocol's withdrawal queue.
//!
//! Whenever prices can have moved — every frame, and right after a `sell_off`, `price_shock` or
//! oracle event — each arbitrageur, in the order of the scenario:
//!
//! 1. claims each of its withdrawal requests that is finalised, by id (ETH back into its capital);
//! 2. reads the queue time `T` a new request of the LST would wait now
//!    ([`LstModel::queue_seconds`]: the buffer, the unfinalised
//!    demand — its own earlier requests included — the exit requests per frame, the L0 exit queue
//!    and the withdrawability delay) and sets its hurdle `h = r·T/1 y` with `r` its annual cost of
//!    capital;
//! 3. buys the token with ETH in the pool up to the point where one more probe of ETH
//!    ([`PROBE`], 0.001 ETH) would buy less than `(1 + h)` of its value: the largest `x ≤` its ETH
//!    with `quote(x + PROBE) − quote(x) ≥ PROBE·(1 + h)` (quotes in the pool's fair-value units,
//!    where a token redeems for 1: stETH 1 ETH, rETH/cbETH its protocol rate), found by bisection
//!    on the pool's exact `get_dy`, which is monotone;
//! 4. redeems everything it holds of the token: a withdrawal request (Lido, split at 1,000 stETH as
//!    Lido does; exchange-rate tokens) or Rocket Pool's instant `burn` against the deposit pool.
//!
//! So the discount it leaves in the pool is what its cost of capital charges for the queue: a
//! longer queue (a mass exit, its own requests piling up) or a smaller wallet leaves a deeper
//! depeg, and a sell-off larger than its capital is only partly absorbed. Every operation goes
//! through [`World::apply`] like a user's, so a rejection changes nothing; a rejection other than
//! "nothing to claim" is recorded as a hook rejection (`arbitrageur <name> <operation>`) and counted.

use super::morpho::AgentCfg;
use super::report::f18;
use super::MarketAction;
use super::{coins_of, MarketWorld};
use crate::action::Action;
use crate::event::Event;
use crate::lst::LstModel;
use crate::scenario::ScenarioError;
use crate::world::World;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stake_ledger::{AccountId, AssetId};
use stake_markets::oracle::ONE_YEAR;
use stake_markets::stableswap::calc::PROBE;
use stake_math::{mul_div_down, Checked, U256, WAD};

/// Counters of one arbitrageur (ETH amounts in wei; tokens in the token's base units).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArbitrageStats {
    /// Purchases in the pool.
    pub trades: u64,
    /// ETH paid into the pool.
    pub eth_spent: U256,
    /// Tokens received.
    pub tokens_bought: U256,
    /// Redemption value of what it sent to the protocol (requests and burns), ETH at the rate of
    /// the moment.
    pub redeemed_value: U256,
    /// ETH received back (claims and burns).
    pub eth_received: U256,
    /// Times a discount was there but did not beat the hurdle.
    pub below_hurdle: u64,
    /// Operations the protocol rejected (recorded as hook rejections).
    pub failed: u64,
    /// The latest hurdle `r·T` (wad) and queue time (seconds) it priced.
    pub last_hurdle: U256,
    /// The latest queue time it priced, seconds.
    pub last_queue_seconds: u64,
}

/// One arbitrageur.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arbitrageur {
    /// Its account name (it acts as a user).
    pub name: String,
    /// Its account.
    pub account: AccountId,
    /// Whether it acts.
    pub enabled: bool,
    /// The pool it trades (index into `pools`).
    pub pool: usize,
    /// The LST it redeems (index into the world's LSTs).
    pub lst: usize,
    /// Annual cost of capital, wad.
    pub cost_of_capital: U256,
    /// Its withdrawal requests not yet claimed (ids, oldest first): it claims these by id, so a
    /// frame costs what it holds, not the length of the protocol's queue.
    #[serde(default)]
    pub pending: Vec<u64>,
    /// Counters.
    pub stats: ArbitrageStats,
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

/// Builds `[[agents]] kind = "arbitrageur"`.
///
/// Specification: fails with the key's path on an unknown pool, a pool without ETH, a pool whose
/// other coin is not an LST's own token (a wrapper such as wstETH), an LST that cannot redeem
/// (no withdrawal queue and no burn), a cost of capital that is not a fraction, or a bad name.
pub(crate) fn build(world: &mut World, a: &AgentCfg, path: &str) -> Result<(), ScenarioError> {
    let name = a.account.clone().unwrap_or_else(|| "arbitrageur".into());
    if name.is_empty() || name.contains(':') {
        return Err(err(format!("{path}.account"), "not a valid account name"));
    }
    if world.markets.arbitrageurs.iter().any(|x| x.name == name) {
        return Err(err(format!("{path}.account"), format!("a second arbitrageur `{name}`")));
    }
    let pool_name = a
        .pool
        .as_deref()
        .ok_or_else(|| err(format!("{path}.pool"), "missing `pool` (the pool it trades)"))?;
    let pool = world.markets.pool_index(pool_name).map_err(|e| {
        let names: Vec<&str> = world.markets.pools.iter().map(|p| p.pool.name.as_str()).collect();
        err(format!("{path}.pool"), format!("{e} (pools: {})", names.join(", ")))
    })?;
    let entry = &world.markets.pools[pool];
    let eth = world.eth_asset;
    if !entry.pool.coins.contains(&eth) {
        return Err(err(format!("{path}.pool"), format!("{pool_name} has no ETH side")));
    }
    let token = entry.pool.coins[entry.sold_coin(eth)];
    let sym = world
        .ledger
        .asset_info(token)
        .map(|i| i.symbol.clone())
        .unwrap_or_default();
    let lst = world.lsts.iter().position(|l| l.symbol == sym).ok_or_else(|| {
        err(
            format!("{path}.pool"),
            format!("{pool_name} trades {sym}, which is not an LST's own token (the arbitrageur redeems what it buys)"),
        )
    })?;
    let cost_of_capital = match &a.cost_of_capital {
        None => U256::ZERO,
        Some(s) => {
            let v = crate::amount::parse_wad_fraction(s).map_err(|e| err(format!("{path}.cost_of_capital"), e))?;
            if v > WAD {
                return Err(err(format!("{path}.cost_of_capital"), "at most 100% a year"));
            }
            v
        }
    };
    let account = world.ledger.account(&name);
    super::morpho::fund_agent(world, account, &a.balances, path)?;
    world.markets.arbitrageurs.push(Arbitrageur {
        name,
        account,
        enabled: a.enabled.unwrap_or(true),
        pool,
        lst,
        cost_of_capital,
        pending: Vec::new(),
        stats: ArbitrageStats::default(),
    });
    Ok(())
}

/// Runs every arbitrageur once (see the module documentation).
pub(crate) fn run(world: &mut World) -> Vec<Event> {
    let mut events = Vec::new();
    for k in 0..world.markets.arbitrageurs.len() {
        if world.markets.arbitrageurs[k].enabled {
            events.extend(run_one(world, k));
        }
    }
    events
}

/// Sends `action` as arbitrageur `k`; a recorded rejection counts as failed.
fn apply(world: &mut World, k: usize, what: &str, action: Action, quiet: Option<u32>) -> Option<Vec<Event>> {
    let name = world.markets.arbitrageurs[k].name.clone();
    match world.apply_in_hook(&name, action, || format!("arbitrageur {name} {what}"), quiet) {
        Ok(events) => Some(events),
        Err(recorded) => {
            if recorded {
                world.markets.arbitrageurs[k].stats.failed += 1;
            }
            None
        }
    }
}

fn eth_balance(world: &World, acct: AccountId) -> U256 {
    world.ledger.balance(acct, world.eth_asset)
}

fn run_one(world: &mut World, k: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let a = world.markets.arbitrageurs[k].clone();
    let sym = world.lsts[a.lst].symbol.clone();
    // 1. Claims of its finalised requests, by id.
    let ready: Vec<u64> = a
        .pending
        .iter()
        .copied()
        .filter(|id| world.lsts[a.lst].model.is_finalized(*id))
        .collect();
    for id in ready {
        let before = eth_balance(world, a.account);
        let claim = Action::Claim {
            lst: sym.clone(),
            request_id: Some(id),
        };
        if let Some(ev) = apply(world, k, "claim", claim, None) {
            let got = eth_balance(world, a.account).saturating_sub(before);
            let arb = &mut world.markets.arbitrageurs[k];
            arb.pending.retain(|p| *p != id);
            arb.stats.eth_received = arb.stats.eth_received.saturating_add(got);
            events.extend(ev);
        }
    }
    // 2. The hurdle.
    let queue = world.lsts[a.lst].model.queue_seconds(&world.ledger, &world.eth);
    let hurdle = mul_div_down(a.cost_of_capital, U256::from(queue), U256::from(ONE_YEAR)).unwrap_or(U256::MAX);
    {
        let s = &mut world.markets.arbitrageurs[k].stats;
        s.last_hurdle = hurdle;
        s.last_queue_seconds = queue;
    }
    // 3. The purchase.
    let cash = eth_balance(world, a.account);
    match best_purchase(world, a.pool, cash, hurdle) {
        Some(x) if x > U256::ZERO => {
            let token = token_of(world, a.pool);
            let before = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
            let swap = Action::Market(MarketAction::Swap {
                pool: world.markets.pools[a.pool].pool.name.clone(),
                token_in: "ETH".into(),
                amount: x,
                min_out: U256::ZERO,
            });
            if let Some(ev) = apply(world, k, "swap", swap, None) {
                let after = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
                let s = &mut world.markets.arbitrageurs[k].stats;
                s.trades += 1;
                s.eth_spent = s.eth_spent.saturating_add(x);
                s.tokens_bought = s.tokens_bought.saturating_add(after.saturating_sub(before));
                events.extend(ev);
            }
        }
        Some(_) => {}
        None => world.markets.arbitrageurs[k].stats.below_hurdle += 1,
    }
    // 4. Redemption of everything held.
    let token = token_of(world, a.pool);
    let held = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
    // Lido's queue refuses requests under 100 wei (`MIN_STETH_WITHDRAWAL_AMOUNT`): share rounding
    // dust stays in the wallet until it adds up.
    let least = match world.lsts[a.lst].model {
        LstModel::Lido(_) => stake_lst::lido::queue::MIN_STETH_WITHDRAWAL_AMOUNT,
        _ => U256::ONE,
    };
    if held >= least {
        let value = coins_of(world, &world.markets.pools[a.pool])
            .ok()
            .and_then(|c| c.to_pool(token, held).ok())
            .unwrap_or(U256::ZERO);
        let before = eth_balance(world, a.account);
        let (what, action) = match world.lsts[a.lst].model {
            LstModel::RocketPool(_) => (
                "burn",
                Action::Burn {
                    lst: sym.clone(),
                    amount: held,
                },
            ),
            _ => (
                "request_withdrawal",
                Action::RequestWithdrawal {
                    lst: sym.clone(),
                    amount: held,
                },
            ),
        };
        if let Some(ev) = apply(world, k, what, action, None) {
            let got = eth_balance(world, a.account).saturating_sub(before);
            let ids = ev.iter().filter_map(|e| match e {
                Event::Lido {
                    event: stake_lst::lido::LidoEvent::WithdrawalRequested { request_id, .. },
                    ..
                } => Some(*request_id),
                Event::ExchangeRate {
                    event: stake_lst::exchange_rate::ExchangeRateEvent::WithdrawalRequested { id, .. },
                    ..
                } => Some(*id),
                _ => None,
            });
            world.markets.arbitrageurs[k].pending.extend(ids);
            let s = &mut world.markets.arbitrageurs[k].stats;
            s.redeemed_value = s.redeemed_value.saturating_add(value);
            s.eth_received = s.eth_received.saturating_add(got);
            events.extend(ev);
        }
    }
    events
}

fn token_of(world: &World, pool: usize) -> AssetId {
    world.markets.pools[pool].sold_asset(world.eth_asset)
}

/// The ETH to put into the pool: `None` when not even the first probe beats the hurdle; else the
/// largest `x ≤ cash` (to the wei of a 0.001-ETH grid's bisection) at which one more probe still
/// buys at least `PROBE·(1 + hurdle)` of value. `Some(0)` when it has no ETH.
fn best_purchase(world: &World, pool: usize, cash: U256, hurdle: U256) -> Option<U256> {
    let e = &world.markets.pools[pool];
    let coins = coins_of(world, e).ok()?;
    let i = 1 - e.sold_coin(world.eth_asset);
    let j = 1 - i;
    let now = world.now;
    let quote = |x: U256| -> Option<U256> {
        if x == U256::ZERO {
            return Some(U256::ZERO);
        }
        e.pool.get_dy(&world.ledger, &coins, i, j, x, now).ok()
    };
    let need = mul_div_down(PROBE, WAD.checked_add(hurdle)?, WAD).ok()?;
    let worth = |x: U256| -> bool {
        let (Some(a), Some(b)) = (quote(x), x.add_c(PROBE).ok().and_then(quote)) else {
            return false;
        };
        b.saturating_sub(a) >= need
    };
    if !worth(U256::ZERO) {
        return None;
    }
    if cash < PROBE {
        return Some(U256::ZERO);
    }
    if worth(cash - PROBE) {
        return Some(cash);
    }
    // worth(lo) holds, worth(hi) does not.
    let (mut lo, mut hi) = (U256::ZERO, cash - PROBE);
    while hi - lo > U256::ONE {
        let mid = lo + (hi - lo) / U256::from(2u8);
        if worth(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo.saturating_add(PROBE).min(cash))
}

/// Metric columns: per arbitrageur its ETH spent and its latest hurdle.
pub(crate) fn columns(m: &MarketWorld) -> Vec<String> {
    m.arbitrageurs
        .iter()
        .flat_map(|a| [format!("{}.eth_spent", a.name), format!("{}.hurdle_bps", a.name)])
        .collect()
}

/// One row of [`columns`].
pub(crate) fn sample(world: &World) -> Vec<f64> {
    world
        .markets
        .arbitrageurs
        .iter()
        .flat_map(|a| [f18(a.stats.eth_spent), a.stats.last_hurdle.as_f64() / 1e14])
        .collect()
}

/// `summary.json` entries (`markets.arbitrageurs`) and console lines.
pub(crate) fn summary(world: &World, j: &mut serde_json::Map<String, Value>, text: &mut String) {
    let m = &world.markets;
    if m.arbitrageurs.is_empty() {
        return;
    }
    let mut list = Vec::new();
    for a in &m.arbitrageurs {
        let s = &a.stats;
        let pool = &m.pools[a.pool].pool.name;
        // What it locked in: the redemption value of what it bought, less the ETH it paid.
        let spread = f18(s.redeemed_value) - f18(s.eth_spent);
        text.push_str(&format!(
            "  arbitrageur {}: {} purchases on {pool}, paid {:.4} ETH for {:.4} ETH of redemption value (spread {:.4} ETH), received {:.4} ETH back, hurdle {:.2} bps over a {:.1}-day queue, below hurdle {}, failed {}\n",
            a.name,
            s.trades,
            f18(s.eth_spent),
            f18(s.redeemed_value),
            spread,
            f18(s.eth_received),
            s.last_hurdle.as_f64() / 1e14,
            s.last_queue_seconds as f64 / 86_400.0,
            s.below_hurdle,
            s.failed,
        ));
        list.push(json!({
            "name": a.name,
            "pool": pool,
            "trades": s.trades,
            "eth_spent": f18(s.eth_spent),
            "tokens_bought": f18(s.tokens_bought),
            "redeemed_value_eth": f18(s.redeemed_value),
            "eth_received": f18(s.eth_received),
            "spread_eth": spread,
            "hurdle_bps": s.last_hurdle.as_f64() / 1e14,
            "queue_days": s.last_queue_seconds as f64 / 86_400.0,
            "below_hurdle": s.below_hurdle,
            "failed": s.failed,
        }));
    }
    j.insert("arbitrageurs".into(), Value::Array(list));
}
