//! `services` model (SPEC §5).
