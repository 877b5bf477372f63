//! `aave` — Aave v3 lending, current (v3.5) semantics (SPEC §7.3; `aave-dao/aave-v3-origin`).
//!
//! * **Reserves** carry the v3 configuration (LTV, liquidation threshold and bonus, reserve factor,
//!   liquidation protocol fee, supply/borrow caps, borrowable flag) and the
//!   `DefaultReserveInterestRateStrategyV2` parameters in bps (× 1e23 → ray).
//! * **Indices** are updated once per timestamp with the rates stored at the previous update:
//!   a linear liquidity index and a Taylor-compounded variable borrow index (v3.4+ form); the
//!   reserve factor of the accrued debt interest accrues to the treasury as scaled aTokens.
//! * **Balances are scaled.** aTokens and variable-debt tokens are ledger assets of kind
//!   [`AssetKind::Scaled`]: the ledger holds scaled balances, rounded as v3.5 `TokenMath.sol`
//!   (aToken mint floor / burn ceil, debt mint ceil / burn floor). The underlying of a reserve sits
//!   in the module account `aave:<symbol>`; the treasury is `aave:treasury`.
//! * **Account data** (collateral and debt in the 8-decimal base currency, health factor) are
//!   computed exactly as `GenericLogic.calculateUserAccountData`, with prices from a
//!   [`PriceSource`] the engine provides.
//! * **Liquidations** follow v3.3+ `LiquidationLogic`: 50 % close factor only when both sides
//!   ≥ $2,000 and HF > 0.95, the $1,000 dust rule, the protocol fee on the bonus, and bad debt
//!   burned into the reserve `deficit`.
//!
//! Rounding names follow `stake_math`: `half_up` is Aave's `rayMul`/`rayDiv`/`percentMul`,
//! `_down`/`_up` the v3.5 floor/ceil variants.

use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, AssetKind, Ledger, LedgerError, Reject};
use stake_math::{
    mul_div_down, mul_div_up, percent_div_half_up, percent_mul_half_up, pow10, ray_div_down, ray_div_half_up,
    ray_div_up, ray_mul_down, ray_mul_half_up, ray_mul_up, wad_div_half_up, Checked, MathError, MathResult, BPS, RAY,
    SECONDS_PER_YEAR, U256, WAD,
};
use std::collections::BTreeMap;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/// bps → ray factor of `DefaultReserveInterestRateStrategyV2._bpsToRay` (1e23).
pub const BPS_TO_RAY: U256 = U256::new(100_000_000_000_000_000_000_000);
/// `MAX_BORROW_RATE` of the V2 strategy: base + slope1 + slope2 ≤ 1000 % (in bps).
pub const MAX_BORROW_RATE_BPS: u32 = 100_000;
/// Health factor 1.0 (wad): below it a position is liquidatable, and no action may leave it there.
pub const HEALTH_FACTOR_LIQUIDATION_THRESHOLD: U256 = WAD;
/// `CLOSE_FACTOR_HF_THRESHOLD` = 0.95 (wad): at or below it the whole debt can be liquidated.
pub const CLOSE_FACTOR_HF_THRESHOLD: U256 = U256::new(950_000_000_000_000_000);
/// `DEFAULT_LIQUIDATION_CLOSE_FACTOR` = 50 % (bps).
pub const DEFAULT_LIQUIDATION_CLOSE_FACTOR_BPS: U256 = U256::new(5_000);
/// `MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD` = $2,000 in 8-decimal base currency.
pub const MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD: U256 = U256::new(200_000_000_000);
/// `MIN_LEFTOVER_BASE` = $1,000 in 8-decimal base currency.
pub const MIN_LEFTOVER_BASE: U256 = U256::new(100_000_000_000);
/// Name of the treasury account (receives the reserve factor and the liquidation protocol fee).
pub const TREASURY: &str = "aave:treasury";

// ---------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------

/// Where Aave reads prices: the price of one whole unit of `asset` in the base currency
/// (8 decimals, USD-like), as Aave's `IPriceOracleGetter.getAssetPrice`. The engine adapts its
/// oracle registry to this trait (stale or missing prices are an `Err` with a message).
pub trait PriceSource {
    /// Price of one whole `asset` in base currency (8 decimals) at time `now`.
    fn price_base(&self, asset: AssetId, now: u64) -> Result<U256, String>;
}

/// A fixed price table: the simplest [`PriceSource`] (tests, benchmarks, what-if scenarios).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticPrices {
    /// Price per asset, 8 decimals.
    pub prices: BTreeMap<AssetId, U256>,
}

impl StaticPrices {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the price of `asset` (8 decimals).
    pub fn set(&mut self, asset: AssetId, price_base: U256) {
        self.prices.insert(asset, price_base);
    }
}

impl PriceSource for StaticPrices {
    fn price_base(&self, asset: AssetId, _now: u64) -> Result<U256, String> {
        self.prices
            .get(&asset)
            .copied()
            .ok_or_else(|| format!("no price for asset #{}", asset.0))
    }
}

// ---------------------------------------------------------------------------------------------
// Pure math (calc)
// ---------------------------------------------------------------------------------------------

/// `MathUtils.calculateLinearInterest`: `RAY + ⌊rate·Δt / YEAR⌋` (ray).
pub fn linear_interest(rate_ray: U256, seconds: u64) -> MathResult<U256> {
    let accrued = rate_ray
        .mul_c(U256::from(seconds))?
        .div_c(U256::from(SECONDS_PER_YEAR))?;
    RAY.add_c(accrued)
}

/// `MathUtils.calculateCompoundedInterest` (v3.4+ Taylor form):
/// `x = ⌊rate·Δt / YEAR⌋; RAY + x + rayMul(x, x/2 + rayMul(x, x/6))` (ray; `rayMul` half up).
pub fn compounded_interest(rate_ray: U256, seconds: u64) -> MathResult<U256> {
    if seconds == 0 {
        return Ok(RAY);
    }
    let x = rate_ray
        .mul_c(U256::from(seconds))?
        .div_c(U256::from(SECONDS_PER_YEAR))?;
    let inner = (x / 2).add_c(ray_mul_half_up(x, x / 6)?)?;
    RAY.add_c(x)?.add_c(ray_mul_half_up(x, inner)?)
}

/// `DefaultReserveInterestRateStrategyV2.calculateInterestRates` with no deficit:
/// returns `(variable_rate_ray, liquidity_rate_ray)` for `debt` borrowed and `available` cash.
/// Parameters are in bps as the strategy stores them, and are refused as its setter
/// (`_setInterestRateParams`) and the configurator (`setReserveFactor`) refuse them.
pub fn rates(
    optimal_usage_bps: u32,
    base_bps: u32,
    slope1_bps: u32,
    slope2_bps: u32,
    reserve_factor_bps: u32,
    debt: U256,
    available: U256,
) -> AaveResult<(U256, U256)> {
    let strategy = RateStrategy {
        optimal_usage_bps,
        base_bps,
        slope1_bps,
        slope2_bps,
    };
    strategy.validate()?;
    if reserve_factor_bps > 10_000 {
        return Err(AaveError::InvalidConfig {
            reason: "reserve factor above 100 %".into(),
        });
    }
    Ok(strategy.rates(reserve_factor_bps, debt, available, U256::ZERO)?)
}

/// `10^decimals`.
pub(crate) fn unit(decimals: u8) -> MathResult<U256> {
    pow10(u32::from(decimals))
}

/// `PercentageMath.percentMulFloor`.
fn percent_mul_down(v: U256, p: U256) -> MathResult<U256> {
    v.mul_c(p)?.div_c(BPS)
}

/// `PercentageMath.percentDivCeil`.
fn percent_div_up(v: U256, p: U256) -> MathResult<U256> {
    v.mul_c(BPS)?.div_up_c(p)
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// `DefaultReserveInterestRateStrategyV2` parameters, in bps (1e4 = 100 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateStrategy {
    /// Optimal usage ratio `U*` (100–9 900 bps).
    pub optimal_usage_bps: u32,
    /// Base variable borrow rate.
    pub base_bps: u32,
    /// Slope below `U*`.
    pub slope1_bps: u32,
    /// Slope above `U*`.
    pub slope2_bps: u32,
}

impl RateStrategy {
    /// Specification: `DefaultReserveInterestRateStrategyV2._setInterestRateParams` —
    /// `MIN_OPTIMAL_POINT ≤ U* ≤ MAX_OPTIMAL_POINT` (1 %–99 %), `slope1 ≤ slope2`, and
    /// `base + slope1 + slope2 ≤ MAX_BORROW_RATE` (1000 %).
    pub fn validate(&self) -> AaveResult<()> {
        let bad = |reason: &str| {
            Err(AaveError::InvalidConfig {
                reason: reason.to_string(),
            })
        };
        if !(100..=9_900).contains(&self.optimal_usage_bps) {
            return bad("optimal usage outside 1 %–99 %");
        }
        if self.slope1_bps > self.slope2_bps {
            return bad("slope1 above slope2");
        }
        if u64::from(self.base_bps) + u64::from(self.slope1_bps) + u64::from(self.slope2_bps)
            > u64::from(MAX_BORROW_RATE_BPS)
        {
            return bad("max borrow rate above 1000 %");
        }
        Ok(())
    }

    /// Variable and liquidity rates (ray) for `debt` borrowed, `available` cash and `unbacked`
    /// (the reserve deficit, which dilutes the supply usage ratio as in v3.3+).
    pub fn rates(
        &self,
        reserve_factor_bps: u32,
        debt: U256,
        available: U256,
        unbacked: U256,
    ) -> MathResult<(U256, U256)> {
        let base = U256::from(self.base_bps).mul_c(BPS_TO_RAY)?;
        if debt == U256::ZERO {
            return Ok((base, U256::ZERO));
        }
        let optimal = U256::from(self.optimal_usage_bps).mul_c(BPS_TO_RAY)?;
        let slope1 = U256::from(self.slope1_bps).mul_c(BPS_TO_RAY)?;
        let slope2 = U256::from(self.slope2_bps).mul_c(BPS_TO_RAY)?;
        let available_plus_debt = available.add_c(debt)?;
        let borrow_usage = ray_div_half_up(debt, available_plus_debt)?;
        let supply_usage = ray_div_half_up(debt, available_plus_debt.add_c(unbacked)?)?;
        let variable = if borrow_usage > optimal {
            let excess = ray_div_half_up(borrow_usage - optimal, RAY.sub_c(optimal)?)?;
            base.add_c(slope1)?.add_c(ray_mul_half_up(slope2, excess)?)?
        } else {
            base.add_c(ray_div_half_up(ray_mul_half_up(slope1, borrow_usage)?, optimal)?)?
        };
        let rf = U256::from(reserve_factor_bps);
        let liquidity = percent_mul_half_up(ray_mul_half_up(variable, supply_usage)?, BPS.sub_c(rf)?)?;
        Ok((variable, liquidity))
    }
}

/// Static configuration of a reserve (Aave `ReserveConfigurationMap` + rate strategy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveConfig {
    /// Loan-to-value in bps (0 = cannot back new borrows).
    pub ltv_bps: u32,
    /// Liquidation threshold in bps.
    pub liquidation_threshold_bps: u32,
    /// Liquidation bonus in bps, 1e4 + bonus (e.g. 10 500 = 5 % bonus).
    pub liquidation_bonus_bps: u32,
    /// Reserve factor in bps (share of debt interest to the treasury).
    pub reserve_factor_bps: u32,
    /// Liquidation protocol fee in bps of the liquidation bonus.
    pub liquidation_protocol_fee_bps: u32,
    /// Supply cap in whole tokens (0 = no cap).
    pub supply_cap: U256,
    /// Borrow cap in whole tokens (0 = no cap).
    pub borrow_cap: U256,
    /// Whether the asset can be borrowed.
    pub borrowing_enabled: bool,
    /// Whether the reserve is active.
    pub active: bool,
    /// A frozen reserve accepts no new supply or borrow.
    pub frozen: bool,
    /// A paused reserve accepts nothing.
    pub paused: bool,
    /// Isolation-mode debt ceiling in USD with [`DEBT_CEILING_DECIMALS`] decimals (0 = not an
    /// isolated asset). A user whose only collateral is this reserve is in isolation mode.
    #[serde(default)]
    pub debt_ceiling: U256,
    /// Whether the asset may be borrowed by users in isolation mode.
    #[serde(default)]
    pub borrowable_in_isolation: bool,
    /// Siloed borrowing: a user borrowing this asset may borrow nothing else.
    #[serde(default)]
    pub siloed_borrowing: bool,
    /// Interest rate strategy.
    pub rate: RateStrategy,
}

/// `ReserveConfiguration.DEBT_CEILING_DECIMALS`: debt ceilings are USD with 2 decimals.
pub const DEBT_CEILING_DECIMALS: u8 = 2;
/// `ReserveConfiguration.MAX_VALID_DEBT_CEILING` (40 bits).
pub const MAX_VALID_DEBT_CEILING: u64 = 1_099_511_627_775;

/// Parameters of a reserve to list (see [`AaveV3::init_reserve`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveInit {
    /// Underlying symbol (`WETH`); names `aEth<symbol>`, `variableDebtEth<symbol>`, `aave:<symbol>`.
    pub symbol: String,
    /// Underlying asset.
    pub underlying: AssetId,
    /// Asset whose price the [`PriceSource`] is asked for (usually the underlying).
    pub price_asset: AssetId,
    /// Configuration.
    pub config: ReserveConfig,
}

/// Mutable state of one reserve (Aave `ReserveData`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserve {
    /// Reserve id = index in the reserve list (bit in the user bitmaps).
    pub id: u16,
    /// Underlying symbol.
    pub symbol: String,
    /// Underlying asset.
    pub underlying: AssetId,
    /// Asset priced by the [`PriceSource`].
    pub price_asset: AssetId,
    /// Decimals of the underlying.
    pub decimals: u8,
    /// aToken (scaled ledger asset).
    pub a_token: AssetId,
    /// Variable debt token (scaled ledger asset).
    pub debt_token: AssetId,
    /// Module account holding the underlying (`aave:<symbol>`).
    pub account: AccountId,
    /// Configuration.
    pub config: ReserveConfig,
    /// Liquidity index (ray).
    pub liquidity_index: U256,
    /// Variable borrow index (ray).
    pub variable_borrow_index: U256,
    /// Current liquidity rate (ray, per year).
    pub current_liquidity_rate: U256,
    /// Current variable borrow rate (ray, per year).
    pub current_variable_borrow_rate: U256,
    /// Timestamp of the last index update.
    pub last_update: u64,
    /// Scaled aTokens owed to the treasury, not yet minted.
    pub accrued_to_treasury: U256,
    /// Virtual underlying balance (cash the protocol accounts for).
    pub virtual_balance: U256,
    /// Bad debt burned and not yet covered (underlying units).
    pub deficit: U256,
    /// `isolationModeTotalDebt`: debt (USD, 2 decimals) borrowed against this isolated collateral.
    #[serde(default)]
    pub isolation_mode_total_debt: U256,
}

/// An e-mode category (v3.2+ liquid e-modes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EModeCategory {
    /// Label.
    pub label: String,
    /// LTV in bps for collateral in the category.
    pub ltv_bps: u32,
    /// Liquidation threshold in bps.
    pub liquidation_threshold_bps: u32,
    /// Liquidation bonus in bps (1e4 + bonus).
    pub liquidation_bonus_bps: u32,
    /// Bitmap of reserve ids whose collateral gets the category parameters.
    pub collateral_bitmap: u128,
    /// Bitmap of reserve ids borrowable in the category.
    pub borrowable_bitmap: u128,
}

/// A user's flags (Aave `UserConfigurationMap`) and e-mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserConfig {
    /// Bit `id` set: reserve `id` is used as collateral.
    pub collateral: u128,
    /// Bit `id` set: the user borrows reserve `id`.
    pub borrowing: u128,
    /// Chosen e-mode category (0 = none).
    pub emode: u8,
}

impl UserConfig {
    pub(crate) fn is_collateral(&self, id: u16) -> bool {
        self.collateral & (1u128 << id) != 0
    }
    pub(crate) fn is_borrowing(&self, id: u16) -> bool {
        self.borrowing & (1u128 << id) != 0
    }
    fn set_collateral(&mut self, id: u16, on: bool) {
        if on {
            self.collateral |= 1u128 << id;
        } else {
            self.collateral &= !(1u128 << id);
        }
    }
    fn set_borrowing(&mut self, id: u16, on: bool) {
        if on {
            self.borrowing |= 1u128 << id;
        } else {
            self.borrowing &= !(1u128 << id);
        }
    }
    fn is_empty(&self) -> bool {
        self.collateral == 0 && self.borrowing == 0
    }
}

/// Result of `calculateUserAccountData`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountData {
    /// Σ collateral in base currency (8 decimals).
    pub total_collateral_base: U256,
    /// Σ debt in base currency (8 decimals).
    pub total_debt_base: U256,
    /// Weighted average LTV (bps).
    pub avg_ltv_bps: U256,
    /// Weighted average liquidation threshold (bps).
    pub avg_liquidation_threshold_bps: U256,
    /// Health factor (wad); `U256::MAX` without debt.
    pub health_factor: U256,
    /// Whether some enabled collateral has LTV 0.
    pub has_zero_ltv_collateral: bool,
}

impl AccountData {
    /// `GenericLogic.calculateAvailableBorrows`: `percentMulFloor(collateral, ltv) − debt`, or 0.
    pub fn available_borrows_base(&self) -> MathResult<U256> {
        let cap = percent_mul_down(self.total_collateral_base, self.avg_ltv_bps)?;
        Ok(cap.checked_sub(self.total_debt_base).unwrap_or(U256::ZERO))
    }
}

// ---------------------------------------------------------------------------------------------
// Events and errors
// ---------------------------------------------------------------------------------------------

/// Events of the Aave model (as the `IPool` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AaveEvent {
    /// A reserve was listed.
    ReserveInitialized {
        /// Underlying.
        asset: AssetId,
        /// aToken.
        a_token: AssetId,
        /// Variable debt token.
        debt_token: AssetId,
    },
    /// Underlying supplied, aTokens minted.
    Supply {
        /// Reserve.
        asset: AssetId,
        /// Supplier.
        user: AccountId,
        /// Underlying amount.
        amount: U256,
        /// Scaled aTokens minted.
        scaled: U256,
    },
    /// aTokens burned, underlying withdrawn.
    Withdraw {
        /// Reserve.
        asset: AssetId,
        /// User.
        user: AccountId,
        /// Underlying amount.
        amount: U256,
        /// Scaled aTokens burned.
        scaled: U256,
    },
    /// Variable debt minted, underlying sent.
    Borrow {
        /// Reserve.
        asset: AssetId,
        /// Borrower.
        user: AccountId,
        /// Amount.
        amount: U256,
        /// Scaled debt minted.
        scaled: U256,
        /// Variable borrow rate after the borrow (ray).
        borrow_rate: U256,
    },
    /// Debt repaid.
    Repay {
        /// Reserve.
        asset: AssetId,
        /// Borrower.
        user: AccountId,
        /// Amount repaid.
        amount: U256,
        /// Whether aTokens paid.
        use_a_tokens: bool,
    },
    /// Collateral use switched on.
    CollateralEnabled {
        /// Reserve.
        asset: AssetId,
        /// User.
        user: AccountId,
    },
    /// Collateral use switched off.
    CollateralDisabled {
        /// Reserve.
        asset: AssetId,
        /// User.
        user: AccountId,
    },
    /// E-mode category chosen.
    UserEModeSet {
        /// User.
        user: AccountId,
        /// Category (0 = none).
        category: u8,
    },
    /// A liquidation.
    LiquidationCall {
        /// Collateral reserve.
        collateral_asset: AssetId,
        /// Debt reserve.
        debt_asset: AssetId,
        /// Borrower.
        user: AccountId,
        /// Liquidator.
        liquidator: AccountId,
        /// Debt repaid by the liquidator.
        debt_to_cover: U256,
        /// Collateral sent to the liquidator (after the protocol fee).
        liquidated_collateral: U256,
        /// Protocol fee (collateral units, as aTokens to the treasury).
        protocol_fee: U256,
        /// Whether the liquidator took aTokens.
        receive_a_token: bool,
    },
    /// Bad debt burned into the reserve deficit.
    DeficitCreated {
        /// Borrower.
        user: AccountId,
        /// Reserve.
        asset: AssetId,
        /// Amount.
        amount: U256,
    },
    /// Accrued treasury aTokens minted.
    MintedToTreasury {
        /// Reserve.
        asset: AssetId,
        /// Scaled aTokens.
        scaled: U256,
    },
}

/// A rejected Aave action. Codes 6200–6399 (ledger and math errors keep their own codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AaveError {
    /// No reserve for this underlying.
    UnknownReserve {
        /// Underlying.
        asset: AssetId,
    },
    /// The underlying already has a reserve.
    ReserveAlreadyListed {
        /// Underlying.
        asset: AssetId,
    },
    /// Amount (or its scaled value) is zero, or the reserve cannot cover it.
    InvalidAmount,
    /// Reserve inactive.
    ReserveInactive {
        /// Underlying.
        asset: AssetId,
    },
    /// Reserve frozen.
    ReserveFrozen {
        /// Underlying.
        asset: AssetId,
    },
    /// Reserve paused.
    ReservePaused {
        /// Underlying.
        asset: AssetId,
    },
    /// Borrowing is not enabled on the reserve.
    BorrowingNotEnabled {
        /// Underlying.
        asset: AssetId,
    },
    /// Supply would exceed the cap.
    SupplyCapExceeded {
        /// Cap in base units of the underlying.
        cap: U256,
        /// Total supply after the action.
        total_after: U256,
    },
    /// Borrow would exceed the cap.
    BorrowCapExceeded {
        /// Cap in base units.
        cap: U256,
        /// Total debt after the action.
        total_after: U256,
    },
    /// Withdrawing more than the balance.
    NotEnoughAvailableUserBalance {
        /// Scaled amount asked.
        requested_scaled: U256,
        /// Scaled balance held.
        balance_scaled: U256,
    },
    /// The reserve holds less cash than asked.
    InsufficientLiquidity {
        /// Cash available.
        available: U256,
        /// Amount asked.
        requested: U256,
    },
    /// The user's average LTV is 0, or a zero-LTV collateral blocks the action.
    LtvValidationFailed,
    /// The action would leave HF < 1.
    HealthFactorLowerThanLiquidationThreshold {
        /// Health factor after the action (wad).
        health_factor: U256,
    },
    /// Collateral does not cover the debt at the LTV.
    CollateralCannotCoverNewBorrow {
        /// Collateral (base currency).
        collateral_base: U256,
        /// `percentDivCeil(debt, ltv)` (base currency).
        required_base: U256,
    },
    /// The user has no debt in this reserve.
    NoDebtOfSelectedType {
        /// Underlying.
        asset: AssetId,
    },
    /// The asset is not borrowable in the user's e-mode category.
    NotBorrowableInEMode {
        /// Category.
        category: u8,
        /// Underlying.
        asset: AssetId,
    },
    /// The e-mode category does not exist.
    InconsistentEModeCategory {
        /// Category.
        category: u8,
    },
    /// Enabling as collateral with a zero balance.
    UnderlyingBalanceZero,
    /// The reserve's LTV is 0, or the user is in isolation mode / the reserve is isolated and
    /// the user has other collateral: it cannot be enabled as collateral.
    UserInIsolationModeOrLtvZero,
    /// A user in isolation mode borrows an asset not borrowable in isolation.
    AssetNotBorrowableInIsolation {
        /// Underlying.
        asset: AssetId,
    },
    /// The isolated collateral's debt ceiling would be exceeded.
    DebtCeilingExceeded {
        /// Ceiling (USD, 2 decimals).
        ceiling: U256,
        /// Isolated debt after the borrow (USD, 2 decimals).
        total_after: U256,
    },
    /// Siloed borrowing: a siloed asset borrowed with another one.
    SiloedBorrowingViolation {
        /// Underlying.
        asset: AssetId,
    },
    /// Liquidation of a healthy position.
    HealthFactorNotBelowThreshold {
        /// Health factor (wad).
        health_factor: U256,
    },
    /// The collateral is not enabled by the borrower (or has LT 0).
    CollateralCannotBeLiquidated,
    /// The borrower has no debt in the debt reserve.
    SpecifiedCurrencyNotBorrowedByUser,
    /// The liquidation would leave dust below `MIN_LEFTOVER_BASE` on one side.
    MustNotLeaveDust {
        /// Debt left (base currency).
        debt_left_base: U256,
        /// Collateral left (base currency).
        collateral_left_base: U256,
    },
    /// A user liquidating itself.
    SelfLiquidation,
    /// `now` is before the reserve's last update.
    TimeWentBackwards {
        /// Last update.
        last_update: u64,
        /// Time given.
        now: u64,
    },
    /// The price source failed.
    Price {
        /// Asset priced.
        asset: AssetId,
        /// Its message.
        message: String,
    },
    /// Invalid configuration.
    InvalidConfig {
        /// Why.
        reason: String,
    },
    /// More than 128 reserves.
    TooManyReserves,
    /// Ledger failure (boxed: it carries names and amounts).
    Ledger(Box<LedgerError>),
    /// Arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for AaveError {
    fn from(e: LedgerError) -> Self {
        AaveError::Ledger(Box::new(e))
    }
}

impl From<MathError> for AaveError {
    fn from(e: MathError) -> Self {
        AaveError::Math(e)
    }
}

impl fmt::Display for AaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AaveError::*;
        match self {
            UnknownReserve { asset } => write!(f, "aave: no reserve for asset #{}", asset.0),
            ReserveAlreadyListed { asset } => write!(f, "aave: asset #{} is already listed", asset.0),
            InvalidAmount => write!(f, "aave: invalid amount"),
            ReserveInactive { asset } => write!(f, "aave: reserve #{} is inactive", asset.0),
            ReserveFrozen { asset } => write!(f, "aave: reserve #{} is frozen", asset.0),
            ReservePaused { asset } => write!(f, "aave: reserve #{} is paused", asset.0),
            BorrowingNotEnabled { asset } => write!(f, "aave: borrowing is not enabled on #{}", asset.0),
            SupplyCapExceeded { cap, total_after } => {
                write!(f, "aave: supply cap exceeded: {total_after} > cap {cap}")
            }
            BorrowCapExceeded { cap, total_after } => {
                write!(f, "aave: borrow cap exceeded: {total_after} > cap {cap}")
            }
            NotEnoughAvailableUserBalance { requested_scaled, balance_scaled } => write!(
                f,
                "aave: not enough balance: {requested_scaled} scaled requested, {balance_scaled} held"
            ),
            InsufficientLiquidity { available, requested } => {
                write!(f, "aave: insufficient liquidity: {requested} requested, {available} available")
            }
            LtvValidationFailed => write!(f, "aave: LTV validation failed"),
            HealthFactorLowerThanLiquidationThreshold { health_factor } => {
                write!(f, "aave: health factor {health_factor} would be below 1e18")
            }
            CollateralCannotCoverNewBorrow { collateral_base, required_base } => write!(
                f,
                "aave: collateral {collateral_base} (base) cannot cover the borrow, {required_base} required"
            ),
            NoDebtOfSelectedType { asset } => write!(f, "aave: no debt in reserve #{}", asset.0),
            NotBorrowableInEMode { category, asset } => {
                write!(f, "aave: asset #{} is not borrowable in e-mode {category}", asset.0)
            }
            InconsistentEModeCategory { category } => write!(f, "aave: e-mode category {category} does not exist"),
            UnderlyingBalanceZero => write!(f, "aave: zero balance cannot be collateral"),
            UserInIsolationModeOrLtvZero => write!(
                f,
                "aave: reserve cannot be enabled as collateral (LTV 0, or isolation mode with other collateral)"
            ),
            AssetNotBorrowableInIsolation { asset } => {
                write!(f, "aave: asset #{} is not borrowable in isolation mode", asset.0)
            }
            DebtCeilingExceeded { ceiling, total_after } => write!(
                f,
                "aave: isolated debt {total_after} would exceed the debt ceiling {ceiling} (USD, 2 decimals)"
            ),
            SiloedBorrowingViolation { asset } => {
                write!(f, "aave: siloed borrowing: asset #{} cannot be borrowed with another asset", asset.0)
            }
            HealthFactorNotBelowThreshold { health_factor } => {
                write!(f, "aave: health factor {health_factor} is not below 1e18")
            }
            CollateralCannotBeLiquidated => write!(f, "aave: collateral cannot be liquidated"),
            SpecifiedCurrencyNotBorrowedByUser => write!(f, "aave: the borrower has no debt in this reserve"),
            MustNotLeaveDust { debt_left_base, collateral_left_base } => write!(
                f,
                "aave: liquidation would leave dust (debt {debt_left_base}, collateral {collateral_left_base} base; min {MIN_LEFTOVER_BASE})"
            ),
            SelfLiquidation => write!(f, "aave: self-liquidation"),
            TimeWentBackwards { last_update, now } => {
                write!(f, "aave: time {now} is before the last update {last_update}")
            }
            Price { asset, message } => write!(f, "aave: price of #{} unavailable: {message}", asset.0),
            InvalidConfig { reason } => write!(f, "aave: invalid configuration: {reason}"),
            TooManyReserves => write!(f, "aave: at most 128 reserves"),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AaveError {}

impl Reject for AaveError {
    fn code(&self) -> u32 {
        use AaveError::*;
        match self {
            UnknownReserve { .. } => 6200,
            ReserveAlreadyListed { .. } => 6201,
            InvalidAmount => 6202,
            ReserveInactive { .. } => 6203,
            ReserveFrozen { .. } => 6204,
            ReservePaused { .. } => 6205,
            BorrowingNotEnabled { .. } => 6206,
            SupplyCapExceeded { .. } => 6207,
            BorrowCapExceeded { .. } => 6208,
            NotEnoughAvailableUserBalance { .. } => 6209,
            InsufficientLiquidity { .. } => 6210,
            LtvValidationFailed => 6211,
            HealthFactorLowerThanLiquidationThreshold { .. } => 6212,
            CollateralCannotCoverNewBorrow { .. } => 6213,
            NoDebtOfSelectedType { .. } => 6214,
            NotBorrowableInEMode { .. } => 6215,
            InconsistentEModeCategory { .. } => 6216,
            UnderlyingBalanceZero => 6217,
            UserInIsolationModeOrLtvZero => 6218,
            HealthFactorNotBelowThreshold { .. } => 6219,
            CollateralCannotBeLiquidated => 6220,
            SpecifiedCurrencyNotBorrowedByUser => 6221,
            MustNotLeaveDust { .. } => 6222,
            SelfLiquidation => 6223,
            TimeWentBackwards { .. } => 6224,
            Price { .. } => 6225,
            InvalidConfig { .. } => 6226,
            TooManyReserves => 6227,
            AssetNotBorrowableInIsolation { .. } => 6228,
            DebtCeilingExceeded { .. } => 6229,
            SiloedBorrowingViolation { .. } => 6230,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}

/// Result of an Aave operation.
pub type AaveResult<T> = Result<T, AaveError>;

// ---------------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------------

/// A reserve's figures for reports (floats only here, never in state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReserveReport {
    /// Underlying symbol.
    pub symbol: String,
    /// aToken supply incl. treasury accruals, in underlying units (floor).
    pub total_supplied: U256,
    /// Variable debt in underlying units (ceil).
    pub total_debt: U256,
    /// Cash (virtual balance).
    pub cash: U256,
    /// Deficit.
    pub deficit: U256,
    /// Borrow usage ratio `debt / (cash + debt)` (ray).
    pub utilization_ray: U256,
    /// Variable borrow rate (ray, APR).
    pub variable_rate_ray: U256,
    /// Liquidity rate (ray, APR).
    pub liquidity_rate_ray: U256,
    /// Supply APY `(1 + r/YEAR)^YEAR − 1`, for display.
    pub supply_apy: f64,
    /// Borrow APY, for display.
    pub borrow_apy: f64,
}

/// Counters kept for reporting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AaveStats {
    /// Liquidations executed.
    pub liquidations: u64,
    /// Liquidations that created a deficit.
    pub bad_debt_events: u64,
}

// ---------------------------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------------------------

/// The Aave v3 pool: reserves, e-mode categories, user configurations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AaveV3 {
    /// Reserves by id.
    pub reserves: Vec<Reserve>,
    /// E-mode categories by id (1..=255).
    pub emodes: BTreeMap<u8, EModeCategory>,
    /// User flags.
    pub users: imbl::OrdMap<AccountId, UserConfig>,
    /// Treasury account.
    pub treasury: Option<AccountId>,
    /// Counters.
    pub stats: AaveStats,
    /// Borrowers by a health-factor bound (derived from the users and the ledger, kept in step
    /// by every operation; not part of the state). See [`crate::aave_index`].
    #[serde(skip, default = "crate::aave_index::AaveIndex::unbuilt")]
    pub index: crate::aave_index::AaveIndex,
}

pub(crate) fn is_bit(bitmap: u128, id: u16) -> bool {
    bitmap & (1u128 << id) != 0
}

impl AaveV3 {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    // ----- listing -----

    /// Lists a reserve: registers `aEth<symbol>` and `variableDebtEth<symbol>` (scaled ledger
    /// assets issued by `aave`) and the module account `aave:<symbol>`.
    ///
    /// Specification:
    /// - fails with [`AaveError::ReserveAlreadyListed`] if the underlying has a reserve;
    /// - fails with [`AaveError::InvalidConfig`] if LT < LTV, LT·LB > 100 %, LB < 100 %, RF or fee > 100 %,
    ///   `U*` outside 1 %–99 %, slope1 > slope2 or base + slopes > 1000 %;
    /// - fails with [`AaveError::TooManyReserves`] past 128 reserves, or a ledger error if the
    ///   token symbols exist.
    pub fn init_reserve(&mut self, ledger: &mut Ledger, init: ReserveInit, now: u64) -> AaveResult<Vec<AaveEvent>> {
        if self.reserves.iter().any(|r| r.underlying == init.underlying) {
            return Err(AaveError::ReserveAlreadyListed { asset: init.underlying });
        }
        if self.reserves.len() >= 128 {
            return Err(AaveError::TooManyReserves);
        }
        validate_config(&init.config)?;
        let decimals = ledger.asset_info(init.underlying)?.decimals;
        let (a_token, debt_token, account, treasury) = ledger.atomic(|l| {
            let a = l.register_asset(&format!("aEth{}", init.symbol), decimals, "aave", AssetKind::Scaled)?;
            let d = l.register_asset(
                &format!("variableDebtEth{}", init.symbol),
                decimals,
                "aave",
                AssetKind::Scaled,
            )?;
            let acct = l.account(&format!("aave:{}", init.symbol));
            let t = l.account(TREASURY);
            Ok::<_, AaveError>((a, d, acct, t))
        })?;
        let id = u16::try_from(self.reserves.len()).map_err(|_| AaveError::TooManyReserves)?;
        self.treasury = Some(treasury);
        self.reserves.push(Reserve {
            id,
            symbol: init.symbol,
            underlying: init.underlying,
            price_asset: init.price_asset,
            decimals,
            a_token,
            debt_token,
            account,
            config: init.config,
            liquidity_index: RAY,
            variable_borrow_index: RAY,
            current_liquidity_rate: U256::ZERO,
            current_variable_borrow_rate: U256::ZERO,
            last_update: now,
            accrued_to_treasury: U256::ZERO,
            virtual_balance: U256::ZERO,
            deficit: U256::ZERO,
            isolation_mode_total_debt: U256::ZERO,
        });
        // A fresh reserve pays the base rate on nothing: rates as the strategy gives for zero debt.
        let r = &mut self.reserves[id as usize];
        let (var, liq) = r
            .config
            .rate
            .rates(r.config.reserve_factor_bps, U256::ZERO, U256::ZERO, U256::ZERO)?;
        r.current_variable_borrow_rate = var;
        r.current_liquidity_rate = liq;
        Ok(vec![AaveEvent::ReserveInitialized {
            asset: init.underlying,
            a_token,
            debt_token,
        }])
    }

    /// Replaces a reserve's configuration (governance). Indices are brought to `now` first so
    /// the old parameters apply to the past.
    ///
    /// Specification:
    /// - fails with [`AaveError::UnknownReserve`], [`AaveError::InvalidConfig`] (as
    ///   [`AaveV3::init_reserve`]) or [`AaveError::TimeWentBackwards`].
    pub fn set_reserve_config(
        &mut self,
        ledger: &Ledger,
        asset: AssetId,
        config: ReserveConfig,
        now: u64,
    ) -> AaveResult<()> {
        let i = self.reserve_index(asset)?;
        validate_config(&config)?;
        let mut r = self.reserves[i].clone();
        update_state(&mut r, ledger, now)?;
        r.config = config;
        update_rates(&mut r, ledger, U256::ZERO, U256::ZERO)?;
        self.reserves[i] = r;
        Ok(())
    }

    /// Defines or replaces e-mode category `id` (1..=255). Bitmaps are built from the listed
    /// underlyings.
    ///
    /// Specification:
    /// - fails with [`AaveError::InvalidConfig`] for id 0, LT < LTV, LB ≤ 100 % or `percentMul(LT, LB)` > 100 %;
    /// - fails with [`AaveError::UnknownReserve`] if an asset is not listed.
    #[allow(clippy::too_many_arguments)]
    pub fn set_emode_category(
        &mut self,
        id: u8,
        label: &str,
        ltv_bps: u32,
        liquidation_threshold_bps: u32,
        liquidation_bonus_bps: u32,
        collateral_assets: &[AssetId],
        borrowable_assets: &[AssetId],
    ) -> AaveResult<()> {
        if id == 0 {
            return Err(AaveError::InvalidConfig {
                reason: "e-mode category 0 is reserved".into(),
            });
        }
        check_ltv_lt_lb(ltv_bps, liquidation_threshold_bps, liquidation_bonus_bps)?;
        let mut collateral_bitmap = 0u128;
        for a in collateral_assets {
            collateral_bitmap |= 1u128 << self.reserves[self.reserve_index(*a)?].id;
        }
        let mut borrowable_bitmap = 0u128;
        for a in borrowable_assets {
            borrowable_bitmap |= 1u128 << self.reserves[self.reserve_index(*a)?].id;
        }
        self.emodes.insert(
            id,
            EModeCategory {
                label: label.to_string(),
                ltv_bps,
                liquidation_threshold_bps,
                liquidation_bonus_bps,
                collateral_bitmap,
                borrowable_bitmap,
            },
        );
        Ok(())
    }

    /// Mainnet-like preset (Aave Ethereum Core, 2025, rounded): WETH, wstETH and weETH reserves,
    /// e-mode 1 "wstETH/ETH" (93.5 %/95.5 %/1 %) and e-mode 2 "weETH/ETH" (93 %/95 %/1 %), both
    /// borrowing WETH. Each reserve prices its own underlying.
    ///
    /// Specification:
    /// - fails as [`AaveV3::init_reserve`] (e.g. the token symbols already exist).
    pub fn mainnet_like(
        ledger: &mut Ledger,
        weth: AssetId,
        wsteth: AssetId,
        weeth: AssetId,
        now: u64,
    ) -> AaveResult<Self> {
        let mut pool = AaveV3::new();
        let whole = |n: u128| U256::from(n);
        let mk = |ltv, lt, lb, rf, cap_s: u128, cap_b: u128, borrowable, rate| ReserveConfig {
            ltv_bps: ltv,
            liquidation_threshold_bps: lt,
            liquidation_bonus_bps: lb,
            reserve_factor_bps: rf,
            liquidation_protocol_fee_bps: 1_000,
            supply_cap: whole(cap_s),
            borrow_cap: whole(cap_b),
            borrowing_enabled: borrowable,
            active: true,
            frozen: false,
            paused: false,
            debt_ceiling: U256::ZERO,
            borrowable_in_isolation: false,
            siloed_borrowing: false,
            rate,
        };
        let weth_cfg = mk(
            8_050,
            8_300,
            10_500,
            1_500,
            3_200_000,
            2_900_000,
            true,
            RateStrategy {
                optimal_usage_bps: 9_000,
                base_bps: 0,
                slope1_bps: 270,
                slope2_bps: 8_000,
            },
        );
        let wsteth_cfg = mk(
            7_850,
            8_100,
            10_600,
            500,
            1_200_000,
            12_000,
            true,
            RateStrategy {
                optimal_usage_bps: 9_000,
                base_bps: 0,
                slope1_bps: 150,
                slope2_bps: 8_500,
            },
        );
        let weeth_cfg = mk(
            7_250,
            7_500,
            10_750,
            4_500,
            2_400_000,
            0,
            false,
            RateStrategy {
                optimal_usage_bps: 3_500,
                base_bps: 0,
                slope1_bps: 700,
                slope2_bps: 30_000,
            },
        );
        for (symbol, asset, config) in [
            ("WETH", weth, weth_cfg),
            ("wstETH", wsteth, wsteth_cfg),
            ("weETH", weeth, weeth_cfg),
        ] {
            pool.init_reserve(
                ledger,
                ReserveInit {
                    symbol: symbol.to_string(),
                    underlying: asset,
                    price_asset: asset,
                    config,
                },
                now,
            )?;
        }
        pool.set_emode_category(1, "wstETH/ETH", 9_350, 9_550, 10_100, &[wsteth, weth], &[weth])?;
        pool.set_emode_category(2, "weETH/ETH", 9_300, 9_500, 10_100, &[weeth, weth], &[weth])?;
        Ok(pool)
    }

    // ----- lookups -----

    /// Index of the reserve of `asset`.
    pub fn reserve_index(&self, asset: AssetId) -> AaveResult<usize> {
        self.reserves
            .iter()
            .position(|r| r.underlying == asset)
            .ok_or(AaveError::UnknownReserve { asset })
    }

    /// The reserve of `asset`.
    pub fn reserve(&self, asset: AssetId) -> AaveResult<&Reserve> {
        Ok(&self.reserves[self.reserve_index(asset)?])
    }

    /// The user's configuration (default if unknown).
    pub fn user_config(&self, user: AccountId) -> UserConfig {
        self.users.get(&user).copied().unwrap_or_default()
    }

    /// The user's aToken balance in underlying units (`balanceOf`, floor) at `now`.
    pub fn a_token_balance(&self, ledger: &Ledger, user: AccountId, asset: AssetId, now: u64) -> AaveResult<U256> {
        let r = self.reserve(asset)?;
        Ok(ray_mul_down(
            ledger.balance(user, r.a_token),
            normalized_income(r, now)?,
        )?)
    }

    /// The user's variable debt in underlying units (`balanceOf`, ceil) at `now`.
    pub fn debt_balance(&self, ledger: &Ledger, user: AccountId, asset: AssetId, now: u64) -> AaveResult<U256> {
        let r = self.reserve(asset)?;
        Ok(ray_mul_up(
            ledger.balance(user, r.debt_token),
            normalized_debt(r, now)?,
        )?)
    }

    /// `calculateUserAccountData` for `user` at `now` (view: no index is written).
    ///
    /// Specification:
    /// - fails with [`AaveError::Price`] if a needed price is missing, or a math error.
    pub fn account_data(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        now: u64,
    ) -> AaveResult<AccountData> {
        let cfg = self.user_config(user);
        self.account_data_with(ledger, prices, user, cfg, now)
    }

    pub(crate) fn account_data_with(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        cfg: UserConfig,
        now: u64,
    ) -> AaveResult<AccountData> {
        if cfg.is_empty() {
            return Ok(AccountData {
                total_collateral_base: U256::ZERO,
                total_debt_base: U256::ZERO,
                avg_ltv_bps: U256::ZERO,
                avg_liquidation_threshold_bps: U256::ZERO,
                health_factor: U256::MAX,
                has_zero_ltv_collateral: false,
            });
        }
        let emode = if cfg.emode != 0 {
            self.emodes.get(&cfg.emode)
        } else {
            None
        };
        let mut total_collateral = U256::ZERO;
        let mut total_debt = U256::ZERO;
        let mut ltv_sum = U256::ZERO;
        let mut lt_sum = U256::ZERO;
        let mut has_zero_ltv = false;
        for r in &self.reserves {
            let is_coll = cfg.is_collateral(r.id);
            let is_borrow = cfg.is_borrowing(r.id);
            if !is_coll && !is_borrow {
                continue;
            }
            let unit = unit(r.decimals)?;
            let price = price_of(prices, r.price_asset, now)?;
            if r.config.liquidation_threshold_bps != 0 && is_coll {
                let balance = ray_mul_down(ledger.balance(user, r.a_token), normalized_income(r, now)?)?;
                let value = balance.mul_c(price)?.div_c(unit)?;
                total_collateral = total_collateral.add_c(value)?;
                let in_emode = emode.map(|e| is_bit(e.collateral_bitmap, r.id));
                let (ltv, lt) = match (in_emode, emode) {
                    (Some(true), Some(e)) => (e.ltv_bps, e.liquidation_threshold_bps),
                    _ => (r.config.ltv_bps, r.config.liquidation_threshold_bps),
                };
                if r.config.ltv_bps != 0 {
                    ltv_sum = ltv_sum.add_c(value.mul_c(U256::from(ltv))?)?;
                } else {
                    has_zero_ltv = true;
                }
                lt_sum = lt_sum.add_c(value.mul_c(U256::from(lt))?)?;
            }
            if is_borrow {
                let debt = ray_mul_up(ledger.balance(user, r.debt_token), normalized_debt(r, now)?)?;
                total_debt = total_debt.add_c(mul_div_up(debt, price, unit)?)?;
            }
        }
        let health_factor = if total_debt == U256::ZERO {
            U256::MAX
        } else {
            wad_div_half_up(lt_sum, total_debt)? / BPS
        };
        let (avg_ltv, avg_lt) = if total_collateral != U256::ZERO {
            (ltv_sum / total_collateral, lt_sum / total_collateral)
        } else {
            (U256::ZERO, U256::ZERO)
        };
        Ok(AccountData {
            total_collateral_base: total_collateral,
            total_debt_base: total_debt,
            avg_ltv_bps: avg_ltv,
            avg_liquidation_threshold_bps: avg_lt,
            health_factor,
            has_zero_ltv_collateral: has_zero_ltv,
        })
    }

    // ----- atomic wrapper -----

    /// Runs `f` on the pool and the ledger; on `Err` restores the reserves, the counters, the
    /// configurations of `users`, the liquidation index and every ledger change; on `Ok`
    /// re-keys `users` and the treasury in the liquidation index (the only accounts whose Aave
    /// balances or flags an operation changes).
    fn transact<T>(
        &mut self,
        ledger: &mut Ledger,
        users: &[AccountId],
        reserves: Option<&[usize]>,
        f: impl FnOnce(&mut Self, &mut Ledger) -> AaveResult<T>,
    ) -> AaveResult<T> {
        // Only the reserves an operation can touch are saved (all of them for liquidations).
        let saved_reserves: Vec<(usize, Reserve)> = match reserves {
            Some(ids) => ids.iter().map(|&i| (i, self.reserves[i].clone())).collect(),
            None => self.reserves.iter().cloned().enumerate().collect(),
        };
        let saved_stats = self.stats.clone();
        let saved_users: Vec<(AccountId, Option<UserConfig>)> =
            users.iter().map(|u| (*u, self.users.get(u).copied())).collect();
        let saved_index = self.index.clone();
        let cp = ledger.checkpoint();
        match f(self, ledger) {
            Ok(v) => {
                ledger.commit(cp);
                self.reindex(ledger, users);
                if let Some(t) = self.treasury {
                    self.reindex(ledger, &[t]);
                }
                Ok(v)
            }
            Err(e) => {
                ledger.rollback(cp);
                self.index = saved_index;
                for (i, r) in saved_reserves {
                    self.reserves[i] = r;
                }
                self.stats = saved_stats;
                for (u, c) in saved_users {
                    match c {
                        Some(c) => {
                            self.users.insert(u, c);
                        }
                        None => {
                            self.users.remove(&u);
                        }
                    }
                }
                Err(e)
            }
        }
    }

    fn set_user(&mut self, user: AccountId, cfg: UserConfig) {
        self.users.insert(user, cfg);
    }

    /// `UserConfiguration.getIsolationModeState`: in isolation mode when exactly one reserve is
    /// collateral and it has a debt ceiling; returns that reserve's index and its ceiling.
    fn isolation_mode_state(&self, cfg: &UserConfig) -> Option<(usize, U256)> {
        if cfg.collateral.count_ones() != 1 {
            return None;
        }
        let id = cfg.collateral.trailing_zeros();
        let k = self.reserves.iter().position(|r| u32::from(r.id) == id)?;
        let ceiling = self.reserves[k].config.debt_ceiling;
        (ceiling != U256::ZERO).then_some((k, ceiling))
    }

    /// `UserConfiguration.getSiloedBorrowingState`: when the user borrows exactly one asset and
    /// it is siloed, that asset.
    fn siloed_borrowing_asset(&self, cfg: &UserConfig) -> Option<AssetId> {
        if cfg.borrowing.count_ones() != 1 {
            return None;
        }
        let id = cfg.borrowing.trailing_zeros();
        self.reserves
            .iter()
            .find(|r| u32::from(r.id) == id && r.config.siloed_borrowing)
            .map(|r| r.underlying)
    }

    /// `ValidationLogic.validateUseAsCollateral` (v3.6): the reserve's LTV is not 0, and either
    /// the user has no collateral yet or it is not in isolation mode and the reserve has no
    /// debt ceiling.
    fn can_use_as_collateral(&self, cfg: &UserConfig, k: usize) -> bool {
        let c = &self.reserves[k].config;
        if c.ltv_bps == 0 {
            return false;
        }
        if cfg.collateral == 0 {
            return true;
        }
        self.isolation_mode_state(cfg).is_none() && c.debt_ceiling == U256::ZERO
    }

    /// `ValidationLogic.validateAutomaticUseAsCollateral` (v3.6, "isolated collaterals"): an
    /// isolated asset (debt ceiling ≠ 0) is never enabled automatically on supply or receipt.
    fn can_use_as_collateral_automatically(&self, cfg: &UserConfig, k: usize) -> bool {
        self.reserves[k].config.debt_ceiling == U256::ZERO && self.can_use_as_collateral(cfg, k)
    }

    // ----- supply / withdraw -----

    /// Supplies `amount` of the underlying from `user`, minting `⌊amount/index⌋` scaled aTokens.
    /// The first supply enables the reserve as collateral if its LTV is not 0.
    ///
    /// Specification:
    /// - fails with [`AaveError::UnknownReserve`], [`AaveError::TimeWentBackwards`];
    /// - fails with [`AaveError::InvalidAmount`] if the scaled amount is 0;
    /// - fails with [`AaveError::ReserveInactive`], [`AaveError::ReservePaused`], [`AaveError::ReserveFrozen`];
    /// - fails with [`AaveError::SupplyCapExceeded`] if `(scaled supply + accrued + minted)·index > cap`;
    /// - fails with a ledger error if `user` lacks the underlying.
    pub fn supply(
        &mut self,
        ledger: &mut Ledger,
        user: AccountId,
        asset: AssetId,
        amount: U256,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        let i = self.reserve_index(asset)?;
        self.transact(ledger, &[user], Some(&[i]), |pool, ledger| {
            let mut r = pool.reserves[i].clone();
            update_state(&mut r, ledger, now)?;
            let scaled = ray_div_down(amount, r.liquidity_index)?;
            if scaled == U256::ZERO {
                return Err(AaveError::InvalidAmount);
            }
            check_flags(&r, true)?;
            if r.config.supply_cap != U256::ZERO {
                let cap = r.config.supply_cap.mul_c(unit(r.decimals)?)?;
                let total_scaled = ledger.supply(r.a_token).add_c(scaled)?.add_c(r.accrued_to_treasury)?;
                let total_after = ray_mul_down(total_scaled, r.liquidity_index)?;
                if total_after > cap {
                    return Err(AaveError::SupplyCapExceeded { cap, total_after });
                }
            }
            update_rates(&mut r, ledger, amount, U256::ZERO)?;
            ledger.transfer(user, r.account, r.underlying, amount)?;
            let first = ledger.balance(user, r.a_token) == U256::ZERO;
            ledger.mint(user, r.a_token, scaled)?;
            let mut events = vec![AaveEvent::Supply {
                asset,
                user,
                amount,
                scaled,
            }];
            let mut cfg = pool.user_config(user);
            let (id, auto) = (r.id, pool.can_use_as_collateral_automatically(&cfg, i));
            pool.reserves[i] = r;
            // Specification (`SupplyLogic.executeSupply`, v3.6): the first supply enables the
            // reserve as collateral only if `validateAutomaticUseAsCollateral` holds.
            if first && auto && !cfg.is_collateral(id) {
                cfg.set_collateral(id, true);
                events.push(AaveEvent::CollateralEnabled { asset, user });
            }
            pool.set_user(user, cfg);
            Ok(events)
        })
    }

    /// Withdraws `amount` of the underlying (`U256::MAX` = everything), burning `⌈amount/index⌉`
    /// scaled aTokens. If the reserve is collateral and the user borrows, HF must stay ≥ 1 and a
    /// zero-LTV collateral may only be withdrawn itself (`validateHFAndLtvzero`).
    ///
    /// Specification:
    /// - fails with [`AaveError::InvalidAmount`] if the scaled amount is 0;
    /// - fails with [`AaveError::NotEnoughAvailableUserBalance`] if it exceeds the scaled balance;
    /// - fails with [`AaveError::ReserveInactive`] / [`AaveError::ReservePaused`];
    /// - fails with [`AaveError::InsufficientLiquidity`] if the reserve's cash is short;
    /// - fails with [`AaveError::HealthFactorLowerThanLiquidationThreshold`] or
    ///   [`AaveError::LtvValidationFailed`] after the burn; [`AaveError::Price`] if a price is missing.
    pub fn withdraw(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        asset: AssetId,
        amount: U256,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        let i = self.reserve_index(asset)?;
        self.transact(ledger, &[user], Some(&[i]), |pool, ledger| {
            let mut r = pool.reserves[i].clone();
            update_state(&mut r, ledger, now)?;
            let balance_scaled = ledger.balance(user, r.a_token);
            let (amount, scaled) = if amount == U256::MAX {
                (ray_mul_down(balance_scaled, r.liquidity_index)?, balance_scaled)
            } else {
                (amount, ray_div_up(amount, r.liquidity_index)?)
            };
            if scaled == U256::ZERO {
                return Err(AaveError::InvalidAmount);
            }
            if scaled > balance_scaled {
                return Err(AaveError::NotEnoughAvailableUserBalance {
                    requested_scaled: scaled,
                    balance_scaled,
                });
            }
            check_flags(&r, false)?;
            if amount > r.virtual_balance {
                return Err(AaveError::InsufficientLiquidity {
                    available: r.virtual_balance,
                    requested: amount,
                });
            }
            update_rates(&mut r, ledger, U256::ZERO, amount)?;
            ledger.burn(user, r.a_token, scaled)?;
            ledger.transfer(r.account, user, r.underlying, amount)?;
            let id = r.id;
            pool.reserves[i] = r;
            let mut events = vec![AaveEvent::Withdraw {
                asset,
                user,
                amount,
                scaled,
            }];
            let mut cfg = pool.user_config(user);
            if cfg.is_collateral(id) {
                if scaled == balance_scaled {
                    cfg.set_collateral(id, false);
                    events.push(AaveEvent::CollateralDisabled { asset, user });
                    pool.set_user(user, cfg);
                }
                if cfg.borrowing != 0 {
                    pool.validate_hf_and_ltv_zero(ledger, prices, user, i, now)?;
                }
            }
            Ok(events)
        })
    }

    // ----- borrow / repay -----

    /// Borrows `amount` at the variable rate, minting `⌈amount/index⌉` scaled debt
    /// (`validateBorrow`, then `validateHFAndLtv` on the new position).
    ///
    /// Specification:
    /// - fails with [`AaveError::InvalidAmount`] if the scaled amount is 0 or exceeds the aToken supply;
    /// - fails with [`AaveError::ReserveInactive`], [`AaveError::ReservePaused`], [`AaveError::ReserveFrozen`],
    ///   [`AaveError::BorrowingNotEnabled`];
    /// - fails with [`AaveError::BorrowCapExceeded`]; [`AaveError::NotBorrowableInEMode`];
    /// - fails with [`AaveError::InsufficientLiquidity`] if the reserve's cash is short;
    /// - fails with [`AaveError::LtvValidationFailed`] (average LTV 0),
    ///   [`AaveError::HealthFactorLowerThanLiquidationThreshold`] (HF < 1 after) or
    ///   [`AaveError::CollateralCannotCoverNewBorrow`] (collateral < `percentDivCeil(debt, ltv)`).
    pub fn borrow(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        asset: AssetId,
        amount: U256,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        let i = self.reserve_index(asset)?;
        let iso = self.isolation_mode_state(&self.user_config(user));
        let touched = [i, iso.map_or(i, |(k, _)| k)];
        self.transact(ledger, &[user], Some(&touched), |pool, ledger| {
            let mut r = pool.reserves[i].clone();
            update_state(&mut r, ledger, now)?;
            let scaled = ray_div_up(amount, r.variable_borrow_index)?;
            if scaled == U256::ZERO {
                return Err(AaveError::InvalidAmount);
            }
            let amount_from_scaled = ray_mul_up(scaled, r.variable_borrow_index)?;
            check_flags(&r, true)?;
            if !r.config.borrowing_enabled {
                return Err(AaveError::BorrowingNotEnabled { asset });
            }
            let a_supply = ray_mul_down(ledger.supply(r.a_token), r.liquidity_index)?;
            if a_supply < amount_from_scaled {
                return Err(AaveError::InvalidAmount);
            }
            if r.config.borrow_cap != U256::ZERO {
                let cap = r.config.borrow_cap.mul_c(unit(r.decimals)?)?;
                let total_after = ray_mul_up(ledger.supply(r.debt_token).add_c(scaled)?, r.variable_borrow_index)?;
                if total_after > cap {
                    return Err(AaveError::BorrowCapExceeded { cap, total_after });
                }
            }
            let mut cfg = pool.user_config(user);
            if cfg.emode != 0 {
                let borrowable = pool
                    .emodes
                    .get(&cfg.emode)
                    .map(|e| is_bit(e.borrowable_bitmap, r.id))
                    .unwrap_or(false);
                if !borrowable {
                    return Err(AaveError::NotBorrowableInEMode {
                        category: cfg.emode,
                        asset,
                    });
                }
            }
            // Specification (`ValidationLogic.validateBorrow`, v3.6): a user borrowing a siloed
            // asset may borrow only it; a siloed asset may not join other debt.
            if cfg.borrowing != 0 {
                let ok = match pool.siloed_borrowing_asset(&cfg) {
                    Some(siloed) => siloed == asset,
                    None => !r.config.siloed_borrowing,
                };
                if !ok {
                    return Err(AaveError::SiloedBorrowingViolation { asset });
                }
            }
            if amount > r.virtual_balance {
                return Err(AaveError::InsufficientLiquidity {
                    available: r.virtual_balance,
                    requested: amount,
                });
            }
            // Specification (`IsolationModeLogic.increaseIsolatedDebtIfIsolated`, v3.6): in
            // isolation mode the asset must be borrowable in isolation and the collateral's
            // `isolationModeTotalDebt + amount / 10^(decimals − 2)` may not exceed its ceiling.
            if let Some((k, ceiling)) = iso {
                if !r.config.borrowable_in_isolation {
                    return Err(AaveError::AssetNotBorrowableInIsolation { asset });
                }
                let units = isolated_debt_units(amount, r.decimals)?;
                // The isolated collateral may be the borrowed reserve itself (held in `r`).
                let t = if k == i {
                    &mut r.isolation_mode_total_debt
                } else {
                    &mut pool.reserves[k].isolation_mode_total_debt
                };
                let total_after = t.add_c(units)?;
                if total_after > ceiling {
                    return Err(AaveError::DebtCeilingExceeded { ceiling, total_after });
                }
                *t = total_after;
            }
            ledger.mint(user, r.debt_token, scaled)?;
            cfg.set_borrowing(r.id, true);
            pool.set_user(user, cfg);
            update_rates(&mut r, ledger, U256::ZERO, amount)?;
            ledger.transfer(r.account, user, r.underlying, amount)?;
            let borrow_rate = r.current_variable_borrow_rate;
            pool.reserves[i] = r;
            pool.validate_hf_and_ltv(ledger, prices, user, now)?;
            Ok(vec![AaveEvent::Borrow {
                asset,
                user,
                amount,
                scaled,
                borrow_rate,
            }])
        })
    }

    /// Repays up to `amount` (`U256::MAX` = all) of `user`'s own debt, with the underlying or
    /// with its aTokens of the same reserve (`repayWithATokens`).
    ///
    /// Specification:
    /// - fails with [`AaveError::InvalidAmount`] if `amount` is 0;
    /// - fails with [`AaveError::ReserveInactive`] / [`AaveError::ReservePaused`];
    /// - fails with [`AaveError::NoDebtOfSelectedType`] if the user has no debt there;
    /// - fails with a ledger error if the user lacks the underlying (or aTokens);
    /// - with aTokens, fails with [`AaveError::HealthFactorLowerThanLiquidationThreshold`] if the
    ///   burned collateral leaves HF < 1.
    #[allow(clippy::too_many_arguments)]
    pub fn repay(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        asset: AssetId,
        amount: U256,
        use_a_tokens: bool,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        let i = self.reserve_index(asset)?;
        let iso = self.isolation_mode_state(&self.user_config(user));
        let touched = [i, iso.map_or(i, |(k, _)| k)];
        self.transact(ledger, &[user], Some(&touched), |pool, ledger| {
            let mut r = pool.reserves[i].clone();
            update_state(&mut r, ledger, now)?;
            let debt_scaled = ledger.balance(user, r.debt_token);
            let debt = ray_mul_up(debt_scaled, r.variable_borrow_index)?;
            if amount == U256::ZERO {
                return Err(AaveError::InvalidAmount);
            }
            check_flags(&r, false)?;
            if debt_scaled == U256::ZERO {
                return Err(AaveError::NoDebtOfSelectedType { asset });
            }
            let mut payback = amount;
            if use_a_tokens && amount == U256::MAX {
                payback = ray_mul_down(ledger.balance(user, r.a_token), r.liquidity_index)?;
            }
            payback = payback.min(debt);
            let burn_scaled = ray_div_down(payback, r.variable_borrow_index)?.min(debt_scaled);
            ledger.burn(user, r.debt_token, burn_scaled)?;
            // Specification (`IsolationModeLogic.reduceIsolatedDebtIfIsolated`, v3.6): the
            // isolated debt falls by `payback / 10^(decimals − 2)`, floored at 0.
            if let Some((k, _)) = iso {
                let units = isolated_debt_units(payback, r.decimals)?;
                let t = if k == i {
                    &mut r.isolation_mode_total_debt
                } else {
                    &mut pool.reserves[k].isolation_mode_total_debt
                };
                *t = t.saturating_sub(units);
            }
            let added = if use_a_tokens { U256::ZERO } else { payback };
            update_rates(&mut r, ledger, added, U256::ZERO)?;
            let mut cfg = pool.user_config(user);
            if ledger.balance(user, r.debt_token) == U256::ZERO {
                cfg.set_borrowing(r.id, false);
            }
            let mut events = vec![AaveEvent::Repay {
                asset,
                user,
                amount: payback,
                use_a_tokens,
            }];
            let id = r.id;
            if use_a_tokens {
                let a_scaled = ray_div_up(payback, r.liquidity_index)?;
                ledger.burn(user, r.a_token, a_scaled)?;
                let zero_after = ledger.balance(user, r.a_token) == U256::ZERO;
                pool.reserves[i] = r;
                if cfg.is_collateral(id) {
                    if zero_after {
                        cfg.set_collateral(id, false);
                        events.push(AaveEvent::CollateralDisabled { asset, user });
                    }
                    pool.set_user(user, cfg);
                    if cfg.borrowing != 0 {
                        pool.validate_health_factor(ledger, prices, user, now)?;
                    }
                }
            } else {
                ledger.transfer(user, r.account, r.underlying, payback)?;
                pool.reserves[i] = r;
            }
            pool.set_user(user, cfg);
            Ok(events)
        })
    }

    // ----- collateral / e-mode -----

    /// Switches the use of `asset` as collateral (`setUserUseReserveAsCollateral`).
    ///
    /// Specification:
    /// - fails with [`AaveError::ReserveInactive`] / [`AaveError::ReservePaused`];
    /// - enabling fails with [`AaveError::UnderlyingBalanceZero`] or [`AaveError::UserInIsolationModeOrLtvZero`];
    /// - disabling fails with [`AaveError::HealthFactorLowerThanLiquidationThreshold`] or
    ///   [`AaveError::LtvValidationFailed`] (`validateHFAndLtvzero`).
    pub fn set_use_as_collateral(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        asset: AssetId,
        use_as_collateral: bool,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        let i = self.reserve_index(asset)?;
        self.transact(ledger, &[user], Some(&[i]), |pool, ledger| {
            let r = &pool.reserves[i];
            check_flags(r, false)?;
            let mut cfg = pool.user_config(user);
            if use_as_collateral == cfg.is_collateral(r.id) {
                return Ok(vec![]);
            }
            let id = r.id;
            if use_as_collateral {
                if ledger.balance(user, r.a_token) == U256::ZERO {
                    return Err(AaveError::UnderlyingBalanceZero);
                }
                // Specification (`SupplyLogic.executeUseReserveAsCollateral`, v3.6):
                // `validateUseAsCollateral` or `UserInIsolationModeOrLtvZero`.
                if !pool.can_use_as_collateral(&cfg, i) {
                    return Err(AaveError::UserInIsolationModeOrLtvZero);
                }
                cfg.set_collateral(id, true);
                pool.set_user(user, cfg);
                Ok(vec![AaveEvent::CollateralEnabled { asset, user }])
            } else {
                cfg.set_collateral(id, false);
                pool.set_user(user, cfg);
                pool.validate_hf_and_ltv_zero(ledger, prices, user, i, now)?;
                Ok(vec![AaveEvent::CollateralDisabled { asset, user }])
            }
        })
    }

    /// Chooses e-mode `category` (0 = leave e-mode) (`setUserEMode`).
    ///
    /// Specification:
    /// - fails with [`AaveError::InconsistentEModeCategory`] if the category does not exist;
    /// - fails with [`AaveError::NotBorrowableInEMode`] if the user borrows an asset outside it;
    /// - fails with [`AaveError::HealthFactorLowerThanLiquidationThreshold`] if HF < 1 afterwards.
    pub fn set_user_emode(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        category: u8,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        self.transact(ledger, &[user], Some(&[]), |pool, ledger| {
            let mut cfg = pool.user_config(user);
            if category != 0 {
                let e = pool
                    .emodes
                    .get(&category)
                    .ok_or(AaveError::InconsistentEModeCategory { category })?;
                for r in &pool.reserves {
                    if cfg.is_borrowing(r.id) && !is_bit(e.borrowable_bitmap, r.id) {
                        return Err(AaveError::NotBorrowableInEMode {
                            category,
                            asset: r.underlying,
                        });
                    }
                }
            }
            cfg.emode = category;
            pool.set_user(user, cfg);
            pool.validate_health_factor(ledger, prices, user, now)?;
            Ok(vec![AaveEvent::UserEModeSet { user, category }])
        })
    }

    // ----- treasury -----

    /// Mints the accrued treasury share of `asset` to the treasury account as scaled aTokens
    /// (`mintToTreasury`).
    ///
    /// Specification:
    /// - fails with [`AaveError::UnknownReserve`] or [`AaveError::TimeWentBackwards`].
    pub fn mint_to_treasury(&mut self, ledger: &mut Ledger, asset: AssetId, now: u64) -> AaveResult<Vec<AaveEvent>> {
        let i = self.reserve_index(asset)?;
        self.transact(ledger, &[], Some(&[i]), |pool, ledger| {
            let mut r = pool.reserves[i].clone();
            update_state(&mut r, ledger, now)?;
            let scaled = r.accrued_to_treasury;
            let treasury = ledger.account(TREASURY);
            if scaled != U256::ZERO {
                ledger.mint(treasury, r.a_token, scaled)?;
            }
            r.accrued_to_treasury = U256::ZERO;
            pool.reserves[i] = r;
            Ok(vec![AaveEvent::MintedToTreasury { asset, scaled }])
        })
    }

    /// Brings the indices of `asset` to `now` (`updateState`); a no-op in the same second.
    ///
    /// Specification:
    /// - fails with [`AaveError::UnknownReserve`] or [`AaveError::TimeWentBackwards`].
    pub fn accrue(&mut self, ledger: &Ledger, asset: AssetId, now: u64) -> AaveResult<()> {
        let i = self.reserve_index(asset)?;
        let mut r = self.reserves[i].clone();
        update_state(&mut r, ledger, now)?;
        self.reserves[i] = r;
        Ok(())
    }

    // ----- liquidation -----

    /// `liquidationCall`: `liquidator` repays up to `debt_to_cover` of `user`'s `debt_asset` debt
    /// and receives collateral worth `debt · LB` (capped at the collateral balance), either as
    /// aTokens or as the underlying. The protocol fee share of the bonus goes to the treasury as
    /// aTokens. If the borrower's whole collateral is seized, every remaining debt is burned and
    /// recorded as reserve deficit.
    ///
    /// Specification:
    /// - fails with [`AaveError::SelfLiquidation`], [`AaveError::ReserveInactive`], [`AaveError::ReservePaused`];
    /// - fails with [`AaveError::HealthFactorNotBelowThreshold`] if HF ≥ 1;
    /// - fails with [`AaveError::CollateralCannotBeLiquidated`] if the collateral is not enabled or has LT 0;
    /// - fails with [`AaveError::SpecifiedCurrencyNotBorrowedByUser`] if there is no debt in `debt_asset`;
    /// - fails with [`AaveError::MustNotLeaveDust`] if neither side is cleared and either leftover is below $1,000;
    /// - fails with [`AaveError::InsufficientLiquidity`] if underlying collateral cannot be paid out;
    /// - fails with a ledger error if the liquidator lacks the debt asset.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidation_call(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        liquidator: AccountId,
        collateral_asset: AssetId,
        debt_asset: AssetId,
        user: AccountId,
        debt_to_cover: U256,
        receive_a_token: bool,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        let ci = self.reserve_index(collateral_asset)?;
        let di = self.reserve_index(debt_asset)?;
        self.transact(ledger, &[user, liquidator], None, |pool, ledger| {
            pool.liquidate_inner(
                ledger,
                prices,
                liquidator,
                ci,
                di,
                user,
                debt_to_cover,
                receive_a_token,
                now,
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn liquidate_inner(
        &mut self,
        ledger: &mut Ledger,
        prices: &dyn PriceSource,
        liquidator: AccountId,
        ci: usize,
        di: usize,
        user: AccountId,
        debt_to_cover: U256,
        receive_a_token: bool,
        now: u64,
    ) -> AaveResult<Vec<AaveEvent>> {
        // updateState of both reserves (same object if the same asset).
        let mut d = self.reserves[di].clone();
        update_state(&mut d, ledger, now)?;
        self.reserves[di] = d;
        let mut c = self.reserves[ci].clone();
        update_state(&mut c, ledger, now)?;
        self.reserves[ci] = c;

        let account = self.account_data(ledger, prices, user, now)?;
        let c = &self.reserves[ci];
        let d = &self.reserves[di];
        let (collateral_asset, debt_asset) = (c.underlying, d.underlying);
        let coll_balance = ray_mul_down(ledger.balance(user, c.a_token), c.liquidity_index)?;
        let debt_balance = ray_mul_up(ledger.balance(user, d.debt_token), d.variable_borrow_index)?;

        // validateLiquidationCall
        if user == liquidator {
            return Err(AaveError::SelfLiquidation);
        }
        for r in [c, d] {
            if !r.config.active {
                return Err(AaveError::ReserveInactive { asset: r.underlying });
            }
        }
        for r in [c, d] {
            if r.config.paused {
                return Err(AaveError::ReservePaused { asset: r.underlying });
            }
        }
        if account.health_factor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD {
            return Err(AaveError::HealthFactorNotBelowThreshold {
                health_factor: account.health_factor,
            });
        }
        let cfg = self.user_config(user);
        if c.config.liquidation_threshold_bps == 0 || !cfg.is_collateral(c.id) {
            return Err(AaveError::CollateralCannotBeLiquidated);
        }
        if debt_balance == U256::ZERO {
            return Err(AaveError::SpecifiedCurrencyNotBorrowedByUser);
        }

        let bonus = match self.emodes.get(&cfg.emode) {
            Some(e) if cfg.emode != 0 && is_bit(e.collateral_bitmap, c.id) => e.liquidation_bonus_bps,
            _ => c.config.liquidation_bonus_bps,
        };
        let bonus = U256::from(bonus);
        let coll_price = price_of(prices, c.price_asset, now)?;
        let debt_price = price_of(prices, d.price_asset, now)?;
        let coll_unit = unit(c.decimals)?;
        let debt_unit = unit(d.decimals)?;
        let debt_base = mul_div_up(debt_balance, debt_price, debt_unit)?;
        let coll_base = coll_balance.mul_c(coll_price)?.div_c(coll_unit)?;

        let mut max_liquidatable = debt_balance;
        if coll_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
            && debt_base >= MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD
            && account.health_factor > CLOSE_FACTOR_HF_THRESHOLD
        {
            let default_liq_base = percent_mul_half_up(account.total_debt_base, DEFAULT_LIQUIDATION_CLOSE_FACTOR_BPS)?;
            if debt_base > default_liq_base {
                max_liquidatable = default_liq_base.mul_c(debt_unit)?.div_c(debt_price)?;
            }
        }
        let actual_debt_wanted = debt_to_cover.min(max_liquidatable);
        let split = collateral_to_liquidate(
            c.config.liquidation_protocol_fee_bps,
            coll_price,
            coll_unit,
            debt_price,
            debt_unit,
            actual_debt_wanted,
            coll_balance,
            bonus,
        )?;
        let actual_debt = split.debt_needed;
        let mut fee = split.protocol_fee;
        let coll_amount = split.collateral;

        if actual_debt < debt_balance && coll_amount.add_c(fee)? < coll_balance {
            let debt_left_base = mul_div_up(debt_balance - actual_debt, debt_price, debt_unit)?;
            let collateral_left_base = (coll_balance - coll_amount - fee).mul_c(coll_price)?.div_c(coll_unit)?;
            if debt_left_base < MIN_LEFTOVER_BASE || collateral_left_base < MIN_LEFTOVER_BASE {
                return Err(AaveError::MustNotLeaveDust {
                    debt_left_base,
                    collateral_left_base,
                });
            }
        }

        let mut events = Vec::new();
        let mut cfg = cfg;
        let c_id = c.id;
        let d_id = d.id;
        let c_a_token = c.a_token;
        if coll_amount.add_c(fee)? == coll_balance {
            cfg.set_collateral(c_id, false);
            events.push(AaveEvent::CollateralDisabled {
                asset: collateral_asset,
                user,
            });
        }
        let has_no_collateral_left = account.total_collateral_base == split.collateral_base;

        // _burnDebtTokens
        {
            let mut d = self.reserves[di].clone();
            let burn_amount = if has_no_collateral_left {
                debt_balance
            } else {
                actual_debt
            };
            let held = ledger.balance(user, d.debt_token);
            let scaled = ray_div_down(burn_amount, d.variable_borrow_index)?.min(held);
            ledger.burn(user, d.debt_token, scaled)?;
            let outstanding = debt_balance - actual_debt;
            if has_no_collateral_left && outstanding != U256::ZERO {
                d.deficit = d.deficit.add_c(outstanding)?;
                events.push(AaveEvent::DeficitCreated {
                    user,
                    asset: debt_asset,
                    amount: outstanding,
                });
            }
            if ledger.balance(user, d.debt_token) == U256::ZERO {
                cfg.set_borrowing(d_id, false);
            }
            update_rates(&mut d, ledger, actual_debt, U256::ZERO)?;
            let d_decimals = d.decimals;
            self.reserves[di] = d;
            // Specification (`LiquidationLogic.executeLiquidationCall`, v3.6): a ceiled collateral
            // implies the borrower was isolated; its isolated debt falls by the debt liquidated
            // (`updateIsolatedDebt(actualDebtToLiquidate)`, not the deficit burned with it).
            if self.reserves[ci].config.debt_ceiling != U256::ZERO {
                let units = isolated_debt_units(actual_debt, d_decimals)?;
                let t = &mut self.reserves[ci].isolation_mode_total_debt;
                *t = t.saturating_sub(units);
            }
        }

        // Collateral to the liquidator.
        if receive_a_token {
            let li = self.reserves[ci].liquidity_index;
            let scaled = ray_div_up(coll_amount, li)?;
            // Specification (v3.6 "Liquidate aTokens", `AToken.transferOnLiquidation`): the
            // received aTokens are no longer enabled as the liquidator's collateral.
            ledger.transfer(user, liquidator, c_a_token, scaled)?;
        } else {
            let mut c = self.reserves[ci].clone();
            if coll_amount > c.virtual_balance {
                return Err(AaveError::InsufficientLiquidity {
                    available: c.virtual_balance,
                    requested: coll_amount,
                });
            }
            update_rates(&mut c, ledger, U256::ZERO, coll_amount)?;
            let scaled = ray_div_up(coll_amount, c.liquidity_index)?;
            ledger.burn(user, c.a_token, scaled)?;
            ledger.transfer(c.account, liquidator, c.underlying, coll_amount)?;
            self.reserves[ci] = c;
        }

        // Protocol fee to the treasury, as aTokens.
        if fee != U256::ZERO {
            let li = self.reserves[ci].liquidity_index;
            let mut scaled_fee = ray_div_up(fee, li)?;
            let left = ledger.balance(user, c_a_token);
            if scaled_fee > left {
                scaled_fee = left;
                fee = ray_mul_down(left, li)?;
            }
            let treasury = ledger.account(TREASURY);
            ledger.transfer(user, treasury, c_a_token, scaled_fee)?;
        }

        // Bad debt on every other borrowed reserve.
        if has_no_collateral_left && cfg.borrowing != 0 {
            for k in 0..self.reserves.len() {
                let id = self.reserves[k].id;
                if !cfg.is_borrowing(id) || !self.reserves[k].config.active {
                    continue;
                }
                let mut r = self.reserves[k].clone();
                update_state(&mut r, ledger, now)?;
                let held = ledger.balance(user, r.debt_token);
                let debt = ray_mul_up(held, r.variable_borrow_index)?;
                let scaled = ray_div_down(debt, r.variable_borrow_index)?.min(held);
                ledger.burn(user, r.debt_token, scaled)?;
                if debt != U256::ZERO {
                    r.deficit = r.deficit.add_c(debt)?;
                    events.push(AaveEvent::DeficitCreated {
                        user,
                        asset: r.underlying,
                        amount: debt,
                    });
                }
                if ledger.balance(user, r.debt_token) == U256::ZERO {
                    cfg.set_borrowing(id, false);
                }
                update_rates(&mut r, ledger, U256::ZERO, U256::ZERO)?;
                self.reserves[k] = r;
            }
        }
        self.set_user(user, cfg);

        // The liquidator pays the debt asset into the reserve.
        let d_account = self.reserves[di].account;
        ledger.transfer(liquidator, d_account, debt_asset, actual_debt)?;

        self.stats.liquidations += 1;
        if events.iter().any(|e| matches!(e, AaveEvent::DeficitCreated { .. })) {
            self.stats.bad_debt_events += 1;
        }
        events.push(AaveEvent::LiquidationCall {
            collateral_asset,
            debt_asset,
            user,
            liquidator,
            debt_to_cover: actual_debt,
            liquidated_collateral: coll_amount,
            protocol_fee: fee,
            receive_a_token,
        });
        Ok(events)
    }

    // ----- validations -----

    fn validate_health_factor(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        now: u64,
    ) -> AaveResult<AccountData> {
        let data = self.account_data(ledger, prices, user, now)?;
        if data.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD {
            return Err(AaveError::HealthFactorLowerThanLiquidationThreshold {
                health_factor: data.health_factor,
            });
        }
        Ok(data)
    }

    /// `validateHFAndLtv` (after a borrow).
    fn validate_hf_and_ltv(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        now: u64,
    ) -> AaveResult<()> {
        let data = self.account_data(ledger, prices, user, now)?;
        if data.avg_ltv_bps == U256::ZERO {
            return Err(AaveError::LtvValidationFailed);
        }
        if data.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD {
            return Err(AaveError::HealthFactorLowerThanLiquidationThreshold {
                health_factor: data.health_factor,
            });
        }
        let required = percent_div_up(data.total_debt_base, data.avg_ltv_bps)?;
        if data.total_collateral_base < required {
            return Err(AaveError::CollateralCannotCoverNewBorrow {
                collateral_base: data.total_collateral_base,
                required_base: required,
            });
        }
        Ok(())
    }

    /// `validateHFAndLtvzero` (after a withdrawal or collateral switch-off of reserve `i`).
    fn validate_hf_and_ltv_zero(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        user: AccountId,
        i: usize,
        now: u64,
    ) -> AaveResult<()> {
        let data = self.validate_health_factor(ledger, prices, user, now)?;
        if data.has_zero_ltv_collateral && self.reserves[i].config.ltv_bps != 0 {
            return Err(AaveError::LtvValidationFailed);
        }
        Ok(())
    }

    // ----- reports -----

    /// Figures of the reserve of `asset` at its last update.
    ///
    /// Specification:
    /// - fails with [`AaveError::UnknownReserve`] or a math error.
    pub fn reserve_report(&self, ledger: &Ledger, asset: AssetId) -> AaveResult<ReserveReport> {
        let r = self.reserve(asset)?;
        let total_debt = ray_mul_up(ledger.supply(r.debt_token), r.variable_borrow_index)?;
        let total_supplied = ray_mul_down(
            ledger.supply(r.a_token).add_c(r.accrued_to_treasury)?,
            r.liquidity_index,
        )?;
        let denom = r.virtual_balance.add_c(total_debt)?;
        let utilization_ray = if total_debt == U256::ZERO {
            U256::ZERO
        } else {
            ray_div_half_up(total_debt, denom)?
        };
        let apy = |rate: U256| {
            let r = rate.as_f64() / 1e27;
            let n = SECONDS_PER_YEAR as f64;
            (1.0 + r / n).powf(n) - 1.0
        };
        Ok(ReserveReport {
            symbol: r.symbol.clone(),
            total_supplied,
            total_debt,
            cash: r.virtual_balance,
            deficit: r.deficit,
            utilization_ray,
            variable_rate_ray: r.current_variable_borrow_rate,
            liquidity_rate_ray: r.current_liquidity_rate,
            supply_apy: apy(r.current_liquidity_rate),
            borrow_apy: apy(r.current_variable_borrow_rate),
        })
    }

    /// Health factors (wad) of every user with debt, by account id. A scan of every user: for
    /// end-of-run summaries; per-step code goes through the liquidation index
    /// ([`AaveV3::liquidatable`], [`AaveV3::nearest_health_factors`]).
    ///
    /// Specification:
    /// - fails with [`AaveError::Price`] if a price is missing.
    pub fn health_factors(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        now: u64,
    ) -> AaveResult<Vec<(AccountId, U256)>> {
        let mut out = Vec::new();
        for (u, cfg) in &self.users {
            if cfg.borrowing != 0 {
                out.push((*u, self.account_data_with(ledger, prices, *u, *cfg, now)?.health_factor));
            }
        }
        Ok(out)
    }

    /// Σ reserve deficits valued in base currency (8 decimals, floor).
    ///
    /// Specification:
    /// - fails with [`AaveError::Price`] if a price of a reserve with deficit is missing.
    pub fn total_deficit_base(&self, prices: &dyn PriceSource, now: u64) -> AaveResult<U256> {
        let mut total = U256::ZERO;
        for r in &self.reserves {
            if r.deficit != U256::ZERO {
                let p = price_of(prices, r.price_asset, now)?;
                total = total.add_c(mul_div_down(r.deficit, p, unit(r.decimals)?)?)?;
            }
        }
        Ok(total)
    }

    /// Every rule: ledger conservation (a full scan of the ledger) and [`Self::check_backing`]
    /// (which compares the liquidation index with a scan of every user).
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        ledger.check_conservation().map_err(|e| e.to_string())?;
        self.check_backing(ledger)
    }

    /// Backing rules (SPEC §1.4, §7.3), per reserve:
    /// - the ledger holds at least the virtual balance in `aave:<symbol>`;
    /// - cash + debt + deficit ≥ aToken supply (incl. treasury accruals) at current indices,
    ///   up to 1 wei of rounding per aToken/debt holder;
    /// - every user flagged as borrowing holds debt tokens and vice versa (all users);
    /// - the liquidation index holds exactly the borrowers with their current keys (a scan).
    ///
    /// O(users): the per-transaction check is [`Self::check_touched`].
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_reserves(ledger)?;
        self.users
            .iter()
            .try_for_each(|(u, cfg)| self.check_user(ledger, *u, cfg))?;
        self.check_index(ledger)
    }

    /// [`Self::check_backing`] with the per-user rules (flags, index entry) on `accounts` only:
    /// what a transaction that touched those accounts can have broken. O(reserves + accounts ·
    /// log users), whatever the number of users.
    pub fn check_touched(&self, ledger: &Ledger, accounts: &[AccountId]) -> Result<(), String> {
        self.check_reserves(ledger)?;
        for u in accounts {
            if let Some(cfg) = self.users.get(u) {
                self.check_user(ledger, *u, cfg)?;
            }
        }
        self.check_index_of(ledger, accounts)
    }

    fn check_reserves(&self, ledger: &Ledger) -> Result<(), String> {
        for r in &self.reserves {
            let cash = ledger.balance(r.account, r.underlying);
            if cash < r.virtual_balance {
                return Err(format!(
                    "aave {}: cash {cash} < virtual balance {}",
                    r.symbol, r.virtual_balance
                ));
            }
            let debt = ray_mul_up(ledger.supply(r.debt_token), r.variable_borrow_index).map_err(|e| e.to_string())?;
            let supplied_scaled = ledger.supply(r.a_token).saturating_add(r.accrued_to_treasury);
            let supplied = ray_mul_down(supplied_scaled, r.liquidity_index).map_err(|e| e.to_string())?;
            let holders = ledger.holder_count(r.a_token) + ledger.holder_count(r.debt_token) + 1;
            let backing = r
                .virtual_balance
                .saturating_add(debt)
                .saturating_add(r.deficit)
                .saturating_add(U256::from(holders));
            if backing < supplied {
                return Err(format!(
                    "aave {}: cash {} + debt {debt} + deficit {} < supplied {supplied}",
                    r.symbol, r.virtual_balance, r.deficit
                ));
            }
        }
        Ok(())
    }

    fn check_user(&self, ledger: &Ledger, u: AccountId, cfg: &UserConfig) -> Result<(), String> {
        for r in &self.reserves {
            let has_debt = ledger.balance(u, r.debt_token) != U256::ZERO;
            if has_debt != cfg.is_borrowing(r.id) {
                return Err(format!(
                    "aave {}: borrowing flag of account #{} disagrees with its debt",
                    r.symbol, u.0
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Reserve logic (free functions on a reserve copy)
// ---------------------------------------------------------------------------------------------

pub(crate) fn price_of(prices: &dyn PriceSource, asset: AssetId, now: u64) -> AaveResult<U256> {
    prices
        .price_base(asset, now)
        .map_err(|message| AaveError::Price { asset, message })
}

fn check_ltv_lt_lb(ltv: u32, lt: u32, lb: u32) -> AaveResult<()> {
    let bad = |reason: &str| {
        Err(AaveError::InvalidConfig {
            reason: reason.to_string(),
        })
    };
    if ltv > lt {
        return bad("LTV above liquidation threshold");
    }
    // Specification (PoolConfigurator `configureReserveAsCollateral`, `setEModeCategory`): with a
    // threshold, the bonus must be strictly above 100.00 % and `percentMul(lt, lb)` (rounded half
    // up) at most 100.00 %; a reserve that is not collateral (threshold 0) has no bonus.
    if lt != 0 {
        if lb <= 10_000 {
            return bad("liquidation bonus must be above 100 %");
        }
        if (u64::from(lt) * u64::from(lb) + 5_000) / 10_000 > 10_000 {
            return bad("liquidation threshold × bonus above 100 %");
        }
    } else if lb != 0 {
        return bad("a liquidation bonus without a liquidation threshold");
    }
    Ok(())
}

/// `IsolationModeLogic.convertToIsolatedDebtUnits`: `amount / 10^(decimals − 2)` (floor).
fn isolated_debt_units(amount: U256, decimals: u8) -> AaveResult<U256> {
    let exp = decimals
        .checked_sub(DEBT_CEILING_DECIMALS)
        .ok_or(MathError::Underflow)?;
    Ok(amount / stake_math::pow10(u32::from(exp))?)
}

fn validate_config(c: &ReserveConfig) -> AaveResult<()> {
    let bad = |reason: &str| {
        Err(AaveError::InvalidConfig {
            reason: reason.to_string(),
        })
    };
    check_ltv_lt_lb(c.ltv_bps, c.liquidation_threshold_bps, c.liquidation_bonus_bps)?;
    if c.reserve_factor_bps > 10_000 || c.liquidation_protocol_fee_bps > 10_000 {
        return bad("reserve factor or protocol fee above 100 %");
    }
    // Specification (`ReserveConfiguration.setDebtCeiling`): `ceiling <= MAX_VALID_DEBT_CEILING`
    // or `InvalidDebtCeiling`.
    if c.debt_ceiling > U256::from(MAX_VALID_DEBT_CEILING) {
        return bad("debt ceiling above MAX_VALID_DEBT_CEILING");
    }
    c.rate.validate()
}

fn check_flags(r: &Reserve, opening: bool) -> AaveResult<()> {
    let asset = r.underlying;
    if !r.config.active {
        return Err(AaveError::ReserveInactive { asset });
    }
    if r.config.paused {
        return Err(AaveError::ReservePaused { asset });
    }
    if opening && r.config.frozen {
        return Err(AaveError::ReserveFrozen { asset });
    }
    Ok(())
}

fn check_time(r: &Reserve, now: u64) -> AaveResult<u64> {
    now.checked_sub(r.last_update).ok_or(AaveError::TimeWentBackwards {
        last_update: r.last_update,
        now,
    })
}

/// `getNormalizedIncome` at `now`.
pub(crate) fn normalized_income(r: &Reserve, now: u64) -> AaveResult<U256> {
    let dt = check_time(r, now)?;
    if dt == 0 {
        return Ok(r.liquidity_index);
    }
    Ok(ray_mul_half_up(
        linear_interest(r.current_liquidity_rate, dt)?,
        r.liquidity_index,
    )?)
}

/// `getNormalizedDebt` at `now`.
pub(crate) fn normalized_debt(r: &Reserve, now: u64) -> AaveResult<U256> {
    let dt = check_time(r, now)?;
    if dt == 0 {
        return Ok(r.variable_borrow_index);
    }
    Ok(ray_mul_half_up(
        compounded_interest(r.current_variable_borrow_rate, dt)?,
        r.variable_borrow_index,
    )?)
}

/// `ReserveLogic.updateState`: indices with the stored rates, then the treasury accrual.
fn update_state(r: &mut Reserve, ledger: &Ledger, now: u64) -> AaveResult<()> {
    let dt = check_time(r, now)?;
    if dt == 0 {
        return Ok(());
    }
    let scaled_debt = ledger.supply(r.debt_token);
    let prev_borrow_index = r.variable_borrow_index;
    if r.current_liquidity_rate != U256::ZERO {
        r.liquidity_index = ray_mul_half_up(linear_interest(r.current_liquidity_rate, dt)?, r.liquidity_index)?;
    }
    if scaled_debt != U256::ZERO {
        r.variable_borrow_index = ray_mul_half_up(
            compounded_interest(r.current_variable_borrow_rate, dt)?,
            r.variable_borrow_index,
        )?;
    }
    if r.config.reserve_factor_bps != 0 {
        let accrued = ray_mul_down(scaled_debt, r.variable_borrow_index - prev_borrow_index)?;
        let to_mint = percent_mul_half_up(accrued, U256::from(r.config.reserve_factor_bps))?;
        if to_mint != U256::ZERO {
            r.accrued_to_treasury = r.accrued_to_treasury.add_c(ray_div_down(to_mint, r.liquidity_index)?)?;
        }
    }
    r.last_update = now;
    Ok(())
}

/// `updateInterestRatesAndVirtualBalance`: new rates from the post-action debt and cash.
/// The debt token supply must already reflect the action's mint/burn.
fn update_rates(r: &mut Reserve, ledger: &Ledger, added: U256, taken: U256) -> AaveResult<()> {
    let total_debt = ray_mul_up(ledger.supply(r.debt_token), r.variable_borrow_index)?;
    let available = r.virtual_balance.add_c(added)?.sub_c(taken)?;
    let (var, liq) = r
        .config
        .rate
        .rates(r.config.reserve_factor_bps, total_debt, available, r.deficit)?;
    r.current_variable_borrow_rate = var;
    r.current_liquidity_rate = liq;
    r.virtual_balance = available;
    Ok(())
}

/// What `_calculateAvailableCollateralToLiquidate` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollateralSplit {
    /// Collateral to the liquidator (after the protocol fee).
    pub collateral: U256,
    /// Debt the liquidator repays.
    pub debt_needed: U256,
    /// Protocol fee in collateral units.
    pub protocol_fee: U256,
    /// Collateral seized (incl. fee) in base currency, floor.
    pub collateral_base: U256,
}

/// `LiquidationLogic._calculateAvailableCollateralToLiquidate` (v3.5 roundings): the collateral
/// for `debt_to_cover` at bonus `lb_bps`, capped at `collateral_balance` (then the debt is
/// recomputed with `percentDivCeil`), and the protocol fee cut out of the bonus.
#[allow(clippy::too_many_arguments)]
pub fn collateral_to_liquidate(
    protocol_fee_bps: u32,
    collateral_price: U256,
    collateral_unit: U256,
    debt_price: U256,
    debt_unit: U256,
    debt_to_cover: U256,
    collateral_balance: U256,
    lb_bps: U256,
) -> MathResult<CollateralSplit> {
    let base_collateral = debt_price
        .mul_c(debt_to_cover)?
        .mul_c(collateral_unit)?
        .div_c(collateral_price.mul_c(debt_unit)?)?;
    let max_collateral = percent_mul_half_up(base_collateral, lb_bps)?;
    let (mut collateral, debt_needed) = if max_collateral > collateral_balance {
        let value = collateral_price
            .mul_c(collateral_balance)?
            .mul_c(debt_unit)?
            .div_c(debt_price.mul_c(collateral_unit)?)?;
        (collateral_balance, percent_div_up(value, lb_bps)?)
    } else {
        (max_collateral, debt_to_cover)
    };
    let collateral_base = collateral.mul_c(collateral_price)?.div_c(collateral_unit)?;
    let mut protocol_fee = U256::ZERO;
    if protocol_fee_bps != 0 {
        let bonus = collateral.sub_c(percent_div_half_up(collateral, lb_bps)?)?;
        protocol_fee = percent_mul_half_up(bonus, U256::from(protocol_fee_bps))?;
        collateral = collateral.sub_c(protocol_fee)?;
    }
    Ok(CollateralSplit {
        collateral,
        debt_needed,
        protocol_fee,
        collateral_base,
    })
}

impl stake_ledger::StateHash for AaveV3 {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ray(s: &str) -> U256 {
        stake_math::parse_u256(s).unwrap()
    }

    #[test]
    fn rate_vectors_of_spec_7_3_hold() {
        // U = 80 %: var = 2.7 %·0.8/0.9 = 2.4 %; liq = 2.4 %·0.8·0.85 = 1.632 %.
        let (v, l) = rates(9_000, 0, 270, 8_000, 1_500, U256::new(80), U256::new(20)).unwrap();
        assert_eq!(v, ray("24000000000000000000000000"));
        assert_eq!(l, ray("16320000000000000000000000"));
        // U = 95 %: var = 2.7 % + 80 %·0.5 = 42.7 %; liq = 42.7 %·0.95·0.85 = 34.48025 %.
        let (v, l) = rates(9_000, 0, 270, 8_000, 1_500, U256::new(95), U256::new(5)).unwrap();
        assert_eq!(v, ray("427000000000000000000000000"));
        assert_eq!(l, ray("344802500000000000000000000"));
    }

    #[test]
    fn math_utils_vectors_hold() {
        // MathUtils.t.sol: linear(8 %, 7 years) = 1.56 ray.
        assert_eq!(
            linear_interest(ray("80000000000000000000000000"), 7 * SECONDS_PER_YEAR).unwrap(),
            ray("1560000000000000000000000000")
        );
        // compounded(1000 ray, 10,000 years) with the Taylor form.
        assert_eq!(
            compounded_interest(ray("1000000000000000000000000000000"), 10_000 * SECONDS_PER_YEAR).unwrap(),
            ray("166666716666676666667666666666666600000000000000")
        );
        assert_eq!(compounded_interest(RAY, 0).unwrap(), RAY);
    }
}
