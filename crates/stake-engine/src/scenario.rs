//! The scenario file (SPEC §9): a TOML document a person writes and reads. This module parses it
//! into typed sections; [`crate::world::World::from_scenario`] gives each value its meaning. Every
//! error names the key path (`lst.stETH.fee`) and, through [`locate`], the line in the file.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// A scenario error: the key path, the problem, and where in the file it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// Dotted key path, with array indices: `actions[2].amount`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// 1-based line, if known.
    pub line: Option<usize>,
    /// 1-based column, if known.
    pub column: Option<usize>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.path.is_empty()) {
            (Some(l), false) => write!(f, "line {l}, key `{}`: {}", self.path, self.message),
            (Some(l), true) => write!(f, "line {l}: {}", self.message),
            (None, false) => write!(f, "key `{}`: {}", self.path, self.message),
            (None, true) => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    /// An error at a key path (line filled in by [`Scenario::parse`] callers via [`locate`]).
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError {
            path: path.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }
}

/// `[clock]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockCfg {
    /// Start date, `YYYY-MM-DD`.
    pub start: String,
    /// How long to run, e.g. `365d`.
    pub horizon: String,
    /// Step between metric samples, e.g. `1d`.
    pub step: String,
    /// Seed for every random stream.
    #[serde(default)]
    pub seed: u64,
    /// Monte Carlo paths (default 1).
    #[serde(default)]
    pub paths: Option<u64>,
}

/// `[chains.ethereum]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EthereumCfg {
    /// ETH staked by everyone not modelled explicitly (background validators), e.g. `34_000_000 ETH`.
    pub staked: Option<String>,
    /// Execution-layer reward APR on staked ETH, e.g. `0.6%`.
    pub el_reward_apr: Option<String>,
    /// Share of duties performed by validators, e.g. `99%`.
    pub participation: Option<String>,
}

/// `[chains]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainsCfg {
    /// Ethereum L0 parameters.
    pub ethereum: Option<EthereumCfg>,
}

/// A node operator of an LST (`[[lst.X.operators]]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstOperatorCfg {
    /// Operator name (unique in the world).
    pub name: String,
    /// Module: `curated` (default) or `csm` (bonded) for lido.
    pub module: Option<String>,
    /// Bond: for `csm`, stETH per validator; for rocketpool, ETH per validator (8, 16 or 4).
    pub bond: Option<String>,
    /// Rocket Pool RPL collateral, e.g. `5000 RPL`.
    pub rpl: Option<String>,
    /// Rocket Pool node commission, e.g. `14%`.
    pub commission: Option<String>,
    /// Validators this operator already runs at the start.
    pub validators: Option<u64>,
    /// Participation of its validators, e.g. `99%` (default: the chain's).
    pub participation: Option<String>,
}

/// `[lst.SYMBOL]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstCfg {
    /// `lido`, `rocketpool`, `exchange_rate` or `frxeth`.
    pub model: String,
    /// Fee on rewards, e.g. `10%`.
    pub fee: Option<String>,
    /// ETH already pooled at the start (staked in validators of its operators).
    pub initial_pooled: Option<String>,
    /// Node operators.
    #[serde(default)]
    pub operators: Vec<LstOperatorCfg>,
    /// lido: daily staking limit maximum, e.g. `150_000 ETH`.
    pub staking_limit: Option<String>,
    /// rocketpool: deposit fee, e.g. `5 bps`.
    pub deposit_fee: Option<String>,
    /// rocketpool: deposit-pool capacity, e.g. `18_000 ETH`.
    pub deposit_pool_cap: Option<String>,
    /// exchange_rate: the wrapped/reward token symbol (sfrxETH for frxeth).
    pub vault_symbol: Option<String>,
}

/// `[[accounts]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountCfg {
    /// Account name.
    pub name: String,
    /// Initial balances, e.g. `["1_000 ETH"]`.
    #[serde(default)]
    pub balances: Vec<String>,
    /// How many numbered copies (`name-1` … `name-N`); default 1 (just `name`).
    pub count: Option<u64>,
}

/// `[[actions]]`: a scripted user action.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionCfg {
    /// When: `day 30`, `+12h`, `2025-02-01`, `start`.
    pub at: String,
    /// Who sends it.
    pub account: String,
    /// What: `stake`, `transfer`, `wrap`, `unwrap`, `request_withdrawal`, `claim`, `burn`.
    #[serde(rename = "do")]
    pub op: String,
    /// The LST it concerns.
    pub lst: Option<String>,
    /// The LRT it concerns (`stake`, `request_withdrawal`, `claim`).
    pub lrt: Option<String>,
    /// Asset (for `transfer`).
    pub asset: Option<String>,
    /// Recipient (for `transfer`).
    pub to: Option<String>,
    /// Amount, e.g. `100 ETH`, or `all`.
    pub amount: Option<String>,
    /// Repeat every this long until the horizon, e.g. `30d`.
    pub every: Option<String>,
    /// With `every`: how many times in all (default: until the horizon).
    pub times: Option<u64>,
    /// Restaking / market target: operator name.
    pub operator: Option<String>,
    /// Service (AVS / network / NCN) name.
    pub service: Option<String>,
    /// Pool name.
    pub pool: Option<String>,
    /// Market name (lending or Pendle).
    pub market: Option<String>,
    /// Vault name (Symbiotic / Jito).
    pub vault: Option<String>,
    /// Strategy / collateral token.
    pub token: Option<String>,
    /// Second token (swap output, borrow asset).
    pub token_out: Option<String>,
    /// Minimum output (slippage bound).
    pub min_out: Option<String>,
    /// A fraction (`10%`), leverage target or health-factor target.
    pub fraction: Option<String>,
    /// Target (e.g. health factor `1.1`, leverage `3`).
    pub target: Option<String>,
    /// Operator set / network id.
    pub set: Option<String>,
}

/// `[[events]]`: an exogenous event or shock.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventCfg {
    /// When.
    pub at: String,
    /// `slash_validators`, `withdrawal_surge`, `finality_loss`, `el_reward_apr`, `participation`.
    pub kind: String,
    /// Operator concerned.
    pub operator: Option<String>,
    /// Number of validators.
    pub validators: Option<u64>,
    /// LST concerned.
    pub lst: Option<String>,
    /// Amount.
    pub amount: Option<String>,
    /// Account that acts (for surges).
    pub account: Option<String>,
    /// Duration (finality loss).
    pub duration: Option<String>,
    /// New value (rates, participation).
    pub value: Option<String>,
    /// Service (AVS / network / NCN) name.
    pub service: Option<String>,
    /// Pool name.
    pub pool: Option<String>,
    /// Market name (lending or Pendle).
    pub market: Option<String>,
    /// Vault name (Symbiotic / Jito).
    pub vault: Option<String>,
    /// Strategy / collateral token.
    pub token: Option<String>,
    /// Second token (swap output, borrow asset).
    pub token_out: Option<String>,
    /// Minimum output (slippage bound).
    pub min_out: Option<String>,
    /// A fraction (`10%`), leverage target or health-factor target.
    pub fraction: Option<String>,
    /// Target (e.g. health factor `1.1`, leverage `3`).
    pub target: Option<String>,
    /// Operator set / network id.
    pub set: Option<String>,
    /// `parameter_change`: which parameter (e.g. `liquidation_threshold`).
    pub parameter: Option<String>,
    /// `random_sell_offs`: expected events per year, e.g. `"6"`.
    pub per_year: Option<String>,
    /// `random_sell_offs`: each size × U[1 − jitter, 1 + jitter], e.g. `"50%"`.
    pub jitter: Option<String>,
}

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name.
    pub name: Option<String>,
    /// What it shows.
    pub description: Option<String>,
    /// Clock.
    pub clock: ClockCfg,
    /// L0 chains.
    #[serde(default)]
    pub chains: ChainsCfg,
    /// L1 liquid staking tokens by symbol.
    #[serde(default)]
    pub lst: BTreeMap<String, LstCfg>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<AccountCfg>,
    /// Scripted actions.
    #[serde(default)]
    pub actions: Vec<ActionCfg>,
    /// Events.
    #[serde(default)]
    pub events: Vec<EventCfg>,
    /// L3 liquid restaking tokens by symbol (`[lrt.ezETH]`).
    #[serde(default)]
    pub lrt: BTreeMap<String, crate::lrt::LrtCfg>,
    /// L5 aggregator vaults (`[[vaults]]`).
    #[serde(default)]
    pub vaults: Vec<crate::products::VaultCfg>,
    /// L5 insurance funds (`[[insurance]]`).
    #[serde(default)]
    pub insurance: Vec<crate::products::InsuranceCfg>,
    /// L2 restaking protocols (`[restaking.eigenlayer]`, …).
    #[serde(default)]
    pub restaking: crate::restaking::RestakingCfg,
    /// Restaking operators (`[[operators]]`).
    #[serde(default)]
    pub operators: Vec<crate::restaking::OperatorCfg>,
    /// Services that buy security (`[[services]]`).
    #[serde(default)]
    pub services: Vec<crate::restaking::ServiceCfg>,
    /// Exogenous market processes (`[market.ETH_USD]`).
    #[serde(default)]
    pub market: BTreeMap<String, crate::markets::PriceProcessCfg>,
    /// Oracle feeds (`[[oracles]]`).
    #[serde(default)]
    pub oracles: Vec<crate::markets::OracleCfg>,
    /// AMM pools (`[[pools]]`).
    #[serde(default)]
    pub pools: Vec<crate::markets::PoolCfg>,
    /// Lending markets (`[lending.aave]`, `[[lending.morpho]]`).
    #[serde(default)]
    pub lending: crate::markets::LendingCfg,
    /// Pendle markets (`[[pendle]]`).
    #[serde(default)]
    pub pendle: Vec<crate::markets::PendleCfg>,
    /// Contents of the data files the scenario names (e.g. a replayed price CSV), keyed by the
    /// path as written; filled by the caller (the engine does no I/O), never read from TOML.
    #[serde(skip)]
    pub data: BTreeMap<String, String>,
    /// Agents (`[[agents]]`, e.g. `kind = "liquidator"`).
    #[serde(default)]
    pub agents: Vec<crate::markets::AgentCfg>,
}

impl Scenario {
    /// Parses TOML text. Syntax and schema errors carry their line and column.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        toml::from_str::<Scenario>(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            ScenarioError {
                path: String::new(),
                message: e.message().to_string(),
                line,
                column,
            }
        })
    }
}

/// Narrows a count computed from a user's amount to `u64`, or says why it cannot be (never
/// truncates: 2^69 ETH of validators must not become 32 ETH).
pub(crate) fn to_u64(v: stake_math::U256, path: &str, what: &str) -> Result<u64, ScenarioError> {
    u64::try_from(v).map_err(|_| ScenarioError::at(path, format!("{what}: {v} is too large (at most {})", u64::MAX)))
}

/// 1-based line and column (in characters, as a caret under the line needs) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Finds the line of a key path (`lst.stETH.fee`, `actions[2].amount`) in the TOML text:
/// the line of the key if present, else of its table header. Returns `None` if nothing matches.
pub fn locate(text: &str, path: &str) -> Option<usize> {
    let segs = split_path(path);
    if segs.is_empty() {
        return None;
    }
    let mut header: Vec<String> = Vec::new();
    let mut counters: BTreeMap<String, usize> = BTreeMap::new();
    let mut best: Option<(usize, usize)> = None; // (matched segments, line)
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("[[") {
            let name = line.trim_start_matches('[').trim_end_matches(']').trim();
            let idx = counters.entry(name.to_string()).or_insert(0);
            header = name
                .split('.')
                .map(|s| s.trim().trim_matches('"').to_string())
                .collect();
            header.push(idx.to_string());
            *idx += 1;
        } else if line.starts_with('[') {
            let name = line.trim_start_matches('[').trim_end_matches(']').trim();
            header = name
                .split('.')
                .map(|s| s.trim().trim_matches('"').to_string())
                .collect();
        } else if let Some((k, _)) = line.split_once('=') {
            let mut full = header.clone();
            full.extend(k.trim().split('.').map(|s| s.trim().trim_matches('"').to_string()));
            let m = common_prefix(&full, &segs);
            if m == full.len().min(segs.len()) && m > best.map(|b| b.0).unwrap_or(0) {
                best = Some((m, i + 1));
            }
            continue;
        } else {
            continue;
        }
        let m = common_prefix(&header, &segs);
        if m == header.len() && m > best.map(|b| b.0).unwrap_or(0) {
            best = Some((m, i + 1));
        }
    }
    best.map(|b| b.1)
}

fn common_prefix(a: &[String], b: &[String]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((name, rest)) => {
                out.push(name.to_string());
                out.push(rest.trim_end_matches(']').to_string());
            }
            None => out.push(part.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[clock]\nstart = \"2025-01-01\"\nhorizon = \"30d\"\nstep = \"1d\"\n\n[lst.stETH]\nmodel = \"lido\"\nfee = \"10%\"\n\n[[actions]]\nat = \"day 1\"\naccount = \"a\"\ndo = \"stake\"\n\n[[actions]]\nat = \"day 2\"\naccount = \"b\"\ndo = \"stake\"\namount = \"1 ETH\"\n";

    #[test]
    fn locates_keys_and_array_entries() {
        assert_eq!(locate(TEXT, "clock.horizon"), Some(3));
        assert_eq!(locate(TEXT, "lst.stETH.fee"), Some(8));
        assert_eq!(locate(TEXT, "lst.stETH.operators"), Some(6));
        assert_eq!(locate(TEXT, "actions[1].amount"), Some(19));
        assert_eq!(locate(TEXT, "actions[0].amount"), Some(10));
    }

    #[test]
    fn schema_errors_point_at_the_line() {
        let bad = TEXT.replace("fee = \"10%\"", "fees = \"10%\"");
        let e = Scenario::parse(&bad).unwrap_err();
        assert_eq!(e.line, Some(8));
        assert!(e.message.contains("unknown field `fees`"), "{}", e.message);
        assert!(Scenario::parse(TEXT).is_ok());
    }
}
