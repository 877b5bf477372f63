//! Market actions, events and the frame hook.

use super::{coins_of, FeedPrices, FeedSource, MarketError, MarketWorld, PoolEntry};
use crate::action::Action;
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::lst::LstModel;
use crate::world::{HookRejection, World};
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Reject};
use stake_markets::aave::{AaveEvent, PriceSource};
use stake_markets::oracle::{FeedKey, OracleEvent, ONE_YEAR};
use stake_markets::pendle::approx::ApproxParams;
use stake_markets::pendle::PendleEvent;
use stake_markets::stableswap::StableSwapEvent;
use stake_math::signed::{to_signed, to_unsigned};
use stake_math::{isqrt, logexp, mul_div_down, Checked, I256, U256, WAD};

/// What a `loop` aims at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoopTarget {
    /// Collateral / equity, wad (3e18 = 3×).
    Leverage(U256),
    /// Health factor, wad.
    HealthFactor(U256),
}

/// Market actions (amount `U256::MAX` = the sender's whole balance).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MarketAction {
    /// Sell `amount` of `token_in` into the pool for the other coin.
    Swap {
        /// Pool name.
        pool: String,
        /// Coin sold.
        token_in: String,
        /// Amount sold.
        amount: U256,
        /// Minimum out.
        min_out: U256,
    },
    /// Deposit `amount` of one coin.
    AddLiquidity {
        /// Pool name.
        pool: String,
        /// Coin deposited.
        token: String,
        /// Amount.
        amount: U256,
    },
    /// Burn `amount` LP: into one coin (`token`) or proportionally.
    RemoveLiquidity {
        /// Pool name.
        pool: String,
        /// Coin to receive, or both.
        token: Option<String>,
        /// LP amount.
        amount: U256,
    },
    /// Aave supply.
    Supply {
        /// Asset.
        token: String,
        /// Amount.
        amount: U256,
    },
    /// Aave withdraw.
    Withdraw {
        /// Asset.
        token: String,
        /// Amount.
        amount: U256,
    },
    /// Aave borrow.
    Borrow {
        /// Asset.
        token: String,
        /// Amount.
        amount: U256,
    },
    /// Aave repay (with the underlying).
    Repay {
        /// Asset.
        token: String,
        /// Amount.
        amount: U256,
    },
    /// Aave e-mode category for the sender.
    SetEmode {
        /// Category (0 = none).
        category: u8,
    },
    /// Supply `amount` collateral, then borrow `debt`, unwrap, stake, wrap and resupply until the
    /// target is reached.
    Loop {
        /// Collateral asset (an LST token).
        collateral: String,
        /// Borrowed asset (WETH).
        debt: String,
        /// Initial collateral supplied (0 = none).
        amount: U256,
        /// Target.
        target: LoopTarget,
    },
    /// Aave liquidation call (the liquidator receives the underlying).
    Liquidate {
        /// Borrower.
        user: String,
        /// Collateral asset.
        collateral: String,
        /// Debt asset.
        debt: String,
        /// Debt to cover (MAX = as much as allowed).
        amount: U256,
    },
    /// ETH → WETH.
    WrapEth {
        /// Amount.
        amount: U256,
    },
    /// WETH → ETH.
    UnwrapEth {
        /// Amount.
        amount: U256,
    },
    /// Pendle: wrap `amount` underlying into SY and mint PT + YT.
    MintPy {
        /// Pendle market name.
        market: String,
        /// Underlying amount.
        amount: U256,
    },
    /// Pendle: wrap `amount` underlying into SY and buy PT with it.
    BuyPt {
        /// Pendle market name.
        market: String,
        /// Underlying amount.
        amount: U256,
        /// Minimum PT out.
        min_out: U256,
    },
    /// Pendle: sell `amount` PT for SY.
    SellPt {
        /// Pendle market name.
        market: String,
        /// PT amount.
        amount: U256,
        /// Minimum SY out.
        min_out: U256,
    },
    /// Pendle: YT swaps, redemption, claims and liquidity (see [`super::PendleOp`]).
    Pendle(super::PendleOp),
    /// System: sell `fraction_bps` of the pool's non-ETH coin for ETH (bought with fresh ETH by
    /// an outside seller unless `seller` is a scenario account holding it).
    SellOff {
        /// Pool name.
        pool: String,
        /// Fraction of the pool's balance, bps.
        fraction_bps: u64,
        /// Seller account.
        seller: String,
        /// Whether the seller acquires the coin first (outside money).
        acquire: bool,
    },
    /// System: liquidity providers pull `fraction_bps` of their LP tokens out of a pool — into
    /// one coin (`token`, e.g. the ETH side in a run on the pool) or proportionally.
    LiquidityWithdrawal {
        /// Pool name.
        pool: String,
        /// Fraction of the provider's LP balance, bps.
        fraction_bps: u64,
        /// Coin to receive, or both.
        token: Option<String>,
        /// The LP account (the pool's genesis provider `<pool>-lp` unless a scenario account).
        provider: String,
    },
    /// System: governance changes one parameter of an Aave reserve (through the configurator's
    /// checks: LT ≥ LTV, bonus > 100 %, `percentMul(LT, bonus)` ≤ 100 %, …); indices accrue to
    /// now under the old parameters first.
    AaveParameter {
        /// The reserve's asset symbol.
        token: String,
        /// The parameter and its new value.
        param: AaveParam,
    },
    /// System: start a random sell-off process on a pool (see `markets::processes`).
    StartSellOffs {
        /// Pool name.
        pool: String,
        /// Expected sell-offs per year, wad.
        per_year: U256,
        /// Mean size, bps of the pool's LST side.
        fraction_bps: u64,
        /// Size jitter, wad.
        jitter: U256,
        /// How long it runs, seconds (0: for ever).
        duration: u64,
    },
    /// System: multiply the ETH/USD price by `factor_bps / 1e4`.
    PriceShock {
        /// New / old, bps (7_000 = −30 %).
        factor_bps: u64,
    },
    /// System: freeze (or unfreeze) the feed of `asset` (`ETH` = ETH/USD); unfreeze after
    /// `duration` seconds if non-zero.
    OracleFreeze {
        /// Asset symbol.
        asset: String,
        /// Freeze or unfreeze.
        frozen: bool,
        /// Seconds until it unfreezes (0 = until told).
        duration: u64,
    },
    /// System: serve the feed of `asset` `lag` seconds late (0 = live again).
    OracleLag {
        /// Asset symbol (`ETH` = ETH/USD).
        asset: String,
        /// Seconds of lag.
        lag: u64,
    },
    /// System: override the price the feed of `asset` serves; restore it after `duration`
    /// seconds if non-zero.
    OracleManipulate {
        /// Asset symbol (`ETH` = ETH/USD).
        asset: String,
        /// The served price.
        price: PriceSet,
        /// Seconds until the override is removed (0 = until `oracle_restore`).
        duration: u64,
    },
    /// System: remove any override and lag of the feed of `asset`.
    OracleRestore {
        /// Asset symbol (`ETH` = ETH/USD).
        asset: String,
    },
    /// A Morpho Blue action.
    Morpho(super::morpho::MorphoAction),
}

/// A manipulated oracle price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceSet {
    /// USD per token, wad.
    UsdWad(U256),
    /// The current served price times `1 + change` (signed wad; −0.2e18 = −20 %).
    Relative(I256),
}

/// An Aave reserve parameter and its new value (bps for fractions, whole tokens for caps).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AaveParam {
    /// Loan-to-value, bps.
    Ltv(u32),
    /// Liquidation threshold, bps.
    LiquidationThreshold(u32),
    /// Liquidation bonus, bps (10,500 = 5 %).
    LiquidationBonus(u32),
    /// Reserve factor, bps.
    ReserveFactor(u32),
    /// Supply cap, whole tokens (0 = none).
    SupplyCap(U256),
    /// Borrow cap, whole tokens (0 = none).
    BorrowCap(U256),
    /// Whether it can be borrowed.
    Borrowable(bool),
    /// Frozen: no new supply or borrow.
    Frozen(bool),
    /// Paused: nothing at all.
    Paused(bool),
    /// Rate strategy: optimal usage, bps.
    OptimalUsage(u32),
    /// Rate strategy: base rate, bps.
    BaseRate(u32),
    /// Rate strategy: slope below optimal usage, bps.
    Slope1(u32),
    /// Rate strategy: slope above optimal usage, bps.
    Slope2(u32),
}

impl AaveParam {
    /// The configuration with this parameter set.
    pub fn apply_to(&self, c: &mut stake_markets::aave::ReserveConfig) {
        match *self {
            AaveParam::Ltv(v) => c.ltv_bps = v,
            AaveParam::LiquidationThreshold(v) => c.liquidation_threshold_bps = v,
            AaveParam::LiquidationBonus(v) => c.liquidation_bonus_bps = v,
            AaveParam::ReserveFactor(v) => c.reserve_factor_bps = v,
            AaveParam::SupplyCap(v) => c.supply_cap = v,
            AaveParam::BorrowCap(v) => c.borrow_cap = v,
            AaveParam::Borrowable(v) => c.borrowing_enabled = v,
            AaveParam::Frozen(v) => c.frozen = v,
            AaveParam::Paused(v) => c.paused = v,
            AaveParam::OptimalUsage(v) => c.rate.optimal_usage_bps = v,
            AaveParam::BaseRate(v) => c.rate.base_bps = v,
            AaveParam::Slope1(v) => c.rate.slope1_bps = v,
            AaveParam::Slope2(v) => c.rate.slope2_bps = v,
        }
    }
}

impl MarketAction {
    /// Whether only the system may send it.
    pub fn is_system(&self) -> bool {
        matches!(
            self,
            MarketAction::SellOff { .. }
                | MarketAction::LiquidityWithdrawal { .. }
                | MarketAction::AaveParameter { .. }
                | MarketAction::StartSellOffs { .. }
                | MarketAction::PriceShock { .. }
                | MarketAction::OracleFreeze { .. }
                | MarketAction::OracleLag { .. }
                | MarketAction::OracleManipulate { .. }
                | MarketAction::OracleRestore { .. }
        )
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
            MarketAction::Swap {
                pool, token_in, amount, ..
            } => format!("swap {} {token_in} on {pool}", amt(amount)),
            MarketAction::AddLiquidity { pool, token, amount } => {
                format!("add {} {token} to {pool}", amt(amount))
            }
            MarketAction::RemoveLiquidity { pool, token, amount } => match token {
                Some(t) => format!("remove {} LP of {pool} as {t}", amt(amount)),
                None => format!("remove {} LP of {pool}", amt(amount)),
            },
            MarketAction::Supply { token, amount } => format!("supply {} {token} to aave", amt(amount)),
            MarketAction::Withdraw { token, amount } => format!("withdraw {} {token} from aave", amt(amount)),
            MarketAction::Borrow { token, amount } => format!("borrow {} {token} from aave", amt(amount)),
            MarketAction::Repay { token, amount } => format!("repay {} {token} to aave", amt(amount)),
            MarketAction::SetEmode { category } => format!("set aave e-mode {category}"),
            MarketAction::Loop {
                collateral,
                debt,
                amount,
                target,
            } => {
                let t = match target {
                    LoopTarget::Leverage(l) => format!("{}x", crate::amount::format_units(*l, 18)),
                    LoopTarget::HealthFactor(h) => format!("HF {}", crate::amount::format_units(*h, 18)),
                };
                format!("loop {} {collateral} against {debt} to {t}", amt(amount))
            }
            MarketAction::Liquidate {
                user, collateral, debt, ..
            } => format!("liquidate {user} ({debt} debt, {collateral} collateral)"),
            MarketAction::WrapEth { amount } => format!("wrap {} ETH into WETH", amt(amount)),
            MarketAction::UnwrapEth { amount } => format!("unwrap {} WETH", amt(amount)),
            MarketAction::MintPy { market, amount } => format!("mint PT+YT of {market} with {}", amt(amount)),
            MarketAction::BuyPt { market, amount, .. } => format!("buy PT of {market} with {}", amt(amount)),
            MarketAction::SellPt { market, amount, .. } => format!("sell {} PT of {market}", amt(amount)),
            MarketAction::Pendle(op) => op.describe(),
            MarketAction::SellOff { pool, fraction_bps, .. } => {
                format!("sell-off of {}% of {pool}'s LST", *fraction_bps as f64 / 100.0)
            }
            MarketAction::AaveParameter { token, param } => format!("Aave governance sets {token} {param:?}"),
            MarketAction::StartSellOffs {
                pool,
                per_year,
                fraction_bps,
                ..
            } => format!(
                "random sell-offs on {pool}: {} a year of {}% on average",
                crate::amount::format_units(*per_year, 18),
                *fraction_bps as f64 / 100.0
            ),
            MarketAction::LiquidityWithdrawal {
                pool,
                fraction_bps,
                token,
                provider,
            } => format!(
                "{provider} withdraws {}% of its {pool} liquidity{}",
                *fraction_bps as f64 / 100.0,
                token.as_deref().map(|t| format!(" in {t}")).unwrap_or_default()
            ),
            MarketAction::PriceShock { factor_bps } => {
                format!("ETH/USD price shock ×{}", *factor_bps as f64 / 10_000.0)
            }
            MarketAction::OracleFreeze { asset, frozen, .. } => {
                format!("{} the {asset} oracle", if *frozen { "freeze" } else { "unfreeze" })
            }
            MarketAction::OracleLag { asset, lag } => format!("lag the {asset} oracle by {lag} s"),
            MarketAction::OracleManipulate { asset, price, .. } => match price {
                PriceSet::UsdWad(v) => {
                    format!(
                        "manipulate the {asset} oracle to ${}",
                        crate::amount::format_units(*v, 18)
                    )
                }
                PriceSet::Relative(c) => {
                    let sign = if c.is_negative() { "-" } else { "+" };
                    let pct = crate::amount::format_units(c.unsigned_abs(), 16);
                    format!("manipulate the {asset} oracle by {sign}{pct}%")
                }
            },
            MarketAction::OracleRestore { asset } => format!("restore the {asset} oracle"),
            MarketAction::Morpho(a) => a.describe(),
        }
    }
}

/// Market events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum MarketEvent {
    /// A pool event.
    Pool {
        /// Pool name.
        pool: String,
        /// Event.
        event: StableSwapEvent,
    },
    /// Aave.
    Aave(AaveEvent),
    /// Pendle.
    Pendle(PendleEvent),
    /// Oracle registry.
    Oracle(OracleEvent),
    /// ETH wrapped / unwrapped.
    Weth {
        /// Account.
        account: String,
        /// Signed: + wrap, − unwrap (wei).
        wrapped: bool,
        /// Amount.
        amount: U256,
    },
    /// The ETH/USD process moved.
    PriceMoved {
        /// New price, wad USD.
        price_wad: U256,
    },
    /// A Morpho Blue event.
    Morpho {
        /// Market name.
        market: String,
        /// Event.
        event: stake_markets::morpho::MorphoEvent,
    },
    /// The liquidator agent liquidated a position (values in USD, 8 decimals, at the feeds).
    Liquidation {
        /// `aave` or `morpho`.
        protocol: String,
        /// Market name (`aave` for Aave).
        market: String,
        /// Borrower.
        borrower: String,
        /// Debt repaid.
        repaid_usd: U256,
        /// Collateral received.
        seized_usd: U256,
        /// Collateral received − debt repaid.
        profit_usd: U256,
        /// Bad debt realised.
        bad_debt_usd: U256,
    },
}

fn me(e: MarketError) -> EngineError {
    proto(e)
}

fn pool_ev(pool: &str, ev: Vec<StableSwapEvent>) -> Vec<Event> {
    ev.into_iter()
        .map(|event| {
            Event::Market(MarketEvent::Pool {
                pool: pool.to_string(),
                event,
            })
        })
        .collect()
}

fn aave_ev(ev: Vec<AaveEvent>) -> Vec<Event> {
    ev.into_iter().map(|e| Event::Market(MarketEvent::Aave(e))).collect()
}

pub(crate) fn pendle_ev(ev: Vec<PendleEvent>) -> Vec<Event> {
    ev.into_iter().map(|e| Event::Market(MarketEvent::Pendle(e))).collect()
}

pub(crate) fn asset_id(world: &World, sym: &str) -> Result<AssetId, EngineError> {
    // A Pendle market's name also names its PT.
    super::pendle_ops::symbol_or_pt(world, sym).ok_or_else(|| me(MarketError::UnknownAsset { asset: sym.into() }))
}

/// Which LST issues `asset`: (index, is the wrapped token).
pub(crate) fn lst_of(world: &World, asset: AssetId) -> Option<(usize, bool)> {
    world.lsts.iter().enumerate().find_map(|(i, l)| match &l.model {
        LstModel::Lido(x) if x.steth_asset() == asset => Some((i, false)),
        LstModel::Lido(x) if x.wsteth_asset() == asset => Some((i, true)),
        LstModel::RocketPool(r) if r.reth == asset => Some((i, false)),
        LstModel::ExchangeRate(x) if x.token == asset => Some((i, false)),
        _ => None,
    })
}

/// ETH per whole token, wad (ETH, WETH and rebasing tokens: 1).
pub(crate) fn rate_of(world: &World, asset: AssetId) -> Result<U256, EngineError> {
    if asset == world.eth_asset || Some(asset) == world.markets.weth {
        return Ok(WAD);
    }
    match lst_of(world, asset) {
        Some((i, wrapped)) => match &world.lsts[i].model {
            LstModel::Lido(l) if wrapped => l.st_eth_per_token().map_err(proto),
            LstModel::Lido(_) => Ok(WAD),
            LstModel::RocketPool(r) => r.rate_wad().map_err(proto),
            LstModel::ExchangeRate(x) => Ok(x.rate_wad()),
        },
        None => crate::lrt::rate_of(world, asset)
            .or_else(|| super::morpho::token_rate(world, asset))
            .unwrap_or_else(|| {
                Err(me(MarketError::NotAcquirable {
                    asset: world.ledger.symbol(asset).into(),
                }))
            }),
    }
}

/// The USD feed of `asset` (`ETH` = ETH/USD).
fn feed_key_of(world: &World, asset: &str) -> Result<FeedKey, EngineError> {
    let id = asset_id(world, asset)?;
    if id == world.eth_asset {
        world.markets.eth_usd_key
    } else {
        world.markets.feeds.iter().find(|f| f.asset == id).map(|f| f.key)
    }
    .ok_or_else(|| me(MarketError::NoFeed { what: asset.into() }))
}

/// Balance of `asset` in token units (rebasing tokens through their issuer).
pub(crate) fn balance_of(world: &World, acct: AccountId, asset: AssetId) -> Result<U256, EngineError> {
    if let Some((i, false)) = lst_of(world, asset) {
        if let LstModel::Lido(l) = &world.lsts[i].model {
            return l.balance_of(&world.ledger, acct).map_err(proto);
        }
    }
    Ok(world.ledger.balance(acct, asset))
}

pub(crate) fn resolve(world: &World, acct: AccountId, asset: AssetId, amount: U256) -> Result<U256, EngineError> {
    let a = if amount == U256::MAX {
        balance_of(world, acct, asset)?
    } else {
        amount
    };
    if a == U256::ZERO {
        return Err(me(MarketError::ZeroAmount { what: "amount".into() }));
    }
    Ok(a)
}

fn weth_of(world: &World) -> Result<(AssetId, AccountId), EngineError> {
    match (world.markets.weth, world.markets.weth_reserve) {
        (Some(a), Some(r)) => Ok((a, r)),
        _ => Err(me(MarketError::UnknownAsset { asset: "WETH".into() })),
    }
}

fn wrap_eth(world: &mut World, acct: AccountId, amount: U256, wrap: bool) -> Result<Vec<Event>, EngineError> {
    let (weth, reserve) = weth_of(world)?;
    let eth = world.eth_asset;
    if wrap {
        world.ledger.transfer(acct, reserve, eth, amount).map_err(proto)?;
        world.ledger.mint(acct, weth, amount).map_err(proto)?;
    } else {
        world.ledger.burn(acct, weth, amount).map_err(proto)?;
        world.ledger.transfer(reserve, acct, eth, amount).map_err(proto)?;
    }
    Ok(vec![Event::Market(MarketEvent::Weth {
        account: world.ledger.account_name(acct).to_string(),
        wrapped: wrap,
        amount,
    })])
}

/// Converts `eth` wei held by `acct` into `asset` (stake, and wrap for a wrapped token); returns
/// the amount received.
pub(crate) fn eth_into(
    world: &mut World,
    acct: AccountId,
    asset: AssetId,
    eth: U256,
) -> Result<(U256, Vec<Event>), EngineError> {
    if asset == world.eth_asset {
        return Ok((eth, Vec::new()));
    }
    if Some(asset) == world.markets.weth {
        return Ok((eth, wrap_eth(world, acct, eth, true)?));
    }
    if let Some(lrt) = world.lrt.of_asset(asset).map(|e| e.symbol.clone()) {
        // An LRT is minted by depositing the ETH (its deposit rules and rate apply).
        let name = world.ledger.account_name(acct).to_string();
        let before = world.ledger.balance(acct, asset);
        let ev = crate::lrt::apply(world, &name, &crate::lrt::LrtAction::Deposit { lrt, amount: eth })?;
        let got = world.ledger.balance(acct, asset).sub_c(before).map_err(proto)?;
        return Ok((got, ev));
    }
    let (i, wrapped) = lst_of(world, asset).ok_or_else(|| {
        me(MarketError::NotAcquirable {
            asset: world.ledger.symbol(asset).into(),
        })
    })?;
    let sym = world.lsts[i].symbol.clone();
    let now = world.now;
    let mut events = Vec::new();
    let base = match &world.lsts[i].model {
        LstModel::Lido(l) => l.steth_asset(),
        LstModel::RocketPool(r) => r.reth,
        LstModel::ExchangeRate(x) => x.token,
    };
    let before = balance_of(world, acct, base)?;
    events.extend(world.lsts[i].user_op(
        &mut world.ledger,
        acct,
        &Action::Stake {
            lst: sym.clone(),
            amount: eth,
        },
        now,
    )?);
    let got = balance_of(world, acct, base)?.sub_c(before).map_err(proto)?;
    if !wrapped {
        return Ok((got, events));
    }
    let wbefore = world.ledger.balance(acct, asset);
    events.extend(world.lsts[i].user_op(&mut world.ledger, acct, &Action::Wrap { lst: sym, amount: got }, now)?);
    let wgot = world.ledger.balance(acct, asset).sub_c(wbefore).map_err(proto)?;
    Ok((wgot, events))
}

/// Gives `acct` about `amount` of `asset` bought with freshly minted ETH (outside money).
pub(crate) fn acquire(
    world: &mut World,
    acct: AccountId,
    asset: AssetId,
    amount: U256,
) -> Result<(U256, Vec<Event>), EngineError> {
    let rate = rate_of(world, asset)?;
    let mut eth = stake_math::mul_div_up(amount, rate, WAD).map_err(proto)?;
    if let Some((i, _)) = lst_of(world, asset) {
        if matches!(world.lsts[i].model, LstModel::RocketPool(_)) {
            // Rocket Pool's deposit fee: pay a little more.
            eth = eth.add_c(eth / 1000).map_err(proto)?;
        }
    }
    let eth_id = world.eth_asset;
    world.ledger.mint(acct, eth_id, eth).map_err(proto)?;
    eth_into(world, acct, asset, eth)
}

fn pool_coin(world: &World, p: usize, token: &str) -> Result<usize, EngineError> {
    let pool = &world.markets.pools[p].pool;
    let id = asset_id(world, token)?;
    pool.coins.iter().position(|c| *c == id).ok_or_else(|| {
        me(MarketError::NotInPool {
            pool: pool.name.clone(),
            token: token.into(),
        })
    })
}

fn sync_pool(world: &mut World, p: usize) -> Result<Vec<Event>, EngineError> {
    let coins = coins_of(world, &world.markets.pools[p]).map_err(me)?;
    let e = &mut world.markets.pools[p];
    let ev = e.pool.sync(&world.ledger, &coins).map_err(proto)?;
    e.rates = coins.rates();
    Ok(pool_ev(&e.pool.name, ev))
}

fn swap(
    world: &mut World,
    acct: AccountId,
    p: usize,
    i: usize,
    dx: U256,
    min_dy: U256,
) -> Result<(U256, Vec<Event>), EngineError> {
    let mut events = sync_pool(world, p)?;
    let coins = coins_of(world, &world.markets.pools[p]).map_err(me)?;
    let now = world.now;
    let e = &mut world.markets.pools[p];
    let (dy, ev) = e
        .pool
        .exchange(&mut world.ledger, &coins, acct, i, 1 - i, dx, min_dy, now)
        .map_err(proto)?;
    events.extend(pool_ev(&e.pool.name, ev));
    note_price(world, p);
    Ok((dy, events))
}

/// Burns `a` LP of pool `p` held by `acct`: into coin `token` or proportionally (no minimum out).
fn remove_liquidity(
    world: &mut World,
    acct: AccountId,
    p: usize,
    token: Option<&str>,
    a: U256,
) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let i = match token {
        Some(t) => Some(pool_coin(world, p, t)?),
        None => None,
    };
    let mut events = sync_pool(world, p)?;
    let coins = coins_of(world, &world.markets.pools[p]).map_err(me)?;
    let e = &mut world.markets.pools[p];
    let ev = match i {
        Some(i) => {
            e.pool
                .remove_liquidity_one_coin(&mut world.ledger, &coins, acct, a, i, U256::ZERO, now)
                .map_err(proto)?
                .1
        }
        None => {
            e.pool
                .remove_liquidity(&mut world.ledger, &coins, acct, a, [U256::ZERO; 2])
                .map_err(proto)?
                .1
        }
    };
    events.extend(pool_ev(&e.pool.name, ev));
    Ok(events)
}

/// Lowers the pool's `price_min` to its probe price now, if lower (a pool whose probe cannot be
/// quoted — an emptied side — leaves it as it was).
pub(crate) fn note_price(world: &mut World, p: usize) {
    let Ok(coins) = coins_of(world, &world.markets.pools[p]) else {
        return;
    };
    let e = &world.markets.pools[p];
    let i = e.sold_coin(world.eth_asset);
    if let Ok(px) = e.pool.probe_price(&world.ledger, &coins, i, 1 - i, world.now) {
        let e = &mut world.markets.pools[p];
        if e.price_min == U256::ZERO || px < e.price_min {
            e.price_min = px;
        }
    }
}

fn aave_id(world: &World) -> Result<(), EngineError> {
    world
        .markets
        .aave
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| me(MarketError::UnknownLendingMarket { market: "aave".into() }))
}

/// Runs `f` on Aave with the oracle adapter.
fn with_aave<T>(
    world: &mut World,
    f: impl FnOnce(
        &mut stake_markets::aave::AaveV3,
        &mut stake_ledger::Ledger,
        &dyn PriceSource,
        u64,
    ) -> Result<T, stake_markets::aave::AaveError>,
) -> Result<T, EngineError> {
    aave_id(world)?;
    let now = world.now;
    let MarketWorld {
        aave,
        oracles,
        feeds,
        max_price_age,
        ..
    } = &mut world.markets;
    let px = FeedPrices {
        oracles,
        feeds,
        max_age: *max_price_age,
    };
    let a = aave
        .as_mut()
        .ok_or_else(|| me(MarketError::UnknownLendingMarket { market: "aave".into() }))?;
    f(a, &mut world.ledger, &px, now).map_err(proto)
}

fn price_of(world: &World, asset: AssetId) -> Result<U256, EngineError> {
    let m = &world.markets;
    let px = FeedPrices {
        oracles: &m.oracles,
        feeds: &m.feeds,
        max_age: m.max_price_age,
    };
    px.price_base(asset, world.now)
        .map_err(|e| me(MarketError::NoFeed { what: e }))
}

/// What an action can change besides the ledger (which the world rolls back), kept to undo it:
/// only the part it touches. An action that is one atomic protocol call (an Aave or Morpho
/// operation, a wrap) keeps nothing: the protocol leaves its own state unchanged when it rejects.
/// Composite actions keep the pool, the protocol or — for loops, sell-offs and oracle controls —
/// the markets and the LSTs. Every rejection path is tested with an unchanged state hash.
enum Backup {
    Nothing,
    Pool(usize, Box<PoolEntry>),
    Morpho(Box<super::morpho::MorphoWorld>),
    Pendle(Box<(Option<stake_markets::pendle::Pendle>, Vec<super::PendleEntry>)>),
    All(Box<(MarketWorld, Vec<crate::lst::LstEntry>)>),
}

impl Backup {
    fn for_action(world: &World, action: &MarketAction) -> Backup {
        let m = &world.markets;
        match action {
            MarketAction::Swap { pool, .. }
            | MarketAction::AddLiquidity { pool, .. }
            | MarketAction::RemoveLiquidity { pool, .. }
            | MarketAction::LiquidityWithdrawal { pool, .. } => match m.pool_index(pool) {
                Ok(p) => Backup::Pool(p, Box::new(m.pools[p].clone())),
                Err(_) => Backup::Nothing,
            },
            // One call into Aave's configurator, which changes nothing when it rejects.
            MarketAction::AaveParameter { .. } => Backup::Nothing,
            // Checks the pool, then only pushes the process.
            MarketAction::StartSellOffs { .. } => Backup::Nothing,
            MarketAction::Supply { .. }
            | MarketAction::Withdraw { .. }
            | MarketAction::Borrow { .. }
            | MarketAction::Repay { .. }
            | MarketAction::SetEmode { .. }
            | MarketAction::WrapEth { .. }
            | MarketAction::UnwrapEth { .. } => Backup::Nothing,
            // One call into Morpho Blue, which restores itself on error.
            MarketAction::Morpho(
                super::morpho::MorphoAction::Supply { .. }
                | super::morpho::MorphoAction::Withdraw { .. }
                | super::morpho::MorphoAction::Borrow { .. }
                | super::morpho::MorphoAction::SupplyCollateral { .. }
                | super::morpho::MorphoAction::WithdrawCollateral { .. },
            ) => Backup::Nothing,
            // Accrual, then the operation.
            MarketAction::Morpho(a) if !matches!(a, super::morpho::MorphoAction::Loop { .. }) => {
                Backup::Morpho(Box::new(m.morpho.clone()))
            }
            MarketAction::SellPt { .. } | MarketAction::Pendle(_) => {
                Backup::Pendle(Box::new((m.pendle.clone(), m.pendle_markets.clone())))
            }
            _ => Backup::All(Box::new((m.clone(), world.lsts.clone()))),
        }
    }

    fn restore(self, world: &mut World) {
        match self {
            Backup::Nothing => {}
            Backup::Pool(p, e) => world.markets.pools[p] = *e,
            Backup::Morpho(m) => world.markets.morpho = *m,
            Backup::Pendle(b) => {
                let (p, entries) = *b;
                world.markets.pendle = p;
                world.markets.pendle_markets = entries;
            }
            Backup::All(b) => {
                let (m, l) = *b;
                world.markets = m;
                world.lsts = l;
            }
        }
    }
}

/// Applies an action of this layer, restoring what it touched on error (the world rolls the
/// ledger back).
pub fn apply(world: &mut World, sender: &str, action: &MarketAction) -> Result<Vec<Event>, EngineError> {
    let backup = Backup::for_action(world, action);
    let r = apply_inner(world, sender, action);
    if r.is_err() {
        backup.restore(world);
    }
    // Prices moved: the liquidator agent acts at once.
    if matches!(
        action,
        MarketAction::PriceShock { .. }
            | MarketAction::SellOff { .. }
            | MarketAction::LiquidityWithdrawal { .. }
            | MarketAction::AaveParameter { .. }
            | MarketAction::OracleFreeze { .. }
            | MarketAction::OracleLag { .. }
            | MarketAction::OracleManipulate { .. }
            | MarketAction::OracleRestore { .. }
    ) {
        return r.map(|mut ev| {
            ev.extend(super::after_price_move(world));
            ev
        });
    }
    r
}

fn apply_inner(world: &mut World, sender: &str, action: &MarketAction) -> Result<Vec<Event>, EngineError> {
    let acct = world.ledger.account(sender);
    let now = world.now;
    match action {
        MarketAction::Swap {
            pool,
            token_in,
            amount,
            min_out,
        } => {
            let p = world.markets.pool_index(pool).map_err(me)?;
            let i = pool_coin(world, p, token_in)?;
            let coin = world.markets.pools[p].pool.coins[i];
            let dx = resolve(world, acct, coin, *amount)?;
            // Token amounts → the pool's fair-value units (identity unless the coin is rated).
            let cv = coins_of(world, &world.markets.pools[p]).map_err(me)?;
            let out_coin = world.markets.pools[p].pool.coins[1 - i];
            let dx = cv.to_pool(coin, dx).map_err(proto)?;
            let min_out = cv.to_pool(out_coin, *min_out).map_err(proto)?;
            Ok(swap(world, acct, p, i, dx, min_out)?.1)
        }
        MarketAction::AddLiquidity { pool, token, amount } => {
            let p = world.markets.pool_index(pool).map_err(me)?;
            let i = pool_coin(world, p, token)?;
            let coin = world.markets.pools[p].pool.coins[i];
            let a = resolve(world, acct, coin, *amount)?;
            let mut events = sync_pool(world, p)?;
            let mut amounts = [U256::ZERO; 2];
            amounts[i] = coins_of(world, &world.markets.pools[p])
                .map_err(me)?
                .to_pool(coin, a)
                .map_err(proto)?;
            let coins = coins_of(world, &world.markets.pools[p]).map_err(me)?;
            let e = &mut world.markets.pools[p];
            let (_, ev) = e
                .pool
                .add_liquidity(&mut world.ledger, &coins, acct, amounts, U256::ZERO, now)
                .map_err(proto)?;
            events.extend(pool_ev(&e.pool.name, ev));
            Ok(events)
        }
        MarketAction::RemoveLiquidity { pool, token, amount } => {
            let p = world.markets.pool_index(pool).map_err(me)?;
            let lp = world.markets.pools[p].pool.lp_token;
            let a = resolve(world, acct, lp, *amount)?;
            remove_liquidity(world, acct, p, token.as_deref(), a)
        }
        MarketAction::StartSellOffs {
            pool,
            per_year,
            fraction_bps,
            jitter,
            duration,
        } => {
            world.markets.pool_index(pool).map_err(me)?;
            let until = if *duration == 0 {
                u64::MAX
            } else {
                now.saturating_add(*duration)
            };
            world.markets.sell_off_processes.push(super::SellOffProcess {
                pool: pool.clone(),
                per_year: *per_year,
                fraction_bps: *fraction_bps,
                jitter: *jitter,
                from: now,
                until,
                fired: 0,
            });
            Ok(Vec::new())
        }
        MarketAction::AaveParameter { token, param } => {
            let asset = asset_id(world, token)?;
            let a = world
                .markets
                .aave
                .as_mut()
                .ok_or_else(|| me(MarketError::UnknownLendingMarket { market: "aave".into() }))?;
            let i = a
                .reserves
                .iter()
                .position(|r| r.underlying == asset)
                .ok_or_else(|| proto(stake_markets::aave::AaveError::UnknownReserve { asset }))?;
            let mut config = a.reserves[i].config.clone();
            param.apply_to(&mut config);
            a.set_reserve_config(&world.ledger, asset, config, now).map_err(proto)?;
            Ok(Vec::new())
        }
        MarketAction::LiquidityWithdrawal {
            pool,
            fraction_bps,
            token,
            provider,
        } => {
            let p = world.markets.pool_index(pool).map_err(me)?;
            let lp = world.markets.pools[p].pool.lp_token;
            let who = world.ledger.account(provider);
            let a = world
                .ledger
                .balance(who, lp)
                .mul_c(U256::from(*fraction_bps))
                .map_err(proto)?
                / U256::from(10_000u32);
            if a == U256::ZERO {
                return Err(me(MarketError::ZeroAmount {
                    what: format!("{provider}'s LP in {pool}"),
                }));
            }
            remove_liquidity(world, who, p, token.as_deref(), a)
        }
        MarketAction::Supply { token, amount } => {
            let asset = asset_id(world, token)?;
            let a = resolve(world, acct, asset, *amount)?;
            Ok(aave_ev(with_aave(world, |p, l, _, now| {
                p.supply(l, acct, asset, a, now)
            })?))
        }
        MarketAction::Withdraw { token, amount } => {
            let asset = asset_id(world, token)?;
            aave_id(world)?;
            let a = if *amount == U256::MAX {
                let bal = world
                    .markets
                    .aave
                    .as_ref()
                    .map(|p| p.a_token_balance(&world.ledger, acct, asset, now))
                    .transpose()
                    .map_err(proto)?
                    .unwrap_or(U256::ZERO);
                if bal == U256::ZERO {
                    return Err(me(MarketError::ZeroAmount { what: "amount".into() }));
                }
                bal
            } else {
                *amount
            };
            Ok(aave_ev(with_aave(world, |p, l, px, now| {
                p.withdraw(l, px, acct, asset, a, now)
            })?))
        }
        MarketAction::Borrow { token, amount } => {
            let asset = asset_id(world, token)?;
            if *amount == U256::ZERO || *amount == U256::MAX {
                return Err(me(MarketError::ZeroAmount {
                    what: "borrow amount (an exact amount)".into(),
                }));
            }
            Ok(aave_ev(with_aave(world, |p, l, px, now| {
                p.borrow(l, px, acct, asset, *amount, now)
            })?))
        }
        MarketAction::Repay { token, amount } => {
            let asset = asset_id(world, token)?;
            let a = if *amount == U256::MAX { U256::MAX } else { *amount };
            let a = if a == U256::MAX {
                let debt = world
                    .markets
                    .aave
                    .as_ref()
                    .map(|p| p.debt_balance(&world.ledger, acct, asset, now))
                    .transpose()
                    .map_err(proto)?
                    .unwrap_or(U256::ZERO);
                debt.min(world.ledger.balance(acct, asset))
            } else {
                a
            };
            Ok(aave_ev(with_aave(world, |p, l, px, now| {
                p.repay(l, px, acct, asset, a, false, now)
            })?))
        }
        MarketAction::SetEmode { category } => Ok(aave_ev(with_aave(world, |p, l, px, now| {
            p.set_user_emode(l, px, acct, *category, now)
        })?)),
        MarketAction::Loop {
            collateral,
            debt,
            amount,
            target,
        } => run_loop(world, acct, collateral, debt, *amount, *target),
        MarketAction::Liquidate {
            user,
            collateral,
            debt,
            amount,
        } => {
            let c = asset_id(world, collateral)?;
            let d = asset_id(world, debt)?;
            let u = world
                .ledger
                .find_account(user)
                .map_err(|_| me(MarketError::UnknownAsset { asset: user.clone() }))?;
            Ok(aave_ev(with_aave(world, |p, l, px, now| {
                p.liquidation_call(l, px, acct, c, d, u, *amount, false, now)
            })?))
        }
        MarketAction::WrapEth { amount } => {
            let eth = world.eth_asset;
            let a = resolve(world, acct, eth, *amount)?;
            wrap_eth(world, acct, a, true)
        }
        MarketAction::UnwrapEth { amount } => {
            let (weth, _) = weth_of(world)?;
            let a = resolve(world, acct, weth, *amount)?;
            wrap_eth(world, acct, a, false)
        }
        MarketAction::MintPy { market, amount } | MarketAction::BuyPt { market, amount, .. } => {
            let k = world.markets.pendle_index(market).map_err(me)?;
            let e = world.markets.pendle_markets[k].clone();
            let a = resolve(world, acct, e.underlying, *amount)?;
            let p = world
                .markets
                .pendle
                .as_mut()
                .ok_or_else(|| me(MarketError::UnknownPendleMarket { market: market.clone() }))?;
            let mut ev = p.sy_deposit(&mut world.ledger, acct, e.sy, a).map_err(proto)?;
            match action {
                MarketAction::BuyPt { min_out, .. } => ev.extend(
                    p.swap_exact_sy_for_pt(
                        &mut world.ledger,
                        acct,
                        e.market,
                        a,
                        *min_out,
                        ApproxParams::default(),
                        now,
                    )
                    .map_err(proto)?,
                ),
                _ => ev.extend(p.mint_py(&mut world.ledger, acct, e.yc, a, now).map_err(proto)?),
            }
            Ok(pendle_ev(ev))
        }
        MarketAction::SellPt {
            market,
            amount,
            min_out,
        } => {
            let k = world.markets.pendle_index(market).map_err(me)?;
            let e = world.markets.pendle_markets[k].clone();
            let p = world
                .markets
                .pendle
                .as_mut()
                .ok_or_else(|| me(MarketError::UnknownPendleMarket { market: market.clone() }))?;
            let pt = p.yield_contracts[e.yc].pt;
            let a = if *amount == U256::MAX {
                world.ledger.balance(acct, pt)
            } else {
                *amount
            };
            Ok(pendle_ev(
                p.swap_exact_pt_for_sy(&mut world.ledger, acct, e.market, a, *min_out, now)
                    .map_err(proto)?,
            ))
        }
        MarketAction::Pendle(op) => super::pendle_ops::apply(world, acct, op),
        MarketAction::SellOff {
            pool,
            fraction_bps,
            seller,
            acquire: buy,
        } => {
            let p = world.markets.pool_index(pool).map_err(me)?;
            let eth = world.eth_asset;
            let coins = world.markets.pools[p].pool.coins;
            let i = if coins[0] == eth { 1 } else { 0 };
            let cview = coins_of(world, &world.markets.pools[p]).map_err(me)?;
            let bal = world.markets.pools[p]
                .pool
                .balances(&world.ledger, &cview)
                .map_err(proto)?;
            let dx = bal[i].mul_c(U256::from(*fraction_bps)).map_err(proto)? / U256::from(10_000u32);
            if dx == U256::ZERO {
                return Err(me(MarketError::ZeroAmount {
                    what: "sell-off amount".into(),
                }));
            }
            let s = world.ledger.account(seller);
            let mut events = Vec::new();
            // `dx` is in the pool's units; the seller deals in tokens.
            let dx = if *buy {
                let tokens = cview.to_tokens(coins[i], dx).map_err(proto)?;
                let before = balance_of(world, s, coins[i])?;
                let (_, ev) = acquire(world, s, coins[i], tokens)?;
                events.extend(ev);
                let got = balance_of(world, s, coins[i])?.sub_c(before).map_err(proto)?;
                let cv = coins_of(world, &world.markets.pools[p]).map_err(me)?;
                cv.to_pool(coins[i], got).map_err(proto)?.min(dx)
            } else {
                dx
            };
            events.extend(swap(world, s, p, i, dx, U256::ZERO)?.1);
            world.markets.sell_offs += 1;
            Ok(events)
        }
        MarketAction::PriceShock { factor_bps } => {
            let proc = world
                .markets
                .eth_usd
                .as_mut()
                .ok_or_else(|| me(MarketError::NoFeed { what: "ETH_USD".into() }))?;
            proc.price_wad =
                mul_div_down(proc.price_wad, U256::from(*factor_bps), U256::from(10_000u32)).map_err(proto)?;
            let price = proc.price_wad;
            let mut events = vec![Event::Market(MarketEvent::PriceMoved { price_wad: price })];
            events.extend(publish_prices(world, now)?);
            Ok(events)
        }
        MarketAction::OracleFreeze {
            asset,
            frozen,
            duration,
        } => {
            let key = feed_key_of(world, asset)?;
            let ev = world.markets.oracles.freeze(key, *frozen).map_err(proto)?;
            if *frozen && *duration > 0 {
                world.markets.unfreeze.push((now.saturating_add(*duration), key));
            }
            Ok(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))).collect())
        }
        MarketAction::OracleLag { asset, lag } => {
            let key = feed_key_of(world, asset)?;
            let ev = world.markets.oracles.lag(key, *lag).map_err(proto)?;
            Ok(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))).collect())
        }
        MarketAction::OracleManipulate { asset, price, duration } => {
            let key = feed_key_of(world, asset)?;
            let dec = world.markets.oracles.feed(key).map_err(proto)?.decimals;
            let scale = U256::from(10u8).pow(u32::from(dec));
            let value = match price {
                PriceSet::UsdWad(v) => mul_div_down(*v, scale, WAD).map_err(proto)?,
                PriceSet::Relative(change) => {
                    let cur = world.markets.oracles.price_unchecked(key, now).map_err(proto)?.value;
                    let factor =
                        to_unsigned(to_signed(WAD).map_err(proto)?.add_c(*change).map_err(proto)?).map_err(proto)?;
                    mul_div_down(cur, factor, WAD).map_err(proto)?
                }
            };
            if value == U256::ZERO {
                return Err(me(MarketError::ZeroAmount {
                    what: "manipulated price".into(),
                }));
            }
            let ev = world.markets.oracles.manipulate(key, Some(value), now).map_err(proto)?;
            if *duration > 0 {
                world.markets.restore.push((now.saturating_add(*duration), key));
            }
            Ok(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))).collect())
        }
        MarketAction::OracleRestore { asset } => {
            let key = feed_key_of(world, asset)?;
            let mut ev = world.markets.oracles.manipulate(key, None, now).map_err(proto)?;
            ev.extend(world.markets.oracles.lag(key, 0).map_err(proto)?);
            world.markets.restore.retain(|(_, k)| *k != key);
            Ok(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))).collect())
        }
        MarketAction::Morpho(a) => super::morpho::apply(world, sender, a),
    }
}

fn run_loop(
    world: &mut World,
    acct: AccountId,
    collateral: &str,
    debt: &str,
    amount: U256,
    target: LoopTarget,
) -> Result<Vec<Event>, EngineError> {
    let c = asset_id(world, collateral)?;
    let d = asset_id(world, debt)?;
    let (weth, _) = weth_of(world)?;
    if d != weth {
        return Err(me(MarketError::BadLoopTarget {
            reason: format!("the loop borrows WETH, not {debt}"),
        }));
    }
    if let LoopTarget::Leverage(l) = target {
        if l < WAD {
            return Err(me(MarketError::BadLoopTarget {
                reason: "leverage below 1x".into(),
            }));
        }
    }
    let mut events = Vec::new();
    if amount > U256::ZERO {
        let a = resolve(world, acct, c, amount)?;
        events.extend(aave_ev(with_aave(world, |p, l, _, now| p.supply(l, acct, c, a, now))?));
    }
    // Enter the e-mode category that has this collateral and borrows WETH, if any.
    if let Some(p) = &world.markets.aave {
        let (ci, di) = (p.reserve(c).map_err(proto)?.id, p.reserve(d).map_err(proto)?.id);
        let cat = p
            .emodes
            .iter()
            .find(|(_, e)| e.collateral_bitmap & (1u128 << ci) != 0 && e.borrowable_bitmap & (1u128 << di) != 0)
            .map(|(id, _)| *id);
        if let Some(cat) = cat {
            if p.user_config(acct).emode != cat {
                events.extend(aave_ev(with_aave(world, |p, l, px, now| {
                    p.set_user_emode(l, px, acct, cat, now)
                })?));
            }
        }
    }
    let weth_price = price_of(world, d)?;
    for _ in 0..40 {
        let now = world.now;
        let ad = {
            let m = &world.markets;
            let px = FeedPrices {
                oracles: &m.oracles,
                feeds: &m.feeds,
                max_age: m.max_price_age,
            };
            m.aave
                .as_ref()
                .map(|p| p.account_data(&world.ledger, &px, acct, now))
                .transpose()
                .map_err(proto)?
                .ok_or_else(|| me(MarketError::UnknownLendingMarket { market: "aave".into() }))?
        };
        let (coll, debt_b) = (ad.total_collateral_base, ad.total_debt_base);
        let equity = coll.saturating_sub(debt_b);
        let want = match target {
            LoopTarget::Leverage(l) => mul_div_down(equity, l - WAD, WAD).map_err(proto)?,
            LoopTarget::HealthFactor(h) => {
                let lt = ad
                    .avg_liquidation_threshold_bps
                    .mul_c(U256::from(100_000_000_000_000u64))
                    .map_err(proto)?;
                if h <= lt {
                    return Err(me(MarketError::BadLoopTarget {
                        reason: format!(
                            "health factor {} is not above the liquidation threshold {}",
                            crate::amount::format_units(h, 18),
                            crate::amount::format_units(lt, 18)
                        ),
                    }));
                }
                mul_div_down(equity, lt, h - lt).map_err(proto)?
            }
        };
        if want <= debt_b || want - debt_b <= equity / U256::from(10_000u32) {
            break;
        }
        let cap = mul_div_down(
            ad.available_borrows_base().map_err(proto)?,
            U256::from(9_990u32),
            U256::from(10_000u32),
        )
        .map_err(proto)?;
        let need = (want - debt_b).min(cap);
        let wei = mul_div_down(need, WAD, weth_price).map_err(proto)?;
        if wei == U256::ZERO {
            break;
        }
        events.extend(aave_ev(with_aave(world, |p, l, px, now| {
            p.borrow(l, px, acct, d, wei, now)
        })?));
        events.extend(wrap_eth(world, acct, wei, false)?);
        let (got, ev) = eth_into(world, acct, c, wei)?;
        events.extend(ev);
        events.extend(aave_ev(with_aave(world, |p, l, _, now| {
            p.supply(l, acct, c, got, now)
        })?));
    }
    Ok(events)
}

/// One GBM step of the ETH/USD process over `dt` seconds (integer wad math with `LogExpMath`;
/// the normal draw is Irwin–Hall: the sum of 12 uniforms minus 6).
pub(crate) fn step_price(p: &mut super::PriceProcess, dt: u64) -> Result<(), EngineError> {
    if p.vol_wad == U256::ZERO && p.drift_wad == I256::ZERO {
        return Ok(());
    }
    let z = super::price_paths::normal(&mut p.rng);
    let dt_wad = mul_div_down(U256::from(dt), WAD, U256::from(ONE_YEAR)).map_err(proto)?;
    let sqrt_dt = isqrt(dt_wad.mul_c(WAD).map_err(proto)?);
    let sig_sqrt = mul_div_down(p.vol_wad, sqrt_dt, WAD).map_err(proto)?;
    let var_half = mul_div_down(p.vol_wad, p.vol_wad, WAD).map_err(proto)? / 2;
    let wad_i = I256::from(1_000_000_000_000_000_000u64);
    let to_i = |v: U256| stake_math::signed::to_signed(v).map_err(proto);
    let drift = (p.drift_wad - to_i(var_half)?) * to_i(dt_wad)? / wad_i;
    let shock = to_i(sig_sqrt)? * z / wad_i;
    let factor = logexp::exp(drift + shock).map_err(proto)?;
    let factor = stake_math::signed::to_unsigned(factor).map_err(proto)?;
    p.price_wad = mul_div_down(p.price_wad, factor, WAD).map_err(proto)?;
    Ok(())
}

/// USD value (8 decimals) of a wad USD price.
fn usd8(wad: U256) -> U256 {
    wad / U256::from(10_000_000_000u64)
}

/// Publishes ETH/USD and every lending feed's observation at `now`.
pub(crate) fn publish_prices(world: &mut World, now: u64) -> Result<Vec<Event>, EngineError> {
    let mut events = Vec::new();
    let (Some(key), Some(p)) = (world.markets.eth_usd_key, world.markets.eth_usd.as_ref()) else {
        return Ok(events);
    };
    let eth_usd = p.price_wad;
    let ev = world.markets.oracles.set(key, usd8(eth_usd), now).map_err(proto)?;
    events.extend(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))));
    for k in 0..world.markets.feeds.len() {
        let f = world.markets.feeds[k].clone();
        let observed = match f.source {
            FeedSource::ExchangeRate => rate_of(world, f.asset)?,
            FeedSource::Pt { market, twap } => {
                events.extend(super::pt_oracle::observe(world, market, twap, now)?);
                eth_usd
            }
            FeedSource::Market { pool } => {
                let rate = rate_of(world, f.asset)?;
                let e = &world.markets.pools[pool];
                let coins = coins_of(world, e).map_err(me)?;
                let eth = world.eth_asset;
                // State price of coin 1 in coin 0; the LST side is the non-ETH coin.
                let sp = e.pool.state_price(&world.ledger, &coins, now).map_err(proto)?;
                let peg = if e.pool.coins[0] == eth {
                    sp
                } else {
                    mul_div_down(WAD, WAD, sp).map_err(proto)?
                };
                // The pool quotes the LST coin in fair-value units (1 unit = 1 ETH at the
                // protocol rate), so the asset's price is the peg times its own rate.
                let px = mul_div_down(peg, rate, WAD).map_err(proto)?;
                usd8(mul_div_down(px, eth_usd, WAD).map_err(proto)?)
            }
        };
        let ev = world.markets.oracles.observe(f.key, observed, now).map_err(proto)?;
        events.extend(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))));
    }
    Ok(events)
}

fn frame_work(world: &mut World, t: u64) -> Result<Vec<Event>, EngineError> {
    let mut events = Vec::new();
    let dt = world.frame_seconds;
    if let Some(p) = world.markets.eth_usd.as_mut() {
        super::price_paths::step(p, t, dt)?;
        let price = p.price_wad;
        events.push(Event::Market(MarketEvent::PriceMoved { price_wad: price }));
    }
    let due: Vec<_> = world
        .markets
        .unfreeze
        .iter()
        .filter(|(at, _)| *at <= t)
        .map(|x| x.1)
        .collect();
    world.markets.unfreeze.retain(|(at, _)| *at > t);
    for key in due {
        let ev = world.markets.oracles.freeze(key, false).map_err(proto)?;
        events.extend(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))));
    }
    let due: Vec<_> = world
        .markets
        .restore
        .iter()
        .filter(|(at, _)| *at <= t)
        .map(|x| x.1)
        .collect();
    world.markets.restore.retain(|(at, _)| *at > t);
    for key in due {
        let ev = world.markets.oracles.manipulate(key, None, t).map_err(proto)?;
        events.extend(ev.into_iter().map(|e| Event::Market(MarketEvent::Oracle(e))));
    }
    for p in 0..world.markets.pools.len() {
        events.extend(sync_pool(world, p)?);
    }
    events.extend(publish_prices(world, t)?);
    if let Some(a) = world.markets.aave.as_mut() {
        let assets: Vec<AssetId> = a.reserves.iter().map(|r| r.underlying).collect();
        for asset in assets {
            a.accrue(&world.ledger, asset, t).map_err(proto)?;
        }
    }
    events.extend(super::morpho::accrue_all(world, t)?);
    for k in 0..world.markets.pendle_markets.len() {
        let e = world.markets.pendle_markets[k].clone();
        let rate = rate_of(world, e.underlying)?;
        if let Some(p) = world.markets.pendle.as_mut() {
            events.extend(pendle_ev(p.set_sy_exchange_rate(e.sy, rate).map_err(proto)?));
        }
    }
    Ok(events)
}

/// Periodic work at each frame: the ETH/USD step, unfreezing, pool syncs (rebases accrue to LPs),
/// oracle updates, Aave accrual, Pendle SY exchange rates, the liquidator, each pool's `price_min`. A failure is recorded in
/// `world.hook_rejections` and the frame goes on with the markets unchanged.
pub fn on_frame(world: &mut World, t: u64) -> Vec<Event> {
    if world.markets.is_empty() {
        return Vec::new();
    }
    let backup = world.markets.clone();
    let cp = world.ledger.checkpoint();
    match frame_work(world, t) {
        Ok(mut ev) => {
            world.ledger.commit(cp);
            ev.extend(super::processes::on_frame(world, t));
            ev.extend(super::after_price_move(world));
            // Rates, rebases and amplification ramps move a pool's price without a swap.
            for p in 0..world.markets.pools.len() {
                note_price(world, p);
            }
            ev
        }
        Err(e) => {
            world.ledger.rollback(cp);
            world.markets = backup;
            world.hook_rejections.push(HookRejection {
                time: t,
                hook: "markets frame".into(),
                rejection: e.rejection(),
            });
            Vec::new()
        }
    }
}
