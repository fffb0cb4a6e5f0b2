//! Max and average pooling over channels-last images (no padding, PyTorch's floor rule).

use dfdx::prelude::*;
use rayon::prelude::*;

use super::profile::{add_elapsed, timed, OpKind};
use super::{custom_op::unary_op, Activations, Window};

/// Max pooling. The gradient goes to the first maximum of each window, as in PyTorch: MNIST's
/// flat background makes exact ties common, and splitting the gradient among them drifts
/// training away from PyTorch. A NaN wins its window, again as in PyTorch.
pub fn max_pool<T: Tape<f32, Cpu>>(x: Activations<T>, window: Window) -> Activations<T> {
    max_pool_op(x, window, Floor::None)
}

/// `relu(max_pool(x))`, which equals `max_pool(relu(x))`, in one pass over the input.
///
/// The gradients agree with PyTorch's ReLU-then-MaxPool2d too: a window whose maximum is
/// positive sends its gradient to the first maximum, as above; a window with no positive
/// value sends none (PyTorch sends it to a zero of the ReLU, whose derivative there is 0).
/// Saves the ReLU's own pass, tensor and gradient over the larger, unpooled activations.
pub fn relu_max_pool<T: Tape<f32, Cpu>>(x: Activations<T>, window: Window) -> Activations<T> {
    max_pool_op(x, window, Floor::Zero)
}

/// Where a max-pool window starts: at its first value, or at zero (a fused ReLU).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Floor {
    None,
    Zero,
}

/// The argmax of a window whose output is the ReLU's zero: no input gets its gradient.
const NO_SOURCE: u32 = u32::MAX;

fn max_pool_op<T: Tape<f32, Cpu>>(
    x: Activations<T>,
    window: Window,
    floor: Floor,
) -> Activations<T> {
    let output_shape = pooled_shape(window);
    unary_op(
        x,
        output_shape,
        move |input, output| {
            timed(OpKind::PoolForward, || {
                // Inputs are bounded by MAX_ACTIVATIONS_PER_SAMPLE * batch, far below u32::MAX.
                let mut argmax = vec![0u32; output.len()];
                max_pool_forward(input, output, Some(&mut argmax), window, floor);
                argmax
            })
        },
        move |argmax, grad_output, grad_input| {
            let started = std::time::Instant::now();
            max_pool_backward(&argmax, grad_output, grad_input, window);
            add_elapsed(OpKind::PoolBackward, started);
        },
    )
}

/// Adds each pooled output's gradient to the input its `argmax` names (none for a window
/// a fused ReLU zeroed). Each image's gradient lands inside that image: one rayon task per
/// image.
pub(crate) fn max_pool_backward(
    argmax: &[u32],
    grad_output: &[f32],
    grad_input: &mut [f32],
    window: Window,
) {
    let (per_input, per_output) = image_lengths(window);
    grad_input
        .par_chunks_mut(per_input)
        .zip(
            argmax
                .par_chunks(per_output)
                .zip(grad_output.par_chunks(per_output)),
        )
        .enumerate()
        .for_each(|(b, (grad_input, (argmax, grad_output)))| {
            let base = b * per_input;
            for (&source, &g) in argmax.iter().zip(grad_output) {
                if source != NO_SOURCE {
                    grad_input[source as usize - base] += g;
                }
            }
        });
}

/// The max-pool kernel: fills `output` and, when given, the index (into the whole batch) of
/// each output's source. One rayon task per image.
pub(crate) fn max_pool_forward(
    input: &[f32],
    output: &mut [f32],
    argmax: Option<&mut [u32]>,
    window: Window,
    floor: Floor,
) {
    let (per_input, per_output) = image_lengths(window);
    let image = window.one_image();
    let inputs = input.par_chunks(per_input);
    match argmax {
        Some(argmax) => output
            .par_chunks_mut(per_output)
            .zip(argmax.par_chunks_mut(per_output))
            .zip(inputs)
            .enumerate()
            .for_each(|(b, ((output, argmax), input))| {
                max_pool_image(input, output, argmax, image, b * per_input, floor)
            }),
        None => output
            .par_chunks_mut(per_output)
            .zip(inputs)
            .for_each(|(output, input)| max_pool_image_values(input, output, image, floor)),
    }
}

/// Values per image in the input and in the pooled output.
fn image_lengths(window: Window) -> (usize, usize) {
    (window.image_len(), window.out_pixels() * window.channels)
}

/// Whether `v` replaces the current maximum `best`: strictly greater keeps the first maximum;
/// a NaN wins unless one already did. A select, not a branch, so the loops vectorise.
#[inline(always)]
fn replaces(v: f32, best: f32) -> bool {
    (v > best) | (v.is_nan() & !best.is_nan())
}

/// One image; `base` is the image's offset in the batch, added to the recorded sources.
fn max_pool_image(
    input: &[f32],
    output: &mut [f32],
    argmax: &mut [u32],
    image: Window,
    base: usize,
    floor: Floor,
) {
    let c = image.channels;
    for_each_window(image, |out_offset, first_offset, offsets| {
        let best = &mut output[out_offset..out_offset + c];
        let best_at = &mut argmax[out_offset..out_offset + c];
        // Without a floor the first pixel starts the search; with one, zero does and the
        // first pixel is compared like the others.
        let first_compared = match floor {
            Floor::None => {
                best.copy_from_slice(&input[first_offset..first_offset + c]);
                for (i, at) in best_at.iter_mut().enumerate() {
                    *at = (base + first_offset + i) as u32;
                }
                None
            }
            Floor::Zero => {
                best.fill(0.0);
                best_at.fill(NO_SOURCE);
                Some(first_offset)
            }
        };
        for offset in first_compared.into_iter().chain(offsets.iter().copied()) {
            take_larger(best, best_at, &input[offset..offset + c], base + offset);
        }
    });
}

/// Replaces each `best` by its `candidates` value where [`replaces`] says so, recording the
/// candidate's batch index (`first_source` + channel) in `best_at`.
#[inline]
fn take_larger(best: &mut [f32], best_at: &mut [u32], candidates: &[f32], first_source: usize) {
    let first_source = first_source as u32;
    for (i, ((b, at), &v)) in best
        .iter_mut()
        .zip(best_at.iter_mut())
        .zip(candidates)
        .enumerate()
    {
        // Bit masks rather than `if`: LLVM keeps an `if` here as a branch per value, 15x
        // slower than this vectorised form (measured on the cnn's first pooling layer).
        let mask = 0u32.wrapping_sub(u32::from(replaces(v, *b)));
        *b = f32::from_bits((v.to_bits() & mask) | (b.to_bits() & !mask));
        *at = ((first_source + i as u32) & mask) | (*at & !mask);
    }
}

/// One image, values only (inference).
fn max_pool_image_values(input: &[f32], output: &mut [f32], image: Window, floor: Floor) {
    let c = image.channels;
    for_each_window(image, |out_offset, first_offset, offsets| {
        let best = &mut output[out_offset..out_offset + c];
        let first_compared = match floor {
            Floor::None => {
                best.copy_from_slice(&input[first_offset..first_offset + c]);
                None
            }
            Floor::Zero => {
                best.fill(0.0);
                Some(first_offset)
            }
        };
        for offset in first_compared.into_iter().chain(offsets.iter().copied()) {
            for (b, &v) in best.iter_mut().zip(&input[offset..offset + c]) {
                *b = if replaces(v, *b) { v } else { *b };
            }
        }
    });
}

/// Average pooling: every window's mean, the gradient shared equally.
pub fn avg_pool<T: Tape<f32, Cpu>>(x: Activations<T>, window: Window) -> Activations<T> {
    let output_shape = pooled_shape(window);
    let scale = 1.0 / (window.kernel * window.kernel) as f32;
    let c = window.channels;
    unary_op(
        x,
        output_shape,
        move |input, output| avg_pool_forward(input, output, window),
        move |(), grad_output, grad_input| {
            for_each_window(window, |out_offset, first_offset, offsets| {
                let g = &grad_output[out_offset..out_offset + c];
                for offset in std::iter::once(first_offset).chain(offsets.iter().copied()) {
                    for (gi, go) in grad_input[offset..offset + c].iter_mut().zip(g) {
                        *gi += go * scale;
                    }
                }
            });
        },
    )
}

/// The average-pool kernel.
pub(crate) fn avg_pool_forward(input: &[f32], output: &mut [f32], window: Window) {
    let scale = 1.0 / (window.kernel * window.kernel) as f32;
    let c = window.channels;
    for_each_window(window, |out_offset, first_offset, offsets| {
        let sum = &mut output[out_offset..out_offset + c];
        sum.copy_from_slice(&input[first_offset..first_offset + c]);
        for &offset in offsets {
            for (s, v) in sum.iter_mut().zip(&input[offset..offset + c]) {
                *s += v;
            }
        }
        for s in sum.iter_mut() {
            *s *= scale;
        }
    });
}

pub(crate) fn pooled_shape(window: Window) -> (usize, usize) {
    (window.batch, image_lengths(window).1)
}

/// For each output pixel, calls `visit(output offset, offset of the window's first pixel,
/// offsets of its other pixels)`, all pointing at `channels` contiguous values (NHWC), the
/// window in row-major order.
fn for_each_window(window: Window, mut visit: impl FnMut(usize, usize, &[usize])) {
    let Window {
        batch,
        channels,
        height,
        width,
        kernel,
        stride,
        ..
    } = window;
    let (out_h, out_w) = (window.out_height(), window.out_width());
    let mut offsets = Vec::with_capacity(kernel * kernel);
    for b in 0..batch {
        for oh in 0..out_h {
            for ow in 0..out_w {
                offsets.clear();
                for kh in 0..kernel {
                    for kw in 0..kernel {
                        let (ih, iw) = (oh * stride + kh, ow * stride + kw);
                        offsets.push(((b * height + ih) * width + iw) * channels);
                    }
                }
                let out_offset = ((b * out_h + oh) * out_w + ow) * channels;
                visit(out_offset, offsets[0], &offsets[1..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn max_pool_picks_the_window_maximum() {
        // One 4x4 single-channel image, 2x2 windows.
        let x = [
            1., 2., 5., 6., //
            3., 4., 7., 8., //
            -1., -2., 0., 0., //
            -3., -4., 0., 0.,
        ];
        let y = max_pool(activations(&x, 1), window(1, 1, 4, 4, 2, 2, 0));
        assert_eq!(y.as_vec(), [4., 8., -1., 0.]);
        let y = avg_pool(activations(&x, 1), window(1, 1, 4, 4, 2, 2, 0));
        assert_eq!(y.as_vec(), [2.5, 6.5, -2.5, 0.]);
    }

    #[test]
    fn max_pool_sends_tied_gradient_to_the_first_maximum_only() {
        let x = [0.0f32; 4];
        let dev = Cpu::default();
        let x = dev.tensor_from_vec(x.to_vec(), (1, 4));
        let y = max_pool(x.leaky_trace(), window(1, 1, 2, 2, 2, 2, 0));
        let grads = y.sum().backward();
        assert_eq!(grads.get(&x).as_vec(), [1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn a_nan_wins_its_window_like_pytorch() {
        let x = [1.0, f32::NAN, 3.0, 2.0];
        let y = max_pool(activations(&x, 1), window(1, 1, 2, 2, 2, 2, 0)).as_vec();
        assert!(y[0].is_nan());
    }

    #[test]
    fn relu_max_pool_equals_relu_then_max_pool_including_ties_and_zeros() {
        // Values on a coarse grid: exact ties, exact zeros and all-negative windows are common.
        for w in [window(2, 3, 6, 5, 2, 2, 0), window(1, 2, 7, 7, 3, 2, 0)] {
            let x: Vec<f32> = pseudo_random(w.input_len(), 5)
                .iter()
                .map(|v| (v * 3.0).round() / 2.0 - 1.0)
                .collect();
            let dev = Cpu::default();
            let x = dev.tensor_from_vec(x, (w.batch, w.image_len()));
            let run = |fused: bool| {
                let y = if fused {
                    relu_max_pool(x.leaky_trace(), w)
                } else {
                    max_pool(x.leaky_trace().relu(), w)
                };
                let r = dev.tensor_from_vec(pseudo_random(y.shape().num_elements(), 9), *y.shape());
                let values = y.retaped::<NoneTape>().as_vec();
                let grads = (y * r).sum().backward();
                (values, grads.get(&x).as_vec())
            };
            let (fused, reference) = (run(true), run(false));
            assert_eq!(fused.0, reference.0);
            assert_eq!(fused.1, reference.1);
            assert!(
                reference.0.contains(&0.0),
                "the data should have empty windows"
            );
            assert!(
                reference.0.iter().any(|&v| v > 0.0),
                "and windows with a maximum"
            );
        }
    }

    #[test]
    fn relu_max_pool_propagates_nan_like_pytorch() {
        let x = [-1.0, f32::NAN, -3.0, -2.0];
        let y = relu_max_pool(activations(&x, 1), window(1, 1, 2, 2, 2, 2, 0)).as_vec();
        assert!(y[0].is_nan());
    }

    #[test]
    fn pooling_gradients_match_finite_differences() {
        for w in [
            window(3, 2, 4, 4, 2, 2, 0), // a batch: per-image tasks and source offsets
            window(1, 2, 4, 6, 2, 2, 0),
            window(1, 3, 5, 5, 3, 1, 0),
            window(1, 1, 7, 5, 3, 2, 0),
        ] {
            check_gradient(w.input_len(), |x| max_pool(x, w));
            check_gradient(w.input_len(), |x| avg_pool(x, w));
            check_gradient(w.input_len(), |x| relu_max_pool(x, w));
        }
    }
}
