//! `puffer` model — pufETH, an ERC-4626 vault over native restaking (SPEC §6, reference
//! `PufferFinance/puffer-contracts` `mainnet-contracts/src/PufferVaultV5.sol` on OpenZeppelin
//! `ERC4626Upgradeable` v5 with `_decimalsOffset() == 0`).
//!
//! * `convertToShares(a) = a·(supply + 1)/(totalAssets + 1)`, `convertToAssets(s) =
//!   s·(totalAssets + 1)/(supply + 1)` — OpenZeppelin's virtual share and asset, which make the
//!   first-depositor donation attack unprofitable.
//! * `deposit` / `previewDeposit` round shares down, `mint` / `previewMint` round assets up
//!   (plain OpenZeppelin); `withdraw` / `redeem` are Puffer's overrides: the exit fee
//!   (`exitFeeBasisPoints`, stays in the vault) and the treasury exit fee are added as
//!   `⌊a·1e4/(1e4 − fee)⌋` on withdraw and taken as `⌈a·fee/1e4⌉` on redeem, and both are capped
//!   by the vault's liquid ETH (`maxWithdraw` / `maxRedeem`).
//! * totalAssets = liquid ETH/WETH + ETH locked in validators (`PUFFER_ORACLE.getLockedEthAmount`,
//!   reported by the caller). The stETH / Lido-queue legs and the L2 reward minting are not modelled.

use crate::{ensure, rate_of, Lrt};
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{mul_div_down, mul_div_up, Checked, MathError, U256, WAD};
use std::collections::BTreeMap;
use std::fmt;

/// `_BASIS_POINT_SCALE`.
pub const BASIS_POINT_SCALE: u32 = 10_000;
/// `_MAX_EXIT_FEE_BASIS_POINTS` (2.5 %).
pub const MAX_EXIT_FEE_BASIS_POINTS: u32 = 250;

/// Rounding of an ERC-4626 conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rounding {
    /// `Math.Rounding.Floor`.
    Floor,
    /// `Math.Rounding.Ceil`.
    Ceil,
}

/// Rejections of the Puffer model (codes 5300–5399).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PufferError {
    /// `ERC4626ExceededMaxWithdraw`.
    ExceededMaxWithdraw {
        /// Assets asked.
        assets: U256,
        /// Maximum.
        max: U256,
    },
    /// `ERC4626ExceededMaxRedeem`.
    ExceededMaxRedeem {
        /// Shares asked.
        shares: U256,
        /// Maximum.
        max: U256,
    },
    /// `InvalidExitFeeBasisPoints`.
    InvalidExitFeeBasisPoints {
        /// Fee given.
        bps: u32,
    },
    /// More ETH to stake than the vault holds.
    InsufficientLiquidity {
        /// ETH asked.
        amount: U256,
        /// Liquid ETH.
        liquid: U256,
    },
    /// No such ticket for this owner.
    UnknownTicket {
        /// Ticket id.
        id: u64,
    },
    /// Arithmetic failure.
    Math(MathError),
}

impl From<MathError> for PufferError {
    fn from(e: MathError) -> Self {
        PufferError::Math(e)
    }
}

impl fmt::Display for PufferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PufferError::*;
        match self {
            ExceededMaxWithdraw { assets, max } => write!(f, "ERC4626ExceededMaxWithdraw: {assets} > {max}"),
            ExceededMaxRedeem { shares, max } => write!(f, "ERC4626ExceededMaxRedeem: {shares} > {max}"),
            InvalidExitFeeBasisPoints { bps } => write!(f, "InvalidExitFeeBasisPoints: {bps} above 250"),
            InsufficientLiquidity { amount, liquid } => write!(f, "{amount} to stake, {liquid} liquid"),
            UnknownTicket { id } => write!(f, "no withdrawal ticket {id} for this owner"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PufferError {}

impl Reject for PufferError {
    fn code(&self) -> u32 {
        use PufferError::*;
        match self {
            ExceededMaxWithdraw { .. } => 5300,
            ExceededMaxRedeem { .. } => 5301,
            InvalidExitFeeBasisPoints { .. } => 5302,
            InsufficientLiquidity { .. } => 5303,
            UnknownTicket { .. } => 5304,
            Math(e) => e.code(),
        }
    }
}

/// Result of a Puffer operation.
pub type PufferResult<T> = Result<T, PufferError>;

fn mul_div(a: U256, b: U256, d: U256, r: Rounding) -> PufferResult<U256> {
    Ok(match r {
        Rounding::Floor => mul_div_down(a, b, d)?,
        Rounding::Ceil => mul_div_up(a, b, d)?,
    })
}

/// `_feeOnRaw`: `⌈assets·fee/1e4⌉`.
pub fn fee_on_raw(assets: U256, fee_bps: u32) -> PufferResult<U256> {
    Ok(mul_div_up(assets, U256::from(fee_bps), U256::from(BASIS_POINT_SCALE))?)
}

/// `_assetsWithFee`: `⌊assets·1e4/(1e4 − fee)⌋`.
pub fn assets_with_fee(assets: U256, fee_bps: u32) -> PufferResult<U256> {
    let d = BASIS_POINT_SCALE.checked_sub(fee_bps).ok_or(MathError::Underflow)?;
    Ok(mul_div_down(assets, U256::from(BASIS_POINT_SCALE), U256::from(d))?)
}

/// What a redeem or withdraw did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// pufETH burned.
    pub shares: U256,
    /// ETH to the receiver.
    pub assets: U256,
    /// ETH to the treasury.
    pub treasury_fee: U256,
}

/// The Puffer vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Puffer {
    /// pufETH total supply.
    pub supply: U256,
    /// WETH + ETH held by the vault.
    pub liquid: U256,
    /// ETH locked in validators (oracle).
    pub locked: U256,
    /// `exitFeeBasisPoints` (stays in the vault).
    pub exit_fee_bps: u32,
    /// `treasuryExitFeeBasisPoints` (paid to the treasury).
    pub treasury_exit_fee_bps: u32,
    /// ETH paid to the treasury (cumulative).
    pub treasury_received: U256,
    /// Redeemed ETH not yet collected through [`Lrt::claim`], by ticket id.
    pub tickets: BTreeMap<u64, (String, U256)>,
    /// Next ticket id.
    pub next_ticket: u64,
}

impl Puffer {
    /// An empty vault.
    ///
    /// Specification: fails with `InvalidExitFeeBasisPoints` if a fee is above 250 bps.
    pub fn new(exit_fee_bps: u32, treasury_exit_fee_bps: u32) -> PufferResult<Self> {
        for bps in [exit_fee_bps, treasury_exit_fee_bps] {
            if bps > MAX_EXIT_FEE_BASIS_POINTS {
                return Err(PufferError::InvalidExitFeeBasisPoints { bps });
            }
        }
        Ok(Puffer {
            supply: U256::ZERO,
            liquid: U256::ZERO,
            locked: U256::ZERO,
            exit_fee_bps,
            treasury_exit_fee_bps,
            treasury_received: U256::ZERO,
            tickets: BTreeMap::new(),
            next_ticket: 0,
        })
    }

    /// `totalAssets()` (liquid + locked).
    pub fn total_assets(&self) -> PufferResult<U256> {
        Ok(self.liquid.add_c(self.locked)?)
    }

    fn total_exit_fee_bps(&self) -> u32 {
        self.exit_fee_bps + self.treasury_exit_fee_bps
    }

    /// `_convertToShares`: `assets·(supply + 1)/(totalAssets + 1)`.
    pub fn convert_to_shares(&self, assets: U256, r: Rounding) -> PufferResult<U256> {
        mul_div(
            assets,
            self.supply.add_c(U256::ONE)?,
            self.total_assets()?.add_c(U256::ONE)?,
            r,
        )
    }

    /// `_convertToAssets`: `shares·(totalAssets + 1)/(supply + 1)`.
    pub fn convert_to_assets(&self, shares: U256, r: Rounding) -> PufferResult<U256> {
        mul_div(
            shares,
            self.total_assets()?.add_c(U256::ONE)?,
            self.supply.add_c(U256::ONE)?,
            r,
        )
    }

    /// `previewDeposit` (shares, floor).
    pub fn preview_deposit(&self, assets: U256) -> PufferResult<U256> {
        self.convert_to_shares(assets, Rounding::Floor)
    }

    /// `previewMint` (assets, ceil).
    pub fn preview_mint(&self, shares: U256) -> PufferResult<U256> {
        self.convert_to_assets(shares, Rounding::Ceil)
    }

    /// `previewWithdraw` with the exit fees (shares, ceil).
    pub fn preview_withdraw(&self, assets: U256) -> PufferResult<U256> {
        self.convert_to_shares(assets_with_fee(assets, self.total_exit_fee_bps())?, Rounding::Ceil)
    }

    /// `previewRedeem` with the exit fees (assets, floor, minus `⌈a·fee/1e4⌉`).
    pub fn preview_redeem(&self, shares: U256) -> PufferResult<U256> {
        let a = self.convert_to_assets(shares, Rounding::Floor)?;
        Ok(a.sub_c(fee_on_raw(a, self.total_exit_fee_bps())?)?)
    }

    /// `maxWithdraw(owner)` for an owner holding `balance` pufETH.
    pub fn max_withdraw(&self, balance: U256) -> PufferResult<U256> {
        let user = self.preview_redeem(balance)?;
        let mut liquidity = assets_with_fee(self.liquid, self.exit_fee_bps)?;
        liquidity = liquidity.sub_c(fee_on_raw(liquidity, self.total_exit_fee_bps())?)?;
        Ok(user.min(liquidity))
    }

    /// `maxRedeem(owner)` for an owner holding `balance` pufETH.
    pub fn max_redeem(&self, balance: U256) -> PufferResult<U256> {
        let liquidity = assets_with_fee(self.liquid, self.exit_fee_bps)?;
        let from_liquidity = self.convert_to_shares(liquidity, Rounding::Ceil)?;
        Ok(balance.min(from_liquidity))
    }

    /// `deposit(assets)` / `depositETH`: mints `previewDeposit(assets)` (possibly zero).
    pub fn deposit_assets(&mut self, assets: U256) -> PufferResult<U256> {
        let shares = self.preview_deposit(assets)?;
        let liquid = self.liquid.add_c(assets)?;
        self.supply = self.supply.add_c(shares)?;
        self.liquid = liquid;
        Ok(shares)
    }

    /// `mint(shares)`: takes `previewMint(shares)` assets; returns them.
    pub fn mint(&mut self, shares: U256) -> PufferResult<U256> {
        let assets = self.preview_mint(shares)?;
        let liquid = self.liquid.add_c(assets)?;
        self.supply = self.supply.add_c(shares)?;
        self.liquid = liquid;
        Ok(assets)
    }

    /// `withdraw(assets)` for an owner holding `balance`: burns `convertToShares(⌊a·1e4/(1e4 −
    /// fees)⌋, ceil)` and pays `assets` (+ the treasury fee `⌈awf·tfee/1e4⌉` to the treasury).
    ///
    /// Specification: fails with `ExceededMaxWithdraw` above `maxWithdraw`.
    pub fn withdraw(&mut self, assets: U256, balance: U256) -> PufferResult<Exit> {
        let max = self.max_withdraw(balance)?;
        if assets > max {
            return Err(PufferError::ExceededMaxWithdraw { assets, max });
        }
        let awf = assets_with_fee(assets, self.total_exit_fee_bps())?;
        let treasury_fee = fee_on_raw(awf, self.treasury_exit_fee_bps)?;
        let shares = self.convert_to_shares(awf, Rounding::Ceil)?;
        self.apply_exit(Exit {
            shares,
            assets,
            treasury_fee,
        })
    }

    /// `redeem(shares)` for an owner holding `balance`: pays `a − ⌈a·exit/1e4⌉ − ⌈a·tfee/1e4⌉`
    /// with `a = convertToAssets(shares, floor)`.
    ///
    /// Specification: fails with `ExceededMaxRedeem` above `maxRedeem`.
    pub fn redeem(&mut self, shares: U256, balance: U256) -> PufferResult<Exit> {
        let max = self.max_redeem(balance)?;
        if shares > max {
            return Err(PufferError::ExceededMaxRedeem { shares, max });
        }
        let awf = self.convert_to_assets(shares, Rounding::Floor)?;
        let exit_fee = fee_on_raw(awf, self.exit_fee_bps)?;
        let treasury_fee = fee_on_raw(awf, self.treasury_exit_fee_bps)?;
        let assets = awf.sub_c(exit_fee)?.sub_c(treasury_fee)?;
        self.apply_exit(Exit {
            shares,
            assets,
            treasury_fee,
        })
    }

    fn apply_exit(&mut self, x: Exit) -> PufferResult<Exit> {
        let liquid = self.liquid.sub_c(x.assets.add_c(x.treasury_fee)?)?;
        let supply = self.supply.sub_c(x.shares)?;
        let treasury = self.treasury_received.add_c(x.treasury_fee)?;
        self.liquid = liquid;
        self.supply = supply;
        self.treasury_received = treasury;
        Ok(x)
    }

    /// ETH sent to the vault without minting (a donation, or validator exits / rewards).
    pub fn receive_eth(&mut self, amount: U256) -> PufferResult<()> {
        self.liquid = self.liquid.add_c(amount)?;
        Ok(())
    }

    /// Provisions validators: `amount` liquid ETH leaves for the protocol and is counted as locked.
    ///
    /// Specification: fails with `InsufficientLiquidity` above the liquid ETH.
    pub fn provision(&mut self, amount: U256) -> PufferResult<()> {
        if amount > self.liquid {
            return Err(PufferError::InsufficientLiquidity {
                amount,
                liquid: self.liquid,
            });
        }
        let locked = self.locked.add_c(amount)?;
        self.liquid = self.liquid.sub_c(amount)?;
        self.locked = locked;
        Ok(())
    }

    /// Oracle report of the ETH locked in validators (restaking rewards raise it, slashing lowers it).
    pub fn report_locked_eth(&mut self, locked: U256) {
        self.locked = locked;
    }

    /// Backing rules.
    pub fn check_invariants(&self) -> Result<(), String> {
        ensure(
            self.exit_fee_bps <= MAX_EXIT_FEE_BASIS_POINTS && self.treasury_exit_fee_bps <= MAX_EXIT_FEE_BASIS_POINTS,
            || "puffer: exit fee above 2.5 %".into(),
        )?;
        ensure(self.tickets.keys().all(|&k| k < self.next_ticket), || {
            "puffer: ticket id at or above the next id".into()
        })?;
        // Redeeming the whole supply never pays more than the vault holds.
        let all = self
            .convert_to_assets(self.supply, Rounding::Floor)
            .map_err(|e| format!("puffer: {e}"))?;
        let total = self.total_assets().map_err(|e| format!("puffer: {e}"))?;
        ensure(all <= total, || {
            format!("puffer: supply redeems {all} of {total} assets")
        })
    }
}

impl Lrt for Puffer {
    type Error = PufferError;

    fn deposit(&mut self, amount: U256, _now: u64) -> PufferResult<U256> {
        self.deposit_assets(amount)
    }
    /// Redeems instantly (pufETH has no queue in V5) and holds the ETH as a ticket.
    fn request_withdrawal(&mut self, owner: &str, lrt_amount: U256, _now: u64) -> PufferResult<u64> {
        let id = self.next_ticket;
        let next_ticket = id.checked_add(1).ok_or(MathError::Overflow)?;
        let x = self.redeem(lrt_amount, lrt_amount)?;
        self.tickets.insert(id, (owner.into(), x.assets));
        self.next_ticket = next_ticket;
        Ok(id)
    }
    fn claim(&mut self, owner: &str, id: u64, _now: u64) -> PufferResult<U256> {
        match self.tickets.get(&id) {
            Some((o, amount)) if o == owner => {
                let amount = *amount;
                self.tickets.remove(&id);
                Ok(amount)
            }
            _ => Err(PufferError::UnknownTicket { id }),
        }
    }
    /// `convertToAssets(1e18)` (floor, before exit fees).
    fn rate(&self, _now: u64) -> PufferResult<U256> {
        if self.supply == U256::ZERO {
            return Ok(rate_of(U256::ZERO, U256::ZERO)?);
        }
        self.convert_to_assets(WAD, Rounding::Floor)
    }
    fn tvl(&self, _now: u64) -> PufferResult<U256> {
        self.total_assets()
    }
    fn supply(&self) -> U256 {
        self.supply
    }
    fn check_invariants(&self) -> Result<(), String> {
        Puffer::check_invariants(self)
    }
}
