//! `babylon` model (SPEC §5).
