//! L0 — proof-of-stake chains (SPEC §3).
