//! The exact (erf) GELU, PyTorch's `nn.GELU()` default.
//!
//! dfdx 0.13 has `accurate_gelu`, but its derivative drops the 1/sqrt(2) factor of the
//! Gaussian term (checked against PyTorch's gradients in tests/torch_parity.rs), so it is
//! supplied here instead.

use dfdx::prelude::*;

use super::{custom_op::unary_op, Activations};

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1 / sqrt(2 pi), the standard normal density's constant.
const FRAC_1_SQRT_2PI: f32 = 0.398_942_3;

/// `0.5 x (1 + erf(x / sqrt 2))` of one value.
#[inline]
pub(crate) fn gelu_value(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * FRAC_1_SQRT_2))
}

/// GELU of every activation, on the tape.
pub fn gelu<T: Tape<f32, Cpu>>(x: Activations<T>) -> Activations<T> {
    let shape = *x.shape();
    unary_op(
        x,
        shape,
        |input, output| {
            for (y, &x) in output.iter_mut().zip(input) {
                *y = gelu_value(x);
            }
            input.to_vec()
        },
        |input, grad_output, grad_input| {
            for ((g_in, &g_out), &x) in grad_input.iter_mut().zip(grad_output).zip(&input) {
                let cdf = 0.5 * (1.0 + libm::erff(x * FRAC_1_SQRT_2));
                let pdf = FRAC_1_SQRT_2PI * (-0.5 * x * x).exp();
                *g_in += g_out * (cdf + x * pdf);
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::*;

    #[test]
    fn gelu_matches_pytorch_values() {
        // torch.nn.functional.gelu(torch.tensor([-3., -1., 0., 0.5, 2.]))
        let y = gelu(activations(&[-3.0, -1.0, 0.0, 0.5, 2.0], 1)).as_vec();
        assert_all_close(
            &y,
            &[-0.0040496, -0.1586553, 0.0, 0.3457312, 1.9544997],
            1e-5,
        );
    }

    #[test]
    fn gelu_gradient_matches_finite_differences() {
        check_gradient(40, gelu);
    }
}
