//! LayerLab against PyTorch: forward outputs, parameter gradients, optimizer steps and a few
//! training steps, compared with numbers PyTorch computed (tests/fixtures/torch_reference.json,
//! written by scripts/make_fixtures.py).

// Tests state what they expect with unwrap and expect; a failure is the report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

use dfdx::prelude::*;
use layerlab::model::{Model, NamedTensor, Param, Weights};
use layerlab::optim::{Optimizer, OptimizerConfig};
use layerlab::spec::{validate, ActivationShape, ModelSpec};
use layerlab::train::{train_step, LossKind};
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("fixtures/torch_reference.json");
    serde_json::from_str(text).expect("fixture is valid JSON")
}

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

fn weights(value: &Value) -> Weights {
    let tensors = value
        .as_object()
        .expect("object")
        .iter()
        .map(|(name, t)| NamedTensor {
            name: name.clone(),
            shape: t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect(),
            values: floats(&t["values"]),
        })
        .collect();
    Weights { tensors }
}

fn input_shape(value: &Value) -> ActivationShape {
    let dims: Vec<usize> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    ActivationShape::image(dims[0], dims[1], dims[2])
}

fn model_from(spec: &Value, shape: ActivationShape, outputs: usize, w: &Weights) -> Model {
    let spec: ModelSpec = serde_json::from_value(spec.clone()).unwrap();
    let plan = validate(&spec, shape, outputs).unwrap();
    Model::from_weights(spec, plan, w, &Cpu::default()).unwrap()
}

#[track_caller]
fn assert_close(what: &str, got: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths differ");
    let worst = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (g - e).abs() / e.abs().max(1e-2))
        .fold(0.0f32, f32::max);
    assert!(
        worst <= tolerance,
        "{what}: worst relative difference {worst} > {tolerance}"
    );
}

#[test]
fn forward_outputs_and_gradients_match_pytorch() {
    let fixture = fixture();
    for case in fixture["models"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let batch = case["batch"].as_u64().unwrap() as usize;
        let shape = input_shape(&case["input_shape"]);
        let expected_outputs = floats(&case["outputs"]);
        let model = model_from(
            &case["spec"],
            shape,
            expected_outputs.len() / batch,
            &weights(&case["weights"]),
        );
        // A model takes its input as PyTorch does, NCHW.
        let input = floats(&case["input"]);
        let dev = model.device().clone();
        let x = dev.tensor_from_vec(input, (batch, shape.numel()));
        // PyTorch ran the model after .eval(): dropout is the identity in both.
        let y = model.forward(x.leaky_trace(), layerlab::model::Mode::Eval);
        let got = y.retaped::<NoneTape>().as_vec();
        assert_close(&format!("{name} outputs"), &got, &expected_outputs, 1e-4);
        let r = dev.tensor_from_vec(floats(&case["r"]), *y.shape());
        let grads = (y * r).sum().backward();
        for param in model.params.iter().rev() {
            let expected = floats(&case["grads"][&param.name]);
            assert_close(
                &format!("{name} grad {}", param.name),
                &grads.get(param.handle()).as_vec(),
                &expected,
                1e-4,
            );
        }
    }
}

#[test]
fn every_optimizer_matches_torch_optim_for_ten_steps() {
    let fixture = fixture();
    let optimizers = &fixture["optimizers"];
    let (a, b, p0) = (
        floats(&optimizers["a"]),
        floats(&optimizers["b"]),
        floats(&optimizers["p0"]),
    );
    let dev = Cpu::default();
    let n = p0.len();
    for case in optimizers["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let config: OptimizerConfig = serde_json::from_value(case["config"].clone()).unwrap();
        let mut params = vec![Param::new("p".into(), vec![n], p0.clone(), &dev)];
        let mut optimizer = Optimizer::new(config, &params).unwrap();
        let a_t = dev.tensor_from_vec(a.clone(), (n,));
        let b_t = dev.tensor_from_vec(b.clone(), (n,));
        for (step, expected) in case["steps"].as_array().unwrap().iter().enumerate() {
            // loss = sum(a * p^2 + b * p), differentiated by dfdx on a copy of p's values;
            // the gradient goes where the optimizer looks for p's.
            let p = dev.tensor_from_vec(params[0].values().to_vec(), (n,));
            let loss =
                (p.leaky_trace().square() * a_t.clone() + p.leaky_trace() * b_t.clone()).sum();
            let dfdx_grads = loss.backward();
            let mut grads = Gradients::leaky();
            params[0]
                .gradient(&mut grads)
                .unwrap()
                .copy_from_slice(&dfdx_grads.get(&p).as_vec());
            optimizer.step(&mut params, &mut grads).unwrap();
            assert_close(
                &format!("{name} step {}", step + 1),
                params[0].values(),
                &floats(expected),
                1e-4,
            );
        }
    }
}

#[test]
fn five_training_steps_match_pytorch_adam_with_cross_entropy() {
    let fixture = fixture();
    let training = &fixture["training"];
    let shape = input_shape(&training["input_shape"]);
    let mut model = model_from(
        &training["spec"],
        shape,
        10,
        &weights(&training["initial_weights"]),
    );
    let config: OptimizerConfig = serde_json::from_value(training["optimizer"].clone()).unwrap();
    let mut optimizer = Optimizer::new(config, &model.params).unwrap();
    let batches = training["batches"].as_array().unwrap();
    let after = training["weights_after_each_step"].as_array().unwrap();
    for (step, (batch, expected)) in batches.iter().zip(after).enumerate() {
        let labels: Vec<usize> = batch["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_u64().unwrap() as usize)
            .collect();
        let mut targets = vec![0.0; labels.len() * 10];
        for (row, &label) in labels.iter().enumerate() {
            targets[row * 10 + label] = 1.0;
        }
        let input = floats(&batch["input"]);
        let outcome = train_step(
            &mut model,
            &mut optimizer,
            input,
            targets,
            LossKind::CrossEntropy,
        )
        .unwrap();
        let expected_loss = batch["loss"].as_f64().unwrap() as f32;
        assert!(
            (outcome.loss - expected_loss).abs() < 1e-5,
            "step {}: loss {} vs PyTorch {expected_loss}",
            step + 1,
            outcome.loss
        );
        let expected = weights(expected);
        for tensor in model.weights().tensors {
            assert_close(
                &format!("step {} {}", step + 1, tensor.name),
                &tensor.values,
                &expected.get(&tensor.name).unwrap().values,
                1e-4,
            );
        }
    }
}

/// [`assert_close`] with the floor of the relative difference scaled to the tensor's largest
/// value: a gradient whose entries reach 10 has entries near zero that f32 rounding alone
/// moves by 1e-5.
#[track_caller]
fn assert_close_to_scale(what: &str, got: &[f32], expected: &[f32], tolerance: f32) {
    let scale = expected.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let rescaled = |values: &[f32]| values.iter().map(|v| v / scale).collect::<Vec<_>>();
    assert_close(what, &rescaled(got), &rescaled(expected), tolerance);
}

/// Batch norm in both modes (tests/fixtures/torch_batch_norm.json): three SGD steps in
/// training mode (outputs, every gradient, then the weights and running statistics after the
/// step), then evaluation with the running statistics, the input's gradient included.
#[test]
fn batch_norm_matches_pytorch_in_training_and_evaluation() {
    use layerlab::model::{ForwardOptions, Mode};
    let fixture: Value = serde_json::from_str(include_str!("fixtures/torch_batch_norm.json"))
        .expect("fixture is valid JSON");
    let shape = input_shape(&fixture["input_shape"]);
    let batch = fixture["batch"].as_u64().unwrap() as usize;
    let mut model = model_from(
        &fixture["spec"],
        shape,
        4,
        &weights(&fixture["initial_weights"]),
    );
    let config: OptimizerConfig = serde_json::from_value(fixture["optimizer"].clone()).unwrap();
    let mut optimizer = Optimizer::new(config, &model.params).unwrap();
    let dev = model.device().clone();
    for (step, case) in fixture["train_steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let x = dev.tensor_from_vec(floats(&case["input"]), (batch, shape.numel()));
        let mut options = ForwardOptions::default();
        let layers = 0..model.plan.layers.len();
        let y = model.forward_layers(x.leaky_trace(), layers, Mode::Train, &mut options);
        let got = y.retaped::<NoneTape>().as_vec();
        assert_close_to_scale(
            &format!("step {step} outputs"),
            &got,
            &floats(&case["outputs"]),
            1e-4,
        );
        let r = dev.tensor_from_vec(floats(&case["r"]), *y.shape());
        let mut grads = (y * r).sum().backward();
        for param in &model.params {
            assert_close_to_scale(
                &format!("step {step} grad {}", param.name),
                &grads.get(param.handle()).as_vec(),
                &floats(&case["grads"][&param.name]),
                1e-4,
            );
        }
        optimizer.step(&mut model.params, &mut grads).unwrap();
        model.update_running_statistics(&options.batch_statistics);
        let expected = weights(&case["weights_after"]);
        let got = model.weights();
        assert_eq!(got.tensors.len(), expected.tensors.len(), "state dict size");
        for tensor in &expected.tensors {
            let mine = got.get(&tensor.name).expect("same names as PyTorch");
            assert_eq!(mine.shape, tensor.shape, "{}", tensor.name);
            assert_close_to_scale(
                &format!("step {step} {}", tensor.name),
                &mine.values,
                &tensor.values,
                1e-4,
            );
        }
    }
    let case = &fixture["eval"];
    let x = dev.tensor_from_vec(floats(&case["input"]), (batch, shape.numel()));
    let y = model.forward_layers(
        x.leaky_trace(),
        0..model.plan.layers.len(),
        Mode::Eval,
        &mut ForwardOptions {
            input_gradient: true,
            ..ForwardOptions::default()
        },
    );
    let got = y.retaped::<NoneTape>().as_vec();
    assert_close_to_scale("eval outputs", &got, &floats(&case["outputs"]), 1e-4);
    let inference = layerlab::model::InferenceModel::new(&model).predict(&x.as_vec(), batch);
    assert_close_to_scale("eval outputs, inference path", &inference, &got, 1e-5);
    let r = dev.tensor_from_vec(floats(&case["r"]), *y.shape());
    let grads = (y * r).sum().backward();
    for param in &model.params {
        assert_close_to_scale(
            &format!("eval grad {}", param.name),
            &grads.get(param.handle()).as_vec(),
            &floats(&case["grads"][&param.name]),
            1e-3,
        );
    }
    assert_close_to_scale(
        "eval input grad",
        &grads.get(&x).as_vec(),
        &floats(&case["input_grad"]),
        1e-3,
    );
}

#[test]
fn learning_rate_schedules_match_torch_step_by_step() {
    use layerlab::optim::{
        Anneal, LrSchedule, Monitor, Plateau, Schedule, SchedulePoint, ThresholdMode,
    };
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/torch_schedules.json")).unwrap();
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let s = &case["schedule"];
        let f = |key: &str| s[key].as_f64().unwrap();
        let u = |key: &str| s[key].as_u64().unwrap() as usize;
        let schedule = match s["kind"].as_str().unwrap() {
            "step" => Schedule::Step {
                step_size: u("step_size"),
                gamma: f("gamma"),
            },
            "multistep" => Schedule::MultiStep {
                milestones: s["milestones"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_u64().unwrap() as usize)
                    .collect(),
                gamma: f("gamma"),
            },
            "exponential" => Schedule::Exponential { gamma: f("gamma") },
            "cosine" => Schedule::Cosine {
                t_max: u("t_max"),
                eta_min: f("eta_min"),
            },
            "onecycle" => Schedule::OneCycle {
                pct_start: f("pct_start"),
                anneal: if s["anneal"] == "cos" {
                    Anneal::Cos
                } else {
                    Anneal::Linear
                },
                div_factor: f("div_factor"),
                final_div_factor: f("final_div_factor"),
                three_phase: s["three_phase"].as_bool().unwrap(),
                cycle_momentum: s["cycle_momentum"].as_bool().unwrap(),
                base_momentum: 0.85,
                max_momentum: 0.95,
            },
            "plateau" => Schedule::Plateau(Plateau {
                monitor: if s["mode"] == "max" {
                    Monitor::ValAccuracy
                } else {
                    Monitor::ValLoss
                },
                factor: f("factor"),
                patience: u("patience"),
                threshold: f("threshold"),
                threshold_mode: if s["threshold_mode"] == "abs" {
                    ThresholdMode::Abs
                } else {
                    ThresholdMode::Rel
                },
                cooldown: u("cooldown"),
                min_lr: f("min_lr"),
                ..Plateau::default()
            }),
            other => panic!("{other}"),
        };
        let schedule = LrSchedule {
            schedule,
            warmup_steps: case["warmup_steps"].as_u64().unwrap_or(0) as usize,
            warmup_start_factor: case["warmup_start_factor"].as_f64().unwrap_or(1.0 / 3.0),
        };
        let base = case["lr"].as_f64().unwrap();
        let epochs = case["epochs"].as_u64().unwrap() as usize;
        let per_epoch = case["steps_per_epoch"].as_u64().unwrap() as usize;
        let lrs = case["lrs"].as_array().unwrap();
        let momenta = case["momenta"].as_array().unwrap();
        assert_eq!(lrs.len(), epochs * per_epoch, "{name}");
        // ReduceLROnPlateau steps on the case's metric after each epoch.
        let mut plateau = match &schedule.schedule {
            Schedule::Plateau(rule) => Some((*rule, rule.start(base))),
            _ => None,
        };
        for (step, (lr, momentum)) in lrs.iter().zip(momenta).enumerate() {
            let epoch = step / per_epoch;
            if step > 0 && step % per_epoch == 0 {
                if let Some((rule, state)) = &mut plateau {
                    rule.step(state, case["metrics"][epoch - 1].as_f64().unwrap());
                }
            }
            let point = SchedulePoint {
                step,
                epoch,
                total_steps: epochs * per_epoch,
                epochs,
                plateau_lr: plateau.map(|(_, state)| state.lr),
            };
            let ours = schedule.at(base, point);
            let theirs = lr.as_f64().unwrap();
            assert!(
                (ours.lr - theirs).abs() <= 1e-7 * theirs.abs(),
                "{name}, step {step}: {} against torch's {theirs}",
                ours.lr
            );
            if let Some(ours) = ours.momentum {
                let theirs = momentum.as_f64().unwrap();
                assert!(
                    (ours - theirs).abs() <= 1e-7 * theirs.abs(),
                    "{name}, step {step}: momentum {ours} against torch's {theirs}"
                );
            }
        }
    }
}

/// The LR finder's suggestions on fixed curves against what fastai 2.8's own `steep` and
/// `valley` pick (scripts/make_lr_find_fixtures.py).
#[test]
fn lr_finder_suggestions_match_fastai() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/lr_find_suggestions.json"),
    )
    .unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let steps = case["num_it"].as_u64().unwrap() as usize;
        let lrs: Vec<f64> = case["lrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let losses: Vec<f64> = case["losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        let close = |ours: f64, theirs: f64| (ours - theirs).abs() <= 1e-6 * theirs;
        let steep = layerlab::train::steepest(&lrs, &losses, steps).unwrap();
        let theirs = case["steep"].as_f64().unwrap();
        assert!(
            close(steep.lr, theirs),
            "{name}: steep {} against fastai's {theirs}",
            steep.lr
        );
        let valley = layerlab::train::valley(&lrs, &losses, steps).unwrap();
        let theirs = case["valley"].as_f64().unwrap();
        assert!(
            close(valley.lr, theirs),
            "{name}: valley {} against fastai's {theirs}",
            valley.lr
        );
    }
}
