//! frxETH/sfrxETH — the two-token variant of SPEC §4.3 (`FraxFinance/frxETH-public`).
//!
//! - **frxETH** is minted 1:1 for ETH (`frxETHMinter.submit`); a `withholdRatio` (1e6 precision) of each
//!   submission is kept back from validator deposits (`currentWithheldETH`). `deposit_plan` funds
//!   `⌊(minter ETH − withheld)/32 ETH⌋` validators (`depositEther`).
//! - **sfrxETH** is an ERC-4626 vault on frxETH with solmate rounding — `convertToShares`/`previewDeposit`
//!   and `convertToAssets`/`previewRedeem` round down, `previewMint` and `previewWithdraw` round up;
//!   `deposit` rejects zero shares (`ZERO_SHARES`), `redeem` zero assets (`ZERO_ASSETS`) — extended by
//!   `xERC4626` reward cycles: `totalAssets = storedTotalAssets + lastRewardAmount·(now − lastSync)/(cycleEnd − lastSync)`
//!   (floor) inside a cycle and `storedTotalAssets + lastRewardAmount` after it; `syncRewards` (only at or
//!   after the cycle end, else `SyncError`) queues every frxETH above `stored + lastRewardAmount` as the next
//!   cycle's reward and sets `cycleEnd = ⌊(now + length)/length⌋·length`. As the mainnet sfrxETH, deposit,
//!   mint, withdraw and redeem all sync first when the cycle has ended (`andSync`).
//! - **Rewards**: ETH swept or paid to `<frx>:withdrawal_vault` is distributed by `distribute_rewards`:
//!   the protocol fee `⌊amount·fee/1e18⌋` is minted as frxETH to `<frx>:treasury`, the rest as frxETH
//!   into the sfrxETH vault (so all staking rewards reach sfrxETH holders over the next cycle), and the
//!   ETH joins the minter, backing the new frxETH 1:1.
//!
//! Not modelled: frxETH redemption (the later `FraxEtherRedemptionQueue`), validator exits and losses.

// Rejections carry the offending values (SPEC §1.3), so the error enums are large by design;
// they are returned on the rare rejection path only.
#![allow(clippy::result_large_err)]

use super::{get_or_register, ExchangeRateError, VALIDATOR_WEI};
use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AccountId, AssetId, Ledger, LedgerError, StateHash};
use stake_math::{mul_div_down, mul_div_up, u, Checked, MathError, U256, WAD};

/// Precision of the withhold ratio (`RATIO_PRECISION`).
pub const RATIO_PRECISION: U256 = u(1_000_000);

/// Parameters of the frxETH/sfrxETH pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrxEthParams {
    /// frxETH symbol; prefix of the module accounts.
    pub frx_symbol: String,
    /// sfrxETH symbol.
    pub sfrx_symbol: String,
    /// Native asset symbol (registered if missing).
    pub native_symbol: String,
    /// Operator name used in deposit plans.
    pub operator: String,
    /// Share of each submission withheld from validator deposits, 1e6 precision (0 on mainnet).
    pub withhold_ratio: U256,
    /// Reward cycle length in seconds (604,800 = 7 days).
    pub rewards_cycle_length_s: u32,
    /// Protocol fee on staking rewards, wad (10 %).
    pub fee_wad: U256,
    /// Deployment time: the first cycle ends at `⌊start/length⌋·length`.
    pub start_time: u64,
}

impl Default for FrxEthParams {
    fn default() -> Self {
        Self {
            frx_symbol: "frxETH".into(),
            sfrx_symbol: "sfrxETH".into(),
            native_symbol: "ETH".into(),
            operator: "frax".into(),
            withhold_ratio: U256::ZERO,
            rewards_cycle_length_s: 604_800,
            fee_wad: u(100_000_000_000_000_000),
            start_time: 0,
        }
    }
}

/// Events of [`FrxEth`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FrxEthEvent {
    /// ETH submitted, frxETH minted 1:1 (`ETHSubmitted`).
    Submitted {
        /// Sender.
        sender: AccountId,
        /// ETH in = frxETH out.
        amount: U256,
        /// ETH withheld from validator deposits.
        withheld: U256,
    },
    /// frxETH into sfrxETH (`Deposit`).
    VaultDeposit {
        /// Owner and receiver.
        owner: AccountId,
        /// frxETH in.
        assets: U256,
        /// sfrxETH minted.
        shares: U256,
    },
    /// sfrxETH out for frxETH (`Withdraw`).
    VaultWithdraw {
        /// Owner and receiver.
        owner: AccountId,
        /// frxETH out.
        assets: U256,
        /// sfrxETH burned.
        shares: U256,
    },
    /// A reward cycle started (`NewRewardsCycle`).
    NewRewardsCycle {
        /// Cycle end.
        end: u32,
        /// Rewards unlocked linearly over it.
        rewards: U256,
    },
    /// Rewards distributed as frxETH.
    RewardsDistributed {
        /// ETH arrived.
        amount: U256,
        /// frxETH to the treasury.
        fee: U256,
        /// frxETH into the sfrxETH vault.
        to_vault: U256,
    },
    /// Validators funded (`DepositSent`).
    ValidatorsDeposited {
        /// Validators.
        validators: u64,
    },
    /// Withhold ratio changed.
    WithholdRatioSet {
        /// New ratio, 1e6 precision.
        ratio: U256,
    },
}

/// Ledger handles of the module accounts of [`FrxEth`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrxEthAccounts {
    /// `<frx>:minter` — ETH in frxETHMinter.
    pub minter: AccountId,
    /// `<frx>:staging` — ETH of funded validators, taken into L0 by the engine.
    pub staging: AccountId,
    /// `<frx>:withdrawal_vault` — withdrawal credentials and fee recipient.
    pub withdrawal_vault: AccountId,
    /// `<frx>:sfrx_vault` — frxETH held by sfrxETH.
    pub vault: AccountId,
    /// `<frx>:treasury` — protocol fee.
    pub treasury: AccountId,
}

/// The frxETH/sfrxETH state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FrxEth {
    /// Parameters.
    pub params: FrxEthParams,
    /// Native asset.
    pub eth: AssetId,
    /// frxETH.
    pub frx: AssetId,
    /// sfrxETH.
    pub sfrx: AssetId,
    /// Module accounts.
    pub accounts: FrxEthAccounts,
    /// ETH in the minter (mirrors `<frx>:minter`).
    pub minter_wei: U256,
    /// `currentWithheldETH`.
    pub current_withheld_wei: U256,
    /// Validators funded.
    pub deposited_validators: u64,
    /// `storedTotalAssets`.
    pub stored_total_assets: U256,
    /// `lastRewardAmount` (uint192).
    pub last_reward_amount: U256,
    /// `lastSync`.
    pub last_sync: u32,
    /// `rewardsCycleEnd`.
    pub rewards_cycle_end: u32,
}

impl StateHash for FrxEth {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

fn ts32(now: u64) -> Result<u32, ExchangeRateError> {
    u32::try_from(now).map_err(|_| ExchangeRateError::TimestampOverflow { now })
}

impl FrxEth {
    /// Registers frxETH and sfrxETH (and the native asset if missing) and the module accounts.
    ///
    /// Specification:
    /// - fails with a ledger error if a symbol is taken, `TimestampOverflow` if `start_time` ≥ 2^32,
    ///   `Math(DivisionByZero)` for a zero cycle length.
    pub fn new(ledger: &mut Ledger, params: FrxEthParams) -> Result<Self, ExchangeRateError> {
        let start = ts32(params.start_time)?;
        let len = params.rewards_cycle_length_s;
        if len == 0 {
            return Err(MathError::DivisionByZero.into());
        }
        let (fs, ss) = (params.frx_symbol.clone(), params.sfrx_symbol.clone());
        let (eth, frx, sfrx, accounts) = ledger.atomic(|l| {
            let eth = get_or_register(l, &params.native_symbol, "native")?;
            let frx = l.register_asset(&fs, 18, "frax", stake_ledger::AssetKind::Plain)?;
            let sfrx = l.register_asset(&ss, 18, "frax", stake_ledger::AssetKind::Plain)?;
            let accounts = FrxEthAccounts {
                minter: l.account(&format!("{fs}:minter")),
                staging: l.account(&format!("{fs}:staging")),
                withdrawal_vault: l.account(&format!("{fs}:withdrawal_vault")),
                vault: l.account(&format!("{fs}:sfrx_vault")),
                treasury: l.account(&format!("{fs}:treasury")),
            };
            Ok::<_, LedgerError>((eth, frx, sfrx, accounts))
        })?;
        Ok(Self {
            params,
            eth,
            frx,
            sfrx,
            accounts,
            minter_wei: U256::ZERO,
            current_withheld_wei: U256::ZERO,
            deposited_validators: 0,
            stored_total_assets: U256::ZERO,
            last_reward_amount: U256::ZERO,
            last_sync: 0,
            rewards_cycle_end: start / len * len,
        })
    }

    // ----- frxETH minter -----

    /// Mints `amount` frxETH to `sender` for as much ETH (`submit`).
    ///
    /// Specification:
    /// - fails with `ZeroAmount` for 0 ("Cannot submit 0"), a ledger error when ETH is short.
    pub fn submit(
        &mut self,
        ledger: &mut Ledger,
        sender: AccountId,
        amount: U256,
        _now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        if amount == U256::ZERO {
            return Err(ExchangeRateError::ZeroAmount);
        }
        let withheld = mul_div_down(amount, self.params.withhold_ratio, RATIO_PRECISION)?;
        let minter = self.minter_wei.add_c(amount)?;
        let current = self.current_withheld_wei.add_c(withheld)?;
        let (eth, frx, m) = (self.eth, self.frx, self.accounts.minter);
        ledger.atomic(|l| {
            l.transfer(sender, m, eth, amount)?;
            l.mint(sender, frx, amount)
        })?;
        self.minter_wei = minter;
        self.current_withheld_wei = current;
        Ok(vec![FrxEthEvent::Submitted {
            sender,
            amount,
            withheld,
        }])
    }

    /// `submitAndDeposit`: submit, then deposit the new frxETH into sfrxETH for `sender`.
    ///
    /// Specification:
    /// - fails as [`FrxEth::submit`] and [`FrxEth::vault_deposit`]; nothing changes then.
    pub fn submit_and_deposit(
        &mut self,
        ledger: &mut Ledger,
        sender: AccountId,
        amount: U256,
        now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        let mut next = self.clone();
        let events = ledger.atomic(|l| {
            let mut ev = next.submit(l, sender, amount, now)?;
            ev.append(&mut next.vault_deposit(l, sender, amount, now)?);
            Ok::<_, ExchangeRateError>(ev)
        })?;
        *self = next;
        Ok(events)
    }

    /// Sets the withhold ratio (1e6 precision).
    ///
    /// Specification:
    /// - fails with `WithholdRatioTooHigh` above 1e6.
    pub fn set_withhold_ratio(&mut self, ratio: U256, _now: u64) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        if ratio > RATIO_PRECISION {
            return Err(ExchangeRateError::WithholdRatioTooHigh { ratio });
        }
        self.params.withhold_ratio = ratio;
        Ok(vec![FrxEthEvent::WithholdRatioSet { ratio }])
    }

    /// Validators the minter can fund: `⌊(minter ETH − withheld)/32 ETH⌋` (`depositEther`).
    pub fn deposit_plan(&self) -> Vec<(String, u64)> {
        let avail = self.minter_wei.saturating_sub(self.current_withheld_wei);
        let n = u64::try_from(avail / VALIDATOR_WEI).unwrap_or(u64::MAX);
        if n == 0 {
            return Vec::new();
        }
        vec![(self.params.operator.clone(), n)]
    }

    /// Funds the validators of `plan`: 32 ETH each moves from the minter to `<frx>:staging`; the engine
    /// then moves it into L0 with withdrawal credentials `<frx>:withdrawal_vault`.
    ///
    /// Specification:
    /// - fails with `PlanTooLarge` when the plan exceeds [`FrxEth::deposit_plan`].
    pub fn on_deposited(
        &mut self,
        ledger: &mut Ledger,
        plan: &[(String, u64)],
        _now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        let requested = plan
            .iter()
            .try_fold(0u64, |a, (_, n)| a.checked_add(*n))
            .ok_or(MathError::Overflow)?;
        let available = self.deposit_plan().first().map(|p| p.1).unwrap_or(0);
        if requested > available {
            return Err(ExchangeRateError::PlanTooLarge { requested, available });
        }
        if requested == 0 {
            return Ok(Vec::new());
        }
        let amount = U256::from(requested).mul_c(VALIDATOR_WEI)?;
        ledger.transfer(self.accounts.minter, self.accounts.staging, self.eth, amount)?;
        self.minter_wei -= amount;
        self.deposited_validators += requested;
        Ok(vec![FrxEthEvent::ValidatorsDeposited { validators: requested }])
    }

    /// Account the engine takes 32 ETH per validator from after [`FrxEth::on_deposited`].
    pub fn staging_account(&self) -> AccountId {
        self.accounts.staging
    }

    /// Withdrawal-credential (and fee-recipient) account.
    pub fn withdrawal_account(&self) -> AccountId {
        self.accounts.withdrawal_vault
    }

    /// Distributes the ETH in `<frx>:withdrawal_vault` as frxETH: fee `⌊amount·fee/1e18⌋` to the
    /// treasury, the rest into the sfrxETH vault (next cycle's rewards); the ETH joins the minter.
    ///
    /// Specification:
    /// - fails with `NothingToDistribute` when the vault is empty.
    pub fn distribute_rewards(
        &mut self,
        ledger: &mut Ledger,
        _now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        let amount = ledger.balance(self.accounts.withdrawal_vault, self.eth);
        if amount == U256::ZERO {
            return Err(ExchangeRateError::NothingToDistribute);
        }
        let fee = mul_div_down(amount, self.params.fee_wad, WAD)?;
        let to_vault = amount - fee;
        let minter = self.minter_wei.add_c(amount)?;
        let (eth, frx, a) = (self.eth, self.frx, self.accounts.clone());
        ledger.atomic(|l| {
            l.transfer(a.withdrawal_vault, a.minter, eth, amount)?;
            l.mint(a.treasury, frx, fee)?;
            l.mint(a.vault, frx, to_vault)
        })?;
        self.minter_wei = minter;
        Ok(vec![FrxEthEvent::RewardsDistributed { amount, fee, to_vault }])
    }

    // ----- sfrxETH (xERC4626) -----

    /// `totalAssets()` at `now`: stored + the unlocked part of the last reward (floor).
    pub fn total_assets(&self, now: u64) -> Result<U256, MathError> {
        let end = u64::from(self.rewards_cycle_end);
        if now >= end {
            return self.stored_total_assets.add_c(self.last_reward_amount);
        }
        let sync = u64::from(self.last_sync);
        let unlocked = mul_div_down(
            self.last_reward_amount,
            U256::from(now.saturating_sub(sync)),
            U256::from(end.saturating_sub(sync)),
        )?;
        self.stored_total_assets.add_c(unlocked)
    }

    fn supply(&self, ledger: &Ledger) -> U256 {
        ledger.supply(self.sfrx)
    }

    /// `convertToShares` = `previewDeposit`: `⌊assets·supply/totalAssets⌋` (assets while supply is 0).
    pub fn convert_to_shares(&self, ledger: &Ledger, assets: U256, now: u64) -> Result<U256, MathError> {
        let s = self.supply(ledger);
        if s == U256::ZERO {
            return Ok(assets);
        }
        mul_div_down(assets, s, self.total_assets(now)?)
    }

    /// `convertToAssets` = `previewRedeem`: `⌊shares·totalAssets/supply⌋` (shares while supply is 0).
    pub fn convert_to_assets(&self, ledger: &Ledger, shares: U256, now: u64) -> Result<U256, MathError> {
        let s = self.supply(ledger);
        if s == U256::ZERO {
            return Ok(shares);
        }
        mul_div_down(shares, self.total_assets(now)?, s)
    }

    /// `previewMint`: `⌈shares·totalAssets/supply⌉`.
    pub fn preview_mint(&self, ledger: &Ledger, shares: U256, now: u64) -> Result<U256, MathError> {
        let s = self.supply(ledger);
        if s == U256::ZERO {
            return Ok(shares);
        }
        mul_div_up(shares, self.total_assets(now)?, s)
    }

    /// `previewWithdraw`: `⌈assets·supply/totalAssets⌉`.
    pub fn preview_withdraw(&self, ledger: &Ledger, assets: U256, now: u64) -> Result<U256, MathError> {
        let s = self.supply(ledger);
        if s == U256::ZERO {
            return Ok(assets);
        }
        mul_div_up(assets, s, self.total_assets(now)?)
    }

    /// frxETH per sfrxETH at `now`, wad (`pricePerShare = convertToAssets(1e18)`).
    pub fn rate_wad(&self, ledger: &Ledger, now: u64) -> Result<U256, MathError> {
        self.convert_to_assets(ledger, WAD, now)
    }

    /// ETH under management: minter + 32 ETH per funded validator (the frxETH supply's backing).
    pub fn tvl_wei(&self) -> Result<U256, MathError> {
        self.minter_wei
            .add_c(U256::from(self.deposited_validators).mul_c(VALIDATOR_WEI)?)
    }

    /// `syncRewards()`: starts a new cycle with every frxETH above `stored + lastRewardAmount`.
    ///
    /// Specification:
    /// - fails with `SyncTooEarly` before the cycle end (`SyncError`), `TimestampOverflow` past 2^32 − 1,
    ///   `Math(Underflow)` when the vault holds less than `stored + lastRewardAmount`, `Math(Overflow)`
    ///   when the reward does not fit uint192 or the cycle end does not fit uint32.
    pub fn sync_rewards(&mut self, ledger: &Ledger, now: u64) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        let ts = ts32(now)?;
        if ts < self.rewards_cycle_end {
            return Err(ExchangeRateError::SyncTooEarly {
                now,
                cycle_end: u64::from(self.rewards_cycle_end),
            });
        }
        let held = ledger.balance(self.accounts.vault, self.frx);
        let next = held.sub_c(self.stored_total_assets)?.sub_c(self.last_reward_amount)?;
        if next >= (U256::ONE << 192u32) {
            return Err(MathError::Overflow.into());
        }
        let len = self.params.rewards_cycle_length_s;
        let end = ts.checked_add(len).ok_or(MathError::Overflow)? / len * len;
        self.stored_total_assets = self.stored_total_assets.add_c(self.last_reward_amount)?;
        self.last_reward_amount = next;
        self.last_sync = ts;
        self.rewards_cycle_end = end;
        Ok(vec![FrxEthEvent::NewRewardsCycle { end, rewards: next }])
    }

    fn and_sync(&mut self, ledger: &Ledger, now: u64) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        if now >= u64::from(self.rewards_cycle_end) {
            self.sync_rewards(ledger, now)
        } else {
            Ok(Vec::new())
        }
    }

    fn vault_op(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        now: u64,
        f: impl FnOnce(&Self, &Ledger) -> Result<(U256, U256, bool), ExchangeRateError>,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        let mut next = self.clone();
        let mut events = next.and_sync(ledger, now)?;
        // (assets, shares, is_deposit)
        let (assets, shares, deposit) = f(&next, ledger)?;
        let (frx, sfrx, vault) = (self.frx, self.sfrx, self.accounts.vault);
        if deposit {
            next.stored_total_assets = next.stored_total_assets.add_c(assets)?;
            ledger.atomic(|l| {
                l.transfer(owner, vault, frx, assets)?;
                l.mint(owner, sfrx, shares)
            })?;
            events.push(FrxEthEvent::VaultDeposit { owner, assets, shares });
        } else {
            let bal = ledger.balance(owner, sfrx);
            if bal < shares {
                return Err(ExchangeRateError::InsufficientTokens {
                    balance: bal,
                    required: shares,
                });
            }
            next.stored_total_assets = next.stored_total_assets.sub_c(assets)?;
            ledger.atomic(|l| {
                l.burn(owner, sfrx, shares)?;
                l.transfer(vault, owner, frx, assets)
            })?;
            events.push(FrxEthEvent::VaultWithdraw { owner, assets, shares });
        }
        *self = next;
        Ok(events)
    }

    /// ERC-4626 `deposit(assets)`: syncs if the cycle ended, mints `previewDeposit(assets)` shares.
    ///
    /// Specification:
    /// - fails with `ZeroShares` when the shares round to 0; a ledger error when frxETH is short.
    pub fn vault_deposit(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        assets: U256,
        now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        self.vault_op(ledger, owner, now, |s, l| {
            let shares = s.convert_to_shares(l, assets, now)?;
            if shares == U256::ZERO {
                return Err(ExchangeRateError::ZeroShares);
            }
            Ok((assets, shares, true))
        })
    }

    /// ERC-4626 `mint(shares)`: syncs if the cycle ended, takes `previewMint(shares)` (rounded up) frxETH.
    ///
    /// Specification:
    /// - fails with a ledger error when frxETH is short.
    pub fn vault_mint(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        shares: U256,
        now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        self.vault_op(ledger, owner, now, |s, l| {
            Ok((s.preview_mint(l, shares, now)?, shares, true))
        })
    }

    /// ERC-4626 `withdraw(assets)`: syncs if the cycle ended, burns `previewWithdraw(assets)` (rounded up).
    ///
    /// Specification:
    /// - fails with `InsufficientTokens` when the owner has fewer shares; `Math(Underflow)` when `assets`
    ///   exceeds the stored total assets.
    pub fn vault_withdraw(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        assets: U256,
        now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        self.vault_op(ledger, owner, now, |s, l| {
            Ok((assets, s.preview_withdraw(l, assets, now)?, false))
        })
    }

    /// ERC-4626 `redeem(shares)`: syncs if the cycle ended, pays `previewRedeem(shares)` (rounded down).
    ///
    /// Specification:
    /// - fails with `ZeroAssets` when the assets round to 0, `InsufficientTokens` when the owner has
    ///   fewer shares, `Math(Underflow)` when the assets exceed the stored total assets.
    pub fn vault_redeem(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        shares: U256,
        now: u64,
    ) -> Result<Vec<FrxEthEvent>, ExchangeRateError> {
        self.vault_op(ledger, owner, now, |s, l| {
            let assets = s.convert_to_assets(l, shares, now)?;
            if assets == U256::ZERO {
                return Err(ExchangeRateError::ZeroAssets);
            }
            Ok((assets, shares, false))
        })
    }

    /// Every rule: ledger conservation (a full scan of the ledger) and [`Self::check_backing`].
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        ledger.check_conservation().map_err(|e| e.to_string())?;
        self.check_backing(ledger)
    }

    /// Backing rules: minter account mirrors the accounting, withheld ≤ minter ETH, frxETH supply =
    /// minter ETH + 32 ETH per funded validator, the vault holds at least `stored + lastRewardAmount`.
    /// Costs what the protocol holds (reserves, operators, requests), never a scan of the ledger.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        let m = ledger.balance(self.accounts.minter, self.eth);
        if m != self.minter_wei {
            return Err(format!("minter: ledger {m}, accounting {}", self.minter_wei));
        }
        if self.current_withheld_wei > self.minter_wei {
            return Err(format!(
                "withheld {} above minter ETH {}",
                self.current_withheld_wei, self.minter_wei
            ));
        }
        let backing = self.tvl_wei().map_err(|e| e.to_string())?;
        let supply = ledger.supply(self.frx);
        if supply != backing {
            return Err(format!("frxETH supply {supply} ≠ backing {backing}"));
        }
        let held = ledger.balance(self.accounts.vault, self.frx);
        let owed = self
            .stored_total_assets
            .add_c(self.last_reward_amount)
            .map_err(|e| e.to_string())?;
        if held < owed {
            return Err(format!("sfrxETH vault holds {held} frxETH, owes {owed}"));
        }
        Ok(())
    }
}
