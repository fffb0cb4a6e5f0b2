//! Looking inside a model: every layer's activations for one input, and which parts of the
//! input a prediction rests on (gradient x input, occlusion, Grad-CAM), with the sanity check
//! of Adebayo et al. (2018): the same map for a copy of the model with random weights.
//!
//! Everything here runs on a model of its own (a snapshot), never on the training worker's;
//! the tape-free parts use dfdx with `NoneTape`, the gradients dfdx's own tape.

mod activations;
mod exciting;
mod explanation;
pub mod picture;
mod saliency;

pub use activations::{activations, LayerActivation};
pub use exciting::{most_exciting, EXCITING_SAMPLE, EXCITING_TOP};
pub use explanation::{filters, ExplainTimings, Explanation, Filters, MAX_TEMPLATES};
pub use saliency::{
    correlation, grad_cam, gradient_times_input, input_gradient, occlusion, randomised_copy,
    Occlusion, SpatialMap,
};

/// Why an explanation cannot be made for this input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("the model takes {expected} input values, not {found}")]
    WrongInputLength { expected: usize, found: usize },
    #[error("class {class} is not one of the model's {classes} outputs")]
    NoSuchClass { class: usize, classes: usize },
    #[error("the model has no convolution with a spatial output for Grad-CAM")]
    NoSpatialLayer,
    #[error("the computation failed: {0}")]
    Failed(String),
}

/// One sample as a `(1, input_len)` tensor on the model's device, its length checked first.
fn one_sample(
    model: &crate::model::Model,
    input: &[f32],
) -> Result<dfdx::prelude::Tensor<(usize, usize), f32, dfdx::prelude::Cpu>, ExplainError> {
    use dfdx::prelude::TensorFromVec;
    if input.len() != model.input_len() {
        return Err(ExplainError::WrongInputLength {
            expected: model.input_len(),
            found: input.len(),
        });
    }
    model
        .device()
        .try_tensor_from_vec(input.to_vec(), (1, input.len()))
        .map_err(|e| ExplainError::Failed(format!("{e:?}")))
}
