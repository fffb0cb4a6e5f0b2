//! im2col: turns every convolution window into a row, so a convolution is one matmul.
//!
//! Images are independent, so both directions run one image per rayon task.

use rayon::prelude::*;

use super::Window;

/// Visits every (output row, kernel offset) pair whose source pixel is inside the image,
/// with the offsets of the `channels` contiguous values in the rows and in the image. With
/// `whole_kernel_rows` (only for stride 1 and no padding: see [`kernel_row_span`]) it visits
/// each kernel row once, at its first offset.
#[inline]
fn for_each_patch(window: Window, whole_kernel_rows: bool, mut visit: impl FnMut(usize, usize)) {
    let Window {
        batch,
        channels,
        height,
        width,
        kernel,
        ..
    } = window;
    let (out_h, out_w) = (window.out_height(), window.out_width());
    let row_len = kernel * kernel * channels;
    for b in 0..batch {
        for oh in 0..out_h {
            for ow in 0..out_w {
                let row = ((b * out_h + oh) * out_w + ow) * row_len;
                for kh in 0..kernel {
                    let Some(ih) = window.source(oh, kh, height) else {
                        continue;
                    };
                    if whole_kernel_rows {
                        visit(
                            row + kh * kernel * channels,
                            ((b * height + ih) * width + ow) * channels,
                        );
                        continue;
                    }
                    for kw in 0..kernel {
                        let Some(iw) = window.source(ow, kw, width) else {
                            continue;
                        };
                        let col = row + (kh * kernel + kw) * channels;
                        let pixel = ((b * height + ih) * width + iw) * channels;
                        visit(col, pixel);
                    }
                }
            }
        }
    }
}

/// With stride 1 and no padding, a kernel row's `kernel * channels` values are contiguous
/// both in the image (channels last, neighbouring pixels) and in the row: one copy instead
/// of `kernel` (the cnn's second im2col made 35,000 128-byte copies per batch).
fn kernel_row_span(window: Window) -> Option<usize> {
    (window.stride == 1 && window.padding == 0).then_some(window.kernel * window.channels)
}

/// Unfolds `(batch, h*w*c)` channels-last images into `(batch*oh*ow, k*k*c)` rows.
///
/// Columns are ordered (kernel row, kernel column, channel), so the matching weight is
/// PyTorch's `[out, in, k, k]` permuted to `[out, k, k, in]`. Padding reads as zero.
pub(crate) fn im2col(input: &[f32], output: &mut [f32], window: Window) {
    let (image, per_input, per_output) = per_image(window);
    let c = window.channels;
    output[..window.batch * per_output]
        .par_chunks_mut(per_output)
        .zip(input.par_chunks(per_input))
        .for_each(|(output, input)| {
            if c < MIN_CHANNELS_TO_COPY {
                unfold_few_channels(input, output, image);
            } else if let Some(span) = kernel_row_span(image) {
                for_each_patch(image, true, |col, pixel| {
                    output[col..col + span].copy_from_slice(&input[pixel..pixel + span]);
                });
            } else {
                for_each_patch(image, false, |col, pixel| {
                    output[col..col + c].copy_from_slice(&input[pixel..pixel + c]);
                });
            }
        });
}

/// Below this many channels a pixel's values are copied one by one: a `copy_from_slice`
/// per pixel becomes a `memcpy` call per value, which made the first conv's im2col (one
/// channel) cost 430 us per batch of 32.
const MIN_CHANNELS_TO_COPY: usize = 4;

/// im2col of one image with few channels, one kernel offset at a time: for each output row
/// and kernel offset, a strided walk along the output columns whose source is in the image.
fn unfold_few_channels(input: &[f32], output: &mut [f32], image: Window) {
    let Window {
        channels: c,
        height,
        width,
        kernel,
        stride,
        padding,
        ..
    } = image;
    let (out_h, out_w) = (image.out_height(), image.out_width());
    let row_len = kernel * kernel * c;
    for oh in 0..out_h {
        let rows = &mut output[oh * out_w * row_len..(oh + 1) * out_w * row_len];
        for kh in 0..kernel {
            let Some(ih) = image.source(oh, kh, height) else {
                continue;
            };
            for kw in 0..kernel {
                let col = (kh * kernel + kw) * c;
                let inside = image.inside(kw, width, out_w);
                let Some(first) = inside.clone().next() else {
                    continue;
                };
                // Source pixel of output column `first`; the next ones are `stride` apart.
                let mut pixel = (ih * width + first * stride + kw - padding) * c;
                for row in rows.chunks_exact_mut(row_len).take(inside.end).skip(first) {
                    if c == 1 {
                        row[col] = input[pixel];
                    } else {
                        row[col..col + c].copy_from_slice(&input[pixel..pixel + c]);
                    }
                    pixel += stride * c;
                }
            }
        }
    }
}

/// One image's window, and the lengths of one image in the input and in the rows.
fn per_image(window: Window) -> (Window, usize, usize) {
    let row_len = window.kernel * window.kernel * window.channels;
    (
        window.one_image(),
        window.image_len(),
        window.out_pixels() * row_len,
    )
}

/// The adjoint of [`im2col`]: adds each row entry back onto the pixel it came from.
pub(crate) fn col2im(grad_output: &[f32], grad_input: &mut [f32], window: Window) {
    let (image, per_input, per_output) = per_image(window);
    let c = window.channels;
    grad_input[..window.batch * per_input]
        .par_chunks_mut(per_input)
        .zip(grad_output.par_chunks(per_output))
        .for_each(|(grad_input, grad_output)| {
            if let Some(span) = kernel_row_span(image) {
                for_each_patch(image, true, |col, pixel| {
                    for (g_in, g_out) in grad_input[pixel..pixel + span]
                        .iter_mut()
                        .zip(&grad_output[col..col + span])
                    {
                        *g_in += g_out;
                    }
                });
                return;
            }
            for_each_patch(image, false, |col, pixel| {
                for (g_in, g_out) in grad_input[pixel..pixel + c]
                    .iter_mut()
                    .zip(&grad_output[col..col + c])
                {
                    *g_in += g_out;
                }
            });
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;
    use dfdx::prelude::*;

    /// A convolution written as nested loops straight from the definition, NCHW weights.
    fn naive_conv(x: &[f32], w: &[f32], window: Window, out_channels: usize) -> Vec<f32> {
        let (oh_n, ow_n) = (window.out_height(), window.out_width());
        let Window {
            batch,
            channels,
            height,
            width,
            kernel,
            ..
        } = window;
        let mut out = vec![0.0; batch * oh_n * ow_n * out_channels];
        for b in 0..batch {
            for oh in 0..oh_n {
                for ow in 0..ow_n {
                    for o in 0..out_channels {
                        let mut sum = 0.0;
                        for c in 0..channels {
                            for kh in 0..kernel {
                                for kw in 0..kernel {
                                    let (Some(ih), Some(iw)) = (
                                        window.source(oh, kh, height),
                                        window.source(ow, kw, width),
                                    ) else {
                                        continue;
                                    };
                                    sum += x[((b * height + ih) * width + iw) * channels + c]
                                        * w[((o * channels + c) * kernel + kh) * kernel + kw];
                                }
                            }
                        }
                        out[((b * oh_n + oh) * ow_n + ow) * out_channels + o] = sum;
                    }
                }
            }
        }
        out
    }

    fn geometries() -> Vec<Window> {
        vec![
            window(1, 1, 5, 5, 3, 1, 0),
            window(2, 3, 6, 5, 3, 2, 1), // stride 2, padding, non-square, batch 2
            window(1, 2, 4, 7, 2, 1, 1),
            window(3, 1, 28, 28, 5, 3, 2),
            // Enough channels for the copying path (the ones above take the per-value one).
            window(2, 5, 7, 6, 3, 2, 1),
            window(1, 8, 5, 5, 3, 1, 0),
            // Stride 1, no padding: whole kernel rows copied at once; batch 2, non-square.
            window(2, 6, 7, 5, 3, 1, 0),
        ]
    }

    #[test]
    fn unfold_then_matmul_equals_naive_convolution() {
        for w in geometries() {
            let out_channels = 4;
            let x = pseudo_random(w.input_len(), 1);
            let weight = pseudo_random(out_channels * w.channels * w.kernel * w.kernel, 2);
            let expected = naive_conv(&x, &weight, w, out_channels);
            let got = conv_via_unfold(&x, &weight, w, out_channels);
            assert_all_close(&got, &expected, 1e-5);
        }
    }

    #[test]
    fn convolution_gradients_match_finite_differences() {
        for w in geometries().into_iter().take(3) {
            let dev = Cpu::default();
            let out_channels = 3;
            let weight = param(
                &pseudo_random(out_channels * w.channels * w.kernel * w.kernel, 4),
                &dev,
            );
            let bias = param(&pseudo_random(out_channels, 5), &dev);
            check_gradient(w.input_len(), |x| {
                crate::ops::conv2d(x, &weight, &bias, w, true)
            });
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x and c.
        for w in geometries() {
            let x = pseudo_random(w.input_len(), 8);
            let rows = w.batch * w.out_height() * w.out_width() * w.kernel * w.kernel * w.channels;
            let c = pseudo_random(rows, 9);
            let mut columns = vec![0.0; rows];
            im2col(&x, &mut columns, w);
            let mut back = vec![0.0; x.len()];
            col2im(&c, &mut back, w);
            let lhs: f64 = columns
                .iter()
                .zip(&c)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum();
            let rhs: f64 = x
                .iter()
                .zip(&back)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum();
            assert!((lhs - rhs).abs() < 1e-3, "{lhs} vs {rhs}");
        }
    }
}
