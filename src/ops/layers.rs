//! Linear and convolution layers as single fused ops on dfdx's tape.
//!
//! Both are `y = rows · Wᵀ + b`: for Linear the rows are the inputs, for a convolution the
//! im2col rows of every window. One custom op computes that product with `gemm` (the kernel
//! dfdx's matmul uses), adds the bias in place, and in backward computes exactly the
//! gradients needed: bias and weight always, the input's only when an earlier layer learns
//! (the first layer never differentiates the images). This replaces a chain of dfdx ops
//! (unfold, weight permute, matmul, broadcast bias add) that allocated and strided more.
//!
//! Parameters arrive flat in PyTorch's layout (`[out, in]`, `[out, in, k, k]`) and their
//! gradients leave in it.

use std::sync::Arc;

use dfdx::prelude::*;
use rayon::prelude::*;

use super::matmul::{matmul, Layout};
use super::profile::{add_elapsed, timed, OpKind::*};
use super::unfold::{col2im, im2col};
use super::{Activations, Param, Window};

/// How inputs become the rows of the product.
#[derive(Clone, Copy, Debug)]
enum Lowering {
    /// Each sample is one row.
    Dense { batch: usize, in_features: usize },
    /// Each convolution window is one row (im2col).
    Conv(Window),
}

impl Lowering {
    fn rows(&self) -> usize {
        match *self {
            Self::Dense { batch, .. } => batch,
            Self::Conv(w) => w.batch * w.out_height() * w.out_width(),
        }
    }

    fn row_len(&self) -> usize {
        match *self {
            Self::Dense { in_features, .. } => in_features,
            Self::Conv(w) => w.kernel * w.kernel * w.channels,
        }
    }

    fn batch(&self) -> usize {
        match *self {
            Self::Dense { batch, .. } => batch,
            Self::Conv(w) => w.batch,
        }
    }
}

/// `x @ weight.T + bias` for `x` of shape `(batch, in)`. `input_grad`: whether `x` needs a
/// gradient (false for the first learning layer).
pub fn linear<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    weight: &Param,
    bias: &Param,
    input_grad: bool,
) -> Activations<T> {
    let (batch, in_features) = *x.shape();
    affine(
        x,
        weight,
        bias,
        Lowering::Dense { batch, in_features },
        input_grad,
    )
}

/// 2-D convolution of channels-last images; returns `(batch, oh*ow*out_channels)`.
pub fn conv2d<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    weight: &Param,
    bias: &Param,
    window: Window,
    input_grad: bool,
) -> Activations<T> {
    affine(x, weight, bias, Lowering::Conv(window), input_grad)
}

fn affine<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    weight: &Param,
    bias: &Param,
    lowering: Lowering,
    input_grad: bool,
) -> Activations<T> {
    let (x, mut tape) = x.split_tape();
    let out_features = bias.len();
    let (rows, row_len) = (lowering.rows(), lowering.row_len());
    let (forward_kind, weight_kind, input_kind) = match lowering {
        Lowering::Dense { .. } => (LinearForward, LinearBackward, LinearBackward),
        Lowering::Conv(_) => (ConvForward, ConvBackwardWeight, ConvBackwardInput),
    };
    let (lowered, weight_rows, output) = timed(forward_kind, || {
        let mut input = vec![0.0; x.shape().num_elements()];
        x.copy_into(&mut input);
        let (lowered, weight_rows) = match lowering {
            Lowering::Dense { .. } => (input, weight.shared_values()),
            Lowering::Conv(window) => {
                // im2col leaves the padding's entries unwritten: the buffer starts zeroed.
                let mut columns = vec![0.0; rows * row_len];
                timed(Unfold, || im2col(&input, &mut columns, window));
                let reordered = to_window_order(weight.values(), out_features, window);
                (columns, Arc::new(reordered))
            }
        };
        let weight = (weight_rows.as_slice(), Layout::Transposed);
        let output = affine_forward(&lowered, weight, bias.values(), rows, row_len);
        (lowered, weight_rows, output)
    });
    let batch = lowering.batch();
    let output = x
        .device()
        .tensor_from_vec(output, (batch, rows * out_features / batch.max(1)));

    if T::OWNS_TAPE {
        let (x_ghost, weight_ghost, bias_ghost, output_ghost) = (
            x.ghost(),
            weight.handle().ghost(),
            bias.handle().ghost(),
            output.ghost(),
        );
        tape.add_backward_op(move |grads| {
            let grad_output: Vec<f32> =
                std::mem::take(&mut **grads.get_or_alloc_mut(&output_ghost)?);
            let weight_started = std::time::Instant::now();
            add_column_sums(&grad_output, grads.get_or_alloc_mut(&bias_ghost)?);
            // Weight: (out x rows) · (rows x row_len); input: (rows x out) · (out x row_len).
            let weight_product = |dst: &mut [f32], accumulate: bool| {
                let (g, l) = (Layout::Transposed, Layout::AsIs);
                matmul(
                    dst,
                    out_features,
                    row_len,
                    rows,
                    &grad_output,
                    g,
                    &lowered,
                    l,
                    accumulate,
                );
            };
            let input_product = |dst: &mut [f32], accumulate: bool| {
                let (g, w) = (Layout::AsIs, Layout::AsIs);
                matmul(
                    dst,
                    rows,
                    row_len,
                    out_features,
                    &grad_output,
                    g,
                    &weight_rows,
                    w,
                    accumulate,
                );
            };
            let grad_weight = grads.get_or_alloc_mut(&weight_ghost)?;
            match lowering {
                // Dense rows are already PyTorch's layout: accumulate in place.
                Lowering::Dense { .. } => weight_product(grad_weight, true),
                Lowering::Conv(window) => {
                    let mut grad_rows = vec![0.0; out_features * row_len];
                    weight_product(&mut grad_rows, false);
                    add_from_window_order(&grad_rows, grad_weight, out_features, window);
                }
            }
            add_elapsed(weight_kind, weight_started);
            if input_grad {
                let grad_input = grads.get_or_alloc_mut(&x_ghost)?;
                timed(input_kind, || match lowering {
                    Lowering::Dense { .. } => input_product(grad_input, true),
                    Lowering::Conv(window) => {
                        // Back through im2col.
                        let mut grad_columns = vec![0.0; rows * row_len];
                        input_product(&mut grad_columns, false);
                        timed(Unfold, || col2im(&grad_columns, grad_input, window));
                    }
                });
            }
            Ok(())
        });
    }
    output.put_tape(tape)
}

/// `rows (rows x row_len) · weight + bias`: `weight` stored `out x row_len` with
/// `Layout::Transposed` (PyTorch's Linear rows; im2col's weight rows), or `row_len x out`
/// with `Layout::AsIs` (columns: what the AVX-512 product reads without a transposed copy).
pub(crate) fn affine_forward(
    lowered: &[f32],
    (weight, weight_layout): (&[f32], Layout),
    bias: &[f32],
    rows: usize,
    row_len: usize,
) -> Vec<f32> {
    let out_features = bias.len();
    let mut output = vec![0.0f32; rows * out_features];
    matmul(
        &mut output,
        rows,
        out_features,
        row_len,
        lowered,
        Layout::AsIs,
        weight,
        weight_layout,
        false,
    );
    output
        .par_chunks_mut(out_features * ROWS_PER_TASK)
        .for_each(|rows| {
            for row in rows.chunks_exact_mut(out_features) {
                for (y, b) in row.iter_mut().zip(bias) {
                    *y += b;
                }
            }
        });
    output
}

/// Rows per parallel task when adding the bias or summing its gradient (a convolution has
/// one row per output pixel: 21,632 for the cnn's first layer at batch 32).
const ROWS_PER_TASK: usize = 2048;

/// Adds the column sums of `rows` (`sums.len()` wide) to `sums`: the bias gradient. Each task
/// sums a fixed band of rows and the bands are added in order, so the result does not depend
/// on how rayon schedules them (training stays reproducible).
fn add_column_sums(rows: &[f32], sums: &mut [f32]) {
    let width = sums.len();
    let band_sums: Vec<Vec<f32>> = rows
        .par_chunks(width * ROWS_PER_TASK)
        .map(|band| {
            let mut band_sum = vec![0.0; width];
            for row in band.chunks_exact(width) {
                for (s, v) in band_sum.iter_mut().zip(row) {
                    *s += v;
                }
            }
            band_sum
        })
        .collect();
    for band_sum in band_sums {
        for (s, v) in sums.iter_mut().zip(band_sum) {
            *s += v;
        }
    }
}

/// PyTorch's `[out, in, k, k]` to `[out, k, k, in]`, the column order of [`im2col`].
pub(crate) fn to_window_order(weight: &[f32], out_channels: usize, window: Window) -> Vec<f32> {
    let (c, k) = (window.channels, window.kernel);
    let mut reordered = vec![0.0; weight.len()];
    for o in 0..out_channels {
        for ch in 0..c {
            for kh in 0..k {
                for kw in 0..k {
                    reordered[((o * k + kh) * k + kw) * c + ch] =
                        weight[((o * c + ch) * k + kh) * k + kw];
                }
            }
        }
    }
    reordered
}

/// Adds a `[out, k, k, in]` gradient into a `[out, in, k, k]` one.
fn add_from_window_order(grad: &[f32], pytorch: &mut [f32], out_channels: usize, window: Window) {
    let (c, k) = (window.channels, window.kernel);
    for o in 0..out_channels {
        for ch in 0..c {
            for kh in 0..k {
                for kw in 0..k {
                    pytorch[((o * c + ch) * k + kh) * k + kw] +=
                        grad[((o * k + kh) * k + kw) * c + ch];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{assert_all_close, pseudo_random};

    #[test]
    fn column_sums_over_several_bands_match_a_plain_loop() {
        let (rows, width) = (2 * ROWS_PER_TASK + 77, 5);
        let values = pseudo_random(rows * width, 3);
        let mut expected = vec![1.0f64; width];
        for row in values.chunks_exact(width) {
            for (e, v) in expected.iter_mut().zip(row) {
                *e += f64::from(*v);
            }
        }
        let mut sums = vec![1.0f32; width];
        add_column_sums(&values, &mut sums);
        let expected: Vec<f32> = expected.iter().map(|&e| e as f32).collect();
        assert_all_close(&sums, &expected, 1e-4);
    }

    #[test]
    fn bias_is_added_to_every_row_of_a_long_product() {
        let (rows, row_len) = (ROWS_PER_TASK + 5, 3);
        let lowered = vec![0.0; rows * row_len];
        let weight_rows = vec![0.0; 2 * row_len];
        let weight = (weight_rows.as_slice(), Layout::Transposed);
        let output = affine_forward(&lowered, weight, &[1.5, -2.0], rows, row_len);
        assert!(output.chunks_exact(2).all(|row| row == [1.5, -2.0]));
    }
}
