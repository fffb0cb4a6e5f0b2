//! Shape inference and parameter counting, layer by layer, with errors that name the layer.

use super::{ActivationShape, Layer, ModelSpec};

/// Stacks above this many parameters are refused: they would not train on a laptop CPU and
/// usually mean a typo (a Linear of 1,000,000 outputs).
pub const MAX_PARAMETERS: usize = 50_000_000;
/// Refuse per-sample activations above this size (a batch of 64 would need > 500 MB).
pub const MAX_ACTIVATIONS_PER_SAMPLE: usize = 2_000_000;
/// Layers in a stack: far above any real stack; a longer one is a mistake (and would make
/// every designer frame slow).
pub const MAX_LAYERS: usize = 256;
/// Largest value of any size field (features, channels, kernel, stride, padding): far above
/// any real layer, and small enough that products of a few of them cannot overflow.
pub const MAX_DIMENSION: usize = 1 << 20;
/// Training refuses a stack whose estimated memory at the chosen batch size is above this.
pub const MAX_TRAINING_BYTES: u64 = 8 << 30;

/// Why a stack cannot be built. `layer` is the 0-based index into the stack, when one layer is at fault.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct SpecError {
    pub layer: Option<usize>,
    pub message: String,
}

impl SpecError {
    fn at(index: usize, layer: &Layer, message: impl Into<String>) -> Self {
        Self {
            layer: Some(index),
            message: format!("layer {index} {}: {}", layer.kind_name(), message.into()),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        Self {
            layer: None,
            message: message.into(),
        }
    }

    fn describe(&self) -> &str {
        &self.message
    }
}

/// One validated layer: what goes in, what comes out, how many parameters it owns.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerPlan {
    pub layer: Layer,
    pub input: ActivationShape,
    pub output: ActivationShape,
    pub parameters: usize,
}

/// A stack that fits its data: every layer's shapes, ready to be built into tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub input: ActivationShape,
    pub layers: Vec<LayerPlan>,
}

impl Plan {
    pub fn total_parameters(&self) -> usize {
        self.layers.iter().map(|l| l.parameters).sum()
    }

    pub fn output(&self) -> ActivationShape {
        self.layers.last().map_or(self.input, |l| l.output)
    }
}

/// Checks that `spec` maps `input` to exactly `num_outputs` values per sample.
pub fn validate(
    spec: &ModelSpec,
    input: ActivationShape,
    num_outputs: usize,
) -> Result<Plan, SpecError> {
    if spec.layers.is_empty() {
        return Err(SpecError::whole(
            "the layer stack is empty: add at least one Linear layer",
        ));
    }
    if spec.layers.len() > MAX_LAYERS {
        return Err(SpecError::whole(format!(
            "the stack has {} layers; LayerLab builds stacks of up to {MAX_LAYERS}",
            spec.layers.len()
        )));
    }
    let (layers, error) = check_layers(spec, input);
    if let Some(error) = error {
        return Err(error);
    }
    let plan = Plan { input, layers };
    let produced = plan.output().numel();
    if produced != num_outputs {
        let last = spec.layers.len() - 1;
        return Err(SpecError::at(
            last,
            &spec.layers[last],
            format!(
                "the stack ends with {produced} outputs per sample but the data needs {num_outputs}: end with Linear(out_features={num_outputs})"
            ),
        ));
    }
    Ok(plan)
}

/// Infers shapes layer by layer up to the first layer that does not fit: the plans of the
/// layers before it, and its error. The designer shows both while the user edits.
pub fn check_layers(
    spec: &ModelSpec,
    input: ActivationShape,
) -> (Vec<LayerPlan>, Option<SpecError>) {
    let mut layers = Vec::with_capacity(spec.layers.len().min(MAX_LAYERS));
    let mut shape = input;
    let mut total_parameters = 0usize;
    for (index, layer) in spec.layers.iter().enumerate() {
        if index >= MAX_LAYERS {
            let message = format!("a stack may have at most {MAX_LAYERS} layers");
            return (layers, Some(SpecError::at(index, layer, message)));
        }
        let (output, parameters) = match check_sizes(layer).and_then(|()| infer(layer, shape)) {
            Ok(inferred) => inferred,
            Err(message) => return (layers, Some(SpecError::at(index, layer, message))),
        };
        let values = output.checked_numel();
        if values.is_none_or(|v| v > MAX_ACTIVATIONS_PER_SAMPLE) {
            let message = match values {
                Some(values) => format!(
                    "its output {output} has {values} values per sample, more than the limit of {MAX_ACTIVATIONS_PER_SAMPLE}"
                ),
                None => format!(
                    "its output {output} has more values per sample than the limit of {MAX_ACTIVATIONS_PER_SAMPLE}"
                ),
            };
            return (layers, Some(SpecError::at(index, layer, message)));
        }
        total_parameters = total_parameters.saturating_add(parameters);
        if total_parameters > MAX_PARAMETERS {
            let message = format!(
                "the stack reaches {total_parameters} parameters here, more than the limit of {MAX_PARAMETERS}"
            );
            return (layers, Some(SpecError::at(index, layer, message)));
        }
        layers.push(LayerPlan {
            layer: layer.clone(),
            input: shape,
            output,
            parameters,
        });
        shape = output;
    }
    (layers, None)
}

/// Every size field within [`MAX_DIMENSION`], so the arithmetic of `infer` cannot overflow.
fn check_sizes(layer: &Layer) -> Result<(), String> {
    let fields: &[(&str, usize)] = match *layer {
        Layer::Linear { out_features } => &[("out_features", out_features)],
        Layer::Conv2d {
            out_channels,
            kernel_size,
            stride,
            padding,
        } => &[
            ("out_channels", out_channels),
            ("kernel_size", kernel_size),
            ("stride", stride),
            ("padding", padding),
        ],
        Layer::MaxPool2d {
            kernel_size,
            stride,
        }
        | Layer::AvgPool2d {
            kernel_size,
            stride,
        } => &[
            ("kernel_size", kernel_size),
            ("stride", stride.unwrap_or(1)),
        ],
        Layer::Flatten
        | Layer::ReLU
        | Layer::LeakyReLU { .. }
        | Layer::Sigmoid
        | Layer::Tanh
        | Layer::GELU
        | Layer::Dropout { .. }
        | Layer::BatchNorm1d { .. }
        | Layer::BatchNorm2d { .. } => &[],
    };
    match fields.iter().find(|(_, value)| *value > MAX_DIMENSION) {
        Some((name, value)) => Err(format!(
            "{name} {value} is larger than the limit of {MAX_DIMENSION}"
        )),
        None => Ok(()),
    }
}

/// Output shape and parameter count of one layer, or why it does not fit its input.
fn infer(layer: &Layer, input: ActivationShape) -> Result<(ActivationShape, usize), String> {
    match *layer {
        Layer::Linear { out_features } => {
            if out_features == 0 {
                return Err("out_features must be at least 1".into());
            }
            let in_features = input.numel();
            let parameters = in_features
                .checked_mul(out_features)
                .and_then(|w| w.checked_add(out_features))
                .ok_or("too many parameters")?;
            Ok((
                ActivationShape::Flat {
                    features: out_features,
                },
                parameters,
            ))
        }
        Layer::Conv2d {
            out_channels,
            kernel_size,
            stride,
            padding,
        } => {
            let (channels, height, width) = spatial(input, "Conv2d")?;
            if out_channels == 0 {
                return Err("out_channels must be at least 1".into());
            }
            if kernel_size == 0 {
                return Err("kernel_size must be at least 1".into());
            }
            if stride == 0 {
                return Err("stride must be at least 1".into());
            }
            if padding >= kernel_size {
                return Err(format!(
                    "padding {padding} must be smaller than kernel_size {kernel_size}"
                ));
            }
            let out_height = window_count(height + 2 * padding, kernel_size, stride)
                .ok_or_else(|| too_small(kernel_size, height, width, padding))?;
            let out_width = window_count(width + 2 * padding, kernel_size, stride)
                .ok_or_else(|| too_small(kernel_size, height, width, padding))?;
            let parameters = channels
                .checked_mul(kernel_size * kernel_size)
                .and_then(|fan_in| fan_in.checked_mul(out_channels))
                .and_then(|weights| weights.checked_add(out_channels))
                .ok_or("too many parameters")?;
            Ok((
                ActivationShape::image(out_channels, out_height, out_width),
                parameters,
            ))
        }
        Layer::MaxPool2d {
            kernel_size,
            stride,
        }
        | Layer::AvgPool2d {
            kernel_size,
            stride,
        } => {
            let (channels, height, width) = spatial(input, layer.kind_name())?;
            if kernel_size == 0 {
                return Err("kernel_size must be at least 1".into());
            }
            let stride = stride.unwrap_or(kernel_size);
            if stride == 0 {
                return Err("stride must be at least 1".into());
            }
            let out_height = window_count(height, kernel_size, stride)
                .ok_or_else(|| too_small(kernel_size, height, width, 0))?;
            let out_width = window_count(width, kernel_size, stride)
                .ok_or_else(|| too_small(kernel_size, height, width, 0))?;
            Ok((ActivationShape::image(channels, out_height, out_width), 0))
        }
        Layer::Flatten => Ok((
            ActivationShape::Flat {
                features: input.numel(),
            },
            0,
        )),
        Layer::ReLU | Layer::Sigmoid | Layer::Tanh | Layer::GELU => Ok((input, 0)),
        Layer::LeakyReLU { negative_slope } => {
            if !negative_slope.is_finite() {
                return Err("negative_slope must be a finite number".into());
            }
            Ok((input, 0))
        }
        Layer::Dropout { p } => {
            if !(0.0..1.0).contains(&p) {
                return Err(format!("p must be in [0, 1), got {p}"));
            }
            Ok((input, 0))
        }
        Layer::BatchNorm1d { eps, momentum } | Layer::BatchNorm2d { eps, momentum } => {
            check_batch_norm_settings(eps, momentum)?;
            let channels = match (layer, input) {
                (Layer::BatchNorm2d { .. }, _) => spatial(input, "BatchNorm2d")?.0,
                (_, ActivationShape::Flat { features }) => features,
                (_, ActivationShape::Spatial { .. }) => {
                    return Err(format!(
                        "BatchNorm1d needs flat features but gets an image ({input}); use BatchNorm2d for images, or put it after Flatten/Linear"
                    ))
                }
            };
            Ok((input, channels.checked_mul(2).ok_or("too many parameters")?))
        }
    }
}

/// PyTorch accepts any `eps` and `momentum`; a negative, zero or non-finite `eps` divides by
/// zero or a negative variance, and a momentum outside [0, 1] makes the running statistics
/// diverge, so those are refused here.
fn check_batch_norm_settings(eps: f32, momentum: f32) -> Result<(), String> {
    if !(eps.is_finite() && eps > 0.0 && eps <= 1.0) {
        return Err(format!("eps must be in (0, 1], got {eps}"));
    }
    if !(0.0..=1.0).contains(&momentum) {
        return Err(format!("momentum must be in [0, 1], got {momentum}"));
    }
    Ok(())
}

fn spatial(input: ActivationShape, kind: &str) -> Result<(usize, usize, usize), String> {
    match input {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } => Ok((channels, height, width)),
        ActivationShape::Flat { features } => Err(format!(
            "{kind} needs an image (channels x height x width) but gets {features} flat features; move it before Flatten/Linear"
        )),
    }
}

/// Number of windows of `kernel` placed every `stride` along `extent` (PyTorch's floor rule).
/// Bytes a training step of `plan` needs at `batch` samples, roughly: every layer's output
/// kept for the backward pass and its gradient (f32), the input batch, and each parameter
/// with its gradient and two optimizer moments (Adam's).
pub fn estimate_training_bytes(plan: &Plan, batch: usize) -> u64 {
    let batch = batch as u64;
    let activations: u64 = std::iter::once(plan.input)
        .chain(plan.layers.iter().map(|l| l.output))
        .map(|shape| shape.checked_numel().unwrap_or(usize::MAX) as u64)
        .fold(0u64, u64::saturating_add);
    let parameters = plan.total_parameters() as u64;
    activations
        .saturating_mul(batch)
        .saturating_mul(2 * 4)
        .saturating_add(parameters.saturating_mul(4 * 4))
}

/// Refuses a plan whose training step would need more than [`MAX_TRAINING_BYTES`] at `batch`.
pub fn check_training_memory(plan: &Plan, batch: usize) -> Result<(), SpecError> {
    let bytes = estimate_training_bytes(plan, batch);
    if bytes > MAX_TRAINING_BYTES {
        return Err(SpecError::whole(format!(
            "training this stack at batch size {batch} needs about {:.1} GB of memory, more than the {} GB LayerLab allows: lower the batch size or shrink the layers",
            bytes as f64 / 1e9,
            MAX_TRAINING_BYTES >> 30
        )));
    }
    Ok(())
}

fn window_count(extent: usize, kernel: usize, stride: usize) -> Option<usize> {
    extent.checked_sub(kernel).map(|room| room / stride + 1)
}

fn too_small(kernel: usize, height: usize, width: usize, padding: usize) -> String {
    if padding > 0 {
        format!("kernel {kernel} is larger than its {height}x{width} input padded by {padding}")
    } else {
        format!("kernel {kernel} is larger than its {height}x{width} input")
    }
}

/// Stacks that train but probably not as meant: layers after the last Linear. Each warning
/// names the layer and says what to do instead.
pub fn stack_warnings(spec: &ModelSpec) -> Vec<String> {
    let Some(last_linear) = spec
        .layers
        .iter()
        .rposition(|l| matches!(l, Layer::Linear { .. }))
    else {
        return Vec::new();
    };
    spec.layers
        .iter()
        .enumerate()
        .skip(last_linear + 1)
        .filter_map(|(index, layer)| match layer {
            Layer::Dropout { p } if *p > 0.0 => Some(format!(
                "layer {index} Dropout comes after the output layer: it zeroes outputs while training; put it before layer {last_linear}"
            )),
            Layer::ReLU | Layer::LeakyReLU { .. } | Layer::Sigmoid | Layer::Tanh | Layer::GELU => {
                Some(format!(
                    "layer {index} {} comes after the output layer: the loss expects raw outputs (cross-entropy applies softmax itself); remove it",
                    layer.kind_name()
                ))
            }
            Layer::BatchNorm1d { .. } | Layer::BatchNorm2d { .. } => Some(format!(
                "layer {index} {} comes after the output layer: it rescales the outputs with batch statistics, so a prediction depends on the batch; put it before layer {last_linear}",
                layer.kind_name()
            )),
            Layer::Dropout { .. }
            | Layer::Linear { .. }
            | Layer::Conv2d { .. }
            | Layer::MaxPool2d { .. }
            | Layer::AvgPool2d { .. }
            | Layer::Flatten => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNIST: ActivationShape = ActivationShape::Spatial {
        channels: 1,
        height: 28,
        width: 28,
    };

    fn conv(out_channels: usize, kernel_size: usize) -> Layer {
        Layer::Conv2d {
            out_channels,
            kernel_size,
            stride: 1,
            padding: 0,
        }
    }

    #[test]
    fn sizes_near_two_to_the_32_are_refused_with_checked_arithmetic() {
        // These passed validation and then panicked in rand (range overflow) or wrapped.
        for (kernel, stride, padding) in [
            ((1usize << 32) - 1, 1, (1usize << 32) - 2),
            (3, 1usize << 32, 0),
            (1 << 31, 1, (1 << 31) - 1),
        ] {
            let spec = ModelSpec::new(vec![
                Layer::Conv2d {
                    out_channels: 4,
                    kernel_size: kernel,
                    stride,
                    padding,
                },
                Layer::Linear { out_features: 10 },
            ]);
            let err = validate(&spec, MNIST, 10).unwrap_err();
            assert!(err.message.contains("larger than the limit"), "{err}");
        }
        let wide = ModelSpec::new(vec![Layer::Linear {
            out_features: usize::MAX,
        }]);
        assert!(validate(&wide, MNIST, 10).is_err());
    }

    #[test]
    fn layers_after_the_output_are_warned_about() {
        let spec = ModelSpec::new(vec![
            Layer::Linear { out_features: 64 },
            Layer::ReLU,
            Layer::Linear { out_features: 10 },
            Layer::Dropout { p: 0.5 },
            Layer::ReLU,
        ]);
        let warnings = stack_warnings(&spec);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("layer 3 Dropout comes after the output layer"));
        assert!(warnings[1].starts_with("layer 4 ReLU comes after the output layer"));
        assert!(stack_warnings(&crate::presets::preset("cnn").unwrap().spec).is_empty());
    }

    #[test]
    fn a_hundred_thousand_layers_are_refused_at_once() {
        let spec = ModelSpec::new(vec![Layer::ReLU; 100_000]);
        let err = validate(&spec, MNIST, 784).unwrap_err();
        assert!(err.message.contains("up to 256"), "{err}");
        let (layers, error) = check_layers(&spec, MNIST);
        assert_eq!(layers.len(), MAX_LAYERS);
        assert!(error.unwrap().message.contains("at most 256 layers"));
    }

    #[test]
    fn training_memory_is_estimated_and_refused_with_the_figure() {
        let plan = validate(&crate::presets::preset("cnn").unwrap().spec, MNIST, 10).unwrap();
        // Outputs per sample: 784 + 2 * 21632 + 5408 + 2 * 7744 + 1600 * 2 + 128 * 2 + 10.
        let per_sample: u64 = 784 + 2 * 21_632 + 5_408 + 2 * 7_744 + 1_600 * 2 + 128 * 2 + 10;
        assert_eq!(
            estimate_training_bytes(&plan, 32),
            per_sample * 32 * 8 + 225_034 * 16
        );
        assert!(check_training_memory(&plan, 32).is_ok());
        let wide = ModelSpec::new(vec![conv(1024, 3), Layer::Linear { out_features: 10 }]);
        let plan = validate(&wide, MNIST, 10).unwrap();
        // (784 + 692,224 + 10) values x 4096 x 8 bytes + 6,932,490 parameters x 16 bytes.
        assert_eq!(estimate_training_bytes(&plan, 4096), 22_819_733_664);
        let err = check_training_memory(&plan, 4096).unwrap_err();
        assert!(
            err.message
                .contains("at batch size 4096 needs about 22.8 GB"),
            "{err}"
        );
    }

    #[test]
    fn cnn_preset_shapes_and_parameters_match_pytorch() {
        let plan = validate(&crate::presets::preset("cnn").unwrap().spec, MNIST, 10).unwrap();
        let outputs: Vec<String> = plan.layers.iter().map(|l| l.output.to_string()).collect();
        assert_eq!(
            outputs,
            [
                "32x26x26", "32x26x26", "32x13x13", "64x11x11", "64x11x11", "64x5x5", "1600",
                "128", "128", "10"
            ]
        );
        // sum(p.numel() for p in model.parameters()) in PyTorch for the same nn.Sequential.
        assert_eq!(plan.total_parameters(), 320 + 18_496 + 204_928 + 1_290);
    }

    #[test]
    fn kernel_larger_than_input_names_the_layer() {
        let spec = ModelSpec::new(vec![
            conv(8, 5),
            Layer::MaxPool2d {
                kernel_size: 8,
                stride: None,
            },
            conv(8, 5),
            Layer::Linear { out_features: 10 },
        ]);
        let err = validate(&spec, MNIST, 10).unwrap_err();
        assert_eq!(err.layer, Some(2));
        assert_eq!(
            err.to_string(),
            "layer 2 Conv2d: kernel 5 is larger than its 3x3 input"
        );
    }

    #[test]
    fn wrong_number_of_outputs_is_reported() {
        let spec = ModelSpec::new(vec![Layer::Linear { out_features: 128 }]);
        let err = validate(&spec, MNIST, 10).unwrap_err();
        assert!(err.to_string().contains("ends with 128 outputs"), "{err}");
    }

    #[test]
    fn conv_after_flatten_is_refused() {
        let spec = ModelSpec::new(vec![
            Layer::Flatten,
            conv(4, 3),
            Layer::Linear { out_features: 10 },
        ]);
        let err = validate(&spec, MNIST, 10).unwrap_err();
        assert_eq!(err.layer, Some(1));
        assert!(err.to_string().contains("needs an image"), "{err}");
    }

    #[test]
    fn batch_norm_fits_its_input_and_refuses_bad_settings() {
        let bn1 = |eps, momentum| Layer::BatchNorm1d { eps, momentum };
        let bn2 = |eps, momentum| Layer::BatchNorm2d { eps, momentum };
        // BatchNorm2d normalises each of an image's channels: 2 parameters a channel.
        let spec = ModelSpec::new(vec![
            conv(4, 3),
            bn2(1e-5, 0.1),
            Layer::Linear { out_features: 10 },
        ]);
        let plan = validate(&spec, MNIST, 10).unwrap();
        assert_eq!(plan.layers[1].parameters, 8);
        assert_eq!(plan.layers[1].output, plan.layers[1].input);
        let spec = ModelSpec::new(vec![
            Layer::Linear { out_features: 32 },
            bn1(1e-5, 0.1),
            Layer::Linear { out_features: 10 },
        ]);
        assert_eq!(validate(&spec, MNIST, 10).unwrap().layers[1].parameters, 64);
        for (layers, expected) in [
            (vec![bn1(1e-5, 0.1)], "BatchNorm1d needs flat features"),
            (
                vec![Layer::Flatten, bn2(1e-5, 0.1)],
                "BatchNorm2d needs an image",
            ),
            (vec![bn2(0.0, 0.1)], "eps must be in (0, 1]"),
            (vec![bn2(f32::NAN, 0.1)], "eps must be in (0, 1]"),
            (vec![bn2(1e-5, 1.5)], "momentum must be in [0, 1]"),
            (vec![bn2(1e-5, f32::INFINITY)], "momentum must be in [0, 1]"),
        ] {
            let mut layers = layers;
            layers.push(Layer::Linear { out_features: 10 });
            let err = validate(&ModelSpec::new(layers), MNIST, 10).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let after_output = ModelSpec::new(vec![Layer::Linear { out_features: 10 }, bn1(1e-5, 0.1)]);
        let warnings = stack_warnings(&after_output);
        assert!(
            warnings[0].contains("BatchNorm1d comes after the output layer"),
            "{warnings:?}"
        );
    }

    #[test]
    fn zero_sizes_and_bad_probabilities_are_refused() {
        for (layer, expected) in [
            (
                Layer::Linear { out_features: 0 },
                "out_features must be at least 1",
            ),
            (
                Layer::Conv2d {
                    out_channels: 4,
                    kernel_size: 3,
                    stride: 0,
                    padding: 0,
                },
                "stride must be at least 1",
            ),
            (Layer::Dropout { p: 1.0 }, "p must be in [0, 1)"),
            (
                Layer::MaxPool2d {
                    kernel_size: 0,
                    stride: None,
                },
                "kernel_size must be at least 1",
            ),
        ] {
            let spec = ModelSpec::new(vec![layer, Layer::Linear { out_features: 10 }]);
            let err = validate(&spec, MNIST, 10).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn stride_and_padding_follow_pytorch_floor_rule() {
        let spec = ModelSpec::new(vec![
            Layer::Conv2d {
                out_channels: 2,
                kernel_size: 3,
                stride: 2,
                padding: 1,
            },
            Layer::Linear { out_features: 10 },
        ]);
        let plan = validate(&spec, MNIST, 10).unwrap();
        // floor((28 + 2 - 3) / 2) + 1 = 14
        assert_eq!(plan.layers[0].output, ActivationShape::image(2, 14, 14));
    }

    #[test]
    fn absurd_sizes_are_refused_not_allocated() {
        let spec = ModelSpec::new(vec![
            Layer::Linear {
                out_features: 1_000_000,
            },
            Layer::Linear { out_features: 10 },
        ]);
        let err = validate(&spec, MNIST, 10).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn empty_stack_is_refused() {
        assert!(validate(&ModelSpec::new(vec![]), MNIST, 10).is_err());
    }
}
