//! The engine's side of L3 liquid restaking tokens (SPEC §6): Renzo's ezETH and Kelp's rsETH
//! over the world's own EigenLayer, EigenPods and Ethereum validators.
//!
//! An LRT is a `[lrt.<symbol>]` table. The pure models live in `stake-lrt`; the engine keeps the
//! tokens and the ETH in the ledger and moves stake between the protocols:
//! - **accounts**: `<lrt>:deposit_queue` (Renzo's `DepositQueue`, Kelp's `LRTDepositPool`: ETH
//!   waiting for validators), `<lrt>:withdraw_queue` (Renzo's `WithdrawQueue`, Kelp's unstaking
//!   vault and withdrawal manager: ETH for withdrawals), `<lrt>:locked` (LRT in open withdrawal
//!   requests), `<lrt>:treasury` (fees) and one EigenLayer staker per operator,
//!   `<lrt>:delegator:<operator>` (Renzo's `OperatorDelegator`, Kelp's `NodeDelegator`),
//!   delegated at genesis, owner of an EigenPod;
//! - **deposits** mint at the model's rate; the ETH waits in the deposit queue (Renzo first
//!   refills the withdraw buffer) and each frame whole 32-ETH validators go to the delegator
//!   below its target allocation (`chooseOperatorDelegatorForDeposit`; Kelp: the one furthest
//!   below its weight), deposited into L0 with its EigenPod as withdrawal credentials;
//! - **TVL** is read from the restaking layer, never assumed: per delegator its withdrawable
//!   beacon-chain shares (slashing already applied) + 32 ETH per validator deposited but not yet
//!   verified + the value of its queued EigenLayer withdrawals + any ETH it holds; plus the
//!   deposit and withdraw queues. Renzo takes it as `calculateTVLs` (fresh prices each frame,
//!   the 86,460 s limit applies); Kelp as `getTotalAssetDeposits` and then
//!   `updateRSETHPrice` mints its fee;
//! - **withdrawals**: a request locks the LRT and records its value; the withdraw queue pays
//!   from its buffer, and each frame the engine covers the rest of the deficit by exiting
//!   validators from the delegators' pods (`request_exits` with the pod's credentials), queueing
//!   the swept ETH as beacon-chain shares in EigenLayer, completing those withdrawals after
//!   `MIN_WITHDRAWAL_DELAY` as tokens and forwarding the ETH (Renzo
//!   `receive_withdrawn_eth`; Kelp moves it to the unstaking vault and runs `unlockQueue`);
//! - **rewards**: EigenLayer service rewards claimed by the delegators enter through the deposit
//!   queue (Renzo's fee on them; Kelp's fee on the price increase); consensus rewards raise the
//!   pods' balances and so the TVL;
//! - **slashing** reaches the rate in the same block: a service fault revalues every LRT
//!   ([`revalue_all`]) right after EigenLayer cut the operator's magnitude, so the pools,
//!   Pendle indices and lending oracles that read [`rate_of`] see it at once.
//!
//! Architecture Invariant: an LRT never creates value: every wei of its TVL is a balance or a
//! share the restaking layer holds for one of its accounts (checked by [`LrtWorld::check_backing`]
//! against the ledger).

use crate::action::Action;
use crate::amount::{parse_share_bps, parse_wad_fraction};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::restaking::RestakingAction;
use crate::scenario::{ActionCfg, Scenario, ScenarioError};
use crate::time::parse_duration;
use crate::world::{HookRejection, World, DEPOSIT};
use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AssetId, Ledger, Reject, Rejection};
use stake_lrt::kelp::{Kelp, KelpParams};
use stake_lrt::renzo::{Renzo, RenzoParams};
use stake_math::{mul_div_down, Checked, U256, WAD};
use stake_restaking::eigenlayer::{pod_account_name, BEACON_STRATEGY, SECONDS_PER_BLOCK};

mod report;
pub use report::{sample, summary, LrtSummary};

/// `[lrt.<symbol>]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrtCfg {
    /// `renzo` or `kelp`.
    pub model: String,
    /// Operator delegators: `{ operator = "op-a", allocation = "60%" }`, operators of
    /// `[[operators]]`.
    pub operators: Vec<LrtOperatorCfg>,
    /// Protocol fee on rewards (Renzo `feeBasisPoints`) or on the price increase (Kelp
    /// `protocolFeeInBPS`), e.g. `"10%"` (default 10 %).
    pub fee: Option<String>,
    /// Renzo: `coolDownPeriod` (default `7d`); Kelp: `withdrawalDelayBlocks` as a duration
    /// (default `8d`).
    pub withdrawal_delay: Option<String>,
    /// Renzo: the instant-withdrawal buffer target, e.g. `"500 ETH"` (default 0).
    pub buffer: Option<String>,
    /// Kelp: `pricePercentageLimit` in whole percent, e.g. `"5%"` (default none).
    pub price_limit: Option<String>,
    /// Kelp: ETH deposit limit (default none).
    pub deposit_limit: Option<String>,
}

/// One operator delegator of an LRT.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrtOperatorCfg {
    /// EigenLayer operator (declared in `[[operators]]`).
    pub operator: String,
    /// Target share of the TVL, e.g. `"60%"` (default: an equal part).
    pub allocation: Option<String>,
}

/// An LRT's protocol model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LrtModel {
    /// Renzo ezETH.
    Renzo(Renzo),
    /// Kelp rsETH.
    Kelp(Kelp),
}

impl LrtModel {
    /// The model's name.
    pub fn name(&self) -> &'static str {
        match self {
            LrtModel::Renzo(_) => "renzo",
            LrtModel::Kelp(_) => "kelp",
        }
    }
    /// Total supply of the token in the model.
    pub fn supply(&self) -> U256 {
        match self {
            LrtModel::Renzo(r) => r.supply,
            LrtModel::Kelp(k) => k.supply,
        }
    }
    /// The model's own rules.
    pub fn check_invariants(&self) -> Result<(), String> {
        match self {
            LrtModel::Renzo(r) => r.check_invariants(),
            LrtModel::Kelp(k) => k.check_invariants(),
        }
    }
}

/// One operator delegator (an EigenLayer staker and EigenPod owner of the LRT).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegator {
    /// The operator it delegates to.
    pub operator: String,
    /// Its account (`<lrt>:delegator:<operator>`).
    pub account: String,
    /// Target allocation, hundredths of a percent (10,000 = 100 %).
    pub allocation: u32,
    /// Validators deposited through its pod.
    pub deposited: u64,
    /// Validators asked to exit.
    pub exit_requested: u64,
    /// Queued EigenLayer withdrawals: (id, ETH value when queued).
    pub queued: Vec<(u64, U256)>,
}

/// An LRT in the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LrtEntry {
    /// Token symbol.
    pub symbol: String,
    /// The token.
    pub asset: AssetId,
    /// Protocol state.
    pub model: LrtModel,
    /// Operator delegators, in declaration order (Renzo's delegator index = position).
    pub delegators: Vec<Delegator>,
    /// Open withdrawal requests by owner: (id, LRT locked). Kelp pays them in order.
    pub requests: imbl::OrdMap<String, Vec<(u64, U256)>>,
    /// Fees paid (Renzo: ETH; Kelp: rsETH), cumulative.
    pub fees: U256,
    /// ETH minted by deposits, cumulative (for the summary).
    pub deposited: U256,
    /// ETH paid to claims, cumulative.
    pub paid: U256,
    /// EigenLayer service rewards claimed by the delegators (ETH), cumulative.
    pub restaking_rewards: U256,
    /// Protocol fees in ETH (Kelp's rsETH fee valued at the price it was minted at).
    pub fees_eth: U256,
    /// TVL lost in slashing transactions (ETH), cumulative.
    pub slashed: U256,
}

/// The L3 state of the world.
#[derive(Clone, Debug, Default)]
pub struct LrtWorld {
    /// LRTs in declaration order (alphabetical by symbol, as TOML tables).
    pub lrts: Vec<LrtEntry>,
}

/// LRT actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LrtAction {
    /// Deposit ETH and mint.
    Deposit {
        /// LRT symbol.
        lrt: String,
        /// ETH (wei).
        amount: U256,
    },
    /// Lock LRT in a withdrawal request.
    RequestWithdrawal {
        /// LRT symbol.
        lrt: String,
        /// LRT base units.
        amount: U256,
    },
    /// Claim every request of the sender that can be paid now.
    Claim {
        /// LRT symbol.
        lrt: String,
    },
}

impl LrtAction {
    /// Short description.
    pub fn describe(&self) -> String {
        match self {
            LrtAction::Deposit { lrt, amount } => format!("deposit {amount} wei into {lrt}"),
            LrtAction::RequestWithdrawal { lrt, amount } => format!("request withdrawal of {amount} {lrt}"),
            LrtAction::Claim { lrt } => format!("claim {lrt} withdrawals"),
        }
    }
}

/// Rejections of the engine's LRT wiring (9300–9319).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LrtError {
    /// No LRT with this symbol.
    UnknownLrt {
        /// Symbol.
        lrt: String,
    },
    /// The sender has no request that can be paid now.
    NothingToClaim {
        /// LRT.
        lrt: String,
        /// Account.
        account: String,
    },
}

impl std::fmt::Display for LrtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LrtError::UnknownLrt { lrt } => write!(f, "unknown LRT `{lrt}`"),
            LrtError::NothingToClaim { lrt, account } => {
                write!(f, "{account} has no {lrt} withdrawal that can be claimed now")
            }
        }
    }
}

impl Reject for LrtError {
    fn code(&self) -> u32 {
        match self {
            LrtError::UnknownLrt { .. } => 9300,
            LrtError::NothingToClaim { .. } => 9301,
        }
    }
}

/// Quiet hook codes: an expected refusal (nothing to complete, nothing to claim).
const NO_WITHDRAWAL_PAST_DELAY: u32 = 9031;

fn acct(sym: &str, role: &str) -> String {
    format!("{sym}:{role}")
}

impl LrtWorld {
    /// Whether there is no LRT.
    pub fn is_empty(&self) -> bool {
        self.lrts.is_empty()
    }
    /// Index of an LRT by symbol.
    pub fn index(&self, lrt: &str) -> Result<usize, EngineError> {
        self.lrts
            .iter()
            .position(|l| l.symbol == lrt)
            .ok_or_else(|| proto(LrtError::UnknownLrt { lrt: lrt.into() }))
    }
    /// The LRT whose token is `asset`.
    pub fn of_asset(&self, asset: AssetId) -> Option<&LrtEntry> {
        self.lrts.iter().find(|l| l.asset == asset)
    }
    /// Feeds the state into the world hash (nothing when there is no LRT).
    pub fn hash_state(&self, h: &mut blake3::Hasher) {
        if !self.lrts.is_empty() {
            hash_serde(h, &self.lrts);
        }
    }
    /// Backing rules: its supply equal to the token's ledger supply, its queues equal to their
    /// accounts' ETH; with `full`, also each model's own rules and the locked tokens equal to the
    /// open requests (sums over every request: the full check's, not every transaction's).
    pub fn check_backing(&self, ledger: &Ledger, eth: AssetId, full: bool) -> Result<(), String> {
        for l in &self.lrts {
            if full {
                l.model.check_invariants().map_err(|e| format!("{}: {e}", l.symbol))?;
            }
            let bal = |role: &str, asset: AssetId| {
                ledger
                    .find_account(&acct(&l.symbol, role))
                    .map(|a| ledger.balance(a, asset))
                    .unwrap_or(U256::ZERO)
            };
            let supply = ledger.supply(l.asset);
            if supply != l.model.supply() {
                return Err(format!(
                    "{}: ledger supply {supply} differs from the model's {}",
                    l.symbol,
                    l.model.supply()
                ));
            }
            let (dq, wq, locked) = (
                bal("deposit_queue", eth),
                bal("withdraw_queue", eth),
                bal("locked", l.asset),
            );
            match &l.model {
                LrtModel::Renzo(r) => {
                    if dq != r.deposit_queue || wq != r.withdraw_queue {
                        return Err(format!(
                            "{}: queues hold {dq} / {wq} wei, the model counts {} / {}",
                            l.symbol, r.deposit_queue, r.withdraw_queue
                        ));
                    }
                    if !full {
                        continue;
                    }
                    let open: U256 = r
                        .requests
                        .values()
                        .fold(U256::ZERO, |a, q| a.saturating_add(q.ez_eth_locked));
                    if open != locked {
                        return Err(format!("{}: {locked} locked, requests lock {open}", l.symbol));
                    }
                }
                LrtModel::Kelp(k) => {
                    let a = k.assets.get(stake_lrt::kelp::ETH).ok_or("kelp: no ETH asset")?;
                    let held = a.unstaking_vault.saturating_add(a.manager_balance);
                    if wq != held {
                        return Err(format!(
                            "{}: withdraw queue holds {wq} wei, vault + manager count {held}",
                            l.symbol
                        ));
                    }
                }
            }
        }
        Ok(())
    }
    /// Metric columns.
    pub fn columns(&self) -> Vec<String> {
        let mut c = Vec::new();
        for l in &self.lrts {
            for m in ["rate", "tvl_eth", "supply", "queue_eth"] {
                c.push(format!("{}.{m}", l.symbol));
            }
        }
        c
    }
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

fn block_of(world: &World) -> u64 {
    world.now.saturating_sub(world.restaking.start) / SECONDS_PER_BLOCK
}

/// Builds `[lrt.*]`: tokens, models, delegators (delegated at genesis). Runs after restaking.
pub fn build(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    for (sym, cfg) in &scn.lrt {
        let path = format!("lrt.{sym}");
        if sym.contains(':') || world.ledger.asset(sym).is_ok() {
            return Err(err(&path, format!("`{sym}` is already an asset (or contains `:`)")));
        }
        if world.restaking.el.is_none() {
            return Err(err(
                &path,
                "an LRT restakes through EigenLayer: add `[restaking.eigenlayer]`",
            ));
        }
        if cfg.operators.is_empty() {
            return Err(err(
                format!("{path}.operators"),
                "an LRT needs at least one operator delegator",
            ));
        }
        let frac = |v: &Option<String>, key: &str, default: U256| -> Result<U256, ScenarioError> {
            match v {
                Some(s) => parse_wad_fraction(s).map_err(|e| err(format!("{path}.{key}"), e)),
                None => Ok(default),
            }
        };
        let share = |s: &str, key: &str| parse_share_bps(s).map_err(|e| err(format!("{path}.{key}"), e));
        let fee_bps = share(cfg.fee.as_deref().unwrap_or("10%"), "fee")?;
        let n = u32::try_from(cfg.operators.len()).map_err(|_| err(format!("{path}.operators"), "too many"))?;
        let mut delegators = Vec::new();
        let mut total_alloc = 0u32;
        for (i, o) in cfg.operators.iter().enumerate() {
            let opath = format!("{path}.operators[{i}]");
            if !world.restaking.operators.contains(&o.operator) {
                return Err(err(
                    format!("{opath}.operator"),
                    format!("`{}` is not an operator of `[[operators]]`", o.operator),
                ));
            }
            if delegators.iter().any(|d: &Delegator| d.operator == o.operator) {
                return Err(err(
                    format!("{opath}.operator"),
                    format!("`{}` is listed twice", o.operator),
                ));
            }
            let allocation = match &o.allocation {
                Some(s) => share(s, &format!("operators[{i}].allocation"))?,
                None => 10_000 / n,
            };
            total_alloc = total_alloc.saturating_add(allocation);
            delegators.push(Delegator {
                operator: o.operator.clone(),
                account: acct(sym, &format!("delegator:{}", o.operator)),
                allocation,
                deposited: 0,
                exit_requested: 0,
                queued: Vec::new(),
            });
        }
        if total_alloc > 10_000 {
            return Err(err(format!("{path}.operators"), "allocations add up to more than 100%"));
        }
        let delay = match &cfg.withdrawal_delay {
            Some(s) => Some(parse_duration(s).map_err(|e| err(format!("{path}.withdrawal_delay"), e))?),
            None => None,
        };
        let eth_amount = |v: &Option<String>, key: &str| -> Result<Option<U256>, ScenarioError> {
            v.as_deref()
                .map(|s| crate::amount::parse_amount_of(s, "ETH", 18).map_err(|e| err(format!("{path}.{key}"), e)))
                .transpose()
        };
        let model = match cfg.model.as_str() {
            "renzo" => {
                if cfg.price_limit.is_some() || cfg.deposit_limit.is_some() {
                    return Err(err(&path, "`price_limit` and `deposit_limit` are Kelp parameters"));
                }
                let mut r = Renzo::new(
                    RenzoParams {
                        cooldown_s: delay.unwrap_or(7 * 86_400),
                        withdraw_buffer_target: eth_amount(&cfg.buffer, "buffer")?.unwrap_or(U256::ZERO),
                        fee_bps,
                    },
                    start,
                );
                for d in &delegators {
                    r.add_operator_delegator(&d.account, d.allocation)
                        .map_err(|e| err(format!("{path}.operators"), e.to_string()))?;
                }
                LrtModel::Renzo(r)
            }
            "kelp" => {
                if cfg.buffer.is_some() {
                    return Err(err(format!("{path}.buffer"), "`buffer` is a Renzo parameter"));
                }
                let limit = match &cfg.price_limit {
                    Some(s) => {
                        let w = frac(&Some(s.clone()), "price_limit", U256::ZERO)?;
                        let pct = mul_div_down(w, U256::from(100u8), WAD)
                            .map_err(|e| err(format!("{path}.price_limit"), e.to_string()))?;
                        if pct.mul_c(WAD).ok() != Some(w.mul_c(U256::from(100u8)).unwrap_or(U256::ZERO)) {
                            return Err(err(format!("{path}.price_limit"), "Kelp's limit is a whole percent"));
                        }
                        u32::try_from(pct).map_err(|_| err(format!("{path}.price_limit"), "too large"))?
                    }
                    None => 0,
                };
                let blocks = delay.map(|d| d / SECONDS_PER_BLOCK);
                let params = KelpParams {
                    protocol_fee_bps: fee_bps,
                    price_percentage_limit: limit,
                    withdrawal_delay_blocks: blocks.unwrap_or(stake_lrt::kelp::DEFAULT_WITHDRAWAL_DELAY_BLOCKS),
                    ..KelpParams::default()
                };
                let k = Kelp::new(
                    params,
                    eth_amount(&cfg.deposit_limit, "deposit_limit")?.unwrap_or(U256::MAX),
                )
                .map_err(|e| err(format!("{path}.withdrawal_delay"), e.to_string()))?;
                LrtModel::Kelp(k)
            }
            other => {
                return Err(err(
                    format!("{path}.model"),
                    format!("unknown LRT model `{other}` (available: renzo, kelp)"),
                ))
            }
        };
        let asset = world
            .ledger
            .register_asset(sym, 18, model.name(), stake_ledger::AssetKind::Plain)
            .map_err(|e| err(&path, e.to_string()))?;
        for role in ["deposit_queue", "withdraw_queue", "locked", "treasury"] {
            world.ledger.account(&acct(sym, role));
        }
        let block = 0;
        for d in &delegators {
            world.ledger.account(&d.account);
            let el = world.restaking.el.as_mut().ok_or_else(|| err(&path, "no EigenLayer"))?;
            el.delegate(&world.ledger, &d.account, &d.operator, block)
                .map_err(|e| err(format!("{path}.operators"), e.to_string()))?;
        }
        world.lrt.lrts.push(LrtEntry {
            symbol: sym.clone(),
            asset,
            model,
            delegators,
            requests: imbl::OrdMap::new(),
            fees: U256::ZERO,
            deposited: U256::ZERO,
            paid: U256::ZERO,
            restaking_rewards: U256::ZERO,
            fees_eth: U256::ZERO,
            slashed: U256::ZERO,
        });
    }
    Ok(())
}

/// `[[actions]]` with `lrt = "..."`: `stake` (ETH in), `request_withdrawal`, `claim`.
pub fn schedule_action(
    a: &ActionCfg,
    path: &str,
    world: &World,
) -> Option<Result<(Action, Option<String>), ScenarioError>> {
    let lrt = a.lrt.as_ref()?;
    Some((|| {
        world
            .lrt
            .index(lrt)
            .map_err(|_| err(format!("{path}.lrt"), format!("unknown LRT `{lrt}`")))?;
        let amount = |unit: &str| -> Result<(U256, Option<String>), ScenarioError> {
            let s = a
                .amount
                .as_deref()
                .ok_or_else(|| err(format!("{path}.amount"), "missing amount"))?;
            if s.trim() == "all" {
                return Ok((U256::ZERO, Some(unit.to_string())));
            }
            let v = crate::amount::parse_amount_of(s, unit, 18).map_err(|e| err(format!("{path}.amount"), e))?;
            if v == U256::ZERO {
                return Err(err(format!("{path}.amount"), "must be positive"));
            }
            Ok((v, None))
        };
        let lrt = lrt.clone();
        Ok(match a.op.as_str() {
            "stake" | "deposit" => {
                let (amount, all) = amount("ETH")?;
                (Action::Lrt(LrtAction::Deposit { lrt, amount }), all)
            }
            "request_withdrawal" => {
                let (amount, all) = amount(&lrt)?;
                (Action::Lrt(LrtAction::RequestWithdrawal { lrt, amount }), all)
            }
            "claim" => (Action::Lrt(LrtAction::Claim { lrt }), None),
            other => {
                return Err(err(
                    format!("{path}.do"),
                    format!("`{other}` is not an LRT action (stake, request_withdrawal, claim)"),
                ))
            }
        })
    })())
}

/// Applies a user's LRT action.
pub fn apply(world: &mut World, sender: &str, action: &LrtAction) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let block = block_of(world);
    let eth = world.eth_asset;
    match action {
        LrtAction::Deposit { lrt, amount } => {
            if *amount == U256::ZERO {
                return Err(EngineError::ZeroAmount { what: "amount".into() });
            }
            let i = world.lrt.index(lrt)?;
            let from = world.ledger.account(sender);
            world.ledger.require(from, eth, *amount).map_err(proto)?;
            let sym = world.lrt.lrts[i].symbol.clone();
            let asset = world.lrt.lrts[i].asset;
            let mut model = world.lrt.lrts[i].model.clone();
            let (minted, to_buffer) = match &mut model {
                LrtModel::Renzo(r) => {
                    let d = r.deposit_eth(*amount, now).map_err(proto)?;
                    (d.minted, d.to_buffer)
                }
                LrtModel::Kelp(k) => (
                    k.deposit_asset(stake_lrt::kelp::ETH, *amount, U256::ZERO)
                        .map_err(proto)?,
                    U256::ZERO,
                ),
            };
            if minted == U256::ZERO {
                return Err(EngineError::ZeroAmount {
                    what: format!("{sym} minted"),
                });
            }
            let dq = world.ledger.account(&acct(&sym, "deposit_queue"));
            let wq = world.ledger.account(&acct(&sym, "withdraw_queue"));
            let rest = amount.sub_c(to_buffer).map_err(proto)?;
            world.ledger.transfer(from, dq, eth, rest).map_err(proto)?;
            world.ledger.transfer(from, wq, eth, to_buffer).map_err(proto)?;
            world.ledger.mint(from, asset, minted).map_err(proto)?;
            let e = &mut world.lrt.lrts[i];
            e.model = model;
            e.deposited = e.deposited.saturating_add(*amount);
            Ok(vec![Event::Transferred {
                asset: sym,
                from: "mint".into(),
                to: sender.into(),
                units: minted,
            }])
        }
        LrtAction::RequestWithdrawal { lrt, amount } => {
            if *amount == U256::ZERO {
                return Err(EngineError::ZeroAmount { what: "amount".into() });
            }
            let i = world.lrt.index(lrt)?;
            let from = world.ledger.account(sender);
            let asset = world.lrt.lrts[i].asset;
            world.ledger.require(from, asset, *amount).map_err(proto)?;
            let sym = world.lrt.lrts[i].symbol.clone();
            let mut model = world.lrt.lrts[i].model.clone();
            let id = match &mut model {
                LrtModel::Renzo(r) => r.withdraw(sender, *amount, now).map_err(proto)?,
                LrtModel::Kelp(k) => k
                    .initiate_withdrawal(sender, stake_lrt::kelp::ETH, *amount, block)
                    .map_err(proto)?,
            };
            let locked = world.ledger.account(&acct(&sym, "locked"));
            world.ledger.transfer(from, locked, asset, *amount).map_err(proto)?;
            let e = &mut world.lrt.lrts[i];
            e.model = model;
            e.requests.entry(sender.to_string()).or_default().push((id, *amount));
            Ok(vec![Event::Transferred {
                asset: sym,
                from: sender.into(),
                to: acct(lrt, "locked"),
                units: *amount,
            }])
        }
        LrtAction::Claim { lrt } => claim(world, sender, lrt, now, block, eth),
    }
}

fn claim(
    world: &mut World,
    sender: &str,
    lrt: &str,
    now: u64,
    block: u64,
    eth: AssetId,
) -> Result<Vec<Event>, EngineError> {
    let i = world.lrt.index(lrt)?;
    let sym = world.lrt.lrts[i].symbol.clone();
    let asset = world.lrt.lrts[i].asset;
    let mine = world.lrt.lrts[i].requests.get(sender).cloned().unwrap_or_default();
    let mut model = world.lrt.lrts[i].model.clone();
    let mut paid = U256::ZERO;
    let mut burn = U256::ZERO;
    let mut left = Vec::new();
    // The first refusal, reported when nothing could be paid (too early, not yet filled).
    let mut first: Option<EngineError> = None;
    match &mut model {
        LrtModel::Renzo(r) => {
            for (id, locked) in mine {
                match r.claim(sender, id, now) {
                    Ok(p) => {
                        paid = paid.add_c(p).map_err(proto)?;
                        burn = burn.add_c(locked).map_err(proto)?;
                    }
                    Err(e) => {
                        first.get_or_insert(proto(e));
                        left.push((id, locked));
                    }
                }
            }
        }
        LrtModel::Kelp(k) => {
            // Kelp pays the oldest request first; the rsETH was burnt at unlock.
            let mut rest = mine.into_iter();
            for (id, locked) in rest.by_ref() {
                match k.complete_withdrawal(sender, stake_lrt::kelp::ETH, block) {
                    Ok((_, p)) => paid = paid.add_c(p).map_err(proto)?,
                    Err(e) => {
                        first.get_or_insert(proto(e));
                        left.push((id, locked));
                        break;
                    }
                }
            }
            left.extend(rest);
        }
    }
    if paid == U256::ZERO && burn == U256::ZERO {
        if let Some(e) = first {
            return Err(e);
        }
        return Err(proto(LrtError::NothingToClaim {
            lrt: sym,
            account: sender.into(),
        }));
    }
    let wq = world.ledger.account(&acct(&sym, "withdraw_queue"));
    let to = world.ledger.account(sender);
    world.ledger.transfer(wq, to, eth, paid).map_err(proto)?;
    if burn > U256::ZERO {
        let locked = world.ledger.account(&acct(&sym, "locked"));
        world.ledger.burn(locked, asset, burn).map_err(proto)?;
    }
    let e = &mut world.lrt.lrts[i];
    e.model = model;
    e.paid = e.paid.saturating_add(paid);
    if left.is_empty() {
        e.requests.remove(sender);
    } else {
        e.requests.insert(sender.to_string(), left);
    }
    Ok(vec![Event::Transferred {
        asset: "ETH".into(),
        from: acct(lrt, "withdraw_queue"),
        to: sender.into(),
        units: paid,
    }])
}

/// ETH value held for one delegator: withdrawable beacon shares + 32 ETH per validator not yet
/// verified + what its queued withdrawals would pay now + its own ETH balance.
///
/// A queued withdrawal is valued as EigenLayer would pay it now (`getQueuedWithdrawal`: its
/// scaled shares at the current slashing factor, frozen once its delay has passed), so a slash
/// of shares already in the queue lowers the TVL in the slashing transaction, not at completion.
pub fn delegator_value(world: &World, d: &Delegator) -> Result<U256, EngineError> {
    let el = world.restaking.el.as_ref().ok_or_else(no_el)?;
    let shares = el.withdrawable_shares(&d.account, BEACON_STRATEGY).map_err(proto)?;
    let verified = world.restaking.pods.get(&d.account).map(|p| p.verified).unwrap_or(0);
    let unverified = DEPOSIT
        .mul_c(U256::from(d.deposited.saturating_sub(verified)))
        .map_err(proto)?;
    let block = block_of(world);
    let mut queued = U256::ZERO;
    for (id, _) in &d.queued {
        for s in el.queued_withdrawal_shares(*id, block).map_err(proto)? {
            queued = queued.add_c(s).map_err(proto)?;
        }
    }
    let own = world
        .ledger
        .find_account(&d.account)
        .map(|a| world.ledger.balance(a, world.eth_asset))
        .unwrap_or(U256::ZERO);
    shares
        .add_c(unverified)
        .and_then(|v| v.add_c(queued))
        .and_then(|v| v.add_c(own))
        .map_err(proto)
}

fn no_el() -> EngineError {
    EngineError::Protocol(Rejection {
        code: 9030,
        message: "the scenario has no [restaking.eigenlayer]".into(),
    })
}

/// Re-reads every delegator's value and reprices the LRT: Renzo's TVLs with fresh prices, Kelp's
/// asset total then `updateRSETHPrice` (its fee minted to the treasury).
fn revalue(world: &mut World, i: usize) -> Result<Vec<Event>, EngineError> {
    let now = world.now;
    let values: Vec<U256> = world.lrt.lrts[i]
        .delegators
        .iter()
        .map(|d| delegator_value(world, d))
        .collect::<Result<_, _>>()?;
    let sym = world.lrt.lrts[i].symbol.clone();
    let asset = world.lrt.lrts[i].asset;
    let bal = |w: &World, role: &str| {
        w.ledger
            .find_account(&acct(&sym, role))
            .map(|a| w.ledger.balance(a, w.eth_asset))
            .unwrap_or(U256::ZERO)
    };
    let (dq, wq) = (bal(world, "deposit_queue"), bal(world, "withdraw_queue"));
    let mut model = world.lrt.lrts[i].model.clone();
    let mut fee = U256::ZERO;
    match &mut model {
        LrtModel::Renzo(r) => {
            for (k, v) in values.iter().enumerate() {
                r.report_delegator_tvl(k, *v, now).map_err(proto)?;
            }
            r.update_prices(now);
        }
        LrtModel::Kelp(k) => {
            let a = k.assets.get(stake_lrt::kelp::ETH).ok_or_else(no_el)?;
            // getTotalAssetDeposits: pool + node delegators + EigenLayer + unstaking vault (the
            // manager's unclaimed payouts left the TVL at unlock).
            let mut total = dq.add_c(wq.saturating_sub(a.manager_balance)).map_err(proto)?;
            for v in &values {
                total = total.add_c(*v).map_err(proto)?;
            }
            k.report_asset_total(stake_lrt::kelp::ETH, total).map_err(proto)?;
            if k.supply > U256::ZERO {
                fee = k.update_rseth_price().map_err(proto)?.1;
            }
        }
    }
    if fee > U256::ZERO {
        let t = world.ledger.account(&acct(&sym, "treasury"));
        world.ledger.mint(t, asset, fee).map_err(proto)?;
    }
    let e = &mut world.lrt.lrts[i];
    e.model = model;
    e.fees = e.fees.saturating_add(fee);
    if let LrtModel::Kelp(k) = &e.model {
        e.fees_eth = e
            .fees_eth
            .saturating_add(mul_div_down(fee, k.price, WAD).map_err(proto)?);
    }
    Ok(Vec::new())
}

/// Revalues every LRT now (after a slash, in the same block). A failure is a hook rejection.
pub fn revalue_all(world: &mut World) -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..world.lrt.lrts.len() {
        let name = format!("{} revalue", world.lrt.lrts[i].symbol);
        let before = tvl_of(world, i);
        guarded(world, i, name, &mut events, |w| revalue(w, i));
        let drop = before.saturating_sub(tvl_of(world, i));
        let e = &mut world.lrt.lrts[i];
        e.slashed = e.slashed.saturating_add(drop);
    }
    events
}

/// The LRT's TVL as its model last valued it (0 when it cannot be read).
pub fn tvl_of(world: &World, i: usize) -> U256 {
    match &world.lrt.lrts[i].model {
        LrtModel::Renzo(r) => r.total_tvl(world.now).unwrap_or(U256::ZERO),
        LrtModel::Kelp(k) => k.tvl_eth().unwrap_or(U256::ZERO),
    }
}

/// Runs one LRT hook with the LRT entry and the ledger restored if it fails.
fn guarded(
    world: &mut World,
    i: usize,
    hook: String,
    events: &mut Vec<Event>,
    f: impl FnOnce(&mut World) -> Result<Vec<Event>, EngineError>,
) {
    let backup = world.lrt.lrts[i].clone();
    let cp = world.ledger.checkpoint();
    match f(world) {
        Ok(ev) => {
            world.ledger.commit(cp);
            events.extend(ev);
        }
        Err(e) => {
            world.ledger.rollback(cp);
            world.lrt.lrts[i] = backup;
            let time = world.now;
            world.hook_rejections.push(HookRejection {
                time,
                hook,
                rejection: e.rejection(),
            });
        }
    }
}

fn quiet_apply(
    world: &mut World,
    sender: &str,
    action: RestakingAction,
    hook: &str,
    quiet: Option<u32>,
) -> Option<Vec<Event>> {
    let hook = hook.to_string();
    world
        .apply_in_hook(sender, Action::Restaking(action), move || hook, quiet)
        .ok()
}

/// The frame hook of every LRT: complete matured withdrawals, sweep rewards, queue swept pod
/// ETH, exit validators for the withdraw deficit, stake the deposit queue, revalue.
pub fn on_frame(world: &mut World, t: u64) -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..world.lrt.lrts.len() {
        let sym = world.lrt.lrts[i].symbol.clone();
        for k in 0..world.lrt.lrts[i].delegators.len() {
            guarded(world, i, format!("{sym} delegator inflows"), &mut events, |w| {
                inflows(w, i, k)
            });
            guarded(world, i, format!("{sym} pod withdrawals"), &mut events, |w| {
                queue_swept(w, i, k)
            });
        }
        guarded(world, i, format!("{sym} revalue"), &mut events, |w| revalue(w, i));
        guarded(world, i, format!("{sym} unstake"), &mut events, |w| unstake(w, i, t));
        guarded(world, i, format!("{sym} stake deposit queue"), &mut events, |w| {
            stake(w, i)
        });
        guarded(world, i, format!("{sym} revalue"), &mut events, |w| revalue(w, i));
    }
    events
}

/// Completed EigenLayer withdrawals and claimed rewards of delegator `k` flow into the LRT.
fn inflows(world: &mut World, i: usize, k: usize) -> Result<Vec<Event>, EngineError> {
    let d = world.lrt.lrts[i].delegators[k].clone();
    let sym = world.lrt.lrts[i].symbol.clone();
    let eth = world.eth_asset;
    let mut events = Vec::new();
    let from = world.ledger.account(&d.account);
    let before = world.ledger.balance(from, eth);
    if !d.queued.is_empty() {
        if let Some(ev) = quiet_apply(
            world,
            &d.account,
            RestakingAction::CompleteWithdrawals,
            &format!("{sym} complete withdrawals"),
            Some(NO_WITHDRAWAL_PAST_DELAY),
        ) {
            events.extend(ev);
        }
    }
    let withdrawn = world.ledger.balance(from, eth).sub_c(before).map_err(proto)?;
    let el = world.restaking.el.as_ref().ok_or_else(no_el)?;
    let still: Vec<(u64, U256)> = d
        .queued
        .iter()
        .filter(|(id, _)| el.withdrawals.contains_key(id))
        .cloned()
        .collect();
    let has_rewards = el.claimable(&d.account, "ETH", world.now) > U256::ZERO;
    let mid = world.ledger.balance(from, eth);
    if has_rewards {
        if let Some(ev) = quiet_apply(
            world,
            &d.account,
            RestakingAction::ClaimRewards,
            &format!("{sym} claim rewards"),
            None,
        ) {
            events.extend(ev);
        }
    }
    let rewards = world.ledger.balance(from, eth).sub_c(mid).map_err(proto)?;
    // Earlier leftovers (e.g. ETH that a failed forward left) go with the withdrawn ETH.
    let withdrawn = withdrawn.add_c(before).map_err(proto)?;
    world.lrt.lrts[i].delegators[k].queued = still;
    let dq = world.ledger.account(&acct(&sym, "deposit_queue"));
    let wq = world.ledger.account(&acct(&sym, "withdraw_queue"));
    let treasury = world.ledger.account(&acct(&sym, "treasury"));
    let mut model = world.lrt.lrts[i].model.clone();
    let mut fee = U256::ZERO;
    let (to_wq, to_dq) = match &mut model {
        LrtModel::Renzo(r) => {
            let (w0, d0) = (r.withdraw_queue, r.deposit_queue);
            if withdrawn > U256::ZERO {
                // The delegator's TVL is its reported value; the ETH it forwards leaves it.
                let tvl = r.delegators.get(k).map(|x| x.tvl).unwrap_or(U256::ZERO);
                if tvl < withdrawn {
                    r.report_delegator_tvl(k, withdrawn, world.now).map_err(proto)?;
                }
                r.receive_withdrawn_eth(k, withdrawn).map_err(proto)?;
            }
            if rewards > U256::ZERO {
                fee = r.receive_rewards(rewards).map_err(proto)?;
            }
            (
                r.withdraw_queue.sub_c(w0).map_err(proto)?,
                r.deposit_queue.sub_c(d0).map_err(proto)?,
            )
        }
        LrtModel::Kelp(kp) => {
            // Withdrawn ETH lands in the unstaking vault; rewards in the deposit pool.
            if withdrawn > U256::ZERO {
                kp.move_to_unstaking_vault(stake_lrt::kelp::ETH, withdrawn)
                    .map_err(proto)?;
            }
            (withdrawn, rewards)
        }
    };
    world.ledger.transfer(from, wq, eth, to_wq).map_err(proto)?;
    world.ledger.transfer(from, dq, eth, to_dq).map_err(proto)?;
    world.ledger.transfer(from, treasury, eth, fee).map_err(proto)?;
    let e = &mut world.lrt.lrts[i];
    e.model = model;
    e.fees = e.fees.saturating_add(fee);
    e.fees_eth = e.fees_eth.saturating_add(fee);
    e.restaking_rewards = e.restaking_rewards.saturating_add(rewards);
    kelp_unlock(world, i)?;
    Ok(events)
}

/// Kelp's `unlockQueue` over the unstaking vault, burning the unlocked rsETH from the locked
/// account (nothing to do — an empty vault, no request due — is not an error).
fn kelp_unlock(world: &mut World, i: usize) -> Result<(), EngineError> {
    let block = block_of(world);
    let e = &mut world.lrt.lrts[i];
    let LrtModel::Kelp(kp) = &mut e.model else {
        return Ok(());
    };
    if let Ok((burned, _)) = kp.unlock_queue(stake_lrt::kelp::ETH, u64::MAX, block) {
        let (asset, locked) = (e.asset, acct(&e.symbol, "locked"));
        let locked = world.ledger.account(&locked);
        world.ledger.burn(locked, asset, burned).map_err(proto)?;
    }
    Ok(())
}

/// ETH swept into delegator `k`'s pod by exits is queued in EigenLayer as beacon-chain shares.
fn queue_swept(world: &mut World, i: usize, k: usize) -> Result<Vec<Event>, EngineError> {
    let d = world.lrt.lrts[i].delegators[k].clone();
    let eth = world.eth_asset;
    let Ok(pod) = world.ledger.find_account(&pod_account_name(&d.account)) else {
        return Ok(Vec::new());
    };
    let swept = world.ledger.balance(pod, eth);
    // ETH of withdrawals already queued still sits in the pod until they complete.
    let queued = d.queued.iter().fold(U256::ZERO, |a, (_, v)| a.saturating_add(*v));
    let free = swept.saturating_sub(queued);
    if free < DEPOSIT / U256::from(32u8) {
        return Ok(Vec::new());
    }
    let el = world.restaking.el.as_ref().ok_or_else(no_el)?;
    let withdrawable = el.withdrawable_shares(&d.account, BEACON_STRATEGY).map_err(proto)?;
    let deposit_shares = el
        .stakers
        .get(&d.account)
        .and_then(|s| s.positions.get(BEACON_STRATEGY))
        .map(|p| p.deposit_shares)
        .unwrap_or(U256::ZERO);
    if withdrawable == U256::ZERO || deposit_shares == U256::ZERO {
        return Ok(Vec::new());
    }
    let value = free.min(withdrawable);
    // Deposit shares whose withdrawable value is `value` (rounded down: never more than swept).
    let shares = mul_div_down(deposit_shares, value, withdrawable).map_err(proto)?;
    if shares == U256::ZERO {
        return Ok(Vec::new());
    }
    let block = block_of(world);
    let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
    let (id, ev) = el
        .queue_withdrawal(
            &world.ledger,
            &d.account,
            &[(BEACON_STRATEGY.to_string(), shares)],
            block,
        )
        .map_err(proto)?;
    let expected = mul_div_down(shares, withdrawable, deposit_shares).map_err(proto)?;
    world.lrt.lrts[i].delegators[k].queued.push((id, expected));
    Ok(ev
        .into_iter()
        .map(|e| Event::Restaking(crate::restaking::RestakingEvent::EigenLayer(e)))
        .collect())
}

/// ETH the LRT still needs for its withdrawals, beyond what is already on its way (validators
/// exiting, swept pod ETH, queued EigenLayer withdrawals).
fn deficit(world: &World, i: usize) -> Result<U256, EngineError> {
    let e = &world.lrt.lrts[i];
    let need = match &e.model {
        LrtModel::Renzo(r) => r.withdraw_deficit().map_err(proto)?,
        LrtModel::Kelp(k) => {
            let a = k.assets.get(stake_lrt::kelp::ETH).ok_or_else(no_el)?;
            a.committed.saturating_sub(a.unstaking_vault)
        }
    };
    let mut coming = U256::ZERO;
    for d in &e.delegators {
        let pod = world.ledger.find_account(&pod_account_name(&d.account)).ok();
        let s = pod.map(|p| world.eth.summary_by_credentials(p));
        let exiting = s.map(|s| s.exiting + s.exited_unwithdrawn).unwrap_or(0);
        let swept = pod
            .map(|p| world.ledger.balance(p, world.eth_asset))
            .unwrap_or(U256::ZERO);
        let queued = d.queued.iter().fold(U256::ZERO, |a, (_, v)| a.saturating_add(*v));
        coming = coming
            .saturating_add(DEPOSIT.saturating_mul(U256::from(exiting)))
            .saturating_add(swept.max(queued));
    }
    Ok(need.saturating_sub(coming))
}

/// Covers the withdraw deficit: Kelp first moves deposit-pool ETH into the unstaking vault;
/// then validators exit from the delegator holding the most value.
fn unstake(world: &mut World, i: usize, t: u64) -> Result<Vec<Event>, EngineError> {
    let sym = world.lrt.lrts[i].symbol.clone();
    let eth = world.eth_asset;
    if let LrtModel::Kelp(_) = world.lrt.lrts[i].model {
        let need = deficit(world, i)?;
        let dq = world.ledger.account(&acct(&sym, "deposit_queue"));
        let mv = need.min(world.ledger.balance(dq, eth));
        if mv > U256::ZERO {
            let wq = world.ledger.account(&acct(&sym, "withdraw_queue"));
            if let LrtModel::Kelp(k) = &mut world.lrt.lrts[i].model {
                k.move_to_unstaking_vault(stake_lrt::kelp::ETH, mv).map_err(proto)?;
            }
            world.ledger.transfer(dq, wq, eth, mv).map_err(proto)?;
            kelp_unlock(world, i)?;
        }
    }
    let need = deficit(world, i)?;
    if need == U256::ZERO {
        return Ok(Vec::new());
    }
    let validators = need
        .add_c(DEPOSIT - U256::ONE)
        .and_then(|v| v.div_c(DEPOSIT))
        .map_err(proto)?;
    let mut want = u64::try_from(validators).unwrap_or(u64::MAX);
    let mut events = Vec::new();
    // From the delegators with the most exitable validators first (ties: declaration order).
    let mut order: Vec<(u64, usize)> = Vec::new();
    for (k, d) in world.lrt.lrts[i].delegators.iter().enumerate() {
        let active = world
            .ledger
            .find_account(&pod_account_name(&d.account))
            .map(|p| world.eth.exitable(p, Some(&d.account)))
            .unwrap_or(0);
        order.push((active, k));
    }
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (active, k) in order {
        if want == 0 || active == 0 {
            break;
        }
        let n = want.min(active);
        let owner = world.lrt.lrts[i].delegators[k].account.clone();
        let pod = world.ledger.account(&pod_account_name(&owner));
        // Only validators past SHARD_COMMITTEE_PERIOD are counted: the request cannot fail whole.
        if let Ok(ev) = world.eth.request_exits(pod, Some(&owner), n, t) {
            events.extend(ev.into_iter().map(Event::Ethereum));
            let d = &mut world.lrt.lrts[i].delegators[k];
            d.exit_requested = d.exit_requested.saturating_add(n);
            want -= n;
        }
    }
    Ok(events)
}

/// Whole validators from the deposit queue into the delegators' EigenPods, one validator at a
/// time to the delegator the model picks with the values updated after each (Renzo:
/// `chooseOperatorDelegatorForDeposit`, the first below `allocation · TVL`; Kelp: the node
/// delegator furthest below its weight), so a large deposit is spread by the targets.
fn stake(world: &mut World, i: usize) -> Result<Vec<Event>, EngineError> {
    let sym = world.lrt.lrts[i].symbol.clone();
    let eth = world.eth_asset;
    let dq = world.ledger.account(&acct(&sym, "deposit_queue"));
    let held = world.ledger.balance(dq, eth);
    let n = u64::try_from(held / DEPOSIT).unwrap_or(u64::MAX);
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut values: Vec<U256> = world.lrt.lrts[i]
        .delegators
        .iter()
        .map(|d| delegator_value(world, d))
        .collect::<Result<_, _>>()?;
    let mut counts = vec![0u64; values.len()];
    let e = &mut world.lrt.lrts[i];
    match &mut e.model {
        LrtModel::Renzo(r) => {
            let total = values
                .iter()
                .try_fold(r.deposit_queue.add_c(r.withdraw_queue).map_err(proto)?, |a, v| {
                    a.add_c(*v).map_err(proto)
                })?;
            for _ in 0..n {
                let k = r.choose_operator_delegator_for_deposit(&values, total).map_err(proto)?;
                r.stake_from_deposit_queue(k, 1).map_err(proto)?;
                values[k] = values[k].add_c(DEPOSIT).map_err(proto)?;
                counts[k] += 1;
                // Value moves from the deposit queue into a delegator: the total is unchanged.
            }
        }
        LrtModel::Kelp(_) => {
            for _ in 0..n {
                let mut best = 0usize;
                for k in 1..values.len() {
                    let lhs = values[k].saturating_mul(U256::from(e.delegators[best].allocation.max(1)));
                    let rhs = values[best].saturating_mul(U256::from(e.delegators[k].allocation.max(1)));
                    if lhs < rhs {
                        best = k;
                    }
                }
                values[best] = values[best].add_c(DEPOSIT).map_err(proto)?;
                counts[best] += 1;
            }
        }
    }
    let mut events = Vec::new();
    for (k, c) in counts.into_iter().enumerate() {
        if c == 0 {
            continue;
        }
        let owner = world.lrt.lrts[i].delegators[k].account.clone();
        let from = world.ledger.account(&owner);
        let amount = DEPOSIT.mul_c(U256::from(c)).map_err(proto)?;
        world.ledger.transfer(dq, from, eth, amount).map_err(proto)?;
        events.extend(crate::restaking::apply(
            world,
            &owner,
            &RestakingAction::RestakeNative { validators: c },
        )?);
        let d = &mut world.lrt.lrts[i].delegators[k];
        d.deposited = d.deposited.saturating_add(c);
    }
    Ok(events)
}

/// ETH per LRT token (wad), as pools, Pendle and lending oracles read it.
pub fn rate_of(world: &World, asset: AssetId) -> Option<Result<U256, EngineError>> {
    let e = world.lrt.of_asset(asset)?;
    Some(match &e.model {
        LrtModel::Renzo(r) => r.rate_at(world.now).map_err(proto),
        LrtModel::Kelp(k) => Ok(k.price),
    })
}

/// Every LRT token's current rate (those that can be read).
pub fn rates(world: &World) -> Vec<(AssetId, U256)> {
    world
        .lrt
        .lrts
        .iter()
        .filter_map(|e| rate_of(world, e.asset).and_then(Result::ok).map(|r| (e.asset, r)))
        .collect()
}

/// The time (seconds) a withdrawal request of `amount` LRT units made now would wait before it
/// can be claimed: the protocol's own cool-down (Renzo's `coolDownPeriod`, Kelp's unlock delay)
/// when the ETH on hand covers the request and the withdraw deficit; otherwise also a frame
/// for the LRT to ask for exits, the L0 exit queue, the withdrawability delay and the sweep,
/// and EigenLayer's withdrawal delay.
pub fn queue_seconds(world: &World, i: usize, amount: U256) -> u64 {
    let Some(e) = world.lrt.lrts.get(i) else {
        return 0;
    };
    let (cooldown, on_hand) = match &e.model {
        LrtModel::Renzo(r) => (r.params.cooldown_s, r.available_to_withdraw().unwrap_or(U256::ZERO)),
        LrtModel::Kelp(k) => (
            k.params.withdrawal_delay_blocks.saturating_mul(SECONDS_PER_BLOCK),
            k.assets
                .get(stake_lrt::kelp::ETH)
                .map(|a| a.unstaking_vault.saturating_sub(a.committed))
                .unwrap_or(U256::ZERO),
        ),
    };
    let value = rate_of(world, e.asset)
        .and_then(Result::ok)
        .and_then(|r| mul_div_down(amount, r, WAD).ok())
        .unwrap_or(U256::MAX);
    let short = deficit(world, i).map(|d| d > U256::ZERO).unwrap_or(true) || value > on_hand;
    if !short {
        return cooldown;
    }
    // Exits wait for the exit epoch plus MIN_VALIDATOR_WITHDRAWABILITY_DELAY (256 epochs) and a
    // sweep; then EigenLayer's delay.
    const EXIT_DELAY: u64 = (5 + 256) * 384;
    let el = world
        .restaking
        .el
        .as_ref()
        .map(|el| el.params.min_withdrawal_delay.saturating_mul(SECONDS_PER_BLOCK))
        .unwrap_or(0);
    world
        .frame_seconds
        .saturating_add(world.eth.exit_queue_wait_seconds())
        .saturating_add(EXIT_DELAY)
        .saturating_add(el)
        .max(cooldown)
}

/// Whether `owner` could claim at least one of its requests of LRT `i` now: the claims are tried
/// on a copy of the model (its per-holder maps are persistent, so the copy is O(1)).
pub fn can_claim(world: &World, i: usize, owner: &str) -> bool {
    let Some(e) = world.lrt.lrts.get(i) else {
        return false;
    };
    let Some(mine) = e.requests.get(owner) else {
        return false;
    };
    match e.model.clone() {
        LrtModel::Renzo(mut r) => mine.iter().any(|(id, _)| r.claim(owner, *id, world.now).is_ok()),
        LrtModel::Kelp(mut k) => k
            .complete_withdrawal(owner, stake_lrt::kelp::ETH, block_of(world))
            .is_ok(),
    }
}
