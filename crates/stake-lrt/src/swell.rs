//! `swell` model (in progress).
