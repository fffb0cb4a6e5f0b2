//! The forward pass without a tape, for prediction and evaluation.
//!
//! Training runs through dfdx's tape ([`Model::forward`]); answering "what digit is this"
//! needs none of it. This path copies the weights once (conv weights pre-reordered for
//! im2col) and runs the same kernels as the tape ops (`ops::kernels`) on plain buffers: no
//! per-call weight copies or tensor allocations, which dominated single-image latency.
//! `matches_the_tape_forward_for_every_layer_kind` keeps the two paths equal.

use super::Model;
use crate::ops::kernels::{
    affine_forward, avg_pool_forward, channels_first, channels_last, folded_scale_and_shift,
    gelu_value, im2col, max_pool_forward, to_window_order, Floor, Layout,
};
use crate::ops::Window;
use crate::spec::{ActivationShape, Layer};

enum Step {
    /// `rows · W + b`, `W` stored as `layout` says; `window` is the conv window (batch
    /// filled in per call) if any.
    Affine {
        weight: Vec<f32>,
        layout: Layout,
        bias: Vec<f32>,
        window: Option<Window>,
    },
    /// Max pooling; `Floor::Zero` when a ReLU next to it is folded in.
    MaxPool(Window, Floor),
    AvgPool(Window),
    Relu,
    ChannelsFirst {
        channels: usize,
        height: usize,
        width: usize,
    },
    /// The channels-first input of an image model into the layers' channels-last layout.
    ChannelsLast {
        channels: usize,
        height: usize,
        width: usize,
    },
    Elementwise(fn(f32, f32) -> f32, f32),
    /// Batch norm in evaluation: `x * scale + shift` per channel (the channel fastest).
    ScaleShift {
        scale: Vec<f32>,
        shift: Vec<f32>,
    },
}

/// A model prepared for inference: immutable, cheap to call from any thread.
pub struct InferenceModel {
    steps: Vec<Step>,
    input_len: usize,
    output_len: usize,
}

fn spatial(shape: ActivationShape) -> Option<(usize, usize, usize)> {
    match shape {
        ActivationShape::Spatial {
            channels,
            height,
            width,
        } if channels > 1 && height * width > 1 => Some((channels, height, width)),
        ActivationShape::Spatial { .. } | ActivationShape::Flat { .. } => None,
    }
}

/// A Linear (`window` None) or Conv2d layer's step. A convolution's weight is kept as columns
/// (row_len x out): the AVX-512 product takes them as they are, where stored as rows it
/// needs a transposed copy per call or falls back to AVX2 (one image's 121 rows of the cnn's
/// second conv). A Linear layer keeps PyTorch's rows, which the one-image dot products read.
fn affine_step(weight: Vec<f32>, bias: Vec<f32>, window: Option<Window>) -> Step {
    let (weight, layout) = match window {
        Some(w) => {
            let rows = to_window_order(&weight, bias.len(), w);
            (transposed(&rows, bias.len()), Layout::AsIs)
        }
        None => (weight, Layout::Transposed),
    };
    Step::Affine {
        weight,
        layout,
        bias,
        window,
    }
}

/// `values` (`rows x columns`, row-major) transposed.
fn transposed(values: &[f32], rows: usize) -> Vec<f32> {
    let columns = values.len() / rows.max(1);
    let mut out = vec![0.0; values.len()];
    for (r, row) in values.chunks_exact(columns).enumerate() {
        for (c, value) in row.iter().enumerate() {
            out[c * rows + r] = *value;
        }
    }
    out
}

fn window_of(shape: ActivationShape, kernel: usize, stride: usize, padding: usize) -> Window {
    // The batch is filled in per call.
    super::window_over(shape, 1, kernel, stride, padding)
}

impl InferenceModel {
    pub fn new(model: &Model) -> Self {
        let mut params = model.params.iter();
        let mut steps = Vec::new();
        if let Some((channels, height, width)) = spatial(model.plan.input) {
            steps.push(Step::ChannelsLast {
                channels,
                height,
                width,
            });
        }
        for (index, plan) in model.plan.layers.iter().enumerate() {
            let flatten = |steps: &mut Vec<Step>| {
                if let Some((channels, height, width)) = spatial(plan.input) {
                    steps.push(Step::ChannelsFirst {
                        channels,
                        height,
                        width,
                    });
                }
            };
            match plan.layer {
                Layer::Linear { .. } | Layer::Conv2d { .. } => {
                    let (Some(weight), Some(bias)) = (params.next(), params.next()) else {
                        unreachable!("every Linear and Conv2d has a weight and a bias")
                    };
                    let (weight, bias) = (weight.values().to_vec(), bias.values().to_vec());
                    let window = match plan.layer {
                        Layer::Conv2d {
                            kernel_size,
                            stride,
                            padding,
                            ..
                        } => Some(window_of(plan.input, kernel_size, stride, padding)),
                        Layer::Linear { .. }
                        | Layer::MaxPool2d { .. }
                        | Layer::AvgPool2d { .. }
                        | Layer::Flatten
                        | Layer::ReLU
                        | Layer::LeakyReLU { .. }
                        | Layer::Sigmoid
                        | Layer::Tanh
                        | Layer::GELU
                        | Layer::Dropout { .. }
                        | Layer::BatchNorm1d { .. }
                        | Layer::BatchNorm2d { .. } => {
                            flatten(&mut steps);
                            None
                        }
                    };
                    steps.push(affine_step(weight, bias, window));
                }
                Layer::MaxPool2d {
                    kernel_size,
                    stride,
                } => {
                    let window =
                        window_of(plan.input, kernel_size, stride.unwrap_or(kernel_size), 0);
                    // ReLU then max-pool is one pass: relu(max) = max(relu).
                    let floor = if matches!(steps.last(), Some(Step::Relu)) {
                        steps.pop();
                        Floor::Zero
                    } else {
                        Floor::None
                    };
                    steps.push(Step::MaxPool(window, floor));
                }
                Layer::AvgPool2d {
                    kernel_size,
                    stride,
                } => steps.push(Step::AvgPool(window_of(
                    plan.input,
                    kernel_size,
                    stride.unwrap_or(kernel_size),
                    0,
                ))),
                Layer::Flatten => flatten(&mut steps),
                Layer::ReLU => match steps.last_mut() {
                    Some(Step::MaxPool(_, floor)) if *floor == Floor::None => *floor = Floor::Zero,
                    _ => steps.push(Step::Relu),
                },
                Layer::LeakyReLU { negative_slope } => steps.push(Step::Elementwise(
                    |x, slope| if x < 0.0 { x * slope } else { x },
                    negative_slope,
                )),
                Layer::Sigmoid => {
                    steps.push(Step::Elementwise(|x, _| 1.0 / (1.0 + (-x).exp()), 0.0))
                }
                Layer::Tanh => steps.push(Step::Elementwise(|x, _| x.tanh(), 0.0)),
                Layer::GELU => steps.push(Step::Elementwise(|x, _| gelu_value(x), 0.0)),
                // Dropout is the identity outside training.
                Layer::Dropout { .. } => {}
                Layer::BatchNorm1d { eps, .. } | Layer::BatchNorm2d { eps, .. } => {
                    let (Some(weight), Some(bias)) = (params.next(), params.next()) else {
                        unreachable!("every batch norm has a weight and a bias")
                    };
                    let (scale, shift) = folded_scale_and_shift(
                        weight.values(),
                        bias.values(),
                        model.running_of(index),
                        eps,
                    );
                    steps.push(Step::ScaleShift { scale, shift });
                }
            }
        }
        Self {
            steps,
            input_len: model.input_len(),
            output_len: model.plan.output().numel(),
        }
    }

    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Outputs (logits) for `batch` samples laid out one after another (images channels
    /// first, as PyTorch takes them).
    pub fn predict(&self, inputs: &[f32], batch: usize) -> Vec<f32> {
        assert_eq!(inputs.len(), batch * self.input_len, "input length");
        let mut x = inputs.to_vec();
        for step in &self.steps {
            x = match step {
                Step::Affine {
                    weight,
                    layout,
                    bias,
                    window,
                } => {
                    let (rows, row_len, lowered) = match window {
                        Some(w) => {
                            let w = Window { batch, ..*w };
                            let (rows, row_len) = (
                                batch * w.out_height() * w.out_width(),
                                w.kernel * w.kernel * w.channels,
                            );
                            let mut columns = vec![0.0; rows * row_len];
                            im2col(&x, &mut columns, w);
                            (rows, row_len, columns)
                        }
                        None => (batch, x.len() / batch.max(1), x),
                    };
                    affine_forward(&lowered, (weight, *layout), bias, rows, row_len)
                }
                Step::MaxPool(w, floor) => {
                    let w = Window { batch, ..*w };
                    let mut output = vec![0.0; batch * w.out_height() * w.out_width() * w.channels];
                    max_pool_forward(&x, &mut output, None, w, *floor);
                    output
                }
                Step::AvgPool(w) => {
                    let w = Window { batch, ..*w };
                    let mut output = vec![0.0; batch * w.out_height() * w.out_width() * w.channels];
                    avg_pool_forward(&x, &mut output, w);
                    output
                }
                Step::ChannelsFirst {
                    channels,
                    height,
                    width,
                } => channels_first(&x, batch, *channels, *height, *width),
                Step::ChannelsLast {
                    channels,
                    height,
                    width,
                } => channels_last(&x, batch, *channels, *height, *width),
                Step::Relu => {
                    // As PyTorch: a NaN stays NaN (f32::max would turn it into 0).
                    for v in x.iter_mut() {
                        *v = if *v < 0.0 { 0.0 } else { *v };
                    }
                    x
                }
                Step::Elementwise(f, parameter) => {
                    for v in x.iter_mut() {
                        *v = f(*v, *parameter);
                    }
                    x
                }
                Step::ScaleShift { scale, shift } => {
                    for row in x.chunks_exact_mut(scale.len()) {
                        for ((v, a), b) in row.iter_mut().zip(scale).zip(shift) {
                            *v = *v * a + b;
                        }
                    }
                    x
                }
            };
        }
        debug_assert_eq!(x.len(), batch * self.output_len);
        x
    }
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use super::*;
    use crate::model::Mode;
    use crate::ops::testing::{assert_all_close, pseudo_random};
    use crate::spec::{validate, ModelSpec};

    #[test]
    fn matches_the_tape_forward_for_every_layer_kind() {
        let spec = ModelSpec::new(vec![
            Layer::Conv2d {
                out_channels: 3,
                kernel_size: 3,
                stride: 2,
                padding: 1,
            },
            Layer::LeakyReLU {
                negative_slope: 0.1,
            },
            Layer::MaxPool2d {
                kernel_size: 2,
                stride: None,
            },
            Layer::Conv2d {
                out_channels: 4,
                kernel_size: 2,
                stride: 1,
                padding: 0,
            },
            Layer::GELU,
            Layer::BatchNorm2d {
                eps: 1e-3,
                momentum: 0.1,
            },
            Layer::AvgPool2d {
                kernel_size: 2,
                stride: Some(1),
            },
            Layer::Dropout { p: 0.5 },
            Layer::Linear { out_features: 6 },
            Layer::BatchNorm1d {
                eps: 1e-5,
                momentum: 0.1,
            },
            Layer::Tanh,
            Layer::Flatten,
            Layer::Linear { out_features: 5 },
            Layer::Sigmoid,
            Layer::ReLU,
            Layer::Linear { out_features: 3 },
        ]);
        let input = ActivationShape::image(2, 17, 13);
        let plan = validate(&spec, input, 3).unwrap();
        let device = Cpu::seed_from_u64(1);
        let mut model = Model::initialise(spec, plan, &device, 3);
        // Batch norms with statistics and an affine part of their own.
        for (i, running) in model.running.iter_mut().enumerate() {
            let n = running.mean.len();
            running.mean = pseudo_random(n, 10 + i as u64);
            running.variance = pseudo_random(n, 20 + i as u64)
                .iter()
                .map(|v| v.abs() + 0.5)
                .collect();
        }
        for p in model.params.iter_mut().filter(|p| p.shape.len() == 1) {
            let values = pseudo_random(p.len(), 30);
            p.values_mut().copy_from_slice(&values);
        }
        let batch = 3;
        let x = pseudo_random(batch * input.numel(), 5);
        let tape_path = model
            .forward(
                device.tensor_from_vec(x.clone(), (batch, input.numel())),
                Mode::Eval,
            )
            .as_vec();
        let plain = InferenceModel::new(&model).predict(&x, batch);
        assert_all_close(&plain, &tape_path, 1e-5);
    }
}
