//! `AllocationManager`: operator sets, registrations, magnitudes and `slashOperator`.

use super::math::{
    calc_slashed_amount, div_wad, mul_wad, mul_wad_round_up, slash_magnitude, slashable_shares_in_queue,
    strategy_amount_for_shares, WAD_U64,
};
use super::strategies::{advance_index, max_mag};
use super::{
    set_key, strategy_account_name, Allocation, EigenLayer, ElError, ElEvent, Operator, OperatorSet, BEACON_STRATEGY,
    BURN_ACCOUNT,
};
use stake_ledger::Ledger;
use stake_math::{Checked, MathError, U256, WAD};

/// `_addInt128(a, b)` with checks.
fn add_i128(a: u64, b: i128) -> Result<u64, MathError> {
    let r = i128::from(a).checked_add(b).ok_or(MathError::Overflow)?;
    u64::try_from(r).map_err(|_| {
        if r < 0 {
            MathError::Underflow
        } else {
            MathError::Overflow
        }
    })
}

/// Effective allocation delay at `block` (`getAllocationDelay`).
pub(crate) fn effective_delay(op: &Operator, block: u64) -> Option<u64> {
    let d = &op.delay;
    if d.effect_block != 0 && block >= d.effect_block {
        return Some(d.pending);
    }
    d.is_set.then_some(d.delay)
}

/// `_getUpdatedAllocation`: the allocation and encumbered magnitude as if a due pending change
/// had been applied.
pub(crate) fn updated_allocation(
    op: &Operator,
    strategy: &str,
    key: &str,
    block: u64,
) -> Result<(u64, Allocation), ElError> {
    let mut enc = op.encumbered.get(strategy).copied().unwrap_or(0);
    let mut a = op
        .allocations
        .get(strategy)
        .and_then(|m| m.get(key))
        .copied()
        .unwrap_or_default();
    if block < a.effect_block {
        return Ok((enc, a));
    }
    a.current = add_i128(a.current, a.pending_diff)?;
    if a.pending_diff < 0 {
        enc = add_i128(enc, a.pending_diff)?;
    }
    a.effect_block = 0;
    a.pending_diff = 0;
    Ok((enc, a))
}

fn store_allocation(op: &mut Operator, strategy: &str, key: &str, enc: u64, a: Allocation) {
    op.encumbered.insert(strategy.to_string(), enc);
    let m = op.allocations.entry(strategy.to_string()).or_default();
    if a == Allocation::default() {
        m.remove(key);
    } else {
        m.insert(key.to_string(), a);
    }
}

/// `_clearDeallocationQueue`: applies due deallocations (front first) up to `num`.
pub(crate) fn clear_queue(op: &mut Operator, strategy: &str, num: usize, block: u64) -> Result<(), ElError> {
    let mut cleared = 0;
    while cleared < num {
        let Some(key) = op.dealloc_queue.get(strategy).and_then(|q| q.front()).cloned() else {
            break;
        };
        let (enc, a) = updated_allocation(op, strategy, &key, block)?;
        let stored = op
            .allocations
            .get(strategy)
            .and_then(|m| m.get(&key))
            .copied()
            .unwrap_or_default();
        if block < stored.effect_block {
            break;
        }
        store_allocation(op, strategy, &key, enc, a);
        if let Some(q) = op.dealloc_queue.get_mut(strategy) {
            q.pop_front();
            if q.is_empty() {
                op.dealloc_queue.remove(strategy);
            }
        }
        cleared += 1;
    }
    Ok(())
}

/// `_addStrategyToOperatorSet`: "We do not currently support redistributing beaconchain ETH or
/// EIGEN" — `require(strategy != BEACONCHAIN_ETH_STRAT && strategy != eigenStrategy, InvalidStrategy())`
/// when the set is redistributing.
fn check_redistributable(redistributing: bool, strategy: &str) -> Result<(), ElError> {
    if redistributing && (strategy == BEACON_STRATEGY || strategy == super::EIGEN_STRATEGY) {
        return Err(ElError::StrategyNotRedistributable {
            strategy: strategy.to_string(),
        });
    }
    Ok(())
}

/// `isOperatorSlashable`: registered, or deregistered and `block <= slashableUntil`.
///
/// Specification (`AllocationManager.isOperatorSlashable`, eigenlayer-contracts v1.9+):
/// "slashableUntil returns the last block the operator is slashable in so we check for less
/// than or equal to": `status.registered || block.number <= status.slashableUntil`, with
/// `slashableUntil = deregistration block + DEALLOCATION_DELAY`. The operator is slashable in the
/// deregistration block and the `DEALLOCATION_DELAY` blocks after it, and may re-register only
/// from `slashableUntil + 1`.
pub(crate) fn is_registered(op: &Operator, key: &str, block: u64) -> bool {
    op.registrations
        .get(key)
        .map(|r| r.registered || block <= r.slashable_until)
        .unwrap_or(false)
}

impl EigenLayer {
    fn set_ref(&self, avs: &str, id: u32) -> Result<&OperatorSet, ElError> {
        self.operator_sets
            .get(&set_key(avs, id))
            .ok_or(ElError::OperatorSetNotFound {
                avs: avs.to_string(),
                id,
            })
    }

    fn operator_ref(&self, operator: &str) -> Result<&Operator, ElError> {
        self.operators.get(operator).ok_or_else(|| ElError::NotOperator {
            account: operator.to_string(),
        })
    }

    /// Creates operator set `avs#id` (`createOperatorSets` / `createRedistributingOperatorSets`).
    ///
    /// Specification:
    /// - fails with `OperatorSetExists` if it exists;
    /// - fails with `StrategyNotFound` for an unknown strategy (the beacon strategy is allowed);
    /// - fails with `StrategyNotRedistributable` if the set redistributes and holds beacon-chain
    ///   ETH or EIGEN.
    pub fn create_operator_set(
        &mut self,
        avs: &str,
        id: u32,
        strategies: &[String],
        slasher: &str,
        redistribution_recipient: Option<&str>,
    ) -> Result<Vec<ElEvent>, ElError> {
        let key = set_key(avs, id);
        if self.operator_sets.contains_key(&key) {
            return Err(ElError::OperatorSetExists {
                avs: avs.to_string(),
                id,
            });
        }
        for s in strategies {
            if s != BEACON_STRATEGY {
                self.strategy(s)?;
            }
            check_redistributable(redistribution_recipient.is_some(), s)?;
        }
        let mut ev = vec![ElEvent::OperatorSetCreated {
            avs: avs.to_string(),
            id,
        }];
        for s in strategies {
            ev.push(ElEvent::StrategyAddedToOperatorSet {
                set: key.clone(),
                strategy: s.clone(),
            });
        }
        self.operator_sets.insert(
            key,
            OperatorSet {
                avs: avs.to_string(),
                id,
                strategies: strategies.iter().cloned().collect(),
                slasher: slasher.to_string(),
                redistribution_recipient: redistribution_recipient.map(str::to_string),
                ..OperatorSet::default()
            },
        );
        Ok(ev)
    }

    /// Proposes a new slasher for set `avs#id` (`updateSlasher`); it slashes from block
    /// `block + ALLOCATION_CONFIGURATION_DELAY + 1` and the current one until then.
    ///
    /// Specification (`AllocationManager.updateSlasher` / `_updateSlasher`, v1.9+;
    /// `SLASHER_CONFIGURATION_DELAY = ALLOCATION_CONFIGURATION_DELAY`):
    /// - fails with `InvalidCaller` unless the caller is the AVS;
    /// - fails with `OperatorSetNotFound`; with `SlasherEmpty` for an empty slasher;
    /// - a due pending slasher is applied first; proposing the pending slasher again before it
    ///   takes effect changes nothing.
    pub fn update_slasher(
        &mut self,
        caller: &str,
        avs: &str,
        id: u32,
        slasher: &str,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        if caller != avs {
            return Err(ElError::InvalidCaller {
                caller: caller.to_string(),
            });
        }
        self.set_ref(avs, id)?;
        if slasher.is_empty() {
            return Err(ElError::SlasherEmpty);
        }
        let effect_block = block
            .checked_add(self.params.allocation_configuration_delay)
            .and_then(|b| b.checked_add(1))
            .ok_or(MathError::Overflow)?;
        let key = set_key(avs, id);
        let Some(set) = self.operator_sets.get_mut(&key) else {
            return Ok(Vec::new());
        };
        if set.slasher_effect_block != 0 && block >= set.slasher_effect_block {
            set.slasher = std::mem::take(&mut set.pending_slasher);
            set.slasher_effect_block = 0;
        }
        if slasher == set.pending_slasher && block < set.slasher_effect_block {
            return Ok(Vec::new());
        }
        set.pending_slasher = slasher.to_string();
        set.slasher_effect_block = effect_block;
        Ok(vec![ElEvent::SlasherUpdated {
            set: key,
            slasher: slasher.to_string(),
            effect_block,
        }])
    }

    /// Adds strategies to a set (`addStrategiesToOperatorSet`).
    ///
    /// Specification:
    /// - fails with `OperatorSetNotFound`, `StrategyNotFound`, or `StrategyAlreadyInOperatorSet`;
    /// - fails with `StrategyNotRedistributable` for beacon-chain ETH or EIGEN in a redistributing set.
    pub fn add_strategies_to_operator_set(
        &mut self,
        avs: &str,
        id: u32,
        strategies: &[String],
    ) -> Result<Vec<ElEvent>, ElError> {
        let set = self.set_ref(avs, id)?;
        let mut seen = set.strategies.clone();
        for s in strategies {
            if s != BEACON_STRATEGY {
                self.strategy(s)?;
            }
            check_redistributable(set.redistribution_recipient.is_some(), s)?;
            if !seen.insert(s.clone()) {
                return Err(ElError::StrategyAlreadyInOperatorSet { strategy: s.clone() });
            }
        }
        let key = set_key(avs, id);
        if let Some(set) = self.operator_sets.get_mut(&key) {
            set.strategies = seen;
        }
        Ok(strategies
            .iter()
            .map(|s| ElEvent::StrategyAddedToOperatorSet {
                set: key.clone(),
                strategy: s.clone(),
            })
            .collect())
    }

    /// Registers an operator for sets of one AVS (`registerForOperatorSets`).
    ///
    /// Specification:
    /// - fails with `NotOperator`, `OperatorSetNotFound`, or `AlreadyMemberOfSet` (also while
    ///   still slashable after a deregistration).
    pub fn register_for_operator_sets(
        &mut self,
        operator: &str,
        avs: &str,
        ids: &[u32],
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let op = self.operator_ref(operator)?;
        for (i, id) in ids.iter().enumerate() {
            self.set_ref(avs, *id)?;
            if is_registered(op, &set_key(avs, *id), block) || ids[..i].contains(id) {
                return Err(ElError::AlreadyMemberOfSet {
                    operator: operator.to_string(),
                    avs: avs.to_string(),
                    id: *id,
                });
            }
        }
        let mut ev = Vec::new();
        for id in ids {
            let key = set_key(avs, *id);
            if let Some(op) = self.operators.get_mut(operator) {
                let r = op.registrations.entry(key.clone()).or_default();
                r.registered = true;
            }
            if let Some(set) = self.operator_sets.get_mut(&key) {
                set.members.insert(operator.to_string());
            }
            ev.push(ElEvent::OperatorAddedToOperatorSet {
                operator: operator.to_string(),
                set: key,
            });
        }
        Ok(ev)
    }

    /// Deregisters an operator (`deregisterFromOperatorSets`); it stays slashable through block
    /// `block + DEALLOCATION_DELAY` (`slashableUntil`).
    ///
    /// Specification:
    /// - fails with `InvalidCaller` unless the caller is the operator or the AVS;
    /// - fails with `OperatorSetNotFound` or `NotMemberOfSet`.
    pub fn deregister_from_operator_sets(
        &mut self,
        caller: &str,
        operator: &str,
        avs: &str,
        ids: &[u32],
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        if caller != operator && caller != avs {
            return Err(ElError::InvalidCaller {
                caller: caller.to_string(),
            });
        }
        let op = self.operator_ref(operator)?;
        for (i, id) in ids.iter().enumerate() {
            self.set_ref(avs, *id)?;
            let reg = op
                .registrations
                .get(&set_key(avs, *id))
                .map(|r| r.registered)
                .unwrap_or(false);
            if !reg || ids[..i].contains(id) {
                return Err(ElError::NotMemberOfSet {
                    operator: operator.to_string(),
                    avs: avs.to_string(),
                    id: *id,
                });
            }
        }
        // Specification (`deregisterFromOperatorSets`): `slashableUntil: block.number + DEALLOCATION_DELAY`.
        let until = block
            .checked_add(self.params.deallocation_delay)
            .ok_or(MathError::Overflow)?;
        let mut ev = Vec::new();
        for id in ids {
            let key = set_key(avs, *id);
            if let Some(op) = self.operators.get_mut(operator) {
                op.registrations.insert(
                    key.clone(),
                    super::Registration {
                        registered: false,
                        slashable_until: until,
                    },
                );
            }
            if let Some(set) = self.operator_sets.get_mut(&key) {
                set.members.remove(operator);
            }
            ev.push(ElEvent::OperatorRemovedFromOperatorSet {
                operator: operator.to_string(),
                set: key,
                slashable_until: until,
            });
        }
        Ok(ev)
    }

    /// Changes the allocation delay; effective from block `block + ALLOCATION_CONFIGURATION_DELAY + 1`.
    ///
    /// Specification:
    /// - fails with `NotOperator` for a non-operator.
    pub fn set_allocation_delay(&mut self, operator: &str, delay: u64, block: u64) -> Result<Vec<ElEvent>, ElError> {
        // Specification (`AllocationManager._setAllocationDelay`, not newly registered): "Wait
        // the entire configuration delay before the delay takes effect":
        // `effectBlock = block.number + ALLOCATION_CONFIGURATION_DELAY + 1`.
        let effect_block = block
            .checked_add(self.params.allocation_configuration_delay)
            .and_then(|b| b.checked_add(1))
            .ok_or(MathError::Overflow)?;
        let op = self.operators.get_mut(operator).ok_or_else(|| ElError::NotOperator {
            account: operator.to_string(),
        })?;
        let d = &mut op.delay;
        if d.effect_block != 0 && block >= d.effect_block {
            d.delay = d.pending;
            d.is_set = true;
        }
        d.pending = delay;
        d.effect_block = effect_block;
        Ok(vec![ElEvent::AllocationDelaySet {
            operator: operator.to_string(),
            delay,
            effect_block,
        }])
    }

    /// Sets the operator's magnitude for (set, strategy) (`modifyAllocations`, one entry).
    /// Increases take effect at `block + allocation delay`; decreases of a slashable allocation
    /// at `block + DEALLOCATION_DELAY + 1` (slashable through `block + DEALLOCATION_DELAY`),
    /// otherwise at once.
    ///
    /// Specification:
    /// - fails with `NotOperator`, `UninitializedAllocationDelay`, `OperatorSetNotFound`;
    /// - fails with `ModificationAlreadyPending` if a change for (operator, set, strategy) is pending;
    /// - fails with `SameMagnitude` if unchanged;
    /// - fails with `InsufficientMagnitude` if encumbered magnitude would exceed max magnitude.
    pub fn modify_allocation(
        &mut self,
        operator: &str,
        avs: &str,
        id: u32,
        strategy: &str,
        new_magnitude: u64,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let mut op = self.operator_ref(operator)?.clone();
        let Some(delay) = effective_delay(&op, block) else {
            return Err(ElError::UninitializedAllocationDelay {
                operator: operator.to_string(),
            });
        };
        let set = self.set_ref(avs, id)?;
        let key = set_key(avs, id);
        clear_queue(&mut op, strategy, usize::from(u16::MAX), block)?;
        let (mut enc, mut a) = updated_allocation(&op, strategy, &key, block)?;
        if a.pending_diff != 0 {
            return Err(ElError::ModificationAlreadyPending {
                operator: operator.to_string(),
                strategy: strategy.to_string(),
            });
        }
        let slashable = set.strategies.contains(strategy) && is_registered(&op, &key, block) && a.current > 0;
        let diff = i128::from(new_magnitude) - i128::from(a.current);
        if diff == 0 {
            return Err(ElError::SameMagnitude {
                magnitude: new_magnitude,
            });
        }
        if diff < 0 {
            if slashable {
                a.pending_diff = diff;
                // Specification (`AllocationManager.modifyAllocations`): "deallocations are
                // slashable in the window [block.number, block.number + deallocationDelay]
                // therefore, the effectBlock is set to the block right after the slashable
                // window": `effectBlock = block.number + DEALLOCATION_DELAY + 1`.
                a.effect_block = block
                    .checked_add(self.params.deallocation_delay)
                    .and_then(|b| b.checked_add(1))
                    .ok_or(MathError::Overflow)?;
                op.dealloc_queue
                    .entry(strategy.to_string())
                    .or_default()
                    .push_back(key.clone());
            } else {
                enc = add_i128(enc, diff)?;
                a.current = new_magnitude;
                a.pending_diff = 0;
                a.effect_block = 0;
            }
        } else {
            enc = add_i128(enc, diff)?;
            let max = max_mag(&op, strategy);
            if enc > max {
                return Err(ElError::InsufficientMagnitude { encumbered: enc, max });
            }
            a.pending_diff = diff;
            a.effect_block = block + delay;
        }
        store_allocation(&mut op, strategy, &key, enc, a);
        self.operators.insert(operator.to_string(), op);
        Ok(vec![ElEvent::AllocationUpdated {
            operator: operator.to_string(),
            set: key,
            strategy: strategy.to_string(),
            current: a.current,
            pending_diff: a.pending_diff,
            effect_block: a.effect_block,
        }])
    }

    /// Applies up to `num` due deallocations of (operator, strategy) (`clearDeallocationQueue`).
    ///
    /// Specification:
    /// - fails with `NotOperator` for a non-operator.
    pub fn clear_deallocation_queue(
        &mut self,
        operator: &str,
        strategy: &str,
        num: usize,
        block: u64,
    ) -> Result<(), ElError> {
        let mut op = self.operator_ref(operator)?.clone();
        clear_queue(&mut op, strategy, num, block)?;
        self.operators.insert(operator.to_string(), op);
        Ok(())
    }

    /// The operator's allocation to (set, strategy) as of `block` (`getAllocation`).
    pub fn allocation(
        &self,
        operator: &str,
        avs: &str,
        id: u32,
        strategy: &str,
        block: u64,
    ) -> Result<Allocation, ElError> {
        let op = self.operator_ref(operator)?;
        Ok(updated_allocation(op, strategy, &set_key(avs, id), block)?.1)
    }

    /// Encumbered magnitude as stored (`encumberedMagnitude`).
    pub fn encumbered_magnitude(&self, operator: &str, strategy: &str) -> u64 {
        self.operators
            .get(operator)
            .and_then(|op| op.encumbered.get(strategy).copied())
            .unwrap_or(0)
    }

    /// Current max magnitude (`getMaxMagnitude`, WAD by default).
    pub fn max_magnitude(&self, operator: &str, strategy: &str) -> u64 {
        self.operators
            .get(operator)
            .map(|op| max_mag(op, strategy))
            .unwrap_or(WAD_U64)
    }

    /// Slashable (allocated, unique) stake of an operator for (set, strategy):
    /// `mulWad(operatorShares, divWad(current, maxMagnitude))`.
    pub fn allocated_stake(
        &self,
        operator: &str,
        avs: &str,
        id: u32,
        strategy: &str,
        block: u64,
    ) -> Result<U256, ElError> {
        let op = self.operator_ref(operator)?;
        let (_, a) = updated_allocation(op, strategy, &set_key(avs, id), block)?;
        let max = max_mag(op, strategy);
        if max == 0 || a.current == 0 {
            return Ok(U256::ZERO);
        }
        let shares = op.shares.get(strategy).copied().unwrap_or(U256::ZERO);
        Ok(mul_wad(shares, div_wad(U256::from(a.current), U256::from(max))?)?)
    }

    /// Slashes `operator` in set `avs#id` (`slashOperator`). `strategies` lists
    /// `(strategy, wadToSlash)` in strictly ascending strategy order.
    ///
    /// For each strategy with `current > 0`: `slashed = ⌈current·wad/WAD⌉`; current, max and
    /// encumbered magnitude drop by `slashed`; a pending deallocation shrinks by
    /// `⌈|pending|·wad/WAD⌉`; operator shares lose `calcSlashedAmount(shares, prevMax, newMax)`;
    /// the still-slashable queued withdrawals lose
    /// `calcSlashedAmount(mulWad(scaledInWindow, prevMax), prevMax, newMax)`;
    /// the total is burned (tokens to `eigenlayer:burned`) or sent to the redistribution recipient.
    /// Cost is independent of the number of stakers.
    ///
    /// Specification:
    /// - fails with `OperatorSetNotFound`; with `NotSlasher` unless `caller` is the set's slasher
    ///   at `block` ([`OperatorSet::slasher_at`]);
    /// - fails with `NotMemberOfSet` unless the operator is registered (or within its deregistration window);
    /// - fails with `StrategiesNotAscending`, `StrategyNotInOperatorSet`, `InvalidWadToSlash` (wad ∉ (0, WAD]).
    #[allow(clippy::too_many_arguments)]
    pub fn slash_operator(
        &mut self,
        ledger: &mut Ledger,
        caller: &str,
        operator: &str,
        avs: &str,
        id: u32,
        strategies: &[(String, U256)],
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let set = self.set_ref(avs, id)?;
        let slasher = set.slasher_at(block);
        if caller != slasher {
            return Err(ElError::NotSlasher {
                caller: caller.to_string(),
                slasher: slasher.to_string(),
            });
        }
        let key = set_key(avs, id);
        let mut op = match self.operators.get(operator) {
            Some(op) if is_registered(op, &key, block) => op.clone(),
            _ => {
                return Err(ElError::NotMemberOfSet {
                    operator: operator.to_string(),
                    avs: avs.to_string(),
                    id,
                })
            }
        };
        for (i, (s, wad)) in strategies.iter().enumerate() {
            if i > 0 && strategies[i - 1].0 >= *s {
                return Err(ElError::StrategiesNotAscending { strategy: s.clone() });
            }
            if !set.strategies.contains(s) {
                return Err(ElError::StrategyNotInOperatorSet { strategy: s.clone() });
            }
            if *wad == U256::ZERO || *wad > WAD {
                return Err(ElError::InvalidWadToSlash { wad: *wad });
            }
        }
        let recipient = set
            .redistribution_recipient
            .clone()
            .unwrap_or_else(|| BURN_ACCOUNT.to_string());
        let mut names = Vec::new();
        let mut mags = Vec::new();
        let mut op_slashed_all = Vec::new();
        let mut burned_all = Vec::new();
        let mut tokens_all = Vec::new();
        let mut strategy_updates: Vec<(String, U256, U256)> = Vec::new(); // (strategy, new total, slashed add)
        let mut moves: Vec<(String, String, U256)> = Vec::new(); // (from account, token, amount)
        let mut eth_burn = U256::ZERO;
        let mut history_pushes: Vec<(String, u64)> = Vec::new();
        let mut events = Vec::new();
        for (s, wad) in strategies {
            names.push(s.clone());
            let (mut enc, mut a) = updated_allocation(&op, s, &key, block)?;
            if a.current == 0 {
                mags.push(0);
                op_slashed_all.push(U256::ZERO);
                burned_all.push(U256::ZERO);
                tokens_all.push(U256::ZERO);
                continue;
            }
            // Points accrue at the old max magnitude up to this block.
            let vps = self.value_per_share(ledger, s)?;
            let prev_max = max_mag(&op, s);
            let idx = op.points.entry(s.clone()).or_default();
            advance_index(idx, block, U256::from(prev_max), vps)?;

            let slashed = slash_magnitude(a.current, *wad)?;
            let new_max = prev_max.checked_sub(slashed).ok_or(MathError::Underflow)?;
            a.current -= slashed;
            enc = enc.checked_sub(slashed).ok_or(MathError::Underflow)?;
            if a.pending_diff < 0 {
                let sp = mul_wad_round_up(U256::from(a.pending_diff.unsigned_abs()), *wad)?;
                let sp = i128::try_from(sp).map_err(|_| MathError::Overflow)?;
                a.pending_diff += sp;
            }
            store_allocation(&mut op, s, &key, enc, a);
            op.max_magnitude.insert(s.clone(), new_max);
            history_pushes.push((s.clone(), new_max));
            events.push(ElEvent::MaxMagnitudeUpdated {
                operator: operator.to_string(),
                strategy: s.clone(),
                max_magnitude: new_max,
            });

            // DelegationManager.slashOperatorShares
            let shares = op.shares.get(s).copied().unwrap_or(U256::ZERO);
            let op_slashed = calc_slashed_amount(shares, prev_max, new_max)?;
            op.shares.insert(s.clone(), shares.sub_c(op_slashed)?);
            let cur = self.cumulative_scaled_at(operator, s, None);
            let prev = match block.checked_sub(self.params.min_withdrawal_delay + 1) {
                Some(k) => self.cumulative_scaled_at(operator, s, Some(k)),
                None => U256::ZERO,
            };
            let queue_burn = slashable_shares_in_queue(cur.sub_c(prev)?, prev_max, new_max)?;
            let total_burn = op_slashed.add_c(queue_burn)?;
            let e = op.slashed_shares.entry(s.clone()).or_default();
            *e = e.add_c(total_burn)?;

            let mut tokens = U256::ZERO;
            if s == BEACON_STRATEGY {
                eth_burn = eth_burn.add_c(total_burn)?;
            } else if total_burn != U256::ZERO {
                let st = self.strategy(s)?;
                let burn = total_burn.min(st.total_shares);
                let bal = self.strategy_balance(ledger, s)?;
                tokens = strategy_amount_for_shares(burn, st.total_shares, bal)?;
                strategy_updates.push((s.clone(), st.total_shares - burn, burn));
                moves.push((strategy_account_name(&st.token), st.token.clone(), tokens));
            }
            mags.push(slashed);
            op_slashed_all.push(op_slashed);
            burned_all.push(total_burn);
            tokens_all.push(tokens);
        }
        ledger.atomic(|l| {
            let to = l.account(&recipient);
            for (from, token, amt) in &moves {
                if *amt == U256::ZERO {
                    continue;
                }
                let f = l.account(from);
                let asset = l.asset(token)?;
                l.transfer(f, to, asset, *amt)?;
            }
            Ok::<(), ElError>(())
        })?;
        // Commit.
        self.operators.insert(operator.to_string(), op);
        let hist = self.magnitude_history.entry(operator.to_string()).or_default();
        for (s, m) in history_pushes {
            hist.entry(s).or_default().push(block, m);
        }
        self.burnable_eth_shares = self.burnable_eth_shares.add_c(eth_burn)?;
        for (s, total, burned) in &strategy_updates {
            if let Some(st) = self.strategies.get_mut(s) {
                st.total_shares = *total;
                st.slashed_shares = st.slashed_shares.saturating_add(*burned);
            }
        }
        if let Some(set) = self.operator_sets.get_mut(&key) {
            for (i, s) in names.iter().enumerate() {
                let e = set.slashed_shares.entry(s.clone()).or_default();
                *e = e.saturating_add(burned_all[i]);
                let token = if s == BEACON_STRATEGY {
                    self.eth_symbol.clone()
                } else {
                    s.clone()
                };
                let t = set.slashed_tokens.entry(token).or_default();
                *t = t.saturating_add(tokens_all[i]);
            }
        }
        events.push(ElEvent::OperatorSlashed {
            operator: operator.to_string(),
            set: key,
            strategies: names,
            magnitudes_slashed: mags,
            operator_shares_slashed: op_slashed_all,
            shares_burned: burned_all,
            tokens: tokens_all,
        });
        Ok(events)
    }
}
