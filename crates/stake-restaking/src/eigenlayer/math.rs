//! Pure share arithmetic of `libraries/SlashingLib.sol` and `strategies/StrategyBase.sol`.
//!
//! Every division names its rounding. Magnitudes are `u64` wads as in the contracts; shares are
//! [`U256`].

use stake_math::{mul_div_down, mul_div_up, Checked, MathError, MathResult, U256, WAD};

/// Virtual share offset of `StrategyBase` (`SHARES_OFFSET = 1e3`).
pub const SHARES_OFFSET: U256 = U256::new(1_000);
/// Virtual balance offset of `StrategyBase` (`BALANCE_OFFSET = 1e3`).
pub const BALANCE_OFFSET: U256 = U256::new(1_000);
/// `StrategyBase.MAX_TOTAL_SHARES = 1e38 − 1`.
pub const MAX_TOTAL_SHARES: U256 = U256::new(99_999_999_999_999_999_999_999_999_999_999_999_999);
/// WAD as a `u64` magnitude (magnitudes are `uint64` in `AllocationManager`).
pub const WAD_U64: u64 = 1_000_000_000_000_000_000;

/// `mulWad(x, y) = ⌊x·y / 1e18⌋` (OpenZeppelin `mulDiv`, rounding down).
pub fn mul_wad(x: U256, y: U256) -> MathResult<U256> {
    mul_div_down(x, y, WAD)
}

/// `divWad(x, y) = ⌊x·1e18 / y⌋`.
pub fn div_wad(x: U256, y: U256) -> MathResult<U256> {
    mul_div_down(x, WAD, y)
}

/// `mulWadRoundUp(x, y) = ⌈x·y / 1e18⌉` (used only for slashed magnitudes).
pub fn mul_wad_round_up(x: U256, y: U256) -> MathResult<U256> {
    mul_div_up(x, y, WAD)
}

/// The stored deposit scaling factor read through the getter: a stored 0 means WAD.
pub fn dsf_value(stored: U256) -> U256 {
    if stored == U256::ZERO {
        WAD
    } else {
        stored
    }
}

/// `calcWithdrawable = mulWad(mulWad(depositShares, dsf), slashingFactor)` (both down).
pub fn calc_withdrawable(deposit_shares: U256, dsf_stored: U256, slashing_factor: U256) -> MathResult<U256> {
    mul_wad(mul_wad(deposit_shares, dsf_value(dsf_stored))?, slashing_factor)
}

/// `calcDepositShares = divWad(divWad(withdrawable, dsf), slashingFactor)` (both down).
pub fn calc_deposit_shares(withdrawable: U256, dsf_stored: U256, slashing_factor: U256) -> MathResult<U256> {
    div_wad(div_wad(withdrawable, dsf_value(dsf_stored))?, slashing_factor)
}

/// `scaleForQueueWithdrawal = mulWad(depositShares, dsf)`.
pub fn scale_for_queue_withdrawal(deposit_shares: U256, dsf_stored: U256) -> MathResult<U256> {
    mul_wad(deposit_shares, dsf_value(dsf_stored))
}

/// `scaleForCompleteWithdrawal = mulWad(scaledShares, slashingFactor)`.
pub fn scale_for_complete_withdrawal(scaled: U256, slashing_factor: U256) -> MathResult<U256> {
    mul_wad(scaled, slashing_factor)
}

/// Queued (still slashable) shares lost to a slash (`DelegationManager._getSlashableSharesInQueue`):
/// `calcSlashedAmount(mulWad(scaledAdded, prevMax), prevMax, newMax)`, 0 when `prevMax == 0`.
///
/// Specification (eigenlayer-contracts v1.9.0, "substitute calcSlashedAmount for
/// scaleForBurning", #1502): the scaled shares that entered the queue in the last
/// `MIN_WITHDRAWAL_DELAY_BLOCKS` are valued at the old magnitude (`s·k·m_n`, rounded down) and
/// slashed as operator shares are, keeping `⌈·newMax/prevMax⌉`; "a maxMagnitude of 0 means the
/// operator has been fully slashed (100%). There's nothing left to slash". The pre-1.9
/// `scaleForBurning = mulWad(scaled, prevMax − newMax)` can burn 1 share more.
pub fn slashable_shares_in_queue(scaled_added: U256, prev_max: u64, new_max: u64) -> MathResult<U256> {
    if prev_max == 0 {
        return Ok(U256::ZERO);
    }
    calc_slashed_amount(mul_wad(scaled_added, U256::from(prev_max))?, prev_max, new_max)
}

/// New stored deposit scaling factor after adding `added` shares (`SlashingLib.update`).
///
/// * `prev_deposit_shares == 0`: `k = divWad(k, sf)` — prior slashing is "forgiven";
/// * otherwise `k = divWad(divWad(withdrawable(prev) + added, prev + added), sf)`.
///
/// Fails with [`MathError::DivisionByZero`] when `sf == 0` (the caller rejects that first).
pub fn dsf_update(dsf_stored: U256, prev_deposit_shares: U256, added: U256, slashing_factor: U256) -> MathResult<U256> {
    if prev_deposit_shares == U256::ZERO {
        return div_wad(dsf_value(dsf_stored), slashing_factor);
    }
    let current = calc_withdrawable(prev_deposit_shares, dsf_stored, slashing_factor)?;
    let new_shares = current.add_c(added)?;
    div_wad(div_wad(new_shares, prev_deposit_shares.add_c(added)?)?, slashing_factor)
}

/// `calcSlashedAmount(S, prevM, newM) = S − ⌈S·newM / prevM⌉` — rounds the kept part up, so a
/// slash never takes more than its exact share.
pub fn calc_slashed_amount(shares: U256, prev_max_magnitude: u64, new_max_magnitude: u64) -> MathResult<U256> {
    let kept = mul_div_up(shares, U256::from(new_max_magnitude), U256::from(prev_max_magnitude))?;
    shares.sub_c(kept)
}

/// Magnitude slashed from an allocation: `⌈current·wad / WAD⌉` (`mulWadRoundUp`).
/// Specification: `AllocationManager.slashOperator` requires every `wadsToSlash[i]` in
/// (0, 1e18] (`InvalidWadToSlash`); outside that range this is an out-of-domain error.
pub fn slash_magnitude(current: u64, wad: U256) -> MathResult<u64> {
    if wad == U256::ZERO || wad > U256::from(WAD_U64) {
        return Err(MathError::OutOfDomain {
            func: "slash_magnitude (wad must be in (0, 1e18])",
            value: wad.to_string(),
        });
    }
    let s = mul_wad_round_up(U256::from(current), wad)?;
    u64::try_from(s).map_err(|_| MathError::Overflow)
}

/// Beacon-chain slashing factor after a balance decrease (`EigenPodManager._reduceSlashingFactor`):
/// `⌊BCSF·(prev − Δ) / prev⌋`.
pub fn reduce_bcsf(bcsf: u64, prev_restaked_wei: U256, decrease_wei: U256) -> MathResult<u64> {
    let new_restaked = prev_restaked_wei.sub_c(decrease_wei)?;
    let v = mul_div_down(U256::from(bcsf), new_restaked, prev_restaked_wei)?;
    u64::try_from(v).map_err(|_| MathError::Overflow)
}

/// Slashing factor of a staker: the operator's max magnitude for ERC-20 strategies, and
/// `mulWad(maxMagnitude, BCSF)` for beacon-chain ETH.
pub fn slashing_factor(max_magnitude: u64, bcsf: Option<u64>) -> MathResult<U256> {
    match bcsf {
        None => Ok(U256::from(max_magnitude)),
        Some(b) => mul_wad(U256::from(max_magnitude), U256::from(b)),
    }
}

/// `StrategyBase.deposit`: `⌊amount·(totalShares + 1e3) / (balanceBefore + 1e3)⌋` where
/// `balanceBefore` is the strategy's token balance before the transfer.
pub fn strategy_shares_for_deposit(amount: U256, total_shares: U256, balance_before: U256) -> MathResult<U256> {
    mul_div_down(
        amount,
        total_shares.add_c(SHARES_OFFSET)?,
        balance_before.add_c(BALANCE_OFFSET)?,
    )
}

/// `StrategyBase.withdraw` / `sharesToUnderlyingView`: `⌊(balance + 1e3)·shares / (totalShares + 1e3)⌋`.
pub fn strategy_amount_for_shares(shares: U256, total_shares: U256, balance: U256) -> MathResult<U256> {
    mul_div_down(
        balance.add_c(BALANCE_OFFSET)?,
        shares,
        total_shares.add_c(SHARES_OFFSET)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use stake_math::u;

    #[test]
    fn calc_slashed_amount_rounds_the_kept_part_up() {
        // 100·(1/3) = 33.33 → kept ⌈33.33⌉ = 34, slashed 66.
        assert_eq!(calc_slashed_amount(u(100), 3, 1).unwrap(), u(66));
        assert_eq!(
            calc_slashed_amount(u(1_000_000_000_000_000_000), WAD_U64, 750_000_000_000_000_000).unwrap(),
            u(250_000_000_000_000_000)
        );
    }

    #[test]
    fn slash_magnitude_rounds_up() {
        assert_eq!(slash_magnitude(3, u(500_000_000_000_000_000)).unwrap(), 2);
        assert_eq!(
            slash_magnitude(WAD_U64, u(250_000_000_000_000_000)).unwrap(),
            250_000_000_000_000_000
        );
    }

    #[test]
    fn strategy_offsets_make_the_first_deposit_one_to_one() {
        assert_eq!(
            strategy_shares_for_deposit(u(5_000), U256::ZERO, U256::ZERO).unwrap(),
            u(5_000)
        );
        assert_eq!(
            strategy_amount_for_shares(u(5_000), u(5_000), u(5_000)).unwrap(),
            u(5_000)
        );
    }
}
