//! Shared test helpers: amounts, the state hash, and the rejection check.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use stake_ledger::{blake3, hash_serde, Reject};
use stake_math::{U256, WAD};

/// `x` whole units (1e18 base units).
pub(crate) fn e(x: u128) -> U256 {
    U256::from(x) * WAD
}

/// `x` thousandths of a unit.
pub(crate) fn m(x: u128) -> U256 {
    U256::from(x) * U256::from(1_000_000_000_000_000u128)
}

/// A base-unit amount.
pub(crate) fn w(x: u128) -> U256 {
    U256::from(x)
}

/// BLAKE3 of the state's canonical encoding (`stake_ledger::hash_serde`).
pub(crate) fn hash<S: serde::Serialize>(s: &S) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    hash_serde(&mut h, s);
    *h.finalize().as_bytes()
}

/// Runs `f` on `state`; asserts it fails with exactly `want` (and its code) and leaves the state
/// and its hash unchanged.
pub(crate) fn rejects<S, T, E>(state: &mut S, want: E, f: impl FnOnce(&mut S) -> Result<T, E>)
where
    S: Clone + PartialEq + std::fmt::Debug + serde::Serialize,
    T: std::fmt::Debug,
    E: PartialEq + std::fmt::Debug + Reject,
{
    let before = state.clone();
    let hash_before = hash(state);
    match f(state) {
        Err(err) => {
            assert_eq!(err.code(), want.code(), "{err}");
            assert_eq!(err, want);
        }
        Ok(v) => panic!("expected {want:?}, got Ok({v:?})"),
    }
    assert_eq!(*state, before, "a rejection changed the state");
    assert_eq!(hash(state), hash_before, "a rejection changed the state hash");
}
