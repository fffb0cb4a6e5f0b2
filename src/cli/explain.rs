//! `layerlab explain`: why an image model says what it says, as PNG files. The saliency
//! panel is [input | gradient x input | occlusion | Grad-CAM (conv models) | gradient x input
//! of the same stack with random weights]; a map that looks the same for random weights
//! explains nothing (Adebayo et al., 2018), so their correlation is printed.

use std::time::Instant;

use anyhow::{bail, Context};
use layerlab::data::{image_input, input_kind, InputPipeline, Prediction};
use layerlab::explain::{
    activations, correlation, grad_cam, gradient_times_input, occlusion, picture, randomised_copy,
    Occlusion,
};
use layerlab::export::SavedModel;
use layerlab::model::InferenceModel;

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

    let started = Instant::now();
    let gradient = gradient_times_input(&model, &input, class)?;
    let gradient_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let occluded = occlusion(
        &inference,
        &input,
        model.plan.input,
        class,
        Occlusion::DEFAULT,
    )?;
    let occlusion_ms = started.elapsed().as_secs_f64() * 1000.0;
    let cam = grad_cam(&model, &input, class).ok();
    let random = randomised_copy(&model, 1);
    let random_gradient = gradient_times_input(&random, &input, class)?;
    let similarity = correlation(&gradient, &random_gradient);
    outln!("gradient x input: {gradient_ms:.2} ms; occlusion: {occlusion_ms:.2} ms");
    outln!(
        "correlation with the same map for random weights: {similarity:.3} (near 1: the map shows the input, not what was learned)"
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
        picture::overlay(plane, height, width, &occluded, height, width),
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
        let started = Instant::now();
        let layers = activations(&model, &input)?;
        let activations_ms = started.elapsed().as_secs_f64() * 1000.0;
        picture::activation_grid(&layers, 32)
            .save(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        outln!(
            "wrote {}: {} layers' activations ({activations_ms:.2} ms)",
            path.display(),
            layers.len()
        );
    }
    Ok(())
}
