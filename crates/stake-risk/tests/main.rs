//! Integration tests of `stake-risk`, linked as one test binary.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod security;
