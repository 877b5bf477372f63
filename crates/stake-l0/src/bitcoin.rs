//! Bitcoin at L0 (SPEC §3.2, §5.4): no native staking rewards; BTC is staked by locking it in an
//! output with a relative timelock (`OP_CHECKSEQUENCEVERIFY`, BIP 68/112), which Babylon's BTC
//! staking (L2) builds on.
//!
//! The chain's time is its block height, `⌊(now − genesis) / block_seconds⌋` (600-second
//! target). An output locked at height `h` for `t` blocks (1 ≤ t ≤ 65,535) is spendable from
//! height `h + t` by its owner only. Locked BTC sits in the ledger account `bitcoin:timelocked`,
//! which always holds Σ unspent outputs.

use crate::chains::BTC_MAX_RELATIVE_TIMELOCK_BLOCKS;
use serde::{Deserialize, Serialize};
use stake_ledger::{AccountId, AssetId, Ledger, LedgerError, Reject};
use stake_math::{Checked, MathError, U256};
use std::fmt;

/// Parameters of the Bitcoin model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitcoinParams {
    /// Asset symbol (8 decimals; registered by the caller).
    pub asset_symbol: String,
    /// Target block interval (seconds; 600).
    pub block_seconds: u64,
}

impl Default for BitcoinParams {
    fn default() -> Self {
        BitcoinParams {
            asset_symbol: "BTC".to_string(),
            block_seconds: 600,
        }
    }
}

/// Rejections of the Bitcoin model. Stable codes 2100–2199.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BitcoinError {
    /// A timelock outside 1..=65,535 blocks.
    InvalidTimelock {
        /// Blocks asked for.
        blocks: u64,
    },
    /// A zero amount.
    ZeroAmount,
    /// No unspent output with this id.
    UnknownOutput {
        /// Output id.
        id: u64,
    },
    /// The spender does not own the output.
    NotOwner {
        /// Output id.
        id: u64,
    },
    /// The timelock has not expired.
    StillLocked {
        /// Output id.
        id: u64,
        /// Current height.
        height: u64,
        /// First spendable height.
        spendable_at: u64,
    },
    /// `now` before genesis, or `block_seconds == 0`.
    BadTime {
        /// Time given.
        now: u64,
    },
    /// A ledger failure.
    Ledger(Box<LedgerError>),
    /// An arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for BitcoinError {
    fn from(e: LedgerError) -> Self {
        BitcoinError::Ledger(Box::new(e))
    }
}
impl From<MathError> for BitcoinError {
    fn from(e: MathError) -> Self {
        BitcoinError::Math(e)
    }
}

impl fmt::Display for BitcoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BitcoinError::InvalidTimelock { blocks } => {
                write!(
                    f,
                    "timelock of {blocks} blocks is outside 1..={BTC_MAX_RELATIVE_TIMELOCK_BLOCKS}"
                )
            }
            BitcoinError::ZeroAmount => write!(f, "amount must be positive"),
            BitcoinError::UnknownOutput { id } => write!(f, "no unspent output #{id}"),
            BitcoinError::NotOwner { id } => write!(f, "output #{id} belongs to another owner"),
            BitcoinError::StillLocked {
                id,
                height,
                spendable_at,
            } => write!(f, "output #{id} is locked until height {spendable_at} (now {height})"),
            BitcoinError::BadTime { now } => write!(f, "time {now} is before genesis"),
            BitcoinError::Ledger(e) => write!(f, "{e}"),
            BitcoinError::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BitcoinError {}

impl Reject for BitcoinError {
    fn code(&self) -> u32 {
        match self {
            BitcoinError::InvalidTimelock { .. } => 2100,
            BitcoinError::ZeroAmount => 2101,
            BitcoinError::UnknownOutput { .. } => 2102,
            BitcoinError::NotOwner { .. } => 2103,
            BitcoinError::StillLocked { .. } => 2104,
            BitcoinError::BadTime { .. } => 2105,
            BitcoinError::Ledger(e) => e.code(),
            BitcoinError::Math(e) => e.code(),
        }
    }
}

/// A timelocked output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelockedOutput {
    /// Output id.
    pub id: u64,
    /// Owner.
    pub owner: AccountId,
    /// Amount (satoshi).
    pub amount: U256,
    /// First height at which it may be spent.
    pub spendable_at: u64,
}

/// The Bitcoin model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bitcoin {
    params: BitcoinParams,
    genesis_time: u64,
    asset: AssetId,
    account: AccountId,
    outputs: Vec<TimelockedOutput>,
    next_id: u64,
}

impl Bitcoin {
    /// The chain at genesis.
    ///
    /// Specification: fails with [`BitcoinError::Ledger`] if the asset is not registered and
    /// [`BitcoinError::BadTime`] if `block_seconds == 0`.
    pub fn new(params: BitcoinParams, ledger: &mut Ledger, genesis_time: u64) -> Result<Self, BitcoinError> {
        if params.block_seconds == 0 {
            return Err(BitcoinError::BadTime { now: genesis_time });
        }
        let asset = ledger.asset(&params.asset_symbol)?;
        let account = ledger.account("bitcoin:timelocked");
        Ok(Bitcoin {
            params,
            genesis_time,
            asset,
            account,
            outputs: Vec::new(),
            next_id: 0,
        })
    }

    /// Block height at `now`.
    ///
    /// Specification: fails with [`BitcoinError::BadTime`] before genesis.
    pub fn height(&self, now: u64) -> Result<u64, BitcoinError> {
        now.checked_sub(self.genesis_time)
            .map(|d| d / self.params.block_seconds)
            .ok_or(BitcoinError::BadTime { now })
    }

    /// Seconds a timelock of `blocks` lasts at the target interval.
    pub fn timelock_seconds(&self, blocks: u64) -> u64 {
        blocks.saturating_mul(self.params.block_seconds)
    }

    /// Unspent outputs.
    pub fn outputs(&self) -> &[TimelockedOutput] {
        &self.outputs
    }

    /// Locks `amount` of `owner`'s BTC for `blocks` blocks; returns the output id.
    ///
    /// Specification: fails with [`BitcoinError::ZeroAmount`], [`BitcoinError::InvalidTimelock`]
    /// (outside 1..=65,535), [`BitcoinError::BadTime`], or [`BitcoinError::Ledger`] if the owner
    /// holds less; nothing changes then.
    pub fn lock(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        amount: U256,
        blocks: u64,
        now: u64,
    ) -> Result<u64, BitcoinError> {
        if amount == U256::ZERO {
            return Err(BitcoinError::ZeroAmount);
        }
        if blocks == 0 || blocks > BTC_MAX_RELATIVE_TIMELOCK_BLOCKS {
            return Err(BitcoinError::InvalidTimelock { blocks });
        }
        let h = self.height(now)?;
        ledger.transfer(owner, self.account, self.asset, amount)?;
        let id = self.next_id;
        self.next_id += 1;
        self.outputs.push(TimelockedOutput {
            id,
            owner,
            amount,
            spendable_at: h + blocks,
        });
        Ok(id)
    }

    /// Spends a matured output back to its owner; returns the amount.
    ///
    /// Specification: fails with [`BitcoinError::UnknownOutput`], [`BitcoinError::NotOwner`],
    /// [`BitcoinError::StillLocked`] before `spendable_at`, or [`BitcoinError::BadTime`];
    /// nothing changes then.
    pub fn spend(&mut self, ledger: &mut Ledger, id: u64, owner: AccountId, now: u64) -> Result<U256, BitcoinError> {
        let h = self.height(now)?;
        let i = self
            .outputs
            .iter()
            .position(|o| o.id == id)
            .ok_or(BitcoinError::UnknownOutput { id })?;
        let o = &self.outputs[i];
        if o.owner != owner {
            return Err(BitcoinError::NotOwner { id });
        }
        if h < o.spendable_at {
            return Err(BitcoinError::StillLocked {
                id,
                height: h,
                spendable_at: o.spendable_at,
            });
        }
        let amount = o.amount;
        ledger.transfer(self.account, owner, self.asset, amount)?;
        self.outputs.remove(i);
        Ok(amount)
    }

    /// BTC locked in unspent outputs (satoshi).
    pub fn total_locked(&self) -> Result<U256, MathError> {
        self.outputs.iter().try_fold(U256::ZERO, |a, o| a.add_c(o.amount))
    }

    /// `bitcoin:timelocked` holds exactly Σ unspent outputs.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        let held = ledger.balance(self.account, self.asset);
        let sum = self.total_locked().map_err(|e| e.to_string())?;
        if held != sum {
            return Err(format!("bitcoin:timelocked holds {held} but outputs sum to {sum}"));
        }
        Ok(())
    }
}

impl stake_ledger::StateHash for Bitcoin {
    fn hash_state(&self, h: &mut stake_ledger::blake3::Hasher) {
        stake_ledger::hash_serde(h, self);
    }
}
