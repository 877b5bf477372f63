//! `stakestack calc` functions of the restaking-network analysis. The graph argument is
//! `{"operators": ["<stake>", …], "services": [{"profit": "<π>", "threshold_wad": "<α·1e18>",
//! "operators": ["<index>", …]}, …]}`, integers as decimal strings (JSON integers are accepted
//! too); index lists in answers are decimal strings as well.

use crate::{Graph, RiskError, Service};
use serde_json::{json, Value};
use stake_engine::calc::{d, Args, CalcError};
use stake_math::{parse_u256, U256};

/// Search nodes a calc request may spend before it answers "undecided" (a few seconds).
pub const BUDGET: u64 = 20_000_000;

/// A calc function.
pub type CalcFn = fn(&Args) -> Result<Value, CalcError>;

fn bad(name: &str, why: &str) -> CalcError {
    CalcError {
        code: 9102,
        message: format!("argument `{name}`: {why}"),
    }
}

impl From<RiskError> for CalcError {
    fn from(e: RiskError) -> Self {
        CalcError {
            code: 9102,
            message: format!("bad graph: {e}"),
        }
    }
}

fn int(v: &Value, name: &str) -> Result<U256, CalcError> {
    match v {
        Value::String(s) => parse_u256(s).map_err(|_| bad(name, "expected a non-negative decimal integer")),
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| bad(name, "expected a non-negative integer")),
        _ => Err(bad(name, "expected a decimal string")),
    }
}

fn index(v: &Value, name: &str) -> Result<usize, CalcError> {
    usize::try_from(int(v, name)?).map_err(|_| bad(name, "index out of range"))
}

fn list<'a>(v: &'a Value, name: &str) -> Result<&'a Vec<Value>, CalcError> {
    v.as_array().ok_or_else(|| bad(name, "expected a list"))
}

/// Parses the graph arguments.
pub fn graph(a: &Args) -> Result<Graph, CalcError> {
    let stakes: Vec<U256> = list(a.value("operators")?, "operators")?
        .iter()
        .map(|v| int(v, "operators"))
        .collect::<Result<_, _>>()?;
    if stakes.is_empty() {
        return Err(bad("operators", "needs at least one operator"));
    }
    let raw = list(a.value("services")?, "services")?;
    if raw.is_empty() {
        return Err(bad("services", "needs at least one service"));
    }
    let mut services = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let field = |k: &str| s.get(k).ok_or_else(|| bad(&format!("services[{i}].{k}"), "missing"));
        let path = |k: &str| format!("services[{i}].{k}");
        services.push(Service {
            profit: int(field("profit")?, &path("profit"))?,
            threshold_wad: int(field("threshold_wad")?, &path("threshold_wad"))?,
            operators: list(field("operators")?, &path("operators"))?
                .iter()
                .map(|v| index(v, &path("operators")))
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(Graph::new(stakes, services)?)
}

fn indices(v: &[usize]) -> Value {
    Value::Array(v.iter().map(|i| Value::String(i.to_string())).collect())
}

/// The risk functions, for `stakestack calc` (the binary adds them to the engine's).
pub fn functions() -> Vec<(&'static str, &'static str, CalcFn)> {
    vec![
        (
            "risk.attack",
            "{operators, services} -> {attack, profit, services, operators}",
            |a| {
                let g = graph(a)?;
                Ok(match g.best_attack_within(BUDGET)? {
                    Some(at) => json!({
                        "attack": true,
                        "profit": d(at.profit),
                        "services": indices(&at.coalition.services),
                        "operators": indices(&at.coalition.operators),
                    }),
                    None => json!({ "attack": false, "profit": "0", "services": [], "operators": [] }),
                })
            },
        ),
        (
            "risk.eigenlayer_condition",
            "{operators, services} -> {holds, operators}",
            |a| {
                let c = graph(a)?.eigenlayer_condition();
                Ok(json!({ "holds": c.holds, "operators": indices(&c.failing) }))
            },
        ),
        ("risk.cascade", "{operators, services, shock} -> {loss}", |a| {
            let g = graph(a)?;
            let shock: Vec<usize> = list(a.value("shock")?, "shock")?
                .iter()
                .map(|v| index(v, "shock"))
                .collect::<Result<_, _>>()?;
            Ok(json!({ "loss": d(g.cascade_loss_within(&shock, BUDGET)?) }))
        }),
        ("risk.gamma_slack", "{operators, services} -> {gamma_wad}", |a| {
            Ok(json!({ "gamma_wad": graph(a)?.gamma_slack_within(BUDGET)?.gamma_wad() }))
        }),
    ]
}
