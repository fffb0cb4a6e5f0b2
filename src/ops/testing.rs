//! Helpers for the numerical tests of the ops: reference data, tolerances, finite differences.

use dfdx::prelude::*;

use super::{Activations, Window};

pub fn window(
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Window {
    Window {
        batch,
        channels,
        height,
        width,
        kernel,
        stride,
        padding,
    }
}

/// Deterministic values in [-1, 1) with no exact ties (a small LCG; the values only need to differ).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

#[track_caller]
pub fn assert_all_close(got: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(got.len(), expected.len(), "lengths differ");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let scale = 1.0f32.max(e.abs());
        assert!(
            (g - e).abs() <= tolerance * scale,
            "element {i}: got {g}, expected {e} (tolerance {tolerance})"
        );
    }
}

pub fn activations(values: &[f32], batch: usize) -> Activations<NoneTape> {
    let dev = Cpu::default();
    dev.tensor_from_vec(values.to_vec(), (batch, values.len() / batch))
}

pub fn conv_via_unfold(x: &[f32], weight: &[f32], window: Window, out_channels: usize) -> Vec<f32> {
    let dev = Cpu::default();
    let x = activations(x, window.batch);
    let weight = param(weight, &dev);
    let bias = param(&vec![0.0; out_channels], &dev);
    super::layers::conv2d(x, &weight, &bias, window, false).as_vec()
}

/// A flat parameter holding `values`.
pub fn param(values: &[f32], device: &Cpu) -> super::Param {
    super::Param::new("p".into(), vec![values.len()], values.to_vec(), device)
}

/// Compares the gradient dfdx computes through `op` with central finite differences of
/// `sum(op(x) * r)` for a fixed random `r`. The ops here are piecewise linear, so central
/// differences are exact away from kinks: the inputs are a shuffled even grid of [-1, 1],
/// so no two values are closer than `2 / len`, far more than twice the step.
pub fn check_gradient(
    len: usize,
    op: impl Fn(Activations<OwnedTape<f32, Cpu>>) -> Activations<OwnedTape<f32, Cpu>>,
) {
    let dev = Cpu::default();
    let keys = pseudo_random(len, 7);
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    let x_values: Vec<f32> = order
        .iter()
        .map(|&rank| rank as f32 / len as f32 * 2.0 - 1.0)
        .collect();
    let objective = |values: &[f32]| -> (f32, Vec<f32>) {
        let x = dev.tensor_from_vec(values.to_vec(), (1, len));
        let y = op(x.leaky_trace());
        let r = dev.tensor_from_vec(pseudo_random(y.shape().1 * y.shape().0, 11), *y.shape());
        let loss = (y * r).sum();
        let value = loss.array();
        let grads = loss.backward();
        (value, grads.get(&x).as_vec())
    };
    let (_, analytic) = objective(&x_values);
    let step = 1e-3f32;
    let mut numeric = vec![0.0; len];
    for i in 0..len {
        let mut plus = x_values.clone();
        plus[i] += step;
        let mut minus = x_values.clone();
        minus[i] -= step;
        numeric[i] = (objective(&plus).0 - objective(&minus).0) / (2.0 * step);
    }
    assert_all_close(&analytic, &numeric, 2e-3);
}
