//! Everything the Inside view and `layerlab explain` show about one input, computed together
//! on one snapshot of the weights: every layer's activations, gradient x input for the
//! trained and for a randomised copy (the sanity check), occlusion and Grad-CAM; and, needing
//! no input, the filters of the first layer that learns ([`filters`]).

use std::time::Instant;

use super::{
    activations, correlation, grad_cam, gradient_times_input, occlusion, ExplainError,
    LayerActivation, Occlusion, SpatialMap,
};
use crate::model::{InferenceModel, Model};
use crate::spec::{ActivationShape, Layer};

/// Templates (rows of a first Linear layer on images) shown at most.
pub const MAX_TEMPLATES: usize = 64;

/// What was computed for one input.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The class explained (the predicted one unless another was asked for).
    pub class: usize,
    pub activations: Vec<LayerActivation>,
    /// d(class logit)/d(input) x input, one value per input value.
    pub gradient_times_input: Vec<f32>,
    /// The same map for the stack with random weights.
    pub random_gradient_times_input: Vec<f32>,
    /// Pearson correlation of the two maps: near 1, the map explains nothing learned.
    pub random_correlation: f32,
    /// The drop in the class probability when each part is hidden (per position for images,
    /// per input value otherwise).
    pub occlusion: Vec<f32>,
    /// Grad-CAM, where a learning layer has a spatial output.
    pub grad_cam: Option<SpatialMap>,
    pub timings: ExplainTimings,
}

/// Milliseconds each part took.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ExplainTimings {
    pub activations_ms: f64,
    pub gradient_ms: f64,
    pub occlusion_ms: f64,
    pub grad_cam_ms: f64,
    pub random_ms: f64,
}

impl ExplainTimings {
    /// Everything but the activations: the time of the saliency maps.
    pub fn saliency_ms(&self) -> f64 {
        self.gradient_ms + self.occlusion_ms + self.grad_cam_ms + self.random_ms
    }
}

/// What the first learning layer looks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Filters {
    /// The first layer that learns is a convolution: its kernels, `[out][in][size][size]`,
    /// and for each later convolution each filter's mean absolute weight.
    Kernels {
        layer: usize,
        out_channels: usize,
        in_channels: usize,
        size: usize,
        values: Vec<f32>,
        deeper: Vec<(usize, Vec<f32>)>,
    },
    /// A Linear layer straight on an image: its first rows as `height x width` templates
    /// (the first channel's).
    Templates {
        layer: usize,
        height: usize,
        width: usize,
        rows: Vec<Vec<f32>>,
    },
    /// Nothing to draw as pictures (a table or text model).
    None,
}

impl Explanation {
    /// Computes every part for `input` (one sample). `random` is the same stack with fresh
    /// weights ([`super::randomised_copy`]); `class` defaults to the predicted one.
    pub fn compute(
        model: &Model,
        inference: &InferenceModel,
        random: &Model,
        input: &[f32],
        class: Option<usize>,
        how: Occlusion,
    ) -> Result<Self, ExplainError> {
        let mut timings = ExplainTimings::default();
        let started = Instant::now();
        let activations = activations(model, input)?;
        timings.activations_ms = ms(started);
        let logits = activations
            .last()
            .map(|a| a.values.as_slice())
            .unwrap_or(&[]);
        let class = match class {
            Some(class) => class,
            None => logits
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i),
        };
        let started = Instant::now();
        let trained_map = gradient_times_input(model, input, class)?;
        timings.gradient_ms = ms(started);
        let started = Instant::now();
        let occlusion = occlusion(inference, input, model.plan.input, class, how)?;
        timings.occlusion_ms = ms(started);
        let started = Instant::now();
        let grad_cam = match grad_cam(model, input, class) {
            Ok(map) => Some(map),
            Err(ExplainError::NoSpatialLayer) => None,
            Err(error) => return Err(error),
        };
        timings.grad_cam_ms = ms(started);
        let started = Instant::now();
        let random_map = gradient_times_input(random, input, class)?;
        timings.random_ms = ms(started);
        Ok(Self {
            class,
            random_correlation: correlation(&trained_map, &random_map),
            activations,
            gradient_times_input: trained_map,
            random_gradient_times_input: random_map,
            occlusion,
            grad_cam,
            timings,
        })
    }
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// The first learning layer's filters (see [`Filters`]).
pub fn filters(model: &Model) -> Filters {
    let layers = &model.plan.layers;
    // Batch norms have weights too, but one number a channel, not a filter.
    let Some(first) = layers
        .iter()
        .position(|l| l.layer.has_parameters() && !l.layer.is_batch_norm())
    else {
        return Filters::None;
    };
    // The weight of learning layer k (batch norms included) is parameter 2k.
    let weight_of = |layer: usize| {
        let pair = layers[..layer]
            .iter()
            .filter(|l| l.layer.has_parameters())
            .count();
        model.params[2 * pair].values()
    };
    match (&layers[first].layer, layers[first].input) {
        (
            Layer::Conv2d {
                out_channels,
                kernel_size,
                ..
            },
            ActivationShape::Spatial { channels, .. },
        ) => {
            let deeper = layers
                .iter()
                .enumerate()
                .skip(first + 1)
                .filter_map(|(index, plan)| match (&plan.layer, plan.input) {
                    (Layer::Conv2d { out_channels, .. }, ActivationShape::Spatial { .. }) => {
                        let weight = weight_of(index);
                        let per_filter = weight.len() / out_channels.max(&1);
                        Some((
                            index,
                            weight
                                .chunks(per_filter.max(1))
                                .map(|f| f.iter().map(|v| v.abs()).sum::<f32>() / f.len() as f32)
                                .collect(),
                        ))
                    }
                    _ => None,
                })
                .collect();
            Filters::Kernels {
                layer: first,
                out_channels: *out_channels,
                in_channels: channels,
                size: *kernel_size,
                values: weight_of(first).to_vec(),
                deeper,
            }
        }
        (Layer::Linear { out_features }, ActivationShape::Spatial { height, width, .. }) => {
            // PyTorch's flatten is channels-first: the first channel is the first h*w values.
            let row_len = layers[first].input.numel();
            let rows = weight_of(first)
                .chunks(row_len)
                .take((*out_features).min(MAX_TEMPLATES))
                .map(|row| row[..height * width].to_vec())
                .collect();
            Filters::Templates {
                layer: first,
                height,
                width,
                rows,
            }
        }
        _ => Filters::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::randomised_copy;
    use crate::spec::{validate, ModelSpec};
    use dfdx::prelude::*;

    fn model(layers: Vec<Layer>, input: ActivationShape) -> Model {
        let spec = ModelSpec::new(layers);
        let plan = validate(&spec, input, 3).unwrap();
        Model::initialise(spec, plan, &Cpu::default(), 2)
    }

    #[test]
    fn a_conv_model_gets_every_part_and_its_kernels() {
        let m = model(
            vec![
                Layer::Conv2d {
                    out_channels: 4,
                    kernel_size: 3,
                    stride: 1,
                    padding: 1,
                },
                Layer::ReLU,
                Layer::Conv2d {
                    out_channels: 2,
                    kernel_size: 3,
                    stride: 1,
                    padding: 0,
                },
                Layer::Flatten,
                Layer::Linear { out_features: 3 },
            ],
            ActivationShape::image(1, 8, 8),
        );
        let input: Vec<f32> = (0..64).map(|i| (i % 5) as f32 / 5.0).collect();
        let random = randomised_copy(&m, 9);
        let explained = Explanation::compute(
            &m,
            &InferenceModel::new(&m),
            &random,
            &input,
            None,
            Occlusion::DEFAULT,
        )
        .unwrap();
        assert_eq!(explained.activations.len(), 5);
        assert_eq!(explained.gradient_times_input.len(), 64);
        assert_eq!(explained.occlusion.len(), 64);
        let predicted = InferenceModel::new(&m)
            .predict(&input, 1)
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(explained.class, predicted);
        assert_eq!(
            explained.grad_cam.as_ref().map(|c| (c.height, c.width)),
            Some((6, 6))
        );
        let Filters::Kernels {
            layer,
            out_channels,
            in_channels,
            size,
            values,
            deeper,
        } = &filters(&m)
        else {
            panic!("{:?}", filters(&m));
        };
        assert_eq!((*layer, *out_channels, *in_channels, *size), (0, 4, 1, 3));
        assert_eq!(values.as_slice(), m.params[0].values());
        assert_eq!(deeper.len(), 1);
        assert_eq!(deeper[0].0, 2);
        let second = m.params[2].values();
        let first_filter: f32 = second[..36].iter().map(|v| v.abs()).sum::<f32>() / 36.0;
        assert!((deeper[0].1[0] - first_filter).abs() < 1e-6);
    }

    #[test]
    fn a_batch_norm_in_front_does_not_hide_the_kernels() {
        let norm = Layer::BatchNorm2d {
            eps: 1e-5,
            momentum: 0.1,
        };
        let conv = Layer::Conv2d {
            out_channels: 4,
            kernel_size: 3,
            stride: 1,
            padding: 0,
        };
        let m = model(
            vec![
                norm.clone(),
                conv,
                norm,
                Layer::Flatten,
                Layer::Linear { out_features: 3 },
            ],
            ActivationShape::image(1, 8, 8),
        );
        let Filters::Kernels { layer, values, .. } = &filters(&m) else {
            panic!("{:?}", filters(&m));
        };
        assert_eq!(*layer, 1);
        // Parameters: the first norm's weight and bias, then the convolution's weight.
        assert_eq!(values.as_slice(), m.params[2].values());
    }

    #[test]
    fn an_mlp_on_images_shows_its_first_rows_as_templates() {
        let m = model(
            vec![
                Layer::Linear { out_features: 5 },
                Layer::ReLU,
                Layer::Linear { out_features: 3 },
            ],
            ActivationShape::image(1, 4, 4),
        );
        let Filters::Templates {
            layer,
            height,
            width,
            rows,
        } = filters(&m)
        else {
            panic!("no templates");
        };
        assert_eq!((layer, height, width, rows.len()), (0, 4, 4, 5));
        assert_eq!(rows[1].as_slice(), &m.params[0].values()[16..32]);
        let table = model(
            vec![Layer::Linear { out_features: 3 }],
            ActivationShape::Flat { features: 4 },
        );
        assert_eq!(filters(&table), Filters::None);
    }
}
