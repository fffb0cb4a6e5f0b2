//! The datasets that ship with LayerLab, where to find them, and how to load each.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dataset::{DataCard, Dataset, Inputs, Samples, Targets, Task};
use super::images::{digit_names, digits_8x8, idx_dataset};
use super::preprocessing::{ImageFraming, InputPipeline};
use super::raw_table::{CsvLayout, RawTable};
use super::table::{table_dataset, TableOptions, TaskKind};
use super::text::{TextWeighting, DEFAULT_VOCABULARY_SIZE};
use super::toys::{toy_dataset, ToyOptions, ToyShape};
use super::DataError;

/// One built-in dataset, as `layerlab datasets` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BuiltinDataset {
    pub name: &'static str,
    /// What one sample is ("images 1x28x28", "34 numeric + 40 categorical columns").
    pub kind: &'static str,
    pub task: &'static str,
    /// Samples in the training and test splits.
    pub size: &'static str,
    /// One line of provenance (the README in its assets folder has the rest).
    pub source: &'static str,
    /// Its folder under assets/ ("" for generated sets).
    pub folder: &'static str,
    /// The preset `train --dataset NAME` starts from.
    pub preset: &'static str,
}

/// Every built-in dataset, in the order the CLI and the window list them.
pub const BUILTIN_DATASETS: [BuiltinDataset; 13] = [
    BuiltinDataset {
        name: "mnist",
        kind: "images 1x28x28",
        task: "10-class classification (digits)",
        size: "60,000 + 10,000",
        source: "LeCun, Cortes & Burges, MNIST handwritten digits",
        folder: "mnist",
        preset: "mlp",
    },
    BuiltinDataset {
        name: "fashion-mnist",
        kind: "images 1x28x28",
        task: "10-class classification (clothing)",
        size: "60,000 + 10,000",
        source: "Zalando Research, Fashion-MNIST (MIT)",
        folder: "fashion-mnist",
        preset: "cnn",
    },
    BuiltinDataset {
        name: "digits-8x8",
        kind: "images 1x8x8, 17 grey levels",
        task: "10-class classification (digits)",
        size: "1,437 + 360 (seeded 80/20)",
        source: "UCI optical digits via scikit-learn (BSD-3)",
        folder: "sklearn",
        preset: "digits-cnn",
    },
    BuiltinDataset {
        name: "iris",
        kind: "4 numeric columns",
        task: "3-class classification (species)",
        size: "120 + 30 (seeded 80/20)",
        source: "Fisher's iris via scikit-learn (BSD-3)",
        folder: "sklearn",
        preset: "tabular-mlp",
    },
    BuiltinDataset {
        name: "wine",
        kind: "13 numeric columns",
        task: "3-class classification (cultivar)",
        size: "142 + 36 (seeded 80/20)",
        source: "UCI wine via scikit-learn (BSD-3)",
        folder: "sklearn",
        preset: "tabular-mlp",
    },
    BuiltinDataset {
        name: "breast-cancer",
        kind: "30 numeric columns",
        task: "2-class classification (malignant/benign)",
        size: "455 + 114 (seeded 80/20)",
        source: "Wisconsin diagnostic breast cancer via scikit-learn (BSD-3)",
        folder: "sklearn",
        preset: "tabular-mlp",
    },
    BuiltinDataset {
        name: "diabetes",
        kind: "10 numeric columns",
        task: "regression (disease progression after one year)",
        size: "353 + 89 (seeded 80/20)",
        source: "Efron et al. 2004 via scikit-learn (BSD-3)",
        folder: "sklearn",
        preset: "mlp-regressor",
    },
    BuiltinDataset {
        name: "ames-housing",
        kind: "33 numeric + 40 categorical columns",
        task: "regression (Sale_Price, USD)",
        size: "2,344 + 586 (seeded 80/20)",
        source: "De Cock's Ames housing via R modeldata (MIT)",
        folder: "ames",
        preset: "mlp-regressor",
    },
    BuiltinDataset {
        name: "fine-food-reviews",
        kind: "text (review), bag of words",
        task: "2-class classification (great/other)",
        size: "4,000 + 1,000",
        source: "Amazon fine-food reviews via R modeldata (MIT)",
        folder: "reviews",
        preset: "text-bow",
    },
    BuiltinDataset {
        name: "circles",
        kind: "2-D points",
        task: "2-class classification",
        size: "generated (1,000 by default)",
        source: "generated from a seed, as TensorFlow Playground",
        folder: "",
        preset: "playground",
    },
    BuiltinDataset {
        name: "xor",
        kind: "2-D points",
        task: "2-class classification",
        size: "generated (1,000 by default)",
        source: "generated from a seed, as TensorFlow Playground",
        folder: "",
        preset: "playground",
    },
    BuiltinDataset {
        name: "spiral",
        kind: "2-D points",
        task: "2-class classification",
        size: "generated (1,000 by default)",
        source: "generated from a seed, as TensorFlow Playground",
        folder: "",
        preset: "playground",
    },
    BuiltinDataset {
        name: "gaussian",
        kind: "2-D points",
        task: "2-class classification",
        size: "generated (1,000 by default)",
        source: "generated from a seed, as TensorFlow Playground",
        folder: "",
        preset: "playground",
    },
];

/// Looks a built-in dataset up by name.
pub fn builtin(name: &str) -> Option<&'static BuiltinDataset> {
    BUILTIN_DATASETS.iter().find(|d| d.name == name)
}

/// Choices that change how a dataset is prepared.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DataOptions {
    /// Seed of the 80/20 split of sets without a test part, and of generated sets.
    pub split_seed: u64,
    pub toy: ToyOptions,
    pub vocabulary_size: usize,
    pub text_weighting: TextWeighting,
    /// Train regression on the logarithm of the target.
    pub log_target: bool,
}

impl Default for DataOptions {
    fn default() -> Self {
        Self {
            split_seed: 42,
            toy: ToyOptions::default(),
            vocabulary_size: DEFAULT_VOCABULARY_SIZE,
            text_weighting: TextWeighting::MultiHot,
            log_target: false,
        }
    }
}

/// Where the shipped datasets are: `$LAYERLAB_ASSETS`; `assets/` beside the executable or
/// up to two folders above it (a copied build, `target/release`); `../share/layerlab/assets`
/// (an installed binary); the platform data folder; the source tree the binary was built from.
pub fn asset_dir_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("LAYERLAB_ASSETS") {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join("assets"));
        candidates.push(exe_dir.join("../assets"));
        candidates.push(exe_dir.join("../../assets"));
        candidates.push(exe_dir.join("../share/layerlab/assets"));
    }
    if let Some(data) = dirs::data_dir() {
        candidates.push(data.join("layerlab/assets"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets"));
    candidates
}

/// The folder holding built-in dataset `folder`, or an error listing every place looked.
pub fn find_asset_folder(folder: &str) -> Result<PathBuf, DataError> {
    let candidates = asset_dir_candidates();
    candidates
        .iter()
        .map(|dir| dir.join(folder))
        .find(|dir| dir.join("SHA256SUMS").is_file())
        .ok_or_else(|| DataError::NotFound {
            what: format!("the shipped dataset folder {folder:?}"),
            looked: candidates
                .iter()
                .map(|d| d.join(folder).display().to_string())
                .collect(),
        })
}

/// Loads built-in dataset `name`, recording `options` in its card.
pub fn load_builtin(name: &str, options: &DataOptions) -> Result<Dataset, DataError> {
    let mut data = load_builtin_data(name, options)?;
    data.card.builtin_options = Some(options.clone());
    Ok(data)
}

fn load_builtin_data(name: &str, options: &DataOptions) -> Result<Dataset, DataError> {
    let info = builtin(name).ok_or_else(|| DataError::UnknownDataset {
        name: name.to_string(),
        known: BUILTIN_DATASETS.iter().map(|d| d.name).collect(),
    })?;
    if let Some(shape) = ToyShape::named(name) {
        return Ok(toy_dataset(
            shape,
            ToyOptions {
                seed: options.toy.seed,
                ..options.toy
            },
        ));
    }
    let dir = find_asset_folder(info.folder)?;
    let seed = options.split_seed;
    match name {
        "mnist" => idx_dataset(&dir, "MNIST", "mnist", digit_names(), ImageFraming::Digit),
        "fashion-mnist" => idx_dataset(
            &dir,
            "Fashion-MNIST",
            "fashion-mnist",
            FASHION_CLASSES.iter().map(|c| c.to_string()).collect(),
            ImageFraming::FitObject,
        ),
        "digits-8x8" => digits_8x8(&dir.join("digits.csv.gz"), seed),
        "iris" => sklearn_table(
            &dir.join("iris.csv"),
            "iris",
            &iris_columns(),
            "species",
            seed,
        ),
        "wine" => sklearn_table(
            &dir.join("wine_data.csv"),
            "wine",
            &wine_columns(),
            "cultivar",
            seed,
        ),
        "breast-cancer" => sklearn_table(
            &dir.join("breast_cancer.csv"),
            "breast-cancer",
            &breast_cancer_columns(),
            "diagnosis",
            seed,
        ),
        "diabetes" => diabetes(&dir, seed, options.log_target),
        "ames-housing" => {
            let table = RawTable::read(&dir.join("ames.csv.gz"))?;
            let options = TableOptions {
                target: Some("Sale_Price".into()),
                task: Some(TaskKind::Regression),
                target_unit: "USD".into(),
                log_target: options.log_target,
                seed,
                ..TableOptions::default()
            };
            let (mut data, _) = table_dataset("ames-housing", &table, None, &options)?;
            data.name = "Ames housing".into();
            Ok(data)
        }
        "fine-food-reviews" => {
            let train = RawTable::read(&dir.join("fine_foods_train.csv.gz"))?;
            let test = RawTable::read(&dir.join("fine_foods_test.csv.gz"))?;
            let table_options = TableOptions {
                target: Some("score".into()),
                kinds: vec![
                    ("product".into(), super::ColumnKind::Ignore),
                    ("review".into(), super::ColumnKind::Text),
                ],
                task: Some(TaskKind::Classification),
                vocabulary_size: options.vocabulary_size,
                text_weighting: options.text_weighting,
                ..TableOptions::default()
            };
            let (mut data, _) =
                table_dataset("fine-food-reviews", &train, Some(&test), &table_options)?;
            data.name = "Fine-food reviews".into();
            Ok(data)
        }
        _ => unreachable!("every built-in dataset has a loader"),
    }
}

/// Fashion-MNIST's class names, in label order (from its README).
pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

fn iris_columns() -> Vec<String> {
    [
        "sepal length (cm)",
        "sepal width (cm)",
        "petal length (cm)",
        "petal width (cm)",
    ]
    .map(String::from)
    .to_vec()
}

fn wine_columns() -> Vec<String> {
    [
        "alcohol",
        "malic_acid",
        "ash",
        "alcalinity_of_ash",
        "magnesium",
        "total_phenols",
        "flavanoids",
        "nonflavanoid_phenols",
        "proanthocyanins",
        "color_intensity",
        "hue",
        "od280/od315_of_diluted_wines",
        "proline",
    ]
    .map(String::from)
    .to_vec()
}

fn breast_cancer_columns() -> Vec<String> {
    let measures = [
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave points",
        "symmetry",
        "fractal dimension",
    ];
    let mut names: Vec<String> = measures.iter().map(|m| format!("mean {m}")).collect();
    names.extend(measures.iter().map(|m| format!("{m} error")));
    names.extend(measures.iter().map(|m| format!("worst {m}")));
    names
}

/// scikit-learn's layout: a first line `n_samples,n_features,class names...`, then rows of
/// features and an integer label.
fn sklearn_table(
    path: &Path,
    name: &str,
    columns: &[String],
    target: &str,
    seed: u64,
) -> Result<Dataset, DataError> {
    let raw = RawTable::read_headerless(path)?;
    let bad = |line: usize, reason: String| DataError::Corrupt {
        path: raw.source.clone(),
        reason: format!("line {line}: {reason}"),
    };
    let header: Vec<&str> = raw.row(0).iter().collect();
    let (samples, features) = match (header.first(), header.get(1)) {
        (Some(s), Some(f)) => (s.trim().parse::<usize>(), f.trim().parse::<usize>()),
        _ => return Err(bad(1, "expected n_samples,n_features,class names".into())),
    };
    let (Ok(samples), Ok(features)) = (samples, features) else {
        return Err(bad(1, "expected n_samples,n_features,class names".into()));
    };
    let class_names: Vec<String> = header[2..].iter().map(|c| c.trim().to_string()).collect();
    if features != columns.len() || raw.row_count() - 1 != samples || class_names.len() < 2 {
        return Err(bad(
            1,
            format!(
                "declares {samples} samples of {features} features in {} classes; expected {} features and found {} rows",
                class_names.len(),
                columns.len(),
                raw.row_count() - 1
            ),
        ));
    }
    let mut rows = Vec::with_capacity(samples);
    for (i, row) in raw.rows().skip(1).enumerate() {
        if row.len() != features + 1 {
            return Err(bad(
                i + 2,
                format!("{} fields, expected {}", row.len(), features + 1),
            ));
        }
        let mut cells: Vec<String> = row.iter().map(str::to_string).collect();
        let label = cells[features].trim().parse::<usize>().ok();
        match label.and_then(|l| class_names.get(l)) {
            Some(class) => cells[features] = class.clone(),
            None => {
                return Err(bad(
                    i + 2,
                    format!("{:?} is not a class label", row.cell(features)),
                ))
            }
        }
        rows.push(cells);
    }
    let mut headers = columns.to_vec();
    headers.push(target.to_string());
    let table = RawTable::from_rows(raw.source.clone(), headers, &rows);
    let options = TableOptions {
        target: Some(target.to_string()),
        kinds: columns
            .iter()
            .map(|c| (c.clone(), super::ColumnKind::Numeric))
            .collect(),
        task: Some(TaskKind::Classification),
        class_order: Some(class_names),
        seed,
        ..TableOptions::default()
    };
    Ok(table_dataset(name, &table, None, &options)?.0)
}

/// scikit-learn's raw diabetes data: ten space-separated features per line, the target in a
/// second file.
fn diabetes(dir: &Path, seed: u64, log_target: bool) -> Result<Dataset, DataError> {
    let layout = CsvLayout {
        has_headers: false,
        delimiter: b' ',
    };
    let features = RawTable::read_with(&dir.join("diabetes_data_raw.csv.gz"), layout)?;
    let targets = RawTable::read_with(&dir.join("diabetes_target.csv.gz"), layout)?;
    if features.row_count() != targets.row_count() {
        return Err(DataError::Mismatch {
            images: features.source,
            labels: targets.source,
            reason: "the feature and target files have different row counts".into(),
        });
    }
    let mut headers: Vec<String> = [
        "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
    ]
    .map(String::from)
    .to_vec();
    headers.push("progression".into());
    let mut rows = Vec::with_capacity(features.row_count());
    for (i, (row, target)) in features.rows().zip(targets.rows()).enumerate() {
        if row.len() != 10 || target.len() != 1 {
            return Err(DataError::Corrupt {
                path: features.source.clone(),
                reason: format!("line {}: expected 10 features and 1 target", i + 1),
            });
        }
        let mut cells: Vec<String> = row.iter().map(str::to_string).collect();
        cells.push(target.cell(0).to_string());
        rows.push(cells);
    }
    let table = RawTable::from_rows(features.source.clone(), headers.clone(), &rows);
    let options = TableOptions {
        target: Some("progression".into()),
        kinds: headers[..10]
            .iter()
            .map(|c| (c.clone(), super::ColumnKind::Numeric))
            .collect(),
        task: Some(TaskKind::Regression),
        log_target,
        seed,
        ..TableOptions::default()
    };
    Ok(table_dataset("diabetes", &table, None, &options)?.0)
}

/// An IDX folder of the user's (MNIST's four file names), any image size; the classes are
/// the labels 0 to the largest label in either split.
pub fn idx_folder(dir: &Path) -> Result<Dataset, DataError> {
    let name = dir
        .file_name()
        .map_or_else(|| "idx".to_string(), |n| n.to_string_lossy().into());
    let names = (0..super::images::MAX_IDX_CLASSES)
        .map(|c| c.to_string())
        .collect();
    let mut data = idx_dataset(dir, &name, &name, names, ImageFraming::Digit)?;
    let classes = idx_class_count(data.train.labels(), data.test.labels()).map_err(|reason| {
        DataError::Corrupt {
            path: dir.display().to_string(),
            reason,
        }
    })?;
    data.card.task = Task::Classification {
        class_names: (0..classes).map(|c| c.to_string()).collect(),
    };
    Ok(data)
}

/// The classes of IDX labels, which number them `0..N`: every class up to the largest label
/// must have training images, and there must be two at least (as for a CSV's target).
fn idx_class_count(train: &[u8], test: &[u8]) -> Result<usize, String> {
    let classes = train
        .iter()
        .chain(test)
        .max()
        .map_or(0, |&l| l as usize + 1);
    let mut counts = vec![0usize; classes];
    for &label in train {
        counts[label as usize] += 1;
    }
    let present = counts.iter().filter(|&&c| c > 0).count();
    if present < 2 {
        return Err(format!(
            "the training labels hold {present} class{}; a classifier needs two at least",
            if present == 1 { "" } else { "es" }
        ));
    }
    if present < classes {
        return Err(format!(
            "the labels go up to {}, but only {present} of those {classes} classes have training \
             images; IDX labels must number the classes 0 to N-1",
            classes - 1
        ));
    }
    Ok(classes)
}

/// A small in-memory dataset of images, for tests and tools: `images` of `height x width`
/// with `labels` in `classes` classes, as both splits.
pub fn images_in_memory(
    name: &str,
    height: usize,
    width: usize,
    pixels: Vec<u8>,
    labels: Vec<u8>,
    classes: usize,
) -> Dataset {
    let samples = Samples {
        inputs: Inputs::Pixels {
            values: pixels,
            sample_len: height * width,
            max_level: 255,
        },
        targets: Targets::Classes(labels),
        raw: Vec::new(),
    };
    Dataset {
        name: name.into(),
        card: DataCard {
            dataset: name.into(),
            task: Task::Classification {
                class_names: (0..classes).map(|c| c.to_string()).collect(),
            },
            preprocessing: super::Preprocessing {
                input: InputPipeline::Image {
                    channels: 1,
                    height,
                    width,
                    max_level: 255,
                    framing: ImageFraming::Digit,
                },
                target: None,
            },
            builtin_options: None,
        },
        train: samples.clone(),
        test: samples,
    }
}

/// The line under `layerlab datasets`.
pub fn presets_hint() -> &'static str {
    "train one with `layerlab train --dataset NAME` (it picks the first preset made for it; `layerlab presets` lists them)"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idx_labels_must_number_at_least_two_classes_without_gaps() {
        assert_eq!(idx_class_count(&[0, 1, 2, 1], &[2, 0]), Ok(3));
        // A label of 200 among digits: 190 classes would never be trained.
        let err = idx_class_count(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200], &[]).unwrap_err();
        assert_eq!(
            err,
            "the labels go up to 200, but only 11 of those 201 classes have training images; \
             IDX labels must number the classes 0 to N-1"
        );
        // A test label no training image has.
        assert!(idx_class_count(&[0, 1], &[2]).is_err());
        // One class, and none.
        let err = idx_class_count(&[3, 3, 3], &[3]).unwrap_err();
        assert!(err.contains("hold 1 class;"), "{err}");
        assert!(idx_class_count(&[], &[]).is_err());
    }

    #[test]
    fn a_missing_folder_is_reported_with_every_place_looked() {
        let err = find_asset_folder("no-such-dataset")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot find the shipped dataset folder \"no-such-dataset\""),
            "{err}"
        );
        // Beside the executable, the data folder, and the source tree, one per line.
        assert!(err.lines().count() >= 5, "{err}");
        assert!(
            err.contains(&format!(
                "{}/assets/no-such-dataset",
                env!("CARGO_MANIFEST_DIR")
            )),
            "{err}"
        );
        let found = find_asset_folder("mnist").unwrap();
        assert!(found.join("SHA256SUMS").is_file());
    }

    #[test]
    fn every_builtin_loads_with_a_task_that_fits_its_samples() {
        for info in BUILTIN_DATASETS {
            if matches!(info.name, "mnist" | "fashion-mnist") {
                continue; // Loaded by the training and CLI tests; 60,000 images each.
            }
            let data = load_builtin(info.name, &DataOptions::default()).unwrap();
            for set in [&data.train, &data.test] {
                set.check(data.task()).unwrap();
                assert!(!set.is_empty(), "{}", info.name);
                assert_eq!(
                    set.inputs.width(),
                    data.input_shape().numel(),
                    "{}",
                    info.name
                );
            }
            assert_eq!(data.card.builtin_options, Some(DataOptions::default()));
        }
    }
}
