//! `oracle` (SPEC §7).
