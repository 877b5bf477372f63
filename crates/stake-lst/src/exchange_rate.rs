//! `exchange_rate` model (SPEC §4).
