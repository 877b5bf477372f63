//! Services — the demand side of restaking (SPEC §5.5): AVSs (EigenLayer), networks
//! (Symbiotic), NCNs (Jito), secured chains (Babylon).
//!
//! A [`Service`] records what it secures, which restaking protocol and operator sets / networks /
//! NCNs / providers it uses, its profit from corruption π, corruption threshold α, reward budget
//! and schedule, slashing fraction per fault, and per-period fault probability. The crate holds no
//! RNG: faults are decided from uniform draws supplied by the caller ([`Services::fault_occurs`]).
//!
//! [`Services`] keeps the books (stake secured, rewards paid, amounts slashed per service and
//! per operator) and turns a fault into [`SlashRequest`]s that the engine executes through the
//! right protocol model.

// Errors carry the offending values (SPEC §1.3) and the ledger's error by value; rejections are
// the cold path, so the larger `Err` is accepted rather than boxing every variant.
#![allow(clippy::result_large_err)]

use serde::{Deserialize, Serialize};
use stake_ledger::{blake3, hash_serde, Reject, StateHash};
use stake_math::{mul_div_down, mul_wad_up, Checked, MathError, BPS, SECONDS_PER_YEAR, U256, WAD};
use std::collections::BTreeMap;
use std::fmt;

/// What a service secures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceKind {
    /// Data availability layer.
    DataAvailability,
    /// Oracle.
    Oracle,
    /// Bridge.
    Bridge,
    /// Shared sequencer.
    Sequencer,
    /// (Restaked) rollup.
    Rollup,
    /// Privacy layer.
    Privacy,
    /// A PoS chain secured by BTC (Babylon).
    Chain,
    /// Anything else.
    Other(String),
}

/// Restaking protocol a service draws security from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Protocol {
    /// EigenLayer operator sets.
    EigenLayer,
    /// Symbiotic networks (vault + network).
    Symbiotic,
    /// Jito NCNs.
    Jito,
    /// Babylon finality providers.
    Babylon,
}

/// One source of security: a protocol, a set (operator set / `vault/network` / `vault/ncn` /
/// chain) and the operators (finality providers) in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityBinding {
    /// Protocol.
    pub protocol: Protocol,
    /// Operator set, network or NCN identifier in that protocol.
    pub set: String,
    /// Operators (providers) used.
    pub operators: Vec<String>,
}

/// Unit of the profit from corruption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueUnit {
    /// ETH wei.
    EthWei,
    /// USD with 18 decimals.
    UsdWad,
}

/// Reward budget paid to restakers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RewardBudget {
    /// An APR in bps of the stake the service secures (the seeds' 1–4 % extra APR).
    AprBps {
        /// APR in bps.
        apr_bps: u32,
    },
    /// A fixed amount of a token per period.
    FixedPerPeriod {
        /// Token symbol.
        asset: String,
        /// Amount per period (base units).
        amount: U256,
    },
}

/// When rewards are paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RewardSchedule {
    /// First period start (seconds).
    pub start: u64,
    /// Period length (seconds, e.g. 7 days as EigenLayer's rewards submissions).
    pub period_secs: u64,
    /// Last time rewards accrue (`None` = open-ended).
    pub end: Option<u64>,
}

/// A service (AVS / network / NCN / secured chain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Name.
    pub name: String,
    /// What it secures.
    pub kind: ServiceKind,
    /// Sources of security.
    pub bindings: Vec<SecurityBinding>,
    /// Profit from corruption π.
    pub profit_from_corruption: U256,
    /// Unit of π.
    pub pfc_unit: ValueUnit,
    /// Corruption threshold α (wad, e.g. 2/3).
    pub corruption_threshold_wad: U256,
    /// Reward budget.
    pub reward_budget: RewardBudget,
    /// Reward schedule.
    pub schedule: RewardSchedule,
    /// Fraction of an operator's allocated stake slashed per fault (wad).
    pub slash_fraction_wad: U256,
    /// Probability of a fault per operator per period (wad).
    pub fault_probability_wad: U256,
}

/// Books of one service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceBook {
    /// Stake currently securing the service (as reported by the engine).
    pub stake_secured: U256,
    /// Rewards paid so far (by asset symbol; APR budgets in the stake's unit under `"stake"`).
    pub rewards_paid: BTreeMap<String, U256>,
    /// Total slashed.
    pub slashed: U256,
    /// Slashed per operator.
    pub slashed_by_operator: BTreeMap<String, U256>,
    /// Faults recorded.
    pub faults: u64,
    /// Index of the next reward period to pay.
    pub next_period: u64,
}

/// A slashing request for the engine to execute through the protocol model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashRequest {
    /// Service that asks.
    pub service: String,
    /// Protocol to execute it in.
    pub protocol: Protocol,
    /// Operator (provider).
    pub operator: String,
    /// Operator set / network / NCN / chain.
    pub set: String,
    /// Fraction to slash (wad).
    pub fraction_wad: U256,
}

/// Rejections of the services registry (codes 4500–4599).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServicesError {
    /// No service with this name.
    UnknownService {
        /// Name.
        name: String,
    },
    /// The name is taken.
    DuplicateService {
        /// Name.
        name: String,
    },
    /// A wad fraction outside `(0, 1]` (threshold, slash fraction) or above 1 (probability).
    InvalidFraction {
        /// Which.
        what: &'static str,
        /// Value.
        value: U256,
    },
    /// Reward period of zero seconds.
    InvalidPeriod,
    /// The operator is not in any of the service's bindings.
    OperatorNotInService {
        /// Service.
        service: String,
        /// Operator.
        operator: String,
    },
    /// A uniform draw above 1 (wad).
    InvalidDraw {
        /// The draw.
        draw: U256,
    },
    /// Ledger failure.
    Ledger(stake_ledger::LedgerError),
    /// Arithmetic failure.
    Math(MathError),
}

impl From<MathError> for ServicesError {
    fn from(e: MathError) -> Self {
        ServicesError::Math(e)
    }
}

impl From<stake_ledger::LedgerError> for ServicesError {
    fn from(e: stake_ledger::LedgerError) -> Self {
        ServicesError::Ledger(e)
    }
}

impl fmt::Display for ServicesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ServicesError::*;
        match self {
            UnknownService { name } => write!(f, "unknown service {name}"),
            DuplicateService { name } => write!(f, "service {name} exists"),
            InvalidFraction { what, value } => {
                write!(f, "{what} {value} is not a valid wad fraction")
            }
            InvalidPeriod => write!(f, "reward period must be positive"),
            OperatorNotInService { service, operator } => {
                write!(f, "operator {operator} does not serve {service}")
            }
            InvalidDraw { draw } => write!(f, "uniform draw {draw} exceeds 1e18"),
            Ledger(e) => write!(f, "{e}"),
            Math(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServicesError {}

impl Reject for ServicesError {
    fn code(&self) -> u32 {
        use ServicesError::*;
        match self {
            UnknownService { .. } => 4500,
            DuplicateService { .. } => 4501,
            InvalidFraction { .. } => 4502,
            InvalidPeriod => 4503,
            OperatorNotInService { .. } => 4504,
            InvalidDraw { .. } => 4505,
            Ledger(e) => e.code(),
            Math(e) => e.code(),
        }
    }
}

/// Result of a services operation.
pub type ServicesResult<T> = Result<T, ServicesError>;

/// Events of the services registry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServicesEvent {
    /// Service registered.
    Registered {
        /// Name.
        name: String,
    },
    /// Reward paid for a period.
    RewardPaid {
        /// Service.
        service: String,
        /// Asset (`"stake"` for APR budgets).
        asset: String,
        /// Amount.
        amount: U256,
    },
    /// Slash recorded.
    Slashed {
        /// Service.
        service: String,
        /// Operator.
        operator: String,
        /// Amount.
        amount: U256,
    },
}

/// Registry of services and their books.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Services {
    /// Services by name.
    pub services: BTreeMap<String, Service>,
    /// Books by service name.
    pub books: BTreeMap<String, ServiceBook>,
}

impl StateHash for Services {
    fn hash_state(&self, h: &mut blake3::Hasher) {
        hash_serde(h, self);
    }
}

/// `⌊stake·apr_bps·period/(1e4·SECONDS_PER_YEAR)⌋`: an APR budget for one period.
pub fn apr_reward_for_period(stake: U256, apr_bps: u32, period_secs: u64) -> ServicesResult<U256> {
    let num = U256::from(apr_bps).mul_c(U256::from(period_secs))?;
    let den = BPS.mul_c(U256::from(SECONDS_PER_YEAR))?;
    Ok(mul_div_down(stake, num, den)?)
}

/// Cost of corruption of a stake `s` at threshold α: `⌈s·α⌉` (wad).
pub fn cost_of_corruption(stake: U256, alpha_wad: U256) -> ServicesResult<U256> {
    Ok(mul_wad_up(stake, alpha_wad)?)
}

impl Services {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn service(&self, name: &str) -> ServicesResult<&Service> {
        self.services
            .get(name)
            .ok_or_else(|| ServicesError::UnknownService { name: name.to_string() })
    }

    fn book_mut(&mut self, name: &str) -> ServicesResult<&mut ServiceBook> {
        self.books
            .get_mut(name)
            .ok_or_else(|| ServicesError::UnknownService { name: name.to_string() })
    }

    /// Book of a service.
    pub fn book(&self, name: &str) -> ServicesResult<&ServiceBook> {
        self.books
            .get(name)
            .ok_or_else(|| ServicesError::UnknownService { name: name.to_string() })
    }

    /// Registers a service.
    ///
    /// Specification:
    /// - fails with `DuplicateService` if the name exists;
    /// - fails with `InvalidFraction` if α or the slash fraction is not in `(0, 1]` or the fault
    ///   probability exceeds 1;
    /// - fails with `InvalidPeriod` for a zero reward period.
    pub fn register(&mut self, service: Service) -> ServicesResult<Vec<ServicesEvent>> {
        if self.services.contains_key(&service.name) {
            return Err(ServicesError::DuplicateService { name: service.name });
        }
        for (what, v) in [
            ("corruption_threshold_wad", service.corruption_threshold_wad),
            ("slash_fraction_wad", service.slash_fraction_wad),
        ] {
            if v == U256::ZERO || v > WAD {
                return Err(ServicesError::InvalidFraction { what, value: v });
            }
        }
        if service.fault_probability_wad > WAD {
            return Err(ServicesError::InvalidFraction {
                what: "fault_probability_wad",
                value: service.fault_probability_wad,
            });
        }
        if service.schedule.period_secs == 0 {
            return Err(ServicesError::InvalidPeriod);
        }
        let name = service.name.clone();
        self.books.insert(name.clone(), ServiceBook::default());
        self.services.insert(name.clone(), service);
        Ok(vec![ServicesEvent::Registered { name }])
    }

    /// Records the stake currently securing a service (computed by the engine from the models).
    ///
    /// Specification:
    /// - fails with `UnknownService`.
    pub fn set_stake_secured(&mut self, name: &str, stake: U256) -> ServicesResult<Vec<ServicesEvent>> {
        self.book_mut(name)?.stake_secured = stake;
        Ok(Vec::new())
    }

    /// The reward budget of one period for the stake now secured: `(asset, amount)`; APR budgets
    /// are in the stake's unit (asset `"stake"`), `⌊stake·apr·period/(1e4·year)⌋`.
    ///
    /// Specification:
    /// - fails with `UnknownService`.
    pub fn reward_for_period(&self, name: &str) -> ServicesResult<(String, U256)> {
        let s = self.service(name)?;
        let b = self.book(name)?;
        Ok(match &s.reward_budget {
            RewardBudget::AprBps { apr_bps } => (
                "stake".to_string(),
                apr_reward_for_period(b.stake_secured, *apr_bps, s.schedule.period_secs)?,
            ),
            RewardBudget::FixedPerPeriod { asset, amount } => (asset.clone(), *amount),
        })
    }

    /// Periods due at `now` (completed periods not yet paid, up to the schedule end).
    ///
    /// Specification:
    /// - fails with `UnknownService`.
    pub fn periods_due(&self, name: &str, now: u64) -> ServicesResult<u64> {
        let s = self.service(name)?;
        let b = self.book(name)?;
        let until = match s.schedule.end {
            Some(e) => now.min(e),
            None => now,
        };
        let completed = until.saturating_sub(s.schedule.start) / s.schedule.period_secs;
        Ok(completed.saturating_sub(b.next_period))
    }

    /// Records the reward of every due period as paid; returns one `RewardPaid` event per period
    /// (the engine moves the tokens through the protocol's rewards path).
    ///
    /// Specification:
    /// - fails with `UnknownService`.
    pub fn pay_due_rewards(&mut self, name: &str, now: u64) -> ServicesResult<Vec<ServicesEvent>> {
        let due = self.periods_due(name, now)?;
        let mut events = Vec::new();
        if due == 0 {
            return Ok(events);
        }
        let (asset, per) = self.reward_for_period(name)?;
        let b = self.book(name)?;
        let total = per.mul_c(U256::from(due))?;
        let paid = b.rewards_paid.get(&asset).copied().unwrap_or(U256::ZERO).add_c(total)?;
        let b = self.book_mut(name)?;
        b.rewards_paid.insert(asset.clone(), paid);
        b.next_period += due;
        for _ in 0..due.min(1024) {
            events.push(ServicesEvent::RewardPaid {
                service: name.to_string(),
                asset: asset.clone(),
                amount: per,
            });
        }
        Ok(events)
    }

    /// Does a fault occur this period? `draw_wad` is a uniform draw in `[0, 1e18)`; a fault occurs
    /// iff `draw < fault_probability`.
    ///
    /// Specification:
    /// - fails with `UnknownService`;
    /// - fails with `InvalidDraw` if `draw_wad > 1e18`.
    pub fn fault_occurs(&self, name: &str, draw_wad: U256) -> ServicesResult<bool> {
        let s = self.service(name)?;
        if draw_wad > WAD {
            return Err(ServicesError::InvalidDraw { draw: draw_wad });
        }
        Ok(draw_wad < s.fault_probability_wad)
    }

    /// Turns a fault of `operator` into slash requests, one per binding that contains it, with
    /// the service's slash fraction; counts the fault.
    ///
    /// Specification:
    /// - fails with `UnknownService`;
    /// - fails with `OperatorNotInService` if no binding contains the operator.
    pub fn fault_to_slash_requests(&mut self, name: &str, operator: &str) -> ServicesResult<Vec<SlashRequest>> {
        let s = self.service(name)?;
        let reqs: Vec<SlashRequest> = s
            .bindings
            .iter()
            .filter(|b| b.operators.iter().any(|o| o == operator))
            .map(|b| SlashRequest {
                service: name.to_string(),
                protocol: b.protocol,
                operator: operator.to_string(),
                set: b.set.clone(),
                fraction_wad: s.slash_fraction_wad,
            })
            .collect();
        if reqs.is_empty() {
            return Err(ServicesError::OperatorNotInService {
                service: name.to_string(),
                operator: operator.to_string(),
            });
        }
        self.book_mut(name)?.faults += 1;
        Ok(reqs)
    }

    /// Records an executed slash of `amount` against `operator`.
    ///
    /// Specification:
    /// - fails with `UnknownService`.
    pub fn record_slash(&mut self, name: &str, operator: &str, amount: U256) -> ServicesResult<Vec<ServicesEvent>> {
        let b = self.book(name)?;
        let total = b.slashed.add_c(amount)?;
        let per = b
            .slashed_by_operator
            .get(operator)
            .copied()
            .unwrap_or(U256::ZERO)
            .add_c(amount)?;
        let b = self.book_mut(name)?;
        b.slashed = total;
        b.slashed_by_operator.insert(operator.to_string(), per);
        Ok(vec![ServicesEvent::Slashed {
            service: name.to_string(),
            operator: operator.to_string(),
            amount,
        }])
    }

    /// Is corrupting the service profitable: `π > ⌈stake·α⌉` (both in the same unit)?
    ///
    /// Specification:
    /// - fails with `UnknownService`.
    pub fn is_corruption_profitable(&self, name: &str, stake_value: U256) -> ServicesResult<bool> {
        let s = self.service(name)?;
        Ok(s.profit_from_corruption > cost_of_corruption(stake_value, s.corruption_threshold_wad)?)
    }

    /// Books consistency: Σ slashed per operator == slashed; every book has a service.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (name, b) in &self.books {
            if !self.services.contains_key(name) {
                return Err(format!("book without service {name}"));
            }
            let mut sum = U256::ZERO;
            for v in b.slashed_by_operator.values() {
                sum = sum.checked_add(*v).ok_or("overflow")?;
            }
            if sum != b.slashed {
                return Err(format!("{name}: Σ slashed per operator {sum} != {}", b.slashed));
            }
        }
        Ok(())
    }
}
