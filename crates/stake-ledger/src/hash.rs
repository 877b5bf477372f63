use serde::Serialize;

/// Anything that contributes to the canonical world state hash (SPEC §2).
pub trait StateHash {
    /// Feeds the canonical encoding of `self` into `h`.
    fn hash_state(&self, h: &mut blake3::Hasher);
}

/// Feeds the canonical (bincode) encoding of a serialisable value into a hasher. Protocol state
/// holds no hash maps and no floats (SPEC §1.1), so this encoding is deterministic.
pub fn hash_serde<T: Serialize + ?Sized>(h: &mut blake3::Hasher, value: &T) {
    // Writing into a hasher cannot fail; a serialisation failure would be a type that refuses to
    // serialise, which protocol state never is. Hash the error text so it is at least visible.
    if let Err(e) = bincode::serialize_into(&mut *h, value) {
        h.update(b"serialize-error:");
        h.update(e.to_string().as_bytes());
    }
}

/// BLAKE3 hash of one [`StateHash`] value, as 32 bytes.
pub fn state_hash<T: StateHash + ?Sized>(value: &T) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    value.hash_state(&mut h);
    *h.finalize().as_bytes()
}
