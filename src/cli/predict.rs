//! `layerlab predict`: classify an image file with a saved model.

use anyhow::Context;
use layerlab::export::SavedModel;
use layerlab::model::InferenceModel;
use layerlab::preprocess::preprocess_digit;
use layerlab::train::argmax_rows;

use super::args::PredictArgs;

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let source = args.model.display().to_string();
    let saved = SavedModel::load(&args.model)?;
    let classes = saved.classes;
    let model = saved.into_model(&Default::default(), &source)?;
    let image = image::open(&args.image)
        .with_context(|| format!("cannot read image {}", args.image.display()))?;
    let input = preprocess_digit(&image).with_context(|| format!("{}", args.image.display()))?;
    if input.pixels.len() != model.input_len() {
        anyhow::bail!(
            "the model expects {} inputs per sample but digits have {}",
            model.input_len(),
            input.pixels.len()
        );
    }
    let logits = InferenceModel::new(&model).predict(&input.pixels, 1);
    let probabilities = layerlab::train::softmax(&logits);
    let class = argmax_rows(&probabilities, classes).next().unwrap_or(0);
    if args.json {
        outln!(
            "{}",
            serde_json::json!({ "class": class, "probabilities": probabilities })
        );
    } else {
        outln!("class={class}");
        for (digit, p) in probabilities.iter().enumerate() {
            outln!("{digit}: {p:.4}");
        }
    }
    Ok(())
}
