//! Max and average pooling over channels-last images (no padding, PyTorch's floor rule).

use dfdx::prelude::*;

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
            let mut argmax = vec![0u32; output.len()];
            for_each_window(window, |out_index, sources| {
                let mut best_index = sources[0];
                let mut best = input[best_index];
                for &i in &sources[1..] {
                    let v = input[i];
                    if v > best || v.is_nan() {
                        best = v;
                        best_index = i;
                        if v.is_nan() {
                            break;
                        }
                    }
                }
                output[out_index] = best;
                // Inputs are bounded by MAX_ACTIVATIONS_PER_SAMPLE * batch, far below u32::MAX.
                argmax[out_index] = best_index as u32;
            });
            argmax
        },
        |argmax, grad_output, grad_input| {
            for (&source, &g) in argmax.iter().zip(grad_output) {
                grad_input[source as usize] += g;
            }
        },
    )
}

/// Average pooling: every window's mean, the gradient shared equally.
pub fn avg_pool<T: Tape<f32, Cpu>>(x: Activations<T>, window: Window) -> Activations<T> {
    let output_shape = pooled_shape(window);
    let scale = 1.0 / (window.kernel * window.kernel) as f32;
    unary_op(
        x,
        output_shape,
        move |input, output| {
            for_each_window(window, |out_index, sources| {
                output[out_index] = sources.iter().map(|&i| input[i]).sum::<f32>() * scale;
            });
        },
        move |(), grad_output, grad_input| {
            for_each_window(window, |out_index, sources| {
                let g = grad_output[out_index] * scale;
                for &i in sources {
                    grad_input[i] += g;
                }
            });
        },
    )
}

fn pooled_shape(window: Window) -> (usize, usize) {
    (
        window.batch,
        window.out_height() * window.out_width() * window.channels,
    )
}

/// Calls `visit(output index, input indices of the window in row-major order)` for each output.
fn for_each_window(window: Window, mut visit: impl FnMut(usize, &[usize])) {
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
    let mut sources = Vec::with_capacity(kernel * kernel);
    for b in 0..batch {
        for oh in 0..out_h {
            for ow in 0..out_w {
                for c in 0..channels {
                    sources.clear();
                    for kh in 0..kernel {
                        for kw in 0..kernel {
                            let (ih, iw) = (oh * stride + kh, ow * stride + kw);
                            sources.push(((b * height + ih) * width + iw) * channels + c);
                        }
                    }
                    let out_index = ((b * out_h + oh) * out_w + ow) * channels + c;
                    visit(out_index, &sources);
                }
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
    fn pooling_gradients_match_finite_differences() {
        for w in [
            window(1, 2, 4, 6, 2, 2, 0),
            window(1, 3, 5, 5, 3, 1, 0),
            window(1, 1, 7, 5, 3, 2, 0),
        ] {
            check_gradient(w.input_len(), |x| max_pool(x, w));
            check_gradient(w.input_len(), |x| avg_pool(x, w));
        }
    }
}
