//! `jito` model (SPEC §5).
