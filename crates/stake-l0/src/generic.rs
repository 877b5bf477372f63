//! A parameterised proof-of-stake chain (SPEC §3.2): Solana, Sui, Polkadot, Cosmos-style.
//!
//! Stake is an amount per (operator, owner); each epoch it earns
//! `bonded · apr_bps · epoch_seconds // (1e4 · 31,536,000)` (rounded down), minted into the
//! module account and compounded into the stake. Unbonding takes `unbonding_epochs` epochs, then
//! the amount is paid to the owner. Slashing burns `slash_fraction_ppm` of an operator's bonded and
//! unbonding stake (rounded down per position). The module account always holds Σ bonded +
//! Σ unbonding. Exact parity with those chains' code is not a goal; their published parameters are.

use crate::error::L0Error;
use crate::{Chain, CredentialsSummary, L0Event};
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Ledger};
use stake_math::{mul_div_down, u, Checked, SECONDS_PER_YEAR, U256};

/// Parameters of a generic chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericParams {
    /// Chain name; the module account is `<name>:staked`.
    pub name: String,
    /// Native asset symbol (registered by the caller).
    pub asset_symbol: String,
    /// Epoch length (seconds).
    pub epoch_seconds: u64,
    /// Staking reward APR in basis points.
    pub reward_apr_bps: u64,
    /// Unbonding period in epochs.
    pub unbonding_epochs: u64,
    /// Fraction of an operator's stake burned by one slashing, in ppm.
    pub slash_fraction_ppm: u64,
}

impl GenericParams {
    /// Solana-like: 2-day epochs (432,000 slots × 0.4 s), ~7 % APR, one-epoch unbonding.
    pub fn solana() -> Self {
        Self::preset("solana", "SOL", 172_800, 700, 1, 0)
    }
    /// Sui-like: daily epochs, ~3 % APR, stake withdrawable at the next epoch.
    pub fn sui() -> Self {
        Self::preset("sui", "SUI", 86_400, 300, 1, 0)
    }
    /// Polkadot-like: 1-day eras, ~15 % APR, 28-day unbonding.
    pub fn polkadot() -> Self {
        Self::preset("polkadot", "DOT", 86_400, 1_500, 28, 10_000)
    }
    /// Cosmos-style: daily accounting, ~15 % APR, 21-day unbonding, 5 % double-sign slash.
    pub fn cosmos(symbol: &str) -> Self {
        Self::preset("cosmos", symbol, 86_400, 1_500, 21, 50_000)
    }
    fn preset(name: &str, symbol: &str, epoch_seconds: u64, apr_bps: u64, unbonding: u64, slash_ppm: u64) -> Self {
        GenericParams {
            name: name.to_string(),
            asset_symbol: symbol.to_string(),
            epoch_seconds,
            reward_apr_bps: apr_bps,
            unbonding_epochs: unbonding,
            slash_fraction_ppm: slash_ppm,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    operator: String,
    credentials: AccountId,
    bonded: U256,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Unbonding {
    operator: String,
    credentials: AccountId,
    amount: U256,
    release_epoch: u64,
}

/// A parameterised chain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenericChain {
    params: GenericParams,
    genesis_time: u64,
    asset: AssetId,
    account: AccountId,
    epoch: u64,
    positions: Vec<Position>,
    unbonding: Vec<Unbonding>,
    withdrawn: Vec<(AccountId, String, U256)>,
}

impl GenericChain {
    /// A chain at genesis; looks up its native asset and creates `<name>:staked`.
    ///
    /// Specification:
    /// - fails with [`L0Error::Ledger`] if the asset is not registered;
    /// - fails with [`L0Error::InvalidParameter`] if `epoch_seconds == 0` or
    ///   `slash_fraction_ppm > 1e6`.
    pub fn new(params: GenericParams, ledger: &mut Ledger, genesis_time: u64) -> Result<Self, L0Error> {
        if params.epoch_seconds == 0 {
            return Err(L0Error::InvalidParameter {
                name: "epoch_seconds",
                value: "0".to_string(),
            });
        }
        if params.slash_fraction_ppm > 1_000_000 {
            return Err(L0Error::InvalidParameter {
                name: "slash_fraction_ppm",
                value: params.slash_fraction_ppm.to_string(),
            });
        }
        let asset = ledger.asset(&params.asset_symbol)?;
        let account = ledger.account(&format!("{}:staked", params.name));
        Ok(GenericChain {
            params,
            genesis_time,
            asset,
            account,
            epoch: 0,
            positions: Vec::new(),
            unbonding: Vec::new(),
            withdrawn: Vec::new(),
        })
    }

    /// Parameters.
    pub fn params(&self) -> &GenericParams {
        &self.params
    }

    fn check_time(&self, now: u64) -> Result<(), L0Error> {
        let current_time = self.genesis_time + self.epoch * self.params.epoch_seconds;
        let e = now
            .checked_sub(self.genesis_time)
            .map(|d| d / self.params.epoch_seconds)
            .ok_or(L0Error::TimeInPast { now, current_time })?;
        if e < self.epoch {
            return Err(L0Error::TimeInPast { now, current_time });
        }
        if e > self.epoch {
            return Err(L0Error::NotAdvanced {
                now,
                epoch_at_now: e,
                current_epoch: self.epoch,
            });
        }
        Ok(())
    }

    /// Reward of `bonded` for one epoch: `bonded · apr_bps · epoch_seconds // (1e4 · year)`.
    pub fn epoch_reward(&self, bonded: U256) -> Result<U256, L0Error> {
        let num = u(self.params.reward_apr_bps as u128 * self.params.epoch_seconds as u128);
        Ok(mul_div_down(bonded, num, u(10_000u128 * SECONDS_PER_YEAR as u128))?)
    }

    fn summary(&self, filter: impl Fn(&str, AccountId) -> bool) -> CredentialsSummary {
        let mut s = CredentialsSummary::default();
        for p in self.positions.iter().filter(|p| filter(&p.operator, p.credentials)) {
            s.balance_wei += p.bonded;
            s.active_balance_wei += p.bonded;
            s.effective_balance_wei += p.bonded;
        }
        for q in self.unbonding.iter().filter(|q| filter(&q.operator, q.credentials)) {
            s.balance_wei += q.amount;
            s.exiting_balance_wei += q.amount;
        }
        for (c, op, amt) in &self.withdrawn {
            if filter(op, *c) {
                s.withdrawn_wei += *amt;
            }
        }
        s
    }

    fn process_epoch(&mut self, ledger: &mut Ledger, events: &mut Vec<L0Event>) -> Result<(), L0Error> {
        let mut minted = U256::ZERO;
        for i in 0..self.positions.len() {
            let r = self.epoch_reward(self.positions[i].bonded)?;
            self.positions[i].bonded = self.positions[i].bonded.add_c(r)?;
            minted = minted.add_c(r)?;
        }
        if minted > U256::ZERO {
            ledger.mint(self.account, self.asset, minted)?;
            events.push(L0Event::RewardsAccrued {
                epoch: self.epoch,
                amount: minted,
            });
        }
        let next = self.epoch + 1;
        let (due, keep): (Vec<Unbonding>, Vec<Unbonding>) = std::mem::take(&mut self.unbonding)
            .into_iter()
            .partition(|q| q.release_epoch <= next);
        self.unbonding = keep;
        for q in due {
            ledger.transfer(self.account, q.credentials, self.asset, q.amount)?;
            match self
                .withdrawn
                .iter_mut()
                .find(|(c, op, _)| *c == q.credentials && *op == q.operator)
            {
                Some(w) => w.2 = w.2.add_c(q.amount)?,
                None => self.withdrawn.push((q.credentials, q.operator.clone(), q.amount)),
            }
            events.push(L0Event::Unbonded {
                credentials: q.credentials,
                amount: q.amount,
            });
        }
        self.positions.retain(|p| p.bonded > U256::ZERO);
        Ok(())
    }
}

impl Chain for GenericChain {
    fn native_symbol(&self) -> &str {
        &self.params.asset_symbol
    }
    fn epoch_seconds(&self) -> u64 {
        self.params.epoch_seconds
    }
    fn unbonding_seconds(&self) -> u64 {
        self.params.unbonding_epochs.saturating_mul(self.params.epoch_seconds)
    }
    fn current_epoch(&self) -> u64 {
        self.epoch
    }

    /// Specification: fails with [`L0Error::TimeInPast`] if `now` is before the current epoch.
    fn advance_to(&mut self, ledger: &mut Ledger, now: u64) -> Result<Vec<L0Event>, L0Error> {
        let current_time = self.genesis_time + self.epoch * self.params.epoch_seconds;
        let target = now
            .checked_sub(self.genesis_time)
            .map(|d| d / self.params.epoch_seconds)
            .ok_or(L0Error::TimeInPast { now, current_time })?;
        if target < self.epoch {
            return Err(L0Error::TimeInPast { now, current_time });
        }
        let mut w = self.clone();
        let events = ledger.atomic(|l| {
            let mut events = Vec::new();
            while w.epoch < target {
                w.process_epoch(l, &mut events)?;
                w.epoch += 1;
            }
            Ok::<_, L0Error>(events)
        })?;
        *self = w;
        Ok(events)
    }

    /// Specification: fails with [`L0Error::ZeroAmount`] for a zero amount, with
    /// [`L0Error::NotAdvanced`]/[`L0Error::TimeInPast`] unless `now` is in the current epoch, and
    /// with [`L0Error::InsufficientFunds`] if `from` holds less than `amount`.
    fn stake(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        amount: U256,
        operator: &str,
        credentials: AccountId,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if amount == U256::ZERO {
            return Err(L0Error::ZeroAmount { what: "amount" });
        }
        self.check_time(now)?;
        let balance = ledger.balance(from, self.asset);
        if balance < amount {
            return Err(L0Error::InsufficientFunds {
                account: ledger.account_name(from).to_string(),
                balance,
                required: amount,
            });
        }
        ledger.transfer(from, self.account, self.asset, amount)?;
        match self
            .positions
            .iter_mut()
            .find(|p| p.operator == operator && p.credentials == credentials)
        {
            Some(p) => p.bonded = p.bonded.add_c(amount)?,
            None => self.positions.push(Position {
                operator: operator.to_string(),
                credentials,
                bonded: amount,
            }),
        }
        Ok(vec![L0Event::Bonded {
            credentials,
            operator: operator.to_string(),
            amount,
        }])
    }

    /// Specification: fails with [`L0Error::ZeroAmount`], [`L0Error::NotAdvanced`] /
    /// [`L0Error::TimeInPast`], [`L0Error::UnknownOperator`] (operator without stake), or
    /// [`L0Error::UnbondExceedsBonded`] if `amount` exceeds the matching bonded stake.
    fn request_unstake(
        &mut self,
        credentials: AccountId,
        operator: Option<&str>,
        amount: U256,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        if amount == U256::ZERO {
            return Err(L0Error::ZeroAmount { what: "amount" });
        }
        self.check_time(now)?;
        if let Some(op) = operator {
            if !self.positions.iter().any(|p| p.operator == op) {
                return Err(L0Error::UnknownOperator {
                    operator: op.to_string(),
                });
            }
        }
        let matches = |p: &Position| p.credentials == credentials && operator.is_none_or(|op| p.operator == op);
        let mut available = U256::ZERO;
        for p in self.positions.iter().filter(|p| matches(p)) {
            available = available.add_c(p.bonded)?;
        }
        if amount > available {
            return Err(L0Error::UnbondExceedsBonded {
                credentials,
                operator: operator.map(str::to_string),
                requested: amount,
                available,
            });
        }
        let release_epoch = self.epoch.saturating_add(self.params.unbonding_epochs);
        let mut remaining = amount;
        let mut events = Vec::new();
        for p in self.positions.iter_mut() {
            if remaining == U256::ZERO {
                break;
            }
            if !matches(p) {
                continue;
            }
            let take = remaining.min(p.bonded);
            p.bonded -= take;
            remaining -= take;
            self.unbonding.push(Unbonding {
                operator: p.operator.clone(),
                credentials,
                amount: take,
                release_epoch,
            });
            events.push(L0Event::UnbondingStarted {
                credentials,
                operator: p.operator.clone(),
                amount: take,
                release_epoch,
            });
        }
        self.positions.retain(|p| p.bonded > U256::ZERO);
        Ok(events)
    }

    /// Burns `slash_fraction_ppm` of every bonded and unbonding position of `operator`
    /// (`validators` is ignored: the operator is one validator).
    ///
    /// Specification: fails with [`L0Error::NotAdvanced`]/[`L0Error::TimeInPast`] or
    /// [`L0Error::UnknownOperator`] if the operator has no stake.
    fn slash_operator(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        _validators: Option<u64>,
        now: u64,
    ) -> Result<Vec<L0Event>, L0Error> {
        self.check_time(now)?;
        if !self.positions.iter().any(|p| p.operator == operator)
            && !self.unbonding.iter().any(|q| q.operator == operator)
        {
            return Err(L0Error::UnknownOperator {
                operator: operator.to_string(),
            });
        }
        let ppm = u(self.params.slash_fraction_ppm as u128);
        let mut w = self.clone();
        let mut burned = U256::ZERO;
        for p in w.positions.iter_mut().filter(|p| p.operator == operator) {
            let cut = mul_div_down(p.bonded, ppm, u(1_000_000))?;
            p.bonded -= cut;
            burned = burned.add_c(cut)?;
        }
        for q in w.unbonding.iter_mut().filter(|q| q.operator == operator) {
            let cut = mul_div_down(q.amount, ppm, u(1_000_000))?;
            q.amount -= cut;
            burned = burned.add_c(cut)?;
        }
        ledger.burn(w.account, w.asset, burned)?;
        *self = w;
        Ok(vec![L0Event::StakeSlashed {
            operator: operator.to_string(),
            amount: burned,
        }])
    }

    fn summary_by_credentials(&self, credentials: AccountId) -> CredentialsSummary {
        self.summary(|_, c| c == credentials)
    }
    fn summary_by_operator(&self, operator: &str) -> CredentialsSummary {
        self.summary(|op, _| op == operator)
    }
    fn total_staked_wei(&self) -> U256 {
        let b = self
            .positions
            .iter()
            .fold(U256::ZERO, |a, p| a.saturating_add(p.bonded));
        self.unbonding.iter().fold(b, |a, q| a.saturating_add(q.amount))
    }

    /// The module account holds exactly Σ bonded + Σ unbonding.
    fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        let held = ledger.balance(self.account, self.asset);
        let expected = self.total_staked_wei();
        if held != expected {
            return Err(format!(
                "{}:staked holds {held} but positions sum to {expected}",
                self.params.name
            ));
        }
        Ok(())
    }
}

impl stake_ledger::StateHash for GenericChain {
    fn hash_state(&self, h: &mut stake_ledger::blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}
