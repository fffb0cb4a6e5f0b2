//! `layerlab predict`: a saved model on raw input of the kind it takes (an image file, a CSV
//! file of rows, or a sentence), through the preprocessing recorded in the file.

use anyhow::{bail, Context};
use layerlab::data::{image_input, input_kind, table_inputs, text_input, RawTable};
use layerlab::export::SavedModel;
use layerlab::model::InferenceModel;
use layerlab::model::Prediction;

use super::args::PredictArgs;

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let source = args.model.display().to_string();
    let saved = SavedModel::load(&args.model)?;
    let card = saved.card_or_mnist();
    let model = saved.into_model(&Default::default(), &source)?;
    let width = model.input_len();
    let (inputs, names): (Vec<f32>, Vec<String>) = match (&args.input, &args.text) {
        (_, Some(text)) => (text_input(&card, text)?, vec!["--text".into()]),
        (Some(path), None) => {
            let is_csv = {
                let name = path.to_string_lossy().to_lowercase();
                name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".tsv")
            };
            if is_csv {
                let table = RawTable::read(path)?;
                let rows = table.row_count();
                let names = (0..rows)
                    .map(|r| format!("line {}", RawTable::line_of(r)))
                    .collect();
                (table_inputs(&card, &table)?, names)
            } else {
                let image = layerlab::preprocess::read_image(path)?;
                let input =
                    image_input(&card, &image).with_context(|| format!("{}", path.display()))?;
                (input, vec![path.display().to_string()])
            }
        }
        (None, None) => bail!("give this model {}", input_kind(&card)),
    };
    if inputs.len() != width * names.len() {
        bail!(
            "the model expects {width} inputs per sample but the input gives {}",
            inputs.len() / names.len().max(1)
        );
    }
    let outputs = InferenceModel::new(&model).predict(&inputs, names.len());
    let per_sample = outputs.len() / names.len().max(1);
    let predictions: Vec<Prediction> = outputs
        .chunks(per_sample.max(1))
        .map(|row| Prediction::from_outputs(&card, row))
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
    if args.json {
        if predictions.len() == 1 {
            outln!("{}", serde_json::to_string(&predictions[0])?);
        } else {
            outln!("{}", serde_json::to_string(&predictions)?);
        }
        return Ok(());
    }
    let class_names = card.task.class_names();
    for (name, prediction) in names.iter().zip(&predictions) {
        if predictions.len() > 1 {
            outln!("{name}: {}", prediction.summary());
            continue;
        }
        outln!("{}", prediction.summary());
        if let Prediction::Class { probabilities, .. } = prediction {
            for (class, p) in probabilities.iter().enumerate() {
                let label = class_names.get(class).map_or("", String::as_str);
                outln!("{class} {label}: {p:.4}");
            }
        }
    }
    Ok(())
}
