//! Pure StableSwap math for a two-coin pool (SPEC §7.2), wei-exact against
//! `curvefi/curve-contract:contracts/pools/steth/StableSwapSTETH.vy` (legacy) and
//! `curvefi/stableswap-ng:contracts/main/CurveStableSwapNG.vy` (NG).
//!
//! Both coins are 18-decimal and priced 1:1 by the invariant (rate multipliers of 1e18), so
//! balances are used as `xp` directly. Every division is Vyper's `uint256 /`, i.e. floor
//! (`_down`); every subtraction that would go below zero is an error, as the contract reverts.
//!
//! The invariant, with `Ann = A·N` in `A_PRECISION` units (`a_precise = A × 100`):
//!
//! ```text
//! get_D:  S = Σx; D = S; repeat ≤ 255:
//!           legacy: D_P = D; for x: D_P = ⌊D_P·D / (N·x + 1)⌋
//!           NG:     D_P = D; for x: D_P = ⌊D_P·D / x⌋;  D_P = ⌊D_P / N^N⌋
//!           D = ⌊(⌊Ann·S/100⌋ + N·D_P)·D / (⌊(Ann − 100)·D/100⌋ + (N+1)·D_P)⌋
//!         until |ΔD| ≤ 1
//! get_y / get_y_D: c = D; for the other coin x: S' = x, c = ⌊c·D/(N·x)⌋;
//!         c = ⌊c·D·100/(Ann·N)⌋; b = S' + ⌊D·100/Ann⌋; y = D;
//!         y = ⌊(y² + c)/(2y + b − D)⌋ until |Δy| ≤ 1
//! ```

// Loops over the two coin indices mirror the contract's `for i in range(N_COINS)`.
#![allow(clippy::needless_range_loop)]

use super::{StableSwapError, Variant, A_PRECISION, FEE_DENOMINATOR, MAX_ITERATIONS, N_COINS};
use serde::{Deserialize, Serialize};
use stake_math::{Checked, U256, WAD};

/// `N` as a [`U256`].
const N: U256 = U256::new(N_COINS as u128);

fn check_index(i: usize) -> Result<(), StableSwapError> {
    if i >= N_COINS {
        return Err(StableSwapError::CoinIndexOutOfRange { index: i });
    }
    Ok(())
}

fn check_pair(i: usize, j: usize) -> Result<(), StableSwapError> {
    check_index(i)?;
    check_index(j)?;
    if i == j {
        return Err(StableSwapError::SameCoin { index: i });
    }
    Ok(())
}

fn close(a: U256, b: U256) -> bool {
    if a > b {
        a - b <= U256::ONE
    } else {
        b - a <= U256::ONE
    }
}

/// The invariant `D` of the **legacy** pool (`+1` in the `D_P` denominator).
///
/// Specification:
/// * fails with [`StableSwapError::NoConvergence`] if 255 iterations do not converge to ±1;
/// * fails with a math error on overflow or if `Ann < 100` (the contract reverts).
pub fn get_d(balances: [U256; 2], a_precise: U256) -> Result<U256, StableSwapError> {
    get_d_variant(false, balances, a_precise)
}

/// The invariant `D` of the **NG** pool (`D_P` without `+1`, divided by `N^N` once).
///
/// Specification: as [`get_d`]; additionally a zero balance (with a non-zero sum) is a division
/// by zero, as in the contract.
pub fn get_d_ng(balances: [U256; 2], a_precise: U256) -> Result<U256, StableSwapError> {
    get_d_variant(true, balances, a_precise)
}

/// `get_D` of the given variant (`ng = true` for stableswap-ng).
pub(crate) fn get_d_variant(ng: bool, xp: [U256; 2], amp: U256) -> Result<U256, StableSwapError> {
    let s = xp[0].add_c(xp[1])?;
    if s == U256::ZERO {
        return Ok(U256::ZERO);
    }
    let mut d = s;
    let ann = amp.mul_c(N)?;
    let ann_s = ann.mul_c(s)?.div_c(A_PRECISION)?;
    let ann_m = ann.sub_c(A_PRECISION)?;
    for _ in 0..MAX_ITERATIONS {
        let mut d_p = d;
        if ng {
            for x in xp {
                d_p = d_p.mul_c(d)?.div_c(x)?;
            }
            d_p = d_p.div_c(N.mul_c(N)?)?;
        } else {
            for x in xp {
                d_p = d_p.mul_c(d)?.div_c(x.mul_c(N)?.add_c(U256::ONE)?)?;
            }
        }
        let prev = d;
        let num = ann_s.add_c(d_p.mul_c(N)?)?.mul_c(d)?;
        let den = ann_m
            .mul_c(d)?
            .div_c(A_PRECISION)?
            .add_c(N.add_c(U256::ONE)?.mul_c(d_p)?)?;
        d = num.div_c(den)?;
        if close(d, prev) {
            return Ok(d);
        }
    }
    Err(StableSwapError::NoConvergence { func: "get_D" })
}

/// Solves `y² + (b − D)·y = c` by Newton's method as the contract does.
fn solve_y(d: U256, c: U256, b: U256, func: &'static str) -> Result<U256, StableSwapError> {
    let mut y = d;
    for _ in 0..MAX_ITERATIONS {
        let prev = y;
        let num = y.mul_c(y)?.add_c(c)?;
        let den = y.mul_c(U256::new(2))?.add_c(b)?.sub_c(d)?;
        y = num.div_c(den)?;
        if close(y, prev) {
            return Ok(y);
        }
    }
    Err(StableSwapError::NoConvergence { func })
}

/// The balance of coin `j` that keeps the invariant `d` when coin `i`'s balance becomes `x`
/// (the contract's `get_y`, with `D` passed in as stableswap-ng does; the legacy pool computes
/// the same `D = get_D(xp)` inside).
///
/// Specification:
/// * fails with [`StableSwapError::SameCoin`] if `i == j`, [`StableSwapError::CoinIndexOutOfRange`]
///   for an index ≥ 2;
/// * fails with a math error if `x = 0` (division by zero) or on overflow;
/// * fails with [`StableSwapError::NoConvergence`] after 255 iterations.
pub fn get_y(i: usize, j: usize, x: U256, xp: [U256; 2], a_precise: U256, d: U256) -> Result<U256, StableSwapError> {
    check_pair(i, j)?;
    // With two coins the only "other" coin is i itself, at its new balance x.
    let ann = a_precise.mul_c(N)?;
    let s_ = x;
    let c = d.mul_c(d)?.div_c(x.mul_c(N)?)?;
    // `xp` holds no coin other than i and j in a two-coin pool; kept for the contract's signature.
    let _ = xp;
    let c = c.mul_c(d)?.mul_c(A_PRECISION)?.div_c(ann.mul_c(N)?)?;
    let b = s_.add_c(d.mul_c(A_PRECISION)?.div_c(ann)?)?;
    solve_y(d, c, b, "get_y")
}

/// The balance of coin `i` that gives invariant `d` with the other balances of `xp` unchanged
/// (the contract's `get_y_D`).
///
/// Specification: fails on an index ≥ 2, on a zero balance of the other coin (division by zero),
/// on overflow, or with [`StableSwapError::NoConvergence`].
pub fn get_y_d(a_precise: U256, i: usize, xp: [U256; 2], d: U256) -> Result<U256, StableSwapError> {
    check_index(i)?;
    let k = 1 - i;
    let ann = a_precise.mul_c(N)?;
    let s_ = xp[k];
    let c = d.mul_c(d)?.div_c(xp[k].mul_c(N)?)?;
    let c = c.mul_c(d)?.mul_c(A_PRECISION)?.div_c(ann.mul_c(N)?)?;
    let b = s_.add_c(d.mul_c(A_PRECISION)?.div_c(ann)?)?;
    solve_y(d, c, b, "get_y_D")
}

/// stableswap-ng's dynamic fee:
/// `fee_dyn = ⌊M·f / (⌊(M − 1e10)·4·xi·xj / (xi + xj)²⌋ + 1e10)⌋`; `f` itself when `M ≤ 1e10`.
///
/// Specification: fails with a math error when `xi + xj = 0` (and `M > 1e10`) or on overflow.
pub fn dynamic_fee(xi: U256, xj: U256, fee: U256, offpeg_fee_multiplier: U256) -> Result<U256, StableSwapError> {
    if offpeg_fee_multiplier <= FEE_DENOMINATOR {
        return Ok(fee);
    }
    let sum = xi.add_c(xj)?;
    let xps2 = sum.mul_c(sum)?;
    let imbalance = offpeg_fee_multiplier
        .sub_c(FEE_DENOMINATOR)?
        .mul_c(U256::new(4))?
        .mul_c(xi)?
        .mul_c(xj)?
        .div_c(xps2)?;
    Ok(offpeg_fee_multiplier
        .mul_c(fee)?
        .div_c(imbalance.add_c(FEE_DENOMINATOR)?)?)
}

/// The fee rate the variant applies to a trade between balances `xi` and `xj`.
fn fee_rate(variant: Variant, xi: U256, xj: U256, fee: U256) -> Result<U256, StableSwapError> {
    match variant {
        Variant::Legacy => Ok(fee),
        Variant::Ng { offpeg_fee_multiplier } => dynamic_fee(xi, xj, fee, offpeg_fee_multiplier),
    }
}

/// The imbalance fee rate `fee·N/(4(N − 1))` used by deposits and withdrawals.
fn base_imbalance_fee(fee: U256) -> Result<U256, StableSwapError> {
    Ok(fee.mul_c(N)?.div_c(U256::new(4).mul_c(N.sub_c(U256::ONE)?)?)?)
}

/// The full result of an exchange, before any transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwapQuote {
    /// Amount of coin `j` the trader receives (after fee).
    pub dy: U256,
    /// The fee, in coin `j`, kept in the pool.
    pub fee: U256,
    /// The admin's share of `fee` (`⌊fee·admin_fee/1e10⌋`), booked to `admin_balances[j]`.
    pub admin_fee: U256,
    /// The invariant before the trade.
    pub d: U256,
}

/// Quotes an exchange of `dx` of coin `i` for coin `j` (the contract's `exchange` without
/// transfers): `dy = xp[j] − y − 1`, fee `⌊dy·fee/1e10⌋` (NG: the dynamic fee at the
/// average balances), admin share `⌊fee·admin_fee/1e10⌋`.
///
/// Specification: fails on `i == j`, an index ≥ 2, a zero coin balance after the trade, a
/// non-converging invariant, or if `y + 1 > xp[j]` (underflow, the contract reverts).
#[allow(clippy::too_many_arguments)]
pub fn quote_exchange(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    admin_fee: U256,
    i: usize,
    j: usize,
    dx: U256,
) -> Result<SwapQuote, StableSwapError> {
    check_pair(i, j)?;
    let d = get_d_variant(variant.is_ng(), balances, a_precise)?;
    let x = balances[i].add_c(dx)?;
    let y = get_y(i, j, x, balances, a_precise, d)?;
    let dy = balances[j].sub_c(y)?.sub_c(U256::ONE)?;
    let rate = fee_rate(
        variant,
        balances[i].add_c(x)?.div_c(U256::new(2))?,
        balances[j].add_c(y)?.div_c(U256::new(2))?,
        fee,
    )?;
    let dy_fee = dy.mul_c(rate)?.div_c(FEE_DENOMINATOR)?;
    let admin = dy_fee.mul_c(admin_fee)?.div_c(FEE_DENOMINATOR)?;
    Ok(SwapQuote {
        dy: dy.sub_c(dy_fee)?,
        fee: dy_fee,
        admin_fee: admin,
        d,
    })
}

/// The legacy pool's `get_dy(i, j, dx)`.
///
/// Specification: as [`quote_exchange`].
pub fn get_dy(
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    i: usize,
    j: usize,
    dx: U256,
) -> Result<U256, StableSwapError> {
    Ok(quote_exchange(Variant::Legacy, balances, a_precise, fee, U256::ZERO, i, j, dx)?.dy)
}

/// The NG pool's `get_dy(i, j, dx)` (dynamic fee with off-peg multiplier `offpeg_fee_multiplier`).
///
/// Specification: as [`quote_exchange`].
#[allow(clippy::too_many_arguments)]
pub fn get_dy_ng(
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    offpeg_fee_multiplier: U256,
    i: usize,
    j: usize,
    dx: U256,
) -> Result<U256, StableSwapError> {
    let v = Variant::Ng { offpeg_fee_multiplier };
    Ok(quote_exchange(v, balances, a_precise, fee, U256::ZERO, i, j, dx)?.dy)
}

/// The result of a deposit, before any transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositQuote {
    /// LP tokens to mint.
    pub mint_amount: U256,
    /// Imbalance fee per coin (zero for the first deposit).
    pub fees: [U256; 2],
    /// Admin share of each fee.
    pub admin_fees: [U256; 2],
    /// Invariant before.
    pub d0: U256,
    /// Invariant after the deposit, before fees (the contract logs it as `invariant`).
    pub d1: U256,
}

/// Quotes `add_liquidity(amounts)` (the contract without transfers). The first deposit
/// (`supply = 0`) mints `D1` and pays no fee; later ones pay `fee·N/(4(N−1))` (NG: the dynamic
/// fee at `((old + new)_i, (D0 + D1)/N)`) on each coin's distance from its ideal balance
/// `⌊D1·old_i/D0⌋` and mint `⌊supply·(D2 − D0)/D0⌋`.
///
/// Specification:
/// * fails with [`StableSwapError::InitialDepositRequiresAllCoins`] if `supply = 0` and an
///   amount is zero;
/// * fails with [`StableSwapError::InvariantNotIncreased`] unless `D1 > D0`;
/// * fails with a math error on overflow / non-convergence.
#[allow(clippy::too_many_arguments)]
pub fn quote_add_liquidity(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    admin_fee: U256,
    supply: U256,
    amounts: [U256; 2],
) -> Result<DepositQuote, StableSwapError> {
    let ng = variant.is_ng();
    let d0 = get_d_variant(ng, balances, a_precise)?;
    let mut new_bal = [U256::ZERO; 2];
    for k in 0..N_COINS {
        if supply == U256::ZERO && amounts[k] == U256::ZERO {
            return Err(StableSwapError::InitialDepositRequiresAllCoins { amounts });
        }
        new_bal[k] = balances[k].add_c(amounts[k])?;
    }
    let d1 = get_d_variant(ng, new_bal, a_precise)?;
    if d1 <= d0 {
        return Err(StableSwapError::InvariantNotIncreased { d0, d1 });
    }
    let mut fees = [U256::ZERO; 2];
    let mut admin_fees = [U256::ZERO; 2];
    if supply == U256::ZERO {
        return Ok(DepositQuote {
            mint_amount: d1,
            fees,
            admin_fees,
            d0,
            d1,
        });
    }
    let base = base_imbalance_fee(fee)?;
    let ys = d0.add_c(d1)?.div_c(N)?;
    for k in 0..N_COINS {
        let ideal = d1.mul_c(balances[k])?.div_c(d0)?;
        let diff = if ideal > new_bal[k] {
            ideal - new_bal[k]
        } else {
            new_bal[k] - ideal
        };
        let rate = match variant {
            Variant::Legacy => base,
            Variant::Ng { offpeg_fee_multiplier } => {
                dynamic_fee(balances[k].add_c(new_bal[k])?, ys, base, offpeg_fee_multiplier)?
            }
        };
        fees[k] = rate.mul_c(diff)?.div_c(FEE_DENOMINATOR)?;
        admin_fees[k] = fees[k].mul_c(admin_fee)?.div_c(FEE_DENOMINATOR)?;
        new_bal[k] = new_bal[k].sub_c(fees[k])?;
    }
    let d2 = get_d_variant(ng, new_bal, a_precise)?;
    let mint_amount = supply.mul_c(d2.sub_c(d0)?)?.div_c(d0)?;
    Ok(DepositQuote {
        mint_amount,
        fees,
        admin_fees,
        d0,
        d1,
    })
}

/// The result of an imbalanced withdrawal, before any transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawImbalanceQuote {
    /// LP tokens to burn.
    pub burn_amount: U256,
    /// Imbalance fee per coin.
    pub fees: [U256; 2],
    /// Admin share of each fee.
    pub admin_fees: [U256; 2],
    /// Invariant after the withdrawal, before fees (logged as `invariant`).
    pub d1: U256,
}

/// Quotes `remove_liquidity_imbalance(amounts)`: fees as in [`quote_add_liquidity`], burn
/// `⌊(D0 − D2)·supply/D0⌋` (NG: `+ 1`).
///
/// Specification:
/// * fails with [`StableSwapError::ZeroTotalSupply`] if `supply = 0`;
/// * fails with a math error if an amount exceeds the pool balance;
/// * fails with [`StableSwapError::ZeroTokensBurned`] if nothing would be burned.
#[allow(clippy::too_many_arguments)]
pub fn quote_remove_liquidity_imbalance(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    admin_fee: U256,
    supply: U256,
    amounts: [U256; 2],
) -> Result<WithdrawImbalanceQuote, StableSwapError> {
    let ng = variant.is_ng();
    if supply == U256::ZERO {
        return Err(StableSwapError::ZeroTotalSupply);
    }
    let d0 = get_d_variant(ng, balances, a_precise)?;
    let mut new_bal = [U256::ZERO; 2];
    for k in 0..N_COINS {
        new_bal[k] = balances[k].sub_c(amounts[k])?;
    }
    let d1 = get_d_variant(ng, new_bal, a_precise)?;
    let base = base_imbalance_fee(fee)?;
    let ys = d0.add_c(d1)?.div_c(N)?;
    let mut fees = [U256::ZERO; 2];
    let mut admin_fees = [U256::ZERO; 2];
    for k in 0..N_COINS {
        let ideal = d1.mul_c(balances[k])?.div_c(d0)?;
        let diff = if ideal > new_bal[k] {
            ideal - new_bal[k]
        } else {
            new_bal[k] - ideal
        };
        let rate = match variant {
            Variant::Legacy => base,
            Variant::Ng { offpeg_fee_multiplier } => {
                dynamic_fee(balances[k].add_c(new_bal[k])?, ys, base, offpeg_fee_multiplier)?
            }
        };
        fees[k] = rate.mul_c(diff)?.div_c(FEE_DENOMINATOR)?;
        admin_fees[k] = fees[k].mul_c(admin_fee)?.div_c(FEE_DENOMINATOR)?;
        new_bal[k] = new_bal[k].sub_c(fees[k])?;
    }
    let d2 = get_d_variant(ng, new_bal, a_precise)?;
    let mut burn_amount = d0.sub_c(d2)?.mul_c(supply)?.div_c(d0)?;
    if ng {
        burn_amount = burn_amount.add_c(U256::ONE)?;
        if burn_amount <= U256::ONE {
            return Err(StableSwapError::ZeroTokensBurned);
        }
    } else if burn_amount == U256::ZERO {
        return Err(StableSwapError::ZeroTokensBurned);
    }
    Ok(WithdrawImbalanceQuote {
        burn_amount,
        fees,
        admin_fees,
        d1,
    })
}

/// The result of a single-coin withdrawal, before any transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawOneQuote {
    /// Amount of coin `i` paid out.
    pub dy: U256,
    /// Fee in coin `i` (`dy` without fees − `dy`; legacy: reported only, LPs keep all of it).
    pub fee: U256,
    /// Admin share booked to `admin_balances[i]` (always zero in the legacy pool, whose
    /// `remove_liquidity_one_coin` books no admin fee).
    pub admin_fee: U256,
}

/// Quotes `remove_liquidity_one_coin(token_amount, i)` via `get_y_D` (the contract's
/// `_calc_withdraw_one_coin`): `D1 = D0 − ⌊token_amount·D0/supply⌋`, fees on the expected
/// movements, `dy = xp_reduced[i] − get_y_D(xp_reduced, D1) − 1`.
///
/// Specification: fails with [`StableSwapError::ZeroTotalSupply`] if `supply = 0`, on an index
/// ≥ 2, if `token_amount > supply` (underflow), or on non-convergence.
#[allow(clippy::too_many_arguments)]
pub fn quote_withdraw_one_coin(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    admin_fee: U256,
    supply: U256,
    token_amount: U256,
    i: usize,
) -> Result<WithdrawOneQuote, StableSwapError> {
    check_index(i)?;
    if supply == U256::ZERO {
        return Err(StableSwapError::ZeroTotalSupply);
    }
    let ng = variant.is_ng();
    let d0 = get_d_variant(ng, balances, a_precise)?;
    let d1 = d0.sub_c(token_amount.mul_c(d0)?.div_c(supply)?)?;
    let new_y = get_y_d(a_precise, i, balances, d1)?;
    let base = base_imbalance_fee(fee)?;
    let ys = d0.add_c(d1)?.div_c(N.mul_c(U256::new(2))?)?;
    let mut reduced = balances;
    for k in 0..N_COINS {
        let x = balances[k];
        let (expected, xavg) = if k == i {
            (
                x.mul_c(d1)?.div_c(d0)?.sub_c(new_y)?,
                x.add_c(new_y)?.div_c(U256::new(2))?,
            )
        } else {
            (x.sub_c(x.mul_c(d1)?.div_c(d0)?)?, x)
        };
        let rate = match variant {
            Variant::Legacy => base,
            Variant::Ng { offpeg_fee_multiplier } => dynamic_fee(xavg, ys, base, offpeg_fee_multiplier)?,
        };
        reduced[k] = x.sub_c(rate.mul_c(expected)?.div_c(FEE_DENOMINATOR)?)?;
    }
    let dy = reduced[i]
        .sub_c(get_y_d(a_precise, i, reduced, d1)?)?
        .sub_c(U256::ONE)?;
    let dy0 = balances[i].sub_c(new_y)?;
    let fee_amount = dy0.saturating_sub(dy);
    let admin = match variant {
        Variant::Legacy => U256::ZERO,
        Variant::Ng { .. } => fee_amount.mul_c(admin_fee)?.div_c(FEE_DENOMINATOR)?,
    };
    Ok(WithdrawOneQuote {
        dy,
        fee: fee_amount,
        admin_fee: admin,
    })
}

/// The legacy pool's `calc_withdraw_one_coin(token_amount, i)`.
///
/// Specification: as [`quote_withdraw_one_coin`].
pub fn calc_withdraw_one_coin(
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    supply: U256,
    token_amount: U256,
    i: usize,
) -> Result<U256, StableSwapError> {
    Ok(quote_withdraw_one_coin(
        Variant::Legacy,
        balances,
        a_precise,
        fee,
        U256::ZERO,
        supply,
        token_amount,
        i,
    )?
    .dy)
}

/// The NG pool's `calc_withdraw_one_coin(token_amount, i)`.
///
/// Specification: as [`quote_withdraw_one_coin`].
#[allow(clippy::too_many_arguments)]
pub fn calc_withdraw_one_coin_ng(
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    offpeg_fee_multiplier: U256,
    supply: U256,
    token_amount: U256,
    i: usize,
) -> Result<U256, StableSwapError> {
    let v = Variant::Ng { offpeg_fee_multiplier };
    Ok(quote_withdraw_one_coin(v, balances, a_precise, fee, U256::ZERO, supply, token_amount, i)?.dy)
}

/// The legacy pool's `calc_token_amount(amounts, is_deposit)`: `⌊|D1 − D0|·supply/D0⌋`, no fees
/// ("needed to prevent front-running, not for precise calculations").
///
/// Specification: fails if a withdrawal exceeds a balance, if `D0 = 0` (division by zero),
/// if the invariant moves the wrong way (underflow), or on non-convergence.
pub fn calc_token_amount(
    balances: [U256; 2],
    a_precise: U256,
    supply: U256,
    amounts: [U256; 2],
    deposit: bool,
) -> Result<U256, StableSwapError> {
    let d0 = get_d(balances, a_precise)?;
    let mut b = balances;
    for k in 0..N_COINS {
        b[k] = if deposit {
            b[k].add_c(amounts[k])?
        } else {
            b[k].sub_c(amounts[k])?
        };
    }
    let d1 = get_d(b, a_precise)?;
    let diff = if deposit { d1.sub_c(d0)? } else { d0.sub_c(d1)? };
    Ok(diff.mul_c(supply)?.div_c(d0)?)
}

/// `get_virtual_price = ⌊D·1e18/supply⌋`.
///
/// Specification: fails with [`StableSwapError::ZeroTotalSupply`] if `supply = 0`.
pub fn virtual_price(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    supply: U256,
) -> Result<U256, StableSwapError> {
    if supply == U256::ZERO {
        return Err(StableSwapError::ZeroTotalSupply);
    }
    let d = get_d_variant(variant.is_ng(), balances, a_precise)?;
    Ok(d.mul_c(WAD)?.div_c(supply)?)
}

/// The state (marginal, fee-free) price of coin 1 in coin 0, wad — stableswap-ng's `_get_p`:
/// `Dr = ⌊⌊D/N^N⌋·D/x0⌋·D/x1⌋`, `p = ⌊1e18·(⌊Ann·x0/100⌋ + ⌊Dr·x0/x1⌋) / (⌊Ann·x0/100⌋ + Dr)⌋`
/// (evaluated with the variant's own `D`).
///
/// Specification: fails on a zero balance (division by zero) or non-convergence.
pub fn state_price(variant: Variant, balances: [U256; 2], a_precise: U256) -> Result<U256, StableSwapError> {
    let d = get_d_variant(variant.is_ng(), balances, a_precise)?;
    let ann = a_precise.mul_c(N)?;
    let mut dr = d.div_c(N.mul_c(N)?)?;
    for x in balances {
        dr = dr.mul_c(d)?.div_c(x)?;
    }
    let xp0_a = ann.mul_c(balances[0])?.div_c(A_PRECISION)?;
    let num = xp0_a.add_c(dr.mul_c(balances[0])?.div_c(balances[1])?)?;
    Ok(WAD.mul_c(num)?.div_c(xp0_a.add_c(dr)?)?)
}

/// Execution price of a trade of `dx` of coin `i` for coin `j`, wad: `⌊dy·1e18/dx⌋` (a small
/// `dx` gives the marginal price after fee).
///
/// Specification: fails with [`StableSwapError::ZeroAmount`] if `dx = 0`; otherwise as
/// [`quote_exchange`].
#[allow(clippy::too_many_arguments)]
pub fn price(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    i: usize,
    j: usize,
    dx: U256,
) -> Result<U256, StableSwapError> {
    if dx == U256::ZERO {
        return Err(StableSwapError::ZeroAmount { what: "dx" });
    }
    let q = quote_exchange(variant, balances, a_precise, fee, U256::ZERO, i, j, dx)?;
    Ok(q.dy.mul_c(WAD)?.div_c(dx)?)
}

/// Discount, wad, of selling `fraction_bps` of the pool's balance of coin `i` for coin `j`
/// against a 1:1 peg: `dx = ⌊balance_i·bps/1e4⌋`, discount `= ⌈(dx − dy)·1e18/dx⌉` (zero if
/// `dy ≥ dx`; rounded up so a depth figure never flatters the pool).
///
/// Specification: fails with [`StableSwapError::ZeroAmount`] if `dx` rounds to zero; otherwise
/// as [`quote_exchange`].
#[allow(clippy::too_many_arguments)]
pub fn sell_discount(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    i: usize,
    j: usize,
    fraction_bps: U256,
) -> Result<U256, StableSwapError> {
    check_pair(i, j)?;
    let dx = balances[i].mul_c(fraction_bps)?.div_c(stake_math::BPS)?;
    if dx == U256::ZERO {
        return Err(StableSwapError::ZeroAmount { what: "dx" });
    }
    let q = quote_exchange(variant, balances, a_precise, fee, U256::ZERO, i, j, dx)?;
    if q.dy >= dx {
        return Ok(U256::ZERO);
    }
    Ok((dx - q.dy).mul_c(WAD)?.div_up_c(dx)?)
}

/// The probe trade of [`Depth::price`]: 1e15 (0.001 coin).
pub const PROBE: U256 = U256::new(1_000_000_000_000_000);

/// Depth of a pool: the discounts (wad) for selling 1 %, 5 % and 10 % of coin `i`'s balance
/// for coin `j` (see [`sell_discount`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Depth {
    /// Execution price of a probe trade of 1e15 (0.001 coin), wad.
    pub price: U256,
    /// Discount selling 1 % of the balance, wad.
    pub discount_1pct: U256,
    /// Discount selling 5 % of the balance, wad.
    pub discount_5pct: U256,
    /// Discount selling 10 % of the balance, wad.
    pub discount_10pct: U256,
}

/// Price and 1 %/5 %/10 % sell discounts of coin `i` into coin `j`.
///
/// Specification: as [`price`] and [`sell_discount`].
pub fn depth(
    variant: Variant,
    balances: [U256; 2],
    a_precise: U256,
    fee: U256,
    i: usize,
    j: usize,
) -> Result<Depth, StableSwapError> {
    Ok(Depth {
        price: price(variant, balances, a_precise, fee, i, j, PROBE)?,
        discount_1pct: sell_discount(variant, balances, a_precise, fee, i, j, U256::new(100))?,
        discount_5pct: sell_discount(variant, balances, a_precise, fee, i, j, U256::new(500))?,
        discount_10pct: sell_discount(variant, balances, a_precise, fee, i, j, U256::new(1000))?,
    })
}
