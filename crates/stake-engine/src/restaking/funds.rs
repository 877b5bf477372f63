//! External assets, genesis funding of restakers, and service treasuries.
//!
//! - `[[restaking.assets]]` registers a plain asset the world does not issue itself (BTC for
//!   Babylon, a Solana LST such as JitoSOL for Jito, a secured chain's reward token). Genesis
//!   balances come from `[[accounts]] balances` (accounts are built after restaking) or from the
//!   `depositors` / `stakers` lists of a vault or of Babylon, which mint it directly.
//! - A depositor of an LST's restakable token (wstETH, rETH, …) gives its amount in ETH: the ETH
//!   is staked into the LST (and wrapped for a lido model), exactly as `stake_from` does.
//! - Each service has a treasury account `<service>:treasury` funded once at genesis with its
//!   `reward_budget`; every frame's rewards leave it, and when it runs dry rewards stop.

use super::{err, setup_err, strategy_token};
use crate::action::{Action, SYSTEM};
use crate::amount::parse_amount;
use crate::lst::LstModel;
use crate::scenario::ScenarioError;
use crate::world::World;
use serde::Deserialize;
use stake_ledger::AssetKind;
use stake_math::U256;

/// `[[restaking.assets]]`: an external plain asset, e.g. `{ symbol = "BTC", decimals = 8 }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetCfg {
    /// Symbol (unique in the world).
    pub symbol: String,
    /// Decimals of its base unit (BTC 8, JitoSOL 9).
    pub decimals: u8,
    /// Price of one whole token in ETH, e.g. `"0.0003"` — the value an EigenLayer strategy of
    /// this token counts (default: none, the strategy counts 0 ETH).
    pub price_eth: Option<String>,
}

/// A genesis deposit: `{ account = "dan", amount = "1_000 ETH" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositorCfg {
    /// Account that deposits (created if new).
    pub account: String,
    /// Amount: in ETH for an LST-backed token (staked and wrapped first), else in the token.
    pub amount: String,
}

/// Name of a service's treasury account.
pub fn treasury_account(service: &str) -> String {
    format!("{service}:treasury")
}

/// Registers the external assets.
pub(super) fn build_assets(world: &mut World, cfgs: &[AssetCfg]) -> Result<(), ScenarioError> {
    for (i, a) in cfgs.iter().enumerate() {
        let path = format!("restaking.assets[{i}]");
        let ok = !a.symbol.is_empty()
            && a.symbol
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(err(format!("{path}.symbol"), format!("`{}` is not a symbol", a.symbol)));
        }
        if a.decimals > 36 {
            return Err(err(format!("{path}.decimals"), "at most 36 decimals"));
        }
        if world.ledger.asset(&a.symbol).is_ok() {
            return Err(err(
                format!("{path}.symbol"),
                format!("asset `{}` already exists in the world", a.symbol),
            ));
        }
        world
            .ledger
            .register_asset(&a.symbol, a.decimals, "external", AssetKind::Plain)
            .map_err(setup_err(&format!("{path}.symbol")))?;
        if let Some(p) = &a.price_eth {
            let ppath = format!("{path}.price_eth");
            let wad = stake_math::parse::parse_scaled(p, 18)
                .map_err(|e| err(&ppath, format!("`{p}`: {e} (expected ETH per token, e.g. \"0.0003\")")))?;
            world.restaking.asset_prices.insert(a.symbol.clone(), wad);
        }
        world.restaking.external_assets.push(a.symbol.clone());
    }
    Ok(())
}

/// Decimals of an asset of the world.
pub(super) fn decimals(world: &World, sym: &str) -> Option<u8> {
    world
        .ledger
        .asset(sym)
        .ok()
        .and_then(|id| world.ledger.asset_info(id).ok())
        .map(|a| a.decimals)
}

/// Parses an amount of `sym` (with that unit, or raw base units).
pub(super) fn amount_of(world: &World, s: &str, sym: &str, path: &str) -> Result<U256, ScenarioError> {
    let d = decimals(world, sym).ok_or_else(|| err(path, format!("unknown asset `{sym}`")))?;
    let a = parse_amount(s, &|x| (x == sym).then_some(d)).map_err(|e| err(path, e))?;
    Ok(a.base)
}

/// Checks an account name a scenario gives.
pub(super) fn account_name(name: &str, path: &str) -> Result<(), ScenarioError> {
    if name.is_empty() || name.contains(':') || name == SYSTEM {
        return Err(err(path, format!("`{name}` is not an account name")));
    }
    Ok(())
}

/// Gives `owner` some `token` at genesis and returns how much it received: ETH staked into the
/// LST whose restakable token it is (wrapped for lido), or minted for an external asset.
pub(super) fn acquire(
    world: &mut World,
    owner: &str,
    token: &str,
    amount: &str,
    path: &str,
    start: u64,
) -> Result<U256, ScenarioError> {
    account_name(owner, path)?;
    let acct = world.ledger.account(owner);
    if world.restaking.external_assets.iter().any(|a| a == token) {
        let v = amount_of(world, amount, token, path)?;
        if v == U256::ZERO {
            return Err(err(path, "must be positive"));
        }
        let id = world.ledger.asset(token).map_err(setup_err(path))?;
        world.ledger.mint(acct, id, v).map_err(setup_err(path))?;
        return Ok(v);
    }
    let mut lst = None;
    for (i, l) in world.lsts.iter().enumerate() {
        if strategy_token(world, &l.symbol).ok().as_deref() == Some(token) {
            lst = Some(i);
        }
    }
    let Some(i) = lst else {
        return Err(err(
            path,
            format!("`{token}` is neither an LST's restakable token nor a [[restaking.assets]] asset"),
        ));
    };
    let a = parse_amount(amount, &|x| (x == "ETH").then_some(18)).map_err(|e| {
        err(
            path,
            format!("{e} (give the ETH to stake into the LST, e.g. \"1_000 ETH\")"),
        )
    })?;
    if a.base == U256::ZERO {
        return Err(err(path, "must be positive"));
    }
    let eth = world.eth_asset;
    let tid = world.ledger.asset(token).map_err(setup_err(path))?;
    let before = world.ledger.balance(acct, tid);
    world.ledger.mint(acct, eth, a.base).map_err(setup_err(path))?;
    let sym = world.lsts[i].symbol.clone();
    world.lsts[i]
        .user_op(
            &mut world.ledger,
            acct,
            &Action::Stake {
                lst: sym.clone(),
                amount: a.base,
            },
            start,
        )
        .map_err(setup_err(path))?;
    if let LstModel::Lido(l) = &world.lsts[i].model {
        let bal = l.balance_of(&world.ledger, acct).map_err(setup_err(path))?;
        world.lsts[i]
            .user_op(&mut world.ledger, acct, &Action::Wrap { lst: sym, amount: bal }, start)
            .map_err(setup_err(path))?;
    }
    Ok(world.ledger.balance(acct, tid).saturating_sub(before))
}

/// `reward_budget = "5_000 ETH"`: (asset, amount). The token must be ETH or an external asset
/// (minting an LST would break its backing).
pub(super) fn parse_budget(world: &World, s: &str, path: &str) -> Result<(String, U256), ScenarioError> {
    let a = parse_amount(s, &|x| decimals(world, x)).map_err(|e| err(path, e))?;
    let sym = a
        .asset
        .ok_or_else(|| err(path, format!("`{s}` needs a unit, e.g. \"5_000 ETH\"")))?;
    if sym != "ETH" && !world.restaking.external_assets.contains(&sym) {
        return Err(err(
            path,
            format!("a reward budget is paid in ETH or a [[restaking.assets]] token, not {sym}"),
        ));
    }
    Ok((sym, a.base))
}

/// Mints a service's reward budget into its treasury (once, at genesis).
pub(super) fn fund_treasury(
    world: &mut World,
    service: &str,
    asset: &str,
    amount: U256,
    path: &str,
) -> Result<(), ScenarioError> {
    let id = world.ledger.asset(asset).map_err(setup_err(path))?;
    let acct = world.ledger.account(&treasury_account(service));
    if amount > U256::ZERO {
        world.ledger.mint(acct, id, amount).map_err(setup_err(path))?;
    }
    world.restaking.treasuries.insert(
        service.to_string(),
        super::Treasury {
            asset: asset.to_string(),
            funded: amount,
        },
    );
    Ok(())
}

/// Balance left in a service's treasury.
pub(super) fn treasury_left(world: &World, service: &str) -> U256 {
    let Some(t) = world.restaking.treasuries.get(service) else {
        return U256::ZERO;
    };
    match (
        world.ledger.find_account(&treasury_account(service)),
        world.ledger.asset(&t.asset),
    ) {
        (Ok(a), Ok(id)) => world.ledger.balance(a, id),
        _ => U256::ZERO,
    }
}
