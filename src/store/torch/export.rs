//! `runs export-torch`: a run as a folder that trains it with PyTorch (`train.py`, `run.json`,
//! a README, the run's last checkpoint and, where `train.py` cannot read the data's own files,
//! the prepared samples).

use std::path::{Path, PathBuf};

use ::safetensors::tensor::{Dtype, TensorView};

use super::run_file::{
    builtin_source, split_rows, DataFiles, DataSource, ExportedRun, RunFile, PREPARED_FILE,
    RUN_FILE_FORMAT, RUN_FILE_VERSION,
};
use super::TorchError;
use crate::data::{builtin, load_builtin, Dataset, Inputs, Samples, Targets};
use crate::export::SavedModel;
use crate::store::{read_checkpoint, RunStore};

/// The training script, the same for every run (it reads run.json).
pub const TRAIN_PY: &str = include_str!("train.py");

/// The files an export writes; a folder holding anything else is not overwritten.
const EXPORT_FILES: [&str; 8] = [
    "train.py",
    "run.json",
    "README.md",
    "checkpoint.safetensors",
    PREPARED_FILE,
    "metrics.jsonl",
    "model.safetensors",
    super::import::IMPORTED_FILE,
];

/// What a training of an earlier export left: removed by a new export, so that an import
/// never takes an old run's metrics for the new one's.
const TRAINED_FILES: [&str; 5] = [
    "metrics.jsonl",
    "model.safetensors",
    super::import::IMPORTED_FILE,
    PREPARED_FILE,
    "checkpoint.safetensors",
];

/// Dense prepared samples larger than this are refused (a sparse bag of words made dense).
const MAX_PREPARED_BYTES: usize = 1 << 30;

/// What an export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportReport {
    pub folder: PathBuf,
    pub files: Vec<String>,
    /// The step of the checkpoint written for `--init-from`, if the run had one.
    pub checkpoint_step: Option<usize>,
}

/// Writes run `id` of `store` into `out` as a PyTorch training folder. `dataset` is the run's
/// data loaded again (its card must be the run's) and `source` where `train.py` finds it.
pub fn export_run(
    store: &RunStore,
    id: &str,
    dataset: &Dataset,
    source: DataSource,
    out: &Path,
) -> Result<ExportReport, TorchError> {
    let row = store.row(id)?;
    let record = store.record(id)?;
    if !dataset
        .card
        .preprocessing
        .same_samples_as(&record.card.preprocessing)
        || dataset.card.task != record.card.task
    {
        return Err(TorchError::DataChanged {
            run: id.to_string(),
            dataset: record.card.dataset.clone(),
        });
    }
    if source.train_rows.1.len() != dataset.train.len()
        || source.test_rows.1.len() != dataset.test.len()
    {
        return Err(TorchError::Data(format!(
            "{}: the files hold {} + {} samples where the dataset has {} + {}",
            record.card.dataset,
            source.train_rows.1.len(),
            source.test_rows.1.len(),
            dataset.train.len(),
            dataset.test.len()
        )));
    }
    prepare_folder(out)?;
    let mut files = vec![
        "train.py".to_string(),
        "run.json".into(),
        "README.md".into(),
    ];
    if matches!(source.files, DataFiles::Prepared { .. }) {
        write_file(&out.join(PREPARED_FILE), &prepared_bytes(dataset)?)?;
        files.push(PREPARED_FILE.into());
    }
    let checkpoint_step = write_checkpoint_weights(store, id, &record, out)?;
    if checkpoint_step.is_some() {
        files.push("checkpoint.safetensors".into());
    }
    let run_file = RunFile {
        format: RUN_FILE_FORMAT.into(),
        version: RUN_FILE_VERSION,
        run: ExportedRun {
            id: id.to_string(),
            name: row.name.clone(),
            checkpoint_step,
        },
        split: split_rows(&source, &record.settings),
        data: source.files,
        record,
    };
    let json = serde_json::to_string_pretty(&run_file)
        .map_err(|e| TorchError::Data(format!("cannot write run.json: {e}")))?;
    write_file(&out.join("run.json"), json.as_bytes())?;
    write_file(&out.join("train.py"), TRAIN_PY.as_bytes())?;
    write_file(
        &out.join("README.md"),
        readme(&run_file, checkpoint_step).as_bytes(),
    )?;
    Ok(ExportReport {
        folder: out.to_path_buf(),
        files,
        checkpoint_step,
    })
}

/// Exports a run on a built-in dataset, found again by the name and options its card
/// records (the window's way, and the command line's for built-in data). A run on a file of
/// the person's own is refused with the command that exports it.
pub fn export_builtin_run(
    store: &RunStore,
    id: &str,
    out: &Path,
) -> Result<ExportReport, TorchError> {
    let record = store.record(id)?;
    let name = &record.card.dataset;
    if builtin(name).is_none() {
        return Err(TorchError::Data(format!(
            "run {id} trained on {name}, data of your own: export it from the command line, which reloads it from the path it recorded: layerlab runs export-torch {id} --out DIR"
        )));
    }
    let options = record.card.builtin_options.clone().unwrap_or_default();
    let dataset = load_builtin(name, &options).map_err(|e| TorchError::Data(e.to_string()))?;
    let source =
        builtin_source(name, &options, &dataset).map_err(|e| TorchError::Data(e.to_string()))?;
    export_run(store, id, &dataset, source, out)
}

/// Creates `out`, or checks that what it holds is an earlier export's (nothing else is
/// overwritten) and removes what training that export left.
fn prepare_folder(out: &Path) -> Result<(), TorchError> {
    std::fs::create_dir_all(out)
        .map_err(TorchError::io(format!("cannot create {}", out.display())))?;
    let entries =
        std::fs::read_dir(out).map_err(TorchError::io(format!("cannot read {}", out.display())))?;
    let foreign: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !EXPORT_FILES.contains(&name.as_str()))
        .collect();
    if foreign.is_empty() {
        for name in TRAINED_FILES {
            let path = out.join(name);
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(TorchError::io(format!("cannot replace {}", path.display())))?;
            }
        }
        return Ok(());
    }
    Err(TorchError::NotEmpty {
        folder: out.to_path_buf(),
        found: foreign,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), TorchError> {
    crate::export::write_atomically(path, bytes).map_err(|e| TorchError::Data(e.to_string()))
}

/// The weights of the run's newest readable checkpoint, as a LayerLab model file that
/// `train.py --init-from` loads; `None` when the run has no checkpoint.
fn write_checkpoint_weights(
    store: &RunStore,
    id: &str,
    record: &crate::store::RunRecord,
    out: &Path,
) -> Result<Option<usize>, TorchError> {
    let checkpoints = store.checkpoints(id)?;
    let Some(checkpoint) = checkpoints
        .iter()
        .rev()
        .find(|c| store.checkpoint_path(c).exists())
    else {
        return Ok(None);
    };
    let state = read_checkpoint(&store.checkpoint_path(checkpoint))?;
    let model = SavedModel {
        spec: record.stack.clone(),
        input_shape: SavedModel::input_shape_of(record.card.input_shape()),
        classes: record.card.task.outputs(),
        weights: (*state.weights).clone(),
        card: Some(record.card.clone()),
        training: Some(record.settings.clone()),
    };
    model
        .save(&out.join("checkpoint.safetensors"))
        .map_err(|e| TorchError::Data(e.to_string()))?;
    Ok(Some(checkpoint.step))
}

/// The training and test samples as safetensors: images as their grey levels (u8), features
/// as f32, classes as u8 and regression targets in their own units (f32).
fn prepared_bytes(dataset: &Dataset) -> Result<Vec<u8>, TorchError> {
    let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, samples) in [("train", &dataset.train), ("test", &dataset.test)] {
        let (dtype, shape, bytes) = input_bytes(samples, dataset)?;
        tensors.push((format!("{name}.inputs"), dtype, shape, bytes));
        let (dtype, bytes) = match &samples.targets {
            Targets::Classes(labels) => (Dtype::U8, labels.clone()),
            Targets::Values(values) => (
                Dtype::F32,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        };
        tensors.push((format!("{name}.targets"), dtype, vec![samples.len()], bytes));
    }
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            TensorView::new(*dtype, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| TorchError::Data(format!("prepared data {name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    ::safetensors::serialize(views, &None)
        .map_err(|e| TorchError::Data(format!("prepared data: {e}")))
}

fn input_bytes(
    samples: &Samples,
    dataset: &Dataset,
) -> Result<(Dtype, Vec<usize>, Vec<u8>), TorchError> {
    let n = samples.len();
    match &samples.inputs {
        Inputs::Pixels { values, .. } => {
            let mut shape = vec![n];
            shape.extend(match dataset.input_shape() {
                crate::spec::ActivationShape::Spatial {
                    channels,
                    height,
                    width,
                } => vec![channels, height, width],
                crate::spec::ActivationShape::Flat { features } => vec![features],
            });
            Ok((Dtype::U8, shape, values.clone()))
        }
        Inputs::Dense { width, .. } | Inputs::Sparse { width, .. } => {
            let width = *width;
            if n.saturating_mul(width).saturating_mul(4) > MAX_PREPARED_BYTES {
                return Err(TorchError::Data(format!(
                    "{} samples of {width} features would be {} MB of prepared data; export runs on data of this size from a CSV file",
                    n,
                    n * width * 4 / 1_000_000
                )));
            }
            let indices: Vec<u32> = (0..n as u32).collect();
            let mut values = Vec::new();
            samples.fill_inputs(&indices, &mut values);
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            Ok((Dtype::F32, vec![n, width], bytes))
        }
    }
}

/// The folder's README: what it is and the two commands.
fn readme(run: &RunFile, checkpoint_step: Option<usize>) -> String {
    let settings = &run.record.settings;
    let torchvision = if settings.augmentation.is_some() {
        "torch, safetensors and torchvision (this run augments its images)"
    } else {
        "torch and safetensors"
    };
    let init = match checkpoint_step {
        Some(step) => format!(
            "\n`--init-from checkpoint.safetensors` starts from the run's weights at step {step} instead of afresh.\n"
        ),
        None => String::new(),
    };
    let data = match &run.data {
        DataFiles::Idx { .. } | DataFiles::Csv { .. } => "the dataset's own files (run.json says where; `--data DIR` when they moved), prepared with the preprocessing LayerLab fitted (recorded in run.json, not refitted)",
        DataFiles::Prepared { .. } => "the prepared samples in data.safetensors, exactly as LayerLab trained on them",
    };
    format!(
        "# {name}: LayerLab run {id} as a PyTorch training script\n\n\
         Needs {torchvision}. Reads {data}; the split's rows are in run.json.\n\n\
         ```\n\
         python train.py                                  # one process: CUDA when present, else CPU\n\
         torchrun --nproc_per_node 2 train.py             # DistributedDataParallel, the global batch kept\n\
         layerlab runs import .                           # the result back as a run in LayerLab\n\
         ```\n{init}\n\
         It trains {epochs} epoch(s) of batch {batch} with {optimizer} and writes `metrics.jsonl` (LayerLab's\n\
         event schema) and `model.safetensors` (LayerLab's metadata: it opens in LayerLab as it is),\n\
         and ends with the same test line as `layerlab train`. Where PyTorch and LayerLab differ is\n\
         said at the top of train.py.\n",
        name = run.run.name,
        id = run.run.id,
        epochs = settings.epochs,
        batch = settings.batch_size,
        optimizer = settings.optimizer.name(),
    )
}
