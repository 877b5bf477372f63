//! Strategies (`StrategyBase`, `StrategyManager`), the shared share-adding path
//! (`DelegationManager.increaseDelegatedShares`) and restaking-points accrual.

use super::math::{
    calc_withdrawable, dsf_update, dsf_value, mul_wad, slashing_factor, strategy_amount_for_shares,
    strategy_shares_for_deposit, MAX_TOTAL_SHARES, WAD_U64,
};
use super::{
    strategy_account_name, EigenLayer, ElError, ElEvent, Operator, PointsIndex, Staker, Strategy, BEACON_STRATEGY,
    MAX_STAKER_STRATEGY_LIST_LENGTH,
};
use stake_ledger::Ledger;
use stake_math::{Checked, MathResult, U256, WAD};
use std::collections::BTreeMap;

/// Latest max magnitude of an operator for a strategy (WAD when never slashed).
pub(crate) fn max_mag(op: &Operator, strategy: &str) -> u64 {
    op.max_magnitude.get(strategy).copied().unwrap_or(WAD_U64)
}

/// Advances a points index to `block` at rate `mulWad(sf, vps)` per block.
pub(crate) fn advance_index(idx: &mut PointsIndex, block: u64, sf: U256, vps: U256) -> MathResult<()> {
    if block > idx.last_block {
        let rate = mul_wad(sf, vps)?;
        idx.value = idx.value.add_c(rate.mul_c(U256::from(block - idx.last_block))?)?;
        idx.last_block = block;
    }
    Ok(())
}

/// Credits a position with the points accrued since its checkpoint and re-checkpoints it.
pub(crate) fn settle(pos: &mut super::Position, idx: U256, bcsf: Option<u64>) -> MathResult<()> {
    let scaled = mul_wad(pos.deposit_shares, dsf_value(pos.dsf))?;
    if scaled != U256::ZERO {
        let delta = idx.sub_c(pos.points_checkpoint)?;
        let mut add = mul_wad(scaled, delta)?;
        if let Some(b) = bcsf {
            add = mul_wad(add, U256::from(b))?;
        }
        pos.value_blocks = pos.value_blocks.add_c(add)?;
    }
    pos.points_checkpoint = idx;
    Ok(())
}

/// Working copies of the records one staker-side operation touches; written back only on success.
pub(crate) struct Work {
    pub(crate) staker_name: String,
    pub(crate) staker: Staker,
    pub(crate) op: Option<(String, Operator)>,
    pub(crate) undelegated: BTreeMap<String, PointsIndex>,
    /// Scaled shares queued with the operator: `(strategy, scaled, block)`, pushed to the
    /// cumulative history on commit.
    pub(crate) queued: Vec<(String, U256, u64)>,
}

impl EigenLayer {
    pub(crate) fn work(&self, staker: &str) -> Work {
        let st = self.stakers.get(staker).cloned().unwrap_or_default();
        let op = st
            .delegated_to
            .as_ref()
            .and_then(|o| self.operators.get(o).map(|rec| (o.clone(), rec.clone())));
        Work {
            staker_name: staker.to_string(),
            staker: st,
            op,
            undelegated: BTreeMap::new(),
            queued: Vec::new(),
        }
    }

    /// Max magnitude of `operator` at a past block (`getMaxMagnitudesAtBlock` / `upperLookup`).
    pub fn max_magnitude_at(&self, operator: &str, strategy: &str, block: u64) -> u64 {
        self.magnitude_history
            .get(operator)
            .and_then(|m| m.get(strategy))
            .map(|h| h.upper_lookup(block, WAD_U64))
            .unwrap_or(WAD_U64)
    }

    /// Cumulative scaled shares queued with `operator` (latest, or at a past block).
    pub(crate) fn cumulative_scaled_at(&self, operator: &str, strategy: &str, block: Option<u64>) -> U256 {
        let h = self.cumulative_scaled.get(operator).and_then(|m| m.get(strategy));
        match (h, block) {
            (None, _) => U256::ZERO,
            (Some(h), None) => h.latest(U256::ZERO),
            (Some(h), Some(b)) => h.upper_lookup(b, U256::ZERO),
        }
    }

    pub(crate) fn commit(&mut self, w: Work) {
        if let Some((name, op)) = w.op {
            let keep_delay = self.params.min_withdrawal_delay + 1;
            for (s, scaled, block) in w.queued {
                let h = self
                    .cumulative_scaled
                    .entry(name.clone())
                    .or_default()
                    .entry(s)
                    .or_default();
                let cum = h.latest(U256::ZERO).saturating_add(scaled);
                h.push(block, cum);
                // Only the entry at or before `block − delay − 1` is ever looked up again.
                h.prune_before(block.saturating_sub(keep_delay));
            }
            self.operators.insert(name, op);
        }
        for (k, v) in w.undelegated {
            self.undelegated_points.insert(k, v);
        }
        self.stakers.insert(w.staker_name, w.staker);
    }

    /// Strategy by name.
    pub fn strategy(&self, name: &str) -> Result<&Strategy, ElError> {
        self.strategies.get(name).ok_or_else(|| ElError::StrategyNotFound {
            strategy: name.to_string(),
        })
    }

    /// Token balance held by a strategy's module account.
    pub fn strategy_balance(&self, ledger: &Ledger, name: &str) -> Result<U256, ElError> {
        let st = self.strategy(name)?;
        let asset = ledger.asset(&st.token)?;
        Ok(match ledger.find_account(&strategy_account_name(&st.token)) {
            Ok(acc) => ledger.balance(acc, asset),
            Err(_) => U256::ZERO,
        })
    }

    /// ETH value (wad) of one whole share (1e18 base units) of a strategy: underlying per share
    /// times the caller-supplied token price. Beacon-chain shares are ETH (1:1).
    pub fn value_per_share(&self, ledger: &Ledger, strategy: &str) -> Result<U256, ElError> {
        if strategy == BEACON_STRATEGY {
            return Ok(WAD);
        }
        let st = self.strategy(strategy)?;
        let bal = self.strategy_balance(ledger, strategy)?;
        let under = strategy_amount_for_shares(WAD, st.total_shares, bal)?;
        Ok(mul_wad(under, st.price_eth_wad)?)
    }

    /// Underlying tokens of `shares` (`sharesToUnderlyingView`); beacon shares are wei.
    pub fn shares_to_underlying(&self, ledger: &Ledger, strategy: &str, shares: U256) -> Result<U256, ElError> {
        if strategy == BEACON_STRATEGY {
            return Ok(shares);
        }
        let st = self.strategy(strategy)?;
        let bal = self.strategy_balance(ledger, strategy)?;
        Ok(strategy_amount_for_shares(shares, st.total_shares, bal)?)
    }

    /// Deploys a strategy for ledger token `token` (strategy name = token symbol).
    ///
    /// Specification:
    /// - fails with `StrategyExists` if the token already has a strategy (or is the beacon name);
    /// - fails with `Ledger(UnknownAsset)` if the token is not registered.
    pub fn add_strategy(&mut self, ledger: &Ledger, token: &str, whitelisted: bool) -> Result<Vec<ElEvent>, ElError> {
        if self.strategies.contains_key(token) || token == BEACON_STRATEGY {
            return Err(ElError::StrategyExists {
                strategy: token.to_string(),
            });
        }
        ledger.asset(token)?;
        self.strategies.insert(
            token.to_string(),
            Strategy {
                token: token.to_string(),
                total_shares: U256::ZERO,
                whitelisted,
                price_eth_wad: WAD,
                slashed_shares: U256::ZERO,
            },
        );
        Ok(vec![ElEvent::StrategyAdded {
            strategy: token.to_string(),
            whitelisted,
        }])
    }

    /// Sets `strategyIsWhitelistedForDeposit`.
    ///
    /// Specification:
    /// - fails with `StrategyNotFound` for an unknown strategy.
    pub fn set_strategy_whitelisted(&mut self, strategy: &str, whitelisted: bool) -> Result<(), ElError> {
        let st = self
            .strategies
            .get_mut(strategy)
            .ok_or_else(|| ElError::StrategyNotFound {
                strategy: strategy.to_string(),
            })?;
        st.whitelisted = whitelisted;
        Ok(())
    }

    /// Sets a strategy token's price in ETH (wad) — the valuation interface for LP tokens and
    /// any ERC-20. Accrues every points index first so past points keep the old price.
    ///
    /// Specification:
    /// - fails with `StrategyNotFound` for an unknown strategy.
    pub fn set_strategy_price(
        &mut self,
        ledger: &Ledger,
        strategy: &str,
        price_eth_wad: U256,
        block: u64,
    ) -> Result<(), ElError> {
        self.strategy(strategy)?;
        let mut next = self.clone_points_accrued(ledger, block)?;
        if let Some(st) = next.1.get_mut(strategy) {
            st.price_eth_wad = price_eth_wad;
        }
        self.apply_points_accrued(next);
        Ok(())
    }

    /// Accrues every points index (operators × strategies, never stakers) to `block`.
    ///
    /// Specification:
    /// - fails only on arithmetic overflow.
    pub fn accrue_points(&mut self, ledger: &Ledger, block: u64) -> Result<(), ElError> {
        let next = self.clone_points_accrued(ledger, block)?;
        self.apply_points_accrued(next);
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn clone_points_accrued(
        &self,
        ledger: &Ledger,
        block: u64,
    ) -> Result<
        (
            BTreeMap<String, BTreeMap<String, PointsIndex>>,
            BTreeMap<String, Strategy>,
            BTreeMap<String, PointsIndex>,
        ),
        ElError,
    > {
        let mut ops = BTreeMap::new();
        for (name, op) in &self.operators {
            let mut pts = op.points.clone();
            for (strat, idx) in pts.iter_mut() {
                let vps = self.value_per_share(ledger, strat)?;
                advance_index(idx, block, U256::from(max_mag(op, strat)), vps)?;
            }
            ops.insert(name.clone(), pts);
        }
        let mut und = self.undelegated_points.clone();
        for (strat, idx) in und.iter_mut() {
            let vps = self.value_per_share(ledger, strat)?;
            advance_index(idx, block, WAD, vps)?;
        }
        Ok((ops, self.strategies.clone(), und))
    }

    #[allow(clippy::type_complexity)]
    fn apply_points_accrued(
        &mut self,
        next: (
            BTreeMap<String, BTreeMap<String, PointsIndex>>,
            BTreeMap<String, Strategy>,
            BTreeMap<String, PointsIndex>,
        ),
    ) {
        for (name, pts) in next.0 {
            if let Some(op) = self.operators.get_mut(&name) {
                op.points = pts;
            }
        }
        self.strategies = next.1;
        self.undelegated_points = next.2;
    }

    /// Advances the points index of the working staker's (operator, strategy) and settles the
    /// staker's position in it. Must run before any change to s, k, the operator or the BCSF.
    pub(crate) fn points_touch(
        &self,
        ledger: &Ledger,
        w: &mut Work,
        strategy: &str,
        block: u64,
    ) -> Result<(), ElError> {
        self.points_touch_inner(ledger, w, strategy, block, true)
    }

    /// Advances the index and re-checkpoints the position without crediting it (used when the
    /// position moves to another operator's index).
    pub(crate) fn points_rebase(
        &self,
        ledger: &Ledger,
        w: &mut Work,
        strategy: &str,
        block: u64,
    ) -> Result<(), ElError> {
        self.points_touch_inner(ledger, w, strategy, block, false)
    }

    fn points_touch_inner(
        &self,
        ledger: &Ledger,
        w: &mut Work,
        strategy: &str,
        block: u64,
        credit: bool,
    ) -> Result<(), ElError> {
        let vps = self.value_per_share(ledger, strategy)?;
        let idx = match &mut w.op {
            Some((_, op)) => {
                let m = max_mag(op, strategy);
                let e = op.points.entry(strategy.to_string()).or_default();
                advance_index(e, block, U256::from(m), vps)?;
                e.value
            }
            None => {
                let cur = self.undelegated_points.get(strategy).copied().unwrap_or_default();
                let e = w.undelegated.entry(strategy.to_string()).or_insert(cur);
                advance_index(e, block, WAD, vps)?;
                e.value
            }
        };
        let bcsf = (strategy == BEACON_STRATEGY).then(|| w.staker.bcsf.unwrap_or(WAD_U64));
        let pos = w.staker.positions.entry(strategy.to_string()).or_default();
        if credit {
            settle(pos, idx, bcsf)?;
        } else {
            pos.points_checkpoint = idx;
        }
        Ok(())
    }

    /// The working staker's slashing factor for `strategy` with its current operator.
    pub(crate) fn work_slashing_factor(w: &Work, strategy: &str) -> Result<U256, ElError> {
        let m = w.op.as_ref().map(|(_, op)| max_mag(op, strategy)).unwrap_or(WAD_U64);
        let bcsf = (strategy == BEACON_STRATEGY).then(|| w.staker.bcsf.unwrap_or(WAD_U64));
        Ok(slashing_factor(m, bcsf)?)
    }

    /// `StrategyManager._addShares` / `EigenPodManager._addShares` followed by
    /// `DelegationManager.increaseDelegatedShares` on the working copies.
    pub(crate) fn add_shares(
        &self,
        ledger: &Ledger,
        w: &mut Work,
        strategy: &str,
        shares: U256,
        block: u64,
    ) -> Result<(), ElError> {
        let prev = w
            .staker
            .positions
            .get(strategy)
            .map(|p| p.deposit_shares)
            .unwrap_or(U256::ZERO);
        if strategy != BEACON_STRATEGY {
            if shares == U256::ZERO {
                return Err(ElError::ZeroAmount);
            }
            if prev == U256::ZERO && !w.staker.strategy_list.iter().any(|s| s == strategy) {
                if w.staker.strategy_list.len() >= MAX_STAKER_STRATEGY_LIST_LENGTH {
                    return Err(ElError::MaxStrategiesExceeded {
                        staker: w.staker_name.clone(),
                        max: MAX_STAKER_STRATEGY_LIST_LENGTH,
                    });
                }
                w.staker.strategy_list.push(strategy.to_string());
            }
        }
        self.points_touch(ledger, w, strategy, block)?;
        let sf = Self::work_slashing_factor(w, strategy)?;
        if sf == U256::ZERO {
            return Err(ElError::FullySlashed {
                staker: w.staker_name.clone(),
                strategy: strategy.to_string(),
            });
        }
        let pos = w.staker.positions.entry(strategy.to_string()).or_default();
        pos.deposit_shares = prev.add_c(shares)?;
        if shares == U256::ZERO {
            return Ok(());
        }
        pos.dsf = dsf_update(pos.dsf, prev, shares, sf)?;
        if let Some((_, op)) = &mut w.op {
            let e = op.shares.entry(strategy.to_string()).or_default();
            *e = e.add_c(shares)?;
        }
        Ok(())
    }

    /// Withdrawable shares of a staker in a strategy (`getWithdrawableShares`).
    pub fn withdrawable_shares(&self, staker: &str, strategy: &str) -> Result<U256, ElError> {
        let Some(st) = self.stakers.get(staker) else {
            return Ok(U256::ZERO);
        };
        let Some(pos) = st.positions.get(strategy) else {
            return Ok(U256::ZERO);
        };
        let m = st
            .delegated_to
            .as_ref()
            .and_then(|o| self.operators.get(o))
            .map(|op| max_mag(op, strategy))
            .unwrap_or(WAD_U64);
        let bcsf = (strategy == BEACON_STRATEGY).then(|| st.bcsf.unwrap_or(WAD_U64));
        Ok(calc_withdrawable(
            pos.deposit_shares,
            pos.dsf,
            slashing_factor(m, bcsf)?,
        )?)
    }

    /// Deposits `amount` of the strategy's token from `staker` (`StrategyManager.depositIntoStrategy`).
    ///
    /// Specification:
    /// - fails with `StrategyNotFound` / `BeaconStrategyNotDepositable` for an unknown or beacon strategy;
    /// - fails with `StrategyNotWhitelisted` unless whitelisted for deposit;
    /// - fails with `ZeroNewShares` if `⌊amount·(T+1e3)/(B+1e3)⌋ = 0` (includes `amount = 0`);
    /// - fails with `MaxTotalSharesExceeded` past `1e38 − 1` total shares;
    /// - fails with `MaxStrategiesExceeded` for a 33rd strategy;
    /// - fails with `FullySlashed` if the staker's operator has max magnitude 0 in it;
    /// - fails with `Ledger(InsufficientBalance)` if the staker lacks the tokens.
    pub fn deposit(
        &mut self,
        ledger: &mut Ledger,
        staker: &str,
        strategy: &str,
        amount: U256,
        block: u64,
    ) -> Result<Vec<ElEvent>, ElError> {
        if strategy == BEACON_STRATEGY {
            return Err(ElError::BeaconStrategyNotDepositable);
        }
        let st = self.strategy(strategy)?;
        if !st.whitelisted {
            return Err(ElError::StrategyNotWhitelisted {
                strategy: strategy.to_string(),
            });
        }
        let token = ledger.asset(&st.token)?;
        let from = ledger.find_account(staker)?;
        ledger.require(from, token, amount)?;
        let balance_before = self.strategy_balance(ledger, strategy)?;
        let new_shares = strategy_shares_for_deposit(amount, st.total_shares, balance_before)?;
        if new_shares == U256::ZERO {
            return Err(ElError::ZeroNewShares { amount });
        }
        let total = st.total_shares.add_c(new_shares)?;
        if total > MAX_TOTAL_SHARES {
            return Err(ElError::MaxTotalSharesExceeded { total });
        }
        let mut w = self.work(staker);
        self.add_shares(ledger, &mut w, strategy, new_shares, block)?;
        let acct_name = strategy_account_name(&st.token);
        ledger.atomic(|l| {
            let to = l.account(&acct_name);
            l.transfer(from, to, token, amount).map_err(ElError::from)
        })?;
        self.commit(w);
        if let Some(s) = self.strategies.get_mut(strategy) {
            s.total_shares = total;
        }
        Ok(vec![ElEvent::Deposit {
            staker: staker.to_string(),
            strategy: strategy.to_string(),
            amount,
            shares: new_shares,
        }])
    }

    /// Restaking points of a staker in ETH·hours (wad), accrued to `block` without mutating state.
    pub fn points_of(&self, ledger: &Ledger, staker: &str, block: u64) -> Result<U256, ElError> {
        let mut w = self.work(staker);
        let strategies: Vec<String> = w.staker.positions.keys().cloned().collect();
        for s in &strategies {
            self.points_touch(ledger, &mut w, s, block)?;
        }
        let mut total = U256::ZERO;
        for p in w.staker.positions.values() {
            total = total.add_c(p.value_blocks)?;
        }
        // value·blocks → ETH·hours: one block is 12 s = 1/300 hour.
        Ok(total / U256::from(3_600 / super::SECONDS_PER_BLOCK))
    }
}
