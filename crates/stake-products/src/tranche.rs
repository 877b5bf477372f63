//! tranche
