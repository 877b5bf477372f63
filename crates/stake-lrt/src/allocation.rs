//! Allocation policies (SPEC §6 "Auto-allocation"): a pure function from the candidates (operator
//! delegators / vaults, each securing a set of services) and the amount to place, to a target
//! amount per candidate.
//!
//! Restaked stake is not split between the services a candidate secures: each unit allocated to
//! a candidate is exposed *in full* to every one of its services. The risk-budgeted policy caps,
//! for each service, the sum of the allocations exposed to it.

use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{Checked, MathError, U256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Basis-point denominator of the policies.
pub const POLICY_BPS: u32 = 10_000;

/// One place the LRT can allocate to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationCandidate {
    /// Name (operator delegator, vault, operator).
    pub name: String,
    /// Expected net yield, parts per million per year (used by the yield-seeking policies).
    pub yield_ppm: u64,
    /// Services (AVSs / networks) this candidate's stake is slashable by.
    pub services: Vec<String>,
}

/// How an LRT spreads new stake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocationPolicy {
    /// Fixed weights in bps, one per candidate, summing to 10,000. Rounding dust goes to the
    /// first candidate with a positive weight.
    FixedWeights {
        /// Weight of each candidate (same order as the candidates).
        weights_bps: Vec<u32>,
    },
    /// Highest yield first, each candidate capped at `max_per_candidate_bps` of the total
    /// (10,000 = everything to the best one). Ties go to the earlier candidate.
    MaxYield {
        /// Cap per candidate, bps of the total.
        max_per_candidate_bps: u32,
    },
    /// Highest yield first, subject to: for every service, the sum of the allocations exposed to
    /// it is at most `max_service_exposure_bps` of the total.
    RiskBudgeted {
        /// Cap per service exposure, bps of the total.
        max_service_exposure_bps: u32,
    },
}

/// Rejections of an allocation (codes 5500–5599).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllocationError {
    /// No candidates.
    NoCandidates,
    /// Fixed weights: wrong number of weights.
    WeightCountMismatch {
        /// Weights given.
        weights: usize,
        /// Candidates.
        candidates: usize,
    },
    /// Fixed weights do not sum to 10,000.
    WeightsNotWhole {
        /// Their sum.
        sum: u64,
    },
    /// A cap above 10,000 bps.
    InvalidCap {
        /// The cap.
        bps: u32,
    },
    /// The caps cannot absorb the whole amount.
    Infeasible {
        /// What could not be placed.
        unallocated: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

impl From<MathError> for AllocationError {
    fn from(e: MathError) -> Self {
        AllocationError::Math(e)
    }
}

impl fmt::Display for AllocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AllocationError::*;
        match self {
            NoCandidates => write!(f, "allocation: no candidates"),
            WeightCountMismatch { weights, candidates } => {
                write!(f, "allocation: {weights} weights for {candidates} candidates")
            }
            WeightsNotWhole { sum } => write!(f, "allocation: weights sum to {sum} bps, not 10000"),
            InvalidCap { bps } => write!(f, "allocation: cap {bps} bps exceeds 10000"),
            Infeasible { unallocated } => write!(f, "allocation: caps leave {unallocated} unallocated"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AllocationError {}

impl Reject for AllocationError {
    fn code(&self) -> u32 {
        use AllocationError::*;
        match self {
            NoCandidates => 5500,
            WeightCountMismatch { .. } => 5501,
            WeightsNotWhole { .. } => 5502,
            InvalidCap { .. } => 5503,
            Infeasible { .. } => 5504,
            Math(e) => e.code(),
        }
    }
}

fn bps_of(total: U256, bps: u32) -> Result<U256, AllocationError> {
    Ok(total.mul_c(U256::from(bps))?.div_c(U256::from(POLICY_BPS))?)
}

/// Candidate indices by yield, highest first, ties by index.
fn by_yield(candidates: &[AllocationCandidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| candidates[b].yield_ppm.cmp(&candidates[a].yield_ppm).then(a.cmp(&b)));
    order
}

/// Target amount per candidate (same order as `candidates`) for placing `total`.
///
/// Specification:
/// - fails with `NoCandidates` if `candidates` is empty;
/// - `FixedWeights` fails with `WeightCountMismatch` / `WeightsNotWhole` unless there is one
///   weight per candidate and they sum to 10,000; targets are `⌊total·w/1e4⌋`, the dust to the
///   first candidate with a positive weight;
/// - `MaxYield` / `RiskBudgeted` fail with `InvalidCap` above 10,000 bps and with `Infeasible`
///   if the caps (`⌊total·cap/1e4⌋`) cannot absorb `total`;
/// - the targets always sum to `total`.
pub fn target_allocations(
    policy: &AllocationPolicy,
    candidates: &[AllocationCandidate],
    total: U256,
) -> Result<Vec<U256>, AllocationError> {
    if candidates.is_empty() {
        return Err(AllocationError::NoCandidates);
    }
    let mut out = vec![U256::ZERO; candidates.len()];
    match policy {
        AllocationPolicy::FixedWeights { weights_bps } => {
            if weights_bps.len() != candidates.len() {
                return Err(AllocationError::WeightCountMismatch {
                    weights: weights_bps.len(),
                    candidates: candidates.len(),
                });
            }
            let sum: u64 = weights_bps.iter().map(|&w| u64::from(w)).sum();
            if sum != u64::from(POLICY_BPS) {
                return Err(AllocationError::WeightsNotWhole { sum });
            }
            let mut placed = U256::ZERO;
            for (o, &w) in out.iter_mut().zip(weights_bps) {
                *o = bps_of(total, w)?;
                placed = placed.add_c(*o)?;
            }
            let dust = total.sub_c(placed)?;
            if let Some(i) = weights_bps.iter().position(|&w| w > 0) {
                out[i] = out[i].add_c(dust)?;
            }
        }
        AllocationPolicy::MaxYield { max_per_candidate_bps } => {
            if *max_per_candidate_bps > POLICY_BPS {
                return Err(AllocationError::InvalidCap {
                    bps: *max_per_candidate_bps,
                });
            }
            let cap = bps_of(total, *max_per_candidate_bps)?;
            let mut left = total;
            for i in by_yield(candidates) {
                let take = left.min(cap);
                out[i] = take;
                left = left.sub_c(take)?;
            }
            if left > U256::ZERO {
                return Err(AllocationError::Infeasible { unallocated: left });
            }
        }
        AllocationPolicy::RiskBudgeted {
            max_service_exposure_bps,
        } => {
            if *max_service_exposure_bps > POLICY_BPS {
                return Err(AllocationError::InvalidCap {
                    bps: *max_service_exposure_bps,
                });
            }
            let cap = bps_of(total, *max_service_exposure_bps)?;
            let mut exposure: BTreeMap<&str, U256> = BTreeMap::new();
            let mut left = total;
            for i in by_yield(candidates) {
                // A candidate listing a service twice is exposed to it once.
                let services: BTreeSet<&str> = candidates[i].services.iter().map(String::as_str).collect();
                let mut take = left;
                for s in &services {
                    let used = exposure.get(s).copied().unwrap_or(U256::ZERO);
                    take = take.min(cap.saturating_sub(used));
                }
                for s in services {
                    let e = exposure.entry(s).or_insert(U256::ZERO);
                    *e = e.add_c(take)?;
                }
                out[i] = take;
                left = left.sub_c(take)?;
            }
            if left > U256::ZERO {
                return Err(AllocationError::Infeasible { unallocated: left });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, y: u64, s: &[&str]) -> AllocationCandidate {
        AllocationCandidate {
            name: name.into(),
            yield_ppm: y,
            services: s.iter().map(|x| x.to_string()).collect(),
        }
    }

    #[test]
    fn fixed_weights_put_the_dust_on_the_first_weighted_candidate() {
        let cs = [c("a", 0, &[]), c("b", 0, &[]), c("c", 0, &[])];
        let p = AllocationPolicy::FixedWeights {
            weights_bps: vec![0, 3333, 6667],
        };
        let t = target_allocations(&p, &cs, U256::from(100u32)).unwrap();
        assert_eq!(t, vec![U256::ZERO, U256::from(34u32), U256::from(66u32)]);
    }

    #[test]
    fn risk_budget_caps_each_service() {
        // a (best) secures X and Y, b secures Y, c secures Z, d secures nothing; cap 40 %.
        let cs = [
            c("a", 900, &["X", "Y"]),
            c("b", 800, &["Y", "Y"]),
            c("c", 100, &["Z"]),
            c("d", 50, &[]),
        ];
        let p = AllocationPolicy::RiskBudgeted {
            max_service_exposure_bps: 4000,
        };
        let t = target_allocations(&p, &cs, U256::from(1000u32)).unwrap();
        assert_eq!(
            t,
            vec![U256::from(400u32), U256::ZERO, U256::from(400u32), U256::from(200u32)]
        );
        let t = target_allocations(&p, &cs[..3], U256::from(1000u32));
        assert_eq!(
            t,
            Err(AllocationError::Infeasible {
                unallocated: U256::from(200u32)
            })
        );
    }

    #[test]
    fn max_yield_fills_the_best_first() {
        let cs = [c("a", 100, &[]), c("b", 900, &[]), c("c", 900, &[])];
        let p = AllocationPolicy::MaxYield {
            max_per_candidate_bps: 5000,
        };
        let t = target_allocations(&p, &cs, U256::from(101u32)).unwrap();
        assert_eq!(t, vec![U256::from(1u32), U256::from(50u32), U256::from(50u32)]);
    }
}
