//! `layerlab eval`: a saved model's accuracy on the MNIST test set, optionally its logits.

use std::io::Write;

use anyhow::Context;
use layerlab::data::{default_mnist_dir, fill_batch, Dataset};
use layerlab::export::SavedModel;
use layerlab::model::InferenceModel;
use layerlab::train::{evaluate, LossKind};

use super::args::EvalArgs;

/// Samples per forward pass when dumping logits.
const CHUNK: usize = 500;

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let source = args.model.display().to_string();
    let model = SavedModel::load(&args.model)?.into_model(&Default::default(), &source)?;
    let dataset = Dataset::mnist(&args.data_dir.unwrap_or_else(default_mnist_dir))?;
    let indices: Vec<u32> = (0..dataset.test.len() as u32).collect();
    if let Some(path) = &args.dump_logits {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        );
        let inference = InferenceModel::new(&model);
        let mut inputs = Vec::new();
        for chunk in indices.chunks(CHUNK) {
            fill_batch(&dataset.test, chunk, &mut inputs);
            for v in inference.predict(&inputs, chunk.len()) {
                out.write_all(&v.to_le_bytes())?;
            }
        }
        out.flush()?;
    }
    let result = evaluate(
        &model,
        &dataset.test,
        &indices,
        dataset.classes,
        LossKind::CrossEntropy,
    );
    outln!(
        "test_accuracy={:.4} test_loss={:.4}",
        result.accuracy,
        result.loss
    );
    Ok(())
}
