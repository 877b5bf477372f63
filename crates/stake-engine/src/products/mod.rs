//! The engine's side of L5 products (SPEC §8): insurance funds over LRT positions.
//!
//! `[[insurance]]` declares a fund (`stake_products::insurance`): underwriters put ETH in
//! (`do = "underwrite"`), holders buy cover for their LRT tokens (`do = "buy_cover"`, cover in
//! ETH), premiums accrue per second on the cover and are collected from the holder's ETH every
//! frame, and when a service fault lowers an LRT's rate the fund pays each covered holder
//! `min(share · loss, cover, assets)` in the same transaction, the loss being the holder's token
//! balance times the fall of the rate. A holder whose premium could not be collected is refused
//! (`PremiumUnpaid`), as the real funds do.
//!
//! Accounts: `<fund>:fund` holds the fund's ETH; cover names are `<holder>/<token>`.
//!
//! [`vaults`] wires the yield aggregator (`[[vaults]]`).

pub mod vaults;
pub use vaults::{VaultCfg, VaultEntry, VaultStrategyCfg};

use crate::action::Action;
use crate::amount::{parse_amount_of, parse_wad_fraction};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::{ActionCfg, Scenario, ScenarioError};
use crate::time::parse_duration;
use crate::world::{HookRejection, World};
use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AssetId, Ledger, Reject};
use stake_math::{mul_div_down, Checked, U256, WAD};
use stake_products::insurance::{InsuranceFund, InsuranceParams};

/// `[[insurance]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceCfg {
    /// Fund name (its account is `<name>:fund`).
    pub name: String,
    /// Premium per year of cover, e.g. `"2%"`.
    pub premium: String,
    /// Share of a covered loss paid, e.g. `"50%"`.
    pub payout: String,
    /// Capacity as a multiple of the fund's assets (default `1`).
    pub leverage: Option<String>,
    /// Underwriter cool-down (default `14d`).
    pub cooldown: Option<String>,
}

/// One fund in the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundEntry {
    /// Name.
    pub name: String,
    /// State.
    pub fund: InsuranceFund,
    /// Covers: (holder, LRT token, cover name).
    pub covers: Vec<(String, AssetId, String)>,
    /// Underwriter shares by account.
    pub underwriters: Vec<(String, U256)>,
}

/// L5 state of the world.
#[derive(Clone, Debug, Default)]
pub struct ProductsWorld {
    /// Insurance funds in declaration order.
    pub funds: Vec<FundEntry>,
    /// Aggregator vaults in declaration order.
    pub vaults: Vec<VaultEntry>,
}

/// Product actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProductAction {
    /// Deposit ETH into a fund as an underwriter.
    Underwrite {
        /// Fund.
        fund: String,
        /// ETH (wei).
        amount: U256,
    },
    /// Buy cover (ETH) for the sender's holding of an LRT token.
    BuyCover {
        /// Fund.
        fund: String,
        /// LRT token covered.
        token: String,
        /// Cover (wei of ETH).
        amount: U256,
    },
    /// Deposit ETH into an aggregator vault.
    VaultDeposit {
        /// Vault.
        vault: String,
        /// ETH (wei).
        amount: U256,
    },
    /// Redeem vault shares (paid from idle, else queued).
    VaultWithdraw {
        /// Vault.
        vault: String,
        /// Shares.
        shares: U256,
    },
    /// Claim the sender's queued vault withdrawals that are ready.
    VaultClaim {
        /// Vault.
        vault: String,
    },
}

impl ProductAction {
    /// Short description.
    pub fn describe(&self) -> String {
        match self {
            ProductAction::Underwrite { fund, amount } => format!("underwrite {amount} wei in {fund}"),
            ProductAction::BuyCover { fund, token, amount } => {
                format!("buy {amount} wei of {token} cover from {fund}")
            }
            ProductAction::VaultDeposit { vault, amount } => format!("deposit {amount} wei into {vault}"),
            ProductAction::VaultWithdraw { vault, shares } => format!("redeem {shares} {vault} shares"),
            ProductAction::VaultClaim { vault } => format!("claim {vault} withdrawals"),
        }
    }
}

/// Rejections of the engine's product wiring (9320–9339).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProductError {
    /// No fund with this name.
    UnknownFund {
        /// Name.
        fund: String,
    },
    /// Cover is sold for LRT tokens only.
    NotAnLrt {
        /// Token.
        token: String,
    },
    /// No vault with this name.
    UnknownVault {
        /// Name.
        vault: String,
    },
    /// The vault's redemptions have not brought the ETH back yet.
    NotYetLiquid {
        /// Vault.
        vault: String,
        /// Owed to the request.
        owed: U256,
        /// ETH back and not idle.
        liquid: U256,
    },
    /// No request of the sender is ready.
    NothingToClaim {
        /// Vault.
        vault: String,
        /// Account.
        account: String,
    },
}

impl std::fmt::Display for ProductError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProductError::UnknownFund { fund } => write!(f, "unknown insurance fund `{fund}`"),
            ProductError::NotAnLrt { token } => {
                write!(f, "{token} is not a liquid restaking token: no cover is sold for it")
            }
            ProductError::UnknownVault { vault } => write!(f, "unknown vault `{vault}`"),
            ProductError::NotYetLiquid { vault, owed, liquid } => {
                write!(
                    f,
                    "{vault}: {owed} wei owed, only {liquid} wei back from its redemptions yet"
                )
            }
            ProductError::NothingToClaim { vault, account } => {
                write!(f, "{account} has no {vault} withdrawal to claim")
            }
        }
    }
}

impl Reject for ProductError {
    fn code(&self) -> u32 {
        match self {
            ProductError::UnknownFund { .. } => 9320,
            ProductError::NotAnLrt { .. } => 9321,
            ProductError::UnknownVault { .. } => 9322,
            ProductError::NotYetLiquid { .. } => 9323,
            ProductError::NothingToClaim { .. } => 9324,
        }
    }
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

fn fund_account(name: &str) -> String {
    format!("{name}:fund")
}

impl ProductsWorld {
    /// Feeds the state into the world hash (nothing without products).
    pub fn hash_state(&self, h: &mut blake3::Hasher) {
        if !self.funds.is_empty() {
            hash_serde(h, &self.funds);
        }
        if !self.vaults.is_empty() {
            hash_serde(h, &self.vaults);
        }
    }
    fn index(&self, fund: &str) -> Result<usize, EngineError> {
        self.funds
            .iter()
            .position(|f| f.name == fund)
            .ok_or_else(|| proto(ProductError::UnknownFund { fund: fund.into() }))
    }
    /// Backing: each fund's ETH account holding exactly its assets, each vault's shares and idle ETH.
    ///
    /// With `full`, also each fund's and vault's own rules (sums over covers and queued
    /// withdrawals: the full check's, not every transaction's).
    pub fn check_backing(&self, ledger: &Ledger, eth: AssetId, full: bool) -> Result<(), String> {
        for f in &self.funds {
            if full {
                f.fund.check_invariants().map_err(|e| format!("{}: {e}", f.name))?;
            }
            let held = ledger
                .find_account(&fund_account(&f.name))
                .map(|a| ledger.balance(a, eth))
                .unwrap_or(U256::ZERO);
            if held != f.fund.assets {
                return Err(format!("{}: holds {held} wei, counts {} assets", f.name, f.fund.assets));
            }
        }
        vaults::check_backing(self, ledger, eth, full)
    }
    /// Metric columns.
    pub fn columns(&self) -> Vec<String> {
        let mut c = Vec::new();
        for f in &self.funds {
            for m in ["assets_eth", "cover_eth", "claims_paid_eth"] {
                c.push(format!("{}.{m}", f.name));
            }
        }
        for v in &self.vaults {
            for m in ["share_price", "assets_eth", "idle_eth"] {
                c.push(format!("{}.{m}", v.name));
            }
        }
        c
    }
}

/// Builds `[[insurance]]`.
pub fn build(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    for (k, c) in scn.insurance.iter().enumerate() {
        let path = format!("insurance[{k}]");
        if c.name.is_empty() || c.name.contains(':') || world.products.funds.iter().any(|f| f.name == c.name) {
            return Err(err(
                format!("{path}.name"),
                format!("`{}` is empty, taken or contains `:`", c.name),
            ));
        }
        let frac = |s: &str, key: &str| parse_wad_fraction(s).map_err(|e| err(format!("{path}.{key}"), e));
        let premium = frac(&c.premium, "premium")?;
        let payout_share_bps =
            crate::amount::parse_share_bps(&c.payout).map_err(|e| err(format!("{path}.payout"), e))?;
        let leverage_wad = match &c.leverage {
            Some(s) => stake_math::parse::parse_fraction(s, WAD)
                .map_err(|e| err(format!("{path}.leverage"), format!("`{s}`: {e}")))?,
            None => WAD,
        };
        let cooldown_s = match &c.cooldown {
            Some(s) => parse_duration(s).map_err(|e| err(format!("{path}.cooldown"), e))?,
            None => 14 * 86_400,
        };
        let fund = InsuranceFund::new(
            InsuranceParams {
                premium_rate_wad_per_year: premium,
                leverage_wad,
                payout_share_bps,
                cooldown_s,
            },
            start,
        )
        .map_err(|e| err(&path, e.to_string()))?;
        world.ledger.account(&fund_account(&c.name));
        world.products.funds.push(FundEntry {
            name: c.name.clone(),
            fund,
            covers: Vec::new(),
            underwriters: Vec::new(),
        });
    }
    vaults::build(world, scn, start)
}

/// `[[actions]]`: `underwrite` (`market` = fund, amount in ETH) and `buy_cover` (`market` =
/// fund, `token` = the LRT, amount = cover in ETH).
pub fn schedule_action(a: &ActionCfg, path: &str) -> Option<Result<(Action, Option<String>), ScenarioError>> {
    if !matches!(
        a.op.as_str(),
        "underwrite" | "buy_cover" | "vault_deposit" | "vault_withdraw" | "vault_claim"
    ) {
        return None;
    }
    Some((|| {
        let fund = a
            .market
            .clone()
            .ok_or_else(|| err(format!("{path}.market"), "which insurance fund or vault?"))?;
        if a.op == "vault_claim" {
            return Ok((Action::Product(ProductAction::VaultClaim { vault: fund }), None));
        }
        let s = a
            .amount
            .as_deref()
            .ok_or_else(|| err(format!("{path}.amount"), "missing amount"))?;
        if a.op == "vault_withdraw" {
            if s.trim() == "all" {
                return Ok((
                    Action::Product(ProductAction::VaultWithdraw {
                        vault: fund.clone(),
                        shares: U256::ZERO,
                    }),
                    Some(fund),
                ));
            }
            let shares = parse_amount_of(s, &fund, 18).map_err(|e| err(format!("{path}.amount"), e))?;
            return Ok((
                Action::Product(ProductAction::VaultWithdraw { vault: fund, shares }),
                None,
            ));
        }
        let amount = parse_amount_of(s, "ETH", 18).map_err(|e| err(format!("{path}.amount"), e))?;
        if amount == U256::ZERO {
            return Err(err(format!("{path}.amount"), "must be positive"));
        }
        Ok(match a.op.as_str() {
            "underwrite" => (Action::Product(ProductAction::Underwrite { fund, amount }), None),
            "vault_deposit" => (
                Action::Product(ProductAction::VaultDeposit { vault: fund, amount }),
                None,
            ),
            _ => {
                let token = a
                    .token
                    .clone()
                    .ok_or_else(|| err(format!("{path}.token"), "which LRT does the cover protect?"))?;
                (Action::Product(ProductAction::BuyCover { fund, token, amount }), None)
            }
        })
    })())
}

/// Applies a product action.
pub fn apply(world: &mut World, sender: &str, action: &ProductAction) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let eth = world.eth_asset;
    match action {
        ProductAction::VaultDeposit { .. } | ProductAction::VaultWithdraw { .. } | ProductAction::VaultClaim { .. } => {
            vaults::apply(world, sender, action)
        }
        ProductAction::Underwrite { fund, amount } => {
            let i = world.products.index(fund)?;
            let from = world.ledger.account(sender);
            world.ledger.require(from, eth, *amount).map_err(proto)?;
            let mut f = world.products.funds[i].fund.clone();
            let shares = f.deposit(*amount, now).map_err(proto)?;
            let to = world.ledger.account(&fund_account(fund));
            world.ledger.transfer(from, to, eth, *amount).map_err(proto)?;
            let e = &mut world.products.funds[i];
            e.fund = f;
            match e.underwriters.iter_mut().find(|(a, _)| a == sender) {
                Some((_, s)) => *s = s.saturating_add(shares),
                None => e.underwriters.push((sender.to_string(), shares)),
            }
            Ok(vec![Event::Transferred {
                asset: "ETH".into(),
                from: sender.into(),
                to: fund_account(fund),
                units: *amount,
            }])
        }
        ProductAction::BuyCover { fund, token, amount } => {
            let i = world.products.index(fund)?;
            let asset = world
                .ledger
                .asset(token)
                .ok()
                .filter(|a| world.lrt.of_asset(*a).is_some())
                .ok_or_else(|| proto(ProductError::NotAnLrt { token: token.clone() }))?;
            let name = format!("{sender}/{token}");
            let mut f = world.products.funds[i].fund.clone();
            f.buy_cover(&name, *amount, now).map_err(proto)?;
            let e = &mut world.products.funds[i];
            e.fund = f;
            if !e.covers.iter().any(|(_, _, n)| *n == name) {
                e.covers.push((sender.to_string(), asset, name));
            }
            Ok(Vec::new())
        }
    }
}

/// Each frame: collect every cover's premium from its holder's ETH. A holder who cannot pay is
/// a hook rejection; the premium stays owed (and blocks claims).
pub fn on_frame(world: &mut World, t: u64) -> Vec<Event> {
    let eth = world.eth_asset;
    for i in 0..world.products.funds.len() {
        let covers = world.products.funds[i].covers.clone();
        let fund_name = world.products.funds[i].name.clone();
        for (holder, _, name) in covers {
            let r: Result<(), EngineError> = (|| {
                let owed = world.products.funds[i].fund.premium_owed(&name, t).map_err(proto)?;
                if owed == U256::ZERO {
                    return Ok(());
                }
                let from = world.ledger.account(&holder);
                world.ledger.require(from, eth, owed).map_err(proto)?;
                let mut f = world.products.funds[i].fund.clone();
                let got = f.collect_premium(&name, t).map_err(proto)?;
                let to = world.ledger.account(&fund_account(&fund_name));
                world.ledger.transfer(from, to, eth, got).map_err(proto)?;
                world.products.funds[i].fund = f;
                Ok(())
            })();
            if let Err(e) = r {
                world.hook_rejections.push(HookRejection {
                    time: t,
                    hook: format!("{fund_name} premium of {name}"),
                    rejection: e.rejection(),
                });
            }
        }
    }
    vaults::on_frame(world, t);
    Vec::new()
}

/// After a slash revalued the LRTs: each covered holder's loss — token balance × the fall of
/// the rate — is claimed from its fund in the same transaction. `before` holds each LRT token's
/// rate before the slash.
pub fn on_slash(world: &mut World, before: &[(AssetId, U256)]) -> Vec<Event> {
    let now = world.now;
    let eth = world.eth_asset;
    let mut events = Vec::new();
    for i in 0..world.products.funds.len() {
        let covers = world.products.funds[i].covers.clone();
        let fund_name = world.products.funds[i].name.clone();
        for (holder, asset, name) in covers {
            let Some(old) = before.iter().find(|(a, _)| *a == asset).map(|x| x.1) else {
                continue;
            };
            let new = match crate::lrt::rate_of(world, asset) {
                Some(Ok(r)) => r,
                _ => continue,
            };
            if new >= old {
                continue;
            }
            let r: Result<U256, EngineError> = (|| {
                let acct = world.ledger.account(&holder);
                let bal = world.ledger.balance(acct, asset);
                let loss = mul_div_down(bal, old.sub_c(new).map_err(proto)?, WAD).map_err(proto)?;
                if loss == U256::ZERO {
                    return Ok(U256::ZERO);
                }
                let mut f = world.products.funds[i].fund.clone();
                let paid = f.claim_loss(&name, loss, now).map_err(proto)?;
                let from = world.ledger.account(&fund_account(&fund_name));
                world.ledger.transfer(from, acct, eth, paid).map_err(proto)?;
                world.products.funds[i].fund = f;
                Ok(paid)
            })();
            match r {
                Ok(paid) if paid > U256::ZERO => events.push(Event::Transferred {
                    asset: "ETH".into(),
                    from: fund_account(&fund_name),
                    to: holder.clone(),
                    units: paid,
                }),
                Ok(_) => {}
                Err(e) => world.hook_rejections.push(HookRejection {
                    time: now,
                    hook: format!("{fund_name} claim of {name}"),
                    rejection: e.rejection(),
                }),
            }
        }
    }
    vaults::mark_all(world);
    events
}

/// Metric values, in the order of [`ProductsWorld::columns`].
pub fn sample(world: &World) -> Vec<f64> {
    let f18 = |v: U256| v.as_f64() / 1e18;
    let mut v = Vec::new();
    for f in &world.products.funds {
        v.extend([f18(f.fund.assets), f18(f.fund.total_cover), f18(f.fund.claims_paid)]);
    }
    v.extend(vaults::sample(world));
    v
}

/// The `products` part of the summary and its console section.
pub fn summary(world: &World) -> (serde_json::Value, String) {
    let (vault_rows, vault_text) = vaults::summary(world);
    if world.products.funds.is_empty() && vault_rows.is_empty() {
        return (serde_json::Value::Null, String::new());
    }
    let fmt = |v: U256| crate::amount::format_fixed(v, 18, 2);
    let mut text = String::from("Insurance funds\n");
    text.push_str(&format!(
        "  {:<14} {:>12} {:>12} {:>12} {:>12} {:>7}\n",
        "fund", "assets ETH", "cover ETH", "premiums", "claims paid", "covers"
    ));
    let mut out = Vec::new();
    for f in &world.products.funds {
        text.push_str(&format!(
            "  {:<14} {:>12} {:>12} {:>12} {:>12} {:>7}\n",
            f.name,
            fmt(f.fund.assets),
            fmt(f.fund.total_cover),
            fmt(f.fund.premiums_collected),
            fmt(f.fund.claims_paid),
            f.covers.len()
        ));
        out.push(serde_json::json!({
            "fund": f.name,
            "assets_wei": f.fund.assets.to_string(),
            "cover_wei": f.fund.total_cover.to_string(),
            "premiums_wei": f.fund.premiums_collected.to_string(),
            "claims_paid_wei": f.fund.claims_paid.to_string(),
            "covers": f.covers.iter().map(|(h, _, n)| serde_json::json!({"holder": h, "cover": n})).collect::<Vec<_>>(),
        }));
    }
    if out.is_empty() {
        text.clear();
    }
    text.push_str(&vault_text);
    (
        serde_json::json!({ "insurance": out, "vaults": vault_rows }),
        text.trim_end().to_string(),
    )
}
