//! One optimizer step on one batch: forward with a tape, loss, backward, update.

use dfdx::prelude::*;

use super::evaluate::batch_loss;
use super::health::{observe_gradients, LayerHealth};
use super::LossKind;
use crate::model::{DropoutSeed, ForwardOptions, Mode, Model};
use crate::ops::profile::{add_elapsed, timed, OpKind};
use crate::optim::Optimizer;

/// What one step produced: the batch loss and the model's outputs before the update.
pub struct StepOutcome {
    pub loss: f32,
    pub outputs: Vec<f32>,
    /// Each learning layer's norms and update ratio, when the step was asked to observe them
    /// ([`train_step_observed`]).
    pub health: Vec<LayerHealth>,
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
    let options = StepOptions::default();
    train_step_observed(model, optimizer, inputs, targets, loss, options)
}

/// What a step does besides learning.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepOptions {
    /// Also measure each learning layer's gradient and update (training health; costs a
    /// copy of the weights).
    pub observe: bool,
    /// Draw dropout masks from the run's seed and this step (the training loop always does,
    /// so a resumed run draws the same masks); `None` uses the device's generator.
    pub dropout: Option<DropoutSeed>,
}

/// [`train_step`] with [`StepOptions`].
pub fn train_step_observed(
    model: &mut Model,
    optimizer: &mut Optimizer,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    loss: LossKind,
    options: StepOptions,
) -> Result<StepOutcome, CpuError> {
    super::pool::with_helpers_polling(|| {
        step_on_batch(model, optimizer, inputs, targets, loss, options)
    })
}

fn step_on_batch(
    model: &mut Model,
    optimizer: &mut Optimizer,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    loss: LossKind,
    step_options: StepOptions,
) -> Result<StepOutcome, CpuError> {
    let device = model.device().clone();
    let batch = inputs.len() / model.input_len();
    let x = device.try_tensor_from_vec(inputs, (batch, model.input_len()))?;
    let mut options = ForwardOptions {
        dropout: step_options.dropout,
        ..ForwardOptions::default()
    };
    let layers = 0..model.plan.layers.len();
    let outputs = timed(OpKind::Forward, || {
        model.forward_layers(x.leaky_trace(), layers, Mode::Train, &mut options)
    });
    let width = outputs.shape().1;
    let targets = device.try_tensor_from_vec(targets, (batch, width))?;
    let output_values = outputs.retaped::<NoneTape>().as_vec();
    let backward_started = std::time::Instant::now();
    let loss_tensor = batch_loss(outputs, targets, loss);
    let loss_value = loss_tensor.array();
    let mut health = Vec::new();
    if loss_value.is_finite() {
        let mut grads = loss_tensor.backward();
        add_elapsed(OpKind::Backward, backward_started);
        let observed = if step_options.observe {
            observe_gradients(model, &mut grads)?
        } else {
            Vec::new()
        };
        timed(OpKind::Optimizer, || {
            optimizer.step(&mut model.params, &mut grads)
        })?;
        // Batch norm's running statistics follow only the batches that were learned from.
        model.update_running_statistics(&options.batch_statistics);
        health = observed.into_iter().map(|o| o.finish(model)).collect();
    }
    Ok(StepOutcome {
        loss: loss_value,
        outputs: output_values,
        health,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::pseudo_random;
    use crate::optim::OptimizerConfig;
    use crate::spec::{validate, ActivationShape, Layer, ModelSpec};

    #[test]
    fn a_step_moves_batch_norm_running_statistics_and_a_failed_one_does_not() {
        let spec = ModelSpec::new(vec![
            Layer::Linear { out_features: 4 },
            Layer::BatchNorm1d {
                eps: 1e-5,
                momentum: 0.5,
            },
            Layer::Linear { out_features: 2 },
        ]);
        let plan = validate(&spec, ActivationShape::Flat { features: 3 }, 2).unwrap();
        let mut model = Model::initialise(spec, plan, &Cpu::default(), 0);
        let config = OptimizerConfig::default_for("sgd").unwrap();
        let mut optimizer = Optimizer::new(config, &model.params).unwrap();
        let targets = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
        let inputs = pseudo_random(12, 1);
        train_step(
            &mut model,
            &mut optimizer,
            inputs,
            targets.clone(),
            LossKind::CrossEntropy,
        )
        .unwrap();
        let running = model.running[0].clone();
        assert_eq!(running.batches_tracked, 1);
        assert!(running.mean.iter().all(|m| *m != 0.0), "{running:?}");
        assert!(running.variance.iter().all(|v| *v != 1.0), "{running:?}");
        // A batch whose loss is not finite is not learned from, nor followed.
        let mut inputs = pseudo_random(12, 2);
        inputs[0] = f32::NAN;
        train_step(
            &mut model,
            &mut optimizer,
            inputs,
            targets,
            LossKind::CrossEntropy,
        )
        .unwrap();
        assert_eq!(model.running[0], running);
    }
}
