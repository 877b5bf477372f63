//! `stableswap` (SPEC §7).
