//! The shape of the activations between two layers, for one sample.

use serde::{Deserialize, Serialize};

/// Per-sample activation shape. Images are `Spatial`; after `Flatten` or `Linear`, `Flat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationShape {
    Spatial {
        channels: usize,
        height: usize,
        width: usize,
    },
    Flat {
        features: usize,
    },
}

impl ActivationShape {
    pub fn image(channels: usize, height: usize, width: usize) -> Self {
        Self::Spatial {
            channels,
            height,
            width,
        }
    }

    /// Number of values per sample, `None` when it does not fit in a `usize`.
    pub fn checked_numel(&self) -> Option<usize> {
        match *self {
            Self::Spatial {
                channels,
                height,
                width,
            } => channels.checked_mul(height)?.checked_mul(width),
            Self::Flat { features } => Some(features),
        }
    }

    /// Number of values per sample.
    pub fn numel(&self) -> usize {
        match *self {
            Self::Spatial {
                channels,
                height,
                width,
            } => channels * height * width,
            Self::Flat { features } => features,
        }
    }
}

impl std::fmt::Display for ActivationShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spatial {
                channels,
                height,
                width,
            } => write!(f, "{channels}x{height}x{width}"),
            Self::Flat { features } => write!(f, "{features}"),
        }
    }
}
