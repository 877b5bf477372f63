//! Protocol calc functions (L0, L1 pure formulas; later layers add theirs here).

use crate::calc::{d, Args, CalcError};
use serde_json::{json, Value};
use stake_l0::spec;
use stake_lst::lido;

/// A calc function.
pub(crate) type CalcFn = fn(&Args) -> Result<Value, CalcError>;

fn tab(a: &Args) -> Result<u64, CalcError> {
    let v = a.u64("total_active_balance_gwei")?;
    if v == 0 {
        return Err(CalcError {
            code: 9102,
            message: "argument `total_active_balance_gwei`: must be positive".into(),
        });
    }
    Ok(v)
}

/// Protocol functions for `calc`.
pub(crate) fn protocol_functions() -> Vec<(&'static str, &'static str, CalcFn)> {
    let mut v: Vec<(&'static str, &'static str, CalcFn)> = vec![
        (
            "eth.base_reward_per_increment",
            "{total_active_balance_gwei} -> {value}",
            |a| Ok(json!({ "value": d(spec::base_reward_per_increment(tab(a)?)) })),
        ),
        (
            "eth.initial_slashing_penalty",
            "{effective_balance_gwei} -> {value}",
            |a| Ok(json!({ "value": d(spec::initial_slashing_penalty(a.u64("effective_balance_gwei")?)) })),
        ),
        (
            "eth.activation_exit_churn",
            "{total_active_balance_gwei} -> {value}",
            |a| Ok(json!({ "value": d(spec::activation_exit_churn_limit(a.u64("total_active_balance_gwei")?)) })),
        ),
        ("eth.balance_churn", "{total_active_balance_gwei} -> {value}", |a| {
            Ok(json!({ "value": d(spec::balance_churn_limit(a.u64("total_active_balance_gwei")?)) }))
        }),
        (
            "eth.ideal_issuance_apr_ppm",
            "{total_active_balance_gwei} -> {value}",
            |a| Ok(json!({ "value": d(spec::ideal_issuance_apr_ppm(tab(a)?)) })),
        ),
        (
            "lido.shares_by_pooled_eth",
            "{total_pooled_ether, total_shares, amount} -> {shares}",
            |a| {
                // Specification: `StETH.getSharesByPooledEth` is `amount · totalShares /
                // totalPooledEther`: it reverts when no ether is pooled (the model's 1:1 rule
                // before a bootstrap deposit is not the contract's).
                let v = stake_math::mul_div_down(
                    a.u256("amount")?,
                    a.u256("total_shares")?,
                    a.u256("total_pooled_ether")?,
                )?;
                Ok(json!({ "shares": d(v) }))
            },
        ),
        (
            "lido.pooled_eth_by_shares",
            "{total_pooled_ether, total_shares, shares} -> {amount}",
            |a| {
                // Specification: `StETH.getPooledEthByShares` is `shares · totalPooledEther /
                // totalShares`: it reverts when no share exists.
                let v = stake_math::mul_div_down(
                    a.u256("shares")?,
                    a.u256("total_pooled_ether")?,
                    a.u256("total_shares")?,
                )?;
                Ok(json!({ "amount": d(v) }))
            },
        ),
        (
            "lido.fee_shares",
            "{total_pooled_ether, total_shares, rewards, total_fee_bp_1e20} -> {shares}",
            |a| {
                let v = lido::fee_shares(
                    a.u256("total_pooled_ether")?,
                    a.u256("total_shares")?,
                    a.u256("rewards")?,
                    a.u256("total_fee_bp_1e20")?,
                )?;
                Ok(json!({ "shares": d(v) }))
            },
        ),
    ];
    v.extend(crate::restaking::calc_functions());
    v.extend(crate::markets::calc_functions());
    v
}
