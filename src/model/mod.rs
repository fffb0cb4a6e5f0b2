//! A validated layer stack made real: dfdx parameter tensors and the forward pass.
//!
//! Parameters are stored flat (`Tensor<(usize,)>`) with their PyTorch name and shape, and
//! reshaped at forward time; this keeps optimizers and export uniform. Only a [`Plan`] (a
//! validated spec) can become a [`Model`], so dfdx never sees a shape that does not fit.

mod fusion;
mod inference;
mod outputs;
mod weights;

pub use inference::InferenceModel;
pub use outputs::{argmax_rows, softmax, Prediction};

pub use weights::{
    is_batches_tracked, is_running_statistic, parameter_names, running_statistics_names,
    NamedTensor, Weights,
};

use dfdx::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

pub use crate::ops::Param;

use crate::ops::profile::{timed, OpKind};
use crate::ops::{self, Activations, BatchStatistics, Window};
use crate::spec::{ActivationShape, Layer, LayerPlan, ModelSpec, Plan};
use fusion::Fused;

/// Whether dropout is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

/// A model ready to run: its spec, the plan validated from it, and its parameters.
#[derive(Clone, Debug)]
pub struct Model {
    pub spec: ModelSpec,
    pub plan: Plan,
    /// Learned tensors, in stack order (each learning layer's weight, then its bias).
    pub params: Vec<Param>,
    /// The running statistics of each batch-norm layer, in stack order (not learned: the
    /// optimizer never sees them).
    pub running: Vec<RunningStatistics>,
    device: Cpu,
}

/// A batch-norm layer's running mean and variance, PyTorch's buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningStatistics {
    /// Index of the layer in the stack.
    pub layer: usize,
    pub mean: Vec<f32>,
    pub variance: Vec<f32>,
    pub batches_tracked: u64,
}

impl RunningStatistics {
    /// PyTorch's starting point: mean 0, variance 1, no batch seen.
    fn new(layer: usize, channels: usize) -> Self {
        Self {
            layer,
            mean: vec![0.0; channels],
            variance: vec![1.0; channels],
            batches_tracked: 0,
        }
    }

    /// Follows one training batch as PyTorch does: `running = (1 - momentum) * running +
    /// momentum * batch`, with the variance unbiased (`n / (n - 1)`). A batch of one value
    /// per channel has no variance to learn from and is skipped (PyTorch refuses it).
    pub fn follow(&mut self, batch: &BatchStatistics, momentum: f32) {
        if batch.count < 2 {
            return;
        }
        let unbiased = batch.count as f32 / (batch.count - 1) as f32;
        for (r, m) in self.mean.iter_mut().zip(&batch.mean) {
            *r = (1.0 - momentum) * *r + momentum * m;
        }
        for (r, v) in self.variance.iter_mut().zip(&batch.variance) {
            *r = (1.0 - momentum) * *r + momentum * v * unbiased;
        }
        self.batches_tracked += 1;
    }

    /// The three buffers under PyTorch's names (`num_batches_tracked` a scalar).
    fn tensors(&self) -> [NamedTensor; 3] {
        let [mean, variance, tracked] = running_statistics_names(self.layer);
        let channels = self.mean.len();
        [
            NamedTensor {
                name: mean,
                shape: vec![channels],
                values: self.mean.clone(),
            },
            NamedTensor {
                name: variance,
                shape: vec![channels],
                values: self.variance.clone(),
            },
            NamedTensor {
                name: tracked,
                shape: vec![],
                values: vec![self.batches_tracked as f32],
            },
        ]
    }
}

/// A weights file that does not match the stack it claims to be for.
#[derive(Debug, thiserror::Error)]
pub enum WeightsMismatch {
    #[error("tensor \"{0}\" is missing")]
    Missing(String),
    #[error("tensor \"{name}\" has shape {found:?} but the layer stack needs {expected:?}")]
    WrongShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor \"{name}\" holds {found} values but its shape {shape:?} needs {expected}")]
    WrongLength {
        name: String,
        shape: Vec<usize>,
        expected: usize,
        found: usize,
    },
    #[error("tensor \"{0}\" does not belong to any layer of the stack")]
    Unexpected(String),
    #[error("tensor \"{0}\" contains NaN or infinite values")]
    NotFinite(String),
    #[error("tensor \"{0}\" holds a negative value (a variance or a count of batches)")]
    Negative(String),
}

/// The tensor `name` of `weights`, checked against `shape`: present, that shape, that many
/// values, all finite.
fn checked_tensor<'w>(
    weights: &'w Weights,
    name: &str,
    shape: &[usize],
) -> Result<&'w NamedTensor, WeightsMismatch> {
    let tensor = weights
        .get(name)
        .ok_or_else(|| WeightsMismatch::Missing(name.to_string()))?;
    if tensor.shape != shape {
        return Err(WeightsMismatch::WrongShape {
            name: name.to_string(),
            expected: shape.to_vec(),
            found: tensor.shape.clone(),
        });
    }
    let len: usize = shape.iter().product();
    if tensor.values.len() != len {
        return Err(WeightsMismatch::WrongLength {
            name: name.to_string(),
            shape: shape.to_vec(),
            expected: len,
            found: tensor.values.len(),
        });
    }
    if tensor.values.iter().any(|v| !v.is_finite()) {
        return Err(WeightsMismatch::NotFinite(name.to_string()));
    }
    Ok(tensor)
}

impl Model {
    /// Builds a model with PyTorch's default initialisation: weight and bias of every Linear
    /// and Conv2d drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), layer by layer, from `seed`;
    /// batch norm's weight 1 and bias 0, its running mean 0 and variance 1.
    pub fn initialise(spec: ModelSpec, plan: Plan, device: &Cpu, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let params = parameter_shapes(&plan)
            .into_iter()
            .map(|(name, shape, init)| {
                let len = shape.iter().product();
                let values: Vec<f32> = match init {
                    Init::Uniform { fan_in } => {
                        let bound = 1.0 / (fan_in as f32).sqrt();
                        (0..len).map(|_| rng.gen_range(-bound..bound)).collect()
                    }
                    Init::Constant(value) => vec![value; len],
                };
                Param::new(name, shape, values, device)
            })
            .collect();
        let running = running_statistics_of(&plan);
        Self {
            spec,
            plan,
            params,
            running,
            device: device.clone(),
        }
    }

    /// Builds a model from saved weights, checking every tensor's name and shape.
    pub fn from_weights(
        spec: ModelSpec,
        plan: Plan,
        weights: &Weights,
        device: &Cpu,
    ) -> Result<Self, WeightsMismatch> {
        let expected = parameter_shapes(&plan);
        let mut running = running_statistics_of(&plan);
        if let Some(extra) = weights.tensors.iter().find(|t| {
            !expected.iter().any(|(name, _, _)| *name == t.name)
                && !running
                    .iter()
                    .any(|r| running_statistics_names(r.layer).contains(&t.name))
        }) {
            return Err(WeightsMismatch::Unexpected(extra.name.clone()));
        }
        // Running statistics: checked like parameters, then read into place.
        for statistics in &mut running {
            let [mean, variance, tracked] = running_statistics_names(statistics.layer);
            let channels = [statistics.mean.len()];
            statistics.mean = checked_tensor(weights, &mean, &channels)?.values.clone();
            let values = &checked_tensor(weights, &variance, &channels)?.values;
            if values.iter().any(|v| *v < 0.0) {
                return Err(WeightsMismatch::Negative(variance));
            }
            statistics.variance = values.clone();
            let count = checked_tensor(weights, &tracked, &[])?.values[0];
            if count < 0.0 {
                return Err(WeightsMismatch::Negative(tracked));
            }
            statistics.batches_tracked = count as u64;
        }
        let mut params = Vec::with_capacity(expected.len());
        for (name, shape, _) in expected {
            let tensor = checked_tensor(weights, &name, &shape)?;
            params.push(Param::new(name, shape, tensor.values.clone(), device));
        }
        Ok(Self {
            spec,
            plan,
            params,
            running,
            device: device.clone(),
        })
    }

    /// A copy of the parameters and running statistics as plain data, in PyTorch's state-dict
    /// order (per layer: weight, bias, then a batch norm's buffers).
    pub fn weights(&self) -> Weights {
        let mut tensors = Vec::with_capacity(self.params.len() + 3 * self.running.len());
        let mut running = self.running.iter().peekable();
        for p in &self.params {
            tensors.push(NamedTensor {
                name: p.name.clone(),
                shape: p.shape.clone(),
                values: p.values().to_vec(),
            });
            if let Some(statistics) = running.next_if(|r| p.name == parameter_names(r.layer)[1]) {
                tensors.extend(statistics.tensors());
            }
        }
        Weights { tensors }
    }

    /// Moves each batch-norm layer's running statistics toward what a training batch had
    /// (`statistics` from [`ForwardOptions::batch_statistics`]).
    pub fn update_running_statistics(&mut self, statistics: &[(usize, BatchStatistics)]) {
        for (layer, batch) in statistics {
            let momentum = self.plan.layers[*layer]
                .layer
                .batch_norm()
                .map_or(0.0, |(_, momentum)| momentum);
            if let Some(running) = self.running.iter_mut().find(|r| r.layer == *layer) {
                running.follow(batch, momentum);
            }
        }
    }

    /// The running `(mean, variance)` of the batch-norm layer at `layer`.
    pub(crate) fn running_of(&self, layer: usize) -> (&[f32], &[f32]) {
        match self.running.iter().find(|r| r.layer == layer) {
            Some(r) => (&r.mean, &r.variance),
            None => unreachable!("running statistics are built from the same plan"),
        }
    }

    pub fn device(&self) -> &Cpu {
        &self.device
    }

    /// Values per input sample (784 for MNIST).
    pub fn input_len(&self) -> usize {
        self.plan.input.numel()
    }

    /// Runs the stack on `(batch, input_len)` activations, recording on the tape `T` carries.
    pub fn forward<T: Tape<f32, Cpu>>(&self, x: Activations<T>, mode: Mode) -> Activations<T> {
        self.forward_layers(
            x,
            0..self.plan.layers.len(),
            mode,
            &mut ForwardOptions::default(),
        )
    }

    /// Runs layers `layers` (a range of the stack) on activations shaped as the first one's
    /// input. `options` can ask for the input's gradient (saliency) and for every layer's
    /// output (the Inside view); either turns off the fused ReLU-pool step, so each layer's
    /// output exists on its own.
    pub fn forward_layers<T: Tape<f32, Cpu>>(
        &self,
        x: Activations<T>,
        layers: std::ops::Range<usize>,
        mode: Mode,
        options: &mut ForwardOptions,
    ) -> Activations<T> {
        let batch = x.shape().0;
        // The parameters of the layers before the range are skipped.
        let skipped = self.plan.layers[..layers.start.min(self.plan.layers.len())]
            .iter()
            .filter(|l| l.layer.has_parameters())
            .count();
        let mut params = self.params.iter().skip(2 * skipped);
        // Activations need a gradient only after the first layer that learns, unless the
        // input's own gradient is wanted.
        let first_learning = self
            .plan
            .layers
            .iter()
            .position(|l| l.layer.has_parameters());
        let fuse = !options.input_gradient && options.outputs.is_none();
        let end = layers.end.min(self.plan.layers.len());
        let mut x = x;
        // The input comes channels-first (PyTorch's NCHW, the datasets' order); the layers
        // compute channels-last.
        if layers.start == 0 {
            if let ActivationShape::Spatial {
                channels,
                height,
                width,
            } = self.plan.input
            {
                x = ops::to_channels_last(x, channels, height, width);
            }
        }
        let mut layers = self.plan.layers[..end]
            .iter()
            .enumerate()
            .skip(layers.start)
            .peekable();
        while let Some((index, layer)) = layers.next() {
            let input_grad =
                options.input_gradient || first_learning.is_some_and(|first| index > first);
            let fused = if fuse {
                fusion::fused_with_next(layer, &mut layers, batch, mode)
            } else {
                None
            };
            match fused {
                Some(Fused::ReluMaxPool(pool)) => {
                    x = ops::relu_max_pool(x, pool);
                    continue;
                }
                Some(Fused::BatchNormReluMaxPool { eps, pool }) => {
                    let (weight, bias) = next_pair(&mut params);
                    let (y, statistics) = ops::batch_norm_relu_max_pool_train(
                        x,
                        (weight, bias),
                        eps,
                        input_grad,
                        pool,
                    );
                    options.batch_statistics.push((index, statistics));
                    x = y;
                    continue;
                }
                None => {}
            }
            let step = LayerStep {
                index,
                layer,
                batch,
                mode,
                input_grad,
            };
            x = self.forward_layer(x, step, &mut params, options);
            if let Some(outputs) = &mut options.outputs {
                outputs.push(x.as_vec());
            }
        }
        x
    }

    /// One layer's forward pass (its weights the next ones of `params`).
    fn forward_layer<'a, T: Tape<f32, Cpu>>(
        &self,
        x: Activations<T>,
        step: LayerStep<'_>,
        params: &mut impl Iterator<Item = &'a Param>,
        options: &mut ForwardOptions,
    ) -> Activations<T> {
        let LayerStep {
            index,
            layer,
            batch,
            mode,
            input_grad,
        } = step;
        match layer.layer {
            Layer::Linear { .. } => {
                let x = flatten(x, layer.input);
                let (weight, bias) = next_pair(params);
                ops::linear(x, weight, bias, input_grad)
            }
            Layer::Conv2d {
                kernel_size,
                stride,
                padding,
                ..
            } => {
                let window = window(layer, batch, kernel_size, stride, padding);
                let (weight, bias) = next_pair(params);
                ops::conv2d(x, weight, bias, window, input_grad)
            }
            Layer::MaxPool2d {
                kernel_size,
                stride,
            } => ops::max_pool(
                x,
                window(layer, batch, kernel_size, stride.unwrap_or(kernel_size), 0),
            ),
            Layer::AvgPool2d {
                kernel_size,
                stride,
            } => ops::avg_pool(
                x,
                window(layer, batch, kernel_size, stride.unwrap_or(kernel_size), 0),
            ),
            Layer::Flatten => flatten(x, layer.input),
            Layer::ReLU => timed(OpKind::ActivationForward, || x.relu()),
            Layer::LeakyReLU { negative_slope } => x.prelu(negative_slope),
            Layer::Sigmoid => x.sigmoid(),
            Layer::Tanh => x.tanh(),
            Layer::GELU => ops::gelu(x),
            Layer::Dropout { p } => match mode {
                Mode::Train if p > 0.0 => match options.dropout {
                    Some(DropoutSeed { seed, step }) => {
                        ops::dropout_seeded(x, f64::from(p), ops::dropout_seed(seed, step, index))
                    }
                    None => x.dropout(p),
                },
                Mode::Train | Mode::Eval => x,
            },
            Layer::BatchNorm1d { eps, .. } | Layer::BatchNorm2d { eps, .. } => {
                let (weight, bias) = next_pair(params);
                match mode {
                    Mode::Train => {
                        let (x, statistics) =
                            ops::batch_norm_train(x, weight, bias, eps, input_grad);
                        options.batch_statistics.push((index, statistics));
                        x
                    }
                    Mode::Eval => {
                        let running = self.running_of(index);
                        ops::batch_norm_eval(x, weight, bias, running, eps, input_grad)
                    }
                }
            }
        }
    }
}

/// What [`Model::forward_layers`] does besides the plain forward pass.
#[derive(Debug, Default)]
pub struct ForwardOptions {
    /// Compute the gradient with respect to the input too (the first layer skips it).
    pub input_gradient: bool,
    /// When set, each layer's output is pushed here (`batch x` its plan shape, channels
    /// last for images).
    pub outputs: Option<Vec<Vec<f32>>>,
    /// Filled in training mode: each batch-norm layer's index and the statistics of the batch
    /// it normalised, for [`Model::update_running_statistics`] once the step is taken.
    pub batch_statistics: Vec<(usize, BatchStatistics)>,
    /// Where training-mode dropout draws its masks: from the run's seed and step (a run that
    /// resumes from a checkpoint draws the same masks), else from the device's generator.
    pub dropout: Option<DropoutSeed>,
}

/// The run's seed and the step being trained, from which every dropout mask is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DropoutSeed {
    pub seed: u64,
    pub step: usize,
}

/// Where one layer runs: its place in the stack and what the pass needs of it.
#[derive(Clone, Copy)]
struct LayerStep<'a> {
    index: usize,
    layer: &'a LayerPlan,
    batch: usize,
    mode: Mode,
    /// Whether its output needs a gradient with respect to its input.
    input_grad: bool,
}

fn next_pair<'a>(params: &mut impl Iterator<Item = &'a Param>) -> (&'a Param, &'a Param) {
    // `parameter_shapes` gives every learning layer exactly a weight and a bias, in stack order.
    match (params.next(), params.next()) {
        (Some(weight), Some(bias)) => (weight, bias),
        _ => unreachable!("parameters are built from the same plan as the forward pass"),
    }
}

/// Flattens image activations into PyTorch's channels-first order; flat ones pass through.
fn flatten<T: Tape<f32, Cpu>>(x: Activations<T>, shape: ActivationShape) -> Activations<T> {
    match shape {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } => ops::to_channels_first(x, channels, height, width),
        ActivationShape::Flat { .. } => x,
    }
}

/// The window a Conv2d or pooling layer slides over its input.
fn window(layer: &LayerPlan, batch: usize, kernel: usize, stride: usize, padding: usize) -> Window {
    window_over(layer.input, batch, kernel, stride, padding)
}

/// The window of `kernel`, `stride` and `padding` over a batch of `input`-shaped samples.
pub(crate) fn window_over(
    input: ActivationShape,
    batch: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Window {
    let (channels, height, width) = match input {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } => (channels, height, width),
        // Validation refuses windowed layers on flat input.
        ActivationShape::Flat { features } => (1, 1, features),
    };
    Window {
        batch,
        channels,
        height,
        width,
        kernel,
        stride,
        padding,
    }
}

/// How a parameter starts (PyTorch's defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)): Linear and Conv2d.
    Uniform { fan_in: usize },
    /// Every value the same: batch norm's weight 1 and bias 0.
    Constant(f32),
}

/// `(name, PyTorch shape, initialisation)` of every parameter in the stack, in order.
pub fn parameter_shapes(plan: &Plan) -> Vec<(String, Vec<usize>, Init)> {
    let mut shapes = Vec::new();
    for (index, layer) in plan.layers.iter().enumerate() {
        let [weight, bias] = parameter_names(index);
        match layer.layer {
            Layer::Linear { out_features } => {
                let fan_in = layer.input.numel();
                let init = Init::Uniform { fan_in };
                shapes.push((weight, vec![out_features, fan_in], init));
                shapes.push((bias, vec![out_features], init));
            }
            Layer::Conv2d {
                out_channels,
                kernel_size,
                ..
            } => {
                let in_channels = match layer.input {
                    ActivationShape::Spatial { channels, .. } => channels,
                    ActivationShape::Flat { .. } => 1,
                };
                let init = Init::Uniform {
                    fan_in: in_channels * kernel_size * kernel_size,
                };
                shapes.push((
                    weight,
                    vec![out_channels, in_channels, kernel_size, kernel_size],
                    init,
                ));
                shapes.push((bias, vec![out_channels], init));
            }
            Layer::BatchNorm1d { .. } | Layer::BatchNorm2d { .. } => {
                let channels = batch_norm_channels(layer.input);
                shapes.push((weight, vec![channels], Init::Constant(1.0)));
                shapes.push((bias, vec![channels], Init::Constant(0.0)));
            }
            Layer::MaxPool2d { .. }
            | Layer::AvgPool2d { .. }
            | Layer::Flatten
            | Layer::ReLU
            | Layer::LeakyReLU { .. }
            | Layer::Sigmoid
            | Layer::Tanh
            | Layer::GELU
            | Layer::Dropout { .. } => {}
        }
    }
    shapes
}

/// Channels a batch norm normalises: an image's channels, or every flat feature.
fn batch_norm_channels(input: ActivationShape) -> usize {
    match input {
        ActivationShape::Spatial { channels, .. } => channels,
        ActivationShape::Flat { features } => features,
    }
}

/// Fresh running statistics for every batch-norm layer of `plan`.
fn running_statistics_of(plan: &Plan) -> Vec<RunningStatistics> {
    plan.layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.layer.is_batch_norm())
        .map(|(index, l)| RunningStatistics::new(index, batch_norm_channels(l.input)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{assert_all_close, pseudo_random};
    use crate::spec::{validate, ModelSpec};

    /// A ReLU next to a max-pool, in both orders; `separated` puts an identity (dropout with
    /// p = 0) between each pair, which stops the fusion.
    fn stack(separated: bool) -> ModelSpec {
        let pool = Layer::MaxPool2d {
            kernel_size: 2,
            stride: None,
        };
        let gap = || separated.then_some(Layer::Dropout { p: 0.0 });
        let conv = |out_channels| Layer::Conv2d {
            out_channels,
            kernel_size: 3,
            stride: 1,
            padding: 1,
        };
        let layers = [Some(conv(3)), Some(Layer::ReLU), gap(), Some(pool.clone())]
            .into_iter()
            .chain([Some(conv(4)), Some(pool), gap(), Some(Layer::ReLU)])
            .chain([
                Some(Layer::Flatten),
                Some(Layer::Linear { out_features: 3 }),
            ])
            .flatten()
            .collect();
        ModelSpec::new(layers)
    }

    #[test]
    fn running_statistics_follow_batches_as_pytorch_does() {
        let mut running = RunningStatistics::new(0, 2);
        let batch = BatchStatistics {
            mean: vec![1.0, -2.0],
            variance: vec![0.5, 3.0],
            count: 4,
        };
        running.follow(&batch, 0.1);
        // 0.9 * 0 + 0.1 * mean; 0.9 * 1 + 0.1 * variance * 4/3 (unbiased).
        assert_all_close(&running.mean, &[0.1, -0.2], 1e-7);
        assert_all_close(&running.variance, &[0.9 + 0.5 * 0.4 / 3.0, 0.9 + 0.4], 1e-6);
        assert_eq!(running.batches_tracked, 1);
        // One value per channel has no variance: PyTorch refuses it, LayerLab skips it.
        let single = BatchStatistics { count: 1, ..batch };
        let before = running.clone();
        running.follow(&single, 0.1);
        assert_eq!(running, before);
    }

    #[test]
    fn batch_norm_buffers_travel_with_the_weights_in_state_dict_order() {
        let spec = ModelSpec::new(vec![
            Layer::Conv2d {
                out_channels: 2,
                kernel_size: 3,
                stride: 1,
                padding: 1,
            },
            Layer::BatchNorm2d {
                eps: 1e-5,
                momentum: 0.1,
            },
            Layer::Flatten,
            Layer::Linear { out_features: 3 },
        ]);
        let input = ActivationShape::image(1, 4, 4);
        let plan = validate(&spec, input, 3).unwrap();
        let device = Cpu::default();
        let mut model = Model::initialise(spec.clone(), plan.clone(), &device, 0);
        assert_eq!(model.params[2].values(), [1.0, 1.0], "weight starts at 1");
        assert_eq!(model.params[3].values(), [0.0, 0.0], "bias starts at 0");
        // A training step's statistics move the buffers.
        let x = device.tensor_from_vec(pseudo_random(2 * 16, 4), (2, 16));
        let mut options = ForwardOptions::default();
        model.forward_layers(x, 0..4, Mode::Train, &mut options);
        assert_eq!(options.batch_statistics.len(), 1);
        model.update_running_statistics(&options.batch_statistics);
        let weights = model.weights();
        let names: Vec<&str> = weights.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "0.weight",
                "0.bias",
                "1.weight",
                "1.bias",
                "1.running_mean",
                "1.running_var",
                "1.num_batches_tracked",
                "3.weight",
                "3.bias"
            ]
        );
        assert_eq!(weights.get("1.num_batches_tracked").unwrap().values, [1.0]);
        assert_eq!(
            weights.get("1.num_batches_tracked").unwrap().shape,
            [0usize; 0]
        );
        // PyTorch counts only what is learned: 2*9+2 + 2+2 + 32*3+3.
        assert_eq!(weights.parameter_count(), 20 + 4 + 99);
        let restored = Model::from_weights(spec.clone(), plan.clone(), &weights, &device).unwrap();
        assert_eq!(restored.running, model.running);
        // A negative variance is refused with the tensor's name.
        let mut bad = weights.clone();
        bad.tensors[5].values[0] = -1.0;
        let error = Model::from_weights(spec, plan, &bad, &device).unwrap_err();
        assert!(error.to_string().contains("1.running_var"), "{error}");
    }

    #[test]
    fn a_colour_image_is_read_channels_first_as_pytorch_reads_it() {
        // A 2-channel 1x2 image [[a, b], [c, d]] in NCHW order is (a, b, c, d); a Linear on
        // it is W . (a, b, c, d), whatever layout the layers compute in. The model once read
        // its input channels-last and mixed the planes' pixels up for every RGB image.
        let spec = ModelSpec::new(vec![Layer::Linear { out_features: 2 }]);
        let plan = validate(&spec, ActivationShape::image(2, 1, 2), 2).unwrap();
        let mut model = Model::initialise(spec, plan, &Cpu::default(), 0);
        model.params[0]
            .values_mut()
            .copy_from_slice(&[1.0, 10.0, 100.0, 1000.0, 0.0, 0.0, 1.0, 0.0]);
        model.params[1].values_mut().copy_from_slice(&[0.0, 0.0]);
        let input = [1.0, 2.0, 3.0, 4.0];
        let expected = [1.0 + 20.0 + 300.0 + 4000.0, 3.0];
        let x = model.device().tensor_from_vec(input.to_vec(), (1, 4));
        assert_eq!(model.forward(x, Mode::Eval).as_vec(), expected);
        assert_eq!(InferenceModel::new(&model).predict(&input, 1), expected);
        // A convolution sees the same planes: a 1x1 kernel picking channel 1 gives (c, d).
        let spec = ModelSpec::new(vec![
            Layer::Conv2d {
                out_channels: 1,
                kernel_size: 1,
                stride: 1,
                padding: 0,
            },
            Layer::Flatten,
        ]);
        let plan = validate(&spec, ActivationShape::image(2, 1, 2), 2).unwrap();
        let mut model = Model::initialise(spec, plan, &Cpu::default(), 0);
        model.params[0].values_mut().copy_from_slice(&[0.0, 1.0]);
        model.params[1].values_mut().copy_from_slice(&[0.0]);
        assert_eq!(InferenceModel::new(&model).predict(&input, 1), [3.0, 4.0]);
    }

    /// `y`'s values, and each parameter's gradient of `sum(y * r)` for a fixed random `r`.
    pub(super) fn outputs_and_gradients(
        model: &Model,
        y: Activations<OwnedTape<f32, Cpu>>,
    ) -> (Vec<f32>, Vec<Vec<f32>>) {
        let outputs = y.retaped::<NoneTape>().as_vec();
        let r = y
            .device()
            .tensor_from_vec(pseudo_random(outputs.len(), 2), *y.shape());
        let mut grads = (y * r).sum().backward();
        let gradients = model
            .params
            .iter()
            .map(|p| p.gradient(&mut grads).unwrap().to_vec())
            .collect();
        (outputs, gradients)
    }

    #[test]
    fn fused_relu_and_max_pool_match_the_separate_layers_in_both_orders() {
        let input = ActivationShape::image(2, 9, 7);
        let device = Cpu::seed_from_u64(0);
        let batch = 3;
        let x = pseudo_random(batch * input.numel(), 1);
        let run = |separated: bool| {
            let spec = stack(separated);
            let plan = validate(&spec, input, 3).unwrap();
            // Same seed, same parameter shapes in the same order: the same values.
            let model = Model::initialise(spec, plan, &device, 7);
            let x = device.tensor_from_vec(x.clone(), (batch, input.numel()));
            let y = model.forward(x.leaky_trace(), Mode::Train);
            let (outputs, gradients) = outputs_and_gradients(&model, y);
            let inference = InferenceModel::new(&model).predict(&x.as_vec(), batch);
            (outputs, gradients, inference)
        };
        let (fused, separate) = (run(false), run(true));
        assert_all_close(&fused.0, &separate.0, 1e-6);
        assert_all_close(&fused.2, &separate.0, 1e-5);
        assert_eq!(fused.1.len(), 6);
        for (f, s) in fused.1.iter().zip(&separate.1) {
            assert!(s.iter().any(|&g| g != 0.0));
            assert_all_close(f, s, 1e-6);
        }
    }
}
