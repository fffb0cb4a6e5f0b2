//! Training health while the run goes: loss spikes after every batch, and every
//! `health_every_steps` a report of the layers' norms, update ratios and dead units on the
//! same first training samples.

use super::event_sink::EventSink;
use super::health::{dead_units, HealthReport, SpikeWatch, HEALTH_BATCH};
use super::{LayerHealth, Split, TrainConfig, TrainError, TrainEvent};
use crate::data::Dataset;
use crate::model::Model;

pub(super) struct HealthMonitor {
    every_steps: usize,
    /// The same first training samples at every report.
    batch: Vec<u32>,
    inputs: Vec<f32>,
    spikes: SpikeWatch,
}

impl HealthMonitor {
    pub(super) fn new(config: &TrainConfig, dataset: &Dataset, split: &Split) -> Self {
        let batch: Vec<u32> = (0..split.train.min(HEALTH_BATCH) as u32).collect();
        let mut inputs = Vec::new();
        if config.health_every_steps > 0 {
            dataset.train.fill_inputs(&batch, &mut inputs);
        }
        Self {
            every_steps: config.health_every_steps,
            batch,
            inputs,
            spikes: SpikeWatch::default(),
        }
    }

    /// Whether the step numbered `step` (1-based) reports.
    pub(super) fn reports_at(&self, step: usize) -> bool {
        self.every_steps > 0 && step.is_multiple_of(self.every_steps)
    }

    /// Whether `loss` is within reach of the average so far (the weights are fit to go back to).
    pub(super) fn is_calm(&self, loss: f32) -> bool {
        self.spikes.is_calm(loss)
    }

    pub(super) fn record_loss(&mut self, step: usize, loss: f32) {
        self.spikes.record(step, loss);
    }

    /// Sends a report: the step's layer statistics, dead units now, the spikes since the last.
    pub(super) fn report(
        &mut self,
        step: usize,
        model: &Model,
        layers: Vec<LayerHealth>,
        events: &mut EventSink,
    ) -> Result<(), TrainError> {
        let dead = super::pool::with_helpers_polling(|| {
            dead_units(model, &self.inputs, self.batch.len())
        })?;
        let loss_fell = self.spikes.loss_fell();
        let report = HealthReport::new(step, layers, dead, self.spikes.take(), loss_fell);
        events.send(TrainEvent::Health(Box::new(report)));
        Ok(())
    }
}
