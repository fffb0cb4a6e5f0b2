//! Training health, recorded by the worker every few steps: per-layer weight and gradient
//! norms and the size of each update relative to the weights, histograms of both, the
//! fraction of ReLU units that never fire on a fixed batch, loss spikes, and warnings that
//! say what to change (as TensorBoard's histograms and Karpathy's "update / weight ratio of
//! about 1e-3" rule of thumb).
//!
//! The gradient half is taken inside the optimizer step ([`observe_gradients`] before the
//! update, [`LayerObservation::finish`] after it), so it costs one pass over the weights and
//! no extra backward pass; dead units need one tape-free forward pass of [`HEALTH_BATCH`]
//! samples.

use dfdx::prelude::*;
use serde::Serialize;

use crate::model::{ForwardOptions, Mode, Model, Param};
use crate::spec::{ActivationShape, Layer};

/// Steps between health reports unless the run says otherwise (0 turns them off).
pub const DEFAULT_HEALTH_EVERY_STEPS: usize = 100;
/// Training samples (the first ones, the same at every report) the dead-unit check runs on.
/// 64 keeps a report of the cnn preset at about 10 ms on 2 cores (256 took 80 ms, 12-19%
/// of the training time at a report every 100 steps).
pub const HEALTH_BATCH: usize = 64;
/// Bins of each histogram.
pub const HISTOGRAM_BINS: usize = 32;

/// A ReLU layer is reported when at least this fraction of its units never fire. A healthy
/// cnn preset run ends with 45% of its dense ReLUs silent on the 64 samples, so 50% would
/// cry wolf.
const DEAD_WARNING: f32 = 0.6;
/// Gradients this small next to the weights are vanishing.
const VANISHING_RATIO: f32 = 1e-6;
/// Updates this large next to the weights move them too far in one step.
const LARGE_UPDATE_RATIO: f32 = 0.1;
/// A batch loss this many times its recent average is a spike.
const SPIKE_FACTOR: f32 = 3.0;
/// Steps before spikes are looked for (the average needs something to average).
const SPIKE_WARMUP: usize = 20;
/// A spike counts only when it lasts: the losses of this many steps after it...
const SPIKE_SUSTAIN_STEPS: usize = 10;
/// ...average at least this many times the average before it. One bad batch of a small
/// batch size is noise (the presets' own defaults had them: Ames with a loss of 1.09 at step
/// 82, five times its average, then back at once), a run knocked off course is not.
const SPIKE_SUSTAIN_FACTOR: f32 = 2.0;
/// ...and at least this share of the first loss above it (the 2-D presets, with their loss
/// near 0.0005, had single batches of 0.4 and then went on at 0.01).
const SPIKE_SUSTAIN_SHARE: f32 = 0.25;
/// Gradients are "vanishing" only while the loss is still above this fraction of where it
/// began: once a model has learned, tiny gradients mean it converged (xor and gaussian, as
/// shipped, were warned about vanishing gradients with their loss near 0).
const LEARNED_FRACTION: f32 = 0.5;

/// Counts of values in `bins` equal bins over `[low, high]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Histogram {
    pub low: f32,
    pub high: f32,
    pub counts: Vec<u32>,
}

impl Histogram {
    /// A histogram over `[-m, m]`, `m` the largest finite magnitude (zero-centred, so weights
    /// and gradients of every layer read the same way); non-finite values are left out.
    pub fn symmetric(values: &[f32], bins: usize) -> Self {
        let bins = bins.max(1);
        let largest = values
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        let mut counts = vec![0u32; bins];
        if largest > 0.0 {
            let scale = bins as f32 / (2.0 * largest);
            for &v in values.iter().filter(|v| v.is_finite()) {
                let bin = ((v + largest) * scale) as usize;
                counts[bin.min(bins - 1)] += 1;
            }
        } else {
            counts[bins / 2] = values.iter().filter(|v| v.is_finite()).count() as u32;
        }
        Self {
            low: -largest,
            high: largest,
            counts,
        }
    }
}

/// One learning layer's weight tensor at a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerHealth {
    /// Index of the layer in the stack.
    pub layer: usize,
    /// "Linear", "Conv2d".
    pub kind: String,
    /// L2 norm of the weights after the step.
    pub weight_norm: f32,
    /// L2 norm of the loss's gradient with respect to the weights.
    pub gradient_norm: f32,
    /// L2 norm of the step's change to the weights over their norm before it.
    pub update_ratio: f32,
    pub weights: Histogram,
    pub gradients: Histogram,
}

/// How many of a ReLU layer's units (features, or channels of an image) stayed at zero for
/// every sample of the fixed batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadUnits {
    pub layer: usize,
    pub units: usize,
    pub dead: usize,
}

impl DeadUnits {
    pub fn fraction(&self) -> f32 {
        self.dead as f32 / self.units.max(1) as f32
    }
}

/// A batch whose loss jumped far above the recent average.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LossSpike {
    pub step: usize,
    pub loss: f32,
    /// The moving average of the loss before the spike.
    pub average: f32,
}

/// What the worker reports every `health_every_steps` steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthReport {
    pub step: usize,
    pub layers: Vec<LayerHealth>,
    pub dead_units: Vec<DeadUnits>,
    /// Spikes since the previous report (at most [`MAX_SPIKES`]).
    pub spikes: Vec<LossSpike>,
    /// The loss has come down well below where it began (so tiny gradients are convergence).
    pub loss_fell: bool,
    /// What looks wrong, each with what to change.
    pub warnings: Vec<HealthWarning>,
}

/// Something that looks wrong in a report, and what to change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthWarning {
    pub kind: WarningKind,
    /// The layer it is about (none for the loss).
    pub layer: Option<usize>,
    /// "layer 3: 62% of ReLU units never fire ...: lower the learning rate or use LeakyReLU".
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    DeadRelu,
    VanishingGradients,
    LargeUpdates,
    LossSpike,
}

impl std::fmt::Display for HealthWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Spikes kept between two reports.
pub const MAX_SPIKES: usize = 8;

/// A weight tensor's gradient statistics and its values before the optimizer step.
pub struct LayerObservation {
    param: usize,
    layer: usize,
    kind: String,
    before: Vec<f32>,
    gradient_norm: f32,
    gradients: Histogram,
}

/// Takes each learning layer's weight gradient from `grads` (before the update), with a
/// copy of the weights to measure the update against.
pub fn observe_gradients(
    model: &Model,
    grads: &mut Gradients<f32, Cpu>,
) -> Result<Vec<LayerObservation>, CpuError> {
    let learning = model
        .plan
        .layers
        .iter()
        .enumerate()
        .filter(|(_, plan)| plan.layer.has_parameters());
    let mut observations = Vec::new();
    // Parameters come in (weight, bias) pairs, in stack order.
    for (pair, (layer, plan)) in learning.enumerate() {
        let param: &Param = &model.params[2 * pair];
        let gradient = param.gradient(grads)?;
        observations.push(LayerObservation {
            param: 2 * pair,
            layer,
            kind: plan.layer.kind_name().to_string(),
            before: param.values().to_vec(),
            gradient_norm: norm(gradient),
            gradients: Histogram::symmetric(gradient, HISTOGRAM_BINS),
        });
    }
    Ok(observations)
}

impl LayerObservation {
    /// The layer's health once the optimizer has updated `model`.
    pub fn finish(self, model: &Model) -> LayerHealth {
        let after = model.params[self.param].values();
        let change = after
            .iter()
            .zip(&self.before)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum::<f64>()
            .sqrt() as f32;
        let before_norm = norm(&self.before);
        LayerHealth {
            layer: self.layer,
            kind: self.kind,
            weight_norm: norm(after),
            gradient_norm: self.gradient_norm,
            update_ratio: if before_norm > 0.0 {
                change / before_norm
            } else {
                0.0
            },
            weights: Histogram::symmetric(after, HISTOGRAM_BINS),
            gradients: self.gradients,
        }
    }
}

fn norm(values: &[f32]) -> f32 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt() as f32
}

/// Units of each ReLU layer that are zero for every sample of `inputs` (`batch` samples).
pub fn dead_units(model: &Model, inputs: &[f32], batch: usize) -> Result<Vec<DeadUnits>, CpuError> {
    let relus: Vec<usize> = model
        .plan
        .layers
        .iter()
        .enumerate()
        .filter(|(_, plan)| plan.layer == Layer::ReLU)
        .map(|(index, _)| index)
        .collect();
    if relus.is_empty() || batch == 0 {
        return Ok(Vec::new());
    }
    // Layer by layer up to each ReLU, keeping only the ReLUs' outputs (every output would
    // also turn off the fused ReLU-pool step and copy each map).
    let mut x = model
        .device()
        .try_tensor_from_vec(inputs.to_vec(), (batch, model.input_len()))?;
    let mut start = 0;
    let mut found = Vec::with_capacity(relus.len());
    for layer in relus {
        x = model.forward_layers(
            x,
            start..layer + 1,
            Mode::Eval,
            &mut ForwardOptions::default(),
        );
        start = layer + 1;
        // Channels last for images: unit = channel.
        let units = match model.plan.layers[layer].output {
            ActivationShape::Spatial { channels, .. } => channels,
            ActivationShape::Flat { features } => features,
        };
        let mut fired = vec![false; units];
        for (i, v) in x.as_vec().into_iter().enumerate() {
            if v > 0.0 {
                fired[i % units] = true;
            }
        }
        found.push(DeadUnits {
            layer,
            units,
            dead: fired.iter().filter(|f| !**f).count(),
        });
    }
    Ok(found)
}

/// Watches batch losses for spikes: a loss [`SPIKE_FACTOR`] times its moving average that
/// also climbs back by half the first loss (near the end of a good cnn run, batches of 0.37
/// and 0.80 against an average of 0.08 were noise, not instability), and stays up: the next
/// [`SPIKE_SUSTAIN_STEPS`] losses average [`SPIKE_SUSTAIN_FACTOR`] times the average before.
#[derive(Debug, Default)]
pub struct SpikeWatch {
    average: Option<f32>,
    first: Option<f32>,
    seen: usize,
    /// A candidate spike, and the sum and count of the losses after it so far.
    pending: Option<(LossSpike, f32, usize)>,
    spikes: Vec<LossSpike>,
}

impl SpikeWatch {
    pub fn record(&mut self, step: usize, loss: f32) {
        if !loss.is_finite() {
            return;
        }
        self.seen += 1;
        let average = *self.average.get_or_insert(loss);
        let first = *self.first.get_or_insert(loss);
        if let Some((spike, sum, count)) = &mut self.pending {
            *sum += loss;
            *count += 1;
            if *count == SPIKE_SUSTAIN_STEPS {
                // Twice the average, and a real part of what was learned lost: near a loss
                // of 0.0005, 0.01 is twice anything and still nothing.
                let after = *sum / *count as f32;
                let lasted = after >= SPIKE_SUSTAIN_FACTOR * spike.average
                    && after >= spike.average + SPIKE_SUSTAIN_SHARE * first;
                if lasted && self.spikes.len() < MAX_SPIKES {
                    self.spikes.push(spike.clone());
                }
                self.pending = None;
            }
        } else if self.seen > SPIKE_WARMUP
            && loss > SPIKE_FACTOR * average
            && loss > average + 0.5 * first
        {
            let spike = LossSpike {
                step,
                loss,
                average,
            };
            self.pending = Some((spike, 0.0, 0));
        }
        self.average = Some(0.95 * average + 0.05 * loss);
    }

    /// Whether the loss has come down to below [`LEARNED_FRACTION`] of where it began.
    pub fn loss_fell(&self) -> bool {
        matches!((self.average, self.first), (Some(average), Some(first)) if average < LEARNED_FRACTION * first)
    }

    /// Whether `loss` is within [`SPIKE_FACTOR`] of the average so far (always, at first):
    /// the weights that gave it are fit to go back to.
    pub fn is_calm(&self, loss: f32) -> bool {
        loss.is_finite()
            && self
                .average
                .is_none_or(|average| loss <= SPIKE_FACTOR * average)
    }

    /// The spikes since the last call.
    pub fn take(&mut self) -> Vec<LossSpike> {
        std::mem::take(&mut self.spikes)
    }
}

impl HealthReport {
    /// A report of `step`; `loss_fell` says the loss has come down well below where it began
    /// (`SpikeWatch::loss_fell`: small gradients then mean convergence, not vanishing).
    pub fn new(
        step: usize,
        layers: Vec<LayerHealth>,
        dead_units: Vec<DeadUnits>,
        spikes: Vec<LossSpike>,
        loss_fell: bool,
    ) -> Self {
        let mut report = Self {
            step,
            layers,
            dead_units,
            spikes,
            loss_fell,
            warnings: Vec::new(),
        };
        report.warnings = report.find_warnings();
        report
    }

    /// What looks wrong, each with the change most likely to help.
    fn find_warnings(&self) -> Vec<HealthWarning> {
        let mut warnings = Vec::new();
        // Dead units stop every gradient below them: that, not vanishing, is the cause.
        let dead_layers = self
            .dead_units
            .iter()
            .any(|d| d.units >= 2 && d.fraction() >= DEAD_WARNING);
        let mut warn = |kind, layer, message| {
            warnings.push(HealthWarning {
                kind,
                layer,
                message,
            })
        };
        for dead in &self.dead_units {
            if dead.units >= 2 && dead.fraction() >= DEAD_WARNING {
                warn(WarningKind::DeadRelu, Some(dead.layer), format!(
                    "layer {}: {:.0}% of ReLU units never fire ({} of {} on a fixed batch of {}): lower the learning rate or use LeakyReLU",
                    dead.layer,
                    dead.fraction() * 100.0,
                    dead.dead,
                    dead.units,
                    HEALTH_BATCH,
                ));
            }
        }
        for layer in &self.layers {
            if !dead_layers
                && !self.loss_fell
                && layer.weight_norm > 0.0
                && layer.gradient_norm / layer.weight_norm < VANISHING_RATIO
            {
                warn(WarningKind::VanishingGradients, Some(layer.layer), format!(
                    "gradients in layer {} are {:.0e} of the weights: vanishing; use ReLU instead of Sigmoid or Tanh, fewer layers, or Adam",
                    layer.layer,
                    layer.gradient_norm / layer.weight_norm
                ));
            }
            if layer.update_ratio > LARGE_UPDATE_RATIO {
                warn(WarningKind::LargeUpdates, Some(layer.layer), format!(
                    "each step changes layer {}'s weights by {:.0}% (about 0.1% is healthy): lower the learning rate",
                    layer.layer,
                    layer.update_ratio * 100.0
                ));
            }
        }
        if let Some(spike) = self
            .spikes
            .iter()
            .max_by(|a, b| (a.loss / a.average).total_cmp(&(b.loss / b.average)))
        {
            warn(WarningKind::LossSpike, None, format!(
                "the loss jumped to {:.3} at step {}, {:.0}x its recent average: lower the learning rate or use a larger batch",
                spike.loss,
                spike.step,
                spike.loss / spike.average.max(f32::MIN_POSITIVE)
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{validate, ModelSpec};

    fn model(layers: Vec<Layer>, features: usize, classes: usize) -> Model {
        let spec = ModelSpec::new(layers);
        let input = ActivationShape::Flat { features };
        let plan = validate(&spec, input, classes).unwrap();
        Model::initialise(spec, plan, &Cpu::default(), 3)
    }

    #[test]
    fn histograms_count_every_finite_value_in_its_bin() {
        let h = Histogram::symmetric(&[-1.0, -0.5, 0.0, 0.49, 1.0, f32::NAN], 4);
        assert_eq!((h.low, h.high), (-1.0, 1.0));
        // Bins [-1,-.5) [-.5,0) [0,.5) [.5,1]
        assert_eq!(h.counts, [1, 1, 2, 1]);
        let zeros = Histogram::symmetric(&[0.0; 5], 4);
        assert_eq!(zeros.counts, [0, 0, 5, 0]);
    }

    #[test]
    fn norms_and_update_ratio_are_those_of_the_step() {
        let mut m = model(vec![Layer::Linear { out_features: 2 }], 2, 2);
        m.params[0]
            .values_mut()
            .copy_from_slice(&[3.0, 0.0, 0.0, 4.0]);
        let x = m
            .device()
            .tensor_from_vec(vec![1.0, 2.0], (1, 2))
            .leaky_trace();
        // d(sum of outputs)/dW = x for each row: [[1, 2], [1, 2]], norm sqrt(10).
        let grads = m.forward(x, Mode::Train).sum::<(), _>().backward();
        let mut grads = grads;
        let observed = observe_gradients(&m, &mut grads).unwrap();
        assert_eq!(observed.len(), 1);
        // An SGD step of 0.1 by hand: the change has norm 0.1 * sqrt(10); ||W|| was 5.
        for (w, g) in m.params[0]
            .values_mut()
            .iter_mut()
            .zip([1.0, 2.0, 1.0, 2.0])
        {
            *w -= 0.1 * g;
        }
        let health = observed.into_iter().next().unwrap().finish(&m);
        assert_eq!(health.layer, 0);
        assert!((health.gradient_norm - 10f32.sqrt()).abs() < 1e-5);
        assert!((health.update_ratio - 0.1 * 10f32.sqrt() / 5.0).abs() < 1e-5);
        let after = [2.9f32, -0.2, -0.1, 3.8];
        assert!((health.weight_norm - norm(&after)).abs() < 1e-5);
    }

    #[test]
    fn dead_units_are_those_zero_for_every_sample() {
        let mut m = model(
            vec![
                Layer::Linear { out_features: 3 },
                Layer::ReLU,
                Layer::Linear { out_features: 2 },
            ],
            1,
            2,
        );
        // Unit 0 = x, unit 1 = -x - 10 (never fires for x in [0, 1]), unit 2 = 0 * x.
        m.params[0].values_mut().copy_from_slice(&[1.0, -1.0, 0.0]);
        m.params[1].values_mut().copy_from_slice(&[0.0, -10.0, 0.0]);
        let dead = dead_units(&m, &[0.0, 0.5, 1.0], 3).unwrap();
        assert_eq!(
            dead,
            [DeadUnits {
                layer: 1,
                units: 3,
                dead: 2
            }]
        );
        let report = HealthReport::new(5, Vec::new(), dead, Vec::new(), false);
        assert_eq!(report.warnings.len(), 1);
        assert!(
            report.warnings[0]
                .message
                .starts_with("layer 1: 67% of ReLU units never fire"),
            "{:?}",
            report.warnings
        );
        assert!(report.warnings[0]
            .message
            .ends_with("lower the learning rate or use LeakyReLU"));
    }

    #[test]
    fn a_loss_three_times_its_average_is_a_spike_after_the_warm_up() {
        let mut watch = SpikeWatch::default();
        assert!(watch.is_calm(100.0));
        assert!(!watch.is_calm(f32::NAN));
        watch.record(1, 10.0); // too early to count
        for step in 2..=30 {
            watch.record(step, 1.0);
        }
        assert!(watch.take().is_empty());
        // Small losses: five times the average but not a climb back toward the start.
        let mut settled = SpikeWatch::default();
        settled.record(1, 2.3);
        for step in 2..=200 {
            settled.record(step, 0.07);
        }
        settled.record(201, 0.365);
        settled.record(202, 0.801);
        assert!(settled.take().is_empty());
        // A climb back that lasts is a spike, once the steps after it show it lasted.
        for step in 203..=213 {
            settled.record(step, 2.0);
        }
        assert_eq!(settled.take().len(), 1);
        // The average is still about 3 (the first loss of 10 fades slowly).
        assert!(watch.is_calm(2.0) && !watch.is_calm(20.0));
        watch.record(31, 2.0);
        watch.record(32, 12.0);
        for step in 33..=42 {
            watch.record(step, 8.0);
        }
        let spikes = watch.take();
        assert_eq!(spikes.len(), 1);
        assert_eq!(spikes[0].step, 32);
        let report = HealthReport::new(32, Vec::new(), Vec::new(), spikes, false);
        assert!(report.warnings[0]
            .message
            .contains("the loss jumped to 12.000 at step 32"));
    }

    #[test]
    fn vanishing_gradients_and_oversized_updates_are_named() {
        let layer = |gradient_norm, update_ratio| LayerHealth {
            layer: 0,
            kind: "Linear".into(),
            weight_norm: 1.0,
            gradient_norm,
            update_ratio,
            weights: Histogram::symmetric(&[], 4),
            gradients: Histogram::symmetric(&[], 4),
        };
        let report = HealthReport::new(1, vec![layer(1e-7, 1e-3)], Vec::new(), Vec::new(), false);
        assert_eq!(report.warnings.len(), 1);
        assert!(report.warnings[0]
            .message
            .starts_with("gradients in layer 0 are 1e-7 of the weights: vanishing"));
        // Once the loss has fallen, tiny gradients are a model that converged.
        let converged = HealthReport::new(1, vec![layer(1e-7, 1e-3)], Vec::new(), Vec::new(), true);
        assert!(converged.warnings.is_empty());
        let report = HealthReport::new(1, vec![layer(0.1, 0.5)], Vec::new(), Vec::new(), false);
        assert!(report.warnings[0].message.contains("by 50%"));
        let healthy = HealthReport::new(1, vec![layer(0.01, 1e-3)], Vec::new(), Vec::new(), false);
        assert!(healthy.warnings.is_empty());
    }

    #[test]
    fn one_bad_batch_is_not_a_spike_and_the_loss_falling_is_seen() {
        // Ames with mlp-regressor as shipped: a batch at five times the average, then back.
        let mut watch = SpikeWatch::default();
        watch.record(1, 1.0);
        for step in 2..=81 {
            watch.record(step, 0.2);
        }
        assert!(watch.loss_fell());
        watch.record(82, 1.09);
        for step in 83..=120 {
            watch.record(step, 0.2);
        }
        assert!(watch.take().is_empty());
        let mut stuck = SpikeWatch::default();
        for step in 1..=50 {
            stuck.record(step, 2.3);
        }
        assert!(!stuck.loss_fell());
    }
}
