//! Batch normalisation (PyTorch's `BatchNorm1d` on `(N, C)` and `BatchNorm2d`) as one op on
//! dfdx's tape, with its gradient written out.
//!
//! Activations are `(batch, positions * channels)` with the channel fastest (flat features are
//! one position; images are channels-last), so both layers normalise column `i % channels`
//! over `batch * positions` values. While training the batch's own mean and (biased) variance
//! normalise it and are handed back for the running statistics; in evaluation the running
//! statistics are constants, so the layer is a per-channel scale and shift.
//!
//! With `x̂ = (x - mean) / sqrt(var + eps)` and `y = weight * x̂ + bias`, per channel over the
//! `n` values it normalises:
//! - `d bias = Σ dy`, `d weight = Σ dy x̂`;
//! - training: `dx = weight / (n sqrt(var + eps)) * (n dy - Σ dy - x̂ Σ dy x̂)`;
//! - evaluation: `dx = dy * weight / sqrt(running_var + eps)`.
//!
//! Checked against finite differences here and against PyTorch in tests/torch_parity.rs.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::pool::{max_pool_backward, max_pool_forward, pooled_shape, Floor};
use super::profile::{add_elapsed, OpKind};
use super::scratch::Scratch;
use super::{Activations, Param, Window};

/// The statistics one training batch had, per channel, for the running averages.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchStatistics {
    pub mean: Vec<f32>,
    /// The biased variance (divided by `count`), the one that normalised the batch.
    pub variance: Vec<f32>,
    /// Values per channel: batch size times positions.
    pub count: usize,
}

/// Normalises `x` with its own per-channel statistics (training mode). `input_grad`: whether
/// `x` needs a gradient (false when no earlier layer learns).
pub fn batch_norm_train<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    weight: &Param,
    bias: &Param,
    eps: f32,
    input_grad: bool,
) -> (Activations<T>, BatchStatistics) {
    batch_norm_then(x, (weight, bias), eps, input_grad, None)
}

/// [`batch_norm_train`] followed by a ReLU and the max-pool `window` (in either order: they
/// commute), as one op: the normalised activations are pooled while in cache and never
/// become a tensor, nor does their gradient (the cnn-bn preset's largest activations).
pub fn batch_norm_relu_max_pool_train<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    (weight, bias): (&Param, &Param),
    eps: f32,
    input_grad: bool,
    window: Window,
) -> (Activations<T>, BatchStatistics) {
    batch_norm_then(x, (weight, bias), eps, input_grad, Some(window))
}

fn batch_norm_then<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    (weight, bias): (&Param, &Param),
    eps: f32,
    input_grad: bool,
    pool: Option<Window>,
) -> (Activations<T>, BatchStatistics) {
    let started = std::time::Instant::now();
    let channels = weight.len();
    let (x, tape) = x.split_tape();
    let values = Scratch::copy_of(&x);
    let statistics = batch_statistics(&values, channels);
    let inverse_std = inverse_std(&statistics.variance, eps);
    let count = statistics.count as f64;
    // weight / (n sqrt(var + eps)) * (n dy - Σdy - x̂ Σdy x̂)
    //   = slope * (dy - mean dy - x̂ mean dy x̂), per channel, in f64: in f32 the
    // subtraction moved the gradients of later layers 1e-4 of their size from PyTorch's.
    let slope: Vec<f64> = weight
        .values()
        .iter()
        .zip(&inverse_std)
        .map(|(g, s)| f64::from(*g) * f64::from(*s))
        .collect();
    let output = record(
        x,
        tape,
        (values, &statistics.mean, &inverse_std),
        (weight, bias),
        (input_grad, pool),
        move |grad_output, x_hat, sums, grad_input| {
            let mean_dy: Vec<f64> = sums.dy.iter().map(|s| s / count).collect();
            let mean_dy_x_hat: Vec<f64> = sums.dy_x_hat.iter().map(|s| s / count).collect();
            let block = block_len(channels);
            grad_input
                .par_chunks_mut(block)
                .zip(grad_output.par_chunks(block))
                .zip(x_hat.par_chunks(block))
                .for_each(|((dx, dy), x_hat)| {
                    for ((dx, dy), x_hat) in dx
                        .chunks_exact_mut(channels)
                        .zip(dy.chunks_exact(channels))
                        .zip(x_hat.chunks_exact(channels))
                    {
                        // Zipped, not indexed: without bounds checks the loop is vector code.
                        let constants = slope.iter().zip(&mean_dy).zip(&mean_dy_x_hat);
                        for (((dx, dy), x_hat), ((slope, mean_dy), mean_dy_x_hat)) in
                            dx.iter_mut().zip(dy).zip(x_hat).zip(constants)
                        {
                            let centred =
                                f64::from(*dy) - mean_dy - f64::from(*x_hat) * mean_dy_x_hat;
                            *dx += (slope * centred) as f32;
                        }
                    }
                });
        },
    );
    add_elapsed(OpKind::BatchNormForward, started);
    (output, statistics)
}

/// Normalises `x` with the running statistics `(mean, variance)` (evaluation mode).
pub fn batch_norm_eval<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    weight: &Param,
    bias: &Param,
    running: (&[f32], &[f32]),
    eps: f32,
    input_grad: bool,
) -> Activations<T> {
    let channels = weight.len();
    let (mean, variance) = running;
    let (x, tape) = x.split_tape();
    let values = Scratch::copy_of(&x);
    let inverse_std = inverse_std(variance, eps);
    let slope: Vec<f32> = weight
        .values()
        .iter()
        .zip(&inverse_std)
        .map(|(g, s)| g * s)
        .collect();
    record(
        x,
        tape,
        (values, mean, &inverse_std),
        (weight, bias),
        (input_grad, None),
        move |grad_output, _, _, grad_input| {
            let block = block_len(channels);
            grad_input
                .par_chunks_mut(block)
                .zip(grad_output.par_chunks(block))
                .for_each(|(dx, dy)| {
                    for (dx, dy) in dx.chunks_exact_mut(channels).zip(dy.chunks_exact(channels)) {
                        for ((dx, dy), slope) in dx.iter_mut().zip(dy).zip(&slope) {
                            *dx += dy * slope;
                        }
                    }
                });
        },
    )
}

/// `1 / sqrt(variance + eps)` per channel.
fn inverse_std(variance: &[f32], eps: f32) -> Vec<f32> {
    variance.iter().map(|v| 1.0 / (v + eps).sqrt()).collect()
}

/// Values one parallel task takes: whole rows of `channels`, about 32 Ki values.
fn block_len(channels: usize) -> usize {
    const BLOCK_VALUES: usize = 32 * 1024;
    channels.max(1) * (BLOCK_VALUES / channels.max(1)).max(1)
}

/// Rows added up in f32 before a running f64 sum takes them: few enough that f32 rounding
/// stays near 1e-6 of the sum, enough that the per-value loop is f32 vector code.
const ROWS_PER_F32_SUM: usize = 16;

/// Per-channel `Σ a` and `Σ a·b` (`Σ a²` without `b`) of interleaved columns: f32 sums of
/// [`ROWS_PER_F32_SUM`] rows at a time, gathered in f64, over blocks of rows in parallel.
fn column_sums(a: &[f32], b: Option<&[f32]>, channels: usize) -> (Vec<f64>, Vec<f64>) {
    let block = block_len(channels);
    let zeros = || (vec![0.0f64; channels], vec![0.0f64; channels]);
    a.par_chunks(block)
        .enumerate()
        .map(|(index, a)| {
            let (mut sum, mut products) = zeros();
            let (mut sum32, mut products32) = (vec![0.0f32; channels], vec![0.0f32; channels]);
            let start = index * block;
            let b = b.map_or(a, |b| &b[start..start + a.len()]);
            let group = channels * ROWS_PER_F32_SUM;
            for (a, b) in a.chunks(group).zip(b.chunks(group)) {
                for (a, b) in a.chunks_exact(channels).zip(b.chunks_exact(channels)) {
                    let partial = sum32.iter_mut().zip(products32.iter_mut());
                    for ((s, p), (a, b)) in partial.zip(a.iter().zip(b)) {
                        *s += a;
                        *p += a * b;
                    }
                }
                let partial = sum32.iter_mut().zip(products32.iter_mut());
                for ((s, p), (s32, p32)) in sum.iter_mut().zip(products.iter_mut()).zip(partial) {
                    *s += f64::from(std::mem::take(s32));
                    *p += f64::from(std::mem::take(p32));
                }
            }
            (sum, products)
        })
        .reduce(zeros, |(mut sum, mut products), (s, p)| {
            sum.iter_mut().zip(s).for_each(|(a, b)| *a += b);
            products.iter_mut().zip(p).for_each(|(a, b)| *a += b);
            (sum, products)
        })
}

/// Per-channel sums of the output's gradient the backward passes need.
struct ChannelSums {
    dy: Vec<f64>,
    dy_x_hat: Vec<f64>,
}

/// Normalises `values` in place into `x̂ = (x - mean) * inverse_std` and puts
/// `weight * x̂ + bias` on the tape, or with `pool` its ReLU max-pooled: the backward pass
/// routes the pooled gradient back to the normalised values first, then adds `Σ dy` to the
/// bias's gradient, `Σ dy x̂` to the weight's, and lets `input_backward` add the input's.
fn record<T: Tape<f32, Cpu>>(
    x: Tensor<(usize, usize), f32, Cpu>,
    mut tape: T,
    (mut x_hat, mean, inverse_std): (Scratch, &[f32], &[f32]),
    (weight, bias): (&Param, &Param),
    (input_grad, pool): (bool, Option<Window>),
    input_backward: impl FnOnce(&[f32], &[f32], &ChannelSums, &mut [f32]) + 'static,
) -> Activations<T> {
    let channels = weight.len();
    let normalised = normalise_scale_and_shift(
        &mut x_hat,
        (mean, inverse_std),
        (weight.values(), bias.values()),
    );
    let (output, argmax) = match pool {
        None => (x.device().tensor_from_vec(normalised, *x.shape()), None),
        Some(window) => {
            let shape = pooled_shape(window);
            let mut pooled = vec![0.0; shape.0 * shape.1];
            // Inputs are bounded by MAX_ACTIVATIONS_PER_SAMPLE * batch, far below u32::MAX.
            let mut argmax = vec![0u32; pooled.len()];
            let sources = Some(argmax.as_mut_slice());
            max_pool_forward(&normalised, &mut pooled, sources, window, Floor::Zero);
            (
                x.device().tensor_from_vec(pooled, shape),
                Some((argmax, window)),
            )
        }
    };
    let values_len = x_hat.len();
    if T::OWNS_TAPE {
        let (x_ghost, weight_ghost, bias_ghost, output_ghost) = (
            x.ghost(),
            weight.handle().ghost(),
            bias.handle().ghost(),
            output.ghost(),
        );
        tape.add_backward_op(move |grads| {
            let started = std::time::Instant::now();
            let taken: Vec<f32> = std::mem::take(&mut **grads.get_or_alloc_mut(&output_ghost)?);
            let unpooled;
            let grad_output: &[f32] = match &argmax {
                None => &taken,
                Some((argmax, window)) => {
                    let mut scattered = Scratch::zeroed(values_len);
                    max_pool_backward(argmax, &taken, &mut scattered, *window);
                    unpooled = scattered;
                    &unpooled
                }
            };
            // Summed in f64: the input's gradient subtracts these from n dy, and in f32 the
            // cancellation cost a conv layer's gradient 1e-4 of its size against PyTorch.
            let (dy, dy_x_hat) = column_sums(grad_output, Some(&x_hat), channels);
            let sums = ChannelSums { dy, dy_x_hat };
            for (g, s) in grads
                .get_or_alloc_mut(&bias_ghost)?
                .iter_mut()
                .zip(&sums.dy)
            {
                *g += *s as f32;
            }
            let grad_weight = grads.get_or_alloc_mut(&weight_ghost)?;
            for (g, s) in grad_weight.iter_mut().zip(&sums.dy_x_hat) {
                *g += *s as f32;
            }
            if input_grad {
                let grad_input = grads.get_or_alloc_mut(&x_ghost)?;
                input_backward(grad_output, &x_hat, &sums, grad_input);
            }
            add_elapsed(OpKind::BatchNormBackward, started);
            Ok(())
        });
    }
    output.put_tape(tape)
}

/// The evaluation-mode layer as a per-channel `(scale, shift)`: `y = x * scale + shift`, for
/// the tape-free inference path.
pub(crate) fn folded_scale_and_shift(
    weight: &[f32],
    bias: &[f32],
    (mean, variance): (&[f32], &[f32]),
    eps: f32,
) -> (Vec<f32>, Vec<f32>) {
    let scale: Vec<f32> = weight
        .iter()
        .zip(inverse_std(variance, eps))
        .map(|(g, s)| g * s)
        .collect();
    let shift = bias
        .iter()
        .zip(mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}

/// In one pass: `values` becomes `x̂ = (x - mean) * inverse_std` and the returned output
/// `weight * x̂ + bias`, per channel.
fn normalise_scale_and_shift(
    values: &mut [f32],
    (mean, inverse_std): (&[f32], &[f32]),
    (weight, bias): (&[f32], &[f32]),
) -> Vec<f32> {
    let channels = weight.len();
    let mut output = Vec::with_capacity(values.len());
    let block = block_len(channels);
    output
        .spare_capacity_mut()
        .par_chunks_mut(block)
        .zip(values.par_chunks_mut(block))
        .for_each(|(out, x)| {
            for (out, x) in out
                .chunks_exact_mut(channels)
                .zip(x.chunks_exact_mut(channels))
            {
                let constants = mean.iter().zip(inverse_std).zip(weight.iter().zip(bias));
                for ((out, x), ((mean, inverse_std), (weight, bias))) in
                    out.iter_mut().zip(x).zip(constants)
                {
                    let x_hat = (*x - mean) * inverse_std;
                    *x = x_hat;
                    out.write(x_hat * weight + bias);
                }
            }
        });
    // SAFETY: the loop above wrote every one of the `values.len()` slots (both sides are
    // split into the same blocks of whole rows, and `values.len()` is a multiple of
    // `channels`: the tensor is `(rows, positions * channels)`).
    unsafe { output.set_len(values.len()) };
    output
}

/// Mean and biased variance of each of `channels` interleaved columns of `values` (from
/// `Σx` and `Σx²` gathered in f64, exact enough for f32 data whose mean is not 10⁸
/// deviations away).
fn batch_statistics(values: &[f32], channels: usize) -> BatchStatistics {
    let count = values.len() / channels.max(1);
    let (sum, squares) = column_sums(values, None, channels);
    let n = count.max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    BatchStatistics {
        mean: mean.iter().map(|m| *m as f32).collect(),
        variance: squares
            .iter()
            .zip(&mean)
            .map(|(s, m)| (s / n - m * m).max(0.0) as f32)
            .collect(),
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{assert_all_close, check_gradient, param, pseudo_random};

    /// 6 rows of 2 positions x 2 channels: 12 values per channel.
    fn as_rows<T: Tape<f32, Cpu>>(x: Activations<T>) -> Activations<T> {
        x.reshape_like(&(6, 4))
    }

    #[test]
    fn training_mode_normalises_each_channel_over_rows_and_positions() {
        let dev = Cpu::default();
        let values = pseudo_random(24, 3);
        let (weight, bias) = (param(&[2.0, 0.5], &dev), param(&[1.0, -1.0], &dev));
        let x = dev.tensor_from_vec(values.clone(), (6, 4));
        let (y, statistics) = batch_norm_train(x, &weight, &bias, 1e-5, false);
        let y = y.as_vec();
        for channel in 0..2 {
            let of = |v: &[f32]| {
                v.iter()
                    .skip(channel)
                    .step_by(2)
                    .copied()
                    .collect::<Vec<_>>()
            };
            let (x, y) = (of(&values), of(&y));
            let mean = x.iter().sum::<f32>() / 12.0;
            let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 12.0;
            assert!((statistics.mean[channel] - mean).abs() < 1e-6);
            assert!((statistics.variance[channel] - variance).abs() < 1e-6);
            // weight * x̂ + bias: the output's mean is the bias, its deviation the weight.
            let (g, b) = ([2.0, 0.5][channel], [1.0, -1.0][channel]);
            let y_mean = y.iter().sum::<f32>() / 12.0;
            let y_std = (y.iter().map(|v| (v - y_mean).powi(2)).sum::<f32>() / 12.0).sqrt();
            assert!((y_mean - b).abs() < 1e-5, "{y_mean}");
            assert!((y_std - g).abs() < 1e-3, "{y_std}");
        }
        assert_eq!(statistics.count, 12);
    }

    #[test]
    fn training_mode_gradient_matches_finite_differences() {
        let dev = Cpu::default();
        let (weight, bias) = (param(&[1.5, 0.7], &dev), param(&[0.2, -0.3], &dev));
        check_gradient(24, |x| {
            let (y, _) = batch_norm_train(as_rows(x), &weight, &bias, 1e-5, true);
            y.reshape_like(&(1, 24))
        });
    }

    #[test]
    fn evaluation_mode_gradient_matches_finite_differences_and_the_folded_form() {
        let dev = Cpu::default();
        let (weight, bias) = (param(&[1.5, 0.7], &dev), param(&[0.2, -0.3], &dev));
        let (mean, variance) = ([0.1, -0.4], [0.8, 2.5]);
        check_gradient(24, |x| {
            let y = batch_norm_eval(as_rows(x), &weight, &bias, (&mean, &variance), 1e-5, true);
            y.reshape_like(&(1, 24))
        });
        let values = pseudo_random(24, 5);
        let x = dev.tensor_from_vec(values.clone(), (6, 4));
        let y = batch_norm_eval(x, &weight, &bias, (&mean, &variance), 1e-5, false).as_vec();
        let (scale, shift) =
            folded_scale_and_shift(weight.values(), bias.values(), (&mean, &variance), 1e-5);
        let folded: Vec<f32> = values
            .iter()
            .enumerate()
            .map(|(i, v)| v * scale[i % 2] + shift[i % 2])
            .collect();
        assert_all_close(&y, &folded, 1e-6);
    }

    #[test]
    fn weight_and_bias_gradients_are_the_sums_pytorch_takes() {
        // d bias = Σ dy and d weight = Σ dy x̂, per channel; with dy = 1 everywhere, Σ x̂ = 0
        // in training mode (x̂ has mean 0 over the batch).
        let dev = Cpu::default();
        let (weight, bias) = (param(&[1.0, 1.0], &dev), param(&[0.0, 0.0], &dev));
        let x = dev.tensor_from_vec(pseudo_random(24, 9), (6, 4));
        let (y, _) = batch_norm_train(x.leaky_trace(), &weight, &bias, 1e-5, true);
        let grads = y.sum().backward();
        assert_all_close(&grads.get(bias.handle()).as_vec(), &[12.0, 12.0], 1e-6);
        assert_all_close(&grads.get(weight.handle()).as_vec(), &[0.0, 0.0], 1e-5);
    }

    #[test]
    fn fused_relu_max_pool_matches_batch_norm_then_relu_max_pool() {
        // 3 images of 5x4 pixels, 3 channels, pooled 2x2 (stride 2: a 2x2 output, the last
        // row and column dropped as PyTorch does).
        let dev = Cpu::default();
        let window = crate::ops::testing::window(3, 3, 5, 4, 2, 2, 0);
        let values = pseudo_random(window.input_len(), 21);
        let (weight, bias) = (
            param(&[1.5, -0.7, 0.3], &dev),
            param(&[0.2, -0.3, 0.05], &dev),
        );
        let run = |fused: bool| {
            let x = dev.tensor_from_vec(values.clone(), (3, values.len() / 3));
            let (y, statistics) = if fused {
                batch_norm_relu_max_pool_train(
                    x.leaky_trace(),
                    (&weight, &bias),
                    1e-5,
                    true,
                    window,
                )
            } else {
                let (y, statistics) = batch_norm_train(x.leaky_trace(), &weight, &bias, 1e-5, true);
                (crate::ops::relu_max_pool(y, window), statistics)
            };
            let outputs = y.retaped::<NoneTape>().as_vec();
            let r = dev.tensor_from_vec(pseudo_random(outputs.len(), 22), *y.shape());
            let grads = (y * r).sum().backward();
            let gradients = [
                grads.get(&x).as_vec(),
                grads.get(weight.handle()).as_vec(),
                grads.get(bias.handle()).as_vec(),
            ];
            (outputs, statistics, gradients)
        };
        let (fused, separate) = (run(true), run(false));
        assert_eq!(fused.0.len(), 3 * 2 * 2 * 3);
        assert!(fused.0.contains(&0.0) && fused.0.iter().any(|&v| v > 0.0));
        assert_all_close(&fused.0, &separate.0, 1e-6);
        assert_eq!(fused.1, separate.1);
        for (f, s) in fused.2.iter().zip(&separate.2) {
            assert!(s.iter().any(|&g| g != 0.0));
            assert_all_close(f, s, 1e-6);
        }
    }
}
