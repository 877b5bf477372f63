//! The arbitrageur agent (`[[agents]] kind = "arbitrageur"`): keeps an LST's or an LRT's pool
//! price near its redemption value, limited by its capital and by the protocol's withdrawal queue.
//!
//! Whenever prices can have moved — every frame, right after a `sell_off`, `price_shock` or
//! oracle event, and in the transaction of a service fault (a slash moves an LRT's rate) — each
//! arbitrageur, in the order of the scenario:
//!
//! 1. claims its withdrawal requests that can be paid (LSTs: each finalised id; LRTs: the
//!    protocol's claim, when one of its requests is payable): ETH back into its capital;
//! 2. reads the queue time `T` a new request would wait now ([`LstModel::queue_seconds`]: the
//!    buffer, the unfinalised demand — its own earlier requests included — the exit requests per
//!    frame, the L0 exit queue and the withdrawability delay; for an LRT
//!    [`crate::lrt::queue_seconds`]: its cool-down, and when the ETH on hand does not cover the
//!    request, the pod exits and EigenLayer's delay) and sets its hurdle `h = r·T/1 y` with `r`
//!    its annual cost of capital;
//! 3. with `mint = true`, when the pool pays more for the token than minting it costs (a plain
//!    pool after a slash still prices the token at its old rate), mints with ETH at the
//!    protocol's rate (Lido's `submit`, an LRT's deposit) and sells what it minted into the pool,
//!    up to the point where one more probe of ETH minted and sold would return less than the
//!    probe; the ETH it gets back less the ETH it minted with is its profit;
//! 4. buys the token with ETH in the pool up to the point where one more probe of ETH
//!    ([`PROBE`], 0.001 ETH) would buy less than `(1 + h)` of its value: the largest `x ≤` its ETH
//!    with `value(x + PROBE) − value(x) ≥ PROBE·(1 + h)` (a token's value is what it redeems for:
//!    stETH 1 ETH, rETH/cbETH/ezETH/rsETH their protocol rate), found by bisection on the pool's
//!    exact `get_dy`, which is monotone;
//! 5. redeems everything it holds of the token: a withdrawal request (Lido, split at 1,000 stETH as
//!    Lido does; exchange-rate tokens; LRTs) or Rocket Pool's instant `burn` against the deposit
//!    pool.
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
use crate::lrt::LrtAction;
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
    /// Mint-and-sell trades (`mint = true`).
    pub mint_sales: u64,
    /// ETH it minted with.
    pub eth_minted: U256,
    /// ETH the pool paid for what it minted.
    pub eth_from_sales: U256,
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
    /// The token it redeems.
    pub token: Issuer,
    /// Annual cost of capital, wad.
    pub cost_of_capital: U256,
    /// Whether it also mints at the protocol's rate and sells into the pool when the pool pays
    /// more than the rate.
    pub mint: bool,
    /// Its withdrawal requests not yet claimed (ids, oldest first): it claims these by id, so a
    /// frame costs what it holds, not the length of the protocol's queue.
    #[serde(default)]
    pub pending: Vec<u64>,
    /// Counters.
    pub stats: ArbitrageStats,
}

/// The protocol behind an arbitrageur's token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Issuer {
    /// An LST (index into the world's LSTs).
    Lst(usize),
    /// An LRT (index into the world's LRTs).
    Lrt(usize),
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

/// Builds `[[agents]] kind = "arbitrageur"`.
///
/// Specification: fails with the key's path on an unknown pool, a pool without ETH, a pool whose
/// other coin is neither an LST's own token (a wrapper such as wstETH) nor an LRT, a cost of
/// capital that is not a fraction, or a bad name.
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
    let issuer = match world.lsts.iter().position(|l| l.symbol == sym) {
        Some(i) => Issuer::Lst(i),
        None => match world.lrt.index(&sym) {
            Ok(i) => Issuer::Lrt(i),
            Err(_) => {
                return Err(err(
                    format!("{path}.pool"),
                    format!("{pool_name} trades {sym}, which is neither an LST's own token nor an LRT (the arbitrageur redeems what it buys)"),
                ))
            }
        },
    };
    let mint = a.mint.unwrap_or(false);
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
        token: issuer,
        cost_of_capital,
        mint,
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

fn symbol_of(world: &World, t: Issuer) -> String {
    match t {
        Issuer::Lst(i) => world.lsts[i].symbol.clone(),
        Issuer::Lrt(i) => world.lrt.lrts[i].symbol.clone(),
    }
}

fn run_one(world: &mut World, k: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let a = world.markets.arbitrageurs[k].clone();
    let sym = symbol_of(world, a.token);
    // 1. Claims of what can be paid.
    events.extend(claim_ready(world, k, &a, &sym));
    // 2. The hurdle.
    let token = token_of(world, a.pool);
    let queue = match a.token {
        Issuer::Lst(i) => world.lsts[i].model.queue_seconds(&world.ledger, &world.eth),
        Issuer::Lrt(i) => {
            let probe = eth_balance(world, a.account).max(PROBE);
            crate::lrt::queue_seconds(world, i, probe)
        }
    };
    let hurdle = mul_div_down(a.cost_of_capital, U256::from(queue), U256::from(ONE_YEAR)).unwrap_or(U256::MAX);
    {
        let s = &mut world.markets.arbitrageurs[k].stats;
        s.last_hurdle = hurdle;
        s.last_queue_seconds = queue;
    }
    // 3. Mint and sell, when the pool pays more than the protocol's rate.
    // The sale pays back at once, so a wallet smaller than the gap recycles it, in at most
    // MINT_ROUNDS rounds.
    let mut minted = false;
    if a.mint {
        for _ in 0..MINT_ROUNDS {
            let cash = eth_balance(world, a.account);
            match best_mint(world, a.pool, token, cash) {
                Some(x) if x > U256::ZERO => {
                    let (ev, sold) = mint_and_sell(world, k, &a, &sym, token, x);
                    events.extend(ev);
                    minted = true;
                    if !sold || x < cash {
                        break;
                    }
                }
                _ => break,
            }
        }
    }
    // 4. The purchase.
    let cash = eth_balance(world, a.account);
    match best_purchase(world, a.pool, token, cash, hurdle) {
        Some(x) if x > U256::ZERO && !minted => {
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
        None if minted => {}
        None => world.markets.arbitrageurs[k].stats.below_hurdle += 1,
    }
    // 5. Redemption of everything held.
    events.extend(redeem_all(world, k, &a, &sym, token));
    events
}

/// Step 1: LSTs claim each finalised id; LRTs send the protocol's claim when one of the
/// arbitrageur's requests is payable now.
fn claim_ready(world: &mut World, k: usize, a: &Arbitrageur, sym: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let claims: Vec<(Option<u64>, Action)> = match a.token {
        Issuer::Lst(i) => a
            .pending
            .iter()
            .copied()
            .filter(|id| world.lsts[i].model.is_finalized(*id))
            .map(|id| {
                (
                    Some(id),
                    Action::Claim {
                        lst: sym.to_string(),
                        request_id: Some(id),
                    },
                )
            })
            .collect(),
        Issuer::Lrt(i) if crate::lrt::can_claim(world, i, &a.name) => {
            vec![(None, Action::Lrt(LrtAction::Claim { lrt: sym.to_string() }))]
        }
        Issuer::Lrt(_) => Vec::new(),
    };
    for (id, claim) in claims {
        let before = eth_balance(world, a.account);
        if let Some(ev) = apply(world, k, "claim", claim, None) {
            let got = eth_balance(world, a.account).saturating_sub(before);
            let arb = &mut world.markets.arbitrageurs[k];
            if let Some(id) = id {
                arb.pending.retain(|p| *p != id);
            }
            arb.stats.eth_received = arb.stats.eth_received.saturating_add(got);
            events.extend(ev);
        }
    }
    events
}

/// Rounds of step 3 in one run: each pays back before the next.
const MINT_ROUNDS: usize = 16;

/// Step 3: mints with `x` ETH and sells everything minted into the pool; whether it sold.
fn mint_and_sell(
    world: &mut World,
    k: usize,
    a: &Arbitrageur,
    sym: &str,
    token: AssetId,
    x: U256,
) -> (Vec<Event>, bool) {
    let mut events = Vec::new();
    let held = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
    let mint = match a.token {
        Issuer::Lst(_) => Action::Stake {
            lst: sym.to_string(),
            amount: x,
        },
        Issuer::Lrt(_) => Action::Lrt(LrtAction::Deposit {
            lrt: sym.to_string(),
            amount: x,
        }),
    };
    let Some(ev) = apply(world, k, "mint", mint, None) else {
        return (events, false);
    };
    events.extend(ev);
    let got = super::ops::balance_of(world, a.account, token)
        .unwrap_or(U256::ZERO)
        .saturating_sub(held);
    if got == U256::ZERO {
        return (events, false);
    }
    let before = eth_balance(world, a.account);
    let swap = Action::Market(MarketAction::Swap {
        pool: world.markets.pools[a.pool].pool.name.clone(),
        token_in: sym.to_string(),
        amount: got,
        min_out: U256::ZERO,
    });
    // A refused sale leaves the minted tokens in the wallet; step 5 redeems them.
    let sold = apply(world, k, "sell", swap, None);
    let back = eth_balance(world, a.account).saturating_sub(before);
    let s = &mut world.markets.arbitrageurs[k].stats;
    s.eth_minted = s.eth_minted.saturating_add(x);
    match sold {
        Some(ev) => {
            s.mint_sales += 1;
            s.eth_from_sales = s.eth_from_sales.saturating_add(back);
            events.extend(ev);
            (events, true)
        }
        None => (events, false),
    }
}

/// Step 5: sends everything held of the token back to its protocol.
fn redeem_all(world: &mut World, k: usize, a: &Arbitrageur, sym: &str, token: AssetId) -> Vec<Event> {
    let mut events = Vec::new();
    let held = super::ops::balance_of(world, a.account, token).unwrap_or(U256::ZERO);
    // Lido's queue refuses requests under 100 wei (`MIN_STETH_WITHDRAWAL_AMOUNT`): share rounding
    // dust stays in the wallet until it adds up.
    let least = match a.token {
        Issuer::Lst(i) if matches!(world.lsts[i].model, LstModel::Lido(_)) => {
            stake_lst::lido::queue::MIN_STETH_WITHDRAWAL_AMOUNT
        }
        _ => U256::ONE,
    };
    if held < least {
        return events;
    }
    let value = value_of(world, a.pool, token, held).unwrap_or(U256::ZERO);
    let before = eth_balance(world, a.account);
    let (what, action) = match a.token {
        Issuer::Lst(i) if matches!(world.lsts[i].model, LstModel::RocketPool(_)) => (
            "burn",
            Action::Burn {
                lst: sym.to_string(),
                amount: held,
            },
        ),
        Issuer::Lst(_) => (
            "request_withdrawal",
            Action::RequestWithdrawal {
                lst: sym.to_string(),
                amount: held,
            },
        ),
        Issuer::Lrt(_) => (
            "request_withdrawal",
            Action::Lrt(LrtAction::RequestWithdrawal {
                lrt: sym.to_string(),
                amount: held,
            }),
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
    events
}

fn token_of(world: &World, pool: usize) -> AssetId {
    world.markets.pools[pool].sold_asset(world.eth_asset)
}

/// What `tokens` of the pool's token redeem for, in ETH: stETH one for one, a rate token at its
/// protocol rate.
fn value_of(world: &World, pool: usize, token: AssetId, tokens: U256) -> Option<U256> {
    let e = &world.markets.pools[pool];
    if e.rebasing_lst.is_some() {
        return Some(tokens);
    }
    let rate = super::ops::rate_of(world, token).ok()?;
    mul_div_down(tokens, rate, WAD).ok()
}

/// The largest `x ≤ cash` (to the wei of a bisection over `[0, cash − PROBE]`) at which one more
/// probe still returns at least `need`: `gain(x + PROBE) − gain(x) ≥ need`, for a monotone
/// `gain`. `None` when not even the first probe does; `Some(0)` when there is less than a probe.
fn best_size(cash: U256, need: U256, gain: impl Fn(U256) -> Option<U256>) -> Option<U256> {
    let worth = |x: U256| -> bool {
        let (Some(a), Some(b)) = (gain(x), x.add_c(PROBE).ok().and_then(&gain)) else {
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

/// The ETH to put into the pool: `None` when not even the first probe beats the hurdle; else the
/// largest `x ≤ cash` at which one more probe still buys at least `PROBE·(1 + hurdle)` of value.
fn best_purchase(world: &World, pool: usize, token: AssetId, cash: U256, hurdle: U256) -> Option<U256> {
    let e = &world.markets.pools[pool];
    let coins = coins_of(world, e).ok()?;
    let i = 1 - e.sold_coin(world.eth_asset);
    let j = 1 - i;
    let now = world.now;
    // Out of the pool come pool units: value already for an oracle-rated coin, tokens in a
    // plain pool.
    let gain = |x: U256| -> Option<U256> {
        if x == U256::ZERO {
            return Some(U256::ZERO);
        }
        let dy = e.pool.get_dy(&world.ledger, &coins, i, j, x, now).ok()?;
        if e.plain {
            value_of(world, pool, token, dy)
        } else {
            Some(dy)
        }
    };
    let need = mul_div_down(PROBE, WAD.checked_add(hurdle)?, WAD).ok()?;
    best_size(cash, need, gain)
}

/// The ETH to mint with and sell: the largest `x ≤ cash` at which one more probe of ETH minted
/// (at the protocol's rate) and sold still returns at least the probe; `None` when the pool does
/// not pay the rate.
fn best_mint(world: &World, pool: usize, token: AssetId, cash: U256) -> Option<U256> {
    let e = &world.markets.pools[pool];
    let coins = coins_of(world, e).ok()?;
    let j = 1 - e.sold_coin(world.eth_asset);
    let i = 1 - j;
    let now = world.now;
    let rate = if e.rebasing_lst.is_some() {
        WAD
    } else {
        super::ops::rate_of(world, token).ok()?
    };
    if rate == U256::ZERO {
        return None;
    }
    // `x` ETH minted is `x·1e18/rate` tokens; into the pool go pool units: tokens in a plain
    // pool, their value for an oracle-rated coin (about `x`).
    let gain = |x: U256| -> Option<U256> {
        if x == U256::ZERO {
            return Some(U256::ZERO);
        }
        let tokens = mul_div_down(x, WAD, rate).ok()?;
        let dx = if e.plain || e.rebasing_lst.is_some() {
            tokens
        } else {
            coins.to_pool(token, tokens).ok()?
        };
        e.pool.get_dy(&world.ledger, &coins, i, j, dx, now).ok()
    };
    best_size(cash, PROBE, gain)
}

/// Metric columns: per arbitrageur its ETH spent and its latest hurdle.
pub(crate) fn columns(m: &MarketWorld) -> Vec<String> {
    m.arbitrageurs
        .iter()
        .flat_map(|a| {
            [
                format!("{}.eth_spent", a.name),
                format!("{}.hurdle_bps", a.name),
                format!("{}.mint_profit_eth", a.name),
            ]
        })
        .collect()
}

/// One row of [`columns`].
pub(crate) fn sample(world: &World) -> Vec<f64> {
    world
        .markets
        .arbitrageurs
        .iter()
        .flat_map(|a| {
            [
                f18(a.stats.eth_spent),
                a.stats.last_hurdle.as_f64() / 1e14,
                f18(a.stats.eth_from_sales) - f18(a.stats.eth_minted),
            ]
        })
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
        if a.mint {
            text.push_str(&format!(
                "    minted with {:.4} ETH and sold into {pool} for {:.4} ETH in {} trades (profit {:.4} ETH)\n",
                f18(s.eth_minted),
                f18(s.eth_from_sales),
                s.mint_sales,
                f18(s.eth_from_sales) - f18(s.eth_minted),
            ));
        }
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
            "mint_sales": s.mint_sales,
            "eth_minted": f18(s.eth_minted),
            "eth_from_sales": f18(s.eth_from_sales),
            "mint_profit_eth": f18(s.eth_from_sales) - f18(s.eth_minted),
        }));
    }
    j.insert("arbitrageurs".into(), Value::Array(list));
}
