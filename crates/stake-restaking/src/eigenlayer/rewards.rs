//! `RewardsCoordinator`: validated AVS rewards submissions, operator splits, an opt-in protocol
//! fee, and the engine-side distribution (what the off-chain rewards sidecar computes) with
//! cumulative claims.

use super::math::MAX_TOTAL_SHARES;
use super::{EigenLayer, ElError, ElEvent};
use serde::{Deserialize, Serialize};
use stake_ledger::Ledger;
use stake_math::{bps_mul_down, mul_div_down, Checked, MathError, U256};
use std::collections::{BTreeMap, BTreeSet};

/// Ledger account holding submitted rewards until claimed.
pub const REWARDS_ACCOUNT: &str = "eigenlayer:rewards";
/// Seconds per distribution day (the sidecar's snapshot granularity).
pub const DAY_SECONDS: u64 = 86_400;

/// Coordinator constants (seconds / bps). Defaults follow SPEC §5.1 and mainnet deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardsParams {
    /// `CALCULATION_INTERVAL_SECONDS` (SPEC: 7 days; the current mainnet deployment uses 1 day).
    pub calculation_interval: u64,
    /// `MAX_REWARDS_DURATION` (70 days).
    pub max_rewards_duration: u64,
    /// `MAX_RETROACTIVE_LENGTH` (90 days).
    pub max_retroactive_length: u64,
    /// `MAX_FUTURE_LENGTH` (30 days).
    pub max_future_length: u64,
    /// `GENESIS_REWARDS_TIMESTAMP` (2024-03-21).
    pub genesis_rewards_timestamp: u64,
    /// `activationDelay` (7 days in `script/configs/mainnet.json`): operator splits and
    /// distribution roots take effect this long after they are set or submitted.
    pub activation_delay: u64,
    /// `defaultOperatorSplitBips` (1000 = 10 %).
    pub default_split_bps: u16,
    /// Protocol fee for opted-in submitters (2000 = 20 %).
    pub protocol_fee_bps: u16,
    /// Ledger account receiving protocol fees.
    pub fee_recipient: String,
}

impl Default for RewardsParams {
    fn default() -> Self {
        Self {
            calculation_interval: 604_800,
            max_rewards_duration: 6_048_000,
            max_retroactive_length: 7_776_000,
            max_future_length: 2_592_000,
            genesis_rewards_timestamp: 1_710_979_200,
            activation_delay: 604_800,
            default_split_bps: 1_000,
            protocol_fee_bps: 2_000,
            fee_recipient: "eigenlayer:protocol_fee".to_string(),
        }
    }
}

/// An accepted rewards submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardsSubmission {
    /// Submitting AVS.
    pub avs: String,
    /// Reward token symbol.
    pub token: String,
    /// Amount to distribute (net of protocol fee).
    pub amount: U256,
    /// `(strategy, multiplier)` in ascending order.
    pub strategies: Vec<(String, U256)>,
    /// Start (s, interval-aligned).
    pub start: u64,
    /// Duration (s).
    pub duration: u64,
}

/// An operator's split for one AVS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitInfo {
    /// Split before activation.
    pub old_bps: u16,
    /// Split from `activated_at`.
    pub new_bps: u16,
    /// Activation time (s).
    pub activated_at: u64,
}

impl SplitInfo {
    fn at(&self, ts: u64) -> u16 {
        if ts < self.activated_at {
            self.old_bps
        } else {
            self.new_bps
        }
    }
}

/// Coordinator state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardsCoordinator {
    /// Constants.
    pub params: RewardsParams,
    /// Accepted submissions.
    pub submissions: Vec<RewardsSubmission>,
    /// Splits by `<operator>/<avs>`.
    pub splits: BTreeMap<String, SplitInfo>,
    /// Submitters opted in to the protocol fee.
    pub fee_opt_in: BTreeSet<String>,
    /// First day (`ts / 86400`) not yet distributed.
    pub next_day: Option<u64>,
    /// Cumulative earnings: earner → token → amount.
    pub earned: BTreeMap<String, BTreeMap<String, U256>>,
    /// Cumulative claims: earner → token → amount.
    pub claimed: BTreeMap<String, BTreeMap<String, U256>>,
    /// Operator commissions credited: operator → token → amount.
    pub operator_commission: BTreeMap<String, BTreeMap<String, U256>>,
    /// Total credited per token.
    pub distributed: BTreeMap<String, U256>,
    /// Distribution roots submitted and not yet activated, oldest first (at most one per
    /// distributed day inside the activation delay: bounded by `activation_delay / 86,400 + 1`).
    pub pending_roots: Vec<DistributionRoot>,
    /// Cumulative earnings covered by the latest activated root: what claims may draw on.
    pub activated_earned: BTreeMap<String, BTreeMap<String, U256>>,
}

/// A distribution root (`submitRoot`): the cumulative earnings computed up to
/// `rewards_calculation_end`, claimable from `activated_at`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionRoot {
    /// `rewardsCalculationEndTimestamp` (s): the end of the last day it covers.
    pub rewards_calculation_end: u64,
    /// `activatedAt = submission time + activationDelay` (s).
    pub activated_at: u64,
    /// Earner → token → cumulative earnings, for the entries that changed since the previous root.
    pub cumulative: BTreeMap<String, BTreeMap<String, U256>>,
}

fn add_to(map: &mut BTreeMap<String, BTreeMap<String, U256>>, a: &str, b: &str, v: U256) -> Result<(), ElError> {
    let e = map.entry(a.to_string()).or_default().entry(b.to_string()).or_default();
    *e = e.add_c(v)?;
    Ok(())
}

fn get(map: &BTreeMap<String, BTreeMap<String, U256>>, a: &str, b: &str) -> U256 {
    map.get(a).and_then(|m| m.get(b)).copied().unwrap_or(U256::ZERO)
}

/// Folds the roots activated by `now_ts` (oldest first) into the claimable earnings.
fn activate_roots(rc: &mut RewardsCoordinator, now_ts: u64) {
    let due = rc.pending_roots.iter().take_while(|r| now_ts >= r.activated_at).count();
    for root in rc.pending_roots.drain(..due) {
        for (earner, m) in root.cumulative {
            let e = rc.activated_earned.entry(earner).or_default();
            for (token, v) in m {
                e.insert(token, v);
            }
        }
    }
}

impl EigenLayer {
    /// Opts a submitter in or out of the protocol fee.
    pub fn set_protocol_fee_opt_in(&mut self, submitter: &str, opt_in: bool) {
        if opt_in {
            self.rewards.fee_opt_in.insert(submitter.to_string());
        } else {
            self.rewards.fee_opt_in.remove(submitter);
        }
    }

    /// Submits AVS rewards (`createAVSRewardsSubmission`): tokens move from `avs` into
    /// `eigenlayer:rewards` (minus the protocol fee if the AVS opted in). Returns the index.
    ///
    /// Specification (in the contract's order):
    /// - fails with `EmptyStrategies`, `AmountIsZero`, `AmountExceedsMax` (> 1e38 − 1);
    /// - fails with `DurationExceedsMax`, `InvalidDurationRemainder`, `DurationIsZero`;
    /// - fails with `InvalidStartTimestampRemainder`; `StartTimestampTooFarInPast` if
    ///   `start < now − MAX_RETROACTIVE_LENGTH` or before genesis;
    /// - fails with `InvalidStrategy` (unknown or not whitelisted) or `StrategiesNotAscending`;
    /// - fails with `StartTimestampTooFarInFuture` if `start > now + MAX_FUTURE_LENGTH`;
    /// - fails with `Ledger(..)` if the token is unknown or the AVS lacks the amount.
    // `u64::is_multiple_of` needs Rust 1.87; the workspace MSRV is 1.85.
    #[allow(clippy::too_many_arguments, clippy::manual_is_multiple_of)]
    pub fn create_avs_rewards_submission(
        &mut self,
        ledger: &mut Ledger,
        avs: &str,
        token: &str,
        amount: U256,
        strategies: &[(String, U256)],
        start: u64,
        duration: u64,
        now_ts: u64,
    ) -> Result<(u64, Vec<ElEvent>), ElError> {
        let p = &self.rewards.params;
        if strategies.is_empty() {
            return Err(ElError::EmptyStrategies);
        }
        if amount == U256::ZERO {
            return Err(ElError::AmountIsZero);
        }
        if amount > MAX_TOTAL_SHARES {
            return Err(ElError::AmountExceedsMax { amount });
        }
        if duration > p.max_rewards_duration {
            return Err(ElError::DurationExceedsMax {
                duration,
                max: p.max_rewards_duration,
            });
        }
        if duration % p.calculation_interval != 0 {
            return Err(ElError::InvalidDurationRemainder { duration });
        }
        if duration == 0 {
            return Err(ElError::DurationIsZero);
        }
        if start % p.calculation_interval != 0 {
            return Err(ElError::InvalidStartTimestampRemainder { start });
        }
        if now_ts.saturating_sub(p.max_retroactive_length) > start || start < p.genesis_rewards_timestamp {
            return Err(ElError::StartTimestampTooFarInPast { start });
        }
        for (i, (s, _)) in strategies.iter().enumerate() {
            let ok = s == super::BEACON_STRATEGY || self.strategies.get(s).map(|st| st.whitelisted).unwrap_or(false);
            if !ok {
                return Err(ElError::InvalidStrategy { strategy: s.clone() });
            }
            if i > 0 && strategies[i - 1].0 >= *s {
                return Err(ElError::StrategiesNotAscending { strategy: s.clone() });
            }
        }
        if start > now_ts.saturating_add(p.max_future_length) {
            return Err(ElError::StartTimestampTooFarInFuture { start });
        }
        let fee = if self.rewards.fee_opt_in.contains(avs) {
            bps_mul_down(amount, U256::from(p.protocol_fee_bps))?
        } else {
            U256::ZERO
        };
        let net = amount - fee;
        let asset = ledger.asset(token)?;
        let from = ledger.find_account(avs)?;
        ledger.require(from, asset, amount)?;
        let fee_recipient = p.fee_recipient.clone();
        ledger.atomic(|l| {
            let pool = l.account(REWARDS_ACCOUNT);
            l.transfer(from, pool, asset, net)?;
            if fee != U256::ZERO {
                let fr = l.account(&fee_recipient);
                l.transfer(from, fr, asset, fee)?;
            }
            Ok::<(), ElError>(())
        })?;
        let index = self.rewards.submissions.len() as u64;
        self.rewards.submissions.push(RewardsSubmission {
            avs: avs.to_string(),
            token: token.to_string(),
            amount: net,
            strategies: strategies.to_vec(),
            start,
            duration,
        });
        Ok((
            index,
            vec![ElEvent::RewardsSubmissionCreated {
                index,
                avs: avs.to_string(),
                token: token.to_string(),
                amount: net,
                fee,
            }],
        ))
    }

    /// Operator split for an AVS at time `ts` (default 10 %).
    pub fn operator_avs_split(&self, operator: &str, avs: &str, ts: u64) -> u16 {
        self.rewards
            .splits
            .get(&format!("{operator}/{avs}"))
            .map(|s| s.at(ts))
            .unwrap_or(self.rewards.params.default_split_bps)
    }

    /// Sets an operator's split for an AVS (`setOperatorAVSSplit`), active after the activation delay.
    ///
    /// Specification:
    /// - fails with `NotOperator`, `SplitExceedsMax` (> 10,000 bps);
    /// - fails with `PreviousSplitPending` if an earlier change has not activated yet.
    pub fn set_operator_avs_split(
        &mut self,
        operator: &str,
        avs: &str,
        split_bps: u16,
        now_ts: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        if !self.is_operator(operator) {
            return Err(ElError::NotOperator {
                account: operator.to_string(),
            });
        }
        if split_bps > 10_000 {
            return Err(ElError::SplitExceedsMax { split_bps });
        }
        let key = format!("{operator}/{avs}");
        if let Some(cur) = self.rewards.splits.get(&key) {
            if now_ts <= cur.activated_at {
                return Err(ElError::PreviousSplitPending {
                    activated_at: cur.activated_at,
                });
            }
        }
        let old = self.operator_avs_split(operator, avs, now_ts);
        let activated_at = now_ts + self.rewards.params.activation_delay;
        self.rewards.splits.insert(
            key,
            SplitInfo {
                old_bps: old,
                new_bps: split_bps,
                activated_at,
            },
        );
        Ok(vec![ElEvent::OperatorAvsSplitSet {
            operator: operator.to_string(),
            avs: avs.to_string(),
            split_bps,
            activated_at,
        }])
    }

    /// Distributes every complete day up to `now_ts`, as the rewards sidecar does: for each
    /// submission active on day `d` (its `i`-th of `D` days), the day's amount is
    /// `⌊amount·(i+1)/D⌋ − ⌊amount·i/D⌋`; it goes to the stakers delegated to operators
    /// registered with the AVS, pro rata to `Σ multiplier·withdrawableShares` (rounded down);
    /// each staker's gross is split `⌊gross·split/1e4⌋` to the operator and the rest to the staker.
    /// Days with no eligible stake leave their amount in the coordinator. State is read at the
    /// call: the engine calls this daily.
    ///
    /// Specification:
    /// - fails only on arithmetic overflow (nothing changes then).
    pub fn distribute(&mut self, now_ts: u64) -> Result<Vec<ElEvent>, ElError> {
        let end_day = now_ts / DAY_SECONDS; // days < end_day are complete
        let first = match self.rewards.next_day {
            Some(d) => d,
            None => match self.rewards.submissions.iter().map(|s| s.start / DAY_SECONDS).min() {
                Some(d) => d,
                None => return Ok(Vec::new()),
            },
        };
        let mut rc = self.rewards.clone();
        let mut events = Vec::new();
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        for day in first..end_day {
            let ts = day * DAY_SECONDS;
            let mut day_total = U256::ZERO;
            for sub in &self.rewards.submissions {
                if ts < sub.start || ts >= sub.start + sub.duration {
                    continue;
                }
                let days = U256::from(sub.duration / DAY_SECONDS);
                let i = U256::from((ts - sub.start) / DAY_SECONDS);
                let day_amount = mul_div_down(sub.amount, i + 1, days)?.sub_c(mul_div_down(sub.amount, i, days)?)?;
                // Eligible operators: members of any set of the AVS.
                let ops: BTreeSet<&String> = self
                    .operator_sets
                    .values()
                    .filter(|s| s.avs == sub.avs)
                    .flat_map(|s| s.members.iter())
                    .collect();
                let mut weights: Vec<(&String, &String, U256)> = Vec::new();
                let mut total_w = U256::ZERO;
                for op in ops {
                    let Some(dels) = self.delegators.get(op) else {
                        continue;
                    };
                    for staker in dels {
                        let mut wgt = U256::ZERO;
                        for (s, mult) in &sub.strategies {
                            let sh = self.withdrawable_shares(staker, s)?;
                            wgt = wgt.add_c(sh.mul_c(*mult)?)?;
                        }
                        if wgt != U256::ZERO {
                            total_w = total_w.add_c(wgt)?;
                            weights.push((op, staker, wgt));
                        }
                    }
                }
                if total_w == U256::ZERO {
                    continue;
                }
                for (op, staker, wgt) in weights {
                    let gross = mul_div_down(day_amount, wgt, total_w)?;
                    let split = self.operator_avs_split(op, &sub.avs, ts);
                    let op_cut = bps_mul_down(gross, U256::from(split))?;
                    add_to(&mut rc.earned, op, &sub.token, op_cut)?;
                    add_to(&mut rc.operator_commission, op, &sub.token, op_cut)?;
                    add_to(&mut rc.earned, staker, &sub.token, gross - op_cut)?;
                    touched.insert((op.to_string(), sub.token.clone()));
                    touched.insert((staker.to_string(), sub.token.clone()));
                    let d = rc.distributed.entry(sub.token.clone()).or_default();
                    *d = d.add_c(gross)?;
                    day_total = day_total.add_c(gross)?;
                }
            }
            events.push(ElEvent::RewardsDistributed { day, total: day_total });
        }
        rc.next_day = Some(end_day.max(first));
        // Specification (`RewardsCoordinator.submitRoot`): the rewards updater posts a root for
        // the days just computed (`rewardsCalculationEndTimestamp < block.timestamp`, strictly
        // after the previous one) with `activatedAt = block.timestamp + activationDelay`; claims
        // against it revert with `RootNotActivated` until then (`_checkClaim`:
        // `block.timestamp >= root.activatedAt`).
        if end_day > first {
            let mut cumulative: BTreeMap<String, BTreeMap<String, U256>> = BTreeMap::new();
            for (earner, token) in touched {
                let v = get(&rc.earned, &earner, &token);
                cumulative.entry(earner).or_default().insert(token, v);
            }
            let activated_at = now_ts
                .checked_add(rc.params.activation_delay)
                .ok_or(MathError::Overflow)?;
            let rewards_calculation_end = end_day.checked_mul(DAY_SECONDS).ok_or(MathError::Overflow)?;
            events.push(ElEvent::DistributionRootSubmitted {
                rewards_calculation_end,
                activated_at,
            });
            rc.pending_roots.push(DistributionRoot {
                rewards_calculation_end,
                activated_at,
                cumulative,
            });
        }
        activate_roots(&mut rc, now_ts);
        self.rewards = rc;
        Ok(events)
    }

    /// Rewards claimable at `now_ts`: cumulative earnings under the latest root activated by
    /// then, minus what was claimed.
    pub fn claimable(&self, earner: &str, token: &str, now_ts: u64) -> U256 {
        let activated = self
            .rewards
            .pending_roots
            .iter()
            .rev()
            .filter(|r| now_ts >= r.activated_at)
            .find_map(|r| r.cumulative.get(earner).and_then(|m| m.get(token)).copied())
            .unwrap_or_else(|| get(&self.rewards.activated_earned, earner, token));
        activated.saturating_sub(get(&self.rewards.claimed, earner, token))
    }

    /// Rewards earned (distributed) and not yet claimable or claimed, whatever the roots.
    pub fn earned_unclaimed(&self, earner: &str, token: &str) -> U256 {
        get(&self.rewards.earned, earner, token).saturating_sub(get(&self.rewards.claimed, earner, token))
    }

    /// Claims the cumulative earnings of the latest root activated by `now_ts`, minus what was
    /// claimed (`processClaim`).
    ///
    /// Specification:
    /// - fails with `RootNotActivated` if nothing is claimable yet but a root submitted since
    ///   holds earnings (`_checkClaim`: `block.timestamp >= root.activatedAt`);
    /// - fails with `NothingToClaim` if nothing is claimable;
    /// - fails with `Ledger(..)` if the token is unknown.
    pub fn claim(
        &mut self,
        ledger: &mut Ledger,
        earner: &str,
        token: &str,
        now_ts: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let amount = self.claimable(earner, token, now_ts);
        if amount == U256::ZERO {
            if self.earned_unclaimed(earner, token) != U256::ZERO {
                let activated_at = self
                    .rewards
                    .pending_roots
                    .iter()
                    .find(|r| r.cumulative.get(earner).and_then(|m| m.get(token)).is_some())
                    .map(|r| r.activated_at)
                    .unwrap_or(now_ts);
                return Err(ElError::RootNotActivated {
                    earner: earner.to_string(),
                    token: token.to_string(),
                    activated_at,
                    now: now_ts,
                });
            }
            return Err(ElError::NothingToClaim {
                earner: earner.to_string(),
                token: token.to_string(),
            });
        }
        let asset = ledger.asset(token)?;
        let pool = ledger.find_account(REWARDS_ACCOUNT)?;
        ledger.require(pool, asset, amount)?;
        ledger.atomic(|l| {
            let to = l.account(earner);
            l.transfer(pool, to, asset, amount).map_err(ElError::from)
        })?;
        activate_roots(&mut self.rewards, now_ts);
        let total = get(&self.rewards.activated_earned, earner, token);
        self.rewards
            .claimed
            .entry(earner.to_string())
            .or_default()
            .insert(token.to_string(), total);
        Ok(vec![ElEvent::RewardsClaimed {
            earner: earner.to_string(),
            token: token.to_string(),
            amount,
        }])
    }

    /// Checks the coordinator's backing: per token, the rewards account holds at least the
    /// unclaimed earnings.
    pub(crate) fn check_rewards(&self, ledger: &Ledger) -> Result<(), String> {
        let mut owed: BTreeMap<&String, U256> = BTreeMap::new();
        for (earner, m) in &self.rewards.earned {
            for (token, v) in m {
                let c = get(&self.rewards.claimed, earner, token);
                if c > *v {
                    return Err(format!("rewards: {earner} claimed {c} > earned {v} {token}"));
                }
                let e = owed.entry(token).or_default();
                *e = e.saturating_add(*v - c);
            }
        }
        for (token, o) in owed {
            let bal = match (ledger.asset(token), ledger.find_account(REWARDS_ACCOUNT)) {
                (Ok(a), Ok(acc)) => ledger.balance(acc, a),
                _ => U256::ZERO,
            };
            if bal < o {
                return Err(format!("rewards: coordinator holds {bal} {token} but owes {o}"));
            }
        }
        Ok(())
    }
}
