//! `kelp` model — rsETH (SPEC §6, reference `Kelp-DAO/LRT-rsETH` v5.1.0: `LRTOracle.sol`
//! `updateRSETHPrice` / `_isNewPriceOffLimit`, `LRTDepositPool.sol` `depositETH` /
//! `depositAsset` / `getRsETHAmountToMint`, `LRTWithdrawalManager.sol` `initiateWithdrawal` /
//! `unlockQueue` / `completeWithdrawal`).
//!
//! * [`rseth_price`] is `updateRSETHPrice`: `temp = ⌊tvl_e36/supply⌋`; on an increase the fee is
//!   `⌊⌊(temp − old)·supply/1e18⌋·feeBps/1e4⌋` ETH, the new price `⌊(tvl_e36 − fee·1e18)/supply⌋`
//!   and `⌊fee·1e18/price⌋` rsETH is minted to the treasury; a move of more than
//!   `pricePercentageLimit` whole percent of the old price (either way) reverts.
//! * [`Kelp`] holds the supported assets (total deposits as `getTotalAssetDeposits` sums them,
//!   oracle price, deposit limit, the unstaking-vault balance) and the per-asset withdrawal
//!   queues. Time is the block number.
//!
//! Assets are named by symbol; `ETH` is the native asset (price 1e18). The per-asset
//! distribution (deposit pool, node delegators, EigenLayer, converter) is one total here: the
//! restaking layer reports it through [`Kelp::report_asset_total`].

use crate::{ensure, rate_of, sol_mul_div, Lrt};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{Checked, MathError, U256, WAD};
use std::collections::VecDeque;
use std::fmt;

/// Symbol of the native asset.
pub const ETH: &str = "ETH";
/// Default `withdrawalDelayBlocks`: 8 days of 12 s blocks.
pub const DEFAULT_WITHDRAWAL_DELAY_BLOCKS: u64 = 8 * 86_400 / 12;
/// `setWithdrawalDelayBlocks` upper bound: 10 days of 12 s blocks.
pub const MAX_WITHDRAWAL_DELAY_BLOCKS: u64 = 10 * 86_400 / 12;

/// Rejections of the Kelp model (codes 5200–5299). Names follow the contracts' errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KelpError {
    /// `RSETHPriceExceedsLimit`.
    RsEthPriceExceedsLimit {
        /// Old price.
        old_price: U256,
        /// New price.
        new_price: U256,
        /// Limit, whole percent.
        limit_percent: U256,
    },
    /// `AssetNotSupported`.
    AssetNotSupported {
        /// Symbol.
        asset: String,
    },
    /// The asset is already supported.
    AssetAlreadySupported {
        /// Symbol.
        asset: String,
    },
    /// `InvalidAmountToDeposit`.
    InvalidAmountToDeposit {
        /// Amount.
        amount: U256,
    },
    /// `MaximumDepositLimitReached`.
    MaximumDepositLimitReached {
        /// Deposits after.
        total: U256,
        /// Limit.
        limit: U256,
    },
    /// `MinimumAmountToReceiveNotMet`.
    MinimumAmountToReceiveNotMet {
        /// rsETH minted.
        minted: U256,
        /// Minimum expected.
        min_expected: U256,
    },
    /// `InvalidAmountToWithdraw`.
    InvalidAmountToWithdraw {
        /// rsETH.
        amount: U256,
    },
    /// `ExceedAmountToWithdraw`.
    ExceedAmountToWithdraw {
        /// Expected asset amount.
        expected: U256,
        /// Available (`total − committed`).
        available: U256,
    },
    /// `AmountMustBeGreaterThanZero`: the unstaking vault is empty.
    AmountMustBeGreaterThanZero,
    /// `NoPendingWithdrawals`.
    NoPendingWithdrawals,
    /// The user has no withdrawal request for this asset (`DoubleEndedQueue.Empty`).
    NoWithdrawalRequest {
        /// User.
        owner: String,
    },
    /// The trait's claim named a request that is not the user's oldest (the contract completes
    /// the oldest one).
    NotOldestRequest {
        /// Requested nonce.
        id: u64,
        /// The user's oldest.
        oldest: u64,
    },
    /// `WithdrawalLocked`.
    WithdrawalLocked {
        /// Request nonce.
        nonce: u64,
        /// `nextLockedNonce`.
        next_locked: u64,
    },
    /// `WithdrawalDelayNotPassed`.
    WithdrawalDelayNotPassed {
        /// Start block.
        start_block: u64,
        /// Delay, blocks.
        delay: u64,
        /// Current block.
        now: u64,
    },
    /// `ExceedWithdrawalDelay`.
    ExceedWithdrawalDelay {
        /// Delay asked.
        delay: u64,
    },
    /// More to move into the unstaking vault than the asset holds.
    InsufficientAssets {
        /// Amount.
        amount: U256,
        /// Held outside the vault.
        available: U256,
    },
    /// Arithmetic failure (a Solidity overflow / division-by-zero panic).
    Math(MathError),
}

impl From<MathError> for KelpError {
    fn from(e: MathError) -> Self {
        KelpError::Math(e)
    }
}

impl fmt::Display for KelpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use KelpError::*;
        match self {
            RsEthPriceExceedsLimit {
                old_price,
                new_price,
                limit_percent,
            } => write!(
                f,
                "RSETHPriceExceedsLimit: {old_price} -> {new_price} moves more than {limit_percent} %"
            ),
            AssetNotSupported { asset } => write!(f, "AssetNotSupported: {asset}"),
            AssetAlreadySupported { asset } => write!(f, "asset {asset} already supported"),
            InvalidAmountToDeposit { amount } => write!(f, "InvalidAmountToDeposit: {amount}"),
            MaximumDepositLimitReached { total, limit } => {
                write!(f, "MaximumDepositLimitReached: {total} above {limit}")
            }
            MinimumAmountToReceiveNotMet { minted, min_expected } => {
                write!(f, "MinimumAmountToReceiveNotMet: {minted} < {min_expected}")
            }
            InvalidAmountToWithdraw { amount } => write!(f, "InvalidAmountToWithdraw: {amount}"),
            ExceedAmountToWithdraw { expected, available } => {
                write!(f, "ExceedAmountToWithdraw: {expected} expected, {available} available")
            }
            AmountMustBeGreaterThanZero => write!(f, "AmountMustBeGreaterThanZero: unstaking vault empty"),
            NoPendingWithdrawals => write!(f, "NoPendingWithdrawals"),
            NoWithdrawalRequest { owner } => write!(f, "{owner} has no withdrawal request"),
            NotOldestRequest { id, oldest } => write!(f, "request {id} is not the oldest ({oldest})"),
            WithdrawalLocked { nonce, next_locked } => {
                write!(f, "WithdrawalLocked: request {nonce}, next locked {next_locked}")
            }
            WithdrawalDelayNotPassed {
                start_block,
                delay,
                now,
            } => {
                write!(
                    f,
                    "WithdrawalDelayNotPassed: started {start_block}, delay {delay}, now {now}"
                )
            }
            ExceedWithdrawalDelay { delay } => write!(f, "ExceedWithdrawalDelay: {delay} blocks"),
            InsufficientAssets { amount, available } => write!(f, "{amount} asked, {available} available"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KelpError {}

impl Reject for KelpError {
    fn code(&self) -> u32 {
        use KelpError::*;
        match self {
            RsEthPriceExceedsLimit { .. } => 5200,
            AssetNotSupported { .. } => 5201,
            AssetAlreadySupported { .. } => 5202,
            InvalidAmountToDeposit { .. } => 5203,
            MaximumDepositLimitReached { .. } => 5204,
            MinimumAmountToReceiveNotMet { .. } => 5205,
            InvalidAmountToWithdraw { .. } => 5206,
            ExceedAmountToWithdraw { .. } => 5207,
            AmountMustBeGreaterThanZero => 5208,
            NoPendingWithdrawals => 5209,
            NoWithdrawalRequest { .. } => 5210,
            NotOldestRequest { .. } => 5211,
            WithdrawalLocked { .. } => 5212,
            WithdrawalDelayNotPassed { .. } => 5213,
            ExceedWithdrawalDelay { .. } => 5214,
            InsufficientAssets { .. } => 5215,
            Math(e) => e.code(),
        }
    }
}

/// Result of a Kelp operation.
pub type KelpResult<T> = Result<T, KelpError>;

/// `_isNewPriceOffLimit`: `⌊|new − old|·100/old⌋ > limit` (never when equal or `limit == 0`).
///
/// Specification: fails with `Math(DivisionByZero)` if `old == 0` and the price moved with a limit.
pub fn is_new_price_off_limit(old_price: U256, new_price: U256, limit_percent: U256) -> KelpResult<bool> {
    if old_price == new_price || limit_percent == U256::ZERO {
        return Ok(false);
    }
    let diff = if old_price > new_price {
        old_price - new_price
    } else {
        new_price - old_price
    };
    let percentage = sol_mul_div(diff, U256::from(100u8), old_price)?;
    Ok(percentage > limit_percent)
}

/// `LRTOracle.updateRSETHPrice` as a function: `tvl_e36 = Σ amount·price` (1 ETH = 1e36),
/// returns `(new price, rsETH fee minted to the treasury)`.
///
/// Specification:
/// - `supply == 0` sets the price to 1e18 with no fee (and no limit check);
/// - fails with `RsEthPriceExceedsLimit` if the move exceeds `limit_percent` of the old price;
/// - fails with `Math(DivisionByZero)` if the new price is zero.
pub fn rseth_price(
    tvl_e36: U256,
    rseth_supply: U256,
    old_price: U256,
    protocol_fee_bps: U256,
    limit_percent: U256,
) -> KelpResult<(U256, U256)> {
    if rseth_supply == U256::ZERO {
        return Ok((WAD, U256::ZERO));
    }
    let mut fee_eth = U256::ZERO;
    let temp = tvl_e36.div_c(rseth_supply)?;
    if temp > old_price {
        let increase = temp - old_price;
        let reward = sol_mul_div(increase, rseth_supply, WAD)?;
        fee_eth = sol_mul_div(reward, protocol_fee_bps, U256::from(10_000u32))?;
    }
    let price = tvl_e36.sub_c(fee_eth.mul_c(WAD)?)?.div_c(rseth_supply)?;
    let fee_rseth = fee_eth.mul_c(WAD)?.div_c(price)?;
    if is_new_price_off_limit(old_price, price, limit_percent)? {
        return Err(KelpError::RsEthPriceExceedsLimit {
            old_price,
            new_price: price,
            limit_percent,
        });
    }
    Ok((price, fee_rseth))
}

/// `getRsETHAmountToMint`: `⌊amount·assetPrice/rsETHPrice⌋`.
pub fn rseth_amount_to_mint(amount: U256, asset_price: U256, rseth_price: U256) -> KelpResult<U256> {
    Ok(sol_mul_div(amount, asset_price, rseth_price)?)
}

/// `getExpectedAssetAmount`: `⌊rsETH·rsETHPrice/assetPrice⌋`.
pub fn expected_asset_amount(rseth: U256, rseth_price: U256, asset_price: U256) -> KelpResult<U256> {
    Ok(sol_mul_div(rseth, rseth_price, asset_price)?)
}

/// A supported asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KelpAsset {
    /// `getTotalAssetDeposits` (deposit pool + node delegators + EigenLayer + unstaking vault).
    pub total: U256,
    /// Oracle price, ETH per unit, 1e18.
    pub price: U256,
    /// `depositLimitByAsset`.
    pub deposit_limit: U256,
    /// Of `total`, what sits in the unstaking vault (withdrawn from EigenLayer).
    pub unstaking_vault: U256,
    /// `assetsCommitted`.
    pub committed: U256,
    /// `minRsEthAmountToWithdraw`.
    pub min_rseth_to_withdraw: U256,
    /// `nextUnusedNonce`.
    pub next_unused_nonce: u64,
    /// `nextLockedNonce`.
    pub next_locked_nonce: u64,
    /// Requests by nonce.
    pub requests: OrdMap<u64, KelpRequest>,
    /// Per user, the nonces in order (`userAssociatedNonces`).
    pub user_nonces: OrdMap<String, VecDeque<u64>>,
    /// Assets paid out to the withdrawal manager by `unlockQueue`, not yet claimed.
    pub manager_balance: U256,
}

/// A withdrawal request (`WithdrawalRequest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KelpRequest {
    /// rsETH locked.
    pub rseth_unstaked: U256,
    /// Expected at request; set to `min(expected, value at unlock)` at unlock.
    pub expected_asset_amount: U256,
    /// Block of the request.
    pub start_block: u64,
}

/// Parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KelpParams {
    /// `protocolFeeInBPS`.
    pub protocol_fee_bps: u32,
    /// `pricePercentageLimit`, whole percent (0 = none).
    pub price_percentage_limit: u32,
    /// `minAmountToDeposit`.
    pub min_amount_to_deposit: U256,
    /// `withdrawalDelayBlocks`.
    pub withdrawal_delay_blocks: u64,
}

impl Default for KelpParams {
    fn default() -> Self {
        KelpParams {
            protocol_fee_bps: 1_000,
            price_percentage_limit: 0,
            min_amount_to_deposit: U256::ZERO,
            withdrawal_delay_blocks: DEFAULT_WITHDRAWAL_DELAY_BLOCKS,
        }
    }
}

/// The Kelp protocol state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kelp {
    /// Parameters.
    pub params: KelpParams,
    /// rsETH total supply (includes rsETH held by the withdrawal manager).
    pub supply: U256,
    /// `rsETHPrice`.
    pub price: U256,
    /// rsETH minted to the treasury as fees (cumulative).
    pub treasury_rseth: U256,
    /// Supported assets by symbol.
    pub assets: OrdMap<String, KelpAsset>,
}

impl Kelp {
    /// A deployment supporting native ETH (price 1e18) with `eth_deposit_limit`.
    ///
    /// Specification: fails with `ExceedWithdrawalDelay` above 10 days of blocks.
    pub fn new(params: KelpParams, eth_deposit_limit: U256) -> KelpResult<Self> {
        if params.withdrawal_delay_blocks > MAX_WITHDRAWAL_DELAY_BLOCKS {
            return Err(KelpError::ExceedWithdrawalDelay {
                delay: params.withdrawal_delay_blocks,
            });
        }
        let mut k = Kelp {
            params,
            supply: U256::ZERO,
            price: WAD,
            treasury_rseth: U256::ZERO,
            assets: OrdMap::new(),
        };
        k.add_asset(ETH, WAD, eth_deposit_limit)?;
        Ok(k)
    }

    /// `LRTConfig.addNewSupportedAsset` with its oracle price.
    ///
    /// Specification: fails with `AssetAlreadySupported`.
    pub fn add_asset(&mut self, asset: &str, price: U256, deposit_limit: U256) -> KelpResult<()> {
        if self.assets.contains_key(asset) {
            return Err(KelpError::AssetAlreadySupported { asset: asset.into() });
        }
        self.assets.insert(
            asset.into(),
            KelpAsset {
                total: U256::ZERO,
                price,
                deposit_limit,
                unstaking_vault: U256::ZERO,
                committed: U256::ZERO,
                min_rseth_to_withdraw: U256::ZERO,
                next_unused_nonce: 0,
                next_locked_nonce: 0,
                requests: OrdMap::new(),
                user_nonces: OrdMap::new(),
                manager_balance: U256::ZERO,
            },
        );
        Ok(())
    }

    fn asset(&self, asset: &str) -> KelpResult<&KelpAsset> {
        self.assets
            .get(asset)
            .ok_or_else(|| KelpError::AssetNotSupported { asset: asset.into() })
    }

    fn asset_mut(&mut self, asset: &str) -> KelpResult<&mut KelpAsset> {
        self.assets
            .get_mut(asset)
            .ok_or_else(|| KelpError::AssetNotSupported { asset: asset.into() })
    }

    /// Sets an asset's oracle price.
    ///
    /// Specification: fails with `AssetNotSupported`.
    pub fn set_asset_price(&mut self, asset: &str, price: U256) -> KelpResult<()> {
        self.asset_mut(asset)?.price = price;
        Ok(())
    }

    /// Reports an asset's total deposits as the restaking layer values them (rewards raise it,
    /// slashing lowers it). The unstaking-vault part is kept.
    ///
    /// Specification: fails with `AssetNotSupported`, `InsufficientAssets` below the vault part.
    pub fn report_asset_total(&mut self, asset: &str, total: U256) -> KelpResult<()> {
        let a = self.asset_mut(asset)?;
        if total < a.unstaking_vault {
            return Err(KelpError::InsufficientAssets {
                amount: a.unstaking_vault,
                available: total,
            });
        }
        a.total = total;
        Ok(())
    }

    /// Assets withdrawn from EigenLayer arrive in the unstaking vault (still counted in TVL).
    ///
    /// Specification: fails with `AssetNotSupported`, `InsufficientAssets` above what is
    /// outside the vault.
    pub fn move_to_unstaking_vault(&mut self, asset: &str, amount: U256) -> KelpResult<()> {
        let a = self.asset_mut(asset)?;
        let outside = a.total.sub_c(a.unstaking_vault)?;
        if amount > outside {
            return Err(KelpError::InsufficientAssets {
                amount,
                available: outside,
            });
        }
        a.unstaking_vault = a.unstaking_vault.add_c(amount)?;
        Ok(())
    }

    /// `Σ total·price` over the assets (`_getTotalEthInProtocol`, 1 ETH = 1e36).
    pub fn total_eth_e36(&self) -> KelpResult<U256> {
        let mut t = U256::ZERO;
        for a in self.assets.values() {
            t = t.add_c(a.total.mul_c(a.price)?)?;
        }
        Ok(t)
    }

    /// `updateRSETHPrice`: sets the price and mints the fee to the treasury; returns
    /// `(price, fee rsETH)`.
    ///
    /// Specification: fails as [`rseth_price`].
    pub fn update_rseth_price(&mut self) -> KelpResult<(U256, U256)> {
        let (price, fee) = rseth_price(
            self.total_eth_e36()?,
            self.supply,
            self.price,
            U256::from(self.params.protocol_fee_bps),
            U256::from(self.params.price_percentage_limit),
        )?;
        let supply = self.supply.add_c(fee)?;
        let treasury = self.treasury_rseth.add_c(fee)?;
        self.price = price;
        self.supply = supply;
        self.treasury_rseth = treasury;
        Ok((price, fee))
    }

    /// `depositETH` / `depositAsset`: mints `⌊amount·assetPrice/rsETHPrice⌋` at the stored price.
    ///
    /// Specification:
    /// - fails with `AssetNotSupported`;
    /// - fails with `InvalidAmountToDeposit` if `amount == 0` or below `minAmountToDeposit`;
    /// - fails with `MaximumDepositLimitReached` if (ETH) the deposits already exceed the limit,
    ///   or (other assets) `deposits + amount > limit`;
    /// - fails with `MinimumAmountToReceiveNotMet` below `min_rseth`.
    pub fn deposit_asset(&mut self, asset: &str, amount: U256, min_rseth: U256) -> KelpResult<U256> {
        let a = self.asset(asset)?;
        if amount == U256::ZERO || amount < self.params.min_amount_to_deposit {
            return Err(KelpError::InvalidAmountToDeposit { amount });
        }
        let over = if asset == ETH {
            a.total > a.deposit_limit
        } else {
            a.total.add_c(amount)? > a.deposit_limit
        };
        if over {
            return Err(KelpError::MaximumDepositLimitReached {
                total: a.total.saturating_add(amount),
                limit: a.deposit_limit,
            });
        }
        let minted = rseth_amount_to_mint(amount, a.price, self.price)?;
        if minted < min_rseth {
            return Err(KelpError::MinimumAmountToReceiveNotMet {
                minted,
                min_expected: min_rseth,
            });
        }
        let total = a.total.add_c(amount)?;
        let supply = self.supply.add_c(minted)?;
        self.asset_mut(asset)?.total = total;
        self.supply = supply;
        Ok(minted)
    }

    /// `getAvailableAssetAmount`: `total − committed`, 0 if negative.
    pub fn available_asset_amount(&self, asset: &str) -> KelpResult<U256> {
        let a = self.asset(asset)?;
        Ok(a.total.saturating_sub(a.committed))
    }

    /// `initiateWithdrawal(asset, rsETH)`: locks rsETH in the manager and commits
    /// `⌊rsETH·rsETHPrice/assetPrice⌋` of the asset. Returns the nonce.
    ///
    /// Specification:
    /// - fails with `AssetNotSupported`;
    /// - fails with `InvalidAmountToWithdraw` if zero or below `minRsEthAmountToWithdraw`;
    /// - fails with `ExceedAmountToWithdraw` above the available amount.
    pub fn initiate_withdrawal(&mut self, owner: &str, asset: &str, rseth: U256, block: u64) -> KelpResult<u64> {
        let available = self.available_asset_amount(asset)?;
        let price = self.price;
        let a = self.asset_mut(asset)?;
        if rseth == U256::ZERO || rseth < a.min_rseth_to_withdraw {
            return Err(KelpError::InvalidAmountToWithdraw { amount: rseth });
        }
        let expected = expected_asset_amount(rseth, price, a.price)?;
        if expected > available {
            return Err(KelpError::ExceedAmountToWithdraw { expected, available });
        }
        a.committed = a.committed.add_c(expected)?;
        let nonce = a.next_unused_nonce;
        a.requests.insert(
            nonce,
            KelpRequest {
                rseth_unstaked: rseth,
                expected_asset_amount: expected,
                start_block: block,
            },
        );
        a.user_nonces.entry(owner.into()).or_default().push_back(nonce);
        a.next_unused_nonce += 1;
        Ok(nonce)
    }

    /// `unlockQueue(asset, firstExcludedIndex, …)` at the current prices: walks the queue from
    /// `nextLockedNonce`, stopping at the first request still inside the delay or whose payout
    /// `min(expected, ⌊rsETH·rsETHPrice/assetPrice⌋)` the unstaking vault cannot cover; burns the
    /// unlocked rsETH and moves the payouts out of the vault (and out of TVL). Returns
    /// `(rsETH burned, asset unlocked)`. The operator's price bounds are not modelled.
    ///
    /// Specification:
    /// - fails with `AssetNotSupported`;
    /// - fails with `AmountMustBeGreaterThanZero` if the unstaking vault is empty;
    /// - fails with `NoPendingWithdrawals` if nothing is left to unlock below
    ///   `min(first_excluded, nextUnusedNonce)`.
    pub fn unlock_queue(&mut self, asset: &str, first_excluded: u64, block: u64) -> KelpResult<(U256, U256)> {
        let rseth_price = self.price;
        let delay = self.params.withdrawal_delay_blocks;
        let a = self.asset(asset)?;
        if a.unstaking_vault == U256::ZERO {
            return Err(KelpError::AmountMustBeGreaterThanZero);
        }
        let first_excluded = first_excluded.min(a.next_unused_nonce);
        let mut nonce = a.next_locked_nonce;
        if nonce >= first_excluded {
            return Err(KelpError::NoPendingWithdrawals);
        }
        // Plan on reads, then write: a failure leaves the state as it was.
        let mut available = a.unstaking_vault;
        let mut committed = a.committed;
        let mut burned = U256::ZERO;
        let mut unlocked = U256::ZERO;
        let mut payouts = Vec::new();
        while nonce < first_excluded {
            let Some(r) = a.requests.get(&nonce) else {
                break;
            };
            if block < r.start_block.saturating_add(delay) {
                break;
            }
            let current = sol_mul_div(r.rseth_unstaked, rseth_price, a.price)?;
            let payout = r.expected_asset_amount.min(current);
            if available < payout {
                break;
            }
            committed = committed.sub_c(r.expected_asset_amount)?;
            burned = burned.add_c(r.rseth_unstaked)?;
            available = available.sub_c(payout)?;
            unlocked = unlocked.add_c(payout)?;
            payouts.push((nonce, payout));
            nonce += 1;
        }
        let vault = a.unstaking_vault.sub_c(unlocked)?;
        let total = a.total.sub_c(unlocked)?;
        let manager = a.manager_balance.add_c(unlocked)?;
        let supply = self.supply.sub_c(burned)?;
        let a = self.asset_mut(asset)?;
        for (n, payout) in payouts {
            if let Some(r) = a.requests.get_mut(&n) {
                r.expected_asset_amount = payout;
            }
        }
        a.committed = committed;
        a.next_locked_nonce = nonce;
        a.unstaking_vault = vault;
        a.total = total;
        a.manager_balance = manager;
        self.supply = supply;
        Ok((burned, unlocked))
    }

    /// `completeWithdrawal(asset)`: pays the user's oldest request once unlocked and past the
    /// delay. Returns `(nonce, amount paid)`.
    ///
    /// Specification:
    /// - fails with `AssetNotSupported`, `NoWithdrawalRequest`;
    /// - fails with `WithdrawalLocked` if the oldest nonce is not yet unlocked;
    /// - fails with `WithdrawalDelayNotPassed` if `block < start + delay`.
    pub fn complete_withdrawal(&mut self, owner: &str, asset: &str, block: u64) -> KelpResult<(u64, U256)> {
        let delay = self.params.withdrawal_delay_blocks;
        let a = self.asset(asset)?;
        let nonce = a
            .user_nonces
            .get(owner)
            .and_then(|q| q.front().copied())
            .ok_or_else(|| KelpError::NoWithdrawalRequest { owner: owner.into() })?;
        if nonce >= a.next_locked_nonce {
            return Err(KelpError::WithdrawalLocked {
                nonce,
                next_locked: a.next_locked_nonce,
            });
        }
        let r = a.requests.get(&nonce).ok_or(KelpError::NoPendingWithdrawals)?;
        if block < r.start_block.saturating_add(delay) {
            return Err(KelpError::WithdrawalDelayNotPassed {
                start_block: r.start_block,
                delay,
                now: block,
            });
        }
        let paid = r.expected_asset_amount;
        let manager = a.manager_balance.sub_c(paid)?;
        let a = self.asset_mut(asset)?;
        a.requests.remove(&nonce);
        if let Some(q) = a.user_nonces.get_mut(owner) {
            q.pop_front();
            if q.is_empty() {
                a.user_nonces.remove(owner);
            }
        }
        a.manager_balance = manager;
        Ok((nonce, paid))
    }

    /// TVL in ETH (`⌊Σ total·price/1e18⌋`).
    pub fn tvl_eth(&self) -> KelpResult<U256> {
        Ok(self.total_eth_e36()?.div_c(WAD)?)
    }

    /// Backing rules.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (name, a) in &self.assets {
            ensure(a.unstaking_vault <= a.total, || {
                format!(
                    "kelp {name}: unstaking vault {} above total {}",
                    a.unstaking_vault, a.total
                )
            })?;
            ensure(a.next_locked_nonce <= a.next_unused_nonce, || {
                format!("kelp {name}: next locked nonce above next unused")
            })?;
            let mut committed = U256::ZERO;
            let mut unlocked_owed = U256::ZERO;
            for (n, r) in &a.requests {
                if *n >= a.next_locked_nonce {
                    committed = committed.saturating_add(r.expected_asset_amount);
                } else {
                    unlocked_owed = unlocked_owed.saturating_add(r.expected_asset_amount);
                }
            }
            ensure(committed == a.committed, || {
                format!(
                    "kelp {name}: locked requests expect {committed}, committed {}",
                    a.committed
                )
            })?;
            ensure(unlocked_owed == a.manager_balance, || {
                format!(
                    "kelp {name}: unlocked requests owe {unlocked_owed}, manager holds {}",
                    a.manager_balance
                )
            })?;
            let queued: usize = a.user_nonces.values().map(VecDeque::len).sum();
            ensure(queued == a.requests.len(), || {
                format!("kelp {name}: {queued} user nonces for {} requests", a.requests.len())
            })?;
        }
        ensure(self.treasury_rseth <= self.supply, || {
            "kelp: treasury rsETH above supply".into()
        })?;
        // Unlocked requests' rsETH is already burned; only locked ones count against the supply.
        let mut still_locked = U256::ZERO;
        for a in self.assets.values() {
            for (n, r) in &a.requests {
                if *n >= a.next_locked_nonce {
                    still_locked = still_locked.saturating_add(r.rseth_unstaked);
                }
            }
        }
        ensure(still_locked <= self.supply, || {
            format!(
                "kelp: {still_locked} rsETH locked in the manager exceeds supply {}",
                self.supply
            )
        })
    }
}

impl Lrt for Kelp {
    type Error = KelpError;

    /// `depositETH` with no minimum; `now` is unused (the price is the stored one).
    fn deposit(&mut self, amount: U256, _now: u64) -> KelpResult<U256> {
        self.deposit_asset(ETH, amount, U256::ZERO)
    }
    /// `initiateWithdrawal(ETH, …)` at block `now`.
    fn request_withdrawal(&mut self, owner: &str, lrt_amount: U256, now: u64) -> KelpResult<u64> {
        self.initiate_withdrawal(owner, ETH, lrt_amount, now)
    }
    /// `completeWithdrawal(ETH)`; `id` must be the owner's oldest ETH request.
    fn claim(&mut self, owner: &str, id: u64, now: u64) -> KelpResult<U256> {
        let a = self.asset(ETH)?;
        let oldest = a
            .user_nonces
            .get(owner)
            .and_then(|q| q.front().copied())
            .ok_or_else(|| KelpError::NoWithdrawalRequest { owner: owner.into() })?;
        if oldest != id {
            return Err(KelpError::NotOldestRequest { id, oldest });
        }
        Ok(self.complete_withdrawal(owner, ETH, now)?.1)
    }
    /// The stored `rsETHPrice`.
    fn rate(&self, _now: u64) -> KelpResult<U256> {
        Ok(self.price)
    }
    fn tvl(&self, _now: u64) -> KelpResult<U256> {
        self.tvl_eth()
    }
    fn supply(&self) -> U256 {
        self.supply
    }
    fn check_invariants(&self) -> Result<(), String> {
        Kelp::check_invariants(self)
    }
}

/// ETH value per rsETH from the raw totals (`⌊tvl·1e18/supply⌋`), for reporting.
pub fn fair_rate(tvl_eth: U256, supply: U256) -> KelpResult<U256> {
    Ok(rate_of(tvl_eth, supply)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector() {
        let e = |x: u128| U256::from(x) * WAD;
        let (p, fee) = rseth_price(e(1010) * WAD, e(1000), WAD, U256::from(1000u32), U256::ZERO).unwrap();
        assert_eq!(p, U256::from(1_009_000_000_000_000_000u128));
        // fee 1 ETH → 1e36 / 1.009e18 rsETH.
        assert_eq!(fee, U256::from(991_080_277_502_477_700u128));
    }

    #[test]
    fn price_limit_is_whole_percent_both_ways() {
        // old 1e18, new 1.02e18: 2 % ≤ 2 ok, 1 % limit fails; 0.98e18 likewise.
        assert!(!is_new_price_off_limit(WAD, U256::from(1_020_000_000_000_000_000u128), U256::from(2u8)).unwrap());
        assert!(is_new_price_off_limit(WAD, U256::from(1_020_000_000_000_000_000u128), U256::from(1u8)).unwrap());
        assert!(is_new_price_off_limit(WAD, U256::from(980_000_000_000_000_000u128), U256::from(1u8)).unwrap());
        // 1.0199: ⌊1.99⌋ = 1, not above 1.
        assert!(!is_new_price_off_limit(WAD, U256::from(1_019_900_000_000_000_000u128), U256::from(1u8)).unwrap());
    }
}
