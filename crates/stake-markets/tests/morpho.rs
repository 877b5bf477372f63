#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] fns may unwrap.
//! Morpho Blue model: share math with virtual shares, AdaptiveCurveIrm at and above target, a
//! liquidation with bad debt socialised (86 % LLTV, as the April 2024 ezETH markets), every
//! rejection with its exact error and an unchanged state, invariants after every op.
//! Expected numbers come from a line-by-line integer transcription of the Solidity in Python.

use stake_ledger::{state_hash, AccountId, AssetId, AssetKind, Ledger, Reject};
use stake_markets::morpho::*;
use stake_math::{u, I256, U256};

const E18: u128 = 1_000_000_000_000_000_000;
const E36: u128 = E18 * E18;

struct World {
    ledger: Ledger,
    mb: MorphoBlue,
    id: MarketId,
    weth: AssetId,
    ezeth: AssetId,
    sup: AccountId,
    bor: AccountId,
    liq: AccountId,
}

fn world(irm: Irm) -> World {
    let mut ledger = Ledger::new();
    let weth = ledger.register_asset("WETH", 18, "native", AssetKind::Plain).unwrap();
    let ezeth = ledger.register_asset("ezETH", 18, "renzo", AssetKind::Plain).unwrap();
    let sup = ledger.account("supplier");
    let bor = ledger.account("borrower");
    let liq = ledger.account("liquidator");
    ledger.mint(sup, weth, u(1_000 * E18)).unwrap();
    ledger.mint(bor, ezeth, u(100 * E18)).unwrap();
    ledger.mint(liq, weth, u(100 * E18)).unwrap();
    let mut mb = MorphoBlue::new();
    let params = MarketParams {
        loan_token: weth,
        collateral_token: ezeth,
        irm,
        lltv: u(860_000_000_000_000_000),
    };
    let (id, _) = mb.create_market(&mut ledger, params, 0).unwrap();
    World {
        ledger,
        mb,
        id,
        weth,
        ezeth,
        sup,
        bor,
        liq,
    }
}

impl World {
    fn ok(&self) {
        self.mb.check_invariants(&self.ledger).unwrap();
        self.ledger.check_conservation().unwrap();
    }
    fn snapshot(&self) -> ([u8; 32], [u8; 32]) {
        (state_hash(&self.mb), state_hash(&self.ledger))
    }
    fn rejects<T: std::fmt::Debug>(&self, before: &([u8; 32], [u8; 32]), r: MorphoResult<T>, expected: MorphoError) {
        let err = r.expect_err("must be rejected");
        assert_eq!(err, expected);
        assert_eq!(&self.snapshot(), before, "state changed by a rejected action");
        self.ok();
    }
    /// 100 WETH supplied; 10 ezETH collateral; 8.6 WETH borrowed (exactly max at price 1).
    fn position(&mut self) {
        let (id, sup, bor) = (self.id, self.sup, self.bor);
        self.mb
            .supply(&mut self.ledger, id, sup, u(100 * E18), U256::ZERO, 0)
            .unwrap();
        self.ok();
        self.mb
            .supply_collateral(&mut self.ledger, id, bor, u(10 * E18))
            .unwrap();
        self.ok();
        self.mb
            .borrow(
                &mut self.ledger,
                &u(E36),
                id,
                bor,
                u(8_600_000_000_000_000_000),
                U256::ZERO,
                0,
            )
            .unwrap();
        self.ok();
    }
}

#[test]
fn first_supply_gets_a_million_shares_per_asset_and_redeems_exactly() {
    let mut w = world(Irm::Fixed {
        rate_per_second: U256::ZERO,
    });
    let ev = w.mb.supply(&mut w.ledger, w.id, w.sup, u(E18), U256::ZERO, 0).unwrap();
    w.ok();
    // shares = 1e18·(0 + 1e6)/(0 + 1) = 1e24.
    assert_eq!(
        ev,
        vec![MorphoEvent::Supply {
            id: w.id,
            user: w.sup,
            assets: u(E18),
            shares: u(E18 * 1_000_000)
        }]
    );
    // toAssetsDown(1e24, 1e18, 1e24) = 1e24·(1e18 + 1)/(1e24 + 1e6) = 1e18 exactly.
    assert_eq!(w.mb.supply_assets(w.id, w.sup).unwrap(), u(E18));
    // Supplying by shares rounds assets up: 1 share → ⌈1·(1e18+1)/(1e24+1e6)⌉ = 1 wei.
    let ev =
        w.mb.supply(&mut w.ledger, w.id, w.sup, U256::ZERO, U256::ONE, 0)
            .unwrap();
    assert_eq!(
        ev,
        vec![MorphoEvent::Supply {
            id: w.id,
            user: w.sup,
            assets: U256::ONE,
            shares: U256::ONE
        }]
    );
    w.ok();
    // Withdraw by assets rounds shares up.
    assert_eq!(
        to_shares_up(U256::ONE, u(E18 + 1), u(E18 * 1_000_000 + 1)).unwrap(),
        u(1_000_000)
    );
    w.mb.withdraw(&mut w.ledger, w.id, w.sup, U256::ZERO, u(E18 * 1_000_000 + 1), 0)
        .unwrap();
    w.ok();
    assert_eq!(w.mb.market(w.id).unwrap().market.total_supply_shares, U256::ZERO);
}

#[test]
fn adaptive_curve_irm_at_target_utilisation_pays_the_rate_at_target() {
    let mut w = world(Irm::AdaptiveCurve);
    let (id, sup, bor) = (w.id, w.sup, w.bor);
    w.mb.supply(&mut w.ledger, id, sup, u(100 * E18), U256::ZERO, 0)
        .unwrap();
    w.ledger.mint(bor, w.ezeth, u(100 * E18)).unwrap();
    w.mb.supply_collateral(&mut w.ledger, id, bor, u(200 * E18)).unwrap();
    w.mb.borrow(&mut w.ledger, &u(E36), id, bor, u(90 * E18), U256::ZERO, 0)
        .unwrap();
    w.ok();
    // U = 90 % → err = 0; first interaction → rate = INITIAL_RATE_AT_TARGET = 0.04e18/31,536,000.
    let ev = w.mb.accrue_interest(id, 86_400).unwrap();
    // interest = wMulDown(90e18, wTaylorCompounded(1,268,391,679, 86,400)) = 9,863,554,154,752,440.
    assert_eq!(
        ev,
        vec![MorphoEvent::AccrueInterest {
            id,
            borrow_rate: u(1_268_391_679),
            interest: u(9_863_554_154_752_440),
            fee_shares: U256::ZERO
        }]
    );
    assert_eq!(w.mb.market(id).unwrap().market.rate_at_target, INITIAL_RATE_AT_TARGET);
    w.ok();
    // Still ~90 %: err rounds to a tiny positive value; rate at target moves very little.
    let (rate, end) = adaptive_curve_borrow_rate(u(100 * E18), u(90 * E18), INITIAL_RATE_AT_TARGET, 86_400).unwrap();
    assert_eq!(rate, u(1_268_391_679));
    assert_eq!(end, INITIAL_RATE_AT_TARGET);
    // At 100 % utilisation err = 1: the curve gives 4× the rate at target, which itself grows.
    let (rate, end) = adaptive_curve_borrow_rate(u(100 * E18), u(100 * E18), I256::ZERO, 0).unwrap();
    assert_eq!(rate, u(4 * 1_268_391_679));
    assert_eq!(end, INITIAL_RATE_AT_TARGET);
    let (_, end) = adaptive_curve_borrow_rate(u(100 * E18), u(100 * E18), INITIAL_RATE_AT_TARGET, 86_400).unwrap();
    assert!(end > INITIAL_RATE_AT_TARGET);
    // At 0 % utilisation err = −1: a quarter of the rate at target.
    let (rate, _) = adaptive_curve_borrow_rate(u(100 * E18), U256::ZERO, I256::ZERO, 0).unwrap();
    assert_eq!(rate, u(1_268_391_679 / 4));
}

#[test]
fn fee_is_paid_as_supply_shares_to_the_fee_recipient() {
    let mut w = world(Irm::Fixed {
        rate_per_second: u(1_268_391_679),
    });
    w.position();
    w.mb.set_fee(w.id, u(100_000_000_000_000_000), 0).unwrap();
    let ev = w.mb.accrue_interest(w.id, 31_536_000).unwrap();
    w.ok();
    let MorphoEvent::AccrueInterest {
        interest, fee_shares, ..
    } = ev[0].clone()
    else {
        panic!("{ev:?}")
    };
    // fee = 10 % of interest, converted at the post-interest price excluding the fee itself.
    let m = &w.mb.market(w.id).unwrap().market;
    let fee_amount = w_mul_down(interest, u(100_000_000_000_000_000)).unwrap();
    let expected = to_shares_down(
        fee_amount,
        m.total_supply_assets - fee_amount,
        m.total_supply_shares - fee_shares,
    )
    .unwrap();
    assert_eq!(fee_shares, expected);
    let fees = w.ledger.find_account("morpho:fees").unwrap();
    assert_eq!(w.mb.position(w.id, fees).supply_shares, fee_shares);
}

#[test]
fn liquidation_at_86_percent_lltv_socialises_bad_debt_to_suppliers() {
    let mut w = world(Irm::Fixed {
        rate_per_second: U256::ZERO,
    });
    w.position();
    let (id, liq, bor, sup) = (w.id, w.liq, w.bor, w.sup);
    // ezETH falls to 0.8 WETH: collateral worth 8 < debt 8.6.
    let price = u(8 * E36 / 10);
    let ev =
        w.mb.liquidate(&mut w.ledger, &price, id, liq, bor, u(10 * E18), U256::ZERO, 0)
            .unwrap();
    w.ok();
    // LIF = 1/(1 − 0.3·0.14) = 1.043841336116910229; repaid = ⌈8e18/LIF⌉ = 7.664000000000000005 WETH;
    // the 0.935999999999999995 WETH left is bad debt removed from supply.
    assert_eq!(
        ev,
        vec![MorphoEvent::Liquidate {
            id,
            liquidator: liq,
            borrower: bor,
            repaid_assets: u(7_664_000_000_000_000_005),
            repaid_shares: u(7_664_000_000_000_000_005_000_000),
            seized_assets: u(10 * E18),
            bad_debt_assets: u(935_999_999_999_999_995),
            bad_debt_shares: u(935_999_999_999_999_995_000_000),
        }]
    );
    let m = &w.mb.market(id).unwrap().market;
    assert_eq!(m.total_supply_assets, u(99_064_000_000_000_000_005));
    assert_eq!(m.total_borrow_assets, U256::ZERO);
    assert_eq!(w.mb.supply_assets(id, sup).unwrap(), u(99_064_000_000_000_000_005));
    assert_eq!(w.ledger.balance(liq, w.ezeth), u(10 * E18));
    assert_eq!(w.mb.stats.bad_debt.get(&w.weth), Some(&u(935_999_999_999_999_995)));
    // Suppliers can take out every wei that is left.
    w.mb.withdraw(
        &mut w.ledger,
        id,
        sup,
        U256::ZERO,
        w.mb.position(id, sup).supply_shares,
        0,
    )
    .unwrap();
    w.ok();
}

#[test]
fn rejections_leave_state_unchanged() {
    let mut w = world(Irm::AdaptiveCurve);
    w.position();
    let (id, sup, bor, liq) = (w.id, w.sup, w.bor, w.liq);
    let before = w.snapshot();
    let one = u(E36);
    let r = w.mb.supply(&mut w.ledger, id, sup, U256::ZERO, U256::ZERO, 0);
    w.rejects(&before, r, MorphoError::InconsistentInput);
    let r = w.mb.supply(&mut w.ledger, id, sup, U256::ONE, U256::ONE, 0);
    w.rejects(&before, r, MorphoError::InconsistentInput);
    // Borrowing 1 wei more than the max: borrowed 8.6e18 + 1 > 8.6e18.
    let r = w.mb.borrow(&mut w.ledger, &one, id, bor, U256::ONE, U256::ZERO, 0);
    w.rejects(
        &before,
        r,
        MorphoError::InsufficientCollateral {
            borrowed: u(8_600_000_000_000_000_001),
            max_borrow: u(8_600_000_000_000_000_000),
        },
    );
    let r = w.mb.withdraw(&mut w.ledger, id, sup, u(92 * E18), U256::ZERO, 0);
    w.rejects(
        &before,
        r,
        MorphoError::InsufficientLiquidity {
            total_borrow_assets: u(8_600_000_000_000_000_000),
            total_supply_assets: u(8 * E18),
        },
    );
    let r = w.mb.liquidate(&mut w.ledger, &one, id, liq, bor, u(E18), U256::ZERO, 0);
    w.rejects(&before, r, MorphoError::HealthyPosition);
    let r = w.mb.withdraw_collateral(&mut w.ledger, &one, id, bor, u(11 * E18), 0);
    w.rejects(
        &before,
        r,
        MorphoError::InsufficientCollateralBalance {
            held: u(10 * E18),
            requested: u(11 * E18),
        },
    );
    let r = w.mb.withdraw_collateral(&mut w.ledger, &one, id, bor, U256::ONE, 0);
    // 10e18 − 1 collateral → max = wMulDown(9,999,999,999,999,999,999, 0.86) = 8,599,999,999,999,999,999.
    w.rejects(
        &before,
        r,
        MorphoError::InsufficientCollateral {
            borrowed: u(8_600_000_000_000_000_000),
            max_borrow: u(8_599_999_999_999_999_999),
        },
    );
    let r = w.mb.supply_collateral(&mut w.ledger, id, bor, U256::ZERO);
    w.rejects(&before, r, MorphoError::ZeroAssets);
    let r = w.mb.repay(&mut w.ledger, id, sup, U256::ZERO, U256::ONE, 0);
    w.rejects(
        &before,
        r,
        MorphoError::InsufficientShares {
            held: U256::ZERO,
            requested: U256::ONE,
        },
    );
    let r = w.mb.supply(&mut w.ledger, MarketId(7), sup, U256::ONE, U256::ZERO, 0);
    w.rejects(&before, r, MorphoError::MarketNotCreated { id: MarketId(7) });
    let r = w.mb.set_fee(id, u(300_000_000_000_000_000), 0);
    w.rejects(
        &before,
        r,
        MorphoError::MaxFeeExceeded {
            fee: u(300_000_000_000_000_000),
        },
    );
    let params = w.mb.market(id).unwrap().params;
    let r = w.mb.create_market(&mut w.ledger, params, 0);
    w.rejects(&before, r, MorphoError::MarketAlreadyCreated { id });
    let r =
        w.mb.create_market(&mut w.ledger, MarketParams { lltv: u(E18), ..params }, 0);
    w.rejects(&before, r, MorphoError::MaxLltvExceeded { lltv: u(E18) });
    // The liquidator is short of WETH: ledger error, nothing moves.
    w.ledger.burn(liq, w.weth, u(100 * E18)).unwrap();
    let before = w.snapshot();
    let r =
        w.mb.liquidate(&mut w.ledger, &u(8 * E36 / 10), id, liq, bor, u(E18), U256::ZERO, 0);
    let e = r.expect_err("liquidator has no WETH");
    assert_eq!(e.code(), 1004);
    assert_eq!(w.snapshot(), before);
    w.mb.accrue_interest(id, 100).unwrap();
    let before = w.snapshot();
    let r = w.mb.accrue_interest(id, 50);
    w.rejects(
        &before,
        r,
        MorphoError::TimeWentBackwards {
            last_update: 100,
            now: 50,
        },
    );
}

#[test]
fn repay_in_full_by_shares_closes_the_position() {
    let mut w = world(Irm::AdaptiveCurve);
    w.position();
    let (id, bor) = (w.id, w.bor);
    w.ledger.mint(bor, w.weth, u(E18)).unwrap();
    let shares = w.mb.position(id, bor).borrow_shares;
    w.mb.repay(&mut w.ledger, id, bor, U256::ZERO, shares, 3_600).unwrap();
    w.ok();
    assert_eq!(w.mb.position(id, bor).borrow_shares, U256::ZERO);
    w.mb.withdraw_collateral(&mut w.ledger, &u(E36), id, bor, u(10 * E18), 3_600)
        .unwrap();
    w.ok();
    assert_eq!(
        oracle_price_from_base(u(300_000_000_000), 18, u(100_000_000), 6).unwrap(),
        u(3_000 * E18 * 1_000_000)
    );
}

mod liquidation_index {
    use proptest::prelude::*;
    use stake_ledger::AccountId;
    use stake_markets::morpho::{mul_div_down, to_assets_up, w_mul_down, Position, ORACLE_PRICE_SCALE};
    use stake_markets::morpho_index::LiquidationIndex;
    use stake_math::U256;

    /// `_isHealthy` false, exactly as the contract computes it.
    fn unhealthy(p: &Position, price: U256, lltv: U256, tba: U256, tbs: U256) -> bool {
        let borrowed = to_assets_up(p.borrow_shares, tba, tbs).expect("borrowed");
        match mul_div_down(p.collateral, price, ORACLE_PRICE_SCALE).and_then(|x| w_mul_down(x, lltv)) {
            Ok(max) => max < borrowed,
            Err(_) => false,
        }
    }

    fn position(collateral: u128, shares: u128) -> Position {
        Position {
            collateral: U256::new(collateral),
            borrow_shares: U256::new(shares),
            ..Position::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// A price move visits only what it crossed, and misses nothing: every position the
        /// exact health check finds unhealthy is a candidate of the index, dust included.
        #[test]
        fn candidates_contain_every_unhealthy_position(
            raw in prop::collection::vec((0u32..40, 1u64..1_000_000_000, 0u32..30, 1u64..1_000_000_000), 1..80),
            growth_ppm in 1_000_000u64..3_000_000,
            price_exp in 30u32..40,
            price_mant in 1u64..10_000,
            lltv_bp in 5_000u64..9_900,
        ) {
            let mut ix = LiquidationIndex::new();
            let mut positions = Vec::new();
            let mut tbs = U256::ZERO;
            for (i, (ce, cm, se, sm)) in raw.iter().enumerate() {
                let c = u128::from(*cm) * 10u128.pow(*ce % 16);
                let s = u128::from(*sm) * 10u128.pow(*se % 22);
                let p = position(c, s);
                tbs += p.borrow_shares;
                ix.update(AccountId(i as u32), &p);
                positions.push(p);
            }
            // Borrow assets ≈ shares / 1e6 grown by interest.
            let tba = tbs / U256::new(1_000_000) * U256::from(growth_ppm) / U256::new(1_000_000);
            let price = U256::from(price_mant) * U256::from(10u8).pow(price_exp) / U256::new(1000);
            let lltv = U256::from(lltv_bp) * U256::new(100_000_000_000_000);
            let cands = ix.candidates(price, lltv, tba, tbs);
            for (i, p) in positions.iter().enumerate() {
                if unhealthy(p, price, lltv, tba, tbs) {
                    prop_assert!(cands.contains(&AccountId(i as u32)), "position {i} {p:?} missed");
                }
            }
            prop_assert!(ix.matches(positions.iter().enumerate().map(|(i, p)| (AccountId(i as u32), *p))));
        }
    }

    #[test]
    fn a_price_drop_visits_only_the_positions_it_crossed() {
        // 1,000 positions with 1 wstETH each and debts of 0.500 … 0.999 ETH (in shares at 1e6
        // shares per wei), LLTV 94.5 %, no interest yet.
        let mut ix = LiquidationIndex::new();
        let mut tbs = U256::ZERO;
        let one = 1_000_000_000_000_000_000u128;
        for i in 0..1000u128 {
            let debt = one / 2 + i * one / 2000;
            let p = position(one, debt * 1_000_000);
            tbs += p.borrow_shares;
            ix.update(AccountId(i as u32), &p);
        }
        let tba = tbs / U256::new(1_000_000);
        let lltv = U256::new(945_000_000_000_000_000);
        // At a price of 1.0 (1e36) max borrow is 0.945: debts above it (i ≥ 890) are unhealthy.
        let c = ix.candidates(ORACLE_PRICE_SCALE, lltv, tba, tbs);
        assert!(c.len() >= 110 && c.len() <= 112, "{} candidates", c.len());
        // At 0.8 everything above 0.756 ETH: i ≥ 512.
        let price = ORACLE_PRICE_SCALE / U256::new(10) * U256::new(8);
        let c = ix.candidates(price, lltv, tba, tbs);
        assert!(c.len() >= 488 && c.len() <= 490, "{} candidates", c.len());
        // Removing a position's debt takes it out of the index.
        ix.update(AccountId(999), &position(one, 0));
        assert_eq!(ix.len(), 999);
    }
}

/// Both liquidation paths round as Morpho Blue's `liquidate` does once interest has made the
/// share price uneven (30 days at a fixed ~1 %/year): seizing assets converts the repaid value
/// to shares rounding *up* and charges `toAssetsUp` of them; repaying shares values them
/// *down* for the seizure. (Rounding the shares down charged the liquidator 1 share and 1 wei
/// less than the real contract; valuing the shares up seized 1 wei more.)
#[test]
fn liquidation_rounds_shares_up_and_seizure_down_as_morpho_blue() {
    let el = 30 * 86_400;
    let liquidate = |seized: U256, shares: U256| {
        let mut w = world(Irm::Fixed {
            rate_per_second: u(317_097_919),
        });
        w.position();
        let (id, liq, bor) = (w.id, w.liq, w.bor);
        let ev =
            w.mb.liquidate(&mut w.ledger, &u(8 * E36 / 10), id, liq, bor, seized, shares, el)
                .unwrap();
        w.ok();
        let m = &w.mb.market(id).unwrap().market;
        assert_eq!(
            m.total_borrow_shares + repaid_of(&ev).1,
            u(8_600_000_000_000_000_000_000_000)
        );
        repaid_of(&ev)
    };
    fn repaid_of(ev: &[MorphoEvent]) -> (U256, U256, U256) {
        ev.iter()
            .find_map(|e| match e {
                MorphoEvent::Liquidate {
                    repaid_assets,
                    repaid_shares,
                    seized_assets,
                    ..
                } => Some((*repaid_assets, *repaid_shares, *seized_assets)),
                _ => None,
            })
            .unwrap()
    }
    // Borrow assets after accrual: 8,607,071,398,788,048,462 against 8.6e24 shares.
    // Seize 1 ezETH at 0.8: quoted ⌈0.8e18/LIF⌉ = 766,400,000,000,000,001 → shares up
    // 765,770,340,992,881,336,051,394 → assets up 766,400,000,000,000,002.
    assert_eq!(
        liquidate(u(E18), U256::ZERO),
        (u(766_400_000_000_000_002), u(765_770_340_992_881_336_051_394), u(E18))
    );
    // Repay 1e24 shares: valued down, ×LIF down, ÷0.8 down → 1,305,874,550,721,593,017 seized;
    // charged ⌈1e24 shares⌉ = 1,000,822,255,673,028,891 WETH.
    assert_eq!(
        liquidate(U256::ZERO, u(E18 * 1_000_000)),
        (
            u(1_000_822_255_673_028_891),
            u(E18 * 1_000_000),
            u(1_305_874_550_721_593_017)
        )
    );
}

/// An AdaptiveCurve market starts at the initial rate at target (the IRM runs at creation) and
/// keeps adapting while nothing is borrowed, as Morpho Blue calls the IRM on every accrual:
/// utilisation 0 is an error of −1, so the rate at target falls at 50/year — after 30 idle days
/// (exp(−4.1) · 4 % ≈ 0.066 %) it sits on the 0.1 % floor, and the first borrower pays from there
/// instead of from 4 %. An accrual with nothing borrowed still reports its rate and no interest.
#[test]
fn an_idle_adaptive_curve_market_decays_toward_the_floor() {
    let mut w = world(Irm::AdaptiveCurve);
    let id = w.id;
    assert_eq!(w.mb.market(id).unwrap().market.rate_at_target, INITIAL_RATE_AT_TARGET);
    w.mb.supply(&mut w.ledger, id, w.sup, u(100 * E18), U256::ZERO, 0)
        .unwrap();
    let ev = w.mb.accrue_interest(id, 86_400).unwrap();
    let one_day = w.mb.market(id).unwrap().market.rate_at_target;
    assert!(
        MIN_RATE_AT_TARGET < one_day && one_day < INITIAL_RATE_AT_TARGET,
        "{one_day}"
    );
    let [MorphoEvent::AccrueInterest {
        interest, fee_shares, ..
    }] = ev.as_slice()
    else {
        panic!("{ev:?}")
    };
    assert_eq!((*interest, *fee_shares), (U256::ZERO, U256::ZERO));
    w.mb.accrue_interest(id, 30 * 86_400).unwrap();
    assert_eq!(w.mb.market(id).unwrap().market.rate_at_target, MIN_RATE_AT_TARGET);
    assert_eq!(w.mb.supply_assets(id, w.sup).unwrap(), u(100 * E18));
    w.ok();
}

/// The idle decay to the wei, against a line-by-line transcription of `AdaptiveCurveIrm._borrowRate`,
/// `ExpLib.wExp` and `ConstantsLib` in Python (signed divisions truncated toward zero): with
/// daily accruals on a supplied, unborrowed market (err = −1) the rate at target goes
/// 1,268,391,679 → 1,106,540,235 (3.49 %) after one day and 323,885,601 (1.02 %) after ten, and
/// sits on `MIN_RATE_AT_TARGET` = 31,709,791 (0.1 %) from day 28; the borrow rate reported is
/// then `curve(MIN, −1)` = MIN/4 = 7,927,447 per second (0.025 %), not 4 %. A single 30-day
/// accrual lands on the same floor, with the trapezoid average 101,569,451.
#[test]
fn an_idle_market_decays_to_the_floor_as_the_reference_irm() {
    let mut w = world(Irm::AdaptiveCurve);
    let id = w.id;
    w.mb.supply(&mut w.ledger, id, w.sup, u(100 * E18), U256::ZERO, 0)
        .unwrap();
    let rate_on = |w: &mut World, day: u64| -> (I256, U256) {
        let ev = w.mb.accrue_interest(id, day * 86_400).unwrap();
        let [MorphoEvent::AccrueInterest { borrow_rate, .. }] = ev.as_slice() else {
            panic!("{ev:?}")
        };
        (w.mb.market(id).unwrap().market.rate_at_target, *borrow_rate)
    };
    let mut seen = Vec::new();
    for day in 1..=30 {
        seen.push(rate_on(&mut w, day));
    }
    assert_eq!(seen[0], (I256::new(1_106_540_235), u(296_494_587)));
    assert_eq!(seen[9].0, I256::new(323_885_601));
    assert_eq!(seen[26].0, I256::new(31_807_288));
    assert_eq!(seen[27].0, MIN_RATE_AT_TARGET);
    assert_eq!(seen[29], (I256::new(31_709_791), u(7_927_447)));
    w.ok();

    let mut once = world(Irm::AdaptiveCurve);
    once.mb
        .supply(&mut once.ledger, id, once.sup, u(100 * E18), U256::ZERO, 0)
        .unwrap();
    assert_eq!(rate_on(&mut once, 30), (MIN_RATE_AT_TARGET, u(101_569_451)));
}
