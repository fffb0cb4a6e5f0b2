//! Every layer's output for one input, from the tape-free forward pass.

use super::{one_sample, ExplainError};
use crate::model::{ForwardOptions, Mode, Model};
use crate::spec::{ActivationShape, Layer};

/// One layer's output for one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerActivation {
    /// Index of the layer in the stack.
    pub layer: usize,
    pub kind: Layer,
    pub shape: ActivationShape,
    /// The values; channels-first (PyTorch's order: one map after another) for images.
    pub values: Vec<f32>,
}

impl LayerActivation {
    /// Map `channel` of an image-shaped activation (`height x width` values).
    pub fn map(&self, channel: usize) -> Option<&[f32]> {
        match self.shape {
            ActivationShape::Spatial { height, width, .. } => self
                .values
                .get(channel * height * width..(channel + 1) * height * width),
            ActivationShape::Flat { .. } => None,
        }
    }
}

/// Runs `input` (one sample) through `model` and returns what every layer gave.
pub fn activations(model: &Model, input: &[f32]) -> Result<Vec<LayerActivation>, ExplainError> {
    let x = one_sample(model, input)?;
    let mut options = ForwardOptions {
        outputs: Some(Vec::new()),
        ..ForwardOptions::default()
    };
    model.forward_layers(x, 0..model.plan.layers.len(), Mode::Eval, &mut options);
    let outputs = options.outputs.unwrap_or_default();
    Ok(model
        .plan
        .layers
        .iter()
        .zip(outputs)
        .enumerate()
        .map(|(index, (plan, values))| LayerActivation {
            layer: index,
            kind: plan.layer.clone(),
            shape: plan.output,
            values: channels_first(values, plan.output),
        })
        .collect())
}

/// Channels-last `h*w*c` values (how the engine stores images) in channels-first order.
fn channels_first(values: Vec<f32>, shape: ActivationShape) -> Vec<f32> {
    let ActivationShape::Spatial {
        channels,
        height,
        width,
    } = shape
    else {
        return values;
    };
    if channels == 1 {
        return values;
    }
    let mut out = vec![0.0; values.len()];
    for position in 0..height * width {
        for channel in 0..channels {
            out[channel * height * width + position] = values[position * channels + channel];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::pseudo_random;
    use crate::spec::{validate, ModelSpec};
    use dfdx::prelude::*;

    #[test]
    fn each_layers_activation_equals_the_training_forward_of_the_stack_up_to_it() {
        let layers = vec![
            Layer::Conv2d {
                out_channels: 3,
                kernel_size: 3,
                stride: 1,
                padding: 1,
            },
            Layer::ReLU,
            Layer::MaxPool2d {
                kernel_size: 2,
                stride: None,
            },
            Layer::Conv2d {
                out_channels: 4,
                kernel_size: 3,
                stride: 1,
                padding: 0,
            },
            Layer::Tanh,
            Layer::Flatten,
            Layer::Linear { out_features: 5 },
            Layer::ReLU,
            Layer::Linear { out_features: 3 },
        ];
        let input = ActivationShape::image(2, 10, 8);
        let spec = ModelSpec::new(layers.clone());
        let plan = validate(&spec, input, 3).unwrap();
        let device = Cpu::seed_from_u64(0);
        let model = Model::initialise(spec, plan, &device, 7);
        let x = pseudo_random(input.numel(), 3);
        let shown = activations(&model, &x).unwrap();
        assert_eq!(shown.len(), layers.len());
        for end in 1..=layers.len() {
            // The training forward (taped, fused) of the stack cut after layer `end - 1`,
            // flattened (channels first) when it ends on an image. The same seed draws the
            // same parameters, layer by layer.
            let mut prefix = layers[..end].to_vec();
            if matches!(shown[end - 1].shape, ActivationShape::Spatial { .. }) {
                prefix.push(Layer::Flatten);
            }
            let prefix = ModelSpec::new(prefix);
            let plan = validate(&prefix, input, shown[end - 1].shape.numel()).unwrap();
            let cut = Model::initialise(prefix, plan, &device, 7);
            assert!(cut
                .params
                .iter()
                .zip(&model.params)
                .all(|(a, b)| a.values() == b.values()));
            let expected = cut
                .forward(
                    device
                        .tensor_from_vec(x.clone(), (1, x.len()))
                        .leaky_trace(),
                    Mode::Eval,
                )
                .retaped::<NoneTape>()
                .as_vec();
            assert_eq!(expected.len(), shown[end - 1].values.len());
            for (a, b) in shown[end - 1].values.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-5, "layer {}: {a} vs {b}", end - 1);
            }
        }
        // Map 1 of the first conv's output is the second block of 10x8 values.
        assert_eq!(shown[0].map(1).unwrap(), &shown[0].values[80..160]);
    }

    #[test]
    fn a_wrong_input_length_is_refused() {
        let spec = ModelSpec::new(vec![Layer::Linear { out_features: 2 }]);
        let plan = validate(&spec, ActivationShape::Flat { features: 3 }, 2).unwrap();
        let model = Model::initialise(spec, plan, &Cpu::default(), 0);
        assert_eq!(
            activations(&model, &[1.0, 2.0]),
            Err(ExplainError::WrongInputLength {
                expected: 3,
                found: 2
            })
        );
    }
}
