//! Aave v3 borrowers indexed by a bound on their health factor, so that a price move, a frame
//! or a metric visits only the borrowers it can have made unhealthy (the pattern of liquidation
//! bots), never every user of the pool. The candidates are decided by the contract's exact
//! health factor ([`AaveV3::account_data`]).
//!
//! # The key
//!
//! Aave is multi-collateral and multi-debt, so no single liquidation price exists. A borrower
//! `u` (a user with a borrowing flag) belongs to the *group* of its flags and e-mode,
//! `(collateral bitmap, borrowing bitmap, e-mode)`, and is keyed inside it by
//!
//! ```text
//! Num = Σ_{c ∈ collateral} (s_c − 1)⁺ · w_c        Den = Σ_{d ∈ borrowing} (t_d + 1) · w_d
//! key = ⌊Num · 2⁶⁴ / Den⌋
//! ```
//!
//! with `s_c`, `t_d` the *scaled* aToken and debt balances in the ledger and `w_i` a fixed
//! weight per reserve: `⌊p*_i · 1e27 / 10^decimals⌋` (at least 1) with `p*_i` a reference price
//! recorded once ([`AaveV3::set_index_prices`]; $1 until then). The key uses no live price, no
//! index and no configuration: interest accrual and price moves never reorder a group, exactly
//! as Morpho's `borrowShares/collateral` (see `morpho_index`). It changes only when the user's
//! balances or flags do, i.e. in the operations that touch the user, which re-key it.
//!
//! # The bound (soundness)
//!
//! At query time let, per reserve `i` of the group, `L_i` / `I_i` be the normalized income /
//! debt (both ≥ 1 ray: the indices start at 1 ray and never decrease), `P_i` its price, `U_i`
//! its unit, and `lt_c` the liquidation threshold the exact computation uses (the e-mode one if
//! the reserve is collateral of the user's category). `calculateUserAccountData` gives, with
//! `X_c = L_c·P_c/(RAY·U_c)` and `Y_d = I_d·P_d/(RAY·U_d)` (value of one scaled wei in base):
//!
//! - collateral: `value_c = ⌊⌊s_c·L_c/RAY⌋·P_c/U_c⌋ ≥ (s_c·L_c/RAY − 1)·P_c/U_c − 1 ≥
//!   (s_c − 1)⁺·X_c − 1` (as `L_c ≥ RAY`), so `Σ lt_c·value_c ≥ lt_min·Σ (s_c−1)⁺·X_c − 10⁴·n_c`;
//! - debt: `debt_d = ⌈⌈t_d·I_d/RAY⌉·P_d/U_d⌉ ≤ (t_d + 1)·Y_d + 1` (as `I_d ≥ RAY`);
//! - `HF < 1` ⇔ `⌊(Σ lt·value · 1e18 + ⌊D/2⌋)/D⌋ < 10²²` ⇒ `Σ lt·value < 10⁴·D`.
//!
//! Hence `HF < 1 ⇒ lt_min·Σ(s_c−1)⁺X_c < 10⁴·(Σ(t_d+1)Y_d + N)` with `N` = number of the
//! group's reserves. With `m = min_c X_c/w_c` (rounded down) and `M = max_d Y_d/w_d` (rounded
//! up), `Σ(s−1)⁺X ≥ m·Num` and `Σ(t+1)Y ≤ M·Den`, so
//!
//! ```text
//! HF < 1  ⇒  Num/Den < 10⁴·M/(lt_min·m) + 10⁴·N/(lt_min·m·Den).
//! ```
//!
//! A borrower whose debt bound `Den·M` is at least `N·2²⁰` base units (≈ N·$0.01) has the
//! second term below `2⁻²⁰` of the first, so it is a candidate only if
//! `key ≤ T = ⌈(10⁴·M·(1 + 2⁻²⁰))·2⁶⁴/(lt_min·m)⌉ + 1` — a range query on the group's keys.
//! The others ("dust", `Den < ⌈N·2²⁰·(1e27·2⁶⁴)/M⌉` in fixed point) are listed through a second
//! index by `Den`, as Morpho lists its dust by collateral. Every rounding (the fixed-point
//! ratios `m`, `M`, the threshold, the key's floor) goes in the direction that enlarges the
//! candidate set. For a group with one collateral and one debt reserve `m` and `M` are the
//! only prices involved, so the bound is a liquidation-price index up to 2⁻²⁰; with several
//! reserves it is the worst case over their price ratios since the reference prices.
//!
//! Where nothing can be bounded — a collateral flag on a reserve whose liquidation threshold is
//! 0 (only after governance), a zero price, an index below 1 ray, an overflow — every member of
//! the group is a candidate (sound, and counted in [`IndexStats::unbounded_groups`]). A key or
//! `Den` that cannot be computed is stored as 0 (always listed).
//!
//! The query costs `O(G·log n + k)` for `G` groups (distinct flag sets and e-modes in use — at
//! most 4^reserves, a handful in practice), `n` borrowers and `k` candidates.

use crate::aave::{
    is_bit, normalized_debt, normalized_income, price_of, unit, AaveError, AaveResult, AaveV3, PriceSource, Reserve,
};
use stake_ledger::{AccountId, Ledger};
use stake_math::{mul_div_down, mul_div_up, Checked, MathResult, BPS, RAY, U256};

/// How many of a group's lowest keys [`AaveV3::nearest_health_factors`] visits.
pub const NEAREST: usize = 64;
/// 2⁶⁴: the fixed-point scale of keys and price ratios.
const KEY_ONE: U256 = U256::new(1 << 64);
/// The relative margin of the threshold is 2^-MARGIN_SHIFT (and dust is N·2^MARGIN_SHIFT base units).
const MARGIN_SHIFT: u32 = 20;
/// The nearest window's relative margin, 2^-SPREAD_MARGIN_SHIFT, for the rounding of small
/// (non-dust) positions in the key order (a metric: a wider window only visits more members).
const SPREAD_MARGIN_SHIFT: u32 = 8;
/// What the checks say of a deserialised pool whose index was not rebuilt.
const UNBUILT: &str = "liquidation index not built (a deserialised pool needs rebuild_index)";
/// Reference price of a reserve without one ($1, 8 decimals).
const FALLBACK_PRICE: U256 = U256::new(100_000_000);

/// The group of a borrower: its collateral and borrowing flags and its e-mode category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKey {
    /// Collateral bitmap.
    pub collateral: u128,
    /// Borrowing bitmap.
    pub borrowing: u128,
    /// E-mode category.
    pub emode: u8,
}

/// A borrower's key and `Den` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `⌊Num·2⁶⁴/Den⌋` (`U256::MAX` if it does not fit, 0 if it cannot be computed).
    pub key: U256,
    /// `Den` (0 if it cannot be computed).
    pub den: U256,
}

/// The borrowers of one group, by key, by `Den` and by account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Group {
    by_key: imbl::OrdSet<(U256, AccountId)>,
    by_den: imbl::OrdSet<(U256, AccountId)>,
    members: imbl::OrdMap<AccountId, Entry>,
}

/// Sizes of the index, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Borrowers indexed.
    pub borrowers: usize,
    /// Groups in use.
    pub groups: usize,
    /// Groups with more than one collateral or debt reserve (bounded by the worst price ratio).
    pub multi_asset_groups: usize,
    /// Borrowers in those groups.
    pub multi_asset_borrowers: usize,
}

/// All borrowers of the pool, per group. Structurally shared (`imbl`): cloning the pool to undo
/// a transaction costs O(1) here and a re-key copies O(log n) nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AaveIndex {
    /// Set on a pool read back from its serialised form (the index is not serialised): the
    /// queries fall back to a scan of every user and the invariant checks fail until
    /// [`AaveV3::rebuild_index`] runs, so an unbuilt index can never silently miss a borrower.
    unbuilt: bool,
    /// Weight `w_i` per reserve id (missing: the $1 fallback).
    weights: Vec<U256>,
    groups: imbl::OrdMap<GroupKey, Group>,
    group_of: imbl::OrdMap<AccountId, GroupKey>,
}

/// What a query may list in one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bounds {
    /// Non-dust members with `key ≤ key_max` can be unhealthy (`MAX`: every member).
    key_max: U256,
    /// Members with `den ≤ dust_max` are dust (always listed).
    dust_max: U256,
    /// For the nearest query: HF of members lies within this factor (2⁶⁴ = 1) of `key`'s order.
    spread: U256,
}

impl Bounds {
    const ALL: Bounds = Bounds {
        key_max: U256::MAX,
        dust_max: U256::MAX,
        spread: U256::MAX,
    };
}

fn fallback_weight(decimals: u8) -> U256 {
    weight_of(FALLBACK_PRICE, decimals)
}

/// `max(1, ⌊price·1e27/10^decimals⌋)`.
fn weight_of(price: U256, decimals: u8) -> U256 {
    unit(decimals)
        .and_then(|u| mul_div_down(price, RAY, u))
        .unwrap_or(U256::ONE)
        .max(U256::ONE)
}

impl AaveIndex {
    /// The index of a deserialised pool: empty and marked unbuilt (see the field `unbuilt`).
    pub fn unbuilt() -> Self {
        Self {
            unbuilt: true,
            ..Self::default()
        }
    }

    /// Whether the index must be rebuilt ([`AaveV3::rebuild_index`]) before it can be trusted.
    pub fn is_unbuilt(&self) -> bool {
        self.unbuilt
    }

    /// Number of borrowers indexed.
    pub fn len(&self) -> usize {
        self.group_of.len()
    }

    /// Whether no user borrows.
    pub fn is_empty(&self) -> bool {
        self.group_of.is_empty()
    }

    /// Sizes of the index.
    pub fn stats(&self) -> IndexStats {
        let mut s = IndexStats {
            borrowers: self.len(),
            groups: self.groups.len(),
            ..IndexStats::default()
        };
        for (k, g) in &self.groups {
            if k.collateral.count_ones() > 1 || k.borrowing.count_ones() > 1 {
                s.multi_asset_groups += 1;
                s.multi_asset_borrowers += g.members.len();
            }
        }
        s
    }

    /// The stored entry of `user` (`None` if it does not borrow).
    pub fn entry(&self, user: AccountId) -> Option<(GroupKey, Entry)> {
        let g = self.group_of.get(&user)?;
        let e = self.groups.get(g)?.members.get(&user)?;
        Some((*g, *e))
    }

    fn weight(&self, r: &Reserve) -> U256 {
        self.weights
            .get(usize::from(r.id))
            .copied()
            .filter(|w| *w != U256::ZERO)
            .unwrap_or_else(|| fallback_weight(r.decimals))
    }

    /// Records `user` as it now is (`None`: it no longer borrows).
    fn set(&mut self, user: AccountId, now: Option<(GroupKey, Entry)>) {
        if self.entry(user) == now {
            return;
        }
        if let Some(gk) = self.group_of.remove(&user) {
            let mut empty = false;
            if let Some(g) = self.groups.get_mut(&gk) {
                if let Some(e) = g.members.remove(&user) {
                    g.by_key.remove(&(e.key, user));
                    g.by_den.remove(&(e.den, user));
                }
                empty = g.members.is_empty();
            }
            if empty {
                self.groups.remove(&gk);
            }
        }
        if let Some((gk, e)) = now {
            let g = self.groups.entry(gk).or_default();
            g.by_key.insert((e.key, user));
            g.by_den.insert((e.den, user));
            g.members.insert(user, e);
            self.group_of.insert(user, gk);
        }
    }
}

/// `⌊index·price·2⁶⁴/per⌋` (or rounded up): a reserve's value per scaled wei over its weight,
/// 2⁶⁴ at the reference price and an index of 1 ray; `None` if it does not fit.
fn ratio(index: U256, price: U256, per: Option<U256>, up: bool) -> Option<U256> {
    let v = index.mul_c(price).ok()?;
    let per = per?;
    if up {
        mul_div_up(v, KEY_ONE, per).ok()
    } else {
        mul_div_down(v, KEY_ONE, per).ok()
    }
}

/// Upper end of a range over `(value, account)` pairs that includes every account at `value`.
fn upto(v: U256) -> (U256, AccountId) {
    (v, AccountId(u32::MAX))
}

impl AaveV3 {
    /// The index entry `user` should have now: its group and key, or `None` if it does not borrow.
    pub fn index_entry(&self, ledger: &Ledger, user: AccountId) -> Option<(GroupKey, Entry)> {
        let cfg = self.users.get(&user)?;
        if cfg.borrowing == 0 {
            return None;
        }
        let gk = GroupKey {
            collateral: cfg.collateral,
            borrowing: cfg.borrowing,
            emode: cfg.emode,
        };
        let keyed = || -> MathResult<Entry> {
            let (mut num, mut den) = (U256::ZERO, U256::ZERO);
            for r in &self.reserves {
                let w = self.index.weight(r);
                if cfg.is_collateral(r.id) {
                    let s = ledger.balance(user, r.a_token).saturating_sub(U256::ONE);
                    num = num.add_c(s.mul_c(w)?)?;
                }
                if cfg.is_borrowing(r.id) {
                    let t = ledger.balance(user, r.debt_token).add_c(U256::ONE)?;
                    den = den.add_c(t.mul_c(w)?)?;
                }
            }
            // Den ≥ 1 (a borrowing flag and w ≥ 1); a key past U256 is above any finite threshold.
            let key = mul_div_down(num, KEY_ONE, den).unwrap_or(U256::MAX);
            Ok(Entry { key, den })
        };
        let e = keyed().unwrap_or(Entry {
            key: U256::ZERO,
            den: U256::ZERO,
        });
        Some((gk, e))
    }

    /// Re-keys `users` in the liquidation index from their flags and the ledger. Every Aave
    /// operation does it for the users it touched; call it after moving aTokens or debt tokens
    /// outside Aave (a plain ledger transfer).
    pub fn reindex(&mut self, ledger: &Ledger, users: &[AccountId]) {
        for u in users {
            let e = self.index_entry(ledger, *u);
            self.index.set(*u, e);
        }
    }

    /// Records the reference prices of the index (each reserve's price now; $1 where the source
    /// has none) and re-keys every borrower — O(users), meant for setup. Only the tightness of
    /// the bound for multi-asset borrowers depends on them, never its soundness.
    pub fn set_index_prices(&mut self, ledger: &Ledger, prices: &dyn PriceSource, now: u64) {
        self.index.weights = self
            .reserves
            .iter()
            .map(|r| match price_of(prices, r.price_asset, now) {
                Ok(p) if p != U256::ZERO => weight_of(p, r.decimals),
                _ => fallback_weight(r.decimals),
            })
            .collect();
        self.rebuild_index(ledger);
    }

    /// Rebuilds the index from every user (after deserialising a pool, whose index is not
    /// serialised). O(users · log users).
    pub fn rebuild_index(&mut self, ledger: &Ledger) {
        let weights = std::mem::take(&mut self.index.weights);
        self.index = crate::aave_index::AaveIndex {
            weights,
            ..Default::default()
        };
        let users: Vec<AccountId> = self.users.keys().copied().collect();
        self.reindex(ledger, &users);
    }

    /// The bounds of group `gk` at `now`; `Err` if a price or an index cannot be read.
    fn group_bounds(&self, gk: &GroupKey, prices: &dyn PriceSource, now: u64) -> AaveResult<Bounds> {
        let emode = if gk.emode != 0 {
            self.emodes.get(&gk.emode)
        } else {
            None
        };
        let mut unbounded = false;
        let (mut lt_min, mut lt_max) = (u32::MAX, 0u32);
        let mut coll: Option<(U256, U256)> = None;
        let mut debt: Option<(U256, U256)> = None;
        let mut n = 0u32;
        for r in &self.reserves {
            let (is_coll, is_debt) = (is_bit(gk.collateral, r.id), is_bit(gk.borrowing, r.id));
            if !is_coll && !is_debt {
                continue;
            }
            n += u32::from(is_coll) + u32::from(is_debt);
            let unit = unit(r.decimals)?;
            let price = price_of(prices, r.price_asset, now)?;
            let per = unit.mul_c(self.index.weight(r)).ok();
            if is_coll {
                let li = normalized_income(r, now)?;
                let lt = match emode {
                    Some(e) if is_bit(e.collateral_bitmap, r.id) => e.liquidation_threshold_bps,
                    _ => r.config.liquidation_threshold_bps,
                };
                if r.config.liquidation_threshold_bps == 0 || lt == 0 || li < RAY {
                    unbounded = true;
                }
                lt_min = lt_min.min(lt);
                lt_max = lt_max.max(lt);
                match ratio(li, price, per, false) {
                    Some(x) => coll = Some(coll.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x)))),
                    None => unbounded = true,
                }
            }
            if is_debt {
                let di = normalized_debt(r, now)?;
                if di < RAY {
                    unbounded = true;
                }
                match ratio(di, price, per, true) {
                    Some(y) => debt = Some(debt.map_or((y, y), |(lo, hi)| (lo.min(y), hi.max(y)))),
                    None => unbounded = true,
                }
            }
        }
        let (Some((m, m_hi)), Some((d_lo, big_m))) = (coll, debt) else {
            // No collateral: every member has key 0 and HF 0 (or no debt at all).
            return Ok(Bounds::ALL);
        };
        if unbounded || m == U256::ZERO || big_m == U256::ZERO {
            return Ok(Bounds::ALL);
        }
        // HF ∝ key within (lt_max/lt_min)·(max/min collateral ratio)·(max/min debt ratio).
        let spread = || -> MathResult<U256> {
            let s = mul_div_up(KEY_ONE, U256::from(lt_max), U256::from(lt_min))?;
            let s = mul_div_up(s, m_hi, m)?;
            let s = mul_div_up(s, big_m, d_lo)?;
            s.add_c(s >> SPREAD_MARGIN_SHIFT)?.add_c(U256::ONE)
        };
        let spread = spread().unwrap_or(U256::MAX);
        let bounds = || -> MathResult<Bounds> {
            let bm = BPS.mul_c(big_m)?;
            let num = bm.add_c(bm.div_up_c(U256::ONE << MARGIN_SHIFT)?)?;
            let lm = U256::from(lt_min).mul_c(m)?;
            let key_max = mul_div_up(num, KEY_ONE, lm)?.add_c(U256::ONE)?;
            let dust = U256::from(n).mul_c(U256::ONE << MARGIN_SHIFT)?.mul_c(RAY)?;
            let dust_max = mul_div_up(dust, KEY_ONE, big_m)?;
            Ok(Bounds {
                key_max,
                dust_max,
                spread,
            })
        };
        Ok(bounds().unwrap_or(Bounds::ALL))
    }

    /// Bounds of every group; for a group that cannot be bounded, the exact computation of its
    /// first member decides: its error (what [`AaveV3::health_factors`] would return) or, if it
    /// succeeds, every member is a candidate.
    fn all_bounds(&self, ledger: &Ledger, prices: &dyn PriceSource, now: u64) -> AaveResult<Vec<(GroupKey, Bounds)>> {
        let mut out = Vec::with_capacity(self.index.groups.len());
        let mut first_err: Option<(AccountId, AaveError)> = None;
        for (gk, g) in &self.index.groups {
            match self.group_bounds(gk, prices, now) {
                Ok(b) => out.push((*gk, b)),
                Err(_) => {
                    let Some((u, _)) = g.members.get_min() else { continue };
                    match self.account_data(ledger, prices, *u, now) {
                        Err(e) => {
                            if first_err.as_ref().is_none_or(|(f, _)| u < f) {
                                first_err = Some((*u, e));
                            }
                        }
                        Ok(_) => out.push((*gk, Bounds::ALL)),
                    }
                }
            }
        }
        match first_err {
            Some((_, e)) => Err(e),
            None => Ok(out),
        }
    }

    /// Every borrower that can have HF < 1 at these prices (a superset, by group, then key);
    /// decide each with [`AaveV3::account_data`].
    ///
    /// Specification:
    /// - lists every user whose exact health factor is below 1 (module docs of `aave_index`);
    /// - fails with the error [`AaveV3::health_factors`] would give (the first borrower, by
    ///   account, of a group whose prices or indices cannot be read).
    pub fn liquidation_candidates(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        now: u64,
    ) -> AaveResult<Vec<AccountId>> {
        if self.index.unbuilt {
            return Ok(self
                .health_factors(ledger, prices, now)?
                .into_iter()
                .map(|(u, _)| u)
                .collect());
        }
        let mut out = Vec::new();
        for (gk, b) in self.all_bounds(ledger, prices, now)? {
            let Some(g) = self.index.groups.get(&gk) else { continue };
            out.extend(g.by_key.range(..=upto(b.key_max)).map(|(_, u)| *u));
            if b.key_max != U256::MAX {
                out.extend(
                    g.by_den
                        .range(..=upto(b.dust_max))
                        .filter(|(_, u)| g.members.get(u).is_some_and(|e| e.key > b.key_max))
                        .map(|(_, u)| *u),
                );
            }
        }
        Ok(out)
    }

    /// The borrowers with health factor < 1 and their health factors, by account, found
    /// through the index and decided by the exact `calculateUserAccountData`.
    ///
    /// Specification:
    /// - the same users and values as [`AaveV3::health_factors`] filtered to HF < 1;
    /// - fails as [`AaveV3::liquidation_candidates`], or with the first (by account) error of a
    ///   candidate's exact computation.
    pub fn liquidatable(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        now: u64,
    ) -> AaveResult<Vec<(AccountId, U256)>> {
        let mut users = self.liquidation_candidates(ledger, prices, now)?;
        users.sort_unstable();
        users.dedup();
        let mut out = Vec::new();
        for u in users {
            let hf = self.account_data(ledger, prices, u, now)?.health_factor;
            if hf < crate::aave::HEALTH_FACTOR_LIQUIDATION_THRESHOLD {
                out.push((u, hf));
            }
        }
        Ok(out)
    }

    /// The health factors of the borrowers nearest to liquidation: per group, the group's dust
    /// and up to [`NEAREST`] of the other members with the lowest keys, those whose health
    /// factor can be the group's smallest (keys within the group's spread — the ratio of its
    /// extreme liquidation thresholds and price ratios, plus 2⁻⁸ for rounding — of the smallest
    /// non-dust key). The group's smallest health factor is among them unless more than
    /// [`NEAREST`] members fit the window (then the smallest visited). For metrics sampled each
    /// step; O(groups · (log n + NEAREST) + dust).
    ///
    /// Specification:
    /// - fails as [`AaveV3::liquidatable`].
    pub fn nearest_health_factors(
        &self,
        ledger: &Ledger,
        prices: &dyn PriceSource,
        now: u64,
    ) -> AaveResult<Vec<(AccountId, U256)>> {
        if self.index.unbuilt {
            return self.health_factors(ledger, prices, now);
        }
        let mut users = Vec::new();
        for (gk, b) in self.all_bounds(ledger, prices, now)? {
            let Some(g) = self.index.groups.get(&gk) else { continue };
            // Dust is listed whole (its rounding can put it anywhere in the key order); the
            // window starts at the smallest key of the others.
            let bounded = b.key_max != U256::MAX;
            let dust = |u: &AccountId| bounded && g.members.get(u).is_some_and(|e| e.den <= b.dust_max);
            if let Some((k0, _)) = g.by_key.iter().find(|(_, u)| !dust(u)) {
                let window = mul_div_up(*k0, b.spread, KEY_ONE).unwrap_or(U256::MAX);
                users.extend(
                    g.by_key
                        .range(..=upto(window))
                        .filter(|(_, u)| !dust(u))
                        .take(NEAREST)
                        .map(|(_, u)| *u),
                );
            }
            if bounded {
                users.extend(g.by_den.range(..=upto(b.dust_max)).map(|(_, u)| *u));
            }
        }
        users.sort_unstable();
        users.dedup();
        users
            .into_iter()
            .map(|u| Ok((u, self.account_data(ledger, prices, u, now)?.health_factor)))
            .collect()
    }

    /// Whether the index holds exactly the borrowers of the pool with their current keys (the
    /// full invariant check; O(users · log users)).
    pub fn check_index(&self, ledger: &Ledger) -> Result<(), String> {
        if self.index.unbuilt {
            return Err(UNBUILT.into());
        }
        let mut n = 0usize;
        for u in self.users.keys() {
            let want = self.index_entry(ledger, *u);
            if want.is_some() {
                n += 1;
            }
            if self.index.entry(*u) != want {
                return Err(format!("liquidation index disagrees with account #{}", u.0));
            }
        }
        let in_groups: usize = self.index.groups.values().map(|g| g.members.len()).sum();
        let consistent =
            self.index.groups.values().all(|g| {
                !g.members.is_empty() && g.by_key.len() == g.members.len() && g.by_den.len() == g.members.len()
            });
        if n != self.index.len() || n != in_groups || !consistent {
            return Err(format!(
                "liquidation index holds {} borrowers ({in_groups} in groups), the users {n}",
                self.index.len()
            ));
        }
        Ok(())
    }

    /// The index rule for `users` only (what a transaction touched).
    pub fn check_index_of(&self, ledger: &Ledger, users: &[AccountId]) -> Result<(), String> {
        if self.index.unbuilt {
            return Err(UNBUILT.into());
        }
        for u in users {
            if self.index.entry(*u) != self.index_entry(ledger, *u) {
                return Err(format!("liquidation index disagrees with account #{}", u.0));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_what_they_name() {
        assert_eq!(KEY_ONE, U256::ONE << 64);
        assert_eq!(fallback_weight(18), U256::from(100_000_000_000_000_000u64));
        assert_eq!(weight_of(U256::ONE, 40), U256::ONE);
        assert_eq!(weight_of(U256::ONE, 255), U256::ONE);
    }
}
