//! The training engine as a library: the worker's commands and events, reproducibility, and
//! the failures a user can cause (bad settings, a stack that does not fit, a diverging run).

// Tests state what they expect with unwrap and expect; a failure is the report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::wildcard_enum_match_arm
)]

use std::sync::Arc;

use layerlab::data::{default_mnist_dir, Dataset};
use layerlab::model::Weights;
use layerlab::optim::OptimizerConfig;
use layerlab::presets::preset;
use layerlab::spec::{Layer, ModelSpec};
use layerlab::train::{TrainCommand, TrainConfig, TrainEvent, TrainJob, TrainingHandle};

fn mnist() -> Arc<Dataset> {
    Arc::new(Dataset::mnist(&default_mnist_dir()).expect("the shipped MNIST loads"))
}

fn quick_config(limit: usize) -> TrainConfig {
    TrainConfig {
        optimizer: preset("mlp").unwrap().optimizer,
        batch_size: 32,
        train_limit: Some(limit),
        test_limit: Some(500),
        validation_size: 500,
        snapshot_every_steps: 10,
        ..TrainConfig::default()
    }
}

fn job(spec: ModelSpec, config: TrainConfig, dataset: Arc<Dataset>) -> TrainJob {
    TrainJob {
        spec,
        config,
        dataset,
        initial_weights: None,
        resume_from: None,
    }
}

#[test]
fn shipped_mnist_has_the_published_counts() {
    let data = mnist();
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    assert_eq!(
        data.test.class_counts(10),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(&data.train.labels()[..8], &[5, 0, 4, 1, 9, 2, 1, 3]);
}

#[test]
fn pause_resume_and_stop_answer_between_batches() {
    let prepared = job(preset("mlp").unwrap().spec, quick_config(20_000), mnist())
        .prepare()
        .unwrap();
    let handle = TrainingHandle::spawn(prepared, None).unwrap();
    let events = handle.events();
    // Wait for the first batch, then pause.
    loop {
        if let TrainEvent::Batch(_) = events.recv().unwrap() {
            break;
        }
    }
    assert!(handle.send(TrainCommand::Pause));
    let paused_at = loop {
        match events.recv().unwrap() {
            TrainEvent::Paused { step } => break step,
            TrainEvent::Batch(_) | TrainEvent::Snapshot { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    // While paused nothing trains: the next event after resuming is the resume itself.
    assert!(handle.send(TrainCommand::SetLearningRate(0.02)));
    assert!(handle.send(TrainCommand::Resume));
    assert_eq!(
        events.recv().unwrap(),
        TrainEvent::LearningRateChanged {
            step: paused_at,
            learning_rate: 0.02
        }
    );
    assert_eq!(
        events.recv().unwrap(),
        TrainEvent::Resumed { step: paused_at }
    );
    match events.recv().unwrap() {
        TrainEvent::Batch(batch) => {
            assert_eq!(batch.step, paused_at + 1);
            assert_eq!(batch.learning_rate, 0.02);
        }
        other => panic!("expected the next batch, got {other:?}"),
    }
    assert!(handle.send(TrainCommand::Stop));
    let summary = loop {
        match events.recv().unwrap() {
            TrainEvent::Finished(summary) => break summary,
            TrainEvent::Failed { message } => panic!("{message}"),
            _ => {}
        }
    };
    assert!(summary.stopped_early);
    assert!(
        summary.steps < 20_000 / 32,
        "stopped before the epoch ended"
    );
    assert_eq!(
        summary.test, None,
        "a stopped run ends without the test evaluation"
    );
    assert!(summary.weights.parameter_count() == 101_770);
}

fn final_summary(handle: &TrainingHandle) -> (Vec<f32>, layerlab::train::RunSummary) {
    let mut losses = Vec::new();
    for event in handle.events().iter() {
        match event {
            TrainEvent::Batch(batch) => losses.push(batch.loss),
            TrainEvent::Finished(summary) => return (losses, *summary),
            TrainEvent::Failed { message } => panic!("{message}"),
            _ => {}
        }
    }
    panic!("the worker ended without finishing");
}

#[test]
fn same_seed_same_run_different_seed_different_run() {
    let data = mnist();
    let run = |seed| {
        let mut config = quick_config(2_000);
        config.seed = seed;
        config.optimizer = OptimizerConfig::default_for("adam").unwrap();
        // Dropout exercises the seeded device RNG too.
        let spec = ModelSpec::new(vec![
            Layer::Linear { out_features: 32 },
            Layer::ReLU,
            Layer::Dropout { p: 0.2 },
            Layer::Linear { out_features: 10 },
        ]);
        let handle =
            TrainingHandle::spawn(job(spec, config, data.clone()).prepare().unwrap(), None)
                .unwrap();
        final_summary(&handle)
    };
    let (losses_a, summary_a) = run(7);
    let (losses_b, summary_b) = run(7);
    let (losses_c, _) = run(8);
    assert_eq!(losses_a, losses_b);
    assert_eq!(summary_a.weights, summary_b.weights);
    assert_ne!(losses_a, losses_c);
    // And it learned something: 2,000 images are enough for well above chance (10%).
    let accuracy_a = summary_a.test.as_ref().unwrap().accuracy.unwrap();
    assert!(accuracy_a > 0.5, "{accuracy_a}");
}

/// The message of the run's Failed event; panics if the run finishes or ends without one.
fn failure_message(handle: TrainingHandle) -> String {
    handle
        .events()
        .iter()
        .find_map(|e| match e {
            TrainEvent::Failed { message } => Some(message),
            TrainEvent::Finished(_) => panic!("the run must fail, not finish"),
            _ => None,
        })
        .expect("a failure event")
}

#[test]
fn a_diverging_run_fails_with_a_message_instead_of_training_on_nan() {
    let data = mnist();
    let spec = preset("mlp").unwrap().spec;
    // Finite but enormous weights: the logits overflow and the loss is not a number.
    let weights = Weights {
        tensors: layerlab::model::parameter_shapes(
            &layerlab::spec::validate(&spec, data.input_shape(), 10).unwrap(),
        )
        .into_iter()
        .map(|(name, shape, _)| layerlab::model::NamedTensor {
            values: vec![1e30; shape.iter().product()],
            name,
            shape,
        })
        .collect(),
    };
    let prepared = TrainJob {
        spec,
        config: quick_config(1_000),
        dataset: data,
        initial_weights: Some(Arc::new(weights)),
        resume_from: None,
    }
    .prepare()
    .unwrap();
    let message = failure_message(TrainingHandle::spawn(prepared, None).unwrap());
    assert!(
        message.contains("diverged") && message.contains("step 1"),
        "{message}"
    );
}

#[test]
fn a_run_whose_last_step_breaks_the_weights_fails_however_short() {
    // One step of two samples: its loss is finite (computed before the update), but the
    // update leaves weights or metrics that are not numbers. That is no result to report or
    // save (the case: `--limit 2 --batch-size 2 --weight-decay 1e30`).
    let run = |weight_decay: f64, validation_size: usize| {
        let mut config = quick_config(2);
        config.batch_size = 2;
        config.validation_size = validation_size;
        config.test_limit = Some(10);
        config.optimizer = OptimizerConfig::Sgd {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay,
        };
        let prepared = job(preset("mlp").unwrap().spec, config, mnist())
            .prepare()
            .unwrap();
        failure_message(TrainingHandle::spawn(prepared, None).unwrap())
    };
    // 1e30: the weights stay finite (about 1e26) but the logits overflow.
    let message = run(1e30, 0);
    assert!(
        message.starts_with("training ended with a test loss of NaN at step 1; the weight decay"),
        "{message}"
    );
    let message = run(1e30, 2);
    assert!(
        message.starts_with("training ended with a validation loss of NaN at step 1"),
        "{message}"
    );
    // 1e39 is infinite in f32: the weights themselves are not numbers, and are named.
    let message = run(1e39, 2);
    assert!(
        message.starts_with("training ended with weights that are not numbers (0.weight)"),
        "{message}"
    );
}

#[test]
fn a_panic_on_the_worker_becomes_a_failed_event() {
    // The window's waker runs on the worker after each event; one that panics (once) is a
    // panic in the middle of a run, which must come back as a failure, not a dead thread.
    let panicked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&panicked);
    let waker: layerlab::train::Waker = Arc::new(move || {
        if !flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
            panic!("waker failed");
        }
    });
    let prepared = job(preset("mlp").unwrap().spec, quick_config(1_000), mnist())
        .prepare()
        .unwrap();
    let message = failure_message(TrainingHandle::spawn(prepared, Some(waker)).unwrap());
    assert!(
        message.contains("internal error") && message.contains("waker failed"),
        "{message}"
    );
    assert!(panicked.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn a_dataset_with_labels_outside_its_classes_is_refused_before_training() {
    let data = Arc::new(layerlab::data::images_in_memory(
        "hand-made",
        28,
        28,
        vec![0; 200 * 784],
        (0..200).map(|i| if i == 5 { 12 } else { 3 }).collect(),
        10,
    ));
    let mut config = quick_config(200);
    config.validation_size = 0;
    let error = job(preset("mlp").unwrap().spec, config, data)
        .prepare()
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(
        message.contains("label 12 of sample 5") && message.contains("10 classes"),
        "{message}"
    );
}

#[test]
fn bad_settings_and_unfit_stacks_are_refused_before_training() {
    let data = mnist();
    let mlp = preset("mlp").unwrap().spec;
    let refuse =
        |spec: ModelSpec, config: TrainConfig| match job(spec, config, data.clone()).prepare() {
            Ok(_) => panic!("expected a refusal"),
            Err(error) => error.to_string(),
        };
    let mut config = quick_config(1_000);
    config.batch_size = 0;
    assert!(refuse(mlp.clone(), config).contains("batch size"));
    let mut config = quick_config(1_000);
    config.optimizer = OptimizerConfig::default_for("adam").unwrap();
    config.optimizer.set_learning_rate(-1.0);
    assert!(refuse(mlp.clone(), config).contains("learning rate"));
    let mut config = quick_config(1_000);
    config.validation_size = 60_000;
    assert!(refuse(mlp.clone(), config).contains("validation size"));
    let unfit = ModelSpec::new(vec![
        Layer::Conv2d {
            out_channels: 4,
            kernel_size: 29,
            stride: 1,
            padding: 0,
        },
        Layer::Linear { out_features: 10 },
    ]);
    let message = refuse(unfit, quick_config(1_000));
    assert_eq!(
        message,
        "layer 0 Conv2d: kernel 29 is larger than its 28x28 input"
    );
}

#[test]
fn dropping_the_handle_cancels_and_joins_the_worker() {
    let prepared = job(preset("cnn").unwrap().spec, quick_config(20_000), mnist())
        .prepare()
        .unwrap();
    let handle = TrainingHandle::spawn(prepared, None).unwrap();
    assert!(matches!(
        handle.events().recv().unwrap(),
        TrainEvent::Started { .. }
    ));
    drop(handle); // must return (joins) rather than train 20,000 images
}

#[test]
fn batches_carry_the_samples_trained_and_the_worker_clock_and_a_first_snapshot_comes_at_step_0() {
    // 100 images in batches of 32: three full batches and one of 4.
    let mut config = quick_config(100);
    config.validation_size = 0;
    config.test_limit = Some(10);
    let prepared = job(preset("mlp").unwrap().spec, config, mnist())
        .prepare()
        .unwrap();
    let (_commands_tx, commands_rx) = crossbeam_channel::unbounded();
    let mut events = Vec::new();
    layerlab::train::run_training(prepared, &commands_rx, &mut |event| {
        events.push(event);
        true
    })
    .unwrap();
    assert!(matches!(events[0], TrainEvent::Started { .. }));
    assert!(
        matches!(events[1], TrainEvent::Snapshot { step: 0, .. }),
        "{:?}",
        events[1]
    );
    let batches: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Batch(batch) => Some(batch),
            _ => None,
        })
        .collect();
    let samples: Vec<usize> = batches.iter().map(|b| b.samples).collect();
    assert_eq!(samples, [32, 32, 32, 4]);
    assert!(batches[0].train_secs > 0.0);
    assert!(batches
        .windows(2)
        .all(|w| w[0].train_secs <= w[1].train_secs));
}

#[test]
fn paused_time_is_not_training_time() {
    let prepared = job(preset("mlp").unwrap().spec, quick_config(3_000), mnist())
        .prepare()
        .unwrap();
    let (commands_tx, commands_rx) = crossbeam_channel::unbounded();
    let mut clock_at_pause = None;
    let mut first_after_resume = None;
    let pause_for = std::time::Duration::from_millis(400);
    layerlab::train::run_training(prepared, &commands_rx, &mut |event| {
        if let TrainEvent::Batch(batch) = &event {
            if batch.step == 2 {
                clock_at_pause = Some(batch.train_secs);
                commands_tx.send(TrainCommand::Pause).unwrap();
                // Resumes after a while, as a person would.
                let tx = commands_tx.clone();
                std::thread::Builder::new()
                    .name("test-resumer".into())
                    .spawn(move || {
                        std::thread::sleep(pause_for);
                        tx.send(TrainCommand::Resume).unwrap();
                    })
                    .unwrap();
            } else if batch.step == 3 {
                first_after_resume = Some(batch.train_secs);
            }
        }
        true
    })
    .unwrap();
    let gap = first_after_resume.unwrap() - clock_at_pause.unwrap();
    assert!(
        gap < pause_for.as_secs_f64() / 2.0,
        "one step must not count the {pause_for:?} pause: {gap} s"
    );
}

#[test]
fn a_normal_end_reports_evaluation_progress_and_stop_during_it_skips_the_rest() {
    let mut config = quick_config(64);
    config.validation_size = 0;
    config.test_limit = Some(2_000);
    let run = |stop_on_first_progress: bool| {
        let prepared = job(preset("mlp").unwrap().spec, config.clone(), mnist())
            .prepare()
            .unwrap();
        let (commands_tx, commands_rx) = crossbeam_channel::unbounded();
        let mut progress = Vec::new();
        let summary = layerlab::train::run_training(prepared, &commands_rx, &mut |event| {
            if let TrainEvent::Evaluating { done, total } = event {
                progress.push((done, total));
                if stop_on_first_progress {
                    commands_tx.send(TrainCommand::Stop).unwrap();
                }
            }
            true
        })
        .unwrap();
        (summary, progress)
    };
    let (summary, progress) = run(false);
    assert_eq!(progress.last(), Some(&(2_000, 2_000)));
    assert!(progress.len() > 1, "progress along the way: {progress:?}");
    let test = summary.test.expect("a finished run is evaluated");
    assert_eq!(test.predictions.len(), 2_000);
    // How sure the model was of each prediction: the winning softmax probability, so at
    // least a tenth among 10 classes.
    assert_eq!(test.confidences.len(), 2_000);
    assert!(test.confidences.iter().all(|&p| (0.1..=1.0).contains(&p)));
    assert!(!summary.stopped_early);

    let (summary, progress) = run(true);
    assert_eq!(
        progress.len(),
        1,
        "stopped after the first chunk: {progress:?}"
    );
    assert_eq!(summary.test, None);
    assert_eq!(summary.steps, 2, "the weights of the whole run are kept");
}

#[cfg(unix)]
#[test]
fn exported_files_get_the_users_normal_mode_and_a_replaced_file_keeps_its_own() {
    use std::os::unix::fs::PermissionsExt;
    let spec = ModelSpec::new(vec![Layer::Flatten, Layer::Linear { out_features: 10 }]);
    let plan = layerlab::spec::validate(&spec, mnist().input_shape(), 10).unwrap();
    let model = layerlab::model::Model::initialise(spec, plan, &Default::default(), 0);
    let saved = layerlab::export::SavedModel::from_model(&model, &mnist().card);
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // What any new file gets here (0666 less the umask).
    let reference = dir.path().join("reference");
    std::fs::write(&reference, b"x").unwrap();
    let exported = dir.path().join("new.safetensors");
    saved.save(&exported).unwrap();
    assert_eq!(
        mode(&exported),
        mode(&reference),
        "not a temporary file's 0600"
    );

    let shared = dir.path().join("shared.safetensors");
    std::fs::write(&shared, b"old").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o664)).unwrap();
    saved.save(&shared).unwrap();
    assert_eq!(mode(&shared), 0o664);
}

#[test]
fn a_nan_loss_with_roll_back_pauses_at_the_last_snapshot_and_resumes_after_a_fix() {
    // SGD at the largest learning rate allowed blows the diabetes regressor up within a few
    // steps (the CLI fails there: "the loss became inf at step 4").
    let data = Arc::new(
        layerlab::data::load_builtin("diabetes", &Default::default()).expect("diabetes ships"),
    );
    let recipe = preset("mlp-regressor").unwrap();
    let mut optimizer = OptimizerConfig::default_for("sgd").unwrap();
    optimizer.set_learning_rate(10.0);
    let config = TrainConfig {
        optimizer,
        loss: recipe.loss.unwrap_or_default(),
        batch_size: 32,
        epochs: 3,
        validation_size: 30,
        snapshot_every_steps: 2,
        health_every_steps: 1,
        on_divergence: layerlab::train::OnDivergence::RollBackAndPause,
        ..TrainConfig::default()
    };
    let prepared = job(recipe.spec, config, data).prepare().unwrap();
    let handle = TrainingHandle::spawn(prepared, None).unwrap();
    let events = handle.events();
    let (step, restored_step) = loop {
        match events.recv().expect("the run goes on until it diverges") {
            TrainEvent::RolledBack {
                step,
                restored_step,
                loss,
                cause,
            } => {
                assert!(!loss.is_finite());
                assert!(cause.contains("learning rate 10"), "{cause}");
                break (step, restored_step);
            }
            TrainEvent::Finished(_) | TrainEvent::Failed { .. } => {
                panic!("the run ended instead of rolling back")
            }
            _ => {}
        }
    };
    assert!(
        restored_step < step && restored_step % 2 == 0,
        "{restored_step} {step}"
    );
    assert!(matches!(events.recv().unwrap(), TrainEvent::Paused { .. }));
    // Paused: nothing more until told.
    assert!(events
        .recv_timeout(std::time::Duration::from_millis(300))
        .is_err());
    handle.send(TrainCommand::SetLearningRate(0.01));
    handle.send(TrainCommand::Resume);
    let mut health = 0;
    let summary = loop {
        match events.recv().expect("the run finishes") {
            TrainEvent::Finished(summary) => break summary,
            TrainEvent::Failed { message } => panic!("{message}"),
            TrainEvent::RolledBack { step, .. } => panic!("diverged again at step {step}"),
            TrainEvent::Health(report) => {
                health += 1;
                assert!(report.layers.iter().all(|l| l.weight_norm.is_finite()));
            }
            _ => {}
        }
    };
    assert!(health > 0);
    let test = summary.test.expect("a normal end evaluates");
    assert!(test.loss.is_finite(), "{}", test.loss);
}

#[test]
fn health_reports_come_at_the_interval_and_find_the_relus_a_huge_learning_rate_kills() {
    let mut config = quick_config(3_000);
    config.optimizer = OptimizerConfig::default_for("sgd").unwrap();
    config.optimizer.set_learning_rate(5.0);
    config.health_every_steps = 10;
    let prepared = job(preset("mlp").unwrap().spec, config, mnist())
        .prepare()
        .unwrap();
    let handle = TrainingHandle::spawn(prepared, None).unwrap();
    let mut reports = Vec::new();
    for event in handle.events().iter() {
        match event {
            TrainEvent::Health(report) => reports.push(report),
            TrainEvent::Finished(_) | TrainEvent::Failed { .. } => break,
            _ => {}
        }
    }
    // 3,000 samples in batches of 32: 94 steps, a report every 10.
    assert_eq!(
        reports.iter().map(|r| r.step).collect::<Vec<_>>(),
        (1..=9).map(|i| i * 10).collect::<Vec<_>>()
    );
    let first = &reports[0];
    assert_eq!(
        first.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
        [0, 2]
    );
    assert_eq!(first.dead_units.len(), 1);
    assert_eq!(first.dead_units[0].units, 128);
    let dead = reports
        .iter()
        .flat_map(|r| &r.warnings)
        .find(|w| w.kind == layerlab::train::WarningKind::DeadRelu)
        .expect("a dead-ReLU warning");
    assert!(
        dead.message.starts_with("layer 1: ") && dead.message.contains("of ReLU units never fire"),
        "{}",
        dead.message
    );

    // The same stack at the preset's learning rate stays healthy.
    let prepared = job(preset("mlp").unwrap().spec, quick_config(3_000), mnist())
        .prepare()
        .unwrap();
    let handle = TrainingHandle::spawn(prepared, None).unwrap();
    for event in handle.events().iter() {
        match event {
            TrainEvent::Health(report) => assert!(
                report.dead_units[0].fraction() < 0.5,
                "{:?}",
                report.warnings
            ),
            TrainEvent::Finished(_) | TrainEvent::Failed { .. } => break,
            _ => {}
        }
    }
}

#[test]
fn the_worker_hands_its_event_channel_over_and_a_ui_can_poll_for_it() {
    // The window polls without waiting (the channel's setup is the worker's work); the CLI
    // and tests wait for it.
    let prepared = job(preset("mlp").unwrap().spec, quick_config(64), mnist())
        .prepare()
        .unwrap();
    let handle = TrainingHandle::spawn(prepared, None).unwrap();
    let started = std::time::Instant::now();
    let events = loop {
        if let Some(events) = handle.try_events() {
            break events;
        }
        assert!(started.elapsed().as_secs() < 30, "no channel handed over");
        std::thread::yield_now();
    };
    assert!(matches!(events.recv().unwrap(), TrainEvent::Started { .. }));
    assert!(std::ptr::eq(events, handle.events()));
}

#[test]
fn a_batch_norm_model_file_holds_pytorchs_buffers_and_reads_back() {
    use layerlab::export::SavedModel;
    use layerlab::model::{InferenceModel, Model};
    let recipe = preset("cnn-bn").unwrap();
    let data = mnist();
    let plan = layerlab::spec::validate(&recipe.spec, data.input_shape(), 10).unwrap();
    let mut model = Model::initialise(recipe.spec.clone(), plan, &Default::default(), 0);
    let mut optimizer = layerlab::optim::Optimizer::new(recipe.optimizer, &model.params).unwrap();
    let batch = 8;
    let inputs: Vec<f32> = (0..batch * 784)
        .map(|i| ((i * 37) % 255) as f32 / 255.0)
        .collect();
    let targets: Vec<f32> = (0..batch * 10)
        .map(|i| if i % 10 == (i / 10) % 10 { 1.0 } else { 0.0 })
        .collect();
    for _ in 0..2 {
        let loss = layerlab::train::LossKind::CrossEntropy;
        layerlab::train::train_step(
            &mut model,
            &mut optimizer,
            inputs.clone(),
            targets.clone(),
            loss,
        )
        .unwrap();
    }
    let bytes = SavedModel::from_model(&model, &data.card)
        .to_bytes()
        .unwrap();
    // As PyTorch's state dict holds it: an int64 scalar beside float running statistics.
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let counter = file.tensor("1.num_batches_tracked").unwrap();
    assert_eq!(counter.dtype(), safetensors::Dtype::I64);
    assert!(counter.shape().is_empty());
    assert_eq!(counter.data(), 2i64.to_le_bytes());
    assert_eq!(file.tensor("5.running_var").unwrap().shape(), [64]);
    let back = SavedModel::from_bytes(&bytes, "cnn-bn.safetensors")
        .unwrap()
        .into_model(&Default::default(), "cnn-bn.safetensors")
        .unwrap();
    assert_eq!(back.running, model.running);
    assert_eq!(
        InferenceModel::new(&back).predict(&inputs, batch),
        InferenceModel::new(&model).predict(&inputs, batch)
    );
}

/// Every event of a run driven synchronously to its end, `commands` waiting before its
/// first batch.
fn run_to_end(
    job: TrainJob,
    commands: &[TrainCommand],
) -> (Vec<TrainEvent>, layerlab::train::RunSummary) {
    let (sender, receiver) = crossbeam_channel::unbounded();
    for command in commands {
        sender.send(command.clone()).unwrap();
    }
    let mut events = Vec::new();
    let summary = layerlab::train::run_training(job.prepare().unwrap(), &receiver, &mut |event| {
        events.push(event);
        true
    })
    .unwrap();
    (events, summary)
}

/// The learning rate of every batch, in order.
fn batch_rates(events: &[TrainEvent]) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Batch(b) => Some(b.learning_rate),
            _ => None,
        })
        .collect()
}

/// What a run reports, its clock readings left out: (step, epoch, loss, accuracy, lr) per
/// batch after `after`, and each epoch's losses and accuracies.
fn reported_after(events: &[TrainEvent], after: usize) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            TrainEvent::Batch(b) if b.step > after => Some(format!(
                "batch {} {} {:?} {:?} {} {}",
                b.step, b.epoch, b.loss, b.accuracy, b.learning_rate, b.samples
            )),
            TrainEvent::Epoch(e) if e.step > after => Some(format!(
                "epoch {} {} {:?} {:?} {:?} {:?}",
                e.epoch,
                e.step,
                e.train_loss,
                e.train_accuracy,
                e.validation_loss,
                e.validation_accuracy
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_run_resumed_from_any_checkpoint_ends_bit_for_bit_as_the_uninterrupted_one() {
    // Batch norm (running statistics), dropout (random masks), Adam (two moments and a step
    // count), a last batch smaller than the others, a learning-rate schedule, a rate
    // changed by hand (which then multiplies the schedule), and augmentation.
    let spec = ModelSpec::new(vec![
        Layer::Flatten,
        Layer::Linear { out_features: 24 },
        Layer::BatchNorm1d {
            eps: 1e-5,
            momentum: 0.1,
        },
        Layer::ReLU,
        Layer::Dropout { p: 0.3 },
        Layer::Linear { out_features: 10 },
    ]);
    let config = TrainConfig {
        optimizer: OptimizerConfig::default_for("adam").unwrap(),
        epochs: 3,
        train_limit: Some(300),
        validation_size: 100,
        test_limit: Some(200),
        checkpoints: layerlab::train::CheckpointPolicy {
            enabled: true,
            every_steps: 4,
        },
        // A warm-up then OneCycle: a rate and a beta1 that change every step.
        schedule: layerlab::optim::LrSchedule {
            schedule: layerlab::optim::Schedule::one_cycle(),
            warmup_steps: 5,
            warmup_start_factor: 0.1,
        },
        // Every image warped, distorted, noised and sometimes erased, off the loop's thread.
        augmentation: Some(
            layerlab::data::Augmentation::parse(
                "rotate=10,translate=0.1,scale=0.1,shear=5,elastic=20,noise=0.02,erase=0.3",
            )
            .unwrap(),
        ),
        ..quick_config(300)
    };
    let data = mnist();
    let by_hand = [TrainCommand::SetLearningRate(1e-5)];
    let (events, summary) = run_to_end(job(spec.clone(), config.clone(), data.clone()), &by_hand);
    // The rate set by hand holds for the first step, then multiplies the schedule.
    let rates = batch_rates(&events);
    assert!((rates[0] - 1e-5).abs() < 1e-15, "{rates:?}");
    assert!(rates[10] > rates[0] && rates[29] < rates[10], "{rates:?}");
    let checkpoints: Vec<Arc<layerlab::train::TrainState>> = events
        .iter()
        .filter_map(|event| match event {
            TrainEvent::Checkpoint { state, .. } => Some(state.clone()),
            _ => None,
        })
        .collect();
    // 10 steps an epoch (9 of 32 and one of 12): every 4 steps and at each epoch's end.
    let steps: Vec<usize> = checkpoints.iter().map(|c| c.position.step).collect();
    assert_eq!(steps, [4, 8, 10, 12, 16, 20, 24, 28, 30]);
    assert_eq!(checkpoints[2].position.epoch, 1);
    assert_eq!(checkpoints[2].position.samples_done, 0);
    assert_eq!(checkpoints[3].position.samples_done, 64);
    for checkpoint in &checkpoints[..checkpoints.len() - 1] {
        let at = checkpoint.position.step;
        let resumed = TrainJob {
            resume_from: Some((**checkpoint).clone()),
            ..job(spec.clone(), config.clone(), data.clone())
        };
        // The learning rate set by hand comes back with the checkpoint's optimizer state.
        let (resumed_events, resumed_summary) = run_to_end(resumed, &[]);
        assert_eq!(
            resumed_summary.weights.tensors, summary.weights.tensors,
            "resumed at step {at}"
        );
        assert_eq!(
            reported_after(&resumed_events, at),
            reported_after(&events, at),
            "resumed at step {at}"
        );
        assert_eq!(resumed_summary.test, summary.test, "resumed at step {at}");
        assert_eq!(resumed_summary.steps, 30);
        let first = resumed_events.iter().find_map(|e| match e {
            TrainEvent::Batch(b) => Some(b.step),
            _ => None,
        });
        assert_eq!(first, Some(at + 1), "no step repeated or missing");
    }
}

/// A stack and settings whose first epoch early stopping keeps: `min_delta` is so large that
/// no later epoch counts as better.
fn early_stopping_job(epochs: usize, rule: Option<layerlab::train::EarlyStopping>) -> TrainJob {
    let spec = ModelSpec::new(vec![
        Layer::Flatten,
        Layer::Linear { out_features: 16 },
        Layer::ReLU,
        Layer::Linear { out_features: 10 },
    ]);
    let config = TrainConfig {
        epochs,
        early_stopping: rule,
        checkpoints: layerlab::train::CheckpointPolicy {
            enabled: true,
            every_steps: 0,
        },
        ..quick_config(256)
    };
    job(spec, config, mnist())
}

#[test]
fn early_stopping_restores_the_best_epoch_whether_it_stopped_the_run_or_the_run_ended() {
    use layerlab::train::EarlyStopping;
    let keep_first = |patience| EarlyStopping {
        patience,
        min_delta: 10.0,
        ..EarlyStopping::default()
    };
    // What the first epoch alone gives: the weights to restore, and their test evaluation.
    let (_, one_epoch) = run_to_end(early_stopping_job(1, None), &[]);
    let (_, four_epochs) = run_to_end(early_stopping_job(4, None), &[]);
    assert_ne!(one_epoch.weights.tensors, four_epochs.weights.tensors);

    // Patience 2: stopped after the third epoch, the first one's weights back.
    let (events, stopped) = run_to_end(early_stopping_job(10, Some(keep_first(2))), &[]);
    assert_eq!(stopped.epochs_completed, 3);
    assert!(
        !stopped.stopped_early,
        "early stopping is not the person's Stop"
    );
    assert_eq!(stopped.weights.tensors, one_epoch.weights.tensors);
    assert_eq!(
        stopped.test, one_epoch.test,
        "the test sees the restored weights"
    );
    let first_val_loss = events
        .iter()
        .find_map(|e| match e {
            TrainEvent::Epoch(m) => m.validation_loss,
            _ => None,
        })
        .unwrap();
    assert_eq!(
        stopped.early_stopping.as_deref(),
        Some(
            format!(
                "restored epoch 1 (best val_loss {first_val_loss:.4}); stopped after epoch 3: \
                 no improvement for 2 epochs"
            )
            .as_str()
        )
    );
    assert_eq!(
        (stopped.restored_epoch, stopped.stopped_after_epoch),
        (Some(0), Some(2))
    );
    // The window's history marks both, and every checkpoint (one per epoch here).
    let mut history = layerlab::train::MetricsHistory::default();
    for event in &events {
        history.record(event);
    }
    history.record(&TrainEvent::Finished(Box::new(stopped.clone())));
    assert_eq!(
        (history.restored_epoch, history.stopped_after_epoch),
        (Some(0), Some(2))
    );
    let epoch_ends: Vec<usize> = history.epochs.iter().map(|e| e.step).collect();
    assert_eq!(history.checkpoints, epoch_ends);

    // Patience 100: the run reaches its 4 epochs and still gets the first one's weights
    // (Keras would keep the last: keras #12511).
    let (_, ended) = run_to_end(early_stopping_job(4, Some(keep_first(100))), &[]);
    assert_eq!(ended.epochs_completed, 4);
    assert_eq!(ended.weights.tensors, one_epoch.weights.tensors);
    assert!(ended
        .early_stopping
        .as_deref()
        .unwrap()
        .ends_with("ran every epoch"));
    assert_eq!(
        (ended.restored_epoch, ended.stopped_after_epoch),
        (Some(0), None)
    );

    // Without restoring, the last epoch's weights stay.
    let last = EarlyStopping {
        restore_best: false,
        ..keep_first(100)
    };
    let (_, kept_last) = run_to_end(early_stopping_job(4, Some(last)), &[]);
    assert_eq!(kept_last.weights.tensors, four_epochs.weights.tensors);
    assert_eq!(kept_last.restored_epoch, None);
}

#[test]
fn early_stopping_and_a_plateau_schedule_need_a_validation_split() {
    let mut no_validation = early_stopping_job(2, Some(Default::default()));
    no_validation.config.validation_size = 0;
    let error = no_validation.prepare().err().unwrap().to_string();
    assert!(
        error.contains("val_loss needs a validation split"),
        "{error}"
    );
    let mut plateau = early_stopping_job(2, None);
    plateau.config.validation_size = 0;
    plateau.config.schedule.schedule = layerlab::optim::Schedule::Plateau(Default::default());
    let error = plateau.prepare().err().unwrap().to_string();
    assert!(error.contains("ReduceLROnPlateau"), "{error}");
}

#[test]
fn a_run_with_a_plateau_schedule_and_early_stopping_resumes_exactly_from_a_checkpoint_file() {
    use layerlab::optim::{Plateau, Schedule};
    use layerlab::train::EarlyStopping;
    let job_for = || {
        let mut job = early_stopping_job(
            6,
            Some(EarlyStopping {
                patience: 100,
                ..EarlyStopping::default()
            }),
        );
        // SGD with a rate high enough that validation loss wobbles: the plateau lowers it.
        job.config.optimizer = OptimizerConfig::Sgd {
            lr: 0.5,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        job.config.schedule.schedule = Schedule::Plateau(Plateau {
            patience: 0,
            factor: 0.5,
            ..Plateau::default()
        });
        job.config.checkpoints = layerlab::train::CheckpointPolicy {
            enabled: true,
            every_steps: 3,
        };
        job
    };
    let (events, summary) = run_to_end(job_for(), &[]);
    let rates = batch_rates(&events);
    assert!(
        rates.last().unwrap() < &0.5,
        "the plateau lowered the rate: {rates:?}"
    );
    let checkpoints: Vec<Arc<layerlab::train::TrainState>> = events
        .iter()
        .filter_map(|event| match event {
            TrainEvent::Checkpoint { state, .. } => Some(state.clone()),
            _ => None,
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for checkpoint in &checkpoints[1..checkpoints.len() - 1] {
        let at = checkpoint.position.step;
        // Through the file the store keeps: the plateau's state, early stopping's count and
        // its best weights so far must all come back.
        let path = dir.path().join(format!("{at}.safetensors"));
        layerlab::store::write_checkpoint(&path, checkpoint).unwrap();
        let read = layerlab::store::read_checkpoint(&path).unwrap();
        assert_eq!(&read, &**checkpoint, "step {at}");
        let resumed = TrainJob {
            resume_from: Some(read),
            ..job_for()
        };
        let (resumed_events, resumed_summary) = run_to_end(resumed, &[]);
        assert_eq!(
            reported_after(&resumed_events, at),
            reported_after(&events, at),
            "resumed at step {at}"
        );
        assert_eq!(resumed_summary.weights.tensors, summary.weights.tensors);
        assert_eq!(resumed_summary.early_stopping, summary.early_stopping);
    }
}

#[test]
fn the_lr_finder_sweeps_exponentially_stops_on_a_blow_up_and_puts_the_weights_back() {
    use layerlab::train::{lr_find, LrFindSettings};
    let mut prepared = early_stopping_job(1, None).prepare().unwrap();
    let before = prepared.model.weights();
    let settings = LrFindSettings {
        steps: 60,
        end_lr: 1e4,
        ..LrFindSettings::default()
    };
    let result = lr_find(&mut prepared, settings).unwrap();
    assert_eq!(prepared.model.weights(), before, "weights restored");
    // 256 samples in batches of 32: the sweep goes on into a second pass over them.
    assert!(result.points.len() > 8);
    let first = result.points[0];
    assert_eq!(first.lr, 1e-7);
    assert_eq!(first.smoothed, f64::from(first.loss), "bias-corrected");
    let ratio = result.points[1].lr / first.lr;
    assert!((ratio - (1e11f64).powf(1.0 / 60.0)).abs() < 1e-9);
    // A rate of 1e4 blows SGD up long before the end: stopped at 4x the best.
    assert!(
        result.diverged && result.points.len() < 60,
        "{}",
        result.points.len()
    );
    let best = result
        .points
        .iter()
        .map(|p| p.smoothed)
        .fold(f64::INFINITY, f64::min);
    let last = result.points.last().unwrap().smoothed;
    assert!(!last.is_finite() || last > 4.0 * best);
    assert!(result.valley.is_some());
    // The job still trains afterwards, from the weights it had.
    let (_sender, receiver) = crossbeam_channel::unbounded::<TrainCommand>();
    let summary = layerlab::train::run_training(prepared, &receiver, &mut |_| true).unwrap();
    let (_, fresh) = run_to_end(early_stopping_job(1, None), &[]);
    assert_eq!(summary.weights.tensors, fresh.weights.tensors);
}

#[test]
fn a_cancelled_lr_sweep_says_so_and_puts_the_weights_back() {
    use layerlab::train::{lr_find_observed, LrFindSettings, TrainError};
    let mut prepared = early_stopping_job(1, None).prepare().unwrap();
    let before = prepared.model.weights();
    let mut seen = 0;
    let result = lr_find_observed(&mut prepared, LrFindSettings::default(), &mut |point| {
        seen += 1;
        assert!(point.lr > 0.0);
        seen < 5
    });
    assert!(matches!(result, Err(TrainError::Cancelled)), "{result:?}");
    assert_eq!(seen, 5);
    assert_eq!(prepared.model.weights(), before, "weights restored");
}

#[test]
fn augmentation_changes_training_only_and_the_same_seed_gives_the_same_run() {
    use layerlab::data::Augmentation;
    let augmented = |seed: u64| {
        let mut job = early_stopping_job(2, None);
        job.config.seed = seed;
        job.config.augmentation =
            Some(Augmentation::parse("rotate=15,translate=0.1,erase=0.5").unwrap());
        job
    };
    let (_, plain) = run_to_end(early_stopping_job(2, None), &[]);
    let (events, first) = run_to_end(augmented(0), &[]);
    let (again_events, again) = run_to_end(augmented(0), &[]);
    assert_eq!(first.weights.tensors, again.weights.tensors);
    assert_eq!(reported_after(&events, 0), reported_after(&again_events, 0));
    assert_ne!(
        first.weights.tensors, plain.weights.tensors,
        "it did augment"
    );
    // The test (and validation) see the images as they are: evaluating the trained weights
    // on the untouched test split gives the summary's numbers.
    let data = mnist();
    let job = augmented(0);
    let model = layerlab::model::Model::from_weights(
        job.spec.clone(),
        layerlab::spec::validate(&job.spec, data.input_shape(), data.outputs()).unwrap(),
        &first.weights,
        &dfdx::prelude::Cpu::default(),
    )
    .unwrap();
    let indices: Vec<u32> = (0..500).collect();
    let test = layerlab::train::evaluate(&model, &data.card, &data.test, &indices, job.config.loss);
    assert_eq!(Some(test.loss), first.test.as_ref().map(|t| t.loss));
    // A table is no picture: refused with the reason.
    let mut table = augmented(0);
    table.dataset = Arc::new(layerlab::data::load_builtin("iris", &Default::default()).unwrap());
    table.config.validation_size = 10;
    let error = table.prepare().err().unwrap().to_string();
    assert!(
        error.contains("augmentation changes pictures only"),
        "{error}"
    );
}
