//! `layerlab export`: a saved model in another format (ONNX).

use layerlab::export::SavedModel;

use super::args::ExportArgs;

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let saved = SavedModel::load(&args.model)?;
    // The stack and weights are checked as for training or prediction before writing.
    saved
        .clone()
        .into_model(&Default::default(), &args.model.display().to_string())?;
    layerlab::onnx::save_onnx(&saved, &args.onnx)?;
    outln!(
        "wrote {} (ONNX opset {}; input \"{}\", output \"{}\")",
        args.onnx.display(),
        layerlab::onnx::OPSET,
        layerlab::onnx::INPUT_NAME,
        layerlab::onnx::OUTPUT_NAME
    );
    Ok(())
}
