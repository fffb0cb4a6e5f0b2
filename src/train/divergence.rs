//! A loss that is not a number: fail the run, or roll back to the last calm snapshot with a
//! fresh optimizer and wait for the person (the run's `OnDivergence` setting).

use super::commands::Controls;
use super::diagnosis::likely_cause;
use super::event_sink::EventSink;
use super::snapshots::SnapshotKeeper;
use super::{OnDivergence, TrainConfig, TrainError, TrainEvent};
use crate::model::Model;
use crate::optim::Optimizer;

/// Where the batch that diverged was.
pub(super) struct Diverged {
    pub step: usize,
    pub epoch: usize,
    pub loss: f32,
}

/// Handles a non-finite batch loss: `Err(Diverged)`, or the model and optimizer put back and
/// the run paused.
pub(super) fn on_divergence(
    at: Diverged,
    config: &TrainConfig,
    model: &mut Model,
    optimizer: &mut Optimizer,
    snapshots: &SnapshotKeeper,
    controls: &mut Controls,
    events: &mut EventSink,
) -> Result<(), TrainError> {
    let cause = likely_cause(config, &model.spec);
    match config.on_divergence {
        OnDivergence::Fail => {
            return Err(TrainError::Diverged {
                step: at.step,
                epoch: at.epoch,
                loss: at.loss,
                cause,
            })
        }
        OnDivergence::RollBackAndPause => {}
    }
    // Back to the last snapshot, a fresh optimizer (its moments saw the blow-up), and wait
    // for the person.
    let (restored_step, weights) = snapshots.last_good();
    *model = Model::from_weights(
        model.spec.clone(),
        model.plan.clone(),
        weights,
        &model.device().clone(),
    )?;
    *optimizer = Optimizer::new(optimizer.config().clone(), &model.params)?;
    events.send(TrainEvent::RolledBack {
        step: at.step,
        restored_step,
        loss: at.loss,
        cause,
    });
    controls.pause(at.step, events);
    events.still_listening()
}
