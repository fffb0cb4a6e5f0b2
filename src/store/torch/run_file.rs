//! `run.json`: what the exported `train.py` reads. The run's record as the store keeps it,
//! where its data's files are, and the rows of each split exactly as LayerLab used them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{
    builtin, find_asset_folder, seeded_split, DataError, DataOptions, Dataset, BUILTIN_DATASETS,
};
use crate::store::RunRecord;
use crate::train::TrainConfig;

/// The `format` field of every `run.json`.
pub const RUN_FILE_FORMAT: &str = "layerlab-torch-run";
/// Its version; a reader refuses a newer one.
pub const RUN_FILE_VERSION: u32 = 1;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    pub format: String,
    pub version: u32,
    pub run: ExportedRun,
    pub record: RunRecord,
    pub data: DataFiles,
    pub split: SplitRows,
}

/// Which run was exported, and the checkpoint written beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedRun {
    pub id: String,
    pub name: String,
    /// The step of `checkpoint.safetensors` (`--init-from` starts from it); `None` when the
    /// run had no checkpoint.
    pub checkpoint_step: Option<usize>,
}

/// Where `train.py` reads the samples from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataFiles {
    /// IDX files: each source ("train", "test") is an (images, labels) pair of paths.
    Idx {
        files: BTreeMap<String, [PathBuf; 2]>,
    },
    /// CSV files (gzip or plain, comma-separated, a header line): each source is a path;
    /// `target` is the column to predict.
    Csv {
        files: BTreeMap<String, PathBuf>,
        target: String,
    },
    /// The prepared samples themselves, in `data.safetensors` beside run.json (generated
    /// sets, the 8x8 digits, image folders): `<source>.inputs` and `<source>.targets`.
    Prepared { file: String },
}

/// The rows of each split, as indices into one of the data's sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitRows {
    pub train: SplitPart,
    pub validation: SplitPart,
    pub test: SplitPart,
}

/// Rows of one source: a contiguous range, or a list (a seeded shuffle).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitPart {
    pub file: String,
    #[serde(flatten)]
    pub rows: Rows,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Rows {
    /// `start..stop`.
    Range {
        range: [usize; 2],
    },
    List {
        rows: Vec<u32>,
    },
}

impl Rows {
    /// A range when `rows` counts up by one, else the list.
    pub fn of(rows: &[u32]) -> Self {
        let counts_up = rows.windows(2).all(|w| w[1] == w[0] + 1);
        match (counts_up, rows.first(), rows.last()) {
            (true, Some(&first), Some(&last)) => Self::Range {
                range: [first as usize, last as usize + 1],
            },
            (true, None, _) | (true, _, None) => Self::Range { range: [0, 0] },
            (false, _, _) => Self::List {
                rows: rows.to_vec(),
            },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Range { range } => range[1].saturating_sub(range[0]),
            Self::List { rows } => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A dataset's files as `train.py` reads them, and the rows of the dataset's training and
/// test sets in those files.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    pub files: DataFiles,
    /// (source, rows) of `dataset.train`, in its order.
    pub train_rows: (String, Vec<u32>),
    /// (source, rows) of `dataset.test`.
    pub test_rows: (String, Vec<u32>),
}

impl DataSource {
    /// The prepared samples written beside run.json: row i is sample i.
    pub fn prepared(dataset: &Dataset) -> Self {
        Self {
            files: DataFiles::Prepared {
                file: PREPARED_FILE.into(),
            },
            train_rows: ("train".into(), (0..dataset.train.len() as u32).collect()),
            test_rows: ("test".into(), (0..dataset.test.len() as u32).collect()),
        }
    }

    /// One CSV file split 80/20 by LayerLab's seeded shuffle (as `table_dataset` does).
    pub fn seeded_csv(path: PathBuf, target: String, rows: usize, seed: u64) -> Self {
        let (train, test) = seeded_split(rows, 0.2, seed);
        Self {
            files: DataFiles::Csv {
                files: BTreeMap::from([("data".to_string(), path)]),
                target,
            },
            train_rows: ("data".into(), train),
            test_rows: ("data".into(), test),
        }
    }
}

/// The file of prepared samples, when there is one.
pub const PREPARED_FILE: &str = "data.safetensors";

/// Where a built-in dataset's files are: its shipped IDX or CSV files, or its prepared
/// samples (generated sets and scikit-learn's small tables have no file `train.py` reads).
pub fn builtin_source(
    name: &str,
    options: &DataOptions,
    dataset: &Dataset,
) -> Result<DataSource, DataError> {
    let info = builtin(name).ok_or_else(|| DataError::UnknownDataset {
        name: name.to_string(),
        known: BUILTIN_DATASETS.iter().map(|d| d.name).collect(),
    })?;
    let whole = |source: &str, len: usize| (source.to_string(), (0..len as u32).collect());
    match name {
        "mnist" | "fashion-mnist" => {
            let dir = asset_folder(info.folder)?;
            let pair = |part: &str| {
                [
                    dir.join(format!("{part}-images-idx3-ubyte.gz")),
                    dir.join(format!("{part}-labels-idx1-ubyte.gz")),
                ]
            };
            Ok(DataSource {
                files: DataFiles::Idx {
                    files: BTreeMap::from([
                        ("train".to_string(), pair("train")),
                        ("test".to_string(), pair("t10k")),
                    ]),
                },
                train_rows: whole("train", dataset.train.len()),
                test_rows: whole("test", dataset.test.len()),
            })
        }
        "ames-housing" => {
            let dir = asset_folder(info.folder)?;
            Ok(DataSource::seeded_csv(
                dir.join("ames.csv.gz"),
                "Sale_Price".into(),
                dataset.train.len() + dataset.test.len(),
                options.split_seed,
            ))
        }
        "fine-food-reviews" => {
            let dir = asset_folder(info.folder)?;
            Ok(DataSource {
                files: DataFiles::Csv {
                    files: BTreeMap::from([
                        ("train".to_string(), dir.join("fine_foods_train.csv.gz")),
                        ("test".to_string(), dir.join("fine_foods_test.csv.gz")),
                    ]),
                    target: "score".into(),
                },
                train_rows: whole("train", dataset.train.len()),
                test_rows: whole("test", dataset.test.len()),
            })
        }
        _ => Ok(DataSource::prepared(dataset)),
    }
}

/// A shipped dataset's folder as an absolute path without `..` (train.py may run elsewhere).
fn asset_folder(folder: &str) -> Result<PathBuf, DataError> {
    let dir = find_asset_folder(folder)?;
    Ok(std::fs::canonicalize(&dir).unwrap_or(dir))
}

/// The rows of the training, validation and test splits a run of `settings` used: training
/// the first samples of the training set (up to the limit), validation its last
/// `validation_size`, test the first of the test set (up to its limit), as
/// [`TrainConfig::validate`] divides them.
pub fn split_rows(source: &DataSource, settings: &TrainConfig) -> SplitRows {
    let (train_file, train_rows) = &source.train_rows;
    let (test_file, test_rows) = &source.test_rows;
    let available = train_rows.len();
    let validation = settings.validation_size.min(available);
    let train = (available - validation).min(settings.train_limit.unwrap_or(usize::MAX));
    let test = test_rows
        .len()
        .min(settings.test_limit.unwrap_or(usize::MAX));
    let part = |file: &str, rows: &[u32]| SplitPart {
        file: file.to_string(),
        rows: Rows::of(rows),
    };
    SplitRows {
        train: part(train_file, &train_rows[..train]),
        validation: part(train_file, &train_rows[available - validation..]),
        test: part(test_file, &test_rows[..test]),
    }
}

/// Reads and checks a `run.json`.
pub fn read_run_file(path: &Path) -> Result<RunFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(RUN_FILE_FORMAT) {
        return Err(format!(
            "{} is not a run exported by `layerlab runs export-torch`",
            path.display()
        ));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version > u64::from(RUN_FILE_VERSION) {
        return Err(format!(
            "{} was written by a newer LayerLab (version {version}; this one reads up to {RUN_FILE_VERSION})",
            path.display()
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_that_count_up_are_a_range_and_others_a_list() {
        assert_eq!(Rows::of(&[3, 4, 5]), Rows::Range { range: [3, 6] });
        assert_eq!(Rows::of(&[]), Rows::Range { range: [0, 0] });
        assert_eq!(Rows::of(&[4, 3]), Rows::List { rows: vec![4, 3] });
        assert_eq!(Rows::of(&[4, 3]).len(), 2);
    }

    #[test]
    fn the_split_takes_validation_from_the_end_and_limits_from_the_start() {
        let source = DataSource {
            files: DataFiles::Prepared {
                file: PREPARED_FILE.into(),
            },
            train_rows: ("data".into(), vec![9, 2, 7, 4, 5, 1, 8]),
            test_rows: ("data".into(), vec![0, 3, 6]),
        };
        let settings = TrainConfig {
            validation_size: 2,
            train_limit: Some(3),
            test_limit: Some(2),
            ..TrainConfig::default()
        };
        let split = split_rows(&source, &settings);
        assert_eq!(
            split.train.rows,
            Rows::List {
                rows: vec![9, 2, 7]
            }
        );
        assert_eq!(split.validation.rows, Rows::List { rows: vec![1, 8] });
        assert_eq!(split.test.rows, Rows::List { rows: vec![0, 3] });
    }
}
