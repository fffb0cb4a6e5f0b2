//! Datasets: built-in and imported data, each describing its task and carrying the
//! preprocessing fitted on its training split, and mini-batches cut from them.
//!
//! Image pixels stay `u8` in memory (47 MB for MNIST instead of 188 MB as f32) and are scaled
//! to [0, 1] only when a batch is assembled, as `torchvision.transforms.ToTensor` does. Tables
//! are stored preprocessed (standardised, one-hot); text as sparse bags of words.

mod augment;
mod batches;
mod builtin;
mod dataset;
mod folder;
mod idx;
mod image_folder;
mod images;
mod preprocessing;
mod progress;
mod raw_input;
mod raw_table;
mod table;
mod text;
mod toys;

use std::path::PathBuf;

pub use augment::{
    draw_rectangle, erase, preview_grid, preview_images, warp, Affine, AugmentError, Augmentation,
    ImageShape, Rectangle, SampleDraw, AUGMENT_KEYS,
};
pub use batches::shuffled_indices;
pub use builtin::{
    asset_dir_candidates, builtin, find_asset_folder, idx_folder, images_in_memory, load_builtin,
    presets_hint, BuiltinDataset, DataOptions, BUILTIN_DATASETS, FASHION_CLASSES,
};
pub use dataset::{
    seeded_split, DataCard, Dataset, Inputs, PointError, Samples, SamplesError, Targets, Task,
    DEFAULT_VALIDATION_SIZE,
};
pub use folder::{folder_dataset, FolderKind};
pub use idx::{parse_idx, read_idx, IdxArray};
pub use image_folder::{image_folder, ImageFolderOptions};
pub use images::{digit_names, digits_8x8, idx_dataset, load_idx_pair};
pub use preprocessing::{
    encode_row, is_missing, mean_and_std, parse_number, CellError, ColumnStep, ImageFraming,
    InputPipeline, NonPositiveLogTarget, Preprocessing, TargetScaling, MAX_CATEGORY_LEVELS,
};
pub use progress::LoadProgress;
pub use raw_input::{image_input, input_kind, table_inputs, text_input, RawInputError};
pub use raw_table::{CsvLayout, RawTable, Row, MAX_CSV_BYTES, MAX_LINE_BYTES};
pub use table::{
    encode_table_for_model, guess_kind, guess_task, profile_columns, table_dataset, ColumnKind,
    ColumnProfile, TableOptions, TableReport, TaskKind, PROFILE_MAX_LEVELS,
};
pub use text::{
    text_limit, tokenize, TextVectoriser, TextWeighting, DEFAULT_VOCABULARY_SIZE, MAX_TEXT_BYTES,
};
pub use toys::{generate_points, toy_dataset, ToyOptions, ToyShape, MAX_TOY_SAMPLES};

/// Classes of MNIST.
pub const MNIST_CLASSES: usize = 10;
/// One MNIST sample: a single grey channel of 28x28 pixels.
pub const MNIST_INPUT: crate::spec::ActivationShape = crate::spec::ActivationShape::Spatial {
    channels: 1,
    height: 28,
    width: 28,
};

/// Where MNIST is: `$LAYERLAB_MNIST_DIR`, else the shipped assets/mnist wherever it is found
/// (see [`asset_dir_candidates`]); when it is nowhere, the first place looked, so the error
/// that follows names a path.
pub fn default_mnist_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LAYERLAB_MNIST_DIR") {
        return PathBuf::from(dir);
    }
    find_asset_folder("mnist").unwrap_or_else(|_| {
        asset_dir_candidates()
            .last()
            .map(|d| d.join("mnist"))
            .unwrap_or_else(|| PathBuf::from("assets/mnist"))
    })
}

/// A path's last part, for messages and dataset names ("line.csv"); the whole path when it
/// has none.
pub fn file_label(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// `text` cut to at most `max_chars` characters, the last one an ellipsis when it was cut
/// (for table cells and previews).
pub fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    short.push('…');
    short
}

impl Dataset {
    /// Loads MNIST's four files from `dir` (gzip or raw, names as published).
    pub fn mnist(dir: &std::path::Path) -> Result<Self, DataError> {
        idx_dataset(dir, "MNIST", "mnist", digit_names(), ImageFraming::Digit)
    }
}

/// Why data could not be loaded. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("{path}: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("{images} and {labels} do not belong together: {reason}")]
    Mismatch {
        images: String,
        labels: String,
        reason: String,
    },
    #[error("cannot find {what}; looked in:\n  {}", looked.join("\n  "))]
    NotFound { what: String, looked: Vec<String> },
    #[error("there is no built-in dataset {name:?}; choose one of {}", known.join(", "))]
    UnknownDataset {
        name: String,
        known: Vec<&'static str>,
    },
}
