//! `kelp` model (in progress).
