//! Quiet stretches of epochs in closed form.
//!
//! An epoch is **quiet** when nothing in it changes the total active balance, an effective
//! balance, the validator set or anyone's participation: finality is normal (no leak), no pending
//! deposit is finalized, no group becomes eligible, is scheduled, activates, exits, becomes
//! withdrawable, has its activation epoch normalised or pays a correlation penalty, no effective
//! balance leaves its hysteresis band, every group that attests has inactivity score 0 (so it
//! stays 0) and no penalty is capped at a balance. In a run of quiet epochs every group gains the
//! same per-validator amount `d = d₁ + d₂` each epoch (`d₁` at the block-level stage before the
//! sweep, `d₂` at `process_rewards_and_penalties` after it) and the beacon chain mints the same
//! totals each epoch, so the stretch is advanced by multiplication:
//!
//! - each group's balance is a **line** `anchor + d · (e − at)`, where `anchor` is its balance at
//!   the sweep point of epoch `at`; the withdrawal sweep still runs epoch by epoch (it moves, and
//!   its payments are what the chain does), but it only reads and resets the lines of the groups
//!   it passes — a few per epoch;
//! - a payment resets a line; if a paid group becomes identical to a neighbour, or validators are
//!   fully withdrawn, the lines are written back, the groups are compacted exactly as the
//!   epoch-by-epoch path compacts them, and the lines restart (this costs O(groups), once per
//!   merge, not per epoch);
//! - the stretch's rewards and execution-layer rewards are minted before the sweep runs and its
//!   penalties burned after it, so the ledger ends where epoch-by-epoch processing ends it;
//! - `EpochProcessed` and the sweep's `Withdrawal` events are emitted per epoch, as before.
//!
//! The stretch length is the smallest of the structural limits (each an exact epoch number) and,
//! per group, the epochs its balance can move before its effective balance would change or a
//! penalty would be capped. Those bounds use the lowest balance the group can reach — a falling
//! group may be reset down to its maximum effective balance by the sweep — so they are
//! conservative: a stretch may end early, never late, and the epoch after it is processed one by
//! one. The property test `closed_form_matches_epoch_by_epoch` runs random worlds both ways and
//! compares state hashes and events.

use super::{block_amounts, flag_amounts, ovf, spec, Ethereum, Rates, ValidatorGroup, FAR_FUTURE_EPOCH};
use crate::error::L0Error;
use crate::L0Event;
use stake_ledger::{AccountId, Ledger};
use stake_math::{u, Checked, MathError, MathResult, U256};
use std::collections::BTreeMap;

/// One group's balance as a line through the stretch.
#[derive(Clone, Copy, Debug)]
struct Line {
    /// Balance at the sweep point of epoch `at` (after its block-level stage).
    anchor: i128,
    at: u64,
    /// Per-validator change over a whole epoch.
    d: i128,
    /// Per-validator change of the block-level stage (before the sweep).
    d1: i128,
}

/// The balance lines of every group during a quiet stretch.
#[derive(Debug)]
pub(super) struct Lazy {
    lines: Vec<Line>,
    total_validators: u64,
    /// Groups paid by the sweep in the current epoch.
    paid: Vec<usize>,
}

fn gwei(v: i128) -> MathResult<u64> {
    u64::try_from(v).map_err(|_| MathError::Overflow)
}

fn span(e: u64, at: u64) -> i128 {
    i128::from(e) - i128::from(at)
}

impl Lazy {
    pub(super) fn total_validators(&self) -> u64 {
        self.total_validators
    }

    /// Balance of group `i` at the sweep point of epoch `e`.
    pub(super) fn at_sweep(&self, i: usize, e: u64) -> MathResult<u64> {
        let l = self.lines.get(i).ok_or(MathError::Overflow)?;
        gwei(l.anchor + l.d * span(e, l.at))
    }

    /// The sweep paid group `i` in epoch `e`, leaving `balance` per validator.
    pub(super) fn paid(&mut self, i: usize, e: u64, balance: u64) {
        if let Some(l) = self.lines.get_mut(i) {
            l.anchor = i128::from(balance);
            l.at = e;
            self.paid.push(i);
        }
    }

    /// Balance of group `i` at the start of epoch `e`.
    fn start(&self, i: usize, e: u64) -> MathResult<u64> {
        let l = self.lines.get(i).ok_or(MathError::Overflow)?;
        gwei(l.anchor + l.d * span(e, l.at) - l.d1)
    }

    /// Whether a group paid in epoch `e` is, at the end of `e`, identical to a neighbour (the
    /// epoch-by-epoch path would merge them).
    fn merges(&self, groups: &[ValidatorGroup], e: u64) -> MathResult<bool> {
        for &i in &self.paid {
            for j in [i.wrapping_sub(1), i + 1] {
                let (Some(a), Some(b)) = (groups.get(i), groups.get(j)) else {
                    continue;
                };
                if a.same_but_balance(b) && self.start(i, e + 1)? == self.start(j, e + 1)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Writes every group's balance at the start of epoch `e` back into the groups.
    fn materialize(&self, groups: &mut [ValidatorGroup], e: u64) -> MathResult<()> {
        for (i, g) in groups.iter_mut().enumerate() {
            g.balance_gwei = self.start(i, e)?;
        }
        Ok(())
    }
}

/// Per-epoch totals of a quiet stretch.
#[derive(Debug, Default)]
struct Totals {
    rewards: u128,
    penalties: u128,
    el: BTreeMap<AccountId, U256>,
    el_by_cohort: BTreeMap<u32, U256>,
    el_total: U256,
}

/// A quiet stretch: how many epochs, and what each of them does.
#[derive(Debug)]
pub(super) struct Plan {
    epochs: u64,
    rates: Rates,
    lazy: Lazy,
    totals: Totals,
}

/// Lowers `k` to the number of stretch epochs before epoch `x` (a change at `x` ends the stretch
/// before it); `false` when `x` is the current epoch.
fn before(k: &mut u64, cur: u64, x: u64) -> bool {
    if x >= cur {
        *k = (*k).min(x - cur);
    }
    *k > 0
}

/// Per-validator amounts of a group over one quiet epoch: (d₁, d, penalties, rewards).
fn amounts(g: &ValidatorGroup, cur: u64, rates: &Rates) -> MathResult<(i128, i128, u64, u64, bool)> {
    let prev = cur - 1;
    let a1 = block_amounts(g, cur, rates)?;
    let b1 = a1.unwrap_or_default();
    let a2 = if g.attestation_eligible(prev) {
        flag_amounts(g, g.participated(prev), rates, false)?
    } else {
        super::Amounts::default()
    };
    let d1 = i128::from(b1.reward) - i128::from(b1.penalty());
    let d = d1 + i128::from(a2.reward) - i128::from(a2.penalty());
    let pen = ovf(b1.penalty().checked_add(a2.penalty()))?;
    let rew = ovf(b1.reward.checked_add(a2.reward))?;
    Ok((d1, d, pen, rew, a1.is_some() && g.online))
}

impl Ethereum {
    /// The quiet epochs from the current one on (at most `limit`), if there are at least two.
    pub(super) fn plan_quiet(&self, limit: u64) -> MathResult<Option<Plan>> {
        let cur = self.epoch;
        if cur == 0 || limit < 2 {
            return Ok(None);
        }
        let mut k = limit;
        // Finality is normal throughout.
        for w in &self.params.finality_lost {
            if w.from_epoch <= cur && cur < w.to_epoch {
                return Ok(None);
            }
            if w.from_epoch < w.to_epoch && !before(&mut k, cur, w.from_epoch) {
                return Ok(None);
            }
        }
        // No pending deposit becomes finalized: epoch e processes the front once its slot ≤ (e − 1) · 32.
        if let Some(f) = self.pending_deposits.front() {
            let first = ovf(f.slot.div_ceil(spec::SLOTS_PER_EPOCH).checked_add(1))?;
            if !before(&mut k, cur, first) || first < cur {
                return Ok(None);
            }
        }
        let settled = self.settled_epochs();
        let prev = cur - 1;
        for g in &self.groups {
            let far = FAR_FUTURE_EPOCH;
            if g.activation_eligibility_epoch == far && g.effective_balance_gwei >= spec::MIN_ACTIVATION_BALANCE {
                return Ok(None);
            }
            if g.is_active(cur) && g.effective_balance_gwei <= spec::EJECTION_BALANCE && g.exit_epoch == far {
                return Ok(None);
            }
            if g.activation_epoch == far && g.activation_eligibility_epoch != far {
                let first = ovf(g.activation_eligibility_epoch.checked_add(1))?;
                if first <= cur || !before(&mut k, cur, first) {
                    return Ok(None);
                }
            }
            // is_active(prev) and is_active(cur) stay as they are.
            if !before(&mut k, cur, g.activation_epoch) || !before(&mut k, cur, g.exit_epoch) {
                return Ok(None);
            }
            if g.activation_epoch != 0 {
                let n = g.activation_epoch.saturating_add(settled);
                if n <= cur || !before(&mut k, cur, n) {
                    return Ok(None);
                }
            }
            if g.withdrawable_epoch != far {
                if !before(&mut k, cur, g.withdrawable_epoch) {
                    return Ok(None);
                }
                if g.slashed {
                    if let Some(c) = g.withdrawable_epoch.checked_sub(spec::EPOCHS_PER_SLASHINGS_VECTOR / 2) {
                        if !before(&mut k, cur, c) {
                            return Ok(None);
                        }
                    }
                }
            }
            if g.attestation_eligible(prev) && g.inactivity_score != 0 {
                return Ok(None);
            }
            if k < 2 {
                return Ok(None);
            }
        }
        let rates = self.rates(cur)?;
        let mut totals = Totals::default();
        let mut lines = Vec::with_capacity(self.groups.len());
        let mut total_validators: u64 = 0;
        for g in &self.groups {
            let (d1, d, pen, rew, el) = amounts(g, cur, &rates)?;
            let max_eb = self.cohorts[g.cohort as usize].max_effective_balance();
            if !self.group_horizon(g, d, pen, max_eb, &mut k) {
                return Ok(None);
            }
            let n = u128::from(g.count);
            totals.rewards = ovf(totals.rewards.checked_add(u128::from(rew) * n))?;
            totals.penalties = ovf(totals.penalties.checked_add(u128::from(pen) * n))?;
            if el {
                let per = spec::el_reward_per_epoch_wei(g.effective_balance_gwei, self.params.el_reward_apr_ppm);
                let amt = u(per).mul_c(u(n))?;
                if amt > U256::ZERO {
                    let fee_recipient = self.cohorts[g.cohort as usize].fee_recipient;
                    let e = totals.el.entry(fee_recipient).or_insert(U256::ZERO);
                    *e = e.add_c(amt)?;
                    let ec = totals.el_by_cohort.entry(g.cohort).or_insert(U256::ZERO);
                    *ec = ec.add_c(amt)?;
                    totals.el_total = totals.el_total.add_c(amt)?;
                }
            }
            total_validators = ovf(total_validators.checked_add(g.count))?;
            lines.push(Line {
                anchor: i128::from(g.balance_gwei) + d1,
                at: cur,
                d,
                d1,
            });
        }
        if k < 2 {
            return Ok(None);
        }
        Ok(Some(Plan {
            epochs: k,
            rates,
            lazy: Lazy {
                lines,
                total_validators,
                paid: Vec::new(),
            },
            totals,
        }))
    }

    /// Lowers `k` to the epochs group `g` (gaining `d` and paying `pen` per validator and epoch)
    /// keeps its effective balance with no penalty capped; `false` if that is not even one epoch.
    fn group_horizon(&self, g: &ValidatorGroup, d: i128, pen: u64, max_eb: u64, k: &mut u64) -> bool {
        let (b, eb) = (i128::from(g.balance_gwei), g.effective_balance_gwei);
        let hysteresis = spec::EFFECTIVE_BALANCE_INCREMENT / spec::HYSTERESIS_QUOTIENT;
        let down = i128::from(hysteresis * spec::HYSTERESIS_DOWNWARD_MULTIPLIER);
        let up = i128::from(hysteresis * spec::HYSTERESIS_UPWARD_MULTIPLIER);
        // The first epoch's balance (the most it can be after one epoch) keeps the effective balance.
        let Ok(b1) = u64::try_from(b + d) else {
            return false;
        };
        if spec::updated_effective_balance(b1, eb, max_eb) != eb {
            return false;
        }
        let mut cap = |n: i128| {
            let n = u64::try_from(n.max(0)).unwrap_or(u64::MAX);
            *k = (*k).min(n);
        };
        // The lowest start balance: a falling group above its maximum may be reset to it by the sweep.
        let low = if eb == max_eb { b.min(i128::from(max_eb)) } else { b };
        if pen > 0 {
            // Every epoch starts with its penalties covered: low − j·|d| ≥ pen for j < k.
            let p = i128::from(pen);
            if i128::from(max_eb) < p || low < p {
                return false;
            }
            if d < 0 {
                cap((low - p) / -d + 1);
            }
        }
        if d < 0 {
            // Stays above the downward threshold: low − j·|d| + down ≥ eb for j ≤ k.
            cap((low + down - i128::from(eb)) / -d);
        } else if d > 0 {
            if eb < max_eb {
                // Stays within the upward threshold: b + j·d ≤ eb + up for j ≤ k.
                cap((i128::from(eb) + up - b) / d);
            }
            cap((i128::from(u64::MAX) - b) / d);
        }
        *k > 0
    }

    /// Advances through a quiet stretch (see the module documentation).
    pub(super) fn advance_quiet(
        &mut self,
        ledger: &mut Ledger,
        plan: Plan,
        events: &mut Vec<L0Event>,
    ) -> Result<(), L0Error> {
        let Plan {
            epochs,
            rates,
            mut lazy,
            totals,
        } = plan;
        let start = self.epoch;
        let end = ovf(start.checked_add(epochs))?;
        let n = u(u128::from(epochs));
        // Rewards first, so that the sweep's transfers always find the beacon account funded.
        let rewards = ovf(totals.rewards.checked_mul(u128::from(epochs)))?;
        let penalties = ovf(totals.penalties.checked_mul(u128::from(epochs)))?;
        let mut el_total = U256::ZERO;
        for (acct, amt) in &totals.el {
            let amt = amt.mul_c(n)?;
            ledger.mint(*acct, self.eth, amt)?;
            el_total = el_total.add_c(amt)?;
        }
        for (c, amt) in &totals.el_by_cohort {
            let co = &mut self.cohorts[*c as usize];
            co.el_rewards_wei = co.el_rewards_wei.add_c(amt.mul_c(n)?)?;
        }
        self.total_el_rewards_wei = self.total_el_rewards_wei.add_c(el_total)?;
        self.settle(ledger, rewards, 0)?;
        // Without validators there is nothing to sweep, merge or report, epoch after epoch.
        let per_epoch = if self.groups.is_empty() {
            start..start
        } else {
            start..end
        };
        for e in per_epoch {
            self.epoch = e;
            let removed = self.sweep(ledger, e, events, Some(&mut lazy))?;
            if removed || lazy.merges(&self.groups, e)? {
                lazy.materialize(&mut self.groups, e + 1)?;
                self.compact();
                lazy = self.relines(e + 1, &rates)?;
            }
            lazy.paid.clear();
            if self.groups.is_empty() {
                continue;
            }
            events.push(L0Event::EpochProcessed {
                epoch: e,
                rewards_gwei: totals.rewards,
                penalties_gwei: totals.penalties,
                el_rewards_wei: totals.el_total,
                inactivity_leak: false,
            });
        }
        lazy.materialize(&mut self.groups, end)?;
        self.settle(ledger, 0, penalties)?;
        self.deposit_balance_to_consume = 0;
        self.prune_slashings(end - 1);
        self.epoch = end;
        self.closed_form_epochs = self.closed_form_epochs.saturating_add(epochs);
        Ok(())
    }

    /// Lines for the groups as they are at the start of epoch `e` of a stretch (after a compaction).
    fn relines(&self, e: u64, rates: &Rates) -> MathResult<Lazy> {
        let mut lines = Vec::with_capacity(self.groups.len());
        let mut total_validators: u64 = 0;
        for g in &self.groups {
            let (d1, d, ..) = amounts(g, e, rates)?;
            total_validators = ovf(total_validators.checked_add(g.count))?;
            lines.push(Line {
                anchor: i128::from(g.balance_gwei) + d1,
                at: e,
                d,
                d1,
            });
        }
        Ok(Lazy {
            lines,
            total_validators,
            paid: Vec::new(),
        })
    }
}
