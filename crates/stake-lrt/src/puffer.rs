//! `puffer` model (in progress).
