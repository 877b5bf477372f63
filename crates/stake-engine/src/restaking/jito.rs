//! Jito vaults and NCNs in the world (SPEC §5.3).
//!
//! Slots are 400 ms; slot 0 is three epochs before the scenario start, so the opt-in tickets the
//! scenario implies (vault↔operator for each delegation; NCN↔operator, NCN↔vault, vault↔operator
//! for each `protocol = "jito"` service) are warmed up in that pre-history (at slot 1) and are
//! Active at the start — the world starts mid-history. Each vault is cranked (epoch update) every
//! frame and before every user operation, as its permissionless crankers do.
//!
//! - **Rewards**: the day's budget (in the vault's supported token) is split over (vault,
//!   operator) pairs by `stake_for` (`⌊R·s/S⌋`), transferred into each vault's token account, and
//!   `update_vault_balance` books it (the reward fee goes to the fee wallet as VRT): the VRT rate
//!   rises.
//! - **Faults**: `⌊staked·fraction⌋` of the operator's delegation in each vault of the NCN,
//!   slashed staked → enqueued → cooling into `jito:slashed`.

use super::funds::{acquire, amount_of, DepositorCfg};
use super::{err, reject, setup_err, RestakingEvent, ServiceRef};
use crate::amount::parse_bps;
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::ScenarioError;
use crate::time::parse_duration;
use crate::world::World;
use serde::Deserialize;
use stake_ledger::{AccountId, Ledger};
use stake_math::{mul_div_down, mul_wad_down, Checked, U256};
use stake_restaking::jito::{slot_at, Jito, JitoEvent, JitoVaultParams, TicketKind, DEFAULT_SLOT_MS};
use std::collections::{BTreeMap, BTreeSet};

/// The slot of the genesis history (tickets are warmed up there).
const HISTORY_SLOT: u64 = 1;

/// `[restaking.jito]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JitoCfg {
    /// Epoch length (default `2d` = 432,000 slots of 400 ms).
    pub epoch: Option<String>,
    /// Program fee on withdrawals (default `10 bps`).
    pub program_fee: Option<String>,
    /// `[[restaking.jito.vaults]]`.
    #[serde(default)]
    pub vaults: Vec<JitoVaultCfg>,
}

/// A genesis delegation of a vault to an operator: `{ operator = "op-j", amount = "40_000 JitoSOL" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JitoDelegationCfg {
    /// Operator.
    pub operator: String,
    /// Tokens delegated.
    pub amount: String,
}

/// `[[restaking.jito.vaults]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JitoVaultCfg {
    /// Vault name (module accounts `jito:<name>`, `jito:<name>:tickets`).
    pub name: String,
    /// Supported token (e.g. an external `JitoSOL`).
    pub token: String,
    /// VRT symbol (default `v<token>`).
    pub vrt: Option<String>,
    /// Deposit fee (default 0).
    pub deposit_fee: Option<String>,
    /// Withdrawal fee (default 0).
    pub withdrawal_fee: Option<String>,
    /// Reward fee (default 0).
    pub reward_fee: Option<String>,
    /// Deposit capacity (default unlimited).
    pub capacity: Option<String>,
    /// Genesis deposits (VRT minted at the start).
    #[serde(default)]
    pub depositors: Vec<DepositorCfg>,
    /// Genesis delegations to operators.
    #[serde(default)]
    pub delegations: Vec<JitoDelegationCfg>,
}

fn ev(v: Vec<JitoEvent>) -> impl Iterator<Item = Event> {
    v.into_iter().map(|e| Event::Restaking(RestakingEvent::Jito(e)))
}

/// The slot at time `t`.
pub(super) fn slot(world: &World, t: u64) -> u64 {
    slot_at(t, world.restaking.jito_genesis, DEFAULT_SLOT_MS)
}

fn fee(s: &Option<String>, path: &str) -> Result<u16, ScenarioError> {
    match s {
        Some(s) => {
            let v = parse_bps(s).map_err(|e| err(path, e))?;
            u16::try_from(v)
                .ok()
                .filter(|x| *x <= 10_000)
                .ok_or_else(|| err(path, "at most 100%"))
        }
        None => Ok(0),
    }
}

/// Builds the Jito world: vaults, operators, NCNs, tickets, deposits and delegations.
pub(super) fn build(
    world: &mut World,
    cfg: &JitoCfg,
    services: &[ServiceRef<'_>],
    start: u64,
) -> Result<(), ScenarioError> {
    let p = "restaking.jito";
    let epoch_secs = parse_duration(cfg.epoch.as_deref().unwrap_or("2d")).map_err(|e| err(format!("{p}.epoch"), e))?;
    let epoch_slots = epoch_secs.saturating_mul(1000) / DEFAULT_SLOT_MS;
    if epoch_slots == 0 {
        return Err(err(format!("{p}.epoch"), "must be at least one slot (400 ms)"));
    }
    let program_fee = match &cfg.program_fee {
        Some(_) => fee(&cfg.program_fee, &format!("{p}.program_fee"))?,
        None => 10,
    };
    world.restaking.jito_genesis = start.saturating_sub(epoch_secs.saturating_mul(3));
    let mut j = Jito::new(&mut world.ledger, epoch_slots, program_fee, "jito:program-fee").map_err(setup_err(p))?;
    let s0 = slot(world, start);
    let mut tickets: BTreeSet<(TicketKind, String, String)> = BTreeSet::new();
    let mut ticket = |j: &mut Jito, k: TicketKind, a: &str, b: &str, path: &str| -> Result<(), ScenarioError> {
        if tickets.insert((k, a.to_string(), b.to_string())) {
            j.toggle_ticket(k, a, b, true, HISTORY_SLOT).map_err(setup_err(path))?;
        }
        Ok(())
    };
    let mut operators: BTreeSet<String> = BTreeSet::new();
    for (i, c) in cfg.vaults.iter().enumerate() {
        let path = format!("{p}.vaults[{i}]");
        if c.name.is_empty() || c.name.contains(':') || c.name.contains('/') {
            return Err(err(format!("{path}.name"), format!("`{}` is not a vault name", c.name)));
        }
        let supported = world
            .ledger
            .asset(&c.token)
            .map_err(|_| err(format!("{path}.token"), format!("unknown token `{}`", c.token)))?;
        let capacity = match &c.capacity {
            Some(s) => amount_of(world, s, &c.token, &format!("{path}.capacity"))?,
            None => U256::MAX,
        };
        let params = JitoVaultParams {
            name: c.name.clone(),
            supported,
            vrt_symbol: c.vrt.clone().unwrap_or_else(|| format!("v{}", c.token)),
            fee_wallet: format!("jito:{}:fees", c.name),
            capacity,
            deposit_fee_bps: fee(&c.deposit_fee, &format!("{path}.deposit_fee"))?,
            withdrawal_fee_bps: fee(&c.withdrawal_fee, &format!("{path}.withdrawal_fee"))?,
            reward_fee_bps: fee(&c.reward_fee, &format!("{path}.reward_fee"))?,
        };
        j.initialize_vault(&mut world.ledger, params, HISTORY_SLOT)
            .map_err(setup_err(&format!("{path}.name")))?;
        for d in &c.delegations {
            operators.insert(d.operator.clone());
        }
    }
    for s in services {
        for o in s.operators {
            operators.insert(o.clone());
        }
        for (k, v) in s.vaults.iter().enumerate() {
            if !j.vaults.contains_key(v) {
                return Err(err(
                    format!("{}.vaults[{k}]", s.path),
                    format!("`{v}` is not a [[restaking.jito.vaults]] vault"),
                ));
            }
        }
    }
    for o in &operators {
        super::funds::account_name(o, p)?;
        j.initialize_operator(o).map_err(setup_err(p))?;
    }
    for (i, c) in cfg.vaults.iter().enumerate() {
        for (k, d) in c.delegations.iter().enumerate() {
            let dp = format!("{p}.vaults[{i}].delegations[{k}]");
            ticket(&mut j, TicketKind::VaultOperator, &c.name, &d.operator, &dp)?;
            ticket(&mut j, TicketKind::OperatorVault, &d.operator, &c.name, &dp)?;
        }
    }
    for s in services {
        j.initialize_ncn(s.name)
            .map_err(setup_err(&format!("{}.name", s.path)))?;
        for o in s.operators {
            ticket(&mut j, TicketKind::NcnOperator, s.name, o, &s.path)?;
            ticket(&mut j, TicketKind::OperatorNcn, o, s.name, &s.path)?;
            for v in s.vaults {
                ticket(&mut j, TicketKind::VaultOperator, v, o, &s.path)?;
                ticket(&mut j, TicketKind::OperatorVault, o, v, &s.path)?;
            }
        }
        for v in s.vaults {
            ticket(&mut j, TicketKind::NcnVault, s.name, v, &s.path)?;
            ticket(&mut j, TicketKind::VaultNcn, v, s.name, &s.path)?;
        }
    }
    for (i, c) in cfg.vaults.iter().enumerate() {
        let path = format!("{p}.vaults[{i}]");
        j.update_vault(&c.name, s0).map_err(setup_err(&path))?;
        for (k, d) in c.depositors.iter().enumerate() {
            let dpath = format!("{path}.depositors[{k}].amount");
            let got = acquire(world, &d.account, &c.token, &d.amount, &dpath, start)?;
            let acct = world.ledger.account(&d.account);
            j.mint_to(&mut world.ledger, &c.name, acct, got, U256::ZERO, s0)
                .map_err(setup_err(&dpath))?;
        }
        for (k, d) in c.delegations.iter().enumerate() {
            let dpath = format!("{path}.delegations[{k}].amount");
            let a = amount_of(world, &d.amount, &c.token, &dpath)?;
            j.add_delegation(&c.name, &d.operator, a, s0)
                .map_err(setup_err(&dpath))?;
        }
    }
    world.restaking.jito = Some(j);
    Ok(())
}

fn jito_mut(world: &mut World) -> Result<&mut Jito, EngineError> {
    Ok(parts(world)?.0)
}

fn parts(world: &mut World) -> Result<(&mut Jito, &mut Ledger), EngineError> {
    let j = world
        .restaking
        .jito
        .as_mut()
        .ok_or_else(|| reject(9032, "the scenario has no [restaking.jito]".into()))?;
    Ok((j, &mut world.ledger))
}

/// Cranks a vault (no-op within an epoch).
fn crank(world: &mut World, vault: &str) -> Result<Vec<Event>, EngineError> {
    let s = slot(world, world.now);
    let j = jito_mut(world)?;
    Ok(ev(j.update_vault(vault, s).map_err(proto)?).collect())
}

fn vault_assets(world: &World, vault: &str) -> Result<(stake_ledger::AssetId, stake_ledger::AssetId), EngineError> {
    let v = world
        .restaking
        .jito
        .as_ref()
        .and_then(|j| j.vaults.get(vault))
        .ok_or_else(|| reject(9035, format!("unknown Jito vault `{vault}`")))?;
    Ok((v.supported, v.vrt))
}

/// Mints VRT for supported tokens (None = the whole balance).
pub(super) fn mint(
    world: &mut World,
    sender: &str,
    vault: &str,
    amount: Option<U256>,
    min_out: U256,
) -> Result<Vec<Event>, EngineError> {
    let (supported, _) = vault_assets(world, vault)?;
    let mut out = crank(world, vault)?;
    let acct = world.ledger.account(sender);
    let amount = amount.unwrap_or_else(|| world.ledger.balance(acct, supported));
    let s = slot(world, world.now);
    let (j, ledger) = parts(world)?;
    out.extend(ev(j.mint_to(ledger, vault, acct, amount, min_out, s).map_err(proto)?));
    Ok(out)
}

/// Escrows VRT in a withdrawal ticket (None = the whole VRT balance).
pub(super) fn enqueue(
    world: &mut World,
    sender: &str,
    vault: &str,
    amount: Option<U256>,
) -> Result<Vec<Event>, EngineError> {
    let (_, vrt) = vault_assets(world, vault)?;
    let mut out = crank(world, vault)?;
    let acct = world.ledger.account(sender);
    let amount = amount.unwrap_or_else(|| world.ledger.balance(acct, vrt));
    let s = slot(world, world.now);
    let (j, ledger) = parts(world)?;
    out.extend(ev(j
        .enqueue_withdrawal(ledger, vault, acct, amount, s)
        .map_err(proto)?));
    Ok(out)
}

/// Burns every withdrawable ticket of the sender.
pub(super) fn burn_tickets(world: &mut World, sender: &str, vault: &str) -> Result<Vec<Event>, EngineError> {
    vault_assets(world, vault)?;
    let mut out = crank(world, vault)?;
    let acct = world.ledger.account(sender);
    let s = slot(world, world.now);
    let (j, ledger) = parts(world)?;
    let epoch = j.epoch(s);
    let ids: Vec<u64> = j
        .vaults
        .get(vault)
        .map(|v| {
            v.tickets
                .iter()
                .filter(|(_, t)| t.staker == acct && epoch > j.epoch(t.slot_unstaked) + 1)
                .map(|(id, _)| *id)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(reject(
            9033,
            format!("{sender} has no withdrawable Jito ticket in vault {vault}"),
        ));
    }
    for id in ids {
        out.extend(ev(j
            .burn_withdrawal_ticket(ledger, vault, acct, id, s)
            .map_err(proto)?));
    }
    Ok(out)
}

/// A fault of `operator` in NCN `service`: slashes its delegation in every vault of the NCN.
pub(super) fn fault(
    world: &mut World,
    service: &str,
    operator: &str,
    vaults: &[String],
    fraction: U256,
) -> Result<Vec<Event>, EngineError> {
    let mut out = Vec::new();
    let dest = world.ledger.account("jito:slashed");
    for v in vaults {
        out.extend(crank(world, v)?);
        let s = slot(world, world.now);
        let (j, ledger) = parts(world)?;
        let staked = j.stake_for(v, service, operator, s);
        let amount = mul_wad_down(staked, fraction).map_err(proto)?;
        if amount == U256::ZERO {
            continue;
        }
        out.extend(ev(j
            .slash(ledger, v, service, operator, amount, dest, s)
            .map_err(proto)?));
        out.extend(super::svc_ev(
            world
                .restaking
                .services
                .record_slash(service, operator, amount)
                .map_err(proto)?,
        ));
    }
    Ok(out)
}

/// Frame work: cranks every vault.
pub(super) fn on_frame(world: &mut World, t: u64, events: &mut Vec<Event>) {
    let vaults: Vec<String> = world
        .restaking
        .jito
        .as_ref()
        .map(|j| j.vaults.keys().cloned().collect())
        .unwrap_or_default();
    for v in vaults {
        super::guarded_ok(world, t, format!("jito {v} epoch update"), events, |w| crank(w, &v));
    }
}

/// Stake of every (vault, operator) pair securing an NCN now.
pub(super) fn pairs(world: &World, ncn: &str, vaults: &[String], operators: &[String]) -> Vec<(String, String, U256)> {
    let s = slot(world, world.now);
    let mut out = Vec::new();
    if let Some(j) = &world.restaking.jito {
        for v in vaults {
            for o in operators {
                out.push((v.clone(), o.clone(), j.stake_for(v, ncn, o, s)));
            }
        }
    }
    out
}

/// Pays `total` from the treasury into the vaults by stake and books it (`update_vault_balance`);
/// returns the amount paid per operator.
pub(super) fn distribute(
    world: &mut World,
    ncn: &str,
    vaults: &[String],
    operators: &[String],
    from: AccountId,
    total: U256,
) -> Result<(BTreeMap<String, U256>, Vec<Event>), EngineError> {
    let ps = pairs(world, ncn, vaults, operators);
    let sum = ps.iter().fold(U256::ZERO, |a, p| a.saturating_add(p.2));
    let mut paid: BTreeMap<String, U256> = BTreeMap::new();
    let mut events = Vec::new();
    if sum == U256::ZERO || total == U256::ZERO {
        return Ok((paid, events));
    }
    let mut per_vault: BTreeMap<String, U256> = BTreeMap::new();
    for (v, o, s) in ps {
        let part = mul_div_down(total, s, sum).map_err(proto)?;
        if part == U256::ZERO {
            continue;
        }
        let e = per_vault.entry(v).or_default();
        *e = e.add_c(part).map_err(proto)?;
        let e = paid.entry(o).or_default();
        *e = e.add_c(part).map_err(proto)?;
    }
    for (v, amt) in per_vault {
        events.extend(crank(world, &v)?);
        let s = slot(world, world.now);
        let (j, ledger) = parts(world)?;
        let (acct, supported) = match j.vaults.get(&v) {
            Some(x) => (x.account, x.supported),
            None => continue,
        };
        ledger.transfer(from, acct, supported, amt).map_err(proto)?;
        events.extend(ev(j.update_vault_balance(ledger, &v, s).map_err(proto)?));
    }
    Ok((paid, events))
}

/// (stake, allocated) of an operator: its delegated security over every vault, and the stake it
/// secures NCNs with.
pub(super) fn operator_values(world: &World, op: &str) -> (U256, U256) {
    let Some(j) = &world.restaking.jito else {
        return (U256::ZERO, U256::ZERO);
    };
    let s = slot(world, world.now);
    let mut stake = U256::ZERO;
    for v in j.vaults.values() {
        if let Some(d) = v.operators.get(op) {
            stake = stake.saturating_add(d.total_security().unwrap_or_default());
        }
    }
    let mut alloc = U256::ZERO;
    for (svc, vs) in &world.restaking.service_vaults {
        if !j.ncns.contains(svc) {
            continue;
        }
        for v in vs {
            alloc = alloc.saturating_add(j.stake_for(v, svc, op, s));
        }
    }
    (stake, alloc)
}
