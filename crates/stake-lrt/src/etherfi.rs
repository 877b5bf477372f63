//! `etherfi` model — eETH (rebasing shares) and the weETH wrapper (SPEC §6, reference
//! `etherfi-protocol/smart-contracts`: `src/core/LiquidityPool.sol`, `EETH.sol`, `WeETH.sol`,
//! `src/withdrawals/WithdrawRequestNFT.sol`, `src/oracle/EtherFiAdmin.sol`).
//!
//! * Pooled ether = `totalValueInLp + totalValueOutOfLp`; eETH balances are shares, an amount is
//!   `⌊shares·pooled/totalShares⌋` ([`amount_for_share`]); an eETH transfer of `amount` moves
//!   `⌊amount·totalShares/pooled⌋` shares ([`shares_for_amount`]).
//! * A deposit mints `⌊amt·S/(P − amt)⌋` with `P` already including the deposit
//!   ([`shares_for_deposit`], `_sharesForDepositAmount`).
//! * Oracle reports ([`EtherFi::execute_report`]) apply `EtherFiAdmin`'s checks (rebase APR cap,
//!   negative-rebase cap of 3 bps by default, protocol fees ≤ 20 % of rewards) and
//!   `LiquidityPool.rebase`'s positive cap (25 bps of TVL per rebase); the fee is minted to the
//!   fee recipient as a deposit out of the LP.
//! * Withdrawal NFTs: a request locks `amountOfEEth` and its shares; finalisation up to an id
//!   snapshots `amountPerShareCeil` for the batch and escrows the ETH; a claim pays
//!   `min(amountOfEEth, ⌊share·frozenRate/1e18⌋)`, burns all the request's shares and returns any
//!   escrow surplus to the LP.
//!
//! The per-holder shares live in the ledger; the model holds the totals and the shares held by
//! the weETH and NFT contracts. Membership NFTs, the priority queue, validator spawning and
//! request invalidation are not modelled.

use crate::{ensure, Lrt};
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{mul_div_down, mul_div_up, Checked, MathError, I256, U256, WAD};
use std::collections::BTreeMap;
use std::fmt;

/// `LiquidityPool.MAX_POSITIVE_REBASE_BPS`.
pub const MAX_POSITIVE_REBASE_BPS: u32 = 25;
/// `EtherFiAdmin.DEFAULT_MAX_NEGATIVE_REBASE_BPS`.
pub const DEFAULT_MAX_NEGATIVE_REBASE_BPS: u32 = 3;
/// `EtherFiAdmin.MAX_PROTOCOL_FEE_INV_RATIO`: fees ≤ 1/5 of total rewards.
pub const MAX_PROTOCOL_FEE_INV_RATIO: u32 = 5;
/// Seconds per slot in the report's elapsed-time computation.
pub const SECONDS_PER_SLOT: u64 = 12;
/// `365 days`.
pub const SECONDS_PER_YEAR: u64 = 365 * 86_400;

fn u128_max() -> U256 {
    U256::from(u128::MAX)
}

/// Rejections of the ether.fi model (codes 5100–5199). Names follow the contracts' errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EtherFiError {
    /// `InvalidAmount`: zero, above `uint128`, or zero shares.
    InvalidAmount,
    /// `InvalidWithdrawalAmount`: zero or outside `[minWithdrawAmount, maxWithdrawAmount]`.
    InvalidWithdrawalAmount {
        /// Amount asked.
        amount: U256,
    },
    /// `InvalidShareAmount`: the request's amount is worth zero shares.
    InvalidShareAmount,
    /// `InsufficientLiquidity`: the LP holds less ETH than asked.
    InsufficientLiquidity {
        /// ETH asked.
        amount: U256,
        /// `totalValueInLp`.
        in_lp: U256,
    },
    /// `EETHRateDeflation`: an operation would lower the share rate.
    EethRateDeflation,
    /// `RebaseExceedsPositiveCap`.
    RebaseExceedsPositiveCap {
        /// Rewards reported.
        rewards: U256,
        /// Cap (`⌊pooled·25/1e4⌋`).
        cap: U256,
    },
    /// "EtherFiAdmin: report spans zero slots".
    ZeroElapsed,
    /// "EtherFiAdmin: TVL changed too much" (|APR| above `acceptableRebaseAprInBps`).
    TvlChangedTooMuch {
        /// Reported APR, bps (signed, truncated toward zero).
        apr_bps: I256,
        /// Acceptable APR, bps.
        acceptable_bps: u32,
    },
    /// "EtherFiAdmin: negative rebase exceeds cap".
    NegativeRebaseExceedsCap {
        /// ETH lost.
        drop: U256,
        /// Cap, bps of pooled ether.
        cap_bps: u32,
    },
    /// "EtherFiAdmin: protocol fees exceed 20% total rewards".
    ProtocolFeesTooHigh {
        /// Fees.
        fees: U256,
        /// Rewards (net of fees) reported.
        rewards: I256,
    },
    /// A negative rebase larger than `totalValueOutOfLp` (the contract's int→uint cast would
    /// wrap; rejected here).
    RebaseBelowZero,
    /// `RequestNotFound`.
    RequestNotFound {
        /// Request id.
        id: u64,
    },
    /// The claimer is not the NFT owner.
    NotOwner {
        /// Request id.
        id: u64,
    },
    /// `RequestNotValid`.
    RequestNotValid {
        /// Request id.
        id: u64,
    },
    /// `RequestNotFinalized`.
    RequestNotFinalized {
        /// Request id.
        id: u64,
        /// `lastFinalizedRequestId`.
        last_finalized: u64,
    },
    /// `CannotUndoFinalization`.
    CannotUndoFinalization {
        /// Id asked.
        id: u64,
        /// `lastFinalizedRequestId`.
        last_finalized: u64,
    },
    /// `CannotFinalizeFutureRequests`.
    CannotFinalizeFutureRequests {
        /// Id asked.
        id: u64,
        /// `nextRequestId`.
        next: u64,
    },
    /// `InsufficientEscrow`.
    InsufficientEscrow {
        /// ETH needed.
        needed: U256,
        /// ETH locked.
        locked: U256,
    },
    /// `ZeroAmount` (weETH wrap / unwrap).
    ZeroAmount,
    /// Unwrap of more weETH than exists.
    InsufficientWeEth {
        /// weETH asked.
        amount: U256,
        /// weETH supply.
        supply: U256,
    },
    /// Invalid parameters.
    InvalidParams {
        /// Why.
        reason: String,
    },
    /// Arithmetic failure.
    Math(MathError),
}

impl From<MathError> for EtherFiError {
    fn from(e: MathError) -> Self {
        EtherFiError::Math(e)
    }
}

impl fmt::Display for EtherFiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EtherFiError::*;
        match self {
            InvalidAmount => write!(f, "InvalidAmount"),
            InvalidWithdrawalAmount { amount } => write!(f, "InvalidWithdrawalAmount: {amount}"),
            InvalidShareAmount => write!(f, "InvalidShareAmount: amount is worth zero shares"),
            InsufficientLiquidity { amount, in_lp } => {
                write!(f, "InsufficientLiquidity: {amount} asked, {in_lp} in the pool")
            }
            EethRateDeflation => write!(f, "EETHRateDeflation"),
            RebaseExceedsPositiveCap { rewards, cap } => {
                write!(f, "RebaseExceedsPositiveCap: {rewards} above {cap}")
            }
            ZeroElapsed => write!(f, "EtherFiAdmin: report spans zero slots"),
            TvlChangedTooMuch {
                apr_bps,
                acceptable_bps,
            } => {
                write!(
                    f,
                    "EtherFiAdmin: TVL changed too much ({apr_bps} bps APR, {acceptable_bps} acceptable)"
                )
            }
            NegativeRebaseExceedsCap { drop, cap_bps } => {
                write!(
                    f,
                    "EtherFiAdmin: negative rebase exceeds cap ({drop} lost, cap {cap_bps} bps)"
                )
            }
            ProtocolFeesTooHigh { fees, rewards } => {
                write!(
                    f,
                    "EtherFiAdmin: protocol fees exceed 20% total rewards ({fees} on {rewards})"
                )
            }
            RebaseBelowZero => write!(f, "negative rebase exceeds totalValueOutOfLp"),
            RequestNotFound { id } => write!(f, "RequestNotFound: {id}"),
            NotOwner { id } => write!(f, "not the owner of withdraw request {id}"),
            RequestNotValid { id } => write!(f, "RequestNotValid: {id}"),
            RequestNotFinalized { id, last_finalized } => {
                write!(f, "RequestNotFinalized: {id} (last finalized {last_finalized})")
            }
            CannotUndoFinalization { id, last_finalized } => {
                write!(f, "CannotUndoFinalization: {id} < {last_finalized}")
            }
            CannotFinalizeFutureRequests { id, next } => {
                write!(f, "CannotFinalizeFutureRequests: {id} >= next id {next}")
            }
            InsufficientEscrow { needed, locked } => write!(f, "InsufficientEscrow: {needed} needed, {locked} locked"),
            ZeroAmount => write!(f, "weETH: ZeroAmount"),
            InsufficientWeEth { amount, supply } => write!(f, "weETH: unwrap {amount} of supply {supply}"),
            InvalidParams { reason } => write!(f, "invalid ether.fi parameters: {reason}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EtherFiError {}

impl Reject for EtherFiError {
    fn code(&self) -> u32 {
        use EtherFiError::*;
        match self {
            InvalidAmount => 5100,
            InvalidWithdrawalAmount { .. } => 5101,
            InvalidShareAmount => 5102,
            InsufficientLiquidity { .. } => 5103,
            EethRateDeflation => 5104,
            RebaseExceedsPositiveCap { .. } => 5105,
            ZeroElapsed => 5106,
            TvlChangedTooMuch { .. } => 5107,
            NegativeRebaseExceedsCap { .. } => 5108,
            ProtocolFeesTooHigh { .. } => 5109,
            RebaseBelowZero => 5110,
            RequestNotFound { .. } => 5111,
            NotOwner { .. } => 5112,
            RequestNotValid { .. } => 5113,
            RequestNotFinalized { .. } => 5114,
            CannotUndoFinalization { .. } => 5115,
            CannotFinalizeFutureRequests { .. } => 5116,
            InsufficientEscrow { .. } => 5117,
            ZeroAmount => 5118,
            InsufficientWeEth { .. } => 5119,
            InvalidParams { .. } => 5120,
            Math(e) => e.code(),
        }
    }
}

/// Result of an ether.fi operation.
pub type EtherFiResult<T> = Result<T, EtherFiError>;

/// `_sharesForDepositAmount`: `total_pooled_ether` is the pool's total *at call time*, already
/// including the deposit. `P − amt == 0` mints 1:1; otherwise `⌊amt·S/(P − amt)⌋`
/// (`Math.mulDiv`, rounding down).
///
/// Specification: fails with `Math(Underflow)` if `amount > total_pooled_ether`.
pub fn shares_for_deposit(total_pooled_ether: U256, total_shares: U256, amount: U256) -> EtherFiResult<U256> {
    let before = total_pooled_ether.sub_c(amount)?;
    if before == U256::ZERO {
        return Ok(amount);
    }
    Ok(mul_div_down(amount, total_shares, before)?)
}

/// `sharesForAmount`: `⌊amount·S/P⌋`, 0 when `P == 0`.
pub fn shares_for_amount(total_pooled_ether: U256, total_shares: U256, amount: U256) -> EtherFiResult<U256> {
    if total_pooled_ether == U256::ZERO {
        return Ok(U256::ZERO);
    }
    Ok(mul_div_down(amount, total_shares, total_pooled_ether)?)
}

/// `sharesForWithdrawalAmount`: `⌈amount·S/P⌉`, 0 when `P == 0`.
pub fn shares_for_withdrawal_amount(total_pooled_ether: U256, total_shares: U256, amount: U256) -> EtherFiResult<U256> {
    if total_pooled_ether == U256::ZERO {
        return Ok(U256::ZERO);
    }
    Ok(mul_div_up(amount, total_shares, total_pooled_ether)?)
}

/// `amountForShare`: `⌊share·P/S⌋`, 0 when `S == 0`.
pub fn amount_for_share(total_pooled_ether: U256, total_shares: U256, shares: U256) -> EtherFiResult<U256> {
    if total_shares == U256::ZERO {
        return Ok(U256::ZERO);
    }
    Ok(mul_div_down(shares, total_pooled_ether, total_shares)?)
}

/// Parameters of the ether.fi deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtherFiParams {
    /// `minWithdrawAmount`.
    pub min_withdraw_amount: U256,
    /// `maxWithdrawAmount` (must fit `uint96`: the request stores `uint96` amounts).
    pub max_withdraw_amount: U256,
    /// `EtherFiAdmin.acceptableRebaseAprInBps`.
    pub acceptable_rebase_apr_bps: u32,
    /// `EtherFiAdmin.maxNegativeRebaseBps` (0 = the default 3 bps).
    pub max_negative_rebase_bps: u32,
}

impl Default for EtherFiParams {
    fn default() -> Self {
        EtherFiParams {
            min_withdraw_amount: U256::from(100_000_000_000_000u64),
            max_withdraw_amount: U256::from(u128::from(u64::MAX)) * U256::from(1000u32),
            acceptable_rebase_apr_bps: 1_000,
            max_negative_rebase_bps: 0,
        }
    }
}

/// A withdrawal request NFT (`IWithdrawRequestNFT.WithdrawRequest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftRequest {
    /// NFT owner.
    pub owner: String,
    /// eETH amount locked at request (`amountOfEEth`).
    pub amount_of_eeth: U256,
    /// Shares moved to the NFT contract (`shareOfEEth`).
    pub share_of_eeth: U256,
    /// `isValid`.
    pub is_valid: bool,
}

/// What a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Shares minted to the fee recipient.
    pub fee_shares: U256,
    /// Pooled ether after.
    pub total_pooled_ether: U256,
}

/// The pool's totals, computed on a copy and written back only when an operation succeeds.
#[derive(Clone, Copy)]
struct Pool {
    in_lp: U256,
    out_lp: U256,
    shares: U256,
}

impl Pool {
    fn tpe(&self) -> EtherFiResult<U256> {
        Ok(self.in_lp.add_c(self.out_lp)?)
    }

    /// `_deposit` under `nonDecreasingRate`.
    fn deposit(&mut self, add_in: U256, add_out: U256) -> EtherFiResult<U256> {
        let (p0, s0) = (self.tpe()?, self.shares);
        let in_lp = self.in_lp.add_c(add_in)?;
        let out_lp = self.out_lp.add_c(add_out)?;
        if in_lp > u128_max() || out_lp > u128_max() {
            return Err(MathError::Overflow.into());
        }
        let amount = add_in.add_c(add_out)?;
        let p1 = in_lp.add_c(out_lp)?;
        let share = shares_for_deposit(p1, self.shares, amount)?;
        if amount > u128_max() || amount == U256::ZERO || share == U256::ZERO {
            return Err(EtherFiError::InvalidAmount);
        }
        let s1 = self.shares.add_c(share)?;
        // `_checkRateNonDec`: P1·S0 ≥ P0·S1 unless bootstrapping.
        if s0 != U256::ZERO && s1 != U256::ZERO && p1.mul_c(s0)? < p0.mul_c(s1)? {
            return Err(EtherFiError::EethRateDeflation);
        }
        *self = Pool {
            in_lp,
            out_lp,
            shares: s1,
        };
        Ok(share)
    }
}

/// The ether.fi liquidity pool, eETH, weETH and the withdrawal NFTs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtherFi {
    /// Parameters.
    pub params: EtherFiParams,
    /// `totalValueInLp` (ETH held by the pool).
    pub total_value_in_lp: U256,
    /// `totalValueOutOfLp` (validators, escrow).
    pub total_value_out_of_lp: U256,
    /// `eETH.totalShares`.
    pub total_shares: U256,
    /// weETH total supply.
    pub weeth_supply: U256,
    /// eETH shares held by the weETH contract (≥ supply: unwrap leaves rounding dust).
    pub weeth_shares: U256,
    /// eETH shares held by the NFT contract.
    pub nft_shares: U256,
    /// ETH held by the NFT contract.
    pub nft_eth: U256,
    /// `ethAmountLockedForWithdrawal`.
    pub eth_locked_for_withdrawal: U256,
    /// Requests by id.
    pub requests: BTreeMap<u64, NftRequest>,
    /// `nextRequestId`.
    pub next_request_id: u64,
    /// `lastFinalizedRequestId`.
    pub last_finalized_request_id: u64,
    /// `_finalizationRates`: (last id of the batch, `amountPerShareCeil` at finalisation).
    pub finalization_rates: Vec<(u64, U256)>,
    /// Shares minted to the fee recipient (cumulative).
    pub fee_shares_minted: U256,
}

impl EtherFi {
    /// An empty pool.
    ///
    /// Specification: fails with `InvalidParams` if `max_withdraw_amount ≥ 2^96` or the negative
    /// cap is above 10,000 bps.
    pub fn new(params: EtherFiParams) -> EtherFiResult<Self> {
        if params.max_withdraw_amount > U256::from(u128::from(u64::MAX) << 32 | 0xffff_ffff) {
            return Err(EtherFiError::InvalidParams {
                reason: "maxWithdrawAmount must fit uint96".into(),
            });
        }
        if params.max_negative_rebase_bps > 10_000 {
            return Err(EtherFiError::InvalidParams {
                reason: "maxNegativeRebaseBps above 10000".into(),
            });
        }
        Ok(EtherFi {
            params,
            total_value_in_lp: U256::ZERO,
            total_value_out_of_lp: U256::ZERO,
            total_shares: U256::ZERO,
            weeth_supply: U256::ZERO,
            weeth_shares: U256::ZERO,
            nft_shares: U256::ZERO,
            nft_eth: U256::ZERO,
            eth_locked_for_withdrawal: U256::ZERO,
            requests: BTreeMap::new(),
            next_request_id: 1,
            last_finalized_request_id: 0,
            finalization_rates: Vec::new(),
            fee_shares_minted: U256::ZERO,
        })
    }

    /// `getTotalPooledEther`.
    pub fn total_pooled_ether(&self) -> EtherFiResult<U256> {
        Ok(self.total_value_in_lp.add_c(self.total_value_out_of_lp)?)
    }

    /// `sharesForAmount` at the current state.
    pub fn shares_for_amount(&self, amount: U256) -> EtherFiResult<U256> {
        shares_for_amount(self.total_pooled_ether()?, self.total_shares, amount)
    }

    /// `amountForShare` at the current state.
    pub fn amount_for_share(&self, shares: U256) -> EtherFiResult<U256> {
        amount_for_share(self.total_pooled_ether()?, self.total_shares, shares)
    }

    /// `amountPerShareCeil`: `⌈1e18·P/S⌉`, 0 when `S == 0`.
    pub fn amount_per_share_ceil(&self) -> EtherFiResult<U256> {
        if self.total_shares == U256::ZERO {
            return Ok(U256::ZERO);
        }
        Ok(mul_div_up(WAD, self.total_pooled_ether()?, self.total_shares)?)
    }

    fn pool(&self) -> Pool {
        Pool {
            in_lp: self.total_value_in_lp,
            out_lp: self.total_value_out_of_lp,
            shares: self.total_shares,
        }
    }

    fn set_pool(&mut self, p: Pool) {
        self.total_value_in_lp = p.in_lp;
        self.total_value_out_of_lp = p.out_lp;
        self.total_shares = p.shares;
    }

    /// `_deposit(recipient, amountInLp, amountOutOfLp)`; returns the shares minted.
    fn deposit_split(&mut self, in_lp: U256, out_of_lp: U256) -> EtherFiResult<U256> {
        let mut p = self.pool();
        let share = p.deposit(in_lp, out_of_lp)?;
        self.set_pool(p);
        Ok(share)
    }

    /// `LiquidityPool.deposit()`: `amount` ETH into the pool; returns the eETH shares minted.
    ///
    /// Specification: fails with `InvalidAmount` for zero, above `uint128` or zero shares;
    /// with `EethRateDeflation` if the share rate would drop.
    pub fn deposit_eth(&mut self, amount: U256) -> EtherFiResult<U256> {
        self.deposit_split(amount, U256::ZERO)
    }

    /// Moves `amount` ETH from the pool to validators (`batchCreateBeaconValidators` /
    /// `confirmAndFundBeaconValidators`: value moves out of the LP, pooled ether unchanged).
    ///
    /// Specification: fails with `InsufficientLiquidity` above `totalValueInLp`.
    pub fn fund_validators(&mut self, amount: U256) -> EtherFiResult<()> {
        if amount > self.total_value_in_lp {
            return Err(EtherFiError::InsufficientLiquidity {
                amount,
                in_lp: self.total_value_in_lp,
            });
        }
        let out = self.total_value_out_of_lp.add_c(amount)?;
        if out > u128_max() {
            return Err(MathError::Overflow.into());
        }
        self.total_value_in_lp = self.total_value_in_lp.sub_c(amount)?;
        self.total_value_out_of_lp = out;
        Ok(())
    }

    /// ETH returning from validators into the pool (`receive()`): out-of-LP → in-LP.
    ///
    /// Specification: fails with `Math(Underflow)` above `totalValueOutOfLp`.
    pub fn receive_eth(&mut self, amount: U256) -> EtherFiResult<()> {
        let out = self.total_value_out_of_lp.sub_c(amount)?;
        self.total_value_in_lp = self.total_value_in_lp.add_c(amount)?;
        self.total_value_out_of_lp = out;
        Ok(())
    }

    /// `EtherFiAdmin.executeTasks` rebase leg: validates the report (`_validateRebaseApr`,
    /// `_validateProtocolFees`) then `LiquidityPool.rebase(accruedRewards, protocolFees)`:
    /// `totalValueOutOfLp += accruedRewards`, then the fee is deposited out of the LP for the fee
    /// recipient. `accrued_rewards` is net of the fee; `elapsed_slots` is
    /// `refSlotTo − lastHandledReportRefSlot`.
    ///
    /// Specification:
    /// - fails with `ZeroElapsed` if `elapsed_slots == 0`;
    /// - fails with `TvlChangedTooMuch` if `|⌊1e4·accrued·365 d/(P·elapsed)⌋| > acceptable`;
    /// - fails with `NegativeRebaseExceedsCap` if `−accrued·1e4 > P·cap` (cap 3 bps by default);
    /// - fails with `ProtocolFeesTooHigh` if `fees > 0` and `5·fees > fees + accrued`;
    /// - fails with `RebaseExceedsPositiveCap` if `accrued > ⌊P·25/1e4⌋`;
    /// - fails with `RebaseBelowZero` if the loss exceeds `totalValueOutOfLp`;
    /// - an empty report (no rewards, no fees) changes nothing.
    pub fn execute_report(
        &mut self,
        accrued_rewards: I256,
        protocol_fees: U256,
        elapsed_slots: u64,
    ) -> EtherFiResult<ReportSummary> {
        let elapsed = U256::from(elapsed_slots).mul_c(U256::from(SECONDS_PER_SLOT))?;
        if elapsed == U256::ZERO {
            return Err(EtherFiError::ZeroElapsed);
        }
        let tvl = self.total_pooled_ether()?;
        let tvl_i = stake_math::signed::to_signed(tvl)?;
        let elapsed_i = stake_math::signed::to_signed(elapsed)?;
        let mut apr = I256::ZERO;
        if tvl_i > I256::ZERO {
            let num = I256::from(10_000).mul_c(accrued_rewards.mul_c(I256::from(SECONDS_PER_YEAR))?)?;
            apr = num
                .checked_div(tvl_i.mul_c(elapsed_i)?)
                .ok_or(MathError::DivisionByZero)?;
        }
        let abs_apr = if apr > I256::ZERO { apr } else { -apr };
        if abs_apr > I256::from(i64::from(self.params.acceptable_rebase_apr_bps)) {
            return Err(EtherFiError::TvlChangedTooMuch {
                apr_bps: apr,
                acceptable_bps: self.params.acceptable_rebase_apr_bps,
            });
        }
        let cap_bps = if self.params.max_negative_rebase_bps == 0 {
            DEFAULT_MAX_NEGATIVE_REBASE_BPS
        } else {
            self.params.max_negative_rebase_bps
        };
        if accrued_rewards < I256::ZERO && tvl_i > I256::ZERO {
            let drop = stake_math::signed::abs_u(accrued_rewards);
            if drop.mul_c(U256::from(10_000u32))? > tvl.mul_c(U256::from(cap_bps))? {
                return Err(EtherFiError::NegativeRebaseExceedsCap { drop, cap_bps });
            }
        }
        if protocol_fees > u128_max() >> 1 {
            return Err(EtherFiError::ProtocolFeesTooHigh {
                fees: protocol_fees,
                rewards: accrued_rewards,
            });
        }
        let fees_i = stake_math::signed::to_signed(protocol_fees)?;
        let total_rewards = fees_i.add_c(accrued_rewards)?;
        if fees_i > I256::ZERO && fees_i.mul_c(I256::from(MAX_PROTOCOL_FEE_INV_RATIO as i64))? > total_rewards {
            return Err(EtherFiError::ProtocolFeesTooHigh {
                fees: protocol_fees,
                rewards: accrued_rewards,
            });
        }
        if accrued_rewards == I256::ZERO && protocol_fees == U256::ZERO {
            return Ok(ReportSummary {
                fee_shares: U256::ZERO,
                total_pooled_ether: tvl,
            });
        }
        // LiquidityPool.rebase
        let mut pool = self.pool();
        if accrued_rewards > I256::ZERO {
            let cap = mul_div_down(tvl, U256::from(MAX_POSITIVE_REBASE_BPS), U256::from(10_000u32))?;
            let r = stake_math::signed::abs_u(accrued_rewards);
            if r > cap {
                return Err(EtherFiError::RebaseExceedsPositiveCap { rewards: r, cap });
            }
            pool.out_lp = pool.out_lp.add_c(r)?;
            if pool.out_lp > u128_max() {
                return Err(MathError::Overflow.into());
            }
        } else if accrued_rewards < I256::ZERO {
            let loss = stake_math::signed::abs_u(accrued_rewards);
            pool.out_lp = pool.out_lp.checked_sub(loss).ok_or(EtherFiError::RebaseBelowZero)?;
        }
        let mut fee_shares = U256::ZERO;
        if protocol_fees > U256::ZERO {
            fee_shares = pool.deposit(U256::ZERO, protocol_fees)?;
        }
        let minted = self.fee_shares_minted.add_c(fee_shares)?;
        let total_pooled_ether = pool.tpe()?;
        self.set_pool(pool);
        self.fee_shares_minted = minted;
        Ok(ReportSummary {
            fee_shares,
            total_pooled_ether,
        })
    }

    /// `LiquidityPool.requestWithdraw(recipient, amount)`: moves `sharesForAmount(amount)` shares
    /// to the NFT contract and mints request NFT `id`. Returns `(id, shares moved)`; the caller
    /// debits the holder by those shares.
    ///
    /// Specification:
    /// - fails with `InvalidWithdrawalAmount` if `amount == 0` or outside `[min, max]`;
    /// - fails with `InvalidShareAmount` if `sharesForAmount(amount) == 0`.
    pub fn request_withdraw(&mut self, owner: &str, amount: U256) -> EtherFiResult<(u64, U256)> {
        if amount == U256::ZERO || amount < self.params.min_withdraw_amount || amount > self.params.max_withdraw_amount
        {
            return Err(EtherFiError::InvalidWithdrawalAmount { amount });
        }
        let share = self.shares_for_amount(amount)?;
        if share == U256::ZERO {
            return Err(EtherFiError::InvalidShareAmount);
        }
        let nft_shares = self.nft_shares.add_c(share)?;
        let id = self.next_request_id;
        self.nft_shares = nft_shares;
        self.requests.insert(
            id,
            NftRequest {
                owner: owner.into(),
                amount_of_eeth: amount,
                share_of_eeth: share,
                is_valid: true,
            },
        );
        self.next_request_id += 1;
        Ok((id, share))
    }

    /// `EtherFiAdmin._finalizeWithdrawals`: `WithdrawRequestNFT.finalizeRequests(id)` (snapshot
    /// `amountPerShareCeil` for the batch `(last, id]`) then
    /// `addEthAmountLockedForWithdrawal(Σ amountOfEEth of the batch's valid requests)`. Returns the
    /// ETH locked.
    ///
    /// Specification:
    /// - fails with `CannotUndoFinalization` if `id < lastFinalizedRequestId`;
    /// - fails with `CannotFinalizeFutureRequests` if `id ≥ nextRequestId`;
    /// - fails with `InsufficientLiquidity` if the pool holds less ETH than the batch needs.
    pub fn finalize_requests(&mut self, id: u64) -> EtherFiResult<U256> {
        if id < self.last_finalized_request_id {
            return Err(EtherFiError::CannotUndoFinalization {
                id,
                last_finalized: self.last_finalized_request_id,
            });
        }
        if id >= self.next_request_id {
            return Err(EtherFiError::CannotFinalizeFutureRequests {
                id,
                next: self.next_request_id,
            });
        }
        let mut lock = U256::ZERO;
        for (_, r) in self.requests.range(self.last_finalized_request_id + 1..=id) {
            if r.is_valid {
                lock = lock.add_c(r.amount_of_eeth)?;
            }
        }
        if lock > self.total_value_in_lp {
            return Err(EtherFiError::InsufficientLiquidity {
                amount: lock,
                in_lp: self.total_value_in_lp,
            });
        }
        let rate = self.amount_per_share_ceil()?;
        let in_lp = self.total_value_in_lp.sub_c(lock)?;
        let out_lp = self.total_value_out_of_lp.add_c(lock)?;
        let nft_eth = self.nft_eth.add_c(lock)?;
        let locked = self.eth_locked_for_withdrawal.add_c(lock)?;
        if id > self.last_finalized_request_id {
            self.finalization_rates.push((id, rate));
        }
        self.last_finalized_request_id = id;
        self.total_value_in_lp = in_lp;
        self.total_value_out_of_lp = out_lp;
        self.nft_eth = nft_eth;
        self.eth_locked_for_withdrawal = locked;
        Ok(lock)
    }

    /// The frozen rate of request `id` (`_finalizationRates.lowerLookup`: the first batch whose
    /// last id is ≥ `id`).
    pub fn frozen_rate_for(&self, id: u64) -> U256 {
        self.finalization_rates
            .iter()
            .find(|(k, _)| *k >= id)
            .map(|(_, r)| *r)
            .unwrap_or(U256::ZERO)
    }

    /// `getClaimableAmount`: `min(amountOfEEth, ⌊share·frozenRate/1e18⌋)`.
    ///
    /// Specification: fails with `RequestNotFound`, or `RequestNotFinalized` if
    /// `id > lastFinalizedRequestId`.
    pub fn claimable_amount(&self, id: u64) -> EtherFiResult<U256> {
        if id > self.last_finalized_request_id {
            return Err(EtherFiError::RequestNotFinalized {
                id,
                last_finalized: self.last_finalized_request_id,
            });
        }
        let r = self.requests.get(&id).ok_or(EtherFiError::RequestNotFound { id })?;
        let mut rate = self.frozen_rate_for(id);
        if rate == U256::ZERO {
            rate = self.amount_per_share_ceil()?;
        }
        let for_shares = mul_div_down(r.share_of_eeth, rate, WAD)?;
        Ok(r.amount_of_eeth.min(for_shares))
    }

    /// `WithdrawRequestNFT.claimWithdraw(id)`: pays the owner the claimable amount from the
    /// escrow, burns the request's shares (`LiquidityPool.withdraw(amount, share)`) and sweeps any
    /// escrow surplus back to the pool.
    ///
    /// Specification:
    /// - fails with `RequestNotFound`, `NotOwner`, `RequestNotValid`, `RequestNotFinalized`;
    /// - fails with `InsufficientEscrow` if less than `amountOfEEth` is locked;
    /// - fails with `InvalidAmount` if the claimable amount is zero;
    /// - fails with `Math(Underflow)` if `totalValueOutOfLp` is below the payout.
    pub fn claim_withdraw(&mut self, owner: &str, id: u64) -> EtherFiResult<U256> {
        let r = self.requests.get(&id).ok_or(EtherFiError::RequestNotFound { id })?;
        if r.owner != owner {
            return Err(EtherFiError::NotOwner { id });
        }
        if !r.is_valid {
            return Err(EtherFiError::RequestNotValid { id });
        }
        let (amount, share) = (r.amount_of_eeth, r.share_of_eeth);
        let pay = self.claimable_amount(id)?;
        if self.eth_locked_for_withdrawal < amount {
            return Err(EtherFiError::InsufficientEscrow {
                needed: amount,
                locked: self.eth_locked_for_withdrawal,
            });
        }
        if pay > u128_max() || pay == U256::ZERO || share == U256::ZERO {
            return Err(EtherFiError::InvalidAmount);
        }
        let locked = self.eth_locked_for_withdrawal.sub_c(amount)?;
        // LiquidityPool.withdraw(amount, share): burn the full share, unwind the payout.
        let mut pool = self.pool();
        pool.out_lp = pool.out_lp.sub_c(pay)?;
        pool.shares = pool.shares.sub_c(share)?;
        let nft_shares = self.nft_shares.sub_c(share)?;
        let mut nft_eth = self.nft_eth.sub_c(pay)?;
        if nft_eth > locked {
            // Stranded escrow goes back to the pool (`receive()`: out-of-LP → in-LP).
            let stranded = nft_eth.sub_c(locked)?;
            nft_eth = locked;
            pool.out_lp = pool.out_lp.sub_c(stranded)?;
            pool.in_lp = pool.in_lp.add_c(stranded)?;
        }
        if nft_eth < locked {
            return Err(EtherFiError::InsufficientEscrow {
                needed: locked,
                locked: nft_eth,
            });
        }
        self.requests.remove(&id);
        self.set_pool(pool);
        self.eth_locked_for_withdrawal = locked;
        self.nft_shares = nft_shares;
        self.nft_eth = nft_eth;
        Ok(pay)
    }

    /// `WeETH.wrap(eETHAmount)`: mints `sharesForAmount(amount)` weETH; the eETH transfer moves
    /// the same number of shares to the wrapper. Returns the weETH minted (= shares to debit).
    ///
    /// Specification: fails with `ZeroAmount` for zero.
    pub fn wrap(&mut self, eeth_amount: U256) -> EtherFiResult<U256> {
        if eeth_amount == U256::ZERO {
            return Err(EtherFiError::ZeroAmount);
        }
        let we = self.shares_for_amount(eeth_amount)?;
        let supply = self.weeth_supply.add_c(we)?;
        let held = self.weeth_shares.add_c(we)?;
        self.weeth_supply = supply;
        self.weeth_shares = held;
        Ok(we)
    }

    /// `WeETH.unwrap(weETHAmount)`: burns weETH and transfers `amountForShare(weETH)` eETH, which
    /// moves `sharesForAmount` of that amount (≤ the weETH burned) back. Returns
    /// `(eETH amount, shares credited)`.
    ///
    /// Specification: fails with `ZeroAmount` for zero, `InsufficientWeEth` above the supply.
    pub fn unwrap(&mut self, weeth_amount: U256) -> EtherFiResult<(U256, U256)> {
        if weeth_amount == U256::ZERO {
            return Err(EtherFiError::ZeroAmount);
        }
        if weeth_amount > self.weeth_supply {
            return Err(EtherFiError::InsufficientWeEth {
                amount: weeth_amount,
                supply: self.weeth_supply,
            });
        }
        let amount = self.amount_for_share(weeth_amount)?;
        let shares = self.shares_for_amount(amount)?;
        let held = self.weeth_shares.sub_c(shares)?;
        self.weeth_supply = self.weeth_supply.sub_c(weeth_amount)?;
        self.weeth_shares = held;
        Ok((amount, shares))
    }

    /// `WeETH.getRate()`: eETH per weETH, `amountForShare(1e18)`.
    pub fn weeth_rate(&self) -> EtherFiResult<U256> {
        self.amount_for_share(WAD)
    }

    /// Backing rules.
    pub fn check_invariants(&self) -> Result<(), String> {
        let held = self.weeth_shares.saturating_add(self.nft_shares);
        ensure(held <= self.total_shares, || {
            format!(
                "etherfi: wrapper + NFT shares {held} exceed total shares {}",
                self.total_shares
            )
        })?;
        ensure(self.weeth_supply <= self.weeth_shares, || {
            format!(
                "etherfi: weETH supply {} not backed by wrapper shares {}",
                self.weeth_supply, self.weeth_shares
            )
        })?;
        let mut req_shares = U256::ZERO;
        let mut finalized_owed = U256::ZERO;
        for (id, r) in &self.requests {
            req_shares = req_shares.saturating_add(r.share_of_eeth);
            if *id <= self.last_finalized_request_id && r.is_valid {
                finalized_owed = finalized_owed.saturating_add(r.amount_of_eeth);
            }
        }
        ensure(req_shares == self.nft_shares, || {
            format!(
                "etherfi: requests hold {req_shares} shares, NFT contract {}",
                self.nft_shares
            )
        })?;
        ensure(finalized_owed == self.eth_locked_for_withdrawal, || {
            format!(
                "etherfi: finalized requests owe {finalized_owed}, escrow locks {}",
                self.eth_locked_for_withdrawal
            )
        })?;
        ensure(self.eth_locked_for_withdrawal <= self.nft_eth, || {
            format!(
                "etherfi: escrow {} above NFT ETH {}",
                self.eth_locked_for_withdrawal, self.nft_eth
            )
        })?;
        ensure(self.nft_eth <= self.total_value_out_of_lp, || {
            format!("etherfi: NFT ETH {} not in totalValueOutOfLp", self.nft_eth)
        })?;
        ensure(
            self.total_value_in_lp <= u128_max() && self.total_value_out_of_lp <= u128_max(),
            || "etherfi: pool values above uint128".into(),
        )?;
        ensure(self.requests.keys().all(|&k| k < self.next_request_id), || {
            "etherfi: request id at or above nextRequestId".into()
        })
    }
}

impl Lrt for EtherFi {
    type Error = EtherFiError;

    /// Deposit returns eETH *shares* (the ledger unit of eETH).
    fn deposit(&mut self, amount: U256, _now: u64) -> EtherFiResult<U256> {
        self.deposit_eth(amount)
    }
    /// `lrt_amount` is an eETH *amount*; the shares moved are `sharesForAmount(amount)`.
    fn request_withdrawal(&mut self, owner: &str, lrt_amount: U256, _now: u64) -> EtherFiResult<u64> {
        Ok(self.request_withdraw(owner, lrt_amount)?.0)
    }
    fn claim(&mut self, owner: &str, id: u64, _now: u64) -> EtherFiResult<U256> {
        self.claim_withdraw(owner, id)
    }
    /// ETH per 1e18 eETH shares (= the weETH rate).
    fn rate(&self, _now: u64) -> EtherFiResult<U256> {
        if self.total_shares == U256::ZERO {
            return Ok(WAD);
        }
        self.amount_for_share(WAD)
    }
    fn tvl(&self, _now: u64) -> EtherFiResult<U256> {
        self.total_pooled_ether()
    }
    /// eETH total shares.
    fn supply(&self) -> U256 {
        self.total_shares
    }
    fn check_invariants(&self) -> Result<(), String> {
        EtherFi::check_invariants(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposit_shares_use_the_pool_before_the_deposit() {
        // P = 110 after a 10 deposit, S = 90 → 10·90/100 = 9.
        let e = |x: u128| U256::from(x) * WAD;
        assert_eq!(shares_for_deposit(e(110), e(90), e(10)), Ok(e(9)));
        assert_eq!(shares_for_deposit(e(10), U256::ZERO, e(10)), Ok(e(10)));
        assert_eq!(
            shares_for_deposit(e(1), e(1), e(2)),
            Err(EtherFiError::Math(MathError::Underflow))
        );
        assert_eq!(amount_for_share(e(100), U256::ZERO, e(1)), Ok(U256::ZERO));
        assert_eq!(shares_for_amount(U256::ZERO, e(1), e(1)), Ok(U256::ZERO));
        // 1 wei at 3 ETH / 2 shares: ⌊2/3⌋ = 0 shares, ⌈2/3⌉ = 1.
        assert_eq!(
            shares_for_amount(U256::from(3u8), U256::from(2u8), U256::ONE),
            Ok(U256::ZERO)
        );
        assert_eq!(
            shares_for_withdrawal_amount(U256::from(3u8), U256::from(2u8), U256::ONE),
            Ok(U256::ONE)
        );
    }
}
