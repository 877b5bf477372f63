//! `insurance` — a cover fund (SPEC §8 "insurance layer"; Lido's cover fund, Rocket Pool's
//! bonds, LRT reserves): underwriters deposit assets for shares, covered positions buy cover and
//! pay premiums, and a slashing loss on a covered position is paid from the fund.
//!
//! * **Premiums** accrue on the cover amount (the covered value) × time at
//!   `premium_rate_wad_per_year`, pro rata per second, through a global index
//!   `index += rate·Δt` (wad·seconds, exact) and a per-position checkpoint: the premium owed is
//!   `⌈cover·(index − checkpoint)/(1e18·SECONDS_PER_YEAR)⌉` (rounded in the fund's favour). O(1)
//!   per update. Premiums raise the fund's assets when collected.
//! * **Capacity** = `⌊assets·leverage/1e18⌋` (`leverage_wad` = 1e18: every unit of cover backed by
//!   a unit of assets). New cover must fit: `total_cover + cover ≤ capacity`.
//! * **Claims**: a loss on a position pays `min(⌊loss·payout_share_bps/1e4⌋, cover, assets)` —
//!   capped by the position's cover and the assets that remain; the payout uses up that much cover.
//!   A position with premium owed cannot claim.
//! * **Underwriters**: shares as OpenZeppelin ERC-4626 with offset 0 (`⌊a·(S+1)/(A+1)⌋` in,
//!   `⌊s·(A+1)/(S+1)⌋` out). A withdrawal starts a cool-down; the cooling shares still bear losses
//!   and are priced at the claim, which must leave the capacity at or above the cover written.
//!
//! Each operation computes its changes first and writes them only when every check passed (a
//! rejection changes nothing); none copies or scans the positions.

use crate::{ensure, math_error};
use imbl::OrdMap;
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{mul_div_down, mul_div_up, Checked, MathError, SECONDS_PER_YEAR, U256, WAD};
use std::fmt;

/// Basis-point denominator.
pub const BPS_SCALE: u32 = 10_000;

/// Rejections of the insurance fund (codes 7300–7399).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InsuranceError {
    /// `now` before the last update.
    TimeWentBackwards {
        /// Now.
        now: u64,
        /// Last update.
        last: u64,
    },
    /// A bps value above 10,000.
    InvalidBps {
        /// The value.
        bps: u32,
    },
    /// A leverage limit below 1 (1e18).
    InvalidLeverage {
        /// The value.
        leverage_wad: U256,
    },
    /// Redeeming more shares than the underwriter holds.
    InsufficientShares {
        /// Shares asked.
        shares: U256,
        /// Balance.
        balance: U256,
    },
    /// No such cool-down for this owner.
    UnknownRequest {
        /// Request id.
        id: u64,
    },
    /// The cool-down has not passed.
    CoolDownActive {
        /// Request id.
        id: u64,
        /// When it ends.
        ready_at: u64,
        /// Now.
        now: u64,
    },
    /// New cover above the remaining capacity.
    CapacityExceeded {
        /// Cover asked.
        requested: U256,
        /// Capacity left.
        available: U256,
    },
    /// An underwriter withdrawal would leave the capacity below the cover written.
    CapacityLocked {
        /// Cover written.
        cover: U256,
        /// Capacity after the withdrawal.
        capacity_after: U256,
    },
    /// No covered position with this name.
    UnknownPosition {
        /// The name.
        name: String,
    },
    /// The position owes premium.
    PremiumUnpaid {
        /// Premium owed.
        owed: U256,
    },
    /// Releasing more cover than the position holds.
    ExceedsCover {
        /// Amount asked.
        amount: U256,
        /// Cover held.
        cover: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

math_error!(InsuranceError);

impl fmt::Display for InsuranceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use InsuranceError::*;
        match self {
            TimeWentBackwards { now, last } => write!(f, "insurance: now {now} before the last update {last}"),
            InvalidBps { bps } => write!(f, "insurance: {bps} bps above 10000"),
            InvalidLeverage { leverage_wad } => write!(f, "insurance: leverage {leverage_wad} below 1e18"),
            InsufficientShares { shares, balance } => write!(f, "insurance: {shares} shares, balance {balance}"),
            UnknownRequest { id } => write!(f, "insurance: no cool-down {id} for this owner"),
            CoolDownActive { id, ready_at, now } => {
                write!(f, "insurance: cool-down {id} ends at {ready_at}, now {now}")
            }
            CapacityExceeded { requested, available } => {
                write!(f, "insurance: cover {requested} above the capacity left {available}")
            }
            CapacityLocked { cover, capacity_after } => {
                write!(
                    f,
                    "insurance: capacity after {capacity_after} below the cover written {cover}"
                )
            }
            UnknownPosition { name } => write!(f, "insurance: no covered position {name}"),
            PremiumUnpaid { owed } => write!(f, "insurance: premium {owed} owed"),
            ExceedsCover { amount, cover } => write!(f, "insurance: release {amount} of cover {cover}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl Reject for InsuranceError {
    fn code(&self) -> u32 {
        use InsuranceError::*;
        match self {
            TimeWentBackwards { .. } => 7300,
            InvalidBps { .. } => 7301,
            InvalidLeverage { .. } => 7302,
            InsufficientShares { .. } => 7303,
            UnknownRequest { .. } => 7304,
            CoolDownActive { .. } => 7305,
            CapacityExceeded { .. } => 7306,
            CapacityLocked { .. } => 7307,
            UnknownPosition { .. } => 7308,
            PremiumUnpaid { .. } => 7309,
            ExceedsCover { .. } => 7310,
            Math(e) => e.code(),
        }
    }
}

/// Result of an insurance operation.
pub type InsuranceResult<T> = Result<T, InsuranceError>;

/// A covered position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cover {
    /// Cover amount (the most the fund pays, and the premium base).
    pub cover: U256,
    /// Premium index at the last settlement.
    pub checkpoint: U256,
    /// Premium accrued and not yet paid.
    pub owed: U256,
}

/// An underwriter withdrawal in its cool-down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoolDown {
    /// Who claims it.
    pub owner: String,
    /// Shares (still in the supply, still bearing losses).
    pub shares: U256,
    /// First second it can be claimed.
    pub ready_at: u64,
}

/// Fund parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsuranceParams {
    /// Premium rate on cover, wad per year.
    pub premium_rate_wad_per_year: U256,
    /// Capacity multiple of the assets, wad (≥ 1e18).
    pub leverage_wad: U256,
    /// Share of a loss paid, bps.
    pub payout_share_bps: u32,
    /// Underwriter cool-down, seconds.
    pub cooldown_s: u64,
}

/// The fund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsuranceFund {
    /// Parameters.
    pub params: InsuranceParams,
    /// Fund assets.
    pub assets: U256,
    /// Underwriter shares.
    pub shares: U256,
    /// Σ rate·seconds, wad·s.
    pub premium_index: U256,
    /// Second of the last accrual.
    pub last_update: u64,
    /// Σ cover written.
    pub total_cover: U256,
    /// Covered positions by name.
    pub positions: OrdMap<String, Cover>,
    /// Cool-downs by id.
    pub cooling: OrdMap<u64, CoolDown>,
    /// Σ cooling shares.
    pub cooling_shares: U256,
    /// Next cool-down id.
    pub next_request: u64,
    /// Σ premiums collected.
    pub premiums_collected: U256,
    /// Σ claims paid.
    pub claims_paid: U256,
}

impl InsuranceFund {
    /// An empty fund.
    ///
    /// Specification: fails with `InvalidBps` for a payout share above 10,000 and
    /// `InvalidLeverage` below 1e18.
    pub fn new(params: InsuranceParams, now: u64) -> InsuranceResult<Self> {
        if params.payout_share_bps > BPS_SCALE {
            return Err(InsuranceError::InvalidBps {
                bps: params.payout_share_bps,
            });
        }
        if params.leverage_wad < WAD {
            return Err(InsuranceError::InvalidLeverage {
                leverage_wad: params.leverage_wad,
            });
        }
        Ok(InsuranceFund {
            params,
            assets: U256::ZERO,
            shares: U256::ZERO,
            premium_index: U256::ZERO,
            last_update: now,
            total_cover: U256::ZERO,
            positions: OrdMap::new(),
            cooling: OrdMap::new(),
            cooling_shares: U256::ZERO,
            next_request: 0,
            premiums_collected: U256::ZERO,
            claims_paid: U256::ZERO,
        })
    }

    /// `⌊assets·leverage/1e18⌋`.
    pub fn capacity(&self) -> InsuranceResult<U256> {
        capacity_of(self.assets, self.params.leverage_wad)
    }

    /// Capacity not yet written as cover.
    pub fn capacity_left(&self) -> InsuranceResult<U256> {
        Ok(self.capacity()?.saturating_sub(self.total_cover))
    }

    /// The premium index at `now` (nothing written).
    fn index_at(&self, now: u64) -> InsuranceResult<U256> {
        if now < self.last_update {
            return Err(InsuranceError::TimeWentBackwards {
                now,
                last: self.last_update,
            });
        }
        let dt = U256::from(now - self.last_update);
        Ok(self
            .premium_index
            .add_c(self.params.premium_rate_wad_per_year.mul_c(dt)?)?)
    }

    fn advance_to(&mut self, now: u64, index: U256) {
        self.premium_index = index;
        self.last_update = now;
    }

    /// `name`'s position with its premium settled at `index` (nothing written).
    fn settled(&self, name: &str, index: U256) -> InsuranceResult<Cover> {
        let p = self
            .positions
            .get(name)
            .ok_or_else(|| InsuranceError::UnknownPosition { name: name.into() })?;
        let per_year = WAD.mul_c(U256::from(SECONDS_PER_YEAR))?;
        let accrued = mul_div_up(p.cover, index.sub_c(p.checkpoint)?, per_year)?;
        Ok(Cover {
            cover: p.cover,
            checkpoint: index,
            owed: p.owed.add_c(accrued)?,
        })
    }

    /// Advances the premium index to `now`.
    ///
    /// Specification: fails with `TimeWentBackwards` before the last update.
    pub fn accrue(&mut self, now: u64) -> InsuranceResult<()> {
        let index = self.index_at(now)?;
        self.advance_to(now, index);
        Ok(())
    }

    /// Premium owed by `name` at `now` (a view).
    ///
    /// Specification: fails with `TimeWentBackwards` and `UnknownPosition`.
    pub fn premium_owed(&self, name: &str, now: u64) -> InsuranceResult<U256> {
        Ok(self.settled(name, self.index_at(now)?)?.owed)
    }

    /// Underwriter deposit; returns the shares minted.
    ///
    /// Specification: fails with `TimeWentBackwards`.
    pub fn deposit(&mut self, assets: U256, now: u64) -> InsuranceResult<U256> {
        let index = self.index_at(now)?;
        let shares = mul_div_down(assets, self.shares.add_c(U256::ONE)?, self.assets.add_c(U256::ONE)?)?;
        let total_assets = self.assets.add_c(assets)?;
        let total_shares = self.shares.add_c(shares)?;
        self.advance_to(now, index);
        self.assets = total_assets;
        self.shares = total_shares;
        Ok(shares)
    }

    /// Starts the cool-down of `shares` of an underwriter holding `balance` (the caller moves
    /// them out of the holder); returns the request id.
    ///
    /// Specification: fails with `TimeWentBackwards` and `InsufficientShares` above `balance`.
    pub fn request_withdrawal(&mut self, owner: &str, shares: U256, balance: U256, now: u64) -> InsuranceResult<u64> {
        if shares > balance {
            return Err(InsuranceError::InsufficientShares { shares, balance });
        }
        let index = self.index_at(now)?;
        let id = self.next_request;
        let next_request = id.checked_add(1).ok_or(MathError::Overflow)?;
        let cooling_shares = self.cooling_shares.add_c(shares)?;
        let ready_at = now.checked_add(self.params.cooldown_s).ok_or(MathError::Overflow)?;
        self.advance_to(now, index);
        self.next_request = next_request;
        self.cooling_shares = cooling_shares;
        self.cooling.insert(
            id,
            CoolDown {
                owner: owner.into(),
                shares,
                ready_at,
            },
        );
        Ok(id)
    }

    /// Claims cool-down `id` for `owner`: burns its shares at the current price; returns the
    /// assets paid.
    ///
    /// Specification: fails with `TimeWentBackwards`, `UnknownRequest`, `CoolDownActive` before
    /// its end and `CapacityLocked` if the capacity left would fall below the cover written.
    pub fn claim_withdrawal(&mut self, owner: &str, id: u64, now: u64) -> InsuranceResult<U256> {
        let index = self.index_at(now)?;
        let (shares, ready_at) = match self.cooling.get(&id) {
            Some(c) if c.owner == owner => (c.shares, c.ready_at),
            _ => return Err(InsuranceError::UnknownRequest { id }),
        };
        if now < ready_at {
            return Err(InsuranceError::CoolDownActive { id, ready_at, now });
        }
        let out = mul_div_down(shares, self.assets.add_c(U256::ONE)?, self.shares.add_c(U256::ONE)?)?;
        let assets_after = self.assets.sub_c(out)?;
        let capacity_after = capacity_of(assets_after, self.params.leverage_wad)?;
        if capacity_after < self.total_cover {
            return Err(InsuranceError::CapacityLocked {
                cover: self.total_cover,
                capacity_after,
            });
        }
        let shares_after = self.shares.sub_c(shares)?;
        let cooling_after = self.cooling_shares.sub_c(shares)?;
        self.advance_to(now, index);
        self.assets = assets_after;
        self.shares = shares_after;
        self.cooling_shares = cooling_after;
        self.cooling.remove(&id);
        Ok(out)
    }

    /// Buys (or adds) `cover` for position `name`.
    ///
    /// Specification: fails with `TimeWentBackwards` and `CapacityExceeded` above the capacity
    /// left.
    pub fn buy_cover(&mut self, name: &str, cover: U256, now: u64) -> InsuranceResult<()> {
        let index = self.index_at(now)?;
        let available = self.capacity_left()?;
        if cover > available {
            return Err(InsuranceError::CapacityExceeded {
                requested: cover,
                available,
            });
        }
        let mut p = if self.positions.contains_key(name) {
            self.settled(name, index)?
        } else {
            Cover {
                cover: U256::ZERO,
                checkpoint: index,
                owed: U256::ZERO,
            }
        };
        p.cover = p.cover.add_c(cover)?;
        let total_cover = self.total_cover.add_c(cover)?;
        self.advance_to(now, index);
        self.total_cover = total_cover;
        self.positions.insert(name.into(), p);
        Ok(())
    }

    /// Releases `amount` of `name`'s cover (the premium up to now stays owed).
    ///
    /// Specification: fails with `TimeWentBackwards`, `UnknownPosition` and `ExceedsCover`.
    pub fn release_cover(&mut self, name: &str, amount: U256, now: u64) -> InsuranceResult<()> {
        let index = self.index_at(now)?;
        let mut p = self.settled(name, index)?;
        if amount > p.cover {
            return Err(InsuranceError::ExceedsCover { amount, cover: p.cover });
        }
        p.cover = p.cover.sub_c(amount)?;
        let total_cover = self.total_cover.sub_c(amount)?;
        self.advance_to(now, index);
        self.total_cover = total_cover;
        self.positions.insert(name.into(), p);
        Ok(())
    }

    /// Collects the premium `name` owes (the caller moves it from the holder); returns it.
    ///
    /// Specification: fails with `TimeWentBackwards` and `UnknownPosition`.
    pub fn collect_premium(&mut self, name: &str, now: u64) -> InsuranceResult<U256> {
        let index = self.index_at(now)?;
        let mut p = self.settled(name, index)?;
        let owed = p.owed;
        p.owed = U256::ZERO;
        let assets = self.assets.add_c(owed)?;
        let collected = self.premiums_collected.add_c(owed)?;
        self.advance_to(now, index);
        self.assets = assets;
        self.premiums_collected = collected;
        self.positions.insert(name.into(), p);
        Ok(owed)
    }

    /// A slashing `loss` on position `name`; returns the payout (see the module doc).
    ///
    /// Specification: fails with `TimeWentBackwards`, `UnknownPosition` and `PremiumUnpaid` if
    /// the position owes premium.
    pub fn claim_loss(&mut self, name: &str, loss: U256, now: u64) -> InsuranceResult<U256> {
        let index = self.index_at(now)?;
        let mut p = self.settled(name, index)?;
        if p.owed > U256::ZERO {
            return Err(InsuranceError::PremiumUnpaid { owed: p.owed });
        }
        let share = U256::from(self.params.payout_share_bps);
        let payout = mul_div_down(loss, share, U256::from(BPS_SCALE))?
            .min(p.cover)
            .min(self.assets);
        p.cover = p.cover.sub_c(payout)?;
        let total_cover = self.total_cover.sub_c(payout)?;
        let assets = self.assets.sub_c(payout)?;
        let paid = self.claims_paid.add_c(payout)?;
        self.advance_to(now, index);
        self.total_cover = total_cover;
        self.assets = assets;
        self.claims_paid = paid;
        self.positions.insert(name.into(), p);
        Ok(payout)
    }

    /// Backing rules: `total_cover = Σ cover`, `cooling_shares = Σ cool-downs ≤ shares`, the
    /// whole supply redeems at most the assets.
    pub fn check_invariants(&self) -> Result<(), String> {
        let err = |e: MathError| format!("insurance: {e}");
        let cover = self
            .positions
            .values()
            .try_fold(U256::ZERO, |a, p| a.add_c(p.cover))
            .map_err(err)?;
        ensure(cover == self.total_cover, || {
            format!("insurance: Σ cover {cover} ≠ total {}", self.total_cover)
        })?;
        let cooling = self
            .cooling
            .values()
            .try_fold(U256::ZERO, |a, c| a.add_c(c.shares))
            .map_err(err)?;
        ensure(cooling == self.cooling_shares && cooling <= self.shares, || {
            format!(
                "insurance: cooling {cooling}, recorded {}, supply {}",
                self.cooling_shares, self.shares
            )
        })?;
        ensure(self.cooling.keys().all(|&k| k < self.next_request), || {
            "insurance: request id at or above the next id".into()
        })?;
        let all = mul_div_down(
            self.shares,
            self.assets.saturating_add(U256::ONE),
            self.shares.saturating_add(U256::ONE),
        )
        .map_err(err)?;
        ensure(all <= self.assets, || {
            format!("insurance: supply redeems {all} of {}", self.assets)
        })
    }
}

fn capacity_of(assets: U256, leverage_wad: U256) -> InsuranceResult<U256> {
    Ok(mul_div_down(assets, leverage_wad, WAD)?)
}
