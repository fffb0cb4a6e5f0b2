//! `layerlab predict`: a saved model on raw input of the kind it takes (an image file, a CSV
//! file of rows, or a sentence), through the preprocessing recorded in the file.
//!
//! CSV rows are encoded, predicted and written a batch at a time, so memory follows the
//! batch, not the file (a text model's 10,000 inputs a row were 78 KB a row, all at once).

use anyhow::{bail, Context};
use layerlab::data::{
    image_input, input_kind, table_inputs, text_input, InputPipeline, RawTable, MAX_TEXT_BYTES,
};
use layerlab::display::thousands;
use layerlab::export::SavedModel;
use layerlab::model::{InferenceModel, Model, Prediction};

use super::args::PredictArgs;

/// CSV rows encoded and predicted together.
const BATCH_ROWS: usize = 256;

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let source = args.model.display().to_string();
    let saved = SavedModel::load(&args.model)?;
    let card = saved.card_or_mnist();
    let model = saved.into_model(&Default::default(), &source)?;
    let inference = InferenceModel::new(&model);
    let (input, name) = match (&args.input, &args.text) {
        (_, Some(text)) => {
            note_long_text("--text", text);
            (text_input(&card, text)?, "--text".to_string())
        }
        (Some(path), None) => {
            let is_csv = {
                let name = path.to_string_lossy().to_lowercase();
                name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".tsv")
            };
            if is_csv {
                let table = RawTable::read(path)?;
                return predict_rows(&args, &card, &model, &inference, &table);
            }
            let image = layerlab::preprocess::read_image(path)?;
            let input =
                image_input(&card, &image).with_context(|| format!("{}", path.display()))?;
            (input, path.display().to_string())
        }
        (None, None) => bail!("give this model {}", input_kind(&card)),
    };
    let predictions = predict(&card, &model, &inference, &input, &[name])?;
    let Some(prediction) = predictions.first() else {
        bail!("the model gave no output");
    };
    if args.json {
        outln!("{}", serde_json::to_string(prediction)?);
        return Ok(());
    }
    print_one(&card, prediction)
}

/// One prediction with every class's probability.
fn print_one(card: &layerlab::data::DataCard, prediction: &Prediction) -> anyhow::Result<()> {
    outln!("{}", prediction.summary());
    if let Prediction::Class { probabilities, .. } = prediction {
        let class_names = card.task.class_names();
        for (class, p) in probabilities.iter().enumerate() {
            let label = class_names.get(class).map_or("", String::as_str);
            outln!("{class} {label}: {p:.4}");
        }
    }
    Ok(())
}

/// Every row of a CSV, a batch at a time, each prediction written as it is made: one line a
/// row ("line 2: class=1 (positive)"), or a JSON array (an object for a single row).
fn predict_rows(
    args: &PredictArgs,
    card: &layerlab::data::DataCard,
    model: &Model,
    inference: &InferenceModel,
    table: &RawTable,
) -> anyhow::Result<()> {
    note_long_cells(card, table);
    let rows = table.row_count();
    let single = rows == 1;
    if args.json && !single {
        out!("[");
    }
    for start in (0..rows).step_by(BATCH_ROWS) {
        let end = (start + BATCH_ROWS).min(rows);
        let inputs = table_inputs(card, table, start..end)?;
        let names: Vec<String> = (start..end)
            .map(|r| format!("line {}", RawTable::line_of(r)))
            .collect();
        let predictions = predict(card, model, inference, &inputs, &names)?;
        for (index, (name, prediction)) in names.iter().zip(&predictions).enumerate() {
            match (args.json, single) {
                (true, true) => outln!("{}", serde_json::to_string(prediction)?),
                (true, false) => {
                    let comma = if start + index == 0 { "" } else { "," };
                    out!("{comma}{}", serde_json::to_string(prediction)?);
                }
                (false, true) => print_one(card, prediction)?,
                (false, false) => outln!("{name}: {}", prediction.summary()),
            }
        }
    }
    if args.json && !single {
        outln!("]");
    }
    Ok(())
}

/// The model's predictions for `inputs`, one sample per name; an output that is not a number
/// is an error naming the sample.
fn predict(
    card: &layerlab::data::DataCard,
    model: &Model,
    inference: &InferenceModel,
    inputs: &[f32],
    names: &[String],
) -> anyhow::Result<Vec<Prediction>> {
    let width = model.input_len();
    if inputs.len() != width * names.len() {
        bail!(
            "the model expects {width} inputs per sample but the input gives {}",
            inputs.len() / names.len().max(1)
        );
    }
    let outputs = inference.predict(inputs, names.len());
    let per_sample = outputs.len() / names.len().max(1);
    let predictions: Vec<Prediction> = outputs
        .chunks(per_sample.max(1))
        .map(|row| Prediction::from_outputs(card, row))
        .collect();
    if let Some(bad) = predictions.iter().position(|p| match p {
        Prediction::Class { probabilities, .. } => probabilities.iter().any(|v| !v.is_finite()),
        Prediction::Value { value, .. } => !value.is_finite(),
    }) {
        bail!(
            "the model's output for {} is not a finite number: {}",
            names[bad],
            model.weights().overflow_cause()
        );
    }
    Ok(predictions)
}

/// Says on stderr when a text is longer than what is read of it.
fn note_long_text(name: &str, text: &str) {
    if text.len() > MAX_TEXT_BYTES {
        eprintln!(
            "note: {name} is {} bytes of text; the first {} MiB were read",
            thousands(text.len()),
            MAX_TEXT_BYTES >> 20
        );
    }
}

/// [`note_long_text`] for every text cell of a table, naming its line and column.
fn note_long_cells(card: &layerlab::data::DataCard, table: &RawTable) {
    let InputPipeline::Table { columns } = &card.preprocessing.input else {
        return;
    };
    for step in columns {
        if !matches!(step, layerlab::data::ColumnStep::Text { .. }) {
            continue;
        }
        let Some(column) = table.column_index(step.name()) else {
            continue;
        };
        for (row, cell) in table.column(column).enumerate() {
            let name = format!("line {}, column {}", RawTable::line_of(row), step.name());
            note_long_text(&name, cell);
        }
    }
}
