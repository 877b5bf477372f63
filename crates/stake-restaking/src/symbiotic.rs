//! `symbiotic` model (SPEC §5).
