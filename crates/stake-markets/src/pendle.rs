//! `pendle` (SPEC §7).
