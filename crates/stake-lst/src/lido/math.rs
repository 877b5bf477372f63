//! Pure Lido arithmetic: share conversions, protocol fee shares, the positive token rebase
//! limiter, the staking rate limit and the staking router's min-first allocation.
//!
//! Every function here is a transcription of a formula of `lidofinance/core` (named in each doc
//! comment) with the contract's rounding; none touches state.

use serde::{Deserialize, Serialize};
use stake_math::{mul_div_down, mul_div_up, u, Checked, MathError, MathResult, U256};

/// 32 ETH: the deposit size of one validator (`DEPOSIT_SIZE`).
pub const DEPOSIT_SIZE: U256 = U256::new(32_000_000_000_000_000_000);
/// 1e20: Lido's fee precision (`FEE_PRECISION_POINTS`, 100 %).
pub const FEE_PRECISION: U256 = U256::new(100_000_000_000_000_000_000);
/// 1e9: precision base of the positive token rebase limiter (100 %).
pub const LIMITER_PRECISION_BASE: U256 = U256::new(1_000_000_000);
/// `type(uint64).max`: the limiter's "unlimited" marker.
pub const UNLIMITED_REBASE: u64 = u64::MAX;
/// 1e27: share-rate precision of the withdrawal queue and the sanity checker.
pub const E27: U256 = U256::new(1_000_000_000_000_000_000_000_000_000);
/// 1e4: basis points.
pub const MAX_BASIS_POINTS: U256 = U256::new(10_000);
/// 1e15 wei (a "pwei", the sanity checker's unit for per-validator penalty allowances).
pub const ONE_PWEI: U256 = U256::new(1_000_000_000_000_000);
/// 2^128: upper bound (exclusive) of amounts accepted by the share conversions.
pub const INPUT_LIMIT: U256 = U256::from_words(1, 0);

/// `StETH.getSharesByPooledEth`: `⌊amount · totalShares / totalPooledEther⌋` (down).
///
/// Before the first share exists (`total_shares == 0`) the conversion is 1:1, as Lido before
/// its bootstrap deposit. Fails with [`MathError::DivisionByZero`] when shares exist but no
/// ether backs them.
pub fn shares_by_pooled_eth(total_pooled: U256, total_shares: U256, amount: U256) -> MathResult<U256> {
    if total_shares == U256::ZERO {
        return Ok(amount);
    }
    mul_div_down(amount, total_shares, total_pooled)
}

/// `StETH.getPooledEthByShares`: `⌊shares · totalPooledEther / totalShares⌋` (down); 0 when no
/// share exists.
pub fn pooled_eth_by_shares(total_pooled: U256, total_shares: U256, shares: U256) -> MathResult<U256> {
    if total_shares == U256::ZERO {
        return Ok(U256::ZERO);
    }
    mul_div_down(shares, total_pooled, total_shares)
}

/// `StETH.getPooledEthBySharesRoundUp`: `⌈shares · totalPooledEther / totalShares⌉` (up).
pub fn pooled_eth_by_shares_up(total_pooled: U256, total_shares: U256, shares: U256) -> MathResult<U256> {
    if total_shares == U256::ZERO {
        return Ok(U256::ZERO);
    }
    mul_div_up(shares, total_pooled, total_shares)
}

/// Protocol fee shares of one report (`Accounting._calculateFees`):
/// `feeEther = ⌊rewards · fee / 1e20⌋`, `shares = ⌊feeEther · totalShares / (totalPooled + rewards − feeEther)⌋`.
///
/// `total_pooled` and `total_shares` are the pre-report values net of the ether locked for and the
/// shares burnt by withdrawal finalisation; `total_fee_1e20` is the router's total fee (1e20 = 100 %).
pub fn fee_shares(total_pooled: U256, total_shares: U256, rewards: U256, total_fee_1e20: U256) -> MathResult<U256> {
    let fee_ether = mul_div_down(rewards, total_fee_1e20, FEE_PRECISION)?;
    if fee_ether == U256::ZERO {
        return Ok(U256::ZERO);
    }
    let denominator = total_pooled.add_c(rewards)?.sub_c(fee_ether)?;
    mul_div_down(fee_ether, total_shares, denominator)
}

/// `PositiveTokenRebaseLimiter`: caps the growth of total pooled ether in one report at
/// `pre + ⌊limit · pre / 1e9⌋` and derives how many shares may still be burnt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebaseLimiter {
    /// Total pooled ether before the report.
    pub pre_total_pooled_ether: U256,
    /// Total shares before the report.
    pub pre_total_shares: U256,
    /// Pooled ether as the report is being applied.
    pub current_total_pooled_ether: U256,
    /// Limit in 1e9 precision ([`UNLIMITED_REBASE`] disables it).
    pub positive_rebase_limit: u64,
    /// Cached `pre + limit·pre/1e9` (`U256::MAX` when unlimited).
    pub max_total_pooled_ether: U256,
}

impl RebaseLimiter {
    /// `initLimiterState`. A zero limit is out of domain (`TooLowTokenRebaseLimit`); an empty pool
    /// makes the limiter unlimited.
    pub fn new(limit: u64, pre_total_pooled_ether: U256, pre_total_shares: U256) -> MathResult<Self> {
        if limit == 0 {
            return Err(MathError::OutOfDomain {
                func: "RebaseLimiter::new",
                value: "0".into(),
            });
        }
        let limit = if pre_total_pooled_ether == U256::ZERO {
            UNLIMITED_REBASE
        } else {
            limit
        };
        let max = if limit == UNLIMITED_REBASE {
            U256::MAX
        } else {
            pre_total_pooled_ether.add_c(U256::from(limit).mul_c(pre_total_pooled_ether)? / LIMITER_PRECISION_BASE)?
        };
        Ok(Self {
            pre_total_pooled_ether,
            pre_total_shares,
            current_total_pooled_ether: pre_total_pooled_ether,
            positive_rebase_limit: limit,
            max_total_pooled_ether: max,
        })
    }

    /// `isLimitReached`.
    pub fn is_limit_reached(&self) -> bool {
        self.current_total_pooled_ether >= self.max_total_pooled_ether
    }

    /// `decreaseEther`; fails with [`MathError::Underflow`] (`NegativeTotalPooledEther`).
    pub fn decrease_ether(&mut self, amount: U256) -> MathResult<()> {
        if self.positive_rebase_limit == UNLIMITED_REBASE {
            return Ok(());
        }
        self.current_total_pooled_ether = self.current_total_pooled_ether.sub_c(amount)?;
        Ok(())
    }

    /// `increaseEther`: adds up to the cap and returns the part consumed.
    pub fn increase_ether(&mut self, amount: U256) -> MathResult<U256> {
        if self.positive_rebase_limit == UNLIMITED_REBASE {
            return Ok(amount);
        }
        let prev = self.current_total_pooled_ether;
        let next = prev.add_c(amount)?.min(self.max_total_pooled_ether);
        self.current_total_pooled_ether = next.max(prev);
        self.current_total_pooled_ether.sub_c(prev)
    }

    /// `getSharesToBurnLimit`: `⌊preShares · (L + 1e9 − ⌊current·1e9/pre⌋) / (L + 1e9)⌋`.
    pub fn shares_to_burn_limit(&self) -> MathResult<U256> {
        if self.positive_rebase_limit == UNLIMITED_REBASE {
            return Ok(self.pre_total_shares);
        }
        if self.is_limit_reached() {
            return Ok(U256::ZERO);
        }
        let limit_plus_1 = U256::from(self.positive_rebase_limit).add_c(LIMITER_PRECISION_BASE)?;
        let rate = mul_div_down(
            self.current_total_pooled_ether,
            LIMITER_PRECISION_BASE,
            self.pre_total_pooled_ether,
        )?;
        mul_div_down(self.pre_total_shares, limit_plus_1.sub_c(rate)?, limit_plus_1)
    }
}

/// `StakeLimitUtils`: a staking rate limit that regenerates linearly per block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeLimit {
    /// Whether `submit` is limited at all.
    pub enabled: bool,
    /// Block of the previous stake.
    pub prev_block: u64,
    /// Limit left after the previous stake.
    pub prev_limit: U256,
    /// Maximum limit (mainnet 150,000 ETH).
    pub max_limit: U256,
    /// Blocks to regenerate from zero to the maximum (mainnet 6,400).
    pub growth_blocks: u64,
}

impl StakeLimit {
    /// `calculateCurrentStakeLimit`: `min(prev + blocksPassed · ⌊max/growthBlocks⌋, max)`.
    pub fn current(&self, block: u64) -> MathResult<U256> {
        if !self.enabled {
            return Ok(U256::MAX);
        }
        let inc = if self.growth_blocks == 0 {
            U256::ZERO
        } else {
            self.max_limit / U256::from(self.growth_blocks)
        };
        let passed = U256::from(block.saturating_sub(self.prev_block));
        let projected = self.prev_limit.add_c(passed.mul_c(inc)?)?;
        Ok(projected.min(self.max_limit))
    }
}

/// `MinFirstAllocationStrategy.allocate`: distributes `size` units among buckets, always filling
/// the least-filled buckets first, never beyond a bucket's capacity. Returns the units allocated;
/// `buckets` is updated in place.
pub fn min_first_allocate(buckets: &mut [u64], capacities: &[u64], size: u64) -> u64 {
    let mut allocated = 0u64;
    while allocated < size {
        let step = allocate_to_best_candidate(buckets, capacities, size - allocated);
        if step == 0 {
            break;
        }
        allocated += step;
    }
    allocated
}

fn allocate_to_best_candidate(buckets: &mut [u64], capacities: &[u64], size: u64) -> u64 {
    let n = buckets.len().min(capacities.len());
    let mut best = n;
    let mut best_alloc = u64::MAX;
    let mut best_count = 0u64;
    for i in 0..n {
        if buckets[i] >= capacities[i] {
            continue;
        }
        if best_alloc > buckets[i] {
            best = i;
            best_count = 1;
            best_alloc = buckets[i];
        } else if best_alloc == buckets[i] {
            best_count += 1;
        }
    }
    if best_count == 0 || size == 0 {
        return 0;
    }
    let mut upper = u64::MAX;
    for j in 0..n {
        if buckets[j] >= capacities[j] {
            continue;
        }
        if buckets[j] > best_alloc && buckets[j] < upper {
            upper = buckets[j];
        }
    }
    let share = if best_count > 1 {
        size.div_ceil(best_count)
    } else {
        size
    };
    let step = share.min(upper.min(capacities[best]) - best_alloc);
    buckets[best] += step;
    step
}

/// Whole wei of `n` validators' deposits (`n · 32 ETH`).
pub fn deposits_wei(n: u64) -> MathResult<U256> {
    U256::from(n).mul_c(DEPOSIT_SIZE)
}

/// `10^18` helper for tests and callers: `n` whole ether in wei.
pub fn ether(n: u128) -> U256 {
    u(n) * u(1_000_000_000_000_000_000)
}
