//! What went wrong when training does not learn or blows up, named from the run's settings.

use crate::optim::OptimizerConfig;
use crate::spec::{Layer, ModelSpec};

use super::TrainConfig;

/// Batches averaged at the start and at the end of a run to judge whether it learned.
const WINDOW: usize = 10;

/// The most likely cause of a diverged or stuck run, as advice: the most extreme setting
/// first (a weight decay of 1e30 is the cause even when the learning rate is high too).
pub fn likely_cause(config: &TrainConfig, spec: &ModelSpec) -> String {
    let optimizer = &config.optimizer;
    let decay = match *optimizer {
        OptimizerConfig::Sgd { weight_decay, .. }
        | OptimizerConfig::Adam { weight_decay, .. }
        | OptimizerConfig::AdamW { weight_decay, .. }
        | OptimizerConfig::RmsProp { weight_decay, .. } => weight_decay,
    };
    if decay > 1.0 {
        return format!("the weight decay {decay:e} is far too large (usual values are 0 to 0.1)");
    }
    if let Some((index, slope)) = spec.layers.iter().enumerate().find_map(|(i, l)| {
        if let Layer::LeakyReLU { negative_slope } = l {
            (negative_slope.abs() > 10.0).then_some((i, *negative_slope))
        } else {
            None
        }
    }) {
        return format!(
            "layer {index} LeakyReLU has a negative slope of {slope:e}, which blows activations up (usual: 0.01)"
        );
    }
    let lr = optimizer.learning_rate();
    let (name, high) = match optimizer {
        OptimizerConfig::Sgd { .. } => ("SGD", 1.0),
        OptimizerConfig::Adam { .. }
        | OptimizerConfig::AdamW { .. }
        | OptimizerConfig::RmsProp { .. } => (optimizer.name(), 0.01),
    };
    if lr > high {
        return format!(
            "the learning rate {lr} is high for {name} (try {})",
            if high >= 1.0 { "0.01-0.1" } else { "1e-3" }
        );
    }
    if lr < 1e-5 {
        return format!(
            "the learning rate {lr:e} is so low that the weights barely move (try 1e-3)"
        );
    }
    if let OptimizerConfig::Sgd { momentum, .. } | OptimizerConfig::RmsProp { momentum, .. } =
        *optimizer
    {
        if momentum >= 0.99 {
            return format!("momentum {momentum} carries updates too far (try 0.9)");
        }
    }
    "check the learning rate (too high makes the loss jump, too low keeps it flat) and the stack"
        .into()
}

/// A warning when the loss at the end of a run is no lower than at its start, or `None` when
/// the run learned (or was too short to judge). `losses` are the batch losses in order, from
/// step `first_step` on: a run resumed or forked from a checkpoint (`first_step > 0`) has not
/// seen its start, and its remaining steps of an already trained model can end a little
/// above where they began (a cnn-bn run resumed for its last 1.5 epochs went from 0.0500 to
/// 0.0575 and was told it "did not learn"), so it is not judged.
pub fn no_learning_warning(
    losses: &[f32],
    first_step: usize,
    config: &TrainConfig,
    spec: &ModelSpec,
) -> Option<String> {
    if first_step > 0 || losses.len() < 2 * WINDOW {
        return None;
    }
    let mean =
        |values: &[f32]| values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64;
    let start = mean(&losses[..WINDOW]);
    let end = mean(&losses[losses.len() - WINDOW..]);
    (end >= start * 0.99).then(|| {
        format!(
            "the model did not learn: the loss went from {start:.4} to {end:.4}; {}",
            likely_cause(config, spec)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(optimizer: &str, lr: f64) -> TrainConfig {
        let mut optimizer = OptimizerConfig::default_for(optimizer).unwrap();
        optimizer.set_learning_rate(lr);
        TrainConfig {
            optimizer,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn the_cause_named_is_the_most_extreme_setting() {
        let plain = ModelSpec::new(vec![Layer::Linear { out_features: 10 }]);
        assert!(
            likely_cause(&config("sgd", 10.0), &plain).contains("learning rate 10 is high for SGD")
        );
        assert!(likely_cause(&config("adam", 0.5), &plain).contains("high for adam"));
        assert!(likely_cause(&config("sgd", 1e-6), &plain).contains("1e-6 is so low"));
        let mut decayed = config("sgd", 10.0);
        if let OptimizerConfig::Sgd { weight_decay, .. } = &mut decayed.optimizer {
            *weight_decay = 1e30;
        }
        assert!(likely_cause(&decayed, &plain).contains("weight decay 1e30"));
        let leaky = ModelSpec::new(vec![
            Layer::Linear { out_features: 8 },
            Layer::LeakyReLU {
                negative_slope: 3e38,
            },
            Layer::Linear { out_features: 10 },
        ]);
        assert!(likely_cause(&config("adam", 1e-3), &leaky).contains("layer 1 LeakyReLU"));
    }

    #[test]
    fn a_flat_loss_is_reported_and_a_falling_one_is_not() {
        let spec = ModelSpec::new(vec![Layer::Linear { out_features: 10 }]);
        let flat = vec![2.3f32; 50];
        let warning = no_learning_warning(&flat, 0, &config("sgd", 10.0), &spec).unwrap();
        assert!(warning.starts_with("the model did not learn: the loss went from 2.3000 to 2.3000"));
        let falling: Vec<f32> = (0..50).map(|i| 2.3 - i as f32 * 0.03).collect();
        assert_eq!(
            no_learning_warning(&falling, 0, &config("sgd", 0.01), &spec),
            None
        );
        assert_eq!(
            no_learning_warning(&flat[..5], 0, &config("sgd", 0.01), &spec),
            None
        );
    }

    #[test]
    fn a_run_resumed_from_a_checkpoint_is_not_judged_on_the_steps_it_saw() {
        let spec = ModelSpec::new(vec![Layer::Linear { out_features: 10 }]);
        // A trained model's last steps: the loss ends a little above where this part began.
        let rising: Vec<f32> = (0..50).map(|i| 0.05 + i as f32 * 0.0002).collect();
        let config = config("adam", 1e-3);
        assert!(no_learning_warning(&rising, 0, &config, &spec).is_some());
        assert_eq!(no_learning_warning(&rising, 800, &config, &spec), None);
    }
}
