//! `DelegationManager`: operators, delegation, the slashable withdrawal queue.

use super::math::{
    calc_withdrawable, dsf_update, mul_wad, scale_for_complete_withdrawal, scale_for_queue_withdrawal, slashing_factor,
    strategy_amount_for_shares, WAD_U64,
};
use super::strategies::{max_mag, Work};
use super::{
    pod_account_name, strategy_account_name, AllocationDelay, EigenLayer, ElError, ElEvent, Operator, Withdrawal,
    BEACON_STRATEGY, GWEI,
};
use stake_ledger::Ledger;
use stake_math::{Checked, U256};

impl EigenLayer {
    /// Whether `account` is a registered operator.
    pub fn is_operator(&self, account: &str) -> bool {
        self.operators.contains_key(account)
    }

    /// Registers `operator` (`registerAsOperator`): permanently self-delegated; the allocation
    /// delay is effective at once for a newly registered operator.
    ///
    /// Specification:
    /// - fails with `ActivelyDelegated` if the account is delegated (or already an operator);
    /// - fails with `FullySlashed` never (a fresh operator has max magnitude WAD).
    pub fn register_operator(
        &mut self,
        ledger: &Ledger,
        operator: &str,
        allocation_delay: u64,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        if let Some(cur) = self.stakers.get(operator).and_then(|s| s.delegated_to.clone()) {
            return Err(ElError::ActivelyDelegated {
                staker: operator.to_string(),
                operator: cur,
            });
        }
        let op = Operator {
            delay: AllocationDelay {
                delay: allocation_delay,
                is_set: true,
                pending: allocation_delay,
                effect_block: block,
            },
            ..Operator::default()
        };
        let mut w = self.work(operator);
        w.op = Some((operator.to_string(), op));
        self.delegate_work(ledger, &mut w, block)?;
        self.commit(w);
        self.delegators
            .entry(operator.to_string())
            .or_default()
            .insert(operator.to_string());
        Ok(vec![
            ElEvent::OperatorRegistered {
                operator: operator.to_string(),
                allocation_delay,
            },
            ElEvent::AllocationDelaySet {
                operator: operator.to_string(),
                delay: allocation_delay,
                effect_block: block,
            },
            ElEvent::Delegated {
                staker: operator.to_string(),
                operator: operator.to_string(),
            },
        ])
    }

    /// `_delegate` on working copies: `w.op` is the new operator; moves every deposit's
    /// withdrawable shares to it, forgiving its past slashing through the DSF.
    fn delegate_work(&self, ledger: &Ledger, w: &mut Work, block: u64) -> Result<(), ElError> {
        let strategies: Vec<String> = w.staker.positions.keys().cloned().collect();
        // Settle points under the undelegated index, then re-checkpoint under the operator's.
        let op = w.op.take();
        for s in &strategies {
            self.points_touch(ledger, w, s, block)?;
        }
        w.op = op;
        let op_name = w.op.as_ref().map(|(n, _)| n.clone()).unwrap_or_default();
        for s in &strategies {
            self.points_rebase(ledger, w, s, block)?;
            let pos = w.staker.positions.get(s).cloned().unwrap_or_default();
            if pos.deposit_shares == U256::ZERO {
                continue;
            }
            let withdrawable = if s == BEACON_STRATEGY {
                calc_withdrawable(
                    pos.deposit_shares,
                    pos.dsf,
                    U256::from(w.staker.bcsf.unwrap_or(WAD_U64)),
                )?
            } else {
                pos.deposit_shares
            };
            let m = w.op.as_ref().map(|(_, op)| max_mag(op, s)).unwrap_or(WAD_U64);
            let sf = U256::from(m);
            if sf == U256::ZERO {
                return Err(ElError::FullySlashed {
                    staker: w.staker_name.clone(),
                    strategy: s.clone(),
                });
            }
            if withdrawable == U256::ZERO {
                continue;
            }
            let p = w.staker.positions.entry(s.clone()).or_default();
            p.dsf = dsf_update(p.dsf, U256::ZERO, withdrawable, sf)?;
            if let Some((_, op)) = &mut w.op {
                let e = op.shares.entry(s.clone()).or_default();
                *e = e.add_c(withdrawable)?;
            }
        }
        w.staker.delegated_to = Some(op_name);
        Ok(())
    }

    /// Delegates all of `staker`'s shares to `operator` (`delegateTo`).
    ///
    /// Specification:
    /// - fails with `ActivelyDelegated` if the staker is already delegated;
    /// - fails with `NotOperator` if `operator` is not registered;
    /// - fails with `FullySlashed` if the operator's max magnitude is 0 in a strategy the staker holds.
    pub fn delegate(
        &mut self,
        ledger: &Ledger,
        staker: &str,
        operator: &str,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        if let Some(cur) = self.stakers.get(staker).and_then(|s| s.delegated_to.clone()) {
            return Err(ElError::ActivelyDelegated {
                staker: staker.to_string(),
                operator: cur,
            });
        }
        let op = self
            .operators
            .get(operator)
            .cloned()
            .ok_or_else(|| ElError::NotOperator {
                account: operator.to_string(),
            })?;
        let mut w = self.work(staker);
        w.op = Some((operator.to_string(), op));
        self.delegate_work(ledger, &mut w, block)?;
        self.commit(w);
        self.delegators
            .entry(operator.to_string())
            .or_default()
            .insert(staker.to_string());
        Ok(vec![ElEvent::Delegated {
            staker: staker.to_string(),
            operator: operator.to_string(),
        }])
    }

    /// `_removeSharesAndQueueWithdrawal` on working copies.
    fn remove_and_queue(
        &self,
        ledger: &Ledger,
        w: &mut Work,
        items: &[(String, U256)],
        id: u64,
        block: u64,
    ) -> Result<(Withdrawal, Vec<U256>), ElError> {
        if items.is_empty() {
            return Err(ElError::EmptyWithdrawal);
        }
        let mut strategies = Vec::new();
        let mut scaled_all = Vec::new();
        let mut withdrawable_all = Vec::new();
        for (s, dshares) in items {
            if strategies.contains(s) {
                return Err(ElError::DuplicateStrategy { strategy: s.clone() });
            }
            if s != BEACON_STRATEGY {
                self.strategy(s)?;
            }
            let held = w
                .staker
                .positions
                .get(s)
                .map(|p| p.deposit_shares)
                .unwrap_or(U256::ZERO);
            if *dshares == U256::ZERO {
                return Err(ElError::ZeroAmount);
            }
            if *dshares > held {
                return Err(ElError::SharesAmountTooHigh {
                    strategy: s.clone(),
                    requested: *dshares,
                    available: held,
                });
            }
            self.points_touch(ledger, w, s, block)?;
            let sf = Self::work_slashing_factor(w, s)?;
            let pos = w.staker.positions.entry(s.clone()).or_default();
            let withdrawable = calc_withdrawable(*dshares, pos.dsf, sf)?;
            let scaled = scale_for_queue_withdrawal(*dshares, pos.dsf)?;
            if let Some((name, op)) = &mut w.op {
                // Overflow check now; the history itself is pushed on commit.
                self.cumulative_scaled_at(name, s, None).add_c(scaled)?;
                w.queued.push((s.clone(), scaled, block));
                let e = op.shares.entry(s.clone()).or_default();
                *e = e.sub_c(withdrawable)?;
            }
            pos.deposit_shares = held.sub_c(*dshares)?;
            if pos.deposit_shares == U256::ZERO {
                pos.dsf = U256::ZERO;
                w.staker.strategy_list.retain(|x| x != s);
            }
            strategies.push(s.clone());
            scaled_all.push(scaled);
            withdrawable_all.push(withdrawable);
        }
        let wd = Withdrawal {
            id,
            staker: w.staker_name.clone(),
            delegated_to: w.op.as_ref().map(|(n, _)| n.clone()),
            start_block: block,
            strategies,
            scaled_shares: scaled_all,
        };
        Ok((wd, withdrawable_all))
    }

    /// Queues a withdrawal of deposit shares (`queueWithdrawals`, one entry). Returns the id.
    ///
    /// Specification:
    /// - fails with `EmptyWithdrawal` for an empty list, `DuplicateStrategy` for a repeated strategy;
    /// - fails with `ZeroAmount` / `SharesAmountTooHigh` unless `0 < shares ≤ deposit shares`;
    /// - fails with `StrategyNotFound` for an unknown strategy.
    pub fn queue_withdrawal(
        &mut self,
        ledger: &Ledger,
        staker: &str,
        items: &[(String, U256)],
        block: u64,
    ) -> Result<(u64, Vec<ElEvent>), ElError> {
        let mut w = self.work(staker);
        let id = self.next_withdrawal_id;
        let (wd, withdrawable) = self.remove_and_queue(ledger, &mut w, items, id, block)?;
        self.commit(w);
        let ev = ElEvent::WithdrawalQueued {
            id,
            staker: staker.to_string(),
            strategies: wd.strategies.clone(),
            scaled_shares: wd.scaled_shares.clone(),
            withdrawable,
        };
        self.withdrawals.insert(id, wd);
        self.next_withdrawal_id += 1;
        Ok((id, vec![ev]))
    }

    /// Undelegates `staker`, queueing one withdrawal per strategy (`undelegate`). Returns the ids.
    ///
    /// Specification:
    /// - fails with `NotDelegated` if not delegated, `OperatorsCannotUndelegate` for an operator;
    /// - fails with `InvalidCaller` unless `caller` is the staker or its operator.
    pub fn undelegate(
        &mut self,
        ledger: &Ledger,
        caller: &str,
        staker: &str,
        block: u64,
    ) -> Result<(Vec<u64>, Vec<ElEvent>), ElError> {
        let Some(operator) = self.stakers.get(staker).and_then(|s| s.delegated_to.clone()) else {
            return Err(ElError::NotDelegated {
                staker: staker.to_string(),
            });
        };
        if self.is_operator(staker) {
            return Err(ElError::OperatorsCannotUndelegate {
                operator: staker.to_string(),
            });
        }
        if caller != staker && caller != operator {
            return Err(ElError::InvalidCaller {
                caller: caller.to_string(),
            });
        }
        let mut w = self.work(staker);
        let held: Vec<(String, U256)> = w
            .staker
            .positions
            .iter()
            .filter(|(_, p)| p.deposit_shares != U256::ZERO)
            .map(|(s, p)| (s.clone(), p.deposit_shares))
            .collect();
        let mut ids = Vec::new();
        let mut events = vec![ElEvent::Undelegated {
            staker: staker.to_string(),
            operator: operator.clone(),
        }];
        let mut queued = Vec::new();
        let mut id = self.next_withdrawal_id;
        for item in held {
            let (wd, withdrawable) = self.remove_and_queue(ledger, &mut w, std::slice::from_ref(&item), id, block)?;
            events.push(ElEvent::WithdrawalQueued {
                id,
                staker: staker.to_string(),
                strategies: wd.strategies.clone(),
                scaled_shares: wd.scaled_shares.clone(),
                withdrawable,
            });
            ids.push(id);
            queued.push(wd);
            id += 1;
        }
        // Re-checkpoint (empty) positions under the undelegated indices.
        let op_rec = w.op.take();
        let strategies: Vec<String> = w.staker.positions.keys().cloned().collect();
        for s in &strategies {
            self.points_rebase(ledger, &mut w, s, block)?;
        }
        w.staker.delegated_to = None;
        if let Some((name, rec)) = op_rec {
            self.operators.insert(name, rec);
        }
        self.commit(w);
        if let Some(set) = self.delegators.get_mut(&operator) {
            set.remove(staker);
        }
        for wd in queued {
            self.withdrawals.insert(wd.id, wd);
        }
        self.next_withdrawal_id = id;
        Ok((ids, events))
    }

    /// Undelegates and delegates to `new_operator` (`redelegate`).
    ///
    /// Specification:
    /// - fails as [`EigenLayer::undelegate`] (caller = staker) and as [`EigenLayer::delegate`];
    ///   nothing changes on failure.
    pub fn redelegate(
        &mut self,
        ledger: &Ledger,
        staker: &str,
        new_operator: &str,
        block: u64,
    ) -> Result<(Vec<u64>, Vec<ElEvent>), ElError> {
        if !self.is_operator(new_operator) {
            return Err(ElError::NotOperator {
                account: new_operator.to_string(),
            });
        }
        let mut next = self.clone();
        let (ids, mut ev) = next.undelegate(ledger, staker, staker, block)?;
        ev.extend(next.delegate(ledger, staker, new_operator, block)?);
        *self = next;
        Ok((ids, ev))
    }

    /// Completes a queued withdrawal (`completeQueuedWithdrawal`), paying
    /// `mulWad(scaled, slashingFactor at startBlock + MIN_WITHDRAWAL_DELAY)` as tokens or shares.
    ///
    /// Specification:
    /// - fails with `WithdrawalNotFound` for an unknown id, `WithdrawerNotCaller` unless the caller queued it;
    /// - fails with `WithdrawalDelayNotElapsed` unless `block > startBlock + MIN_WITHDRAWAL_DELAY`;
    /// - as shares: fails with `FullySlashed` if the current operator's slashing factor is 0, or
    ///   `MaxStrategiesExceeded`;
    /// - as tokens: fails with `InsufficientWithdrawableBalance` if a pod lacks swept ETH.
    pub fn complete_withdrawal(
        &mut self,
        ledger: &mut Ledger,
        caller: &str,
        id: u64,
        receive_as_tokens: bool,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        let wd = self
            .withdrawals
            .get(&id)
            .cloned()
            .ok_or(ElError::WithdrawalNotFound { id })?;
        if caller != wd.staker {
            return Err(ElError::WithdrawerNotCaller {
                id,
                caller: caller.to_string(),
                withdrawer: wd.staker.clone(),
            });
        }
        let slashable_until = wd.start_block + self.params.min_withdrawal_delay;
        if block <= slashable_until {
            return Err(ElError::WithdrawalDelayNotElapsed {
                id,
                block,
                completable_at: slashable_until + 1,
            });
        }
        let prev_op = wd.delegated_to.clone();
        let mut w = self.work(&wd.staker);
        let mut shares_paid = Vec::new();
        let mut amounts = Vec::new();
        // (strategy, shares, token amount) moves to do on the ledger.
        let mut token_moves: Vec<(String, U256, U256)> = Vec::new();
        let mut strategy_totals: Vec<(String, U256)> = Vec::new();
        let mut pod_el: Option<U256> = None;
        for (s, scaled) in wd.strategies.iter().zip(&wd.scaled_shares) {
            let m = prev_op
                .as_ref()
                .map(|op| self.max_magnitude_at(op, s, slashable_until))
                .unwrap_or(WAD_U64);
            let bcsf = (s == BEACON_STRATEGY).then(|| w.staker.bcsf.unwrap_or(WAD_U64));
            let sf = slashing_factor(m, bcsf)?;
            let shares = scale_for_complete_withdrawal(*scaled, sf)?;
            shares_paid.push(shares);
            if shares == U256::ZERO {
                amounts.push(U256::ZERO);
                continue;
            }
            if receive_as_tokens {
                if s == BEACON_STRATEGY {
                    let pod = self.pods.get(&wd.staker).ok_or_else(|| ElError::PodNotFound {
                        owner: wd.staker.clone(),
                    })?;
                    let gwei = shares / GWEI;
                    if gwei > pod.restaked_el_gwei {
                        return Err(ElError::InsufficientWithdrawableBalance {
                            requested_gwei: gwei,
                            available_gwei: pod.restaked_el_gwei,
                        });
                    }
                    pod_el = Some(pod.restaked_el_gwei - gwei);
                    let wei = gwei.mul_c(GWEI)?;
                    amounts.push(wei);
                    token_moves.push((s.clone(), shares, wei));
                } else {
                    let st = self.strategy(s)?;
                    if shares > st.total_shares {
                        return Err(ElError::WithdrawalExceedsTotalShares {
                            strategy: s.clone(),
                            requested: shares,
                            total: st.total_shares,
                        });
                    }
                    let bal = self.strategy_balance(ledger, s)?;
                    let out = strategy_amount_for_shares(shares, st.total_shares, bal)?;
                    strategy_totals.push((s.clone(), st.total_shares - shares));
                    amounts.push(out);
                    token_moves.push((s.clone(), shares, out));
                }
            } else {
                self.add_shares(ledger, &mut w, s, shares, block)?;
                amounts.push(U256::ZERO);
            }
        }
        let staker = wd.staker.clone();
        let eth = self.eth_symbol.clone();
        let tokens: Vec<(String, String, U256)> = token_moves
            .iter()
            .map(|(s, _, amt)| {
                if s == BEACON_STRATEGY {
                    Ok((pod_account_name(&staker), eth.clone(), *amt))
                } else {
                    let t = self.strategy(s)?.token.clone();
                    Ok((strategy_account_name(&t), t, *amt))
                }
            })
            .collect::<Result<_, ElError>>()?;
        ledger.atomic(|l| {
            let to = l.account(&staker);
            for (from_name, token, amt) in &tokens {
                if *amt == U256::ZERO {
                    continue;
                }
                let from = l.account(from_name);
                let asset = l.asset(token)?;
                l.transfer(from, to, asset, *amt)?;
            }
            Ok::<(), ElError>(())
        })?;
        self.commit(w);
        for (s, total) in strategy_totals {
            if let Some(st) = self.strategies.get_mut(&s) {
                st.total_shares = total;
            }
        }
        if let (Some(el), Some(pod)) = (pod_el, self.pods.get_mut(&staker)) {
            pod.restaked_el_gwei = el;
        }
        self.withdrawals.remove(&id);
        Ok(vec![ElEvent::WithdrawalCompleted {
            id,
            as_tokens: receive_as_tokens,
            shares: shares_paid,
            amounts,
        }])
    }

    /// Shares a queued withdrawal would pay now (`getQueuedWithdrawal`): at the slashing factor of
    /// `startBlock + delay` once that block is past, else at the current one.
    pub fn queued_withdrawal_shares(&self, id: u64, block: u64) -> Result<Vec<U256>, ElError> {
        let wd = self.withdrawals.get(&id).ok_or(ElError::WithdrawalNotFound { id })?;
        let until = wd.start_block + self.params.min_withdrawal_delay;
        let op = wd.delegated_to.as_ref();
        let bcsf = self.stakers.get(&wd.staker).and_then(|s| s.bcsf).unwrap_or(WAD_U64);
        let mut out = Vec::new();
        for (s, scaled) in wd.strategies.iter().zip(&wd.scaled_shares) {
            let m = op
                .map(|op| {
                    if until < block {
                        self.max_magnitude_at(op, s, until)
                    } else {
                        self.max_magnitude(op, s)
                    }
                })
                .unwrap_or(WAD_U64);
            let sf = slashing_factor(m, (s == BEACON_STRATEGY).then_some(bcsf))?;
            out.push(mul_wad(*scaled, sf)?);
        }
        Ok(out)
    }
}
