//! Pendle v2 (SPEC §7.4): SY wrappers, PT/YT yield tokenisation with a never-decreasing PY index,
//! YT interest/rewards/points by index, and the PT/SY AMM of `MarketMathCore.sol` with its oracle
//! and the router's binary searches — bit-exact against `pendle-finance/pendle-core-v2-public`.
//!
//! * [`math`] — pure market math (`swap_exact_pt_for_sy`, `swap_sy_for_exact_pt`, liquidity, rates).
//! * [`approx`] — `MarketApproxLibV2` searches ([`approx::ApproxParams`]).
//! * [`Pendle`] — the protocol state machine over the [`Ledger`]: SY, PT, YT and LP are ledger
//!   assets; SY holds its underlying token in `pendle:sy:<SY>`, a yield contract holds SY in
//!   `pendle:yc:<YT>`, a market holds PT and SY in `pendle:market:<LP>`.
//!
//! Deviations from the contracts (deliberate, documented): SY is a 1:1 wrapper whose exchange rate
//! the caller supplies (wstETH `stEthPerToken`, ERC-4626 assets/supply); the router's surplus SY of
//! `swapExactSyForPt` and surplus PT of `swapExactSyForYt` go back to the user instead of staying
//! in the market as skim-able dust, so market reserves always equal ledger balances.

pub mod approx;
pub mod math;

use approx::ApproxParams;
use math::{Core, MarketStateArgs, ONE};
use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AccountId, AssetId, AssetKind, Ledger, LedgerError, Reject, StateHash};
use stake_math::signed::{to_signed, to_unsigned};
use stake_math::{Checked, MathError, I256, U256};
use std::fmt;

/// Largest interest / reward fee rate of the yield-contract factory: 20 % (wad).
pub const MAX_INTEREST_FEE_RATE: U256 = U256::new(200_000_000_000_000_000);
/// Default interest fee rate (SPEC §7.4, Pendle docs): 5 % (wad).
pub const DEFAULT_INTEREST_FEE_RATE: U256 = U256::new(50_000_000_000_000_000);
/// Largest `lnFeeRateRoot` of the market factory: `ln(1.05)` = 48790164169432003.
pub const MAX_LN_FEE_RATE_ROOT: U256 = U256::new(48_790_164_169_432_003);
/// Largest `reserveFeePercent` (base 100).
pub const MAX_RESERVE_FEE_PERCENT: u8 = 100;
/// Ring-buffer size of a market's ln-implied-rate observations.
pub const OBSERVATION_CARDINALITY: usize = 64;

/// Index of an SY wrapper in [`Pendle::sys`].
pub type SyId = usize;
/// Index of a yield contract (PT/YT pair) in [`Pendle::yield_contracts`].
pub type YcId = usize;
/// Index of a market in [`Pendle::markets`].
pub type MarketId = usize;

// ================================================================================================
// Errors
// ================================================================================================

/// Every Pendle rejection (codes 6500–6699; math and ledger errors keep their own codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PendleError {
    /// The market or yield contract has expired (`MarketExpired` / `YCExpired`).
    MarketExpired,
    /// `totalPt ≤ netPtToAccount`.
    MarketInsufficientPtForTrade {
        /// PT in the market.
        total_pt: I256,
        /// PT asked for.
        net_pt_to_account: I256,
    },
    /// The market holds no PT or no asset.
    MarketZeroTotalPtOrTotalAsset {
        /// PT in the market.
        total_pt: I256,
        /// Asset value of its SY.
        total_asset: I256,
    },
    /// An exchange rate below one.
    MarketExchangeRateBelowOne {
        /// The rate (wad).
        exchange_rate: I256,
    },
    /// Proportion exactly 1.
    MarketProportionMustNotEqualOne,
    /// PT proportion above 0.96.
    MarketProportionTooHigh {
        /// The proportion (wad).
        proportion: I256,
        /// The cap (wad).
        max: I256,
    },
    /// `scalarRoot·YEAR/tte ≤ 0`.
    MarketRateScalarBelowZero {
        /// The rate scalar.
        rate_scalar: I256,
    },
    /// The new implied rate rounds to zero.
    MarketZeroLnImpliedRate,
    /// A zero input amount.
    MarketZeroAmountsInput,
    /// A zero output amount.
    MarketZeroAmountsOutput,
    /// `subNoNeg(a, b)` with `a < b` (the contract's "negative" revert).
    NegativeResult {
        /// Minuend.
        a: I256,
        /// Subtrahend.
        b: I256,
    },
    /// A router search ran out of iterations (`Slippage: APPROX_EXHAUSTED`).
    ApproxExhausted,
    /// Bad search parameters (`Internal: INVALID_APPROX_PARAMS`).
    InvalidApproxParams {
        /// Lower bound.
        guess_min: U256,
        /// Upper bound.
        guess_max: U256,
        /// Tolerance.
        eps: U256,
    },
    /// The yield contract has not expired yet (`YCNotExpired`).
    YieldContractNotExpired {
        /// Its expiry.
        expiry: u64,
        /// Now.
        now: u64,
    },
    /// A zero amount where a positive one is required (`YCNoFloatingSy`, `SYZeroDeposit`, …).
    ZeroAmount,
    /// A fee rate above the factory maximum.
    FeeRateTooHigh {
        /// Requested rate.
        rate: U256,
        /// Maximum.
        max: U256,
    },
    /// An SY exchange rate of zero.
    ZeroExchangeRate,
    /// A market/yield-contract parameter outside the factory's limits.
    InvalidParams {
        /// What is wrong.
        reason: String,
    },
    /// Unknown SY / yield contract / market / reward stream id.
    UnknownId {
        /// Kind of id.
        kind: &'static str,
        /// The id.
        id: usize,
    },
    /// Output below the caller's minimum.
    Slippage {
        /// What the caller asked for at least.
        min: U256,
        /// What the operation would give.
        actual: U256,
    },
    /// The market received less PT than it sold (`MarketInsufficientPtReceived`).
    InsufficientPtReceived {
        /// PT minted for the market.
        actual: U256,
        /// PT required.
        required: U256,
    },
    /// The redeemed SY does not cover what the market is owed.
    InsufficientSyReceived {
        /// SY available.
        actual: U256,
        /// SY required.
        required: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
    /// Ledger failure (insufficient balance, …); boxed to keep the error small.
    Ledger(Box<LedgerError>),
}

impl From<MathError> for PendleError {
    fn from(e: MathError) -> Self {
        PendleError::Math(e)
    }
}

impl From<LedgerError> for PendleError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Math(m) => PendleError::Math(m),
            other => PendleError::Ledger(Box::new(other)),
        }
    }
}

impl fmt::Display for PendleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PendleError::*;
        match self {
            MarketExpired => write!(f, "pendle: market/yield contract expired"),
            MarketInsufficientPtForTrade {
                total_pt,
                net_pt_to_account,
            } => {
                write!(f, "pendle: market holds {total_pt} PT, trade needs {net_pt_to_account}")
            }
            MarketZeroTotalPtOrTotalAsset { total_pt, total_asset } => {
                write!(f, "pendle: market has zero PT ({total_pt}) or asset ({total_asset})")
            }
            MarketExchangeRateBelowOne { exchange_rate } => {
                write!(f, "pendle: exchange rate {exchange_rate} below 1e18")
            }
            MarketProportionMustNotEqualOne => {
                write!(f, "pendle: PT proportion must not equal one")
            }
            MarketProportionTooHigh { proportion, max } => {
                write!(f, "pendle: PT proportion {proportion} above maximum {max}")
            }
            MarketRateScalarBelowZero { rate_scalar } => {
                write!(f, "pendle: rate scalar {rate_scalar} ≤ 0")
            }
            MarketZeroLnImpliedRate => write!(f, "pendle: new ln implied rate is zero"),
            MarketZeroAmountsInput => write!(f, "pendle: zero input amount"),
            MarketZeroAmountsOutput => write!(f, "pendle: zero output amount"),
            NegativeResult { a, b } => write!(f, "pendle: {a} − {b} would be negative"),
            ApproxExhausted => write!(f, "pendle: approximation exhausted (Slippage: APPROX_EXHAUSTED)"),
            InvalidApproxParams {
                guess_min,
                guess_max,
                eps,
            } => {
                write!(
                    f,
                    "pendle: invalid approx params min {guess_min} max {guess_max} eps {eps}"
                )
            }
            YieldContractNotExpired { expiry, now } => {
                write!(f, "pendle: yield contract expires at {expiry}, now {now}")
            }
            ZeroAmount => write!(f, "pendle: zero amount"),
            FeeRateTooHigh { rate, max } => {
                write!(f, "pendle: fee rate {rate} above maximum {max}")
            }
            ZeroExchangeRate => write!(f, "pendle: SY exchange rate is zero"),
            InvalidParams { reason } => write!(f, "pendle: invalid parameters: {reason}"),
            UnknownId { kind, id } => write!(f, "pendle: unknown {kind} #{id}"),
            Slippage { min, actual } => write!(f, "pendle: output {actual} below minimum {min}"),
            InsufficientPtReceived { actual, required } => {
                write!(f, "pendle: market received {actual} PT, {required} required")
            }
            InsufficientSyReceived { actual, required } => {
                write!(f, "pendle: {actual} SY available, {required} owed to the market")
            }
            Math(e) => write!(f, "{e}"),
            Ledger(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PendleError {}

impl Reject for PendleError {
    fn code(&self) -> u32 {
        use PendleError::*;
        match self {
            MarketExpired => 6500,
            MarketInsufficientPtForTrade { .. } => 6501,
            MarketZeroTotalPtOrTotalAsset { .. } => 6502,
            MarketExchangeRateBelowOne { .. } => 6503,
            MarketProportionMustNotEqualOne => 6504,
            MarketProportionTooHigh { .. } => 6505,
            MarketRateScalarBelowZero { .. } => 6506,
            MarketZeroLnImpliedRate => 6507,
            MarketZeroAmountsInput => 6508,
            MarketZeroAmountsOutput => 6509,
            NegativeResult { .. } => 6510,
            ApproxExhausted => 6511,
            InvalidApproxParams { .. } => 6512,
            YieldContractNotExpired { .. } => 6513,
            ZeroAmount => 6514,
            FeeRateTooHigh { .. } => 6515,
            ZeroExchangeRate => 6516,
            InvalidParams { .. } => 6517,
            UnknownId { .. } => 6518,
            Slippage { .. } => 6519,
            InsufficientPtReceived { .. } => 6520,
            InsufficientSyReceived { .. } => 6521,
            Math(e) => e.code(),
            Ledger(e) => e.code(),
        }
    }
}

// ================================================================================================
// State
// ================================================================================================

/// An SY wrapper: 1 SY = 1 unit of the yield-bearing `underlying`, worth `exchange_rate` asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sy {
    /// Ledger asset of the SY token.
    pub asset: AssetId,
    /// The wrapped yield-bearing token (wstETH, weETH, an ERC-4626 share, …).
    pub underlying: AssetId,
    /// Asset per SY (wad), supplied by the caller; may fall (slashing).
    pub exchange_rate: U256,
    /// Module account holding the underlying.
    pub account: AccountId,
}

/// Per-holder interest bookkeeping (`UserInterest`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInterest {
    /// PY index at the last update (0 = never).
    pub index: U256,
    /// Interest owed, in SY.
    pub accrued: U256,
}

/// Per-holder reward bookkeeping (`UserReward`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReward {
    /// Stream index at the last update (0 = never).
    pub index: U256,
    /// Rewards owed.
    pub accrued: U256,
}

/// A reward stream to YT holders: a ledger token, or **points** (tallied, not a token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardStream {
    /// Name (`"EL points"`, `"SSV"`, …).
    pub name: String,
    /// The reward token, or `None` for points.
    pub token: Option<AssetId>,
    /// Rewards per SY of reward shares (wad), starts at 1 so that 0 means "never seen".
    pub index: U256,
    /// Per-holder state.
    pub users: imbl::OrdMap<AccountId, UserReward>,
    /// Points claimed per holder (points streams only).
    pub points_claimed: imbl::OrdMap<AccountId, U256>,
    /// Rewards owed to the treasury (post-expiry income and fees; points are tallied here too).
    pub treasury_owed: U256,
}

/// A PT/YT pair over one SY with one expiry (`PendleYieldToken` + `PendlePrincipalToken`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YieldContract {
    /// The SY it tokenizes.
    pub sy: SyId,
    /// Expiry (seconds); expired when `now ≥ expiry`.
    pub expiry: u64,
    /// PT asset.
    pub pt: AssetId,
    /// YT asset.
    pub yt: AssetId,
    /// Module account holding the SY.
    pub account: AccountId,
    /// Last PY index (`_pyIndexStored`), never decreasing.
    pub py_index_stored: U256,
    /// SY held (`syReserve`).
    pub sy_reserve: U256,
    /// Per-YT-holder interest.
    pub user_interest: imbl::OrdMap<AccountId, UserInterest>,
    /// PY index at the first interaction after expiry (`postExpiry.firstPYIndex`).
    pub first_py_index: Option<U256>,
    /// SY interest accrued after expiry, owed to the treasury.
    pub total_sy_interest_for_treasury: U256,
    /// Reward and points streams to YT holders.
    pub rewards: Vec<RewardStream>,
}

/// One oracle observation: cumulative `lnImpliedRate × seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// When written.
    pub timestamp: u64,
    /// Σ lnImpliedRate·dt up to `timestamp`.
    pub ln_implied_rate_cumulative: U256,
}

/// A PT/SY market (`PendleMarketV3`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    /// The PT/YT pair it trades.
    pub yc: YcId,
    /// LP asset.
    pub lp: AssetId,
    /// Module account holding PT and SY.
    pub account: AccountId,
    /// PT reserve.
    pub total_pt: U256,
    /// SY reserve.
    pub total_sy: U256,
    /// LP supply.
    pub total_lp: U256,
    /// Scalar root (wad).
    pub scalar_root: I256,
    /// Initial anchor (wad, ≥ 1e18).
    pub initial_anchor: I256,
    /// ln of the fee rate root (wad, ≤ ln 1.05).
    pub ln_fee_rate_root: U256,
    /// Reserve fee percent (base 100).
    pub reserve_fee_percent: u8,
    /// ln of the last implied rate.
    pub last_ln_implied_rate: U256,
    /// Oracle ring buffer (oldest first once full).
    pub observations: Vec<Observation>,
    /// Next slot to overwrite once the buffer is full.
    pub observation_index: usize,
}

/// The whole Pendle deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pendle {
    /// Treasury account (fees, post-expiry interest and rewards).
    pub treasury: AccountId,
    /// Holder of the permanently locked `MINIMUM_LIQUIDITY` LP.
    pub locked_lp_holder: AccountId,
    /// Interest fee rate (wad, ≤ 20 %).
    pub interest_fee_rate: U256,
    /// Reward fee rate (wad, ≤ 20 %).
    pub reward_fee_rate: U256,
    /// SY wrappers.
    pub sys: Vec<Sy>,
    /// PT/YT pairs.
    pub yield_contracts: Vec<YieldContract>,
    /// Markets.
    pub markets: Vec<Market>,
}

/// Everything that happened, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendleEvent {
    /// Underlying wrapped into SY.
    SyDeposited {
        /// SY wrapper.
        sy: SyId,
        /// Account.
        user: AccountId,
        /// Amount.
        amount: U256,
    },
    /// SY unwrapped.
    SyRedeemed {
        /// SY wrapper.
        sy: SyId,
        /// Account.
        user: AccountId,
        /// Amount.
        amount: U256,
    },
    /// The caller-supplied SY exchange rate changed.
    SyExchangeRateSet {
        /// SY wrapper.
        sy: SyId,
        /// New rate (wad).
        rate: U256,
    },
    /// A new PY index was stored.
    NewInterestIndex {
        /// Yield contract.
        yc: YcId,
        /// PY index (wad).
        index: U256,
    },
    /// SY tokenized into PT + YT.
    MintPy {
        /// Yield contract.
        yc: YcId,
        /// Account.
        user: AccountId,
        /// SY in.
        sy_in: U256,
        /// PT and YT minted.
        py_out: U256,
    },
    /// PT (+YT) redeemed for SY.
    RedeemPy {
        /// Yield contract.
        yc: YcId,
        /// Account.
        user: AccountId,
        /// PT (and YT) burnt.
        py_in: U256,
        /// SY out.
        sy_out: U256,
        /// SY owed to the treasury (post-expiry interest).
        sy_to_treasury_later: U256,
    },
    /// Interest paid to a YT holder.
    InterestClaimed {
        /// Yield contract.
        yc: YcId,
        /// Account.
        user: AccountId,
        /// SY out.
        sy_out: U256,
        /// Fee to the treasury, SY.
        sy_fee: U256,
    },
    /// Rewards (or points) paid to a YT holder.
    RewardClaimed {
        /// Yield contract.
        yc: YcId,
        /// Reward stream.
        stream: usize,
        /// Account.
        user: AccountId,
        /// Amount.
        amount: U256,
        /// Fee to the treasury.
        fee: U256,
    },
    /// Rewards (or points) distributed to YT holders.
    RewardDistributed {
        /// Yield contract.
        yc: YcId,
        /// Reward stream.
        stream: usize,
        /// Amount.
        amount: U256,
        /// Part owed to the treasury.
        to_treasury: U256,
    },
    /// Post-expiry interest sent to the treasury.
    TreasuryInterestCollected {
        /// Yield contract.
        yc: YcId,
        /// SY wrapper.
        sy: U256,
    },
    /// YT moved between holders.
    YtTransferred {
        /// Yield contract.
        yc: YcId,
        /// Sender.
        from: AccountId,
        /// Receiver.
        to: AccountId,
        /// Amount.
        amount: U256,
    },
    /// Liquidity added.
    LiquidityAdded {
        /// Market.
        market: MarketId,
        /// Account.
        user: AccountId,
        /// SY taken.
        sy_used: U256,
        /// PT taken.
        pt_used: U256,
        /// LP minted to the user.
        lp_out: U256,
        /// LP locked forever.
        lp_locked: U256,
    },
    /// Liquidity removed.
    LiquidityRemoved {
        /// Market.
        market: MarketId,
        /// Account.
        user: AccountId,
        /// LP burnt.
        lp_in: U256,
        /// SY out.
        sy_out: U256,
        /// PT out.
        pt_out: U256,
    },
    /// A trade (`net_pt_to_account` > 0: PT bought; `net_sy_to_account` > 0: SY received).
    Swap {
        /// Market.
        market: MarketId,
        /// Trader.
        user: AccountId,
        /// PT to the trader (negative: sold).
        net_pt_to_account: I256,
        /// SY to the trader (negative: paid).
        net_sy_to_account: I256,
        /// Fee in SY.
        net_sy_fee: U256,
        /// Fee share to the treasury in SY.
        net_sy_to_reserve: U256,
        /// New ln implied rate.
        ln_implied_rate: U256,
    },
    /// YT bought with SY through a PT flash sale.
    SwapSyForYt {
        /// Market.
        market: MarketId,
        /// Account.
        user: AccountId,
        /// SY in.
        sy_in: U256,
        /// YT out.
        yt_out: U256,
    },
    /// YT sold for SY through a PT flash purchase.
    SwapYtForSy {
        /// Market.
        market: MarketId,
        /// Account.
        user: AccountId,
        /// YT in.
        yt_in: U256,
        /// SY out.
        sy_out: U256,
    },
}

impl StateHash for Pendle {
    fn hash_state(&self, h: &mut stake_ledger::blake3::Hasher) {
        hash_serde(h, self);
    }
}

// ================================================================================================
// Pure helpers
// ================================================================================================

fn div_down(a: U256, b: U256) -> Result<U256, PendleError> {
    Ok(a.mul_c(ONE)?.div_c(b)?)
}

fn mul_down(a: U256, b: U256) -> Result<U256, PendleError> {
    Ok(a.mul_c(b)?.div_c(ONE)?)
}

/// `_distributeInterestPrivate`: `accrued += YT·(cur − prev)·1e18/(prev·cur)` (floor).
pub fn accrue_interest(ui: UserInterest, yt_balance: U256, current_index: U256) -> Result<UserInterest, PendleError> {
    if ui.index == current_index {
        return Ok(ui);
    }
    if ui.index == U256::ZERO {
        return Ok(UserInterest {
            index: current_index,
            accrued: ui.accrued,
        });
    }
    let interest = div_down(
        yt_balance.mul_c(current_index.sub_c(ui.index)?)?,
        ui.index.mul_c(current_index)?,
    )?;
    Ok(UserInterest {
        index: current_index,
        accrued: ui.accrued.add_c(interest)?,
    })
}

/// `_distributeRewardsPrivate` for one stream: `accrued += shares·Δindex/1e18`.
fn accrue_reward(ur: UserReward, shares: U256, index: U256) -> Result<UserReward, PendleError> {
    if ur.index == U256::ZERO {
        return Ok(UserReward {
            index,
            accrued: ur.accrued,
        });
    }
    if ur.index == index {
        return Ok(ur);
    }
    let delta = mul_down(shares, index.sub_c(ur.index)?)?;
    Ok(UserReward {
        index,
        accrued: ur.accrued.add_c(delta)?,
    })
}

/// Index values of a yield contract at `now` without mutating it.
#[derive(Clone, Copy, Debug)]
struct IndexView {
    /// New `_pyIndexStored` = max(SY rate, stored).
    py: U256,
    /// `postExpiry.firstPYIndex` after this call (set on the first call after expiry).
    first: Option<U256>,
    /// Index used for interest (`first` after expiry, else `py`).
    interest: U256,
    expired: bool,
}

/// The scalar fields of a yield contract an operation needs (no per-holder maps: O(1) to copy).
#[derive(Clone, Copy, Debug)]
struct YcInfo {
    expiry: u64,
    pt: AssetId,
    yt: AssetId,
    account: AccountId,
    sy_reserve: U256,
    treasury_interest: U256,
}

/// Staged per-user YT bookkeeping (interest + every reward stream), written on success.
#[derive(Clone, Debug)]
struct UserStage {
    user: AccountId,
    interest: UserInterest,
    rewards: Vec<UserReward>,
}

impl YieldContract {
    fn index_view(&self, sy_rate: U256, now: u64) -> IndexView {
        let py = sy_rate.max(self.py_index_stored);
        let expired = now >= self.expiry;
        let first = if expired {
            Some(self.first_py_index.unwrap_or(py))
        } else {
            self.first_py_index
        };
        let interest = match (expired, first) {
            (true, Some(f)) => f,
            _ => py,
        };
        IndexView {
            py,
            first,
            interest,
            expired,
        }
    }

    /// Rewards first (shares use the interest state before this update), then interest
    /// (`_updateAndDistributeRewardsForTwo` then `_distributeInterestForTwo`).
    fn stage_user(&self, ledger: &Ledger, user: AccountId, view: &IndexView) -> Result<UserStage, PendleError> {
        let ui = self.user_interest.get(&user).copied().unwrap_or_default();
        let bal = ledger.balance(user, self.yt);
        let shares = if ui.index == U256::ZERO {
            U256::ZERO
        } else {
            math::asset_to_sy(ui.index, bal)?.add_c(ui.accrued)?
        };
        let mut rewards = Vec::with_capacity(self.rewards.len());
        for s in &self.rewards {
            let ur = s.users.get(&user).copied().unwrap_or_default();
            rewards.push(accrue_reward(ur, shares, s.index)?);
        }
        let interest = accrue_interest(ui, bal, view.interest)?;
        Ok(UserStage {
            user,
            interest,
            rewards,
        })
    }

    fn commit_user(&mut self, st: UserStage) {
        self.user_interest.insert(st.user, st.interest);
        for (s, ur) in self.rewards.iter_mut().zip(st.rewards) {
            s.users.insert(st.user, ur);
        }
    }

    fn commit_index(&mut self, view: &IndexView) {
        self.py_index_stored = view.py;
        self.first_py_index = view.first;
    }
}

impl Market {
    /// The pure-math view of this market at `now` with PY index `py_index`.
    pub fn args(&self, py_index: U256, expiry: u64, now: u64) -> MarketStateArgs {
        MarketStateArgs {
            total_pt: self.total_pt,
            total_sy: self.total_sy,
            total_lp: self.total_lp,
            scalar_root: self.scalar_root,
            ln_fee_rate_root: self.ln_fee_rate_root,
            reserve_fee_percent: U256::from(self.reserve_fee_percent),
            last_ln_implied_rate: self.last_ln_implied_rate,
            py_index,
            time_to_expiry: expiry.saturating_sub(now),
        }
    }

    /// Observation to append for a write at `now` (`OracleLib.write`): none if `now` equals the
    /// last timestamp; the cumulative grows by the *previous* `lastLnImpliedRate` × elapsed time.
    fn next_observation(&self, now: u64) -> Result<Option<Observation>, PendleError> {
        let last = self.last_observation();
        match last {
            Some(o) if o.timestamp == now => Ok(None),
            Some(o) => {
                let dt = U256::from(now.saturating_sub(o.timestamp));
                Ok(Some(Observation {
                    timestamp: now,
                    ln_implied_rate_cumulative: o
                        .ln_implied_rate_cumulative
                        .add_c(self.last_ln_implied_rate.mul_c(dt)?)?,
                }))
            }
            None => Ok(Some(Observation {
                timestamp: now,
                ln_implied_rate_cumulative: U256::ZERO,
            })),
        }
    }

    fn last_observation(&self) -> Option<Observation> {
        if self.observations.is_empty() {
            return None;
        }
        if self.observations.len() < OBSERVATION_CARDINALITY {
            self.observations.last().copied()
        } else {
            let i = (self.observation_index + OBSERVATION_CARDINALITY - 1) % OBSERVATION_CARDINALITY;
            self.observations.get(i).copied()
        }
    }

    fn push_observation(&mut self, o: Observation) {
        if self.observations.len() < OBSERVATION_CARDINALITY {
            self.observations.push(o);
        } else {
            if let Some(slot) = self.observations.get_mut(self.observation_index) {
                *slot = o;
            }
            self.observation_index = (self.observation_index + 1) % OBSERVATION_CARDINALITY;
        }
    }

    /// Cumulative ln implied rate at `t` (`observeSingle`): extrapolated past the newest
    /// observation with the current rate, interpolated between stored ones.
    ///
    /// Specification:
    /// - fails with `InvalidParams` if `t` is older than the oldest stored observation or the
    ///   market has never been written.
    pub fn ln_implied_rate_cumulative_at(&self, t: u64) -> Result<U256, PendleError> {
        let mut obs: Vec<Observation> = self.observations.clone();
        obs.sort_by_key(|o| o.timestamp);
        let (Some(first), Some(last)) = (obs.first().copied(), obs.last().copied()) else {
            return Err(PendleError::InvalidParams {
                reason: "oracle uninitialized".into(),
            });
        };
        if t >= last.timestamp {
            let dt = U256::from(t - last.timestamp);
            return Ok(last
                .ln_implied_rate_cumulative
                .add_c(self.last_ln_implied_rate.mul_c(dt)?)?);
        }
        if t < first.timestamp {
            return Err(PendleError::InvalidParams {
                reason: format!("oracle target {t} older than {}", first.timestamp),
            });
        }
        for w in obs.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a.timestamp <= t && t < b.timestamp {
                let span = U256::from(b.timestamp - a.timestamp);
                let delta = b.ln_implied_rate_cumulative.sub_c(a.ln_implied_rate_cumulative)?;
                let part = delta.mul_c(U256::from(t - a.timestamp))?.div_c(span)?;
                return Ok(a.ln_implied_rate_cumulative.add_c(part)?);
            }
        }
        Ok(last.ln_implied_rate_cumulative)
    }

    /// Time-weighted average ln implied rate over `[now − duration, now]` (the PT oracle's input).
    ///
    /// Specification:
    /// - `duration == 0` returns the current `lastLnImpliedRate`;
    /// - fails as [`Market::ln_implied_rate_cumulative_at`] if the window is not covered.
    pub fn ln_implied_rate_twap(&self, now: u64, duration: u64) -> Result<U256, PendleError> {
        if duration == 0 {
            return Ok(self.last_ln_implied_rate);
        }
        let start = now.checked_sub(duration).ok_or_else(|| PendleError::InvalidParams {
            reason: format!("twap duration {duration} exceeds now {now}"),
        })?;
        let c1 = self.ln_implied_rate_cumulative_at(now)?;
        let c0 = self.ln_implied_rate_cumulative_at(start)?;
        Ok(c1.sub_c(c0)?.div_c(U256::from(duration))?)
    }
}

// ================================================================================================
// The state machine
// ================================================================================================

impl Pendle {
    /// A Pendle deployment with the given interest fee rate (reward fee rate equal to it).
    ///
    /// Specification:
    /// - fails with `FeeRateTooHigh` if `interest_fee_rate > 20 %`.
    pub fn new(ledger: &mut Ledger, interest_fee_rate: U256) -> Result<Self, PendleError> {
        if interest_fee_rate > MAX_INTEREST_FEE_RATE {
            return Err(PendleError::FeeRateTooHigh {
                rate: interest_fee_rate,
                max: MAX_INTEREST_FEE_RATE,
            });
        }
        Ok(Pendle {
            treasury: ledger.account("pendle:treasury"),
            locked_lp_holder: ledger.account("pendle:locked-lp"),
            interest_fee_rate,
            reward_fee_rate: interest_fee_rate,
            sys: Vec::new(),
            yield_contracts: Vec::new(),
            markets: Vec::new(),
        })
    }

    fn sy_ref(&self, id: SyId) -> Result<&Sy, PendleError> {
        self.sys.get(id).ok_or(PendleError::UnknownId { kind: "sy", id })
    }

    fn yc_ref(&self, id: YcId) -> Result<&YieldContract, PendleError> {
        self.yield_contracts.get(id).ok_or(PendleError::UnknownId {
            kind: "yield contract",
            id,
        })
    }

    fn market_ref(&self, id: MarketId) -> Result<&Market, PendleError> {
        self.markets
            .get(id)
            .ok_or(PendleError::UnknownId { kind: "market", id })
    }

    /// Registers an SY wrapper `symbol` over `underlying` with the given exchange rate.
    ///
    /// Specification:
    /// - fails with `ZeroExchangeRate` if `exchange_rate == 0`;
    /// - fails with a ledger error if `symbol` exists or `underlying` is unknown.
    pub fn create_sy(
        &mut self,
        ledger: &mut Ledger,
        symbol: &str,
        underlying: AssetId,
        exchange_rate: U256,
    ) -> Result<SyId, PendleError> {
        if exchange_rate == U256::ZERO {
            return Err(PendleError::ZeroExchangeRate);
        }
        let decimals = ledger.asset_info(underlying)?.decimals;
        let asset = ledger.register_asset(symbol, decimals, "pendle", AssetKind::Plain)?;
        let account = ledger.account(&format!("pendle:sy:{symbol}"));
        self.sys.push(Sy {
            asset,
            underlying,
            exchange_rate,
            account,
        });
        Ok(self.sys.len() - 1)
    }

    /// Sets the SY exchange rate reported by the wrapped token (it may fall after a slash; the
    /// PY index will not).
    ///
    /// Specification:
    /// - fails with `UnknownId` or `ZeroExchangeRate`.
    pub fn set_sy_exchange_rate(&mut self, sy: SyId, rate: U256) -> Result<Vec<PendleEvent>, PendleError> {
        self.sy_ref(sy)?;
        if rate == U256::ZERO {
            return Err(PendleError::ZeroExchangeRate);
        }
        if let Some(s) = self.sys.get_mut(sy) {
            s.exchange_rate = rate;
        }
        Ok(vec![PendleEvent::SyExchangeRateSet { sy, rate }])
    }

    /// Wraps `amount` underlying into as many SY (1:1).
    ///
    /// Specification:
    /// - fails with `ZeroAmount` if `amount == 0`;
    /// - fails with `InsufficientBalance` if `user` holds less underlying.
    pub fn sy_deposit(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        sy: SyId,
        amount: U256,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let s = *self.sy_ref(sy)?;
        if amount == U256::ZERO {
            return Err(PendleError::ZeroAmount);
        }
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.transfer(user, s.account, s.underlying, amount)?;
            l.mint(user, s.asset, amount)?;
            Ok(())
        })?;
        Ok(vec![PendleEvent::SyDeposited { sy, user, amount }])
    }

    /// Unwraps `amount` SY into as much underlying.
    ///
    /// Specification:
    /// - fails with `ZeroAmount` if `amount == 0`;
    /// - fails with `InsufficientBalance` if `user` holds less SY.
    pub fn sy_redeem(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        sy: SyId,
        amount: U256,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let s = *self.sy_ref(sy)?;
        if amount == U256::ZERO {
            return Err(PendleError::ZeroAmount);
        }
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.burn(user, s.asset, amount)?;
            l.transfer(s.account, user, s.underlying, amount)?;
            Ok(())
        })?;
        Ok(vec![PendleEvent::SyRedeemed { sy, user, amount }])
    }

    /// Creates the PT/YT pair of `sy` expiring at `expiry` (assets `PT-<SY>-<expiry>`, `YT-…`).
    ///
    /// Specification:
    /// - fails with `InvalidParams` if `expiry ≤ now`;
    /// - fails with a ledger error if the pair exists.
    pub fn create_yield_contract(
        &mut self,
        ledger: &mut Ledger,
        sy: SyId,
        expiry: u64,
        now: u64,
    ) -> Result<YcId, PendleError> {
        let s = *self.sy_ref(sy)?;
        if expiry <= now {
            return Err(PendleError::InvalidParams {
                reason: format!("expiry {expiry} not after now {now}"),
            });
        }
        let sym = ledger.symbol(s.asset).to_string();
        let dec = ledger.asset_info(s.asset)?.decimals;
        let (pt, yt) = ledger.atomic(|l| -> Result<(AssetId, AssetId), PendleError> {
            let pt = l.register_asset(&format!("PT-{sym}-{expiry}"), dec, "pendle", AssetKind::Plain)?;
            let yt = l.register_asset(&format!("YT-{sym}-{expiry}"), dec, "pendle", AssetKind::Plain)?;
            Ok((pt, yt))
        })?;
        let account = ledger.account(&format!("pendle:yc:YT-{sym}-{expiry}"));
        self.yield_contracts.push(YieldContract {
            sy,
            expiry,
            pt,
            yt,
            account,
            py_index_stored: U256::ZERO,
            sy_reserve: U256::ZERO,
            user_interest: imbl::OrdMap::new(),
            first_py_index: None,
            total_sy_interest_for_treasury: U256::ZERO,
            rewards: Vec::new(),
        });
        Ok(self.yield_contracts.len() - 1)
    }

    /// Adds a reward stream to YT holders: a ledger `token`, or points (`None`).
    ///
    /// Specification:
    /// - fails with `UnknownId` for an unknown yield contract.
    pub fn add_reward_stream(&mut self, yc: YcId, name: &str, token: Option<AssetId>) -> Result<usize, PendleError> {
        self.yc_ref(yc)?;
        let c = self.yield_contracts.get_mut(yc).ok_or(PendleError::UnknownId {
            kind: "yield contract",
            id: yc,
        })?;
        c.rewards.push(RewardStream {
            name: name.to_string(),
            token,
            index: U256::ONE,
            users: imbl::OrdMap::new(),
            points_claimed: imbl::OrdMap::new(),
            treasury_owed: U256::ZERO,
        });
        Ok(c.rewards.len() - 1)
    }

    /// The PY index a transaction at `now` would use: `max(SY rate, stored)` (view).
    ///
    /// Specification:
    /// - fails with `UnknownId`.
    pub fn py_index(&self, yc: YcId, now: u64) -> Result<U256, PendleError> {
        let c = self.yc_ref(yc)?;
        let rate = self.sy_ref(c.sy)?.exchange_rate;
        Ok(c.index_view(rate, now).py)
    }

    fn view(&self, yc: YcId, now: u64) -> Result<(YcInfo, Sy, IndexView), PendleError> {
        let c = self.yc_ref(yc)?;
        let s = *self.sy_ref(c.sy)?;
        let v = c.index_view(s.exchange_rate, now);
        let info = YcInfo {
            expiry: c.expiry,
            pt: c.pt,
            yt: c.yt,
            account: c.account,
            sy_reserve: c.sy_reserve,
            treasury_interest: c.total_sy_interest_for_treasury,
        };
        Ok((info, s, v))
    }

    fn stage(&self, ledger: &Ledger, yc: YcId, user: AccountId, view: &IndexView) -> Result<UserStage, PendleError> {
        self.yc_ref(yc)?.stage_user(ledger, user, view)
    }

    fn c_mut(&mut self, yc: YcId) -> Result<&mut YieldContract, PendleError> {
        self.yield_contracts.get_mut(yc).ok_or(PendleError::UnknownId {
            kind: "yield contract",
            id: yc,
        })
    }

    /// Tokenizes `sy_in` SY into `syToAsset(index, sy_in)` PT + YT (`mintPY`).
    ///
    /// Specification:
    /// - fails with `MarketExpired` (YCExpired) if `now ≥ expiry`;
    /// - fails with `ZeroAmount` if `sy_in == 0` or the PY out rounds to 0;
    /// - fails with `InsufficientBalance` if `user` holds less than `sy_in` SY.
    pub fn mint_py(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        yc: YcId,
        sy_in: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        self.mint_py_to(ledger, user, user, user, yc, sy_in, now)
            .map(|(_, ev)| ev)
    }

    /// `mintPY` with separate payer, PT receiver and YT receiver; returns the PY minted.
    #[allow(clippy::too_many_arguments)]
    fn mint_py_to(
        &mut self,
        ledger: &mut Ledger,
        payer: AccountId,
        receiver_pt: AccountId,
        receiver_yt: AccountId,
        yc: YcId,
        sy_in: U256,
        now: u64,
    ) -> Result<(U256, Vec<PendleEvent>), PendleError> {
        let (c, s, view) = self.view(yc, now)?;
        if view.expired {
            return Err(PendleError::MarketExpired);
        }
        if sy_in == U256::ZERO {
            return Err(PendleError::ZeroAmount);
        }
        let py_out = math::sy_to_asset(view.py, sy_in)?;
        if py_out == U256::ZERO {
            return Err(PendleError::ZeroAmount);
        }
        let stage = self.stage(ledger, yc, receiver_yt, &view)?;
        let new_reserve = c.sy_reserve.add_c(sy_in)?;
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.transfer(payer, c.account, s.asset, sy_in)?;
            l.mint(receiver_yt, c.yt, py_out)?;
            l.mint(receiver_pt, c.pt, py_out)?;
            Ok(())
        })?;
        let cm = self.c_mut(yc)?;
        cm.commit_index(&view);
        cm.commit_user(stage);
        cm.sy_reserve = new_reserve;
        Ok((
            py_out,
            vec![
                PendleEvent::NewInterestIndex { yc, index: view.py },
                PendleEvent::MintPy {
                    yc,
                    user: receiver_yt,
                    sy_in,
                    py_out,
                },
            ],
        ))
    }

    /// Redeems `amount` PT (+ as much YT before expiry) for `assetToSy(index, amount)` SY
    /// (`redeemPY`). After expiry only PT is burnt and the SY the first post-expiry index would
    /// have paid beyond the current one is owed to the treasury.
    ///
    /// Specification:
    /// - fails with `ZeroAmount` if `amount == 0`;
    /// - fails with `InsufficientBalance` if `user` lacks the PT (or, before expiry, the YT).
    pub fn redeem_py(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        yc: YcId,
        amount: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        self.redeem_py_split(ledger, user, user, yc, amount, U256::ZERO, AccountId(u32::MAX), now)
            .map(|(_, ev)| ev)
    }

    /// `redeemPYMulti` core: burns `amount` PT (+YT before expiry) from `holder`, pays `owed` SY
    /// to `owed_to` (if non-zero) and the rest to `receiver`. Returns the receiver's SY.
    #[allow(clippy::too_many_arguments)]
    fn redeem_py_split(
        &mut self,
        ledger: &mut Ledger,
        holder: AccountId,
        receiver: AccountId,
        yc: YcId,
        amount: U256,
        owed: U256,
        owed_to: AccountId,
        now: u64,
    ) -> Result<(U256, Vec<PendleEvent>), PendleError> {
        let (c, s, view) = self.view(yc, now)?;
        if amount == U256::ZERO {
            return Err(PendleError::ZeroAmount);
        }
        ledger.require(holder, c.pt, amount)?;
        let stage = if view.expired {
            None
        } else {
            ledger.require(holder, c.yt, amount)?;
            Some(self.stage(ledger, yc, holder, &view)?)
        };
        let sy_total_to_user = math::asset_to_sy(view.py, amount)?;
        let to_treasury_later = match (view.expired, view.first) {
            (true, Some(first)) => math::asset_to_sy(first, amount)?.sub_c(sy_total_to_user)?,
            _ => U256::ZERO,
        };
        if sy_total_to_user < owed {
            return Err(PendleError::InsufficientSyReceived {
                actual: sy_total_to_user,
                required: owed,
            });
        }
        let to_receiver = sy_total_to_user - owed;
        let new_reserve = c.sy_reserve.sub_c(sy_total_to_user)?;
        let new_treasury = c.treasury_interest.add_c(to_treasury_later)?;
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.burn(holder, c.pt, amount)?;
            if !view.expired {
                l.burn(holder, c.yt, amount)?;
            }
            if owed > U256::ZERO {
                l.transfer(c.account, owed_to, s.asset, owed)?;
            }
            l.transfer(c.account, receiver, s.asset, to_receiver)?;
            Ok(())
        })?;
        let cm = self.c_mut(yc)?;
        cm.commit_index(&view);
        if let Some(st) = stage {
            cm.commit_user(st);
        }
        cm.sy_reserve = new_reserve;
        cm.total_sy_interest_for_treasury = new_treasury;
        Ok((
            to_receiver,
            vec![PendleEvent::RedeemPy {
                yc,
                user: holder,
                py_in: amount,
                sy_out: sy_total_to_user,
                sy_to_treasury_later: to_treasury_later,
            }],
        ))
    }

    /// Moves `amount` YT, settling both holders' interest and rewards first (O(1)).
    ///
    /// Specification:
    /// - fails with `InsufficientBalance` if `from` holds less than `amount` YT.
    pub fn transfer_yt(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        to: AccountId,
        yc: YcId,
        amount: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (c, _, view) = self.view(yc, now)?;
        ledger.require(from, c.yt, amount)?;
        let st_from = self.stage(ledger, yc, from, &view)?;
        let st_to = self.stage(ledger, yc, to, &view)?;
        ledger.transfer(from, to, c.yt, amount)?;
        let cm = self.c_mut(yc)?;
        cm.commit_index(&view);
        cm.commit_user(st_from);
        if to != from {
            cm.commit_user(st_to);
        }
        Ok(vec![PendleEvent::YtTransferred { yc, from, to, amount }])
    }

    /// Pays `user` their accrued YT interest minus the interest fee (`redeemDueInterest`).
    ///
    /// Specification:
    /// - fails with `UnknownId`; a zero claim succeeds and pays 0.
    pub fn claim_interest(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        yc: YcId,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (c, s, view) = self.view(yc, now)?;
        let mut stage = self.stage(ledger, yc, user, &view)?;
        let pre_fee = stage.interest.accrued;
        let fee = mul_down(pre_fee, self.interest_fee_rate)?;
        let out = pre_fee - fee;
        stage.interest.accrued = U256::ZERO;
        let new_reserve = c.sy_reserve.sub_c(pre_fee)?;
        let treasury = self.treasury;
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.transfer(c.account, treasury, s.asset, fee)?;
            l.transfer(c.account, user, s.asset, out)?;
            Ok(())
        })?;
        let cm = self.c_mut(yc)?;
        cm.commit_index(&view);
        cm.commit_user(stage);
        cm.sy_reserve = new_reserve;
        Ok(vec![PendleEvent::InterestClaimed {
            yc,
            user,
            sy_out: out,
            sy_fee: fee,
        }])
    }

    /// Interest owed to `user` if they claimed now (before fee), without changing state.
    ///
    /// Specification:
    /// - fails with `UnknownId`.
    pub fn pending_interest(&self, ledger: &Ledger, user: AccountId, yc: YcId, now: u64) -> Result<U256, PendleError> {
        let c = self.yc_ref(yc)?;
        let view = c.index_view(self.sy_ref(c.sy)?.exchange_rate, now);
        Ok(c.stage_user(ledger, user, &view)?.interest.accrued)
    }

    /// Distributes `amount` of reward stream `stream` to YT holders pro rata to their SY-equivalent
    /// shares (`index += amount·1e18/syReserve`). Token rewards are transferred from `from` into
    /// the yield contract. After expiry (or with no SY reserve) everything goes to the treasury.
    ///
    /// Specification:
    /// - fails with `UnknownId`; fails with `InsufficientBalance` if `from` lacks the token.
    pub fn distribute_rewards(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        yc: YcId,
        stream: usize,
        amount: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (c, _, view) = self.view(yc, now)?;
        let st = self.yc_ref(yc)?.rewards.get(stream).ok_or(PendleError::UnknownId {
            kind: "reward stream",
            id: stream,
        })?;
        let (new_index, to_treasury) = if view.expired || c.sy_reserve == U256::ZERO {
            (st.index, amount)
        } else {
            (st.index.add_c(div_down(amount, c.sy_reserve)?)?, U256::ZERO)
        };
        let new_owed = st.treasury_owed.add_c(to_treasury)?;
        if let Some(token) = st.token {
            ledger.transfer(from, c.account, token, amount)?;
        }
        let cm = self.c_mut(yc)?;
        if let Some(s) = cm.rewards.get_mut(stream) {
            s.index = new_index;
            s.treasury_owed = new_owed;
        }
        Ok(vec![PendleEvent::RewardDistributed {
            yc,
            stream,
            amount,
            to_treasury,
        }])
    }

    /// Pays `user` their accrued rewards / points of every stream minus the reward fee (points
    /// carry no fee and are tallied in `points_claimed`).
    ///
    /// Specification:
    /// - fails with `UnknownId`.
    pub fn claim_rewards(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        yc: YcId,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (c, _, view) = self.view(yc, now)?;
        let full = self.yc_ref(yc)?;
        let mut stage = full.stage_user(ledger, user, &view)?;
        let mut events = Vec::new();
        let mut moves = Vec::new();
        let mut owed_updates = Vec::new();
        for (i, ur) in stage.rewards.iter_mut().enumerate() {
            let s = full.rewards.get(i).ok_or(PendleError::UnknownId {
                kind: "reward stream",
                id: i,
            })?;
            let amount = ur.accrued;
            ur.accrued = U256::ZERO;
            let fee = if s.token.is_some() {
                mul_down(amount, self.reward_fee_rate)?
            } else {
                U256::ZERO
            };
            if let Some(token) = s.token {
                moves.push((token, amount - fee, fee));
            }
            owed_updates.push((i, amount, s.token.is_none()));
            events.push(PendleEvent::RewardClaimed {
                yc,
                stream: i,
                user,
                amount: amount - fee,
                fee,
            });
        }
        let treasury = self.treasury;
        ledger.atomic(|l| -> Result<(), PendleError> {
            for (token, out, fee) in &moves {
                l.transfer(c.account, treasury, *token, *fee)?;
                l.transfer(c.account, user, *token, *out)?;
            }
            Ok(())
        })?;
        let cm = self.c_mut(yc)?;
        cm.commit_index(&view);
        // Settling interest as well is what the contract does before any reward payout.
        cm.commit_user(stage);
        for (i, amount, points) in owed_updates {
            if let Some(s) = cm.rewards.get_mut(i) {
                if points {
                    let e = s.points_claimed.entry(user).or_insert(U256::ZERO);
                    *e = e.saturating_add(amount);
                }
            }
        }
        Ok(events)
    }

    /// Sends post-expiry interest owed to the treasury (`redeemInterestAndRewardsPostExpiryForTreasury`).
    ///
    /// Specification:
    /// - fails with `YieldContractNotExpired` if `now < expiry`.
    pub fn collect_treasury_interest(
        &mut self,
        ledger: &mut Ledger,
        yc: YcId,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (c, s, view) = self.view(yc, now)?;
        if !view.expired {
            return Err(PendleError::YieldContractNotExpired { expiry: c.expiry, now });
        }
        let amount = c.treasury_interest;
        let new_reserve = c.sy_reserve.sub_c(amount)?;
        ledger.transfer(c.account, self.treasury, s.asset, amount)?;
        let cm = self.c_mut(yc)?;
        cm.commit_index(&view);
        cm.total_sy_interest_for_treasury = U256::ZERO;
        cm.sy_reserve = new_reserve;
        Ok(vec![PendleEvent::TreasuryInterestCollected { yc, sy: amount }])
    }

    // ------------------------------------------------------------------------------------------
    // Markets
    // ------------------------------------------------------------------------------------------

    /// Creates the PT/SY market of `yc` (`PendleMarketFactory.createNewMarket`).
    ///
    /// Specification:
    /// - fails with `InvalidParams` if `scalar_root ≤ 0` or `initial_anchor < 1e18`;
    /// - fails with `FeeRateTooHigh` if `ln_fee_rate_root > ln 1.05` or the reserve fee > 100 %;
    /// - fails with `MarketExpired` if the pair has expired.
    #[allow(clippy::too_many_arguments)]
    pub fn create_market(
        &mut self,
        ledger: &mut Ledger,
        yc: YcId,
        scalar_root: I256,
        initial_anchor: I256,
        ln_fee_rate_root: U256,
        reserve_fee_percent: u8,
        now: u64,
    ) -> Result<MarketId, PendleError> {
        let c = self.yc_ref(yc)?.clone();
        if now >= c.expiry {
            return Err(PendleError::MarketExpired);
        }
        if scalar_root <= 0 {
            return Err(PendleError::InvalidParams {
                reason: format!("scalar root {scalar_root} ≤ 0"),
            });
        }
        if initial_anchor < stake_math::signed::IONE {
            return Err(PendleError::InvalidParams {
                reason: format!("initial anchor {initial_anchor} < 1e18"),
            });
        }
        if ln_fee_rate_root > MAX_LN_FEE_RATE_ROOT {
            return Err(PendleError::FeeRateTooHigh {
                rate: ln_fee_rate_root,
                max: MAX_LN_FEE_RATE_ROOT,
            });
        }
        if reserve_fee_percent > MAX_RESERVE_FEE_PERCENT {
            return Err(PendleError::FeeRateTooHigh {
                rate: U256::from(reserve_fee_percent),
                max: U256::from(MAX_RESERVE_FEE_PERCENT),
            });
        }
        let pt_sym = ledger.symbol(c.pt).to_string();
        let lp_sym = format!("LP-{}", pt_sym.trim_start_matches("PT-"));
        let lp = ledger.register_asset(&lp_sym, 18, "pendle", AssetKind::Plain)?;
        let account = ledger.account(&format!("pendle:market:{lp_sym}"));
        self.markets.push(Market {
            yc,
            lp,
            account,
            total_pt: U256::ZERO,
            total_sy: U256::ZERO,
            total_lp: U256::ZERO,
            scalar_root,
            initial_anchor,
            ln_fee_rate_root,
            reserve_fee_percent,
            last_ln_implied_rate: U256::ZERO,
            observations: Vec::new(),
            observation_index: 0,
        });
        Ok(self.markets.len() - 1)
    }

    /// The pure-math arguments of `market` at `now` (for `calc` and previews).
    ///
    /// Specification:
    /// - fails with `UnknownId`.
    pub fn market_args(&self, market: MarketId, now: u64) -> Result<MarketStateArgs, PendleError> {
        let m = self.market_ref(market)?;
        let c = self.yc_ref(m.yc)?;
        Ok(m.args(self.py_index(m.yc, now)?, c.expiry, now))
    }

    fn market_ctx(&self, market: MarketId, now: u64) -> Result<(Market, YcInfo, Sy, IndexView), PendleError> {
        let m = self.market_ref(market)?.clone_shallow();
        let (c, s, v) = self.view(m.yc, now)?;
        Ok((m, c, s, v))
    }

    #[allow(clippy::too_many_arguments)]
    fn write_market(
        &mut self,
        market: MarketId,
        yc: YcId,
        view: &IndexView,
        pt: U256,
        sy: U256,
        lp: U256,
        ln_rate: U256,
        now: u64,
    ) -> Result<(), PendleError> {
        let m = self.markets.get_mut(market).ok_or(PendleError::UnknownId {
            kind: "market",
            id: market,
        })?;
        if let Some(o) = m.next_observation(now)? {
            m.push_observation(o);
        }
        m.total_pt = pt;
        m.total_sy = sy;
        m.total_lp = lp;
        m.last_ln_implied_rate = ln_rate;
        self.c_mut(yc)?.commit_index(view);
        Ok(())
    }

    /// Adds liquidity (`PendleMarketV3.mint`): the first provision locks `MINIMUM_LIQUIDITY` LP and
    /// sets the initial implied rate from `initial_anchor`.
    ///
    /// Specification:
    /// - fails with `MarketZeroAmountsInput`, `MarketExpired`, `MarketZeroAmountsOutput` as
    ///   [`math::add_liquidity`];
    /// - fails with `InsufficientBalance` if `user` lacks the SY or PT used.
    pub fn add_liquidity(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        sy_desired: U256,
        pt_desired: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (m, c, s, view) = self.market_ctx(market, now)?;
        let tte = c.expiry.saturating_sub(now);
        let out = math::add_liquidity(m.total_pt, m.total_sy, m.total_lp, sy_desired, pt_desired, tte)?;
        let new_pt = m.total_pt.add_c(out.pt_used)?;
        let new_sy = m.total_sy.add_c(out.sy_used)?;
        let new_lp = m.total_lp.add_c(out.lp_to_account)?.add_c(out.lp_to_reserve)?;
        let ln_rate = if out.lp_to_reserve != U256::ZERO {
            math::initial_ln_implied_rate(new_pt, new_sy, m.scalar_root, m.initial_anchor, view.py, tte)?
        } else {
            m.last_ln_implied_rate
        };
        let locked = self.locked_lp_holder;
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.transfer(user, m.account, s.asset, out.sy_used)?;
            l.transfer(user, m.account, c.pt, out.pt_used)?;
            if out.lp_to_reserve != U256::ZERO {
                l.mint(locked, m.lp, out.lp_to_reserve)?;
            }
            l.mint(user, m.lp, out.lp_to_account)?;
            Ok(())
        })?;
        self.write_market(market, m.yc, &view, new_pt, new_sy, new_lp, ln_rate, now)?;
        Ok(vec![PendleEvent::LiquidityAdded {
            market,
            user,
            sy_used: out.sy_used,
            pt_used: out.pt_used,
            lp_out: out.lp_to_account,
            lp_locked: out.lp_to_reserve,
        }])
    }

    /// Removes liquidity pro rata (`PendleMarketV3.burn`); allowed after expiry.
    ///
    /// Specification:
    /// - fails with `MarketZeroAmountsInput` / `MarketZeroAmountsOutput` as [`math::remove_liquidity`];
    /// - fails with `InsufficientBalance` if `user` holds less than `lp` LP.
    pub fn remove_liquidity(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        lp: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (m, c, s, view) = self.market_ctx(market, now)?;
        ledger.require(user, m.lp, lp)?;
        let (sy_out, pt_out) = math::remove_liquidity(m.total_pt, m.total_sy, m.total_lp, lp)?;
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.burn(user, m.lp, lp)?;
            l.transfer(m.account, user, s.asset, sy_out)?;
            l.transfer(m.account, user, c.pt, pt_out)?;
            Ok(())
        })?;
        let (pt, sy, tlp) = (m.total_pt - pt_out, m.total_sy - sy_out, m.total_lp - lp);
        self.write_market(market, m.yc, &view, pt, sy, tlp, m.last_ln_implied_rate, now)?;
        Ok(vec![PendleEvent::LiquidityRemoved {
            market,
            user,
            lp_in: lp,
            sy_out,
            pt_out,
        }])
    }

    /// Core trade: `net_pt_to_account` (> 0 buy PT, < 0 sell PT) against the market, with the
    /// ledger moves. Returns (netSyToAccount, fee, reserve, new ln rate).
    fn trade(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        net_pt_to_account: I256,
        now: u64,
    ) -> Result<(I256, U256, U256, U256), PendleError> {
        let (m, c, s, view) = self.market_ctx(market, now)?;
        let args = m.args(view.py, c.expiry, now);
        let mut core = Core::from_args(&args)?;
        let (sy_to_acc, fee, reserve) =
            math::execute_trade(&mut core, view.py, net_pt_to_account, args.time_to_expiry)?;
        let (fee, reserve) = (to_unsigned(fee)?, to_unsigned(reserve)?);
        let (new_pt, new_sy) = (to_unsigned(core.total_pt)?, to_unsigned(core.total_sy)?);
        let treasury = self.treasury;
        ledger.atomic(|l| -> Result<(), PendleError> {
            if net_pt_to_account < 0 {
                l.transfer(user, m.account, c.pt, to_unsigned(-net_pt_to_account)?)?;
            }
            if sy_to_acc < 0 {
                l.transfer(user, m.account, s.asset, to_unsigned(-sy_to_acc)?)?;
            }
            if net_pt_to_account > 0 {
                l.transfer(m.account, user, c.pt, to_unsigned(net_pt_to_account)?)?;
            }
            if sy_to_acc > 0 {
                l.transfer(m.account, user, s.asset, to_unsigned(sy_to_acc)?)?;
            }
            l.transfer(m.account, treasury, s.asset, reserve)?;
            Ok(())
        })?;
        self.write_market(
            market,
            m.yc,
            &view,
            new_pt,
            new_sy,
            m.total_lp,
            core.last_ln_implied_rate,
            now,
        )?;
        Ok((sy_to_acc, fee, reserve, core.last_ln_implied_rate))
    }

    fn swap_event(
        market: MarketId,
        user: AccountId,
        pt: I256,
        sy: I256,
        fee: U256,
        reserve: U256,
        ln: U256,
    ) -> PendleEvent {
        PendleEvent::Swap {
            market,
            user,
            net_pt_to_account: pt,
            net_sy_to_account: sy,
            net_sy_fee: fee,
            net_sy_to_reserve: reserve,
            ln_implied_rate: ln,
        }
    }

    /// Sells exactly `exact_pt_in` PT for SY (`swapExactPtForSy`).
    ///
    /// Specification:
    /// - fails with every market-math rejection of [`math::swap_exact_pt_for_sy`];
    /// - fails with `Slippage` if the SY out is below `min_sy_out`;
    /// - fails with `InsufficientBalance` if `user` lacks the PT.
    pub fn swap_exact_pt_for_sy(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        exact_pt_in: U256,
        min_sy_out: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let pt = -to_signed(exact_pt_in)?;
        let preview = self.preview_trade(market, pt, now)?;
        let out = to_unsigned(preview)?;
        if out < min_sy_out {
            return Err(PendleError::Slippage {
                min: min_sy_out,
                actual: out,
            });
        }
        let (sy, fee, reserve, ln) = self.trade(ledger, user, market, pt, now)?;
        Ok(vec![Self::swap_event(market, user, pt, sy, fee, reserve, ln)])
    }

    /// Buys exactly `exact_pt_out` PT with SY (`swapSyForExactPt`).
    ///
    /// Specification:
    /// - fails with every market-math rejection of [`math::swap_sy_for_exact_pt`];
    /// - fails with `Slippage` if the SY cost exceeds `max_sy_in` (reported as min = max_sy_in);
    /// - fails with `InsufficientBalance` if `user` lacks the SY.
    pub fn swap_sy_for_exact_pt(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        exact_pt_out: U256,
        max_sy_in: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let pt = to_signed(exact_pt_out)?;
        let cost = to_unsigned(-self.preview_trade(market, pt, now)?)?;
        if cost > max_sy_in {
            return Err(PendleError::Slippage {
                min: max_sy_in,
                actual: cost,
            });
        }
        let (sy, fee, reserve, ln) = self.trade(ledger, user, market, pt, now)?;
        Ok(vec![Self::swap_event(market, user, pt, sy, fee, reserve, ln)])
    }

    fn preview_trade(&self, market: MarketId, net_pt: I256, now: u64) -> Result<I256, PendleError> {
        let args = self.market_args(market, now)?;
        let mut core = Core::from_args(&args)?;
        Ok(math::execute_trade(&mut core, args.py_index, net_pt, args.time_to_expiry)?.0)
    }

    /// Router `swapExactSyForPt`: finds the PT out with [`approx`] and buys it; the SY left over
    /// from `exact_sy_in` stays with the user.
    ///
    /// Specification:
    /// - fails with `ApproxExhausted` / `InvalidApproxParams` from the search;
    /// - fails with `Slippage` if the PT out is below `min_pt_out`;
    /// - otherwise as [`Pendle::swap_sy_for_exact_pt`].
    #[allow(clippy::too_many_arguments)]
    pub fn swap_exact_sy_for_pt(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        exact_sy_in: U256,
        min_pt_out: U256,
        params: ApproxParams,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let args = self.market_args(market, now)?;
        let core = Core::from_args(&args)?;
        let (pt_out, _) =
            approx::approx_swap_exact_sy_for_pt(&core, args.py_index, exact_sy_in, args.time_to_expiry, params)?;
        if pt_out < min_pt_out {
            return Err(PendleError::Slippage {
                min: min_pt_out,
                actual: pt_out,
            });
        }
        self.swap_sy_for_exact_pt(ledger, user, market, pt_out, exact_sy_in, now)
    }

    /// Router `swapExactSyForYt`: flash-sells `guess` PT (found by [`approx`]) to the market, mints
    /// PY from `exact_sy_in` + the SY out, pays the market its PT and gives the user the YT (and any
    /// PT beyond `guess`).
    ///
    /// Specification:
    /// - fails with `ApproxExhausted` / `InvalidApproxParams` / market rejections;
    /// - fails with `InsufficientPtReceived` if the minted PY is below the PT owed;
    /// - fails with `Slippage` if the YT out is below `min_yt_out`;
    /// - fails with `InsufficientBalance` if `user` lacks `exact_sy_in` SY.
    #[allow(clippy::too_many_arguments)]
    pub fn swap_exact_sy_for_yt(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        exact_sy_in: U256,
        min_yt_out: U256,
        params: ApproxParams,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (m, c, s, view) = self.market_ctx(market, now)?;
        if view.expired {
            return Err(PendleError::MarketExpired);
        }
        let args = m.args(view.py, c.expiry, now);
        let mut core = Core::from_args(&args)?;
        let (pt_in, _) = approx::approx_swap_exact_sy_for_yt(&core, view.py, exact_sy_in, args.time_to_expiry, params)?;
        let net_pt = -to_signed(pt_in)?;
        let (sy_out_i, fee_i, reserve_i) = math::execute_trade(&mut core, view.py, net_pt, args.time_to_expiry)?;
        let (sy_out, fee, reserve) = (to_unsigned(sy_out_i)?, to_unsigned(fee_i)?, to_unsigned(reserve_i)?);
        let sy_to_tokenize = exact_sy_in.add_c(sy_out)?;
        let py_out = math::sy_to_asset(view.py, sy_to_tokenize)?;
        if py_out < pt_in {
            return Err(PendleError::InsufficientPtReceived {
                actual: py_out,
                required: pt_in,
            });
        }
        if py_out < min_yt_out {
            return Err(PendleError::Slippage {
                min: min_yt_out,
                actual: py_out,
            });
        }
        let stage = self.stage(ledger, m.yc, user, &view)?;
        let new_reserve = c.sy_reserve.add_c(sy_to_tokenize)?;
        let treasury = self.treasury;
        ledger.atomic(|l| -> Result<(), PendleError> {
            l.transfer(user, c.account, s.asset, exact_sy_in)?;
            l.transfer(m.account, c.account, s.asset, sy_out)?;
            l.transfer(m.account, treasury, s.asset, reserve)?;
            l.mint(user, c.yt, py_out)?;
            l.mint(m.account, c.pt, pt_in)?;
            l.mint(user, c.pt, py_out - pt_in)?;
            Ok(())
        })?;
        let cm = self.c_mut(m.yc)?;
        cm.commit_user(stage);
        cm.sy_reserve = new_reserve;
        let (new_pt, new_sy) = (to_unsigned(core.total_pt)?, to_unsigned(core.total_sy)?);
        self.write_market(
            market,
            m.yc,
            &view,
            new_pt,
            new_sy,
            m.total_lp,
            core.last_ln_implied_rate,
            now,
        )?;
        Ok(vec![
            PendleEvent::NewInterestIndex {
                yc: m.yc,
                index: view.py,
            },
            PendleEvent::MintPy {
                yc: m.yc,
                user,
                sy_in: sy_to_tokenize,
                py_out,
            },
            Self::swap_event(market, user, net_pt, sy_out_i, fee, reserve, core.last_ln_implied_rate),
            PendleEvent::SwapSyForYt {
                market,
                user,
                sy_in: exact_sy_in,
                yt_out: py_out,
            },
        ])
    }

    /// Router `swapExactYtForSy`: flash-buys `exact_yt_in` PT from the market, redeems PT + YT
    /// for SY, pays the market what it is owed and gives the user the rest.
    ///
    /// Specification:
    /// - fails with market rejections of buying `exact_yt_in` PT;
    /// - fails with `InsufficientSyReceived` if the redeemed SY does not cover the market;
    /// - fails with `Slippage` if the SY out is below `min_sy_out`;
    /// - fails with `InsufficientBalance` if `user` lacks the YT.
    pub fn swap_exact_yt_for_sy(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        market: MarketId,
        exact_yt_in: U256,
        min_sy_out: U256,
        now: u64,
    ) -> Result<Vec<PendleEvent>, PendleError> {
        let (m, c, s, view) = self.market_ctx(market, now)?;
        if view.expired {
            return Err(PendleError::MarketExpired);
        }
        ledger.require(user, c.yt, exact_yt_in)?;
        let args = m.args(view.py, c.expiry, now);
        let mut core = Core::from_args(&args)?;
        let net_pt = to_signed(exact_yt_in)?;
        let (sy_to_acc, fee_i, reserve_i) = math::execute_trade(&mut core, view.py, net_pt, args.time_to_expiry)?;
        let (owed, fee, reserve) = (to_unsigned(-sy_to_acc)?, to_unsigned(fee_i)?, to_unsigned(reserve_i)?);
        let redeemed = math::asset_to_sy(view.py, exact_yt_in)?;
        if redeemed < owed {
            return Err(PendleError::InsufficientSyReceived {
                actual: redeemed,
                required: owed,
            });
        }
        let sy_out = redeemed - owed;
        if sy_out < min_sy_out {
            return Err(PendleError::Slippage {
                min: min_sy_out,
                actual: sy_out,
            });
        }
        let stage = self.stage(ledger, m.yc, user, &view)?;
        let new_reserve = c.sy_reserve.sub_c(redeemed)?;
        let treasury = self.treasury;
        ledger.atomic(|l| -> Result<(), PendleError> {
            // The market's PT goes to the yield contract and is burnt with the user's YT.
            l.burn(m.account, c.pt, exact_yt_in)?;
            l.burn(user, c.yt, exact_yt_in)?;
            l.transfer(c.account, m.account, s.asset, owed)?;
            l.transfer(c.account, user, s.asset, sy_out)?;
            l.transfer(m.account, treasury, s.asset, reserve)?;
            Ok(())
        })?;
        let cm = self.c_mut(m.yc)?;
        cm.commit_user(stage);
        cm.sy_reserve = new_reserve;
        let (new_pt, new_sy) = (to_unsigned(core.total_pt)?, to_unsigned(core.total_sy)?);
        self.write_market(
            market,
            m.yc,
            &view,
            new_pt,
            new_sy,
            m.total_lp,
            core.last_ln_implied_rate,
            now,
        )?;
        Ok(vec![
            PendleEvent::RedeemPy {
                yc: m.yc,
                user,
                py_in: exact_yt_in,
                sy_out: redeemed,
                sy_to_treasury_later: U256::ZERO,
            },
            Self::swap_event(market, user, net_pt, sy_to_acc, fee, reserve, core.last_ln_implied_rate),
            PendleEvent::SwapYtForSy {
                market,
                user,
                yt_in: exact_yt_in,
                sy_out,
            },
        ])
    }

    /// PT price in asset from the oracle: `1/exp(twapLnRate·tte/YEAR)` (1e18 at/after expiry).
    ///
    /// Specification:
    /// - fails as [`Market::ln_implied_rate_twap`].
    pub fn pt_to_asset_rate(&self, market: MarketId, duration: u64, now: u64) -> Result<U256, PendleError> {
        let m = self.market_ref(market)?;
        let c = self.yc_ref(m.yc)?;
        if now >= c.expiry {
            return Ok(ONE);
        }
        let ln_rate = m.ln_implied_rate_twap(now, duration)?;
        math::pt_to_asset_rate(ln_rate, c.expiry - now)
    }

    // ------------------------------------------------------------------------------------------
    // Invariants
    // ------------------------------------------------------------------------------------------

    /// Backing rules (SPEC §7.4): each SY supply ≤ underlying held by its module account; each
    /// yield contract holds exactly its `sy_reserve`, which covers every PT/YT claim at the current
    /// index plus accrued interest and treasury interest; PT supply == YT supply before expiry;
    /// each market's reserves and LP supply equal the ledger balances.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, true)
    }

    /// [`Self::check_invariants`] without the sum of every YT holder's accrued interest: SY,
    /// yield-contract and market reserves against the ledger. Costs the number of markets.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, false)
    }

    fn check_rules(&self, ledger: &Ledger, full: bool) -> Result<(), String> {
        for (i, s) in self.sys.iter().enumerate() {
            let held = ledger.balance(s.account, s.underlying);
            let supply = ledger.supply(s.asset);
            if supply > held {
                return Err(format!("sy #{i}: supply {supply} > underlying held {held}"));
            }
        }
        let e = |x: PendleError| x.to_string();
        for (i, c) in self.yield_contracts.iter().enumerate() {
            let s = self.sy_ref(c.sy).map_err(e)?;
            let held = ledger.balance(c.account, s.asset);
            if held != c.sy_reserve {
                return Err(format!("yc #{i}: holds {held} SY, reserve {}", c.sy_reserve));
            }
            let pt = ledger.supply(c.pt);
            let yt = ledger.supply(c.yt);
            let expired = c.first_py_index.is_some();
            if !expired && pt != yt {
                return Err(format!("yc #{i}: PT supply {pt} != YT supply {yt} before expiry"));
            }
            if full && c.py_index_stored != U256::ZERO {
                let principal = math::asset_to_sy(c.py_index_stored, pt).map_err(e)?;
                let accrued = c
                    .user_interest
                    .values()
                    .try_fold(U256::ZERO, |a, u| a.add_c(u.accrued))
                    .map_err(|x| x.to_string())?;
                let owed = principal
                    .add_c(accrued)
                    .and_then(|v| v.add_c(c.total_sy_interest_for_treasury))
                    .map_err(|x| x.to_string())?;
                if owed > held {
                    return Err(format!(
                        "yc #{i}: owes {owed} SY (principal {principal}, interest {accrued}) but holds {held}"
                    ));
                }
            }
        }
        for (i, m) in self.markets.iter().enumerate() {
            let c = self.yc_ref(m.yc).map_err(e)?;
            let s = self.sy_ref(c.sy).map_err(e)?;
            let (sy, pt, lp) = (
                ledger.balance(m.account, s.asset),
                ledger.balance(m.account, c.pt),
                ledger.supply(m.lp),
            );
            if sy != m.total_sy || pt != m.total_pt || lp != m.total_lp {
                return Err(format!(
                    "market #{i}: state (pt {}, sy {}, lp {}) != ledger (pt {pt}, sy {sy}, lp {lp})",
                    m.total_pt, m.total_sy, m.total_lp
                ));
            }
        }
        Ok(())
    }
}

impl Market {
    /// A copy without the observation history (enough for the math of one operation).
    fn clone_shallow(&self) -> Market {
        Market {
            yc: self.yc,
            lp: self.lp,
            account: self.account,
            total_pt: self.total_pt,
            total_sy: self.total_sy,
            total_lp: self.total_lp,
            scalar_root: self.scalar_root,
            initial_anchor: self.initial_anchor,
            ln_fee_rate_root: self.ln_fee_rate_root,
            reserve_fee_percent: self.reserve_fee_percent,
            last_ln_implied_rate: self.last_ln_implied_rate,
            observations: Vec::new(),
            observation_index: 0,
        }
    }
}
