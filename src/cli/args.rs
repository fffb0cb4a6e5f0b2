//! Command-line arguments (clap derive). Every closed set of choices is a `ValueEnum`, so
//! `--help` lists it and a typo is refused by clap with the valid values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use layerlab::data::{ColumnKind, TaskKind, TextWeighting, DEFAULT_VOCABULARY_SIZE};
use layerlab::optim::Monitor;
use layerlab::train::LossKind;

#[derive(Debug, Parser)]
#[command(
    name = "layerlab",
    version,
    about = "Design a neural network, train it on images, tables or text, watch it learn"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a layer stack headless and print the test metrics.
    Train(Box<TrainArgs>),
    /// Predict with a saved model: an image file, a CSV file of rows, or --text.
    Predict(PredictArgs),
    /// Why an image model predicts what it does: saliency maps (gradient x input, occlusion,
    /// Grad-CAM, and the same map for random weights) and every layer's activations, as PNG.
    Explain(ExplainArgs),
    /// List the presets (and the datasets each fits), or print one as a JSON layer stack.
    Presets(PresetsArgs),
    /// List the built-in datasets.
    Datasets(DatasetsArgs),
    /// Measure training throughput and prediction latency.
    Bench(BenchArgs),
    /// Evaluate a saved model on a dataset's test split (or on a CSV file of your own).
    Eval(EvalArgs),
    /// Convert a saved model to another format: ONNX (opset 13) for other runtimes.
    Export(ExportArgs),
    /// The runs recorded in the run store: list them (the default), show, compare, resume,
    /// fork, tag, rename, note or delete them.
    Runs(RunsArgs),
    /// Find a learning rate: Smith's range test (fastai's lr_find), the rate growing
    /// exponentially batch by batch while the loss is watched; prints the curve and two
    /// suggestions. Takes train's data, stack and optimizer options.
    LrFind(Box<LrFindArgs>),
    /// Draw what an augmentation does: a grid with training images and the copies training
    /// would see in successive epochs.
    AugmentPreview(AugmentPreviewArgs),
}

#[derive(Debug, Args)]
pub struct AugmentPreviewArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// What to apply, as train's --augment takes it (e.g. rotate=10,translate=0.1,erase=0.5).
    #[arg(long, value_name = "SPEC")]
    pub augment: String,
    /// Where to write the grid (PNG).
    #[arg(long)]
    pub out: PathBuf,
    /// Training images shown, one per row (drawn by --seed).
    #[arg(long, default_value_t = 8)]
    pub images: usize,
    /// Augmented copies of each, one per epoch.
    #[arg(long, default_value_t = 6)]
    pub copies: usize,
    /// The run seed the draws come from (a run with this seed sees these very copies).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct LrFindArgs {
    #[command(flatten)]
    pub train: TrainArgs,
    /// The first rate of the sweep.
    #[arg(long, default_value_t = 1e-7)]
    pub start_lr: f64,
    /// The last rate of the sweep.
    #[arg(long, default_value_t = 10.0)]
    pub end_lr: f64,
    /// Batches in the sweep (it stops sooner when the loss blows up).
    #[arg(long, default_value_t = 100)]
    pub num_steps: usize,
    /// Draw the curve with the suggestions marked to this PNG file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the curve (step, lr, loss, smoothed loss) to this CSV file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// The run store (default: runs.sqlite in LayerLab's data folder, or $LAYERLAB_DATA_DIR).
    #[arg(long, global = true)]
    pub store: Option<PathBuf>,
    /// List: only runs on this dataset.
    #[arg(long)]
    pub dataset: Option<String>,
    /// List: only runs with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// List: only runs with this status (running, finished, stopped, interrupted, failed).
    #[arg(long)]
    pub status: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Everything recorded about a run (an id or the start of one).
    Show {
        id: String,
        /// Every step's metrics as CSV instead.
        #[arg(long)]
        metrics: bool,
    },
    /// Only what differs between two or more runs: settings, layer stacks aligned layer by
    /// layer, then their metrics side by side.
    Compare {
        #[arg(required = true, num_args = 2..)]
        ids: Vec<String>,
    },
    /// Continue a stopped or interrupted run from its last checkpoint, exactly as if it had
    /// never stopped. Takes train's output options (--export, --export-onnx, --json, --quiet,
    /// --log-jsonl).
    Resume {
        id: String,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
    /// Start a new run from a run's checkpoint (the newest at or before --step) with any train
    /// option changed (--lr, --epochs, --batch-size, --optimizer, --loss...); its steps
    /// continue the parent's numbering.
    Fork {
        id: String,
        /// Fork from the newest checkpoint at or before this step (default: the last).
        #[arg(long)]
        step: Option<usize>,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
    /// Add tags to a run (or remove them with --remove).
    Tag {
        id: String,
        #[arg(required = true)]
        tags: Vec<String>,
        #[arg(long)]
        remove: bool,
    },
    /// Write runs as TensorBoard event files, one folder per run (scalars and the HParams
    /// tab's settings and final metrics): `tensorboard --logdir DIR`.
    ExportTensorboard {
        #[arg(required = true)]
        ids: Vec<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a run as a folder that trains it with PyTorch: train.py (one process, or
    /// unchanged under `torchrun --nproc_per_node N`), run.json (the record, the data's files
    /// and fitted preprocessing, the split's rows), the run's last checkpoint and a README.
    ExportTorch {
        id: String,
        /// The folder to write (created; an earlier export in it is replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Record what an exported folder's train.py wrote (metrics.jsonl, model.safetensors) as a
    /// run, its parent the exported run. Checks everything before writing anything.
    Import { dir: PathBuf },
    /// Give a run a new name.
    Rename { id: String, name: String },
    /// Set a run's note (an empty string clears it).
    Note { id: String, note: String },
    /// Delete runs, their metrics and their checkpoint files.
    Delete {
        #[arg(required = true)]
        ids: Vec<String>,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A .safetensors file written by `layerlab train --export` or the window.
    #[arg(long)]
    pub model: PathBuf,
    /// Write the model as ONNX (opset 13) here; its preprocessing goes in metadata_props.
    #[arg(long)]
    pub onnx: PathBuf,
}

/// The optimizers, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
    Rmsprop,
}

impl OptimizerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Adam => "adam",
            Self::Adamw => "adamw",
            Self::Rmsprop => "rmsprop",
        }
    }
}

/// The presets, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PresetName {
    Mlp,
    MlpDeep,
    Cnn,
    CnnDeep,
    CnnBn,
    #[value(name = "mnist-99")]
    Mnist99,
    DigitsCnn,
    DigitsMlp,
    MlpRegressor,
    MlpRegressorRobust,
    TextBow,
    TabularMlp,
    Playground,
}

impl PresetName {
    /// The name `layerlab::presets::preset` knows it by.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::MlpDeep => "mlp-deep",
            Self::Cnn => "cnn",
            Self::CnnDeep => "cnn-deep",
            Self::CnnBn => "cnn-bn",
            Self::Mnist99 => "mnist-99",
            Self::DigitsCnn => "digits-cnn",
            Self::DigitsMlp => "digits-mlp",
            Self::MlpRegressor => "mlp-regressor",
            Self::MlpRegressorRobust => "mlp-regressor-robust",
            Self::TextBow => "text-bow",
            Self::TabularMlp => "tabular-mlp",
            Self::Playground => "playground",
        }
    }
}

/// `NAME=KIND` for `--column`.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnChoice {
    pub name: String,
    pub kind: ColumnKind,
}

fn parse_column_choice(text: &str) -> Result<ColumnChoice, String> {
    let (name, kind) = text.rsplit_once('=').ok_or_else(|| {
        format!("{text:?} is not NAME=KIND (numeric, categorical, text or ignore)")
    })?;
    let kind = ColumnKind::from_str(kind, true).map_err(|_| {
        format!("{kind:?} is not a column kind; use numeric, categorical, text or ignore")
    })?;
    Ok(ColumnChoice {
        name: name.to_string(),
        kind,
    })
}

/// Which data, and how to prepare it.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// A built-in dataset (see `layerlab datasets`), a CSV file (.csv or .csv.gz), a folder
    /// of images with one sub-folder per class (train/ and test/ inside when split), or a
    /// folder of MNIST-format IDX files. Default: mnist.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Directory with MNIST-format IDX files (the same as --dataset DIR).
    #[arg(long, conflicts_with = "dataset")]
    pub data_dir: Option<PathBuf>,
    /// CSV: the column to predict (default: the last).
    #[arg(long)]
    pub target: Option<String>,
    /// CSV: override a column's guessed kind, NAME=numeric|categorical|text|ignore (repeatable).
    #[arg(long = "column", value_parser = parse_column_choice)]
    pub columns: Vec<ColumnChoice>,
    /// CSV: classification or regression (default: guessed from the target column).
    #[arg(long)]
    pub task: Option<TaskKind>,
    /// Regression: the target's unit, for messages ("USD").
    #[arg(long)]
    pub unit: Option<String>,
    /// Regression: train on the logarithm of the target (positive targets only).
    #[arg(long)]
    pub log_target: bool,
    /// Text: keep this many most frequent words.
    #[arg(long, default_value_t = DEFAULT_VOCABULARY_SIZE)]
    pub vocabulary: usize,
    /// Text: multi-hot or tf-idf bag of words.
    #[arg(long, value_enum, default_value_t = TextWeighting::MultiHot)]
    pub text_weighting: TextWeighting,
    /// Seed of the 80/20 train/test split for data without a test part, and of 2-D sets.
    #[arg(long, default_value_t = 42)]
    pub split_seed: u64,
    /// 2-D sets: number of points.
    #[arg(long, default_value_t = 1_000)]
    pub samples: usize,
    /// 2-D sets: noise from 0 to 1.
    #[arg(long, default_value_t = 0.1)]
    pub noise: f32,
    /// Image folders: resize every image to SIZE x SIZE (default: the median size, at most 64).
    #[arg(long)]
    pub image_size: Option<usize>,
    /// Image folders: grey or rgb (default: rgb when any image has colour).
    #[arg(long, value_enum)]
    pub colour: Option<ColourMode>,
}

/// Colour mode of an image folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColourMode {
    Grey,
    Rgb,
}

/// A learning-rate schedule, as `torch.optim.lr_scheduler` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleKind {
    Constant,
    /// StepLR: times --gamma every --step-size epochs.
    Step,
    /// MultiStepLR: times --gamma at each of --milestones (epochs).
    Multistep,
    /// ExponentialLR: times --gamma every epoch.
    Exponential,
    /// CosineAnnealingLR: down to --eta-min over --t-max epochs (default: the run's).
    Cosine,
    /// OneCycleLR over the run's steps, --lr being its max_lr.
    Onecycle,
    /// ReduceLROnPlateau: times --factor when --monitor has not improved for more than
    /// --patience epochs.
    Plateau,
}

/// The schedule options of `train` (PyTorch's defaults).
#[derive(Debug, Args, Clone)]
pub struct ScheduleArgs {
    /// The learning rate over the run (default: constant).
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleKind>,
    /// step: epochs between decays.
    #[arg(long, default_value_t = 1)]
    pub step_size: usize,
    /// step, multistep, exponential: the factor of each decay (step and multistep: 0.1).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// multistep: the epochs at which the rate decays, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub milestones: Vec<usize>,
    /// cosine: the epochs of the half cosine (0: the run's epochs).
    #[arg(long, default_value_t = 0)]
    pub t_max: usize,
    /// cosine: the lowest rate.
    #[arg(long, default_value_t = 0.0)]
    pub eta_min: f64,
    /// onecycle: the share of the steps spent rising.
    #[arg(long, default_value_t = 0.3)]
    pub pct_start: f64,
    /// onecycle: cos or linear annealing.
    #[arg(long, default_value = "cos")]
    pub anneal: String,
    /// onecycle: the first rate is max_lr / this.
    #[arg(long, default_value_t = 25.0)]
    pub div_factor: f64,
    /// onecycle: the last rate is the first / this.
    #[arg(long, default_value_t = 1e4)]
    pub final_div_factor: f64,
    /// onecycle: rise, fall back, then anneal (three phases).
    #[arg(long)]
    pub three_phase: bool,
    /// onecycle: leave momentum (Adam's beta1) alone.
    #[arg(long)]
    pub no_cycle_momentum: bool,
    /// Linear warm-up steps before the schedule (LinearLR in front, as SequentialLR).
    #[arg(long, default_value_t = 0)]
    pub warmup_steps: usize,
    /// The warm-up's first factor of the rate, rising to 1 (LinearLR's start_factor).
    #[arg(long, default_value_t = 1.0 / 3.0)]
    pub warmup_start_factor: f64,
    /// plateau: the factor of each reduction.
    #[arg(long, default_value_t = 0.1)]
    pub factor: f64,
    /// plateau: epochs without improvement tolerated before a reduction.
    #[arg(long, default_value_t = 10)]
    pub patience: usize,
    /// plateau: the least improvement that counts (relative unless --threshold-mode abs).
    #[arg(long, default_value_t = 1e-4)]
    pub threshold: f64,
    /// plateau: rel or abs.
    #[arg(long, default_value = "rel")]
    pub threshold_mode: String,
    /// plateau: epochs after a reduction before counting again.
    #[arg(long, default_value_t = 0)]
    pub cooldown: usize,
    /// plateau: the lowest rate.
    #[arg(long, default_value_t = 0.0)]
    pub min_lr: f64,
}

/// Early stopping's options (Keras' EarlyStopping; the best epoch's weights restored).
#[derive(Debug, Args, Clone)]
pub struct EarlyStopArgs {
    /// Stop after this many epochs without improvement of --monitor, and keep the best
    /// epoch's weights (also when the run reaches its last epoch).
    #[arg(long, value_name = "PATIENCE")]
    pub early_stop: Option<usize>,
    /// The validation metric early stopping and --schedule plateau watch; its direction
    /// follows from it (accuracy up, loss and RMSE down).
    #[arg(long, value_enum, default_value = "val_loss")]
    pub monitor: Monitor,
    /// early stop: the least change that counts as an improvement.
    #[arg(long, default_value_t = 0.0)]
    pub min_delta: f64,
    /// early stop: epochs not watched at the start.
    #[arg(long, default_value_t = 0)]
    pub start_from_epoch: usize,
    /// early stop: keep the last epoch's weights instead of the best one's.
    #[arg(long)]
    pub no_restore_best: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Start from a preset (its stack, optimizer, batch size, epochs and loss). Default: the
    /// first preset made for the dataset, or a small default stack for data of your own.
    #[arg(long, value_enum, conflicts_with = "spec")]
    pub preset: Option<PresetName>,
    /// A layer stack JSON file (see `layerlab presets --print cnn`).
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Continue from weights saved by --export (with --spec: weights for that stack).
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Default: the preset's (1 for the image presets, 100 for the tabular ones).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Default: the preset's.
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate; defaults to the optimizer's.
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Default: the preset's, else cross-entropy for classes and mse for regression.
    #[arg(long, value_enum)]
    pub loss: Option<LossKind>,
    /// Train on only the first N training samples (quick runs).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate on only the first N test samples.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Training samples held out (from the end) for validation. Default: 5,000 for the large
    /// image sets, a tenth of the training split otherwise.
    #[arg(long)]
    pub validation_size: Option<usize>,
    /// Write the trained weights (with the stack and the data card) to this .safetensors file.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Also write the trained model as ONNX (opset 13) to this file.
    #[arg(long)]
    pub export_onnx: Option<PathBuf>,
    /// Write every event as one JSON object per line (training health included).
    #[arg(long)]
    pub log_jsonl: Option<PathBuf>,
    /// Steps between training-health reports: weight and gradient norms and histograms,
    /// dead ReLU units, loss spikes, with warnings printed once each (0: none).
    #[arg(long, default_value_t = layerlab::train::DEFAULT_HEALTH_EVERY_STEPS)]
    pub health_every: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Print the final result as one JSON object (the last line).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub early_stop: EarlyStopArgs,
    /// Random changes to each training image, comma-separated: rotate=DEGREES,
    /// translate=FRACTION, scale=FRACTION, shear=DEGREES, elastic=ALPHA (elastic_sigma=4),
    /// flip, noise=STD, erase=P; `none` turns a preset's off. Default: the preset's (mnist-99:
    /// rotate=10,translate=0.1,scale=0.1). See what it does: `layerlab augment-preview`.
    #[arg(long, value_name = "SPEC")]
    pub augment: Option<String>,
    /// Record the run in this run store (default: runs.sqlite in LayerLab's data folder).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Do not record the run.
    #[arg(long, conflicts_with = "store")]
    pub no_record: bool,
    /// Also write TensorBoard event files into this folder as the run trains.
    #[arg(long)]
    pub tensorboard: Option<PathBuf>,
    /// The run's name in the store (default: dataset, preset and the id's start).
    #[arg(long)]
    pub name: Option<String>,
    /// Also write a checkpoint every this many steps (always: at each epoch's end).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A .safetensors file written by `layerlab train --export` or the window.
    #[arg(long)]
    pub model: PathBuf,
    /// An image file (image models) or a CSV file of rows (table models).
    pub input: Option<PathBuf>,
    /// A sentence (text models).
    #[arg(long, conflicts_with = "input")]
    pub text: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A .safetensors file of an image model.
    #[arg(long)]
    pub model: PathBuf,
    /// The image to explain (PNG, JPEG, BMP, GIF).
    pub image: PathBuf,
    /// Where to write the saliency panels (PNG).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write every layer's activations as a grid (PNG) here.
    #[arg(long)]
    pub activations: Option<PathBuf>,
    /// The class to explain (default: the predicted one).
    #[arg(long)]
    pub class: Option<usize>,
}

#[derive(Debug, Args)]
pub struct PresetsArgs {
    /// Print this preset's layer stack as JSON.
    #[arg(long, value_enum)]
    pub print: Option<PresetName>,
    /// List the presets as one JSON array.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DatasetsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Load this dataset and describe it: shapes, task, preprocessing, class counts.
    #[arg(long)]
    pub show: Option<String>,
    /// With --show: also print the 0-based source rows of the seeded test split (to compare
    /// with other tools on the same split).
    #[arg(long, requires = "show")]
    pub test_rows: bool,
    /// Seed of the 80/20 split, as `train --split-seed`.
    #[arg(long, default_value_t = 42)]
    pub split_seed: u64,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Timed runs per figure (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Measure only this preset on MNIST (useful under a profiler).
    #[arg(long, value_enum)]
    pub only: Option<PresetName>,
    /// Measure the tiny tabular models instead (ames regressor, iris), in steps per second.
    #[arg(long)]
    pub tabular: bool,
    /// Measure the run store instead: a cnn and a cnn-bn checkpoint (copying the state,
    /// writing the file) and recording 200,000 batch events.
    #[arg(long, conflicts_with = "tabular")]
    pub run_store: bool,
    /// With --run-store: keep the store of 20 runs of 100,000 steps in this folder, and the
    /// store of 1,000 runs in its `listing` folder (point LAYERLAB_DATA_DIR at either to
    /// measure the Runs tab's chart or list in the window).
    #[arg(long, requires = "run_store")]
    pub keep_store: Option<PathBuf>,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A .safetensors file written by `layerlab train --export` or the window.
    #[arg(long)]
    pub model: PathBuf,
    /// Default: the built-in dataset the model was trained on (its test split). A CSV file is
    /// evaluated whole, through the model's own preprocessing.
    #[command(flatten)]
    pub data: DataArgs,
    /// Also write the test-set outputs here, as little-endian f32, one row per sample.
    #[arg(long)]
    pub dump_logits: Option<PathBuf>,
    /// Also write the test-set model inputs (after preprocessing) here, as little-endian f32,
    /// one row per sample: what `scripts/check_export_parity.py` feeds PyTorch.
    #[arg(long)]
    pub dump_inputs: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every preset the engine has can be named on the command line (mnist-99 once could
    /// not: it was in the table, not in this enum).
    #[test]
    fn every_preset_has_a_command_line_name() {
        for name in layerlab::presets::PRESET_NAMES {
            let parsed = PresetName::from_str(name, false)
                .unwrap_or_else(|_| panic!("--preset {name} is not accepted"));
            assert_eq!(parsed.as_str(), name);
        }
        assert_eq!(
            PresetName::value_variants().len(),
            layerlab::presets::PRESET_NAMES.len()
        );
    }
}
