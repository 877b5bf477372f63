//! The published reward and slashing rules of the chains beyond Ethereum (SPEC §3.2), as pure
//! integer functions, and their mainnet parameters.
//!
//! * Solana (`anza-xyz/agave` `sdk/src/inflation.rs`, `runtime/src/bank.rs`): the yearly rate is
//!   `max(initial·(1 − taper)^year, terminal)`; each epoch pays
//!   `⌊rate · capitalization · epoch_years⌋` to stake, split by points (stake × vote credits),
//!   less the validator's commission.
//! * Sui (`sui-framework` `stake_subsidy.move`): a per-epoch subsidy that drops by
//!   `decrease_rate_bps` every `period_epochs` epochs, plus the epoch's gas fees.
//! * Polkadot (`polkadot-sdk` `pallet-staking-reward-fn`, `relay_era_payout`): staker inflation
//!   `min + (max − min)·adjust(x)` of the issuance per year, with `adjust(x) = x / ideal` below the
//!   ideal staking ratio and `2^((ideal − x)/falloff)` above it; equivocation slashes
//!   `min(3k/n, 1)²` of the offenders' stake.
//! * Cosmos (`cosmos-sdk` `x/mint` `minter.go`): each block moves the inflation toward the
//!   bonded-ratio goal by `(1 − bonded/goal) · rate_change / blocks_per_year`, clamped to
//!   `[min, max]`, and mints `⌊inflation · supply / blocks_per_year⌋`; 18-decimal `LegacyDec`
//!   arithmetic with banker's rounding.
//!
//! Rates are wads (1e18 = 100 %) unless the name says `bps` or `ppm`.

use serde::{Deserialize, Serialize};
use stake_math::{logexp, mul_div_down, u, Checked, MathError, MathResult, I256, U256, WAD};

/// The length of Solana's year: 365.242199 days, in ten-thousandths of a second.
pub const SOLANA_YEAR_SECONDS_X10K: u128 = 315_569_259_936;
/// A Julian year (365.25 days) in seconds, the year of Polkadot's `relay_era_payout` and of the
/// Cosmos SDK's default `blocks_per_year`.
pub const JULIAN_YEAR_SECONDS: u64 = 31_557_600;
/// `ln 2` as a wad (rounded down).
const LN2_WAD: i128 = 693_147_180_559_945_309;

/// Solana's inflation schedule (`Inflation::full()` on mainnet: no foundation share).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolanaInflation {
    /// Rate in year 0 (wad; mainnet 8 %).
    pub initial_wad: U256,
    /// Yearly disinflation (wad; mainnet 15 %).
    pub taper_wad: U256,
    /// Floor of the rate (wad; mainnet 1.5 %).
    pub terminal_wad: U256,
    /// Years of inflation already elapsed at the model's genesis (wad; full inflation started
    /// at epoch 150, February 2021, so 5 years is early 2026).
    pub years_at_genesis_wad: U256,
}

impl Default for SolanaInflation {
    fn default() -> Self {
        SolanaInflation {
            initial_wad: u(80_000_000_000_000_000),
            taper_wad: u(150_000_000_000_000_000),
            terminal_wad: u(15_000_000_000_000_000),
            years_at_genesis_wad: u(5_000_000_000_000_000_000),
        }
    }
}

/// Solana's yearly inflation rate at `year_wad` years: `max(initial·(1 − taper)^year, terminal)`.
/// The power is `LogExpMath.pow` (wad), the product rounded down.
///
/// Specification:
/// - fails with `OutOfDomain { func: "solana.inflation_rate" }` if `taper ≥ 1` (the base
///   `1 − taper` must be positive);
/// - fails as [`logexp::pow`] for a year too large for the power.
pub fn solana_inflation_rate(p: &SolanaInflation, year_wad: U256) -> MathResult<U256> {
    if p.taper_wad >= WAD {
        return Err(MathError::OutOfDomain {
            func: "solana.inflation_rate",
            value: p.taper_wad.to_string(),
        });
    }
    let decay = logexp::pow(WAD - p.taper_wad, year_wad)?;
    let tapered = mul_div_down(p.initial_wad, decay, WAD)?;
    Ok(tapered.max(p.terminal_wad))
}

/// Years (wad, down) in `seconds` of Solana's 365.242199-day year.
pub fn solana_years_wad(seconds: u64) -> MathResult<U256> {
    mul_div_down(
        u(u128::from(seconds)),
        WAD.mul_c(u(10_000))?,
        u(SOLANA_YEAR_SECONDS_X10K),
    )
}

/// The stake rewards of one Solana epoch: `⌊rate · capitalization · epoch_years⌋` (both wads,
/// one rounding, as `(validator_rate * capitalization * period) as u64`).
pub fn solana_epoch_rewards(rate_wad: U256, capitalization: U256, epoch_years_wad: U256) -> MathResult<U256> {
    mul_div_down(capitalization, rate_wad.mul_c(epoch_years_wad)?, WAD.mul_c(WAD)?)
}

/// Sui's stake subsidy schedule (`stake_subsidy.move`, mainnet genesis values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiSubsidy {
    /// Subsidy per epoch at the model's genesis (MIST; mainnet started at 1,000,000 SUI).
    pub distribution_per_epoch: U256,
    /// Epochs between decreases (mainnet 30).
    pub period_epochs: u64,
    /// Decrease at the end of each period (bps; mainnet 1,000 = 10 %).
    pub decrease_rate_bps: u64,
    /// Distributions already made at genesis (counts toward the next decrease).
    pub distribution_counter: u64,
    /// Gas fees (computation charges) paid to stake each epoch (MIST).
    pub gas_fees_per_epoch: U256,
}

impl Default for SuiSubsidy {
    fn default() -> Self {
        SuiSubsidy {
            distribution_per_epoch: u(1_000_000 * 1_000_000_000),
            period_epochs: 30,
            decrease_rate_bps: 1_000,
            distribution_counter: 0,
            gas_fees_per_epoch: u(20_000 * 1_000_000_000),
        }
    }
}

/// One epoch of Sui's subsidy: returns `(paid, next_amount, next_counter)`. The counter counts
/// distributions; when it reaches a multiple of `period_epochs` the amount drops by
/// `⌊amount · rate / 1e4⌋`.
///
/// Specification: fails with `OutOfDomain { func: "sui.subsidy" }` if `period_epochs == 0` or
/// `decrease_rate_bps > 10,000`.
pub fn sui_subsidy_step(
    amount: U256,
    counter: u64,
    period_epochs: u64,
    rate_bps: u64,
) -> MathResult<(U256, U256, u64)> {
    if period_epochs == 0 || rate_bps > 10_000 {
        return Err(MathError::OutOfDomain {
            func: "sui.subsidy",
            value: format!("period {period_epochs}, rate {rate_bps} bps"),
        });
    }
    let counter = counter.checked_add(1).ok_or(MathError::Overflow)?;
    let mut next = amount;
    if counter % period_epochs == 0 {
        next = amount.sub_c(mul_div_down(amount, u(u128::from(rate_bps)), u(10_000))?)?;
    }
    Ok((amount, next, counter))
}

/// Polkadot's NPoS inflation curve (`relay_era_payout` on the relay chain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NposCurve {
    /// Inflation paid to stakers at zero stake (wad; 2.5 %).
    pub min_inflation_wad: U256,
    /// Inflation at the ideal staking ratio; the rest up to it goes to the treasury (wad; 10 %).
    pub max_inflation_wad: U256,
    /// Ideal staking ratio (wad; 75 %).
    pub ideal_stake_wad: U256,
    /// Falloff above the ideal ratio (wad; 5 %).
    pub falloff_wad: U256,
}

impl Default for NposCurve {
    fn default() -> Self {
        NposCurve {
            min_inflation_wad: u(25_000_000_000_000_000),
            max_inflation_wad: u(100_000_000_000_000_000),
            ideal_stake_wad: u(750_000_000_000_000_000),
            falloff_wad: u(50_000_000_000_000_000),
        }
    }
}

/// `compute_inflation(stake, ideal, falloff)` of `pallet-staking-reward-fn`: `stake/ideal`
/// (down) below the ideal, `2^((ideal − stake)/falloff)` at or above it. The pallet evaluates the
/// power by a Taylor series in `Perquintill`; here it is `exp(−ln2 · (stake − ideal)/falloff)`
/// (LogExpMath, wad), equal to within 1e-15.
///
/// Specification: fails with `OutOfDomain { func: "polkadot.inflation" }` if `stake > 1`, or if
/// `ideal` or `falloff` is zero or above 1.
pub fn npos_adjustment(stake_wad: U256, ideal_wad: U256, falloff_wad: U256) -> MathResult<U256> {
    if stake_wad > WAD || ideal_wad == U256::ZERO || ideal_wad > WAD || falloff_wad == U256::ZERO || falloff_wad > WAD {
        return Err(MathError::OutOfDomain {
            func: "polkadot.inflation",
            value: format!("stake {stake_wad}, ideal {ideal_wad}, falloff {falloff_wad}"),
        });
    }
    if stake_wad < ideal_wad {
        return mul_div_down(stake_wad, WAD, ideal_wad);
    }
    let x = mul_div_down(stake_wad - ideal_wad, WAD, falloff_wad)?;
    // x ≤ 1/falloff ≤ 1e18·1e18: the exponent −ln2·x stays above −41 only for x < 59;
    // below that 2^−x < 2e-18 is zero at wad precision.
    if x >= u(59 * 1_000_000_000_000_000_000) {
        return Ok(U256::ZERO);
    }
    let xi = I256::try_from(x).map_err(|_| MathError::Overflow)?;
    let exponent = -(xi * I256::new(LN2_WAD)) / I256::new(1_000_000_000_000_000_000);
    let v = logexp::exp(exponent)?;
    U256::try_from(v).map_err(|_| MathError::Underflow)
}

/// Polkadot's staker inflation at a staking ratio: `min + (max − min)·adjust(ratio)` (wad, down).
///
/// Specification: fails as [`npos_adjustment`], and with `OutOfDomain` if `min > max`.
pub fn npos_staker_inflation(c: &NposCurve, stake_wad: U256) -> MathResult<U256> {
    let delta = c
        .max_inflation_wad
        .checked_sub(c.min_inflation_wad)
        .ok_or_else(|| MathError::OutOfDomain {
            func: "polkadot.inflation",
            value: format!("min {} > max {}", c.min_inflation_wad, c.max_inflation_wad),
        })?;
    let adj = npos_adjustment(stake_wad, c.ideal_stake_wad, c.falloff_wad)?;
    c.min_inflation_wad.add_c(mul_div_down(delta, adj, WAD)?)
}

/// Polkadot's era payout: `(staker_payout, treasury_payout)` of an era of `era_seconds` over a
/// Julian year: stakers `⌊inflation · issuance · era/year⌋`, the treasury the rest of
/// `⌊max · issuance · era/year⌋`.
pub fn npos_era_payout(c: &NposCurve, staked: U256, issuance: U256, era_seconds: u64) -> MathResult<(U256, U256)> {
    let ratio = if issuance == U256::ZERO {
        U256::ZERO
    } else {
        mul_div_down(staked.min(issuance), WAD, issuance)?
    };
    let infl = npos_staker_inflation(c, ratio)?;
    let year = u(u128::from(JULIAN_YEAR_SECONDS)).mul_c(WAD)?;
    let era = u(u128::from(era_seconds));
    let stakers = mul_div_down(issuance, infl.mul_c(era)?, year)?;
    let max = mul_div_down(issuance, c.max_inflation_wad.mul_c(era)?, year)?;
    Ok((stakers, max.saturating_sub(stakers)))
}

/// Fraction of each offender's stake slashed for a GRANDPA/BABE equivocation with `offenders`
/// of `validators`: `min(3k/n, 1)²` (ppb, `Perbill::from_rational` down, squared down).
///
/// Specification: fails with `OutOfDomain { func: "polkadot.equivocation" }` if `validators`
/// is zero or below `offenders`.
pub fn polkadot_equivocation_slash_ppb(offenders: u64, validators: u64) -> MathResult<u64> {
    if validators == 0 || offenders > validators {
        return Err(MathError::OutOfDomain {
            func: "polkadot.equivocation",
            value: format!("{offenders} of {validators}"),
        });
    }
    let x = (3u128 * u128::from(offenders) * 1_000_000_000 / u128::from(validators)).min(1_000_000_000);
    u64::try_from(x * x / 1_000_000_000).map_err(|_| MathError::Overflow)
}

/// Cosmos SDK `x/mint` parameters (SDK defaults; the Cosmos Hub's governance has since set its
/// own, and every field is settable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosmosMint {
    /// Largest yearly change of the inflation (wad; 13 %).
    pub inflation_rate_change_wad: U256,
    /// Upper bound (wad; 20 %).
    pub inflation_max_wad: U256,
    /// Lower bound (wad; 7 %).
    pub inflation_min_wad: U256,
    /// Bonded-ratio goal (wad; 67 %).
    pub goal_bonded_wad: U256,
    /// Expected blocks per year (6,311,520: 5-second blocks over a Julian year).
    pub blocks_per_year: u64,
    /// Inflation at the model's genesis (wad; 13 %, the SDK's genesis minter).
    pub inflation_wad: U256,
    /// Share of every block's provisions kept by the community pool (wad; 2 %).
    pub community_tax_wad: U256,
}

impl Default for CosmosMint {
    fn default() -> Self {
        CosmosMint {
            inflation_rate_change_wad: u(130_000_000_000_000_000),
            inflation_max_wad: u(200_000_000_000_000_000),
            inflation_min_wad: u(70_000_000_000_000_000),
            goal_bonded_wad: u(670_000_000_000_000_000),
            blocks_per_year: 6_311_520,
            inflation_wad: u(130_000_000_000_000_000),
            community_tax_wad: u(20_000_000_000_000_000),
        }
    }
}

/// Rounds `n / 10^18` half to even (`chopPrecisionAndRound` of `LegacyDec`), `n ≥ 0`.
fn chop_even(n: U256) -> U256 {
    let q = n / WAD;
    let r = n % WAD;
    let half = WAD / 2;
    if r > half || (r == half && q % 2 == U256::ONE) {
        q + 1
    } else {
        q
    }
}

/// `LegacyDec.Mul` on non-negative decs: `a·b / 1e18`, banker's rounding.
pub fn dec_mul(a: U256, b: U256) -> MathResult<U256> {
    Ok(chop_even(a.mul_c(b)?))
}

/// `LegacyDec.Quo` on non-negative decs: `⌊a·1e36 / b⌋` chopped by 1e18 with banker's rounding.
pub fn dec_quo(a: U256, b: U256) -> MathResult<U256> {
    let q = a.mul_c(WAD)?.mul_c(WAD)?.div_c(b)?;
    Ok(chop_even(q))
}

/// `Minter.NextInflationRate`: the inflation after one block at `bonded_ratio_wad`
/// (`(1 − bonded/goal)·rate_change / blocks_per_year`, added to the current inflation and
/// clamped to `[min, max]`), in `LegacyDec` arithmetic.
///
/// Specification: fails with `DivisionByZero` if `goal_bonded` or `blocks_per_year` is zero.
pub fn cosmos_next_inflation(p: &CosmosMint, inflation_wad: U256, bonded_ratio_wad: U256) -> MathResult<U256> {
    let ratio = dec_quo(bonded_ratio_wad, p.goal_bonded_wad)?;
    let bpy = u(u128::from(p.blocks_per_year)).mul_c(WAD)?;
    let next = if ratio <= WAD {
        let per_year = dec_mul(WAD - ratio, p.inflation_rate_change_wad)?;
        inflation_wad.add_c(dec_quo(per_year, bpy)?)?
    } else {
        // A negative change: `LegacyDec` rounds the magnitude, then negates.
        let per_year = dec_mul(ratio - WAD, p.inflation_rate_change_wad)?;
        inflation_wad.saturating_sub(dec_quo(per_year, bpy)?)
    };
    Ok(next.clamp(p.inflation_min_wad, p.inflation_max_wad.max(p.inflation_min_wad)))
}

/// `BondedRatio`: `bonded / supply` (`LegacyDec.QuoInt`, truncated), zero for an empty supply.
pub fn cosmos_bonded_ratio(bonded: U256, supply: U256) -> MathResult<U256> {
    if supply == U256::ZERO {
        return Ok(U256::ZERO);
    }
    bonded.mul_c(WAD)?.div_c(supply)
}

/// `Minter.BlockProvision`: `⌊inflation · supply / blocks_per_year⌋` (annual provisions
/// `inflation.MulInt(supply)`, then `QuoInt` and `TruncateInt`).
///
/// Specification: fails with `DivisionByZero` if `blocks_per_year` is zero.
pub fn cosmos_block_provision(inflation_wad: U256, supply: U256, blocks_per_year: u64) -> MathResult<U256> {
    let annual = inflation_wad.mul_c(supply)?;
    annual.div_c(u(u128::from(blocks_per_year)))?.div_c(WAD)
}

/// Bitcoin's largest relative timelock (BIP 68 `OP_CHECKSEQUENCEVERIFY` in blocks): 65,535.
pub const BTC_MAX_RELATIVE_TIMELOCK_BLOCKS: u64 = 65_535;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_even_rounding_keeps_an_even_last_digit() {
        assert_eq!(chop_even(u(2_500_000_000_000_000_000)), u(2));
        assert_eq!(chop_even(u(3_500_000_000_000_000_000)), u(4));
        assert_eq!(chop_even(u(3_500_000_000_000_000_001)), u(4));
        assert_eq!(chop_even(u(2_499_999_999_999_999_999)), u(2));
    }
}
