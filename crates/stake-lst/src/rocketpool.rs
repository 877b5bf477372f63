//! `rocketpool` model (SPEC §4.2) — exchange-rate rETH, after `rocket-pool/rocketpool`.
//!
//! What is modelled, and from which contract:
//! - **rETH value** (`RocketTokenRETH.getEthValue/getRethValue`): `ethValue(r) = ⌊r·totalETH/rethSupply⌋`,
//!   `rethValue(e) = ⌊e·rethSupply/totalETH⌋`, 1:1 while the reported supply is 0. Both totals are the
//!   **oracle-reported** network balances (`RocketNetworkBalances`), never live values.
//! - **Deposit** (`RocketDepositPool.deposit`): minimum deposit, pool capacity (`maximumDepositPoolSize`,
//!   extended by the user ETH the validator queue still needs), fee `⌊value·depositFee/1e18⌋` that stays in
//!   the pool, mint `rethValue(value − fee)` (rejected when it rounds to 0).
//! - **Burn** (`RocketTokenRETH.burn`): pays `ethValue(r)` from the rETH contract balance plus the deposit
//!   pool's *excess* balance (balance above the queue's needs); rejected with the shortfall otherwise —
//!   this is the liquidity-mismatch risk (exits then go through the secondary market).
//! - **Balance submission** (`RocketNetworkBalances.updateBalances`, RPIP-61): the update is **rejected**
//!   (`require`, not clamped) when fewer than `frequency·95/100` seconds passed since the last one, or
//!   when the ratio `1e18·totalETH/rethSupply` moves by more than `currentRatio·maxRethDelta/1e18`;
//!   the first update (reported total 0) bypasses the delta rule. `stakingETH ≤ totalETH`.
//! - **Node operators** bond ETH per validator (legacy minipools 8 or 16 ETH, megapool 4 ETH) and stake
//!   RPL. The rewards split is `RocketMinipoolDelegate.calculateNodeShare`: on a balance above capital the
//!   node gets its capital + `⌊rewards·N/(N+U)⌋` + `⌊userPortion·commission/1e18⌋`; between user capital
//!   and capital the node gets `balance − U`; below the user capital the node gets nothing.
//! - **Losses** (`apply_validator_losses`): unrealised rewards, then the node's ETH bond, then its RPL
//!   (`RocketNodeStaking.slashRPL`: `⌊ethShortfall·1e18/rplPrice⌋`, capped at the stake, sent to the
//!   auction; `settle_auction` sells it at the RPL price and the ETH goes to the deposit pool, as
//!   `recycleLiquidatedStake`), and only the rest hits rETH holders, through the next balance update.
//!
//! Validators are held per node as a cohort (SPEC §1.7): one bond kind per node, aggregate capitals and
//! the last reported beacon balance of all its staking validators. The node-share formula is linear in
//! the number of identical validators, so applying it to the aggregate equals the per-minipool sum up to
//! the floor of each division (≤ 1 wei per division).
//!
//! Module accounts (`<sym>` is the rETH symbol): `<sym>:deposit_pool` (vault balance of the deposit
//! pool), `<sym>:collateral` (the rETH contract's ETH balance), `<sym>:node_deposits` (bonds of queued
//! validators), `<sym>:rpl_vault` (staked RPL), `<sym>:auction` (slashed RPL awaiting sale),
//! `<sym>:staging` (ETH assigned to new validators, taken into L0 by the engine) and `<sym>:minipools`
//! (withdrawal credentials: the engine's L0 sweeps land here).
//!
//! Not modelled: the rETH transfer deposit delay (0 blocks on mainnet since Atlas), the oracle DAO
//! consensus (one submission is final), minipool penalties, the smoothing pool and the rETH
//! `depositExcessCollateral` recycling (user shares stay in the rETH contract, where burns read them).

// Rejections carry the offending values (SPEC §1.3), so the error enums are large by design;
// they are returned on the rare rejection path only.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};
use stake_ledger::{hash_serde, AccountId, AssetId, AssetKind, Ledger, LedgerError, Reject, StateHash};
use stake_math::{mul_div_down, u, Checked, MathError, U256, WAD};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// One ether in wei.
pub const ETHER: U256 = WAD;
/// Deposit size of one validator: 32 ETH.
pub const VALIDATOR_WEI: U256 = u(32_000_000_000_000_000_000);

/// Bond class of a node's validators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BondKind {
    /// Legacy LEB8 minipool: 8 ETH node bond, 24 ETH from the deposit pool.
    Minipool8,
    /// Legacy 16 ETH minipool: 16 ETH node bond, 16 ETH from the deposit pool.
    Minipool16,
    /// Saturn megapool validator: 4 ETH node bond, 28 ETH from the deposit pool.
    Megapool4,
}

impl BondKind {
    /// ETH bond the node provides per validator.
    pub fn bond_wei(self) -> U256 {
        match self {
            BondKind::Minipool8 => u(8) * ETHER,
            BondKind::Minipool16 => u(16) * ETHER,
            BondKind::Megapool4 => u(4) * ETHER,
        }
    }
    /// ETH the deposit pool provides per validator (`32 ETH − bond`).
    pub fn user_wei(self) -> U256 {
        VALIDATOR_WEI - self.bond_wei()
    }
    /// True for the legacy minipool kinds.
    pub fn is_minipool(self) -> bool {
        !matches!(self, BondKind::Megapool4)
    }
}

/// Protocol parameters (mainnet-like defaults in [`RocketPoolParams::default`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RocketPoolParams {
    /// Symbol of the LST (`rETH`); also the prefix of the module accounts.
    pub symbol: String,
    /// Symbol of the native asset (`ETH`); registered if missing.
    pub native_symbol: String,
    /// Symbol of the RPL asset (`RPL`); registered if missing.
    pub rpl_symbol: String,
    /// Deposits enabled (`deposit.enabled`).
    pub deposit_enabled: bool,
    /// Deposit assignments enabled (`deposit.assign.enabled`): lets deposits exceed the pool cap by the
    /// user ETH the validator queue still needs.
    pub assign_deposits_enabled: bool,
    /// Deposit fee, wad (`deposit.fee`, 0.0005e18 = 5 bp).
    pub deposit_fee_wad: U256,
    /// Minimum deposit in wei (`deposit.minimum`, 0.01 ETH).
    pub min_deposit_wei: U256,
    /// Maximum deposit pool balance in wei (`deposit.pool.maximum`).
    pub max_deposit_pool_wei: U256,
    /// Maximum validators assigned per deposit plan (`deposit.assign.maximum`).
    pub max_deposit_assignments: u64,
    /// Balance submission frequency in seconds (`network.submit.balances.frequency`, 1 day).
    pub submit_balances_frequency_s: u64,
    /// Maximum rETH ratio change per balance update, wad (`network.reth.balance.delta`, RPIP-61: 2 %).
    pub max_reth_delta_wad: U256,
    /// Commission on the user part's rewards for legacy minipools, wad (14 %).
    pub commission_minipool_wad: U256,
    /// Commission on the user part's rewards for megapool validators, wad (10 %).
    pub commission_megapool_wad: U256,
    /// Minimum RPL stake of minipool nodes as a fraction of the ETH they borrowed, wad (10 %).
    pub min_rpl_stake_wad: U256,
    /// Initial RPL price in ETH, wad.
    pub rpl_price_wad: U256,
}

impl Default for RocketPoolParams {
    fn default() -> Self {
        Self {
            symbol: "rETH".into(),
            native_symbol: "ETH".into(),
            rpl_symbol: "RPL".into(),
            deposit_enabled: true,
            assign_deposits_enabled: true,
            deposit_fee_wad: u(500_000_000_000_000),
            min_deposit_wei: u(10_000_000_000_000_000),
            max_deposit_pool_wei: u(18_000) * ETHER,
            max_deposit_assignments: 90,
            submit_balances_frequency_s: 86_400,
            max_reth_delta_wad: u(20_000_000_000_000_000),
            commission_minipool_wad: u(140_000_000_000_000_000),
            commission_megapool_wad: u(100_000_000_000_000_000),
            min_rpl_stake_wad: u(100_000_000_000_000_000),
            rpl_price_wad: u(5_000_000_000_000_000),
        }
    }
}

/// Errors of the Rocket Pool model. Codes 3100–3199.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RocketPoolError {
    /// Deposits are disabled.
    DepositsDisabled,
    /// The deposit is below the minimum deposit size.
    BelowMinimumDeposit {
        /// Deposited wei.
        amount: U256,
        /// Minimum wei.
        minimum: U256,
    },
    /// The deposit pool would exceed its maximum size.
    DepositPoolFull {
        /// Pool balance after the deposit.
        needed: U256,
        /// Maximum accepted (cap plus queue capacity when assignments are enabled).
        maximum: U256,
    },
    /// The rETH amount to mint rounds to zero ("Invalid token mint amount").
    ZeroMint {
        /// Net ETH deposited.
        net_wei: U256,
    },
    /// rETH cannot be priced while the reported total ETH is zero and the reported supply is not.
    ZeroTotalEth,
    /// A burn of zero rETH.
    ZeroBurn,
    /// The holder has less rETH than it burns.
    InsufficientReth {
        /// Holder's rETH balance.
        balance: U256,
        /// rETH to burn.
        required: U256,
    },
    /// Not enough ETH collateral (rETH contract + excess deposit pool) for the burn.
    InsufficientCollateral {
        /// ETH the burn pays.
        required: U256,
        /// ETH available to burns.
        available: U256,
        /// `required − available`.
        shortfall: U256,
    },
    /// A balance update before `last + frequency·95/100` (RPIP-61).
    BalancesTooEarly {
        /// Submission time.
        now: u64,
        /// Earliest accepted time.
        earliest: u64,
    },
    /// The rETH ratio moves by more than the RPIP-61 limit.
    RatioChangeTooLarge {
        /// Ratio of the stored balances, wad.
        current_ratio: U256,
        /// Ratio of the submitted balances, wad.
        new_ratio: U256,
        /// Largest accepted change, wad.
        max_change: U256,
    },
    /// Staking ETH above total ETH ("Invalid network balances").
    StakingExceedsTotal {
        /// Submitted staking ETH.
        staking: U256,
        /// Submitted total ETH.
        total: U256,
    },
    /// No node registered for this account.
    UnknownNode {
        /// Account name.
        node: String,
    },
    /// The account is already a registered node.
    NodeAlreadyRegistered {
        /// Account name.
        node: String,
    },
    /// The node's RPL stake is below the minimum for the validators it would have.
    InsufficientRplStake {
        /// Staked RPL.
        staked: U256,
        /// Minimum RPL.
        required: U256,
    },
    /// A zero amount or zero validator count where a positive one is needed.
    ZeroAmount,
    /// A deposit plan that does not match the validator queue and the deposit pool.
    PlanMismatch {
        /// Index of the first offending plan entry.
        index: usize,
        /// Why it does not match.
        reason: String,
    },
    /// A loss larger than the node's reported validator balance.
    LossExceedsBalance {
        /// Loss in wei.
        loss: U256,
        /// Reported balance of the node's validators.
        balance: U256,
    },
    /// More validators exit than the node has staking.
    TooManyValidators {
        /// Validators in the request.
        requested: u64,
        /// Validators staking.
        staking: u64,
    },
    /// A reported validator count that differs from the node's staking validators.
    ValidatorCountMismatch {
        /// Account name.
        node: String,
        /// Reported count.
        reported: u64,
        /// Count known to the model.
        expected: u64,
    },
    /// The withdrawal-credential account holds less than the swept amount to distribute.
    InsufficientSwept {
        /// ETH held by `<sym>:minipools`.
        available: U256,
        /// ETH to distribute.
        required: U256,
    },
    /// No slashed RPL waits in the auction.
    NothingToAuction,
    /// An RPL price of zero.
    ZeroPrice,
    /// A ledger failure.
    Ledger(LedgerError),
    /// An arithmetic failure.
    Math(MathError),
}

impl From<LedgerError> for RocketPoolError {
    fn from(e: LedgerError) -> Self {
        RocketPoolError::Ledger(e)
    }
}

impl From<MathError> for RocketPoolError {
    fn from(e: MathError) -> Self {
        RocketPoolError::Math(e)
    }
}

impl fmt::Display for RocketPoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RocketPoolError as E;
        match self {
            E::DepositsDisabled => write!(f, "deposits into Rocket Pool are currently disabled"),
            E::BelowMinimumDeposit { amount, minimum } => {
                write!(
                    f,
                    "deposit of {amount} wei is less than the minimum deposit size {minimum} wei"
                )
            }
            E::DepositPoolFull { needed, maximum } => write!(
                f,
                "the deposit pool size after depositing ({needed} wei) exceeds the maximum size ({maximum} wei)"
            ),
            E::ZeroMint { net_wei } => write!(f, "invalid token mint amount: {net_wei} wei buys 0 rETH"),
            E::ZeroTotalEth => {
                write!(
                    f,
                    "cannot calculate rETH token amount while total network balance is zero"
                )
            }
            E::ZeroBurn => write!(f, "invalid token burn amount: 0"),
            E::InsufficientReth { balance, required } => {
                write!(f, "insufficient rETH balance: holds {balance}, burns {required}")
            }
            E::InsufficientCollateral {
                required,
                available,
                shortfall,
            } => write!(
                f,
                "insufficient ETH balance for exchange: {required} wei required, {available} wei available \
                 (shortfall {shortfall} wei)"
            ),
            E::BalancesTooEarly { now, earliest } => {
                write!(
                    f,
                    "not enough time has passed: balance update at {now}, earliest {earliest}"
                )
            }
            E::RatioChangeTooLarge {
                current_ratio,
                new_ratio,
                max_change,
            } => write!(
                f,
                "rETH ratio change exceeds maximum: {current_ratio} → {new_ratio} (max change {max_change})"
            ),
            E::StakingExceedsTotal { staking, total } => {
                write!(f, "invalid network balances: staking {staking} wei > total {total} wei")
            }
            E::UnknownNode { node } => write!(f, "{node} is not a registered node"),
            E::NodeAlreadyRegistered { node } => write!(f, "{node} is already a registered node"),
            E::InsufficientRplStake { staked, required } => {
                write!(f, "insufficient RPL stake: {staked} staked, {required} required")
            }
            E::ZeroAmount => write!(f, "amount must be positive"),
            E::PlanMismatch { index, reason } => write!(f, "deposit plan entry {index} rejected: {reason}"),
            E::LossExceedsBalance { loss, balance } => {
                write!(f, "loss of {loss} wei exceeds the validators' balance of {balance} wei")
            }
            E::TooManyValidators { requested, staking } => {
                write!(f, "{requested} validators requested but only {staking} are staking")
            }
            E::ValidatorCountMismatch {
                node,
                reported,
                expected,
            } => {
                write!(
                    f,
                    "report for {node} counts {reported} validators, the node has {expected}"
                )
            }
            E::InsufficientSwept { available, required } => {
                write!(
                    f,
                    "withdrawal credentials hold {available} wei, {required} wei to distribute"
                )
            }
            E::NothingToAuction => write!(f, "no slashed RPL is waiting in the auction"),
            E::ZeroPrice => write!(f, "RPL price must be positive"),
            E::Ledger(e) => write!(f, "{e}"),
            E::Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RocketPoolError {}

impl Reject for RocketPoolError {
    fn code(&self) -> u32 {
        use RocketPoolError as E;
        match self {
            E::DepositsDisabled => 3100,
            E::BelowMinimumDeposit { .. } => 3101,
            E::DepositPoolFull { .. } => 3102,
            E::ZeroMint { .. } => 3103,
            E::ZeroTotalEth => 3104,
            E::ZeroBurn => 3105,
            E::InsufficientReth { .. } => 3106,
            E::InsufficientCollateral { .. } => 3107,
            E::BalancesTooEarly { .. } => 3108,
            E::RatioChangeTooLarge { .. } => 3109,
            E::StakingExceedsTotal { .. } => 3110,
            E::UnknownNode { .. } => 3111,
            E::NodeAlreadyRegistered { .. } => 3112,
            E::InsufficientRplStake { .. } => 3113,
            E::ZeroAmount => 3114,
            E::PlanMismatch { .. } => 3115,
            E::LossExceedsBalance { .. } => 3116,
            E::TooManyValidators { .. } => 3117,
            E::ValidatorCountMismatch { .. } => 3118,
            E::InsufficientSwept { .. } => 3119,
            E::NothingToAuction => 3120,
            E::ZeroPrice => 3121,
            E::Ledger(e) => e.code(),
            E::Math(e) => e.code(),
        }
    }
}

/// Events of the Rocket Pool model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RocketPoolEvent {
    /// ETH deposited, rETH minted (`DepositReceived` + `TokensMinted`).
    Deposited {
        /// Depositor.
        sender: AccountId,
        /// ETH deposited (all of it enters the deposit pool).
        amount: U256,
        /// Fee kept in the pool for rETH holders.
        fee: U256,
        /// rETH minted.
        reth: U256,
    },
    /// rETH burned for ETH (`TokensBurned`).
    Burned {
        /// Holder.
        holder: AccountId,
        /// rETH burned.
        reth: U256,
        /// ETH paid.
        eth: U256,
        /// Part of `eth` withdrawn from the deposit pool's excess.
        from_deposit_pool: U256,
    },
    /// A node registered.
    NodeRegistered {
        /// Node account.
        node: AccountId,
        /// Bond class.
        kind: BondKind,
        /// Commission, wad.
        commission_wad: U256,
    },
    /// RPL staked by a node.
    RplStaked {
        /// Node account.
        node: AccountId,
        /// RPL amount.
        amount: U256,
    },
    /// A node bonded ETH for new validators, which join the queue.
    NodeDeposited {
        /// Node account.
        node: AccountId,
        /// Validators queued.
        validators: u64,
        /// ETH bonded.
        bond: U256,
    },
    /// Queued validators received their user ETH (`DepositAssigned`); 32 ETH each is in staging.
    ValidatorsAssigned {
        /// Node account.
        node: AccountId,
        /// Validators assigned.
        validators: u64,
        /// ETH from the deposit pool.
        user_wei: U256,
        /// ETH from the node's bond.
        bond_wei: U256,
    },
    /// Per-node split of a reported balance (oracle view).
    NodeBalanceSplit {
        /// Node account.
        node: AccountId,
        /// Reported balance of the node's validators.
        balance: U256,
        /// Node share.
        node_share: U256,
        /// User share (counted in total ETH).
        user_share: U256,
    },
    /// Network balances updated (`BalancesUpdated`).
    BalancesUpdated {
        /// Update time.
        time: u64,
        /// Reported total ETH.
        total_eth: U256,
        /// Reported staking ETH.
        staking_eth: U256,
        /// Reported rETH supply.
        reth_supply: U256,
    },
    /// A validator loss allocated along the loss waterfall.
    LossApplied {
        /// Node account.
        node: AccountId,
        /// Loss in wei.
        loss: U256,
        /// Part that consumed unrealised rewards above capital.
        rewards_hit: U256,
        /// Part absorbed by the node's ETH bond.
        bond_hit: U256,
        /// Part that reached the user capital.
        user_hit: U256,
        /// RPL slashed to the auction.
        rpl_slashed: U256,
        /// ETH value of the slashed RPL at the RPL price.
        rpl_eth_value: U256,
        /// Part left to rETH holders (`user_hit − rpl_eth_value`, floored at 0).
        to_reth_holders: U256,
    },
    /// Slashed RPL sold; ETH to the deposit pool (`recycleLiquidatedStake`).
    AuctionSettled {
        /// Buyer.
        bidder: AccountId,
        /// RPL sold.
        rpl: U256,
        /// ETH paid into the deposit pool.
        eth: U256,
    },
    /// Swept ETH of exited validators distributed.
    ExitDistributed {
        /// Node account.
        node: AccountId,
        /// Validators exited.
        validators: u64,
        /// ETH swept.
        swept: U256,
        /// Paid to the node.
        node_share: U256,
        /// Paid to the rETH contract.
        user_share: U256,
    },
    /// Skimmed rewards distributed.
    RewardsDistributed {
        /// Node account.
        node: AccountId,
        /// ETH skimmed.
        amount: U256,
        /// Paid to the node.
        node_share: U256,
        /// Paid to the rETH contract.
        user_share: U256,
    },
    /// RPL price updated.
    RplPriceUpdated {
        /// New price, wad ETH per RPL.
        price_wad: U256,
    },
}

/// Oracle-reported network balances (`RocketNetworkBalances`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkBalances {
    /// Time of the last update (seconds; 0 before the first).
    pub timestamp: u64,
    /// Total ETH backing rETH.
    pub total_eth: U256,
    /// User ETH in staking validators.
    pub staking_eth: U256,
    /// rETH supply at the reported point.
    pub reth_supply: U256,
}

/// One node operator and its cohort of validators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Ledger account of the node (its ETH and RPL).
    pub account: AccountId,
    /// Account name (used in deposit plans).
    pub name: String,
    /// Bond class of all its validators.
    pub kind: BondKind,
    /// Commission on the user part's rewards, wad.
    pub commission_wad: U256,
    /// RPL staked.
    pub rpl_staked: U256,
    /// Validators bonded and waiting in the queue.
    pub queued: u64,
    /// Validators staking in L0.
    pub validators: u64,
    /// Node ETH capital of the staking validators (bonds, after losses).
    pub node_capital: U256,
    /// User ETH capital of the staking validators (after losses).
    pub user_capital: U256,
    /// Last reported (or assigned) beacon balance of the staking validators.
    pub balance: U256,
}

impl Node {
    fn share_of(&self, balance: U256) -> Result<(U256, U256), MathError> {
        let ns = node_share(balance, self.node_capital, self.user_capital, self.commission_wad)?;
        Ok((ns, balance.sub_c(ns)?))
    }
}

/// Per-node beacon summary for [`RocketPool::report_balances`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeBalance {
    /// Node account.
    pub node: AccountId,
    /// Validators in the summary (must equal the node's staking validators).
    pub validators: u64,
    /// Their total beacon balance in wei.
    pub balance_wei: U256,
}

/// Ledger handles of the module accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RocketPoolAccounts {
    /// `<sym>:deposit_pool`.
    pub deposit_pool: AccountId,
    /// `<sym>:collateral` — the rETH contract's ETH.
    pub collateral: AccountId,
    /// `<sym>:node_deposits` — bonds of queued validators.
    pub node_deposits: AccountId,
    /// `<sym>:rpl_vault` — staked RPL.
    pub rpl_vault: AccountId,
    /// `<sym>:auction` — slashed RPL.
    pub auction: AccountId,
    /// `<sym>:staging` — ETH of assigned validators, taken into L0 by the engine.
    pub staging: AccountId,
    /// `<sym>:minipools` — withdrawal credentials.
    pub minipools: AccountId,
}

/// The Rocket Pool state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RocketPool {
    /// Parameters.
    pub params: RocketPoolParams,
    /// rETH asset.
    pub reth: AssetId,
    /// Native asset.
    pub eth: AssetId,
    /// RPL asset.
    pub rpl: AssetId,
    /// Module accounts.
    pub accounts: RocketPoolAccounts,
    /// Deposit pool vault balance (mirrors `<sym>:deposit_pool`).
    pub deposit_pool_wei: U256,
    /// rETH contract ETH balance (mirrors `<sym>:collateral`).
    pub collateral_wei: U256,
    /// User ETH the queued validators still need (`getEffectiveCapacity`).
    pub queue_capacity_wei: U256,
    /// Bonds of queued validators (mirrors `<sym>:node_deposits`).
    pub queued_bonds_wei: U256,
    /// RPL in the auction (mirrors `<sym>:auction`).
    pub auction_rpl: U256,
    /// RPL price, wad ETH per RPL.
    pub rpl_price_wad: U256,
    /// Oracle-reported balances.
    pub balances: NetworkBalances,
    /// Registered nodes.
    pub nodes: BTreeMap<AccountId, Node>,
    /// Validator queue (FIFO of node, count).
    pub queue: VecDeque<(AccountId, u64)>,
}

impl StateHash for RocketPool {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

// ----- pure formulas -----

/// `RocketTokenRETH.getEthValue`: `⌊reth·totalEth/rethSupply⌋`, `reth` when the supply is 0.
pub fn eth_value(reth: U256, total_eth: U256, reth_supply: U256) -> Result<U256, MathError> {
    if reth_supply == U256::ZERO {
        return Ok(reth);
    }
    mul_div_down(reth, total_eth, reth_supply)
}

/// `RocketTokenRETH.getRethValue`: `⌊eth·rethSupply/totalEth⌋`, `eth` when the supply is 0;
/// `None` when the supply is positive and the total is 0 (the contract reverts).
pub fn reth_value(eth: U256, total_eth: U256, reth_supply: U256) -> Result<Option<U256>, MathError> {
    if reth_supply == U256::ZERO {
        return Ok(Some(eth));
    }
    if total_eth == U256::ZERO {
        return Ok(None);
    }
    mul_div_down(eth, reth_supply, total_eth).map(Some)
}

/// `calculateNodeRewards`: node portion `⌊rewards·N/(N+U)⌋` plus `⌊(rewards − portion)·commission/1e18⌋`.
pub fn node_rewards(
    node_capital: U256,
    user_capital: U256,
    rewards: U256,
    commission_wad: U256,
) -> Result<U256, MathError> {
    let capital = node_capital.add_c(user_capital)?;
    if capital == U256::ZERO {
        return Ok(U256::ZERO);
    }
    let node_portion = mul_div_down(rewards, node_capital, capital)?;
    let user_portion = rewards.sub_c(node_portion)?;
    node_portion.add_c(mul_div_down(user_portion, commission_wad, WAD)?)
}

/// `calculateNodeShare` (no penalty): capital + node rewards above capital; `balance − U` between the
/// user capital and the capital; 0 below the user capital.
pub fn node_share(
    balance: U256,
    node_capital: U256,
    user_capital: U256,
    commission_wad: U256,
) -> Result<U256, MathError> {
    let capital = node_capital.add_c(user_capital)?;
    if balance > capital {
        let rewards = balance - capital;
        node_capital.add_c(node_rewards(node_capital, user_capital, rewards, commission_wad)?)
    } else if balance > user_capital {
        Ok(balance - user_capital)
    } else {
        Ok(U256::ZERO)
    }
}

/// The ratio `⌊1e18·totalEth/rethSupply⌋` of `RocketNetworkBalances.updateBalances`.
pub fn reth_ratio(total_eth: U256, reth_supply: U256) -> Result<U256, MathError> {
    mul_div_down(WAD, total_eth, reth_supply)
}

fn get_or_register(ledger: &mut Ledger, symbol: &str, issuer: &str) -> Result<AssetId, LedgerError> {
    match ledger.asset(symbol) {
        Ok(id) => Ok(id),
        Err(_) => ledger.register_asset(symbol, 18, issuer, AssetKind::Plain),
    }
}

fn times(n: u64, x: U256) -> Result<U256, MathError> {
    U256::from(n).mul_c(x)
}

impl RocketPool {
    /// Registers the rETH asset (and the native and RPL assets if missing) and the module accounts.
    ///
    /// Specification:
    /// - fails with a ledger error if the rETH symbol is already registered.
    pub fn new(ledger: &mut Ledger, params: RocketPoolParams) -> Result<Self, RocketPoolError> {
        let sym = params.symbol.clone();
        let (eth, rpl, reth, accounts) = ledger.atomic(|l| {
            let eth = get_or_register(l, &params.native_symbol, "native")?;
            let rpl = get_or_register(l, &params.rpl_symbol, "rocketpool")?;
            let reth = l.register_asset(&sym, 18, "rocketpool", AssetKind::Plain)?;
            let accounts = RocketPoolAccounts {
                deposit_pool: l.account(&format!("{sym}:deposit_pool")),
                collateral: l.account(&format!("{sym}:collateral")),
                node_deposits: l.account(&format!("{sym}:node_deposits")),
                rpl_vault: l.account(&format!("{sym}:rpl_vault")),
                auction: l.account(&format!("{sym}:auction")),
                staging: l.account(&format!("{sym}:staging")),
                minipools: l.account(&format!("{sym}:minipools")),
            };
            Ok::<_, LedgerError>((eth, rpl, reth, accounts))
        })?;
        Ok(Self {
            rpl_price_wad: params.rpl_price_wad,
            params,
            reth,
            eth,
            rpl,
            accounts,
            deposit_pool_wei: U256::ZERO,
            collateral_wei: U256::ZERO,
            queue_capacity_wei: U256::ZERO,
            queued_bonds_wei: U256::ZERO,
            auction_rpl: U256::ZERO,
            balances: NetworkBalances::default(),
            nodes: BTreeMap::new(),
            queue: VecDeque::new(),
        })
    }

    // ----- views -----

    /// ETH value of `reth` at the reported balances.
    pub fn eth_value(&self, reth: U256) -> Result<U256, MathError> {
        eth_value(reth, self.balances.total_eth, self.balances.reth_supply)
    }

    /// rETH value of `eth` at the reported balances (`None` while total is 0 and supply is not).
    pub fn reth_value(&self, eth: U256) -> Result<Option<U256>, MathError> {
        reth_value(eth, self.balances.total_eth, self.balances.reth_supply)
    }

    /// ETH per rETH, wad (`getExchangeRate = getEthValue(1 ether)`).
    pub fn rate_wad(&self) -> Result<U256, MathError> {
        self.eth_value(WAD)
    }

    /// Deposit pool balance above the queue's needs (`getExcessBalance`).
    pub fn excess_balance(&self) -> U256 {
        self.deposit_pool_wei.saturating_sub(self.queue_capacity_wei)
    }

    /// ETH available to burns: rETH contract balance + excess deposit pool (`getTotalCollateral`).
    pub fn total_collateral(&self) -> Result<U256, MathError> {
        self.collateral_wei.add_c(self.excess_balance())
    }

    /// Largest deposit accepted now (`getMaximumDepositAmount`).
    pub fn maximum_deposit_amount(&self) -> Result<U256, MathError> {
        if !self.params.deposit_enabled {
            return Ok(U256::ZERO);
        }
        let mut cap = self.params.max_deposit_pool_wei;
        if self.params.assign_deposits_enabled {
            cap = cap.add_c(self.queue_capacity_wei)?;
        }
        Ok(cap.saturating_sub(self.deposit_pool_wei))
    }

    /// ETH held by the protocol: deposit pool + rETH contract + bonds of queued validators + the last
    /// reported (or assigned) beacon balance of every node's staking validators, node bonds included.
    pub fn tvl_wei(&self) -> Result<U256, MathError> {
        let mut t = self
            .deposit_pool_wei
            .add_c(self.collateral_wei)?
            .add_c(self.queued_bonds_wei)?;
        for n in self.nodes.values() {
            t = t.add_c(n.balance)?;
        }
        Ok(t)
    }

    /// A registered node.
    pub fn node(&self, node: AccountId) -> Option<&Node> {
        self.nodes.get(&node)
    }

    /// Account the engine takes 32 ETH per assigned validator from, after [`RocketPool::on_deposited`].
    pub fn staging_account(&self) -> AccountId {
        self.accounts.staging
    }

    /// Withdrawal-credential account: L0 sweeps of Rocket Pool validators must land here.
    pub fn withdrawal_account(&self) -> AccountId {
        self.accounts.minipools
    }

    fn node_ref(&self, ledger: &Ledger, node: AccountId) -> Result<&Node, RocketPoolError> {
        self.nodes.get(&node).ok_or_else(|| RocketPoolError::UnknownNode {
            node: ledger.account_name(node).to_string(),
        })
    }

    // ----- users -----

    /// Deposits `amount` wei of ETH from `sender` and mints rETH (`RocketDepositPool.deposit`).
    ///
    /// Specification:
    /// - fails with `DepositsDisabled` when deposits are disabled;
    /// - fails with `BelowMinimumDeposit` when `amount < min_deposit_wei`;
    /// - fails with `DepositPoolFull` when `pool + amount` exceeds the maximum pool size (plus the queue
    ///   capacity when assignments are enabled);
    /// - fails with `ZeroTotalEth` when rETH cannot be priced, `ZeroMint` when `rethValue(amount − fee)` is 0;
    /// - fails with a ledger error when `sender` holds less than `amount` ETH.
    pub fn deposit(
        &mut self,
        ledger: &mut Ledger,
        sender: AccountId,
        amount: U256,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let p = &self.params;
        if !p.deposit_enabled {
            return Err(RocketPoolError::DepositsDisabled);
        }
        if amount < p.min_deposit_wei {
            return Err(RocketPoolError::BelowMinimumDeposit {
                amount,
                minimum: p.min_deposit_wei,
            });
        }
        let needed = self.deposit_pool_wei.add_c(amount)?;
        if needed > p.max_deposit_pool_wei {
            let maximum = if p.assign_deposits_enabled {
                p.max_deposit_pool_wei.add_c(self.queue_capacity_wei)?
            } else {
                p.max_deposit_pool_wei
            };
            if needed > maximum {
                return Err(RocketPoolError::DepositPoolFull { needed, maximum });
            }
        }
        let fee = mul_div_down(amount, p.deposit_fee_wad, WAD)?;
        let net = amount.sub_c(fee)?;
        let reth = self.reth_value(net)?.ok_or(RocketPoolError::ZeroTotalEth)?;
        if reth == U256::ZERO {
            return Err(RocketPoolError::ZeroMint { net_wei: net });
        }
        let (eth, reth_asset, pool) = (self.eth, self.reth, self.accounts.deposit_pool);
        ledger.atomic(|l| {
            l.transfer(sender, pool, eth, amount)?;
            l.mint(sender, reth_asset, reth)
        })?;
        self.deposit_pool_wei = needed;
        Ok(vec![RocketPoolEvent::Deposited {
            sender,
            amount,
            fee,
            reth,
        }])
    }

    /// Burns `reth` of `holder` for `ethValue(reth)` ETH (`RocketTokenRETH.burn`), taken from the rETH
    /// contract balance first and then from the deposit pool's excess.
    ///
    /// Specification:
    /// - fails with `ZeroBurn` when `reth` is 0;
    /// - fails with `InsufficientReth` when the holder has less rETH;
    /// - fails with `InsufficientCollateral { required, available, shortfall }` when the rETH contract
    ///   balance plus the excess deposit pool balance is below the ETH value (liquidity mismatch).
    pub fn burn(
        &mut self,
        ledger: &mut Ledger,
        holder: AccountId,
        reth: U256,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        if reth == U256::ZERO {
            return Err(RocketPoolError::ZeroBurn);
        }
        let balance = ledger.balance(holder, self.reth);
        if balance < reth {
            return Err(RocketPoolError::InsufficientReth {
                balance,
                required: reth,
            });
        }
        let eth_amount = self.eth_value(reth)?;
        let available = self.total_collateral()?;
        if available < eth_amount {
            return Err(RocketPoolError::InsufficientCollateral {
                required: eth_amount,
                available,
                shortfall: eth_amount - available,
            });
        }
        let from_pool = eth_amount.saturating_sub(self.collateral_wei);
        let (eth, reth_asset, acc) = (self.eth, self.reth, self.accounts.clone());
        ledger.atomic(|l| {
            l.burn(holder, reth_asset, reth)?;
            if from_pool > U256::ZERO {
                l.transfer(acc.deposit_pool, acc.collateral, eth, from_pool)?;
            }
            l.transfer(acc.collateral, holder, eth, eth_amount)
        })?;
        self.deposit_pool_wei -= from_pool;
        self.collateral_wei = self.collateral_wei + from_pool - eth_amount;
        Ok(vec![RocketPoolEvent::Burned {
            holder,
            reth,
            eth: eth_amount,
            from_deposit_pool: from_pool,
        }])
    }

    // ----- node operators -----

    /// Registers `node` with one bond kind for all its validators; the commission follows the kind.
    ///
    /// Specification:
    /// - fails with `NodeAlreadyRegistered` if the account is a node already.
    pub fn register_node(
        &mut self,
        ledger: &Ledger,
        node: AccountId,
        kind: BondKind,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let name = ledger.account_name(node).to_string();
        if self.nodes.contains_key(&node) {
            return Err(RocketPoolError::NodeAlreadyRegistered { node: name });
        }
        let commission_wad = if kind.is_minipool() {
            self.params.commission_minipool_wad
        } else {
            self.params.commission_megapool_wad
        };
        self.nodes.insert(
            node,
            Node {
                account: node,
                name,
                kind,
                commission_wad,
                rpl_staked: U256::ZERO,
                queued: 0,
                validators: 0,
                node_capital: U256::ZERO,
                user_capital: U256::ZERO,
                balance: U256::ZERO,
            },
        );
        Ok(vec![RocketPoolEvent::NodeRegistered {
            node,
            kind,
            commission_wad,
        }])
    }

    /// Stakes `amount` RPL of `node` into the RPL vault.
    ///
    /// Specification:
    /// - fails with `UnknownNode` for an unregistered node, `ZeroAmount` for 0;
    /// - fails with a ledger error when the node holds less RPL.
    pub fn stake_rpl(
        &mut self,
        ledger: &mut Ledger,
        node: AccountId,
        amount: U256,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let staked = self.node_ref(ledger, node)?.rpl_staked.add_c(amount)?;
        if amount == U256::ZERO {
            return Err(RocketPoolError::ZeroAmount);
        }
        ledger.transfer(node, self.accounts.rpl_vault, self.rpl, amount)?;
        if let Some(n) = self.nodes.get_mut(&node) {
            n.rpl_staked = staked;
        }
        Ok(vec![RocketPoolEvent::RplStaked { node, amount }])
    }

    /// Minimum RPL stake of a node with `validators` validators (queued + staking):
    /// `⌊borrowed·minStake/rplPrice⌋` for minipool kinds (`RocketNodeStaking.getNodeMinimumRPLStake`),
    /// 0 for megapools.
    pub fn minimum_rpl_stake(&self, kind: BondKind, validators: u64) -> Result<U256, MathError> {
        if !kind.is_minipool() {
            return Ok(U256::ZERO);
        }
        let borrowed = times(validators, kind.user_wei())?;
        mul_div_down(borrowed, self.params.min_rpl_stake_wad, self.rpl_price_wad)
    }

    /// `node` bonds `validators × bond` ETH; the validators join the queue for user ETH.
    ///
    /// Specification:
    /// - fails with `UnknownNode`, `ZeroAmount` for 0 validators;
    /// - fails with `InsufficientRplStake` when the node's RPL is below the minimum for all its
    ///   queued + staking validators after this deposit;
    /// - fails with a ledger error when the node holds less ETH than the bond.
    pub fn node_deposit(
        &mut self,
        ledger: &mut Ledger,
        node: AccountId,
        validators: u64,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let n = self.node_ref(ledger, node)?;
        if validators == 0 {
            return Err(RocketPoolError::ZeroAmount);
        }
        let total = n
            .queued
            .checked_add(n.validators)
            .and_then(|t| t.checked_add(validators))
            .ok_or(MathError::Overflow)?;
        let required = self.minimum_rpl_stake(n.kind, total)?;
        if n.rpl_staked < required {
            return Err(RocketPoolError::InsufficientRplStake {
                staked: n.rpl_staked,
                required,
            });
        }
        let bond = times(validators, n.kind.bond_wei())?;
        let user = times(validators, n.kind.user_wei())?;
        let new_bonds = self.queued_bonds_wei.add_c(bond)?;
        let new_cap = self.queue_capacity_wei.add_c(user)?;
        ledger.transfer(node, self.accounts.node_deposits, self.eth, bond)?;
        self.queued_bonds_wei = new_bonds;
        self.queue_capacity_wei = new_cap;
        if let Some(n) = self.nodes.get_mut(&node) {
            n.queued += validators;
        }
        match self.queue.back_mut() {
            Some((last, c)) if *last == node => *c += validators,
            _ => self.queue.push_back((node, validators)),
        }
        Ok(vec![RocketPoolEvent::NodeDeposited { node, validators, bond }])
    }

    /// Validators that can receive user ETH now, per node in queue order (`_assignDeposits`): the
    /// queue is served FIFO while the deposit pool covers the next validator's user part, up to
    /// `max_deposit_assignments` validators.
    pub fn deposit_plan(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = Vec::new();
        let mut left = self.deposit_pool_wei;
        let mut budget = self.params.max_deposit_assignments;
        for (node, count) in &self.queue {
            let Some(n) = self.nodes.get(node) else { break };
            let user = n.kind.user_wei();
            let affordable = u64::try_from(left / user).unwrap_or(u64::MAX);
            let k = (*count).min(affordable).min(budget);
            if k > 0 {
                match out.last_mut() {
                    Some((name, c)) if *name == n.name => *c += k,
                    _ => out.push((n.name.clone(), k)),
                }
                left -= U256::from(k) * user;
                budget -= k;
            }
            if k < *count {
                break;
            }
        }
        out
    }

    /// Assigns user ETH to the validators of `plan` (a plan from [`RocketPool::deposit_plan`] or a
    /// prefix of it): user parts leave the deposit pool and bonds leave `<sym>:node_deposits`, both
    /// into `<sym>:staging`. **Contract with the engine:** after this returns, the engine moves
    /// `32 ETH × validators` from [`RocketPool::staging_account`] into L0 with withdrawal credentials
    /// [`RocketPool::withdrawal_account`]. The node's reported balance starts at 32 ETH per validator.
    ///
    /// Specification:
    /// - fails with `PlanMismatch` when an entry names a node other than the queue head, asks for more
    ///   validators than queued there, or the deposit pool cannot cover the user parts.
    pub fn on_deposited(
        &mut self,
        ledger: &mut Ledger,
        plan: &[(String, u64)],
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        // Simulate on copies of the queue and counters.
        let mut queue = self.queue.clone();
        let mut pool = self.deposit_pool_wei;
        let mut assignments: Vec<(AccountId, u64, U256, U256)> = Vec::new();
        let mismatch = |index: usize, reason: String| RocketPoolError::PlanMismatch { index, reason };
        for (i, (name, k)) in plan.iter().enumerate() {
            let mut k_left = *k;
            if k_left == 0 {
                return Err(mismatch(i, "zero validators".into()));
            }
            while k_left > 0 {
                let Some((node, count)) = queue.front_mut() else {
                    return Err(mismatch(i, "validator queue is empty".into()));
                };
                let n = self
                    .nodes
                    .get(node)
                    .ok_or_else(|| mismatch(i, "queued node missing".into()))?;
                if n.name != *name {
                    return Err(mismatch(i, format!("queue head is {}, plan names {name}", n.name)));
                }
                let take = k_left.min(*count);
                let user = times(take, n.kind.user_wei())?;
                let bond = times(take, n.kind.bond_wei())?;
                pool = pool
                    .checked_sub(user)
                    .ok_or_else(|| mismatch(i, format!("deposit pool holds {pool} wei, {user} wei needed")))?;
                assignments.push((*node, take, user, bond));
                *count -= take;
                k_left -= take;
                if *count == 0 {
                    queue.pop_front();
                }
            }
        }
        let user_total = assignments.iter().try_fold(U256::ZERO, |a, x| a.add_c(x.2))?;
        let bond_total = assignments.iter().try_fold(U256::ZERO, |a, x| a.add_c(x.3))?;
        let (eth, acc) = (self.eth, self.accounts.clone());
        ledger.atomic(|l| {
            l.transfer(acc.deposit_pool, acc.staging, eth, user_total)?;
            l.transfer(acc.node_deposits, acc.staging, eth, bond_total)
        })?;
        self.queue = queue;
        self.deposit_pool_wei = pool;
        self.queue_capacity_wei = self.queue_capacity_wei.saturating_sub(user_total);
        self.queued_bonds_wei = self.queued_bonds_wei.saturating_sub(bond_total);
        let mut events = Vec::new();
        for (node, k, user, bond) in assignments {
            if let Some(n) = self.nodes.get_mut(&node) {
                n.queued -= k;
                n.validators += k;
                n.node_capital = n.node_capital.add_c(bond)?;
                n.user_capital = n.user_capital.add_c(user)?;
                n.balance = n.balance.add_c(user.add_c(bond)?)?;
            }
            events.push(RocketPoolEvent::ValidatorsAssigned {
                node,
                validators: k,
                user_wei: user,
                bond_wei: bond,
            });
        }
        Ok(events)
    }

    // ----- oracle -----

    fn check_submission(
        &self,
        total_eth: U256,
        staking_eth: U256,
        reth_supply: U256,
        now: u64,
    ) -> Result<(), RocketPoolError> {
        if staking_eth > total_eth {
            return Err(RocketPoolError::StakingExceedsTotal {
                staking: staking_eth,
                total: total_eth,
            });
        }
        let freq = self.params.submit_balances_frequency_s;
        let earliest = self.balances.timestamp.saturating_add(freq.saturating_mul(95) / 100);
        if now < earliest {
            return Err(RocketPoolError::BalancesTooEarly { now, earliest });
        }
        if self.balances.total_eth > U256::ZERO {
            let current_ratio = reth_ratio(self.balances.total_eth, self.balances.reth_supply)?;
            let new_ratio = reth_ratio(total_eth, reth_supply)?;
            let max_change = mul_div_down(current_ratio, self.params.max_reth_delta_wad, WAD)?;
            let change = if new_ratio > current_ratio {
                new_ratio - current_ratio
            } else {
                current_ratio - new_ratio
            };
            if change > max_change {
                return Err(RocketPoolError::RatioChangeTooLarge {
                    current_ratio,
                    new_ratio,
                    max_change,
                });
            }
        }
        Ok(())
    }

    /// Submits network balances as the oracle DAO does (`RocketNetworkBalances.updateBalances`), with
    /// one submission taken as consensus.
    ///
    /// Specification:
    /// - fails with `StakingExceedsTotal` when `staking_eth > total_eth`;
    /// - fails with `BalancesTooEarly` when `now < last + frequency·95/100` (RPIP-61);
    /// - fails with `RatioChangeTooLarge` when the stored total is positive and
    ///   `|newRatio − currentRatio| > ⌊currentRatio·maxRethDelta/1e18⌋` (RPIP-61, rejected, never clamped);
    /// - fails with `Math(DivisionByZero)` when a ratio is computed over a zero rETH supply.
    pub fn submit_balances(
        &mut self,
        total_eth: U256,
        staking_eth: U256,
        reth_supply: U256,
        now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        self.check_submission(total_eth, staking_eth, reth_supply, now)?;
        self.balances = NetworkBalances {
            timestamp: now,
            total_eth,
            staking_eth,
            reth_supply,
        };
        Ok(vec![RocketPoolEvent::BalancesUpdated {
            time: now,
            total_eth,
            staking_eth,
            reth_supply,
        }])
    }

    /// The oracle DAO's computation from L0 summaries, then [`RocketPool::submit_balances`]:
    /// `totalETH = depositPool + rETH contract + Σ userShare(node balance)`, `stakingETH = Σ userShare`,
    /// `rethSupply` = the ledger's rETH supply. Nodes missing from `reports` keep their last balance.
    /// Per-node splits are returned as `NodeBalanceSplit` events (node commission on the user part's
    /// rewards; the node keeps its bond's rewards).
    ///
    /// Specification:
    /// - fails with `UnknownNode` / `ValidatorCountMismatch` for a summary of an unknown node or one
    ///   whose validator count differs from the node's staking validators;
    /// - fails as [`RocketPool::submit_balances`].
    pub fn report_balances(
        &mut self,
        ledger: &Ledger,
        reports: &[NodeBalance],
        now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let mut new_balances: BTreeMap<AccountId, U256> = BTreeMap::new();
        for r in reports {
            let n = self.node_ref(ledger, r.node)?;
            if r.validators != n.validators {
                return Err(RocketPoolError::ValidatorCountMismatch {
                    node: n.name.clone(),
                    reported: r.validators,
                    expected: n.validators,
                });
            }
            new_balances.insert(r.node, r.balance_wei);
        }
        let mut events = Vec::new();
        let mut user_total = U256::ZERO;
        for (id, n) in &self.nodes {
            let balance = new_balances.get(id).copied().unwrap_or(n.balance);
            let (ns, us) = n.share_of(balance)?;
            user_total = user_total.add_c(us)?;
            if n.validators > 0 {
                events.push(RocketPoolEvent::NodeBalanceSplit {
                    node: *id,
                    balance,
                    node_share: ns,
                    user_share: us,
                });
            }
        }
        let total_eth = self.deposit_pool_wei.add_c(self.collateral_wei)?.add_c(user_total)?;
        let supply = ledger.supply(self.reth);
        let mut ev = self.submit_balances(total_eth, user_total, supply, now)?;
        for (id, b) in new_balances {
            if let Some(n) = self.nodes.get_mut(&id) {
                n.balance = b;
            }
        }
        events.append(&mut ev);
        Ok(events)
    }

    /// Sets the RPL price (wad ETH per RPL), as `RocketNetworkPrices`.
    ///
    /// Specification:
    /// - fails with `ZeroPrice` for 0.
    pub fn set_rpl_price(&mut self, price_wad: U256, _now: u64) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        if price_wad == U256::ZERO {
            return Err(RocketPoolError::ZeroPrice);
        }
        self.rpl_price_wad = price_wad;
        Ok(vec![RocketPoolEvent::RplPriceUpdated { price_wad }])
    }

    // ----- losses, exits, rewards -----

    /// `slashRPL`: RPL worth `eth_shortfall` at the RPL price, `⌊shortfall·1e18/price⌋`, capped at the
    /// stake; returns (RPL, its ETH value `⌊rpl·price/1e18⌋`).
    fn rpl_slash(&self, n: &Node, eth_shortfall: U256) -> Result<(U256, U256), MathError> {
        if eth_shortfall == U256::ZERO {
            return Ok((U256::ZERO, U256::ZERO));
        }
        let rpl = mul_div_down(eth_shortfall, WAD, self.rpl_price_wad)?.min(n.rpl_staked);
        Ok((rpl, mul_div_down(rpl, self.rpl_price_wad, WAD)?))
    }

    /// Allocates a validator loss of `node` (slashing, penalties) along the loss waterfall: unrealised
    /// rewards above capital first, then the node's ETH bond, then its RPL (slashed to the auction for
    /// the ETH that reached the user capital), and only the rest hits rETH holders — through the next
    /// balance update, since the user capital (and so the user share) falls by the user part.
    ///
    /// Specification:
    /// - fails with `UnknownNode`, `ZeroAmount` for a zero loss;
    /// - fails with `LossExceedsBalance` when the loss exceeds the node's reported balance.
    pub fn apply_validator_losses(
        &mut self,
        ledger: &mut Ledger,
        node: AccountId,
        loss_wei: U256,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let n = self.node_ref(ledger, node)?;
        if loss_wei == U256::ZERO {
            return Err(RocketPoolError::ZeroAmount);
        }
        if loss_wei > n.balance {
            return Err(RocketPoolError::LossExceedsBalance {
                loss: loss_wei,
                balance: n.balance,
            });
        }
        let capital = n.node_capital.add_c(n.user_capital)?;
        let rewards_hit = loss_wei.min(n.balance.saturating_sub(capital));
        let rest = loss_wei - rewards_hit;
        let bond_hit = rest.min(n.node_capital);
        let user_hit = (rest - bond_hit).min(n.user_capital);
        let (rpl, rpl_eth_value) = self.rpl_slash(n, user_hit)?;
        let to_reth_holders = user_hit.saturating_sub(rpl_eth_value);
        let new_auction = self.auction_rpl.add_c(rpl)?;
        if rpl > U256::ZERO {
            ledger.transfer(self.accounts.rpl_vault, self.accounts.auction, self.rpl, rpl)?;
        }
        self.auction_rpl = new_auction;
        if let Some(n) = self.nodes.get_mut(&node) {
            n.balance -= loss_wei;
            n.node_capital -= bond_hit;
            n.user_capital -= user_hit;
            n.rpl_staked -= rpl;
        }
        Ok(vec![RocketPoolEvent::LossApplied {
            node,
            loss: loss_wei,
            rewards_hit,
            bond_hit,
            user_hit,
            rpl_slashed: rpl,
            rpl_eth_value,
            to_reth_holders,
        }])
    }

    /// Sells all RPL in the auction to `bidder` at the RPL price (`⌊rpl·price/1e18⌋` ETH); the ETH
    /// goes to the deposit pool (`recycleLiquidatedStake`).
    ///
    /// Specification:
    /// - fails with `NothingToAuction` when the auction is empty;
    /// - fails with a ledger error when the bidder holds less ETH than the price.
    pub fn settle_auction(
        &mut self,
        ledger: &mut Ledger,
        bidder: AccountId,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let rpl = self.auction_rpl;
        if rpl == U256::ZERO {
            return Err(RocketPoolError::NothingToAuction);
        }
        let eth_amount = mul_div_down(rpl, self.rpl_price_wad, WAD)?;
        let new_pool = self.deposit_pool_wei.add_c(eth_amount)?;
        let (eth, rpl_asset, acc) = (self.eth, self.rpl, self.accounts.clone());
        ledger.atomic(|l| {
            l.transfer(bidder, acc.deposit_pool, eth, eth_amount)?;
            l.transfer(acc.auction, bidder, rpl_asset, rpl)
        })?;
        self.deposit_pool_wei = new_pool;
        self.auction_rpl = U256::ZERO;
        Ok(vec![RocketPoolEvent::AuctionSettled {
            bidder,
            rpl,
            eth: eth_amount,
        }])
    }

    /// Distributes `swept_wei` that arrived at `<sym>:minipools` for `validators` exited validators of
    /// `node` (`distributeBalance` after exit): their capital slice is `capital·k/n` (floor; the last
    /// validator takes the remainder); the node share (`calculateNodeShare`) goes to the node, the user
    /// share to the rETH contract; a user shortfall slashes RPL to the auction (`slashRPL` at close).
    ///
    /// Specification:
    /// - fails with `UnknownNode`, `ZeroAmount` for 0 validators, `TooManyValidators` when more exit than
    ///   are staking;
    /// - fails with `InsufficientSwept` when `<sym>:minipools` holds less than `swept_wei`.
    pub fn process_exit(
        &mut self,
        ledger: &mut Ledger,
        node: AccountId,
        validators: u64,
        swept_wei: U256,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let n = self.node_ref(ledger, node)?;
        if validators == 0 {
            return Err(RocketPoolError::ZeroAmount);
        }
        if validators > n.validators {
            return Err(RocketPoolError::TooManyValidators {
                requested: validators,
                staking: n.validators,
            });
        }
        let available = ledger.balance(self.accounts.minipools, self.eth);
        if available < swept_wei {
            return Err(RocketPoolError::InsufficientSwept {
                available,
                required: swept_wei,
            });
        }
        let (k, total) = (U256::from(validators), U256::from(n.validators));
        let slice = |x: U256| -> Result<U256, MathError> {
            if validators == n.validators {
                Ok(x)
            } else {
                mul_div_down(x, k, total)
            }
        };
        let nc = slice(n.node_capital)?;
        let uc = slice(n.user_capital)?;
        let bal = slice(n.balance)?;
        let ns = node_share(swept_wei, nc, uc, n.commission_wad)?;
        let us = swept_wei - ns;
        let (rpl, _) = self.rpl_slash(n, uc.saturating_sub(us))?;
        let new_auction = self.auction_rpl.add_c(rpl)?;
        let new_collateral = self.collateral_wei.add_c(us)?;
        let (eth, acc, rpl_asset) = (self.eth, self.accounts.clone(), self.rpl);
        ledger.atomic(|l| {
            l.transfer(acc.minipools, node, eth, ns)?;
            l.transfer(acc.minipools, acc.collateral, eth, us)?;
            if rpl > U256::ZERO {
                l.transfer(acc.rpl_vault, acc.auction, rpl_asset, rpl)?;
            }
            Ok::<_, LedgerError>(())
        })?;
        self.collateral_wei = new_collateral;
        self.auction_rpl = new_auction;
        if let Some(n) = self.nodes.get_mut(&node) {
            n.validators -= validators;
            n.node_capital -= nc;
            n.user_capital -= uc;
            n.balance -= bal;
            n.rpl_staked -= rpl;
        }
        Ok(vec![RocketPoolEvent::ExitDistributed {
            node,
            validators,
            swept: swept_wei,
            node_share: ns,
            user_share: us,
        }])
    }

    /// Distributes `amount` of skimmed rewards (partial withdrawals) of `node` that arrived at
    /// `<sym>:minipools`: the node gets `calculateNodeRewards(N, U, amount)`, the rest goes to the rETH
    /// contract.
    ///
    /// Specification:
    /// - fails with `UnknownNode`, `ZeroAmount` for 0, `InsufficientSwept` when `<sym>:minipools` holds less.
    pub fn distribute_rewards(
        &mut self,
        ledger: &mut Ledger,
        node: AccountId,
        amount: U256,
        _now: u64,
    ) -> Result<Vec<RocketPoolEvent>, RocketPoolError> {
        let n = self.node_ref(ledger, node)?;
        if amount == U256::ZERO {
            return Err(RocketPoolError::ZeroAmount);
        }
        let available = ledger.balance(self.accounts.minipools, self.eth);
        if available < amount {
            return Err(RocketPoolError::InsufficientSwept {
                available,
                required: amount,
            });
        }
        let ns = node_rewards(n.node_capital, n.user_capital, amount, n.commission_wad)?;
        let us = amount - ns;
        let new_collateral = self.collateral_wei.add_c(us)?;
        let (eth, acc) = (self.eth, self.accounts.clone());
        ledger.atomic(|l| {
            l.transfer(acc.minipools, node, eth, ns)?;
            l.transfer(acc.minipools, acc.collateral, eth, us)
        })?;
        self.collateral_wei = new_collateral;
        Ok(vec![RocketPoolEvent::RewardsDistributed {
            node,
            amount,
            node_share: ns,
            user_share: us,
        }])
    }

    // ----- invariants -----

    /// Every rule: ledger conservation (a full scan of the ledger) and [`Self::check_backing`].
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        ledger.check_conservation().map_err(|e| e.to_string())?;
        self.check_backing(ledger)
    }

    /// Backing rules (SPEC §4.2): module accounts mirror the accounting (deposit pool, rETH contract,
    /// queued bonds, staked and auctioned RPL), the queue matches the nodes' queued counts and the queue
    /// capacity, every node's capitals fit its validators, reported staking ≤ total hold.
    /// Costs what the protocol holds (reserves, operators, requests), never a scan of the ledger.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        let a = &self.accounts;
        let eq = |what: &str, held: U256, tracked: U256| -> Result<(), String> {
            if held != tracked {
                return Err(format!("{what}: ledger holds {held}, accounting says {tracked}"));
            }
            Ok(())
        };
        eq(
            "deposit pool",
            ledger.balance(a.deposit_pool, self.eth),
            self.deposit_pool_wei,
        )?;
        eq(
            "rETH collateral",
            ledger.balance(a.collateral, self.eth),
            self.collateral_wei,
        )?;
        eq(
            "queued bonds",
            ledger.balance(a.node_deposits, self.eth),
            self.queued_bonds_wei,
        )?;
        eq("auction RPL", ledger.balance(a.auction, self.rpl), self.auction_rpl)?;
        let mut rpl = U256::ZERO;
        let mut bonds = U256::ZERO;
        let mut cap = U256::ZERO;
        let mut queued_nodes: BTreeMap<AccountId, u64> = BTreeMap::new();
        for (id, n) in &self.nodes {
            rpl = rpl.add_c(n.rpl_staked).map_err(|e| e.to_string())?;
            let q = U256::from(n.queued);
            bonds = bonds.add_c(q * n.kind.bond_wei()).map_err(|e| e.to_string())?;
            cap = cap.add_c(q * n.kind.user_wei()).map_err(|e| e.to_string())?;
            if n.node_capital > U256::from(n.validators) * n.kind.bond_wei()
                || n.user_capital > U256::from(n.validators) * n.kind.user_wei()
            {
                return Err(format!(
                    "node {}: capital exceeds its {} validators",
                    n.name, n.validators
                ));
            }
            if n.validators == 0 && n.balance != U256::ZERO {
                return Err(format!("node {}: balance {} without validators", n.name, n.balance));
            }
            queued_nodes.insert(*id, n.queued);
        }
        eq("staked RPL", ledger.balance(a.rpl_vault, self.rpl), rpl)?;
        eq("queued bonds (nodes)", self.queued_bonds_wei, bonds)?;
        eq("queue capacity", self.queue_capacity_wei, cap)?;
        let mut from_queue: BTreeMap<AccountId, u64> = BTreeMap::new();
        for (id, c) in &self.queue {
            if *c == 0 {
                return Err("empty queue entry".into());
            }
            *from_queue.entry(*id).or_default() += c;
        }
        for (id, q) in queued_nodes {
            if from_queue.get(&id).copied().unwrap_or(0) != q {
                return Err(format!("queue disagrees with node #{} queued count {q}", id.0));
            }
        }
        if self.balances.staking_eth > self.balances.total_eth {
            return Err("reported staking ETH above total ETH".into());
        }
        Ok(())
    }
}
