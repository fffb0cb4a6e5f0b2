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

    /// Learned values, as PyTorch counts them: batch-norm running statistics are buffers.
    pub fn parameter_count(&self) -> usize {
        self.tensors
            .iter()
            .filter(|t| !is_running_statistic(&t.name))
            .map(|t| t.values.len())
            .sum()
    }

    /// Why a model's outputs overflowed, as a sentence: the tensor holding the largest
    /// magnitude ("tensor 0.weight holds values up to 3.0e38"). Used when an output is not a
    /// finite number, so the message names a cause instead of printing NaN.
    pub fn overflow_cause(&self) -> String {
        let largest = self
            .tensors
            .iter()
            .map(|t| {
                let max = t.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                (t.name.as_str(), max)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match largest {
            Some((name, max)) if max > 1e6 => {
                format!("tensor {name} holds values up to {max:.1e}, which overflow f32 arithmetic")
            }
            _ => "its weights are finite and moderate, so the input itself is extreme".into(),
        }
    }
}

/// The parameter tensors a layer at `index` owns, with their PyTorch shapes.
pub fn parameter_names(index: usize) -> [String; 2] {
    [format!("{index}.weight"), format!("{index}.bias")]
}

/// PyTorch's names of a batch norm's buffers (state that is not learned), after `N.`; the
/// last, the count of batches seen, is an int64 scalar in a state dict.
const RUNNING_STATISTICS: [&str; 3] = ["running_mean", "running_var", "num_batches_tracked"];

/// Whether `name` is a batch-norm buffer rather than a learned tensor.
pub fn is_running_statistic(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, kind)| RUNNING_STATISTICS.contains(&kind))
}

/// Whether `name` is a batch norm's count of batches seen (`N.num_batches_tracked`).
pub fn is_batches_tracked(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, kind)| kind == RUNNING_STATISTICS[2])
}

/// The buffers of a batch-norm layer at `index`, under PyTorch's names.
pub fn running_statistics_names(index: usize) -> [String; 3] {
    RUNNING_STATISTICS.map(|kind| format!("{index}.{kind}"))
}
