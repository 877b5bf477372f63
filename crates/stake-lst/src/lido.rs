//! `lido` model (SPEC §4).
