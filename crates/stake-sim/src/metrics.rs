//! The key figures of a summary — what the console table, the run store, a sweep's rows and the
//! Python package report — and the summary of a set of paths as `summary.json` holds it.

use crate::PathRun;
use serde_json::Value;

/// Names of the figures reported (the last key of a leaf).
const KEY_FIGURES: [&str; 22] = [
    "staked_eth",
    "exit_queue_days",
    "slashed_validators",
    "rate",
    "realised_apr_pct",
    "tvl_eth",
    "queue_days",
    "eth_usd",
    "price",
    "price_min",
    "liquidations",
    "bad_debt_tokens",
    "bad_debt_events",
    "min_health_factor",
    "utilization_pct",
    "implied_apy_pct",
    "pt_price",
    "profit_usd",
    "bad_debt_usd",
    "slashed_wei",
    "faults",
    "transactions_applied",
];

/// The key figures of a summary (single-path values or percentile objects), labelled by the
/// names along their path: `lsts.stETH.rate`, `markets.pools.steth-eth.price_min`, … Exact wei
/// strings are read as ETH (`…_wei` → `…_eth`, a float).
pub fn key_metrics(summary: &Value) -> Vec<(String, Value)> {
    fn name_of(v: &Value) -> Option<String> {
        ["symbol", "name", "operator", "service", "account", "chain"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_string))
    }
    fn walk(v: &Value, label: &mut Vec<String>, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) if !is_percentiles(v) => {
                for (k, x) in m {
                    if k == "rejected" || k == "health_factors" {
                        continue;
                    }
                    label.push(k.clone());
                    walk(x, label, out);
                    label.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    label.push(name_of(x).unwrap_or_else(|| i.to_string()));
                    walk(x, label, out);
                    label.pop();
                }
            }
            leaf => {
                let Some(last) = label.last() else { return };
                if KEY_FIGURES.contains(&last.as_str()) && !leaf.is_null() {
                    let mut l = label.join(".");
                    let mut val = leaf.clone();
                    if let Some(stem) = last.strip_suffix("_wei") {
                        l = format!("{}{stem}_eth", l.strip_suffix(last.as_str()).unwrap_or(""));
                        val = scale(&val, 1e-18);
                    }
                    out.push((l, val));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(summary, &mut Vec::new(), &mut out);
    out
}

/// Whether a value is a percentile object of a multi-path summary.
pub fn is_percentiles(v: &Value) -> bool {
    v.get("p50").is_some() && v.get("p5").is_some()
}

fn scale(v: &Value, k: f64) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(a, x)| (a.clone(), if a == "missing" { x.clone() } else { scale(x, k) }))
                .collect(),
        ),
        Value::String(s) => s.parse::<f64>().map_or(v.clone(), |x| serde_json::json!(x * k)),
        Value::Number(n) => n.as_f64().map_or(v.clone(), |x| serde_json::json!(x * k)),
        _ => v.clone(),
    }
}

/// A figure as a float for display (a decimal string parsed; NaN when it is not a number).
pub fn num_of(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        _ => v.as_f64().unwrap_or(f64::NAN),
    }
}

/// One path's `summary.json`: its summary with `paths` = 1 and `state_hashes`, and for a path
/// run alone (`alone`) its `path` index and `path_seed`.
///
/// Specification: fails only if the summary cannot be represented as JSON.
pub fn single_summary(p: &PathRun, alone: bool) -> Result<Value, serde_json::Error> {
    let mut v = serde_json::to_value(&p.result.summary)?;
    if let Some(m) = v.as_object_mut() {
        m.insert("paths".into(), Value::from(1));
        m.insert(
            "state_hashes".into(),
            Value::from(vec![p.result.summary.final_state_hash.clone()]),
        );
        if alone {
            m.insert("path".into(), Value::from(p.index));
            m.insert("path_seed".into(), Value::from(p.seed));
        }
    }
    Ok(v)
}
