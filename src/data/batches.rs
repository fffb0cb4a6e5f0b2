//! Seeded shuffles of sample indices.

use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

/// Indices `0..len` in an order fixed by `seed`.
pub fn shuffled_indices(len: usize, seed: u64) -> Vec<u32> {
    let mut indices: Vec<u32> = (0..len as u32).collect();
    indices.shuffle(&mut StdRng::seed_from_u64(seed));
    indices
}
