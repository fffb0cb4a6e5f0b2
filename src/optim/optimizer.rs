//! The optimizer state and its step, one flat parameter tensor at a time.
//!
//! Where dfdx's per-tensor update kernel has PyTorch's semantics it is used as is: Adam and
//! AdamW (`AdamConfig::try_update`, with our own step counter). dfdx's RMSprop kernel puts
//! eps inside the square root and starts the squared average at 1, and its SGD kernel has no
//! dampening and does not vectorise (14% of an mlp training step in `perf`), so those two are
//! written here with `torch.optim`'s update rules. All are checked against torch.optim in
//! tests/torch_parity.rs.

use dfdx::optim::{AdamConfig, WeightDecay};
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
                    // torch.optim.SGD: d = g + wd·p; buf = d on the first step, then
                    // momentum·buf + (1 - dampening)·d; Nesterov steps along d + momentum·buf.
                    let (lr, momentum, dampening, weight_decay) = (
                        lr as f32,
                        momentum as f32,
                        dampening as f32,
                        weight_decay as f32,
                    );
                    let first_step = self.step == 1;
                    update_in_place(&mut param.value, |p| {
                        if momentum == 0.0 {
                            for (p, &g) in p.iter_mut().zip(grad.iter()) {
                                *p -= lr * (g + weight_decay * *p);
                            }
                        } else {
                            for ((p, &g), buf) in
                                p.iter_mut().zip(grad.iter()).zip(state.first.iter_mut())
                            {
                                let d = g + weight_decay * *p;
                                *buf = if first_step {
                                    d
                                } else {
                                    momentum * *buf + (1.0 - dampening) * d
                                };
                                *p -= lr * if nesterov { d + momentum * *buf } else { *buf };
                            }
                        }
                    });
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
