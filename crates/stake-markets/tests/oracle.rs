//! Oracle registry tests (SPEC §7.1): Chainlink publication rules, staleness, exchange-rate vs
//! market feeds, PT feeds, and the scenario controls (freeze, lag, manipulate).

// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::panic)]

use stake_ledger::{state_hash, AssetId, Reject};
use stake_markets::oracle::{
    pt_linear_discount_price, pt_price_from_ln_rate, Denom, FeedKey, FeedKind, OracleError, OracleEvent, Oracles,
    Price, Round, HISTORY_LEN, ONE_YEAR, RENZO_MAX_AGE,
};
use stake_math::{u, U256};

const E18: u128 = 1_000_000_000_000_000_000;
const E8: u128 = 100_000_000;

fn key(asset: u16, denom: Denom) -> FeedKey {
    FeedKey {
        asset: AssetId(asset),
        denom,
    }
}

const ETH: u16 = 0;
const STETH: u16 = 1;
const WSTETH: u16 = 2;
const PT: u16 = 3;

/// ETH/USD (8 decimals, 1 h heartbeat, 0.5 %) at $3000 from t = 0; ETH/ETH fixed at 1.
fn registry() -> Oracles {
    let mut o = Oracles::new();
    o.add_feed(
        key(ETH, Denom::Usd),
        FeedKind::Market { pool: "cex".into() },
        8,
        3600,
        u(50),
        Some(u(3000 * E8)),
        0,
    )
    .unwrap();
    o.add_feed(
        key(ETH, Denom::Eth),
        FeedKind::Fixed,
        18,
        0,
        U256::ZERO,
        Some(u(E18)),
        0,
    )
    .unwrap();
    o
}

fn rejects(
    o: &mut Oracles,
    expected: OracleError,
    op: impl FnOnce(&mut Oracles) -> Result<Vec<OracleEvent>, OracleError>,
) {
    let before = state_hash(o);
    assert_eq!(op(o).unwrap_err(), expected);
    assert_eq!(state_hash(o), before);
    o.check_invariants().unwrap();
}

#[test]
fn an_update_is_published_only_past_the_deviation_threshold_or_the_heartbeat() {
    let mut o = registry();
    let k = key(ETH, Denom::Usd);
    // |3010 − 3000|·1e4 = 1e13 ≤ 50·3000e8 = 1.5e13: skipped.
    assert_eq!(
        o.observe(k, u(3010 * E8), 100).unwrap(),
        vec![OracleEvent::UpdateSkipped {
            key: k,
            observed: u(3010 * E8),
            at: 100
        }]
    );
    // Exactly 0.5 % (1.5e13) is not *more* than the threshold: skipped.
    assert!(matches!(
        o.observe(k, u(3015 * E8), 100).unwrap()[0],
        OracleEvent::UpdateSkipped { .. }
    ));
    // 3016: 1.6e13 > 1.5e13: published as round 2.
    assert_eq!(
        o.observe(k, u(3016 * E8), 200).unwrap(),
        vec![OracleEvent::AnswerUpdated {
            key: k,
            round: Round {
                round_id: 2,
                value: u(3016 * E8),
                updated_at: 200
            }
        }]
    );
    // Same value one second before the heartbeat: skipped; at the heartbeat: published.
    assert!(matches!(
        o.observe(k, u(3016 * E8), 3799).unwrap()[0],
        OracleEvent::UpdateSkipped { .. }
    ));
    assert!(matches!(
        o.observe(k, u(3016 * E8), 3800).unwrap()[0],
        OracleEvent::AnswerUpdated { .. }
    ));
    assert_eq!(o.feed(k).unwrap().latest().unwrap().round_id, 3);
    o.check_invariants().unwrap();
}

#[test]
fn stale_prices_are_rejected_with_their_age() {
    let mut o = registry();
    let k = key(ETH, Denom::Usd);
    assert_eq!(
        o.price(k, 3600).unwrap(),
        Price {
            value: u(3000 * E8),
            decimals: 8,
            updated_at: 0
        }
    );
    let err = o.price(k, 3601).unwrap_err();
    assert_eq!(
        err,
        OracleError::StalePrice {
            key: k,
            updated_at: 0,
            now: 3601,
            max_age: 3600
        }
    );
    assert_eq!(err.code(), 6002);
    assert!(err.to_string().contains("age 3601 s > max 3600 s"));

    // Renzo's consumer bound on a 24 h feed: 86,460 s accepted, 86,461 rejected.
    let s = key(STETH, Denom::Eth);
    o.add_feed(
        s,
        FeedKind::Market {
            pool: "curve-steth".into(),
        },
        18,
        86_400,
        u(50),
        Some(u(999 * E18 / 1000)),
        0,
    )
    .unwrap();
    assert!(o.price_max_age(s, RENZO_MAX_AGE, RENZO_MAX_AGE).is_ok());
    assert_eq!(
        o.price_max_age(s, RENZO_MAX_AGE + 1, RENZO_MAX_AGE).unwrap_err(),
        OracleError::StalePrice {
            key: s,
            updated_at: 0,
            now: 86_461,
            max_age: 86_460
        }
    );
    // The fixed ETH/ETH feed never goes stale.
    assert_eq!(o.price(key(ETH, Denom::Eth), 10_000_000).unwrap().value, u(E18));
    // price_unchecked serves the stale answer for reports.
    assert_eq!(o.price_unchecked(k, 1_000_000).unwrap().value, u(3000 * E8));
}

#[test]
fn an_exchange_rate_feed_ignores_a_market_depeg_and_a_market_feed_follows_it() {
    let mut o = registry();
    // wstETH: protocol rate 1.2 stETH per wstETH, priced off ETH/USD (stETH redeemable 1:1).
    let w_usd = key(WSTETH, Denom::Usd);
    o.add_feed(
        w_usd,
        FeedKind::ExchangeRate {
            base: key(ETH, Denom::Usd),
        },
        8,
        86_400,
        u(1),
        Some(u(12 * E18 / 10)),
        0,
    )
    .unwrap();
    // 1.2e18 × 3000e8 / 1e18 = 3600e8.
    assert_eq!(
        o.price(w_usd, 10).unwrap(),
        Price {
            value: u(3600 * E8),
            decimals: 8,
            updated_at: 0
        }
    );
    let w_eth = key(WSTETH, Denom::Eth);
    o.add_feed(
        w_eth,
        FeedKind::ExchangeRate {
            base: key(ETH, Denom::Eth),
        },
        18,
        86_400,
        u(1),
        Some(u(12 * E18 / 10)),
        0,
    )
    .unwrap();
    assert_eq!(o.price(w_eth, 10).unwrap().value, u(12 * E18 / 10));

    // stETH depegs to 0.94 on the market: the market feed moves, the exchange-rate feed does not.
    let s = key(STETH, Denom::Eth);
    o.add_feed(
        s,
        FeedKind::Market {
            pool: "curve-steth".into(),
        },
        18,
        86_400,
        u(50),
        Some(u(E18)),
        0,
    )
    .unwrap();
    o.observe(s, u(94 * E18 / 100), 600).unwrap();
    assert_eq!(o.price(s, 600).unwrap().value, u(94 * E18 / 100));
    assert_eq!(o.price(w_eth, 600).unwrap().value, u(12 * E18 / 10));

    // ETH/USD moves to 2500: the wstETH/USD feed follows at read time: 1.2 × 2500 = 3000.
    o.observe(key(ETH, Denom::Usd), u(2500 * E8), 700).unwrap();
    assert_eq!(
        o.price(w_usd, 700).unwrap(),
        Price {
            value: u(3000 * E8),
            decimals: 8,
            updated_at: 0
        }
    );
    // The composite is as old as its older input: the rate (t = 0) after 86,400 s.
    assert!(matches!(o.price(w_usd, 86_401), Err(OracleError::StalePrice { .. })));
    // In wad: 3000e8 × 1e10.
    assert_eq!(o.price(w_usd, 700).unwrap().wad().unwrap(), u(3000 * E18));
}

#[test]
fn the_pt_linear_discount_feed_is_exact_and_floored_at_zero() {
    // 0.2/yr over half a year: 1e18 − 0.2e18·15768000/31536000 = 0.9e18.
    assert_eq!(
        pt_linear_discount_price(ONE_YEAR / 2, u(2 * E18 / 10), 0).unwrap(),
        u(9 * E18 / 10)
    );
    // One second to maturity at 10 %/yr: ⌊1e17·1/31536000⌋ = 3170979198 off.
    assert_eq!(
        pt_linear_discount_price(1, u(E18 / 10), 0).unwrap(),
        u(E18 - 3_170_979_198)
    );
    // At and after maturity: 1.
    assert_eq!(pt_linear_discount_price(100, u(E18), 100).unwrap(), u(E18));
    assert_eq!(pt_linear_discount_price(100, u(E18), 200).unwrap(), u(E18));
    // A discount above 100 % floors at 0.
    assert_eq!(pt_linear_discount_price(ONE_YEAR, u(5 * E18), 0).unwrap(), U256::ZERO);

    let mut o = registry();
    let k = key(PT, Denom::Eth);
    o.add_feed(
        k,
        FeedKind::PtLinearDiscount {
            maturity: ONE_YEAR,
            max_rate: u(E18 / 10),
        },
        18,
        0,
        U256::ZERO,
        None,
        0,
    )
    .unwrap();
    // Half-way: 1 − 0.1·0.5 = 0.95, always fresh.
    assert_eq!(
        o.price(k, ONE_YEAR / 2).unwrap(),
        Price {
            value: u(95 * E18 / 100),
            decimals: 18,
            updated_at: ONE_YEAR / 2
        }
    );
}

#[test]
fn the_pt_twap_feed_discounts_by_the_implied_rate() {
    // ln-implied rate 0.1 over one year: PT = 1e36 / exp(0.1e18) ≈ e^−0.1 = 0.904837418…
    let p = pt_price_from_ln_rate(ONE_YEAR, u(E18 / 10), 0).unwrap();
    let exp = stake_math::logexp::exp(stake_math::I256::new(100_000_000_000_000_000)).unwrap();
    assert_eq!(p, u(E18 * E18) / exp.as_u256());
    assert!(p > u(904_837_418_035_959_000) && p < u(904_837_418_035_960_000), "{p}");
    assert_eq!(pt_price_from_ln_rate(10, u(E18), 10).unwrap(), u(E18));

    let mut o = registry();
    let k = key(PT, Denom::Eth);
    o.add_feed(
        k,
        FeedKind::PtTwap { maturity: ONE_YEAR },
        18,
        86_400,
        u(1),
        Some(u(E18 / 10)),
        0,
    )
    .unwrap();
    assert_eq!(o.price(k, 0).unwrap().value, p);
}

#[test]
fn a_frozen_feed_publishes_nothing_and_goes_stale() {
    let mut o = registry();
    let k = key(ETH, Denom::Usd);
    o.freeze(k, true).unwrap();
    assert!(matches!(
        o.observe(k, u(1500 * E8), 100).unwrap()[0],
        OracleEvent::UpdateSkipped { .. }
    ));
    assert!(matches!(
        o.set(k, u(1500 * E8), 100).unwrap()[0],
        OracleEvent::UpdateSkipped { .. }
    ));
    assert_eq!(o.price(k, 3600).unwrap().value, u(3000 * E8));
    assert!(matches!(o.price(k, 3601), Err(OracleError::StalePrice { .. })));
    o.freeze(k, false).unwrap();
    assert!(matches!(
        o.observe(k, u(1500 * E8), 4000).unwrap()[0],
        OracleEvent::AnswerUpdated { .. }
    ));
    assert_eq!(o.price(k, 4000).unwrap().value, u(1500 * E8));
}

#[test]
fn a_lagged_feed_serves_the_answer_current_lag_seconds_ago() {
    let mut o = Oracles::new();
    let k = key(ETH, Denom::Usd);
    o.add_feed(
        k,
        FeedKind::Market { pool: "cex".into() },
        8,
        3600,
        u(50),
        Some(u(3000 * E8)),
        100,
    )
    .unwrap();
    o.observe(k, u(3100 * E8), 1000).unwrap();
    o.observe(k, u(3200 * E8), 2000).unwrap();
    o.lag(k, 1500).unwrap();
    // now − lag = 500: the round published at 100.
    assert_eq!(
        o.price(k, 2000).unwrap(),
        Price {
            value: u(3000 * E8),
            decimals: 8,
            updated_at: 100
        }
    );
    // now − lag = 1000: the round published at 1000.
    assert_eq!(
        o.price(k, 2500).unwrap(),
        Price {
            value: u(3100 * E8),
            decimals: 8,
            updated_at: 1000
        }
    );
    // Before the oldest answer kept.
    o.lag(k, 1950).unwrap();
    let before = state_hash(&o);
    assert_eq!(
        o.price(k, 2000).unwrap_err(),
        OracleError::LagBeyondHistory {
            key: k,
            at: 50,
            oldest: 100
        }
    );
    assert_eq!(state_hash(&o), before);
    o.lag(k, 0).unwrap();
    assert_eq!(o.price(k, 2000).unwrap().value, u(3200 * E8));
}

#[test]
fn a_lagged_fixed_feed_serves_the_answer_set_lag_seconds_ago() {
    let mut o = Oracles::new();
    let k = key(ETH, Denom::Usd);
    o.add_feed(k, FeedKind::Fixed, 8, 0, U256::ZERO, Some(u(3000 * E8)), 100)
        .unwrap();
    o.set(k, u(2100 * E8), 1000).unwrap();
    // Live: the latest answer, never stale.
    assert_eq!(o.price(k, 5000).unwrap().value, u(2100 * E8));
    o.lag(k, 500).unwrap();
    // now − lag = 600: the answer set at 100.
    assert_eq!(o.price(k, 1100).unwrap().value, u(3000 * E8));
    // now − lag = 1000: the answer set at 1000.
    assert_eq!(o.price(k, 1500).unwrap().value, u(2100 * E8));
    o.lag(k, 0).unwrap();
    assert_eq!(o.price(k, 1100).unwrap().value, u(2100 * E8));
}

#[test]
fn a_manipulated_feed_serves_the_override_until_it_is_lifted() {
    let mut o = registry();
    let k = key(ETH, Denom::Usd);
    o.manipulate(k, Some(u(100 * E8)), 50).unwrap();
    assert_eq!(
        o.price(k, 60).unwrap(),
        Price {
            value: u(100 * E8),
            decimals: 8,
            updated_at: 60
        }
    );
    // Composite feeds read the manipulated base.
    let w = key(WSTETH, Denom::Usd);
    o.add_feed(
        w,
        FeedKind::ExchangeRate { base: k },
        8,
        86_400,
        u(1),
        Some(u(2 * E18)),
        60,
    )
    .unwrap();
    assert_eq!(o.price(w, 60).unwrap().value, u(200 * E8));
    o.manipulate(k, None, 70).unwrap();
    assert_eq!(o.price(k, 70).unwrap().value, u(3000 * E8));
}

#[test]
fn history_is_bounded() {
    let mut o = registry();
    let k = key(ETH, Denom::Usd);
    for t in 1..=300u64 {
        o.set(k, u(3000 * E8 + u128::from(t)), t).unwrap();
    }
    let f = o.feed(k).unwrap();
    assert_eq!(f.history.len(), HISTORY_LEN);
    assert_eq!(f.history[0].round_id, 301 - HISTORY_LEN as u64 + 1);
    assert_eq!(f.latest().unwrap().round_id, 301);
    o.check_invariants().unwrap();
}

#[test]
fn registry_rejections_are_exact_and_change_nothing() {
    let mut o = registry();
    let k = key(ETH, Denom::Usd);
    let missing = key(9, Denom::Usd);
    rejects(&mut o, OracleError::DuplicateFeed { key: k }, |o| {
        o.add_feed(k, FeedKind::Fixed, 8, 0, U256::ZERO, None, 0)
    });
    rejects(&mut o, OracleError::UnknownFeed { key: missing }, |o| {
        o.observe(missing, u(1), 0)
    });
    rejects(&mut o, OracleError::UnknownFeed { key: missing }, |o| {
        o.freeze(missing, true)
    });
    rejects(
        &mut o,
        OracleError::InvalidFeed {
            key: missing,
            reason: "base feed not registered",
        },
        |o| {
            o.add_feed(
                missing,
                FeedKind::ExchangeRate {
                    base: key(8, Denom::Usd),
                },
                8,
                0,
                U256::ZERO,
                None,
                0,
            )
        },
    );
    rejects(
        &mut o,
        OracleError::InvalidFeed {
            key: missing,
            reason: "exchange-rate feed is its own base",
        },
        |o| {
            o.add_feed(
                missing,
                FeedKind::ExchangeRate { base: missing },
                8,
                0,
                U256::ZERO,
                None,
                0,
            )
        },
    );
    rejects(
        &mut o,
        OracleError::InvalidFeed {
            key: missing,
            reason: "decimals > 36",
        },
        |o| o.add_feed(missing, FeedKind::Fixed, 37, 0, U256::ZERO, None, 0),
    );
    o.observe(k, u(4000 * E8), 500).unwrap();
    rejects(
        &mut o,
        OracleError::TimeWentBackwards {
            key: k,
            updated_at: 500,
            now: 499,
        },
        |o| o.observe(k, u(1), 499),
    );
    rejects(
        &mut o,
        OracleError::TimeWentBackwards {
            key: k,
            updated_at: 500,
            now: 499,
        },
        |o| o.set(k, u(1), 499),
    );
    // A feed with no answer yet.
    let m = key(STETH, Denom::Usd);
    o.add_feed(m, FeedKind::Market { pool: "x".into() }, 8, 3600, u(50), None, 0)
        .unwrap();
    assert_eq!(o.price(m, 0).unwrap_err(), OracleError::NoAnswer { key: m });
    assert_eq!(OracleError::NoAnswer { key: m }.code(), 6003);
    assert_eq!(OracleError::UnknownFeed { key: m }.code(), 6000);
    // The first observation always publishes.
    assert!(matches!(
        o.observe(m, u(1), 10).unwrap()[0],
        OracleEvent::AnswerUpdated { .. }
    ));
}

#[test]
fn a_market_feed_fed_by_the_curve_pool_shows_the_june_2022_depeg() {
    use stake_ledger::{AssetKind, Ledger};
    use stake_markets::stableswap::{PlainCoins, PoolConfig, StableSwapPool, Variant};
    let mut ledger = Ledger::new();
    let eth = ledger.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
    let steth = ledger.register_asset("stETH", 18, "lido", AssetKind::Plain).unwrap();
    let lp = ledger.account("lp");
    ledger.mint(lp, eth, u(120_613 * E18)).unwrap();
    ledger.mint(lp, steth, u(515_018 * E18)).unwrap();
    let cfg = PoolConfig {
        name: "curve-steth".into(),
        coins: [eth, steth],
        lp_symbol: "steCRV".into(),
        a: u(50),
        fee: u(4_000_000),
        admin_fee: u(5_000_000_000),
        variant: Variant::Legacy,
    };
    let mut pool = StableSwapPool::new(&mut ledger, cfg).unwrap();
    // SPEC §14: ~120,613 ETH vs 515,018 stETH around 13 June 2022.
    pool.add_liquidity(
        &mut ledger,
        &PlainCoins,
        lp,
        [u(120_613 * E18), u(515_018 * E18)],
        U256::ZERO,
        0,
    )
    .unwrap();
    let depth = pool.depth(&ledger, &PlainCoins, 1, 0, 0).unwrap();

    let mut o = registry();
    let k = key(STETH, Denom::Eth);
    o.add_feed(
        k,
        FeedKind::Market {
            pool: "curve-steth".into(),
        },
        18,
        86_400,
        u(50),
        Some(u(E18)),
        0,
    )
    .unwrap();
    o.observe(k, depth.price, 60).unwrap();
    let p = o.price(k, 60).unwrap().value;
    assert_eq!(p, depth.price);
    // ⌊get_dy(1, 0, 1e15)·1e18/1e15⌋ at A = 50 (recomputed from the contract's formulas):
    // 0.9402, inside the historical low of ≈ 0.934–0.94.
    assert_eq!(p, u(940_181_410_547_750_000));
    assert!(depth.discount_10pct > depth.discount_1pct);
}
