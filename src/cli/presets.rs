//! `layerlab presets`: list the seed recipes or print one as JSON.

use anyhow::Context;
use layerlab::data::MNIST_CLASSES;
use layerlab::spec::{preset, validate, ActivationShape, PRESET_NAMES};

use super::args::PresetsArgs;

pub fn run(args: PresetsArgs) -> anyhow::Result<()> {
    if let Some(name) = args.print {
        let preset = preset(&name).with_context(|| {
            format!(
                "unknown preset {name:?}; choose one of {}",
                PRESET_NAMES.join(", ")
            )
        })?;
        outln!("{}", preset.spec.to_json_pretty());
        return Ok(());
    }
    for name in PRESET_NAMES {
        let preset = preset(name).context("preset table is inconsistent")?;
        let plan = validate(
            &preset.spec,
            ActivationShape::image(1, 28, 28),
            MNIST_CLASSES,
        )?;
        outln!(
            "{name:<10} {:>9} parameters  {}",
            plan.total_parameters(),
            preset.description
        );
    }
    Ok(())
}
