//! `vault` — an ERC-4626 tokenised vault exactly as OpenZeppelin v5
//! `contracts/token/ERC20/extensions/ERC4626.sol` computes it.
//!
//! * `_convertToShares(a) = a·(supply + 10^offset)/(totalAssets + 1)` and
//!   `_convertToAssets(s) = s·(totalAssets + 1)/(supply + 10^offset)` (`Math.mulDiv`, 512-bit).
//!   The virtual shares and the virtual asset make a first-depositor donation attack cost the
//!   attacker at least what it takes from the victim.
//! * Rounding per entry point, always in the vault's favour: `deposit` / `previewDeposit` and
//!   `redeem` / `previewRedeem` floor, `mint` / `previewMint` and `withdraw` / `previewWithdraw`
//!   ceil; `convertToShares` / `convertToAssets` floor.
//! * `maxDeposit` / `maxMint` are `type(uint256).max` unless a deposit limit is set (then the
//!   room under the limit, as Yearn and most curated vaults override it). `maxRedeem(owner)` is the
//!   owner's balance and `maxWithdraw(owner) = previewRedeem(maxRedeem(owner))` as OpenZeppelin;
//!   because strategies may hold part of the assets, both are further capped by the idle assets
//!   the vault can pay at once (the liquidity override of Puffer / Yearn).
//! * `totalAssets()` = idle assets + the strategies' assets, which the caller reports.

use crate::{ensure, math_error, mul_div, Rounding};
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{pow10, Checked, MathError, U256};
use std::fmt;

/// Largest `_decimalsOffset` accepted (OpenZeppelin's `uint8`, bounded so `10^offset` and the
/// share supply leave room in 256 bits).
pub const MAX_DECIMALS_OFFSET: u8 = 18;

/// Rejections of the vault (codes 7000–7099).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VaultError {
    /// `ERC4626ExceededMaxDeposit`.
    ExceededMaxDeposit {
        /// Assets asked.
        assets: U256,
        /// `maxDeposit`.
        max: U256,
    },
    /// `ERC4626ExceededMaxMint`.
    ExceededMaxMint {
        /// Shares asked.
        shares: U256,
        /// `maxMint`.
        max: U256,
    },
    /// `ERC4626ExceededMaxWithdraw`.
    ExceededMaxWithdraw {
        /// Assets asked.
        assets: U256,
        /// `maxWithdraw(owner)`.
        max: U256,
    },
    /// `ERC4626ExceededMaxRedeem`.
    ExceededMaxRedeem {
        /// Shares asked.
        shares: U256,
        /// `maxRedeem(owner)`.
        max: U256,
    },
    /// `_decimalsOffset` above [`MAX_DECIMALS_OFFSET`].
    InvalidDecimalsOffset {
        /// The offset given.
        offset: u8,
    },
    /// More assets to move to or from the strategies than there are.
    InsufficientAssets {
        /// Assets asked.
        amount: U256,
        /// Assets available on that side.
        available: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

math_error!(VaultError);

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VaultError::*;
        match self {
            ExceededMaxDeposit { assets, max } => write!(f, "ERC4626ExceededMaxDeposit: {assets} > {max}"),
            ExceededMaxMint { shares, max } => write!(f, "ERC4626ExceededMaxMint: {shares} > {max}"),
            ExceededMaxWithdraw { assets, max } => write!(f, "ERC4626ExceededMaxWithdraw: {assets} > {max}"),
            ExceededMaxRedeem { shares, max } => write!(f, "ERC4626ExceededMaxRedeem: {shares} > {max}"),
            InvalidDecimalsOffset { offset } => {
                write!(f, "vault: decimals offset {offset} above {MAX_DECIMALS_OFFSET}")
            }
            InsufficientAssets { amount, available } => write!(f, "vault: {amount} asked, {available} available"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl Reject for VaultError {
    fn code(&self) -> u32 {
        use VaultError::*;
        match self {
            ExceededMaxDeposit { .. } => 7000,
            ExceededMaxMint { .. } => 7001,
            ExceededMaxWithdraw { .. } => 7002,
            ExceededMaxRedeem { .. } => 7003,
            InvalidDecimalsOffset { .. } => 7004,
            InsufficientAssets { .. } => 7005,
            Math(e) => e.code(),
        }
    }
}

/// Result of a vault operation.
pub type VaultResult<T> = Result<T, VaultError>;

/// The vault's totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vault {
    /// `totalSupply()` of vault shares.
    pub total_supply: U256,
    /// Assets held by the vault itself (paid out at once).
    pub idle: U256,
    /// Assets held by the strategies, as last reported.
    pub strategy_assets: U256,
    /// `_decimalsOffset()`.
    pub decimals_offset: u8,
    /// Deposit limit on `totalAssets()` (`U256::MAX`: none, OpenZeppelin's default).
    pub deposit_limit: U256,
}

impl Vault {
    /// An empty vault.
    ///
    /// Specification: fails with `InvalidDecimalsOffset` if `decimals_offset` exceeds
    /// [`MAX_DECIMALS_OFFSET`].
    pub fn new(decimals_offset: u8) -> VaultResult<Self> {
        if decimals_offset > MAX_DECIMALS_OFFSET {
            return Err(VaultError::InvalidDecimalsOffset {
                offset: decimals_offset,
            });
        }
        Ok(Vault {
            total_supply: U256::ZERO,
            idle: U256::ZERO,
            strategy_assets: U256::ZERO,
            decimals_offset,
            deposit_limit: U256::MAX,
        })
    }

    /// `totalAssets()`: idle + strategies.
    pub fn total_assets(&self) -> VaultResult<U256> {
        Ok(self.idle.add_c(self.strategy_assets)?)
    }

    fn virtual_supply(&self) -> VaultResult<U256> {
        Ok(self.total_supply.add_c(pow10(u32::from(self.decimals_offset))?)?)
    }

    /// `_convertToShares(assets, r)`: `assets·(supply + 10^offset)/(totalAssets + 1)`.
    pub fn convert_to_shares_rounded(&self, assets: U256, r: Rounding) -> VaultResult<U256> {
        Ok(mul_div(
            assets,
            self.virtual_supply()?,
            self.total_assets()?.add_c(U256::ONE)?,
            r,
        )?)
    }

    /// `_convertToAssets(shares, r)`: `shares·(totalAssets + 1)/(supply + 10^offset)`.
    pub fn convert_to_assets_rounded(&self, shares: U256, r: Rounding) -> VaultResult<U256> {
        Ok(mul_div(
            shares,
            self.total_assets()?.add_c(U256::ONE)?,
            self.virtual_supply()?,
            r,
        )?)
    }

    /// `convertToShares` (floor).
    pub fn convert_to_shares(&self, assets: U256) -> VaultResult<U256> {
        self.convert_to_shares_rounded(assets, Rounding::Floor)
    }

    /// `convertToAssets` (floor).
    pub fn convert_to_assets(&self, shares: U256) -> VaultResult<U256> {
        self.convert_to_assets_rounded(shares, Rounding::Floor)
    }

    /// `previewDeposit` (shares, floor).
    pub fn preview_deposit(&self, assets: U256) -> VaultResult<U256> {
        self.convert_to_shares_rounded(assets, Rounding::Floor)
    }

    /// `previewMint` (assets, ceil).
    pub fn preview_mint(&self, shares: U256) -> VaultResult<U256> {
        self.convert_to_assets_rounded(shares, Rounding::Ceil)
    }

    /// `previewWithdraw` (shares, ceil).
    pub fn preview_withdraw(&self, assets: U256) -> VaultResult<U256> {
        self.convert_to_shares_rounded(assets, Rounding::Ceil)
    }

    /// `previewRedeem` (assets, floor).
    pub fn preview_redeem(&self, shares: U256) -> VaultResult<U256> {
        self.convert_to_assets_rounded(shares, Rounding::Floor)
    }

    /// `maxDeposit`: `U256::MAX` without a limit, else the room under it.
    pub fn max_deposit(&self) -> VaultResult<U256> {
        if self.deposit_limit == U256::MAX {
            return Ok(U256::MAX);
        }
        Ok(self.deposit_limit.saturating_sub(self.total_assets()?))
    }

    /// `maxMint`: `U256::MAX` without a limit, else `convertToShares(maxDeposit)` (floor).
    pub fn max_mint(&self) -> VaultResult<U256> {
        if self.deposit_limit == U256::MAX {
            return Ok(U256::MAX);
        }
        self.convert_to_shares(self.max_deposit()?)
    }

    /// `maxRedeem(owner)` for an owner holding `balance` shares: the balance, capped by the shares
    /// whose assets the idle buffer pays (`convertToShares(idle)`, floor).
    pub fn max_redeem(&self, balance: U256) -> VaultResult<U256> {
        if self.strategy_assets == U256::ZERO {
            return Ok(balance);
        }
        Ok(balance.min(self.convert_to_shares(self.idle)?))
    }

    /// `maxWithdraw(owner) = previewRedeem(maxRedeem(owner))`.
    pub fn max_withdraw(&self, balance: U256) -> VaultResult<U256> {
        self.preview_redeem(self.max_redeem(balance)?)
    }

    /// `deposit(assets)`: mints `previewDeposit(assets)` (possibly zero) and returns it.
    ///
    /// Specification: fails with `ExceededMaxDeposit` above `maxDeposit`.
    pub fn deposit(&mut self, assets: U256) -> VaultResult<U256> {
        let max = self.max_deposit()?;
        if assets > max {
            return Err(VaultError::ExceededMaxDeposit { assets, max });
        }
        let shares = self.preview_deposit(assets)?;
        self.apply_entry(assets, shares)?;
        Ok(shares)
    }

    /// `mint(shares)`: takes `previewMint(shares)` assets and returns them.
    ///
    /// Specification: fails with `ExceededMaxMint` above `maxMint`.
    pub fn mint(&mut self, shares: U256) -> VaultResult<U256> {
        let max = self.max_mint()?;
        if shares > max {
            return Err(VaultError::ExceededMaxMint { shares, max });
        }
        let assets = self.preview_mint(shares)?;
        self.apply_entry(assets, shares)?;
        Ok(assets)
    }

    /// `withdraw(assets)` by an owner holding `balance`: burns `previewWithdraw(assets)` and
    /// returns the shares burned.
    ///
    /// Specification: fails with `ExceededMaxWithdraw` above `maxWithdraw(owner)`.
    pub fn withdraw(&mut self, assets: U256, balance: U256) -> VaultResult<U256> {
        let max = self.max_withdraw(balance)?;
        if assets > max {
            return Err(VaultError::ExceededMaxWithdraw { assets, max });
        }
        let shares = self.preview_withdraw(assets)?;
        self.apply_exit(assets, shares)?;
        Ok(shares)
    }

    /// `redeem(shares)` by an owner holding `balance`: pays `previewRedeem(shares)` and returns it.
    ///
    /// Specification: fails with `ExceededMaxRedeem` above `maxRedeem(owner)`.
    pub fn redeem(&mut self, shares: U256, balance: U256) -> VaultResult<U256> {
        let max = self.max_redeem(balance)?;
        if shares > max {
            return Err(VaultError::ExceededMaxRedeem { shares, max });
        }
        let assets = self.preview_redeem(shares)?;
        self.apply_exit(assets, shares)?;
        Ok(assets)
    }

    fn apply_entry(&mut self, assets: U256, shares: U256) -> VaultResult<()> {
        let idle = self.idle.add_c(assets)?;
        let supply = self.total_supply.add_c(shares)?;
        self.idle = idle;
        self.total_supply = supply;
        Ok(())
    }

    /// Burns `shares` and pays `assets` from idle (checked, all or nothing).
    pub(crate) fn apply_exit(&mut self, assets: U256, shares: U256) -> VaultResult<()> {
        let idle = self.idle.sub_c(assets)?;
        let supply = self.total_supply.sub_c(shares)?;
        self.idle = idle;
        self.total_supply = supply;
        Ok(())
    }

    /// Assets sent to the vault without minting (a donation, or a strategy's harvest paid in).
    pub fn donate(&mut self, assets: U256) -> VaultResult<()> {
        self.idle = self.idle.add_c(assets)?;
        Ok(())
    }

    /// Moves `amount` idle assets to the strategies.
    ///
    /// Specification: fails with `InsufficientAssets` above the idle assets.
    pub fn allocate(&mut self, amount: U256) -> VaultResult<()> {
        let (idle, strategies) = shift(amount, self.idle, self.strategy_assets)?;
        self.idle = idle;
        self.strategy_assets = strategies;
        Ok(())
    }

    /// Moves `amount` from the strategies back to idle.
    ///
    /// Specification: fails with `InsufficientAssets` above the strategies' assets.
    pub fn deallocate(&mut self, amount: U256) -> VaultResult<()> {
        let (strategies, idle) = shift(amount, self.strategy_assets, self.idle)?;
        self.idle = idle;
        self.strategy_assets = strategies;
        Ok(())
    }

    /// The strategies' assets as reported (gains raise it, losses lower it).
    pub fn report_strategy_assets(&mut self, assets: U256) {
        self.strategy_assets = assets;
    }

    /// Asset value of one whole share (`convertToAssets(10^(18 + offset))`, floor): for an
    /// 18-decimal asset a wad price.
    pub fn share_price_wad(&self) -> VaultResult<U256> {
        self.convert_to_assets(pow10(18 + u32::from(self.decimals_offset))?)
    }

    /// Backing rules: the offset is in range and redeeming the whole supply never pays more
    /// than the vault's assets.
    pub fn check_invariants(&self) -> Result<(), String> {
        ensure(self.decimals_offset <= MAX_DECIMALS_OFFSET, || {
            format!("vault: decimals offset {}", self.decimals_offset)
        })?;
        let all = self
            .convert_to_assets(self.total_supply)
            .map_err(|e| format!("vault: {e}"))?;
        let total = self.total_assets().map_err(|e| format!("vault: {e}"))?;
        ensure(all <= total, || {
            format!("vault: supply redeems {all} of {total} assets")
        })
    }
}

/// `(from − amount, to + amount)`, or `InsufficientAssets` when `from` holds less.
fn shift(amount: U256, from: U256, to: U256) -> VaultResult<(U256, U256)> {
    if amount > from {
        return Err(VaultError::InsufficientAssets {
            amount,
            available: from,
        });
    }
    Ok((from.sub_c(amount)?, to.add_c(amount)?))
}
