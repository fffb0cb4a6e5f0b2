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
    /// IDX when the folder holds MNIST's training images file (`train-images-idx...`), or
    /// files with "-idx" in their name and no sub-folders; else an image folder (one IDX file
    /// lying beside the class folders does not make them an IDX set).
    pub fn guess(dir: &Path) -> Self {
        let (mut idx_files, mut train_images, mut folders) = (false, false, false);
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.filter_map(Result::ok).take(10_000) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_dir() {
                    folders |= !name.starts_with('.');
                } else if name.contains("-idx") {
                    idx_files = true;
                    train_images |= name.starts_with("train-images-idx");
                }
            }
        }
        if train_images || (idx_files && !folders) {
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

    #[test]
    fn one_idx_file_beside_class_folders_leaves_an_image_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("cat")).unwrap();
        std::fs::create_dir(dir.path().join("dog")).unwrap();
        std::fs::write(dir.path().join("t10k-labels-idx1-ubyte.gz"), b"x").unwrap();
        assert_eq!(FolderKind::guess(dir.path()), FolderKind::Images);
        // MNIST's own training file makes it an IDX set, sub-folders or not.
        std::fs::write(dir.path().join("train-images-idx3-ubyte.gz"), b"x").unwrap();
        assert_eq!(FolderKind::guess(dir.path()), FolderKind::Idx);
    }
}
