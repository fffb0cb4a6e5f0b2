//! Image datasets: IDX pairs (MNIST, Fashion-MNIST, any IDX of the same layout) and the 8x8
//! digits, all kept as `u8` grey levels.

use std::path::Path;

use super::dataset::{seeded_split, DataCard, Dataset, Inputs, Samples, Targets, Task};
use super::preprocessing::{ImageFraming, InputPipeline, Preprocessing};
use super::{read_idx, DataError};

/// Classes of an IDX label file: labels are bytes, so at most 256.
pub const MAX_IDX_CLASSES: usize = 256;

/// Reads an images file and a labels file and checks that they agree; labels must be below
/// `classes`. Returns the samples and the image height and width.
pub fn load_idx_pair(
    images: &Path,
    labels: &Path,
    classes: usize,
) -> Result<(Samples, usize, usize), DataError> {
    let image_array = read_idx(images)?;
    let label_array = read_idx(labels)?;
    let (images_name, labels_name) = (images.display().to_string(), labels.display().to_string());
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
    let samples = Samples {
        inputs: Inputs::Pixels {
            values: image_array.values,
            sample_len: height * width,
            max_level: 255,
        },
        targets: Targets::Classes(label_array.values),
        raw: Vec::new(),
    };
    Ok((samples, height, width))
}

/// The IDX file `stem` in `dir`, gzipped or not, as published.
fn idx_file(dir: &Path, stem: &str) -> std::path::PathBuf {
    let gz = dir.join(format!("{stem}.gz"));
    if gz.exists() {
        gz
    } else {
        dir.join(stem)
    }
}

/// Loads a directory holding MNIST's four files (names as published) as a classification
/// dataset with these class names.
pub fn idx_dataset(
    dir: &Path,
    name: &str,
    card_name: &str,
    class_names: Vec<String>,
    framing: ImageFraming,
) -> Result<Dataset, DataError> {
    let classes = class_names.len();
    let (train, height, width) = load_idx_pair(
        &idx_file(dir, "train-images-idx3-ubyte"),
        &idx_file(dir, "train-labels-idx1-ubyte"),
        classes,
    )?;
    let (test, test_height, test_width) = load_idx_pair(
        &idx_file(dir, "t10k-images-idx3-ubyte"),
        &idx_file(dir, "t10k-labels-idx1-ubyte"),
        classes,
    )?;
    if (height, width) != (test_height, test_width) {
        return Err(DataError::Corrupt {
            path: dir.display().to_string(),
            reason: format!(
                "training images are {height}x{width} but test images are {test_height}x{test_width}"
            ),
        });
    }
    Ok(Dataset {
        name: name.into(),
        card: DataCard {
            dataset: card_name.into(),
            task: Task::Classification { class_names },
            preprocessing: Preprocessing {
                input: InputPipeline::Image {
                    channels: 1,
                    height,
                    width,
                    max_level: 255,
                    framing,
                },
                target: None,
            },
            builtin_options: None,
        },
        train,
        test,
    })
}

/// The digits 0-9 as class names.
pub fn digit_names() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

/// scikit-learn's 8x8 digits: rows of 64 grey levels (0-16) then the label, no header; split
/// 80/20 with `seed`.
pub fn digits_8x8(path: &Path, seed: u64) -> Result<Dataset, DataError> {
    let table = super::raw_table::RawTable::read_headerless(path)?;
    let mut pixels = Vec::with_capacity(table.row_count() * 64);
    let mut labels = Vec::with_capacity(table.row_count());
    for (row, cells) in table.rows().enumerate() {
        let bad = |reason: String| DataError::Corrupt {
            path: table.source.clone(),
            reason: format!("line {}: {reason}", row + 1),
        };
        if cells.len() != 65 {
            return Err(bad(format!(
                "{} fields; a digit row has 64 pixels and a label",
                cells.len()
            )));
        }
        for cell in cells.iter().take(64) {
            match cell.trim().parse::<u8>() {
                Ok(level) if level <= 16 => pixels.push(level),
                _ => return Err(bad(format!("{cell:?} is not a grey level 0-16"))),
            }
        }
        let label = cells.cell(64);
        match label.trim().parse::<u8>() {
            Ok(level) if level < 10 => labels.push(level),
            _ => return Err(bad(format!("{label:?} is not a digit label"))),
        }
    }
    let all = Samples {
        inputs: Inputs::Pixels {
            values: pixels,
            sample_len: 64,
            max_level: 16,
        },
        targets: Targets::Classes(labels),
        raw: Vec::new(),
    };
    let (train, test) = seeded_split(all.len(), 0.2, seed);
    Ok(Dataset {
        name: "Digits 8x8".into(),
        card: DataCard {
            dataset: "digits-8x8".into(),
            task: Task::Classification {
                class_names: digit_names(),
            },
            preprocessing: Preprocessing {
                input: InputPipeline::Image {
                    channels: 1,
                    height: 8,
                    width: 8,
                    max_level: 16,
                    framing: ImageFraming::Digit,
                },
                target: None,
            },
            builtin_options: None,
        },
        train: all.select(&train),
        test: all.select(&test),
    })
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

    fn load(images: &[u8], labels: &[u8]) -> Result<(Samples, usize, usize), DataError> {
        let dir = tempfile::tempdir().unwrap();
        let (i, l) = (dir.path().join("images"), dir.path().join("labels"));
        std::fs::write(&i, images).unwrap();
        std::fs::write(&l, labels).unwrap();
        load_idx_pair(&i, &l, 10)
    }

    #[test]
    fn images_and_labels_must_agree_in_count_shape_and_classes() {
        let (ok, h, w) = load(&idx(&[3, 2, 2], 12), &idx(&[3], 3)).unwrap();
        assert_eq!((ok.len(), h, w), (3, 2, 2));

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

    #[test]
    fn digit_rows_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let row = |level: &str, label: &str| {
            let mut cells = vec!["0"; 63];
            cells.push(level);
            cells.push(label);
            cells.join(",")
        };
        let rows: Vec<String> = (0..10).map(|d| row("16", &d.to_string())).collect();
        std::fs::write(&path, rows.join("\n")).unwrap();
        let data = digits_8x8(&path, 0).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (8, 2));
        let mut inputs = Vec::new();
        data.train.fill_inputs(&[0], &mut inputs);
        assert_eq!(inputs[63], 1.0);

        std::fs::write(&path, row("17", "1")).unwrap();
        let err = digits_8x8(&path, 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 1: \"17\" is not a grey level"),
            "{err}"
        );
    }
}
