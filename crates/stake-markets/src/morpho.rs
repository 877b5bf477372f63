//! `morpho` — Morpho Blue isolated lending markets (SPEC §7.3; `morpho-org/morpho-blue`,
//! `morpho-org/morpho-blue-irm`).
//!
//! One market = one loan token, one collateral token, an oracle, an interest rate model and a
//! liquidation LLTV. Supply and borrow positions are *shares* with virtual shares/assets
//! (`VIRTUAL_SHARES = 1e6`, `VIRTUAL_ASSETS = 1`) held in this module's state; tokens sit in the
//! market's module account `morpho:<id>`. Interest accrues with the 3-term `wTaylorCompounded`
//! and a fee taken as supply shares; the AdaptiveCurveIrm is an exact integer port (`wExp`,
//! trapezoidal average of the rate at target). Liquidations use the incentive factor
//! `min(1.15, 1/(1 − 0.3·(1 − LLTV)))`, and when a borrower's collateral reaches zero the
//! remaining debt is **socialised**: supply assets drop by the bad debt.
//!
//! Rounding follows the contract: `mulDivDown`/`mulDivUp` are `(x·y)/d` with overflow as an error
//! (no 512-bit intermediate, as Solidity reverts), `toSharesDown/Up`, `toAssetsDown/Up` as named.

use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Ledger, LedgerError, Reject};
use stake_math::{parse_i256, Checked, MathError, MathResult, I256, U256, WAD};
use std::collections::BTreeMap;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/// `SharesMathLib.VIRTUAL_SHARES`.
pub const VIRTUAL_SHARES: U256 = U256::new(1_000_000);
/// `SharesMathLib.VIRTUAL_ASSETS`.
pub const VIRTUAL_ASSETS: U256 = U256::ONE;
/// `ORACLE_PRICE_SCALE` = 1e36.
pub const ORACLE_PRICE_SCALE: U256 = U256::new(1_000_000_000_000_000_000_000_000_000_000_000_000);
/// `MAX_FEE` = 25 % (wad).
pub const MAX_FEE: U256 = U256::new(250_000_000_000_000_000);
/// `LIQUIDATION_CURSOR` = 0.3 (wad).
pub const LIQUIDATION_CURSOR: U256 = U256::new(300_000_000_000_000_000);
/// `MAX_LIQUIDATION_INCENTIVE_FACTOR` = 1.15 (wad).
pub const MAX_LIQUIDATION_INCENTIVE_FACTOR: U256 = U256::new(1_150_000_000_000_000_000);

const WAD_I: I256 = I256::new(1_000_000_000_000_000_000);
/// AdaptiveCurveIrm `CURVE_STEEPNESS` = 4 (wad).
pub const CURVE_STEEPNESS: I256 = I256::new(4_000_000_000_000_000_000);
/// AdaptiveCurveIrm `ADJUSTMENT_SPEED` = 50 / year, per second (wad; `50e18 / 31536000`).
pub const ADJUSTMENT_SPEED: I256 = I256::new(50_000_000_000_000_000_000 / 31_536_000);
/// AdaptiveCurveIrm `TARGET_UTILIZATION` = 90 % (wad).
pub const TARGET_UTILIZATION: I256 = I256::new(900_000_000_000_000_000);
/// AdaptiveCurveIrm `INITIAL_RATE_AT_TARGET` = 4 % / year, per second.
pub const INITIAL_RATE_AT_TARGET: I256 = I256::new(40_000_000_000_000_000 / 31_536_000);
/// AdaptiveCurveIrm `MIN_RATE_AT_TARGET` = 0.1 % / year, per second.
pub const MIN_RATE_AT_TARGET: I256 = I256::new(1_000_000_000_000_000 / 31_536_000);
/// AdaptiveCurveIrm `MAX_RATE_AT_TARGET` = 200 % / year, per second.
pub const MAX_RATE_AT_TARGET: I256 = I256::new(2_000_000_000_000_000_000 / 31_536_000);
/// ExpLib `LN_2_INT`.
pub const LN_2_INT: I256 = I256::new(693_147_180_559_945_309);
/// ExpLib `LN_WEI_INT` = ln(1e-18).
pub const LN_WEI_INT: I256 = I256::new(-41_446_531_673_892_822_312);
/// ExpLib `WEXP_UPPER_BOUND`.
pub const WEXP_UPPER_BOUND: I256 = I256::new(93_859_467_695_000_404_319);
/// ExpLib `WEXP_UPPER_VALUE` (decimal string; the value exceeds `i128`).
pub const WEXP_UPPER_VALUE_DEC: &str = "57716089161558943949701069502944508345128422502756744429568";

// ---------------------------------------------------------------------------------------------
// Pure math
// ---------------------------------------------------------------------------------------------

/// Morpho `mulDivDown`: `⌊x·y/d⌋`, an error where Solidity reverts (overflow of `x·y`, `d = 0`).
pub fn mul_div_down(x: U256, y: U256, d: U256) -> MathResult<U256> {
    x.mul_c(y)?.div_c(d)
}

/// Morpho `mulDivUp`: `⌊(x·y + d − 1)/d⌋`.
pub fn mul_div_up(x: U256, y: U256, d: U256) -> MathResult<U256> {
    if d == U256::ZERO {
        return Err(MathError::DivisionByZero);
    }
    x.mul_c(y)?.add_c(d - 1)?.div_c(d)
}

/// `wMulDown(x, y) = ⌊x·y/1e18⌋`.
pub fn w_mul_down(x: U256, y: U256) -> MathResult<U256> {
    mul_div_down(x, y, WAD)
}

/// `wDivDown(x, y) = ⌊x·1e18/y⌋`.
pub fn w_div_down(x: U256, y: U256) -> MathResult<U256> {
    mul_div_down(x, WAD, y)
}

/// `wDivUp(x, y) = ⌈x·1e18/y⌉`.
pub fn w_div_up(x: U256, y: U256) -> MathResult<U256> {
    mul_div_up(x, WAD, y)
}

/// `wTaylorCompounded(x, n)`: `e^(x·n) − 1` by its first three Taylor terms (wad).
pub fn w_taylor_compounded(x: U256, n: u64) -> MathResult<U256> {
    let first = x.mul_c(U256::from(n))?;
    let second = mul_div_down(first, first, WAD * 2)?;
    let third = mul_div_down(second, first, WAD * 3)?;
    first.add_c(second)?.add_c(third)
}

/// `toSharesDown(assets) = ⌊assets·(totalShares + 1e6)/(totalAssets + 1)⌋`.
pub fn to_shares_down(assets: U256, total_assets: U256, total_shares: U256) -> MathResult<U256> {
    mul_div_down(
        assets,
        total_shares.add_c(VIRTUAL_SHARES)?,
        total_assets.add_c(VIRTUAL_ASSETS)?,
    )
}

/// `toSharesUp(assets)`, rounded up.
pub fn to_shares_up(assets: U256, total_assets: U256, total_shares: U256) -> MathResult<U256> {
    mul_div_up(
        assets,
        total_shares.add_c(VIRTUAL_SHARES)?,
        total_assets.add_c(VIRTUAL_ASSETS)?,
    )
}

/// `toAssetsDown(shares) = ⌊shares·(totalAssets + 1)/(totalShares + 1e6)⌋`.
pub fn to_assets_down(shares: U256, total_assets: U256, total_shares: U256) -> MathResult<U256> {
    mul_div_down(
        shares,
        total_assets.add_c(VIRTUAL_ASSETS)?,
        total_shares.add_c(VIRTUAL_SHARES)?,
    )
}

/// `toAssetsUp(shares)`, rounded up.
pub fn to_assets_up(shares: U256, total_assets: U256, total_shares: U256) -> MathResult<U256> {
    mul_div_up(
        shares,
        total_assets.add_c(VIRTUAL_ASSETS)?,
        total_shares.add_c(VIRTUAL_SHARES)?,
    )
}

/// The liquidation incentive factor `min(1.15, 1/(1 − 0.3·(1 − LLTV)))` (wad, rounded as the
/// contract: `wDivDown(WAD, WAD − wMulDown(cursor, WAD − lltv))`).
pub fn liquidation_incentive_factor(lltv: U256) -> MathResult<U256> {
    let inner = WAD.sub_c(w_mul_down(LIQUIDATION_CURSOR, WAD.sub_c(lltv)?)?)?;
    Ok(MAX_LIQUIDATION_INCENTIVE_FACTOR.min(w_div_down(WAD, inner)?))
}

fn w_mul_to_zero(x: I256, y: I256) -> MathResult<I256> {
    x.mul_c(y)?.div_c(WAD_I)
}

fn w_div_to_zero(x: I256, y: I256) -> MathResult<I256> {
    x.mul_c(WAD_I)?.div_c(y)
}

/// ExpLib `wExp`: `e^x` (wad) as `2^q · (1 + r + r²/2)` with `x = q·ln 2 + r`, clipped below at
/// `ln(1e-18)` (→ 0) and above at `WEXP_UPPER_BOUND`.
pub fn w_exp(x: I256) -> MathResult<I256> {
    if x < LN_WEI_INT {
        return Ok(I256::ZERO);
    }
    if x >= WEXP_UPPER_BOUND {
        return parse_i256(WEXP_UPPER_VALUE_DEC);
    }
    let adj = if x < 0 { -(LN_2_INT / 2) } else { LN_2_INT / 2 };
    let q = x.add_c(adj)?.div_c(LN_2_INT)?;
    let r = x.sub_c(q.mul_c(LN_2_INT)?)?;
    let exp_r = WAD_I.add_c(r)?.add_c(r.mul_c(r)?.div_c(WAD_I)?.div_c(I256::new(2))?)?;
    // x is clamped to wExp's bounds above, so |q| < 256; anything else is an overflow.
    let shift = u32::try_from(q.unsigned_abs())
        .ok()
        .filter(|s| *s < 255)
        .ok_or(MathError::Overflow)?;
    Ok(if q >= 0 { exp_r << shift } else { exp_r >> shift })
}

/// AdaptiveCurveIrm `_curve`: `((1 − 1/C)·err + 1)·r` for `err < 0`, `((C − 1)·err + 1)·r` else.
fn curve(rate_at_target: I256, err: I256) -> MathResult<I256> {
    let coeff = if err < 0 {
        WAD_I.sub_c(w_div_to_zero(WAD_I, CURVE_STEEPNESS)?)?
    } else {
        CURVE_STEEPNESS.sub_c(WAD_I)?
    };
    w_mul_to_zero(w_mul_to_zero(coeff, err)?.add_c(WAD_I)?, rate_at_target)
}

/// AdaptiveCurveIrm `_newRateAtTarget`: `bound(start·wExp(adaptation), MIN, MAX)`.
fn new_rate_at_target(start: I256, linear_adaptation: I256) -> MathResult<I256> {
    let r = w_mul_to_zero(start, w_exp(linear_adaptation)?)?;
    Ok(r.max(MIN_RATE_AT_TARGET).min(MAX_RATE_AT_TARGET))
}

/// AdaptiveCurveIrm `_borrowRate`: returns `(average borrow rate per second (wad), end rate at
/// target)` for a market with these totals, `start_rate_at_target` (0 = first interaction) and
/// `elapsed` seconds since the market's last update.
pub fn adaptive_curve_borrow_rate(
    total_supply_assets: U256,
    total_borrow_assets: U256,
    start_rate_at_target: I256,
    elapsed: u64,
) -> MathResult<(U256, I256)> {
    let utilization = if total_supply_assets > U256::ZERO {
        w_div_down(total_borrow_assets, total_supply_assets)?.as_i256()
    } else {
        I256::ZERO
    };
    let err_norm = if utilization > TARGET_UTILIZATION {
        WAD_I - TARGET_UTILIZATION
    } else {
        TARGET_UTILIZATION
    };
    let err = w_div_to_zero(utilization.sub_c(TARGET_UTILIZATION)?, err_norm)?;
    let (avg, end) = if start_rate_at_target == I256::ZERO {
        (INITIAL_RATE_AT_TARGET, INITIAL_RATE_AT_TARGET)
    } else {
        let speed = w_mul_to_zero(ADJUSTMENT_SPEED, err)?;
        let linear = speed.mul_c(I256::from(elapsed))?;
        if linear == I256::ZERO {
            (start_rate_at_target, start_rate_at_target)
        } else {
            let end = new_rate_at_target(start_rate_at_target, linear)?;
            let mid = new_rate_at_target(start_rate_at_target, linear / 2)?;
            let avg = start_rate_at_target
                .add_c(end)?
                .add_c(mid.mul_c(I256::new(2))?)?
                .div_c(I256::new(4))?;
            (avg, end)
        }
    };
    let rate = curve(avg, err)?;
    if rate < 0 {
        return Err(MathError::Underflow);
    }
    Ok((rate.as_u256(), end))
}

/// The Morpho oracle price (collateral quoted in loan token, scaled by 1e36 and the decimals)
/// from two 8-decimal base prices: `1e36 · p_coll · 10^dec_loan / (p_loan · 10^dec_coll)` (floor).
pub fn oracle_price_from_base(
    collateral_price_base: U256,
    collateral_decimals: u8,
    loan_price_base: U256,
    loan_decimals: u8,
) -> MathResult<U256> {
    let num = collateral_price_base.mul_c(stake_math::pow10(u32::from(loan_decimals))?)?;
    let den = loan_price_base.mul_c(stake_math::pow10(u32::from(collateral_decimals))?)?;
    stake_math::mul_div_down(ORACLE_PRICE_SCALE, num, den)
}

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// Handle of a market (index in [`MorphoBlue::markets`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MarketId(pub u32);

/// Interest rate model of a market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Irm {
    /// `AdaptiveCurveIrm` (state: rate at target, kept in the market).
    AdaptiveCurve,
    /// A fixed rate per second (wad).
    Fixed {
        /// Rate per second (wad).
        rate_per_second: U256,
    },
}

/// Market parameters (`MarketParams`); the oracle is whatever [`MorphoOracle`] the engine passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketParams {
    /// Loan token.
    pub loan_token: AssetId,
    /// Collateral token.
    pub collateral_token: AssetId,
    /// Interest rate model.
    pub irm: Irm,
    /// Liquidation LTV (wad, < 1).
    pub lltv: U256,
}

/// Market totals (`Market`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    /// Supplied assets incl. interest.
    pub total_supply_assets: U256,
    /// Supply shares.
    pub total_supply_shares: U256,
    /// Borrowed assets incl. interest.
    pub total_borrow_assets: U256,
    /// Borrow shares.
    pub total_borrow_shares: U256,
    /// Last accrual time.
    pub last_update: u64,
    /// Fee (wad, ≤ 25 %) of interest, paid as supply shares to the fee recipient.
    pub fee: U256,
    /// AdaptiveCurveIrm rate at target per second (wad, 0 = not yet initialised).
    pub rate_at_target: I256,
}

/// A market with its parameters and module account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketState {
    /// Parameters.
    pub params: MarketParams,
    /// Totals.
    pub market: Market,
    /// Module account holding the market's tokens (`morpho:<id>`).
    pub account: AccountId,
}

/// A user's position in one market.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Supply shares.
    pub supply_shares: U256,
    /// Borrow shares.
    pub borrow_shares: U256,
    /// Collateral (token units).
    pub collateral: U256,
}

/// The oracle of a market: the price of one unit of collateral in loan-token units, scaled by
/// `ORACLE_PRICE_SCALE` (1e36) and the decimals difference (as `IOracle.price()`).
pub trait MorphoOracle {
    /// Price for `market` at `now`.
    fn price(&self, market: MarketId, params: &MarketParams, now: u64) -> Result<U256, String>;
}

/// A fixed price for every market.
impl MorphoOracle for U256 {
    fn price(&self, _market: MarketId, _params: &MarketParams, _now: u64) -> Result<U256, String> {
        Ok(*self)
    }
}

/// Events (as Morpho's `EventsLib`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MorphoEvent {
    /// Market created.
    CreateMarket {
        /// Id.
        id: MarketId,
        /// Parameters.
        params: MarketParams,
    },
    /// Fee changed.
    SetFee {
        /// Market.
        id: MarketId,
        /// New fee (wad).
        fee: U256,
    },
    /// Interest accrued.
    AccrueInterest {
        /// Market.
        id: MarketId,
        /// Borrow rate per second (wad).
        borrow_rate: U256,
        /// Interest added to borrow and supply assets.
        interest: U256,
        /// Fee shares minted to the fee recipient.
        fee_shares: U256,
    },
    /// Loan tokens supplied.
    Supply {
        /// Market.
        id: MarketId,
        /// User.
        user: AccountId,
        /// Assets.
        assets: U256,
        /// Shares.
        shares: U256,
    },
    /// Loan tokens withdrawn.
    Withdraw {
        /// Market.
        id: MarketId,
        /// User.
        user: AccountId,
        /// Assets.
        assets: U256,
        /// Shares.
        shares: U256,
    },
    /// Borrowed.
    Borrow {
        /// Market.
        id: MarketId,
        /// User.
        user: AccountId,
        /// Assets.
        assets: U256,
        /// Shares.
        shares: U256,
    },
    /// Repaid.
    Repay {
        /// Market.
        id: MarketId,
        /// User.
        user: AccountId,
        /// Assets.
        assets: U256,
        /// Shares.
        shares: U256,
    },
    /// Collateral supplied.
    SupplyCollateral {
        /// Market.
        id: MarketId,
        /// User.
        user: AccountId,
        /// Assets.
        assets: U256,
    },
    /// Collateral withdrawn.
    WithdrawCollateral {
        /// Market.
        id: MarketId,
        /// User.
        user: AccountId,
        /// Assets.
        assets: U256,
    },
    /// A liquidation.
    Liquidate {
        /// Market.
        id: MarketId,
        /// Liquidator.
        liquidator: AccountId,
        /// Borrower.
        borrower: AccountId,
        /// Loan assets repaid.
        repaid_assets: U256,
        /// Borrow shares repaid.
        repaid_shares: U256,
        /// Collateral seized.
        seized_assets: U256,
        /// Bad debt socialised (assets).
        bad_debt_assets: U256,
        /// Bad debt shares removed.
        bad_debt_shares: U256,
    },
}

/// A rejected Morpho action. Codes 6400–6499 (ledger and math errors keep their own codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MorphoError {
    /// No such market.
    MarketNotCreated {
        /// Id.
        id: MarketId,
    },
    /// A market with these parameters exists.
    MarketAlreadyCreated {
        /// Its id.
        id: MarketId,
    },
    /// Not exactly one of assets/shares is zero.
    InconsistentInput,
    /// Zero assets.
    ZeroAssets,
    /// The position would be unhealthy.
    InsufficientCollateral {
        /// Borrowed assets (rounded up).
        borrowed: U256,
        /// Max borrow at LLTV.
        max_borrow: U256,
    },
    /// Borrow assets would exceed supply assets.
    InsufficientLiquidity {
        /// Total borrow assets after.
        total_borrow_assets: U256,
        /// Total supply assets after.
        total_supply_assets: U256,
    },
    /// Liquidation of a healthy position.
    HealthyPosition,
    /// LLTV ≥ 100 %.
    MaxLltvExceeded {
        /// LLTV.
        lltv: U256,
    },
    /// Fee above 25 %.
    MaxFeeExceeded {
        /// Fee.
        fee: U256,
    },
    /// The value is already set.
    AlreadySet,
    /// More shares than held.
    InsufficientShares {
        /// Held.
        held: U256,
        /// Asked.
        requested: U256,
    },
    /// More collateral than held.
    InsufficientCollateralBalance {
        /// Held.
        held: U256,
        /// Asked.
        requested: U256,
    },
    /// `now` is before the market's last update.
    TimeWentBackwards {
        /// Last update.
        last_update: u64,
        /// Time given.
        now: u64,
    },
    /// The oracle failed.
    Oracle {
        /// Market.
        id: MarketId,
        /// Its message.
        message: String,
    },
    /// Ledger failure (boxed: it carries names and amounts).
    Ledger(Box<LedgerError>),
    /// Arithmetic failure (Solidity overflow/underflow/`toUint128` revert).
    Math(MathError),
}

impl From<LedgerError> for MorphoError {
    fn from(e: LedgerError) -> Self {
        MorphoError::Ledger(Box::new(e))
    }
}

impl From<MathError> for MorphoError {
    fn from(e: MathError) -> Self {
        MorphoError::Math(e)
    }
}

impl fmt::Display for MorphoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MorphoError::*;
        match self {
            MarketNotCreated { id } => write!(f, "morpho: market {} not created", id.0),
            MarketAlreadyCreated { id } => write!(f, "morpho: market already created as {}", id.0),
            InconsistentInput => write!(f, "morpho: exactly one of assets and shares must be zero"),
            ZeroAssets => write!(f, "morpho: zero assets"),
            InsufficientCollateral { borrowed, max_borrow } => {
                write!(
                    f,
                    "morpho: insufficient collateral: borrowed {borrowed} > max {max_borrow}"
                )
            }
            InsufficientLiquidity {
                total_borrow_assets,
                total_supply_assets,
            } => write!(
                f,
                "morpho: insufficient liquidity: borrow {total_borrow_assets} > supply {total_supply_assets}"
            ),
            HealthyPosition => write!(f, "morpho: position is healthy"),
            MaxLltvExceeded { lltv } => write!(f, "morpho: LLTV {lltv} ≥ 1e18"),
            MaxFeeExceeded { fee } => write!(f, "morpho: fee {fee} > 25 %"),
            AlreadySet => write!(f, "morpho: already set"),
            InsufficientShares { held, requested } => write!(f, "morpho: {requested} shares requested, {held} held"),
            InsufficientCollateralBalance { held, requested } => {
                write!(f, "morpho: {requested} collateral requested, {held} held")
            }
            TimeWentBackwards { last_update, now } => write!(f, "morpho: time {now} is before {last_update}"),
            Oracle { id, message } => write!(f, "morpho: oracle of market {} failed: {message}", id.0),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MorphoError {}

impl Reject for MorphoError {
    fn code(&self) -> u32 {
        use MorphoError::*;
        match self {
            MarketNotCreated { .. } => 6400,
            MarketAlreadyCreated { .. } => 6401,
            InconsistentInput => 6402,
            ZeroAssets => 6403,
            InsufficientCollateral { .. } => 6404,
            InsufficientLiquidity { .. } => 6405,
            HealthyPosition => 6406,
            MaxLltvExceeded { .. } => 6407,
            MaxFeeExceeded { .. } => 6408,
            AlreadySet => 6409,
            InsufficientShares { .. } => 6410,
            InsufficientCollateralBalance { .. } => 6411,
            TimeWentBackwards { .. } => 6412,
            Oracle { .. } => 6413,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}

/// Result of a Morpho operation.
pub type MorphoResult<T> = Result<T, MorphoError>;

/// Counters for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MorphoStats {
    /// Liquidations executed.
    pub liquidations: u64,
    /// Bad debt socialised, per loan token (assets).
    pub bad_debt: BTreeMap<AssetId, U256>,
}

/// Morpho Blue: all markets and positions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MorphoBlue {
    /// Markets by id.
    pub markets: Vec<MarketState>,
    /// Positions per market (index = market id), by account.
    pub positions: Vec<imbl::OrdMap<AccountId, Position>>,
    /// Receiver of fee shares (`morpho:fees` by default).
    pub fee_recipient: Option<AccountId>,
    /// Counters.
    pub stats: MorphoStats,
    /// Per market, the borrowers by closeness to liquidation (derived from `positions`, kept in
    /// step by every operation; not part of the state).
    #[serde(skip)]
    pub index: Vec<crate::morpho_index::LiquidationIndex>,
}

fn fit128(v: U256) -> MathResult<U256> {
    if v > U256::from(u128::MAX) {
        return Err(MathError::Overflow);
    }
    Ok(v)
}

fn exactly_one_zero(a: U256, b: U256) -> bool {
    (a == U256::ZERO) != (b == U256::ZERO)
}

impl MorphoBlue {
    /// An empty Morpho Blue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The market `id`.
    pub fn market(&self, id: MarketId) -> MorphoResult<&MarketState> {
        self.markets
            .get(id.0 as usize)
            .ok_or(MorphoError::MarketNotCreated { id })
    }

    /// `user`'s position in `id` (default if none).
    pub fn position(&self, id: MarketId, user: AccountId) -> Position {
        self.positions
            .get(id.0 as usize)
            .and_then(|m| m.get(&user))
            .copied()
            .unwrap_or_default()
    }

    /// Creates a market; its tokens are held in `morpho:<id>`.
    ///
    /// Specification:
    /// - fails with [`MorphoError::MaxLltvExceeded`] if LLTV ≥ 1e18;
    /// - fails with [`MorphoError::MarketAlreadyCreated`] if the same parameters exist.
    pub fn create_market(
        &mut self,
        ledger: &mut Ledger,
        params: MarketParams,
        now: u64,
    ) -> MorphoResult<(MarketId, Vec<MorphoEvent>)> {
        if params.lltv >= WAD {
            return Err(MorphoError::MaxLltvExceeded { lltv: params.lltv });
        }
        if let Some(i) = self.markets.iter().position(|m| m.params == params) {
            return Err(MorphoError::MarketAlreadyCreated {
                id: MarketId(u32::try_from(i).unwrap_or(u32::MAX)),
            });
        }
        let id = MarketId(u32::try_from(self.markets.len()).map_err(|_| MathError::Overflow)?);
        let account = ledger.account(&format!("morpho:{}", id.0));
        if self.fee_recipient.is_none() {
            self.fee_recipient = Some(ledger.account("morpho:fees"));
        }
        self.markets.push(MarketState {
            params,
            // Specification (Morpho Blue `createMarket`): the IRM is called once at creation; the
            // AdaptiveCurveIrm's first call stores `INITIAL_RATE_AT_TARGET`.
            market: Market {
                last_update: now,
                rate_at_target: match params.irm {
                    Irm::AdaptiveCurve => INITIAL_RATE_AT_TARGET,
                    Irm::Fixed { .. } => I256::ZERO,
                },
                ..Market::default()
            },
            account,
        });
        self.positions.push(imbl::OrdMap::new());
        Ok((id, vec![MorphoEvent::CreateMarket { id, params }]))
    }

    /// Sets the fee recipient.
    pub fn set_fee_recipient(&mut self, recipient: AccountId) {
        self.fee_recipient = Some(recipient);
    }

    fn fee_recipient(&self) -> AccountId {
        self.fee_recipient.unwrap_or(AccountId(u32::MAX))
    }

    /// Sets the market fee (interest is accrued at the old fee first).
    ///
    /// Specification:
    /// - fails with [`MorphoError::MarketNotCreated`], [`MorphoError::AlreadySet`] (same fee),
    ///   [`MorphoError::MaxFeeExceeded`] (> 25 %), [`MorphoError::TimeWentBackwards`].
    pub fn set_fee(&mut self, id: MarketId, fee: U256, now: u64) -> MorphoResult<Vec<MorphoEvent>> {
        let m = self.market(id)?;
        if fee == m.market.fee {
            return Err(MorphoError::AlreadySet);
        }
        if fee > MAX_FEE {
            return Err(MorphoError::MaxFeeExceeded { fee });
        }
        let fr = self.fee_recipient();
        self.transact(id, &[fr], |mb| {
            let mut events = mb.accrue(id, now)?;
            mb.markets[id.0 as usize].market.fee = fee;
            events.push(MorphoEvent::SetFee { id, fee });
            Ok(events)
        })
    }

    /// Accrues interest of market `id` to `now` (`accrueInterest`).
    ///
    /// Specification:
    /// - fails with [`MorphoError::MarketNotCreated`] or [`MorphoError::TimeWentBackwards`], or a
    ///   math error where the contract reverts.
    pub fn accrue_interest(&mut self, id: MarketId, now: u64) -> MorphoResult<Vec<MorphoEvent>> {
        self.market(id)?;
        let fr = self.fee_recipient();
        self.transact(id, &[fr], |mb| mb.accrue(id, now))
    }

    /// Brings the liquidation index of market `id` up to date for `users`.
    fn reindex(&mut self, id: MarketId, users: &[AccountId]) {
        let i = id.0 as usize;
        if self.index.len() < self.positions.len() {
            self.index.resize_with(self.positions.len(), Default::default);
        }
        if let (Some(map), Some(ix)) = (self.positions.get(i), self.index.get_mut(i)) {
            for u in users {
                ix.update(*u, &map.get(u).copied().unwrap_or_default());
            }
        }
    }

    /// The liquidation index of market `id` (empty if none).
    pub fn liquidation_index(&self, id: MarketId) -> Option<&crate::morpho_index::LiquidationIndex> {
        self.index.get(id.0 as usize)
    }

    /// Runs `f`; on `Err` restores market `id`, the positions of `users` and the counters.
    fn transact<T>(
        &mut self,
        id: MarketId,
        users: &[AccountId],
        f: impl FnOnce(&mut Self) -> MorphoResult<T>,
    ) -> MorphoResult<T> {
        let saved_market = self.markets.get(id.0 as usize).cloned();
        let saved_positions: Vec<(AccountId, Option<Position>)> = users
            .iter()
            .map(|u| (*u, self.positions.get(id.0 as usize).and_then(|m| m.get(u)).copied()))
            .collect();
        let saved_stats = self.stats.clone();
        match f(self) {
            Ok(v) => {
                self.reindex(id, users);
                Ok(v)
            }
            Err(e) => {
                if let Some(m) = saved_market {
                    self.markets[id.0 as usize] = m;
                }
                if let Some(map) = self.positions.get_mut(id.0 as usize) {
                    for (u, p) in saved_positions.into_iter().rev() {
                        match p {
                            Some(p) => {
                                map.insert(u, p);
                            }
                            None => {
                                map.remove(&u);
                            }
                        }
                    }
                }
                self.stats = saved_stats;
                Err(e)
            }
        }
    }

    fn transact_ledger<T>(
        &mut self,
        ledger: &mut Ledger,
        id: MarketId,
        users: &[AccountId],
        f: impl FnOnce(&mut Self, &mut Ledger) -> MorphoResult<T>,
    ) -> MorphoResult<T> {
        self.market(id)?;
        let cp = ledger.checkpoint();
        let mut all = users.to_vec();
        all.push(self.fee_recipient());
        let r = self.transact(id, &all, |mb| f(mb, ledger));
        match r {
            Ok(v) => {
                ledger.commit(cp);
                Ok(v)
            }
            Err(e) => {
                ledger.rollback(cp);
                Err(e)
            }
        }
    }

    /// `_accrueInterest`.
    fn accrue(&mut self, id: MarketId, now: u64) -> MorphoResult<Vec<MorphoEvent>> {
        let fee_recipient = self.fee_recipient();
        let ms = &mut self.markets[id.0 as usize];
        let m = &mut ms.market;
        let elapsed = now.checked_sub(m.last_update).ok_or(MorphoError::TimeWentBackwards {
            last_update: m.last_update,
            now,
        })?;
        if elapsed == 0 {
            return Ok(vec![]);
        }
        let mut events = vec![];
        // Specification (Morpho Blue `_accrueInterest`): the IRM is called on every accrual with
        // time elapsed, borrowed or not, so an idle AdaptiveCurve market's rate at target decays
        // toward `MIN_RATE_AT_TARGET` (utilisation 0 is an error of −1); the interest is then 0.
        let borrow_rate = match ms.params.irm {
            Irm::AdaptiveCurve => {
                let (avg, end) = adaptive_curve_borrow_rate(
                    m.total_supply_assets,
                    m.total_borrow_assets,
                    m.rate_at_target,
                    elapsed,
                )?;
                m.rate_at_target = end;
                avg
            }
            Irm::Fixed { rate_per_second } => rate_per_second,
        };
        let interest = w_mul_down(m.total_borrow_assets, w_taylor_compounded(borrow_rate, elapsed)?)?;
        m.total_borrow_assets = fit128(m.total_borrow_assets.add_c(interest)?)?;
        m.total_supply_assets = fit128(m.total_supply_assets.add_c(interest)?)?;
        let mut fee_shares = U256::ZERO;
        if m.fee != U256::ZERO {
            let fee_amount = w_mul_down(interest, m.fee)?;
            fee_shares = to_shares_down(fee_amount, m.total_supply_assets - fee_amount, m.total_supply_shares)?;
            m.total_supply_shares = fit128(m.total_supply_shares.add_c(fee_shares)?)?;
            let p = self.positions[id.0 as usize].entry(fee_recipient).or_default();
            p.supply_shares = p.supply_shares.add_c(fee_shares)?;
        }
        events.push(MorphoEvent::AccrueInterest {
            id,
            borrow_rate,
            interest,
            fee_shares,
        });
        self.markets[id.0 as usize].market.last_update = now;
        Ok(events)
    }

    fn oracle_price(&self, oracle: &dyn MorphoOracle, id: MarketId, now: u64) -> MorphoResult<U256> {
        let ms = self.market(id)?;
        oracle
            .price(id, &ms.params, now)
            .map_err(|message| MorphoError::Oracle { id, message })
    }

    /// `(borrowed (up), max_borrow)` of `user` at `price`.
    pub fn health(&self, id: MarketId, user: AccountId, price: U256) -> MorphoResult<(U256, U256)> {
        let ms = self.market(id)?;
        let p = self.position(id, user);
        let borrowed = to_assets_up(
            p.borrow_shares,
            ms.market.total_borrow_assets,
            ms.market.total_borrow_shares,
        )?;
        let max_borrow = w_mul_down(mul_div_down(p.collateral, price, ORACLE_PRICE_SCALE)?, ms.params.lltv)?;
        Ok((borrowed, max_borrow))
    }

    fn check_healthy(&self, id: MarketId, user: AccountId, oracle: &dyn MorphoOracle, now: u64) -> MorphoResult<()> {
        if self.position(id, user).borrow_shares == U256::ZERO {
            return Ok(());
        }
        let price = self.oracle_price(oracle, id, now)?;
        let (borrowed, max_borrow) = self.health(id, user, price)?;
        if max_borrow < borrowed {
            return Err(MorphoError::InsufficientCollateral { borrowed, max_borrow });
        }
        Ok(())
    }

    fn check_liquidity(&self, id: MarketId) -> MorphoResult<()> {
        let m = &self.markets[id.0 as usize].market;
        if m.total_borrow_assets > m.total_supply_assets {
            return Err(MorphoError::InsufficientLiquidity {
                total_borrow_assets: m.total_borrow_assets,
                total_supply_assets: m.total_supply_assets,
            });
        }
        Ok(())
    }

    // ----- supply side -----

    /// Supplies loan tokens from `user` for `assets` (shares rounded down) or for exactly
    /// `shares` (assets rounded up).
    ///
    /// Specification:
    /// - fails with [`MorphoError::MarketNotCreated`], [`MorphoError::InconsistentInput`] (not exactly one of
    ///   assets/shares zero), [`MorphoError::TimeWentBackwards`];
    /// - fails with a ledger error if `user` lacks the loan token, a math error past `uint128`.
    pub fn supply(
        &mut self,
        ledger: &mut Ledger,
        id: MarketId,
        user: AccountId,
        assets: U256,
        shares: U256,
        now: u64,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[user], |mb, ledger| {
            if !exactly_one_zero(assets, shares) {
                return Err(MorphoError::InconsistentInput);
            }
            let mut events = mb.accrue(id, now)?;
            let ms = &mut mb.markets[id.0 as usize];
            let m = &mut ms.market;
            let (assets, shares) = if assets > U256::ZERO {
                (
                    assets,
                    to_shares_down(assets, m.total_supply_assets, m.total_supply_shares)?,
                )
            } else {
                (
                    to_assets_up(shares, m.total_supply_assets, m.total_supply_shares)?,
                    shares,
                )
            };
            m.total_supply_shares = fit128(m.total_supply_shares.add_c(shares)?)?;
            m.total_supply_assets = fit128(m.total_supply_assets.add_c(assets)?)?;
            let (account, loan) = (ms.account, ms.params.loan_token);
            let p = mb.positions[id.0 as usize].entry(user).or_default();
            p.supply_shares = p.supply_shares.add_c(shares)?;
            ledger.transfer(user, account, loan, assets)?;
            events.push(MorphoEvent::Supply {
                id,
                user,
                assets,
                shares,
            });
            Ok(events)
        })
    }

    /// Withdraws supplied loan tokens: `assets` (shares rounded up) or `shares` (assets rounded down).
    ///
    /// Specification:
    /// - fails with [`MorphoError::InconsistentInput`], [`MorphoError::TimeWentBackwards`];
    /// - fails with [`MorphoError::InsufficientShares`] if the shares exceed the position;
    /// - fails with [`MorphoError::InsufficientLiquidity`] if borrow assets would exceed supply assets.
    pub fn withdraw(
        &mut self,
        ledger: &mut Ledger,
        id: MarketId,
        user: AccountId,
        assets: U256,
        shares: U256,
        now: u64,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[user], |mb, ledger| {
            if !exactly_one_zero(assets, shares) {
                return Err(MorphoError::InconsistentInput);
            }
            let mut events = mb.accrue(id, now)?;
            let ms = &mut mb.markets[id.0 as usize];
            let m = &mut ms.market;
            let (assets, shares) = if assets > U256::ZERO {
                (
                    assets,
                    to_shares_up(assets, m.total_supply_assets, m.total_supply_shares)?,
                )
            } else {
                (
                    to_assets_down(shares, m.total_supply_assets, m.total_supply_shares)?,
                    shares,
                )
            };
            let p = mb.positions[id.0 as usize].entry(user).or_default();
            p.supply_shares = p
                .supply_shares
                .checked_sub(shares)
                .ok_or(MorphoError::InsufficientShares {
                    held: p.supply_shares,
                    requested: shares,
                })?;
            m.total_supply_shares = m.total_supply_shares.sub_c(shares)?;
            m.total_supply_assets = m.total_supply_assets.sub_c(assets)?;
            let (account, loan) = (ms.account, ms.params.loan_token);
            mb.check_liquidity(id)?;
            ledger.transfer(account, user, loan, assets)?;
            events.push(MorphoEvent::Withdraw {
                id,
                user,
                assets,
                shares,
            });
            Ok(events)
        })
    }

    // ----- borrow side -----

    /// Borrows `assets` (shares rounded up) or exactly `shares` (assets rounded down).
    ///
    /// Specification:
    /// - fails with [`MorphoError::InconsistentInput`], [`MorphoError::TimeWentBackwards`];
    /// - fails with [`MorphoError::InsufficientCollateral`] if `toAssetsUp(shares) > wMulDown(mulDivDown(collateral, price, 1e36), lltv)`;
    /// - fails with [`MorphoError::InsufficientLiquidity`]; [`MorphoError::Oracle`] if the price fails.
    #[allow(clippy::too_many_arguments)]
    pub fn borrow(
        &mut self,
        ledger: &mut Ledger,
        oracle: &dyn MorphoOracle,
        id: MarketId,
        user: AccountId,
        assets: U256,
        shares: U256,
        now: u64,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[user], |mb, ledger| {
            if !exactly_one_zero(assets, shares) {
                return Err(MorphoError::InconsistentInput);
            }
            let mut events = mb.accrue(id, now)?;
            let ms = &mut mb.markets[id.0 as usize];
            let m = &mut ms.market;
            let (assets, shares) = if assets > U256::ZERO {
                (
                    assets,
                    to_shares_up(assets, m.total_borrow_assets, m.total_borrow_shares)?,
                )
            } else {
                (
                    to_assets_down(shares, m.total_borrow_assets, m.total_borrow_shares)?,
                    shares,
                )
            };
            m.total_borrow_shares = fit128(m.total_borrow_shares.add_c(shares)?)?;
            m.total_borrow_assets = fit128(m.total_borrow_assets.add_c(assets)?)?;
            let (account, loan) = (ms.account, ms.params.loan_token);
            let p = mb.positions[id.0 as usize].entry(user).or_default();
            p.borrow_shares = fit128(p.borrow_shares.add_c(shares)?)?;
            mb.check_healthy(id, user, oracle, now)?;
            mb.check_liquidity(id)?;
            ledger.transfer(account, user, loan, assets)?;
            events.push(MorphoEvent::Borrow {
                id,
                user,
                assets,
                shares,
            });
            Ok(events)
        })
    }

    /// Repays `assets` (shares rounded down) or exactly `shares` (assets rounded up).
    ///
    /// Specification:
    /// - fails with [`MorphoError::InconsistentInput`], [`MorphoError::TimeWentBackwards`];
    /// - fails with [`MorphoError::InsufficientShares`] if more shares than borrowed;
    /// - fails with a ledger error if `user` lacks the loan token.
    pub fn repay(
        &mut self,
        ledger: &mut Ledger,
        id: MarketId,
        user: AccountId,
        assets: U256,
        shares: U256,
        now: u64,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[user], |mb, ledger| {
            if !exactly_one_zero(assets, shares) {
                return Err(MorphoError::InconsistentInput);
            }
            let mut events = mb.accrue(id, now)?;
            let ms = &mut mb.markets[id.0 as usize];
            let m = &mut ms.market;
            let (assets, shares) = if assets > U256::ZERO {
                (
                    assets,
                    to_shares_down(assets, m.total_borrow_assets, m.total_borrow_shares)?,
                )
            } else {
                (
                    to_assets_up(shares, m.total_borrow_assets, m.total_borrow_shares)?,
                    shares,
                )
            };
            let p = mb.positions[id.0 as usize].entry(user).or_default();
            p.borrow_shares = p
                .borrow_shares
                .checked_sub(shares)
                .ok_or(MorphoError::InsufficientShares {
                    held: p.borrow_shares,
                    requested: shares,
                })?;
            m.total_borrow_shares = m.total_borrow_shares.sub_c(shares)?;
            m.total_borrow_assets = m.total_borrow_assets.saturating_sub(assets);
            let (account, loan) = (ms.account, ms.params.loan_token);
            ledger.transfer(user, account, loan, assets)?;
            events.push(MorphoEvent::Repay {
                id,
                user,
                assets,
                shares,
            });
            Ok(events)
        })
    }

    // ----- collateral -----

    /// Supplies collateral (no interest accrual, as the contract).
    ///
    /// Specification:
    /// - fails with [`MorphoError::MarketNotCreated`], [`MorphoError::ZeroAssets`], or a ledger error.
    pub fn supply_collateral(
        &mut self,
        ledger: &mut Ledger,
        id: MarketId,
        user: AccountId,
        assets: U256,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[user], |mb, ledger| {
            if assets == U256::ZERO {
                return Err(MorphoError::ZeroAssets);
            }
            let ms = &mb.markets[id.0 as usize];
            let (account, token) = (ms.account, ms.params.collateral_token);
            let p = mb.positions[id.0 as usize].entry(user).or_default();
            p.collateral = fit128(p.collateral.add_c(assets)?)?;
            ledger.transfer(user, account, token, assets)?;
            Ok(vec![MorphoEvent::SupplyCollateral { id, user, assets }])
        })
    }

    /// Withdraws collateral; the position must stay healthy.
    ///
    /// Specification:
    /// - fails with [`MorphoError::ZeroAssets`], [`MorphoError::TimeWentBackwards`];
    /// - fails with [`MorphoError::InsufficientCollateralBalance`] if more than held;
    /// - fails with [`MorphoError::InsufficientCollateral`] if unhealthy afterwards.
    pub fn withdraw_collateral(
        &mut self,
        ledger: &mut Ledger,
        oracle: &dyn MorphoOracle,
        id: MarketId,
        user: AccountId,
        assets: U256,
        now: u64,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[user], |mb, ledger| {
            if assets == U256::ZERO {
                return Err(MorphoError::ZeroAssets);
            }
            let mut events = mb.accrue(id, now)?;
            let ms = &mb.markets[id.0 as usize];
            let (account, token) = (ms.account, ms.params.collateral_token);
            let p = mb.positions[id.0 as usize].entry(user).or_default();
            p.collateral = p
                .collateral
                .checked_sub(assets)
                .ok_or(MorphoError::InsufficientCollateralBalance {
                    held: p.collateral,
                    requested: assets,
                })?;
            mb.check_healthy(id, user, oracle, now)?;
            ledger.transfer(account, user, token, assets)?;
            events.push(MorphoEvent::WithdrawCollateral { id, user, assets });
            Ok(events)
        })
    }

    // ----- liquidation -----

    /// Liquidates an unhealthy `borrower`: either seize exactly `seized_assets` of collateral
    /// (`shares = toSharesUp(wDivUp(mulDivUp(seized, price, 1e36), LIF))`) or repay exactly
    /// `repaid_shares` (`seized = mulDivDown(wMulDown(toAssetsDown(shares), LIF), 1e36, price)`);
    /// the liquidator pays `toAssetsUp(shares)` either way.
    /// If the borrower's collateral reaches zero, the remaining debt is socialised: supply and
    /// borrow assets both drop by it.
    ///
    /// Specification:
    /// - fails with [`MorphoError::InconsistentInput`], [`MorphoError::TimeWentBackwards`], [`MorphoError::Oracle`];
    /// - fails with [`MorphoError::HealthyPosition`] if `maxBorrow ≥ borrowed`;
    /// - fails with [`MorphoError::InsufficientShares`] / [`MorphoError::InsufficientCollateralBalance`]
    ///   if the repaid shares or seized collateral exceed the borrower's;
    /// - fails with a ledger error if the liquidator lacks the loan token.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate(
        &mut self,
        ledger: &mut Ledger,
        oracle: &dyn MorphoOracle,
        id: MarketId,
        liquidator: AccountId,
        borrower: AccountId,
        seized_assets: U256,
        repaid_shares: U256,
        now: u64,
    ) -> MorphoResult<Vec<MorphoEvent>> {
        self.transact_ledger(ledger, id, &[borrower, liquidator], |mb, ledger| {
            if !exactly_one_zero(seized_assets, repaid_shares) {
                return Err(MorphoError::InconsistentInput);
            }
            let mut events = mb.accrue(id, now)?;
            let price = mb.oracle_price(oracle, id, now)?;
            let (borrowed, max_borrow) = mb.health(id, borrower, price)?;
            if max_borrow >= borrowed {
                return Err(MorphoError::HealthyPosition);
            }
            let ms = &mut mb.markets[id.0 as usize];
            let m = &mut ms.market;
            let lif = liquidation_incentive_factor(ms.params.lltv)?;
            // Specification (Morpho Blue `liquidate`): the seized-assets path quotes the collateral
            // up, divides by the LIF up and converts to shares *up*; the shares path values the
            // shares *down* for the seizure. Both then charge `toAssetsUp(repaidShares)`.
            let (seized, repaid_shares) = if seized_assets > U256::ZERO {
                let quoted = w_div_up(mul_div_up(seized_assets, price, ORACLE_PRICE_SCALE)?, lif)?;
                let shares = to_shares_up(quoted, m.total_borrow_assets, m.total_borrow_shares)?;
                (seized_assets, shares)
            } else {
                let value = to_assets_down(repaid_shares, m.total_borrow_assets, m.total_borrow_shares)?;
                let seized = mul_div_down(w_mul_down(value, lif)?, ORACLE_PRICE_SCALE, price)?;
                (seized, repaid_shares)
            };
            let repaid_assets = to_assets_up(repaid_shares, m.total_borrow_assets, m.total_borrow_shares)?;
            let p = mb.positions[id.0 as usize].entry(borrower).or_default();
            p.borrow_shares = p
                .borrow_shares
                .checked_sub(repaid_shares)
                .ok_or(MorphoError::InsufficientShares {
                    held: p.borrow_shares,
                    requested: repaid_shares,
                })?;
            m.total_borrow_shares = m.total_borrow_shares.sub_c(repaid_shares)?;
            m.total_borrow_assets = m.total_borrow_assets.saturating_sub(repaid_assets);
            p.collateral = p
                .collateral
                .checked_sub(seized)
                .ok_or(MorphoError::InsufficientCollateralBalance {
                    held: p.collateral,
                    requested: seized,
                })?;
            let mut bad_debt_shares = U256::ZERO;
            let mut bad_debt_assets = U256::ZERO;
            if p.collateral == U256::ZERO {
                bad_debt_shares = p.borrow_shares;
                bad_debt_assets = m.total_borrow_assets.min(to_assets_up(
                    bad_debt_shares,
                    m.total_borrow_assets,
                    m.total_borrow_shares,
                )?);
                m.total_borrow_assets = m.total_borrow_assets.sub_c(bad_debt_assets)?;
                m.total_supply_assets = m.total_supply_assets.sub_c(bad_debt_assets)?;
                m.total_borrow_shares = m.total_borrow_shares.sub_c(bad_debt_shares)?;
                p.borrow_shares = U256::ZERO;
            }
            let (account, loan, coll) = (ms.account, ms.params.loan_token, ms.params.collateral_token);
            ledger.transfer(account, liquidator, coll, seized)?;
            ledger.transfer(liquidator, account, loan, repaid_assets)?;
            mb.stats.liquidations += 1;
            if bad_debt_assets != U256::ZERO {
                let e = mb.stats.bad_debt.entry(loan).or_insert(U256::ZERO);
                *e = e.add_c(bad_debt_assets)?;
            }
            events.push(MorphoEvent::Liquidate {
                id,
                liquidator,
                borrower,
                repaid_assets,
                repaid_shares,
                seized_assets: seized,
                bad_debt_assets,
                bad_debt_shares,
            });
            Ok(events)
        })
    }

    // ----- views -----

    /// Supply assets of `user` (`toAssetsDown` of its shares) at the last accrual.
    pub fn supply_assets(&self, id: MarketId, user: AccountId) -> MorphoResult<U256> {
        let m = &self.market(id)?.market;
        Ok(to_assets_down(
            self.position(id, user).supply_shares,
            m.total_supply_assets,
            m.total_supply_shares,
        )?)
    }

    /// Borrow assets of `user` (`toAssetsUp` of its shares) at the last accrual.
    pub fn borrow_assets(&self, id: MarketId, user: AccountId) -> MorphoResult<U256> {
        let m = &self.market(id)?.market;
        Ok(to_assets_up(
            self.position(id, user).borrow_shares,
            m.total_borrow_assets,
            m.total_borrow_shares,
        )?)
    }

    /// Utilisation `borrow/supply` (wad, floor) of market `id`.
    pub fn utilization(&self, id: MarketId) -> MorphoResult<U256> {
        let m = &self.market(id)?.market;
        if m.total_supply_assets == U256::ZERO {
            return Ok(U256::ZERO);
        }
        Ok(w_div_down(m.total_borrow_assets, m.total_supply_assets)?)
    }

    /// Backing rules per market: supply assets ≥ borrow assets; the market account holds at
    /// least `supply − borrow` loan tokens plus Σ collateral (if both tokens are the same, their
    /// sum); Σ position shares = total shares.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        let mut supply_shares = vec![U256::ZERO; self.markets.len()];
        let mut borrow_shares = vec![U256::ZERO; self.markets.len()];
        let mut collateral = vec![U256::ZERO; self.markets.len()];
        if self.positions.len() != self.markets.len() {
            return Err("morpho: position maps disagree with markets".into());
        }
        for (i, map) in self.positions.iter().enumerate() {
            for p in map.values() {
                supply_shares[i] = supply_shares[i].saturating_add(p.supply_shares);
                borrow_shares[i] = borrow_shares[i].saturating_add(p.borrow_shares);
                collateral[i] = collateral[i].saturating_add(p.collateral);
            }
            let indexed = match self.index.get(i) {
                Some(ix) => ix.matches(map.iter().map(|(u, p)| (*u, *p))),
                None => map.values().all(|p| p.borrow_shares == U256::ZERO),
            };
            if !indexed {
                return Err(format!("morpho {i}: liquidation index disagrees with the positions"));
            }
        }
        // Supply ≥ borrow and the loan cash; then what needs the position sums.
        self.check_backing(ledger)?;
        for (i, ms) in self.markets.iter().enumerate() {
            let m = &ms.market;
            if supply_shares[i] != m.total_supply_shares || borrow_shares[i] != m.total_borrow_shares {
                return Err(format!("morpho {i}: position shares disagree with totals"));
            }
            let loan_need = m.total_supply_assets - m.total_borrow_assets;
            let (loan, coll) = (ms.params.loan_token, ms.params.collateral_token);
            if loan == coll {
                let need = loan_need.saturating_add(collateral[i]);
                let have = ledger.balance(ms.account, loan);
                if have < need {
                    return Err(format!("morpho {i}: holds {have} < {need}"));
                }
            } else {
                let have_coll = ledger.balance(ms.account, coll);
                if have_coll < collateral[i] {
                    return Err(format!(
                        "morpho {i}: collateral held {have_coll} < positions {}",
                        collateral[i]
                    ));
                }
            }
        }
        Ok(())
    }

    /// The per-market rules that need no scan of the positions: supply ≥ borrow, and the loan
    /// cash covers supply − borrow. O(markets), whatever the number of positions; the position
    /// sums are checked by [`Self::check_invariants`].
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        for (i, ms) in self.markets.iter().enumerate() {
            let m = &ms.market;
            if m.total_supply_assets < m.total_borrow_assets {
                return Err(format!(
                    "morpho {i}: supply {} < borrow {}",
                    m.total_supply_assets, m.total_borrow_assets
                ));
            }
            let loan_need = m.total_supply_assets - m.total_borrow_assets;
            let have_loan = ledger.balance(ms.account, ms.params.loan_token);
            if have_loan < loan_need {
                return Err(format!(
                    "morpho {i}: loan cash {have_loan} < supply − borrow {loan_need}"
                ));
            }
        }
        Ok(())
    }
}

impl stake_ledger::StateHash for MorphoBlue {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w_exp_matches_hand_values() {
        assert_eq!(w_exp(I256::ZERO).unwrap(), WAD_I);
        // x = ln 2 → q = 1, r = 0 → 2e18.
        assert_eq!(w_exp(LN_2_INT).unwrap(), I256::new(2_000_000_000_000_000_000));
        assert_eq!(w_exp(LN_WEI_INT - 1).unwrap(), I256::ZERO);
        assert_eq!(
            w_exp(WEXP_UPPER_BOUND).unwrap(),
            parse_i256(WEXP_UPPER_VALUE_DEC).unwrap()
        );
    }

    #[test]
    fn incentive_factor_of_86_percent_lltv() {
        // 1/(1 − 0.3·0.14) = 1/0.958 = 1.043841336116910229 (floor).
        let lif = liquidation_incentive_factor(U256::new(860_000_000_000_000_000)).unwrap();
        assert_eq!(lif, U256::new(1_043_841_336_116_910_229));
        // LLTV 0 → 1/0.7 = 1.43 → capped at 1.15.
        assert_eq!(
            liquidation_incentive_factor(U256::ZERO).unwrap(),
            MAX_LIQUIDATION_INCENTIVE_FACTOR
        );
    }
}
