//! Services registry (SPEC §5.5): exact reward budgets, faults from supplied draws, slash requests
//! per binding, books, and rejection paths.

// Test helpers outside #[test] functions unwrap set-up steps that cannot fail.
#![allow(clippy::unwrap_used)]

use stake_ledger::state_hash;
use stake_math::{u, U256, WAD};
use stake_restaking::services::*;

fn service(name: &str) -> Service {
    Service {
        name: name.into(),
        kind: ServiceKind::DataAvailability,
        bindings: vec![
            SecurityBinding {
                protocol: Protocol::EigenLayer,
                set: "da/0".into(),
                operators: vec!["op1".into(), "op2".into()],
            },
            SecurityBinding {
                protocol: Protocol::Symbiotic,
                set: "vault1/da".into(),
                operators: vec!["op1".into()],
            },
        ],
        profit_from_corruption: u(500 * 10u128.pow(18)),
        pfc_unit: ValueUnit::EthWei,
        corruption_threshold_wad: u(666_666_666_666_666_667),
        reward_budget: RewardBudget::AprBps { apr_bps: 300 },
        schedule: RewardSchedule {
            start: 0,
            period_secs: 7 * 86_400,
            end: None,
        },
        slash_fraction_wad: u(100_000_000_000_000_000),
        fault_probability_wad: u(10_000_000_000_000_000),
    }
}

#[test]
fn apr_budget_for_a_week_is_exact() {
    // 1000e18 · 300 · 604800 / (1e4 · 31536000) = 575342465753424657.5… → floor.
    assert_eq!(
        apr_reward_for_period(u(1000 * 10u128.pow(18)), 300, 604_800).unwrap(),
        u(575_342_465_753_424_657)
    );
    let mut s = Services::new();
    s.register(service("da")).unwrap();
    s.set_stake_secured("da", u(1000 * 10u128.pow(18))).unwrap();
    assert_eq!(
        s.reward_for_period("da").unwrap(),
        ("stake".to_string(), u(575_342_465_753_424_657))
    );
    // Three full weeks have passed at 3.5 weeks.
    assert_eq!(s.periods_due("da", 3 * 604_800 + 302_400).unwrap(), 3);
    let ev = s.pay_due_rewards("da", 3 * 604_800 + 302_400).unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(
        s.book("da").unwrap().rewards_paid["stake"],
        u(3 * 575_342_465_753_424_657)
    );
    assert_eq!(s.periods_due("da", 3 * 604_800 + 302_400).unwrap(), 0);
}

#[test]
fn faults_come_from_supplied_draws_and_become_slash_requests_per_binding() {
    let mut s = Services::new();
    s.register(service("da")).unwrap();
    // p = 1 %: draw 0.0099… faults, 0.01 does not.
    assert!(s.fault_occurs("da", u(9_999_999_999_999_999)).unwrap());
    assert!(!s.fault_occurs("da", u(10_000_000_000_000_000)).unwrap());
    let reqs = s.fault_to_slash_requests("da", "op1").unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1],
        SlashRequest {
            service: "da".into(),
            protocol: Protocol::Symbiotic,
            operator: "op1".into(),
            set: "vault1/da".into(),
            fraction_wad: u(100_000_000_000_000_000)
        }
    );
    s.record_slash("da", "op1", u(7)).unwrap();
    s.record_slash("da", "op2", u(3)).unwrap();
    let b = s.book("da").unwrap();
    assert_eq!((b.slashed, b.faults), (u(10), 1));
    s.check_invariants().unwrap();
}

#[test]
fn corruption_is_profitable_when_profit_exceeds_alpha_times_stake() {
    let mut s = Services::new();
    s.register(service("da")).unwrap();
    // CoC(600 ETH) = ⌈600e18 · 0.666…667⌉ = 400.0000000000000002e18 > π = 500e18? no: 400e18 < 500e18.
    assert!(s.is_corruption_profitable("da", u(600 * 10u128.pow(18))).unwrap());
    assert!(!s.is_corruption_profitable("da", u(750 * 10u128.pow(18))).unwrap());
    assert_eq!(cost_of_corruption(u(3), WAD / U256::from(3u8)).unwrap(), u(1)); // ⌈3·0.333…⌉ = 1
}

#[test]
fn rejections_carry_their_values_and_change_nothing() {
    let mut s = Services::new();
    s.register(service("da")).unwrap();
    let before = state_hash(&s);
    assert_eq!(
        s.register(service("da")),
        Err(ServicesError::DuplicateService { name: "da".into() })
    );
    let mut bad = service("x");
    bad.slash_fraction_wad = U256::ZERO;
    assert_eq!(
        s.register(bad),
        Err(ServicesError::InvalidFraction {
            what: "slash_fraction_wad",
            value: U256::ZERO
        })
    );
    let mut bad = service("x");
    bad.schedule.period_secs = 0;
    assert_eq!(s.register(bad), Err(ServicesError::InvalidPeriod));
    assert_eq!(
        s.fault_occurs("da", WAD + U256::ONE),
        Err(ServicesError::InvalidDraw { draw: WAD + U256::ONE })
    );
    assert_eq!(
        s.fault_to_slash_requests("da", "op9"),
        Err(ServicesError::OperatorNotInService {
            service: "da".into(),
            operator: "op9".into()
        })
    );
    assert_eq!(
        s.reward_for_period("nope"),
        Err(ServicesError::UnknownService { name: "nope".into() })
    );
    assert_eq!(state_hash(&s), before);
}
