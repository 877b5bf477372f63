//! `etherfi` model (in progress).
