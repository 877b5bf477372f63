//! The stakestack ledger (SPEC §2): assets with decimals and an issuer, named and module accounts,
//! balances, mint/burn/transfer with exact errors, a journal that makes a multi-step transaction
//! atomic, a per-asset conservation check and the canonical BLAKE3 state hash.
//!
//! Rebasing tokens (stETH, eETH) are registered with [`AssetKind::Shares`]: the ledger holds their
//! *shares*, and the issuing protocol converts amounts to shares. Index-scaled tokens (aTokens,
//! debt tokens) use [`AssetKind::Scaled`]: the ledger holds scaled balances.

mod error;
mod hash;

/// Re-export of the hash crate used by [`StateHash`].
pub use blake3;
pub use error::{LedgerError, Reject, Rejection};
pub use hash::{hash_serde, state_hash, StateHash};

use serde::{Deserialize, Serialize};
use stake_math::{Checked, U256};
use std::collections::BTreeMap;

/// Interned asset handle (index into the ledger's asset table; stable for a world's lifetime).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AssetId(pub u16);

/// Interned account handle (index into the ledger's account table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountId(pub u32);

/// How the ledger's balances of an asset are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssetKind {
    /// Balances are amounts.
    Plain,
    /// Balances are the issuer's shares; amount = shares × issuer rate (rebasing tokens).
    Shares,
    /// Balances are scaled by an issuer index (aTokens, variable debt).
    Scaled,
}

/// Static description of an asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetInfo {
    /// Ticker, unique in a world (`ETH`, `stETH`, `aEthWETH`).
    pub symbol: String,
    /// Decimals of the smallest unit (18 for wei-denominated assets).
    pub decimals: u8,
    /// Module that issues it (`native`, `lido`, `aave`, …).
    pub issuer: String,
    /// How balances are read.
    pub kind: AssetKind,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
enum Undo {
    Balance {
        account: AccountId,
        asset: AssetId,
        prev: U256,
    },
    Supply {
        asset: AssetId,
        prev: U256,
    },
    NewAccount,
    NewAsset,
}

/// A point in the journal to roll back to (see [`Ledger::checkpoint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Checkpoint(usize);

/// Balances of every account in every asset.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ledger {
    assets: Vec<AssetInfo>,
    asset_by_symbol: BTreeMap<String, AssetId>,
    accounts: Vec<String>,
    account_by_name: BTreeMap<String, AccountId>,
    /// Per account, holdings sorted by asset id (few assets per account: linear scan is fastest).
    holdings: Vec<Vec<(AssetId, U256)>>,
    supply: Vec<U256>,
    /// Per asset, the number of accounts holding a non-zero balance (maintained on every write,
    /// so rounding slack proportional to the holder count costs O(1) to compute).
    holder_count: Vec<u64>,
    #[serde(skip)]
    journal: Vec<Undo>,
    #[serde(skip)]
    depth: u32,
    /// Balance slots written since the last [`Ledger::audit`], with the value before the write.
    #[serde(skip)]
    touched: Vec<(AccountId, AssetId, U256)>,
    /// Supplies written since the last audit, with the value before the write.
    #[serde(skip)]
    touched_supply: Vec<(AssetId, U256)>,
    /// Whether writes are recorded for [`Ledger::audit`] (off until [`Ledger::set_auditing`]).
    #[serde(skip)]
    auditing: bool,
}

/// What the writes since the last audit touched (see [`Ledger::audit`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// Accounts whose balances were written, sorted, without duplicates.
    pub accounts: Vec<AccountId>,
    /// Assets whose balances or supply were written, sorted, without duplicates.
    pub assets: Vec<AssetId>,
}

impl Touched {
    /// Whether `account` was touched.
    pub fn has_account(&self, account: AccountId) -> bool {
        self.accounts.binary_search(&account).is_ok()
    }
    /// Whether `asset` was touched.
    pub fn has_asset(&self, asset: AssetId) -> bool {
        self.assets.binary_search(&asset).is_ok()
    }
    /// Whether nothing was touched.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.assets.is_empty()
    }
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    // ----- assets -----

    /// Registers an asset. Fails with [`LedgerError::DuplicateAsset`] if the symbol exists.
    pub fn register_asset(
        &mut self,
        symbol: &str,
        decimals: u8,
        issuer: &str,
        kind: AssetKind,
    ) -> Result<AssetId, LedgerError> {
        if self.asset_by_symbol.contains_key(symbol) {
            return Err(LedgerError::DuplicateAsset {
                symbol: symbol.to_string(),
            });
        }
        let id = AssetId(u16::try_from(self.assets.len()).map_err(|_| LedgerError::TooManyAssets)?);
        self.assets.push(AssetInfo {
            symbol: symbol.to_string(),
            decimals,
            issuer: issuer.to_string(),
            kind,
        });
        self.asset_by_symbol.insert(symbol.to_string(), id);
        self.supply.push(U256::ZERO);
        self.holder_count.push(0);
        if self.depth > 0 {
            self.journal.push(Undo::NewAsset);
        }
        Ok(id)
    }

    /// Looks an asset up by symbol.
    pub fn asset(&self, symbol: &str) -> Result<AssetId, LedgerError> {
        self.asset_by_symbol
            .get(symbol)
            .copied()
            .ok_or_else(|| LedgerError::UnknownAsset {
                symbol: symbol.to_string(),
            })
    }

    /// The asset's description. Ids come from this ledger, so an unknown id is a caller bug;
    /// it is reported as [`LedgerError::UnknownAsset`] rather than a panic.
    pub fn asset_info(&self, id: AssetId) -> Result<&AssetInfo, LedgerError> {
        self.assets.get(id.0 as usize).ok_or_else(|| LedgerError::UnknownAsset {
            symbol: format!("#{}", id.0),
        })
    }

    /// Symbol of an asset (`?` for an unknown id).
    pub fn symbol(&self, id: AssetId) -> &str {
        self.assets.get(id.0 as usize).map(|a| a.symbol.as_str()).unwrap_or("?")
    }

    /// All assets in registration order.
    pub fn assets(&self) -> impl Iterator<Item = (AssetId, &AssetInfo)> {
        // `register_asset` refuses a 2^16-th asset, so every position fits.
        self.assets
            .iter()
            .enumerate()
            .map(|(i, a)| (AssetId(u16::try_from(i).unwrap_or(u16::MAX)), a))
    }

    /// Number of accounts holding a non-zero balance of `asset`. O(1).
    pub fn holder_count(&self, asset: AssetId) -> u64 {
        self.holder_count.get(asset.0 as usize).copied().unwrap_or(0)
    }

    /// Total supply of an asset (sum of all holdings, in ledger units).
    pub fn supply(&self, asset: AssetId) -> U256 {
        self.supply.get(asset.0 as usize).copied().unwrap_or(U256::ZERO)
    }

    // ----- accounts -----

    /// Returns the account with this name, creating it if needed.
    pub fn account(&mut self, name: &str) -> AccountId {
        if let Some(id) = self.account_by_name.get(name) {
            return *id;
        }
        // 2^32 accounts would need hundreds of GB: every position of a ledger in memory fits.
        let id = AccountId(u32::try_from(self.accounts.len()).unwrap_or(u32::MAX));
        self.accounts.push(name.to_string());
        self.account_by_name.insert(name.to_string(), id);
        self.holdings.push(Vec::new());
        if self.depth > 0 {
            self.journal.push(Undo::NewAccount);
        }
        id
    }

    /// Looks an existing account up by name.
    pub fn find_account(&self, name: &str) -> Result<AccountId, LedgerError> {
        self.account_by_name
            .get(name)
            .copied()
            .ok_or_else(|| LedgerError::UnknownAccount { name: name.to_string() })
    }

    /// Name of an account (`?` for an unknown id).
    pub fn account_name(&self, id: AccountId) -> &str {
        self.accounts.get(id.0 as usize).map(String::as_str).unwrap_or("?")
    }

    /// Every account name, in creation order.
    pub fn account_names(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(String::as_str)
    }

    /// Number of accounts.
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    // ----- balances -----

    /// Balance of `account` in `asset` (ledger units: shares for [`AssetKind::Shares`]).
    #[inline]
    pub fn balance(&self, account: AccountId, asset: AssetId) -> U256 {
        match self.holdings.get(account.0 as usize) {
            Some(h) => h
                .iter()
                .find(|(a, _)| *a == asset)
                .map(|(_, b)| *b)
                .unwrap_or(U256::ZERO),
            None => U256::ZERO,
        }
    }

    /// Every non-zero holding of an asset, by account id. O(accounts): for reports, not accrual.
    pub fn holders(&self, asset: AssetId) -> impl Iterator<Item = (AccountId, U256)> + '_ {
        self.holdings.iter().enumerate().filter_map(move |(i, h)| {
            h.iter()
                .find(|(a, b)| *a == asset && *b != U256::ZERO)
                .map(|(_, b)| (AccountId(u32::try_from(i).unwrap_or(u32::MAX)), *b))
        })
    }

    /// Every non-zero holding of an account.
    pub fn holdings_of(&self, account: AccountId) -> &[(AssetId, U256)] {
        self.holdings.get(account.0 as usize).map(Vec::as_slice).unwrap_or(&[])
    }

    fn slot(&mut self, account: AccountId, asset: AssetId) -> Result<&mut U256, LedgerError> {
        if asset.0 as usize >= self.assets.len() {
            return Err(LedgerError::UnknownAsset {
                symbol: format!("#{}", asset.0),
            });
        }
        let h = self
            .holdings
            .get_mut(account.0 as usize)
            .ok_or_else(|| LedgerError::UnknownAccount {
                name: format!("#{}", account.0),
            })?;
        let pos = match h.binary_search_by_key(&asset, |(a, _)| *a) {
            Ok(p) => p,
            Err(p) => {
                h.insert(p, (asset, U256::ZERO));
                p
            }
        };
        Ok(&mut h[pos].1)
    }

    fn set_balance(&mut self, account: AccountId, asset: AssetId, value: U256) -> Result<(), LedgerError> {
        let journaling = self.depth > 0;
        let slot = self.slot(account, asset)?;
        let prev = *slot;
        *slot = value;
        self.count_holder(asset, prev, value);
        if journaling {
            self.journal.push(Undo::Balance { account, asset, prev });
        }
        if self.auditing {
            self.touched.push((account, asset, prev));
        }
        Ok(())
    }

    /// Keeps [`Ledger::holder_count`] in step with a balance going from `prev` to `value`.
    fn count_holder(&mut self, asset: AssetId, prev: U256, value: U256) {
        if let Some(n) = self.holder_count.get_mut(asset.0 as usize) {
            match (prev == U256::ZERO, value == U256::ZERO) {
                (true, false) => *n += 1,
                (false, true) => *n = n.saturating_sub(1),
                _ => {}
            }
        }
    }

    fn set_supply(&mut self, asset: AssetId, value: U256) {
        let i = asset.0 as usize;
        let prev = self.supply[i];
        self.supply[i] = value;
        if self.depth > 0 {
            self.journal.push(Undo::Supply { asset, prev });
        }
        if self.auditing {
            self.touched_supply.push((asset, prev));
        }
    }

    fn insufficient(&self, account: AccountId, asset: AssetId, balance: U256, required: U256) -> LedgerError {
        LedgerError::InsufficientBalance {
            account: self.account_name(account).to_string(),
            asset: self.symbol(asset).to_string(),
            balance,
            required,
            decimals: self.asset_info(asset).map_or(0, |i| i.decimals),
        }
    }

    /// Creates `amount` of `asset` in `account`. Fails on supply overflow; changes nothing then.
    pub fn mint(&mut self, account: AccountId, asset: AssetId, amount: U256) -> Result<(), LedgerError> {
        let supply = self
            .supply(asset)
            .add_c(amount)
            .map_err(|_| LedgerError::SupplyOverflow {
                asset: self.symbol(asset).to_string(),
            })?;
        let bal = self.balance(account, asset);
        // bal ≤ supply, so this cannot overflow once the supply did not.
        let new_bal = bal.add_c(amount)?;
        self.set_balance(account, asset, new_bal)?;
        self.set_supply(asset, supply);
        Ok(())
    }

    /// Destroys `amount` of `asset` held by `account`. Fails with
    /// [`LedgerError::InsufficientBalance`] and changes nothing if the balance is short.
    pub fn burn(&mut self, account: AccountId, asset: AssetId, amount: U256) -> Result<(), LedgerError> {
        let bal = self.balance(account, asset);
        let new_bal = bal
            .checked_sub(amount)
            .ok_or_else(|| self.insufficient(account, asset, bal, amount))?;
        let supply = self.supply(asset).sub_c(amount)?;
        self.set_balance(account, asset, new_bal)?;
        self.set_supply(asset, supply);
        Ok(())
    }

    /// Moves `amount` of `asset` from `from` to `to`. Fails with
    /// [`LedgerError::InsufficientBalance`] and changes nothing if the balance is short.
    pub fn transfer(
        &mut self,
        from: AccountId,
        to: AccountId,
        asset: AssetId,
        amount: U256,
    ) -> Result<(), LedgerError> {
        let bal = self.balance(from, asset);
        let new_from = bal
            .checked_sub(amount)
            .ok_or_else(|| self.insufficient(from, asset, bal, amount))?;
        if from == to {
            return Ok(());
        }
        let new_to = self.balance(to, asset).add_c(amount)?;
        self.set_balance(from, asset, new_from)?;
        self.set_balance(to, asset, new_to)?;
        Ok(())
    }

    /// Fails with [`LedgerError::InsufficientBalance`] unless `account` holds at least `amount`.
    pub fn require(&self, account: AccountId, asset: AssetId, amount: U256) -> Result<(), LedgerError> {
        let bal = self.balance(account, asset);
        if bal < amount {
            return Err(self.insufficient(account, asset, bal, amount));
        }
        Ok(())
    }

    // ----- atomicity -----

    /// Starts (or nests) a transaction: every change after this point can be undone by
    /// [`Ledger::rollback`] with the returned checkpoint.
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.depth += 1;
        Checkpoint(self.journal.len())
    }

    /// Keeps every change since `cp`.
    pub fn commit(&mut self, cp: Checkpoint) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.journal.clear();
        } else {
            debug_assert!(cp.0 <= self.journal.len());
        }
    }

    /// Undoes every change since `cp`, newest first. Costs what the rolled-back changes touched,
    /// not the size of the ledger.
    pub fn rollback(&mut self, cp: Checkpoint) {
        // Accounts whose holdings may keep a zero entry left by a rolled-back first credit.
        let mut dirty: Vec<AccountId> = Vec::new();
        while self.journal.len() > cp.0 {
            match self.journal.pop() {
                Some(Undo::Balance { account, asset, prev }) => {
                    let mut cur = U256::ZERO;
                    if let Some(h) = self.holdings.get_mut(account.0 as usize) {
                        // An inner rollback may have dropped the entry once it held zero.
                        match h.binary_search_by_key(&asset, |(a, _)| *a) {
                            Ok(p) => {
                                cur = h[p].1;
                                h[p].1 = prev;
                            }
                            Err(p) => h.insert(p, (asset, prev)),
                        }
                        dirty.push(account);
                    }
                    self.count_holder(asset, cur, prev);
                    if self.auditing {
                        self.touched.push((account, asset, cur));
                    }
                }
                Some(Undo::Supply { asset, prev }) => {
                    if self.auditing {
                        self.touched_supply.push((asset, self.supply[asset.0 as usize]));
                    }
                    self.supply[asset.0 as usize] = prev;
                }
                Some(Undo::NewAccount) => {
                    if let Some(name) = self.accounts.pop() {
                        self.account_by_name.remove(&name);
                        self.holdings.pop();
                    }
                }
                Some(Undo::NewAsset) => {
                    if let Some(a) = self.assets.pop() {
                        self.asset_by_symbol.remove(&a.symbol);
                        self.supply.pop();
                        self.holder_count.pop();
                    }
                }
                None => break,
            }
        }
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.journal.clear();
        }
        // Zero entries left by rolled-back first credits are harmless to balances but would
        // change the canonical encoding: drop them, in the accounts the rollback touched only.
        dirty.sort_unstable();
        dirty.dedup();
        for a in dirty {
            if let Some(h) = self.holdings.get_mut(a.0 as usize) {
                h.retain(|(_, b)| *b != U256::ZERO);
            }
        }
        if self.auditing {
            // Writes to accounts and assets that no longer exist are gone with them.
            let (na, ns) = (self.accounts.len(), self.assets.len());
            self.touched
                .retain(|(acc, asset, _)| (acc.0 as usize) < na && (asset.0 as usize) < ns);
            self.touched_supply.retain(|(asset, _)| (asset.0 as usize) < ns);
        }
    }

    /// Runs `f` atomically: on `Err` every ledger change it made is undone.
    pub fn atomic<T, E>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, E>) -> Result<T, E> {
        let cp = self.checkpoint();
        match f(self) {
            Ok(v) => {
                self.commit(cp);
                Ok(v)
            }
            Err(e) => {
                self.rollback(cp);
                Err(e)
            }
        }
    }

    /// Starts (or stops) recording writes for [`Ledger::audit`]. Recording costs one push per
    /// write; [`Ledger::audit`] drains it.
    pub fn set_auditing(&mut self, on: bool) {
        self.auditing = on;
        self.touched.clear();
        self.touched_supply.clear();
    }

    /// Whether writes are being recorded for [`Ledger::audit`].
    pub fn is_auditing(&self) -> bool {
        self.auditing
    }

    /// Incremental conservation (SPEC §1.4) over what was written since the last audit, then
    /// forgets those writes. For every touched asset, the change in supply must equal the
    /// change in the touched balances: Σ now + supply before = Σ before + supply now. Costs
    /// O(w log w) in the number of writes w, independent of the number of accounts. Returns
    /// what was touched, for the protocols' own incremental checks.
    pub fn audit(&mut self) -> Result<Touched, LedgerError> {
        let mut writes = std::mem::take(&mut self.touched);
        let mut supplies = std::mem::take(&mut self.touched_supply);
        // Oldest write first within a slot: its `prev` is the value before the audited span.
        writes.sort_by_key(|(acc, asset, _)| (*asset, *acc));
        supplies.sort_by_key(|(asset, _)| *asset);
        let mut touched = Touched::default();
        let mut i = 0;
        let mut s = 0;
        let mut result = Ok(());
        while i < writes.len() || s < supplies.len() {
            // The next asset to settle: the smaller of the two heads.
            let asset = match (writes.get(i), supplies.get(s)) {
                (Some(w), Some(p)) => w.1.min(p.0),
                (Some(w), None) => w.1,
                (None, Some(p)) => p.0,
                (None, None) => break,
            };
            touched.assets.push(asset);
            let (mut before, mut now) = (U256::ZERO, U256::ZERO);
            let mut overflow = false;
            while let Some(&(acc, a, prev)) = writes.get(i) {
                if a != asset {
                    break;
                }
                touched.accounts.push(acc);
                match (before.checked_add(prev), now.checked_add(self.balance(acc, a))) {
                    (Some(b), Some(n)) => (before, now) = (b, n),
                    _ => overflow = true,
                }
                // Later writes to the same slot only matter through its current value.
                while writes.get(i).is_some_and(|w| w.0 == acc && w.1 == a) {
                    i += 1;
                }
            }
            let mut supply_before = self.supply(asset);
            if let Some(&(a, prev)) = supplies.get(s) {
                if a == asset {
                    supply_before = prev;
                }
            }
            while supplies.get(s).is_some_and(|p| p.0 == asset) {
                s += 1;
            }
            let supply_now = self.supply(asset);
            let balanced = match (now.checked_add(supply_before), before.checked_add(supply_now)) {
                (Some(l), Some(r)) => !overflow && l == r,
                _ => false,
            };
            if !balanced && result.is_ok() {
                result = Err(LedgerError::ConservationBroken {
                    asset: self.symbol(asset).to_string(),
                    supply: supply_now,
                    held: supply_before.saturating_add(now).saturating_sub(before),
                });
            }
        }
        touched.accounts.sort_unstable();
        touched.accounts.dedup();
        result.map(|()| touched)
    }

    /// Conservation (SPEC §1.4): for every asset, supply = Σ holdings.
    pub fn check_conservation(&self) -> Result<(), LedgerError> {
        let mut sums = vec![U256::ZERO; self.assets.len()];
        for h in &self.holdings {
            for (a, b) in h {
                let s = &mut sums[a.0 as usize];
                *s = s.add_c(*b)?;
            }
        }
        for (i, s) in sums.iter().enumerate() {
            if *s != self.supply[i] {
                return Err(LedgerError::ConservationBroken {
                    asset: self.assets[i].symbol.clone(),
                    supply: self.supply[i],
                    held: *s,
                });
            }
        }
        Ok(())
    }
}

impl StateHash for Ledger {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        // Canonical: zero holdings are not part of the state.
        hash::hash_serde(h, &self.assets);
        hash::hash_serde(h, &self.accounts);
        for hold in &self.holdings {
            let nz: Vec<&(AssetId, U256)> = hold.iter().filter(|(_, b)| *b != U256::ZERO).collect();
            hash::hash_serde(h, &nz);
        }
        hash::hash_serde(h, &self.supply);
    }
}

#[cfg(test)]
mod tests;
