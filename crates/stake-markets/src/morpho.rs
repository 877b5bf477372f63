//! `morpho` (SPEC §7).
