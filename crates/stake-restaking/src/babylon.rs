//! `babylon` model — BTC staking (SPEC §5.4).
//!
//! Self-custodial BTC (8 decimals) locked with a staking timelock and delegated to a finality
//! provider that signs for the chains it secures.
//!
//! * The locked BTC of a provider's delegations is one pool with shares (the per-provider
//!   factor): a delegation of `a` gets `a·S/B` shares (down; `a` for an empty pool) and is worth
//!   `shares·B/S` (down). Slashing a provider that double-signed burns `⌈B·rate⌉` of the pool —
//!   every delegation (active, unbonding or expired but not withdrawn) loses the same fraction,
//!   in O(1), with no loop over delegators (SPEC §1.6). A slashed provider is jailed for good.
//! * Unbonding on demand takes `unbonding_secs` (≈ 7 days on Babylon: 1,008 BTC blocks); the
//!   unbonding output stays slashable until withdrawn. A delegation whose timelock has expired
//!   leaves the active set ([`Babylon::process_expirations`]) and can be withdrawn.
//! * Rewards in the secured chain's token: the provider's commission (`⌊r·bps/1e4⌋`) goes to its
//!   commission account, the rest raises a per-provider reward index (ray, down) over active shares.
//!
//! Ledger: locked BTC in `babylon:locked`, burned BTC in `babylon:burn`, undistributed rewards in
//! `babylon:rewards`.

// Errors carry the offending values (SPEC §1.3) and the ledger's error by value; rejections are
// the cold path, so the larger `Err` is accepted rather than boxing every variant.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};
use stake_ledger::{blake3, hash_serde, AccountId, AssetId, Ledger, LedgerError, Reject, StateHash};
use stake_math::{mul_div_down, mul_wad_up, Checked, MathError, BPS, RAY, U256, WAD};
use std::collections::BTreeMap;
use std::fmt;

/// Pool shares for a delegation of `amount` BTC: `⌊amount·S/B⌋`, or `amount` for an empty pool.
pub fn delegation_shares(amount: U256, pool_btc: U256, pool_shares: U256) -> Result<U256, MathError> {
    if pool_shares == U256::ZERO || pool_btc == U256::ZERO {
        Ok(amount)
    } else {
        mul_div_down(amount, pool_shares, pool_btc)
    }
}

/// Voting power of `active_shares` of a pool: `⌊activeShares·B/S⌋`, 0 for a pool without shares.
pub fn voting_power_of(active_shares: U256, pool_btc: U256, pool_shares: U256) -> Result<U256, MathError> {
    if pool_shares == U256::ZERO {
        return Ok(U256::ZERO);
    }
    mul_div_down(active_shares, pool_btc, pool_shares)
}

/// Split of a reward `amount`: `(commission, to_delegators, index_increment_ray)` with
/// commission `⌊amount·bps/1e4⌋` and the rest spread over `active_shares` (`⌊rest·1e27/S⌋`).
/// Fails with `DivisionByZero` without active shares and `Underflow` above 10000 bps.
pub fn reward_split(amount: U256, commission_bps: u16, active_shares: U256) -> Result<(U256, U256, U256), MathError> {
    let commission = mul_div_down(amount, U256::from(commission_bps), BPS)?;
    let rest = amount.sub_c(commission)?;
    let increment = mul_div_down(rest, RAY, active_shares)?;
    Ok((commission, rest, increment))
}

/// BTC burned when a provider is slashed: `min(⌈B·rate⌉, B)` (rate in wad).
pub fn slash_burn(pool_btc: U256, slashing_rate_wad: U256) -> Result<U256, MathError> {
    Ok(mul_wad_up(pool_btc, slashing_rate_wad)?.min(pool_btc))
}

/// BTC decimals.
pub const BTC_DECIMALS: u8 = 8;
/// Default unbonding time: 1,008 BTC blocks ≈ 7 days.
pub const DEFAULT_UNBONDING_SECS: u64 = 7 * 24 * 3600;

/// Rejections of the Babylon model (codes 4400–4499).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BabylonError {
    /// No provider with this name.
    UnknownProvider {
        /// Name.
        name: String,
    },
    /// A provider with this name exists.
    DuplicateProvider {
        /// Name.
        name: String,
    },
    /// The provider was slashed (jailed for good).
    ProviderSlashed {
        /// Name.
        name: String,
    },
    /// Stake below the minimum.
    StakeTooSmall {
        /// Amount.
        amount: U256,
        /// Minimum.
        min: U256,
    },
    /// Staking time outside `[min, max]`.
    InvalidStakingTime {
        /// Given seconds.
        secs: u64,
        /// Minimum.
        min: u64,
        /// Maximum.
        max: u64,
    },
    /// No delegation with this id.
    UnknownDelegation {
        /// Id.
        id: u64,
    },
    /// The caller does not own the delegation.
    NotOwner {
        /// Id.
        id: u64,
    },
    /// The delegation is not active (already unbonding, expired or withdrawn).
    NotActive {
        /// Id.
        id: u64,
    },
    /// The delegation cannot be withdrawn yet.
    StillLocked {
        /// Id.
        id: u64,
        /// Time it unlocks.
        unlock: u64,
        /// Now.
        now: u64,
    },
    /// The provider has no active stake to reward.
    NoActiveStake {
        /// Provider.
        name: String,
    },
    /// Zero amount.
    ZeroAmount,
    /// A rate or commission out of range.
    InvalidParameter {
        /// Which.
        what: &'static str,
    },
    /// Ledger failure.
    Ledger(LedgerError),
    /// Arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for BabylonError {
    fn from(e: LedgerError) -> Self {
        BabylonError::Ledger(e)
    }
}

impl From<MathError> for BabylonError {
    fn from(e: MathError) -> Self {
        BabylonError::Math(e)
    }
}

impl fmt::Display for BabylonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BabylonError::*;
        match self {
            UnknownProvider { name } => write!(f, "unknown finality provider {name}"),
            DuplicateProvider { name } => write!(f, "finality provider {name} exists"),
            ProviderSlashed { name } => write!(f, "finality provider {name} is slashed"),
            StakeTooSmall { amount, min } => write!(f, "stake {amount} below minimum {min}"),
            InvalidStakingTime { secs, min, max } => {
                write!(f, "staking time {secs}s outside [{min}, {max}]")
            }
            UnknownDelegation { id } => write!(f, "unknown delegation {id}"),
            NotOwner { id } => write!(f, "not the owner of delegation {id}"),
            NotActive { id } => write!(f, "delegation {id} is not active"),
            StillLocked { id, unlock, now } => {
                write!(f, "delegation {id} unlocks at {unlock}, now {now}")
            }
            NoActiveStake { name } => write!(f, "finality provider {name} has no active stake"),
            ZeroAmount => write!(f, "amount is zero"),
            InvalidParameter { what } => write!(f, "invalid parameter {what}"),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BabylonError {}

impl Reject for BabylonError {
    fn code(&self) -> u32 {
        use BabylonError::*;
        match self {
            UnknownProvider { .. } => 4400,
            DuplicateProvider { .. } => 4401,
            ProviderSlashed { .. } => 4402,
            StakeTooSmall { .. } => 4403,
            InvalidStakingTime { .. } => 4404,
            UnknownDelegation { .. } => 4405,
            NotOwner { .. } => 4406,
            NotActive { .. } => 4407,
            StillLocked { .. } => 4408,
            NoActiveStake { .. } => 4409,
            ZeroAmount => 4410,
            InvalidParameter { .. } => 4411,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}

/// Result of a Babylon operation.
pub type BabylonResult<T> = Result<T, BabylonError>;

/// Events of the Babylon model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BabylonEvent {
    /// BTC delegated.
    Delegate {
        /// Delegation id.
        id: u64,
        /// Provider.
        provider: String,
        /// BTC locked.
        amount: U256,
        /// Pool shares.
        shares: U256,
        /// Timelock end.
        end: u64,
    },
    /// Unbonding started.
    Unbond {
        /// Delegation id.
        id: u64,
        /// Withdrawable from.
        until: u64,
    },
    /// Delegation left the active set at the end of its timelock.
    Expire {
        /// Delegation id.
        id: u64,
    },
    /// BTC returned to the staker.
    Withdraw {
        /// Delegation id.
        id: u64,
        /// BTC paid.
        amount: U256,
    },
    /// A provider was slashed.
    Slash {
        /// Provider.
        provider: String,
        /// BTC burned.
        burned: U256,
    },
    /// Rewards distributed to a provider's delegations.
    Rewards {
        /// Provider.
        provider: String,
        /// Commission paid.
        commission: U256,
        /// To delegators.
        to_delegators: U256,
    },
    /// Rewards claimed.
    Claim {
        /// Delegation id.
        id: u64,
        /// Amount.
        amount: U256,
    },
}

/// Parameters of the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BabylonParams {
    /// The BTC asset (8 decimals).
    pub btc: AssetId,
    /// The secured chain's reward token.
    pub reward_asset: AssetId,
    /// Unbonding time in seconds.
    pub unbonding_secs: u64,
    /// Minimum staking timelock (seconds).
    pub min_staking_secs: u64,
    /// Maximum staking timelock (seconds).
    pub max_staking_secs: u64,
    /// Fraction of a slashed provider's delegated BTC burned (wad).
    pub slashing_rate_wad: U256,
    /// Minimum stake (satoshi).
    pub min_stake: U256,
}

/// A finality provider and its BTC pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalityProvider {
    /// Commission in bps.
    pub commission_bps: u16,
    /// Commission recipient.
    pub commission_account: AccountId,
    /// Slashed (jailed for good).
    pub slashed: bool,
    /// BTC in the pool (after slashing).
    pub pool_btc: U256,
    /// Pool shares.
    pub pool_shares: U256,
    /// Shares of active (voting, rewarded) delegations.
    pub active_shares: U256,
    /// Rewards per active share, ray.
    pub reward_index_ray: U256,
}

/// Status of a delegation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DelegationStatus {
    /// Voting and earning.
    Active,
    /// Unbonding until the given time (still slashable).
    Unbonding {
        /// Withdrawable from.
        until: u64,
    },
    /// Timelock ended (still slashable until withdrawn).
    Expired,
    /// BTC returned.
    Withdrawn,
}

/// A BTC delegation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BtcDelegation {
    /// Staker.
    pub staker: AccountId,
    /// Provider.
    pub provider: String,
    /// BTC originally locked.
    pub amount: U256,
    /// Pool shares.
    pub shares: U256,
    /// Timelock end.
    pub end: u64,
    /// Status.
    pub status: DelegationStatus,
    /// `shares·index` at the last settlement (ray-scaled out: token units).
    pub reward_debt: U256,
    /// Settled, unclaimed rewards.
    pub accrued: U256,
}

/// The Babylon BTC staking model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Babylon {
    /// Parameters.
    pub params: BabylonParams,
    /// Locked BTC account.
    pub locked: AccountId,
    /// Burn account for slashed BTC.
    pub burn: AccountId,
    /// Undistributed rewards account.
    pub rewards: AccountId,
    /// Providers by name.
    pub providers: BTreeMap<String, FinalityProvider>,
    /// Delegations by id.
    pub delegations: BTreeMap<u64, BtcDelegation>,
    /// Active delegations by timelock end.
    pub expiries: BTreeMap<u64, Vec<u64>>,
    /// Next delegation id.
    pub next_id: u64,
}

impl StateHash for Babylon {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

impl Babylon {
    /// A new model.
    ///
    /// Specification:
    /// - fails with `InvalidParameter` if the slashing rate exceeds WAD or `min > max` staking time.
    pub fn new(ledger: &mut Ledger, params: BabylonParams) -> BabylonResult<Self> {
        if params.slashing_rate_wad > WAD {
            return Err(BabylonError::InvalidParameter {
                what: "slashing_rate_wad",
            });
        }
        if params.min_staking_secs > params.max_staking_secs {
            return Err(BabylonError::InvalidParameter {
                what: "staking time bounds",
            });
        }
        Ok(Self {
            params,
            locked: ledger.account("babylon:locked"),
            burn: ledger.account("babylon:burn"),
            rewards: ledger.account("babylon:rewards"),
            providers: BTreeMap::new(),
            delegations: BTreeMap::new(),
            expiries: BTreeMap::new(),
            next_id: 0,
        })
    }

    fn provider(&self, name: &str) -> BabylonResult<&FinalityProvider> {
        self.providers
            .get(name)
            .ok_or_else(|| BabylonError::UnknownProvider { name: name.to_string() })
    }

    fn delegation(&self, id: u64) -> BabylonResult<&BtcDelegation> {
        self.delegations.get(&id).ok_or(BabylonError::UnknownDelegation { id })
    }

    /// Registers a finality provider.
    ///
    /// Specification:
    /// - fails with `DuplicateProvider` if the name exists;
    /// - fails with `InvalidParameter` if the commission exceeds 10,000 bps.
    pub fn register_provider(
        &mut self,
        ledger: &mut Ledger,
        name: &str,
        commission_bps: u16,
        commission_account: &str,
    ) -> BabylonResult<Vec<BabylonEvent>> {
        if self.providers.contains_key(name) {
            return Err(BabylonError::DuplicateProvider { name: name.to_string() });
        }
        if U256::from(commission_bps) > BPS {
            return Err(BabylonError::InvalidParameter { what: "commission_bps" });
        }
        let commission_account = ledger.account(commission_account);
        self.providers.insert(
            name.to_string(),
            FinalityProvider {
                commission_bps,
                commission_account,
                slashed: false,
                pool_btc: U256::ZERO,
                pool_shares: U256::ZERO,
                active_shares: U256::ZERO,
                reward_index_ray: U256::ZERO,
            },
        );
        Ok(Vec::new())
    }

    /// BTC value of a delegation now (`shares·B/S`, down).
    pub fn delegation_value(&self, id: u64) -> BabylonResult<U256> {
        let d = self.delegation(id)?;
        let p = self.provider(&d.provider)?;
        if p.pool_shares == U256::ZERO {
            return Ok(U256::ZERO);
        }
        Ok(mul_div_down(d.shares, p.pool_btc, p.pool_shares)?)
    }

    /// Voting power of a provider: BTC of its active delegations (`activeShares·B/S`, down).
    pub fn voting_power(&self, name: &str) -> BabylonResult<U256> {
        let p = self.provider(name)?;
        if p.slashed {
            return Ok(U256::ZERO);
        }
        Ok(voting_power_of(p.active_shares, p.pool_btc, p.pool_shares)?)
    }

    /// Rewards claimable by a delegation.
    pub fn pending_rewards(&self, id: u64) -> BabylonResult<U256> {
        let d = self.delegation(id)?;
        let p = self.provider(&d.provider)?;
        Ok(d.accrued.add_c(Self::unsettled(d, p)?)?)
    }

    fn unsettled(d: &BtcDelegation, p: &FinalityProvider) -> BabylonResult<U256> {
        if d.status != DelegationStatus::Active {
            return Ok(U256::ZERO);
        }
        Ok(mul_div_down(d.shares, p.reward_index_ray, RAY)?.sub_c(d.reward_debt)?)
    }

    /// Locks `amount` BTC of `staker` for `staking_secs` and delegates it to `provider`.
    ///
    /// Specification:
    /// - fails with `UnknownProvider` / `ProviderSlashed`;
    /// - fails with `StakeTooSmall` below the minimum stake;
    /// - fails with `InvalidStakingTime` outside the timelock bounds;
    /// - fails with `Ledger(InsufficientBalance)` if the staker lacks the BTC.
    pub fn delegate(
        &mut self,
        ledger: &mut Ledger,
        staker: AccountId,
        provider: &str,
        amount: U256,
        staking_secs: u64,
        now: u64,
    ) -> BabylonResult<Vec<BabylonEvent>> {
        let p = self.provider(provider)?;
        if p.slashed {
            return Err(BabylonError::ProviderSlashed {
                name: provider.to_string(),
            });
        }
        if amount == U256::ZERO || amount < self.params.min_stake {
            return Err(BabylonError::StakeTooSmall {
                amount,
                min: self.params.min_stake,
            });
        }
        let (min, max) = (self.params.min_staking_secs, self.params.max_staking_secs);
        if staking_secs < min || staking_secs > max {
            return Err(BabylonError::InvalidStakingTime {
                secs: staking_secs,
                min,
                max,
            });
        }
        let shares = delegation_shares(amount, p.pool_btc, p.pool_shares)?;
        let end = now.checked_add(staking_secs).ok_or(MathError::Overflow)?;
        let mut p = p.clone();
        p.pool_btc = p.pool_btc.add_c(amount)?;
        p.pool_shares = p.pool_shares.add_c(shares)?;
        p.active_shares = p.active_shares.add_c(shares)?;
        let reward_debt = mul_div_down(shares, p.reward_index_ray, RAY)?;
        ledger.transfer(staker, self.locked, self.params.btc, amount)?;
        let id = self.next_id;
        self.next_id += 1;
        self.providers.insert(provider.to_string(), p);
        self.delegations.insert(
            id,
            BtcDelegation {
                staker,
                provider: provider.to_string(),
                amount,
                shares,
                end,
                status: DelegationStatus::Active,
                reward_debt,
                accrued: U256::ZERO,
            },
        );
        self.expiries.entry(end).or_default().push(id);
        Ok(vec![BabylonEvent::Delegate {
            id,
            provider: provider.to_string(),
            amount,
            shares,
            end,
        }])
    }

    /// Takes an active delegation out of the active set, settling its rewards.
    fn deactivate(&mut self, id: u64, status: DelegationStatus) -> BabylonResult<()> {
        let d = self.delegation(id)?.clone();
        let p = self.provider(&d.provider)?.clone();
        let accrued = d.accrued.add_c(Self::unsettled(&d, &p)?)?;
        let active = p.active_shares.sub_c(d.shares)?;
        if let Some(p) = self.providers.get_mut(&d.provider) {
            p.active_shares = active;
        }
        if let Some(d) = self.delegations.get_mut(&id) {
            d.accrued = accrued;
            d.reward_debt = U256::ZERO;
            d.status = status;
        }
        if let Some(v) = self.expiries.get_mut(&d.end) {
            v.retain(|x| *x != id);
            if v.is_empty() {
                self.expiries.remove(&d.end);
            }
        }
        Ok(())
    }

    /// Starts unbonding an active delegation (withdrawable after `unbonding_secs`).
    ///
    /// Specification:
    /// - fails with `UnknownDelegation` / `NotOwner`;
    /// - fails with `NotActive` unless the delegation is active.
    pub fn unbond(&mut self, id: u64, staker: AccountId, now: u64) -> BabylonResult<Vec<BabylonEvent>> {
        let d = self.delegation(id)?;
        if d.staker != staker {
            return Err(BabylonError::NotOwner { id });
        }
        if d.status != DelegationStatus::Active {
            return Err(BabylonError::NotActive { id });
        }
        let until = now.checked_add(self.params.unbonding_secs).ok_or(MathError::Overflow)?;
        self.deactivate(id, DelegationStatus::Unbonding { until })?;
        Ok(vec![BabylonEvent::Unbond { id, until }])
    }

    /// Moves every active delegation whose timelock ended by `now` out of the active set
    /// (O(expiring delegations)).
    pub fn process_expirations(&mut self, now: u64) -> BabylonResult<Vec<BabylonEvent>> {
        let due: Vec<u64> = self
            .expiries
            .range(..=now)
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        let snapshot = (self.providers.clone(), self.delegations.clone(), self.expiries.clone());
        let mut events = Vec::new();
        for id in due {
            if let Err(e) = self.deactivate(id, DelegationStatus::Expired) {
                (self.providers, self.delegations, self.expiries) = snapshot;
                return Err(e);
            }
            events.push(BabylonEvent::Expire { id });
        }
        Ok(events)
    }

    /// Returns the BTC of a delegation (after any slashing) once unbonded or expired.
    ///
    /// Specification:
    /// - fails with `UnknownDelegation` / `NotOwner`;
    /// - fails with `NotActive` if already withdrawn;
    /// - fails with `StillLocked` before the unbonding end or the timelock end.
    pub fn withdraw(
        &mut self,
        ledger: &mut Ledger,
        id: u64,
        staker: AccountId,
        now: u64,
    ) -> BabylonResult<Vec<BabylonEvent>> {
        let d = self.delegation(id)?.clone();
        if d.staker != staker {
            return Err(BabylonError::NotOwner { id });
        }
        let unlock = match d.status {
            DelegationStatus::Withdrawn => return Err(BabylonError::NotActive { id }),
            DelegationStatus::Unbonding { until } => until,
            DelegationStatus::Active | DelegationStatus::Expired => d.end,
        };
        if now < unlock {
            return Err(BabylonError::StillLocked { id, unlock, now });
        }
        let amount = self.delegation_value(id)?;
        let before = (self.providers.clone(), self.delegations.clone(), self.expiries.clone());
        if d.status == DelegationStatus::Active {
            self.deactivate(id, DelegationStatus::Expired)?;
        }
        let mut p = self.provider(&d.provider)?.clone();
        let res = (|| -> BabylonResult<()> {
            p.pool_btc = p.pool_btc.sub_c(amount)?;
            p.pool_shares = p.pool_shares.sub_c(d.shares)?;
            ledger.transfer(self.locked, staker, self.params.btc, amount)?;
            Ok(())
        })();
        if let Err(e) = res {
            (self.providers, self.delegations, self.expiries) = before;
            return Err(e);
        }
        self.providers.insert(d.provider.clone(), p);
        if let Some(dd) = self.delegations.get_mut(&id) {
            dd.status = DelegationStatus::Withdrawn;
        }
        Ok(vec![BabylonEvent::Withdraw { id, amount }])
    }

    /// Slashes a provider that double-signed: burns `⌈B·rate⌉` of its pool (every delegation loses
    /// the same fraction, O(1)) and jails it.
    ///
    /// Specification:
    /// - fails with `UnknownProvider`;
    /// - fails with `ProviderSlashed` if already slashed.
    pub fn slash_provider(&mut self, ledger: &mut Ledger, name: &str) -> BabylonResult<Vec<BabylonEvent>> {
        let p = self.provider(name)?;
        if p.slashed {
            return Err(BabylonError::ProviderSlashed { name: name.to_string() });
        }
        let burned = slash_burn(p.pool_btc, self.params.slashing_rate_wad)?;
        let pool = p.pool_btc - burned;
        ledger.transfer(self.locked, self.burn, self.params.btc, burned)?;
        if let Some(p) = self.providers.get_mut(name) {
            p.pool_btc = pool;
            p.slashed = true;
        }
        Ok(vec![BabylonEvent::Slash {
            provider: name.to_string(),
            burned,
        }])
    }

    /// Pays `amount` of the reward token from `from` to a provider's delegations: commission
    /// `⌊amount·bps/1e4⌋` to the provider, the rest pro rata to active shares via the index.
    ///
    /// Specification:
    /// - fails with `ZeroAmount`, `UnknownProvider`, `ProviderSlashed`;
    /// - fails with `NoActiveStake` if the provider has no active delegations;
    /// - fails with `Ledger(InsufficientBalance)` if `from` lacks the tokens.
    pub fn distribute_rewards(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        provider: &str,
        amount: U256,
    ) -> BabylonResult<Vec<BabylonEvent>> {
        if amount == U256::ZERO {
            return Err(BabylonError::ZeroAmount);
        }
        let p = self.provider(provider)?;
        if p.slashed {
            return Err(BabylonError::ProviderSlashed {
                name: provider.to_string(),
            });
        }
        if p.active_shares == U256::ZERO {
            return Err(BabylonError::NoActiveStake {
                name: provider.to_string(),
            });
        }
        let (commission, rest, increment) = reward_split(amount, p.commission_bps, p.active_shares)?;
        let index = p.reward_index_ray.add_c(increment)?;
        let (asset, rewards, ca) = (self.params.reward_asset, self.rewards, p.commission_account);
        ledger.atomic(|l| -> Result<(), LedgerError> {
            l.transfer(from, ca, asset, commission)?;
            l.transfer(from, rewards, asset, rest)
        })?;
        if let Some(p) = self.providers.get_mut(provider) {
            p.reward_index_ray = index;
        }
        Ok(vec![BabylonEvent::Rewards {
            provider: provider.to_string(),
            commission,
            to_delegators: rest,
        }])
    }

    /// Pays a delegation's accrued rewards to its staker.
    ///
    /// Specification:
    /// - fails with `UnknownDelegation` / `NotOwner`;
    /// - fails with `ZeroAmount` if nothing is claimable.
    pub fn claim_rewards(
        &mut self,
        ledger: &mut Ledger,
        id: u64,
        staker: AccountId,
    ) -> BabylonResult<Vec<BabylonEvent>> {
        let d = self.delegation(id)?;
        if d.staker != staker {
            return Err(BabylonError::NotOwner { id });
        }
        let p = self.provider(&d.provider)?;
        let amount = self.pending_rewards(id)?;
        if amount == U256::ZERO {
            return Err(BabylonError::ZeroAmount);
        }
        let debt = if d.status == DelegationStatus::Active {
            mul_div_down(d.shares, p.reward_index_ray, RAY)?
        } else {
            U256::ZERO
        };
        ledger.transfer(self.rewards, staker, self.params.reward_asset, amount)?;
        if let Some(d) = self.delegations.get_mut(&id) {
            d.accrued = U256::ZERO;
            d.reward_debt = debt;
        }
        Ok(vec![BabylonEvent::Claim { id, amount }])
    }

    /// Backing rules (SPEC §5.4): locked BTC == Σ pools; per provider Σ non-withdrawn shares ==
    /// pool shares and Σ active shares == active shares; the rewards account covers every
    /// delegation's pending rewards.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, true)
    }

    /// [`Self::check_invariants`] without the sums over every delegation: the locked BTC equals
    /// the providers' pools. Costs the number of providers.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, false)
    }

    fn check_rules(&self, ledger: &Ledger, full: bool) -> Result<(), String> {
        let mut pools = U256::ZERO;
        for p in self.providers.values() {
            pools = pools.checked_add(p.pool_btc).ok_or("overflow")?;
        }
        let locked = ledger.balance(self.locked, self.params.btc);
        if locked != pools {
            return Err(format!("locked BTC {locked} != Σ pools {pools}"));
        }
        if !full {
            return Ok(());
        }
        let mut shares: BTreeMap<&str, (U256, U256)> = BTreeMap::new();
        let mut pending = U256::ZERO;
        for (id, d) in &self.delegations {
            pending = pending
                .checked_add(self.pending_rewards(*id).map_err(|e| e.to_string())?)
                .ok_or("overflow")?;
            if d.status == DelegationStatus::Withdrawn {
                continue;
            }
            let e = shares.entry(d.provider.as_str()).or_insert((U256::ZERO, U256::ZERO));
            e.0 = e.0.checked_add(d.shares).ok_or("overflow")?;
            if d.status == DelegationStatus::Active {
                e.1 = e.1.checked_add(d.shares).ok_or("overflow")?;
            }
        }
        for (name, p) in &self.providers {
            let (s, a) = shares.get(name.as_str()).copied().unwrap_or((U256::ZERO, U256::ZERO));
            if s != p.pool_shares || a != p.active_shares {
                return Err(format!(
                    "provider {name}: shares {s}/{a} != pool {}/{}",
                    p.pool_shares, p.active_shares
                ));
            }
        }
        let bal = ledger.balance(self.rewards, self.params.reward_asset);
        if bal < pending {
            return Err(format!("rewards account {bal} < pending {pending}"));
        }
        Ok(())
    }
}
