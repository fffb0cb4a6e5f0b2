//! The tensor operations dfdx 0.13 lacks on stable Rust, written on its public tape API.
//!
//! dfdx's own `conv2d`/`pool2d` only compile under its `nightly` feature, so convolution is
//! supplied here as im2col plus one matrix product ([`conv2d`], fused with the bias, the
//! same op as [`linear`]), and pooling as [`max_pool`]/[`avg_pool`]; GELU because dfdx's
//! derivative is wrong; batch normalisation ([`batch_norm_train`], [`batch_norm_eval`])
//! because dfdx's `BatchNorm2D` is a compile-time-shaped module and LayerLab's learnable
//! tensors live outside dfdx tensors ([`Param`]). Dropout is [`dropout_seeded`], its mask drawn from the
//! run's seed and step so a resumed run draws the same ones. Everything else (activations,
//! losses, permutes) is dfdx's own and differentiated by dfdx.
//!
//! Layout: images travel as `(batch, height * width * channels)` tensors, channels last
//! (NHWC), because the product after im2col produces exactly that. [`to_channels_first`]
//! reorders to PyTorch's NCHW where a layer flattens, so exported weights match PyTorch.
//!
//! Each op is checked in its tests against a naive loop, finite differences and numbers
//! from PyTorch (tests/fixtures, made by scripts/make_fixtures.py).

mod avx512;
mod batch_norm;
mod custom_op;
mod dropout;
mod gelu;
mod layers;
mod matmul;
mod param;
mod pool;
pub mod profile;
mod scratch;
mod unfold;
mod window;

pub use batch_norm::{
    batch_norm_eval, batch_norm_relu_max_pool_train, batch_norm_train, BatchStatistics,
};
pub use dropout::{dropout_seed, dropout_seeded};
pub use gelu::gelu;
pub use layers::{conv2d, linear};
pub use param::{FlatTensor, Param};
pub use pool::{avg_pool, max_pool, relu_max_pool};
pub use scratch::release as release_scratch_buffers;
pub use window::Window;

use dfdx::prelude::*;

/// A batch of activations, `(batch, values per sample)`, on the CPU.
pub type Activations<T> = Tensor<(usize, usize), f32, Cpu, T>;

/// Reorders `(batch, h*w*c)` channels-last activations into PyTorch's channels-first order.
pub fn to_channels_first<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    channels: usize,
    height: usize,
    width: usize,
) -> Activations<T> {
    let batch = x.shape().0;
    if channels == 1 || height * width == 1 {
        return x;
    }
    x.reshape_like(&(batch, height * width, channels))
        .permute::<_, Axes3<0, 2, 1>>()
        .reshape_like(&(batch, channels * height * width))
}

/// Reorders a model's `(batch, c*h*w)` input, channels-first as PyTorch and the datasets
/// give images, into the channels-last layout the layers compute in.
pub fn to_channels_last<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    channels: usize,
    height: usize,
    width: usize,
) -> Activations<T> {
    let batch = x.shape().0;
    if channels == 1 || height * width == 1 {
        return x;
    }
    x.reshape_like(&(batch, channels, height * width))
        .permute::<_, Axes3<0, 2, 1>>()
        .reshape_like(&(batch, height * width * channels))
}

/// Plain kernels (no tape) shared by the ops above and the tape-free inference path.
pub(crate) mod kernels {
    pub(crate) use super::batch_norm::folded_scale_and_shift;
    pub(crate) use super::gelu::gelu_value;
    pub(crate) use super::layers::{affine_forward, to_window_order};
    pub(crate) use super::matmul::Layout;
    pub(crate) use super::pool::{avg_pool_forward, max_pool_forward, Floor};
    pub(crate) use super::unfold::im2col;

    /// `(batch, c*h*w)` channels-first to channels-last, as `to_channels_last` does on the tape.
    pub(crate) fn channels_last(x: &[f32], batch: usize, c: usize, h: usize, w: usize) -> Vec<f32> {
        transpose_each(x, batch, c, h * w)
    }

    /// `(batch, h*w*c)` channels-last to channels-first, as `to_channels_first` does on the tape.
    pub(crate) fn channels_first(
        x: &[f32],
        batch: usize,
        c: usize,
        h: usize,
        w: usize,
    ) -> Vec<f32> {
        transpose_each(x, batch, h * w, c)
    }

    /// Each of `batch` row-major `rows x cols` matrices in `x`, transposed.
    fn transpose_each(x: &[f32], batch: usize, rows: usize, cols: usize) -> Vec<f32> {
        let mut out = vec![0.0; x.len()];
        let len = rows * cols;
        for b in 0..batch {
            let (src, dst) = (&x[b * len..(b + 1) * len], &mut out[b * len..(b + 1) * len]);
            for r in 0..rows {
                for c in 0..cols {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod testing;
