//! Dropout whose mask is a function of a given seed, so a run's randomness comes from its
//! seed and step (exact resume) rather than from a generator inside the device.
//!
//! dfdx 0.13's `dropout` draws its mask seed from the device's own generator, a state that
//! cannot be saved in a checkpoint. This op computes exactly what dfdx's kernel computes for
//! a given seed (a `Bernoulli(p)` per element from `StdRng::seed_from_u64(seed)`: dropped
//! elements are zero, kept ones divided by `1 - p`; the gradient is the mask times
//! `1 / (1 - p)`), with the seed passed in.

use dfdx::prelude::*;
use rand::{distributions::Distribution, rngs::StdRng, SeedableRng};
use rand_distr::Bernoulli;

use super::{custom_op::unary_op, Activations};

/// Zeroes each activation with probability `p` (in `[0, 1)`) and divides the rest by
/// `1 - p`, the mask drawn from `seed`.
pub fn dropout_seeded<T: Tape<f32, Cpu>>(x: Activations<T>, p: f64, seed: u64) -> Activations<T> {
    let shape = *x.shape();
    let Ok(drop) = Bernoulli::new(p) else {
        return x; // p outside [0, 1]: the stack check refuses it before training.
    };
    let keep = (1.0 - p) as f32;
    let scale = (1.0 - p).recip() as f32;
    unary_op(
        x,
        shape,
        |input, output| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut dropped = Vec::with_capacity(input.len());
            for (y, &x) in output.iter_mut().zip(input) {
                let drop_it = drop.sample(&mut rng);
                dropped.push(drop_it);
                *y = if drop_it { 0.0 } else { x / keep };
            }
            dropped
        },
        move |dropped, grad_output, grad_input| {
            for ((g_in, &g_out), drop_it) in grad_input.iter_mut().zip(grad_output).zip(dropped) {
                *g_in += if drop_it { 0.0 } else { scale } * g_out;
            }
        },
    )
}

/// The seed of the dropout layer at `layer` in the step `step` of a run seeded `seed`
/// (SplitMix64's finaliser over the three, so neighbouring steps get unrelated masks).
pub fn dropout_seed(seed: u64, step: usize, layer: usize) -> u64 {
    let mut z = seed
        .wrapping_add((step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add((layer as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;
    use rand::Rng;

    #[test]
    fn draws_the_mask_dfdx_draws_for_the_same_seed() {
        let values = pseudo_random(6 * 50, 3);
        let device = Cpu::seed_from_u64(7);
        let x = device.tensor_from_vec(values.clone(), (6, 50));
        let expected = x.clone().dropout(0.3).as_vec();
        // dfdx takes its mask seed as the first u64 of the device's generator.
        let seed: u64 = StdRng::seed_from_u64(7).gen();
        let got = dropout_seeded(activations(&values, 6), 0.3, seed).as_vec();
        assert_eq!(got, expected);
        assert!(got.contains(&0.0) && got.iter().any(|v| *v != 0.0));
    }

    #[test]
    fn its_gradient_is_the_mask() {
        let values = pseudo_random(4 * 8, 5);
        let x = activations(&values, 4);
        let y = dropout_seeded(x.leaky_trace(), 0.5, 11);
        let forward = y.retaped::<NoneTape>().as_vec();
        let grads = y.sum().backward();
        let gradient = grads.get(&x).as_vec();
        assert!(forward.contains(&0.0));
        for ((g, y), v) in gradient.iter().zip(&forward).zip(&values) {
            let expected = if *y == 0.0 && *v != 0.0 { 0.0 } else { 2.0 };
            assert_eq!(*g, expected);
        }
        // dfdx's own op, with the same seed drawn from a device, gives the same gradient.
        let device = Cpu::seed_from_u64(3);
        let seed: u64 = StdRng::seed_from_u64(3).gen();
        let theirs_x = device.tensor_from_vec(values.clone(), (4, 8));
        let theirs = theirs_x.leaky_trace().dropout(0.5).sum().backward();
        let ours_x = activations(&values, 4);
        let ours = dropout_seeded(ours_x.leaky_trace(), 0.5, seed)
            .sum()
            .backward();
        assert_eq!(ours.get(&ours_x).as_vec(), theirs.get(&theirs_x).as_vec());
    }

    #[test]
    fn the_seed_depends_on_seed_step_and_layer() {
        let base = dropout_seed(0, 1, 2);
        assert_eq!(base, dropout_seed(0, 1, 2));
        assert_ne!(base, dropout_seed(1, 1, 2));
        assert_ne!(base, dropout_seed(0, 2, 2));
        assert_ne!(base, dropout_seed(0, 1, 3));
    }
}
