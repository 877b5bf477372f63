//! `renzo` model — ezETH (SPEC §6, reference `Renzo-Protocol/contracts-public`).
//!
//! * [`calculate_mint_amount`] / [`calculate_redeem_amount`] are `RenzoOracle`'s pure functions.
//! * [`Renzo`] holds what `RestakeManager.calculateTVLs` sums: the operator delegators' TVLs
//!   (reported by the caller from the restaking layer, with the oracle timestamp they were priced
//!   at), the ETH of the `DepositQueue`, and the ETH of the `WithdrawQueue` (the instant-withdrawal
//!   buffer plus the claim reserve). Deposits are routed as `RestakeManager.deposit` /
//!   `depositETH` route them (withdraw-buffer deficit first, then
//!   `chooseOperatorDelegatorForDeposit`), rewards arrive through `DepositQueue.receive` (protocol
//!   fee first) and withdrawals go through `WithdrawQueue.withdraw` / `claim`.
//!
//! Everything is valued in ETH: a collateral token is represented by its oracle value (the model
//! has one withdraw buffer, the ETH one). Per-token TVL limits and the stETH rebalance are not
//! modelled.

use crate::{ensure, rate_of, sol_mul_div, Lrt};
use imbl::{OrdMap, OrdSet};
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{Checked, MathError, U256, WAD};
use std::fmt;

/// `RenzoOracle.MAX_TIME_WINDOW`: a price older than 24 h + 60 s is expired.
pub const MAX_TIME_WINDOW_S: u64 = 86_400 + 60;
/// `RestakeManager.BASIS_POINTS` (allocations are in hundredths of a percent: `100 · 100` = 100 %).
pub const BASIS_POINTS: u32 = 100;
/// The largest allocation, `100 · BASIS_POINTS`.
pub const MAX_ALLOCATION: u32 = 100 * BASIS_POINTS;
/// ETH per validator staked from the deposit queue (`stakeEthFromQueue` sends `32 ether`).
pub const VALIDATOR_ETH: U256 = U256::new(32_000_000_000_000_000_000);

/// Rejections of the Renzo model (codes 5000–5099). Names follow the contracts' custom errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenzoError {
    /// `InvalidTokenAmount`: a mint or redeem that rounds to zero.
    InvalidTokenAmount,
    /// `OraclePriceExpired`: the price timestamp is older than `now − 86,460 s`.
    OraclePriceExpired {
        /// Timestamp of the price.
        price_timestamp: u64,
        /// Current time.
        now: u64,
    },
    /// `InvalidOraclePrice`: a zero price.
    InvalidOraclePrice,
    /// `NotFound`: no operator delegator (or no such index).
    NotFound,
    /// `AlreadyAdded`: a delegator with this name exists.
    AlreadyAdded {
        /// The name.
        name: String,
    },
    /// `OverMaxBasisPoints`: an allocation or fee above 100 %.
    OverMaxBasisPoints {
        /// The value given.
        value: u32,
    },
    /// `InvalidTVL`: removing a delegator that still holds value.
    InvalidTvl {
        /// Its TVL.
        tvl: U256,
    },
    /// `InvalidZeroInput`.
    InvalidZeroInput,
    /// `InvalidWithdrawIndex`: no such request for this user.
    InvalidWithdrawIndex {
        /// Request id.
        id: u64,
    },
    /// `EarlyClaim`: the cool-down has not passed.
    EarlyClaim {
        /// Request time.
        created_at: u64,
        /// Cool-down, seconds.
        cooldown: u64,
        /// Current time.
        now: u64,
    },
    /// `QueuedWithdrawalNotFilled`.
    QueuedWithdrawalNotFilled {
        /// Queue level the request needs.
        fill_at: U256,
        /// Queue level filled.
        filled: U256,
    },
    /// `NotEnoughCollateralValue`.
    NotEnoughCollateralValue {
        /// ETH asked.
        amount: U256,
        /// ETH collateral available.
        available: U256,
    },
    /// Not enough ETH in the deposit queue to stake.
    InsufficientDepositQueue {
        /// ETH asked.
        amount: U256,
        /// ETH in the queue.
        balance: U256,
    },
    /// Arithmetic failure (a Solidity overflow / underflow / division-by-zero panic).
    Math(MathError),
}

impl From<MathError> for RenzoError {
    fn from(e: MathError) -> Self {
        RenzoError::Math(e)
    }
}

impl fmt::Display for RenzoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RenzoError::*;
        match self {
            InvalidTokenAmount => write!(f, "InvalidTokenAmount: amount rounds to zero"),
            OraclePriceExpired { price_timestamp, now } => write!(
                f,
                "OraclePriceExpired: price at {price_timestamp} is older than {now} - {MAX_TIME_WINDOW_S}"
            ),
            InvalidOraclePrice => write!(f, "InvalidOraclePrice: price must be positive"),
            NotFound => write!(f, "NotFound: no such operator delegator"),
            AlreadyAdded { name } => write!(f, "AlreadyAdded: operator delegator {name} exists"),
            OverMaxBasisPoints { value } => write!(f, "OverMaxBasisPoints: {value} exceeds 100 %"),
            InvalidTvl { tvl } => write!(f, "InvalidTVL: operator delegator still holds {tvl}"),
            InvalidZeroInput => write!(f, "InvalidZeroInput"),
            InvalidWithdrawIndex { id } => write!(f, "InvalidWithdrawIndex: no request {id} for this user"),
            EarlyClaim {
                created_at,
                cooldown,
                now,
            } => {
                write!(
                    f,
                    "EarlyClaim: requested at {created_at}, cool-down {cooldown} s, now {now}"
                )
            }
            QueuedWithdrawalNotFilled { fill_at, filled } => {
                write!(f, "QueuedWithdrawalNotFilled: needs {fill_at}, filled {filled}")
            }
            NotEnoughCollateralValue { amount, available } => {
                write!(f, "NotEnoughCollateralValue: {amount} asked, {available} available")
            }
            InsufficientDepositQueue { amount, balance } => {
                write!(f, "deposit queue holds {balance}, {amount} to stake")
            }
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RenzoError {}

impl Reject for RenzoError {
    fn code(&self) -> u32 {
        use RenzoError::*;
        match self {
            InvalidTokenAmount => 5000,
            OraclePriceExpired { .. } => 5001,
            InvalidOraclePrice => 5002,
            NotFound => 5003,
            AlreadyAdded { .. } => 5004,
            OverMaxBasisPoints { .. } => 5005,
            InvalidTvl { .. } => 5006,
            InvalidZeroInput => 5007,
            InvalidWithdrawIndex { .. } => 5008,
            EarlyClaim { .. } => 5009,
            QueuedWithdrawalNotFilled { .. } => 5010,
            NotEnoughCollateralValue { .. } => 5011,
            InsufficientDepositQueue { .. } => 5012,
            Math(e) => e.code(),
        }
    }
}

/// Result of a Renzo operation.
pub type RenzoResult<T> = Result<T, RenzoError>;

/// `RenzoOracle.calculateMintAmount(currentValueInProtocol, newValueAdded, existingEzETHSupply)`.
///
/// Specification:
/// - first mint (`tvl == 0 || supply == 0`) returns `value` unchanged (even zero);
/// - otherwise `⌊supply·value/tvl⌋` (the product must fit 256 bits);
/// - fails with `InvalidTokenAmount` if that rounds to zero.
pub fn calculate_mint_amount(tvl: U256, value: U256, supply: U256) -> RenzoResult<U256> {
    if tvl == U256::ZERO || supply == U256::ZERO {
        return Ok(value);
    }
    let mint = sol_mul_div(supply, value, tvl)?;
    if mint == U256::ZERO {
        return Err(RenzoError::InvalidTokenAmount);
    }
    Ok(mint)
}

/// `RenzoOracle.calculateRedeemAmount(ezETHBeingBurned, existingEzETHSupply, currentValueInProtocol)`.
///
/// Specification:
/// - `⌊tvl·burned/supply⌋` (the product must fit 256 bits; `supply == 0` is a division panic);
/// - fails with `InvalidTokenAmount` if that rounds to zero.
pub fn calculate_redeem_amount(tvl: U256, burned: U256, supply: U256) -> RenzoResult<U256> {
    let redeem = sol_mul_div(tvl, burned, supply)?;
    if redeem == U256::ZERO {
        return Err(RenzoError::InvalidTokenAmount);
    }
    Ok(redeem)
}

/// `RenzoOracle.lookupTokenValue`: `⌊price·balance/1e18⌋` after the staleness and sign checks.
///
/// Specification:
/// - fails with `OraclePriceExpired` if `price_timestamp < now − 86,460` (a `now` below the
///   window is the contract's subtraction underflow, `Math(Underflow)`);
/// - fails with `InvalidOraclePrice` if `price == 0`.
pub fn lookup_token_value(price: U256, price_timestamp: u64, balance: U256, now: u64) -> RenzoResult<U256> {
    check_price_fresh(price_timestamp, now)?;
    if price == U256::ZERO {
        return Err(RenzoError::InvalidOraclePrice);
    }
    Ok(sol_mul_div(price, balance, WAD)?)
}

fn check_price_fresh(price_timestamp: u64, now: u64) -> RenzoResult<()> {
    let oldest = now.checked_sub(MAX_TIME_WINDOW_S).ok_or(MathError::Underflow)?;
    if price_timestamp < oldest {
        return Err(RenzoError::OraclePriceExpired { price_timestamp, now });
    }
    Ok(())
}

/// An operator delegator: one EigenLayer delegation of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorDelegator {
    /// Name (unique).
    pub name: String,
    /// Target allocation, hundredths of a percent (10,000 = 100 %).
    pub allocation: u32,
    /// Value held (restaked tokens at oracle prices plus native ETH), as last reported.
    pub tvl: U256,
}

/// Parameters of a Renzo deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenzoParams {
    /// `WithdrawQueue.coolDownPeriod`, seconds (mainnet 7 days).
    pub cooldown_s: u64,
    /// `withdrawalBufferTarget[ETH]`: the instant-withdrawal buffer the deposits refill.
    pub withdraw_buffer_target: U256,
    /// `DepositQueue.feeBasisPoints` on rewards (10,000 = 100 %).
    pub fee_bps: u32,
}

impl Default for RenzoParams {
    fn default() -> Self {
        RenzoParams {
            cooldown_s: 7 * 86_400,
            withdraw_buffer_target: U256::ZERO,
            fee_bps: 1_000,
        }
    }
}

/// A withdrawal request (`WithdrawQueueStorage.WithdrawRequest` plus its queue status).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenzoWithdrawRequest {
    /// Who asked.
    pub owner: String,
    /// ETH value at request time (`amountToRedeem`).
    pub amount_to_redeem: U256,
    /// ezETH locked in the queue (`ezETHLocked`).
    pub ez_eth_locked: U256,
    /// Request time (`createdAt`).
    pub created_at: u64,
    /// Queued behind the buffer (`withdrawQueued.queued`).
    pub queued: bool,
    /// Queue level at which it is filled (`withdrawQueued.fillAt`).
    pub fill_at: U256,
}

/// What a deposit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenzoDeposit {
    /// ezETH minted.
    pub minted: U256,
    /// Value that refilled the withdraw buffer.
    pub to_buffer: U256,
    /// Delegator index that received the rest (`None` for ETH, which waits in the deposit queue).
    pub delegator: Option<usize>,
}

/// The ETH balances of the deposit and withdraw queues: computed on a copy, written back only
/// when the whole operation succeeds.
#[derive(Clone, Copy)]
struct Cash {
    deposit_queue: U256,
    withdraw_queue: U256,
    claim_reserve: U256,
    queued_to_fill: U256,
    queued_filled: U256,
}

impl Cash {
    fn available(&self) -> RenzoResult<U256> {
        Ok(self.withdraw_queue.sub_c(self.claim_reserve)?)
    }

    fn queue_deficit(&self) -> U256 {
        self.queued_to_fill.saturating_sub(self.queued_filled)
    }

    /// `getWithdrawDeficit`: buffer shortfall against `target` plus the queue deficit.
    fn deficit(&self, target: U256) -> RenzoResult<U256> {
        let buffer = target.saturating_sub(self.available()?);
        Ok(buffer.add_c(self.queue_deficit())?)
    }

    /// `fillEthWithdrawBuffer` / `_checkAndFillWithdrawQueue`: `amount` ETH enters the withdraw
    /// queue; the part covering the queue deficit is reserved for queued claims.
    fn fill_withdraw_buffer(&mut self, amount: U256) -> RenzoResult<()> {
        if amount == U256::ZERO {
            return Ok(());
        }
        let queue_fill = self.queue_deficit().min(amount);
        self.claim_reserve = self.claim_reserve.add_c(queue_fill)?;
        self.queued_filled = self.queued_filled.add_c(queue_fill)?;
        self.withdraw_queue = self.withdraw_queue.add_c(amount)?;
        Ok(())
    }

    /// `_checkAndFillETHWithdrawBuffer`: ETH arriving at the deposit queue fills the withdraw
    /// deficit first and stays in the deposit queue otherwise. Returns the part sent to the buffer.
    fn route_inflow(&mut self, amount: U256, target: U256) -> RenzoResult<U256> {
        let to_buffer = amount.min(self.deficit(target)?);
        self.fill_withdraw_buffer(to_buffer)?;
        self.deposit_queue = self.deposit_queue.add_c(amount.sub_c(to_buffer)?)?;
        Ok(to_buffer)
    }
}

/// The Renzo protocol state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renzo {
    /// Parameters.
    pub params: RenzoParams,
    /// Operator delegators, in `RestakeManager.operatorDelegators` order.
    pub delegators: Vec<OperatorDelegator>,
    /// Timestamp of the oracle prices the TVLs are valued at.
    pub price_timestamp: u64,
    /// ezETH total supply (includes ezETH locked in the withdraw queue).
    pub supply: U256,
    /// ETH held by the `DepositQueue`.
    pub deposit_queue: U256,
    /// ETH held by the `WithdrawQueue` (buffer + claim reserve).
    pub withdraw_queue: U256,
    /// `claimReserve[ETH]`.
    pub claim_reserve: U256,
    /// `ethWithdrawQueue.queuedWithdrawToFill`.
    pub queued_to_fill: U256,
    /// `ethWithdrawQueue.queuedWithdrawFilled`.
    pub queued_filled: U256,
    /// Open requests by nonce.
    pub requests: OrdMap<u64, RenzoWithdrawRequest>,
    /// `withdrawRequestNonce`.
    pub nonce: u64,
    /// Users that may skip the cool-down (`whitelisted`).
    pub whitelisted: OrdSet<String>,
    /// `riskOracleMiddleware.instantWithdrawPaused()`.
    pub instant_withdraw_paused: bool,
    /// Protocol fees paid out to the fee address (cumulative).
    pub fees_paid: U256,
}

impl Renzo {
    /// An empty deployment whose prices are fresh at `now`.
    pub fn new(params: RenzoParams, now: u64) -> Self {
        Renzo {
            params,
            delegators: Vec::new(),
            price_timestamp: now,
            supply: U256::ZERO,
            deposit_queue: U256::ZERO,
            withdraw_queue: U256::ZERO,
            claim_reserve: U256::ZERO,
            queued_to_fill: U256::ZERO,
            queued_filled: U256::ZERO,
            requests: OrdMap::new(),
            nonce: 0,
            whitelisted: OrdSet::new(),
            instant_withdraw_paused: false,
            fees_paid: U256::ZERO,
        }
    }

    /// `addOperatorDelegator`.
    ///
    /// Specification:
    /// - fails with `AlreadyAdded` if the name is taken;
    /// - fails with `OverMaxBasisPoints` if `allocation > 10,000`.
    pub fn add_operator_delegator(&mut self, name: &str, allocation: u32) -> RenzoResult<usize> {
        if self.delegators.iter().any(|d| d.name == name) {
            return Err(RenzoError::AlreadyAdded { name: name.into() });
        }
        if allocation > MAX_ALLOCATION {
            return Err(RenzoError::OverMaxBasisPoints { value: allocation });
        }
        self.delegators.push(OperatorDelegator {
            name: name.into(),
            allocation,
            tvl: U256::ZERO,
        });
        Ok(self.delegators.len() - 1)
    }

    /// `setOperatorDelegatorAllocation`.
    ///
    /// Specification: fails with `OverMaxBasisPoints` above 10,000, `NotFound` for a bad index.
    pub fn set_allocation(&mut self, index: usize, allocation: u32) -> RenzoResult<()> {
        if allocation > MAX_ALLOCATION {
            return Err(RenzoError::OverMaxBasisPoints { value: allocation });
        }
        let d = self.delegators.get_mut(index).ok_or(RenzoError::NotFound)?;
        d.allocation = allocation;
        Ok(())
    }

    /// `removeOperatorDelegator` (swap-and-pop, as the contract).
    ///
    /// Specification: fails with `NotFound` for a bad index, `InvalidTvl` if it holds value.
    pub fn remove_operator_delegator(&mut self, index: usize) -> RenzoResult<()> {
        let d = self.delegators.get(index).ok_or(RenzoError::NotFound)?;
        if d.tvl > U256::ZERO {
            return Err(RenzoError::InvalidTvl { tvl: d.tvl });
        }
        self.delegators.swap_remove(index);
        Ok(())
    }

    /// Reports the value each delegator holds (restaked shares valued by the restaking layer and
    /// the oracle) and the timestamp of the prices used. Rewards accrued inside the delegators and
    /// slashing both arrive this way; no fee is taken on them here (Renzo's fee is on rewards
    /// swept through the deposit queue, [`Renzo::receive_rewards`]).
    ///
    /// Specification: fails with `NotFound` for a bad index.
    pub fn report_delegator_tvl(&mut self, index: usize, tvl: U256, price_timestamp: u64) -> RenzoResult<()> {
        let d = self.delegators.get_mut(index).ok_or(RenzoError::NotFound)?;
        d.tvl = tvl;
        self.price_timestamp = price_timestamp;
        Ok(())
    }

    /// Refreshes the oracle timestamp alone.
    pub fn update_prices(&mut self, price_timestamp: u64) {
        self.price_timestamp = price_timestamp;
    }

    /// `calculateTVLs`: (per-delegator TVLs, total). Total = Σ delegators + deposit queue +
    /// withdraw queue ETH.
    ///
    /// Specification: fails with `OraclePriceExpired` if the prices are stale at `now`.
    pub fn calculate_tvls(&self, now: u64) -> RenzoResult<(Vec<U256>, U256)> {
        check_price_fresh(self.price_timestamp, now)?;
        let mut total = U256::ZERO;
        let mut tvls = Vec::with_capacity(self.delegators.len());
        for d in &self.delegators {
            tvls.push(d.tvl);
            total = total.add_c(d.tvl)?;
        }
        total = total.add_c(self.deposit_queue)?.add_c(self.withdraw_queue)?;
        Ok((tvls, total))
    }

    /// `chooseOperatorDelegatorForDeposit`: the first delegator whose TVL is below
    /// `⌊⌊allocation·total/100⌋/100⌋`, else the first one.
    ///
    /// Specification: fails with `NotFound` if there is no delegator.
    pub fn choose_operator_delegator_for_deposit(&self, tvls: &[U256], total: U256) -> RenzoResult<usize> {
        if self.delegators.is_empty() {
            return Err(RenzoError::NotFound);
        }
        if self.delegators.len() == 1 {
            return Ok(0);
        }
        let bp = U256::from(BASIS_POINTS);
        for (i, tvl) in tvls.iter().enumerate() {
            let alloc = self
                .delegators
                .get(i)
                .map(|d| d.allocation)
                .ok_or(RenzoError::NotFound)?;
            let threshold = U256::from(alloc).mul_c(total)?.div_c(bp)?.div_c(bp)?;
            if *tvl < threshold {
                return Ok(i);
            }
        }
        Ok(0)
    }

    fn cash(&self) -> Cash {
        Cash {
            deposit_queue: self.deposit_queue,
            withdraw_queue: self.withdraw_queue,
            claim_reserve: self.claim_reserve,
            queued_to_fill: self.queued_to_fill,
            queued_filled: self.queued_filled,
        }
    }

    fn set_cash(&mut self, c: Cash) {
        self.deposit_queue = c.deposit_queue;
        self.withdraw_queue = c.withdraw_queue;
        self.claim_reserve = c.claim_reserve;
        self.queued_to_fill = c.queued_to_fill;
        self.queued_filled = c.queued_filled;
    }

    /// `getAvailableToWithdraw(ETH)`: withdraw-queue ETH not reserved for claims.
    pub fn available_to_withdraw(&self) -> RenzoResult<U256> {
        self.cash().available()
    }

    fn queue_deficit(&self) -> U256 {
        self.cash().queue_deficit()
    }

    /// `getWithdrawDeficit(ETH)`: buffer shortfall plus queue deficit.
    pub fn withdraw_deficit(&self) -> RenzoResult<U256> {
        self.cash().deficit(self.params.withdraw_buffer_target)
    }

    /// `RestakeManager.depositETH`: mint on the TVL before the deposit; the ETH refills the
    /// withdraw buffer first (`DepositQueue.depositETHFromProtocol`) and waits in the deposit
    /// queue for validators.
    ///
    /// Specification: fails as [`Renzo::calculate_tvls`] and [`calculate_mint_amount`].
    pub fn deposit_eth(&mut self, amount: U256, now: u64) -> RenzoResult<RenzoDeposit> {
        let (_, total) = self.calculate_tvls(now)?;
        let minted = calculate_mint_amount(total, amount, self.supply)?;
        let mut c = self.cash();
        let to_buffer = c.route_inflow(amount, self.params.withdraw_buffer_target)?;
        let supply = self.supply.add_c(minted)?;
        self.set_cash(c);
        self.supply = supply;
        Ok(RenzoDeposit {
            minted,
            to_buffer,
            delegator: None,
        })
    }

    /// `RestakeManager.deposit` of a collateral token worth `value` ETH (its
    /// [`lookup_token_value`]): mint on the TVL before the deposit; the withdraw-buffer deficit is
    /// filled first, the rest goes to `chooseOperatorDelegatorForDeposit`'s delegator.
    ///
    /// Specification: fails with `NotFound` without delegators, and as
    /// [`Renzo::calculate_tvls`] and [`calculate_mint_amount`].
    pub fn deposit_collateral(&mut self, value: U256, now: u64) -> RenzoResult<RenzoDeposit> {
        let (tvls, total) = self.calculate_tvls(now)?;
        let index = self.choose_operator_delegator_for_deposit(&tvls, total)?;
        let minted = calculate_mint_amount(total, value, self.supply)?;
        let mut c = self.cash();
        let to_buffer = value.min(c.deficit(self.params.withdraw_buffer_target)?);
        c.fill_withdraw_buffer(to_buffer)?;
        let rest = value.sub_c(to_buffer)?;
        let d_tvl = self
            .delegators
            .get(index)
            .ok_or(RenzoError::NotFound)?
            .tvl
            .add_c(rest)?;
        let supply = self.supply.add_c(minted)?;
        self.set_cash(c);
        self.delegators[index].tvl = d_tvl;
        self.supply = supply;
        Ok(RenzoDeposit {
            minted,
            to_buffer,
            delegator: Some(index),
        })
    }

    /// `DepositQueue.stakeEthFromQueueMulti`: `validators · 32 ETH` from the deposit queue to a
    /// delegator's pod (its TVL grows by the same amount: value moves, TVL is unchanged).
    ///
    /// Specification: fails with `NotFound` for a bad index, `InsufficientDepositQueue` if the
    /// queue holds less.
    pub fn stake_from_deposit_queue(&mut self, index: usize, validators: u64) -> RenzoResult<()> {
        let amount = VALIDATOR_ETH.mul_c(U256::from(validators))?;
        let d = self.delegators.get(index).ok_or(RenzoError::NotFound)?;
        if amount > self.deposit_queue {
            return Err(RenzoError::InsufficientDepositQueue {
                amount,
                balance: self.deposit_queue,
            });
        }
        let tvl = d.tvl.add_c(amount)?;
        self.delegators[index].tvl = tvl;
        self.deposit_queue = self.deposit_queue.sub_c(amount)?;
        Ok(())
    }

    /// `DepositQueue.receive`: rewards (execution-layer, MEV, swept restaking rewards) pay the
    /// protocol fee `⌊amount·fee/1e4⌋` first; the rest refills the withdraw buffer, then stays in
    /// the deposit queue. Returns the fee.
    pub fn receive_rewards(&mut self, amount: U256) -> RenzoResult<U256> {
        let fee = sol_mul_div(amount, U256::from(self.params.fee_bps), U256::from(10_000u32))?;
        let mut c = self.cash();
        c.route_inflow(amount.sub_c(fee)?, self.params.withdraw_buffer_target)?;
        let fees_paid = self.fees_paid.add_c(fee)?;
        self.set_cash(c);
        self.fees_paid = fees_paid;
        Ok(fee)
    }

    /// ETH arriving from completed EigenLayer withdrawals of delegator `index`
    /// (`forwardFullWithdrawalETH`): the delegator's TVL drops by `amount`, the ETH refills the
    /// withdraw buffer (queue first) and the rest waits in the deposit queue.
    ///
    /// Specification: fails with `NotFound` for a bad index, `Math(Underflow)` above its TVL.
    pub fn receive_withdrawn_eth(&mut self, index: usize, amount: U256) -> RenzoResult<()> {
        let tvl = self
            .delegators
            .get(index)
            .ok_or(RenzoError::NotFound)?
            .tvl
            .sub_c(amount)?;
        let mut c = self.cash();
        c.route_inflow(amount, self.params.withdraw_buffer_target)?;
        self.set_cash(c);
        self.delegators[index].tvl = tvl;
        Ok(())
    }

    /// `WithdrawQueue.withdraw(amount, ETH)` → `withdrawETH`: locks `ez_amount` ezETH and records
    /// its value now; reserves it from the buffer, or queues it behind the buffer.
    ///
    /// Specification:
    /// - fails with `InvalidZeroInput` for zero;
    /// - fails as [`Renzo::calculate_tvls`] and [`calculate_redeem_amount`];
    /// - when the value exceeds the unreserved buffer, fails with `NotEnoughCollateralValue` if
    ///   deposit queue + unreserved buffer + Σ delegator TVLs − queue deficit is below it.
    pub fn withdraw(&mut self, owner: &str, ez_amount: U256, now: u64) -> RenzoResult<u64> {
        if ez_amount == U256::ZERO {
            return Err(RenzoError::InvalidZeroInput);
        }
        let (tvls, total) = self.calculate_tvls(now)?;
        let amount_to_redeem = calculate_redeem_amount(total, ez_amount, self.supply)?;
        let mut c = self.cash();
        let available = c.available()?;
        let mut queued = false;
        let mut fill_at = U256::ZERO;
        if amount_to_redeem > available {
            // `_checkAvailableETHCollateralValue` (every delegator TVL counts as ETH here).
            let mut collateral = c.deposit_queue.add_c(available)?;
            for t in &tvls {
                collateral = collateral.add_c(*t)?;
            }
            let deficit = c.queue_deficit();
            if deficit > U256::ZERO {
                collateral = collateral.sub_c(deficit)?;
            }
            if collateral < amount_to_redeem {
                return Err(RenzoError::NotEnoughCollateralValue {
                    amount: amount_to_redeem,
                    available: collateral,
                });
            }
            c.queued_filled = c.queued_filled.add_c(available)?;
            c.queued_to_fill = c.queued_to_fill.add_c(amount_to_redeem)?;
            c.claim_reserve = c.claim_reserve.add_c(available)?;
            queued = true;
            fill_at = c.queued_to_fill;
        } else {
            c.claim_reserve = c.claim_reserve.add_c(amount_to_redeem)?;
        }
        let id = self.nonce.checked_add(1).ok_or(MathError::Overflow)?;
        self.set_cash(c);
        self.nonce = id;
        self.requests.insert(
            id,
            RenzoWithdrawRequest {
                owner: owner.into(),
                amount_to_redeem,
                ez_eth_locked: ez_amount,
                created_at: now,
                queued,
                fill_at,
            },
        );
        Ok(id)
    }

    /// `WithdrawQueue.claim` → `claimETH`: after the cool-down (skipped for whitelisted users
    /// while instant withdrawals are not paused) and once a queued request is filled, burns the
    /// locked ezETH and pays `min(value at request, value at claim)`.
    ///
    /// Specification:
    /// - fails with `InvalidWithdrawIndex` if `owner` has no request `id`;
    /// - fails with `EarlyClaim` if `now − created_at < cooldown`;
    /// - fails with `QueuedWithdrawalNotFilled` if queued and `fill_at > filled`;
    /// - fails as [`Renzo::calculate_tvls`] and [`calculate_redeem_amount`] (value at claim).
    pub fn claim(&mut self, owner: &str, id: u64, now: u64) -> RenzoResult<U256> {
        let r = match self.requests.get(&id) {
            Some(r) if r.owner == owner => r,
            _ => return Err(RenzoError::InvalidWithdrawIndex { id }),
        };
        if self.instant_withdraw_paused || !self.whitelisted.contains(owner) {
            let elapsed = now.checked_sub(r.created_at).ok_or(MathError::Underflow)?;
            if elapsed < self.params.cooldown_s {
                return Err(RenzoError::EarlyClaim {
                    created_at: r.created_at,
                    cooldown: self.params.cooldown_s,
                    now,
                });
            }
        }
        if r.queued && r.fill_at > self.queued_filled {
            return Err(RenzoError::QueuedWithdrawalNotFilled {
                fill_at: r.fill_at,
                filled: self.queued_filled,
            });
        }
        let (_, total) = self.calculate_tvls(now)?;
        let at_claim = calculate_redeem_amount(total, r.ez_eth_locked, self.supply)?;
        let pay = r.amount_to_redeem.min(at_claim);
        let claim_reserve = self.claim_reserve.sub_c(r.amount_to_redeem)?;
        let supply = self.supply.sub_c(r.ez_eth_locked)?;
        let withdraw_queue = self.withdraw_queue.sub_c(pay)?;
        self.requests.remove(&id);
        self.claim_reserve = claim_reserve;
        self.supply = supply;
        self.withdraw_queue = withdraw_queue;
        Ok(pay)
    }

    /// Total value (`calculateTVLs().2`).
    pub fn total_tvl(&self, now: u64) -> RenzoResult<U256> {
        Ok(self.calculate_tvls(now)?.1)
    }

    /// ETH per ezETH, 1e18 scale (`⌊tvl·1e18/supply⌋`, 1e18 before the first mint).
    pub fn rate_at(&self, now: u64) -> RenzoResult<U256> {
        let (_, total) = self.calculate_tvls(now)?;
        Ok(rate_of(total, self.supply)?)
    }

    /// Backing rules.
    pub fn check_invariants(&self) -> Result<(), String> {
        ensure(self.claim_reserve <= self.withdraw_queue, || {
            format!(
                "renzo: claim reserve {} exceeds withdraw queue ETH {}",
                self.claim_reserve, self.withdraw_queue
            )
        })?;
        ensure(self.queued_filled <= self.queued_to_fill, || {
            format!(
                "renzo: queue filled {} beyond to-fill {}",
                self.queued_filled, self.queued_to_fill
            )
        })?;
        let mut pending = U256::ZERO;
        let mut locked = U256::ZERO;
        for r in self.requests.values() {
            pending = pending.saturating_add(r.amount_to_redeem);
            locked = locked.saturating_add(r.ez_eth_locked);
        }
        let owed = self.claim_reserve.saturating_add(self.queue_deficit());
        ensure(pending == owed, || {
            format!("renzo: open requests owe {pending}, reserve + queue deficit is {owed}")
        })?;
        ensure(locked <= self.supply, || {
            format!(
                "renzo: {locked} ezETH locked in the queue exceeds supply {}",
                self.supply
            )
        })?;
        for d in &self.delegators {
            ensure(d.allocation <= MAX_ALLOCATION, || {
                format!("renzo: {} allocation {} above 100 %", d.name, d.allocation)
            })?;
        }
        ensure(self.requests.keys().all(|&k| k <= self.nonce), || {
            "renzo: request id above nonce".into()
        })
    }
}

impl Lrt for Renzo {
    type Error = RenzoError;

    fn deposit(&mut self, amount: U256, now: u64) -> RenzoResult<U256> {
        Ok(self.deposit_eth(amount, now)?.minted)
    }
    fn request_withdrawal(&mut self, owner: &str, lrt_amount: U256, now: u64) -> RenzoResult<u64> {
        self.withdraw(owner, lrt_amount, now)
    }
    fn claim(&mut self, owner: &str, id: u64, now: u64) -> RenzoResult<U256> {
        Renzo::claim(self, owner, id, now)
    }
    fn rate(&self, now: u64) -> RenzoResult<U256> {
        self.rate_at(now)
    }
    fn tvl(&self, now: u64) -> RenzoResult<U256> {
        self.total_tvl(now)
    }
    fn supply(&self) -> U256 {
        self.supply
    }
    fn check_invariants(&self) -> Result<(), String> {
        Renzo::check_invariants(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(x: u128) -> U256 {
        U256::from(x) * WAD
    }

    #[test]
    fn first_mint_returns_the_value_and_zero_rounds_revert() {
        assert_eq!(calculate_mint_amount(U256::ZERO, e(5), e(7)), Ok(e(5)));
        assert_eq!(calculate_mint_amount(e(5), e(5), U256::ZERO), Ok(e(5)));
        assert_eq!(
            calculate_mint_amount(U256::ZERO, U256::ZERO, U256::ZERO),
            Ok(U256::ZERO)
        );
        assert_eq!(
            calculate_mint_amount(e(2), U256::ONE, U256::ONE),
            Err(RenzoError::InvalidTokenAmount)
        );
        assert_eq!(
            calculate_redeem_amount(U256::ONE, U256::ONE, e(2)),
            Err(RenzoError::InvalidTokenAmount)
        );
        assert_eq!(
            calculate_redeem_amount(e(1), e(1), U256::ZERO),
            Err(RenzoError::Math(MathError::DivisionByZero))
        );
        // 110 ETH TVL, 100 ezETH: 11 ETH mints 10 ezETH; 10 ezETH redeem 11 ETH.
        assert_eq!(calculate_mint_amount(e(110), e(11), e(100)), Ok(e(10)));
        assert_eq!(calculate_redeem_amount(e(110), e(10), e(100)), Ok(e(11)));
        // The product must fit: Solidity's `supply * value` overflows before the division.
        assert_eq!(
            calculate_mint_amount(U256::MAX, U256::MAX, U256::from(2u8)),
            Err(RenzoError::Math(MathError::Overflow))
        );
    }

    #[test]
    fn stale_price_boundary() {
        let now = 1_000_000;
        assert!(lookup_token_value(WAD, now - MAX_TIME_WINDOW_S, WAD, now).is_ok());
        assert_eq!(
            lookup_token_value(WAD, now - MAX_TIME_WINDOW_S - 1, WAD, now),
            Err(RenzoError::OraclePriceExpired {
                price_timestamp: now - MAX_TIME_WINDOW_S - 1,
                now
            })
        );
        assert_eq!(
            lookup_token_value(U256::ZERO, now, WAD, now),
            Err(RenzoError::InvalidOraclePrice)
        );
    }
}
