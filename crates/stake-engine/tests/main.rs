//! Integration tests of `stake-engine`, one module per topic, linked as one test binary (STYLE habit
//! 12: a test binary per crate, not per file, so that a clean build links once per crate).
// Test helpers unwrap and panic on a failed setup step; tests build values with casts.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    clippy::result_large_err,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod agents;
mod core_crates_are_sans_io;
mod integ_m_markets;
mod lp_restaking;
mod lrt_arbitrage;
mod lrt_wired_into_the_world;
mod morpho_markets_and_liquidator;
mod oracle_controls;
mod pendle_actions;
mod pendle_oracles_depth_and_paths;
mod restaking_wired_into_the_world;
mod rs_restaking_protocols;
mod scenario_parser_props;
mod seed_override;
mod world_runs_scenarios;
