//! Pure Ethereum consensus-economics functions (SPEC §3.1), transcribed from
//! `ethereum/consensus-specs` (Altair → Electra). All amounts are in gwei (`u64`, the spec's
//! `Gwei`); products that can exceed `u64` are taken in `u128`. Every division rounds down, as
//! the spec's `//` does. Overflow is a [`MathError`], never a wrap.

use stake_math::{MathError, MathResult};

/// Seconds per slot.
pub const SECONDS_PER_SLOT: u64 = 12;
/// Slots per epoch.
pub const SLOTS_PER_EPOCH: u64 = 32;
/// Seconds per epoch (32 × 12 = 384).
pub const EPOCH_SECONDS: u64 = SECONDS_PER_SLOT * SLOTS_PER_EPOCH;
/// Epochs in a 365-day year (31,536,000 / 384 = 82,125 exactly).
pub const EPOCHS_PER_YEAR: u64 = 31_536_000 / EPOCH_SECONDS;
/// Gwei per ETH; also `EFFECTIVE_BALANCE_INCREMENT`.
pub const GWEI_PER_ETH: u64 = 1_000_000_000;
/// `EFFECTIVE_BALANCE_INCREMENT` (1 ETH).
pub const EFFECTIVE_BALANCE_INCREMENT: u64 = GWEI_PER_ETH;
/// Wei per gwei.
pub const WEI_PER_GWEI: u64 = 1_000_000_000;
/// `MIN_ACTIVATION_BALANCE` (32 ETH) — also the max effective balance of 0x01 validators.
pub const MIN_ACTIVATION_BALANCE: u64 = 32 * GWEI_PER_ETH;
/// `MAX_EFFECTIVE_BALANCE_ELECTRA` (2048 ETH) for 0x02 compounding validators.
pub const MAX_EFFECTIVE_BALANCE_ELECTRA: u64 = 2048 * GWEI_PER_ETH;
/// `EJECTION_BALANCE` (16 ETH).
pub const EJECTION_BALANCE: u64 = 16 * GWEI_PER_ETH;
/// `BASE_REWARD_FACTOR`.
pub const BASE_REWARD_FACTOR: u64 = 64;
/// `TIMELY_SOURCE_WEIGHT`.
pub const TIMELY_SOURCE_WEIGHT: u64 = 14;
/// `TIMELY_TARGET_WEIGHT`.
pub const TIMELY_TARGET_WEIGHT: u64 = 26;
/// `TIMELY_HEAD_WEIGHT`.
pub const TIMELY_HEAD_WEIGHT: u64 = 14;
/// `SYNC_REWARD_WEIGHT`.
pub const SYNC_REWARD_WEIGHT: u64 = 2;
/// `PROPOSER_WEIGHT`.
pub const PROPOSER_WEIGHT: u64 = 8;
/// `WEIGHT_DENOMINATOR`.
pub const WEIGHT_DENOMINATOR: u64 = 64;
/// `INACTIVITY_SCORE_BIAS`.
pub const INACTIVITY_SCORE_BIAS: u64 = 4;
/// `INACTIVITY_SCORE_RECOVERY_RATE`.
pub const INACTIVITY_SCORE_RECOVERY_RATE: u64 = 16;
/// `INACTIVITY_PENALTY_QUOTIENT_BELLATRIX` (2^24).
pub const INACTIVITY_PENALTY_QUOTIENT_BELLATRIX: u64 = 1 << 24;
/// `MIN_EPOCHS_TO_INACTIVITY_PENALTY`.
pub const MIN_EPOCHS_TO_INACTIVITY_PENALTY: u64 = 4;
/// `EPOCHS_PER_SLASHINGS_VECTOR`.
pub const EPOCHS_PER_SLASHINGS_VECTOR: u64 = 8192;
/// `PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX`.
pub const PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX: u64 = 3;
/// `MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA`.
pub const MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA: u64 = 4096;
/// `MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX` (pre-Electra).
pub const MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX: u64 = 32;
/// `WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA`.
pub const WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA: u64 = 4096;
/// `WHISTLEBLOWER_REWARD_QUOTIENT` (pre-Electra).
pub const WHISTLEBLOWER_REWARD_QUOTIENT: u64 = 512;
/// `MAX_SEED_LOOKAHEAD`.
pub const MAX_SEED_LOOKAHEAD: u64 = 4;
/// `MIN_VALIDATOR_WITHDRAWABILITY_DELAY`.
pub const MIN_VALIDATOR_WITHDRAWABILITY_DELAY: u64 = 256;
/// `SHARD_COMMITTEE_PERIOD`: epochs a validator must have been active before it may exit.
pub const SHARD_COMMITTEE_PERIOD: u64 = 256;
/// `MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA` (128 ETH).
pub const MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA: u64 = 128 * GWEI_PER_ETH;
/// `MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT` (256 ETH).
pub const MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT: u64 = 256 * GWEI_PER_ETH;
/// `CHURN_LIMIT_QUOTIENT`.
pub const CHURN_LIMIT_QUOTIENT: u64 = 65_536;
/// `MAX_PENDING_DEPOSITS_PER_EPOCH`.
pub const MAX_PENDING_DEPOSITS_PER_EPOCH: u64 = 16;
/// `MAX_WITHDRAWALS_PER_PAYLOAD`.
pub const MAX_WITHDRAWALS_PER_PAYLOAD: u64 = 16;
/// `MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP`.
pub const MAX_VALIDATORS_PER_WITHDRAWALS_SWEEP: u64 = 16_384;
/// `HYSTERESIS_QUOTIENT`.
pub const HYSTERESIS_QUOTIENT: u64 = 4;
/// `HYSTERESIS_DOWNWARD_MULTIPLIER`.
pub const HYSTERESIS_DOWNWARD_MULTIPLIER: u64 = 1;
/// `HYSTERESIS_UPWARD_MULTIPLIER`.
pub const HYSTERESIS_UPWARD_MULTIPLIER: u64 = 5;
/// `FAR_FUTURE_EPOCH`.
pub const FAR_FUTURE_EPOCH: u64 = u64::MAX;

fn to_u64(v: u128) -> MathResult<u64> {
    u64::try_from(v).map_err(|_| MathError::Overflow)
}

/// `get_total_active_balance` floors at one increment; every function below does the same so a
/// zero total can never divide by zero.
fn floor_tab(total_active_balance_gwei: u64) -> u64 {
    total_active_balance_gwei.max(EFFECTIVE_BALANCE_INCREMENT)
}

/// `get_base_reward_per_increment = EFFECTIVE_BALANCE_INCREMENT · BASE_REWARD_FACTOR //
/// integer_squareroot(total_active_balance)`. 357 at 32 M ETH (SPEC §14).
pub fn base_reward_per_increment(total_active_balance_gwei: u64) -> u64 {
    let root = stake_math::isqrt_u64(floor_tab(total_active_balance_gwei));
    // root ≥ isqrt(1e9) = 31,622 > 0.
    (EFFECTIVE_BALANCE_INCREMENT * BASE_REWARD_FACTOR) / root.max(1)
}

/// `get_base_reward = (effective_balance // EFFECTIVE_BALANCE_INCREMENT) · base_reward_per_increment`.
pub fn base_reward(effective_balance_gwei: u64, total_active_balance_gwei: u64) -> MathResult<u64> {
    let increments = effective_balance_gwei / EFFECTIVE_BALANCE_INCREMENT;
    increments
        .checked_mul(base_reward_per_increment(total_active_balance_gwei))
        .ok_or(MathError::Overflow)
}

/// `get_base_reward` with the per-increment value already computed (once per epoch: it only
/// depends on the total active balance). Equal to [`base_reward`].
pub fn base_reward_with(effective_balance_gwei: u64, base_reward_per_increment: u64) -> MathResult<u64> {
    (effective_balance_gwei / EFFECTIVE_BALANCE_INCREMENT)
        .checked_mul(base_reward_per_increment)
        .ok_or(MathError::Overflow)
}

/// Participation-flag reward of one participating validator (Altair `get_flag_index_deltas`):
/// `base_reward · weight · participating_increments // (active_increments · WEIGHT_DENOMINATOR)`.
pub fn flag_reward(
    base_reward_gwei: u64,
    weight: u64,
    participating_increments: u64,
    active_increments: u64,
) -> MathResult<u64> {
    let num = (base_reward_gwei as u128) * (weight as u128) * (participating_increments as u128);
    let den = (active_increments.max(1) as u128) * (WEIGHT_DENOMINATOR as u128);
    to_u64(num / den)
}

/// Penalty of a validator that missed a source or target vote: `base_reward · weight // 64`.
pub fn flag_penalty(base_reward_gwei: u64, weight: u64) -> MathResult<u64> {
    to_u64((base_reward_gwei as u128) * (weight as u128) / WEIGHT_DENOMINATOR as u128)
}

/// Inactivity penalty of one validator that missed the target (Bellatrix
/// `get_inactivity_penalty_deltas`): `eb · score // (INACTIVITY_SCORE_BIAS · 2^24)`.
pub fn inactivity_penalty(effective_balance_gwei: u64, inactivity_score: u64) -> MathResult<u64> {
    let num = (effective_balance_gwei as u128) * (inactivity_score as u128);
    to_u64(num / (INACTIVITY_SCORE_BIAS as u128 * INACTIVITY_PENALTY_QUOTIENT_BELLATRIX as u128))
}

/// One epoch of `process_inactivity_updates` for one validator.
/// `participated_target`: the validator is unslashed and had a timely target vote.
pub fn next_inactivity_score(score: u64, participated_target: bool, in_leak: bool) -> MathResult<u64> {
    let mut s = if participated_target {
        score - score.min(1)
    } else {
        score.checked_add(INACTIVITY_SCORE_BIAS).ok_or(MathError::Overflow)?
    };
    if !in_leak {
        s -= s.min(INACTIVITY_SCORE_RECOVERY_RATE);
    }
    Ok(s)
}

/// Initial slashing penalty (Electra `slash_validator`): `eb // 4096`; 7,812,500 gwei for 32 ETH.
pub fn initial_slashing_penalty(effective_balance_gwei: u64) -> u64 {
    effective_balance_gwei / MIN_SLASHING_PENALTY_QUOTIENT_ELECTRA
}

/// Pre-Electra (Bellatrix … Deneb) initial slashing penalty: `eb // 32`.
pub fn initial_slashing_penalty_pre_electra(effective_balance_gwei: u64) -> u64 {
    effective_balance_gwei / MIN_SLASHING_PENALTY_QUOTIENT_BELLATRIX
}

/// Whistleblower reward (Electra): `eb // 4096`; the proposer keeps `reward · 8 // 64` of it when
/// it is not itself the whistleblower. Returns `(whistleblower_reward, proposer_share)`.
pub fn whistleblower_reward(effective_balance_gwei: u64) -> (u64, u64) {
    let w = effective_balance_gwei / WHISTLEBLOWER_REWARD_QUOTIENT_ELECTRA;
    (w, w * PROPOSER_WEIGHT / WEIGHT_DENOMINATOR)
}

/// Pre-Electra whistleblower reward `eb // 512` and the proposer's share of it.
pub fn whistleblower_reward_pre_electra(effective_balance_gwei: u64) -> (u64, u64) {
    let w = effective_balance_gwei / WHISTLEBLOWER_REWARD_QUOTIENT;
    (w, w * PROPOSER_WEIGHT / WEIGHT_DENOMINATOR)
}

/// Electra `process_slashings` correlation penalty of one slashed validator:
/// `adjusted = min(Σ slashings · 3, TAB)`; `per_increment = adjusted // (TAB // increment)`;
/// `penalty = per_increment · (eb // increment)`.
pub fn correlation_penalty(
    effective_balance_gwei: u64,
    total_slashings_gwei: u64,
    total_active_balance_gwei: u64,
) -> MathResult<u64> {
    let tab = floor_tab(total_active_balance_gwei) as u128;
    let adjusted = ((total_slashings_gwei as u128) * PROPORTIONAL_SLASHING_MULTIPLIER_BELLATRIX as u128).min(tab);
    let per_increment = adjusted / (tab / EFFECTIVE_BALANCE_INCREMENT as u128);
    to_u64(per_increment * (effective_balance_gwei / EFFECTIVE_BALANCE_INCREMENT) as u128)
}

/// Electra `get_balance_churn_limit`: `max(128 ETH, TAB // 65536)` rounded down to 1 ETH.
pub fn balance_churn_limit(total_active_balance_gwei: u64) -> u64 {
    let churn = MIN_PER_EPOCH_CHURN_LIMIT_ELECTRA.max(total_active_balance_gwei / CHURN_LIMIT_QUOTIENT);
    churn - churn % EFFECTIVE_BALANCE_INCREMENT
}

/// Electra `get_activation_exit_churn_limit`: `min(256 ETH, balance_churn_limit)`.
pub fn activation_exit_churn_limit(total_active_balance_gwei: u64) -> u64 {
    MAX_PER_EPOCH_ACTIVATION_EXIT_CHURN_LIMIT.min(balance_churn_limit(total_active_balance_gwei))
}

/// `compute_activation_exit_epoch(epoch) = epoch + 1 + MAX_SEED_LOOKAHEAD`.
pub fn compute_activation_exit_epoch(epoch: u64) -> MathResult<u64> {
    epoch.checked_add(1 + MAX_SEED_LOOKAHEAD).ok_or(MathError::Overflow)
}

/// Ideal issuance APR in parts per million for a given total active balance: one full base reward
/// per increment per epoch (all five weights, 64/64), over 82,125 epochs:
/// `base_reward_per_increment · 82,125 · 1e6 // 1e9`. 29,318 ppm (2.93 %) at 32 M ETH,
/// 28,497 ppm (2.85 %) at 34 M ETH.
pub fn ideal_issuance_apr_ppm(total_active_balance_gwei: u64) -> u64 {
    base_reward_per_increment(total_active_balance_gwei) * EPOCHS_PER_YEAR * 1_000_000 / GWEI_PER_ETH
}

/// Electra `process_effective_balance_updates` for one validator (hysteresis −0.25 / +1.25 ETH).
pub fn updated_effective_balance(
    balance_gwei: u64,
    effective_balance_gwei: u64,
    max_effective_balance_gwei: u64,
) -> u64 {
    let hysteresis_increment = EFFECTIVE_BALANCE_INCREMENT / HYSTERESIS_QUOTIENT;
    let downward = hysteresis_increment * HYSTERESIS_DOWNWARD_MULTIPLIER;
    let upward = hysteresis_increment * HYSTERESIS_UPWARD_MULTIPLIER;
    if balance_gwei.saturating_add(downward) < effective_balance_gwei
        || effective_balance_gwei.saturating_add(upward) < balance_gwei
    {
        (balance_gwei - balance_gwei % EFFECTIVE_BALANCE_INCREMENT).min(max_effective_balance_gwei)
    } else {
        effective_balance_gwei
    }
}

/// Execution-layer reward of one validator for one epoch, in wei:
/// `eb · 1e9 · apr_ppm · 384 // (1e6 · 31,536,000)` (rounded down).
pub fn el_reward_per_epoch_wei(effective_balance_gwei: u64, apr_ppm: u64) -> u128 {
    (effective_balance_gwei as u128) * (WEI_PER_GWEI as u128) * (apr_ppm as u128) * (EPOCH_SECONDS as u128)
        / (1_000_000u128 * 31_536_000u128)
}

/// The Electra exit churn state (`earliest_exit_epoch`, `exit_balance_to_consume`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExitChurn {
    /// `state.earliest_exit_epoch`.
    pub earliest_exit_epoch: u64,
    /// `state.exit_balance_to_consume`.
    pub exit_balance_to_consume: u64,
}

impl ExitChurn {
    /// `compute_exit_epoch_and_update_churn` for one exit of `exit_balance_gwei` at `current_epoch`
    /// with per-epoch churn `per_epoch_churn_gwei`; returns the exit epoch.
    pub fn compute_exit_epoch(
        &mut self,
        current_epoch: u64,
        exit_balance_gwei: u64,
        per_epoch_churn_gwei: u64,
    ) -> MathResult<u64> {
        let mut v = self.exit_epochs(current_epoch, exit_balance_gwei, 1, per_epoch_churn_gwei)?;
        v.pop().map(|(e, _)| e).ok_or(MathError::Underflow)
    }

    /// `compute_exit_epoch_and_update_churn` applied to `count` identical validators of effective
    /// balance `eb_gwei`, one after another, as `(exit_epoch, how_many)` runs in epoch order.
    /// Exactly equal to `count` sequential calls; costs one step per distinct exit epoch.
    pub fn exit_epochs(
        &mut self,
        current_epoch: u64,
        eb_gwei: u64,
        count: u64,
        per_epoch_churn_gwei: u64,
    ) -> MathResult<Vec<(u64, u64)>> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        if count == 0 {
            return Ok(out);
        }
        if per_epoch_churn_gwei == 0 {
            return Err(MathError::DivisionByZero);
        }
        let earliest = self
            .earliest_exit_epoch
            .max(compute_activation_exit_epoch(current_epoch)?);
        let mut consume = if self.earliest_exit_epoch < earliest {
            per_epoch_churn_gwei
        } else {
            self.exit_balance_to_consume
        };
        let mut epoch = earliest;
        let mut remaining = count;
        let push = |out: &mut Vec<(u64, u64)>, e: u64, n: u64| match out.last_mut() {
            Some((le, ln)) if *le == e => *ln += n,
            _ => out.push((e, n)),
        };
        while remaining > 0 {
            // Validators that fit in the current epoch's remaining churn.
            let fit = consume.checked_div(eb_gwei).map_or(remaining, |f| remaining.min(f));
            if fit > 0 {
                push(&mut out, epoch, fit);
                consume -= fit * eb_gwei;
                remaining -= fit;
                continue;
            }
            // The next validator does not fit: move the earliest exit epoch forward.
            let to_process = eb_gwei - consume;
            let additional = (to_process - 1) / per_epoch_churn_gwei + 1;
            epoch = epoch.checked_add(additional).ok_or(MathError::Overflow)?;
            consume = additional
                .checked_mul(per_epoch_churn_gwei)
                .and_then(|x| x.checked_add(consume))
                .ok_or(MathError::Overflow)?;
            consume -= eb_gwei;
            push(&mut out, epoch, 1);
            remaining -= 1;
        }
        self.earliest_exit_epoch = epoch;
        self.exit_balance_to_consume = consume;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_exit_epochs_equal_sequential_calls() {
        for (eb, count, churn) in [(32u64, 100u64, 256u64), (2048, 7, 256), (32, 31, 128), (31, 50, 256)] {
            let eb = eb * GWEI_PER_ETH;
            let churn = churn * GWEI_PER_ETH;
            let mut a = ExitChurn {
                earliest_exit_epoch: 7,
                exit_balance_to_consume: 5 * GWEI_PER_ETH,
            };
            let mut b = a;
            let batched = a.exit_epochs(3, eb, count, churn).unwrap();
            let mut seq: Vec<(u64, u64)> = Vec::new();
            for _ in 0..count {
                let e = b.compute_exit_epoch(3, eb, churn).unwrap();
                match seq.last_mut() {
                    Some((le, n)) if *le == e => *n += 1,
                    _ => seq.push((e, 1)),
                }
            }
            assert_eq!(batched, seq);
            assert_eq!(a, b);
        }
    }
}
