//! One place that knows how to put a hand-written CPU kernel on dfdx's tape.

use dfdx::prelude::*;

use super::scratch::Scratch;
use super::Activations;

/// Runs `forward` on the input's values and records `backward` on the tape.
///
/// `forward` fills the output and returns whatever `backward` needs later (argmax indices,
/// say). `backward` receives that, the output's gradient and the input's gradient to add to.
/// The input must be contiguous (every tensor the model feeds here is).
pub(crate) fn unary_op<T, C>(
    input: Activations<T>,
    output_shape: (usize, usize),
    forward: impl FnOnce(&[f32], &mut [f32]) -> C,
    backward: impl FnOnce(C, &[f32], &mut [f32]) + 'static,
) -> Activations<T>
where
    T: Tape<f32, Cpu>,
    C: 'static,
{
    let (input, mut tape) = input.split_tape();
    let input_values = Scratch::copy_of(&input);
    let mut output_values = vec![0.0f32; output_shape.0 * output_shape.1];
    let context = forward(&input_values, &mut output_values);
    let output = input.device().tensor_from_vec(output_values, output_shape);
    if T::OWNS_TAPE {
        let input_ghost = input.ghost();
        let output_ghost = output.ghost();
        tape.add_backward_op(move |grads| {
            // The output's gradient is complete once its producer runs, and nothing reads it
            // after: take it instead of copying.
            let grad_output: Vec<f32> =
                std::mem::take(&mut **grads.get_or_alloc_mut(&output_ghost)?);
            let grad_input = grads.get_or_alloc_mut(&input_ghost)?;
            backward(context, &grad_output, grad_input);
            Ok(())
        });
    }
    output.put_tape(tape)
}
