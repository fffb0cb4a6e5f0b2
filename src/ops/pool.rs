//! Max and average pooling over channels-last images (no padding, PyTorch's floor rule).

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{custom_op::unary_op, Activations, Window};

/// Max pooling. The gradient goes to the first maximum of each window, as in PyTorch: MNIST's
/// flat background makes exact ties common, and splitting the gradient among them drifts
/// training away from PyTorch. A NaN wins its window, again as in PyTorch.
pub fn max_pool<T: Tape<f32, Cpu>>(x: Activations<T>, window: Window) -> Activations<T> {
    let output_shape = pooled_shape(window);
    unary_op(
        x,
        output_shape,
        move |input, output| {
            // Inputs are bounded by MAX_ACTIVATIONS_PER_SAMPLE * batch, far below u32::MAX.
            let mut argmax = vec![0u32; output.len()];
            max_pool_forward(input, output, Some(&mut argmax), window);
            argmax
        },
        move |argmax, grad_output, grad_input| {
            // Each image's gradient lands inside that image: one rayon task per image.
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
                        grad_input[source as usize - base] += g;
                    }
                });
        },
    )
}

/// The max-pool kernel: fills `output` and, when given, the index (into the whole batch) of
/// each output's source. One rayon task per image.
pub(crate) fn max_pool_forward(
    input: &[f32],
    output: &mut [f32],
    argmax: Option<&mut [u32]>,
    window: Window,
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
                max_pool_image(input, output, argmax, image, b * per_input)
            }),
        None => output
            .par_chunks_mut(per_output)
            .zip(inputs)
            .for_each(|(output, input)| max_pool_image_values(input, output, image)),
    }
}

/// Values per image in the input and in the pooled output.
fn image_lengths(window: Window) -> (usize, usize) {
    (window.image_len(), window.out_pixels() * window.channels)
}

/// One image; `base` is the image's offset in the batch, added to the recorded sources.
fn max_pool_image(
    input: &[f32],
    output: &mut [f32],
    argmax: &mut [u32],
    image: Window,
    base: usize,
) {
    let c = image.channels;
    for_each_window(image, |out_offset, first_offset, offsets| {
        let best = &mut output[out_offset..out_offset + c];
        let best_at = &mut argmax[out_offset..out_offset + c];
        best.copy_from_slice(&input[first_offset..first_offset + c]);
        for (i, at) in best_at.iter_mut().enumerate() {
            *at = (base + first_offset + i) as u32;
        }
        for &offset in offsets {
            let candidates = &input[offset..offset + c];
            for (i, ((b, at), &v)) in best
                .iter_mut()
                .zip(best_at.iter_mut())
                .zip(candidates)
                .enumerate()
            {
                // Strictly greater keeps the first maximum; a NaN wins unless one already did.
                // Written as selects, not branches, so the loop vectorises.
                let take = (v > *b) | (v.is_nan() & !b.is_nan());
                *b = if take { v } else { *b };
                *at = if take {
                    (base + offset + i) as u32
                } else {
                    *at
                };
            }
        }
    });
}

/// One image, values only (inference).
fn max_pool_image_values(input: &[f32], output: &mut [f32], image: Window) {
    let c = image.channels;
    for_each_window(image, |out_offset, first_offset, offsets| {
        let best = &mut output[out_offset..out_offset + c];
        best.copy_from_slice(&input[first_offset..first_offset + c]);
        for &offset in offsets {
            for (b, &v) in best.iter_mut().zip(&input[offset..offset + c]) {
                let take = (v > *b) | (v.is_nan() & !b.is_nan());
                *b = if take { v } else { *b };
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

fn pooled_shape(window: Window) -> (usize, usize) {
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
    fn pooling_gradients_match_finite_differences() {
        for w in [
            window(3, 2, 4, 4, 2, 2, 0), // a batch: per-image tasks and source offsets
            window(1, 2, 4, 6, 2, 2, 0),
            window(1, 3, 5, 5, 3, 1, 0),
            window(1, 1, 7, 5, 3, 2, 0),
        ] {
            check_gradient(w.input_len(), |x| max_pool(x, w));
            check_gradient(w.input_len(), |x| avg_pool(x, w));
        }
    }
}
