//! Per-step metrics and the run summary of the LRTs: rate, TVL, supply, allocation across
//! operator delegators and the withdrawal queue.

use super::*;
use crate::amount::format_fixed;
use serde_json::json;

fn f18(v: U256) -> f64 {
    v.as_f64() / 1e18
}

/// One LRT at the end of a run (`summary.json` → `lrts`).
#[derive(Clone, Debug, Serialize)]
pub struct LrtSummary {
    /// Symbol.
    pub symbol: String,
    /// Model.
    pub model: String,
    /// ETH per token (wad).
    pub rate_wad: String,
    /// TVL (wei).
    pub tvl_wei: String,
    /// Token supply.
    pub supply: String,
    /// Per delegator: operator, value (wei), share of the TVL (%), target (%).
    pub allocation: Vec<serde_json::Value>,
    /// Open withdrawal requests.
    pub open_requests: u64,
    /// ETH owed to open requests (value at request).
    pub queue_wei: String,
    /// ETH in the withdraw queue (buffer and reserve).
    pub withdraw_queue_wei: String,
    /// ETH waiting in the deposit queue.
    pub deposit_queue_wei: String,
    /// Fees (Renzo: ETH wei; Kelp: rsETH base units minted to the treasury).
    pub fees: String,
    /// Where the value came from and went (ETH wei, signed where it can be negative): deposits
    /// in, redemptions paid, base staking (consensus and execution rewards in the pods — the
    /// remainder), restaking rewards, the protocol fee and slashing.
    pub decomposition: serde_json::Value,
}

/// (rate, TVL, ETH owed to open requests, open requests).
fn figures(world: &World, e: &LrtEntry) -> (U256, U256, U256, u64) {
    match &e.model {
        LrtModel::Renzo(r) => {
            let owed = r
                .requests
                .values()
                .fold(U256::ZERO, |a, q| a.saturating_add(q.amount_to_redeem));
            (
                r.rate_at(world.now).unwrap_or(U256::ZERO),
                r.total_tvl(world.now).unwrap_or(U256::ZERO),
                owed,
                u64::try_from(r.requests.len()).unwrap_or(u64::MAX),
            )
        }
        LrtModel::Kelp(k) => {
            let (owed, open) = k
                .assets
                .get(stake_lrt::kelp::ETH)
                .map(|a| {
                    (
                        a.requests
                            .values()
                            .fold(U256::ZERO, |s, q| s.saturating_add(q.expected_asset_amount)),
                        u64::try_from(a.requests.len()).unwrap_or(u64::MAX),
                    )
                })
                .unwrap_or_default();
            (k.price, k.tvl_eth().unwrap_or(U256::ZERO), owed, open)
        }
    }
}

/// TVL = deposits − paid + base staking + restaking rewards − fee − slashing: base staking is the
/// remainder (consensus and execution-layer rewards accrued in the pods, net of penalties).
fn decomposition(e: &LrtEntry, tvl: U256) -> serde_json::Value {
    let i = |v: U256| stake_math::I256::try_from(v).unwrap_or(stake_math::I256::MAX);
    let base = i(tvl) - i(e.deposited) + i(e.paid) - i(e.restaking_rewards) + i(e.fees_eth) + i(e.slashed);
    json!({
        "deposits_wei": e.deposited.to_string(),
        "redemptions_paid_wei": e.paid.to_string(),
        "base_staking_wei": base.to_string(),
        "restaking_rewards_wei": e.restaking_rewards.to_string(),
        "lrt_fee_wei": e.fees_eth.to_string(),
        "slashing_wei": e.slashed.to_string(),
    })
}

/// Metric values, in the order of [`LrtWorld::columns`].
pub fn sample(world: &World) -> Vec<f64> {
    let mut v = Vec::new();
    for e in &world.lrt.lrts {
        let (rate, tvl, owed, _) = figures(world, e);
        v.extend([f18(rate), f18(tvl), f18(e.model.supply()), f18(owed)]);
    }
    v
}

/// The `lrts` part of the summary and its console section (null and empty without LRTs).
pub fn summary(world: &World) -> (serde_json::Value, String) {
    if world.lrt.is_empty() {
        return (serde_json::Value::Null, String::new());
    }
    let eth = world.eth_asset;
    let bal = |name: String| {
        world
            .ledger
            .find_account(&name)
            .map(|a| world.ledger.balance(a, eth))
            .unwrap_or(U256::ZERO)
    };
    let mut text = String::from("Liquid restaking tokens\n");
    text.push_str(&format!(
        "  {:<8} {:<6} {:>20} {:>14} {:>14} {:>9} {:>12}\n",
        "token", "model", "rate", "TVL ETH", "supply", "requests", "owed ETH"
    ));
    let mut out = Vec::new();
    let mut alloc_text = String::new();
    for e in &world.lrt.lrts {
        let (rate, tvl, owed, open) = figures(world, e);
        text.push_str(&format!(
            "  {:<8} {:<6} {:>20} {:>14} {:>14} {:>9} {:>12}\n",
            e.symbol,
            e.model.name(),
            format_fixed(rate, 18, 18),
            format_fixed(tvl, 18, 2),
            format_fixed(e.model.supply(), 18, 2),
            open,
            format_fixed(owed, 18, 2)
        ));
        let mut allocation = Vec::new();
        for d in &e.delegators {
            let value = delegator_value(world, d).unwrap_or(U256::ZERO);
            let share = if tvl > U256::ZERO {
                value.as_f64() / tvl.as_f64() * 100.0
            } else {
                0.0
            };
            let target = f64::from(d.allocation) / 100.0;
            alloc_text.push_str(&format!(
                "  {:<8} {:<14} {:>14} ETH {:>6.2} % (target {:>6.2} %)\n",
                e.symbol,
                d.operator,
                format_fixed(value, 18, 2),
                share,
                target
            ));
            allocation.push(json!({
                "operator": d.operator,
                "value_wei": value.to_string(),
                "share_pct": share,
                "target_pct": target,
                "validators": d.deposited,
                "exits_requested": d.exit_requested,
            }));
        }
        out.push(LrtSummary {
            symbol: e.symbol.clone(),
            model: e.model.name().into(),
            rate_wad: rate.to_string(),
            tvl_wei: tvl.to_string(),
            supply: e.model.supply().to_string(),
            allocation,
            open_requests: open,
            queue_wei: owed.to_string(),
            withdraw_queue_wei: bal(acct(&e.symbol, "withdraw_queue")).to_string(),
            deposit_queue_wei: bal(acct(&e.symbol, "deposit_queue")).to_string(),
            fees: e.fees.to_string(),
            decomposition: decomposition(e, tvl),
        });
    }
    text.push_str("  allocation\n");
    text.push_str(&alloc_text);
    text.push_str("  where the value came from (ETH): base staking, restaking rewards, LRT fee, slashing\n");
    for e in &world.lrt.lrts {
        let d = decomposition(e, figures(world, e).1);
        let eth = |k: &str| {
            let s = d[k].as_str().unwrap_or("0");
            (s.parse::<f64>().unwrap_or(0.0) / 1e18 * 100.0).round() / 100.0
        };
        text.push_str(&format!(
            "  {:<8} {:+.2} base  +{:.2} restaking  -{:.2} fee  -{:.2} slashing\n",
            e.symbol,
            eth("base_staking_wei"),
            eth("restaking_rewards_wei"),
            eth("lrt_fee_wei"),
            eth("slashing_wei")
        ));
    }
    (
        serde_json::to_value(out).unwrap_or(serde_json::Value::Null),
        text.trim_end().to_string(),
    )
}
