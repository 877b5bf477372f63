//! `swell` model — rswETH (SPEC §6, reference `SwellNetwork/v3-core-public`
//! `contracts/lrt/contracts/implementations/RswETH.sol`: `_deposit`, `reprice`, `burn`).
//!
//! The rate is set by the repricing oracle: `reprice(preRewardETHReserves, newETHRewards,
//! rswETHTotalSupply)` mints the reward fee (treasury + node-operator percentages, 1e18 scale) as
//! `⌊supply·fee/(reserves − fee)⌋` rswETH with `fee = ⌊rewards·pct/1e18⌋`, sets
//! `rate = ⌊reserves·1e18/(supply + feeShares)⌋`, and rejects a rate move above
//! `maximumRepriceDifferencePercentage` of the previous rate (after the first reprice), a supply
//! snapshot further than `maximumRepriceRswETHDifferencePercentage` from the live supply, and a
//! reprice sooner than `minimumRepriceTime`. UD60x18 `mul`/`div` are `⌊a·b/1e18⌋` / `⌊a·1e18/b⌋`.
//!
//! This version of rswETH has no withdrawal queue (`burn` only), so [`Lrt::request_withdrawal`]
//! is rejected with `WithdrawalsUnsupported`. The `RepricingOracle` snapshot checks (block and
//! slot monotonicity, external proof-of-reserves differential) are not modelled.

use crate::{ensure, Lrt};
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{mul_div_down, Checked, MathError, U256, WAD};
use std::fmt;

/// Rejections of the Swell model (codes 5400–5499).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwellError {
    /// `InvalidETHDeposit`: zero.
    InvalidEthDeposit,
    /// `CannotRepriceWithZeroRswETHSupply`.
    CannotRepriceWithZeroSupply,
    /// `InvalidPreRewardETHReserves`.
    InvalidPreRewardEthReserves,
    /// `NotEnoughTimeElapsedForReprice`.
    NotEnoughTimeElapsedForReprice {
        /// Seconds still to wait.
        remaining: u64,
    },
    /// `RepriceDifferenceTooLarge`.
    RepriceDifferenceTooLarge {
        /// Rate difference.
        diff: U256,
        /// Maximum.
        max: U256,
    },
    /// `RepriceRswETHDifferenceTooLarge`.
    RepriceRswEthDifferenceTooLarge {
        /// Supply difference.
        diff: U256,
        /// Maximum.
        max: U256,
    },
    /// `RewardPercentageTotalOverflow`: treasury + node operators above 100 %.
    RewardPercentageTotalOverflow,
    /// `CannotBurnZeroRswETH`.
    CannotBurnZero,
    /// Burning more than the supply.
    BurnExceedsSupply {
        /// Amount.
        amount: U256,
        /// Supply.
        supply: U256,
    },
    /// rswETH (this version) has no withdrawal queue.
    WithdrawalsUnsupported,
    /// Arithmetic failure.
    Math(MathError),
}

impl From<MathError> for SwellError {
    fn from(e: MathError) -> Self {
        SwellError::Math(e)
    }
}

impl fmt::Display for SwellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SwellError::*;
        match self {
            InvalidEthDeposit => write!(f, "InvalidETHDeposit: zero"),
            CannotRepriceWithZeroSupply => write!(f, "CannotRepriceWithZeroRswETHSupply"),
            InvalidPreRewardEthReserves => write!(f, "InvalidPreRewardETHReserves: zero"),
            NotEnoughTimeElapsedForReprice { remaining } => {
                write!(f, "NotEnoughTimeElapsedForReprice: {remaining} s to wait")
            }
            RepriceDifferenceTooLarge { diff, max } => write!(f, "RepriceDifferenceTooLarge: {diff} > {max}"),
            RepriceRswEthDifferenceTooLarge { diff, max } => {
                write!(f, "RepriceRswETHDifferenceTooLarge: {diff} > {max}")
            }
            RewardPercentageTotalOverflow => write!(f, "RewardPercentageTotalOverflow"),
            CannotBurnZero => write!(f, "CannotBurnZeroRswETH"),
            BurnExceedsSupply { amount, supply } => write!(f, "burn {amount} of supply {supply}"),
            WithdrawalsUnsupported => write!(f, "rswETH has no withdrawal queue in this version"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SwellError {}

impl Reject for SwellError {
    fn code(&self) -> u32 {
        use SwellError::*;
        match self {
            InvalidEthDeposit => 5400,
            CannotRepriceWithZeroSupply => 5401,
            InvalidPreRewardEthReserves => 5402,
            NotEnoughTimeElapsedForReprice { .. } => 5403,
            RepriceDifferenceTooLarge { .. } => 5404,
            RepriceRswEthDifferenceTooLarge { .. } => 5405,
            RewardPercentageTotalOverflow => 5406,
            CannotBurnZero => 5407,
            BurnExceedsSupply { .. } => 5408,
            WithdrawalsUnsupported => 5409,
            Math(e) => e.code(),
        }
    }
}

/// Result of a Swell operation.
pub type SwellResult<T> = Result<T, SwellError>;

fn ud_mul(a: U256, b: U256) -> SwellResult<U256> {
    Ok(mul_div_down(a, b, WAD)?)
}

fn ud_div(a: U256, b: U256) -> SwellResult<U256> {
    Ok(mul_div_down(a, WAD, b)?)
}

/// Parameters (percentages on the 1e18 scale, as the contract stores them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwellParams {
    /// `swellTreasuryRewardPercentage`.
    pub treasury_reward_pct: U256,
    /// `nodeOperatorRewardPercentage`.
    pub node_operator_reward_pct: U256,
    /// `minimumRepriceTime`, seconds.
    pub minimum_reprice_time: u64,
    /// `maximumRepriceDifferencePercentage`.
    pub maximum_reprice_difference_pct: U256,
    /// `maximumRepriceRswETHDifferencePercentage`.
    pub maximum_reprice_supply_difference_pct: U256,
}

/// A node operator with active validators (reward recipient).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwellOperator {
    /// Name.
    pub name: String,
    /// Active validators.
    pub active_validators: u64,
    /// rswETH received as rewards (cumulative).
    pub rewards: U256,
}

/// What a reprice did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reprice {
    /// New `rswETHToETHRateFixed`.
    pub rate: U256,
    /// rswETH minted to node operators.
    pub node_operator_rswe: U256,
    /// rswETH minted to the treasury.
    pub treasury_rswe: U256,
}

/// The rswETH state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swell {
    /// Parameters.
    pub params: SwellParams,
    /// rswETH total supply.
    pub supply: U256,
    /// `rswETHToETHRateFixed` (0 before the first reprice = 1:1).
    pub rate_fixed: U256,
    /// `lastRepriceUNIX` (0 = never).
    pub last_reprice_unix: u64,
    /// `lastRepriceETHReserves`.
    pub last_reprice_reserves: U256,
    /// `totalETHDeposited`.
    pub total_eth_deposited: U256,
    /// ETH deposited since the last reprice (reserves the oracle has not reported yet).
    pub unreported_deposits: U256,
    /// Node operators, in operator-id order.
    pub operators: Vec<SwellOperator>,
    /// rswETH minted to the treasury (cumulative).
    pub treasury_rswe: U256,
}

impl Swell {
    /// A fresh deployment.
    ///
    /// Specification: fails with `RewardPercentageTotalOverflow` above 100 %.
    pub fn new(params: SwellParams) -> SwellResult<Self> {
        if params.treasury_reward_pct.add_c(params.node_operator_reward_pct)? > WAD {
            return Err(SwellError::RewardPercentageTotalOverflow);
        }
        Ok(Swell {
            params,
            supply: U256::ZERO,
            rate_fixed: U256::ZERO,
            last_reprice_unix: 0,
            last_reprice_reserves: U256::ZERO,
            total_eth_deposited: U256::ZERO,
            unreported_deposits: U256::ZERO,
            operators: Vec::new(),
            treasury_rswe: U256::ZERO,
        })
    }

    /// `_rswETHToETHRate`: the fixed rate, or 1e18 before the first reprice.
    pub fn rsweth_to_eth_rate(&self) -> U256 {
        if self.rate_fixed == U256::ZERO {
            WAD
        } else {
            self.rate_fixed
        }
    }

    /// `_deposit`: mints `⌊amount·1e18/rate⌋` rswETH.
    ///
    /// Specification: fails with `InvalidEthDeposit` for zero.
    pub fn deposit_eth(&mut self, amount: U256) -> SwellResult<U256> {
        if amount == U256::ZERO {
            return Err(SwellError::InvalidEthDeposit);
        }
        let minted = ud_div(ud_mul(amount, WAD)?, self.rsweth_to_eth_rate())?;
        let supply = self.supply.add_c(minted)?;
        let deposited = self.total_eth_deposited.add_c(amount)?;
        let unreported = self.unreported_deposits.add_c(amount)?;
        self.supply = supply;
        self.total_eth_deposited = deposited;
        self.unreported_deposits = unreported;
        Ok(minted)
    }

    /// `burn(amount)`.
    ///
    /// Specification: fails with `CannotBurnZero` for zero, `BurnExceedsSupply` above the supply.
    pub fn burn(&mut self, amount: U256) -> SwellResult<()> {
        if amount == U256::ZERO {
            return Err(SwellError::CannotBurnZero);
        }
        self.supply = self.supply.checked_sub(amount).ok_or(SwellError::BurnExceedsSupply {
            amount,
            supply: self.supply,
        })?;
        Ok(())
    }

    /// `reprice(preRewardETHReserves, newETHRewards, rswETHTotalSupply)` at time `now`.
    ///
    /// Specification:
    /// - fails with `CannotRepriceWithZeroSupply` if the snapshot or live supply is zero;
    /// - fails with `InvalidPreRewardEthReserves` if the reserves are zero;
    /// - fails with `NotEnoughTimeElapsedForReprice` if `now − last < minimumRepriceTime`;
    /// - fails with `RepriceDifferenceTooLarge` if (after the first reprice)
    ///   `|new − old| > ⌊old·maxDiff/1e18⌋`;
    /// - fails with `RepriceRswEthDifferenceTooLarge` if `|live − snapshot| > ⌊live·maxSupplyDiff/1e18⌋`.
    pub fn reprice(
        &mut self,
        pre_reward_reserves: U256,
        new_rewards: U256,
        supply_snapshot: U256,
        now: u64,
    ) -> SwellResult<Reprice> {
        let curr = self.supply;
        if supply_snapshot == U256::ZERO || curr == U256::ZERO {
            return Err(SwellError::CannotRepriceWithZeroSupply);
        }
        if pre_reward_reserves == U256::ZERO {
            return Err(SwellError::InvalidPreRewardEthReserves);
        }
        let since = now.checked_sub(self.last_reprice_unix).ok_or(MathError::Underflow)?;
        if since < self.params.minimum_reprice_time {
            return Err(SwellError::NotEnoughTimeElapsedForReprice {
                remaining: self.params.minimum_reprice_time - since,
            });
        }
        let total_reserves = pre_reward_reserves.add_c(new_rewards)?;
        let pct_total = self
            .params
            .treasury_reward_pct
            .add_c(self.params.node_operator_reward_pct)?;
        let rewards_eth = ud_mul(new_rewards, pct_total)?;
        let rewards_rswe = ud_div(
            ud_mul(supply_snapshot, rewards_eth)?,
            total_reserves.sub_c(rewards_eth)?,
        )?;
        let rate = ud_div(total_reserves, supply_snapshot.add_c(rewards_rswe)?)?;
        if self.last_reprice_unix != 0 {
            let old = self.rate_fixed;
            let diff = if rate > old { rate - old } else { old - rate };
            let max = ud_mul(old, self.params.maximum_reprice_difference_pct)?;
            if diff > max {
                return Err(SwellError::RepriceDifferenceTooLarge { diff, max });
            }
        }
        let sdiff = if curr > supply_snapshot {
            curr - supply_snapshot
        } else {
            supply_snapshot - curr
        };
        let smax = curr
            .mul_c(self.params.maximum_reprice_supply_difference_pct)?
            .div_c(WAD)?;
        if sdiff > smax {
            return Err(SwellError::RepriceRswEthDifferenceTooLarge { diff: sdiff, max: smax });
        }
        let mut distributed = U256::ZERO;
        let mut treasury = U256::ZERO;
        let mut shares = vec![U256::ZERO; self.operators.len()];
        let (mut supply, mut treasury_total) = (self.supply, self.treasury_rswe);
        if rewards_rswe != U256::ZERO {
            let node_rewards = if pct_total == U256::ZERO {
                U256::ZERO
            } else {
                ud_mul(ud_div(self.params.node_operator_reward_pct, pct_total)?, rewards_rswe)?
            };
            // No active validators: the node operators' part goes to the treasury too.
            let total_active: u64 = self.operators.iter().map(|o| o.active_validators).sum();
            if total_active != 0 && node_rewards != U256::ZERO {
                let per_validator = ud_div(node_rewards, U256::from(total_active))?;
                for (o, share) in self.operators.iter().zip(shares.iter_mut()) {
                    if o.active_validators != 0 {
                        *share = ud_mul(per_validator, U256::from(o.active_validators))?;
                        distributed = distributed.add_c(*share)?;
                    }
                }
            }
            treasury = rewards_rswe.sub_c(distributed)?;
            supply = supply.add_c(rewards_rswe)?;
            treasury_total = treasury_total.add_c(treasury)?;
        }
        let mut op_rewards = Vec::with_capacity(shares.len());
        for (o, share) in self.operators.iter().zip(&shares) {
            op_rewards.push(o.rewards.add_c(*share)?);
        }
        for (o, r) in self.operators.iter_mut().zip(op_rewards) {
            o.rewards = r;
        }
        self.supply = supply;
        self.treasury_rswe = treasury_total;
        self.last_reprice_reserves = total_reserves;
        self.last_reprice_unix = now;
        self.rate_fixed = rate;
        self.unreported_deposits = U256::ZERO;
        Ok(Reprice {
            rate,
            node_operator_rswe: distributed,
            treasury_rswe: treasury,
        })
    }

    /// Reserves as the model knows them: the last reported reserves plus deposits since.
    pub fn reserves(&self) -> SwellResult<U256> {
        Ok(self.last_reprice_reserves.add_c(self.unreported_deposits)?)
    }

    /// Backing rules.
    pub fn check_invariants(&self) -> Result<(), String> {
        let pct = self
            .params
            .treasury_reward_pct
            .saturating_add(self.params.node_operator_reward_pct);
        ensure(pct <= WAD, || "swell: reward percentages above 100 %".into())?;
        let op: U256 = self
            .operators
            .iter()
            .fold(U256::ZERO, |a, o| a.saturating_add(o.rewards));
        ensure(op.saturating_add(self.treasury_rswe) <= self.supply, || {
            "swell: fee rswETH above supply".into()
        })?;
        ensure(self.last_reprice_unix != 0 || self.rate_fixed == U256::ZERO, || {
            "swell: a rate without a reprice".into()
        })
    }
}

impl Lrt for Swell {
    type Error = SwellError;

    fn deposit(&mut self, amount: U256, _now: u64) -> SwellResult<U256> {
        self.deposit_eth(amount)
    }
    fn request_withdrawal(&mut self, _owner: &str, _lrt_amount: U256, _now: u64) -> SwellResult<u64> {
        Err(SwellError::WithdrawalsUnsupported)
    }
    fn claim(&mut self, _owner: &str, _id: u64, _now: u64) -> SwellResult<U256> {
        Err(SwellError::WithdrawalsUnsupported)
    }
    fn rate(&self, _now: u64) -> SwellResult<U256> {
        Ok(self.rsweth_to_eth_rate())
    }
    fn tvl(&self, _now: u64) -> SwellResult<U256> {
        self.reserves()
    }
    fn supply(&self) -> U256 {
        self.supply
    }
    fn check_invariants(&self) -> Result<(), String> {
        Swell::check_invariants(self)
    }
}
