//! The design being edited (the layer stack and the settings a preset sets), with undo and
//! redo. Plain data: tested without a window.

use crate::spec::Layer;

/// Edits go straight into the edited value; [`StackEditor::commit`] (called once a frame
/// when no pointer button is held) turns each finished edit into one undo step, so a drag
/// over a value is one step, not a hundred. The window edits a [`crate::app::persistence::state::Design`], so
/// undoing a preset picked in the preset box restores the optimizer and batch size along with the stack.
#[derive(Clone, Debug)]
pub struct StackEditor<T = crate::app::persistence::state::Design> {
    committed: T,
    undo: Vec<T>,
    redo: Vec<T>,
}

/// Undo steps kept; older ones are forgotten.
const MAX_UNDO: usize = 200;

impl<T: Clone + PartialEq> StackEditor<T> {
    pub fn new(spec: &T) -> Self {
        Self {
            committed: spec.clone(),
            undo: Vec::new(),
            redo: Vec::new(),
        }
    }

    /// Records `spec` as a new undo step if it differs from the last committed one.
    pub fn commit(&mut self, spec: &T) {
        if *spec != self.committed {
            let previous = std::mem::replace(&mut self.committed, spec.clone());
            self.undo.push(previous);
            if self.undo.len() > MAX_UNDO {
                self.undo.remove(0);
            }
            self.redo.clear();
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self, spec: &mut T) {
        self.commit(spec);
        if let Some(previous) = self.undo.pop() {
            self.redo
                .push(std::mem::replace(&mut self.committed, previous));
            *spec = self.committed.clone();
        }
    }

    pub fn redo(&mut self, spec: &mut T) {
        if let Some(next) = self.redo.pop() {
            self.undo.push(std::mem::replace(&mut self.committed, next));
            *spec = self.committed.clone();
        }
    }
}

/// The layer kinds offered by "Add layer", each with sensible starting parameters.
pub fn layer_templates() -> Vec<Layer> {
    vec![
        Layer::Linear { out_features: 64 },
        Layer::Conv2d {
            out_channels: 16,
            kernel_size: 3,
            stride: 1,
            padding: 0,
        },
        Layer::MaxPool2d {
            kernel_size: 2,
            stride: None,
        },
        Layer::AvgPool2d {
            kernel_size: 2,
            stride: None,
        },
        Layer::Flatten,
        Layer::ReLU,
        Layer::LeakyReLU {
            negative_slope: 0.01,
        },
        Layer::Sigmoid,
        Layer::Tanh,
        Layer::GELU,
        Layer::Dropout { p: 0.25 },
        Layer::BatchNorm1d {
            eps: crate::spec::DEFAULT_BATCH_NORM_EPS,
            momentum: crate::spec::DEFAULT_BATCH_NORM_MOMENTUM,
        },
        Layer::BatchNorm2d {
            eps: crate::spec::DEFAULT_BATCH_NORM_EPS,
            momentum: crate::spec::DEFAULT_BATCH_NORM_MOMENTUM,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ModelSpec;

    #[test]
    fn each_commit_is_one_undo_step_and_redo_replays_it() {
        let mut spec = ModelSpec::new(vec![Layer::ReLU]);
        let mut editor = StackEditor::new(&spec);
        spec.layers.push(Layer::Flatten);
        editor.commit(&spec);
        spec.layers.push(Layer::Tanh);
        // Not committed yet (a drag in progress): undo commits it first, then steps back.
        editor.undo(&mut spec);
        assert_eq!(spec.layers, [Layer::ReLU, Layer::Flatten]);
        editor.undo(&mut spec);
        assert_eq!(spec.layers, [Layer::ReLU]);
        assert!(!editor.can_undo());
        editor.redo(&mut spec);
        editor.redo(&mut spec);
        assert_eq!(spec.layers, [Layer::ReLU, Layer::Flatten, Layer::Tanh]);
        assert!(!editor.can_redo());
        // A new edit after undo drops the redo branch.
        editor.undo(&mut spec);
        spec.layers.push(Layer::GELU);
        editor.commit(&spec);
        assert!(!editor.can_redo());
    }
}
