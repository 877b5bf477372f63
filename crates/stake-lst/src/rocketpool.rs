//! `rocketpool` model (SPEC §4).
