//! The engine's side of L4 markets (SPEC §7): oracles, StableSwap pools, Aave, Pendle, wired into
//! the world.
//!
//! Protocols never call each other: the engine reads the LST rates and pool prices, publishes
//! them to the oracle registry, adapts the registry to Aave's [`PriceSource`], and moves tokens
//! through the ledger for composite actions (a `loop` borrows WETH, unwraps it, stakes, wraps and
//! resupplies). Every composite action restores a copy of the market state and the LSTs on error;
//! the world rolls the ledger back.
//!
//! - `setup`: the scenario sections (`[market.X]`, `[[oracles]]`, `[[pools]]`, `[lending.aave]`,
//!   `[[pendle]]`) and [`build`];
//! - `ops`: actions, events and the frame hook;
//! - `report`: metric columns and the run summary;
//! - `calc`: `stakestack calc` functions;
//! - `pendle_ops`: YT swaps, PT+YT redemption, claims, Pendle liquidity, per-market figures;
//! - `pt_oracle`: PT collateral feeds (linear discount or TWAP implied rate);
//! - `price_paths`: the ETH/USD paths (constant, GBM, jump-diffusion, CSV replay).

mod arbitrage;
mod calc;
mod morpho;
mod ops;

/// Turns `eth` of `acct`'s ETH into `asset` through its protocol (LRT deposit, LST stake and wrap,
/// WETH); returns what was received.
pub(crate) fn eth_into_for(
    world: &mut crate::world::World,
    acct: stake_ledger::AccountId,
    asset: stake_ledger::AssetId,
    eth: stake_math::U256,
) -> Result<Vec<crate::event::Event>, crate::error::EngineError> {
    ops::eth_into(world, acct, asset, eth).map(|(_, ev)| ev)
}
mod panic_seller;
mod pendle_ops;
mod pool_coins;
mod price_paths;
mod processes;
mod pt_oracle;
mod report;
mod setup;
mod yieldspace_calc;

pub use arbitrage::{ArbitrageStats, Arbitrageur};
pub use panic_seller::{PanicSeller, PanicStats};
pub use pendle_ops::PendleOp;
pub use pool_coins::{CoinUnit, PoolCoins};
pub use price_paths::{data_files, parse_price_csv, JumpsCfg, PathModel};
pub use processes::SellOffProcess;

/// LP tokens are valued at their pool's virtual price (restaking strategies reuse it).
pub(crate) use morpho::{token_rate, MorphoPrices};
pub use morpho::{
    AgentCfg, Liquidator, LiquidatorStats, MorphoAction, MorphoBorrowerCfg, MorphoCfg, MorphoEntry, MorphoWiringError,
    MorphoWorld,
};
pub use ops::{apply, on_frame, AaveParam, LoopTarget, MarketAction, MarketEvent, PriceSet};
pub use report::{sample, summary};
pub use setup::{
    build, schedule_action, schedule_event, AaveCfg, AaveReserveCfg, EModeCfg, LendingCfg, OracleCfg, PendleCfg,
    PoolCfg, PriceProcessCfg,
};

use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AccountId, AssetId, Ledger, Reject};
use stake_markets::aave::{AaveV3, PriceSource};
use stake_markets::oracle::{FeedKey, Oracles};
use stake_markets::pendle::{MarketId, Pendle, SyId, YcId};
use stake_markets::stableswap::StableSwapPool;
use stake_math::{I256, U256};
use std::fmt;

/// Rejections of the engine's market wiring (codes 6900–6949; the protocols keep their own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarketError {
    /// No pool with this name.
    UnknownPool {
        /// Name asked for.
        pool: String,
    },
    /// The token is not one of the pool's coins.
    NotInPool {
        /// Pool.
        pool: String,
        /// Token.
        token: String,
    },
    /// No lending market with this name (only `aave` exists).
    UnknownLendingMarket {
        /// Name asked for.
        market: String,
    },
    /// No Pendle market with this name.
    UnknownPendleMarket {
        /// Name asked for.
        market: String,
    },
    /// No such asset.
    UnknownAsset {
        /// Symbol.
        asset: String,
    },
    /// The asset cannot be bought with ETH by the engine (no LST issues it).
    NotAcquirable {
        /// Symbol.
        asset: String,
    },
    /// The loop target cannot be reached (HF target at or below the liquidation threshold, or
    /// leverage below 1).
    BadLoopTarget {
        /// Why.
        reason: String,
    },
    /// A zero amount.
    ZeroAmount {
        /// What.
        what: String,
    },
    /// No price process / oracle for this.
    NoFeed {
        /// Asset or process.
        what: String,
    },
}

impl fmt::Display for MarketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarketError::UnknownPool { pool } => write!(f, "unknown pool `{pool}`"),
            MarketError::NotInPool { pool, token } => write!(f, "{token} is not a coin of pool `{pool}`"),
            MarketError::UnknownLendingMarket { market } => {
                write!(f, "unknown lending market `{market}` (available: aave)")
            }
            MarketError::UnknownPendleMarket { market } => write!(f, "unknown Pendle market `{market}`"),
            MarketError::UnknownAsset { asset } => write!(f, "unknown asset `{asset}`"),
            MarketError::NotAcquirable { asset } => {
                write!(
                    f,
                    "{asset} cannot be bought with ETH here (not ETH, WETH or an LST token)"
                )
            }
            MarketError::BadLoopTarget { reason } => write!(f, "loop target unreachable: {reason}"),
            MarketError::ZeroAmount { what } => write!(f, "{what} must be positive"),
            MarketError::NoFeed { what } => write!(f, "no oracle feed for {what}"),
        }
    }
}

impl Reject for MarketError {
    fn code(&self) -> u32 {
        match self {
            MarketError::UnknownPool { .. } => 6900,
            MarketError::NotInPool { .. } => 6901,
            MarketError::UnknownLendingMarket { .. } => 6902,
            MarketError::UnknownPendleMarket { .. } => 6903,
            MarketError::UnknownAsset { .. } => 6904,
            MarketError::NotAcquirable { .. } => 6905,
            MarketError::BadLoopTarget { .. } => 6906,
            MarketError::ZeroAmount { .. } => 6907,
            MarketError::NoFeed { .. } => 6908,
        }
    }
}

/// The exogenous ETH/USD process (`[market.ETH_USD]`): constant or a seeded GBM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceProcess {
    /// Name (`ETH_USD`).
    pub name: String,
    /// Current price, wad USD.
    pub price_wad: U256,
    /// Annual volatility, wad (0 = constant).
    pub vol_wad: U256,
    /// Annual drift, signed wad.
    pub drift_wad: I256,
    /// PRNG state (splitmix64).
    pub rng: u64,
    /// The path model (GBM when `vol`/`drift` are set, jumps, or a replayed series).
    #[serde(default)]
    pub path: PathModel,
}

/// Where a feed's observations come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedSource {
    /// The protocol exchange rate of the asset (ETH per token) × ETH/USD.
    ExchangeRate,
    /// The pool price × the asset's rate relative to the pool coin × ETH/USD.
    Market {
        /// Index into [`MarketWorld::pools`].
        pool: usize,
    },
    /// A Pendle PT: the feed is `ETH/USD × PT/ETH`, where the PT/ETH feed is a linear discount
    /// or the market's TWAP implied rate (see `pt_oracle`).
    Pt {
        /// Index into [`MarketWorld::pendle_markets`].
        market: usize,
        /// TWAP window in seconds (`None`: linear discount).
        twap: Option<u64>,
    },
}

/// A USD feed of an asset used by Aave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// The asset.
    pub asset: AssetId,
    /// Its feed in the registry.
    pub key: FeedKey,
    /// What is observed each frame.
    pub source: FeedSource,
}

/// A pool and the LST whose rebasing token it holds (if any).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolEntry {
    /// The pool.
    pub pool: StableSwapPool,
    /// Index of the LST (in `world.lsts`) whose rebasing token is a coin.
    pub rebasing_lst: Option<usize>,
    /// Exchange rate (wad) each rated coin was measured at by the last sync (0: not rated).
    #[serde(default)]
    pub rates: [U256; 2],
    /// The lowest probe price (see [`PoolEntry::sold_coin`]) the pool has shown: at setup and
    /// after every swap (wad; zero until first measured).
    #[serde(default)]
    pub price_min: U256,
    /// Every coin counted as tokens (`rates = "none"`): no oracle rate, so an exchange-rate
    /// token's pool price lags its protocol rate until trades move it.
    #[serde(default)]
    pub plain: bool,
}

impl PoolEntry {
    /// The asset of [`PoolEntry::sold_coin`] (stETH in a stETH/ETH pool).
    pub fn sold_asset(&self, eth: stake_ledger::AssetId) -> stake_ledger::AssetId {
        self.pool.coins[self.sold_coin(eth)]
    }

    /// The coin the pool's price is quoted for: the non-ETH coin (coin 1 unless coin 1 is ETH),
    /// sold for the other.
    pub fn sold_coin(&self, eth: stake_ledger::AssetId) -> usize {
        if self.pool.coins[1] == eth {
            0
        } else {
            1
        }
    }
}

/// A Pendle market of the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendleEntry {
    /// Scenario name.
    pub name: String,
    /// SY id.
    pub sy: SyId,
    /// Yield contract id.
    pub yc: YcId,
    /// Market id.
    pub market: MarketId,
    /// The SY's underlying token.
    pub underlying: AssetId,
    /// Expiry (Unix seconds).
    pub expiry: u64,
}

/// Market state of the world.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketWorld {
    /// ETH/USD process.
    pub eth_usd: Option<PriceProcess>,
    /// Oracle registry.
    pub oracles: Oracles,
    /// The ETH/USD feed key.
    pub eth_usd_key: Option<FeedKey>,
    /// USD feeds of lending assets.
    pub feeds: Vec<FeedEntry>,
    /// An optional staleness bound (seconds) for Aave and Morpho. Neither contract has one:
    /// `AaveOracle.getAssetPrice` and `MorphoChainlinkOracleV2.price` read the feed's latest answer
    /// whatever its age, so a frozen feed keeps them running at the old price — `None`, the
    /// default, is that. A scenario may set one (`lending.aave.max_price_age`) to model a
    /// stricter integration.
    pub max_price_age: Option<u64>,
    /// Feeds to unfreeze at a time.
    pub unfreeze: Vec<(u64, FeedKey)>,
    /// Feeds whose manipulated price is removed at a time.
    pub restore: Vec<(u64, FeedKey)>,
    /// StableSwap pools.
    pub pools: Vec<PoolEntry>,
    /// Aave v3.
    pub aave: Option<AaveV3>,
    /// Pendle deployment.
    pub pendle: Option<Pendle>,
    /// Pendle markets.
    pub pendle_markets: Vec<PendleEntry>,
    /// WETH (a 1:1 ETH wrapper).
    pub weth: Option<AssetId>,
    /// Account holding the ETH behind WETH.
    pub weth_reserve: Option<AccountId>,
    /// Sell-offs executed.
    pub sell_offs: u64,
    /// Morpho Blue markets.
    pub morpho: MorphoWorld,
    /// The liquidator agent (Aave and Morpho).
    pub liquidator: Option<Liquidator>,
    /// Arbitrageur agents (left out of the encoding when there are none, so that worlds without
    /// them keep their state hashes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arbitrageurs: Vec<Arbitrageur>,
    /// Panic sellers (left out of the encoding when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub panic_sellers: Vec<PanicSeller>,
    /// Random sell-off processes (left out of the encoding when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sell_off_processes: Vec<SellOffProcess>,
}

impl MarketWorld {
    /// Reseeds the random price processes (see [`World::reseed`](crate::world::World::reseed)).
    pub(crate) fn reseed(&mut self, seed: u64) {
        if let Some(p) = self.eth_usd.as_mut() {
            p.rng = price_paths::rng_seed(seed);
        }
    }

    /// Whether the scenario uses any market.
    pub fn is_empty(&self) -> bool {
        self.eth_usd.is_none()
            && self.pools.is_empty()
            && self.aave.is_none()
            && self.pendle.is_none()
            && self.morpho.markets.is_empty()
    }

    /// Invariants of every markets module: each pool's LP supply and plain coins, Aave's backing,
    /// Pendle's backing, the oracle registry, and WETH's reserve (ETH held ≤ WETH supply: WETH
    /// given to accounts at genesis is unbacked by design).
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, None)
    }

    /// The per-transaction subset of [`Self::check_invariants`]: pools, reserves and markets
    /// against the ledger, and the per-user rules of the `touched` accounts only. Costs the
    /// number of pools, reserves and markets plus the touched accounts, whatever the number of
    /// positions.
    pub fn check_touched(&self, ledger: &Ledger, touched: &stake_ledger::Touched) -> Result<(), String> {
        self.check_rules(ledger, Some(touched))
    }

    fn check_rules(&self, ledger: &Ledger, touched: Option<&stake_ledger::Touched>) -> Result<(), String> {
        for p in &self.pools {
            if p.rates == [U256::ZERO; 2] {
                p.pool.check_invariants(ledger)?;
            } else {
                pool_coins::check_rated_pool(&p.pool, p.rates, ledger)?;
            }
        }
        match touched {
            None => {
                if let Some(a) = &self.aave {
                    a.check_backing(ledger).map_err(|e| format!("aave: {e}"))?;
                }
                if let Some(p) = &self.pendle {
                    p.check_invariants(ledger).map_err(|e| format!("pendle: {e}"))?;
                }
                self.morpho.blue.check_invariants(ledger)?;
            }
            Some(t) => {
                if let Some(a) = &self.aave {
                    a.check_touched(ledger, &t.accounts).map_err(|e| format!("aave: {e}"))?;
                }
                if let Some(p) = &self.pendle {
                    p.check_backing(ledger).map_err(|e| format!("pendle: {e}"))?;
                }
                self.morpho.blue.check_backing(ledger)?;
            }
        }
        match touched {
            None => self.oracles.check_invariants(),
            Some(_) => self.oracles.check_recent(),
        }
        .map_err(|e| format!("oracles: {e}"))?;
        if let (Some(weth), Some(reserve)) = (self.weth, self.weth_reserve) {
            let backing = ledger.balance(reserve, ledger.asset("ETH").map_err(|e| e.to_string())?);
            if backing != ledger.supply(weth) {
                return Err(format!(
                    "WETH supply {} is not backed 1:1: the reserve holds {backing} wei",
                    ledger.supply(weth)
                ));
            }
        }
        Ok(())
    }

    /// Feeds the state into the world hash.
    pub fn hash_state(&self, h: &mut blake3::Hasher) {
        if !self.is_empty() {
            hash_serde(h, self);
        }
    }

    /// Metric columns.
    pub fn columns(&self) -> Vec<String> {
        report::columns(self)
    }

    pub(crate) fn pool_index(&self, name: &str) -> Result<usize, MarketError> {
        self.pools
            .iter()
            .position(|p| p.pool.name == name)
            .ok_or_else(|| MarketError::UnknownPool { pool: name.into() })
    }

    pub(crate) fn pendle_index(&self, name: &str) -> Result<usize, MarketError> {
        self.pendle_markets
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| MarketError::UnknownPendleMarket { market: name.into() })
    }
}

/// Aave's view of the oracle registry: USD feeds at 8 decimals, stale beyond `max_age`
/// (`None`: no staleness check, for reports).
pub(crate) struct FeedPrices<'a> {
    pub(crate) oracles: &'a Oracles,
    pub(crate) feeds: &'a [FeedEntry],
    pub(crate) max_age: Option<u64>,
}

impl PriceSource for FeedPrices<'_> {
    fn price_base(&self, asset: AssetId, now: u64) -> Result<U256, String> {
        let f = self
            .feeds
            .iter()
            .find(|f| f.asset == asset)
            .ok_or_else(|| format!("no feed for asset #{}", asset.0))?;
        let p = match self.max_age {
            Some(age) => self.oracles.price_max_age(f.key, now, age),
            None => self.oracles.price_unchecked(f.key, now),
        }
        .map_err(|e| e.to_string())?;
        Ok(p.value)
    }
}

/// The pool's view of its coins (see `pool_coins`): the rebasing coin at the LST's current
/// rate, exchange-rate tokens at their protocol rate, plain coins as they are.
pub(crate) fn coins_of(world: &crate::world::World, entry: &PoolEntry) -> Result<PoolCoins, MarketError> {
    let mut units = [CoinUnit::Plain; 2];
    for (k, coin) in entry.pool.coins.iter().enumerate() {
        if entry.plain {
            break;
        }
        units[k] = match ops::lst_of(world, *coin) {
            Some((i, false)) if entry.rebasing_lst == Some(i) => match world.lsts.get(i).map(|e| &e.model) {
                Some(crate::lst::LstModel::Lido(l)) => CoinUnit::Shares {
                    total_pooled: l.total_pooled_ether().unwrap_or(U256::ZERO),
                    total_shares: l.total_shares(),
                },
                _ => CoinUnit::Plain,
            },
            Some(_) => match ops::rate_of(world, *coin) {
                Ok(rate) if rate > U256::ZERO => CoinUnit::Rated { rate },
                _ => {
                    return Err(MarketError::NoFeed {
                        what: format!("the exchange rate of {}", world.ledger.symbol(*coin)),
                    })
                }
            },
            None => CoinUnit::Plain,
        };
    }
    Ok(PoolCoins {
        coins: entry.pool.coins,
        units,
    })
}

/// The agents that react to prices, in their order: panic sellers, arbitrageurs, the liquidator
/// (every frame, after a price event, and in a slashing transaction).
pub(crate) fn after_price_move(world: &mut crate::world::World) -> Vec<crate::event::Event> {
    if world.markets.is_empty() {
        return Vec::new();
    }
    let mut ev = panic_seller::run(world);
    ev.extend(arbitrage::run(world));
    ev.extend(morpho::run_liquidator(world));
    ev
}

/// Calc functions of this layer.
pub(crate) fn calc_functions() -> Vec<(&'static str, &'static str, crate::calc_fns::CalcFn)> {
    let mut v = calc::functions();
    v.extend(yieldspace_calc::functions());
    v
}
