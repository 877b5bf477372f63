#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] fns may unwrap.
//! Property tests: random sequences of Aave and Morpho actions keep every invariant, and every
//! rejected action leaves the state hash unchanged.

use proptest::prelude::*;
use stake_ledger::{state_hash, AssetKind, Ledger};
use stake_markets::aave::{AaveV3, StaticPrices};
use stake_markets::morpho::{Irm, MarketParams, MorphoBlue};
use stake_math::{u, U256};

const E18: u128 = 1_000_000_000_000_000_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_aave_actions_keep_invariants_and_rejections_change_nothing(
        ops in prop::collection::vec((0u8..7, 0usize..2, 1u128..50, 0u64..200_000), 1..40)
    ) {
        let mut ledger = Ledger::new();
        let weth = ledger.register_asset("WETH", 18, "native", AssetKind::Plain).unwrap();
        let wsteth = ledger.register_asset("wstETH", 18, "lido", AssetKind::Plain).unwrap();
        let weeth = ledger.register_asset("weETH", 18, "etherfi", AssetKind::Plain).unwrap();
        let mut pool = AaveV3::mainnet_like(&mut ledger, weth, wsteth, weeth, 0).unwrap();
        let mut prices = StaticPrices::new();
        prices.set(weth, u(200_000_000_000));
        prices.set(wsteth, u(240_000_000_000));
        prices.set(weeth, u(210_000_000_000));
        let users = [ledger.account("a"), ledger.account("b")];
        for &who in &users {
            ledger.mint(who, weth, u(1_000 * E18)).unwrap();
            ledger.mint(who, wsteth, u(1_000 * E18)).unwrap();
        }
        let mut now = 0u64;
        for (kind, who, amount, dt) in ops {
            now += dt;
            let user = users[who];
            let amt = u(amount * E18 / 10);
            let before = (state_hash(&pool), state_hash(&ledger));
            let r = match kind {
                0 => pool.supply(&mut ledger, user, weth, amt, now),
                1 => pool.supply(&mut ledger, user, wsteth, amt, now),
                2 => pool.borrow(&mut ledger, &prices, user, weth, amt, now),
                3 => pool.repay(&mut ledger, &prices, user, weth, amt, false, now),
                4 => pool.withdraw(&mut ledger, &prices, user, wsteth, amt, now),
                5 => pool.withdraw(&mut ledger, &prices, user, weth, U256::MAX, now),
                _ => pool.set_user_emode(&mut ledger, &prices, user, 1, now),
            };
            if r.is_err() {
                prop_assert_eq!((state_hash(&pool), state_hash(&ledger)), before);
            }
            pool.check_invariants(&ledger).map_err(TestCaseError::fail)?;
            if r.is_ok() && matches!(kind, 2 | 4 | 5) {
                let hf = pool.account_data(&ledger, &prices, user, now).unwrap().health_factor;
                prop_assert!(hf >= u(E18), "a borrow or withdrawal never leaves HF < 1");
            }
        }
    }

    #[test]
    fn random_morpho_actions_keep_invariants_and_rejections_change_nothing(
        ops in prop::collection::vec((0u8..7, 0usize..2, 1u128..50, 0u64..200_000), 1..40)
    ) {
        let mut ledger = Ledger::new();
        let weth = ledger.register_asset("WETH", 18, "native", AssetKind::Plain).unwrap();
        let ezeth = ledger.register_asset("ezETH", 18, "renzo", AssetKind::Plain).unwrap();
        let users = [ledger.account("a"), ledger.account("b")];
        for &who in &users {
            ledger.mint(who, weth, u(1_000 * E18)).unwrap();
            ledger.mint(who, ezeth, u(1_000 * E18)).unwrap();
        }
        let mut mb = MorphoBlue::new();
        let params = MarketParams { loan_token: weth, collateral_token: ezeth, irm: Irm::AdaptiveCurve, lltv: u(860_000_000_000_000_000) };
        let (id, _) = mb.create_market(&mut ledger, params, 0).unwrap();
        mb.set_fee(id, u(100_000_000_000_000_000), 0).unwrap();
        let price = u(E18 * E18);
        let mut now = 0u64;
        for (kind, who, amount, dt) in ops {
            now += dt;
            let user = users[who];
            let amt = u(amount * E18 / 10);
            let before = (state_hash(&mb), state_hash(&ledger));
            let r = match kind {
                0 => mb.supply(&mut ledger, id, user, amt, U256::ZERO, now),
                1 => mb.supply_collateral(&mut ledger, id, user, amt),
                2 => mb.borrow(&mut ledger, &price, id, user, amt, U256::ZERO, now),
                3 => mb.repay(&mut ledger, id, user, amt, U256::ZERO, now),
                4 => mb.withdraw(&mut ledger, id, user, amt, U256::ZERO, now),
                5 => mb.withdraw_collateral(&mut ledger, &price, id, user, amt, now),
                _ => mb.accrue_interest(id, now),
            };
            if r.is_err() {
                prop_assert_eq!((state_hash(&mb), state_hash(&ledger)), before);
            }
            mb.check_invariants(&ledger).map_err(TestCaseError::fail)?;
        }
    }
}
