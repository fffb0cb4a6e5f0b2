//! Neighbouring layers that run as one op in the forward pass (and its backward), when no
//! caller needs the layers' outputs one by one (the Inside view, saliency).

use super::window;
use crate::model::Mode;
use crate::ops::Window;
use crate::spec::{Layer, LayerPlan};

/// What a layer and the ones after it run as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Fused {
    /// A ReLU beside a max-pool (either order): one op on the pooled side.
    ReluMaxPool(Window),
    /// A training-mode BatchNorm2d followed by a ReLU and a max-pool (either order): the
    /// normalised activations are pooled without becoming a tensor.
    BatchNormReluMaxPool { eps: f32, pool: Window },
}

/// How `layer` fuses with the next ones of `layers`, which are taken when it does.
pub(super) fn fused_with_next<'a>(
    layer: &LayerPlan,
    layers: &mut std::iter::Peekable<impl Iterator<Item = (usize, &'a LayerPlan)> + Clone>,
    batch: usize,
    mode: Mode,
) -> Option<Fused> {
    if let (&Layer::BatchNorm2d { eps, .. }, Mode::Train) = (&layer.layer, mode) {
        let mut ahead = layers.clone();
        let next = ahead.next()?.1;
        let pool = fused_relu_pool(next, &mut ahead, batch)?;
        // Both layers after the batch norm are part of the op.
        layers.next();
        layers.next();
        return Some(Fused::BatchNormReluMaxPool { eps, pool });
    }
    fused_relu_pool(layer, layers, batch).map(Fused::ReluMaxPool)
}

/// A ReLU beside a max-pool (either order) runs as one fused op on the pooled side: the
/// pool's window when `layer` and the next layer are such a pair (the next one is taken).
fn fused_relu_pool<'a>(
    layer: &LayerPlan,
    layers: &mut std::iter::Peekable<impl Iterator<Item = (usize, &'a LayerPlan)>>,
    batch: usize,
) -> Option<Window> {
    match layer.layer {
        Layer::ReLU => layers
            .next_if(|(_, next)| max_pool_window(next, batch).is_some())
            .and_then(|(_, pool)| max_pool_window(pool, batch)),
        Layer::MaxPool2d { .. } => layers
            .next_if(|(_, next)| next.layer == Layer::ReLU)
            .and_then(|_| max_pool_window(layer, batch)),
        Layer::Linear { .. }
        | Layer::Conv2d { .. }
        | Layer::AvgPool2d { .. }
        | Layer::Flatten
        | Layer::LeakyReLU { .. }
        | Layer::Sigmoid
        | Layer::Tanh
        | Layer::GELU
        | Layer::Dropout { .. }
        | Layer::BatchNorm1d { .. }
        | Layer::BatchNorm2d { .. } => None,
    }
}

/// The window of a MaxPool2d layer; `None` for any other layer (one variant matters by
/// definition, so no list of the others).
fn max_pool_window(layer: &LayerPlan, batch: usize) -> Option<Window> {
    let Layer::MaxPool2d {
        kernel_size,
        stride,
    } = layer.layer
    else {
        return None;
    };
    let stride = stride.unwrap_or(kernel_size);
    Some(window(layer, batch, kernel_size, stride, 0))
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::model::tests::outputs_and_gradients;
    use crate::model::{ForwardOptions, Mode, Model};
    use crate::ops::testing::{assert_all_close, pseudo_random};
    use crate::spec::{validate, ActivationShape, Layer, ModelSpec};

    /// Conv-BN-ReLU-Pool, then Conv-BN-Pool-ReLU (the other order), then a Linear.
    fn batch_norm_stack() -> ModelSpec {
        let conv = |out_channels| Layer::Conv2d {
            out_channels,
            kernel_size: 3,
            stride: 1,
            padding: 1,
        };
        let batch_norm = || Layer::BatchNorm2d {
            eps: 1e-5,
            momentum: 0.1,
        };
        let pool = || Layer::MaxPool2d {
            kernel_size: 2,
            stride: None,
        };
        ModelSpec::new(vec![
            conv(3),
            batch_norm(),
            Layer::ReLU,
            pool(),
            conv(4),
            batch_norm(),
            pool(),
            Layer::ReLU,
            Layer::Flatten,
            Layer::Linear { out_features: 3 },
        ])
    }

    #[test]
    fn batch_norm_relu_and_max_pool_fuse_only_while_training() {
        let plan = validate(&batch_norm_stack(), ActivationShape::image(2, 9, 7), 3).unwrap();
        let kinds = |mode| {
            let mut layers = plan.layers.iter().enumerate().peekable();
            let mut kinds = Vec::new();
            while let Some((_, layer)) = layers.next() {
                kinds.push(
                    super::fused_with_next(layer, &mut layers, 2, mode)
                        .map(|fused| matches!(fused, super::Fused::BatchNormReluMaxPool { .. })),
                );
            }
            kinds
        };
        // conv, BN+ReLU+pool, conv, BN+pool+ReLU, flatten, linear.
        assert_eq!(
            kinds(Mode::Train),
            [None, Some(true), None, Some(true), None, None]
        );
        // conv, BN, ReLU+pool, conv, BN, pool+ReLU, flatten, linear.
        assert_eq!(
            kinds(Mode::Eval),
            [None, None, Some(false), None, None, Some(false), None, None]
        );
    }

    #[test]
    fn fused_batch_norm_steps_train_as_the_separate_layers_do() {
        let input = ActivationShape::image(2, 9, 7);
        let device = Cpu::seed_from_u64(0);
        let batch = 3;
        let x = pseudo_random(batch * input.numel(), 1);
        let plan = validate(&batch_norm_stack(), input, 3).unwrap();
        let model = Model::initialise(batch_norm_stack(), plan, &device, 7);
        let run = |separated: bool| {
            // Asking for every layer's output turns fusion off.
            let mut options = ForwardOptions {
                outputs: separated.then(Vec::new),
                ..ForwardOptions::default()
            };
            let x = device.tensor_from_vec(x.clone(), (batch, input.numel()));
            let layers = 0..model.plan.layers.len();
            let y = model.forward_layers(x.leaky_trace(), layers, Mode::Train, &mut options);
            let (outputs, gradients) = outputs_and_gradients(&model, y);
            (outputs, gradients, options.batch_statistics)
        };
        let (fused, separate) = (run(false), run(true));
        assert_all_close(&fused.0, &separate.0, 1e-6);
        assert_eq!(fused.1.len(), 10);
        for (f, s) in fused.1.iter().zip(&separate.1) {
            assert!(s.iter().any(|&g| g != 0.0));
            assert_all_close(f, s, 1e-6);
        }
        assert_eq!(fused.2, separate.2);
    }
}
