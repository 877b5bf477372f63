//! The runner: steps a built world through its horizon, applies the schedule, checks every
//! invariant after every transaction, samples metrics each step, and summarises.

use crate::action::{Action, Outcome, Tx, SYSTEM};
use crate::lst::LstModel;
use crate::report::{ChainSummary, LstSummary, RejectedTx, RunResult, StepRow, Summary};
use crate::scenario::{Scenario, ScenarioError};
use crate::setup::{Built, Scheduled};
use crate::time::{format_date, DAY};
use crate::world::World;
use stake_math::U256;

/// How thoroughly a run checks invariants (SPEC §1.4).
///
/// After every transaction the run checks what it touched ([`World::check_after`]: conservation
/// of the touched assets, the backing rules of every protocol the transaction can have changed,
/// the touched users' rules). Every
/// `full_every` steps, and at the end of the run, it checks everything ([`World::check_invariants`]:
/// conservation over every account, every sum over holders and positions). `paranoid` runs the
/// full check after every transaction as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// Steps between full checks (0: only at the end of the run).
    pub full_every: u64,
    /// Full check after every transaction.
    pub paranoid: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Checks {
            full_every: 30,
            paranoid: false,
        }
    }
}

/// Why a run stopped before its horizon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// Time could not advance (an `AdvanceTime` was rejected, e.g. an overflow in a model): the
    /// run cannot go on, and a run that did not reach its horizon is not a success.
    Stalled(String),
    /// An invariant broke: a bug in the engine or a model; the message names the seed.
    Invariant(String),
}

impl RunError {
    fn at_step(self, k: u64, total: u64) -> Self {
        match self {
            RunError::Stalled(m) => RunError::Stalled(format!("step {k} of {total}: {m}")),
            e => e,
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Stalled(m) => write!(f, "the run stopped: {m}"),
            RunError::Invariant(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for RunError {}

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Prepared {
    built: Built,
    name: String,
    seed: u64,
    scenario_hash: String,
    checks: Checks,
}

/// Validates a scenario by parsing it and building its world; returns a one-line description.
pub fn validate(text: &str) -> Result<String, ScenarioError> {
    validate_with_data(text, &std::collections::BTreeMap::new())
}

/// [`validate`] with the contents of the data files the scenario names (see [`data_files`]).
pub fn validate_with_data(
    text: &str,
    data: &std::collections::BTreeMap<String, String>,
) -> Result<String, ScenarioError> {
    let p = prepare_with_data(text, None, data)?;
    let w = &p.built.world;
    Ok(format!(
        "{} LST(s), {} account(s), {} scheduled transaction(s), {} steps from {} to {}",
        w.lsts.len(),
        w.ledger.account_count(),
        p.built.schedule.len(),
        p.total_steps(),
        format_date(p.built.start),
        format_date(p.built.end)
    ))
}

/// Parses and builds a scenario.
pub fn prepare(text: &str, seed: Option<u64>) -> Result<Prepared, ScenarioError> {
    prepare_with_data(text, seed, &std::collections::BTreeMap::new())
}

/// The data files a scenario text names (paths as written, relative to the scenario file), for
/// the caller to read and pass to [`prepare_with_data`].
pub fn data_files(text: &str) -> Vec<String> {
    crate::markets::data_files(text)
}

/// [`prepare`] with the contents of the data files the scenario names, keyed by path as written.
pub fn prepare_with_data(
    text: &str,
    seed: Option<u64>,
    data: &std::collections::BTreeMap<String, String>,
) -> Result<Prepared, ScenarioError> {
    let mut scn = Scenario::parse(text)?;
    scn.data = data.clone();
    // An override reseeds every random process (faults, price paths), not just the report.
    if let Some(s) = seed {
        scn.clock.seed = s;
    }
    let built = Built::from_scenario(&scn)?;
    Ok(Prepared {
        built,
        name: scn.name.clone().unwrap_or_else(|| "scenario".into()),
        seed: scn.clock.seed,
        scenario_hash: blake3::hash(text.as_bytes()).to_hex().to_string(),
        checks: Checks::default(),
    })
}

/// A starting scenario for `stakestack new`.
pub fn template(name: &str) -> String {
    format!(
        "# {name} — a stakestack scenario. Run it with `stakestack run scenarios/{name}.toml`.\n\
name = \"{name}\"\n\n[clock]\nstart   = \"2025-01-01\"\nhorizon = \"90d\"\nstep    = \"1d\"\nseed    = 1\n\n\
[chains.ethereum]\nstaked        = \"34_000_000 ETH\"\nel_reward_apr = \"0.6%\"\nparticipation = \"99%\"\n\n\
[lst.stETH]\nmodel          = \"lido\"\nfee            = \"10%\"\ninitial_pooled = \"1_000_000 ETH\"\n\
operators      = [{{ name = \"op-1\" }}, {{ name = \"op-2\" }}]\n\n\
[[accounts]]\nname     = \"alice\"\nbalances = [\"100 ETH\"]\n\n\
[[actions]]\nat      = \"day 0\"\naccount = \"alice\"\ndo      = \"stake\"\nlst     = \"stETH\"\namount  = \"100 ETH\"\n"
    )
}

fn f18(v: U256) -> f64 {
    v.as_f64() / 1e18
}

impl Prepared {
    /// Scenario name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Steps the run will take.
    pub fn total_steps(&self) -> u64 {
        (self.built.end - self.built.start).div_ceil(self.built.step)
    }
    /// The world (before running: the initial world).
    pub fn world(&self) -> &World {
        &self.built.world
    }
    /// The scenario's scheduled events (sent by `system`: slashes, shocks, sell-offs, oracle
    /// controls): when, and what — the report's event markers.
    pub fn event_marks(&self) -> Vec<(u64, String)> {
        self.built
            .schedule
            .iter()
            .filter(|s| s.sender == SYSTEM)
            .map(|s| (s.at, s.action.describe()))
            .collect()
    }
    /// The names of the step columns (those of `steps.csv`, in order).
    pub fn step_columns(&self) -> Vec<String> {
        self.columns(&self.built.world)
    }
    /// The metric row of `world` (one step of `steps.csv`).
    pub fn sample_row(&self, world: &World) -> StepRow {
        self.sample(world)
    }
    /// The scenario's seed (after any override): path 0 of a Monte Carlo run uses it as it is.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Monte Carlo paths the scenario asks for (`clock.paths`, default 1).
    pub fn paths(&self) -> u64 {
        self.built.paths
    }
    /// BLAKE3 of the scenario text (hex).
    pub fn scenario_hash(&self) -> &str {
        &self.scenario_hash
    }
    /// Sets how thoroughly the run checks invariants.
    pub fn set_checks(&mut self, checks: Checks) {
        self.checks = checks;
    }
    /// How thoroughly the run checks invariants.
    pub fn checks(&self) -> Checks {
        self.checks
    }

    fn resolve(&self, world: &World, s: &Scheduled) -> Tx {
        let mut action = s.action.clone();
        if let Some(asset) = &s.all_of {
            let bal = world
                .ledger
                .find_account(&s.sender)
                .ok()
                .map(|acct| {
                    match world.lsts.iter().find_map(|l| match &l.model {
                        LstModel::Lido(x)
                            if x.steth_asset()
                                == world.ledger.asset(asset).unwrap_or(stake_ledger::AssetId(u16::MAX)) =>
                        {
                            Some(x.balance_of(&world.ledger, acct).unwrap_or(U256::ZERO))
                        }
                        _ => None,
                    }) {
                        Some(b) => b,
                        None => world
                            .ledger
                            .asset(asset)
                            .map(|id| world.ledger.balance(acct, id))
                            .unwrap_or(U256::ZERO),
                    }
                })
                .unwrap_or(U256::ZERO);
            match &mut action {
                Action::Stake { amount, .. }
                | Action::Wrap { amount, .. }
                | Action::Unwrap { amount, .. }
                | Action::RequestWithdrawal { amount, .. }
                | Action::Burn { amount, .. }
                | Action::Transfer { amount, .. }
                | Action::Lrt(crate::lrt::LrtAction::Deposit { amount, .. })
                | Action::Lrt(crate::lrt::LrtAction::RequestWithdrawal { amount, .. })
                | Action::Product(crate::products::ProductAction::VaultWithdraw { shares: amount, .. }) => {
                    *amount = bal
                }
                _ => {}
            }
        }
        Tx {
            sender: s.sender.clone(),
            action,
        }
    }

    /// Runs to the horizon. `progress(done, total)` is called after each step. A rejected user
    /// transaction is recorded and the run goes on; the run fails when time cannot advance
    /// ([`RunError::Stalled`], naming the step) or an invariant breaks ([`RunError::Invariant`], a
    /// bug, with the seed to reproduce it).
    pub fn run(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<RunResult, RunError> {
        self.run_with_seed(self.seed, progress)
    }

    /// [`run`](Self::run) with every random process seeded by `seed` instead of the scenario's
    /// seed: one Monte Carlo path. The built world is cloned (its maps share structure, so the
    /// clone costs the world's vectors, not its accounts) and reseeded; nothing is re-parsed.
    pub fn run_with_seed(&self, seed: u64, progress: &mut dyn FnMut(u64, u64)) -> Result<RunResult, RunError> {
        let total = self.total_steps();
        let mut world = self.built.world.clone();
        world.reseed(seed);
        world.ledger.set_auditing(true);
        let schedule = self.built.schedule.clone();
        let (start, end, step) = (self.built.start, self.built.end, self.built.step);
        let mut next = 0usize;
        let mut applied = 0u64;
        let mut events = 0u64;
        let mut rejected = Vec::new();
        let columns = self.columns(&world);
        let mut rows = vec![self.sample(&world)];
        let checks = self.checks;
        let fail = |what: String| RunError::Invariant(format!("invariant broken ({what}); reproduce with seed {seed}"));
        let exec = |world: &mut World,
                    tx: Tx,
                    rejected: &mut Vec<RejectedTx>,
                    applied: &mut u64,
                    events: &mut u64|
         -> Result<(), RunError> {
            // `World::apply` restores the state on rejection (tested per rejection path with the
            // state hash); the run does not re-hash the world per step.
            match world.apply(&tx) {
                Outcome::Applied { events: ev } => {
                    *applied += 1;
                    *events += ev.len() as u64;
                }
                Outcome::Rejected(r) if matches!(tx.action, Action::AdvanceTime { .. }) => {
                    return Err(RunError::Stalled(format!(
                        "time cannot advance from {} to {}: {} (code {}); reproduce with seed {seed}",
                        format_date(world.now),
                        match &tx.action {
                            Action::AdvanceTime { to } => format_date(*to),
                            _ => String::new(),
                        },
                        world.name_assets(&r.message),
                        r.code
                    )));
                }
                Outcome::Rejected(r) => {
                    rejected.push(RejectedTx {
                        date: format_date(world.now),
                        sender: tx.sender.clone(),
                        action: tx.action.describe(),
                        code: r.code,
                        message: r.message,
                    });
                }
            }
            world
                .check_after(&tx)
                .map_err(|e| fail(format!("after {}: {e}", tx.action.describe())))?;
            if checks.paranoid {
                world
                    .check_invariants()
                    .map_err(|e| fail(format!("full check after {}: {e}", tx.action.describe())))?;
            }
            Ok(())
        };
        for k in 1..=total {
            let t = k
                .checked_mul(step)
                .and_then(|d| start.checked_add(d))
                .map_or(end, |t| t.min(end));
            while next < schedule.len() && schedule[next].at <= t {
                let s = &schedule[next];
                if s.at > world.now {
                    exec(
                        &mut world,
                        Tx {
                            sender: SYSTEM.into(),
                            action: Action::AdvanceTime { to: s.at },
                        },
                        &mut rejected,
                        &mut applied,
                        &mut events,
                    )
                    .map_err(|e| e.at_step(k, total))?;
                }
                let tx = self.resolve(&world, s);
                exec(&mut world, tx, &mut rejected, &mut applied, &mut events)?;
                next += 1;
            }
            exec(
                &mut world,
                Tx {
                    sender: SYSTEM.into(),
                    action: Action::AdvanceTime { to: t },
                },
                &mut rejected,
                &mut applied,
                &mut events,
            )
            .map_err(|e| e.at_step(k, total))?;
            if checks.full_every > 0 && k % checks.full_every == 0 && k != total {
                world
                    .check_invariants()
                    .map_err(|e| fail(format!("full check at step {k} ({}): {e}", format_date(world.now))))?;
            }
            rows.push(self.sample(&world));
            progress(k, total);
        }
        world
            .check_invariants()
            .map_err(|e| fail(format!("full check at the end ({}): {e}", format_date(world.now))))?;
        for h in &world.hook_rejections {
            rejected.push(RejectedTx {
                date: format_date(h.time),
                sender: SYSTEM.into(),
                action: h.hook.clone(),
                code: h.rejection.code,
                message: world.name_assets(&h.rejection.message),
            });
        }
        let summary = self.summarise(&world, seed, applied, events, rejected);
        Ok(RunResult { summary, columns, rows })
    }

    fn columns(&self, world: &World) -> Vec<String> {
        let mut c = vec![
            "eth.staked_eth".to_string(),
            "eth.exit_queue_days".into(),
            "eth.activation_queue_days".into(),
            "eth.ideal_cl_apr_pct".into(),
        ];
        for l in &world.lsts {
            for m in ["rate", "apr_pct", "tvl_eth", "share_pct", "queue_days"] {
                c.push(format!("{}.{m}", l.symbol));
            }
        }
        c.extend(world.restaking.columns());
        c.extend(world.lrt.columns());
        c.extend(world.products.columns());
        c.extend(world.markets.columns());
        c
    }

    fn sample(&self, world: &World) -> StepRow {
        let staked = world.eth.total_staked_wei();
        let mut values = vec![
            f18(staked),
            world.eth.exit_queue_wait_seconds() as f64 / DAY as f64,
            world.eth.activation_queue_wait_seconds() as f64 / DAY as f64,
            stake_l0::spec::ideal_issuance_apr_ppm(world.eth.total_active_balance_gwei()) as f64 / 1e4,
        ];
        for l in &world.lsts {
            let tvl = l.model.tvl_wei().unwrap_or(U256::ZERO);
            values.push(f18(l.model.rate_wad().unwrap_or(U256::ZERO)));
            values.push(l.realised_apr(world.now) * 100.0);
            values.push(f18(tvl));
            values.push(if staked > U256::ZERO {
                tvl.as_f64() / staked.as_f64() * 100.0
            } else {
                0.0
            });
            values.push(l.model.queue_seconds(&world.ledger, &world.eth) as f64 / DAY as f64);
        }
        values.extend(crate::restaking::sample(world));
        values.extend(crate::lrt::sample(world));
        values.extend(crate::products::sample(world));
        values.extend(crate::markets::sample(world));
        StepRow {
            t: world.now,
            date: format_date(world.now),
            values,
        }
    }

    fn summarise(&self, world: &World, seed: u64, applied: u64, events: u64, rejected: Vec<RejectedTx>) -> Summary {
        let staked = world.eth.total_staked_wei();
        let active: u64 = {
            let e = world.eth.current_epoch();
            world
                .eth
                .groups()
                .iter()
                .filter(|g| g.activation_epoch <= e && e < g.exit_epoch)
                .map(|g| g.count)
                .sum()
        };
        let lsts = world
            .lsts
            .iter()
            .map(|l| {
                let tvl = l.model.tvl_wei().unwrap_or(U256::ZERO);
                let rate = l.model.rate_wad().unwrap_or(U256::ZERO);
                let s = world.eth.summary_by_credentials(l.model.credentials());
                LstSummary {
                    symbol: l.symbol.clone(),
                    model: l.model.name().into(),
                    rate_wad: rate.to_string(),
                    rate: f18(rate),
                    realised_apr_pct: l.realised_apr(world.now) * 100.0,
                    tvl_wei: tvl.to_string(),
                    tvl_eth: f18(tvl),
                    share_of_staked_pct: if staked > U256::ZERO {
                        tvl.as_f64() / staked.as_f64() * 100.0
                    } else {
                        0.0
                    },
                    queue_days: l.model.queue_seconds(&world.ledger, &world.eth) as f64 / DAY as f64,
                    validators: s.pending + s.active + s.exiting,
                }
            })
            .collect();
        let (restaking, restaking_text) = crate::restaking::summary(world);
        let (markets, markets_text) = crate::markets::summary(world);
        let (lrts, lrts_text) = crate::lrt::summary(world);
        let (products, products_text) = crate::products::summary(world);
        let extra_text = [restaking_text, lrts_text, products_text, markets_text]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect();
        Summary {
            restaking,
            markets,
            lrts,
            products,
            extra_text,
            scenario: self.name.clone(),
            scenario_hash: self.scenario_hash.clone(),
            seed,
            version: env!("CARGO_PKG_VERSION").into(),
            start: format_date(self.built.start),
            end: format_date(world.now),
            steps: self.total_steps(),
            final_state_hash: blake3::Hash::from(world.state_hash()).to_hex().to_string(),
            chain: ChainSummary {
                chain: "ethereum".into(),
                staked_wei: staked.to_string(),
                staked_eth: f18(staked),
                active_validators: active,
                ideal_cl_apr_pct: stake_l0::spec::ideal_issuance_apr_ppm(world.eth.total_active_balance_gwei()) as f64
                    / 1e4,
                exit_queue_days: world.eth.exit_queue_wait_seconds() as f64 / DAY as f64,
                activation_queue_days: world.eth.activation_queue_wait_seconds() as f64 / DAY as f64,
                slashed_validators: world.slashed_validators,
            },
            lsts,
            transactions_applied: applied,
            rejected,
            events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run whose `AdvanceTime` is rejected stops as a failed run naming the step, instead of
    /// reporting success with its end date equal to its start. (No scenario input reaches this
    /// any more — the inputs that did are refused at setup — so the world is put out of order
    /// by hand: its clock ahead of the first step.)
    #[test]
    fn a_rejected_time_step_stalls_the_run() {
        let text = "[clock]\nstart = \"2025-01-01\"\nhorizon = \"3d\"\nstep = \"1d\"\n";
        let mut p = prepare(text, None).unwrap();
        p.built.world.now = p.built.start + 10 * DAY;
        let e = p.run(&mut |_, _| {}).unwrap_err();
        let RunError::Stalled(m) = &e else {
            panic!("{e}");
        };
        assert!(
            m.starts_with(
                "step 1 of 3: time cannot advance from 2025-01-11 to 2025-01-02: cannot advance time to 2025-01-02"
            ),
            "{m}"
        );
        assert!(m.contains("(code 9003)"), "{m}");
        assert!(e.to_string().starts_with("the run stopped: step 1 of 3"), "{e}");
    }
}
