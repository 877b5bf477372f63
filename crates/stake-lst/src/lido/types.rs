//! Parameters, oracle report and events of the Lido model.

use super::math::ether;
use serde::{Deserialize, Serialize};
use stake_math::U256;

/// Oracle report sanity limits (`OracleReportSanityChecker.LimitsList`, mainnet values by default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SanityLimits {
    /// Max validators reported exited per day (3,600).
    pub exited_validators_per_day: u64,
    /// Max validators reported appeared per day (1,800).
    pub appeared_validators_per_day: u64,
    /// Max annualised CL balance increase, bp (1,000 = 10 %).
    pub annual_balance_increase_bp: u64,
    /// Max deviation of the simulated share rate, bp (50).
    pub simulated_share_rate_deviation_bp: u64,
    /// Max validator exit requests per report (600).
    pub max_validator_exit_requests_per_report: u64,
    /// Min age of the last request finalized by a report, seconds (7,680).
    pub request_timestamp_margin_s: u64,
    /// Max positive token rebase per report, 1e9 precision (750,000 = 0.075 %).
    pub max_positive_token_rebase: u64,
    /// Initial slashing allowance per validator, pwei (8 ≈ 1/4096 of 32 ETH after Electra).
    pub initial_slashing_amount_pwei: u64,
    /// Inactivity penalties allowance per validator, pwei (101).
    pub inactivity_penalties_amount_pwei: u64,
    /// Max relative error of the second-opinion CL balance, bp (50).
    pub cl_balance_oracles_error_upper_bp: u64,
}

impl Default for SanityLimits {
    fn default() -> Self {
        Self {
            exited_validators_per_day: 3_600,
            appeared_validators_per_day: 1_800,
            annual_balance_increase_bp: 1_000,
            simulated_share_rate_deviation_bp: 50,
            max_validator_exit_requests_per_report: 600,
            request_timestamp_margin_s: 7_680,
            max_positive_token_rebase: 750_000,
            initial_slashing_amount_pwei: 8,
            inactivity_penalties_amount_pwei: 101,
            cl_balance_oracles_error_upper_bp: 50,
        }
    }
}

/// How a staking module selects and secures its operators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModuleKind {
    /// Curated (NodeOperatorsRegistry): fixed operator set, min-first allocation among operators.
    Curated,
    /// Permissionless bonded (CSM-like): operators post a stETH bond that absorbs their losses;
    /// deposits go to operators in queue order while their bond allows.
    Bonded {
        /// Bond for the first validator (CSM: 2.4 ETH).
        bond_first_wei: U256,
        /// Bond for each further validator (CSM: 1.3 ETH).
        bond_next_wei: U256,
    },
}

/// One node operator at construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorParams {
    /// Unique name across all modules.
    pub name: String,
    /// Total signing keys approved (deposited validators can never exceed this).
    pub key_limit: u64,
}

/// One staking module at construction (`StakingRouter` entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleParams {
    /// Unique module name.
    pub name: String,
    /// Selection rules.
    pub kind: ModuleKind,
    /// Module's share of rewards, bp of rewards (curated 500, CSM 600).
    pub module_fee_bp: u64,
    /// Treasury's share of this module's rewards, bp (curated 500, CSM 400).
    pub treasury_fee_bp: u64,
    /// Max share of all active validators, bp (curated 10,000, CSM 500).
    pub stake_share_limit_bp: u64,
    /// Operators.
    pub operators: Vec<OperatorParams>,
}

/// Construction parameters of [`super::Lido`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LidoParams {
    /// Rebasing token symbol (`stETH`).
    pub symbol: String,
    /// Wrapped token symbol (`wstETH`).
    pub wrapped_symbol: String,
    /// Native asset symbol (`ETH`), registered if missing.
    pub native_symbol: String,
    /// Bootstrap deposit minted into the buffer for the dead-share holder `<symbol>:initial_holder`
    /// (0 = none; conversions are then 1:1 until the first share exists).
    pub bootstrap_wei: U256,
    /// Whether `submit` is rate limited.
    pub staking_limit_enabled: bool,
    /// Max staking limit (150,000 ETH).
    pub max_stake_limit_wei: U256,
    /// Blocks to regenerate the full limit (6,400 ≈ 23.4375 ETH per block).
    pub stake_limit_growth_blocks: u64,
    /// Seconds per block/slot (12).
    pub seconds_per_slot: u64,
    /// Oracle frame length in seconds (225 epochs · 384 s = 86,400).
    pub frame_seconds: u64,
    /// Sanity checker limits.
    pub sanity: SanityLimits,
    /// Staking modules.
    pub modules: Vec<ModuleParams>,
}

impl Default for LidoParams {
    fn default() -> Self {
        let ops = |prefix: &str, n: usize| {
            (1..=n)
                .map(|i| OperatorParams {
                    name: format!("{prefix}-{i}"),
                    key_limit: 1_000_000,
                })
                .collect::<Vec<_>>()
        };
        Self {
            symbol: "stETH".into(),
            wrapped_symbol: "wstETH".into(),
            native_symbol: "ETH".into(),
            bootstrap_wei: U256::ZERO,
            staking_limit_enabled: true,
            max_stake_limit_wei: ether(150_000),
            stake_limit_growth_blocks: 6_400,
            seconds_per_slot: 12,
            frame_seconds: 225 * 32 * 12,
            sanity: SanityLimits::default(),
            modules: vec![
                ModuleParams {
                    name: "curated".into(),
                    kind: ModuleKind::Curated,
                    module_fee_bp: 500,
                    treasury_fee_bp: 500,
                    stake_share_limit_bp: 10_000,
                    operators: ops("curated", 4),
                },
                ModuleParams {
                    name: "csm".into(),
                    kind: ModuleKind::Bonded {
                        bond_first_wei: U256::new(2_400_000_000_000_000_000),
                        bond_next_wei: U256::new(1_300_000_000_000_000_000),
                    },
                    module_fee_bp: 600,
                    treasury_fee_bp: 400,
                    stake_share_limit_bp: 500,
                    operators: ops("csm", 2),
                },
            ],
        }
    }
}

/// Second-opinion oracle answer for a negative rebase (`ISecondOpinionOracle.getReport`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondOpinion {
    /// CL balance in gwei.
    pub cl_balance_gwei: U256,
    /// Withdrawal vault balance in wei.
    pub withdrawal_vault_balance_wei: U256,
}

/// One accounting oracle report (one frame). Vault balances and burn requests are read from the
/// ledger, as the contracts read them on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LidoReport {
    /// Reference time of the report (seconds).
    pub timestamp: u64,
    /// Validators that ever appeared on the CL (cumulative, exited included).
    pub cl_validators: u64,
    /// Sum of the CL balances of those validators, wei.
    pub cl_balance_wei: U256,
    /// Cumulative exited validators per operator (operators not listed keep their count).
    pub exited_validators: Vec<(String, u64)>,
    /// Ascending last request ids of each finalization batch (empty: finalize nothing).
    pub withdrawal_finalization_batches: Vec<u64>,
    /// Simulated share rate (ray), also the finalization `maxShareRate`.
    pub simulated_share_rate: U256,
    /// Losses (wei) on each operator's validators since the previous report.
    pub operator_losses: Vec<(String, U256)>,
    /// Second opinion used when the CL decrease check fails (None: no second-opinion oracle).
    pub second_opinion: Option<SecondOpinion>,
}

/// What a report did (also carried by [`LidoEvent::TokenRebased`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Pooled ether before.
    pub pre_total_pooled_ether: U256,
    /// Shares before.
    pub pre_total_shares: U256,
    /// Pooled ether after.
    pub post_total_pooled_ether: U256,
    /// Shares after.
    pub post_total_shares: U256,
    /// Ether drawn from the withdrawal vault.
    pub withdrawals: U256,
    /// Ether drawn from the EL rewards vault.
    pub el_rewards: U256,
    /// Ether locked in the withdrawal queue.
    pub ether_to_lock: U256,
    /// Shares burnt.
    pub shares_burnt: U256,
    /// Shares minted as protocol fee.
    pub fee_shares: U256,
    /// CL balance before plus appeared validators' deposits.
    pub principal_cl_balance: U256,
}

/// Events of the Lido model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LidoEvent {
    /// Ether staked.
    Submitted {
        /// Sender.
        sender: String,
        /// Wei.
        amount: U256,
        /// Shares minted.
        shares: U256,
    },
    /// stETH moved.
    Transfer {
        /// From.
        from: String,
        /// To.
        to: String,
        /// Amount asked (stETH).
        amount: U256,
        /// Shares moved.
        shares: U256,
    },
    /// stETH wrapped.
    Wrapped {
        /// Account.
        account: String,
        /// stETH in.
        steth: U256,
        /// wstETH out.
        wsteth: U256,
    },
    /// wstETH unwrapped.
    Unwrapped {
        /// Account.
        account: String,
        /// wstETH in.
        wsteth: U256,
        /// stETH out.
        steth: U256,
    },
    /// Withdrawal requested.
    WithdrawalRequested {
        /// Request id.
        request_id: u64,
        /// Owner.
        owner: String,
        /// stETH.
        steth: U256,
        /// Shares.
        shares: U256,
    },
    /// Requests finalized.
    WithdrawalsFinalized {
        /// First id.
        from: u64,
        /// Last id.
        to: u64,
        /// Ether locked.
        ether_locked: U256,
        /// Shares of those requests.
        shares: U256,
    },
    /// Request claimed.
    WithdrawalClaimed {
        /// Request id.
        request_id: u64,
        /// Owner.
        owner: String,
        /// Ether paid.
        ether: U256,
    },
    /// Validators deposited (accounting side).
    Deposited {
        /// Operator.
        operator: String,
        /// Validators.
        validators: u64,
    },
    /// Exits requested.
    ExitsRequested {
        /// Operator.
        operator: String,
        /// Validators.
        validators: u64,
    },
    /// Bond posted by an operator of a bonded module.
    BondPosted {
        /// Operator.
        operator: String,
        /// Shares added.
        shares: U256,
    },
    /// Bond burnt to cover an operator's loss.
    BondPenalized {
        /// Operator.
        operator: String,
        /// Loss reported.
        loss: U256,
        /// Ether value covered.
        covered: U256,
        /// Shares moved to the burner.
        shares: U256,
    },
    /// Fee shares minted to a recipient.
    FeeMinted {
        /// Recipient account.
        recipient: String,
        /// Shares.
        shares: U256,
    },
    /// Oracle report applied.
    TokenRebased {
        /// Report time.
        timestamp: u64,
        /// Seconds since the previous report.
        time_elapsed: u64,
        /// Amounts.
        summary: Box<ReportSummary>,
    },
}
