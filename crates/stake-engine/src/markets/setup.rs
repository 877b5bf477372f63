//! Scenario sections of L4 and building them into the world.

use super::morpho::MorphoCfg;
use super::ops::AaveParam;
use super::ops::{acquire, asset_id, lst_of, publish_prices, LoopTarget, MarketAction, PriceSet};
use super::{coins_of, FeedEntry, FeedSource, MarketError, PendleEntry, PoolEntry, PriceProcess};
use crate::action::{Action, SYSTEM};
use crate::amount::{parse_amount, parse_bps, parse_wad_fraction};
use crate::lst::LstModel;
use crate::scenario::{ActionCfg, EventCfg, Scenario, ScenarioError};
use crate::time::{parse_at, parse_date, parse_duration};
use crate::world::World;
use serde::Deserialize;
use stake_ledger::{AssetId, AssetKind, Reject};
use stake_markets::aave::{AaveV3, RateStrategy, ReserveConfig, ReserveInit};
use stake_markets::oracle::{Denom, FeedKey, FeedKind};
use stake_markets::pendle::{Pendle, DEFAULT_INTEREST_FEE_RATE};
use stake_markets::stableswap::{PoolConfig, StableSwapPool, Variant};
use stake_math::{logexp, parse::parse_scaled, signed::to_signed, u, Checked, I256, U256, WAD};

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

fn rej<E: Reject>(path: &str) -> impl Fn(E) -> ScenarioError + '_ {
    move |e| err(path, format!("setting up failed: [{}] {e}", e.code()))
}

/// `[market.ETH_USD]`: the exogenous ETH/USD price.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceProcessCfg {
    /// `constant` (default), `gbm`, `jump_diffusion` or `replay`.
    pub model: Option<String>,
    /// Starting price in USD, e.g. `"3300"` (not for `replay`).
    pub start: Option<String>,
    /// Annual volatility (gbm), e.g. `"60%"`.
    pub vol: Option<String>,
    /// Annual drift (gbm), e.g. `"-10%"`.
    pub drift: Option<String>,
    /// Jumps (jump_diffusion): `{ per_year = 3, mean = "-12%", stdev = "8%" }`.
    pub jumps: Option<super::price_paths::JumpsCfg>,
    /// A `time,price` CSV relative to the scenario file (replay).
    pub path: Option<String>,
}

/// `[[oracles]]`: how a lending asset is priced.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleCfg {
    /// Asset symbol, e.g. `wstETH`.
    pub asset: String,
    /// `exchange_rate` (default: protocol rate × ETH/USD) or `market` (pool price).
    pub kind: Option<String>,
    /// The pool a `market` feed reads.
    pub pool: Option<String>,
    /// Deviation threshold for publishing, e.g. `"0.5%"` (default 0: every frame).
    pub deviation: Option<String>,
    /// `pt` feeds: the Pendle market (default: `asset`, a Pendle market name).
    pub market: Option<String>,
    /// `pt` feeds: linear discount `1 − max_rate·time_to_maturity`, e.g. `"15%"`.
    pub max_rate: Option<String>,
    /// `pt` feeds: TWAP window of the market's implied rate, e.g. `"30m"`, `"1d"`.
    pub twap: Option<String>,
}

/// `[[pools]]`: a two-coin StableSwap pool.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolCfg {
    /// Pool name, e.g. `steth-eth`.
    pub name: String,
    /// The two coins, e.g. `["ETH", "stETH"]`.
    pub coins: Vec<String>,
    /// Amplification `A` (whole units; default 50).
    pub a: Option<u64>,
    /// Swap fee, e.g. `"0.04%"` (default).
    pub fee: Option<String>,
    /// Admin share of fees, e.g. `"50%"` (default).
    pub admin_fee: Option<String>,
    /// `legacy` (default) or `ng`.
    pub variant: Option<String>,
    /// NG off-peg fee multiplier, e.g. `"2"` (default 2).
    pub offpeg_fee_multiplier: Option<String>,
    /// Initial liquidity, one amount per coin, e.g. `["100_000 ETH", "100_000 stETH"]`
    /// (bought with fresh ETH by the account `<name>-lp`).
    #[serde(default)]
    pub liquidity: Vec<String>,
    /// How the pool measures an exchange-rate coin: `oracle` (default: stableswap-ng's oracle
    /// asset type, `balance·rate/1e18`, so the pool reprices with the token's rate) or `none` (a
    /// standard coin, counted as tokens: the pool's price moves only when someone trades).
    pub rates: Option<String>,
}

/// `[[lending.aave.reserves]]`: a reserve (defaults: mainnet-like values for WETH, wstETH, rETH).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AaveReserveCfg {
    /// Underlying asset symbol.
    pub asset: String,
    /// Loan-to-value, e.g. `"80.5%"`.
    pub ltv: Option<String>,
    /// Liquidation threshold.
    pub liquidation_threshold: Option<String>,
    /// Liquidation bonus, e.g. `"105%"`.
    pub liquidation_bonus: Option<String>,
    /// Reserve factor.
    pub reserve_factor: Option<String>,
    /// Optimal usage `U*`.
    pub optimal_usage: Option<String>,
    /// Base variable rate.
    pub base_rate: Option<String>,
    /// Slope 1.
    pub slope1: Option<String>,
    /// Slope 2.
    pub slope2: Option<String>,
    /// Supply cap, whole tokens.
    pub supply_cap: Option<String>,
    /// Borrow cap, whole tokens.
    pub borrow_cap: Option<String>,
    /// Whether it can be borrowed.
    pub borrowable: Option<bool>,
    /// Isolation-mode debt ceiling in USD, e.g. `"5_000_000"` (default 0: not isolated).
    pub debt_ceiling: Option<String>,
    /// Whether users in isolation mode may borrow it (default false).
    pub borrowable_in_isolation: Option<bool>,
    /// Siloed borrowing: its borrowers may borrow nothing else (default false).
    pub siloed_borrowing: Option<bool>,
    /// Initial supply by the account `aave-genesis` (bought with fresh ETH), e.g. `"200_000 WETH"`.
    pub initial_supply: Option<String>,
}

/// `[[lending.aave.emodes]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EModeCfg {
    /// Category id (1–255).
    pub id: u8,
    /// Label.
    pub label: String,
    /// LTV.
    pub ltv: String,
    /// Liquidation threshold.
    pub liquidation_threshold: String,
    /// Liquidation bonus, e.g. `"101%"`.
    pub liquidation_bonus: String,
    /// Collateral assets.
    pub collateral: Vec<String>,
    /// Borrowable assets.
    pub borrowable: Vec<String>,
}

/// `[lending.aave]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AaveCfg {
    /// Reserves.
    #[serde(default)]
    pub reserves: Vec<AaveReserveCfg>,
    /// E-mode categories (default: `wstETH/ETH` 93.5 %/95.5 %/1 % and `rETH/ETH` 93 %/95 %/1 %
    /// when those reserves and WETH are listed).
    pub emodes: Option<Vec<EModeCfg>>,
    /// Consumers reject prices older than this (default `25h`).
    pub max_price_age: Option<String>,
}

/// `[lending]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LendingCfg {
    /// Aave v3.
    pub aave: Option<AaveCfg>,
    /// Morpho Blue markets.
    #[serde(default)]
    pub morpho: Vec<MorphoCfg>,
}

/// `[[pendle]]`: a PT/YT market on an LST token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendleCfg {
    /// Market name, e.g. `PT-wstETH-dec`.
    pub name: String,
    /// Yield-bearing token the SY wraps, e.g. `wstETH`.
    pub underlying: String,
    /// Expiry: a date or a duration from the start.
    pub expiry: String,
    /// `scalarRoot`, e.g. `"20"`.
    pub scalar_root: String,
    /// `initialAnchor`, e.g. `"1.05"`.
    pub initial_anchor: String,
    /// Fee rate (`lnFeeRateRoot = ln(1 + fee)`), e.g. `"0.05%"`.
    pub fee: Option<String>,
    /// Reserve share of fees, e.g. `"80%"`.
    pub reserve_fee: Option<String>,
    /// Initial liquidity in the underlying (half is tokenised into PT), bought by `<name>-lp`.
    pub liquidity: Option<String>,
}

fn bps_u32(s: &str, path: &str) -> Result<u32, ScenarioError> {
    let v = parse_bps(s).map_err(|e| err(path, e))?;
    u32::try_from(v).map_err(|_| err(path, "too large"))
}

fn dec_wad(s: &str, path: &str) -> Result<U256, ScenarioError> {
    parse_scaled(s, 18).map_err(|e| err(path, format!("`{s}`: {e}")))
}

fn signed_fraction(s: &str, path: &str) -> Result<I256, ScenarioError> {
    let t = s.trim();
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = parse_wad_fraction(rest).map_err(|e| err(path, e))?;
    let v = to_signed(v).map_err(|e| err(path, e.to_string()))?;
    Ok(if neg { -v } else { v })
}

fn amount(world: &World, s: &str, path: &str) -> Result<(AssetId, U256), ScenarioError> {
    let dec = |sym: &str| {
        world
            .ledger
            .asset(sym)
            .ok()
            .and_then(|id| world.ledger.asset_info(id).ok())
            .map(|a| a.decimals)
    };
    let a = parse_amount(s, &dec).map_err(|e| err(path, e))?;
    let sym = a
        .asset
        .ok_or_else(|| err(path, format!("`{s}` needs a unit, e.g. `100 ETH`")))?;
    let id = world.ledger.asset(&sym).map_err(|e| err(path, e.to_string()))?;
    Ok((id, a.base))
}

fn reserve_defaults(sym: &str) -> (u32, u32, u32, u32, RateStrategy, u128, u128, bool) {
    let rs = |o, b, s1, s2| RateStrategy {
        optimal_usage_bps: o,
        base_bps: b,
        slope1_bps: s1,
        slope2_bps: s2,
    };
    match sym {
        "WETH" => (
            8_050,
            8_300,
            10_500,
            1_500,
            rs(9_000, 0, 270, 8_000),
            3_200_000,
            2_900_000,
            true,
        ),
        "wstETH" => (
            7_850,
            8_100,
            10_600,
            500,
            rs(9_000, 0, 150, 8_500),
            1_200_000,
            12_000,
            true,
        ),
        "rETH" => (
            7_450,
            7_700,
            10_750,
            1_500,
            rs(4_500, 0, 700, 30_000),
            120_000,
            12_000,
            true,
        ),
        _ => (
            7_000,
            7_500,
            10_500,
            1_500,
            rs(4_500, 0, 700, 30_000),
            100_000,
            0,
            false,
        ),
    }
}

/// Builds the markets part of the world from the scenario (after L0 and L1).
pub fn build(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    let uses = !scn.lending.morpho.is_empty()
        || !scn.agents.is_empty()
        || !scn.market.is_empty()
        || !scn.pools.is_empty()
        || scn.lending.aave.is_some()
        || !scn.pendle.is_empty()
        || !scn.oracles.is_empty();
    if !uses {
        return Ok(());
    }
    // Lido's daily staking limit does not apply to genesis liquidity.
    let limits: Vec<(usize, bool)> = world
        .lsts
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match &l.model {
            LstModel::Lido(x) => Some((i, x.params().staking_limit_enabled)),
            _ => None,
        })
        .collect();
    for (i, _) in &limits {
        if let LstModel::Lido(x) = &mut world.lsts[*i].model {
            x.set_staking_limit_enabled(false, start).map_err(rej("lst"))?;
        }
    }
    let r = build_inner(world, scn, start);
    for (i, on) in &limits {
        if let LstModel::Lido(x) = &mut world.lsts[*i].model {
            x.set_staking_limit_enabled(*on, start).map_err(rej("lst"))?;
        }
    }
    r
}

fn build_inner(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    // WETH: a 1:1 ETH wrapper.
    let weth = world
        .ledger
        .register_asset("WETH", 18, "weth", AssetKind::Plain)
        .map_err(rej("lending"))?;
    world.markets.weth = Some(weth);
    world.markets.weth_reserve = Some(world.ledger.account("weth:reserve"));
    world.markets.max_price_age = None;

    // ETH/USD
    for (name, cfg) in &scn.market {
        if name != "ETH_USD" {
            return Err(err(format!("market.{name}"), "only the ETH_USD process is modelled"));
        }
        world.markets.eth_usd = Some(super::price_paths::build_process(
            name,
            cfg,
            scn.clock.seed,
            start,
            &scn.data,
        )?);
    }
    let needs_price = scn.lending.aave.is_some() || !scn.lending.morpho.is_empty();
    if needs_price && world.markets.eth_usd.is_none() {
        world.markets.eth_usd = Some(PriceProcess {
            name: "ETH_USD".into(),
            price_wad: u(3_000) * WAD,
            ..PriceProcess::default()
        });
    }
    if let Some(p) = &world.markets.eth_usd {
        let key = FeedKey {
            asset: world.eth_asset,
            denom: Denom::Usd,
        };
        let v = p.price_wad / U256::from(10_000_000_000u64);
        world
            .markets
            .oracles
            .add_feed(key, FeedKind::Fixed, 8, 86_400, U256::ZERO, Some(v), start)
            .map_err(rej("market.ETH_USD"))?;
        world.markets.eth_usd_key = Some(key);
    }

    // Pools
    for (k, pc) in scn.pools.iter().enumerate() {
        let path = format!("pools[{k}]");
        build_pool(world, pc, &path, start)?;
    }

    // Pendle (before Aave: a PT can be an Aave reserve)
    for (k, pc) in scn.pendle.iter().enumerate() {
        build_pendle(world, pc, &format!("pendle[{k}]"), start)?;
    }

    // Aave
    if let Some(ac) = &scn.lending.aave {
        build_aave(world, scn, ac, start)?;
    } else if !scn.oracles.is_empty() && scn.lending.morpho.is_empty() {
        return Err(err(
            "oracles",
            "oracles price lending assets: declare [lending.aave] or [[lending.morpho]] too",
        ));
    }
    super::morpho::build(world, scn, start)?;
    publish_prices(world, start).map_err(|e| err("market", format!("publishing prices failed: {e}")))?;
    Ok(())
}

fn build_pool(world: &mut World, pc: &PoolCfg, path: &str, start: u64) -> Result<(), ScenarioError> {
    if world.markets.pools.iter().any(|p| p.pool.name == pc.name) || pc.name.contains(':') || pc.name.is_empty() {
        return Err(err(
            format!("{path}.name"),
            format!("`{}` is taken or not a valid pool name", pc.name),
        ));
    }
    if pc.coins.len() != 2 {
        return Err(err(format!("{path}.coins"), "a pool has exactly two coins"));
    }
    let mut coins = [AssetId(0); 2];
    let mut rebasing = None;
    for (k, sym) in pc.coins.iter().enumerate() {
        let id = world
            .ledger
            .asset(sym)
            .map_err(|e| err(format!("{path}.coins[{k}]"), e.to_string()))?;
        let info = world.ledger.asset_info(id).map_err(|e| err(path, e.to_string()))?;
        if info.decimals != 18 {
            return Err(err(format!("{path}.coins[{k}]"), "pool coins must have 18 decimals"));
        }
        if info.kind == AssetKind::Shares {
            match lst_of(world, id) {
                Some((i, false)) if matches!(world.lsts[i].model, LstModel::Lido(_)) => rebasing = Some(i),
                _ => return Err(err(format!("{path}.coins[{k}]"), "unsupported rebasing coin")),
            }
        }
        coins[k] = id;
    }
    let fee = match &pc.fee {
        Some(s) => parse_fraction_1e10(s, &format!("{path}.fee"))?,
        None => U256::from(4_000_000u32),
    };
    let admin_fee = match &pc.admin_fee {
        Some(s) => parse_fraction_1e10(s, &format!("{path}.admin_fee"))?,
        None => U256::from(5_000_000_000u64),
    };
    let variant = match pc.variant.as_deref().unwrap_or("legacy") {
        "legacy" => Variant::Legacy,
        "ng" => {
            let m = match &pc.offpeg_fee_multiplier {
                Some(s) => dec_wad(s, &format!("{path}.offpeg_fee_multiplier"))? / U256::from(100_000_000u32),
                None => U256::from(20_000_000_000u64),
            };
            Variant::Ng {
                offpeg_fee_multiplier: m,
            }
        }
        v => {
            return Err(err(
                format!("{path}.variant"),
                format!("unknown variant `{v}` (legacy or ng)"),
            ))
        }
    };
    let pool = StableSwapPool::new(
        &mut world.ledger,
        PoolConfig {
            name: pc.name.clone(),
            coins,
            lp_symbol: format!("{}-LP", pc.name),
            a: U256::from(pc.a.unwrap_or(50)),
            fee,
            admin_fee,
            variant,
        },
    )
    .map_err(|e| err(path, format!("[{}] {e}", e.code())))?;
    let plain = match pc.rates.as_deref().unwrap_or("oracle") {
        "oracle" => false,
        "none" if rebasing.is_some() => {
            return Err(err(
                format!("{path}.rates"),
                "a rebasing coin is always counted by its issuer's shares",
            ))
        }
        "none" => true,
        other => {
            return Err(err(
                format!("{path}.rates"),
                format!("unknown rates `{other}` (oracle or none)"),
            ))
        }
    };
    world.markets.pools.push(PoolEntry {
        pool,
        rebasing_lst: rebasing,
        rates: [U256::ZERO; 2],
        price_min: U256::ZERO,
        plain,
    });
    let p = world.markets.pools.len() - 1;
    if pc.liquidity.is_empty() {
        return Ok(());
    }
    if pc.liquidity.len() != 2 {
        return Err(err(format!("{path}.liquidity"), "one amount per coin"));
    }
    let lp = world.ledger.account(&format!("{}-lp", pc.name));
    let mut amounts = [U256::ZERO; 2];
    for (k, s) in pc.liquidity.iter().enumerate() {
        let lpath = format!("{path}.liquidity[{k}]");
        let (id, a) = amount(world, s, &lpath)?;
        if id != coins[k] {
            return Err(err(&lpath, format!("expected an amount of {}", pc.coins[k])));
        }
        let before = super::ops::balance_of(world, lp, id).map_err(|e| err(&lpath, e.to_string()))?;
        acquire(world, lp, id, a).map_err(|e| err(&lpath, e.to_string()))?;
        let after = super::ops::balance_of(world, lp, id).map_err(|e| err(&lpath, e.to_string()))?;
        amounts[k] = after.saturating_sub(before).min(a);
    }
    let coins_view = coins_of(world, &world.markets.pools[p]).map_err(|e| err(path, e.to_string()))?;
    for k in 0..2 {
        // Tokens → the pool's fair-value units (see `pool_coins`).
        amounts[k] = coins_view.to_pool(coins[k], amounts[k]).map_err(rej(path))?;
    }
    let e = &mut world.markets.pools[p];
    e.rates = coins_view.rates();
    e.pool
        .add_liquidity(&mut world.ledger, &coins_view, lp, amounts, U256::ZERO, start)
        .map_err(rej(path))?;
    super::ops::note_price(world, p);
    Ok(())
}

fn parse_fraction_1e10(s: &str, path: &str) -> Result<U256, ScenarioError> {
    stake_math::parse::parse_fraction(s, U256::from(10_000_000_000u64)).map_err(|e| err(path, format!("`{s}`: {e}")))
}

fn build_aave(world: &mut World, scn: &Scenario, ac: &AaveCfg, start: u64) -> Result<(), ScenarioError> {
    if let Some(s) = &ac.max_price_age {
        world.markets.max_price_age = Some(parse_duration(s).map_err(|e| err("lending.aave.max_price_age", e))?);
    }
    let mut pool = AaveV3::new();
    let mut listed = Vec::new();
    for (k, rc) in ac.reserves.iter().enumerate() {
        let path = format!("lending.aave.reserves[{k}]");
        let asset = super::pendle_ops::symbol_or_pt(world, &rc.asset)
            .ok_or_else(|| err(format!("{path}.asset"), format!("unknown asset `{}`", rc.asset)))?;
        if world.ledger.asset_info(asset).map(|i| i.kind).ok() != Some(AssetKind::Plain) {
            return Err(err(
                format!("{path}.asset"),
                "a reserve needs a plain (non-rebasing) token",
            ));
        }
        let (ltv, lt, lb, rf, rate, cap_s, cap_b, borrowable) = reserve_defaults(&rc.asset);
        let b = |v: &Option<String>, d: u32, key: &str| -> Result<u32, ScenarioError> {
            match v {
                Some(s) => bps_u32(s, &format!("{path}.{key}")),
                None => Ok(d),
            }
        };
        let whole = |v: &Option<String>, d: u128, key: &str| -> Result<U256, ScenarioError> {
            match v {
                Some(s) => parse_scaled(s, 0).map_err(|e| err(format!("{path}.{key}"), format!("`{s}`: {e}"))),
                None => Ok(U256::from(d)),
            }
        };
        let config = ReserveConfig {
            ltv_bps: b(&rc.ltv, ltv, "ltv")?,
            liquidation_threshold_bps: b(&rc.liquidation_threshold, lt, "liquidation_threshold")?,
            liquidation_bonus_bps: b(&rc.liquidation_bonus, lb, "liquidation_bonus")?,
            reserve_factor_bps: b(&rc.reserve_factor, rf, "reserve_factor")?,
            liquidation_protocol_fee_bps: 1_000,
            supply_cap: whole(&rc.supply_cap, cap_s, "supply_cap")?,
            borrow_cap: whole(&rc.borrow_cap, cap_b, "borrow_cap")?,
            borrowing_enabled: rc.borrowable.unwrap_or(borrowable),
            active: true,
            frozen: false,
            paused: false,
            debt_ceiling: match &rc.debt_ceiling {
                Some(s) => parse_scaled(s, u32::from(stake_markets::aave::DEBT_CEILING_DECIMALS))
                    .map_err(|e| err(format!("{path}.debt_ceiling"), format!("`{s}`: {e}")))?,
                None => U256::ZERO,
            },
            borrowable_in_isolation: rc.borrowable_in_isolation.unwrap_or(false),
            siloed_borrowing: rc.siloed_borrowing.unwrap_or(false),
            rate: RateStrategy {
                optimal_usage_bps: b(&rc.optimal_usage, rate.optimal_usage_bps, "optimal_usage")?,
                base_bps: b(&rc.base_rate, rate.base_bps, "base_rate")?,
                slope1_bps: b(&rc.slope1, rate.slope1_bps, "slope1")?,
                slope2_bps: b(&rc.slope2, rate.slope2_bps, "slope2")?,
            },
        };
        pool.init_reserve(
            &mut world.ledger,
            ReserveInit {
                symbol: rc.asset.clone(),
                underlying: asset,
                price_asset: asset,
                config,
            },
            start,
        )
        .map_err(rej(&path))?;
        listed.push((rc.asset.clone(), asset));
    }
    let find = |sym: &str| listed.iter().find(|(s, _)| s == sym).map(|x| x.1);
    match &ac.emodes {
        Some(list) => {
            for (k, e) in list.iter().enumerate() {
                let path = format!("lending.aave.emodes[{k}]");
                let ids = |v: &[String], key: &str| -> Result<Vec<AssetId>, ScenarioError> {
                    v.iter()
                        .map(|s| find(s).ok_or_else(|| err(format!("{path}.{key}"), format!("{s} is not a reserve"))))
                        .collect()
                };
                pool.set_emode_category(
                    e.id,
                    &e.label,
                    bps_u32(&e.ltv, &format!("{path}.ltv"))?,
                    bps_u32(&e.liquidation_threshold, &format!("{path}.liquidation_threshold"))?,
                    bps_u32(&e.liquidation_bonus, &format!("{path}.liquidation_bonus"))?,
                    &ids(&e.collateral, "collateral")?,
                    &ids(&e.borrowable, "borrowable")?,
                )
                .map_err(rej(&path))?;
            }
        }
        None => {
            if let Some(w) = find("WETH") {
                for (id, sym, ltv, lt) in [(1u8, "wstETH", 9_350, 9_550), (2, "rETH", 9_300, 9_500)] {
                    if let Some(c) = find(sym) {
                        pool.set_emode_category(id, &format!("{sym}/ETH"), ltv, lt, 10_100, &[c, w], &[w])
                            .map_err(rej("lending.aave"))?;
                    }
                }
            }
        }
    }
    // Oracles: one USD feed (8 decimals) per reserve.
    let eth_key = world
        .markets
        .eth_usd_key
        .ok_or_else(|| err("market", "Aave needs [market.ETH_USD]"))?;
    for (sym, asset) in &listed {
        let ocfg = scn.oracles.iter().position(|o| &o.asset == sym);
        let (source, kind, deviation) = match ocfg {
            Some(k) => {
                let o = &scn.oracles[k];
                let path = format!("oracles[{k}]");
                let dev = match &o.deviation {
                    Some(s) => parse_bps(s).map_err(|e| err(format!("{path}.deviation"), e))?,
                    None => U256::ZERO,
                };
                match o.kind.as_deref().unwrap_or("exchange_rate") {
                    "exchange_rate" => (FeedSource::ExchangeRate, FeedKind::ExchangeRate { base: eth_key }, dev),
                    "market" => {
                        let pname = o
                            .pool
                            .clone()
                            .ok_or_else(|| err(format!("{path}.pool"), "a market feed reads a pool"))?;
                        let p = world
                            .markets
                            .pool_index(&pname)
                            .map_err(|e| err(format!("{path}.pool"), e.to_string()))?;
                        if !world.markets.pools[p].pool.coins.contains(&world.eth_asset) {
                            return Err(err(format!("{path}.pool"), "the pool must pair the LST with ETH"));
                        }
                        (FeedSource::Market { pool: p }, FeedKind::Market { pool: pname }, dev)
                    }
                    "pt" => {
                        let (src, kind) = super::pt_oracle::build_feed(world, o, &path, *asset, start)?;
                        (src, kind, dev)
                    }
                    other => {
                        return Err(err(
                            format!("{path}.kind"),
                            format!("unknown feed kind `{other}` (exchange_rate, market or pt)"),
                        ))
                    }
                }
            }
            None => (
                FeedSource::ExchangeRate,
                FeedKind::ExchangeRate { base: eth_key },
                U256::ZERO,
            ),
        };
        // Every reserve must be priceable: ETH-pegged, an LST token, or a PT with a PT feed.
        if !matches!(source, FeedSource::Pt { .. }) {
            if super::morpho::is_pt(world, *asset) {
                return Err(err(
                    "lending.aave.reserves",
                    format!("{sym} is a PT: price it with an [[oracles]] entry of kind = \"pt\""),
                ));
            }
            super::ops::rate_of(world, *asset).map_err(|e| err("lending.aave.reserves", format!("{sym}: {e}")))?;
        }
        let key = FeedKey {
            asset: *asset,
            denom: Denom::Usd,
        };
        world
            .markets
            .oracles
            .add_feed(key, kind, 8, 86_400, deviation, None, start)
            .map_err(rej("oracles"))?;
        world.markets.feeds.push(FeedEntry {
            asset: *asset,
            key,
            source,
        });
    }
    for (k, o) in scn.oracles.iter().enumerate() {
        let morpho_asset = scn
            .lending
            .morpho
            .iter()
            .any(|m| m.collateral == o.asset || m.loan == o.asset);
        if find(&o.asset).is_none() && !morpho_asset {
            return Err(err(
                format!("oracles[{k}].asset"),
                format!("{} is not an Aave reserve", o.asset),
            ));
        }
    }
    world.markets.aave = Some(pool);
    publish_prices(world, start).map_err(|e| err("oracles", format!("publishing prices failed: {e}")))?;
    // The liquidation index weighs reserves at the prices now (only the tightness of its bound
    // for multi-asset borrowers depends on them, never which borrowers it lists).
    {
        let super::MarketWorld {
            aave, oracles, feeds, ..
        } = &mut world.markets;
        if let Some(p) = aave.as_mut() {
            let px = super::FeedPrices {
                oracles,
                feeds,
                max_age: None,
            };
            p.set_index_prices(&world.ledger, &px, start);
        }
    }
    // Initial supplies.
    let genesis = world.ledger.account("aave-genesis");
    for (k, rc) in ac.reserves.iter().enumerate() {
        if let Some(s) = &rc.initial_supply {
            let path = format!("lending.aave.reserves[{k}].initial_supply");
            let (id, a) = amount(world, s, &path)?;
            if world.ledger.symbol(id) != rc.asset {
                return Err(err(&path, format!("expected an amount of {}", rc.asset)));
            }
            let (got, _) = acquire(world, genesis, id, a).map_err(|e| err(&path, e.to_string()))?;
            if let Some(p) = world.markets.aave.as_mut() {
                p.supply(&mut world.ledger, genesis, id, got, start)
                    .map_err(rej(&path))?;
            }
        }
    }
    Ok(())
}

fn build_pendle(world: &mut World, pc: &PendleCfg, path: &str, start: u64) -> Result<(), ScenarioError> {
    if world.markets.pendle_markets.iter().any(|m| m.name == pc.name) {
        return Err(err(format!("{path}.name"), format!("`{}` is taken", pc.name)));
    }
    let underlying = world
        .ledger
        .asset(&pc.underlying)
        .map_err(|e| err(format!("{path}.underlying"), e.to_string()))?;
    let rate = super::ops::rate_of(world, underlying).map_err(|e| err(format!("{path}.underlying"), e.to_string()))?;
    if world.ledger.asset_info(underlying).map(|i| i.kind).ok() != Some(AssetKind::Plain) {
        return Err(err(
            format!("{path}.underlying"),
            "the SY needs a plain (non-rebasing) token",
        ));
    }
    let expiry = match parse_date(&pc.expiry) {
        Ok(t) => t,
        Err(_) => parse_at(&pc.expiry, start).map_err(|e| err(format!("{path}.expiry"), e))?,
    };
    let scalar = to_signed(dec_wad(&pc.scalar_root, &format!("{path}.scalar_root"))?)
        .map_err(|e| err(format!("{path}.scalar_root"), e.to_string()))?;
    let anchor = to_signed(dec_wad(&pc.initial_anchor, &format!("{path}.initial_anchor"))?)
        .map_err(|e| err(format!("{path}.initial_anchor"), e.to_string()))?;
    let fee = match &pc.fee {
        Some(s) => parse_wad_fraction(s).map_err(|e| err(format!("{path}.fee"), e))?,
        None => U256::from(500_000_000_000_000u64),
    };
    let ln_fee = logexp::ln(
        to_signed(WAD.add_c(fee).map_err(|e| err(path, e.to_string()))?).map_err(|e| err(path, e.to_string()))?,
    )
    .map_err(|e| err(format!("{path}.fee"), e.to_string()))?;
    let ln_fee = stake_math::signed::to_unsigned(ln_fee).map_err(|e| err(format!("{path}.fee"), e.to_string()))?;
    let reserve = match &pc.reserve_fee {
        Some(s) => parse_bps(s).map_err(|e| err(format!("{path}.reserve_fee"), e))? / U256::from(100u8),
        None => U256::from(80u8),
    };
    let reserve = u8::try_from(reserve).map_err(|_| err(format!("{path}.reserve_fee"), "at most 100%"))?;
    if world.markets.pendle.is_none() {
        world.markets.pendle = Some(Pendle::new(&mut world.ledger, DEFAULT_INTEREST_FEE_RATE).map_err(rej(path))?);
    }
    let sy_sym = format!("SY-{}", pc.name);
    let p = world.markets.pendle.as_mut().ok_or_else(|| err(path, "unreachable"))?;
    let sy = p
        .create_sy(&mut world.ledger, &sy_sym, underlying, rate)
        .map_err(rej(path))?;
    let yc = p
        .create_yield_contract(&mut world.ledger, sy, expiry, start)
        .map_err(rej(&format!("{path}.expiry")))?;
    let market = p
        .create_market(&mut world.ledger, yc, scalar, anchor, ln_fee, reserve, start)
        .map_err(rej(path))?;
    world.markets.pendle_markets.push(PendleEntry {
        name: pc.name.clone(),
        sy,
        yc,
        market,
        underlying,
        expiry,
    });
    if let Some(s) = &pc.liquidity {
        let lpath = format!("{path}.liquidity");
        let (id, a) = amount(world, s, &lpath)?;
        if id != underlying {
            return Err(err(&lpath, format!("expected an amount of {}", pc.underlying)));
        }
        let lp = world.ledger.account(&format!("{}-lp", pc.name));
        let (got, _) = acquire(world, lp, id, a).map_err(|e| err(&lpath, e.to_string()))?;
        let p = world.markets.pendle.as_mut().ok_or_else(|| err(path, "unreachable"))?;
        p.sy_deposit(&mut world.ledger, lp, sy, got).map_err(rej(&lpath))?;
        p.mint_py(&mut world.ledger, lp, yc, got / 2, start)
            .map_err(rej(&lpath))?;
        let pt = p.yield_contracts[yc].pt;
        let sy_asset = p.sys[sy].asset;
        let (sy_bal, pt_bal) = (world.ledger.balance(lp, sy_asset), world.ledger.balance(lp, pt));
        p.add_liquidity(&mut world.ledger, lp, market, sy_bal, pt_bal, start)
            .map_err(rej(&lpath))?;
    }
    Ok(())
}

pub(super) fn need<'a>(v: &'a Option<String>, path: &str, key: &str) -> Result<&'a str, ScenarioError> {
    v.as_deref()
        .ok_or_else(|| err(format!("{path}.{key}"), format!("missing `{key}`")))
}

/// An amount of `asset` (or `all` → `U256::MAX`).
pub(super) fn amount_or_all(world: &World, s: &str, asset: Option<&str>, path: &str) -> Result<U256, ScenarioError> {
    if s.trim() == "all" {
        return Ok(U256::MAX);
    }
    let dec = |sym: &str| {
        world
            .ledger
            .asset(sym)
            .ok()
            .and_then(|id| world.ledger.asset_info(id).ok())
            .map(|a| a.decimals)
    };
    let a = parse_amount(s, &dec).map_err(|e| err(path, e))?;
    if let (Some(expect), Some(got)) = (asset, a.asset.as_deref()) {
        if expect != got {
            return Err(err(path, format!("`{s}` is an amount of {got}, expected {expect}")));
        }
    }
    if a.base == U256::ZERO {
        return Err(err(path, "must be positive"));
    }
    Ok(a.base)
}

fn check_pool(world: &World, name: &str, path: &str) -> Result<(), ScenarioError> {
    world
        .markets
        .pool_index(name)
        .map(|_| ())
        .map_err(|e| err(format!("{path}.pool"), e.to_string()))
}

fn check_lending(world: &World, a: &ActionCfg, path: &str) -> Result<(), ScenarioError> {
    match a.market.as_deref().unwrap_or("aave") {
        "aave" if world.markets.aave.is_some() => Ok(()),
        m => Err(err(
            format!("{path}.market"),
            MarketError::UnknownLendingMarket { market: m.into() }.to_string(),
        )),
    }
}

fn check_asset(world: &World, sym: &str, path: &str) -> Result<(), ScenarioError> {
    asset_id(world, sym).map(|_| ()).map_err(|e| err(path, e.to_string()))
}

pub(super) fn pendle_market(world: &World, a: &ActionCfg, path: &str) -> Result<String, ScenarioError> {
    let m = need(&a.market, path, "market")?;
    world
        .markets
        .pendle_index(m)
        .map_err(|e| err(format!("{path}.market"), e.to_string()))?;
    Ok(m.to_string())
}

fn parse_target(s: &str, path: &str) -> Result<LoopTarget, ScenarioError> {
    let t = s.trim().to_ascii_lowercase();
    if let Some(x) = t.strip_suffix('x') {
        return Ok(LoopTarget::Leverage(dec_wad(x.trim(), path)?));
    }
    if let Some(h) = t.strip_prefix("hf") {
        return Ok(LoopTarget::HealthFactor(dec_wad(h.trim(), path)?));
    }
    Err(err(
        path,
        format!("`{s}`: expected a leverage like `3x` or a health factor like `hf 1.1`"),
    ))
}

/// A scripted action of this layer, or `None` if `a.op` is not one.
pub fn schedule_action(a: &ActionCfg, path: &str, world: &World, _start: u64) -> Option<Result<Action, ScenarioError>> {
    if let Some(r) = super::pendle_ops::schedule(a, path, world) {
        return Some(r.map(Action::Market));
    }
    let known = [
        "swap",
        "add_liquidity",
        "remove_liquidity",
        "supply",
        "withdraw",
        "borrow",
        "repay",
        "set_emode",
        "loop",
        "liquidate",
        "wrap_eth",
        "unwrap_eth",
        "mint_py",
        "buy_pt",
        "sell_pt",
    ];
    if let Some(r) = super::morpho::schedule_action(a, path, world) {
        return Some(r.map(|m| Action::Market(MarketAction::Morpho(m))));
    }
    if !known.contains(&a.op.as_str()) {
        return None;
    }
    Some(schedule_action_inner(a, path, world).map(Action::Market))
}

fn schedule_action_inner(a: &ActionCfg, path: &str, world: &World) -> Result<MarketAction, ScenarioError> {
    let apath = format!("{path}.amount");
    let amt = |asset: Option<&str>| -> Result<U256, ScenarioError> {
        amount_or_all(world, need(&a.amount, path, "amount")?, asset, &apath)
    };
    let min_out = |asset: Option<&str>| -> Result<U256, ScenarioError> {
        match &a.min_out {
            Some(s) => amount_or_all(world, s, asset, &format!("{path}.min_out")),
            None => Ok(U256::ZERO),
        }
    };
    let token = || -> Result<String, ScenarioError> {
        let t = need(&a.token, path, "token")?;
        check_asset(world, t, &format!("{path}.token"))?;
        Ok(t.to_string())
    };
    Ok(match a.op.as_str() {
        "swap" | "add_liquidity" | "remove_liquidity" => {
            let pool = need(&a.pool, path, "pool")?.to_string();
            check_pool(world, &pool, path)?;
            match a.op.as_str() {
                "swap" => {
                    let t = token()?;
                    MarketAction::Swap {
                        amount: amt(Some(&t))?,
                        min_out: min_out(None)?,
                        pool,
                        token_in: t,
                    }
                }
                "add_liquidity" => {
                    let t = token()?;
                    MarketAction::AddLiquidity {
                        amount: amt(Some(&t))?,
                        pool,
                        token: t,
                    }
                }
                _ => {
                    let t = match &a.token {
                        Some(_) => Some(token()?),
                        None => None,
                    };
                    MarketAction::RemoveLiquidity {
                        amount: amt(None)?,
                        pool,
                        token: t,
                    }
                }
            }
        }
        "supply" | "withdraw" | "borrow" | "repay" => {
            check_lending(world, a, path)?;
            let t = token()?;
            let amount = amt(Some(&t))?;
            match a.op.as_str() {
                "supply" => MarketAction::Supply { token: t, amount },
                "withdraw" => MarketAction::Withdraw { token: t, amount },
                "borrow" => MarketAction::Borrow { token: t, amount },
                _ => MarketAction::Repay { token: t, amount },
            }
        }
        "set_emode" => {
            check_lending(world, a, path)?;
            let s = need(&a.set, path, "set")?;
            let category = s.trim().parse::<u8>().map_err(|_| {
                err(
                    format!("{path}.set"),
                    format!("`{s}`: expected an e-mode category id (0–255)"),
                )
            })?;
            MarketAction::SetEmode { category }
        }
        "loop" => {
            check_lending(world, a, path)?;
            let t = token()?;
            let debt = a.token_out.clone().unwrap_or_else(|| "WETH".into());
            check_asset(world, &debt, &format!("{path}.token_out"))?;
            let amount = match &a.amount {
                Some(s) => amount_or_all(world, s, Some(&t), &apath)?,
                None => U256::ZERO,
            };
            MarketAction::Loop {
                target: parse_target(need(&a.target, path, "target")?, &format!("{path}.target"))?,
                collateral: t,
                debt,
                amount,
            }
        }
        "liquidate" => {
            check_lending(world, a, path)?;
            let user = need(&a.to, path, "to")?.to_string();
            let collateral = token()?;
            let debt = need(&a.token_out, path, "token_out")?.to_string();
            check_asset(world, &debt, &format!("{path}.token_out"))?;
            let amount = match &a.amount {
                Some(s) => amount_or_all(world, s, Some(&debt), &apath)?,
                None => U256::MAX,
            };
            MarketAction::Liquidate {
                user,
                collateral,
                debt,
                amount,
            }
        }
        "wrap_eth" => MarketAction::WrapEth {
            amount: amt(Some("ETH"))?,
        },
        "unwrap_eth" => MarketAction::UnwrapEth {
            amount: amt(Some("WETH"))?,
        },
        "mint_py" | "buy_pt" => {
            let market = pendle_market(world, a, path)?;
            let k = world
                .markets
                .pendle_index(&market)
                .map_err(|e| err(path, e.to_string()))?;
            let u = world
                .ledger
                .symbol(world.markets.pendle_markets[k].underlying)
                .to_string();
            let amount = amt(Some(&u))?;
            if a.op == "mint_py" {
                MarketAction::MintPy { market, amount }
            } else {
                MarketAction::BuyPt {
                    market,
                    amount,
                    min_out: min_out(None)?,
                }
            }
        }
        _ => {
            let market = pendle_market(world, a, path)?;
            MarketAction::SellPt {
                amount: amt(None)?,
                min_out: min_out(None)?,
                market,
            }
        }
    })
}

/// A scripted event of this layer (sender, action), or `None` if `e.kind` is not one.
pub fn schedule_event(
    e: &EventCfg,
    path: &str,
    world: &World,
    _start: u64,
) -> Option<Result<(String, Action), ScenarioError>> {
    const KINDS: [&str; 10] = [
        "sell_off",
        "liquidity_withdrawal",
        "parameter_change",
        "random_sell_offs",
        "price_shock",
        "oracle_freeze",
        "oracle_unfreeze",
        "oracle_lag",
        "oracle_manipulate",
        "oracle_restore",
    ];
    if !KINDS.contains(&e.kind.as_str()) {
        return None;
    }
    Some(schedule_event_inner(e, path, world).map(|a| (SYSTEM.to_string(), Action::Market(a))))
}

/// The `pool` and `fraction` of a pool event: a known pool and a share in (0, 100 %], in bps.
fn pool_and_fraction(e: &EventCfg, path: &str, world: &World) -> Result<(String, u64), ScenarioError> {
    let pool = need(&e.pool, path, "pool")?.to_string();
    check_pool(world, &pool, path)?;
    let f = need(&e.fraction, path, "fraction")?;
    let bps = parse_bps(f).map_err(|x| err(format!("{path}.fraction"), x))?;
    if bps == U256::ZERO || bps > U256::from(10_000u32) {
        return Err(err(format!("{path}.fraction"), "must be between 0 and 100%"));
    }
    Ok((
        pool,
        crate::scenario::to_u64(bps, &format!("{path}.fraction"), "fraction")?,
    ))
}

fn schedule_event_inner(e: &EventCfg, path: &str, world: &World) -> Result<MarketAction, ScenarioError> {
    match e.kind.as_str() {
        "sell_off" => {
            let (pool, fraction_bps) = pool_and_fraction(e, path, world)?;
            let (seller, buy) = match &e.account {
                Some(a) => (a.clone(), false),
                None => ("panic-seller".to_string(), true),
            };
            Ok(MarketAction::SellOff {
                pool,
                fraction_bps,
                seller,
                acquire: buy,
            })
        }
        "random_sell_offs" => {
            let (pool, fraction_bps) = pool_and_fraction(e, path, world)?;
            let py = need(&e.per_year, path, "per_year")?;
            let per_year = parse_scaled(py, 18).map_err(|x| err(format!("{path}.per_year"), format!("`{py}`: {x}")))?;
            if per_year == U256::ZERO || per_year > U256::from(365u32) * WAD {
                return Err(err(format!("{path}.per_year"), "between 0 and 365 a year"));
            }
            let jitter = match &e.jitter {
                Some(j) => {
                    let v = crate::amount::parse_wad_fraction(j).map_err(|x| err(format!("{path}.jitter"), x))?;
                    if v > WAD {
                        return Err(err(format!("{path}.jitter"), "at most 100%"));
                    }
                    v
                }
                None => U256::ZERO,
            };
            let duration = match &e.duration {
                Some(d) => parse_duration(d).map_err(|x| err(format!("{path}.duration"), x))?,
                None => 0,
            };
            Ok(MarketAction::StartSellOffs {
                pool,
                per_year,
                fraction_bps,
                jitter,
                duration,
            })
        }
        "parameter_change" => {
            let market = e.market.as_deref().unwrap_or("aave");
            if market != "aave" {
                return Err(err(
                    format!("{path}.market"),
                    format!("parameter changes apply to Aave reserves (`aave`), not `{market}`"),
                ));
            }
            let a = world
                .markets
                .aave
                .as_ref()
                .ok_or_else(|| err(path, "a parameter change needs [lending.aave]"))?;
            let token = need(&e.token, path, "token")?.to_string();
            let listed = world
                .ledger
                .asset(&token)
                .ok()
                .is_some_and(|id| a.reserves.iter().any(|r| r.underlying == id));
            if !listed {
                let names: Vec<&str> = a.reserves.iter().map(|r| r.symbol.as_str()).collect();
                return Err(err(
                    format!("{path}.token"),
                    format!("{token} is not an Aave reserve (reserves: {})", names.join(", ")),
                ));
            }
            let name = need(&e.parameter, path, "parameter")?;
            let v = need(&e.value, path, "value")?;
            let vpath = format!("{path}.value");
            let bps = || bps_u32(v, &vpath);
            let whole = || parse_scaled(v, 0).map_err(|x| err(&vpath, format!("`{v}`: {x}")));
            let flag = || match v.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(err(&vpath, format!("`{other}`: expected true or false"))),
            };
            let param = match name {
                "ltv" => AaveParam::Ltv(bps()?),
                "liquidation_threshold" => AaveParam::LiquidationThreshold(bps()?),
                "liquidation_bonus" => AaveParam::LiquidationBonus(bps()?),
                "reserve_factor" => AaveParam::ReserveFactor(bps()?),
                "supply_cap" => AaveParam::SupplyCap(whole()?),
                "borrow_cap" => AaveParam::BorrowCap(whole()?),
                "borrowable" => AaveParam::Borrowable(flag()?),
                "frozen" => AaveParam::Frozen(flag()?),
                "paused" => AaveParam::Paused(flag()?),
                "optimal_usage" => AaveParam::OptimalUsage(bps()?),
                "base_rate" => AaveParam::BaseRate(bps()?),
                "slope1" => AaveParam::Slope1(bps()?),
                "slope2" => AaveParam::Slope2(bps()?),
                other => {
                    return Err(err(
                        format!("{path}.parameter"),
                        format!(
                            "unknown Aave reserve parameter `{other}` (ltv, liquidation_threshold, liquidation_bonus, reserve_factor, supply_cap, borrow_cap, borrowable, frozen, paused, optimal_usage, base_rate, slope1, slope2)"
                        ),
                    ))
                }
            };
            Ok(MarketAction::AaveParameter { token, param })
        }
        "liquidity_withdrawal" => {
            let (pool, fraction_bps) = pool_and_fraction(e, path, world)?;
            if let Some(t) = &e.token {
                let p = world
                    .markets
                    .pool_index(&pool)
                    .map_err(|x| err(format!("{path}.pool"), x.to_string()))?;
                let id = world.ledger.asset(t).ok();
                if !world.markets.pools[p].pool.coins.iter().any(|c| Some(*c) == id) {
                    return Err(err(format!("{path}.token"), format!("{t} is not a coin of {pool}")));
                }
            }
            Ok(MarketAction::LiquidityWithdrawal {
                fraction_bps,
                token: e.token.clone(),
                provider: e.account.clone().unwrap_or_else(|| format!("{pool}-lp")),
                pool,
            })
        }
        "price_shock" => {
            if world.markets.eth_usd.is_none() {
                return Err(err(path, "a price shock needs [market.ETH_USD]"));
            }
            let v = need(&e.value, path, "value")?;
            let f = signed_fraction(v, &format!("{path}.value"))?;
            let wad_i = to_signed(WAD).map_err(|x| err(path, x.to_string()))?;
            let factor = wad_i + f;
            if factor <= I256::ZERO {
                return Err(err(format!("{path}.value"), "the price cannot fall by 100% or more"));
            }
            let bps = factor * I256::from(10_000u32) / wad_i;
            Ok(MarketAction::PriceShock {
                factor_bps: u64::try_from(bps).map_err(|_| err(format!("{path}.value"), "too large"))?,
            })
        }
        "oracle_lag" | "oracle_manipulate" | "oracle_restore" => {
            let asset = e.token.clone().unwrap_or_else(|| "ETH".into());
            check_asset(world, &asset, &format!("{path}.token"))?;
            let duration = match &e.duration {
                Some(d) => parse_duration(d).map_err(|x| err(format!("{path}.duration"), x))?,
                None => 0,
            };
            Ok(match e.kind.as_str() {
                "oracle_lag" => {
                    need(&e.duration, path, "duration")?;
                    MarketAction::OracleLag { asset, lag: duration }
                }
                "oracle_manipulate" => {
                    let v = need(&e.value, path, "value")?;
                    let vpath = format!("{path}.value");
                    let price = if v.trim().ends_with('%') {
                        let f = signed_fraction(v, &vpath)?;
                        if f <= -to_signed(WAD).map_err(|x| err(&vpath, x.to_string()))? {
                            return Err(err(vpath, "the price cannot fall by 100% or more"));
                        }
                        PriceSet::Relative(f)
                    } else {
                        let t = v.trim().trim_start_matches('$').replace(',', "");
                        let usd = parse_scaled(&t, 18).map_err(|x| {
                            err(
                                &vpath,
                                format!("{x} (expected a USD price like \"2500\" or a change like \"-20%\")"),
                            )
                        })?;
                        if usd == U256::ZERO {
                            return Err(err(vpath, "the price must be positive"));
                        }
                        PriceSet::UsdWad(usd)
                    };
                    MarketAction::OracleManipulate { asset, price, duration }
                }
                _ => MarketAction::OracleRestore { asset },
            })
        }
        kind => {
            let asset = e.token.clone().unwrap_or_else(|| "ETH".into());
            check_asset(world, &asset, &format!("{path}.token"))?;
            let duration = match &e.duration {
                Some(d) => parse_duration(d).map_err(|x| err(format!("{path}.duration"), x))?,
                None => 0,
            };
            Ok(MarketAction::OracleFreeze {
                asset,
                frozen: kind == "oracle_freeze",
                duration,
            })
        }
    }
}
