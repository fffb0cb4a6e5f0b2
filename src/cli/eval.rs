//! `layerlab eval`: a saved model's test metrics on a dataset, through the model's own
//! recorded preprocessing; optionally its raw outputs.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use layerlab::data::{
    builtin, folder_dataset, load_builtin, table_inputs, DataCard, Dataset, FolderKind,
    ImageFolderOptions, InputPipeline, Inputs, RawTable, Samples, Targets, Task,
};
use layerlab::export::SavedModel;
use layerlab::model::InferenceModel;
use layerlab::train::{confusion_matrix, evaluate, precision_recall, LossKind};

use super::args::EvalArgs;

/// Samples per forward pass when dumping outputs.
const CHUNK: usize = 500;

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let source = args.model.display().to_string();
    let saved = SavedModel::load(&args.model)?;
    let card = saved.card_or_mnist();
    let model = saved.into_model(&Default::default(), &source)?;
    let dataset = evaluation_data(&card, &args)?;
    if dataset.input_shape() != card.input_shape() {
        bail!(
            "{} has inputs of shape {} but the model takes {}",
            dataset.name,
            dataset.input_shape(),
            card.input_shape()
        );
    }
    if dataset.outputs() != card.task.outputs() {
        bail!(
            "{} is a {} but the model was trained for a {}",
            dataset.name,
            dataset.task().describe(),
            card.task.describe()
        );
    }
    let indices: Vec<u32> = (0..dataset.test.len() as u32).collect();
    if let Some(path) = &args.dump_inputs {
        let mut inputs = Vec::new();
        write_f32_file(path, |out| {
            for chunk in indices.chunks(CHUNK) {
                dataset.test.fill_inputs(chunk, &mut inputs);
                for v in &inputs {
                    out.write_all(&v.to_le_bytes())?;
                }
            }
            Ok(())
        })?;
    }
    if let Some(path) = &args.dump_logits {
        let inference = InferenceModel::new(&model);
        let mut inputs = Vec::new();
        write_f32_file(path, |out| {
            for chunk in indices.chunks(CHUNK) {
                dataset.test.fill_inputs(chunk, &mut inputs);
                for v in inference.predict(&inputs, chunk.len()) {
                    out.write_all(&v.to_le_bytes())?;
                }
            }
            Ok(())
        })?;
    }
    let loss = LossKind::default_for(&card.task);
    let result = evaluate(&model, &card, &dataset.test, &indices, loss);
    if let Some(name) = result
        .predicted_values
        .iter()
        .position(|v| !v.is_finite())
        .map(|_| "a predicted value")
        .or_else(|| (!result.loss.is_finite()).then_some("the loss"))
    {
        bail!(
            "{name} is not a finite number on {}: {}",
            dataset.name,
            model.weights().overflow_cause()
        );
    }
    let per_class = match &card.task {
        Task::Classification { class_names } => {
            let matrix = confusion_matrix(
                dataset.test.labels(),
                &indices,
                &result.predictions,
                class_names.len(),
            );
            class_names
                .iter()
                .zip(precision_recall(&matrix))
                .map(|(name, (precision, recall))| (name.clone(), precision, recall))
                .collect()
        }
        Task::Regression { .. } => Vec::new(),
    };
    if args.json {
        let classes: Vec<serde_json::Value> = per_class
            .iter()
            .map(|(name, precision, recall)| {
                serde_json::json!({ "class": name, "precision": precision, "recall": recall })
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "dataset": dataset.name,
                "samples": indices.len(),
                "test": result,
                "per_class": classes,
            })
        );
        return Ok(());
    }
    if !per_class.is_empty() {
        outln!("{:<16} {:>9} {:>7}", "class", "precision", "recall");
        for (name, precision, recall) in &per_class {
            outln!("{name:<16} {precision:>9.4} {recall:>7.4}");
        }
    }
    outln!("{}", result.metrics_line("test"));
    Ok(())
}

/// Writes a dump with `fill`; on any failure (a full disk) the partial file is removed and
/// the message names the path.
fn write_f32_file(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let written = fill(&mut out)
        .and_then(|()| out.flush())
        .and_then(|()| out.get_ref().sync_all());
    if let Err(error) = written {
        drop(out);
        // Only a regular file of ours is removed (never /dev/full or another device).
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            let _ = std::fs::remove_file(path);
            bail!(
                "cannot write {}: {error} (the partial file was removed)",
                path.display()
            );
        }
        bail!("cannot write {}: {error}", path.display());
    }
    Ok(())
}

/// A folder (IDX files or one sub-folder of images per class) read as the model's card says:
/// images at the size and in the colour it was trained on, split with the same seed, and
/// the same classes in the same order.
fn folder_for_model(card: &DataCard, args: &EvalArgs, path: &Path) -> anyhow::Result<Dataset> {
    let kind = args.data.data_dir.is_some().then_some(FolderKind::Idx);
    let mut options = ImageFolderOptions {
        seed: args.data.split_seed,
        ..ImageFolderOptions::default()
    };
    match &card.preprocessing.input {
        InputPipeline::Image {
            channels,
            height,
            width,
            ..
        } => {
            options.size = Some((*height, *width));
            options.rgb = Some(*channels == 3);
        }
        InputPipeline::Table { .. } => {
            bail!(
                "the model was trained on a table ({}); a folder of images cannot be evaluated with it",
                card.dataset
            )
        }
    }
    let (data, _notes) = folder_dataset(path, kind, options)?;
    let model_classes = card.task.class_names();
    if data.outputs() == card.task.outputs() && data.task().class_names() != model_classes {
        bail!(
            "{} has the classes {} but the model was trained on {}",
            data.name,
            data.task().class_names().join(", "),
            model_classes.join(", ")
        );
    }
    Ok(data)
}

/// The data to evaluate on: `--dataset` (built-in, CSV, IDX folder), else the built-in the
/// model was trained on, split the same way.
fn evaluation_data(card: &DataCard, args: &EvalArgs) -> anyhow::Result<Dataset> {
    let given = args.data.dataset.is_some() || args.data.data_dir.is_some();
    let name = if given {
        args.data.source()
    } else {
        card.dataset.clone()
    };
    if builtin(&name).is_some() {
        let options = match (&card.builtin_options, card.dataset == name) {
            (Some(options), true) => options.clone(),
            _ => args.data.options(),
        };
        let data = load_builtin(&name, &options)?;
        if card.dataset == name && !data.card.preprocessing.same_samples_as(&card.preprocessing) {
            bail!(
                "the model was trained on {name} prepared differently (another split seed, vocabulary or target scaling); its test split cannot be rebuilt"
            );
        }
        return Ok(data);
    }
    let path = Path::new(&name);
    if !given {
        bail!(
            "the model was trained on {name:?}, which is not a built-in dataset: say which data to evaluate on with --dataset FILE"
        );
    }
    if path.is_dir() {
        return folder_for_model(card, args, path);
    }
    // A CSV file is a test set: every row goes through the model's own preprocessing.
    let table = RawTable::read(path)?;
    let inputs = table_inputs(card, &table, 0..table.row_count())?;
    let width = card.input_shape().numel();
    let target_name = match (&card.task, &args.data.target) {
        (_, Some(target)) => target.clone(),
        (Task::Regression { target, .. }, None) => target.clone(),
        (Task::Classification { .. }, None) => table.headers.last().cloned().unwrap_or_default(),
    };
    let target = table.column_index(&target_name).with_context(|| {
        format!(
            "{} has no target column {target_name:?} (say which with --target)",
            table.source
        )
    })?;
    let targets = match &card.task {
        Task::Classification { class_names } => {
            let mut labels = Vec::with_capacity(table.row_count());
            for (row, cells) in table.rows().enumerate() {
                let cell = cells.cell(target).trim();
                let label = class_names.iter().position(|c| c == cell).with_context(|| {
                    format!(
                        "{} line {}, column {target_name}: {cell:?} is not one of the model's classes ({})",
                        table.source,
                        RawTable::line_of(row),
                        class_names.join(", ")
                    )
                })?;
                labels.push(label as u8);
            }
            Targets::Classes(labels)
        }
        Task::Regression { .. } => {
            let mut values = Vec::with_capacity(table.row_count());
            for (row, cells) in table.rows().enumerate() {
                let value = cells
                    .cell(target)
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite());
                values.push(value.with_context(|| {
                    format!(
                        "{} line {}, column {target_name}: {:?} is not a number",
                        table.source,
                        RawTable::line_of(row),
                        cells.cell(target)
                    )
                })?);
            }
            Targets::Values(values)
        }
    };
    let samples = Samples {
        inputs: Inputs::Dense {
            values: inputs,
            width,
        },
        targets,
        raw: Vec::new(),
    };
    Ok(Dataset {
        name: table.source.clone(),
        card: card.clone(),
        train: samples.truncated(0),
        test: samples,
    })
}
