//! MNIST as shipped under assets/mnist (see its README for provenance).

use std::path::{Path, PathBuf};

use super::{read_idx, DataError};
use crate::spec::ActivationShape;

pub const MNIST_CLASSES: usize = 10;
/// One MNIST sample: a single grey channel of 28x28 pixels.
pub const MNIST_INPUT: ActivationShape = ActivationShape::Spatial {
    channels: 1,
    height: 28,
    width: 28,
};

/// Where the shipped copy lives: `$LAYERLAB_MNIST_DIR`, else the repository's assets/mnist.
pub fn default_mnist_dir() -> PathBuf {
    std::env::var_os("LAYERLAB_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist"))
}

/// Labelled greyscale images, `u8` pixels, one image after another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSet {
    pub height: usize,
    pub width: usize,
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image_len(&self) -> usize {
        self.height * self.width
    }

    pub fn image(&self, index: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[index * n..(index + 1) * n]
    }

    /// Whether the pixels hold exactly one image per label and every label is a class below
    /// `classes`. The IDX loader checks this; a set built in code may not hold to it.
    pub fn check(&self, classes: usize) -> Result<(), String> {
        let expected = self.len() * self.image_len();
        if self.pixels.len() != expected {
            return Err(format!(
                "{} labels need {expected} pixels, found {}",
                self.len(),
                self.pixels.len()
            ));
        }
        match self.labels.iter().position(|&l| l as usize >= classes) {
            Some(index) => Err(format!(
                "label {} of sample {index} is not one of the {classes} classes",
                self.labels[index]
            )),
            None => Ok(()),
        }
    }

    /// Images per class.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &label in &self.labels {
            if let Some(count) = counts.get_mut(label as usize) {
                *count += 1;
            }
        }
        counts
    }

    /// Reads an images file and a labels file and checks that they agree.
    pub fn load(images: &Path, labels: &Path, classes: usize) -> Result<Self, DataError> {
        let image_array = read_idx(images)?;
        let label_array = read_idx(labels)?;
        let (images_name, labels_name) =
            (images.display().to_string(), labels.display().to_string());
        let [count, height, width] = image_array.dims[..] else {
            return Err(DataError::Corrupt {
                path: images_name,
                reason: format!(
                    "expected 3 dimensions (count, rows, columns), found {:?}",
                    image_array.dims
                ),
            });
        };
        let [label_count] = label_array.dims[..] else {
            return Err(DataError::Corrupt {
                path: labels_name,
                reason: format!("expected 1 dimension (count), found {:?}", label_array.dims),
            });
        };
        let mismatch = |reason| DataError::Mismatch {
            images: images_name.clone(),
            labels: labels_name.clone(),
            reason,
        };
        if count != label_count {
            return Err(mismatch(format!("{count} images but {label_count} labels")));
        }
        if count == 0 || height == 0 || width == 0 {
            return Err(mismatch(format!(
                "empty dataset ({count} images of {height}x{width})"
            )));
        }
        if let Some(index) = label_array
            .values
            .iter()
            .position(|&l| l as usize >= classes)
        {
            return Err(DataError::Corrupt {
                path: labels_name,
                reason: format!(
                    "label {} at index {index} is not a class (0..{classes})",
                    label_array.values[index]
                ),
            });
        }
        Ok(Self {
            height,
            width,
            pixels: image_array.values,
            labels: label_array.values,
        })
    }

    /// The first `n` samples (all if `n` is larger).
    pub fn truncated(mut self, n: usize) -> Self {
        let n = n.min(self.len());
        self.pixels.truncate(n * self.image_len());
        self.labels.truncate(n);
        self
    }
}

/// A classification dataset: what the model sees and what it must predict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    pub classes: usize,
    pub train: ImageSet,
    pub test: ImageSet,
}

impl Dataset {
    /// Loads MNIST's four files from `dir` (gzip or raw, names as published).
    pub fn mnist(dir: &Path) -> Result<Self, DataError> {
        let file = |stem: &str| {
            let gz = dir.join(format!("{stem}.gz"));
            if gz.exists() {
                gz
            } else {
                dir.join(stem)
            }
        };
        let train = ImageSet::load(
            &file("train-images-idx3-ubyte"),
            &file("train-labels-idx1-ubyte"),
            MNIST_CLASSES,
        )?;
        let test = ImageSet::load(
            &file("t10k-images-idx3-ubyte"),
            &file("t10k-labels-idx1-ubyte"),
            MNIST_CLASSES,
        )?;
        if (train.height, train.width) != (test.height, test.width) {
            return Err(DataError::Corrupt {
                path: dir.display().to_string(),
                reason: format!(
                    "training images are {}x{} but test images are {}x{}",
                    train.height, train.width, test.height, test.width
                ),
            });
        }
        Ok(Self {
            name: "MNIST".into(),
            classes: MNIST_CLASSES,
            train,
            test,
        })
    }

    /// Shape of one input sample.
    pub fn input_shape(&self) -> ActivationShape {
        ActivationShape::image(1, self.train.height, self.train.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], len: usize) -> Vec<u8> {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend(std::iter::repeat_n(1u8, len));
        bytes
    }

    fn load(images: &[u8], labels: &[u8]) -> Result<ImageSet, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let (i, l) = (dir.path().join("images"), dir.path().join("labels"));
        std::fs::write(&i, images).unwrap();
        std::fs::write(&l, labels).unwrap();
        ImageSet::load(&i, &l, MNIST_CLASSES)
    }

    #[test]
    fn images_and_labels_must_agree_in_count_shape_and_classes() {
        let ok = load(&idx(&[3, 2, 2], 12), &idx(&[3], 3)).unwrap();
        assert_eq!((ok.len(), ok.height, ok.width), (3, 2, 2));

        let err = load(&idx(&[3, 2, 2], 12), &idx(&[4], 4)).unwrap_err();
        assert!(err.to_string().contains("3 images but 4 labels"), "{err}");
        let err = load(&idx(&[3, 4], 12), &idx(&[3], 3)).unwrap_err();
        assert!(err.to_string().contains("expected 3 dimensions"), "{err}");
        let err = load(&idx(&[3, 2, 2], 12), &idx(&[3, 1], 3)).unwrap_err();
        assert!(err.to_string().contains("expected 1 dimension"), "{err}");
        let mut bad_label = idx(&[3], 3);
        bad_label[9] = 12;
        let err = load(&idx(&[3, 2, 2], 12), &bad_label).unwrap_err();
        assert!(
            err.to_string()
                .contains("label 12 at index 1 is not a class"),
            "{err}"
        );
        let err = load(&idx(&[0, 2, 2], 0), &idx(&[0], 0)).unwrap_err();
        assert!(err.to_string().contains("empty dataset"), "{err}");
    }
}
