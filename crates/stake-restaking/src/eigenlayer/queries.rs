//! Read-side queries for the engine / CLI and the invariant checks (Certora properties).

use super::allocation::updated_allocation;
use super::math::{mul_wad, WAD_U64};
use super::strategies::max_mag;
use super::{EigenLayer, ElError, BEACON_STRATEGY};
use serde::{Deserialize, Serialize};
use stake_ledger::Ledger;
use stake_math::{Checked, U256};
use std::collections::BTreeMap;

/// A queued withdrawal as seen by a query: `(id, strategies, shares payable now)`.
pub type QueuedWithdrawalView = (u64, Vec<String>, Vec<U256>);

/// Per-operator summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorReport {
    /// Operator.
    pub operator: String,
    /// `(strategy, delegated shares, ETH value wad, max magnitude, encumbered magnitude)`.
    pub strategies: Vec<(String, U256, U256, u64, u64)>,
    /// `(set key, strategy, current magnitude, allocated stake in shares)`.
    pub allocations: Vec<(String, String, u64, U256)>,
    /// Shares slashed per strategy.
    pub slashed_shares: BTreeMap<String, U256>,
    /// Commission credited per reward token.
    pub rewards_commission: BTreeMap<String, U256>,
    /// Number of delegated stakers (including itself).
    pub delegators: usize,
}

/// Per-operator-set summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetReport {
    /// Set key.
    pub set: String,
    /// Members.
    pub members: Vec<String>,
    /// Allocated (slashable) stake per strategy, summed over members (shares).
    pub allocated: BTreeMap<String, U256>,
    /// Shares slashed per strategy.
    pub slashed_shares: BTreeMap<String, U256>,
    /// Tokens burned or redistributed per token.
    pub slashed_tokens: BTreeMap<String, U256>,
}

/// A staker's position in one strategy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakerStrategyReport {
    /// Strategy.
    pub strategy: String,
    /// Deposit shares.
    pub deposit_shares: U256,
    /// Deposit scaling factor (WAD when unset).
    pub dsf: U256,
    /// Withdrawable shares.
    pub withdrawable: U256,
    /// Underlying tokens of the withdrawable shares.
    pub underlying: U256,
}

impl EigenLayer {
    /// Operator shares in a strategy (`operatorShares`).
    pub fn operator_shares(&self, operator: &str, strategy: &str) -> U256 {
        self.operators
            .get(operator)
            .and_then(|o| o.shares.get(strategy).copied())
            .unwrap_or(U256::ZERO)
    }

    /// Summary of an operator.
    pub fn operator_report(&self, ledger: &Ledger, operator: &str, block: u64) -> Result<OperatorReport, ElError> {
        let op = self.operators.get(operator).ok_or_else(|| ElError::NotOperator {
            account: operator.to_string(),
        })?;
        let mut strategies = Vec::new();
        for (s, sh) in &op.shares {
            let value = mul_wad(*sh, self.value_per_share(ledger, s)?)?;
            strategies.push((
                s.clone(),
                *sh,
                value,
                max_mag(op, s),
                op.encumbered.get(s).copied().unwrap_or(0),
            ));
        }
        let mut allocations = Vec::new();
        for (s, m) in &op.allocations {
            for key in m.keys() {
                let (_, a) = updated_allocation(op, s, key, block)?;
                let set = &self.operator_sets[key];
                let stake = self.allocated_stake(operator, &set.avs, set.id, s, block)?;
                allocations.push((key.clone(), s.clone(), a.current, stake));
            }
        }
        Ok(OperatorReport {
            operator: operator.to_string(),
            strategies,
            allocations,
            slashed_shares: op.slashed_shares.clone(),
            rewards_commission: self
                .rewards
                .operator_commission
                .get(operator)
                .cloned()
                .unwrap_or_default(),
            delegators: self.delegators.get(operator).map(|d| d.len()).unwrap_or(0),
        })
    }

    /// Summary of an operator set.
    pub fn set_report(&self, avs: &str, id: u32, block: u64) -> Result<SetReport, ElError> {
        let key = super::set_key(avs, id);
        let set = self.operator_sets.get(&key).ok_or(ElError::OperatorSetNotFound {
            avs: avs.to_string(),
            id,
        })?;
        let mut allocated = BTreeMap::new();
        for s in &set.strategies {
            let mut total = U256::ZERO;
            for op in &set.members {
                total = total.add_c(self.allocated_stake(op, avs, id, s, block)?)?;
            }
            allocated.insert(s.clone(), total);
        }
        Ok(SetReport {
            set: key,
            members: set.members.iter().cloned().collect(),
            allocated,
            slashed_shares: set.slashed_shares.clone(),
            slashed_tokens: set.slashed_tokens.clone(),
        })
    }

    /// A staker's positions.
    pub fn staker_report(&self, ledger: &Ledger, staker: &str) -> Result<Vec<StakerStrategyReport>, ElError> {
        let Some(st) = self.stakers.get(staker) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (s, p) in &st.positions {
            if p.deposit_shares == U256::ZERO {
                continue;
            }
            let withdrawable = self.withdrawable_shares(staker, s)?;
            out.push(StakerStrategyReport {
                strategy: s.clone(),
                deposit_shares: p.deposit_shares,
                dsf: super::math::dsf_value(p.dsf),
                withdrawable,
                underlying: self.shares_to_underlying(ledger, s, withdrawable)?,
            });
        }
        Ok(out)
    }

    /// Queued withdrawals of a staker: `(id, strategies, shares payable now)`.
    pub fn queued_withdrawals(&self, staker: &str, block: u64) -> Result<Vec<QueuedWithdrawalView>, ElError> {
        let mut out = Vec::new();
        for (id, wd) in &self.withdrawals {
            if wd.staker == staker {
                out.push((*id, wd.strategies.clone(), self.queued_withdrawal_shares(*id, block)?));
            }
        }
        Ok(out)
    }

    /// Backing and magnitude invariants (SPEC §5.1, Certora specs):
    /// encumbered = Σ current + Σ positive pending; maxMagnitude ≥ encumbered; max-magnitude
    /// history non-increasing; one pending modification per (operator, set, strategy) (map key);
    /// deallocation queue entries point at pending or due deallocations; operator shares ≥ Σ
    /// delegators' withdrawable shares minus rounding slack (no over-slashing of stakers);
    /// per strategy Σ withdrawable + queued payouts ≤ total shares; total shares ≤ 1e38 − 1;
    /// the rewards account backs unclaimed rewards; pods hold their accounted ETH.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, true)
    }

    /// The rules of [`Self::check_invariants`] that cost what the operators and strategies hold
    /// (magnitudes, allocations, total-share bounds), without the sums over every staker,
    /// withdrawal, pod and reward earner: the per-transaction check; the sums run at the
    /// full-check cadence.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, false)
    }

    fn check_rules(&self, ledger: &Ledger, full: bool) -> Result<(), String> {
        for (name, op) in &self.operators {
            let mut strategies: Vec<&String> = op
                .encumbered
                .keys()
                .chain(op.max_magnitude.keys())
                .chain(op.allocations.keys())
                .collect();
            strategies.sort();
            strategies.dedup();
            for s in strategies {
                let enc = op.encumbered.get(s).copied().unwrap_or(0);
                let mut sum: i128 = 0;
                if let Some(m) = op.allocations.get(s) {
                    for a in m.values() {
                        sum += i128::from(a.current) + a.pending_diff.max(0);
                    }
                }
                if i128::from(enc) != sum {
                    return Err(format!(
                        "{name}/{s}: encumbered {enc} != Σ current + Σ positive pending {sum}"
                    ));
                }
                let max = max_mag(op, s);
                let hist_latest = self
                    .magnitude_history
                    .get(name)
                    .and_then(|m| m.get(s))
                    .map(|h| h.latest(WAD_U64));
                if hist_latest.unwrap_or(WAD_U64) != max {
                    return Err(format!("{name}/{s}: max magnitude {max} differs from its history"));
                }
                if max < enc {
                    return Err(format!("{name}/{s}: max magnitude {max} < encumbered {enc}"));
                }
                if let Some(h) = self.magnitude_history.get(name).and_then(|m| m.get(s)) {
                    let mut prev = WAD_U64;
                    for (b, v) in &h.points {
                        if *v > prev {
                            return Err(format!("{name}/{s}: max magnitude rose to {v} at block {b}"));
                        }
                        prev = *v;
                    }
                }
                if let Some(q) = op.dealloc_queue.get(s) {
                    for key in q {
                        if op.allocations.get(s).and_then(|m| m.get(key)).is_none() {
                            return Err(format!("{name}/{s}: deallocation queue entry {key} without allocation"));
                        }
                    }
                }
            }
            if !full {
                continue;
            }
            // Operator shares vs its delegators' withdrawable shares.
            let dels = self.delegators.get(name).cloned().unwrap_or_default();
            for (s, sh) in &op.shares {
                let mut total = U256::ZERO;
                for d in &dels {
                    total = total.saturating_add(self.withdrawable_shares(d, s).map_err(|e| e.to_string())?);
                }
                let slashes = self
                    .magnitude_history
                    .get(name)
                    .and_then(|m| m.get(s))
                    .map(|h| h.points.len())
                    .unwrap_or(0) as u128
                    + 1;
                let slack = U256::from(dels.len() as u128 * slashes * 2);
                if total > sh.saturating_add(slack) {
                    return Err(format!(
                        "{name}/{s}: delegators hold {total} withdrawable > operator shares {sh}"
                    ));
                }
            }
        }
        for (sname, st) in &self.strategies {
            if st.total_shares > super::math::MAX_TOTAL_SHARES {
                return Err(format!("{sname}: total shares above max"));
            }
            if !full {
                continue;
            }
            let mut claims = U256::ZERO;
            for name in self.stakers.keys() {
                claims = claims.saturating_add(self.withdrawable_shares(name, sname).map_err(|e| e.to_string())?);
            }
            for (id, wd) in &self.withdrawals {
                let pays = self
                    .queued_withdrawal_shares(*id, u64::MAX)
                    .map_err(|e| e.to_string())?;
                for (s, p) in wd.strategies.iter().zip(pays) {
                    if s == sname {
                        claims = claims.saturating_add(p);
                    }
                }
            }
            if claims > st.total_shares {
                return Err(format!(
                    "{sname}: withdrawable + queued {claims} > total shares {}",
                    st.total_shares
                ));
            }
        }
        if !full {
            return Ok(());
        }
        if let Ok(eth) = ledger.asset(&self.eth_symbol) {
            for (owner, pod) in &self.pods {
                let bal = ledger
                    .find_account(&super::pod_account_name(owner))
                    .map(|a| ledger.balance(a, eth))
                    .unwrap_or(U256::ZERO);
                if bal / super::GWEI < pod.restaked_el_gwei {
                    return Err(format!(
                        "pod {owner}: holds {bal} wei < restaked {} gwei",
                        pod.restaked_el_gwei
                    ));
                }
            }
        }
        for (name, st) in &self.stakers {
            for (s, p) in &st.positions {
                if s != BEACON_STRATEGY && p.deposit_shares != U256::ZERO && !st.strategy_list.contains(s) {
                    return Err(format!("{name}: {s} has shares but is not in the strategy list"));
                }
            }
            if st.strategy_list.len() > super::MAX_STAKER_STRATEGY_LIST_LENGTH {
                return Err(format!("{name}: more than 32 strategies"));
            }
        }
        self.check_rewards(ledger)
    }
}
