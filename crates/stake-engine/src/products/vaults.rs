//! Yield-aggregator vaults in the world (`[[vaults]]`): `stake_products::aggregator` over ETH,
//! allocating to LRT tokens by its policy under caps.
//!
//! - **Accounts**: `<vault>:vault` holds the idle ETH and the strategy tokens, `<vault>:gas`
//!   receives each move's fixed transaction cost; the share token is the asset `<vault>`.
//! - **Deposits** (`vault_deposit`) mint shares at the ERC-4626 rounding; **rebalances** run every
//!   `cadence`: the planner's moves from the idle buffer buy the strategy tokens through the
//!   protocols themselves (an LRT deposit at its rate), paying `move_cost` each; a move whose
//!   cost exceeds its gain over the cadence is not made. Strategies leave only through their
//!   protocols' withdrawal queues, which are slower than a cadence, so rebalances never sell.
//! - **Marking**: every frame each strategy's allocation is set to the tokens the vault holds at
//!   the LRT's rate — a gain (rewards) or a reported loss (a slash), so the share price falls
//!   only through a loss.
//! - **Withdrawals** (`vault_withdraw`): paid at once from the idle buffer, else queued; the
//!   strategies the request drew on are redeemed through their LRT's queue from the vault's
//!   account, claimed every frame; `vault_claim` pays once the request's delay has passed and
//!   the ETH is back.

use super::*;
use crate::lrt::LrtAction;
use stake_products::aggregator::{
    Aggregator, Cap, Policy, RebalanceParams, Slot, Strategy, StrategyKind, WithdrawalOutcome,
};

/// `[[vaults]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultCfg {
    /// Name (the share token's symbol).
    pub name: String,
    /// `max_yield` (default) or `risk_adjusted`.
    pub policy: Option<String>,
    /// With `risk_adjusted`: weight of the risk score, e.g. `"1"`.
    pub risk_aversion: Option<String>,
    /// Share of the assets kept idle, e.g. `"5%"`.
    pub idle_buffer: Option<String>,
    /// Rebalance period (default `7d`).
    pub cadence: Option<String>,
    /// Fixed cost of one move, e.g. `"0.01 ETH"` (default 0).
    pub move_cost: Option<String>,
    /// Strategies.
    pub strategies: Vec<VaultStrategyCfg>,
}

/// One strategy of a vault.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultStrategyCfg {
    /// The LRT token it holds.
    pub token: String,
    /// Expected APR, e.g. `"4%"`.
    pub apr: String,
    /// Risk score (an annual penalty), e.g. `"1.5%"` (default 0).
    pub risk: Option<String>,
    /// Cap as a share of the assets (`"50%"`) or an amount (`"1_000 ETH"`).
    pub cap: String,
    /// How long a redemption takes (default `30d`).
    pub withdrawal_delay: Option<String>,
}

/// One vault in the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultEntry {
    /// Name.
    pub name: String,
    /// Share token.
    pub asset: AssetId,
    /// State.
    pub agg: Aggregator,
    /// Strategy tokens, by strategy index.
    pub tokens: Vec<AssetId>,
    /// Rebalance period, seconds.
    pub cadence_s: u64,
    /// Cost per move (wei).
    pub move_cost: U256,
    /// Next rebalance time.
    pub next_rebalance: u64,
    /// Open queued requests: (owner, id).
    pub requests: Vec<(String, u64)>,
}

fn vault_account(name: &str) -> String {
    format!("{name}:vault")
}

/// Builds `[[vaults]]` (after the LRTs).
pub fn build(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    for (k, c) in scn.vaults.iter().enumerate() {
        let path = format!("vaults[{k}]");
        if c.name.is_empty() || c.name.contains(':') || world.ledger.asset(&c.name).is_ok() {
            return Err(err(
                format!("{path}.name"),
                format!("`{}` is empty, an asset already or contains `:`", c.name),
            ));
        }
        let frac = |s: &str, key: &str| parse_wad_fraction(s).map_err(|e| err(format!("{path}.{key}"), e));
        let share = |s: &str, key: &str| crate::amount::parse_share_bps(s).map_err(|e| err(format!("{path}.{key}"), e));
        let policy = match c.policy.as_deref().unwrap_or("max_yield") {
            "max_yield" => Policy::MaxYield,
            "risk_adjusted" => Policy::MaxRiskAdjusted {
                risk_aversion_wad: match &c.risk_aversion {
                    Some(s) => stake_math::parse::parse_fraction(s, WAD)
                        .map_err(|e| err(format!("{path}.risk_aversion"), format!("`{s}`: {e}")))?,
                    None => WAD,
                },
            },
            other => {
                return Err(err(
                    format!("{path}.policy"),
                    format!("unknown policy `{other}` (max_yield, risk_adjusted)"),
                ))
            }
        };
        let idle = match &c.idle_buffer {
            Some(s) => share(s, "idle_buffer")?,
            None => 0,
        };
        let mut agg = Aggregator::new(0, policy, idle, U256::MAX).map_err(|e| err(&path, e.to_string()))?;
        let mut tokens = Vec::new();
        for (j, s) in c.strategies.iter().enumerate() {
            let spath = format!("{path}.strategies[{j}]");
            let asset = world
                .ledger
                .asset(&s.token)
                .ok()
                .filter(|a| world.lrt.of_asset(*a).is_some())
                .ok_or_else(|| {
                    err(
                        format!("{spath}.token"),
                        format!("`{}` is not an LRT of `[lrt.*]`", s.token),
                    )
                })?;
            let apr = frac(&s.apr, &format!("strategies[{j}].apr"))?;
            let risk = match &s.risk {
                Some(r) => frac(r, &format!("strategies[{j}].risk"))?,
                None => U256::ZERO,
            };
            let cap = if s.cap.trim_end().ends_with('%') {
                Cap::ShareBps(share(&s.cap, &format!("strategies[{j}].cap"))?)
            } else {
                Cap::Assets(parse_amount_of(&s.cap, "ETH", 18).map_err(|e| err(format!("{spath}.cap"), e))?)
            };
            let delay = match &s.withdrawal_delay {
                Some(d) => parse_duration(d).map_err(|e| err(format!("{spath}.withdrawal_delay"), e))?,
                None => 30 * 86_400,
            };
            agg.add_strategy(Strategy::new(&s.token, StrategyKind::Lrt, apr, risk, cap).with_delay(delay))
                .map_err(|e| err(format!("{spath}.token"), e.to_string()))?;
            tokens.push(asset);
        }
        let cadence_s = match &c.cadence {
            Some(s) => parse_duration(s).map_err(|e| err(format!("{path}.cadence"), e))?.max(1),
            None => 7 * 86_400,
        };
        let move_cost = match &c.move_cost {
            Some(s) => parse_amount_of(s, "ETH", 18).map_err(|e| err(format!("{path}.move_cost"), e))?,
            None => U256::ZERO,
        };
        let asset = world
            .ledger
            .register_asset(&c.name, 18, "aggregator", stake_ledger::AssetKind::Plain)
            .map_err(|e| err(&path, e.to_string()))?;
        world.ledger.account(&vault_account(&c.name));
        world.products.vaults.push(VaultEntry {
            name: c.name.clone(),
            asset,
            agg,
            tokens,
            cadence_s,
            move_cost,
            next_rebalance: start,
            requests: Vec::new(),
        });
    }
    Ok(())
}

impl ProductsWorld {
    fn vault_index(&self, vault: &str) -> Result<usize, EngineError> {
        self.vaults
            .iter()
            .position(|v| v.name == vault)
            .ok_or_else(|| proto(ProductError::UnknownVault { vault: vault.into() }))
    }
}

/// Backing of the vaults: the aggregator's rules, shares = the token's ledger supply, and the
/// vault account holding at least the idle ETH.
pub fn check_backing(p: &ProductsWorld, ledger: &Ledger, eth: AssetId, full: bool) -> Result<(), String> {
    for v in &p.vaults {
        if full {
            v.agg.check_invariants().map_err(|e| format!("{}: {e}", v.name))?;
        }
        if ledger.supply(v.asset) != v.agg.vault.total_supply {
            return Err(format!(
                "{}: ledger supply {} differs from the vault's {}",
                v.name,
                ledger.supply(v.asset),
                v.agg.vault.total_supply
            ));
        }
        let held = ledger
            .find_account(&vault_account(&v.name))
            .map(|a| ledger.balance(a, eth))
            .unwrap_or(U256::ZERO);
        if held < v.agg.vault.idle {
            return Err(format!("{}: holds {held} wei, idle is {}", v.name, v.agg.vault.idle));
        }
    }
    Ok(())
}

/// Applies a vault action.
pub fn apply(world: &mut World, sender: &str, action: &ProductAction) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let eth = world.eth_asset;
    match action {
        ProductAction::VaultDeposit { vault, amount } => {
            let i = world.products.vault_index(vault)?;
            let from = world.ledger.account(sender);
            world.ledger.require(from, eth, *amount).map_err(proto)?;
            let mut agg = world.products.vaults[i].agg.clone();
            let shares = agg.deposit(*amount).map_err(proto)?;
            let to = world.ledger.account(&vault_account(vault));
            world.ledger.transfer(from, to, eth, *amount).map_err(proto)?;
            let asset = world.products.vaults[i].asset;
            world.ledger.mint(from, asset, shares).map_err(proto)?;
            world.products.vaults[i].agg = agg;
            Ok(vec![Event::Transferred {
                asset: vault.clone(),
                from: "mint".into(),
                to: sender.into(),
                units: shares,
            }])
        }
        ProductAction::VaultWithdraw { vault, shares } => {
            let i = world.products.vault_index(vault)?;
            let from = world.ledger.account(sender);
            let asset = world.products.vaults[i].asset;
            let balance = world.ledger.balance(from, asset);
            let mut agg = world.products.vaults[i].agg.clone();
            let before: Vec<U256> = agg.strategies.iter().map(|s| s.allocation).collect();
            let out = agg.request_withdrawal(sender, *shares, balance, now).map_err(proto)?;
            world.ledger.burn(from, asset, *shares).map_err(proto)?;
            let va = world.ledger.account(&vault_account(vault));
            let mut events = Vec::new();
            match out {
                WithdrawalOutcome::Paid { assets } => {
                    world.ledger.transfer(va, from, eth, assets).map_err(proto)?;
                }
                WithdrawalOutcome::Queued { id, .. } => {
                    // Redeem what the request drew from each strategy through its LRT's queue.
                    let lrt_backup = world.lrt.clone();
                    let r = (|| -> Result<(), EngineError> {
                        for (k, s) in agg.strategies.iter().enumerate() {
                            let delta = before[k].saturating_sub(s.allocation);
                            if delta == U256::ZERO {
                                continue;
                            }
                            let token = world.products.vaults[i].tokens[k];
                            let rate = crate::lrt::rate_of(world, token).unwrap_or(Ok(WAD))?;
                            let held = world.ledger.balance(va, token);
                            let amount = stake_math::mul_div_up(delta, WAD, rate).map_err(proto)?.min(held);
                            if amount == U256::ZERO {
                                continue;
                            }
                            let lrt = world.ledger.symbol(token).to_string();
                            events.extend(crate::lrt::apply(
                                world,
                                &vault_account(vault),
                                &LrtAction::RequestWithdrawal { lrt, amount },
                            )?);
                        }
                        Ok(())
                    })();
                    if let Err(e) = r {
                        world.lrt = lrt_backup;
                        return Err(e);
                    }
                    world.products.vaults[i].requests.push((sender.to_string(), id));
                }
            }
            world.products.vaults[i].agg = agg;
            Ok(events)
        }
        ProductAction::VaultClaim { vault } => {
            let i = world.products.vault_index(vault)?;
            let mut agg = world.products.vaults[i].agg.clone();
            let va = world.ledger.account(&vault_account(vault));
            let to = world.ledger.account(sender);
            let mut paid = U256::ZERO;
            let mut left = Vec::new();
            let mut first: Option<EngineError> = None;
            for (owner, id) in world.products.vaults[i].requests.clone() {
                if owner != sender {
                    left.push((owner, id));
                    continue;
                }
                let owed = agg.queue.get(&id).map(|q| q.assets).unwrap_or(U256::ZERO);
                let idle = agg.vault.idle;
                let liquid = world.ledger.balance(va, eth).saturating_sub(idle).saturating_sub(paid);
                if owed > liquid {
                    first.get_or_insert(proto(ProductError::NotYetLiquid {
                        vault: vault.clone(),
                        owed,
                        liquid,
                    }));
                    left.push((owner, id));
                    continue;
                }
                match agg.claim(sender, id, now) {
                    Ok(a) => paid = paid.add_c(a).map_err(proto)?,
                    Err(e) => {
                        first.get_or_insert(proto(e));
                        left.push((owner, id));
                    }
                }
            }
            if paid == U256::ZERO {
                return Err(first.unwrap_or_else(|| {
                    proto(ProductError::NothingToClaim {
                        vault: vault.clone(),
                        account: sender.into(),
                    })
                }));
            }
            world.ledger.transfer(va, to, eth, paid).map_err(proto)?;
            let v = &mut world.products.vaults[i];
            v.agg = agg;
            v.requests = left;
            Ok(vec![Event::Transferred {
                asset: "ETH".into(),
                from: vault_account(vault),
                to: sender.into(),
                units: paid,
            }])
        }
        _ => Err(proto(ProductError::UnknownVault { vault: String::new() })),
    }
}

/// Each frame: claim the vault's LRT redemptions, mark the strategies to their tokens' value,
/// and rebalance when the cadence is due.
pub fn on_frame(world: &mut World, t: u64) {
    for i in 0..world.products.vaults.len() {
        let name = world.products.vaults[i].name.clone();
        let va = vault_account(&name);
        for k in 0..world.products.vaults[i].tokens.len() {
            let token = world.products.vaults[i].tokens[k];
            let lrt = world.ledger.symbol(token).to_string();
            let has_requests = world
                .lrt
                .index(&lrt)
                .ok()
                .is_some_and(|j| world.lrt.lrts[j].requests.contains_key(&va));
            if has_requests {
                // Refusals (too early, not yet filled) are expected until the queue pays; a
                // rejection changes nothing.
                let _ = world.apply(&crate::action::Tx {
                    sender: va.clone(),
                    action: Action::Lrt(LrtAction::Claim { lrt }),
                });
            }
        }
        let r = (|| -> Result<(), EngineError> {
            mark(world, i)?;
            if t >= world.products.vaults[i].next_rebalance {
                rebalance(world, i)?;
                let v = &mut world.products.vaults[i];
                v.next_rebalance = t.saturating_add(v.cadence_s);
            }
            Ok(())
        })();
        if let Err(e) = r {
            world.hook_rejections.push(HookRejection {
                time: t,
                hook: format!("{name} vault"),
                rejection: e.rejection(),
            });
        }
    }
}

/// Marks every vault now (after a slash, in the same transaction as the LRTs' revaluation).
pub fn mark_all(world: &mut World) {
    for i in 0..world.products.vaults.len() {
        if let Err(e) = mark(world, i) {
            let time = world.now;
            let hook = format!("{} vault", world.products.vaults[i].name);
            world.hook_rejections.push(HookRejection {
                time,
                hook,
                rejection: e.rejection(),
            });
        }
    }
}

/// Sets each strategy's allocation to the value of the tokens the vault holds.
fn mark(world: &mut World, i: usize) -> Result<(), EngineError> {
    let va = world.ledger.account(&vault_account(&world.products.vaults[i].name));
    let mut agg = world.products.vaults[i].agg.clone();
    for k in 0..agg.strategies.len() {
        let token = world.products.vaults[i].tokens[k];
        let rate = match crate::lrt::rate_of(world, token) {
            Some(Ok(r)) => r,
            _ => continue,
        };
        let value = mul_div_down(world.ledger.balance(va, token), rate, WAD).map_err(proto)?;
        let alloc = agg.strategies[k].allocation;
        if value > alloc {
            agg.report_gain(k, value.sub_c(alloc).map_err(proto)?).map_err(proto)?;
        } else if value < alloc {
            agg.report_loss(k, alloc.sub_c(value).map_err(proto)?).map_err(proto)?;
        }
    }
    world.products.vaults[i].agg = agg;
    Ok(())
}

/// Plans and makes the moves out of the idle buffer (buying through the LRTs' deposits).
fn rebalance(world: &mut World, i: usize) -> Result<(), EngineError> {
    let v = &world.products.vaults[i];
    let params = RebalanceParams {
        move_cost: v.move_cost,
        cadence_s: v.cadence_s,
    };
    // Deposits mint at the protocol's rate: no slippage beyond the fixed cost.
    let moves: Vec<_> = v
        .agg
        .plan_rebalance(params, &|_: Slot, _: Slot, _: U256| U256::ZERO)
        .map_err(proto)?
        .into_iter()
        .filter(|m| m.from == Slot::Idle)
        .collect();
    if moves.is_empty() {
        return Ok(());
    }
    let name = v.name.clone();
    let va = world.ledger.account(&vault_account(&name));
    let gas = world.ledger.account(&format!("{name}:gas"));
    let eth = world.eth_asset;
    let lrt_backup = world.lrt.clone();
    let r = (|| -> Result<(), EngineError> {
        for m in &moves {
            let Slot::Strategy(k) = m.to else { continue };
            let token = world.products.vaults[i].tokens[k];
            world.ledger.transfer(va, gas, eth, m.cost).map_err(proto)?;
            let spend = m.amount.sub_c(m.cost).map_err(proto)?;
            crate::markets::eth_into_for(world, va, token, spend)?;
        }
        Ok(())
    })();
    if let Err(e) = r {
        world.lrt = lrt_backup;
        return Err(e);
    }
    let mut agg = world.products.vaults[i].agg.clone();
    agg.apply_rebalance(&moves).map_err(proto)?;
    world.products.vaults[i].agg = agg;
    // The tokens bought are worth their rate: the next mark settles any rounding.
    mark(world, i)
}

/// The vaults' console lines and JSON rows.
pub fn summary(world: &World) -> (Vec<serde_json::Value>, String) {
    let fmt = |v: U256| crate::amount::format_fixed(v, 18, 2);
    let mut rows = Vec::new();
    let mut text = String::new();
    if world.products.vaults.is_empty() {
        return (rows, text);
    }
    text.push_str(
        "Aggregator vaults
",
    );
    for v in &world.products.vaults {
        let price = v.agg.share_price_wad().unwrap_or(U256::ZERO);
        let total = v.agg.vault.total_assets().unwrap_or(U256::ZERO);
        text.push_str(&format!(
            "  {:<12} share price {}  assets {} ETH  idle {} ETH  losses {} ETH  costs {} ETH  queued {} ETH\n",
            v.name,
            crate::amount::format_fixed(price, 18, 6),
            fmt(total),
            fmt(v.agg.vault.idle),
            fmt(v.agg.losses),
            fmt(v.agg.costs_paid),
            fmt(v.agg.queued_assets)
        ));
        let mut strategies = Vec::new();
        for s in &v.agg.strategies {
            let share = if total > U256::ZERO {
                s.allocation.as_f64() / total.as_f64() * 100.0
            } else {
                0.0
            };
            text.push_str(&format!(
                "    {:<10} {:>12} ETH {:>6.2} %\n",
                s.name,
                fmt(s.allocation),
                share
            ));
            strategies.push(
                serde_json::json!({"strategy": s.name, "allocation_wei": s.allocation.to_string(), "share_pct": share}),
            );
        }
        rows.push(serde_json::json!({
            "vault": v.name,
            "share_price_wad": price.to_string(),
            "total_assets_wei": total.to_string(),
            "idle_wei": v.agg.vault.idle.to_string(),
            "losses_wei": v.agg.losses.to_string(),
            "costs_wei": v.agg.costs_paid.to_string(),
            "queued_wei": v.agg.queued_assets.to_string(),
            "strategies": strategies,
        }));
    }
    (rows, text)
}

/// Metric values: per vault its share price, assets and idle ETH.
pub fn sample(world: &World) -> Vec<f64> {
    let f18 = |v: U256| v.as_f64() / 1e18;
    let mut out = Vec::new();
    for v in &world.products.vaults {
        out.push(f18(v.agg.share_price_wad().unwrap_or(U256::ZERO)));
        out.push(f18(v.agg.vault.total_assets().unwrap_or(U256::ZERO)));
        out.push(f18(v.agg.vault.idle));
    }
    out
}
