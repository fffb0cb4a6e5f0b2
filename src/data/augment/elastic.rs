//! Elastic distortion (Simard, Steinkraus and Platt 2003, the classic MNIST augmentation):
//! a random displacement in [-1, 1] for every pixel, smoothed by a Gaussian of `sigma`
//! pixels, scaled by `alpha`, and the image resampled (bilinear) where it points.

use rand::Rng;

use super::affine::bilinear;

/// A normalised Gaussian kernel truncated at 4 sigma (scipy's `gaussian_filter` default).
fn kernel(sigma: f32) -> Vec<f32> {
    let radius = (4.0 * sigma).ceil().max(1.0) as i64;
    let weights: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = weights.iter().sum();
    weights.into_iter().map(|w| w / sum).collect()
}

/// Separable Gaussian blur of a `height x width` field, edges reflected.
fn blur(field: &[f32], height: usize, width: usize, kernel: &[f32]) -> Vec<f32> {
    let radius = (kernel.len() / 2) as i64;
    let reflect = |i: i64, n: usize| -> usize {
        let n = n as i64;
        let mut i = i;
        while i < 0 || i >= n {
            i = if i < 0 { -i - 1 } else { 2 * n - i - 1 };
        }
        i as usize
    };
    let mut rows = vec![0.0; field.len()];
    for r in 0..height {
        for c in 0..width {
            rows[r * width + c] = kernel
                .iter()
                .enumerate()
                .map(|(k, w)| w * field[r * width + reflect(c as i64 + k as i64 - radius, width)])
                .sum();
        }
    }
    let mut out = vec![0.0; field.len()];
    for r in 0..height {
        for c in 0..width {
            out[r * width + c] = kernel
                .iter()
                .enumerate()
                .map(|(k, w)| w * rows[reflect(r as i64 + k as i64 - radius, height) * width + c])
                .sum();
        }
    }
    out
}

/// Distorts `pixels` (`channels x height x width`) into `out`, the same field for every channel.
#[allow(clippy::too_many_arguments)]
pub fn distort(
    rng: &mut impl Rng,
    pixels: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    alpha: f32,
    sigma: f32,
    out: &mut [f32],
) {
    let kernel = kernel(sigma);
    let mut field = || {
        let noise: Vec<f32> = (0..height * width)
            .map(|_| rng.gen_range(-1.0f32..=1.0))
            .collect();
        blur(&noise, height, width, &kernel)
    };
    let (dx, dy) = (field(), field());
    let plane_len = height * width;
    for channel in 0..channels {
        let plane = &pixels[channel * plane_len..(channel + 1) * plane_len];
        for r in 0..height {
            for c in 0..width {
                let i = r * width + c;
                let x = c as f32 + alpha * dx[i];
                let y = r as f32 + alpha * dy[i];
                out[channel * plane_len + i] = bilinear(plane, height, width, x, y);
            }
        }
    }
}
