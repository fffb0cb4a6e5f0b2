//! `layerlab presets`: list the seed recipes (and the datasets each fits) or print one as JSON.

use anyhow::Context;
use layerlab::data::{builtin, BUILTIN_DATASETS};
use layerlab::presets::{preset, PRESET_NAMES};
use layerlab::spec::{validate, ActivationShape};

use super::args::PresetsArgs;

pub fn run(args: PresetsArgs) -> anyhow::Result<()> {
    if let Some(name) = args.print {
        let preset = preset(name.as_str()).context("preset table is inconsistent")?;
        outln!("{}", preset.spec.to_json_pretty());
        return Ok(());
    }
    if args.json {
        let list: Vec<serde_json::Value> = PRESET_NAMES
            .iter()
            .filter_map(|name| preset(name))
            .map(|p| {
                serde_json::json!({
                    "name": p.name,
                    "description": p.description,
                    "datasets": p.datasets,
                    "batch_size": p.batch_size,
                    "epochs": p.epochs,
                    "optimizer": p.optimizer,
                    "loss": p.loss,
                    "log_target": p.log_target,
                    "schedule": p.schedule,
                    "augmentation": p.augmentation,
                    "spec": p.spec,
                })
            })
            .collect();
        outln!("{}", serde_json::to_string(&list)?);
        return Ok(());
    }
    for name in PRESET_NAMES {
        let preset = preset(name).context("preset table is inconsistent")?;
        // Parameters on the first dataset it fits (the 28x28 images, or a table's width).
        let first = preset.datasets.first().and_then(|d| builtin(d));
        let input = match first.map(|d| d.name) {
            Some("mnist" | "fashion-mnist") | None => ActivationShape::image(1, 28, 28),
            Some(other) => example_input(other),
        };
        // A preset ends on its output layer; a last layer that is not a Linear counts 10.
        let outputs = if let Some(layerlab::spec::Layer::Linear { out_features }) =
            preset.spec.layers.last()
        {
            *out_features
        } else {
            10
        };
        let parameters = validate(&preset.spec, input, outputs)
            .map(|plan| layerlab::display::thousands(plan.total_parameters()))
            .unwrap_or_else(|_| "-".into());
        outln!(
            "{name:<21} {parameters:>10} parameters  fits {:<34} {}",
            preset.datasets.join(", "),
            preset.description
        );
    }
    outln!(
        "(parameters counted on the first dataset each fits; `layerlab datasets` lists {} datasets)",
        BUILTIN_DATASETS.len()
    );
    Ok(())
}

/// The input shape of a built-in table or small-image set, without loading it.
fn example_input(dataset: &str) -> ActivationShape {
    let features = match dataset {
        "digits-8x8" => return ActivationShape::image(1, 8, 8),
        "iris" => 4,
        "wine" => 13,
        "breast-cancer" => 30,
        "diabetes" => 10,
        "ames-housing" => 313,
        "fine-food-reviews" => 10_000,
        _ => 2,
    };
    ActivationShape::Flat { features }
}
