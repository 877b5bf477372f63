//! `exchange_rate` model (SPEC §4.3) — custodial or curated staking with an exchange-rate token
//! (cbETH, ankrETH, wBETH, Stakewise osETH, Bedrock uniETH), plus the frxETH/sfrxETH two-token
//! variant in [`frx`].
//!
//! [`ExchangeRateLst`] — one operator-run pool:
//! - **Rate.** `rate_wad` (ETH per token, wad) is set by the operator oracle; deposits mint
//!   `⌊eth·1e18/rate⌋` tokens and withdrawal requests are valued at `⌊tokens·rate/1e18⌋` ETH, both
//!   rounded down in the pool's favour, so `⌊supply·rate/1e18⌋ ≤ pooled ETH` always holds.
//! - **Oracle report** (`report`): the operator reports its validators' L0 summary (validators that
//!   appeared, their balance, exited count); ETH swept to the withdrawal vault is read from the ledger
//!   and moved to the buffer. As in Lido's accounting: `principal = preCL + (validators − preValidators)·32`,
//!   `rewards = CL + withdrawals − principal` when positive; commission `feeEth = ⌊rewards·commission/1e18⌋`
//!   is minted as tokens to the treasury, `feeTokens = ⌊feeEth·supply/(postPooled − feeEth)⌋` (so the
//!   treasury's tokens are worth the fee at the new rate, rounded down), and the new rate is
//!   `⌊postPooled·1e18/(supply + feeTokens)⌋`. A rate move above the configured per-report limits is
//!   rejected.
//! - **Withdrawals** burn the tokens at request (value fixed at the request's rate), then wait in a FIFO
//!   unbonding queue: a request finalises after `unbonding_delay_s` and only when the buffer (deposits +
//!   ETH swept from exits) covers it; `validators_to_exit` / `on_exits_requested` ask L0 for exits to
//!   cover the rest, so exits (L0 churn) bound the queue.
//! - **Validators:** `deposit_plan` / `on_deposited` as the other LST models (ETH moves from the buffer
//!   to `<sym>:staging`; the engine takes 32 ETH per validator from there into L0 with withdrawal
//!   credentials `<sym>:withdrawal_vault`).

// Rejections carry the offending values (SPEC §1.3), so the error enums are large by design;
// they are returned on the rare rejection path only.
#![allow(clippy::result_large_err)]

#[path = "exchange_rate/frx.rs"]
pub mod frx;

pub use frx::{FrxEth, FrxEthEvent, FrxEthParams};

use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AccountId, AssetId, AssetKind, Ledger, LedgerError, Reject, StateHash};
use stake_math::{mul_div_down, u, Checked, MathError, U256, WAD};
use std::collections::VecDeque;
use std::fmt;

/// Deposit size of one validator: 32 ETH.
pub const VALIDATOR_WEI: U256 = u(32_000_000_000_000_000_000);

/// Errors of the `exchange_rate` module (both [`ExchangeRateLst`] and [`FrxEth`]). Codes 3200–3299.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExchangeRateError {
    /// A zero amount where a positive one is needed.
    ZeroAmount,
    /// A deposit below the minimum.
    BelowMinimumDeposit {
        /// Deposited wei.
        amount: U256,
        /// Minimum wei.
        minimum: U256,
    },
    /// The deposit buys zero tokens at the current rate.
    ZeroMint {
        /// Deposited wei.
        amount: U256,
    },
    /// The holder has fewer tokens than needed.
    InsufficientTokens {
        /// Holder's balance.
        balance: U256,
        /// Tokens required.
        required: U256,
    },
    /// The withdrawal is worth zero ETH at the current rate.
    ZeroWithdrawal {
        /// Tokens offered.
        tokens: U256,
    },
    /// No withdrawal request with this id.
    UnknownRequest {
        /// Request id.
        id: u64,
    },
    /// The request belongs to another account.
    NotRequestOwner {
        /// Request id.
        id: u64,
    },
    /// The request is not finalised yet.
    NotFinalized {
        /// Request id.
        id: u64,
    },
    /// The request was claimed already.
    AlreadyClaimed {
        /// Request id.
        id: u64,
    },
    /// A deposit plan larger than the depositable buffer.
    PlanTooLarge {
        /// Validators in the plan.
        requested: u64,
        /// Validators the buffer can fund.
        available: u64,
    },
    /// More exits requested than active validators without a pending exit.
    ExitsTooLarge {
        /// Exits requested.
        requested: u64,
        /// Validators that can still be asked to exit.
        active: u64,
    },
    /// A report before `last + min_report_interval_s`.
    ReportTooEarly {
        /// Report time.
        now: u64,
        /// Earliest accepted time.
        earliest: u64,
    },
    /// A report whose counters go backwards or exceed what was deposited.
    InvalidReport {
        /// Which check failed, with the values.
        reason: String,
    },
    /// The new rate moves by more than the per-report limit.
    RateChangeTooLarge {
        /// Rate before, wad.
        old_rate: U256,
        /// Rate the report implies, wad.
        new_rate: U256,
        /// Largest accepted move in that direction, wad.
        max_change: U256,
    },
    /// Nothing arrived in the withdrawal vault to distribute.
    NothingToDistribute,
    /// `syncRewards` before the end of the rewards cycle (`SyncError`).
    SyncTooEarly {
        /// Call time.
        now: u64,
        /// End of the current cycle.
        cycle_end: u64,
    },
    /// An ERC-4626 deposit/mint that yields zero shares (`ZERO_SHARES`).
    ZeroShares,
    /// An ERC-4626 redeem that yields zero assets (`ZERO_ASSETS`).
    ZeroAssets,
    /// A timestamp that does not fit the vault's `uint32` (`safeCastTo32`).
    TimestampOverflow {
        /// The time.
        now: u64,
    },
    /// A withhold ratio above 100 % (1e6).
    WithholdRatioTooHigh {
        /// The ratio, 1e6 precision.
        ratio: U256,
    },
    /// A ledger failure.
    Ledger(LedgerError),
    /// An arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for ExchangeRateError {
    fn from(e: LedgerError) -> Self {
        ExchangeRateError::Ledger(e)
    }
}

impl From<MathError> for ExchangeRateError {
    fn from(e: MathError) -> Self {
        ExchangeRateError::Math(e)
    }
}

impl fmt::Display for ExchangeRateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExchangeRateError as E;
        match self {
            E::ZeroAmount => write!(f, "amount must be positive"),
            E::BelowMinimumDeposit { amount, minimum } => {
                write!(f, "deposit of {amount} wei is below the minimum {minimum} wei")
            }
            E::ZeroMint { amount } => write!(f, "deposit of {amount} wei mints zero tokens"),
            E::InsufficientTokens { balance, required } => {
                write!(f, "insufficient tokens: holds {balance}, needs {required}")
            }
            E::ZeroWithdrawal { tokens } => write!(f, "{tokens} tokens are worth zero ETH"),
            E::UnknownRequest { id } => write!(f, "no withdrawal request {id}"),
            E::NotRequestOwner { id } => {
                write!(f, "withdrawal request {id} belongs to another account")
            }
            E::NotFinalized { id } => write!(f, "withdrawal request {id} is not finalised"),
            E::AlreadyClaimed { id } => write!(f, "withdrawal request {id} was already claimed"),
            E::PlanTooLarge { requested, available } => {
                write!(f, "deposit plan of {requested} validators, buffer funds {available}")
            }
            E::ExitsTooLarge { requested, active } => {
                write!(f, "{requested} exits requested, {active} validators can exit")
            }
            E::ReportTooEarly { now, earliest } => {
                write!(f, "report at {now} before the earliest time {earliest}")
            }
            E::InvalidReport { reason } => write!(f, "invalid report: {reason}"),
            E::RateChangeTooLarge {
                old_rate,
                new_rate,
                max_change,
            } => {
                write!(f, "rate change {old_rate} → {new_rate} exceeds the limit {max_change}")
            }
            E::NothingToDistribute => write!(f, "no rewards arrived to distribute"),
            E::SyncTooEarly { now, cycle_end } => {
                write!(f, "syncRewards at {now} before the cycle end {cycle_end}")
            }
            E::ZeroShares => write!(f, "ZERO_SHARES: the deposit mints no shares"),
            E::ZeroAssets => write!(f, "ZERO_ASSETS: the redemption pays no assets"),
            E::TimestampOverflow { now } => write!(f, "timestamp {now} does not fit uint32"),
            E::WithholdRatioTooHigh { ratio } => {
                write!(f, "withhold ratio {ratio} exceeds 1e6 (100 %)")
            }
            E::Ledger(e) => write!(f, "{e}"),
            E::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ExchangeRateError {}

impl Reject for ExchangeRateError {
    fn code(&self) -> u32 {
        use ExchangeRateError as E;
        match self {
            E::ZeroAmount => 3200,
            E::BelowMinimumDeposit { .. } => 3201,
            E::ZeroMint { .. } => 3202,
            E::InsufficientTokens { .. } => 3203,
            E::ZeroWithdrawal { .. } => 3204,
            E::UnknownRequest { .. } => 3205,
            E::NotRequestOwner { .. } => 3206,
            E::NotFinalized { .. } => 3207,
            E::AlreadyClaimed { .. } => 3208,
            E::PlanTooLarge { .. } => 3209,
            E::ExitsTooLarge { .. } => 3210,
            E::ReportTooEarly { .. } => 3211,
            E::InvalidReport { .. } => 3212,
            E::RateChangeTooLarge { .. } => 3213,
            E::NothingToDistribute => 3214,
            E::SyncTooEarly { .. } => 3215,
            E::ZeroShares => 3216,
            E::ZeroAssets => 3217,
            E::TimestampOverflow { .. } => 3218,
            E::WithholdRatioTooHigh { .. } => 3219,
            E::Ledger(e) => e.code(),
            E::Math(e) => e.code(),
        }
    }
}

pub(crate) fn get_or_register(ledger: &mut Ledger, symbol: &str, issuer: &str) -> Result<AssetId, LedgerError> {
    match ledger.asset(symbol) {
        Ok(id) => Ok(id),
        Err(_) => ledger.register_asset(symbol, 18, issuer, AssetKind::Plain),
    }
}

/// Parameters of an exchange-rate LST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRateParams {
    /// Token symbol; prefix of the module accounts.
    pub symbol: String,
    /// Native asset symbol (registered if missing).
    pub native_symbol: String,
    /// Operator name used in deposit and exit plans.
    pub operator: String,
    /// Commission on rewards, wad (cbETH 25 %).
    pub commission_wad: U256,
    /// Minimum deposit in wei.
    pub min_deposit_wei: U256,
    /// Rate at launch, wad.
    pub initial_rate_wad: U256,
    /// Largest rate increase per report as a fraction of the old rate, wad.
    pub max_rate_increase_wad: U256,
    /// Largest rate decrease per report as a fraction of the old rate, wad.
    pub max_rate_decrease_wad: U256,
    /// Minimum seconds between reports.
    pub min_report_interval_s: u64,
    /// Unbonding delay of a withdrawal request in seconds (on top of waiting for liquidity).
    pub unbonding_delay_s: u64,
}

impl ExchangeRateParams {
    fn preset(symbol: &str, operator: &str, commission_bps: u128, unbonding_days: u64) -> Self {
        Self {
            symbol: symbol.into(),
            native_symbol: "ETH".into(),
            operator: operator.into(),
            commission_wad: u(commission_bps) * WAD / u(10_000),
            min_deposit_wei: U256::ONE,
            initial_rate_wad: WAD,
            max_rate_increase_wad: u(5_000_000_000_000_000),
            max_rate_decrease_wad: u(50_000_000_000_000_000),
            min_report_interval_s: 86_400,
            unbonding_delay_s: unbonding_days * 86_400,
        }
    }
    /// Coinbase cbETH: 25 % commission.
    pub fn cbeth() -> Self {
        Self::preset("cbETH", "coinbase", 2_500, 0)
    }
    /// Ankr ankrETH: 10 % fee.
    pub fn ankreth() -> Self {
        Self::preset("ankrETH", "ankr", 1_000, 0)
    }
    /// Binance wBETH: 10 % commission.
    pub fn wbeth() -> Self {
        Self::preset("wBETH", "binance", 1_000, 0)
    }
    /// Stakewise v3 osETH-style vault: 5 % fee.
    pub fn stakewise() -> Self {
        Self::preset("osETH", "stakewise", 500, 0)
    }
    /// Bedrock uniETH: 10 % fee.
    pub fn unieth() -> Self {
        Self::preset("uniETH", "bedrock", 1_000, 0)
    }
}

impl Default for ExchangeRateParams {
    fn default() -> Self {
        Self::cbeth()
    }
}

/// L0 summary of the operator's validators, as reported by its oracle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRateReport {
    /// Validators that ever appeared on L0 (exited ones included).
    pub validators: u64,
    /// Their total balance in wei (exited ones count 0).
    pub balance_wei: U256,
    /// Validators that have exited (cumulative).
    pub exited_validators: u64,
}

/// A withdrawal request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRequest {
    /// Request id (sequential).
    pub id: u64,
    /// Owner.
    pub owner: AccountId,
    /// Tokens burned.
    pub tokens: U256,
    /// ETH owed.
    pub eth: U256,
    /// Request time.
    pub requested_at: u64,
    /// Finalised (ETH set aside in `<sym>:claimable`).
    pub finalized: bool,
    /// Paid out.
    pub claimed: bool,
}

/// Events of [`ExchangeRateLst`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExchangeRateEvent {
    /// ETH deposited, tokens minted.
    Deposited {
        /// Depositor.
        sender: AccountId,
        /// ETH in.
        eth: U256,
        /// Tokens minted.
        tokens: U256,
    },
    /// Tokens burned into a withdrawal request.
    WithdrawalRequested {
        /// Request id.
        id: u64,
        /// Owner.
        owner: AccountId,
        /// Tokens burned.
        tokens: U256,
        /// ETH owed.
        eth: U256,
    },
    /// A request finalised.
    WithdrawalFinalized {
        /// Request id.
        id: u64,
        /// ETH set aside.
        eth: U256,
    },
    /// A request paid out.
    WithdrawalClaimed {
        /// Request id.
        id: u64,
        /// Owner.
        owner: AccountId,
        /// ETH paid.
        eth: U256,
    },
    /// Validators funded; ETH in staging.
    ValidatorsDeposited {
        /// Validators.
        validators: u64,
    },
    /// Exits requested from L0.
    ExitsRequested {
        /// Validators.
        validators: u64,
    },
    /// Oracle report applied.
    Reported {
        /// Report time.
        time: u64,
        /// Rewards (0 on a loss).
        rewards: U256,
        /// Commission in ETH.
        fee_eth: U256,
        /// Tokens minted to the treasury.
        fee_tokens: U256,
        /// ETH moved from the withdrawal vault to the buffer.
        withdrawals: U256,
        /// New rate, wad.
        rate_wad: U256,
    },
}

/// Ledger handles of the module accounts of [`ExchangeRateLst`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRateAccounts {
    /// `<sym>:buffer` — deposited ETH not yet staked.
    pub buffer: AccountId,
    /// `<sym>:staging` — ETH of funded validators, taken into L0 by the engine.
    pub staging: AccountId,
    /// `<sym>:withdrawal_vault` — withdrawal credentials and fee recipient.
    pub withdrawal_vault: AccountId,
    /// `<sym>:claimable` — ETH of finalised requests.
    pub claimable: AccountId,
    /// `<sym>:treasury` — receives the commission tokens.
    pub treasury: AccountId,
}

/// An exchange-rate LST (cbETH-style).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExchangeRateLst {
    /// Parameters.
    pub params: ExchangeRateParams,
    /// The token.
    pub token: AssetId,
    /// Native asset.
    pub eth: AssetId,
    /// Module accounts.
    pub accounts: ExchangeRateAccounts,
    /// ETH per token, wad.
    pub rate_wad: U256,
    /// Buffered ETH (mirrors `<sym>:buffer`).
    pub buffered_wei: U256,
    /// Validators funded (cumulative).
    pub deposited_validators: u64,
    /// Validators seen on L0 at the last report (cumulative).
    pub cl_validators: u64,
    /// Their balance at the last report.
    pub cl_balance_wei: U256,
    /// Exited validators at the last report (cumulative).
    pub exited_validators: u64,
    /// Exits requested (cumulative).
    pub exits_requested: u64,
    /// ETH owed to unfinalised requests.
    pub unfinalized_wei: U256,
    /// ETH of finalised, unclaimed requests (mirrors `<sym>:claimable`).
    pub claimable_wei: U256,
    /// Requests by id (claimed ones are kept, marked).
    pub requests: VecDeque<WithdrawalRequest>,
    /// Id of the next request.
    pub next_request_id: u64,
    /// Time of the last report (0 before the first).
    pub last_report_time: u64,
}

impl StateHash for ExchangeRateLst {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

fn times(n: u64, x: U256) -> Result<U256, MathError> {
    U256::from(n).mul_c(x)
}

impl ExchangeRateLst {
    /// Registers the token (and the native asset if missing) and the module accounts.
    ///
    /// Specification:
    /// - fails with a ledger error if the token symbol is already registered.
    pub fn new(ledger: &mut Ledger, params: ExchangeRateParams) -> Result<Self, ExchangeRateError> {
        let sym = params.symbol.clone();
        let (eth, token, accounts) = ledger.atomic(|l| {
            let eth = get_or_register(l, &params.native_symbol, "native")?;
            let token = l.register_asset(&sym, 18, &params.operator, AssetKind::Plain)?;
            let accounts = ExchangeRateAccounts {
                buffer: l.account(&format!("{sym}:buffer")),
                staging: l.account(&format!("{sym}:staging")),
                withdrawal_vault: l.account(&format!("{sym}:withdrawal_vault")),
                claimable: l.account(&format!("{sym}:claimable")),
                treasury: l.account(&format!("{sym}:treasury")),
            };
            Ok::<_, LedgerError>((eth, token, accounts))
        })?;
        Ok(Self {
            rate_wad: params.initial_rate_wad,
            params,
            token,
            eth,
            accounts,
            buffered_wei: U256::ZERO,
            deposited_validators: 0,
            cl_validators: 0,
            cl_balance_wei: U256::ZERO,
            exited_validators: 0,
            exits_requested: 0,
            unfinalized_wei: U256::ZERO,
            claimable_wei: U256::ZERO,
            requests: VecDeque::new(),
            next_request_id: 0,
            last_report_time: 0,
        })
    }

    /// ETH per token, wad.
    pub fn rate_wad(&self) -> U256 {
        self.rate_wad
    }

    /// Pooled ETH backing the tokens: `buffer + CL balance + (deposited − seen)·32 − unfinalised`.
    pub fn total_pooled_wei(&self) -> Result<U256, MathError> {
        self.tvl_wei()?.sub_c(self.unfinalized_wei)
    }

    /// ETH under management (pooled + owed to unfinalised requests), excluding claimable ETH.
    pub fn tvl_wei(&self) -> Result<U256, MathError> {
        let transient = times(
            self.deposited_validators.saturating_sub(self.cl_validators),
            VALIDATOR_WEI,
        )?;
        self.buffered_wei.add_c(self.cl_balance_wei)?.add_c(transient)
    }

    /// Account the engine takes 32 ETH per validator from after [`ExchangeRateLst::on_deposited`].
    pub fn staging_account(&self) -> AccountId {
        self.accounts.staging
    }

    /// Withdrawal-credential (and fee-recipient) account.
    pub fn withdrawal_account(&self) -> AccountId {
        self.accounts.withdrawal_vault
    }

    /// A request by id.
    pub fn request(&self, id: u64) -> Option<&WithdrawalRequest> {
        let first = self.requests.front()?.id;
        self.requests.get(usize::try_from(id.checked_sub(first)?).ok()?)
    }

    /// Deposits `amount` ETH and mints `⌊amount·1e18/rate⌋` tokens.
    ///
    /// Specification:
    /// - fails with `BelowMinimumDeposit` below the minimum (and `ZeroAmount` for 0);
    /// - fails with `ZeroMint` when the tokens round to 0; with a ledger error when ETH is short.
    pub fn deposit(
        &mut self,
        ledger: &mut Ledger,
        sender: AccountId,
        amount: U256,
        _now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
        if amount == U256::ZERO {
            return Err(ExchangeRateError::ZeroAmount);
        }
        if amount < self.params.min_deposit_wei {
            return Err(ExchangeRateError::BelowMinimumDeposit {
                amount,
                minimum: self.params.min_deposit_wei,
            });
        }
        let tokens = mul_div_down(amount, WAD, self.rate_wad)?;
        if tokens == U256::ZERO {
            return Err(ExchangeRateError::ZeroMint { amount });
        }
        let buffered = self.buffered_wei.add_c(amount)?;
        let (eth, token, buf) = (self.eth, self.token, self.accounts.buffer);
        ledger.atomic(|l| {
            l.transfer(sender, buf, eth, amount)?;
            l.mint(sender, token, tokens)
        })?;
        self.buffered_wei = buffered;
        Ok(vec![ExchangeRateEvent::Deposited {
            sender,
            eth: amount,
            tokens,
        }])
    }

    /// Burns `tokens` of `owner` into a withdrawal request worth `⌊tokens·rate/1e18⌋` ETH.
    ///
    /// Specification:
    /// - fails with `ZeroAmount` for 0, `InsufficientTokens` when the owner holds fewer,
    ///   `ZeroWithdrawal` when the value rounds to 0.
    pub fn request_withdrawal(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        tokens: U256,
        now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
        if tokens == U256::ZERO {
            return Err(ExchangeRateError::ZeroAmount);
        }
        let balance = ledger.balance(owner, self.token);
        if balance < tokens {
            return Err(ExchangeRateError::InsufficientTokens {
                balance,
                required: tokens,
            });
        }
        let eth = mul_div_down(tokens, self.rate_wad, WAD)?;
        if eth == U256::ZERO {
            return Err(ExchangeRateError::ZeroWithdrawal { tokens });
        }
        let unfinalized = self.unfinalized_wei.add_c(eth)?;
        ledger.burn(owner, self.token, tokens)?;
        let id = self.next_request_id;
        self.next_request_id += 1;
        self.unfinalized_wei = unfinalized;
        self.requests.push_back(WithdrawalRequest {
            id,
            owner,
            tokens,
            eth,
            requested_at: now,
            finalized: false,
            claimed: false,
        });
        Ok(vec![ExchangeRateEvent::WithdrawalRequested { id, owner, tokens, eth }])
    }

    /// Finalises requests in FIFO order while the head has waited `unbonding_delay_s` and the buffer
    /// covers it; stops at the first that cannot be finalised. Never fails on an empty queue.
    ///
    /// Specification:
    /// - fails only with a ledger error if the buffer account disagrees with the accounting.
    pub fn process_withdrawals(
        &mut self,
        ledger: &mut Ledger,
        now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
        let mut total = U256::ZERO;
        let mut buffered = self.buffered_wei;
        let mut ids = Vec::new();
        for r in self.requests.iter().filter(|r| !r.finalized) {
            if r.requested_at.saturating_add(self.params.unbonding_delay_s) > now || buffered < r.eth {
                break;
            }
            buffered -= r.eth;
            total = total.add_c(r.eth)?;
            ids.push((r.id, r.eth));
        }
        if total > U256::ZERO {
            ledger.transfer(self.accounts.buffer, self.accounts.claimable, self.eth, total)?;
        }
        self.buffered_wei = buffered;
        self.unfinalized_wei = self.unfinalized_wei.sub_c(total)?;
        self.claimable_wei = self.claimable_wei.add_c(total)?;
        let mut events = Vec::new();
        for (id, eth) in ids {
            for r in self.requests.iter_mut().filter(|r| r.id == id) {
                r.finalized = true;
            }
            events.push(ExchangeRateEvent::WithdrawalFinalized { id, eth });
        }
        Ok(events)
    }

    /// Pays a finalised request to its owner.
    ///
    /// Specification:
    /// - fails with `UnknownRequest`, `NotRequestOwner`, `NotFinalized` or `AlreadyClaimed`.
    pub fn claim(
        &mut self,
        ledger: &mut Ledger,
        owner: AccountId,
        id: u64,
        _now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
        let r = self.request(id).ok_or(ExchangeRateError::UnknownRequest { id })?;
        if r.owner != owner {
            return Err(ExchangeRateError::NotRequestOwner { id });
        }
        if !r.finalized {
            return Err(ExchangeRateError::NotFinalized { id });
        }
        if r.claimed {
            return Err(ExchangeRateError::AlreadyClaimed { id });
        }
        let eth = r.eth;
        ledger.transfer(self.accounts.claimable, owner, self.eth, eth)?;
        self.claimable_wei = self.claimable_wei.sub_c(eth)?;
        for r in self.requests.iter_mut().filter(|r| r.id == id) {
            r.claimed = true;
        }
        // Drop fully settled requests from the front (bounded memory).
        while self.requests.front().is_some_and(|r| r.claimed) {
            self.requests.pop_front();
        }
        Ok(vec![ExchangeRateEvent::WithdrawalClaimed { id, owner, eth }])
    }

    /// Validators the buffer can fund: `⌊(buffer − unfinalised)/32 ETH⌋`, all for the operator.
    pub fn deposit_plan(&self) -> Vec<(String, u64)> {
        let avail = self.buffered_wei.saturating_sub(self.unfinalized_wei);
        let n = u64::try_from(avail / VALIDATOR_WEI).unwrap_or(u64::MAX);
        if n == 0 {
            return Vec::new();
        }
        vec![(self.params.operator.clone(), n)]
    }

    /// Funds the validators of `plan`: 32 ETH each moves from the buffer to `<sym>:staging`.
    /// **Contract with the engine:** it then moves that ETH into L0 with withdrawal credentials
    /// [`ExchangeRateLst::withdrawal_account`]; until the next report those validators count 32 ETH each.
    ///
    /// Specification:
    /// - fails with `PlanTooLarge` when the plan asks for more than [`ExchangeRateLst::deposit_plan`] allows.
    pub fn on_deposited(
        &mut self,
        ledger: &mut Ledger,
        plan: &[(String, u64)],
        _now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
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
        let amount = times(requested, VALIDATOR_WEI)?;
        // Ethereum refuses deposits beyond uint64 gwei of stake, so the count fits; checked all
        // the same, as every count reachable from input is.
        let deposited = self
            .deposited_validators
            .checked_add(requested)
            .ok_or(MathError::Overflow)?;
        let buffered = self.buffered_wei.sub_c(amount)?;
        ledger.transfer(self.accounts.buffer, self.accounts.staging, self.eth, amount)?;
        self.buffered_wei = buffered;
        self.deposited_validators = deposited;
        Ok(vec![ExchangeRateEvent::ValidatorsDeposited { validators: requested }])
    }

    fn pending_exits(&self) -> u64 {
        self.exits_requested.saturating_sub(self.exited_validators)
    }

    fn exitable(&self) -> u64 {
        self.deposited_validators
            .saturating_sub(self.exited_validators)
            .saturating_sub(self.pending_exits())
    }

    /// Exits needed so that the buffer plus ETH of pending exits covers the unfinalised requests:
    /// `⌈(unfinalised − buffer − pending·32)/32⌉`, capped by the validators that can still exit.
    pub fn validators_to_exit(&self) -> Vec<(String, u64)> {
        let pending = U256::from(self.pending_exits()) * VALIDATOR_WEI;
        let covered = self.buffered_wei.saturating_add(pending);
        let short = self.unfinalized_wei.saturating_sub(covered);
        let need = short.div_up_c(VALIDATOR_WEI).unwrap_or(U256::ZERO);
        let n = u64::try_from(need).unwrap_or(u64::MAX).min(self.exitable());
        if n == 0 {
            return Vec::new();
        }
        vec![(self.params.operator.clone(), n)]
    }

    /// Records that the engine asked L0 to exit the validators of `plan`.
    ///
    /// Specification:
    /// - fails with `ExitsTooLarge` when more exits are requested than validators can still exit.
    pub fn on_exits_requested(
        &mut self,
        plan: &[(String, u64)],
        _now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
        let requested = plan
            .iter()
            .try_fold(0u64, |a, (_, n)| a.checked_add(*n))
            .ok_or(MathError::Overflow)?;
        let active = self.exitable();
        if requested > active {
            return Err(ExchangeRateError::ExitsTooLarge { requested, active });
        }
        self.exits_requested += requested;
        Ok(vec![ExchangeRateEvent::ExitsRequested { validators: requested }])
    }

    /// Seconds a new withdrawal request is expected to wait: the unbonding delay, or the L0 exit wait
    /// (`exit_wait_seconds`, from the L0 churn) when the buffer does not cover the queue.
    pub fn queue_length_seconds(&self, exit_wait_seconds: u64) -> u64 {
        if self.unfinalized_wei > self.buffered_wei {
            self.params.unbonding_delay_s.max(exit_wait_seconds)
        } else {
            self.params.unbonding_delay_s
        }
    }

    /// Applies an operator oracle report (see the module doc for the formulas).
    ///
    /// Specification:
    /// - fails with `ReportTooEarly` before `last + min_report_interval_s`;
    /// - fails with `InvalidReport` when validators go backwards or exceed those funded, or exited
    ///   validators go backwards or exceed the validators;
    /// - fails with `RateChangeTooLarge` when the implied rate moves beyond the per-report limits.
    pub fn report(
        &mut self,
        ledger: &mut Ledger,
        report: &ExchangeRateReport,
        now: u64,
    ) -> Result<Vec<ExchangeRateEvent>, ExchangeRateError> {
        if self.last_report_time > 0 {
            let earliest = self.last_report_time.saturating_add(self.params.min_report_interval_s);
            if now < earliest {
                return Err(ExchangeRateError::ReportTooEarly { now, earliest });
            }
        }
        let invalid = |reason: String| ExchangeRateError::InvalidReport { reason };
        if report.validators < self.cl_validators || report.validators > self.deposited_validators {
            return Err(invalid(format!(
                "validators {} outside [{}, {}]",
                report.validators, self.cl_validators, self.deposited_validators
            )));
        }
        if report.exited_validators < self.exited_validators || report.exited_validators > report.validators {
            return Err(invalid(format!(
                "exited validators {} outside [{}, {}]",
                report.exited_validators, self.exited_validators, report.validators
            )));
        }
        let withdrawals = ledger.balance(self.accounts.withdrawal_vault, self.eth);
        let principal = self
            .cl_balance_wei
            .add_c(times(report.validators - self.cl_validators, VALIDATOR_WEI)?)?;
        let income = report.balance_wei.add_c(withdrawals)?;
        let rewards = income.saturating_sub(principal);
        let transient = times(self.deposited_validators - report.validators, VALIDATOR_WEI)?;
        let post_pooled = self
            .buffered_wei
            .add_c(income)?
            .add_c(transient)?
            .sub_c(self.unfinalized_wei)?;
        let fee_eth = mul_div_down(rewards, self.params.commission_wad, WAD)?;
        let supply = ledger.supply(self.token);
        let fee_tokens = if fee_eth > U256::ZERO && supply > U256::ZERO {
            mul_div_down(fee_eth, supply, post_pooled.sub_c(fee_eth)?)?
        } else {
            U256::ZERO
        };
        let new_supply = supply.add_c(fee_tokens)?;
        let old_rate = self.rate_wad;
        let new_rate = if new_supply == U256::ZERO {
            old_rate
        } else {
            mul_div_down(post_pooled, WAD, new_supply)?
        };
        if new_rate > old_rate {
            let max_change = mul_div_down(old_rate, self.params.max_rate_increase_wad, WAD)?;
            if new_rate - old_rate > max_change {
                return Err(ExchangeRateError::RateChangeTooLarge {
                    old_rate,
                    new_rate,
                    max_change,
                });
            }
        } else {
            let max_change = mul_div_down(old_rate, self.params.max_rate_decrease_wad, WAD)?;
            if old_rate - new_rate > max_change {
                return Err(ExchangeRateError::RateChangeTooLarge {
                    old_rate,
                    new_rate,
                    max_change,
                });
            }
        }
        let buffered = self.buffered_wei.add_c(withdrawals)?;
        let (eth, token, acc) = (self.eth, self.token, self.accounts.clone());
        ledger.atomic(|l| {
            if withdrawals > U256::ZERO {
                l.transfer(acc.withdrawal_vault, acc.buffer, eth, withdrawals)?;
            }
            if fee_tokens > U256::ZERO {
                l.mint(acc.treasury, token, fee_tokens)?;
            }
            Ok::<_, LedgerError>(())
        })?;
        self.buffered_wei = buffered;
        self.cl_validators = report.validators;
        self.cl_balance_wei = report.balance_wei;
        self.exited_validators = report.exited_validators;
        self.exits_requested = self.exits_requested.max(report.exited_validators);
        self.rate_wad = new_rate;
        self.last_report_time = now;
        Ok(vec![ExchangeRateEvent::Reported {
            time: now,
            rewards,
            fee_eth,
            fee_tokens,
            withdrawals,
            rate_wad: new_rate,
        }])
    }

    /// Every rule: ledger conservation (a full scan of the ledger) and [`Self::check_backing`].
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        ledger.check_conservation().map_err(|e| e.to_string())?;
        self.check_backing(ledger)
    }

    /// Backing rules (SPEC §4.3): buffer and claimable accounts mirror the accounting; unfinalised and
    /// claimable ETH equal the sums over the requests; `⌊supply·rate/1e18⌋ ≤ pooled ETH`.
    /// Costs what the protocol holds (reserves, operators, requests), never a scan of the ledger.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        let buf = ledger.balance(self.accounts.buffer, self.eth);
        if buf != self.buffered_wei {
            return Err(format!("buffer: ledger {buf}, accounting {}", self.buffered_wei));
        }
        let cl = ledger.balance(self.accounts.claimable, self.eth);
        if cl != self.claimable_wei {
            return Err(format!("claimable: ledger {cl}, accounting {}", self.claimable_wei));
        }
        let mut unfin = U256::ZERO;
        let mut claimable = U256::ZERO;
        for r in &self.requests {
            if !r.finalized {
                unfin = unfin.add_c(r.eth).map_err(|e| e.to_string())?;
            } else if !r.claimed {
                claimable = claimable.add_c(r.eth).map_err(|e| e.to_string())?;
            }
        }
        if unfin != self.unfinalized_wei || claimable != self.claimable_wei {
            return Err(format!(
                "requests sum to {unfin} unfinalised / {claimable} claimable, accounting {} / {}",
                self.unfinalized_wei, self.claimable_wei
            ));
        }
        let pooled = self.total_pooled_wei().map_err(|e| format!("pooled ETH: {e}"))?;
        let backed = mul_div_down(ledger.supply(self.token), self.rate_wad, WAD).map_err(|e| e.to_string())?;
        if backed > pooled {
            return Err(format!("tokens worth {backed} wei exceed pooled {pooled} wei"));
        }
        Ok(())
    }
}
