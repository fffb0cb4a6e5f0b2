//! What a run is, as recorded: its layer stack, settings, data card, the command that made
//! it, LayerLab's version and the host. Serde data, written once when the run starts.

use serde::{Deserialize, Serialize};

use crate::data::DataCard;
use crate::spec::{Layer, ModelSpec};
use crate::train::TrainConfig;

/// Everything needed to re-run a run, besides the data's files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub stack: ModelSpec,
    pub settings: TrainConfig,
    /// The dataset and its fitted preprocessing.
    pub card: DataCard,
    /// The preset the stack came from, if any.
    pub preset: Option<String>,
    /// The command-line options that chose and prepared the data and settings (paths made
    /// absolute, output options left out), so `runs resume` and `runs fork` load the same
    /// data; empty for runs made in the window.
    pub command: Vec<String>,
    pub version: String,
    pub host: Host,
}

/// The machine a run trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub cpu: String,
    pub threads: usize,
    pub os: String,
    /// Set for a run trained by PyTorch from an export and imported (`runs import`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub torch: Option<TorchHost>,
}

/// Where an imported PyTorch run trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TorchHost {
    /// `torch.__version__`.
    pub version: String,
    /// Processes of the run (`torchrun --nproc_per_node`), 1 without torchrun.
    pub world_size: usize,
    /// "cpu", or the GPU's name.
    pub device: String,
    /// The process group's backend under torchrun (gloo, nccl).
    pub backend: Option<String>,
}

impl TorchHost {
    /// "PyTorch 2.5.1, 2 processes (gloo) on cpu".
    pub fn describe(&self) -> String {
        let processes = match (&self.backend, self.world_size) {
            (Some(backend), n) => format!("{n} processes ({backend})"),
            (None, 1) => "1 process".to_string(),
            (None, n) => format!("{n} processes"),
        };
        format!("PyTorch {}, {processes} on {}", self.version, self.device)
    }
}

impl Host {
    /// A host not read yet ([`super::recording_observer`] reads it on the worker thread).
    pub fn unknown() -> Self {
        Self {
            cpu: String::new(),
            threads: 0,
            os: String::new(),
            torch: None,
        }
    }

    /// This machine: the CPU's model name (Linux's /proc/cpuinfo, else the architecture),
    /// the threads training uses, the operating system.
    pub fn this_machine() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|line| line.strip_prefix("model name"))
                    .and_then(|rest| rest.split_once(':'))
                    .map(|(_, name)| name.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        Self {
            cpu,
            threads: rayon::current_num_threads(),
            os: std::env::consts::OS.to_string(),
            torch: None,
        }
    }
}

/// Where a new run comes from: nothing, or a parent run at a step (a fork).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    pub run: String,
    pub step: usize,
}

/// Where a run's record goes: a new run (a fork when it has a parent), or a stopped or
/// interrupted run continued from its checkpoint at `step`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunTarget {
    New {
        name: Option<String>,
        parent: Option<Parent>,
    },
    Continue {
        id: String,
        step: usize,
    },
}

impl RunTarget {
    /// A new run, unnamed and without a parent.
    pub fn fresh() -> Self {
        Self::New {
            name: None,
            parent: None,
        }
    }
}

/// A short summary of a stack for lists: "Conv32 Pool Conv64 Pool Dense128 Dense10".
pub fn stack_summary(stack: &ModelSpec) -> String {
    stack
        .layers
        .iter()
        .filter_map(|layer| match *layer {
            Layer::Linear { out_features } => Some(format!("Dense{out_features}")),
            Layer::Conv2d { out_channels, .. } => Some(format!("Conv{out_channels}")),
            Layer::MaxPool2d { .. } | Layer::AvgPool2d { .. } => Some("Pool".into()),
            Layer::Dropout { .. } => Some("Drop".into()),
            Layer::BatchNorm1d { .. } | Layer::BatchNorm2d { .. } => Some("BN".into()),
            Layer::Flatten
            | Layer::ReLU
            | Layer::LeakyReLU { .. }
            | Layer::Sigmoid
            | Layer::Tanh
            | Layer::GELU => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_names_the_layers_that_shape_the_model() {
        let stack = ModelSpec::new(vec![
            Layer::Conv2d {
                out_channels: 32,
                kernel_size: 3,
                stride: 1,
                padding: 0,
            },
            Layer::ReLU,
            Layer::MaxPool2d {
                kernel_size: 2,
                stride: None,
            },
            Layer::Flatten,
            Layer::Dropout { p: 0.5 },
            Layer::Linear { out_features: 10 },
        ]);
        assert_eq!(stack_summary(&stack), "Conv32 Pool Drop Dense10");
    }
}
