//! Morpho Blue isolated markets (`[[lending.morpho]]`) wired into the world, and the liquidator
//! agent (`[[agents]] kind = "liquidator"`) that serves both Aave and Morpho.
//!
//! A Morpho market's oracle is built from the world's USD feeds (the same registry Aave reads,
//! with the same staleness bound): `1e36 · p_coll · 10^dec_loan / (p_loan · 10^dec_coll)`, the
//! collateral price in loan units as `IOracle.price()`. Morpho accrues interest on every touch;
//! the frame hook accrues every market once per frame so reports are current.

use super::ops::{acquire, balance_of, eth_into, rate_of, LoopTarget, MarketEvent};
use super::{coins_of, FeedEntry, FeedPrices, FeedSource, MarketError, MarketWorld};
use crate::amount::{parse_amount, parse_bps, parse_wad_fraction};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::{ActionCfg, Scenario, ScenarioError};
use crate::world::{HookRejection, World};
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, AssetKind, Ledger, Reject};
use stake_markets::aave::{AaveEvent, PriceSource};
use stake_markets::morpho::{
    self as mo, adaptive_curve_borrow_rate, liquidation_incentive_factor, oracle_price_from_base, to_assets_up,
    to_shares_down, Irm, MarketId, MarketParams, MorphoBlue, MorphoEvent, MorphoOracle, MorphoResult,
    ORACLE_PRICE_SCALE,
};
use stake_markets::oracle::{Denom, FeedKey, FeedKind};
use stake_math::{mul_div_down, pow10, Checked, U256, WAD};
use std::fmt;

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

// ---------------------------------------------------------------------------------------------
// Scenario sections
// ---------------------------------------------------------------------------------------------

/// `[[lending.morpho]]`: one Morpho Blue market.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MorphoCfg {
    /// Market name, used by actions (`market = "<name>"`).
    pub name: String,
    /// Loan token, e.g. `WETH`.
    pub loan: String,
    /// Collateral token: any ledger token with a feed (WETH, LST tokens, pool LP tokens, PT tokens).
    pub collateral: String,
    /// Liquidation LTV, e.g. `"94.5%"`.
    pub lltv: String,
    /// Kind of the collateral's feed: `exchange_rate` (default) or `market` (with `pool`: a
    /// market feed in ETH for this market alone; without: the `[[oracles]]` entry of the
    /// collateral must be a market feed).
    pub oracle: Option<String>,
    /// The pool a market oracle reads (the collateral or its LST paired with ETH; the loan must
    /// be WETH).
    pub pool: Option<String>,
    /// `adaptive_curve` (default, Morpho's AdaptiveCurveIrm) or `fixed`.
    pub irm: Option<String>,
    /// Fixed borrow APR for `irm = "fixed"`, e.g. `"5%"`.
    pub rate: Option<String>,
    /// Protocol fee on interest, e.g. `"10%"` (≤ 25 %, default 0).
    pub fee: Option<String>,
    /// Loan tokens supplied at genesis by the account `<name>-supplier` (bought with fresh ETH).
    pub initial_supply: Option<String>,
    /// Genesis borrowers.
    #[serde(default)]
    pub borrowers: Vec<MorphoBorrowerCfg>,
}

/// `[[lending.morpho.borrowers]]`: a genesis borrower (collateral bought with fresh ETH).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MorphoBorrowerCfg {
    /// Account name.
    pub account: String,
    /// Numbered copies `account-1 … account-N` (default 1: just `account`).
    pub count: Option<u64>,
    /// Collateral each, e.g. `"100 wstETH"`.
    pub collateral: String,
    /// Loan borrowed each, e.g. `"100 WETH"` (or use `ltv`).
    pub borrow: Option<String>,
    /// Debt / collateral value at the oracle price, e.g. `"90%"` (or use `borrow`).
    pub ltv: Option<String>,
}

/// `[[agents]]`: a behaviour that reacts every frame and after price events.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCfg {
    /// `liquidator` or `arbitrageur`.
    pub kind: String,
    /// Account it acts from (default: the kind's name).
    pub account: Option<String>,
    /// Arbitrageur: the pool it trades (ETH against an LST's own token).
    pub pool: Option<String>,
    /// Arbitrageur: annual cost of capital, e.g. `"5%"` (default 0).
    pub cost_of_capital: Option<String>,
    /// Arbitrageur: also mint at the protocol's rate and sell into the pool when the pool pays
    /// more (default false).
    pub mint: Option<bool>,
    /// Panic seller: the pool discount that triggers it, e.g. `"1%"`.
    pub discount: Option<String>,
    /// Panic seller: the time from which it sells, e.g. `"day 60"`.
    pub after: Option<String>,
    /// Panic seller: reaction delay after the trigger, e.g. `"12h"` (default 0).
    pub delay: Option<String>,
    /// Panic seller: number of sales (default 1).
    pub tranches: Option<u32>,
    /// Panic seller: time between sales (default `1d`).
    pub every: Option<String>,
    /// Panic seller: share of its holding per sale (default `1/tranches`).
    pub tranche: Option<String>,
    /// Panic seller: each sale's size × U[1 − jitter, 1 + jitter], seeded per path (default 0).
    pub jitter: Option<String>,
    /// Whether it acts (default true).
    pub enabled: Option<bool>,
    /// Minimum profit per liquidation, valued in USD at the feeds: `"0.05 ETH"` (at ETH/USD) or
    /// `"$100"` (default 0).
    pub min_profit: Option<String>,
    /// How much to repay: `max` (default, the protocol's maximum).
    pub close: Option<String>,
    /// Genesis balances of the account, e.g. `["5_000 WETH"]`.
    #[serde(default)]
    pub balances: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

/// A Morpho market of the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MorphoEntry {
    /// Scenario name.
    pub name: String,
    /// Market id.
    pub id: MarketId,
    /// Loan token.
    pub loan: AssetId,
    /// Collateral token.
    pub collateral: AssetId,
    /// Decimals of the loan token.
    pub loan_decimals: u8,
    /// Decimals of the collateral token.
    pub collateral_decimals: u8,
    /// Liquidations executed in this market.
    pub liquidations: u64,
    /// Bad debt socialised to its suppliers (loan assets).
    pub bad_debt: U256,
    /// The market's own ETH-denominated market feed of the collateral and the pool it reads.
    pub eth_feed: Option<(FeedKey, usize)>,
}

/// Morpho Blue in the world.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MorphoWorld {
    /// The protocol.
    pub blue: MorphoBlue,
    /// Scenario markets (index = market id).
    pub markets: Vec<MorphoEntry>,
}

/// Counters of the liquidator agent (values in USD, 8 decimals, at the feeds).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidatorStats {
    /// Liquidations executed on Aave.
    pub aave: u64,
    /// Liquidations executed on Morpho.
    pub morpho: u64,
    /// Debt repaid.
    pub repaid_usd: U256,
    /// Collateral received.
    pub seized_usd: U256,
    /// Collateral received − debt repaid.
    pub profit_usd: U256,
    /// Bad debt realised by its liquidations (Aave deficits, Morpho socialised losses).
    pub bad_debt_usd: U256,
    /// Liquidatable positions skipped as below `min_profit`.
    pub skipped: u64,
    /// Attempts the protocol rejected (recorded as hook rejections).
    pub failed: u64,
}

/// The liquidator agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Liquidator {
    /// Its account.
    pub account: AccountId,
    /// Whether it acts.
    pub enabled: bool,
    /// Minimum profit per liquidation (USD, 8 decimals).
    pub min_profit_usd: U256,
    /// Counters.
    pub stats: LiquidatorStats,
}

/// Rejections of the Morpho wiring (codes 6950–6969).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MorphoWiringError {
    /// No Morpho market with this name.
    UnknownMarket {
        /// Name asked for.
        market: String,
    },
    /// No account with this name.
    UnknownAccount {
        /// Name.
        account: String,
    },
    /// The loop needs a WETH loan and a collateral the engine can buy with ETH.
    BadLoop {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for MorphoWiringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MorphoWiringError::UnknownMarket { market } => write!(f, "unknown Morpho market `{market}`"),
            MorphoWiringError::UnknownAccount { account } => write!(f, "unknown account `{account}`"),
            MorphoWiringError::BadLoop { reason } => write!(f, "morpho loop impossible: {reason}"),
        }
    }
}

impl Reject for MorphoWiringError {
    fn code(&self) -> u32 {
        match self {
            MorphoWiringError::UnknownMarket { .. } => 6950,
            MorphoWiringError::UnknownAccount { .. } => 6951,
            MorphoWiringError::BadLoop { .. } => 6952,
        }
    }
}

/// Morpho actions (amount `U256::MAX` = all: the balance, the position, or the maximum allowed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MorphoAction {
    /// Supply loan tokens.
    Supply {
        /// Market name.
        market: String,
        /// Assets.
        amount: U256,
    },
    /// Withdraw supplied loan tokens (MAX = every supply share).
    Withdraw {
        /// Market name.
        market: String,
        /// Assets.
        amount: U256,
    },
    /// Borrow loan tokens (an exact amount).
    Borrow {
        /// Market name.
        market: String,
        /// Assets.
        amount: U256,
    },
    /// Repay (MAX = every borrow share, or the balance if smaller).
    Repay {
        /// Market name.
        market: String,
        /// Assets.
        amount: U256,
    },
    /// Supply collateral.
    SupplyCollateral {
        /// Market name.
        market: String,
        /// Collateral.
        amount: U256,
    },
    /// Withdraw collateral (MAX = all of it).
    WithdrawCollateral {
        /// Market name.
        market: String,
        /// Collateral.
        amount: U256,
    },
    /// Liquidate `borrower`, repaying `amount` loan assets (MAX = as much as allowed: all the
    /// debt, or all the collateral if it does not cover the debt plus the incentive).
    Liquidate {
        /// Market name.
        market: String,
        /// Borrower account.
        borrower: String,
        /// Loan assets to repay.
        amount: U256,
    },
    /// Supply `amount` collateral, then borrow WETH, stake it into the collateral and supply it
    /// again until the target is reached.
    Loop {
        /// Market name.
        market: String,
        /// Initial collateral (0 = none).
        amount: U256,
        /// Leverage or health factor.
        target: LoopTarget,
    },
}

impl MorphoAction {
    /// The market it concerns.
    pub fn market(&self) -> &str {
        match self {
            MorphoAction::Supply { market, .. }
            | MorphoAction::Withdraw { market, .. }
            | MorphoAction::Borrow { market, .. }
            | MorphoAction::Repay { market, .. }
            | MorphoAction::SupplyCollateral { market, .. }
            | MorphoAction::WithdrawCollateral { market, .. }
            | MorphoAction::Liquidate { market, .. }
            | MorphoAction::Loop { market, .. } => market,
        }
    }

    /// Short description.
    pub fn describe(&self) -> String {
        let amt = |a: &U256| {
            if *a == U256::MAX {
                "all".to_string()
            } else {
                crate::amount::format_units(*a, 18)
            }
        };
        match self {
            MorphoAction::Supply { market, amount } => format!("supply {} to morpho {market}", amt(amount)),
            MorphoAction::Withdraw { market, amount } => format!("withdraw {} from morpho {market}", amt(amount)),
            MorphoAction::Borrow { market, amount } => format!("borrow {} from morpho {market}", amt(amount)),
            MorphoAction::Repay { market, amount } => format!("repay {} to morpho {market}", amt(amount)),
            MorphoAction::SupplyCollateral { market, amount } => {
                format!("supply {} collateral to morpho {market}", amt(amount))
            }
            MorphoAction::WithdrawCollateral { market, amount } => {
                format!("withdraw {} collateral from morpho {market}", amt(amount))
            }
            MorphoAction::Liquidate { market, borrower, .. } => format!("liquidate {borrower} on morpho {market}"),
            MorphoAction::Loop { market, amount, .. } => format!("loop {} on morpho {market}", amt(amount)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Oracle adapter
// ---------------------------------------------------------------------------------------------

/// Morpho's view of the registry: the collateral's USD feed over the loan token's, scaled 1e36.
pub(crate) struct MorphoPrices<'a> {
    pub(crate) feeds: FeedPrices<'a>,
    pub(crate) markets: &'a [MorphoEntry],
}

impl MorphoOracle for MorphoPrices<'_> {
    fn price(&self, market: MarketId, params: &MarketParams, now: u64) -> Result<U256, String> {
        let e = self
            .markets
            .iter()
            .find(|e| e.id == market)
            .ok_or_else(|| format!("no market #{}", market.0))?;
        if let Some((key, _)) = e.eth_feed {
            // Collateral in ETH (18 decimals) over a WETH loan: 1e36 · p · 10^dec_loan / (1e18 · 10^dec_coll).
            let p = match self.feeds.max_age {
                Some(age) => self.feeds.oracles.price_max_age(key, now, age),
                None => self.feeds.oracles.price_unchecked(key, now),
            }
            .map_err(|e| e.to_string())?;
            let num = p
                .value
                .mul_c(pow10(u32::from(e.loan_decimals)).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            let den = pow10(18 + u32::from(e.collateral_decimals)).map_err(|e| e.to_string())?;
            return mul_div_down(ORACLE_PRICE_SCALE, num, den).map_err(|e| e.to_string());
        }
        let pc = self.feeds.price_base(params.collateral_token, now)?;
        let pl = self.feeds.price_base(params.loan_token, now)?;
        oracle_price_from_base(pc, e.collateral_decimals, pl, e.loan_decimals).map_err(|e| e.to_string())
    }
}

/// The oracle price of market `k` (`max_age`: staleness bound, `None` for reports).
pub(crate) fn oracle_price(m: &MarketWorld, k: usize, now: u64, max_age: Option<u64>) -> Result<U256, String> {
    let e = m.morpho.markets.get(k).ok_or("no such market")?;
    let ms = m.morpho.blue.market(e.id).map_err(|e| e.to_string())?;
    let px = MorphoPrices {
        feeds: FeedPrices {
            oracles: &m.oracles,
            feeds: &m.feeds,
            max_age,
        },
        markets: &m.morpho.markets,
    };
    px.price(e.id, &ms.params, now)
}

/// ETH per token (wad) of tokens that are not LSTs: a pool's LP token (its virtual price) or a
/// Pendle PT (its price in the SY asset at the market's implied rate). `None`: neither.
pub(crate) fn token_rate(world: &World, asset: AssetId) -> Option<Result<U256, EngineError>> {
    for e in &world.markets.pools {
        if e.pool.lp_token == asset {
            return Some((|| {
                let coins = coins_of(world, e).map_err(proto)?;
                e.pool.virtual_price(&world.ledger, &coins, world.now).map_err(proto)
            })());
        }
    }
    let p = world.markets.pendle.as_ref()?;
    for e in &world.markets.pendle_markets {
        if p.yield_contracts.get(e.yc).map(|y| y.pt) == Some(asset) {
            let m = p.markets.get(e.market)?;
            let tte = e.expiry.saturating_sub(world.now);
            return Some(stake_markets::pendle::math::pt_to_asset_rate(m.last_ln_implied_rate, tte).map_err(proto));
        }
    }
    None
}

/// Whether `asset` is a Pendle PT. A PT has no protocol exchange rate: its price feed must be a
/// `kind = "pt"` oracle, never the spot implied rate.
pub(crate) fn is_pt(world: &World, asset: AssetId) -> bool {
    let Some(p) = world.markets.pendle.as_ref() else {
        return false;
    };
    world
        .markets
        .pendle_markets
        .iter()
        .any(|e| p.yield_contracts.get(e.yc).map(|y| y.pt) == Some(asset))
}

// ---------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------

fn amount_of(world: &World, s: &str, expect: AssetId, path: &str) -> Result<U256, ScenarioError> {
    let dec = |sym: &str| {
        world
            .ledger
            .asset(sym)
            .ok()
            .and_then(|id| world.ledger.asset_info(id).ok())
            .map(|a| a.decimals)
    };
    let a = parse_amount(s, &dec).map_err(|e| err(path, e))?;
    let want = world.ledger.symbol(expect).to_string();
    match a.asset.as_deref() {
        Some(sym) if sym == want => {}
        Some(sym) => return Err(err(path, format!("`{s}` is an amount of {sym}, expected {want}"))),
        None => {
            // Re-parse with the expected unit's decimals.
            let a2 = parse_amount(&format!("{s} {want}"), &dec).map_err(|e| err(path, e))?;
            return positive(a2.base, path);
        }
    }
    positive(a.base, path)
}

fn positive(v: U256, path: &str) -> Result<U256, ScenarioError> {
    if v == U256::ZERO {
        return Err(err(path, "must be positive"));
    }
    Ok(v)
}

fn decimals(world: &World, id: AssetId, path: &str) -> Result<u8, ScenarioError> {
    world
        .ledger
        .asset_info(id)
        .map(|i| i.decimals)
        .map_err(|e| err(path, e.to_string()))
}

/// Adds a USD feed for `asset` unless one exists; returns the feed's kind (`exchange_rate` or
/// `market`).
fn ensure_feed(
    world: &mut World,
    scn: &Scenario,
    asset: AssetId,
    path: &str,
    start: u64,
) -> Result<String, ScenarioError> {
    if let Some(f) = world.markets.feeds.iter().find(|f| f.asset == asset) {
        return Ok(match f.source {
            FeedSource::ExchangeRate => "exchange_rate".into(),
            FeedSource::Market { .. } => "market".into(),
            FeedSource::Pt { .. } => "pt".into(),
        });
    }
    let eth_key = world
        .markets
        .eth_usd_key
        .ok_or_else(|| err("market", "Morpho needs [market.ETH_USD]"))?;
    let sym = world.ledger.symbol(asset).to_string();
    if is_pt(world, asset) {
        return Err(err(
            path,
            format!("{sym} is a PT: price it with an [[oracles]] entry of kind = \"pt\""),
        ));
    }
    rate_of(world, asset).map_err(|e| err(path, format!("{sym} cannot be priced: {e}")))?;
    let (source, kind, dev, name) = match scn.oracles.iter().position(|o| o.asset == sym) {
        Some(k) => {
            let o = &scn.oracles[k];
            let opath = format!("oracles[{k}]");
            let dev = match &o.deviation {
                Some(s) => parse_bps(s).map_err(|e| err(format!("{opath}.deviation"), e))?,
                None => U256::ZERO,
            };
            match o.kind.as_deref().unwrap_or("exchange_rate") {
                "exchange_rate" => (
                    FeedSource::ExchangeRate,
                    FeedKind::ExchangeRate { base: eth_key },
                    dev,
                    "exchange_rate",
                ),
                "market" => {
                    let pname = o
                        .pool
                        .clone()
                        .ok_or_else(|| err(format!("{opath}.pool"), "a market feed reads a pool"))?;
                    let p = world
                        .markets
                        .pool_index(&pname)
                        .map_err(|e| err(format!("{opath}.pool"), e.to_string()))?;
                    if !world.markets.pools[p].pool.coins.contains(&world.eth_asset) {
                        return Err(err(format!("{opath}.pool"), "the pool must pair the token with ETH"));
                    }
                    (
                        FeedSource::Market { pool: p },
                        FeedKind::Market { pool: pname },
                        dev,
                        "market",
                    )
                }
                other => {
                    return Err(err(
                        format!("{opath}.kind"),
                        format!("unknown feed kind `{other}` (exchange_rate or market)"),
                    ))
                }
            }
        }
        None => (
            FeedSource::ExchangeRate,
            FeedKind::ExchangeRate { base: eth_key },
            U256::ZERO,
            "exchange_rate",
        ),
    };
    let key = FeedKey {
        asset,
        denom: Denom::Usd,
    };
    world
        .markets
        .oracles
        .add_feed(key, kind, 8, 86_400, dev, None, start)
        .map_err(|e| err("oracles", format!("[{}] {e}", e.code())))?;
    world.markets.feeds.push(FeedEntry { asset, key, source });
    Ok(name.into())
}

/// Builds the Morpho markets and the agents (after pools, Aave and Pendle).
pub(crate) fn build(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    for (k, mc) in scn.lending.morpho.iter().enumerate() {
        build_market(world, scn, mc, &format!("lending.morpho[{k}]"), start)?;
    }
    super::ops::publish_prices(world, start)
        .map_err(|e| err("lending.morpho", format!("publishing prices failed: {e}")))?;
    for (k, mc) in scn.lending.morpho.iter().enumerate() {
        build_positions(world, mc, k, &format!("lending.morpho[{k}]"), start)?;
    }
    for (k, a) in scn.agents.iter().enumerate() {
        build_agent(world, a, &format!("agents[{k}]"))?;
    }
    Ok(())
}

fn build_market(
    world: &mut World,
    scn: &Scenario,
    mc: &MorphoCfg,
    path: &str,
    start: u64,
) -> Result<(), ScenarioError> {
    if mc.name.is_empty() || mc.name == "aave" || world.markets.morpho.markets.iter().any(|m| m.name == mc.name) {
        return Err(err(
            format!("{path}.name"),
            format!("`{}` is taken or not a valid market name", mc.name),
        ));
    }
    let loan = world
        .ledger
        .asset(&mc.loan)
        .map_err(|e| err(format!("{path}.loan"), e.to_string()))?;
    let collateral = world
        .ledger
        .asset(&mc.collateral)
        .map_err(|e| err(format!("{path}.collateral"), e.to_string()))?;
    for (id, key) in [(loan, "loan"), (collateral, "collateral")] {
        if world.ledger.asset_info(id).map(|i| i.kind).ok() != Some(AssetKind::Plain) {
            return Err(err(
                format!("{path}.{key}"),
                "Morpho needs a plain (non-rebasing) token: use the wrapped one (wstETH)",
            ));
        }
    }
    let lltv = parse_wad_fraction(&mc.lltv).map_err(|e| err(format!("{path}.lltv"), e))?;
    if lltv == U256::ZERO || lltv >= WAD {
        return Err(err(format!("{path}.lltv"), "must be between 0 and 100%"));
    }
    let irm = match mc.irm.as_deref().unwrap_or("adaptive_curve") {
        "adaptive_curve" => {
            if mc.rate.is_some() {
                return Err(err(format!("{path}.rate"), "a rate is for irm = \"fixed\""));
            }
            Irm::AdaptiveCurve
        }
        "fixed" => {
            let s = mc
                .rate
                .as_deref()
                .ok_or_else(|| err(format!("{path}.rate"), "irm = \"fixed\" needs a `rate` (APR)"))?;
            let apr = parse_wad_fraction(s).map_err(|e| err(format!("{path}.rate"), e))?;
            Irm::Fixed {
                rate_per_second: apr / U256::from(stake_markets::oracle::ONE_YEAR),
            }
        }
        other => {
            return Err(err(
                format!("{path}.irm"),
                format!("unknown irm `{other}` (adaptive_curve or fixed)"),
            ))
        }
    };
    let fee = match &mc.fee {
        Some(s) => parse_wad_fraction(s).map_err(|e| err(format!("{path}.fee"), e))?,
        None => U256::ZERO,
    };
    ensure_feed(world, scn, loan, &format!("{path}.loan"), start)?;
    let kind = ensure_feed(world, scn, collateral, &format!("{path}.collateral"), start)?;
    let mut eth_feed = None;
    if let Some(pname) = &mc.pool {
        if mc.oracle.as_deref() != Some("market") {
            return Err(err(format!("{path}.pool"), "a pool is for oracle = \"market\""));
        }
        if Some(loan) != world.markets.weth {
            return Err(err(format!("{path}.pool"), "a pool-priced market lends WETH"));
        }
        let p = world
            .markets
            .pool_index(pname)
            .map_err(|e| err(format!("{path}.pool"), e.to_string()))?;
        let coins = world.markets.pools[p].pool.coins;
        let other = if coins[0] == world.eth_asset {
            coins[1]
        } else {
            coins[0]
        };
        let same = other == collateral
            || matches!((super::ops::lst_of(world, other), super::ops::lst_of(world, collateral)), (Some(a), Some(b)) if a.0 == b.0);
        if !coins.contains(&world.eth_asset) || !same {
            return Err(err(
                format!("{path}.pool"),
                format!("the pool must pair {} (or its LST) with ETH", mc.collateral),
            ));
        }
        let key = FeedKey {
            asset: collateral,
            denom: Denom::Eth,
        };
        if let Some(other) = world
            .markets
            .morpho
            .markets
            .iter()
            .find(|m| m.eth_feed.map(|f| f.0) == Some(key))
        {
            if other.eth_feed.map(|f| f.1) != Some(p) {
                return Err(err(
                    format!("{path}.pool"),
                    format!("market `{}` prices {} from another pool", other.name, mc.collateral),
                ));
            }
        } else {
            world
                .markets
                .oracles
                .add_feed(
                    key,
                    FeedKind::Market { pool: pname.clone() },
                    18,
                    86_400,
                    U256::ZERO,
                    None,
                    start,
                )
                .map_err(|e| err(format!("{path}.pool"), format!("[{}] {e}", e.code())))?;
        }
        eth_feed = Some((key, p));
    } else if let Some(o) = &mc.oracle {
        if *o != kind {
            return Err(err(
                format!("{path}.oracle"),
                format!(
                    "the {} feed is `{kind}`; declare [[oracles]] asset = \"{}\" kind = \"{o}\" to use it",
                    mc.collateral, mc.collateral
                ),
            ));
        }
    }
    let params = MarketParams {
        loan_token: loan,
        collateral_token: collateral,
        irm,
        lltv,
    };
    let (loan_decimals, collateral_decimals) = (decimals(world, loan, path)?, decimals(world, collateral, path)?);
    let blue = &mut world.markets.morpho.blue;
    let (id, _) = blue
        .create_market(&mut world.ledger, params, start)
        .map_err(|e| err(path, format!("[{}] {e}", e.code())))?;
    if fee > U256::ZERO {
        blue.set_fee(id, fee, start)
            .map_err(|e| err(format!("{path}.fee"), format!("[{}] {e}", e.code())))?;
    }
    world.markets.morpho.markets.push(MorphoEntry {
        name: mc.name.clone(),
        id,
        loan,
        collateral,
        loan_decimals,
        collateral_decimals,
        liquidations: 0,
        bad_debt: U256::ZERO,
        eth_feed,
    });
    publish_eth_feeds(world, start).map_err(|e| err(path, format!("publishing the pool price failed: {e}")))?;
    Ok(())
}

fn build_positions(world: &mut World, mc: &MorphoCfg, k: usize, path: &str, start: u64) -> Result<(), ScenarioError> {
    let e = world.markets.morpho.markets[k].clone();
    let fail = |p: &str| {
        let p = p.to_string();
        move |x: EngineError| err(&p, format!("[{}] {}", x.rejection().code, x.rejection().message))
    };
    if let Some(s) = &mc.initial_supply {
        let p = format!("{path}.initial_supply");
        let a = amount_of(world, s, e.loan, &p)?;
        let acct = world.ledger.account(&format!("{}-supplier", mc.name));
        let (got, _) = acquire(world, acct, e.loan, a).map_err(fail(&p))?;
        apply_acct(
            world,
            acct,
            &MorphoAction::Supply {
                market: e.name.clone(),
                amount: got,
            },
        )
        .map_err(fail(&p))?;
    }
    for (b, bc) in mc.borrowers.iter().enumerate() {
        let bpath = format!("{path}.borrowers[{b}]");
        if bc.account.is_empty() || bc.account.contains(':') {
            return Err(err(format!("{bpath}.account"), "not a valid account name"));
        }
        let coll = amount_of(world, &bc.collateral, e.collateral, &format!("{bpath}.collateral"))?;
        let n = bc.count.unwrap_or(1);
        if n == 0 {
            return Err(err(format!("{bpath}.count"), "must be at least 1"));
        }
        let debt = match (&bc.borrow, &bc.ltv) {
            (Some(s), None) => Some(amount_of(world, s, e.loan, &format!("{bpath}.borrow"))?),
            (None, Some(_)) => None,
            _ => return Err(err(&bpath, "give exactly one of `borrow` and `ltv`")),
        };
        for i in 1..=n {
            let name = if n == 1 {
                bc.account.clone()
            } else {
                format!("{}-{i}", bc.account)
            };
            let acct = world.ledger.account(&name);
            let (got, _) = acquire(world, acct, e.collateral, coll).map_err(fail(&format!("{bpath}.collateral")))?;
            apply_acct(
                world,
                acct,
                &MorphoAction::SupplyCollateral {
                    market: e.name.clone(),
                    amount: got,
                },
            )
            .map_err(fail(&format!("{bpath}.collateral")))?;
            let amount = match (debt, &bc.ltv) {
                (Some(d), _) => d,
                (None, Some(s)) => {
                    let ltv = parse_wad_fraction(s).map_err(|x| err(format!("{bpath}.ltv"), x))?;
                    let price = oracle_price(&world.markets, k, start, None).map_err(|x| err(&bpath, x))?;
                    let value =
                        mo::mul_div_down(got, price, ORACLE_PRICE_SCALE).map_err(|x| err(&bpath, x.to_string()))?;
                    positive(
                        mo::w_mul_down(value, ltv).map_err(|x| err(&bpath, x.to_string()))?,
                        &format!("{bpath}.ltv"),
                    )?
                }
                _ => U256::ZERO,
            };
            apply_acct(
                world,
                acct,
                &MorphoAction::Borrow {
                    market: e.name.clone(),
                    amount,
                },
            )
            .map_err(fail(&format!("{bpath}.borrow")))?;
        }
    }
    Ok(())
}

fn build_agent(world: &mut World, a: &AgentCfg, path: &str) -> Result<(), ScenarioError> {
    let allowed: &[&str] = match a.kind.as_str() {
        "liquidator" => &["min_profit", "close"],
        "arbitrageur" => &["pool", "cost_of_capital", "mint"],
        "panic_seller" => &[
            "pool", "discount", "after", "delay", "tranches", "every", "tranche", "jitter",
        ],
        other => {
            return Err(err(
                format!("{path}.kind"),
                format!("unknown agent `{other}` (liquidator, arbitrageur, panic_seller)"),
            ))
        }
    };
    let given = [
        ("min_profit", a.min_profit.is_some()),
        ("close", a.close.is_some()),
        ("pool", a.pool.is_some()),
        ("cost_of_capital", a.cost_of_capital.is_some()),
        ("mint", a.mint.is_some()),
        ("discount", a.discount.is_some()),
        ("after", a.after.is_some()),
        ("delay", a.delay.is_some()),
        ("tranches", a.tranches.is_some()),
        ("every", a.every.is_some()),
        ("tranche", a.tranche.is_some()),
        ("jitter", a.jitter.is_some()),
    ];
    if let Some((key, _)) = given.iter().find(|(k, present)| *present && !allowed.contains(k)) {
        return Err(err(
            format!("{path}.{key}"),
            format!("`{key}` does not apply to kind = \"{}\"", a.kind),
        ));
    }
    match a.kind.as_str() {
        "arbitrageur" => return super::arbitrage::build(world, a, path),
        "panic_seller" => return super::panic_seller::build(world, a, path),
        _ => {}
    }
    if world.markets.liquidator.is_some() {
        return Err(err(path, "only one liquidator agent"));
    }
    if world.markets.aave.is_none() && world.markets.morpho.markets.is_empty() {
        return Err(err(path, "a liquidator needs [lending.aave] or [[lending.morpho]]"));
    }
    match a.close.as_deref().unwrap_or("max") {
        "max" => {}
        other => return Err(err(format!("{path}.close"), format!("unknown close `{other}` (max)"))),
    }
    let name = a.account.clone().unwrap_or_else(|| "liquidator".into());
    if name.is_empty() || name.contains(':') {
        return Err(err(format!("{path}.account"), "not a valid account name"));
    }
    let acct = world.ledger.account(&name);
    let min_profit_usd = match &a.min_profit {
        None => U256::ZERO,
        Some(s) => {
            let p = format!("{path}.min_profit");
            let t = s.trim();
            if let Some(usd) = t.strip_prefix('$') {
                stake_math::parse::parse_scaled(&usd.replace('_', ""), 8).map_err(|e| err(&p, format!("`{s}`: {e}")))?
            } else {
                let eth = world.eth_asset;
                let wei = amount_of(world, t, eth, &p).or_else(|_| {
                    if parse_amount(t, &|_| Some(18))
                        .map(|x| x.base == U256::ZERO)
                        .unwrap_or(false)
                    {
                        Ok(U256::ZERO)
                    } else {
                        Err(err(
                            &p,
                            format!("`{s}`: expected an ETH amount like `0.05 ETH` or `$100`"),
                        ))
                    }
                })?;
                let px = world
                    .markets
                    .eth_usd
                    .as_ref()
                    .map(|x| x.price_wad)
                    .unwrap_or(U256::ZERO);
                mul_div_down(wei, px, WAD).map_err(|e| err(&p, e.to_string()))? / U256::from(10_000_000_000u64)
            }
        }
    };
    fund_agent(world, acct, &a.balances, path)?;
    world.markets.liquidator = Some(Liquidator {
        account: acct,
        enabled: a.enabled.unwrap_or(true),
        min_profit_usd,
        stats: LiquidatorStats::default(),
    });
    Ok(())
}

/// Mints an agent's genesis `balances` (`["5_000 WETH"]`; WETH is backed by ETH in its reserve).
pub(crate) fn fund_agent(
    world: &mut World,
    acct: AccountId,
    balances: &[String],
    path: &str,
) -> Result<(), ScenarioError> {
    for (k, s) in balances.iter().enumerate() {
        let bpath = format!("{path}.balances[{k}]");
        let dec = |sym: &str| {
            world
                .ledger
                .asset(sym)
                .ok()
                .and_then(|id| world.ledger.asset_info(id).ok())
                .map(|a| a.decimals)
        };
        let am = parse_amount(s, &dec).map_err(|e| err(&bpath, e))?;
        let sym = am
            .asset
            .ok_or_else(|| err(&bpath, format!("`{s}` needs a unit, e.g. `100 WETH`")))?;
        let asset = world.ledger.asset(&sym).map_err(|e| err(&bpath, e.to_string()))?;
        if world.ledger.asset_info(asset).map(|i| i.kind).ok() != Some(AssetKind::Plain) {
            return Err(err(&bpath, format!("{sym} is a rebasing token")));
        }
        world
            .ledger
            .mint(acct, asset, am.base)
            .map_err(|e| err(&bpath, e.to_string()))?;
        if Some(asset) == world.markets.weth {
            if let Some(reserve) = world.markets.weth_reserve {
                let eth = world.eth_asset;
                world
                    .ledger
                    .mint(reserve, eth, am.base)
                    .map_err(|e| err(&bpath, e.to_string()))?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scripted actions
// ---------------------------------------------------------------------------------------------

fn need<'a>(v: &'a Option<String>, path: &str, key: &str) -> Result<&'a str, ScenarioError> {
    v.as_deref()
        .ok_or_else(|| err(format!("{path}.{key}"), format!("missing `{key}`")))
}

fn amount_or_all(world: &World, a: &ActionCfg, expect: AssetId, path: &str) -> Result<U256, ScenarioError> {
    let s = need(&a.amount, path, "amount")?;
    if s.trim() == "all" {
        return Ok(U256::MAX);
    }
    amount_of(world, s, expect, &format!("{path}.amount"))
}

/// A scripted Morpho action, or `None` if `a` is not one: `supply_collateral` /
/// `withdraw_collateral`, or a lending action (`supply`, `withdraw`, `borrow`, `repay`,
/// `liquidate`, `loop`) whose `market` is not `aave`.
pub(crate) fn schedule_action(a: &ActionCfg, path: &str, world: &World) -> Option<Result<MorphoAction, ScenarioError>> {
    let lending = ["supply", "withdraw", "borrow", "repay", "liquidate", "loop"];
    let collateral_op = ["supply_collateral", "withdraw_collateral"].contains(&a.op.as_str());
    let named = lending.contains(&a.op.as_str()) && a.market.as_deref().is_some_and(|m| m != "aave");
    if !collateral_op && !named {
        return None;
    }
    Some(schedule_inner(a, path, world))
}

fn schedule_inner(a: &ActionCfg, path: &str, world: &World) -> Result<MorphoAction, ScenarioError> {
    let market = need(&a.market, path, "market")?.to_string();
    let e = world
        .markets
        .morpho
        .markets
        .iter()
        .find(|m| m.name == market)
        .ok_or_else(|| {
            let names: Vec<&str> = world.markets.morpho.markets.iter().map(|m| m.name.as_str()).collect();
            err(
                format!("{path}.market"),
                format!(
                    "unknown lending market `{market}` (available: aave{}{})",
                    if names.is_empty() { "" } else { ", " },
                    names.join(", ")
                ),
            )
        })?
        .clone();
    let is_coll = matches!(a.op.as_str(), "supply_collateral" | "withdraw_collateral" | "loop");
    let token_asset = if is_coll { e.collateral } else { e.loan };
    if let Some(t) = &a.token {
        if world.ledger.asset(t).ok() != Some(token_asset) {
            return Err(err(
                format!("{path}.token"),
                format!(
                    "market `{market}` takes {} here, not {t}",
                    world.ledger.symbol(token_asset)
                ),
            ));
        }
    }
    Ok(match a.op.as_str() {
        "supply" => MorphoAction::Supply {
            amount: amount_or_all(world, a, e.loan, path)?,
            market,
        },
        "withdraw" => MorphoAction::Withdraw {
            amount: amount_or_all(world, a, e.loan, path)?,
            market,
        },
        "borrow" => {
            let amount = amount_or_all(world, a, e.loan, path)?;
            if amount == U256::MAX {
                return Err(err(format!("{path}.amount"), "borrow an exact amount"));
            }
            MorphoAction::Borrow { market, amount }
        }
        "repay" => MorphoAction::Repay {
            amount: amount_or_all(world, a, e.loan, path)?,
            market,
        },
        "supply_collateral" => MorphoAction::SupplyCollateral {
            amount: amount_or_all(world, a, e.collateral, path)?,
            market,
        },
        "withdraw_collateral" => MorphoAction::WithdrawCollateral {
            amount: amount_or_all(world, a, e.collateral, path)?,
            market,
        },
        "liquidate" => MorphoAction::Liquidate {
            borrower: need(&a.to, path, "to")?.to_string(),
            amount: match &a.amount {
                Some(_) => amount_or_all(world, a, e.loan, path)?,
                None => U256::MAX,
            },
            market,
        },
        _ => {
            let t = need(&a.target, path, "target")?;
            MorphoAction::Loop {
                amount: match &a.amount {
                    Some(_) => amount_or_all(world, a, e.collateral, path)?,
                    None => U256::ZERO,
                },
                target: parse_target(t, &format!("{path}.target"))?,
                market,
            }
        }
    })
}

fn parse_target(s: &str, path: &str) -> Result<LoopTarget, ScenarioError> {
    let t = s.trim().to_ascii_lowercase();
    let wad = |x: &str| stake_math::parse::parse_scaled(x.trim(), 18).map_err(|e| err(path, format!("`{s}`: {e}")));
    if let Some(x) = t.strip_suffix('x') {
        return Ok(LoopTarget::Leverage(wad(x)?));
    }
    if let Some(h) = t.strip_prefix("hf") {
        return Ok(LoopTarget::HealthFactor(wad(h)?));
    }
    Err(err(
        path,
        format!("`{s}`: expected a leverage like `3x` or a health factor like `hf 1.1`"),
    ))
}

// ---------------------------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------------------------

fn market_index(world: &World, name: &str) -> Result<usize, EngineError> {
    world
        .markets
        .morpho
        .markets
        .iter()
        .position(|m| m.name == name)
        .ok_or_else(|| proto(MorphoWiringError::UnknownMarket { market: name.into() }))
}

fn morpho_ev(market: &str, ev: Vec<MorphoEvent>) -> Vec<Event> {
    ev.into_iter()
        .map(|event| {
            Event::Market(MarketEvent::Morpho {
                market: market.to_string(),
                event,
            })
        })
        .collect()
}

/// Runs `f` on Morpho Blue with the oracle adapter (staleness checked).
fn with_blue<T>(
    world: &mut World,
    f: impl FnOnce(&mut MorphoBlue, &mut Ledger, &dyn MorphoOracle, u64) -> MorphoResult<T>,
) -> Result<T, EngineError> {
    let now = world.now;
    let MarketWorld {
        morpho,
        oracles,
        feeds,
        max_price_age,
        ..
    } = &mut world.markets;
    let MorphoWorld { blue, markets } = morpho;
    let px = MorphoPrices {
        feeds: FeedPrices {
            oracles,
            feeds,
            max_age: *max_price_age,
        },
        markets,
    };
    f(blue, &mut world.ledger, &px, now).map_err(proto)
}

fn resolve(world: &World, acct: AccountId, asset: AssetId, amount: U256) -> Result<U256, EngineError> {
    let a = if amount == U256::MAX {
        balance_of(world, acct, asset)?
    } else {
        amount
    };
    if a == U256::ZERO {
        return Err(proto(MarketError::ZeroAmount { what: "amount".into() }));
    }
    Ok(a)
}

/// Applies a Morpho action sent by `sender` (the caller restores the market state on error).
pub(crate) fn apply(world: &mut World, sender: &str, action: &MorphoAction) -> Result<Vec<Event>, EngineError> {
    let acct = world.ledger.account(sender);
    apply_acct(world, acct, action)
}

fn apply_acct(world: &mut World, acct: AccountId, action: &MorphoAction) -> Result<Vec<Event>, EngineError> {
    let k = market_index(world, action.market())?;
    let e = world.markets.morpho.markets[k].clone();
    let id = e.id;
    let zero = || proto(MarketError::ZeroAmount { what: "amount".into() });
    let ev = match action {
        MorphoAction::Supply { amount, .. } => {
            let a = resolve(world, acct, e.loan, *amount)?;
            with_blue(world, |mb, l, _, now| mb.supply(l, id, acct, a, U256::ZERO, now))?
        }
        MorphoAction::Withdraw { amount, .. } => {
            if *amount == U256::MAX {
                let shares = world.markets.morpho.blue.position(id, acct).supply_shares;
                if shares == U256::ZERO {
                    return Err(zero());
                }
                with_blue(world, |mb, l, _, now| mb.withdraw(l, id, acct, U256::ZERO, shares, now))?
            } else {
                with_blue(world, |mb, l, _, now| {
                    mb.withdraw(l, id, acct, *amount, U256::ZERO, now)
                })?
            }
        }
        MorphoAction::Borrow { amount, .. } => {
            if *amount == U256::ZERO || *amount == U256::MAX {
                return Err(proto(MarketError::ZeroAmount {
                    what: "borrow amount (an exact amount)".into(),
                }));
            }
            with_blue(world, |mb, l, px, now| {
                mb.borrow(l, px, id, acct, *amount, U256::ZERO, now)
            })?
        }
        MorphoAction::Repay { amount, .. } => {
            if *amount == U256::MAX {
                let mut ev = with_blue(world, |mb, _, _, now| mb.accrue_interest(id, now))?;
                let shares = world.markets.morpho.blue.position(id, acct).borrow_shares;
                if shares == U256::ZERO {
                    return Err(zero());
                }
                let owed = world.markets.morpho.blue.borrow_assets(id, acct).map_err(proto)?;
                let bal = world.ledger.balance(acct, e.loan);
                ev.extend(if bal >= owed {
                    with_blue(world, |mb, l, _, now| mb.repay(l, id, acct, U256::ZERO, shares, now))?
                } else {
                    if bal == U256::ZERO {
                        return Err(zero());
                    }
                    with_blue(world, |mb, l, _, now| mb.repay(l, id, acct, bal, U256::ZERO, now))?
                });
                ev
            } else {
                with_blue(world, |mb, l, _, now| mb.repay(l, id, acct, *amount, U256::ZERO, now))?
            }
        }
        MorphoAction::SupplyCollateral { amount, .. } => {
            let a = resolve(world, acct, e.collateral, *amount)?;
            with_blue(world, |mb, l, _, _| mb.supply_collateral(l, id, acct, a))?
        }
        MorphoAction::WithdrawCollateral { amount, .. } => {
            let a = if *amount == U256::MAX {
                world.markets.morpho.blue.position(id, acct).collateral
            } else {
                *amount
            };
            if a == U256::ZERO {
                return Err(zero());
            }
            with_blue(world, |mb, l, px, now| mb.withdraw_collateral(l, px, id, acct, a, now))?
        }
        MorphoAction::Liquidate { borrower, amount, .. } => {
            let b = world.ledger.find_account(borrower).map_err(|_| {
                proto(MorphoWiringError::UnknownAccount {
                    account: borrower.clone(),
                })
            })?;
            return liquidate(world, k, acct, b, *amount);
        }
        MorphoAction::Loop { amount, target, .. } => return run_loop(world, k, acct, *amount, *target),
    };
    Ok(morpho_ev(&e.name, ev))
}

/// The liquidation to perform on `borrower` in market `k` at `price`: `(seized, repaid_shares)`
/// (exactly one non-zero). `repay`: loan assets to repay, `MAX` = the maximum: all the debt if
/// the collateral covers it with the incentive, else all the collateral.
pub(crate) fn plan_liquidation(
    blue: &MorphoBlue,
    id: MarketId,
    borrower: AccountId,
    price: U256,
    repay: U256,
) -> MorphoResult<(U256, U256)> {
    let ms = blue.market(id)?;
    let m = &ms.market;
    let p = blue.position(id, borrower);
    if repay != U256::MAX {
        let shares = to_shares_down(repay, m.total_borrow_assets, m.total_borrow_shares)?.min(p.borrow_shares);
        return Ok((U256::ZERO, shares));
    }
    let lif = liquidation_incentive_factor(ms.params.lltv)?;
    let debt = to_assets_up(p.borrow_shares, m.total_borrow_assets, m.total_borrow_shares)?;
    let seize_all = mo::mul_div_down(mo::w_mul_down(debt, lif)?, ORACLE_PRICE_SCALE, price)?;
    if seize_all <= p.collateral {
        Ok((U256::ZERO, p.borrow_shares))
    } else {
        Ok((p.collateral, U256::ZERO))
    }
}

fn liquidate(
    world: &mut World,
    k: usize,
    liquidator: AccountId,
    borrower: AccountId,
    repay: U256,
) -> Result<Vec<Event>, EngineError> {
    let e = world.markets.morpho.markets[k].clone();
    let id = e.id;
    let mut ev = with_blue(world, |mb, _, _, now| mb.accrue_interest(id, now))?;
    let price = oracle_price(&world.markets, k, world.now, world.markets.max_price_age)
        .map_err(|message| proto(stake_markets::morpho::MorphoError::Oracle { id, message }))?;
    let (seized, shares) = plan_liquidation(&world.markets.morpho.blue, id, borrower, price, repay).map_err(proto)?;
    if seized == U256::ZERO && shares == U256::ZERO {
        // Nothing borrowed: let the protocol say whether the position is healthy.
        ev.extend(with_blue(world, |mb, l, px, now| {
            mb.liquidate(l, px, id, liquidator, borrower, U256::ZERO, U256::ONE, now)
        })?);
        return Ok(morpho_ev(&e.name, ev));
    }
    ev.extend(with_blue(world, |mb, l, px, now| {
        mb.liquidate(l, px, id, liquidator, borrower, seized, shares, now)
    })?);
    let entry = &mut world.markets.morpho.markets[k];
    for x in &ev {
        if let MorphoEvent::Liquidate { bad_debt_assets, .. } = x {
            entry.liquidations += 1;
            entry.bad_debt = entry.bad_debt.add_c(*bad_debt_assets).map_err(proto)?;
        }
    }
    Ok(morpho_ev(&e.name, ev))
}

fn unwrap_weth(world: &mut World, acct: AccountId, amount: U256) -> Result<(), EngineError> {
    let (Some(weth), Some(reserve)) = (world.markets.weth, world.markets.weth_reserve) else {
        return Err(proto(MarketError::UnknownAsset { asset: "WETH".into() }));
    };
    let eth = world.eth_asset;
    world.ledger.burn(acct, weth, amount).map_err(proto)?;
    world.ledger.transfer(reserve, acct, eth, amount).map_err(proto)?;
    Ok(())
}

fn run_loop(
    world: &mut World,
    k: usize,
    acct: AccountId,
    amount: U256,
    target: LoopTarget,
) -> Result<Vec<Event>, EngineError> {
    let e = world.markets.morpho.markets[k].clone();
    let id = e.id;
    if Some(e.loan) != world.markets.weth || super::ops::lst_of(world, e.collateral).is_none() {
        return Err(proto(MorphoWiringError::BadLoop {
            reason: "the loop borrows WETH and stakes it into an LST collateral".into(),
        }));
    }
    let lltv = world.markets.morpho.blue.market(id).map_err(proto)?.params.lltv;
    match target {
        LoopTarget::Leverage(l) if l < WAD => {
            return Err(proto(MorphoWiringError::BadLoop {
                reason: "leverage below 1x".into(),
            }))
        }
        LoopTarget::HealthFactor(h) if h <= WAD => {
            return Err(proto(MorphoWiringError::BadLoop {
                reason: "health factor target must be above 1".into(),
            }))
        }
        _ => {}
    }
    let mut events = Vec::new();
    if amount > U256::ZERO {
        events.extend(apply_acct(
            world,
            acct,
            &MorphoAction::SupplyCollateral {
                market: e.name.clone(),
                amount,
            },
        )?);
    }
    for _ in 0..40 {
        let price = oracle_price(&world.markets, k, world.now, world.markets.max_price_age)
            .map_err(|message| proto(stake_markets::morpho::MorphoError::Oracle { id, message }))?;
        let blue = &world.markets.morpho.blue;
        let (debt, max_borrow) = blue.health(id, acct, price).map_err(proto)?;
        let coll = mo::mul_div_down(blue.position(id, acct).collateral, price, ORACLE_PRICE_SCALE).map_err(proto)?;
        let equity = coll.saturating_sub(debt);
        // HF = LLTV·coll/debt: at steady state debt = equity·LLTV/(h − LLTV) (debt units per HF).
        let want = match target {
            LoopTarget::Leverage(l) => mul_div_down(equity, l - WAD, WAD).map_err(proto)?,
            LoopTarget::HealthFactor(h) => {
                if h <= lltv {
                    U256::ZERO
                } else {
                    mul_div_down(equity, lltv, h - lltv).map_err(proto)?
                }
            }
        };
        if want <= debt || want - debt <= equity / U256::from(10_000u32) {
            break;
        }
        let cap = mul_div_down(max_borrow, U256::from(9_990u32), U256::from(10_000u32))
            .map_err(proto)?
            .saturating_sub(debt);
        let wei = (want - debt).min(cap);
        if wei == U256::ZERO {
            break;
        }
        events.extend(apply_acct(
            world,
            acct,
            &MorphoAction::Borrow {
                market: e.name.clone(),
                amount: wei,
            },
        )?);
        unwrap_weth(world, acct, wei)?;
        let (got, ev) = eth_into(world, acct, e.collateral, wei)?;
        events.extend(ev);
        events.extend(apply_acct(
            world,
            acct,
            &MorphoAction::SupplyCollateral {
                market: e.name.clone(),
                amount: got,
            },
        )?);
    }
    Ok(events)
}

// ---------------------------------------------------------------------------------------------
// Frame hook and the liquidator
// ---------------------------------------------------------------------------------------------

/// Publishes the ETH-denominated pool prices of market oracles at `now`: the pool's state price
/// of its LST coin × the collateral's rate relative to that coin.
pub(crate) fn publish_eth_feeds(world: &mut World, now: u64) -> Result<Vec<Event>, EngineError> {
    let mut events = Vec::new();
    let mut done: Vec<FeedKey> = Vec::new();
    for k in 0..world.markets.morpho.markets.len() {
        let Some((key, pool)) = world.markets.morpho.markets[k].eth_feed else {
            continue;
        };
        if done.contains(&key) {
            continue;
        }
        done.push(key);
        let e = &world.markets.pools[pool];
        let coins = coins_of(world, e).map_err(proto)?;
        let eth = world.eth_asset;
        let sp = e.pool.state_price(&world.ledger, &coins, now).map_err(proto)?;
        let (lst_coin, peg) = if e.pool.coins[0] == eth {
            (e.pool.coins[1], sp)
        } else {
            (e.pool.coins[0], mul_div_down(WAD, WAD, sp).map_err(proto)?)
        };
        let rel = mul_div_down(rate_of(world, key.asset)?, WAD, rate_of(world, lst_coin)?).map_err(proto)?;
        let px = mul_div_down(peg, rel, WAD).map_err(proto)?;
        let ev = world.markets.oracles.observe(key, px, now).map_err(proto)?;
        events.extend(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))));
    }
    Ok(events)
}

/// Frame work of Morpho: publish the markets' pool prices, then accrue every market to `t`
/// (Morpho accrues on interaction; this keeps reports current).
pub(crate) fn accrue_all(world: &mut World, t: u64) -> Result<Vec<Event>, EngineError> {
    let mut events = publish_eth_feeds(world, t)?;
    for k in 0..world.markets.morpho.markets.len() {
        let e = world.markets.morpho.markets[k].clone();
        let ev = world.markets.morpho.blue.accrue_interest(e.id, t).map_err(proto)?;
        events.extend(morpho_ev(&e.name, ev));
    }
    Ok(events)
}

fn usd(world: &World, asset: AssetId, amount: U256) -> U256 {
    let m = &world.markets;
    let px = FeedPrices {
        oracles: &m.oracles,
        feeds: &m.feeds,
        max_age: None,
    };
    let Ok(p) = px.price_base(asset, world.now) else {
        return U256::ZERO;
    };
    let dec = world.ledger.asset_info(asset).map(|i| i.decimals).unwrap_or(18);
    pow10(u32::from(dec))
        .and_then(|d| mul_div_down(amount, p, d))
        .unwrap_or(U256::ZERO)
}

/// One liquidation the agent found: where, whom, and which assets.
enum Candidate {
    Aave {
        user: AccountId,
        collateral: AssetId,
        debt: AssetId,
    },
    Morpho {
        k: usize,
        user: AccountId,
    },
}

fn reject_hook(world: &mut World, hook: String, e: EngineError) {
    let t = world.now;
    world.hook_rejections.push(HookRejection {
        time: t,
        hook,
        rejection: e.rejection(),
    });
}

fn candidates(world: &mut World) -> Vec<(String, Candidate)> {
    let mut out: Vec<(String, Candidate)> = Vec::new();
    let now = world.now;
    // Aave: every user with HF < 1 at fresh prices, found through the liquidation index (only
    // the borrowers the prices can have made unhealthy are visited, each decided by the exact
    // health factor); the largest debt and collateral reserves.
    let aave_found = {
        let m = &world.markets;
        m.aave.as_ref().map(|a| {
            let px = FeedPrices {
                oracles: &m.oracles,
                feeds: &m.feeds,
                max_age: m.max_price_age,
            };
            a.liquidatable(&world.ledger, &px, now).map(|hfs| {
                let mut found = Vec::new();
                for (user, hf) in hfs {
                    if hf >= WAD {
                        continue;
                    }
                    let cfg = a.user_config(user);
                    let mut best_debt: Option<(U256, AssetId)> = None;
                    let mut best_coll: Option<(U256, AssetId)> = None;
                    for r in &a.reserves {
                        let bit = 1u128 << r.id;
                        if cfg.borrowing & bit != 0 {
                            let v = a
                                .debt_balance(&world.ledger, user, r.underlying, now)
                                .unwrap_or(U256::ZERO);
                            let v = usd(world, r.underlying, v);
                            if best_debt.is_none_or(|b| v > b.0) {
                                best_debt = Some((v, r.underlying));
                            }
                        }
                        if cfg.collateral & bit != 0 {
                            let v = a
                                .a_token_balance(&world.ledger, user, r.underlying, now)
                                .unwrap_or(U256::ZERO);
                            let v = usd(world, r.underlying, v);
                            if best_coll.is_none_or(|b| v > b.0) {
                                best_coll = Some((v, r.underlying));
                            }
                        }
                    }
                    if let (Some(d), Some(c)) = (best_debt, best_coll) {
                        found.push((
                            world.ledger.account_name(user).to_string(),
                            Candidate::Aave {
                                user,
                                collateral: c.1,
                                debt: d.1,
                            },
                        ));
                    }
                }
                found
            })
        })
    };
    match aave_found {
        Some(Ok(mut v)) => {
            v.sort_by(|a, b| a.0.cmp(&b.0));
            out.extend(v);
        }
        Some(Err(e)) => reject_hook(world, "liquidator aave".into(), proto(e)),
        None => {}
    }
    // Morpho: each market in order, borrowers by name.
    for k in 0..world.markets.morpho.markets.len() {
        let e = world.markets.morpho.markets[k].clone();
        let price = match oracle_price(&world.markets, k, now, world.markets.max_price_age) {
            Ok(p) => p,
            Err(message) => {
                if world
                    .markets
                    .morpho
                    .blue
                    .liquidation_index(e.id)
                    .is_some_and(|ix| !ix.is_empty())
                {
                    let err = proto(stake_markets::morpho::MorphoError::Oracle { id: e.id, message });
                    reject_hook(world, format!("liquidator {}", e.name), err);
                }
                continue;
            }
        };
        // Only the positions the price can have made liquidatable (the liquidation index), each
        // decided by the contract's exact health check.
        let blue = &world.markets.morpho.blue;
        let mut v: Vec<(String, Candidate)> = match (blue.market(e.id), blue.liquidation_index(e.id)) {
            (Ok(ms), Some(ix)) => ix
                .candidates(
                    price,
                    ms.params.lltv,
                    ms.market.total_borrow_assets,
                    ms.market.total_borrow_shares,
                )
                .into_iter()
                .filter(|u| blue.health(e.id, *u, price).map(|(b, m)| m < b).unwrap_or(false))
                .map(|u| {
                    (
                        world.ledger.account_name(u).to_string(),
                        Candidate::Morpho { k, user: u },
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        v.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(v);
    }
    out
}

/// One liquidation: `(repaid usd, seized usd, bad debt usd, events)`.
fn execute(world: &mut World, liq: AccountId, c: &Candidate) -> Result<(U256, U256, U256, Vec<Event>), EngineError> {
    match c {
        Candidate::Aave { user, collateral, debt } => {
            let now = world.now;
            let m = &mut world.markets;
            let px = FeedPrices {
                oracles: &m.oracles,
                feeds: &m.feeds,
                max_age: m.max_price_age,
            };
            let a = m
                .aave
                .as_mut()
                .ok_or_else(|| proto(MarketError::UnknownLendingMarket { market: "aave".into() }))?;
            let ev = a
                .liquidation_call(
                    &mut world.ledger,
                    &px,
                    liq,
                    *collateral,
                    *debt,
                    *user,
                    U256::MAX,
                    false,
                    now,
                )
                .map_err(proto)?;
            let (mut repaid, mut seized, mut bad) = (U256::ZERO, U256::ZERO, U256::ZERO);
            for x in &ev {
                match x {
                    AaveEvent::LiquidationCall {
                        collateral_asset,
                        debt_asset,
                        debt_to_cover,
                        liquidated_collateral,
                        ..
                    } => {
                        repaid = repaid.saturating_add(usd(world, *debt_asset, *debt_to_cover));
                        seized = seized.saturating_add(usd(world, *collateral_asset, *liquidated_collateral));
                    }
                    AaveEvent::DeficitCreated { asset, amount, .. } => {
                        bad = bad.saturating_add(usd(world, *asset, *amount));
                    }
                    _ => {}
                }
            }
            let events = ev.into_iter().map(|e| Event::Market(MarketEvent::Aave(e))).collect();
            Ok((repaid, seized, bad, events))
        }
        Candidate::Morpho { k, user } => {
            let ev = liquidate(world, *k, liq, *user, U256::MAX)?;
            let e = world.markets.morpho.markets[*k].clone();
            let (mut repaid, mut seized, mut bad) = (U256::ZERO, U256::ZERO, U256::ZERO);
            for x in &ev {
                if let Event::Market(MarketEvent::Morpho {
                    event:
                        MorphoEvent::Liquidate {
                            repaid_assets,
                            seized_assets,
                            bad_debt_assets,
                            ..
                        },
                    ..
                }) = x
                {
                    repaid = repaid.saturating_add(usd(world, e.loan, *repaid_assets));
                    seized = seized.saturating_add(usd(world, e.collateral, *seized_assets));
                    bad = bad.saturating_add(usd(world, e.loan, *bad_debt_assets));
                }
            }
            Ok((repaid, seized, bad, ev))
        }
    }
}

/// The lending protocol a liquidation went through, as it was before.
enum Touched {
    Aave(Option<stake_markets::aave::AaveV3>),
    Morpho(MorphoWorld),
}

impl Touched {
    fn restore(self, world: &mut World) {
        match self {
            Touched::Aave(a) => world.markets.aave = a,
            Touched::Morpho(m) => world.markets.morpho = m,
        }
    }
}

/// The liquidator agent: liquidates every position with HF < 1 (Aave first, then each Morpho
/// market; by account name) with the protocol's maximum, if the profit at the feeds is at least
/// `min_profit`. Rejections are recorded in `world.hook_rejections`; nothing aborts.
pub(crate) fn run_liquidator(world: &mut World) -> Vec<Event> {
    let Some(liq) = world.markets.liquidator.clone() else {
        return Vec::new();
    };
    if !liq.enabled {
        return Vec::new();
    }
    let mut events = Vec::new();
    for (name, c) in candidates(world) {
        // A liquidation changes the ledger and the one lending protocol it goes through: keep
        // only that protocol to undo it.
        let backup = match &c {
            Candidate::Aave { .. } => Touched::Aave(world.markets.aave.clone()),
            Candidate::Morpho { .. } => Touched::Morpho(world.markets.morpho.clone()),
        };
        let cp = world.ledger.checkpoint();
        let (protocol, market) = match &c {
            Candidate::Aave { .. } => ("aave".to_string(), "aave".to_string()),
            Candidate::Morpho { k, .. } => ("morpho".to_string(), world.markets.morpho.markets[*k].name.clone()),
        };
        match execute(world, liq.account, &c) {
            Ok((repaid, seized, bad, ev)) => {
                if seized < repaid || seized - repaid < liq.min_profit_usd {
                    world.ledger.rollback(cp);
                    backup.restore(world);
                    if let Some(l) = world.markets.liquidator.as_mut() {
                        l.stats.skipped += 1;
                    }
                    continue;
                }
                world.ledger.commit(cp);
                let profit = seized - repaid;
                if let Some(l) = world.markets.liquidator.as_mut() {
                    let s = &mut l.stats;
                    if protocol == "aave" {
                        s.aave += 1;
                    } else {
                        s.morpho += 1;
                    }
                    s.repaid_usd = s.repaid_usd.saturating_add(repaid);
                    s.seized_usd = s.seized_usd.saturating_add(seized);
                    s.profit_usd = s.profit_usd.saturating_add(profit);
                    s.bad_debt_usd = s.bad_debt_usd.saturating_add(bad);
                }
                events.extend(ev);
                events.push(Event::Market(MarketEvent::Liquidation {
                    protocol,
                    market,
                    borrower: name,
                    repaid_usd: repaid,
                    seized_usd: seized,
                    profit_usd: profit,
                    bad_debt_usd: bad,
                }));
            }
            Err(e) => {
                world.ledger.rollback(cp);
                backup.restore(world);
                if let Some(l) = world.markets.liquidator.as_mut() {
                    l.stats.failed += 1;
                }
                reject_hook(world, format!("liquidator {market} {name}"), e);
            }
        }
    }
    events
}

// ---------------------------------------------------------------------------------------------
// Reporting helpers (floats only here)
// ---------------------------------------------------------------------------------------------

/// A market's report.
pub(crate) struct MorphoView {
    pub(crate) supply: f64,
    pub(crate) borrow: f64,
    pub(crate) utilization_pct: f64,
    pub(crate) borrow_rate_per_second: U256,
    pub(crate) borrow_apy_pct: f64,
    pub(crate) supply_apy_pct: f64,
    pub(crate) rate_at_target_pct: f64,
    pub(crate) bad_debt: f64,
    pub(crate) hfs: Vec<f64>,
}

fn fdec(v: U256, dec: u8) -> f64 {
    v.as_f64() / 10f64.powi(i32::from(dec))
}

/// A market's report. `all`: the health factor of every borrower (for the summary); otherwise
/// only of the borrowers nearest to liquidation, found through the index (enough for the
/// per-step minimum health factor, without visiting every position).
pub(crate) fn view(world: &World, k: usize, all: bool) -> Option<MorphoView> {
    let e = world.markets.morpho.markets.get(k)?;
    let blue = &world.markets.morpho.blue;
    let ms = blue.market(e.id).ok()?;
    let m = &ms.market;
    let (rate, rat) = match ms.params.irm {
        Irm::AdaptiveCurve => {
            let (r, end) =
                adaptive_curve_borrow_rate(m.total_supply_assets, m.total_borrow_assets, m.rate_at_target, 0).ok()?;
            (r, end.as_u256())
        }
        Irm::Fixed { rate_per_second } => (rate_per_second, rate_per_second),
    };
    let year = stake_markets::oracle::ONE_YEAR as f64;
    let util = blue.utilization(e.id).ok()?.as_f64() / 1e18;
    let borrow_apy = ((rate.as_f64() / 1e18) * year).exp_m1();
    let fee = m.fee.as_f64() / 1e18;
    let price = oracle_price(&world.markets, k, world.now, None).ok();
    let mut hfs = Vec::new();
    if let Some(price) = price {
        let users: Vec<AccountId> = if all {
            blue.positions[e.id.0 as usize]
                .iter()
                .filter(|(_, p)| p.borrow_shares != U256::ZERO)
                .map(|(u, _)| *u)
                .collect()
        } else {
            blue.liquidation_index(e.id)
                .map(|ix| ix.nearest(price, ms.params.lltv))
                .unwrap_or_default()
        };
        for u in users {
            if let Ok((b, mx)) = blue.health(e.id, u, price) {
                if b > U256::ZERO {
                    hfs.push(mx.as_f64() / b.as_f64());
                }
            }
        }
    }
    Some(MorphoView {
        supply: fdec(m.total_supply_assets, e.loan_decimals),
        borrow: fdec(m.total_borrow_assets, e.loan_decimals),
        utilization_pct: util * 100.0,
        borrow_rate_per_second: rate,
        borrow_apy_pct: borrow_apy * 100.0,
        supply_apy_pct: borrow_apy * util * (1.0 - fee) * 100.0,
        rate_at_target_pct: rat.as_f64() / 1e18 * year * 100.0,
        bad_debt: fdec(e.bad_debt, e.loan_decimals),
        hfs,
    })
}

/// Metric columns of the Morpho markets and the liquidator.
pub(crate) fn columns(m: &MarketWorld) -> Vec<String> {
    let mut c = Vec::new();
    for e in &m.morpho.markets {
        for k in [
            "supply",
            "borrow",
            "utilization_pct",
            "borrow_apy_pct",
            "rate_at_target_pct",
            "min_hf",
            "bad_debt",
        ] {
            c.push(format!("{}.{k}", e.name));
        }
    }
    if m.liquidator.is_some() {
        c.push("liquidator.liquidations".into());
        c.push("liquidator.profit_usd".into());
    }
    c
}

/// Metric values, in the order of [`columns`].
pub(crate) fn sample(world: &World) -> Vec<f64> {
    let m = &world.markets;
    let mut v = Vec::new();
    for k in 0..m.morpho.markets.len() {
        match view(world, k, false) {
            Some(x) => v.extend([
                x.supply,
                x.borrow,
                x.utilization_pct,
                x.borrow_apy_pct,
                x.rate_at_target_pct,
                x.hfs.iter().copied().fold(f64::NAN, f64::min),
                x.bad_debt,
            ]),
            None => v.extend([0.0; 7]),
        }
    }
    if let Some(l) = &m.liquidator {
        v.push((l.stats.aave + l.stats.morpho) as f64);
        v.push(l.stats.profit_usd.as_f64() / 1e8);
    }
    v
}

fn buckets(h: &[f64]) -> (serde_json::Map<String, serde_json::Value>, String) {
    let mut out = serde_json::Map::new();
    let mut line = String::from("    health factors:");
    let mut lo = f64::NEG_INFINITY;
    for (name, hi) in super::report::HF_BUCKETS {
        let n = h.iter().filter(|x| **x >= lo && **x < hi).count();
        out.insert(name.into(), serde_json::json!(n));
        line.push_str(&format!(" {name}: {n}"));
        lo = hi;
    }
    let min = h.iter().copied().fold(f64::INFINITY, f64::min);
    if !h.is_empty() {
        line.push_str(&format!("  (min {min:.4})"));
    }
    (out, line)
}

/// Adds the Morpho markets and the liquidator to the summary.
pub(crate) fn summary(world: &World, j: &mut serde_json::Map<String, serde_json::Value>, text: &mut String) {
    use serde_json::json;
    let m = &world.markets;
    if !m.morpho.markets.is_empty() {
        text.push_str(&format!(
            "  {:<16} {:>12} {:>12} {:>8} {:>9} {:>9} {:>9} {:>10}\n",
            "morpho market", "supplied", "borrowed", "util", "borrow", "supply", "@target", "bad debt"
        ));
        let mut out = Vec::new();
        for (k, e) in m.morpho.markets.iter().enumerate() {
            let Some(x) = view(world, k, true) else { continue };
            let Ok(ms) = m.morpho.blue.market(e.id) else { continue };
            text.push_str(&format!(
                "  {:<16} {:>12.2} {:>12.2} {:>7.2}% {:>8.3}% {:>8.3}% {:>8.3}% {:>10.4}\n",
                e.name,
                x.supply,
                x.borrow,
                x.utilization_pct,
                x.borrow_apy_pct,
                x.supply_apy_pct,
                x.rate_at_target_pct,
                x.bad_debt
            ));
            let (hb, line) = buckets(&x.hfs);
            text.push_str(&line);
            text.push_str(&format!("  liquidations: {}\n", e.liquidations));
            let min = x.hfs.iter().copied().fold(f64::INFINITY, f64::min);
            out.push(json!({
                "name": e.name,
                "loan": world.ledger.symbol(e.loan),
                "collateral": world.ledger.symbol(e.collateral),
                "lltv": ms.params.lltv.to_string(),
                "total_supply_assets": ms.market.total_supply_assets.to_string(),
                "total_borrow_assets": ms.market.total_borrow_assets.to_string(),
                "utilization_pct": x.utilization_pct,
                "borrow_rate_per_second": x.borrow_rate_per_second.to_string(),
                "borrow_apy_pct": x.borrow_apy_pct,
                "supply_apy_pct": x.supply_apy_pct,
                "rate_at_target_apr_pct": x.rate_at_target_pct,
                "bad_debt": e.bad_debt.to_string(),
                "bad_debt_tokens": x.bad_debt,
                "liquidations": e.liquidations,
                "borrowers": x.hfs.len(),
                "health_factors": hb,
                "min_health_factor": if x.hfs.is_empty() { serde_json::Value::Null } else { json!(min) },
            }));
        }
        j.insert("morpho".into(), serde_json::Value::Array(out));
    }
    if let Some(l) = &m.liquidator {
        let s = &l.stats;
        let f = |v: U256| v.as_f64() / 1e8;
        text.push_str(&format!(
            "  liquidator {}: {} liquidations (aave {}, morpho {}), repaid ${:.2}, seized ${:.2}, profit ${:.2}, bad debt ${:.2}, skipped {}, failed {}\n",
            world.ledger.account_name(l.account),
            s.aave + s.morpho,
            s.aave,
            s.morpho,
            f(s.repaid_usd),
            f(s.seized_usd),
            f(s.profit_usd),
            f(s.bad_debt_usd),
            s.skipped,
            s.failed
        ));
        j.insert(
            "liquidator".into(),
            json!({
                "account": world.ledger.account_name(l.account),
                "liquidations": s.aave + s.morpho,
                "aave": s.aave,
                "morpho": s.morpho,
                "repaid_usd": f(s.repaid_usd),
                "seized_usd": f(s.seized_usd),
                "profit_usd": f(s.profit_usd),
                "bad_debt_usd": f(s.bad_debt_usd),
                "skipped": s.skipped,
                "failed": s.failed,
            }),
        );
    }
}
