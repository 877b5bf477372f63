//! Model-based test: random sequences of submit / transfer / transferShares / wrap / unwrap /
//! request / report (EL rewards + finalisation) / claim run against the Lido model and a simple
//! reference model written from the formulas; balances, totals and error outcomes must agree,
//! and the invariants must hold after every step.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] fns

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use stake_ledger::{state_hash, AccountId, Ledger};
use stake_lst::lido::math::ether;
use stake_lst::lido::*;
use stake_math::{mul_div_down, u, U256};

const E27: U256 = U256::new(1_000_000_000_000_000_000_000_000_000);
const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;
const MILLI: u128 = 1_000_000_000_000_000;

#[derive(Clone, Debug)]
enum Op {
    Submit(usize, u64),
    Transfer(usize, usize, u64),
    TransferShares(usize, usize, u64),
    Wrap(usize, u64),
    Unwrap(usize, u64),
    Request(usize, u64),
    Report { el_milli: u64 },
    Claim(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0usize..3;
    prop_oneof![
        (user.clone(), 1u64..50_000).prop_map(|(a, m)| Op::Submit(a, m)),
        (user.clone(), user.clone(), 0u64..60_000).prop_map(|(a, b, m)| Op::Transfer(a, b, m)),
        (user.clone(), user.clone(), 0u64..60_000).prop_map(|(a, b, m)| Op::TransferShares(a, b, m)),
        (user.clone(), 0u64..30_000).prop_map(|(a, m)| Op::Wrap(a, m)),
        (user.clone(), 0u64..30_000).prop_map(|(a, m)| Op::Unwrap(a, m)),
        (user.clone(), 0u64..30_000).prop_map(|(a, m)| Op::Request(a, m)),
        (0u64..200).prop_map(|el_milli| Op::Report { el_milli }),
        (user, 0usize..8).prop_map(|(a, r)| Op::Claim(a, r)),
    ]
}

/// Reference request: owner, stETH, shares, claimable ether once finalized, claimed.
#[derive(Clone, Debug)]
struct RefReq {
    owner: usize,
    steth: U256,
    shares: U256,
    claimable: Option<U256>,
    claimed: bool,
}

/// The reference: every holder's shares, wstETH and ETH, the pool totals, the queue.
#[derive(Clone, Debug)]
struct Ref {
    shares: [U256; 3],
    wst: [U256; 3],
    eth: [U256; 3],
    pooled: U256,
    total_shares: U256,
    wst_pool: U256,
    burner: U256,
    requests: Vec<RefReq>,
    finalized: usize,
}

impl Ref {
    fn to_shares(&self, amount: U256) -> U256 {
        if self.total_shares == U256::ZERO {
            amount
        } else {
            amount * self.total_shares / self.pooled
        }
    }
    fn to_eth(&self, shares: U256) -> U256 {
        if self.total_shares == U256::ZERO {
            U256::ZERO
        } else {
            shares * self.pooled / self.total_shares
        }
    }
}

struct Sys {
    l: Ledger,
    lido: Lido,
    users: [AccountId; 3],
    now: u64,
}

fn check(sys: &Sys, r: &Ref) {
    sys.lido.check_invariants(&sys.l).unwrap();
    let (steth, wsteth, eth) = (sys.lido.steth_asset(), sys.lido.wsteth_asset(), sys.lido.eth_asset());
    for i in 0..3 {
        assert_eq!(sys.l.balance(sys.users[i], steth), r.shares[i], "shares of {i}");
        assert_eq!(sys.l.balance(sys.users[i], wsteth), r.wst[i], "wst of {i}");
        assert_eq!(sys.l.balance(sys.users[i], eth), r.eth[i], "eth of {i}");
    }
    assert_eq!(sys.lido.total_pooled_ether().unwrap(), r.pooled);
    assert_eq!(sys.lido.total_shares(), r.total_shares);
    assert_eq!(sys.l.balance(sys.lido.accounts().wsteth, steth), r.wst_pool);
}

fn run(ops: Vec<Op>) {
    let mut l = Ledger::new();
    let params = LidoParams {
        staking_limit_enabled: false,
        ..Default::default()
    };
    let lido = Lido::new(&mut l, "lido", params).unwrap();
    let users = [l.account("alice"), l.account("bob"), l.account("carol")];
    for a in users {
        l.mint(a, lido.eth_asset(), ether(1_000)).unwrap();
    }
    let mut sys = Sys {
        l,
        lido,
        users,
        now: T0,
    };
    let mut r = Ref {
        shares: [U256::ZERO; 3],
        wst: [U256::ZERO; 3],
        eth: [ether(1_000); 3],
        pooled: U256::ZERO,
        total_shares: U256::ZERO,
        wst_pool: U256::ZERO,
        burner: U256::ZERO,
        requests: Vec::new(),
        finalized: 0,
    };
    for op in ops {
        sys.now += 60;
        let before = (state_hash(&sys.l), state_hash(&sys.lido));
        let ok: bool = match op {
            Op::Submit(a, m) => {
                let amt = u(m as u128 * MILLI);
                let res = sys.lido.submit(&mut sys.l, sys.users[a], amt, sys.now);
                if r.eth[a] < amt {
                    assert!(res.is_err());
                    false
                } else {
                    res.unwrap();
                    let sh = r.to_shares(amt);
                    r.eth[a] -= amt;
                    r.shares[a] += sh;
                    r.pooled += amt;
                    r.total_shares += sh;
                    true
                }
            }
            Op::Transfer(a, b, m) => {
                let amt = u(m as u128 * MILLI + 7);
                let sh = r.to_shares(amt);
                let res = sys.lido.transfer(&mut sys.l, sys.users[a], sys.users[b], amt);
                if sh > r.shares[a] {
                    assert!(matches!(res, Err(LidoError::InsufficientShares { .. })), "{res:?}");
                    false
                } else {
                    res.unwrap();
                    r.shares[a] -= sh;
                    r.shares[b] += sh;
                    true
                }
            }
            Op::TransferShares(a, b, m) => {
                let sh = u(m as u128 * MILLI + 3);
                let res = sys.lido.transfer_shares(&mut sys.l, sys.users[a], sys.users[b], sh);
                if sh > r.shares[a] {
                    assert!(res.is_err());
                    false
                } else {
                    res.unwrap();
                    r.shares[a] -= sh;
                    r.shares[b] += sh;
                    true
                }
            }
            Op::Wrap(a, m) => {
                let amt = u(m as u128 * MILLI);
                let res = sys.lido.wrap(&mut sys.l, sys.users[a], amt);
                let sh = r.to_shares(amt);
                if amt == U256::ZERO || sh > r.shares[a] {
                    assert!(res.is_err());
                    false
                } else {
                    assert_eq!(res.unwrap().0, sh);
                    r.shares[a] -= sh;
                    r.wst[a] += sh;
                    r.wst_pool += sh;
                    true
                }
            }
            Op::Unwrap(a, m) => {
                let w = u(m as u128 * MILLI);
                let res = sys.lido.unwrap(&mut sys.l, sys.users[a], w);
                if w == U256::ZERO || w > r.wst[a] {
                    assert!(res.is_err());
                    false
                } else {
                    let st = r.to_eth(w);
                    let sh = r.to_shares(st);
                    assert_eq!(res.unwrap().0, st);
                    r.wst[a] -= w;
                    r.wst_pool -= sh;
                    r.shares[a] += sh;
                    true
                }
            }
            Op::Request(a, m) => {
                let amt = u(m as u128 * MILLI * 50 + 50);
                let sh = r.to_shares(amt);
                let res = sys.lido.request_withdrawal(&mut sys.l, sys.users[a], amt, sys.now);
                if amt > ether(1000) || sh > r.shares[a] {
                    assert!(res.is_err());
                    false
                } else {
                    let (id, _) = res.unwrap();
                    assert_eq!(id as usize, r.requests.len() + 1);
                    r.shares[a] -= sh;
                    r.requests.push(RefReq {
                        owner: a,
                        steth: amt,
                        shares: sh,
                        claimable: None,
                        claimed: false,
                    });
                    true
                }
            }
            Op::Report { el_milli } => {
                sys.now += DAY;
                let (el, eth) = (sys.lido.accounts().el_vault, sys.lido.eth_asset());
                sys.l.mint(el, eth, u(el_milli as u128 * MILLI)).unwrap();
                let vault = sys.l.balance(el, eth);
                let rep = sys
                    .lido
                    .build_report(&sys.l, sys.now, 0, U256::ZERO, vec![], vec![])
                    .unwrap();
                let (sum, _) = sys.lido.handle_oracle_report(&mut sys.l, rep.clone(), sys.now).unwrap();
                // Reference: limiter cap P·750000/1e9, EL drawn up to it, no fee (CL unchanged).
                let cap = r.pooled * u(750_000) / u(1_000_000_000);
                let unlimited = r.pooled == U256::ZERO;
                let drawn = if unlimited { vault } else { vault.min(cap) };
                assert_eq!(sum.el_rewards, drawn);
                // Shares-to-burn limit once pooled ether is `current` (PositiveTokenRebaseLimiter).
                let burn_limit = |current: U256| {
                    if unlimited {
                        r.total_shares
                    } else if current >= r.pooled + cap {
                        U256::ZERO
                    } else {
                        let l1 = u(750_000 + 1_000_000_000);
                        let pr = current * u(1_000_000_000) / r.pooled;
                        r.total_shares * (l1 - pr) / l1
                    }
                };
                // Simulated rate: no finalization, pending burner shares burnt up to the limit.
                let sim_burn = burn_limit(r.pooled + drawn).min(r.burner);
                let sim_shares = r.total_shares - sim_burn;
                let rate = if sim_shares == U256::ZERO {
                    U256::ZERO
                } else {
                    mul_div_down(r.pooled + drawn, E27, sim_shares).unwrap()
                };
                assert_eq!(rep.simulated_share_rate, rate);
                let last = rep.withdrawal_finalization_batches.last().copied().unwrap_or(0) as usize;
                let (mut lock_lo, mut lock_hi, mut wq) = (U256::ZERO, U256::ZERO, U256::ZERO);
                for q in r.requests.iter_mut().take(last).skip(r.finalized) {
                    let req_rate = q.steth * E27 / q.shares;
                    let c = if req_rate > rate {
                        q.shares * rate / E27
                    } else {
                        q.steth
                    };
                    q.claimable = Some(c);
                    lock_lo += c;
                    lock_hi += q.steth;
                    wq += q.shares;
                }
                r.finalized = r.finalized.max(last);
                assert!(sum.ether_to_lock >= lock_lo && sum.ether_to_lock <= lock_hi);
                let lock = sum.ether_to_lock;
                // Shares to burn: min(limit after locking, burner + finalized shares).
                let burn_cap = burn_limit(r.pooled + drawn - lock);
                let burn = burn_cap.min(r.burner + wq);
                assert_eq!(sum.shares_burnt, burn);
                assert_eq!(sum.fee_shares, U256::ZERO);
                r.burner = r.burner + wq - burn;
                r.pooled = r.pooled + drawn - lock;
                r.total_shares -= burn;
                true
            }
            Op::Claim(a, idx) => {
                let res = sys.lido.claim(&mut sys.l, sys.users[a], idx as u64 + 1);
                match r.requests.get(idx).cloned() {
                    Some(q) if q.claimable.is_some() && !q.claimed && q.owner == a => {
                        let c = q.claimable.unwrap_or_default();
                        assert_eq!(res.unwrap().0, c);
                        r.eth[a] += c;
                        r.requests[idx].claimed = true;
                        true
                    }
                    _ => {
                        assert!(res.is_err());
                        false
                    }
                }
            }
        };
        if !ok {
            assert_eq!(
                (state_hash(&sys.l), state_hash(&sys.lido)),
                before,
                "rejected op changed state"
            );
        }
        check(&sys, &r);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/lido_model.txt"))),
        ..ProptestConfig::default()
    })]
    #[test]
    fn lido_agrees_with_the_reference_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

#[test]
fn a_fixed_sequence_agrees_with_the_reference_model() {
    run(vec![
        Op::Submit(0, 10_000),
        Op::Report { el_milli: 5 },
        Op::Submit(1, 3_333),
        Op::Transfer(0, 2, 1_234),
        Op::Wrap(2, 1_000),
        Op::Report { el_milli: 150 },
        Op::Unwrap(2, 500),
        Op::Request(0, 40),
        Op::Request(1, 20),
        Op::Report { el_milli: 1 },
        Op::Claim(1, 0),
        Op::Claim(0, 0),
        Op::Claim(1, 1),
        Op::Claim(1, 1),
    ]);
}
