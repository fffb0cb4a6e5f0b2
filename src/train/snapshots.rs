//! Weight snapshots: sent to the driver (live prediction, the Inside tab) every few steps and
//! at each epoch's end, and the newest one fit to roll back to after a divergence.

use std::sync::Arc;

use super::event_sink::EventSink;
use super::TrainEvent;
use crate::model::{Model, Weights};

/// A snapshot is fit to go back to once the next batch's loss was calm: one taken while the
/// loss was already exploding is no place to resume from.
pub(super) struct SnapshotKeeper {
    every_steps: usize,
    last_good: (usize, Arc<Weights>),
    candidate: Option<(usize, Arc<Weights>)>,
}

impl SnapshotKeeper {
    /// Starts from the initial weights, sent at once when snapshots are on, so a driver
    /// predicts with this run's model from the start.
    pub(super) fn start(model: &Model, every_steps: usize, events: &mut EventSink) -> Self {
        let last_good = (0, Arc::new(model.weights()));
        if every_steps > 0 {
            events.send(TrainEvent::Snapshot {
                step: 0,
                weights: last_good.1.clone(),
            });
        }
        Self {
            every_steps,
            last_good,
            candidate: None,
        }
    }

    /// The step and weights of the newest snapshot fit to roll back to.
    pub(super) fn last_good(&self) -> (usize, &Arc<Weights>) {
        (self.last_good.0, &self.last_good.1)
    }

    /// After a batch's loss: a calm one confirms the newest snapshot, a spike discards it.
    pub(super) fn after_loss(&mut self, calm: bool) {
        if calm {
            if let Some(snapshot) = self.candidate.take() {
                self.last_good = snapshot;
            }
        } else {
            self.candidate = None;
        }
    }

    /// After a step: a snapshot every `every_steps` steps.
    pub(super) fn after_step(&mut self, step: usize, model: &Model, events: &mut EventSink) {
        if self.every_steps > 0 && step.is_multiple_of(self.every_steps) {
            self.take(step, model, events);
        }
    }

    /// After an epoch: always a snapshot.
    pub(super) fn after_epoch(&mut self, step: usize, model: &Model, events: &mut EventSink) {
        self.take(step, model, events);
    }

    fn take(&mut self, step: usize, model: &Model, events: &mut EventSink) {
        let weights = Arc::new(model.weights());
        self.candidate = Some((step, weights.clone()));
        events.send(TrainEvent::Snapshot { step, weights });
    }
}
