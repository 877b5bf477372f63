//! What a run produces: a summary (for the table and `summary.json`) and per-step rows (for the
//! CSV and the charts). Floats appear only here, for reporting (SPEC §1.1).

use serde::Serialize;

/// Per-LST summary at the end of a run.
#[derive(Clone, Debug, Serialize)]
pub struct LstSummary {
    /// Token symbol.
    pub symbol: String,
    /// Model name.
    pub model: String,
    /// ETH per token, 18-decimal fixed point as a decimal string (exact).
    pub rate_wad: String,
    /// Same, as a float for display.
    pub rate: f64,
    /// Annualised growth of the rate over the run, percent.
    pub realised_apr_pct: f64,
    /// ETH backing the token (wei, decimal string).
    pub tvl_wei: String,
    /// TVL in ETH (display).
    pub tvl_eth: f64,
    /// Share of all ETH staked on the chain, percent.
    pub share_of_staked_pct: f64,
    /// Current withdrawal-queue length in days (time for a new request to become claimable).
    pub queue_days: f64,
    /// Validators it runs (active + pending + exiting).
    pub validators: u64,
}

/// Chain summary at the end of a run.
#[derive(Clone, Debug, Serialize)]
pub struct ChainSummary {
    /// Chain name.
    pub chain: String,
    /// ETH staked (wei, decimal string).
    pub staked_wei: String,
    /// ETH staked (display).
    pub staked_eth: f64,
    /// Active validators.
    pub active_validators: u64,
    /// Ideal consensus-layer APR at the current stake, percent.
    pub ideal_cl_apr_pct: f64,
    /// Days a new exit waits in the exit queue now.
    pub exit_queue_days: f64,
    /// Days a new deposit waits in the activation queue now.
    pub activation_queue_days: f64,
    /// Validators slashed during the run.
    pub slashed_validators: u64,
}

/// A transaction the run rejected (scripted actions may legitimately fail, e.g. a claim that is
/// not finalised yet; they are reported, not fatal).
#[derive(Clone, Debug, Serialize)]
pub struct RejectedTx {
    /// When.
    pub date: String,
    /// Who.
    pub sender: String,
    /// What (short description).
    pub action: String,
    /// Stable code.
    pub code: u32,
    /// Message.
    pub message: String,
}

/// The whole summary (`summary.json`).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// BLAKE3 of the scenario text.
    pub scenario_hash: String,
    /// Seed used.
    pub seed: u64,
    /// stakestack version.
    pub version: String,
    /// Start date.
    pub start: String,
    /// End date.
    pub end: String,
    /// Steps taken.
    pub steps: u64,
    /// BLAKE3 state hash of the final world (hex).
    pub final_state_hash: String,
    /// The chain.
    pub chain: ChainSummary,
    /// The LSTs.
    pub lsts: Vec<LstSummary>,
    /// Transactions applied.
    pub transactions_applied: u64,
    /// Transactions rejected, with their reasons.
    pub rejected: Vec<RejectedTx>,
    /// Number of protocol events emitted.
    pub events: u64,
    /// L2 restaking summary (null when the scenario has none).
    pub restaking: serde_json::Value,
    /// L4 markets summary (null when the scenario has none).
    pub markets: serde_json::Value,
    /// L3 liquid restaking tokens (absent when the scenario has none).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub lrts: serde_json::Value,
    /// L5 products (absent when the scenario has none).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub products: serde_json::Value,
    /// Extra console sections (restaking, markets), already formatted.
    #[serde(skip)]
    pub extra_text: Vec<String>,
}

/// One row per step: a date and named numeric columns (same columns every row).
#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    /// Unix seconds.
    pub t: u64,
    /// Date.
    pub date: String,
    /// Values, in the order of [`RunResult::columns`].
    pub values: Vec<f64>,
}

/// Everything a run produces.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    /// Summary.
    pub summary: Summary,
    /// Column names of the step rows.
    pub columns: Vec<String>,
    /// Step rows.
    pub rows: Vec<StepRow>,
}
