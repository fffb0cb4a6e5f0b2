//! Trained parameters as plain data: what export writes, import reads and snapshots carry.

use serde::{Deserialize, Serialize};

/// One parameter tensor named as in PyTorch's `nn.Sequential` state dict ("0.weight").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// All parameters of a model, in stack order (weight before bias).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub tensors: Vec<NamedTensor>,
}

impl Weights {
    pub fn get(&self, name: &str) -> Option<&NamedTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }

    pub fn parameter_count(&self) -> usize {
        self.tensors.iter().map(|t| t.values.len()).sum()
    }
}

/// The parameter tensors a layer at `index` owns, with their PyTorch shapes.
pub fn parameter_names(index: usize) -> [String; 2] {
    [format!("{index}.weight"), format!("{index}.bias")]
}
