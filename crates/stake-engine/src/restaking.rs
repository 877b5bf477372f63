//! The engine's side of L2 restaking (SPEC §5): EigenLayer, Symbiotic, Jito, Babylon and services, wired into the world.
//! (Integration in progress: the scenario sections parse and are rejected if used.)

use crate::action::Action;
use crate::error::EngineError;
use crate::event::Event;
use crate::scenario::{ActionCfg, EventCfg, Scenario, ScenarioError};
use crate::world::World;
use serde::{Deserialize, Serialize};
use stake_ledger::Ledger;

/// Scenario section (see the scenario reference).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestakingCfg {}

/// Scenario section (see the scenario reference).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorCfg {}

/// Scenario section (see the scenario reference).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCfg {}

/// Restaking actions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestakingAction {}

impl RestakingAction {
    /// Whether only the system may send it.
    pub fn is_system(&self) -> bool {
        match *self {}
    }
    /// Short description.
    pub fn describe(&self) -> String {
        match *self {}
    }
}

/// Restaking events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RestakingEvent {}

/// Restaking state of the world.
#[derive(Clone, Debug, Default)]
pub struct RestakingWorld {}

impl RestakingWorld {
    /// Invariants of every restaking module.
    pub fn check_invariants(&self, _ledger: &Ledger) -> Result<(), String> {
        Ok(())
    }
    /// Feeds the state into the world hash.
    pub fn hash_state(&self, _h: &mut blake3::Hasher) {}
    /// Metric columns.
    pub fn columns(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Builds the restaking part of the world from the scenario (after L0 and L1).
pub fn build(_world: &mut World, _scn: &Scenario, _start: u64) -> Result<(), ScenarioError> {
    Ok(())
}

/// A scripted action of this layer, or `None` if `a.op` is not one.
pub fn schedule_action(
    _a: &ActionCfg,
    _path: &str,
    _world: &World,
    _start: u64,
) -> Option<Result<Action, ScenarioError>> {
    None
}

/// A scripted event of this layer (sender, action), or `None` if `e.kind` is not one.
pub fn schedule_event(
    _e: &EventCfg,
    _path: &str,
    _world: &World,
    _start: u64,
) -> Option<Result<(String, Action), ScenarioError>> {
    None
}

/// Applies an action of this layer.
pub fn apply(_world: &mut World, _sender: &str, action: &RestakingAction) -> Result<Vec<Event>, EngineError> {
    match *action {}
}

/// Periodic work at each frame (reward distribution, accrual, oracle updates).
pub fn on_frame(_world: &mut World, _t: u64) -> Vec<Event> {
    Vec::new()
}

/// Metric values, in the order of [`RestakingWorld::columns`].
pub fn sample(_world: &World) -> Vec<f64> {
    Vec::new()
}

/// Summary: a JSON value for `summary.json` and console text (empty when unused).
pub fn summary(_world: &World) -> (serde_json::Value, String) {
    (serde_json::Value::Null, String::new())
}

/// Calc functions of this layer.
pub(crate) fn calc_functions() -> Vec<(&'static str, &'static str, crate::calc_fns::CalcFn)> {
    Vec::new()
}
