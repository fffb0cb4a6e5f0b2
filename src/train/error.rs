//! The errors a run ends with.

use dfdx::prelude::CpuError;

/// Why a run ended without a result.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The stack does not fit the data; the message names the layer, and the task when the
    /// outputs are what does not fit.
    #[error("{error}{task}")]
    InvalidStack {
        error: crate::spec::SpecError,
        /// " (iris is a 3-class classification)", or empty.
        task: String,
    },
    #[error(transparent)]
    InvalidSettings(#[from] crate::config_error::ConfigError),
    #[error("the weights do not fit the layer stack: {0}")]
    WeightsMismatch(crate::model::WeightsMismatch),
    #[error("training diverged: the loss became {loss} at step {step} (epoch {epoch}); {cause}")]
    Diverged {
        step: usize,
        epoch: usize,
        loss: f32,
        /// The setting most likely to blame, as advice.
        cause: String,
    },
    /// The run ended with weights or final metrics that are not numbers (a last step that
    /// blew the weights up, a metric that overflowed): never reported as a result or exported.
    #[error("training ended with {what} at step {step}; {cause}")]
    NotFinite {
        /// "weights that are not numbers (layer 0.weight)", "a test RMSE of inf".
        what: String,
        step: usize,
        cause: String,
    },
    /// A checkpoint's state does not fit the run it was to resume.
    #[error("cannot resume: {0}")]
    Resume(String),
    #[error("learning-rate finder: {0}")]
    LrFind(super::LrFindError),
    #[error("the CPU tensor device failed ({0:?})")]
    Device(CpuError),
    #[error("training was cancelled")]
    Cancelled,
}

// Written out instead of `#[from]`, which would also make the inner error the `source` and
// print its message twice in a cause chain.
impl From<crate::model::WeightsMismatch> for TrainError {
    fn from(error: crate::model::WeightsMismatch) -> Self {
        Self::WeightsMismatch(error)
    }
}

impl From<CpuError> for TrainError {
    fn from(error: CpuError) -> Self {
        Self::Device(error)
    }
}
