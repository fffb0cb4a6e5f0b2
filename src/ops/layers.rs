//! Linear and convolution layers composed from dfdx ops and [`unfold`](super::unfold).
//!
//! Parameters come in flat, in PyTorch's layout (`weight [out, in]`, `[out, in, k, k]`), and
//! are reshaped here; contiguous reshapes keep the tensor's id, so dfdx's gradients land on the
//! flat parameter itself.

use dfdx::prelude::*;

use super::{unfold, Activations, Window};

/// A flat parameter tensor in PyTorch's memory layout.
pub type FlatTensor<T> = Tensor<(usize,), f32, Cpu, T>;

/// `x @ weight.T + bias` for `x` of shape `(batch, in)`.
pub fn linear<T>(x: Activations<T>, weight: FlatTensor<T>, bias: FlatTensor<T>) -> Activations<T>
where
    T: Tape<f32, Cpu> + Merge<T>,
{
    let (batch, in_features) = *x.shape();
    let out_features = bias.shape().0;
    let weight = weight
        .reshape_like(&(out_features, in_features))
        .permute::<_, Axes2<1, 0>>();
    let y = x.matmul(weight);
    let bias = bias.broadcast_like::<_, Axis<0>>(&(batch, out_features));
    y + bias
}

/// 2-D convolution of channels-last images; returns `(batch, oh*ow*out_channels)`.
pub fn conv2d<T>(
    x: Activations<T>,
    weight: FlatTensor<T>,
    bias: FlatTensor<T>,
    window: Window,
) -> Activations<T>
where
    T: Tape<f32, Cpu> + Merge<T>,
{
    let out_channels = bias.shape().0;
    let Window {
        channels, kernel, ..
    } = window;
    let columns = unfold(x, window);
    // [out, in, k, k] -> [out, k, k, in], the column order of `unfold`.
    let weight = weight
        .reshape_like(&(out_channels, channels, kernel, kernel))
        .permute::<_, Axes4<0, 2, 3, 1>>()
        .reshape_like(&(out_channels, kernel * kernel * channels));
    let rows = columns.shape().0;
    let y = columns.matmul(weight.permute::<_, Axes2<1, 0>>());
    let y = y + bias.broadcast_like::<_, Axis<0>>(&(rows, out_channels));
    y.reshape_like(&(
        window.batch,
        window.out_height() * window.out_width() * out_channels,
    ))
}
