//! Integration tests of `stake-products`, one module per topic, linked as one test binary (one
//! test binary per crate, as the other crates).
#![allow(clippy::panic, clippy::unwrap_used)]

mod a_leverage_loop_converges_to_one_over_one_minus_ltv;
mod an_erc4626_vault_rounds_in_its_own_favour;
mod common;
mod points_accrue_by_value_and_time_and_pass_through_to_lrt_and_yt_holders;
mod the_aggregator_allocates_by_policy_and_pays_for_its_moves;
mod the_insurance_fund_pays_capped_claims_from_premiums_and_underwriters;
mod tranches_pay_senior_first_and_junior_loses_first;
