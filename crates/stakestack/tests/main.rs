//! Integration tests of `stakestack`, one module per topic, linked as one test binary (STYLE habit
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

mod cli_works_as_documented;
mod common;
mod hardening;
mod integ_m_calc;
mod monte_carlo_cli;
mod pendle_replay_cli;
mod report_html;
mod restaking_calc;
mod risk_calc;
mod sweep_cli;
