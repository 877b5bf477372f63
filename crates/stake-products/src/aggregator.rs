//! `aggregator` — a yield aggregator (SPEC §8 "auto-allocation"): an ERC-4626 [`Vault`] whose
//! assets sit idle or in strategies (plain LST, LRT, StableSwap LP, Pendle PT, a loop), placed by
//! a policy under caps and rebalanced on a cadence with costs.
//!
//! * **Targets.** The idle buffer keeps `⌊totalAssets·idle_buffer_bps/1e4⌋`; the rest goes to the
//!   strategies in decreasing order of their *score*, each up to its cap (`Assets(a)`, or
//!   `ShareBps(b)` = `⌊totalAssets·b/1e4⌋`); what no strategy takes stays idle. The score is the
//!   expected APR (`MaxYield`) or `apr − risk_aversion·risk_score/1e18` (`MaxRiskAdjusted`); a
//!   strategy scoring ≤ 0 gets nothing (idle scores 0). Ties go to the earlier strategy.
//! * **Moves.** [`Aggregator::plan_rebalance`] pairs the slots above their target (lowest score
//!   first) with those below (highest score first). Each move costs a fixed transaction cost plus
//!   the [`CostModel`]'s slippage quote, and is refused when that cost exceeds its gain over the
//!   cadence, `⌊amount·(score_to − score_from)·cadence_s/(1e18·SECONDS_PER_YEAR)⌋`. A strategy
//!   whose withdrawal delay is longer than the cadence is not a source (its exit would not land
//!   before the next rebalance). Applied moves are booked at once; their cost is a realised loss.
//! * **Share price.** `convertToAssets(10^(18+offset))`. It never decreases except through
//!   [`Aggregator::report_loss`] or a rebalance cost, and an operation that would push it above
//!   `max_share_price_wad` is rejected (a circuit breaker on reported gains).
//! * **Withdrawals.** A redemption the idle assets cover is paid at once; a larger one takes
//!   from the idle buffer and every strategy pro rata to what each holds, burns the
//!   shares at once at `previewRedeem` and is claimable after the longest delay it used.

use crate::vault::{Vault, VaultError};
use crate::{ensure, math_error};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::signed::to_signed;
use stake_math::{mul_div_down, Checked, MathError, I256, SECONDS_PER_YEAR, U256, WAD};
use std::fmt;

/// Basis-point denominator.
pub const BPS_SCALE: u32 = 10_000;
/// Most strategies an aggregator holds (bounds every planning loop).
pub const MAX_STRATEGIES: usize = 32;

/// What a strategy holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StrategyKind {
    /// A plain liquid staking token (stETH, rETH).
    PlainLst,
    /// Restaking through a liquid restaking token (ezETH, weETH).
    Lrt,
    /// A StableSwap LP position (Curve stETH/ETH).
    StableSwapLp,
    /// A Pendle principal token held to maturity.
    PendlePt,
    /// A leverage loop (supply LST, borrow ETH, restake).
    Loop,
}

/// A strategy's cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cap {
    /// At most this many assets.
    Assets(U256),
    /// At most this share of `totalAssets`, bps.
    ShareBps(u32),
}

/// One place the aggregator allocates to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// Name (unique).
    pub name: String,
    /// What it holds.
    pub kind: StrategyKind,
    /// Expected APR, wad.
    pub apr_wad: U256,
    /// Risk score, wad (an annualised penalty: `MaxRiskAdjusted` subtracts `aversion·risk`).
    pub risk_score_wad: U256,
    /// Cap on the allocation.
    pub cap: Cap,
    /// Seconds between asking for assets back and receiving them.
    pub withdrawal_delay_s: u64,
    /// Assets currently allocated (as last reported).
    pub allocation: U256,
}

impl Strategy {
    /// A strategy with no allocation yet.
    pub fn new(name: &str, kind: StrategyKind, apr_wad: U256, risk_score_wad: U256, cap: Cap) -> Self {
        Strategy {
            name: name.into(),
            kind,
            apr_wad,
            risk_score_wad,
            cap,
            withdrawal_delay_s: 0,
            allocation: U256::ZERO,
        }
    }

    /// The same strategy with a withdrawal delay.
    pub fn with_delay(mut self, withdrawal_delay_s: u64) -> Self {
        self.withdrawal_delay_s = withdrawal_delay_s;
        self
    }
}

/// How the aggregator ranks strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    /// Highest expected APR first.
    MaxYield,
    /// Highest `apr − risk_aversion·risk_score/1e18` first.
    MaxRiskAdjusted {
        /// Weight of the risk score, wad (1e18 = one unit of APR per unit of risk).
        risk_aversion_wad: U256,
    },
}

/// Where a move takes assets from or puts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Slot {
    /// The vault's idle buffer.
    Idle,
    /// A strategy, by index.
    Strategy(usize),
}

/// One planned move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// Source.
    pub from: Slot,
    /// Destination.
    pub to: Slot,
    /// Assets taken from the source.
    pub amount: U256,
    /// Fixed cost + slippage; the destination receives `amount − cost`.
    pub cost: U256,
    /// Score gain over the cadence (the bar the cost had to clear).
    pub gain: U256,
}

/// The slippage quote of a move (the fixed transaction cost is added by the planner).
pub trait CostModel {
    /// Assets lost moving `amount` from `from` to `to`.
    fn slippage(&self, from: Slot, to: Slot, amount: U256) -> U256;
}

impl<F: Fn(Slot, Slot, U256) -> U256> CostModel for F {
    fn slippage(&self, from: Slot, to: Slot, amount: U256) -> U256 {
        self(from, to, amount)
    }
}

/// Rebalance parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalanceParams {
    /// Fixed cost of one move (gas), assets.
    pub move_cost: U256,
    /// Seconds until the next rebalance (the horizon over which a move must pay for itself).
    pub cadence_s: u64,
}

/// A withdrawal waiting for its strategies' delays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedWithdrawal {
    /// Who claims it.
    pub owner: String,
    /// Assets owed.
    pub assets: U256,
    /// First second at which it can be claimed.
    pub ready_at: u64,
}

/// What a withdrawal request did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WithdrawalOutcome {
    /// Paid from the idle buffer at once.
    Paid {
        /// Assets paid.
        assets: U256,
    },
    /// Queued behind a withdrawal delay.
    Queued {
        /// Request id.
        id: u64,
        /// Assets owed.
        assets: U256,
        /// When it can be claimed.
        ready_at: u64,
    },
}

/// Rejections of the aggregator (codes 7100–7199; vault rejections keep their 7000s codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggregatorError {
    /// A vault rejection.
    Vault(VaultError),
    /// A bps value above 10,000.
    InvalidBps {
        /// The value.
        bps: u32,
    },
    /// A share-price cap below the current share price.
    InvalidPriceCap {
        /// The cap.
        cap: U256,
        /// The current price.
        price: U256,
    },
    /// A strategy with this name exists.
    DuplicateStrategy {
        /// The name.
        name: String,
    },
    /// No strategy at this index.
    UnknownStrategy {
        /// The index.
        index: usize,
    },
    /// More than [`MAX_STRATEGIES`].
    TooManyStrategies {
        /// The limit.
        max: usize,
    },
    /// A new strategy must start with no allocation.
    NonZeroInitialAllocation {
        /// Its allocation.
        allocation: U256,
    },
    /// The operation would push the share price above the cap.
    PriceAboveCap {
        /// Price after the operation.
        price: U256,
        /// The cap.
        cap: U256,
    },
    /// The operation would lower the share price without a reported loss.
    PriceDecrease {
        /// Price after the operation.
        price: U256,
        /// Price before.
        floor: U256,
    },
    /// A loss above the strategy's allocation.
    LossExceedsAllocation {
        /// Strategy index.
        index: usize,
        /// Loss reported.
        loss: U256,
        /// Its allocation.
        allocation: U256,
    },
    /// Redeeming more shares than the owner holds.
    InsufficientShares {
        /// Shares asked.
        shares: U256,
        /// Owner's balance.
        balance: U256,
    },
    /// No such request for this owner.
    UnknownRequest {
        /// Request id.
        id: u64,
    },
    /// The request's delay has not passed.
    NotReady {
        /// Request id.
        id: u64,
        /// When it becomes claimable.
        ready_at: u64,
        /// Now.
        now: u64,
    },
    /// A move takes more than its source holds.
    InvalidMove {
        /// Source.
        from: Slot,
        /// Amount asked.
        amount: U256,
        /// What the source holds.
        available: U256,
    },
    /// A move's cost is above its amount.
    CostExceedsAmount {
        /// Cost.
        cost: U256,
        /// Amount.
        amount: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

math_error!(AggregatorError);

impl From<VaultError> for AggregatorError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Math(m) => AggregatorError::Math(m),
            other => AggregatorError::Vault(other),
        }
    }
}

impl fmt::Display for AggregatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AggregatorError::*;
        match self {
            Vault(e) => write!(f, "{e}"),
            InvalidBps { bps } => write!(f, "aggregator: {bps} bps above 10000"),
            InvalidPriceCap { cap, price } => write!(f, "aggregator: price cap {cap} below the price {price}"),
            DuplicateStrategy { name } => write!(f, "aggregator: strategy {name} exists"),
            UnknownStrategy { index } => write!(f, "aggregator: no strategy {index}"),
            TooManyStrategies { max } => write!(f, "aggregator: at most {max} strategies"),
            NonZeroInitialAllocation { allocation } => {
                write!(f, "aggregator: a new strategy holds {allocation}, not 0")
            }
            PriceAboveCap { price, cap } => write!(f, "aggregator: share price {price} above the cap {cap}"),
            PriceDecrease { price, floor } => {
                write!(
                    f,
                    "aggregator: share price {price} below {floor} without a reported loss"
                )
            }
            LossExceedsAllocation {
                index,
                loss,
                allocation,
            } => {
                write!(
                    f,
                    "aggregator: loss {loss} above strategy {index}'s allocation {allocation}"
                )
            }
            InsufficientShares { shares, balance } => write!(f, "aggregator: {shares} shares, balance {balance}"),
            UnknownRequest { id } => write!(f, "aggregator: no withdrawal request {id} for this owner"),
            NotReady { id, ready_at, now } => write!(f, "aggregator: request {id} ready at {ready_at}, now {now}"),
            InvalidMove {
                from,
                amount,
                available,
            } => {
                write!(f, "aggregator: move of {amount} from {from:?} holding {available}")
            }
            CostExceedsAmount { cost, amount } => write!(f, "aggregator: cost {cost} above the amount {amount}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl Reject for AggregatorError {
    fn code(&self) -> u32 {
        use AggregatorError::*;
        match self {
            Vault(e) => e.code(),
            InvalidBps { .. } => 7100,
            InvalidPriceCap { .. } => 7101,
            DuplicateStrategy { .. } => 7102,
            UnknownStrategy { .. } => 7103,
            TooManyStrategies { .. } => 7104,
            NonZeroInitialAllocation { .. } => 7105,
            PriceAboveCap { .. } => 7106,
            PriceDecrease { .. } => 7107,
            LossExceedsAllocation { .. } => 7108,
            InsufficientShares { .. } => 7109,
            UnknownRequest { .. } => 7110,
            NotReady { .. } => 7111,
            InvalidMove { .. } => 7112,
            CostExceedsAmount { .. } => 7113,
            Math(e) => e.code(),
        }
    }
}

/// Result of an aggregator operation.
pub type AggregatorResult<T> = Result<T, AggregatorError>;

/// The aggregator's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregator {
    /// The ERC-4626 vault (its `strategy_assets` is the sum of the allocations).
    pub vault: Vault,
    /// The strategies.
    pub strategies: Vec<Strategy>,
    /// The allocation policy.
    pub policy: Policy,
    /// Share of `totalAssets` kept idle, bps.
    pub idle_buffer_bps: u32,
    /// Highest share price any operation may leave.
    pub max_share_price_wad: U256,
    /// Share price after the last operation (a price below it needs a reported loss).
    pub last_share_price_wad: U256,
    /// Queued withdrawals by id.
    pub queue: OrdMap<u64, QueuedWithdrawal>,
    /// Σ assets owed to the queue (outside `totalAssets`).
    pub queued_assets: U256,
    /// Next request id.
    pub next_request: u64,
    /// Σ reported losses.
    pub losses: U256,
    /// Σ rebalance costs.
    pub costs_paid: U256,
}

impl Aggregator {
    /// An empty aggregator.
    ///
    /// Specification: fails with `Vault(InvalidDecimalsOffset)` as [`Vault::new`], with
    /// `InvalidBps` if `idle_buffer_bps` exceeds 10,000 and with `InvalidPriceCap` if the cap is
    /// below the empty vault's price (1e18).
    pub fn new(
        decimals_offset: u8,
        policy: Policy,
        idle_buffer_bps: u32,
        max_share_price_wad: U256,
    ) -> AggregatorResult<Self> {
        let vault = Vault::new(decimals_offset)?;
        check_bps(idle_buffer_bps)?;
        let price = vault.share_price_wad()?;
        if max_share_price_wad < price {
            return Err(AggregatorError::InvalidPriceCap {
                cap: max_share_price_wad,
                price,
            });
        }
        Ok(Aggregator {
            vault,
            strategies: Vec::new(),
            policy,
            idle_buffer_bps,
            max_share_price_wad,
            last_share_price_wad: price,
            queue: OrdMap::new(),
            queued_assets: U256::ZERO,
            next_request: 0,
            losses: U256::ZERO,
            costs_paid: U256::ZERO,
        })
    }

    /// Adds a strategy and returns its index.
    ///
    /// Specification: fails with `TooManyStrategies` beyond [`MAX_STRATEGIES`],
    /// `DuplicateStrategy` if the name is taken, `NonZeroInitialAllocation` if it holds assets,
    /// `InvalidBps` for a `ShareBps` cap above 10,000.
    pub fn add_strategy(&mut self, s: Strategy) -> AggregatorResult<usize> {
        if self.strategies.len() >= MAX_STRATEGIES {
            return Err(AggregatorError::TooManyStrategies { max: MAX_STRATEGIES });
        }
        if self.strategies.iter().any(|x| x.name == s.name) {
            return Err(AggregatorError::DuplicateStrategy { name: s.name });
        }
        if s.allocation != U256::ZERO {
            return Err(AggregatorError::NonZeroInitialAllocation {
                allocation: s.allocation,
            });
        }
        if let Cap::ShareBps(b) = s.cap {
            check_bps(b)?;
        }
        self.strategies.push(s);
        Ok(self.strategies.len() - 1)
    }

    /// Updates a strategy's expected APR and risk score (the curator's view).
    ///
    /// Specification: fails with `UnknownStrategy` for a bad index.
    pub fn set_expectations(&mut self, index: usize, apr_wad: U256, risk_score_wad: U256) -> AggregatorResult<()> {
        let s = self.strategy_mut(index)?;
        s.apr_wad = apr_wad;
        s.risk_score_wad = risk_score_wad;
        Ok(())
    }

    fn strategy_mut(&mut self, index: usize) -> AggregatorResult<&mut Strategy> {
        self.strategies
            .get_mut(index)
            .ok_or(AggregatorError::UnknownStrategy { index })
    }

    /// Runs `f` on a copy and keeps it only if it succeeds and leaves a valid share price
    /// (rejection leaves the state unchanged). `loss_allowed`: the price may fall.
    ///
    /// The copy holds the bounded part of the state (vault, ≤ [`MAX_STRATEGIES`] strategies,
    /// totals): the withdrawal queue is set aside for the duration, so `f` sees it empty and a
    /// queued request is inserted by the caller after success.
    fn transact<T>(
        &mut self,
        loss_allowed: bool,
        f: impl FnOnce(&mut Aggregator) -> AggregatorResult<T>,
    ) -> AggregatorResult<T> {
        let queue = std::mem::take(&mut self.queue);
        let attempt = self.attempt(loss_allowed, f);
        self.queue = queue;
        let (next, out) = attempt?;
        let queue = std::mem::take(&mut self.queue);
        *self = next;
        self.queue = queue;
        Ok(out)
    }

    fn attempt<T>(
        &self,
        loss_allowed: bool,
        f: impl FnOnce(&mut Aggregator) -> AggregatorResult<T>,
    ) -> AggregatorResult<(Aggregator, T)> {
        let mut next = self.clone();
        let out = f(&mut next)?;
        let price = next.vault.share_price_wad()?;
        if price > next.max_share_price_wad {
            return Err(AggregatorError::PriceAboveCap {
                price,
                cap: next.max_share_price_wad,
            });
        }
        if !loss_allowed && price < self.last_share_price_wad {
            return Err(AggregatorError::PriceDecrease {
                price,
                floor: self.last_share_price_wad,
            });
        }
        next.last_share_price_wad = price;
        Ok((next, out))
    }

    /// `deposit(assets)` into the idle buffer; returns the shares minted.
    ///
    /// Specification: fails as [`Vault::deposit`] (`ExceededMaxDeposit`).
    pub fn deposit(&mut self, assets: U256) -> AggregatorResult<U256> {
        self.transact(false, |a| Ok(a.vault.deposit(assets)?))
    }

    /// `mint(shares)`; returns the assets taken.
    ///
    /// Specification: fails as [`Vault::mint`] (`ExceededMaxMint`).
    pub fn mint(&mut self, shares: U256) -> AggregatorResult<U256> {
        self.transact(false, |a| Ok(a.vault.mint(shares)?))
    }

    /// Redeems `shares` of an owner holding `balance` at `previewRedeem`: paid at once if the
    /// idle assets cover it, else queued (see the module doc).
    ///
    /// Specification: fails with `InsufficientShares` above `balance`.
    pub fn request_withdrawal(
        &mut self,
        owner: &str,
        shares: U256,
        balance: U256,
        now: u64,
    ) -> AggregatorResult<WithdrawalOutcome> {
        if shares > balance {
            return Err(AggregatorError::InsufficientShares { shares, balance });
        }
        let outcome = self.transact(false, |a| {
            let assets = a.vault.preview_redeem(shares)?;
            if assets <= a.vault.idle {
                a.vault.apply_exit(assets, shares)?;
                return Ok(WithdrawalOutcome::Paid { assets });
            }
            // The idle buffer gives its pro-rata part too, so every slot — idle and each
            // strategy — keeps its share of what stays: a withdrawal never pushes a strategy
            // over a share cap it respected, nor empties the buffer.
            let held = a.strategies.iter().try_fold(U256::ZERO, |t, s| t.add_c(s.allocation))?;
            let from_idle = mul_div_down(assets, a.vault.idle, a.vault.idle.add_c(held)?)?;
            let mut shortfall = assets.sub_c(from_idle)?;
            // The strategies pro rata to their allocations; the rounding remainder comes from
            // them in index order.
            let mut takes = Vec::with_capacity(a.strategies.len());
            let mut planned = U256::ZERO;
            for s in &a.strategies {
                let t = if held == U256::ZERO {
                    U256::ZERO
                } else {
                    mul_div_down(shortfall, s.allocation, held)?
                };
                planned = planned.add_c(t)?;
                takes.push(t);
            }
            let mut rest = shortfall.sub_c(planned)?;
            for (i, s) in a.strategies.iter().enumerate() {
                let extra = rest.min(s.allocation.sub_c(takes[i])?);
                takes[i] = takes[i].add_c(extra)?;
                rest = rest.sub_c(extra)?;
            }
            let mut ready_at = now;
            for (i, take) in takes.into_iter().enumerate() {
                if take == U256::ZERO {
                    continue;
                }
                let s = &mut a.strategies[i];
                s.allocation = s.allocation.sub_c(take)?;
                shortfall = shortfall.sub_c(take)?;
                ready_at = ready_at.max(now.checked_add(s.withdrawal_delay_s).ok_or(MathError::Overflow)?);
                a.vault.deallocate(take)?;
            }
            // assets ≤ totalAssets, so the strategies covered the shortfall; the exit checks it.
            a.vault.apply_exit(assets, shares)?;
            let id = a.next_request;
            a.next_request = id.checked_add(1).ok_or(MathError::Overflow)?;
            a.queued_assets = a.queued_assets.add_c(assets)?;
            Ok(WithdrawalOutcome::Queued { id, assets, ready_at })
        })?;
        if let WithdrawalOutcome::Queued { id, assets, ready_at } = outcome {
            self.queue.insert(
                id,
                QueuedWithdrawal {
                    owner: owner.into(),
                    assets,
                    ready_at,
                },
            );
        }
        Ok(outcome)
    }

    /// Claims queued request `id` for `owner`; returns the assets paid.
    ///
    /// Specification: fails with `UnknownRequest` if there is no such request for `owner`, with
    /// `NotReady` before its `ready_at`.
    pub fn claim(&mut self, owner: &str, id: u64, now: u64) -> AggregatorResult<U256> {
        let q = match self.queue.get(&id) {
            Some(q) if q.owner == owner => q.clone(),
            _ => return Err(AggregatorError::UnknownRequest { id }),
        };
        if now < q.ready_at {
            return Err(AggregatorError::NotReady {
                id,
                ready_at: q.ready_at,
                now,
            });
        }
        let queued = self.queued_assets.sub_c(q.assets)?;
        self.queue.remove(&id);
        self.queued_assets = queued;
        Ok(q.assets)
    }

    /// A strategy's gain (yield accrued): its allocation grows by `amount`.
    ///
    /// Specification: fails with `UnknownStrategy` for a bad index and with `PriceAboveCap` if
    /// the share price would exceed the cap.
    pub fn report_gain(&mut self, index: usize, amount: U256) -> AggregatorResult<()> {
        self.transact(false, |a| {
            let s = a.strategy_mut(index)?;
            s.allocation = s.allocation.add_c(amount)?;
            a.vault.strategy_assets = a.vault.strategy_assets.add_c(amount)?;
            Ok(())
        })
    }

    /// A strategy's loss (slashing, depeg, bad debt): its allocation falls by `loss`, and so may
    /// the share price.
    ///
    /// Specification: fails with `UnknownStrategy` for a bad index and with
    /// `LossExceedsAllocation` above the allocation.
    pub fn report_loss(&mut self, index: usize, loss: U256) -> AggregatorResult<()> {
        self.transact(true, |a| {
            let s = a.strategy_mut(index)?;
            if loss > s.allocation {
                return Err(AggregatorError::LossExceedsAllocation {
                    index,
                    loss,
                    allocation: s.allocation,
                });
            }
            s.allocation = s.allocation.sub_c(loss)?;
            a.vault.strategy_assets = a.vault.strategy_assets.sub_c(loss)?;
            a.losses = a.losses.add_c(loss)?;
            Ok(())
        })
    }

    /// The policy's score of a slot, wad APR (idle scores 0).
    pub fn score(&self, slot: Slot) -> AggregatorResult<I256> {
        let s = match slot {
            Slot::Idle => return Ok(I256::ZERO),
            Slot::Strategy(i) => self
                .strategies
                .get(i)
                .ok_or(AggregatorError::UnknownStrategy { index: i })?,
        };
        let apr = to_signed(s.apr_wad)?;
        Ok(match self.policy {
            Policy::MaxYield => apr,
            Policy::MaxRiskAdjusted { risk_aversion_wad } => {
                apr.sub_c(to_signed(mul_div_down(risk_aversion_wad, s.risk_score_wad, WAD)?)?)?
            }
        })
    }

    fn holding(&self, slot: Slot) -> AggregatorResult<U256> {
        match slot {
            Slot::Idle => Ok(self.vault.idle),
            Slot::Strategy(i) => Ok(self
                .strategies
                .get(i)
                .ok_or(AggregatorError::UnknownStrategy { index: i })?
                .allocation),
        }
    }

    /// Target allocation per strategy (same order as the strategies) under the policy and caps.
    pub fn targets(&self) -> AggregatorResult<Vec<U256>> {
        let total = self.vault.total_assets()?;
        let buffer = bps_of(total, self.idle_buffer_bps)?;
        let mut remaining = total.sub_c(buffer)?;
        let mut scored = Vec::with_capacity(self.strategies.len());
        for i in 0..self.strategies.len() {
            scored.push((self.score(Slot::Strategy(i))?, i));
        }
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut targets = vec![U256::ZERO; self.strategies.len()];
        for (score, i) in scored {
            if score <= I256::ZERO {
                break;
            }
            let cap = match self.strategies[i].cap {
                Cap::Assets(a) => a,
                Cap::ShareBps(b) => bps_of(total, b)?,
            };
            let t = cap.min(remaining);
            remaining = remaining.sub_c(t)?;
            targets[i] = t;
        }
        Ok(targets)
    }

    /// The moves that bring the allocations to their targets, each paying for itself over the
    /// cadence (see the module doc). Pure: the state is not changed.
    ///
    /// Specification: fails only on arithmetic overflow.
    pub fn plan_rebalance(&self, params: RebalanceParams, costs: &dyn CostModel) -> AggregatorResult<Vec<Move>> {
        let targets = self.targets()?;
        let mut surplus: Vec<(Slot, U256)> = Vec::new();
        let mut deficit: Vec<(Slot, U256)> = Vec::new();
        let idle_target = self
            .vault
            .total_assets()?
            .sub_c(targets.iter().try_fold(U256::ZERO, |a, &t| a.add_c(t))?)?;
        let mut slots = vec![(Slot::Idle, self.vault.idle, idle_target)];
        for (i, s) in self.strategies.iter().enumerate() {
            slots.push((Slot::Strategy(i), s.allocation, targets[i]));
        }
        for (slot, now_held, target) in slots {
            let is_slow_source =
                matches!(slot, Slot::Strategy(i) if self.strategies[i].withdrawal_delay_s > params.cadence_s);
            if now_held > target && !is_slow_source {
                surplus.push((slot, now_held.sub_c(target)?));
            } else if now_held < target {
                deficit.push((slot, target.sub_c(now_held)?));
            }
        }
        let mut keyed_s = Vec::with_capacity(surplus.len());
        for (slot, amt) in surplus {
            keyed_s.push((self.score(slot)?, slot, amt));
        }
        keyed_s.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut keyed_d = Vec::with_capacity(deficit.len());
        for (slot, amt) in deficit {
            keyed_d.push((self.score(slot)?, slot, amt));
        }
        keyed_d.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

        let horizon = U256::from(params.cadence_s);
        let year_wad = WAD.mul_c(U256::from(SECONDS_PER_YEAR))?;
        let mut moves = Vec::new();
        for (to_score, to, need) in keyed_d.iter_mut() {
            for (from_score, from, have) in keyed_s.iter_mut() {
                if *need == U256::ZERO {
                    break;
                }
                let amount = (*need).min(*have);
                if amount == U256::ZERO || *to_score <= *from_score {
                    continue;
                }
                let diff = stake_math::signed::abs_u(to_score.sub_c(*from_score)?);
                let gain = mul_div_down(amount, diff.mul_c(horizon)?, year_wad)?;
                let cost = params.move_cost.add_c(costs.slippage(*from, *to, amount))?;
                if cost > gain || cost >= amount {
                    continue;
                }
                *need = need.sub_c(amount)?;
                *have = have.sub_c(amount)?;
                moves.push(Move {
                    from: *from,
                    to: *to,
                    amount,
                    cost,
                    gain,
                });
            }
        }
        // The costs leave the vault, so a share cap is measured on what remains: trim a move
        // whose destination would end above its cap of the assets after every move's cost.
        let costs = moves.iter().try_fold(U256::ZERO, |t, m: &Move| t.add_c(m.cost))?;
        let after = self.vault.total_assets()?.saturating_sub(costs);
        for k in 0..moves.len() {
            let Slot::Strategy(i) = moves[k].to else { continue };
            let Cap::ShareBps(b) = self.strategies[i].cap else {
                continue;
            };
            let cap = bps_of(after, b)?;
            let mut end = self.strategies[i].allocation;
            for m in moves.iter().filter(|m| m.to == Slot::Strategy(i)) {
                end = end.add_c(m.amount.saturating_sub(m.cost))?;
            }
            if end > cap {
                let m = &mut moves[k];
                m.amount = m.amount.saturating_sub(end.sub_c(cap)?).max(m.cost);
            }
        }
        moves.retain(|m| m.amount > m.cost);
        Ok(moves)
    }

    /// Applies moves (normally [`plan_rebalance`](Self::plan_rebalance)'s): each takes `amount`
    /// from its source and gives `amount − cost` to its destination; the costs are realised
    /// losses.
    ///
    /// Specification: fails with `UnknownStrategy`, with `InvalidMove` if a source holds less
    /// than its move takes (after the earlier moves) and with `CostExceedsAmount`; nothing is
    /// applied then.
    pub fn apply_rebalance(&mut self, moves: &[Move]) -> AggregatorResult<()> {
        self.transact(true, |a| {
            for m in moves {
                if m.cost > m.amount {
                    return Err(AggregatorError::CostExceedsAmount {
                        cost: m.cost,
                        amount: m.amount,
                    });
                }
                let available = a.holding(m.from)?;
                a.holding(m.to)?;
                if m.amount > available {
                    return Err(AggregatorError::InvalidMove {
                        from: m.from,
                        amount: m.amount,
                        available,
                    });
                }
                a.shift(m.from, m.amount, false)?;
                a.shift(m.to, m.amount.sub_c(m.cost)?, true)?;
                a.costs_paid = a.costs_paid.add_c(m.cost)?;
            }
            Ok(())
        })
    }

    fn shift(&mut self, slot: Slot, amount: U256, into: bool) -> AggregatorResult<()> {
        match slot {
            Slot::Idle => {
                self.vault.idle = if into {
                    self.vault.idle.add_c(amount)?
                } else {
                    self.vault.idle.sub_c(amount)?
                }
            }
            Slot::Strategy(i) => {
                let s = self.strategy_mut(i)?;
                if into {
                    s.allocation = s.allocation.add_c(amount)?;
                    self.vault.strategy_assets = self.vault.strategy_assets.add_c(amount)?;
                } else {
                    s.allocation = s.allocation.sub_c(amount)?;
                    self.vault.strategy_assets = self.vault.strategy_assets.sub_c(amount)?;
                }
            }
        }
        Ok(())
    }

    /// Share price, wad (see [`Vault::share_price_wad`]).
    pub fn share_price_wad(&self) -> AggregatorResult<U256> {
        Ok(self.vault.share_price_wad()?)
    }

    /// Backing rules: the vault's, `strategy_assets = Σ allocations`, `queued_assets = Σ queue`,
    /// last price ≤ share price ≤ cap, ids below the next id.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.vault.check_invariants()?;
        let err = |e: MathError| format!("aggregator: {e}");
        let sum = self
            .strategies
            .iter()
            .try_fold(U256::ZERO, |a, s| a.add_c(s.allocation))
            .map_err(err)?;
        ensure(sum == self.vault.strategy_assets, || {
            format!(
                "aggregator: allocations {sum} ≠ strategy assets {}",
                self.vault.strategy_assets
            )
        })?;
        let queued = self
            .queue
            .values()
            .try_fold(U256::ZERO, |a, q| a.add_c(q.assets))
            .map_err(err)?;
        ensure(queued == self.queued_assets, || {
            format!("aggregator: queue holds {queued}, recorded {}", self.queued_assets)
        })?;
        ensure(self.queue.keys().all(|&k| k < self.next_request), || {
            "aggregator: request id at or above the next id".into()
        })?;
        let price = self.vault.share_price_wad().map_err(|e| format!("aggregator: {e}"))?;
        ensure(price <= self.max_share_price_wad, || {
            format!(
                "aggregator: share price {price} above the cap {}",
                self.max_share_price_wad
            )
        })?;
        ensure(price >= self.last_share_price_wad, || {
            format!(
                "aggregator: share price {price} below {} without a reported loss",
                self.last_share_price_wad
            )
        })?;
        ensure(
            self.strategies.len() <= MAX_STRATEGIES && self.idle_buffer_bps <= BPS_SCALE,
            || "aggregator: configuration out of range".into(),
        )
    }
}

fn check_bps(bps: u32) -> AggregatorResult<()> {
    if bps > BPS_SCALE {
        return Err(AggregatorError::InvalidBps { bps });
    }
    Ok(())
}

fn bps_of(total: U256, bps: u32) -> AggregatorResult<U256> {
    Ok(mul_div_down(total, U256::from(bps), U256::from(BPS_SCALE))?)
}
