//! Differential test: `pendle::math::{swap_exact_pt_for_sy, swap_sy_for_exact_pt}` against
//! `MarketState` of npm `@pendle/core-v2-offchain-math` (through `diff/pendle_ref.mjs`) on
//! ≥ 10,000 seeded random market states: SY out/in, fee, reserve and the new lnImpliedRate must be
//! equal, and both sides must reject the same inputs.
//!
//! One documented difference: the on-chain `MarketMathCore._getExchangeRate` also reverts when the
//! *pre-fee* trade rate or the post-trade rate is below 1 (`MarketExchangeRateBelowOne`); the
//! offchain library omits that check. Where we reject and the reference does not, the test requires
//! our error to carry exactly the rate the reference computed, and that rate to be < 1e18.
//!
//! Skips (passing, with a line saying so) when `diff/node_modules` or `node` is missing, unless
//! `STAKESTACK_REQUIRE_DIFF=1`.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use stake_markets::pendle::math::{swap_exact_pt_for_sy, swap_sy_for_exact_pt, MarketStateArgs};
use stake_markets::pendle::PendleError;
use stake_math::{parse_i256, parse_u256, I256, U256};
#[path = "../../../diff/node_oracle.rs"]
mod node_oracle;
use node_oracle::SplitMix;

/// `10^e · m` with e uniform in `lo..=hi` and m in [1, 10).
fn magnitude(rng: &mut SplitMix, lo: u32, hi: u32) -> U256 {
    let e = lo + rng.below((hi - lo + 1) as u128) as u32;
    let m = 1_000_000 + rng.below(9_000_000);
    U256::from(m) * U256::from(10u8).pow(e) / U256::from(1_000_000u32)
}

fn run_oracle(requests: &[String]) -> Option<Vec<serde_json::Value>> {
    node_oracle::run_oracle(env!("CARGO_MANIFEST_DIR"), requests)
}

fn random_state(rng: &mut SplitMix) -> (MarketStateArgs, U256) {
    let total_pt = magnitude(rng, 18, 27);
    // SY within ×/÷ 30 of PT so that most states are tradeable.
    let total_sy = (total_pt * U256::from(1 + rng.below(3000))) / U256::from(100u8) + U256::ONE;
    let py_index = U256::from(1_000_000_000_000_000_000u128 + rng.below(1_000_000_000_000_000_000));
    let ln_cap = if rng.next() & 7 == 0 {
        2_000_000_000_000_000_000
    } else {
        300_000_000_000_000_000
    };
    let args = MarketStateArgs {
        total_pt,
        total_sy,
        total_lp: total_pt,
        scalar_root: I256::new(1_000_000_000_000_000_000 + rng.below(200_000_000_000_000_000_000) as i128),
        ln_fee_rate_root: U256::from(rng.below(48_790_164_169_432_004)),
        reserve_fee_percent: U256::from(rng.below(101)),
        last_ln_implied_rate: U256::from(rng.below(ln_cap)),
        py_index,
        time_to_expiry: 1 + rng.below(2 * 31_536_000) as u64,
    };
    // Trade size: 1e-7 .. 60 % of the PT reserve (some beyond what the market allows).
    let bps = 1 + rng.below(6_000);
    let mut amount = total_pt * U256::from(bps) / U256::from(10_000u32);
    if rng.below(10) == 0 {
        amount = total_pt / U256::from(10_000_000u32) + U256::ONE;
    }
    (args, amount)
}

fn request(op: &str, a: &MarketStateArgs, amount: U256) -> String {
    format!(
        r#"{{"op":"{op}","totalPt":"{}","totalSy":"{}","totalLp":"{}","scalarRoot":"{}","lnFeeRateRoot":"{}","reserveFeePercent":"{}","lastLnImpliedRate":"{}","pyIndex":"{}","timeToExpiry":"{}","amount":"{}"}}"#,
        a.total_pt,
        a.total_sy,
        a.total_lp,
        a.scalar_root,
        a.ln_fee_rate_root,
        a.reserve_fee_percent,
        a.last_ln_implied_rate,
        a.py_index,
        a.time_to_expiry,
        amount
    )
}

#[test]
fn market_swaps_equal_the_reference_on_ten_thousand_random_states() {
    let mut rng = SplitMix(0x9e4d_1e00);
    let states: Vec<(MarketStateArgs, U256)> = (0..10_000).map(|_| random_state(&mut rng)).collect();
    let ops = ["swapExactPtForSy", "swapSyForExactPt"];
    let mut requests = Vec::new();
    for (a, amount) in &states {
        for op in ops {
            requests.push(request(op, a, *amount));
        }
    }
    let Some(answers) = run_oracle(&requests) else {
        return;
    };
    let (mut equal, mut both_rejected, mut rate_below_one) = (0usize, 0usize, 0usize);
    for (i, ans) in answers.iter().enumerate() {
        let (a, amount) = states[i / 2];
        let op = ops[i % 2];
        let mine = if i % 2 == 0 {
            swap_exact_pt_for_sy(a, amount)
        } else {
            swap_sy_for_exact_pt(a, amount)
        };
        let theirs = ans.get("ok");
        match (mine, theirs) {
            (Ok(o), Some(t)) => {
                let g = |k: &str| parse_u256(t[k].as_str().unwrap()).unwrap();
                assert_eq!(
                    (o.net_sy, o.net_sy_fee, o.net_sy_to_reserve, o.ln_implied_rate),
                    (g("netSy"), g("netSyFee"), g("netSyToReserve"), g("lnImpliedRate")),
                    "{op} {a:?} amount {amount}"
                );
                equal += 1;
            }
            (Err(_), None) => both_rejected += 1,
            (Err(PendleError::MarketExchangeRateBelowOne { exchange_rate }), Some(t)) => {
                let pre = parse_i256(t["preFeeRate"].as_str().unwrap()).unwrap();
                let post = parse_i256(t["newRate"].as_str().unwrap()).unwrap();
                assert!(exchange_rate < I256::new(1_000_000_000_000_000_000), "{op} {a:?}");
                assert!(
                    exchange_rate == pre || exchange_rate == post,
                    "{op} {a:?}: {exchange_rate} vs {pre}/{post}"
                );
                rate_below_one += 1;
            }
            (mine, _) => panic!("{op} {a:?} amount {amount}: ours {mine:?}, reference {ans}"),
        }
    }
    println!("{equal} equal trades, {both_rejected} rejected by both, {rate_below_one} on-chain-only E<1 rejections");
    assert!(equal >= 10_000, "too few comparable trades: {equal}");
}
