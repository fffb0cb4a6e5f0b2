//! Datasets: the shipped MNIST files, checked on load, and mini-batches cut from them.
//!
//! Pixels stay `u8` in memory (47 MB for MNIST instead of 188 MB as f32) and are scaled to
//! [0, 1] only when a batch is assembled, as `torchvision.transforms.ToTensor` does.

mod batches;
mod idx;
mod mnist;

pub use batches::{fill_batch, one_hot, shuffled_indices};
pub use idx::{parse_idx, read_idx, IdxArray};
pub use mnist::{default_mnist_dir, Dataset, ImageSet, MNIST_CLASSES, MNIST_INPUT};

/// Why data could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("{images} and {labels} do not belong together: {reason}")]
    Mismatch {
        images: String,
        labels: String,
        reason: String,
    },
}
