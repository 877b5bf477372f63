//! The engine's side of L2 restaking (SPEC §5): EigenLayer, Symbiotic, Jito and Babylon, and the
//! services that buy security from them, wired into the world.
//!
//! - **Strategies**: one per LST the scenario declares, holding the non-rebasing token (wstETH
//!   for a lido model — stETH is a rebasing shares asset, so its strategy holds the wrapper — and
//!   the token itself for rocketpool), plus beacon-chain ETH through EigenPods. Each frame the
//!   engine passes the LST's rate in as the strategy token's ETH price. Any other token the world
//!   can value gets a strategy on first use (`restake` / `stake_from` with `token`): a pool's LP
//!   token priced at the pool's virtual price each frame, a `[[restaking.assets]]` asset at its
//!   `price_eth` (0 without one); it joins every EigenLayer service's operator set.
//! - **EigenPods**: `restake_native` deposits 32-ETH validators into L0 with the pod account as
//!   withdrawal credentials; each frame the engine verifies the validators that appeared and
//!   checkpoints the pod from `summary_by_credentials(pod)`, so an L0 slash cuts the
//!   beacon-chain slashing factor of the pod owner.
//! - **Services** (`[[services]]`): each is an AVS with one operator set (id 0) over every
//!   strategy, whose slasher is the AVS itself. Listed operators register and allocate magnitude
//!   at the start. Each frame the engine records the stake secured, pays the day's reward budget
//!   (`reward_apr` of the secured ETH value, in ETH funded to the AVS) as a one-day rewards
//!   submission, and runs the coordinator's daily distribution. A `service_fault` slashes through
//!   `slash_operator`.
//! - **Other protocols**: `protocol = "symbiotic"` (a network over Symbiotic vaults, see
//!   [`symbiotic`]), `"jito"` (an NCN over Jito vaults, see [`jito`]) and `"babylon"` (a chain
//!   secured by finality providers, see [`babylon`]). A fault slashes through that model.
//! - **Treasuries**: every service's `reward_budget` is minted once at genesis into
//!   `<service>:treasury`; each frame's rewards (`reward_apr` of the stake it secures, or a fixed
//!   `reward_per_day`) leave it. When it cannot pay a day, a hook rejection (9040) is recorded and
//!   the service pays no more rewards.
//!
//! Time: EigenLayer blocks are 12 s from the scenario start; rewards use seconds.

pub mod babylon;
pub mod funds;
pub mod jito;
pub mod symbiotic;

use crate::action::{Action, SYSTEM};
use crate::amount::{format_fixed, parse_amount, parse_wad_fraction};
use crate::error::{proto, EngineError};
use crate::event::Event;
use crate::lst::LstModel;
use crate::scenario::{ActionCfg, EventCfg, Scenario, ScenarioError};
use crate::time::parse_duration;
use crate::world::{HookRejection, World, DEPOSIT};
use serde::{Deserialize, Serialize};
use serde_json::json;
use stake_ledger::{hash_serde, Ledger, Reject, Rejection};
use stake_math::{mul_div_down, u, Checked, U256, WAD};
use stake_restaking::eigenlayer::{
    self as el, pod_account_name, EigenLayer, ElEvent, ElParams, BEACON_STRATEGY, SECONDS_PER_BLOCK,
};
use stake_restaking::services::{
    self as svc, Protocol, RewardBudget, RewardSchedule, SecurityBinding, Service, ServiceKind, Services,
    ServicesEvent, ValueUnit,
};
use std::collections::{BTreeMap, BTreeSet};

const DAY: u64 = 86_400;
/// The operator set every service uses (`<service>#0`).
const SET_ID: u32 = 0;

/// `[restaking]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestakingCfg {
    /// `[restaking.eigenlayer]`.
    pub eigenlayer: Option<EigenLayerCfg>,
    /// `[restaking.symbiotic]`.
    pub symbiotic: Option<symbiotic::SymbioticCfg>,
    /// `[restaking.jito]`.
    pub jito: Option<jito::JitoCfg>,
    /// `[restaking.babylon]`.
    pub babylon: Option<babylon::BabylonCfg>,
    /// `[[restaking.assets]]`: external plain assets (BTC, JitoSOL, reward tokens).
    #[serde(default)]
    pub assets: Vec<funds::AssetCfg>,
}

/// `[restaking.eigenlayer]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EigenLayerCfg {
    /// `MIN_WITHDRAWAL_DELAY` as a duration (default `14d` = 100,800 blocks).
    pub withdrawal_delay: Option<String>,
    /// `DEALLOCATION_DELAY` as a duration (default `14d`).
    pub deallocation_delay: Option<String>,
    /// Operators' allocation delay as a duration (default `0s`: allocations count at once).
    pub allocation_delay: Option<String>,
}

/// One source of an operator's own stake: `{ lst = "stETH", amount = "1000 ETH" }` (ETH staked
/// into the LST, then restaked; lido tokens are wrapped first), `{ token = "EIGEN", amount =
/// "10_000 EIGEN" }` (an external asset minted, or an LST's restakable token bought with the ETH
/// given, then restaked into its strategy, created on first use) or `{ native = "64 ETH" }`
/// (validators with the operator's EigenPod as withdrawal credentials).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StakeFromCfg {
    /// LST to stake through.
    pub lst: Option<String>,
    /// Strategy token to restake: a `[[restaking.assets]]` asset (amount in the token) or an
    /// LST's restakable token (amount in ETH).
    pub token: Option<String>,
    /// ETH staked into the LST (the unit may be ETH or the LST, counted 1:1 in ETH).
    pub amount: Option<String>,
    /// Native ETH restaked through an EigenPod (a multiple of 32 ETH).
    pub native: Option<String>,
}

/// `[[operators]]`: an EigenLayer operator.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorCfg {
    /// Account name (unique).
    pub name: String,
    /// The operator's own (self-delegated) stake, restaked at the start.
    #[serde(default)]
    pub stake_from: Vec<StakeFromCfg>,
}

/// `[[services]]`: an AVS.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCfg {
    /// Name (also the AVS account and its slasher).
    pub name: String,
    /// What it secures: `da`, `oracle`, `bridge`, `sequencer`, `rollup`, `privacy` or free text.
    pub kind: Option<String>,
    /// Restaking protocol: `eigenlayer` (default), `symbiotic`, `jito` or `babylon`.
    pub protocol: Option<String>,
    /// Profit from corruption π: `"$300M"` (USD) or `"50_000 ETH"`.
    pub profit_from_corruption: String,
    /// Corruption threshold α, e.g. `"2/3"`.
    pub threshold: String,
    /// Reward schedule as an extra APR on the stake it secures, e.g. `"1.5%"` (default 0).
    pub reward_apr: Option<String>,
    /// Reward schedule as a fixed amount per day of the budget's token, e.g. `"10 BBN"`.
    pub reward_per_day: Option<String>,
    /// Funds minted once at genesis into `<service>:treasury`, e.g. `"5_000 ETH"` (required with a
    /// reward schedule).
    pub reward_budget: Option<String>,
    /// Operators (EigenLayer operators, Symbiotic/Jito operators, Babylon finality providers).
    #[serde(default)]
    pub operators: Vec<String>,
    /// Symbiotic / Jito vaults it uses.
    #[serde(default)]
    pub vaults: Vec<String>,
    /// Fraction of allocated stake slashed per fault, e.g. `"10%"` (Babylon: the protocol's
    /// slashing rate, the default).
    pub slash_on_fault: Option<String>,
    /// Magnitude each operator allocates to it (default: an equal part among the operator's services).
    pub allocation: Option<String>,
    /// Probability of a fault per operator per day, e.g. `"0.1%"` (default 0; draws are seeded).
    pub fault_probability: Option<String>,
}

/// Restaking actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestakingAction {
    /// Deposit `amount` (None = the whole balance) of `token` into its EigenLayer strategy.
    Restake {
        /// Strategy token.
        token: String,
        /// Amount.
        amount: Option<U256>,
    },
    /// Deposit `validators` 32-ETH validators into L0 with the sender's EigenPod as credentials.
    RestakeNative {
        /// Validators.
        validators: u64,
    },
    /// Delegate to an operator.
    Delegate {
        /// Operator.
        operator: String,
    },
    /// Undelegate (queues every position).
    Undelegate,
    /// Queue a withdrawal of deposit shares of a strategy (None = all).
    QueueWithdrawal {
        /// Strategy.
        strategy: String,
        /// Deposit shares.
        shares: Option<U256>,
    },
    /// Complete every queued withdrawal of the sender whose delay has passed, as tokens.
    CompleteWithdrawals,
    /// Claim EigenLayer rewards (ETH).
    ClaimRewards,
    /// The sender (an operator) sets its magnitude for a service's set in every strategy.
    Allocate {
        /// Service.
        service: String,
        /// Magnitude (wad).
        magnitude_wad: U256,
    },
    /// Symbiotic: deposit collateral (None = the whole balance).
    SymbioticDeposit {
        /// Vault.
        vault: String,
        /// Amount.
        amount: Option<U256>,
    },
    /// Symbiotic: withdraw active stake into the next epoch (None = every share).
    SymbioticWithdraw {
        /// Vault.
        vault: String,
        /// Amount.
        amount: Option<U256>,
    },
    /// Symbiotic: claim every ended epoch's withdrawals.
    SymbioticClaim {
        /// Vault.
        vault: String,
    },
    /// Symbiotic: the resolver vetoes the pending slash of (service, operator) on a vault.
    SymbioticVeto {
        /// Vault.
        vault: String,
        /// Service (network).
        service: String,
        /// Operator.
        operator: String,
    },
    /// Jito: mint VRT (None = the whole token balance).
    JitoMint {
        /// Vault.
        vault: String,
        /// Tokens in.
        amount: Option<U256>,
        /// Minimum VRT out.
        min_out: U256,
    },
    /// Jito: escrow VRT in a withdrawal ticket (None = the whole VRT balance).
    JitoEnqueueWithdrawal {
        /// Vault.
        vault: String,
        /// VRT.
        amount: Option<U256>,
    },
    /// Jito: burn every withdrawable ticket of the sender.
    JitoBurnTickets {
        /// Vault.
        vault: String,
    },
    /// Babylon: lock BTC with a finality provider (None = the whole balance).
    BabylonStake {
        /// Finality provider.
        provider: String,
        /// BTC.
        amount: Option<U256>,
    },
    /// Babylon: unbond every active delegation (to `provider` if given).
    BabylonUnbond {
        /// Finality provider.
        provider: Option<String>,
    },
    /// Babylon: withdraw every unlocked delegation.
    BabylonWithdraw,
    /// Babylon: claim the rewards of every delegation.
    BabylonClaimRewards,
    /// System: a fault of `operator` in `service`, slashed through the service's model.
    ServiceFault {
        /// Service.
        service: String,
        /// Operator.
        operator: String,
        /// Fraction (wad); None = the service's `slash_on_fault`.
        fraction_wad: Option<U256>,
    },
}

impl RestakingAction {
    /// Whether only the system may send it.
    pub fn is_system(&self) -> bool {
        matches!(self, RestakingAction::ServiceFault { .. })
    }
    /// Short description.
    pub fn describe(&self) -> String {
        let amt = |a: &Option<U256>| a.map(|v| v.to_string()).unwrap_or_else(|| "all".into());
        match self {
            RestakingAction::Restake { token, amount } => format!("restake {} {token}", amt(amount)),
            RestakingAction::RestakeNative { validators } => format!("restake {validators} native validators"),
            RestakingAction::Delegate { operator } => format!("delegate to {operator}"),
            RestakingAction::Undelegate => "undelegate".into(),
            RestakingAction::QueueWithdrawal { strategy, shares } => {
                format!("queue withdrawal of {} {strategy} shares", amt(shares))
            }
            RestakingAction::CompleteWithdrawals => "complete queued withdrawals".into(),
            RestakingAction::ClaimRewards => "claim restaking rewards".into(),
            RestakingAction::Allocate { service, magnitude_wad } => {
                format!("allocate magnitude {magnitude_wad} to {service}")
            }
            RestakingAction::ServiceFault {
                service,
                operator,
                fraction_wad,
            } => format!("{service} fault of {operator} (slash {})", amt(fraction_wad)),
            RestakingAction::SymbioticDeposit { vault, amount } => {
                format!("deposit {} into Symbiotic vault {vault}", amt(amount))
            }
            RestakingAction::SymbioticWithdraw { vault, amount } => {
                format!("withdraw {} from Symbiotic vault {vault}", amt(amount))
            }
            RestakingAction::SymbioticClaim { vault } => format!("claim Symbiotic withdrawals of {vault}"),
            RestakingAction::SymbioticVeto {
                vault,
                service,
                operator,
            } => format!("veto {service}'s slash of {operator} on {vault}"),
            RestakingAction::JitoMint { vault, amount, .. } => {
                format!("mint VRT of Jito vault {vault} for {}", amt(amount))
            }
            RestakingAction::JitoEnqueueWithdrawal { vault, amount } => {
                format!("enqueue withdrawal of {} VRT of {vault}", amt(amount))
            }
            RestakingAction::JitoBurnTickets { vault } => format!("burn withdrawable tickets of {vault}"),
            RestakingAction::BabylonStake { provider, amount } => {
                format!("stake {} BTC with {provider}", amt(amount))
            }
            RestakingAction::BabylonUnbond { provider } => {
                format!("unbond BTC delegations ({})", provider.as_deref().unwrap_or("all"))
            }
            RestakingAction::BabylonWithdraw => "withdraw unlocked BTC".into(),
            RestakingAction::BabylonClaimRewards => "claim Babylon rewards".into(),
        }
    }
}

/// Restaking events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RestakingEvent {
    /// EigenLayer.
    EigenLayer(ElEvent),
    /// Services registry.
    Services(ServicesEvent),
    /// Symbiotic.
    Symbiotic(stake_restaking::symbiotic::SymbioticEvent),
    /// Jito.
    Jito(stake_restaking::jito::JitoEvent),
    /// Babylon.
    Babylon(stake_restaking::babylon::BabylonEvent),
}

/// A service's treasury: the token of its reward budget and the amount funded at genesis.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Treasury {
    /// Token symbol.
    pub asset: String,
    /// Funded at genesis.
    pub funded: U256,
}

/// Per-pod engine tracking.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodTrack {
    /// Validators verified so far.
    pub verified: u64,
}

/// How the engine prices a strategy token that is not an LST's (the valuation interface of
/// `set_strategy_price`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Valuation {
    /// A pool's LP token: the pool's virtual price (ETH per LP token, wad), as the markets value it.
    Pool,
    /// An external asset: its `price_eth` (wad; 0 when the scenario gives none).
    Fixed(U256),
}

/// Restaking state of the world.
#[derive(Clone, Debug, Default)]
pub struct RestakingWorld {
    /// EigenLayer (None when the scenario has no restaking).
    pub el: Option<EigenLayer>,
    /// Services registry and books.
    pub services: Services,
    /// Scenario start (block 0).
    pub start: u64,
    /// Seed for fault draws.
    pub seed: u64,
    /// Declared operators, in order.
    pub operators: Vec<String>,
    /// Strategy token → LST symbol whose rate prices it.
    pub priced_by: BTreeMap<String, String>,
    /// Strategies of other tokens (pool LP tokens, external assets) → how each frame prices them.
    pub valued_by: BTreeMap<String, Valuation>,
    /// ETH price (wad per whole token) of external assets that declare `price_eth`.
    pub asset_prices: BTreeMap<String, U256>,
    /// EigenPods by owner.
    pub pods: BTreeMap<String, PodTrack>,
    /// Next synthetic validator index for pod verification.
    pub next_validator_index: u64,
    /// Symbiotic vaults by name.
    pub symbiotic: BTreeMap<String, stake_restaking::symbiotic::SymbioticVault>,
    /// Veto-slasher requests waiting for their window.
    pub sym_pending: Vec<symbiotic::PendingSlash>,
    /// Jito (None when not declared).
    pub jito: Option<stake_restaking::jito::Jito>,
    /// Time of Jito slot 0.
    pub jito_genesis: u64,
    /// Babylon (None when not declared).
    pub babylon: Option<stake_restaking::babylon::Babylon>,
    /// Babylon timelock of new delegations (seconds).
    pub babylon_timelock: u64,
    /// External assets declared by the scenario.
    pub external_assets: Vec<String>,
    /// Vaults each Symbiotic / Jito service uses.
    pub service_vaults: BTreeMap<String, Vec<String>>,
    /// Treasuries by service.
    pub treasuries: BTreeMap<String, Treasury>,
    /// Services whose treasury ran dry (no more rewards).
    pub exhausted: BTreeSet<String>,
    /// Rewards actually paid out per service (Symbiotic / Jito / Babylon; treasury token units).
    pub paid: BTreeMap<String, U256>,
    /// Rewards paid per (protocol, operator, token).
    pub operator_rewards: BTreeMap<(Protocol, String, String), U256>,
}

impl RestakingWorld {
    /// Invariants of every restaking module, in full.
    pub fn check_invariants(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, true)
    }
    /// The per-transaction subset of [`Self::check_invariants`]: each module's backing rules,
    /// without the sums over every staker, depositor, ticket or delegation.
    pub fn check_backing(&self, ledger: &Ledger) -> Result<(), String> {
        self.check_rules(ledger, false)
    }
    fn check_rules(&self, ledger: &Ledger, full: bool) -> Result<(), String> {
        if let Some(el) = &self.el {
            if full {
                el.check_invariants(ledger)
            } else {
                el.check_backing(ledger)
            }
            .map_err(|e| format!("eigenlayer: {e}"))?;
        }
        for v in self.symbiotic.values() {
            if full {
                v.check_invariants(ledger)
            } else {
                v.check_backing(ledger)
            }
            .map_err(|e| format!("symbiotic: {e}"))?;
        }
        if let Some(j) = &self.jito {
            if full {
                j.check_invariants(ledger)
            } else {
                j.check_backing(ledger)
            }
            .map_err(|e| format!("jito: {e}"))?;
        }
        if let Some(b) = &self.babylon {
            if full {
                b.check_invariants(ledger)
            } else {
                b.check_backing(ledger)
            }
            .map_err(|e| format!("babylon: {e}"))?;
        }
        self.services.check_invariants().map_err(|e| format!("services: {e}"))
    }
    /// Feeds the state into the world hash.
    pub fn hash_state(&self, h: &mut blake3::Hasher) {
        if let Some(el) = &self.el {
            hash_serde(h, el);
        }
        hash_serde(h, &self.services);
        hash_serde(h, &self.pods);
        hash_serde(h, &self.valued_by);
        hash_serde(h, &self.asset_prices);
        h.update(&self.next_validator_index.to_le_bytes());
        hash_serde(h, &self.symbiotic);
        hash_serde(h, &self.sym_pending);
        hash_serde(h, &self.jito);
        hash_serde(h, &self.babylon);
        hash_serde(h, &self.treasuries);
        hash_serde(h, &self.exhausted);
        hash_serde(h, &self.paid);
        hash_serde(h, &self.operator_rewards);
    }
    /// Metric columns.
    pub fn columns(&self) -> Vec<String> {
        let mut c = Vec::new();
        for o in &self.operators {
            c.push(format!("{o}.stake_eth"));
            c.push(format!("{o}.allocated_eth"));
            c.push(format!("{o}.slashed_eth"));
        }
        for s in self.services_of(Protocol::EigenLayer) {
            c.push(format!("{s}.stake_secured_eth"));
            c.push(format!("{s}.rewards_paid_eth"));
            c.push(format!("{s}.slashed_eth"));
        }
        for (pr, o) in self.other_operators() {
            let k = protocol_key(pr);
            for m in ["stake", "allocated", "rewards", "slashed"] {
                c.push(format!("{o}.{k}_{m}"));
            }
        }
        for (s, _) in self.other_services() {
            for m in ["stake_secured", "rewards_paid", "slashed"] {
                c.push(format!("{s}.{m}"));
            }
        }
        for s in self.treasuries.keys() {
            c.push(format!("{s}.treasury"));
        }
        c
    }

    /// The protocol a service draws security from.
    pub fn protocol_of(&self, service: &str) -> Option<Protocol> {
        self.services
            .services
            .get(service)
            .and_then(|s| s.bindings.first())
            .map(|b| b.protocol)
    }

    /// Services of one protocol, in name order.
    pub fn services_of(&self, p: Protocol) -> Vec<String> {
        self.services
            .services
            .keys()
            .filter(|s| self.protocol_of(s) == Some(p))
            .cloned()
            .collect()
    }

    /// Symbiotic / Jito / Babylon services with their protocol, in name order.
    pub fn other_services(&self) -> Vec<(String, Protocol)> {
        self.services
            .services
            .keys()
            .filter_map(|s| match self.protocol_of(s) {
                Some(Protocol::EigenLayer) | None => None,
                Some(p) => Some((s.clone(), p)),
            })
            .collect()
    }

    /// Operators (finality providers) of Symbiotic, Jito and Babylon services, by protocol.
    pub fn other_operators(&self) -> Vec<(Protocol, String)> {
        let mut set: BTreeSet<(Protocol, String)> = BTreeSet::new();
        for s in self.services.services.values() {
            for b in &s.bindings {
                if b.protocol != Protocol::EigenLayer {
                    for o in &b.operators {
                        set.insert((b.protocol, o.clone()));
                    }
                }
            }
        }
        if let Some(b) = &self.babylon {
            for p in b.providers.keys() {
                set.insert((Protocol::Babylon, p.clone()));
            }
        }
        set.into_iter().collect()
    }
}

/// Column/JSON key of a protocol.
pub fn protocol_key(p: Protocol) -> &'static str {
    match p {
        Protocol::EigenLayer => "eigenlayer",
        Protocol::Symbiotic => "symbiotic",
        Protocol::Jito => "jito",
        Protocol::Babylon => "babylon",
    }
}

/// A service as the protocol builders see it.
pub(crate) struct ServiceRef<'a> {
    /// Name (network / NCN / chain).
    pub name: &'a str,
    /// Key path (`services[2]`).
    pub path: String,
    /// Operators.
    pub operators: &'a [String],
    /// Vaults.
    pub vaults: &'a [String],
}

/// A rejection with an engine code (9032–9045).
pub(crate) fn reject(code: u32, message: String) -> EngineError {
    EngineError::Protocol(Rejection { code, message })
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
    ScenarioError::at(path, msg)
}

fn setup_err<E: Reject>(path: &str) -> impl Fn(E) -> ScenarioError + '_ {
    move |e| err(path, format!("setting up failed: [{}] {e}", e.code()))
}

fn block_of(start: u64, now: u64) -> u64 {
    now.saturating_sub(start) / SECONDS_PER_BLOCK
}

fn blocks(s: &str, path: &str) -> Result<u64, ScenarioError> {
    Ok(parse_duration(s).map_err(|e| err(path, e))? / SECONDS_PER_BLOCK)
}

fn fraction(s: &str, path: &str) -> Result<U256, ScenarioError> {
    let v = parse_wad_fraction(s).map_err(|e| err(path, e))?;
    if v > WAD {
        return Err(err(path, format!("`{s}` is more than 100%")));
    }
    Ok(v)
}

/// `"$300M"` → (USD wad, UsdWad); `"50_000 ETH"` → (wei, EthWei).
fn parse_pfc(s: &str, path: &str) -> Result<(U256, ValueUnit), ScenarioError> {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix('$') {
        let (num, mult) = match rest.chars().last() {
            Some('K' | 'k') => (&rest[..rest.len() - 1], 1_000u128),
            Some('M' | 'm') => (&rest[..rest.len() - 1], 1_000_000),
            Some('B' | 'b') => (&rest[..rest.len() - 1], 1_000_000_000),
            _ => (rest, 1),
        };
        let v = stake_math::parse::parse_scaled(num.trim(), 18).map_err(|e| err(path, format!("`{s}`: {e}")))?;
        let v = v.mul_c(u(mult)).map_err(|e| err(path, format!("`{s}`: {e}")))?;
        return Ok((v, ValueUnit::UsdWad));
    }
    let a = parse_amount(t, &|sym| (sym == "ETH").then_some(18)).map_err(|e| err(path, e))?;
    match a.asset.as_deref() {
        Some("ETH") => Ok((a.base, ValueUnit::EthWei)),
        _ => Err(err(
            path,
            format!("`{s}`: expected USD (`$300M`) or ETH (`50_000 ETH`)"),
        )),
    }
}

fn service_kind(s: Option<&str>) -> ServiceKind {
    match s.unwrap_or("other") {
        "da" | "data_availability" => ServiceKind::DataAvailability,
        "oracle" => ServiceKind::Oracle,
        "bridge" => ServiceKind::Bridge,
        "sequencer" => ServiceKind::Sequencer,
        "rollup" => ServiceKind::Rollup,
        "privacy" => ServiceKind::Privacy,
        other => ServiceKind::Other(other.to_string()),
    }
}

/// The strategy token of an LST (the wrapper for a rebasing token).
fn strategy_token(world: &World, lst: &str) -> Result<String, EngineError> {
    let e = world.lst(lst)?;
    Ok(match &e.model {
        LstModel::Lido(l) => world.ledger.asset_info(l.wsteth_asset()).map_err(proto)?.symbol.clone(),
        // Exchange-rate tokens (rETH, cbETH, …) are held as they are.
        _ => e.symbol.clone(),
    })
}

/// What prices a token that has no strategy yet.
enum Priced {
    /// An LST's restakable token (its protocol rate).
    Lst(String),
    /// Any other valued token.
    Other(Valuation),
}

fn unknown_token(token: &str) -> EngineError {
    reject(9036, format!("unknown token `{token}`"))
}

/// How the world values `token` as a strategy token.
///
/// Specification:
/// - fails with 9036 if the world has no token of that symbol;
/// - fails with 9037 if the world cannot value it in ETH (ETH itself, a rebasing LST token, a
///   Pendle PT, a lending receipt, …): only an LST's restakable token, a pool's LP token or a
///   `[[restaking.assets]]` asset can back a strategy.
fn priced_of(world: &World, token: &str) -> Result<Priced, EngineError> {
    let id = world.ledger.asset(token).map_err(|_| unknown_token(token))?;
    for l in &world.lsts {
        if strategy_token(world, &l.symbol)? == token {
            return Ok(Priced::Lst(l.symbol.clone()));
        }
    }
    if world.restaking.external_assets.iter().any(|a| a == token) {
        let p = world.restaking.asset_prices.get(token).copied().unwrap_or_default();
        return Ok(Priced::Other(Valuation::Fixed(p)));
    }
    if world.markets.pools.iter().any(|e| e.pool.lp_token == id) {
        return Ok(Priced::Other(Valuation::Pool));
    }
    let hint = match world.lsts.iter().find(|l| l.symbol == token) {
        Some(l) => match strategy_token(world, &l.symbol) {
            Ok(w) => format!(" (`{token}` rebases: restake its wrapper `{w}`)"),
            Err(_) => String::new(),
        },
        None => String::new(),
    };
    Err(reject(
        9037,
        format!(
            "the world cannot value `{token}` in ETH: a strategy holds an LST's restakable token, a pool's LP token or a [[restaking.assets]] asset{hint}"
        ),
    ))
}

/// ETH price (wad per whole token) of a strategy token.
fn price_wad(world: &World, token: &str, p: &Priced) -> Result<U256, EngineError> {
    match p {
        Priced::Lst(l) => world.lst(l)?.model.rate_wad(),
        Priced::Other(Valuation::Fixed(w)) => Ok(*w),
        Priced::Other(Valuation::Pool) => {
            let id = world.ledger.asset(token).map_err(|_| unknown_token(token))?;
            crate::markets::token_rate(world, id)
                .unwrap_or_else(|| Err(reject(9037, format!("`{token}` is not a pool's LP token"))))
        }
    }
}

/// Creates (whitelisted) the strategy of `token` on first use and prices it; adds it to every
/// EigenLayer service's operator set, each member allocating to it the same fraction of its max
/// magnitude as it allocates (or is allocating) to the set's first strategy.
///
/// Specification: fails as [`priced_of`], or when the protocol rejects a step.
fn ensure_strategy(world: &mut World, token: &str, block: u64) -> Result<Vec<Event>, EngineError> {
    let el = world.restaking.el.as_ref().ok_or_else(no_el)?;
    if el.strategies.contains_key(token) {
        return Ok(Vec::new());
    }
    let priced = priced_of(world, token)?;
    let price = price_wad(world, token, &priced)?;
    let services = world.restaking.services_of(Protocol::EigenLayer);
    let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
    let mut ev = el.add_strategy(&world.ledger, token, true).map_err(proto)?;
    el.set_strategy_price(&world.ledger, token, price, block)
        .map_err(proto)?;
    let new = [token.to_string()];
    for svc in services {
        let Some(set) = el.operator_sets.get(&el::set_key(&svc, SET_ID)).cloned() else {
            continue;
        };
        let Some(first) = set.strategies.iter().next().cloned() else {
            ev.extend(
                el.add_strategies_to_operator_set(&set.avs, set.id, &new)
                    .map_err(proto)?,
            );
            continue;
        };
        ev.extend(
            el.add_strategies_to_operator_set(&set.avs, set.id, &new)
                .map_err(proto)?,
        );
        for op in &set.members {
            let a = el.allocation(op, &set.avs, set.id, &first, block).map_err(proto)?;
            let target = (i128::from(a.current) + a.pending_diff).max(0);
            let max = el.max_magnitude(op, &first);
            if target == 0 || max == 0 {
                continue;
            }
            // same fraction of max magnitude, floored: ⌊target·1e18 / max⌋
            let mag = mul_div_down(U256::from(target.unsigned_abs()), WAD, u(u128::from(max))).map_err(proto)?;
            let mag = u64::try_from(mag).map_err(|_| reject(9037, "magnitude out of range".into()))?;
            if mag == 0 {
                continue;
            }
            ev.extend(
                el.modify_allocation(op, &set.avs, set.id, token, mag, block)
                    .map_err(proto)?,
            );
        }
    }
    match priced {
        Priced::Lst(l) => {
            world.restaking.priced_by.insert(token.to_string(), l);
        }
        Priced::Other(v) => {
            world.restaking.valued_by.insert(token.to_string(), v);
        }
    }
    Ok(el_ev(ev).collect())
}

fn el_ev(ev: Vec<ElEvent>) -> impl Iterator<Item = Event> {
    ev.into_iter().map(|e| Event::Restaking(RestakingEvent::EigenLayer(e)))
}

fn svc_ev(ev: Vec<ServicesEvent>) -> impl Iterator<Item = Event> {
    ev.into_iter().map(|e| Event::Restaking(RestakingEvent::Services(e)))
}

fn no_el() -> EngineError {
    EngineError::Protocol(stake_ledger::Rejection {
        code: 9030,
        message: "the scenario has no [restaking.eigenlayer]".into(),
    })
}

/// Builds the restaking part of the world from the scenario (after L0 and L1).
pub fn build(world: &mut World, scn: &Scenario, start: u64) -> Result<(), ScenarioError> {
    world.restaking.start = start;
    world.restaking.seed = scn.clock.seed;
    funds::build_assets(world, &scn.restaking.assets)?;
    let protocols = service_protocols(scn)?;
    let refs = |p: Protocol| -> Vec<ServiceRef<'_>> {
        scn.services
            .iter()
            .enumerate()
            .filter(|(i, _)| protocols[*i] == p)
            .map(|(i, s)| ServiceRef {
                name: &s.name,
                path: format!("services[{i}]"),
                operators: &s.operators,
                vaults: &s.vaults,
            })
            .collect()
    };
    let strategies = match &scn.restaking.eigenlayer {
        Some(cfg) => build_el(world, scn, cfg, start)?,
        None => {
            if !scn.operators.is_empty() {
                return Err(err("operators", "operators need a `[restaking.eigenlayer]` section"));
            }
            Vec::new()
        }
    };
    for (i, p) in protocols.iter().enumerate() {
        let (present, section) = match p {
            Protocol::EigenLayer => (scn.restaking.eigenlayer.is_some(), "eigenlayer"),
            Protocol::Symbiotic => (scn.restaking.symbiotic.is_some(), "symbiotic"),
            Protocol::Jito => (scn.restaking.jito.is_some(), "jito"),
            Protocol::Babylon => (scn.restaking.babylon.is_some(), "babylon"),
        };
        if !present {
            return Err(err(
                format!("services[{i}].protocol"),
                format!("this service needs a `[restaking.{section}]` section"),
            ));
        }
    }
    if let Some(c) = &scn.restaking.symbiotic {
        symbiotic::build(world, c, &refs(Protocol::Symbiotic), start)?;
    }
    if let Some(c) = &scn.restaking.jito {
        jito::build(world, c, &refs(Protocol::Jito), start)?;
    }
    if let Some(c) = &scn.restaking.babylon {
        babylon::build(world, c, start)?;
    }
    build_services(world, scn, &protocols, &strategies, start)
}

/// The protocol of every `[[services]]` entry.
fn service_protocols(scn: &Scenario) -> Result<Vec<Protocol>, ScenarioError> {
    let mut out = Vec::new();
    for (i, s) in scn.services.iter().enumerate() {
        out.push(match s.protocol.as_deref().unwrap_or("eigenlayer") {
            "eigenlayer" => Protocol::EigenLayer,
            "symbiotic" => Protocol::Symbiotic,
            "jito" => Protocol::Jito,
            "babylon" => Protocol::Babylon,
            other => {
                return Err(err(
                    format!("services[{i}].protocol"),
                    format!("unknown protocol `{other}` (eigenlayer, symbiotic, jito, babylon)"),
                ))
            }
        });
    }
    Ok(out)
}

/// EigenLayer: strategies, operators and their own stake. Returns the strategies (sorted).
fn build_el(world: &mut World, scn: &Scenario, cfg: &EigenLayerCfg, start: u64) -> Result<Vec<String>, ScenarioError> {
    let mut params = ElParams::default();
    if let Some(s) = &cfg.withdrawal_delay {
        params.min_withdrawal_delay = blocks(s, "restaking.eigenlayer.withdrawal_delay")?;
    }
    if let Some(s) = &cfg.deallocation_delay {
        params.deallocation_delay = blocks(s, "restaking.eigenlayer.deallocation_delay")?;
    }
    let alloc_delay = match &cfg.allocation_delay {
        Some(s) => blocks(s, "restaking.eigenlayer.allocation_delay")?,
        None => 0,
    };
    let mut el = EigenLayer::with_params("ETH", params);
    // Daily submissions (the current mainnet interval) starting no earlier than the scenario.
    el.rewards.params.calculation_interval = DAY;
    el.rewards.params.genesis_rewards_timestamp = el.rewards.params.genesis_rewards_timestamp.min(start);
    let p = "restaking.eigenlayer";
    for l in &world.lsts {
        let token = strategy_token(world, &l.symbol).map_err(|e| err(p, e.to_string()))?;
        el.add_strategy(&world.ledger, &token, true).map_err(setup_err(p))?;
        world.restaking.priced_by.insert(token, l.symbol.clone());
    }
    world.restaking.el = Some(el);

    // operators
    for (i, o) in scn.operators.iter().enumerate() {
        let path = format!("operators[{i}]");
        if o.name.is_empty() || o.name.contains(':') || o.name == SYSTEM {
            return Err(err(
                format!("{path}.name"),
                format!("`{}` is not an account name", o.name),
            ));
        }
        if world.restaking.operators.contains(&o.name) {
            return Err(err(
                format!("{path}.name"),
                format!("operator `{}` is declared twice", o.name),
            ));
        }
        if let Some(el) = world.restaking.el.as_mut() {
            el.register_operator(&world.ledger, &o.name, alloc_delay, 0)
                .map_err(setup_err(&format!("{path}.name")))?;
        }
        world.restaking.operators.push(o.name.clone());
        for (j, sf) in o.stake_from.iter().enumerate() {
            let spath = format!("{path}.stake_from[{j}]");
            stake_from(world, &o.name, sf, &spath, start)?;
        }
    }
    // every strategy, including those the operators' `token` stakes created
    let mut strategies: Vec<String> = match &world.restaking.el {
        Some(el) => el.strategies.keys().cloned().collect(),
        None => Vec::new(),
    };
    strategies.push(BEACON_STRATEGY.to_string());
    strategies.sort();
    Ok(strategies)
}

/// Token (symbol) a Symbiotic / Jito / Babylon service's stake is counted in.
fn stake_token(world: &World, p: Protocol, vaults: &[String]) -> Option<String> {
    let sym = |id| world.ledger.asset_info(id).ok().map(|a| a.symbol.clone());
    match p {
        Protocol::EigenLayer => Some("ETH".into()),
        Protocol::Symbiotic => vaults
            .first()
            .and_then(|v| world.restaking.symbiotic.get(v))
            .and_then(|v| sym(v.collateral)),
        Protocol::Jito => vaults
            .first()
            .and_then(|v| world.restaking.jito.as_ref().and_then(|j| j.vaults.get(v)))
            .and_then(|v| sym(v.supported)),
        Protocol::Babylon => world.restaking.babylon.as_ref().and_then(|b| sym(b.params.btc)),
    }
}

/// Registers every service, wires EigenLayer operator sets, and funds the treasuries.
fn build_services(
    world: &mut World,
    scn: &Scenario,
    protocols: &[Protocol],
    strategies: &[String],
    start: u64,
) -> Result<(), ScenarioError> {
    let mut n_services: BTreeMap<String, u64> = BTreeMap::new();
    for (i, s) in scn.services.iter().enumerate() {
        if protocols[i] == Protocol::EigenLayer {
            for o in &s.operators {
                *n_services.entry(o.clone()).or_default() += 1;
            }
        }
    }
    for (i, s) in scn.services.iter().enumerate() {
        let path = format!("services[{i}]");
        let protocol = protocols[i];
        if s.name.is_empty() || s.name.contains(':') || s.name.contains('/') || s.name == SYSTEM {
            return Err(err(
                format!("{path}.name"),
                format!("`{}` is not a service name", s.name),
            ));
        }
        let (pfc, unit) = parse_pfc(&s.profit_from_corruption, &format!("{path}.profit_from_corruption"))?;
        let alpha = fraction(&s.threshold, &format!("{path}.threshold"))?;
        let apr_bps = match &s.reward_apr {
            Some(r) => {
                let v = crate::amount::parse_bps(r).map_err(|e| err(format!("{path}.reward_apr"), e))?;
                u32::try_from(v).map_err(|_| err(format!("{path}.reward_apr"), "too large"))?
            }
            None => 0,
        };
        let slash = match (protocol, &s.slash_on_fault) {
            (Protocol::Babylon, x) => {
                let rate = world
                    .restaking
                    .babylon
                    .as_ref()
                    .map(|b| b.params.slashing_rate_wad)
                    .unwrap_or(WAD);
                if let Some(f) = x {
                    if fraction(f, &format!("{path}.slash_on_fault"))? != rate {
                        return Err(err(
                            format!("{path}.slash_on_fault"),
                            "Babylon slashes a double-signing provider at `[restaking.babylon] slashing_rate`; leave this out or give the same rate",
                        ));
                    }
                }
                rate
            }
            (_, Some(f)) => fraction(f, &format!("{path}.slash_on_fault"))?,
            (_, None) => return Err(err(format!("{path}.slash_on_fault"), "missing (e.g. \"10%\")")),
        };
        let prob = match &s.fault_probability {
            Some(f) => fraction(f, &format!("{path}.fault_probability"))?,
            None => U256::ZERO,
        };
        // operators and vaults
        for (j, o) in s.operators.iter().enumerate() {
            let opath = format!("{path}.operators[{j}]");
            funds::account_name(o, &opath)?;
            let ok = match protocol {
                Protocol::EigenLayer => world.restaking.operators.contains(o),
                Protocol::Babylon => world
                    .restaking
                    .babylon
                    .as_ref()
                    .is_some_and(|b| b.providers.contains_key(o)),
                _ => true,
            };
            if !ok {
                let what = if protocol == Protocol::EigenLayer {
                    "is not declared in [[operators]]"
                } else {
                    "is not a [restaking.babylon] finality provider"
                };
                return Err(err(opath, format!("`{o}` {what}")));
            }
        }
        match protocol {
            Protocol::Symbiotic | Protocol::Jito => {
                if s.vaults.is_empty() {
                    return Err(err(format!("{path}.vaults"), "which vaults does it use?"));
                }
                for (j, v) in s.vaults.iter().enumerate() {
                    let known = match protocol {
                        Protocol::Symbiotic => world.restaking.symbiotic.contains_key(v),
                        _ => world.restaking.jito.as_ref().is_some_and(|x| x.vaults.contains_key(v)),
                    };
                    if !known {
                        return Err(err(
                            format!("{path}.vaults[{j}]"),
                            format!("`{v}` is not a {} vault", protocol_key(protocol)),
                        ));
                    }
                    if stake_token(world, protocol, std::slice::from_ref(v)) != stake_token(world, protocol, &s.vaults)
                    {
                        return Err(err(
                            format!("{path}.vaults[{j}]"),
                            "every vault of a service must hold the same token",
                        ));
                    }
                }
            }
            _ => {
                if !s.vaults.is_empty() {
                    return Err(err(
                        format!("{path}.vaults"),
                        "only symbiotic and jito services use vaults",
                    ));
                }
            }
        }
        // reward schedule and treasury
        let budget = match &s.reward_budget {
            Some(b) => Some(funds::parse_budget(world, b, &format!("{path}.reward_budget"))?),
            None => None,
        };
        let per_day = match &s.reward_per_day {
            Some(r) => {
                let Some((asset, _)) = &budget else {
                    return Err(err(
                        format!("{path}.reward_budget"),
                        "a reward schedule needs a reward budget",
                    ));
                };
                Some(funds::amount_of(world, r, asset, &format!("{path}.reward_per_day"))?)
            }
            None => None,
        };
        if per_day.is_some() && apr_bps > 0 {
            return Err(err(
                format!("{path}.reward_per_day"),
                "give either `reward_apr` or `reward_per_day`",
            ));
        }
        if apr_bps > 0 && budget.is_none() {
            return Err(err(
                format!("{path}.reward_budget"),
                "a service with `reward_apr` needs a funded `reward_budget`, e.g. \"5_000 ETH\"",
            ));
        }
        if let Some((asset, _)) = &budget {
            let stake_tok = stake_token(world, protocol, &s.vaults);
            let ok = match protocol {
                // APR budgets are counted in the stake's unit; Jito rewards enter the vault.
                Protocol::EigenLayer => asset == "ETH",
                Protocol::Jito => Some(asset) == stake_tok.as_ref(),
                Protocol::Babylon => {
                    let rt = world
                        .restaking
                        .babylon
                        .as_ref()
                        .and_then(|b| world.ledger.asset_info(b.params.reward_asset).ok())
                        .map(|a| a.symbol.clone());
                    Some(asset) == rt.as_ref() && (per_day.is_some() || Some(asset) == stake_tok.as_ref())
                }
                Protocol::Symbiotic => per_day.is_some() || Some(asset) == stake_tok.as_ref(),
            };
            if !ok {
                return Err(err(
                    format!("{path}.reward_budget"),
                    format!(
                        "a {} service cannot pay {asset} here: EigenLayer pays ETH, Jito the vault's token, Babylon the reward token, and an APR is paid in the stake's token ({}); use `reward_per_day` for another token",
                        protocol_key(protocol),
                        stake_tok.unwrap_or_default()
                    ),
                ));
            }
        }
        let reward_budget = match (per_day, &budget) {
            (Some(amount), Some((asset, _))) => RewardBudget::FixedPerPeriod {
                asset: asset.clone(),
                amount,
            },
            _ => RewardBudget::AprBps { apr_bps },
        };
        let set = match protocol {
            Protocol::EigenLayer => vec![el::set_key(&s.name, SET_ID)],
            Protocol::Babylon => vec![s.name.clone()],
            _ => s.vaults.iter().map(|v| format!("{v}/{}", s.name)).collect(),
        };
        let service = Service {
            name: s.name.clone(),
            kind: match (protocol, &s.kind) {
                (Protocol::Babylon, None) => ServiceKind::Chain,
                _ => service_kind(s.kind.as_deref()),
            },
            bindings: set
                .into_iter()
                .map(|set| SecurityBinding {
                    protocol,
                    set,
                    operators: s.operators.clone(),
                })
                .collect(),
            profit_from_corruption: pfc,
            pfc_unit: unit,
            corruption_threshold_wad: alpha,
            reward_budget,
            schedule: RewardSchedule {
                start,
                period_secs: DAY,
                end: None,
            },
            slash_fraction_wad: slash,
            fault_probability_wad: prob,
        };
        world
            .restaking
            .services
            .register(service)
            .map_err(setup_err(&format!("{path}.name")))?;
        if !s.vaults.is_empty() {
            world.restaking.service_vaults.insert(s.name.clone(), s.vaults.clone());
        }
        if let Some((asset, amount)) = &budget {
            funds::fund_treasury(world, &s.name, asset, *amount, &format!("{path}.reward_budget"))?;
        }
        if protocol != Protocol::EigenLayer {
            continue;
        }
        let Some(el) = world.restaking.el.as_mut() else {
            return Err(err(format!("{path}.protocol"), "needs `[restaking.eigenlayer]`"));
        };
        el.create_operator_set(&s.name, SET_ID, strategies, &s.name, None)
            .map_err(setup_err(&format!("{path}.name")))?;
        for (j, o) in s.operators.iter().enumerate() {
            let opath = format!("{path}.operators[{j}]");
            el.register_for_operator_sets(o, &s.name, &[SET_ID], 0)
                .map_err(setup_err(&opath))?;
            let mag = match &s.allocation {
                Some(a) => fraction(a, &format!("{path}.allocation"))?,
                None => WAD / U256::from(n_services.get(o).copied().unwrap_or(1).max(1)),
            };
            let mag = u64::try_from(mag).map_err(|_| err(format!("{path}.allocation"), "too large"))?;
            if mag == 0 {
                continue;
            }
            for st in strategies {
                el.modify_allocation(o, &s.name, SET_ID, st, mag, 0)
                    .map_err(setup_err(&format!("{path}.allocation")))?;
            }
        }
    }
    Ok(())
}

/// The operator's own stake at the start.
fn stake_from(world: &mut World, op: &str, sf: &StakeFromCfg, path: &str, start: u64) -> Result<(), ScenarioError> {
    if let Some(t) = &sf.token {
        let tpath = format!("{path}.token");
        let apath = format!("{path}.amount");
        if sf.lst.is_some() || sf.native.is_some() {
            return Err(err(path, "give one of `lst`, `token` or `native`"));
        }
        let s = sf
            .amount
            .as_deref()
            .ok_or_else(|| err(&apath, format!("how much {t} (or ETH to stake into the LST)?")))?;
        priced_of(world, t).map_err(|e| err(&tpath, e.to_string()))?;
        let got = funds::acquire(world, op, t, s, &apath, start)?;
        ensure_strategy(world, t, 0).map_err(|e| err(&tpath, e.to_string()))?;
        let el = world.restaking.el.as_mut().ok_or_else(|| err(path, "no eigenlayer"))?;
        el.deposit(&mut world.ledger, op, t, got, 0)
            .map_err(setup_err(&apath))?;
        return Ok(());
    }
    let eth = world.eth_asset;
    let acct = world.ledger.account(op);
    match (&sf.lst, &sf.native) {
        (Some(lst), None) => {
            let lpath = format!("{path}.lst");
            let apath = format!("{path}.amount");
            let s = sf.amount.as_deref().ok_or_else(|| err(&apath, "how much ETH to stake?"))?;
            let a = parse_amount(s, &|sym| (sym == "ETH" || sym == lst).then_some(18)).map_err(|e| err(&apath, e))?;
            if a.base == U256::ZERO {
                return Err(err(&apath, "must be positive"));
            }
            let token = strategy_token(world, lst).map_err(|e| err(&lpath, e.to_string()))?;
            world.ledger.mint(acct, eth, a.base).map_err(setup_err(&apath))?;
            let i = world
                .lsts
                .iter()
                .position(|l| &l.symbol == lst)
                .ok_or_else(|| err(&lpath, "unknown LST"))?;
            world.lsts[i]
                .user_op(
                    &mut world.ledger,
                    acct,
                    &Action::Stake {
                        lst: lst.clone(),
                        amount: a.base,
                    },
                    start,
                )
                .map_err(setup_err(&apath))?;
            if let LstModel::Lido(l) = &world.lsts[i].model {
                let bal = l.balance_of(&world.ledger, acct).map_err(setup_err(&apath))?;
                world.lsts[i]
                    .user_op(
                        &mut world.ledger,
                        acct,
                        &Action::Wrap {
                            lst: lst.clone(),
                            amount: bal,
                        },
                        start,
                    )
                    .map_err(setup_err(&apath))?;
            }
            let tid = world.ledger.asset(&token).map_err(setup_err(&apath))?;
            let bal = world.ledger.balance(acct, tid);
            let el = world.restaking.el.as_mut().ok_or_else(|| err(path, "no eigenlayer"))?;
            el.deposit(&mut world.ledger, op, &token, bal, 0)
                .map_err(setup_err(&apath))?;
        }
        (None, Some(n)) => {
            let npath = format!("{path}.native");
            let a = parse_amount(n, &|sym| (sym == "ETH").then_some(18)).map_err(|e| err(&npath, e))?;
            let count = a.base / DEPOSIT;
            if a.base == U256::ZERO || count * DEPOSIT != a.base {
                return Err(err(&npath, format!("`{n}` is not a positive multiple of 32 ETH")));
            }
            world.ledger.mint(acct, eth, a.base).map_err(setup_err(&npath))?;
            let count = crate::scenario::to_u64(count, &npath, "validators")?;
            native(world, op, count, start).map_err(|e| err(&npath, format!("setting up failed: {e}")))?;
        }
        _ => {
            return Err(err(
                path,
                "give either `lst` and `amount` (e.g. { lst = \"stETH\", amount = \"1000 ETH\" }), `token` and `amount` (e.g. { token = \"EIGEN\", amount = \"10_000 EIGEN\" }) or `native` (e.g. { native = \"64 ETH\" })",
            ))
        }
    }
    Ok(())
}

/// Deposits `count` validators of `owner` into L0 with its pod as credentials (creating the pod).
fn native(world: &mut World, owner: &str, count: u64, now: u64) -> Result<Vec<Event>, EngineError> {
    if count == 0 {
        return Err(EngineError::ZeroAmount {
            what: "validators".into(),
        });
    }
    let el = world.restaking.el.as_ref().ok_or_else(no_el)?;
    let has_pod = el.pods.contains_key(owner);
    let from = world.ledger.account(owner);
    let pod = world.ledger.account(&pod_account_name(owner));
    let mut events: Vec<Event> = world
        .eth
        .deposit(&mut world.ledger, from, count, owner, pod, from, now)
        .map_err(proto)?
        .into_iter()
        .map(Event::Ethereum)
        .collect();
    if !has_pod {
        let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
        events.extend(el_ev(el.create_pod(owner).map_err(proto)?));
        world.restaking.pods.insert(owner.to_string(), PodTrack::default());
    }
    Ok(events)
}

fn need<'a>(v: &'a Option<String>, path: &str, key: &str, what: &str) -> Result<&'a str, ScenarioError> {
    v.as_deref()
        .ok_or_else(|| err(format!("{path}.{key}"), what.to_string()))
}

/// A scripted action of this layer, or `None` if `a.op` is not one.
pub fn schedule_action(a: &ActionCfg, path: &str, world: &World, _start: u64) -> Option<Result<Action, ScenarioError>> {
    let known = [
        "restake",
        "restake_native",
        "delegate",
        "undelegate",
        "queue_withdrawal",
        "complete_withdrawal",
        "claim_rewards",
        "allocate",
    ];
    if OTHER_ACTIONS.contains(&a.op.as_str()) {
        return Some(schedule_other_action(a, path, world).map(Action::Restaking));
    }
    if !known.contains(&a.op.as_str()) {
        return None;
    }
    Some(schedule_action_inner(a, path, world).map(Action::Restaking))
}

/// `do = "…"` names of the Symbiotic, Jito and Babylon actions.
const OTHER_ACTIONS: [&str; 11] = [
    "symbiotic_deposit",
    "symbiotic_withdraw",
    "symbiotic_claim",
    "symbiotic_veto",
    "jito_mint",
    "jito_enqueue_withdrawal",
    "jito_burn_ticket",
    "babylon_stake",
    "babylon_unbond",
    "babylon_withdraw",
    "babylon_claim_rewards",
];

fn schedule_other_action(a: &ActionCfg, path: &str, world: &World) -> Result<RestakingAction, ScenarioError> {
    let r = &world.restaking;
    let op = a.op.as_str();
    let section = op.split('_').next().unwrap_or_default();
    let present = match section {
        "symbiotic" => !r.symbiotic.is_empty(),
        "jito" => r.jito.is_some(),
        _ => r.babylon.is_some(),
    };
    if !present {
        return Err(err(
            format!("{path}.do"),
            format!("`{op}` needs a `[restaking.{section}]` section"),
        ));
    }
    // An amount of `sym`, or `all` (None).
    let amount = |sym: &str| -> Result<Option<U256>, ScenarioError> {
        let apath = format!("{path}.amount");
        let s = need(&a.amount, path, "amount", "missing amount (or `all`)")?;
        if s.trim() == "all" {
            return Ok(None);
        }
        let v = funds::amount_of(world, s, sym, &apath)?;
        if v == U256::ZERO {
            return Err(err(&apath, "must be positive"));
        }
        Ok(Some(v))
    };
    let sym_of = |id: stake_ledger::AssetId| -> String {
        world
            .ledger
            .asset_info(id)
            .map(|x| x.symbol.clone())
            .unwrap_or_default()
    };
    let sym_vault = || -> Result<(String, String), ScenarioError> {
        let v = need(&a.vault, path, "vault", "which Symbiotic vault?")?;
        let vault = r.symbiotic.get(v).ok_or_else(|| {
            err(
                format!("{path}.vault"),
                format!("`{v}` is not a [[restaking.symbiotic.vaults]] vault"),
            )
        })?;
        Ok((v.to_string(), sym_of(vault.collateral)))
    };
    let jito_vault = || -> Result<(String, String, String), ScenarioError> {
        let v = need(&a.vault, path, "vault", "which Jito vault?")?;
        let vault = r.jito.as_ref().and_then(|j| j.vaults.get(v)).ok_or_else(|| {
            err(
                format!("{path}.vault"),
                format!("`{v}` is not a [[restaking.jito.vaults]] vault"),
            )
        })?;
        Ok((v.to_string(), sym_of(vault.supported), sym_of(vault.vrt)))
    };
    let btc = || r.babylon.as_ref().map(|b| sym_of(b.params.btc)).unwrap_or_default();
    let provider = |required: bool| -> Result<Option<String>, ScenarioError> {
        match &a.operator {
            None if required => Err(err(format!("{path}.operator"), "which finality provider?")),
            None => Ok(None),
            Some(p) => {
                if !r.babylon.as_ref().is_some_and(|b| b.providers.contains_key(p)) {
                    return Err(err(
                        format!("{path}.operator"),
                        format!("`{p}` is not a finality provider"),
                    ));
                }
                Ok(Some(p.clone()))
            }
        }
    };
    Ok(match op {
        "symbiotic_deposit" => {
            let (vault, sym) = sym_vault()?;
            RestakingAction::SymbioticDeposit {
                amount: amount(&sym)?,
                vault,
            }
        }
        "symbiotic_withdraw" => {
            let (vault, sym) = sym_vault()?;
            RestakingAction::SymbioticWithdraw {
                amount: amount(&sym)?,
                vault,
            }
        }
        "symbiotic_claim" => RestakingAction::SymbioticClaim { vault: sym_vault()?.0 },
        "symbiotic_veto" => {
            let (vault, _) = sym_vault()?;
            let service = need(&a.service, path, "service", "which network's slash?")?;
            if !r.service_vaults.get(service).is_some_and(|v| v.contains(&vault)) {
                return Err(err(
                    format!("{path}.service"),
                    format!("`{service}` is not a symbiotic service using {vault}"),
                ));
            }
            RestakingAction::SymbioticVeto {
                vault,
                service: service.into(),
                operator: need(&a.operator, path, "operator", "whose slash?")?.into(),
            }
        }
        "jito_mint" => {
            let (vault, sym, vrt) = jito_vault()?;
            let min_out = match &a.min_out {
                Some(m) => funds::amount_of(world, m, &vrt, &format!("{path}.min_out"))?,
                None => U256::ZERO,
            };
            RestakingAction::JitoMint {
                amount: amount(&sym)?,
                vault,
                min_out,
            }
        }
        "jito_enqueue_withdrawal" => {
            let (vault, _, vrt) = jito_vault()?;
            RestakingAction::JitoEnqueueWithdrawal {
                amount: amount(&vrt)?,
                vault,
            }
        }
        "jito_burn_ticket" => RestakingAction::JitoBurnTickets { vault: jito_vault()?.0 },
        "babylon_stake" => {
            let provider = provider(true)?.unwrap_or_default();
            RestakingAction::BabylonStake {
                amount: amount(&btc())?,
                provider,
            }
        }
        "babylon_unbond" => RestakingAction::BabylonUnbond {
            provider: provider(false)?,
        },
        "babylon_withdraw" => RestakingAction::BabylonWithdraw,
        _ => RestakingAction::BabylonClaimRewards,
    })
}

fn schedule_action_inner(a: &ActionCfg, path: &str, world: &World) -> Result<RestakingAction, ScenarioError> {
    let el = world.restaking.el.as_ref().ok_or_else(|| {
        err(
            format!("{path}.do"),
            "restaking actions need a `[restaking.eigenlayer]` section",
        )
    })?;
    let strategy_of = |key: &str| -> Result<String, ScenarioError> {
        let t = need(&a.token, path, key, "which strategy token? (e.g. token = \"wstETH\")")?;
        let t = if t == "native" { BEACON_STRATEGY } else { t };
        if t != BEACON_STRATEGY && !el.strategies.contains_key(t) {
            // created on first use when the world can value the token
            if let Err(e) = priced_of(world, t) {
                let list: Vec<&str> = el.strategies.keys().map(|s| s.as_str()).collect();
                return Err(err(
                    format!("{path}.{key}"),
                    format!("{e} (strategies: {}, native)", list.join(", ")),
                ));
            }
        }
        Ok(t.to_string())
    };
    let amount_in = |token: &str| -> Result<Option<U256>, ScenarioError> {
        let apath = format!("{path}.amount");
        let s = need(&a.amount, path, "amount", "missing amount (or `all`)")?;
        if s.trim() == "all" {
            return Ok(None);
        }
        let sym = if token == BEACON_STRATEGY { "ETH" } else { token };
        let dec = funds::decimals(world, sym).unwrap_or(18);
        let v = parse_amount(s, &|x| (x == sym).then_some(dec)).map_err(|e| err(&apath, e))?;
        if v.base == U256::ZERO {
            return Err(err(&apath, "must be positive"));
        }
        Ok(Some(v.base))
    };
    Ok(match a.op.as_str() {
        "restake" => {
            let token = strategy_of("token")?;
            if token == BEACON_STRATEGY {
                return Err(err(
                    format!("{path}.token"),
                    "native ETH restakes with `do = \"restake_native\"`",
                ));
            }
            RestakingAction::Restake {
                amount: amount_in(&token)?,
                token,
            }
        }
        "restake_native" => {
            let apath = format!("{path}.amount");
            let s = need(&a.amount, path, "amount", "how much ETH? (a multiple of 32 ETH)")?;
            let v = parse_amount(s, &|x| (x == "ETH").then_some(18)).map_err(|e| err(&apath, e))?;
            let n = v.base / DEPOSIT;
            if n == U256::ZERO || n * DEPOSIT != v.base {
                return Err(err(&apath, format!("`{s}` is not a positive multiple of 32 ETH")));
            }
            RestakingAction::RestakeNative {
                validators: crate::scenario::to_u64(n, &apath, "validators")?,
            }
        }
        "delegate" => {
            let op = need(&a.operator, path, "operator", "to which operator?")?;
            if !el.is_operator(op) {
                return Err(err(format!("{path}.operator"), format!("`{op}` is not an operator")));
            }
            RestakingAction::Delegate { operator: op.into() }
        }
        "undelegate" => RestakingAction::Undelegate,
        "queue_withdrawal" => {
            let strategy = strategy_of("token")?;
            RestakingAction::QueueWithdrawal {
                shares: amount_in(&strategy)?,
                strategy,
            }
        }
        "complete_withdrawal" => RestakingAction::CompleteWithdrawals,
        "claim_rewards" => RestakingAction::ClaimRewards,
        "allocate" => {
            let s = need(&a.service, path, "service", "which service?")?;
            if !world.restaking.services.services.contains_key(s) {
                return Err(err(format!("{path}.service"), format!("unknown service `{s}`")));
            }
            let f = need(
                &a.fraction,
                path,
                "fraction",
                "what magnitude? (e.g. fraction = \"50%\")",
            )?;
            RestakingAction::Allocate {
                service: s.into(),
                magnitude_wad: fraction(f, &format!("{path}.fraction"))?,
            }
        }
        _ => return Err(err(format!("{path}.do"), "unknown restaking action")),
    })
}

/// A scripted event of this layer (sender, action), or `None` if `e.kind` is not one.
pub fn schedule_event(
    e: &EventCfg,
    path: &str,
    world: &World,
    _start: u64,
) -> Option<Result<(String, Action), ScenarioError>> {
    if e.kind != "service_fault" {
        return None;
    }
    Some((|| {
        let s = need(&e.service, path, "service", "which service?")?;
        let svc = world
            .restaking
            .services
            .services
            .get(s)
            .ok_or_else(|| err(format!("{path}.service"), format!("unknown service `{s}`")))?;
        let o = need(&e.operator, path, "operator", "which operator?")?;
        if !svc.bindings.iter().any(|b| b.operators.iter().any(|x| x == o)) {
            return Err(err(
                format!("{path}.operator"),
                format!("operator `{o}` does not serve `{s}`"),
            ));
        }
        let fraction_wad = match &e.fraction {
            Some(_) if world.restaking.protocol_of(s) == Some(Protocol::Babylon) => {
                return Err(err(
                    format!("{path}.fraction"),
                    "Babylon slashes at `[restaking.babylon] slashing_rate`",
                ))
            }
            Some(f) => Some(fraction(f, &format!("{path}.fraction"))?),
            None => None,
        };
        Ok((
            SYSTEM.to_string(),
            Action::Restaking(RestakingAction::ServiceFault {
                service: s.into(),
                operator: o.into(),
                fraction_wad,
            }),
        ))
    })())
}

/// Applies an action of this layer. Composite actions restore a copy of the restaking state on
/// error (the world rolls the ledger back).
pub fn apply(world: &mut World, sender: &str, action: &RestakingAction) -> Result<Vec<Event>, EngineError> {
    let backup = world.restaking.clone();
    let rates_before = crate::lrt::rates(world);
    let mut r = apply_inner(world, sender, action);
    if r.is_err() {
        world.restaking = backup;
    } else if let (Ok(ev), RestakingAction::ServiceFault { .. }) = (&mut r, action) {
        // The slash reaches every LRT's TVL and rate in the same block (SPEC §6).
        ev.extend(crate::lrt::revalue_all(world));
        // Insurance funds pay their covered LRT holders for the fall, in the same block.
        ev.extend(crate::products::on_slash(world, &rates_before));
        // Prices moved: the agents act in the same transaction, as after a price event.
        ev.extend(crate::markets::after_price_move(world));
    }
    r
}

fn el_mut(world: &mut World) -> Result<&mut EigenLayer, EngineError> {
    world.restaking.el.as_mut().ok_or_else(no_el)
}

fn apply_inner(world: &mut World, sender: &str, action: &RestakingAction) -> Result<Vec<Event>, EngineError> {
    let block = block_of(world.restaking.start, world.now);
    let now = world.now;
    match action {
        RestakingAction::Restake { token, amount } => {
            let el = world.restaking.el.as_ref().ok_or_else(no_el)?;
            let id = world.ledger.asset(token).map_err(|_| unknown_token(token))?;
            if !el.strategies.contains_key(token) {
                priced_of(world, token)?;
            }
            let amount = match amount {
                Some(a) => *a,
                None => match world.ledger.find_account(sender) {
                    Ok(acct) => world.ledger.balance(acct, id),
                    Err(_) => U256::ZERO,
                },
            };
            if amount == U256::ZERO {
                return Err(EngineError::ZeroAmount { what: "amount".into() });
            }
            let mut events = ensure_strategy(world, token, block)?;
            let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
            events.extend(el_ev(
                el.deposit(&mut world.ledger, sender, token, amount, block)
                    .map_err(proto)?,
            ));
            Ok(events)
        }
        RestakingAction::RestakeNative { validators } => native(world, sender, *validators, now),
        RestakingAction::Delegate { operator } => {
            let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
            Ok(el_ev(el.delegate(&world.ledger, sender, operator, block).map_err(proto)?).collect())
        }
        RestakingAction::Undelegate => {
            let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
            Ok(el_ev(el.undelegate(&world.ledger, sender, sender, block).map_err(proto)?.1).collect())
        }
        RestakingAction::QueueWithdrawal { strategy, shares } => {
            let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
            let shares = match shares {
                Some(s) => *s,
                None => el
                    .stakers
                    .get(sender)
                    .and_then(|s| s.positions.get(strategy))
                    .map(|p| p.deposit_shares)
                    .unwrap_or(U256::ZERO),
            };
            let (_, ev) = el
                .queue_withdrawal(&world.ledger, sender, &[(strategy.clone(), shares)], block)
                .map_err(proto)?;
            Ok(el_ev(ev).collect())
        }
        RestakingAction::CompleteWithdrawals => {
            let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
            let delay = el.params.min_withdrawal_delay;
            let ids: Vec<u64> = el
                .withdrawals
                .values()
                .filter(|w| w.staker == sender && block > w.start_block.saturating_add(delay))
                .map(|w| w.id)
                .collect();
            if ids.is_empty() {
                return Err(EngineError::Protocol(stake_ledger::Rejection {
                    code: 9031,
                    message: format!("{sender} has no queued withdrawal past its delay"),
                }));
            }
            let mut events = Vec::new();
            for id in ids {
                events.extend(el_ev(
                    el.complete_withdrawal(&mut world.ledger, sender, id, true, block)
                        .map_err(proto)?,
                ));
            }
            Ok(events)
        }
        RestakingAction::ClaimRewards => {
            let now = world.now;
            let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
            Ok(el_ev(el.claim(&mut world.ledger, sender, "ETH", now).map_err(proto)?).collect())
        }
        RestakingAction::Allocate { service, magnitude_wad } => {
            let mag = u64::try_from(*magnitude_wad).map_err(|_| proto(stake_math::MathError::Overflow))?;
            let el = el_mut(world)?;
            let key = el::set_key(service, SET_ID);
            let strategies: Vec<String> = el
                .operator_sets
                .get(&key)
                .map(|s| s.strategies.iter().cloned().collect())
                .unwrap_or_default();
            if strategies.is_empty() {
                return Err(proto(el::ElError::OperatorSetNotFound {
                    avs: service.clone(),
                    id: SET_ID,
                }));
            }
            let mut events = Vec::new();
            for st in strategies {
                if el
                    .allocation(sender, service, SET_ID, &st, block)
                    .map_err(proto)?
                    .current
                    == mag
                {
                    continue;
                }
                events.extend(el_ev(
                    el.modify_allocation(sender, service, SET_ID, &st, mag, block)
                        .map_err(proto)?,
                ));
            }
            Ok(events)
        }
        RestakingAction::ServiceFault {
            service,
            operator,
            fraction_wad,
        } => service_fault(world, service, operator, *fraction_wad),
        RestakingAction::SymbioticDeposit { vault, amount } => symbiotic::deposit(world, sender, vault, *amount),
        RestakingAction::SymbioticWithdraw { vault, amount } => symbiotic::withdraw(world, sender, vault, *amount),
        RestakingAction::SymbioticClaim { vault } => symbiotic::claim(world, sender, vault),
        RestakingAction::SymbioticVeto {
            vault,
            service,
            operator,
        } => symbiotic::veto(world, sender, vault, service, operator),
        RestakingAction::JitoMint { vault, amount, min_out } => jito::mint(world, sender, vault, *amount, *min_out),
        RestakingAction::JitoEnqueueWithdrawal { vault, amount } => jito::enqueue(world, sender, vault, *amount),
        RestakingAction::JitoBurnTickets { vault } => jito::burn_tickets(world, sender, vault),
        RestakingAction::BabylonStake { provider, amount } => babylon::stake(world, sender, provider, *amount),
        RestakingAction::BabylonUnbond { provider } => babylon::unbond(world, sender, provider.as_deref()),
        RestakingAction::BabylonWithdraw => babylon::withdraw(world, sender),
        RestakingAction::BabylonClaimRewards => babylon::claim_rewards(world, sender),
    }
}

/// ETH value (wei) of `shares` of a strategy.
fn shares_eth(el: &EigenLayer, ledger: &Ledger, strategy: &str, shares: U256) -> Result<U256, EngineError> {
    let vps = el.value_per_share(ledger, strategy).map_err(proto)?;
    mul_div_down(shares, vps, WAD).map_err(proto)
}

/// A fault: the services registry turns it into slash requests, each executed by
/// `slash_operator` with the set's slasher; the ETH value slashed is booked.
fn service_fault(
    world: &mut World,
    service: &str,
    operator: &str,
    fraction_wad: Option<U256>,
) -> Result<Vec<Event>, EngineError> {
    let block = block_of(world.restaking.start, world.now);
    let requests = world
        .restaking
        .services
        .fault_to_slash_requests(service, operator)
        .map_err(proto)?;
    let mut events = Vec::new();
    let protocol = requests.first().map(|r| r.protocol).unwrap_or(Protocol::EigenLayer);
    if protocol != Protocol::EigenLayer {
        let wad = fraction_wad.unwrap_or_else(|| requests.first().map(|r| r.fraction_wad).unwrap_or_default());
        let vaults = world.restaking.service_vaults.get(service).cloned().unwrap_or_default();
        return match protocol {
            Protocol::Symbiotic => symbiotic::fault(world, service, operator, &vaults, wad),
            Protocol::Jito => jito::fault(world, service, operator, &vaults, wad),
            _ => babylon::fault(world, service, operator),
        };
    }
    for r in requests {
        let wad = fraction_wad.unwrap_or(r.fraction_wad);
        let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
        let set = el.operator_sets.get(&r.set).cloned().ok_or_else(|| {
            proto(el::ElError::OperatorSetNotFound {
                avs: r.service.clone(),
                id: SET_ID,
            })
        })?;
        let strategies: Vec<(String, U256)> = set.strategies.iter().map(|s| (s.clone(), wad)).collect();
        let mut vps = BTreeMap::new();
        for (s, _) in &strategies {
            vps.insert(s.clone(), el.value_per_share(&world.ledger, s).map_err(proto)?);
        }
        let ev = el
            .slash_operator(
                &mut world.ledger,
                set.slasher_at(block),
                operator,
                &set.avs,
                set.id,
                &strategies,
                block,
            )
            .map_err(proto)?;
        let mut value = U256::ZERO;
        for e in &ev {
            if let ElEvent::OperatorSlashed {
                strategies,
                shares_burned,
                ..
            } = e
            {
                for (s, sh) in strategies.iter().zip(shares_burned) {
                    let p = vps.get(s).copied().unwrap_or(WAD);
                    value = value.add_c(mul_div_down(*sh, p, WAD).map_err(proto)?).map_err(proto)?;
                }
            }
        }
        events.extend(el_ev(ev));
        events.extend(svc_ev(
            world
                .restaking
                .services
                .record_slash(service, operator, value)
                .map_err(proto)?,
        ));
    }
    Ok(events)
}

/// ETH value of the stake an operator delegates and allocates (all strategies, all services).
fn operator_values(world: &World, op: &str) -> Result<(U256, U256), EngineError> {
    let Some(el) = &world.restaking.el else {
        return Ok((U256::ZERO, U256::ZERO));
    };
    let block = block_of(world.restaking.start, world.now);
    let mut stake = U256::ZERO;
    let mut allocated = U256::ZERO;
    let mut strategies: Vec<String> = el.strategies.keys().cloned().collect();
    strategies.push(BEACON_STRATEGY.to_string());
    for s in &strategies {
        let sh = el.operator_shares(op, s);
        stake = stake.add_c(shares_eth(el, &world.ledger, s, sh)?).map_err(proto)?;
    }
    for set in el.operator_sets.values() {
        if !set.members.contains(op) {
            continue;
        }
        for s in &set.strategies {
            let a = el.allocated_stake(op, &set.avs, set.id, s, block).map_err(proto)?;
            allocated = allocated.add_c(shares_eth(el, &world.ledger, s, a)?).map_err(proto)?;
        }
    }
    Ok((stake, allocated))
}

/// ETH value of the stake allocated to a service's set (summed over its members).
fn service_stake(world: &World, service: &str) -> Result<U256, EngineError> {
    let Some(el) = &world.restaking.el else {
        return Ok(U256::ZERO);
    };
    let block = block_of(world.restaking.start, world.now);
    let Some(set) = el.operator_sets.get(&el::set_key(service, SET_ID)) else {
        return Ok(U256::ZERO);
    };
    let mut total = U256::ZERO;
    for op in &set.members {
        for s in &set.strategies {
            let a = el.allocated_stake(op, &set.avs, set.id, s, block).map_err(proto)?;
            total = total.add_c(shares_eth(el, &world.ledger, s, a)?).map_err(proto)?;
        }
    }
    Ok(total)
}

/// Runs one hook with the restaking state (and ledger) restored if it fails.
fn guarded(
    world: &mut World,
    t: u64,
    hook: String,
    events: &mut Vec<Event>,
    f: impl FnOnce(&mut World) -> Result<Vec<Event>, EngineError>,
) {
    guarded_code(world, t, hook, events, f);
}

/// [`guarded`] that tells whether the hook applied.
pub(crate) fn guarded_ok(
    world: &mut World,
    t: u64,
    hook: String,
    events: &mut Vec<Event>,
    f: impl FnOnce(&mut World) -> Result<Vec<Event>, EngineError>,
) -> bool {
    guarded_code(world, t, hook, events, f).is_none()
}

/// [`guarded`] returning the rejection code if the hook failed.
fn guarded_code(
    world: &mut World,
    t: u64,
    hook: String,
    events: &mut Vec<Event>,
    f: impl FnOnce(&mut World) -> Result<Vec<Event>, EngineError>,
) -> Option<u32> {
    let backup = world.restaking.clone();
    let cp = world.ledger.checkpoint();
    match f(world) {
        Ok(ev) => {
            world.ledger.commit(cp);
            events.extend(ev);
            None
        }
        Err(e) => {
            world.ledger.rollback(cp);
            world.restaking = backup;
            let rejection = e.rejection();
            let code = rejection.code;
            world.hook_rejections.push(HookRejection {
                time: t,
                hook,
                rejection,
            });
            Some(code)
        }
    }
}

/// Verifies the pod's validators that appeared on L0 and checkpoints it.
fn pod_frame(world: &mut World, owner: &str) -> Result<Vec<Event>, EngineError> {
    let block = block_of(world.restaking.start, world.now);
    let pod = world.ledger.account(&pod_account_name(owner));
    let s = world.eth.summary_by_credentials(pod);
    let appeared = s.active + s.exiting + s.exited_unwithdrawn + s.withdrawn;
    let verified = world.restaking.pods.get(owner).map(|p| p.verified).unwrap_or(0);
    let mut events = Vec::new();
    let mut next = world.restaking.next_validator_index;
    let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
    for _ in verified..appeared {
        events.extend(el_ev(
            el.verify_withdrawal_credentials(&world.ledger, owner, next, 32_000_000_000, block)
                .map_err(proto)?,
        ));
        next += 1;
    }
    if appeared > 0 {
        let beacon = s
            .balance_wei
            .sub_c(DEPOSIT.mul_c(U256::from(s.pending)).map_err(proto)?)
            .map_err(proto)?;
        events.extend(el_ev(
            el.checkpoint(&world.ledger, owner, beacon, block).map_err(proto)?,
        ));
    }
    world.restaking.next_validator_index = next;
    if let Some(p) = world.restaking.pods.get_mut(owner) {
        p.verified = p.verified.max(appeared);
    }
    Ok(events)
}

/// Stake securing a service now, in its stake token's base units (ETH value for EigenLayer).
pub fn service_stake_any(world: &World, service: &str) -> Result<U256, EngineError> {
    let r = &world.restaking;
    let vaults = r.service_vaults.get(service).cloned().unwrap_or_default();
    let ops: Vec<String> = r
        .services
        .services
        .get(service)
        .map(|s| {
            s.bindings
                .iter()
                .flat_map(|b| b.operators.clone())
                .collect::<BTreeSet<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .collect();
    let sum3 = |v: Vec<(String, String, U256)>| v.iter().fold(U256::ZERO, |a, p| a.saturating_add(p.2));
    Ok(match r.protocol_of(service) {
        Some(Protocol::Symbiotic) => sum3(symbiotic::pairs(world, service, &vaults, &ops)),
        Some(Protocol::Jito) => sum3(jito::pairs(world, service, &vaults, &ops)),
        Some(Protocol::Babylon) => babylon::pairs(world, &ops)
            .iter()
            .fold(U256::ZERO, |a, p| a.saturating_add(p.1)),
        _ => service_stake(world, service)?,
    })
}

/// The day's rewards of a service: its schedule's amount leaves its treasury and is paid through
/// the service's protocol (EigenLayer: a one-day rewards submission by the AVS for `[t, t + 1d)`).
fn service_rewards(world: &mut World, service: &str, t: u64) -> Result<Vec<Event>, EngineError> {
    let protocol = world.restaking.protocol_of(service).unwrap_or(Protocol::EigenLayer);
    let stake = service_stake_any(world, service)?;
    let reg = &mut world.restaking.services;
    reg.set_stake_secured(service, stake).map_err(proto)?;
    if world.restaking.exhausted.contains(service) {
        return Ok(Vec::new());
    }
    let reg = &world.restaking.services;
    let due = reg.periods_due(service, t).map_err(proto)?;
    if due == 0 {
        return Ok(Vec::new());
    }
    let (_, per) = reg.reward_for_period(service).map_err(proto)?;
    let total = per.mul_c(U256::from(due)).map_err(proto)?;
    let asset = world
        .restaking
        .treasuries
        .get(service)
        .map(|x| x.asset.clone())
        .unwrap_or_else(|| "ETH".into());
    if total > U256::ZERO {
        let left = funds::treasury_left(world, service);
        if left < total {
            return Err(reject(
                9040,
                format!(
                    "{service}'s treasury has {left} {asset} base units, the day's rewards need {total}: rewards stop"
                ),
            ));
        }
    }
    let mut events = svc_ev(world.restaking.services.pay_due_rewards(service, t).map_err(proto)?).collect::<Vec<_>>();
    if total == U256::ZERO {
        return Ok(events);
    }
    let from = world.ledger.account(&funds::treasury_account(service));
    let asset_id = world.ledger.asset(&asset).map_err(proto)?;
    let ops: Vec<String> = world
        .restaking
        .services
        .services
        .get(service)
        .and_then(|s| s.bindings.first())
        .map(|b| b.operators.clone())
        .unwrap_or_default();
    let vaults = world.restaking.service_vaults.get(service).cloned().unwrap_or_default();
    let paid = match protocol {
        Protocol::EigenLayer => {
            let avs = world.ledger.account(service);
            world.ledger.transfer(from, avs, asset_id, total).map_err(proto)?;
            events.extend(el_rewards(world, service, total, t)?);
            return Ok(events);
        }
        Protocol::Symbiotic => symbiotic::distribute(world, service, &vaults, &ops, from, asset_id, total)?,
        Protocol::Jito => {
            let (p, e) = jito::distribute(world, service, &vaults, &ops, from, total)?;
            events.extend(e);
            p
        }
        Protocol::Babylon => {
            let (p, e) = babylon::distribute(world, &ops, from, total)?;
            events.extend(e);
            p
        }
    };
    let r = &mut world.restaking;
    let mut sum = U256::ZERO;
    for (op, v) in paid {
        sum = sum.add_c(v).map_err(proto)?;
        let e = r.operator_rewards.entry((protocol, op, asset.clone())).or_default();
        *e = e.add_c(v).map_err(proto)?;
    }
    let e = r.paid.entry(service.to_string()).or_default();
    *e = e.add_c(sum).map_err(proto)?;
    Ok(events)
}

/// An EigenLayer AVS submits `total` ETH of rewards for `[t, t + 1d)`.
fn el_rewards(world: &mut World, service: &str, total: U256, t: u64) -> Result<Vec<Event>, EngineError> {
    let el = world.restaking.el.as_mut().ok_or_else(no_el)?;
    let set = el
        .operator_sets
        .get(&el::set_key(service, SET_ID))
        .cloned()
        .ok_or_else(|| {
            proto(el::ElError::OperatorSetNotFound {
                avs: service.into(),
                id: SET_ID,
            })
        })?;
    let mut strategies = Vec::new();
    for s in &set.strategies {
        let vps = el.value_per_share(&world.ledger, s).map_err(proto)?;
        if vps > U256::ZERO {
            strategies.push((s.clone(), vps));
        }
    }
    let (_, ev) = el
        .create_avs_rewards_submission(&mut world.ledger, service, "ETH", total, &strategies, t, DAY, t)
        .map_err(proto)?;
    Ok(el_ev(ev).collect())
}

/// A uniform draw in `[0, 1e18)` from the seed, the service, the operator and the time.
fn draw_wad(seed: u64, service: &str, operator: &str, t: u64) -> U256 {
    crate::draw::uniform_wad(&[
        &seed.to_le_bytes(),
        service.as_bytes(),
        &[0],
        operator.as_bytes(),
        &t.to_le_bytes(),
    ])
}

/// Periodic work at each frame: pod verification and checkpoints, strategy prices, services'
/// stake and reward budgets, the rewards distribution, and seeded faults.
pub fn on_frame(world: &mut World, t: u64) -> Vec<Event> {
    let mut events = Vec::new();
    if world.restaking.el.is_some() {
        el_frame(world, t, &mut events);
    }
    jito::on_frame(world, t, &mut events);
    babylon::on_frame(world, t, &mut events);
    symbiotic::on_frame(world, t, &mut events);
    let services: Vec<String> = world.restaking.services.services.keys().cloned().collect();
    for s in &services {
        let code = guarded_code(world, t, format!("{s} rewards"), &mut events, |w| {
            service_rewards(w, s, t)
        });
        if code == Some(9040) {
            world.restaking.exhausted.insert(s.clone());
        }
    }
    if world.restaking.el.is_some() {
        guarded(world, t, "eigenlayer rewards distribution".into(), &mut events, |w| {
            let el = w.restaking.el.as_mut().ok_or_else(no_el)?;
            Ok(el_ev(el.distribute(t).map_err(proto)?).collect())
        });
    }
    faults(world, t, &services, &mut events);
    events
}

/// EigenPod checkpoints and strategy prices.
fn el_frame(world: &mut World, t: u64, events: &mut Vec<Event>) {
    let block = block_of(world.restaking.start, t);
    let owners: Vec<String> = world.restaking.pods.keys().cloned().collect();
    for owner in owners {
        guarded(world, t, format!("eigenpod {owner} checkpoint"), events, |w| {
            pod_frame(w, &owner)
        });
    }
    let priced: Vec<(String, String)> = world
        .restaking
        .priced_by
        .iter()
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    for (token, lst) in priced {
        guarded(world, t, format!("eigenlayer {token} price"), events, |w| {
            let rate = w.lst(&lst)?.model.rate_wad()?;
            let el = w.restaking.el.as_mut().ok_or_else(no_el)?;
            el.set_strategy_price(&w.ledger, &token, rate, block).map_err(proto)?;
            Ok(Vec::new())
        });
    }
    let valued: Vec<(String, Valuation)> = world
        .restaking
        .valued_by
        .iter()
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect();
    for (token, v) in valued {
        guarded(world, t, format!("eigenlayer {token} price"), events, |w| {
            let p = price_wad(w, &token, &Priced::Other(v))?;
            let el = w.restaking.el.as_mut().ok_or_else(no_el)?;
            el.set_strategy_price(&w.ledger, &token, p, block).map_err(proto)?;
            Ok(Vec::new())
        });
    }
}

/// Seeded faults of every service.
fn faults(world: &mut World, t: u64, services: &[String], events: &mut Vec<Event>) {
    for s in services {
        let (prob, ops) = match world.restaking.services.services.get(s) {
            Some(x) => (
                x.fault_probability_wad,
                x.bindings.first().map(|b| b.operators.clone()).unwrap_or_default(),
            ),
            None => continue,
        };
        if prob == U256::ZERO {
            continue;
        }
        for op in ops {
            let d = draw_wad(world.restaking.seed, s, &op, t);
            if world.restaking.services.fault_occurs(s, d).unwrap_or(false) {
                guarded(world, t, format!("{s} fault of {op}"), events, |w| {
                    service_fault(w, s, &op, None)
                });
            }
        }
    }
}

mod report;
pub use report::{sample, summary};

/// Calc functions of this layer.
pub(crate) fn calc_functions() -> Vec<(&'static str, &'static str, crate::calc_fns::CalcFn)> {
    use crate::calc::d;
    vec![
        (
            "eigenlayer.calc_slashed_amount",
            "{shares, prev_max_magnitude, new_max_magnitude} -> {slashed}",
            |a| {
                let v = el::calc_slashed_amount(
                    a.u256("shares")?,
                    a.u64("prev_max_magnitude")?,
                    a.u64("new_max_magnitude")?,
                )?;
                Ok(json!({ "slashed": d(v) }))
            },
        ),
        ("eigenlayer.slash_magnitude", "{current, wad} -> {slashed}", |a| {
            let v = el::slash_magnitude(a.u64("current")?, a.u256("wad")?)?;
            Ok(json!({ "slashed": d(v) }))
        }),
        (
            "symbiotic.deposit_shares",
            "{assets, total_shares, total_assets} -> {shares}",
            |a| {
                // Specification: `ERC4626Math.previewDeposit` with one virtual share and asset:
                // `⌊assets·(S+1)/(A+1)⌋`.
                let v = stake_restaking::symbiotic::preview_deposit(
                    a.u256("assets")?,
                    a.u256("total_shares")?,
                    a.u256("total_assets")?,
                )?;
                Ok(json!({ "shares": d(v) }))
            },
        ),
        (
            "symbiotic.withdraw_shares",
            "{assets, total_shares, total_assets} -> {shares}",
            |a| {
                // Specification: `previewWithdraw`: shares burned, `⌈assets·(S+1)/(A+1)⌉`.
                let v = stake_restaking::symbiotic::preview_withdraw(
                    a.u256("assets")?,
                    a.u256("total_shares")?,
                    a.u256("total_assets")?,
                )?;
                Ok(json!({ "shares": d(v) }))
            },
        ),
        (
            "symbiotic.redeem_assets",
            "{shares, total_assets, total_shares} -> {assets}",
            |a| {
                // Specification: `previewRedeem`: `⌊shares·(A+1)/(S+1)⌋`.
                let v = stake_restaking::symbiotic::preview_redeem(
                    a.u256("shares")?,
                    a.u256("total_assets")?,
                    a.u256("total_shares")?,
                )?;
                Ok(json!({ "assets": d(v) }))
            },
        ),
        (
            "symbiotic.slashable_stake",
            "{stake_at_capture, cumulative_slash, cumulative_slash_at_capture} -> {slashable}",
            |a| {
                // Specification: `BaseSlasher.slashableStake` for a capture inside the epoch:
                // stake at capture − (cumulative slash now − at capture), floored at 0; a
                // cumulative slash below its value at the capture is an underflow.
                let v = stake_restaking::symbiotic::slashable_after_slashes(
                    a.u256("stake_at_capture")?,
                    a.u256("cumulative_slash")?,
                    a.u256("cumulative_slash_at_capture")?,
                )?;
                Ok(json!({ "slashable": d(v) }))
            },
        ),
        (
            "babylon.delegation_shares",
            "{amount, pool_btc, pool_shares} -> {shares}",
            |a| {
                let v = stake_restaking::babylon::delegation_shares(
                    a.u256("amount")?,
                    a.u256("pool_btc")?,
                    a.u256("pool_shares")?,
                )?;
                Ok(json!({ "shares": d(v) }))
            },
        ),
        (
            "babylon.voting_power",
            "{active_shares, pool_btc, pool_shares} -> {voting_power}",
            |a| {
                let v = stake_restaking::babylon::voting_power_of(
                    a.u256("active_shares")?,
                    a.u256("pool_btc")?,
                    a.u256("pool_shares")?,
                )?;
                Ok(json!({ "voting_power": d(v) }))
            },
        ),
        (
            "babylon.reward_split",
            "{amount, commission_bps, active_shares} -> {commission, to_delegators, index_increment_ray}",
            |a| {
                let bps = a.u64("commission_bps")?;
                let bps = match u16::try_from(bps) {
                    Ok(b) if b <= 10_000 => b,
                    _ => {
                        return Err(crate::calc::CalcError {
                            code: 9102,
                            message: "argument `commission_bps`: must be at most 10000 bps".into(),
                        })
                    }
                };
                let (commission, rest, inc) =
                    stake_restaking::babylon::reward_split(a.u256("amount")?, bps, a.u256("active_shares")?)?;
                Ok(json!({
                    "commission": d(commission),
                    "to_delegators": d(rest),
                    "index_increment_ray": d(inc),
                }))
            },
        ),
        (
            "babylon.slashing_amount",
            "{pool_btc, slashing_rate_wad} -> {burned, remaining}",
            |a| {
                let pool = a.u256("pool_btc")?;
                let burned = stake_restaking::babylon::slash_burn(pool, a.u256("slashing_rate_wad")?)?;
                Ok(json!({ "burned": d(burned), "remaining": d(pool - burned) }))
            },
        ),
    ]
}
