//! `lido` model (SPEC §4.1): rebasing stETH held as shares, wstETH, the withdrawal queue, the
//! staking router with a curated and a bonded (CSM-like) module, and the accounting oracle
//! report with every sanity check of `OracleReportSanityChecker` (`lidofinance/core`).
//!
//! ## Ledger layout
//! * `stETH` is registered as [`AssetKind::Shares`]: the ledger holds *shares*; amounts are
//!   `shares · totalPooledEther / totalShares`. `wstETH` is a plain token.
//! * Module accounts (`<symbol>` = the stETH symbol): `:buffer` (ETH of the buffer — the Lido
//!   contract itself), `:withdrawal_vault` (validators' withdrawal credentials), `:el_vault` (fee
//!   recipient), `:withdrawal_queue` (locked ETH and the shares of unfinalized requests),
//!   `:treasury`, `:burner` (shares requested to burn), `:wsteth` (shares backing wstETH), `:bond`
//!   (shares bonded by operators of bonded modules), `:module:<name>` (module fee dust),
//!   `:op:<name>` (curated operators' rewards), `:initial_holder` (bootstrap dead shares).
//!
//! ## Deposits (engine contract)
//! A deposit is two steps that the engine runs in one transaction: (1) [`Lido::on_deposited`]
//! with a plan from [`Lido::deposit_plan`] moves `n · 32 ETH` from `buffered` to
//! `depositedValidators` in Lido's accounting only (total pooled ether is unchanged: the ether is
//! now "transient"); (2) the engine moves exactly `n · 32 ETH` of ETH from the `:buffer` account
//! into L0 with its deposit call. [`Lido::check_invariants`] holds before (1) and after (2); in
//! between the buffer account holds `n · 32 ETH` more than the accounting says, so invariants
//! must not be checked between the two steps. When validators exit, the engine moves their
//! balance into `:withdrawal_vault`; CL rewards paid to the fee recipient go to `:el_vault`.
//!
//! ## Complexity
//! Every operation is O(1) in the number of holders; a report costs O(modules + operators +
//! finalization batches + report history (≤ ~55 entries)).

mod error;
pub mod math;
pub mod queue;
mod types;

pub use error::LidoError;
pub use math::{fee_shares, pooled_eth_by_shares, pooled_eth_by_shares_up, shares_by_pooled_eth};
pub use types::*;

use math::{
    deposits_wei, min_first_allocate, RebaseLimiter, StakeLimit, DEPOSIT_SIZE, E27, FEE_PRECISION, INPUT_LIMIT,
    MAX_BASIS_POINTS, ONE_PWEI,
};
use queue::{WithdrawalQueue, WithdrawalRequest, MAX_STETH_WITHDRAWAL_AMOUNT, MIN_STETH_WITHDRAWAL_AMOUNT};
use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AccountId, AssetId, AssetKind, Ledger, StateHash};
use stake_math::{mul_div_down, Checked, U256, WAD};

const SECONDS_PER_DAY: u64 = 86_400;

/// A node operator's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// Unique name.
    pub name: String,
    /// Approved signing keys.
    pub key_limit: u64,
    /// Validators deposited (cumulative).
    pub deposited: u64,
    /// Validators exited (cumulative, from reports).
    pub exited: u64,
    /// Validators requested to exit (cumulative, ≥ `exited` after each report).
    pub exit_requested: u64,
    /// Bond (stETH shares held in `:bond`), bonded modules only.
    pub bond_shares: U256,
    /// Where curated operators' rewards are minted.
    pub reward_account: AccountId,
}

impl Operator {
    /// Deposited and not exited.
    pub fn active(&self) -> u64 {
        self.deposited.saturating_sub(self.exited)
    }
    /// Requested to exit, not exited yet.
    pub fn pending_exits(&self) -> u64 {
        self.exit_requested.saturating_sub(self.exited)
    }
}

/// A staking module's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    /// Name.
    pub name: String,
    /// Rules.
    pub kind: ModuleKind,
    /// Module fee, bp of rewards.
    pub module_fee_bp: u64,
    /// Treasury fee, bp of rewards.
    pub treasury_fee_bp: u64,
    /// Target share limit, bp.
    pub stake_share_limit_bp: u64,
    /// Fee recipient account of the module.
    pub account: AccountId,
    /// Operators.
    pub operators: Vec<Operator>,
}

impl Module {
    /// Active validators of the module.
    pub fn active(&self) -> u64 {
        self.operators.iter().map(Operator::active).sum()
    }
}

/// One entry of the sanity checker's report history (`ReportData`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportData {
    /// Report time.
    pub timestamp: u64,
    /// Total exited validators at that report.
    pub total_exited_validators: u64,
    /// CL balance decrease of that report (0 when none).
    pub negative_cl_rebase_wei: U256,
}

/// The module's own accounts in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LidoAccounts {
    /// `:buffer` — the Lido contract's ETH.
    pub buffer: AccountId,
    /// `:withdrawal_vault`.
    pub withdrawal_vault: AccountId,
    /// `:el_vault`.
    pub el_vault: AccountId,
    /// `:withdrawal_queue`.
    pub withdrawal_queue: AccountId,
    /// `:treasury`.
    pub treasury: AccountId,
    /// `:burner`.
    pub burner: AccountId,
    /// `:wsteth`.
    pub wsteth: AccountId,
    /// `:bond`.
    pub bond: AccountId,
    /// `:initial_holder`.
    pub initial_holder: AccountId,
}

/// The Lido protocol state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Lido {
    name: String,
    params: LidoParams,
    eth: AssetId,
    steth: AssetId,
    wsteth: AssetId,
    accounts: LidoAccounts,
    buffered_ether: U256,
    deposited_validators: u64,
    cl_validators: u64,
    cl_balance: U256,
    total_shares: U256,
    stake_limit: StakeLimit,
    queue: WithdrawalQueue,
    modules: Vec<Module>,
    last_report_timestamp: u64,
    report_history: Vec<ReportData>,
    withdrawal_vault_after_report: U256,
}

impl StateHash for Lido {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

/// A fee mint: recipient, shares, and the bonded operator credited (if any).
type Mint = (AccountId, U256, Option<(usize, usize)>);

/// Everything a report will do, computed before any mutation.
struct ReportPlan {
    time_elapsed: u64,
    exited: Vec<Vec<u64>>,
    penalties: Vec<(usize, usize, U256, U256, U256)>,
    ether_to_lock: U256,
    wq_shares: U256,
    withdrawals: U256,
    el_rewards: U256,
    shares_to_burn: U256,
    fee_shares: U256,
    mints: Vec<Mint>,
    summary: ReportSummary,
    history: Vec<ReportData>,
    withdrawal_vault_balance: U256,
}

/// Post-report share rate (ray); 0 when no share exists.
fn share_rate_ray(s: &ReportSummary) -> Result<U256, LidoError> {
    if s.post_total_shares == U256::ZERO {
        return Ok(U256::ZERO);
    }
    Ok(mul_div_down(s.post_total_pooled_ether, E27, s.post_total_shares)?)
}

fn find_op(modules: &[Module], name: &str) -> Result<(usize, usize), LidoError> {
    for (mi, m) in modules.iter().enumerate() {
        if let Some(oi) = m.operators.iter().position(|o| o.name == name) {
            return Ok((mi, oi));
        }
    }
    Err(LidoError::UnknownOperator { name: name.to_string() })
}

impl Lido {
    /// Deploys Lido: registers `stETH` (shares) and `wstETH` (plain), the native asset if missing,
    /// the module accounts, and the bootstrap deposit (`bootstrap_wei` of ETH minted into the
    /// buffer, the same number of shares to `:initial_holder`).
    ///
    /// Specification:
    /// - fails with `InvalidParams` if a module's fees exceed 100 %, a share limit exceeds
    ///   100 %, operator or module names repeat, or the frame/slot length is zero;
    /// - fails with a ledger `DuplicateAsset` if a symbol is taken. Nothing changes on failure.
    pub fn new(ledger: &mut Ledger, name: &str, params: LidoParams) -> Result<Self, LidoError> {
        let mut names: Vec<&str> = Vec::new();
        let mut mnames: Vec<&str> = Vec::new();
        if params.seconds_per_slot == 0 || params.frame_seconds == 0 || params.sanity.max_positive_token_rebase == 0 {
            return Err(LidoError::InvalidParams {
                reason: "zero slot, frame or rebase limit".into(),
            });
        }
        for m in &params.modules {
            if m.module_fee_bp + m.treasury_fee_bp > 10_000 || m.stake_share_limit_bp > 10_000 {
                return Err(LidoError::InvalidParams {
                    reason: format!("module {} fees or share limit above 100 %", m.name),
                });
            }
            if mnames.contains(&m.name.as_str()) {
                return Err(LidoError::InvalidParams {
                    reason: format!("duplicate module {}", m.name),
                });
            }
            mnames.push(&m.name);
            for o in &m.operators {
                if names.contains(&o.name.as_str()) {
                    return Err(LidoError::InvalidParams {
                        reason: format!("duplicate operator {}", o.name),
                    });
                }
                names.push(&o.name);
            }
        }
        let sym = params.symbol.clone();
        ledger.atomic(|l| {
            let eth = match l.asset(&params.native_symbol) {
                Ok(id) => id,
                Err(_) => l.register_asset(&params.native_symbol, 18, "native", AssetKind::Plain)?,
            };
            let steth = l.register_asset(&sym, 18, name, AssetKind::Shares)?;
            let wsteth = l.register_asset(&params.wrapped_symbol, 18, name, AssetKind::Plain)?;
            let mut acct = |suffix: &str| l.account(&format!("{sym}:{suffix}"));
            let accounts = LidoAccounts {
                buffer: acct("buffer"),
                withdrawal_vault: acct("withdrawal_vault"),
                el_vault: acct("el_vault"),
                withdrawal_queue: acct("withdrawal_queue"),
                treasury: acct("treasury"),
                burner: acct("burner"),
                wsteth: acct("wsteth"),
                bond: acct("bond"),
                initial_holder: acct("initial_holder"),
            };
            let modules = params
                .modules
                .iter()
                .map(|m| Module {
                    name: m.name.clone(),
                    kind: m.kind.clone(),
                    module_fee_bp: m.module_fee_bp,
                    treasury_fee_bp: m.treasury_fee_bp,
                    stake_share_limit_bp: m.stake_share_limit_bp,
                    account: acct(&format!("module:{}", m.name)),
                    operators: m
                        .operators
                        .iter()
                        .map(|o| Operator {
                            name: o.name.clone(),
                            key_limit: o.key_limit,
                            deposited: 0,
                            exited: 0,
                            exit_requested: 0,
                            bond_shares: U256::ZERO,
                            reward_account: acct(&format!("op:{}", o.name)),
                        })
                        .collect(),
                })
                .collect();
            let boot = params.bootstrap_wei;
            if boot > U256::ZERO {
                l.mint(accounts.buffer, eth, boot)?;
                l.mint(accounts.initial_holder, steth, boot)?;
            }
            Ok(Lido {
                name: name.to_string(),
                stake_limit: StakeLimit {
                    enabled: params.staking_limit_enabled,
                    prev_block: 0,
                    prev_limit: params.max_stake_limit_wei,
                    max_limit: params.max_stake_limit_wei,
                    growth_blocks: params.stake_limit_growth_blocks,
                },
                params: params.clone(),
                eth,
                steth,
                wsteth,
                accounts,
                buffered_ether: boot,
                deposited_validators: 0,
                cl_validators: 0,
                cl_balance: U256::ZERO,
                total_shares: boot,
                queue: WithdrawalQueue::default(),
                modules,
                last_report_timestamp: 0,
                report_history: Vec::new(),
                withdrawal_vault_after_report: U256::ZERO,
            })
        })
    }

    // ------------------------------------------------------------------ views

    /// Issuer name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Parameters.
    pub fn params(&self) -> &LidoParams {
        &self.params
    }
    /// Ledger id of stETH (shares).
    pub fn steth_asset(&self) -> AssetId {
        self.steth
    }
    /// Ledger id of wstETH.
    pub fn wsteth_asset(&self) -> AssetId {
        self.wsteth
    }
    /// Ledger id of the native asset.
    pub fn eth_asset(&self) -> AssetId {
        self.eth
    }
    /// The module accounts.
    pub fn accounts(&self) -> &LidoAccounts {
        &self.accounts
    }
    /// Buffered ether (accounting).
    pub fn buffered_ether(&self) -> U256 {
        self.buffered_ether
    }
    /// `(depositedValidators, clValidators, clBalance)` (`getBeaconStat`).
    pub fn beacon_stat(&self) -> (u64, u64, U256) {
        (self.deposited_validators, self.cl_validators, self.cl_balance)
    }
    /// Staking modules.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }
    /// The withdrawal queue.
    pub fn withdrawal_queue(&self) -> &WithdrawalQueue {
        &self.queue
    }
    /// Sanity checker history (bounded to the 54-day window plus one entry).
    pub fn report_history(&self) -> &[ReportData] {
        &self.report_history
    }
    /// Timestamp of the last applied report (0: none).
    pub fn last_report_timestamp(&self) -> u64 {
        self.last_report_timestamp
    }

    /// Deposits not yet seen on the CL: `(depositedValidators − clValidators) · 32 ETH`.
    pub fn transient_ether(&self) -> Result<U256, LidoError> {
        Ok(deposits_wei(
            self.deposited_validators.saturating_sub(self.cl_validators),
        )?)
    }

    /// `getTotalPooledEther` = buffered + clBalance + transient.
    pub fn total_pooled_ether(&self) -> Result<U256, LidoError> {
        Ok(self
            .buffered_ether
            .add_c(self.cl_balance)?
            .add_c(self.transient_ether()?)?)
    }

    /// `getTotalShares`.
    pub fn total_shares(&self) -> U256 {
        self.total_shares
    }

    /// `getSharesByPooledEth` (down). Fails with `InputTooLarge` for inputs ≥ 2^128.
    pub fn get_shares_by_pooled_eth(&self, eth: U256) -> Result<U256, LidoError> {
        if eth >= INPUT_LIMIT {
            return Err(LidoError::InputTooLarge { value: eth });
        }
        Ok(shares_by_pooled_eth(
            self.total_pooled_ether()?,
            self.total_shares,
            eth,
        )?)
    }

    /// `getPooledEthByShares` (down). Fails with `InputTooLarge` for inputs ≥ 2^128.
    pub fn get_pooled_eth_by_shares(&self, shares: U256) -> Result<U256, LidoError> {
        if shares >= INPUT_LIMIT {
            return Err(LidoError::InputTooLarge { value: shares });
        }
        Ok(pooled_eth_by_shares(
            self.total_pooled_ether()?,
            self.total_shares,
            shares,
        )?)
    }

    /// `getPooledEthBySharesRoundUp` (up). Fails with `InputTooLarge` for inputs ≥ 2^128.
    pub fn get_pooled_eth_by_shares_round_up(&self, shares: U256) -> Result<U256, LidoError> {
        if shares >= INPUT_LIMIT {
            return Err(LidoError::InputTooLarge { value: shares });
        }
        Ok(pooled_eth_by_shares_up(
            self.total_pooled_ether()?,
            self.total_shares,
            shares,
        )?)
    }

    /// stETH balance: `⌊shares · pooled / totalShares⌋`.
    pub fn balance_of(&self, ledger: &Ledger, account: AccountId) -> Result<U256, LidoError> {
        Ok(pooled_eth_by_shares(
            self.total_pooled_ether()?,
            self.total_shares,
            ledger.balance(account, self.steth),
        )?)
    }

    /// Shares held.
    pub fn shares_of(&self, ledger: &Ledger, account: AccountId) -> U256 {
        ledger.balance(account, self.steth)
    }

    /// `wstETH.stEthPerToken` = `getPooledEthByShares(1e18)`.
    pub fn st_eth_per_token(&self) -> Result<U256, LidoError> {
        self.get_pooled_eth_by_shares(WAD)
    }

    /// `wstETH.tokensPerStEth` = `getSharesByPooledEth(1e18)`.
    pub fn tokens_per_st_eth(&self) -> Result<U256, LidoError> {
        self.get_shares_by_pooled_eth(WAD)
    }

    /// ETH per stETH share, wad (= [`Self::st_eth_per_token`]).
    pub fn rate_wad(&self) -> Result<U256, LidoError> {
        self.st_eth_per_token()
    }

    /// Lido's share of all staked ether, wad: `⌊(clBalance + transient) · 1e18 / total⌋`.
    pub fn share_of_staked_eth(&self, total_staked_wei: U256) -> Result<U256, LidoError> {
        let staked = self.cl_balance.add_c(self.transient_ether()?)?;
        Ok(mul_div_down(staked, WAD, total_staked_wei)?)
    }

    /// Current staking limit (`getCurrentStakeLimit`), blocks = `now / seconds_per_slot`.
    pub fn current_stake_limit(&self, now: u64) -> Result<U256, LidoError> {
        Ok(self.stake_limit.current(now / self.params.seconds_per_slot)?)
    }

    /// stETH of unfinalized withdrawal requests.
    pub fn unfinalized_steth(&self) -> U256 {
        self.queue.unfinalized_steth()
    }

    /// `getDepositableEther`: buffer minus the ether reserved for unfinalized withdrawals.
    pub fn depositable_ether(&self) -> U256 {
        self.buffered_ether.saturating_sub(self.queue.unfinalized_steth())
    }

    // ------------------------------------------------------------------ stETH

    /// `submit`: stakes `eth_amount` of `sender`'s ETH, minting shares priced before the buffer grows.
    ///
    /// Specification:
    /// - fails with `ZeroDeposit` for zero, `InputTooLarge` for ≥ 2^128;
    /// - fails with `StakeLimitExceeded` above the current staking limit;
    /// - fails with a ledger `InsufficientBalance` if `sender` lacks the ETH.
    pub fn submit(
        &mut self,
        ledger: &mut Ledger,
        sender: AccountId,
        eth_amount: U256,
        now: u64,
    ) -> Result<Vec<LidoEvent>, LidoError> {
        if eth_amount == U256::ZERO {
            return Err(LidoError::ZeroDeposit);
        }
        let block = now / self.params.seconds_per_slot;
        let limit = self.stake_limit.current(block)?;
        if self.stake_limit.enabled && eth_amount > limit {
            return Err(LidoError::StakeLimitExceeded {
                requested: eth_amount,
                limit,
            });
        }
        let shares = self.get_shares_by_pooled_eth(eth_amount)?;
        let buffered = self.buffered_ether.add_c(eth_amount)?;
        let total = self.total_shares.add_c(shares)?;
        ledger.require(sender, self.eth, eth_amount)?;
        let (eth, steth, buffer) = (self.eth, self.steth, self.accounts.buffer);
        ledger.atomic(|l| -> Result<(), LidoError> {
            l.transfer(sender, buffer, eth, eth_amount)?;
            Ok(l.mint(sender, steth, shares)?)
        })?;
        self.buffered_ether = buffered;
        self.total_shares = total;
        if self.stake_limit.enabled {
            self.stake_limit.prev_limit = limit - eth_amount;
            self.stake_limit.prev_block = block;
        }
        Ok(vec![LidoEvent::Submitted {
            sender: ledger.account_name(sender).to_string(),
            amount: eth_amount,
            shares,
        }])
    }

    fn move_shares(&self, ledger: &mut Ledger, from: AccountId, to: AccountId, shares: U256) -> Result<(), LidoError> {
        if to == self.accounts.buffer {
            return Err(LidoError::TransferToStEthContract);
        }
        let bal = ledger.balance(from, self.steth);
        if bal < shares {
            return Err(LidoError::InsufficientShares {
                account: ledger.account_name(from).to_string(),
                balance: bal,
                required: shares,
            });
        }
        ledger.transfer(from, to, self.steth, shares)?;
        Ok(())
    }

    /// `transfer`: moves `⌊amount · totalShares / pooled⌋` shares (the recipient may get 1–2 wei
    /// less than `amount`, as on chain).
    ///
    /// Specification:
    /// - fails with `InputTooLarge` for ≥ 2^128, `TransferToStEthContract` to `:buffer`;
    /// - fails with `InsufficientShares` when `from` holds fewer shares.
    pub fn transfer(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        to: AccountId,
        amount: U256,
    ) -> Result<Vec<LidoEvent>, LidoError> {
        let shares = self.get_shares_by_pooled_eth(amount)?;
        self.move_shares(ledger, from, to, shares)?;
        Ok(vec![LidoEvent::Transfer {
            from: ledger.account_name(from).to_string(),
            to: ledger.account_name(to).to_string(),
            amount,
            shares,
        }])
    }

    /// `transferShares`: moves exactly `shares`.
    ///
    /// Specification: fails with `InputTooLarge`, `TransferToStEthContract` or `InsufficientShares`.
    pub fn transfer_shares(
        &mut self,
        ledger: &mut Ledger,
        from: AccountId,
        to: AccountId,
        shares: U256,
    ) -> Result<Vec<LidoEvent>, LidoError> {
        let amount = self.get_pooled_eth_by_shares(shares)?;
        self.move_shares(ledger, from, to, shares)?;
        Ok(vec![LidoEvent::Transfer {
            from: ledger.account_name(from).to_string(),
            to: ledger.account_name(to).to_string(),
            amount,
            shares,
        }])
    }

    // ------------------------------------------------------------------ wstETH

    /// `wstETH.wrap`: takes `steth_amount` (as `getSharesByPooledEth(amount)` shares) into
    /// `:wsteth` and mints that many wstETH. Returns the wstETH minted.
    ///
    /// Specification: fails with `ZeroAmount`, `InputTooLarge` or `InsufficientShares`.
    pub fn wrap(
        &mut self,
        ledger: &mut Ledger,
        account: AccountId,
        steth_amount: U256,
    ) -> Result<(U256, Vec<LidoEvent>), LidoError> {
        if steth_amount == U256::ZERO {
            return Err(LidoError::ZeroAmount);
        }
        let wst = self.get_shares_by_pooled_eth(steth_amount)?;
        let bal = ledger.balance(account, self.steth);
        if bal < wst {
            return Err(LidoError::InsufficientShares {
                account: ledger.account_name(account).to_string(),
                balance: bal,
                required: wst,
            });
        }
        let (steth, wsteth, pool) = (self.steth, self.wsteth, self.accounts.wsteth);
        ledger.atomic(|l| -> Result<(), LidoError> {
            l.transfer(account, pool, steth, wst)?;
            Ok(l.mint(account, wsteth, wst)?)
        })?;
        Ok((
            wst,
            vec![LidoEvent::Wrapped {
                account: ledger.account_name(account).to_string(),
                steth: steth_amount,
                wsteth: wst,
            }],
        ))
    }

    /// `wstETH.unwrap`: burns `wst_amount`, pays `getPooledEthByShares(wst)` stETH (moving
    /// `getSharesByPooledEth` of that, so share dust stays in `:wsteth`). Returns the stETH paid.
    ///
    /// Specification: fails with `ZeroAmount`, `InputTooLarge` or `InsufficientWstEth`.
    pub fn unwrap(
        &mut self,
        ledger: &mut Ledger,
        account: AccountId,
        wst_amount: U256,
    ) -> Result<(U256, Vec<LidoEvent>), LidoError> {
        if wst_amount == U256::ZERO {
            return Err(LidoError::ZeroAmount);
        }
        let steth_amount = self.get_pooled_eth_by_shares(wst_amount)?;
        let shares = self.get_shares_by_pooled_eth(steth_amount)?;
        let bal = ledger.balance(account, self.wsteth);
        if bal < wst_amount {
            return Err(LidoError::InsufficientWstEth {
                account: ledger.account_name(account).to_string(),
                balance: bal,
                required: wst_amount,
            });
        }
        let (steth, wsteth, pool) = (self.steth, self.wsteth, self.accounts.wsteth);
        ledger.atomic(|l| -> Result<(), LidoError> {
            l.burn(account, wsteth, wst_amount)?;
            Ok(l.transfer(pool, account, steth, shares)?)
        })?;
        Ok((
            steth_amount,
            vec![LidoEvent::Unwrapped {
                account: ledger.account_name(account).to_string(),
                wsteth: wst_amount,
                steth: steth_amount,
            }],
        ))
    }

    // ------------------------------------------------------------------ withdrawal queue

    /// `requestWithdrawals` (one request): takes `steth_amount` of stETH (as shares) into
    /// `:withdrawal_queue` and enqueues cumulative (stETH, shares). Returns the request id.
    ///
    /// Specification:
    /// - fails with `RequestAmountTooSmall` below 100 wei, `RequestAmountTooLarge` above 1000 stETH;
    /// - fails with `InsufficientShares` when `owner` lacks the shares.
    pub fn request_withdrawal(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        steth_amount: U256,
        now: u64,
    ) -> Result<(u64, Vec<LidoEvent>), LidoError> {
        if steth_amount < MIN_STETH_WITHDRAWAL_AMOUNT {
            return Err(LidoError::RequestAmountTooSmall { amount: steth_amount });
        }
        if steth_amount > MAX_STETH_WITHDRAWAL_AMOUNT {
            return Err(LidoError::RequestAmountTooLarge { amount: steth_amount });
        }
        let shares = self.get_shares_by_pooled_eth(steth_amount)?;
        let last = self
            .queue
            .requests
            .last()
            .cloned()
            .unwrap_or_else(|| WithdrawalQueue::default().requests[0].clone());
        let req = WithdrawalRequest {
            cumulative_steth: last.cumulative_steth.add_c(steth_amount)?,
            cumulative_shares: last.cumulative_shares.add_c(shares)?,
            owner: Some(owner),
            timestamp: now,
            claimed: false,
            report_timestamp: self.last_report_timestamp,
        };
        self.move_shares(ledger, owner, self.accounts.withdrawal_queue, shares)?;
        self.queue.requests.push(req);
        let id = self.queue.last_request_id();
        Ok((
            id,
            vec![LidoEvent::WithdrawalRequested {
                request_id: id,
                owner: ledger.account_name(owner).to_string(),
                steth: steth_amount,
                shares,
            }],
        ))
    }

    /// `claimWithdrawal`: pays the finalized request's ether (the checkpoint rule
    /// `rate > max ? shares·max/1e27 : stETH`) from `:withdrawal_queue` to the owner.
    ///
    /// Specification:
    /// - fails with `InvalidRequestId` for id 0, `RequestNotFoundOrNotFinalized` beyond the last
    ///   finalized id, `RequestAlreadyClaimed`, `NotOwner` when `owner` is not the owner.
    pub fn claim(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        request_id: u64,
    ) -> Result<(U256, Vec<LidoEvent>), LidoError> {
        if request_id == 0 {
            return Err(LidoError::InvalidRequestId { request_id });
        }
        if request_id > self.queue.last_finalized_request_id {
            return Err(LidoError::RequestNotFoundOrNotFinalized { request_id });
        }
        let req = self
            .queue
            .requests
            .get(stake_math::index(request_id))
            .ok_or(LidoError::RequestNotFoundOrNotFinalized { request_id })?;
        if req.claimed {
            return Err(LidoError::RequestAlreadyClaimed { request_id });
        }
        if req.owner != Some(owner) {
            return Err(LidoError::NotOwner {
                sender: ledger.account_name(owner).to_string(),
                owner: req
                    .owner
                    .map(|o| ledger.account_name(o).to_string())
                    .unwrap_or_default(),
            });
        }
        let eth = self.queue.claimable_ether(request_id)?;
        let locked = self.queue.locked_ether.sub_c(eth)?;
        ledger.transfer(self.accounts.withdrawal_queue, owner, self.eth, eth)?;
        self.queue.locked_ether = locked;
        if let Some(r) = self.queue.requests.get_mut(stake_math::index(request_id)) {
            r.claimed = true;
        }
        Ok((
            eth,
            vec![LidoEvent::WithdrawalClaimed {
                request_id,
                owner: ledger.account_name(owner).to_string(),
                ether: eth,
            }],
        ))
    }

    /// Rough wait from a request now to its claimability, seconds: the next report when the
    /// buffer (plus undrawn withdrawal vault) covers the queue, else the L0 exit wait plus a frame.
    pub fn queue_wait_estimate_seconds(&self, exit_wait_seconds_from_l0: u64) -> u64 {
        let frame = self.params.frame_seconds;
        let covered = self.buffered_ether.saturating_add(self.withdrawal_vault_after_report);
        if self.queue.unfinalized_steth() <= covered {
            frame
        } else {
            exit_wait_seconds_from_l0.saturating_add(frame)
        }
    }

    // ------------------------------------------------------------------ operators

    fn bond_count(&self, kind: &ModuleKind, bond_shares: U256) -> Result<u64, LidoError> {
        match kind {
            ModuleKind::Curated => Ok(u64::MAX),
            ModuleKind::Bonded {
                bond_first_wei,
                bond_next_wei,
            } => {
                let value = pooled_eth_by_shares(self.total_pooled_ether()?, self.total_shares, bond_shares)?;
                if value < *bond_first_wei {
                    return Ok(0);
                }
                if *bond_next_wei == U256::ZERO {
                    return Ok(u64::MAX);
                }
                let more = (value - *bond_first_wei) / *bond_next_wei;
                Ok(u64::try_from(more)
                    .ok()
                    .and_then(|m| m.checked_add(1))
                    .unwrap_or(u64::MAX))
            }
        }
    }

    /// Validators an operator can still take: unused keys, and for bonded modules what its bond
    /// covers beyond its active validators.
    pub fn operator_capacity(&self, module: usize, operator: usize) -> Result<u64, LidoError> {
        let m = self.modules.get(module).ok_or(LidoError::UnknownOperator {
            name: format!("module #{module}"),
        })?;
        let o = m.operators.get(operator).ok_or(LidoError::UnknownOperator {
            name: format!("operator #{operator}"),
        })?;
        let keys = o.key_limit.saturating_sub(o.deposited);
        let bond = self.bond_count(&m.kind, o.bond_shares)?.saturating_sub(o.active());
        Ok(keys.min(bond))
    }

    /// Posts `steth_amount` of `from`'s stETH as the bond of a bonded-module operator.
    ///
    /// Specification: fails with `UnknownOperator`, `NotABondedOperator`, `InputTooLarge`,
    /// `InsufficientShares`.
    pub fn post_bond(
        &mut self,
        ledger: &mut Ledger,
        operator: &str,
        from: AccountId,
        steth_amount: U256,
    ) -> Result<Vec<LidoEvent>, LidoError> {
        let (mi, oi) = find_op(&self.modules, operator)?;
        if self.modules[mi].kind == ModuleKind::Curated {
            return Err(LidoError::NotABondedOperator {
                operator: operator.to_string(),
            });
        }
        let shares = self.get_shares_by_pooled_eth(steth_amount)?;
        let new_bond = self.modules[mi].operators[oi].bond_shares.add_c(shares)?;
        self.move_shares(ledger, from, self.accounts.bond, shares)?;
        self.modules[mi].operators[oi].bond_shares = new_bond;
        Ok(vec![LidoEvent::BondPosted {
            operator: operator.to_string(),
            shares,
        }])
    }

    /// The staking router's deposit allocation of the depositable buffer (buffer minus unfinalized
    /// withdrawals, in 32-ETH units): min-first across modules up to their target share, then
    /// min-first across curated operators and queue order across bonded operators.
    /// Returns `(operator, validators)` with non-zero counts.
    pub fn deposit_plan(&self) -> Vec<(String, u64)> {
        let count_u = self.depositable_ether() / DEPOSIT_SIZE;
        let count = u64::try_from(count_u).map_or(u64::MAX / 2, |c| c.min(u64::MAX / 2));
        if count == 0 {
            return Vec::new();
        }
        let caps: Vec<Vec<u64>> = self
            .modules
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                (0..m.operators.len())
                    .map(|oi| self.operator_capacity(mi, oi).unwrap_or(0))
                    .collect()
            })
            .collect();
        let total_active: u64 = self
            .modules
            .iter()
            .map(Module::active)
            .sum::<u64>()
            .saturating_add(count);
        let mut allocs: Vec<u64> = self.modules.iter().map(Module::active).collect();
        let mod_caps: Vec<u64> = self
            .modules
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                let target = u64::try_from(u128::from(m.stake_share_limit_bp) * u128::from(total_active) / 10_000)
                    .unwrap_or(u64::MAX);
                let avail: u64 = caps[mi].iter().fold(0u64, |a, c| a.saturating_add(*c));
                target.min(m.active().saturating_add(avail))
            })
            .collect();
        min_first_allocate(&mut allocs, &mod_caps, count);
        let mut plan = Vec::new();
        for (mi, m) in self.modules.iter().enumerate() {
            let mut n = allocs[mi].saturating_sub(m.active());
            if n == 0 {
                continue;
            }
            match m.kind {
                ModuleKind::Curated => {
                    let mut b: Vec<u64> = m.operators.iter().map(Operator::active).collect();
                    let c: Vec<u64> = m
                        .operators
                        .iter()
                        .zip(&caps[mi])
                        .map(|(o, c)| o.active().saturating_add(*c))
                        .collect();
                    min_first_allocate(&mut b, &c, n);
                    for (o, after) in m.operators.iter().zip(b) {
                        let k = after - o.active();
                        if k > 0 {
                            plan.push((o.name.clone(), k));
                        }
                    }
                }
                ModuleKind::Bonded { .. } => {
                    for (o, c) in m.operators.iter().zip(&caps[mi]) {
                        let k = n.min(*c);
                        if k > 0 {
                            plan.push((o.name.clone(), k));
                            n -= k;
                        }
                    }
                }
            }
        }
        plan
    }

    /// Records deposits in Lido's accounting: `buffered −= n·32 ETH`, `depositedValidators += n`,
    /// each operator's deposited count grows. The ETH itself is moved by the engine (see the
    /// module docs); `ledger` is only read, to check the buffer holds the ETH the engine will move.
    ///
    /// Specification:
    /// - fails with `UnknownOperator`, `DepositExceedsOperatorCapacity` (per operator);
    /// - fails with `DepositExceedsDepositableEther` beyond buffer minus unfinalized withdrawals;
    /// - fails with a ledger `InsufficientBalance` if `:buffer` holds less ETH.
    pub fn on_deposited(&mut self, ledger: &Ledger, plan: &[(String, u64)]) -> Result<Vec<LidoEvent>, LidoError> {
        let mut per_op: Vec<((usize, usize), u64)> = Vec::new();
        let mut total = 0u64;
        for (name, n) in plan {
            let key = find_op(&self.modules, name)?;
            match per_op.iter_mut().find(|(k, _)| *k == key) {
                Some(e) => e.1 = e.1.saturating_add(*n),
                None => per_op.push((key, *n)),
            }
            total = total.checked_add(*n).ok_or(stake_math::MathError::Overflow)?;
        }
        for ((mi, oi), n) in &per_op {
            let cap = self.operator_capacity(*mi, *oi)?;
            if *n > cap {
                return Err(LidoError::DepositExceedsOperatorCapacity {
                    operator: self.modules[*mi].operators[*oi].name.clone(),
                    requested: *n,
                    capacity: cap,
                });
            }
        }
        let wei = deposits_wei(total)?;
        let depositable = self.depositable_ether();
        if wei > depositable {
            return Err(LidoError::DepositExceedsDepositableEther {
                requested: wei,
                depositable,
            });
        }
        ledger.require(self.accounts.buffer, self.eth, wei)?;
        self.buffered_ether -= wei;
        self.deposited_validators += total;
        let mut events = Vec::new();
        for ((mi, oi), n) in per_op {
            let o = &mut self.modules[mi].operators[oi];
            o.deposited += n;
            events.push(LidoEvent::Deposited {
                operator: o.name.clone(),
                validators: n,
            });
        }
        Ok(events)
    }

    /// Validators to exit, per operator, to cover unfinalized withdrawals not covered by the
    /// buffer, the withdrawal vault left after the last report and exits already requested
    /// (`⌈missing / 32 ETH⌉`, at most the per-report limit); taken from the operators with the
    /// most exitable validators first.
    pub fn validators_to_exit(&self) -> Vec<(String, u64)> {
        let pending: U256 = self
            .modules
            .iter()
            .flat_map(|m| m.operators.iter())
            .fold(U256::ZERO, |a, o| {
                a.saturating_add(U256::from(o.pending_exits()).saturating_mul(DEPOSIT_SIZE))
            });
        let covered = self
            .buffered_ether
            .saturating_add(self.withdrawal_vault_after_report)
            .saturating_add(pending);
        let demand = self.queue.unfinalized_steth();
        if demand <= covered {
            return Vec::new();
        }
        let need = (demand - covered).div_up_c(DEPOSIT_SIZE).unwrap_or(U256::MAX);
        let limit = U256::from(self.params.sanity.max_validator_exit_requests_per_report);
        let mut n = u64::try_from(need.min(limit)).unwrap_or(self.params.sanity.max_validator_exit_requests_per_report);
        let ops: Vec<&Operator> = self.modules.iter().flat_map(|m| m.operators.iter()).collect();
        let mut left: Vec<u64> = ops
            .iter()
            .map(|o| o.active().saturating_sub(o.pending_exits()))
            .collect();
        let mut take = vec![0u64; ops.len()];
        while n > 0 {
            let mut best: Option<usize> = None;
            for (i, l) in left.iter().enumerate() {
                if *l > 0 && best.is_none_or(|b| *l > left[b]) {
                    best = Some(i);
                }
            }
            let Some(b) = best else { break };
            left[b] -= 1;
            take[b] += 1;
            n -= 1;
        }
        ops.iter()
            .zip(take)
            .filter(|(_, k)| *k > 0)
            .map(|(o, k)| (o.name.clone(), k))
            .collect()
    }

    /// Records validator exit requests (the engine then exits them on L0).
    ///
    /// Specification: fails with `UnknownOperator`, `ExitExceedsActiveValidators` (more than the
    /// operator's active validators not yet requested), `IncorrectNumberOfExitRequestsPerReport`.
    pub fn on_exits_requested(&mut self, requests: &[(String, u64)]) -> Result<Vec<LidoEvent>, LidoError> {
        let total: u64 = requests.iter().fold(0u64, |a, (_, n)| a.saturating_add(*n));
        let limit = self.params.sanity.max_validator_exit_requests_per_report;
        if total > limit {
            return Err(LidoError::IncorrectNumberOfExitRequestsPerReport {
                requested: total,
                limit,
            });
        }
        let mut upd: Vec<((usize, usize), u64)> = Vec::new();
        for (name, n) in requests {
            let key = find_op(&self.modules, name)?;
            let prev = upd.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap_or(0);
            let o = &self.modules[key.0].operators[key.1];
            let available = o.active().saturating_sub(o.pending_exits()).saturating_sub(prev);
            if *n > available {
                return Err(LidoError::ExitExceedsActiveValidators {
                    operator: name.clone(),
                    requested: *n,
                    available,
                });
            }
            match upd.iter_mut().find(|(k, _)| *k == key) {
                Some(e) => e.1 += n,
                None => upd.push((key, *n)),
            }
        }
        let mut events = Vec::new();
        for ((mi, oi), n) in upd {
            let o = &mut self.modules[mi].operators[oi];
            o.exit_requested = o.exit_requested.max(o.exited) + n;
            events.push(LidoEvent::ExitsRequested {
                operator: o.name.clone(),
                validators: n,
            });
        }
        Ok(events)
    }

    // ------------------------------------------------------------------ oracle report

    /// `StakingRouter.getStakingRewardsDistribution` for given exited counts:
    /// per module `(module_fee_1e20, active)` and the total fee (1e20 precision).
    fn rewards_distribution(&self, exited: &[Vec<u64>]) -> Result<(Vec<(U256, u64)>, U256), LidoError> {
        let actives: Vec<u64> = self
            .modules
            .iter()
            .zip(exited)
            .map(|(m, ex)| {
                m.operators
                    .iter()
                    .zip(ex)
                    .map(|(o, e)| o.deposited.saturating_sub(*e))
                    .sum()
            })
            .collect();
        let total_active: u64 = actives.iter().sum();
        let mut out = Vec::with_capacity(self.modules.len());
        let mut total_fee = U256::ZERO;
        for (m, a) in self.modules.iter().zip(&actives) {
            if *a == 0 || total_active == 0 {
                out.push((U256::ZERO, *a));
                continue;
            }
            let share = U256::from(*a).mul_c(FEE_PRECISION)? / U256::from(total_active);
            let module_fee = share.mul_c(U256::from(m.module_fee_bp))? / MAX_BASIS_POINTS;
            total_fee = total_fee
                .add_c(share.mul_c(U256::from(m.treasury_fee_bp))? / MAX_BASIS_POINTS)?
                .add_c(module_fee)?;
            out.push((module_fee, *a));
        }
        Ok((out, total_fee))
    }

    fn compute_report(&self, ledger: &Ledger, r: &LidoReport) -> Result<ReportPlan, LidoError> {
        let s = &self.params.sanity;
        if r.timestamp <= self.last_report_timestamp {
            return Err(LidoError::StaleReport {
                timestamp: r.timestamp,
                last: self.last_report_timestamp,
            });
        }
        let time_elapsed = r.timestamp - self.last_report_timestamp;
        if r.cl_validators > self.deposited_validators {
            return Err(LidoError::ReportedMoreDeposited {
                reported: r.cl_validators,
                deposited: self.deposited_validators,
            });
        }
        if r.cl_validators < self.cl_validators {
            return Err(LidoError::ReportedLessValidators {
                reported: r.cl_validators,
                previous: self.cl_validators,
            });
        }
        // Exited validators by operator (AccountingOracle → StakingRouter), with the exit-rate check.
        let mut exited: Vec<Vec<u64>> = self
            .modules
            .iter()
            .map(|m| m.operators.iter().map(|o| o.exited).collect())
            .collect();
        for (name, cnt) in &r.exited_validators {
            let (mi, oi) = find_op(&self.modules, name)?;
            let o = &self.modules[mi].operators[oi];
            if *cnt < o.exited {
                return Err(LidoError::ExitedValidatorsCountCannotDecrease {
                    operator: name.clone(),
                    reported: *cnt,
                    previous: o.exited,
                });
            }
            if *cnt > o.deposited {
                return Err(LidoError::ReportedExitedExceedsDeposited {
                    operator: name.clone(),
                    reported: *cnt,
                    deposited: o.deposited,
                });
            }
            exited[mi][oi] = *cnt;
        }
        let prev_total_exited: u64 = self
            .modules
            .iter()
            .flat_map(|m| m.operators.iter())
            .map(|o| o.exited)
            .sum();
        let total_exited: u64 = exited.iter().flatten().sum();
        let newly_exited = total_exited - prev_total_exited;
        if newly_exited > 0 {
            let per_day = U256::from(newly_exited) * U256::from(SECONDS_PER_DAY) / U256::from(time_elapsed);
            if per_day > U256::from(s.exited_validators_per_day) {
                return Err(LidoError::ExitedValidatorsLimitExceeded {
                    limit_per_day: s.exited_validators_per_day,
                    exited_per_day: per_day,
                });
            }
        }
        let pre_tpe = self.total_pooled_ether()?;
        let pre_ts = self.total_shares;
        // Bond penalties of bonded operators (CSM: penalty → burner, burnt by this report).
        let mut penalties = Vec::new();
        let mut penalty_shares = U256::ZERO;
        for (name, loss) in &r.operator_losses {
            let (mi, oi) = find_op(&self.modules, name)?;
            if self.modules[mi].kind == ModuleKind::Curated || *loss == U256::ZERO {
                continue;
            }
            let already: U256 = penalties
                .iter()
                .filter(|p: &&(usize, usize, U256, U256, U256)| p.0 == mi && p.1 == oi)
                .fold(U256::ZERO, |a, p| a + p.4);
            let bond = self.modules[mi].operators[oi].bond_shares - already;
            let value = pooled_eth_by_shares(pre_tpe, pre_ts, bond)?;
            let covered = (*loss).min(value);
            let shares = shares_by_pooled_eth(pre_tpe, pre_ts, covered)?.min(bond);
            penalty_shares = penalty_shares.add_c(shares)?;
            penalties.push((mi, oi, *loss, covered, shares));
        }
        let requested_to_burn = ledger.balance(self.accounts.burner, self.steth).add_c(penalty_shares)?;
        // Withdrawal queue prefinalisation.
        let (ether_to_lock, wq_shares) = match r.withdrawal_finalization_batches.last() {
            None => (U256::ZERO, U256::ZERO),
            Some(&last) => {
                if last > self.queue.last_request_id() || last == 0 {
                    return Err(LidoError::InvalidRequestId { request_id: last });
                }
                let created = self
                    .queue
                    .requests
                    .get(stake_math::index(last))
                    .ok_or(LidoError::InvalidRequestId { request_id: last })?
                    .timestamp;
                if r.timestamp < created.saturating_add(s.request_timestamp_margin_s) {
                    return Err(LidoError::IncorrectRequestFinalization {
                        request_timestamp: created,
                        report_timestamp: r.timestamp,
                    });
                }
                self.queue
                    .prefinalize(&r.withdrawal_finalization_batches, r.simulated_share_rate)?
            }
        };
        let appeared = r.cl_validators - self.cl_validators;
        let principal_cl = self.cl_balance.add_c(deposits_wei(appeared)?)?;
        let wv_balance = ledger.balance(self.accounts.withdrawal_vault, self.eth);
        let el_balance = ledger.balance(self.accounts.el_vault, self.eth);
        // Positive rebase smoothing.
        let mut lim = RebaseLimiter::new(s.max_positive_token_rebase, pre_tpe, pre_ts)?;
        if r.cl_balance_wei < principal_cl {
            lim.decrease_ether(principal_cl - r.cl_balance_wei)?;
        } else {
            lim.increase_ether(r.cl_balance_wei - principal_cl)?;
        }
        let withdrawals = lim.increase_ether(wv_balance)?;
        let el_rewards = lim.increase_ether(el_balance)?;
        let simulated_shares_to_burn = lim.shares_to_burn_limit()?.min(requested_to_burn);
        lim.decrease_ether(ether_to_lock)?;
        let shares_to_burn = lim.shares_to_burn_limit()?.min(wq_shares.add_c(requested_to_burn)?);
        let shares_to_burn_due_to_wq = shares_to_burn.sub_c(simulated_shares_to_burn)?;
        // Sanity: CL balance decrease over 18 days (with second opinion).
        let negative = principal_cl.saturating_sub(r.cl_balance_wei.add_c(wv_balance)?);
        let mut history = self.report_history.clone();
        history.push(ReportData {
            timestamp: r.timestamp,
            total_exited_validators: total_exited,
            negative_cl_rebase_wei: negative,
        });
        if negative > U256::ZERO {
            let t18 = r.timestamp.saturating_sub(18 * SECONDS_PER_DAY);
            let t54 = r.timestamp.saturating_sub(54 * SECONDS_PER_DAY);
            let mut sum = U256::ZERO;
            for d in history.iter().rev() {
                if d.timestamp > t18 {
                    sum = sum.add_c(d.negative_cl_rebase_wei)?;
                } else {
                    break;
                }
            }
            let exited_at = |t: u64| {
                history
                    .iter()
                    .rev()
                    .find(|d| d.timestamp <= t)
                    .map(|d| d.total_exited_validators)
                    .unwrap_or(0)
            };
            let v18 = U256::from(
                r.cl_validators
                    .checked_sub(exited_at(t18))
                    .ok_or(stake_math::MathError::Underflow)?,
            );
            let v54 = U256::from(
                r.cl_validators
                    .checked_sub(exited_at(t54))
                    .ok_or(stake_math::MathError::Underflow)?,
            );
            let max_sum = U256::from(s.initial_slashing_amount_pwei)
                .mul_c(ONE_PWEI)?
                .mul_c(v18)?
                .add_c(
                    U256::from(s.inactivity_penalties_amount_pwei)
                        .mul_c(ONE_PWEI)?
                        .mul_c(v54)?,
                )?;
            if sum > max_sum {
                match &r.second_opinion {
                    None => {
                        return Err(LidoError::IncorrectCLBalanceDecrease {
                            negative_cl_rebase_sum: sum,
                            max_negative_cl_rebase_sum: max_sum,
                        })
                    }
                    Some(so) => {
                        let cl = so.cl_balance_gwei.mul_c(U256::new(1_000_000_000))?;
                        let lim_bp = s.cl_balance_oracles_error_upper_bp;
                        let mismatch = LidoError::NegativeRebaseFailedCLBalanceMismatch {
                            reported: r.cl_balance_wei,
                            proved: cl,
                            limit_bp: lim_bp,
                        };
                        if cl < r.cl_balance_wei {
                            return Err(mismatch);
                        }
                        if MAX_BASIS_POINTS.mul_c(cl - r.cl_balance_wei)? > U256::from(lim_bp).mul_c(cl)? {
                            return Err(mismatch);
                        }
                        if so.withdrawal_vault_balance_wei != wv_balance {
                            return Err(LidoError::NegativeRebaseFailedWithdrawalVaultBalanceMismatch {
                                reported: wv_balance,
                                proved: so.withdrawal_vault_balance_wei,
                            });
                        }
                    }
                }
            }
        }
        let cutoff = r.timestamp.saturating_sub(54 * SECONDS_PER_DAY);
        if let Some(keep_from) = history.iter().rposition(|d| d.timestamp <= cutoff) {
            history.drain(..keep_from);
        }
        // Sanity: annual balance increase.
        let pre_cl = if principal_cl == U256::ZERO {
            U256::new(1_000_000_000)
        } else {
            principal_cl
        };
        if r.cl_balance_wei > pre_cl {
            let annual = U256::from(365 * SECONDS_PER_DAY)
                .mul_c(MAX_BASIS_POINTS)?
                .mul_c(r.cl_balance_wei - pre_cl)?
                .div_c(pre_cl)?
                .div_c(U256::from(time_elapsed))?;
            if annual > U256::from(s.annual_balance_increase_bp) {
                return Err(LidoError::IncorrectCLBalanceIncrease {
                    annual_increase_bp: annual,
                    limit_bp: s.annual_balance_increase_bp,
                });
            }
        }
        // Sanity: appeared validators.
        if appeared > 0 {
            let limit =
                U256::from(s.appeared_validators_per_day) * U256::from(time_elapsed) / U256::from(SECONDS_PER_DAY);
            if U256::from(appeared) > limit {
                return Err(LidoError::IncorrectAppearedValidators { appeared, limit });
            }
        }
        // The buffer must hold the ether to lock.
        let available = self.buffered_ether.add_c(withdrawals)?.add_c(el_rewards)?;
        if ether_to_lock > available {
            return Err(LidoError::InsufficientBufferForFinalization {
                required: ether_to_lock,
                available,
            });
        }
        // Fees.
        let (dist, total_fee) = self.rewards_distribution(&exited)?;
        let unified_cl = r.cl_balance_wei.add_c(withdrawals)?;
        let fee = if unified_cl > principal_cl && total_fee > U256::ZERO {
            let rewards = (unified_cl - principal_cl).add_c(el_rewards)?;
            fee_shares(
                pre_tpe.sub_c(ether_to_lock)?,
                pre_ts.sub_c(shares_to_burn)?,
                rewards,
                total_fee,
            )?
        } else {
            U256::ZERO
        };
        let post_tpe = pre_tpe
            .add_c(r.cl_balance_wei)?
            .add_c(withdrawals)?
            .add_c(el_rewards)?
            .sub_c(principal_cl)?
            .sub_c(ether_to_lock)?;
        let post_ts = pre_ts.add_c(fee)?.sub_c(shares_to_burn)?;
        // Sanity: simulated share rate.
        if !r.withdrawal_finalization_batches.is_empty() {
            let actual = mul_div_down(
                post_tpe.add_c(ether_to_lock)?,
                E27,
                post_ts.add_c(shares_to_burn_due_to_wq)?,
            )?;
            if actual == U256::ZERO {
                return Err(LidoError::ActualShareRateIsZero);
            }
            let diff = actual.abs_diff(r.simulated_share_rate);
            let deviation = MAX_BASIS_POINTS.mul_c(diff)? / actual;
            if deviation > U256::from(s.simulated_share_rate_deviation_bp) {
                return Err(LidoError::IncorrectSimulatedShareRate {
                    simulated: r.simulated_share_rate,
                    actual,
                });
            }
        }
        // Fee distribution: modules by active validators, then operators; treasury the rest.
        let mut mints = Vec::new();
        let mut to_modules = U256::ZERO;
        if fee > U256::ZERO {
            for (mi, (module_fee, active)) in dist.iter().enumerate() {
                if *module_fee == U256::ZERO {
                    continue;
                }
                let m_shares = mul_div_down(fee, *module_fee, total_fee)?;
                to_modules = to_modules.add_c(m_shares)?;
                let m = &self.modules[mi];
                let mut given = U256::ZERO;
                for (oi, o) in m.operators.iter().enumerate() {
                    let a = o.deposited.saturating_sub(exited[mi][oi]);
                    if a == 0 {
                        continue;
                    }
                    let part = mul_div_down(m_shares, U256::from(a), U256::from(*active))?;
                    given += part;
                    match m.kind {
                        ModuleKind::Curated => mints.push((o.reward_account, part, None)),
                        ModuleKind::Bonded { .. } => mints.push((self.accounts.bond, part, Some((mi, oi)))),
                    }
                }
                mints.push((m.account, m_shares - given, None));
            }
            mints.push((self.accounts.treasury, fee.sub_c(to_modules)?, None));
            mints.retain(|(_, s, _)| *s > U256::ZERO);
        }
        Ok(ReportPlan {
            time_elapsed,
            exited,
            penalties,
            ether_to_lock,
            wq_shares,
            withdrawals,
            el_rewards,
            shares_to_burn,
            fee_shares: fee,
            mints,
            summary: ReportSummary {
                pre_total_pooled_ether: pre_tpe,
                pre_total_shares: pre_ts,
                post_total_pooled_ether: post_tpe,
                post_total_shares: post_ts,
                withdrawals,
                el_rewards,
                ether_to_lock,
                shares_burnt: shares_to_burn,
                fee_shares: fee,
                principal_cl_balance: principal_cl,
            },
            history,
            withdrawal_vault_balance: wv_balance,
        })
    }

    /// The share rate (ray) the report would produce with no withdrawal finalized — what the
    /// off-chain oracle computes as `simulatedShareRate`.
    pub fn simulate_share_rate(&self, ledger: &Ledger, report: &LidoReport) -> Result<U256, LidoError> {
        let mut r = report.clone();
        r.withdrawal_finalization_batches.clear();
        let plan = self.compute_report(ledger, &r)?;
        share_rate_ray(&plan.summary)
    }

    /// Builds a report as the off-chain oracle does: simulated share rate, then the finalization
    /// batches the buffer (plus drawn vaults) can pay for requests older than the margin.
    pub fn build_report(
        &self,
        ledger: &Ledger,
        timestamp: u64,
        cl_validators: u64,
        cl_balance_wei: U256,
        exited_validators: Vec<(String, u64)>,
        operator_losses: Vec<(String, U256)>,
    ) -> Result<LidoReport, LidoError> {
        let mut r = LidoReport {
            timestamp,
            cl_validators,
            cl_balance_wei,
            exited_validators,
            withdrawal_finalization_batches: Vec::new(),
            simulated_share_rate: U256::ZERO,
            operator_losses,
            second_opinion: None,
        };
        let plan = self.compute_report(ledger, &r)?;
        let rate = share_rate_ray(&plan.summary)?;
        let budget = self.buffered_ether.add_c(plan.withdrawals)?.add_c(plan.el_rewards)?;
        let max_ts = timestamp.saturating_sub(self.params.sanity.request_timestamp_margin_s);
        let (batches, _) = self.queue.calculate_finalization_batches(rate, max_ts, budget)?;
        r.withdrawal_finalization_batches = batches;
        r.simulated_share_rate = rate;
        Ok(r)
    }

    /// `handleOracleReport` (`Accounting.sol`): one frame's report. Steps: principal CL,
    /// withdrawal prefinalisation at `simulated_share_rate`, positive rebase smoothing (vaults
    /// drawn only up to the cap), fee only when the CL side gained, fee split across modules
    /// and operators (bonded operators' rewards go to their bond), burn of requested shares.
    ///
    /// Specification — fails, changing nothing, with:
    /// - `StaleReport` unless newer than the last report; `ReportedMoreDeposited`,
    ///   `ReportedLessValidators`; `UnknownOperator`, `ExitedValidatorsCountCannotDecrease`,
    ///   `ReportedExitedExceedsDeposited` for exited counts;
    /// - `ExitedValidatorsLimitExceeded` (exits per day), `InvalidRequestId`,
    ///   `IncorrectRequestFinalization` (request younger than the margin), `ZeroShareRate`,
    ///   `BatchesAreNotSorted`;
    /// - `IncorrectCLBalanceDecrease` (18-day negative rebase above the allowance, no second
    ///   opinion), `NegativeRebaseFailedCLBalanceMismatch`,
    ///   `NegativeRebaseFailedWithdrawalVaultBalanceMismatch`; `IncorrectCLBalanceIncrease`
    ///   (annual increase); `IncorrectAppearedValidators`;
    /// - `InsufficientBufferForFinalization`; `IncorrectSimulatedShareRate`, `ActualShareRateIsZero`.
    pub fn handle_oracle_report(
        &mut self,
        ledger: &mut Ledger,
        report: LidoReport,
        _now: u64,
    ) -> Result<(ReportSummary, Vec<LidoEvent>), LidoError> {
        let plan = self.compute_report(ledger, &report)?;
        let a = self.accounts.clone();
        let (eth, steth) = (self.eth, self.steth);
        let finalize = !report.withdrawal_finalization_batches.is_empty();
        ledger.atomic(|l| -> Result<(), LidoError> {
            for (_, _, _, _, shares) in &plan.penalties {
                l.transfer(a.bond, a.burner, steth, *shares)?;
            }
            l.transfer(a.withdrawal_vault, a.buffer, eth, plan.withdrawals)?;
            l.transfer(a.el_vault, a.buffer, eth, plan.el_rewards)?;
            if finalize {
                l.transfer(a.buffer, a.withdrawal_queue, eth, plan.ether_to_lock)?;
                l.transfer(a.withdrawal_queue, a.burner, steth, plan.wq_shares)?;
            }
            l.burn(a.burner, steth, plan.shares_to_burn)?;
            for (acct, shares, _) in &plan.mints {
                l.mint(*acct, steth, *shares)?;
            }
            Ok(())
        })?;
        let mut events = Vec::new();
        for (mi, oi, loss, covered, shares) in &plan.penalties {
            let o = &mut self.modules[*mi].operators[*oi];
            o.bond_shares -= *shares;
            events.push(LidoEvent::BondPenalized {
                operator: o.name.clone(),
                loss: *loss,
                covered: *covered,
                shares: *shares,
            });
        }
        if let Some(&last) = report.withdrawal_finalization_batches.last() {
            let (from, to, shares) = self
                .queue
                .finalize(last, plan.ether_to_lock, report.simulated_share_rate)?;
            events.push(LidoEvent::WithdrawalsFinalized {
                from,
                to,
                ether_locked: plan.ether_to_lock,
                shares,
            });
        }
        for (acct, shares, bond) in &plan.mints {
            if let Some((mi, oi)) = bond {
                let o = &mut self.modules[*mi].operators[*oi];
                o.bond_shares += *shares;
            }
            events.push(LidoEvent::FeeMinted {
                recipient: ledger.account_name(*acct).to_string(),
                shares: *shares,
            });
        }
        for (m, ex) in self.modules.iter_mut().zip(&plan.exited) {
            for (o, e) in m.operators.iter_mut().zip(ex) {
                o.exited = *e;
                o.exit_requested = o.exit_requested.max(*e);
            }
        }
        self.cl_validators = report.cl_validators;
        self.cl_balance = report.cl_balance_wei;
        self.buffered_ether = self.buffered_ether + plan.withdrawals + plan.el_rewards - plan.ether_to_lock;
        self.total_shares = plan.summary.post_total_shares;
        self.last_report_timestamp = report.timestamp;
        self.report_history = plan.history;
        self.withdrawal_vault_after_report = plan.withdrawal_vault_balance - plan.withdrawals;
        let _ = plan.fee_shares;
        events.push(LidoEvent::TokenRebased {
            timestamp: report.timestamp,
            time_elapsed: plan.time_elapsed,
            summary: Box::new(plan.summary.clone()),
        });
        Ok((plan.summary, events))
    }

    // ------------------------------------------------------------------ invariants

    /// Every rule: ledger conservation (a full scan of the ledger) and [`Self::check_backing`].
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        ledger.check_conservation().map_err(|e| e.to_string())?;
        self.check_backing(ledger)
    }

    /// Backing rules: Σ share balances = total shares = ledger supply; `:buffer` ETH = buffered
    /// accounting; `:withdrawal_queue` ETH ≥ locked and its shares = unfinalized shares;
    /// `:wsteth` shares ≥ wstETH supply; `:bond` shares = Σ operators' bonds; deposited
    /// validators = Σ operators' and ≥ CL validators; pooled ether = buffer + CL + transient.
    /// Costs what the protocol holds (reserves, operators, requests), never a scan of the ledger.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        let supply = ledger.supply(self.steth);
        if supply != self.total_shares {
            return Err(format!(
                "stETH share supply {supply} != total shares {}",
                self.total_shares
            ));
        }
        let buf = ledger.balance(self.accounts.buffer, self.eth);
        if buf != self.buffered_ether {
            return Err(format!(
                "buffer account holds {buf} wei, accounting says {}",
                self.buffered_ether
            ));
        }
        let q = ledger.balance(self.accounts.withdrawal_queue, self.eth);
        if q < self.queue.locked_ether {
            return Err(format!(
                "withdrawal queue holds {q} wei < locked {}",
                self.queue.locked_ether
            ));
        }
        let qs = ledger.balance(self.accounts.withdrawal_queue, self.steth);
        if qs != self.queue.unfinalized_shares() {
            return Err(format!(
                "withdrawal queue holds {qs} shares != unfinalized {}",
                self.queue.unfinalized_shares()
            ));
        }
        let ws = ledger.balance(self.accounts.wsteth, self.steth);
        if ws < ledger.supply(self.wsteth) {
            return Err(format!(
                "wstETH backing {ws} shares < supply {}",
                ledger.supply(self.wsteth)
            ));
        }
        let bonds = self
            .modules
            .iter()
            .flat_map(|m| m.operators.iter())
            .fold(U256::ZERO, |a, o| a + o.bond_shares);
        let b = ledger.balance(self.accounts.bond, self.steth);
        if b != bonds {
            return Err(format!("bond account holds {b} shares != Σ bonds {bonds}"));
        }
        let dep: u64 = self
            .modules
            .iter()
            .flat_map(|m| m.operators.iter())
            .map(|o| o.deposited)
            .sum();
        if dep != self.deposited_validators || self.cl_validators > self.deposited_validators {
            return Err(format!(
                "deposited {} vs operators {dep}, CL validators {}",
                self.deposited_validators, self.cl_validators
            ));
        }
        let tpe = self.total_pooled_ether().map_err(|e| e.to_string())?;
        let parts = self.buffered_ether + self.cl_balance + self.transient_ether().map_err(|e| e.to_string())?;
        if tpe != parts {
            return Err(format!("pooled ether {tpe} != buffer + CL + transient {parts}"));
        }
        Ok(())
    }
}

impl Lido {
    /// Governance: turn the staking limit on or off (`setStakingLimit` / `removeStakingLimit`).
    /// When turned on it starts full at `now` (`prevStakeLimit = maxStakeLimit`).
    ///
    /// Specification: never fails; returns `Result` for symmetry with other governance calls.
    pub fn set_staking_limit_enabled(&mut self, enabled: bool, now: u64) -> Result<(), LidoError> {
        let block = now / self.params.seconds_per_slot.max(1);
        self.stake_limit.enabled = enabled;
        self.stake_limit.prev_block = block;
        self.stake_limit.prev_limit = self.stake_limit.max_limit;
        self.params.staking_limit_enabled = enabled;
        Ok(())
    }

    /// Governance: replace the oracle report sanity limits
    /// (`OracleReportSanityChecker.setOracleReportLimits`).
    pub fn set_sanity_limits(&mut self, limits: SanityLimits) {
        self.params.sanity = limits;
    }
}
