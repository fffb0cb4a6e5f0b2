//! The training engine as a library: the worker's commands and events, reproducibility, and
//! the failures a user can cause (bad settings, a stack that does not fit, a diverging run).

use std::sync::Arc;

use layerlab::data::{default_mnist_dir, Dataset};
use layerlab::model::Weights;
use layerlab::optim::OptimizerConfig;
use layerlab::spec::{preset, Layer, ModelSpec};
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
    assert_eq!(&data.train.labels[..8], &[5, 0, 4, 1, 9, 2, 1, 3]);
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
    assert_eq!(summary.test_predictions.len(), 500);
    assert!(summary.weights.parameter_count() == 101_770);
}

fn final_summary(handle: &TrainingHandle) -> (Vec<f32>, layerlab::train::RunSummary) {
    let mut losses = Vec::new();
    for event in handle.events().iter() {
        match event {
            TrainEvent::Batch(batch) => losses.push(batch.loss),
            TrainEvent::Finished(summary) => return (losses, summary),
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
    assert!(summary_a.test_accuracy > 0.5, "{}", summary_a.test_accuracy);
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
fn a_panic_on_the_worker_becomes_a_failed_event() {
    // The window's waker runs on the worker after each event; one that panics (once) is a
    // panic in the middle of a run, which must come back as a failure, not a dead thread.
    let panicked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&panicked);
    let waker: layerlab::train::Waker = Box::new(move || {
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
    let images = |count: usize| layerlab::data::ImageSet {
        height: 28,
        width: 28,
        pixels: vec![0; count * 784],
        labels: (0..count).map(|i| if i == 5 { 12 } else { 3 }).collect(),
    };
    let data = Arc::new(Dataset {
        name: "hand-made".into(),
        classes: 10,
        train: images(200),
        test: images(50),
    });
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
