//! `aave` (SPEC §7).
