//! A folder of a person's own: MNIST-format IDX files, or one sub-folder of images per class.
//! The CLI's `--dataset PATH` and the window's "Import folder…" both come here.

use std::path::Path;

use super::{idx_folder, image_folder, DataError, Dataset, ImageFolderOptions};

/// How a folder is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderKind {
    /// MNIST's four IDX files (`train-images-idx3-ubyte[.gz]`, ...).
    Idx,
    /// `class/*.png` (optionally under `train/` and `test/`).
    Images,
}

impl FolderKind {
    /// IDX when the folder holds a file with "-idx" in its name, else an image folder.
    pub fn guess(dir: &Path) -> Self {
        let has_idx = std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .take(10_000)
                .any(|e| e.file_name().to_string_lossy().contains("-idx"))
        });
        if has_idx {
            Self::Idx
        } else {
            Self::Images
        }
    }
}

/// Loads `dir` as `kind` (guessed when `None`); the notes say what was left out or guessed.
pub fn folder_dataset(
    dir: &Path,
    kind: Option<FolderKind>,
    options: ImageFolderOptions,
) -> Result<(Dataset, Vec<String>), DataError> {
    if !dir.is_dir() {
        return Err(DataError::Corrupt {
            path: dir.display().to_string(),
            reason: "not a folder".into(),
        });
    }
    match kind.unwrap_or_else(|| FolderKind::guess(dir)) {
        FolderKind::Idx => idx_folder(dir)
            .map(|dataset| (dataset, Vec::new()))
            .map_err(|e| DataError::Corrupt {
                path: dir.display().to_string(),
                reason: format!(
                    "read as a folder of MNIST-format IDX files (train-images-idx3-ubyte, ...): {e}"
                ),
            }),
        FolderKind::Images => image_folder(dir, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_read_as_idx_only_when_it_holds_idx_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(FolderKind::guess(dir.path()), FolderKind::Images);
        std::fs::write(dir.path().join("train-images-idx3-ubyte"), b"x").unwrap();
        assert_eq!(FolderKind::guess(dir.path()), FolderKind::Idx);
        // A broken IDX folder says how it was read.
        let error = folder_dataset(dir.path(), None, ImageFolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("MNIST-format IDX"), "{error}");
        let file = dir.path().join("train-images-idx3-ubyte");
        let error = folder_dataset(&file, None, ImageFolderOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a folder"), "{error}");
    }
}
