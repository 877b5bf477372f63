//! Pendle user actions beyond `mint_py` / `buy_pt` / `sell_pt` (SPEC §7.4): YT swaps, PT+YT
//! redemption, YT interest and reward claims, and liquidity on a Pendle market; plus the
//! per-market figures of the summary (implied APY, PT and YT prices, TVL, LP value).
//!
//! Every action takes the underlying (e.g. wstETH) in and gives the underlying back: SY is an
//! internal wrapper, so SY received is unwrapped at the end of the action. Every action is one
//! transaction: the caller ([`super::apply`]) restores the market state on error and the world
//! rolls the ledger back.

use super::ops::{pendle_ev, resolve as resolve_amount, MarketAction};
use super::{MarketError, PendleEntry};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::{ActionCfg, ScenarioError};
use crate::world::World;
use serde::{Deserialize, Serialize};
use stake_ledger::AccountId;
use stake_markets::pendle::approx::ApproxParams;
use stake_markets::pendle::{math as pm, Pendle};
use stake_math::{parse::parse_scaled, Checked, U256, WAD};

/// A Pendle action of a scenario account (amount `U256::MAX` = the whole balance).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendleOp {
    /// Wrap `amount` underlying into SY and buy YT with it (router `swapExactSyForYt`).
    BuyYt {
        /// Pendle market name.
        market: String,
        /// Underlying amount.
        amount: U256,
        /// Minimum YT out.
        min_out: U256,
    },
    /// Sell `amount` YT for SY (router `swapExactYtForSy`) and unwrap it.
    SellYt {
        /// Pendle market name.
        market: String,
        /// YT amount.
        amount: U256,
        /// Minimum underlying (= SY) out.
        min_out: U256,
    },
    /// Redeem `amount` PT (+ as much YT before expiry) for SY and unwrap it (`redeemPY`).
    RedeemPy {
        /// Pendle market name.
        market: String,
        /// PT amount (`MAX`: every PT, or before expiry every matched PT+YT pair).
        amount: U256,
    },
    /// Claim the YT interest (minus Pendle's interest fee) and rewards, unwrapped.
    ClaimYt {
        /// Pendle market name.
        market: String,
    },
    /// Add `amount` underlying as liquidity, keeping the YT (router
    /// `addLiquiditySingleSyKeepYt`): part of the SY is tokenised so that SY and PT go in at
    /// the market's ratio; the YT (and any dust) stays with the account.
    AddLiquidity {
        /// Pendle market name.
        market: String,
        /// Underlying amount.
        amount: U256,
    },
    /// Burn `amount` LP for SY (unwrapped) and PT (kept).
    RemoveLiquidity {
        /// Pendle market name.
        market: String,
        /// LP amount.
        amount: U256,
    },
}

fn amt(a: &U256) -> String {
    if *a == U256::MAX {
        "all".into()
    } else {
        crate::amount::format_units(*a, 18)
    }
}

impl PendleOp {
    /// Short description.
    pub fn describe(&self) -> String {
        match self {
            PendleOp::BuyYt { market, amount, .. } => format!("buy YT of {market} with {}", amt(amount)),
            PendleOp::SellYt { market, amount, .. } => format!("sell {} YT of {market}", amt(amount)),
            PendleOp::RedeemPy { market, amount } => format!("redeem {} PT(+YT) of {market}", amt(amount)),
            PendleOp::ClaimYt { market } => format!("claim YT interest and rewards of {market}"),
            PendleOp::AddLiquidity { market, amount } => {
                format!("add {} of liquidity to {market} (keep YT)", amt(amount))
            }
            PendleOp::RemoveLiquidity { market, amount } => format!("remove {} LP of {market}", amt(amount)),
        }
    }

    fn market(&self) -> &str {
        match self {
            PendleOp::BuyYt { market, .. }
            | PendleOp::SellYt { market, .. }
            | PendleOp::RedeemPy { market, .. }
            | PendleOp::ClaimYt { market }
            | PendleOp::AddLiquidity { market, .. }
            | PendleOp::RemoveLiquidity { market, .. } => market,
        }
    }
}

fn pendle_mut<'a>(
    world: &'a mut World,
    market: &str,
) -> Result<(&'a mut Pendle, &'a mut stake_ledger::Ledger), EngineError> {
    let p = world.markets.pendle.as_mut().ok_or_else(|| {
        proto(MarketError::UnknownPendleMarket {
            market: market.to_string(),
        })
    })?;
    Ok((p, &mut world.ledger))
}

/// Unwraps whatever SY `acct` gained since `before` into the underlying.
fn unwrap_gain(world: &mut World, acct: AccountId, e: &PendleEntry, before: U256) -> Result<Vec<Event>, EngineError> {
    let (p, l) = pendle_mut(world, &e.name)?;
    let sy_asset = p.sys[e.sy].asset;
    let gained = l.balance(acct, sy_asset).saturating_sub(before);
    if gained == U256::ZERO {
        return Ok(Vec::new());
    }
    Ok(pendle_ev(p.sy_redeem(l, acct, e.sy, gained).map_err(proto)?))
}

fn sy_balance(world: &World, acct: AccountId, e: &PendleEntry) -> U256 {
    match &world.markets.pendle {
        Some(p) => p
            .sys
            .get(e.sy)
            .map(|s| world.ledger.balance(acct, s.asset))
            .unwrap_or_default(),
        None => U256::ZERO,
    }
}

/// Applies a Pendle action for `acct`.
///
/// Specification (besides the protocol's own rejections, codes 65xx, and ledger 10xx):
/// - fails with `UnknownPendleMarket` (6903) for an unknown market;
/// - fails with `ZeroAmount` (6907) for a zero amount or an empty `all` balance, and for a
///   claim with neither YT nor accrued interest;
/// - buying or selling YT, adding liquidity after expiry: `MarketExpired` (6500);
/// - a `min_out` above what the trade gives: `Slippage` (6519);
/// - redeeming before expiry without the matching YT: `InsufficientBalance` (1004).
pub(crate) fn apply(world: &mut World, acct: AccountId, op: &PendleOp) -> Result<Vec<Event>, EngineError> {
    let k = world.markets.pendle_index(op.market()).map_err(proto)?;
    let e = world.markets.pendle_markets[k].clone();
    let now = world.now;
    let (pt, yt, lp) = {
        let (p, _) = pendle_mut(world, &e.name)?;
        let c = &p.yield_contracts[e.yc];
        (c.pt, c.yt, p.markets[e.market].lp)
    };
    let sy_before = sy_balance(world, acct, &e);
    let mut events = Vec::new();
    match op {
        PendleOp::BuyYt { amount, min_out, .. } => {
            let a = resolve_amount(world, acct, e.underlying, *amount)?;
            let (p, l) = pendle_mut(world, &e.name)?;
            events.extend(pendle_ev(p.sy_deposit(l, acct, e.sy, a).map_err(proto)?));
            events.extend(pendle_ev(
                p.swap_exact_sy_for_yt(l, acct, e.market, a, *min_out, ApproxParams::default(), now)
                    .map_err(proto)?,
            ));
        }
        PendleOp::SellYt { amount, min_out, .. } => {
            let a = resolve_amount(world, acct, yt, *amount)?;
            let (p, l) = pendle_mut(world, &e.name)?;
            events.extend(pendle_ev(
                p.swap_exact_yt_for_sy(l, acct, e.market, a, *min_out, now)
                    .map_err(proto)?,
            ));
        }
        PendleOp::RedeemPy { amount, .. } => {
            let a = if *amount == U256::MAX {
                let bal = world.ledger.balance(acct, pt);
                let a = if now >= e.expiry {
                    bal
                } else {
                    bal.min(world.ledger.balance(acct, yt))
                };
                if a == U256::ZERO {
                    return Err(proto(MarketError::ZeroAmount {
                        what: "PT (and YT before expiry) to redeem".into(),
                    }));
                }
                a
            } else {
                resolve_amount(world, acct, pt, *amount)?
            };
            let (p, l) = pendle_mut(world, &e.name)?;
            events.extend(pendle_ev(p.redeem_py(l, acct, e.yc, a, now).map_err(proto)?));
        }
        PendleOp::ClaimYt { .. } => {
            let (p, l) = pendle_mut(world, &e.name)?;
            let pending = p.pending_interest(l, acct, e.yc, now).map_err(proto)?;
            if pending == U256::ZERO && l.balance(acct, yt) == U256::ZERO {
                return Err(proto(MarketError::ZeroAmount {
                    what: "YT interest to claim (no YT held, nothing accrued)".into(),
                }));
            }
            events.extend(pendle_ev(p.claim_interest(l, acct, e.yc, now).map_err(proto)?));
            if !p.yield_contracts[e.yc].rewards.is_empty() {
                events.extend(pendle_ev(p.claim_rewards(l, acct, e.yc, now).map_err(proto)?));
            }
        }
        PendleOp::AddLiquidity { amount, .. } => {
            let a = resolve_amount(world, acct, e.underlying, *amount)?;
            let (p, l) = pendle_mut(world, &e.name)?;
            events.extend(pendle_ev(p.sy_deposit(l, acct, e.sy, a).map_err(proto)?));
            let m = &p.markets[e.market];
            let to_py = if m.total_lp == U256::ZERO {
                a / 2
            } else {
                // netSyMintPy = netSyIn·totalPt / (totalPt + syToAsset(index, totalSy)), floor.
                let index = p.py_index(e.yc, now).map_err(proto)?;
                let denom = m
                    .total_pt
                    .add_c(pm::sy_to_asset(index, m.total_sy).map_err(proto)?)
                    .map_err(proto)?;
                stake_math::mul_div_down(a, m.total_pt, denom).map_err(proto)?
            };
            let pt_before = l.balance(acct, pt);
            if to_py > U256::ZERO {
                events.extend(pendle_ev(p.mint_py(l, acct, e.yc, to_py, now).map_err(proto)?));
            }
            let pt_got = l.balance(acct, pt).sub_c(pt_before).map_err(proto)?;
            events.extend(pendle_ev(
                p.add_liquidity(l, acct, e.market, a - to_py, pt_got, now)
                    .map_err(proto)?,
            ));
        }
        PendleOp::RemoveLiquidity { amount, .. } => {
            let a = resolve_amount(world, acct, lp, *amount)?;
            let (p, l) = pendle_mut(world, &e.name)?;
            events.extend(pendle_ev(p.remove_liquidity(l, acct, e.market, a, now).map_err(proto)?));
        }
    }
    events.extend(unwrap_gain(world, acct, &e, sy_before)?);
    Ok(events)
}

/// An amount of a Pendle token: `all`, raw base units, or a whole-token amount with the suffix
/// `PT`, `YT` or `LP` (18 decimals), e.g. `"100 YT"`; the underlying's amounts use its symbol.
fn token_amount(s: &str, suffix: &str, path: &str) -> Result<U256, ScenarioError> {
    let t = s.trim();
    if t == "all" {
        return Ok(U256::MAX);
    }
    let v = match t.strip_suffix(suffix) {
        Some(num) => parse_scaled(num.trim(), 18),
        None => parse_scaled(t, 0),
    }
    .map_err(|e| {
        ScenarioError::at(
            path,
            format!("`{s}`: {e} (expected `all`, base units or e.g. `10 {suffix}`)"),
        )
    })?;
    if v == U256::ZERO {
        return Err(ScenarioError::at(path, "must be positive"));
    }
    Ok(v)
}

/// The scripted Pendle actions: `buy_yt`, `sell_yt`, `redeem_py`, `claim_yt`, and
/// `add_liquidity` / `remove_liquidity` with a `market` (and no `pool`). `None` if `a` is not one.
pub(crate) fn schedule(a: &ActionCfg, path: &str, world: &World) -> Option<Result<MarketAction, ScenarioError>> {
    let liquidity = matches!(a.op.as_str(), "add_liquidity" | "remove_liquidity") && a.pool.is_none();
    let ours = matches!(a.op.as_str(), "buy_yt" | "sell_yt" | "redeem_py" | "claim_yt") || liquidity;
    if !ours || (liquidity && a.market.is_none()) {
        return None;
    }
    Some(schedule_inner(a, path, world).map(MarketAction::Pendle))
}

fn schedule_inner(a: &ActionCfg, path: &str, world: &World) -> Result<PendleOp, ScenarioError> {
    let market = super::setup::pendle_market(world, a, path)?;
    let apath = format!("{path}.amount");
    let need_amount = || super::setup::need(&a.amount, path, "amount");
    let k = world
        .markets
        .pendle_index(&market)
        .map_err(|e| ScenarioError::at(path, e.to_string()))?;
    let underlying = world
        .ledger
        .symbol(world.markets.pendle_markets[k].underlying)
        .to_string();
    let underlying_amount = || -> Result<U256, ScenarioError> {
        super::setup::amount_or_all(world, need_amount()?, Some(&underlying), &apath)
    };
    let min_out = |suffix: &str, asset: Option<&str>| -> Result<U256, ScenarioError> {
        let mpath = format!("{path}.min_out");
        match (&a.min_out, asset) {
            (None, _) => Ok(U256::ZERO),
            (Some(s), Some(u)) => super::setup::amount_or_all(world, s, Some(u), &mpath),
            (Some(s), None) => token_amount(s, suffix, &mpath),
        }
    };
    Ok(match a.op.as_str() {
        "buy_yt" => PendleOp::BuyYt {
            amount: underlying_amount()?,
            min_out: min_out("YT", None)?,
            market,
        },
        "sell_yt" => PendleOp::SellYt {
            amount: token_amount(need_amount()?, "YT", &apath)?,
            min_out: min_out("", Some(&underlying))?,
            market,
        },
        "redeem_py" => PendleOp::RedeemPy {
            amount: token_amount(a.amount.as_deref().unwrap_or("all"), "PT", &apath)?,
            market,
        },
        "claim_yt" => PendleOp::ClaimYt { market },
        "add_liquidity" => PendleOp::AddLiquidity {
            amount: underlying_amount()?,
            market,
        },
        _ => PendleOp::RemoveLiquidity {
            amount: token_amount(a.amount.as_deref().unwrap_or("all"), "LP", &apath)?,
            market,
        },
    })
}

/// Figures of one Pendle market (asset units: the SY's accounting asset, e.g. stETH ≈ ETH).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PendleMetrics {
    /// `exp(lastLnImpliedRate) − 1`, percent.
    pub implied_apy_pct: f64,
    /// PT price in the asset (`1/exchangeRate`; 1 at or after expiry).
    pub pt_price: f64,
    /// YT price in the asset (`1 − PT price`).
    pub yt_price: f64,
    /// Market TVL in the asset: SY × index + PT × PT price.
    pub tvl: f64,
    /// Value of one LP token in the asset.
    pub lp_value: f64,
    /// PT reserve.
    pub total_pt: f64,
    /// SY reserve.
    pub total_sy: f64,
}

fn f18(v: U256) -> f64 {
    v.as_f64() / 1e18
}

/// Figures of the `k`-th Pendle market now (`None` if they cannot be computed).
pub(crate) fn metrics(world: &World, k: usize) -> Option<PendleMetrics> {
    let e = world.markets.pendle_markets.get(k)?;
    let p = world.markets.pendle.as_ref()?;
    let m = p.markets.get(e.market)?;
    let apy = pm::implied_apy(m.last_ln_implied_rate).ok()?;
    let pt = if world.now >= e.expiry {
        WAD
    } else {
        pm::pt_to_asset_rate(m.last_ln_implied_rate, e.expiry - world.now).ok()?
    };
    let index = p.py_index(e.yc, world.now).ok()?;
    let sy_value = pm::sy_to_asset(index, m.total_sy).ok()?;
    let pt_value = stake_math::mul_div_down(m.total_pt, pt, WAD).ok()?;
    let tvl = sy_value.checked_add(pt_value)?;
    let lp_value = if m.total_lp == U256::ZERO {
        0.0
    } else {
        f18(tvl) / f18(m.total_lp)
    };
    Some(PendleMetrics {
        implied_apy_pct: apy.as_f64() / 1e16,
        pt_price: f18(pt),
        yt_price: f18(WAD.saturating_sub(pt)),
        tvl: f18(tvl),
        lp_value,
        total_pt: f18(m.total_pt),
        total_sy: f18(m.total_sy),
    })
}

/// The asset id of a token symbol, or of the PT of the Pendle market with that name.
pub(crate) fn symbol_or_pt(world: &World, sym: &str) -> Option<stake_ledger::AssetId> {
    if let Ok(id) = world.ledger.asset(sym) {
        return Some(id);
    }
    let k = world.markets.pendle_index(sym).ok()?;
    let e = &world.markets.pendle_markets[k];
    world
        .markets
        .pendle
        .as_ref()
        .and_then(|p| p.yield_contracts.get(e.yc))
        .map(|c| c.pt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_accept_all_base_units_and_suffixed_whole_tokens() {
        assert_eq!(token_amount("all", "YT", "p").unwrap(), U256::MAX);
        assert_eq!(token_amount("12", "YT", "p").unwrap(), U256::from(12u8));
        assert_eq!(
            token_amount("1.5 YT", "YT", "p").unwrap(),
            U256::from(1_500_000_000_000_000_000u64)
        );
        assert_eq!(token_amount("0 LP", "LP", "p").unwrap_err().message, "must be positive");
        assert!(token_amount("x YT", "YT", "p").is_err());
    }
}
