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
            "solana.inflation_rate",
            "{year_wad} -> {rate_wad} (mainnet schedule: 8 %, -15 %/year, 1.5 % floor)",
            |a| {
                let p = stake_l0::chains::SolanaInflation::default();
                Ok(json!({ "rate_wad": d(stake_l0::chains::solana_inflation_rate(&p, a.u256("year_wad")?)?) }))
            },
        ),
        (
            "polkadot.inflation",
            "{staking_ratio_ppm} -> {inflation_wad} (NPoS curve: 2.5-10 %, ideal 75 %, falloff 5 %)",
            |a| {
                let ppm = a.u256("staking_ratio_ppm")?;
                let ratio = stake_math::mul_div_down(ppm, stake_math::WAD, stake_math::u(1_000_000))?;
                let c = stake_l0::chains::NposCurve::default();
                Ok(json!({ "inflation_wad": d(stake_l0::chains::npos_staker_inflation(&c, ratio)?) }))
            },
        ),
        (
            "polkadot.equivocation_slash",
            "{offenders, validators} -> {fraction_ppb} (min(3k/n, 1)^2)",
            |a| {
                let v = stake_l0::chains::polkadot_equivocation_slash_ppb(a.u64("offenders")?, a.u64("validators")?)?;
                Ok(json!({ "fraction_ppb": d(v) }))
            },
        ),
        (
            "cosmos.next_inflation",
            "{inflation_wad, bonded_ratio_wad} -> {inflation_wad} (x/mint, SDK default params, one block)",
            |a| {
                let m = stake_l0::chains::CosmosMint::default();
                let v =
                    stake_l0::chains::cosmos_next_inflation(&m, a.u256("inflation_wad")?, a.u256("bonded_ratio_wad")?)?;
                Ok(json!({ "inflation_wad": d(v) }))
            },
        ),
        (
            "cosmos.block_provision",
            "{inflation_wad, supply} -> {provision} (6,311,520 blocks/year)",
            |a| {
                let m = stake_l0::chains::CosmosMint::default();
                let v = stake_l0::chains::cosmos_block_provision(
                    a.u256("inflation_wad")?,
                    a.u256("supply")?,
                    m.blocks_per_year,
                )?;
                Ok(json!({ "provision": d(v) }))
            },
        ),
        (
            "sui.subsidy_step",
            "{amount, counter} -> {paid, next_amount, next_counter} (30-epoch periods, -10 %)",
            |a| {
                let (paid, next, c) =
                    stake_l0::chains::sui_subsidy_step(a.u256("amount")?, a.u64("counter")?, 30, 1_000)?;
                Ok(json!({ "paid": d(paid), "next_amount": d(next), "next_counter": d(c) }))
            },
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
    v.extend(lrt_functions());
    v.extend(crate::restaking::calc_functions());
    v.extend(crate::markets::calc_functions());
    v
}

// --- L3 liquid restaking tokens (stake-lrt) and the Jito vault core --------------------------

fn u64_arg(a: &Args, name: &str) -> Result<stake_math::U256, CalcError> {
    Ok(stake_math::U256::from(a.u64(name)?))
}

fn bps_arg(a: &Args, name: &str) -> Result<u16, CalcError> {
    match u16::try_from(a.u64(name)?) {
        Ok(v) if v <= stake_restaking::jito::MAX_FEE_BPS => Ok(v),
        _ => Err(CalcError {
            code: 9102,
            message: format!("argument `{name}`: must be at most 10000 bps"),
        }),
    }
}

fn fits_u64(v: stake_math::U256) -> Result<stake_math::U256, CalcError> {
    if v > stake_math::U256::from(u64::MAX) {
        return Err(stake_math::MathError::Overflow.into());
    }
    Ok(v)
}

fn lrt_functions() -> Vec<(&'static str, &'static str, CalcFn)> {
    use stake_lrt::{etherfi, kelp, renzo};
    use stake_restaking::jito::{JitoError, JitoVault};
    vec![
        ("renzo.mint_amount", "{tvl, value, supply} -> {amount}", |a| {
            let v = renzo::calculate_mint_amount(a.u256("tvl")?, a.u256("value")?, a.u256("supply")?)?;
            Ok(json!({ "amount": d(v) }))
        }),
        ("renzo.redeem_amount", "{tvl, burned, supply} -> {amount}", |a| {
            let v = renzo::calculate_redeem_amount(a.u256("tvl")?, a.u256("burned")?, a.u256("supply")?)?;
            Ok(json!({ "amount": d(v) }))
        }),
        (
            "etherfi.shares_for_deposit",
            "{total_pooled_ether, total_shares, amount} -> {shares}",
            |a| {
                let v = etherfi::shares_for_deposit(
                    a.u256("total_pooled_ether")?,
                    a.u256("total_shares")?,
                    a.u256("amount")?,
                )?;
                Ok(json!({ "shares": d(v) }))
            },
        ),
        (
            "etherfi.amount_for_share",
            "{total_pooled_ether, total_shares, shares} -> {amount}",
            |a| {
                let v = etherfi::amount_for_share(
                    a.u256("total_pooled_ether")?,
                    a.u256("total_shares")?,
                    a.u256("shares")?,
                )?;
                Ok(json!({ "amount": d(v) }))
            },
        ),
        (
            "kelp.rseth_price",
            "{tvl_e36, rseth_supply, old_price, protocol_fee_bps, price_percentage_limit} -> {price, fee_rseth}",
            |a| {
                let (price, fee) = kelp::rseth_price(
                    a.u256("tvl_e36")?,
                    a.u256("rseth_supply")?,
                    a.u256("old_price")?,
                    a.u256("protocol_fee_bps")?,
                    a.u256("price_percentage_limit")?,
                )?;
                Ok(json!({ "price": d(price), "fee_rseth": d(fee) }))
            },
        ),
        (
            "jito.mint_with_fee",
            "{tokens_deposited, vrt_supply, amount_in, deposit_fee_bps, min_amount_out} -> {vrt_to_depositor, vrt_to_fee_wallet}",
            |a| {
                let mut v = JitoVault {
                    tokens_deposited: u64_arg(a, "tokens_deposited")?,
                    vrt_supply: u64_arg(a, "vrt_supply")?,
                    capacity: stake_math::U256::from(u64::MAX),
                    deposit_fee_bps: bps_arg(a, "deposit_fee_bps")?,
                    ..JitoVault::default()
                };
                let s = v.mint_with_fee(u64_arg(a, "amount_in")?, u64_arg(a, "min_amount_out")?)?;
                fits_u64(v.vrt_supply)?;
                Ok(json!({
                    "vrt_to_depositor": d(fits_u64(s.vrt_to_depositor)?),
                    "vrt_to_fee_wallet": d(fits_u64(s.vrt_to_fee_wallet)?),
                }))
            },
        ),
        (
            "jito.burn_with_fee",
            "{tokens_deposited, vrt_supply, amount_in, withdrawal_fee_bps, program_fee_bps, min_amount_out} -> {out, vault_fee, program_fee}",
            |a| {
                let mut v = JitoVault {
                    tokens_deposited: u64_arg(a, "tokens_deposited")?,
                    vrt_supply: u64_arg(a, "vrt_supply")?,
                    capacity: stake_math::U256::from(u64::MAX),
                    withdrawal_fee_bps: bps_arg(a, "withdrawal_fee_bps")?,
                    program_fee_bps: bps_arg(a, "program_fee_bps")?,
                    ..JitoVault::default()
                };
                let min_out = u64_arg(a, "min_amount_out")?;
                let s = v.burn_with_fee(u64_arg(a, "amount_in")?)?;
                if s.out_amount < min_out {
                    return Err(JitoError::Slippage {
                        out: s.out_amount,
                        min_out,
                    }
                    .into());
                }
                Ok(json!({
                    "out": d(s.out_amount),
                    "vault_fee": d(s.vault_fee_amount),
                    "program_fee": d(s.program_fee_amount),
                }))
            },
        ),
    ]
}

#[cfg(test)]
mod lrt_calc_tests {
    use crate::calc::answer;

    fn ok(line: &str) -> serde_json::Value {
        let v = answer(line);
        assert!(v.get("ok").is_some(), "{line} -> {v}");
        v["ok"].clone()
    }

    fn err(line: &str) -> u64 {
        let v = answer(line);
        v["err"]["code"].as_u64().unwrap_or_else(|| panic!("{line} -> {v}"))
    }

    #[test]
    fn renzo_calc_mints_redeems_and_reverts_on_zero() {
        let r = ok(r#"{"fn":"renzo.mint_amount","args":{"tvl":"110","value":"11","supply":"100"}}"#);
        assert_eq!(r["amount"], "10");
        let r = ok(r#"{"fn":"renzo.mint_amount","args":{"tvl":"0","value":"7","supply":"100"}}"#);
        assert_eq!(r["amount"], "7");
        assert_eq!(
            err(r#"{"fn":"renzo.mint_amount","args":{"tvl":"200","value":"1","supply":"100"}}"#),
            5000
        );
        let r = ok(r#"{"fn":"renzo.redeem_amount","args":{"tvl":"110","burned":"10","supply":"100"}}"#);
        assert_eq!(r["amount"], "11");
        assert_eq!(
            err(r#"{"fn":"renzo.redeem_amount","args":{"tvl":"1","burned":"1","supply":"0"}}"#),
            102
        );
    }

    #[test]
    fn etherfi_calc_uses_the_pool_including_the_deposit() {
        let r = ok(
            r#"{"fn":"etherfi.shares_for_deposit","args":{"total_pooled_ether":"110","total_shares":"90","amount":"10"}}"#,
        );
        assert_eq!(r["shares"], "9");
        let r = ok(
            r#"{"fn":"etherfi.amount_for_share","args":{"total_pooled_ether":"110","total_shares":"90","shares":"9"}}"#,
        );
        assert_eq!(r["amount"], "11");
        assert_eq!(
            err(
                r#"{"fn":"etherfi.shares_for_deposit","args":{"total_pooled_ether":"1","total_shares":"1","amount":"2"}}"#
            ),
            101
        );
    }

    #[test]
    fn kelp_calc_spec_vector() {
        let r = ok(
            r#"{"fn":"kelp.rseth_price","args":{"tvl_e36":"1010000000000000000000000000000000000000","rseth_supply":"1000000000000000000000","old_price":"1000000000000000000","protocol_fee_bps":"1000","price_percentage_limit":"0"}}"#,
        );
        assert_eq!(r["price"], "1009000000000000000");
        assert_eq!(r["fee_rseth"], "991080277502477700");
        // A 10 % jump fails a 1 % limit.
        assert_eq!(
            err(
                r#"{"fn":"kelp.rseth_price","args":{"tvl_e36":"1100000000000000000000000000000000000000","rseth_supply":"1000000000000000000000","old_price":"1000000000000000000","protocol_fee_bps":"0","price_percentage_limit":"1"}}"#
            ),
            5200
        );
    }

    #[test]
    fn jito_calc_fees_round_up_and_u64_bounds() {
        let r = ok(
            r#"{"fn":"jito.mint_with_fee","args":{"tokens_deposited":"1000","vrt_supply":"1000","amount_in":"100","deposit_fee_bps":"10","min_amount_out":"0"}}"#,
        );
        assert_eq!(r["vrt_to_depositor"], "99");
        assert_eq!(r["vrt_to_fee_wallet"], "1");
        assert_eq!(
            err(
                r#"{"fn":"jito.mint_with_fee","args":{"tokens_deposited":"1000","vrt_supply":"1000","amount_in":"100","deposit_fee_bps":"10","min_amount_out":"100"}}"#
            ),
            4302
        );
        assert_eq!(
            err(
                r#"{"fn":"jito.mint_with_fee","args":{"tokens_deposited":"18446744073709551616","vrt_supply":"1","amount_in":"1","deposit_fee_bps":"0","min_amount_out":"0"}}"#
            ),
            9102
        );
        let r = ok(
            r#"{"fn":"jito.burn_with_fee","args":{"tokens_deposited":"1000","vrt_supply":"1000","amount_in":"100","withdrawal_fee_bps":"10","program_fee_bps":"10","min_amount_out":"0"}}"#,
        );
        assert_eq!(r["program_fee"], "1");
        assert_eq!(r["vault_fee"], "1");
        assert_eq!(r["out"], "98");
        assert_eq!(
            err(
                r#"{"fn":"jito.burn_with_fee","args":{"tokens_deposited":"1000","vrt_supply":"1000","amount_in":"100","withdrawal_fee_bps":"10","program_fee_bps":"10","min_amount_out":"99"}}"#
            ),
            4302
        );
        assert_eq!(
            err(
                r#"{"fn":"jito.burn_with_fee","args":{"tokens_deposited":"1000","vrt_supply":"1000","amount_in":"0","withdrawal_fee_bps":"10","program_fee_bps":"10","min_amount_out":"0"}}"#
            ),
            4303
        );
    }
}

#[cfg(test)]
mod yieldspace_and_restaking_calc_tests {
    use crate::calc::answer;

    fn ok(line: &str) -> serde_json::Value {
        let v = answer(line);
        assert!(v.get("ok").is_some(), "{line} -> {v}");
        v["ok"].clone()
    }

    fn err(line: &str) -> (u64, String) {
        let v = answer(line);
        let code = v["err"]["code"].as_u64().unwrap_or_else(|| panic!("{line} -> {v}"));
        (code, v["err"]["message"].as_str().unwrap_or_default().to_string())
    }

    /// The fixture of yieldspace-tv's `YieldMath.t.sol` (k = 1/(25 years in tenths of a second),
    /// 90 days in tenths, c = 1.1, μ = 1.05) as raw 64.64 decimal strings.
    fn ys(name: &str, amount_field: &str, amount: &str, g: &str, c: &str) -> String {
        format!(
            r#"{{"fn":"yieldspace.{name}","args":{{"shares_reserves":"1100000000000000000000000","fy_token_reserves":"1500000000000000000000000","{amount_field}":"{amount}","time_till_maturity":"77760000","k":"2339769669","g":"{g}","c":"{c}","mu":"19369081277395029196"}}}}"#
        )
    }
    const G1: &str = "17524406870024074035";
    const G2: &str = "19417625340746896437";
    const C: &str = "20291418481080506777";

    #[test]
    fn yieldspace_calc_matches_the_yield_math_fixture() {
        let r = ok(&ys(
            "fy_token_out_for_shares_in",
            "shares_in",
            "100000000000000000000000",
            G1,
            C,
        ));
        assert_eq!(r["fy_token_out"], "110185232407525074361139");
        let r = ok(&ys(
            "shares_in_for_fy_token_out",
            "fy_token_out",
            "100000000000000000000000",
            G1,
            C,
        ));
        assert_eq!(r["shares_in"], "90749853081576642993186");
        let r = ok(&ys(
            "shares_out_for_fy_token_in",
            "fy_token_in",
            "100000000000000000000000",
            G2,
            C,
        ));
        assert_eq!(r["shares_out"], "90592196876181457679667");
        let r = ok(&ys(
            "fy_token_in_for_shares_out",
            "shares_out",
            "100000000000000000000000",
            G2,
            C,
        ));
        assert_eq!(r["fy_token_in"], "110393781534907124240390");
        let r = ok(r#"{"fn":"yieldspace.to_64x64","args":{"numerator":"11","denominator":"10"}}"#);
        assert_eq!(r["value"], C);
        let r = ok(r#"{"fn":"yieldspace.wad_to_64x64","args":{"wad":"1100000000000000000"}}"#);
        assert_eq!(r["value"], C);
    }

    #[test]
    fn yieldspace_calc_rejects_with_the_contract_reasons() {
        assert_eq!(
            err(&ys("fy_token_out_for_shares_in", "shares_in", "1", G1, "0")),
            (6701, "yieldspace: YieldMath: c and mu must be positive".to_string())
        );
        assert_eq!(
            err(&ys(
                "shares_in_for_fy_token_out",
                "fy_token_out",
                "340282366920938463463374607431768211455",
                G1,
                C
            )),
            (6701, "yieldspace: YieldMath: Underflow (yxa)".to_string())
        );
        assert_eq!(
            err(&ys(
                "fy_token_out_for_shares_in",
                "shares_in",
                "340282366920938463463374607431768211456",
                G1,
                C
            )),
            (
                9102,
                "argument `shares_in`: does not fit in 128 bits (uint128)".to_string()
            )
        );
        assert_eq!(
            err(&ys(
                "fy_token_out_for_shares_in",
                "shares_in",
                "1",
                "170141183460469231731687303715884105728",
                C
            )),
            (
                9102,
                "argument `g`: does not fit a signed 64.64 number (int128)".to_string()
            )
        );
        assert_eq!(
            err(r#"{"fn":"yieldspace.to_64x64","args":{"numerator":"1","denominator":"0"}}"#),
            (6700, "yieldspace: Math64x64.divu reverted".to_string())
        );
    }

    #[test]
    fn symbiotic_calc_uses_one_virtual_share_and_rounds_withdrawals_up() {
        let r = ok(
            r#"{"fn":"symbiotic.deposit_shares","args":{"assets":"100","total_shares":"999","total_assets":"1999"}}"#,
        );
        assert_eq!(r["shares"], "50");
        let r =
            ok(r#"{"fn":"symbiotic.withdraw_shares","args":{"assets":"3","total_shares":"9","total_assets":"19"}}"#);
        assert_eq!(r["shares"], "2");
        let r = ok(r#"{"fn":"symbiotic.redeem_assets","args":{"shares":"2","total_assets":"19","total_shares":"9"}}"#);
        assert_eq!(r["assets"], "4");
        let r = ok(
            r#"{"fn":"symbiotic.slashable_stake","args":{"stake_at_capture":"100","cumulative_slash":"30","cumulative_slash_at_capture":"10"}}"#,
        );
        assert_eq!(r["slashable"], "80");
        let r = ok(
            r#"{"fn":"symbiotic.slashable_stake","args":{"stake_at_capture":"100","cumulative_slash":"200","cumulative_slash_at_capture":"0"}}"#,
        );
        assert_eq!(r["slashable"], "0");
        assert_eq!(
            err(
                r#"{"fn":"symbiotic.slashable_stake","args":{"stake_at_capture":"100","cumulative_slash":"5","cumulative_slash_at_capture":"10"}}"#
            ),
            (101, "arithmetic underflow".to_string())
        );
        assert_eq!(
            err(r#"{"fn":"symbiotic.deposit_shares","args":{"assets":"1","total_shares":"1"}}"#),
            (9102, "argument `total_assets`: missing".to_string())
        );
    }

    #[test]
    fn babylon_calc_shares_power_rewards_and_slashing() {
        let r = ok(r#"{"fn":"babylon.delegation_shares","args":{"amount":"50","pool_btc":"0","pool_shares":"0"}}"#);
        assert_eq!(r["shares"], "50");
        let r = ok(r#"{"fn":"babylon.delegation_shares","args":{"amount":"50","pool_btc":"300","pool_shares":"200"}}"#);
        assert_eq!(r["shares"], "33");
        let r =
            ok(r#"{"fn":"babylon.voting_power","args":{"active_shares":"100","pool_btc":"150","pool_shares":"200"}}"#);
        assert_eq!(r["voting_power"], "75");
        let r = ok(r#"{"fn":"babylon.voting_power","args":{"active_shares":"0","pool_btc":"150","pool_shares":"0"}}"#);
        assert_eq!(r["voting_power"], "0");
        let r =
            ok(r#"{"fn":"babylon.reward_split","args":{"amount":"1000","commission_bps":"500","active_shares":"3"}}"#);
        assert_eq!(r["commission"], "50");
        assert_eq!(r["to_delegators"], "950");
        assert_eq!(r["index_increment_ray"], "316666666666666666666666666666");
        assert_eq!(
            err(r#"{"fn":"babylon.reward_split","args":{"amount":"1000","commission_bps":"500","active_shares":"0"}}"#),
            (102, "division by zero".to_string())
        );
        assert_eq!(
            err(
                r#"{"fn":"babylon.reward_split","args":{"amount":"1000","commission_bps":"10001","active_shares":"3"}}"#
            ),
            (9102, "argument `commission_bps`: must be at most 10000 bps".to_string())
        );
        // ⌈100000001·0.1⌉ = 10000001 satoshi burned.
        let r = ok(
            r#"{"fn":"babylon.slashing_amount","args":{"pool_btc":"100000001","slashing_rate_wad":"100000000000000000"}}"#,
        );
        assert_eq!(r["burned"], "10000001");
        assert_eq!(r["remaining"], "90000000");
        // A rate above 100 % burns the whole pool.
        let r =
            ok(r#"{"fn":"babylon.slashing_amount","args":{"pool_btc":"7","slashing_rate_wad":"2000000000000000000"}}"#);
        assert_eq!(r["burned"], "7");
        assert_eq!(r["remaining"], "0");
    }
}
