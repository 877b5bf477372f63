//! Per-step metrics and the run summary of the restaking layer: EigenLayer operators and
//! services, Symbiotic and Jito vaults, and per operator / per service stake, allocated stake,
//! rewards paid and amount slashed for Symbiotic, Jito and Babylon.

use super::*;

fn f18(v: U256) -> f64 {
    v.as_f64() / 1e18
}

/// Metric values, in the order of [`RestakingWorld::columns`].
pub fn sample(world: &World) -> Vec<f64> {
    let mut v = Vec::new();
    for o in &world.restaking.operators {
        let (stake, alloc) = operator_values(world, o).unwrap_or_default();
        v.push(f18(stake));
        v.push(f18(alloc));
        v.push(f18(protocol_slashed(world, Protocol::EigenLayer, o)));
    }
    for name in world.restaking.services_of(Protocol::EigenLayer) {
        let b = world.restaking.services.book(&name).cloned().unwrap_or_default();
        v.push(f18(b.stake_secured));
        v.push(f18(b.rewards_paid.get("stake").copied().unwrap_or_default()));
        v.push(f18(b.slashed));
    }
    for (p, o) in world.restaking.other_operators() {
        let r = other_operator_row(world, p, &o);
        v.push(units_f64(r.stake, r.stake_decimals));
        v.push(units_f64(r.allocated, r.stake_decimals));
        v.push(r.rewards.iter().map(|(_, a, d)| units_f64(*a, *d)).sum());
        v.push(units_f64(r.slashed, r.stake_decimals));
    }
    for (name, p) in world.restaking.other_services() {
        let r = other_service_row(world, &name, p);
        v.push(units_f64(r.stake, r.stake_decimals));
        v.push(units_f64(r.paid, r.reward_decimals));
        v.push(units_f64(r.slashed, r.stake_decimals));
    }
    for (name, t) in &world.restaking.treasuries {
        let d = funds::decimals(world, &t.asset).unwrap_or(18);
        v.push(units_f64(funds::treasury_left(world, name), d));
    }
    v
}

fn units_f64(v: U256, decimals: u8) -> f64 {
    v.as_f64() / 10f64.powi(i32::from(decimals))
}

/// Summary row of a Symbiotic / Jito / Babylon operator (amounts in base units).
struct OperatorRow {
    stake: U256,
    allocated: U256,
    slashed: U256,
    stake_token: String,
    stake_decimals: u8,
    /// (token, amount, decimals)
    rewards: Vec<(String, U256, u8)>,
}

/// Summary row of a Symbiotic / Jito / Babylon service.
struct ServiceRow {
    stake: U256,
    paid: U256,
    slashed: U256,
    faults: u64,
    stake_token: String,
    stake_decimals: u8,
    reward_token: String,
    reward_decimals: u8,
    treasury_left: U256,
}

/// Amount slashed from an operator by the services of one protocol.
fn protocol_slashed(world: &World, p: Protocol, op: &str) -> U256 {
    world
        .restaking
        .services_of(p)
        .iter()
        .filter_map(|s| world.restaking.services.book(s).ok())
        .filter_map(|b| b.slashed_by_operator.get(op).copied())
        .fold(U256::ZERO, |a, b| a.saturating_add(b))
}

fn other_operator_row(world: &World, p: Protocol, op: &str) -> OperatorRow {
    let r = &world.restaking;
    let (stake, allocated) = match p {
        Protocol::Symbiotic => symbiotic::operator_values(world, op),
        Protocol::Jito => jito::operator_values(world, op),
        _ => babylon::provider_values(world, op),
    };
    let first_service = r
        .services_of(p)
        .into_iter()
        .find(|s| {
            r.services
                .services
                .get(s)
                .is_some_and(|x| x.bindings.iter().any(|b| b.operators.iter().any(|o| o == op)))
        })
        .unwrap_or_default();
    let vaults = r.service_vaults.get(&first_service).cloned().unwrap_or_default();
    let stake_token = stake_token(world, p, &vaults).unwrap_or_default();
    let stake_decimals = funds::decimals(world, &stake_token).unwrap_or(18);
    let rewards = r
        .operator_rewards
        .iter()
        .filter(|((pp, o, _), _)| *pp == p && o == op)
        .map(|((_, _, tok), a)| (tok.clone(), *a, funds::decimals(world, tok).unwrap_or(18)))
        .collect();
    OperatorRow {
        stake,
        allocated,
        slashed: protocol_slashed(world, p, op),
        stake_token,
        stake_decimals,
        rewards,
    }
}

fn other_service_row(world: &World, name: &str, p: Protocol) -> ServiceRow {
    let r = &world.restaking;
    let b = r.services.book(name).cloned().unwrap_or_default();
    let vaults = r.service_vaults.get(name).cloned().unwrap_or_default();
    let stake_token = stake_token(world, p, &vaults).unwrap_or_default();
    let reward_token = r.treasuries.get(name).map(|t| t.asset.clone()).unwrap_or_default();
    ServiceRow {
        stake: service_stake_any(world, name).unwrap_or(b.stake_secured),
        paid: r.paid.get(name).copied().unwrap_or_default(),
        slashed: b.slashed,
        faults: b.faults,
        stake_decimals: funds::decimals(world, &stake_token).unwrap_or(18),
        reward_decimals: funds::decimals(world, &reward_token).unwrap_or(18),
        stake_token,
        reward_token,
        treasury_left: funds::treasury_left(world, name),
    }
}

fn fmt_units(v: U256, decimals: u8, sym: &str) -> String {
    let places = if decimals >= 4 { 4 } else { decimals as usize };
    format!("{} {sym}", format_fixed(v, decimals, places))
}

/// Console text and JSON of the Symbiotic / Jito / Babylon part.
fn other_summary(world: &World) -> (serde_json::Value, String) {
    let r = &world.restaking;
    let mut text = String::new();
    let mut vaults_json = Vec::new();
    if !r.symbiotic.is_empty() {
        text.push_str("Symbiotic vaults\n");
        text.push_str(&format!(
            "  {:<16} {:>22} {:>22} {:>20} {:>9}\n",
            "vault", "active stake", "total stake", "slashed", "pending"
        ));
        for (name, v) in &r.symbiotic {
            let sym = world.ledger.symbol(v.collateral).to_string();
            let d = funds::decimals(world, &sym).unwrap_or(18);
            let total = v.total_stake(world.now).unwrap_or_default();
            let pending = r.sym_pending.iter().filter(|p| &p.vault == name).count();
            text.push_str(&format!(
                "  {:<16} {:>22} {:>22} {:>20} {:>9}\n",
                name,
                fmt_units(v.active_stake(), d, &sym),
                fmt_units(total, d, &sym),
                fmt_units(v.slashed, d, &sym),
                pending
            ));
            vaults_json.push(json!({
                "protocol": "symbiotic", "vault": name, "token": sym,
                "active_stake": v.active_stake().to_string(), "total_stake": total.to_string(),
                "slashed": v.slashed.to_string(), "pending_slash_requests": pending,
            }));
        }
    }
    if let Some(j) = &r.jito {
        text.push_str("Jito vaults\n");
        text.push_str(&format!(
            "  {:<16} {:>22} {:>22} {:>16}\n",
            "vault", "tokens", "VRT supply", "tokens per VRT"
        ));
        for (name, v) in &j.vaults {
            let sym = world.ledger.symbol(v.supported).to_string();
            let vrt = world.ledger.symbol(v.vrt).to_string();
            let d = funds::decimals(world, &sym).unwrap_or(18);
            let rate = if v.core.vrt_supply == U256::ZERO {
                0.0
            } else {
                v.core.tokens_deposited.as_f64() / v.core.vrt_supply.as_f64()
            };
            text.push_str(&format!(
                "  {:<16} {:>22} {:>22} {:>16.9}\n",
                name,
                fmt_units(v.core.tokens_deposited, d, &sym),
                fmt_units(v.core.vrt_supply, d, &vrt),
                rate
            ));
            vaults_json.push(json!({
                "protocol": "jito", "vault": name, "token": sym, "vrt": vrt,
                "tokens_deposited": v.core.tokens_deposited.to_string(),
                "vrt_supply": v.core.vrt_supply.to_string(),
            }));
        }
    }
    let ops = r.other_operators();
    let mut ops_json = Vec::new();
    if !ops.is_empty() {
        text.push_str("Symbiotic / Jito operators and Babylon finality providers\n");
        text.push_str(&format!(
            "  {:<14} {:<10} {:>22} {:>22} {:>20} {:>20}\n",
            "operator", "protocol", "stake", "allocated", "rewards", "slashed"
        ));
        for (p, o) in &ops {
            let row = other_operator_row(world, *p, o);
            let d = row.stake_decimals;
            let rewards = if row.rewards.is_empty() {
                "0".to_string()
            } else {
                row.rewards
                    .iter()
                    .map(|(t, a, dd)| fmt_units(*a, *dd, t))
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            text.push_str(&format!(
                "  {:<14} {:<10} {:>22} {:>22} {:>20} {:>20}\n",
                o,
                protocol_key(*p),
                fmt_units(row.stake, d, &row.stake_token),
                fmt_units(row.allocated, d, &row.stake_token),
                rewards,
                fmt_units(row.slashed, d, &row.stake_token)
            ));
            ops_json.push(json!({
                "operator": o, "protocol": protocol_key(*p), "token": row.stake_token,
                "stake": row.stake.to_string(), "allocated": row.allocated.to_string(),
                "rewards": row.rewards.iter().map(|(t, a, _)| json!({"token": t, "amount": a.to_string()})).collect::<Vec<_>>(),
                "slashed": row.slashed.to_string(),
            }));
        }
    }
    let svcs = r.other_services();
    let mut svcs_json = Vec::new();
    if !svcs.is_empty() {
        text.push_str("Symbiotic / Jito / Babylon services\n");
        text.push_str(&format!(
            "  {:<14} {:<10} {:>22} {:>20} {:>20} {:>7} {:>20}\n",
            "service", "protocol", "secured", "rewards paid", "slashed", "faults", "treasury left"
        ));
        for (name, p) in &svcs {
            let row = other_service_row(world, name, *p);
            text.push_str(&format!(
                "  {:<14} {:<10} {:>22} {:>20} {:>20} {:>7} {:>20}\n",
                name,
                protocol_key(*p),
                fmt_units(row.stake, row.stake_decimals, &row.stake_token),
                fmt_units(row.paid, row.reward_decimals, &row.reward_token),
                fmt_units(row.slashed, row.stake_decimals, &row.stake_token),
                row.faults,
                fmt_units(row.treasury_left, row.reward_decimals, &row.reward_token)
            ));
            svcs_json.push(json!({
                "service": name, "protocol": protocol_key(*p), "token": row.stake_token,
                "stake_secured": row.stake.to_string(), "allocated": row.stake.to_string(),
                "rewards_paid": row.paid.to_string(), "reward_token": row.reward_token,
                "slashed": row.slashed.to_string(), "faults": row.faults,
                "treasury_left": row.treasury_left.to_string(),
                "rewards_stopped": r.exhausted.contains(name),
            }));
        }
    }
    (
        json!({ "vaults": vaults_json, "operators": ops_json, "services": svcs_json }),
        text,
    )
}

fn eth2(v: U256) -> String {
    format_fixed(v, 18, 2)
}

/// Summary: a JSON value for `summary.json` and console text (empty when unused).
pub fn summary(world: &World) -> (serde_json::Value, String) {
    let (other, other_text) = other_summary(world);
    let Some(el) = &world.restaking.el else {
        if other_text.is_empty() {
            return (serde_json::Value::Null, String::new());
        }
        return (json!({ "other": other }), other_text.trim_end().to_string());
    };
    let mut text = String::from("EigenLayer operators\n");
    text.push_str(&format!(
        "  {:<14} {:>16} {:>16} {:>14} {:>14} {:>9}\n",
        "operator", "stake ETH", "allocated ETH", "rewards ETH", "slashed ETH", "stakers"
    ));
    let mut ops = Vec::new();
    for o in &world.restaking.operators {
        let (stake, alloc) = operator_values(world, o).unwrap_or_default();
        let rewards = el
            .rewards
            .earned
            .get(o)
            .and_then(|m| m.get("ETH"))
            .copied()
            .unwrap_or_default();
        let slashed = protocol_slashed(world, Protocol::EigenLayer, o);
        let stakers = el.delegators.get(o).map(|d| d.len()).unwrap_or(0);
        text.push_str(&format!(
            "  {:<14} {:>16} {:>16} {:>14} {:>14} {:>9}\n",
            o,
            eth2(stake),
            eth2(alloc),
            format_fixed(rewards, 18, 4),
            eth2(slashed),
            stakers
        ));
        ops.push(json!({
            "operator": o,
            "stake_wei": stake.to_string(),
            "allocated_wei": alloc.to_string(),
            "rewards_earned_wei": rewards.to_string(),
            "slashed_wei": slashed.to_string(),
            "delegators": stakers,
        }));
    }
    text.push_str("Services\n");
    text.push_str(&format!(
        "  {:<14} {:>16} {:>14} {:>14} {:>8} {:>22} {:>11}\n",
        "service", "secured ETH", "rewards ETH", "slashed ETH", "faults", "π", "corruptible"
    ));
    let mut svcs = Vec::new();
    for (name, s) in &world.restaking.services.services {
        if world.restaking.protocol_of(name) != Some(Protocol::EigenLayer) {
            continue;
        }
        let b = world.restaking.services.book(name).cloned().unwrap_or_default();
        let stake = service_stake(world, name).unwrap_or(b.stake_secured);
        let paid = b.rewards_paid.get("stake").copied().unwrap_or_default();
        let (pi, unit) = match s.pfc_unit {
            ValueUnit::EthWei => (format!("{} ETH", eth2(s.profit_from_corruption)), "ETH"),
            ValueUnit::UsdWad => (format!("${}", eth2(s.profit_from_corruption)), "USD"),
        };
        let coc = svc::cost_of_corruption(stake, s.corruption_threshold_wad).unwrap_or_default();
        let corruptible = match s.pfc_unit {
            ValueUnit::EthWei => {
                let p = world
                    .restaking
                    .services
                    .is_corruption_profitable(name, stake)
                    .unwrap_or(false);
                if p {
                    "yes"
                } else {
                    "no"
                }
            }
            ValueUnit::UsdWad => "n/a (USD)",
        };
        text.push_str(&format!(
            "  {:<14} {:>16} {:>14} {:>14} {:>8} {:>22} {:>11}\n",
            name,
            eth2(stake),
            format_fixed(paid, 18, 4),
            eth2(b.slashed),
            b.faults,
            pi,
            corruptible
        ));
        svcs.push(json!({
            "service": name,
            "stake_secured_wei": stake.to_string(),
            "allocated_wei": stake.to_string(),
            "rewards_paid_wei": paid.to_string(),
            "slashed_wei": b.slashed.to_string(),
            "faults": b.faults,
            "profit_from_corruption": s.profit_from_corruption.to_string(),
            "profit_from_corruption_unit": unit,
            "threshold_wad": s.corruption_threshold_wad.to_string(),
            "cost_of_corruption_wei": coc.to_string(),
            "operators": s.bindings.iter().flat_map(|b| b.operators.clone()).collect::<Vec<_>>(),
        }));
    }
    let pending = el.withdrawals.len();
    text.push_str(&format!(
        "  queued withdrawals: {pending}; slashed ETH shares (unburnable): {}\n",
        eth2(el.burnable_eth_shares)
    ));
    text.push_str(&other_text);
    (
        json!({ "operators": ops, "services": svcs, "queued_withdrawals": pending, "other": other }),
        text.trim_end().to_string(),
    )
}
