//! Integration tests of `stake-l0`, one module per topic, linked as one test binary (STYLE habit
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

mod chains;
mod closed_form;
mod ethereum;
mod generic;
