//! StableSwap AMM (SPEC §7.2): the two-coin Curve pool of
//! `curvefi/curve-contract:contracts/pools/steth/StableSwapSTETH.vy` (legacy, `+1` in `get_D`'s
//! `D_P` denominator, `− 1` in `get_dy`) and its `curvefi/stableswap-ng` variant (`D_P` without
//! `+1`, dynamic off-peg fee), wei-exact.
//!
//! * Pure math lives in [`calc`] (`get_d`, `get_dy`, `calc_withdraw_one_coin`,
//!   `calc_token_amount`, quotes, depth helpers).
//! * [`StableSwapPool`] is the state machine: it holds its coins in the ledger account
//!   `"<name>:pool"` and mints/burns its LP token (a Plain, 18-decimal ledger asset).
//! * Like the stETH pool (`balanceOf(self) − admin_balances`), the pool *reads* its balances at
//!   the start of every operation through the caller-provided [`Coins`] interface, so a rebasing
//!   coin (stETH held as Lido shares) accrues its rebases to LPs; the admin's fee balances are a
//!   fixed amount, immune to rebases.
//! * `stored_balances` is the pool's own book of what it holds (LP part + admin part); after every
//!   operation `balance_of(pool) = stored_balances` (the conservation check), and
//!   [`StableSwapPool::sync`] books a rebase that happened in between as an explicit event.

// Loops over the two coin indices mirror the contract's `for i in range(N_COINS)`.
#![allow(clippy::needless_range_loop)]

pub mod calc;

use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, AssetKind, Ledger, LedgerError, Reject, StateHash};
use stake_math::{Checked, MathError, U256};
use std::fmt;

/// Number of coins in the pool.
pub const N_COINS: usize = 2;
/// `A` is stored multiplied by this.
pub const A_PRECISION: U256 = U256::new(100);
/// Fees are fractions of this (1e10 = 100 %).
pub const FEE_DENOMINATOR: U256 = U256::new(10_000_000_000);
/// Largest swap fee: 50 %.
pub const MAX_FEE: U256 = U256::new(5_000_000_000);
/// Largest admin share of fees: 100 %.
pub const MAX_ADMIN_FEE: U256 = U256::new(10_000_000_000);
/// `A` must stay below this (whole units).
pub const MAX_A: U256 = U256::new(1_000_000);
/// A ramp may change `A` by at most this factor.
pub const MAX_A_CHANGE: U256 = U256::new(10);
/// Minimum time between ramps and minimum ramp duration, seconds.
pub const MIN_RAMP_TIME: u64 = 86_400;
/// Newton iterations before the contract gives up (`raise`).
pub const MAX_ITERATIONS: usize = 255;

/// Which contract's math the pool follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// `StableSwapSTETH.vy`: `+1` in `D_P`, flat fee.
    Legacy,
    /// stableswap-ng: `D_P` without `+1`, dynamic fee with this off-peg multiplier (1e10 units;
    /// `≤ 1e10` means a flat fee).
    Ng {
        /// Off-peg fee multiplier `M` (e.g. `2e10` doubles the fee far off peg).
        offpeg_fee_multiplier: U256,
    },
}

impl Variant {
    /// True for stableswap-ng math.
    pub fn is_ng(self) -> bool {
        matches!(self, Variant::Ng { .. })
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A rejected StableSwap operation. Codes 6100–6199.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StableSwapError {
    /// `i == j`.
    SameCoin {
        /// The index given twice.
        index: usize,
    },
    /// A coin index ≥ 2.
    CoinIndexOutOfRange {
        /// The index.
        index: usize,
    },
    /// A zero amount where the operation needs a positive one.
    ZeroAmount {
        /// Which argument.
        what: &'static str,
    },
    /// Exchange output below `min_dy`.
    ExchangeSlippage {
        /// What the trade gives.
        dy: U256,
        /// The caller's minimum.
        min_dy: U256,
    },
    /// LP tokens minted below `min_mint_amount`.
    MintSlippage {
        /// What the deposit mints.
        mint_amount: U256,
        /// The caller's minimum.
        min_mint_amount: U256,
    },
    /// A withdrawn amount below its minimum.
    WithdrawSlippage {
        /// Coin index.
        coin: usize,
        /// What the withdrawal gives.
        amount: U256,
        /// The caller's minimum.
        min_amount: U256,
    },
    /// LP tokens burned above `max_burn_amount`.
    BurnSlippage {
        /// What the withdrawal burns.
        burn_amount: U256,
        /// The caller's maximum.
        max_burn_amount: U256,
    },
    /// The first deposit must include every coin.
    InitialDepositRequiresAllCoins {
        /// The amounts given.
        amounts: [U256; 2],
    },
    /// A deposit must increase the invariant (`assert D1 > D0`).
    InvariantNotIncreased {
        /// Invariant before.
        d0: U256,
        /// Invariant after.
        d1: U256,
    },
    /// The pool has no LP supply.
    ZeroTotalSupply,
    /// An imbalanced withdrawal would burn nothing.
    ZeroTokensBurned,
    /// The Newton iteration did not converge in 255 rounds (the contract raises).
    NoConvergence {
        /// `get_D`, `get_y` or `get_y_D`.
        func: &'static str,
    },
    /// `ramp_A` within `MIN_RAMP_TIME` of the previous ramp's start.
    RampTooSoon {
        /// Now.
        now: u64,
        /// Earliest allowed time.
        earliest: u64,
    },
    /// `ramp_A` ending less than `MIN_RAMP_TIME` from now.
    RampTooShort {
        /// The requested end.
        future_time: u64,
        /// Earliest allowed end.
        earliest: u64,
    },
    /// Target `A` is zero or ≥ `MAX_A`.
    InvalidA {
        /// The requested `A` (whole units).
        future_a: U256,
    },
    /// The ramp changes `A` by more than `MAX_A_CHANGE`×.
    RampTooFast {
        /// Current `A × 100`.
        initial_a_precise: U256,
        /// Target `A × 100`.
        future_a_precise: U256,
    },
    /// Fee or admin fee above its maximum.
    InvalidFee {
        /// Swap fee (1e10 units).
        fee: U256,
        /// Admin fee (1e10 units).
        admin_fee: U256,
    },
    /// The two coins of a pool must differ.
    InvalidCoins,
    /// A ledger failure (insufficient balance, …); its own code. Boxed to keep the error small.
    Ledger(Box<LedgerError>),
    /// An arithmetic failure (the contract reverts); its own code.
    Math(MathError),
}

impl From<LedgerError> for StableSwapError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Math(m) => StableSwapError::Math(m),
            other => StableSwapError::Ledger(Box::new(other)),
        }
    }
}

impl From<MathError> for StableSwapError {
    fn from(e: MathError) -> Self {
        StableSwapError::Math(e)
    }
}

impl fmt::Display for StableSwapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use StableSwapError as E;
        match self {
            E::SameCoin { index } => write!(f, "cannot exchange coin {index} for itself"),
            E::CoinIndexOutOfRange { index } => {
                write!(f, "coin index {index} out of range (pool has 2 coins)")
            }
            E::ZeroAmount { what } => write!(f, "{what} must be positive"),
            E::ExchangeSlippage { dy, min_dy } => {
                write!(
                    f,
                    "exchange resulted in fewer coins than expected: {dy} < min_dy {min_dy}"
                )
            }
            E::MintSlippage {
                mint_amount,
                min_mint_amount,
            } => {
                write!(
                    f,
                    "slippage: would mint {mint_amount} LP < min_mint_amount {min_mint_amount}"
                )
            }
            E::WithdrawSlippage {
                coin,
                amount,
                min_amount,
            } => {
                write!(
                    f,
                    "withdrawal of coin {coin} resulted in fewer coins than expected: {amount} < {min_amount}"
                )
            }
            E::BurnSlippage {
                burn_amount,
                max_burn_amount,
            } => {
                write!(
                    f,
                    "slippage: would burn {burn_amount} LP > max_burn_amount {max_burn_amount}"
                )
            }
            E::InitialDepositRequiresAllCoins { amounts } => {
                write!(
                    f,
                    "initial deposit requires all coins, got [{}, {}]",
                    amounts[0], amounts[1]
                )
            }
            E::InvariantNotIncreased { d0, d1 } => {
                write!(f, "deposit does not increase the invariant: D0 {d0}, D1 {d1}")
            }
            E::ZeroTotalSupply => write!(f, "pool has zero LP supply"),
            E::ZeroTokensBurned => write!(f, "withdrawal would burn zero LP tokens"),
            E::NoConvergence { func } => write!(f, "{func} did not converge in 255 iterations"),
            E::RampTooSoon { now, earliest } => {
                write!(f, "ramp_A too soon: now {now}, allowed from {earliest}")
            }
            E::RampTooShort { future_time, earliest } => {
                write!(
                    f,
                    "ramp_A insufficient time: ends {future_time}, must end at or after {earliest}"
                )
            }
            E::InvalidA { future_a } => write!(f, "A {future_a} must be > 0 and < 1000000"),
            E::RampTooFast {
                initial_a_precise,
                future_a_precise,
            } => write!(
                f,
                "ramp_A changes A×100 from {initial_a_precise} to {future_a_precise}, more than 10x"
            ),
            E::InvalidFee { fee, admin_fee } => {
                write!(f, "fee {fee} (max 5e9) or admin fee {admin_fee} (max 1e10) too high")
            }
            E::InvalidCoins => write!(f, "the two pool coins must be different assets"),
            E::Ledger(e) => write!(f, "{e}"),
            E::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StableSwapError {}

impl Reject for StableSwapError {
    fn code(&self) -> u32 {
        use StableSwapError as E;
        match self {
            E::SameCoin { .. } => 6100,
            E::CoinIndexOutOfRange { .. } => 6101,
            E::ZeroAmount { .. } => 6102,
            E::ExchangeSlippage { .. } => 6103,
            E::MintSlippage { .. } => 6104,
            E::WithdrawSlippage { .. } => 6105,
            E::BurnSlippage { .. } => 6106,
            E::InitialDepositRequiresAllCoins { .. } => 6107,
            E::InvariantNotIncreased { .. } => 6108,
            E::ZeroTotalSupply => 6109,
            E::ZeroTokensBurned => 6110,
            E::NoConvergence { .. } => 6111,
            E::RampTooSoon { .. } => 6112,
            E::RampTooShort { .. } => 6113,
            E::InvalidA { .. } => 6114,
            E::RampTooFast { .. } => 6115,
            E::InvalidFee { .. } => 6116,
            E::InvalidCoins => 6117,
            E::Ledger(e) => e.code(),
            E::Math(e) => e.code(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Coins: how the pool reads and moves its coins
// ---------------------------------------------------------------------------------------------

/// How the pool reads and moves its coins, provided by the caller (the engine).
///
/// A plain coin is read straight from the ledger. A rebasing coin (stETH, eETH) is held in the
/// ledger as its issuer's *shares*; only the issuer knows the rate, so the caller converts:
/// `balance_of` returns the token amount the holder's shares are worth now, and `transfer`
/// moves the shares for an amount (Lido: `shares = ⌊amount·totalShares/totalPooled⌋`, which may
/// deliver 1–2 wei less than `amount`). Because the pool re-reads `balance_of(pool)` at the start
/// of every operation, rebases accrue to LPs, exactly as the stETH pool's `balanceOf(self)`.
pub trait Coins {
    /// Amount (base units) of `coin` that `holder` holds now.
    fn balance_of(&self, ledger: &Ledger, coin: AssetId, holder: AccountId) -> Result<U256, StableSwapError>;
    /// Moves `amount` (base units) of `coin` from `from` to `to`.
    fn transfer(
        &self,
        ledger: &mut Ledger,
        coin: AssetId,
        from: AccountId,
        to: AccountId,
        amount: U256,
    ) -> Result<(), StableSwapError>;
}

/// Every coin is a plain ledger asset: balances are amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainCoins;

impl Coins for PlainCoins {
    fn balance_of(&self, ledger: &Ledger, coin: AssetId, holder: AccountId) -> Result<U256, StableSwapError> {
        Ok(ledger.balance(holder, coin))
    }
    fn transfer(
        &self,
        ledger: &mut Ledger,
        coin: AssetId,
        from: AccountId,
        to: AccountId,
        amount: U256,
    ) -> Result<(), StableSwapError> {
        Ok(ledger.transfer(from, to, coin, amount)?)
    }
}

/// One rebasing coin held as shares at a Lido-style rate (`total_pooled / total_shares`, both
/// rounding down as `getPooledEthByShares` / `getSharesByPooledEth`); every other coin is plain.
/// A rebase is a change of `total_pooled`; the ledger's shares do not move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharesCoin {
    /// The rebasing asset (ledger kind [`AssetKind::Shares`]).
    pub coin: AssetId,
    /// The issuer's total pooled amount.
    pub total_pooled: U256,
    /// The issuer's total shares.
    pub total_shares: U256,
}

impl SharesCoin {
    /// `⌊shares·total_pooled/total_shares⌋` (0 if there are no shares).
    pub fn amount_of(&self, shares: U256) -> Result<U256, StableSwapError> {
        if self.total_shares == U256::ZERO {
            return Ok(U256::ZERO);
        }
        Ok(stake_math::mul_div_down(shares, self.total_pooled, self.total_shares)?)
    }
    /// `⌊amount·total_shares/total_pooled⌋`.
    pub fn shares_for(&self, amount: U256) -> Result<U256, StableSwapError> {
        Ok(stake_math::mul_div_down(amount, self.total_shares, self.total_pooled)?)
    }
}

impl Coins for SharesCoin {
    fn balance_of(&self, ledger: &Ledger, coin: AssetId, holder: AccountId) -> Result<U256, StableSwapError> {
        let raw = ledger.balance(holder, coin);
        if coin == self.coin {
            self.amount_of(raw)
        } else {
            Ok(raw)
        }
    }
    fn transfer(
        &self,
        ledger: &mut Ledger,
        coin: AssetId,
        from: AccountId,
        to: AccountId,
        amount: U256,
    ) -> Result<(), StableSwapError> {
        if coin == self.coin {
            let shares = self.shares_for(amount)?;
            Ok(ledger.transfer(from, to, coin, shares)?)
        } else {
            Ok(ledger.transfer(from, to, coin, amount)?)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// What a pool operation did (sufficient to replay it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StableSwapEvent {
    /// A trade.
    TokenExchange {
        /// Trader.
        buyer: AccountId,
        /// Coin sold.
        sold_id: usize,
        /// Amount sold.
        tokens_sold: U256,
        /// Coin bought.
        bought_id: usize,
        /// Amount bought (after fee).
        tokens_bought: U256,
        /// Fee in the bought coin.
        fee: U256,
        /// Admin share of the fee.
        admin_fee: U256,
    },
    /// A deposit.
    AddLiquidity {
        /// Depositor.
        provider: AccountId,
        /// Amounts deposited.
        token_amounts: [U256; 2],
        /// Imbalance fees.
        fees: [U256; 2],
        /// Invariant after the deposit, before fees.
        invariant: U256,
        /// LP tokens minted.
        minted: U256,
        /// LP supply after.
        token_supply: U256,
    },
    /// A proportional withdrawal.
    RemoveLiquidity {
        /// Withdrawer.
        provider: AccountId,
        /// Amounts paid out.
        token_amounts: [U256; 2],
        /// LP tokens burned.
        burned: U256,
        /// LP supply after.
        token_supply: U256,
    },
    /// An imbalanced withdrawal.
    RemoveLiquidityImbalance {
        /// Withdrawer.
        provider: AccountId,
        /// Amounts paid out.
        token_amounts: [U256; 2],
        /// Imbalance fees.
        fees: [U256; 2],
        /// Invariant after the withdrawal, before fees.
        invariant: U256,
        /// LP tokens burned.
        burned: U256,
        /// LP supply after.
        token_supply: U256,
    },
    /// A single-coin withdrawal.
    RemoveLiquidityOne {
        /// Withdrawer.
        provider: AccountId,
        /// LP tokens burned.
        token_amount: U256,
        /// Coin paid out.
        coin: usize,
        /// Amount paid out.
        coin_amount: U256,
        /// Fee kept in the pool.
        fee: U256,
        /// Admin share of the fee (zero in the legacy pool).
        admin_fee: U256,
    },
    /// Admin fees paid out.
    AdminFeesWithdrawn {
        /// Recipient.
        to: AccountId,
        /// Amounts paid out.
        amounts: [U256; 2],
    },
    /// A ramp of `A` started.
    RampA {
        /// `A × 100` now.
        old_a: U256,
        /// Target `A × 100`.
        new_a: U256,
        /// Start time.
        initial_time: u64,
        /// End time.
        future_time: u64,
    },
    /// A ramp stopped at the current `A`.
    StopRampA {
        /// `A × 100` frozen.
        a: U256,
        /// Time.
        t: u64,
    },
    /// New fee parameters.
    NewFee {
        /// Swap fee (1e10 units).
        fee: U256,
        /// Admin share (1e10 units).
        admin_fee: U256,
    },
    /// The pool's coin balance changed outside its operations (a rebase) and was booked to LPs.
    Rebased {
        /// Coin index.
        coin: usize,
        /// Booked balance before.
        old_balance: U256,
        /// Balance read now.
        new_balance: U256,
    },
}

// ---------------------------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------------------------

/// Configuration of a new pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolConfig {
    /// Pool name; its account is `"<name>:pool"` (e.g. `curve-steth`).
    pub name: String,
    /// The two coins (coin 0, coin 1), both 18-decimal.
    pub coins: [AssetId; 2],
    /// Symbol of the LP token to register (Plain, 18 decimals).
    pub lp_symbol: String,
    /// Amplification `A` in whole units (stored ×100).
    pub a: U256,
    /// Swap fee, 1e10 units (4e6 = 0.04 %).
    pub fee: U256,
    /// Admin share of fees, 1e10 units (5e9 = 50 %).
    pub admin_fee: U256,
    /// Legacy or NG math.
    pub variant: Variant,
}

/// A two-coin StableSwap pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StableSwapPool {
    /// Pool name.
    pub name: String,
    /// Coins 0 and 1.
    pub coins: [AssetId; 2],
    /// The LP token (Plain, 18 decimals, minted/burned only by this pool).
    pub lp_token: AssetId,
    /// The account that holds the pool's coins (LP part and admin part).
    pub account: AccountId,
    /// Legacy or NG math.
    pub variant: Variant,
    /// Swap fee, 1e10 units.
    pub fee: U256,
    /// Admin share of fees, 1e10 units.
    pub admin_fee: U256,
    /// `A × 100` at the start of the ramp.
    pub initial_a: U256,
    /// `A × 100` at the end of the ramp.
    pub future_a: U256,
    /// Ramp start, seconds.
    pub initial_a_time: u64,
    /// Ramp end, seconds (0: no ramp yet).
    pub future_a_time: u64,
    /// Fees owed to the admin, per coin (fixed amounts, immune to rebases).
    pub admin_balances: [U256; 2],
    /// The pool's book of its holdings per coin (LP part + admin part) after its last operation.
    pub stored_balances: [U256; 2],
    /// LP supply as the pool minted/burned it (equals the ledger supply of `lp_token`).
    pub lp_supply: U256,
}

impl StateHash for StableSwapPool {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}

/// Amounts moved by an operation, measured on the pool's balance.
struct Moved {
    /// Pool balance per coin after the transfers.
    after: [U256; 2],
}

impl StableSwapPool {
    /// Creates a pool: registers its LP token (Plain, 18 decimals, issuer = pool name) and its
    /// account `"<name>:pool"`. `A` is stored ×100; no ramp (`initial_a_time = 0`, as deployed).
    ///
    /// Specification:
    /// * fails with [`StableSwapError::InvalidCoins`] if both coins are the same asset;
    /// * fails with [`StableSwapError::InvalidA`] unless `0 < A < MAX_A`;
    /// * fails with [`StableSwapError::InvalidFee`] if `fee > MAX_FEE` or `admin_fee > MAX_ADMIN_FEE`;
    /// * fails with a ledger error if the LP symbol is taken (nothing is registered then).
    pub fn new(ledger: &mut Ledger, cfg: PoolConfig) -> Result<Self, StableSwapError> {
        if cfg.coins[0] == cfg.coins[1] {
            return Err(StableSwapError::InvalidCoins);
        }
        if cfg.a == U256::ZERO || cfg.a >= MAX_A {
            return Err(StableSwapError::InvalidA { future_a: cfg.a });
        }
        if cfg.fee > MAX_FEE || cfg.admin_fee > MAX_ADMIN_FEE {
            return Err(StableSwapError::InvalidFee {
                fee: cfg.fee,
                admin_fee: cfg.admin_fee,
            });
        }
        let a_precise = cfg.a.mul_c(A_PRECISION)?;
        let account_name = format!("{}:pool", cfg.name);
        let (lp_token, account) = ledger.atomic(|l| {
            let lp = l.register_asset(&cfg.lp_symbol, 18, &cfg.name, AssetKind::Plain)?;
            Ok::<_, StableSwapError>((lp, l.account(&account_name)))
        })?;
        Ok(Self {
            name: cfg.name,
            coins: cfg.coins,
            lp_token,
            account,
            variant: cfg.variant,
            fee: cfg.fee,
            admin_fee: cfg.admin_fee,
            initial_a: a_precise,
            future_a: a_precise,
            initial_a_time: 0,
            future_a_time: 0,
            admin_balances: [U256::ZERO; 2],
            stored_balances: [U256::ZERO; 2],
            lp_supply: U256::ZERO,
        })
    }

    /// `A × 100` at `now`, linear between the ramp's ends (the contract's `_A()`).
    ///
    /// Specification: fails only on arithmetic overflow (impossible for `A < MAX_A`).
    pub fn a_precise(&self, now: u64) -> Result<U256, StableSwapError> {
        let (t1, a1) = (self.future_a_time, self.future_a);
        if now < t1 {
            let (a0, t0) = (self.initial_a, self.initial_a_time);
            let elapsed = U256::from(now.saturating_sub(t0));
            let span = U256::from(t1 - t0);
            if a1 > a0 {
                Ok(a0.add_c((a1 - a0).mul_c(elapsed)?.div_c(span)?)?)
            } else {
                Ok(a0.sub_c((a0 - a1).mul_c(elapsed)?.div_c(span)?)?)
            }
        } else {
            Ok(a1)
        }
    }

    /// `A` in whole units at `now` (`A_precise / 100`, floor).
    ///
    /// Specification: as [`StableSwapPool::a_precise`].
    pub fn a(&self, now: u64) -> Result<U256, StableSwapError> {
        Ok(self.a_precise(now)?.div_c(A_PRECISION)?)
    }

    /// The pool's raw holdings per coin, read through `coins`.
    fn holdings(&self, ledger: &Ledger, coins: &impl Coins) -> Result<[U256; 2], StableSwapError> {
        Ok([
            coins.balance_of(ledger, self.coins[0], self.account)?,
            coins.balance_of(ledger, self.coins[1], self.account)?,
        ])
    }

    /// The LP-owned balances: `balance_of(pool) − admin_balances` per coin (the contract's
    /// `_balances()`), including any rebase since the last operation.
    ///
    /// Specification: fails with a math error if the admin is owed more than the pool holds
    /// (a negative rebase larger than the LP part; the contract reverts too).
    pub fn balances(&self, ledger: &Ledger, coins: &impl Coins) -> Result<[U256; 2], StableSwapError> {
        let h = self.holdings(ledger, coins)?;
        Ok([h[0].sub_c(self.admin_balances[0])?, h[1].sub_c(self.admin_balances[1])?])
    }

    fn check_pair(i: usize, j: usize) -> Result<(), StableSwapError> {
        for k in [i, j] {
            if k >= N_COINS {
                return Err(StableSwapError::CoinIndexOutOfRange { index: k });
            }
        }
        if i == j {
            return Err(StableSwapError::SameCoin { index: i });
        }
        Ok(())
    }

    /// Runs `moves` atomically on the ledger and returns the pool's holdings afterwards.
    fn run_moves(
        &self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        moves: impl FnOnce(&mut Ledger) -> Result<(), StableSwapError>,
    ) -> Result<Moved, StableSwapError> {
        ledger.atomic(|l| {
            moves(l)?;
            let after = self.holdings(l, coins)?;
            Ok(Moved { after })
        })
    }

    // ----- views -----

    /// `get_dy(i, j, dx)` on the current balances.
    ///
    /// Specification: as [`calc::quote_exchange`].
    pub fn get_dy(
        &self,
        ledger: &Ledger,
        coins: &impl Coins,
        i: usize,
        j: usize,
        dx: U256,
        now: u64,
    ) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        Ok(calc::quote_exchange(
            self.variant,
            b,
            self.a_precise(now)?,
            self.fee,
            self.admin_fee,
            i,
            j,
            dx,
        )?
        .dy)
    }

    /// `calc_withdraw_one_coin(token_amount, i)` on the current balances.
    ///
    /// Specification: as [`calc::quote_withdraw_one_coin`].
    pub fn calc_withdraw_one_coin(
        &self,
        ledger: &Ledger,
        coins: &impl Coins,
        token_amount: U256,
        i: usize,
        now: u64,
    ) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        let q = calc::quote_withdraw_one_coin(
            self.variant,
            b,
            self.a_precise(now)?,
            self.fee,
            self.admin_fee,
            self.lp_supply,
            token_amount,
            i,
        )?;
        Ok(q.dy)
    }

    /// `calc_token_amount(amounts, is_deposit)` on the current balances (no fees; legacy math,
    /// NG pools use their own `get_D`).
    ///
    /// Specification: as [`calc::calc_token_amount`].
    pub fn calc_token_amount(
        &self,
        ledger: &Ledger,
        coins: &impl Coins,
        amounts: [U256; 2],
        deposit: bool,
        now: u64,
    ) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        let amp = self.a_precise(now)?;
        let ng = self.variant.is_ng();
        let d0 = calc::get_d_variant(ng, b, amp)?;
        let mut nb = b;
        for k in 0..N_COINS {
            nb[k] = if deposit {
                nb[k].add_c(amounts[k])?
            } else {
                nb[k].sub_c(amounts[k])?
            };
        }
        let d1 = calc::get_d_variant(ng, nb, amp)?;
        let diff = if deposit { d1.sub_c(d0)? } else { d0.sub_c(d1)? };
        Ok(diff.mul_c(self.lp_supply)?.div_c(d0)?)
    }

    /// `get_virtual_price = ⌊D·1e18/supply⌋`.
    ///
    /// Specification: fails with [`StableSwapError::ZeroTotalSupply`] before the first deposit.
    pub fn virtual_price(&self, ledger: &Ledger, coins: &impl Coins, now: u64) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        calc::virtual_price(self.variant, b, self.a_precise(now)?, self.lp_supply)
    }

    /// The invariant `D` of the current balances.
    ///
    /// Specification: fails on non-convergence or overflow.
    pub fn d(&self, ledger: &Ledger, coins: &impl Coins, now: u64) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        calc::get_d_variant(self.variant.is_ng(), b, self.a_precise(now)?)
    }

    /// Price and depth of selling coin `i` for coin `j` (see [`calc::depth`]).
    ///
    /// Specification: as [`calc::depth`].
    pub fn depth(
        &self,
        ledger: &Ledger,
        coins: &impl Coins,
        i: usize,
        j: usize,
        now: u64,
    ) -> Result<calc::Depth, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        calc::depth(self.variant, b, self.a_precise(now)?, self.fee, i, j)
    }

    /// Execution price of the probe trade ([`calc::PROBE`]) of coin `i` for coin `j`, wad: the
    /// `price` of [`depth`](Self::depth) without its three discount quotes.
    ///
    /// Specification: as [`calc::price`].
    pub fn probe_price(
        &self,
        ledger: &Ledger,
        coins: &impl Coins,
        i: usize,
        j: usize,
        now: u64,
    ) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        calc::price(self.variant, b, self.a_precise(now)?, self.fee, i, j, calc::PROBE)
    }

    /// State (marginal, fee-free) price of coin 1 in coin 0, wad (see [`calc::state_price`]).
    ///
    /// Specification: as [`calc::state_price`].
    pub fn state_price(&self, ledger: &Ledger, coins: &impl Coins, now: u64) -> Result<U256, StableSwapError> {
        let b = self.balances(ledger, coins)?;
        calc::state_price(self.variant, b, self.a_precise(now)?)
    }

    // ----- operations -----

    /// Books any change of the pool's holdings since its last operation (a rebase of a coin
    /// held as shares) as a [`StableSwapEvent::Rebased`] event. The math never needs it (every
    /// operation reads fresh balances); it keeps `stored_balances` equal to the holdings so that
    /// [`StableSwapPool::check_invariants_with`] holds between operations.
    ///
    /// Specification: fails only with a ledger error from `coins`.
    pub fn sync(&mut self, ledger: &Ledger, coins: &impl Coins) -> Result<Vec<StableSwapEvent>, StableSwapError> {
        let h = self.holdings(ledger, coins)?;
        let mut events = Vec::new();
        for (k, held) in h.iter().enumerate() {
            if *held != self.stored_balances[k] {
                events.push(StableSwapEvent::Rebased {
                    coin: k,
                    old_balance: self.stored_balances[k],
                    new_balance: *held,
                });
            }
        }
        self.stored_balances = h;
        Ok(events)
    }

    /// Sells `dx` of coin `i` for at least `min_dy` of coin `j` (the contract's `exchange`):
    /// `dy = xp[j] − y − 1 − fee`, the admin's share of the fee is booked to
    /// `admin_balances[j]`, the rest stays with LPs. Legacy math prices `dx` as sent; NG math
    /// prices what the pool actually received.
    ///
    /// Specification:
    /// * fails with [`StableSwapError::SameCoin`] / [`StableSwapError::CoinIndexOutOfRange`];
    /// * fails with [`StableSwapError::ZeroAmount`] if `dx = 0`;
    /// * fails with [`StableSwapError::ExchangeSlippage`] if `dy < min_dy`;
    /// * fails with a ledger error if `user` lacks `dx` of coin `i`, with a math error or
    ///   [`StableSwapError::NoConvergence`] where the contract reverts.
    #[allow(clippy::too_many_arguments)]
    pub fn exchange(
        &mut self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        user: AccountId,
        i: usize,
        j: usize,
        dx: U256,
        min_dy: U256,
        now: u64,
    ) -> Result<(U256, Vec<StableSwapEvent>), StableSwapError> {
        Self::check_pair(i, j)?;
        if dx == U256::ZERO {
            return Err(StableSwapError::ZeroAmount { what: "dx" });
        }
        let amp = self.a_precise(now)?;
        let before = self.holdings(ledger, coins)?;
        let b = [
            before[0].sub_c(self.admin_balances[0])?,
            before[1].sub_c(self.admin_balances[1])?,
        ];
        let (ci, cj, pool) = (self.coins[i], self.coins[j], self.account);
        let variant = self.variant;
        let (fee, admin_fee) = (self.fee, self.admin_fee);
        let mut quote = None;
        let moved = self.run_moves(ledger, coins, |l| {
            coins.transfer(l, ci, user, pool, dx)?;
            let dx_priced = match variant {
                Variant::Legacy => dx,
                Variant::Ng { .. } => coins.balance_of(l, ci, pool)?.sub_c(before[i])?,
            };
            let q = calc::quote_exchange(variant, b, amp, fee, admin_fee, i, j, dx_priced)?;
            if q.dy < min_dy {
                return Err(StableSwapError::ExchangeSlippage { dy: q.dy, min_dy });
            }
            coins.transfer(l, cj, pool, user, q.dy)?;
            quote = Some(q);
            Ok(())
        })?;
        // `run_moves` returned Ok, so the closure ran to its end and set the quote.
        let q = quote.ok_or(StableSwapError::ZeroAmount { what: "dx" })?;
        self.admin_balances[j] = self.admin_balances[j].add_c(q.admin_fee)?;
        self.stored_balances = moved.after;
        Ok((
            q.dy,
            vec![StableSwapEvent::TokenExchange {
                buyer: user,
                sold_id: i,
                tokens_sold: dx,
                bought_id: j,
                tokens_bought: q.dy,
                fee: q.fee,
                admin_fee: q.admin_fee,
            }],
        ))
    }

    /// Deposits `amounts` and mints at least `min_mint_amount` LP tokens (the contract's
    /// `add_liquidity`). The first deposit mints `D1` and pays no fee; later ones pay the
    /// imbalance fee `fee·N/(4(N−1))` (NG: dynamic) whose admin share goes to `admin_balances`.
    ///
    /// Specification:
    /// * fails with [`StableSwapError::ZeroAmount`] if every amount is zero;
    /// * fails with [`StableSwapError::InitialDepositRequiresAllCoins`] for a one-sided first deposit;
    /// * fails with [`StableSwapError::InvariantNotIncreased`] unless `D1 > D0`;
    /// * fails with [`StableSwapError::MintSlippage`] if the mint is below `min_mint_amount`;
    /// * fails with a ledger error if `user` lacks a coin.
    pub fn add_liquidity(
        &mut self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        user: AccountId,
        amounts: [U256; 2],
        min_mint_amount: U256,
        now: u64,
    ) -> Result<(U256, Vec<StableSwapEvent>), StableSwapError> {
        if amounts[0] == U256::ZERO && amounts[1] == U256::ZERO {
            return Err(StableSwapError::ZeroAmount { what: "amounts" });
        }
        let amp = self.a_precise(now)?;
        let b = self.balances(ledger, coins)?;
        let q = calc::quote_add_liquidity(self.variant, b, amp, self.fee, self.admin_fee, self.lp_supply, amounts)?;
        if q.mint_amount < min_mint_amount {
            return Err(StableSwapError::MintSlippage {
                mint_amount: q.mint_amount,
                min_mint_amount,
            });
        }
        let new_supply = self.lp_supply.add_c(q.mint_amount)?;
        let mut admin = self.admin_balances;
        for k in 0..N_COINS {
            admin[k] = admin[k].add_c(q.admin_fees[k])?;
        }
        let (pool, lp, cs) = (self.account, self.lp_token, self.coins);
        let moved = self.run_moves(ledger, coins, |l| {
            for k in 0..N_COINS {
                if amounts[k] > U256::ZERO {
                    coins.transfer(l, cs[k], user, pool, amounts[k])?;
                }
            }
            l.mint(user, lp, q.mint_amount)?;
            Ok(())
        })?;
        self.admin_balances = admin;
        self.lp_supply = new_supply;
        self.stored_balances = moved.after;
        Ok((
            q.mint_amount,
            vec![StableSwapEvent::AddLiquidity {
                provider: user,
                token_amounts: amounts,
                fees: q.fees,
                invariant: q.d1,
                minted: q.mint_amount,
                token_supply: new_supply,
            }],
        ))
    }

    /// Burns `amount` LP tokens for a proportional share of both coins,
    /// `⌊balance_i·amount/supply⌋` each (the contract's `remove_liquidity`; no fee).
    ///
    /// Specification:
    /// * fails with [`StableSwapError::ZeroAmount`] if `amount = 0` (stableswap-ng's check);
    /// * fails with [`StableSwapError::ZeroTotalSupply`] before the first deposit;
    /// * fails with [`StableSwapError::WithdrawSlippage`] if a coin amount is below its minimum;
    /// * fails with a ledger error if `user` holds fewer than `amount` LP tokens.
    pub fn remove_liquidity(
        &mut self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        user: AccountId,
        amount: U256,
        min_amounts: [U256; 2],
    ) -> Result<([U256; 2], Vec<StableSwapEvent>), StableSwapError> {
        if amount == U256::ZERO {
            return Err(StableSwapError::ZeroAmount { what: "amount" });
        }
        if self.lp_supply == U256::ZERO {
            return Err(StableSwapError::ZeroTotalSupply);
        }
        ledger.require(user, self.lp_token, amount)?;
        let b = self.balances(ledger, coins)?;
        let mut out = [U256::ZERO; 2];
        for k in 0..N_COINS {
            out[k] = b[k].mul_c(amount)?.div_c(self.lp_supply)?;
            if out[k] < min_amounts[k] {
                return Err(StableSwapError::WithdrawSlippage {
                    coin: k,
                    amount: out[k],
                    min_amount: min_amounts[k],
                });
            }
        }
        let new_supply = self.lp_supply.sub_c(amount)?;
        let (pool, lp, cs) = (self.account, self.lp_token, self.coins);
        let moved = self.run_moves(ledger, coins, |l| {
            l.burn(user, lp, amount)?;
            for k in 0..N_COINS {
                if out[k] > U256::ZERO {
                    coins.transfer(l, cs[k], pool, user, out[k])?;
                }
            }
            Ok(())
        })?;
        self.lp_supply = new_supply;
        self.stored_balances = moved.after;
        Ok((
            out,
            vec![StableSwapEvent::RemoveLiquidity {
                provider: user,
                token_amounts: out,
                burned: amount,
                token_supply: new_supply,
            }],
        ))
    }

    /// Withdraws exactly `amounts`, burning at most `max_burn_amount` LP tokens (the contract's
    /// `remove_liquidity_imbalance`, imbalance fee as in `add_liquidity`; NG burns `+1`).
    ///
    /// Specification:
    /// * fails with [`StableSwapError::ZeroAmount`] if every amount is zero;
    /// * fails with [`StableSwapError::ZeroTotalSupply`], [`StableSwapError::ZeroTokensBurned`];
    /// * fails with [`StableSwapError::BurnSlippage`] if the burn exceeds `max_burn_amount`;
    /// * fails with a math error if an amount exceeds the pool's balance, a ledger error if
    ///   `user` lacks the LP tokens.
    pub fn remove_liquidity_imbalance(
        &mut self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        user: AccountId,
        amounts: [U256; 2],
        max_burn_amount: U256,
        now: u64,
    ) -> Result<(U256, Vec<StableSwapEvent>), StableSwapError> {
        if amounts[0] == U256::ZERO && amounts[1] == U256::ZERO {
            return Err(StableSwapError::ZeroAmount { what: "amounts" });
        }
        let amp = self.a_precise(now)?;
        let b = self.balances(ledger, coins)?;
        let q = calc::quote_remove_liquidity_imbalance(
            self.variant,
            b,
            amp,
            self.fee,
            self.admin_fee,
            self.lp_supply,
            amounts,
        )?;
        if q.burn_amount > max_burn_amount {
            return Err(StableSwapError::BurnSlippage {
                burn_amount: q.burn_amount,
                max_burn_amount,
            });
        }
        ledger.require(user, self.lp_token, q.burn_amount)?;
        let new_supply = self.lp_supply.sub_c(q.burn_amount)?;
        let mut admin = self.admin_balances;
        for k in 0..N_COINS {
            admin[k] = admin[k].add_c(q.admin_fees[k])?;
        }
        let (pool, lp, cs) = (self.account, self.lp_token, self.coins);
        let moved = self.run_moves(ledger, coins, |l| {
            l.burn(user, lp, q.burn_amount)?;
            for k in 0..N_COINS {
                if amounts[k] > U256::ZERO {
                    coins.transfer(l, cs[k], pool, user, amounts[k])?;
                }
            }
            Ok(())
        })?;
        self.admin_balances = admin;
        self.lp_supply = new_supply;
        self.stored_balances = moved.after;
        Ok((
            q.burn_amount,
            vec![StableSwapEvent::RemoveLiquidityImbalance {
                provider: user,
                token_amounts: amounts,
                fees: q.fees,
                invariant: q.d1,
                burned: q.burn_amount,
                token_supply: new_supply,
            }],
        ))
    }

    /// Burns `token_amount` LP tokens for at least `min_amount` of coin `i` (the contract's
    /// `remove_liquidity_one_coin`, priced by `calc_withdraw_one_coin`). The legacy pool books no
    /// admin fee here (LPs keep the whole fee); NG books `fee·admin_fee/1e10`.
    ///
    /// Specification:
    /// * fails with [`StableSwapError::ZeroAmount`] if `token_amount = 0`;
    /// * fails with [`StableSwapError::CoinIndexOutOfRange`], [`StableSwapError::ZeroTotalSupply`];
    /// * fails with [`StableSwapError::WithdrawSlippage`] if the amount is below `min_amount`;
    /// * fails with a ledger error if `user` lacks the LP tokens, a math error if
    ///   `token_amount > supply`.
    #[allow(clippy::too_many_arguments)]
    pub fn remove_liquidity_one_coin(
        &mut self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        user: AccountId,
        token_amount: U256,
        i: usize,
        min_amount: U256,
        now: u64,
    ) -> Result<(U256, Vec<StableSwapEvent>), StableSwapError> {
        if token_amount == U256::ZERO {
            return Err(StableSwapError::ZeroAmount { what: "token_amount" });
        }
        if i >= N_COINS {
            return Err(StableSwapError::CoinIndexOutOfRange { index: i });
        }
        let amp = self.a_precise(now)?;
        let b = self.balances(ledger, coins)?;
        let q = calc::quote_withdraw_one_coin(
            self.variant,
            b,
            amp,
            self.fee,
            self.admin_fee,
            self.lp_supply,
            token_amount,
            i,
        )?;
        if q.dy < min_amount {
            return Err(StableSwapError::WithdrawSlippage {
                coin: i,
                amount: q.dy,
                min_amount,
            });
        }
        ledger.require(user, self.lp_token, token_amount)?;
        let new_supply = self.lp_supply.sub_c(token_amount)?;
        let new_admin = self.admin_balances[i].add_c(q.admin_fee)?;
        let (pool, lp, ci) = (self.account, self.lp_token, self.coins[i]);
        let moved = self.run_moves(ledger, coins, |l| {
            l.burn(user, lp, token_amount)?;
            coins.transfer(l, ci, pool, user, q.dy)?;
            Ok(())
        })?;
        self.admin_balances[i] = new_admin;
        self.lp_supply = new_supply;
        self.stored_balances = moved.after;
        Ok((
            q.dy,
            vec![StableSwapEvent::RemoveLiquidityOne {
                provider: user,
                token_amount,
                coin: i,
                coin_amount: q.dy,
                fee: q.fee,
                admin_fee: q.admin_fee,
            }],
        ))
    }

    /// Pays the accrued admin fees to `to` and zeroes them (the contract's `withdraw_admin_fees`).
    ///
    /// Specification: fails with a ledger error if the pool holds less than the admin is owed
    /// (possible only after a negative rebase; the contract's transfer would fail too).
    pub fn withdraw_admin_fees(
        &mut self,
        ledger: &mut Ledger,
        coins: &impl Coins,
        to: AccountId,
    ) -> Result<Vec<StableSwapEvent>, StableSwapError> {
        let amounts = self.admin_balances;
        let (pool, cs) = (self.account, self.coins);
        let moved = self.run_moves(ledger, coins, |l| {
            for k in 0..N_COINS {
                if amounts[k] > U256::ZERO {
                    coins.transfer(l, cs[k], pool, to, amounts[k])?;
                }
            }
            Ok(())
        })?;
        self.admin_balances = [U256::ZERO; 2];
        self.stored_balances = moved.after;
        Ok(vec![StableSwapEvent::AdminFeesWithdrawn { to, amounts }])
    }

    /// Starts ramping `A` linearly from its current value to `future_a` (whole units) at
    /// `future_time` (the contract's `ramp_A`).
    ///
    /// Specification:
    /// * fails with [`StableSwapError::RampTooSoon`] if `now < initial_a_time + MIN_RAMP_TIME`;
    /// * fails with [`StableSwapError::RampTooShort`] if `future_time < now + MIN_RAMP_TIME`;
    /// * fails with [`StableSwapError::InvalidA`] unless `0 < future_a < MAX_A`;
    /// * fails with [`StableSwapError::RampTooFast`] if `A` would change by more than 10×.
    pub fn ramp_a(
        &mut self,
        future_a: U256,
        future_time: u64,
        now: u64,
    ) -> Result<Vec<StableSwapEvent>, StableSwapError> {
        let earliest = self.initial_a_time.saturating_add(MIN_RAMP_TIME);
        if now < earliest {
            return Err(StableSwapError::RampTooSoon { now, earliest });
        }
        let earliest_end = now.saturating_add(MIN_RAMP_TIME);
        if future_time < earliest_end {
            return Err(StableSwapError::RampTooShort {
                future_time,
                earliest: earliest_end,
            });
        }
        let initial = self.a_precise(now)?;
        if future_a == U256::ZERO || future_a >= MAX_A {
            return Err(StableSwapError::InvalidA { future_a });
        }
        let future_p = future_a.mul_c(A_PRECISION)?;
        let too_fast = if future_p < initial {
            future_p.mul_c(MAX_A_CHANGE)? < initial
        } else {
            future_p > initial.mul_c(MAX_A_CHANGE)?
        };
        if too_fast {
            return Err(StableSwapError::RampTooFast {
                initial_a_precise: initial,
                future_a_precise: future_p,
            });
        }
        self.initial_a = initial;
        self.future_a = future_p;
        self.initial_a_time = now;
        self.future_a_time = future_time;
        Ok(vec![StableSwapEvent::RampA {
            old_a: initial,
            new_a: future_p,
            initial_time: now,
            future_time,
        }])
    }

    /// Freezes `A` at its current value (the contract's `stop_ramp_A`).
    ///
    /// Specification: fails only on arithmetic overflow (impossible for valid `A`).
    pub fn stop_ramp_a(&mut self, now: u64) -> Result<Vec<StableSwapEvent>, StableSwapError> {
        let current = self.a_precise(now)?;
        self.initial_a = current;
        self.future_a = current;
        self.initial_a_time = now;
        self.future_a_time = now;
        Ok(vec![StableSwapEvent::StopRampA { a: current, t: now }])
    }

    /// Sets new fee parameters (the contract's `commit_new_fee` + `apply_new_fee`; the 3-day
    /// admin delay is the engine's governance concern).
    ///
    /// Specification: fails with [`StableSwapError::InvalidFee`] if `fee > MAX_FEE` or
    /// `admin_fee > MAX_ADMIN_FEE`.
    pub fn set_fee(&mut self, fee: U256, admin_fee: U256) -> Result<Vec<StableSwapEvent>, StableSwapError> {
        if fee > MAX_FEE || admin_fee > MAX_ADMIN_FEE {
            return Err(StableSwapError::InvalidFee { fee, admin_fee });
        }
        self.fee = fee;
        self.admin_fee = admin_fee;
        Ok(vec![StableSwapEvent::NewFee { fee, admin_fee }])
    }

    /// Sets the NG off-peg fee multiplier (a no-op on a legacy pool).
    ///
    /// Specification: fails with [`StableSwapError::InvalidFee`] if `M·fee` would exceed
    /// `MAX_FEE·1e10` (stableswap-ng's `set_new_fee` bound).
    pub fn set_offpeg_fee_multiplier(&mut self, multiplier: U256) -> Result<(), StableSwapError> {
        if multiplier.mul_c(self.fee)? > MAX_FEE.mul_c(FEE_DENOMINATOR)? {
            return Err(StableSwapError::InvalidFee {
                fee: self.fee,
                admin_fee: self.admin_fee,
            });
        }
        if let Variant::Ng { offpeg_fee_multiplier } = &mut self.variant {
            *offpeg_fee_multiplier = multiplier;
        }
        Ok(())
    }

    // ----- invariants -----

    /// The backing rules readable from the ledger alone: LP supply matches, and for every
    /// [`AssetKind::Plain`] coin, holdings = `stored_balances` ≥ `admin_balances`. Coins held as
    /// issuer shares need the issuer's rate: use [`StableSwapPool::check_invariants_with`].
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_lp(ledger)?;
        for k in 0..N_COINS {
            let kind = ledger.asset_info(self.coins[k]).map_err(|e| e.to_string())?.kind;
            if kind == AssetKind::Plain {
                let held = ledger.balance(self.account, self.coins[k]);
                self.check_coin(k, held)?;
            }
        }
        Ok(())
    }

    /// The pool's backing rules, reading holdings through `coins`:
    /// * LP supply in the ledger = the pool's `lp_supply`;
    /// * per coin, holdings = `stored_balances` = LP balance + `admin_balances` (call
    ///   [`StableSwapPool::sync`] after a rebase);
    /// * the admin is never owed more than the pool holds;
    /// * with LP supply, the invariant is computable and positive.
    pub fn check_invariants_with(&self, ledger: &Ledger, coins: &impl Coins, now: u64) -> Result<(), String> {
        self.check_lp(ledger)?;
        let h = self.holdings(ledger, coins).map_err(|e| e.to_string())?;
        for (k, held) in h.iter().enumerate() {
            self.check_coin(k, *held)?;
        }
        if self.lp_supply > U256::ZERO {
            let d = self.d(ledger, coins, now).map_err(|e| e.to_string())?;
            if d == U256::ZERO {
                return Err(format!(
                    "{}: LP supply {} but invariant D = 0",
                    self.name, self.lp_supply
                ));
            }
        }
        Ok(())
    }

    fn check_lp(&self, ledger: &Ledger) -> Result<(), String> {
        let s = ledger.supply(self.lp_token);
        if s != self.lp_supply {
            return Err(format!(
                "{}: ledger LP supply {} ≠ pool LP supply {}",
                self.name, s, self.lp_supply
            ));
        }
        Ok(())
    }

    fn check_coin(&self, k: usize, held: U256) -> Result<(), String> {
        if held != self.stored_balances[k] {
            return Err(format!(
                "{}: coin {k} holdings {held} ≠ booked {} (LP + admin)",
                self.name, self.stored_balances[k]
            ));
        }
        if held < self.admin_balances[k] {
            return Err(format!(
                "{}: coin {k} holdings {held} < admin balance {}",
                self.name, self.admin_balances[k]
            ));
        }
        Ok(())
    }
}
