//! The seed recipes users come from, as ready-made stacks with their training settings.

use super::{Layer, ModelSpec};
use crate::optim::OptimizerConfig;

/// A named starting point: a stack plus the optimizer and batch size it was tuned with.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub spec: ModelSpec,
    pub optimizer: OptimizerConfig,
    pub batch_size: usize,
}

pub const PRESET_NAMES: [&str; 4] = ["mlp", "mlp-deep", "cnn", "cnn-deep"];

/// Looks a preset up by name.
pub fn preset(name: &str) -> Option<Preset> {
    use Layer::*;
    let conv = |out_channels| Conv2d {
        out_channels,
        kernel_size: 3,
        stride: 1,
        padding: 0,
    };
    let pool = || MaxPool2d {
        kernel_size: 2,
        stride: None,
    };
    let linear = |out_features| Linear { out_features };
    let adam = OptimizerConfig::default_for("adam")?;
    let (description, layers, optimizer, batch_size) = match name {
        "mlp" => (
            "MLP 784-128-10, ReLU, SGD lr 0.01, batch 64",
            vec![linear(128), ReLU, linear(10)],
            OptimizerConfig::default_for("sgd")?,
            64,
        ),
        "mlp-deep" => (
            "MLP 784-128-64-10, ReLU, Adam lr 1e-3, batch 32",
            vec![linear(128), ReLU, linear(64), ReLU, linear(10)],
            adam,
            32,
        ),
        "cnn" => (
            "CNN Conv32-Pool-Conv64-Pool-Dense128-10, Adam lr 1e-3, batch 32",
            vec![
                conv(32),
                ReLU,
                pool(),
                conv(64),
                ReLU,
                pool(),
                Flatten,
                linear(128),
                ReLU,
                linear(10),
            ],
            adam,
            32,
        ),
        "cnn-deep" => (
            "CNN Conv32-Pool-Conv64-Pool-Conv64-Dense64-10, Adam lr 1e-3, batch 32",
            vec![
                conv(32),
                ReLU,
                pool(),
                conv(64),
                ReLU,
                pool(),
                conv(64),
                ReLU,
                Flatten,
                linear(64),
                ReLU,
                linear(10),
            ],
            adam,
            32,
        ),
        _ => return None,
    };
    Some(Preset {
        name: PRESET_NAMES.into_iter().find(|n| *n == name)?,
        description,
        spec: ModelSpec::new(layers),
        optimizer,
        batch_size,
    })
}
