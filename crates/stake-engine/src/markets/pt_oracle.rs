//! Pendle PT collateral feeds (SPEC §7.1, §7.4): `[[oracles]] kind = "pt"`.
//!
//! Two registry feeds per PT:
//! - `PT/ETH` (18 decimals): either `PtLinearDiscount { maturity, max_rate }` — `1 − max_rate·ttm/YEAR`,
//!   computed at read time — or `PtTwap { maturity }`, whose observation is the market's TWAP
//!   ln-implied rate over the window (published each frame, priced at read time as
//!   `1/exp(ln_rate·ttm/YEAR)`). Both reach exactly 1 at maturity. The PT is quoted in the SY's
//!   accounting asset (stETH for wstETH, ETH for rETH), taken at 1 ETH.
//! - `PT/USD` (8 decimals, what Aave reads): an exchange-rate feed on `PT/ETH` whose observed
//!   "rate" is ETH/USD, so its answer is `ETH/USD × PT/ETH`.
//!
//! A TWAP window longer than the market's observation history is shortened to the history (a
//! fresh market's TWAP starts at its first observation), as a keeper would configure it.

use super::setup::OracleCfg;
use super::{FeedSource, MarketEvent};
use crate::amount::parse_wad_fraction;
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::ScenarioError;
use crate::time::parse_duration;
use crate::world::World;
use stake_ledger::{AssetId, Reject};
use stake_markets::oracle::{Denom, FeedKey, FeedKind};
use stake_math::U256;

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

/// The `PT/ETH` feed key of a PT.
pub(crate) fn pt_eth_key(pt: AssetId) -> FeedKey {
    FeedKey {
        asset: pt,
        denom: Denom::Eth,
    }
}

/// Registers the `PT/ETH` feed of `[[oracles]]` entry `o` (kind `pt`) for the PT `asset` and
/// returns the source and kind of its `PT/USD` feed.
///
/// Specification: fails (at `path`) if the entry names no Pendle market, `asset` is not that
/// market's PT, both or neither of `max_rate` / `twap` are given, the rate is above 100 % or
/// the window is zero.
pub(crate) fn build_feed(
    world: &mut World,
    o: &OracleCfg,
    path: &str,
    asset: AssetId,
    start: u64,
) -> Result<(FeedSource, FeedKind), ScenarioError> {
    let name = o.market.clone().unwrap_or_else(|| o.asset.clone());
    let k = world
        .markets
        .pendle_index(&name)
        .map_err(|e| err(format!("{path}.market"), e.to_string()))?;
    let e = world.markets.pendle_markets[k].clone();
    let pt = world
        .markets
        .pendle
        .as_ref()
        .and_then(|p| p.yield_contracts.get(e.yc))
        .map(|c| c.pt)
        .ok_or_else(|| err(path, "unreachable: Pendle market without a yield contract"))?;
    if pt != asset {
        return Err(err(
            format!("{path}.asset"),
            format!("a PT feed prices the PT of `{name}` (write asset = \"{name}\")"),
        ));
    }
    let (kind, twap) = match (&o.max_rate, &o.twap) {
        (Some(r), None) => {
            let rate = parse_wad_fraction(r).map_err(|x| err(format!("{path}.max_rate"), x))?;
            if rate > stake_math::WAD {
                return Err(err(format!("{path}.max_rate"), "at most 100%"));
            }
            (
                FeedKind::PtLinearDiscount {
                    maturity: e.expiry,
                    max_rate: rate,
                },
                None,
            )
        }
        (None, Some(w)) => {
            let secs = parse_duration(w).map_err(|x| err(format!("{path}.twap"), x))?;
            if secs == 0 {
                return Err(err(format!("{path}.twap"), "the TWAP window must be positive"));
            }
            (FeedKind::PtTwap { maturity: e.expiry }, Some(secs))
        }
        _ => {
            return Err(err(
                path,
                "a PT feed needs exactly one of `max_rate` (linear discount) or `twap` (window)",
            ))
        }
    };
    world
        .markets
        .oracles
        .add_feed(pt_eth_key(pt), kind, 18, 86_400, U256::ZERO, None, start)
        .map_err(|x| err(path, format!("[{}] {x}", x.code())))?;
    Ok((
        FeedSource::Pt { market: k, twap },
        FeedKind::ExchangeRate { base: pt_eth_key(pt) },
    ))
}

/// The TWAP ln-implied rate of market `k` over `window` seconds ending at `now`, the window
/// shortened to the observations kept.
pub(crate) fn twap_ln_rate(world: &World, k: usize, window: u64, now: u64) -> Result<U256, EngineError> {
    let e = &world.markets.pendle_markets[k];
    let p = world
        .markets
        .pendle
        .as_ref()
        .ok_or_else(|| proto(super::MarketError::UnknownPendleMarket { market: e.name.clone() }))?;
    let m = &p.markets[e.market];
    let oldest = m.observations.iter().map(|o| o.timestamp).min().unwrap_or(now);
    let w = window.min(now.saturating_sub(oldest));
    m.ln_implied_rate_twap(now, w).map_err(proto)
}

/// Publishes the TWAP observation of a TWAP PT feed (nothing for a linear one).
pub(crate) fn observe(world: &mut World, k: usize, twap: Option<u64>, now: u64) -> Result<Vec<Event>, EngineError> {
    let Some(window) = twap else {
        return Ok(Vec::new());
    };
    let ln = twap_ln_rate(world, k, window, now)?;
    let e = &world.markets.pendle_markets[k];
    let pt = world
        .markets
        .pendle
        .as_ref()
        .and_then(|p| p.yield_contracts.get(e.yc))
        .map(|c| c.pt)
        .ok_or_else(|| {
            proto(super::MarketError::NoFeed {
                what: format!("PT of {}", e.name),
            })
        })?;
    let ev = world.markets.oracles.observe(pt_eth_key(pt), ln, now).map_err(proto)?;
    Ok(ev.into_iter().map(|x| Event::Market(MarketEvent::Oracle(x))).collect())
}
