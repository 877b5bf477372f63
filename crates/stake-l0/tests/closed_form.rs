//! Ethereum's quiet stretches in closed form against epoch-by-epoch processing: random worlds
//! (cohorts of every performance and credential type, deposits, exits, slashings, finality
//! losses) advanced both ways in random chunks must give identical state hashes and events.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use stake_l0::spec::{self, GWEI_PER_ETH};
use stake_l0::*;
use stake_ledger::{state_hash, AccountId, AssetKind, Ledger};
use stake_math::{u, U256};

const EPOCH: u64 = spec::EPOCH_SECONDS;

#[derive(Clone, Debug)]
enum Op {
    Deposit {
        operator: usize,
        count: u64,
        performance_ppm: u64,
        compounding: bool,
    },
    Exit {
        operator: usize,
        count: u64,
    },
    Slash {
        operator: usize,
        count: u64,
    },
    Nothing,
}

#[derive(Clone, Debug)]
struct Case {
    shard_committee_period: u64,
    el_reward_apr_ppm: u64,
    compounding: bool,
    finality_lost: Option<(u64, u64)>,
    genesis: Vec<(u64, u64)>,
    steps: Vec<(u64, Op)>,
}

const OPERATORS: [&str; 3] = ["opA", "opB", "opC"];

struct Side {
    ledger: Ledger,
    eth: Ethereum,
    funder: AccountId,
    creds: Vec<AccountId>,
    stepping: Stepping,
}

impl Side {
    fn new(c: &Case, stepping: Stepping) -> Side {
        let mut ledger = Ledger::new();
        let eth_asset = ledger.register_asset("ETH", 18, "native", AssetKind::Plain).unwrap();
        let params = EthParams {
            shard_committee_period: c.shard_committee_period,
            el_reward_apr_ppm: c.el_reward_apr_ppm,
            compounding: c.compounding,
            finality_lost: c
                .finality_lost
                .iter()
                .map(|&(from_epoch, len)| FinalityLoss {
                    from_epoch,
                    to_epoch: from_epoch + len,
                })
                .collect(),
            ..EthParams::default()
        };
        let mut eth = Ethereum::new(params, &mut ledger, 0).unwrap();
        let creds: Vec<AccountId> = OPERATORS
            .iter()
            .map(|o| ledger.account(&format!("{o}:creds")))
            .collect();
        for (i, &(count, perf)) in c.genesis.iter().enumerate() {
            let op = OPERATORS[i % OPERATORS.len()];
            let a = creds[i % OPERATORS.len()];
            eth.add_genesis_validators(&mut ledger, count, op, a, a, perf).unwrap();
        }
        let funder = ledger.account("funder");
        ledger
            .mint(
                funder,
                eth_asset,
                u(1_000_000u128 * u128::from(GWEI_PER_ETH)) * u(1_000_000_000),
            )
            .unwrap();
        Side {
            ledger,
            eth,
            funder,
            creds,
            stepping,
        }
    }

    fn advance(&mut self, epochs: u64) -> Result<Vec<L0Event>, String> {
        let to = (self.eth.current_epoch() + epochs) * EPOCH;
        self.eth
            .advance_to_with(&mut self.ledger, to, self.stepping)
            .map_err(|e| e.to_string())
    }

    fn apply(&mut self, op: &Op) -> Result<Vec<L0Event>, String> {
        let now = self.eth.current_epoch() * EPOCH;
        let r = match *op {
            Op::Deposit {
                operator,
                count,
                performance_ppm,
                compounding,
            } => {
                let a = self.creds[operator];
                self.eth.deposit_with(
                    &mut self.ledger,
                    self.funder,
                    count,
                    OPERATORS[operator],
                    a,
                    a,
                    performance_ppm,
                    compounding,
                    now,
                )
            }
            Op::Exit { operator, count } => {
                self.eth
                    .request_exits(self.creds[operator], Some(OPERATORS[operator]), count, now)
            }
            Op::Slash { operator, count } => self.eth.slash(&mut self.ledger, OPERATORS[operator], count, now),
            Op::Nothing => Ok(Vec::new()),
        };
        r.map_err(|e| e.to_string())
    }

    fn hashes(&self) -> ([u8; 32], [u8; 32]) {
        (state_hash(&self.ledger), state_hash(&self.eth))
    }
}

fn performance() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(1_000_000u64),
        Just(990_000),
        Just(900_000),
        Just(500_000),
        Just(0),
        0u64..=1_000_000
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..3, 1u64..120, performance(), any::<bool>()).prop_map(
            |(operator, count, performance_ppm, compounding)| Op::Deposit {
                operator,
                count,
                performance_ppm,
                compounding
            }
        ),
        (0usize..3, 1u64..60).prop_map(|(operator, count)| Op::Exit { operator, count }),
        (0usize..3, 1u64..20).prop_map(|(operator, count)| Op::Slash { operator, count }),
        Just(Op::Nothing),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(0u64), Just(16), Just(256)],
        prop_oneof![Just(0u64), Just(6_000), 0u64..50_000],
        any::<bool>(),
        proptest::option::of((10u64..3_000, 1u64..300)),
        proptest::collection::vec((1u64..3_000, performance()), 1..4),
        proptest::collection::vec((1u64..1_500, op()), 1..10),
    )
        .prop_map(
            |(shard_committee_period, el_reward_apr_ppm, compounding, finality_lost, genesis, steps)| Case {
                shard_committee_period,
                el_reward_apr_ppm,
                compounding,
                finality_lost,
                genesis,
                steps,
            },
        )
}

/// Runs a case both ways, comparing after every chunk; returns the epochs advanced.
fn run_both(c: &Case) -> Result<u64, TestCaseError> {
    let mut a = Side::new(c, Stepping::EpochByEpoch);
    let mut b = Side::new(c, Stepping::ClosedForm);
    prop_assert_eq!(a.hashes(), b.hashes());
    let mut epochs = 0;
    for (gap, op) in &c.steps {
        let (ea, eb) = (a.advance(*gap), b.advance(*gap));
        prop_assert_eq!(&ea, &eb, "events after {} epochs", epochs + gap);
        epochs += gap;
        prop_assert_eq!(a.hashes(), b.hashes(), "state after {} epochs", epochs);
        b.eth.check_invariants(&b.ledger).map_err(TestCaseError::fail)?;
        let (ra, rb) = (a.apply(op), b.apply(op));
        prop_assert_eq!(&ra, &rb, "{:?} after {} epochs", op, epochs);
        prop_assert_eq!(a.hashes(), b.hashes(), "state after {:?}", op);
    }
    // A last long stretch: exits and slashings work through to withdrawal.
    let (ea, eb) = (a.advance(9_000), b.advance(9_000));
    prop_assert_eq!(&ea, &eb);
    prop_assert_eq!(a.hashes(), b.hashes());
    b.ledger
        .check_conservation()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(a.eth.closed_form_epochs(), 0);
    Ok(b.eth.closed_form_epochs())
}

proptest! {
    // 40 cases in the normal suite; CLOSED_FORM_CASES=N for a longer soak.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("CLOSED_FORM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
    ))]

    #[test]
    fn closed_form_matches_epoch_by_epoch(c in case()) {
        run_both(&c)?;
    }
}

/// The random worlds do take the closed-form path: most of their epochs are quiet.
#[test]
fn random_worlds_mostly_advance_in_closed_form() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut closed, mut cases) = (0u64, 0u64);
    for _ in 0..8 {
        let c = case().new_tree(&mut runner).unwrap().current();
        closed += run_both(&c).unwrap();
        cases += 1;
    }
    assert!(closed > cases * 4_000, "{closed} closed-form epochs in {cases} cases");
}

#[test]
fn a_quiet_year_in_one_advance_equals_every_epoch() {
    let c = Case {
        shard_committee_period: 256,
        el_reward_apr_ppm: 6_000,
        compounding: false,
        finality_lost: None,
        genesis: vec![(100_000, 1_000_000), (5_000, 990_000), (2_000, 0)],
        steps: vec![
            (
                1,
                Op::Deposit {
                    operator: 1,
                    count: 64,
                    performance_ppm: 950_000,
                    compounding: true,
                },
            ),
            (2_000, Op::Exit { operator: 0, count: 40 }),
            (spec::EPOCHS_PER_YEAR, Op::Nothing),
        ],
    };
    let total = 2_001 + spec::EPOCHS_PER_YEAR + 9_000;
    let closed = run_both(&c).unwrap();
    // Everything but the epochs around activations, exits and withdrawals runs in closed form.
    assert!(closed * 10 > total * 9, "{closed} of {total} epochs in closed form");
}

#[test]
fn closed_form_pays_the_same_rewards_as_the_ideal_issuance() {
    // 1,000,000 online validators for 100 days in one advance.
    let c = Case {
        shard_committee_period: 256,
        el_reward_apr_ppm: 0,
        compounding: false,
        finality_lost: None,
        genesis: vec![(1_000_000, 1_000_000)],
        steps: Vec::new(),
    };
    let mut b = Side::new(&c, Stepping::ClosedForm);
    let before = b.eth.total_staked_wei();
    b.advance(225 * 100).unwrap();
    let (r, p) = b.eth.total_rewards_and_penalties_gwei();
    assert_eq!(p, 0);
    // Rewards went out by the sweep or stayed on the beacon chain, to the wei.
    let withdrawn = b.ledger.balance(b.creds[0], b.ledger.asset("ETH").unwrap());
    assert_eq!(
        b.eth.total_staked_wei() + withdrawn,
        before + U256::from(r) * U256::from(1_000_000_000u64)
    );
    // ≈ 2.9 % a year on 32 M ETH: 100 days pay about 0.8 % of the stake.
    let ratio = r as f64 / (1_000_000.0 * 32.0 * GWEI_PER_ETH as f64);
    assert!((0.0075..0.0085).contains(&ratio), "{ratio}");
}
