//! Risk analytics over snapshots of the world (SPEC §10). This first part is the security of a
//! restaking network, after Durvasula & Roughgarden, "Robust Restaking Networks" (ITCS 2025,
//! arXiv 2407.21785).
//!
//! # The model
//! Operators `v` have stake `σ_v`. Services `s` have a profit from corruption `π_s`, a threshold
//! `α_s ∈ (0, 1]` and the set `N(s)` of operators securing them. A coalition of non-empty services
//! `A` and operators `B` is an **attack** iff every `s ∈ A` is corrupted by `B` —
//! `σ(B ∩ N(s)) ≥ α_s·σ(N(s))` — and `π(A) > σ(B)`: the coalition profits more than the stake it
//! loses to slashing. Thresholds are wads (`1e18` = 100 %) and the test is exact in integers:
//! `σ(B ∩ N(s))·1e18 ≥ α_wad·σ(N(s))`, i.e. `σ(B ∩ N(s)) ≥ ⌈α_wad·σ(N(s)) / 1e18⌉`.
//!
//! # What is computed, exactly
//! Every verdict is integer or rational arithmetic; floats never decide anything.
//! - [`Graph::best_attack`]: whether an attack exists and the most profitable one
//!   (max `π(A) − σ(B)`). For a fixed `B` the best `A` is every service `B` corrupts, so the search
//!   runs over `B` only: a branch-and-bound over operators with two bounds (the profit of the
//!   services still corruptible, less the smallest remaining deficit), after removing services that
//!   no profitable attack can include (those whose corruption alone costs at least the total
//!   profit, to a fixed point). When every threshold is 100 %, corrupting `s` needs all of `N(s)`
//!   and the problem is a maximum-weight closure, solved exactly by a minimum cut
//!   ([`flow`]).
//! - [`Graph::eigenlayer_condition`]: the sufficient condition per operator,
//!   `Σ_{s ∋ v} (σ_v / σ(N(s)))·(π_s / α_s) ≤ σ_v`, in exact rationals.
//! - [`Graph::gamma_slack`]: `γ = min_A c(A)/π(A) − 1`, `c(A)` the cheapest `B` corrupting `A`
//!   (services with `π = 0` skipped), as an exact rational; equivalently `min_B σ(B)/π(Sat(B))`.
//! - [`Graph::cascade_loss`]: after a shock removing some operators, `σ(shock)` plus the largest
//!   `σ(B)` of an attack on what is left (thresholds measured against each service's remaining
//!   stake) — a cascade of attacks merges into one attack on the shocked graph, so this is the
//!   worst cascade. [`Graph::cascade_steps`] plays a cascade out attack by attack.
//! - [`Graph::dilution`] and [`Graph::service_security`]: security sold per unit of stake, and each
//!   service's cost of corruption against its profit from corruption.
//!
//! The exact searches are exponential in the worst case (the problem is NP-hard); the bounds make
//! the realistic cases fast, and [`generate`] builds EigenLayer-size graphs to measure them.

pub mod calc;
pub mod flow;
pub mod generate;
mod search;

use num_bigint::BigUint;
use num_rational::BigRational;
use stake_math::{mul_div_up, Checked, U256, WAD};
use std::fmt;

/// Why a graph or a query was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RiskError {
    /// A service names an operator index that does not exist.
    OperatorOutOfRange {
        /// The service.
        service: usize,
        /// The index it names.
        operator: usize,
        /// How many operators there are.
        operators: usize,
    },
    /// A threshold outside (0, 1e18].
    BadThreshold {
        /// The service.
        service: usize,
        /// Its threshold (wad).
        threshold_wad: U256,
    },
    /// A service secured by no operator.
    NoOperators {
        /// The service.
        service: usize,
    },
    /// An operator listed twice by one service.
    DuplicateOperator {
        /// The service.
        service: usize,
        /// The operator.
        operator: usize,
    },
    /// The total stake or profit does not fit 256 bits.
    Overflow,
    /// γ-slack needs a service with a positive profit.
    NoProfit,
    /// A shock names an operator that does not exist.
    ShockOutOfRange {
        /// The index named.
        operator: usize,
    },
    /// An exact search stopped at its node budget: the answer is unknown (never guessed).
    Undecided {
        /// Nodes visited.
        nodes: u64,
    },
}

impl From<search::Exhausted> for RiskError {
    fn from(e: search::Exhausted) -> Self {
        RiskError::Undecided { nodes: e.0 }
    }
}

/// No limit on an exact search's nodes.
pub const UNLIMITED: u64 = u64::MAX;

impl fmt::Display for RiskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RiskError::OperatorOutOfRange {
                service,
                operator,
                operators,
            } => write!(
                f,
                "service {service} names operator {operator}, but there are {operators} operators"
            ),
            RiskError::BadThreshold { service, threshold_wad } => write!(
                f,
                "service {service} has threshold {threshold_wad}: it must be in (0, 1e18]"
            ),
            RiskError::NoOperators { service } => write!(f, "service {service} is secured by no operator"),
            RiskError::DuplicateOperator { service, operator } => {
                write!(f, "service {service} names operator {operator} twice")
            }
            RiskError::Overflow => write!(f, "the total stake or profit does not fit 256 bits"),
            RiskError::NoProfit => write!(f, "γ-slack needs a service with a positive profit"),
            RiskError::ShockOutOfRange { operator } => {
                write!(f, "the shock names operator {operator}, which does not exist")
            }
            RiskError::Undecided { nodes } => write!(
                f,
                "the exact search stopped undecided after {nodes} nodes (its budget): too large for an exact answer within it"
            ),
        }
    }
}

impl std::error::Error for RiskError {}

/// A service buying security: profit from corruption, threshold, securing operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Profit from corruption `π_s`.
    pub profit: U256,
    /// Threshold `α_s` as a wad (1e18 = 100 %).
    pub threshold_wad: U256,
    /// Indices of the operators securing it, `N(s)`.
    pub operators: Vec<usize>,
}

/// A restaking graph, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Graph {
    stakes: Vec<U256>,
    services: Vec<Service>,
    /// Services of each operator.
    by_operator: Vec<Vec<usize>>,
}

/// One coalition: the services corrupted and the operators that corrupt them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coalition {
    /// Service indices, ascending.
    pub services: Vec<usize>,
    /// Operator indices, ascending.
    pub operators: Vec<usize>,
}

/// The most profitable attack, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attack {
    /// `π(A) − σ(B)` (> 0).
    pub profit: U256,
    /// The coalition reaching it.
    pub coalition: Coalition,
}

/// The EigenLayer sufficient condition, per operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// True when it holds for every operator.
    pub holds: bool,
    /// Operators where it fails, ascending.
    pub failing: Vec<usize>,
}

/// γ-slack as an exact rational `cost/profit − 1`, with the coalition reaching the minimum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GammaSlack {
    /// `c(A)`: the cheapest stake corrupting the minimising services.
    pub cost: U256,
    /// `π(A)` of those services.
    pub profit: U256,
    /// The minimising coalition.
    pub coalition: Coalition,
}

impl GammaSlack {
    /// γ as an exact rational.
    pub fn gamma(&self) -> BigRational {
        BigRational::new(big(self.cost).into(), big(self.profit).into()) - BigRational::from_integer(1.into())
    }

    /// `⌊γ·1e18⌋`, floored toward −∞ (signed decimal).
    pub fn gamma_wad(&self) -> String {
        // ⌊(c − π)·1e18 / π⌋ = ⌊c·1e18/π⌋ − 1e18: subtracting an integer commutes with the floor.
        let q = big(self.cost) * big(WAD) / big(self.profit);
        let q = num_bigint::BigInt::from(q) - num_bigint::BigInt::from(big(WAD));
        q.to_string()
    }
}

/// Per-service security: what corrupting it alone costs against what it pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSecurity {
    /// Service index.
    pub service: usize,
    /// Stake securing it, `σ(N(s))`.
    pub stake: U256,
    /// Cost of corruption: the cheapest `σ(B)` meeting its threshold alone.
    pub cost_of_corruption: U256,
    /// Profit from corruption `π_s`.
    pub profit_from_corruption: U256,
}

pub(crate) fn big(v: U256) -> BigUint {
    BigUint::from_bytes_be(&v.to_be_bytes())
}

impl Graph {
    /// Validates a graph: operator indices in range and distinct per service, thresholds in
    /// (0, 1e18], every service secured by at least one operator, totals within 256 bits.
    pub fn new(stakes: Vec<U256>, services: Vec<Service>) -> Result<Graph, RiskError> {
        let n = stakes.len();
        let mut by_operator = vec![Vec::new(); n];
        stakes
            .iter()
            .try_fold(U256::ZERO, |a, s| a.add_c(*s))
            .map_err(|_| RiskError::Overflow)?;
        services
            .iter()
            .try_fold(U256::ZERO, |a, s| a.add_c(s.profit))
            .map_err(|_| RiskError::Overflow)?;
        for (i, s) in services.iter().enumerate() {
            if s.threshold_wad == U256::ZERO || s.threshold_wad > WAD {
                return Err(RiskError::BadThreshold {
                    service: i,
                    threshold_wad: s.threshold_wad,
                });
            }
            if s.operators.is_empty() {
                return Err(RiskError::NoOperators { service: i });
            }
            let mut seen = std::collections::BTreeSet::new();
            for &v in &s.operators {
                if v >= n {
                    return Err(RiskError::OperatorOutOfRange {
                        service: i,
                        operator: v,
                        operators: n,
                    });
                }
                if !seen.insert(v) {
                    return Err(RiskError::DuplicateOperator {
                        service: i,
                        operator: v,
                    });
                }
                by_operator[v].push(i);
            }
        }
        Ok(Graph {
            stakes,
            services,
            by_operator,
        })
    }

    /// Operator stakes.
    pub fn stakes(&self) -> &[U256] {
        &self.stakes
    }

    /// Services.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// `σ` of a set of operators.
    pub fn stake_of(&self, operators: &[usize]) -> U256 {
        operators
            .iter()
            .filter_map(|v| self.stakes.get(*v))
            .fold(U256::ZERO, |a, s| a.saturating_add(*s))
    }

    /// The minimum stake of `N(s)` (minus `removed`) that corrupts `s`:
    /// `⌈α·σ(N'(s)) / 1e18⌉`.
    pub(crate) fn threshold_stake(&self, s: usize, removed: &[bool]) -> U256 {
        let svc = &self.services[s];
        let total = svc
            .operators
            .iter()
            .filter(|v| !removed.get(**v).copied().unwrap_or(false))
            .fold(U256::ZERO, |a, v| a.saturating_add(self.stakes[*v]));
        // α ≤ 1e18, so the result is at most `total`: never an overflow.
        mul_div_up(svc.threshold_wad, total, WAD).unwrap_or(total)
    }

    /// Whether `(services, operators)` is an attack, checked from the definition in exact
    /// integers (every reported coalition goes through this).
    pub fn is_attack(&self, c: &Coalition) -> bool {
        if c.services.is_empty() {
            return false;
        }
        let in_b: Vec<bool> = (0..self.stakes.len()).map(|v| c.operators.contains(&v)).collect();
        let none = vec![false; self.stakes.len()];
        let corrupted = c.services.iter().all(|&s| {
            let got = self.services[s]
                .operators
                .iter()
                .filter(|v| in_b[**v])
                .fold(U256::ZERO, |a, v| a.saturating_add(self.stakes[*v]));
            got >= self.threshold_stake(s, &none)
        });
        let profit = c
            .services
            .iter()
            .fold(U256::ZERO, |a, s| a.saturating_add(self.services[*s].profit));
        corrupted && profit > self.stake_of(&c.operators)
    }

    /// The most profitable attack (max `π(A) − σ(B)`), or `None` when the network is secure.
    /// Exact and unbounded: see [`Graph::best_attack_within`] for a node budget.
    pub fn best_attack(&self) -> Option<Attack> {
        self.best_attack_within(UNLIMITED).ok().flatten()
    }

    /// [`Graph::best_attack`], stopping with [`RiskError::Undecided`] after `budget` search nodes.
    /// The answer is re-checked against the definition in exact integers.
    pub fn best_attack_within(&self, budget: u64) -> Result<Option<Attack>, RiskError> {
        let removed = vec![false; self.stakes.len()];
        let a = search::best_attack(self, &removed, budget)?;
        Ok(a.filter(|a| self.is_attack(&a.coalition)))
    }

    /// The EigenLayer sufficient condition `Σ_{s ∋ v} (σ_v/σ(N(s)))·(π_s/α_s) ≤ σ_v`, per operator,
    /// in exact rationals. A service with `π > 0` whose operators hold no stake makes it fail for
    /// each of them.
    pub fn eigenlayer_condition(&self) -> Condition {
        let totals: Vec<U256> = (0..self.services.len())
            .map(|s| self.stake_of(&self.services[s].operators))
            .collect();
        // Dividing by σ_v > 0, the condition reads Σ_{s ∋ v} π_s·1e18 / (σ(N(s))·α_wad) ≤ 1.
        // A floating-point filter decides it when the sum is clearly away from 1 — each term is
        // within 8 ulps of its exact value and the sum within (8 + n) ulps, far inside the 1e-9
        // margin — and exact rationals decide everything near the boundary, so the verdict is
        // the exact one either way.
        let mut failing = Vec::new();
        for (v, services) in self.by_operator.iter().enumerate() {
            let sv = self.stakes[v];
            let terms = services.iter().filter(|s| self.services[**s].profit > U256::ZERO);
            if terms.clone().any(|s| totals[*s] == U256::ZERO) {
                failing.push(v);
                continue;
            }
            if sv == U256::ZERO {
                continue;
            }
            let approx: f64 = terms
                .clone()
                .map(|s| {
                    let svc = &self.services[*s];
                    svc.profit.as_f64() * 1e18 / (totals[*s].as_f64() * svc.threshold_wad.as_f64())
                })
                .sum();
            let fails = if approx < 1.0 - 1e-9 {
                false
            } else if approx > 1.0 + 1e-9 {
                true
            } else {
                let sum: BigRational = terms
                    .map(|s| {
                        let svc = &self.services[*s];
                        let num = big(svc.profit) * big(WAD);
                        let den = big(totals[*s]) * big(svc.threshold_wad);
                        BigRational::new(num.into(), den.into())
                    })
                    .fold(BigRational::from_integer(0.into()), |a, t| a + t);
                sum > BigRational::from_integer(1.into())
            };
            if fails {
                failing.push(v);
            }
        }
        Condition {
            holds: failing.is_empty(),
            failing,
        }
    }

    /// γ-slack: `min` over non-empty sets `A` of services with `π > 0` of `c(A)/π(A) − 1`.
    pub fn gamma_slack(&self) -> Result<GammaSlack, RiskError> {
        self.gamma_slack_within(UNLIMITED)
    }

    /// [`Graph::gamma_slack`] within a node budget.
    pub fn gamma_slack_within(&self, budget: u64) -> Result<GammaSlack, RiskError> {
        if self.services.iter().all(|s| s.profit == U256::ZERO) {
            return Err(RiskError::NoProfit);
        }
        let removed = vec![false; self.stakes.len()];
        search::min_ratio(self, &removed, budget)?.ok_or(RiskError::NoProfit)
    }

    /// Theorem 1's bound on the worst total loss after a shock `ψ` on a γ-slack network:
    /// `(1 + 1/γ)·ψ` as an exact rational; `None` when `γ ≤ 0` (no bound).
    pub fn loss_bound(&self, shock_stake: U256) -> Result<Option<BigRational>, RiskError> {
        let g = self.gamma_slack()?.gamma();
        if g <= BigRational::from_integer(0.into()) {
            return Ok(None);
        }
        let one = BigRational::from_integer(1.into());
        Ok(Some(
            (one.clone() + one / g) * BigRational::from_integer(big(shock_stake).into()),
        ))
    }

    fn removed(&self, shock: &[usize]) -> Result<Vec<bool>, RiskError> {
        let mut removed = vec![false; self.stakes.len()];
        for &v in shock {
            *removed.get_mut(v).ok_or(RiskError::ShockOutOfRange { operator: v })? = true;
        }
        Ok(removed)
    }

    /// The worst total loss after `shock`: `σ(shock)` plus the largest `σ(B)` of an attack on the
    /// graph without the shocked operators (thresholds against each service's remaining stake;
    /// only operators securing a corrupted service are in `B`).
    pub fn cascade_loss(&self, shock: &[usize]) -> Result<U256, RiskError> {
        self.cascade_loss_within(shock, UNLIMITED)
    }

    /// [`Graph::cascade_loss`] within a node budget.
    pub fn cascade_loss_within(&self, shock: &[usize], budget: u64) -> Result<U256, RiskError> {
        let removed = self.removed(shock)?;
        let lost: U256 = (0..self.stakes.len())
            .filter(|v| removed[*v])
            .fold(U256::ZERO, |a, v| a.saturating_add(self.stakes[v]));
        let worst = search::max_attack_stake(self, &removed, budget)?;
        Ok(lost.saturating_add(worst.map_or(U256::ZERO, |c| self.stake_of(&c.operators))))
    }

    /// A cascade played out: remove the shocked operators, find the attack on what is left that
    /// destroys the most stake (thresholds against the remaining stake, so a service whose
    /// operators are all gone counts as corrupted), remove its operators, repeat until no attack
    /// destroys more. Returns each attack in order; their stakes and the shock's add up to at most
    /// [`Graph::cascade_loss`].
    pub fn cascade_steps(&self, shock: &[usize]) -> Result<Vec<Coalition>, RiskError> {
        let mut removed = self.removed(shock)?;
        let mut steps = Vec::new();
        while let Some(c) = search::max_attack_stake(self, &removed, UNLIMITED)? {
            if self.stake_of(&c.operators) == U256::ZERO {
                break;
            }
            for &v in &c.operators {
                removed[v] = true;
            }
            steps.push(c);
        }
        Ok(steps)
    }

    /// Security dilution: the security sold to services (Σ_s σ(N(s)), each unit of stake counted
    /// once per service it secures) over the total stake, as an exact rational.
    pub fn dilution(&self) -> Option<BigRational> {
        let total = self.stake_of(&(0..self.stakes.len()).collect::<Vec<_>>());
        if total == U256::ZERO {
            return None;
        }
        let sold = self
            .services
            .iter()
            .fold(BigUint::from(0u8), |a, s| a + big(self.stake_of(&s.operators)));
        Some(BigRational::new(sold.into(), big(total).into()))
    }

    /// Cost of corruption against profit from corruption, per service (each cost an exact
    /// covering search within `budget` nodes).
    pub fn service_security(&self, budget: u64) -> Result<Vec<ServiceSecurity>, RiskError> {
        let none = vec![false; self.stakes.len()];
        (0..self.services.len())
            .map(|s| {
                Ok(ServiceSecurity {
                    service: s,
                    stake: self.stake_of(&self.services[s].operators),
                    cost_of_corruption: search::cheapest_cover(self, s, &none, budget)?,
                    profit_from_corruption: self.services[s].profit,
                })
            })
            .collect()
    }

    pub(crate) fn services_of(&self, v: usize) -> &[usize] {
        &self.by_operator[v]
    }
}
