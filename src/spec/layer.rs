//! The layer vocabulary and the versioned stack that holds it.

use serde::{Deserialize, Serialize};

/// Version of the JSON layout of [`ModelSpec`]. Bump when a change is not backward compatible.
pub const SPEC_VERSION: u32 = 1;

/// One layer of a stack. Field names follow PyTorch's constructor arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Layer {
    /// Fully connected layer. A multi-dimensional input is flattened first (in PyTorch's
    /// NCHW order), so `Linear` may follow a convolution or the raw image directly.
    Linear {
        out_features: usize,
    },
    /// 2-D convolution with a square kernel.
    Conv2d {
        out_channels: usize,
        kernel_size: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
    },
    /// Max pooling; `stride` defaults to `kernel_size` as in PyTorch.
    MaxPool2d {
        kernel_size: usize,
        #[serde(default)]
        stride: Option<usize>,
    },
    /// Average pooling; `stride` defaults to `kernel_size` as in PyTorch.
    AvgPool2d {
        kernel_size: usize,
        #[serde(default)]
        stride: Option<usize>,
    },
    Flatten,
    ReLU,
    LeakyReLU {
        #[serde(default = "default_negative_slope")]
        negative_slope: f32,
    },
    Sigmoid,
    Tanh,
    /// The exact (erf) GELU, PyTorch's default.
    GELU,
    /// Zeroes each activation with probability `p` while training (inverted dropout).
    Dropout {
        p: f32,
    },
    /// Batch normalisation of flat features (PyTorch's `BatchNorm1d` on `(N, C)`): while
    /// training each feature is normalised with the batch's mean and variance and the
    /// running statistics follow them by `momentum`; in evaluation the running statistics
    /// are used. A learnable scale (`weight`) and shift (`bias`) follow.
    BatchNorm1d {
        #[serde(default = "default_batch_norm_eps")]
        eps: f32,
        #[serde(default = "default_batch_norm_momentum")]
        momentum: f32,
    },
    /// Batch normalisation of each channel of images (PyTorch's `BatchNorm2d`), statistics
    /// over the batch and every pixel.
    BatchNorm2d {
        #[serde(default = "default_batch_norm_eps")]
        eps: f32,
        #[serde(default = "default_batch_norm_momentum")]
        momentum: f32,
    },
}

fn one() -> usize {
    1
}

/// PyTorch's default `eps` of `nn.BatchNorm1d`/`nn.BatchNorm2d`.
pub const DEFAULT_BATCH_NORM_EPS: f32 = 1e-5;
/// PyTorch's default `momentum` of `nn.BatchNorm1d`/`nn.BatchNorm2d`.
pub const DEFAULT_BATCH_NORM_MOMENTUM: f32 = 0.1;

fn default_batch_norm_eps() -> f32 {
    DEFAULT_BATCH_NORM_EPS
}

fn default_batch_norm_momentum() -> f32 {
    DEFAULT_BATCH_NORM_MOMENTUM
}

/// PyTorch's default for `nn.LeakyReLU`.
fn default_negative_slope() -> f32 {
    0.01
}

impl Layer {
    /// The PyTorch class name, used in messages and the layer picker.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Linear { .. } => "Linear",
            Self::Conv2d { .. } => "Conv2d",
            Self::MaxPool2d { .. } => "MaxPool2d",
            Self::AvgPool2d { .. } => "AvgPool2d",
            Self::Flatten => "Flatten",
            Self::ReLU => "ReLU",
            Self::LeakyReLU { .. } => "LeakyReLU",
            Self::Sigmoid => "Sigmoid",
            Self::Tanh => "Tanh",
            Self::GELU => "GELU",
            Self::Dropout { .. } => "Dropout",
            Self::BatchNorm1d { .. } => "BatchNorm1d",
            Self::BatchNorm2d { .. } => "BatchNorm2d",
        }
    }

    /// Whether the layer owns a learnable `weight` and `bias`.
    pub fn has_parameters(&self) -> bool {
        matches!(
            self,
            Self::Linear { .. }
                | Self::Conv2d { .. }
                | Self::BatchNorm1d { .. }
                | Self::BatchNorm2d { .. }
        )
    }

    /// `(eps, momentum)` of a batch-norm layer; `None` for any other.
    pub fn batch_norm(&self) -> Option<(f32, f32)> {
        match *self {
            Self::BatchNorm1d { eps, momentum } | Self::BatchNorm2d { eps, momentum } => {
                Some((eps, momentum))
            }
            Self::Linear { .. }
            | Self::Conv2d { .. }
            | Self::MaxPool2d { .. }
            | Self::AvgPool2d { .. }
            | Self::Flatten
            | Self::ReLU
            | Self::LeakyReLU { .. }
            | Self::Sigmoid
            | Self::Tanh
            | Self::GELU
            | Self::Dropout { .. } => None,
        }
    }

    /// Whether this is `BatchNorm1d` or `BatchNorm2d`: a layer with parameters (one scale and
    /// one shift a channel) and running statistics, but no filters or units of its own.
    pub fn is_batch_norm(&self) -> bool {
        self.batch_norm().is_some()
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Linear { out_features } => write!(f, "Linear({out_features})"),
            Self::Conv2d {
                out_channels,
                kernel_size,
                stride,
                padding,
            } => write!(
                f,
                "Conv2d({out_channels}, k={kernel_size}, s={stride}, p={padding})"
            ),
            Self::MaxPool2d {
                kernel_size,
                stride,
            } => write!(
                f,
                "MaxPool2d(k={kernel_size}, s={})",
                stride.unwrap_or(*kernel_size)
            ),
            Self::AvgPool2d {
                kernel_size,
                stride,
            } => write!(
                f,
                "AvgPool2d(k={kernel_size}, s={})",
                stride.unwrap_or(*kernel_size)
            ),
            Self::LeakyReLU { negative_slope } => write!(f, "LeakyReLU({negative_slope})"),
            Self::Dropout { p } => write!(f, "Dropout({p})"),
            Self::BatchNorm1d { eps, momentum } | Self::BatchNorm2d { eps, momentum }
                if *eps == DEFAULT_BATCH_NORM_EPS && *momentum == DEFAULT_BATCH_NORM_MOMENTUM =>
            {
                f.write_str(self.kind_name())
            }
            Self::BatchNorm1d { eps, momentum } | Self::BatchNorm2d { eps, momentum } => {
                write!(f, "{}(eps={eps}, momentum={momentum})", self.kind_name())
            }
            other @ (Self::Flatten | Self::ReLU | Self::Sigmoid | Self::Tanh | Self::GELU) => {
                f.write_str(other.kind_name())
            }
        }
    }
}

/// A layer stack: the whole model architecture, independent of any dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    pub version: u32,
    pub layers: Vec<Layer>,
}

/// Why JSON is not a layer stack this build reads.
#[derive(Debug, thiserror::Error)]
pub enum StackJsonError {
    #[error("not a valid layer stack: {0}")]
    Invalid(serde_json::Error),
    #[error("layer stack version {0} is not supported (this build reads version {SPEC_VERSION})")]
    Version(u32),
}

impl ModelSpec {
    pub fn new(layers: Vec<Layer>) -> Self {
        Self {
            version: SPEC_VERSION,
            layers,
        }
    }

    /// Parses a spec from JSON, refusing versions this build does not know.
    pub fn from_json(json: &str) -> Result<Self, StackJsonError> {
        let spec: Self = serde_json::from_str(json).map_err(StackJsonError::Invalid)?;
        if spec.version != SPEC_VERSION {
            return Err(StackJsonError::Version(spec.version));
        }
        Ok(spec)
    }

    pub fn to_json_pretty(&self) -> String {
        // Serialising plain enums and integers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
