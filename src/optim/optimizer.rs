//! The optimizer state and its step, one flat parameter tensor at a time.
//!
//! Where dfdx's per-tensor update kernel has PyTorch's semantics it is used as is: Adam and
//! AdamW (`AdamConfig::try_update`, with our own step counter) and SGD without dampening
//! (`SgdConfig::try_update`). dfdx cannot express SGD's dampening, and its RMSprop kernel puts
//! eps inside the square root and starts the squared average at 1, so those two are written
//! here with `torch.optim`'s update rules.

use dfdx::optim::{AdamConfig, Momentum, SgdConfig, WeightDecay};
use dfdx::prelude::*;

use super::OptimizerConfig;
use crate::model::Param;

type Buffer = <Cpu as Storage<f32>>::Vec;

/// Per-parameter state: the moment buffers each optimizer keeps.
struct ParamState {
    first: Buffer,
    second: Buffer,
    third: Buffer,
}

/// An optimizer bound to a model's parameters.
pub struct Optimizer {
    config: OptimizerConfig,
    step: i32,
    states: Vec<ParamState>,
}

impl Optimizer {
    pub fn new(config: OptimizerConfig, params: &[Param]) -> Result<Self, CpuError> {
        let states = params
            .iter()
            .map(|p| {
                let len = p.value.shape().0;
                let dev = p.value.device();
                Ok(ParamState {
                    first: dev.try_alloc_len(len)?,
                    second: dev.try_alloc_len(len)?,
                    third: dev.try_alloc_len(len)?,
                })
            })
            .collect::<Result<_, CpuError>>()?;
        Ok(Self {
            config,
            step: 0,
            states,
        })
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.set_learning_rate(lr);
    }

    /// Applies one update to every parameter from the gradients of the last backward pass.
    pub fn step(
        &mut self,
        params: &mut [Param],
        grads: &mut Gradients<f32, Cpu>,
    ) -> Result<(), CpuError> {
        self.step += 1;
        for (param, state) in params.iter_mut().zip(&mut self.states) {
            let grad = grads.get_or_alloc_mut(&param.value)?;
            match self.config {
                OptimizerConfig::Sgd {
                    lr,
                    momentum,
                    dampening,
                    nesterov,
                    weight_decay,
                } => {
                    if dampening == 0.0 {
                        let cfg = SgdConfig {
                            lr,
                            momentum: (momentum > 0.0).then_some(if nesterov {
                                Momentum::Nesterov(momentum)
                            } else {
                                Momentum::Classic(momentum)
                            }),
                            weight_decay: (weight_decay > 0.0)
                                .then_some(WeightDecay::L2(weight_decay)),
                        };
                        cfg.try_update(&mut param.value, &mut state.first, grad)?;
                    } else {
                        // Dampened momentum (Nesterov needs dampening 0, so not reached here).
                        let first_step = self.step == 1;
                        update_in_place(&mut param.value, |p| {
                            for ((p, &g), buf) in
                                p.iter_mut().zip(grad.iter()).zip(state.first.iter_mut())
                            {
                                let g = g + weight_decay as f32 * *p;
                                *buf = if first_step || momentum == 0.0 {
                                    g
                                } else {
                                    momentum as f32 * *buf + (1.0 - dampening as f32) * g
                                };
                                let d = if momentum == 0.0 { g } else { *buf };
                                *p -= lr as f32 * d;
                            }
                        });
                    }
                }
                OptimizerConfig::Adam {
                    lr,
                    betas,
                    eps,
                    weight_decay,
                }
                | OptimizerConfig::AdamW {
                    lr,
                    betas,
                    eps,
                    weight_decay,
                } => {
                    let decay = if weight_decay == 0.0 {
                        None
                    } else if matches!(self.config, OptimizerConfig::AdamW { .. }) {
                        Some(WeightDecay::Decoupled(weight_decay))
                    } else {
                        Some(WeightDecay::L2(weight_decay))
                    };
                    let cfg = AdamConfig {
                        lr,
                        betas,
                        eps,
                        weight_decay: decay,
                    };
                    cfg.try_update(
                        self.step,
                        &mut param.value,
                        &mut state.first,
                        &mut state.second,
                        grad,
                    )?;
                }
                OptimizerConfig::RmsProp {
                    lr,
                    alpha,
                    eps,
                    weight_decay,
                    momentum,
                    centered,
                } => {
                    let (alpha, eps, lr) = (alpha as f32, eps as f32, lr as f32);
                    let (weight_decay, momentum) = (weight_decay as f32, momentum as f32);
                    let ParamState {
                        first: square_avg,
                        second: grad_avg,
                        third: momentum_buffer,
                    } = state;
                    update_in_place(&mut param.value, |p| {
                        for i in 0..p.len() {
                            let g = grad[i] + weight_decay * p[i];
                            square_avg[i] = alpha * square_avg[i] + (1.0 - alpha) * g * g;
                            let avg = if centered {
                                grad_avg[i] = alpha * grad_avg[i] + (1.0 - alpha) * g;
                                (square_avg[i] - grad_avg[i] * grad_avg[i]).sqrt() + eps
                            } else {
                                square_avg[i].sqrt() + eps
                            };
                            if momentum > 0.0 {
                                momentum_buffer[i] = momentum * momentum_buffer[i] + g / avg;
                                p[i] -= lr * momentum_buffer[i];
                            } else {
                                p[i] -= lr * g / avg;
                            }
                        }
                    });
                }
            }
        }
        Ok(())
    }
}

/// dfdx gives no `&mut [f32]` into a tensor: copy out, update, copy back.
fn update_in_place(tensor: &mut Tensor<(usize,), f32, Cpu>, update: impl FnOnce(&mut [f32])) {
    let mut values = vec![0.0; tensor.shape().0];
    tensor.copy_into(&mut values);
    update(&mut values);
    tensor.copy_from(&values);
}
