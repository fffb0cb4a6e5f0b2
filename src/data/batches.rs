//! Mini-batches: seeded shuffles and the u8 -> f32 conversion done once per batch.

use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

use super::ImageSet;

/// Indices `0..len` in an order fixed by `seed`.
pub fn shuffled_indices(len: usize, seed: u64) -> Vec<u32> {
    let mut indices: Vec<u32> = (0..len as u32).collect();
    indices.shuffle(&mut StdRng::seed_from_u64(seed));
    indices
}

/// Writes the images at `indices` into `inputs` as values in [0, 1] (pixel / 255).
pub fn fill_batch(set: &ImageSet, indices: &[u32], inputs: &mut Vec<f32>) {
    inputs.clear();
    for &index in indices {
        inputs.extend(set.image(index as usize).iter().map(|&p| p as f32 / 255.0));
    }
}

/// One-hot rows for the labels at `indices`.
pub fn one_hot(set: &ImageSet, indices: &[u32], classes: usize) -> Vec<f32> {
    let mut targets = vec![0.0; indices.len() * classes];
    for (row, &index) in indices.iter().enumerate() {
        targets[row * classes + set.labels[index as usize] as usize] = 1.0;
    }
    targets
}
