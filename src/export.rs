//! Saved models: one `.safetensors` file holding the weights and the layer stack.
//!
//! Tensor names and shapes are those of PyTorch's `nn.Sequential` for the same stack
//! ("0.weight" `[128, 784]`, conv weights `[out, in, k, k]`, flatten in NCHW order), so
//! `model.load_state_dict(safetensors.torch.load_file(path))` works in PyTorch. The stack, the
//! input shape and the class count go in the file's metadata, so the file alone rebuilds the
//! model. The data card (dataset name, task with class names or target and units, and the
//! preprocessing fitted on the training split) goes there too, so the file alone turns raw
//! input into a prediction. Writes go to a temporary file that is renamed into place.

use std::collections::HashMap;
use std::path::Path;

use ::safetensors::tensor::{Dtype, SafeTensors, TensorView};
use dfdx::prelude::Cpu;

use crate::data::DataCard;
use crate::model::{Model, NamedTensor, Weights, WeightsMismatch};
use crate::spec::{validate, ActivationShape, ModelSpec, SpecError};
use crate::train::TrainConfig;

const SPEC_KEY: &str = "layerlab.spec";
const INPUT_KEY: &str = "layerlab.input_shape";
const CLASSES_KEY: &str = "layerlab.classes";
const DATA_KEY: &str = "layerlab.data";
const TRAINING_KEY: &str = "layerlab.training";

/// Why a model cannot be written (as safetensors or ONNX).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the data card would not read back ({0}); a fitted statistic is not a finite number")]
    CardNotReadable(serde_json::Error),
    #[error("cannot write the metadata as JSON: {0}")]
    Json(serde_json::Error),
    #[error("tensor {name}: {reason}")]
    Tensor { name: String, reason: String },
    #[error("safetensors: {0}")]
    Safetensors(String),
    #[error(transparent)]
    Stack(#[from] SpecError),
    #[error("layer {layer}: tensor {name} is missing")]
    MissingTensor { layer: usize, name: String },
}

/// Everything needed to rebuild a trained model.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedModel {
    pub spec: ModelSpec,
    /// `[channels, height, width]` of one input sample (`[1, 1, n]` for n features).
    pub input_shape: [usize; 3],
    /// Values the model outputs per sample: classes, or 1 for regression.
    pub classes: usize,
    pub weights: Weights,
    /// What the model was trained on and how raw input is prepared for it. Files saved
    /// before datasets were first-class have none (they are MNIST models).
    pub card: Option<DataCard>,
    /// How it was trained (optimizer, schedule, augmentation, early stopping...), for the
    /// record: inference never reads it, and a file whose settings do not read back (an
    /// older or newer LayerLab's) still opens.
    pub training: Option<TrainConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("cannot write {path}: {cause}")]
    Write { path: String, cause: std::io::Error },
    #[error("{path} is not a valid safetensors file: {reason}")]
    Format { path: String, reason: String },
    #[error("{path} has no LayerLab layer stack in its metadata (was it saved by LayerLab?)")]
    NoSpec { path: String },
    #[error("{path}: {reason}")]
    BadMetadata { path: String, reason: String },
    #[error("{path}: the stored layer stack is invalid: {cause}")]
    InvalidStack { path: String, cause: SpecError },
    #[error("{path}: {cause}")]
    Mismatch {
        path: String,
        cause: WeightsMismatch,
    },
}

impl SavedModel {
    /// `[channels, height, width]` of a sample shape, as stored in the metadata.
    pub fn input_shape_of(shape: ActivationShape) -> [usize; 3] {
        match shape {
            ActivationShape::Spatial {
                channels,
                height,
                width,
            } => [channels, height, width],
            ActivationShape::Flat { features } => [1, 1, features],
        }
    }

    pub fn from_model(model: &Model, card: &DataCard) -> Self {
        Self {
            spec: model.spec.clone(),
            input_shape: Self::input_shape_of(model.plan.input),
            classes: card.task.outputs(),
            weights: model.weights(),
            card: Some(card.clone()),
            training: None,
        }
    }

    /// The shape of one model input: the card's when there is one (feature vectors are flat).
    pub fn input(&self) -> ActivationShape {
        match &self.card {
            Some(card) => card.input_shape(),
            // `input_shape_of` writes feature vectors as [1, 1, features].
            None => match self.input_shape {
                [1, 1, features] => ActivationShape::Flat { features },
                [c, h, w] => ActivationShape::image(c, h, w),
            },
        }
    }

    /// The card of the file, or MNIST's for a file saved before cards existed.
    pub fn card_or_mnist(&self) -> DataCard {
        self.card.clone().unwrap_or_else(|| DataCard {
            dataset: "mnist".into(),
            task: crate::data::Task::Classification {
                class_names: (0..self.classes).map(|c| c.to_string()).collect(),
            },
            preprocessing: crate::data::Preprocessing {
                input: crate::data::InputPipeline::Image {
                    channels: self.input_shape[0],
                    height: self.input_shape[1],
                    width: self.input_shape[2],
                    max_level: 255,
                    framing: crate::data::ImageFraming::Digit,
                },
                target: None,
            },
            builtin_options: None,
        })
    }

    /// Validates the stack and checks every tensor against it; `source` names the file.
    pub fn into_model(self, device: &Cpu, source: &str) -> Result<Model, ModelFileError> {
        let plan = validate(&self.spec, self.input(), self.classes).map_err(|e| {
            ModelFileError::InvalidStack {
                path: source.into(),
                cause: e,
            }
        })?;
        Model::from_weights(self.spec, plan, &self.weights, device).map_err(|e| {
            ModelFileError::Mismatch {
                path: source.into(),
                cause: e,
            }
        })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, ExportError> {
        let metadata: HashMap<String, String> = metadata(self)?.into_iter().collect();
        tensors_to_safetensors(&self.weights.tensors, metadata)
    }

    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self, ModelFileError> {
        let format = |reason: String| ModelFileError::Format {
            path: source.into(),
            reason,
        };
        let bad = |reason: String| ModelFileError::BadMetadata {
            path: source.into(),
            reason,
        };
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let spec_json = metadata
            .get(SPEC_KEY)
            .ok_or_else(|| ModelFileError::NoSpec {
                path: source.into(),
            })?;
        let spec = ModelSpec::from_json(spec_json).map_err(|e| bad(e.to_string()))?;
        let input_shape: [usize; 3] = metadata
            .get(INPUT_KEY)
            .ok_or_else(|| bad(format!("metadata has no {INPUT_KEY}")))
            .and_then(|s| {
                serde_json::from_str(s)
                    .map_err(|e| bad(format!("{INPUT_KEY} is not [c, h, w]: {e}")))
            })?;
        let classes: usize = metadata
            .get(CLASSES_KEY)
            .ok_or_else(|| bad(format!("metadata has no {CLASSES_KEY}")))
            .and_then(|s| {
                s.parse()
                    .map_err(|e| bad(format!("{CLASSES_KEY} is not a number: {e}")))
            })?;
        let card: Option<DataCard> = metadata
            .get(DATA_KEY)
            .map(|s| {
                serde_json::from_str(s)
                    .map_err(|e| bad(format!("{DATA_KEY} is not a data card: {e}")))
            })
            .transpose()?;
        if let Some(card) = &card {
            if card.task.outputs() != classes
                || Self::input_shape_of(card.input_shape()) != input_shape
            {
                return Err(bad(format!(
                    "{DATA_KEY} describes {} inputs and {} outputs but the file says {input_shape:?} and {classes}",
                    card.input_shape(),
                    card.task.outputs()
                )));
            }
        }
        let mut named = tensors_from_safetensors(bytes).map_err(format)?;
        // Stack order: by layer index, weight before bias.
        named.sort_by_key(|t| {
            let (index, kind) = t.name.split_once('.').unwrap_or((&t.name, ""));
            (
                index.parse::<usize>().unwrap_or(usize::MAX),
                kind != "weight",
            )
        });
        let training = metadata
            .get(TRAINING_KEY)
            .and_then(|s| serde_json::from_str(s).ok());
        Ok(Self {
            spec,
            input_shape,
            classes,
            weights: Weights { tensors: named },
            card,
            training,
        })
    }

    /// Writes the model's safetensors file ([`write_atomically`]).
    pub fn save(&self, path: &Path) -> Result<(), ModelFileError> {
        let bytes = self.to_bytes().map_err(|e| ModelFileError::Format {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        write_atomically(path, &bytes)
    }

    /// Checks before training that a model can be written to `path`: the target is a regular
    /// file or absent, and a file can be created (and is removed again) beside it.
    pub fn check_writable(path: &Path) -> Result<(), ModelFileError> {
        let target = export_target(path)?;
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => Path::new(".").to_path_buf(),
        };
        tempfile::Builder::new()
            .prefix(&partial_prefix(&target))
            .suffix(".partial")
            .tempfile_in(&dir)
            .map(drop)
            .map_err(|cause| ModelFileError::Write {
                path: target.display().to_string(),
                cause,
            })
    }

    pub fn load(path: &Path) -> Result<Self, ModelFileError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|cause| ModelFileError::Read {
            path: name.clone(),
            cause,
        })?;
        Self::from_bytes(&bytes, &name)
    }
}

/// A safetensors file of `tensors` (F32, and batch norm's `num_batches_tracked` as the
/// int64 scalar PyTorch keeps), with `metadata` and PyTorch's `format: pt`.
pub fn tensors_to_safetensors(
    tensors: &[NamedTensor],
    mut metadata: HashMap<String, String>,
) -> Result<Vec<u8>, ExportError> {
    let bytes: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = tensors
        .iter()
        .map(|t| {
            if crate::model::is_batches_tracked(&t.name) {
                let raw = t.values.iter().flat_map(|v| (*v as i64).to_le_bytes());
                return (t.name.clone(), t.shape.clone(), Dtype::I64, raw.collect());
            }
            let raw = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (t.name.clone(), t.shape.clone(), Dtype::F32, raw)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, shape, dtype, raw)| {
            TensorView::new(*dtype, shape.clone(), raw)
                .map(|view| (name.clone(), view))
                .map_err(|e| ExportError::Tensor {
                    name: name.clone(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, ExportError>>()?;
    metadata.insert("format".to_string(), "pt".to_string());
    ::safetensors::serialize(views, &Some(metadata))
        .map_err(|e| ExportError::Safetensors(e.to_string()))
}

/// The tensors of a safetensors file, in the file's order: F32, and `num_batches_tracked`
/// as int64; anything else is refused with a reason.
pub fn tensors_from_safetensors(bytes: &[u8]) -> Result<Vec<NamedTensor>, String> {
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let mut named = Vec::new();
    for (name, view) in tensors.tensors() {
        let dtype = view.dtype();
        let values = if dtype == Dtype::F32 {
            view.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        } else if dtype == Dtype::I64 && crate::model::is_batches_tracked(&name) {
            // Batch norm's counter, as PyTorch writes it.
            view.data()
                .chunks_exact(8)
                .map(|b| {
                    let bytes = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
                    i64::from_le_bytes(bytes) as f32
                })
                .collect()
        } else {
            return Err(format!(
                "tensor {name} is {dtype:?}; only F32 is supported (and I64 for num_batches_tracked)"
            ));
        };
        named.push(NamedTensor {
            name,
            shape: view.shape().to_vec(),
            values,
        });
    }
    Ok(named)
}

/// Where a save to `path` really writes: through a symlink to its target; refused when the
/// target exists and is not a regular file.
fn export_target(path: &Path) -> Result<std::path::PathBuf, ModelFileError> {
    let refuse = |what: &str| ModelFileError::Write {
        path: path.display().to_string(),
        cause: std::io::Error::other(format!("{what}, not a file; choose a file name")),
    };
    let target = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(resolved) => resolved,
            // A dangling link: write where it points.
            Err(_) => match std::fs::read_link(path) {
                Ok(link) => path.parent().map_or(link.clone(), |p| p.join(&link)),
                Err(cause) => {
                    return Err(ModelFileError::Write {
                        path: path.display().to_string(),
                        cause,
                    })
                }
            },
        },
        _ => path.to_path_buf(),
    };
    match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => Err(refuse("it is a folder")),
        Ok(meta) if !meta.is_file() => Err(refuse("it is a device or other special file")),
        _ => Ok(target),
    }
}

/// `.NAME.` : the start of the temporary files a save to `target` writes.
fn partial_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.")
}

/// Whether `name` is one of the temporary files a save writes: `.NAME.XXXXXX.partial`.
fn is_partial_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".partial"))
        .and_then(|rest| rest.rsplit_once('.'))
        .is_some_and(|(target, random)| !target.is_empty() && random.len() == 6)
}

/// Removes every `.NAME.XXXXXX.partial` in `dir`, whatever NAME, that no save holds: a save
/// keeps an exclusive lock on its file until it is renamed into place, so one whose lock can
/// be taken was left by a process killed while saving.
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_partial_name(&name) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let Ok(file) = std::fs::File::open(entry.path()) else {
            continue;
        };
        if file.try_lock().is_ok() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename.
///
/// The temporary file is named `.NAME.XXXXXX.partial` and locked while it is written, so
/// one left by a killed process is recognisable, and every such leftover in the folder is
/// removed at the start of the next save there, whatever its name. A symlink is written through to its target; anything that is not a
/// regular file (a directory, a device) is refused; a replaced file keeps its mode.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelFileError> {
    let target = export_target(path)?;
    let name = target.display().to_string();
    let write = |cause| ModelFileError::Write {
        path: name.clone(),
        cause,
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let prefix = partial_prefix(&target);
    remove_stale_partials(&dir);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    // A new file gets the user's normal mode (0666 less the umask, as any program's new
    // file), not the private 0600 of a temporary file; a replaced file keeps its mode.
    #[cfg(unix)]
    let existing_mode = {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
        std::fs::metadata(&target)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions())
    };
    let mut file = builder.tempfile_in(&dir).map_err(write)?;
    // Held until the file is renamed into place and closed: a save in progress is never
    // taken for a leftover.
    file.as_file().lock().map_err(write)?;
    #[cfg(unix)]
    if let Some(permissions) = existing_mode {
        file.as_file().set_permissions(permissions).map_err(write)?;
    }
    std::io::Write::write_all(&mut file, bytes).map_err(write)?;
    file.as_file().sync_all().map_err(write)?;
    file.persist(&target).map_err(|e| write(e.error))?;
    Ok(())
}

/// The metadata both file formats carry: the stack, the input shape, the classes and the
/// data card (safetensors' `__metadata__`, ONNX's `metadata_props`).
pub fn metadata(model: &SavedModel) -> Result<Vec<(String, String)>, ExportError> {
    let mut entries = vec![
        (
            SPEC_KEY.to_string(),
            serde_json::to_string(&model.spec).map_err(ExportError::Json)?,
        ),
        (
            INPUT_KEY.to_string(),
            serde_json::to_string(&model.input_shape).map_err(ExportError::Json)?,
        ),
        (CLASSES_KEY.to_string(), model.classes.to_string()),
    ];
    if let Some(card) = &model.card {
        let text = serde_json::to_string(card).map_err(ExportError::Json)?;
        // JSON has no NaN or infinity (serde_json writes `null`): a card that does not read
        // back would make a file that cannot be opened, so none is written.
        serde_json::from_str::<DataCard>(&text).map_err(ExportError::CardNotReadable)?;
        entries.push((DATA_KEY.to_string(), text));
    }
    if let Some(training) = &model.training {
        let text = serde_json::to_string(training).map_err(ExportError::Json)?;
        entries.push((TRAINING_KEY.to_string(), text));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_with_a_statistic_that_is_not_a_number_is_never_written() {
        use crate::data::{table_dataset, RawTable, TableOptions, TaskKind};
        let csv = "x,y\n1,1.5\n2,2.5\n3,3.5\n4,4.5\n5,5.5\n6,6.5\n";
        let table = RawTable::from_reader(csv.as_bytes(), "t.csv").unwrap();
        let options = TableOptions {
            task: Some(TaskKind::Regression),
            ..TableOptions::default()
        };
        let (data, _) = table_dataset("t", &table, None, &options).unwrap();
        let spec = ModelSpec::new(vec![crate::spec::Layer::Linear { out_features: 1 }]);
        let plan = validate(&spec, data.input_shape(), 1).unwrap();
        let model = Model::initialise(spec, plan, &Cpu::default(), 0);
        let mut card = data.card.clone();
        let good = SavedModel::from_model(&model, &card);
        assert!(good.to_bytes().is_ok());
        // serde_json writes NaN as null, which does not read back as a number.
        card.preprocessing.target = Some(crate::data::TargetScaling {
            log: false,
            mean: f64::NAN,
            std: 1.0,
        });
        let bad = SavedModel::from_model(&model, &card);
        let err = bad.to_bytes().unwrap_err().to_string();
        assert!(err.contains("would not read back"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        assert!(bad.save(&path).is_err());
        assert!(!path.exists());
    }

    #[test]
    fn a_save_removes_leftovers_of_any_name_but_not_a_save_in_progress_or_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path(".a.onnx.AbC123.partial"), b"killed").unwrap();
        std::fs::write(path(".notes.partial"), b"not ours").unwrap();
        std::fs::write(path("b.partial"), b"not ours").unwrap();
        // Another save, still writing: it holds its lock.
        std::fs::write(path(".c.safetensors.XyZ789.partial"), b"in progress").unwrap();
        let writing = std::fs::File::open(path(".c.safetensors.XyZ789.partial")).unwrap();
        writing.lock().unwrap();

        write_atomically(&path("model.safetensors"), b"model").unwrap();
        assert!(!path(".a.onnx.AbC123.partial").exists());
        assert!(path(".c.safetensors.XyZ789.partial").exists());
        assert!(path(".notes.partial").exists() && path("b.partial").exists());
        assert_eq!(std::fs::read(path("model.safetensors")).unwrap(), b"model");
        drop(writing);
        write_atomically(&path("model.safetensors"), b"again").unwrap();
        assert!(!path(".c.safetensors.XyZ789.partial").exists());
    }
}
