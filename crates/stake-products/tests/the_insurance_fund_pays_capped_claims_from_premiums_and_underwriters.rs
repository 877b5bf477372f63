//! The insurance fund: pro-rata premiums through the index, capacity with a leverage limit,
//! payouts capped by the share, the cover and the assets, the underwriters' cool-down, and every
//! rejection leaving the state unchanged.

use crate::common::{e, m, rejects, w};
use stake_math::{U256, WAD};
use stake_products::insurance::{InsuranceError, InsuranceFund, InsuranceParams};

const T0: u64 = 1_700_000_000;
const YEAR: u64 = 31_536_000;
const WEEK: u64 = 7 * 86_400;

/// 2 % a year on cover, capacity 2× the assets, half of a loss paid, a 7-day cool-down.
fn params() -> InsuranceParams {
    InsuranceParams {
        premium_rate_wad_per_year: m(20),
        leverage_wad: e(2),
        payout_share_bps: 5_000,
        cooldown_s: WEEK,
    }
}

/// 100 ETH of underwriting, 150 ETH of cover for "lrt-a".
fn fund() -> InsuranceFund {
    let mut f = InsuranceFund::new(params(), T0).unwrap();
    assert_eq!(f.deposit(e(100), T0).unwrap(), e(100));
    f.buy_cover("lrt-a", e(150), T0).unwrap();
    assert_eq!((f.capacity().unwrap(), f.capacity_left().unwrap()), (e(200), e(50)));
    f.check_invariants().unwrap();
    f
}

#[test]
fn premiums_accrue_pro_rata_per_second_on_the_cover() {
    let f = fund();
    // ⌈150e18·0.02e18·1/(1e18·31,536,000)⌉
    assert_eq!(f.premium_owed("lrt-a", T0 + 1).unwrap(), w(95_129_375_952));
    assert_eq!(f.premium_owed("lrt-a", T0 + YEAR / 2).unwrap(), m(1_500));
    assert_eq!(f.premium_owed("lrt-a", T0 + YEAR).unwrap(), e(3));
    let mut g = f.clone();
    assert_eq!(g.collect_premium("lrt-a", T0 + YEAR).unwrap(), e(3));
    assert_eq!((g.assets, g.premiums_collected), (e(103), e(3)));
    assert_eq!(g.premium_owed("lrt-a", T0 + YEAR).unwrap(), U256::ZERO);
    g.check_invariants().unwrap();
}

#[test]
fn a_slashing_loss_pays_the_share_capped_by_the_cover_then_by_the_assets() {
    let mut f = fund();
    rejects(&mut f, InsuranceError::PremiumUnpaid { owed: e(3) }, |f| {
        f.claim_loss("lrt-a", e(40), T0 + YEAR)
    });
    f.collect_premium("lrt-a", T0 + YEAR).unwrap();
    // Half of 40.
    assert_eq!(f.claim_loss("lrt-a", e(40), T0 + YEAR).unwrap(), e(20));
    assert_eq!(
        (f.assets, f.total_cover, f.positions["lrt-a"].cover),
        (e(83), e(130), e(130))
    );
    f.check_invariants().unwrap();
    // Half of 300 = 150, capped by the 130 of cover left, then by the 83 of assets.
    assert_eq!(f.claim_loss("lrt-a", e(300), T0 + YEAR).unwrap(), e(83));
    assert_eq!((f.assets, f.total_cover, f.claims_paid), (U256::ZERO, e(47), e(103)));
    f.check_invariants().unwrap();

    // Cover alone caps: a fully collateralised fund, 10 of cover, a loss of 100 pays 10.
    let mut g = InsuranceFund::new(
        InsuranceParams {
            leverage_wad: WAD,
            ..params()
        },
        T0,
    )
    .unwrap();
    g.deposit(e(50), T0).unwrap();
    g.buy_cover("b", e(10), T0).unwrap();
    assert_eq!(g.claim_loss("b", e(100), T0).unwrap(), e(10));
    assert_eq!((g.assets, g.total_cover), (e(40), U256::ZERO));
}

#[test]
fn underwriters_wait_out_the_cool_down_bear_losses_meanwhile_and_cannot_strand_the_cover() {
    let mut f = fund();
    f.collect_premium("lrt-a", T0 + YEAR).unwrap();
    f.claim_loss("lrt-a", e(40), T0 + YEAR).unwrap();
    let t1 = T0 + YEAR + WEEK;
    assert_eq!(f.request_withdrawal("uw", e(50), e(100), T0 + YEAR).unwrap(), 0);
    assert_eq!(f.cooling_shares, e(50));
    rejects(
        &mut f,
        InsuranceError::CoolDownActive {
            id: 0,
            ready_at: t1,
            now: t1 - 1,
        },
        |f| f.claim_withdrawal("uw", 0, t1 - 1),
    );
    rejects(&mut f, InsuranceError::UnknownRequest { id: 0 }, |f| {
        f.claim_withdrawal("other", 0, t1)
    });
    // Half the shares redeem 41.5 of the 83: capacity 83 < the 130 of cover written.
    rejects(
        &mut f,
        InsuranceError::CapacityLocked {
            cover: e(130),
            capacity_after: e(83),
        },
        |f| f.claim_withdrawal("uw", 0, t1),
    );
    f.release_cover("lrt-a", e(100), t1).unwrap();
    // A week of premium on 130: ⌈130e18·0.02e18·604,800/(1e18·31,536,000)⌉.
    assert_eq!(f.collect_premium("lrt-a", t1).unwrap(), w(49_863_013_698_630_137));
    assert_eq!(f.claim_withdrawal("uw", 0, t1).unwrap(), w(41_524_931_506_849_315_068));
    assert_eq!(
        (f.shares, f.cooling_shares, f.assets),
        (e(50), U256::ZERO, w(41_524_931_506_849_315_069))
    );
    f.check_invariants().unwrap();

    // Cooling shares still bear a loss: all 10 shares cool, the fund pays out everything.
    let mut g = InsuranceFund::new(params(), T0).unwrap();
    g.deposit(e(10), T0).unwrap();
    g.buy_cover("c", e(20), T0).unwrap();
    g.request_withdrawal("uw", e(10), e(10), T0).unwrap();
    assert_eq!(g.claim_loss("c", e(40), T0).unwrap(), e(10));
    g.release_cover("c", e(10), T0 + WEEK).unwrap();
    g.collect_premium("c", T0 + WEEK).unwrap();
    let premium = g.assets;
    // Only the week's premium is left to the cooling underwriter (10 shares of 10 → ⌊10·(p+1)/11⌋).
    let paid = g.claim_withdrawal("uw", 0, T0 + WEEK).unwrap();
    assert_eq!(paid, e(10) * (premium + U256::ONE) / (e(10) + U256::ONE));
    g.check_invariants().unwrap();
}

#[test]
fn every_insurance_rejection_names_its_values_and_leaves_the_state_unchanged() {
    let mut f = fund();
    rejects(
        &mut f,
        InsuranceError::CapacityExceeded {
            requested: e(60),
            available: e(50),
        },
        |f| f.buy_cover("lrt-b", e(60), T0),
    );
    rejects(&mut f, InsuranceError::UnknownPosition { name: "nobody".into() }, |f| {
        f.collect_premium("nobody", T0)
    });
    rejects(&mut f, InsuranceError::UnknownPosition { name: "nobody".into() }, |f| {
        f.claim_loss("nobody", e(1), T0)
    });
    rejects(
        &mut f,
        InsuranceError::ExceedsCover {
            amount: e(151),
            cover: e(150),
        },
        |f| f.release_cover("lrt-a", e(151), T0),
    );
    rejects(
        &mut f,
        InsuranceError::InsufficientShares {
            shares: e(101),
            balance: e(100),
        },
        |f| f.request_withdrawal("uw", e(101), e(100), T0),
    );
    rejects(&mut f, InsuranceError::UnknownRequest { id: 7 }, |f| {
        f.claim_withdrawal("uw", 7, T0)
    });
    rejects(
        &mut f,
        InsuranceError::TimeWentBackwards { now: T0 - 1, last: T0 },
        |f| f.accrue(T0 - 1),
    );
    rejects(
        &mut f,
        InsuranceError::TimeWentBackwards { now: T0 - 1, last: T0 },
        |f| f.deposit(e(1), T0 - 1),
    );
    assert_eq!(
        InsuranceFund::new(
            InsuranceParams {
                payout_share_bps: 10_001,
                ..params()
            },
            T0
        ),
        Err(InsuranceError::InvalidBps { bps: 10_001 })
    );
    assert_eq!(
        InsuranceFund::new(
            InsuranceParams {
                leverage_wad: m(999),
                ..params()
            },
            T0
        ),
        Err(InsuranceError::InvalidLeverage { leverage_wad: m(999) })
    );
}
