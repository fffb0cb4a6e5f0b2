//! One optimizer step on one batch: forward with a tape, loss, backward, update.

use dfdx::prelude::*;

use super::evaluate::batch_loss;
use super::LossKind;
use crate::model::{Mode, Model};
use crate::optim::Optimizer;

/// What one step produced: the batch loss and the model's outputs before the update.
pub struct StepOutcome {
    pub loss: f32,
    pub outputs: Vec<f32>,
}

/// Trains `model` on one batch. `inputs` is `(batch, input_len)` row-major, `targets`
/// `(batch, outputs)`. The update is skipped when the loss is not finite.
pub fn train_step(
    model: &mut Model,
    optimizer: &mut Optimizer,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    loss: LossKind,
) -> Result<StepOutcome, CpuError> {
    super::pool::with_helpers_polling(|| step_on_batch(model, optimizer, inputs, targets, loss))
}

fn step_on_batch(
    model: &mut Model,
    optimizer: &mut Optimizer,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    loss: LossKind,
) -> Result<StepOutcome, CpuError> {
    let device = model.device().clone();
    let batch = inputs.len() / model.input_len();
    let x = device.try_tensor_from_vec(inputs, (batch, model.input_len()))?;
    let outputs = model.forward(x.leaky_trace(), Mode::Train);
    let width = outputs.shape().1;
    let targets = device.try_tensor_from_vec(targets, (batch, width))?;
    let output_values = outputs.retaped::<NoneTape>().as_vec();
    let loss_tensor = batch_loss(outputs, targets, loss);
    let loss_value = loss_tensor.array();
    if loss_value.is_finite() {
        let mut grads = loss_tensor.backward();
        optimizer.step(&mut model.params, &mut grads)?;
    }
    Ok(StepOutcome {
        loss: loss_value,
        outputs: output_values,
    })
}
