//! The tensor operations dfdx 0.13 lacks on stable Rust, written on its public tape API.
//!
//! dfdx's own `conv2d`/`pool2d` only compile under its `nightly` feature, so convolution is
//! supplied here as im2col plus one matrix product ([`conv2d`], fused with the bias, the
//! same op as [`linear`]), and pooling as [`max_pool`]/[`avg_pool`]; GELU because dfdx's
//! derivative is wrong. Everything else (activations, dropout, losses, permutes) is dfdx's
//! own and differentiated by dfdx.
//!
//! Layout: images travel as `(batch, height * width * channels)` tensors, channels last
//! (NHWC), because the product after im2col produces exactly that. [`to_channels_first`]
//! reorders to PyTorch's NCHW where a layer flattens, so exported weights match PyTorch.
//!
//! Each op is checked in its tests against a naive loop, finite differences and numbers
//! from PyTorch (tests/fixtures, made by scripts/make_fixtures.py).

mod custom_op;
mod gelu;
mod layers;
mod matmul;
mod pool;
mod unfold;
mod window;

pub use gelu::gelu;
pub use layers::{conv2d, linear, FlatTensor};
pub use pool::{avg_pool, max_pool};
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

#[cfg(test)]
pub(crate) mod testing;
