//! Model-based property test of the Rocket Pool model: random deposits, burns and balance updates run
//! against a plain reference model written from the contract formulas; outcomes (applied or the exact
//! rejection code), balances and reported totals must agree after every step, and the invariants hold.

#![allow(clippy::unwrap_used, clippy::result_large_err)] // test helpers unwrap; errors carry values

use proptest::prelude::*;
use stake_ledger::{AccountId, Ledger, Reject};
use stake_lst::rocketpool::*;
use stake_math::{u, U256};

const E: u128 = 1_000_000_000_000_000_000;
const T0: u64 = 1_700_000_000;

#[derive(Clone, Debug)]
enum Op {
    Deposit { user: usize, amount: u128 },
    Burn { user: usize, bps: u128 },
    Report { delta_bps: i64, dt: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0u128..=60 * E).prop_map(|(user, amount)| Op::Deposit { user, amount }),
        2 => (0..3usize, 0u128..=10_000).prop_map(|(user, amount)| Op::Deposit { user, amount: amount * 1_000_000_000_000 }),
        4 => (0..3usize, 0u128..=12_000).prop_map(|(user, bps)| Op::Burn { user, bps }),
        3 => (-300i64..=300, 0u64..=2 * 86_400).prop_map(|(delta_bps, dt)| Op::Report { delta_bps, dt }),
    ]
}

/// Reference model: the deposit pool (no validators, so all of it is excess), the reported totals
/// and per-user balances.
#[derive(Clone, Debug, Default)]
struct Model {
    pool: U256,
    total: U256,
    supply_reported: U256,
    last: u64,
    now: u64,
    reth: [U256; 3],
    eth: [U256; 3],
}

impl Model {
    fn deposit(&mut self, i: usize, amount: U256) -> Result<(), u32> {
        if amount < u(E / 100) {
            return Err(3101);
        }
        let fee = amount * u(500_000_000_000_000) / u(E);
        let net = amount - fee;
        let minted = if self.supply_reported == U256::ZERO {
            net
        } else if self.total == U256::ZERO {
            return Err(3104);
        } else {
            net * self.supply_reported / self.total
        };
        if minted == U256::ZERO {
            return Err(3103);
        }
        if self.eth[i] < amount {
            return Err(1004);
        }
        self.eth[i] -= amount;
        self.pool += amount;
        self.reth[i] += minted;
        Ok(())
    }
    fn burn(&mut self, i: usize, r: U256) -> Result<(), u32> {
        if r == U256::ZERO {
            return Err(3105);
        }
        if r > self.reth[i] {
            return Err(3106);
        }
        let value = if self.supply_reported == U256::ZERO {
            r
        } else {
            r * self.total / self.supply_reported
        };
        if value > self.pool {
            return Err(3107);
        }
        self.reth[i] -= r;
        self.pool -= value;
        self.eth[i] += value;
        Ok(())
    }
    fn report(&mut self, new_total: U256) -> Result<(), u32> {
        let supply = self.reth[0] + self.reth[1] + self.reth[2];
        if self.now < self.last + 82_080 {
            return Err(3108);
        }
        if self.total > U256::ZERO {
            let cur = u(E) * self.total / self.supply_reported;
            if supply == U256::ZERO {
                return Err(102);
            }
            let new = u(E) * new_total / supply;
            let max = cur * u(2) / u(100);
            let diff = if new > cur { new - cur } else { cur - new };
            if diff > max {
                return Err(3109);
            }
        }
        self.total = new_total;
        self.supply_reported = supply;
        self.last = self.now;
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn rocketpool_agrees_with_the_reference_model(ops in prop::collection::vec(op(), 1..48)) {
        let mut l = Ledger::new();
        let mut rp = RocketPool::new(&mut l, RocketPoolParams::default()).unwrap();
        let users: Vec<AccountId> = ["u0", "u1", "u2"].iter().map(|n| l.account(n)).collect();
        let mut m = Model { now: T0, ..Default::default() };
        for (i, a) in users.iter().enumerate() {
            l.mint(*a, rp.eth, u(200 * E)).unwrap();
            m.eth[i] = u(200 * E);
        }
        for op in ops {
            let (got, want) = match op {
                Op::Deposit { user, amount } => (
                    rp.deposit(&mut l, users[user], u(amount), m.now).map(|_| ()).map_err(|e| e.code()),
                    m.deposit(user, u(amount)),
                ),
                Op::Burn { user, bps } => {
                    let r = l.balance(users[user], rp.reth) * u(bps) / u(10_000);
                    (rp.burn(&mut l, users[user], r, m.now).map(|_| ()).map_err(|e| e.code()), m.burn(user, r))
                }
                Op::Report { delta_bps, dt } => {
                    m.now += dt;
                    let base = if m.total > U256::ZERO { m.total } else { m.pool };
                    let factor = u((10_000 + delta_bps) as u128);
                    let new_total = base * factor / u(10_000);
                    let supply = l.supply(rp.reth);
                    (
                        rp.submit_balances(new_total, U256::ZERO, supply, m.now).map(|_| ()).map_err(|e| e.code()),
                        m.report(new_total),
                    )
                }
            };
            prop_assert_eq!(got, want);
            for (i, a) in users.iter().enumerate() {
                prop_assert_eq!(l.balance(*a, rp.reth), m.reth[i]);
                prop_assert_eq!(l.balance(*a, rp.eth), m.eth[i]);
            }
            prop_assert_eq!(rp.deposit_pool_wei, m.pool);
            prop_assert_eq!(rp.balances.total_eth, m.total);
            prop_assert_eq!(rp.balances.reth_supply, m.supply_reported);
            prop_assert_eq!(rp.check_invariants(&l), Ok(()));
        }
    }
}
