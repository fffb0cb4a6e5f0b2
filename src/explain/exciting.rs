//! Which training samples excite a unit most: the top few of a fixed random sample of the
//! training set (ConvNetJS and Zeiler & Fergus show these beside a feature map).

use dfdx::prelude::*;

use super::ExplainError;
use crate::data::{shuffled_indices, Samples};
use crate::model::{ForwardOptions, Mode, Model};
use crate::spec::ActivationShape;

/// Training samples looked through.
pub const EXCITING_SAMPLE: usize = 2_000;
/// Samples shown.
pub const EXCITING_TOP: usize = 9;
/// Samples per forward pass.
const CHUNK: usize = 250;

/// The `top` samples among the first [`EXCITING_SAMPLE`] of a seeded shuffle of `set` whose
/// output of `layer` at `unit` (a feature, or a channel's strongest position) is largest,
/// as `(sample index, activation)`, largest first.
pub fn most_exciting(
    model: &Model,
    set: &Samples,
    layer: usize,
    unit: usize,
    top: usize,
) -> Result<Vec<(u32, f32)>, ExplainError> {
    let plan = model
        .plan
        .layers
        .get(layer)
        .ok_or_else(|| ExplainError::Failed(format!("the stack has no layer {layer}")))?;
    let units = match plan.output {
        ActivationShape::Spatial { channels, .. } => channels,
        ActivationShape::Flat { features } => features,
    };
    if unit >= units {
        return Err(ExplainError::Failed(format!(
            "layer {layer} has {units} units, not {}",
            unit + 1
        )));
    }
    let mut order = shuffled_indices(set.len(), 0);
    order.truncate(EXCITING_SAMPLE);
    let mut scored = Vec::with_capacity(order.len());
    let mut inputs = Vec::new();
    for chunk in order.chunks(CHUNK) {
        set.fill_inputs(chunk, &mut inputs);
        let x = model
            .device()
            .try_tensor_from_vec(inputs.clone(), (chunk.len(), model.input_len()))
            .map_err(|e| ExplainError::Failed(format!("{e:?}")))?;
        let mut options = ForwardOptions {
            outputs: Some(Vec::new()),
            ..ForwardOptions::default()
        };
        model.forward_layers(x, 0..layer + 1, Mode::Eval, &mut options);
        let outputs = options.outputs.unwrap_or_default();
        let values = outputs
            .get(layer)
            .ok_or_else(|| ExplainError::Failed("no output".into()))?;
        let per_sample = plan.output.numel();
        for (&index, sample) in chunk.iter().zip(values.chunks_exact(per_sample)) {
            // Channels last: unit c at every position p is p * units + c.
            let score = sample
                .iter()
                .skip(unit)
                .step_by(units)
                .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            scored.push((index, score));
        }
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(top);
    Ok(scored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Inputs, Targets};
    use crate::spec::{validate, Layer, ModelSpec};

    #[test]
    fn the_samples_found_are_those_with_the_largest_activation() {
        // One Linear unit = the first feature minus the second: the winners are known.
        let spec = ModelSpec::new(vec![Layer::Linear { out_features: 2 }]);
        let plan = validate(&spec, ActivationShape::Flat { features: 2 }, 2).unwrap();
        let mut m = Model::initialise(spec, plan, &Cpu::default(), 0);
        m.params[0]
            .values_mut()
            .copy_from_slice(&[1.0, -1.0, 0.0, 0.0]);
        m.params[1].values_mut().copy_from_slice(&[0.0, 0.0]);
        let rows: Vec<f32> = (0..30)
            .flat_map(|i| [(i % 7) as f32, (i % 3) as f32])
            .collect();
        let set = Samples {
            inputs: Inputs::Dense {
                values: rows,
                width: 2,
            },
            targets: Targets::Classes(vec![0; 30]),
            raw: Vec::new(),
        };
        let found = most_exciting(&m, &set, 0, 0, 3).unwrap();
        let mut expected: Vec<(u32, f32)> = (0..30u32)
            .map(|i| (i, (i % 7) as f32 - (i % 3) as f32))
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(
            found.iter().map(|f| f.1).collect::<Vec<_>>(),
            expected[..3].iter().map(|e| e.1).collect::<Vec<_>>()
        );
        for (index, score) in found {
            assert_eq!(score, (index % 7) as f32 - (index % 3) as f32);
        }
        assert!(most_exciting(&m, &set, 0, 2, 3).is_err());
        assert!(most_exciting(&m, &set, 1, 0, 3).is_err());
    }
}
