//! Symbiotic vaults in the world (SPEC §5.2).
//!
//! Each `[[restaking.symbiotic.vaults]]` is a [`SymbioticVault`] created at the start. A service
//! with `protocol = "symbiotic"` is a *network*: for every vault it names, the network sets its
//! maximum network limit, the curator sets the network limit and the operators' shares (network
//! restake) or limits (full restake), every listed operator opts into the vault and the network,
//! and a veto slasher gets the vault's resolver for that network.
//!
//! - **Rewards**: the day's budget is split over (vault, operator) pairs by `stake(network, op)`
//!   (`⌊R·s/S⌋`), and each part is paid to the vault's active shareholders pro rata to their shares
//!   (`⌊part·shares/activeShares⌋`), as `DefaultStakerRewards` does; rounding dust stays in the
//!   treasury.
//! - **Faults**: capture = `now − 1`; amount = `⌊slashableStake·fraction⌋` (per vault). An instant
//!   slasher slashes at once; a veto slasher records a request that the engine executes at the
//!   first frame after its veto deadline unless the resolver vetoed it (`do = "symbiotic_veto"`).

use super::funds::{account_name, acquire, amount_of, DepositorCfg};
use super::{err, guarded_ok, reject, setup_err, RestakingEvent, ServiceRef};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::scenario::ScenarioError;
use crate::time::parse_duration;
use crate::world::World;
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, Ledger};
use stake_math::{mul_div_down, mul_wad_down, Checked, U256};
use stake_restaking::symbiotic::{DelegatorKind, SlasherKind, SymbioticEvent, SymbioticVault, VaultParams};
use std::collections::{BTreeMap, BTreeSet};

/// `[restaking.symbiotic]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbioticCfg {
    /// `[[restaking.symbiotic.vaults]]`.
    #[serde(default)]
    pub vaults: Vec<SymVaultCfg>,
}

/// A network limit set on a vault: `{ network = "oracle-s", limit = "5_000 wstETH", max = "…" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymLimitCfg {
    /// Network (a symbiotic service using this vault).
    pub network: String,
    /// Curator's network limit (default unlimited).
    pub limit: Option<String>,
    /// The network's maximum network limit (default: the limit).
    pub max: Option<String>,
}

/// An operator's part of a network on a vault: `{ network, operator, shares = "2" }` (network
/// restake) or `{ network, operator, limit = "1_000 wstETH" }` (full restake).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymOperatorCfg {
    /// Network.
    pub network: String,
    /// Operator.
    pub operator: String,
    /// Network-restake shares (an integer; default 1 each).
    pub shares: Option<String>,
    /// Full-restake operator-network limit (default unlimited).
    pub limit: Option<String>,
}

/// `[[restaking.symbiotic.vaults]]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymVaultCfg {
    /// Vault name (module account `symbiotic:<name>`).
    pub name: String,
    /// Collateral token (any plain token of the world: wstETH, rETH, an external asset).
    pub collateral: String,
    /// Epoch duration (default `7d`).
    pub epoch: Option<String>,
    /// `network_restake` (default), `full_restake`, `operator_specific`, `operator_network_specific`.
    pub delegator: Option<String>,
    /// The operator of an operator-specific / operator-network-specific delegator.
    pub operator: Option<String>,
    /// The network of an operator-network-specific delegator.
    pub network: Option<String>,
    /// `instant` (default), `veto` or `none`.
    pub slasher: Option<String>,
    /// Veto window of a veto slasher (default `1d`, less than the epoch).
    pub veto_duration: Option<String>,
    /// Resolver account of a veto slasher (set for every network of the vault).
    pub resolver: Option<String>,
    /// Epochs before a resolver change takes effect (default 3).
    pub resolver_set_epochs: Option<u64>,
    /// Deposit limit (default none).
    pub deposit_limit: Option<String>,
    /// Network limits.
    #[serde(default)]
    pub limits: Vec<SymLimitCfg>,
    /// Operators' shares or limits per network.
    #[serde(default)]
    pub operators: Vec<SymOperatorCfg>,
    /// Genesis deposits.
    #[serde(default)]
    pub depositors: Vec<DepositorCfg>,
}

/// A veto-slasher request waiting for its veto window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSlash {
    /// Vault.
    pub vault: String,
    /// Request index in the vault's slasher.
    pub index: u64,
    /// Service (network).
    pub service: String,
    /// Operator.
    pub operator: String,
    /// Veto deadline.
    pub deadline: u64,
}

fn ev(v: Vec<SymbioticEvent>) -> impl Iterator<Item = Event> {
    v.into_iter().map(|e| Event::Restaking(RestakingEvent::Symbiotic(e)))
}

fn parse_delegator(c: &SymVaultCfg, path: &str) -> Result<DelegatorKind, ScenarioError> {
    let need = |v: &Option<String>, key: &str| -> Result<String, ScenarioError> {
        v.clone()
            .ok_or_else(|| err(format!("{path}.{key}"), format!("this delegator needs `{key}`")))
    };
    Ok(match c.delegator.as_deref().unwrap_or("network_restake") {
        "network_restake" => DelegatorKind::NetworkRestake,
        "full_restake" => DelegatorKind::FullRestake,
        "operator_specific" => DelegatorKind::OperatorSpecific {
            operator: need(&c.operator, "operator")?,
        },
        "operator_network_specific" => DelegatorKind::OperatorNetworkSpecific {
            operator: need(&c.operator, "operator")?,
            network: need(&c.network, "network")?,
        },
        other => {
            return Err(err(
                format!("{path}.delegator"),
                format!(
                    "unknown delegator `{other}` (network_restake, full_restake, operator_specific, operator_network_specific)"
                ),
            ))
        }
    })
}

/// Builds the vaults and wires the symbiotic services (networks) that use them.
pub(super) fn build(
    world: &mut World,
    cfg: &SymbioticCfg,
    services: &[ServiceRef<'_>],
    start: u64,
) -> Result<(), ScenarioError> {
    for (i, c) in cfg.vaults.iter().enumerate() {
        let path = format!("restaking.symbiotic.vaults[{i}]");
        if c.name.is_empty() || c.name.contains(':') || c.name.contains('/') {
            return Err(err(format!("{path}.name"), format!("`{}` is not a vault name", c.name)));
        }
        if world.restaking.symbiotic.contains_key(&c.name) {
            return Err(err(
                format!("{path}.name"),
                format!("vault `{}` is declared twice", c.name),
            ));
        }
        let collateral = world.ledger.asset(&c.collateral).map_err(|_| {
            err(
                format!("{path}.collateral"),
                format!("unknown token `{}`", c.collateral),
            )
        })?;
        let epoch = parse_duration(c.epoch.as_deref().unwrap_or("7d")).map_err(|e| err(format!("{path}.epoch"), e))?;
        let delegator = parse_delegator(c, &path)?;
        let slasher = match c.slasher.as_deref().unwrap_or("instant") {
            "instant" => Some(SlasherKind::Instant),
            "none" => None,
            "veto" => Some(SlasherKind::Veto {
                veto_duration: parse_duration(c.veto_duration.as_deref().unwrap_or("1d"))
                    .map_err(|e| err(format!("{path}.veto_duration"), e))?,
                resolver_set_epochs_delay: c.resolver_set_epochs.unwrap_or(3),
            }),
            other => {
                return Err(err(
                    format!("{path}.slasher"),
                    format!("unknown slasher `{other}` (instant, veto, none)"),
                ))
            }
        };
        let is_veto = matches!(slasher, Some(SlasherKind::Veto { .. }));
        if !is_veto && (c.veto_duration.is_some() || c.resolver.is_some()) {
            return Err(err(
                format!("{path}.slasher"),
                "`veto_duration` and `resolver` need `slasher = \"veto\"`",
            ));
        }
        let deposit_limit = match &c.deposit_limit {
            Some(s) => Some(amount_of(world, s, &c.collateral, &format!("{path}.deposit_limit"))?),
            None => None,
        };
        let params = VaultParams {
            name: c.name.clone(),
            collateral,
            epoch_duration: epoch,
            deposit_whitelist: false,
            deposit_limit,
            delegator: delegator.clone(),
            slasher,
            burner: format!("symbiotic:{}:burner", c.name),
        };
        let mut v = SymbioticVault::new(&mut world.ledger, params, start).map_err(setup_err(&path))?;
        let networks: Vec<&ServiceRef<'_>> = services.iter().filter(|s| s.vaults.contains(&c.name)).collect();
        for (j, l) in c.limits.iter().enumerate() {
            if !networks.iter().any(|n| n.name == l.network) {
                return Err(err(
                    format!("{path}.limits[{j}].network"),
                    format!("`{}` is not a symbiotic service using this vault", l.network),
                ));
            }
        }
        for (j, o) in c.operators.iter().enumerate() {
            let Some(n) = networks.iter().find(|n| n.name == o.network) else {
                return Err(err(
                    format!("{path}.operators[{j}].network"),
                    format!("`{}` is not a symbiotic service using this vault", o.network),
                ));
            };
            if !n.operators.contains(&o.operator) {
                return Err(err(
                    format!("{path}.operators[{j}].operator"),
                    format!("`{}` is not an operator of `{}`", o.operator, o.network),
                ));
            }
        }
        let mut opted: BTreeSet<String> = BTreeSet::new();
        for n in &networks {
            let net = n.name;
            let lim = c.limits.iter().enumerate().find(|(_, l)| l.network == net);
            let (limit, max) = match lim {
                Some((j, l)) => {
                    let lp = format!("{path}.limits[{j}]");
                    let limit = match &l.limit {
                        Some(s) => amount_of(world, s, &c.collateral, &format!("{lp}.limit"))?,
                        None => U256::MAX,
                    };
                    let max = match &l.max {
                        Some(s) => amount_of(world, s, &c.collateral, &format!("{lp}.max"))?,
                        None => limit,
                    };
                    (limit, max)
                }
                None => (U256::MAX, U256::MAX),
            };
            let npath = format!("{}.vaults", n.path);
            if max > U256::ZERO {
                v.set_max_network_limit(net, max, start).map_err(setup_err(&npath))?;
            }
            let ons = matches!(delegator, DelegatorKind::OperatorNetworkSpecific { .. });
            if !ons && limit > U256::ZERO {
                v.set_network_limit(net, limit, start).map_err(setup_err(&npath))?;
            }
            if is_veto {
                if let Some(r) = &c.resolver {
                    account_name(r, &format!("{path}.resolver"))?;
                    v.set_resolver(net, Some(r.clone()), start)
                        .map_err(setup_err(&format!("{path}.resolver")))?;
                }
            }
            for op in n.operators {
                let opath = format!("{}.operators", n.path);
                if opted.insert(op.clone()) {
                    v.set_operator_vault_opt_in(op, true, start)
                        .map_err(setup_err(&opath))?;
                }
                v.set_operator_network_opt_in(op, net, true, start)
                    .map_err(setup_err(&opath))?;
                let entry = c
                    .operators
                    .iter()
                    .enumerate()
                    .find(|(_, o)| o.network == net && &o.operator == op);
                match delegator {
                    DelegatorKind::NetworkRestake => {
                        let (shares, sp) = match entry {
                            Some((j, o)) => (
                                o.shares.clone().unwrap_or_else(|| "1".into()),
                                format!("{path}.operators[{j}].shares"),
                            ),
                            None => ("1".into(), opath.clone()),
                        };
                        let sh = stake_math::parse::parse_scaled(shares.trim(), 0)
                            .map_err(|e| err(&sp, format!("`{shares}`: {e} (an integer)")))?;
                        if sh > U256::ZERO {
                            v.set_operator_network_shares(net, op, sh, start)
                                .map_err(setup_err(&sp))?;
                        }
                    }
                    DelegatorKind::FullRestake => {
                        let (lim, lp) = match entry {
                            Some((j, o)) => (o.limit.clone(), format!("{path}.operators[{j}].limit")),
                            None => (None, opath.clone()),
                        };
                        let lim = match lim {
                            Some(s) => amount_of(world, &s, &c.collateral, &lp)?,
                            None => U256::MAX,
                        };
                        if lim > U256::ZERO {
                            v.set_operator_network_limit(net, op, lim, start)
                                .map_err(setup_err(&lp))?;
                        }
                    }
                    _ => {}
                }
            }
        }
        for (j, d) in c.depositors.iter().enumerate() {
            let dpath = format!("{path}.depositors[{j}].amount");
            let got = acquire(world, &d.account, &c.collateral, &d.amount, &dpath, start)?;
            let acct = world.ledger.account(&d.account);
            v.deposit(&mut world.ledger, acct, acct, got, start)
                .map_err(setup_err(&dpath))?;
        }
        world.restaking.symbiotic.insert(c.name.clone(), v);
    }
    Ok(())
}

fn vault_mut<'a>(world: &'a mut World, name: &str) -> Result<(&'a mut SymbioticVault, &'a mut Ledger), EngineError> {
    let v = world
        .restaking
        .symbiotic
        .get_mut(name)
        .ok_or_else(|| reject(9035, format!("unknown Symbiotic vault `{name}`")))?;
    Ok((v, &mut world.ledger))
}

/// Deposits collateral (None = the sender's whole balance).
pub(super) fn deposit(
    world: &mut World,
    sender: &str,
    vault: &str,
    amount: Option<U256>,
) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let acct = world.ledger.account(sender);
    let (v, ledger) = vault_mut(world, vault)?;
    let amount = amount.unwrap_or_else(|| ledger.balance(acct, v.collateral));
    Ok(ev(v.deposit(ledger, acct, acct, amount, now).map_err(proto)?).collect())
}

/// Withdraws active stake into the next epoch's bucket (None = redeem every share).
pub(super) fn withdraw(
    world: &mut World,
    sender: &str,
    vault: &str,
    amount: Option<U256>,
) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let acct = world.ledger.account(sender);
    let (v, _) = vault_mut(world, vault)?;
    let r = match amount {
        Some(a) => v.withdraw(acct, acct, a, now),
        None => {
            let sh = v.active_shares_of(acct);
            v.redeem(acct, acct, sh, now)
        }
    };
    Ok(ev(r.map_err(proto)?).collect())
}

/// Claims every ended epoch's withdrawals of the sender.
pub(super) fn claim(world: &mut World, sender: &str, vault: &str) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let acct = world.ledger.account(sender);
    let (v, ledger) = vault_mut(world, vault)?;
    let current = v.current_epoch(now).map_err(proto)?;
    let epochs: Vec<u64> = v
        .withdrawal_shares_of
        .iter()
        .filter(|(e, m)| {
            **e < current
                && m.get(&acct).is_some_and(|s| *s > U256::ZERO)
                && !v.claimed_of.get(e).is_some_and(|c| c.contains(&acct))
        })
        .map(|(e, _)| *e)
        .collect();
    if epochs.is_empty() {
        return Err(reject(
            9033,
            format!("{sender} has no ended Symbiotic epoch to claim in vault {vault}"),
        ));
    }
    let mut out = Vec::new();
    for e in epochs {
        out.extend(ev(v.claim(ledger, acct, acct, e, now).map_err(proto)?));
    }
    Ok(out)
}

/// The resolver vetoes the pending slash request of (service, operator) on a vault.
pub(super) fn veto(
    world: &mut World,
    sender: &str,
    vault: &str,
    service: &str,
    operator: &str,
) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let pos = world
        .restaking
        .sym_pending
        .iter()
        .position(|p| p.vault == vault && p.service == service && p.operator == operator)
        .ok_or_else(|| {
            reject(
                9034,
                format!("no pending slash request of {service} against {operator} on vault {vault}"),
            )
        })?;
    let index = world.restaking.sym_pending[pos].index;
    let (v, _) = vault_mut(world, vault)?;
    let out: Vec<Event> = ev(v.veto_slash(index, sender, now).map_err(proto)?).collect();
    world.restaking.sym_pending.remove(pos);
    Ok(out)
}

/// A fault of `operator` in network `service`: slash (instant) or request (veto) on every vault.
pub(super) fn fault(
    world: &mut World,
    service: &str,
    operator: &str,
    vaults: &[String],
    fraction: U256,
) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let capture = now.saturating_sub(1);
    let mut out = Vec::new();
    for name in vaults {
        let (v, ledger) = vault_mut(world, name)?;
        let Some(kind) = v.slasher.as_ref().map(|s| s.kind.clone()) else {
            continue;
        };
        let slashable = v.slashable_stake(service, operator, capture, now).map_err(proto)?;
        let amount = mul_wad_down(slashable, fraction).map_err(proto)?;
        if amount == U256::ZERO {
            continue;
        }
        match kind {
            SlasherKind::Instant => {
                let e = v
                    .slash(ledger, service, operator, amount, capture, now)
                    .map_err(proto)?;
                let slashed = slashed_of(&e);
                out.extend(ev(e));
                out.extend(super::svc_ev(
                    world
                        .restaking
                        .services
                        .record_slash(service, operator, slashed)
                        .map_err(proto)?,
                ));
            }
            SlasherKind::Veto { .. } => {
                let e = v
                    .request_slash(service, operator, amount, capture, now)
                    .map_err(proto)?;
                for x in &e {
                    if let SymbioticEvent::RequestSlash {
                        index, veto_deadline, ..
                    } = x
                    {
                        world.restaking.sym_pending.push(PendingSlash {
                            vault: name.clone(),
                            index: *index,
                            service: service.to_string(),
                            operator: operator.to_string(),
                            deadline: *veto_deadline,
                        });
                    }
                }
                out.extend(ev(e));
            }
        }
    }
    Ok(out)
}

fn slashed_of(e: &[SymbioticEvent]) -> U256 {
    e.iter()
        .map(|x| match x {
            SymbioticEvent::Slash { slashed, .. } => *slashed,
            _ => U256::ZERO,
        })
        .fold(U256::ZERO, |a, b| a.saturating_add(b))
}

/// Executes a pending request whose veto window has passed.
fn execute(world: &mut World, p: &PendingSlash) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let (v, ledger) = vault_mut(world, &p.vault)?;
    let e = v.execute_slash(ledger, p.index, now).map_err(proto)?;
    let slashed = slashed_of(&e);
    let mut out: Vec<Event> = ev(e).collect();
    out.extend(super::svc_ev(
        world
            .restaking
            .services
            .record_slash(&p.service, &p.operator, slashed)
            .map_err(proto)?,
    ));
    world.restaking.sym_pending.retain(|x| x != p);
    Ok(out)
}

/// Frame work: executes the veto-slasher requests whose window has passed (a failing one is
/// recorded as a hook rejection and dropped).
pub(super) fn on_frame(world: &mut World, t: u64, events: &mut Vec<Event>) {
    let due: Vec<PendingSlash> = world
        .restaking
        .sym_pending
        .iter()
        .filter(|p| p.deadline <= t)
        .cloned()
        .collect();
    for p in due {
        let hook = format!("symbiotic {} slash of {} on {}", p.service, p.operator, p.vault);
        if !guarded_ok(world, t, hook, events, |w| execute(w, &p)) {
            world.restaking.sym_pending.retain(|x| x != &p);
        }
    }
}

/// Stake of every (vault, operator) pair for a network now.
pub(super) fn pairs(
    world: &World,
    service: &str,
    vaults: &[String],
    operators: &[String],
) -> Vec<(String, String, U256)> {
    let mut out = Vec::new();
    for v in vaults {
        let Some(vault) = world.restaking.symbiotic.get(v) else {
            continue;
        };
        for o in operators {
            let s = vault.stake(service, o).unwrap_or_default();
            out.push((v.clone(), o.clone(), s));
        }
    }
    out
}

/// Pays `total` of `asset` from the treasury to the vaults' shareholders; returns the amount paid
/// per operator.
pub(super) fn distribute(
    world: &mut World,
    service: &str,
    vaults: &[String],
    operators: &[String],
    from: AccountId,
    asset: stake_ledger::AssetId,
    total: U256,
) -> Result<BTreeMap<String, U256>, EngineError> {
    let ps = pairs(world, service, vaults, operators);
    let sum = ps.iter().fold(U256::ZERO, |a, p| a.saturating_add(p.2));
    let mut paid: BTreeMap<String, U256> = BTreeMap::new();
    if sum == U256::ZERO || total == U256::ZERO {
        return Ok(paid);
    }
    for (v, o, s) in ps {
        let part = mul_div_down(total, s, sum).map_err(proto)?;
        let Some(vault) = world.restaking.symbiotic.get(&v) else {
            continue;
        };
        let shares = vault.active_shares();
        if part == U256::ZERO || shares == U256::ZERO {
            continue;
        }
        let holders: Vec<(AccountId, U256)> = vault
            .active_shares_of
            .iter()
            .map(|(a, tr)| (*a, tr.latest()))
            .filter(|(_, sh)| *sh > U256::ZERO)
            .collect();
        let mut sent = U256::ZERO;
        for (a, sh) in holders {
            let amt = mul_div_down(part, sh, shares).map_err(proto)?;
            if amt > U256::ZERO {
                world.ledger.transfer(from, a, asset, amt).map_err(proto)?;
                sent = sent.add_c(amt).map_err(proto)?;
            }
        }
        let e = paid.entry(o).or_default();
        *e = e.add_c(sent).map_err(proto)?;
    }
    Ok(paid)
}

/// (stake, allocated) of an operator over every vault: stake counts each vault's largest
/// network stake once, allocated sums every network's.
pub(super) fn operator_values(world: &World, op: &str) -> (U256, U256) {
    let mut stake = U256::ZERO;
    let mut alloc = U256::ZERO;
    for (vname, v) in &world.restaking.symbiotic {
        let mut best = U256::ZERO;
        for (svc, vs) in &world.restaking.service_vaults {
            if !vs.contains(vname) {
                continue;
            }
            let s = v.stake(svc, op).unwrap_or_default();
            best = best.max(s);
            alloc = alloc.saturating_add(s);
        }
        stake = stake.saturating_add(best);
    }
    (stake, alloc)
}
