//! `stakestack calc` functions of the YieldSpace pool (`stake_markets::yieldspace`): the
//! `YieldMath` formulas of `yieldprotocol/yieldspace-tv`, exact to the wei.
//!
//! Amounts are `uint128` base units as decimal strings. `k`, `g`, `c` and `mu` are **raw ABDK
//! 64.64 values** as signed decimal strings (the `int128` the contract takes: `1.0` is
//! `18446744073709551616`); `yieldspace.to_64x64` builds one from a fraction and
//! `yieldspace.wad_to_64x64` from a wad, exactly as `divu` does.

use crate::calc::{d, Args, CalcError};
use crate::calc_fns::CalcFn;
use serde_json::json;
use stake_markets::yieldspace::math::{self, Params};
use stake_markets::yieldspace::{abdk, YieldSpaceError};
use stake_math::U256;

fn arg_err(name: &str, why: &str) -> CalcError {
    CalcError {
        code: 9102,
        message: format!("argument `{name}`: {why}"),
    }
}

fn u128_arg(a: &Args, name: &str) -> Result<u128, CalcError> {
    u128::try_from(a.u256(name)?).map_err(|_| arg_err(name, "does not fit in 128 bits (uint128)"))
}

fn fixed_arg(a: &Args, name: &str) -> Result<i128, CalcError> {
    i128::try_from(a.i256(name)?).map_err(|_| arg_err(name, "does not fit a signed 64.64 number (int128)"))
}

fn params(a: &Args) -> Result<Params, CalcError> {
    Ok(Params {
        time_till_maturity: u128_arg(a, "time_till_maturity")?,
        k: fixed_arg(a, "k")?,
        g: fixed_arg(a, "g")?,
        c: fixed_arg(a, "c")?,
        mu: fixed_arg(a, "mu")?,
    })
}

fn trade(a: &Args, amount: &str, f: math::TradeFn) -> Result<u128, CalcError> {
    Ok(f(
        u128_arg(a, "shares_reserves")?,
        u128_arg(a, "fy_token_reserves")?,
        u128_arg(a, amount)?,
        &params(a)?,
    )?)
}

fn max(a: &Args, f: math::MaxFn) -> Result<u128, CalcError> {
    Ok(f(
        u128_arg(a, "shares_reserves")?,
        u128_arg(a, "fy_token_reserves")?,
        &params(a)?,
    )?)
}

/// The YieldSpace calc functions.
pub(crate) fn functions() -> Vec<(&'static str, &'static str, CalcFn)> {
    vec![
        (
            "yieldspace.fy_token_out_for_shares_in",
            "{shares_reserves, fy_token_reserves, shares_in, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {fy_token_out}",
            |a| {
                let v = trade(a, "shares_in", math::fy_token_out_for_shares_in)?;
                Ok(json!({ "fy_token_out": d(v) }))
            },
        ),
        (
            "yieldspace.shares_out_for_fy_token_in",
            "{shares_reserves, fy_token_reserves, fy_token_in, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {shares_out}",
            |a| {
                let v = trade(a, "fy_token_in", math::shares_out_for_fy_token_in)?;
                Ok(json!({ "shares_out": d(v) }))
            },
        ),
        (
            "yieldspace.fy_token_in_for_shares_out",
            "{shares_reserves, fy_token_reserves, shares_out, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {fy_token_in}",
            |a| {
                let v = trade(a, "shares_out", math::fy_token_in_for_shares_out)?;
                Ok(json!({ "fy_token_in": d(v) }))
            },
        ),
        (
            "yieldspace.shares_in_for_fy_token_out",
            "{shares_reserves, fy_token_reserves, fy_token_out, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {shares_in}",
            |a| {
                let v = trade(a, "fy_token_out", math::shares_in_for_fy_token_out)?;
                Ok(json!({ "shares_in": d(v) }))
            },
        ),
        (
            "yieldspace.max_fy_token_in",
            "{shares_reserves, fy_token_reserves, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {fy_token_in}",
            |a| Ok(json!({ "fy_token_in": d(max(a, math::max_fy_token_in)?) })),
        ),
        (
            "yieldspace.max_fy_token_out",
            "{shares_reserves, fy_token_reserves, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {fy_token_out}",
            |a| Ok(json!({ "fy_token_out": d(max(a, math::max_fy_token_out)?) })),
        ),
        (
            "yieldspace.max_shares_in",
            "{shares_reserves, fy_token_reserves, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {shares_in}",
            |a| Ok(json!({ "shares_in": d(max(a, math::max_shares_in)?) })),
        ),
        (
            "yieldspace.invariant",
            "{shares_reserves, fy_token_reserves, total_supply, time_till_maturity, k, g, c, mu (64.64 raw int128)} -> {invariant_wad}",
            |a| {
                let v = math::invariant(
                    u128_arg(a, "shares_reserves")?,
                    u128_arg(a, "fy_token_reserves")?,
                    a.u256("total_supply")?,
                    &params(a)?,
                )?;
                Ok(json!({ "invariant_wad": d(v) }))
            },
        ),
        (
            "yieldspace.to_64x64",
            "{numerator, denominator} -> {value (64.64 raw int128, divu)}",
            |a| {
                let v = abdk::divu(a.u256("numerator")?, a.u256("denominator")?).map_err(YieldSpaceError::from)?;
                Ok(json!({ "value": d(v) }))
            },
        ),
        (
            "yieldspace.wad_to_64x64",
            "{wad} -> {value (64.64 raw int128, divu(wad, 1e18))}",
            |a| {
                let v = abdk::divu(a.u256("wad")?, U256::from(math::WAD)).map_err(YieldSpaceError::from)?;
                Ok(json!({ "value": d(v) }))
            },
        ),
    ]
}
