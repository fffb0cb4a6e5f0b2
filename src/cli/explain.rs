//! `layerlab explain`: why an image model says what it says, as PNG files. The saliency
//! panel is [input | gradient x input | occlusion | Grad-CAM (conv models) | gradient x input
//! of the same stack with random weights]; a map that looks the same for random weights
//! explains nothing (Adebayo et al., 2018), so their correlation is printed.

use anyhow::{bail, Context};
use layerlab::data::{image_input, input_kind, InputPipeline};
use layerlab::explain::{picture, randomised_copy, Explanation, Occlusion};
use layerlab::export::SavedModel;
use layerlab::model::InferenceModel;
use layerlab::model::Prediction;

use super::args::ExplainArgs;

pub fn run(args: ExplainArgs) -> anyhow::Result<()> {
    let source = args.model.display().to_string();
    let saved = SavedModel::load(&args.model)?;
    let card = saved.card_or_mnist();
    let InputPipeline::Image { height, width, .. } = card.preprocessing.input else {
        bail!(
            "explain draws maps over images; this model takes {} (the window's try-it panel shows what each column or word contributes)",
            input_kind(&card)
        );
    };
    let model = saved.into_model(&Default::default(), &source)?;
    let image = layerlab::preprocess::read_image(&args.image)?;
    let input = image_input(&card, &image).with_context(|| args.image.display().to_string())?;
    let inference = InferenceModel::new(&model);
    let outputs = inference.predict(&input, 1);
    let prediction = Prediction::from_outputs(&card, &outputs);
    let class = match args.class {
        Some(class) if class < outputs.len() => class,
        Some(class) => bail!("--class {class}: the model has {} classes", outputs.len()),
        None => outputs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i),
    };
    outln!("{}", prediction.summary());
    let class_name = card
        .task
        .class_names()
        .get(class)
        .cloned()
        .unwrap_or_else(|| class.to_string());
    outln!("explaining class {class} ({class_name})");

    let random = randomised_copy(&model, 1);
    let explained = Explanation::compute(
        &model,
        &inference,
        &random,
        &input,
        Some(class),
        Occlusion::DEFAULT,
    )?;
    let timings = explained.timings;
    outln!(
        "gradient x input: {:.2} ms; occlusion: {:.2} ms; Grad-CAM: {:.2} ms; activations: {:.2} ms",
        timings.gradient_ms,
        timings.occlusion_ms,
        timings.grad_cam_ms,
        timings.activations_ms
    );
    outln!(
        "correlation with the same map for random weights: {:.3} (near 1: the map shows the input, not what was learned)",
        explained.random_correlation
    );
    let (gradient, occluded, cam, random_gradient) = (
        &explained.gradient_times_input,
        &explained.occlusion,
        &explained.grad_cam,
        &explained.random_gradient_times_input,
    );

    // The first channel of the input is what the panels show.
    let plane = &input[..height * width];
    let mut panels = vec![
        picture::input_panel(plane, height, width),
        picture::overlay(
            plane,
            height,
            width,
            &gradient[..height * width],
            height,
            width,
        ),
        picture::overlay(plane, height, width, occluded, height, width),
    ];
    if let Some(cam) = &cam {
        panels.push(picture::overlay(
            plane,
            height,
            width,
            &cam.values,
            cam.height,
            cam.width,
        ));
    }
    panels.push(picture::overlay(
        plane,
        height,
        width,
        &random_gradient[..height * width],
        height,
        width,
    ));
    picture::side_by_side(&panels)
        .save(&args.out)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    outln!(
        "wrote {}: input | gradient x input | occlusion{} | random-weights gradient x input",
        args.out.display(),
        if cam.is_some() { " | Grad-CAM" } else { "" }
    );
    if let Some(path) = &args.activations {
        picture::activation_grid(&explained.activations, 32)
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        outln!(
            "wrote {}: {} layers' activations",
            path.display(),
            explained.activations.len()
        );
    }
    Ok(())
}
