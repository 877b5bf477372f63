//! The engine's side of the L1 models: one entry per LST, wiring each model's interface to
//! Ethereum (deposits, reports, exits) and to user actions.

use crate::action::Action;
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::world::DEPOSIT;
use serde::{Deserialize, Serialize};
use stake_l0::Ethereum;
use stake_ledger::{hash_serde, AccountId, AssetId, Ledger, StateHash};
use stake_lst::exchange_rate::{ExchangeRateLst, ExchangeRateReport};
use stake_lst::lido::Lido;
use stake_lst::rocketpool::{NodeBalance, RocketPool};
use stake_math::{mul_div_down, Checked, U256, WAD};
use std::collections::BTreeMap;

/// Lido's per-request maximum (1000 stETH): larger requests are split, as Lido's UI does.
pub const LIDO_MAX_REQUEST: U256 = U256::new(1_000_000_000_000_000_000_000);

/// The model behind an LST.
#[derive(Clone, Debug)]
pub enum LstModel {
    /// Rebasing stETH-style.
    Lido(Box<Lido>),
    /// rETH-style.
    RocketPool(Box<RocketPool>),
    /// cbETH-style custodial exchange-rate token.
    ExchangeRate(Box<ExchangeRateLst>),
}

/// What the engine remembers per operator between reports (to derive losses and sweeps from L0).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorTrack {
    /// balance + withdrawn + EL rewards at the last report, minus 32 ETH per deposit since.
    pub value_wei: U256,
    /// Validators fully withdrawn at the last look.
    pub withdrawn: u64,
    /// Wei withdrawn at the last look.
    pub withdrawn_wei: U256,
    /// EL rewards at the last look.
    pub el_rewards_wei: U256,
}

/// One LST in the world.
#[derive(Clone, Debug)]
pub struct LstEntry {
    /// Token symbol.
    pub symbol: String,
    /// Model.
    pub model: LstModel,
    /// Rate (ETH per token, wad) at the start of the run.
    pub start_rate_wad: U256,
    /// Time of the start.
    pub start_time: u64,
    /// Per-operator tracking.
    pub track: BTreeMap<String, OperatorTrack>,
}

impl LstModel {
    /// Model name.
    pub fn name(&self) -> &'static str {
        match self {
            LstModel::Lido(_) => "lido",
            LstModel::RocketPool(_) => "rocketpool",
            LstModel::ExchangeRate(_) => "exchange_rate",
        }
    }
    /// The rebasing asset it issues (moved as shares), if any.
    pub fn rebasing_asset(&self) -> Option<AssetId> {
        match self {
            LstModel::Lido(l) => Some(l.steth_asset()),
            LstModel::RocketPool(_) | LstModel::ExchangeRate(_) => None,
        }
    }
    /// ETH per token, wad.
    pub fn rate_wad(&self) -> Result<U256, EngineError> {
        match self {
            LstModel::Lido(l) => l.rate_wad().map_err(proto),
            LstModel::RocketPool(r) => r.rate_wad().map_err(proto),
            LstModel::ExchangeRate(x) => Ok(x.rate_wad()),
        }
    }
    /// ETH backing the token.
    pub fn tvl_wei(&self) -> Result<U256, EngineError> {
        match self {
            LstModel::Lido(l) => l.total_pooled_ether().map_err(proto),
            LstModel::RocketPool(r) => r.tvl_wei().map_err(proto),
            LstModel::ExchangeRate(x) => x.tvl_wei().map_err(proto),
        }
    }
    /// Withdrawal credentials account of its validators.
    pub fn credentials(&self) -> AccountId {
        match self {
            LstModel::Lido(l) => l.accounts().withdrawal_vault,
            LstModel::RocketPool(r) => r.withdrawal_account(),
            LstModel::ExchangeRate(x) => x.withdrawal_account(),
        }
    }
    /// Its invariants.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        match self {
            LstModel::Lido(l) => l.check_invariants(ledger),
            LstModel::RocketPool(r) => r.check_invariants(ledger),
            LstModel::ExchangeRate(x) => x.check_invariants(ledger),
        }
    }
    /// Its backing rules without the ledger-wide conservation scan (the world checks
    /// conservation on what a transaction touched).
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        match self {
            LstModel::Lido(l) => l.check_backing(ledger),
            LstModel::RocketPool(r) => r.check_backing(ledger),
            LstModel::ExchangeRate(x) => x.check_backing(ledger),
        }
    }

    /// Whether withdrawal request `id` is finalised (claimable unless already claimed). O(1) for
    /// Lido, O(log requests) for exchange-rate tokens; `false` for models without a queue.
    pub fn is_finalized(&self, id: u64) -> bool {
        match self {
            LstModel::Lido(l) => id <= l.withdrawal_queue().last_finalized_request_id,
            LstModel::ExchangeRate(x) => {
                let pos = x.requests.partition_point(|r| r.id < id);
                x.requests.get(pos).is_some_and(|r| r.id == id && r.finalized)
            }
            _ => false,
        }
    }

    /// Seconds a withdrawal started now would wait (Lido: queue estimate; Rocket Pool: 0 while
    /// the rETH contract and excess deposit pool hold ETH, else the L0 exit wait).
    ///
    /// Lido: one frame when the buffer, the withdrawal vault and exits already requested cover
    /// the unfinalised queue; otherwise the frames needed to request the missing exits (at most
    /// `max_validator_exit_requests_per_report` a frame), plus the L0 exit queue, the 256-epoch
    /// withdrawability delay and one frame to finalise.
    pub fn queue_seconds(&self, ledger: &Ledger, eth: &Ethereum) -> u64 {
        match self {
            LstModel::Lido(l) => {
                let frame = l.params().frame_seconds;
                let pending: u64 = l
                    .modules()
                    .iter()
                    .flat_map(|m| m.operators.iter())
                    .map(|o| o.pending_exits())
                    .sum();
                let vault = ledger.balance(l.accounts().withdrawal_vault, l.eth_asset());
                let covered = l
                    .buffered_ether()
                    .saturating_add(vault)
                    .saturating_add(DEPOSIT.saturating_mul(U256::from(pending)));
                let demand = l.unfinalized_steth();
                if demand <= covered && pending == 0 {
                    return frame;
                }
                let missing = demand.saturating_sub(covered).div_up_c(DEPOSIT).unwrap_or(U256::ZERO);
                let per_frame = U256::from(l.params().sanity.max_validator_exit_requests_per_report.max(1));
                let frames = missing
                    .div_up_c(per_frame)
                    .unwrap_or(U256::ZERO)
                    .min(U256::from(100_000u32));
                let frames = u64::try_from(frames).unwrap_or(100_000);
                const EXIT_DELAY: u64 = (5 + 256) * 384;
                frame
                    .saturating_mul(frames + 1)
                    .saturating_add(eth.exit_queue_wait_seconds())
                    .saturating_add(EXIT_DELAY)
            }
            LstModel::ExchangeRate(x) => x.queue_length_seconds(eth.exit_queue_wait_seconds()),
            LstModel::RocketPool(r) => {
                if r.total_collateral().map(|c| c > U256::ZERO).unwrap_or(false) {
                    0
                } else {
                    eth.exit_queue_wait_seconds()
                }
            }
        }
    }
}

impl StateHash for LstModel {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        match self {
            LstModel::Lido(l) => hash_serde(h, l.as_ref()),
            LstModel::RocketPool(r) => hash_serde(h, r.as_ref()),
            LstModel::ExchangeRate(x) => hash_serde(h, x.as_ref()),
        }
    }
}

fn lido_ev(sym: &str, ev: Vec<stake_lst::lido::LidoEvent>) -> impl Iterator<Item = Event> + '_ {
    ev.into_iter().map(move |event| Event::Lido {
        lst: sym.to_string(),
        event,
    })
}

fn xr_ev(sym: &str, ev: Vec<stake_lst::exchange_rate::ExchangeRateEvent>) -> impl Iterator<Item = Event> + '_ {
    ev.into_iter().map(move |event| Event::ExchangeRate {
        lst: sym.to_string(),
        event,
    })
}

fn rp_ev(sym: &str, ev: Vec<stake_lst::rocketpool::RocketPoolEvent>) -> impl Iterator<Item = Event> + '_ {
    ev.into_iter().map(move |event| Event::RocketPool {
        lst: sym.to_string(),
        event,
    })
}

impl LstEntry {
    fn unsupported(&self, op: &str) -> EngineError {
        EngineError::Unsupported {
            lst: self.symbol.clone(),
            model: self.model.name().into(),
            op: op.into(),
        }
    }

    /// A user operation. The model leaves its state unchanged on rejection; composite operations
    /// (split requests, claim-all) restore a copy.
    pub fn user_op(
        &mut self,
        ledger: &mut Ledger,
        sender: AccountId,
        action: &Action,
        now: u64,
    ) -> Result<Vec<Event>, EngineError> {
        let sym = self.symbol.clone();
        match (&mut self.model, action) {
            (LstModel::Lido(l), Action::Stake { amount, .. }) => {
                Ok(lido_ev(&sym, l.submit(ledger, sender, *amount, now).map_err(proto)?).collect())
            }
            (LstModel::Lido(l), Action::Wrap { amount, .. }) => {
                Ok(lido_ev(&sym, l.wrap(ledger, sender, *amount).map_err(proto)?.1).collect())
            }
            (LstModel::Lido(l), Action::Unwrap { amount, .. }) => {
                Ok(lido_ev(&sym, l.unwrap(ledger, sender, *amount).map_err(proto)?.1).collect())
            }
            (LstModel::Lido(l), Action::RequestWithdrawal { amount, .. }) => {
                let backup = (*amount > LIDO_MAX_REQUEST).then(|| l.clone());
                let mut left = *amount;
                let mut events = Vec::new();
                while left > U256::ZERO {
                    let part = left.min(LIDO_MAX_REQUEST);
                    match l.request_withdrawal(ledger, sender, part, now) {
                        Ok((_, ev)) => events.extend(lido_ev(&sym, ev)),
                        Err(e) => {
                            if let Some(b) = backup {
                                *l = b;
                            }
                            return Err(proto(e));
                        }
                    }
                    left -= part;
                }
                Ok(events)
            }
            (LstModel::Lido(l), Action::Claim { request_id, .. }) => match request_id {
                Some(id) => Ok(lido_ev(&sym, l.claim(ledger, sender, *id).map_err(proto)?.1).collect()),
                None => {
                    let q = l.withdrawal_queue();
                    let ids: Vec<u64> = (1..=q.last_finalized_request_id)
                        .filter(|id| {
                            q.requests
                                .get(usize::try_from(*id).unwrap_or(usize::MAX))
                                .map(|r| r.owner == Some(sender) && !r.claimed)
                                .unwrap_or(false)
                        })
                        .collect();
                    if ids.is_empty() {
                        return Err(EngineError::NothingToClaim {
                            lst: sym,
                            account: ledger.account_name(sender).to_string(),
                        });
                    }
                    let backup = l.clone();
                    let mut events = Vec::new();
                    for id in ids {
                        match l.claim(ledger, sender, id) {
                            Ok((_, ev)) => events.extend(lido_ev(&sym, ev)),
                            Err(e) => {
                                *l = backup;
                                return Err(proto(e));
                            }
                        }
                    }
                    Ok(events)
                }
            },
            (LstModel::ExchangeRate(x), Action::Stake { amount, .. }) => {
                Ok(xr_ev(&sym, x.deposit(ledger, sender, *amount, now).map_err(proto)?).collect())
            }
            (LstModel::ExchangeRate(x), Action::RequestWithdrawal { amount, .. }) => {
                Ok(xr_ev(&sym, x.request_withdrawal(ledger, sender, *amount, now).map_err(proto)?).collect())
            }
            (LstModel::ExchangeRate(x), Action::Claim { request_id, .. }) => {
                let ids: Vec<u64> = match request_id {
                    Some(id) => vec![*id],
                    None => x
                        .requests
                        .iter()
                        .filter(|r| r.owner == sender && r.finalized && !r.claimed)
                        .map(|r| r.id)
                        .collect(),
                };
                if ids.is_empty() {
                    return Err(EngineError::NothingToClaim {
                        lst: sym,
                        account: ledger.account_name(sender).to_string(),
                    });
                }
                let backup = x.clone();
                let mut events = Vec::new();
                for id in ids {
                    match x.claim(ledger, sender, id, now) {
                        Ok(ev) => events.extend(xr_ev(&sym, ev)),
                        Err(e) => {
                            **x = *backup;
                            return Err(proto(e));
                        }
                    }
                }
                Ok(events)
            }
            (LstModel::RocketPool(r), Action::Stake { amount, .. }) => {
                Ok(rp_ev(&sym, r.deposit(ledger, sender, *amount, now).map_err(proto)?).collect())
            }
            (LstModel::RocketPool(r), Action::Burn { amount, .. }) => {
                Ok(rp_ev(&sym, r.burn(ledger, sender, *amount, now).map_err(proto)?).collect())
            }
            (_, a) => {
                let op = match a {
                    Action::Stake { .. } => "stake",
                    Action::Wrap { .. } => "wrap",
                    Action::Unwrap { .. } => "unwrap",
                    Action::RequestWithdrawal { .. } => "request_withdrawal",
                    Action::Claim { .. } => "claim",
                    Action::Burn { .. } => "burn",
                    _ => "this",
                };
                Err(self.unsupported(op))
            }
        }
    }

    /// Transfer of the rebasing token.
    pub fn transfer_rebasing(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        to: AccountId,
        amount: U256,
        _now: u64,
    ) -> Result<Vec<Event>, EngineError> {
        let sym = self.symbol.clone();
        match &mut self.model {
            LstModel::Lido(l) => Ok(lido_ev(&sym, l.transfer(ledger, from, to, amount).map_err(proto)?).collect()),
            LstModel::RocketPool(_) | LstModel::ExchangeRate(_) => Err(self.unsupported("rebasing transfer")),
        }
    }

    /// The frame's oracle report from L0 summaries.
    pub fn oracle_report(&mut self, ledger: &mut Ledger, eth: &Ethereum, t: u64) -> Result<Vec<Event>, EngineError> {
        let sym = self.symbol.clone();
        match &mut self.model {
            LstModel::Lido(l) => {
                let s = eth.summary_by_credentials(l.accounts().withdrawal_vault);
                let appeared = s.active + s.exiting + s.exited_unwithdrawn + s.withdrawn;
                let cl_balance = s
                    .balance_wei
                    .sub_c(DEPOSIT.mul_c(U256::from(s.pending)).map_err(proto)?)
                    .map_err(proto)?;
                let mut exited = Vec::new();
                let mut losses = Vec::new();
                for m in l.modules() {
                    for o in &m.operators {
                        let os = eth.summary_by_operator(&o.name);
                        exited.push((o.name.clone(), os.exited_unwithdrawn + os.withdrawn));
                        let value = os.balance_wei.saturating_add(os.withdrawn_wei);
                        let tr = self.track.entry(o.name.clone()).or_default();
                        if value < tr.value_wei {
                            losses.push((o.name.clone(), tr.value_wei - value));
                        }
                    }
                }
                let report = l
                    .build_report(ledger, t, appeared, cl_balance, exited, losses)
                    .map_err(proto)?;
                let (_, ev) = l.handle_oracle_report(ledger, report, t).map_err(proto)?;
                for m in l.modules() {
                    for o in &m.operators {
                        let os = eth.summary_by_operator(&o.name);
                        self.track.entry(o.name.clone()).or_default().value_wei =
                            os.balance_wei.saturating_add(os.withdrawn_wei);
                    }
                }
                Ok(lido_ev(&sym, ev).collect())
            }
            LstModel::ExchangeRate(x) => {
                let s = eth.summary_by_credentials(x.withdrawal_account());
                let pending = DEPOSIT.mul_c(U256::from(s.pending)).map_err(proto)?;
                let report = ExchangeRateReport {
                    validators: s.active + s.exiting + s.exited_unwithdrawn + s.withdrawn,
                    balance_wei: s.balance_wei.sub_c(pending).map_err(proto)?,
                    exited_validators: s.exited_unwithdrawn + s.withdrawn,
                };
                let mut events: Vec<Event> = xr_ev(&sym, x.report(ledger, &report, t).map_err(proto)?).collect();
                events.extend(xr_ev(&sym, x.process_withdrawals(ledger, t).map_err(proto)?));
                Ok(events)
            }
            LstModel::RocketPool(r) => {
                let mut events = Vec::new();
                let nodes: Vec<(AccountId, String)> = r.nodes.values().map(|n| (n.account, n.name.clone())).collect();
                // Sweeps and EL rewards that reached the minipools account since the last frame.
                for (node, name) in &nodes {
                    let os = eth.summary_by_operator(name);
                    let tr = self.track.entry(name.clone()).or_default();
                    let exits = os.withdrawn.saturating_sub(tr.withdrawn);
                    let swept = os.withdrawn_wei.saturating_sub(tr.withdrawn_wei);
                    let el = os.el_rewards_wei.saturating_sub(tr.el_rewards_wei);
                    tr.withdrawn = os.withdrawn;
                    tr.withdrawn_wei = os.withdrawn_wei;
                    tr.el_rewards_wei = os.el_rewards_wei;
                    if exits > 0 {
                        events.extend(rp_ev(
                            &sym,
                            r.process_exit(ledger, *node, exits, swept, t).map_err(proto)?,
                        ));
                    }
                    let rewards = if exits > 0 { el } else { el.saturating_add(swept) };
                    if rewards > U256::ZERO {
                        events.extend(rp_ev(
                            &sym,
                            r.distribute_rewards(ledger, *node, rewards, t).map_err(proto)?,
                        ));
                    }
                }
                let reports: Vec<NodeBalance> = nodes
                    .iter()
                    .filter_map(|(node, name)| {
                        let n = r.node(*node)?;
                        (n.validators > 0).then(|| NodeBalance {
                            node: *node,
                            validators: n.validators,
                            balance_wei: eth.summary_by_operator(name).balance_wei,
                        })
                    })
                    .collect();
                events.extend(rp_ev(&sym, r.report_balances(ledger, &reports, t).map_err(proto)?));
                Ok(events)
            }
        }
    }

    /// Stakes the LST's depositable ETH into Ethereum validators.
    pub fn deposit(&mut self, ledger: &mut Ledger, eth: &mut Ethereum, t: u64) -> Result<Vec<Event>, EngineError> {
        let sym = self.symbol.clone();
        let mut events = Vec::new();
        match &mut self.model {
            LstModel::Lido(l) => {
                let plan = l.deposit_plan();
                if plan.is_empty() {
                    return Ok(events);
                }
                events.extend(lido_ev(&sym, l.on_deposited(ledger, &plan).map_err(proto)?));
                let a = l.accounts().clone();
                for (op, n) in &plan {
                    let tr = self.track.entry(op.clone()).or_default();
                    tr.value_wei = tr.value_wei.saturating_add(DEPOSIT.saturating_mul(U256::from(*n)));
                    let ev = eth
                        .deposit(ledger, a.buffer, *n, op, a.withdrawal_vault, a.el_vault, t)
                        .map_err(proto)?;
                    events.extend(ev.into_iter().map(Event::Ethereum));
                }
            }
            LstModel::ExchangeRate(x) => {
                let plan = x.deposit_plan();
                if plan.is_empty() {
                    return Ok(events);
                }
                events.extend(xr_ev(&sym, x.on_deposited(ledger, &plan, t).map_err(proto)?));
                let (staging, creds) = (x.staging_account(), x.withdrawal_account());
                for (op, n) in &plan {
                    let ev = eth.deposit(ledger, staging, *n, op, creds, creds, t).map_err(proto)?;
                    events.extend(ev.into_iter().map(Event::Ethereum));
                }
            }
            LstModel::RocketPool(r) => loop {
                let plan = r.deposit_plan();
                if plan.is_empty() {
                    break;
                }
                events.extend(rp_ev(&sym, r.on_deposited(ledger, &plan, t).map_err(proto)?));
                let (staging, creds) = (r.staging_account(), r.withdrawal_account());
                for (op, n) in &plan {
                    let ev = eth.deposit(ledger, staging, *n, op, creds, creds, t).map_err(proto)?;
                    events.extend(ev.into_iter().map(Event::Ethereum));
                }
            },
        }
        Ok(events)
    }

    /// Requests the validator exits the LST needs for its withdrawal queue.
    pub fn exits(&mut self, _ledger: &mut Ledger, eth: &mut Ethereum, t: u64) -> Result<Vec<Event>, EngineError> {
        let sym = self.symbol.clone();
        let mut events = Vec::new();
        if let LstModel::ExchangeRate(x) = &mut self.model {
            let creds = x.withdrawal_account();
            let mut done = Vec::new();
            for (op, n) in x.validators_to_exit() {
                // Specification (issue 16): only validators old enough to exit are asked for.
                let eligible = n.min(eth.exitable(creds, Some(&op)));
                if eligible > 0 && eth.request_exits(creds, Some(&op), eligible, t).is_ok() {
                    done.push((op, eligible));
                }
            }
            if !done.is_empty() {
                events.extend(xr_ev(&sym, x.on_exits_requested(&done, t).map_err(proto)?));
            }
        }
        if let LstModel::Lido(l) = &mut self.model {
            let want = l.validators_to_exit();
            let creds = l.accounts().withdrawal_vault;
            let mut done = Vec::new();
            for (op, n) in want {
                // Validators younger than the shard-committee period cannot exit yet: ask only for
                // those that can (a request with young ones would fail whole).
                let eligible = n.min(eth.exitable(creds, Some(&op)));
                if eligible == 0 {
                    continue;
                }
                if let Ok(ev) = eth.request_exits(creds, Some(&op), eligible, t) {
                    events.extend(ev.into_iter().map(Event::Ethereum));
                    done.push((op, eligible));
                }
            }
            if !done.is_empty() {
                events.extend(lido_ev(&sym, l.on_exits_requested(&done).map_err(proto)?));
            }
        }
        Ok(events)
    }

    /// Annualised growth of the rate since the start, as a fraction (reporting only).
    pub fn realised_apr(&self, now: u64) -> f64 {
        let Ok(rate) = self.model.rate_wad() else {
            return 0.0;
        };
        if now <= self.start_time || self.start_rate_wad == U256::ZERO {
            return 0.0;
        }
        let ratio = mul_div_down(rate, WAD, self.start_rate_wad)
            .map(|r| r.as_f64() / 1e18)
            .unwrap_or(1.0);
        (ratio - 1.0) * (365.0 * 86_400.0) / ((now - self.start_time) as f64)
    }
}
