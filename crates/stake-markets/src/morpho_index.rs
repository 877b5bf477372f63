//! Morpho Blue positions indexed by how close they are to liquidation, so that a price move
//! visits only the positions it can have made liquidatable (the pattern of liquidation bots and
//! order books), never every position of the market.
//!
//! A position with `borrowShares = s` and `collateral = c` is unhealthy (`_isHealthy` false) when
//!
//! ```text
//! ⌈s·(B + 1)/(S + 1e6)⌉  >  ⌊⌊c·price/1e36⌋·lltv/1e18⌋
//! ```
//!
//! with `B`, `S` the market's total borrow assets and shares. Interest accrual changes `B/S` for
//! every position alike, so the order of positions by `s/c` never changes between their own
//! updates: the index key is `⌊s·2⁶⁴/c⌋`, maintained when a position changes. For a price, the
//! unhealthy positions are the ones whose key lies above a threshold, up to rounding:
//!
//! - borrowed < s·(B+1)/(S+1e6) + 1 and max borrow > M − 2 with M = c·price·lltv/1e54, so
//!   unhealthy ⇒ s·(B+1)/(S+1e6) > M − 3;
//! - where M ≥ D = 10¹² (the position can borrow at least 10¹² base units) that gives
//!   s/c > θ·(1 − 3/D) with θ = price·lltv·(S+1e6)/(1e54·(B+1)), so the key exceeds the
//!   threshold computed below, rounded down at every step;
//! - positions with M < D ("dust") are found through a second index by collateral.
//!
//! [`LiquidationIndex::candidates`] returns every position that can be unhealthy; the caller
//! decides each one with the contract's exact health check. The candidates are a superset of the
//! unhealthy positions, tested against a scan of every position.

use crate::morpho::{Position, VIRTUAL_ASSETS, VIRTUAL_SHARES};
use stake_ledger::AccountId;
use stake_math::{mul_div_down, Checked, MathResult, U256};

/// 1e36, `ORACLE_PRICE_SCALE`.
const SCALE_E36: U256 = U256::new(1_000_000_000_000_000_000_000_000_000_000_000_000);
/// 1e18, `WAD` (the scale of the LLTV).
const WAD: U256 = U256::new(1_000_000_000_000_000_000);
/// A position that can borrow less than this many base units at the current price is visited
/// through the dust index.
const DUST: U256 = U256::new(1_000_000_000_000);
/// How many of the top borrowers [`LiquidationIndex::nearest`] visits.
pub const NEAREST: usize = 64;
/// 2⁶⁴: the fixed-point scale of keys.
const KEY_ONE: U256 = U256::new(1 << 64);

/// The key of a position: `⌊borrowShares·2⁶⁴/collateral⌋`; `U256::MAX` without collateral.
pub fn key(p: &Position) -> U256 {
    if p.collateral == U256::ZERO {
        return U256::MAX;
    }
    mul_div_down(p.borrow_shares, KEY_ONE, p.collateral).unwrap_or(U256::MAX)
}

/// One market's borrowers by key and by collateral. Positions without borrow shares are not in
/// it (they cannot be unhealthy). Structurally shared, so cloning the world to undo a
/// transaction costs O(1) here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiquidationIndex {
    by_key: imbl::OrdSet<(U256, AccountId)>,
    by_collateral: imbl::OrdSet<(U256, AccountId)>,
    entry_of: imbl::OrdMap<AccountId, (U256, U256)>,
}

impl LiquidationIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of borrowers indexed.
    pub fn len(&self) -> usize {
        self.entry_of.len()
    }

    /// Whether no position borrows.
    pub fn is_empty(&self) -> bool {
        self.entry_of.is_empty()
    }

    /// Records `user`'s position as it now is (removes it once it no longer borrows).
    pub fn update(&mut self, user: AccountId, p: &Position) {
        if let Some((k, c)) = self.entry_of.remove(&user) {
            self.by_key.remove(&(k, user));
            self.by_collateral.remove(&(c, user));
        }
        if p.borrow_shares != U256::ZERO {
            let k = key(p);
            self.by_key.insert((k, user));
            self.by_collateral.insert((p.collateral, user));
            self.entry_of.insert(user, (k, p.collateral));
        }
    }

    /// The lowest key an unhealthy non-dust position can have at `price` (see the module docs);
    /// every step rounds down, so the bound stays below the true threshold.
    fn key_threshold(
        price: U256,
        lltv: U256,
        total_borrow_assets: U256,
        total_borrow_shares: U256,
    ) -> MathResult<U256> {
        let shares = total_borrow_shares.add_c(VIRTUAL_SHARES)?;
        let assets = total_borrow_assets.add_c(VIRTUAL_ASSETS)?;
        let pl = mul_div_down(price, lltv, WAD)?;
        let t = mul_div_down(pl, shares, assets)?;
        let t = mul_div_down(t, KEY_ONE, SCALE_E36)?;
        let margin = mul_div_down(t, U256::new(3), DUST)?.add_c(U256::ONE)?;
        Ok(t.saturating_sub(margin).saturating_sub(U256::ONE))
    }

    /// Every borrower that can be unhealthy at `price` in a market with these totals: the
    /// positions above the key threshold (highest key first), then the dust positions not
    /// already listed. A superset of the unhealthy positions; decide each with the exact check.
    pub fn candidates(
        &self,
        price: U256,
        lltv: U256,
        total_borrow_assets: U256,
        total_borrow_shares: U256,
    ) -> Vec<AccountId> {
        let threshold = match Self::key_threshold(price, lltv, total_borrow_assets, total_borrow_shares) {
            Ok(t) => t,
            // Totals this large cannot be bounded: every borrower is a candidate.
            Err(_) => U256::ZERO,
        };
        let mut out: Vec<AccountId> = self
            .by_key
            .range((threshold, AccountId(0))..)
            .rev()
            .map(|(_, u)| *u)
            .collect();
        // Dust: M = c·price·lltv/1e54 < D ⇔ c < D·1e54/(price·lltv); list c ≤ that bound.
        out.extend(self.dust_below(price, lltv, threshold));
        out
    }

    /// The borrowers closest to liquidation: up to [`NEAREST`] of those whose key is within
    /// `1/2²⁰` of the highest (at least one), and every dust position at `price`. Positions with
    /// the same key have the same health factor up to a wei of rounding, so the smallest health
    /// factor of the market is among them (up to that rounding), for metrics sampled each step.
    pub fn nearest(&self, price: U256, lltv: U256) -> Vec<AccountId> {
        let Some((top, _)) = self.by_key.get_max() else {
            return Vec::new();
        };
        let floor = top.saturating_sub(*top >> 20);
        let mut out: Vec<AccountId> = self
            .by_key
            .range((floor, AccountId(0))..)
            .rev()
            .take(NEAREST)
            .map(|(_, u)| *u)
            .collect();
        out.extend(self.dust_below(price, lltv, floor));
        out
    }

    /// The dust positions at `price` (collateral up to [`dust_bound`]) whose key is below
    /// `key` (those at or above it are listed from the key index already).
    fn dust_below(&self, price: U256, lltv: U256, key: U256) -> impl Iterator<Item = AccountId> + '_ {
        let bound = dust_bound(price, lltv);
        self.by_collateral
            .iter()
            .take_while(move |(c, _)| *c <= bound)
            .filter(move |(_, u)| self.entry_of.get(u).is_some_and(|(k, _)| *k < key))
            .map(|(_, u)| *u)
    }

    /// Whether the index holds exactly the borrowing positions of `positions` with their
    /// current keys (the full invariant check).
    pub fn matches(&self, positions: impl Iterator<Item = (AccountId, Position)>) -> bool {
        let mut n = 0usize;
        for (u, p) in positions {
            if p.borrow_shares == U256::ZERO {
                continue;
            }
            n += 1;
            if self.entry_of.get(&u) != Some(&(key(&p), p.collateral)) {
                return false;
            }
        }
        n == self.entry_of.len() && n == self.by_key.len() && n == self.by_collateral.len()
    }
}

/// The largest collateral a dust position can have at `price`: M = c·price·lltv/1e54 < D ⇔
/// c < D·1e54/(price·lltv); rounded up.
fn dust_bound(price: U256, lltv: U256) -> U256 {
    let Some(pl) = price.checked_mul(lltv).filter(|pl| *pl != U256::ZERO) else {
        return U256::MAX;
    };
    // D·1e54 = (D·1e18)·1e36 with D·1e18 = 1e30.
    let d18 = DUST.saturating_mul(WAD);
    mul_div_down(d18, SCALE_E36, pl).map_or(U256::MAX, |b| b.saturating_add(U256::ONE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_the_powers_of_ten_they_name() {
        assert_eq!(SCALE_E36, U256::from(10u8).pow(36));
        assert_eq!(WAD, U256::from(10u8).pow(18));
        assert_eq!(KEY_ONE, U256::ONE << 64);
    }
}
