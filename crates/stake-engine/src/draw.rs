//! Seeded draws for the engine's random behaviours (service faults, panic sellers' tranche
//! sizes, random event processes): a BLAKE3 hash of the parts that name the draw — the world
//! seed first, then what and when — read as a uniform wad, so a draw depends on nothing but its
//! name and each Monte Carlo path (reseeded) gets its own.

use stake_math::{mul_div_down, U256, WAD};

/// A uniform draw in `[0, 1e18)`: `⌊x·1e18/2⁶⁴⌋` of the first 8 bytes of BLAKE3(`parts`, in
/// order).
pub(crate) fn uniform_wad(parts: &[&[u8]]) -> U256 {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(p);
    }
    let b = h.finalize();
    let mut x = [0u8; 8];
    x.copy_from_slice(&b.as_bytes()[..8]);
    (U256::from(u64::from_le_bytes(x)) * WAD) >> 64
}

/// `1 − jitter + 2·jitter·u` (wad) for a uniform `u`: a size factor uniform on
/// `[1 − jitter, 1 + jitter]` (`jitter` is capped at 1).
pub(crate) fn jitter_factor(jitter: U256, u: U256) -> U256 {
    let j = jitter.min(WAD);
    (WAD - j).saturating_add(mul_div_down(j * U256::from(2u8), u, WAD).unwrap_or(U256::ZERO))
}
