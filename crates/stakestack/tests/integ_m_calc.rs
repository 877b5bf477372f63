//! `stakestack calc` answers the L4 formulas with the SPEC vectors (§14 Curve, §7.3 Aave,
//! §7.4 Pendle) and an `err` line where the contract would revert.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common::calc;

const B: &str = r#""balances":["100000000000000000000000","120000000000000000000000"],"a_precise":"5000""#;

#[test]
fn curve_functions_reproduce_the_legacy_pool_vectors() {
    let input = format!(
        r#"{{"fn":"curve.get_d","args":{{{B}}}}}
{{"fn":"curve.get_dy","args":{{{B},"fee":"4000000","i":"1","j":"0","dx":"1000000000000000000000"}}}}
{{"fn":"curve.get_dy","args":{{{B},"fee":"4000000","i":"0","j":"1","dx":"1000000000000000000000"}}}}
{{"fn":"curve.calc_withdraw_one_coin","args":{{{B},"fee":"4000000","supply":"219982030504551575675278","token_amount":"1000000000000000000000","i":"0"}}}}
{{"fn":"curve.calc_token_amount","args":{{{B},"supply":"219982030504551575675278","amounts":["1000000000000000000000","0"],"deposit":true}}}}
{{"fn":"curve.get_dy","args":{{{B},"fee":"4000000","i":"0","j":"0","dx":"1"}}}}
{{"fn":"curve.get_dy","args":{{{B},"fee":"4000000","i":"2","j":"0","dx":"1"}}}}
{{"fn":"curve.calc_token_amount","args":{{{B},"supply":"1","amounts":["200000000000000000000000","0"],"deposit":false}}}}
{{"fn":"curve.get_d","args":{{"balances":["1"],"a_precise":"5000"}}}}
"#
    );
    let out = calc(&input);
    assert_eq!(out.len(), 9);
    assert_eq!(out[0]["ok"]["d"], "219982030504551575675278");
    assert_eq!(out[1]["ok"]["dy"], "995798916689155382194");
    assert_eq!(out[2]["ok"]["dy"], "1003040525864393667888");
    assert_eq!(out[3]["ok"]["dy"], "997836051345386354069");
    // Depositing 1,000 ETH into a pool that is short of ETH mints a little more than 1,000 × supply/D.
    let lp: u128 = out[4]["ok"]["lp"].as_str().unwrap().parse().unwrap();
    assert!(
        lp > 1_000_000_000_000_000_000_000 && lp < 1_005_000_000_000_000_000_000,
        "{lp}"
    );
    // Same coin, index out of range, withdrawing more than the pool holds, a malformed list.
    assert_eq!(out[5]["err"]["code"], 6100);
    assert_eq!(out[6]["err"]["code"], 6101);
    assert!(out[7]["err"]["code"].as_u64().unwrap() < 200, "{}", out[7]);
    assert_eq!(out[8]["err"]["code"], 9102);
}

#[test]
fn aave_functions_reproduce_the_spec_and_mathutils_vectors() {
    let rates = |debt: &str, avail: &str| {
        format!(
            r#"{{"fn":"aave.rates","args":{{"optimal_usage_bps":"9000","base_bps":"0","slope1_bps":"270","slope2_bps":"8000","reserve_factor_bps":"1500","debt":"{debt}","available":"{avail}"}}}}"#
        )
    };
    let input = [
        rates("800000000000000000000", "200000000000000000000"),
        rates("950000000000000000000", "50000000000000000000"),
        r#"{"fn":"aave.linear_interest","args":{"rate_ray":"80000000000000000000000000","seconds":"220752000"}}"#.into(),
        r#"{"fn":"aave.compounded_interest","args":{"rate_ray":"1000000000000000000000000000000","seconds":"315360000000"}}"#.into(),
        r#"{"fn":"aave.compounded_interest","args":{"rate_ray":"5","seconds":"0"}}"#.into(),
        r#"{"fn":"aave.rates","args":{"optimal_usage_bps":"9000","base_bps":"0","slope1_bps":"270","slope2_bps":"8000","reserve_factor_bps":"20000","debt":"1","available":"1"}}"#.into(),
        r#"{"fn":"aave.rates","args":{"optimal_usage_bps":"0","base_bps":"0","slope1_bps":"270","slope2_bps":"8000","reserve_factor_bps":"1000","debt":"1","available":"1"}}"#.into(),
        r#"{"fn":"aave.rates","args":{"optimal_usage_bps":"20000","base_bps":"0","slope1_bps":"270","slope2_bps":"8000","reserve_factor_bps":"1000","debt":"1","available":"1"}}"#.into(),
        r#"{"fn":"aave.rates","args":{"optimal_usage_bps":"9000","base_bps":"0","slope1_bps":"9000","slope2_bps":"8000","reserve_factor_bps":"1000","debt":"1","available":"1"}}"#.into(),
        r#"{"fn":"aave.rates","args":{"optimal_usage_bps":"9000","base_bps":"5000","slope1_bps":"50000","slope2_bps":"50000","reserve_factor_bps":"1000","debt":"1","available":"1"}}"#.into(),
    ]
    .join("\n");
    let out = calc(&input);
    assert_eq!(out[0]["ok"]["variable_rate_ray"], "24000000000000000000000000");
    assert_eq!(out[0]["ok"]["liquidity_rate_ray"], "16320000000000000000000000");
    assert_eq!(out[1]["ok"]["variable_rate_ray"], "427000000000000000000000000");
    assert_eq!(out[1]["ok"]["liquidity_rate_ray"], "344802500000000000000000000");
    assert_eq!(out[2]["ok"]["factor_ray"], "1560000000000000000000000000");
    assert_eq!(
        out[3]["ok"]["factor_ray"],
        "166666716666676666667666666666666600000000000000"
    );
    assert_eq!(out[4]["ok"]["factor_ray"], "1000000000000000000000000000");
    // Parameters the strategy's and the configurator's setters refuse are refused here too.
    let refused = |i: usize, reason: &str| {
        assert_eq!(out[i]["err"]["code"], 6226, "{}", out[i]);
        assert_eq!(
            out[i]["err"]["message"],
            format!("aave: invalid configuration: {reason}")
        );
    };
    refused(5, "reserve factor above 100 %");
    refused(6, "optimal usage outside 1 %–99 %");
    refused(7, "optimal usage outside 1 %–99 %");
    refused(8, "slope1 above slope2");
    refused(9, "max borrow rate above 1000 %");
}

#[test]
fn pendle_swaps_reproduce_the_market_math_vector() {
    let args = |amount: &str| {
        format!(
            r#""total_pt":"1000000000000000000000000","total_sy":"1000000000000000000000000","total_lp":"1000000000000000000000000","scalar_root":"20000000000000000000","ln_fee_rate_root":"498754151103897","reserve_fee_percent":"80","last_ln_implied_rate":"48790164169432003","py_index":"1150000000000000000","time_to_expiry":"15552000","amount":"{amount}""#
        )
    };
    let input = format!(
        r#"{{"fn":"pendle.swap_exact_pt_for_sy","args":{{{}}}}}
{{"fn":"pendle.swap_sy_for_exact_pt","args":{{{}}}}}
{{"fn":"pendle.swap_sy_for_exact_pt","args":{{{}}}}}
{{"fn":"pendle.swap_exact_pt_for_sy","args":{{{}}}}}
"#,
        args("1000000000000000000000"),
        args("1000000000000000000000"),
        args("990000000000000000000000"),
        args("0").replace(r#""reserve_fee_percent":"80""#, r#""reserve_fee_percent":"101""#),
    );
    let out = calc(&input);
    let o = &out[0]["ok"];
    assert_eq!(o["net_sy_to_account"], "848645436124259901251");
    assert_eq!(o["net_sy_fee"], "208759310992458254");
    assert_eq!(o["net_sy_to_reserve"], "167007448793966603");
    assert_eq!(o["ln_implied_rate"], "48880398328354651");
    // Buying the same PT costs more SY than selling it yields, and lowers the implied rate.
    let buy = &out[1]["ok"];
    let cost: u128 = buy["net_sy_to_market"].as_str().unwrap().parse().unwrap();
    assert!(cost > 848_645_436_124_259_901_251, "{cost}");
    let ln: u128 = buy["ln_implied_rate"].as_str().unwrap().parse().unwrap();
    assert!(ln < 48_790_164_169_432_003);
    // Buying 99 % of the PT pushes the proportion past 96 %: the market reverts.
    assert!(out[2]["err"]["code"].is_u64(), "{}", out[2]);
    assert_eq!(out[3]["err"]["code"], 9102);
}
