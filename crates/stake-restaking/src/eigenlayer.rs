//! `eigenlayer` model (SPEC §5).
