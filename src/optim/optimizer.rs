//! The optimizer state and its step, one flat parameter tensor at a time.
//!
//! Each update follows `torch.optim`'s single-tensor code line for line (SGD with momentum,
//! dampening, Nesterov and weight decay; Adam; AdamW; RMSprop with momentum and centering)
//! and runs in place on the parameter's own buffer, reading the gradient dfdx accumulated.
//! dfdx 0.13's own update kernels were the first choice, but its SGD has no dampening and did
//! not vectorise (14% of an mlp step in `perf`), its RMSprop puts eps inside the square root
//! and starts the squared average at 1, and all of them need the parameter as a dfdx tensor,
//! which cost a copy in and out per step. tests/torch_parity.rs checks every configuration
//! against torch.optim.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::OptimizerConfig;
use crate::model::Param;

/// Per-parameter state: the moment buffers each optimizer keeps.
struct ParamState {
    first: Vec<f32>,
    second: Vec<f32>,
    third: Vec<f32>,
}

/// What an optimizer carries from step to step: its settings (a learning rate changed by
/// hand included), the count of steps taken and, per parameter tensor, its three state
/// buffers in the order of [`OptimizerConfig::state_names`].
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState {
    pub config: OptimizerConfig,
    pub step: i32,
    pub buffers: Vec<[Vec<f32>; 3]>,
}

/// A saved optimizer state that does not fit the model's parameters.
#[derive(Debug, thiserror::Error)]
#[error("the optimizer state does not fit this model: {what}")]
pub struct StateMismatch {
    pub what: String,
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
                let zeros = || {
                    let mut buffer = Vec::new();
                    buffer
                        .try_reserve_exact(p.len())
                        .map_err(|_| CpuError::OutOfMemory)?;
                    buffer.resize(p.len(), 0.0);
                    Ok(buffer)
                };
                Ok(ParamState {
                    first: zeros()?,
                    second: zeros()?,
                    third: zeros()?,
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

    /// A copy of everything the optimizer carries from step to step, for a checkpoint.
    pub fn state(&self) -> OptimizerState {
        OptimizerState {
            config: self.config.clone(),
            step: self.step,
            buffers: self
                .states
                .iter()
                .map(|s| [s.first.clone(), s.second.clone(), s.third.clone()])
                .collect(),
        }
    }

    /// An optimizer that continues from `state` (saved by [`Self::state`] for the same
    /// parameters), as if it had never stopped.
    pub fn restore(state: OptimizerState, params: &[Param]) -> Result<Self, StateMismatch> {
        if state.buffers.len() != params.len() {
            return Err(StateMismatch {
                what: format!(
                    "{} parameter tensors, the model has {}",
                    state.buffers.len(),
                    params.len()
                ),
            });
        }
        let mut states = Vec::with_capacity(params.len());
        for (index, (buffers, param)) in state.buffers.into_iter().zip(params).enumerate() {
            if buffers.iter().any(|b| b.len() != param.len()) {
                return Err(StateMismatch {
                    what: format!(
                        "state for parameter tensor {index} has the wrong size (the tensor has {} values)",
                        param.len()
                    ),
                });
            }
            let [first, second, third] = buffers;
            states.push(ParamState {
                first,
                second,
                third,
            });
        }
        Ok(Self {
            config: state.config,
            step: state.step,
            states,
        })
    }

    pub fn set_learning_rate(&mut self, lr: f64) {
        self.config.set_learning_rate(lr);
    }

    /// Momentum, or Adam's beta1 ([`OptimizerConfig::set_momentum`]).
    pub fn set_momentum(&mut self, momentum: f64) {
        self.config.set_momentum(momentum);
    }

    /// Applies one update to every parameter from the gradients of the last backward pass.
    pub fn step(
        &mut self,
        params: &mut [Param],
        grads: &mut Gradients<f32, Cpu>,
    ) -> Result<(), CpuError> {
        self.step += 1;
        for (param, state) in params.iter_mut().zip(&mut self.states) {
            let grad: &[f32] = param.gradient(grads)?;
            let values = param.values_mut();
            // Element-wise, so chunks of a large tensor update in parallel, bit for bit as
            // one pass would.
            values
                .par_chunks_mut(CHUNK)
                .zip(grad.par_chunks(CHUNK))
                .zip(state.first.par_chunks_mut(CHUNK))
                .zip(state.second.par_chunks_mut(CHUNK))
                .zip(state.third.par_chunks_mut(CHUNK))
                .for_each(|((((p, g), first), second), third)| {
                    update(&self.config, self.step, p, g, [first, second, third])
                });
        }
        Ok(())
    }
}

/// Values per parallel task of an update (64 KB of each buffer).
const CHUNK: usize = 16 * 1024;

/// One update of `p` (a chunk of a parameter) from its gradient `grad` and the matching
/// chunks of the optimizer's three state buffers.
fn update(
    config: &OptimizerConfig,
    step: i32,
    p: &mut [f32],
    grad: &[f32],
    state: [&mut [f32]; 3],
) {
    let [first, second, third] = state;
    match *config {
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
            let first_step = step == 1;
            if momentum == 0.0 {
                for (p, &g) in p.iter_mut().zip(grad) {
                    *p -= lr * (g + weight_decay * *p);
                }
            } else {
                for ((p, &g), buf) in p.iter_mut().zip(grad).zip(first.iter_mut()) {
                    let d = g + weight_decay * *p;
                    *buf = if first_step {
                        d
                    } else {
                        momentum * *buf + (1.0 - dampening) * d
                    };
                    *p -= lr * if nesterov { d + momentum * *buf } else { *buf };
                }
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
            // torch.optim.Adam / AdamW (`_single_tensor_adam`).
            let decoupled = matches!(config, OptimizerConfig::AdamW { .. });
            let step = f64::from(step);
            let step_size = (lr / (1.0 - betas[0].powf(step))) as f32;
            let correction2_sqrt = (1.0 - betas[1].powf(step)).sqrt() as f32;
            let (beta1, beta2) = (betas[0] as f32, betas[1] as f32);
            let (eps, weight_decay) = (eps as f32, weight_decay as f32);
            let shrink = 1.0 - lr as f32 * weight_decay;
            for ((p, &g), (m, v)) in p
                .iter_mut()
                .zip(grad)
                .zip(first.iter_mut().zip(second.iter_mut()))
            {
                let g = if decoupled {
                    *p *= shrink;
                    g
                } else {
                    g + weight_decay * *p
                };
                *m += (g - *m) * (1.0 - beta1);
                *v = *v * beta2 + (1.0 - beta2) * g * g;
                let denom = v.sqrt() / correction2_sqrt + eps;
                *p -= step_size * *m / denom;
            }
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
            let (square_avg, grad_avg, momentum_buffer) = (first, second, third);
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
        }
    }
}
