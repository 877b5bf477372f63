//! `stakestack calc` functions of L4: Curve legacy-pool math, Aave rates and interest, Pendle
//! market swaps. Every integer is a decimal string; inputs the contract reverts on get an `err`.

use crate::calc::{d, Args, CalcError};
use crate::calc_fns::CalcFn;
use serde_json::json;
use stake_markets::{aave, pendle::math as pm, stableswap::calc as ss};
use stake_math::U256;

fn arg_err(name: &str, why: &str) -> CalcError {
    CalcError {
        code: 9102,
        message: format!("argument `{name}`: {why}"),
    }
}

fn pair(a: &Args, name: &str) -> Result<[U256; 2], CalcError> {
    let v = a.u256_list(name)?;
    match v.as_slice() {
        [x, y] => Ok([*x, *y]),
        _ => Err(arg_err(name, "expected exactly two decimal strings")),
    }
}

fn index(a: &Args, name: &str) -> Result<usize, CalcError> {
    let v = a.u64(name)?;
    usize::try_from(v).map_err(|_| arg_err(name, "too large"))
}

fn bps(a: &Args, name: &str) -> Result<u32, CalcError> {
    let v = a.u64(name)?;
    u32::try_from(v).map_err(|_| arg_err(name, "does not fit in 32 bits"))
}

fn market_args(a: &Args) -> Result<pm::MarketStateArgs, CalcError> {
    let reserve = a.u256("reserve_fee_percent")?;
    if reserve > U256::from(100u8) {
        return Err(arg_err("reserve_fee_percent", "must be at most 100"));
    }
    Ok(pm::MarketStateArgs {
        total_pt: a.u256("total_pt")?,
        total_sy: a.u256("total_sy")?,
        total_lp: a.u256("total_lp")?,
        scalar_root: a.i256("scalar_root")?,
        ln_fee_rate_root: a.u256("ln_fee_rate_root")?,
        reserve_fee_percent: reserve,
        last_ln_implied_rate: a.u256("last_ln_implied_rate")?,
        py_index: a.u256("py_index")?,
        time_to_expiry: a.u64("time_to_expiry")?,
    })
}

/// The L4 calc functions.
pub(crate) fn functions() -> Vec<(&'static str, &'static str, CalcFn)> {
    vec![
        ("curve.get_d", "{balances:[x0,x1], a_precise} -> {d}", |a| {
            Ok(json!({ "d": d(ss::get_d(pair(a, "balances")?, a.u256("a_precise")?)?) }))
        }),
        ("curve.get_dy", "{balances, a_precise, fee, i, j, dx} -> {dy}", |a| {
            let dy = ss::get_dy(
                pair(a, "balances")?,
                a.u256("a_precise")?,
                a.u256("fee")?,
                index(a, "i")?,
                index(a, "j")?,
                a.u256("dx")?,
            )?;
            Ok(json!({ "dy": d(dy) }))
        }),
        (
            "curve.calc_withdraw_one_coin",
            "{balances, a_precise, fee, supply, token_amount, i} -> {dy}",
            |a| {
                let dy = ss::calc_withdraw_one_coin(
                    pair(a, "balances")?,
                    a.u256("a_precise")?,
                    a.u256("fee")?,
                    a.u256("supply")?,
                    a.u256("token_amount")?,
                    index(a, "i")?,
                )?;
                Ok(json!({ "dy": d(dy) }))
            },
        ),
        (
            "curve.calc_token_amount",
            "{balances, a_precise, supply, amounts, deposit} -> {lp}",
            |a| {
                let lp = ss::calc_token_amount(
                    pair(a, "balances")?,
                    a.u256("a_precise")?,
                    a.u256("supply")?,
                    pair(a, "amounts")?,
                    a.bool("deposit")?,
                )?;
                Ok(json!({ "lp": d(lp) }))
            },
        ),
        (
            "aave.rates",
            "{optimal_usage_bps, base_bps, slope1_bps, slope2_bps, reserve_factor_bps, debt, available} -> {variable_rate_ray, liquidity_rate_ray}",
            |a| {
                let (var, liq) = aave::rates(
                    bps(a, "optimal_usage_bps")?,
                    bps(a, "base_bps")?,
                    bps(a, "slope1_bps")?,
                    bps(a, "slope2_bps")?,
                    bps(a, "reserve_factor_bps")?,
                    a.u256("debt")?,
                    a.u256("available")?,
                )?;
                Ok(json!({ "variable_rate_ray": d(var), "liquidity_rate_ray": d(liq) }))
            },
        ),
        ("aave.compounded_interest", "{rate_ray, seconds} -> {factor_ray}", |a| {
            let f = aave::compounded_interest(a.u256("rate_ray")?, a.u64("seconds")?)?;
            Ok(json!({ "factor_ray": d(f) }))
        }),
        ("aave.linear_interest", "{rate_ray, seconds} -> {factor_ray}", |a| {
            let f = aave::linear_interest(a.u256("rate_ray")?, a.u64("seconds")?)?;
            Ok(json!({ "factor_ray": d(f) }))
        }),
        (
            "pendle.swap_exact_pt_for_sy",
            "{total_pt, total_sy, total_lp, scalar_root, ln_fee_rate_root, reserve_fee_percent, last_ln_implied_rate, py_index, time_to_expiry, amount} -> {net_sy_to_account, net_sy_fee, net_sy_to_reserve, ln_implied_rate}",
            |a| {
                let o = pm::swap_exact_pt_for_sy(market_args(a)?, a.u256("amount")?)?;
                Ok(json!({
                    "net_sy_to_account": d(o.net_sy),
                    "net_sy_fee": d(o.net_sy_fee),
                    "net_sy_to_reserve": d(o.net_sy_to_reserve),
                    "ln_implied_rate": d(o.ln_implied_rate),
                }))
            },
        ),
        (
            "pendle.swap_sy_for_exact_pt",
            "{total_pt, total_sy, total_lp, scalar_root, ln_fee_rate_root, reserve_fee_percent, last_ln_implied_rate, py_index, time_to_expiry, amount} -> {net_sy_to_market, net_sy_fee, net_sy_to_reserve, ln_implied_rate}",
            |a| {
                let o = pm::swap_sy_for_exact_pt(market_args(a)?, a.u256("amount")?)?;
                Ok(json!({
                    "net_sy_to_market": d(o.net_sy),
                    "net_sy_fee": d(o.net_sy_fee),
                    "net_sy_to_reserve": d(o.net_sy_to_reserve),
                    "ln_implied_rate": d(o.ln_implied_rate),
                }))
            },
        ),
    ]
}
