//! `points` — points programmes (SPEC §8 "points": EigenLayer's restaked points, each LRT's own)
//! accrued per value·time with an accumulator index, never a scan of holders.
//!
//! * **Accrual** ([`Programme`]): `index += rate·Δt`, where `rate` is points (wad) per whole unit
//!   of value (1e18 base units) per second; a holder's points are `accrued +
//!   ⌊balance·(index − checkpoint)/1e18⌋`, settled (checkpointed) whenever its balance changes.
//!   O(1) per update.
//! * **Inheritance** ([`PassThrough`]): a token whose issuer holds value in a parent programme
//!   (an LRT's EigenLayer points) passes the parent points of one parent holder (the LRT's
//!   account) to its own holders pro rata by token balance, through a second accumulator:
//!   each [`sync`](PassThrough::sync) takes the parent points accrued since the last sync and
//!   adds `⌊carry·1e18/supply⌋` to the index (`carry` holds the undistributed remainder and
//!   anything earned while the supply is 0).
//! * **Pendle YT pass-through**: a [`PassThrough`] whose parent holder is the SY contract's
//!   account in the underlying's programme and whose balances are YT balances — the YT holders
//!   accrue the points of the *full* SY amount (PT holders get none), as Pendle markets them.
//!   Pass-throughs chain: EigenLayer → ezETH holders → YT-ezETH holders.
//!
//! Rounding is down everywhere, so Σ holders' points ≤ the points issued (checked by
//! `check_invariants`). Every operation computes its changes first and writes them only when
//! all checks passed, so a rejection changes nothing and no operation copies or scans the
//! holders.

use crate::{ensure, math_error};
use serde::{Deserialize, Serialize};
use stake_ledger::Reject;
use stake_math::{mul_div_down, mul_div_up, Checked, MathError, U256, WAD};
use std::collections::BTreeMap;
use std::fmt;

/// Rejections of the points programmes (codes 7400–7499).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PointsError {
    /// `now` before the last update.
    TimeWentBackwards {
        /// Now.
        now: u64,
        /// Last update.
        last: u64,
    },
    /// The parent holder's points are below what was already synced.
    SourceWentBackwards {
        /// Parent points now.
        points: U256,
        /// Already synced.
        synced: U256,
    },
    /// Arithmetic failure.
    Math(MathError),
}

math_error!(PointsError);

impl fmt::Display for PointsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PointsError::*;
        match self {
            TimeWentBackwards { now, last } => write!(f, "points: now {now} before the last update {last}"),
            SourceWentBackwards { points, synced } => {
                write!(f, "points: parent points {points} below the {synced} already synced")
            }
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl Reject for PointsError {
    fn code(&self) -> u32 {
        use PointsError::*;
        match self {
            TimeWentBackwards { .. } => 7400,
            SourceWentBackwards { .. } => 7401,
            Math(e) => e.code(),
        }
    }
}

/// Result of a points operation.
pub type PointsResult<T> = Result<T, PointsError>;

/// One holder of an accumulator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Balance (value or token units).
    pub balance: U256,
    /// Index at the last settlement.
    pub checkpoint: U256,
    /// Points settled.
    pub accrued: U256,
}

/// An index with per-holder checkpoints (the shared core of programmes and pass-throughs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accumulator {
    /// Cumulative points per whole unit of balance, wad.
    pub index: U256,
    /// Σ balances.
    pub total: U256,
    /// Upper bound of the points the holders can have: `Σ ⌊total·Δindex/1e18⌋`.
    pub issued: U256,
    /// Holders by name.
    pub holders: BTreeMap<String, Holder>,
}

/// An index move computed but not yet written.
#[derive(Clone, Copy, Debug)]
struct Advance {
    index: U256,
    issued: U256,
}

/// A holder settlement computed but not yet written.
#[derive(Clone, Debug)]
struct Settlement {
    holder: Holder,
    total: U256,
}

impl Accumulator {
    /// The index and issued bound after adding `delta_index` (nothing written).
    fn advanced(&self, delta_index: U256) -> PointsResult<Advance> {
        Ok(Advance {
            index: self.index.add_c(delta_index)?,
            issued: self.issued.add_c(mul_div_down(self.total, delta_index, WAD)?)?,
        })
    }

    /// `holder` settled at `index` with its balance set to `balance` (nothing written).
    fn settled(&self, holder: &str, index: U256, balance: U256) -> PointsResult<Settlement> {
        let old = self.holders.get(holder).cloned().unwrap_or_default();
        let accrued = old.accrued.add_c(pending(&old, index)?)?;
        Ok(Settlement {
            total: self.total.sub_c(old.balance)?.add_c(balance)?,
            holder: Holder {
                balance,
                checkpoint: index,
                accrued,
            },
        })
    }

    /// Writes computed changes (infallible: every check ran before).
    fn commit(&mut self, adv: Option<Advance>, set: Option<(&str, Settlement)>) {
        if let Some(a) = adv {
            self.index = a.index;
            self.issued = a.issued;
        }
        if let Some((name, st)) = set {
            self.total = st.total;
            self.holders.insert(name.into(), st.holder);
        }
    }

    /// Points of `holder` at the current index.
    pub fn points_of(&self, holder: &str) -> PointsResult<U256> {
        match self.holders.get(holder) {
            None => Ok(U256::ZERO),
            Some(h) => Ok(h.accrued.add_c(pending(h, self.index)?)?),
        }
    }

    fn check(&self, what: &str, bound: U256) -> Result<(), String> {
        let err = |e: MathError| format!("{what}: {e}");
        let total = self
            .holders
            .values()
            .try_fold(U256::ZERO, |a, h| a.add_c(h.balance))
            .map_err(err)?;
        ensure(total == self.total, || {
            format!("{what}: Σ balances {total} ≠ {}", self.total)
        })?;
        let mut points = U256::ZERO;
        for (name, h) in &self.holders {
            ensure(h.checkpoint <= self.index, || {
                format!("{what}: {name}'s checkpoint ahead")
            })?;
            points = points
                .add_c(self.points_of(name).map_err(|e| format!("{what}: {e}"))?)
                .map_err(err)?;
        }
        ensure(points <= self.issued && self.issued <= bound, || {
            format!("{what}: holders {points}, issued {}, bound {bound}", self.issued)
        })
    }
}

fn pending(h: &Holder, index: U256) -> PointsResult<U256> {
    Ok(mul_div_down(h.balance, index.sub_c(h.checkpoint)?, WAD)?)
}

/// Anything a [`PassThrough`] can inherit from.
pub trait PointsSource {
    /// Points of `holder` at `now`.
    fn points_at(&self, holder: &str, now: u64) -> PointsResult<U256>;
}

/// A programme accruing points per value·time (EigenLayer, an LRT's own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programme {
    /// Name.
    pub name: String,
    /// Points (wad) per whole unit of value per second.
    pub rate_per_unit_per_s: U256,
    /// Second of the last update.
    pub last_update: u64,
    /// The accumulator over value balances.
    pub acc: Accumulator,
}

impl Programme {
    /// A programme starting at `now`.
    pub fn new(name: &str, rate_per_unit_per_s: U256, now: u64) -> Self {
        Programme {
            name: name.into(),
            rate_per_unit_per_s,
            last_update: now,
            acc: Accumulator::default(),
        }
    }

    fn index_delta(&self, now: u64) -> PointsResult<U256> {
        if now < self.last_update {
            return Err(PointsError::TimeWentBackwards {
                now,
                last: self.last_update,
            });
        }
        Ok(self.rate_per_unit_per_s.mul_c(U256::from(now - self.last_update))?)
    }

    /// Advances the index to `now`.
    ///
    /// Specification: fails with `TimeWentBackwards` before the last update.
    pub fn accrue(&mut self, now: u64) -> PointsResult<()> {
        let adv = self.acc.advanced(self.index_delta(now)?)?;
        self.acc.commit(Some(adv), None);
        self.last_update = now;
        Ok(())
    }

    /// Sets `holder`'s value at `now` (after accruing and settling it). O(log holders).
    ///
    /// Specification: fails with `TimeWentBackwards`.
    pub fn set_balance(&mut self, holder: &str, value: U256, now: u64) -> PointsResult<()> {
        let adv = self.acc.advanced(self.index_delta(now)?)?;
        let st = self.acc.settled(holder, adv.index, value)?;
        self.acc.commit(Some(adv), Some((holder, st)));
        self.last_update = now;
        Ok(())
    }

    /// Changes the rate from `now` on (a boost or a season's end).
    ///
    /// Specification: fails with `TimeWentBackwards`.
    pub fn set_rate(&mut self, rate_per_unit_per_s: U256, now: u64) -> PointsResult<()> {
        self.accrue(now)?;
        self.rate_per_unit_per_s = rate_per_unit_per_s;
        Ok(())
    }

    /// Backing rules: Σ balances = total; Σ points ≤ issued.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.acc.check(&format!("points {}", self.name), self.acc.issued)
    }
}

impl PointsSource for Programme {
    fn points_at(&self, holder: &str, now: u64) -> PointsResult<U256> {
        let d = self.index_delta(now)?;
        let h = match self.acc.holders.get(holder) {
            None => return Ok(U256::ZERO),
            Some(h) => h,
        };
        let index = self.acc.index.add_c(d)?;
        Ok(h.accrued.add_c(pending(h, index)?)?)
    }
}

/// Points inherited from one holder of a parent source, passed to a token's holders pro rata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassThrough {
    /// Name (e.g. "ezETH ← EigenLayer", "YT-ezETH ← ezETH").
    pub name: String,
    /// The holder in the parent whose points are passed on (the LRT's or the SY's account).
    pub source_holder: String,
    /// Parent points the source holder had when the pass-through began (not inherited).
    pub start: U256,
    /// Parent points already taken in (including `start`).
    pub synced: U256,
    /// Points taken in and not yet distributed.
    pub carry: U256,
    /// The accumulator over token balances.
    pub acc: Accumulator,
}

impl PassThrough {
    /// A pass-through of `source_holder`'s points (points it already has are not inherited).
    pub fn new(name: &str, source_holder: &str, already: U256) -> Self {
        PassThrough {
            name: name.into(),
            source_holder: source_holder.into(),
            start: already,
            synced: already,
            carry: U256::ZERO,
            acc: Accumulator::default(),
        }
    }

    /// Takes in the parent points accrued since the last sync and distributes them.
    ///
    /// Specification: fails as the parent's `points_at` (`TimeWentBackwards`) and with
    /// `SourceWentBackwards` if the parent reports fewer points than already synced.
    pub fn sync(&mut self, parent: &dyn PointsSource, now: u64) -> PointsResult<()> {
        let plan = self.planned_sync(parent, now)?;
        self.commit_sync(plan, None);
        Ok(())
    }

    /// The sync computed but not written: (synced, carry, index move).
    fn planned_sync(&self, parent: &dyn PointsSource, now: u64) -> PointsResult<(U256, U256, Advance)> {
        let points = parent.points_at(&self.source_holder, now)?;
        if points < self.synced {
            return Err(PointsError::SourceWentBackwards {
                points,
                synced: self.synced,
            });
        }
        let mut carry = self.carry.add_c(points.sub_c(self.synced)?)?;
        let mut d = U256::ZERO;
        if self.acc.total > U256::ZERO {
            d = mul_div_down(carry, WAD, self.acc.total)?;
            // ⌈d·total/1e18⌉ ≤ carry because d·total/1e18 ≤ carry and carry is whole.
            carry = carry.sub_c(mul_div_up(d, self.acc.total, WAD)?)?;
        }
        Ok((points, carry, self.acc.advanced(d)?))
    }

    fn commit_sync(&mut self, (synced, carry, adv): (U256, U256, Advance), set: Option<(&str, Settlement)>) {
        self.synced = synced;
        self.carry = carry;
        self.acc.commit(Some(adv), set);
    }

    /// Syncs, then sets `holder`'s token balance. O(log holders).
    ///
    /// Specification: fails as [`sync`](Self::sync).
    pub fn set_balance(
        &mut self,
        holder: &str,
        balance: U256,
        parent: &dyn PointsSource,
        now: u64,
    ) -> PointsResult<()> {
        let plan = self.planned_sync(parent, now)?;
        let st = self.acc.settled(holder, plan.2.index, balance)?;
        self.commit_sync(plan, Some((holder, st)));
        Ok(())
    }

    /// Backing rules: Σ balances = total; Σ points ≤ issued ≤ parent points inherited − carry.
    pub fn check_invariants(&self) -> Result<(), String> {
        let what = format!("pass-through {}", self.name);
        let bound = self
            .synced
            .checked_sub(self.start)
            .and_then(|x| x.checked_sub(self.carry))
            .ok_or_else(|| format!("{what}: carry above the points inherited"))?;
        self.acc.check(&what, bound)
    }
}

impl PointsSource for PassThrough {
    /// Points distributed to `holder` up to the last sync (sync first for the latest).
    fn points_at(&self, holder: &str, _now: u64) -> PointsResult<U256> {
        self.acc.points_of(holder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planned_settlement_writes_nothing_until_committed() {
        let mut acc = Accumulator::default();
        let st = acc.settled("a", U256::ZERO, WAD).unwrap();
        acc.commit(None, Some(("a", st)));
        let before = acc.clone();
        let adv = acc.advanced(WAD).unwrap();
        let st = acc.settled("a", adv.index, U256::ZERO).unwrap();
        assert_eq!(acc, before);
        assert_eq!(
            (adv.index, adv.issued, st.holder.accrued, st.total),
            (WAD, WAD, WAD, U256::ZERO)
        );
        acc.commit(Some(adv), Some(("a", st)));
        assert_eq!(acc.points_of("a").unwrap(), WAD);
        acc.check("unit", WAD).unwrap();
    }
}
