//! Differential test: `stake_math::logexp::{ln, exp}` against the reference `FixedX18.ln/exp` of
//! npm `@pendle/core-v2-offchain-math` (run through `diff/pendle_ref.mjs`), ≥ 10,000 seeded
//! random inputs each, exact equality of every output and of which inputs fail.
//!
//! Skips (passing, with a line saying so) when `diff/node_modules` or `node` is missing, unless
//! `STAKESTACK_REQUIRE_DIFF=1`, which turns the skip into a failure (CI: `npm ci --prefix diff`).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)] // random test inputs

use stake_math::logexp::{exp, ln};
use stake_math::{parse_i256, I256};
#[path = "../../../diff/node_oracle.rs"]
mod node_oracle;
use node_oracle::SplitMix;

/// A random non-negative value with at most `bits` bits (≤ 255).
fn bits(rng: &mut SplitMix, bits: u32) -> I256 {
    let (hi, lo) = rng.words();
    (stake_math::U256::from_words(hi, lo) >> (256 - bits)).as_i256()
}

fn run_oracle(requests: &[String]) -> Option<Vec<serde_json::Value>> {
    node_oracle::run_oracle(env!("CARGO_MANIFEST_DIR"), requests)
}

fn check(op: &str, inputs: &[I256], f: fn(I256) -> stake_math::MathResult<I256>) {
    let requests: Vec<String> = inputs.iter().map(|x| format!(r#"{{"op":"{op}","x":"{x}"}}"#)).collect();
    let Some(answers) = run_oracle(&requests) else {
        return;
    };
    let (mut ok, mut err) = (0usize, 0usize);
    for (x, ans) in inputs.iter().zip(&answers) {
        match (f(*x), ans.get("ok").and_then(|v| v.as_str())) {
            (Ok(mine), Some(theirs)) => {
                assert_eq!(mine, parse_i256(theirs).unwrap(), "{op}({x})");
                ok += 1;
            }
            (Err(_), None) => err += 1,
            (mine, theirs) => panic!("{op}({x}): ours {mine:?}, reference {theirs:?} / {ans}"),
        }
    }
    println!("{op}: {ok} equal outputs, {err} equal rejections");
    assert!(ok >= 10_000);
}

#[test]
fn ln_equals_the_reference_bit_for_bit_over_the_whole_domain() {
    let mut rng = SplitMix(0x5eed_1e57);
    let one = 1_000_000_000_000_000_000i128;
    let mut xs: Vec<I256> = vec![
        I256::ZERO,
        I256::new(-1),
        I256::ONE,
        I256::new(one),
        I256::new(one - one / 10),
        I256::new(one - one / 10 + 1),
        I256::new(one + one / 10),
        I256::new(one + one / 10 - 1),
        I256::MAX,
    ];
    for i in 0..12_000 {
        let x = match i % 4 {
            // The 36-digit band 0.9 < a < 1.1 (and a little around it).
            0 => I256::new(850_000_000_000_000_000 + rng.below(300_000_000_000_000_000) as i128),
            // Below one.
            1 => I256::new(1 + rng.below(one as u128) as i128),
            // Any magnitude up to 2^255 − 1.
            2 => {
                let b = 1 + rng.below(255) as u32;
                bits(&mut rng, b)
            }
            // Moderate values 1..1e30.
            _ => I256::new(1 + rng.below(1_000_000_000_000_000_000_000_000_000_000) as i128),
        };
        xs.push(x);
    }
    xs.extend((0..50).map(|i| I256::new(-(i as i128) * 7)));
    check("ln", &xs, ln);
}

#[test]
fn exp_equals_the_reference_bit_for_bit_over_the_whole_domain() {
    let mut rng = SplitMix(0xe4b0_0001);
    let lo = -41_000_000_000_000_000_000i128;
    let hi = 130_000_000_000_000_000_000i128;
    let mut xs: Vec<I256> = vec![
        I256::new(lo),
        I256::new(hi),
        I256::new(lo - 1),
        I256::new(hi + 1),
        I256::ZERO,
        I256::ONE,
        I256::new(-1),
    ];
    for i in 0..16_000 {
        let x = match i % 3 {
            0 => lo + rng.below((hi - lo + 1) as u128) as i128,
            // Small exponents (fee rates, implied rates): |x| < 2e18.
            1 => rng.below(4_000_000_000_000_000_000) as i128 - 2_000_000_000_000_000_000,
            // Just outside the domain on either side.
            _ => {
                if rng.next() & 1 == 0 {
                    hi + 1 + rng.below(1_000_000_000_000_000_000) as i128
                } else {
                    lo - 1 - rng.below(1_000_000_000_000_000_000) as i128
                }
            }
        };
        xs.push(I256::new(x));
    }
    check("exp", &xs, exp);
}
