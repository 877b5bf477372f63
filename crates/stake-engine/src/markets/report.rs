//! Metric columns and the run summary of L4 (floats only here, for reporting).

use super::{coins_of, FeedPrices, MarketWorld};
use crate::world::World;
use serde_json::{json, Value};
use stake_math::U256;

pub(crate) fn f18(v: U256) -> f64 {
    v.as_f64() / 1e18
}

/// Health-factor buckets of the summary.
pub(crate) const HF_BUCKETS: [(&str, f64); 5] = [
    ("<1.0", 1.0),
    ("1.0-1.05", 1.05),
    ("1.05-1.1", 1.1),
    ("1.1-1.5", 1.5),
    (">=1.5", f64::INFINITY),
];

pub(crate) fn columns(m: &MarketWorld) -> Vec<String> {
    let mut c = Vec::new();
    if m.eth_usd.is_some() {
        c.push("eth_usd.price".to_string());
    }
    for p in &m.pools {
        for k in ["price", "discount_5pct", "coin0", "coin1", "virtual_price"] {
            c.push(format!("{}.{k}", p.pool.name));
        }
    }
    if let Some(a) = &m.aave {
        for r in &a.reserves {
            for k in ["utilization_pct", "borrow_apy_pct", "supply_apy_pct"] {
                c.push(format!("aave.{}.{k}", r.symbol));
            }
        }
        c.push("aave.min_hf".into());
        c.push("aave.liquidations".into());
    }
    for e in &m.pendle_markets {
        for k in ["implied_apy_pct", "pt_price", "yt_price", "tvl", "lp_value"] {
            c.push(format!("{}.{k}", e.name));
        }
    }
    c.extend(super::morpho::columns(m));
    c.extend(super::panic_seller::columns(m));
    c.extend(super::arbitrage::columns(m));
    c
}

struct PoolView {
    price: f64,
    d1: f64,
    d5: f64,
    d10: f64,
    balances: [f64; 2],
    virtual_price: f64,
}

fn pool_view(world: &World, k: usize) -> Option<PoolView> {
    let e = &world.markets.pools[k];
    let coins = coins_of(world, e).ok()?;
    let eth = world.eth_asset;
    let b = e.pool.balances(&world.ledger, &coins).ok()?;
    let i = e.sold_coin(eth);
    let depth = e.pool.depth(&world.ledger, &coins, i, 1 - i, world.now).ok();
    let vp = e
        .pool
        .virtual_price(&world.ledger, &coins, world.now)
        .unwrap_or(U256::ZERO);
    // Balances in tokens (the pool measures rated coins in ETH at their rate).
    let tok = |k: usize| coins.to_tokens(e.pool.coins[k], b[k]).unwrap_or(b[k]);
    let b = [tok(0), tok(1)];
    Some(PoolView {
        price: depth.map(|d| f18(d.price)).unwrap_or(0.0),
        d1: depth.map(|d| f18(d.discount_1pct)).unwrap_or(0.0),
        d5: depth.map(|d| f18(d.discount_5pct)).unwrap_or(0.0),
        d10: depth.map(|d| f18(d.discount_10pct)).unwrap_or(0.0),
        balances: [f18(b[0]), f18(b[1])],
        virtual_price: f18(vp),
    })
}

/// Health factors of Aave borrowers. `all`: every borrower (a scan, for the summary); otherwise
/// only the borrowers nearest to liquidation, found through the liquidation index (enough for
/// the per-step minimum, without visiting every user).
fn hfs(world: &World, all: bool) -> Vec<f64> {
    let m = &world.markets;
    let Some(a) = &m.aave else { return Vec::new() };
    let px = FeedPrices {
        oracles: &m.oracles,
        feeds: &m.feeds,
        max_age: None,
    };
    let found = if all {
        a.health_factors(&world.ledger, &px, world.now)
    } else {
        a.nearest_health_factors(&world.ledger, &px, world.now)
    };
    found
        .map(|v| v.into_iter().map(|(_, h)| f18(h)).collect())
        .unwrap_or_default()
}

/// Metric values, in the order of [`MarketWorld::columns`].
pub fn sample(world: &World) -> Vec<f64> {
    let m = &world.markets;
    let mut v = Vec::new();
    if let Some(p) = &m.eth_usd {
        v.push(f18(p.price_wad));
    }
    for k in 0..m.pools.len() {
        match pool_view(world, k) {
            Some(p) => v.extend([p.price, p.d5 * 100.0, p.balances[0], p.balances[1], p.virtual_price]),
            None => v.extend([0.0; 5]),
        }
    }
    if let Some(a) = &m.aave {
        for r in &a.reserves {
            match a.reserve_report(&world.ledger, r.underlying) {
                Ok(rep) => v.extend([
                    rep.utilization_ray.as_f64() / 1e25,
                    rep.borrow_apy * 100.0,
                    rep.supply_apy * 100.0,
                ]),
                Err(_) => v.extend([0.0; 3]),
            }
        }
        let h = hfs(world, false);
        v.push(h.iter().copied().fold(f64::NAN, f64::min));
        v.push(a.stats.liquidations as f64);
    }
    for k in 0..m.pendle_markets.len() {
        match super::pendle_ops::metrics(world, k) {
            Some(x) => v.extend([x.implied_apy_pct, x.pt_price, x.yt_price, x.tvl, x.lp_value]),
            None => v.extend([0.0; 5]),
        }
    }
    v.extend(super::morpho::sample(world));
    v.extend(super::panic_seller::sample(world));
    v.extend(super::arbitrage::sample(world));
    v
}

/// Summary: a JSON value for `summary.json` and console text (empty when unused).
pub fn summary(world: &World) -> (Value, String) {
    let m = &world.markets;
    if m.is_empty() {
        return (Value::Null, String::new());
    }
    let mut text = String::from("Markets\n");
    let mut j = serde_json::Map::new();
    if let Some(p) = &m.eth_usd {
        text.push_str(&format!("  ETH/USD {:>12.2}\n", f18(p.price_wad)));
        j.insert("eth_usd".into(), json!(f18(p.price_wad)));
    }
    if !m.pools.is_empty() {
        text.push_str(&format!(
            "  {:<16} {:>14} {:>14} {:>9} {:>9} {:>8} {:>8} {:>8}\n",
            "pool", "coin0", "coin1", "price", "min", "disc1%", "disc5%", "disc10%"
        ));
        let mut pools = Vec::new();
        for (k, e) in m.pools.iter().enumerate() {
            let Some(p) = pool_view(world, k) else { continue };
            let c = [
                world.ledger.symbol(e.pool.coins[0]),
                world.ledger.symbol(e.pool.coins[1]),
            ];
            text.push_str(&format!(
                "  {:<16} {:>10.0} {:<3} {:>10.0} {:<3} {:>9.5} {:>9.5} {:>7.3}% {:>7.3}% {:>7.3}%\n",
                e.pool.name,
                p.balances[0],
                c[0].chars().take(3).collect::<String>(),
                p.balances[1],
                c[1].chars().take(3).collect::<String>(),
                p.price,
                f18(e.price_min),
                p.d1 * 100.0,
                p.d5 * 100.0,
                p.d10 * 100.0
            ));
            pools.push(json!({
                "name": e.pool.name,
                "coins": c,
                "balances": p.balances,
                "price": p.price,
                "price_min": f18(e.price_min),
                "price_min_wad": e.price_min.to_string(),
                "virtual_price": p.virtual_price,
                "discount_1pct": p.d1,
                "discount_5pct": p.d5,
                "discount_10pct": p.d10,
            }));
        }
        j.insert("pools".into(), Value::Array(pools));
        if m.sell_offs > 0 {
            j.insert("sell_offs".into(), json!(m.sell_offs));
        }
    }
    if let Some(a) = &m.aave {
        text.push_str(&format!(
            "  {:<16} {:>14} {:>14} {:>8} {:>9} {:>9}\n",
            "aave reserve", "supplied", "borrowed", "util", "borrow", "supply"
        ));
        let mut reserves = Vec::new();
        for r in &a.reserves {
            let Ok(rep) = a.reserve_report(&world.ledger, r.underlying) else {
                continue;
            };
            let util = rep.utilization_ray.as_f64() / 1e25;
            text.push_str(&format!(
                "  {:<16} {:>14.2} {:>14.2} {:>7.2}% {:>8.3}% {:>8.3}%\n",
                r.symbol,
                f18(rep.total_supplied),
                f18(rep.total_debt),
                util,
                rep.borrow_apy * 100.0,
                rep.supply_apy * 100.0
            ));
            reserves.push(json!({
                "symbol": r.symbol,
                "total_supplied": rep.total_supplied.to_string(),
                "total_debt": rep.total_debt.to_string(),
                "utilization_pct": util,
                "variable_rate_ray": rep.variable_rate_ray.to_string(),
                "liquidity_rate_ray": rep.liquidity_rate_ray.to_string(),
                "borrow_apy_pct": rep.borrow_apy * 100.0,
                "supply_apy_pct": rep.supply_apy * 100.0,
                "deficit": rep.deficit.to_string(),
                "bad_debt": rep.deficit.to_string(),
                "bad_debt_tokens": rep.deficit.as_f64()
                    / 10f64.powi(world.ledger.asset_info(r.underlying).map_or(18, |i| i32::from(i.decimals))),
            }));
        }
        let h = hfs(world, true);
        let mut buckets = serde_json::Map::new();
        let mut line = String::from("  health factors:");
        let mut lo = f64::NEG_INFINITY;
        for (name, hi) in HF_BUCKETS {
            let n = h.iter().filter(|x| **x >= lo && **x < hi).count();
            buckets.insert(name.into(), json!(n));
            line.push_str(&format!(" {name}: {n}"));
            lo = hi;
        }
        let min = h.iter().copied().fold(f64::INFINITY, f64::min);
        if !h.is_empty() {
            line.push_str(&format!("  (min {min:.4})"));
        }
        text.push_str(&line);
        text.push('\n');
        text.push_str(&format!(
            "  liquidations: {}  bad-debt events: {}\n",
            a.stats.liquidations, a.stats.bad_debt_events
        ));
        j.insert(
            "aave".into(),
            json!({
                "reserves": reserves,
                "borrowers": h.len(),
                "health_factors": buckets,
                "min_health_factor": if h.is_empty() { Value::Null } else { json!(min) },
                "liquidations": a.stats.liquidations,
                "bad_debt_events": a.stats.bad_debt_events,
            }),
        );
    }
    if !m.pendle_markets.is_empty() {
        text.push_str(&format!(
            "  {:<16} {:>12} {:>9} {:>9} {:>12} {:>9} {:>12} {:>12}\n",
            "pendle market", "implied APY", "PT price", "YT price", "TVL", "LP value", "PT", "SY"
        ));
        let mut out = Vec::new();
        for (k, e) in m.pendle_markets.iter().enumerate() {
            let Some(x) = super::pendle_ops::metrics(world, k) else {
                continue;
            };
            text.push_str(&format!(
                "  {:<16} {:>11.3}% {:>9.5} {:>9.5} {:>12.2} {:>9.5} {:>12.2} {:>12.2}\n",
                e.name, x.implied_apy_pct, x.pt_price, x.yt_price, x.tvl, x.lp_value, x.total_pt, x.total_sy
            ));
            out.push(json!({
                "name": e.name,
                "implied_apy_pct": x.implied_apy_pct,
                "pt_price": x.pt_price,
                "yt_price": x.yt_price,
                "tvl": x.tvl,
                "lp_value": x.lp_value,
                "total_pt": x.total_pt,
                "total_sy": x.total_sy,
                "expiry": crate::time::format_date(e.expiry),
            }));
        }
        j.insert("pendle".into(), Value::Array(out));
    }
    super::morpho::summary(world, &mut j, &mut text);
    super::panic_seller::summary(world, &mut j, &mut text);
    super::arbitrage::summary(world, &mut j, &mut text);
    (Value::Object(j), text)
}
