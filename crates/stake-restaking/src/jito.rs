//! `jito` model — vault receipt tokens (SPEC §5.3, reference `jito-foundation/restaking`:
//! `vault_core/src/vault.rs`, `delegation_state.rs`, `core/src/slot_toggle.rs`).
//!
//! Time is in Solana slots, grouped in epochs of `epoch_length` slots (a parameter of the
//! restaking config; [`slot_at`] maps the engine's seconds to slots).
//!
//! * [`JitoVault`] is the pure core of one vault (`vrt_supply`, `tokens_deposited`, fees, VRT
//!   withdrawal queue, aggregate [`DelegationState`]); its `mint_with_fee` / `burn_with_fee` /
//!   reward-fee functions are the reference formulas, independent of the ledger.
//! * [`Jito`] is the world: the vaults with their ledger accounts and operator delegations, the
//!   restaking program's NCNs, operators and opt-in tickets ([`SlotToggle`], one-epoch warm-up
//!   and cool-down), withdrawal tickets, the epoch crank and slashing.
//!
//! Ledger: supported tokens of vault `v` sit in `jito:<v>`; VRT of queued withdrawals in
//! `jito:<v>:tickets`; the VRT asset is minted and burned by this module.

// Errors carry the offending values (SPEC §1.3) and the ledger's error by value; rejections are
// the cold path, so the larger `Err` is accepted rather than boxing every variant.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};
use stake_ledger::{blake3, hash_serde, AccountId, AssetId, Ledger, LedgerError, Reject, StateHash};
use stake_math::{mul_div_down, mul_div_up, Checked, MathError, U256};
use std::collections::BTreeMap;
use std::fmt;

/// Fee denominator (`MAX_FEE_BPS`).
pub const MAX_FEE_BPS: u16 = 10_000;
/// Default epoch length in slots (one Solana epoch).
pub const DEFAULT_EPOCH_LENGTH_SLOTS: u64 = 432_000;
/// Default slot time in milliseconds.
pub const DEFAULT_SLOT_MS: u64 = 400;

/// Slot at engine time `now` (seconds), for a chain whose slot 0 was at `genesis` (seconds).
pub fn slot_at(now: u64, genesis: u64, slot_ms: u64) -> u64 {
    if slot_ms == 0 {
        return 0;
    }
    now.saturating_sub(genesis).saturating_mul(1000) / slot_ms
}

fn bps(v: u16) -> U256 {
    U256::from(v)
}

// ---------------------------------------------------------------------------------------------
// Errors and events
// ---------------------------------------------------------------------------------------------

/// Rejections of the Jito model (codes 4300–4399).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JitoError {
    /// Mint of zero.
    MintZero,
    /// `tokens_deposited + amount > capacity`.
    CapacityExceeded {
        /// Tokens after the deposit.
        after: U256,
        /// Capacity.
        capacity: U256,
    },
    /// VRT to the depositor below `min_amount_out`.
    Slippage {
        /// VRT out.
        out: U256,
        /// Minimum asked.
        min_out: U256,
    },
    /// Burn of zero.
    BurnZero,
    /// Burn of more VRT than the supply.
    InsufficientVrtSupply {
        /// VRT to burn.
        amount: U256,
        /// Supply.
        supply: U256,
    },
    /// Tokens out exceed the undelegated tokens.
    InsufficientUnstaked {
        /// Tokens out.
        out: U256,
        /// Tokens not delegated.
        available: U256,
    },
    /// The vault must be cranked (`update_vault`) for the current epoch first.
    UpdateNeeded {
        /// Epoch of the last full update.
        last_epoch: u64,
        /// Current epoch.
        current: u64,
    },
    /// No vault, NCN or operator with this name.
    Unknown {
        /// Name.
        name: String,
    },
    /// The name is taken.
    Duplicate {
        /// Name.
        name: String,
    },
    /// No withdrawal ticket with this id.
    UnknownTicket {
        /// Ticket id.
        id: u64,
    },
    /// The ticket is not withdrawable yet (`epoch > epoch(unstake) + 1` needed).
    TicketNotWithdrawable {
        /// Ticket id.
        id: u64,
        /// Current epoch.
        epoch: u64,
        /// Epoch of the unstake.
        unstake_epoch: u64,
    },
    /// The caller does not own the ticket.
    NotTicketOwner {
        /// Ticket id.
        id: u64,
    },
    /// Delegation of zero.
    DelegationZero,
    /// Delegation above what the vault may delegate (`tokens − security − reserve for VRT`).
    InsufficientDelegatable {
        /// Amount asked.
        amount: U256,
        /// Available.
        available: U256,
    },
    /// Cooldown of zero.
    CooldownZero,
    /// Cooldown above the operator's staked amount.
    InsufficientStaked {
        /// Operator.
        operator: String,
        /// Staked.
        staked: U256,
        /// Amount asked.
        amount: U256,
    },
    /// A ticket transition not allowed in its current state (warm-up needs Inactive, cool-down Active).
    TicketState {
        /// Ticket description `kind:a→b`.
        ticket: String,
        /// Its state.
        state: ToggleState,
    },
    /// A required opt-in ticket is not active (or cooling down, for slashing).
    NotConnected {
        /// Ticket description.
        ticket: String,
    },
    /// Slash above the operator's total security.
    SlashExceedsSecurity {
        /// Amount.
        amount: U256,
        /// Operator's security (staked + enqueued + cooling).
        security: U256,
    },
    /// A fee above 10,000 bps.
    InvalidFee {
        /// Fee.
        bps: u16,
    },
    /// Epoch length zero.
    InvalidEpochLength,
    /// Ledger failure.
    Ledger(LedgerError),
    /// Arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for JitoError {
    fn from(e: LedgerError) -> Self {
        JitoError::Ledger(e)
    }
}

impl From<MathError> for JitoError {
    fn from(e: MathError) -> Self {
        JitoError::Math(e)
    }
}

impl fmt::Display for JitoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use JitoError::*;
        match self {
            MintZero => write!(f, "mint amount is zero"),
            CapacityExceeded { after, capacity } => {
                write!(f, "vault capacity {capacity} exceeded ({after})")
            }
            Slippage { out, min_out } => write!(f, "slippage: {out} VRT out < minimum {min_out}"),
            BurnZero => write!(f, "burn amount is zero"),
            InsufficientVrtSupply { amount, supply } => {
                write!(f, "burn of {amount} VRT exceeds supply {supply}")
            }
            InsufficientUnstaked { out, available } => {
                write!(f, "{out} tokens out exceed the {available} undelegated tokens")
            }
            UpdateNeeded { last_epoch, current } => {
                write!(
                    f,
                    "vault update needed: last updated in epoch {last_epoch}, now {current}"
                )
            }
            Unknown { name } => write!(f, "unknown {name}"),
            Duplicate { name } => write!(f, "{name} already exists"),
            UnknownTicket { id } => write!(f, "unknown withdrawal ticket {id}"),
            TicketNotWithdrawable {
                id,
                epoch,
                unstake_epoch,
            } => {
                write!(
                    f,
                    "ticket {id} unstaked in epoch {unstake_epoch} is not withdrawable in epoch {epoch}"
                )
            }
            NotTicketOwner { id } => write!(f, "not the owner of ticket {id}"),
            DelegationZero => write!(f, "delegation amount is zero"),
            InsufficientDelegatable { amount, available } => {
                write!(f, "delegation of {amount} exceeds the {available} available")
            }
            CooldownZero => write!(f, "cooldown amount is zero"),
            InsufficientStaked {
                operator,
                staked,
                amount,
            } => {
                write!(f, "operator {operator} has {staked} staked, {amount} asked")
            }
            TicketState { ticket, state } => write!(f, "ticket {ticket} is {state:?}"),
            NotConnected { ticket } => write!(f, "ticket {ticket} is not active"),
            SlashExceedsSecurity { amount, security } => {
                write!(f, "slash {amount} exceeds security {security}")
            }
            InvalidFee { bps } => write!(f, "fee {bps} bps exceeds 10000"),
            InvalidEpochLength => write!(f, "epoch length must be positive"),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for JitoError {}

impl Reject for JitoError {
    fn code(&self) -> u32 {
        use JitoError::*;
        match self {
            MintZero => 4300,
            CapacityExceeded { .. } => 4301,
            Slippage { .. } => 4302,
            BurnZero => 4303,
            InsufficientVrtSupply { .. } => 4304,
            InsufficientUnstaked { .. } => 4305,
            UpdateNeeded { .. } => 4306,
            Unknown { .. } => 4307,
            Duplicate { .. } => 4308,
            UnknownTicket { .. } => 4309,
            TicketNotWithdrawable { .. } => 4310,
            NotTicketOwner { .. } => 4311,
            DelegationZero => 4312,
            InsufficientDelegatable { .. } => 4313,
            CooldownZero => 4314,
            InsufficientStaked { .. } => 4315,
            TicketState { .. } => 4316,
            NotConnected { .. } => 4317,
            SlashExceedsSecurity { .. } => 4318,
            InvalidFee { .. } => 4319,
            InvalidEpochLength => 4320,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}

/// Result of a Jito operation.
pub type JitoResult<T> = Result<T, JitoError>;

/// Events of the Jito model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JitoEvent {
    /// VRT minted for a deposit.
    Mint {
        /// Vault.
        vault: String,
        /// Depositor.
        staker: AccountId,
        /// Tokens in.
        amount_in: U256,
        /// VRT to the depositor.
        vrt_to_depositor: U256,
        /// VRT to the fee wallet.
        vrt_to_fee_wallet: U256,
    },
    /// VRT enqueued for withdrawal.
    EnqueueWithdrawal {
        /// Vault.
        vault: String,
        /// Ticket id.
        ticket: u64,
        /// Staker.
        staker: AccountId,
        /// VRT escrowed.
        vrt_amount: U256,
        /// Slot of the unstake.
        slot: u64,
    },
    /// A withdrawal ticket was burned and paid.
    BurnWithdrawalTicket {
        /// Vault.
        vault: String,
        /// Ticket id.
        ticket: u64,
        /// Program fee (VRT).
        program_fee: U256,
        /// Vault fee (VRT).
        vault_fee: U256,
        /// VRT burned.
        burned: U256,
        /// Tokens paid.
        out: U256,
    },
    /// Reward fee taken on a balance update.
    UpdateBalance {
        /// Vault.
        vault: String,
        /// New token balance.
        new_balance: U256,
        /// Reward fee in tokens.
        st_fee: U256,
        /// Reward fee minted in VRT.
        vrt_fee: U256,
    },
    /// Epoch crank.
    UpdateVault {
        /// Vault.
        vault: String,
        /// Epoch reached.
        epoch: u64,
        /// Assets cooled down to meet withdrawals.
        cooled_down: U256,
    },
    /// Delegation added or cooled down.
    Delegation {
        /// Vault.
        vault: String,
        /// Operator.
        operator: String,
        /// Amount (positive: add, in `cooldown` false; cooldown: true).
        amount: U256,
        /// True for a cooldown.
        cooldown: bool,
    },
    /// An opt-in ticket changed.
    Ticket {
        /// Ticket description.
        ticket: String,
        /// True for warm-up, false for cool-down.
        warmup: bool,
        /// Slot.
        slot: u64,
    },
    /// An operator's delegation was slashed.
    Slash {
        /// Vault.
        vault: String,
        /// NCN.
        ncn: String,
        /// Operator.
        operator: String,
        /// Amount slashed (tokens).
        amount: U256,
    },
}

// ---------------------------------------------------------------------------------------------
// SlotToggle and DelegationState
// ---------------------------------------------------------------------------------------------

/// State of a [`SlotToggle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToggleState {
    /// Off.
    Inactive,
    /// Activated; active after one full epoch.
    WarmUp,
    /// On.
    Active,
    /// Deactivated; inactive once its epoch has ended.
    Cooldown,
}

/// Activation tracker of an opt-in ticket (`core/src/slot_toggle.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotToggle {
    /// Slot of the latest activation.
    pub slot_added: u64,
    /// Slot of the latest deactivation.
    pub slot_removed: u64,
}

impl SlotToggle {
    /// An inactive toggle created at `slot`.
    pub fn new(slot: u64) -> Self {
        Self {
            slot_added: slot,
            slot_removed: slot,
        }
    }

    /// State at `slot`: warm-up until `epoch > epoch(added) + 1`, cool-down until
    /// `epoch > epoch(removed)`.
    pub fn state(&self, slot: u64, epoch_length: u64) -> ToggleState {
        let el = epoch_length.max(1);
        let e = slot / el;
        match self.slot_added.cmp(&self.slot_removed) {
            std::cmp::Ordering::Equal => ToggleState::Inactive,
            std::cmp::Ordering::Less => {
                if e > self.slot_removed / el {
                    ToggleState::Inactive
                } else {
                    ToggleState::Cooldown
                }
            }
            std::cmp::Ordering::Greater => {
                if e > self.slot_added / el + 1 {
                    ToggleState::Active
                } else {
                    ToggleState::WarmUp
                }
            }
        }
    }

    /// Activates (only from Inactive, and not in the slot of creation); returns success.
    pub fn activate(&mut self, slot: u64, epoch_length: u64) -> bool {
        if self.state(slot, epoch_length) == ToggleState::Inactive && self.slot_added != slot {
            self.slot_added = slot;
            true
        } else {
            false
        }
    }

    /// Deactivates (only from Active); returns success.
    pub fn deactivate(&mut self, slot: u64, epoch_length: u64) -> bool {
        if self.state(slot, epoch_length) == ToggleState::Active {
            self.slot_removed = slot;
            true
        } else {
            false
        }
    }

    /// Active or cooling down (still slashable).
    pub fn is_active_or_cooldown(&self, slot: u64, epoch_length: u64) -> bool {
        matches!(
            self.state(slot, epoch_length),
            ToggleState::Active | ToggleState::Cooldown
        )
    }
}

/// Stake of a vault at an operator (`delegation_state.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationState {
    /// Active stake.
    pub staked: U256,
    /// Deactivated this epoch.
    pub enqueued_for_cooldown: U256,
    /// Deactivated last epoch.
    pub cooling_down: U256,
}

impl DelegationState {
    /// `staked + enqueued + cooling` (all of it is security and slashable).
    pub fn total_security(&self) -> JitoResult<U256> {
        Ok(self
            .staked
            .add_c(self.enqueued_for_cooldown)?
            .add_c(self.cooling_down)?)
    }

    /// Epoch roll: cooling ← enqueued, enqueued ← 0 (the previous cooling becomes free).
    pub fn update(&mut self) {
        self.cooling_down = self.enqueued_for_cooldown;
        self.enqueued_for_cooldown = U256::ZERO;
    }

    /// Adds stake. Fails with `DelegationZero` for zero.
    pub fn delegate(&mut self, amount: U256) -> JitoResult<()> {
        if amount == U256::ZERO {
            return Err(JitoError::DelegationZero);
        }
        self.staked = self.staked.add_c(amount)?;
        Ok(())
    }

    /// Moves stake to the cool-down queue. Fails with `CooldownZero` for zero and
    /// `Math(Underflow)` above the staked amount.
    pub fn cooldown(&mut self, amount: U256) -> JitoResult<()> {
        if amount == U256::ZERO {
            return Err(JitoError::CooldownZero);
        }
        let staked = self.staked.sub_c(amount)?;
        let enq = self.enqueued_for_cooldown.add_c(amount)?;
        self.staked = staked;
        self.enqueued_for_cooldown = enq;
        Ok(())
    }

    /// Slashes in the order staked → enqueued → cooling. Fails with `SlashExceedsSecurity` above
    /// the total security (and changes nothing then).
    pub fn slash(&mut self, amount: U256) -> JitoResult<()> {
        let security = self.total_security()?;
        if amount > security {
            return Err(JitoError::SlashExceedsSecurity { amount, security });
        }
        let mut rem = amount;
        for slot in [
            &mut self.staked,
            &mut self.enqueued_for_cooldown,
            &mut self.cooling_down,
        ] {
            let take = (*slot).min(rem);
            *slot -= take;
            rem -= take;
        }
        Ok(())
    }

    /// Field-wise sum.
    pub fn accumulate(&mut self, other: &Self) -> JitoResult<()> {
        self.staked = self.staked.add_c(other.staked)?;
        self.enqueued_for_cooldown = self.enqueued_for_cooldown.add_c(other.enqueued_for_cooldown)?;
        self.cooling_down = self.cooling_down.add_c(other.cooling_down)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Vault core
// ---------------------------------------------------------------------------------------------

/// Result of a mint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintSummary {
    /// VRT to the depositor.
    pub vrt_to_depositor: U256,
    /// VRT to the fee wallet.
    pub vrt_to_fee_wallet: U256,
}

/// Result of a burn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurnSummary {
    /// Program fee (VRT, rounded up, taken first).
    pub program_fee_amount: U256,
    /// Vault fee (VRT, rounded up, capped at what the program fee leaves).
    pub vault_fee_amount: U256,
    /// VRT burned.
    pub burn_amount: U256,
    /// Tokens paid out, `⌊burn·tokens/supply⌋`.
    pub out_amount: U256,
}

/// The pure accounting core of a Jito vault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JitoVault {
    /// VRT supply.
    pub vrt_supply: U256,
    /// Supported tokens accounted for.
    pub tokens_deposited: U256,
    /// Deposit capacity.
    pub capacity: U256,
    /// Deposit fee (bps of VRT minted, rounded up).
    pub deposit_fee_bps: u16,
    /// Withdrawal fee (bps of VRT burned, rounded up).
    pub withdrawal_fee_bps: u16,
    /// Reward fee (bps of token rewards, rounded up).
    pub reward_fee_bps: u16,
    /// Program fee (bps of VRT burned, rounded up, priority over the vault fee).
    pub program_fee_bps: u16,
    /// Aggregate delegation over operators.
    pub delegation_state: DelegationState,
    /// VRT enqueued this epoch.
    pub vrt_enqueued_for_cooldown: U256,
    /// VRT enqueued last epoch.
    pub vrt_cooling_down: U256,
    /// VRT whose tickets are claimable.
    pub vrt_ready_to_claim: U256,
    /// Slot of the last full epoch update.
    pub last_full_state_update_slot: u64,
}

impl JitoVault {
    /// `vrt = tokens == 0 ? amount : ⌊amount·supply/tokens⌋`.
    pub fn calculate_vrt_mint_amount(&self, amount: U256) -> JitoResult<U256> {
        if self.tokens_deposited == U256::ZERO {
            return Ok(amount);
        }
        Ok(mul_div_down(amount, self.vrt_supply, self.tokens_deposited)?)
    }

    /// `mint_with_fee`: mints VRT for `amount_in` tokens, the deposit fee `⌈vrt·fee/1e4⌉` going
    /// to the fee wallet.
    ///
    /// Specification:
    /// - fails with `MintZero` if `amount_in == 0`;
    /// - fails with `CapacityExceeded` if `tokens + amount_in > capacity`;
    /// - fails with `Slippage` if the depositor's VRT is below `min_amount_out`.
    pub fn mint_with_fee(&mut self, amount_in: U256, min_amount_out: U256) -> JitoResult<MintSummary> {
        if amount_in == U256::ZERO {
            return Err(JitoError::MintZero);
        }
        let after = self.tokens_deposited.add_c(amount_in)?;
        if after > self.capacity {
            return Err(JitoError::CapacityExceeded {
                after,
                capacity: self.capacity,
            });
        }
        let vrt = self.calculate_vrt_mint_amount(amount_in)?;
        let fee = mul_div_up(vrt, bps(self.deposit_fee_bps), bps(MAX_FEE_BPS))?;
        let to_depositor = vrt.sub_c(fee)?;
        if to_depositor < min_amount_out {
            return Err(JitoError::Slippage {
                out: to_depositor,
                min_out: min_amount_out,
            });
        }
        let supply = self.vrt_supply.add_c(vrt)?;
        self.vrt_supply = supply;
        self.tokens_deposited = after;
        Ok(MintSummary {
            vrt_to_depositor: to_depositor,
            vrt_to_fee_wallet: fee,
        })
    }

    /// Fees and output of burning `amount_in` VRT (no mutation).
    pub fn calculate_burn_summary(&self, amount_in: U256) -> JitoResult<BurnSummary> {
        let program_fee = mul_div_up(amount_in, bps(self.program_fee_bps), bps(MAX_FEE_BPS))?;
        let mut vault_fee = mul_div_up(amount_in, bps(self.withdrawal_fee_bps), bps(MAX_FEE_BPS))?;
        if program_fee.add_c(vault_fee)? > amount_in {
            vault_fee = amount_in.sub_c(program_fee)?;
        }
        let burn = amount_in.sub_c(program_fee)?.sub_c(vault_fee)?;
        let out = if self.vrt_supply == U256::ZERO {
            U256::ZERO
        } else {
            mul_div_down(burn, self.tokens_deposited, self.vrt_supply)?
        };
        Ok(BurnSummary {
            program_fee_amount: program_fee,
            vault_fee_amount: vault_fee,
            burn_amount: burn,
            out_amount: out,
        })
    }

    /// `burn_with_fee`: burns VRT (after fees) for tokens.
    ///
    /// Specification:
    /// - fails with `BurnZero` if `amount_in == 0`;
    /// - fails with `InsufficientVrtSupply` if `amount_in > vrt_supply`;
    /// - fails with `InsufficientUnstaked` if the tokens out exceed `tokens − total security`.
    pub fn burn_with_fee(&mut self, amount_in: U256) -> JitoResult<BurnSummary> {
        if amount_in == U256::ZERO {
            return Err(JitoError::BurnZero);
        }
        if amount_in > self.vrt_supply {
            return Err(JitoError::InsufficientVrtSupply {
                amount: amount_in,
                supply: self.vrt_supply,
            });
        }
        let s = self.calculate_burn_summary(amount_in)?;
        let available = self.tokens_deposited.sub_c(self.delegation_state.total_security()?)?;
        if s.out_amount > available {
            return Err(JitoError::InsufficientUnstaked {
                out: s.out_amount,
                available,
            });
        }
        let supply = self.vrt_supply.sub_c(s.burn_amount)?;
        let tokens = self.tokens_deposited.sub_c(s.out_amount)?;
        self.vrt_supply = supply;
        self.tokens_deposited = tokens;
        Ok(s)
    }

    /// Reward fee on a balance update: `stFee = ⌈(newBal − tokens)·rewardFee/1e4⌉` (0 without
    /// rewards) and `vrtFee = ⌊stFee·supply/(newBal − stFee)⌋` (`stFee` if `newBal − stFee == 0`).
    pub fn reward_fee(&self, new_balance: U256) -> JitoResult<(U256, U256)> {
        let rewards = new_balance.saturating_sub(self.tokens_deposited);
        if rewards == U256::ZERO {
            return Ok((U256::ZERO, U256::ZERO));
        }
        let st_fee = mul_div_up(rewards, bps(self.reward_fee_bps), bps(MAX_FEE_BPS))?;
        let base = new_balance.sub_c(st_fee)?;
        let vrt_fee = if base == U256::ZERO {
            st_fee
        } else {
            mul_div_down(st_fee, self.vrt_supply, base)?
        };
        Ok((st_fee, vrt_fee))
    }

    /// Applies a balance update: tokens ← `new_balance`, supply += VRT reward fee. Returns
    /// `(st_fee, vrt_fee)`.
    pub fn update_vault_balance(&mut self, new_balance: U256) -> JitoResult<(U256, U256)> {
        let (st, vrt) = self.reward_fee(new_balance)?;
        let supply = self.vrt_supply.add_c(vrt)?;
        self.vrt_supply = supply;
        self.tokens_deposited = new_balance;
        Ok((st, vrt))
    }

    /// Tokens reserved for queued VRT: the burn output of `enqueued + cooling + ready`.
    pub fn assets_reserved_for_withdrawals(&self) -> JitoResult<U256> {
        if self.vrt_supply == U256::ZERO {
            return Ok(U256::ZERO);
        }
        let q = self
            .vrt_enqueued_for_cooldown
            .add_c(self.vrt_cooling_down)?
            .add_c(self.vrt_ready_to_claim)?;
        Ok(self.calculate_burn_summary(q)?.out_amount)
    }

    /// Tokens available for delegation: `tokens − security − reserved for withdrawals`.
    pub fn delegatable(&self) -> JitoResult<U256> {
        Ok(self
            .tokens_deposited
            .sub_c(self.delegation_state.total_security()?)?
            .saturating_sub(self.assets_reserved_for_withdrawals()?))
    }
}

// ---------------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------------

/// Which opt-in ticket (each side of a relation has its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TicketKind {
    /// NCN supports an operator (`NcnOperatorState.ncn_opt_in_state`).
    NcnOperator,
    /// Operator supports an NCN (`NcnOperatorState.operator_opt_in_state`).
    OperatorNcn,
    /// NCN supports a vault (`NcnVaultTicket`).
    NcnVault,
    /// Vault supports an NCN (`VaultNcnTicket`).
    VaultNcn,
    /// Operator supports a vault (`OperatorVaultTicket`).
    OperatorVault,
    /// Vault supports an operator (`VaultOperatorDelegation` opted in).
    VaultOperator,
}

/// A staker's withdrawal ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalTicket {
    /// Owner.
    pub staker: AccountId,
    /// VRT escrowed.
    pub vrt_amount: U256,
    /// Slot of the unstake.
    pub slot_unstaked: u64,
}

/// Parameters of a new vault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JitoVaultParams {
    /// Vault name (module accounts `jito:<name>` and `jito:<name>:tickets`).
    pub name: String,
    /// Supported token.
    pub supported: AssetId,
    /// VRT symbol to register (decimals of the supported token).
    pub vrt_symbol: String,
    /// Fee wallet account name.
    pub fee_wallet: String,
    /// Deposit capacity.
    pub capacity: U256,
    /// Deposit fee bps.
    pub deposit_fee_bps: u16,
    /// Withdrawal fee bps.
    pub withdrawal_fee_bps: u16,
    /// Reward fee bps.
    pub reward_fee_bps: u16,
}

/// A vault in the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JitoVaultEntry {
    /// Accounting core.
    pub core: JitoVault,
    /// Supported token.
    pub supported: AssetId,
    /// VRT asset.
    pub vrt: AssetId,
    /// Token account.
    pub account: AccountId,
    /// VRT escrow of withdrawal tickets.
    pub ticket_account: AccountId,
    /// Vault fee wallet.
    pub fee_wallet: AccountId,
    /// Delegation per operator.
    pub operators: BTreeMap<String, DelegationState>,
    /// Open withdrawal tickets.
    pub tickets: BTreeMap<u64, WithdrawalTicket>,
}

/// The Jito restaking world: config, NCNs, operators, tickets, vaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jito {
    /// Epoch length in slots.
    pub epoch_length: u64,
    /// Program fee bps on withdrawals.
    pub program_fee_bps: u16,
    /// Program fee wallet.
    pub program_fee_wallet: AccountId,
    /// Registered NCNs.
    pub ncns: Vec<String>,
    /// Registered operators.
    pub operators: Vec<String>,
    /// Opt-in tickets by (kind, from, to).
    pub tickets: BTreeMap<(TicketKind, String, String), SlotToggle>,
    /// Vaults by name.
    pub vaults: BTreeMap<String, JitoVaultEntry>,
    /// Next withdrawal ticket id.
    pub next_ticket: u64,
}

impl StateHash for Jito {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

impl Jito {
    /// A new world.
    ///
    /// Specification:
    /// - fails with `InvalidEpochLength` if `epoch_length == 0`;
    /// - fails with `InvalidFee` if `program_fee_bps > 10000`.
    pub fn new(
        ledger: &mut Ledger,
        epoch_length: u64,
        program_fee_bps: u16,
        program_fee_wallet: &str,
    ) -> JitoResult<Self> {
        if epoch_length == 0 {
            return Err(JitoError::InvalidEpochLength);
        }
        if program_fee_bps > MAX_FEE_BPS {
            return Err(JitoError::InvalidFee { bps: program_fee_bps });
        }
        Ok(Self {
            epoch_length,
            program_fee_bps,
            program_fee_wallet: ledger.account(program_fee_wallet),
            ncns: Vec::new(),
            operators: Vec::new(),
            tickets: BTreeMap::new(),
            vaults: BTreeMap::new(),
            next_ticket: 0,
        })
    }

    /// Epoch of a slot.
    pub fn epoch(&self, slot: u64) -> u64 {
        slot / self.epoch_length
    }

    fn vault(&self, name: &str) -> JitoResult<&JitoVaultEntry> {
        self.vaults.get(name).ok_or_else(|| JitoError::Unknown {
            name: format!("vault {name}"),
        })
    }

    fn check_updated(&self, v: &JitoVaultEntry, slot: u64) -> JitoResult<()> {
        let last_epoch = self.epoch(v.core.last_full_state_update_slot);
        let current = self.epoch(slot);
        if last_epoch < current {
            return Err(JitoError::UpdateNeeded { last_epoch, current });
        }
        Ok(())
    }

    /// Creates a vault at `slot` and registers its VRT asset.
    ///
    /// Specification:
    /// - fails with `Duplicate` if the name is taken;
    /// - fails with `InvalidFee` for a fee above 10,000 bps;
    /// - fails with `Ledger(DuplicateAsset)` if the VRT symbol exists.
    pub fn initialize_vault(
        &mut self,
        ledger: &mut Ledger,
        p: JitoVaultParams,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        if self.vaults.contains_key(&p.name) {
            return Err(JitoError::Duplicate {
                name: format!("vault {}", p.name),
            });
        }
        for f in [p.deposit_fee_bps, p.withdrawal_fee_bps, p.reward_fee_bps] {
            if f > MAX_FEE_BPS {
                return Err(JitoError::InvalidFee { bps: f });
            }
        }
        let decimals = ledger.asset_info(p.supported)?.decimals;
        let entry = ledger.atomic(|l| -> JitoResult<JitoVaultEntry> {
            let vrt = l.register_asset(&p.vrt_symbol, decimals, "jito", stake_ledger::AssetKind::Plain)?;
            Ok(JitoVaultEntry {
                core: JitoVault {
                    capacity: p.capacity,
                    deposit_fee_bps: p.deposit_fee_bps,
                    withdrawal_fee_bps: p.withdrawal_fee_bps,
                    reward_fee_bps: p.reward_fee_bps,
                    program_fee_bps: self.program_fee_bps,
                    last_full_state_update_slot: slot,
                    ..JitoVault::default()
                },
                supported: p.supported,
                vrt,
                account: l.account(&format!("jito:{}", p.name)),
                ticket_account: l.account(&format!("jito:{}:tickets", p.name)),
                fee_wallet: l.account(&p.fee_wallet),
                operators: BTreeMap::new(),
                tickets: BTreeMap::new(),
            })
        })?;
        self.vaults.insert(p.name, entry);
        Ok(Vec::new())
    }

    /// Registers an NCN. Fails with `Duplicate` if it exists.
    ///
    /// Specification:
    /// - fails with `Duplicate` if the NCN exists.
    pub fn initialize_ncn(&mut self, name: &str) -> JitoResult<Vec<JitoEvent>> {
        if self.ncns.iter().any(|n| n == name) {
            return Err(JitoError::Duplicate {
                name: format!("ncn {name}"),
            });
        }
        self.ncns.push(name.to_string());
        Ok(Vec::new())
    }

    /// Registers an operator.
    ///
    /// Specification:
    /// - fails with `Duplicate` if the operator exists.
    pub fn initialize_operator(&mut self, name: &str) -> JitoResult<Vec<JitoEvent>> {
        if self.operators.iter().any(|n| n == name) {
            return Err(JitoError::Duplicate {
                name: format!("operator {name}"),
            });
        }
        self.operators.push(name.to_string());
        Ok(Vec::new())
    }

    fn check_entity(&self, kind: &str, name: &str) -> JitoResult<()> {
        let ok = match kind {
            "ncn" => self.ncns.iter().any(|n| n == name),
            "operator" => self.operators.iter().any(|n| n == name),
            _ => self.vaults.contains_key(name),
        };
        if ok {
            Ok(())
        } else {
            Err(JitoError::Unknown {
                name: format!("{kind} {name}"),
            })
        }
    }

    fn ticket_entities(kind: TicketKind) -> (&'static str, &'static str) {
        match kind {
            TicketKind::NcnOperator => ("ncn", "operator"),
            TicketKind::OperatorNcn => ("operator", "ncn"),
            TicketKind::NcnVault => ("ncn", "vault"),
            TicketKind::VaultNcn => ("vault", "ncn"),
            TicketKind::OperatorVault => ("operator", "vault"),
            TicketKind::VaultOperator => ("vault", "operator"),
        }
    }

    fn ticket_name(kind: TicketKind, from: &str, to: &str) -> String {
        format!("{kind:?}:{from}->{to}")
    }

    /// State of an opt-in ticket at `slot` (Inactive if never created).
    pub fn ticket_state(&self, kind: TicketKind, from: &str, to: &str, slot: u64) -> ToggleState {
        self.tickets
            .get(&(kind, from.to_string(), to.to_string()))
            .map(|t| t.state(slot, self.epoch_length))
            .unwrap_or(ToggleState::Inactive)
    }

    /// Warms up (`warmup = true`) or cools down an opt-in ticket.
    ///
    /// Specification:
    /// - fails with `Unknown` if either entity is not registered;
    /// - fails with `TicketState` if warming up a ticket that is not Inactive (or in its creation
    ///   slot), or cooling down one that is not Active.
    pub fn toggle_ticket(
        &mut self,
        kind: TicketKind,
        from: &str,
        to: &str,
        warmup: bool,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let (ka, kb) = Self::ticket_entities(kind);
        self.check_entity(ka, from)?;
        self.check_entity(kb, to)?;
        let key = (kind, from.to_string(), to.to_string());
        let mut t = self.tickets.get(&key).copied().unwrap_or_default();
        let ok = if warmup {
            t.activate(slot, self.epoch_length)
        } else {
            t.deactivate(slot, self.epoch_length)
        };
        if !ok {
            return Err(JitoError::TicketState {
                ticket: Self::ticket_name(kind, from, to),
                state: t.state(slot, self.epoch_length),
            });
        }
        self.tickets.insert(key, t);
        Ok(vec![JitoEvent::Ticket {
            ticket: Self::ticket_name(kind, from, to),
            warmup,
            slot,
        }])
    }

    fn require_ticket(
        &self,
        kind: TicketKind,
        from: &str,
        to: &str,
        slot: u64,
        allow_cooldown: bool,
    ) -> JitoResult<()> {
        let s = self.ticket_state(kind, from, to, slot);
        let ok = s == ToggleState::Active || (allow_cooldown && s == ToggleState::Cooldown);
        if ok {
            Ok(())
        } else {
            Err(JitoError::NotConnected {
                ticket: Self::ticket_name(kind, from, to),
            })
        }
    }

    /// Deposits `amount_in` supported tokens from `staker` and mints VRT (`mint_with_fee`).
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch;
    /// - fails as [`JitoVault::mint_with_fee`] (`MintZero`, `CapacityExceeded`, `Slippage`);
    /// - fails with `Ledger(InsufficientBalance)` if the staker lacks the tokens.
    pub fn mint_to(
        &mut self,
        ledger: &mut Ledger,
        vault: &str,
        staker: AccountId,
        amount_in: U256,
        min_amount_out: U256,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        self.check_updated(v, slot)?;
        let mut core = v.core.clone();
        let s = core.mint_with_fee(amount_in, min_amount_out)?;
        let (supported, vrt, account, fee_wallet) = (v.supported, v.vrt, v.account, v.fee_wallet);
        ledger.atomic(|l| -> Result<(), LedgerError> {
            l.transfer(staker, account, supported, amount_in)?;
            l.mint(staker, vrt, s.vrt_to_depositor)?;
            l.mint(fee_wallet, vrt, s.vrt_to_fee_wallet)
        })?;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.core = core;
        }
        Ok(vec![JitoEvent::Mint {
            vault: vault.to_string(),
            staker,
            amount_in,
            vrt_to_depositor: s.vrt_to_depositor,
            vrt_to_fee_wallet: s.vrt_to_fee_wallet,
        }])
    }

    /// Escrows `vrt_amount` VRT of `staker` in a new withdrawal ticket.
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch;
    /// - fails with `BurnZero` for zero;
    /// - fails with `Ledger(InsufficientBalance)` if the staker lacks the VRT.
    pub fn enqueue_withdrawal(
        &mut self,
        ledger: &mut Ledger,
        vault: &str,
        staker: AccountId,
        vrt_amount: U256,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        self.check_updated(v, slot)?;
        if vrt_amount == U256::ZERO {
            return Err(JitoError::BurnZero);
        }
        let enq = v.core.vrt_enqueued_for_cooldown.add_c(vrt_amount)?;
        ledger.transfer(staker, v.ticket_account, v.vrt, vrt_amount)?;
        let id = self.next_ticket;
        self.next_ticket += 1;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.core.vrt_enqueued_for_cooldown = enq;
            v.tickets.insert(
                id,
                WithdrawalTicket {
                    staker,
                    vrt_amount,
                    slot_unstaked: slot,
                },
            );
        }
        Ok(vec![JitoEvent::EnqueueWithdrawal {
            vault: vault.to_string(),
            ticket: id,
            staker,
            vrt_amount,
            slot,
        }])
    }

    /// Burns a withdrawal ticket: program fee VRT to the program wallet, vault fee VRT to the
    /// fee wallet, the rest burned for tokens paid to the staker.
    ///
    /// Specification:
    /// - fails with `Unknown` / `UnknownTicket` for an unknown vault or ticket;
    /// - fails with `NotTicketOwner` if `staker` does not own it;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch;
    /// - fails with `TicketNotWithdrawable` unless `epoch > epoch(unstake) + 1`;
    /// - fails as [`JitoVault::burn_with_fee`] (`InsufficientUnstaked`, …).
    pub fn burn_withdrawal_ticket(
        &mut self,
        ledger: &mut Ledger,
        vault: &str,
        staker: AccountId,
        ticket: u64,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        let t = v
            .tickets
            .get(&ticket)
            .cloned()
            .ok_or(JitoError::UnknownTicket { id: ticket })?;
        if t.staker != staker {
            return Err(JitoError::NotTicketOwner { id: ticket });
        }
        self.check_updated(v, slot)?;
        let epoch = self.epoch(slot);
        let unstake_epoch = self.epoch(t.slot_unstaked);
        if epoch <= unstake_epoch + 1 {
            return Err(JitoError::TicketNotWithdrawable {
                id: ticket,
                epoch,
                unstake_epoch,
            });
        }
        let mut core = v.core.clone();
        let s = core.burn_with_fee(t.vrt_amount)?;
        core.vrt_ready_to_claim = core.vrt_ready_to_claim.sub_c(t.vrt_amount)?;
        let (vrt, supported, account, tacc, fee_wallet) =
            (v.vrt, v.supported, v.account, v.ticket_account, v.fee_wallet);
        let pw = self.program_fee_wallet;
        ledger.atomic(|l| -> Result<(), LedgerError> {
            l.transfer(tacc, pw, vrt, s.program_fee_amount)?;
            l.transfer(tacc, fee_wallet, vrt, s.vault_fee_amount)?;
            l.burn(tacc, vrt, s.burn_amount)?;
            l.transfer(account, staker, supported, s.out_amount)
        })?;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.core = core;
            v.tickets.remove(&ticket);
        }
        Ok(vec![JitoEvent::BurnWithdrawalTicket {
            vault: vault.to_string(),
            ticket,
            program_fee: s.program_fee_amount,
            vault_fee: s.vault_fee_amount,
            burned: s.burn_amount,
            out: s.out_amount,
        }])
    }

    /// `update_vault_balance`: reads the vault's token balance (rewards arrive as transfers into
    /// `jito:<vault>`), takes the reward fee in VRT to the fee wallet.
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch.
    pub fn update_vault_balance(&mut self, ledger: &mut Ledger, vault: &str, slot: u64) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        self.check_updated(v, slot)?;
        let new_balance = ledger.balance(v.account, v.supported);
        let mut core = v.core.clone();
        let (st_fee, vrt_fee) = core.update_vault_balance(new_balance)?;
        ledger.mint(v.fee_wallet, v.vrt, vrt_fee)?;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.core = core;
        }
        Ok(vec![JitoEvent::UpdateBalance {
            vault: vault.to_string(),
            new_balance,
            st_fee,
            vrt_fee,
        }])
    }

    /// Epoch crank (`initialize/crank/close_vault_update_state_tracker`): applies the epoch roll
    /// (once per passed epoch, at most twice) to every operator delegation and to the VRT queue
    /// (ready += cooling, cooling ← enqueued), then cools down operator stake, in operator name
    /// order, until the tokens reserved for queued VRT are covered. No-op within an epoch.
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault.
    pub fn update_vault(&mut self, vault: &str, slot: u64) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        let last = self.epoch(v.core.last_full_state_update_slot);
        let now = self.epoch(slot);
        if now <= last {
            return Ok(Vec::new());
        }
        let mut v = v.clone();
        let rolls = (now - last).min(2);
        for _ in 0..rolls {
            for d in v.operators.values_mut() {
                d.update();
            }
            v.core.vrt_ready_to_claim = v.core.vrt_ready_to_claim.add_c(v.core.vrt_cooling_down)?;
            v.core.vrt_cooling_down = v.core.vrt_enqueued_for_cooldown;
            v.core.vrt_enqueued_for_cooldown = U256::ZERO;
        }
        let mut agg = DelegationState::default();
        for d in v.operators.values() {
            agg.accumulate(d)?;
        }
        v.core.delegation_state = agg;
        // Assets that must be freed: reserved for queued VRT minus what is free or already freeing.
        let needed = v.core.assets_reserved_for_withdrawals()?;
        let undelegated = v.core.tokens_deposited.saturating_sub(agg.total_security()?);
        let freeing = agg.enqueued_for_cooldown.add_c(agg.cooling_down)?;
        let mut remaining = needed.saturating_sub(undelegated.add_c(freeing)?);
        let mut cooled = U256::ZERO;
        for d in v.operators.values_mut() {
            if remaining == U256::ZERO {
                break;
            }
            let amt = d.staked.min(remaining);
            if amt > U256::ZERO {
                d.cooldown(amt)?;
                remaining -= amt;
                cooled = cooled.add_c(amt)?;
            }
        }
        let mut agg = DelegationState::default();
        for d in v.operators.values() {
            agg.accumulate(d)?;
        }
        v.core.delegation_state = agg;
        v.core.last_full_state_update_slot = slot;
        self.vaults.insert(vault.to_string(), v);
        Ok(vec![JitoEvent::UpdateVault {
            vault: vault.to_string(),
            epoch: now,
            cooled_down: cooled,
        }])
    }

    /// Delegates `amount` of the vault's tokens to an operator.
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault or operator;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch;
    /// - fails with `NotConnected` unless the vault→operator and operator→vault tickets are Active;
    /// - fails with `DelegationZero` for zero;
    /// - fails with `InsufficientDelegatable` above `tokens − security − reserved`.
    pub fn add_delegation(
        &mut self,
        vault: &str,
        operator: &str,
        amount: U256,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        self.check_entity("operator", operator)?;
        self.check_updated(v, slot)?;
        self.require_ticket(TicketKind::VaultOperator, vault, operator, slot, false)?;
        self.require_ticket(TicketKind::OperatorVault, operator, vault, slot, false)?;
        if amount == U256::ZERO {
            return Err(JitoError::DelegationZero);
        }
        let available = v.core.delegatable()?;
        if amount > available {
            return Err(JitoError::InsufficientDelegatable { amount, available });
        }
        let mut d = v.operators.get(operator).copied().unwrap_or_default();
        d.delegate(amount)?;
        let mut agg = v.core.delegation_state;
        agg.delegate(amount)?;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.operators.insert(operator.to_string(), d);
            v.core.delegation_state = agg;
        }
        Ok(vec![JitoEvent::Delegation {
            vault: vault.to_string(),
            operator: operator.to_string(),
            amount,
            cooldown: false,
        }])
    }

    /// Moves `amount` of an operator's stake to the cool-down queue (free after the next epoch roll
    /// but one).
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch;
    /// - fails with `CooldownZero` for zero;
    /// - fails with `InsufficientStaked` above the operator's staked amount.
    pub fn cooldown_delegation(
        &mut self,
        vault: &str,
        operator: &str,
        amount: U256,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        self.check_updated(v, slot)?;
        if amount == U256::ZERO {
            return Err(JitoError::CooldownZero);
        }
        let mut d = v.operators.get(operator).copied().unwrap_or_default();
        if amount > d.staked {
            return Err(JitoError::InsufficientStaked {
                operator: operator.to_string(),
                staked: d.staked,
                amount,
            });
        }
        d.cooldown(amount)?;
        let mut agg = v.core.delegation_state;
        agg.cooldown(amount)?;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.operators.insert(operator.to_string(), d);
            v.core.delegation_state = agg;
        }
        Ok(vec![JitoEvent::Delegation {
            vault: vault.to_string(),
            operator: operator.to_string(),
            amount,
            cooldown: true,
        }])
    }

    /// Stake of a vault at an operator that secures an NCN at `slot` (0 unless all six opt-in
    /// tickets are Active): the operator's `staked` amount.
    pub fn stake_for(&self, vault: &str, ncn: &str, operator: &str, slot: u64) -> U256 {
        let pairs = [
            (TicketKind::NcnOperator, ncn, operator),
            (TicketKind::OperatorNcn, operator, ncn),
            (TicketKind::NcnVault, ncn, vault),
            (TicketKind::VaultNcn, vault, ncn),
            (TicketKind::OperatorVault, operator, vault),
            (TicketKind::VaultOperator, vault, operator),
        ];
        if pairs
            .iter()
            .all(|(k, a, b)| self.ticket_state(*k, a, b, slot) == ToggleState::Active)
        {
            self.vaults
                .get(vault)
                .and_then(|v| v.operators.get(operator))
                .map(|d| d.staked)
                .unwrap_or(U256::ZERO)
        } else {
            U256::ZERO
        }
    }

    /// Slashes `amount` tokens of `operator`'s delegation from `vault` on behalf of `ncn`, in the
    /// order staked → enqueued → cooling; the tokens go to `destination`.
    ///
    /// Specification:
    /// - fails with `Unknown` for an unknown vault, NCN or operator;
    /// - fails with `UpdateNeeded` if the vault was not cranked this epoch;
    /// - fails with `NotConnected` unless every NCN/operator/vault ticket pair is Active or
    ///   cooling down;
    /// - fails with `SlashExceedsSecurity` above the operator's total security.
    #[allow(clippy::too_many_arguments)]
    pub fn slash(
        &mut self,
        ledger: &mut Ledger,
        vault: &str,
        ncn: &str,
        operator: &str,
        amount: U256,
        destination: AccountId,
        slot: u64,
    ) -> JitoResult<Vec<JitoEvent>> {
        let v = self.vault(vault)?;
        self.check_entity("ncn", ncn)?;
        self.check_entity("operator", operator)?;
        self.check_updated(v, slot)?;
        for (k, a, b) in [
            (TicketKind::NcnOperator, ncn, operator),
            (TicketKind::OperatorNcn, operator, ncn),
            (TicketKind::NcnVault, ncn, vault),
            (TicketKind::VaultNcn, vault, ncn),
            (TicketKind::OperatorVault, operator, vault),
            (TicketKind::VaultOperator, vault, operator),
        ] {
            self.require_ticket(k, a, b, slot, true)?;
        }
        let mut d = v.operators.get(operator).copied().unwrap_or_default();
        d.slash(amount)?;
        let mut agg = DelegationState::default();
        for (name, od) in &v.operators {
            agg.accumulate(if name == operator { &d } else { od })?;
        }
        let tokens = v.core.tokens_deposited.sub_c(amount)?;
        ledger.transfer(v.account, destination, v.supported, amount)?;
        if let Some(v) = self.vaults.get_mut(vault) {
            v.operators.insert(operator.to_string(), d);
            v.core.delegation_state = agg;
            v.core.tokens_deposited = tokens;
        }
        Ok(vec![JitoEvent::Slash {
            vault: vault.to_string(),
            ncn: ncn.to_string(),
            operator: operator.to_string(),
            amount,
        }])
    }

    /// Exchange rate view: tokens per VRT as `(tokens_deposited, vrt_supply)`.
    pub fn rate(&self, vault: &str) -> JitoResult<(U256, U256)> {
        let v = self.vault(vault)?;
        Ok((v.core.tokens_deposited, v.core.vrt_supply))
    }

    /// Backing rules (SPEC §5.3), per vault:
    /// - ledger VRT supply == `vrt_supply`;
    /// - token balance ≥ `tokens_deposited` ≥ total security;
    /// - aggregate delegation == Σ operator delegations;
    /// - escrowed VRT == Σ tickets == enqueued + cooling + ready.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, true)
    }

    /// [`Self::check_invariants`] without the sums over withdrawal tickets: costs the vaults and
    /// their operators, not the number of tickets.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, false)
    }

    fn check_rules(&self, ledger: &Ledger, full: bool) -> Result<(), String> {
        for (name, v) in &self.vaults {
            let c = &v.core;
            if ledger.supply(v.vrt) != c.vrt_supply {
                return Err(format!(
                    "{name}: ledger VRT supply {} != {}",
                    ledger.supply(v.vrt),
                    c.vrt_supply
                ));
            }
            let bal = ledger.balance(v.account, v.supported);
            if bal < c.tokens_deposited {
                return Err(format!(
                    "{name}: balance {bal} < tokens deposited {}",
                    c.tokens_deposited
                ));
            }
            let sec = c.delegation_state.total_security().map_err(|e| e.to_string())?;
            if c.tokens_deposited < sec {
                return Err(format!("{name}: tokens {} < security {sec}", c.tokens_deposited));
            }
            let mut agg = DelegationState::default();
            for d in v.operators.values() {
                agg.accumulate(d).map_err(|e| e.to_string())?;
            }
            if agg != c.delegation_state {
                return Err(format!(
                    "{name}: aggregate delegation {:?} != Σ operators {agg:?}",
                    c.delegation_state
                ));
            }
            if !full {
                continue;
            }
            let mut tickets = U256::ZERO;
            for t in v.tickets.values() {
                tickets = tickets.checked_add(t.vrt_amount).ok_or("overflow")?;
            }
            let queue = c
                .vrt_enqueued_for_cooldown
                .checked_add(c.vrt_cooling_down)
                .and_then(|x| x.checked_add(c.vrt_ready_to_claim))
                .ok_or("overflow")?;
            let escrow = ledger.balance(v.ticket_account, v.vrt);
            if tickets != queue || escrow != tickets {
                return Err(format!(
                    "{name}: tickets {tickets}, queue {queue}, escrow {escrow} differ"
                ));
            }
        }
        Ok(())
    }
}
