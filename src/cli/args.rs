//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "layerlab",
    version,
    about = "Design a neural network, train it on MNIST, watch it learn"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a layer stack headless and print the test accuracy.
    Train(Box<TrainArgs>),
    /// Classify an image file with a saved model.
    Predict(PredictArgs),
    /// List the presets, or print one as a JSON layer stack.
    Presets(PresetsArgs),
    /// Measure training throughput and prediction latency.
    Bench(BenchArgs),
    /// Evaluate a saved model on the MNIST test set.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Start from a preset (its stack, optimizer and batch size).
    #[arg(long, default_value = "mlp", conflicts_with = "spec")]
    pub preset: String,
    /// A layer stack JSON file (see `layerlab presets --print cnn`).
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Continue from weights saved by --export.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub epochs: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// sgd, adam, adamw or rmsprop (PyTorch defaults); defaults to the preset's.
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Learning rate; defaults to the optimizer's.
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub momentum: Option<f64>,
    #[arg(long)]
    pub weight_decay: Option<f64>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// cross-entropy or mse.
    #[arg(long, default_value = "cross-entropy")]
    pub loss: String,
    /// Train on only the first N training images (quick runs).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Evaluate on only the first N test images.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Training images held out (from the end) for validation.
    #[arg(long, default_value_t = layerlab::train::DEFAULT_VALIDATION_SIZE)]
    pub validation_size: usize,
    /// Directory with the MNIST IDX files (default: the shipped assets/mnist).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Write the trained weights (and the stack) to this .safetensors file.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Write every event as one JSON object per line.
    #[arg(long)]
    pub log_jsonl: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A .safetensors file written by `layerlab train --export` or the window.
    #[arg(long)]
    pub model: PathBuf,
    /// The image to classify (PNG, JPEG, BMP, GIF).
    pub image: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PresetsArgs {
    /// Print this preset's layer stack as JSON.
    #[arg(long)]
    pub print: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Timed runs per figure (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Measure only this preset (any preset; useful under a profiler).
    #[arg(long)]
    pub only: Option<String>,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A .safetensors file written by `layerlab train --export` or the window.
    #[arg(long)]
    pub model: PathBuf,
    /// Also write the test-set logits here, as little-endian f32, one row of classes per image.
    #[arg(long)]
    pub dump_logits: Option<PathBuf>,
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}
